/* kvsm — see kvsm.h. */
#include "kvsm.h"

#include <stdlib.h>
#include <string.h>

#include "env.h"

void kvsm_init(struct kvsm *sm)
{
    sm->data = json_object();
    sm->sessions = json_object();
}

void kvsm_free(struct kvsm *sm)
{
    json_decref(sm->data);
    json_decref(sm->sessions);
    sm->data = sm->sessions = NULL;
}

int kvsm_session(const struct kvsm *sm, const char *client, uint64_t *msg_id, int *code)
{
    const json_t *sess = client ? json_object_get(sm->sessions, client) : NULL;
    if (!sess)
        return 0;
    *msg_id = (uint64_t)json_integer_value(json_array_get(sess, 0));
    *code = (int)json_integer_value(json_array_get(sess, 1));
    return 1;
}

int kvsm_apply(struct kvsm *sm, const struct rlog_entry *en)
{
    if (en->type != KV_PUT && en->type != KV_CAS)
        return 0;
    /* At-most-once per (client, msg_id): a retried request with the same id is answered
     * from the session table instead of applied twice. */
    uint64_t last;
    int code;
    if (en->client && kvsm_session(sm, en->client, &last, &code) && last >= en->msg_id)
        return code;
    const char *key = en->key ? en->key : "";
    const char *value = en->value ? en->value : "";
    code = 0;
    if (en->type == KV_PUT) {
        json_object_set_new(sm->data, key, kvsm_value_decode(value));
    } else {
        const json_t *cur = json_object_get(sm->data, key);
        json_t *from = kvsm_value_decode(en->from);
        if (!cur)
            code = ERR_KEY_DOES_NOT_EXIST;
        else if (!json_equal((json_t *)cur, from))
            code = ERR_PRECONDITION_FAILED;
        else
            json_object_set_new(sm->data, key, kvsm_value_decode(value));
        json_decref(from);
    }
    if (en->client)
        json_object_set_new(sm->sessions, en->client, json_pack("[I,i]", (json_int_t)en->msg_id, code));
    return code;
}

const char *kvsm_get(const struct kvsm *sm, const char *key)
{
    return json_string_value(json_object_get(sm->data, key));
}

const json_t *kvsm_get_json(const struct kvsm *sm, const char *key)
{
    return json_object_get(sm->data, key);
}

char *kvsm_value_encode(const json_t *v)
{
    if (!v)
        return NULL;
    const char *s = json_string_value(v);
    if (s && s[0] != KV_JSON_MARK && strlen(s) == json_string_length(v))
        return xstrdup(s);
    char *j = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    char *out = xasprintf("%c%s", KV_JSON_MARK, j ? j : "null");
    free(j);
    return out;
}

json_t *kvsm_value_decode(const char *text)
{
    if (!text)
        return json_string("");
    if (text[0] == KV_JSON_MARK) {
        json_t *v = json_loads(text + 1, JSON_DECODE_ANY, NULL);
        if (v)
            return v;
    }
    return json_string(text);
}

const char *kvsm_value_text(const char *text)
{
    return text && text[0] == KV_JSON_MARK ? text + 1 : text ? text : "";
}

void kvsm_set_state(struct kvsm *sm, const json_t *data, const json_t *sessions)
{
    json_decref(sm->data);
    json_decref(sm->sessions);
    sm->data = json_is_object(data) ? json_deep_copy(data) : json_object();
    sm->sessions = json_is_object(sessions) ? json_deep_copy(sessions) : json_object();
}

void kvsm_clear(struct kvsm *sm)
{
    json_object_clear(sm->data);
    json_object_clear(sm->sessions);
}
