/* paxos — Basic Paxos per slot and Multi-Paxos, as a pure state machine behind struct env, with
 * a key/value store (the kit's kvsm) on the log of chosen values (the kit's rlog).
 *
 * Source: Lamport, "Paxos Made Simple" (2001). Its rules are quoted where they are applied
 * ("PMS §2.2" = the section). Every node is an acceptor and a learner; the nodes named in
 * proposers= (default: all) may propose.
 *
 * Ballots are (round, node): the number round*100 + node index + 1, so ballot 302 is round 3 of
 * n2 and is written "3.n2". Two proposers never use the same ballot; a proposer picks a round
 * above every round it has seen (PMS §2.2: "a proposer can always choose a larger number").
 *
 * One promise per acceptor covers every slot (the Multi-Paxos form, PMS §3): Prepare(b, from)
 * asks "promise b for every slot >= from, and tell me what you accepted there"; in Basic mode
 * (multi=off) the prepare names one slot and the promise reports that slot. Accepted values
 * are per slot.
 *
 *   Basic (multi=off), per value to propose, on a proposer:
 *
 *     IDLE ──value queued──► PREPARING ──promises from a majority──► (think) ──► ACCEPTING
 *      ▲                      │  Prepare(b, slot)                           Accept(b, slot, v)
 *      │                      ▼ a reject (a higher promise): back off, retry       │
 *      └──── chosen (a majority accepted): Learn(slot, v) to every node ◄──────────┘
 *
 *     v is the value of the highest-ballot acceptance the promises reported (PMS §2.2 P2c),
 *     else the proposer's own. When another value is chosen for the slot, a client's value
 *     moves on to the next slot; a value from `propose` is not retried (single decree).
 *
 *   Multi-Paxos (multi=on): FOLLOWER ──election timeout──► CANDIDATE ──majority of promises──►
 *     LEADER. A candidate runs phase 1 once for every slot from its first unchosen one; as
 *     leader it proposes, for each open slot, the highest accepted value reported or a no-op
 *     (gap fill), then skips phase 1 for every new command: one Accept round per slot
 *     (PMS §3). A leader steps down when any node has promised a higher ballot, or when it
 *     has not heard from a majority for two election timeouts.
 *
 * Invariants (tests/check_paxos.c after every simulator step; live, paxosmon.c from events):
 *   - an acceptor never accepts a ballot below its promise (PMS P1a);
 *   - at most one value is chosen per slot (PMS P2), only proposed values are chosen;
 *   - a promise and an acceptance are on disk (log_sync) before the reply leaves;
 *   - learners learn only chosen values and apply slots in order, without gaps.
 *
 * Learning: Basic mode sends Learn(slot, v) with the value. Multi-Paxos piggybacks the leader's
 * chosen prefix ("commit") on Accept and heartbeat messages: an acceptor that accepted slot s
 * in the leader's own ballot knows the value chosen there; one that did not asks for it
 * (learn_req). A node that finds a gap asks a peer the same way.
 *
 * Reads are linearizable: a read is a command in the log (a no-op that names its key),
 * answered when it applies.
 *
 * Durable state: log "paxos.acc" of records P (promise), A (acceptance: slot, ballot, command)
 * and C (chosen: slot, ballot, command); loaded by folding them.
 *
 * Bug toggles (bug=NAME):
 *   ignore-accepted      phase 2 proposes the proposer's own value even when a promise reported
 *                        an accepted one: two values get chosen for one slot
 *   no-promise-persist   a promise is not written to disk: after a restart the acceptor may
 *                        accept a ballot below the promise it gave
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvsm.h"
#include "mode.h"
#include "msg.h"
#include "paxosmon.h"
#include "pending.h"
#include "rlog.h"

enum role { ACCEPTOR, PROPOSER, FOLLOWER, CANDIDATE, LEADER };
static const char *const role_names[] = {"acceptor", "proposer", "follower", "candidate", "leader"};

enum phase { PH_IDLE, PH_PREPARE, PH_THINK, PH_ACCEPT };
enum tkind { T_ELECTION = 1, T_HEARTBEAT, T_FLUSH, T_RETRY, T_THINK, T_TICK, T_PHASE };
enum bug { BUG_NONE, BUG_IGNORE_ACCEPTED, BUG_NO_PROMISE_PERSIST };

#define BMUL 100
#define MAX_BALLOT (1ull << 62)
#define MAX_SLOT (1ull << 40)
#define MAX_PENDING 4096
#define MAX_HELD 1024
#define LEARN_BATCH 256
#define PROMISE_MAX 4096
#define READ_TYPE 100          /* pending request type of a read */

struct slot {
    uint32_t acks;             /* proposer: acceptors that accepted ballot ab here */
    uint64_t ab;               /* the ballot those acks are for */
    int chosen;
};

struct reply {                 /* an acceptor reply waiting for the sync */
    char dest[CL_IDLEN];
    json_t *body;
    const char *ev;            /* its event, emitted when it leaves (a durable fact), or NULL */
    json_t *fields;
};

struct held {                  /* a client request that arrived while no leader was known */
    char client[CL_IDLEN];
    json_t *body;
    int ticks;
};

struct paxos {
    struct env *e;
    int multi, backoff, bug, batch;
    uint64_t think_us, el_us, hb_us;
    uint32_t proposers;        /* bit i: node i may propose */
    /* acceptor and learner */
    uint64_t promised;         /* the highest ballot promised (PMS P1a) */
    struct rlog log;           /* slot s: the value accepted (term = its ballot) or chosen;
                                * term 0 = nothing accepted there */
    struct slot *sl;           /* sl[s], for s <= log's last */
    size_t slcap;
    uint64_t commit;           /* every slot <= commit is chosen */
    uint64_t applied;
    struct kvsm sm;
    int unsynced;
    struct reply *replies;
    size_t nreplies, capreplies;
    /* proposer */
    int role, leader;          /* leader: node index, -1 unknown */
    uint64_t ballot;           /* our current ballot, 0 none */
    uint64_t max_round;        /* highest round seen anywhere */
    int phase;
    uint64_t p1_from;          /* phase 1 covers slots >= p1_from (Basic: only that slot) */
    uint32_t promises, heard;  /* promises for ballot; peers heard from since the last check */
    uint64_t p1_cu;            /* highest chosen prefix a promise reported */
    int p1_cu_node;
    struct rlog_entry *adopt;  /* adopt[k]: highest accepted value reported for p1_from + k */
    uint64_t *adopt_b;
    int *adopt_chosen;
    size_t nadopt;
    uint64_t sent_upto;        /* leader: slots <= sent_upto have been sent once */
    uint64_t next_slot;        /* leader: the next slot to fill */
    int attempts;
    struct rlog_entry *obox;   /* Multi leader: new commands for slots sent_upto + 1, … */
    size_t on, ocap;
    struct rlog_entry *queue;  /* Basic: values to propose; queue[0] is in flight */
    size_t qn, qcap;
    uint64_t cur_slot;         /* Basic: the slot queue[0] is proposed for */
    struct rlog_entry cur;     /* Basic: the value proposed there (own or adopted) */
    struct pending pend;
    struct held *held;
    size_t nheld;
    uint64_t learn_asked;      /* the slot last asked for with learn_req */
    uint64_t t_election, t_heartbeat, t_flush, t_retry, t_think, t_tick;
    int quiet_ticks;           /* leader: ticks since a majority was last heard */
    json_t *mk;                /* the `chosen`/`learn` event being gathered (emit_marks) */
    const char *mk_how;
};

/* ---- small helpers ------------------------------------------------------------------------ */

static uint64_t bal_round(uint64_t b) { return b / BMUL; }
static int bal_node(uint64_t b) { return b ? (int)(b % BMUL) - 1 : -1; }

static void bal_text(const struct paxos *p, uint64_t b, char buf[32])
{
    int n = bal_node(b);
    if (!b || n < 0 || n >= p->e->n_nodes)
        snprintf(buf, 32, "-");
    else
        snprintf(buf, 32, "%llu.%s", (unsigned long long)bal_round(b), p->e->nodes[n]);
}

static int quorum(const struct paxos *p)
{
    return p->e->n_nodes / 2 + 1;
}

static int popcount32(uint32_t x)
{
    int n = 0;
    for (; x; x &= x - 1)
        n++;
    return n;
}

static const char *node_id(const struct paxos *p, int i)
{
    return p->e->nodes[i];
}

static int is_proposer(const struct paxos *p)
{
    return (p->proposers >> p->e->self_idx) & 1;
}

static void entry_copy(struct rlog_entry *dst, const struct rlog_entry *src)
{
    memset(dst, 0, sizeof *dst);
    dst->term = src->term;
    dst->type = src->type;
    dst->key = src->key ? xstrdup(src->key) : NULL;
    dst->value = src->value ? xstrdup(src->value) : NULL;
    dst->from = src->from ? xstrdup(src->from) : NULL;
    dst->client = src->client ? xstrdup(src->client) : NULL;
    dst->msg_id = src->msg_id;
}

static int str_eq(const char *a, const char *b)
{
    return !strcmp(a ? a : "", b ? b : "");
}

/* The same command (the ballot aside)? */
static int entry_same(const struct rlog_entry *a, const struct rlog_entry *b)
{
    return a->type == b->type && a->msg_id == b->msg_id && str_eq(a->key, b->key) &&
           str_eq(a->value, b->value) && str_eq(a->from, b->from) && str_eq(a->client, b->client);
}

/* "put x 1", "cas x 1 2", "read x", "noop". Caller frees. */
static char *entry_label(const struct paxos *p, const struct rlog_entry *en)
{
    if (en->type == KV_NOOP && en->key)
        return xasprintf("read %.80s", en->key);
    return rlog_entry_label(en, p->e->nodes, p->e->n_nodes);
}

static void emit(struct paxos *p, const char *ev, json_t *fields)
{
    env_event(p->e, ev, fields);
}

/* A majority answered (promises for a ballot, acceptances of a slot): a `quorum` event, which
 * the dashboard's Votes & quorums pane draws (who answered, who did not). */
static void emit_quorum(struct paxos *p, const char *op, const char *what, const char *which, uint32_t acked)
{
    json_t *yes = json_array(), *no = json_array();
    for (int i = 0; i < p->e->n_nodes && i < 32; i++)
        json_array_append_new(acked & (1u << i) ? yes : no, json_string(p->e->nodes[i]));
    char key[64];
    snprintf(key, sizeof key, "%s %s", what, which);
    emit(p, "quorum", json_pack("{s:s,s:s,s:i,s:o,s:o,s:b}", "op", op, "key", key, "need", quorum(p), "acked", yes,
                                "missing", no, "ok", 1));
}

static void emit_error(struct paxos *p, const char *src, const char *what)
{
    emit(p, "error", json_pack("{s:s,s:s}", "text", what, "from", src));
}

static json_t *ballot_fields(struct paxos *p, json_t *f, const char *key, uint64_t b)
{
    char t[32];
    bal_text(p, b, t);
    json_object_set_new(f, key, json_integer((json_int_t)b));
    char *k = xasprintf("%s_text", key);
    json_object_set_new(f, k, json_string(t));
    free(k);
    return f;
}

/* ---- the log of slots ----------------------------------------------------------------------- */

static uint64_t last_slot(const struct paxos *p)
{
    return rlog_last(&p->log);
}

/* Makes slot s exist (empty slots before it: term 0). */
static struct rlog_entry *slot_at(struct paxos *p, uint64_t s)
{
    while (last_slot(p) < s) {
        struct rlog_entry en = {0};
        rlog_push(&p->log, &en);
    }
    if (p->slcap <= s) {
        size_t cap = p->slcap ? p->slcap : 64;
        while (cap <= s)
            cap *= 2;
        p->sl = xrealloc(p->sl, cap * sizeof *p->sl);
        memset(p->sl + p->slcap, 0, (cap - p->slcap) * sizeof *p->sl);
        p->slcap = cap;
    }
    return rlog_at(&p->log, s);
}

static int is_chosen(const struct paxos *p, uint64_t s)
{
    return s > 0 && s <= last_slot(p) && s < p->slcap && p->sl[s].chosen;
}

static uint64_t first_unchosen(const struct paxos *p)
{
    uint64_t s = p->commit + 1;
    while (is_chosen(p, s))
        s++;
    return s;
}

/* Replaces the command at slot s (taking en's strings), with ballot b. */
static void slot_set(struct paxos *p, uint64_t s, struct rlog_entry *en, uint64_t b)
{
    struct rlog_entry *cur = slot_at(p, s);
    rlog_entry_free(cur);
    *cur = *en;
    cur->term = b;
    memset(en, 0, sizeof *en);
}

/* ---- durable state ---------------------------------------------------------------------------- */

#define ACC_LOG "paxos.acc"

static void put_u64(struct sb *b, uint64_t v)
{
    sb_printf(b, "%llu ", (unsigned long long)v);
}

static void put_str(struct sb *b, const char *s)
{
    if (!s) {
        sb_add(b, "- ");
        return;
    }
    sb_printf(b, "%zu:", strlen(s));
    sb_add(b, s);
    sb_add(b, " ");
}

static void put_entry(struct sb *b, const struct rlog_entry *en)
{
    put_u64(b, (uint64_t)en->type);
    put_u64(b, en->msg_id);
    put_str(b, en->key);
    put_str(b, en->value);
    put_str(b, en->from);
    put_str(b, en->client);
}

struct reader {
    const char *p;
    size_t left;
    int bad;
};

static uint64_t get_u64(struct reader *rd)
{
    uint64_t v = 0;
    int digits = 0;
    while (rd->left && *rd->p >= '0' && *rd->p <= '9' && digits < 20) {
        v = v * 10 + (uint64_t)(*rd->p - '0');
        rd->p++, rd->left--, digits++;
    }
    if (!digits || !rd->left || *rd->p != ' ')
        rd->bad = 1;
    else
        rd->p++, rd->left--;
    return v;
}

static char *get_str(struct reader *rd)
{
    if (rd->bad)
        return NULL;
    if (rd->left >= 2 && rd->p[0] == '-' && rd->p[1] == ' ') {
        rd->p += 2, rd->left -= 2;
        return NULL;
    }
    size_t n = 0;
    int digits = 0;
    while (rd->left && *rd->p >= '0' && *rd->p <= '9' && digits < 9) {
        n = n * 10 + (size_t)(*rd->p - '0');
        rd->p++, rd->left--, digits++;
    }
    if (!digits || !rd->left || *rd->p != ':' || rd->left < n + 2 || rd->p[n + 1] != ' ') {
        rd->bad = 1;
        return NULL;
    }
    char *s = xcalloc(1, n + 1);
    memcpy(s, rd->p + 1, n);
    rd->p += n + 2, rd->left -= n + 2;
    return s;
}

static void get_entry(struct reader *rd, struct rlog_entry *en)
{
    memset(en, 0, sizeof *en);
    uint64_t t = get_u64(rd);
    en->type = t > KV_CAS ? KV_NOOP : (int)t;
    if (t > KV_CAS)
        rd->bad = 1;
    en->msg_id = get_u64(rd);
    en->key = get_str(rd);
    en->value = get_str(rd);
    en->from = get_str(rd);
    en->client = get_str(rd);
}

static void persist_promise(struct paxos *p)
{
    if (p->bug == BUG_NO_PROMISE_PERSIST)
        return;
    struct sb b = {0};
    sb_add(&b, "P ");
    put_u64(&b, p->promised);
    p->e->ops->log_append(p->e, ACC_LOG, b.s, b.len);
    sb_free(&b);
    p->unsynced = 1;
}

static void persist_slot(struct paxos *p, char kind, uint64_t s)
{
    struct rlog_entry *en = rlog_at(&p->log, s);
    struct sb b = {0};
    sb_printf(&b, "%c ", kind);
    put_u64(&b, s);
    put_u64(&b, en->term);
    put_entry(&b, en);
    p->e->ops->log_append(p->e, ACC_LOG, b.s, b.len);
    sb_free(&b);
    p->unsynced = 1;
}

struct load {
    struct paxos *p;
    int bad;
};

static void load_rec(void *ud, const void *data, size_t len)
{
    struct load *ld = ud;
    struct paxos *p = ld->p;
    struct reader rd = {.p = data, .left = len};
    if (ld->bad)
        return;
    if (len < 2 || rd.p[1] != ' ') {
        ld->bad = 1;
        return;
    }
    char kind = rd.p[0];
    rd.p += 2, rd.left -= 2;
    if (kind == 'P') {
        uint64_t b = get_u64(&rd);
        if (rd.bad || rd.left || b >= MAX_BALLOT) {
            ld->bad = 1;
            return;
        }
        if (b > p->promised)
            p->promised = b;
        return;
    }
    if (kind != 'A' && kind != 'C') {
        ld->bad = 1;
        return;
    }
    uint64_t s = get_u64(&rd);
    uint64_t b = get_u64(&rd);
    struct rlog_entry en;
    get_entry(&rd, &en);
    if (rd.bad || rd.left || s == 0 || s >= MAX_SLOT || b >= MAX_BALLOT) {
        rlog_entry_free(&en);
        ld->bad = 1;
        return;
    }
    struct rlog_entry *cur = slot_at(p, s);
    if (kind == 'A' && b > p->promised)
        p->promised = b; /* an acceptance implies the promise of its ballot */
    if (p->sl[s].chosen || (kind == 'A' && cur->term > b)) {
        rlog_entry_free(&en);
        return;
    }
    slot_set(p, s, &en, b);
    if (kind == 'C')
        p->sl[s].chosen = 1;
}

/* ---- roles and timers ------------------------------------------------------------------------- */

static void set_role(struct paxos *p, int role, int leader)
{
    if (p->role == role && p->leader == leader)
        return;
    p->role = role;
    p->leader = leader;
    json_t *f = json_pack("{s:s,s:I}", "role", role_names[role], "term", (json_int_t)p->promised);
    ballot_fields(p, f, "ballot", p->ballot);
    if (leader >= 0)
        json_object_set_new(f, "leader", json_string(node_id(p, leader)));
    emit(p, "state", f);
}

static void arm_election(struct paxos *p)
{
    env_timer_cancel(p->e, p->t_election);
    p->t_election = 0;
    if (!p->multi || !is_proposer(p))
        return;
    p->t_election = env_timer_set(p->e, env_rand_range(p->e, p->el_us, 2 * p->el_us), T_ELECTION, 0);
}

static void arm_flush(struct paxos *p)
{
    if (!p->t_flush)
        p->t_flush = env_timer_set(p->e, 0, T_FLUSH, 0);
}

static void flush(struct paxos *p);
static void apply_chosen(struct paxos *p);
static void propose_next(struct paxos *p);
static void basic_decided(struct paxos *p, uint64_t s);
static void emit_marks(struct paxos *p);
static void serve_held(struct paxos *p);
static void client_request(struct paxos *p, const char *src, const json_t *body, int redirect_now);

/* Back to following (Multi-Paxos) or idle (Basic): our ballot is dead. */
static void give_up(struct paxos *p, int leader)
{
    p->phase = PH_IDLE;
    for (size_t i = 0; i < p->on; i++)
        rlog_entry_free(&p->obox[i]);
    p->on = 0;
    env_timer_cancel(p->e, p->t_think);
    p->t_think = 0;
    env_timer_cancel(p->e, p->t_heartbeat);
    p->t_heartbeat = 0;
    if (p->multi) {
        set_role(p, is_proposer(p) ? FOLLOWER : ACCEPTOR, leader);
        arm_election(p);
    }
}

/* Saw ballot b somewhere: remember its round (our next ballot goes above it). */
static void saw_ballot(struct paxos *p, uint64_t b)
{
    if (bal_round(b) > p->max_round)
        p->max_round = bal_round(b);
}

/* ---- acceptor ----------------------------------------------------------------------------------- */

/* Queues a reply (and its event) until the next sync: steals body and fields. */
static void queue_reply(struct paxos *p, const char *dest, json_t *body, const char *ev, json_t *fields)
{
    if (p->nreplies == p->capreplies) {
        p->capreplies = p->capreplies ? p->capreplies * 2 : 16;
        p->replies = xrealloc(p->replies, p->capreplies * sizeof *p->replies);
    }
    struct reply *r = &p->replies[p->nreplies++];
    str_copy(r->dest, dest, CL_IDLEN);
    r->body = body;
    r->ev = ev;
    r->fields = fields;
    arm_flush(p);
}

static json_t *entry_json(uint64_t s, const struct rlog_entry *en)
{
    return json_pack("[I,i,s?,s?,s?,s?,I]", (json_int_t)s, en->type, en->key, en->value, en->from,
                     en->client, (json_int_t)en->msg_id);
}

static void reject(struct paxos *p, const char *src, uint64_t b, const char *what)
{
    char t1[32], t2[32];
    bal_text(p, b, t1);
    bal_text(p, p->promised, t2);
    json_t *f = json_pack("{s:s,s:s}", "to", src, "what", what);
    ballot_fields(p, f, "ballot", b);
    ballot_fields(p, f, "promised", p->promised);
    emit(p, "reject", f);
    json_t *r = json_pack("{s:s,s:I,s:I,s:s}", "type", "reject", "ballot", (json_int_t)b, "promised",
                          (json_int_t)p->promised, "what", what);
    if (!strcmp(src, p->e->self))
        queue_reply(p, src, r, NULL, NULL);
    else
        env_send(p->e, src, r);
}

/* PMS §2.2 phase 1(b): "If an acceptor receives a prepare request with number n greater than
 * that of any prepare request to which it has already responded, then it responds to the
 * request with a promise not to accept any more proposals numbered less than n and with the
 * highest-numbered proposal (if any) that it has accepted." */
static void acceptor_prepare(struct paxos *p, const char *src, uint64_t b, uint64_t from, int only)
{
    saw_ballot(p, b);
    if (b < p->promised || (b == p->promised && bal_node(b) != env_node_index(p->e, src))) {
        reject(p, src, b, "prepare");
        return;
    }
    if (b > p->promised) {
        p->promised = b;
        persist_promise(p);
    }
    /* a Multi-Paxos leader or candidate whose ballot is now below our promise is finished
     * (a Basic proposer learns it the way Paxos says: its accept is rejected) */
    if (p->multi && p->ballot && p->ballot < p->promised && p->phase != PH_IDLE)
        give_up(p, bal_node(p->promised));
    json_t *acc = json_array();
    int count = 0;
    uint64_t last = last_slot(p);
    for (uint64_t s = from; s <= last && count < PROMISE_MAX; s++) {
        if (only && s != from)
            break;
        if (!only && s <= p->commit)
            continue; /* reported as the chosen prefix ("commit") */
        struct rlog_entry *en = rlog_at(&p->log, s);
        if (!en->term)
            continue;
        json_t *j = entry_json(s, en);
        json_array_append_new(j, json_integer((json_int_t)en->term));
        json_array_append_new(j, json_boolean(p->sl[s].chosen));
        json_array_append_new(acc, j);
        count++;
    }
    json_t *f = json_pack("{s:s,s:I,s:i}", "to", src, "from", (json_int_t)from, "reported", count);
    queue_reply(p, src, json_pack("{s:s,s:I,s:I,s:I,s:o}", "type", "promise", "ballot", (json_int_t)b, "from",
                                  (json_int_t)from, "commit", (json_int_t)p->commit, "accepted", acc),
                "promise", ballot_fields(p, f, "ballot", b));
}

/* PMS §2.2 phase 2(b): "If an acceptor receives an accept request for a proposal numbered n,
 * it accepts the proposal unless it has already responded to a prepare request having a
 * number greater than n." Takes the strings of ents[0..n). */
static void acceptor_accept(struct paxos *p, const char *src, uint64_t b, uint64_t *slots,
                            struct rlog_entry *ents, size_t n)
{
    saw_ballot(p, b);
    if (b < p->promised) {
        reject(p, src, b, "accept");
        for (size_t i = 0; i < n; i++)
            rlog_entry_free(&ents[i]);
        return;
    }
    if (b > p->promised) {
        p->promised = b; /* accepting b promises b (P1a) */
        persist_promise(p);
        if (p->multi && p->ballot && p->ballot < p->promised && p->phase != PH_IDLE)
            give_up(p, bal_node(b));
    }
    json_t *ok = json_array();
    json_t *cmds = json_array();
    uint64_t first = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t s = slots[i];
        struct rlog_entry *cur = slot_at(p, s);
        json_array_append_new(ok, json_integer((json_int_t)s));
        if (!first)
            first = s;
        if (p->sl[s].chosen || (cur->term == b && entry_same(cur, &ents[i]))) {
            rlog_entry_free(&ents[i]); /* chosen already, or a resend */
            continue;
        }
        slot_set(p, s, &ents[i], b);
        persist_slot(p, 'A', s);
        char *c = entry_label(p, rlog_at(&p->log, s));
        json_array_append_new(cmds, json_pack("[I,s]", (json_int_t)s, c));
        free(c);
    }
    json_t *f = NULL;
    if (json_array_size(cmds)) {
        f = json_pack("{s:s,s:I,s:i,s:O,s:i}", "to", src, "slot", (json_int_t)first, "count",
                      (int)json_array_size(cmds), "cmds", cmds, "quorum", quorum(p));
        ballot_fields(p, f, "ballot", b);
    }
    json_decref(cmds);
    queue_reply(p, src, json_pack("{s:s,s:I,s:o}", "type", "accepted", "ballot", (json_int_t)b, "slots", ok),
                f ? "accepted" : NULL, f);
}

/* ---- learner and the state machine -------------------------------------------------------------- */

struct applied {
    struct paxos *p;
    const struct rlog_entry *en;
    int code;
};

static json_t *result_body(int type, int code)
{
    if (code == 0)
        return json_pack("{s:s}", "type", type == KV_CAS ? "cas_ok" : "write_ok");
    return json_pack("{s:s,s:i,s:s}", "type", "error", "code", code, "text",
                     code == ERR_PRECONDITION_FAILED ? "precondition failed" : "key does not exist");
}

static int pending_is(const struct pending_req *pd, const struct rlog_entry *en)
{
    return en->client && !strcmp(pd->client, en->client) && pd->msg_id &&
           (uint64_t)json_integer_value(pd->msg_id) == en->msg_id;
}

static void answer_applied(void *ud, const struct pending_req *pd)
{
    struct applied *a = ud;
    if (!pending_is(pd, a->en)) {
        /* another command was chosen for this slot: ours was not, anywhere (a value is
         * re-proposed only at the slot it was accepted in) */
        pending_reply_error(a->p->e, pd, ERR_TEMPORARILY_UNAVAILABLE,
                            "another command was chosen for the slot (a new leader): not applied");
        return;
    }
    if (pd->type == READ_TYPE) {
        const json_t *v = json_object_get(a->p->sm.data, a->en->key ? a->en->key : "");
        pending_reply(a->p->e, pd, json_pack("{s:s,s:O}", "type", "read_ok", "value", v ? v : json_null()));
        return;
    }
    pending_reply(a->p->e, pd, result_body(pd->type, a->code));
}

static void apply_chosen(struct paxos *p)
{
    while (p->applied < p->commit) {
        uint64_t s = p->applied + 1;
        struct rlog_entry *en = rlog_at(&p->log, s);
        int code = kvsm_apply(&p->sm, en);
        p->applied = s;
        char *cmd = entry_label(p, en);
        json_t *f = json_pack("{s:I,s:I,s:s}", "index", (json_int_t)s, "term", (json_int_t)en->term, "cmd", cmd);
        free(cmd);
        if (en->type == KV_PUT || en->type == KV_CAS) {
            json_object_set_new(f, "key", json_string(en->key ? en->key : ""));
            json_object_set_new(f, "value", kvsm_value_decode(en->value));
        }
        emit(p, "apply", f);
        struct applied a = {p, en, code};
        pending_take(&p->pend, s, 1, answer_applied, &a);
    }
}

static void advance_commit(struct paxos *p)
{
    emit_marks(p);
    uint64_t c = p->commit;
    while (is_chosen(p, c + 1))
        c++;
    if (c == p->commit)
        return;
    p->commit = c;
    emit(p, "commit", json_pack("{s:I,s:I}", "index", (json_int_t)c, "term", (json_int_t)rlog_at(&p->log, c)->term));
    apply_chosen(p);
}

/* Emits the `chosen` or `learn` event gathered by mark_chosen (one per burst of slots). */
static void emit_marks(struct paxos *p)
{
    if (!p->mk)
        return;
    json_t *f = p->mk;
    p->mk = NULL;
    size_t n = json_array_size(json_object_get(f, "cmds"));
    json_object_set_new(f, "count", json_integer((json_int_t)n));
    if (n > 1) { /* one command of the burst would mislead: cmds has them all */
        json_object_del(f, "cmd");
        json_object_del(f, "value");
    }
    emit(p, p->mk_how, f);
}

/* Slot s is chosen with the command now stored there (ballot b). how: "chosen" (we counted
 * the majority) or "learn". The event goes out with the burst (emit_marks). */
static void mark_chosen(struct paxos *p, uint64_t s, const char *how)
{
    if (is_chosen(p, s))
        return;
    p->sl[s].chosen = 1;
    persist_slot(p, 'C', s);
    struct rlog_entry *en = rlog_at(&p->log, s);
    if (p->mk && (strcmp(p->mk_how, how) || (uint64_t)json_integer_value(json_object_get(p->mk, "ballot")) != en->term))
        emit_marks(p);
    char *c = entry_label(p, en);
    if (!p->mk) {
        json_t *f = json_pack("{s:I,s:s,s:[]}", "slot", (json_int_t)s, "cmd", c, "cmds");
        if (en->type == KV_PUT)
            json_object_set_new(f, "value", kvsm_value_decode(en->value));
        p->mk = ballot_fields(p, f, "ballot", en->term);
        p->mk_how = how;
    }
    json_array_append_new(json_object_get(p->mk, "cmds"), json_pack("[I,s]", (json_int_t)s, c));
    free(c);
}

/* A peer asked for chosen values from a slot on. */
static void send_learn(struct paxos *p, const char *dest, uint64_t from)
{
    json_t *ents = json_array();
    for (uint64_t s = from; s <= last_slot(p) && json_array_size(ents) < LEARN_BATCH; s++) {
        if (!is_chosen(p, s))
            continue;
        json_t *j = entry_json(s, rlog_at(&p->log, s));
        json_array_append_new(j, json_integer((json_int_t)rlog_at(&p->log, s)->term));
        json_array_append_new(ents, j);
    }
    if (!json_array_size(ents)) {
        json_decref(ents);
        return;
    }
    env_send(p->e, dest, json_pack("{s:s,s:o}", "type", "learn", "entries", ents));
}

static void ask_learn(struct paxos *p, int who, uint64_t from)
{
    if (who < 0 || who == p->e->self_idx || from == p->learn_asked)
        return;
    p->learn_asked = from;
    env_send(p->e, node_id(p, who), json_pack("{s:s,s:I}", "type", "learn_req", "from", (json_int_t)from));
}

/* Multi-Paxos: the leader of ballot b says every slot <= c is chosen. Slots we accepted in b
 * hold the value chosen there; for the others we ask. */
static void learn_commit(struct paxos *p, uint64_t b, uint64_t c, int from)
{
    uint64_t s = first_unchosen(p);
    for (; s <= c; s++) {
        if (is_chosen(p, s))
            continue;
        struct rlog_entry *en = s <= last_slot(p) ? rlog_at(&p->log, s) : NULL;
        if (!en || en->term != b) {
            ask_learn(p, from, s);
            break;
        }
        mark_chosen(p, s, "learn");
    }
    advance_commit(p);
}

/* ---- proposer ------------------------------------------------------------------------------------ */

static uint64_t new_ballot(struct paxos *p)
{
    uint64_t r = p->max_round;
    if (bal_round(p->promised) > r)
        r = bal_round(p->promised);
    p->max_round = r + 1;
    return p->max_round * BMUL + (uint64_t)p->e->self_idx + 1;
}

static void clear_adopt(struct paxos *p)
{
    for (size_t i = 0; i < p->nadopt; i++)
        rlog_entry_free(&p->adopt[i]);
    free(p->adopt);
    free(p->adopt_b);
    free(p->adopt_chosen);
    p->adopt = NULL;
    p->adopt_b = NULL;
    p->adopt_chosen = NULL;
    p->nadopt = 0;
}

static void send_all(struct paxos *p, json_t *body)
{
    for (int i = 0; i < p->e->n_nodes; i++)
        if (i != p->e->self_idx)
            env_send(p->e, node_id(p, i), json_deep_copy(body));
    json_decref(body);
}

/* Phase 1(a): "A proposer selects a proposal number n and sends a prepare request with number
 * n to a majority of acceptors." (to all: the first majority to answer is the one) */
static void start_phase1(struct paxos *p, uint64_t from, int only)
{
    p->ballot = new_ballot(p);
    p->phase = PH_PREPARE;
    p->p1_from = from;
    p->promises = 0;
    p->p1_cu = 0;
    p->p1_cu_node = -1;
    clear_adopt(p);
    if (p->multi)
        set_role(p, CANDIDATE, -1);
    json_t *f = json_pack("{s:I,s:b}", "from", (json_int_t)from, "multi", p->multi);
    emit(p, "prepare", ballot_fields(p, f, "ballot", p->ballot));
    if (!p->multi) /* a phase that hears from no majority (lost messages, crashed acceptors) */
        env_timer_set(p->e, 2 * p->el_us + p->think_us, T_PHASE, p->ballot);
    send_all(p, json_pack("{s:s,s:I,s:I,s:b,s:I}", "type", "prepare", "ballot", (json_int_t)p->ballot, "from",
                          (json_int_t)from, "only", only, "commit", (json_int_t)p->commit));
    acceptor_prepare(p, p->e->self, p->ballot, from, only);
}

/* Sends Accept(ballot) for slots[] (their values are in our log, under our ballot). */
static void send_accepts(struct paxos *p, const uint64_t *slots, size_t n, int only_to)
{
    if (!n)
        return;
    json_t *ents = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(ents, entry_json(slots[i], rlog_at(&p->log, slots[i])));
    json_t *b = json_pack("{s:s,s:I,s:I,s:o}", "type", "accept", "ballot", (json_int_t)p->ballot, "commit",
                          (json_int_t)p->commit, "entries", ents);
    if (only_to >= 0) {
        env_send(p->e, node_id(p, only_to), b);
        return;
    }
    send_all(p, b);
}

/* Phase 2(a): "the proposer sends an accept request to each of those acceptors for a
 * proposal numbered n with a value v" for slots[i] and ents[i] (their strings are taken). Our
 * own acceptor takes it like any other: it stores and syncs it, or refuses it. */
static void propose_slots(struct paxos *p, uint64_t *slots, struct rlog_entry *ents, size_t n)
{
    if (!n)
        return;
    json_t *cmds = json_array();
    json_t *wire = json_array();
    for (size_t i = 0; i < n; i++) {
        slot_at(p, slots[i]);
        p->sl[slots[i]].acks = 0;
        p->sl[slots[i]].ab = p->ballot;
        char *c = entry_label(p, &ents[i]);
        json_array_append_new(cmds, json_pack("[I,s]", (json_int_t)slots[i], c));
        free(c);
        json_array_append_new(wire, entry_json(slots[i], &ents[i]));
    }
    json_t *f = json_pack("{s:I,s:i,s:o}", "slot", (json_int_t)slots[0], "count", (int)n, "cmds", cmds);
    emit(p, "accept", ballot_fields(p, f, "ballot", p->ballot));
    send_all(p, json_pack("{s:s,s:I,s:I,s:o}", "type", "accept", "ballot", (json_int_t)p->ballot, "commit",
                          (json_int_t)p->commit, "entries", wire));
    acceptor_accept(p, p->e->self, p->ballot, slots, ents, n);
}

/* Multi-Paxos: a majority promised. PMS §3: the new leader "executes phase 1 for infinitely
 * many instances" at once, then phase 2 for every instance some acceptor reported, proposing
 * the reported value or, for a gap, a no-op. */
static void become_leader(struct paxos *p)
{
    p->phase = PH_ACCEPT;
    set_role(p, LEADER, p->e->self_idx);
    uint64_t top = p->p1_from + p->nadopt; /* slots >= top: no one accepted anything */
    if (p->p1_cu >= top)
        top = p->p1_cu + 1;
    uint64_t *slots = xcalloc(p->nadopt + 1, sizeof *slots);
    struct rlog_entry *ents = xcalloc(p->nadopt + 1, sizeof *ents);
    size_t n = 0;
    for (uint64_t s = p->p1_from; s < p->p1_from + p->nadopt; s++) {
        size_t k = s - p->p1_from;
        if (is_chosen(p, s) || s <= p->p1_cu)
            continue; /* chosen: learnt below, never proposed again */
        struct rlog_entry en = {0};
        if (p->adopt_b[k]) {
            entry_copy(&en, &p->adopt[k]);
            if (p->adopt_chosen[k]) {
                slot_set(p, s, &en, p->adopt_b[k]);
                mark_chosen(p, s, "learn");
                continue;
            }
        }
        ents[n] = en;
        slots[n++] = s;
    }
    propose_slots(p, slots, ents, n);
    free(slots);
    free(ents);
    if (p->p1_cu >= p->p1_from && p->p1_cu_node >= 0)
        ask_learn(p, p->p1_cu_node, first_unchosen(p));
    p->next_slot = top > last_slot(p) + 1 ? top : last_slot(p) + 1;
    p->sent_upto = p->next_slot - 1;
    p->quiet_ticks = 0;
    p->heard = 0;
    clear_adopt(p);
    advance_commit(p);
    env_timer_cancel(p->e, p->t_election);
    p->t_election = 0;
    env_timer_cancel(p->e, p->t_heartbeat);
    p->t_heartbeat = env_timer_set(p->e, p->hb_us, T_HEARTBEAT, 0);
    serve_held(p);
}

/* Basic: the value phase 2 proposes for cur_slot (PMS P2c), after the think time. */
static void basic_phase2(struct paxos *p)
{
    p->phase = PH_ACCEPT;
    struct rlog_entry v;
    size_t k = p->cur_slot - p->p1_from;
    int adopted = k < p->nadopt && p->adopt_b[k];
    if (adopted && p->adopt_chosen[k] && p->bug != BUG_IGNORE_ACCEPTED) {
        entry_copy(&v, &p->adopt[k]);
        slot_set(p, p->cur_slot, &v, p->adopt_b[k]);
        mark_chosen(p, p->cur_slot, "learn");
        basic_decided(p, p->cur_slot);
        advance_commit(p);
        return;
    }
    if (adopted && p->bug != BUG_IGNORE_ACCEPTED) {
        entry_copy(&v, &p->adopt[k]);
        if (!entry_same(&v, &p->queue[0])) {
            char *mine = entry_label(p, &p->queue[0]), *theirs = entry_label(p, &v);
            json_t *f = json_pack("{s:I,s:s,s:s}", "slot", (json_int_t)p->cur_slot, "cmd", theirs, "instead_of", mine);
            ballot_fields(p, f, "accepted_ballot", p->adopt_b[k]);
            emit(p, "adopt", ballot_fields(p, f, "ballot", p->ballot));
            free(mine);
            free(theirs);
        }
    } else {
        entry_copy(&v, &p->queue[0]);
    }
    rlog_entry_free(&p->cur);
    entry_copy(&p->cur, &v);
    uint64_t s = p->cur_slot;
    propose_slots(p, &s, &v, 1);
}

static void on_promises(struct paxos *p)
{
    if (popcount32(p->promises) < quorum(p))
        return;
    if (p->multi) {
        become_leader(p);
        return;
    }
    if (p->think_us) {
        p->phase = PH_THINK;
        emit(p, "think", json_pack("{s:I,s:I}", "slot", (json_int_t)p->cur_slot, "us", (json_int_t)p->think_us));
        p->t_think = env_timer_set(p->e, p->think_us, T_THINK, 0);
        return;
    }
    basic_phase2(p);
}

/* Basic: the next queued value goes to the first slot not known chosen. */
static void propose_next(struct paxos *p)
{
    if (p->multi || p->phase != PH_IDLE || !p->qn || p->t_retry)
        return;
    p->cur_slot = first_unchosen(p);
    start_phase1(p, p->cur_slot, 1);
}

static void pop_queue(struct paxos *p)
{
    rlog_entry_free(&p->queue[0]);
    memmove(p->queue, p->queue + 1, (p->qn - 1) * sizeof *p->queue);
    p->qn--;
    p->attempts = 0;
}

/* Basic: our slot is decided (chosen by us, or found chosen). */
static void basic_decided(struct paxos *p, uint64_t s)
{
    if (p->multi || !p->qn || !p->cur_slot || s != p->cur_slot)
        return;
    p->phase = PH_IDLE;
    p->cur_slot = 0;
    env_timer_cancel(p->e, p->t_think);
    p->t_think = 0;
    env_timer_cancel(p->e, p->t_retry); /* a backoff for a slot that is decided now */
    p->t_retry = 0;
    struct rlog_entry *en = rlog_at(&p->log, s);
    if (entry_same(en, &p->queue[0])) {
        /* ours: the client's reply waits for the slot to apply */
        for (size_t i = 0; i < p->pend.n; i++)
            if (p->pend.v[i].index == 0 && pending_is(&p->pend.v[i], en))
                p->pend.v[i].index = s;
        pop_queue(p);
    } else if (!p->queue[0].client) {
        /* a value from `propose`: single decree, it lost its slot */
        char *mine = entry_label(p, &p->queue[0]), *won = entry_label(p, en);
        emit(p, "lost", json_pack("{s:I,s:s,s:s}", "slot", (json_int_t)s, "cmd", mine, "chosen", won));
        free(mine);
        free(won);
        pop_queue(p);
    }
    rlog_entry_free(&p->cur);
    propose_next(p);
}

/* Our ballot was refused (a higher promise). */
static void preempted(struct paxos *p, uint64_t promised)
{
    saw_ballot(p, promised);
    if (p->multi) {
        give_up(p, -1);
        return;
    }
    p->phase = PH_IDLE;
    env_timer_cancel(p->e, p->t_think);
    p->t_think = 0;
    rlog_entry_free(&p->cur);
    /* the cure for dueling proposers: wait a random time before trying again, growing with
     * each failure (backoff=off: retry at once, and symmetric proposers livelock) */
    uint64_t base = p->think_us > 10000 ? p->think_us : 10000;
    uint64_t delay = 0;
    if (!promised) {
        /* the phase heard from no majority (lost messages, acceptors down): try again soon;
         * only a duel makes the wait grow */
        delay = env_rand_range(p->e, 0, base);
    } else if (p->backoff) {
        int k = p->attempts < 6 ? p->attempts : 6;
        delay = env_rand_range(p->e, base / 4, base << k);
        p->attempts++;
    } else {
        p->attempts++;
    }
    emit(p, "backoff", json_pack("{s:I,s:i,s:b}", "us", (json_int_t)delay, "attempt", p->attempts, "random", p->backoff));
    p->t_retry = env_timer_set(p->e, delay, T_RETRY, 0);
}

/* ---- flushing: sync, then replies ------------------------------------------------------------- */

static void on_promise(void *st, const char *src, const json_t *body);
static void on_accepted(void *st, const char *src, const json_t *body);
static void on_reject(void *st, const char *src, const json_t *body);

static void flush(struct paxos *p)
{
    p->t_flush = 0;
    if (p->multi && p->role == LEADER && p->on) {
        /* new commands since the last flush: one Accept for the burst, in batches */
        size_t done = 0;
        while (done < p->on) {
            size_t n = p->on - done < (size_t)p->batch ? p->on - done : (size_t)p->batch;
            uint64_t *slots = xcalloc(n, sizeof *slots);
            for (size_t i = 0; i < n; i++)
                slots[i] = p->sent_upto + 1 + done + i;
            propose_slots(p, slots, p->obox + done, n);
            free(slots);
            done += n;
        }
        p->sent_upto += p->on;
        p->on = 0;
    }
    if (p->unsynced) {
        p->e->ops->log_sync(p->e, ACC_LOG);
        p->unsynced = 0;
    }
    /* "updated on stable storage before responding": the replies leave after the sync */
    size_t n = p->nreplies;
    struct reply *r = p->replies;
    p->replies = NULL;
    p->nreplies = p->capreplies = 0;
    for (size_t i = 0; i < n; i++) {
        if (r[i].ev)
            emit(p, r[i].ev, r[i].fields);
        if (!strcmp(r[i].dest, p->e->self)) {
            const char *t = json_string_value(json_object_get(r[i].body, "type"));
            if (!strcmp(t, "promise"))
                on_promise(p, p->e->self, r[i].body);
            else if (!strcmp(t, "accepted"))
                on_accepted(p, p->e->self, r[i].body);
            else
                on_reject(p, p->e->self, r[i].body);
            json_decref(r[i].body);
        } else {
            env_send(p->e, r[i].dest, r[i].body);
        }
    }
    free(r);
}

/* ---- peer messages ------------------------------------------------------------------------------ */

#define MAXB (MAX_BALLOT - 1)

struct pmsg {
    uint64_t ballot, from, promised, commit;
    int only;
    const json_t *accepted, *entries, *slots;
    const char *what;
};

static const struct msg_field prepare_fields[] = {
    MSG_U64(struct pmsg, ballot, MAXB), MSG_U64(struct pmsg, from, MAX_SLOT), MSG_BOOL_OPT(struct pmsg, only),
    MSG_U64_OPT(struct pmsg, commit, MAX_SLOT), MSG_END,
};
static const struct msg_field promise_fields[] = {
    MSG_U64(struct pmsg, ballot, MAXB), MSG_U64(struct pmsg, from, MAX_SLOT), MSG_U64(struct pmsg, commit, MAX_SLOT),
    MSG_ARRAY(struct pmsg, accepted, PROMISE_MAX), MSG_END,
};
static const struct msg_field accept_fields[] = {
    MSG_U64(struct pmsg, ballot, MAXB), MSG_U64(struct pmsg, commit, MAX_SLOT),
    MSG_ARRAY(struct pmsg, entries, 100000), MSG_END,
};
static const struct msg_field accepted_fields[] = {
    MSG_U64(struct pmsg, ballot, MAXB), MSG_ARRAY(struct pmsg, slots, 100000), MSG_END,
};
static const struct msg_field reject_fields[] = {
    MSG_U64(struct pmsg, ballot, MAXB), MSG_U64(struct pmsg, promised, MAXB), MSG_STR_OPT(struct pmsg, what), MSG_END,
};
static const struct msg_field learn_fields[] = {
    MSG_ARRAY(struct pmsg, entries, LEARN_BATCH * 4), MSG_END,
};
static const struct msg_field learn_req_fields[] = {
    MSG_U64(struct pmsg, from, MAX_SLOT), MSG_END,
};
static const struct msg_field heartbeat_fields[] = {
    MSG_U64(struct pmsg, ballot, MAXB), MSG_U64(struct pmsg, commit, MAX_SLOT), MSG_END,
};
static const struct msg_field heartbeat_ok_fields[] = {
    MSG_U64(struct pmsg, ballot, MAXB), MSG_END,
};

/* A peer message must come from a node of the cluster (our own replies are delivered inside). */
static int peer_get(struct paxos *p, const char *src, const json_t *body, const struct msg_field *fields,
                    struct pmsg *m)
{
    memset(m, 0, sizeof *m);
    int idx = env_node_index(p->e, src);
    if (idx < 0) {
        emit_error(p, src, "paxos message from a sender that is not a node of the cluster");
        return -1;
    }
    char err[300];
    if (msg_get(body, NULL, fields, m, err, sizeof err) < 0) {
        emit_error(p, src, err);
        return -1;
    }
    if (m->ballot && bal_node(m->ballot) < 0) {
        emit_error(p, src, "paxos ballot names no node (it must be round*100 + node index + 1)");
        return -1;
    }
    return idx;
}

/* A string or null element of an entry: 0 and *out (borrowed, NULL for null), or -1. */
static int str_or_null(const json_t *v, const char **out)
{
    if (json_is_null(v)) {
        *out = NULL;
        return 0;
    }
    if (!json_is_string(v))
        return -1;
    *out = json_string_value(v);
    return 0;
}

static int whole(const json_t *v, uint64_t max, uint64_t *out)
{
    if (!json_is_integer(v) || json_integer_value(v) < 0 || (uint64_t)json_integer_value(v) > max)
        return -1;
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

/* [slot, type, key, value, from, client, msg_id (, ballot (, chosen))]: extra = 0, 1 or 2 more.
 * Fills en (allocated strings) or emits an error naming the entry and returns -1. */
static int parse_entry(struct paxos *p, const char *src, const json_t *j, int extra, uint64_t *slot,
                       struct rlog_entry *en, uint64_t *b, int *chosen)
{
    memset(en, 0, sizeof *en);
    uint64_t s = 0, type = 0, msg_id = 0, bb = 0;
    const char *key = NULL, *value = NULL, *from = NULL, *client = NULL;
    int bad = !json_is_array(j) || json_array_size(j) != (size_t)(7 + extra) ||
              whole(json_array_get(j, 0), MAX_SLOT - 1, &s) < 0 || s == 0 ||
              whole(json_array_get(j, 1), KV_CAS, &type) < 0 ||
              str_or_null(json_array_get(j, 2), &key) < 0 || str_or_null(json_array_get(j, 3), &value) < 0 ||
              str_or_null(json_array_get(j, 4), &from) < 0 || str_or_null(json_array_get(j, 5), &client) < 0 ||
              whole(json_array_get(j, 6), INT64_MAX, &msg_id) < 0 ||
              (extra >= 1 && (whole(json_array_get(j, 7), MAXB, &bb) < 0 || bb == 0)) ||
              (extra >= 2 && !json_is_boolean(json_array_get(j, 8))) ||
              (client && strlen(client) >= CL_IDLEN);
    if (bad) {
        emit_error(p, src, "paxos entry malformed: expected [slot from 1, type 0-2, key, value, from, client, "
                           "msg_id] (then ballot, chosen in a promise) with strings or nulls");
        return -1;
    }
    *slot = s;
    en->type = (int)type;
    en->msg_id = msg_id;
    en->key = key ? xstrdup(key) : NULL;
    en->value = value ? xstrdup(value) : NULL;
    en->from = from ? xstrdup(from) : NULL;
    en->client = client ? xstrdup(client) : NULL;
    if (b)
        *b = bb;
    if (chosen)
        *chosen = extra >= 2 && json_is_true(json_array_get(j, 8));
    return 0;
}

static void on_prepare(void *st, const char *src, const json_t *body)
{
    struct paxos *p = st;
    struct pmsg m;
    if (peer_get(p, src, body, prepare_fields, &m) < 0)
        return;
    if (m.from == 0) {
        emit_error(p, src, "prepare needs a slot \"from\" of 1 or more");
        return;
    }
    acceptor_prepare(p, src, m.ballot, m.from, m.only);
    if (m.commit > p->commit) /* the proposer knows more chosen slots than we do */
        ask_learn(p, env_node_index(p->e, src), first_unchosen(p));
}

static void on_promise(void *st, const char *src, const json_t *body)
{
    struct paxos *p = st;
    struct pmsg m;
    int idx = peer_get(p, src, body, promise_fields, &m);
    if (idx < 0)
        return;
    if (m.ballot != p->ballot || p->phase != PH_PREPARE || m.from != p->p1_from)
        return; /* an old round */
    if (m.commit > p->p1_cu) {
        p->p1_cu = m.commit;
        p->p1_cu_node = idx;
    }
    size_t i;
    const json_t *j;
    json_array_foreach(m.accepted, i, j) {
        uint64_t s, b;
        int ch;
        struct rlog_entry en;
        if (parse_entry(p, src, j, 2, &s, &en, &b, &ch) < 0)
            return;
        if (s < p->p1_from || s - p->p1_from >= PROMISE_MAX * 4) {
            rlog_entry_free(&en);
            continue;
        }
        size_t k = s - p->p1_from;
        if (k >= p->nadopt) {
            size_t nn = k + 1;
            p->adopt = xrealloc(p->adopt, nn * sizeof *p->adopt);
            p->adopt_b = xrealloc(p->adopt_b, nn * sizeof *p->adopt_b);
            p->adopt_chosen = xrealloc(p->adopt_chosen, nn * sizeof *p->adopt_chosen);
            memset(p->adopt + p->nadopt, 0, (nn - p->nadopt) * sizeof *p->adopt);
            memset(p->adopt_b + p->nadopt, 0, (nn - p->nadopt) * sizeof *p->adopt_b);
            memset(p->adopt_chosen + p->nadopt, 0, (nn - p->nadopt) * sizeof *p->adopt_chosen);
            p->nadopt = nn;
        }
        /* PMS P2c: v is "the value of the highest-numbered proposal among the responses"
         * (a chosen one wins outright) */
        if (!p->adopt_chosen[k] && (ch || b > p->adopt_b[k])) {
            rlog_entry_free(&p->adopt[k]);
            p->adopt[k] = en;
            p->adopt_b[k] = b;
            p->adopt_chosen[k] = ch;
        } else {
            rlog_entry_free(&en);
        }
    }
    uint32_t before = p->promises;
    p->promises |= 1u << idx;
    if (popcount32(before) < quorum(p) && popcount32(p->promises) >= quorum(p)) {
        char t[32];
        bal_text(p, p->ballot, t);
        emit_quorum(p, "prepare", "ballot", t, p->promises);
    }
    on_promises(p);
}

static void on_accept(void *st, const char *src, const json_t *body)
{
    struct paxos *p = st;
    struct pmsg m;
    int idx = peer_get(p, src, body, accept_fields, &m);
    if (idx < 0)
        return;
    size_t n = json_array_size(m.entries);
    uint64_t *slots = xcalloc(n + 1, sizeof *slots);
    struct rlog_entry *ents = xcalloc(n + 1, sizeof *ents);
    for (size_t i = 0; i < n; i++) {
        if (parse_entry(p, src, json_array_get(m.entries, i), 0, &slots[i], &ents[i], NULL, NULL) < 0) {
            for (size_t k = 0; k < i; k++)
                rlog_entry_free(&ents[k]);
            free(slots);
            free(ents);
            return;
        }
    }
    int current = m.ballot >= p->promised;
    acceptor_accept(p, src, m.ballot, slots, ents, n);
    free(slots);
    free(ents);
    if (current && p->multi && bal_node(m.ballot) == idx) {
        if (p->role != LEADER || m.ballot > p->ballot) {
            if (p->role == LEADER || p->role == CANDIDATE)
                give_up(p, idx);
            set_role(p, is_proposer(p) ? FOLLOWER : ACCEPTOR, idx);
            arm_election(p);
            serve_held(p);
        }
        learn_commit(p, m.ballot, m.commit, idx);
    } else if (!p->multi && m.commit > p->commit) {
        ask_learn(p, idx, first_unchosen(p));
    }
}

static void on_accepted(void *st, const char *src, const json_t *body)
{
    struct paxos *p = st;
    struct pmsg m;
    int idx = peer_get(p, src, body, accepted_fields, &m);
    if (idx < 0)
        return;
    p->heard |= 1u << idx;
    if (m.ballot != p->ballot || p->phase != PH_ACCEPT)
        return;
    size_t i;
    const json_t *j;
    uint64_t decided = 0;
    json_array_foreach(m.slots, i, j) {
        json_int_t s = json_integer_value(j);
        if (!json_is_integer(j) || s <= 0 || (uint64_t)s > last_slot(p)) {
            emit_error(p, src, "accepted names a slot we never proposed");
            return;
        }
        struct slot *sl = &p->sl[s];
        if (sl->ab != m.ballot || sl->chosen)
            continue;
        sl->acks |= 1u << idx;
        /* PMS §2.2: "A value is chosen when a single proposal with that value has been
         * accepted by a majority of the acceptors." */
        if (popcount32(sl->acks) >= quorum(p)) {
            char t[32];
            snprintf(t, sizeof t, "%lld", (long long)s);
            emit_quorum(p, "accept", "slot", t, sl->acks);
            mark_chosen(p, (uint64_t)s, "chosen");
            decided = (uint64_t)s;
            if (!p->multi) {
                json_t *ents = json_array();
                json_t *e = entry_json((uint64_t)s, rlog_at(&p->log, (uint64_t)s));
                json_array_append_new(e, json_integer((json_int_t)m.ballot));
                json_array_append_new(ents, e);
                send_all(p, json_pack("{s:s,s:o}", "type", "learn", "entries", ents));
            }
        }
    }
    if (decided && !p->multi)
        basic_decided(p, decided); /* first: a client's request learns its slot */
    advance_commit(p);
}

static void on_reject(void *st, const char *src, const json_t *body)
{
    struct paxos *p = st;
    struct pmsg m;
    if (peer_get(p, src, body, reject_fields, &m) < 0)
        return;
    saw_ballot(p, m.promised);
    if (m.ballot != p->ballot || p->phase == PH_IDLE || m.promised <= p->ballot)
        return;
    preempted(p, m.promised);
}

static void on_learn(void *st, const char *src, const json_t *body)
{
    struct paxos *p = st;
    struct pmsg m;
    if (peer_get(p, src, body, learn_fields, &m) < 0)
        return;
    size_t i;
    const json_t *j;
    uint64_t last = 0;
    json_array_foreach(m.entries, i, j) {
        uint64_t s, b;
        struct rlog_entry en;
        if (parse_entry(p, src, j, 1, &s, &en, &b, NULL) < 0)
            return;
        if (is_chosen(p, s)) {
            rlog_entry_free(&en);
            continue;
        }
        slot_at(p, s);
        slot_set(p, s, &en, b);
        mark_chosen(p, s, "learn");
        last = s;
        if (!p->multi)
            basic_decided(p, s);
    }
    p->learn_asked = 0;
    advance_commit(p);
    /* still a gap below what we learnt: ask again */
    if (last > p->commit && p->commit + 1 <= last)
        ask_learn(p, env_node_index(p->e, src), p->commit + 1);
    if (!p->multi)
        propose_next(p);
}

static void on_learn_req(void *st, const char *src, const json_t *body)
{
    struct paxos *p = st;
    struct pmsg m;
    if (peer_get(p, src, body, learn_req_fields, &m) < 0)
        return;
    send_learn(p, src, m.from ? m.from : 1);
}

static void on_heartbeat(void *st, const char *src, const json_t *body)
{
    struct paxos *p = st;
    struct pmsg m;
    int idx = peer_get(p, src, body, heartbeat_fields, &m);
    if (idx < 0)
        return;
    saw_ballot(p, m.ballot);
    if (m.ballot < p->promised) {
        reject(p, src, m.ballot, "heartbeat");
        return;
    }
    if (bal_node(m.ballot) != idx)
        return;
    if (p->role == LEADER || p->role == CANDIDATE) {
        if (m.ballot <= p->ballot)
            return;
        give_up(p, idx);
    }
    set_role(p, is_proposer(p) ? FOLLOWER : ACCEPTOR, idx);
    arm_election(p);
    serve_held(p);
    env_send(p->e, src, json_pack("{s:s,s:I}", "type", "heartbeat_ok", "ballot", (json_int_t)m.ballot));
    learn_commit(p, m.ballot, m.commit, idx);
}

static void on_heartbeat_ok(void *st, const char *src, const json_t *body)
{
    struct paxos *p = st;
    struct pmsg m;
    int idx = peer_get(p, src, body, heartbeat_ok_fields, &m);
    if (idx < 0)
        return;
    if (m.ballot == p->ballot)
        p->heard |= 1u << idx;
}

/* Leader: every heartbeat, resend what a majority has not accepted yet, and check that a
 * majority still answers (else step down: clients go to a leader that can serve them). */
static void heartbeat_tick(struct paxos *p)
{
    p->heard |= 1u << p->e->self_idx;
    if (popcount32(p->heard) >= quorum(p)) {
        p->quiet_ticks = 0;
        p->heard = 0;
    } else if (++p->quiet_ticks * p->hb_us > 2 * p->el_us) {
        emit(p, "step_down", json_pack("{s:s}", "why", "no majority heard for two election timeouts"));
        give_up(p, -1);
        return;
    }
    p->t_heartbeat = env_timer_set(p->e, p->hb_us, T_HEARTBEAT, 0);
    send_all(p, json_pack("{s:s,s:I,s:I}", "type", "heartbeat", "ballot", (json_int_t)p->ballot, "commit",
                          (json_int_t)p->commit));
    /* retransmit: slots of our ballot not yet chosen, to the acceptors missing */
    uint64_t s = first_unchosen(p);
    for (int i = 0; i < p->e->n_nodes; i++) {
        if (i == p->e->self_idx)
            continue;
        uint64_t *slots = xcalloc((size_t)p->batch, sizeof *slots);
        size_t n = 0;
        for (uint64_t k = s; k <= p->sent_upto && n < (size_t)p->batch; k++)
            if (!is_chosen(p, k) && p->sl[k].ab == p->ballot && !((p->sl[k].acks >> i) & 1))
                slots[n++] = k;
        send_accepts(p, slots, n, i);
        free(slots);
    }
}

/* ---- client requests ------------------------------------------------------------------------------ */

/* Multi leader: a new command (its strings taken) goes to the next slot, sent at the flush. */
static uint64_t leader_add(struct paxos *p, struct rlog_entry *en)
{
    if (p->on == p->ocap) {
        p->ocap = p->ocap ? p->ocap * 2 : 64;
        p->obox = xrealloc(p->obox, p->ocap * sizeof *p->obox);
    }
    p->obox[p->on++] = *en;
    memset(en, 0, sizeof *en);
    arm_flush(p);
    return p->next_slot++;
}

struct client_msg {
    uint64_t msg_id;
    const char *key;
    const json_t *value, *from, *to;   /* any JSON (kvsm.h: stored with its type) */
};

static const struct msg_field read_fields[] = {
    MSG_U64(struct client_msg, msg_id, INT64_MAX), MSG_STR(struct client_msg, key), MSG_END,
};
static const struct msg_field write_fields[] = {
    MSG_U64(struct client_msg, msg_id, INT64_MAX), MSG_STR(struct client_msg, key),
    MSG_ANY(struct client_msg, value), MSG_END,
};
static const struct msg_field cas_fields[] = {
    MSG_U64(struct client_msg, msg_id, INT64_MAX), MSG_STR(struct client_msg, key),
    MSG_ANY(struct client_msg, from), MSG_ANY(struct client_msg, to), MSG_END,
};

/* The node a client should ask instead of us, or -1. */
static int better_node(struct paxos *p)
{
    if (p->multi)
        return p->leader >= 0 && p->leader != p->e->self_idx ? p->leader : -1;
    for (int i = 0; i < p->e->n_nodes; i++)
        if ((p->proposers >> i) & 1)
            return i;
    return -1;
}

static void hold(struct paxos *p, const char *src, const json_t *body)
{
    if (p->nheld >= MAX_HELD) {
        env_reply_error(p->e, src, body, ERR_TEMPORARILY_UNAVAILABLE,
                        "no Multi-Paxos leader yet and too many requests waiting for one", NULL);
        return;
    }
    p->held = xrealloc(p->held, (p->nheld + 1) * sizeof *p->held);
    str_copy(p->held[p->nheld].client, src, CL_IDLEN);
    p->held[p->nheld].body = json_deep_copy(body);
    p->held[p->nheld++].ticks = 0;
}

/* Requests held during an election: the new leader takes them, others redirect them. */
static void serve_held(struct paxos *p)
{
    if (!p->nheld || (p->role != LEADER && p->leader < 0))
        return;
    size_t n = p->nheld;
    struct held *h = p->held;
    p->held = NULL;
    p->nheld = 0;
    for (size_t i = 0; i < n; i++) {
        client_request(p, h[i].client, h[i].body, 1);
        json_decref(h[i].body);
    }
    free(h);
}

static void expire_held(struct paxos *p)
{
    size_t w = 0;
    for (size_t i = 0; i < p->nheld; i++) {
        if (++p->held[i].ticks >= 8) {
            char b[32];
            bal_text(p, p->ballot, b);
            char *t = xasprintf("no Multi-Paxos leader for 8 election timeouts (an election is under way, "
                                "last ballot %s): try again", b);
            env_reply_error(p->e, p->held[i].client, p->held[i].body, ERR_TEMPORARILY_UNAVAILABLE, t, NULL);
            free(t);
            json_decref(p->held[i].body);
            continue;
        }
        p->held[w++] = p->held[i];
    }
    p->nheld = w;
}

static void client_request(struct paxos *p, const char *src, const json_t *body, int redirect_now)
{
    const char *type = json_string_value(json_object_get(body, "type"));
    int kind = !strcmp(type, "read") ? READ_TYPE : !strcmp(type, "cas") ? KV_CAS : KV_PUT;
    struct client_msg m;
    if (msg_get_request(p->e, src, body, kind == READ_TYPE ? read_fields : kind == KV_CAS ? cas_fields : write_fields,
                        &m, sizeof m) < 0)
        return;
    if (env_node_index(p->e, src) >= 0) {
        emit_error(p, src, "client request from a node id refused");
        return;
    }
    if (p->multi && p->role != LEADER) {
        int b = better_node(p);
        if (!redirect_now || b < 0) {
            /* Not the leader. The request waits here until a leader proves alive (its next
             * heartbeat: then the client is sent there) or we are elected (then we serve it):
             * a redirect to a leader that just died would fail the request for nothing. */
            hold(p, src, body);
            return;
        }
        env_reply_error(p->e, src, body, ERR_TEMPORARILY_UNAVAILABLE, "not the leader", node_id(p, b));
        return;
    }
    if (!p->multi && !is_proposer(p)) {
        int b = better_node(p);
        env_reply_error(p->e, src, body, ERR_TEMPORARILY_UNAVAILABLE, "not a proposer",
                        b >= 0 ? node_id(p, b) : NULL);
        return;
    }
    uint64_t last_id;
    int code;
    if (kind != READ_TYPE && kvsm_session(&p->sm, src, &last_id, &code) && last_id == m.msg_id) {
        env_reply(p->e, src, body, result_body(kind, code));
        return;
    }
    const json_t *mid = json_object_get(body, "msg_id");
    if (pending_has(&p->pend, src, mid))
        return;
    if (p->pend.n >= MAX_PENDING) {
        env_reply_error(p->e, src, body, ERR_TEMPORARILY_UNAVAILABLE, "too many requests in flight", NULL);
        return;
    }
    struct rlog_entry en = {.type = kind == READ_TYPE ? KV_NOOP : kind, .msg_id = m.msg_id};
    en.key = xstrdup(m.key);
    if (kind == KV_PUT)
        en.value = kvsm_value_encode(m.value);
    if (kind == KV_CAS) {
        en.value = kvsm_value_encode(m.to);
        en.from = kvsm_value_encode(m.from);
    }
    en.client = xstrdup(src);
    if (p->multi) {
        /* PMS §3: the leader proposes command i+1 in phase 2 at once: phase 1 is done */
        uint64_t s = leader_add(p, &en);
        pending_add(&p->pend, src, mid, s, p->ballot, kind);
        return;
    }
    pending_add(&p->pend, src, mid, 0, 0, kind);
    p->queue = p->qn == p->qcap ? xrealloc(p->queue, (p->qcap = p->qcap ? p->qcap * 2 : 8) * sizeof *p->queue) : p->queue;
    p->queue[p->qn++] = en;
    propose_next(p);
}

static void on_client(void *st, const char *src, const json_t *body)
{
    client_request(st, src, body, 0);
}

/* ---- timers -------------------------------------------------------------------------------------- */

static void paxos_on_timer(void *st, int kind, uint64_t arg)
{
    struct paxos *p = st;
    switch (kind) {
    case T_ELECTION:
        p->t_election = 0;
        if (p->role == LEADER)
            return;
        arm_election(p); /* a candidate that hears nothing tries again */
        set_role(p, CANDIDATE, -1);
        start_phase1(p, first_unchosen(p), 0);
        break;
    case T_HEARTBEAT:
        p->t_heartbeat = 0;
        if (p->role == LEADER)
            heartbeat_tick(p);
        break;
    case T_FLUSH:
        flush(p);
        break;
    case T_RETRY:
        p->t_retry = 0;
        propose_next(p);
        break;
    case T_THINK:
        p->t_think = 0;
        if (p->phase == PH_THINK)
            basic_phase2(p);
        break;
    case T_PHASE:
        if (!p->multi && arg == p->ballot && (p->phase == PH_PREPARE || p->phase == PH_ACCEPT)) {
            emit(p, "phase_timeout", json_pack("{s:s,s:I}", "phase", p->phase == PH_PREPARE ? "prepare" : "accept",
                                         "slot", (json_int_t)p->cur_slot));
            preempted(p, 0);
        }
        break;
    case T_TICK:
        p->t_tick = env_timer_set(p->e, p->el_us, T_TICK, 0);
        expire_held(p);
        /* a learner with a gap (a later slot chosen, an earlier one not) asks a peer */
        if (p->commit < last_slot(p)) {
            uint64_t s = first_unchosen(p);
            int any = 0;
            for (uint64_t k = s + 1; k <= last_slot(p) && !any; k++)
                any = is_chosen(p, k);
            if (any && p->e->n_nodes > 1) {
                int who = (int)env_rand_range(p->e, 0, (uint64_t)p->e->n_nodes - 2);
                if (who >= p->e->self_idx)
                    who++;
                p->learn_asked = 0;
                ask_learn(p, p->multi && p->leader >= 0 && p->leader != p->e->self_idx ? p->leader : who, s);
            }
        }
        break;
    }
}

/* ---- commands ------------------------------------------------------------------------------------- */

static json_t *cmd_reply(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static json_t *cmd_reply(int ok, const char *fmt, ...)
{
    struct sb b = {0};
    va_list ap;
    va_start(ap, fmt);
    sb_vprintf(&b, fmt, ap);
    va_end(ap);
    json_t *j = json_pack("{s:b,s:s}", "ok", ok, "text", b.s ? b.s : "");
    sb_free(&b);
    return j;
}

/* propose NODE VALUE [KEY]: NODE proposes put KEY=VALUE (KEY "value" by default). */
static json_t *cmd_propose(void *st, int argc, char **argv)
{
    struct paxos *p = st;
    if (argc < 2)
        return cmd_reply(0, "usage: propose NODE VALUE [KEY]");
    const char *key = argc >= 3 ? argv[2] : "value";
    if (!is_proposer(p))
        return cmd_reply(0, "%s is not a proposer (start with proposers=... naming it)", p->e->self);
    struct rlog_entry en = {.type = KV_PUT};
    en.key = xstrdup(key);
    en.value = xstrdup(argv[1]);
    if (p->multi) {
        if (p->role != LEADER) {
            rlog_entry_free(&en);
            return cmd_reply(0, "%s is not the Multi-Paxos leader%s%s", p->e->self,
                             p->leader >= 0 ? ": ask " : "", p->leader >= 0 ? node_id(p, p->leader) : "");
        }
        uint64_t s = leader_add(p, &en);
        return cmd_reply(1, "%s (leader) proposes %s=%s for slot %llu", p->e->self, key, argv[1], (unsigned long long)s);
    }
    if (p->qn >= MAX_PENDING) {
        rlog_entry_free(&en);
        return cmd_reply(0, "%s has too many values queued", p->e->self);
    }
    p->queue = p->qn == p->qcap ? xrealloc(p->queue, (p->qcap = p->qcap ? p->qcap * 2 : 8) * sizeof *p->queue) : p->queue;
    p->queue[p->qn++] = en;
    int busy = p->qn > 1;
    propose_next(p);
    return cmd_reply(1, "%s proposes %s=%s%s", p->e->self, key, argv[1],
                     busy ? " (queued behind its current proposal)" : "");
}

/* ---- create, status, the face -------------------------------------------------------------------- */

static void paxos_destroy(void *st);

static uint32_t parse_proposers(struct env *e, const char *s, char *err, size_t errlen)
{
    if (!s || !*s || !strcmp(s, "all"))
        return e->n_nodes >= 32 ? 0xffffffffu : (1u << e->n_nodes) - 1;
    uint32_t m = 0;
    char *c = xstrdup(s), *save = NULL;
    for (char *tok = strtok_r(c, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        int i;
        if (parse_node_id(tok, e->n_nodes, &i) < 0) {
            snprintf(err, errlen, "bad proposers=%s: expected node ids of this cluster such as proposers=n1,n2", s);
            free(c);
            return 0;
        }
        m |= 1u << i;
    }
    free(c);
    if (!m)
        snprintf(err, errlen, "proposers= names no node: expected proposers=n1,n2 or all");
    return m;
}

static void *paxos_create(struct env *e, const struct opts *o, char *err, size_t errlen)
{
    struct paxos *p = xcalloc(1, sizeof *p);
    p->e = e;
    p->multi = !strcmp(opts_get(o, "multi", "off"), "on");
    p->backoff = !strcmp(opts_get(o, "backoff", "on"), "on");
    p->think_us = opts_get_duration(o, "think", 0);
    p->hb_us = opts_get_duration(o, "heartbeat", 50000);
    p->el_us = opts_get_duration(o, "election", 150000);
    p->batch = (int)opts_get_int(o, "batch", 256);
    const char *bug = opts_get(o, "bug", "none");
    p->bug = !strcmp(bug, "ignore-accepted") ? BUG_IGNORE_ACCEPTED
           : !strcmp(bug, "no-promise-persist") ? BUG_NO_PROMISE_PERSIST : BUG_NONE;
    p->leader = -1;
    kvsm_init(&p->sm);
    if (p->hb_us == 0 || p->el_us <= p->hb_us) {
        snprintf(err, errlen, "paxos needs 0 < heartbeat < election (got heartbeat=%lluus election=%lluus)",
                 (unsigned long long)p->hb_us, (unsigned long long)p->el_us);
        paxos_destroy(p);
        return NULL;
    }
    err[0] = 0;
    p->proposers = parse_proposers(e, opts_get(o, "proposers", "all"), err, errlen);
    if (!p->proposers) {
        paxos_destroy(p);
        return NULL;
    }
    struct load ld = {.p = p};
    long got = e->ops->log_read(e, ACC_LOG, load_rec, &ld);
    if (got < 0 || ld.bad) {
        snprintf(err, errlen, "%s is corrupt or cannot be read back: refusing to start", ACC_LOG);
        paxos_destroy(p);
        return NULL;
    }
    p->max_round = bal_round(p->promised);
    uint64_t c = 0;
    while (is_chosen(p, c + 1))
        c++;
    p->commit = c;
    return p;
}

static void paxos_start(void *st)
{
    struct paxos *p = st;
    p->role = -1;
    set_role(p, p->multi ? (is_proposer(p) ? FOLLOWER : ACCEPTOR) : (is_proposer(p) ? PROPOSER : ACCEPTOR), -1);
    apply_chosen(p);
    arm_election(p);
    p->t_tick = env_timer_set(p->e, p->el_us, T_TICK, 0);
}

static void paxos_destroy(void *st)
{
    struct paxos *p = st;
    if (!p)
        return;
    rlog_free(&p->log);
    free(p->sl);
    json_decref(p->mk);
    kvsm_free(&p->sm);
    for (size_t i = 0; i < p->nreplies; i++) {
        json_decref(p->replies[i].body);
        json_decref(p->replies[i].fields);
    }
    free(p->replies);
    clear_adopt(p);
    for (size_t i = 0; i < p->qn; i++)
        rlog_entry_free(&p->queue[i]);
    free(p->queue);
    for (size_t i = 0; i < p->on; i++)
        rlog_entry_free(&p->obox[i]);
    free(p->obox);
    rlog_entry_free(&p->cur);
    pending_clear(&p->pend);
    for (size_t i = 0; i < p->nheld; i++)
        json_decref(p->held[i].body);
    free(p->held);
    free(p);
}

static json_t *paxos_status(void *st)
{
    struct paxos *p = st;
    char pb[32], bb[32];
    bal_text(p, p->promised, pb);
    bal_text(p, p->ballot, bb);
    json_t *j = json_pack("{s:s,s:I,s:I,s:I,s:O}", "role", role_names[p->role < 0 ? 0 : p->role], "term",
                          (json_int_t)p->promised, "commit", (json_int_t)p->commit, "applied",
                          (json_int_t)p->applied, "data", p->sm.data);
    if (p->leader >= 0)
        json_object_set_new(j, "leader", json_string(node_id(p, p->leader)));
    json_t *log = json_array();
    uint64_t last = last_slot(p);
    uint64_t from = last > 100 ? last - 99 : 1;
    /* the newest slot that holds something: "accepted" and "learned" in words */
    char *acc = NULL, *learned = NULL, *acc_short = NULL;
    for (uint64_t s = last; s >= 1 && (!acc || !learned); s--) {
        struct rlog_entry *en = rlog_at(&p->log, s);
        if (!en->term)
            continue;
        char t[32];
        bal_text(p, en->term, t);
        char *c = entry_label(p, en);
        const char *v = en->type == KV_PUT && en->value ? kvsm_value_text(en->value) : c;
        if (!acc) {
            acc = xasprintf("slot %llu: %s %s", (unsigned long long)s, t, v);
            acc_short = xasprintf("%s=%.24s", t, v); /* the figure: "1.n1=blue" */
        }
        if (!learned && p->sl[s].chosen)
            learned = xasprintf("slot %llu: %s", (unsigned long long)s, v);
        free(c);
    }
    for (uint64_t s = from; s <= last; s++) {
        struct rlog_entry *en = rlog_at(&p->log, s);
        char *cmd = en->term ? entry_label(p, en) : xstrdup("(empty)");
        char t[32];
        bal_text(p, en->term, t);
        char note[48];
        snprintf(note, sizeof note, "ballot %s%s", t, p->sl[s].chosen ? ", chosen" : en->term ? ", accepted" : "");
        json_array_append_new(log, json_pack("{s:I,s:I,s:s,s:s,s:b,s:s}", "index", (json_int_t)s, "term",
                                             (json_int_t)en->term, "ballot", t, "cmd", cmd, "committed",
                                             p->sl[s].chosen, "note", note));
        free(cmd);
    }
    json_object_set_new(j, "log", log);
    json_t *ex = json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:I}", "promised", pb, "ballot", bb, "accepted",
                           acc ? acc : "-", "learned", learned ? learned : "-", "multi", p->multi ? "on" : "off",
                           "queued", (json_int_t)p->qn, "pending", (json_int_t)p->pend.n);
    json_object_set_new(ex, "acc", json_string(acc_short ? acc_short : "-"));
    free(acc_short);
    if (p->multi && p->role == LEADER) {
        /* per acceptor: how many of the open slots it has accepted */
        json_t *acks = json_object();
        uint64_t s0 = first_unchosen(p);
        for (int i = 0; i < p->e->n_nodes; i++) {
            int k = 0;
            for (uint64_t s = s0; s <= last; s++)
                k += (p->sl[s].ab == p->ballot && ((p->sl[s].acks >> i) & 1));
            json_object_set_new(acks, node_id(p, i), json_integer(k));
        }
        json_object_set_new(ex, "open_acks", acks);
    }
    free(acc);
    free(learned);
    json_object_set_new(j, "extra", ex);
    return j;
}

static const struct mode_option paxos_options[] = {
    {"multi", OPT_ENUM, "on|off", 0, 0, "off", "Multi-Paxos: a stable leader runs phase 1 once for all slots (off: Basic Paxos, both phases per value)"},
    {"proposers", OPT_ENUM, NULL, 0, 0, "all", "the nodes that may propose, such as proposers=n1,n2 (default all)"},
    {"backoff", OPT_ENUM, "on|off", 0, 0, "on", "randomized backoff after a rejected ballot (off: retry at once: dueling proposers livelock)"},
    {"think", OPT_DURATION, NULL, 0, 60000000, "0ms", "Basic: wait this long between phase 1 and phase 2 (a slow proposer; makes duels visible)"},
    {"heartbeat", OPT_DURATION, NULL, 0, 0, "50ms", "Multi-Paxos leader heartbeat interval"},
    {"election", OPT_DURATION, NULL, 0, 0, "150ms", "Multi-Paxos: minimum time without a leader before a proposer runs phase 1 (random in [T, 2T])"},
    {"batch", OPT_INT, NULL, 1, 100000, "256", "most slots in one Accept message"},
    {NULL, 0, NULL, 0, 0, NULL, NULL},
};

static const struct mode_handler paxos_handlers[] = {
    {"prepare", on_prepare},
    {"promise", on_promise},
    {"accept", on_accept},
    {"accepted", on_accepted},
    {"reject", on_reject},
    {"learn", on_learn},
    {"learn_req", on_learn_req},
    {"heartbeat", on_heartbeat},
    {"heartbeat_ok", on_heartbeat_ok},
    {"read", on_client},
    {"write", on_client},
    {"cas", on_client},
    {NULL, NULL},
};

static const struct mode_command paxos_commands[] = {
    {"propose", "propose NODE VALUE [KEY]", "NODE proposes KEY=VALUE (KEY 'value' by default): Basic Paxos runs both phases for the next open slot",
     "propose n1 blue", 2, 3, cmd_propose, MC_ON_NODE},
    {NULL, NULL, NULL, NULL, 0, 0, NULL, MC_ANY},
};

static const struct mode_role paxos_roles[] = {
    {"leader", RC_LEADER},
    {"candidate", RC_CANDIDATE},
    {"follower", RC_FOLLOWER},
    {"proposer", RC_PEER},
    {"acceptor", RC_FOLLOWER},
    {NULL, RC_UNKNOWN},
};

static const struct mode_figure paxos_figures[] = {
    {"extra.promised", "promised", "p"},
    {"extra.ballot", "ballot", NULL},
    {"extra.acc", "accepted", "A"},
    {"extra.learned", "learned", NULL},
    {"leader", "leader", NULL},
    {"commit", "chosen", "c"},
    {"applied", "applied", "a"},
    {NULL, NULL, NULL},
};

const struct mode mode_paxos = {
    .name = "paxos",
    .summary = "Paxos: Basic Paxos per slot (prepare/promise, accept/accepted, learn) and Multi-Paxos (multi=on)",
    .options = paxos_options,
    .bugs = "ignore-accepted|no-promise-persist",
    .handlers = paxos_handlers,
    .commands = paxos_commands,
    .create = paxos_create,
    .start = paxos_start,
    .destroy = paxos_destroy,
    .on_timer = paxos_on_timer,
    .status = paxos_status,
    .monitor = &paxosmon_monitor,
    .workload = "lin-kv",
    .roles = paxos_roles,
    .figures = paxos_figures,
    .events = "state|prepare|promise|reject|accept|accepted|chosen|learn|adopt|think|backoff|lost|phase_timeout|step_down|commit|apply|error|quorum",
    .compare_as = "consensus",
    .compare_opts = "multi=on",
    .leader_when = "multi=on",
};
