/* mutex — see mutex.h. The records become critical sections (acquire .. release per client
 * and lock); overlaps are found pairwise per lock in acquire order, stale writes by walking
 * each resource's accepted writes in time order with the highest token so far. */
#include "mutex.h"

#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>

struct mutex_hist *mutex_hist_new(void)
{
    return xcalloc(1, sizeof(struct mutex_hist));
}

void mutex_hist_free(struct mutex_hist **hp)
{
    if (!hp || !*hp)
        return;
    struct mutex_hist *h = *hp;
    for (size_t i = 0; i < h->n; i++) {
        struct mutex_rec *r = &h->r[i];
        free(r->client);
        free(r->lock);
        free(r->why);
        free(r->resource);
        free(r->value);
        free(r->node);
    }
    free(h->r);
    free(h);
    *hp = NULL;
}

static int get_str(const json_t *rec, const char *k, int need, char **out, char *err, size_t errlen)
{
    const json_t *v = json_object_get(rec, k);
    *out = NULL;
    if (!v || json_is_null(v)) {
        if (need) {
            snprintf(err, errlen, "a mutex record needs \"%s\" (a string)", k);
            return CL_EINVAL;
        }
        return 0;
    }
    if (!json_is_string(v) || (need && !*json_string_value(v)) || json_string_length(v) > 4096) {
        snprintf(err, errlen, "\"%s\" must be a %sstring of at most 4096 bytes", k, need ? "non-empty " : "");
        return CL_EINVAL;
    }
    *out = xstrdup(json_string_value(v));
    return 0;
}

static int get_int(const json_t *rec, const char *k, int need, int64_t *out, char *err, size_t errlen)
{
    const json_t *v = json_object_get(rec, k);
    *out = 0;
    if (!v) {
        if (need) {
            snprintf(err, errlen, "a mutex record needs \"%s\" (a whole number)", k);
            return CL_EINVAL;
        }
        return 0;
    }
    if (!json_is_integer(v) || json_integer_value(v) < 0) {
        snprintf(err, errlen, "\"%s\" must be a whole number >= 0", k);
        return CL_EINVAL;
    }
    *out = json_integer_value(v);
    return 0;
}

static int get_bool(const json_t *rec, const char *k, int *out, char *err, size_t errlen)
{
    const json_t *v = json_object_get(rec, k);
    if (!v || !json_is_boolean(v)) {
        snprintf(err, errlen, "a write record needs \"%s\" (true or false)", k);
        return CL_EINVAL;
    }
    *out = json_is_true(v);
    return 0;
}

int mutex_hist_add(struct mutex_hist *h, const json_t *rec, int line, char *err, size_t errlen)
{
    if (!json_is_object(rec)) {
        snprintf(err, errlen, "a record must be a JSON object");
        return CL_EINVAL;
    }
    const char *ev = json_string_value(json_object_get(rec, "ev"));
    if (ev && !strcmp(ev, "fault")) {
        /* a node went down: the sections of the clients it hosted end (see mutex.h) */
        const char *what = json_string_value(json_object_get(rec, "what"));
        const char *node = json_string_value(json_object_get(rec, "node"));
        const json_t *t = json_object_get(rec, "t");
        if (!what || (strcmp(what, "crash") && strcmp(what, "stonith") && strcmp(what, "exit")) || !node ||
            strlen(node) > 64 || !json_is_integer(t) || json_integer_value(t) < 0)
            return 0;
        if (h->n >= MUTEX_MAX_RECORDS) {
            snprintf(err, errlen, "more than %d mutex records", MUTEX_MAX_RECORDS);
            return CL_EINVAL;
        }
        if (h->n == h->cap) {
            h->cap = h->cap ? 2 * h->cap : 64;
            h->r = xrealloc(h->r, h->cap * sizeof *h->r);
        }
        h->r[h->n++] = (struct mutex_rec){.op = MX_DOWN, .t = json_integer_value(t), .node = xstrdup(node),
                                          .line = line};
        return 1;
    }
    if (!ev || strcmp(ev, "mutex"))
        return 0;
    if (h->n >= MUTEX_MAX_RECORDS) {
        snprintf(err, errlen, "more than %d mutex records", MUTEX_MAX_RECORDS);
        return CL_EINVAL;
    }
    const char *op = json_string_value(json_object_get(rec, "op"));
    struct mutex_rec r = {.line = line};
    if (!op || (strcmp(op, "acquire") && strcmp(op, "release") && strcmp(op, "write"))) {
        snprintf(err, errlen, "\"op\" must be acquire, release or write");
        return CL_EINVAL;
    }
    r.op = !strcmp(op, "acquire") ? MX_ACQUIRE : !strcmp(op, "release") ? MX_RELEASE : MX_WRITE;
    int64_t tok = 0;
    if (get_int(rec, "t", 1, &r.t, err, errlen) < 0 || get_str(rec, "client", 1, &r.client, err, errlen) < 0 ||
        get_str(rec, "lock", r.op != MX_WRITE, &r.lock, err, errlen) < 0 ||
        get_int(rec, "token", r.op == MX_ACQUIRE, &tok, err, errlen) < 0)
        goto bad;
    r.token = (uint64_t)tok;
    if (r.op == MX_RELEASE && get_str(rec, "why", 0, &r.why, err, errlen) < 0)
        goto bad;
    if (get_str(rec, "node", 0, &r.node, err, errlen) < 0)
        goto bad;
    if (r.op == MX_WRITE && (get_str(rec, "resource", 1, &r.resource, err, errlen) < 0 ||
                             get_str(rec, "value", 0, &r.value, err, errlen) < 0 ||
                             get_bool(rec, "accepted", &r.accepted, err, errlen) < 0 ||
                             get_bool(rec, "fencing", &r.fencing, err, errlen) < 0))
        goto bad;
    if (h->n == h->cap) {
        h->cap = h->cap ? 2 * h->cap : 64;
        h->r = xrealloc(h->r, h->cap * sizeof *h->r);
    }
    h->r[h->n++] = r;
    return 1;
bad:
    free(r.client);
    free(r.lock);
    free(r.why);
    free(r.resource);
    free(r.value);
    free(r.node);
    return CL_EINVAL;
}

int mutex_parse(const char *buf, size_t len, struct mutex_hist **out, char *err, size_t errlen)
{
    *out = NULL;
    struct mutex_hist *h = mutex_hist_new();
    int line = 0;
    size_t at = 0;
    while (at < len) {
        const char *s = buf + at;
        const char *nl = memchr(s, '\n', len - at);
        size_t n = nl ? (size_t)(nl - s) : len - at;
        at += n + (nl ? 1 : 0);
        line++;
        size_t k = 0;
        while (k < n && (s[k] == ' ' || s[k] == '\t' || s[k] == '\r'))
            k++;
        if (k == n)
            continue;
        json_error_t je;
        json_t *j = json_loadb(s, n, JSON_REJECT_DUPLICATES, &je);
        char why[300];
        int rc;
        if (!j) {
            snprintf(why, sizeof why, "not JSON (%s)", je.text);
            rc = CL_EINVAL;
        } else {
            rc = mutex_hist_add(h, j, line, why, sizeof why);
        }
        json_decref(j);
        if (rc < 0) {
            snprintf(err, errlen, "line %d: %s", line, why);
            mutex_hist_free(&h);
            return CL_EINVAL;
        }
    }
    *out = h;
    return 0;
}

/* ---- the judgement ---------------------------------------------------------------------------- */

struct section {
    const char *client, *lock, *why, *node;
    uint64_t token;
    int64_t t0, t1;         /* t1 INT64_MAX: never ended */
    int line;
};

static const struct mutex_hist *sort_h;

static int by_time(const void *a, const void *b)
{
    const struct mutex_rec *x = &sort_h->r[*(const size_t *)a], *y = &sort_h->r[*(const size_t *)b];
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

static int sec_by_start(const void *a, const void *b)
{
    const struct section *x = a, *y = b;
    int c = strcmp(x->lock, y->lock);
    if (c)
        return c;
    if (x->t0 != y->t0)
        return x->t0 < y->t0 ? -1 : 1;
    return x->line < y->line ? -1 : x->line > y->line;
}

static void when(int64_t t, struct sb *out)
{
    sb_printf(out, "%.2fs", (double)t / 1e6);
}

static int lock_fenced(const struct mutex_hist *h, const char *lock)
{
    for (size_t i = 0; i < h->n; i++)
        if (h->r[i].op == MX_WRITE && h->r[i].fencing && h->r[i].lock && !strcmp(h->r[i].lock, lock))
            return 1;
    return 0;
}

int mutex_check(const struct mutex_hist *h, struct sb *out)
{
    size_t *ord = xcalloc(h->n + 1, sizeof *ord);
    for (size_t i = 0; i < h->n; i++)
        ord[i] = i;
    sort_h = h;
    qsort(ord, h->n, sizeof *ord, by_time);
    struct section *sec = xcalloc(h->n + 1, sizeof *sec);
    size_t ns = 0, nlocks = 0, writes = 0, refused = 0;
    json_t *open_at = json_object(), *locks = json_object(); /* "client\x1flock" -> open section */
    for (size_t k = 0; k < h->n; k++) {
        const struct mutex_rec *r = &h->r[ord[k]];
        if (r->op == MX_WRITE) {
            writes++;
            refused += !r->accepted;
            continue;
        }
        if (r->op == MX_DOWN) {
            const char *key;
            json_t *v;
            void *tmp;
            json_object_foreach_safe(open_at, tmp, key, v) {
                struct section *s = &sec[json_integer_value(v)];
                if (s->node && !strcmp(s->node, r->node)) {
                    s->t1 = r->t;
                    s->why = "its node went down";
                    json_object_del(open_at, key);
                }
            }
            continue;
        }
        char *ck = xasprintf("%s\x1f%s", r->client, r->lock);
        json_t *oi = json_object_get(open_at, ck);
        struct section *open = oi ? &sec[json_integer_value(oi)] : NULL;
        if (open) {
            json_object_del(open_at, ck);
            open->t1 = r->t;
            open->why = r->op == MX_RELEASE ? (r->why ? r->why : "released") : "acquired again";
        }
        if (r->op == MX_ACQUIRE) {
            if (!json_object_get(locks, r->lock)) {
                json_object_set_new(locks, r->lock, json_true());
                nlocks++;
            }
            json_object_set_new(open_at, ck, json_integer((json_int_t)ns));
            sec[ns++] = (struct section){r->client, r->lock, NULL, r->node, r->token, r->t, INT64_MAX, r->line};
        }
        free(ck);
    }
    json_decref(open_at);
    json_decref(locks);
    qsort(sec, ns, sizeof *sec, sec_by_start);
    struct sb bad = {0}, note = {0};
    int overlaps = 0, fenced_overlaps = 0, stale = 0;
    for (size_t i = 0; i < ns; i++) {
        for (size_t j = i + 1; j < ns && !strcmp(sec[j].lock, sec[i].lock); j++) {
            if (sec[j].t0 >= sec[i].t1 || !strcmp(sec[i].client, sec[j].client))
                continue;
            int fenced = lock_fenced(h, sec[i].lock);
            int64_t end = sec[i].t1 < sec[j].t1 ? sec[i].t1 : sec[j].t1;
            struct sb *to = fenced ? &note : &bad;
            if (fenced ? fenced_overlaps++ >= 5 : overlaps++ >= 5)
                continue;
            sb_printf(to, "\n  %s: %s (token %llu, since ", fenced ? "overlap, fenced" : "OVERLAP", sec[i].client,
                      (unsigned long long)sec[i].token);
            when(sec[i].t0, to);
            sb_printf(to, ") and %s (token %llu) both held %s from ", sec[j].client, (unsigned long long)sec[j].token,
                      sec[i].lock);
            when(sec[j].t0, to);
            if (end == INT64_MAX) {
                sb_add(to, " to the end of the history");
            } else {
                sb_add(to, " to ");
                when(end, to);
            }
            if (sec[i].t1 != INT64_MAX && sec[i].why)
                sb_printf(to, " (%s's section ended: %s)", sec[i].client, sec[i].why);
            sb_add(to, fenced ? "; the storage fences tokens, so the older holder's writes are judged by their token"
                              : "; nothing fenced the storage");
        }
    }
    /* stale tokens: per resource, accepted writes in time order, the highest so far */
    json_t *best = json_object(); /* resource -> [highest token, its record] */
    for (size_t k = 0; k < h->n; k++) {
        const struct mutex_rec *w = &h->r[ord[k]];
        if (w->op != MX_WRITE || !w->accepted)
            continue;
        json_t *hi = json_object_get(best, w->resource);
        uint64_t highest = hi ? (uint64_t)json_integer_value(json_array_get(hi, 0)) : 0;
        const struct mutex_rec *by = hi ? &h->r[json_integer_value(json_array_get(hi, 1))] : NULL;
        if (!hi || w->token > highest)
            json_object_set_new(best, w->resource, json_pack("[I,I]", (json_int_t)w->token, (json_int_t)ord[k]));
        if (by && w->token < highest && stale++ < 5) {
            sb_printf(&bad, "\n  STALE TOKEN: the storage accepted %s's write %s=%s with token %llu at ", w->client,
                      w->resource, w->value ? w->value : "nil", (unsigned long long)w->token);
            when(w->t, &bad);
            sb_printf(&bad, " after it had accepted token %llu from %s: two writers%s", (unsigned long long)highest,
                      by->client, w->fencing ? " (the fence let it through)" : " (fencing off)");
        }
    }
    json_decref(best);
    int rc = overlaps || stale ? 1 : 0;
    if (!ns && !writes) {
        sb_add(out, "mutex: nothing to judge (no lock was acquired and no storage write recorded in this run)");
    } else if (rc) {
        sb_printf(out, "mutex VIOLATED: %d overlapping critical section%s, %d write%s accepted with a stale token "
                       "(%zu sections of %zu lock%s, %zu writes, %zu refused)",
                  overlaps, overlaps == 1 ? "" : "s", stale, stale == 1 ? "" : "s", ns, nlocks, nlocks == 1 ? "" : "s",
                  writes, refused);
        sb_add(out, bad.s);
        if (note.s)
            sb_add(out, note.s);
    } else {
        sb_printf(out, "mutex holds: %zu critical section%s of %zu lock%s", ns, ns == 1 ? "" : "s", nlocks,
                  nlocks == 1 ? "" : "s");
        if (fenced_overlaps)
            sb_printf(out, ", %d overlap%s fenced", fenced_overlaps, fenced_overlaps == 1 ? "" : "s");
        else
            sb_add(out, ", no two overlap");
        sb_printf(out, "; %zu write%s (%zu refused by fencing), none accepted with a stale token", writes,
                  writes == 1 ? "" : "s", refused);
        if (note.s)
            sb_add(out, note.s);
    }
    sb_free(&bad);
    sb_free(&note);
    free(sec);
    free(ord);
    return rc;
}

int mutex_cli(const char *path, struct sb *out, struct sb *errout)
{
    FILE *fp = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    if (!fp) {
        sb_printf(errout, "conlab check: %s: cannot open: %s\n", path, strerror(errno));
        return 2;
    }
    struct sb buf = {0};
    char chunk[65536];
    size_t n;
    int toobig = 0;
    while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0) {
        sb_addn(&buf, chunk, n);
        if (buf.len > (256u << 20)) {
            toobig = 1;
            break;
        }
    }
    if (fp != stdin)
        fclose(fp);
    if (toobig) {
        sb_printf(errout, "conlab check: %s: larger than 256 MiB\n", path);
        sb_free(&buf);
        return 2;
    }
    struct mutex_hist *h = NULL;
    char err[400];
    if (mutex_parse(buf.s ? buf.s : "", buf.len, &h, err, sizeof err) < 0) {
        sb_printf(errout, "conlab check: %s: %s\n", path, err);
        sb_free(&buf);
        return 2;
    }
    sb_free(&buf);
    int rc = mutex_check(h, out);
    sb_add(out, "\n");
    mutex_hist_free(&h);
    return rc;
}
