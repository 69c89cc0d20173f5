/* ring — a consistent-hash ring with virtual nodes (Dynamo §4.2, Karger et al. 1997): each
 * node owns `vnodes` tokens, a key belongs to the tokens clockwise from its hash, and the
 * distinct nodes met walking clockwise form its preference list. The first N are the key's
 * replicas; the rest, in order, are the stand-ins a sloppy quorum uses.
 *
 * Tokens come from hash_str("nK#v"): every node and the lab build the same ring from the
 * same (nodes, vnodes) without talking. Adding a node moves only the keys whose new first
 * replica is that node (a property the tests check).
 *
 * Users: leaderless (replica placement, hints, anti-entropy); later gossip and CRDT modes.
 * Ownership: ring_new() returns a ring the caller frees with ring_destroy(&r).
 */
#ifndef CONLAB_RING_H
#define CONLAB_RING_H

#include <stdint.h>

#include "util.h"

#define RING_MAX_VNODES 256

struct ring;

/* A ring of nodes n1..n<nodes> (indexes 0..nodes-1) with vnodes tokens each, or NULL when out
 * of range (1..CL_MAXN nodes, 1..RING_MAX_VNODES vnodes). */
struct ring *ring_new(int nodes, int vnodes);
/* A ring over some of nodes n1..n<nodes>: only those with member[k] set hold tokens (the
 * others are in no preference list; indexes stay 0..nodes-1), or NULL when out of range or
 * when no node is a member. A node's tokens do not depend on who else is a member. */
struct ring *ring_new_of(int nodes, const int *member, int vnodes);
void ring_destroy(struct ring **r);
int ring_nodes(const struct ring *r);
/* How many nodes hold tokens (ring_nodes() unless made by ring_new_of). */
int ring_members(const struct ring *r);
int ring_vnodes(const struct ring *r);

/* The preference list of a key hash: every node once, clockwise from the hash. Returns the
 * number written (ring_nodes()). */
int ring_walk(const struct ring *r, uint64_t khash, int out[CL_MAXN]);
/* The same for a key (hashed with hash_str). */
int ring_replicas(const struct ring *r, const char *key, int out[CL_MAXN]);
/* The first n nodes of the key hash's preference list, as a bitmask (bit i = node index i). */
uint32_t ring_owners(const struct ring *r, uint64_t khash, int n);

/* share[k]: the fraction of the hash space for which node k is the first replica (the
 * fractions sum to 1). */
void ring_shares(const struct ring *r, double share[CL_MAXN]);
/* Node k's tokens in ring order into out (at most max); returns how many it has. */
int ring_tokens(const struct ring *r, int node, uint64_t *out, int max);

#endif
