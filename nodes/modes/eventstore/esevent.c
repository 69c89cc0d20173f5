/* esevent — see esevent.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esevent.h"
#include "hash.h"
#include "util.h"

void es_event_clear(struct es_event *ev)
{
    json_decref(ev->data);
    memset(ev, 0, sizeof *ev);
}

int es_valid_name(const char *s, size_t max)
{
    if (!s || !*s)
        return 0;
    size_t n = 0;
    for (; s[n]; n++) {
        char c = s[n];
        if (n + 1 >= max)
            return 0;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == ':' || c == '-'))
            return 0;
    }
    return 1;
}

static int fail(struct es_event *ev, char *err, size_t errlen, const char *fmt, const char *a)
{
    es_event_clear(ev);
    snprintf(err, errlen, fmt, a);
    return -1;
}

/* The data: absent or null is {}; else any JSON value (an object, 42, "42", [1] …) of at most
 * ES_DATA_MAX bytes of JSON, kept with its type. */
static int take_data(const json_t *d, struct es_event *ev, const char *what, char *err, size_t errlen)
{
    if (!d || json_is_null(d)) {
        ev->data = json_object();
        return 0;
    }
    char *s = json_dumps(d, JSON_COMPACT | JSON_ENCODE_ANY);
    size_t n = s ? strlen(s) : ES_DATA_MAX + 1;
    free(s);
    if (n > ES_DATA_MAX)
        return fail(ev, err, errlen, "%s: \"data\" is over 4096 bytes of JSON", what);
    ev->data = json_deep_copy(d);
    return ev->data ? 0 : fail(ev, err, errlen, "%s: \"data\" cannot be copied", what);
}

int es_decode_append(const json_t *body, struct es_event *ev, char *err, size_t errlen)
{
    memset(ev, 0, sizeof *ev);
    if (!json_is_object(body))
        return fail(ev, err, errlen, "%s: the body is not an object", "append");
    const char *stream = json_string_value(json_object_get(body, "stream"));
    const char *type = json_string_value(json_object_get(body, "event"));
    char num[24];
    const json_t *js = json_object_get(body, "stream");
    if (json_is_integer(js) && json_integer_value(js) >= 0) { /* a whole number names the stream of its digits */
        snprintf(num, sizeof num, "%lld", (long long)json_integer_value(js));
        stream = num;
    }
    if (!stream)
        return fail(ev, err, errlen, "%s needs a string \"stream\" (the stream to append to)", "append");
    if (!es_valid_name(stream, ES_STREAM_MAX))
        return fail(ev, err, errlen, "%s: \"stream\" is 1 to 63 of A-Z a-z 0-9 . _ : -", "append");
    if (!type)
        return fail(ev, err, errlen, "%s needs a string \"event\" (the event's type, e.g. \"created\")", "append");
    if (!es_valid_name(type, ES_TYPE_MAX))
        return fail(ev, err, errlen, "%s: \"event\" is 1 to 31 of A-Z a-z 0-9 . _ : -", "append");
    str_copy(ev->stream, stream, sizeof ev->stream);
    str_copy(ev->type, type, sizeof ev->type);
    const json_t *x = json_object_get(body, "expected");
    ev->expected = -1;
    if (x && !json_is_null(x) && !(json_is_string(x) && !strcmp(json_string_value(x), "any"))) {
        if (!json_is_integer(x) || json_integer_value(x) < -1 || json_integer_value(x) > ES_VERSION_MAX)
            return fail(ev, err, errlen, "%s: \"expected\" is a version from 0 (a new stream) up, or \"any\"", "append");
        ev->expected = (int64_t)json_integer_value(x);
    }
    return take_data(json_object_get(body, "data"), ev, "append", err, errlen);
}

int es_decode_record(const char *text, size_t len, struct es_event *ev, char *err, size_t errlen)
{
    memset(ev, 0, sizeof *ev);
    json_error_t je;
    json_t *r = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!r)
        return fail(ev, err, errlen, "an event record is not JSON: %s", je.text);
    const char *s = json_string_value(json_object_get(r, "s"));
    const char *t = json_string_value(json_object_get(r, "t"));
    const json_t *v = json_object_get(r, "v"), *x = json_object_get(r, "x");
    int rc = 0;
    if (!json_is_object(r) || !es_valid_name(s, ES_STREAM_MAX) || !es_valid_name(t, ES_TYPE_MAX))
        rc = fail(ev, err, errlen, "%s: needs a valid stream \"s\" and type \"t\"", "an event record");
    else if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > ES_VERSION_MAX)
        rc = fail(ev, err, errlen, "%s: \"v\" is a version from 1 up", "an event record");
    else if (!json_is_integer(x) || json_integer_value(x) < -1 || json_integer_value(x) > ES_VERSION_MAX)
        rc = fail(ev, err, errlen, "%s: \"x\" is the expected version, -1 for any", "an event record");
    if (rc == 0) {
        str_copy(ev->stream, s, sizeof ev->stream);
        str_copy(ev->type, t, sizeof ev->type);
        ev->v = (uint64_t)json_integer_value(v);
        ev->expected = (int64_t)json_integer_value(x);
        rc = take_data(json_object_get(r, "d"), ev, "an event record", err, errlen);
    }
    json_decref(r);
    return rc;
}

char *es_encode_record(const struct es_event *ev)
{
    json_t *d = ev->data ? json_incref(ev->data) : json_object();
    json_t *r = json_pack("{s:s,s:s,s:I,s:I,s:o}", "s", ev->stream, "t", ev->type, "v", (json_int_t)ev->v, "x",
                          (json_int_t)ev->expected, "d", d);
    char *s = json_dumps(r, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(r);
    return s;
}

void es_fold(json_t *state, const char *type, uint64_t v, const json_t *data)
{
    json_object_set_new(state, "status", json_string(type));
    json_object_set_new(state, "version", json_integer((json_int_t)v));
    if (!json_is_object(data)) { /* 42, "42", [1], true: the aggregate's "data" is the last one */
        json_object_set_new(state, "data", json_deep_copy(data));
        return;
    }
    const char *k;
    json_t *val;
    json_object_foreach((json_t *)data, k, val) {
        if (k[0] == '+' && k[1] && json_is_integer(val)) {
            json_t *cur = json_object_get(state, k + 1);
            json_int_t base = json_is_integer(cur) ? json_integer_value(cur) : 0;
            json_object_set_new(state, k + 1, json_integer(base + json_integer_value(val)));
        } else if (json_is_null(val)) {
            json_object_del(state, k);
        } else {
            json_object_set_new(state, k, json_deep_copy(val));
        }
    }
}

void es_project(json_t *proj, const char *stream, const char *type)
{
    json_t *types = json_object_get(proj, "types"), *last = json_object_get(proj, "last");
    if (!types) {
        types = json_object();
        json_object_set_new(proj, "types", types);
    }
    if (!last) {
        last = json_object();
        json_object_set_new(proj, "last", last);
    }
    json_object_set_new(types, type, json_integer(json_integer_value(json_object_get(types, type)) + 1));
    json_object_set_new(last, stream, json_string(type));
    json_object_set_new(proj, "total", json_integer(json_integer_value(json_object_get(proj, "total")) + 1));
}

const char *es_digest(const json_t *j, char buf[17])
{
    char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    hash_hex(hash_str(s ? s : ""), buf);
    free(s);
    return buf;
}
