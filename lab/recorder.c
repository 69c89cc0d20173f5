/* recorder — see recorder.h. */
#include "recorder.h"

#include <stdlib.h>
#include <string.h>

#include "jtext.h"

json_t *recorder_add(struct recorder *r, json_t *rec)
{
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 256;
        r->v = xrealloc(r->v, r->cap * sizeof *r->v);
    }
    json_object_set_new(rec, "index", json_integer((json_int_t)r->n));
    r->v[r->n++] = rec;
    if (r->mirror) {
        char *s = json_dumps(rec, JSON_COMPACT);
        if (s) {
            fprintf(r->mirror, "%s\n", s);
            fflush(r->mirror);
            free(s);
        }
    }
    return rec;
}

void recorder_clear(struct recorder *r)
{
    for (size_t i = 0; i < r->n; i++)
        json_decref(r->v[i]);
    free(r->v);
    r->v = NULL;
    r->n = r->cap = 0;
}

char *recorder_jsonl(const struct recorder *r)
{
    struct sb b = {0};
    for (size_t i = 0; i < r->n; i++) {
        char *s = json_dumps(r->v[i], JSON_COMPACT);
        if (s) {
            sb_add(&b, s);
            sb_addc(&b, '\n');
            free(s);
        }
    }
    if (!b.s)
        sb_addn(&b, "", 0);
    return b.s;
}

int recorder_save(const struct recorder *r, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return CL_EIO;
    char *s = recorder_jsonl(r);
    size_t len = strlen(s);
    int ok = fwrite(s, 1, len, f) == len;
    free(s);
    ok &= fclose(f) == 0;
    return ok ? 0 : CL_EIO;
}

void recorder_add_value(struct sb *out, const json_t *v)
{
    if (json_is_string(v)) {
        /* quoted when it would read as another value (jtext.h): "42" is the string, 42 the
         * number; a plain word stays bare */
        char *t = jtext_encode(v);
        if (t[0] == JTEXT_MARK)
            sb_add_escaped(out, jtext_show(t), strlen(jtext_show(t)));
        else
            sb_add_escaped(out, json_string_value(v), json_string_length(v));
        free(t);
    } else if (!v || json_is_null(v)) {
        sb_add(out, "nil");
    } else {
        char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        if (s) {
            sb_add_escaped(out, s, strlen(s));
            free(s);
        }
    }
}

void recorder_format(const struct recorder *r, size_t from, struct sb *out)
{
    for (size_t i = from; i < r->n; i++) {
        const json_t *e = r->v[i];
        double t = (double)json_integer_value(json_object_get(e, "time")) / 1e9;
        sb_printf(out, "%4zu %8.3fs p%lld %-6s %-5s ", i, t,
                  (long long)json_integer_value(json_object_get(e, "process")),
                  json_string_value(json_object_get(e, "type")),
                  json_string_value(json_object_get(e, "f")));
        const char *k = json_string_value(json_object_get(e, "key"));
        sb_add_escaped(out, k ? k : "", k ? strlen(k) : 0);
        sb_addc(out, ' ');
        recorder_add_value(out, json_object_get(e, "value"));
        const char *node = json_string_value(json_object_get(e, "node"));
        if (node)
            sb_printf(out, " @%s", node);
        json_t *err = json_object_get(e, "error");
        if (json_is_string(err))
            sb_printf(out, " (%s)", json_string_value(err));
        else if (json_is_object(err))
            sb_printf(out, " (error %lld)", (long long)json_integer_value(json_object_get(err, "code")));
        sb_addc(out, '\n');
    }
}
