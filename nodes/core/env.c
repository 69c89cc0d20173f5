/* env — helpers every environment implementation and mode shares. See env.h. */
#include "env.h"

#include <string.h>

void env_reply(struct env *e, const char *dest, const json_t *req, json_t *reply)
{
    json_t *id = json_object_get(req, "msg_id");
    if (id)
        json_object_set(reply, "in_reply_to", id);
    env_send(e, dest, reply);
}

void env_reply_error(struct env *e, const char *dest, const json_t *req, int code,
                     const char *text, const char *leader)
{
    json_t *r = json_pack("{s:s, s:i, s:s}", "type", "error", "code", code, "text", text);
    if (leader && *leader)
        json_object_set_new(r, "leader", json_string(leader));
    env_reply(e, dest, req, r);
}

int env_node_index(const struct env *e, const char *id)
{
    for (int i = 0; i < e->n_nodes; i++)
        if (!strcmp(e->nodes[i], id))
            return i;
    return -1;
}

uint64_t env_next_msg_id(struct env *e)
{
    return ++e->msg_seq;
}
