/* pending — see pending.h. */
#include "pending.h"

#include <stdlib.h>
#include <string.h>

void pending_add(struct pending *q, const char *client, const json_t *msg_id, uint64_t index,
                 uint64_t term, int type)
{
    if (q->n == q->cap) {
        q->cap = q->cap ? q->cap * 2 : 16;
        q->v = xrealloc(q->v, q->cap * sizeof *q->v);
    }
    struct pending_req *r = &q->v[q->n++];
    str_copy(r->client, client, CL_IDLEN);
    r->msg_id = msg_id ? json_deep_copy(msg_id) : NULL;
    r->index = index;
    r->term = term;
    r->type = type;
}

int pending_has(const struct pending *q, const char *client, const json_t *msg_id)
{
    for (size_t i = 0; i < q->n; i++)
        if (!strcmp(q->v[i].client, client) && q->v[i].msg_id && msg_id &&
            json_equal(q->v[i].msg_id, msg_id))
            return 1;
    return 0;
}

size_t pending_take(struct pending *q, uint64_t upto, int exact,
                    void (*fn)(void *ud, const struct pending_req *r), void *ud)
{
    size_t w = 0, taken = 0;
    for (size_t i = 0; i < q->n; i++) {
        struct pending_req r = q->v[i];
        if (exact ? r.index == upto : r.index <= upto) {
            fn(ud, &r);
            json_decref(r.msg_id);
            taken++;
        } else {
            q->v[w++] = r;
        }
    }
    q->n = w;
    return taken;
}

void pending_drop_upto(struct pending *q, uint64_t upto)
{
    size_t w = 0;
    for (size_t i = 0; i < q->n; i++) {
        if (q->v[i].index <= upto)
            json_decref(q->v[i].msg_id);
        else
            q->v[w++] = q->v[i];
    }
    q->n = w;
}

void pending_clear(struct pending *q)
{
    for (size_t i = 0; i < q->n; i++)
        json_decref(q->v[i].msg_id);
    free(q->v);
    memset(q, 0, sizeof *q);
}

void pending_reply(struct env *e, const struct pending_req *r, json_t *reply)
{
    if (r->msg_id)
        json_object_set(reply, "in_reply_to", r->msg_id);
    env_send(e, r->client, reply);
}

void pending_reply_error(struct env *e, const struct pending_req *r, int code, const char *text)
{
    pending_reply(e, r, json_pack("{s:s,s:i,s:s}", "type", "error", "code", code, "text", text));
}
