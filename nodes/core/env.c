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
    /* "n<k>" is usually the k-th id: checked first, so a 1,000-node simulation does not
     * compare every name on every send */
    if (id && id[0] == 'n' && id[1] >= '1' && id[1] <= '9') {
        int k = 0;
        const char *p = id + 1;
        while (*p >= '0' && *p <= '9' && k <= CL_SIM_MAXNODES)
            k = k * 10 + (*p++ - '0');
        if (!*p && k >= 1 && k <= e->n_nodes && !strcmp(e->nodes[k - 1], id))
            return k - 1;
    }
    for (int i = 0; i < e->n_nodes; i++)
        if (!strcmp(e->nodes[i], id))
            return i;
    return -1;
}

uint64_t env_next_msg_id(struct env *e)
{
    return ++e->msg_seq;
}
