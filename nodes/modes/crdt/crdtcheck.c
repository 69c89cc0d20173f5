/* crdtcheck — `check crdt`: the crdt mode's own checker (the face's checks, mode.h). It judges
 * the run so far from what the monitor (crdtmon.c) kept — every acknowledged update (`update`
 * events) and every client read (`query` events) — and the live replicas' statuses:
 *
 *   counters   every read lies within Maelstrom's bound: at least what the reading node had
 *              itself acknowledged plus every decrement elsewhere, at most that plus every
 *              increment elsewhere; a replica that has seen every update holds exactly the sum;
 *   sets       a replica that has seen every update holds exactly: for a gset every added
 *              element; for a 2pset those added and never removed; for an orset each element
 *              with an add whose dot no remove observed (no lost adds, add wins); for a cart
 *              each such item with the sum of its surviving amounts;
 *   registers  lww: the write with the highest (timestamp, node), and each write that lost to
 *              an older-looking one is named (C5's anomaly: allowed by the type, shown);
 *              mv: the values of the writes no other write's version vector dominates;
 *   convergence  replicas that have seen every update agree (implied by the above).
 *
 * A replica that has not yet seen every update of a key (its causal context lacks a dot) is
 * reported and not judged: `wait converged` first. Pure: no environment, no I/O. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crdt.h"
#include "crdtmon.h"
#include "crdtview.h"

/* Does a causal context's text ("n1:3,n2:1+n3:5") include node's dot ctr? */
static int ctx_text_has(const char *ctx, const char *node, uint64_t ctr)
{
    size_t nl = strlen(node);
    const char *p = ctx;
    int in_base = 1;
    while (p && *p) {
        if (*p == '+') {
            in_base = 0;
            p++;
        } else if (*p == ',') {
            p++;
        }
        const char *colon = strchr(p, ':');
        if (!colon)
            break;
        uint64_t v = strtoull(colon + 1, NULL, 10);
        if ((size_t)(colon - p) == nl && !strncmp(p, node, nl) && (in_base ? ctr <= v : ctr == v))
            return 1;
        p = strpbrk(colon, ",+");
    }
    return 0;
}

/* Splits a dot's text "n1:3" into node and counter. */
static int dot_parse(const char *dot, char node[CL_IDLEN], uint64_t *ctr)
{
    const char *colon = dot ? strchr(dot, ':') : NULL;
    if (!colon || colon == dot || (size_t)(colon - dot) >= CL_IDLEN)
        return -1;
    memcpy(node, dot, (size_t)(colon - dot));
    node[colon - dot] = 0;
    *ctr = strtoull(colon + 1, NULL, 10);
    return 0;
}

static int has_dot(const json_t *list, const char *dot)
{
    size_t i;
    json_t *d;
    json_array_foreach(list, i, d)
        if (json_is_string(d) && !strcmp(json_string_value(d), dot))
            return 1;
    return 0;
}

static void add_sorted_unique(json_t *arr, const char *s)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) {
        int c = strcmp(json_string_value(v), s);
        if (!c)
            return;
        if (c > 0) {
            json_array_insert_new(arr, i, json_string(s));
            return;
        }
    }
    json_array_append_new(arr, json_string(s));
}

/* The value the updates of one key say a replica that saw them all holds (a new value), and
 * notes (lost LWW writes) appended to notes. */
static json_t *expected(const char *type, const json_t *ups, struct sb *notes)
{
    size_t i;
    json_t *u;
    int t = crdt_type_of(type);
    if (t == CRDT_GCOUNTER || t == CRDT_PNCOUNTER) {
        json_int_t sum = 0;
        json_array_foreach(ups, i, u)
            sum += json_integer_value(json_object_get(u, "n"));
        return json_integer(sum);
    }
    if (t == CRDT_GSET || t == CRDT_2PSET) {
        json_t *out = json_array(), *gone = json_array();
        json_array_foreach(ups, i, u) {
            const char *e = json_string_value(json_object_get(u, "elem"));
            const char *op = json_string_value(json_object_get(u, "op"));
            if (e && op)
                add_sorted_unique(!strcmp(op, "add") ? out : gone, e);
        }
        if (t == CRDT_2PSET) {
            json_t *kept = json_array();
            size_t j;
            json_t *v;
            json_array_foreach(out, j, v)
                if (!has_dot(gone, json_string_value(v)))
                    json_array_append(kept, v);
            json_decref(out);
            out = kept;
        }
        json_decref(gone);
        return out;
    }
    if (t == CRDT_ORSET || t == CRDT_CART) {
        json_t *removed = json_array();
        json_array_foreach(ups, i, u) {
            size_t j;
            json_t *d;
            json_array_foreach(json_object_get(u, "dots"), j, d)
                json_array_append(removed, d);
        }
        json_t *set = json_array(), *cart = json_object();
        json_array_foreach(ups, i, u) {
            const char *e = json_string_value(json_object_get(u, "elem"));
            const char *op = json_string_value(json_object_get(u, "op"));
            const char *dot = json_string_value(json_object_get(u, "dot"));
            if (!e || !op || !dot || strcmp(op, "add") || has_dot(removed, dot))
                continue;
            add_sorted_unique(set, e);
            json_int_t q = json_integer_value(json_object_get(cart, e));
            json_object_set_new(cart, e, json_integer(q + json_integer_value(json_object_get(u, "n"))));
        }
        json_decref(removed);
        if (t == CRDT_ORSET) {
            json_decref(cart);
            return set;
        }
        json_decref(set);
        return cart;
    }
    if (t == CRDT_LWW) {
        const json_t *best = NULL;
        json_array_foreach(ups, i, u) {
            json_int_t ts = json_integer_value(json_object_get(u, "ts"));
            json_int_t bts = best ? json_integer_value(json_object_get(best, "ts")) : -1;
            int ni = (int)json_integer_value(json_object_get(u, "node_index"));
            int bi = best ? (int)json_integer_value(json_object_get(best, "node_index")) : -1;
            if (!best || ts > bts || (ts == bts && (ni > bi || (ni == bi && strcmp(json_string_value(json_object_get(u, "set")),
                                                                               json_string_value(json_object_get(best, "set"))) > 0))))
                best = u;
        }
        json_array_foreach(ups, i, u)
            if (json_is_true(json_object_get(u, "lost")) && notes) {
                const char *v = json_string_value(json_object_get(u, "set"));
                sb_printf(notes, "\n    %s's write of ", json_string_value(json_object_get(u, "node")));
                sb_add_escaped(notes, v ? v : "", v ? strlen(v) : 0);
                sb_add(notes, " was lost on arrival: a write with a later timestamp was already there "
                              "(its clock was behind: last-writer-wins drops it)");
            }
        return best ? json_incref(json_object_get(best, "set")) : json_null();
    }
    if (t == CRDT_MV) {
        json_t *out = json_array();
        json_array_foreach(ups, i, u) {
            struct vv a = {{0}};
            char err[100];
            if (vv_from_json(json_object_get(u, "vv"), &a, err, sizeof err) < 0)
                continue;
            int dominated = 0;
            size_t j;
            json_t *w;
            json_array_foreach(ups, j, w) {
                struct vv b = {{0}};
                if (j != i && vv_from_json(json_object_get(w, "vv"), &b, err, sizeof err) == 0 &&
                    vv_compare(&a, &b) == VV_BEFORE)
                    dominated = 1;
            }
            if (!dominated)
                add_sorted_unique(out, json_string_value(json_object_get(u, "set")));
        }
        if (json_array_size(out) == 1) {
            json_t *one = json_incref(json_array_get(out, 0));
            json_decref(out);
            return one;
        }
        if (json_array_size(out) == 0) {
            json_decref(out);
            return json_null();
        }
        return out;
    }
    return json_null();
}

static void value_text(struct sb *b, const json_t *v)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_ENSURE_ASCII);
    if (s && strlen(s) > 120)
        strcpy(s + 117, "...");
    sb_add_escaped(b, s ? s : "null", s ? strlen(s) : 4);
    free(s);
}

/* Maelstrom's counter bound for every read of a counter key. Returns violations found. */
static int check_reads(const char *key, const json_t *ups, const json_t *reads, struct sb *out)
{
    int bad = 0;
    size_t i;
    json_t *r;
    json_array_foreach(reads, i, r) {
        const char *node = json_string_value(json_object_get(r, "node"));
        json_int_t seq = json_integer_value(json_object_get(r, "seq"));
        json_int_t v = json_integer_value(json_object_get(r, "value"));
        json_int_t own = 0, up = 0, down = 0;
        size_t j;
        json_t *u;
        json_array_foreach(ups, j, u) {
            json_int_t n = json_integer_value(json_object_get(u, "n"));
            const char *un = json_string_value(json_object_get(u, "node"));
            if (un && node && !strcmp(un, node) && json_integer_value(json_object_get(u, "seq")) < seq)
                own += n;
            else if (n > 0)
                up += n;
            else
                down += n;
        }
        if (v < own + down || v > own + up) {
            if (bad < 3) {
                sb_printf(out, "\n  VIOLATED: a read of ");
                sb_add_escaped(out, key, strlen(key));
                sb_printf(out, " on %s returned %lld, outside [%lld, %lld]: what %s had acknowledged itself (%lld) "
                          "plus every decrement, or every increment, acknowledged elsewhere", node, (long long)v,
                          (long long)(own + down), (long long)(own + up), node, (long long)own);
            }
            bad++;
        }
    }
    return bad;
}

int crdtcheck_run(const void *vmon, const json_t *const *status, int n, struct sb *out)
{
    const struct crdtmon *m = vmon;
    if (!m) {
        sb_add(out, "no monitor: nothing recorded to judge");
        return 2;
    }
    const json_t *updates = crdtmon_updates(m), *reads = crdtmon_reads(m);
    if (!json_object_size(updates)) {
        sb_add(out, "no update acknowledged yet: nothing to judge (incr, sadd, setreg, cart … are recorded)");
        return 0;
    }
    int violated = 0, unjudged = 0, keys = 0;
    struct sb body = {0};
    const char *key;
    json_t *ups;
    json_object_foreach((json_t *)updates, key, ups) {
        keys++;
        const char *type = json_string_value(json_object_get(json_array_get(ups, 0), "type"));
        int mixed = 0;
        size_t i;
        json_t *u;
        json_array_foreach(ups, i, u)
            mixed |= strcmp(json_string_value(json_object_get(u, "type")), type) != 0;
        sb_add(&body, "\n");
        sb_add_escaped(&body, key, strlen(key));
        sb_printf(&body, " (%s, %zu update%s): ", type, json_array_size(ups), json_array_size(ups) == 1 ? "" : "s");
        if (mixed) {
            sb_add(&body, "made with two types on different nodes: the higher type's state won; not judged");
            continue;
        }
        struct sb notes = {0};
        /* the updates' value texts back to JSON values, as a replica's status holds them */
        json_t *want = crdtview_value((enum crdt_type)crdt_type_of(type), expected(type, ups, &notes));
        int t = crdt_type_of(type);
        int bad = 0, behind = 0, agree = 0;
        if (t == CRDT_GCOUNTER || t == CRDT_PNCOUNTER)
            bad += check_reads(key, ups, json_object_get(reads, key), &notes);
        for (int k = 0; k < n; k++) {
            const json_t *st = status[k];
            if (!st)
                continue;
            char node[CL_IDLEN];
            node_name(k, node);
            const char *ctx = json_string_value(json_object_get(json_object_get(json_object_get(st, "extra"), "contexts"), key));
            int seen_all = ctx != NULL;
            json_array_foreach(ups, i, u) {
                char dn[CL_IDLEN];
                uint64_t dc;
                if (seen_all && dot_parse(json_string_value(json_object_get(u, "dot")), dn, &dc) == 0 &&
                    !ctx_text_has(ctx, dn, dc))
                    seen_all = 0;
            }
            if (!seen_all) {
                behind++;
                continue;
            }
            const json_t *have = json_object_get(json_object_get(st, "data"), key);
            if (have && json_equal((json_t *)have, want)) {
                agree++;
                continue;
            }
            if (bad < 3) {
                sb_printf(&notes, "\n  VIOLATED: %s has seen every update but holds ", node);
                value_text(&notes, have ? have : json_null());
                sb_add(&notes, ", not ");
                value_text(&notes, want);
            }
            bad++;
        }
        if (bad)
            sb_add(&body, "VIOLATED");
        else if (!agree && behind)
            sb_add(&body, "cannot judge yet");
        else
            sb_add(&body, "holds");
        sb_add(&body, ": the updates say ");
        value_text(&body, want);
        sb_printf(&body, "; %d replica%s that saw them all agree%s", agree, agree == 1 ? "" : "s", agree == 1 ? "s" : "");
        if (behind)
            sb_printf(&body, "; %d not caught up yet (wait converged)", behind);
        sb_add(&body, notes.s ? notes.s : "");
        sb_free(&notes);
        json_decref(want);
        violated += bad > 0;
        unjudged += !bad && !agree && behind;
    }
    if (violated)
        sb_printf(out, "NOT correct: %d of %d keys break their type's rules or the counter bound", violated, keys);
    else if (unjudged)
        sb_printf(out, "cannot judge %d of %d keys yet: no live replica has seen all their updates", unjudged, keys);
    else
        sb_printf(out, "crdt: every key's replicas that saw all its updates hold what its type says (%d key%s)", keys,
                  keys == 1 ? "" : "s");
    sb_add(out, body.s ? body.s : "");
    sb_free(&body);
    return violated ? 1 : unjudged ? 2 : 0;
}
