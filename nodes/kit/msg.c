/* msg — see msg.h. */
#include "msg.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "env.h"
#include "hash.h"
#include "util.h"

void msg_describe(const json_t *v, char *buf, size_t len)
{
    if (!v)
        snprintf(buf, len, "nothing");
    else if (json_is_null(v))
        snprintf(buf, len, "null");
    else if (json_is_boolean(v))
        snprintf(buf, len, "%s", json_is_true(v) ? "true" : "false");
    else if (json_is_integer(v))
        snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    else if (json_is_real(v))
        snprintf(buf, len, "a fraction");
    else if (json_is_string(v))
        snprintf(buf, len, "a string");
    else if (json_is_array(v))
        snprintf(buf, len, "an array");
    else
        snprintf(buf, len, "an object");
}

static const char *kind_text(enum msg_kind k)
{
    switch (k) {
    case MSG_K_U64:
    case MSG_K_INT: return "a whole number";
    case MSG_K_STR: return "a string";
    case MSG_K_STR_NULL: return "a string or null";
    case MSG_K_TEXT: return "a string";
    case MSG_K_BOOL: return "a boolean";
    case MSG_K_ARRAY: return "an array";
    case MSG_K_OBJECT: return "an object";
    case MSG_K_HEX: return "a hash (16 hex digits)";
    case MSG_K_ANY: return "a value";
    }
    return "a value";
}

static void refuse(const char *what, const struct msg_field *f, const json_t *v, char *err,
                   size_t errlen)
{
    char got[48], range[96] = "";
    msg_describe(v, got, sizeof got);
    if (f->kind == MSG_K_U64 || f->kind == MSG_K_INT)
        snprintf(range, sizeof range, " from %" PRId64 " to %" PRIu64, f->min, f->max);
    else if (f->kind == MSG_K_ARRAY && f->max)
        snprintf(range, sizeof range, " of at most %" PRIu64 " elements", f->max);
    if (json_is_array(v) && f->kind == MSG_K_ARRAY)
        snprintf(got, sizeof got, "%zu elements", json_array_size(v));
    if (json_is_string(v) && f->kind == MSG_K_HEX)
        snprintf(got, sizeof got, "\"%.20s\"", json_string_value(v));
    snprintf(err, errlen, "%s needs %s \"%s\"%s, got %s", what, kind_text(f->kind), f->name, range, got);
}

/* 0 when v fits field f (and the value is written to dst), -1 otherwise. */
static int get_one(const struct msg_field *f, const json_t *v, char *dst)
{
    switch (f->kind) {
    case MSG_K_U64: {
        assert(f->size == sizeof(uint64_t));
        if (!json_is_integer(v) || json_integer_value(v) < f->min || json_integer_value(v) < 0 ||
            (uint64_t)json_integer_value(v) > f->max)
            return -1;
        uint64_t x = (uint64_t)json_integer_value(v);
        memcpy(dst, &x, sizeof x);
        return 0;
    }
    case MSG_K_INT: {
        assert(f->size == sizeof(int));
        json_int_t x = json_integer_value(v);
        if (!json_is_integer(v) || x < f->min || (x >= 0 && (uint64_t)x > f->max))
            return -1;
        int i = (int)x;
        memcpy(dst, &i, sizeof i);
        return 0;
    }
    case MSG_K_STR:
    case MSG_K_STR_NULL: {
        assert(f->size == sizeof(const char *));
        if (!json_is_string(v) && !(f->kind == MSG_K_STR_NULL && json_is_null(v)))
            return -1;
        const char *s = json_string_value(v);
        memcpy(dst, &s, sizeof s);
        return 0;
    }
    case MSG_K_TEXT: {
        assert(f->size == sizeof(char *));
        char *s;
        if (json_is_string(v))
            s = xstrdup(json_string_value(v));
        else if (json_is_integer(v))
            s = xasprintf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
        else
            return -1;
        memcpy(dst, &s, sizeof s);
        return 0;
    }
    case MSG_K_BOOL: {
        assert(f->size == sizeof(int));
        if (!json_is_boolean(v))
            return -1;
        int b = json_is_true(v);
        memcpy(dst, &b, sizeof b);
        return 0;
    }
    case MSG_K_ARRAY:
    case MSG_K_OBJECT:
    case MSG_K_ANY: {
        assert(f->size == sizeof(const json_t *));
        if ((f->kind == MSG_K_ARRAY && (!json_is_array(v) || (f->max && json_array_size(v) > f->max))) ||
            (f->kind == MSG_K_OBJECT && !json_is_object(v)))
            return -1;
        memcpy(dst, &v, sizeof v);
        return 0;
    }
    case MSG_K_HEX: {
        assert(f->size == sizeof(uint64_t));
        uint64_t h;
        if (hash_parse_hex(json_string_value(v), &h) < 0)
            return -1;
        memcpy(dst, &h, sizeof h);
        return 0;
    }
    }
    return -1;
}

static void free_text(const struct msg_field *f, void *out)
{
    char *s;
    memcpy(&s, (char *)out + f->off, sizeof s);
    free(s);
    s = NULL;
    memcpy((char *)out + f->off, &s, sizeof s);
}

void msg_free_text(const struct msg_field *fields, void *out)
{
    for (const struct msg_field *f = fields; f->name; f++)
        if (f->kind == MSG_K_TEXT)
            free_text(f, out);
}

int msg_get(const json_t *body, const char *what, const struct msg_field *fields, void *out,
            char *err, size_t errlen)
{
    if (!what)
        what = json_string_value(json_object_get(body, "type"));
    if (!what)
        what = "the message";
    if (!json_is_object(body)) {
        char got[48];
        msg_describe(body, got, sizeof got);
        snprintf(err, errlen, "%s needs to be an object, got %s", what, got);
        return CL_EINVAL;
    }
    for (const struct msg_field *f = fields; f->name; f++) {
        const json_t *v = json_object_get(body, f->name);
        if (!v && f->optional)
            continue;
        if (!v || get_one(f, v, (char *)out + f->off) < 0) {
            /* free what this call allocated before the failing field */
            for (const struct msg_field *g = fields; g < f; g++)
                if (g->kind == MSG_K_TEXT && json_object_get(body, g->name))
                    free_text(g, out);
            refuse(what, f, v, err, errlen);
            return CL_EINVAL;
        }
    }
    return 0;
}

int msg_get_request(struct env *e, const char *src, const json_t *body, const struct msg_field *fields,
                    void *out, size_t size)
{
    char err[300];
    memset(out, 0, size);
    if (msg_get(body, NULL, fields, out, err, sizeof err) == 0)
        return 0;
    env_reply_error(e, src, body, ERR_MALFORMED_REQUEST, err, NULL);
    return CL_EINVAL;
}
