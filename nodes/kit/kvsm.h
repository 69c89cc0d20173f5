/* kvsm — the key/value state machine a replicated log feeds (Maelstrom's lin-kv): put sets a
 * key, cas sets it only if it holds `from` (else error 20 key-does-not-exist or 22
 * precondition-failed), noop and configuration entries change nothing.
 *
 * Client sessions (Raft dissertation §6.3): when an entry names its client and request id, the
 * machine remembers per client the newest request applied and its result, so that a request
 * retried after a lost reply is answered from the session instead of applied twice
 * (at-most-once). Sessions are part of the state: they travel in snapshots with the data.
 *
 * State as JSON (so snapshots and status are one call): data {"key":value,…},
 * sessions {"client":[msg_id, code],…}.
 *
 * Values are any JSON (Maelstrom's lin-kv writes integers): a client's 42 is stored as the
 * number 42 and read back as 42, its "42" as the string. An entry carries a value as text
 * (kvsm_value_encode): a string as itself, anything else — and a string that begins with
 * KV_JSON_MARK — as KV_JSON_MARK followed by its compact JSON. A cas compares JSON values
 * (42 is not "42").
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
    json_t *data;           /* key -> value (any JSON) */
    json_t *sessions;       /* client -> [newest msg_id applied, its result code] */
};

void kvsm_init(struct kvsm *sm);
void kvsm_free(struct kvsm *sm);
/* Applies one entry; returns its result: 0, ERR_KEY_DOES_NOT_EXIST or ERR_PRECONDITION_FAILED
 * (0 for noop and configurations). A request its client's session already covers (msg_id at
 * or below the newest applied) is not applied again: the session's result is returned. */
int kvsm_apply(struct kvsm *sm, const struct rlog_entry *en);
/* The value of key when it is a string, or NULL (borrowed until the next change). */
const char *kvsm_get(const struct kvsm *sm, const char *key);
/* The value of key, any JSON, or NULL (borrowed until the next change). */
const json_t *kvsm_get_json(const struct kvsm *sm, const char *key);

#define KV_JSON_MARK '\x01'
/* An entry's text for a client's value (caller frees); NULL for NULL. */
char *kvsm_value_encode(const json_t *v);
/* The value an entry's text stands for (a new reference; "" for NULL). */
json_t *kvsm_value_decode(const char *text);
/* The text a user reads for an entry's value: the string, or the JSON after the mark
 * (borrowed from text). */
const char *kvsm_value_text(const char *text);
/* 1 and *msg_id, *code set when client has a session; else 0. */
int kvsm_session(const struct kvsm *sm, const char *client, uint64_t *msg_id, int *code);
/* Replaces data and sessions with deep copies of the given objects (a snapshot). */
void kvsm_set_state(struct kvsm *sm, const json_t *data, const json_t *sessions);
/* Empties data and sessions. */
void kvsm_clear(struct kvsm *sm);

#endif
