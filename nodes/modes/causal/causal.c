/* causal — causal+ consistency in the style of COPS (Lloyd, Freedman, Kaminsky, Andersen, "Don't
 * Settle for Eventual", SOSP 2011; issue 15; docs/modes/causal.md).
 *
 * Every node is a full replica that a client near it talks to (a data centre of one). Writes
 * are local and replicated asynchronously to every other node:
 *
 *   client ──write──► its node: version (Lamport ts, node), dependencies = the session's nearest
 *                     ones; visible here at once; write_ok
 *                     └─cz_put {key, value, ts, node, deps}──► every other node, again every
 *                                                             `retry` until acknowledged
 *   receiver: causal=on   the version becomes visible only once every dependency is (a version
 *                         of that key at least as new is visible here): else it is *held*
 *                         (a `held` event names the missing dependency) and re-checked each
 *                         time something becomes visible; acknowledged once visible;
 *             causal=off  visible on arrival (eventual consistency: the anomaly).
 *   client ──read───► its node: the visible version, added to the session's dependencies
 *
 * Sessions. The node keeps each client's context: the nearest dependencies of what the client
 * has read and written at this node (COPS keeps it in a client library in the data centre; a
 * write's dependency list subsumes everything before it, so after a write the context is that
 * write alone). A client that moves to another node starts a new session there.
 *
 * Convergence (the "+" of causal+): versions of a key are ordered by (Lamport ts, node); a
 * node keeps the greatest it has made visible, so replicas that saw the same writes agree. A
 * write's ts exceeds every dependency's, so a causally later write always wins.
 *
 * Invariants (checked by `check causal` on the history and by the tests):
 *   - a version is visible at a node only after all its dependencies are (causal=on);
 *   - a node's visible version of a key never goes back (by (ts, node));
 *   - after heal and quiet, every node holds the same versions.
 *
 * Bug toggle: bug=forget-reads — a session's context keeps only the client's own writes, not
 * what it read: a reply no longer depends on the post it answers, and the anomaly returns
 * under causal=on.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "env.h"
#include "hash.h"
#include "jtext.h"
#include "mode.h"
#include "msg.h"

#define MAX_DEPS 64              /* dependencies one write may carry */
#define MAX_SESSIONS 256         /* client contexts kept per node (oldest dropped) */
#define BATCH 512                /* versions per push */
#define MAX_ID ((uint64_t)INT64_MAX)

enum { T_TICK = 1 };

struct dep {
    char *key;
    uint64_t ts;
    int node;
};

struct ver {                     /* one version of a key */
    char *value;
    uint64_t ts;
    int node;
    struct dep *deps;
    int ndeps;
};

struct item {
    char *key;
    uint64_t h;
    struct ver v;                /* the visible version (ts 0: none) */
    struct ver held;             /* a newer version waiting for its dependencies (ts 0: none) */
    struct item *next;
};

/* One of this node's own writes, until every peer acknowledged it (COPS replicates every put,
 * not only the newest of a key: a later write may depend on an earlier one of the same key). */
struct outw {
    char *key;
    struct ver v;
    uint32_t pending;            /* peers that have not acknowledged it */
    struct outw *next;
};

struct session {
    char client[CL_IDLEN];
    struct dep *deps;
    int ndeps;
    uint64_t used;
};

struct cz {
    struct env *e;
    int causal_on, bug_forget_reads;
    uint64_t retry;
    struct item **b;
    size_t nb, n;
    struct session s[MAX_SESSIONS];
    int ns;
    uint64_t lamport, use;
    struct outw *out, **out_tail;
    long outstanding;            /* (write, peer) pairs not yet acknowledged */
    long held, writes, applied, held_total;
    uint64_t t_tick;
};

/* ---- versions and items ------------------------------------------------------------------- */

static int ver_cmp(uint64_t ts_a, int node_a, uint64_t ts_b, int node_b)
{
    if (ts_a != ts_b)
        return ts_a < ts_b ? -1 : 1;
    return node_a < node_b ? -1 : node_a > node_b;
}

static void deps_free(struct dep *d, int n)
{
    for (int i = 0; i < n; i++)
        free(d[i].key);
    free(d);
}

static void ver_clear(struct ver *v)
{
    free(v->value);
    deps_free(v->deps, v->ndeps);
    memset(v, 0, sizeof *v);
}

static struct dep *deps_copy(const struct dep *d, int n)
{
    struct dep *c = xcalloc((size_t)(n ? n : 1), sizeof *c);
    for (int i = 0; i < n; i++) {
        c[i] = d[i];
        c[i].key = xstrdup(d[i].key);
    }
    return c;
}

static void ver_set(struct ver *dst, const char *value, uint64_t ts, int node, const struct dep *deps, int ndeps)
{
    ver_clear(dst);
    dst->value = xstrdup(value);
    dst->ts = ts;
    dst->node = node;
    dst->deps = deps_copy(deps, ndeps);
    dst->ndeps = ndeps;
}

static struct item *item_get(struct cz *st, const char *key, int create)
{
    uint64_t h = hash_str(key);
    if (st->nb) {
        for (struct item *it = st->b[h & (st->nb - 1)]; it; it = it->next)
            if (it->h == h && !strcmp(it->key, key))
                return it;
    }
    if (!create)
        return NULL;
    if (st->n >= st->nb) {
        size_t nb = st->nb ? 2 * st->nb : 64;
        struct item **b = xcalloc(nb, sizeof *b);
        for (size_t i = 0; i < st->nb; i++)
            for (struct item *it = st->b[i], *next; it; it = next) {
                next = it->next;
                it->next = b[it->h & (nb - 1)];
                b[it->h & (nb - 1)] = it;
            }
        free(st->b);
        st->b = b;
        st->nb = nb;
    }
    struct item *it = xcalloc(1, sizeof *it);
    it->key = xstrdup(key);
    it->h = h;
    it->next = st->b[h & (st->nb - 1)];
    st->b[h & (st->nb - 1)] = it;
    st->n++;
    return it;
}

#define ITEMS_FOREACH(st, it)                                                                \
    for (size_t it##_i = 0; it##_i < (st)->nb; it##_i++)                                    \
        for (struct item *it = (st)->b[it##_i]; it; it = it->next)

static void ver_text(const struct cz *st, const char *key, uint64_t ts, int node, struct sb *b)
{
    sb_printf(b, "%s@%" PRIu64 ".%s", key, ts, st->e->nodes[node]);
}

static json_t *deps_json(const struct dep *d, int n)
{
    json_t *a = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(a, json_pack("{s:s,s:I,s:i}", "k", d[i].key, "t", (json_int_t)d[i].ts, "n", d[i].node));
    return a;
}

static json_t *deps_text_json(const struct cz *st, const struct dep *d, int n)
{
    json_t *a = json_array();
    for (int i = 0; i < n; i++) {
        struct sb b = {0};
        ver_text(st, d[i].key, d[i].ts, d[i].node, &b);
        json_array_append_new(a, json_string(b.s));
        sb_free(&b);
    }
    return a;
}

/* Is a dependency satisfied here: a version of its key at least as new visible? */
static int dep_visible(struct cz *st, const struct dep *d)
{
    struct item *it = item_get(st, d->key, 0);
    return it && it->v.ts && ver_cmp(it->v.ts, it->v.node, d->ts, d->node) >= 0;
}

/* ---- durable state -------------------------------------------------------------------------- */

static void log_visible(struct cz *st, const struct item *it)
{
    json_t *j = json_pack("{s:s,s:s,s:I,s:i,s:o}", "key", it->key, "v", it->v.value, "t", (json_int_t)it->v.ts, "n",
                          it->v.node, "deps", deps_json(it->v.deps, it->v.ndeps));
    char *txt = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    st->e->ops->log_append(st->e, "data", txt, strlen(txt));
    st->e->ops->log_sync(st->e, "data");
    free(txt);
}

/* The wire and disk form of a version: {"key","v","t","n","deps":[{"k","t","n"}]}. */
struct ver_msg {
    const char *key, *v;
    uint64_t t;
    int n;
    const json_t *deps;
};

static const struct msg_field ver_fields[] = {
    MSG_STR(struct ver_msg, key),
    MSG_STR(struct ver_msg, v),
    MSG_U64(struct ver_msg, t, MAX_ID),
    MSG_INT(struct ver_msg, n, 0, CL_MAXN - 1),
    MSG_ARRAY(struct ver_msg, deps, MAX_DEPS),
    MSG_END,
};

struct dep_msg {
    const char *k;
    uint64_t t;
    int n;
};

static const struct msg_field dep_fields[] = {
    MSG_STR(struct dep_msg, k),
    MSG_U64(struct dep_msg, t, MAX_ID),
    MSG_INT(struct dep_msg, n, 0, CL_MAXN - 1),
    MSG_END,
};

/* Parses a version; deps allocated into *deps (caller frees with deps_free). */
static int ver_parse(const json_t *j, struct ver_msg *m, struct dep **deps, int *ndeps, char *err, size_t errlen)
{
    if (msg_get(j, "a version", ver_fields, m, err, errlen) < 0)
        return CL_EINVAL;
    if (m->t == 0) {
        snprintf(err, errlen, "a version needs a timestamp \"t\" above 0");
        return CL_EINVAL;
    }
    *ndeps = (int)json_array_size(m->deps);
    *deps = xcalloc((size_t)(*ndeps ? *ndeps : 1), sizeof **deps);
    size_t i;
    const json_t *dj;
    json_array_foreach(m->deps, i, dj) {
        struct dep_msg dm;
        if (msg_get(dj, "a dependency", dep_fields, &dm, err, errlen) < 0) {
            deps_free(*deps, (int)i);
            return CL_EINVAL;
        }
        (*deps)[i] = (struct dep){xstrdup(dm.k), dm.t, dm.n};
    }
    return 0;
}

/* ---- making versions visible ------------------------------------------------------------------ */

/* Queues one of my writes for every peer. */
static void out_add(struct cz *st, const char *key, const struct ver *v)
{
    struct outw *o = xcalloc(1, sizeof *o);
    o->key = xstrdup(key);
    ver_set(&o->v, v->value, v->ts, v->node, v->deps, v->ndeps);
    for (int p = 0; p < st->e->n_nodes; p++)
        if (p != st->e->self_idx) {
            o->pending |= 1u << p;
            st->outstanding++;
        }
    if (!st->out_tail)
        st->out_tail = &st->out;
    *st->out_tail = o;
    st->out_tail = &o->next;
}

static void out_free(struct outw *o)
{
    free(o->key);
    ver_clear(&o->v);
    free(o);
}

/* Drops the writes every peer acknowledged. */
static void out_trim(struct cz *st)
{
    st->out_tail = &st->out;
    for (struct outw **p = &st->out; *p;) {
        if (!(*p)->pending) {
            struct outw *o = *p;
            *p = o->next;
            out_free(o);
        } else {
            st->out_tail = &(*p)->next;
            p = &(*p)->next;
        }
    }
}

/* Makes (value, ts, node, deps) the visible version of it, if newer. */
static int make_visible(struct cz *st, struct item *it, const char *value, uint64_t ts, int node,
                        const struct dep *deps, int ndeps, const char *from, int from_idx)
{
    if (it->v.ts && ver_cmp(ts, node, it->v.ts, it->v.node) <= 0)
        return 0;
    ver_set(&it->v, value, ts, node, deps, ndeps);
    if (it->held.ts && ver_cmp(it->held.ts, it->held.node, ts, node) <= 0) {
        ver_clear(&it->held); /* superseded while it waited */
        st->held--;
    }
    if (ts > st->lamport)
        st->lamport = ts;
    log_visible(st, it);
    st->applied++;
    /* a node pushes its own writes, each of them; no forwarding: each write travels its own
     * links, so a slow link really is slow (the anomaly needs that) */
    if (from_idx < 0)
        out_add(st, it->key, &it->v);
    struct sb vt = {0};
    ver_text(st, it->key, ts, node, &vt);
    env_event(st->e, "apply", json_pack("{s:s,s:o,s:s,s:s,s:o}", "key", it->key, "value", jtext_decode(value), "version", vt.s,
                                        "from", from, "deps", deps_text_json(st, deps, ndeps)));
    sb_free(&vt);
    return 1;
}

/* Re-checks every held version; repeats while one became visible (it may free others). */
static void release_held(struct cz *st)
{
    for (int again = 1; again;) {
        again = 0;
        ITEMS_FOREACH(st, it) {
            if (!it->held.ts)
                continue;
            int ok = 1;
            for (int d = 0; d < it->held.ndeps && ok; d++)
                ok = dep_visible(st, &it->held.deps[d]);
            if (!ok)
                continue;
            struct ver h = it->held;
            memset(&it->held, 0, sizeof it->held);
            st->held--;
            char from[CL_IDLEN];
            str_copy(from, st->e->nodes[h.node], sizeof from);
            if (make_visible(st, it, h.value, h.ts, h.node, h.deps, h.ndeps, from, h.node))
                again = 1;
            ver_clear(&h);
        }
    }
}

/* ---- sessions ------------------------------------------------------------------------------------- */

static struct session *session(struct cz *st, const char *client)
{
    struct session *old = NULL;
    for (int i = 0; i < st->ns; i++) {
        if (!strcmp(st->s[i].client, client)) {
            st->s[i].used = ++st->use;
            return &st->s[i];
        }
        if (!old || st->s[i].used < old->used)
            old = &st->s[i];
    }
    struct session *s = st->ns < MAX_SESSIONS ? &st->s[st->ns++] : old;
    deps_free(s->deps, s->ndeps);
    memset(s, 0, sizeof *s);
    str_copy(s->client, client, sizeof s->client);
    s->used = ++st->use;
    return s;
}

/* Adds key@(ts, node) to the session's nearest dependencies (replacing an older one of key). */
static void session_add(struct session *s, const char *key, uint64_t ts, int node)
{
    for (int i = 0; i < s->ndeps; i++)
        if (!strcmp(s->deps[i].key, key)) {
            if (ver_cmp(ts, node, s->deps[i].ts, s->deps[i].node) > 0) {
                s->deps[i].ts = ts;
                s->deps[i].node = node;
            }
            return;
        }
    if (s->ndeps == MAX_DEPS) { /* full: the oldest goes (its successors carry it) */
        free(s->deps[0].key);
        memmove(&s->deps[0], &s->deps[1], (size_t)(MAX_DEPS - 1) * sizeof *s->deps);
        s->ndeps--;
    }
    s->deps = xrealloc(s->deps, (size_t)(s->ndeps + 1) * sizeof *s->deps);
    s->deps[s->ndeps++] = (struct dep){xstrdup(key), ts, node};
}

/* ---- client requests -------------------------------------------------------------------------- */

struct client_req {
    char *key;                  /* a string, or a whole number as its decimal text */
    const json_t *value;        /* any JSON, kept as its value text (jtext.h) */
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

static void on_read(void *vst, const char *src, const json_t *body)
{
    struct cz *st = vst;
    struct client_req req;
    if (msg_get_request(st->e, src, body, read_fields, &req, sizeof req) < 0)
        return;
    struct item *it = item_get(st, req.key, 0);
    msg_free_text(read_fields, &req);
    if (!it || !it->v.ts) {
        env_reply_error(st->e, src, body, ERR_KEY_DOES_NOT_EXIST,
                        it && it->held.ts ? "not visible here yet: a newer version waits for its dependencies"
                                          : "no such key here",
                        NULL);
        return;
    }
    if (!st->bug_forget_reads)
        session_add(session(st, src), it->key, it->v.ts, it->v.node);
    struct sb vt = {0};
    ver_text(st, it->key, it->v.ts, it->v.node, &vt);
    env_reply(st->e, src, body, json_pack("{s:s,s:o,s:s}", "type", "read_ok", "value", jtext_decode(it->v.value), "version", vt.s));
    sb_free(&vt);
}

static void push(struct cz *st, int peer, int only_last);

static void on_write(void *vst, const char *src, const json_t *body)
{
    struct cz *st = vst;
    struct client_req req;
    if (msg_get_request(st->e, src, body, write_fields, &req, sizeof req) < 0)
        return;
    struct session *s = session(st, src);
    uint64_t ts = st->lamport;
    for (int i = 0; i < s->ndeps; i++)
        if (s->deps[i].ts > ts)
            ts = s->deps[i].ts;
    struct item *it = item_get(st, req.key, 1);
    if (it->v.ts > ts)
        ts = it->v.ts;
    ts++;
    st->writes++;
    struct dep *deps = deps_copy(s->deps, s->ndeps);
    int ndeps = s->ndeps;
    char *value = jtext_encode(req.value);
    env_event(st->e, "write", json_pack("{s:s,s:O,s:I,s:o}", "key", req.key, "value", req.value, "ts", (json_int_t)ts,
                                        "deps", deps_text_json(st, deps, ndeps)));
    make_visible(st, it, value, ts, st->e->self_idx, deps, ndeps, "client", -1);
    free(value);
    msg_free_text(write_fields, &req);
    deps_free(deps, ndeps);
    /* the nearest dependency of what follows is this write alone (it carries the rest) */
    deps_free(s->deps, s->ndeps);
    s->deps = NULL;
    s->ndeps = 0;
    session_add(s, it->key, ts, st->e->self_idx);
    struct sb vt = {0};
    ver_text(st, it->key, ts, st->e->self_idx, &vt);
    env_reply(st->e, src, body, json_pack("{s:s,s:s}", "type", "write_ok", "version", vt.s));
    sb_free(&vt);
    for (int p = 0; p < st->e->n_nodes; p++)
        if (p != st->e->self_idx)
            push(st, p, 1);
}

/* ---- replication ---------------------------------------------------------------------------- */

static json_t *ver_json(const char *key, const struct ver *v)
{
    return json_pack("{s:s,s:s,s:I,s:i,s:o}", "key", key, "v", v->value, "t", (json_int_t)v->ts, "n", v->node,
                     "deps", deps_json(v->deps, v->ndeps));
}

/* Sends peer my writes it has not acknowledged (the newest one alone, or a batch, oldest first). */
static void push(struct cz *st, int peer, int only_last)
{
    json_t *vs = json_array();
    for (struct outw *o = st->out; o; o = o->next) {
        if (!(o->pending & (1u << peer)) || (only_last && o->next))
            continue;
        json_array_append_new(vs, ver_json(o->key, &o->v));
        if (json_array_size(vs) >= BATCH)
            break;
    }
    if (!json_array_size(vs)) {
        json_decref(vs);
        return;
    }
    env_send(st->e, st->e->nodes[peer], json_pack("{s:s,s:o}", "type", "cz_put", "versions", vs));
}

struct put_msg {
    const json_t *versions;
};

static const struct msg_field put_fields[] = {
    MSG_ARRAY(struct put_msg, versions, BATCH),
    MSG_END,
};

static void on_put(void *vst, const char *src, const json_t *body)
{
    struct cz *st = vst;
    int from = env_node_index(st->e, src);
    if (from < 0 || from == st->e->self_idx)
        return;
    struct put_msg m;
    char err[256];
    if (msg_get(body, NULL, put_fields, &m, err, sizeof err) < 0) {
        env_event(st->e, "error", json_pack("{s:s,s:s}", "from", src, "text", err));
        return;
    }
    json_t *acks = json_array();
    size_t i;
    const json_t *vj;
    int any = 0;
    json_array_foreach(m.versions, i, vj) {
        struct ver_msg vm;
        struct dep *deps;
        int ndeps;
        if (ver_parse(vj, &vm, &deps, &ndeps, err, sizeof err) < 0) {
            env_event(st->e, "error", json_pack("{s:s,s:s}", "from", src, "text", err));
            continue;
        }
        struct item *it = item_get(st, vm.key, 1);
        int ack = 1;
        if (!it->v.ts || ver_cmp(vm.t, vm.n, it->v.ts, it->v.node) > 0) {
            int missing = -1;
            for (int d = 0; st->causal_on && d < ndeps && missing < 0; d++)
                if (!dep_visible(st, &deps[d]))
                    missing = d;
            if (missing < 0) {
                any |= make_visible(st, it, vm.v, vm.t, vm.n, deps, ndeps, src, from);
            } else {
                ack = 0; /* acknowledged once visible: the sender keeps sending it */
                if (!it->held.ts || ver_cmp(vm.t, vm.n, it->held.ts, it->held.node) > 0) {
                    if (!it->held.ts)
                        st->held++;
                    st->held_total++;
                    ver_set(&it->held, vm.v, vm.t, vm.n, deps, ndeps);
                    struct sb vt = {0}, dt = {0};
                    ver_text(st, vm.key, vm.t, vm.n, &vt);
                    ver_text(st, deps[missing].key, deps[missing].ts, deps[missing].node, &dt);
                    env_event(st->e, "held", json_pack("{s:s,s:o,s:s,s:s,s:s}", "key", vm.key, "value", jtext_decode(vm.v), "version",
                                                       vt.s, "from", src, "waits_for", dt.s));
                    sb_free(&vt);
                    sb_free(&dt);
                }
            }
        }
        if (ack)
            json_array_append_new(acks, json_pack("{s:s,s:I,s:i}", "k", vm.key, "t", (json_int_t)vm.t, "n", vm.n));
        deps_free(deps, ndeps);
    }
    if (any)
        release_held(st);
    env_send(st->e, src, json_pack("{s:s,s:o}", "type", "cz_put_ok", "acks", acks));
}

struct ack_msg {
    const json_t *acks;
};

static const struct msg_field ack_fields[] = {
    MSG_ARRAY(struct ack_msg, acks, BATCH),
    MSG_END,
};

static void on_put_ok(void *vst, const char *src, const json_t *body)
{
    struct cz *st = vst;
    int from = env_node_index(st->e, src);
    if (from < 0 || from == st->e->self_idx)
        return;
    struct ack_msg m;
    char err[256];
    if (msg_get(body, NULL, ack_fields, &m, err, sizeof err) < 0) {
        env_event(st->e, "error", json_pack("{s:s,s:s}", "from", src, "text", err));
        return;
    }
    size_t i;
    const json_t *aj;
    json_array_foreach(m.acks, i, aj) {
        struct dep_msg a;
        if (msg_get(aj, "an ack", dep_fields, &a, err, sizeof err) < 0)
            continue;
        /* acknowledged: that version (or a newer one of its key) is visible there */
        for (struct outw *o = st->out; o; o = o->next)
            if ((o->pending & (1u << from)) && o->v.ts == a.t && o->v.node == a.n && !strcmp(o->key, a.k)) {
                o->pending &= ~(1u << from);
                st->outstanding--;
                break;
            }
    }
    out_trim(st);
}

static void on_timer(void *vst, int kind, uint64_t arg)
{
    struct cz *st = vst;
    (void)arg;
    if (kind != T_TICK)
        return;
    for (int p = 0; st->outstanding && p < st->e->n_nodes; p++)
        if (p != st->e->self_idx)
            push(st, p, 0);
    st->t_tick = env_timer_set(st->e, st->retry, T_TICK, 0);
}

/* ---- status and life cycle ---------------------------------------------------------------------- */

static int key_cmp(const void *a, const void *b)
{
    return strcmp((*(struct item *const *)a)->key, (*(struct item *const *)b)->key);
}

static json_t *cz_status(void *vst)
{
    struct cz *st = vst;
    json_t *data = json_object(), *held = json_array();
    struct item **all = xcalloc(st->n + 1, sizeof *all);
    size_t k = 0;
    ITEMS_FOREACH(st, it)
        all[k++] = it;
    qsort(all, k, sizeof *all, key_cmp);
    for (size_t i = 0; i < k; i++) {
        if (all[i]->v.ts)
            json_object_set_new(data, all[i]->key, jtext_decode(all[i]->v.value));
        if (all[i]->held.ts) {
            struct sb vt = {0};
            ver_text(st, all[i]->key, all[i]->held.ts, all[i]->held.node, &vt);
            json_array_append_new(held, json_string(vt.s));
            sb_free(&vt);
        }
    }
    free(all);
    long pending = st->outstanding;
    return json_pack("{s:s,s:o,s:{s:I,s:I,s:I,s:I,s:I,s:o,s:s,s:I}}", "role", "replica", "data", data, "extra",
                     "keys", (json_int_t)st->n, "held", (json_int_t)st->held, "pending", (json_int_t)pending,
                     "writes", (json_int_t)st->writes, "held_total", (json_int_t)st->held_total, "waiting", held,
                     "causal", st->causal_on ? "on" : "off", "lamport", (json_int_t)st->lamport);
}

struct replay {
    struct cz *st;
    long bad;
};

static void replay_rec(void *ud, const void *data, size_t len)
{
    struct replay *r = ud;
    json_t *j = json_loadb(data, len, 0, NULL);
    struct ver_msg vm;
    struct dep *deps;
    int ndeps;
    char err[200];
    if (!j || ver_parse(j, &vm, &deps, &ndeps, err, sizeof err) < 0) {
        json_decref(j);
        r->bad++;
        return;
    }
    struct item *it = item_get(r->st, vm.key, 1);
    if (!it->v.ts || ver_cmp(vm.t, vm.n, it->v.ts, it->v.node) > 0)
        ver_set(&it->v, vm.v, vm.t, vm.n, deps, ndeps);
    if (vm.t > r->st->lamport)
        r->st->lamport = vm.t;
    if (vm.n == r->st->e->self_idx) {
        /* one of my writes: what peers had acknowledged before the restart is not known */
        struct ver v = {(char *)vm.v, vm.t, vm.n, deps, ndeps};
        out_add(r->st, vm.key, &v);
    }
    deps_free(deps, ndeps);
    json_decref(j);
}

static void cz_destroy(void *vst)
{
    struct cz *st = vst;
    if (!st)
        return;
    env_timer_cancel(st->e, st->t_tick);
    for (size_t i = 0; i < st->nb; i++)
        for (struct item *it = st->b[i], *next; it; it = next) {
            next = it->next;
            ver_clear(&it->v);
            ver_clear(&it->held);
            free(it->key);
            free(it);
        }
    free(st->b);
    while (st->out) {
        struct outw *o = st->out;
        st->out = o->next;
        out_free(o);
    }
    for (int i = 0; i < st->ns; i++)
        deps_free(st->s[i].deps, st->s[i].ndeps);
    free(st);
}

static void *cz_create(struct env *e, const struct opts *o, char *err, size_t errlen)
{
    uint64_t retry = opts_get_duration(o, "retry", 200000);
    if (!retry) {
        snprintf(err, errlen, "retry must be above 0");
        return NULL;
    }
    struct cz *st = xcalloc(1, sizeof *st);
    st->e = e;
    st->retry = retry;
    st->causal_on = strcmp(opts_get(o, "causal", "on"), "off") != 0;
    st->bug_forget_reads = !strcmp(opts_get(o, "bug", "none"), "forget-reads");
    struct replay r = {st, 0};
    if (e->ops->log_read(e, "data", replay_rec, &r) < 0) {
        snprintf(err, errlen, "log data: unreadable");
        cz_destroy(st);
        return NULL;
    }
    if (r.bad)
        env_event(e, "error", json_pack("{s:s,s:I}", "text", "log data: records skipped", "count", (json_int_t)r.bad));
    return st;
}

static void cz_start(void *vst)
{
    struct cz *st = vst;
    env_event(st->e, "state", json_pack("{s:s}", "role", "replica"));
    st->t_tick = env_timer_set(st->e, st->retry, T_TICK, 0);
}

static const struct mode_option cz_options[] = {
    {"causal", OPT_ENUM, "on|off", 0, 0, "on", "on: a replicated write waits for its dependencies; off: visible on arrival (eventual)"},
    {"retry", OPT_DURATION, NULL, 0, 0, "200ms", "how often unacknowledged versions are sent again"},
    {NULL, 0, NULL, 0, 0, NULL, NULL},
};

static const struct mode_handler cz_handlers[] = {
    {"read", on_read},
    {"write", on_write},
    {"cz_put", on_put},
    {"cz_put_ok", on_put_ok},
    {NULL, NULL},
};

static const struct mode_role cz_roles[] = {
    {"replica", RC_PEER},
    {NULL, RC_UNKNOWN},
};

static const struct mode_figure cz_figures[] = {
    {"extra.keys", "keys", "keys="},
    {"extra.held", "held", "held="},
    {"extra.pending", "pending", "pend="},
    {NULL, NULL, NULL},
};

static const char *const cz_client_types[] = {"read", "write", NULL};

const struct mode mode_causal = {
    .name = "causal",
    .summary = "causal+ (COPS): every node takes writes; a replicated write is visible only after its dependencies",
    .options = cz_options,
    .bugs = "forget-reads",
    .handlers = cz_handlers,
    .create = cz_create,
    .start = cz_start,
    .destroy = cz_destroy,
    .on_timer = on_timer,
    .status = cz_status,
    .workload = "lin-kv",
    .client_types = cz_client_types,
    .roles = cz_roles,
    .figures = cz_figures,
    .events = "state|write|apply|held|error",
};
