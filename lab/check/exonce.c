/* exonce — see exonce.h. */
#include "exonce.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void exonce_init(struct exonce *x)
{
    x->produced = json_object();
    x->applied = json_object();
    x->dups = 0;
}

void exonce_free(struct exonce *x)
{
    json_decref(x->produced);
    json_decref(x->applied);
    memset(x, 0, sizeof *x);
}

void exonce_feed(struct exonce *x, const json_t *e)
{
    const char *ev = json_string_value(json_object_get(e, "ev"));
    const char *id = json_string_value(json_object_get(e, "id"));
    if (!ev || !id)
        return;
    if (!strcmp(ev, "produced")) {
        const json_t *order = json_object_get(e, "order");
        json_object_set_new(x->produced, id, order ? json_deep_copy(order) : json_null());
    } else if (!strcmp(ev, "consumed")) {
        if (json_is_true(json_object_get(e, "applied")))
            json_object_set_new(x->applied, id, json_integer(json_integer_value(json_object_get(x->applied, id)) + 1));
        else
            x->dups++;
    }
}

int exonce_verdict(const struct exonce *x, struct sb *out)
{
    struct sb bad = {0};
    int lost = 0, twice = 0, invented = 0;
    const char *id;
    json_t *v;
    json_object_foreach(x->produced, id, v) {
        json_int_t n = json_integer_value(json_object_get(x->applied, id));
        if (!n && lost++ < 5)
            sb_printf(&bad, "\n  lost: %s (order %s) was committed and never applied", id,
                      json_string_value(v) ? json_string_value(v) : "?");
        if (n > 1 && twice++ < 5)
            sb_printf(&bad, "\n  applied %lld times: %s", (long long)n, id);
    }
    json_object_foreach(x->applied, id, v)
        if (!json_object_get(x->produced, id) && invented++ < 5)
            sb_printf(&bad, "\n  invented: %s was applied but never produced", id);
    int rc;
    if (!json_object_size(x->produced) && !json_object_size(x->applied)) {
        sb_add(out, "nothing was produced or consumed (no produced or consumed events)");
        rc = 0;
    } else if (!lost && !twice && !invented) {
        sb_printf(out, "exactly once: %zu events produced, each applied once (%ld duplicate deliveries dropped)",
                  json_object_size(x->produced), x->dups);
        rc = 0;
    } else {
        sb_printf(out, "NOT exactly once: %d lost, %d applied more than once, %d invented, of %zu produced%s", lost, twice,
                  invented, json_object_size(x->produced), bad.s ? bad.s : "");
        rc = 1;
    }
    sb_free(&bad);
    return rc;
}

int exonce_file(const char *file, struct sb *out, struct sb *errout)
{
    FILE *f = strcmp(file, "-") ? fopen(file, "r") : stdin;
    if (!f) {
        sb_printf(errout, "conlab check: cannot read %s: %s\n", file, strerror(errno));
        return 2;
    }
    struct exonce x;
    exonce_init(&x);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    long lineno = 0, events = 0;
    int rc = -1;
    while ((n = getline(&line, &cap, f)) >= 0) {
        lineno++;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = 0;
        size_t skip = strspn(line, " \t");
        if (!line[skip])
            continue;
        json_error_t je;
        json_t *j = json_loadb(line + skip, (size_t)n - skip, 0, &je);
        if (!j) {
            sb_printf(errout, "conlab check: %s:%ld:%d: not a JSON line (%s): --exactly-once reads the events of a trace "
                              "(trace FILE) or any JSON lines with produced and consumed events\n",
                      file, lineno, je.column, je.text);
            rc = 2;
            break;
        }
        if (json_is_object(j) && json_object_get(j, "ev"))
            events++;
        exonce_feed(&x, j);
        json_decref(j);
    }
    free(line);
    if (f != stdin)
        fclose(f);
    if (rc < 0) {
        rc = exonce_verdict(&x, out);
        sb_printf(out, " [%ld events read from %s]\n", events, file);
    }
    exonce_free(&x);
    return rc;
}
