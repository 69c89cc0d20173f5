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
    json_t *diverged;   /* key → time (µs) its replicas first held concurrent states */
    json_t *note;       /* the `converged` fact the last feed found, or NULL */
    int nodes;          /* the cluster's size (its `cluster` event), 0 until known */
};

struct crdtmon *crdtmon_new(void)
{
    struct crdtmon *m = xcalloc(1, sizeof *m);
    m->keys = json_object();
    m->told = json_object();
    m->updates = json_object();
    m->reads = json_object();
    m->diverged = json_object();
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
    json_decref(m->diverged);
    json_decref(m->note);
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

const json_t *crdtmon_note(const struct crdtmon *m)
{
    return m->note;
}

/* ---- causal contexts as the digest events write them: "n1:3,n2:1+n3:5" ---------------------- */

/* The counter of node in the base part of a context text (0 when absent). */
static uint64_t ctx_base(const char *ctx, const char *node, size_t nl)
{
    for (const char *p = ctx; p && *p && *p != '+';) {
        const char *colon = strchr(p, ':');
        if (!colon)
            break;
        if ((size_t)(colon - p) == nl && !strncmp(p, node, nl))
            return strtoull(colon + 1, NULL, 10);
        p = strpbrk(colon, ",+");
        if (p && *p == ',')
            p++;
    }
    return 0;
}

/* Is the dot (node, ctr) one of the extra dots ("+n3:5") of a context text? */
static int ctx_extra(const char *ctx, const char *node, size_t nl, uint64_t ctr)
{
    for (const char *p = strchr(ctx, '+'); p; p = strchr(p + 1, '+')) {
        const char *colon = strchr(p, ':');
        if (colon && (size_t)(colon - p - 1) == nl && !strncmp(p + 1, node, nl) && strtoull(colon + 1, NULL, 10) == ctr)
            return 1;
    }
    return 0;
}

/* Does context a hold only dots that b holds (a ⊑ b)? A gap of more than 64 dots between the
 * bases is judged "not included" without looking at each (then the states are told apart by
 * the other direction anyway, or the key is marked diverged a little early). */
static int ctx_leq(const char *a, const char *b)
{
    int in_base = 1;
    for (const char *p = a; p && *p;) {
        if (*p == '+') {
            in_base = 0;
            p++;
        } else if (*p == ',') {
            p++;
        }
        const char *colon = strchr(p, ':');
        if (!colon)
            break;
        size_t nl = (size_t)(colon - p);
        uint64_t v = strtoull(colon + 1, NULL, 10), bb = ctx_base(b, p, nl);
        if (in_base) {
            if (v > bb) {
                if (v - bb > 64)
                    return 0;
                for (uint64_t c = bb + 1; c <= v; c++)
                    if (!ctx_extra(b, p, nl, c))
                        return 0;
            }
        } else if (v > bb && !ctx_extra(b, p, nl, v)) {
            return 0;
        }
        p = strpbrk(colon, ",+");
    }
    return 1;
}

/* After node's digest of key: the key diverges when two replicas hold concurrent states (each
 * has updates the other lacks); it converges again when every replica that reported on it
 * holds the same context and value. That moment is the monitor's note (a `converged` event the
 * lab shows on the dashboard). */
static void convergence(struct crdtmon *m, const char *key, const json_t *per, const char *node, uint64_t t)
{
    const json_t *mine = json_object_get(per, node);
    const char *ctx = json_string_value(json_array_get(mine, 0)), *hash = json_string_value(json_array_get(mine, 1));
    json_t *since = json_object_get(m->diverged, key);
    const char *k;
    json_t *d;
    if (!since) {
        json_object_foreach((json_t *)per, k, d) {
            const char *oc = json_string_value(json_array_get(d, 0));
            if (strcmp(k, node) && oc && strcmp(oc, ctx) && !ctx_leq(oc, ctx) && !ctx_leq(ctx, oc)) {
                json_object_set_new(m->diverged, key, json_integer((json_int_t)t));
                return;
            }
        }
        return;
    }
    if ((int)json_object_size(per) < m->nodes)
        return; /* a replica has not reported on the key yet */
    json_object_foreach((json_t *)per, k, d)
        if (strcmp(json_string_value(json_array_get(d, 0)), ctx) || strcmp(json_string_value(json_array_get(d, 1)), hash))
            return;
    uint64_t t0 = (uint64_t)json_integer_value(since);
    m->note = json_pack("{s:s,s:s,s:I,s:s,s:I,s:O?}", "ev", "converged", "key", key, "replicas",
                        (json_int_t)json_object_size(per), "ctx", ctx, "after_ms", (json_int_t)((t > t0 ? t - t0 : 0) / 1000),
                        "value", json_array_get(mine, 3));
    json_object_del(m->diverged, key);
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
    json_decref(m->note);
    m->note = NULL;
    if (event_decode(ev, &e, err, sizeof err) < 0)
        return 0;
    if (e.kind == EV_CLUSTER && json_is_array(e.cluster.nodes))
        m->nodes = (int)json_array_size(e.cluster.nodes);
    if (!e.node)
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
    if (!found)
        convergence(m, key, per, e.node, e.has_t ? e.t : 0);
    return found;
}

static void *mon_create(void) { return crdtmon_new(); }
static int mon_feed(void *m, const json_t *ev, struct sb *alert) { return crdtmon_feed(m, ev, alert); }
static int mon_violations(const void *m) { return crdtmon_violations(m); }
static const json_t *mon_last(const void *m) { return crdtmon_last(m); }
static const json_t *mon_note(const void *m) { return crdtmon_note(m); }
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
    .note = mon_note,
};
