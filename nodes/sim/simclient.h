/* simclient — closed-loop simulated clients over the simulator, for tests of any mode that
 * speaks the lin-kv client bodies (docs/protocol.md §1): the one client driver of the test side.
 *
 * Each process p (client id "c<p>", any p >= 0: processes are created on first use) has at
 * most one operation outstanding. An operation is sent to a chosen node and its reply read the
 * way every client reads one (kvreply.h): ok, a definite failure, indeterminate (info), or a
 * refusal with error 11. What happens on a refusal is the process's policy:
 *   follow (default)  an error 11 naming a leader is followed (a new attempt, new msg_id); one
 *                     naming none is retried at another allowed node after a short back-off;
 *   direct            the refusal is the outcome: a definite failure. A node that is down when
 *                     the request is sent fails it at once (error 13, nothing was sent).
 * An operation still unanswered at its deadline ends as info (indeterminate, "timeout").
 *
 * Every invoke and completion becomes a history record in the JSONL format of
 * docs/protocol.md §4, handed to the record callback (a recorder, in the test fixture), so the
 * linearizability checker can judge the run.
 *
 * The simulator has no client timers: call simclient_tick() between simulator steps (for
 * example after every sim_run_for of a millisecond) to fire retries and deadlines.
 * Ownership: simclient_new() installs itself as the simulator's reply callback; the sim must
 * outlive the client. Strings and replies handed out are borrowed until the process's next
 * operation.
 */
#ifndef CONLAB_SIMCLIENT_H
#define CONLAB_SIMCLIENT_H

#include <jansson.h>
#include <stdint.h>

#include "sim.h"

enum simop_outcome { SIMOP_NONE, SIMOP_PENDING, SIMOP_OK, SIMOP_FAIL, SIMOP_INFO };

struct simclient;

/* record(ud, rec) receives each history record (it steals rec); NULL drops them. */
struct simclient *simclient_new(struct sim *s, void (*record)(void *ud, json_t *rec), void *ud);
void simclient_destroy(struct simclient **c);

/* Operation timeout (default 2 s of virtual time; 0: none, the operation waits until answered
 * or given a deadline) and retry back-off (default 20 ms). */
void simclient_set_timeout(struct simclient *c, uint64_t us);
void simclient_set_backoff(struct simclient *c, uint64_t us);
/* Nodes process p may talk to (bit i = node index i); default all. A redirect to a node
 * outside the mask is not followed: the process retries inside its mask instead. */
void simclient_set_allowed(struct simclient *c, int p, uint32_t mask);
/* 1: follow redirects and retry (default); 0: direct (see above). */
void simclient_set_follow(struct simclient *c, int p, int follow);
/* Ends p's pending operation as info at virtual time t, unless answered before. */
void simclient_set_deadline(struct simclient *c, int p, uint64_t t);

/* Starts an operation: f is "read", "write" or "cas"; value is the written value or cas
 * `from`, to is cas `to` (NULL otherwise). Returns CL_ESTATE when p is busy or negative. */
int simclient_invoke(struct simclient *c, int p, int node, const char *f, const char *key,
                     const char *value, const char *to);
/* Starts an operation from a request body of the caller's making (its "type" is the f; extra
 * fields such as "cl" or "context" travel as they are; msg_id is set here). Steals body. */
int simclient_invoke_body(struct simclient *c, int p, int node, json_t *body);
/* Fires due retries and deadlines. */
void simclient_tick(struct simclient *c);
int simclient_busy(const struct simclient *c, int p);
/* A process that has never had an operation: the lowest from `from` on. */
int simclient_fresh(const struct simclient *c, int from);
/* Outcome of p's latest operation, and for a read ok the value read (NULL = absent). */
enum simop_outcome simclient_outcome(const struct simclient *c, int p);
const char *simclient_value(const struct simclient *c, int p);
/* The reply that ended p's latest operation (NULL when it timed out or failed unsent). */
const json_t *simclient_reply(const struct simclient *c, int p);
/* The error code that ended p's latest operation (-1: none). */
int simclient_code(const struct simclient *c, int p);
/* Counts of completed operations by outcome. */
void simclient_counts(const struct simclient *c, int *ok, int *fail, int *info);

#endif
