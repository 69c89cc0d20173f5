/* gossip — epidemic dissemination (Demers et al. 1987, "Epidemic algorithms for replicated
 * database maintenance"; Karp et al. 2000, "Randomized rumor spreading"). A student starts a
 * rumor on one node (`rumor n1 hello`) and watches it reach everyone in O(log N) rounds.
 *
 * Rounds. Every node runs its own timer of `period`; each tick is one round of that node. In
 * a round a node picks `fanout` peers at random and
 *   push       sends them its *hot* rumors                          gossip{rumors}
 *   pull       sends them the ids it holds, asking for the others    gossip{have}
 *   push-pull  both in one message                                   gossip{rumors,have}
 * The partner answers gossip_ok{known, rumors}: which pushed rumors it already had (the
 * feedback the stop rule counts) and every rumor the asker lacks (when it sent `have`).
 *
 * Rumor mongering (SIR). A node is susceptible (no rumor), infective (it holds a hot rumor:
 * it pushes it every round) or removed (every rumor it holds is cold). A hot rumor goes cold
 * by the stop rule: stop=counter after k pushes that met a node which already had it
 * (Demers' feedback/counter), stop=coin with probability 1/k after each such push, and in
 * every case once it is ttl rounds old. Pull answers with cold rumors too, so pull and
 * push-pull always complete; pure push may leave a residue of susceptible nodes, which
 * anti-entropy (ae=PERIOD: a full exchange with one random peer) repairs.
 *
 * Round numbers. A rumor carries the round it was sent in, counted along its path: the
 * origin learns it in round 0, and a node that learned it in round r sends it in round
 * r + (its ticks since then, at least 1). So "rounds to full spread" is the largest round
 * any node learned it in — the synchronous model's figure (log2 N + ln N for push with
 * fanout 1) measured on asynchronous timers, without comparing clocks across nodes.
 *
 * Clients speak Maelstrom's broadcast workload: broadcast{message} starts a rumor (the message
 * as its text), read returns every message the node holds, topology is accepted and ignored.
 *
 * Events: rumor {rumor,text} at the origin; infect {rumor,text,from,round,via} when a node
 * learns one (via push, pull or ae); cold {rumor,round} when it stops spreading one; state
 * {role} on each SIR change.
 *
 * Invariants (gossipmon.c checks them live): Integrity — every node holds a rumor with the
 * text its origin gave it (none is invented or altered); Stability — a node learns each rumor
 * at most once per life (it never forgets one). Progress is judged by `wait rumor TEXT`.
 *
 * Bug toggles: corrupt (a forwarded rumor's text is altered: Integrity), forget (a node drops a
 * rumor when it goes cold and learns it again: Stability), stop-early (a rumor goes cold after
 * its first push: push leaves most nodes uninformed).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gossip.h"
#include "mode.h"
#include "msg.h"

#define MAX_RUMORS 256      /* rumors a node holds */
#define MAX_TEXT 64         /* bytes of a rumor's text */
#define MAX_ROUND 1000000
#define MAX_FANOUT 8
#define T_ROUND 1
#define T_AE 2

struct rumor {
    char id[CL_IDLEN + 12];  /* "n1#3": origin and its sequence number */
    char text[MAX_TEXT + 1];
    uint64_t round;         /* the round this node learned it in */
    uint64_t got_tick;      /* this node's tick when it learned it */
    int hot;
    int useless;            /* pushes that met a node which already had it */
};

enum role { R_SUSCEPTIBLE, R_INFECTIVE, R_REMOVED };
static const char *const role_names[] = {"susceptible", "infective", "removed"};

struct gossip {
    struct env *e;
    int style_push, style_pull;
    int fanout, k, ttl;
    enum { STOP_COUNTER, STOP_COIN, STOP_NONE } stop;
    uint64_t period_us, ae_us;
    int bug_corrupt, bug_forget, bug_stop_early;
    struct rumor *r;        /* the rumors held: n of them, room for cap (grown as they come, so
                             * a 1,000-node simulation costs a few hundred bytes a node) */
    int n, cap;
    uint64_t tick;
    uint64_t seq;           /* rumors this node started (durable, so ids stay unique) */
    uint64_t sent, learned;
    enum role role;
};

/* ---- helpers ---------------------------------------------------------------------------- */

static void event_error(struct gossip *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void event_error(struct gossip *st, const char *fmt, ...)
{
    char buf[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    env_event(st->e, "error", json_pack("{s:s}", "text", buf));
}

static struct rumor *find(struct gossip *st, const char *id)
{
    for (int i = 0; i < st->n; i++)
        if (!strcmp(st->r[i].id, id))
            return &st->r[i];
    return NULL;
}

/* A new, zeroed slot at the end of st->r (the caller checked n < MAX_RUMORS). */
static struct rumor *new_rumor(struct gossip *st)
{
    if (st->n == st->cap) {
        st->cap = st->cap ? st->cap * 2 : 4;
        st->r = xrealloc(st->r, (size_t)st->cap * sizeof *st->r);
    }
    struct rumor *r = &st->r[st->n++];
    memset(r, 0, sizeof *r);
    return r;
}

/* The one place the SIR role changes: emits the state event. */
static void set_role(struct gossip *st)
{
    enum role nr = R_SUSCEPTIBLE;
    for (int i = 0; i < st->n; i++) {
        if (st->r[i].hot) {
            nr = R_INFECTIVE;
            break;
        }
        nr = R_REMOVED;
    }
    if (nr == st->role)
        return;
    st->role = nr;
    env_event(st->e, "state", json_pack("{s:s}", "role", role_names[nr]));
}

/* The round a rumor is sent in now. */
static uint64_t send_round(const struct gossip *st, const struct rumor *r)
{
    uint64_t d = st->tick > r->got_tick ? st->tick - r->got_tick : 1;
    return r->round + d;
}

static json_t *rumor_json(const struct gossip *st, const struct rumor *r)
{
    char text[MAX_TEXT + 2];
    str_copy(text, r->text, sizeof text);
    if (st->bug_corrupt) {
        /* bug=corrupt: the text is altered on the way (its last byte changes) */
        size_t l = strlen(text);
        if (l)
            text[l - 1] = text[l - 1] == '!' ? '?' : '!';
    }
    return json_pack("{s:s,s:s,s:I}", "id", r->id, "text", text, "round", (json_int_t)send_round(st, r));
}

static void go_cold(struct gossip *st, struct rumor *r)
{
    if (!r->hot)
        return;
    r->hot = 0;
    env_event(st->e, "cold", json_pack("{s:s,s:I}", "rumor", r->id, "round", (json_int_t)send_round(st, r)));
    if (st->bug_forget) {
        /* bug=forget: the node drops the rumor it no longer spreads, and may learn it again */
        *r = st->r[--st->n];
    }
    set_role(st);
}

static int valid_id(const char *id)
{
    const char *hash = strchr(id, '#');
    int idx;
    char node[CL_IDLEN];
    if (!hash || (size_t)(hash - id) >= CL_IDLEN || strlen(id) >= CL_IDLEN + 12)
        return 0;
    memcpy(node, id, (size_t)(hash - id));
    node[hash - id] = 0;
    if (parse_node_id(node, CL_SIM_MAXNODES, &idx) < 0)
        return 0;
    const char *p = hash + 1;
    if (!*p)
        return 0;
    for (; *p; p++)
        if (*p < '0' || *p > '9')
            return 0;
    return 1;
}

struct rumor_msg {
    const char *id, *text;
    uint64_t round;
};
static const struct msg_field rumor_fields[] = {
    MSG_STR(struct rumor_msg, id),
    MSG_STR(struct rumor_msg, text),
    MSG_U64(struct rumor_msg, round, MAX_ROUND),
    MSG_END,
};

/* Learns the rumor j (from src, via how) when new. Returns 1 new, 0 already held, -1 refused. */
static int learn(struct gossip *st, const char *src, const json_t *j, const char *via)
{
    struct rumor_msg m;
    char err[200];
    if (msg_get(j, "a rumor", rumor_fields, &m, err, sizeof err) < 0) {
        event_error(st, "gossip from %s: %s: dropped", src, err);
        return -1;
    }
    if (!valid_id(m.id) || strlen(m.text) > MAX_TEXT || !m.text[0]) {
        event_error(st, "gossip from %s: a rumor needs an id such as \"n1#1\" and a text of 1 to %d bytes: dropped",
                    src, MAX_TEXT);
        return -1;
    }
    if (find(st, m.id))
        return 0;
    if (st->n == MAX_RUMORS) {
        event_error(st, "gossip from %s: rumor %s not kept: %s already holds %d rumors", src, m.id, st->e->self,
                    MAX_RUMORS);
        return -1;
    }
    struct rumor *r = new_rumor(st);
    memset(r, 0, sizeof *r);
    str_copy(r->id, m.id, sizeof r->id);
    str_copy(r->text, m.text, sizeof r->text);
    r->round = m.round;
    r->got_tick = st->tick;
    r->hot = 1;
    st->learned++;
    env_event(st->e, "infect", json_pack("{s:s,s:s,s:s,s:I,s:s}", "rumor", r->id, "text", r->text, "from", src,
                                         "round", (json_int_t)r->round, "via", via));
    set_role(st);
    return 1;
}

static int in_list(const json_t *arr, const char *id)
{
    size_t i;
    const json_t *v;
    json_array_foreach(arr, i, v)
        if (json_is_string(v) && !strcmp(json_string_value(v), id))
            return 1;
    return 0;
}

static json_t *have_list(const struct gossip *st)
{
    json_t *a = json_array();
    for (int i = 0; i < st->n; i++)
        json_array_append_new(a, json_string(st->r[i].id));
    return a;
}

/* Picks up to want distinct random peers (never self) into out; returns how many. */
static int pick_peers(struct gossip *st, int want, int *out)
{
    int n = st->e->n_nodes, me = st->e->self_idx, c = 0;
    int pool[CL_SIM_MAXNODES];
    for (int i = 0; i < n; i++)
        if (i != me)
            pool[c++] = i;
    if (want > c)
        want = c;
    for (int i = 0; i < want; i++) {
        int j = i + (int)env_rand_range(st->e, 0, (uint64_t)(c - i - 1));
        int t = pool[i];
        pool[i] = pool[j];
        pool[j] = t;
        out[i] = pool[i];
    }
    return want;
}

/* ---- handlers --------------------------------------------------------------------------- */

struct gossip_msg {
    const json_t *rumors, *have;
    int ae;
};
static const struct msg_field gossip_fields[] = {
    MSG_ARRAY_OPT(struct gossip_msg, rumors, MAX_RUMORS),
    MSG_ARRAY_OPT(struct gossip_msg, have, MAX_RUMORS),
    MSG_BOOL_OPT(struct gossip_msg, ae),
    MSG_END,
};

static void on_gossip(void *vst, const char *src, const json_t *body)
{
    struct gossip *st = vst;
    struct gossip_msg m = {0};
    char err[200];
    if (env_node_index(st->e, src) < 0) {
        event_error(st, "gossip from %s, which is not a node of this cluster: dropped", src);
        return;
    }
    if (msg_get(body, NULL, gossip_fields, &m, err, sizeof err) < 0) {
        event_error(st, "%s from %s: dropped", err, src);
        return;
    }
    json_t *known = json_array();
    size_t i;
    const json_t *j;
    json_array_foreach(m.rumors, i, j) {
        int got = learn(st, src, j, m.ae ? "ae" : "push");
        if (got == 0)
            json_array_append_new(known, json_incref(json_object_get(j, "id")));
    }
    json_t *back = json_array();
    if (m.have) {
        for (int r = 0; r < st->n; r++)
            if (!in_list(m.have, st->r[r].id) && !in_list(m.rumors, st->r[r].id))
                json_array_append_new(back, rumor_json(st, &st->r[r]));
    }
    json_t *reply = json_pack("{s:s,s:o,s:o}", "type", "gossip_ok", "known", known, "rumors", back);
    if (m.ae)
        json_object_set_new(reply, "ae", json_true());
    env_reply(st->e, src, body, reply);
}

struct gossip_ok_msg {
    const json_t *known, *rumors;
    int ae;
};
static const struct msg_field gossip_ok_fields[] = {
    MSG_ARRAY(struct gossip_ok_msg, known, MAX_RUMORS),
    MSG_ARRAY(struct gossip_ok_msg, rumors, MAX_RUMORS),
    MSG_BOOL_OPT(struct gossip_ok_msg, ae),
    MSG_END,
};

static void on_gossip_ok(void *vst, const char *src, const json_t *body)
{
    struct gossip *st = vst;
    struct gossip_ok_msg m = {0};
    char err[200];
    if (env_node_index(st->e, src) < 0) {
        event_error(st, "gossip_ok from %s, which is not a node of this cluster: dropped", src);
        return;
    }
    if (msg_get(body, NULL, gossip_ok_fields, &m, err, sizeof err) < 0) {
        event_error(st, "%s from %s: dropped", err, src);
        return;
    }
    size_t i;
    const json_t *j;
    json_array_foreach(m.rumors, i, j)
        learn(st, src, j, m.ae ? "ae" : "pull");
    if (m.ae)
        return;
    /* the stop rule: a push that met a node which already had the rumor */
    json_array_foreach(m.known, i, j) {
        struct rumor *r = json_is_string(j) ? find(st, json_string_value(j)) : NULL;
        if (!r || !r->hot)
            continue;
        r->useless++;
        if ((st->stop == STOP_COUNTER && r->useless >= st->k) ||
            (st->stop == STOP_COIN && env_rand_range(st->e, 1, (uint64_t)st->k) == 1))
            go_cold(st, r);
    }
}

/* ---- rounds ----------------------------------------------------------------------------- */

static void round_tick(struct gossip *st)
{
    st->tick++;
    /* the age rule first: a rumor ttl rounds old is cold whatever the stop rule says */
    for (int i = 0; i < st->n; i++)
        if (st->r[i].hot && send_round(st, &st->r[i]) > (uint64_t)st->ttl)
            go_cold(st, &st->r[i]);
    json_t *hot = json_array();
    for (int i = 0; st->style_push && i < st->n; i++)
        if (st->r[i].hot)
            json_array_append_new(hot, rumor_json(st, &st->r[i]));
    if (!json_array_size(hot) && !st->style_pull) {
        json_decref(hot);
        return;
    }
    int peers[MAX_FANOUT];
    int np = pick_peers(st, st->fanout, peers);
    for (int p = 0; p < np; p++) {
        json_t *b = json_pack("{s:s,s:I,s:O}", "type", "gossip", "msg_id", (json_int_t)env_next_msg_id(st->e),
                              "rumors", hot);
        if (st->style_pull)
            json_object_set_new(b, "have", have_list(st));
        st->sent++;
        env_send(st->e, st->e->nodes[peers[p]], b);
    }
    json_decref(hot);
    if (st->bug_stop_early) {
        /* bug=stop-early: the node loses interest after its first push */
        for (int i = st->n - 1; i >= 0; i--)
            if (st->r[i].hot && np)
                go_cold(st, &st->r[i]);
    }
}

static void ae_tick(struct gossip *st)
{
    int peer;
    if (!pick_peers(st, 1, &peer))
        return;
    json_t *all = json_array();
    for (int i = 0; i < st->n; i++)
        json_array_append_new(all, rumor_json(st, &st->r[i]));
    json_t *b = json_pack("{s:s,s:I,s:o,s:o,s:b}", "type", "gossip", "msg_id",
                          (json_int_t)env_next_msg_id(st->e), "rumors", all, "have", have_list(st), "ae", 1);
    st->sent++;
    env_send(st->e, st->e->nodes[peer], b);
}

static void gossip_on_timer(void *vst, int kind, uint64_t arg)
{
    struct gossip *st = vst;
    (void)arg;
    if (kind == T_ROUND) {
        round_tick(st);
        env_timer_set(st->e, st->period_us, T_ROUND, 0);
    } else if (kind == T_AE) {
        ae_tick(st);
        env_timer_set(st->e, st->ae_us, T_AE, 0);
    }
}

/* ---- commands --------------------------------------------------------------------------- */

static json_t *cmd_reply(int ok, struct sb *b)
{
    json_t *r = json_pack("{s:b,s:s}", "ok", ok, "text", b->s ? b->s : "");
    sb_free(b);
    return r;
}

static int valid_text(const char *t)
{
    size_t l = strlen(t);
    if (!l || l > MAX_TEXT)
        return 0;
    for (const char *p = t; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f || *p == '#')
            return 0;
    return 1;
}

/* Starts a rumor with this text on this node. Returns it, or NULL with the reason in why. */
static struct rumor *originate(struct gossip *st, const char *text, struct sb *why)
{
    if (!valid_text(text)) {
        sb_printf(why, "rumor: the text must be 1 to %d bytes without spaces, control characters or '#', not '%s'",
                  MAX_TEXT, text);
        return NULL;
    }
    if (st->n == MAX_RUMORS) {
        sb_printf(why, "%s already holds %d rumors, the most it keeps", st->e->self, MAX_RUMORS);
        return NULL;
    }
    st->seq++;
    char seqtxt[32];
    int sl = snprintf(seqtxt, sizeof seqtxt, "%llu", (unsigned long long)st->seq);
    st->e->ops->blob_put(st->e, "gossip_seq", seqtxt, (size_t)sl);
    struct rumor *r = new_rumor(st);
    memset(r, 0, sizeof *r);
    snprintf(r->id, sizeof r->id, "%s#%llu", st->e->self, (unsigned long long)st->seq);
    str_copy(r->text, text, sizeof r->text);
    r->got_tick = st->tick;
    r->hot = 1;
    env_event(st->e, "rumor", json_pack("{s:s,s:s}", "rumor", r->id, "text", r->text));
    set_role(st);
    return r;
}

static struct rumor *find_text(struct gossip *st, const char *text)
{
    for (int i = 0; i < st->n; i++)
        if (!strcmp(st->r[i].text, text))
            return &st->r[i];
    return NULL;
}

/* `rumor NODE TEXT`: NODE starts a rumor. */
static json_t *cmd_rumor(void *vst, int argc, char **argv)
{
    struct gossip *st = vst;
    struct sb b = {0};
    if (argc < 2 || strcmp(argv[0], st->e->self)) {
        sb_printf(&b, "rumor runs on the node it names (this is %s)", st->e->self);
        return cmd_reply(0, &b);
    }
    struct rumor *old = find_text(st, argv[1]);
    if (old) {
        sb_printf(&b, "%s already holds a rumor '%s' (%s)", st->e->self, argv[1], old->id);
        return cmd_reply(0, &b);
    }
    struct rumor *r = originate(st, argv[1], &b);
    if (!r)
        return cmd_reply(0, &b);
    sb_printf(&b, "%s starts rumor %s '%s' (%s, fanout %d, a round every %llums)", st->e->self, r->id, r->text,
              st->style_push && st->style_pull ? "push-pull" : st->style_push ? "push" : "pull", st->fanout,
              (unsigned long long)(st->period_us / 1000));
    return cmd_reply(1, &b);
}

/* ---- Maelstrom's broadcast workload: broadcast, read, topology ----------------------------- */

/* broadcast{message}: the message (a whole number or a string) becomes a rumor of this node. */
static void on_broadcast(void *vst, const char *src, const json_t *body)
{
    struct gossip *st = vst;
    const json_t *m = json_object_get(body, "message");
    char text[MAX_TEXT + 2];
    if (json_is_integer(m))
        snprintf(text, sizeof text, "%lld", (long long)json_integer_value(m));
    else if (json_is_string(m) && strlen(json_string_value(m)) <= MAX_TEXT)
        str_copy(text, json_string_value(m), sizeof text);
    else {
        env_reply_error(st->e, src, body, ERR_MALFORMED_REQUEST,
                        "a broadcast needs a \"message\": a whole number or a string of 1 to 64 bytes", NULL);
        return;
    }
    if (!find_text(st, text)) {
        struct sb why = {0};
        if (!originate(st, text, &why)) {
            env_reply_error(st->e, src, body, ERR_MALFORMED_REQUEST, why.s ? why.s : "refused", NULL);
            sb_free(&why);
            return;
        }
    }
    env_reply(st->e, src, body, json_pack("{s:s}", "type", "broadcast_ok"));
}

/* read: every message this node holds (numbers as numbers). */
static void on_read(void *vst, const char *src, const json_t *body)
{
    struct gossip *st = vst;
    json_t *msgs = json_array();
    for (int i = 0; i < st->n; i++) {
        char *end;
        long long v = strtoll(st->r[i].text, &end, 10);
        if (!*end && end != st->r[i].text)
            json_array_append_new(msgs, json_integer(v));
        else
            json_array_append_new(msgs, json_string(st->r[i].text));
    }
    env_reply(st->e, src, body, json_pack("{s:s,s:o}", "type", "read_ok", "messages", msgs));
}

/* topology: accepted and ignored — gossip picks its peers at random every round. */
static void on_topology(void *vst, const char *src, const json_t *body)
{
    struct gossip *st = vst;
    env_reply(st->e, src, body, json_pack("{s:s}", "type", "topology_ok"));
}

static const struct mode_command gossip_commands[] = {
    {"rumor", "rumor NODE TEXT", "NODE starts a rumor; every round it spreads to fanout random peers",
     "rumor n1 hello", 2, 2, cmd_rumor, MC_ON_NODE},
    {NULL, NULL, NULL, NULL, 0, 0, NULL, MC_ANY},
};

/* ---- life ------------------------------------------------------------------------------- */

static void *gossip_create(struct env *e, const struct opts *o, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    struct gossip *st = xcalloc(1, sizeof *st);
    st->e = e;
    const char *style = opts_get(o, "style", "push");
    st->style_push = strcmp(style, "pull") != 0;
    st->style_pull = strcmp(style, "push") != 0;
    st->fanout = (int)opts_get_int(o, "fanout", 1);
    st->k = (int)opts_get_int(o, "k", 2);
    st->ttl = (int)opts_get_int(o, "ttl", 30);
    const char *stop = opts_get(o, "stop", "counter");
    st->stop = !strcmp(stop, "coin") ? STOP_COIN : !strcmp(stop, "none") ? STOP_NONE : STOP_COUNTER;
    st->period_us = opts_get_duration(o, "period", 100000);
    st->ae_us = opts_get_duration(o, "ae", 1000000);
    const char *bug = opts_get(o, "bug", "");
    st->bug_corrupt = !strcmp(bug, "corrupt");
    st->bug_forget = !strcmp(bug, "forget");
    st->bug_stop_early = !strcmp(bug, "stop-early");
    char *data = NULL;
    size_t len = 0;
    if (e->ops->blob_get(e, "gossip_seq", &data, &len) == 0) {
        char buf[32];
        size_t l = len < sizeof buf - 1 ? len : sizeof buf - 1;
        memcpy(buf, data, l);
        buf[l] = 0;
        st->seq = strtoull(buf, NULL, 10);
        free(data);
    }
    return st;
}

static void gossip_start(void *vst)
{
    struct gossip *st = vst;
    st->role = R_REMOVED; /* so that set_role announces the first role */
    set_role(st);
    /* the first round at a random phase, so that the nodes' rounds do not march in step */
    env_timer_set(st->e, env_rand_range(st->e, 1, st->period_us), T_ROUND, 0);
    if (st->ae_us)
        env_timer_set(st->e, env_rand_range(st->e, 1, st->ae_us), T_AE, 0);
}

static void gossip_destroy(void *vst)
{
    struct gossip *st = vst;
    free(st->r);
    free(st);
}

static json_t *gossip_status(void *vst)
{
    struct gossip *st = vst;
    json_t *data = json_object();
    int hot = 0;
    for (int i = 0; i < st->n; i++) {
        json_object_set_new(data, st->r[i].text, json_string(st->r[i].id));
        hot += st->r[i].hot;
    }
    return json_pack("{s:s,s:i,s:i,s:I,s:I,s:o}", "role", role_names[st->role], "rumors", st->n, "hot", hot,
                     "round", (json_int_t)st->tick, "sent", (json_int_t)st->sent, "data", data);
}

static const struct mode_handler gossip_handlers[] = {
    {"gossip", on_gossip},
    {"gossip_ok", on_gossip_ok},
    {"broadcast", on_broadcast},
    {"read", on_read},
    {"topology", on_topology},
    {NULL, NULL},
};

static const struct mode_option gossip_options[] = {
    {"style", OPT_ENUM, "push|pull|push-pull", 0, 0, "push", "push hot rumors, pull missing ones, or both each round"},
    {"fanout", OPT_INT, NULL, 1, MAX_FANOUT, "1", "peers each node contacts per round"},
    {"period", OPT_DURATION, NULL, 5000, 10000000, "100ms", "the length of a round (each node's own timer)"},
    {"stop", OPT_ENUM, "counter|coin|none", 0, 0, "counter", "when a node stops pushing a rumor: after k useless pushes, a coin of 1/k per useless push, or only at ttl"},
    {"k", OPT_INT, NULL, 1, 20, "2", "the stop rule's counter limit or coin"},
    {"ttl", OPT_INT, NULL, 1, 1000, "30", "rounds after which a rumor is cold whatever the stop rule"},
    {"ae", OPT_DURATION, NULL, 0, 60000000, "1s", "anti-entropy: a full exchange with one random peer every ae (0 = off)"},
    {NULL, 0, NULL, 0, 0, NULL, NULL},
};

/* ---- the face (mode.h) ------------------------------------------------------------------ */

/* conlab bench spread: the round this node learned the rumor with this text in, or -1. */
static long gossip_spread_round(void *vst, const char *text)
{
    struct rumor *r = find_text(vst, text);
    return r ? (long)r->round : -1;
}

/* The synchronous model's pure dissemination: no stop rule, no anti-entropy. */
static const struct mode_spread_run gossip_spread_runs[] = {
    {"push", "style=push stop=none ttl=200 ae=0"},
    {"push-pull", "style=push-pull stop=none ttl=200 ae=0"},
    {"push f=2", "style=push fanout=2 stop=none ttl=200 ae=0"},
    {NULL, NULL},
};

static const struct mode_role gossip_roles[] = {
    {"susceptible", RC_FOLLOWER},
    {"infective", RC_CANDIDATE},
    {"removed", RC_PEER},
    {NULL, RC_UNKNOWN},
};

static const struct mode_figure gossip_figures[] = {
    {"rumors", "rumors", "r"},
    {"hot", "hot", "hot"},
    {"round", "round", "#"},
    {"sent", "sent", NULL},
    {NULL, NULL, NULL},
};

static const struct mode_wait gossip_waits[] = {
    {"rumor", "wait rumor TEXT [TIMEOUT]",
     "until every live node holds the rumor TEXT; says after how many rounds, beside log2 N", 1,
     gossipmon_wait_rumor},
    {NULL, NULL, NULL, 0, NULL},
};

static const char *const gossip_client_types[] = {"broadcast", "read", "topology", NULL};

const struct mode mode_gossip = {
    .name = "gossip",
    .summary = "epidemic dissemination: rumors spread by push, pull or push-pull to fanout random peers a round",
    .options = gossip_options,
    .bugs = "corrupt|forget|stop-early",
    .handlers = gossip_handlers,
    .commands = gossip_commands,
    .create = gossip_create,
    .start = gossip_start,
    .destroy = gossip_destroy,
    .on_timer = gossip_on_timer,
    .status = gossip_status,
    .monitor = &gossipmon_ops,
    .workload = "broadcast",
    .client_types = gossip_client_types,
    .roles = gossip_roles,
    .figures = gossip_figures,
    .events = "state|rumor|infect|cold",
    .max_nodes = CL_MAXNODES,
    .waits = gossip_waits,
    .grid_figure = "rumors",
    .sim_max_nodes = CL_SIM_MAXNODES,
    .spread_round = gossip_spread_round,
    .spread_runs = gossip_spread_runs,
};
