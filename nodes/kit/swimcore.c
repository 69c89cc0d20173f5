/* swimcore — SWIM membership and failure detection (swimcore.h); the protocol:
 *
 * Protocol period (`period`). Each period a node probes one member, taken round-robin from a
 * shuffled list of the members it holds alive or suspect (§4.3: every member is probed within a
 * bounded time):
 *
 *   me ── probe{seq} ─────────────────────────▶ target        probe_ack within `timeout`?
 *   me ── probe_req{seq,target} ──▶ k others ── probe ──▶ target   (§3.1: indirect probe)
 *   me ◀── probe_ack{seq} ─── (an intermediary forwards the target's ack)
 *
 * (The paper's ping, ping-req and ack; `ping` is the runtime's own control message.)
 *
 * No ack, direct or indirect, by the end of the period: the target becomes *suspect* (§4.2) —
 * unless this node has not heard from it yet and started less than 2 x `suspect` ago (the lab
 * starts the processes one by one: a member may still be starting).
 * A suspect not refuted within `suspect` is confirmed *dead*.
 *
 * Incarnations (§4.2). Every member has an incarnation number that only it raises: a node that
 * hears itself suspected (or dead) at its incarnation or above raises its own above it and
 * spreads alive{itself, inc}. Between updates about member j the precedence is
 *   alive{j,i}   overrides suspect{j,i'} and alive{j,i'} when i > i' (and dead or left{j,i'}: a rejoin)
 *   suspect{j,i} overrides suspect{j,i'} when i > i', and alive{j,i'} when i >= i'
 *   dead{j,i}    overrides alive and suspect at any i' <= i
 *   left{j,i}    overrides alive, suspect and dead at any i' <= i (only j itself says it)
 *   any update   overrides unknown (a newcomer first heard of)
 * A restarted node comes back with its durable incarnation + 1, so its alive wins.
 *
 * Members held dead are not probed, but every REVIVE_EVERY periods one of them gets a probe: a
 * member that hears it is held suspect or dead (every message to it says so) refutes, so a
 * healed partition or a long pause merges back. Left and unknown members are never probed.
 *
 * Dissemination (§4.1): every update is piggybacked on probes, probe_reqs and acks, each one up
 * to lambda·ceil(log2(N+1)) times, the least sent first, at most SWIM_MAX_UPDATES per message.
 *
 * Lifeguard (`lhm`): a local health score 0..8 rises when this node's own probe fails or it
 * must refute a suspicion of itself, and falls when a probe succeeds; its timeout and period are
 * scaled by (1 + score), so a node starved of CPU suspects others less readily.
 */
#include "swimcore.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"

#define MAX_INC (1ull << 52)
#define REVIVE_EVERY 5         /* periods between probes to a member held dead */

enum { T_PROBE, T_TIMEOUT, T_SUSPECT };

static const char *const status_names[] = {"alive", "suspect", "dead", "left", "unknown"};

const char *swim_status_name(enum swim_status s)
{
    return (unsigned)s < CL_ARRAY_LEN(status_names) ? status_names[s] : "?";
}

/* ---- helpers ---------------------------------------------------------------------------- */

static void event_error(struct swimc *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void event_error(struct swimc *c, const char *fmt, ...)
{
    char buf[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    env_event(c->e, "error", json_pack("{s:s}", "text", buf));
}

static int me(const struct swimc *c)
{
    return c->e->self_idx;
}

static int nmembers(const struct swimc *c)
{
    return c->e->n_nodes < SWIM_MAX ? c->e->n_nodes : SWIM_MAX;
}

/* Room for want members: the tables inside c up to SWIM_SMALL, the heap past that. */
static void make_room(struct swimc *c, int want)
{
    if (want <= c->cap)
        return;
    int cap = c->cap * 2 > want ? c->cap * 2 : want;
    if (cap > SWIM_MAX)
        cap = SWIM_MAX;
    struct swim_member *m = xcalloc((size_t)cap, sizeof *m);
    int *order = xcalloc((size_t)cap, sizeof *order), *scratch = xcalloc((size_t)cap, sizeof *scratch);
    memcpy(m, c->m, (size_t)c->cap * sizeof *m);
    memcpy(order, c->order, (size_t)c->cap * sizeof *order);
    swim_free(c);
    c->m = m;
    c->order = order;
    c->scratch = scratch;
    c->cap = cap;
}

void swim_free(struct swimc *c)
{
    if (c->m && c->m != c->small_m) {
        free(c->m);
        free(c->order);
        free(c->scratch);
    }
    c->m = c->small_m;
    c->order = c->small_order;
    c->scratch = c->small_scratch;
    c->cap = SWIM_SMALL;
}

/* The address book grew (a node was added): newcomers are alive, or unknown until heard of. */
static void grow(struct swimc *c)
{
    make_room(c, nmembers(c));
    for (; c->known < nmembers(c); c->known++) {
        memset(&c->m[c->known], 0, sizeof c->m[0]);
        c->m[c->known].st = c->cfg.newcomers_unknown ? SWIM_UNKNOWN : SWIM_ALIVE;
    }
}

static uint64_t scaled(const struct swimc *c, uint64_t us)
{
    return c->cfg.lhm ? us * (uint64_t)(1 + c->lhm) : us;
}

static void health(struct swimc *c, int delta)
{
    if (!c->cfg.lhm)
        return;
    c->lhm += delta;
    if (c->lhm < 0)
        c->lhm = 0;
    if (c->lhm > 8)
        c->lhm = 8;
}

static int retransmit_limit(const struct swimc *c)
{
    int n = c->e->n_nodes, lg = 0;
    while ((1 << lg) < n + 1)
        lg++;
    return c->cfg.lambda * (lg ? lg : 1);
}

static void save_inc(struct swimc *c)
{
    char buf[32];
    int l = snprintf(buf, sizeof buf, "%llu", (unsigned long long)c->inc);
    c->e->ops->blob_put(c->e, c->cfg.blob, buf, (size_t)l);
}

static void announce(struct swimc *c, int j, const char *as)
{
    struct swim_member *mb = &c->m[j];
    mb->fresh = 1;
    mb->sent = 0;
    enum swim_status s = j == me(c) ? (c->left ? SWIM_LEFT : SWIM_ALIVE) : mb->st;
    uint64_t inc = j == me(c) ? c->inc : mb->inc;
    env_event(c->e, "member", json_pack("{s:s,s:s,s:I}", "member", c->e->nodes[j], "status",
                                        as ? as : status_names[s], "inc", (json_int_t)inc));
}

/* The one place a member's status changes: arms or cancels the suspicion timer, announces. */
static void set_status(struct swimc *c, int j, enum swim_status s, uint64_t inc)
{
    struct swim_member *mb = &c->m[j];
    if (mb->st == s && mb->inc == inc)
        return;
    enum swim_status was = mb->st;
    mb->st = s;
    mb->inc = inc;
    env_timer_cancel(c->e, mb->suspect_timer);
    mb->suspect_timer = 0;
    if (s == SWIM_SUSPECT) {
        c->suspicions++;
        mb->suspect_timer = env_timer_set(c->e, c->cfg.suspect_us, c->cfg.timer_base + T_SUSPECT, (uint64_t)j);
    }
    announce(c, j, was == SWIM_UNKNOWN && s == SWIM_ALIVE ? "joined" : NULL);
    if (c->cfg.on_change && was != s)
        c->cfg.on_change(c->cfg.ud, j, was, s);
}

static void refute(struct swimc *c, uint64_t heard)
{
    if ((c->cfg.bugs & SWIM_BUG_NO_REFUTE) || c->left)
        return; /* bug=no-refute: the node lets the suspicion stand; a leaver lets it go */
    c->inc = heard + 1;
    save_inc(c);
    c->refutes++;
    health(c, 1);
    env_event(c->e, "refute", json_pack("{s:I}", "inc", (json_int_t)c->inc));
    announce(c, me(c), NULL);
}

/* Applies an update {j, s, inc} by the precedence rules (top of the file). */
static void apply(struct swimc *c, int j, enum swim_status s, uint64_t inc)
{
    if (j == me(c)) {
        if (s != SWIM_ALIVE && inc >= c->inc)
            refute(c, inc);
        return;
    }
    struct swim_member *mb = &c->m[j];
    int take = 0;
    if (mb->st == SWIM_UNKNOWN)
        take = 1;
    else
        switch (s) {
        case SWIM_ALIVE:
            take = inc > mb->inc;
            break;
        case SWIM_SUSPECT:
            take = mb->st == SWIM_SUSPECT ? inc > mb->inc : mb->st == SWIM_ALIVE ? inc >= mb->inc : 0;
            break;
        case SWIM_DEAD:
            take = mb->st != SWIM_DEAD && mb->st != SWIM_LEFT ? inc >= mb->inc : 0;
            break;
        case SWIM_LEFT:
            take = mb->st != SWIM_LEFT ? inc >= mb->inc : 0;
            break;
        default:
            break;
        }
    if (take)
        set_status(c, j, s, inc);
}

/* Up to SWIM_MAX_UPDATES updates to piggyback, the least sent first. */
static json_t *updates(struct swimc *c)
{
    json_t *a = json_array();
    int limit = retransmit_limit(c);
    for (int round = 0; round < SWIM_MAX_UPDATES; round++) {
        int best = -1;
        for (int j = 0; j < c->known; j++) {
            struct swim_member *mb = &c->m[j];
            if (!mb->fresh || mb->sent >= limit || mb->sent < 0)
                continue;
            if (best < 0 || mb->sent < c->m[best].sent)
                best = j;
        }
        if (best < 0)
            break;
        struct swim_member *mb = &c->m[best];
        uint64_t inc = best == me(c) ? c->inc : mb->inc;
        enum swim_status s = best == me(c) ? (c->left ? SWIM_LEFT : SWIM_ALIVE) : mb->st;
        json_array_append_new(a, json_pack("{s:s,s:s,s:I}", "m", c->e->nodes[best], "s", status_names[s], "i",
                                           (json_int_t)inc));
        mb->sent = -mb->sent - 1; /* marked as taken this message */
    }
    for (int j = 0; j < c->known; j++)
        if (c->m[j].sent < 0) {
            c->m[j].sent = -c->m[j].sent;
            if (c->m[j].sent >= limit)
                c->m[j].fresh = 0;
        }
    return a;
}

struct update_msg {
    const char *m, *s;
    uint64_t i;
};
static const struct msg_field update_fields[] = {
    MSG_STR(struct update_msg, m),
    MSG_STR(struct update_msg, s),
    MSG_U64(struct update_msg, i, MAX_INC),
    MSG_END,
};

static void take_updates(struct swimc *c, const char *src, const json_t *arr)
{
    size_t i;
    const json_t *u;
    json_array_foreach(arr, i, u) {
        struct update_msg m;
        char err[200];
        if (msg_get(u, "an update", update_fields, &m, err, sizeof err) < 0) {
            event_error(c, "from %s: %s: dropped", src, err);
            continue;
        }
        int j = env_node_index(c->e, m.m);
        enum swim_status s = !strcmp(m.s, "alive") ? SWIM_ALIVE : !strcmp(m.s, "suspect") ? SWIM_SUSPECT
                           : !strcmp(m.s, "dead") ? SWIM_DEAD : !strcmp(m.s, "left") ? SWIM_LEFT
                           : (enum swim_status)-1;
        if (j < 0 || j >= c->known || (int)s < 0) {
            event_error(c, "from %s: an update names member '%s' with status '%s': dropped", src, m.m, m.s);
            continue;
        }
        apply(c, j, s, m.i);
    }
}

/* Sends body to member `to` with the piggybacked updates. A member this node holds suspect or
 * dead hears so in every message it gets from it, so that it can refute at once (and a healed
 * partition merges: see probe()). */
static void send_msg(struct swimc *c, int to, json_t *body)
{
    json_t *u = updates(c);
    const struct swim_member *mb = &c->m[to];
    if (mb->st == SWIM_SUSPECT || mb->st == SWIM_DEAD)
        json_array_append_new(u, json_pack("{s:s,s:s,s:I}", "m", c->e->nodes[to], "s", status_names[mb->st], "i",
                                           (json_int_t)mb->inc));
    json_object_set_new(body, "updates", u);
    env_send(c->e, c->e->nodes[to], body);
}

/* The member a message comes from, or -1 (dropped with an error event). A message from a
 * suspect or dead member does not make it alive: only its own refutation, with a higher
 * incarnation, does (§4.2). */
static int peer_of(struct swimc *c, const char *src, const char *what)
{
    grow(c);
    int j = env_node_index(c->e, src);
    if (j < 0 || j == me(c) || j >= c->known) {
        event_error(c, "%s from %s, which is not another member: dropped", what, src);
        return -1;
    }
    c->m[j].heard = 1;
    if ((c->cfg.bugs & SWIM_BUG_NO_INCARNATION) && (c->m[j].st == SWIM_SUSPECT || c->m[j].st == SWIM_DEAD))
        set_status(c, j, SWIM_ALIVE, c->m[j].inc); /* bug=no-incarnation: back without a refutation */
    return j;
}

/* ---- handlers --------------------------------------------------------------------------- */

struct ping_msg {
    uint64_t seq;
    const char *target;
    const json_t *updates;
};
static const struct msg_field ping_fields[] = {
    MSG_U64(struct ping_msg, seq, MAX_INC),
    MSG_ARRAY_OPT(struct ping_msg, updates, 64),
    MSG_END,
};
static const struct msg_field ping_req_fields[] = {
    MSG_U64(struct ping_msg, seq, MAX_INC),
    MSG_STR(struct ping_msg, target),
    MSG_ARRAY_OPT(struct ping_msg, updates, 64),
    MSG_END,
};

static int get(struct swimc *c, const char *src, const json_t *body, const struct msg_field *f,
               struct ping_msg *m)
{
    char err[200];
    memset(m, 0, sizeof *m);
    if (msg_get(body, NULL, f, m, err, sizeof err) < 0) {
        event_error(c, "%s from %s: dropped", err, src);
        return -1;
    }
    return 0;
}

void swim_on_probe(struct swimc *c, const char *src, const json_t *body)
{
    struct ping_msg m;
    int j = peer_of(c, src, "probe");
    if (j < 0 || get(c, src, body, ping_fields, &m) < 0)
        return;
    take_updates(c, src, m.updates);
    send_msg(c, j, json_pack("{s:s,s:I}", "type", "probe_ack", "seq", (json_int_t)m.seq));
}

void swim_on_probe_req(struct swimc *c, const char *src, const json_t *body)
{
    struct ping_msg m;
    int j = peer_of(c, src, "probe_req");
    if (j < 0 || get(c, src, body, ping_req_fields, &m) < 0)
        return;
    take_updates(c, src, m.updates);
    int t = env_node_index(c->e, m.target);
    if (t < 0 || t == me(c) || t >= c->known) {
        event_error(c, "probe_req from %s names target '%s', not another member: dropped", src, m.target);
        return;
    }
    struct swim_fwd *slot = &c->fwd[c->seq % SWIM_FWD_SLOTS];
    slot->used = 1;
    slot->my_seq = ++c->seq;
    slot->their_seq = m.seq;
    slot->requester = j;
    send_msg(c, t, json_pack("{s:s,s:I}", "type", "probe", "seq", (json_int_t)slot->my_seq));
}

void swim_on_probe_ack(struct swimc *c, const char *src, const json_t *body)
{
    struct ping_msg m;
    int j = peer_of(c, src, "probe_ack");
    if (j < 0 || get(c, src, body, ping_fields, &m) < 0)
        return;
    take_updates(c, src, m.updates);
    if (c->probing >= 0 && m.seq == c->probe_seq) {
        if (!c->acked)
            health(c, -1);
        c->acked = 1;
        return;
    }
    for (int i = 0; i < SWIM_FWD_SLOTS; i++) {
        struct swim_fwd *f = &c->fwd[i];
        if (f->used && f->my_seq == m.seq) {
            f->used = 0;
            send_msg(c, f->requester, json_pack("{s:s,s:I}", "type", "probe_ack", "seq", (json_int_t)f->their_seq));
            return;
        }
    }
}

/* ---- the protocol period ---------------------------------------------------------------- */

static int probeable(const struct swimc *c, int j)
{
    return j != me(c) && (c->m[j].st == SWIM_ALIVE || c->m[j].st == SWIM_SUSPECT);
}

static void shuffle(struct swimc *c)
{
    c->norder = 0;
    for (int j = 0; j < c->known; j++)
        if (probeable(c, j))
            c->order[c->norder++] = j;
    for (int i = c->norder - 1; i > 0; i--) {
        int r = (int)env_rand_range(c->e, 0, (uint64_t)i);
        int t = c->order[i];
        c->order[i] = c->order[r];
        c->order[r] = t;
    }
    c->pos = 0;
}

static int next_target(struct swimc *c)
{
    for (int tries = 0; tries < 2; tries++) {
        while (c->pos < c->norder) {
            int j = c->order[c->pos++];
            if (probeable(c, j))
                return j;
        }
        shuffle(c);
    }
    return -1;
}

static void end_probe(struct swimc *c)
{
    int t = c->probing;
    c->probing = -1;
    if (t < 0 || c->acked)
        return;
    health(c, 1);
    /* a member not heard from yet may still be starting (the lab starts N processes one by
     * one): it is suspected only once the start grace (2 x suspect) is over */
    uint64_t since = env_now_us(c->e) - c->started_us;
    if (!c->m[t].heard && (double)since * env_speed(c->e) < 2.0 * (double)c->cfg.suspect_us)
        return;
    if (c->m[t].st == SWIM_ALIVE)
        set_status(c, t, SWIM_SUSPECT, c->m[t].inc);
}

static void probe(struct swimc *c)
{
    grow(c);
    end_probe(c);
    /* every REVIVE_EVERY periods, a probe to one member held dead: if it is alive after all (a
     * healed partition, a long pause) it hears that it is held dead and refutes */
    if (++c->periods % REVIVE_EVERY == 0) {
        int nd = 0;
        for (int j = 0; j < c->known; j++)
            if (j != me(c) && c->m[j].st == SWIM_DEAD)
                c->scratch[nd++] = j;
        if (nd)
            send_msg(c, c->scratch[env_rand_range(c->e, 0, (uint64_t)nd - 1)],
                     json_pack("{s:s,s:I}", "type", "probe", "seq", (json_int_t)0));
    }
    int t = next_target(c);
    if (t >= 0) {
        c->probing = t;
        c->acked = 0;
        c->probe_seq = ++c->seq;
        c->probes++;
        send_msg(c, t, json_pack("{s:s,s:I}", "type", "probe", "seq", (json_int_t)c->probe_seq));
        env_timer_set(c->e, scaled(c, c->cfg.timeout_us), c->cfg.timer_base + T_TIMEOUT, c->probe_seq);
    }
    c->t_probe = env_timer_set(c->e, scaled(c, c->cfg.period_us), c->cfg.timer_base + T_PROBE, 0);
}

/* No direct ack within the timeout: ask k others to probe the target (§3.1). */
static void indirect(struct swimc *c, uint64_t seq)
{
    if (c->probing < 0 || c->probe_seq != seq || c->acked || (c->cfg.bugs & SWIM_BUG_NO_INDIRECT))
        return;
    int n = 0;
    for (int j = 0; j < c->known; j++)
        if (j != me(c) && j != c->probing && c->m[j].st == SWIM_ALIVE)
            c->scratch[n++] = j;
    for (int i = 0; i < c->cfg.k && n > 0; i++) {
        int r = (int)env_rand_range(c->e, 0, (uint64_t)(n - 1));
        int j = c->scratch[r];
        c->scratch[r] = c->scratch[--n];
        send_msg(c, j, json_pack("{s:s,s:I,s:s}", "type", "probe_req", "seq", (json_int_t)seq, "target",
                                 c->e->nodes[c->probing]));
    }
}

int swim_on_timer(struct swimc *c, int kind, uint64_t arg)
{
    switch (kind - c->cfg.timer_base) {
    case T_PROBE:
        c->t_probe = 0;
        probe(c);
        return 1;
    case T_TIMEOUT:
        indirect(c, arg);
        return 1;
    case T_SUSPECT:
        if (arg < (uint64_t)c->known) {
            struct swim_member *mb = &c->m[arg];
            mb->suspect_timer = 0;
            if (mb->st == SWIM_SUSPECT)
                set_status(c, (int)arg, SWIM_DEAD, mb->inc);
        }
        return 1;
    default:
        return 0;
    }
}

/* ---- life and views --------------------------------------------------------------------- */

int swim_init(struct swimc *c, struct env *e, const struct swim_cfg *cfg, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    c->e = e;
    c->cfg = *cfg;
    if (!c->cfg.blob)
        c->cfg.blob = "swim_inc";
    if (c->cfg.timeout_us >= c->cfg.period_us) {
        snprintf(err, errlen, "swim needs timeout < period, so that an indirect probe fits in the period "
                              "(got timeout=%llums period=%llums)",
                 (unsigned long long)(c->cfg.timeout_us / 1000), (unsigned long long)(c->cfg.period_us / 1000));
        return -1;
    }
    /* every node of the address book at the start is a member (a seed) */
    swim_free(c); /* the tables inside c */
    make_room(c, nmembers(c));
    c->known = nmembers(c);
    char *data = NULL;
    size_t len = 0;
    if (e->ops->blob_get(e, c->cfg.blob, &data, &len) == 0) {
        char buf[32];
        size_t l = len < sizeof buf - 1 ? len : sizeof buf - 1;
        memcpy(buf, data, l);
        buf[l] = 0;
        c->inc = strtoull(buf, NULL, 10) + 1; /* a restart: come back above anything said of the old life */
        free(data);
    }
    c->probing = -1;
    return 0;
}

void swim_begin(struct swimc *c)
{
    save_inc(c);
    c->started_us = env_now_us(c->e);
    if (c->inc || c->cfg.announce)
        announce(c, me(c), NULL); /* back from a restart (or a newcomer): spread alive{me, inc} */
    shuffle(c);
    c->t_probe = env_timer_set(c->e, env_rand_range(c->e, 1, c->cfg.period_us), c->cfg.timer_base + T_PROBE, 0);
}

void swim_stop(struct swimc *c)
{
    env_timer_cancel(c->e, c->t_probe);
    c->t_probe = 0;
    for (int j = 0; j < c->known; j++) {
        env_timer_cancel(c->e, c->m[j].suspect_timer);
        c->m[j].suspect_timer = 0;
    }
}

enum swim_status swim_status_of(struct swimc *c, int j)
{
    grow(c);
    if (j == me(c))
        return c->left ? SWIM_LEFT : SWIM_ALIVE;
    return j >= 0 && j < c->known ? c->m[j].st : SWIM_UNKNOWN;
}

uint64_t swim_inc_of(struct swimc *c, int j)
{
    if (j == me(c))
        return c->inc;
    return j >= 0 && j < c->known ? c->m[j].inc : 0;
}

void swim_leave(struct swimc *c)
{
    if (c->left)
        return;
    c->left = 1;
    announce(c, me(c), NULL);
}

int swim_spread(struct swimc *c, int j)
{
    return j >= 0 && j < c->known && !c->m[j].fresh;
}

json_t *swim_view_json(struct swimc *c)
{
    grow(c);
    json_t *view = json_object();
    for (int j = 0; j < c->known; j++)
        if (j != me(c))
            json_object_set_new(view, c->e->nodes[j], json_pack("{s:s,s:I}", "status", status_names[c->m[j].st],
                                                                "inc", (json_int_t)c->m[j].inc));
    return view;
}

void swim_counts(struct swimc *c, int *alive, int *suspect, int *dead)
{
    grow(c);
    *alive = !c->left;
    *suspect = *dead = 0;
    for (int j = 0; j < c->known; j++) {
        if (j == me(c))
            continue;
        *alive += c->m[j].st == SWIM_ALIVE;
        *suspect += c->m[j].st == SWIM_SUSPECT;
        *dead += c->m[j].st == SWIM_DEAD;
    }
}

void swim_view_text(struct swimc *c, struct sb *b)
{
    grow(c);
    sb_printf(b, "%s (incarnation %llu):", c->e->self, (unsigned long long)c->inc);
    if (c->cfg.lhm)
        sb_printf(b, " local health %d", c->lhm);
    for (int j = 0; j < c->known; j++) {
        if (j == me(c))
            continue;
        sb_printf(b, " %s=%s/%llu", c->e->nodes[j], status_names[c->m[j].st], (unsigned long long)c->m[j].inc);
    }
}
