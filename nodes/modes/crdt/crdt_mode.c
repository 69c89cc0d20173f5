/* crdt_mode — the crdt mode: every node is a replica of every key, each key one CRDT of its
 * own type (crdt.h: counters, sets, registers, a shopping cart), updated locally without
 * coordination and replicated in the background (issue 16; docs/modes/crdt.md).
 *
 *   client ──update{key,crdt,op,…}──► any node: applied at once, logged, update_ok{value}
 *   client ──read{key}──────────────► any node: read_ok{value} — this replica's value now
 *
 *   sync=state (state-based): every interval, to `fanout` random peers
 *       node ──crdt_state{keys:[[key, state, context],…]}──► peer     (merge: join)
 *   sync=delta (delta-state, Almeida et al. 2018): every update's delta goes into a log
 *   numbered seq 1, 2, …; every interval, to each chosen peer, the deltas it has not acked
 *       node ──crdt_delta{inc, from, to, deltas}──► peer ──crdt_ack{inc, upto, me}──► node
 *   the deltas a peer acked are resent never; those it did not, after resend_after; when the
 *   log no longer holds what a peer lacks (it restarted, or the log was cut), the whole state
 *   goes instead (crdt_state with ack=true and seq: after all its parts, the peer acks seq).
 *
 * Roles: one, `replica` (class peer). Timers: T_SYNC every interval.
 *
 * Each key also keeps its causal context: the dots (node, counter) of every update its state
 * includes; a node numbers its own updates of a key 1, 2, … (the next after the highest of its
 * dots the context holds). Contexts merge by union alongside the states.
 *
 * Invariants (SCENARIOS.md C1–C5; the monitor below checks the first live):
 *   - replicas that have seen the same updates of a key (equal contexts) hold the same value:
 *     merge is a join, so order, duplication and staleness do not matter (C3, C4). Every node
 *     emits a `digest` event {key, ctx, hash} after each change; two equal ctx with different
 *     hashes is a violation;
 *   - states only grow: an update or merge never loses an acknowledged update's effect, except
 *     the LWW register's by design (a write with an older clock loses: C5's anomaly);
 *   - an update is acknowledged only after its delta is in the synced log (a restart replays
 *     the node's own updates; what it had merged from peers comes back by sync).
 *
 * Bugs (bug=NAME): merge-sum — counters merge by adding components instead of taking the
 * maximum, so every redelivered state counts again (the monitor catches equal contexts with
 * different values; `check converged` and the counter bound too).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crdt.h"
#include "crdtmon.h"
#include "crdtview.h"
#include "env.h"
#include "hash.h"
#include "jtext.h"
#include "mode.h"
#include "msg.h"

#define MAX_KEY 128                 /* bytes in a key */
#define MAX_KEYS 10000              /* keys one node holds */
#define MAX_KEY_ITEMS 30000         /* entries one key's state may hold (one message carries it) */
#define MSG_ITEMS 20000             /* items packed into one sync message (about) */
#define DLOG_MAX 100000             /* deltas kept for peers that have not acked them */
#define MAX_ID ((uint64_t)INT64_MAX)
#define DIGEST_NOW_ITEMS 256        /* keys larger than this get their digest once per tick */

enum { T_SYNC = 1 };
enum { SYNC_STATE, SYNC_DELTA, SYNC_OP };
enum { MW_AUTO, MW_GSET, MW_GCOUNTER, MW_PNCOUNTER };   /* maelstrom=: what a keyless read reads */

struct ckey {
    char *name;
    struct crdt *c;
    struct crdt_ctx ctx;
    uint64_t hash;             /* of the value, as last announced by a digest event */
    int dirty;                 /* a large key changed since its last digest */
    int dirty_flush;           /* digest() is flushing it now */
    int about_type;            /* 1 + the type whose "about" text a digest carried already (0: none) */
    uint64_t state_at;         /* when a digest last carried the state table (0: never) */
    int state_dirty;           /* changed since: the next sync tick sends it */
    char state_why[64];        /* what last changed it (for that tick's digest) */
};

struct dlog {
    uint64_t seq;
    char *key;
    json_t *state, *ctx;       /* the delta and its dots (owned) */
    size_t items;
};

struct cr {
    struct env *e;
    int sync, fanout, bug_sum, bug_nocausal, relay, mworkload;
    uint64_t interval, resend_after;
    uint64_t inc;              /* this incarnation's id (random): peers reset on a change */
    struct ckey *keys;         /* sorted by name */
    size_t nkeys, capkeys;
    /* delta log */
    struct dlog *log;
    size_t nlog, caplog;
    uint64_t next_seq;         /* the seq the next delta gets (first is 1) */
    uint64_t ack[CL_MAXN];     /* per peer: deltas up to this seq are there */
    uint64_t sent[CL_MAXN];    /* per peer: deltas up to this seq were sent at sent_at */
    uint64_t sent_at[CL_MAXN];
    uint64_t peer_inc[CL_MAXN];
    /* what peers sent us */
    uint64_t recv_inc[CL_MAXN], recv_seq[CL_MAXN];
    uint64_t round;            /* full-state rounds sent */
    uint64_t in_round[CL_MAXN], in_got[CL_MAXN];
    /* sync=op: a causal broadcast of operations */
    struct crdt_ctx delivered; /* (origin, seq) of every op applied here; base = how many per origin */
    json_t **ops;              /* this node's own ops, seq 1, 2, … (owned) */
    size_t nops, capops;
    json_t *pending;           /* ops received but not causally ready yet */
    /* figures */
    uint64_t updates, merges, bytes_sent, msgs_sent, full_sends;
    uint64_t t_sync;
    int replaying;
    char why[64];              /* what is changing keys now: the digest's "why" ("merge n2 delta") */
};

/* ---- helpers ------------------------------------------------------------------------------ */

static void event_error(struct cr *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void event_error(struct cr *st, const char *fmt, ...)
{
    char buf[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    env_event(st->e, "error", json_pack("{s:s}", "text", buf));
}

static const char (*names(const struct cr *st))[CL_IDLEN]
{
    return (const char (*)[CL_IDLEN])st->e->nodes;
}

static int self(const struct cr *st)
{
    return st->e->self_idx;
}

static size_t body_bytes(const json_t *body)
{
    return json_dumpb(body, NULL, 0, JSON_COMPACT);
}

static struct ckey *key_find(struct cr *st, const char *name, size_t *at)
{
    size_t lo = 0, hi = st->nkeys;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(st->keys[mid].name, name);
        if (!c)
            return &st->keys[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (at)
        *at = lo;
    return NULL;
}

static struct ckey *key_add(struct cr *st, const char *name, enum crdt_type t)
{
    size_t at;
    struct ckey *k = key_find(st, name, &at);
    if (k)
        return k;
    if (st->nkeys >= MAX_KEYS)
        return NULL;
    if (st->nkeys == st->capkeys) {
        st->capkeys = st->capkeys ? 2 * st->capkeys : 16;
        st->keys = xrealloc(st->keys, st->capkeys * sizeof *st->keys);
    }
    if (st->nkeys > at)
        memmove(st->keys + at + 1, st->keys + at, (st->nkeys - at) * sizeof *st->keys);
    st->keys[at] = (struct ckey){xstrdup(name), crdt_new(t), {{{0}}, NULL, 0}, 0, 0, 0, 0, 0, 0, ""};
    st->nkeys++;
    return &st->keys[at];
}

static int key_ok(const char *key, size_t len)
{
    return key && len > 0 && len <= MAX_KEY && !memchr(key, 0, len);
}

static uint64_t value_hash(const struct crdt *c)
{
    json_t *q = crdt_query(c);
    char *s = json_dumps(q, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    uint64_t h = hash_str(s ? s : "");
    free(s);
    json_decref(q);
    return h;
}

/* What a client reads: the query with value texts back to their JSON values (crdtview.h). */
static json_t *value_of(const struct crdt *c)
{
    return crdtview_value(c->type, crdt_query(c));
}

/* After a key changed: the digest event the monitor compares (C3: equal contexts, equal
 * values) and the dashboard draws. */
static void digest(struct cr *st, struct ckey *k)
{
    if (st->replaying)
        return;
    if (crdt_items(k->c) > DIGEST_NOW_ITEMS && !k->dirty_flush) {
        /* hashing a large value at every change costs O(n) each time: its digest waits for the
         * next sync tick (any moment's context and value agree, so a later digest is as true) */
        k->dirty = 1;
        return;
    }
    k->dirty = 0;
    k->hash = value_hash(k->c);
    struct sb ctx = {0};
    crdt_ctx_text(&k->ctx, st->e->n_nodes, names(st), &ctx);
    char hx[17];
    json_t *ev = json_pack("{s:s,s:s,s:s,s:s,s:I}", "key", k->name, "type", crdt_type_name(k->c->type), "ctx",
                           ctx.s, "hash", hash_hex(k->hash, hx), "items", (json_int_t)crdt_items(k->c));
    if (crdt_items(k->c) <= 64)
        json_object_set_new(ev, "value", value_of(k->c));
    /* the internal state as a small table (crdtview.h) and what changed it: the dashboard
     * draws them for a watched key. At most once per sync interval per key (a key updated a
     * thousand times a second would otherwise make every event carry it): a change within the
     * interval leaves it to the next tick, whose digest carries it */
    uint64_t now = env_now_us(st->e);
    if (st->why[0])
        str_copy(k->state_why, st->why, sizeof k->state_why);
    if (!k->state_at || now - k->state_at >= st->interval || k->dirty_flush) {
        json_t *table = crdtview_table(k->c, st->e->n_nodes, names(st));
        if (k->about_type == 1 + (int)k->c->type)
            json_object_del(table, "about"); /* said once per key and type: the dashboard keeps it */
        k->about_type = 1 + (int)k->c->type;
        json_object_set_new(ev, "state", table);
        k->state_at = now ? now : 1;
        k->state_dirty = 0;
    } else {
        k->state_dirty = 1;
    }
    if (k->state_why[0])
        json_object_set_new(ev, "why", json_string(k->state_why));
    env_event(st->e, "digest", ev);
    sb_free(&ctx);
}

/* ---- the delta log ------------------------------------------------------------------------- */

static void dlog_drop_front(struct cr *st, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(st->log[i].key);
        json_decref(st->log[i].state);
        json_decref(st->log[i].ctx);
    }
    if (st->nlog > n)
        memmove(st->log, st->log + n, (st->nlog - n) * sizeof *st->log);
    st->nlog -= n;
}

static void dlog_add(struct cr *st, const char *key, json_t *state, json_t *ctx, size_t items)
{
    if (st->sync != SYNC_DELTA || st->replaying) {
        json_decref(state);
        json_decref(ctx);
        return;
    }
    if (st->nlog == DLOG_MAX)
        dlog_drop_front(st, DLOG_MAX / 10);
    if (st->nlog == st->caplog) {
        st->caplog = st->caplog ? 2 * st->caplog : 64;
        st->log = xrealloc(st->log, st->caplog * sizeof *st->log);
    }
    st->log[st->nlog++] = (struct dlog){st->next_seq++, xstrdup(key), state, ctx, items};
}

/* Drops the deltas every peer acked. */
static void dlog_trim(struct cr *st)
{
    uint64_t low = UINT64_MAX;
    for (int p = 0; p < st->e->n_nodes; p++)
        if (p != self(st) && st->ack[p] < low)
            low = st->ack[p];
    size_t n = 0;
    while (n < st->nlog && st->log[n].seq <= low)
        n++;
    if (n)
        dlog_drop_front(st, n);
}

static uint64_t dlog_first(const struct cr *st)
{
    return st->nlog ? st->log[0].seq : st->next_seq;
}

/* ---- applying: local updates and merges ---------------------------------------------------- */

static void persist(struct cr *st, const char *key, const json_t *state, const json_t *ctx)
{
    json_t *rec = json_pack("{s:s,s:O,s:O}", "k", key, "s", state, "c", ctx);
    char *s = json_dumps(rec, JSON_COMPACT);
    st->e->ops->log_append(st->e, "updates", s, strlen(s));
    st->e->ops->log_sync(st->e, "updates");
    free(s);
    json_decref(rec);
}

/* Merges a state and its context into key (creating it). Returns 1 when either grew, 0 when
 * nothing changed, -1 when the key cannot be held (too many keys, too many entries). */
static int merge_key(struct cr *st, const char *name, const struct crdt *s, const struct crdt_ctx *ctx)
{
    struct ckey *k = key_add(st, name, s->type);
    if (!k)
        return -1;
    struct crdt *probe = NULL;
    if (crdt_items(k->c) + crdt_items(s) > MAX_KEY_ITEMS) {
        probe = crdt_copy(k->c);
        crdt_merge(probe, s, 0);
        if (crdt_items(probe) > MAX_KEY_ITEMS) {
            crdt_free(&probe);
            return -1;
        }
        crdt_free(&probe);
    }
    int changed = crdt_merge(k->c, s, st->bug_sum);
    changed |= crdt_ctx_merge(&k->ctx, ctx);
    if (changed)
        digest(st, k);
    return changed;
}


/* ---- sync=op: operations over a causal broadcast ------------------------------------------
 * An op is {"o": origin, "s": seq (the origin's 1, 2, …), "deps": the origin's delivered
 * counts when it made the op, "k": key, "t": type, "c": the key's dot, and either "st": the
 * update's effect as a state (add, inc, set: merged) or "e" and "ds": an OR-Set or cart remove,
 * the element and the dots it observed (dropped, no tombstone kept)}. A node applies a peer's
 * op once, when it is causally ready: every op of its origin before it and every op its origin
 * had applied are applied here (Birman, Schiper, Stephenson 1991). With bug=no-causal it
 * applies ops as they come: a remove that overtakes its add finds nothing to remove, the add
 * then arrives, and that replica keeps an element the others removed. */

static void removed_dots_into(json_t *out, const json_t *dots, const struct cr *st)
{
    size_t i;
    json_t *d;
    json_array_foreach(dots, i, d) {
        int n = (int)json_integer_value(json_array_get(d, 0));
        if (n >= 0 && n < st->e->n_nodes)
            json_array_append_new(out, json_sprintf("%s:%" JSON_INTEGER_FORMAT, st->e->nodes[n],
                                                    json_integer_value(json_array_get(d, 1))));
    }
}

/* The dots a remove took away, as "n1:3" texts (for the update event and `check crdt`). */
static json_t *removed_dots_text(const struct cr *st, const struct crdt *d, const json_t *op)
{
    json_t *out = json_array();
    if (op) {
        removed_dots_into(out, json_object_get(op, "ds"), st);
        return out;
    }
    for (size_t i = 0; d && i < d->nd; i++)
        json_array_append_new(out, json_sprintf("%s:%" PRIu64, st->e->nodes[d->d[i].node], d->d[i].ctr));
    return out;
}

/* A new op of this node for key (state and ctx borrowed, dots stolen). */
static json_t *op_new(struct cr *st, struct ckey *k, json_t *state, json_t *ctx, const char *elem, json_t *dots)
{
    uint64_t seq = st->delivered.base.c[self(st)] + 1;
    json_t *op = json_pack("{s:i,s:I,s:o,s:s,s:s,s:O}", "o", self(st), "s", (json_int_t)seq, "deps",
                           vv_to_json(&st->delivered.base, st->e->n_nodes), "k", k->name, "t",
                           crdt_type_name(k->c->type), "c", ctx);
    if (dots) {
        json_object_set_new(op, "e", json_string(elem));
        json_object_set_new(op, "ds", dots);
    } else {
        json_object_set_new(op, "st", json_incref(state));
    }
    crdt_ctx_add(&st->delivered, (struct crdt_dot){self(st), seq});
    return op;
}

static void persist_op(struct cr *st, const json_t *op)
{
    if (st->replaying)
        return;
    json_t *rec = json_pack("{s:O}", "op", op);
    char *s = json_dumps(rec, JSON_COMPACT);
    st->e->ops->log_append(st->e, "updates", s, strlen(s));
    st->e->ops->log_sync(st->e, "updates");
    free(s);
    json_decref(rec);
}

/* Keeps one of this node's own ops for its peers (steals op). */
static void op_log(struct cr *st, json_t *op)
{
    if (st->nops == st->capops) {
        st->capops = st->capops ? 2 * st->capops : 64;
        st->ops = xrealloc(st->ops, st->capops * sizeof *st->ops);
    }
    st->ops[st->nops++] = op;
}

/* Applies an op's effect here. Returns 0, or -1 with err naming what is wrong with it. */
static int op_apply(struct cr *st, const json_t *op, char *err, size_t errlen)
{
    const char *key = json_string_value(json_object_get(op, "k"));
    int t = crdt_type_of(json_string_value(json_object_get(op, "t")));
    if (!key_ok(key, key ? strlen(key) : 0) || t < 0) {
        snprintf(err, errlen, "an op needs a key \"k\" and a type \"t\"");
        return -1;
    }
    struct crdt_ctx ctx;
    if (crdt_ctx_from_json(json_object_get(op, "c"), st->e->n_nodes, &ctx, err, errlen) < 0)
        return -1;
    const json_t *sj = json_object_get(op, "st");
    int rc = 0;
    if (sj) {
        struct crdt *c = crdt_from_json(sj, st->e->n_nodes, err, errlen);
        if (!c || merge_key(st, key, c, &ctx) < 0) {
            if (c)
                snprintf(err, errlen, "key %.60s cannot be held here", key);
            rc = -1;
        }
        crdt_free(&c);
    } else {
        const char *elem = json_string_value(json_object_get(op, "e"));
        const json_t *ds = json_object_get(op, "ds");
        if (!elem || !json_is_array(ds) || json_array_size(ds) > MAX_KEY_ITEMS) {
            snprintf(err, errlen, "a remove op needs \"e\" and an array \"ds\" of dots");
            crdt_ctx_clear(&ctx);
            return -1;
        }
        struct crdt_ctx dots;
        json_t *as_ctx = json_pack("{s:[],s:O}", "v", "x", ds);
        rc = crdt_ctx_from_json(as_ctx, st->e->n_nodes, &dots, err, errlen);
        json_decref(as_ctx);
        struct ckey *k = rc < 0 ? NULL : key_add(st, key, (enum crdt_type)t);
        if (rc == 0 && k) {
            int changed = crdt_remove_dots(k->c, elem, dots.extra, dots.nextra) > 0;
            /* dots the context folded into its vector: node i's 1..base[i] */
            for (int i = 0; i < CL_MAXN; i++)
                for (uint64_t c = 1; c <= dots.base.c[i] && c <= MAX_KEY_ITEMS; c++)
                    changed |= crdt_remove_dots(k->c, elem, &(struct crdt_dot){i, c}, 1) > 0;
            changed |= crdt_ctx_merge(&k->ctx, &ctx);
            if (changed)
                digest(st, k);
        } else if (rc == 0) {
            snprintf(err, errlen, "key %.60s cannot be held here", key);
            rc = -1;
        }
        crdt_ctx_clear(&dots);
    }
    crdt_ctx_clear(&ctx);
    return rc;
}

/* Is op causally ready here: the next of its origin, and its origin's past applied? */
static int op_ready(const struct cr *st, int o, uint64_t seq, const struct vv *deps, struct sb *waiting)
{
    int ready = st->delivered.base.c[o] == seq - 1;
    if (!ready && waiting)
        sb_printf(waiting, "%s%s:%" PRIu64, waiting->len ? "," : "", st->e->nodes[o], seq - 1);
    for (int j = 0; j < st->e->n_nodes; j++)
        if (j != o && st->delivered.base.c[j] < deps->c[j]) {
            ready = 0;
            if (waiting)
                sb_printf(waiting, "%s%s:%" PRIu64, waiting->len ? "," : "", st->e->nodes[j], deps->c[j]);
        }
    return ready;
}

/* Reads an op's origin, seq and deps; -1 when they are malformed. */
static int op_head(const struct cr *st, const json_t *op, int *o, uint64_t *seq, struct vv *deps)
{
    json_int_t oi = json_integer_value(json_object_get(op, "o"));
    json_int_t s = json_integer_value(json_object_get(op, "s"));
    char err[100];
    if (!json_is_integer(json_object_get(op, "o")) || oi < 0 || oi >= st->e->n_nodes || !json_is_integer(json_object_get(op, "s")) ||
        s < 1 || (uint64_t)s > CRDT_MAX_COUNT || vv_from_json(json_object_get(op, "deps"), deps, err, sizeof err) < 0)
        return -1;
    *o = (int)oi;
    *seq = (uint64_t)s;
    return 0;
}

static void op_deliver(struct cr *st, const json_t *op, int o, uint64_t seq)
{
    char err[300];
    snprintf(st->why, sizeof st->why, "op %s:%" PRIu64 " from %s", st->e->nodes[o], seq, st->e->nodes[o]);
    int rc = op_apply(st, op, err, sizeof err);
    st->why[0] = 0;
    if (rc < 0) {
        event_error(st, "op %s:%" PRIu64 ": %s: dropped", st->e->nodes[o], seq, err);
        return;
    }
    crdt_ctx_add(&st->delivered, (struct crdt_dot){o, seq});
    persist_op(st, op);
    st->merges++;
    env_event(st->e, "deliver", json_pack("{s:s,s:I,s:s,s:s}", "from", st->e->nodes[o], "seq", (json_int_t)seq, "key",
                                          json_string_value(json_object_get(op, "k")), "op",
                                          json_object_get(op, "st") ? "apply" : "remove"));
}

/* Delivers what became ready, again and again, until nothing more is. */
static void pending_flush(struct cr *st)
{
    for (int more = 1; more;) {
        more = 0;
        size_t i;
        json_t *op;
        json_array_foreach(st->pending, i, op) {
            int o;
            uint64_t seq;
            struct vv deps;
            op_head(st, op, &o, &seq, &deps);
            if (crdt_ctx_has(&st->delivered, (struct crdt_dot){o, seq})) {
                json_array_remove(st->pending, i);
                more = 1;
                break;
            }
            if (op_ready(st, o, seq, &deps, NULL)) {
                json_incref(op);
                json_array_remove(st->pending, i);
                op_deliver(st, op, o, seq);
                json_decref(op);
                more = 1;
                break;
            }
        }
    }
}

static void op_receive(struct cr *st, const json_t *op)
{
    int o;
    uint64_t seq;
    struct vv deps;
    if (op_head(st, op, &o, &seq, &deps) < 0) {
        event_error(st, "an op without a valid origin \"o\", seq \"s\" and deps: dropped");
        return;
    }
    if (o == self(st) || crdt_ctx_has(&st->delivered, (struct crdt_dot){o, seq}))
        return;                 /* our own, or applied already: redelivery changes nothing */
    struct sb waiting = {0};
    if (st->bug_nocausal || op_ready(st, o, seq, &deps, &waiting)) {
        op_deliver(st, op, o, seq);
        pending_flush(st);
    } else {
        size_t i;
        json_t *p;
        int held = 0;
        json_array_foreach(st->pending, i, p)
            held |= json_integer_value(json_object_get(p, "o")) == o && (uint64_t)json_integer_value(json_object_get(p, "s")) == seq;
        if (!held && json_array_size(st->pending) < DLOG_MAX) {
            json_array_append(st->pending, (json_t *)op);
            env_event(st->e, "buffer", json_pack("{s:s,s:I,s:s,s:s}", "from", st->e->nodes[o], "seq", (json_int_t)seq,
                                                 "key", json_string_value(json_object_get(op, "k")) ? json_string_value(json_object_get(op, "k")) : "",
                                                 "waiting", waiting.s ? waiting.s : ""));
        }
    }
    sb_free(&waiting);
}

struct update {
    const char *key, *crdt, *op, *elem, *value;
    char *n;                   /* MSG_TEXT: a whole number */
};

static const char *const ops_of[CRDT_NTYPES] = {
    [CRDT_GCOUNTER] = "inc",  [CRDT_PNCOUNTER] = "inc|dec", [CRDT_GSET] = "add", [CRDT_2PSET] = "add|rem",
    [CRDT_ORSET] = "add|rem", [CRDT_LWW] = "set",           [CRDT_MV] = "set",   [CRDT_CART] = "add|rem",
};

/* The default type of a new key for an op. */
static int default_type(const char *op)
{
    if (!strcmp(op, "inc") || !strcmp(op, "dec"))
        return CRDT_PNCOUNTER;
    if (!strcmp(op, "add") || !strcmp(op, "rem"))
        return CRDT_ORSET;
    if (!strcmp(op, "set"))
        return CRDT_LWW;
    return -1;
}

/* Applies one client update here. Returns the reply body (update_ok), or NULL with *code and
 * err set for an error reply. */
static json_t *local_update(struct cr *st, const struct update *u, int *code, char *err, size_t errlen)
{
    *code = ERR_MALFORMED_REQUEST;
    if (!key_ok(u->key, u->key ? strlen(u->key) : 0)) {
        snprintf(err, errlen, "a key has 1 to %d bytes", MAX_KEY);
        return NULL;
    }
    struct ckey *k = key_find(st, u->key, NULL);
    int t = u->crdt ? crdt_type_of(u->crdt) : k ? (int)k->c->type : default_type(u->op);
    if (t < 0) {
        snprintf(err, errlen, u->crdt ? "unknown crdt '%.40s': expected %s" : "unknown op '%.40s' for a new key: expected inc, dec, add, rem or set%s",
                 u->crdt ? u->crdt : u->op, u->crdt ? crdt_type_names() : "");
        return NULL;
    }
    if (k && (int)k->c->type != t) {
        *code = ERR_PRECONDITION_FAILED;
        snprintf(err, errlen, "key %.60s is a %s, not a %s", u->key, crdt_type_name(k->c->type), crdt_type_name(t));
        return NULL;
    }
    if (!mode_listed(ops_of[t], u->op)) {
        if (k && !u->crdt) {
            *code = ERR_PRECONDITION_FAILED;
            snprintf(err, errlen, "key %.60s is a %s: it takes %s, not '%.40s'", u->key, crdt_type_name(t), ops_of[t],
                     u->op);
        } else {
            snprintf(err, errlen, "a %s takes %s, not '%.40s'", crdt_type_name(t), ops_of[t], u->op);
        }
        return NULL;
    }
    int64_t n = 1;
    if (u->n && (parse_i64(u->n, &n) < 0 || n < 1 || n > CRDT_MAX_AMOUNT)) {
        snprintf(err, errlen, "n is a whole number from 1 to %" PRId64 ", got %.40s", CRDT_MAX_AMOUNT, u->n);
        return NULL;
    }
    int fresh = !k;
    if (!k && !(k = key_add(st, u->key, (enum crdt_type)t))) {
        *code = ERR_TEMPORARILY_UNAVAILABLE;
        snprintf(err, errlen, "this node holds %d keys already", MAX_KEYS);
        return NULL;
    }
    if (st->sync == SYNC_OP && st->nops >= DLOG_MAX) {
        *code = ERR_TEMPORARILY_UNAVAILABLE;
        snprintf(err, errlen, "this node's op log is full (%d ops): sync=op keeps every op for peers", DLOG_MAX);
        return NULL;
    }
    if (crdt_items(k->c) >= MAX_KEY_ITEMS && strcmp(u->op, "rem")) {
        *code = ERR_TEMPORARILY_UNAVAILABLE;
        snprintf(err, errlen, "key %.60s holds %d entries already", u->key, MAX_KEY_ITEMS);
        return NULL;
    }
    struct crdt_dot dot = {self(st), k->ctx.base.c[self(st)] + 1};
    uint64_t mx = crdt_max_dot(k->c, self(st));
    if (mx >= dot.ctr)
        dot.ctr = mx + 1;
    struct crdt *d = NULL;
    json_t *rem_dots = NULL;    /* sync=op: the dots an OR-Set or cart remove observed */
    size_t removed = 0;
    int lost = 0;
    err[0] = 0;
    if (t == CRDT_GCOUNTER || t == CRDT_PNCOUNTER) {
        d = crdt_add(k->c, self(st), !strcmp(u->op, "dec") ? -n : n, err, errlen);
    } else if (!strcmp(u->op, "add")) {
        if (!u->elem) {
            snprintf(err, errlen, "add needs \"elem\": the element or item");
        } else {
            d = crdt_insert(k->c, u->elem, dot, n, err, errlen);
        }
    } else if (!strcmp(u->op, "rem")) {
        if (!u->elem) {
            snprintf(err, errlen, "rem needs \"elem\": the element or item");
        } else if (st->sync == SYNC_OP && (t == CRDT_ORSET || t == CRDT_CART)) {
            /* op-based: the remove is the dots it observed, applied without a tombstone */
            size_t nd;
            struct crdt_dot *dots = crdt_dots_of(k->c, u->elem, &nd);
            removed = crdt_remove_dots(k->c, u->elem, dots, nd);
            rem_dots = json_array();
            for (size_t i = 0; i < nd; i++)
                json_array_append_new(rem_dots, json_pack("[i,I]", dots[i].node, (json_int_t)dots[i].ctr));
            free(dots);
            d = crdt_new(k->c->type);
        } else {
            d = crdt_remove(k->c, u->elem, &removed, err, errlen);
        }
        if (!d && t == CRDT_2PSET)
            *code = ERR_PRECONDITION_FAILED;
    } else if (!u->value) {
        snprintf(err, errlen, "set needs \"value\"");
    } else {
        uint64_t when = t == CRDT_LWW ? env_now_us(st->e) : dot.ctr;
        d = crdt_assign(k->c, u->value, self(st), when, err, errlen);
        lost = t == CRDT_LWW && d && (!k->c->value || strcmp(k->c->value, u->value) || k->c->ts != when);
    }
    if (!d) {
        json_decref(rem_dots);
        if (fresh) {
            /* the key was made for this update only */
            size_t at;
            key_find(st, u->key, &at);
            (void)at;
            struct ckey *kk = key_find(st, u->key, NULL);
            size_t i = (size_t)(kk - st->keys);
            free(kk->name);
            crdt_free(&kk->c);
            crdt_ctx_clear(&kk->ctx);
            if (st->nkeys > i + 1)
                memmove(st->keys + i, st->keys + i + 1, (st->nkeys - i - 1) * sizeof *st->keys);
            st->nkeys--;
        }
        return NULL;
    }
    crdt_ctx_add(&k->ctx, dot);
    struct crdt_ctx one = {{{0}}, NULL, 0};
    crdt_ctx_add(&one, dot);
    json_t *dj = crdt_to_json(d), *cj = crdt_ctx_to_json(&one);
    crdt_ctx_clear(&one);
    json_t *op = NULL;
    if (st->sync == SYNC_OP) {
        op = op_new(st, k, dj, cj, u->elem, rem_dots);
        rem_dots = NULL;
        persist_op(st, op);
    } else {
        persist(st, k->name, dj, cj);
    }
    st->updates++;
    char dtxt[48];
    snprintf(dtxt, sizeof dtxt, "%s:%" PRIu64, st->e->self, dot.ctr);
    json_t *value = value_of(k->c);
    json_t *ev = json_pack("{s:s,s:s,s:s,s:s,s:O}", "key", k->name, "type", crdt_type_name(k->c->type), "op", u->op,
                           "dot", dtxt, "value", value);
    if (u->elem)
        json_object_set_new(ev, "elem", json_string(u->elem));
    if (u->value)
        json_object_set_new(ev, "set", json_string(u->value));
    if (t == CRDT_GCOUNTER || t == CRDT_PNCOUNTER || t == CRDT_CART)
        json_object_set_new(ev, "n", json_integer(!strcmp(u->op, "dec") ? -n : n));
    if (!strcmp(u->op, "rem")) {
        json_object_set_new(ev, "removed", json_integer((json_int_t)removed));
        json_object_set_new(ev, "dots", removed_dots_text(st, d, op));
    }
    if (t == CRDT_LWW) {
        json_object_set_new(ev, "node_index", json_integer(self(st)));
        json_object_set_new(ev, "ts", json_integer((json_int_t)d->ts));
    }
    if (t == CRDT_MV && d->nmv == 1)
        json_object_set_new(ev, "vv", vv_to_json(&d->mv[0].vv, st->e->n_nodes));
    if (lost)
        json_object_set_new(ev, "lost", json_true());
    env_event(st->e, "update", ev);
    snprintf(st->why, sizeof st->why, "%s here (%s)", u->op, dtxt);
    digest(st, k);
    st->why[0] = 0;
    if (op) {
        op_log(st, op);
        json_decref(dj);
        json_decref(cj);
    } else {
        dlog_add(st, k->name, dj, cj, crdt_items(d));
    }
    json_decref(rem_dots);
    crdt_free(&d);
    json_t *reply = json_pack("{s:s,s:o,s:s}", "type", "update_ok", "value", value, "dot", dtxt);
    if (lost)
        json_object_set_new(reply, "lost", json_true());
    if (!strcmp(u->op, "rem"))
        json_object_set_new(reply, "removed", json_integer((json_int_t)removed));
    return reply;
}

/* ---- client requests ------------------------------------------------------------------------ */

/* The wire's update: an element or item and a register value are any JSON, kept as their value
 * texts (jtext.h: 42 as 42, "42" as a marked "42", milk as milk). */
struct update_wire {
    const char *key, *crdt, *op;
    const json_t *elem, *value;
    char *n;                   /* MSG_TEXT: a whole number */
};

static const struct msg_field update_fields[] = {
    MSG_STR(struct update_wire, key),      MSG_STR_OPT(struct update_wire, crdt),  MSG_STR(struct update_wire, op),
    MSG_ANY_OPT(struct update_wire, elem), MSG_ANY_OPT(struct update_wire, value), MSG_TEXT_OPT(struct update_wire, n),
    MSG_END};

static void on_update(void *vst, const char *src, const json_t *body)
{
    struct cr *st = vst;
    struct update_wire w;
    if (msg_get_request(st->e, src, body, update_fields, &w, sizeof w) < 0)
        return;
    char err[300];
    int code;
    char *elem = jtext_encode(w.elem), *value = jtext_encode(w.value);
    struct update u = {w.key, w.crdt, w.op, elem, value, w.n};
    json_t *r = local_update(st, &u, &code, err, sizeof err);
    free(elem);
    free(value);
    msg_free_text(update_fields, &w);
    if (r)
        env_reply(st->e, src, body, r);
    else
        env_reply_error(st->e, src, body, code, err, NULL);
}

struct rd {
    const char *key;
};
static const struct msg_field read_fields[] = {MSG_STR_OPT(struct rd, key), MSG_END};

/* read{key} → read_ok{value}; Maelstrom's g-set, g-counter and pn-counter reads have no key:
 * they read key "set" ([] when absent) with maelstrom=g-set, key "counter" (0 when absent)
 * with maelstrom=g-counter or pn-counter; with maelstrom=auto key "set" when it exists, else
 * key "counter". */
static void on_read(void *vst, const char *src, const json_t *body)
{
    struct cr *st = vst;
    struct rd r;
    if (msg_get_request(st->e, src, body, read_fields, &r, sizeof r) < 0)
        return;
    int set = st->mworkload == MW_GSET || (st->mworkload == MW_AUTO && key_find(st, "set", NULL));
    const char *key = r.key ? r.key : set ? "set" : "counter";
    struct ckey *k = key_find(st, key, NULL);
    json_t *v = k ? value_of(k->c) : r.key ? json_null() : set ? json_array() : json_integer(0);
    env_event(st->e, "query", json_pack("{s:s,s:O}", "key", key, "value", v));
    json_t *reply = json_pack("{s:s,s:o}", "type", "read_ok", "value", v);
    if (k) {
        json_object_set_new(reply, "crdt", json_string(crdt_type_name(k->c->type)));
        if (k->c->type == CRDT_MV && k->c->nmv > 1)
            json_object_set_new(reply, "siblings", json_deep_copy(v));
    }
    env_reply(st->e, src, body, reply);
}

/* write{key,value}: a register write (lww for a new key; mv when the key is one). */
struct wr {
    const char *key;
    const json_t *value;
};
static const struct msg_field write_fields[] = {MSG_STR(struct wr, key), MSG_ANY(struct wr, value), MSG_END};

static void on_write(void *vst, const char *src, const json_t *body)
{
    struct cr *st = vst;
    struct wr w;
    if (msg_get_request(st->e, src, body, write_fields, &w, sizeof w) < 0)
        return;
    char *value = jtext_encode(w.value);
    struct update u = {w.key, NULL, "set", NULL, value, NULL};
    char err[300];
    int code;
    json_t *r = local_update(st, &u, &code, err, sizeof err);
    free(value);
    if (r) {
        json_decref(r);
        env_reply(st->e, src, body, json_pack("{s:s}", "type", "write_ok"));
    } else {
        env_reply_error(st->e, src, body, code, err, NULL);
    }
}

/* Maelstrom's add: {delta} on key "counter" (a pncounter), {element} on key "set" (a gset). */
struct madd {
    const json_t *element;     /* any JSON: Maelstrom's g-set sends integers */
    const json_t *delta;
};
static const struct msg_field add_fields[] = {MSG_ANY_OPT(struct madd, element), MSG_ANY_OPT(struct madd, delta),
                                              MSG_END};

static void on_add(void *vst, const char *src, const json_t *body)
{
    struct cr *st = vst;
    struct madd a;
    if (msg_get_request(st->e, src, body, add_fields, &a, sizeof a) < 0)
        return;
    char err[300] = "", num[32];
    int code = ERR_MALFORMED_REQUEST;
    json_t *r = NULL;
    if (a.element && !a.delta) {
        char *elem = jtext_encode(a.element);
        struct update u = {"set", "gset", "add", elem, NULL, NULL};
        r = local_update(st, &u, &code, err, sizeof err);
        free(elem);
    } else if (a.delta && !a.element && st->mworkload == MW_GCOUNTER && json_is_integer(a.delta) &&
               json_integer_value(a.delta) < 0) {
        snprintf(err, sizeof err, "a g-counter only grows: delta %lld is below 0 (maelstrom=pn-counter takes it)",
                 (long long)json_integer_value(a.delta));
    } else if (a.delta && !a.element && json_is_integer(a.delta) && json_integer_value(a.delta) != 0) {
        json_int_t d = json_integer_value(a.delta);
        snprintf(num, sizeof num, "%lld", (long long)(d < 0 ? -d : d));
        struct update u = {"counter", st->mworkload == MW_GCOUNTER ? "gcounter" : "pncounter", d < 0 ? "dec" : "inc",
                           NULL, NULL, num};
        r = local_update(st, &u, &code, err, sizeof err);
    } else if (a.delta && !a.element && json_is_integer(a.delta)) {
        r = json_object();      /* adding 0 changes nothing */
    } else {
        snprintf(err, sizeof err, "add needs either \"element\" (g-set) or a whole number \"delta\" (counters)");
    }
    if (r) {
        json_decref(r);
        env_reply(st->e, src, body, json_pack("{s:s}", "type", "add_ok"));
    } else {
        env_reply_error(st->e, src, body, code, err, NULL);
    }
}

/* ---- replication ------------------------------------------------------------------------------ */

static int peer_index(struct cr *st, const char *src)
{
    int i = env_node_index(st->e, src);
    if (i < 0 || i == self(st)) {
        event_error(st, "peer message from %s, which is not another node: dropped", src);
        return -1;
    }
    return i;
}

static int peer_get(struct cr *st, const char *src, const json_t *body, const struct msg_field *fields, void *out)
{
    char err[300];
    if (msg_get(body, NULL, fields, out, err, sizeof err) == 0)
        return 0;
    event_error(st, "%s from %s: dropped", err, src);
    return -1;
}

static void send_body(struct cr *st, int peer, json_t *body, const char *kind, size_t nkeys, size_t items)
{
    size_t bytes = body_bytes(body);
    st->bytes_sent += bytes;
    st->msgs_sent++;
    env_event(st->e, "sync", json_pack("{s:s,s:s,s:I,s:I,s:I}", "to", st->e->nodes[peer], "kind", kind, "keys",
                                       (json_int_t)nkeys, "items", (json_int_t)items, "bytes", (json_int_t)bytes));
    env_send(st->e, st->e->nodes[peer], body);
}

/* The whole state to peer, in messages of about MSG_ITEMS items (a key is never split). */
static void send_full(struct cr *st, int peer, int want_ack)
{
    st->round++;
    st->full_sends++;
    /* count the parts first so that the peer knows when a round is complete */
    size_t parts = 0, acc = 0;
    for (size_t i = 0; i < st->nkeys; i++) {
        size_t it = crdt_items(st->keys[i].c) + 1;
        if (acc && acc + it > MSG_ITEMS) {
            parts++;
            acc = 0;
        }
        acc += it;
    }
    parts++;
    size_t part = 0, i = 0;
    uint64_t seq = st->next_seq - 1;
    while (part < parts) {
        json_t *keys = json_array();
        size_t items = 0, nk = 0;
        for (; i < st->nkeys; i++) {
            size_t it = crdt_items(st->keys[i].c) + 1;
            if (items && items + it > MSG_ITEMS)
                break;
            json_array_append_new(keys, json_pack("[s,o,o]", st->keys[i].name, crdt_to_json(st->keys[i].c),
                                                  crdt_ctx_to_json(&st->keys[i].ctx)));
            items += it;
            nk++;
        }
        json_t *b = json_pack("{s:s,s:I,s:I,s:I,s:I,s:I,s:b,s:o}", "type", "crdt_state", "inc", (json_int_t)st->inc,
                              "round", (json_int_t)st->round, "part", (json_int_t)part, "parts", (json_int_t)parts,
                              "seq", (json_int_t)seq, "ack", want_ack, "keys", keys);
        send_body(st, peer, b, "state", nk, items);
        part++;
    }
    if (want_ack) {
        st->sent[peer] = seq;
        st->sent_at[peer] = env_now_us(st->e);
    }
}

/* The deltas peer lacks (from after what it acked, or what was sent and not yet overdue). */
static void send_deltas(struct cr *st, int peer)
{
    uint64_t now = env_now_us(st->e);
    uint64_t last = st->next_seq - 1;
    if (st->ack[peer] >= last)
        return;
    uint64_t from = st->ack[peer] + 1;
    if (st->sent[peer] > st->ack[peer] && now - st->sent_at[peer] < st->resend_after) {
        if (st->sent[peer] >= last)
            return;
        from = st->sent[peer] + 1;
    }
    if (from < dlog_first(st)) {
        /* the log no longer holds what the peer lacks */
        send_full(st, peer, 1);
        return;
    }
    size_t i = (size_t)(from - dlog_first(st));
    while (i < st->nlog) {
        json_t *ds = json_array();
        size_t items = 0;
        uint64_t f = st->log[i].seq, to = f;
        for (; i < st->nlog; i++) {
            if (items && items + st->log[i].items + 1 > MSG_ITEMS)
                break;
            json_array_append_new(ds, json_pack("[s,O,O]", st->log[i].key, st->log[i].state, st->log[i].ctx));
            items += st->log[i].items + 1;
            to = st->log[i].seq;
        }
        size_t nd = json_array_size(ds);
        json_t *b = json_pack("{s:s,s:I,s:I,s:I,s:o}", "type", "crdt_delta", "inc", (json_int_t)st->inc, "from",
                              (json_int_t)f, "to", (json_int_t)to, "deltas", ds);
        send_body(st, peer, b, "delta", nd, items);
        st->sent[peer] = to;
        st->sent_at[peer] = now;
    }
}

/* This node's ops peer has not acknowledged applying (resent after resend_after). */
static void send_ops(struct cr *st, int peer)
{
    uint64_t now = env_now_us(st->e);
    uint64_t last = st->nops;
    if (st->ack[peer] >= last)
        return;
    uint64_t from = st->ack[peer] + 1;
    if (st->sent[peer] > st->ack[peer] && now - st->sent_at[peer] < st->resend_after) {
        if (st->sent[peer] >= last)
            return;
        from = st->sent[peer] + 1;
    }
    while (from <= last) {
        json_t *ops = json_array();
        size_t items = 0;
        uint64_t to = from;
        for (; to <= last && items < MSG_ITEMS; to++) {
            json_array_append(ops, st->ops[to - 1]);
            items += 1 + json_array_size(json_object_get(st->ops[to - 1], "ds"));
        }
        json_t *b = json_pack("{s:s,s:I,s:o}", "type", "crdt_ops", "inc", (json_int_t)st->inc, "ops", ops);
        send_body(st, peer, b, "ops", json_array_size(ops), items);
        st->sent[peer] = to - 1;
        st->sent_at[peer] = now;
        from = to;
    }
}

static void sync_tick(struct cr *st)
{
    int peers[CL_MAXN], np = 0;
    for (int p = 0; p < st->e->n_nodes; p++)
        if (p != self(st))
            peers[np++] = p;
    /* fanout random peers (a partial Fisher–Yates shuffle) */
    /* op-based: a broadcast reaches every peer (ops are not relayed) */
    int k = st->fanout < np && st->sync != SYNC_OP ? st->fanout : np;
    for (int i = 0; i < k; i++) {
        int j = i + (int)env_rand_range(st->e, 0, (uint64_t)(np - i - 1));
        int t = peers[i];
        peers[i] = peers[j];
        peers[j] = t;
    }
    for (int i = 0; i < k; i++) {
        if (st->sync == SYNC_STATE) {
            if (st->nkeys)
                send_full(st, peers[i], 0);
        } else if (st->sync == SYNC_OP) {
            send_ops(st, peers[i]);
        } else {
            send_deltas(st, peers[i]);
        }
    }
}

/* Merges a list of [key, state, ctx] from peer; appends the changed keys to changed (up to
 * 8); returns how many changed, or -1 when the list is malformed (nothing after the bad entry
 * is merged; what came before stays: every entry is a valid state on its own). */
static long merge_list(struct cr *st, const char *src, const json_t *list, const char *what, json_t *changed)
{
    long n = 0;
    size_t i;
    json_t *x;
    json_array_foreach(list, i, x) {
        char err[300];
        const char *key = json_string_value(json_array_get(x, 0));
        if (!json_is_array(x) || json_array_size(x) != 3 || !key_ok(key, json_string_length(json_array_get(x, 0)))) {
            event_error(st, "%s from %s: entry %zu is not [key, state, context]: dropped", what, src, i);
            return -1;
        }
        struct crdt *c = crdt_from_json(json_array_get(x, 1), st->e->n_nodes, err, sizeof err);
        if (!c) {
            event_error(st, "%s from %s: key %.60s: %s: dropped", what, src, key, err);
            return -1;
        }
        struct crdt_ctx ctx;
        if (crdt_ctx_from_json(json_array_get(x, 2), st->e->n_nodes, &ctx, err, sizeof err) < 0) {
            crdt_free(&c);
            event_error(st, "%s from %s: key %.60s: %s: dropped", what, src, key, err);
            return -1;
        }
        snprintf(st->why, sizeof st->why, "merge from %s (%s)", src, !strcmp(what, "crdt_delta") ? "delta" : "state");
        int rc = merge_key(st, key, c, &ctx);
        st->why[0] = 0;
        if (rc < 0) {
            event_error(st, "%s from %s: key %.60s cannot be held here (at most %d keys of %d entries)", what, src,
                        key, MAX_KEYS, MAX_KEY_ITEMS);
        } else if (rc > 0) {
            n++;
            if (json_array_size(changed) < 8)
                json_array_append_new(changed, json_string(key));
            if (st->relay)
                dlog_add(st, key, json_incref(json_array_get(x, 1)), json_incref(json_array_get(x, 2)), crdt_items(c));
        }
        crdt_free(&c);
        crdt_ctx_clear(&ctx);
    }
    return n;
}

static void merged_event(struct cr *st, const char *src, const char *kind, long n, const json_t *list, json_t *changed)
{
    if (n > 0) {
        st->merges += (uint64_t)n;
        env_event(st->e, "merge", json_pack("{s:s,s:s,s:I,s:I,s:O}", "from", src, "kind", kind, "changed", (json_int_t)n,
                                            "entries", (json_int_t)json_array_size(list), "keys", changed));
    }
}

static void send_ack(struct cr *st, int peer, uint64_t their_inc)
{
    json_t *b = json_pack("{s:s,s:I,s:I,s:I}", "type", "crdt_ack", "inc", (json_int_t)their_inc, "upto",
                          (json_int_t)st->recv_seq[peer], "me", (json_int_t)st->inc);
    /* acks count in the bytes a style costs (no event: one per sync message received) */
    st->bytes_sent += body_bytes(b);
    st->msgs_sent++;
    env_send(st->e, st->e->nodes[peer], b);
}

/* A peer's new incarnation starts its numbering again. */
static void peer_incarnation(struct cr *st, int p, uint64_t inc)
{
    if (st->recv_inc[p] != inc) {
        st->recv_inc[p] = inc;
        st->recv_seq[p] = 0;
        st->in_round[p] = st->in_got[p] = 0;
    }
}

struct state_msg {
    uint64_t inc, round, part, parts, seq;
    int ack;
    const json_t *keys;
};
static const struct msg_field state_fields[] = {
    MSG_U64(struct state_msg, inc, MAX_ID),     MSG_U64(struct state_msg, round, MAX_ID),
    MSG_U64(struct state_msg, part, MAX_ID),    MSG_U64(struct state_msg, parts, MAX_ID),
    MSG_U64(struct state_msg, seq, MAX_ID),     MSG_BOOL_OPT(struct state_msg, ack),
    MSG_ARRAY(struct state_msg, keys, MAX_KEYS), MSG_END};

static void on_crdt_state(void *vst, const char *src, const json_t *body)
{
    struct cr *st = vst;
    int p = peer_index(st, src);
    struct state_msg m = {0};
    if (p < 0 || peer_get(st, src, body, state_fields, &m) < 0)
        return;
    if (m.part >= m.parts) {
        event_error(st, "crdt_state from %s: part %" PRIu64 " of %" PRIu64 ": dropped", src, m.part, m.parts);
        return;
    }
    peer_incarnation(st, p, m.inc);
    json_t *changed = json_array();
    long n = merge_list(st, src, m.keys, "crdt_state", changed);
    merged_event(st, src, "state", n, m.keys, changed);
    json_decref(changed);
    if (n < 0 || !m.ack)
        return;
    /* a full state in answer to a delta gap: after its last part, every delta up to seq is here */
    if (st->in_round[p] != m.round) {
        st->in_round[p] = m.round;
        st->in_got[p] = 0;
    }
    if (++st->in_got[p] == m.parts && m.seq > st->recv_seq[p])
        st->recv_seq[p] = m.seq;
    send_ack(st, p, m.inc);
}

struct delta_msg {
    uint64_t inc, from, to;
    const json_t *deltas;
};
static const struct msg_field delta_fields[] = {
    MSG_U64(struct delta_msg, inc, MAX_ID), MSG_U64(struct delta_msg, from, MAX_ID),
    MSG_U64(struct delta_msg, to, MAX_ID), MSG_ARRAY(struct delta_msg, deltas, DLOG_MAX), MSG_END};

static void on_crdt_delta(void *vst, const char *src, const json_t *body)
{
    struct cr *st = vst;
    int p = peer_index(st, src);
    struct delta_msg m;
    if (p < 0 || peer_get(st, src, body, delta_fields, &m) < 0)
        return;
    if (m.from == 0 || m.to < m.from || m.to - m.from + 1 != json_array_size(m.deltas)) {
        event_error(st, "crdt_delta from %s: deltas %" PRIu64 "..%" PRIu64 " but %zu of them: dropped", src, m.from,
                    m.to, json_array_size(m.deltas));
        return;
    }
    peer_incarnation(st, p, m.inc);
    json_t *changed = json_array();
    long n = merge_list(st, src, m.deltas, "crdt_delta", changed);
    merged_event(st, src, "delta", n, m.deltas, changed);
    json_decref(changed);
    if (n < 0)
        return;
    /* contiguous with what came before: the peer need not send these again */
    if (m.from <= st->recv_seq[p] + 1 && m.to > st->recv_seq[p])
        st->recv_seq[p] = m.to;
    send_ack(st, p, m.inc);
}

struct ops_msg {
    uint64_t inc;
    const json_t *ops;
};
static const struct msg_field ops_fields[] = {MSG_U64(struct ops_msg, inc, MAX_ID), MSG_ARRAY(struct ops_msg, ops, DLOG_MAX),
                                              MSG_END};

static void on_crdt_ops(void *vst, const char *src, const json_t *body)
{
    struct cr *st = vst;
    int p = peer_index(st, src);
    struct ops_msg m;
    if (p < 0 || peer_get(st, src, body, ops_fields, &m) < 0)
        return;
    if (st->sync != SYNC_OP) {
        event_error(st, "crdt_ops from %s, but this node runs sync=%s: dropped", src,
                    st->sync == SYNC_STATE ? "state" : "delta");
        return;
    }
    size_t i;
    json_t *op;
    json_array_foreach(m.ops, i, op) {
        if (!json_is_object(op) || json_integer_value(json_object_get(op, "o")) != p) {
            event_error(st, "crdt_ops from %s: op %zu is not an op of %s: dropped", src, i, src);
            return;
        }
        op_receive(st, op);
    }
    st->recv_seq[p] = st->delivered.base.c[p];
    send_ack(st, p, m.inc);
}

struct ack_msg {
    uint64_t inc, upto, me;
};
static const struct msg_field ack_fields[] = {MSG_U64(struct ack_msg, inc, MAX_ID), MSG_U64(struct ack_msg, upto, MAX_ID),
                                              MSG_U64(struct ack_msg, me, MAX_ID), MSG_END};

static void on_crdt_ack(void *vst, const char *src, const json_t *body)
{
    struct cr *st = vst;
    int p = peer_index(st, src);
    struct ack_msg m;
    if (p < 0 || peer_get(st, src, body, ack_fields, &m) < 0)
        return;
    uint64_t top = st->sync == SYNC_OP ? st->nops + 1 : st->next_seq;
    if (m.inc != st->inc || m.upto >= top)
        return;                 /* an answer to a previous life of ours, or nonsense */
    if (m.me != st->peer_inc[p]) {
        /* the peer restarted (or first contact): it holds only what it acks now */
        st->peer_inc[p] = m.me;
        st->ack[p] = m.upto;
        st->sent[p] = m.upto;
    } else if (m.upto > st->ack[p]) {
        st->ack[p] = m.upto;
    }
    dlog_trim(st);
}

/* ---- timers, life cycle ----------------------------------------------------------------------- */

static uint64_t jitter(struct cr *st, uint64_t us)
{
    return us / 2 + env_rand_range(st->e, 0, us);
}

static void cr_on_timer(void *vst, int kind, uint64_t arg)
{
    (void)arg;
    struct cr *st = vst;
    if (kind == T_SYNC) {
        st->t_sync = env_timer_set(st->e, jitter(st, st->interval), T_SYNC, 0);
        for (size_t i = 0; i < st->nkeys; i++)
            if (st->keys[i].dirty || st->keys[i].state_dirty) {
                st->keys[i].dirty_flush = 1;
                if (st->keys[i].dirty)
                    snprintf(st->why, sizeof st->why, "changes since the last sync tick");
                digest(st, &st->keys[i]);
                st->why[0] = 0;
                st->keys[i].dirty_flush = 0;
            }
        sync_tick(st);
    }
}

static void replay_rec(void *ud, const void *data, size_t len)
{
    struct cr *st = ud;
    json_t *rec = json_loadb(data, len, 0, NULL);
    const json_t *op = json_object_get(rec, "op");
    if (op) {
        /* sync=op: every op applied here, in the order it was applied */
        int o;
        uint64_t seq;
        struct vv deps;
        char err[300];
        if (op_head(st, op, &o, &seq, &deps) == 0 && !crdt_ctx_has(&st->delivered, (struct crdt_dot){o, seq}) &&
            op_apply(st, op, err, sizeof err) == 0) {
            crdt_ctx_add(&st->delivered, (struct crdt_dot){o, seq});
            if (o == self(st)) {
                op_log(st, json_incref((json_t *)op));
                st->updates++;
            }
        }
        json_decref(rec);
        return;
    }
    const char *key = json_string_value(json_object_get(rec, "k"));
    char err[300];
    struct crdt *c = key ? crdt_from_json(json_object_get(rec, "s"), st->e->n_nodes, err, sizeof err) : NULL;
    struct crdt_ctx ctx;
    if (c && crdt_ctx_from_json(json_object_get(rec, "c"), st->e->n_nodes, &ctx, err, sizeof err) == 0) {
        merge_key(st, key, c, &ctx);
        st->updates++;
        crdt_ctx_clear(&ctx);
    }
    crdt_free(&c);
    json_decref(rec);
}

static void cr_destroy(void *vst)
{
    struct cr *st = vst;
    if (!st)
        return;
    env_timer_cancel(st->e, st->t_sync);
    for (size_t i = 0; i < st->nkeys; i++) {
        free(st->keys[i].name);
        crdt_free(&st->keys[i].c);
        crdt_ctx_clear(&st->keys[i].ctx);
    }
    free(st->keys);
    dlog_drop_front(st, st->nlog);
    free(st->log);
    for (size_t i = 0; i < st->nops; i++)
        json_decref(st->ops[i]);
    free(st->ops);
    json_decref(st->pending);
    crdt_ctx_clear(&st->delivered);
    free(st);
}

static void *cr_create(struct env *e, const struct opts *o, char *err, size_t errlen)
{
    struct cr *st = xcalloc(1, sizeof *st);
    st->e = e;
    const char *sync = opts_get(o, "sync", "delta");
    st->sync = !strcmp(sync, "state") ? SYNC_STATE : !strcmp(sync, "op") ? SYNC_OP : SYNC_DELTA;
    st->pending = json_array();
    st->fanout = (int)opts_get_int(o, "fanout", 2);
    const char *mw = opts_get(o, "maelstrom", "auto");
    st->mworkload = !strcmp(mw, "g-set") ? MW_GSET : !strcmp(mw, "g-counter") ? MW_GCOUNTER
                    : !strcmp(mw, "pn-counter") ? MW_PNCOUNTER : MW_AUTO;
    st->interval = opts_get_duration(o, "interval", 100000);
    st->resend_after = opts_get_duration(o, "resend_after", 500000);
    if (st->interval == 0 || st->resend_after == 0) {
        snprintf(err, errlen, "interval and resend_after must be above 0");
        json_decref(st->pending);
        free(st);
        return NULL;
    }
    st->bug_sum = !strcmp(opts_get(o, "bug", "none"), "merge-sum");
    st->bug_nocausal = !strcmp(opts_get(o, "bug", "none"), "no-causal");
    if (st->bug_nocausal && st->sync != SYNC_OP) {
        snprintf(err, errlen, "bug=no-causal breaks the causal delivery of ops: it needs sync=op");
        json_decref(st->pending);
        free(st);
        return NULL;
    }
    st->relay = st->fanout < e->n_nodes - 1;
    st->inc = 1 + (env_rand(e) & 0x3fffffffffffull);
    st->next_seq = 1;
    st->replaying = 1;
    long n = e->ops->log_read(e, "updates", replay_rec, st);
    st->replaying = 0;
    if (n < 0 && n != CL_ENOENT) {
        snprintf(err, errlen, "the update log of %s cannot be read back: refusing to start", e->self);
        cr_destroy(st);
        return NULL;
    }
    return st;
}

static void cr_start(void *vst)
{
    struct cr *st = vst;
    env_event(st->e, "state", json_pack("{s:s}", "role", "replica"));
    for (size_t i = 0; i < st->nkeys; i++) {
        /* what came back from the log: announced, and offered to peers again */
        snprintf(st->why, sizeof st->why, "restart: its own log replayed");
        digest(st, &st->keys[i]);
        st->why[0] = 0;
        if (st->sync == SYNC_DELTA)
            dlog_add(st, st->keys[i].name, crdt_to_json(st->keys[i].c), crdt_ctx_to_json(&st->keys[i].ctx),
                     crdt_items(st->keys[i].c));
    }
    st->t_sync = env_timer_set(st->e, jitter(st, st->interval), T_SYNC, 0);
}

/* ---- status, commands ----------------------------------------------------------------------- */

static json_t *cr_status(void *vst)
{
    struct cr *st = vst;
    json_t *data = json_object(), *types = json_object(), *ctxs = json_object();
    for (size_t i = 0; i < st->nkeys; i++) {
        json_object_set_new(data, st->keys[i].name, value_of(st->keys[i].c));
        json_object_set_new(types, st->keys[i].name, json_string(crdt_type_name(st->keys[i].c->type)));
        struct sb b = {0};
        crdt_ctx_text(&st->keys[i].ctx, st->e->n_nodes, names(st), &b);
        json_object_set_new(ctxs, st->keys[i].name, json_string(b.s));
        sb_free(&b);
    }
    json_t *extra = json_pack("{s:s,s:i,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:o,s:o}", "sync",
                              st->sync == SYNC_STATE ? "state" : st->sync == SYNC_OP ? "op" : "delta", "fanout", st->fanout, "keys",
                              (json_int_t)st->nkeys, "updates", (json_int_t)st->updates, "merges",
                              (json_int_t)st->merges, "bytes_sent", (json_int_t)st->bytes_sent, "msgs_sent",
                              (json_int_t)st->msgs_sent, "full_sends", (json_int_t)st->full_sends, "delta_log",
                              (json_int_t)st->nlog, "types", types, "contexts", ctxs);
    if (st->sync == SYNC_OP) {
        struct sb d = {0};
        crdt_ctx_text(&st->delivered, st->e->n_nodes, names(st), &d);
        json_object_set_new(extra, "delivered", json_string(d.s));
        json_object_set_new(extra, "buffered", json_integer((json_int_t)json_array_size(st->pending)));
        sb_free(&d);
    }
    return json_pack("{s:s,s:o,s:o,s:o,s:s}", "role", "replica", "data", data, "extra", extra, "log", json_array(),
                     "log_title", "a crdt replica keeps no replicated log (see `show KEY`)");
}

static json_t *cmd_reply(int ok, struct sb *b)
{
    json_t *r = json_pack("{s:b,s:s}", "ok", ok, "text", b->s ? b->s : "");
    sb_free(b);
    return r;
}

/* Pulls a trailing or embedded type=NAME out of the words. */
static const char *take_type(int *argc, char **argv)
{
    const char *t = NULL;
    int k = 0;
    for (int i = 0; i < *argc; i++) {
        if (!strncmp(argv[i], "type=", 5))
            t = argv[i] + 5;
        else
            argv[k++] = argv[i];
    }
    *argc = k;
    return t;
}

static json_t *run_update(struct cr *st, struct update *u)
{
    struct sb b = {0};
    char err[300];
    int code;
    json_t *r = local_update(st, u, &code, err, sizeof err);
    if (!r) {
        sb_printf(&b, "error %d ", code);
        sb_add_escaped(&b, err, strlen(err));
        return cmd_reply(0, &b);
    }
    struct ckey *k = key_find(st, u->key, NULL);
    char *v = json_dumps(json_object_get(r, "value"), JSON_COMPACT | JSON_ENCODE_ANY | JSON_ENSURE_ASCII);
    sb_add_escaped(&b, u->key, strlen(u->key));
    sb_printf(&b, " (%s) = ", crdt_type_name(k->c->type));
    sb_add_escaped(&b, v ? v : "", v ? strlen(v) : 0);
    sb_printf(&b, " on %s, update %s", st->e->self, json_string_value(json_object_get(r, "dot")));
    if (json_is_true(json_object_get(r, "lost")))
        sb_add(&b, " — LOST: a newer timestamp is already here (this node's clock is behind)");
    if (json_object_get(r, "removed"))
        sb_printf(&b, ", %lld dot%s removed", (long long)json_integer_value(json_object_get(r, "removed")),
                  json_integer_value(json_object_get(r, "removed")) == 1 ? "" : "s");
    free(v);
    json_decref(r);
    return cmd_reply(1, &b);
}

/* A value the student typed as its value text (caller frees): 42 the number, "42" the string,
 * milk the string milk, {"a":1} the object (jtext_parse); NULL with b filled when it does not
 * read. */
static char *typed(const char *what, const char *word, struct sb *b)
{
    char err[160];
    json_t *v = jtext_parse(word, strlen(word), err, sizeof err);
    if (!v) {
        sb_printf(b, "%s ", what);
        sb_add_escaped(b, word, strlen(word));
        sb_printf(b, ": %s", err);
        return NULL;
    }
    char *t = jtext_encode(v);
    json_decref(v);
    return t;
}

/* run_update with the element or value typed by the student (u->elem / u->value as typed). */
static json_t *run_typed(struct cr *st, struct update *u)
{
    struct sb b = {0};
    char *elem = NULL, *value = NULL;
    if ((u->elem && !(elem = typed("element", u->elem, &b))) || (u->value && !(value = typed("value", u->value, &b)))) {
        free(elem);
        return cmd_reply(0, &b);
    }
    if (elem)
        u->elem = elem;
    if (value)
        u->value = value;
    json_t *r = run_update(st, u);
    free(elem);
    free(value);
    return r;
}

static json_t *cmd_counter(void *vst, int argc, char **argv, const char *op)
{
    const char *t = take_type(&argc, argv);
    struct update u = {argv[0], t, op, NULL, NULL, argc > 1 ? argv[1] : NULL};
    if (argc < 1 || argc > 2) {
        struct sb b = {0};
        sb_printf(&b, "usage: %s KEY [N] [type=gcounter|pncounter]", op[0] == 'i' ? "incr" : "decr");
        return cmd_reply(0, &b);
    }
    return run_update(vst, &u);
}

static json_t *cmd_incr(void *vst, int argc, char **argv)
{
    return cmd_counter(vst, argc, argv, "inc");
}

static json_t *cmd_decr(void *vst, int argc, char **argv)
{
    return cmd_counter(vst, argc, argv, "dec");
}

static json_t *cmd_set_op(void *vst, int argc, char **argv, const char *op)
{
    const char *t = take_type(&argc, argv);
    if (argc != 2) {
        struct sb b = {0};
        sb_printf(&b, "usage: %s KEY ELEMENT [type=orset|gset|2pset]", op[0] == 'a' ? "sadd" : "srem");
        return cmd_reply(0, &b);
    }
    struct update u = {argv[0], t, op, argv[1], NULL, NULL};
    return run_typed(vst, &u);
}

static json_t *cmd_sadd(void *vst, int argc, char **argv)
{
    return cmd_set_op(vst, argc, argv, "add");
}

static json_t *cmd_srem(void *vst, int argc, char **argv)
{
    return cmd_set_op(vst, argc, argv, "rem");
}

static json_t *cmd_setreg(void *vst, int argc, char **argv)
{
    const char *t = take_type(&argc, argv);
    if (argc != 2) {
        struct sb b = {0};
        sb_add(&b, "usage: setreg KEY VALUE [type=lww|mv]");
        return cmd_reply(0, &b);
    }
    struct update u = {argv[0], t, "set", NULL, argv[1], NULL};
    return run_typed(vst, &u);
}

static json_t *cmd_cart(void *vst, int argc, char **argv)
{
    if (argc < 3 || argc > 4 || (strcmp(argv[0], "add") && strcmp(argv[0], "rem")) ||
        (!strcmp(argv[0], "rem") && argc != 3)) {
        struct sb b = {0};
        sb_add(&b, "usage: cart add KEY ITEM [N] | cart rem KEY ITEM");
        return cmd_reply(0, &b);
    }
    struct update u = {argv[1], "cart", argv[0], argv[2], NULL, argc > 3 ? argv[3] : NULL};
    return run_typed(vst, &u);
}

static json_t *cmd_smembers(void *vst, int argc, char **argv)
{
    struct cr *st = vst;
    struct sb b = {0};
    (void)argc;
    struct ckey *k = key_find(st, argv[0], NULL);
    if (!k) {
        sb_add_escaped(&b, argv[0], strlen(argv[0]));
        sb_printf(&b, " is not on %s (yet): nil", st->e->self);
        return cmd_reply(1, &b);
    }
    json_t *q = value_of(k->c);
    char *v = json_dumps(q, JSON_COMPACT | JSON_ENCODE_ANY | JSON_ENSURE_ASCII);
    sb_add_escaped(&b, v ? v : "", v ? strlen(v) : 0);
    sb_printf(&b, "  (%s on %s)", crdt_type_name(k->c->type), st->e->self);
    free(v);
    json_decref(q);
    return cmd_reply(1, &b);
}

static json_t *cmd_show(void *vst, int argc, char **argv)
{
    struct cr *st = vst;
    struct sb b = {0};
    (void)argc;
    struct ckey *k = key_find(st, argv[0], NULL);
    if (!k) {
        sb_add_escaped(&b, argv[0], strlen(argv[0]));
        sb_printf(&b, " is not on %s (yet)", st->e->self);
        return cmd_reply(1, &b);
    }
    sb_add_escaped(&b, k->name, strlen(k->name));
    sb_printf(&b, " on %s: ", st->e->self);
    crdt_describe(k->c, st->e->n_nodes, names(st), &b);
    sb_add(&b, "\n  updates seen (causal context): ");
    crdt_ctx_text(&k->ctx, st->e->n_nodes, names(st), &b);
    json_t *q = value_of(k->c);
    char *v = json_dumps(q, JSON_COMPACT | JSON_ENCODE_ANY | JSON_ENSURE_ASCII);
    sb_add(&b, "\n  value: ");
    sb_add_escaped(&b, v ? v : "", v ? strlen(v) : 0);
    free(v);
    json_decref(q);
    return cmd_reply(1, &b);
}

/* The face's as_op: incr, decr, sadd and srem are client operations of Maelstrom's counter and
 * set workloads, which the lab records in its history (add with a delta or an element; remove). */
static json_t *words_op(int argc, char **argv, const char *f, int counter, int sign)
{
    const char *w[3];
    int n = 0;
    for (int i = 0; i < argc; i++)
        if (strncmp(argv[i], "type=", 5) && n < 3)
            w[n++] = argv[i];
    if (counter) {
        int64_t d = 1;
        if (n < 1 || n > 2 || (n == 2 && parse_i64(w[1], &d) < 0))
            return NULL;
        return json_pack("{s:s,s:s,s:I}", "f", f, "key", w[0], "value", (json_int_t)(sign * d));
    }
    return n == 2 ? json_pack("{s:s,s:s,s:s}", "f", f, "key", w[0], "value", w[1]) : NULL;
}

/* The face's command_op. */
static json_t *cr_command_op(const char *name, int argc, char **argv)
{
    if (!strcmp(name, "incr") || !strcmp(name, "decr"))
        return words_op(argc, argv, "add", 1, name[0] == 'i' ? 1 : -1);
    if (!strcmp(name, "sadd") || !strcmp(name, "srem"))
        return words_op(argc, argv, name[1] == 'a' ? "add" : "remove", 0, 1);
    return NULL;
}

static const struct mode_command cr_commands[] = {
    {"incr", "incr KEY [N] [type=gcounter|pncounter] [@NODE]", "add N (default 1) to a counter on one node",
     "incr hits 5", 1, 3, cmd_incr, MC_ANY},
    {"decr", "decr KEY [N] [@NODE]", "take N (default 1) from a pncounter on one node", "decr hits 1", 1, 3,
     cmd_decr, MC_ANY},
    {"sadd", "sadd KEY ELEMENT [type=orset|gset|2pset] [@NODE]", "add an element to a set (an OR-Set unless the key "
     "or type= says otherwise)", "sadd cart milk", 2, 3, cmd_sadd, MC_ANY},
    {"srem", "srem KEY ELEMENT [@NODE]", "remove an element from a set (OR-Set: the adds this node has seen)",
     "srem cart milk", 2, 3, cmd_srem, MC_ANY},
    {"smembers", "smembers KEY [@NODE]", "a key's value on one node, as that node holds it now", "smembers cart",
     1, 1, cmd_smembers, MC_ANY},
    {"setreg", "setreg KEY VALUE [type=lww|mv] [@NODE]", "write a register: last-writer-wins (by the node's clock) "
     "or multi-value (concurrent writes kept)", "setreg x v1 type=mv", 2, 3, cmd_setreg, MC_ANY},
    {"cart", "cart add KEY ITEM [N] | cart rem KEY ITEM [@NODE]", "a shopping cart (an OR-Map of counters): add N of "
     "an item, or remove the item", "cart add basket milk 2", 3, 4, cmd_cart, MC_ANY},
    {"show", "show KEY [@NODE]", "a key's CRDT state on one node: dots, tombstones, vectors, clocks",
     "show cart", 1, 1, cmd_show, MC_ANY},
    {NULL, NULL, NULL, NULL, 0, 0, NULL, MC_ANY},
};

static const struct mode_option cr_options[] = {
    {"sync", OPT_ENUM, "state|delta|op", 0, 0, "delta", "state: gossip whole states; delta: ship each update's delta "
     "until acknowledged (whole state only when the log cannot); op: broadcast each operation, applied in causal order"},
    {"interval", OPT_DURATION, NULL, 1000, 60000000, "100ms", "how often a node syncs with its peers"},
    {"fanout", OPT_INT, NULL, 1, CL_MAXN - 1, "2", "peers a node syncs with each interval (chosen at random)"},
    {"resend_after", OPT_DURATION, NULL, 1000, 60000000, "500ms", "deltas not acknowledged by then are sent again"},
    {"maelstrom", OPT_ENUM, "auto|g-set|g-counter|pn-counter", 0, 0, "auto", "the Maelstrom workload whose keyless "
     "add/read bodies the nodes answer: g-set (key set, [] before any add), g-counter (key counter, a gcounter: a "
     "negative delta is refused), pn-counter (key counter); auto: set when it exists, else counter"},
    {NULL, 0, NULL, 0, 0, NULL, NULL},
};

static const struct mode_handler cr_handlers[] = {
    {"update", on_update},
    {"crdt", on_update},        /* the workload's own name: the same request as update */
    {"read", on_read},
    {"write", on_write},
    {"add", on_add},
    {"crdt_state", on_crdt_state},
    {"crdt_delta", on_crdt_delta},
    {"crdt_ack", on_crdt_ack},
    {"crdt_ops", on_crdt_ops},
    {NULL, NULL},
};

/* ---- the face (mode.h) ------------------------------------------------------------------ */

static const struct mode_role cr_roles[] = {
    {"replica", RC_PEER},
    {NULL, RC_UNKNOWN},
};

static const struct mode_figure cr_figures[] = {
    {"extra.keys", "keys", "keys="},
    {"extra.updates", "updates", "upd="},
    {"extra.sync", "sync", NULL},
    {"extra.bytes_sent", "bytes_sent", NULL},
    {"extra.buffered", "buffered", NULL},
    {NULL, NULL, NULL},
};

static const struct mode_check cr_checks[] = {
    {"crdt", "every key's replicas that saw all its updates hold what its type says; counter reads within "
     "Maelstrom's bound", crdtcheck_run},
    {NULL, NULL, NULL},
};

static const char *const cr_client_types[] = {"update", "crdt", "read", "write", "add", NULL};

const struct mode mode_crdt = {
    .name = "crdt",
    .summary = "CRDTs: counters, sets, registers and a shopping cart, updated anywhere, merged by state or delta sync",
    .options = cr_options,
    .bugs = "merge-sum|no-causal",
    .handlers = cr_handlers,
    .commands = cr_commands,
    .create = cr_create,
    .start = cr_start,
    .destroy = cr_destroy,
    .on_timer = cr_on_timer,
    .status = cr_status,
    .monitor = &crdt_monitor,
    .workload = "crdt",
    .client_types = cr_client_types,
    .roles = cr_roles,
    .figures = cr_figures,
    .events = "state|update|merge|digest|sync|deliver|buffer|query|error",
    .checks = cr_checks,
    .command_op = cr_command_op,
};
