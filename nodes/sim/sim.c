/* sim — the deterministic simulator. See sim.h.
 *
 * One heap holds everything that will happen: message deliveries (MSG), replies to clients
 * (REPLY) and timers (TIMER), ordered by (virtual time, insertion order). sim_step() pops one
 * item and runs it against the target node's mode. Nothing else in here reads a real clock
 * or a real random source, so two runs with one seed are identical.
 */
#include "sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "heap.h"
#include "rng.h"

#define SIM_EPOCH_US 1000000000ull /* node clocks start at 1000 s, so negative skew works */
#define SIM_NO_NODE 0x7fffffff     /* IT_POWER_OK's target when the name was no node */

/* IT_POWER: the lab powers node `node` off for node a (incarnation b) (env power_off);
 * IT_POWER_OK: its answer reaches node `node` (incarnation b): a = the target, p = 1 when ok. */
enum item_kind { IT_MSG, IT_REPLY, IT_TIMER, IT_POWER, IT_POWER_OK };

struct simmsg {
    char src[CL_IDLEN];
    char client[CL_IDLEN];     /* IT_REPLY: the client id */
    int src_idx;               /* -1 for clients */
    uint64_t src_inc;          /* sender incarnation */
    int delayed;               /* held by the sender (fault delay): dies with it */
    int bw;                    /* queued on a bandwidth-limited link */
    uint64_t bw_tail;          /* then: its time from being out to arriving (delay, network) */
    uint64_t lamport;
    uint64_t hlc_l, hlc_c;
    json_t *body;
    int vn;                    /* entries of vc: the sender's vector clock (at most CL_MAXNODES) */
    uint64_t vc[];
};

struct rec {
    char *data;
    size_t len;
};

struct simlog {
    char *name;
    struct rec *v;
    size_t n, cap, synced;
};

struct simblob {
    char *name;
    char *data;
    size_t len;
};

struct simnode {
    struct env env;
    struct sim *sim;
    int idx;
    enum sim_node_state state;
    void *st;
    uint64_t inc;
    struct clocks clk;
    struct simblob *blobs;
    size_t nblobs;
    struct simlog *logs;
    size_t nlogs;
    struct heap_item *held;     /* items that arrived while paused */
    size_t nheld, capheld;
};

/* A map from a directed link (src, dst) to a 64-bit value, open addressing: the links in use,
 * not N² of them (a 1,000-node cluster has a million links). */
struct linkmap {
    uint64_t *key;              /* link_key(src, dst); 0 = an empty slot */
    uint64_t *val;
    size_t cap, n;
};

/* bandwidth queues, per directed link, made at the first use (struct sim's links) */
struct simlink {
    struct bwq q;
    uint64_t reported;          /* the length the last `queue` event gave */
};

struct sim {
    const struct mode *mode;
    struct opts opts;
    int n;
    int cap;                    /* nodes[] and names[] have room for cap nodes */
    struct simnode **nodes;
    char (*names)[CL_IDLEN];    /* every node's env.nodes */
    struct heap q;
    struct idset cancelled;
    struct rng rng;
    /* The network faults: up to CL_MAXNODES nodes the dense tables of faults.h (faults); over
     * it no table at all (faults NULL): each node's side of a partition (group) and one link
     * fault for every link (all). */
    struct faults *faults;
    int *group;
    struct link_fault all;
    /* FIFO links: when the last message on link src->dst arrives (a later one never arrives
     * before it); entries that lie in the past are pruned as the map grows */
    struct linkmap fifo;
    uint64_t now;
    uint64_t net_us;
    double speed;               /* sim_set_speed: timers run `speed` times virtual time */
    uint64_t ev_seq;
    uint64_t sent, delivered, dropped;
    int hash_on;
    uint64_t hash;
    size_t frame_cap;           /* sim_set_frame_cap: bodies over it are dropped (0: no cap) */
    uint64_t too_big;
    void (*ev_cb)(void *, const json_t *);
    void *ev_ud;
    void (*reply_cb)(void *, const char *, const char *, const json_t *);
    void *reply_ud;
    struct linkmap links;       /* (src, dst) -> struct simlink *, at the first bandwidth use */
};

/* ---- link maps --------------------------------------------------------------------------- */

static uint64_t link_key(int src, int dst)
{
    return (((uint64_t)(uint32_t)src << 32) | (uint32_t)dst) + 1;
}

static size_t lm_slot(const struct linkmap *m, uint64_t key)
{
    uint64_t h = key * 0x9e3779b97f4a7c15ull;
    return (size_t)(h >> 20) & (m->cap - 1);
}

static uint64_t *lm_find(const struct linkmap *m, int src, int dst)
{
    if (!m->n)
        return NULL;
    uint64_t key = link_key(src, dst);
    for (size_t i = lm_slot(m, key);; i = (i + 1) & (m->cap - 1)) {
        if (m->key[i] == key)
            return &m->val[i];
        if (!m->key[i])
            return NULL;
    }
}

/* Rebuilds m with room for cap slots, keeping the entries for which keep(ud, val) holds (all
 * when keep is NULL). */
static void lm_rehash(struct linkmap *m, size_t cap, int (*keep)(void *ud, uint64_t val), void *ud)
{
    struct linkmap old = *m;
    m->key = xcalloc(cap, sizeof *m->key);
    m->val = xcalloc(cap, sizeof *m->val);
    m->cap = cap;
    m->n = 0;
    for (size_t i = 0; i < old.cap; i++) {
        if (!old.key[i] || (keep && !keep(ud, old.val[i])))
            continue;
        size_t j = lm_slot(m, old.key[i]);
        while (m->key[j])
            j = (j + 1) & (m->cap - 1);
        m->key[j] = old.key[i];
        m->val[j] = old.val[i];
        m->n++;
    }
    free(old.key);
    free(old.val);
}

/* The value of link src->dst, made (0) when absent. When the map must grow, entries for which
 * keep() fails are dropped first (keep NULL: none). */
static uint64_t *lm_put(struct linkmap *m, int src, int dst, int (*keep)(void *ud, uint64_t val), void *ud)
{
    uint64_t *v = lm_find(m, src, dst);
    if (v)
        return v;
    if ((m->n + 1) * 4 > m->cap * 3) {
        size_t cap = m->cap ? m->cap : 64;
        if (keep && m->n) {
            lm_rehash(m, cap, keep, ud);
            if ((m->n + 1) * 2 > cap)
                lm_rehash(m, cap * 2, NULL, NULL);
        } else {
            lm_rehash(m, m->cap ? cap * 2 : cap, NULL, NULL);
        }
    }
    uint64_t key = link_key(src, dst);
    size_t i = lm_slot(m, key);
    while (m->key[i])
        i = (i + 1) & (m->cap - 1);
    m->key[i] = key;
    m->val[i] = 0;
    m->n++;
    return &m->val[i];
}

static void lm_free(struct linkmap *m)
{
    free(m->key);
    free(m->val);
    memset(m, 0, sizeof *m);
}

static int lm_src(const struct linkmap *m, size_t i)
{
    return (int)((m->key[i] - 1) >> 32);
}

static int lm_dst(const struct linkmap *m, size_t i)
{
    return (int)(uint32_t)(m->key[i] - 1);
}

/* The bandwidth queue of link src->dst; NULL when it has none and create is 0. */
static struct simlink *link_of(struct sim *s, int src, int dst, int create)
{
    uint64_t *v = create ? lm_put(&s->links, src, dst, NULL, NULL) : lm_find(&s->links, src, dst);
    if (!v)
        return NULL;
    if (!*v)
        *v = (uint64_t)(uintptr_t)xcalloc(1, sizeof(struct simlink));
    return (struct simlink *)(uintptr_t)*v;
}

/* The fault of link src->dst. */
static const struct link_fault *fault_of(const struct sim *s, int src, int dst)
{
    return s->faults ? &s->faults->link[src][dst] : &s->all;
}

static const struct env_ops sim_env_ops;

/* ---- events ------------------------------------------------------------------------- */

static int events_wanted(const struct sim *s)
{
    return s->ev_cb || s->hash_on;
}

static void emit(struct sim *s, int idx, const char *ev, json_t *fields)
{
    if (!events_wanted(s)) {
        json_decref(fields);
        return;
    }
    json_t *e = json_object();
    json_object_set_new(e, "seq", json_integer((json_int_t)++s->ev_seq));
    json_object_set_new(e, "t", json_integer((json_int_t)s->now));
    if (idx >= 0)
        json_object_set_new(e, "node", json_string(s->nodes[idx]->env.self));
    json_object_set_new(e, "ev", json_string(ev));
    if (fields) {
        json_object_update(e, fields);
        json_decref(fields);
    }
    if (s->hash_on) {
        char *txt = json_dumps(e, JSON_COMPACT | JSON_SORT_KEYS);
        for (const char *p = txt; p && *p; p++) {
            s->hash ^= (unsigned char)*p;
            s->hash *= 0x100000001b3ull;
        }
        free(txt);
    }
    if (s->ev_cb)
        s->ev_cb(s->ev_ud, e);
    json_decref(e);
}

/* ---- the env implementation ------------------------------------------------------------ */

static struct simnode *node_of(struct env *e)
{
    return e->impl;
}

/* Pops cancelled timers and timers of a dead incarnation off the top of the queue, so the top
 * is always an item that will run: sim_next_time() is exact and sim_run_for() never runs an
 * item due after its end because a dead timer came first. Called wherever the top may die:
 * after every step, on timer_cancel and on crash. */
static void drop_dead(struct sim *s)
{
    const struct heap_item *top;
    while ((top = heap_peek(&s->q)) && top->kind == IT_TIMER) {
        const struct simnode *nd = s->nodes[top->node];
        uint64_t id = top->p ? (uint64_t)(uintptr_t)top->p : top->seq;
        int stale = (uint32_t)(top->a >> 32) != (uint32_t)nd->inc || nd->state == SIM_DOWN;
        if (!idset_take(&s->cancelled, id) && !stale)
            return;
        struct heap_item it;
        heap_pop(&s->q, &it);
    }
}

static void push_msg(struct sim *s, int dst, uint64_t when, struct simmsg *m)
{
    struct heap_item it = {.when = when, .kind = IT_MSG, .node = dst, .p = m};
    heap_push(&s->q, &it);
}

/* The frame a body makes on the wire, about: the body plus the envelope's fields (src, dest,
 * incarnation, clocks), which the simulator does not encode. */
#define SIM_ENVELOPE_BYTES 128

/* The `queue` event of link src->dst, as the runtime's: at its start, at each power of two,
 * when it has drained. */
static void sim_report_queue(struct sim *s, int src, int dst)
{
    struct simlink *l = link_of(s, src, dst, 1);
    bwq_expire(&l->q, s->now);
    uint64_t n = l->q.n, was = l->reported;
    if (!(n && n > was && (n & (n - 1)) == 0) && !(n == 0 && was))
        return;
    l->reported = n;
    uint64_t wait = l->q.busy_until > s->now ? l->q.busy_until - s->now : 0;
    emit(s, src, "queue", json_pack("{s:s,s:I,s:I,s:I,s:I}", "to", s->nodes[dst]->env.self, "msgs", (json_int_t)n,
                                    "bytes", (json_int_t)l->q.bytes, "kbps", (json_int_t)fault_of(s, src, dst)->kbps,
                                    "wait_ms", (json_int_t)(wait / 1000)));
}

/* A FIFO floor that lies in the past constrains nothing: dropped when the map grows. */
static int still_ahead(void *ud, uint64_t when)
{
    return when > ((struct sim *)ud)->now;
}

static void sim_send(struct env *e, const char *dest, json_t *body)
{
    struct simnode *nd = node_of(e);
    struct sim *s = nd->sim;
    int dst = env_node_index(e, dest);
    s->sent++;
    if (s->frame_cap) {
        /* as the runtime does with a frame over the cap: dropped by the sender, with an event */
        char *txt = json_dumps(body, JSON_COMPACT);
        size_t len = txt ? strlen(txt) : 0;
        free(txt);
        if (len > s->frame_cap) {
            const char *type = json_string_value(json_object_get(body, "type"));
            char detail[96];
            snprintf(detail, sizeof detail, "a body of %zu bytes is over the %zu-byte cap", len, s->frame_cap);
            emit(s, nd->idx, "drop", json_pack("{s:s,s:s,s:s,s:s}", "to", dest, "type", type ? type : "",
                                               "why", "too big", "detail", detail));
            s->too_big++;
            s->dropped++;
            json_decref(body);
            return;
        }
    }
    if (dst < 0) {
        /* a client: replies travel beside the network, unaffected by faults */
        struct simmsg *m = xcalloc(1, sizeof *m);
        str_copy(m->src, e->self, CL_IDLEN);
        str_copy(m->client, dest, CL_IDLEN);
        m->src_idx = nd->idx;
        m->src_inc = nd->inc;
        m->body = body;
        struct heap_item it = {.when = s->now + s->net_us, .kind = IT_REPLY, .node = nd->idx, .p = m};
        heap_push(&s->q, &it);
        return;
    }
    clocks_on_send(&nd->clk);
    clocks_hlc_send(&nd->clk, clocks_physical(&nd->clk, SIM_EPOCH_US + s->now));
    struct fate f;
    if (dst == nd->idx)
        f = (struct fate){.copies = 1};
    else if (s->faults)
        faults_decide(s->faults, nd->idx, dst, &s->rng, &f);
    else if (s->group && s->group[nd->idx] != s->group[dst])
        f = (struct fate){.copies = 0, .why = "partition"};
    else
        faults_decide_link(&s->all, &s->rng, &f);
    const char *type = json_string_value(json_object_get(body, "type"));
    if (events_wanted(s)) {
        json_t *fl = json_pack("{s:s,s:s,s:I,s:O}", "to", dest, "type", type ? type : "",
                               "lamport", (json_int_t)nd->clk.lamport, "body", body);
        json_t *mid = json_object_get(body, "msg_id");
        if (mid)
            json_object_set(fl, "msg_id", mid);
        emit(s, nd->idx, "send", fl);
        if (f.copies == 0)
            emit(s, nd->idx, "drop", json_pack("{s:s,s:s,s:s}", "to", dest, "type", type ? type : "",
                                               "why", f.why));
    }
    if (f.copies == 0) {
        s->dropped++;
        json_decref(body);
        return;
    }
    const struct link_fault *lf = fault_of(s, nd->idx, dst);
    int fifo = lf->jitter_us == 0 && lf->reorder == 0;
    size_t frame_len = 0;
    if (lf->kbps && dst != nd->idx) {
        frame_len = json_dumpb(body, NULL, 0, JSON_COMPACT) + SIM_ENVELOPE_BYTES;
    }
    int vn = s->n < CL_MAXNODES ? s->n : CL_MAXNODES;
    int body_used = 0;
    for (int c = 0; c < f.copies; c++) {
        uint64_t out = s->now;
        if (frame_len) {
            out = bwq_push(&link_of(s, nd->idx, dst, 1)->q, s->now, frame_len, lf->kbps);
            if (!out) {
                char detail[96];
                snprintf(detail, sizeof detail, "%d frames already wait on the link to %s", BWQ_MAX_FRAMES, dest);
                emit(s, nd->idx, "drop", json_pack("{s:s,s:s,s:s,s:s}", "to", dest, "type", type ? type : "",
                                                   "why", "queue full", "detail", detail));
                s->dropped++;
                continue;
            }
        }
        struct simmsg *m = xcalloc(1, sizeof *m + (size_t)vn * sizeof m->vc[0]);
        str_copy(m->src, e->self, CL_IDLEN);
        m->src_idx = nd->idx;
        m->src_inc = nd->inc;
        m->delayed = f.delay_us[c] > 0;
        m->lamport = nd->clk.lamport;
        m->vn = vn;
        memcpy(m->vc, nd->clk.vc, (size_t)vn * sizeof m->vc[0]);
        m->hlc_l = nd->clk.hlc_l;
        m->hlc_c = nd->clk.hlc_c;
        m->body = body_used ? json_deep_copy(body) : body;
        body_used = 1;
        m->bw = frame_len > 0;
        m->bw_tail = s->net_us + f.delay_us[c];
        m->delayed |= m->bw;
        uint64_t when = out + s->net_us + f.delay_us[c];
        if (fifo) {
            uint64_t *last = lm_put(&s->fifo, nd->idx, dst, still_ahead, s);
            if (when < *last)
                when = *last;
            *last = when;
        }
        push_msg(s, dst, when, m);
        if (frame_len)
            sim_report_queue(s, nd->idx, dst);
    }
    if (!body_used)
        json_decref(body);
}

static uint64_t sim_timer_set(struct env *e, uint64_t delay_us, int kind, uint64_t arg)
{
    struct simnode *nd = node_of(e);
    struct sim *s = nd->sim;
    if (s->speed != 1)
        delay_us = (uint64_t)((double)delay_us / s->speed);
    struct heap_item it = {.when = s->now + delay_us, .kind = IT_TIMER, .node = nd->idx,
                           .a = ((uint64_t)nd->inc << 32) | (uint32_t)kind, .b = arg};
    return heap_push(&s->q, &it);
}

static void sim_timer_cancel(struct env *e, uint64_t id)
{
    idset_add(&node_of(e)->sim->cancelled, id);
    drop_dead(node_of(e)->sim);
}

static double sim_speed(struct env *e)
{
    return node_of(e)->sim->speed;
}

static uint64_t sim_now_us(struct env *e)
{
    struct simnode *nd = node_of(e);
    return clocks_physical(&nd->clk, SIM_EPOCH_US + nd->sim->now);
}

static void sim_event(struct env *e, const char *ev, json_t *fields)
{
    struct simnode *nd = node_of(e);
    emit(nd->sim, nd->idx, ev, fields);
}

static uint64_t sim_rand64(struct env *e)
{
    return rng_next(&node_of(e)->sim->rng);
}

static struct simblob *find_blob(struct simnode *nd, const char *name, int create)
{
    for (size_t i = 0; i < nd->nblobs; i++)
        if (!strcmp(nd->blobs[i].name, name))
            return &nd->blobs[i];
    if (!create)
        return NULL;
    nd->blobs = xrealloc(nd->blobs, (nd->nblobs + 1) * sizeof *nd->blobs);
    struct simblob *b = &nd->blobs[nd->nblobs++];
    memset(b, 0, sizeof *b);
    b->name = xstrdup(name);
    return b;
}

static int sim_blob_put(struct env *e, const char *name, const void *data, size_t len)
{
    struct simblob *b = find_blob(node_of(e), name, 1);
    free(b->data);
    b->data = xmalloc(len + 1);
    memcpy(b->data, data, len);
    b->data[len] = 0;
    b->len = len;
    return 0;
}

static int sim_blob_get(struct env *e, const char *name, char **data, size_t *len)
{
    struct simblob *b = find_blob(node_of(e), name, 0);
    if (!b)
        return CL_ENOENT;
    *data = xmalloc(b->len + 1);
    memcpy(*data, b->data, b->len);
    (*data)[b->len] = 0;
    *len = b->len;
    return 0;
}

static struct simlog *find_log(struct simnode *nd, const char *name)
{
    for (size_t i = 0; i < nd->nlogs; i++)
        if (!strcmp(nd->logs[i].name, name))
            return &nd->logs[i];
    nd->logs = xrealloc(nd->logs, (nd->nlogs + 1) * sizeof *nd->logs);
    struct simlog *l = &nd->logs[nd->nlogs++];
    memset(l, 0, sizeof *l);
    l->name = xstrdup(name);
    return l;
}

static int sim_log_append(struct env *e, const char *name, const void *data, size_t len)
{
    struct simlog *l = find_log(node_of(e), name);
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->v = xrealloc(l->v, l->cap * sizeof *l->v);
    }
    l->v[l->n].data = xmalloc(len ? len : 1);
    memcpy(l->v[l->n].data, data, len);
    l->v[l->n].len = len;
    l->n++;
    return 0;
}

static int sim_log_sync(struct env *e, const char *name)
{
    struct simlog *l = find_log(node_of(e), name);
    l->synced = l->n;
    return 0;
}

static void log_cut(struct simlog *l, size_t keep)
{
    while (l->n > keep)
        free(l->v[--l->n].data);
    if (l->synced > l->n)
        l->synced = l->n;
}

static int sim_log_truncate(struct env *e, const char *name, size_t nrec)
{
    struct simlog *l = find_log(node_of(e), name);
    log_cut(l, nrec);
    return 0;
}

static long sim_log_read(struct env *e, const char *name,
                         void (*fn)(void *ud, const void *data, size_t len), void *ud)
{
    struct simlog *l = find_log(node_of(e), name);
    for (size_t i = 0; i < l->n; i++)
        fn(ud, l->v[i].data, l->v[i].len);
    return (long)l->n;
}

/* STONITH: the lab's path is not the network (no partition stops it): the target goes down
 * after one network delay, the answer comes one more later (step_one). */
static int sim_power_off(struct env *e, const char *node)
{
    struct simnode *nd = node_of(e);
    struct sim *s = nd->sim;
    int t = env_node_index(e, node);
    if (t < 0 || t == nd->idx) {
        struct heap_item ok = {.when = s->now + s->net_us, .kind = IT_POWER_OK, .node = nd->idx,
                               .a = (uint64_t)(t < 0 ? SIM_NO_NODE : t), .b = nd->inc, .p = NULL};
        heap_push(&s->q, &ok);
        return 0;
    }
    struct heap_item it = {.when = s->now + s->net_us, .kind = IT_POWER, .node = t,
                           .a = (uint64_t)nd->idx, .b = nd->inc};
    heap_push(&s->q, &it);
    return 0;
}

static const struct env_ops sim_env_ops = {
    .send = sim_send,
    .timer_set = sim_timer_set,
    .timer_cancel = sim_timer_cancel,
    .now_us = sim_now_us,
    .speed = sim_speed,
    .event = sim_event,
    .rand64 = sim_rand64,
    .blob_put = sim_blob_put,
    .blob_get = sim_blob_get,
    .log_append = sim_log_append,
    .log_sync = sim_log_sync,
    .log_truncate = sim_log_truncate,
    .log_read = sim_log_read,
    .power_off = sim_power_off,
};

/* ---- nodes ------------------------------------------------------------------------------ */

/* One table of node ids, shared by every node's env. */
static void fill_env_nodes(struct sim *s)
{
    for (int j = 0; j < s->n; j++)
        node_name(j, s->names[j]);
    for (int i = 0; i < s->n; i++) {
        struct env *e = &s->nodes[i]->env;
        e->n_nodes = s->n;
        e->nodes = s->names;
    }
}

/* Room for want nodes (nodes[] holds pointers: a node's env.impl never moves). */
static void make_room(struct sim *s, int want)
{
    if (want <= s->cap)
        return;
    int cap = s->cap ? s->cap : 8;
    while (cap < want)
        cap *= 2;
    s->nodes = xrealloc(s->nodes, (size_t)cap * sizeof *s->nodes);
    s->names = xrealloc(s->names, (size_t)cap * sizeof *s->names);
    if (!s->faults)
        s->group = xrealloc(s->group, (size_t)cap * sizeof *s->group);
    for (int i = s->cap; i < cap; i++) {
        s->nodes[i] = NULL;
        if (s->group)
            s->group[i] = 0;
    }
    s->cap = cap;
}

static int node_boot(struct sim *s, int idx, char *err, size_t errlen)
{
    struct simnode *nd = s->nodes[idx];
    nd->inc++;
    nd->state = SIM_UP;
    nd->st = s->mode->create(&nd->env, &s->opts, err, errlen);
    if (!nd->st) {
        nd->state = SIM_DOWN;
        return CL_EINVAL;
    }
    if (s->mode->start)
        s->mode->start(nd->st);
    return 0;
}

static void node_init(struct sim *s, int idx)
{
    make_room(s, idx + 1);
    if (!s->nodes[idx])
        s->nodes[idx] = xmalloc(sizeof *s->nodes[idx]);
    struct simnode *nd = s->nodes[idx];
    memset(nd, 0, sizeof *nd);
    nd->sim = s;
    nd->idx = idx;
    nd->state = SIM_DOWN;
    nd->env.ops = &sim_env_ops;
    nd->env.impl = nd;
    nd->env.self_idx = idx;
    node_name(idx, nd->env.self);
    clocks_init(&nd->clk, idx, s->n);
}

struct sim *sim_new(const struct mode *m, int n, const struct opts *o, uint64_t seed, char *err,
                    size_t errlen)
{
    if (n < 1 || n > mode_sim_max_nodes(m)) {
        snprintf(err, errlen, "a cluster has 1 to %d nodes, not %d", mode_sim_max_nodes(m), n);
        return NULL;
    }
    struct sim *s = xcalloc(1, sizeof *s);
    s->mode = m;
    if (o)
        opts_copy(&s->opts, o);
    s->n = n;
    s->net_us = 500;
    s->speed = 1;
    rng_seed(&s->rng, seed);
    if (n <= CL_MAXNODES) {
        s->faults = xmalloc(sizeof *s->faults);
        faults_init(s->faults, n);
    }
    make_room(s, n);
    for (int i = 0; i < n; i++)
        node_init(s, i);
    fill_env_nodes(s);
    for (int i = 0; i < n; i++) {
        if (node_boot(s, i, err, errlen) < 0) {
            sim_destroy(&s);
            return NULL;
        }
    }
    return s;
}

static void free_item(struct heap_item *it)
{
    if (it->kind == IT_MSG || it->kind == IT_REPLY) {
        struct simmsg *m = it->p;
        json_decref(m->body);
        free(m);
    }
}

static void node_free_state(struct sim *s, struct simnode *nd)
{
    if (nd->st)
        s->mode->destroy(nd->st);
    nd->st = NULL;
    for (size_t i = 0; i < nd->nheld; i++)
        free_item(&nd->held[i]);
    nd->nheld = 0;
}

void sim_destroy(struct sim **sp)
{
    struct sim *s = *sp;
    if (!s)
        return;
    for (int i = 0; i < s->n; i++) {
        struct simnode *nd = s->nodes[i];
        node_free_state(s, nd);
        free(nd->held);
        for (size_t b = 0; b < nd->nblobs; b++) {
            free(nd->blobs[b].name);
            free(nd->blobs[b].data);
        }
        free(nd->blobs);
        for (size_t l = 0; l < nd->nlogs; l++) {
            log_cut(&nd->logs[l], 0);
            free(nd->logs[l].v);
            free(nd->logs[l].name);
        }
        free(nd->logs);
        free(nd);
    }
    free(s->nodes);
    free(s->names);
    free(s->group);
    free(s->faults);
    struct heap_item it;
    while (heap_pop(&s->q, &it))
        free_item(&it);
    heap_free(&s->q);
    idset_free(&s->cancelled);
    opts_free(&s->opts);
    for (size_t k = 0; k < s->links.cap; k++) {
        struct simlink *l = (struct simlink *)(uintptr_t)s->links.val[k];
        if (s->links.key[k] && l) {
            bwq_free(&l->q);
            free(l);
        }
    }
    lm_free(&s->links);
    lm_free(&s->fifo);
    free(s);
    *sp = NULL;
}

void sim_on_event(struct sim *s, void (*cb)(void *, const json_t *), void *ud)
{
    s->ev_cb = cb;
    s->ev_ud = ud;
}

void sim_on_reply(struct sim *s, void (*cb)(void *, const char *, const char *, const json_t *),
                  void *ud)
{
    s->reply_cb = cb;
    s->reply_ud = ud;
}

int sim_client_send(struct sim *s, int idx, const char *client, json_t *body)
{
    if (idx < 0 || idx >= s->n || s->nodes[idx]->state == SIM_DOWN) {
        json_decref(body);
        return CL_ESTATE;
    }
    struct simmsg *m = xcalloc(1, sizeof *m);
    str_copy(m->src, client, CL_IDLEN);
    m->src_idx = -1;
    m->body = body;
    push_msg(s, idx, s->now + s->net_us, m);
    return 0;
}

/* ---- running ------------------------------------------------------------------------------ */

static void hold(struct simnode *nd, const struct heap_item *it)
{
    if (nd->nheld == nd->capheld) {
        nd->capheld = nd->capheld ? nd->capheld * 2 : 16;
        nd->held = xrealloc(nd->held, nd->capheld * sizeof *nd->held);
    }
    nd->held[nd->nheld++] = *it;
}

static const char *body_type(const json_t *body)
{
    const char *t = json_string_value(json_object_get(body, "type"));
    return t ? t : "";
}

static void deliver(struct sim *s, struct heap_item *it)
{
    struct simmsg *m = it->p;
    struct simnode *nd = s->nodes[it->node];
    if (m->bw && s->links.n && m->src_idx >= 0 && s->nodes[m->src_idx]->inc == m->src_inc)
        sim_report_queue(s, m->src_idx, it->node);
    if (m->src_idx >= 0 && m->delayed) {
        struct simnode *from = s->nodes[m->src_idx];
        if (from->inc != m->src_inc || from->state == SIM_DOWN) {
            free_item(it); /* delayed messages live in the sender and died with it */
            return;
        }
    }
    if (nd->state == SIM_DOWN) {
        s->dropped++;
        if (events_wanted(s))
            emit(s, m->src_idx, "drop", json_pack("{s:s,s:s,s:s}", "to", nd->env.self, "type",
                                                  body_type(m->body),
                                                  "why", "node down"));
        free_item(it);
        return;
    }
    if (m->src_idx >= 0) {
        clocks_on_recv(&nd->clk, m->lamport, m->vc, m->vn);
        clocks_hlc_recv(&nd->clk, m->hlc_l, m->hlc_c, clocks_physical(&nd->clk, SIM_EPOCH_US + s->now));
    }
    s->delivered++;
    if (events_wanted(s)) {
        json_t *fl = json_pack("{s:s,s:s}", "from", m->src, "type",
                               body_type(m->body));
        json_t *mid = json_object_get(m->body, "msg_id");
        if (mid)
            json_object_set(fl, "msg_id", mid);
        emit(s, it->node, "recv", fl);
    }
    if (mode_dispatch(s->mode, nd->st, m->src, m->body) < 0)
        emit(s, it->node, "unknown_message", json_pack("{s:s}", "from", m->src));
    free_item(it);
}

static int step_one(struct sim *s);
static void crash_node(struct sim *s, int idx, const char *what, const char *by);

int sim_step(struct sim *s)
{
    drop_dead(s);
    int ran = step_one(s);
    drop_dead(s);
    return ran;
}

static int step_one(struct sim *s)
{
    struct heap_item it;
    for (;;) {
        if (!heap_pop(&s->q, &it))
            return 0;
        if (it.when > s->now)
            s->now = it.when;
        if (it.kind == IT_TIMER) {
            /* a timer re-queued by sim_resume() keeps its id (the seq the mode was given) in p;
             * drop_dead() keeps dead timers off the top, so skipping one here never runs an
             * item past the time bound of sim_run_for / sim_run_until */
            uint64_t id = it.p ? (uint64_t)(uintptr_t)it.p : it.seq;
            if (idset_take(&s->cancelled, id))
                continue;
            struct simnode *nd = s->nodes[it.node];
            if ((uint32_t)(it.a >> 32) != (uint32_t)nd->inc || nd->state == SIM_DOWN)
                continue; /* a timer of a previous incarnation */
            if (nd->state == SIM_PAUSED) {
                hold(nd, &it);
                return 1;
            }
            emit(s, it.node, "timer", json_pack("{s:i}", "kind", (int)(uint32_t)it.a));
            s->mode->on_timer(nd->st, (int)(uint32_t)it.a, it.b);
            return 1;
        }
        if (it.kind == IT_POWER) {
            /* the target dies (as a crash), then the answer goes to the node that asked */
            int by = (int)it.a;
            if (s->nodes[it.node]->state != SIM_DOWN)
                crash_node(s, it.node, "stonith", s->nodes[by]->env.self);
            struct heap_item ok = {.when = s->now + s->net_us, .kind = IT_POWER_OK, .node = by,
                                   .a = (uint64_t)it.node, .b = it.b, .p = (void *)1};
            heap_push(&s->q, &ok);
            return 1;
        }
        if (it.kind == IT_POWER_OK) {
            struct simnode *nd = s->nodes[it.node];
            if (it.b != nd->inc || nd->state == SIM_DOWN)
                return 1; /* the node that asked died meanwhile: nobody to answer */
            if (nd->state == SIM_PAUSED) {
                hold(nd, &it);
                return 1;
            }
            int t = (int)it.a;
            const char *target = t < s->n ? s->nodes[t]->env.self : "";
            char text[160];
            if (it.p)
                snprintf(text, sizeof text, "%s powered off for %s", target, nd->env.self);
            else if (t == it.node)
                snprintf(text, sizeof text, "power off refused: %s asked to power itself off", nd->env.self);
            else
                snprintf(text, sizeof text, "power off refused: not a node of this cluster");
            if (s->mode->on_power_off)
                s->mode->on_power_off(nd->st, target, it.p != NULL, text);
            return 1;
        }
        if (it.kind == IT_REPLY) {
            struct simmsg *m = it.p;
            if (s->reply_cb)
                s->reply_cb(s->reply_ud, m->src, m->client, m->body);
            free_item(&it);
            return 1;
        }
        struct simnode *nd = s->nodes[it.node];
        if (nd->state == SIM_PAUSED) {
            hold(nd, &it);
            return 1;
        }
        deliver(s, &it);
        return 1;
    }
}

void sim_run_for(struct sim *s, uint64_t us)
{
    uint64_t end = s->now + us;
    while (heap_peek(&s->q) && heap_peek(&s->q)->when <= end)
        sim_step(s);
    s->now = end;
}

int sim_run_until(struct sim *s, uint64_t us, int (*pred)(void *, struct sim *), void *ud)
{
    uint64_t end = s->now + us;
    if (pred(ud, s))
        return 1;
    while (heap_peek(&s->q) && heap_peek(&s->q)->when <= end) {
        sim_step(s);
        if (pred(ud, s))
            return 1;
    }
    s->now = end;
    return pred(ud, s);
}

uint64_t sim_now(const struct sim *s)
{
    return s->now;
}

uint64_t sim_next_time(const struct sim *s)
{
    const struct heap_item *it = heap_peek(&s->q);
    return it ? it->when : UINT64_MAX;
}

void sim_trace_hash_enable(struct sim *s)
{
    s->hash_on = 1;
    s->hash = 0xcbf29ce484222325ull;
}

uint64_t sim_trace_hash(const struct sim *s)
{
    return s->hash;
}

int sim_size(const struct sim *s)
{
    return s->n;
}

const struct mode *sim_mode(const struct sim *s)
{
    return s->mode;
}

struct faults *sim_faults(struct sim *s)
{
    return s->faults;
}

struct sim_bw_retime {
    int src, dst;
    uint64_t now;
    double factor;
};

static uint64_t sim_bw_retime_item(const struct heap_item *it, void *ud)
{
    const struct sim_bw_retime *w = ud;
    const struct simmsg *m = it->p;
    if (it->kind != IT_MSG || !m->bw || m->src_idx != w->src || it->node != w->dst)
        return it->when;
    return bwq_retime_at(it->when, m->bw_tail, w->now, w->factor);
}

void sim_set_faults(struct sim *s, const struct faults *f)
{
    if (!s->faults)
        return; /* a cluster over CL_MAXNODES: sim_partition, sim_heal, sim_set_link_all */
    for (size_t k = 0; k < s->links.cap; k++) {
        if (!s->links.key[k])
            continue;
        int a = lm_src(&s->links, k), b = lm_dst(&s->links, k);
        if (a >= f->n || b >= f->n || a >= s->n || b >= s->n)
            continue;
        uint64_t was = s->faults->link[a][b].kbps, now = f->link[a][b].kbps;
        struct simlink *l = (struct simlink *)(uintptr_t)s->links.val[k];
        if (was == now || (bwq_expire(&l->q, s->now), !l->q.n))
            continue;
        struct sim_bw_retime w = {a, b, s->now, bwq_rescale(&l->q, s->now, was, now)};
        heap_rewhen(&s->q, sim_bw_retime_item, &w);
        /* held frames keep FIFO order: the link's FIFO floor may now lie past them */
        uint64_t *last = lm_find(&s->fifo, a, b);
        if (!now && last)
            *last = 0;
    }
    *s->faults = *f; /* a queue that drained says so when its frames arrive (deliver) */
}

/* Parses "n1-n500,n7 | n501-n1000" into group[] (nodes not named join the last group).
 * Returns the number of groups, or CL_EINVAL with err. */
static int parse_groups(const struct sim *s, const char *spec, int *group, char *err, size_t errlen)
{
    for (int i = 0; i < s->n; i++)
        group[i] = -1;
    int g = 0, in_group = 0;
    const char *p = spec;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (*p == '|' || !*p) {
            if (!in_group) {
                snprintf(err, errlen, "empty group in partition \"%s\": expected e.g. n1-n500 | n501-n1000", spec);
                return CL_EINVAL;
            }
            if (!*p)
                break;
            g++;
            in_group = 0;
            p++;
            continue;
        }
        char tok[64];
        size_t len = 0;
        while (*p && *p != ',' && *p != '|' && *p != ' ' && *p != '\t') {
            if (len < sizeof tok - 1)
                tok[len++] = *p;
            p++;
        }
        tok[len] = 0;
        char *dash = strchr(tok, '-');
        if (dash)
            *dash = 0;
        int lo, hi;
        if (parse_node_id(tok, s->n, &lo) < 0 || parse_node_id(dash ? dash + 1 : tok, s->n, &hi) < 0 || hi < lo) {
            snprintf(err, errlen, "partition \"%s\": '%s%s%s' is not a node or a range of nodes n1..n%d", spec, tok,
                     dash ? "-" : "", dash ? dash + 1 : "", s->n);
            return CL_EINVAL;
        }
        for (int i = lo; i <= hi; i++) {
            if (group[i] >= 0) {
                snprintf(err, errlen, "partition \"%s\": n%d is named twice", spec, i + 1);
                return CL_EINVAL;
            }
            group[i] = g;
        }
        in_group = 1;
    }
    for (int i = 0; i < s->n; i++)
        if (group[i] < 0)
            group[i] = g;
    return g + 1;
}

int sim_partition(struct sim *s, const char *spec, char *err, size_t errlen)
{
    int *group = xcalloc((size_t)s->n, sizeof *group);
    int ng = parse_groups(s, spec, group, err, errlen);
    if (ng >= 0) {
        for (int a = 0; a < s->n; a++) {
            if (!s->faults)
                s->group[a] = group[a];
            else
                for (int b = 0; b < s->n; b++)
                    s->faults->cut[a][b] = a != b && group[a] != group[b];
        }
    }
    free(group);
    return ng < 0 ? ng : 0;
}

void sim_heal(struct sim *s)
{
    if (s->faults)
        faults_heal(s->faults);
    else {
        memset(s->group, 0, (size_t)s->cap * sizeof *s->group);
        memset(&s->all, 0, sizeof s->all);
    }
}

void sim_set_link_all(struct sim *s, const struct link_fault *lf)
{
    if (!s->faults) {
        s->all = *lf;
        s->all.kbps = 0; /* no bandwidth queues over CL_MAXNODES */
        return;
    }
    faults_set_delay(s->faults, -1, -1, lf->delay_us, lf->jitter_us);
    faults_set_loss(s->faults, -1, -1, lf->loss);
    faults_set_dup(s->faults, -1, -1, lf->dup);
    faults_set_reorder(s->faults, -1, -1, lf->reorder);
}

struct rng *sim_rng(struct sim *s)
{
    return &s->rng;
}

void sim_set_net_us(struct sim *s, uint64_t us)
{
    s->net_us = us;
}

void sim_set_speed(struct sim *s, double f)
{
    if (f <= 0 || f == s->speed)
        return;
    heap_retime(&s->q, s->now, s->speed / f, IT_TIMER);
    s->speed = f;
    drop_dead(s);
}

void sim_crash(struct sim *s, int idx)
{
    if (s->nodes[idx]->state == SIM_DOWN)
        return;
    crash_node(s, idx, "crash", NULL);
}

static void crash_node(struct sim *s, int idx, const char *what, const char *by)
{
    struct simnode *nd = s->nodes[idx];
    node_free_state(s, nd);
    for (size_t l = 0; l < nd->nlogs; l++)
        log_cut(&nd->logs[l], nd->logs[l].synced); /* what was not synced is gone */
    nd->state = SIM_DOWN;
    nd->inc++;
    for (size_t k = 0; k < s->fifo.cap; k++)
        if (s->fifo.key[k] && lm_src(&s->fifo, k) == idx)
            s->fifo.val[k] = 0;
    for (size_t k = 0; k < s->links.cap; k++) { /* its queued frames died with it */
        struct simlink *l = (struct simlink *)(uintptr_t)s->links.val[k];
        if (s->links.key[k] && l && lm_src(&s->links, k) == idx) {
            bwq_free(&l->q);
            l->reported = 0;
        }
    }
    drop_dead(s);
    json_t *f = json_pack("{s:s}", "what", what);
    if (by)
        json_object_set_new(f, "by", json_string(by));
    emit(s, idx, "fault", f);
}

void sim_restart(struct sim *s, int idx)
{
    struct simnode *nd = s->nodes[idx];
    if (nd->state != SIM_DOWN)
        return;
    int64_t skew = nd->clk.skew_us;
    clocks_init(&nd->clk, idx, s->n);
    nd->clk.skew_us = skew;
    emit(s, idx, "fault", json_pack("{s:s}", "what", "restart"));
    char err[256];
    if (node_boot(s, idx, err, sizeof err) < 0)
        emit(s, idx, "error", json_pack("{s:s}", "text", err));
}

void sim_pause(struct sim *s, int idx)
{
    if (s->nodes[idx]->state != SIM_UP)
        return;
    s->nodes[idx]->state = SIM_PAUSED;
    emit(s, idx, "fault", json_pack("{s:s}", "what", "pause"));
}

void sim_resume(struct sim *s, int idx)
{
    struct simnode *nd = s->nodes[idx];
    if (nd->state != SIM_PAUSED)
        return;
    nd->state = SIM_UP;
    emit(s, idx, "fault", json_pack("{s:s}", "what", "resume"));
    for (size_t i = 0; i < nd->nheld; i++) {
        struct heap_item it = nd->held[i];
        it.when = s->now;
        /* re-queued in the order they were held (a new seq), but a timer keeps its id (the seq
         * the mode was given) in p, so it can still be cancelled */
        if (it.kind == IT_TIMER && !it.p)
            it.p = (void *)(uintptr_t)it.seq;
        heap_push(&s->q, &it);
    }
    nd->nheld = 0;
}

enum sim_node_state sim_node_state(const struct sim *s, int idx)
{
    return s->nodes[idx]->state;
}

void *sim_state(struct sim *s, int idx)
{
    return s->nodes[idx]->state == SIM_DOWN ? NULL : s->nodes[idx]->st;
}

json_t *sim_status(struct sim *s, int idx)
{
    struct simnode *nd = s->nodes[idx];
    json_t *j = nd->state == SIM_DOWN || !s->mode->status ? json_object() : s->mode->status(nd->st);
    json_object_set_new(j, "state", json_string(nd->state == SIM_UP ? "up" : nd->state == SIM_DOWN ? "down" : "paused"));
    if (s->links.n && nd->state != SIM_DOWN) {
        json_t *queue = json_object();
        for (int d = 0; d < s->n; d++) {
            struct simlink *l = link_of(s, idx, d, 0);
            if (!l)
                continue;
            struct bwq *q = &l->q;
            bwq_expire(q, s->now);
            if (q->n)
                json_object_set_new(queue, s->nodes[d]->env.self,
                                    json_pack("{s:I,s:I,s:I}", "msgs", (json_int_t)q->n, "bytes", (json_int_t)q->bytes,
                                              "wait_ms", (json_int_t)((q->busy_until - s->now) / 1000)));
        }
        json_object_set_new(j, "queue", queue);
    }
    return j;
}

struct clocks *sim_clocks(struct sim *s, int idx)
{
    return &s->nodes[idx]->clk;
}

uint64_t sim_node_now_us(const struct sim *s, int idx)
{
    return clocks_physical(&s->nodes[idx]->clk, SIM_EPOCH_US + s->now);
}

json_t *sim_command(struct sim *s, int idx, const char *name, int argc, char **argv)
{
    struct simnode *nd = s->nodes[idx];
    if (nd->state == SIM_DOWN)
        return json_pack("{s:b,s:s}", "ok", 0, "text", "node is down");
    for (const struct mode_command *c = s->mode->commands; c && c->name; c++)
        if (!strcmp(c->name, name))
            return c->run(nd->st, argc, argv);
    return json_pack("{s:b,s:s}", "ok", 0, "text", "no such command in this mode");
}

void sim_counts(const struct sim *s, uint64_t *sent, uint64_t *delivered, uint64_t *dropped)
{
    if (sent)
        *sent = s->sent;
    if (delivered)
        *delivered = s->delivered;
    if (dropped)
        *dropped = s->dropped;
}

void sim_set_opt(struct sim *s, const char *key, const char *val)
{
    opts_set(&s->opts, key, val);
}

int sim_add_node(struct sim *s)
{
    if (s->n >= (s->faults ? mode_max_nodes(s->mode) : mode_sim_max_nodes(s->mode)))
        return -1;
    int idx = s->n++;
    node_init(s, idx);
    if (s->faults)
        s->faults->n = s->n; /* the new node starts connected; existing cuts are kept */
    else
        s->group[idx] = 0;   /* over CL_MAXNODES: on the first group's side */
    fill_env_nodes(s);
    for (int i = 0; i < s->n; i++)
        s->nodes[i]->clk.n = s->n;
    char err[256];
    if (node_boot(s, idx, err, sizeof err) < 0)
        return -1;
    return idx;
}

void sim_set_frame_cap(struct sim *s, size_t bytes)
{
    s->frame_cap = bytes;
}

uint64_t sim_too_big(const struct sim *s)
{
    return s->too_big;
}
