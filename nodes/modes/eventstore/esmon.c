/* esmon — the eventstore mode's live invariant monitor (mode.h's struct mode_monitor), fed every
 * event of a run. From events alone it proves:
 *
 *  - UniqueVersion: no two events at one stream version (`committed` stream/v on any node).
 *  - OnePerPosition: every node holds the same event at a log position (`committed` pos).
 *  - OptimisticConcurrency: an event appended expecting version N has version N+1 (`appended`).
 *  - Durability: a node comes back from a restart (`recovered` pos) holding every position it
 *    committed before.
 *  - SnapshotIsFold: a snapshot (`snapshotted` digest) equals the fold of its stream's events
 *    up to its version.
 *  - ProjectionIsReplay: a projection at position P (`projected` digest) equals a replay of the
 *    committed events at positions 1..P.
 *
 * Pure: jansson and libc only. Each alert ends with the events that prove it ("(events n1#14,
 * n2#30)"), as every monitor's do.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "es.h"

struct esmon {
    json_t *pos;            /* "P" -> {"stream","v","type","data","dg","where"} */
    json_t *vers;           /* "STREAM vN" -> "P" */
    json_t *streams;        /* stream -> [P, …] */
    json_t *high;           /* node -> the highest position it committed ({"p","where"}) */
    json_t *proj;           /* node -> {"pos","proj","lost"} */
    int violations;
    json_t *last;
    json_t *named;          /* invariant name -> {"n":count,"first":text} */
};

static void *mon_create(void)
{
    struct esmon *m = xcalloc(1, sizeof *m);
    m->pos = json_object();
    m->vers = json_object();
    m->streams = json_object();
    m->high = json_object();
    m->proj = json_object();
    m->named = json_object();
    return m;
}

static int violation(struct esmon *m, struct sb *alert, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int violation(struct esmon *m, struct sb *alert, const char *fmt, ...)
{
    m->violations++;
    struct sb text = {0};
    va_list ap;
    va_start(ap, fmt);
    sb_vprintf(&text, fmt, ap);
    va_end(ap);
    json_decref(m->last);
    const char *colon = strchr(text.s, ':');
    m->last = json_pack("{s:s,s:s%,s:s}", "ev", "invariant", "name", text.s, (size_t)(colon ? colon - text.s : 0), "text",
                        text.s);
    sb_add(alert, text.s);
    char name[40];
    snprintf(name, sizeof name, "%.*s", colon ? (int)(colon - text.s) : 0, text.s);
    json_t *nm = json_object_get(m->named, name);
    if (!nm)
        json_object_set_new(m->named, name, json_pack("{s:i,s:s}", "n", 1, "first", text.s));
    else
        json_object_set_new(nm, "n", json_integer(json_integer_value(json_object_get(nm, "n")) + 1));
    sb_free(&text);
    return 1;
}

static const char *jstr(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static json_int_t jint(const json_t *o, const char *k)
{
    return json_integer_value(json_object_get(o, k));
}

static int on_committed(struct esmon *m, const json_t *ev, const char *node, const char *where, struct sb *alert)
{
    const char *stream = jstr(ev, "stream"), *type = jstr(ev, "type");
    json_int_t v = jint(ev, "v"), p = jint(ev, "pos");
    const json_t *data = json_object_get(ev, "data");
    if (!stream || !type || v < 1 || p < 1)
        return 0;
    json_t *h = json_object_get(m->high, node);
    if (!h || jint(h, "p") < p)
        json_object_set_new(m->high, node, json_pack("{s:I,s:s}", "p", p, "where", where));
    char dg[17], pk[24], vk[96];
    json_t *td = json_pack("{s:s,s:O}", "t", type, "d", data ? data : json_null());
    es_digest(td, dg);
    json_decref(td);
    snprintf(pk, sizeof pk, "%lld", (long long)p);
    snprintf(vk, sizeof vk, "%s v%lld", stream, (long long)v);
    const json_t *had = json_object_get(m->pos, pk);
    if (had) {
        if (strcmp(jstr(had, "stream"), stream) || jint(had, "v") != v || strcmp(jstr(had, "dg"), dg))
            return violation(m, alert,
                             "OnePerPosition: position %lld holds %s v%lld %s on %.16s and %s v%lld %s on %s (events %s, %s)",
                             (long long)p, jstr(had, "stream"), (long long)jint(had, "v"), jstr(had, "type"),
                             jstr(had, "where"), stream, (long long)v, type, node, jstr(had, "where"), where);
        return 0;
    }
    json_object_set_new(m->pos, pk, json_pack("{s:s,s:I,s:s,s:O,s:s,s:s}", "stream", stream, "v", v, "type", type, "data",
                                              data ? data : json_null(), "dg", dg, "where", where));
    json_t *list = json_object_get(m->streams, stream);
    if (!list) {
        list = json_array();
        json_object_set_new(m->streams, stream, list);
    }
    json_array_append_new(list, json_integer(p));
    const char *other = jstr(m->vers, vk);
    if (other && strcmp(other, pk)) {
        const json_t *o = json_object_get(m->pos, other);
        return violation(m, alert, "UniqueVersion: %s v%lld is both %s at position %s and %s at position %s (events %s, %s)",
                         stream, (long long)v, jstr(o, "type"), other, type, pk, jstr(o, "where"), where);
    }
    if (!other)
        json_object_set_new(m->vers, vk, json_string(pk));
    return 0;
}

/* The fold of stream's known events at positions <= upto; NULL when one is missing. */
static json_t *fold_stream(struct esmon *m, const char *stream, json_int_t upto, json_int_t want_v)
{
    const json_t *list = json_object_get(m->streams, stream);
    size_t n = json_array_size(list), k = 0;
    json_int_t *ps = xcalloc(n ? n : 1, sizeof *ps);
    for (size_t i = 0; i < n; i++)
        if (json_integer_value(json_array_get(list, i)) <= upto)
            ps[k++] = json_integer_value(json_array_get(list, i));
    for (size_t i = 1; i < k; i++) /* insertion sort: nodes report in different orders */
        for (size_t j = i; j > 0 && ps[j - 1] > ps[j]; j--) {
            json_int_t t = ps[j];
            ps[j] = ps[j - 1];
            ps[j - 1] = t;
        }
    json_t *state = NULL;
    if ((json_int_t)k == want_v) {
        state = json_object();
        for (size_t i = 0; i < k; i++) {
            char pk[24];
            snprintf(pk, sizeof pk, "%lld", (long long)ps[i]);
            const json_t *e = json_object_get(m->pos, pk);
            if (jint(e, "v") != (json_int_t)(i + 1)) {
                json_decref(state);
                state = NULL;
                break;
            }
            es_fold(state, jstr(e, "type"), (uint64_t)jint(e, "v"), json_object_get(e, "data"));
        }
    }
    free(ps);
    return state;
}

static int on_snapshot(struct esmon *m, const json_t *ev, const char *node, const char *where, struct sb *alert)
{
    const char *stream = jstr(ev, "stream"), *dg = jstr(ev, "digest");
    if (!stream || !dg)
        return 0;
    json_t *state = fold_stream(m, stream, jint(ev, "pos"), jint(ev, "v"));
    if (!state)
        return 0; /* events this monitor did not see: cannot judge */
    char mine[17];
    es_digest(state, mine);
    json_decref(state);
    if (strcmp(mine, dg))
        return violation(m, alert,
                         "SnapshotIsFold: %s's snapshot of %s at v%lld differs from the fold of its %lld events (events %s)",
                         node, stream, (long long)jint(ev, "v"), (long long)jint(ev, "v"), where);
    return 0;
}

static int on_projected(struct esmon *m, const json_t *ev, const char *node, const char *where, struct sb *alert)
{
    const char *dg = jstr(ev, "digest");
    json_int_t p = jint(ev, "pos"), from = jint(ev, "from");
    if (!dg)
        return 0;
    json_t *st = json_object_get(m->proj, node);
    if (!st || from == 0) {
        st = json_pack("{s:i,s:{},s:b}", "pos", 0, "proj", "lost", 0);
        json_object_set_new(m->proj, node, st);
    }
    if (!strcmp(dg, "rebuild") || json_is_true(json_object_get(st, "lost")))
        return 0;
    if (jint(st, "pos") != from) {
        json_object_set_new(st, "lost", json_true()); /* events missed: wait for a rebuild */
        return 0;
    }
    json_t *proj = json_object_get(st, "proj");
    for (json_int_t q = from + 1; q <= p; q++) {
        char pk[24];
        snprintf(pk, sizeof pk, "%lld", (long long)q);
        const json_t *e = json_object_get(m->pos, pk);
        if (!e) {
            json_object_set_new(st, "lost", json_true());
            return 0;
        }
        es_project(proj, jstr(e, "stream"), jstr(e, "type"));
    }
    json_object_set_new(st, "pos", json_integer(p));
    char mine[17];
    es_digest(proj, mine);
    if (strcmp(mine, dg)) {
        json_object_set_new(st, "lost", json_true()); /* one alert until a rebuild */
        return violation(m, alert,
                         "ProjectionIsReplay: %s's projection at position %lld differs from a replay of positions 1-%lld "
                         "(events %s)",
                         node, (long long)p, (long long)p, where);
    }
    return 0;
}

static int mon_feed(void *vm, const json_t *ev, struct sb *alert)
{
    struct esmon *m = vm;
    const char *name = jstr(ev, "ev"), *node = jstr(ev, "node");
    if (!name || !node)
        return 0;
    char where[64];
    snprintf(where, sizeof where, "%.16s#%lld", node, (long long)jint(ev, "seq"));
    if (!strcmp(name, "committed"))
        return on_committed(m, ev, node, where, alert);
    if (!strcmp(name, "snapshotted"))
        return on_snapshot(m, ev, node, where, alert);
    if (!strcmp(name, "projected"))
        return on_projected(m, ev, node, where, alert);
    if (!strcmp(name, "appended")) {
        json_int_t x = jint(ev, "expected"), v = jint(ev, "v");
        if (json_is_integer(json_object_get(ev, "expected")) && x >= 0 && v != x + 1)
            return violation(m, alert, "OptimisticConcurrency: %s appended %s v%lld for a writer that expected v%lld (events %s)",
                             node, jstr(ev, "stream") ? jstr(ev, "stream") : "?", (long long)v, (long long)x, where);
        return 0;
    }
    if (!strcmp(name, "recovered")) {
        json_t *h = json_object_get(m->high, node);
        json_int_t p = jint(ev, "pos");
        json_object_del(m->proj, node); /* a restarted node's projection starts again */
        if (h && jint(h, "p") > p) {
            struct sb t = {0};
            sb_printf(&t, "%s", jstr(h, "where"));
            json_int_t had = jint(h, "p");
            json_object_set_new(m->high, node, json_pack("{s:I,s:s}", "p", p, "where", where));
            int r = violation(m, alert,
                              "Durability: %s committed position %lld and came back from a restart holding %lld (events %s, %s)",
                              node, (long long)had, (long long)p, t.s, where);
            sb_free(&t);
            return r;
        }
    }
    return 0;
}

static int mon_violations(const void *vm) { return ((const struct esmon *)vm)->violations; }
static const json_t *mon_last(const void *vm) { return ((const struct esmon *)vm)->last; }
static void mon_destroy(void *vm)
{
    struct esmon *m = vm;
    if (!m)
        return;
    json_decref(m->pos);
    json_decref(m->vers);
    json_decref(m->streams);
    json_decref(m->high);
    json_decref(m->proj);
    json_decref(m->last);
    json_decref(m->named);
    free(m);
}

/* `check eventstore`: the monitor's verdict so far, invariant by invariant. */
int es_check_run(const void *vm, const json_t *const *status, int n, struct sb *out)
{
    const struct esmon *m = vm;
    (void)status;
    (void)n;
    if (!m) {
        sb_add(out, "no monitor ran in this lab");
        return 2;
    }
    if (!m->violations) {
        sb_printf(out, "the event store held: %zu events committed, each stream version held by one event, every snapshot "
                       "the fold of its stream, every projection a replay of the log",
                  json_object_size(m->pos));
        return json_object_size(m->pos) ? 0 : 2;
    }
    sb_printf(out, "the event store broke %d time%s:", m->violations, m->violations == 1 ? "" : "s");
    const char *k;
    json_t *v;
    json_object_foreach(m->named, k, v)
        sb_printf(out, "\n  %s x%lld, first: %s", k, (long long)json_integer_value(json_object_get(v, "n")),
                  json_string_value(json_object_get(v, "first")));
    return 1;
}

const struct mode_monitor es_monitor = {
    .create = mon_create, .feed = mon_feed, .violations = mon_violations, .last = mon_last, .destroy = mon_destroy,
};
