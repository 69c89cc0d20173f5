/* swim — SWIM membership and failure detection (Das, Gupta, Motivala 2002, "SWIM: Scalable
 * Weakly-consistent Infection-style Process Group Membership Protocol"), with Lifeguard's
 * local health multiplier as an option (Dadgar et al. 2018).
 *
 * Protocol period (`period`). Each period a node probes one member, taken round-robin from a
 * shuffled list of the members it does not hold dead (§4.3: every member is probed within a
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
 *   alive{j,i}   overrides suspect{j,i'} and alive{j,i'} when i > i' (and dead{j,i'}: a rejoin)
 *   suspect{j,i} overrides suspect{j,i'} when i > i', and alive{j,i'} when i >= i'
 *   dead{j,i}    overrides alive and suspect at any i' <= i
 * A restarted node comes back with its durable incarnation + 1, so its alive wins.
 *
 * Members held dead are not probed, but every REVIVE_EVERY periods one of them gets a ping: a
 * member that hears it is held suspect or dead (every message to it says so) refutes, so a
 * healed partition or a long pause merges back.
 *
 * Dissemination (§4.1): every update is piggybacked on pings, ping-reqs and acks, each one up to
 * lambda·ceil(log2(N+1)) times, the least sent first, at most 8 per message.
 *
 * Lifeguard (`lhm=on`): a local health score 0..8 rises when this node's own probe fails or it
 * must refute a suspicion of itself, and falls when a probe succeeds; its timeout and period are
 * scaled by (1 + score), so a node starved of CPU suspects others less readily.
 *
 * Clients may ask a node for its view: members{} → members_ok{inc, members{id:{status,inc}}}.
 *
 * Events: member {member,status,inc} when this node's view of a member changes (status alive,
 * suspect, dead); refute {inc} when it raises its incarnation; state {role} once (role member).
 *
 * Invariants (swimmon.c): Incarnation — a node's own incarnation never goes down, across
 * restarts; Resurrection — no node sees a member alive at an incarnation at or below one it had
 * confirmed dead (only a refutation, with a higher number, brings it back). Completeness and
 * accuracy are measured by `wait dead NODE` / `wait alive NODE` and the false-positive count.
 *
 * Bug toggles: no-indirect (no ping-req: a lost ping or ack alone makes a suspect — false
 * positives under loss), no-refute (a suspected node never raises its incarnation: a paused
 * node is declared dead for good), no-incarnation (any message from a suspect or dead member
 * makes it alive again at the same incarnation, without a refutation — Resurrection).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mode.h"
#include "msg.h"
#include "swim.h"

#define MAX_UPDATES 8           /* piggybacked per message */
#define MAX_INC (1ull << 52)
#define T_PROBE 1
#define T_TIMEOUT 2
#define T_SUSPECT 3
#define FWD_SLOTS 64
#define REVIVE_EVERY 5         /* periods between pings to a member held dead */

enum status { ST_ALIVE, ST_SUSPECT, ST_DEAD };
static const char *const status_names[] = {"alive", "suspect", "dead"};

struct member {
    enum status st;
    uint64_t inc;
    uint64_t suspect_timer;
    int sent;                   /* times the current update about it was piggybacked */
    int heard;                  /* it has sent this node something since this node started */
    int fresh;                  /* there is an update to spread */
};

struct fwd {                    /* a ping this node sends on behalf of another (ping_req) */
    int used;
    uint64_t my_seq, their_seq;
    int requester;
};

struct swim {
    struct env *e;
    uint64_t period_us, timeout_us, suspect_us;
    int k, lambda, lhm_on;
    int bug_no_indirect, bug_no_refute, bug_no_incarnation;
    struct member m[CL_MAXNODES];
    uint64_t inc;               /* my own incarnation */
    int lhm;                    /* Lifeguard's local health score */
    int order[CL_MAXNODES], norder, pos;
    uint64_t seq;
    int probing;                /* the member probed this period, or -1 */
    uint64_t probe_seq;
    int acked;
    struct fwd fwd[FWD_SLOTS];
    uint64_t probes, suspicions, refutes;
    uint64_t periods;
    uint64_t started_us;        /* env_now_us at start: the grace for members not yet heard */
};

/* ---- helpers ---------------------------------------------------------------------------- */

static void event_error(struct swim *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void event_error(struct swim *st, const char *fmt, ...)
{
    char buf[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    env_event(st->e, "error", json_pack("{s:s}", "text", buf));
}

static int me(const struct swim *st)
{
    return st->e->self_idx;
}

static uint64_t scaled(const struct swim *st, uint64_t us)
{
    return st->lhm_on ? us * (uint64_t)(1 + st->lhm) : us;
}

static void health(struct swim *st, int delta)
{
    if (!st->lhm_on)
        return;
    st->lhm += delta;
    if (st->lhm < 0)
        st->lhm = 0;
    if (st->lhm > 8)
        st->lhm = 8;
}

static int retransmit_limit(const struct swim *st)
{
    int n = st->e->n_nodes, lg = 0;
    while ((1 << lg) < n + 1)
        lg++;
    return st->lambda * (lg ? lg : 1);
}

static void save_inc(struct swim *st)
{
    char buf[32];
    int l = snprintf(buf, sizeof buf, "%llu", (unsigned long long)st->inc);
    st->e->ops->blob_put(st->e, "swim_inc", buf, (size_t)l);
}

static void announce(struct swim *st, int j)
{
    struct member *mb = &st->m[j];
    mb->fresh = 1;
    mb->sent = 0;
    env_event(st->e, "member", json_pack("{s:s,s:s,s:I}", "member", st->e->nodes[j], "status",
                                         status_names[mb->st], "inc", (json_int_t)mb->inc));
}

/* The one place a member's status changes: arms or cancels the suspicion timer, announces. */
static void set_status(struct swim *st, int j, enum status s, uint64_t inc)
{
    struct member *mb = &st->m[j];
    if (mb->st == s && mb->inc == inc)
        return;
    enum status was = mb->st;
    mb->st = s;
    mb->inc = inc;
    env_timer_cancel(st->e, mb->suspect_timer);
    mb->suspect_timer = 0;
    if (s == ST_SUSPECT) {
        st->suspicions++;
        mb->suspect_timer = env_timer_set(st->e, st->suspect_us, T_SUSPECT, (uint64_t)j);
    }
    announce(st, j);
    (void)was;
}

static void refute(struct swim *st, uint64_t heard)
{
    if (st->bug_no_refute)
        return; /* bug=no-refute: the node lets the suspicion stand */
    st->inc = heard + 1;
    save_inc(st);
    st->refutes++;
    health(st, 1);
    env_event(st->e, "refute", json_pack("{s:I}", "inc", (json_int_t)st->inc));
    announce(st, me(st));
}

/* Applies an update {j, s, inc} by the precedence rules (top of the file). */
static void apply(struct swim *st, int j, enum status s, uint64_t inc)
{
    if (j == me(st)) {
        if (s != ST_ALIVE && inc >= st->inc)
            refute(st, inc);
        return;
    }
    struct member *mb = &st->m[j];
    int take = 0;
    switch (s) {
    case ST_ALIVE:
        take = inc > mb->inc;
        break;
    case ST_SUSPECT:
        take = mb->st == ST_SUSPECT ? inc > mb->inc : mb->st == ST_ALIVE ? inc >= mb->inc : 0;
        break;
    case ST_DEAD:
        take = mb->st != ST_DEAD ? inc >= mb->inc : 0;
        break;
    }
    if (take)
        set_status(st, j, s, inc);
}

/* Up to MAX_UPDATES updates to piggyback, the least sent first. */
static json_t *updates(struct swim *st)
{
    json_t *a = json_array();
    int limit = retransmit_limit(st);
    for (int round = 0; round < MAX_UPDATES; round++) {
        int best = -1;
        for (int j = 0; j < st->e->n_nodes; j++) {
            struct member *mb = &st->m[j];
            if (!mb->fresh || mb->sent >= limit || mb->sent < 0)
                continue;
            if (best < 0 || mb->sent < st->m[best].sent)
                best = j;
        }
        if (best < 0)
            break;
        struct member *mb = &st->m[best];
        uint64_t inc = best == me(st) ? st->inc : mb->inc;
        enum status s = best == me(st) ? ST_ALIVE : mb->st;
        json_array_append_new(a, json_pack("{s:s,s:s,s:I}", "m", st->e->nodes[best], "s", status_names[s], "i",
                                           (json_int_t)inc));
        mb->sent = -mb->sent - 1; /* marked as taken this message */
    }
    for (int j = 0; j < st->e->n_nodes; j++)
        if (st->m[j].sent < 0) {
            st->m[j].sent = -st->m[j].sent;
            if (st->m[j].sent >= limit)
                st->m[j].fresh = 0;
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

static void take_updates(struct swim *st, const char *src, const json_t *arr)
{
    size_t i;
    const json_t *u;
    json_array_foreach(arr, i, u) {
        struct update_msg m;
        char err[200];
        if (msg_get(u, "an update", update_fields, &m, err, sizeof err) < 0) {
            event_error(st, "from %s: %s: dropped", src, err);
            continue;
        }
        int j = env_node_index(st->e, m.m);
        enum status s = !strcmp(m.s, "alive") ? ST_ALIVE : !strcmp(m.s, "suspect") ? ST_SUSPECT
                      : !strcmp(m.s, "dead") ? ST_DEAD : (enum status)-1;
        if (j < 0 || (int)s < 0) {
            event_error(st, "from %s: an update names member '%s' with status '%s': dropped", src, m.m, m.s);
            continue;
        }
        apply(st, j, s, m.i);
    }
}

/* Sends body to member `to` with the piggybacked updates. A member this node holds suspect or
 * dead hears so in every message it gets from it, so that it can refute at once (and a healed
 * partition merges: see probe()). */
static void send_msg(struct swim *st, int to, json_t *body)
{
    json_t *u = updates(st);
    const struct member *mb = &st->m[to];
    if (mb->st != ST_ALIVE)
        json_array_append_new(u, json_pack("{s:s,s:s,s:I}", "m", st->e->nodes[to], "s", status_names[mb->st], "i",
                                           (json_int_t)mb->inc));
    json_object_set_new(body, "updates", u);
    env_send(st->e, st->e->nodes[to], body);
}

/* The member a message comes from, or -1 (dropped with an error event). A message from a
 * suspect or dead member does not make it alive: only its own refutation, with a higher
 * incarnation, does (§4.2). */
static int peer_of(struct swim *st, const char *src, const char *what)
{
    int j = env_node_index(st->e, src);
    if (j < 0 || j == me(st)) {
        event_error(st, "%s from %s, which is not another member: dropped", what, src);
        return -1;
    }
    st->m[j].heard = 1;
    if (st->bug_no_incarnation && st->m[j].st != ST_ALIVE)
        set_status(st, j, ST_ALIVE, st->m[j].inc); /* bug=no-incarnation: back without a refutation */
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

static int get(struct swim *st, const char *src, const json_t *body, const struct msg_field *f,
               struct ping_msg *m)
{
    char err[200];
    memset(m, 0, sizeof *m);
    if (msg_get(body, NULL, f, m, err, sizeof err) < 0) {
        event_error(st, "%s from %s: dropped", err, src);
        return -1;
    }
    return 0;
}

static void on_ping(void *vst, const char *src, const json_t *body)
{
    struct swim *st = vst;
    struct ping_msg m;
    int j = peer_of(st, src, "probe");
    if (j < 0 || get(st, src, body, ping_fields, &m) < 0)
        return;
    take_updates(st, src, m.updates);
    send_msg(st, j, json_pack("{s:s,s:I}", "type", "probe_ack", "seq", (json_int_t)m.seq));
}

static void on_ping_req(void *vst, const char *src, const json_t *body)
{
    struct swim *st = vst;
    struct ping_msg m;
    int j = peer_of(st, src, "probe_req");
    if (j < 0 || get(st, src, body, ping_req_fields, &m) < 0)
        return;
    take_updates(st, src, m.updates);
    int t = env_node_index(st->e, m.target);
    if (t < 0 || t == me(st)) {
        event_error(st, "probe_req from %s names target '%s', not another member: dropped", src, m.target);
        return;
    }
    struct fwd *slot = &st->fwd[st->seq % FWD_SLOTS];
    slot->used = 1;
    slot->my_seq = ++st->seq;
    slot->their_seq = m.seq;
    slot->requester = j;
    send_msg(st, t, json_pack("{s:s,s:I}", "type", "probe", "seq", (json_int_t)slot->my_seq));
}

static void on_ack(void *vst, const char *src, const json_t *body)
{
    struct swim *st = vst;
    struct ping_msg m;
    int j = peer_of(st, src, "probe_ack");
    if (j < 0 || get(st, src, body, ping_fields, &m) < 0)
        return;
    take_updates(st, src, m.updates);
    if (st->probing >= 0 && m.seq == st->probe_seq) {
        if (!st->acked)
            health(st, -1);
        st->acked = 1;
        return;
    }
    for (int i = 0; i < FWD_SLOTS; i++) {
        struct fwd *f = &st->fwd[i];
        if (f->used && f->my_seq == m.seq) {
            f->used = 0;
            send_msg(st, f->requester, json_pack("{s:s,s:I}", "type", "probe_ack", "seq", (json_int_t)f->their_seq));
            return;
        }
    }
}

/* ---- the protocol period ---------------------------------------------------------------- */

static void shuffle(struct swim *st)
{
    st->norder = 0;
    for (int j = 0; j < st->e->n_nodes; j++)
        if (j != me(st) && st->m[j].st != ST_DEAD)
            st->order[st->norder++] = j;
    for (int i = st->norder - 1; i > 0; i--) {
        int r = (int)env_rand_range(st->e, 0, (uint64_t)i);
        int t = st->order[i];
        st->order[i] = st->order[r];
        st->order[r] = t;
    }
    st->pos = 0;
}

static int next_target(struct swim *st)
{
    for (int tries = 0; tries < 2; tries++) {
        while (st->pos < st->norder) {
            int j = st->order[st->pos++];
            if (st->m[j].st != ST_DEAD)
                return j;
        }
        shuffle(st);
    }
    return -1;
}

static void end_probe(struct swim *st)
{
    int t = st->probing;
    st->probing = -1;
    if (t < 0 || st->acked)
        return;
    health(st, 1);
    /* a member not heard from yet may still be starting (the lab starts N processes one by
     * one): it is suspected only once the start grace (2 x suspect) is over */
    uint64_t since = env_now_us(st->e) - st->started_us;
    if (!st->m[t].heard && (double)since * env_speed(st->e) < 2.0 * (double)st->suspect_us)
        return;
    if (st->m[t].st == ST_ALIVE)
        set_status(st, t, ST_SUSPECT, st->m[t].inc);
}

static void probe(struct swim *st)
{
    end_probe(st);
    /* every REVIVE_EVERY periods, a ping to one member held dead: if it is alive after all (a
     * healed partition, a long pause) it hears that it is held dead and refutes */
    if (++st->periods % REVIVE_EVERY == 0) {
        int dead[CL_MAXNODES], nd = 0;
        for (int j = 0; j < st->e->n_nodes; j++)
            if (j != me(st) && st->m[j].st == ST_DEAD)
                dead[nd++] = j;
        if (nd)
            send_msg(st, dead[env_rand_range(st->e, 0, (uint64_t)nd - 1)],
                     json_pack("{s:s,s:I}", "type", "probe", "seq", (json_int_t)0));
    }
    int t = next_target(st);
    if (t >= 0) {
        st->probing = t;
        st->acked = 0;
        st->probe_seq = ++st->seq;
        st->probes++;
        send_msg(st, t, json_pack("{s:s,s:I}", "type", "probe", "seq", (json_int_t)st->probe_seq));
        env_timer_set(st->e, scaled(st, st->timeout_us), T_TIMEOUT, st->probe_seq);
    }
    env_timer_set(st->e, scaled(st, st->period_us), T_PROBE, 0);
}

/* No direct ack within the timeout: ask k others to ping the target (§3.1). */
static void indirect(struct swim *st, uint64_t seq)
{
    if (st->probing < 0 || st->probe_seq != seq || st->acked || st->bug_no_indirect)
        return;
    int pool[CL_MAXNODES], c = 0;
    for (int j = 0; j < st->e->n_nodes; j++)
        if (j != me(st) && j != st->probing && st->m[j].st == ST_ALIVE)
            pool[c++] = j;
    for (int i = 0; i < st->k && c > 0; i++) {
        int r = (int)env_rand_range(st->e, 0, (uint64_t)(c - 1));
        int j = pool[r];
        pool[r] = pool[--c];
        send_msg(st, j, json_pack("{s:s,s:I,s:s}", "type", "probe_req", "seq", (json_int_t)seq, "target",
                                  st->e->nodes[st->probing]));
    }
}

static void swim_on_timer(void *vst, int kind, uint64_t arg)
{
    struct swim *st = vst;
    if (kind == T_PROBE) {
        probe(st);
    } else if (kind == T_TIMEOUT) {
        indirect(st, arg);
    } else if (kind == T_SUSPECT && arg < (uint64_t)st->e->n_nodes) {
        struct member *mb = &st->m[arg];
        mb->suspect_timer = 0;
        if (mb->st == ST_SUSPECT)
            set_status(st, (int)arg, ST_DEAD, mb->inc);
    }
}

/* ---- commands --------------------------------------------------------------------------- */

static json_t *cmd_reply(int ok, struct sb *b)
{
    json_t *r = json_pack("{s:b,s:s}", "ok", ok, "text", b->s ? b->s : "");
    sb_free(b);
    return r;
}

/* `members NODE`: NODE's view of the group. */
static json_t *cmd_members(void *vst, int argc, char **argv)
{
    struct swim *st = vst;
    struct sb b = {0};
    if (argc < 1 || strcmp(argv[0], st->e->self)) {
        sb_printf(&b, "members runs on the node it names (this is %s)", st->e->self);
        return cmd_reply(0, &b);
    }
    sb_printf(&b, "%s (incarnation %llu%s):", st->e->self, (unsigned long long)st->inc,
              st->lhm_on ? "" : "");
    if (st->lhm_on)
        sb_printf(&b, " local health %d", st->lhm);
    for (int j = 0; j < st->e->n_nodes; j++) {
        if (j == me(st))
            continue;
        sb_printf(&b, " %s=%s/%llu", st->e->nodes[j], status_names[st->m[j].st], (unsigned long long)st->m[j].inc);
    }
    return cmd_reply(1, &b);
}

static const struct mode_command swim_commands[] = {
    {"members", "members NODE", "NODE's membership view: each member alive, suspect or dead, with its incarnation",
     "members n3", 1, 1, cmd_members, MC_ON_NODE},
    {NULL, NULL, NULL, NULL, 0, 0, NULL, MC_ANY},
};

/* ---- life ------------------------------------------------------------------------------- */

static void *swim_create(struct env *e, const struct opts *o, char *err, size_t errlen)
{
    struct swim *st = xcalloc(1, sizeof *st);
    st->e = e;
    st->period_us = opts_get_duration(o, "period", 500000);
    st->timeout_us = opts_get_duration(o, "timeout", 150000);
    st->suspect_us = opts_get_duration(o, "suspect", 2000000);
    st->k = (int)opts_get_int(o, "k", 3);
    st->lambda = (int)opts_get_int(o, "lambda", 3);
    st->lhm_on = !strcmp(opts_get(o, "lhm", "off"), "on");
    const char *bug = opts_get(o, "bug", "");
    st->bug_no_indirect = !strcmp(bug, "no-indirect");
    st->bug_no_refute = !strcmp(bug, "no-refute");
    st->bug_no_incarnation = !strcmp(bug, "no-incarnation");
    if (st->timeout_us >= st->period_us) {
        snprintf(err, errlen, "swim needs timeout < period, so that an indirect probe fits in the period "
                              "(got timeout=%llums period=%llums)",
                 (unsigned long long)(st->timeout_us / 1000), (unsigned long long)(st->period_us / 1000));
        free(st);
        return NULL;
    }
    char *data = NULL;
    size_t len = 0;
    if (e->ops->blob_get(e, "swim_inc", &data, &len) == 0) {
        char buf[32];
        size_t l = len < sizeof buf - 1 ? len : sizeof buf - 1;
        memcpy(buf, data, l);
        buf[l] = 0;
        st->inc = strtoull(buf, NULL, 10) + 1; /* a restart: come back above anything said of the old life */
        free(data);
    }
    st->probing = -1;
    return st;
}

static void swim_start(void *vst)
{
    struct swim *st = vst;
    save_inc(st);
    st->started_us = env_now_us(st->e);
    env_event(st->e, "state", json_pack("{s:s,s:I}", "role", "member", "inc", (json_int_t)st->inc));
    if (st->inc)
        announce(st, me(st)); /* back from a restart: spread alive{me, inc} */
    shuffle(st);
    env_timer_set(st->e, env_rand_range(st->e, 1, st->period_us), T_PROBE, 0);
}

static void swim_destroy(void *vst)
{
    free(vst);
}

static json_t *swim_status(void *vst)
{
    struct swim *st = vst;
    json_t *view = json_object();
    int alive = 1, suspect = 0, dead = 0;
    for (int j = 0; j < st->e->n_nodes; j++) {
        if (j == me(st))
            continue;
        json_object_set_new(view, st->e->nodes[j], json_pack("{s:s,s:I}", "status", status_names[st->m[j].st], "inc",
                                                             (json_int_t)st->m[j].inc));
        alive += st->m[j].st == ST_ALIVE;
        suspect += st->m[j].st == ST_SUSPECT;
        dead += st->m[j].st == ST_DEAD;
    }
    return json_pack("{s:s,s:I,s:i,s:i,s:i,s:i,s:I,s:o,s:o}", "role", "member", "inc", (json_int_t)st->inc, "alive",
                     alive, "suspect", suspect, "dead", dead, "lhm", st->lhm, "probes", (json_int_t)st->probes,
                     "members", view, "data", json_object());
}

/* A client's members{}: this node's view, {"type":"members_ok","inc":I,"members":{"n2":
 * {"status":"alive","inc":0},…}}. */
static void on_members(void *vst, const char *src, const json_t *body)
{
    struct swim *st = vst;
    json_t *view = json_object();
    for (int j = 0; j < st->e->n_nodes; j++)
        if (j != me(st))
            json_object_set_new(view, st->e->nodes[j], json_pack("{s:s,s:I}", "status", status_names[st->m[j].st],
                                                                 "inc", (json_int_t)st->m[j].inc));
    env_reply(st->e, src, body, json_pack("{s:s,s:I,s:o}", "type", "members_ok", "inc", (json_int_t)st->inc,
                                          "members", view));
}

static const struct mode_handler swim_handlers[] = {
    {"members", on_members},
    {"probe", on_ping},
    {"probe_req", on_ping_req},
    {"probe_ack", on_ack},
    {NULL, NULL},
};

static const struct mode_option swim_options[] = {
    {"period", OPT_DURATION, NULL, 10000, 10000000, "500ms", "the protocol period: one member probed per period"},
    {"timeout", OPT_DURATION, NULL, 1000, 5000000, "150ms", "a direct ping's ack must come within this, else ping-req"},
    {"suspect", OPT_DURATION, NULL, 10000, 60000000, "2s", "a suspect not refuted within this is confirmed dead"},
    {"k", OPT_INT, NULL, 0, 8, "3", "members asked to probe indirectly (ping-req)"},
    {"lambda", OPT_INT, NULL, 1, 10, "3", "each update is piggybacked lambda*log2(N+1) times"},
    {"lhm", OPT_ENUM, "on|off", 0, 0, "off", "Lifeguard's local health multiplier: a struggling node slows its own probing"},
    {NULL, 0, NULL, 0, 0, NULL, NULL},
};

/* ---- the face (mode.h) ------------------------------------------------------------------ */

static const struct mode_role swim_roles[] = {
    {"member", RC_PEER},
    {NULL, RC_UNKNOWN},
};

static const struct mode_figure swim_figures[] = {
    {"inc", "inc", "i"},
    {"alive", "alive", "a"},
    {"suspect", "suspect", "s"},
    {"dead", "dead", "d"},
    {"lhm", "lhm", NULL},
    {NULL, NULL, NULL},
};

static const struct mode_wait swim_waits[] = {
    {"dead", "wait dead NODE [TIMEOUT]", "until every live member holds NODE dead; says how long after its crash", 1,
     swimmon_wait_dead},
    {"alive", "wait alive NODE [TIMEOUT]", "until every live member holds NODE alive", 1, swimmon_wait_alive},
    {NULL, NULL, NULL, 0, NULL},
};

static const char *const swim_client_types[] = {"members", NULL};

const struct mode mode_swim = {
    .name = "swim",
    .summary = "SWIM failure detection: ping, ping-req through k members, suspicion, incarnations, piggybacked updates",
    .options = swim_options,
    .bugs = "no-indirect|no-refute|no-incarnation",
    .handlers = swim_handlers,
    .commands = swim_commands,
    .create = swim_create,
    .start = swim_start,
    .destroy = swim_destroy,
    .on_timer = swim_on_timer,
    .status = swim_status,
    .monitor = &swimmon_ops,
    .workload = "members",
    .client_types = swim_client_types,
    .roles = swim_roles,
    .figures = swim_figures,
    .events = "state|member|refute",
    .max_nodes = CL_MAXNODES,
    .waits = swim_waits,
    .grid_figure = "dead",
};
