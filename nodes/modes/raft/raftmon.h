/* raftmon — the live Raft invariant monitor (issue 4). Pure: it is fed the events of a run
 * (docs/protocol.md §3, as JSON objects, in the order the lab received them) one at a time,
 * rebuilds each node's log from `append`/`truncate`/`snapshot`, and checks after each event:
 *
 *   Election Safety       at most one leader per term                (`state` role=leader)
 *   Leader Append-Only    a leader never truncates its own log       (`truncate` on a leader)
 *   Log Matching          one (index, term) = one command with one predecessor term (`append`)
 *   Leader Completeness   a leader of term T holds every entry committed in a term < T,
 *                         and a committed entry is never truncated   (`state`, `commit`, `truncate`)
 *   State Machine Safety  no two nodes commit or apply different commands at one index
 *                                                                    (`commit`, `apply`)
 *
 * Events it does not use are ignored; malformed ones are skipped. A node's `fault` event with
 * what=restart (or a new `inc`) resets what the monitor knows of its volatile state.
 */
#ifndef CONLAB_RAFTMON_H
#define CONLAB_RAFTMON_H

#include <jansson.h>

#include "mode.h"
#include "util.h"

struct raftmon;

struct raftmon *raftmon_new(void);
void raftmon_destroy(struct raftmon **m);
/* Feeds one event (borrowed). Returns 1 and appends one line to alert when this event proves
 * a violation: "<Invariant>: <what happened> (events n1#41, n3#57)", naming the node and
 * seq of each event involved; else 0. */
int raftmon_feed(struct raftmon *m, const json_t *ev, struct sb *alert);
/* Violations found so far. */
int raftmon_violations(const struct raftmon *m);
/* The newest violation as the `invariant` event of docs/protocol.md §3:
 * {"ev":"invariant","name":"Election Safety","text":"…","events":[41,57],"nodes":["n1","n3"]}
 * (events[i] is the seq of an event of nodes[i]). NULL before any violation; borrowed until the
 * next raftmon_feed() or raftmon_destroy(). */
const json_t *raftmon_last(const struct raftmon *m);

/* The same monitor as the mode's face (mode_raft.monitor). */
extern const struct mode_monitor raftmon_monitor;

#endif
