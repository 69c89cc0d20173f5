/* trace — JSONL trace files (trace.h). */
#include "trace.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void refuse(struct sb *errors, size_t *shown, const char *path, size_t line, const char *why)
{
    if (++*shown <= 20) {
        sb_printf(errors, "%s:%zu: ", path, line);
        sb_add_escaped(errors, why, strlen(why));
        sb_addc(errors, '\n');
    }
}

int trace_load(const char *path, struct trace *out, struct sb *errors)
{
    memset(out, 0, sizeof *out);
    FILE *f = !strcmp(path, "-") ? stdin : fopen(path, "r");
    if (!f) {
        sb_printf(errors, "%s: %s\n", path, strerror(errno));
        return CL_EIO;
    }
    int rc = trace_load_file(f, path, out, errors);
    if (f != stdin)
        fclose(f);
    return rc;
}

int trace_load_file(FILE *f, const char *path, struct trace *out, struct sb *errors)
{
    memset(out, 0, sizeof *out);
    char *buf = NULL;
    size_t cap = 0, lineno = 0, shown = 0, alloc = 0;
    ssize_t len;
    while ((len = getline(&buf, &cap, f)) >= 0) {
        lineno++;
        while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
            buf[--len] = 0;
        if (len == 0)
            continue;
        if ((size_t)len > TRACE_MAX_LINE) {
            refuse(errors, &shown, path, lineno, "line longer than 1 MiB");
            out->bad++;
            continue;
        }
        if (memchr(buf, 0, (size_t)len)) {
            refuse(errors, &shown, path, lineno, "NUL byte in line");
            out->bad++;
            continue;
        }
        json_error_t je;
        json_t *ev = json_loadb(buf, (size_t)len, 0, &je);
        if (!ev) {
            char why[256];
            snprintf(why, sizeof why, "column %d: %s", je.column, je.text);
            refuse(errors, &shown, path, lineno, why);
            out->bad++;
            continue;
        }
        if (!json_is_object(ev) || !json_is_string(json_object_get(ev, "ev"))) {
            refuse(errors, &shown, path, lineno,
                   json_is_object(ev) ? "no \"ev\" field (a string) in the event"
                                      : "not a JSON object");
            json_decref(ev);
            out->bad++;
            continue;
        }
        if (out->n == alloc) {
            alloc = alloc ? alloc * 2 : 1024;
            out->ev = xrealloc(out->ev, alloc * sizeof *out->ev);
        }
        out->ev[out->n++] = ev;
    }
    bool failed = ferror(f);
    free(buf);
    if (shown > 20)
        sb_printf(errors, "%s: %zu more bad lines\n", path, shown - 20);
    if (failed) {
        sb_printf(errors, "%s: read error\n", path);
        return CL_EIO;
    }
    return 0;
}

void trace_free(struct trace *t)
{
    for (size_t i = 0; i < t->n; i++)
        json_decref(t->ev[i]);
    free(t->ev);
    memset(t, 0, sizeof *t);
}

int trace_write(FILE *f, const json_t *ev)
{
    if (json_dumpf(ev, f, JSON_COMPACT) < 0 || fputc('\n', f) == EOF)
        return CL_EIO;
    return 0;
}

int trace_save(const char *path, json_t *const *events, size_t n, struct sb *err)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        sb_printf(err, "%s: %s", path, strerror(errno));
        return CL_EIO;
    }
    for (size_t i = 0; i < n; i++)
        if (events[i] && trace_write(f, events[i])) {
            sb_printf(err, "%s: write failed: %s", path, strerror(errno));
            fclose(f);
            return CL_EIO;
        }
    if (fclose(f)) {
        sb_printf(err, "%s: %s", path, strerror(errno));
        return CL_EIO;
    }
    return 0;
}
