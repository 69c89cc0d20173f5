/* leaderless — what the lab needs from the leaderless mode besides struct mode: the ring,
 * so that `wait converged` / `check converged` compare each key only across its replicas
 * (a node holds only the keys whose preference list names it).
 * The ring is the one every node builds: nodes n1..nK, `vnodes` tokens each (option vnodes,
 * default 8), tokens from a hash of "nK#v". */
#ifndef CONLAB_LEADERLESS_H
#define CONLAB_LEADERLESS_H

#include "util.h"

struct ll_ring;

/* A ring of `nodes` nodes with `vnodes` tokens each, or NULL when out of range (1..16 nodes,
 * 1..256 vnodes). Free with leaderless_ring_destroy(). */
struct ll_ring *leaderless_ring_new(int nodes, int vnodes);
/* Writes key's preference list into out (node indexes, n1 = 0): every node once, the first
 * n (the mode's option) are its replicas, the rest its sloppy-quorum stand-ins in order.
 * Returns the number of nodes written. */
int leaderless_ring_replicas(const struct ll_ring *r, const char *key, int out[CL_MAXN]);
void leaderless_ring_destroy(struct ll_ring **r);

#endif
