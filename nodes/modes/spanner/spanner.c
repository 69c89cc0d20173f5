/* spanner — TrueTime timestamps and commit-wait (issue 15; docs/modes/spanner.md; Corbett et
 * al., "Spanner: Google's Globally-Distributed Database", OSDI 2012, §4.1.2 and §4.2.1; the
 * course's chapter 8.1 and interview question 9).
 *
 * Every node is a replica of every key and any node coordinates the requests a client sends
 * it. Each node reads TrueTime (nodes/kit/truetime.h): TT.now() = [pt − ε, pt + ε] around its
 * own (skewable) physical clock pt, with the ε the student sets (`epsilon=7ms`).
 *
 *   client ──write──► coordinator: s = TT.now().latest (above its last stamp), stored, logged
 *                      ├─tt_write{s}──► every other replica: stored, logged ──tt_write_ok──┐
 *                      └─ commit-wait: until TT.after(s), i.e. earliest > s (≈ 2ε)        │
 *              write_ok{ts:s} once both: a majority holds it AND the wait is over ◄───────┘
 *   client ──read───► coordinator: t = TT.now().latest; its newest version at or below t
 *                      ├─tt_read{at:t}──► every other replica ──tt_read_ok{newest ≤ t}──┐
 *                      │  (a majority answered: the newest of all; written back with     │
 *                      │   tt_write to a majority that lacked it, as in ABD)         ◄───┘
 *                      └─ read-wait: until TT.after(t) (Spanner's wait for t_safe ≥ t)
 *              read_ok{value, ts:t} once both
 *
 * A version is (ts, writer node, value); a replica keeps the newest versions of each key
 * (VERSIONS_KEPT) and a read at t sees the newest with ts ≤ t. Versions are never in conflict:
 * the greatest (ts, writer) is the current one everywhere, so replicas converge once every
 * tt_write has arrived (the coordinator resends it every `retry` to whoever has not acked).
 *
 * Why commit-wait: when T1 is acknowledged before T2 starts (in real time), s1 < TT.after-time
 * of T1 ≤ true time at T1's ack < true time at T2's start ≤ s2 — timestamps follow real time
 * (external consistency), and with majority writes and write-back reads the register is
 * linearizable. It rests on every clock being within ε of true time: a `skew` larger than ε
 * breaks it even with commit-wait (the monitor says so).
 *
 * States: one role, `replica` (class peer), from start to crash. Durable: every stored version
 * (a log record) before it is acknowledged; a restart replays them.
 *
 * Invariants (checked live by ttmon.c from the events): external consistency — for two
 * transactions T1, T2 (writes and reads) with T1 acknowledged before T2 began, ts(T1) <
 * ts(T2); a transaction's timestamp is visible (acknowledged) only after TT.after(ts).
 *
 * Bug toggle: bug=no-commit-wait acknowledges a write as soon as a majority holds it, without
 * waiting out the uncertainty. With two clocks skewed apart within ε, a write that starts after
 * another finished can get an earlier timestamp: the checker shows the pair, and on one key
 * the later write is lost (older by timestamp).
 *
 * Simplifications (docs/modes/spanner.md): one Paxos group of every node with a majority
 * quorum stands for Spanner's many groups and their leaders; no multi-key transactions, no
 * leases; an op without a majority for the lab's `timeout` (plus 2ε) gets error 11. With a
 * large ε, start with timeout= above 2ε, or the lab gives up on the client's side first.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "env.h"
#include "hash.h"
#include "kvsm.h"
#include "mode.h"
#include "msg.h"
#include "spanner.h"
#include "truetime.h"

#define VERSIONS_KEPT 64                 /* per key; older ones are pruned */
#define MAX_TS ((uint64_t)INT64_MAX)
#define MAX_ID ((uint64_t)INT64_MAX)
#define MAX_BACKGROUND 1024              /* answered writes still resent to laggards */

enum { T_TICK = 1, T_WAIT, T_OP };
enum { OP_WRITE, OP_READ };

struct ver {
    uint64_t ts;
    int node;                /* the coordinator that stamped it */
    char *value;
};

struct key {
    char *key;
    struct ver *v;           /* ascending (ts, node) */
    int nv, cap;
    struct key *next;
};

struct op {
    uint64_t id;
    int kind;
    char client[CL_IDLEN];
    json_t *req;             /* NULL once answered (a write still spreading) */
    char *key;
    struct ver v;            /* write: the version; read: the newest seen (ts 0: none) */
    uint64_t ts;             /* write: s; read: the read timestamp t */
    uint32_t acked;          /* write: replicas that hold it; read: replicas that answered */
    uint32_t have;           /* read: replicas known to hold v */
    int waited;              /* TT.after(ts) reached (or skipped) */
    int wb;                  /* read: the write-back was sent */
    uint64_t t_wait, t_op;
    uint64_t begin_pt, wait_us;
    struct op *next;
};

struct sp {
    struct env *e;
    uint64_t eps, retry, timeout;
    int bug_no_wait;
    struct key **b;
    size_t nb, nkeys;
    struct op *ops;
    int nbackground;
    uint64_t next_op, last_ts, t_tick;
    uint64_t writes, reads, stored, waits, last_wait_us, max_wait_us;
};

static int majority(const struct sp *st) { return st->e->n_nodes / 2 + 1; }
static int self_idx(const struct sp *st) { return st->e->self_idx; }
static const char *nname(const struct sp *st, int i) { return st->e->nodes[i]; }

static int popcount32(uint32_t x)
{
    int n = 0;
    for (; x; x &= x - 1)
        n++;
    return n;
}

static int ver_cmp(uint64_t ts_a, int node_a, uint64_t ts_b, int node_b)
{
    if (ts_a != ts_b)
        return ts_a < ts_b ? -1 : 1;
    return node_a < node_b ? -1 : node_a > node_b;
}

/* ---- the store ---------------------------------------------------------------------- */

static struct key *key_get(struct sp *st, const char *k, int create)
{
    size_t h = (size_t)hash_str(k) & (st->nb - 1);
    for (struct key *p = st->b[h]; p; p = p->next)
        if (!strcmp(p->key, k))
            return p;
    if (!create)
        return NULL;
    if (st->nkeys >= st->nb) {
        size_t nb = st->nb * 2;
        struct key **b = xcalloc(nb, sizeof *b);
        for (size_t i = 0; i < st->nb; i++)
            for (struct key *p = st->b[i], *next; p; p = next) {
                next = p->next;
                size_t j = (size_t)hash_str(p->key) & (nb - 1);
                p->next = b[j];
                b[j] = p;
            }
        free(st->b);
        st->b = b;
        st->nb = nb;
        h = (size_t)hash_str(k) & (st->nb - 1);
    }
    struct key *p = xcalloc(1, sizeof *p);
    p->key = xstrdup(k);
    p->next = st->b[h];
    st->b[h] = p;
    st->nkeys++;
    return p;
}

/* The newest version of k at or below ts (UINT64_MAX: the newest), or NULL. */
static const struct ver *ver_at(const struct key *k, uint64_t ts)
{
    for (int i = k ? k->nv - 1 : -1; i >= 0; i--)
        if (k->v[i].ts <= ts)
            return &k->v[i];
    return NULL;
}

/* Stores a version; 1 when it was new here (2 when it is also the newest), 0 when held. */
static int ver_put(struct key *k, uint64_t ts, int node, const char *value)
{
    int i = k->nv;
    while (i > 0 && ver_cmp(k->v[i - 1].ts, k->v[i - 1].node, ts, node) > 0)
        i--;
    if (i > 0 && k->v[i - 1].ts == ts && k->v[i - 1].node == node)
        return 0;
    if (k->nv == VERSIONS_KEPT) {
        if (i == 0)
            return 0; /* older than everything kept: a read at its time is long gone */
        free(k->v[0].value);
        memmove(k->v, k->v + 1, (size_t)(k->nv - 1) * sizeof *k->v);
        k->nv--;
        i--;
    }
    if (k->nv == k->cap) {
        k->cap = k->cap ? k->cap * 2 : 2;
        k->v = xrealloc(k->v, (size_t)k->cap * sizeof *k->v);
    }
    memmove(k->v + i + 1, k->v + i, (size_t)(k->nv - i) * sizeof *k->v);
    k->v[i] = (struct ver){ts, node, xstrdup(value)};
    k->nv++;
    return i == k->nv - 1 ? 2 : 1;
}

static void log_ver(struct sp *st, const char *key, uint64_t ts, int node, const char *value)
{
    json_t *r = json_pack("{s:s,s:o,s:I,s:s}", "k", key, "v", kvsm_value_decode(value), "ts", (json_int_t)ts, "w",
                          nname(st, node));
    char *s = json_dumps(r, JSON_COMPACT);
    json_decref(r);
    if (s) {
        st->e->ops->log_append(st->e, "versions", s, strlen(s));
        free(s);
    }
}

/* Stores, logs and announces a version (the caller syncs the log). Returns ver_put's answer. */
static int store(struct sp *st, const char *key, uint64_t ts, int node, const char *value, const char *from)
{
    int r = ver_put(key_get(st, key, 1), ts, node, value);
    if (!r)
        return 0;
    st->stored++;
    log_ver(st, key, ts, node, value);
    if (r == 2)
        env_event(st->e, "apply", json_pack("{s:s,s:o,s:I,s:s,s:s}", "key", key, "value", kvsm_value_decode(value), "ts", (json_int_t)ts,
                                            "writer", nname(st, node), "from", from));
    return r;
}

struct rec {
    const char *k, *w;
    const json_t *v;        /* any JSON (a string in logs written before JSON values) */
    uint64_t ts;
};

static const struct msg_field rec_fields[] = {
    MSG_STR(struct rec, k),
    MSG_ANY(struct rec, v),
    MSG_U64(struct rec, ts, MAX_TS),
    MSG_STR(struct rec, w),
    MSG_END,
};

struct replay {
    struct sp *st;
    long bad;
};

static void replay_rec(void *ud, const void *data, size_t len)
{
    struct replay *rp = ud;
    struct sp *st = rp->st;
    json_t *j = json_loadb(data, len, 0, NULL);
    struct rec r;
    char err[200];
    int w;
    if (!j || msg_get(j, "a log record", rec_fields, &r, err, sizeof err) < 0 || (w = env_node_index(st->e, r.w)) < 0) {
        rp->bad++;
        json_decref(j);
        return;
    }
    char *v = kvsm_value_encode(r.v);
    ver_put(key_get(st, r.k, 1), r.ts, w, v);
    free(v);
    if (w == self_idx(st) && r.ts > st->last_ts)
        st->last_ts = r.ts;
    json_decref(j);
}

/* ---- coordinator: operations ---------------------------------------------------------- */

static void op_free(struct sp *st, struct op *op)
{
    for (struct op **p = &st->ops; *p; p = &(*p)->next)
        if (*p == op) {
            *p = op->next;
            break;
        }
    if (!op->req)
        st->nbackground--;
    env_timer_cancel(st->e, op->t_wait);
    env_timer_cancel(st->e, op->t_op);
    json_decref(op->req);
    free(op->key);
    free(op->v.value);
    free(op);
}

static struct op *op_find(struct sp *st, uint64_t id)
{
    for (struct op *op = st->ops; op; op = op->next)
        if (op->id == id)
            return op;
    return NULL;
}

static json_t *write_msg(const struct sp *st, uint64_t id, const char *key, const struct ver *v)
{
    return json_pack("{s:s,s:I,s:s,s:o,s:I,s:s}", "type", "tt_write", "id", (json_int_t)id, "key", key, "value",
                     kvsm_value_decode(v->value), "ts", (json_int_t)v->ts, "writer", nname(st, v->node));
}

static void send_missing(struct sp *st, struct op *op, uint32_t have)
{
    for (int i = 0; i < st->e->n_nodes; i++)
        if (i != self_idx(st) && !(have & (1u << i)))
            env_send(st->e, nname(st, i), write_msg(st, op->id, op->key, &op->v));
}

static void send_reads(struct sp *st, struct op *op)
{
    for (int i = 0; i < st->e->n_nodes; i++)
        if (i != self_idx(st) && !(op->acked & (1u << i)))
            env_send(st->e, nname(st, i), json_pack("{s:s,s:I,s:s,s:I}", "type", "tt_read", "id", (json_int_t)op->id,
                                                    "key", op->key, "at", (json_int_t)op->ts));
}

/* The op's wait: until TT.after(op->ts) by this node's clock. */
static void arm_wait(struct sp *st, struct op *op, int skip)
{
    uint64_t pt = env_now_us(st->e);
    struct tt_interval tt = tt_at(pt, st->eps);
    uint64_t w = tt_wait_us(pt, st->eps, op->ts);
    env_event(st->e, "commit_wait",
              json_pack("{s:I,s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:b}", "id", (json_int_t)op->id, "op",
                        op->kind == OP_WRITE ? "write" : "read", "key", op->key, "ts", (json_int_t)op->ts, "earliest",
                        (json_int_t)tt.earliest, "latest", (json_int_t)tt.latest, "epsilon_us", (json_int_t)st->eps,
                        "wait_us", (json_int_t)(skip ? 0 : w), "skipped", skip));
    if (skip || !w) {
        op->waited = 1;
        return;
    }
    op->t_wait = env_timer_set(st->e, w, T_WAIT, op->id);
}

static void op_try_finish(struct sp *st, struct op *op)
{
    if (!op->req || !op->waited)
        return;
    int need = majority(st);
    if (op->kind == OP_WRITE && popcount32(op->acked) < need)
        return;
    if (op->kind == OP_READ && (popcount32(op->acked) < need || (op->v.ts && popcount32(op->have) < need)))
        return;
    uint64_t waited = env_now_us(st->e) - op->begin_pt;
    if (op->wait_us > st->max_wait_us)
        st->max_wait_us = op->wait_us;
    st->last_wait_us = op->wait_us;
    const char *kind = op->kind == OP_WRITE ? "write" : "read";
    json_t *ev = json_pack("{s:I,s:s,s:s,s:I,s:I,s:I}", "id", (json_int_t)op->id, "op", kind, "key", op->key, "ts",
                           (json_int_t)op->ts, "latency_us", (json_int_t)waited, "wait_us", (json_int_t)op->wait_us);
    if (op->v.ts)
        json_object_set_new(ev, "value", kvsm_value_decode(op->v.value));
    env_event(st->e, "txn_commit", ev);
    json_t *reply;
    if (op->kind == OP_WRITE)
        reply = json_pack("{s:s,s:I}", "type", "write_ok", "ts", (json_int_t)op->ts);
    else if (op->v.ts)
        reply = json_pack("{s:s,s:o,s:I,s:I,s:s}", "type", "read_ok", "value", kvsm_value_decode(op->v.value), "ts",
                          (json_int_t)op->ts,
                          "version", (json_int_t)op->v.ts, "writer", nname(st, op->v.node));
    else
        reply = json_pack("{s:s,s:i,s:s,s:I}", "type", "error", "code", ERR_KEY_DOES_NOT_EXIST, "text",
                          "no version at or below the read timestamp", "ts", (json_int_t)op->ts);
    env_reply(st->e, op->client, op->req, reply);
    json_decref(op->req);
    op->req = NULL;
    env_timer_cancel(st->e, op->t_op);
    op->t_op = 0;
    uint32_t all = st->e->n_nodes >= 32 ? ~0u : (1u << st->e->n_nodes) - 1;
    uint32_t held = op->kind == OP_WRITE ? op->acked : op->have;
    if (op->v.ts && (held & all) != all && st->nbackground < MAX_BACKGROUND) {
        st->nbackground++; /* keeps spreading to the laggards every retry */
        if (op->kind == OP_READ)
            op->acked = op->have;
        op->kind = OP_WRITE;
        return;
    }
    op_free(st, op);
}

static struct op *op_new(struct sp *st, int kind, const char *src, const json_t *body, const char *key)
{
    struct op *op = xcalloc(1, sizeof *op);
    op->id = ++st->next_op;
    op->kind = kind;
    str_copy(op->client, src, sizeof op->client);
    op->req = json_deep_copy(body);
    op->key = xstrdup(key);
    op->acked = 1u << self_idx(st);
    op->begin_pt = env_now_us(st->e);
    op->next = st->ops;
    st->ops = op;
    op->t_op = env_timer_set(st->e, st->timeout + 2 * st->eps, T_OP, op->id);
    env_event(st->e, "txn_begin", json_pack("{s:I,s:s,s:s}", "id", (json_int_t)op->id, "op",
                                            kind == OP_WRITE ? "write" : "read", "key", key));
    return op;
}

/* A client's key is a string or a whole number (taken as its decimal text); a value is any
 * JSON, kept as kvsm's entry text (kvsm.h) so that 42 and "42" stay apart. */
struct client_req {
    char *key;
    const json_t *value;
};

static const struct msg_field read_fields[] = {
    MSG_TEXT(struct client_req, key),
    MSG_END,
};

static const struct msg_field write_fields[] = {
    MSG_TEXT(struct client_req, key),
    MSG_ANY(struct client_req, value),
    MSG_END,
};

static void on_write(void *vst, const char *src, const json_t *body)
{
    struct sp *st = vst;
    struct client_req req;
    if (msg_get_request(st->e, src, body, write_fields, &req, sizeof req) < 0)
        return;
    struct op *op = op_new(st, OP_WRITE, src, body, req.key);
    /* s = TT.now().latest, above every stamp this node gave before */
    struct tt_interval tt = tt_now(st->e, st->eps);
    uint64_t s = tt.latest > st->last_ts ? tt.latest : st->last_ts + 1;
    st->last_ts = s;
    op->ts = s;
    op->v = (struct ver){s, self_idx(st), kvsm_value_encode(req.value)};
    st->writes++;
    store(st, req.key, s, self_idx(st), op->v.value, "client");
    st->e->ops->log_sync(st->e, "versions");
    msg_free_text(write_fields, &req);
    send_missing(st, op, op->acked);
    op->wait_us = tt_wait_us(env_now_us(st->e), st->eps, s);
    arm_wait(st, op, st->bug_no_wait);
    if (st->bug_no_wait)
        op->wait_us = 0;
    op_try_finish(st, op);
}

static void on_read(void *vst, const char *src, const json_t *body)
{
    struct sp *st = vst;
    struct client_req req;
    if (msg_get_request(st->e, src, body, read_fields, &req, sizeof req) < 0)
        return;
    struct op *op = op_new(st, OP_READ, src, body, req.key);
    op->ts = tt_now(st->e, st->eps).latest;
    const struct ver *v = ver_at(key_get(st, req.key, 0), op->ts);
    if (v) {
        op->v = (struct ver){v->ts, v->node, xstrdup(v->value)};
        op->have = 1u << self_idx(st);
    }
    msg_free_text(read_fields, &req);
    st->reads++;
    send_reads(st, op);
    op->wait_us = tt_wait_us(env_now_us(st->e), st->eps, op->ts);
    arm_wait(st, op, 0);
    op_try_finish(st, op);
}

/* ---- replica: peer messages ----------------------------------------------------------- */

struct write_msg {
    uint64_t id, ts;
    const char *key, *writer;
    const json_t *value;
};

static const struct msg_field write_msg_fields[] = {
    MSG_U64(struct write_msg, id, MAX_ID),
    MSG_STR(struct write_msg, key),
    MSG_ANY(struct write_msg, value),
    MSG_U64(struct write_msg, ts, MAX_TS),
    MSG_STR(struct write_msg, writer),
    MSG_END,
};

static int peer_of(struct sp *st, const char *src)
{
    int from = env_node_index(st->e, src);
    return from == self_idx(st) ? -1 : from;
}

static void peer_error(struct sp *st, const char *src, const char *text)
{
    env_event(st->e, "error", json_pack("{s:s,s:s}", "from", src, "text", text));
}

static void on_tt_write(void *vst, const char *src, const json_t *body)
{
    struct sp *st = vst;
    struct write_msg m;
    char err[256];
    if (peer_of(st, src) < 0)
        return; /* not a peer */
    if (msg_get(body, NULL, write_msg_fields, &m, err, sizeof err) < 0)
        return peer_error(st, src, err);
    int w = env_node_index(st->e, m.writer);
    if (w < 0 || !m.ts) {
        snprintf(err, sizeof err, "tt_write names writer \"%.40s\" and ts %" PRIu64 ": expected a node of the cluster and a ts above 0",
                 m.writer, m.ts);
        return peer_error(st, src, err);
    }
    char *v = kvsm_value_encode(m.value);
    if (store(st, m.key, m.ts, w, v, src))
        st->e->ops->log_sync(st->e, "versions"); /* durable before acknowledged */
    free(v);
    env_send(st->e, src, json_pack("{s:s,s:I,s:I,s:s}", "type", "tt_write_ok", "id", (json_int_t)m.id, "ts",
                                   (json_int_t)m.ts, "writer", m.writer));
}

struct ack_msg {
    uint64_t id, ts;
    const char *writer;
};

static const struct msg_field ack_fields[] = {
    MSG_U64(struct ack_msg, id, MAX_ID),
    MSG_U64(struct ack_msg, ts, MAX_TS),
    MSG_STR(struct ack_msg, writer),
    MSG_END,
};

static void on_tt_write_ok(void *vst, const char *src, const json_t *body)
{
    struct sp *st = vst;
    struct ack_msg m;
    char err[256];
    int from = peer_of(st, src);
    if (from < 0)
        return;
    if (msg_get(body, NULL, ack_fields, &m, err, sizeof err) < 0)
        return peer_error(st, src, err);
    struct op *op = op_find(st, m.id);
    if (!op || op->v.ts != m.ts || strcmp(nname(st, op->v.node), m.writer))
        return; /* answered and done, or a stale ack */
    if (op->kind == OP_WRITE)
        op->acked |= 1u << from;
    else
        op->have |= 1u << from;
    uint32_t all = st->e->n_nodes >= 32 ? ~0u : (1u << st->e->n_nodes) - 1;
    if (!op->req && (op->acked & all) == all) {
        op_free(st, op);
        return;
    }
    op_try_finish(st, op);
}

struct read_msg {
    uint64_t id, at;
    const char *key;
};

static const struct msg_field read_msg_fields[] = {
    MSG_U64(struct read_msg, id, MAX_ID),
    MSG_STR(struct read_msg, key),
    MSG_U64(struct read_msg, at, MAX_TS),
    MSG_END,
};

static void on_tt_read(void *vst, const char *src, const json_t *body)
{
    struct sp *st = vst;
    struct read_msg m;
    char err[256];
    if (peer_of(st, src) < 0)
        return;
    if (msg_get(body, NULL, read_msg_fields, &m, err, sizeof err) < 0)
        return peer_error(st, src, err);
    const struct ver *v = ver_at(key_get(st, m.key, 0), m.at);
    json_t *r = json_pack("{s:s,s:I,s:I}", "type", "tt_read_ok", "id", (json_int_t)m.id, "ts", (json_int_t)(v ? v->ts : 0));
    if (v) {
        json_object_set_new(r, "value", kvsm_value_decode(v->value));
        json_object_set_new(r, "writer", json_string(nname(st, v->node)));
    }
    env_send(st->e, src, r);
}

struct read_ok_msg {
    uint64_t id, ts;
    const char *writer;
    const json_t *value;
};

static const struct msg_field read_ok_fields[] = {
    MSG_U64(struct read_ok_msg, id, MAX_ID),
    MSG_U64(struct read_ok_msg, ts, MAX_TS),
    MSG_ANY_OPT(struct read_ok_msg, value),
    MSG_STR_OPT(struct read_ok_msg, writer),
    MSG_END,
};

static void on_tt_read_ok(void *vst, const char *src, const json_t *body)
{
    struct sp *st = vst;
    struct read_ok_msg m = {0};
    char err[256];
    int from = peer_of(st, src);
    if (from < 0)
        return;
    if (msg_get(body, NULL, read_ok_fields, &m, err, sizeof err) < 0)
        return peer_error(st, src, err);
    int w = m.writer ? env_node_index(st->e, m.writer) : -1;
    if (m.ts && (!m.value || w < 0))
        return peer_error(st, src, "tt_read_ok with a ts needs a \"value\" and a \"writer\" of the cluster");
    struct op *op = op_find(st, m.id);
    if (!op || op->kind != OP_READ || !op->req || (op->acked & (1u << from)))
        return;
    if (m.ts > op->ts)
        return peer_error(st, src, "tt_read_ok answers a version above the read timestamp");
    op->acked |= 1u << from;
    if (m.ts) {
        int c = ver_cmp(m.ts, w, op->v.ts, op->v.node);
        if (!op->v.ts || c > 0) {
            free(op->v.value);
            op->v = (struct ver){m.ts, w, kvsm_value_encode(m.value)};
            op->have = 0;
            /* newer here than this coordinator's copy: store it too */
            if (store(st, op->key, m.ts, w, op->v.value, src))
                st->e->ops->log_sync(st->e, "versions");
            op->have |= 1u << self_idx(st);
            c = 0;
        }
        if (c == 0)
            op->have |= 1u << from;
    }
    /* a majority answered: the newest must be held by a majority before it is returned */
    if (!op->wb && popcount32(op->acked) >= majority(st) && op->v.ts && popcount32(op->have) < majority(st)) {
        op->wb = 1;
        send_missing(st, op, op->have);
    }
    op_try_finish(st, op);
}

/* ---- timers ---------------------------------------------------------------------------- */

static void on_timer(void *vst, int kind, uint64_t arg)
{
    struct sp *st = vst;
    if (kind == T_TICK) {
        for (struct op *op = st->ops; op; op = op->next) {
            if (op->kind == OP_WRITE)
                send_missing(st, op, op->acked);
            else if (op->wb)
                send_missing(st, op, op->have);
            else
                send_reads(st, op);
        }
        st->t_tick = env_timer_set(st->e, st->retry, T_TICK, 0);
        return;
    }
    struct op *op = op_find(st, arg);
    if (!op)
        return;
    if (kind == T_WAIT) {
        op->t_wait = 0;
        uint64_t w = tt_wait_us(env_now_us(st->e), st->eps, op->ts);
        if (w) { /* the timer ran early by this node's clock (speed, a clock step): again */
            op->t_wait = env_timer_set(st->e, w, T_WAIT, op->id);
            return;
        }
        op->waited = 1;
        op_try_finish(st, op);
        return;
    }
    if (kind == T_OP && op->req) {
        op->t_op = 0;
        char text[200];
        int got = popcount32(op->kind == OP_WRITE || !op->wb ? op->acked : op->have);
        snprintf(text, sizeof text, "%s: %d of %d replicas answered in time, a majority is %d%s",
                 op->kind == OP_WRITE ? "write not acknowledged" : "read not answered", got, st->e->n_nodes,
                 majority(st), op->kind == OP_WRITE ? "; the version is stored here and keeps replicating" : "");
        json_t *e = json_pack("{s:s,s:i,s:s}", "type", "error", "code", ERR_TEMPORARILY_UNAVAILABLE, "text", text);
        if (op->kind == OP_WRITE)
            json_object_set_new(e, "indefinite", json_true());
        env_reply(st->e, op->client, op->req, e);
        json_decref(op->req);
        op->req = NULL;
        if (op->kind == OP_WRITE && st->nbackground < MAX_BACKGROUND) {
            st->nbackground++;
            return;
        }
        st->nbackground++; /* op_free counts it back */
        op_free(st, op);
    }
}

/* ---- status ---------------------------------------------------------------------------- */

static json_t *sp_status(void *vst)
{
    struct sp *st = vst;
    json_t *data = json_object();
    for (size_t i = 0; i < st->nb; i++)
        for (struct key *k = st->b[i]; k; k = k->next)
            if (k->nv)
                json_object_set_new(data, k->key, kvsm_value_decode(k->v[k->nv - 1].value));
    uint64_t pt = env_now_us(st->e);
    struct tt_interval tt = tt_at(pt, st->eps);
    int pending = 0;
    for (struct op *op = st->ops; op; op = op->next)
        pending++;
    json_t *extra = json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:i,s:b}", "keys", (json_int_t)st->nkeys,
                              "writes", (json_int_t)st->writes, "reads", (json_int_t)st->reads, "stored",
                              (json_int_t)st->stored, "epsilon_us", (json_int_t)st->eps, "epsilon_ms",
                              (json_int_t)(st->eps / 1000), "tt_earliest", (json_int_t)tt.earliest, "tt_latest",
                              (json_int_t)tt.latest, "last_ts", (json_int_t)st->last_ts, "last_wait_ms",
                              (json_int_t)(st->last_wait_us / 1000), "max_wait_us", (json_int_t)st->max_wait_us,
                              "pending", pending, "commit_wait", !st->bug_no_wait);
    json_t *ttj = json_pack("{s:I,s:I,s:I}", "earliest", (json_int_t)tt.earliest, "latest", (json_int_t)tt.latest,
                            "epsilon_us", (json_int_t)st->eps);
    return json_pack("{s:s,s:o,s:o,s:o}", "role", "replica", "data", data, "extra", extra, "truetime", ttj);
}

/* ---- life cycle ------------------------------------------------------------------------- */

static const struct mode_option sp_options[] = {
    {"epsilon", OPT_DURATION, NULL, 0, 60000000, "7ms",
     "TrueTime's uncertainty ε: TT.now() = [clock − ε, clock + ε]; a commit waits about 2ε"},
    {"retry", OPT_DURATION, NULL, 1000, 0, "200ms", "how often unanswered replicas are asked again"},
    {NULL, 0, NULL, 0, 0, NULL, NULL},
};

static void sp_destroy(void *vst)
{
    struct sp *st = vst;
    if (!st)
        return;
    while (st->ops)
        op_free(st, st->ops);
    env_timer_cancel(st->e, st->t_tick);
    for (size_t i = 0; i < st->nb; i++)
        for (struct key *k = st->b[i], *next; k; k = next) {
            next = k->next;
            for (int j = 0; j < k->nv; j++)
                free(k->v[j].value);
            free(k->v);
            free(k->key);
            free(k);
        }
    free(st->b);
    free(st);
}

static void *sp_create(struct env *e, const struct opts *o, char *err, size_t errlen)
{
    if (e->n_nodes > 31) {
        snprintf(err, errlen, "spanner runs at most 31 nodes, got %d", e->n_nodes);
        return NULL;
    }
    struct sp *st = xcalloc(1, sizeof *st);
    st->e = e;
    st->eps = opts_get_duration(o, "epsilon", 7000);
    st->retry = opts_get_duration(o, "retry", 200000);
    st->timeout = opts_get_duration(o, "timeout", 2000000); /* the lab's client timeout (generic) */
    if (!st->retry)
        st->retry = 200000;
    st->bug_no_wait = !strcmp(opts_get(o, "bug", "none"), "no-commit-wait");
    st->nb = 64;
    st->b = xcalloc(st->nb, sizeof *st->b);
    st->next_op = (env_rand(e) & 0xffffffffull) << 20;
    struct replay rp = {st, 0};
    long n = e->ops->log_read(e, "versions", replay_rec, &rp);
    if (n < 0) {
        snprintf(err, errlen, "cannot read the versions log (error %ld)", n);
        sp_destroy(st);
        return NULL;
    }
    if (rp.bad)
        env_event(e, "error", json_pack("{s:s,s:I}", "text", "versions log: records skipped (not a version)", "count",
                                        (json_int_t)rp.bad));
    return st;
}

static void sp_start(void *vst)
{
    struct sp *st = vst;
    env_event(st->e, "state", json_pack("{s:s,s:I,s:b}", "role", "replica", "epsilon_us", (json_int_t)st->eps,
                                        "commit_wait", !st->bug_no_wait));
    st->t_tick = env_timer_set(st->e, st->retry, T_TICK, 0);
}

/* `tt [NODE]`: TrueTime on that node now. */
static json_t *cmd_tt(void *vst, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    struct sp *st = vst;
    uint64_t pt = env_now_us(st->e);
    struct tt_interval tt = tt_at(pt, st->eps);
    char text[300];
    snprintf(text, sizeof text,
             "%s TT.now() = [%" PRIu64 ".%03" PRIu64 ", %" PRIu64 ".%03" PRIu64 "] ms (clock %" PRIu64 ".%03" PRIu64
             " ms, ε = %" PRIu64 ".%03" PRIu64 " ms); last commit wait %" PRIu64 ".%03" PRIu64 " ms%s",
             st->e->self, tt.earliest / 1000, tt.earliest % 1000, tt.latest / 1000, tt.latest % 1000, pt / 1000,
             pt % 1000, st->eps / 1000, st->eps % 1000, st->last_wait_us / 1000, st->last_wait_us % 1000,
             st->bug_no_wait ? " (bug=no-commit-wait: writes do not wait)" : "");
    return json_pack("{s:b,s:s}", "ok", 1, "text", text);
}

static const struct mode_command sp_commands[] = {
    {"tt", "tt NODE", "Show TrueTime on a node: TT.now() = [earliest, latest], its clock, ε and its last commit wait.",
     "tt n1", 1, 1, cmd_tt, MC_ON_NODE},
    {NULL, NULL, NULL, NULL, 0, 0, NULL, MC_ANY},
};

static const struct mode_handler sp_handlers[] = {
    {"read", on_read},
    {"write", on_write},
    {"tt_write", on_tt_write},
    {"tt_write_ok", on_tt_write_ok},
    {"tt_read", on_tt_read},
    {"tt_read_ok", on_tt_read_ok},
    {NULL, NULL},
};

/* ---- the face (mode.h) ------------------------------------------------------------------ */

static const struct mode_role sp_roles[] = {
    {"replica", RC_PEER},
    {NULL, RC_UNKNOWN},
};

static const struct mode_figure sp_figures[] = {
    {"extra.epsilon_ms", "epsilon_ms", "ε="},
    {"extra.last_wait_ms", "wait_ms", "wait="},
    {"extra.writes", "writes", "w="},
    {"extra.keys", "keys", NULL},
    {NULL, NULL, NULL},
};

static const char *const sp_client_types[] = {"read", "write", NULL};

const struct mode mode_spanner = {
    .name = "spanner",
    .summary = "TrueTime timestamps and commit-wait: a write waits out the clock uncertainty 2ε, so timestamps follow real time",
    .options = sp_options,
    .bugs = "no-commit-wait",
    .handlers = sp_handlers,
    .commands = sp_commands,
    .create = sp_create,
    .start = sp_start,
    .destroy = sp_destroy,
    .on_timer = on_timer,
    .status = sp_status,
    .monitor = &spanner_monitor,
    .workload = "lin-kv",
    .client_types = sp_client_types,
    .roles = sp_roles,
    .figures = sp_figures,
    .events = "state|apply|txn_begin|commit_wait|txn_commit|error",
    .checks = spanner_checks,
};
