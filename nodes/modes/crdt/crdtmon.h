/* crdtmon — the crdt mode's live invariant monitor. Pure: fed the events of a run one at a
 * time (in the order the lab received them), it keeps each node's newest `digest` of each key
 * — the key's causal context (the updates its state includes) and the hash of its value — and
 * checks after each one:
 *
 *   Convergence   two replicas whose states of a key include the same updates (equal
 *                 contexts) hold the same value (merge is a join: order, duplication and
 *                 staleness of what they merged cannot matter)
 *
 * A digest is a fact about one moment, true for ever after, so the monitor compares a new
 * digest with every other node's newest one of that key, whatever their times. A key's
 * divergence is reported once (the first proof), not at every later digest. Events it does
 * not use are ignored; malformed ones are skipped.
 *
 * It also marks the moment of convergence: a key *diverges* when two replicas hold concurrent
 * states of it (each context has updates the other lacks: a partition, concurrent writers), and
 * *converges* at the first digest after which every replica (every node of the `cluster` event)
 * holds the same context and value of it. That digest's feed leaves a note (crdtmon_note), which the lab turns
 * into a `converged` event the dashboard marks: {key, replicas, ctx, after_ms, value}. It also keeps every `update` and counter
 * `query` event, which `check crdt` judges (crdtcheck.c).
 */
#ifndef CONLAB_CRDTMON_H
#define CONLAB_CRDTMON_H

#include <jansson.h>

#include "mode.h"
#include "util.h"

struct crdtmon;

struct crdtmon *crdtmon_new(void);
void crdtmon_destroy(struct crdtmon **m);
/* Feeds one event (borrowed). Returns 1 and appends one line to alert when this event proves
 * a violation ("Convergence: … (events n1#41, n3#57)"); else 0. */
int crdtmon_feed(struct crdtmon *m, const json_t *ev, struct sb *alert);
int crdtmon_violations(const struct crdtmon *m);
/* The newest violation as an `invariant` event, or NULL; borrowed until the next feed. */
const json_t *crdtmon_last(const struct crdtmon *m);
/* The `converged` fact the last feed found ({"ev":"converged","key",…}), or NULL; borrowed
 * until the next feed. */
const json_t *crdtmon_note(const struct crdtmon *m);

/* What `check crdt` (crdtcheck.c) judges: key → every acknowledged update (its `update` event,
 * node and seq included), and key → every counter read (its `query` event). Borrowed. */
const json_t *crdtmon_updates(const struct crdtmon *m);
const json_t *crdtmon_reads(const struct crdtmon *m);
/* `check crdt`: see crdtcheck.c. mon is this monitor; status[i] node i's status or NULL when it
 * is down. Returns 0 holds, 1 violated, 2 cannot judge yet; appends the report to out. */
int crdtcheck_run(const void *mon, const json_t *const *status, int n, struct sb *out);

/* The same monitor as the mode's face (mode_crdt.monitor). */
extern const struct mode_monitor crdt_monitor;

#endif
