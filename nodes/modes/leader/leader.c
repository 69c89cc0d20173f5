/* leader — single-leader replication (primary/backup), the mode that shows what a
 * replicated database without consensus gets wrong: stale follower reads, acknowledged writes
 * lost when an async leader dies, and split-brain after a naive failover.
 *
 * Roles and transitions (set_role() is the only place that changes them):
 *
 *        start (n1)                         start (others)
 *            |                                   |
 *            v      newer leader heard           v
 *         LEADER  ------------------------->  FOLLOWER
 *            ^      (step_down: discard /        |
 *            |       divergence on rejoin)       |
 *            +-----------------------------------+
 *              promote NODE, or failover=auto: no heartbeat for
 *              failover_timeout x (1 + index/2)
 *
 * A promotion starts a new epoch (known epoch + 1). Promotions are ordered by (epoch, then the
 * lower node index): "newer" below always means that order.
 *
 * Replication (one message type each way):
 *   replicate     leader -> follower: epoch, prev_index/prev_epoch/prev_leader, entries[],
 *                 commit, last. Sent for every new write and every `heartbeat` as a heartbeat.
 *   replicate_ok  follower -> leader: ok + match (its log equals the leader's up to match), or
 *                 !ok + hint (resend from hint+1), or stale (fencing: the sender is an old
 *                 epoch; carries the follower's epoch and leader).
 *
 * Rules, and the invariants they keep:
 *  - Log matching: a follower appends only after prev_index/prev_epoch/prev_leader match its
 *    own log, truncating a conflicting suffix first, and drops entries past the leader's last
 *    index that the leader did not write; so each follower's log is a prefix of its leader's
 *    log (scenario A3), whatever the network drops, duplicates or reorders.
 *  - Durability: every append is log_sync()ed before it is acknowledged, to a client (leader)
 *    or to the leader (follower).
 *  - Commit (= acknowledged to the client): repl=async once the leader's own append is durable;
 *    repl=sync once every follower reported it durable; repl=semisync once the synchronous
 *    follower did: the lowest-numbered follower that answered within failover_timeout. So
 *    with sync, an ack implies the write is on every node, and (with fencing, which keeps a
 *    deposed leader from cutting it again) promoting any follower loses no acked write (S2).
 *  - sync_down=refuse (default): while a required follower has not answered for
 *    failover_timeout, new writes are refused with error 11 before anything is appended (a
 *    definite failure); sync_down=block: they are appended and wait (the client times out).
 *    Either way nothing is acked without every required follower (S1).
 *  - fencing=off: followers take replication from whoever sends it. An isolated old leader
 *    keeps acking writes (with async): split-brain (SB1). When two leaders meet, the newer
 *    promotion wins; the loser steps down, its log is cut back to the fork and it emits
 *    `divergence` listing the writes each side held and those discarded.
 *  - fencing=on: followers refuse replication from an older epoch (event `fenced`) and answer
 *    with the newer one; the old leader steps down, and its writes after the fork are
 *    discarded (event `discard`). Followers never apply them: no divergent commits (SB2).
 *  - Auto failover: a follower that hears no replication for failover_timeout x (1 + index/2)
 *    promotes itself, so the lowest-numbered live follower goes first. No quorum rule: a
 *    follower cut off alone promotes itself too. Timers carry a generation (arg) so that one
 *    that fired during a pause, after replication re-armed it, is ignored.
 *  - Reads are served by any node from its own applied state: a follower may be stale (A2).
 *    The leader applies on append, so it may show a sync write not yet acknowledged.
 *  - A follower refuses writes and cas with error 11 naming the leader it believes in.
 *
 * Durable state: the log "leader.log" (one JSON record per entry, index = position) and the
 * blob "leader.state" {"role","epoch","leader"}. A restarted node comes back in its old role:
 * a restarted old leader believes it still leads until it hears of a newer epoch.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "env.h"
#include "kvsm.h"
#include "mode.h"
#include "msg.h"
#include "pending.h"
#include "rlog.h"

enum role { ROLE_FOLLOWER, ROLE_LEADER };
enum repl { REPL_ASYNC, REPL_SYNC, REPL_SEMISYNC };
enum { T_HEARTBEAT = 1, T_FAILOVER = 2 };

#define LOG_NAME "leader.log"
#define STATE_NAME "leader.state"
#define BATCH 64            /* entries per replicate message */
#define BATCH_BYTES (512u << 10) /* and at most this much of them as JSON: under the 1 MiB frame cap */
#define ENTRY_MAX_BYTES (384u << 10) /* a write whose entry is larger could never be replicated */
#define TAIL 100            /* log entries in status */
#define MAX_ENTRIES 1024    /* more in one message is refused as malformed */
#define MAX_EPOCH (1ull << 52)

struct ld {
    struct env *env;
    enum repl repl;
    int fencing, autofail, sync_block;
    uint64_t hb_us, fo_us;

    enum role role;
    uint64_t epoch;
    int leader;             /* node index, -1 unknown */

    struct rlog log;        /* entry i at log.e[i-1]: term = its epoch, by = its leader */
    uint64_t commit;
    struct kvsm sm;         /* the applied state (no client sessions: entries name none) */

    uint64_t next[CL_MAXN], match[CL_MAXN];
    int silent[CL_MAXN];    /* heartbeats since the follower last answered */
    struct pending pend;    /* writes waiting for their commit (= ack) */
    uint64_t hb_timer, fo_timer;
    uint64_t timer_gen;     /* a timer firing with an older generation was superseded */

    /* after stepping down: what we had, to report once we caught up with the winner */
    int reconciling;
    uint64_t rc_epoch, rc_acked, rc_fork;
    json_t *rc_discarded;
};

static const char *const role_names[] = {"follower", "leader"};
static const char *const repl_names[] = {"async", "sync", "semisync"};

/* ---- small helpers ------------------------------------------------------------------------ */

static const char *name_of(struct ld *st, int idx)
{
    return idx >= 0 && idx < st->env->n_nodes ? st->env->nodes[idx] : "";
}

/* Is promotion (e1, l1) newer than (e2, l2)? Higher epoch, then lower node index. */
static int newer(uint64_t e1, int l1, uint64_t e2, int l2)
{
    if (e1 != e2)
        return e1 > e2;
    if (l1 < 0 || l1 == l2)
        return 0;
    return l2 < 0 || l1 < l2;
}

static void bad_message(struct ld *st, const char *src, const char *type, const char *what)
{
    char *t = xasprintf("dropped %s from %s: %s", type, src, what);
    env_event(st->env, "error", json_pack("{s:s}", "text", t));
    free(t);
}

/* An epoch grows by one per promotion: a message more than 2^32 epochs ahead is a bug or an
 * attack, refused and reported rather than adopted. Returns 1 when body must be dropped. */
static int epoch_jump(struct ld *st, const char *src, const json_t *body, const char *type)
{
    json_t *e = json_object_get(body, "epoch");
    if (!json_is_integer(e) || json_integer_value(e) < 0 ||
        (uint64_t)json_integer_value(e) <= st->epoch + (1ull << 32))
        return 0;
    char *why = xasprintf("refused an epoch jump from %llu to %llu", (unsigned long long)st->epoch,
                          (unsigned long long)json_integer_value(e));
    bad_message(st, src, type, why);
    free(why);
    return 1;
}

static char *entry_cmd(const struct rlog_entry *en)
{
    return rlog_entry_text(en, NULL, 0);
}

static json_t *entry_summary(struct ld *st, uint64_t index, int acked)
{
    const struct rlog_entry *en = &st->log.e[index - 1];
    json_t *j = json_pack("{s:I,s:I,s:s,s:s,s:o}", "index", (json_int_t)index, "epoch",
                          (json_int_t)en->term, "by", name_of(st, en->by), "key", en->key,
                          "value", kvsm_value_decode(en->value));
    if (acked >= 0)
        json_object_set_new(j, "acked", json_boolean(acked));
    return j;
}

/* ---- durable state -------------------------------------------------------------------------- */

static void persist_state(struct ld *st)
{
    json_t *j = json_pack("{s:s,s:I,s:i}", "role", role_names[st->role], "epoch",
                          (json_int_t)st->epoch, "leader", st->leader);
    char *txt = json_dumps(j, JSON_COMPACT);
    if (st->env->ops->blob_put(st->env, STATE_NAME, txt, strlen(txt)) < 0)
        env_event(st->env, "error", json_pack("{s:s}", "text", "could not save leader.state"));
    free(txt);
    json_decref(j);
}

static json_t *entry_record(const struct rlog_entry *en)
{
    json_t *j = json_pack("{s:I,s:i,s:s,s:s,s:s}", "e", (json_int_t)en->term, "l", en->by,
                          "op", en->type == KV_CAS ? "c" : "w", "k", en->key, "v", en->value);
    if (en->from)
        json_object_set_new(j, "f", json_string(en->from));
    return j;
}

/* An entry record, on disk and in replicate: {"e":epoch,"l":leader,"op":"w"|"c","k","v","f"?}. */
struct entry_msg {
    uint64_t e;
    int l;
    const char *op, *k, *v, *f;
};

static const struct msg_field entry_fields[] = {
    MSG_U64(struct entry_msg, e, MAX_EPOCH),
    MSG_INT(struct entry_msg, l, 0, CL_MAXN - 1),
    MSG_STR(struct entry_msg, op),
    MSG_STR(struct entry_msg, k),
    MSG_STR(struct entry_msg, v),
    MSG_STR_OPT(struct entry_msg, f),
    MSG_END,
};

/* Parses an entry record (from disk or a replicate message). 0, or -1 with err filled. */
static int entry_parse(struct ld *st, const json_t *j, struct rlog_entry *en, char *err, size_t errlen)
{
    struct entry_msg m = {0};
    if (msg_get(j, "an entry", entry_fields, &m, err, errlen) < 0)
        return -1;
    if (m.l >= st->env->n_nodes || (strcmp(m.op, "w") && strcmp(m.op, "c"))) {
        snprintf(err, errlen, "an entry needs \"l\" below %d and \"op\" \"w\" or \"c\"", st->env->n_nodes);
        return -1;
    }
    memset(en, 0, sizeof *en);
    en->term = m.e;
    en->by = m.l;
    en->type = m.op[0] == 'c' ? KV_CAS : KV_PUT;
    en->key = xstrdup(m.k);
    en->value = xstrdup(m.v);
    en->from = m.f ? xstrdup(m.f) : NULL;
    return 0;
}

/* Applies entry index to the state. A cas entry was checked by its leader against the state
 * at the same log position, so it applies here too. */
static void apply(struct ld *st, uint64_t index, int emit)
{
    const struct rlog_entry *en = &st->log.e[index - 1];
    kvsm_apply(&st->sm, en);
    if (emit)
        env_event(st->env, "apply", json_pack("{s:I,s:s,s:o,s:I}", "index", (json_int_t)index,
                                              "key", en->key, "value", kvsm_value_decode(en->value), "epoch",
                                              (json_int_t)en->term));
}

/* Adds an entry (taking its strings) at index n+1, applies it and appends it to the disk log
 * (not yet synced: the caller syncs once per batch). */
static uint64_t log_push(struct ld *st, struct rlog_entry *en)
{
    json_t *rec = entry_record(en);
    rlog_push(&st->log, en);
    char *txt = json_dumps(rec, JSON_COMPACT);
    if (st->env->ops->log_append(st->env, LOG_NAME, txt, strlen(txt)) < 0)
        env_event(st->env, "error", json_pack("{s:s}", "text", "could not append to leader.log"));
    free(txt);
    json_decref(rec);
    apply(st, st->log.n, 1);
    return st->log.n;
}

static void log_sync(struct ld *st)
{
    if (st->env->ops->log_sync(st->env, LOG_NAME) < 0)
        env_event(st->env, "error", json_pack("{s:s}", "text", "could not sync leader.log"));
}

/* `append` events for entries from..to, just made durable: one per run of entries of one
 * epoch, with the epoch as the run's "term" (what the dashboard's Log pane folds) and the
 * commands. */
static void emit_append(struct ld *st, uint64_t from, uint64_t to)
{
    uint64_t i = from;
    while (i <= to) {
        uint64_t epoch = st->log.e[i - 1].term;
        json_t *cmds = json_array();
        uint64_t j = i;
        for (; j <= to && st->log.e[j - 1].term == epoch; j++) {
            char *c = entry_cmd(&st->log.e[j - 1]);
            json_array_append_new(cmds, json_string(c));
            free(c);
        }
        json_t *ev = json_pack("{s:I,s:I,s:I,s:I,s:s,s:o}", "index", (json_int_t)i, "term",
                               (json_int_t)epoch, "epoch", (json_int_t)epoch, "count",
                               (json_int_t)(j - i), "by", name_of(st, st->log.e[i - 1].by), "cmds", cmds);
        if (j - i == 1)
            json_object_set(ev, "cmd", json_array_get(cmds, 0));
        env_event(st->env, "append", ev);
        i = j;
    }
}

static void rebuild_data(struct ld *st)
{
    kvsm_clear(&st->sm);
    for (uint64_t i = 1; i <= st->log.n; i++)
        apply(st, i, 0);
}

/* Removes entries from index `from` on, durably. Records them for a reconciliation report. */
static void truncate_from(struct ld *st, uint64_t from)
{
    json_t *gone = json_array();
    for (uint64_t i = from; i <= st->log.n; i++) {
        int acked = st->reconciling ? i <= st->rc_acked : i <= st->commit;
        json_array_append_new(gone, entry_summary(st, i, acked));
    }
    if (st->reconciling) {
        if (json_array_size(st->rc_discarded) == 0 || from - 1 < st->rc_fork)
            st->rc_fork = from - 1;
        json_array_extend(st->rc_discarded, gone);
    }
    env_event(st->env, "truncate", json_pack("{s:I,s:O}", "index", (json_int_t)from, "entries", gone));
    json_decref(gone);
    st->env->ops->log_truncate(st->env, LOG_NAME, (size_t)(from - 1));
    rlog_truncate(&st->log, from);
    if (st->commit > st->log.n)
        st->commit = st->log.n;
    rebuild_data(st);
}

struct load_ctx {
    struct ld *st;
    int bad;
};

static void load_record(void *ud, const void *data, size_t len)
{
    struct load_ctx *c = ud;
    if (c->bad)
        return;
    json_error_t jerr;
    json_t *j = json_loadb(data, len, 0, &jerr);
    struct rlog_entry en;
    char err[200];
    if (!j || entry_parse(c->st, j, &en, err, sizeof err) < 0) {
        c->bad = 1;
        json_decref(j);
        return;
    }
    json_decref(j);
    rlog_push(&c->st->log, &en);
}

/* ---- roles -------------------------------------------------------------------------------- */

/* The single role setter: checks the transition, persists it and emits `state`. */
static void set_role(struct ld *st, enum role role, uint64_t epoch, int leader, const char *why)
{
    assert(role != ROLE_LEADER || leader == st->env->self_idx); /* a leader leads itself */
    assert(epoch >= st->epoch);                                 /* epochs never go back */
    int changed = role != st->role || epoch != st->epoch || leader != st->leader;
    st->role = role;
    st->epoch = epoch;
    st->leader = leader;
    if (!changed)
        return;
    persist_state(st);
    json_t *f = json_pack("{s:s,s:I,s:s}", "role", role_names[role], "epoch", (json_int_t)epoch,
                          "leader", name_of(st, leader));
    if (why)
        json_object_set_new(f, "why", json_string(why));
    env_event(st->env, "state", f);
}

static void arm_failover(struct ld *st)
{
    env_timer_cancel(st->env, st->fo_timer);
    st->fo_timer = 0;
    if (!st->autofail || st->role != ROLE_FOLLOWER)
        return;
    /* Stagger by node index so that the lowest-numbered live follower promotes first and
     * its announcement reaches the others before their own timers fire. */
    uint64_t d = st->fo_us + (uint64_t)st->env->self_idx * (st->fo_us / 2);
    st->fo_timer = env_timer_set(st->env, d, T_FAILOVER, ++st->timer_gen);
}

static void send_to(struct ld *st, int f);
static void advance_commit(struct ld *st);

static void heartbeat_all(struct ld *st)
{
    for (int f = 0; f < st->env->n_nodes; f++)
        if (f != st->env->self_idx)
            send_to(st, f);
}

static int promote(struct ld *st, const char *why)
{
    if (st->epoch + 1 >= MAX_EPOCH) {
        env_event(st->env, "error", json_pack("{s:s}", "text", "epoch exhausted: cannot promote"));
        return -1;
    }
    set_role(st, ROLE_LEADER, st->epoch + 1, st->env->self_idx, why);
    st->reconciling = 0;
    json_array_clear(st->rc_discarded);
    env_timer_cancel(st->env, st->fo_timer);
    st->fo_timer = 0;
    for (int f = 0; f < CL_MAXN; f++) {
        st->next[f] = st->log.n + 1;
        st->match[f] = 0;
        st->silent[f] = 0;
    }
    advance_commit(st);
    heartbeat_all(st);
    env_timer_cancel(st->env, st->hb_timer);
    st->hb_timer = env_timer_set(st->env, st->hb_us, T_HEARTBEAT, 0);
    return 0;
}

static void drop_pending(struct ld *st)
{
    pending_clear(&st->pend);
}

/* A newer leader exists: follow it. Writes still pending get no answer (their fate is
 * unknown until the logs are reconciled); what we held beyond the fork is reported then. */
static void step_down(struct ld *st, uint64_t epoch, int leader, const char *why)
{
    if (st->role == ROLE_LEADER) {
        st->reconciling = 1;
        st->rc_epoch = st->epoch;
        st->rc_acked = st->commit;
        st->rc_fork = st->log.n;
        json_array_clear(st->rc_discarded);
        drop_pending(st);
        env_timer_cancel(st->env, st->hb_timer);
        st->hb_timer = 0;
    }
    set_role(st, ROLE_FOLLOWER, epoch > st->epoch ? epoch : st->epoch, leader, why);
    arm_failover(st);
}

static void finish_reconcile(struct ld *st)
{
    st->reconciling = 0;
    if (json_array_size(st->rc_discarded) == 0)
        return;
    json_t *kept = json_array();
    for (uint64_t i = st->rc_fork + 1; i <= st->log.n; i++)
        json_array_append_new(kept, entry_summary(st, i, -1));
    size_t lost_acked = 0, k;
    json_t *v;
    json_array_foreach(st->rc_discarded, k, v)
        lost_acked += json_is_true(json_object_get(v, "acked"));
    json_t *f = json_pack("{s:s,s:s,s:I,s:I,s:I,s:o,s:o,s:I}", "winner", name_of(st, st->leader),
                          "loser", st->env->self, "old_epoch", (json_int_t)st->rc_epoch, "epoch",
                          (json_int_t)st->epoch, "fork", (json_int_t)st->rc_fork, "discarded",
                          st->rc_discarded, "kept", kept, "acked_lost", (json_int_t)lost_acked);
    st->rc_discarded = json_array(); /* the event keeps the list it was given */
    env_event(st->env, st->fencing ? "discard" : "divergence", f);
}

/* ---- replication: leader side ------------------------------------------------------------ */

/* Heartbeats a follower may miss before it counts as unreachable (failover_timeout). */
static int silent_limit(const struct ld *st)
{
    int limit = (int)(st->fo_us / st->hb_us);
    return limit < 1 ? 1 : limit;
}

/* semisync's synchronous follower: the lowest-numbered follower that answered within
 * failover_timeout (like PostgreSQL's FIRST 1), else the lowest-numbered follower. */
static int sync_follower(const struct ld *st)
{
    int first = -1;
    for (int f = 0; f < st->env->n_nodes; f++) {
        if (f == st->env->self_idx)
            continue;
        if (first < 0)
            first = f;
        if (st->silent[f] <= silent_limit(st))
            return f;
    }
    return first;
}

static int required(const struct ld *st, int f)
{
    if (f == st->env->self_idx || f >= st->env->n_nodes)
        return 0;
    if (st->repl == REPL_SYNC)
        return 1;
    if (st->repl == REPL_SEMISYNC)
        return f == sync_follower(st);
    return 0;
}

/* The nodes that hold entry index durably, as far as the leader knows: itself and every
 * follower whose match reaches it (with semisync, the synchronous one among them). */
static json_t *acked_by(struct ld *st, uint64_t index)
{
    json_t *a = json_array();
    for (int f = 0; f < st->env->n_nodes; f++)
        if (f == st->env->self_idx || st->match[f] >= index)
            json_array_append_new(a, json_string(name_of(st, f)));
    return a;
}

static void reply_one(void *ud, const struct pending_req *p)
{
    struct ld *st = ud;
    json_t *r = json_pack("{s:s,s:o}", "type", p->type == KV_CAS ? "cas_ok" : "write_ok", "acked_by",
                          acked_by(st, p->index));
    if (st->repl == REPL_SEMISYNC && sync_follower(st) >= 0)
        json_object_set_new(r, "sync_follower", json_string(name_of(st, sync_follower(st))));
    pending_reply(st->env, p, r);
}

static void reply_pending(struct ld *st)
{
    pending_take(&st->pend, st->commit, 0, reply_one, st);
}

static void advance_commit(struct ld *st)
{
    if (st->role != ROLE_LEADER)
        return;
    uint64_t c = st->log.n;
    for (int f = 0; f < st->env->n_nodes; f++)
        if (required(st, f) && st->match[f] < c)
            c = st->match[f];
    if (c > st->commit) {
        st->commit = c;
        json_t *ev = json_pack("{s:I,s:I,s:o}", "index", (json_int_t)c, "term",
                               (json_int_t)st->log.e[c - 1].term, "acked_by", acked_by(st, c));
        if (st->repl == REPL_SEMISYNC && sync_follower(st) >= 0)
            json_object_set_new(ev, "sync_follower", json_string(name_of(st, sync_follower(st))));
        env_event(st->env, "commit", ev);
    }
    reply_pending(st);
}

/* Sends follower f the entries from next[f] (at most BATCH), or an empty heartbeat. */
static void send_to(struct ld *st, int f)
{
    if (st->next[f] < 1)
        st->next[f] = 1;
    if (st->next[f] > st->log.n + 1)
        st->next[f] = st->log.n + 1;
    uint64_t from = st->next[f];
    uint64_t prev = from - 1;
    json_t *ents = json_array();
    uint64_t to = from;
    size_t bytes = 0;
    for (; to <= st->log.n && to < from + BATCH; to++) {
        size_t c = rlog_entry_json_cost(&st->log.e[to - 1]);
        if (to > from && bytes + c > BATCH_BYTES)
            break;
        bytes += c;
        json_array_append_new(ents, entry_record(&st->log.e[to - 1]));
    }
    json_t *m = json_pack("{s:s,s:I,s:I,s:I,s:i,s:o,s:I,s:I}", "type", "replicate", "epoch",
                          (json_int_t)st->epoch, "prev_index", (json_int_t)prev, "prev_epoch",
                          (json_int_t)(prev ? st->log.e[prev - 1].term : 0), "prev_leader",
                          prev ? st->log.e[prev - 1].by : -1, "entries", ents, "commit",
                          (json_int_t)st->commit, "last", (json_int_t)st->log.n);
    st->next[f] = to;
    env_send(st->env, st->env->nodes[f], m);
}

/* replicate {epoch, prev_index, prev_epoch, prev_leader, entries, commit, last} and
 * replicate_ok {ok, epoch, for_epoch, match, leader?, stale?} (the file's top comment). */
struct repl_msg {
    uint64_t epoch, prev_index, prev_epoch, commit, last, for_epoch, match;
    int prev_leader, ok, stale;
    const json_t *entries;
    const char *leader;
};

static const struct msg_field replicate_fields[] = {
    MSG_U64(struct repl_msg, epoch, MAX_EPOCH),
    MSG_U64(struct repl_msg, prev_index, MAX_EPOCH),
    MSG_U64(struct repl_msg, prev_epoch, MAX_EPOCH),
    MSG_INT(struct repl_msg, prev_leader, -1, CL_MAXN - 1),
    MSG_ARRAY(struct repl_msg, entries, MAX_ENTRIES),
    MSG_U64(struct repl_msg, commit, MAX_EPOCH),
    MSG_U64(struct repl_msg, last, MAX_EPOCH),
    MSG_END,
};

static const struct msg_field replicate_ok_fields[] = {
    MSG_BOOL(struct repl_msg, ok),
    MSG_U64(struct repl_msg, epoch, MAX_EPOCH),
    MSG_U64(struct repl_msg, for_epoch, MAX_EPOCH),
    MSG_U64(struct repl_msg, match, MAX_EPOCH),
    MSG_STR_OPT(struct repl_msg, leader),
    MSG_BOOL_OPT(struct repl_msg, stale),
    MSG_END,
};

/* A peer message from another node with every field it needs, or -1 (and an error event). */
static int peer_get(struct ld *st, const char *src, const json_t *body, const struct msg_field *fields,
                    struct repl_msg *m, int *from)
{
    char err[300];
    const char *type = json_string_value(json_object_get(body, "type"));
    *from = env_node_index(st->env, src);
    if (*from < 0 || *from == st->env->self_idx) {
        bad_message(st, src, type, "not from another node");
        return -1;
    }
    if (msg_get(body, NULL, fields, m, err, sizeof err) < 0) {
        bad_message(st, src, type, err);
        return -1;
    }
    return 0;
}

static void on_replicate_ok(void *vst, const char *src, const json_t *body)
{
    struct ld *st = vst;
    if (epoch_jump(st, src, body, "replicate_ok"))
        return;
    struct repl_msg m = {0};
    int f;
    if (peer_get(st, src, body, replicate_ok_fields, &m, &f) < 0)
        return;
    uint64_t epoch = m.epoch, for_epoch = m.for_epoch, num = m.match;
    const char *lname = m.leader;
    int lidx = lname ? env_node_index(st->env, lname) : -1;
    /* The follower follows a newer leader: we are an old leader that must step down. */
    if (lidx >= 0 && lidx != st->env->self_idx && newer(epoch, lidx, st->epoch, st->leader)) {
        if (st->role == ROLE_LEADER) {
            char *why = xasprintf("%s follows %s in epoch %llu", src, lname, (unsigned long long)epoch);
            step_down(st, epoch, lidx, why);
            free(why);
        }
        return;
    }
    if (st->role != ROLE_LEADER || for_epoch != st->epoch)
        return;
    st->silent[f] = 0;
    if (m.ok) {
        if (num > st->log.n)
            num = st->log.n;
        st->match[f] = num;
        if (st->next[f] <= num)
            st->next[f] = num + 1;
        advance_commit(st);
        if (st->next[f] <= st->log.n && st->next[f] == num + 1)
            send_to(st, f);
    } else if (!m.stale) {
        if (num + 1 < st->next[f]) {
            st->next[f] = num + 1;
            send_to(st, f);
        }
    }
}

/* ---- replication: follower side ---------------------------------------------------------- */

static void reply_replicate(struct ld *st, const char *src, uint64_t for_epoch, int ok,
                            uint64_t num, int stale)
{
    json_t *r = json_pack("{s:s,s:b,s:I,s:I,s:s,s:I}", "type", "replicate_ok", "ok", ok, "epoch",
                          (json_int_t)st->epoch, "for_epoch", (json_int_t)for_epoch, "leader",
                          name_of(st, st->leader), "match", (json_int_t)num);
    if (stale)
        json_object_set_new(r, "stale", json_true());
    env_send(st->env, src, r);
}

static void on_replicate(void *vst, const char *src, const json_t *body)
{
    struct ld *st = vst;
    if (epoch_jump(st, src, body, "replicate"))
        return;
    struct repl_msg m = {0};
    int s;
    if (peer_get(st, src, body, replicate_fields, &m, &s) < 0)
        return;
    uint64_t epoch = m.epoch, prev = m.prev_index, pe = m.prev_epoch, commit = m.commit, last = m.last;
    /* Parse every entry before touching the log: a bad message changes nothing. */
    size_t ne = json_array_size(m.entries);
    struct rlog_entry *in = xcalloc(ne ? ne : 1, sizeof *in);
    for (size_t i = 0; i < ne; i++) {
        char err[200];
        if (entry_parse(st, json_array_get(m.entries, i), &in[i], err, sizeof err) < 0) {
            for (size_t j = 0; j < i; j++)
                rlog_entry_free(&in[j]);
            free(in);
            bad_message(st, src, "replicate", err);
            return;
        }
    }

    if (!(s == st->leader && epoch == st->epoch)) {
        if (newer(epoch, s, st->epoch, st->leader)) {
            char *why = xasprintf("%s leads epoch %llu", src, (unsigned long long)epoch);
            if (st->role == ROLE_LEADER)
                step_down(st, epoch, s, why);
            else
                set_role(st, ROLE_FOLLOWER, epoch, s, why);
            free(why);
        } else if (st->fencing || st->role == ROLE_LEADER) {
            /* Fencing: an older epoch's leader is refused and told of the newer one. Without
             * fencing a leader refuses too: the newer promotion wins when two leaders meet. */
            if (st->fencing)
                env_event(st->env, "fenced",
                          json_pack("{s:s,s:I,s:I,s:s}", "from", src, "epoch", (json_int_t)epoch,
                                    "current", (json_int_t)st->epoch, "leader",
                                    name_of(st, st->leader)));
            reply_replicate(st, src, epoch, 0, st->log.n, 1);
            for (size_t i = 0; i < ne; i++)
                rlog_entry_free(&in[i]);
            free(in);
            return;
        } else {
            /* No fencing: a follower takes replication from whoever claims to lead. */
            set_role(st, ROLE_FOLLOWER, st->epoch > epoch ? st->epoch : epoch, s,
                     "no fencing: following whoever replicates");
        }
    }
    arm_failover(st);

    int ok = 1;
    uint64_t num = prev + ne;
    if (prev > st->log.n) {
        ok = 0;
        num = st->log.n;
    } else if (prev > 0 && (st->log.e[prev - 1].term != pe ||
                            st->log.e[prev - 1].by != m.prev_leader)) {
        ok = 0;
        num = prev - 1;
    }
    if (ok) {
        uint64_t first_new = 0;
        for (size_t i = 0; i < ne; i++) {
            uint64_t idx = prev + 1 + i;
            if (idx <= st->log.n) {
                if (st->log.e[idx - 1].term == in[i].term && st->log.e[idx - 1].by == in[i].by)
                    continue;
                truncate_from(st, idx);
            }
            uint64_t at = log_push(st, &in[i]);
            in[i].key = in[i].value = in[i].from = NULL; /* the log owns them now */
            if (!first_new)
                first_new = at;
        }
        if (first_new) {
            log_sync(st);
            emit_append(st, first_new, st->log.n);
        }
        /* Entries past the leader's last index that the leader did not write itself are not
         * in its log (it only ever appends its own past its last): a stale suffix from an
         * older leader, which no later message would overwrite. Entries of this leader's own
         * stay, even if a reordered older message says `last` is smaller. */
        for (uint64_t j = (num > last ? num : last) + 1; j <= st->log.n; j++) {
            if (st->log.e[j - 1].term != epoch || st->log.e[j - 1].by != s) {
                truncate_from(st, j);
                break;
            }
        }
        uint64_t c = commit < num ? commit : num;
        if (c > st->commit) {
            st->commit = c;
            env_event(st->env, "commit", json_pack("{s:I,s:I}", "index", (json_int_t)c, "term",
                                                   (json_int_t)st->log.e[c - 1].term));
        }
    }
    for (size_t i = 0; i < ne; i++)
        rlog_entry_free(&in[i]);
    free(in);
    reply_replicate(st, src, epoch, ok, num, 0);
    if (ok && st->reconciling && num >= last)
        finish_reconcile(st);
}

/* ---- clients ------------------------------------------------------------------------------- */

/* Client bodies: read {key}, write {key, value}, cas {key, from, to}; keys and values are
 * strings, or whole numbers taken as their decimal text. */
struct client_msg {
    char *key;                              /* a string, or a whole number's decimal text */
    const json_t *value, *from, *to;        /* any JSON (kvsm.h: stored with its type) */
};

static const struct msg_field read_fields[] = {
    MSG_TEXT(struct client_msg, key),
    MSG_END,
};

static const struct msg_field write_fields[] = {
    MSG_TEXT(struct client_msg, key),
    MSG_ANY(struct client_msg, value),
    MSG_END,
};

static const struct msg_field cas_fields[] = {
    MSG_TEXT(struct client_msg, key),
    MSG_ANY(struct client_msg, from),
    MSG_ANY(struct client_msg, to),
    MSG_END,
};

/* Reads a client body (caller frees with msg_free_text); a malformed one gets error 12. */
static int client_get(struct ld *st, const char *src, const json_t *body, const struct msg_field *fields,
                      struct client_msg *m)
{
    return msg_get_request(st->env, src, body, fields, m, sizeof *m);
}

static void on_read(void *vst, const char *src, const json_t *body)
{
    struct ld *st = vst;
    struct client_msg m;
    if (client_get(st, src, body, read_fields, &m) < 0)
        return;
    json_t *v = json_object_get(st->sm.data, m.key);
    json_t *r = json_pack("{s:s,s:O}", "type", "read_ok", "value", v ? v : json_null());
    env_reply(st->env, src, body, r);
    msg_free_text(read_fields, &m);
}

static void client_write(struct ld *st, const char *src, const json_t *body, int cas)
{
    const char *what = cas ? "cas" : "write";
    const struct msg_field *fields = cas ? cas_fields : write_fields;
    struct client_msg m;
    if (client_get(st, src, body, fields, &m) < 0)
        return;
    if (st->role != ROLE_LEADER) {
        env_reply_error(st->env, src, body, ERR_TEMPORARILY_UNAVAILABLE, "not the leader",
                        st->leader >= 0 ? name_of(st, st->leader) : NULL);
        goto out;
    }
    if (!st->sync_block) {
        for (int f = 0; f < st->env->n_nodes; f++) {
            if (required(st, f) && st->silent[f] > silent_limit(st)) {
                char *t = xasprintf("sync follower %s has not answered for %llu ms: %s refused",
                                    name_of(st, f), (unsigned long long)(st->fo_us / 1000), what);
                env_reply_error(st->env, src, body, ERR_TEMPORARILY_UNAVAILABLE, t, NULL);
                free(t);
                goto out;
            }
        }
    }
    if (cas) {
        const json_t *cur = kvsm_get_json(&st->sm, m.key);
        if (!cur) {
            env_reply_error(st->env, src, body, ERR_KEY_DOES_NOT_EXIST, "no such key", NULL);
            goto out;
        }
        if (!json_equal((json_t *)cur, (json_t *)m.from)) {
            char *f = json_dumps(m.from, JSON_COMPACT | JSON_ENCODE_ANY), *c = json_dumps(cur, JSON_COMPACT | JSON_ENCODE_ANY);
            char *t = xasprintf("expected %s, found %s", f ? f : "?", c ? c : "?");
            env_reply_error(st->env, src, body, ERR_PRECONDITION_FAILED, t, NULL);
            free(t);
            free(f);
            free(c);
            goto out;
        }
    }
    struct rlog_entry en = {.term = st->epoch, .by = st->env->self_idx, .type = cas ? KV_CAS : KV_PUT,
                            .key = m.key, .value = kvsm_value_encode(cas ? m.to : m.value),
                            .from = cas ? kvsm_value_encode(m.from) : NULL};
    if (rlog_entry_json_cost(&en) > ENTRY_MAX_BYTES) {
        char *t = xasprintf("key and value too large: %zu bytes as JSON, at most %u in one entry",
                            rlog_entry_json_cost(&en), ENTRY_MAX_BYTES);
        env_reply_error(st->env, src, body, ERR_MALFORMED_REQUEST, t, NULL);
        free(t);
        free(en.value);
        free(en.from);
        goto out;
    }
    m.key = NULL; /* the entry has it */
    uint64_t idx = log_push(st, &en);
    log_sync(st);
    emit_append(st, idx, idx);
    pending_add(&st->pend, src, json_object_get(body, "msg_id"), idx, st->epoch, cas ? KV_CAS : KV_PUT);
    for (int f = 0; f < st->env->n_nodes; f++)
        if (f != st->env->self_idx && st->next[f] == idx)
            send_to(st, f);
    advance_commit(st);
out:
    msg_free_text(fields, &m);
}

static void on_write(void *vst, const char *src, const json_t *body)
{
    client_write(vst, src, body, 0);
}

static void on_cas(void *vst, const char *src, const json_t *body)
{
    client_write(vst, src, body, 1);
}

/* ---- timers ---------------------------------------------------------------------------------- */

static void leader_on_timer(void *vst, int kind, uint64_t arg)
{
    struct ld *st = vst;
    if (kind == T_HEARTBEAT) {
        st->hb_timer = 0;
        if (st->role != ROLE_LEADER)
            return;
        for (int f = 0; f < st->env->n_nodes; f++)
            if (f != st->env->self_idx && st->silent[f] < 1000000)
                st->silent[f]++;
        heartbeat_all(st);
        st->hb_timer = env_timer_set(st->env, st->hb_us, T_HEARTBEAT, 0);
    } else if (kind == T_FAILOVER) {
        /* A timer that fired while the node was paused cannot be cancelled any more: when it
         * runs after the replication that re-armed it, its generation is old. */
        if (arg != st->timer_gen)
            return;
        st->fo_timer = 0;
        if (st->role != ROLE_FOLLOWER || !st->autofail)
            return;
        char *why = xasprintf("failover: no heartbeat from %s", st->leader >= 0 ? name_of(st, st->leader) : "any leader");
        promote(st, why);
        free(why);
    }
}

/* ---- commands ---------------------------------------------------------------------------- */

static json_t *cmd_promote(void *vst, int argc, char **argv)
{
    struct ld *st = vst;
    if (argc > 0 && strcmp(argv[0], st->env->self))
        return json_pack("{s:b,s:s}", "ok", 0, "text", "promote runs on the node to promote");
    if (st->role == ROLE_LEADER) {
        char *t = xasprintf("%s already leads epoch %llu", st->env->self, (unsigned long long)st->epoch);
        json_t *r = json_pack("{s:b,s:s}", "ok", 0, "text", t);
        free(t);
        return r;
    }
    if (promote(st, "promote command") < 0)
        return json_pack("{s:b,s:s}", "ok", 0, "text", "epoch exhausted: cannot promote");
    char *t = xasprintf("%s is now leader (epoch %llu)", st->env->self, (unsigned long long)st->epoch);
    json_t *r = json_pack("{s:b,s:s}", "ok", 1, "text", t);
    free(t);
    return r;
}

/* ---- life cycle -------------------------------------------------------------------------------- */

static void *leader_create(struct env *e, const struct opts *o, char *err, size_t errlen)
{
    struct ld *st = xcalloc(1, sizeof *st);
    st->env = e;
    const char *r = opts_get(o, "repl", "async");
    st->repl = !strcmp(r, "sync") ? REPL_SYNC : !strcmp(r, "semisync") ? REPL_SEMISYNC : REPL_ASYNC;
    st->fencing = !strcmp(opts_get(o, "fencing", "off"), "on");
    st->autofail = strcmp(opts_get(o, "failover", "auto"), "manual") != 0;
    st->sync_block = !strcmp(opts_get(o, "sync_down", "refuse"), "block");
    st->hb_us = opts_get_duration(o, "heartbeat", 250000);
    st->fo_us = opts_get_duration(o, "failover_timeout", 1000000);
    if (st->hb_us < 1000 || st->fo_us < 2 * st->hb_us) {
        snprintf(err, errlen, "heartbeat must be at least 1ms and failover_timeout at least two "
                              "heartbeats (heartbeat=%llums failover_timeout=%llums)",
                 (unsigned long long)(st->hb_us / 1000), (unsigned long long)(st->fo_us / 1000));
        free(st);
        return NULL;
    }
    kvsm_init(&st->sm);
    st->rc_discarded = json_array();
    st->leader = -1;

    char *blob = NULL;
    size_t len = 0;
    int brc = e->ops->blob_get(e, STATE_NAME, &blob, &len);
    if (brc < 0 && brc != CL_ENOENT) { /* unreadable is not blank: refuse rather than forget */
        snprintf(err, errlen, "%s of %s cannot be read back: refusing to start", STATE_NAME, e->self);
        kvsm_free(&st->sm);
        json_decref(st->rc_discarded);
        free(st);
        return NULL;
    }
    if (brc == 0) {
        json_error_t jerr;
        json_t *j = json_loadb(blob, len, 0, &jerr);
        struct saved {
            const char *role;
            uint64_t epoch;
            int leader;
        } sv = {NULL, 0, -1};
        static const struct msg_field saved_fields[] = {
            MSG_STR(struct saved, role),
            MSG_U64(struct saved, epoch, MAX_EPOCH),
            MSG_INT(struct saved, leader, -1, CL_MAXN - 1),
            MSG_END,
        };
        char why[200];
        if (msg_get(j, STATE_NAME, saved_fields, &sv, why, sizeof why) < 0 || sv.leader >= e->n_nodes) {
            snprintf(err, errlen, "%s of %s is corrupt: %s", STATE_NAME, e->self,
                     sv.leader >= e->n_nodes ? "the leader is not a node" : why);
            json_decref(j);
            free(blob);
            kvsm_free(&st->sm);
            json_decref(st->rc_discarded);
            free(st);
            return NULL;
        }
        st->role = !strcmp(sv.role, "leader") ? ROLE_LEADER : ROLE_FOLLOWER;
        st->epoch = sv.epoch;
        st->leader = sv.leader;
        if (st->role == ROLE_LEADER)
            st->leader = e->self_idx;
        json_decref(j);
        free(blob);
    } else {
        /* First start: n1 leads epoch 1. */
        st->epoch = 1;
        st->leader = 0;
        st->role = e->self_idx == 0 ? ROLE_LEADER : ROLE_FOLLOWER;
        persist_state(st);
    }
    struct load_ctx c = {st, 0};
    if (e->ops->log_read(e, LOG_NAME, load_record, &c) < 0 || c.bad) {
        snprintf(err, errlen, "%s of %s is corrupt at record %zu", LOG_NAME, e->self, st->log.n + 1);
        rlog_free(&st->log);
        kvsm_free(&st->sm);
        json_decref(st->rc_discarded);
        free(st);
        return NULL;
    }
    rebuild_data(st);
    for (int f = 0; f < CL_MAXN; f++)
        st->next[f] = st->log.n + 1;
    return st;
}

static void leader_start(void *vst)
{
    struct ld *st = vst;
    env_event(st->env, "state", json_pack("{s:s,s:I,s:s}", "role", role_names[st->role], "epoch",
                                          (json_int_t)st->epoch, "leader", name_of(st, st->leader)));
    if (st->role == ROLE_LEADER) {
        advance_commit(st);
        heartbeat_all(st);
        st->hb_timer = env_timer_set(st->env, st->hb_us, T_HEARTBEAT, 0);
    } else {
        arm_failover(st);
    }
}

static void leader_destroy(void *vst)
{
    struct ld *st = vst;
    if (!st)
        return;
    rlog_free(&st->log);
    drop_pending(st);
    kvsm_free(&st->sm);
    json_decref(st->rc_discarded);
    free(st);
}

static json_t *leader_status(void *vst)
{
    struct ld *st = vst;
    json_t *logj = json_array();
    uint64_t first = st->log.n > TAIL ? st->log.n - TAIL + 1 : 1;
    for (uint64_t i = first; i <= st->log.n; i++) {
        char *cmd = entry_cmd(&st->log.e[i - 1]);
        /* "term" as in the other modes' logs (the Log pane folds it): here, the epoch */
        json_array_append_new(logj, json_pack("{s:I,s:I,s:I,s:s,s:s,s:s,s:o,s:b}", "index",
                                              (json_int_t)i, "epoch",
                                              (json_int_t)st->log.e[i - 1].term, "term",
                                              (json_int_t)st->log.e[i - 1].term, "by",
                                              name_of(st, st->log.e[i - 1].by), "cmd", cmd, "key",
                                              st->log.e[i - 1].key, "value", kvsm_value_decode(st->log.e[i - 1].value),
                                              "acked", i <= st->commit));
        json_object_set_new(json_array_get(logj, json_array_size(logj) - 1), "committed",
                            json_boolean(i <= st->commit));
        free(cmd);
    }
    json_t *match = json_object();
    if (st->role == ROLE_LEADER)
        for (int f = 0; f < st->env->n_nodes; f++)
            if (f != st->env->self_idx)
                json_object_set_new(match, name_of(st, f), json_integer((json_int_t)st->match[f]));
    json_t *extra = json_pack("{s:s,s:s,s:s,s:s,s:o,s:I}", "repl", repl_names[st->repl], "fencing",
                              st->fencing ? "on" : "off", "failover",
                              st->autofail ? "auto" : "manual", "sync_down",
                              st->sync_block ? "block" : "refuse", "match", match, "pending",
                              (json_int_t)st->pend.n);
    if (st->role == ROLE_LEADER && st->repl == REPL_SEMISYNC && sync_follower(st) >= 0)
        json_object_set_new(extra, "sync_follower", json_string(name_of(st, sync_follower(st))));
    return json_pack("{s:s,s:I,s:s,s:I,s:I,s:O,s:o,s:I,s:o}", "role", role_names[st->role],
                     "epoch", (json_int_t)st->epoch, "leader", name_of(st, st->leader), "commit",
                     (json_int_t)st->commit, "applied", (json_int_t)st->log.n, "data", st->sm.data,
                     "log", logj, "log_first", (json_int_t)first, "extra", extra);
}

static const struct mode_option leader_options[] = {
    {"repl", OPT_ENUM, "async|sync|semisync", 0, 0, "async",
     "when a write is acked: async after the leader's own fsync; sync after every follower's; "
     "semisync after the first follower's"},
    {"failover", OPT_ENUM, "auto|manual", 0, 0, "auto",
     "auto: a follower promotes itself when the leader is silent for failover_timeout; manual: "
     "only `promote NODE`"},
    {"fencing", OPT_ENUM, "on|off", 0, 0, "off",
     "on: followers refuse an older epoch's replication and the old leader steps down"},
    {"sync_down", OPT_ENUM, "refuse|block", 0, 0, "refuse",
     "sync/semisync with a silent required follower: refuse new writes (error 11) or block them"},
    {"heartbeat", OPT_DURATION, NULL, 0, 0, "250ms", "leader heartbeat interval"},
    {"failover_timeout", OPT_DURATION, NULL, 0, 0, "1s",
     "silence after which the leader is presumed dead (and a sync follower unreachable)"},
    {NULL, 0, NULL, 0, 0, NULL, NULL},
};

static const struct mode_handler leader_handlers[] = {
    {"read", on_read},
    {"write", on_write},
    {"cas", on_cas},
    {"replicate", on_replicate},
    {"replicate_ok", on_replicate_ok},
    {NULL, NULL},
};

static const struct mode_command leader_commands[] = {
    {"promote", "promote NODE", "make NODE the leader now, in a new epoch (run on NODE)",
     "promote n2", 1, 1, cmd_promote, MC_ON_NODE},
    {NULL, NULL, NULL, NULL, 0, 0, NULL, MC_ANY},
};

static const struct mode_role leader_roles[] = {
    {"leader", RC_LEADER},
    {"follower", RC_FOLLOWER},
    {NULL, RC_UNKNOWN},
};

static const struct mode_figure leader_figures[] = {
    {"epoch", "epoch", NULL},
    {"leader", "leader", NULL},
    {"commit", "commit", "c"},
    {"applied", "applied", "a"},
    {NULL, NULL, NULL},
};

const struct mode mode_leader = {
    .name = "leader",
    .summary = "single-leader replication (sync, async, semisync) with naive or fenced failover",
    .options = leader_options,
    .bugs = NULL,
    .handlers = leader_handlers,
    .commands = leader_commands,
    .create = leader_create,
    .start = leader_start,
    .destroy = leader_destroy,
    .on_timer = leader_on_timer,
    .status = leader_status,
    .workload = "lin-kv",
    .roles = leader_roles,
    .figures = leader_figures,
    .events = "state|append|commit|apply|truncate|fenced|discard|divergence|error",
    .compare_as = "single-leader",
    .compare_opts = "failover=auto",
};
