/* raft — read-only introspection of a raft node's state, for tests and the simulator's
 * invariant checks (the mode itself is `mode_raft`, run through struct mode). */
#ifndef CONLAB_RAFT_H
#define CONLAB_RAFT_H

#include <stdint.h>

struct raft_view {
    int role;                   /* 0 follower, 1 precandidate, 2 candidate, 3 leader */
    int leader;                 /* node index or -1 */
    int voted;                  /* node index or -1 */
    uint64_t term, commit, applied, last_index, snap_index;
    uint32_t members;           /* bit i = node index i votes */
};
enum { RAFT_FOLLOWER, RAFT_PRECANDIDATE, RAFT_CANDIDATE, RAFT_LEADER };

/* Fills v from a raft state (sim_state() of a raft cluster). */
void raft_view(const void *st, struct raft_view *v);
/* Term of the entry at index i (0 when unknown: compacted or past the end). */
uint64_t raft_term_at(const void *st, uint64_t i);
/* Command text of the entry at index i ("put x 1"), or NULL. Caller frees. */
char *raft_cmd_at(const void *st, uint64_t i);

#endif
