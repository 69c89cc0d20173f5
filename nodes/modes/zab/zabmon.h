/* zabmon — the live ZAB invariant monitor (the properties of Junqueira, Reed and Serafini,
 * DSN 2011, §3). Pure: fed the events of a run one at a time, it checks after each event:
 *
 *   Agreement        every node delivers the same proposal (zxid and command) at an index
 *                    (total order and agreement; with the order below, primary integrity)
 *   Primary Order    a node delivers zxids in increasing order (local and global primary order)
 *   Integrity        a delivered proposal is one a leader broadcast with that zxid (`propose`)
 *   Commit Quorum    a leader commits only what a quorum acknowledged (`commit` acks)
 *   Epoch Fencing    a follower never logs a proposal of an epoch older than it accepted (`logged`)
 *   Committed Kept   a node never truncates below what it committed (`truncate`)
 *
 * Events it does not use are ignored; malformed ones are skipped. A restart (a `fault` event,
 * or a new `inc`) resets what the monitor knows of the node's volatile state.
 */
#ifndef CONLAB_ZABMON_H
#define CONLAB_ZABMON_H

#include <jansson.h>

#include "mode.h"
#include "util.h"

struct zabmon;

struct zabmon *zabmon_new(void);
void zabmon_destroy(struct zabmon **m);
/* Feeds one event (borrowed). Returns 1 and appends one line to alert when this event proves
 * a violation: "<Invariant>: <what happened> (events n1#41, n3#57)"; else 0. */
int zabmon_feed(struct zabmon *m, const json_t *ev, struct sb *alert);
int zabmon_violations(const struct zabmon *m);
/* The newest violation as an `invariant` event, or NULL; borrowed until the next feed. */
const json_t *zabmon_last(const struct zabmon *m);

extern const struct mode_monitor zabmon_monitor;

#endif
