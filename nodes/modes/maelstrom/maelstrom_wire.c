/* maelstrom_wire — see maelstrom.h. */
#include "maelstrom.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int maelstrom_valid_id(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= CL_IDLEN)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
              c == '-' || c == '.'))
            return 0;
    }
    return 1;
}

static int get_id(const json_t *o, const char *field, int required, char *out, char *err, size_t errlen)
{
    const json_t *v = json_object_get(o, field);
    out[0] = 0;
    if (!v) {
        if (!required)
            return 0;
        snprintf(err, errlen, "field \"%s\" is missing", field);
        return -1;
    }
    const char *s = json_string_value(v);
    if (!s) {
        snprintf(err, errlen, "field \"%s\" is not a string", field);
        return -1;
    }
    if (json_string_length(v) != strlen(s) || !maelstrom_valid_id(s)) {
        snprintf(err, errlen, "field \"%s\" is not a valid id (1-15 of A-Za-z0-9_.-)", field);
        return -1;
    }
    memcpy(out, s, strlen(s) + 1);
    return 0;
}

int maelstrom_decode(const char *line, size_t len, struct mline *m, char *err, size_t errlen)
{
    memset(m, 0, sizeof *m);
    if (len > MAELSTROM_LINE_MAX) {
        snprintf(err, errlen, "a line of %zu bytes is over the %u-byte cap", len, MAELSTROM_LINE_MAX);
        return -1;
    }
    json_error_t je;
    json_t *o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
    if (!o) {
        snprintf(err, errlen, "not JSON (column %d: %s)", je.column, je.text);
        return -1;
    }
    if (!json_is_object(o)) {
        snprintf(err, errlen, "not a JSON object");
        goto bad;
    }
    char src[CL_IDLEN], dest[CL_IDLEN];
    if (get_id(o, "src", 0, src, err, errlen) < 0 || get_id(o, "dest", 1, dest, err, errlen) < 0)
        goto bad;
    json_t *body = json_object_get(o, "body");
    if (!body) {
        snprintf(err, errlen, "field \"body\" is missing");
        goto bad;
    }
    if (!json_is_object(body)) {
        snprintf(err, errlen, "field \"body\" is not an object");
        goto bad;
    }
    const json_t *t = json_object_get(body, "type");
    if (!t) {
        snprintf(err, errlen, "field \"body.type\" is missing");
        goto bad;
    }
    const char *ts = json_string_value(t);
    if (!ts || !*ts || json_string_length(t) != strlen(ts)) {
        snprintf(err, errlen, "field \"body.type\" is not a non-empty string");
        goto bad;
    }
    const json_t *mid = json_object_get(body, "msg_id"), *irt = json_object_get(body, "in_reply_to");
    if ((mid && !json_is_integer(mid)) || (irt && !json_is_integer(irt))) {
        snprintf(err, errlen, "field \"body.%s\" is not an integer", mid && !json_is_integer(mid) ? "msg_id" : "in_reply_to");
        goto bad;
    }
    memcpy(m->src, src, sizeof src);
    memcpy(m->dest, dest, sizeof dest);
    m->body = json_incref(body);
    json_decref(o);
    return 0;
bad:
    json_decref(o);
    return -1;
}

char *maelstrom_encode(const char *src, const char *dest, const json_t *body, size_t *len)
{
    json_t *o = json_pack("{s:s,s:s,s:O}", "src", src, "dest", dest, "body", body);
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!s)
        return NULL;
    *len = strlen(s);
    return s;
}
