/* jtext — see jtext.h. */
#include "jtext.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* Does s (n bytes) read as a whole JSON value? */
static int reads_as_json(const char *s, size_t n)
{
    if (n == 0)
        return 0;
    json_t *v = json_loadb(s, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    if (!v)
        return 0;
    json_decref(v);
    return 1;
}

char *jtext_encode(const json_t *v)
{
    if (!v)
        return NULL;
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);
        if (strlen(s) == n && s[0] != JTEXT_MARK && !reads_as_json(s, n))
            return xstrdup(s);
        char *j = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        char *out = xasprintf("%c%s", JTEXT_MARK, j ? j : "\"\"");
        free(j);
        return out;
    }
    char *j = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    return j ? j : xstrdup("null");
}

json_t *jtext_decode(const char *text)
{
    if (!text)
        return NULL;
    if (text[0] == JTEXT_MARK) {
        json_t *v = json_loads(text + 1, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
        if (v && json_is_string(v))
            return v;
        json_decref(v);
        v = json_string(text + 1);
        return v ? v : json_null();
    }
    json_t *v = text[0] ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
    if (!v)
        v = json_string(text);
    return v ? v : json_null(); /* bytes that are not UTF-8 (never from JSON) */
}

int jtext_is_string(const char *text)
{
    if (!text)
        return 0;
    if (text[0] == JTEXT_MARK)
        return 1;
    return !reads_as_json(text, strlen(text));
}

const char *jtext_string(const char *text, char *buf, size_t len)
{
    if (!jtext_is_string(text))
        return NULL;
    if (text[0] != JTEXT_MARK)
        return text;
    json_t *v = jtext_decode(text);
    snprintf(buf, len, "%s", json_string_value(v));
    json_decref(v);
    return buf;
}

const char *jtext_show(const char *text)
{
    if (!text)
        return "";
    return text[0] == JTEXT_MARK ? text + 1 : text;
}

json_t *jtext_parse(const char *s, size_t n, char *err, size_t errlen)
{
    if (n == 0)
        return json_string(""); /* '' at the REPL: the empty string */
    if (s[0] == '"' || s[0] == '{' || s[0] == '[') {
        json_error_t je;
        json_t *v = json_loadb(s, n, JSON_DECODE_ANY, &je);
        if (v)
            return v;
        if (s[0] == '"') {
            /* a quote that never closes, or text after the closing one */
            size_t i = 1;
            while (i < n && s[i] != '"')
                i += s[i] == '\\' ? 2 : 1;
            if (i >= n) {
                snprintf(err, errlen, "unterminated string starting at column 1 (a string ends with \")");
                return NULL;
            }
        }
        snprintf(err, errlen, "bad JSON %s at column %d: %s",
                 s[0] == '"' ? "string" : s[0] == '{' ? "object" : "array",
                 je.column > 0 ? je.column : 1, je.text);
        return NULL;
    }
    json_t *v = json_loadb(s, n, JSON_DECODE_ANY, NULL);
    if (v)
        return v; /* 42, -1.5, true, false, null */
    if (memchr(s, 0, n)) {
        snprintf(err, errlen, "a NUL byte in a value");
        return NULL;
    }
    v = json_stringn(s, n);
    if (!v)
        snprintf(err, errlen, "a value that is not UTF-8 text");
    return v;
}
