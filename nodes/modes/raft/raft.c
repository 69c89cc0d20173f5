/* raft — the Raft consensus protocol as a pure state machine behind struct env.
 *
 * Sources: "In Search of an Understandable Consensus Algorithm (Extended Version)", Ongaro and
 * Ousterhout 2014 (Figure 2 is the rule book quoted at each decision below), and Ongaro's
 * dissertation "Consensus: Bridging Theory and Practice" 2014 (single-server membership change
 * §4.1, pre-vote §9.6, ReadIndex and leases §6.4, leader stickiness §4.2.3).
 *
 * Roles and transitions (set_role() is the only place that changes the role and emits `state`):
 *
 *                 times out,                 receives votes from
 *     start ──► FOLLOWER ──── prevote=on ───► PRECANDIDATE ──── a majority ───┐
 *                 ▲  │                             │                          ▼
 *                 │  └──── times out ─────────────────────────────────► CANDIDATE ──► LEADER
 *                 │                                                   (term+1, votes   (majority
 *                 └─────── discovers a higher term, or a leader of its  for itself)    of votes)
 *                          own term (candidate); is removed, or hears from no
 *                          majority for two election timeouts (leader: check-quorum)
 *
 * Invariants this file keeps (checked by tests/check_raft.c after every simulator step and,
 * live, by nodes/modes/raft/raftmon.c from the events emitted here):
 *   - Election Safety: at most one leader per term (one vote per term, persisted before it is
 *     sent; a leader needs a majority of the current configuration).
 *   - Leader Append-Only: a leader never truncates its own log.
 *   - Log Matching: an entry's (index, term) determines it and its whole prefix (the
 *     AppendEntries consistency check on prev_index/prev_term).
 *   - Leader Completeness: votes go only to candidates whose log is at least as up-to-date.
 *   - State Machine Safety: entries are applied in index order, only once committed, and a
 *     leader commits by counting replicas only entries of its current term (Figure 8).
 *   - Durability: currentTerm, votedFor and the log are on disk (log_sync / blob_put) before
 *     any message that depends on them is sent.
 *   - lastApplied <= commitIndex <= lastLogIndex.
 *
 * Beyond Figure 2: a no-op at the start of each term; conflict-term backtracking; batched,
 * pipelined AppendEntries (FLUSH timer, window of 8 x batch entries); ReadIndex reads, or lease
 * reads (reads=lease); pre-vote (prevote=on); check-quorum; leader stickiness; snapshots with
 * InstallSnapshot (§7); single-server membership changes with a learner catch-up (§4.1,
 * §4.2.1); at-most-once client requests per (client, msg_id). docs/raft.md has the details.
 *
 * Durable state: log "raft.term" whose last record is (term, votedFor, log generation,
 * bootstrap members), folded now and then into blob "raft.state"; blob
 * "raft.snap" (snapshot: index, term, members, data, client sessions), and env logs
 * "raft.log.0" / "raft.log.1" (the current generation holds the entries after the snapshot;
 * switching generations is how a prefix is dropped, made atomic by the state blob).
 *
 * Bug toggles (bug=NAME) remove one rule so that a lesson can show what it is for:
 *   commit-old-term   the leader commits any entry stored on a majority (Figure 8 scenario)
 *   no-vote-persist   votedFor is not written to disk: after a restart a node may vote twice
 *   no-log-check      votes are granted without the up-to-date check (stale logs can win)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvsm.h"
#include "mode.h"
#include "msg.h"
#include "pending.h"
#include "raft.h"
#include "raftmon.h"
#include "rlog.h"

enum role { FOLLOWER, PRECANDIDATE, CANDIDATE, LEADER };
static const char *const role_names[] = {"follower", "precandidate", "candidate", "leader"};

enum tkind { T_ELECTION = 1, T_HEARTBEAT = 2, T_FLUSH = 3 };
enum bug { BUG_NONE, BUG_COMMIT_OLD_TERM, BUG_NO_VOTE_PERSIST, BUG_NO_LOG_CHECK };

#define MAX_PENDING 4096
#define MAX_TERM (1ull << 62)
/* Frames are capped at 1 MiB (envelope.h). An AppendEntries carries entries worth at most
 * AE_MAX_BYTES as JSON (always at least one), and a client write whose entry would be larger
 * than ENTRY_MAX_BYTES is refused: so no AppendEntries is ever over the cap. A snapshot goes in
 * chunks of at most SNAP_CHUNK_MAX bytes of ASCII text (at most twice that once escaped). */
#define AE_MAX_BYTES (512u << 10)
#define ENTRY_MAX_BYTES (384u << 10)
#define SNAP_CHUNK_MAX (256 << 10)
#define SNAP_PART "raft.snap.part"

struct peer {
    uint64_t next, match;
    int probe;              /* 1: one AppendEntries at a time until one succeeds */
    int probe_sent;
    uint64_t match_at_tick; /* match at the previous heartbeat tick (retransmit when stuck) */
    uint64_t acked_rseq;    /* highest read round this peer acknowledged in our term */
    uint64_t lease_sent;    /* our clock when the newest acknowledged message was sent */
    int snap_sent;          /* a snapshot chunk is in flight */
    uint64_t contact_us;    /* our clock when it last answered us (check-quorum) */
    uint64_t snap_index;    /* the snapshot (its index) being shipped to it, and the bytes of */
    size_t snap_off;        /* it the follower holds (acknowledged), from which the next chunk */
    size_t snap_off_tick;   /* goes; snap_off at the previous heartbeat tick, and the ticks */
    int snap_idle;          /* since it last moved (a chunk lost in flight is sent again) */
};

struct pread {              /* a client read waiting for ReadIndex */
    char client[CL_IDLEN];
    uint64_t msg_id;
    char *key;
    uint64_t read_index;
    uint64_t rseq;          /* the read round that must be acknowledged by a majority */
};

struct raft {
    struct env *e;
    unsigned state_records;   /* records in the raft.term log (folded into raft.state at STATE_RECORDS) */
    int defer_persist;        /* become_follower leaves persisting to its caller */
    /* options */
    int prevote, lease, bug;
    uint64_t hb_us, el_us;
    long snap_every, batch, window;
    long snap_chunk;            /* bytes of snapshot text in one InstallSnapshot */
    /* durable */
    uint64_t term;
    int voted;                  /* node index, -1 = none */
    uint32_t boot_members;
    unsigned gen;
    struct rlog log;            /* entries after the snapshot: base = snapshot index, base_term */
    uint32_t snap_members;
    uint64_t file_first;        /* index of the first record of the current log file */
    uint64_t synced;            /* last index on disk */
    /* volatile */
    uint64_t commit, applied;
    int role, leader;           /* leader: node index or -1 */
    uint32_t members;
    uint64_t conf_index;        /* index of the newest config entry, 0 = snapshot/bootstrap */
    uint32_t learners;          /* leader only: servers being added, catching up (§4.2.1) */
    struct kvsm sm;             /* the KV state machine, with client sessions */
    struct peer peers[CL_MAXN];
    uint64_t term_start;        /* index of the leader's no-op */
    uint64_t read_seq;
    int round_wanted;
    uint32_t votes;
    int force_campaign;
    uint64_t t_election, t_heartbeat, t_flush;
    int boot_quiet;             /* reads=lease: no vote before the first election timeout */
    double speed_seen;          /* the speed factor when the windows below were last valid */
    struct pending pend;        /* client writes and cas waiting for their entry to apply */
    struct pread *reads;
    size_t nreads, capreads;
    /* follower: AppendEntries replies and a commit index waiting for the next log sync, so
     * that the AppendEntries of one burst share one fsync */
    struct ack {
        char dest[CL_IDLEN];
        json_t *body;
        uint64_t match;
    } *acks;
    size_t nacks, capacks;
    uint64_t commit_after_sync;
    /* leader: the snapshot shipped to followers that need entries compacted away (§7), as
     * the ASCII JSON text of a raft.snap, sent in chunks of snap_chunk bytes */
    struct snap_out {
        uint64_t index;
        char *txt;
        size_t len;
    } out;
    /* follower: the snapshot being received, chunk by chunk, also on disk in the log
     * "raft.snap.part" (a header record, then one record per chunk) so that a restart
     * resumes it where it stopped */
    struct snap_in {
        int on;
        uint64_t index, term, members, total;
        struct sb buf;
    } in;
};

/* ---- small helpers ------------------------------------------------------------------ */

static uint64_t last_index(const struct raft *r)
{
    return rlog_last(&r->log);
}

static struct rlog_entry *entry_at(struct raft *r, uint64_t i)
{
    return rlog_at(&r->log, i);
}

static uint64_t term_at(struct raft *r, uint64_t i)
{
    return rlog_term_at(&r->log, i);
}

static int popcount32(uint32_t x)
{
    return __builtin_popcount(x);
}

static int is_member(const struct raft *r, int idx)
{
    return idx >= 0 && idx < CL_MAXN && (r->members >> idx) & 1;
}

static int quorum(const struct raft *r)
{
    return popcount32(r->members) / 2 + 1;
}

static const char *node_id(const struct raft *r, int idx)
{
    return idx >= 0 && idx < r->e->n_nodes ? r->e->nodes[idx] : "";
}

static char *dup_or_null(const char *s)
{
    return s && *s ? xstrdup(s) : NULL;
}

static void members_text(const struct raft *r, uint32_t m, struct sb *b)
{
    rlog_members_text(m, (const char (*)[CL_IDLEN])r->e->nodes, r->e->n_nodes, b);
}

/* "put x 1", "cas x 1 2", "noop", "config n1,n2,n3". Caller frees. */
static char *entry_cmd(const struct raft *r, const struct rlog_entry *en)
{
    return rlog_entry_text(en, (const char (*)[CL_IDLEN])r->e->nodes, r->e->n_nodes);
}

/* The command as shown in events and status: long values are cut (rlog_entry_label). */
static char *entry_label(const struct raft *r, const struct rlog_entry *en)
{
    return rlog_entry_label(en, (const char (*)[CL_IDLEN])r->e->nodes, r->e->n_nodes);
}

/* An upper bound of the bytes string s takes in a JSON text (quotes and a comma included). */
static size_t json_str_cost(const char *s)
{
    size_t n = 3;
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++)
        n += *p == '"' || *p == '\\' ? 2 : *p < 0x20 ? 6 : 1;
    return n;
}

/* An upper bound of the bytes entry en takes in an AppendEntries. */
static size_t entry_cost(const struct rlog_entry *en)
{
    return 80 + json_str_cost(en->key) + json_str_cost(en->value) + json_str_cost(en->from) +
           json_str_cost(en->client);
}

static void emit(struct raft *r, const char *ev, json_t *fields)
{
    env_event(r->e, ev, fields);
}

static void emit_error(struct raft *r, const char *src, const char *what)
{
    emit(r, "error", json_pack("{s:s,s:s}", "text", what, "from", src));
}

/* ---- durable state ------------------------------------------------------------------ */

static void log_name(unsigned gen, char buf[32])
{
    snprintf(buf, 32, "raft.log.%u", gen % 2);
}

/* currentTerm, votedFor (and the log generation) on disk. One record appended to the
 * "raft.term" log and synced: a single fdatasync, where replacing a file costs two and a
 * rename (elections wait on this, on the candidate and on every voter). The last record is
 * the state; when the log grows past STATE_RECORDS it is folded into the "raft.state" blob
 * and emptied. Recovery takes the log's last record, else the blob, so a crash between the
 * two steps finds the same state either way. */
#define STATE_RECORDS 256
static void persist_state(struct raft *r)
{
    char buf[128];
    int voted = r->bug == BUG_NO_VOTE_PERSIST ? -1 : r->voted;
    int n = snprintf(buf, sizeof buf, "%llu %d %u %u\n", (unsigned long long)r->term, voted,
                     r->gen, (unsigned)r->boot_members);
    r->e->ops->log_append(r->e, "raft.term", buf, (size_t)n);
    r->e->ops->log_sync(r->e, "raft.term");
    if (++r->state_records >= STATE_RECORDS) {
        r->e->ops->blob_put(r->e, "raft.state", buf, (size_t)n);
        r->e->ops->log_truncate(r->e, "raft.term", 0);
        r->state_records = 0;
    }
}

struct last_record {
    char buf[128];
    size_t len;
    long n;
};

static void keep_last(void *ud, const void *data, size_t len)
{
    struct last_record *l = ud;
    l->len = len < sizeof l->buf - 1 ? len : sizeof l->buf - 1;
    memcpy(l->buf, data, l->len);
    l->buf[l->len] = 0;
    l->n++;
}

static void put_u64(struct sb *b, uint64_t v)
{
    sb_addn(b, (const char *)&v, sizeof v);
}

static void put_str(struct sb *b, const char *s)
{
    uint32_t len = s ? (uint32_t)strlen(s) : 0;
    sb_addn(b, (const char *)&len, sizeof len);
    if (len)
        sb_addn(b, s, len);
}

static void encode_entry(struct sb *b, uint64_t index, const struct rlog_entry *en)
{
    b->len = 0;
    put_u64(b, index);
    put_u64(b, en->term);
    put_u64(b, (uint64_t)en->type | (uint64_t)en->members << 8);
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
    if (rd->left < sizeof v) {
        rd->bad = 1;
        return 0;
    }
    memcpy(&v, rd->p, sizeof v);
    rd->p += sizeof v;
    rd->left -= sizeof v;
    return v;
}

static char *get_str(struct reader *rd)
{
    uint32_t len;
    if (rd->left < sizeof len) {
        rd->bad = 1;
        return NULL;
    }
    memcpy(&len, rd->p, sizeof len);
    rd->p += sizeof len;
    rd->left -= sizeof len;
    if (len > rd->left) {
        rd->bad = 1;
        return NULL;
    }
    char *s = len ? xstrndup(rd->p, len) : NULL;
    rd->p += len;
    rd->left -= len;
    return s;
}

/* Writes entry at index last+1 into memory and the log file (not yet synced). */
static void append_entry(struct raft *r, struct rlog_entry *en)
{
    struct sb b = {0};
    uint64_t index = last_index(r) + 1;
    encode_entry(&b, index, en);
    char name[32];
    log_name(r->gen, name);
    r->e->ops->log_append(r->e, name, b.s, b.len);
    sb_free(&b);
    if (en->type == KV_CONF) {
        /* Dissertation §4.1: a server uses the newest configuration in its log, committed
         * or not. */
        r->members = en->members;
        r->conf_index = index;
    }
    rlog_push(&r->log, en); /* takes the entry */
}

/* The configuration after a truncation: the newest config entry left, or the snapshot's. */
static void recompute_config(struct raft *r)
{
    r->members = r->snap_members;
    r->conf_index = 0;
    for (size_t k = r->log.n; k-- > 0;) {
        if (r->log.e[k].type == KV_CONF) {
            r->members = r->log.e[k].members;
            r->conf_index = r->log.base + 1 + k;
            break;
        }
    }
}

static void forget_pending_upto(struct raft *r, uint64_t index);
static void emit_append(struct raft *r, uint64_t from, uint64_t to);

/* Removes entries from index on (memory and disk; durable on return). */
static void truncate_from(struct raft *r, uint64_t index)
{
    if (index <= r->log.base || index > last_index(r))
        return;
    size_t keep = (size_t)(index - r->log.base - 1);
    for (size_t k = keep; k < r->log.n; k++)
        rlog_entry_free(&r->log.e[k]);
    r->log.n = keep;
    char name[32];
    log_name(r->gen, name);
    r->e->ops->log_truncate(r->e, name, (size_t)(index - r->file_first));
    if (r->synced >= index)
        r->synced = index - 1;
    emit(r, "truncate", json_pack("{s:I}", "index", (json_int_t)index));
    recompute_config(r);
    /* a waiting reply that vouches for a removed entry would be a lie: drop it (as if lost) */
    size_t w = 0;
    for (size_t i = 0; i < r->nacks; i++) {
        if (r->acks[i].match >= index)
            json_decref(r->acks[i].body);
        else
            r->acks[w++] = r->acks[i];
    }
    r->nacks = w;
    if (r->commit_after_sync >= index)
        r->commit_after_sync = index - 1;
    /* Pending requests whose entries were cut stay pending: the entry may still be committed
     * by a later leader that holds it. apply_committed() settles them by the entry that
     * ends up at their index. */
}

/* Writes the entries after the snapshot into the other log generation, then switches to
 * it atomically through the state blob. */
static void rewrite_log(struct raft *r)
{
    unsigned ng = r->gen + 1;
    char name[32], old[32];
    log_name(ng, name);
    log_name(r->gen, old);
    r->e->ops->log_truncate(r->e, name, 0);
    struct sb b = {0};
    for (size_t k = 0; k < r->log.n; k++) {
        encode_entry(&b, r->log.base + 1 + k, &r->log.e[k]);
        r->e->ops->log_append(r->e, name, b.s, b.len);
    }
    sb_free(&b);
    r->e->ops->log_sync(r->e, name);
    r->gen = ng;
    persist_state(r);
    r->e->ops->log_truncate(r->e, old, 0);
    r->file_first = r->log.base + 1;
    uint64_t from = r->synced + 1 > r->log.base + 1 ? r->synced + 1 : r->log.base + 1;
    r->synced = last_index(r);
    if (from <= r->synced)
        emit_append(r, from, r->synced); /* entries kept after an installed snapshot */
}

static json_t *snapshot_json(struct raft *r)
{
    return json_pack("{s:I,s:I,s:I,s:O,s:O}", "index", (json_int_t)r->log.base, "term",
                     (json_int_t)r->log.base_term, "members", (json_int_t)r->snap_members, "data",
                     r->sm.data, "sessions", r->sm.sessions);
}

static void persist_snapshot(struct raft *r)
{
    json_t *j = snapshot_json(r);
    char *txt = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    r->e->ops->blob_put(r->e, "raft.snap", txt, strlen(txt));
    free(txt);
}

/* ---- roles and timers ---------------------------------------------------------------- */

static uint32_t members_at(struct raft *r, uint64_t i);

/* A server campaigns if it votes in its newest configuration, or in the committed one while
 * the change that removes it is not committed: if it holds the longest log, the remaining
 * members may need it to lead (it then manages a cluster it is not part of, §4.2.2, and
 * steps down once the change commits). */
static int can_campaign(struct raft *r)
{
    int self = r->e->self_idx;
    return is_member(r, self) || (r->conf_index > r->commit && ((members_at(r, r->commit) >> self) & 1));
}

static void arm_election(struct raft *r)
{
    env_timer_cancel(r->e, r->t_election);
    r->t_election = 0;
    if (!can_campaign(r))
        return; /* a server outside the configuration never campaigns */
    r->t_election = env_timer_set(r->e, env_rand_range(r->e, r->el_us, 2 * r->el_us), T_ELECTION, 0);
}

static void arm_flush(struct raft *r)
{
    if (!r->t_flush)
        r->t_flush = env_timer_set(r->e, 0, T_FLUSH, 0);
}

static void set_role(struct raft *r, int role, int leader)
{
    if (r->role == role && r->leader == leader)
        return;
    r->role = role;
    r->leader = leader;
    json_t *f = json_pack("{s:s,s:I}", "role", role_names[role], "term", (json_int_t)r->term);
    if (leader >= 0)
        json_object_set_new(f, "leader", json_string(node_id(r, leader)));
    emit(r, "state", f);
}

static void fail_reads(struct raft *r, const char *why)
{
    for (size_t i = 0; i < r->nreads; i++) {
        struct pread *pr = &r->reads[i];
        json_t *req = json_pack("{s:I}", "msg_id", (json_int_t)pr->msg_id);
        env_reply_error(r->e, pr->client, req, ERR_TEMPORARILY_UNAVAILABLE, why,
                        r->leader >= 0 && r->leader != r->e->self_idx ? node_id(r, r->leader) : NULL);
        json_decref(req);
        free(pr->key);
    }
    r->nreads = 0;
}

/* Figure 2, all servers: "If RPC request or response contains term T > currentTerm: set
 * currentTerm = T, convert to follower." */
static void become_follower(struct raft *r, uint64_t term, int leader)
{
    int changed_term = term > r->term;
    if (changed_term) {
        r->term = term;
        r->voted = -1;
        if (!r->defer_persist) /* else the caller persists term and vote together */
            persist_state(r);
    }
    if (r->role == LEADER) {
        env_timer_cancel(r->e, r->t_heartbeat);
        r->t_heartbeat = 0;
        fail_reads(r, "leadership lost");
    }
    int was = r->role;
    if (changed_term && was == FOLLOWER && r->leader == leader)
        r->leader = -2; /* force a state event for the new term */
    set_role(r, FOLLOWER, leader);
    if (was != FOLLOWER || changed_term || leader >= 0)
        arm_election(r);
}

static void send_append(struct raft *r, int p, int allow_empty);
static void maybe_commit(struct raft *r);
static void maybe_promote(struct raft *r, int p);
static void sync_and_ack(struct raft *r);

static void become_leader(struct raft *r)
{
    env_timer_cancel(r->e, r->t_election);
    r->t_election = 0;
    set_role(r, LEADER, r->e->self_idx);
    r->learners = 0;
    uint64_t now = env_now_us(r->e);
    for (int p = 0; p < CL_MAXN; p++) {
        struct peer *pe = &r->peers[p];
        memset(pe, 0, sizeof *pe);
        pe->next = last_index(r) + 1;
        pe->probe = 1;
        pe->contact_us = now; /* the votes were contact */
    }
    /* Dissertation §6.4: a leader commits a blank no-op entry at the start of its term, so
     * it learns which entries are committed (and ReadIndex has a safe index). */
    struct rlog_entry en = {.term = r->term, .type = KV_NOOP};
    append_entry(r, &en);
    r->term_start = last_index(r);
    r->read_seq = 0;
    arm_flush(r);
    r->t_heartbeat = env_timer_set(r->e, r->hb_us, T_HEARTBEAT, 0);
}

static int log_up_to_date(struct raft *r, uint64_t lterm, uint64_t lindex)
{
    /* §5.4.1: "If the logs have last entries with different terms, then the log with the
     * later term is more up-to-date. If the logs end with the same term, then whichever log
     * is longer is more up-to-date." */
    uint64_t my_term = term_at(r, last_index(r));
    if (lterm != my_term)
        return lterm > my_term;
    return lindex >= last_index(r);
}

static void send_vote_requests(struct raft *r, int pre)
{
    uint64_t term = pre ? r->term + 1 : r->term;
    emit(r, "vote", json_pack("{s:s,s:I,s:s,s:b}", "what", "request", "term", (json_int_t)term,
                              "candidate", r->e->self, "pre", pre));
    for (int p = 0; p < r->e->n_nodes; p++) {
        if (p == r->e->self_idx || !is_member(r, p))
            continue;
        json_t *b = json_pack("{s:s,s:I,s:I,s:I,s:b,s:b}", "type", "request_vote", "term",
                              (json_int_t)term, "last_index", (json_int_t)last_index(r),
                              "last_term", (json_int_t)term_at(r, last_index(r)), "pre", pre,
                              "force", r->force_campaign);
        env_send(r->e, r->e->nodes[p], b);
    }
}

static void check_votes(struct raft *r);

static void start_campaign(struct raft *r, int pre)
{
    if (r->term >= MAX_TERM)
        return;
    r->votes = 1u << r->e->self_idx;
    if (pre) {
        set_role(r, PRECANDIDATE, -1);
    } else {
        /* Figure 2, candidates: "increment currentTerm, vote for self, reset election timer,
         * send RequestVote RPCs to all other servers". The requests describe our log, so
         * what they describe goes to disk first. */
        sync_and_ack(r);
        r->term++;
        r->voted = r->e->self_idx;
        persist_state(r);
        r->role = -1; /* a new term: always announce it */
        set_role(r, CANDIDATE, -1);
    }
    arm_election(r);
    send_vote_requests(r, pre);
    check_votes(r); /* a one-node configuration wins at once */
}

static void check_votes(struct raft *r)
{
    if (popcount32(r->votes & r->members) < quorum(r))
        return;
    if (r->role == PRECANDIDATE)
        start_campaign(r, 0);
    else if (r->role == CANDIDATE)
        become_leader(r);
}

/* ---- client requests and the state machine -------------------------------------------- */

/* The answer to a write or cas whose entry applied with result code. */
static json_t *result_body(int type, int code)
{
    if (code == 0)
        return json_pack("{s:s}", "type", type == KV_CAS ? "cas_ok" : "write_ok");
    return json_pack("{s:s,s:i,s:s}", "type", "error", "code", code, "text",
                     code == ERR_PRECONDITION_FAILED ? "precondition failed" : "key does not exist");
}

/* Forgets pending requests at or below index (covered by an installed snapshot: their
 * outcome is unknown here, so the client's timeout reports them as indeterminate). */
static void forget_pending_upto(struct raft *r, uint64_t index)
{
    pending_drop_upto(&r->pend, index);
}

struct applied {
    struct raft *r;
    const struct rlog_entry *en;
    int code;
};

/* A request whose entry this node appended at the index just applied. */
static void answer_applied(void *ud, const struct pending_req *pd)
{
    struct applied *a = ud;
    if (pd->term == a->en->term)
        pending_reply(a->r->e, pd, result_body(a->en->type, a->code));
    else
        /* another entry was committed at this index: the request's entry can never be, so
         * it definitely did not take effect */
        pending_reply_error(a->r->e, pd, ERR_TEMPORARILY_UNAVAILABLE, "entry overwritten by a new leader");
}

static void serve_reads(struct raft *r);
static void maybe_snapshot(struct raft *r);

static void apply_committed(struct raft *r)
{
    while (r->applied < r->commit) {
        uint64_t i = r->applied + 1;
        struct rlog_entry *en = entry_at(r, i);
        if (!en)
            break;
        int code = kvsm_apply(&r->sm, en);
        r->applied = i;
        char *cmd = entry_label(r, en);
        json_t *f = json_pack("{s:I,s:I,s:s}", "index", (json_int_t)i, "term", (json_int_t)en->term,
                              "cmd", cmd);
        free(cmd);
        if (en->type == KV_PUT || en->type == KV_CAS) {
            json_object_set_new(f, "key", json_string(en->key ? en->key : ""));
            json_object_set_new(f, "value", kvsm_value_decode(en->value));
        }
        emit(r, "apply", f);
        /* answer the client whose request this node appended at i */
        struct applied a = {r, en, code};
        pending_take(&r->pend, i, 1, answer_applied, &a);
        if (en->type == KV_CONF && r->role == LEADER && !is_member(r, r->e->self_idx) &&
            r->conf_index <= r->commit) {
            /* §4.2.2: a leader removed from the configuration steps down once the entry
             * that removes it is committed. */
            become_follower(r, r->term, -1);
        }
    }
    serve_reads(r);
    maybe_snapshot(r);
}

static void set_commit(struct raft *r, uint64_t c)
{
    if (c > last_index(r))
        c = last_index(r);
    if (c <= r->commit)
        return;
    r->commit = c;
    emit(r, "commit", json_pack("{s:I,s:I,s:I}", "index", (json_int_t)c, "term",
                                (json_int_t)term_at(r, c), "cur_term", (json_int_t)r->term));
    apply_committed(r);
}

static void redirect(struct raft *r, const char *src, const json_t *body)
{
    const char *hint = r->leader >= 0 && r->leader != r->e->self_idx ? node_id(r, r->leader) : NULL;
    env_reply_error(r->e, src, body, ERR_TEMPORARILY_UNAVAILABLE,
                    hint ? "not the leader"
                         : r->role == LEADER ? "leader leaving the configuration" : "no leader known",
                    hint);
}

/* Client bodies (docs/protocol.md §1): read {msg_id, key}, write {msg_id, key, value},
 * cas {msg_id, key, from, to}. */
struct client_msg {
    uint64_t msg_id;
    char *key;                              /* a string, or a whole number's decimal text */
    const json_t *value, *from, *to;        /* any JSON (kvsm.h: stored with its type) */
};

static const struct msg_field read_fields[] = {
    MSG_U64(struct client_msg, msg_id, INT64_MAX),
    MSG_TEXT(struct client_msg, key),
    MSG_END,
};

static const struct msg_field write_fields[] = {
    MSG_U64(struct client_msg, msg_id, INT64_MAX),
    MSG_TEXT(struct client_msg, key),
    MSG_ANY(struct client_msg, value),
    MSG_END,
};

static const struct msg_field cas_fields[] = {
    MSG_U64(struct client_msg, msg_id, INT64_MAX),
    MSG_TEXT(struct client_msg, key),
    MSG_ANY(struct client_msg, from),
    MSG_ANY(struct client_msg, to),
    MSG_END,
};

/* Reads a client body; a malformed one is answered with error 12 naming the field. */
static int client_get(struct raft *r, const char *src, const json_t *body, const struct msg_field *fields,
                      struct client_msg *m)
{
    return msg_get_request(r->e, src, body, fields, m, sizeof *m);
}

static void client_write_m(struct raft *r, const char *src, const json_t *body, int type, struct client_msg *mp);

static void client_write(struct raft *r, const char *src, const json_t *body, int type)
{
    struct client_msg m;
    const struct msg_field *fields = type == KV_CAS ? cas_fields : write_fields;
    if (client_get(r, src, body, fields, &m) < 0)
        return;
    client_write_m(r, src, body, type, &m);
    msg_free_text(fields, &m);
}

static void client_write_m(struct raft *r, const char *src, const json_t *body, int type, struct client_msg *mp)
{
    struct client_msg m = *mp;
    if (env_node_index(r->e, src) >= 0) {
        emit_error(r, src, "client request from a node id refused");
        return;
    }
    if (r->role != LEADER || !is_member(r, r->e->self_idx)) {
        /* a leader leaving the configuration takes no new requests: an entry after the one
         * removing it would be committed by the next leader, with no one to answer */
        redirect(r, src, body);
        return;
    }
    uint64_t last_id;
    int code;
    if (kvsm_session(&r->sm, src, &last_id, &code) && last_id == m.msg_id) {
        env_reply(r->e, src, body, result_body(type, code)); /* a retry of what applied */
        return;
    }
    if (pending_has(&r->pend, src, json_object_get(body, "msg_id")))
        return; /* already in the log: the reply comes when it applies */
    if (r->pend.n >= MAX_PENDING) {
        env_reply_error(r->e, src, body, ERR_TEMPORARILY_UNAVAILABLE, "too many requests in flight", NULL);
        return;
    }
    struct rlog_entry en = {.term = r->term, .type = type, .msg_id = m.msg_id};
    en.key = xstrdup(m.key);
    en.value = kvsm_value_encode(type == KV_CAS ? m.to : m.value);
    if (type == KV_CAS)
        en.from = kvsm_value_encode(m.from);
    en.client = xstrdup(src);
    if (entry_cost(&en) > ENTRY_MAX_BYTES) {
        /* it could never travel in an AppendEntries under the frame cap */
        char text[160];
        snprintf(text, sizeof text, "key and value too large: %zu bytes as JSON, at most %u in one entry",
                 entry_cost(&en), ENTRY_MAX_BYTES);
        rlog_entry_free(&en);
        env_reply_error(r->e, src, body, ERR_MALFORMED_REQUEST, text, NULL);
        return;
    }
    /* Figure 2, leaders: "If command received from client: append entry to local log,
     * respond after entry applied to state machine". The fsync and the AppendEntries to
     * every follower happen once per burst, in the FLUSH timer. */
    append_entry(r, &en);
    pending_add(&r->pend, src, json_object_get(body, "msg_id"), last_index(r), r->term, type);
    arm_flush(r);
}

static void on_write(void *st, const char *src, const json_t *body)
{
    client_write(st, src, body, KV_PUT);
}

static void on_cas(void *st, const char *src, const json_t *body)
{
    client_write(st, src, body, KV_CAS);
}

static int read_confirmed(struct raft *r, uint64_t rseq)
{
    if (rseq == 0)
        return 1;
    int acks = is_member(r, r->e->self_idx);
    for (int p = 0; p < r->e->n_nodes; p++)
        if (p != r->e->self_idx && is_member(r, p) && r->peers[p].acked_rseq >= rseq)
            acks++;
    return acks >= quorum(r);
}

static void serve_reads(struct raft *r)
{
    if (r->role != LEADER || !r->nreads)
        return;
    size_t w = 0;
    for (size_t i = 0; i < r->nreads; i++) {
        struct pread *pr = &r->reads[i];
        if (pr->read_index < r->term_start && r->commit >= r->term_start)
            pr->read_index = r->term_start;
        if (r->commit >= r->term_start && read_confirmed(r, pr->rseq) && r->applied >= pr->read_index) {
            json_t *v = json_object_get(r->sm.data, pr->key);
            json_t *req = json_pack("{s:I}", "msg_id", (json_int_t)pr->msg_id);
            env_reply(r->e, pr->client, req, json_pack("{s:s,s:O}", "type", "read_ok", "value", v ? v : json_null()));
            json_decref(req);
            free(pr->key);
            continue;
        }
        r->reads[w++] = *pr;
    }
    r->nreads = w;
}

/* Slow motion. Timers follow the lab's speed factor while our clock (env_now_us) keeps real
 * time, so a window measured on the clock that must match timer delays is scaled here:
 * check-quorum waits two election timeouts at the current pace; a lease lasts one election
 * timeout at the pace of the fastest speed since it was earned, and never longer than at
 * normal speed (shorter is always safe). When the speed changes, contacts heard at the old
 * pace count as fresh (the new window starts now) and leases are given up until a new round
 * of acknowledgements earns one at the new pace. */
static double pace(struct raft *r)
{
    double sp = env_speed(r->e);
    if (sp <= 0)
        sp = 1;
    if (sp != r->speed_seen) {
        uint64_t now = env_now_us(r->e);
        for (int p = 0; p < CL_MAXN; p++) {
            r->peers[p].contact_us = now;
            r->peers[p].lease_sent = 0;
        }
        r->speed_seen = sp;
    }
    return sp;
}

static uint64_t quiet_us(struct raft *r)
{
    return (uint64_t)((double)r->el_us / pace(r));
}

static uint64_t lease_us(struct raft *r)
{
    double sp = pace(r);
    return (uint64_t)((double)r->el_us / (sp < 1 ? 1 : sp));
}

static uint64_t lease_expiry(struct raft *r)
{
    /* The newest time by which a majority acknowledged us, plus the minimum election timeout:
     * before then no other server can have been elected — if clocks do not drift or jump. */
    uint64_t len = lease_us(r); /* first: a speed change gives up the lease */
    uint64_t t[CL_MAXN];
    int k = 0;
    for (int p = 0; p < r->e->n_nodes; p++) {
        if (!is_member(r, p))
            continue;
        t[k++] = p == r->e->self_idx ? env_now_us(r->e) : r->peers[p].lease_sent;
    }
    for (int i = 1; i < k; i++)
        for (int j = i; j > 0 && t[j] > t[j - 1]; j--) {
            uint64_t x = t[j];
            t[j] = t[j - 1];
            t[j - 1] = x;
        }
    uint64_t base = k ? t[quorum(r) - 1] : 0;
    return base ? base + len : 0;
}

static void read_m(struct raft *r, const char *src, const json_t *body, const struct client_msg *mp);

static void on_read(void *st, const char *src, const json_t *body)
{
    struct raft *r = st;
    struct client_msg m;
    if (client_get(r, src, body, read_fields, &m) < 0)
        return;
    read_m(r, src, body, &m);
    msg_free_text(read_fields, &m);
}

static void read_m(struct raft *r, const char *src, const json_t *body, const struct client_msg *mp)
{
    const struct client_msg m = *mp;
    if (r->role != LEADER || !is_member(r, r->e->self_idx)) {
        redirect(r, src, body);
        return;
    }
    if (r->nreads >= MAX_PENDING) {
        env_reply_error(r->e, src, body, ERR_TEMPORARILY_UNAVAILABLE, "too many reads in flight", NULL);
        return;
    }
    if (r->nreads == r->capreads) {
        r->capreads = r->capreads ? r->capreads * 2 : 16;
        r->reads = xrealloc(r->reads, r->capreads * sizeof *r->reads);
    }
    struct pread *pr = &r->reads[r->nreads++];
    str_copy(pr->client, src, CL_IDLEN);
    pr->msg_id = m.msg_id;
    pr->key = xstrdup(m.key);
    /* §6.4 ReadIndex: record the commit index, confirm leadership with a round of
     * heartbeats acknowledged by a majority, then wait until applied >= readIndex. */
    pr->read_index = r->commit > r->term_start ? r->commit : r->term_start;
    if (r->lease && r->commit >= r->term_start && env_now_us(r->e) < lease_expiry(r)) {
        pr->rseq = 0; /* reads=lease: the lease stands in for the heartbeat round */
    } else {
        pr->rseq = r->read_seq + 1;
        r->round_wanted = 1;
        arm_flush(r);
    }
    serve_reads(r);
}

/* ---- replication (leader side) ---------------------------------------------------------- */

static json_t *entry_json(const struct rlog_entry *en)
{
    return json_pack("[I,i,s,s,s,s,I,I]", (json_int_t)en->term, en->type, en->key ? en->key : "",
                     en->value ? en->value : "", en->from ? en->from : "",
                     en->client ? en->client : "", (json_int_t)en->msg_id, (json_int_t)en->members);
}


/* The configuration in force at index i (the newest config entry at or before i). */
static uint32_t members_at(struct raft *r, uint64_t i)
{
    for (uint64_t k = i; k > r->log.base; k--) {
        struct rlog_entry *en = entry_at(r, k);
        if (en && en->type == KV_CONF)
            return en->members;
    }
    return r->snap_members;
}

/* The leader's snapshot to ship, taken from the applied state (everything applied is
 * committed) as the text of a raft.snap; kept while it is still of use (entries after it are
 * in the log), so that a transfer under way, or one a restarted follower resumes, goes on. */
static const struct snap_out *snapshot_out(struct raft *r)
{
    if (r->out.txt && r->out.index >= r->log.base)
        return &r->out;
    free(r->out.txt);
    json_t *j = json_pack("{s:I,s:I,s:I,s:O,s:O}", "index", (json_int_t)r->applied, "term",
                          (json_int_t)term_at(r, r->applied), "members",
                          (json_int_t)members_at(r, r->applied), "data", r->sm.data, "sessions",
                          r->sm.sessions);
    /* ASCII, so that any cut between two bytes leaves two valid JSON strings */
    r->out.txt = json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII);
    json_decref(j);
    r->out.len = strlen(r->out.txt);
    r->out.index = r->applied;
    return &r->out;
}

static void snapshot_out_free(struct raft *r)
{
    free(r->out.txt);
    memset(&r->out, 0, sizeof r->out);
}

/* §7 InstallSnapshot, sent when a follower needs entries we have compacted away: one chunk
 * at a time ("offset" and "done", as in the paper's Figure 13), the next when the follower
 * acknowledges this one with the bytes it holds. */
static void send_snapshot(struct raft *r, int p)
{
    struct peer *pe = &r->peers[p];
    if (pe->snap_sent)
        return;
    const struct snap_out *o = snapshot_out(r);
    if (pe->snap_index != o->index) {
        pe->snap_index = o->index;
        pe->snap_off = pe->snap_off_tick = 0;
        pe->snap_idle = 0;
    }
    size_t off = pe->snap_off < o->len ? pe->snap_off : 0;
    size_t n = o->len - off < (size_t)r->snap_chunk ? o->len - off : (size_t)r->snap_chunk;
    pe->snap_sent = 1;
    json_t *b = json_pack("{s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:s%,s:b,s:I}", "type", "install_snapshot", "term",
                          (json_int_t)r->term, "index", (json_int_t)o->index, "snap_term",
                          (json_int_t)term_at(r, o->index), "members",
                          (json_int_t)members_at(r, o->index), "offset", (json_int_t)off, "total",
                          (json_int_t)o->len, "chunk", o->txt + off, n, "done", off + n == o->len,
                          "sent", (json_int_t)env_now_us(r->e));
    env_send(r->e, node_id(r, p), b);
}

static void send_ae(struct raft *r, int p, uint64_t prev, uint64_t from, uint64_t to)
{
    json_t *ents = json_array();
    for (uint64_t i = from; i <= to; i++)
        json_array_append_new(ents, entry_json(entry_at(r, i)));
    json_t *b = json_pack("{s:s,s:I,s:I,s:I,s:o,s:I,s:I,s:I}", "type", "append_entries", "term",
                          (json_int_t)r->term, "prev_index", (json_int_t)prev, "prev_term",
                          (json_int_t)term_at(r, prev), "entries", ents, "commit",
                          (json_int_t)r->commit, "rseq", (json_int_t)r->read_seq, "sent",
                          (json_int_t)env_now_us(r->e));
    env_send(r->e, node_id(r, p), b);
}

/* Sends what follower p needs next: a snapshot, a batch of entries (pipelined up to the
 * window when the follower is known to match, one at a time while probing), or, when
 * allow_empty, a heartbeat anchored at the index it is known to hold. */
static void send_append(struct raft *r, int p, int allow_empty)
{
    struct peer *pe = &r->peers[p];
    if (pe->next <= r->log.base) {
        send_snapshot(r, p);
        return;
    }
    uint64_t last = last_index(r);
    int sent = 0;
    /* pipelining: batch after batch without waiting for replies, up to the window */
    while (pe->next <= last &&
           (pe->probe ? !pe->probe_sent : pe->next - pe->match - 1 < (uint64_t)r->window)) {
        uint64_t to = pe->next + (uint64_t)r->batch - 1;
        if (to > last)
            to = last;
        /* and at most AE_MAX_BYTES of entries (at least one): under the frame cap */
        size_t bytes = entry_cost(entry_at(r, pe->next));
        for (uint64_t i = pe->next + 1; i <= to; i++) {
            size_t c = entry_cost(entry_at(r, i));
            if (bytes + c > AE_MAX_BYTES) {
                to = i - 1;
                break;
            }
            bytes += c;
        }
        send_ae(r, p, pe->next - 1, pe->next, to);
        sent = 1;
        if (pe->probe) {
            pe->probe_sent = 1;
            break;
        }
        pe->next = to + 1;
    }
    if (sent || !allow_empty)
        return;
    /* probing: ask about next-1 (a success ends the probe); replicating: about match */
    uint64_t anchor = pe->probe ? pe->next - 1 : pe->match;
    if (anchor < r->log.base)
        anchor = r->log.base;
    send_ae(r, p, anchor, anchor + 1, anchor);
}

static void broadcast(struct raft *r, int allow_empty)
{
    uint32_t targets = r->members | r->learners;
    if (r->conf_index > r->commit)
        targets |= members_at(r, r->commit);
    for (int p = 0; p < r->e->n_nodes; p++) {
        if (p == r->e->self_idx)
            continue;
        /* leaders replicate to every server in the newest configuration, and to servers
         * being removed until that entry commits */
        if (!((targets >> p) & 1))
            continue;
        send_append(r, p, allow_empty);
    }
}

static void emit_append(struct raft *r, uint64_t from, uint64_t to)
{
    /* one event per run of entries with the same term */
    uint64_t i = from;
    while (i <= to) {
        uint64_t t = term_at(r, i);
        json_t *cmds = json_array();
        uint64_t j = i;
        for (; j <= to && term_at(r, j) == t; j++) {
            char *c = entry_label(r, entry_at(r, j));
            json_array_append_new(cmds, json_string(c));
            free(c);
        }
        emit(r, "append", json_pack("{s:I,s:I,s:I,s:I,s:o}", "index", (json_int_t)i, "term",
                                    (json_int_t)t, "count", (json_int_t)(j - i), "prev_term",
                                    (json_int_t)term_at(r, i - 1), "cmds", cmds));
        i = j;
    }
}

/* Makes the log durable up to its end; emits `append` for what became durable. */
static void sync_log(struct raft *r)
{
    uint64_t last = last_index(r);
    if (r->synced >= last)
        return;
    char name[32];
    log_name(r->gen, name);
    r->e->ops->log_sync(r->e, name);
    uint64_t from = r->synced + 1;
    if (from <= r->log.base)
        from = r->log.base + 1;
    r->synced = last;
    emit_append(r, from, last);
}

/* Figure 2, leaders: "If there exists an N such that N > commitIndex, a majority of
 * matchIndex[i] >= N, and log[N].term == currentTerm: set commitIndex = N." */
static void maybe_commit(struct raft *r)
{
    if (r->role != LEADER)
        return;
    uint64_t m[CL_MAXN];
    int k = 0;
    for (int p = 0; p < r->e->n_nodes; p++) {
        if (!is_member(r, p))
            continue;
        m[k++] = p == r->e->self_idx ? r->synced : r->peers[p].match;
    }
    if (!k)
        return;
    for (int i = 1; i < k; i++)
        for (int j = i; j > 0 && m[j] > m[j - 1]; j--) {
            uint64_t x = m[j];
            m[j] = m[j - 1];
            m[j - 1] = x;
        }
    uint64_t n = m[quorum(r) - 1];
    if (n <= r->commit)
        return;
    if (r->bug != BUG_COMMIT_OLD_TERM) {
        /* §5.4.2: "Raft never commits log entries from previous terms by counting replicas." */
        if (term_at(r, n) != r->term)
            return;
    }
    set_commit(r, n);
}

static void flush(struct raft *r)
{
    r->t_flush = 0;
    if (r->role != LEADER) {
        sync_and_ack(r);
        return;
    }
    if (r->nacks)
        sync_and_ack(r); /* replies from before we led */
    int round = r->round_wanted;
    if (round) {
        r->read_seq++;
        r->round_wanted = 0;
    }
    /* §10.2.1: the leader may write its own log in parallel with replication; its entries
     * count towards a majority only once synced */
    broadcast(r, round);
    sync_log(r);
    maybe_commit(r);
    serve_reads(r);
}

static void heartbeat_tick(struct raft *r)
{
    /* §6.2 check-quorum: a leader that has not heard from a majority within two election
     * timeouts (on its own clock, like its lease) steps down, so an isolated leader stops
     * accepting requests. A clock that jumps back keeps it believing, as it does its lease. */
    if (is_member(r, r->e->self_idx)) {
        uint64_t window = 2 * quiet_us(r); /* first: a speed change restarts the window */
        uint64_t now = env_now_us(r->e);
        int recent = 1;
        for (int p = 0; p < r->e->n_nodes; p++)
            if (p != r->e->self_idx && is_member(r, p) &&
                (r->peers[p].contact_us >= now || now - r->peers[p].contact_us <= window))
                recent++;
        if (recent < quorum(r)) {
            become_follower(r, r->term, -1);
            return;
        }
    }
    r->t_heartbeat = env_timer_set(r->e, r->hb_us, T_HEARTBEAT, 0);
    sync_log(r);
    for (int p = 0; p < r->e->n_nodes; p++) {
        struct peer *pe = &r->peers[p];
        if (p == r->e->self_idx)
            continue;
        /* no progress since the last tick: assume the window was lost, resend from match */
        if (pe->match == pe->match_at_tick && pe->next > pe->match + 1)
            pe->next = pe->match + 1 > r->log.base ? pe->match + 1 : pe->next;
        pe->match_at_tick = pe->match;
        pe->probe_sent = 0;
        /* a snapshot chunk not acknowledged for two ticks is sent again */
        if (pe->snap_off != pe->snap_off_tick)
            pe->snap_idle = 0;
        else if (++pe->snap_idle >= 2) {
            pe->snap_sent = 0;
            pe->snap_idle = 0;
        }
        pe->snap_off_tick = pe->snap_off;
    }
    broadcast(r, 1);
    maybe_commit(r);
}

/* ---- message handlers: validation ------------------------------------------------------ */

/* The peer messages and the fields each must carry (terms, indexes and times are whole
 * numbers below MAX_TERM). A body that lacks one, or has one of the wrong type, is dropped
 * with an `error` event naming the field. */
#define MAXU (MAX_TERM - 1)

struct vote_msg {           /* request_vote, request_vote_ok */
    uint64_t term, last_index, last_term, req_term;
    int pre, force, granted;
};

static const struct msg_field request_vote_fields[] = {
    MSG_U64(struct vote_msg, term, MAXU),
    MSG_U64(struct vote_msg, last_index, MAXU),
    MSG_U64(struct vote_msg, last_term, MAXU),
    MSG_BOOL_OPT(struct vote_msg, pre),
    MSG_BOOL_OPT(struct vote_msg, force),
    MSG_END,
};

static const struct msg_field request_vote_ok_fields[] = {
    MSG_U64(struct vote_msg, term, MAXU),
    MSG_U64(struct vote_msg, req_term, MAXU),
    MSG_BOOL(struct vote_msg, granted),
    MSG_BOOL_OPT(struct vote_msg, pre),
    MSG_END,
};

struct append_msg {         /* append_entries, append_entries_ok */
    uint64_t term, prev_index, prev_term, commit, rseq, sent;
    uint64_t match, prev, conflict_index, conflict_term;
    int success;
    const json_t *entries;
};

static const struct msg_field append_entries_fields[] = {
    MSG_U64(struct append_msg, term, MAXU),
    MSG_U64(struct append_msg, prev_index, MAXU),
    MSG_U64(struct append_msg, prev_term, MAXU),
    MSG_U64(struct append_msg, commit, MAXU),
    MSG_ARRAY(struct append_msg, entries, 0),
    MSG_U64_OPT(struct append_msg, rseq, MAXU),
    MSG_U64_OPT(struct append_msg, sent, MAXU),
    MSG_END,
};

static const struct msg_field append_entries_ok_fields[] = {
    MSG_U64(struct append_msg, term, MAXU),
    MSG_BOOL(struct append_msg, success),
    MSG_U64(struct append_msg, match, MAXU),
    MSG_U64(struct append_msg, prev, MAXU),
    MSG_U64_OPT(struct append_msg, rseq, MAXU),
    MSG_U64_OPT(struct append_msg, sent, MAXU),
    MSG_U64_OPT(struct append_msg, conflict_index, MAXU),
    MSG_U64_OPT(struct append_msg, conflict_term, MAXU),
    MSG_END,
};

struct snap_msg {           /* install_snapshot, install_snapshot_ok */
    uint64_t term, index, snap_term, members, match, sent, offset, total;
    const char *chunk;
    int done;
};

#define SNAP_TOTAL_MAX (1ull << 40)
static const struct msg_field install_snapshot_fields[] = {
    MSG_U64(struct snap_msg, term, MAXU),
    MSG_U64(struct snap_msg, index, MAXU),
    MSG_U64(struct snap_msg, snap_term, MAXU),
    MSG_U64(struct snap_msg, members, (1u << CL_MAXN) - 1),
    MSG_U64(struct snap_msg, offset, SNAP_TOTAL_MAX),
    MSG_U64(struct snap_msg, total, SNAP_TOTAL_MAX),
    MSG_STR(struct snap_msg, chunk),
    MSG_BOOL(struct snap_msg, done),
    MSG_U64_OPT(struct snap_msg, sent, MAXU),
    MSG_END,
};

/* "offset" (the bytes of snapshot "index" the follower holds) while a snapshot is under way;
 * without it, "match" says the snapshot is installed (or was not needed) */
static const struct msg_field install_snapshot_ok_fields[] = {
    MSG_U64(struct snap_msg, term, MAXU),
    MSG_U64(struct snap_msg, match, MAXU),
    MSG_U64_OPT(struct snap_msg, sent, MAXU),
    MSG_U64_OPT(struct snap_msg, index, MAXU),
    MSG_U64_OPT(struct snap_msg, offset, SNAP_TOTAL_MAX),
    MSG_END,
};

/* Reads a peer message into out; a malformed one is dropped with an error event. */
static int peer_get(struct raft *r, const char *src, const json_t *body, const struct msg_field *fields,
                    void *out)
{
    char err[300];
    if (msg_get(body, NULL, fields, out, err, sizeof err) == 0)
        return 0;
    emit_error(r, src, err);
    return -1;
}

/* A term can grow only by one per election, so even a node that campaigned alone for years
 * stays within TERM_JUMP_MAX of the others. A message whose term jumps further is a bug or an
 * attack (adopted, it would be persisted and could exhaust the terms: no election after): it is
 * refused and reported. Returns 1 when body must be dropped. */
#define TERM_JUMP_MAX (1ull << 32)
static int term_jump(struct raft *r, const char *src, const json_t *body)
{
    json_t *t = json_object_get(body, "term");
    if (!json_is_integer(t) || json_integer_value(t) < 0 || (uint64_t)json_integer_value(t) <= r->term + TERM_JUMP_MAX)
        return 0;
    char *text = xasprintf("refused a term jump from %llu to %llu (more than 2^32 ahead)",
                           (unsigned long long)r->term, (unsigned long long)json_integer_value(t));
    emit_error(r, src, text);
    free(text);
    return 1;
}

/* A peer message must come from a node of the cluster. */
static int peer_index(struct raft *r, const char *src)
{
    int p = env_node_index(r->e, src);
    if (p < 0 || p == r->e->self_idx) {
        emit_error(r, src, "raft message from a sender that is not a peer");
        return -1;
    }
    return p;
}

/* Have we heard from a current leader within an election timeout? True while a follower
 * knows a leader and its election timer (armed when it last heard from it, at least `election`
 * long, in protocol time) has not fired. With reads=lease a freshly started node counts as
 * having heard one until its first timeout, so that a restart does not shorten a lease. */
static int recently_heard(struct raft *r)
{
    return r->role == FOLLOWER && r->t_election != 0 &&
           (r->leader >= 0 || (r->lease && r->boot_quiet));
}

/* ---- RequestVote ------------------------------------------------------------------------ */

static void vote_reply(struct raft *r, const char *src, uint64_t term, int granted, int pre,
                       const char *reason)
{
    json_t *f = json_pack("{s:s,s:I,s:s,s:b}", "what", granted ? "grant" : "deny", "term",
                          (json_int_t)term, "candidate", src, "pre", pre);
    if (reason)
        json_object_set_new(f, "reason", json_string(reason));
    emit(r, "vote", f);
    env_send(r->e, src, json_pack("{s:s,s:I,s:I,s:b,s:b}", "type", "request_vote_ok", "term",
                                  (json_int_t)(pre && granted ? term : r->term), "req_term",
                                  (json_int_t)term, "granted", granted, "pre", pre));
}

static void on_request_vote(void *st, const char *src, const json_t *body)
{
    struct raft *r = st;
    int c = peer_index(r, src);
    struct vote_msg m = {0};
    if (c < 0 || term_jump(r, src, body) || peer_get(r, src, body, request_vote_fields, &m) < 0)
        return;
    uint64_t term = m.term, lidx = m.last_index, lterm = m.last_term;
    int pre = m.pre, force = m.force;
    if (!is_member(r, c) && r->conf_index <= r->commit) {
        /* §4.2.3: a server removed from the (committed) configuration may not know it and
         * keep campaigning; ignoring it keeps it from deposing leaders with higher terms */
        vote_reply(r, src, term, 0, pre, "not a member");
        return;
    }
    int uptodate = r->bug == BUG_NO_LOG_CHECK || log_up_to_date(r, lterm, lidx);
    if (pre) {
        /* §9.6: grant a pre-vote only if the candidate could win a real election and we have
         * not heard from a leader within the minimum election timeout. Changes no state. */
        if (term <= r->term) {
            vote_reply(r, src, term, 0, 1, "stale term");
            return;
        }
        if (!force && (r->role == LEADER || recently_heard(r))) {
            vote_reply(r, src, term, 0, 1, "leader alive");
            return;
        }
        if (!uptodate) {
            vote_reply(r, src, term, 0, 1, "log not up to date");
            return;
        }
        vote_reply(r, src, term, 1, 1, NULL);
        return;
    }
    /* Figure 2, RequestVote: "Reply false if term < currentTerm" */
    if (term < r->term) {
        vote_reply(r, src, term, 0, 0, "stale term");
        return;
    }
    /* §4.2.3 (with reads=lease): a server that heard from a leader within the minimum
     * election timeout neither updates its term nor grants its vote. */
    if (r->lease && !force && term > r->term && (r->role == LEADER || recently_heard(r))) {
        vote_reply(r, src, term, 0, 0, "leader alive");
        return;
    }
    if (term > r->term) {
        /* a vote we will grant in the new term goes to disk with the term: one sync */
        if (uptodate && r->bug != BUG_NO_VOTE_PERSIST) {
            r->defer_persist = 1;
            become_follower(r, term, -1);
            r->defer_persist = 0;
            r->voted = c;
            persist_state(r);
        } else {
            become_follower(r, term, -1);
        }
    }
    /* "If votedFor is null or candidateId, and candidate's log is at least as up-to-date as
     * receiver's log, grant vote" */
    if (r->voted >= 0 && r->voted != c) {
        vote_reply(r, src, term, 0, 0, "already voted");
        return;
    }
    if (!uptodate) {
        vote_reply(r, src, term, 0, 0, "log not up to date");
        return;
    }
    if (r->voted != c) {
        r->voted = c;
        persist_state(r); /* on disk before the vote leaves */
    }
    arm_election(r); /* "granting vote to candidate" resets the election timer */
    vote_reply(r, src, term, 1, 0, NULL);
}

static void on_request_vote_ok(void *st, const char *src, const json_t *body)
{
    struct raft *r = st;
    int p = peer_index(r, src);
    struct vote_msg m = {0};
    if (p < 0 || term_jump(r, src, body) || peer_get(r, src, body, request_vote_ok_fields, &m) < 0)
        return;
    uint64_t term = m.term, req_term = m.req_term;
    int granted = m.granted, pre = m.pre;
    if (!granted && term > r->term) {
        become_follower(r, term, -1);
        return;
    }
    if (!granted)
        return;
    if (pre ? (r->role == PRECANDIDATE && req_term == r->term + 1)
            : (r->role == CANDIDATE && req_term == r->term)) {
        r->votes |= 1u << p;
        check_votes(r);
    }
}

/* ---- AppendEntries (follower side) -------------------------------------------------------- */

static int parse_entry(const json_t *j, struct rlog_entry *en)
{
    json_int_t term, type, msg_id, members;
    const char *key, *value, *from, *client;
    memset(en, 0, sizeof en[0]);
    if (json_unpack((json_t *)j, "[I,I,s,s,s,s,I,I!]", &term, &type, &key, &value, &from, &client, &msg_id,
                    &members) < 0)
        return -1;
    if (term <= 0 || (uint64_t)term >= MAX_TERM || type < KV_NOOP || type > KV_CONF || msg_id < 0 ||
        members < 0 || members >= (1ll << CL_MAXN) || (type == KV_CONF && members == 0))
        return -1;
    if (strlen(client) >= CL_IDLEN)
        return -1;
    en->term = (uint64_t)term;
    en->type = (int)type;
    en->msg_id = (uint64_t)msg_id;
    en->members = (uint32_t)members;
    en->key = dup_or_null(key);
    en->value = dup_or_null(value);
    en->from = dup_or_null(from);
    en->client = dup_or_null(client);
    return 0;
}

static void ae_reply(struct raft *r, const char *src, int ok, uint64_t match, uint64_t prev,
                     uint64_t ci, uint64_t ct, const json_t *body)
{
    json_t *b = json_pack("{s:s,s:I,s:b,s:I,s:I}", "type", "append_entries_ok", "term",
                          (json_int_t)r->term, "success", ok, "match", (json_int_t)match, "prev",
                          (json_int_t)prev);
    if (!ok) {
        json_object_set_new(b, "conflict_index", json_integer((json_int_t)ci));
        json_object_set_new(b, "conflict_term", json_integer((json_int_t)ct));
    }
    json_t *v;
    if ((v = json_object_get(body, "rseq")))
        json_object_set(b, "rseq", v);
    if ((v = json_object_get(body, "sent")))
        json_object_set(b, "sent", v);
    if (ok && r->synced < last_index(r)) {
        /* "updated on stable storage before responding": the reply leaves after the sync */
        if (r->nacks == r->capacks) {
            r->capacks = r->capacks ? r->capacks * 2 : 8;
            r->acks = xrealloc(r->acks, r->capacks * sizeof *r->acks);
        }
        str_copy(r->acks[r->nacks].dest, src, CL_IDLEN);
        r->acks[r->nacks].match = match;
        r->acks[r->nacks++].body = b;
        arm_flush(r);
        return;
    }
    env_send(r->e, src, b);
}

/* Syncs the log, then releases the replies and the commit index that waited for it. */
static void sync_and_ack(struct raft *r)
{
    sync_log(r);
    for (size_t i = 0; i < r->nacks; i++)
        env_send(r->e, r->acks[i].dest, r->acks[i].body);
    r->nacks = 0;
    if (r->commit_after_sync > r->commit)
        set_commit(r, r->commit_after_sync);
}

static void on_append_entries(void *st, const char *src, const json_t *body)
{
    struct raft *r = st;
    int p = peer_index(r, src);
    struct append_msg m = {0};
    if (p < 0 || term_jump(r, src, body) || peer_get(r, src, body, append_entries_fields, &m) < 0)
        return;
    uint64_t term = m.term, prev = m.prev_index, prev_term = m.prev_term, lcommit = m.commit;
    const json_t *ents = m.entries;
    size_t n = json_array_size(ents);
    /* Figure 2, AppendEntries 1: "Reply false if term < currentTerm" */
    if (term < r->term) {
        ae_reply(r, src, 0, 0, prev, 0, 0, body);
        return;
    }
    if (term == r->term && r->role == LEADER) {
        emit_error(r, src, "two leaders in one term");
        return;
    }
    become_follower(r, term, p); /* also resets the election timer */
    /* 2: "Reply false if log doesn't contain an entry at prevLogIndex whose term matches
     * prevLogTerm" — with the conflict hints of §5.3's optimisation. */
    if (prev > last_index(r)) {
        ae_reply(r, src, 0, 0, prev, last_index(r) + 1, 0, body);
        return;
    }
    size_t skip = 0;
    if (prev < r->log.base) {
        /* the prefix up to the snapshot is committed here and on the leader: skip it */
        skip = (size_t)(r->log.base - prev);
        if (skip >= n) {
            ae_reply(r, src, 1, r->log.base > prev + n ? prev + n : r->log.base, prev, 0, 0, body);
            return;
        }
        prev = r->log.base;
        prev_term = r->log.base_term;
    } else if (term_at(r, prev) != prev_term) {
        uint64_t ct = term_at(r, prev);
        uint64_t ci = prev;
        while (ci > r->log.base + 1 && term_at(r, ci - 1) == ct)
            ci--;
        ae_reply(r, src, 0, 0, prev, ci, ct, body);
        return;
    }
    /* 3: "If an existing entry conflicts with a new one (same index but different terms),
     * delete the existing entry and all that follow it"; 4: "Append any new entries not
     * already in the log" — entries that match are kept (a reordered, shorter message must
     * not cut a longer log). */
    uint64_t idx = prev;
    for (size_t k = skip; k < n; k++) {
        struct rlog_entry en;
        if (parse_entry(json_array_get(ents, k), &en) < 0) {
            emit_error(r, src, "append_entries: malformed entry");
            break;
        }
        idx++;
        uint64_t have = term_at(r, idx);
        if (idx <= last_index(r) && have == en.term) {
            rlog_entry_free(&en);
            continue;
        }
        if (idx <= last_index(r)) {
            if (idx <= r->commit) {
                emit_error(r, src, "append_entries would overwrite a committed entry");
                rlog_entry_free(&en);
                idx--;
                break;
            }
            truncate_from(r, idx);
        }
        append_entry(r, &en);
    }
    /* 5: "If leaderCommit > commitIndex, set commitIndex = min(leaderCommit, index of last
     * new entry)" — once what it covers is on disk here, so that events stay in order */
    uint64_t c = lcommit < idx ? lcommit : idx;
    if (r->synced >= c)
        set_commit(r, c);
    else if (c > r->commit_after_sync)
        r->commit_after_sync = c;
    ae_reply(r, src, 1, idx, prev, 0, 0, body); /* waits for the FLUSH timer's sync */
}

static void on_append_entries_ok(void *st, const char *src, const json_t *body)
{
    struct raft *r = st;
    int p = peer_index(r, src);
    struct append_msg m = {0};
    if (p < 0 || term_jump(r, src, body) || peer_get(r, src, body, append_entries_ok_fields, &m) < 0)
        return;
    uint64_t term = m.term, match = m.match, prev = m.prev, rseq = m.rseq, sent = m.sent;
    if (term > r->term) {
        become_follower(r, term, -1);
        return;
    }
    if (term < r->term || r->role != LEADER)
        return;
    struct peer *pe = &r->peers[p];
    pe->contact_us = env_now_us(r->e);
    if (rseq > pe->acked_rseq)
        pe->acked_rseq = rseq;
    if (sent > pe->lease_sent)
        pe->lease_sent = sent;
    if (m.success) {
        if (match > last_index(r))
            match = last_index(r);
        if (match > pe->match)
            pe->match = match;
        if (pe->next < pe->match + 1)
            pe->next = pe->match + 1;
        if (pe->probe && pe->match + 1 >= pe->next) {
            /* the probe found where the logs agree: pipeline from here on */
            pe->probe = 0;
            pe->probe_sent = 0;
        }
        maybe_commit(r);
        maybe_promote(r, p);
        send_append(r, p, 0);
    } else {
        uint64_t ci = m.conflict_index, ct = m.conflict_term;
        if (prev < pe->match)
            return; /* a stale rejection: we already know it matches further */
        uint64_t next = ci ? ci : prev;
        if (ct) {
            /* §5.3: if the leader has entries of the conflicting term, resume after its last
             * one; otherwise skip the follower's whole term */
            for (uint64_t i = last_index(r); i > r->log.base; i--) {
                uint64_t t = term_at(r, i);
                if (t == ct) {
                    next = i + 1;
                    break;
                }
                if (t < ct)
                    break;
            }
        }
        if (next > prev)
            next = prev; /* always move back at least one */
        if (next < pe->match + 1)
            next = pe->match + 1;
        if (next < 1)
            next = 1;
        pe->next = next;
        pe->probe = 1;
        pe->probe_sent = 0;
        send_append(r, p, 0);
    }
    serve_reads(r);
}

/* ---- InstallSnapshot ------------------------------------------------------------------------ */

/* Drops the snapshot being received, in memory and on disk. */
static void snap_in_drop(struct raft *r)
{
    if (!r->in.on)
        return;
    sb_free(&r->in.buf);
    memset(&r->in, 0, sizeof r->in);
    r->e->ops->log_truncate(r->e, SNAP_PART, 0);
}

/* Starts receiving snapshot m: its header is the first record of raft.snap.part. */
static void snap_in_begin(struct raft *r, const struct snap_msg *m)
{
    snap_in_drop(r);
    r->e->ops->log_truncate(r->e, SNAP_PART, 0);
    char hdr[96];
    int n = snprintf(hdr, sizeof hdr, "%llu %llu %llu %llu", (unsigned long long)m->index,
                     (unsigned long long)m->snap_term, (unsigned long long)m->members,
                     (unsigned long long)m->total);
    r->e->ops->log_append(r->e, SNAP_PART, hdr, (size_t)n);
    r->in.on = 1;
    r->in.index = m->index;
    r->in.term = m->snap_term;
    r->in.members = m->members;
    r->in.total = m->total;
}

/* The received snapshot, whole: its data and sessions replace the state machine, and the log
 * before it goes. Returns -1 (with an error event) when the text does not hold together. */
static int snap_in_install(struct raft *r, const char *src)
{
    json_error_t je;
    json_t *j = json_loadb(r->in.buf.s ? r->in.buf.s : "", r->in.buf.len, 0, &je);
    json_int_t idx = 0, t = 0, mem = 0;
    json_t *data = NULL, *sessions = NULL;
    if (!j || json_unpack(j, "{s:I,s:I,s:I,s:o,s:o}", "index", &idx, "term", &t, "members", &mem, "data",
                          &data, "sessions", &sessions) < 0 ||
        !json_is_object(data) || !json_is_object(sessions) || (uint64_t)idx != r->in.index ||
        (uint64_t)t != r->in.term || (uint64_t)mem != r->in.members) {
        emit_error(r, src, "install_snapshot: the snapshot received does not hold together");
        json_decref(j);
        return -1;
    }
    const char *k;
    json_t *v;
    json_object_foreach(data, k, v) {
        if (!json_is_string(v)) {
            emit_error(r, src, "install_snapshot: data values must be strings");
            json_decref(j);
            return -1;
        }
    }
    uint64_t index = r->in.index, sterm = r->in.term;
    /* §7: "If existing log entry has same index and term as snapshot's last included
     * entry, retain log entries following it"; otherwise discard the entire log. */
    if (index > last_index(r) || term_at(r, index) != sterm) {
        rlog_truncate(&r->log, r->log.base + 1);
        size_t w = 0; /* waiting replies for entries now discarded would be lies */
        for (size_t i = 0; i < r->nacks; i++) {
            if (r->acks[i].match > index)
                json_decref(r->acks[i].body);
            else
                r->acks[w++] = r->acks[i];
        }
        r->nacks = w;
    }
    forget_pending_upto(r, index);
    rlog_compact(&r->log, index, sterm);
    r->snap_members = (uint32_t)r->in.members;
    kvsm_set_state(&r->sm, data, sessions);
    json_decref(j);
    persist_snapshot(r);
    rewrite_log(r);
    recompute_config(r);
    r->commit = index;
    r->applied = index;
    snap_in_drop(r);
    emit(r, "snapshot", json_pack("{s:I,s:I,s:b}", "index", (json_int_t)index, "term",
                                  (json_int_t)sterm, "installed", 1));
    emit(r, "commit", json_pack("{s:I,s:I,s:I}", "index", (json_int_t)index, "term",
                                (json_int_t)sterm, "cur_term", (json_int_t)r->term));
    return 0;
}

static void on_install_snapshot(void *st, const char *src, const json_t *body)
{
    struct raft *r = st;
    int p = peer_index(r, src);
    struct snap_msg m = {0};
    if (p < 0 || term_jump(r, src, body) || peer_get(r, src, body, install_snapshot_fields, &m) < 0)
        return;
    size_t clen = json_string_length(json_object_get(body, "chunk"));
    if (m.offset + clen > m.total || m.done != (m.offset + clen == m.total)) {
        emit_error(r, src, "install_snapshot: the chunk does not fit the snapshot's size");
        return;
    }
    json_t *reply = json_pack("{s:s,s:I}", "type", "install_snapshot_ok", "term", (json_int_t)r->term);
    json_t *sv;
    if ((sv = json_object_get(body, "sent")))
        json_object_set(reply, "sent", sv);
    if (m.term < r->term) {
        json_object_set_new(reply, "match", json_integer(0));
        env_send(r->e, src, reply);
        return;
    }
    become_follower(r, m.term, p);
    json_object_set_new(reply, "term", json_integer((json_int_t)r->term));
    if (m.index <= r->commit) {
        /* what it covers is committed here already */
        json_object_set_new(reply, "match", json_integer((json_int_t)m.index));
        env_send(r->e, src, reply);
        return;
    }
    if (r->in.on && (r->in.index != m.index || r->in.term != m.snap_term || r->in.members != m.members ||
                     r->in.total != m.total))
        snap_in_drop(r); /* another snapshot: the leader changed, or took a newer one */
    if (!r->in.on && m.offset == 0)
        snap_in_begin(r, &m);
    size_t have = r->in.on ? r->in.buf.len : 0;
    if (r->in.on && m.offset == have) {
        /* the chunk is durable before it is acknowledged: a restart resumes after it */
        sb_addn(&r->in.buf, m.chunk, clen);
        r->e->ops->log_append(r->e, SNAP_PART, m.chunk, clen);
        r->e->ops->log_sync(r->e, SNAP_PART);
        have = r->in.buf.len;
        if (m.done && snap_in_install(r, src) < 0) {
            snap_in_drop(r);
            have = 0;
        }
    }
    if (!r->in.on && m.done && m.index <= r->commit) {
        json_object_set_new(reply, "match", json_integer((json_int_t)m.index)); /* installed */
    } else {
        /* not done: the bytes held, from which the leader sends on (0: start over) */
        json_object_set_new(reply, "match", json_integer(0));
        json_object_set_new(reply, "index", json_integer((json_int_t)m.index));
        json_object_set_new(reply, "offset", json_integer((json_int_t)have));
    }
    env_send(r->e, src, reply);
}

static void on_install_snapshot_ok(void *st, const char *src, const json_t *body)
{
    struct raft *r = st;
    int p = peer_index(r, src);
    struct snap_msg m = {0};
    if (p < 0 || term_jump(r, src, body) || peer_get(r, src, body, install_snapshot_ok_fields, &m) < 0)
        return;
    uint64_t term = m.term, match = m.match, sent = m.sent;
    if (term > r->term) {
        become_follower(r, term, -1);
        return;
    }
    if (term < r->term || r->role != LEADER)
        return;
    struct peer *pe = &r->peers[p];
    pe->contact_us = env_now_us(r->e);
    pe->snap_sent = 0;
    if (sent > pe->lease_sent)
        pe->lease_sent = sent;
    if (json_object_get(body, "offset")) {
        /* a snapshot under way: send on from the bytes the follower holds */
        if (m.index == pe->snap_index)
            pe->snap_off = (size_t)m.offset;
        send_append(r, p, 0);
        return;
    }
    if (match > last_index(r))
        match = last_index(r);
    if (match > pe->match)
        pe->match = match;
    pe->next = pe->match + 1;
    pe->probe = 0;
    pe->probe_sent = 0;
    maybe_commit(r);
    maybe_promote(r, p);
    send_append(r, p, 0);
}

/* §7 log compaction: once the applied part of the log passes snapshot=N entries, the state
 * machine (and client sessions) replace it. */
static void maybe_snapshot(struct raft *r)
{
    if (r->snap_every <= 0 || r->applied < r->log.base + (uint64_t)r->snap_every)
        return;
    uint64_t idx = r->applied;
    uint64_t t = term_at(r, idx);
    uint32_t m = members_at(r, idx);
    rlog_compact(&r->log, idx, t);
    r->snap_members = m;
    sync_log(r);
    persist_snapshot(r);
    rewrite_log(r);
    emit(r, "snapshot", json_pack("{s:I,s:I,s:b}", "index", (json_int_t)idx, "term", (json_int_t)t,
                                  "installed", 0));
}

/* ---- timers ------------------------------------------------------------------------------ */

static void raft_on_timer(void *st, int kind, uint64_t arg)
{
    struct raft *r = st;
    (void)arg;
    switch (kind) {
    case T_ELECTION:
        r->t_election = 0;
        r->boot_quiet = 0;
        if (r->role == LEADER)
            return;
        /* Figure 2, followers: "If election timeout elapses without receiving AppendEntries
         * RPC from current leader or granting vote to candidate: convert to candidate" */
        r->force_campaign = 0;
        start_campaign(r, r->prevote);
        break;
    case T_HEARTBEAT:
        r->t_heartbeat = 0;
        if (r->role == LEADER)
            heartbeat_tick(r);
        break;
    case T_FLUSH:
        flush(r);
        break;
    }
}

/* ---- commands ----------------------------------------------------------------------------- */

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

static json_t *cmd_timeout(void *st, int argc, char **argv)
{
    struct raft *r = st;
    (void)argc;
    (void)argv;
    if (!can_campaign(r))
        return cmd_reply(0, "%s is not a voting member", r->e->self);
    if (r->role == LEADER)
        become_follower(r, r->term, -1);
    r->force_campaign = 1; /* skips pre-vote and leader stickiness: the instructor asked */
    start_campaign(r, 0);
    r->force_campaign = 0;
    return cmd_reply(1, "%s starts an election for term %llu", r->e->self, (unsigned long long)r->term);
}

/* A learner whose log reached the commit index becomes a voter: one configuration entry,
 * under the same one-change-at-a-time rule as `add`/`remove`. */
static void maybe_promote(struct raft *r, int p)
{
    if (r->role != LEADER || !((r->learners >> p) & 1) || r->peers[p].match < r->commit ||
        r->conf_index > r->commit || r->commit < r->term_start)
        return;
    r->learners &= ~(1u << p);
    struct rlog_entry en = {.term = r->term, .type = KV_CONF, .members = r->members | 1u << p};
    append_entry(r, &en);
    arm_flush(r);
}

static json_t *change_members(struct raft *r, const char *who, int add)
{
    if (r->role != LEADER)
        return cmd_reply(0, "%s is not the leader%s%s", r->e->self, r->leader >= 0 ? "; try " : "",
                         r->leader >= 0 ? node_id(r, r->leader) : "");
    int idx = env_node_index(r->e, who);
    if (idx < 0)
        return cmd_reply(0, "unknown node %s (the lab must start it before 'add')", who);
    /* §4.1: one change at a time, and only once the leader has committed an entry of its own
     * term (the fix to the single-server change published after the dissertation). */
    if (r->conf_index > r->commit)
        return cmd_reply(0, "a membership change is still in progress (index %llu not committed)",
                         (unsigned long long)r->conf_index);
    if (r->commit < r->term_start)
        return cmd_reply(0, "the leader has not committed an entry of its term yet; try again");
    uint32_t m = r->members;
    if (add) {
        if ((m >> idx) & 1)
            return cmd_reply(0, "%s is already a member", who);
        if ((r->learners >> idx) & 1)
            return cmd_reply(0, "%s is already catching up", who);
        /* §4.2.1: a new server first catches up as a non-voting learner, so that adding it
         * does not stall commits while its log is empty; maybe_promote() then appends the
         * configuration entry that makes it a voter. */
        r->learners |= 1u << idx;
        struct peer *pe = &r->peers[idx];
        memset(pe, 0, sizeof *pe);
        pe->next = last_index(r) + 1;
        pe->probe = 1;
        send_append(r, idx, 1);
        return cmd_reply(1, "%s catching up as a learner; it becomes a voter once its log matches", who);
    } else {
        if (!((m >> idx) & 1))
            return cmd_reply(0, "%s is not a member", who);
        m &= ~(1u << idx);
        if (!m)
            return cmd_reply(0, "cannot remove the last member");
    }
    struct rlog_entry en = {.term = r->term, .type = KV_CONF, .members = m};
    append_entry(r, &en);
    arm_flush(r);
    struct sb b = {0};
    members_text(r, m, &b);
    json_t *j = cmd_reply(1, "%s %s: configuration {%s} at index %llu", add ? "adding" : "removing",
                          who, b.s, (unsigned long long)last_index(r));
    sb_free(&b);
    return j;
}

static json_t *cmd_add(void *st, int argc, char **argv)
{
    (void)argc;
    return change_members(st, argv[0], 1);
}

static json_t *cmd_remove(void *st, int argc, char **argv)
{
    (void)argc;
    return change_members(st, argv[0], 0);
}

/* ---- life cycle ----------------------------------------------------------------------------- */

struct part_load {
    struct raft *r;
    long n;
    int bad;
};

static void load_part_rec(void *ud, const void *data, size_t len)
{
    struct part_load *pl = ud;
    struct raft *r = pl->r;
    if (pl->n++ > 0) {
        sb_addn(&r->in.buf, data, len);
        return;
    }
    char hdr[96];
    unsigned long long idx, t, mem, total;
    char extra;
    if (len >= sizeof hdr) {
        pl->bad = 1;
        return;
    }
    memcpy(hdr, data, len);
    hdr[len] = 0;
    if (sscanf(hdr, "%llu %llu %llu %llu%c", &idx, &t, &mem, &total, &extra) != 4 || total > SNAP_TOTAL_MAX) {
        pl->bad = 1;
        return;
    }
    r->in.on = 1;
    r->in.index = idx;
    r->in.term = t;
    r->in.members = mem;
    r->in.total = total;
}

/* A snapshot that was being received when the node stopped (raft.snap.part): kept, so that
 * the leader sends on from where it stopped, unless the node has what it covers already. */
static int load_snap_part(struct raft *r, char *err, size_t errlen)
{
    struct part_load pl = {.r = r};
    long got = r->e->ops->log_read(r->e, SNAP_PART, load_part_rec, &pl);
    if (got < 0 || pl.bad || (r->in.on && r->in.buf.len > r->in.total)) {
        snprintf(err, errlen, "%s is corrupt: refusing to start", SNAP_PART);
        return -1;
    }
    if (r->in.on && r->in.index <= r->log.base)
        snap_in_drop(r);
    return 0;
}

struct load {
    struct raft *r;
    uint64_t first;
    size_t nrec;
    int bad;
};

static void load_rec(void *ud, const void *data, size_t len)
{
    struct load *ld = ud;
    struct reader rd = {.p = data, .left = len};
    struct rlog_entry en = {0};
    uint64_t index = get_u64(&rd);
    en.term = get_u64(&rd);
    uint64_t tm = get_u64(&rd);
    en.type = (int)(tm & 0xff);
    en.members = (uint32_t)(tm >> 8);
    en.msg_id = get_u64(&rd);
    en.key = get_str(&rd);
    en.value = get_str(&rd);
    en.from = get_str(&rd);
    en.client = get_str(&rd);
    if (ld->nrec++ == 0)
        ld->first = index;
    if (rd.bad || ld->bad || en.type > KV_CONF) {
        ld->bad = 1;
        rlog_entry_free(&en);
        return;
    }
    struct raft *r = ld->r;
    if (index <= r->log.base) {
        rlog_entry_free(&en); /* already in the snapshot */
        return;
    }
    if (index != last_index(r) + 1) {
        ld->bad = 1;
        rlog_entry_free(&en);
        return;
    }
    rlog_push(&r->log, &en);
}

/* join=n6,n7 -> a mask of node indexes; -1 (and err filled) when a name is not a node id. */
static long parse_join(struct env *e, const char *join, char *err, size_t errlen)
{
    uint32_t m = 0;
    char *s = xstrdup(join ? join : "");
    char *save = NULL;
    for (char *tok = strtok_r(s, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        int i;
        if (parse_node_id(tok, CL_MAXN, &i) < 0) {
            snprintf(err, errlen, "bad join=%s: expected node ids such as join=n6,n7", join);
            free(s);
            return -1;
        }
        (void)e;
        m |= 1u << i;
    }
    free(s);
    return (long)m;
}

static void raft_destroy(void *st);

static void *raft_create(struct env *e, const struct opts *o, char *err, size_t errlen)
{
    struct raft *r = xcalloc(1, sizeof *r);
    r->e = e;
    r->prevote = !strcmp(opts_get(o, "prevote", "off"), "on");
    r->lease = !strcmp(opts_get(o, "reads", "index"), "lease");
    r->hb_us = opts_get_duration(o, "heartbeat", 50000);
    r->el_us = opts_get_duration(o, "election", 150000);
    r->snap_every = opts_get_int(o, "snapshot", 1000);
    r->batch = opts_get_int(o, "batch", 256);
    r->window = r->batch * 8;
    r->snap_chunk = opts_get_int(o, "snap_chunk", SNAP_CHUNK_MAX);
    if (r->snap_chunk < 1 || r->snap_chunk > SNAP_CHUNK_MAX)
        r->snap_chunk = SNAP_CHUNK_MAX;
    /* The lease is measured on the node's clock (so that clock jumps can break it, which is
     * the lesson), while election timeouts follow the lab's speed: see pace(). */
    r->speed_seen = env_speed(e) > 0 ? env_speed(e) : 1;
    r->boot_quiet = 1;
    const char *bug = opts_get(o, "bug", "none");
    r->bug = !strcmp(bug, "commit-old-term") ? BUG_COMMIT_OLD_TERM
           : !strcmp(bug, "no-vote-persist") ? BUG_NO_VOTE_PERSIST
           : !strcmp(bug, "no-log-check") ? BUG_NO_LOG_CHECK : BUG_NONE;
    if (r->hb_us == 0 || r->el_us <= r->hb_us) {
        snprintf(err, errlen, "raft needs 0 < heartbeat < election (got heartbeat=%lluus election=%lluus)",
                 (unsigned long long)r->hb_us, (unsigned long long)r->el_us);
        free(r);
        return NULL;
    }
    long join = parse_join(e, opts_get(o, "join", ""), err, errlen);
    if (join < 0) {
        free(r);
        return NULL;
    }
    r->voted = -1;
    r->leader = -1;
    r->role = FOLLOWER;
    kvsm_init(&r->sm);

    char *data = NULL;
    size_t len = 0;
    struct last_record last = {0};
    /* a file the storage cannot read back refuses the start: taking it as a blank disk would
     * forget the term, the vote or the log */
    int brc = e->ops->log_read(e, "raft.term", keep_last, &last) < 0 ? CL_EIO : 0;
    r->state_records = (unsigned)last.n;
    if (last.n > 0)
        data = xstrdup(last.buf);
    else if (brc == 0)
        brc = e->ops->blob_get(e, "raft.state", &data, &len);
    if (brc < 0 && brc != CL_ENOENT) {
        snprintf(err, errlen, "raft.term / raft.state cannot be read back: refusing to start");
        raft_destroy(r);
        return NULL;
    }
    if (data) {
        unsigned long long term;
        int voted;
        unsigned gen, boot;
        if (sscanf(data, "%llu %d %u %u", &term, &voted, &gen, &boot) != 4 || voted >= CL_MAXN) {
            snprintf(err, errlen, "raft.state is corrupt: \"%.40s\"", data);
            free(data);
            raft_destroy(r);
            return NULL;
        }
        r->term = term;
        r->voted = voted < 0 ? -1 : voted;
        r->gen = gen;
        r->boot_members = boot;
        free(data);
    } else {
        /* A blank disk: the bootstrap configuration is every node the cluster was started
         * with, except those named in join= (they wait for the leader's `add`). */
        uint32_t all = e->n_nodes >= 32 ? 0xffffffffu : (1u << e->n_nodes) - 1;
        r->boot_members = all & ~(uint32_t)join;
        persist_state(r);
    }
    r->snap_members = r->boot_members;
    if ((brc = e->ops->blob_get(e, "raft.snap", &data, &len)) < 0 && brc != CL_ENOENT) {
        snprintf(err, errlen, "raft.snap cannot be read back: refusing to start");
        raft_destroy(r);
        return NULL;
    }
    if (brc == 0) {
        json_error_t je;
        json_t *j = json_loadb(data, len, 0, &je);
        free(data);
        json_int_t idx, t, m;
        json_t *kv, *sess;
        if (!j || json_unpack(j, "{s:I,s:I,s:I,s:o,s:o}", "index", &idx, "term", &t, "members", &m,
                              "data", &kv, "sessions", &sess) < 0 || !json_is_object(kv)) {
            snprintf(err, errlen, "raft.snap is corrupt");
            json_decref(j);
            raft_destroy(r);
            return NULL;
        }
        r->log.base = (uint64_t)idx;
        r->log.base_term = (uint64_t)t;
        r->snap_members = (uint32_t)m;
        kvsm_set_state(&r->sm, kv, sess);
        json_decref(j);
    }
    char name[32];
    log_name(r->gen, name);
    struct load ld = {.r = r};
    long got = e->ops->log_read(e, name, load_rec, &ld);
    if (got < 0 || ld.bad) {
        snprintf(err, errlen, "%s is corrupt or does not follow the snapshot (index %llu)", name,
                 (unsigned long long)r->log.base);
        raft_destroy(r);
        return NULL;
    }
    r->file_first = ld.nrec ? ld.first : r->log.base + 1;
    r->synced = last_index(r);
    r->commit = r->applied = r->log.base;
    recompute_config(r);
    if (load_snap_part(r, err, errlen) < 0) {
        raft_destroy(r);
        return NULL;
    }
    return r;
}

static void raft_start(void *st)
{
    struct raft *r = st;
    r->leader = -2;
    set_role(r, FOLLOWER, -1);
    arm_election(r);
}

static void raft_destroy(void *st)
{
    struct raft *r = st;
    if (!r)
        return;
    rlog_free(&r->log);
    for (size_t i = 0; i < r->nreads; i++)
        free(r->reads[i].key);
    free(r->reads);
    pending_clear(&r->pend);
    for (size_t i = 0; i < r->nacks; i++)
        json_decref(r->acks[i].body);
    free(r->acks);
    kvsm_free(&r->sm);
    snapshot_out_free(r);
    sb_free(&r->in.buf);
    free(r);
}

static json_t *raft_status(void *st)
{
    struct raft *r = st;
    json_t *j = json_pack("{s:s,s:I,s:I,s:I,s:O,s:I}", "role", role_names[r->role], "term",
                          (json_int_t)r->term, "commit", (json_int_t)r->commit, "applied",
                          (json_int_t)r->applied, "data", r->sm.data, "log_first",
                          (json_int_t)(r->log.base + 1));
    if (r->leader >= 0)
        json_object_set_new(j, "leader", json_string(node_id(r, r->leader)));
    json_t *log = json_array();
    uint64_t last = last_index(r);
    uint64_t from = last > 100 ? last - 99 : 1;
    if (from <= r->log.base)
        from = r->log.base + 1;
    for (uint64_t i = from; i <= last; i++) {
        struct rlog_entry *en = entry_at(r, i);
        char *cmd = entry_label(r, en);
        json_array_append_new(log, json_pack("{s:I,s:I,s:s,s:b}", "index", (json_int_t)i, "term",
                                             (json_int_t)en->term, "cmd", cmd, "committed",
                                             i <= r->commit));
        free(cmd);
    }
    json_object_set_new(j, "log", log);
    json_t *mem = json_array();
    for (int i = 0; i < r->e->n_nodes; i++)
        if (is_member(r, i))
            json_array_append_new(mem, json_string(r->e->nodes[i]));
    json_t *lrn = json_array();
    for (int i = 0; i < r->e->n_nodes; i++)
        if ((r->learners >> i) & 1)
            json_array_append_new(lrn, json_string(r->e->nodes[i]));
    json_object_set_new(j, "extra",
                        json_pack("{s:s?,s:o,s:o,s:I,s:I,s:s,s:s}", "votedFor",
                                  r->voted >= 0 ? node_id(r, r->voted) : NULL, "members", mem,
                                  "learners", lrn,
                                  "snapshot_index", (json_int_t)r->log.base, "last_index",
                                  (json_int_t)last, "prevote", r->prevote ? "on" : "off", "reads",
                                  r->lease ? "lease" : "index"));
    return j;
}

static const struct mode_option raft_options[] = {
    {"prevote", OPT_ENUM, "on|off", 0, 0, "off", "pre-vote before a real election (dissertation §9.6)"},
    {"reads", OPT_ENUM, "index|lease", 0, 0, "index", "linearizable reads: ReadIndex, or a leader lease (trusts bounded clock skew)"},
    {"snapshot", OPT_INT, NULL, 0, 100000000L, "1000", "take a snapshot every N applied entries (0 = never)"},
    {"heartbeat", OPT_DURATION, NULL, 0, 0, "50ms", "leader heartbeat interval"},
    {"election", OPT_DURATION, NULL, 0, 0, "150ms", "minimum election timeout (random in [T, 2T])"},
    {"batch", OPT_INT, NULL, 1, 100000, "256", "most entries in one AppendEntries (and at most 512 KiB of them)"},
    {"snap_chunk", OPT_INT, NULL, 512, 262144, "262144", "bytes of snapshot in one InstallSnapshot chunk"},
    {"join", OPT_ENUM, NULL, 0, 0, "none", "nodes that start outside the configuration and wait for 'add': a list such as join=n6,n7 (the lab sets it on `add`)"},
    {NULL, 0, NULL, 0, 0, NULL, NULL},
};

static const struct mode_handler raft_handlers[] = {
    {"request_vote", on_request_vote},
    {"request_vote_ok", on_request_vote_ok},
    {"append_entries", on_append_entries},
    {"append_entries_ok", on_append_entries_ok},
    {"install_snapshot", on_install_snapshot},
    {"install_snapshot_ok", on_install_snapshot_ok},
    {"read", on_read},
    {"write", on_write},
    {"cas", on_cas},
    {NULL, NULL},
};

static const struct mode_command raft_commands[] = {
    {"timeout", "timeout NODE", "fire NODE's election timer now (stage a split vote)", "timeout n2", 1, 1, cmd_timeout, MC_ON_NODE},
    {"add", "add NODE", "add NODE to the configuration (run on the leader)", "add n6", 1, 1, cmd_add, MC_ADD_NODE},
    {"remove", "remove NODE", "remove NODE from the configuration (run on the leader)", "remove n1", 1, 1, cmd_remove, MC_ON_LEADER},
    {NULL, NULL, NULL, NULL, 0, 0, NULL, MC_ANY},
};

static const struct mode_role raft_roles[] = {
    {"leader", RC_LEADER},
    {"candidate", RC_CANDIDATE},
    {"precandidate", RC_CANDIDATE},
    {"follower", RC_FOLLOWER},
    {NULL, RC_UNKNOWN},
};

static const struct mode_figure raft_figures[] = {
    {"term", "term", NULL},
    {"leader", "leader", NULL},
    {"commit", "commit", "c"},
    {"applied", "applied", "a"},
    {NULL, NULL, NULL},
};

const struct mode mode_raft = {
    .name = "raft",
    .summary = "Raft consensus: leader election, log replication, snapshots, membership change",
    .options = raft_options,
    .bugs = "commit-old-term|no-vote-persist|no-log-check",
    .handlers = raft_handlers,
    .commands = raft_commands,
    .create = raft_create,
    .start = raft_start,
    .destroy = raft_destroy,
    .on_timer = raft_on_timer,
    .status = raft_status,
    .monitor = &raftmon_monitor,
    .workload = "lin-kv",
    .roles = raft_roles,
    .figures = raft_figures,
    .events = "state|vote|append|truncate|commit|apply|snapshot|error",
    .join_option = "join",
    .compare_as = "consensus",
};

/* ---- introspection (raft.h) ------------------------------------------------------------ */

void raft_view(const void *st, struct raft_view *v)
{
    const struct raft *r = st;
    v->role = r->role;
    v->leader = r->leader;
    v->voted = r->voted;
    v->term = r->term;
    v->commit = r->commit;
    v->applied = r->applied;
    v->last_index = last_index(r);
    v->snap_index = r->log.base;
    v->members = r->members;
}

uint64_t raft_term_at(const void *st, uint64_t i)
{
    struct raft *r = (struct raft *)st;
    return i < r->log.base ? 0 : term_at(r, i);
}

char *raft_cmd_at(const void *st, uint64_t i)
{
    struct raft *r = (struct raft *)st;
    struct rlog_entry *en = entry_at(r, i);
    return en ? entry_cmd(r, en) : NULL;
}
