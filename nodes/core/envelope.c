/* envelope — see envelope.h. The only decoder of peer and client frames. */
#include "envelope.h"

#include <stdio.h>
#include <string.h>

int envelope_valid_id(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n >= CL_IDLEN)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.'))
            return 0;
    }
    return 1;
}

static int get_id(json_t *root, const char *field, char out[CL_IDLEN], char *err, size_t errlen)
{
    json_t *v = json_object_get(root, field);
    if (!v) {
        snprintf(err, errlen, "missing field \"%s\"", field);
        return CL_EINVAL;
    }
    if (!json_is_string(v)) {
        snprintf(err, errlen, "field \"%s\" must be a string", field);
        return CL_EINVAL;
    }
    const char *s = json_string_value(v);
    if (json_string_length(v) != strlen(s) || !envelope_valid_id(s)) {
        snprintf(err, errlen, "field \"%s\" is not a valid id (1-15 of A-Za-z0-9_.-)", field);
        return CL_EINVAL;
    }
    str_copy(out, s, CL_IDLEN);
    return 0;
}

static int get_uint(json_t *obj, const char *field, uint64_t *out, const char *where, char *err,
                    size_t errlen)
{
    json_t *v = json_object_get(obj, field);
    if (!v)
        return 1;
    if (!json_is_integer(v) || json_integer_value(v) < 0) {
        snprintf(err, errlen, "%s\"%s\" must be a non-negative integer", where, field);
        return CL_EINVAL;
    }
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

int envelope_decode(const void *buf, size_t len, struct envelope *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (len == 0) {
        snprintf(err, errlen, "empty frame");
        return CL_EINVAL;
    }
    if (len > ENVELOPE_MAX_BYTES) {
        snprintf(err, errlen, "frame of %zu bytes exceeds the %u-byte cap", len, ENVELOPE_MAX_BYTES);
        return CL_EINVAL;
    }
    json_error_t je;
    json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        snprintf(err, errlen, "malformed JSON at column %d: %s", je.column, je.text);
        return CL_EINVAL;
    }
    int rc = CL_EINVAL;
    if (!json_is_object(root)) {
        snprintf(err, errlen, "frame is not a JSON object");
        goto out;
    }
    if (get_id(root, "src", out->src, err, errlen) < 0 || get_id(root, "dest", out->dest, err, errlen) < 0)
        goto out;
    json_t *body = json_object_get(root, "body");
    if (!body) {
        snprintf(err, errlen, "missing field \"body\"");
        goto out;
    }
    if (!json_is_object(body)) {
        snprintf(err, errlen, "field \"body\" must be an object");
        goto out;
    }
    json_t *type = json_object_get(body, "type");
    if (!json_is_string(type) || json_string_length(type) == 0 || json_string_length(type) > 64 ||
        strlen(json_string_value(type)) != json_string_length(type)) {
        snprintf(err, errlen, "body.type must be a non-empty string of at most 64 bytes");
        goto out;
    }
    uint64_t tmp;
    if (get_uint(body, "msg_id", &tmp, "body.", err, errlen) < 0 ||
        get_uint(body, "in_reply_to", &tmp, "body.", err, errlen) < 0)
        goto out;
    if (get_uint(root, "lamport", &out->lamport, "", err, errlen) < 0 ||
        get_uint(root, "inc", &out->inc, "", err, errlen) < 0)
        goto out;
    json_t *vc = json_object_get(root, "vc");
    if (vc) {
        if (!json_is_array(vc) || json_array_size(vc) > CL_MAXNODES) {
            snprintf(err, errlen, "\"vc\" must be an array of at most %d integers", CL_MAXNODES);
            goto out;
        }
        size_t i;
        json_t *x;
        json_array_foreach(vc, i, x) {
            if (!json_is_integer(x) || json_integer_value(x) < 0) {
                snprintf(err, errlen, "\"vc\"[%zu] must be a non-negative integer", i);
                goto out;
            }
            out->vc[i] = (uint64_t)json_integer_value(x);
        }
        out->vc_n = (int)json_array_size(vc);
    }
    json_t *hlc = json_object_get(root, "hlc");
    if (hlc) {
        json_t *l = json_array_get(hlc, 0), *c = json_array_get(hlc, 1);
        if (!json_is_array(hlc) || json_array_size(hlc) != 2 || !json_is_integer(l) || !json_is_integer(c) ||
            json_integer_value(l) < 0 || json_integer_value(c) < 0) {
            snprintf(err, errlen, "\"hlc\" must be [µs, counter]: two non-negative integers");
            goto out;
        }
        out->hlc_l = (uint64_t)json_integer_value(l);
        out->hlc_c = (uint64_t)json_integer_value(c);
    }
    out->body = json_incref(body);
    rc = 0;
out:
    json_decref(root);
    if (rc < 0)
        memset(out, 0, sizeof *out);
    return rc;
}

char *envelope_encode(const struct envelope *env, size_t *len)
{
    json_t *root = json_object();
    json_object_set_new(root, "src", json_string(env->src));
    json_object_set_new(root, "dest", json_string(env->dest));
    json_object_set_new(root, "body", env->body ? json_incref(env->body) : json_object());
    if (env->lamport)
        json_object_set_new(root, "lamport", json_integer((json_int_t)env->lamport));
    if (env->vc_n > 0) {
        json_t *vc = json_array();
        for (int i = 0; i < env->vc_n; i++)
            json_array_append_new(vc, json_integer((json_int_t)env->vc[i]));
        json_object_set_new(root, "vc", vc);
    }
    if (env->hlc_l || env->hlc_c)
        json_object_set_new(root, "hlc", json_pack("[I,I]", (json_int_t)env->hlc_l, (json_int_t)env->hlc_c));
    if (env->inc)
        json_object_set_new(root, "inc", json_integer((json_int_t)env->inc));
    char *s = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    if (!s)
        s = xstrdup("{}");
    if (len)
        *len = strlen(s);
    return s;
}

void envelope_clear(struct envelope *env)
{
    json_decref(env->body);
    memset(env, 0, sizeof *env);
}

const char *envelope_type(const struct envelope *env)
{
    const char *t = json_string_value(json_object_get(env->body, "type"));
    return t ? t : "";
}
