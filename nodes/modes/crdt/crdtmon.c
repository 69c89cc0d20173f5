/* crdtmon — see crdtmon.h. */
#include "crdtmon.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"

struct crdtmon {
    json_t *keys;       /* key → {node → [ctx, hash, seq, value]} */
    json_t *told;       /* keys whose divergence was reported (once per key: no flood) */
    json_t *updates;    /* key → [every acknowledged update, as its event plus "seq"] */
    json_t *reads;      /* key → [{node, seq, value}] of counter reads */
    int violations;
    json_t *last;
};

struct crdtmon *crdtmon_new(void)
{
    struct crdtmon *m = xcalloc(1, sizeof *m);
    m->keys = json_object();
    m->told = json_object();
    m->updates = json_object();
    m->reads = json_object();
    return m;
}

void crdtmon_destroy(struct crdtmon **pm)
{
    struct crdtmon *m = pm ? *pm : NULL;
    if (!m)
        return;
    json_decref(m->keys);
    json_decref(m->told);
    json_decref(m->updates);
    json_decref(m->reads);
    json_decref(m->last);
    free(m);
    *pm = NULL;
}

int crdtmon_violations(const struct crdtmon *m)
{
    return m->violations;
}

const json_t *crdtmon_last(const struct crdtmon *m)
{
    return m->last;
}

const json_t *crdtmon_updates(const struct crdtmon *m)
{
    return m->updates;
}

const json_t *crdtmon_reads(const struct crdtmon *m)
{
    return m->reads;
}

/* Appends a copy of ev (with its node and seq) to list[key]. */
static void record(json_t *lists, const char *key, const json_t *ev)
{
    json_t *l = json_object_get(lists, key);
    if (!l) {
        l = json_array();
        json_object_set_new(lists, key, l);
    }
    json_array_append_new(l, json_deep_copy(ev));
}

static void value_text(struct sb *b, const json_t *v)
{
    if (!v) {
        sb_add(b, "(a large value)");
        return;
    }
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_ENSURE_ASCII);
    if (s && strlen(s) > 80)
        strcpy(s + 77, "...");
    sb_add_escaped(b, s ? s : "", s ? strlen(s) : 0);
    free(s);
}

int crdtmon_feed(struct crdtmon *m, const json_t *ev, struct sb *alert)
{
    struct event e;
    char err[64];
    if (event_decode(ev, &e, err, sizeof err) < 0 || !e.node)
        return 0;
    const char *k = json_string_value(json_object_get(ev, "key"));
    if (k && !strcmp(e.name, "update") && json_is_string(json_object_get(ev, "type"))) {
        record(m->updates, k, ev);
        return 0;
    }
    if (k && !strcmp(e.name, "query") && json_is_integer(json_object_get(ev, "value"))) {
        record(m->reads, k, ev);
        return 0;
    }
    if (strcmp(e.name, "digest"))
        return 0;
    const char *key = json_string_value(json_object_get(ev, "key"));
    const char *ctx = json_string_value(json_object_get(ev, "ctx"));
    const char *hash = json_string_value(json_object_get(ev, "hash"));
    if (!key || !ctx || !hash)
        return 0;
    json_t *per = json_object_get(m->keys, key);
    if (!per) {
        per = json_object();
        json_object_set_new(m->keys, key, per);
    }
    uint64_t seq = e.has_seq ? e.seq : 0;
    const json_t *value = json_object_get(ev, "value");
    int found = 0;
    const char *node;
    json_t *d;
    json_object_foreach(per, node, d) {
        if (found || json_object_get(m->told, key) || !strcmp(node, e.node) || strcmp(json_string_value(json_array_get(d, 0)), ctx) ||
            !strcmp(json_string_value(json_array_get(d, 1)), hash))
            continue;
        struct sb text = {0};
        sb_add(&text, "Convergence: ");
        sb_add(&text, e.node);
        sb_add(&text, " and ");
        sb_add(&text, node);
        sb_add(&text, " have seen the same updates of ");
        sb_add_escaped(&text, key, strlen(key));
        sb_add(&text, " (");
        sb_add_escaped(&text, ctx, strlen(ctx));
        sb_add(&text, ") but hold different values: ");
        value_text(&text, value);
        sb_add(&text, " and ");
        value_text(&text, json_array_get(d, 3));
        sb_printf(&text, " (events %s#%" PRIu64 ", %s#%" PRIu64 ")", e.node, seq, node,
                  (uint64_t)json_integer_value(json_array_get(d, 2)));
        sb_add(alert, text.s);
        json_decref(m->last);
        m->last = json_pack("{s:s,s:s,s:s,s:[I,I],s:[s,s]}", "ev", "invariant", "name", "Convergence", "text", text.s,
                            "events", (json_int_t)seq, json_integer_value(json_array_get(d, 2)), "nodes", e.node, node);
        sb_free(&text);
        m->violations++;
        json_object_set_new(m->told, key, json_true());
        found = 1;
    }
    json_object_set_new(per, e.node, json_pack("[s,s,I,O?]", ctx, hash, (json_int_t)seq, value));
    return found;
}

static void *mon_create(void) { return crdtmon_new(); }
static int mon_feed(void *m, const json_t *ev, struct sb *alert) { return crdtmon_feed(m, ev, alert); }
static int mon_violations(const void *m) { return crdtmon_violations(m); }
static const json_t *mon_last(const void *m) { return crdtmon_last(m); }
static void mon_destroy(void *m)
{
    struct crdtmon *c = m;
    crdtmon_destroy(&c);
}

const struct mode_monitor crdt_monitor = {
    .create = mon_create,
    .feed = mon_feed,
    .violations = mon_violations,
    .last = mon_last,
    .destroy = mon_destroy,
};
