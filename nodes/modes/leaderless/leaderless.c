/* leaderless — Dynamo-style replication: a consistent-hash ring, tunable quorums, read
 * repair, hinted handoff, Merkle-tree anti-entropy, tombstones (issue 8; docs/modes/leaderless.md).
 *
 * There are no roles: every node is a "replica" and any node coordinates any request.
 *
 *   client ──write──► coordinator ──ll_write──► the key's N replicas (its preference list)
 *                        │  ◄──ll_write_ok── W of them: write_ok   (`quorum` event)
 *                        │  a replica silent for replica_timeout is suspected; with
 *                        │  sloppy=on the next node on the ring takes the write as a hint
 *   client ──read───► coordinator ──ll_read───► N replicas; after R answers: merge, reply,
 *                        and send the merged version to every stale one (`repair` events)
 *   every ae_interval: node ──ae_root──► peer (Merkle root + 32 subtree hashes)
 *                           ◄─ae_diff── leaf hashes under differing subtrees
 *                           ──ae_push─► my items of differing leaves (in batches)
 *                           ◄─ae_pull── its items of those leaves     (`antientropy` event)
 *   every hint_interval: stand-in ──ll_handoff──► owner (or ll_ping while it seems down)
 *                                ◄─ll_handoff_ok── the hint is deleted only now
 *
 * Versions. conflict=lww: one version per key, ordered by (timestamp from the coordinator's
 * skewable clock, node index); a later write with an older clock loses (the lost update).
 * conflict=siblings: dotted version vectors. Each version is named by a dot (node, counter)
 * and carries the causal context (a vector clock) its writer had read; a version is obsolete
 * when another one's context or dot covers its dot. Concurrent versions stay side by side as
 * siblings; a read returns them all and the merged context, and a write carrying that
 * context supersedes them.
 *
 * Invariants (SCENARIOS.md, leaderless quorum):
 *   - merge is commutative, associative and idempotent, so replicas that saw the same
 *     versions hold the same item, whatever the order (convergence after heal);
 *   - a replica's version of a key never goes back: merge only replaces a version by one
 *     that is newer (lww) or that covers it (siblings);
 *   - a replica acknowledges a write only after the version is in its synced log;
 *   - a hint is deleted only after its owner acknowledged exactly that content;
 *   - a tombstone is collected only after tombstone_grace and after every other replica of
 *     its key was seen holding it (a finished anti-entropy exchange with each);
 *   - with W+R>N, no sloppy substitutes and no concurrent writes, a read that starts after
 *     a write's ack sees it or newer (not linearizable in general: no read barrier).
 *
 * Liveness of peers comes only from messages: a peer is suspected when a replica request
 * times out, and trusted again when anything arrives from it (pings probe suspects).
 *
 * membership=swim (membership=gossip is the same, its older name): who is in the ring and who is
 * dead comes from SWIM (the kit's swimcore: probes, probe_req through swim_k members, suspicion
 * for swim_suspect, incarnations to refute, updates piggybacked on the probes) instead of the
 * lab's list. The nodes a cluster starts with are members from the start (seeds); a node added
 * later (`join NODE`) is in the address book at once but in no node's view until its alive
 * update reaches it (`member` events: joined, alive, suspect, dead, left). Each node builds its
 * ring from its own view: every member it knows that has not left holds tokens (a dead member
 * keeps its tokens, as in Dynamo: its writes go to stand-ins with hints); a member not alive
 * in its view is treated as suspected, and asked only once alive again. So each node's
 * preference lists follow its own SWIM view.
 *
 * The library parts come from the protocol kit (nodes/kit/): the ring (ring.h), versions and
 * their merge rules (vitem.h, vv.h), the key/value table (vtable.h), the Merkle trees
 * (merkle.h) and the typed getters peer and client messages go through (msg.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "env.h"
#include "hash.h"
#include "jtext.h"
#include "leaderless.h"
#include "merkle.h"
#include "mode.h"
#include "msg.h"
#include "ring.h"
#include "swimcore.h"
#include "vitem.h"
#include "vtable.h"
#include "vv.h"

/* ---- constants and types ------------------------------------------------------------- */

#define AE_BATCH_ITEMS 256                /* items per ae_push message (about) */
#define AE_BATCH_LEAVES 64                /* leaves per ae_push: bounds the peer's answer too */
#define HANDOFF_BATCH 128                 /* hints per ll_handoff message */
#define MAX_VERSIONS 1024                 /* siblings of one key a peer may send */
#define LOG_LINES 64                      /* recent notable actions kept for status */
#define MAX_REPAIR_EVENTS 32              /* per anti-entropy batch */
#define MAX_ID ((uint64_t)INT64_MAX)      /* request and session ids */

enum { T_REQUEST = 1, T_REPLICA, T_AE, T_HINT, T_AE_STUCK, T_STREAM };
enum { RS_NORMAL, RS_JOINING, RS_LEAVING, RS_LEFT }; /* this node's place in the ring */
static const char *const rstate_names[] = {"normal", "joining", "leaving", "left"};
#define STREAM_BATCH 256                  /* items per ll_stream message (at least) */
#define STREAM_MAX_BATCHES 64             /* batches per stream round (the receiver's bitmask) */
#define STREAM_ROUNDS 5                   /* rounds without an answer before a peer is given up */
#define T_SWIM 10                         /* the SWIM core's timers: kinds 10, 11, 12 */
enum { RR_BLOCKING, RR_BACKGROUND, RR_OFF };

/* One replica (or stand-in) of a coordinated request. */
enum { TG_PENDING, TG_OK, TG_SILENT, TG_HANDED };
struct target {
    int node;
    int hint_for;            /* -1, or the owner this stand-in keeps a hint for */
    int state;
    int stale;
    int repairing;
    struct vitem *resp;      /* read: the replica's answer (owned copy) */
};

enum { OP_READ, OP_WRITE };
struct op {
    uint64_t id;
    int kind;
    int is_delete;
    char client[CL_IDLEN];
    json_t *req;             /* the client request (for in_reply_to) */
    char *key;
    uint64_t khash;
    int need;
    int acks;
    int replied;
    int repair_wait;         /* blocking read repair: repairs not yet acknowledged */
    uint64_t t_request, t_replica;
    struct target t[2 * CL_MAXN];
    int nt;
    struct version wv;       /* write: the version being written */
    struct vitem *merged;    /* read: the merged answer */
    struct op *next;
};

/* An anti-entropy exchange this node started. */
struct ae_session {
    int active;
    uint64_t sid;
    int peer;
    uint64_t t_stuck;
    uint64_t started;        /* local clock when it started */
    int compared;            /* ranges (leaves and subtrees) compared */
    int *diff;               /* differing leaves */
    int ndiff, pos, batch_end, batches;
    long repaired_here, repaired_there;
    json_t *keys;            /* first repaired keys (either side), for the event */
};

struct ll {
    struct env *e;
    /* options */
    int n, w, r, vnodes, sloppy, read_repair;
    enum vmerge conflict;    /* conflict=lww, or siblings: dotted version vectors */
    uint64_t request_timeout, replica_timeout, ae_interval, hint_interval, tomb_grace;
    int bug_unsynced_ack;    /* bug=unsynced-ack: acknowledge before the log is synced */
    int bug_hint_on_send;    /* bug=hint-delete-on-send: drop a hint once sent, acked or not */
    struct ring *ring;
    /* data */
    struct vtable data;
    struct merkle tree[CL_MAXN];   /* per peer: over the keys shared with it */
    long tombstones;
    long log_records;
    uint64_t last_ts;
    uint64_t dot, dot_hw;
    /* hints: one store per owner */
    struct vtable hints[CL_MAXN];
    long hints_pending;
    long hint_records;
    /* peers */
    int suspect[CL_MAXN];
    int handoff_outstanding[CL_MAXN];
    /* coordination */
    struct op *ops;
    uint64_t next_op;
    struct ae_session ae;
    int ae_next_peer;
    uint64_t t_ae, t_hint;
    /* recent notable actions, for status "log" */
    char *lines[LOG_LINES];
    uint64_t line_t[LOG_LINES];
    uint64_t line_seq[LOG_LINES];
    uint64_t nnotes;
    int nlines, line_pos;
    int replaying;
    int quiet;               /* no apply events: a large anti-entropy batch past its budget */
    /* membership=swim (see the top) */
    int gossip;
    struct swimc sw;
    int ring_dirty;          /* the view changed who is in the ring: rebuild it */
    long deaths, joins, leaves;
    /* streaming key ranges: a joiner pulls its ranges from every peer, a leaver pushes its
     * ranges to their new owners (see "Streaming ranges" below) */
    int rstate;              /* RS_NORMAL, RS_JOINING, RS_LEAVING, RS_LEFT */
    uint64_t t_stream, stream_sid, stream_started;
    int stream_round;
    int left_quiet;          /* left, and the news spread: SWIM stopped */
    struct stream_peer {
        int want, done, gave_up;
        int of;              /* batches of this round */
        uint64_t got;        /* batches of this round received (joining) or acked (leaving) */
        long keys;           /* keys streamed with it so far */
        int rounds;          /* rounds it has not finished */
    } sp[CL_MAXN];
};

/* ---- small helpers --------------------------------------------------------------------- */

static const char *nname(const struct ll *st, int idx)
{
    return idx >= 0 && idx < st->e->n_nodes ? st->e->nodes[idx] : "?";
}

static int ring_size(const struct ll *st)
{
    return ring_nodes(st->ring);
}

static void note(struct ll *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct ll *st, const char *fmt, ...)
{
    struct sb b = {0};
    va_list ap;
    va_start(ap, fmt);
    sb_vprintf(&b, fmt, ap);
    va_end(ap);
    free(st->lines[st->line_pos]);
    st->lines[st->line_pos] = b.s;
    st->line_t[st->line_pos] = env_now_us(st->e);
    st->line_seq[st->line_pos] = ++st->nnotes;
    st->line_pos = (st->line_pos + 1) % LOG_LINES;
    if (st->nlines < LOG_LINES)
        st->nlines++;
}

static void event_error(struct ll *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void event_error(struct ll *st, const char *fmt, ...)
{
    char buf[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    env_event(st->e, "error", json_pack("{s:s}", "text", buf));
}

/* ---- the ring (and leaderless.h: the lab's view of it) -------------------------------- */

struct ll_ring {
    struct ring *r;
};

struct ll_ring *leaderless_ring_new(int nodes, int vnodes)
{
    struct ring *r = ring_new(nodes, vnodes);
    if (!r)
        return NULL;
    struct ll_ring *lr = xcalloc(1, sizeof *lr);
    lr->r = r;
    return lr;
}

int leaderless_ring_replicas(const struct ll_ring *r, const char *key, int out[CL_MAXN])
{
    return ring_replicas(r->r, key, out);
}

void leaderless_ring_destroy(struct ll_ring **r)
{
    if (!*r)
        return;
    ring_destroy(&(*r)->r);
    free(*r);
    *r = NULL;
}

static uint32_t owners_of(const struct ll *st, uint64_t khash)
{
    return ring_owners(st->ring, khash, st->n);
}

/* ---- versions and items ---------------------------------------------------------------- */

/* "1712@n2 1790@n3" (lww) or "n2.7 n3.2" (siblings): every version of it, for events. */
static void versions_text(const struct ll *st, const struct vitem *it, struct sb *b)
{
    vitem_versions_text(it, st->conflict, (const char (*)[CL_IDLEN])st->e->nodes, b);
}

static json_t *item_json(const struct ll *st, const struct vitem *it)
{
    return vitem_to_json(it, st->conflict, ring_size(st));
}

/* Parses an item from a peer or the disk. Returns NULL and fills why on bad input. */
static struct vitem *item_from_json(const struct ll *st, const json_t *j, char *why, size_t whylen)
{
    return vitem_from_json(j, st->conflict, MAX_VERSIONS, why, whylen);
}

/* ---- Merkle trees -------------------------------------------------------------------
 * For each peer p the node keeps a Merkle tree (merkle.h) over the keys both hold as
 * replicas (p and self in the key's preference list), updated on every change; subtree
 * and root hashes are computed when an exchange starts. */

static int self_idx(const struct ll *st)
{
    return st->e->self_idx;
}

static void tree_update(struct ll *st, const struct vitem *it, uint64_t h_old)
{
    int me = self_idx(st);
    if (!(it->owners & (1u << me)) || h_old == it->h)
        return;
    for (int p = 0; p < ring_size(st); p++)
        if (p != me && (it->owners & (1u << p)))
            merkle_update(&st->tree[p], it->khash, h_old, it->h);
}

static void trees_rebuild(struct ll *st)
{
    for (int p = 0; p < CL_MAXN; p++)
        merkle_clear(&st->tree[p]);
    VTABLE_FOREACH(&st->data, it) {
        it->owners = owners_of(st, it->khash);
        tree_update(st, it, 0);
    }
    for (int o = 0; o < CL_MAXN; o++)
        VTABLE_FOREACH(&st->hints[o], it)
            it->owners = owners_of(st, it->khash);
}

/* Is node i in this node's ring? membership=static: every node of the lab's list; swim: every
 * member of its view that has not left (nor is unknown yet). */
static int in_ring(struct ll *st, int i)
{
    if (!st->gossip)
        return 1;
    enum swim_status s = swim_status_of(&st->sw, i);
    return s == SWIM_ALIVE || s == SWIM_SUSPECT || s == SWIM_DEAD;
}

/* Membership may grow (sim_add_node, `add`) or, with membership=swim, change in this node's
 * view: the ring follows. A member not alive in the view is suspected. */
static void ring_check(struct ll *st)
{
    int n = st->e->n_nodes < CL_MAXN ? st->e->n_nodes : CL_MAXN;
    if (st->gossip)
        for (int i = 0; i < n; i++)
            if (i != self_idx(st) && swim_status_of(&st->sw, i) != SWIM_ALIVE)
                st->suspect[i] = 1;
    if (ring_size(st) == n && !st->ring_dirty)
        return;
    int member[CL_MAXN] = {0}, any = 0;
    for (int i = 0; i < n; i++)
        any += member[i] = in_ring(st, i);
    if (!any)
        member[self_idx(st)] = 1; /* alone (everyone left): a ring of one */
    struct ring *r = ring_new_of(n, member, st->vnodes);
    if (!r)
        return;
    ring_destroy(&st->ring);
    st->ring = r;
    st->ring_dirty = 0;
    trees_rebuild(st);
}

/* ---- durable data ---------------------------------------------------------------------
 * Log "data": one record per change ({"key","vers"} merged in on replay, or {"gc","h"} for
 * a collected tombstone), synced before a replica acknowledges. When the log is much longer
 * than the table, the table is written to blob "data.snap" and the log emptied. Replaying a
 * record twice is harmless (merge is idempotent), so a crash between the two is too. */

static void log_json(struct ll *st, const char *log, json_t *rec)
{
    char *txt = json_dumps(rec, JSON_COMPACT);
    json_decref(rec);
    st->e->ops->log_append(st->e, log, txt, strlen(txt));
    free(txt);
}

static void tomb_count(struct ll *st, const struct vitem *it, int sign)
{
    if (vitem_is_tomb(it))
        st->tombstones += sign;
}

static void emit_apply(struct ll *st, const struct vitem *it, const char *via)
{
    json_t *vals = vitem_values(it);
    struct sb vb = {0};
    versions_text(st, it, &vb);
    json_t *value = json_array_size(vals) == 0 ? json_null()
                    : json_array_size(vals) == 1 ? json_incref(json_array_get(vals, 0))
                                                 : json_incref(vals);
    json_t *f = json_pack("{s:s,s:o,s:s,s:s}", "key", it->key, "value", value, "version",
                          vb.s ? vb.s : "", "via", via);
    if (json_array_size(vals) > 1)
        json_object_set(f, "siblings", vals);
    json_decref(vals);
    sb_free(&vb);
    env_event(st->e, "apply", f);
}

/* Merges in into the table. Returns 1 when the table changed (logged, not yet synced). */
static int data_merge(struct ll *st, const struct vitem *in, const char *via)
{
    struct vitem *it = vtable_get(&st->data, in->key, in->khash);
    int fresh = 0;
    if (!it) {
        /* a tombstone older than the grace period for a key we do not hold was collected
         * here already: taking it back would bring it to life again after every collection */
        if (!st->replaying && vitem_is_tomb(in) &&
            env_now_us(st->e) > vitem_newest_ts(in) + st->tomb_grace)
            return 0;
        it = vitem_new(in->key, in->khash);
        it->owners = owners_of(st, it->khash);
        fresh = 1;
    }
    uint64_t h_old = it->h;
    if (!fresh)
        tomb_count(st, it, -1);
    int changed = vitem_merge(st->conflict, it, in);
    if (fresh && !changed) {
        vitem_free(it);
        return 0;
    }
    if (fresh)
        vtable_put(&st->data, it);
    tomb_count(st, it, +1);
    if (!changed)
        return 0;
    it->acks = 0;
    it->changed = env_now_us(st->e);
    tree_update(st, it, h_old);
    if (!st->replaying) {
        log_json(st, "data", item_json(st, in));
        st->log_records++;
        if (!st->quiet)
            emit_apply(st, it, via);
    }
    return 1;
}

static void data_remove(struct ll *st, struct vitem *it)
{
    uint64_t h_old = it->h;
    it->h = 0;
    tree_update(st, it, h_old);
    it->h = h_old;
    tomb_count(st, it, -1);
    vtable_unlink(&st->data, it);
    vitem_free(it);
}

static void data_snapshot(struct ll *st)
{
    json_t *arr = json_array();
    VTABLE_FOREACH(&st->data, it)
        json_array_append_new(arr, item_json(st, it));
    char *txt = json_dumps(arr, JSON_COMPACT);
    json_decref(arr);
    if (st->e->ops->blob_put(st->e, "data.snap", txt, strlen(txt)) == 0 &&
        st->e->ops->log_truncate(st->e, "data", 0) == 0)
        st->log_records = 0;
    free(txt);
}

/* Makes every logged change durable; call before acknowledging. */
static void data_sync(struct ll *st)
{
    if (!st->bug_unsynced_ack)
        st->e->ops->log_sync(st->e, "data");
    if (st->log_records > 4 * (long)st->data.n + 1024)
        data_snapshot(st);
}

struct replay_ctx {
    struct ll *st;
    const char *log;
    long bad;
};

static void replay_data_rec(void *ud, const void *data, size_t len)
{
    struct replay_ctx *rc = ud;
    struct ll *st = rc->st;
    json_error_t jerr;
    json_t *j = json_loadb(data, len, 0, &jerr);
    char why[200];
    rc->st->log_records++;
    if (!j) {
        rc->bad++;
        return;
    }
    const char *gc = json_string_value(json_object_get(j, "gc"));
    if (gc) {
        uint64_t h;
        struct vitem *it = vtable_get(&st->data, gc, hash_str(gc));
        if (it && hash_parse_hex(json_string_value(json_object_get(j, "h")), &h) == 0 && it->h == h)
            data_remove(st, it);
    } else {
        struct vitem *in = item_from_json(st, j, why, sizeof why);
        if (in)
            data_merge(st, in, "replay");
        else
            rc->bad++;
        vitem_free(in);
    }
    json_decref(j);
}

/* ---- hints ----------------------------------------------------------------------------
 * A stand-in keeps, per owner, the merged versions it accepted for it (log "hints":
 * {"op":"add","for":"n2","item":{…}} and {"op":"del","for":"n2","key":"x","h":"…"}; a del
 * removes the hint only when its content hash still matches, so a hint that grew after it
 * was sent is kept). */

static void hints_snapshot(struct ll *st)
{
    if (st->hints_pending == 0) {
        if (st->e->ops->log_truncate(st->e, "hints", 0) == 0)
            st->hint_records = 0;
        return;
    }
    json_t *arr = json_array();
    for (int o = 0; o < CL_MAXN; o++)
        VTABLE_FOREACH(&st->hints[o], it)
            json_array_append_new(arr, json_pack("{s:s,s:s,s:o}", "op", "add", "for", nname(st, o),
                                                 "item", item_json(st, it)));
    char *txt = json_dumps(arr, JSON_COMPACT);
    json_decref(arr);
    if (st->e->ops->blob_put(st->e, "hints.snap", txt, strlen(txt)) == 0 &&
        st->e->ops->log_truncate(st->e, "hints", 0) == 0)
        st->hint_records = 0;
    free(txt);
}

static void hints_sync(struct ll *st)
{
    if (!st->bug_unsynced_ack)
        st->e->ops->log_sync(st->e, "hints");
    if (st->hints_pending == 0 || st->hint_records > 4 * st->hints_pending + 256)
        hints_snapshot(st);
}

static int hint_add(struct ll *st, int owner, const struct vitem *in)
{
    struct vitem *it = vtable_get(&st->hints[owner], in->key, in->khash);
    int fresh = !it;
    if (fresh) {
        it = vitem_new(in->key, in->khash);
        it->owners = owners_of(st, in->khash);
    }
    if (!vitem_merge(st->conflict, it, in)) {
        if (fresh)
            vitem_free(it);
        return 0;
    }
    if (fresh) {
        vtable_put(&st->hints[owner], it);
        st->hints_pending++;
    }
    if (!st->replaying) {
        log_json(st, "hints", json_pack("{s:s,s:s,s:o}", "op", "add", "for", nname(st, owner),
                                        "item", item_json(st, in)));
        st->hint_records++;
        env_event(st->e, "hint", json_pack("{s:s,s:s,s:s}", "what", "stored", "for",
                                           nname(st, owner), "key", in->key));
        note(st, "hint stored for %s: %s", nname(st, owner), in->key);
    }
    return 1;
}

static void hint_del(struct ll *st, int owner, const char *key, uint64_t h)
{
    struct vitem *it = vtable_get(&st->hints[owner], key, hash_str(key));
    if (!it || it->h != h)
        return;
    if (!st->replaying) {
        char hb[17];
        log_json(st, "hints", json_pack("{s:s,s:s,s:s,s:s}", "op", "del", "for", nname(st, owner),
                                        "key", key, "h", hash_hex(h, hb)));
        st->hint_records++;
        env_event(st->e, "hint", json_pack("{s:s,s:s,s:s}", "what", "deleted", "for",
                                           nname(st, owner), "key", key));
        note(st, "hint for %s deleted after its ack: %s", nname(st, owner), key);
    }
    vtable_unlink(&st->hints[owner], it);
    vitem_free(it);
    st->hints_pending--;
}

static void replay_hint_rec(struct ll *st, const json_t *j, long *bad)
{
    const char *op = json_string_value(json_object_get(j, "op"));
    int owner = env_node_index(st->e, json_string_value(json_object_get(j, "for")) ?
                                          json_string_value(json_object_get(j, "for")) : "");
    char why[200];
    if (!op || owner < 0) {
        (*bad)++;
        return;
    }
    if (!strcmp(op, "add")) {
        struct vitem *in = item_from_json(st, json_object_get(j, "item"), why, sizeof why);
        if (in)
            hint_add(st, owner, in);
        else
            (*bad)++;
        vitem_free(in);
    } else if (!strcmp(op, "del")) {
        uint64_t h;
        const char *key = json_string_value(json_object_get(j, "key"));
        if (key && hash_parse_hex(json_string_value(json_object_get(j, "h")), &h) == 0)
            hint_del(st, owner, key, h);
        else
            (*bad)++;
    } else {
        (*bad)++;
    }
}

static void replay_hints_log(void *ud, const void *data, size_t len)
{
    struct replay_ctx *rc = ud;
    json_error_t jerr;
    json_t *j = json_loadb(data, len, 0, &jerr);
    rc->st->hint_records++;
    if (!j) {
        rc->bad++;
        return;
    }
    replay_hint_rec(rc->st, j, &rc->bad);
    json_decref(j);
}

/* The dot counter (siblings): reserved in blocks in blob "dot" so it never repeats after a
 * restart without a write per version. */
static uint64_t next_dot(struct ll *st)
{
    if (st->dot + 1 > st->dot_hw) {
        st->dot_hw = st->dot + 1024;
        char buf[32];
        int len = snprintf(buf, sizeof buf, "%" PRIu64, st->dot_hw);
        st->e->ops->blob_put(st->e, "dot", buf, (size_t)len);
    }
    return ++st->dot;
}

/* Recovers data, dots and hints from disk. A blob or log the storage cannot read, or a record
 * that does not parse, refuses the start (returns -1, err filled): skipping it would forget
 * writes this node acknowledged. */
static int load_state(struct ll *st, char *err, size_t errlen)
{
    struct replay_ctx rc = {st, "data", 0};
    char *buf = NULL;
    size_t len = 0;
    int brc;
    long bad_before;
    st->replaying = 1;
    if ((brc = st->e->ops->blob_get(st->e, "dot", &buf, &len)) == 0) {
        uint64_t x;
        if (parse_u64(buf, &x) == 0)
            st->dot = st->dot_hw = x;
        else
            rc.bad++;
        free(buf);
    }
    if (brc < 0 && brc != CL_ENOENT)
        goto unreadable;
    if (rc.bad) {
        snprintf(err, errlen, "blob dot of %s does not hold a number: refusing to start", st->e->self);
        goto fail;
    }
    if ((brc = st->e->ops->blob_get(st->e, "data.snap", &buf, &len)) == 0) {
        json_error_t jerr;
        json_t *arr = json_loadb(buf, len, 0, &jerr);
        size_t i;
        json_t *j;
        char why[200];
        json_array_foreach(arr, i, j) {
            struct vitem *in = item_from_json(st, j, why, sizeof why);
            if (in)
                data_merge(st, in, "replay");
            else
                rc.bad++;
            vitem_free(in);
        }
        if (!json_is_array(arr))
            rc.bad++;
        json_decref(arr);
        free(buf);
    }
    if (brc < 0 && brc != CL_ENOENT)
        goto unreadable;
    if (rc.bad) {
        snprintf(err, errlen, "blob data.snap of %s holds %ld unreadable items: refusing to start "
                 "rather than forget them", st->e->self, rc.bad);
        goto fail;
    }
    if (st->e->ops->log_read(st->e, "data", replay_data_rec, &rc) < 0)
        goto unreadable;
    if (rc.bad) {
        snprintf(err, errlen, "log data of %s holds %ld unreadable records: refusing to start "
                 "rather than forget them", st->e->self, rc.bad);
        goto fail;
    }
    if ((brc = st->e->ops->blob_get(st->e, "hints.snap", &buf, &len)) == 0) {
        json_error_t jerr;
        json_t *arr = json_loadb(buf, len, 0, &jerr);
        size_t i;
        json_t *j;
        json_array_foreach(arr, i, j)
            replay_hint_rec(st, j, &rc.bad);
        if (!json_is_array(arr))
            rc.bad++;
        json_decref(arr);
        free(buf);
    }
    if (brc < 0 && brc != CL_ENOENT)
        goto unreadable;
    rc.log = "hints";
    bad_before = rc.bad;
    if (st->e->ops->log_read(st->e, "hints", replay_hints_log, &rc) < 0)
        goto unreadable;
    if (rc.bad) {
        snprintf(err, errlen, "%s of %s holds %ld unreadable records: refusing to start rather than "
                 "forget them", rc.bad > bad_before ? "log hints" : "blob hints.snap", st->e->self, rc.bad);
        goto fail;
    }
    st->replaying = 0;
    if (st->data.n || st->hints_pending)
        note(st, "recovered %zu keys and %ld hints from disk", st->data.n, st->hints_pending);
    return 0;
unreadable:
    snprintf(err, errlen, "the durable state of %s cannot be read back: refusing to start", st->e->self);
fail:
    st->replaying = 0;
    return -1;
}

/* ---- peers ------------------------------------------------------------------------------ */

static int peer_index(struct ll *st, const char *src)
{
    int i = env_node_index(st->e, src);
    if (i < 0 || i == self_idx(st)) {
        event_error(st, "peer message from %s, which is not another node: dropped", src);
        return -1;
    }
    /* membership=swim: only the view brings a member back (or in) */
    if (st->suspect[i] && !(st->gossip && swim_status_of(&st->sw, i) != SWIM_ALIVE)) {
        st->suspect[i] = 0;
        note(st, "%s answers again", src);
    }
    return i;
}

/* Reads a peer message into out (msg.h); a malformed one is dropped with an error event
 * naming the field. Returns 0 or -1. */
static int peer_get(struct ll *st, const char *src, const json_t *body, const struct msg_field *fields,
                    void *out)
{
    char err[300];
    if (msg_get(body, NULL, fields, out, err, sizeof err) == 0)
        return 0;
    event_error(st, "%s from %s: dropped", err, src);
    return -1;
}

static void suspect(struct ll *st, int idx)
{
    if (idx == self_idx(st) || st->suspect[idx])
        return;
    st->suspect[idx] = 1;
    note(st, "%s suspected down (no answer)", nname(st, idx));
}

static json_t *node_list(const struct ll *st, const struct op *op, int want)
{
    json_t *a = json_array();
    for (int i = 0; i < op->nt; i++) {
        const struct target *t = &op->t[i];
        int ok = t->state == TG_OK;
        if ((want == 1 && ok) || (want == 0 && !ok && t->state != TG_HANDED) || (want == 2 && t->stale))
            json_array_append_new(a, json_string(nname(st, t->node)));
    }
    return a;
}

static void list_text(const struct ll *st, const struct op *op, int want, struct sb *b)
{
    int first = 1;
    for (int i = 0; i < op->nt; i++) {
        const struct target *t = &op->t[i];
        int ok = t->state == TG_OK;
        if ((want == 1 && ok) || (want == 0 && !ok && t->state != TG_HANDED)) {
            sb_printf(b, "%s%s", first ? "" : ", ", nname(st, t->node));
            first = 0;
        }
    }
    if (first)
        sb_add(b, "none");
}

/* ---- coordinated requests ------------------------------------------------------------ */

static struct op *op_find(struct ll *st, uint64_t id)
{
    for (struct op *op = st->ops; op; op = op->next)
        if (op->id == id)
            return op;
    return NULL;
}

static void op_free(struct ll *st, struct op *op)
{
    struct op **pp = &st->ops;
    while (*pp && *pp != op)
        pp = &(*pp)->next;
    if (*pp)
        *pp = op->next;
    env_timer_cancel(st->e, op->t_request);
    env_timer_cancel(st->e, op->t_replica);
    for (int i = 0; i < op->nt; i++)
        vitem_free(op->t[i].resp);
    vitem_free(op->merged);
    version_free(&op->wv);
    json_decref(op->req);
    free(op->key);
    free(op);
}

static int op_has_node(const struct op *op, int node)
{
    for (int i = 0; i < op->nt; i++)
        if (op->t[i].node == node)
            return 1;
    return 0;
}

/* The next stand-in on the ring for this key: past the N replicas, not already asked,
 * not suspected. -1 when none is left. */
static int next_standin(struct ll *st, const struct op *op)
{
    int pl[CL_MAXN];
    int cnt = ring_walk(st->ring, op->khash, pl);
    for (int i = st->n; i < cnt; i++)
        if (!op_has_node(op, pl[i]) && !st->suspect[pl[i]])
            return pl[i];
    return -1;
}

static int add_target(struct op *op, int node, int hint_for)
{
    if (op->nt >= (int)CL_ARRAY_LEN(op->t))
        return -1;
    op->t[op->nt] = (struct target){.node = node, .hint_for = hint_for, .state = TG_PENDING};
    return op->nt++;
}

static struct vitem *op_write_item(const struct op *op)
{
    struct vitem *it = vitem_new(op->key, op->khash);
    it->v = xcalloc(1, sizeof *it->v);
    version_copy(&it->v[0], &op->wv);
    it->nv = 1;
    vitem_rehash(it);
    return it;
}

/* Applies a write (or repair) on this node as one of the replicas. */
static void local_write(struct ll *st, const struct vitem *it, int hint_for, const char *via)
{
    if (hint_for >= 0 && hint_for != self_idx(st)) {
        hint_add(st, hint_for, it);
        hints_sync(st);
    } else if (data_merge(st, it, via)) {
        data_sync(st);
    }
}

/* The item this node answers a read with: its data merged with any hint it keeps for the
 * key (a stand-in answers for the owner it stands in for). Caller frees. */
static struct vitem *local_read(struct ll *st, const char *key, uint64_t khash)
{
    struct vitem *d = vtable_get(&st->data, key, khash);
    struct vitem *out = d ? vitem_dup(d) : vitem_new(key, khash);
    for (int o = 0; o < CL_MAXN; o++) {
        struct vitem *h = vtable_get(&st->hints[o], key, khash);
        if (h)
            vitem_merge(st->conflict, out, h);
    }
    vitem_rehash(out);
    return out;
}

static void send_write(struct ll *st, struct op *op, struct target *t, const struct vitem *it,
                       int repair)
{
    json_t *b = json_pack("{s:s,s:I,s:o}", "type", "ll_write", "op", (json_int_t)op->id, "item",
                          item_json(st, it));
    if (t->hint_for >= 0)
        json_object_set_new(b, "hint_for", json_string(nname(st, t->hint_for)));
    if (repair)
        json_object_set_new(b, "repair", json_true());
    env_send(st->e, nname(st, t->node), b);
}

static void send_read(struct ll *st, struct op *op, struct target *t)
{
    env_send(st->e, nname(st, t->node),
             json_pack("{s:s,s:I,s:s}", "type", "ll_read", "op", (json_int_t)op->id, "key", op->key));
}

static void op_check(struct ll *st, struct op *op);

/* Sends the request to targets [from, nt): remote ones by message, then this node's own
 * part, which may complete (and free) the op: the caller must not touch op afterwards. */
static void op_dispatch(struct ll *st, struct op *op, int from)
{
    int local = -1;
    struct vitem *wit = op->kind == OP_WRITE ? op_write_item(op) : NULL;
    for (int i = from; i < op->nt; i++) {
        struct target *t = &op->t[i];
        if (t->node == self_idx(st)) {
            local = i;
            continue;
        }
        if (op->kind == OP_WRITE)
            send_write(st, op, t, wit, 0);
        else
            send_read(st, op, t);
        /* asked anyway, but not waited for: a late answer still counts */
        if (st->suspect[t->node])
            t->state = TG_SILENT;
    }
    if (local >= 0) {
        struct target *t = &op->t[local];
        if (op->kind == OP_WRITE) {
            local_write(st, wit, t->hint_for, op->is_delete ? "delete" : "write");
        } else {
            t->resp = local_read(st, op->key, op->khash);
        }
        t->state = TG_OK;
        op->acks++;
    }
    vitem_free(wit);
    op_check(st, op);
}

static void emit_quorum(struct ll *st, struct op *op, int ok)
{
    json_t *f = json_pack("{s:s,s:s,s:i,s:o,s:o,s:o,s:b}", "op",
                          op->kind == OP_READ ? "read" : op->is_delete ? "delete" : "write",
                          "key", op->key, "need", op->need, "acked", node_list(st, op, 1),
                          "missing", node_list(st, op, 0), "stale", node_list(st, op, 2), "ok", ok);
    json_t *h = json_array();
    for (int i = 0; i < op->nt; i++)
        if (op->t[i].hint_for >= 0 && op->t[i].state == TG_OK)
            json_array_append_new(h, json_pack("{s:s,s:s}", "node", nname(st, op->t[i].node), "for",
                                               nname(st, op->t[i].hint_for)));
    if (json_array_size(h))
        json_object_set_new(f, "standins", h);
    else
        json_decref(h);
    env_event(st->e, "quorum", f);
}

/* The context a client gets back ("n1:3,n2:1"): a write that sends it supersedes it. */
static void context_text(const struct ll *st, const struct vitem *it, struct sb *b)
{
    struct vv ctx;
    vitem_context(it, &ctx);
    vv_text(&ctx, ring_size(st), (const char (*)[CL_IDLEN])st->e->nodes, b);
}

static void reply_read(struct ll *st, struct op *op)
{
    const struct vitem *m = op->merged;
    json_t *r = json_pack("{s:s}", "type", "read_ok");
    json_t *live = vitem_values(m);
    json_object_set(r, "value", json_array_size(live) ? json_array_get(live, 0) : json_null());
    if (st->conflict == VMERGE_DVV) {
        if (json_array_size(live) > 1)
            json_object_set(r, "siblings", live);
        struct sb b = {0};
        context_text(st, m, &b);
        json_object_set_new(r, "context", json_string(b.s));
        sb_free(&b);
    }
    json_decref(live);
    env_reply(st->e, op->client, op->req, r);
}

static void send_repair(struct ll *st, struct op *op, struct target *t)
{
    struct sb vb = {0};
    versions_text(st, op->merged, &vb);
    env_event(st->e, "repair", json_pack("{s:s,s:s,s:s,s:s}", "key", op->key, "to",
                                         nname(st, t->node), "version", vb.s ? vb.s : "",
                                         "via", "read"));
    note(st, "read repair: %s of %s to %s", vb.s ? vb.s : "", op->key, nname(st, t->node));
    sb_free(&vb);
    if (t->node == self_idx(st)) {
        local_write(st, op->merged, -1, "repair");
        return;
    }
    t->repairing = 1;
    if (st->read_repair == RR_BLOCKING)
        op->repair_wait++;
    send_write(st, op, t, op->merged, 1);
}

static int op_pending(const struct op *op)
{
    for (int i = 0; i < op->nt; i++)
        if (op->t[i].state == TG_PENDING || op->t[i].repairing)
            return 1;
    return 0;
}

static void op_check(struct ll *st, struct op *op)
{
    if (op->kind == OP_WRITE) {
        if (!op->replied && op->acks >= op->need) {
            op->replied = 1;
            emit_quorum(st, op, 1);
            json_t *ok = json_pack("{s:s}", "type", op->is_delete ? "delete_ok" : "write_ok");
            if (st->conflict == VMERGE_DVV) {
                /* what this write superseded, and itself: a client that sends it with its next
                 * write to the key (as it would a read's) supersedes its own earlier writes */
                struct vv ctx = op->wv.ctx;
                struct sb b = {0};
                vv_add_dot(&ctx, op->wv.node, op->wv.dot);
                vv_text(&ctx, ring_size(st), (const char (*)[CL_IDLEN])st->e->nodes, &b);
                json_object_set_new(ok, "context", json_string(b.s));
                sb_free(&b);
            }
            env_reply(st->e, op->client, op->req, ok);
        }
    } else if (!op->replied && op->acks >= op->need) {
        if (!op->merged) {
            op->merged = vitem_new(op->key, op->khash);
            for (int i = 0; i < op->nt; i++)
                if (op->t[i].resp)
                    vitem_merge(st->conflict, op->merged, op->t[i].resp);
            vitem_rehash(op->merged);
            for (int i = 0; i < op->nt; i++) {
                struct target *t = &op->t[i];
                if (t->resp && t->resp->h != op->merged->h) {
                    t->stale = 1;
                    if (st->read_repair != RR_OFF)
                        send_repair(st, op, t);
                }
            }
        }
        if (op->repair_wait == 0) {
            op->replied = 1;
            emit_quorum(st, op, 1);
            reply_read(st, op);
        }
    }
    if (op->replied && !op_pending(op))
        op_free(st, op);
}

static void op_timeout(struct ll *st, struct op *op)
{
    op->t_request = 0;
    if (!op->replied) {
        struct sb b = {0};
        int answered = 0;
        for (int i = 0; i < op->nt; i++)
            answered += op->t[i].state == TG_OK;
        if (op->kind == OP_READ && op->acks >= op->need) {
            /* blocking read repair did not finish: answer with what we have */
            op->replied = 1;
            emit_quorum(st, op, 1);
            reply_read(st, op);
            op_free(st, op);
            return;
        }
        if (op->kind == OP_WRITE) {
            sb_printf(&b, "quorum not reached: %d of the %d acks needed (acked: ", answered, op->need);
            list_text(st, op, 1, &b);
            sb_add(&b, "; no answer: ");
            list_text(st, op, 0, &b);
            sb_add(&b, "); the write may have been applied where it was acked");
        } else {
            sb_printf(&b, "read quorum not reached: %d of the %d answers needed (answered: ", answered,
                      op->need);
            list_text(st, op, 1, &b);
            sb_add(&b, "; no answer: ");
            list_text(st, op, 0, &b);
            sb_add(&b, ")");
        }
        emit_quorum(st, op, 0);
        json_t *err = json_pack("{s:s,s:i,s:s}", "type", "error", "code", ERR_TEMPORARILY_UNAVAILABLE, "text", b.s);
        if (op->kind == OP_WRITE) /* replicas may have applied it: the client cannot know */
            json_object_set_new(err, "indefinite", json_true());
        env_reply(st->e, op->client, op->req, err);
        sb_free(&b);
    }
    op_free(st, op);
}

/* replica_timeout passed: suspect the silent ones; with sloppy=on, ask the next stand-ins. */
static void op_replica_timeout(struct ll *st, struct op *op)
{
    op->t_replica = 0;
    int from = op->nt;
    for (int i = 0; i < from; i++) {
        struct target *t = &op->t[i];
        if (t->state != TG_PENDING)
            continue;
        suspect(st, t->node);
        t->state = TG_SILENT;
        if (!st->sloppy || (op->kind == OP_READ && op->replied))
            continue;
        int sub = next_standin(st, op);
        if (sub < 0)
            continue;
        int owner = t->hint_for >= 0 ? t->hint_for : t->node;
        if (add_target(op, sub, owner) >= 0)
            t->state = TG_HANDED;
    }
    if (op->nt > from) {
        op->t_replica = env_timer_set(st->e, st->replica_timeout, T_REPLICA, op->id);
        op_dispatch(st, op, from);
        return;
    }
    op_check(st, op);
}

/* The number of acks or answers a request needs: its cl or w/r, else the node's default. */
static int request_need(struct ll *st, const json_t *body, const char *c, int is_read, char *err,
                        size_t errlen)
{
    int need = is_read ? st->r : st->w;
    const char *wr = is_read ? "r" : "w";
    const json_t *x = json_object_get(body, wr);
    if (c) {
        if (!strcmp(c, "one"))
            need = 1;
        else if (!strcmp(c, "quorum"))
            need = st->n / 2 + 1;
        else if (!strcmp(c, "all"))
            need = st->n;
        else {
            snprintf(err, errlen, "bad \"cl\": expected \"one\", \"quorum\" or \"all\"");
            return -1;
        }
    }
    if (x) {
        json_int_t v = json_integer_value(x);
        if (!json_is_integer(x) || v < 1) {
            snprintf(err, errlen, "bad \"%s\": expected a whole number from 1 to n=%d", wr, st->n);
            return -1;
        }
        if (v > st->n) {
            snprintf(err, errlen, "%s=%" JSON_INTEGER_FORMAT " > n=%d: a %s cannot need more %s than there are replicas",
                     wr, v, st->n, is_read ? "read" : "write", is_read ? "answers" : "acks");
            return -1;
        }
        need = (int)v;
    }
    return need;
}

static struct op *op_new(struct ll *st, int kind, const char *src, const json_t *body,
                         const char *key, int need)
{
    struct op *op = xcalloc(1, sizeof *op);
    op->id = ++st->next_op;
    op->kind = kind;
    str_copy(op->client, src, CL_IDLEN);
    op->req = json_deep_copy(body);
    op->key = xstrdup(key);
    op->khash = hash_str(key);
    op->need = need;
    op->next = st->ops;
    st->ops = op;
    /* the preference list; with sloppy=on a suspected replica is replaced up front */
    int pl[CL_MAXN];
    int cnt = ring_walk(st->ring, op->khash, pl);
    for (int i = 0; i < cnt && i < st->n; i++) {
        if (st->sloppy && st->suspect[pl[i]]) {
            int sub = next_standin(st, op);
            if (sub >= 0) {
                add_target(op, sub, pl[i]);
                continue;
            }
        }
        add_target(op, pl[i], -1);
    }
    op->t_request = env_timer_set(st->e, st->request_timeout, T_REQUEST, op->id);
    op->t_replica = env_timer_set(st->e, st->replica_timeout, T_REPLICA, op->id);
    return op;
}

/* A client read, write or delete (docs/modes/leaderless.md, Requests). */
struct client_req {
    char *key;                  /* a string, or a whole number as its decimal text */
    const char *cl;
    const json_t *value;        /* any JSON, kept as its value text (jtext.h) */
    const json_t *context;
};

static const struct msg_field read_fields[] = {
    MSG_TEXT(struct client_req, key),
    MSG_STR_OPT(struct client_req, cl),
    MSG_END,
};

static const struct msg_field write_fields[] = {
    MSG_TEXT(struct client_req, key),
    MSG_ANY(struct client_req, value),
    MSG_STR_OPT(struct client_req, cl),
    MSG_ANY_OPT(struct client_req, context),
    MSG_END,
};

static const struct msg_field delete_fields[] = {
    MSG_TEXT(struct client_req, key),
    MSG_STR_OPT(struct client_req, cl),
    MSG_ANY_OPT(struct client_req, context),
    MSG_END,
};

/* Reads a client request, or answers error 12 naming what is wrong and returns -1. */
static int client_get(struct ll *st, const char *src, const json_t *body, const struct msg_field *fields,
                      struct client_req *req)
{
    return msg_get_request(st->e, src, body, fields, req, sizeof *req);
}

static void on_read(void *vst, const char *src, const json_t *body)
{
    struct ll *st = vst;
    char err[200];
    struct client_req req;
    ring_check(st);
    if (client_get(st, src, body, read_fields, &req) < 0)
        return;
    int need = request_need(st, body, req.cl, 1, err, sizeof err);
    if (need < 0) {
        env_reply_error(st->e, src, body, ERR_MALFORMED_REQUEST, err, NULL);
        msg_free_text(read_fields, &req);
        return;
    }
    struct op *op = op_new(st, OP_READ, src, body, req.key, need);
    msg_free_text(read_fields, &req);
    op_dispatch(st, op, 0);
}

static void start_write(struct ll *st, const char *src, const json_t *body, int is_delete)
{
    char err[200];
    struct client_req req;
    ring_check(st);
    const struct msg_field *fields = is_delete ? delete_fields : write_fields;
    if (client_get(st, src, body, fields, &req) < 0)
        return;
    int need = request_need(st, body, req.cl, 0, err, sizeof err);
    struct vv ctx = {{0}};
    if (need >= 0 && req.context && st->conflict == VMERGE_DVV) {
        if (!json_is_string(req.context)) {
            snprintf(err, sizeof err, "bad \"context\": expected the string a read returned");
            need = -1;
        } else if (vv_parse(json_string_value(req.context), st->e->n_nodes,
                            (const char (*)[CL_IDLEN])st->e->nodes, &ctx, err, sizeof err) < 0) {
            need = -1;
        }
    }
    if (need < 0) {
        env_reply_error(st->e, src, body, ERR_MALFORMED_REQUEST, err, NULL);
        msg_free_text(fields, &req);
        return;
    }
    struct op *op = op_new(st, OP_WRITE, src, body, req.key, need);
    msg_free_text(fields, &req);
    op->is_delete = is_delete;
    /* lww timestamps never repeat on one node, but are not corrected for skew: a node whose
     * clock is behind loses its writes to older ones (the point of the demo) */
    uint64_t now = env_now_us(st->e);
    st->last_ts = now > st->last_ts ? now : st->last_ts + 1;
    op->wv.ts = st->last_ts;
    op->wv.node = self_idx(st);
    op->wv.value = req.value ? jtext_encode(req.value) : NULL;
    if (st->conflict == VMERGE_DVV) {
        op->wv.dot = next_dot(st);
        op->wv.ctx = ctx;
    }
    op_dispatch(st, op, 0);
}

static void on_write(void *vst, const char *src, const json_t *body)
{
    start_write(vst, src, body, 0);
}

static void on_delete(void *vst, const char *src, const json_t *body)
{
    start_write(vst, src, body, 1);
}

static void on_cas(void *vst, const char *src, const json_t *body)
{
    struct ll *st = vst;
    env_reply_error(st->e, src, body, ERR_NOT_SUPPORTED,
                    "cas is not supported in leaderless mode: quorums give no atomic read-modify-write",
                    NULL);
}

/* ---- replica side -------------------------------------------------------------------- */

/* ll_write {op, item, hint_for?, repair?}, ll_read {op, key}, ll_read_ok {op, item},
 * ll_write_ok {op}: op is the coordinator's request id, echoed back. */
struct replica_msg {
    uint64_t op;
    const json_t *item;
    const char *key, *hint_for;
    int repair;
};

static const struct msg_field ll_write_fields[] = {
    MSG_U64(struct replica_msg, op, MAX_ID),
    MSG_OBJECT(struct replica_msg, item),
    MSG_STR_OPT(struct replica_msg, hint_for),
    MSG_BOOL_OPT(struct replica_msg, repair),
    MSG_END,
};

static const struct msg_field ll_read_fields[] = {
    MSG_U64(struct replica_msg, op, MAX_ID),
    MSG_STR(struct replica_msg, key),
    MSG_END,
};

static const struct msg_field ll_read_ok_fields[] = {
    MSG_U64(struct replica_msg, op, MAX_ID),
    MSG_OBJECT(struct replica_msg, item),
    MSG_END,
};

static const struct msg_field ll_write_ok_fields[] = {
    MSG_U64(struct replica_msg, op, MAX_ID),
    MSG_END,
};

static void on_ll_write(void *vst, const char *src, const json_t *body)
{
    struct ll *st = vst;
    char why[200];
    struct replica_msg m = {0};
    if (peer_index(st, src) < 0 || peer_get(st, src, body, ll_write_fields, &m) < 0)
        return;
    ring_check(st);
    struct vitem *in = item_from_json(st, m.item, why, sizeof why);
    if (!in) {
        event_error(st, "ll_write from %s: %s", src, why);
        return;
    }
    int hint_for = m.hint_for ? env_node_index(st->e, m.hint_for) : -1;
    if (m.hint_for && hint_for < 0) {
        event_error(st, "ll_write from %s: hint for unknown node %s", src, m.hint_for);
        vitem_free(in);
        return;
    }
    if (st->rstate == RS_LEFT) {
        /* a coordinator whose view is late: this node holds no range any more, and an ack from
         * it would count toward a quorum of replicas that do not have the write */
        note(st, "write of %s from %s not taken: this node left the ring", in->key, src);
        vitem_free(in);
        return;
    }
    local_write(st, in, hint_for, m.repair ? "repair" : "write");
    vitem_free(in);
    env_send(st->e, src, json_pack("{s:s,s:I}", "type", "ll_write_ok", "op", (json_int_t)m.op));
}

static void on_ll_read(void *vst, const char *src, const json_t *body)
{
    struct ll *st = vst;
    struct replica_msg m = {0};
    if (peer_index(st, src) < 0 || peer_get(st, src, body, ll_read_fields, &m) < 0)
        return;
    struct vitem *it = local_read(st, m.key, hash_str(m.key));
    env_send(st->e, src, json_pack("{s:s,s:I,s:o}", "type", "ll_read_ok", "op", (json_int_t)m.op,
                                   "item", item_json(st, it)));
    vitem_free(it);
}

/* The coordinated request an answer belongs to, if it is still running. */
static struct op *reply_op(struct ll *st, uint64_t id, int kind)
{
    struct op *op = op_find(st, id);
    return op && op->kind == kind ? op : NULL;
}

static struct target *op_target(struct op *op, int node)
{
    for (int i = 0; i < op->nt; i++)
        if (op->t[i].node == node)
            return &op->t[i];
    return NULL;
}

static void on_ll_write_ok(void *vst, const char *src, const json_t *body)
{
    struct ll *st = vst;
    int from = peer_index(st, src);
    if (from < 0)
        return;
    struct replica_msg m = {0};
    if (peer_get(st, src, body, ll_write_ok_fields, &m) < 0)
        return;
    struct op *op = reply_op(st, m.op, OP_WRITE);
    if (!op)
        op = reply_op(st, m.op, OP_READ);
    if (!op)
        return; /* late: the request is over */
    struct target *t = op_target(op, from);
    if (!t)
        return;
    if (op->kind == OP_READ) {
        if (t->repairing) {
            t->repairing = 0;
            if (st->read_repair == RR_BLOCKING && op->repair_wait > 0)
                op->repair_wait--;
        }
    } else if (t->state != TG_OK) {
        t->state = TG_OK;
        op->acks++;
    }
    op_check(st, op);
}

static void on_ll_read_ok(void *vst, const char *src, const json_t *body)
{
    struct ll *st = vst;
    char why[200];
    int from = peer_index(st, src);
    if (from < 0)
        return;
    struct replica_msg m = {0};
    if (peer_get(st, src, body, ll_read_ok_fields, &m) < 0)
        return;
    struct op *op = reply_op(st, m.op, OP_READ);
    if (!op)
        return;
    struct target *t = op_target(op, from);
    if (!t || t->state == TG_OK)
        return;
    struct vitem *it = item_from_json(st, m.item, why, sizeof why);
    if (!it) {
        event_error(st, "ll_read_ok from %s: %s", src, why);
        return;
    }
    t->resp = it;
    t->state = TG_OK;
    op->acks++;
    if (op->merged && it->h != op->merged->h) {
        /* a late answer: repair it in the background if it is behind */
        struct vitem *probe = vitem_dup(it);
        int behind = vitem_merge(st->conflict, probe, op->merged);
        vitem_free(probe);
        if (behind) {
            t->stale = 1;
            if (st->read_repair != RR_OFF) {
                int rr = st->read_repair;
                st->read_repair = RR_BACKGROUND;
                send_repair(st, op, t);
                st->read_repair = rr;
            }
        }
    }
    op_check(st, op);
}

static void on_ll_ping(void *vst, const char *src, const json_t *body)
{
    struct ll *st = vst;
    (void)body;
    if (peer_index(st, src) >= 0)
        env_send(st->e, src, json_pack("{s:s}", "type", "ll_pong"));
}

static void on_ll_pong(void *vst, const char *src, const json_t *body)
{
    (void)body;
    peer_index(vst, src);
}

/* ---- hinted handoff ------------------------------------------------------------------- */

static void hint_tick(struct ll *st)
{
    for (int o = 0; o < ring_size(st); o++) {
        if (o == self_idx(st))
            continue;
        if (st->hints[o].n && st->handoff_outstanding[o]) {
            suspect(st, o); /* the last handoff went unanswered: ping until it answers */
            st->handoff_outstanding[o] = 0;
        }
        if (st->suspect[o]) {
            env_send(st->e, nname(st, o), json_pack("{s:s}", "type", "ll_ping"));
            continue;
        }
        if (!st->hints[o].n)
            continue;
        json_t *items = json_array();
        struct vitem **v = vtable_sorted(&st->hints[o]);
        for (size_t i = 0; v[i] && i < HANDOFF_BATCH; i++)
            json_array_append_new(items, item_json(st, v[i]));
        env_send(st->e, nname(st, o), json_pack("{s:s,s:o}", "type", "ll_handoff", "items", items));
        st->handoff_outstanding[o] = 1;
        if (st->bug_hint_on_send) {
            /* the bug: forget the hints as soon as they are sent, whether or not they arrive */
            for (size_t i = 0; v[i] && i < HANDOFF_BATCH; i++)
                hint_del(st, o, v[i]->key, v[i]->h);
            hints_sync(st);
        }
        free(v);
    }
}

/* ll_handoff {items:[item…]} and ll_handoff_ok {acks:[{key, h}…]}: h is the content hash
 * delivered, so a hint that grew since it was sent is kept. */
struct handoff_msg {
    const json_t *items, *acks;
};

struct handoff_ack {
    const char *key;
    uint64_t h;
};

static const struct msg_field handoff_fields[] = {
    MSG_ARRAY(struct handoff_msg, items, HANDOFF_BATCH),
    MSG_END,
};

static const struct msg_field handoff_ok_fields[] = {
    MSG_ARRAY(struct handoff_msg, acks, HANDOFF_BATCH),
    MSG_END,
};

static const struct msg_field handoff_ack_fields[] = {
    MSG_STR(struct handoff_ack, key),
    MSG_HEX(struct handoff_ack, h),
    MSG_END,
};

static void on_ll_handoff(void *vst, const char *src, const json_t *body)
{
    struct ll *st = vst;
    char why[200];
    struct handoff_msg m = {0};
    int from = peer_index(st, src);
    if (from < 0 || peer_get(st, src, body, handoff_fields, &m) < 0)
        return;
    ring_check(st);
    json_t *acks = json_array();
    size_t i;
    const json_t *j;
    int changed = 0;
    json_array_foreach(m.items, i, j) {
        struct vitem *in = item_from_json(st, j, why, sizeof why);
        if (!in) {
            event_error(st, "ll_handoff from %s: %s", src, why);
            continue;
        }
        changed |= data_merge(st, in, "hint");
        env_event(st->e, "hint", json_pack("{s:s,s:s,s:s,s:s}", "what", "delivered", "for",
                                           st->e->self, "key", in->key, "from", src));
        note(st, "hint from %s delivered: %s", src, in->key);
        char hb[17];
        json_array_append_new(acks, json_pack("{s:s,s:s}", "key", in->key, "h", hash_hex(in->h, hb)));
        vitem_free(in);
    }
    if (changed)
        data_sync(st);
    env_send(st->e, src, json_pack("{s:s,s:o}", "type", "ll_handoff_ok", "acks", acks));
}

static void on_ll_handoff_ok(void *vst, const char *src, const json_t *body)
{
    struct ll *st = vst;
    struct handoff_msg m = {0};
    int from = peer_index(st, src);
    if (from < 0 || peer_get(st, src, body, handoff_ok_fields, &m) < 0)
        return;
    st->handoff_outstanding[from] = 0;
    size_t i;
    const json_t *j;
    json_array_foreach(m.acks, i, j) {
        struct handoff_ack a;
        char err[200];
        if (msg_get(j, "an ack", handoff_ack_fields, &a, err, sizeof err) == 0)
            hint_del(st, from, a.key, a.h);
        else
            event_error(st, "ll_handoff_ok from %s: %s", src, err);
    }
    hints_sync(st);
}

/* ---- anti-entropy ---------------------------------------------------------------------- */

static int shared_with(const struct ll *st, const struct vitem *it, int peer)
{
    uint32_t both = (1u << peer) | (1u << self_idx(st));
    return (it->owners & both) == both;
}

static void ae_end(struct ll *st)
{
    struct ae_session *a = &st->ae;
    env_timer_cancel(st->e, a->t_stuck);
    free(a->diff);
    json_decref(a->keys);
    memset(a, 0, sizeof *a);
}

/* Tombstones older than the grace period, held by every other replica: collect them. */
static void tomb_collect(struct ll *st)
{
    if (!st->tombstones)
        return;
    uint64_t now = env_now_us(st->e);
    uint32_t me = 1u << self_idx(st);
    int collected = 0;
    VTABLE_FOREACH(&st->data, it) {
        if (!vitem_is_tomb(it) || now < vitem_newest_ts(it) + st->tomb_grace)
            continue;
        if (((it->acks | me) & it->owners) != it->owners)
            continue;
        char hb[17];
        log_json(st, "data", json_pack("{s:s,s:s}", "gc", it->key, "h", hash_hex(it->h, hb)));
        st->log_records++;
        env_event(st->e, "tombstone", json_pack("{s:s,s:s}", "what", "collected", "key", it->key));
        data_remove(st, it);
        collected++;
    }
    if (collected) {
        data_sync(st);
        note(st, "collected %d tombstones", collected);
    }
}

static void ae_finish(struct ll *st)
{
    struct ae_session *a = &st->ae;
    /* every shared key now matches the peer's: its tombstones are held there too */
    VTABLE_FOREACH(&st->data, it)
        if (shared_with(st, it, a->peer) && vitem_is_tomb(it) && it->changed <= a->started)
            it->acks |= 1u << a->peer;
    json_t *keys = json_incref(a->keys);
    env_event(st->e, "antientropy",
              json_pack("{s:s,s:i,s:i,s:I,s:I,s:o,s:i,s:I}", "peer", nname(st, a->peer), "ranges",
                        a->compared, "differing", a->ndiff, "repaired_here",
                        (json_int_t)a->repaired_here, "repaired_there", (json_int_t)a->repaired_there,
                        "keys", keys, "batches", a->batches,
                        "us", (json_int_t)(env_now_us(st->e) - a->started)));
    if (a->ndiff || a->repaired_here || a->repaired_there) {
        struct sb kb = {0};
        size_t i;
        json_t *k;
        json_array_foreach(a->keys, i, k) {
            sb_add(&kb, i ? ", " : " (");
            sb_add_escaped(&kb, json_string_value(k), strlen(json_string_value(k)));
        }
        if (kb.s)
            sb_add(&kb, a->repaired_here + a->repaired_there > (long)json_array_size(a->keys) ? ", …)" : ")");
        note(st, "anti-entropy with %s: %d ranges compared, %d differ, %ld keys repaired here, %ld there%s",
             nname(st, a->peer), a->compared, a->ndiff, a->repaired_here, a->repaired_there,
             kb.s ? kb.s : "");
        sb_free(&kb);
    }
    ae_end(st);
    tomb_collect(st);
}

static void ae_start(struct ll *st)
{
    ring_check(st);
    if (st->ae.active)
        return;
    int me = self_idx(st);
    for (int tries = 0; tries < ring_size(st); tries++) {
        int p = st->ae_next_peer++ % ring_size(st);
        if (p == me || st->suspect[p])
            continue;
        struct ae_session *a = &st->ae;
        a->active = 1;
        a->sid = env_rand(st->e) >> 12;
        a->peer = p;
        a->started = env_now_us(st->e);
        a->keys = json_array();
        uint64_t top[MERKLE_TOPS];
        uint64_t root = merkle_root(&st->tree[p], top);
        char hb[17];
        env_send(st->e, nname(st, p),
                 json_pack("{s:s,s:I,s:s,s:o}", "type", "ae_root", "sid", (json_int_t)a->sid, "root",
                           hash_hex(root, hb), "top", merkle_hashes_json(top, MERKLE_TOPS)));
        a->t_stuck = env_timer_set(st->e, 4 * st->request_timeout, T_AE_STUCK, a->sid);
        return;
    }
}

/* The anti-entropy exchange (docs/modes/leaderless.md): sid names the exchange;
 * ae_root {sid, root, top[32]} -> ae_diff {sid, tops[], leaves[][32]} -> ae_push {sid, batch,
 * leaves[], items[]} -> ae_pull {sid, batch, items[], repaired, keys[]}. */
struct ae_msg {
    uint64_t sid, root, repaired;
    int batch;
    const json_t *top, *tops, *leaves, *items, *keys;
};

static const struct msg_field ae_root_fields[] = {
    MSG_U64(struct ae_msg, sid, MAX_ID),
    MSG_HEX(struct ae_msg, root),
    MSG_ARRAY(struct ae_msg, top, MERKLE_TOPS),
    MSG_END,
};

static const struct msg_field ae_diff_fields[] = {
    MSG_U64(struct ae_msg, sid, MAX_ID),
    MSG_ARRAY(struct ae_msg, tops, MERKLE_TOPS),
    MSG_ARRAY(struct ae_msg, leaves, MERKLE_TOPS),
    MSG_END,
};

static const struct msg_field ae_push_fields[] = {
    MSG_U64(struct ae_msg, sid, MAX_ID),
    MSG_INT_OPT(struct ae_msg, batch, 0, MERKLE_LEAVES),
    MSG_ARRAY(struct ae_msg, leaves, MERKLE_LEAVES),
    MSG_ARRAY(struct ae_msg, items, 0),
    MSG_END,
};

static const struct msg_field ae_pull_fields[] = {
    MSG_U64(struct ae_msg, sid, MAX_ID),
    MSG_INT_OPT(struct ae_msg, batch, 0, MERKLE_LEAVES),
    MSG_ARRAY(struct ae_msg, items, 0),
    MSG_U64_OPT(struct ae_msg, repaired, MAX_ID),
    MSG_ARRAY_OPT(struct ae_msg, keys, 0),
    MSG_END,
};

static void on_ae_root(void *vst, const char *src, const json_t *body)
{
    struct ll *st = vst;
    struct ae_msg m = {0};
    int p = peer_index(st, src);
    if (p < 0 || peer_get(st, src, body, ae_root_fields, &m) < 0)
        return;
    ring_check(st);
    uint64_t their[MERKLE_TOPS], mine[MERKLE_TOPS];
    if (merkle_hashes_parse(m.top, their, MERKLE_TOPS) < 0) {
        event_error(st, "ae_root from %s: needs %d \"top\" hashes", src, MERKLE_TOPS);
        return;
    }
    json_t *tops = json_array(), *leaves = json_array();
    if (merkle_root(&st->tree[p], mine) != m.root) {
        for (int t = 0; t < MERKLE_TOPS; t++) {
            if (mine[t] == their[t])
                continue;
            json_array_append_new(tops, json_integer(t));
            json_array_append_new(leaves, merkle_hashes_json(merkle_leaves(&st->tree[p], t), MERKLE_FANOUT));
        }
    }
    env_send(st->e, src, json_pack("{s:s,s:I,s:o,s:o}", "type", "ae_diff", "sid", (json_int_t)m.sid,
                                   "tops", tops, "leaves", leaves));
}

/* The exchange this node started with peer, when sid names it; else NULL. */
static struct ae_session *ae_session_for(struct ll *st, int peer, uint64_t sid)
{
    struct ae_session *a = &st->ae;
    if (!a->active || a->peer != peer || sid != a->sid)
        return NULL;
    return a;
}

/* Items of the leaves in mark (shared with peer), as JSON. */
static json_t *leaf_items(struct ll *st, int peer, const uint8_t *mark)
{
    json_t *items = json_array();
    VTABLE_FOREACH(&st->data, it)
        if (mark[merkle_leaf_of(it->khash)] && shared_with(st, it, peer))
            json_array_append_new(items, item_json(st, it));
    return items;
}

static void ae_push_next(struct ll *st)
{
    struct ae_session *a = &st->ae;
    uint8_t *mark = xcalloc(MERKLE_LEAVES, 1);
    /* count items per leaf once: fill batches up to AE_BATCH_ITEMS */
    int *count = xcalloc(MERKLE_LEAVES, sizeof *count);
    VTABLE_FOREACH(&st->data, it)
        if (shared_with(st, it, a->peer))
            count[merkle_leaf_of(it->khash)]++;
    int items = 0, end = a->pos;
    json_t *leaves = json_array();
    while (end < a->ndiff && end - a->pos < AE_BATCH_LEAVES &&
           (end == a->pos || items + count[a->diff[end]] <= AE_BATCH_ITEMS)) {
        items += count[a->diff[end]];
        mark[a->diff[end]] = 1;
        json_array_append_new(leaves, json_integer(a->diff[end]));
        end++;
    }
    a->batch_end = end;
    a->batches++;
    env_send(st->e, nname(st, a->peer),
             json_pack("{s:s,s:I,s:i,s:o,s:o}", "type", "ae_push", "sid", (json_int_t)a->sid, "batch",
                       a->pos, "leaves", leaves, "items", leaf_items(st, a->peer, mark)));
    free(count);
    free(mark);
}

static void on_ae_diff(void *vst, const char *src, const json_t *body)
{
    struct ll *st = vst;
    struct ae_msg m = {0};
    int p = peer_index(st, src);
    if (p < 0 || peer_get(st, src, body, ae_diff_fields, &m) < 0)
        return;
    struct ae_session *a = ae_session_for(st, p, m.sid);
    if (!a || a->diff)
        return; /* not ours, or a duplicate */
    if (json_array_size(m.tops) != json_array_size(m.leaves)) {
        event_error(st, "ae_diff from %s: needs \"tops\" and \"leaves\" of one length", src);
        ae_end(st);
        return;
    }
    a->compared = 1 + MERKLE_TOPS;
    a->diff = xcalloc(MERKLE_LEAVES, sizeof *a->diff);
    size_t i;
    const json_t *tj;
    json_array_foreach(m.tops, i, tj) {
        json_int_t t = json_integer_value(tj);
        uint64_t their[MERKLE_FANOUT];
        if (!json_is_integer(tj) || t < 0 || t >= MERKLE_TOPS ||
            merkle_hashes_parse(json_array_get(m.leaves, i), their, MERKLE_FANOUT) < 0) {
            event_error(st, "ae_diff from %s: bad subtree %zu", src, i);
            ae_end(st);
            return;
        }
        a->compared += MERKLE_FANOUT;
        a->ndiff += merkle_diff(&st->tree[p], (int)t, their, a->diff + a->ndiff);
    }
    if (a->ndiff == 0) {
        ae_finish(st);
        return;
    }
    a->pos = 0;
    ae_push_next(st);
}

/* Merges anti-entropy items from src; the first repaired keys go into keys (up to 8). */
static long merge_items(struct ll *st, const char *src, const json_t *items, json_t *keys)
{
    char why[200];
    long repaired = 0;
    size_t i;
    const json_t *j;
    json_array_foreach(items, i, j) {
        struct vitem *in = item_from_json(st, j, why, sizeof why);
        if (!in) {
            event_error(st, "anti-entropy items from %s: %s", src, why);
            continue;
        }
        st->quiet = repaired >= MAX_REPAIR_EVENTS; /* the antientropy event sums up the rest */
        if (data_merge(st, in, "antientropy")) {
            if (repaired < MAX_REPAIR_EVENTS) {
                struct vitem *now = vtable_get(&st->data, in->key, in->khash);
                struct sb vb = {0};
                if (now)
                    versions_text(st, now, &vb);
                env_event(st->e, "repair", json_pack("{s:s,s:s,s:s,s:s,s:s}", "key", in->key, "to",
                                                     st->e->self, "from", src, "version",
                                                     vb.s ? vb.s : "", "via", "antientropy"));
                sb_free(&vb);
            }
            if (json_array_size(keys) < 8)
                json_array_append_new(keys, json_string(in->key));
            repaired++;
        }
        st->quiet = 0;
        vitem_free(in);
    }
    if (repaired)
        data_sync(st);
    return repaired;
}

static int leaves_mark(const json_t *leaves, uint8_t *mark)
{
    size_t i;
    const json_t *j;
    if (!json_is_array(leaves))
        return -1;
    json_array_foreach(leaves, i, j) {
        json_int_t l = json_integer_value(j);
        if (!json_is_integer(j) || l < 0 || l >= (json_int_t)MERKLE_LEAVES)
            return -1;
        mark[l] = 1;
    }
    return 0;
}

static void on_ae_push(void *vst, const char *src, const json_t *body)
{
    struct ll *st = vst;
    struct ae_msg m = {.batch = -1};
    int p = peer_index(st, src);
    if (p < 0 || peer_get(st, src, body, ae_push_fields, &m) < 0)
        return;
    ring_check(st);
    uint8_t *mark = xcalloc(MERKLE_LEAVES, 1);
    if (leaves_mark(m.leaves, mark) < 0) {
        event_error(st, "ae_push from %s: needs \"leaves\" (0..%u) and \"items\"", src, MERKLE_LEAVES - 1);
        free(mark);
        return;
    }
    json_t *keys = json_array();
    long repaired = merge_items(st, src, m.items, keys);
    json_t *pull = json_pack("{s:s,s:I,s:o,s:I,s:o}", "type", "ae_pull", "sid", (json_int_t)m.sid,
                             "items", leaf_items(st, p, mark), "repaired", (json_int_t)repaired,
                             "keys", keys);
    if (m.batch >= 0)
        json_object_set_new(pull, "batch", json_integer(m.batch));
    env_send(st->e, src, pull);
    free(mark);
}

static void on_ae_pull(void *vst, const char *src, const json_t *body)
{
    struct ll *st = vst;
    struct ae_msg m = {.batch = -1};
    int p = peer_index(st, src);
    if (p < 0 || peer_get(st, src, body, ae_pull_fields, &m) < 0)
        return;
    struct ae_session *a = ae_session_for(st, p, m.sid);
    /* answers a batch not in flight (a duplicate or a late one): ignored */
    if (!a || !a->diff || m.batch != a->pos)
        return;
    a->repaired_there += (long)m.repaired;
    a->repaired_here += merge_items(st, src, m.items, a->keys);
    size_t ki;
    const json_t *kj;
    json_array_foreach(m.keys, ki, kj)
        if (json_is_string(kj) && json_array_size(a->keys) < 8)
            json_array_append(a->keys, (json_t *)kj);
    a->pos = a->batch_end;
    if (a->pos < a->ndiff)
        ae_push_next(st);
    else
        ae_finish(st);
}

/* ---- timers ---------------------------------------------------------------------------- */

static uint64_t jitter(struct ll *st, uint64_t us)
{
    return us - us / 10 + env_rand_range(st->e, 0, us / 5);
}

/* ---- streaming ranges (join and decommission) -------------------------------------------------
 * A joiner (a node the lab added, option join, or a node restarted after it left) pulls its
 * ranges: every STREAM period, from each peer of its ring it has not finished with, it asks
 * ll_stream_req {sid, round, ring:[ids of its ring]}; the peer answers with every item it
 * holds of which the joiner is one of the n replicas in that ring, in batches
 * ll_stream {sid, round, batch, of, items}; the joiner merges them, acks each
 * (ll_stream_ok {sid, round, batch}) and is done with the peer once all `of` batches of one
 * round came. A peer its view holds dead or left, or silent for STREAM_ROUNDS rounds, is given
 * up (its keys come from the other replicas, by hints and anti-entropy).
 * A leaver (`decommission NODE`) announces left by SWIM, so every node drops it from its ring as the
 * news spreads, and pushes each item it holds to the nodes that become its replicas without
 * it (the new owners), in the same batches; a new owner acks each batch, and a round not fully
 * acked is sent again. Then it is left: it takes no write (no ack), and stops probing once the
 * news has been piggybacked enough. */

static void stream_event(struct ll *st, const char *what, int peer, long keys)
{
    json_t *f = json_pack("{s:s,s:s,s:I}", "what", what, "state", rstate_names[st->rstate], "items", (json_int_t)keys);
    if (peer >= 0)
        json_object_set_new(f, "peer", json_string(nname(st, peer)));
    env_event(st->e, "stream", f);
}

static void save_rstate(struct ll *st)
{
    const char *v = rstate_names[st->rstate];
    st->e->ops->blob_put(st->e, "ring_state", v, strlen(v));
}

/* A ring with or without node `with` as a member beside the ring members of this node's view
 * (with < 0: none added); `without` >= 0 is left out. Caller frees. */
static struct ring *ring_variant(struct ll *st, int with, int without)
{
    int n = st->e->n_nodes < CL_MAXN ? st->e->n_nodes : CL_MAXN;
    int member[CL_MAXN] = {0};
    for (int i = 0; i < n; i++)
        member[i] = (in_ring(st, i) || i == with) && i != without;
    return ring_new_of(n, member, st->vnodes);
}

/* Sends items (an array, stolen) to node `to` in batches of one round. Returns the batches. */
static int stream_send(struct ll *st, int to, uint64_t sid, int round, json_t *items)
{
    size_t n = json_array_size(items), per = STREAM_BATCH;
    if ((n + per - 1) / per > STREAM_MAX_BATCHES)
        per = (n + STREAM_MAX_BATCHES - 1) / STREAM_MAX_BATCHES;
    int of = n ? (int)((n + per - 1) / per) : 1;
    for (int b = 0; b < of; b++) {
        json_t *chunk = json_array();
        for (size_t i = (size_t)b * per; i < n && i < (size_t)(b + 1) * per; i++)
            json_array_append(chunk, json_array_get(items, i));
        env_send(st->e, nname(st, to),
                 json_pack("{s:s,s:I,s:i,s:i,s:i,s:o}", "type", "ll_stream", "sid", (json_int_t)sid, "round", round,
                           "batch", b, "of", of, "items", chunk));
    }
    json_decref(items);
    return of;
}

static uint64_t full_mask(int of)
{
    return of >= 64 ? ~0ull : (1ull << of) - 1;
}

static void stream_finish(struct ll *st)
{
    long keys = 0;
    for (int p = 0; p < CL_MAXN; p++)
        keys += st->sp[p].keys;
    uint64_t us = env_now_us(st->e) - st->stream_started;
    if (st->rstate == RS_JOINING) {
        st->rstate = RS_NORMAL;
        note(st, "joined: %ld keys streamed in from the current owners in %.2f s", keys, us / 1e6);
    } else {
        st->rstate = RS_LEFT;
        note(st, "left the ring: %ld keys streamed to their new owners in %.2f s", keys, us / 1e6);
    }
    save_rstate(st);
    data_sync(st);
    json_t *peers = json_array();
    for (int p = 0; p < CL_MAXN; p++)
        if (st->sp[p].want && !st->sp[p].gave_up)
            json_array_append_new(peers, json_string(nname(st, p)));
    env_event(st->e, "stream", json_pack("{s:s,s:s,s:I,s:o,s:I}", "what", "done", "state", rstate_names[st->rstate],
                                         "items", (json_int_t)keys, "peers", peers, "us", (json_int_t)us));
}

static int stream_all_done(struct ll *st)
{
    for (int p = 0; p < CL_MAXN; p++)
        if (st->sp[p].want && !st->sp[p].done)
            return 0;
    return 1;
}

/* The joiner's ring, as ids, for ll_stream_req. */
static json_t *ring_ids(struct ll *st)
{
    json_t *a = json_array();
    for (int i = 0; i < ring_size(st); i++)
        if (in_ring(st, i))
            json_array_append_new(a, json_string(nname(st, i)));
    return a;
}

static int peer_gone(struct ll *st, int p)
{
    if (!st->gossip)
        return 0;
    enum swim_status s = swim_status_of(&st->sw, p);
    return s == SWIM_DEAD || s == SWIM_LEFT || s == SWIM_UNKNOWN;
}

static void give_up(struct ll *st, int p, const char *why)
{
    struct stream_peer *sp = &st->sp[p];
    sp->done = sp->gave_up = 1;
    note(st, "stream with %s given up (%s): its keys come by hints and anti-entropy", nname(st, p), why);
    stream_event(st, "gave-up", p, sp->keys);
}

static void join_round(struct ll *st)
{
    int me = self_idx(st);
    for (int p = 0; p < ring_size(st); p++) {
        struct stream_peer *sp = &st->sp[p];
        if (p == me || !in_ring(st, p) || sp->done)
            continue;
        if (!sp->want)
            sp->want = 1;
        if (peer_gone(st, p) || sp->rounds >= STREAM_ROUNDS) {
            give_up(st, p, peer_gone(st, p) ? "not alive in this node's view" : "no answer");
            continue;
        }
        sp->rounds++;
        sp->got = 0;
        sp->of = 0;
        env_send(st->e, nname(st, p), json_pack("{s:s,s:I,s:i,s:o}", "type", "ll_stream_req", "sid",
                                                (json_int_t)st->stream_sid, "round", st->stream_round,
                                                "ring", ring_ids(st)));
    }
}

static void leave_round(struct ll *st)
{
    int me = self_idx(st);
    ring_check(st);
    struct ring *before = ring_variant(st, me, -1);
    json_t *items[CL_MAXN] = {0};
    VTABLE_FOREACH(&st->data, it) {
        uint32_t old = ring_owners(before, it->khash, st->n), now = owners_of(st, it->khash);
        uint32_t to = now & ~old;
        for (int o = 0; o < CL_MAXN; o++) {
            if (!(to & (1u << o)) || st->sp[o].done)
                continue;
            if (!items[o])
                items[o] = json_array();
            json_array_append_new(items[o], item_json(st, it));
        }
    }
    ring_destroy(&before);
    for (int o = 0; o < CL_MAXN; o++) {
        struct stream_peer *sp = &st->sp[o];
        if (!items[o] && !sp->want)
            continue;
        sp->want = 1;
        if (sp->done) {
            json_decref(items[o]);
            continue;
        }
        if (!items[o]) { /* nothing of it left to send (it came by other writes) */
            sp->done = 1;
            continue;
        }
        if (sp->rounds >= STREAM_ROUNDS) {
            json_decref(items[o]);
            give_up(st, o, "no ack");
            continue;
        }
        sp->rounds++;
        sp->got = 0;
        sp->keys = (long)json_array_size(items[o]);
        sp->of = stream_send(st, o, st->stream_sid, st->stream_round, items[o]);
    }
}

static void stream_tick(struct ll *st)
{
    st->t_stream = 0;
    if (st->rstate == RS_LEFT) {
        if (st->gossip && !st->left_quiet && swim_spread(&st->sw, self_idx(st))) {
            swim_stop(&st->sw); /* every member has heard often enough: stop probing */
            st->left_quiet = 1;
            note(st, "the news that it left has spread: SWIM stopped");
        }
        if (!st->left_quiet)
            st->t_stream = env_timer_set(st->e, st->request_timeout, T_STREAM, 0);
        return;
    }
    if (st->rstate == RS_NORMAL)
        return;
    ring_check(st);
    st->stream_round++;
    if (st->rstate == RS_JOINING)
        join_round(st);
    else
        leave_round(st);
    if (stream_all_done(st))
        stream_finish(st);
    if (st->rstate != RS_NORMAL)
        st->t_stream = env_timer_set(st->e, st->request_timeout, T_STREAM, 0);
}

static void stream_begin(struct ll *st, int rstate)
{
    st->rstate = rstate;
    st->stream_sid = env_rand(st->e) >> 12;
    st->stream_round = 0;
    st->stream_started = env_now_us(st->e);
    memset(st->sp, 0, sizeof st->sp);
    save_rstate(st);
    stream_event(st, "start", -1, 0);
    note(st, "%s: streaming ranges %s", rstate_names[rstate], rstate == RS_JOINING ? "in from the current owners"
                                                                                 : "out to their new owners");
    env_timer_cancel(st->e, st->t_stream);
    st->t_stream = env_timer_set(st->e, jitter(st, 100000), T_STREAM, 0);
}

struct stream_msg {
    uint64_t sid;
    int round, batch, of;
    const json_t *items, *ring;
};

static const struct msg_field stream_req_fields[] = {
    MSG_U64(struct stream_msg, sid, MAX_ID),
    MSG_INT(struct stream_msg, round, 0, 1 << 30),
    MSG_ARRAY(struct stream_msg, ring, CL_MAXN),
    MSG_END,
};

static const struct msg_field stream_fields[] = {
    MSG_U64(struct stream_msg, sid, MAX_ID),
    MSG_INT(struct stream_msg, round, 0, 1 << 30),
    MSG_INT(struct stream_msg, batch, 0, STREAM_MAX_BATCHES - 1),
    MSG_INT(struct stream_msg, of, 1, STREAM_MAX_BATCHES),
    MSG_ARRAY(struct stream_msg, items, 0),
    MSG_END,
};

static const struct msg_field stream_ok_fields[] = {
    MSG_U64(struct stream_msg, sid, MAX_ID),
    MSG_INT(struct stream_msg, round, 0, 1 << 30),
    MSG_INT(struct stream_msg, batch, 0, STREAM_MAX_BATCHES - 1),
    MSG_END,
};

/* A joiner asks for its ranges: every item this node holds of which the joiner is one of the
 * n replicas in the joiner's ring. */
static void on_ll_stream_req(void *vst, const char *src, const json_t *body)
{
    struct ll *st = vst;
    struct stream_msg m = {0};
    int from = peer_index(st, src);
    if (from < 0 || peer_get(st, src, body, stream_req_fields, &m) < 0)
        return;
    int n = st->e->n_nodes < CL_MAXN ? st->e->n_nodes : CL_MAXN;
    int member[CL_MAXN] = {0};
    size_t i;
    const json_t *id;
    json_array_foreach(m.ring, i, id) {
        int k = json_is_string(id) ? env_node_index(st->e, json_string_value(id)) : -1;
        if (k < 0 || k >= n) {
            event_error(st, "ll_stream_req from %s: ring entry %zu is not a node of this cluster: dropped", src, i);
            return;
        }
        member[k] = 1;
    }
    member[from] = 1;
    struct ring *theirs = ring_new_of(n, member, st->vnodes);
    if (!theirs)
        return;
    json_t *items = json_array();
    VTABLE_FOREACH(&st->data, it)
        if (ring_owners(theirs, it->khash, st->n) & (1u << from))
            json_array_append_new(items, item_json(st, it));
    ring_destroy(&theirs);
    long k = (long)json_array_size(items);
    stream_send(st, from, m.sid, m.round, items);
    if (k)
        note(st, "streaming %ld keys to %s, which joins", k, src);
}

static void on_ll_stream(void *vst, const char *src, const json_t *body)
{
    struct ll *st = vst;
    struct stream_msg m = {0};
    char why[200];
    int from = peer_index(st, src);
    if (from < 0 || peer_get(st, src, body, stream_fields, &m) < 0)
        return;
    if (m.batch >= m.of) {
        event_error(st, "ll_stream from %s: batch %d of %d: dropped", src, m.batch, m.of);
        return;
    }
    ring_check(st);
    long merged = 0, n = 0;
    size_t i;
    const json_t *j;
    json_array_foreach(m.items, i, j) {
        struct vitem *in = item_from_json(st, j, why, sizeof why);
        if (!in) {
            event_error(st, "ll_stream from %s: %s", src, why);
            continue;
        }
        st->quiet = merged >= MAX_REPAIR_EVENTS;
        merged += data_merge(st, in, "stream");
        st->quiet = 0;
        n++;
        vitem_free(in);
    }
    if (merged)
        data_sync(st);
    env_send(st->e, src, json_pack("{s:s,s:I,s:i,s:i}", "type", "ll_stream_ok", "sid", (json_int_t)m.sid, "round",
                                   m.round, "batch", m.batch));
    struct stream_peer *sp = &st->sp[from];
    if (st->rstate != RS_JOINING || m.sid != st->stream_sid || m.round != st->stream_round || sp->done)
        return;
    sp->of = m.of;
    if (!(sp->got & (1ull << m.batch)))
        sp->keys += n;
    sp->got |= 1ull << m.batch;
    if (sp->got == full_mask(m.of)) {
        sp->done = 1;
        stream_event(st, "from", from, sp->keys);
        if (stream_all_done(st)) {
            stream_finish(st);
            env_timer_cancel(st->e, st->t_stream);
            st->t_stream = 0;
        }
    }
}

static void on_ll_stream_ok(void *vst, const char *src, const json_t *body)
{
    struct ll *st = vst;
    struct stream_msg m = {0};
    int from = peer_index(st, src);
    if (from < 0 || peer_get(st, src, body, stream_ok_fields, &m) < 0)
        return;
    struct stream_peer *sp = &st->sp[from];
    if (st->rstate != RS_LEAVING || m.sid != st->stream_sid || m.round != st->stream_round || sp->done || !sp->of)
        return;
    sp->got |= 1ull << m.batch;
    if (sp->got == full_mask(sp->of)) {
        sp->done = 1;
        stream_event(st, "to", from, sp->keys);
        if (stream_all_done(st)) {
            stream_finish(st);
            env_timer_cancel(st->e, st->t_stream);
            st->t_stream = env_timer_set(st->e, st->request_timeout, T_STREAM, 0);
        }
    }
}


/* ---- membership by SWIM (membership=swim; see the top) ---------------------------------------- */

/* The SWIM core says member j changed in this node's view. */
static void on_member(void *ud, int j, enum swim_status was, enum swim_status now)
{
    struct ll *st = ud;
    if (j >= CL_MAXN)
        return;
    if ((was == SWIM_UNKNOWN || was == SWIM_LEFT) != (now == SWIM_UNKNOWN || now == SWIM_LEFT))
        st->ring_dirty = 1;
    switch (now) {
    case SWIM_ALIVE:
        if (st->suspect[j])
            note(st, "%s %s (SWIM)", nname(st, j), was == SWIM_UNKNOWN ? "joins the ring" : "alive again");
        st->suspect[j] = 0;
        st->joins += was == SWIM_UNKNOWN;
        break;
    case SWIM_DEAD:
        st->deaths++;
        st->suspect[j] = 1;
        note(st, "%s dead (SWIM: suspected and not refuted)", nname(st, j));
        break;
    case SWIM_LEFT:
        st->leaves++;
        st->suspect[j] = 0;
        note(st, "%s left the ring", nname(st, j));
        break;
    default:
        st->suspect[j] = 1;
        break;
    }
}

static void on_probe(void *vst, const char *src, const json_t *body)
{
    struct ll *st = vst;
    if (st->gossip)
        swim_on_probe(&st->sw, src, body);
}

static void on_probe_req(void *vst, const char *src, const json_t *body)
{
    struct ll *st = vst;
    if (st->gossip)
        swim_on_probe_req(&st->sw, src, body);
}

static void on_probe_ack(void *vst, const char *src, const json_t *body)
{
    struct ll *st = vst;
    if (st->gossip)
        swim_on_probe_ack(&st->sw, src, body);
}

static void ll_on_timer(void *vst, int kind, uint64_t arg)
{
    struct ll *st = vst;
    struct op *op;
    switch (kind) {
    case T_REQUEST:
        if ((op = op_find(st, arg)))
            op_timeout(st, op);
        break;
    case T_REPLICA:
        if ((op = op_find(st, arg)))
            op_replica_timeout(st, op);
        break;
    case T_AE:
        st->t_ae = env_timer_set(st->e, jitter(st, st->ae_interval), T_AE, 0);
        ae_start(st);
        break;
    case T_AE_STUCK:
        if (st->ae.active && st->ae.sid == arg) {
            note(st, "anti-entropy with %s gave up: no answer", nname(st, st->ae.peer));
            suspect(st, st->ae.peer);
            st->ae.t_stuck = 0;
            ae_end(st);
        }
        break;
    case T_STREAM:
        stream_tick(st);
        break;
    case T_HINT:
        st->t_hint = env_timer_set(st->e, st->hint_interval, T_HINT, 0);
        ring_check(st);
        hint_tick(st);
        break;
    default:
        if (st->gossip)
            swim_on_timer(&st->sw, kind, arg);
        break;
    }
}

/* ---- commands, status ------------------------------------------------------------------- */

static json_t *cmd_reply(int ok, struct sb *b)
{
    json_t *r = json_pack("{s:b,s:s}", "ok", ok, "text", b->s ? b->s : "");
    sb_free(b);
    return r;
}

/* `ring`: each node's tokens and share of the ring; `ring KEY`: the key's replicas. */
static json_t *cmd_ring(void *vst, int argc, char **argv)
{
    struct ll *st = vst;
    struct sb b = {0};
    ring_check(st);
    if (argc >= 1) {
        uint64_t h = hash_str(argv[0]);
        int pl[CL_MAXN];
        int cnt = ring_walk(st->ring, h, pl);
        sb_add(&b, "key ");
        sb_add_escaped(&b, argv[0], strlen(argv[0]));
        sb_printf(&b, " (hash %016" PRIx64 "): replicas", h);
        for (int i = 0; i < cnt && i < st->n; i++)
            sb_printf(&b, " %s%s", nname(st, pl[i]), st->suspect[pl[i]] ? "(suspected)" : "");
        if (cnt > st->n) {
            sb_printf(&b, "; stand-ins for a sloppy quorum%s:", st->sloppy ? "" : " (sloppy=off: unused)");
            for (int i = st->n; i < cnt; i++)
                sb_printf(&b, " %s", nname(st, pl[i]));
        }
        return cmd_reply(1, &b);
    }
    double share[CL_MAXN];
    ring_shares(st->ring, share);
    sb_printf(&b, "ring (%s's view): %d nodes x %d vnodes, n=%d w=%d r=%d%s; %s is %s", st->e->self, ring_members(st->ring),
              st->vnodes, st->n, st->w, st->r, st->sloppy ? ", sloppy quorums" : "", st->e->self,
              rstate_names[st->rstate]);
    if (st->rstate == RS_JOINING || st->rstate == RS_LEAVING) {
        sb_printf(&b, " (streaming %s:", st->rstate == RS_JOINING ? "from" : "to");
        for (int p = 0; p < CL_MAXN; p++)
            if (st->sp[p].want)
                sb_printf(&b, " %s%s", nname(st, p), st->sp[p].done ? "(done)" : "");
        sb_add(&b, ")");
    }
    for (int k = 0; k < ring_size(st); k++) {
        if (!in_ring(st, k)) {
            sb_printf(&b, "\n%-4s not in this node's ring (%s in its view)", nname(st, k),
                      swim_status_name(swim_status_of(&st->sw, k)));
            continue;
        }
        sb_printf(&b, "\n%-4s %5.1f%% of keys as first replica; tokens", nname(st, k), 100 * share[k]);
        uint64_t tok[RING_MAX_VNODES];
        int nt = ring_tokens(st->ring, k, tok, RING_MAX_VNODES);
        for (int i = 0; i < nt; i++)
            sb_printf(&b, " %04" PRIx64, tok[i] >> 48);
    }
    return cmd_reply(1, &b);
}

/* `hints NODE`: runs on NODE (the lab sends it there). A hint lives on the stand-in that took
 * a write for a replica that was down, so the node must be named: asking another node would
 * say 0 and hide the stand-in's hints. */
static json_t *cmd_hints(void *vst, int argc, char **argv)
{
    struct ll *st = vst;
    struct sb b = {0};
    if (argc >= 1 && strcmp(argv[0], st->e->self)) {
        sb_printf(&b, "hints runs on the node it names (this is %s)", st->e->self);
        return cmd_reply(0, &b);
    }
    sb_printf(&b, "%s keeps %ld hint%s for replicas that were down", st->e->self, st->hints_pending,
              st->hints_pending == 1 ? "" : "s");
    if (!st->hints_pending)
        sb_add(&b, " (a stand-in keeps them: `ring KEY` names a key's stand-ins)");
    for (int o = 0; o < CL_MAXN; o++) {
        if (!st->hints[o].n)
            continue;
        struct vitem **v = vtable_sorted(&st->hints[o]);
        sb_printf(&b, "\nfor %s:", nname(st, o));
        for (size_t i = 0; v[i] && i < 20; i++) {
            sb_add(&b, " ");
            sb_add_escaped(&b, v[i]->key, strlen(v[i]->key));
        }
        if (st->hints[o].n > 20)
            sb_printf(&b, " … (%zu)", st->hints[o].n);
        free(v);
    }
    return cmd_reply(1, &b);
}

/* `join NODE`: the lab has started NODE (its address is in every node's book now). With
 * membership=static it is in the ring at once; with swim, each node takes it in when its alive
 * update reaches it. */
static json_t *cmd_join(void *vst, int argc, char **argv)
{
    struct ll *st = vst;
    (void)argc;
    struct sb b = {0};
    ring_check(st);
    if (st->gossip)
        sb_printf(&b, "%s started: each node takes it into its view (and its ring) when its alive update reaches it by SWIM; "
                      "until then writes for it go to stand-ins (sloppy=on)", argv[0]);
    else
        sb_printf(&b, "%s started and joins the ring at once (membership=static: the lab's list)", argv[0]);
    return cmd_reply(1, &b);
}

/* `decommission NODE` (runs on NODE): remove it from the ring for good. NODE announces by SWIM that it leaves, streams
 * each key it holds to the nodes that become its replicas without it, then is left. */
static json_t *cmd_decommission(void *vst, int argc, char **argv)
{
    struct ll *st = vst;
    struct sb b = {0};
    if (argc < 1 || strcmp(argv[0], st->e->self)) {
        sb_printf(&b, "decommission runs on the node it names (this is %s)", st->e->self);
        return cmd_reply(0, &b);
    }
    if (!st->gossip) {
        sb_printf(&b, "decommission needs membership=swim: the ring learns that %s leaves through SWIM "
                      "(with membership=static the ring is the lab's list)", st->e->self);
        return cmd_reply(0, &b);
    }
    if (st->rstate != RS_NORMAL) {
        sb_printf(&b, "%s is %s: it can leave once it is a normal member of the ring", st->e->self,
                  rstate_names[st->rstate]);
        return cmd_reply(0, &b);
    }
    ring_check(st);
    int others = 0;
    for (int i = 0; i < ring_size(st); i++)
        others += i != self_idx(st) && in_ring(st, i);
    if (others < st->n) {
        sb_printf(&b, "%s cannot leave: %d other member%s would be left in its ring, fewer than the n=%d replicas "
                      "of each key", st->e->self, others, others == 1 ? "" : "s", st->n);
        return cmd_reply(0, &b);
    }
    swim_leave(&st->sw);
    st->ring_dirty = 1;
    ring_check(st);
    stream_begin(st, RS_LEAVING);
    sb_printf(&b, "%s leaves the ring: it announces left by SWIM and streams its ranges to their new owners "
                  "(stream events; `ring` shows its state; `wait event stream what=done state=left since=start`)", st->e->self);
    return cmd_reply(1, &b);
}

static const struct mode_command ll_commands[] = {
    {"ring", "ring [KEY]", "show the ring's tokens and vnodes, or the replicas of KEY",
     "ring x", 0, 1, cmd_ring, MC_ANY},
    {"hints", "hints NODE", "list the hints NODE keeps, as a stand-in, for replicas that were down "
     "(sloppy=on)", "hints n4", 1, 1, cmd_hints, MC_ON_NODE},
    {"join", "join NODE", "start one more node (NODE, the next id) and let it join the ring: at once (membership=static) "
     "or as its alive update spreads by SWIM (membership=swim); it streams its ranges from their current owners",
     "join n6", 1, 1, cmd_join, MC_ADD_NODE},
    {"decommission", "decommission NODE", "take NODE out of the ring for good (membership=swim): it announces that it "
     "leaves, streams its ranges to their new owners, then leaves", "decommission n3", 1, 1, cmd_decommission, MC_REMOVE_NODE},
    {NULL, NULL, NULL, NULL, 0, 0, NULL, MC_ANY},
};

/* A key's value for status: the value, or the list of siblings. */
static json_t *item_value_json(const struct vitem *it)
{
    json_t *live = vitem_values(it);
    if (json_array_size(live) == 1) {
        json_t *v = json_incref(json_array_get(live, 0));
        json_decref(live);
        return v;
    }
    return live;
}

static json_t *ll_status(void *vst)
{
    struct ll *st = vst;
    ring_check(st);
    json_t *data = json_object();
    struct vitem **v = vtable_sorted(&st->data);
    for (size_t i = 0; v[i]; i++)
        if (!vitem_is_tomb(v[i]) && v[i]->nv)
            json_object_set_new(data, v[i]->key, item_value_json(v[i]));
    free(v);
    json_t *hints = json_object(), *sus = json_array();
    for (int o = 0; o < CL_MAXN; o++)
        if (st->hints[o].n)
            json_object_set_new(hints, nname(st, o), json_integer((json_int_t)st->hints[o].n));
    for (int k = 0; k < ring_size(st); k++)
        if (st->suspect[k])
            json_array_append_new(sus, json_string(nname(st, k)));
    /* no replicated log: `log NODE` shows the node's recent notable actions, numbered */
    json_t *log = json_array();
    for (int i = 0; i < st->nlines; i++) {
        int k = (st->line_pos - st->nlines + i + LOG_LINES) % LOG_LINES;
        json_array_append_new(log, json_pack("{s:I,s:I,s:s}", "index", (json_int_t)st->line_seq[k], "t",
                                             (json_int_t)st->line_t[k], "cmd", st->lines[k]));
    }
    static const char *const rr[] = {"blocking", "background", "off"};
    json_t *extra = json_pack("{s:i,s:i,s:i,s:s,s:s,s:s,s:I,s:I,s:I,s:o,s:o}", "n", st->n, "w",
                              st->w, "r", st->r, "conflict",
                              st->conflict == VMERGE_LWW ? "lww" : "siblings", "sloppy",
                              st->sloppy ? "on" : "off", "read_repair", rr[st->read_repair], "keys",
                              (json_int_t)st->data.n, "tombstones", (json_int_t)st->tombstones,
                              "hints_pending", (json_int_t)st->hints_pending, "hints", hints,
                              "suspected", sus);
    char ring[64];
    snprintf(ring, sizeof ring, "%d nodes x %d vnodes", ring_members(st->ring), st->vnodes);
    json_object_set_new(extra, "ring", json_string(ring));
    json_object_set_new(extra, "ring_state", json_string(rstate_names[st->rstate]));
    if (st->gossip) {
        /* this node's SWIM view: member → alive | suspect | dead | left | unknown, with its incarnation */
        int alive, sus_n, dead;
        swim_counts(&st->sw, &alive, &sus_n, &dead);
        json_object_set_new(extra, "members", swim_view_json(&st->sw));
        json_object_set_new(extra, "alive", json_integer(alive));
        json_object_set_new(extra, "inc", json_integer((json_int_t)st->sw.inc));
        json_object_set_new(extra, "probes", json_integer((json_int_t)st->sw.probes));
    }
    return json_pack("{s:s,s:o,s:o,s:o,s:s,s:{s:i,s:i,s:i}}", "role", "replica", "data", data, "extra",
                     extra, "log", log, "log_title", "recent actions (a leaderless node keeps no replicated log)",
                     "ring", "nodes", ring_size(st), "vnodes", st->vnodes, "n", st->n);
}

/* ---- life cycle ------------------------------------------------------------------------- */

static const struct mode_option ll_options[] = {
    {"n", OPT_INT, NULL, 1, CL_MAXN, "3", "replication factor: how many nodes hold each key"},
    {"w", OPT_INT, NULL, 1, CL_MAXN, "2", "acks a write waits for (default; a request may say cl= or w=)"},
    {"r", OPT_INT, NULL, 1, CL_MAXN, "2", "answers a read waits for (default; a request may say cl= or r=)"},
    {"vnodes", OPT_INT, NULL, 1, 256, "8", "tokens (virtual nodes) per node on the ring"},
    {"sloppy", OPT_ENUM, "on|off", 0, 0, "off", "sloppy quorums: stand-ins take writes for down replicas, with hints"},
    {"conflict", OPT_ENUM, "lww|siblings", 0, 0, "lww", "lww: last writer wins by timestamp; siblings: vector clocks, concurrent versions kept"},
    {"read_repair", OPT_ENUM, "blocking|background|off", 0, 0, "blocking", "repair stale replicas a read met, before or after replying"},
    {"request_timeout", OPT_DURATION, NULL, 0, 0, "1s", "a request without its quorum by then fails with error 11"},
    {"replica_timeout", OPT_DURATION, NULL, 0, 0, "200ms", "a replica silent this long is suspected (and, sloppy, replaced)"},
    {"ae_interval", OPT_DURATION, NULL, 0, 0, "1s", "anti-entropy exchange period (0 = off)"},
    {"hint_interval", OPT_DURATION, NULL, 0, 0, "500ms", "how often stand-ins try to hand hints back"},
    {"tombstone_grace", OPT_DURATION, NULL, 0, 0, "10s", "a delete's tombstone is kept at least this long"},
    {"membership", OPT_ENUM, "static|swim|gossip", 0, 0, "static",
     "static: every node of the lab's list is a member; swim (or gossip, its older name): members, deaths and leaves learned by SWIM"},
    {"swim_period", OPT_DURATION, NULL, 10000, 10000000, "200ms", "membership=swim: the protocol period, one member probed per period"},
    {"swim_timeout", OPT_DURATION, NULL, 1000, 5000000, "80ms", "membership=swim: a probe's ack must come within this, else probe_req"},
    {"swim_suspect", OPT_DURATION, NULL, 10000, 60000000, "1s", "membership=swim: a suspect not refuted within this is dead"},
    {"swim_k", OPT_INT, NULL, 0, 8, "3", "membership=swim: members asked to probe indirectly (probe_req)"},
    {"swim_lhm", OPT_ENUM, "on|off", 0, 0, "off", "membership=swim: Lifeguard's local health multiplier"},
    {"join", OPT_ENUM, NULL, 0, 0, "none", "nodes added after the start, which stream their ranges in when they start: a list such as join=n6,n7 (the lab sets it on `join`)"},
    {"removed", OPT_ENUM, NULL, 0, 0, "none", "nodes that left by `decommission`, which hold no range: a list such as removed=n3 (the lab sets it on `decommission`)"},
    {NULL, 0, NULL, 0, 0, NULL, NULL},
};

static void ll_destroy(void *vst)
{
    struct ll *st = vst;
    if (!st)
        return;
    while (st->ops)
        op_free(st, st->ops);
    ae_end(st);
    env_timer_cancel(st->e, st->t_ae);
    env_timer_cancel(st->e, st->t_hint);
    if (st->gossip)
        swim_stop(&st->sw);
    env_timer_cancel(st->e, st->t_stream);
    vtable_clear(&st->data);
    for (int o = 0; o < CL_MAXN; o++)
        vtable_clear(&st->hints[o]);
    for (int i = 0; i < LOG_LINES; i++)
        free(st->lines[i]);
    ring_destroy(&st->ring);
    free(st);
}

/* Is id in the comma-separated list? */
static int id_listed(const char *list, const char *id)
{
    size_t n = strlen(id);
    for (const char *p = list; p && *p;) {
        const char *c = strchr(p, ',');
        size_t len = c ? (size_t)(c - p) : strlen(p);
        if (len == n && !strncmp(p, id, n))
            return 1;
        p = c ? c + 1 : NULL;
    }
    return 0;
}

static int opt_enum_index(const char *v, const char *const *names)
{
    for (int i = 0; names[i]; i++)
        if (!strcmp(v, names[i]))
            return i;
    return 0;
}

static void *ll_create(struct env *e, const struct opts *o, char *err, size_t errlen)
{
    int n = (int)opts_get_int(o, "n", 3);
    int w = (int)opts_get_int(o, "w", 2);
    int r = (int)opts_get_int(o, "r", 2);
    uint64_t req = opts_get_duration(o, "request_timeout", 1000000);
    uint64_t rep = opts_get_duration(o, "replica_timeout", 200000);
    uint64_t hint = opts_get_duration(o, "hint_interval", 500000);
    /* the cross-field rules mode_check_opts cannot see */
    if (n > e->n_nodes) {
        snprintf(err, errlen, "n=%d > %d nodes: each key needs n distinct nodes to hold it", n, e->n_nodes);
        return NULL;
    }
    if (w > n) {
        snprintf(err, errlen, "w=%d > n=%d: a write cannot need more acks than there are replicas", w, n);
        return NULL;
    }
    if (r > n) {
        snprintf(err, errlen, "r=%d > n=%d: a read cannot need more answers than there are replicas", r, n);
        return NULL;
    }
    if (n < 1 || w < 1 || r < 1) {
        snprintf(err, errlen, "n, w and r must be at least 1");
        return NULL;
    }
    if (req == 0 || rep == 0 || hint == 0) {
        snprintf(err, errlen, "request_timeout, replica_timeout and hint_interval must be above 0");
        return NULL;
    }
    struct ll *st = xcalloc(1, sizeof *st);
    static const char *const sloppy[] = {"off", "on", NULL};
    static const char *const conflict[] = {"lww", "siblings", NULL};
    static const char *const rr[] = {"blocking", "background", "off", NULL};
    st->e = e;
    st->n = n;
    st->w = w;
    st->r = r;
    st->vnodes = (int)opts_get_int(o, "vnodes", 8);
    if (st->vnodes < 1)
        st->vnodes = 1;
    st->sloppy = opt_enum_index(opts_get(o, "sloppy", "off"), sloppy);
    st->conflict = opt_enum_index(opts_get(o, "conflict", "lww"), conflict);
    st->read_repair = opt_enum_index(opts_get(o, "read_repair", "blocking"), rr);
    st->request_timeout = req;
    st->replica_timeout = rep;
    st->hint_interval = hint;
    st->ae_interval = opts_get_duration(o, "ae_interval", 1000000);
    st->tomb_grace = opts_get_duration(o, "tombstone_grace", 10000000);
    const char *bug = opts_get(o, "bug", "none");
    st->bug_unsynced_ack = !strcmp(bug, "unsynced-ack");
    st->bug_hint_on_send = !strcmp(bug, "hint-delete-on-send");
    /* op ids differ between incarnations, so late answers to a previous life are ignored */
    st->next_op = (env_rand(e) & 0xffffffffull) << 20;
    st->ring = ring_new(e->n_nodes, st->vnodes);
    if (!st->ring) {
        snprintf(err, errlen, "%d nodes x %d vnodes: a ring has 1 to %d nodes", e->n_nodes, st->vnodes, CL_MAXN);
        free(st);
        return NULL;
    }
    if (load_state(st, err, errlen) < 0) {
        ll_destroy(st);
        return NULL;
    }
    const char *mship = opts_get(o, "membership", "static");
    st->gossip = !strcmp(mship, "swim") || !strcmp(mship, "gossip");
    if (st->gossip) {
        struct swim_cfg cfg = {
            .period_us = opts_get_duration(o, "swim_period", 200000),
            .timeout_us = opts_get_duration(o, "swim_timeout", 80000),
            .suspect_us = opts_get_duration(o, "swim_suspect", 1000000),
            .k = (int)opts_get_int(o, "swim_k", 3),
            .lambda = 3,
            .lhm = !strcmp(opts_get(o, "swim_lhm", "off"), "on"),
            .timer_base = T_SWIM,
            .newcomers_unknown = 1,
            .announce = 1,
            .blob = "swim_inc",
            .on_change = on_member,
            .ud = st,
        };
        if (swim_init(&st->sw, e, &cfg, err, errlen) < 0) {
            st->gossip = 0;
            ll_destroy(st);
            return NULL;
        }
        st->ring_dirty = 1;
    }
    /* a node the lab added (option join) streams its ranges in, once; so does a node that
     * left and is started again (it comes back into the ring), and a joiner restarted before
     * it finished; a leaver restarted before it finished goes on leaving */
    char *rs = NULL, was[16] = "";
    size_t rslen = 0;
    int had = e->ops->blob_get(e, "ring_state", &rs, &rslen) == 0;
    if (had) {
        memcpy(was, rs, rslen < sizeof was - 1 ? rslen : sizeof was - 1);
        free(rs);
    }
    if (!strcmp(was, "left") || !strcmp(was, "joining") ||
        (!had && id_listed(opts_get(o, "join", "none"), e->self)))
        st->rstate = RS_JOINING;
    else if (!strcmp(was, "leaving") && st->gossip)
        st->rstate = RS_LEAVING;
    return st;
}

static void ll_start(void *vst)
{
    struct ll *st = vst;
    if (st->ae_interval)
        st->t_ae = env_timer_set(st->e, jitter(st, st->ae_interval), T_AE, 0);
    st->t_hint = env_timer_set(st->e, jitter(st, st->hint_interval), T_HINT, 0);
    if (st->rstate == RS_LEAVING) {
        swim_leave(&st->sw); /* restarted while leaving: it goes on leaving */
        st->ring_dirty = 1;
    }
    if (st->gossip)
        swim_begin(&st->sw);
    if (st->rstate != RS_NORMAL)
        stream_begin(st, st->rstate);
    else
        save_rstate(st);
}

static const struct mode_handler ll_handlers[] = {
    {"read", on_read},
    {"write", on_write},
    {"delete", on_delete},
    {"cas", on_cas},
    {"ll_write", on_ll_write},
    {"ll_write_ok", on_ll_write_ok},
    {"ll_read", on_ll_read},
    {"ll_read_ok", on_ll_read_ok},
    {"ll_ping", on_ll_ping},
    {"ll_pong", on_ll_pong},
    {"ll_handoff", on_ll_handoff},
    {"ll_handoff_ok", on_ll_handoff_ok},
    {"ae_root", on_ae_root},
    {"ae_diff", on_ae_diff},
    {"ae_push", on_ae_push},
    {"ae_pull", on_ae_pull},
    {"ll_stream_req", on_ll_stream_req},
    {"ll_stream", on_ll_stream},
    {"ll_stream_ok", on_ll_stream_ok},
    {"probe", on_probe},
    {"probe_req", on_probe_req},
    {"probe_ack", on_probe_ack},
    {NULL, NULL},
};

/* ---- the face (mode.h) ------------------------------------------------------------------ */

static const struct mode_role ll_roles[] = {
    {"replica", RC_PEER},
    {NULL, RC_UNKNOWN},
};

static const struct mode_figure ll_figures[] = {
    {"extra.keys", "keys", "keys="},
    {"extra.hints_pending", "hints", "hints="},
    {"extra.ring_state", "ring", NULL},
    {NULL, NULL, NULL},
};

/* A key lives on the first n nodes of its preference list (the ring every node builds). */
static int ll_replicas(const struct opts *o, int nodes, const char *key, int out[CL_MAXN])
{
    /* nodes that left (option removed, set by the lab on `decommission`) hold no range */
    int member[CL_MAXN] = {0};
    const char *removed = opts_get(o, "removed", "none");
    for (int i = 0; i < nodes && i < CL_MAXN; i++) {
        char id[CL_IDLEN];
        node_name(i, id);
        member[i] = !id_listed(removed, id);
    }
    struct ring *ring = nodes <= CL_MAXN ? ring_new_of(nodes, member, (int)opts_get_int(o, "vnodes", 8)) : NULL;
    if (!ring)
        return 0;
    int pref[CL_MAXN];
    int k = ring_replicas(ring, key, pref);
    ring_destroy(&ring);
    int n = (int)opts_get_int(o, "n", 3);
    if (n > k)
        n = k;
    for (int i = 0; i < n; i++)
        out[i] = pref[i];
    return n;
}

const struct mode mode_leaderless = {
    .name = "leaderless",
    .summary = "Dynamo-style: a hash ring, tunable n/w/r quorums, read repair, hinted handoff, anti-entropy",
    .options = ll_options,
    .bugs = "unsynced-ack|hint-delete-on-send",
    .handlers = ll_handlers,
    .commands = ll_commands,
    .create = ll_create,
    .start = ll_start,
    .destroy = ll_destroy,
    .on_timer = ll_on_timer,
    .status = ll_status,
    .workload = "lin-kv",
    .roles = ll_roles,
    .figures = ll_figures,
    .replicas = ll_replicas,
    .events = "apply|quorum|repair|hint|antientropy|tombstone|error|member|refute|stream",
    .compare_as = "leaderless",
    .compare_opts = "w=2 r=2",
    .join_option = "join",
    .leave_option = "removed",
    .max_nodes = CL_MAXN,   /* the ring's per-node tables: 16 (start offers 9 to a mode without this) */
};
