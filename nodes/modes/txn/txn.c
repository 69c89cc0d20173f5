/* txn — distributed transactions across shards: two-phase commit (protocol=2pc, the default),
 * three-phase commit (protocol=3pc). n1 is the coordinator; n2..nN are participants, each the
 * shard of some keys (txn_shard(): the bank's accounts alice, bob, carol, … round-robin, any
 * other key by hash). A transaction is a list of operations ["r",k,null], ["w",k,v],
 * ["add",k,delta] (a balance that may not go negative) and ["append",k,v] (list-append).
 * Values are any JSON but null (issue 20: Elle's list-append appends integers): a w of 42
 * reads back 42, of "42" the string, of {"a":[1]} the object; a key is a string or a whole
 * number (Jepsen's keys are integers), taken as its decimal text inside (so 7 and "7" are one
 * key) and answered as the client sent it in txn_ok.
 *
 * Coordinator, per transaction (struct ctx):
 *
 *   VOTING --all YES--> (2pc) DECIDED(commit) --all acks--> done (client answered)
 *     |  (PREPARE is sent again every timeout to those who have not voted: messages get lost)
 *     |                 (3pc) PRECOMMIT --acks or timeout--> DECIDED(commit)
 *     +--a NO, or no vote within 3 timeouts--> DECIDED(abort)
 *
 * Participant, per transaction (struct ptx):
 *
 *   LOCKING --locks held, ops valid--> log PREPARED (fsync) --> vote YES --> UNCERTAIN
 *      |  \--an op fails--> vote NO, ABORTED         UNCERTAIN --precommit (3pc)--> PRECOMMITTED
 *      \--lock_timeout--> vote NO, ABORTED           UNCERTAIN/PRECOMMITTED --decide--> COMMITTED | ABORTED
 *
 * Rules (Gray & Lamport, "Consensus on Transaction Commit", TCommit/TwoPhase):
 *  - A participant takes exclusive locks on every key it touches (in key order; a lock held
 *    by another transaction is waited for, visibly: events lock_wait, lock_grant,
 *    lock_timeout, and the `waits` figure) and holds them until the decision arrives.
 *  - It logs PREPARED with its writes and fsyncs before voting YES; after YES it never aborts
 *    on its own (2pc). When the decision is overdue it asks the coordinator; while the
 *    coordinator answers "unknown" (alive, still collecting votes) it waits. When the
 *    coordinator stays silent for a whole timeout it is *blocked* (event `blocked`, role
 *    blocked): it asks the coordinator and the other participants (cooperative termination:
 *    one that knows the outcome, or that never voted and so may still abort, answers) and waits.
 *  - The coordinator logs its decision and fsyncs before sending it, so a restarted
 *    coordinator resends the same decision; a transaction it has no decision for is aborted
 *    (presumed abort). Transaction ids are reserved in blocks through a durable blob, so a
 *    restart never reuses one.
 *  - 3pc: after all YES the coordinator sends PRECOMMIT; a participant whose coordinator stays
 *    silent for a timeout runs the termination rule: it asks everyone; a known decision wins;
 *    any PRECOMMITTED one means commit; otherwise, when nobody answered better within a
 *    timeout, PRECOMMITTED commits and UNCERTAIN aborts (silence is taken for a crash). Non-blocking under crash-stop with bounded delays (T6); under a
 *    partition the two sides decide differently (T7, the anomaly the monitor flags).
 *  - A restarted participant re-takes the locks of its in-doubt transactions and asks the
 *    coordinator for their outcome (T5).
 *  - Reads and writes sent straight to a participant (`get alice @n2`) are served from its
 *    own data unless the key is locked: then they are refused, naming the holder (event
 *    lock_refused), so a student sees why a read of a prepared key is blocked.
 *
 * Crash points (`crashpoint NODE WHEN`): the node stops at WHEN as if dead — it sends nothing
 * and answers nothing (role halted, event crashpoint) — until the lab crashes and restarts it.
 * Coordinator: prepare (all YES in, nothing decided), decision (logged, not sent), send (sent
 * to the first participant only), precommit (3pc: sent to the first participant only), step
 * (saga: step 1 applied and answered, the answer not yet logged).
 * Participant: vote (PREPARED logged and YES sent).
 *
 * Bug toggles: no-decision-log (the decision is sent without being logged: a restart forgets
 * it and presumes abort), unilateral-abort (a YES voter aborts when the decision is overdue),
 * no-prepare-log (YES without a durable PREPARED record: a restarted participant forgets).
 *
 * Durable state: the log "txn.coord" (begin, decision, end records) and the blob "txn.ids"
 * on the coordinator; the log "txn.part" (write, prepared, precommit, commit, abort records)
 * on a participant, replayed on restart over the bank's opening balances.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "jtext.h"
#include "msg.h"
#include "txn.h"

#define MAXTX 512          /* transactions in flight per node */
#define MAXOPS 64          /* operations per transaction */
#define KEYLEN 64

enum proto { P_2PC, P_3PC, P_SAGA };
enum bug { BUG_NO_DECISION_LOG = 1, BUG_UNILATERAL_ABORT = 2, BUG_NO_PREPARE_LOG = 4, BUG_FORWARD_COMPENSATION = 8,
           BUG_NO_IDEMPOTENCY = 16 };
enum ctx_state { C_VOTING, C_PRECOMMIT, C_DECIDED };
enum ptx_state { X_LOCKING, X_UNCERTAIN, X_PRECOMMITTED };
enum timer_kind { TM_VOTE = 1, TM_PRE, TM_ACK, TM_LOCK, TM_DOUBT, TM_STEP, TM_PREP };

static const char *const accounts[] = {"alice", "bob", "carol", "dave", "erin", "frank"};

int txn_account_count(void) { return (int)CL_ARRAY_LEN(accounts); }
const char *txn_account_name(int i) { return i >= 0 && i < txn_account_count() ? accounts[i] : NULL; }

int txn_shard(int n, const char *key)
{
    if (n < 2 || !key)
        return -1;
    for (int i = 0; i < txn_account_count(); i++)
        if (!strcmp(key, accounts[i]))
            return 1 + i % (n - 1);
    /* the accounts beyond the six (accounts=N): a7, a8, … go on round-robin */
    uint64_t k;
    if (key[0] == 'a' && key[1] >= '1' && key[1] <= '9' && parse_u64(key + 1, &k) == 0 && k > 6 && k <= 100000)
        return 1 + (int)((k - 1) % (uint64_t)(n - 1));
    return 1 + (int)(hash_str(key) % (uint64_t)(n - 1));
}

/* A coordinator's transaction. */
struct ctx {
    uint64_t num;               /* t<num> */
    char id[24];
    enum ctx_state state;
    int commit;                 /* the decision, once DECIDED */
    int np;
    int part[CL_MAXN];          /* node indexes of the participants */
    int vote[CL_MAXN];          /* 0 none, 1 yes, -1 no */
    int acked[CL_MAXN];
    json_t *ops;                /* the whole transaction; reads are filled in as votes come */
    char client[64];            /* who to answer ("" for a command or a recovered one) */
    json_t *req;                /* the request, or NULL */
    char why[160];              /* why it aborted */
    uint64_t t0, timer;
    uint64_t prep_timer;        /* resends PREPARE to those who have not voted */
    /* saga */
    int step;                   /* the step in flight (forward), or being compensated */
    int compensating;           /* a step failed: undoing the done ones */
    int failed_at;              /* the step that failed, or -1 */
    json_t *undo;               /* per step: its compensation, or null (not done / nothing to undo) */
    int *undone;                /* per step: compensated */
    int recovered;              /* rebuilt from the log by a restart */
};

/* A participant's transaction. */
struct ptx {
    char id[24];
    char coord[CL_IDLEN];
    enum ptx_state state;
    json_t *ops;                /* [[i, op], ...]: this shard's operations and their index */
    json_t *parts;              /* every participant (cooperative termination) */
    json_t *writes;             /* key -> new value, computed at prepare */
    json_t *reads;              /* [[i, value], ...] */
    char keys[MAXOPS][KEYLEN];
    int nkeys, nlocked;
    uint64_t wait_t0, lock_timer, doubt_timer;
    int waiting;                /* a lock_wait event was emitted for keys[nlocked] */
    int blocked, asked, saw_pre;
    int coord_alive;            /* the coordinator answered "unknown" since the last timeout */
    int terminating;            /* 3pc: the termination round has begun */
    int proto;
};

struct txnst {
    struct env *e;
    int proto, coord, n;
    unsigned bugs;
    uint64_t timeout_us, lock_timeout_us;
    char crashat[16];
    int halted;
    int recovering;             /* coordinator: transactions from the log not yet finished */
    char role[16];
    json_t *data;               /* participant: key -> value */
    /* coordinator */
    struct ctx *ctx[MAXTX];
    uint64_t next_id, id_limit;
    json_t *decided;            /* txn -> "commit" | "abort" (logged decisions) */
    json_t *recover;            /* txn -> begin record without an end (from the log) */
    /* participant */
    struct ptx *ptx[MAXTX];
    json_t *locks;              /* key -> txn */
    json_t *outcomes;           /* txn -> "commit" | "abort", known here */
    json_t *applied;            /* saga: "t3/2" or "t3/2c" -> the reply it got (idempotent retries) */
    uint64_t committed, aborted, lock_waits;
    uint64_t msgs, fsyncs;      /* messages this node sent to others, fsyncs it asked for */
};

/* Every message to another node goes through here, to be counted (the bench's figure). */
static void send_node(struct txnst *st, const char *dest, json_t *body)
{
    if (env_node_index(st->e, dest) >= 0)
        st->msgs++;
    env_send(st->e, dest, body);
}

static const char *coord_id(struct txnst *st) { return st->e->nodes[0]; }

static void set_role(struct txnst *st, const char *role)
{
    if (!strcmp(st->role, role))
        return;
    str_copy(st->role, role, sizeof st->role);
    env_event(st->e, "state", json_pack("{s:s}", "role", role));
}

/* ---- crash points ------------------------------------------------------------------------- */

/* At a crash point the node stops as if dead until the lab crashes and restarts it. Returns 1
 * when it halted. */
static int crash_point(struct txnst *st, const char *at, const char *txn)
{
    if (strcmp(st->crashat, at))
        return 0;
    st->halted = 1;
    env_event(st->e, "crashpoint", json_pack("{s:s,s:s,s:s}", "at", at, "txn", txn,
                                             "text", "stopped as if dead: crash and restart this node"));
    set_role(st, "halted");
    return 1;
}

/* ---- operations ---------------------------------------------------------------------------- */

static int op_valid(const json_t *op, char *err, size_t errlen)
{
    const char *f = json_string_value(json_array_get(op, 0));
    const char *k = json_string_value(json_array_get(op, 1));
    if (!json_is_array(op) || json_array_size(op) != 3 || !f || !k) {
        snprintf(err, errlen, "an operation is [F, KEY, VALUE] with F one of r, w, add, append");
        return 0;
    }
    if (!*k || strlen(k) >= KEYLEN) {
        snprintf(err, errlen, "a key is 1 to %d characters", KEYLEN - 1);
        return 0;
    }
    const json_t *v = json_array_get(op, 2);
    if (!strcmp(f, "r"))
        return 1;
    if (!strcmp(f, "w") || !strcmp(f, "append")) {
        if (json_is_null(v)) { /* null is what a read of an absent key says */
            snprintf(err, errlen, "%s %s needs a value (any JSON but null)", f, k);
            return 0;
        }
        return 1;
    }
    if (!strcmp(f, "add")) {
        if (!json_is_integer(v) || json_integer_value(v) > 1000000000000LL ||
            json_integer_value(v) < -1000000000000LL) {
            snprintf(err, errlen, "add %s needs a whole number from -10^12 to 10^12", k);
            return 0;
        }
        return 1;
    }
    snprintf(err, errlen, "unknown operation '%s': expected r, w, add or append", f);
    return 0;
}

/* Integer keys ([F, 7, V]) become their decimal text, in place: the protocol keys by text. */
static void keys_as_text(json_t *ops)
{
    size_t i;
    json_t *op;
    json_array_foreach(ops, i, op) {
        const json_t *k = json_array_get(op, 1);
        if (json_is_array(op) && json_is_integer(k)) {
            char b[24];
            snprintf(b, sizeof b, "%lld", (long long)json_integer_value(k));
            json_array_set_new(op, 1, json_string(b));
        }
    }
}

/* ops (the protocol's, keys as text) with the keys the client sent in req's "txn" put back. */
static json_t *keys_as_sent(const json_t *ops, const json_t *req)
{
    json_t *out = json_deep_copy(ops);
    const json_t *sent = json_object_get(req, "txn");
    size_t i;
    json_t *op;
    json_array_foreach(out, i, op) {
        const json_t *k = json_array_get(json_array_get(sent, i), 1);
        if (json_is_integer(k) && json_is_array(op))
            json_array_set(op, 1, (json_t *)k);
    }
    return out;
}

static int ops_valid(const json_t *ops, char *err, size_t errlen)
{
    if (!json_is_array(ops) || !json_array_size(ops) || json_array_size(ops) > MAXOPS) {
        snprintf(err, errlen, "a transaction is an array of 1 to %d operations", MAXOPS);
        return 0;
    }
    size_t i;
    const json_t *op;
    json_array_foreach(ops, i, op) {
        char e2[160];
        if (!op_valid(op, e2, sizeof e2)) {
            snprintf(err, errlen, "operation %zu: %s", i + 1, e2);
            return 0;
        }
    }
    return 1;
}

/* A balance as a number: a JSON integer or a string of digits. */
static int as_int(const json_t *v, long long *out)
{
    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return 1;
    }
    int64_t x;
    if (json_is_string(v) && parse_i64(json_string_value(v), &x) == 0) {
        *out = x;
        return 1;
    }
    return 0;
}

static json_t *num_text(long long x)
{
    char b[32];
    snprintf(b, sizeof b, "%lld", x);
    return json_string(b);
}

/* Runs ops ([[i, op]…]) over data plus writes: fills writes and reads. 0, or -1 with why. */
static int ops_run(const json_t *data, const json_t *ops, json_t *writes, json_t *reads, int force, char *why,
                   size_t wl)
{
    size_t i;
    const json_t *io;
    json_array_foreach(ops, i, io) {
        const json_t *op = json_array_get(io, 1);
        const char *f = json_string_value(json_array_get(op, 0));
        const char *k = json_string_value(json_array_get(op, 1));
        const json_t *arg = json_array_get(op, 2);
        const json_t *cur = json_object_get(writes, k);
        if (!cur)
            cur = json_object_get(data, k);
        if (!strcmp(f, "r")) {
            json_array_append_new(reads, json_pack("[O,O]", json_array_get(io, 0), cur ? (json_t *)cur : json_null()));
        } else if (!strcmp(f, "w")) {
            json_object_set_new(writes, k, json_deep_copy(arg));
        } else if (!strcmp(f, "append")) {
            json_t *l = json_is_array(cur) ? json_deep_copy(cur) : json_array();
            json_array_append_new(l, json_deep_copy(arg));
            json_object_set_new(writes, k, l);
        } else {
            long long b = 0, d = json_integer_value(arg);
            if (!cur) {
                snprintf(why, wl, "no account %s", k);
                return -1;
            }
            if (!as_int(cur, &b)) {
                snprintf(why, wl, "%s holds no number", k);
                return -1;
            }
            if (b + d < 0 && !force) {
                snprintf(why, wl, "%s would go negative (%lld %+lld)", k, b, d);
                return -1;
            }
            json_object_set_new(writes, k, num_text(b + d));
        }
    }
    return 0;
}

/* ---- durable records ------------------------------------------------------------------------ */

static void log_rec(struct txnst *st, const char *log, json_t *rec, int sync)
{
    char *s = json_dumps(rec, JSON_COMPACT);
    st->e->ops->log_append(st->e, log, s, strlen(s));
    if (sync) {
        st->e->ops->log_sync(st->e, log);
        st->fsyncs++;
    }
    free(s);
    json_decref(rec);
}

/* ---- the coordinator ------------------------------------------------------------------------ */

static struct ctx *ctx_find(struct txnst *st, const char *id)
{
    for (int i = 0; i < MAXTX; i++)
        if (st->ctx[i] && !strcmp(st->ctx[i]->id, id))
            return st->ctx[i];
    return NULL;
}

static struct ctx *ctx_by_num(struct txnst *st, uint64_t num)
{
    for (int i = 0; i < MAXTX; i++)
        if (st->ctx[i] && st->ctx[i]->num == num)
            return st->ctx[i];
    return NULL;
}

static void ctx_free(struct txnst *st, struct ctx *c)
{
    for (int i = 0; i < MAXTX; i++)
        if (st->ctx[i] == c)
            st->ctx[i] = NULL;
    env_timer_cancel(st->e, c->timer);
    env_timer_cancel(st->e, c->prep_timer);
    json_decref(c->ops);
    json_decref(c->req);
    json_decref(c->undo);
    free(c->undone);
    free(c);
}

static int slot_of(struct txnst *st, const struct ctx *c, const char *src)
{
    int idx = env_node_index(st->e, src);
    for (int i = 0; i < c->np; i++)
        if (c->part[i] == idx)
            return i;
    return -1;
}

/* The status line of one transaction: "t3 voting n2=yes n3=?". */
static void ctx_text(struct txnst *st, const struct ctx *c, struct sb *b)
{
    static const char *const names[] = {"voting", "precommit", "deciding"};
    if (c->undo) {
        sb_printf(b, "%s saga %s step %d/%zu", c->id, c->compensating ? "compensating" : "at", c->step + 1,
                  json_array_size(c->ops));
        return;
    }
    sb_printf(b, "%s %s", c->id, c->state == C_DECIDED ? (c->commit ? "commit" : "abort") : names[c->state]);
    for (int i = 0; i < c->np; i++) {
        const char *v = c->state == C_DECIDED ? (c->acked[i] ? "ack" : "?")
                        : c->vote[i] > 0 ? "yes" : c->vote[i] < 0 ? "no" : "?";
        sb_printf(b, " %s=%s", st->e->nodes[c->part[i]], v);
    }
}

static json_t *prepare_body(struct txnst *st, const struct ctx *c, int slot)
{
    json_t *mine = json_array(), *parts = json_array();
    size_t i;
    const json_t *op;
    json_array_foreach(c->ops, i, op)
        if (txn_shard(st->n, json_string_value(json_array_get(op, 1))) == c->part[slot])
            json_array_append_new(mine, json_pack("[I,O]", (json_int_t)i, op));
    for (int p = 0; p < c->np; p++)
        json_array_append_new(parts, json_string(st->e->nodes[c->part[p]]));
    return json_pack("{s:s,s:s,s:o,s:o,s:s}", "type", "prepare", "txn", c->id, "ops", mine, "parts", parts,
                     "protocol", st->proto == P_3PC ? "3pc" : "2pc");
}

static void send_all(struct txnst *st, struct ctx *c, const char *type, int only_unacked)
{
    for (int i = 0; i < c->np; i++) {
        if (only_unacked && c->acked[i])
            continue;
        json_t *b = json_pack("{s:s,s:s}", "type", type, "txn", c->id);
        if (!strcmp(type, "decide"))
            json_object_set_new(b, "outcome", json_string(c->commit ? "commit" : "abort"));
        send_node(st, st->e->nodes[c->part[i]], b);
    }
}

/* The end: every participant acknowledged the decision. The client is answered now, when
 * every shard has applied it, and the coordinator forgets the transaction. */
static void ctx_finish(struct txnst *st, struct ctx *c)
{
    log_rec(st, "txn.coord", json_pack("{s:s,s:s}", "r", "end", "txn", c->id), 0);
    if (c->commit)
        st->committed++;
    else
        st->aborted++;
    if (c->recovered && --st->recovering == 0 && !st->halted)
        set_role(st, "coordinator");
    uint64_t ms = (env_now_us(st->e) - c->t0) / 1000;
    env_event(st->e, "txn_end", json_pack("{s:s,s:s,s:I,s:O,s:s}", "txn", c->id, "outcome",
                                          c->commit ? "commit" : c->undo ? "compensated" : "abort", "ms",
                                          (json_int_t)ms, "ops", c->ops, "why", c->why));
    if (c->req) {
        const char *type = json_string_value(json_object_get(c->req, "type"));
        if (!c->commit) {
            char t[240];
            snprintf(t, sizeof t, "%s %s: %s", c->id, c->undo ? "compensated" : "aborted",
                     c->why[0] ? c->why : "a participant voted no");
            env_reply_error(st->e, c->client, c->req, ERR_TXN_CONFLICT, t, NULL);
        } else if (!strcmp(type, "read")) {
            const json_t *v = json_array_get(json_array_get(c->ops, 0), 2);
            if (json_is_null(v))
                env_reply_error(st->e, c->client, c->req, ERR_KEY_DOES_NOT_EXIST, "no such key", NULL);
            else
                env_reply(st->e, c->client, c->req, json_pack("{s:s,s:O}", "type", "read_ok", "value", v));
        } else if (!strcmp(type, "write")) {
            env_reply(st->e, c->client, c->req, json_pack("{s:s}", "type", "write_ok"));
        } else if (!strcmp(type, "transfer")) {
            env_reply(st->e, c->client, c->req, json_pack("{s:s,s:s}", "type", "transfer_ok", "txn", c->id));
        } else {
            env_reply(st->e, c->client, c->req, json_pack("{s:s,s:o,s:s}", "type", "txn_ok", "txn",
                                                          keys_as_sent(c->ops, c->req), "id", c->id));
        }
    }
    ctx_free(st, c);
}

/* The decision: logged and fsynced (unless bug=no-decision-log), then sent. */
static void decide(struct txnst *st, struct ctx *c, int commit, const char *why)
{
    c->state = C_DECIDED;
    c->commit = commit;
    if (why && !c->why[0])
        str_copy(c->why, why, sizeof c->why);
    env_timer_cancel(st->e, c->timer);
    env_timer_cancel(st->e, c->prep_timer);
    c->timer = c->prep_timer = 0;
    int logged = !(st->bugs & BUG_NO_DECISION_LOG);
    if (logged)
        log_rec(st, "txn.coord", json_pack("{s:s,s:s,s:s}", "r", "decision", "txn", c->id, "outcome",
                                           commit ? "commit" : "abort"), 1);
    json_object_set_new(st->decided, c->id, json_string(commit ? "commit" : "abort"));
    env_event(st->e, "decision", json_pack("{s:s,s:s,s:b,s:s}", "txn", c->id, "outcome", commit ? "commit" : "abort",
                                           "logged", logged, "why", c->why));
    if (crash_point(st, "decision", c->id))
        return;
    for (int i = 0; i < c->np; i++) {
        send_node(st, st->e->nodes[c->part[i]], json_pack("{s:s,s:s,s:s}", "type", "decide", "txn", c->id,
                                                            "outcome", commit ? "commit" : "abort"));
        if (i == 0 && c->np > 1 && crash_point(st, "send", c->id))
            return;
    }
    c->timer = env_timer_set(st->e, st->timeout_us, TM_ACK, c->num);
}

static void all_voted_yes(struct txnst *st, struct ctx *c)
{
    if (crash_point(st, "prepare", c->id))
        return;
    if (st->proto == P_2PC) {
        decide(st, c, 1, NULL);
        return;
    }
    /* 3pc: the pre-commit round; the decision to commit is made once everyone acknowledged */
    c->state = C_PRECOMMIT;
    memset(c->acked, 0, sizeof c->acked);
    env_timer_cancel(st->e, c->timer);
    log_rec(st, "txn.coord", json_pack("{s:s,s:s}", "r", "precommit", "txn", c->id), 1);
    env_event(st->e, "txn_phase", json_pack("{s:s,s:s}", "txn", c->id, "phase", "precommit"));
    for (int i = 0; i < c->np; i++) {
        send_node(st, st->e->nodes[c->part[i]], json_pack("{s:s,s:s}", "type", "precommit", "txn", c->id));
        if (i == 0 && crash_point(st, "precommit", c->id))
            return;
    }
    c->timer = env_timer_set(st->e, st->timeout_us, TM_PRE, c->num);
}

/* ---- sagas (protocol=saga) -------------------------------------------------------------------- *
 *
 * The orchestrator (n1) runs a transaction's operations as steps, one at a time, each a local
 * transaction on its shard, applied at once: no locks, no isolation (T10). When a step fails
 * (a balance would go negative) it runs the compensations of the steps done so far, in
 * reverse order (T8): add k d is undone by add k -d, a write by writing back the value before.
 * A compensation cannot fail (it may overdraw: the money is owed back). The saga log
 * ("saga", "done" with the compensation, "fail", "comp", "end" records, each fsynced) lets a
 * restarted orchestrator resume forward or go on compensating (T9). Steps and compensations are
 * retried until answered, and each participant remembers the answer to every (saga, step)
 * it applied, durably, so a retry is applied once (bug=no-idempotency applies it again).
 */

static void saga_init(struct ctx *c)
{
    size_t n = json_array_size(c->ops);
    c->undo = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(c->undo, json_null());
    c->undone = xcalloc(n ? n : 1, sizeof *c->undone);
    c->failed_at = -1;
}

/* The next step to compensate: the last done one not yet undone (the first, with the bug). */
static int saga_next_comp(struct txnst *st, const struct ctx *c)
{
    int best = -1;
    for (int i = 0; i < c->failed_at; i++) {
        if (json_is_null(json_array_get(c->undo, (size_t)i)) || c->undone[i])
            continue;
        if (st->bugs & BUG_FORWARD_COMPENSATION)
            return i;
        best = i;
    }
    return best;
}

static void saga_send(struct txnst *st, struct ctx *c)
{
    const json_t *op = json_array_get(c->compensating ? c->undo : c->ops, (size_t)c->step);
    int node = txn_shard(st->n, json_string_value(json_array_get(op, 1)));
    send_node(st, st->e->nodes[node], json_pack("{s:s,s:s,s:i,s:O,s:b}", "type", "step", "saga", c->id, "step", c->step,
                                                  "op", op, "compensate", c->compensating));
    env_timer_cancel(st->e, c->timer);
    c->timer = env_timer_set(st->e, st->timeout_us, TM_STEP, c->num);
}

static void saga_next(struct txnst *st, struct ctx *c)
{
    if (!c->compensating && c->step >= (int)json_array_size(c->ops)) {
        c->state = C_DECIDED;
        c->commit = 1;
        ctx_finish(st, c);
        return;
    }
    if (c->compensating) {
        c->step = saga_next_comp(st, c);
        if (c->step < 0) {
            c->state = C_DECIDED;
            c->commit = 0;
            ctx_finish(st, c);
            return;
        }
    }
    saga_send(st, c);
}

/* The compensation of a done step, from the value the key held before it. */
static json_t *saga_undo(const json_t *op, const json_t *before)
{
    const char *f = json_string_value(json_array_get(op, 0));
    const char *k = json_string_value(json_array_get(op, 1));
    if (!strcmp(f, "r"))
        return json_null();
    if (!strcmp(f, "add"))
        return json_pack("[s,s,I]", "add", k, -json_integer_value(json_array_get(op, 2)));
    return json_pack("[s,s,O]", "w", k, before ? (json_t *)before : json_null());
}

static void on_step_ok(void *vst, const char *src, const json_t *body)
{
    struct txnst *st = vst;
    (void)src;
    const char *saga = json_string_value(json_object_get(body, "saga"));
    const json_t *jstep = json_object_get(body, "step");
    int comp = json_is_true(json_object_get(body, "compensate"));
    struct ctx *c = st->halted || !st->coord || !saga ? NULL : ctx_find(st, saga);
    if (!c || !c->undo || c->state == C_DECIDED || !json_is_integer(jstep) ||
        json_integer_value(jstep) != c->step || comp != c->compensating)
        return;
    int i = c->step;
    /* crash point "step": step 1 was applied and answered, the orchestrator dies before it
     * logs it — so after a restart it sends step 1 again */
    if (!comp && i == 0 && crash_point(st, "step", c->id))
        return;
    const json_t *op = json_array_get(comp ? c->undo : c->ops, (size_t)i);
    if (comp) {
        c->undone[i] = 1;
        log_rec(st, "txn.coord", json_pack("{s:s,s:s,s:i}", "r", "comp", "txn", c->id, "step", i), 1);
        env_event(st->e, "compensate", json_pack("{s:s,s:i,s:O}", "saga", c->id, "step", i + 1, "op", op));
        saga_next(st, c);
        return;
    }
    if (!json_is_true(json_object_get(body, "ok"))) {
        const char *why = json_string_value(json_object_get(body, "why"));
        snprintf(c->why, sizeof c->why, "step %d failed: %s", i + 1, why ? why : "?");
        log_rec(st, "txn.coord", json_pack("{s:s,s:s,s:i,s:s}", "r", "fail", "txn", c->id, "step", i, "why", c->why), 1);
        env_event(st->e, "saga_step", json_pack("{s:s,s:i,s:O,s:s,s:s}", "saga", c->id, "step", i + 1, "op", op,
                                                "outcome", "failed", "why", why ? why : "?"));
        c->compensating = 1;
        c->failed_at = i;
        saga_next(st, c);
        return;
    }
    json_t *undo = saga_undo(op, json_object_get(body, "before"));
    json_array_set(c->undo, (size_t)i, undo);
    if (!strcmp(json_string_value(json_array_get(op, 0)), "r") && json_object_get(body, "value"))
        json_array_set(json_array_get(c->ops, (size_t)i), 2, json_object_get(body, "value"));
    log_rec(st, "txn.coord", json_pack("{s:s,s:s,s:i,s:O}", "r", "done", "txn", c->id, "step", i, "undo", undo), 1);
    json_decref(undo);
    env_event(st->e, "saga_step", json_pack("{s:s,s:i,s:O,s:s}", "saga", c->id, "step", i + 1, "op", op, "outcome", "done"));
    c->step++;
    saga_next(st, c);
}

/* A participant applies one step or compensation, once per (saga, step, kind). */
static void on_step(void *vst, const char *src, const json_t *body)
{
    struct txnst *st = vst;
    const char *saga = json_string_value(json_object_get(body, "saga"));
    const json_t *jstep = json_object_get(body, "step"), *op = json_object_get(body, "op");
    int comp = json_is_true(json_object_get(body, "compensate"));
    char err[160];
    if (st->halted || st->coord || !saga || strlen(saga) >= 24 || !json_is_integer(jstep) ||
        json_integer_value(jstep) < 0 || json_integer_value(jstep) >= MAXOPS || !json_is_array(op))
        return;
    const char *f = json_string_value(json_array_get(op, 0));
    const char *k = json_string_value(json_array_get(op, 1));
    int undo_write = comp && f && k && !strcmp(f, "w") && json_array_size(op) == 3 && *k && strlen(k) < KEYLEN;
    if ((!undo_write && !op_valid(op, err, sizeof err)) || txn_shard(st->n, k) != st->e->self_idx)
        return;
    int step = (int)json_integer_value(jstep);
    char key[48];
    snprintf(key, sizeof key, "%s/%d%s", saga, step, comp ? "c" : "");
    const json_t *done = json_object_get(st->applied, key);
    if (done && !(st->bugs & BUG_NO_IDEMPOTENCY)) {
        env_event(st->e, "step_applied", json_pack("{s:s,s:i,s:b,s:b}", "saga", saga, "step", step + 1, "compensate", comp,
                                                   "duplicate", 1));
        send_node(st, src, json_deep_copy(done));
        return;
    }
    json_t *writes = json_object(), *reads = json_array();
    json_t *ops = json_pack("[[i,O]]", step, op);
    char why[160] = "";
    int ok = ops_run(st->data, ops, writes, reads, comp, why, sizeof why) == 0;
    const json_t *before = json_object_get(st->data, k);
    json_t *reply = json_pack("{s:s,s:s,s:i,s:b,s:b,s:O}", "type", "step_ok", "saga", saga, "step", step, "compensate", comp,
                              "ok", ok, "before", before ? (json_t *)before : json_null());
    if (!ok)
        json_object_set_new(reply, "why", json_string(why));
    if (json_array_size(reads))
        json_object_set(reply, "value", json_array_get(json_array_get(reads, 0), 1));
    if (ok) {
        const char *wk;
        json_t *v;
        json_object_foreach(writes, wk, v) {
            if (json_is_null(v))
                json_object_del(st->data, wk);
            else
                json_object_set(st->data, wk, v);
        }
    }
    log_rec(st, "txn.part", json_pack("{s:s,s:s,s:o,s:O}", "r", "sstep", "key", key, "writes",
                                      ok ? json_incref(writes) : json_object(), "reply", reply), 1);
    env_event(st->e, "step_applied", json_pack("{s:s,s:i,s:b,s:b,s:b}", "saga", saga, "step", step + 1, "compensate", comp,
                                               "ok", ok, "duplicate", done != NULL));
    json_object_set(st->applied, key, reply);
    send_node(st, src, reply);
    json_decref(writes);
    json_decref(reads);
    json_decref(ops);
}

/* Starts a transaction; client/req NULL for one started by a command. Returns it or NULL with
 * err (too many in flight). */
static struct ctx *txn_begin(struct txnst *st, json_t *ops, const char *client, const json_t *req, char *err,
                             size_t errlen)
{
    int slot = -1;
    for (int i = 0; i < MAXTX && slot < 0; i++)
        if (!st->ctx[i])
            slot = i;
    if (slot < 0) {
        snprintf(err, errlen, "%d transactions in flight already: try again", MAXTX);
        return NULL;
    }
    if (st->next_id >= st->id_limit) {
        /* reserve the next block of ids durably, so a restart never reuses one */
        st->id_limit = st->next_id + 1000;
        char b[32];
        int n = snprintf(b, sizeof b, "%llu", (unsigned long long)st->id_limit);
        st->e->ops->blob_put(st->e, "txn.ids", b, (size_t)n);
    }
    struct ctx *c = xcalloc(1, sizeof *c);
    c->num = st->next_id++;
    snprintf(c->id, sizeof c->id, "t%llu", (unsigned long long)c->num);
    c->ops = json_deep_copy(ops);
    c->t0 = env_now_us(st->e);
    if (client) {
        str_copy(c->client, client, sizeof c->client);
        c->req = json_deep_copy(req);
    }
    size_t i;
    const json_t *op;
    json_array_foreach(c->ops, i, op) {
        int p = txn_shard(st->n, json_string_value(json_array_get(op, 1)));
        int seen = 0;
        for (int k = 0; k < c->np; k++)
            seen |= c->part[k] == p;
        if (!seen)
            c->part[c->np++] = p;
    }
    st->ctx[slot] = c;
    json_t *parts = json_array();
    for (int k = 0; k < c->np; k++)
        json_array_append_new(parts, json_string(st->e->nodes[c->part[k]]));
    env_event(st->e, "txn_begin", json_pack("{s:s,s:s,s:O,s:O}", "txn", c->id, "protocol",
                                            st->proto == P_3PC ? "3pc" : st->proto == P_SAGA ? "saga" : "2pc", "parts",
                                            parts, "ops", c->ops));
    if (st->proto == P_SAGA) {
        json_decref(parts);
        /* the saga log: durable before the first step, so a restart resumes or compensates */
        log_rec(st, "txn.coord", json_pack("{s:s,s:s,s:O}", "r", "saga", "txn", c->id, "ops", c->ops), 1);
        saga_init(c);
        saga_next(st, c);
        return c;
    }
    log_rec(st, "txn.coord", json_pack("{s:s,s:s,s:o}", "r", "begin", "txn", c->id, "parts", parts), 0);
    for (int k = 0; k < c->np; k++)
        send_node(st, st->e->nodes[c->part[k]], prepare_body(st, c, k));
    c->timer = env_timer_set(st->e, 3 * st->timeout_us + st->lock_timeout_us, TM_VOTE, c->num);
    c->prep_timer = env_timer_set(st->e, st->timeout_us, TM_PREP, c->num);
    return c;
}

struct vote_msg {
    const char *txn, *vote;
    const json_t *reads;
    const char *why;
};
static const struct msg_field vote_fields[] = {
    MSG_STR(struct vote_msg, txn), MSG_STR(struct vote_msg, vote), MSG_ARRAY_OPT(struct vote_msg, reads, MAXOPS),
    MSG_STR_OPT(struct vote_msg, why), MSG_END};

static void on_vote(void *vst, const char *src, const json_t *body)
{
    struct txnst *st = vst;
    struct vote_msg m = {0};
    char err[200];
    if (st->halted || !st->coord || msg_get(body, NULL, vote_fields, &m, err, sizeof err) < 0)
        return;
    struct ctx *c = ctx_find(st, m.txn);
    int s = c ? slot_of(st, c, src) : -1;
    if (!c || s < 0 || c->state != C_VOTING || c->vote[s])
        return;
    int yes = !strcmp(m.vote, "yes");
    c->vote[s] = yes ? 1 : -1;
    size_t i;
    const json_t *r;
    json_array_foreach(m.reads, i, r) {
        const json_t *ix = json_array_get(r, 0);
        if (json_is_integer(ix) && json_integer_value(ix) >= 0 &&
            (size_t)json_integer_value(ix) < json_array_size(c->ops) && json_array_get(r, 1))
            json_array_set(json_array_get(c->ops, (size_t)json_integer_value(ix)), 2, json_array_get(r, 1));
    }
    env_event(st->e, "txn_vote", json_pack("{s:s,s:s,s:s,s:s}", "txn", c->id, "from", src, "vote", yes ? "yes" : "no",
                                           "why", m.why ? m.why : ""));
    if (!yes) {
        char w[160];
        snprintf(w, sizeof w, "%s voted no: %s", src, m.why ? m.why : "");
        decide(st, c, 0, w);
        return;
    }
    for (int k = 0; k < c->np; k++)
        if (c->vote[k] <= 0)
            return;
    all_voted_yes(st, c);
}

static void on_ack(void *vst, const char *src, const json_t *body)
{
    struct txnst *st = vst;
    const char *txn = json_string_value(json_object_get(body, "txn"));
    const char *type = json_string_value(json_object_get(body, "type"));
    struct ctx *c = st->halted || !st->coord || !txn ? NULL : ctx_find(st, txn);
    int s = c ? slot_of(st, c, src) : -1;
    if (s < 0)
        return;
    if (!strcmp(type, "ack_pre")) {
        if (c->state != C_PRECOMMIT)
            return;
        c->acked[s] = 1;
        for (int k = 0; k < c->np; k++)
            if (!c->acked[k])
                return;
        memset(c->acked, 0, sizeof c->acked);
        decide(st, c, 1, NULL);
        return;
    }
    if (c->state != C_DECIDED)
        return;
    c->acked[s] = 1;
    for (int k = 0; k < c->np; k++)
        if (!c->acked[k])
            return;
    ctx_finish(st, c);
}

/* A participant asks for an outcome. Decided: the decision. In flight: unknown. Anything else
 * was never decided and never will be (it is not in flight): presumed abort. */
static void coord_query(struct txnst *st, const char *src, const char *txn)
{
    struct ctx *c = ctx_find(st, txn);
    const char *o = json_string_value(json_object_get(st->decided, txn));
    if (c && c->state == C_DECIDED)
        o = c->commit ? "commit" : "abort";
    else if (c)
        o = "unknown";
    else if (!o)
        o = "abort";
    send_node(st, src, json_pack("{s:s,s:s,s:s}", "type", "outcome", "txn", txn, "outcome", o));
}

/* ---- the participant: locks ------------------------------------------------------------------ */

static struct ptx *ptx_find(struct txnst *st, const char *id)
{
    for (int i = 0; i < MAXTX; i++)
        if (st->ptx[i] && !strcmp(st->ptx[i]->id, id))
            return st->ptx[i];
    return NULL;
}

static int ptx_num(struct txnst *st, const struct ptx *p)
{
    for (int i = 0; i < MAXTX; i++)
        if (st->ptx[i] == p)
            return i;
    return -1;
}

static void update_role(struct txnst *st)
{
    if (st->coord || st->halted)
        return;
    int prepared = 0, blocked = 0;
    for (int i = 0; i < MAXTX; i++) {
        if (st->ptx[i] && st->ptx[i]->state != X_LOCKING)
            prepared = 1;
        if (st->ptx[i] && st->ptx[i]->blocked)
            blocked = 1;
    }
    set_role(st, blocked ? "blocked" : prepared ? "prepared" : "participant");
}

static void ptx_free(struct txnst *st, struct ptx *p)
{
    /* release its locks */
    for (int i = 0; i < p->nlocked; i++) {
        const char *h = json_string_value(json_object_get(st->locks, p->keys[i]));
        if (h && !strcmp(h, p->id))
            json_object_del(st->locks, p->keys[i]);
    }
    int me = ptx_num(st, p);
    if (me >= 0)
        st->ptx[me] = NULL;
    env_timer_cancel(st->e, p->lock_timer);
    env_timer_cancel(st->e, p->doubt_timer);
    json_decref(p->ops);
    json_decref(p->parts);
    json_decref(p->writes);
    json_decref(p->reads);
    free(p);
}

static void try_locks(struct txnst *st, struct ptx *p);

/* Locks were released: the waiters try again, oldest first. */
static void wake_waiters(struct txnst *st)
{
    for (int i = 0; i < MAXTX; i++)
        if (st->ptx[i] && st->ptx[i]->state == X_LOCKING)
            try_locks(st, st->ptx[i]);
}

static void vote(struct txnst *st, struct ptx *p, int yes, const char *why)
{
    json_t *b = json_pack("{s:s,s:s,s:s}", "type", "vote", "txn", p->id, "vote", yes ? "yes" : "no");
    if (yes)
        json_object_set(b, "reads", p->reads);
    if (why)
        json_object_set_new(b, "why", json_string(why));
    send_node(st, p->coord, b);
}

/* The local end of a transaction here: applied (commit) or undone (abort), locks released. */
static void finish_local(struct txnst *st, struct ptx *p, int commit, const char *by)
{
    if (commit) {
        const char *k;
        json_t *v;
        json_object_foreach(p->writes, k, v)
            json_object_set(st->data, k, v);
        log_rec(st, "txn.part", json_pack("{s:s,s:s,s:O}", "r", "commit", "txn", p->id, "writes", p->writes), 1);
        st->committed++;
    } else {
        log_rec(st, "txn.part", json_pack("{s:s,s:s}", "r", "abort", "txn", p->id), 0);
        st->aborted++;
    }
    json_object_set_new(st->outcomes, p->id, json_string(commit ? "commit" : "abort"));
    env_event(st->e, "txn_state", json_pack("{s:s,s:s,s:s,s:s}", "txn", p->id, "state", commit ? "committed" : "aborted",
                                            "by", by, "protocol", p->proto == P_3PC ? "3pc" : "2pc"));
    ptx_free(st, p);
    update_role(st);
    wake_waiters(st);
}

/* Every lock held: run the operations, log PREPARED, vote. */
static void prepare_locked(struct txnst *st, struct ptx *p)
{
    env_timer_cancel(st->e, p->lock_timer);
    p->lock_timer = 0;
    if (p->waiting || p->wait_t0)
        env_event(st->e, "lock_grant", json_pack("{s:s,s:I}", "txn", p->id, "waited_ms",
                                                 (json_int_t)((env_now_us(st->e) - p->wait_t0) / 1000)));
    char why[160];
    if (ops_run(st->data, p->ops, p->writes, p->reads, 0, why, sizeof why) < 0) {
        vote(st, p, 0, why);
        finish_local(st, p, 0, "vote-no");
        return;
    }
    json_t *keys = json_array();
    for (int i = 0; i < p->nkeys; i++)
        json_array_append_new(keys, json_string(p->keys[i]));
    if (!(st->bugs & BUG_NO_PREPARE_LOG))
        log_rec(st, "txn.part", json_pack("{s:s,s:s,s:s,s:O,s:O,s:o,s:i}", "r", "prepared", "txn", p->id, "coord", p->coord,
                                          "parts", p->parts, "writes", p->writes, "keys", keys, "proto", p->proto), 1);
    else
        json_decref(keys);
    p->state = X_UNCERTAIN;
    env_event(st->e, "txn_state", json_pack("{s:s,s:s,s:s,s:s}", "txn", p->id, "state", "prepared", "by", "vote-yes",
                                            "protocol", p->proto == P_3PC ? "3pc" : "2pc"));
    vote(st, p, 1, NULL);
    update_role(st);
    if (crash_point(st, "vote", p->id))
        return;
    p->doubt_timer = env_timer_set(st->e, st->timeout_us, TM_DOUBT, (uint64_t)ptx_num(st, p));
}

static void try_locks(struct txnst *st, struct ptx *p)
{
    while (p->nlocked < p->nkeys) {
        const char *k = p->keys[p->nlocked];
        const char *h = json_string_value(json_object_get(st->locks, k));
        if (h && strcmp(h, p->id)) {
            if (!p->waiting) {
                /* a lock wait is never invisible: the event, and the `waits` figure */
                p->waiting = 1;
                if (!p->wait_t0)
                    p->wait_t0 = env_now_us(st->e);
                st->lock_waits++;
                struct ptx *holder = ptx_find(st, h);
                env_event(st->e, "lock_wait", json_pack("{s:s,s:s,s:s,s:s}", "txn", p->id, "key", k, "holder", h,
                                                        "holder_state", !holder ? "?" : holder->state == X_LOCKING
                                                        ? "locking" : holder->blocked ? "blocked (in doubt)"
                                                        : "prepared"));
                if (!p->lock_timer)
                    p->lock_timer = env_timer_set(st->e, st->lock_timeout_us, TM_LOCK, (uint64_t)ptx_num(st, p));
            }
            return;
        }
        json_object_set_new(st->locks, k, json_string(p->id));
        p->nlocked++;
        p->waiting = 0;
    }
    prepare_locked(st, p);
}

static int key_cmp(const void *a, const void *b) { return strcmp(a, b); }

static void on_prepare(void *vst, const char *src, const json_t *body)
{
    struct txnst *st = vst;
    const char *txn = json_string_value(json_object_get(body, "txn"));
    const json_t *ops = json_object_get(body, "ops"), *parts = json_object_get(body, "parts");
    const char *proto = json_string_value(json_object_get(body, "protocol"));
    if (st->halted || st->coord || !txn || strlen(txn) >= 24 || !json_is_array(ops) || !json_is_array(parts) ||
        json_array_size(ops) > MAXOPS || json_array_size(parts) > CL_MAXN)
        return;
    size_t i;
    const json_t *io;
    json_array_foreach(ops, i, io) {
        char err[160];
        if (!json_is_integer(json_array_get(io, 0)) || !op_valid(json_array_get(io, 1), err, sizeof err) ||
            txn_shard(st->n, json_string_value(json_array_get(json_array_get(io, 1), 1))) != st->e->self_idx)
            return;
    }
    const char *known = json_string_value(json_object_get(st->outcomes, txn));
    if (known) {
        /* decided already (aborted by cooperative termination before it arrived) */
        if (!strcmp(known, "abort"))
            send_node(st, src, json_pack("{s:s,s:s,s:s,s:s}", "type", "vote", "txn", txn, "vote", "no", "why",
                                           "aborted here before the prepare arrived"));
        return;
    }
    struct ptx *p = ptx_find(st, txn);
    if (p) {
        if (p->state != X_LOCKING)
            vote(st, p, 1, NULL); /* a resent prepare: the same vote */
        return;
    }
    int slot = -1;
    for (int k = 0; k < MAXTX && slot < 0; k++)
        if (!st->ptx[k])
            slot = k;
    if (slot < 0) {
        send_node(st, src, json_pack("{s:s,s:s,s:s,s:s}", "type", "vote", "txn", txn, "vote", "no", "why", "too busy"));
        return;
    }
    p = xcalloc(1, sizeof *p);
    str_copy(p->id, txn, sizeof p->id);
    str_copy(p->coord, src, sizeof p->coord);
    p->proto = proto && !strcmp(proto, "3pc") ? P_3PC : P_2PC;
    p->ops = json_deep_copy(ops);
    p->parts = json_deep_copy(parts);
    p->writes = json_object();
    p->reads = json_array();
    json_array_foreach(ops, i, io) {
        const char *k = json_string_value(json_array_get(json_array_get(io, 1), 1));
        int dup = 0;
        for (int j = 0; j < p->nkeys; j++)
            dup |= !strcmp(p->keys[j], k);
        if (!dup)
            str_copy(p->keys[p->nkeys++], k, KEYLEN);
    }
    qsort(p->keys, (size_t)p->nkeys, KEYLEN, key_cmp); /* one order: no deadlock inside a node */
    st->ptx[slot] = p;
    try_locks(st, p);
}

/* ---- the participant: decisions and termination --------------------------------------------- */

static void on_decide(void *vst, const char *src, const json_t *body)
{
    struct txnst *st = vst;
    const char *txn = json_string_value(json_object_get(body, "txn"));
    const char *o = json_string_value(json_object_get(body, "outcome"));
    if (st->halted || st->coord || !txn || !o || (strcmp(o, "commit") && strcmp(o, "abort")))
        return;
    struct ptx *p = ptx_find(st, txn);
    int commit = !strcmp(o, "commit");
    if (p && p->state != X_LOCKING) {
        finish_local(st, p, commit, "coordinator");
    } else if (p) {
        finish_local(st, p, 0, "coordinator"); /* an abort before it could vote */
    } else if (!json_object_get(st->outcomes, txn) && commit) {
        /* told to commit what it has no PREPARED record of: it cannot */
        json_object_set_new(st->outcomes, txn, json_string("abort"));
        env_event(st->e, "txn_state", json_pack("{s:s,s:s,s:s,s:s,s:s}", "txn", txn, "state", "aborted", "by", "forgotten",
                                                "protocol", st->proto == P_3PC ? "3pc" : "2pc", "why",
                                                "told to commit, but no PREPARED record survived the restart"));
    }
    send_node(st, src, json_pack("{s:s,s:s}", "type", "ack", "txn", txn));
}

static void on_precommit(void *vst, const char *src, const json_t *body)
{
    struct txnst *st = vst;
    const char *txn = json_string_value(json_object_get(body, "txn"));
    struct ptx *p = st->halted || st->coord || !txn ? NULL : ptx_find(st, txn);
    if (!p || p->state == X_LOCKING)
        return;
    if (p->state == X_UNCERTAIN) {
        p->state = X_PRECOMMITTED;
        log_rec(st, "txn.part", json_pack("{s:s,s:s}", "r", "precommit", "txn", p->id), 1);
        env_event(st->e, "txn_state", json_pack("{s:s,s:s,s:s,s:s}", "txn", p->id, "state", "precommitted", "by",
                                                "coordinator", "protocol", "3pc"));
        env_timer_cancel(st->e, p->doubt_timer);
        p->asked = 0;
        p->doubt_timer = env_timer_set(st->e, st->timeout_us, TM_DOUBT, (uint64_t)ptx_num(st, p));
    }
    send_node(st, src, json_pack("{s:s,s:s}", "type", "ack_pre", "txn", txn));
}

/* A participant (or the coordinator) asks what became of txn. */
static void on_query(void *vst, const char *src, const json_t *body)
{
    struct txnst *st = vst;
    const char *txn = json_string_value(json_object_get(body, "txn"));
    if (st->halted || !txn || strlen(txn) >= 24)
        return;
    if (st->coord) {
        coord_query(st, src, txn);
        return;
    }
    const char *o = json_string_value(json_object_get(st->outcomes, txn));
    struct ptx *p = ptx_find(st, txn);
    if (!o && p && p->state == X_LOCKING && p->proto == P_2PC) {
        /* it has not voted: it may still abort, and so settle the question for everyone */
        vote(st, p, 0, "aborted by cooperative termination before voting");
        finish_local(st, p, 0, "termination");
        o = "abort";
    } else if (!o && p) {
        o = p->state == X_PRECOMMITTED ? "precommitted" : "uncertain";
    } else if (!o && st->proto == P_2PC) {
        /* never heard of it: abort it here, so a late prepare gets a NO */
        json_object_set_new(st->outcomes, txn, json_string("abort"));
        log_rec(st, "txn.part", json_pack("{s:s,s:s}", "r", "abort", "txn", txn), 0);
        o = "abort";
    } else if (!o) {
        o = "uncertain";
    }
    send_node(st, src, json_pack("{s:s,s:s,s:s}", "type", "outcome", "txn", txn, "outcome", o));
}

static void on_outcome(void *vst, const char *src, const json_t *body)
{
    struct txnst *st = vst;
    const char *txn = json_string_value(json_object_get(body, "txn"));
    const char *o = json_string_value(json_object_get(body, "outcome"));
    struct ptx *p = st->halted || st->coord || !txn || !o ? NULL : ptx_find(st, txn);
    if (!p || p->state == X_LOCKING)
        return;
    int from_coord = !strcmp(src, coord_id(st));
    if (from_coord && !strcmp(o, "unknown"))
        p->coord_alive = 1;
    if (!strcmp(o, "commit") || !strcmp(o, "abort"))
        finish_local(st, p, !strcmp(o, "commit"), from_coord ? "coordinator" : "peer");
    else if (!strcmp(o, "precommitted"))
        p->saw_pre = 1;
}

static void ask_all(struct txnst *st, struct ptx *p)
{
    size_t i;
    const json_t *n;
    json_array_foreach(p->parts, i, n)
        if (json_is_string(n) && strcmp(json_string_value(n), st->e->self) &&
            env_node_index(st->e, json_string_value(n)) >= 0)
            send_node(st, json_string_value(n), json_pack("{s:s,s:s}", "type", "query", "txn", p->id));
}

/* The decision is overdue. First ask the coordinator; while it answers "unknown" (alive, still
 * collecting votes or acks) keep waiting. Once it has been silent for a whole timeout: 2pc is
 * *blocked* — it asks again, and the other participants too, and waits (with
 * bug=unilateral-abort it aborts at the first timeout); 3pc runs its termination rule: ask
 * everyone, and after one more timeout decide from what it heard. */
static void doubt_timeout(struct txnst *st, struct ptx *p)
{
    p->doubt_timer = 0;
    if (p->proto == P_2PC && (st->bugs & BUG_UNILATERAL_ABORT)) {
        finish_local(st, p, 0, "timeout");
        return;
    }
    int silent = p->asked && !p->coord_alive;
    p->asked = 1;
    p->coord_alive = 0;
    if (silent && p->proto == P_3PC && p->terminating) {
        int commit = p->state == X_PRECOMMITTED || p->saw_pre;
        finish_local(st, p, commit, "termination");
        return;
    }
    if (silent && p->proto == P_3PC)
        p->terminating = 1;
    if (silent && p->proto == P_2PC && !p->blocked) {
        p->blocked = 1;
        json_t *keys = json_array();
        for (int i = 0; i < p->nkeys; i++)
            json_array_append_new(keys, json_string(p->keys[i]));
        env_event(st->e, "blocked", json_pack("{s:s,s:o,s:s,s:s}", "txn", p->id, "locks", keys, "waiting_for", p->coord,
                                              "text", "voted yes: may neither commit nor abort until it learns the decision"));
        update_role(st);
    }
    send_node(st, p->coord, json_pack("{s:s,s:s}", "type", "query", "txn", p->id));
    if (silent)
        ask_all(st, p);
    p->doubt_timer = env_timer_set(st->e, st->timeout_us, TM_DOUBT, (uint64_t)ptx_num(st, p));
}

/* ---- client requests ------------------------------------------------------------------------ */

static json_t *words_ops(int argc, char **argv, char *err, size_t errlen);

static void start_or_refuse(struct txnst *st, const char *src, const json_t *req, json_t *ops)
{
    char err[200];
    if (!ops_valid(ops, err, sizeof err)) {
        env_reply_error(st->e, src, req, ERR_MALFORMED_REQUEST, err, NULL);
        return;
    }
    if (!txn_begin(st, ops, src, req, err, sizeof err))
        env_reply_error(st->e, src, req, ERR_TEMPORARILY_UNAVAILABLE, err, NULL);
}

static int refuse_at_participant(struct txnst *st, const char *src, const json_t *req)
{
    char t[160];
    snprintf(t, sizeof t, "transactions start at the coordinator %s", coord_id(st));
    env_reply_error(st->e, src, req, ERR_TEMPORARILY_UNAVAILABLE, t, NULL);
    return 1;
}

static void on_txn(void *vst, const char *src, const json_t *body)
{
    struct txnst *st = vst;
    if (st->halted)
        return;
    if (!st->coord) {
        refuse_at_participant(st, src, body);
        return;
    }
    const json_t *ops = json_object_get(body, "txn");
    if (!ops) {
        env_reply_error(st->e, src, body, ERR_MALFORMED_REQUEST,
                        "txn needs a \"txn\" field: [[F, KEY, VALUE], ...] or words such as \"get a put b 2\"", NULL);
        return;
    }
    json_t *copy;
    if (json_is_string(ops)) {
        /* the short form: "get alice get bob" (what `txn` the command takes) */
        char *text = xstrdup(json_string_value(ops)), *words[MAXOPS * 3], *save = NULL;
        int n = 0;
        for (char *w = strtok_r(text, " ", &save); w && n < (int)CL_ARRAY_LEN(words); w = strtok_r(NULL, " ", &save))
            words[n++] = w;
        char err[200];
        copy = words_ops(n, words, err, sizeof err);
        free(text);
        if (!copy) {
            env_reply_error(st->e, src, body, ERR_MALFORMED_REQUEST, err, NULL);
            return;
        }
    } else {
        copy = json_deep_copy(ops);
        if (json_is_array(copy))
            keys_as_text(copy);
    }
    start_or_refuse(st, src, body, copy);
    json_decref(copy);
}

static int parse_amount(const json_t *v, long long *out)
{
    return as_int(v, out) && *out > 0 && *out <= 1000000000000LL;
}

static json_t *transfer_ops(const char *from, const char *to, long long amount)
{
    return json_pack("[[s,s,I],[s,s,I]]", "add", from, (json_int_t)-amount, "add", to, (json_int_t)amount);
}

static void on_transfer(void *vst, const char *src, const json_t *body)
{
    struct txnst *st = vst;
    if (st->halted)
        return;
    if (!st->coord) {
        refuse_at_participant(st, src, body);
        return;
    }
    const char *from = json_string_value(json_object_get(body, "from"));
    const char *to = json_string_value(json_object_get(body, "to"));
    long long amount;
    if (!from || !to || !parse_amount(json_object_get(body, "amount"), &amount) || !strcmp(from, to)) {
        env_reply_error(st->e, src, body, ERR_MALFORMED_REQUEST,
                        "transfer needs \"from\" and \"to\" (two accounts) and a positive whole \"amount\"", NULL);
        return;
    }
    json_t *ops = transfer_ops(from, to, amount);
    start_or_refuse(st, src, body, ops);
    json_decref(ops);
}

static const char *lock_holder(struct txnst *st, const char *key)
{
    return json_string_value(json_object_get(st->locks, key));
}

static int refuse_locked(struct txnst *st, const char *src, const json_t *req, const char *key, const char *op)
{
    const char *h = lock_holder(st, key);
    if (!h)
        return 0;
    struct ptx *p = ptx_find(st, h);
    char t[200];
    snprintf(t, sizeof t, "%s is locked by %s (%s)", key, h,
             !p ? "?" : p->state == X_LOCKING ? "taking its locks"
             : p->blocked ? "in doubt: blocked until it learns the decision" : "prepared: waiting for the decision");
    env_event(st->e, "lock_refused", json_pack("{s:s,s:s,s:s,s:s}", "key", key, "holder", h, "op", op, "client", src));
    env_reply_error(st->e, src, req, ERR_TEMPORARILY_UNAVAILABLE, t, NULL);
    return 1;
}

static int refuse_not_mine(struct txnst *st, const char *src, const json_t *req, const char *key)
{
    int s = txn_shard(st->n, key);
    if (s == st->e->self_idx)
        return 0;
    char t[160];
    snprintf(t, sizeof t, "%s lives on %s", key, s >= 0 ? st->e->nodes[s] : "no node");
    env_reply_error(st->e, src, req, ERR_TEMPORARILY_UNAVAILABLE, t, NULL);
    return 1;
}

/* A key in a client body: a string, or a whole number as its decimal text (into buf). */
static const char *key_arg(const json_t *v, char *buf, size_t len)
{
    if (json_is_integer(v)) {
        snprintf(buf, len, "%lld", (long long)json_integer_value(v));
        return buf;
    }
    return json_string_value(v);
}

static void on_read(void *vst, const char *src, const json_t *body)
{
    struct txnst *st = vst;
    char num[24];
    const char *key = key_arg(json_object_get(body, "key"), num, sizeof num);
    if (st->halted)
        return;
    if (!key || !*key || strlen(key) >= KEYLEN) {
        env_reply_error(st->e, src, body, ERR_MALFORMED_REQUEST,
                        "read needs a \"key\": a string of 1 to 63 characters or a whole number", NULL);
        return;
    }
    if (st->coord) {
        json_t *ops = json_pack("[[s,s,n]]", "r", key);
        start_or_refuse(st, src, body, ops);
        json_decref(ops);
        return;
    }
    if (refuse_not_mine(st, src, body, key) || refuse_locked(st, src, body, key, "read"))
        return;
    const json_t *v = json_object_get(st->data, key);
    if (!v)
        env_reply_error(st->e, src, body, ERR_KEY_DOES_NOT_EXIST, "no such key", NULL);
    else
        env_reply(st->e, src, body, json_pack("{s:s,s:O}", "type", "read_ok", "value", v));
}

static void on_write(void *vst, const char *src, const json_t *body)
{
    struct txnst *st = vst;
    char num[24];
    const char *key = key_arg(json_object_get(body, "key"), num, sizeof num);
    const json_t *v = json_object_get(body, "value");
    if (st->halted)
        return;
    if (!key || !*key || strlen(key) >= KEYLEN || !v || json_is_null(v)) {
        env_reply_error(st->e, src, body, ERR_MALFORMED_REQUEST,
                        "write needs a \"key\" (a string of 1 to 63 characters or a whole number) and a \"value\" "
                        "(any JSON but null)", NULL);
        return;
    }
    if (st->coord) {
        json_t *ops = json_pack("[[s,s,O]]", "w", key, v);
        start_or_refuse(st, src, body, ops);
        json_decref(ops);
        return;
    }
    if (refuse_not_mine(st, src, body, key) || refuse_locked(st, src, body, key, "write"))
        return;
    json_object_set(st->data, key, (json_t *)v);
    log_rec(st, "txn.part", json_pack("{s:s,s:s,s:O}", "r", "write", "key", key, "value", v), 1);
    env_reply(st->e, src, body, json_pack("{s:s}", "type", "write_ok"));
}

/* ---- timers ---------------------------------------------------------------------------------- */

static void txn_on_timer(void *vst, int kind, uint64_t arg)
{
    struct txnst *st = vst;
    if (st->halted)
        return;
    if (kind == TM_PREP) {
        /* a PREPARE or a vote may have been lost: ask those who have not voted again */
        struct ctx *c = ctx_by_num(st, arg);
        if (!c || c->state != C_VOTING)
            return;
        for (int k = 0; k < c->np; k++)
            if (!c->vote[k])
                send_node(st, st->e->nodes[c->part[k]], prepare_body(st, c, k));
        c->prep_timer = env_timer_set(st->e, st->timeout_us, TM_PREP, c->num);
        return;
    }
    if (kind == TM_VOTE || kind == TM_PRE || kind == TM_ACK || kind == TM_STEP) {
        struct ctx *c = ctx_by_num(st, arg);
        if (!c)
            return;
        c->timer = 0;
        if (kind == TM_STEP && c->undo && c->state != C_DECIDED) {
            saga_send(st, c); /* retried until answered: the participant applies it once */
        } else if (kind == TM_VOTE && c->state == C_VOTING) {
            struct sb w = {0};
            sb_add(&w, "no vote in time from");
            for (int i = 0; i < c->np; i++)
                if (!c->vote[i])
                    sb_printf(&w, " %s", st->e->nodes[c->part[i]]);
            decide(st, c, 0, w.s);
            sb_free(&w);
        } else if (kind == TM_PRE && c->state == C_PRECOMMIT) {
            /* 3pc: a participant that did not acknowledge is taken for crashed */
            memset(c->acked, 0, sizeof c->acked);
            decide(st, c, 1, NULL);
        } else if (kind == TM_ACK && c->state == C_DECIDED) {
            send_all(st, c, "decide", 1);
            c->timer = env_timer_set(st->e, st->timeout_us, TM_ACK, c->num);
        }
        return;
    }
    if (arg >= MAXTX || !st->ptx[arg])
        return;
    struct ptx *p = st->ptx[arg];
    if (kind == TM_LOCK && p->state == X_LOCKING) {
        p->lock_timer = 0;
        const char *k = p->keys[p->nlocked];
        char why[160];
        snprintf(why, sizeof why, "waited %llums for the lock on %s (held by %s)",
                 (unsigned long long)(st->lock_timeout_us / 1000), k, lock_holder(st, k) ? lock_holder(st, k) : "?");
        env_event(st->e, "lock_timeout", json_pack("{s:s,s:s,s:s}", "txn", p->id, "key", k, "holder",
                                                   lock_holder(st, k) ? lock_holder(st, k) : "?"));
        vote(st, p, 0, why);
        finish_local(st, p, 0, "lock-timeout");
    } else if (kind == TM_DOUBT && p->state != X_LOCKING) {
        doubt_timeout(st, p);
    }
}

/* ---- commands -------------------------------------------------------------------------------- */

static json_t *cmd_reply(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static json_t *cmd_reply(int ok, const char *fmt, ...)
{
    char b[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b, sizeof b, fmt, ap);
    va_end(ap);
    return json_pack("{s:b,s:s}", "ok", ok, "text", b);
}

static json_t *start_cmd(struct txnst *st, json_t *ops, const char *what)
{
    char err[200];
    if (st->halted) {
        json_decref(ops);
        return cmd_reply(0, "%s is halted at a crash point: crash and restart it", st->e->self);
    }
    if (!st->coord) {
        json_decref(ops);
        return cmd_reply(0, "transactions start at the coordinator %s (is it down?)", coord_id(st));
    }
    if (!ops_valid(ops, err, sizeof err)) {
        json_decref(ops);
        return cmd_reply(0, "%s", err);
    }
    struct ctx *c = txn_begin(st, ops, NULL, NULL, err, sizeof err);
    json_decref(ops);
    if (!c)
        return cmd_reply(0, "%s", err);
    struct sb b = {0};
    ctx_text(st, c, &b);
    json_t *r = cmd_reply(1, "%s started (%s): %s — its outcome is the txn_end event", c->id, what, b.s);
    sb_free(&b);
    return r;
}

static json_t *cmd_transfer(void *vst, int argc, char **argv)
{
    struct txnst *st = vst;
    (void)argc;
    int64_t amount;
    if (parse_i64(argv[2], &amount) < 0 || amount <= 0 || amount > 1000000000000LL)
        return cmd_reply(0, "the amount must be a positive whole number, not '%s'", argv[2]);
    if (!strcmp(argv[0], argv[1]))
        return cmd_reply(0, "a transfer needs two different accounts");
    char what[200];
    snprintf(what, sizeof what, "%s (%s) -> %s (%s) %lld", argv[0], st->e->nodes[txn_shard(st->n, argv[0])], argv[1],
             st->e->nodes[txn_shard(st->n, argv[1])], (long long)amount);
    return start_cmd(st, transfer_ops(argv[0], argv[1], amount), what);
}

/* txn put a 1 get b add c -5 append l 7 */
/* Words "get K | put K V | add K N | append K V ..." as operations; NULL with err when bad. */
static json_t *words_ops(int argc, char **argv, char *err, size_t errlen)
{
    json_t *ops = json_array();
    for (int i = 0; i < argc;) {
        const char *v = argv[i];
        int need = !strcmp(v, "get") ? 1 : (!strcmp(v, "put") || !strcmp(v, "add") || !strcmp(v, "append")) ? 2 : -1;
        int64_t d = 0;
        if (need < 0 || i + need > argc - 1) {
            snprintf(err, errlen, "word %d: expected 'get KEY', 'put KEY VALUE', 'add KEY N' or 'append KEY VALUE', got '%.40s'%s",
                     i + 1, v, need < 0 ? "" : " without all its arguments");
            json_decref(ops);
            return NULL;
        }
        if (!strcmp(v, "add") && parse_i64(argv[i + 2], &d) < 0) {
            snprintf(err, errlen, "add %.40s needs a whole number, not '%.40s'", argv[i + 1], argv[i + 2]);
            json_decref(ops);
            return NULL;
        }
        json_t *val = NULL;
        if ((!strcmp(v, "put") || !strcmp(v, "append"))) {
            /* typed as at the REPL (jtext.h): 42 the number, '"42"' the string, {"a":[1]} */
            char e2[160];
            val = jtext_parse(argv[i + 2], strlen(argv[i + 2]), e2, sizeof e2);
            if (!val) {
                snprintf(err, errlen, "%s %.40s: %s", v, argv[i + 1], e2);
                json_decref(ops);
                return NULL;
            }
        }
        if (!strcmp(v, "get"))
            json_array_append_new(ops, json_pack("[s,s,n]", "r", argv[i + 1]));
        else if (!strcmp(v, "add"))
            json_array_append_new(ops, json_pack("[s,s,I]", "add", argv[i + 1], (json_int_t)d));
        else
            json_array_append_new(ops, json_pack("[s,s,o]", !strcmp(v, "put") ? "w" : "append", argv[i + 1], val));
        i += need + 1;
    }
    return ops;
}

/* txn put a 1 get b add c -5 append l 7 */
static json_t *cmd_txn(void *vst, int argc, char **argv)
{
    char err[200];
    json_t *ops = words_ops(argc, argv, err, sizeof err);
    if (!ops)
        return cmd_reply(0, "%s", err);
    return start_cmd(vst, ops, "txn");
}

static json_t *cmd_crashpoint(void *vst, int argc, char **argv)
{
    struct txnst *st = vst;
    (void)argc;
    const char *w = argv[1];
    const char *ok = st->coord ? "prepare|decision|send|precommit|step|none" : "vote|none";
    if (!mode_listed(ok, w))
        return cmd_reply(0, "%s is %s: its crash points are %s, not '%s'", st->e->self,
                         st->coord ? "the coordinator" : "a participant", ok, w);
    str_copy(st->crashat, strcmp(w, "none") ? w : "", sizeof st->crashat);
    return cmd_reply(1, "%s will stop as if dead %s%s", st->e->self, strcmp(w, "none") ? "after " : "never (crash point removed)",
                     strcmp(w, "none") ? w : "");
}

/* ---- life cycle ------------------------------------------------------------------------------- */

static void replay_coord(void *ud, const void *data, size_t len)
{
    struct txnst *st = ud;
    json_t *r = json_loadb(data, len, 0, NULL);
    const char *t = json_string_value(json_object_get(r, "r"));
    const char *txn = json_string_value(json_object_get(r, "txn"));
    if (t && txn && strlen(txn) < 24) {
        json_t *sg = json_object_get(st->recover, txn);
        int step = (int)json_integer_value(json_object_get(r, "step"));
        if (!strcmp(t, "begin") || !strcmp(t, "saga"))
            json_object_set(st->recover, txn, r);
        else if (sg && step >= 0 && step < MAXOPS && (!strcmp(t, "done") || !strcmp(t, "comp"))) {
            /* saga progress: "undos" {step: its compensation}, "comps" {step: true} */
            const char *field = !strcmp(t, "done") ? "undos" : "comps";
            json_t *m = json_object_get(sg, field);
            if (!m) {
                m = json_object();
                json_object_set_new(sg, field, m);
            }
            char k[16];
            snprintf(k, sizeof k, "%d", step);
            json_object_set(m, k, !strcmp(t, "comp") ? json_true()
                                  : json_object_get(r, "undo") ? json_object_get(r, "undo") : json_null());
            if (!strcmp(t, "done"))
                json_object_set_new(sg, "next", json_integer(step + 1));
        } else if (sg && !strcmp(t, "fail") && step >= 0 && step < MAXOPS) {
            json_object_set_new(sg, "failed", json_integer(step));
            json_object_set(sg, "why", json_object_get(r, "why"));
        }
        else if (!strcmp(t, "decision"))
            json_object_set(st->decided, txn, json_object_get(r, "outcome"));
        else if (!strcmp(t, "end"))
            json_object_del(st->recover, txn);
        uint64_t num;
        if (txn[0] == 't' && parse_u64(txn + 1, &num) == 0 && num >= st->next_id)
            st->next_id = num + 1;
    }
    json_decref(r);
}

static void replay_part(void *ud, const void *data, size_t len)
{
    struct txnst *st = ud;
    json_t *r = json_loadb(data, len, 0, NULL);
    const char *t = json_string_value(json_object_get(r, "r"));
    const char *txn = json_string_value(json_object_get(r, "txn"));
    if (!t) {
        json_decref(r);
        return;
    }
    if (!strcmp(t, "sstep") && json_is_string(json_object_get(r, "key")) && json_is_object(json_object_get(r, "reply"))) {
        const char *k;
        json_t *v;
        json_object_foreach(json_object_get(r, "writes"), k, v) {
            if (json_is_null(v))
                json_object_del(st->data, k);
            else
                json_object_set(st->data, k, v);
        }
        json_object_set(st->applied, json_string_value(json_object_get(r, "key")), json_object_get(r, "reply"));
    } else if (!strcmp(t, "write") && json_is_string(json_object_get(r, "key")) && json_object_get(r, "value")) {
        json_object_set(st->data, json_string_value(json_object_get(r, "key")), json_object_get(r, "value"));
    } else if (txn && strlen(txn) < 24 && !strcmp(t, "prepared") && !ptx_find(st, txn)) {
        for (int k = 0; k < MAXTX; k++) {
            if (st->ptx[k])
                continue;
            struct ptx *p = xcalloc(1, sizeof *p);
            str_copy(p->id, txn, sizeof p->id);
            str_copy(p->coord, json_string_value(json_object_get(r, "coord")) ? json_string_value(json_object_get(r, "coord"))
                                                                              : coord_id(st), sizeof p->coord);
            p->state = X_UNCERTAIN;
            p->proto = (int)json_integer_value(json_object_get(r, "proto"));
            p->ops = json_array();
            p->parts = json_is_array(json_object_get(r, "parts")) ? json_incref(json_object_get(r, "parts")) : json_array();
            p->writes = json_is_object(json_object_get(r, "writes")) ? json_deep_copy(json_object_get(r, "writes")) : json_object();
            p->reads = json_array();
            size_t i;
            const json_t *kv;
            json_array_foreach(json_object_get(r, "keys"), i, kv)
                if (json_is_string(kv) && p->nkeys < MAXOPS)
                    str_copy(p->keys[p->nkeys++], json_string_value(kv), KEYLEN);
            st->ptx[k] = p;
            break;
        }
    } else if (txn && !strcmp(t, "precommit")) {
        struct ptx *p = ptx_find(st, txn);
        if (p)
            p->state = X_PRECOMMITTED;
    } else if (txn && (!strcmp(t, "commit") || !strcmp(t, "abort"))) {
        const char *k;
        json_t *v;
        if (!strcmp(t, "commit"))
            json_object_foreach(json_object_get(r, "writes"), k, v)
                json_object_set(st->data, k, v);
        struct ptx *p = ptx_find(st, txn);
        if (p) {
            int me = ptx_num(st, p);
            st->ptx[me] = NULL;
            json_decref(p->ops);
            json_decref(p->parts);
            json_decref(p->writes);
            json_decref(p->reads);
            free(p);
        }
        json_object_set_new(st->outcomes, txn, json_string(t));
    }
    json_decref(r);
}

static void *txn_create(struct env *e, const struct opts *o, char *err, size_t errlen)
{
    if (e->n_nodes < 2) {
        snprintf(err, errlen, "txn needs a coordinator and at least one participant: start txn 3 (or more)");
        return NULL;
    }
    struct txnst *st = xcalloc(1, sizeof *st);
    st->e = e;
    st->n = e->n_nodes;
    st->coord = e->self_idx == 0;
    const char *proto = opts_get(o, "protocol", "2pc");
    st->proto = !strcmp(proto, "3pc") ? P_3PC : !strcmp(proto, "saga") ? P_SAGA : P_2PC;
    st->timeout_us = opts_get_duration(o, "timeout", 300000);
    st->lock_timeout_us = opts_get_duration(o, "lock_timeout", 1000000);
    const char *bug = opts_get(o, "bug", "");
    if (mode_listed(bug, "no-decision-log"))
        st->bugs |= BUG_NO_DECISION_LOG;
    if (mode_listed(bug, "unilateral-abort"))
        st->bugs |= BUG_UNILATERAL_ABORT;
    if (mode_listed(bug, "no-prepare-log"))
        st->bugs |= BUG_NO_PREPARE_LOG;
    if (mode_listed(bug, "forward-compensation"))
        st->bugs |= BUG_FORWARD_COMPENSATION;
    if (mode_listed(bug, "no-idempotency"))
        st->bugs |= BUG_NO_IDEMPOTENCY;
    st->applied = json_object();
    st->data = json_object();
    st->decided = json_object();
    st->recover = json_object();
    st->locks = json_object();
    st->outcomes = json_object();
    st->next_id = 1;
    long balance = opts_get_int(o, "balance", 100);
    if (st->coord) {
        char *b = NULL;
        size_t len = 0;
        if (e->ops->blob_get(e, "txn.ids", &b, &len) == 0) {
            char tmp[32];
            uint64_t lim;
            str_copy(tmp, b, len + 1 < sizeof tmp ? len + 1 : sizeof tmp);
            if (parse_u64(tmp, &lim) == 0 && lim > st->next_id)
                st->next_id = lim; /* every id below was perhaps handed out */
            free(b);
        }
        e->ops->log_read(e, "txn.coord", replay_coord, st);
    } else {
        for (int i = 0; i < txn_account_count(); i++)
            if (txn_shard(st->n, accounts[i]) == e->self_idx)
                json_object_set_new(st->data, accounts[i], num_text(balance));
        long more = opts_get_int(o, "accounts", 6);
        for (long k = 7; k <= more; k++) {
            char name[16];
            snprintf(name, sizeof name, "a%ld", k);
            if (txn_shard(st->n, name) == e->self_idx)
                json_object_set_new(st->data, name, num_text(balance));
        }
        e->ops->log_read(e, "txn.part", replay_part, st);
    }
    /* the role a status shows before start() announces it */
    int doubt = 0;
    for (int i = 0; i < MAXTX; i++)
        doubt |= st->ptx[i] != NULL;
    str_copy(st->role, st->coord ? (json_object_size(st->recover) ? "recovering" : "coordinator")
                                 : doubt ? "prepared" : "participant", sizeof st->role);
    return st;
}

static void txn_start(void *vst)
{
    struct txnst *st = vst;
    env_event(st->e, "state", json_pack("{s:s}", "role", st->role));
    if (st->coord) {
        /* recovery: a logged decision is sent again; no decision means abort (presumed abort) */
        const char *txn;
        json_t *r;
        json_object_foreach(st->recover, txn, r) {
            char err[100];
            int slot = -1;
            for (int i = 0; i < MAXTX && slot < 0; i++)
                if (!st->ctx[i])
                    slot = i;
            if (slot < 0)
                break;
            struct ctx *c = xcalloc(1, sizeof *c);
            str_copy(c->id, txn, sizeof c->id);
            parse_u64(txn + 1, &c->num);
            c->t0 = env_now_us(st->e);
            c->recovered = 1;
            st->recovering++;
            if (!strcmp(json_string_value(json_object_get(r, "r")), "saga")) {
                /* a saga resumes where its log stops: forward, or compensating */
                c->ops = json_is_array(json_object_get(r, "ops")) ? json_deep_copy(json_object_get(r, "ops")) : json_array();
                saga_init(c);
                const char *k;
                json_t *v;
                json_object_foreach(json_object_get(r, "undos"), k, v) {
                    int64_t x;
                    if (parse_i64(k, &x) == 0 && x >= 0 && (size_t)x < json_array_size(c->ops))
                        json_array_set(c->undo, (size_t)x, v);
                }
                json_object_foreach(json_object_get(r, "comps"), k, v) {
                    int64_t x;
                    if (parse_i64(k, &x) == 0 && x >= 0 && (size_t)x < json_array_size(c->ops))
                        c->undone[x] = 1;
                }
                c->step = (int)json_integer_value(json_object_get(r, "next"));
                if (json_is_integer(json_object_get(r, "failed"))) {
                    c->compensating = 1;
                    c->failed_at = (int)json_integer_value(json_object_get(r, "failed"));
                    str_copy(c->why, json_string_value(json_object_get(r, "why")) ? json_string_value(json_object_get(r, "why"))
                                                                                   : "a step failed", sizeof c->why);
                }
                st->ctx[slot] = c;
                char what[64];
                snprintf(what, sizeof what, c->compensating ? "saga: go on compensating" : "saga: resume at step %d",
                         c->step + 1);
                env_event(st->e, "recover", json_pack("{s:s,s:s}", "txn", txn, "decision", what));
                saga_next(st, c);
                continue;
            }
            c->ops = json_array();
            size_t i;
            const json_t *pn;
            json_array_foreach(json_object_get(r, "parts"), i, pn) {
                int idx = env_node_index(st->e, json_string_value(pn) ? json_string_value(pn) : "");
                if (idx > 0 && c->np < CL_MAXN)
                    c->part[c->np++] = idx;
            }
            st->ctx[slot] = c;
            const char *o = json_string_value(json_object_get(st->decided, txn));
            env_event(st->e, "recover", json_pack("{s:s,s:s}", "txn", txn, "decision", o ? o : "none: presumed abort"));
            (void)err;
            if (o) {
                c->state = C_DECIDED;
                c->commit = !strcmp(o, "commit");
                send_all(st, c, "decide", 0);
                c->timer = env_timer_set(st->e, st->timeout_us, TM_ACK, c->num);
            } else {
                decide(st, c, 0, "the coordinator restarted without a decision (presumed abort)");
            }
        }
        json_object_clear(st->recover);
        set_role(st, st->recovering ? "recovering" : "coordinator");
        return;
    }
    /* a restarted participant: re-take the locks of its in-doubt transactions and ask */
    for (int i = 0; i < MAXTX; i++) {
        struct ptx *p = st->ptx[i];
        if (!p)
            continue;
        for (int k = 0; k < p->nkeys; k++)
            json_object_set_new(st->locks, p->keys[k], json_string(p->id));
        p->nlocked = p->nkeys;
        env_event(st->e, "txn_state", json_pack("{s:s,s:s,s:s,s:s}", "txn", p->id, "state", "in-doubt", "by", "restart",
                                                "protocol", p->proto == P_3PC ? "3pc" : "2pc"));
        send_node(st, p->coord, json_pack("{s:s,s:s}", "type", "query", "txn", p->id));
        p->doubt_timer = env_timer_set(st->e, st->timeout_us, TM_DOUBT, (uint64_t)i);
    }
    update_role(st); /* one state event: participant, or prepared when some are in doubt */
}

static void txn_destroy(void *vst)
{
    struct txnst *st = vst;
    for (int i = 0; i < MAXTX; i++) {
        if (st->ctx[i]) {
            json_decref(st->ctx[i]->ops);
            json_decref(st->ctx[i]->req);
            json_decref(st->ctx[i]->undo);
            free(st->ctx[i]->undone);
            free(st->ctx[i]);
        }
        if (st->ptx[i]) {
            json_decref(st->ptx[i]->ops);
            json_decref(st->ptx[i]->parts);
            json_decref(st->ptx[i]->writes);
            json_decref(st->ptx[i]->reads);
            free(st->ptx[i]);
        }
    }
    json_decref(st->data);
    json_decref(st->decided);
    json_decref(st->recover);
    json_decref(st->locks);
    json_decref(st->outcomes);
    json_decref(st->applied);
    free(st);
}

static json_t *txn_status(void *vst)
{
    struct txnst *st = vst;
    struct sb txns = {0}, locks = {0}, waits = {0}, doubt = {0};
    sb_add(&txns, "");
    sb_add(&locks, "");
    sb_add(&waits, "");
    sb_add(&doubt, "");
    int active = 0;
    for (int i = 0; i < MAXTX; i++) {
        if (st->ctx[i]) {
            if (txns.len)
                sb_add(&txns, "; ");
            ctx_text(st, st->ctx[i], &txns);
            active++;
        }
        struct ptx *p = st->ptx[i];
        if (!p)
            continue;
        active++;
        if (p->state == X_LOCKING && p->nlocked < p->nkeys) {
            const char *h = lock_holder(st, p->keys[p->nlocked]);
            sb_printf(&waits, "%s%s->%s(%s)", waits.len ? " " : "", p->id, p->keys[p->nlocked], h ? h : "?");
        }
        if (p->state != X_LOCKING)
            sb_printf(&doubt, "%s%s%s", doubt.len ? " " : "", p->id, p->blocked ? "!" : p->state == X_PRECOMMITTED ? "+" : "");
    }
    const char *k;
    json_t *v;
    json_object_foreach(st->locks, k, v)
        sb_printf(&locks, "%s%s:%s", locks.len ? " " : "", k, json_string_value(v));
    json_t *r = json_pack("{s:s,s:s,s:O,s:s,s:s,s:s,s:s,s:i,s:I,s:I,s:I}", "role", st->role[0] ? st->role : st->coord ? "coordinator" : "participant",
                          "protocol", st->proto == P_3PC ? "3pc" : st->proto == P_SAGA ? "saga" : "2pc", "data", st->data, "txns", txns.s, "locks", locks.s,
                          "waits", waits.s, "indoubt", doubt.s, "active", active, "committed", (json_int_t)st->committed,
                          "aborted", (json_int_t)st->aborted, "lock_waits", (json_int_t)st->lock_waits);
    json_object_set_new(r, "msgs", json_integer((json_int_t)st->msgs));
    json_object_set_new(r, "fsyncs", json_integer((json_int_t)st->fsyncs));
    if (st->crashat[0])
        json_object_set_new(r, "crashpoint", json_string(st->crashat));
    sb_free(&txns);
    sb_free(&locks);
    sb_free(&waits);
    sb_free(&doubt);
    return r;
}

/* ---- the face --------------------------------------------------------------------------------- */

static int txn_replicas(const struct opts *o, int n, const char *key, int out[CL_MAXN])
{
    (void)o;
    int s = txn_shard(n, key);
    out[0] = s < 0 ? 0 : s; /* one node alone holds everything (txn refuses to start so) */
    return 1;
}

static const struct mode_handler txn_handlers[] = {
    {"txn", on_txn},
    {"transfer", on_transfer},
    {"read", on_read},
    {"write", on_write},
    {"prepare", on_prepare},
    {"vote", on_vote},
    {"precommit", on_precommit},
    {"ack_pre", on_ack},
    {"decide", on_decide},
    {"ack", on_ack},
    {"query", on_query},
    {"outcome", on_outcome},
    {"step", on_step},
    {"step_ok", on_step_ok},
    {NULL, NULL},
};

static const struct mode_option txn_options[] = {
    {"protocol", OPT_ENUM, "2pc|3pc|saga", 0, 0, "2pc", "atomic commit: two-phase (blocks when the coordinator dies), three-phase (pre-commit and timeouts), or a saga (steps and compensations, no isolation)"},
    {"timeout", OPT_DURATION, NULL, 10000, 60000000, "300ms", "how long a participant waits for the decision before it asks (2pc) or terminates (3pc)"},
    {"lock_timeout", OPT_DURATION, NULL, 10000, 60000000, "1s", "how long a transaction waits for a lock before its participant votes no"},
    {"balance", OPT_INT, NULL, 0, 1000000000, "100", "each bank account's opening balance (alice, bob, carol, dave, erin, frank)"},
    {"accounts", OPT_INT, NULL, 6, 100000, "6", "bank accounts: the six named ones, then a7, a8, … (round-robin over the participants)"},
    {NULL, 0, NULL, 0, 0, NULL, NULL},
};

static const struct mode_command txn_commands[] = {
    {"transfer", "transfer FROM TO AMOUNT", "move AMOUNT between two bank accounts in one distributed transaction (runs on the coordinator)",
     "transfer alice bob 30", 3, 3, cmd_transfer, MC_ANY},
    {"txn", "txn get K | put K V | add K N | append K V ...", "run one multi-key transaction (runs on the coordinator); its reads are in the txn_end event",
     "txn put a 1 put b 2 get c", 2, 60, cmd_txn, MC_ANY},
    {"crashpoint", "crashpoint NODE prepare|decision|send|precommit|vote|none",
     "make NODE stop as if dead at that point of its next transaction (coordinator: prepare, decision, send, precommit; participant: vote); then crash and restart it",
     "crashpoint n1 prepare", 2, 2, cmd_crashpoint, MC_ON_NODE},
    {NULL, NULL, NULL, NULL, 0, 0, NULL, MC_ANY},
};

static const struct mode_role txn_roles[] = {
    {"coordinator", RC_COORDINATOR},
    {"recovering", RC_COORDINATOR},
    {"participant", RC_PARTICIPANT},
    {"prepared", RC_PARTICIPANT},
    {"blocked", RC_PARTICIPANT},
    {"halted", RC_PEER},
    {NULL, RC_UNKNOWN},
};

static const struct mode_figure txn_figures[] = {
    {"protocol", "protocol", NULL},
    {"txns", "txns", "T:"},
    {"locks", "locks", "L:"},
    {"waits", "waits", "W:"},
    {"indoubt", "in-doubt", "?:"},
    {"committed", "committed", "c"},
    {"aborted", "aborted", "a"},
    {NULL, NULL, NULL},
};

static const char *const txn_client_types[] = {"read", "write", "txn", "transfer", NULL};

const struct mode mode_txn = {
    .name = "txn",
    .summary = "distributed transactions over shards: two-phase commit (blocking), three-phase commit (pre-commit, timeouts)",
    .options = txn_options,
    .bugs = "no-decision-log|unilateral-abort|no-prepare-log|forward-compensation|no-idempotency",
    .handlers = txn_handlers,
    .commands = txn_commands,
    .create = txn_create,
    .start = txn_start,
    .destroy = txn_destroy,
    .on_timer = txn_on_timer,
    .status = txn_status,
    .monitor = &txn_monitor,
    .workload = "lin-kv",
    .client_types = txn_client_types,
    .roles = txn_roles,
    .figures = txn_figures,
    .replicas = txn_replicas,
    .events = "state|txn_begin|txn_vote|txn_phase|decision|txn_end|txn_state|lock_wait|lock_grant|lock_timeout|lock_refused|"
              "blocked|crashpoint|recover|saga_step|compensate|step_applied",
};
