/* kvsm — the key/value state machine a replicated log feeds (Maelstrom's lin-kv): put sets a
 * key, cas sets it only if it holds `from` (else error 20 key-does-not-exist or 22
 * precondition-failed), noop and configuration entries change nothing.
 *
 * Client sessions (Raft dissertation §6.3): when an entry names its client and request id, the
 * machine remembers per client the newest request applied and its result, so that a request
 * retried after a lost reply is answered from the session instead of applied twice
 * (at-most-once). Sessions are part of the state: they travel in snapshots with the data.
 *
 * State as JSON (so snapshots and status are one call): data {"key":"value",…},
 * sessions {"client":[msg_id, code],…}.
 *
 * Users: raft (with sessions), leader (entries carry no client: sessions stay empty).
 * Ownership: kvsm_init() creates the objects, kvsm_free() releases them; kvsm_set_state()
 * copies what it is given.
 */
#ifndef CONLAB_KVSM_H
#define CONLAB_KVSM_H

#include <jansson.h>
#include <stdint.h>

#include "rlog.h"

struct kvsm {
    json_t *data;           /* key -> value (strings) */
    json_t *sessions;       /* client -> [newest msg_id applied, its result code] */
};

void kvsm_init(struct kvsm *sm);
void kvsm_free(struct kvsm *sm);
/* Applies one entry; returns its result: 0, ERR_KEY_DOES_NOT_EXIST or ERR_PRECONDITION_FAILED
 * (0 for noop and configurations). A request its client's session already covers (msg_id at
 * or below the newest applied) is not applied again: the session's result is returned. */
int kvsm_apply(struct kvsm *sm, const struct rlog_entry *en);
/* The value of key, or NULL (borrowed until the next change). */
const char *kvsm_get(const struct kvsm *sm, const char *key);
/* 1 and *msg_id, *code set when client has a session; else 0. */
int kvsm_session(const struct kvsm *sm, const char *client, uint64_t *msg_id, int *code);
/* Replaces data and sessions with deep copies of the given objects (a snapshot). */
void kvsm_set_state(struct kvsm *sm, const json_t *data, const json_t *sessions);
/* Empties data and sessions. */
void kvsm_clear(struct kvsm *sm);

#endif
