/* pending — client requests a leader appended to its log and has not answered yet: each waits
 * for its log index to commit (primary/backup) or apply (Raft). The list keeps the order
 * requests arrived in; answering uses the request's own msg_id as in_reply_to.
 *
 * What a mode does with them differs and stays in the mode: Raft answers with the entry's
 * result when the entry it appended is the one applied at that index (same term), and tells
 * the client the request failed when a new leader put another entry there; primary/backup
 * answers once the index is acknowledged and forgets them when it steps down.
 *
 * Users: raft, leader; later ZAB and Multi-Paxos. Zero-initialise; pending_clear() frees.
 */
#ifndef CONLAB_PENDING_H
#define CONLAB_PENDING_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "env.h"

struct pending_req {
    char client[CL_IDLEN];
    json_t *msg_id;          /* the request's msg_id (owned), or NULL when it had none */
    uint64_t index, term;    /* where its entry went, and the term it was appended in */
    int type;                /* the mode's request type (e.g. KV_PUT, KV_CAS) */
};

struct pending {
    struct pending_req *v;
    size_t n, cap;
};

/* Adds a request; msg_id is copied (may be NULL). */
void pending_add(struct pending *q, const char *client, const json_t *msg_id, uint64_t index,
                 uint64_t term, int type);
/* 1 when client has a request with this msg_id waiting (a retry of it). */
int pending_has(const struct pending *q, const char *client, const json_t *msg_id);
/* Removes, in arrival order, every request whose index satisfies index <= upto (or, with
 * exact, index == upto), calling fn for each before it is freed (fn must not change q). Returns how many. */
size_t pending_take(struct pending *q, uint64_t upto, int exact,
                    void (*fn)(void *ud, const struct pending_req *r), void *ud);
/* Forgets every request with index <= upto, answering none (their outcome is unknown here:
 * the client's timeout reports them as indeterminate). */
void pending_drop_upto(struct pending *q, uint64_t upto);
/* Forgets them all and frees the list. */
void pending_clear(struct pending *q);

/* Sends reply to r's client with in_reply_to = r's msg_id. Steals reply. */
void pending_reply(struct env *e, const struct pending_req *r, json_t *reply);
/* Sends {"type":"error","code":code,"text":text} to r's client. */
void pending_reply_error(struct env *e, const struct pending_req *r, int code, const char *text);

#endif
