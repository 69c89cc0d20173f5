/* gossip — the gossip mode's monitor (gossipmon.c), shared with its face and its tests. */
#ifndef CONLAB_GOSSIP_H
#define CONLAB_GOSSIP_H

#include "mode.h"

/* The live monitor: Integrity (a rumor's text is its origin's everywhere) and Stability (a
 * node learns each rumor at most once per life), plus what `wait rumor` needs: who holds
 * each rumor, in which round each learned it, who still spreads it, who is up. */
extern const struct mode_monitor gossipmon_ops;

/* `wait rumor TEXT`: mode_wait.holds over a gossipmon state. */
int gossipmon_wait_rumor(void *mon, int argc, char **argv, struct sb *says);

/* Of the rumor whose text is text: how many live nodes hold it, how many nodes are live, the
 * largest round any holder learned it in, and how many holders still push it. Returns 0, or
 * CL_ENOENT when no node holds such a rumor. */
int gossipmon_spread(void *mon, const char *text, int *holders, int *live, uint64_t *max_round, int *hot);

#endif
