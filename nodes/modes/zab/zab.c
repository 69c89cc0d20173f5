/* zab — ZooKeeper Atomic Broadcast as a pure state machine behind struct env, with a key/value
 * store (the kit's kvsm) on the delivered history (the kit's rlog).
 *
 * Sources: Junqueira, Reed and Serafini, "Zab: High-performance broadcast for primary-backup
 * systems" (DSN 2011) — "ZAB §n" below — for the phases and the properties; ZooKeeper's
 * FastLeaderElection and Learner/LearnerHandler for the election and the DIFF/TRUNC/SNAP
 * synchronization.
 *
 * Roles and phases (set_role() is the only place that changes them and emits `state`):
 *
 *            Fast Leader Election                 Discovery        Synchronization   Broadcast
 *   LOOKING ── votes (epoch, last zxid, id) ──┬─► LEADING: FOLLOWERINFO ─► NEWEPOCH ─► SYNC+NEWLEADER ─► propose/ack/commit
 *      ▲        a quorum agrees on one vote    └─► FOLLOWING: ────────── ACKEPOCH ──► ACK(NEWLEADER) ──► ack, deliver on commit
 *      └──────── a leader that hears from no quorum, a follower that hears no leader,
 *                a NEWEPOCH below our accepted epoch, a follower ahead of its leader
 *
 * zxid = epoch:counter, the number epoch × 2^32 + counter (shown 0x100000001). A new leader
 * takes epoch e' = 1 + the highest accepted epoch of a quorum (ZAB §4 phase 1), brings every
 * follower up to its own history (it was elected for having the newest one) by DIFF (the
 * proposals it lacks), TRUNC (drop a suffix the leader never had, then DIFF) or SNAP (the
 * committed state at once, when the follower is too far behind), and commits its whole history
 * once a quorum acknowledged NEWLEADER — before any proposal of epoch e' (primary integrity).
 *
 * Invariants (tests/check_zab.c after every simulator step; live, zabmon.c from the events):
 *   integrity (only broadcast proposals are delivered), total order and agreement (the same
 *   zxid and command at every index everywhere), local and global primary order (zxids
 *   delivered in increasing order), primary integrity, old-epoch proposals refused, a commit
 *   only after a quorum acknowledged.
 *
 * Durable state: blob "zab.epochs" (acceptedEpoch, currentEpoch), log "zab.log" (the history
 * after the snapshot base, one record per proposal), blob "zab.snap" (a SNAP received: index,
 * zxid, data, sessions). Each is synced before the message that depends on it leaves.
 *
 * service=zk: beside the key/value store, the delivered history also feeds a ZooKeeper-like
 * tree (the kit's zksm: znodes persistent, ephemeral and sequential, versions, sessions,
 * one-shot watches). A client sends {"type":"zk","op":{…}}; every operation, reads included,
 * is a proposal of its own (type KV_OP), so reads are linearizable and watches are set in the
 * same total order on every replica. Sessions: opened and closed through the log; clients
 * send zk_heartbeat to every node (never logged); the leader in broadcast proposes
 * close(session, "expired") once it heard no heartbeat for the session's timeout (measured
 * on its clock, not scaled by the lab's speed), and a new leader grants every session a fresh
 * timeout first (as ZooKeeper's does). Each replica that delivers a change that fires a watch
 * tells the watch's client (zk_watch, with the watch's id: a client keeps the first copy).
 *
 * Bug toggles (bug=NAME):
 *   skip-sync             a new leader serves right after the election: no discovery, no
 *                         synchronization; followers append its proposals to whatever history
 *                         they have, so a follower that missed a committed write never gets it
 *   commit-before-quorum  the leader commits a proposal as soon as it has logged it itself
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvsm.h"
#include "mode.h"
#include "msg.h"
#include "pending.h"
#include "rlog.h"
#include "zabmon.h"
#include "zksm.h"

enum role { LOOKING, FOLLOWING, LEADING };
static const char *const role_names[] = {"looking", "following", "leading"};
enum phase { PH_ELECTION, PH_DISCOVERY, PH_SYNC, PH_BROADCAST };
static const char *const phase_names[] = {"election", "discovery", "synchronization", "broadcast"};

/* The role a node shows: a leader is "prospective" (the paper's word) until a quorum has
 * acknowledged NEWLEADER, so that `wait leader` means a leader that can serve. */
static const char *shown_role(int role, int phase)
{
    if (role < 0)
        return role_names[0];
    return role == 2 && phase != 3 ? "prospective" : role_names[role];
}
enum tkind { T_FLE = 1, T_FINALIZE, T_TICK, T_FLUSH, T_PHASE };
enum bug { BUG_NONE, BUG_SKIP_SYNC, BUG_COMMIT_BEFORE_QUORUM };

#define MAX_EPOCH (1ull << 30)
#define MAX_INDEX (1ull << 40)
#define MAX_ZXID (1ull << 62)
#define MAX_PENDING 4096
#define MAX_HELD 1024
#define READ_TYPE 100
#define ZK_TYPE 101
#define ZX(e, c) (((uint64_t)(e) << 32) | (uint64_t)(c))
#define ZX_EPOCH(z) ((z) >> 32)

struct vote {
    int id;
    uint64_t zxid, epoch;
};

struct fpeer {                  /* the leader's view of one follower */
    int stage;                  /* 0 none, 1 FOLLOWERINFO seen, 2 NEWEPOCH acked + synced, 3 NEWLEADER acked */
    uint64_t accepted_epoch;    /* from FOLLOWERINFO */
    uint64_t next, acked, acked_at_tick;
    uint64_t sent_commit;
    int heard;
};

struct reply {
    char dest[CL_IDLEN];
    json_t *body;
};

struct held {
    char client[CL_IDLEN];
    json_t *body;
    int ticks;
};

struct zk_alive {                 /* when this node last heard from a session's client */
    uint64_t sid, last_us;
    int proposed;                /* the leader proposed its expiry */
};

struct zab {
    struct env *e;
    int zk;                      /* service=zk */
    struct zksm zsm;
    struct zk_alive *alive;
    size_t nalive;
    int bug, diff_max;
    uint64_t el_us, hb_us;
    /* durable */
    uint64_t accepted_epoch, current_epoch;
    struct rlog log;            /* the history: entry term = its zxid */
    uint64_t synced;            /* entries <= synced are on disk */
    size_t file_recs;           /* records in zab.log (entries base+1 .. base+file_recs) */
    /* volatile */
    int role, phase, leader;
    uint64_t commit, applied;
    struct kvsm sm;
    /* election */
    uint64_t round;
    struct vote vote;
    struct vote recv[CL_MAXN];
    uint64_t recv_round[CL_MAXN];
    int recv_state[CL_MAXN];    /* -1 none, else the sender's role */
    uint32_t have_recv;
    uint64_t t_fle, t_finalize;
    /* leader */
    uint64_t new_epoch, counter;
    uint64_t prev_epoch, prev_zxid; /* the leader's (currentEpoch, last zxid) before e' */
    struct fpeer fp[CL_MAXN];
    uint64_t sync_index;        /* the history a new leader synchronizes everyone to */
    int quiet_ticks;
    /* follower */
    int leader_heard;
    uint64_t el_jitter;         /* this follower's share of [0, T] added to its patience */
    int follow_quiet;
    uint64_t t_tick, t_flush, t_phase;
    struct reply *replies;
    size_t nreplies, capreplies;
    struct pending pend;
    struct held *held;
    size_t nheld;
};

/* ---- helpers -------------------------------------------------------------------------------- */

static int quorum(const struct zab *z) { return z->e->n_nodes / 2 + 1; }
static const char *node_id(const struct zab *z, int i) { return z->e->nodes[i]; }
static uint64_t last_index(const struct zab *z) { return rlog_last(&z->log); }
static uint64_t last_zxid(const struct zab *z) { return rlog_term_at(&z->log, last_index(z)); }

static void zxid_text(uint64_t zx, char buf[32])
{
    snprintf(buf, 32, "0x%llx", (unsigned long long)zx);
}

static void emit(struct zab *z, const char *ev, json_t *f)
{
    env_event(z->e, ev, f);
}

static void emit_error(struct zab *z, const char *src, const char *what)
{
    emit(z, "error", json_pack("{s:s,s:s}", "text", what, "from", src));
}

static json_t *with_zxid(json_t *f, const char *key, uint64_t zx)
{
    char t[32], k[40];
    zxid_text(zx, t);
    json_object_set_new(f, key, json_integer((json_int_t)zx));
    snprintf(k, sizeof k, "%s_text", key);
    json_object_set_new(f, k, json_string(t));
    return f;
}

static char *entry_label(const struct zab *z, const struct rlog_entry *en)
{
    if (en->type == KV_NOOP && en->key)
        return xasprintf("read %.80s", en->key);
    if (en->type == KV_OP) {
        json_t *op = json_loads(en->value ? en->value : "", 0, NULL);
        char *t = zksm_op_text(op);
        char *l = xasprintf("zk %s", t);
        free(t);
        json_decref(op);
        (void)z;
        return l;
    }
    return rlog_entry_label(en, z->e->nodes, z->e->n_nodes);
}

static int vote_better(const struct vote *a, const struct vote *b)
{
    if (a->epoch != b->epoch)
        return a->epoch > b->epoch;
    if (a->zxid != b->zxid)
        return a->zxid > b->zxid;
    return a->id > b->id;
}

static int vote_eq(const struct vote *a, const struct vote *b)
{
    return a->id == b->id && a->zxid == b->zxid && a->epoch == b->epoch;
}

/* ---- durable state -------------------------------------------------------------------------- */

#define LOG_NAME "zab.log"

static void persist_epochs(struct zab *z)
{
    char buf[64];
    int n = snprintf(buf, sizeof buf, "%llu %llu\n", (unsigned long long)z->accepted_epoch,
                     (unsigned long long)z->current_epoch);
    z->e->ops->blob_put(z->e, "zab.epochs", buf, (size_t)n);
}

static json_t *entry_json(uint64_t i, const struct rlog_entry *en)
{
    return json_pack("[I,I,i,s?,s?,s?,s?,I]", (json_int_t)i, (json_int_t)en->term, en->type, en->key, en->value,
                     en->from, en->client, (json_int_t)en->msg_id);
}

static void append_record(struct zab *z, uint64_t i, const struct rlog_entry *en)
{
    json_t *j = entry_json(i, en);
    char *s = json_dumps(j, JSON_COMPACT);
    z->e->ops->log_append(z->e, LOG_NAME, s, strlen(s));
    free(s);
    json_decref(j);
    z->file_recs++;
}

static void sync_log(struct zab *z)
{
    if (z->synced >= last_index(z))
        return;
    z->e->ops->log_sync(z->e, LOG_NAME);
    z->synced = last_index(z);
}

/* Appends en (its strings taken) at last + 1, to memory and the file (not synced). */
static void push(struct zab *z, struct rlog_entry *en)
{
    uint64_t i = rlog_push(&z->log, en);
    append_record(z, i, rlog_at(&z->log, i));
}

/* Drops the entries after index keep (TRUNC): durable when it returns. */
static void truncate_after(struct zab *z, uint64_t keep)
{
    if (keep >= last_index(z))
        return;
    char t[32];
    zxid_text(rlog_term_at(&z->log, keep), t);
    emit(z, "truncate", json_pack("{s:I,s:I,s:s}", "index", (json_int_t)(keep + 1), "count",
                                  (json_int_t)(last_index(z) - keep), "to_zxid", t));
    rlog_truncate(&z->log, keep + 1);
    z->file_recs = (size_t)(keep - z->log.base);
    z->e->ops->log_truncate(z->e, LOG_NAME, z->file_recs);
    if (z->synced > keep)
        z->synced = keep;
    if (z->commit > keep)
        z->commit = keep; /* only uncommitted proposals are ever truncated (checked by zabmon) */
}

struct load {
    struct zab *z;
    int bad;
};

static int parse_entry_json(const json_t *j, uint64_t *index, struct rlog_entry *en);

static void load_rec(void *ud, const void *data, size_t len)
{
    struct load *ld = ud;
    if (ld->bad)
        return;
    json_t *j = json_loadb(data, len, 0, NULL);
    uint64_t i;
    struct rlog_entry en;
    if (!j || parse_entry_json(j, &i, &en) < 0 || i != last_index(ld->z) + 1) {
        if (j && i)
            rlog_entry_free(&en);
        ld->bad = 1;
        json_decref(j);
        return;
    }
    json_decref(j);
    rlog_push(&ld->z->log, &en);
    ld->z->file_recs++;
}

/* ---- roles ------------------------------------------------------------------------------------ */

static void set_role(struct zab *z, int role, int phase, int leader)
{
    if (z->role == role && z->phase == phase && z->leader == leader)
        return;
    if (role == LEADING && phase == PH_BROADCAST)
        z->nalive = 0; /* a new leader grants every session a fresh timeout (tick re-adds them) */
    z->role = role;
    z->phase = phase;
    z->leader = leader;
    json_t *f = json_pack("{s:s,s:I,s:s,s:I}", "role", shown_role(role, phase), "epoch", (json_int_t)z->current_epoch,
                          "phase", phase_names[phase], "accepted_epoch", (json_int_t)z->accepted_epoch);
    if (leader >= 0)
        json_object_set_new(f, "leader", json_string(node_id(z, leader)));
    emit(z, "state", f);
}

static void arm_flush(struct zab *z)
{
    if (!z->t_flush)
        z->t_flush = env_timer_set(z->e, 0, T_FLUSH, 0);
}

static void queue_reply(struct zab *z, const char *dest, json_t *body)
{
    if (z->nreplies == z->capreplies) {
        z->capreplies = z->capreplies ? z->capreplies * 2 : 16;
        z->replies = xrealloc(z->replies, z->capreplies * sizeof *z->replies);
    }
    str_copy(z->replies[z->nreplies].dest, dest, CL_IDLEN);
    z->replies[z->nreplies++].body = body;
    arm_flush(z);
}

static void send_all(struct zab *z, json_t *body)
{
    for (int i = 0; i < z->e->n_nodes; i++)
        if (i != z->e->self_idx)
            env_send(z->e, node_id(z, i), json_deep_copy(body));
    json_decref(body);
}

static void client_request(struct zab *z, const char *src, const json_t *body, int redirect_now);

static void serve_held(struct zab *z)
{
    if (!z->nheld)
        return;
    if (!(z->role == LEADING && z->phase == PH_BROADCAST) && !(z->role == FOLLOWING && z->leader_heard))
        return;
    size_t n = z->nheld;
    struct held *h = z->held;
    z->held = NULL;
    z->nheld = 0;
    for (size_t i = 0; i < n; i++) {
        client_request(z, h[i].client, h[i].body, 1);
        json_decref(h[i].body);
    }
    free(h);
}

/* ---- Fast Leader Election ---------------------------------------------------------------------- */

static void send_notification(struct zab *z, const char *dest)
{
    json_t *b = json_pack("{s:s,s:I,s:s,s:s,s:I,s:I}", "type", "notification", "round", (json_int_t)z->round,
                          "state", role_names[z->role], "vote", node_id(z, z->role == LOOKING ? z->vote.id : z->leader),
                          "vote_zxid", (json_int_t)(z->role == LOOKING ? z->vote.zxid : last_zxid(z)),
                          "vote_epoch", (json_int_t)(z->role == LOOKING ? z->vote.epoch : z->current_epoch));
    if (dest)
        env_send(z->e, dest, b);
    else
        send_all(z, b);
}

static void emit_vote(struct zab *z, const char *why)
{
    char t[32];
    zxid_text(z->vote.zxid, t);
    emit(z, "fle", json_pack("{s:I,s:s,s:I,s:s,s:s}", "round", (json_int_t)z->round, "vote", node_id(z, z->vote.id),
                             "vote_epoch", (json_int_t)z->vote.epoch, "vote_zxid", t, "why", why));
}

static void fail_pending(struct zab *z, const char *why);

/* "LOOKING": vote for ourselves in a new round and tell everyone (FLE). */
static void start_election(struct zab *z, const char *why)
{
    fail_pending(z, why);
    z->round++;
    z->vote = (struct vote){z->e->self_idx, last_zxid(z), z->current_epoch};
    z->have_recv = 0;
    for (int i = 0; i < CL_MAXN; i++)
        z->recv_state[i] = -1;
    for (int i = 0; i < z->e->n_nodes; i++)
        z->fp[i] = (struct fpeer){0};
    z->leader_heard = 0;
    env_timer_cancel(z->e, z->t_finalize);
    z->t_finalize = 0;
    env_timer_cancel(z->e, z->t_phase);
    z->t_phase = 0;
    set_role(z, LOOKING, PH_ELECTION, -1);
    emit(z, "election", json_pack("{s:I,s:s}", "round", (json_int_t)z->round, "why", why));
    emit_vote(z, "own");
    send_notification(z, NULL);
    env_timer_cancel(z->e, z->t_fle);
    z->t_fle = env_timer_set(z->e, env_rand_range(z->e, z->el_us, 2 * z->el_us), T_FLE, 0);
}

static void become_leader(struct zab *z);
static void become_follower(struct zab *z, int leader);

/* Does a quorum (ourselves included) back our current vote in this round? */
static int vote_has_quorum(struct zab *z)
{
    int n = 1;
    for (int i = 0; i < z->e->n_nodes; i++)
        if (i != z->e->self_idx && ((z->have_recv >> i) & 1) && z->recv_state[i] == LOOKING &&
            z->recv_round[i] == z->round && vote_eq(&z->recv[i], &z->vote))
            n++;
    return n >= quorum(z);
}

/* Do a quorum of nodes say they follow (or are) leader l? */
static int leader_has_quorum(struct zab *z, int l)
{
    int n = 0, leads = 0;
    for (int i = 0; i < z->e->n_nodes; i++) {
        if (i == z->e->self_idx || !((z->have_recv >> i) & 1) || z->recv_state[i] == LOOKING)
            continue;
        if (z->recv[i].id == l) {
            n++;
            if (i == l && z->recv_state[i] == LEADING)
                leads = 1;
        }
    }
    return leads && n + 1 >= quorum(z);
}

static void decide(struct zab *z)
{
    env_timer_cancel(z->e, z->t_fle);
    z->t_fle = 0;
    emit_vote(z, "decided");
    if (z->vote.id == z->e->self_idx)
        become_leader(z);
    else
        become_follower(z, z->vote.id);
}

struct nmsg {
    uint64_t round, vote_zxid, vote_epoch;
    const char *state, *vote;
};

static const struct msg_field notification_fields[] = {
    MSG_U64(struct nmsg, round, MAX_INDEX), MSG_STR(struct nmsg, state), MSG_STR(struct nmsg, vote),
    MSG_U64(struct nmsg, vote_zxid, MAX_ZXID), MSG_U64(struct nmsg, vote_epoch, MAX_EPOCH), MSG_END,
};

static int peer_index(struct zab *z, const char *src)
{
    int p = env_node_index(z->e, src);
    if (p < 0 || p == z->e->self_idx) {
        emit_error(z, src, "zab message from a sender that is not a peer");
        return -1;
    }
    return p;
}

static int peer_get(struct zab *z, const char *src, const json_t *body, const struct msg_field *f, void *out)
{
    char err[300];
    if (msg_get(body, NULL, f, out, err, sizeof err) == 0)
        return 0;
    emit_error(z, src, err);
    return -1;
}

static void on_notification(void *st, const char *src, const json_t *body)
{
    struct zab *z = st;
    int p = peer_index(z, src);
    struct nmsg m;
    if (p < 0 || peer_get(z, src, body, notification_fields, &m) < 0)
        return;
    int vid = env_node_index(z->e, m.vote), state = -1;
    for (int k = 0; k < 3; k++)
        if (!strcmp(m.state, role_names[k]))
            state = k;
    if (vid < 0 || state < 0) {
        emit_error(z, src, "notification needs \"vote\" a node of the cluster and \"state\" looking, following or leading");
        return;
    }
    struct vote v = {vid, m.vote_zxid, m.vote_epoch};
    if (z->role != LOOKING) {
        /* we know the leader: tell a looking node so it can join */
        if (state == LOOKING)
            send_notification(z, src);
        return;
    }
    z->have_recv |= 1u << p;
    z->recv[p] = v;
    z->recv_round[p] = m.round;
    z->recv_state[p] = state;
    if (state == LOOKING) {
        if (m.round > z->round) {
            /* a newer round: join it, voting for the better of our own and theirs */
            z->round = m.round;
            uint32_t keep = 1u << p;
            z->have_recv &= keep;
            struct vote own = {z->e->self_idx, last_zxid(z), z->current_epoch};
            z->vote = vote_better(&v, &own) ? v : own;
            emit_vote(z, "newer round");
            send_notification(z, NULL);
        } else if (m.round < z->round) {
            send_notification(z, src); /* bring it to our round */
            return;
        } else if (vote_better(&v, &z->vote)) {
            /* FLE: "if the received vote is better, adopt it and tell everyone" */
            z->vote = v;
            emit_vote(z, "better vote");
            send_notification(z, NULL);
        }
        if (vote_has_quorum(z) && !z->t_finalize)
            /* wait a moment for a better vote before deciding (FLE's finalizeWait) */
            z->t_finalize = env_timer_set(z->e, z->el_us / 10, T_FINALIZE, z->round);
        return;
    }
    /* from a node that follows or leads: join that leader if a quorum stands behind it */
    if (leader_has_quorum(z, v.id)) {
        z->vote = v;
        decide(z);
    }
}

/* ---- history and delivery -------------------------------------------------------------------- */

static json_t *result_body(int type, int code)
{
    if (code == 0)
        return json_pack("{s:s}", "type", type == KV_CAS ? "cas_ok" : "write_ok");
    return json_pack("{s:s,s:i,s:s}", "type", "error", "code", code, "text",
                     code == ERR_PRECONDITION_FAILED ? "precondition failed" : "key does not exist");
}

struct delivered {
    struct zab *z;
    const struct rlog_entry *en;
    int code;
    json_t *zres;               /* a KV_OP's result */
};

static void answer(void *ud, const struct pending_req *pd)
{
    struct delivered *d = ud;
    if (pd->term != d->en->term) {
        pending_reply_error(d->z->e, pd, ERR_TEMPORARILY_UNAVAILABLE, "proposal replaced by a new leader's history");
        return;
    }
    if (pd->type == ZK_TYPE) {
        const json_t *ec = json_object_get(d->zres, "error");
        if (ec) {
            pending_reply_error(d->z->e, pd, (int)json_integer_value(ec), json_string_value(json_object_get(d->zres, "text")));
            return;
        }
        json_t *r = json_deep_copy(d->zres);
        json_object_set_new(r, "type", json_string("zk_ok"));
        pending_reply(d->z->e, pd, r);
        return;
    }
    if (pd->type == READ_TYPE) {
        const json_t *v = json_object_get(d->z->sm.data, d->en->key ? d->en->key : "");
        pending_reply(d->z->e, pd, json_pack("{s:s,s:O}", "type", "read_ok", "value", v ? v : json_null()));
        return;
    }
    pending_reply(d->z->e, pd, result_body(pd->type, d->code));
}

/* ---- the ZooKeeper-like service (service=zk) -------------------------------------------------- */

static struct zk_alive *alive_of(struct zab *z, uint64_t sid)
{
    for (size_t i = 0; i < z->nalive; i++)
        if (z->alive[i].sid == sid)
            return &z->alive[i];
    z->alive = xrealloc(z->alive, (z->nalive + 1) * sizeof *z->alive);
    struct zk_alive *a = &z->alive[z->nalive++];
    a->sid = sid;
    a->last_us = env_now_us(z->e);
    a->proposed = 0;
    return a;
}

static void alive_drop(struct zab *z, uint64_t sid)
{
    for (size_t i = 0; i < z->nalive; i++)
        if (z->alive[i].sid == sid) {
            z->alive[i] = z->alive[--z->nalive];
            return;
        }
}

/* Applies a KV_OP entry to the tree: the result into *res, the watches it fired told to their
 * clients, sessions opened and closed shown. Returns 0 or the error code of the result. */
static int zk_apply(struct zab *z, uint64_t i, const struct rlog_entry *en, json_t **res)
{
    json_t *op = json_loads(en->value ? en->value : "", 0, NULL);
    json_t *fired = json_array();
    *res = zksm_apply(&z->zsm, i, en->client, op, fired);
    const char *name = json_string_value(json_object_get(op, "op"));
    if (name && !strcmp(name, "open") && json_object_get(*res, "session")) {
        uint64_t sid = (uint64_t)json_integer_value(json_object_get(*res, "session"));
        alive_of(z, sid)->last_us = env_now_us(z->e);
        emit(z, "zk_session", json_pack("{s:s,s:I,s:s,s:I}", "what", "open", "session", (json_int_t)sid, "client",
                                        en->client ? en->client : "", "timeout_ms",
                                        json_integer_value(json_object_get(op, "timeout")) / 1000));
    } else if (name && !strcmp(name, "close") && json_object_get(*res, "deleted")) {
        uint64_t sid = (uint64_t)json_integer_value(json_object_get(*res, "session"));
        alive_drop(z, sid);
        const char *why = json_string_value(json_object_get(op, "why"));
        emit(z, "zk_session", json_pack("{s:s,s:I,s:O,s:I}", "what", why && !strcmp(why, "expired") ? "expired" : "closed",
                                        "session", (json_int_t)sid, "deleted", json_object_get(*res, "deleted"), "index",
                                        (json_int_t)i));
    }
    size_t k;
    json_t *w;
    json_array_foreach(fired, k, w) {
        const char *client = json_string_value(json_object_get(w, "client"));
        emit(z, "zk_watch", json_deep_copy(w));
        if (client && *client && env_node_index(z->e, client) < 0) {
            json_t *b = json_deep_copy(w);
            json_object_del(b, "client");
            json_object_set_new(b, "type", json_string("zk_watch"));
            json_object_set_new(b, "index", json_integer((json_int_t)i));
            env_send(z->e, client, b);
        }
    }
    json_decref(fired);
    json_decref(op);
    const json_t *ec = json_object_get(*res, "error");
    return ec ? (int)json_integer_value(ec) : 0;
}

/* Appends a proposal of the leader's own making (its strings taken) with zxid (e', c+1). */
static uint64_t propose_entry(struct zab *z, struct rlog_entry *en)
{
    /* ZAB §4 phase 3: the leader proposes with zxid (e', c+1) */
    en->term = ZX(z->current_epoch, ++z->counter);
    push(z, en);
    uint64_t i = last_index(z);
    char *c = entry_label(z, rlog_at(&z->log, i));
    json_t *f = json_pack("{s:I,s:s,s:I}", "index", (json_int_t)i, "cmd", c, "epoch", (json_int_t)z->current_epoch);
    free(c);
    emit(z, "propose", with_zxid(f, "zxid", rlog_at(&z->log, i)->term));
    arm_flush(z);
    return i;
}

/* The leader in broadcast: sessions whose client said nothing for their timeout expire. */
static void zk_expire(struct zab *z)
{
    uint64_t now = env_now_us(z->e);
    for (size_t k = 0; k < z->zsm.ns; k++) {
        const struct zk_session *s = &z->zsm.s[k];
        struct zk_alive *a = alive_of(z, s->id);
        if (a->proposed || now < a->last_us || now - a->last_us <= s->timeout_us)
            continue;
        a->proposed = 1;
        json_t *op = json_pack("{s:s,s:I,s:s}", "op", "close", "session", (json_int_t)s->id, "why", "expired");
        struct rlog_entry en = {.type = KV_OP, .key = xstrdup("close"), .value = json_dumps(op, JSON_COMPACT | JSON_SORT_KEYS)};
        json_decref(op);
        emit(z, "zk_session", json_pack("{s:s,s:I,s:s,s:I}", "what", "expiring", "session", (json_int_t)s->id, "client",
                                        s->client, "silent_ms", (json_int_t)((now - a->last_us) / 1000)));
        propose_entry(z, &en);
    }
}

static void on_zk_heartbeat(void *st, const char *src, const json_t *body)
{
    struct zab *z = st;
    const json_t *sv = json_object_get(body, "session");
    if (env_node_index(z->e, src) >= 0)
        return;
    if (!z->zk) {
        env_reply_error(z->e, src, body, ERR_NOT_SUPPORTED, "this cluster serves no zk sessions: start zab with service=zk", NULL);
        return;
    }
    if (!json_is_integer(sv) || json_integer_value(sv) <= 0) {
        env_reply_error(z->e, src, body, ERR_MALFORMED_REQUEST, "zk_heartbeat needs \"session\" (the session id, a whole number > 0)", NULL);
        return;
    }
    uint64_t sid = (uint64_t)json_integer_value(sv);
    int alive = zksm_session(&z->zsm, sid) != NULL;
    if (alive)
        alive_of(z, sid)->last_us = env_now_us(z->e);
    json_t *r = json_pack("{s:s,s:I,s:b}", "type", "zk_heartbeat_ok", "session", (json_int_t)sid, "alive", alive);
    if (z->leader >= 0)
        json_object_set_new(r, "leader", json_string(node_id(z, z->leader)));
    env_reply(z->e, src, body, r);
}

/* Delivers (applies) committed proposals in zxid order. */
static void deliver(struct zab *z)
{
    while (z->applied < z->commit) {
        uint64_t i = z->applied + 1;
        struct rlog_entry *en = rlog_at(&z->log, i);
        if (!en)
            break;
        json_t *zres = NULL;
        int code = en->type == KV_OP ? zk_apply(z, i, en, &zres) : kvsm_apply(&z->sm, en);
        z->applied = i;
        char *cmd = entry_label(z, en);
        json_t *f = json_pack("{s:I,s:I,s:s,s:I}", "index", (json_int_t)i, "term", (json_int_t)en->term, "cmd", cmd,
                              "epoch", (json_int_t)ZX_EPOCH(en->term));
        free(cmd);
        with_zxid(f, "zxid", en->term);
        if (en->type == KV_PUT || en->type == KV_CAS) {
            json_object_set_new(f, "key", json_string(en->key ? en->key : ""));
            json_object_set_new(f, "value", kvsm_value_decode(en->value));
        }
        emit(z, "apply", f);
        struct delivered d = {z, en, code, zres};
        pending_take(&z->pend, i, 1, answer, &d);
        json_decref(zres);
    }
}

static void set_commit(struct zab *z, uint64_t c, int acks)
{
    if (c > last_index(z))
        c = last_index(z);
    if (c <= z->commit)
        return;
    z->commit = c;
    json_t *f = json_pack("{s:I,s:I,s:I}", "index", (json_int_t)c, "term", (json_int_t)rlog_term_at(&z->log, c),
                          "epoch", (json_int_t)z->current_epoch);
    with_zxid(f, "zxid", rlog_term_at(&z->log, c));
    if (acks >= 0) {
        json_object_set_new(f, "acks", json_integer(acks));
        json_object_set_new(f, "quorum", json_integer(quorum(z)));
    }
    emit(z, "commit", f);
    deliver(z);
}

static void fail_pending(struct zab *z, const char *why)
{
    (void)why;
    /* requests whose proposals may still be committed by the next leader: their outcome is
     * unknown here, the client's timeout reports them as indeterminate */
    pending_drop_upto(&z->pend, UINT64_MAX);
}

/* ---- leader: discovery and synchronization ------------------------------------------------------ */

static void follower_sync(struct zab *z, int f, uint64_t f_epoch, uint64_t f_zxid, uint64_t f_last);

static void become_leader(struct zab *z)
{
    for (int i = 0; i < z->e->n_nodes; i++)
        z->fp[i] = (struct fpeer){0};
    z->quiet_ticks = 0;
    if (z->bug == BUG_SKIP_SYNC) {
        /* the bug: no discovery, no synchronization — serve at once in a new epoch */
        z->accepted_epoch = z->current_epoch = z->accepted_epoch + 1;
        persist_epochs(z);
        z->new_epoch = z->current_epoch;
        z->counter = 0;
        z->sync_index = last_index(z);
        set_role(z, LEADING, PH_BROADCAST, z->e->self_idx);
        for (int i = 0; i < z->e->n_nodes; i++) {
            z->fp[i].stage = 3;
            z->fp[i].next = last_index(z) + 1;
            z->fp[i].acked = 0;
        }
        send_all(z, json_pack("{s:s,s:I}", "type", "newepoch", "epoch", (json_int_t)z->new_epoch));
        serve_held(z);
        return;
    }
    z->new_epoch = 0;
    set_role(z, LEADING, PH_DISCOVERY, z->e->self_idx);
    z->fp[z->e->self_idx].stage = 1;
    z->fp[z->e->self_idx].accepted_epoch = z->accepted_epoch;
    /* the followers send FOLLOWERINFO; a leader that gathers no quorum in time looks again */
    z->t_phase = env_timer_set(z->e, 4 * z->el_us, T_PHASE, z->round);
}

/* ZAB §4 phase 1: "e' = max{e : e ∈ accepted epochs of a quorum} + 1". */
static void maybe_new_epoch(struct zab *z)
{
    if (z->new_epoch)
        return;
    int n = 0;
    uint64_t max = 0;
    for (int i = 0; i < z->e->n_nodes; i++)
        if (z->fp[i].stage >= 1) {
            n++;
            if (z->fp[i].accepted_epoch > max)
                max = z->fp[i].accepted_epoch;
        }
    if (n < quorum(z))
        return;
    z->new_epoch = max + 1;
    z->prev_epoch = z->current_epoch;
    z->prev_zxid = last_zxid(z);
    /* the leader itself: its history is the one everyone gets (FLE chose it for that); its
     * acceptedEpoch and currentEpoch become e' on disk, in one write, before NEWEPOCH leaves */
    z->accepted_epoch = z->current_epoch = z->new_epoch;
    persist_epochs(z);
    emit(z, "newepoch", json_pack("{s:I,s:i}", "epoch", (json_int_t)z->new_epoch, "quorum", n));
    for (int i = 0; i < z->e->n_nodes; i++)
        if (i != z->e->self_idx && z->fp[i].stage == 1)
            env_send(z->e, node_id(z, i), json_pack("{s:s,s:I}", "type", "newepoch", "epoch", (json_int_t)z->new_epoch));
    set_role(z, LEADING, PH_SYNC, z->e->self_idx);
    z->sync_index = last_index(z);
    sync_log(z);
    z->fp[z->e->self_idx].stage = 3;
    z->fp[z->e->self_idx].acked = last_index(z);
}

/* Sends follower f what it needs to hold the leader's history (DIFF, TRUNC + DIFF, or SNAP),
 * with NEWLEADER. */
static void follower_sync(struct zab *z, int f, uint64_t f_epoch, uint64_t f_zxid, uint64_t f_last)
{
    (void)f_epoch;
    struct fpeer *fp = &z->fp[f];
    const char *how = "DIFF";
    uint64_t from;          /* the first index sent */
    uint64_t trunc = 0;
    int snap = 0;
    if (f_last <= last_index(z) && f_last >= z->log.base && rlog_term_at(&z->log, f_last) == f_zxid) {
        from = f_last + 1; /* the follower's history is a prefix of ours */
    } else {
        /* it holds proposals we never had (or another history at that index): keep the longest
         * common prefix, the last index whose zxid is below the follower's last zxid */
        uint64_t k = f_last < last_index(z) ? f_last : last_index(z);
        while (k > z->log.base && rlog_term_at(&z->log, k) > f_zxid)
            k--;
        if (k < z->log.base || (k == z->log.base && z->log.base > 0 && rlog_term_at(&z->log, k) != f_zxid)) {
            snap = 1;
        } else {
            how = "TRUNC";
            trunc = k;
            from = k + 1;
        }
    }
    if (!snap && last_index(z) >= from && last_index(z) - from + 1 > (uint64_t)z->diff_max)
        snap = 1;
    json_t *b = json_pack("{s:s,s:I}", "type", "sync", "epoch", (json_int_t)z->new_epoch);
    if (snap) {
        how = "SNAP";
        from = z->commit + 1;
        json_object_set_new(b, "snap", json_pack("{s:I,s:I,s:O,s:O}", "index", (json_int_t)z->commit, "zxid",
                                                 (json_int_t)rlog_term_at(&z->log, z->commit), "data", z->sm.data,
                                                 "sessions", z->sm.sessions));
        if (z->zk)
            json_object_set_new(json_object_get(b, "snap"), "zk", zksm_state(&z->zsm));
    } else if (!strcmp(how, "TRUNC")) {
        json_object_set_new(b, "trunc", json_integer((json_int_t)trunc));
    }
    json_t *ents = json_array();
    for (uint64_t i = from; i <= z->sync_index; i++)
        json_array_append_new(ents, entry_json(i, rlog_at(&z->log, i)));
    json_object_set_new(b, "how", json_string(how));
    json_object_set_new(b, "entries", ents);
    char t[32];
    zxid_text(f_zxid, t);
    emit(z, "sync", json_pack("{s:s,s:s,s:I,s:I,s:s,s:I}", "to", node_id(z, f), "how", how, "from", (json_int_t)from,
                              "count", (json_int_t)(z->sync_index >= from ? z->sync_index - from + 1 : 0),
                              "follower_zxid", t, "trunc", (json_int_t)trunc));
    env_send(z->e, node_id(z, f), b);
    fp->stage = 2;
    fp->next = z->sync_index + 1;
    fp->acked = 0;
}

/* ---- broadcast -------------------------------------------------------------------------------- */

static void send_proposals(struct zab *z, int f)
{
    struct fpeer *fp = &z->fp[f];
    uint64_t last = last_index(z);
    if (fp->stage < 2 || fp->next > last)
        return;
    json_t *ents = json_array();
    uint64_t i = fp->next;
    for (; i <= last && json_array_size(ents) < 512; i++)
        json_array_append_new(ents, entry_json(i, rlog_at(&z->log, i)));
    env_send(z->e, node_id(z, f), json_pack("{s:s,s:I,s:o,s:I}", "type", "proposal", "epoch",
                                            (json_int_t)z->current_epoch, "entries", ents, "commit",
                                            (json_int_t)z->commit));
    fp->next = i;
}

/* ZAB §4 phase 3: the leader commits a proposal once a quorum acknowledged it (in order). */
static void maybe_commit(struct zab *z)
{
    if (z->role != LEADING || z->phase != PH_BROADCAST)
        return;
    if (z->bug == BUG_COMMIT_BEFORE_QUORUM) {
        set_commit(z, z->synced, 1);
        return;
    }
    uint64_t a[CL_MAXN] = {0}, at[CL_MAXN] = {0};
    int k = 0;
    for (int i = 0; i < z->e->n_nodes; i++)
        if (z->fp[i].stage >= 3)
            a[k++] = at[i] = i == z->e->self_idx ? z->synced : z->fp[i].acked;
    if (k < quorum(z))
        return;
    for (int i = 1; i < k; i++)
        for (int j = i; j > 0 && a[j] > a[j - 1]; j--) {
            uint64_t x = a[j];
            a[j] = a[j - 1];
            a[j - 1] = x;
        }
    uint64_t c = a[quorum(z) - 1];
    int acks = 0;
    for (int i = 0; i < k; i++)
        acks += a[i] >= c;
    if (c > z->commit && c <= last_index(z)) {
        /* the quorum that acknowledged up to c: a `quorum` event for the dashboard's pane */
        json_t *yes = json_array(), *no = json_array();
        for (int i = 0; i < z->e->n_nodes; i++)
            json_array_append_new(z->fp[i].stage >= 3 && at[i] >= c ? yes : no, json_string(node_id(z, i)));
        char t[32], key[48];
        zxid_text(rlog_term_at(&z->log, c), t);
        snprintf(key, sizeof key, "zxid %s", t);
        emit(z, "quorum", json_pack("{s:s,s:s,s:i,s:o,s:o,s:b}", "op", "ack", "key", key, "need", quorum(z), "acked", yes,
                                    "missing", no, "ok", 1));
    }
    set_commit(z, c, acks);
}

static void flush(struct zab *z)
{
    z->t_flush = 0;
    sync_log(z);
    size_t n = z->nreplies;
    struct reply *r = z->replies;
    z->replies = NULL;
    z->nreplies = z->capreplies = 0;
    for (size_t i = 0; i < n; i++)
        env_send(z->e, r[i].dest, r[i].body);
    free(r);
    if (z->role == LEADING && z->phase == PH_BROADCAST) {
        for (int f = 0; f < z->e->n_nodes; f++)
            if (f != z->e->self_idx)
                send_proposals(z, f);
        maybe_commit(z);
        for (int f = 0; f < z->e->n_nodes; f++) {
            struct fpeer *fp = &z->fp[f];
            if (f == z->e->self_idx || fp->stage < 3 || fp->sent_commit >= z->commit)
                continue;
            env_send(z->e, node_id(z, f), json_pack("{s:s,s:I,s:I}", "type", "commit", "epoch",
                                                    (json_int_t)z->current_epoch, "index", (json_int_t)z->commit));
            fp->sent_commit = z->commit;
        }
    }
}

/* ---- follower ------------------------------------------------------------------------------------ */

static void become_follower(struct zab *z, int leader)
{
    set_role(z, FOLLOWING, z->bug == BUG_SKIP_SYNC ? PH_BROADCAST : PH_DISCOVERY, leader);
    z->follow_quiet = 0;
    z->leader_heard = 0;
    z->el_jitter = env_rand_range(z->e, 0, z->el_us / 4);
    if (z->bug != BUG_SKIP_SYNC)
        env_send(z->e, node_id(z, leader), json_pack("{s:s,s:I}", "type", "followerinfo", "accepted_epoch",
                                                     (json_int_t)z->accepted_epoch));
    z->t_phase = env_timer_set(z->e, 4 * z->el_us, T_PHASE, z->round);
}

struct zmsg {
    uint64_t epoch, accepted_epoch, current_epoch, last_zxid, last_index, index, commit, trunc;
    const char *how;
    const json_t *entries, *snap;
};

static const struct msg_field followerinfo_fields[] = {
    MSG_U64(struct zmsg, accepted_epoch, MAX_EPOCH), MSG_END,
};
static const struct msg_field newepoch_fields[] = {
    MSG_U64(struct zmsg, epoch, MAX_EPOCH), MSG_END,
};
static const struct msg_field ackepoch_fields[] = {
    MSG_U64(struct zmsg, epoch, MAX_EPOCH), MSG_U64(struct zmsg, current_epoch, MAX_EPOCH),
    MSG_U64(struct zmsg, last_zxid, MAX_ZXID), MSG_U64(struct zmsg, last_index, MAX_INDEX), MSG_END,
};
static const struct msg_field sync_fields[] = {
    MSG_U64(struct zmsg, epoch, MAX_EPOCH), MSG_STR(struct zmsg, how), MSG_ARRAY(struct zmsg, entries, 1000000),
    MSG_U64_OPT(struct zmsg, trunc, MAX_INDEX), MSG_FIELD_(struct zmsg, snap, MSG_K_OBJECT, 1, 0, 0), MSG_END,
};
static const struct msg_field ack_fields[] = {
    MSG_U64(struct zmsg, epoch, MAX_EPOCH), MSG_U64(struct zmsg, index, MAX_INDEX), MSG_END,
};
static const struct msg_field proposal_fields[] = {
    MSG_U64(struct zmsg, epoch, MAX_EPOCH), MSG_ARRAY(struct zmsg, entries, 100000),
    MSG_U64(struct zmsg, commit, MAX_INDEX), MSG_END,
};
static const struct msg_field commit_fields[] = {
    MSG_U64(struct zmsg, epoch, MAX_EPOCH), MSG_U64(struct zmsg, index, MAX_INDEX), MSG_END,
};

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

/* [index, zxid, type, key, value, from, client, msg_id] */
static int parse_entry_json(const json_t *j, uint64_t *index, struct rlog_entry *en)
{
    memset(en, 0, sizeof *en);
    *index = 0;
    uint64_t i, zx, type, msg_id;
    const char *key, *value, *from, *client;
    if (!json_is_array(j) || json_array_size(j) != 8 || whole(json_array_get(j, 0), MAX_INDEX, &i) < 0 || i == 0 ||
        whole(json_array_get(j, 1), MAX_ZXID, &zx) < 0 || zx == 0 || whole(json_array_get(j, 2), KV_OP, &type) < 0 || type == KV_CONF ||
        str_or_null(json_array_get(j, 3), &key) < 0 || str_or_null(json_array_get(j, 4), &value) < 0 ||
        str_or_null(json_array_get(j, 5), &from) < 0 || str_or_null(json_array_get(j, 6), &client) < 0 ||
        whole(json_array_get(j, 7), INT64_MAX, &msg_id) < 0 || (client && strlen(client) >= CL_IDLEN))
        return -1;
    *index = i;
    en->term = zx;
    en->type = (int)type;
    en->msg_id = msg_id;
    en->key = key ? xstrdup(key) : NULL;
    en->value = value ? xstrdup(value) : NULL;
    en->from = from ? xstrdup(from) : NULL;
    en->client = client ? xstrdup(client) : NULL;
    return 0;
}

/* Is src our leader, speaking in the epoch we follow? Refuses an older epoch (fencing). */
static int from_leader(struct zab *z, int p, const char *src, uint64_t epoch, const char *what)
{
    if (epoch < z->accepted_epoch) {
        char *t = xasprintf("refused %s of epoch %llu from %s: this node accepted epoch %llu", what,
                            (unsigned long long)epoch, src, (unsigned long long)z->accepted_epoch);
        emit(z, "fenced", json_pack("{s:s,s:s,s:I,s:I,s:s}", "from", src, "what", what, "epoch", (json_int_t)epoch,
                                    "accepted_epoch", (json_int_t)z->accepted_epoch, "text", t));
        free(t);
        env_send(z->e, src, json_pack("{s:s,s:I}", "type", "fenced", "epoch", (json_int_t)z->accepted_epoch));
        return 0;
    }
    if (z->role != FOLLOWING || p != z->leader)
        return 0;
    return 1;
}

static void on_followerinfo(void *st, const char *src, const json_t *body)
{
    struct zab *z = st;
    int p = peer_index(z, src);
    struct zmsg m = {0};
    if (p < 0 || peer_get(z, src, body, followerinfo_fields, &m) < 0)
        return;
    if (z->role != LEADING) {
        /* not (or no longer) a leader: tell it so it looks again */
        send_notification(z, src);
        return;
    }
    z->fp[p] = (struct fpeer){.stage = 1, .accepted_epoch = m.accepted_epoch};
    if (!z->new_epoch) {
        maybe_new_epoch(z);
        return;
    }
    /* a follower joining an established epoch */
    if (m.accepted_epoch > z->new_epoch) {
        start_election(z, "a follower accepted a newer epoch");
        return;
    }
    env_send(z->e, src, json_pack("{s:s,s:I}", "type", "newepoch", "epoch", (json_int_t)z->new_epoch));
}

static void on_newepoch(void *st, const char *src, const json_t *body)
{
    struct zab *z = st;
    int p = peer_index(z, src);
    struct zmsg m = {0};
    if (p < 0 || peer_get(z, src, body, newepoch_fields, &m) < 0)
        return;
    if (z->role != FOLLOWING || p != z->leader)
        return;
    if (m.epoch < z->accepted_epoch) {
        /* ZAB §4 phase 1: "if e' < acceptedEpoch: go back to the election" */
        from_leader(z, p, src, m.epoch, "NEWEPOCH");
        start_election(z, "NEWEPOCH below our accepted epoch");
        return;
    }
    if (z->bug == BUG_SKIP_SYNC) {
        z->accepted_epoch = z->current_epoch = m.epoch;
        persist_epochs(z);
        z->leader_heard = 1;
        serve_held(z);
        return;
    }
    if (m.epoch > z->accepted_epoch) {
        z->accepted_epoch = m.epoch;
        persist_epochs(z); /* "acceptedEpoch ← e'" on disk before ACKEPOCH */
    }
    set_role(z, FOLLOWING, PH_SYNC, p);
    env_send(z->e, src, json_pack("{s:s,s:I,s:I,s:I,s:I}", "type", "ackepoch", "epoch", (json_int_t)m.epoch,
                                  "current_epoch", (json_int_t)z->current_epoch, "last_zxid", (json_int_t)last_zxid(z),
                                  "last_index", (json_int_t)last_index(z)));
}

static void on_ackepoch(void *st, const char *src, const json_t *body)
{
    struct zab *z = st;
    int p = peer_index(z, src);
    struct zmsg m = {0};
    if (p < 0 || peer_get(z, src, body, ackepoch_fields, &m) < 0)
        return;
    if (z->role != LEADING || m.epoch != z->new_epoch || z->fp[p].stage != 1)
        return;
    /* the leader must hold the newest history of the quorum (FLE elected it for that):
     * ZooKeeper's leader gives up when a follower's (currentEpoch, last zxid) is above its
     * own from before the new epoch. A follower of an older epoch with more proposals is not
     * ahead: those proposals were never committed (it gets TRUNC). */
    uint64_t le = z->phase == PH_BROADCAST ? z->current_epoch : z->prev_epoch;
    uint64_t lz = z->phase == PH_BROADCAST ? last_zxid(z) : z->prev_zxid;
    if (m.current_epoch > le || (m.current_epoch == le && m.last_zxid > lz)) {
        start_election(z, "a follower is ahead of its leader");
        return;
    }
    follower_sync(z, p, m.current_epoch, m.last_zxid, m.last_index);
}

/* Synchronization, follower side: TRUNC / SNAP / DIFF, then currentEpoch ← e', ACK(NEWLEADER). */
static void on_sync(void *st, const char *src, const json_t *body)
{
    struct zab *z = st;
    int p = peer_index(z, src);
    struct zmsg m = {0};
    if (p < 0 || peer_get(z, src, body, sync_fields, &m) < 0)
        return;
    if (!from_leader(z, p, src, m.epoch, "SYNC") || m.epoch != z->accepted_epoch)
        return;
    size_t n = json_array_size(m.entries);
    struct rlog_entry *ents = xcalloc(n + 1, sizeof *ents);
    uint64_t *idx = xcalloc(n + 1, sizeof *idx);
    for (size_t i = 0; i < n; i++) {
        if (parse_entry_json(json_array_get(m.entries, i), &idx[i], &ents[i]) < 0 ||
            (i && idx[i] != idx[i - 1] + 1)) {
            emit_error(z, src, "sync entries malformed: [index, zxid, type 0-2 or 4, key, value, from, client, msg_id], consecutive");
            for (size_t k = 0; k <= i; k++)
                rlog_entry_free(&ents[k]);
            free(ents);
            free(idx);
            return;
        }
    }
    if (!strcmp(m.how, "SNAP") && m.snap) {
        json_int_t si, sz;
        json_t *data, *sess;
        if (json_unpack((json_t *)m.snap, "{s:I,s:I,s:o,s:o}", "index", &si, "zxid", &sz, "data", &data, "sessions", &sess) < 0 ||
            si < 0 || sz < 0 || !json_is_object(data)) {
            emit_error(z, src, "SNAP needs index, zxid, data and sessions");
        } else {
            rlog_free(&z->log);
            z->log.base = (uint64_t)si;
            z->log.base_term = (uint64_t)sz;
            kvsm_set_state(&z->sm, data, sess);
            char zerr[200];
            const json_t *zst = json_object_get(m.snap, "zk");
            if (zst && zksm_set_state(&z->zsm, zst, zerr, sizeof zerr) < 0)
                emit_error(z, src, zerr);
            z->commit = z->applied = (uint64_t)si;
            z->synced = (uint64_t)si;
            json_t *snap = json_pack("{s:I,s:I,s:O,s:O}", "index", si, "zxid", sz, "data", data, "sessions", sess);
            if (zst)
                json_object_set(snap, "zk", (json_t *)zst);
            char *s = json_dumps(snap, JSON_COMPACT);
            z->e->ops->blob_put(z->e, "zab.snap", s, strlen(s));
            free(s);
            json_decref(snap);
            z->file_recs = 0;
            z->e->ops->log_truncate(z->e, LOG_NAME, 0);
            char t[32];
            zxid_text((uint64_t)sz, t);
            emit(z, "snapshot", json_pack("{s:I,s:I,s:s,s:b}", "index", si, "term", sz, "zxid_text", t, "installed", 1));
        }
    } else if (!strcmp(m.how, "TRUNC")) {
        truncate_after(z, m.trunc);
    }
    for (size_t i = 0; i < n; i++) {
        if (idx[i] <= last_index(z)) {
            rlog_entry_free(&ents[i]); /* held already (a DIFF from our own last) */
            continue;
        }
        if (idx[i] != last_index(z) + 1) {
            rlog_entry_free(&ents[i]);
            continue;
        }
        push(z, &ents[i]);
    }
    free(ents);
    free(idx);
    sync_log(z);
    char t[32];
    zxid_text(last_zxid(z), t);
    emit(z, "synced", json_pack("{s:s,s:s,s:I,s:s}", "from", src, "how", m.how, "last_index", (json_int_t)last_index(z),
                                "last_zxid", t));
    /* ZAB §4 phase 2: "currentEpoch ← e'" (on disk) and acknowledge NEWLEADER */
    z->current_epoch = m.epoch;
    persist_epochs(z);
    set_role(z, FOLLOWING, PH_BROADCAST, p);
    z->leader_heard = 1;
    env_send(z->e, src, json_pack("{s:s,s:I,s:I}", "type", "ack_newleader", "epoch", (json_int_t)m.epoch, "index",
                                  (json_int_t)last_index(z)));
    serve_held(z);
}

static void on_ack_newleader(void *st, const char *src, const json_t *body)
{
    struct zab *z = st;
    int p = peer_index(z, src);
    struct zmsg m = {0};
    if (p < 0 || peer_get(z, src, body, ack_fields, &m) < 0)
        return;
    if (z->role != LEADING || m.epoch != z->new_epoch || z->fp[p].stage != 2)
        return;
    z->fp[p].stage = 3;
    z->fp[p].acked = m.index;
    z->fp[p].heard = 1;
    if (z->phase == PH_BROADCAST) {
        /* a follower that joined late: it has our history; send what came after */
        arm_flush(z);
        return;
    }
    int n = 0;
    for (int i = 0; i < z->e->n_nodes; i++)
        n += z->fp[i].stage == 3;
    if (n < quorum(z))
        return;
    /* a quorum holds the leader's history: commit all of it, then serve the new epoch */
    env_timer_cancel(z->e, z->t_phase);
    z->t_phase = 0;
    z->counter = 0;
    set_role(z, LEADING, PH_BROADCAST, z->e->self_idx);
    emit(z, "newleader", json_pack("{s:I,s:i,s:I}", "epoch", (json_int_t)z->current_epoch, "quorum", n, "committed",
                                   (json_int_t)z->sync_index));
    set_commit(z, z->sync_index, n);
    for (int i = 0; i < z->e->n_nodes; i++)
        if (i != z->e->self_idx && z->fp[i].stage >= 2 && z->fp[i].next == 0)
            z->fp[i].next = z->sync_index + 1;
    arm_flush(z);
    serve_held(z);
}

static void on_proposal(void *st, const char *src, const json_t *body)
{
    struct zab *z = st;
    int p = peer_index(z, src);
    struct zmsg m = {0};
    if (p < 0 || peer_get(z, src, body, proposal_fields, &m) < 0)
        return;
    if (z->bug == BUG_SKIP_SYNC && z->role == FOLLOWING && p == z->leader && m.epoch >= z->accepted_epoch) {
        /* the bug: append whatever the leader sends at our own end, whatever our history */
        size_t i;
        const json_t *j;
        json_array_foreach(m.entries, i, j) {
            uint64_t ix;
            struct rlog_entry en;
            if (parse_entry_json(j, &ix, &en) < 0)
                return;
            if (en.term <= last_zxid(z)) {
                rlog_entry_free(&en);
                continue;
            }
            push(z, &en);
        }
        z->leader_heard = 1;
        z->follow_quiet = 0;
        queue_reply(z, src, json_pack("{s:s,s:I,s:I}", "type", "ack", "epoch", (json_int_t)m.epoch, "index",
                                      (json_int_t)last_index(z)));
        if (m.commit > z->commit)
            set_commit(z, m.commit < last_index(z) ? m.commit : last_index(z), -1);
        return;
    }
    if (!from_leader(z, p, src, m.epoch, "PROPOSAL") || m.epoch != z->current_epoch || z->phase != PH_BROADCAST)
        return;
    z->follow_quiet = 0;
    size_t i;
    const json_t *j;
    uint64_t first = 0, n = 0;
    json_array_foreach(m.entries, i, j) {
        uint64_t ix;
        struct rlog_entry en;
        if (parse_entry_json(j, &ix, &en) < 0) {
            emit_error(z, src, "proposal entry malformed: [index, zxid, type 0-2, key, value, from, client, msg_id]");
            return;
        }
        if (ix <= last_index(z) || ix != last_index(z) + 1 || en.term <= last_zxid(z)) {
            rlog_entry_free(&en); /* a resend, or a gap: the leader resends from our ack */
            continue;
        }
        if (!first)
            first = ix;
        push(z, &en);
        n++;
    }
    if (n) {
        json_t *cmds = json_array();
        for (uint64_t k = first; k < first + n; k++) {
            char *c = entry_label(z, rlog_at(&z->log, k));
            char t[32];
            zxid_text(rlog_at(&z->log, k)->term, t);
            json_array_append_new(cmds, json_pack("[I,s,s]", (json_int_t)k, t, c));
            free(c);
        }
        emit(z, "logged", json_pack("{s:I,s:I,s:I,s:I,s:o}", "index", (json_int_t)first, "count", (json_int_t)n,
                                    "epoch", (json_int_t)m.epoch, "accepted_epoch", (json_int_t)z->accepted_epoch,
                                    "cmds", cmds));
    }
    /* ZAB §4 phase 3: the follower acknowledges once the proposal is on disk */
    queue_reply(z, src, json_pack("{s:s,s:I,s:I}", "type", "ack", "epoch", (json_int_t)m.epoch, "index",
                                  (json_int_t)last_index(z)));
    if (m.commit > z->commit)
        set_commit(z, m.commit < last_index(z) ? m.commit : last_index(z), -1);
}

static void on_ack(void *st, const char *src, const json_t *body)
{
    struct zab *z = st;
    int p = peer_index(z, src);
    struct zmsg m = {0};
    if (p < 0 || peer_get(z, src, body, ack_fields, &m) < 0)
        return;
    if (z->role != LEADING || m.epoch != z->current_epoch || z->fp[p].stage < 3)
        return;
    z->fp[p].heard = 1;
    if (m.index > z->fp[p].acked && m.index <= last_index(z))
        z->fp[p].acked = m.index;
    arm_flush(z);
}

static void on_commit(void *st, const char *src, const json_t *body)
{
    struct zab *z = st;
    int p = peer_index(z, src);
    struct zmsg m = {0};
    if (p < 0 || peer_get(z, src, body, commit_fields, &m) < 0)
        return;
    if (z->bug == BUG_SKIP_SYNC && z->role == FOLLOWING && p == z->leader) {
        set_commit(z, m.index < last_index(z) ? m.index : last_index(z), -1);
        return;
    }
    if (!from_leader(z, p, src, m.epoch, "COMMIT") || m.epoch != z->current_epoch || z->phase != PH_BROADCAST)
        return;
    z->follow_quiet = 0;
    set_commit(z, m.index < last_index(z) ? m.index : last_index(z), -1);
}

static void on_ping(void *st, const char *src, const json_t *body)
{
    struct zab *z = st;
    int p = peer_index(z, src);
    struct zmsg m = {0};
    if (p < 0 || peer_get(z, src, body, commit_fields, &m) < 0)
        return;
    if (m.epoch < z->accepted_epoch) {
        from_leader(z, p, src, m.epoch, "PING");
        return;
    }
    if (z->role != FOLLOWING || p != z->leader)
        return;
    z->follow_quiet = 0;
    if (z->phase == PH_BROADCAST && m.epoch == z->current_epoch) {
        z->leader_heard = 1;
        serve_held(z);
        if (m.index > z->commit)
            set_commit(z, m.index < last_index(z) ? m.index : last_index(z), -1);
    }
    env_send(z->e, src, json_pack("{s:s,s:I,s:I}", "type", "leader_pong", "epoch", (json_int_t)m.epoch, "index",
                                  (json_int_t)last_index(z)));
}

static void on_pong(void *st, const char *src, const json_t *body)
{
    struct zab *z = st;
    int p = peer_index(z, src);
    struct zmsg m = {0};
    if (p < 0 || peer_get(z, src, body, ack_fields, &m) < 0)
        return;
    if (z->role == LEADING && m.epoch == z->current_epoch)
        z->fp[p].heard = 1;
}

static void on_fenced(void *st, const char *src, const json_t *body)
{
    struct zab *z = st;
    int p = peer_index(z, src);
    struct zmsg m = {0};
    if (p < 0 || peer_get(z, src, body, newepoch_fields, &m) < 0)
        return;
    if (z->role == LEADING && m.epoch > z->current_epoch && m.epoch > z->new_epoch)
        start_election(z, "a follower has accepted a newer epoch");
}

/* Leader: ping, resend, and check that a quorum still answers; follower: leader still there? */
static void tick(struct zab *z)
{
    z->t_tick = env_timer_set(z->e, z->hb_us, T_TICK, 0);
    /* expire held requests after 8 election timeouts */
    size_t w = 0;
    uint64_t limit = 8 * z->el_us / z->hb_us;
    for (size_t i = 0; i < z->nheld; i++) {
        if ((uint64_t)++z->held[i].ticks >= limit) {
            env_reply_error(z->e, z->held[i].client, z->held[i].body, ERR_TEMPORARILY_UNAVAILABLE,
                            "no ZAB leader in broadcast for 8 election timeouts (an election or a sync is under way): try again", NULL);
            json_decref(z->held[i].body);
            continue;
        }
        z->held[w++] = z->held[i];
    }
    z->nheld = w;
    if (z->role == LEADING && z->phase == PH_BROADCAST) {
        int heard = 1;
        for (int i = 0; i < z->e->n_nodes; i++) {
            if (i == z->e->self_idx)
                continue;
            struct fpeer *fp = &z->fp[i];
            heard += fp->heard;
            fp->heard = 0;
            if (fp->stage >= 3) {
                if (z->bug != BUG_SKIP_SYNC && fp->acked == fp->acked_at_tick && fp->acked < last_index(z))
                    fp->next = fp->acked + 1; /* no progress: resend from its ack */
                fp->acked_at_tick = fp->acked;
                send_proposals(z, i);
                env_send(z->e, node_id(z, i), json_pack("{s:s,s:I,s:I}", "type", "leader_ping", "epoch",
                                                        (json_int_t)z->current_epoch, "index", (json_int_t)z->commit));
            }
        }
        if (z->zk)
            zk_expire(z);
        if (heard >= quorum(z))
            z->quiet_ticks = 0;
        else if ((uint64_t)++z->quiet_ticks * z->hb_us > 2 * z->el_us)
            start_election(z, "the leader heard from no quorum for two election timeouts");
        return;
    }
    /* a follower gives its leader one election timeout T of silence, plus a random share of
     * T/4 (FLE needs no wide spread: votes converge on the best one, not on the first) */
    if (z->role == FOLLOWING && (uint64_t)++z->follow_quiet * z->hb_us > z->el_us + z->el_jitter)
        start_election(z, "no word from the leader for an election timeout");
}

/* ---- client requests ------------------------------------------------------------------------------ */

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

static void hold(struct zab *z, const char *src, const json_t *body)
{
    if (z->nheld >= MAX_HELD) {
        env_reply_error(z->e, src, body, ERR_TEMPORARILY_UNAVAILABLE, "no ZAB leader yet and too many requests waiting", NULL);
        return;
    }
    z->held = xrealloc(z->held, (z->nheld + 1) * sizeof *z->held);
    str_copy(z->held[z->nheld].client, src, CL_IDLEN);
    z->held[z->nheld].body = json_deep_copy(body);
    z->held[z->nheld++].ticks = 0;
}

/* {"type":"zk","msg_id":N,"op":{…}}: one proposal, answered once delivered. */
static void zk_request(struct zab *z, const char *src, const json_t *body, int redirect_now)
{
    const json_t *mid = json_object_get(body, "msg_id");
    const json_t *op = json_object_get(body, "op");
    char err[300];
    if (env_node_index(z->e, src) >= 0) {
        emit_error(z, src, "client request from a node id refused");
        return;
    }
    if (!z->zk) {
        env_reply_error(z->e, src, body, ERR_NOT_SUPPORTED, "this cluster serves no zk tree: start zab with service=zk", NULL);
        return;
    }
    if (!json_is_integer(mid) || json_integer_value(mid) < 0) {
        env_reply_error(z->e, src, body, ERR_MALFORMED_REQUEST, "a zk request needs \"msg_id\" (a whole number)", NULL);
        return;
    }
    if (zksm_check_op(op, err, sizeof err) < 0) {
        char *t = xasprintf("zk request: %s", err);
        env_reply_error(z->e, src, body, ERR_MALFORMED_REQUEST, t, NULL);
        free(t);
        return;
    }
    if (!(z->role == LEADING && z->phase == PH_BROADCAST)) {
        if (redirect_now && z->role == FOLLOWING && z->leader >= 0) {
            env_reply_error(z->e, src, body, ERR_TEMPORARILY_UNAVAILABLE, "not the leader", node_id(z, z->leader));
            return;
        }
        hold(z, src, body);
        return;
    }
    if (pending_has(&z->pend, src, mid))
        return;
    if (z->pend.n >= MAX_PENDING) {
        env_reply_error(z->e, src, body, ERR_TEMPORARILY_UNAVAILABLE, "too many requests in flight", NULL);
        return;
    }
    struct rlog_entry en = {.type = KV_OP, .msg_id = (uint64_t)json_integer_value(mid)};
    en.key = xstrdup(json_string_value(json_object_get(op, "op")));
    en.value = json_dumps(op, JSON_COMPACT | JSON_SORT_KEYS);
    en.client = xstrdup(src);
    uint64_t i = propose_entry(z, &en);
    pending_add(&z->pend, src, mid, i, rlog_at(&z->log, i)->term, ZK_TYPE);
}

static void client_request(struct zab *z, const char *src, const json_t *body, int redirect_now)
{
    const char *type = json_string_value(json_object_get(body, "type"));
    if (!strcmp(type, "zk")) {
        zk_request(z, src, body, redirect_now);
        return;
    }
    int kind = !strcmp(type, "read") ? READ_TYPE : !strcmp(type, "cas") ? KV_CAS : KV_PUT;
    struct client_msg m;
    if (msg_get_request(z->e, src, body, kind == READ_TYPE ? read_fields : kind == KV_CAS ? cas_fields : write_fields,
                        &m, sizeof m) < 0)
        return;
    if (env_node_index(z->e, src) >= 0) {
        emit_error(z, src, "client request from a node id refused");
        return;
    }
    if (!(z->role == LEADING && z->phase == PH_BROADCAST)) {
        if (redirect_now && z->role == FOLLOWING && z->leader >= 0) {
            env_reply_error(z->e, src, body, ERR_TEMPORARILY_UNAVAILABLE, "not the leader", node_id(z, z->leader));
            return;
        }
        /* no leader in broadcast yet (an election, a sync), or one not heard from since we
         * learnt of it: wait for it rather than send the client to a leader that may be dead */
        hold(z, src, body);
        return;
    }
    uint64_t last_id;
    int code;
    if (kind != READ_TYPE && kvsm_session(&z->sm, src, &last_id, &code) && last_id == m.msg_id) {
        env_reply(z->e, src, body, result_body(kind, code));
        return;
    }
    const json_t *mid = json_object_get(body, "msg_id");
    if (pending_has(&z->pend, src, mid))
        return;
    if (z->pend.n >= MAX_PENDING) {
        env_reply_error(z->e, src, body, ERR_TEMPORARILY_UNAVAILABLE, "too many requests in flight", NULL);
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
    /* ZAB §4 phase 3: the leader proposes with zxid (e', c+1) */
    en.term = ZX(z->current_epoch, ++z->counter);
    push(z, &en);
    uint64_t i = last_index(z);
    char *c = entry_label(z, rlog_at(&z->log, i));
    json_t *f = json_pack("{s:I,s:s,s:I}", "index", (json_int_t)i, "cmd", c, "epoch", (json_int_t)z->current_epoch);
    free(c);
    emit(z, "propose", with_zxid(f, "zxid", rlog_at(&z->log, i)->term));
    pending_add(&z->pend, src, mid, i, rlog_at(&z->log, i)->term, kind);
    arm_flush(z);
}

static void on_client(void *st, const char *src, const json_t *body)
{
    client_request(st, src, body, 0);
}

/* ---- timers ------------------------------------------------------------------------------------- */

static void zab_on_timer(void *st, int kind, uint64_t arg)
{
    struct zab *z = st;
    switch (kind) {
    case T_FLE:
        z->t_fle = 0;
        if (z->role == LOOKING) {
            /* no decision yet: tell everyone our vote again (lost notifications, late peers) */
            send_notification(z, NULL);
            z->t_fle = env_timer_set(z->e, env_rand_range(z->e, z->el_us, 2 * z->el_us), T_FLE, 0);
        }
        break;
    case T_FINALIZE:
        z->t_finalize = 0;
        if (z->role == LOOKING && arg == z->round && vote_has_quorum(z))
            decide(z);
        break;
    case T_PHASE:
        z->t_phase = 0;
        if (arg == z->round && z->role != LOOKING && z->phase != PH_BROADCAST)
            start_election(z, z->role == LEADING ? "the leader gathered no quorum in discovery or synchronization"
                                                 : "the leader did not synchronize us in time");
        break;
    case T_TICK:
        tick(z);
        break;
    case T_FLUSH:
        flush(z);
        break;
    }
}

/* ---- create, status, the face ------------------------------------------------------------------- */

static void zab_destroy(void *st);

static void *zab_create(struct env *e, const struct opts *o, char *err, size_t errlen)
{
    struct zab *z = xcalloc(1, sizeof *z);
    z->e = e;
    z->hb_us = opts_get_duration(o, "heartbeat", 50000);
    z->el_us = opts_get_duration(o, "election", 150000);
    z->diff_max = (int)opts_get_int(o, "diff_max", 1000);
    const char *bug = opts_get(o, "bug", "none");
    z->bug = !strcmp(bug, "skip-sync") ? BUG_SKIP_SYNC : !strcmp(bug, "commit-before-quorum") ? BUG_COMMIT_BEFORE_QUORUM : BUG_NONE;
    z->leader = -1;
    z->role = -1;
    kvsm_init(&z->sm);
    zksm_init(&z->zsm);
    z->zk = !strcmp(opts_get(o, "service", "kv"), "zk");
    if (z->hb_us == 0 || z->el_us <= z->hb_us) {
        snprintf(err, errlen, "zab needs 0 < heartbeat < election (got heartbeat=%lluus election=%lluus)",
                 (unsigned long long)z->hb_us, (unsigned long long)z->el_us);
        zab_destroy(z);
        return NULL;
    }
    char *data = NULL;
    size_t len = 0;
    int rc = e->ops->blob_get(e, "zab.epochs", &data, &len);
    if (rc < 0 && rc != CL_ENOENT) {
        snprintf(err, errlen, "zab.epochs cannot be read back: refusing to start");
        zab_destroy(z);
        return NULL;
    }
    if (rc == 0) {
        unsigned long long a, c;
        if (sscanf(data, "%llu %llu", &a, &c) != 2 || c > a) {
            snprintf(err, errlen, "zab.epochs is corrupt: \"%.40s\"", data);
            free(data);
            zab_destroy(z);
            return NULL;
        }
        z->accepted_epoch = a;
        z->current_epoch = c;
        free(data);
    }
    rc = e->ops->blob_get(e, "zab.snap", &data, &len);
    if (rc < 0 && rc != CL_ENOENT) {
        snprintf(err, errlen, "zab.snap cannot be read back: refusing to start");
        zab_destroy(z);
        return NULL;
    }
    if (rc == 0) {
        json_t *j = json_loadb(data, len, 0, NULL);
        free(data);
        json_int_t si, sz;
        json_t *d, *s;
        if (!j || json_unpack(j, "{s:I,s:I,s:o,s:o}", "index", &si, "zxid", &sz, "data", &d, "sessions", &s) < 0 || si < 0 || sz < 0) {
            snprintf(err, errlen, "zab.snap is corrupt");
            json_decref(j);
            zab_destroy(z);
            return NULL;
        }
        z->log.base = (uint64_t)si;
        z->log.base_term = (uint64_t)sz;
        kvsm_set_state(&z->sm, d, s);
        const json_t *zst = json_object_get(j, "zk");
        if (zst && zksm_set_state(&z->zsm, zst, err, errlen) < 0) {
            json_decref(j);
            zab_destroy(z);
            return NULL;
        }
        json_decref(j);
    }
    struct load ld = {.z = z};
    if (e->ops->log_read(e, LOG_NAME, load_rec, &ld) < 0 || ld.bad) {
        snprintf(err, errlen, "%s is corrupt or does not follow the snapshot (index %llu)", LOG_NAME,
                 (unsigned long long)z->log.base);
        zab_destroy(z);
        return NULL;
    }
    z->synced = last_index(z);
    z->commit = z->applied = z->log.base;
    return z;
}

static void zab_start(void *st)
{
    struct zab *z = st;
    z->t_tick = env_timer_set(z->e, z->hb_us, T_TICK, 0);
    start_election(z, "start");
}

static void zab_destroy(void *st)
{
    struct zab *z = st;
    if (!z)
        return;
    rlog_free(&z->log);
    kvsm_free(&z->sm);
    zksm_free(&z->zsm);
    free(z->alive);
    for (size_t i = 0; i < z->nreplies; i++)
        json_decref(z->replies[i].body);
    free(z->replies);
    pending_clear(&z->pend);
    for (size_t i = 0; i < z->nheld; i++)
        json_decref(z->held[i].body);
    free(z->held);
    free(z);
}

static json_t *zab_status(void *st)
{
    struct zab *z = st;
    char lz[32], cz[32];
    zxid_text(last_zxid(z), lz);
    zxid_text(rlog_term_at(&z->log, z->commit), cz);
    json_t *j = json_pack("{s:s,s:I,s:I,s:I,s:O,s:I}", "role", shown_role(z->role, z->phase), "epoch",
                          (json_int_t)z->current_epoch, "commit", (json_int_t)z->commit, "applied", (json_int_t)z->applied,
                          "data", z->sm.data, "log_first", (json_int_t)(z->log.base + 1));
    if (z->leader >= 0)
        json_object_set_new(j, "leader", json_string(node_id(z, z->leader)));
    if (z->zk) {
        json_t *d = json_deep_copy(z->sm.data), *t = zksm_data(&z->zsm);
        json_object_update(d, t);
        json_decref(t);
        json_object_set_new(j, "data", d);
    }
    json_t *log = json_array();
    uint64_t last = last_index(z);
    uint64_t from = last > 100 ? last - 99 : 1;
    if (from <= z->log.base)
        from = z->log.base + 1;
    for (uint64_t i = from; i <= last; i++) {
        struct rlog_entry *en = rlog_at(&z->log, i);
        char *cmd = entry_label(z, en);
        char t[40];
        snprintf(t, sizeof t, "%llu:%llu", (unsigned long long)ZX_EPOCH(en->term),
                 (unsigned long long)(en->term & 0xffffffffu));
        char note[96];
        snprintf(note, sizeof note, "zxid 0x%llx = %s%s", (unsigned long long)en->term, t,
                 i <= z->applied ? ", delivered" : i <= z->commit ? ", committed" : "");
        json_array_append_new(log, json_pack("{s:I,s:I,s:s,s:s,s:b,s:b,s:s}", "index", (json_int_t)i, "term",
                                             (json_int_t)ZX_EPOCH(en->term), "zxid", t, "cmd", cmd, "committed",
                                             i <= z->commit, "delivered", i <= z->applied, "note", note));
        free(cmd);
    }
    json_object_set_new(j, "log", log);
    json_t *ex = json_pack("{s:s,s:I,s:s,s:s,s:I}", "phase", phase_names[z->phase < 0 ? 0 : z->phase], "accepted_epoch",
                           (json_int_t)z->accepted_epoch, "last_zxid", lz, "committed_zxid", cz, "round",
                           (json_int_t)z->round);
    if (z->role == LOOKING)
        json_object_set_new(ex, "vote", json_string(node_id(z, z->vote.id)));
    if (z->zk) {
        json_t *ss = json_array();
        for (size_t k = 0; k < z->zsm.ns; k++)
            json_array_append_new(ss, json_integer((json_int_t)z->zsm.s[k].id));
        json_object_set_new(ex, "zk", json_pack("{s:I,s:o,s:I}", "znodes", (json_int_t)(z->zsm.nn - 1), "sessions", ss,
                                                "watches", (json_int_t)z->zsm.nw));
    }
    if (z->role == LEADING) {
        json_t *acks = json_object();
        for (int i = 0; i < z->e->n_nodes; i++) {
            if (i == z->e->self_idx)
                continue;
            const struct fpeer *fp = &z->fp[i];
            char *s = fp->stage >= 3 ? xasprintf("acked %llu", (unsigned long long)fp->acked)
                                     : xasprintf("%s", fp->stage == 2 ? "syncing" : fp->stage == 1 ? "discovery" : "-");
            json_object_set_new(acks, node_id(z, i), json_string(s));
            free(s);
        }
        json_object_set_new(ex, "followers", acks);
    }
    json_object_set_new(j, "extra", ex);
    return j;
}

static const struct mode_option zab_options[] = {
    {"heartbeat", OPT_DURATION, NULL, 0, 0, "50ms", "leader ping and resend interval"},
    {"election", OPT_DURATION, NULL, 0, 0, "150ms", "election timeout T: notifications resent every [T, 2T]; a follower that hears no leader for T plus a random share of T looks again"},
    {"diff_max", OPT_INT, NULL, 0, 100000000L, "1000", "synchronize a follower missing more than N proposals by SNAP instead of DIFF (0: always SNAP)"},
    {"service", OPT_ENUM, "kv|zk", 0, 0, "kv", "kv: Maelstrom's lin-kv only; zk: also a ZooKeeper-like tree (znodes, sessions, watches) for the lab's named clients (client c1, c1 lock orders …)"},
    {"fencing", OPT_ENUM, "on|off", 0, 0, "on", "the lab's fenced storage (CLIENT write storage KEY VALUE): on refuses a fencing token lower than one it accepted; off accepts it"},
    {NULL, 0, NULL, 0, 0, NULL, NULL},
};

static const struct mode_handler zab_handlers[] = {
    {"notification", on_notification},
    {"followerinfo", on_followerinfo},
    {"newepoch", on_newepoch},
    {"ackepoch", on_ackepoch},
    {"sync", on_sync},
    {"ack_newleader", on_ack_newleader},
    {"proposal", on_proposal},
    {"ack", on_ack},
    {"commit", on_commit},
    {"leader_ping", on_ping},
    {"leader_pong", on_pong},
    {"fenced", on_fenced},
    {"read", on_client},
    {"write", on_client},
    {"cas", on_client},
    {"zk", on_client},
    {"zk_heartbeat", on_zk_heartbeat},
    {NULL, NULL},
};

static const char *const zab_client_types[] = {"read", "write", "cas", "zk", "zk_heartbeat", NULL};

static const struct mode_role zab_roles[] = {
    {"leading", RC_LEADER},
    {"prospective", RC_CANDIDATE},
    {"looking", RC_CANDIDATE},
    {"following", RC_FOLLOWER},
    {NULL, RC_UNKNOWN},
};

static const struct mode_figure zab_figures[] = {
    {"epoch", "epoch", "e"},
    {"extra.phase", "phase", NULL},
    {"leader", "leader", NULL},
    {"extra.last_zxid", "zxid", "z"},
    {"extra.committed_zxid", "committed", NULL},
    {"commit", "commit", "c"},
    {"applied", "delivered", "a"},
    {"extra.followers", "followers", NULL},
    {"extra.zk.znodes", "znodes", NULL},
    {NULL, NULL, NULL},
};

const struct mode mode_zab = {
    .name = "zab",
    .compare_as = "consensus", /* its row in `compare` (struct mode) */
    .summary = "ZooKeeper Atomic Broadcast: fast leader election, epochs, DIFF/TRUNC/SNAP sync, propose/ack/commit by zxid",
    .options = zab_options,
    .bugs = "skip-sync|commit-before-quorum",
    .handlers = zab_handlers,
    .commands = NULL,
    .create = zab_create,
    .start = zab_start,
    .destroy = zab_destroy,
    .on_timer = zab_on_timer,
    .status = zab_status,
    .monitor = &zabmon_monitor,
    .workload = "lin-kv",
    .client_types = zab_client_types,
    .roles = zab_roles,
    .figures = zab_figures,
    .events = "state|election|fle|newepoch|sync|synced|newleader|propose|logged|commit|quorum|apply|truncate|snapshot|fenced|error|zk_session|zk_watch|mutex|client_session|elected|watch_fired",
};
