/* vv — version vectors and dots (Parker et al. 1983; dotted version vectors: Preguiça,
 * Baquero et al. 2012). A version vector holds one counter per node (indexes as in the env's
 * node list); a dot (node, counter) names one event, such as one write coordinated by node.
 *
 * Order: a dominates b when every counter of a is at least b's. Two vectors are equal, one
 * before the other, or concurrent (neither dominates): a partial order, and merge (pointwise
 * maximum) is their least upper bound. A vector covers a dot when its counter for the dot's
 * node reaches the dot's counter.
 *
 * Text form (what a client sees and sends back): "n1:3,n2:1" (zero counters left out, node
 * names from the caller's list). JSON form: an array of counters, one per node.
 *
 * Users: leaderless (a version's causal context); multi-leader, causal and CRDT modes.
 * Plain values: no allocation, copy with `=`.
 */
#ifndef CONLAB_VV_H
#define CONLAB_VV_H

#include <jansson.h>
#include <stdint.h>

#include "util.h"

struct vv {
    uint64_t c[CL_MAXN];
};

enum vv_order { VV_EQUAL, VV_BEFORE, VV_AFTER, VV_CONCURRENT };

/* How a relates to b: VV_BEFORE when b dominates a and they differ, VV_AFTER the reverse. */
enum vv_order vv_compare(const struct vv *a, const struct vv *b);
/* 1 when every counter of a is >= b's. */
int vv_dominates(const struct vv *a, const struct vv *b);
/* 1 when neither dominates the other. */
int vv_concurrent(const struct vv *a, const struct vv *b);
/* dst = pointwise max(dst, src). */
void vv_merge(struct vv *dst, const struct vv *src);
/* 1 when v covers the dot (node, counter): counter <= v[node]. A dot with counter 0 names no
 * event and is always covered. */
int vv_covers(const struct vv *v, int node, uint64_t counter);
/* Raises v[node] to counter (a no-op when it is already there). */
void vv_add_dot(struct vv *v, int node, uint64_t counter);
/* 1 when every counter is 0. */
int vv_is_zero(const struct vv *v);

/* Appends "n1:3,n2:1" for the first n counters; names[i] names node i (NULL: "n<i+1>"). */
void vv_text(const struct vv *v, int n, const char (*names)[CL_IDLEN], struct sb *out);
/* Parses the text form (the empty string is the zero vector). Node names are looked up in
 * names[0..n-1] (NULL: "n1".."n<n>"). Returns 0, or CL_EINVAL with err naming the bad part. */
int vv_parse(const char *s, int n, const char (*names)[CL_IDLEN], struct vv *out, char *err,
             size_t errlen);
/* A new JSON array of the first n counters. */
json_t *vv_to_json(const struct vv *v, int n);
/* Parses an array of at most CL_MAXN non-negative integers (missing entries are 0). Returns 0,
 * or CL_EINVAL with err naming the bad entry. */
int vv_from_json(const json_t *j, struct vv *out, char *err, size_t errlen);

#endif
