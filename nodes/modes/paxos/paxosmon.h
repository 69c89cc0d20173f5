/* paxosmon — the live Paxos invariant monitor. Pure: fed the events of a run (docs/protocol.md
 * §3) one at a time, in the order the lab received them, it checks after each event:
 *
 *   Promise Kept     an acceptor never accepts a ballot below a ballot it promised, before or
 *                    after a restart (PMS P1a; promises are durable)         (`promise`, `accepted`)
 *   Agreement        at most one value is chosen per slot: counted from the acceptors' own
 *                    `accepted` events (a majority of one ballot and value), and from the
 *                    proposers' `chosen` and learners' `learn` events        (PMS P2)
 *   Learned Chosen   a learner learns only the value chosen for that slot     (`learn`)
 *   In-Order Apply   a node applies slots in order without gaps, and every node applies the
 *                    same command at a slot                                   (`apply`)
 *
 * Events it does not use are ignored; malformed ones are skipped. A restart (a `fault` event,
 * or a new `inc`) resets what the monitor knows of the node's applied prefix, never its promise.
 */
#ifndef CONLAB_PAXOSMON_H
#define CONLAB_PAXOSMON_H

#include <jansson.h>

#include "mode.h"
#include "util.h"

struct paxosmon;

struct paxosmon *paxosmon_new(void);
void paxosmon_destroy(struct paxosmon **m);
/* Feeds one event (borrowed). Returns 1 and appends one line to alert when this event proves
 * a violation: "<Invariant>: <what happened> (events n1#41, n3#57)"; else 0. */
int paxosmon_feed(struct paxosmon *m, const json_t *ev, struct sb *alert);
int paxosmon_violations(const struct paxosmon *m);
/* The newest violation as an `invariant` event, or NULL; borrowed until the next feed. */
const json_t *paxosmon_last(const struct paxosmon *m);

extern const struct mode_monitor paxosmon_monitor;

#endif
