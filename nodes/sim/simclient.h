/* simclient — a small closed-loop client driver over the simulator, for tests of any mode
 * that speaks the lin-kv client bodies (docs/protocol.md §1).
 *
 * Each process p (client id "c<p>") has at most one operation outstanding. An operation is
 * sent to a chosen node; an error 11 naming a leader is followed (a new attempt, new msg_id),
 * an error 11 without one is retried at another allowed node after a short back-off, and an
 * operation still unanswered after the timeout ends as `info` (indeterminate). Every invoke
 * and completion is recorded as a history in the JSONL format of docs/protocol.md §4, so the
 * linearizability checker can judge it.
 *
 * The simulator has no client timers: call simclient_tick() between simulator steps (for
 * example after every sim_run_for of a millisecond) to fire retries and timeouts.
 * Ownership: simclient_new() installs itself as the simulator's reply callback; the sim must
 * outlive the client. Strings handed out are borrowed until the next call.
 */
#ifndef CONLAB_SIMCLIENT_H
#define CONLAB_SIMCLIENT_H

#include <jansson.h>
#include <stdint.h>

#include "sim.h"

#define SIMCLIENT_MAXP 64

enum simop_outcome { SIMOP_NONE, SIMOP_PENDING, SIMOP_OK, SIMOP_FAIL, SIMOP_INFO };

struct simclient;

struct simclient *simclient_new(struct sim *s);
void simclient_destroy(struct simclient **c);

/* Operation timeout (default 2 s of virtual time) and retry back-off (default 20 ms). */
void simclient_set_timeout(struct simclient *c, uint64_t us);
void simclient_set_backoff(struct simclient *c, uint64_t us);
/* Nodes process p may talk to (bit i = node index i); default all. A redirect to a node
 * outside the mask is not followed: the process retries inside its mask instead. */
void simclient_set_allowed(struct simclient *c, int p, uint32_t mask);

/* Starts an operation: f is "read", "write" or "cas"; value is the written value or cas
 * `from`, to is cas `to` (NULL otherwise). Returns CL_ESTATE when p is busy or out of range. */
int simclient_invoke(struct simclient *c, int p, int node, const char *f, const char *key,
                     const char *value, const char *to);
/* Fires due retries and timeouts. */
void simclient_tick(struct simclient *c);
int simclient_busy(const struct simclient *c, int p);
/* Outcome of p's latest operation, and for a read ok the value read (NULL = absent). */
enum simop_outcome simclient_outcome(const struct simclient *c, int p);
const char *simclient_value(const struct simclient *c, int p);
/* Counts of completed operations by outcome. */
void simclient_counts(const struct simclient *c, int *ok, int *fail, int *info);

/* The history so far: a JSON array of history records (borrowed). */
const json_t *simclient_history(const struct simclient *c);
/* Appends the history as JSONL to out. */
void simclient_history_jsonl(const struct simclient *c, struct sb *out);

#endif
