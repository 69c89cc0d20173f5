/* vitem — the versions of one key, as a replicated store keeps them, and how two copies merge.
 *
 * A version is a value (NULL: a tombstone, what a delete writes) with the coordinator's
 * timestamp, the coordinating node, and, with dotted version vectors, a dot (node, counter)
 * naming the write and the causal context (a version vector) its writer had seen.
 *
 * Merging (one rule per conflict mode, both commutative, associative and idempotent, so that
 * replicas which received the same versions hold the same item in any order):
 *   VMERGE_LWW  one version survives: the greatest (timestamp, node, value);
 *   VMERGE_DVV  a version is dropped when another's dot is the same or its context covers the
 *               dot; the rest stay side by side as siblings, sorted (node, dot, timestamp).
 *               Like Riak's DVVSet this assumes contexts are contiguous per node: a context
 *               covering (k, c) was read from copies holding every dot of k up to c, or
 *               versions superseding them. Where that fails (a reader saw (k, 2) but not a
 *               concurrent (k, 1)), the write it makes would drop (k, 1) unseen.
 *
 * The content hash names an item's exact versions (0 for an item with none), so replicas,
 * Merkle trees and hints compare items by one number. An item also carries a few fields a
 * store keeps per key: the replicas that hold it, the peers that acknowledged it, when it last
 * changed, and the vtable chain link.
 *
 * Users: leaderless (data and hints); multi-leader and CRDT registers. Ownership: vitem_new()
 * and vitem_dup() return items the caller frees with vitem_free(); versions own their value.
 */
#ifndef CONLAB_VITEM_H
#define CONLAB_VITEM_H

#include <jansson.h>
#include <stdint.h>

#include "util.h"
#include "vv.h"

enum vmerge { VMERGE_LWW, VMERGE_DVV };

struct version {
    char *value;             /* the client's value as its value text (jtext.h: any JSON;
                                a plain word as itself); NULL = tombstone */
    uint64_t ts;             /* coordinator clock at write time: LWW order and tombstone age */
    int node;                /* LWW: writer (tie-break); DVV: the dot's node */
    uint64_t dot;            /* DVV: the dot's counter (0 with LWW) */
    struct vv ctx;           /* DVV: causal context the writer had seen */
};

struct vitem {
    char *key;
    uint64_t khash;          /* hash_str(key) */
    int nv;
    struct version *v;       /* canonical order */
    uint64_t h;              /* content hash; 0 when nv == 0 */
    uint32_t owners;         /* bookkeeping: nodes that hold the key */
    uint32_t acks;           /* bookkeeping: peers seen holding this content */
    uint64_t changed;        /* bookkeeping: time of the last change */
    struct vitem *next;      /* vtable's chain */
};

void version_free(struct version *v);
void version_copy(struct version *dst, const struct version *src);
/* LWW order: timestamp, then node, then value (a tombstone below any value). */
int version_lww_cmp(const struct version *a, const struct version *b);
/* DVV: does a know of b (the same dot, or b's dot within a's context)? */
int version_covers(const struct version *a, const struct version *b);
/* Appends "1712@n2" (LWW) or "n2.7" (DVV); names as in vv_text. */
void version_text(const struct version *v, enum vmerge m, const char (*names)[CL_IDLEN],
                  struct sb *out);

struct vitem *vitem_new(const char *key, uint64_t khash);
void vitem_free(struct vitem *it);
/* A copy of versions, hash and owners (not the chain link). */
struct vitem *vitem_dup(const struct vitem *it);
/* Merges one version in (copying it). Returns 1 when the item changed; the caller rehashes
 * (vitem_merge does). */
int vitem_merge_version(enum vmerge m, struct vitem *it, const struct version *in);
/* Merges every version of src into dst and rehashes. Returns 1 when dst changed. */
int vitem_merge(enum vmerge m, struct vitem *dst, const struct vitem *src);
/* Recomputes the content hash. */
void vitem_rehash(struct vitem *it);
/* 1 when the item has versions and all are tombstones. */
int vitem_is_tomb(const struct vitem *it);
/* The newest version timestamp (0 when none). */
uint64_t vitem_newest_ts(const struct vitem *it);
/* The causal context of the whole item: every version's context and dot (what a read
 * returns, so that a write carrying it supersedes every version read). */
void vitem_context(const struct vitem *it, struct vv *out);
/* The live (non-tombstone) values in canonical order, decoded (jtext.h: 42 the number, "42"
 * the string): a new JSON array. */
json_t *vitem_values(const struct vitem *it);
/* Appends every version's text, space-separated. */
void vitem_versions_text(const struct vitem *it, enum vmerge m, const char (*names)[CL_IDLEN],
                         struct sb *out);

/* Wire and disk form (values as their text: {"v":"42"} is the number, {"v":"\u0002\"42\""}
 * the string "42"): {"key":k,"vers":[{"v":value|null,"t":ts,"n":node, DVV: "d":dot,
 * "c":[context]}]}; n_nodes counters of context. A new object. */
json_t *vitem_to_json(const struct vitem *it, enum vmerge m, int n_nodes);
/* Parses that form, refusing (NULL, why filled) a malformed item or more than max_versions
 * versions. The result is merged canonically and hashed; caller frees. */
struct vitem *vitem_from_json(const json_t *j, enum vmerge m, int max_versions, char *why,
                              size_t whylen);

#endif
