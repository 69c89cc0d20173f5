/* eventstore — event sourcing: an append-only store of events in streams, with optimistic
 * concurrency, replay, snapshots and a projection, replicated from a primary to its replicas.
 *
 *   n1 primary      takes appends. An append names a stream, an event type, its data and the
 *                   version it expects the stream to be at (optimistic concurrency: the writer
 *                   read version N and decided from it). A stale expectation is refused with
 *                   error 22, naming the stream's version now; nothing is written. Otherwise
 *                   the event gets version N+1 and the next position of the log, is appended
 *                   to the durable log (fsync) and sent to the replicas; the client hears
 *                   append_ok once a majority of the nodes (the primary included) hold it
 *                   durably: it is then committed and survives any minority of crashes.
 *   n2.. replicas   keep the same log (the kit's rlog: position = index, epoch = term), fsync
 *                   before they acknowledge, and apply committed events like the primary.
 *
 * Every node applies the committed prefix in log order: the stream's aggregate (esevent.h:
 * the fold of its events) and, every `snapshot=K` events of a stream, a durable snapshot of the
 * aggregate, from which a restarted node rebuilds instead of folding from version 1. A
 * projection (a read model over every stream: counts per type, last type per stream) follows
 * the committed log in batches of `catchup=N` events per tick: after a restart or a `projection
 * NODE rebuild` it replays from position 0 and catches up, then keeps up live.
 *
 * Replication (one message each way, the log matching rule of Raft with a fixed primary):
 *   es_repl     primary -> replica: epoch, prev/prev_epoch, entries [{e,r}] (r = the event's
 *               record, esevent.h), commit. Sent for every append and on every tick.
 *   es_repl_ok  replica -> primary: ok + match (its log equals the primary's up to match), or
 *               !ok + hint (resend from hint+1).
 * A replica appends only after prev/prev_epoch match its log, cutting a conflicting suffix
 * first; its commit is min(the primary's commit, match). The primary starts a new epoch
 * (durable, es.state) on every start, so entries it lost are told apart from those it wrote.
 *
 * Invariants (the monitor, esmon.c): no two events at one stream version; one event per log
 * position on every node; an event appended with an expected version N has version N+1; a
 * node comes back from a crash holding every position it committed; a snapshot equals the
 * fold of its stream's events; a projection equals a replay of the log up to its position.
 *
 * Bug toggles: no-occ — the version check is skipped: two writers that both read version N
 * both write version N+1 (two events at one version). no-fsync — the primary acknowledges an
 * append as soon as it is in its memory: no fsync, no replica: a crash loses acknowledged
 * events. stale-snapshot — a snapshot is taken before the event it is labelled with is folded
 * (an off-by-one): a node rebuilt from it misses that event. projection-skip — a catch-up batch
 * of more than one event skips its last one.
 *
 * Durable state: the log "es.log" (one record per position: {"e":epoch,"r":record}), the blob
 * "es.state" {"epoch"} (primary) and the blob "es.snaps" {stream:{"v","pos","state"}}.
 * Roles: primary (everything committed) / committing; replica.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "es.h"
#include "jtext.h"
#include "mode.h"
#include "rlog.h"

#define LOG_NAME "es.log"
#define STATE_NAME "es.state"
#define SNAPS_NAME "es.snaps"
#define TICK_US 100000
#define BATCH 64
#define MAX_EVENTS 1000000
#define READ_MAX 1000

enum { BUG_NO_OCC = 1, BUG_NO_FSYNC = 2, BUG_STALE_SNAPSHOT = 4, BUG_PROJECTION_SKIP = 8 };
enum { TM_TICK = 1, TM_FLUSH = 2 };

struct es {
    struct env *e;
    int primary;
    unsigned bugs;
    long snap_every, catchup;
    struct rlog log;            /* entries: key = stream, value = the event's record */
    uint64_t epoch, commit, applied, synced;
    uint64_t t_flush;           /* the group commit's timer (0 delay): one fsync for every append before it */
    uint64_t leader_commit;     /* replica: the primary's commit, as last heard */
    uint64_t ack_match;         /* replica: the match to acknowledge once synced */
    int ack_due;
    uint64_t match[CL_MAXN], next[CL_MAXN];
    json_t *ver;                /* primary: stream -> its version in the log (uncommitted too) */
    json_t *streams;            /* stream -> {"v","pos","state"}: the aggregate of the committed events */
    json_t *snaps;              /* stream -> {"v","pos","state"}: durable snapshots */
    json_t *pending;            /* primary: "pos" -> {"src","body"}: clients waiting for a commit */
    json_t *proj;               /* the projection */
    uint64_t proj_pos;
    uint64_t appends, conflicts, snapshots;
    char shown[16];
};

/* ---- helpers ------------------------------------------------------------------------------------ */

static json_t *cmd_reply(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static json_t *cmd_reply(int ok, const char *fmt, ...)
{
    struct sb b = {0};
    va_list ap;
    va_start(ap, fmt);
    sb_vprintf(&b, fmt, ap);
    va_end(ap);
    json_t *r = json_pack("{s:b,s:s}", "ok", ok, "text", b.s ? b.s : "");
    sb_free(&b);
    return r;
}

static const char *role_now(const struct es *st)
{
    return st->primary ? (st->commit < rlog_last(&st->log) ? "committing" : "primary") : "replica";
}

static void emit_role(struct es *st)
{
    const char *r = role_now(st);
    if (!strcmp(r, st->shown))
        return;
    str_copy(st->shown, r, sizeof st->shown);
    env_event(st->e, "state", json_pack("{s:s,s:I,s:s}", "role", r, "term", (json_int_t)st->epoch, "leader", st->e->nodes[0]));
}

static int majority(const struct es *st)
{
    return st->e->n_nodes / 2 + 1;
}

/* The decoded event at position pos (0 when it decodes; the log only holds what was checked). */
static int event_at(const struct es *st, uint64_t pos, struct es_event *ev)
{
    const struct rlog_entry *en = rlog_at(&st->log, pos);
    char err[160];
    if (!en || !en->value)
        return -1;
    return es_decode_record(en->value, strlen(en->value), ev, err, sizeof err);
}

static void send_repl(struct es *st, int k, uint64_t from);
static void advance_commit(struct es *st);
static void apply_committed(struct es *st);

static void arm_flush(struct es *st)
{
    if (!st->t_flush)
        st->t_flush = env_timer_set(st->e, 0, TM_FLUSH, 0);
}

/* A replica commits what the primary committed, what matches its log and what is on its disk:
 * never more than a restart would give back. */
static void replica_commit(struct es *st)
{
    uint64_t c = st->leader_commit;
    if (c > st->ack_match)
        c = st->ack_match;
    if (c > st->synced)
        c = st->synced;
    if (c > st->commit) {
        st->commit = c;
        apply_committed(st);
    }
}

/* The group commit: one fsync for every record appended since the last, then what waited on
 * it (the primary's commit, a replica's acknowledgement). */
static void flush(struct es *st)
{
    st->t_flush = 0;
    if (rlog_last(&st->log) > st->synced && !(st->primary && (st->bugs & BUG_NO_FSYNC))) {
        st->e->ops->log_sync(st->e, LOG_NAME);
        st->synced = rlog_last(&st->log);
    }
    if (st->primary) {
        advance_commit(st);
        return;
    }
    if (st->ack_due && st->synced >= st->ack_match) {
        st->ack_due = 0;
        env_send(st->e, st->e->nodes[0],
                 json_pack("{s:s,s:b,s:I}", "type", "es_repl_ok", "ok", 1, "match", (json_int_t)st->ack_match));
    }
    replica_commit(st);
}

/* ---- the log ----------------------------------------------------------------------------------- */

static void persist_entry(struct es *st, uint64_t epoch, const char *record)
{
    json_t *r = json_pack("{s:I,s:s}", "e", (json_int_t)epoch, "r", record);
    char *s = json_dumps(r, JSON_COMPACT);
    st->e->ops->log_append(st->e, LOG_NAME, s, strlen(s));
    free(s);
    json_decref(r);
}

static uint64_t push_entry(struct es *st, uint64_t epoch, const char *stream, const char *record)
{
    struct rlog_entry en = {0};
    en.term = epoch;
    en.type = KV_PUT;
    en.key = xstrdup(stream);
    en.value = xstrdup(record);
    return rlog_push(&st->log, &en);
}

static void save_snaps(struct es *st)
{
    char *s = json_dumps(st->snaps, JSON_COMPACT);
    st->e->ops->blob_put(st->e, SNAPS_NAME, s, strlen(s));
    free(s);
}

/* ---- applying committed events: aggregates, snapshots, replies --------------------------------- */

static void take_snapshot(struct es *st, const struct es_event *ev, uint64_t pos, const json_t *state)
{
    json_t *snap = json_pack("{s:I,s:I,s:o}", "v", (json_int_t)ev->v, "pos", (json_int_t)pos, "state", json_deep_copy(state));
    json_t *was = json_object_get(st->snaps, ev->stream);
    if (was && json_integer_value(json_object_get(was, "pos")) >= (json_int_t)pos) {
        json_decref(snap);
        return;
    }
    char dg[17];
    es_digest(state, dg);
    json_object_set_new(st->snaps, ev->stream, snap);
    save_snaps(st);
    st->snapshots++;
    env_event(st->e, "snapshotted", json_pack("{s:s,s:I,s:I,s:s}", "stream", ev->stream, "v", (json_int_t)ev->v, "pos",
                                              (json_int_t)pos, "digest", dg));
}

static void apply_one(struct es *st, uint64_t pos)
{
    struct es_event ev;
    if (event_at(st, pos, &ev) < 0)
        return;
    json_t *agg = json_object_get(st->streams, ev.stream);
    if (!agg) {
        agg = json_pack("{s:i,s:i,s:{}}", "v", 0, "pos", 0, "state");
        json_object_set_new(st->streams, ev.stream, agg);
    }
    env_event(st->e, "committed", json_pack("{s:s,s:I,s:s,s:I,s:O}", "stream", ev.stream, "v", (json_int_t)ev.v,
                                            "type", ev.type, "pos", (json_int_t)pos, "data", ev.data));
    if ((json_int_t)pos > json_integer_value(json_object_get(agg, "pos"))) {
        json_t *state = json_object_get(agg, "state");
        int snap = st->snap_every > 0 && ev.v % (uint64_t)st->snap_every == 0;
        if (snap && (st->bugs & BUG_STALE_SNAPSHOT))
            take_snapshot(st, &ev, pos, state); /* the bug: before this event is folded */
        es_fold(state, ev.type, ev.v, ev.data);
        json_object_set_new(agg, "v", json_integer((json_int_t)ev.v));
        json_object_set_new(agg, "pos", json_integer((json_int_t)pos));
        if (snap && !(st->bugs & BUG_STALE_SNAPSHOT))
            take_snapshot(st, &ev, pos, state);
    }
    es_event_clear(&ev);
}

static void answer_pending(struct es *st)
{
    const char *k;
    json_t *p, *tmp;
    json_object_foreach_safe(st->pending, tmp, k, p) {
        uint64_t pos;
        if (parse_u64(k, &pos) < 0 || pos > st->commit)
            continue;
        const json_t *body = json_object_get(p, "body");
        json_t *rep = json_pack("{s:s,s:O,s:O,s:I}", "type", "append_ok", "stream", json_object_get(p, "stream"),
                                "version", json_object_get(p, "version"), "pos", (json_int_t)pos);
        env_reply(st->e, json_string_value(json_object_get(p, "src")), body, rep);
        json_object_del(st->pending, k);
    }
}

static void apply_committed(struct es *st)
{
    while (st->applied < st->commit && st->applied < rlog_last(&st->log))
        apply_one(st, ++st->applied);
    if (st->primary)
        answer_pending(st);
    emit_role(st);
}

static void advance_commit(struct es *st)
{
    if (!st->primary)
        return;
    uint64_t c = st->commit;
    if (st->bugs & BUG_NO_FSYNC) {
        c = rlog_last(&st->log);
    } else {
        for (uint64_t i = rlog_last(&st->log); i > st->commit; i--) {
            int have = st->synced >= i;
            for (int k = 1; k < st->e->n_nodes; k++)
                have += st->match[k] >= i;
            if (have >= majority(st)) {
                c = i;
                break;
            }
        }
    }
    if (c > st->commit) {
        st->commit = c;
        apply_committed(st);
        for (int k = 1; k < st->e->n_nodes; k++) /* the replicas learn the commit now, not a tick later */
            if (st->next[k] > rlog_last(&st->log))
                send_repl(st, k, st->next[k]);
    }
}

/* ---- the projection ---------------------------------------------------------------------------- */

static void project_tick(struct es *st)
{
    uint64_t upto = st->applied, start = st->proj_pos;
    if (start >= upto)
        return;
    long budget = st->catchup;
    uint64_t end = start + (uint64_t)budget < upto ? start + (uint64_t)budget : upto;
    for (uint64_t p = start + 1; p <= end; p++) {
        if ((st->bugs & BUG_PROJECTION_SKIP) && end - start > 1 && p == end)
            break; /* the bug: the batch's last event is counted, never folded */
        struct es_event ev;
        if (event_at(st, p, &ev) == 0)
            es_project(st->proj, ev.stream, ev.type);
        es_event_clear(&ev);
    }
    st->proj_pos = end;
    char dg[17];
    env_event(st->e, "projected", json_pack("{s:I,s:I,s:s,s:I}", "pos", (json_int_t)end, "from", (json_int_t)start,
                                            "digest", es_digest(st->proj, dg), "lag", (json_int_t)(upto - end)));
}

static void projection_reset(struct es *st)
{
    json_decref(st->proj);
    st->proj = json_object();
    st->proj_pos = 0;
    env_event(st->e, "projected", json_pack("{s:i,s:i,s:s,s:I}", "pos", 0, "from", 0, "digest", "rebuild", "lag",
                                            (json_int_t)st->applied));
}

/* ---- replication ------------------------------------------------------------------------------- */

static void send_repl(struct es *st, int k, uint64_t from)
{
    if (from < 1)
        from = 1;
    uint64_t last = rlog_last(&st->log);
    json_t *ents = json_array();
    for (uint64_t i = from; i <= last && i < from + BATCH; i++) {
        const struct rlog_entry *en = rlog_at(&st->log, i);
        json_array_append_new(ents, json_pack("{s:I,s:s}", "e", (json_int_t)en->term, "r", en->value));
    }
    size_t n = json_array_size(ents);
    env_send(st->e, st->e->nodes[k],
             json_pack("{s:s,s:I,s:I,s:I,s:o,s:I}", "type", "es_repl", "epoch", (json_int_t)st->epoch, "prev",
                       (json_int_t)(from - 1), "prev_epoch", (json_int_t)rlog_term_at(&st->log, from - 1), "entries", ents,
                       "commit", (json_int_t)st->commit));
    if (from + n > st->next[k])
        st->next[k] = from + n;
}

static void replicate_all(struct es *st)
{
    for (int k = 1; k < st->e->n_nodes; k++)
        if (st->next[k] <= rlog_last(&st->log))
            send_repl(st, k, st->next[k]);
}

/* A replica cut its log back below what it had applied: its aggregates and projection are
 * rebuilt from the snapshots that are still below the cut and the log. */
static void rebuild_below(struct es *st, uint64_t cut)
{
    const char *k;
    json_t *v, *tmp;
    json_object_foreach_safe(st->snaps, tmp, k, v)
        if ((uint64_t)json_integer_value(json_object_get(v, "pos")) >= cut)
            json_object_del(st->snaps, k);
    save_snaps(st);
    json_decref(st->streams);
    st->streams = json_deep_copy(st->snaps);
    st->applied = 0;
    if (st->commit >= cut)
        st->commit = cut - 1;
    projection_reset(st);
}

static void on_repl(void *vst, const char *src, const json_t *body)
{
    struct es *st = vst;
    const json_t *ents = json_object_get(body, "entries");
    const json_t *jp = json_object_get(body, "prev"), *jpe = json_object_get(body, "prev_epoch");
    const json_t *jc = json_object_get(body, "commit"), *je = json_object_get(body, "epoch");
    if (st->primary || env_node_index(st->e, src) != 0 || !json_is_array(ents) || json_array_size(ents) > BATCH ||
        !json_is_integer(jp) || !json_is_integer(jpe) || !json_is_integer(jc) || !json_is_integer(je) ||
        json_integer_value(jp) < 0 || json_integer_value(jc) < 0 || json_integer_value(je) < 0)
        return;
    uint64_t prev = (uint64_t)json_integer_value(jp), last = rlog_last(&st->log);
    if ((uint64_t)json_integer_value(je) > st->epoch) {
        st->epoch = (uint64_t)json_integer_value(je);
        st->shown[0] = 0; /* a new epoch of the primary: say so */
        emit_role(st);
    }
    if (prev > last || rlog_term_at(&st->log, prev) != (uint64_t)json_integer_value(jpe)) {
        uint64_t hint = prev > last ? last : (prev ? prev - 1 : 0);
        env_send(st->e, src, json_pack("{s:s,s:b,s:I}", "type", "es_repl_ok", "ok", 0, "hint", (json_int_t)hint));
        return;
    }
    size_t i;
    const json_t *en;
    int wrote = 0;
    uint64_t idx = prev;
    json_array_foreach(ents, i, en) {
        const json_t *ee = json_object_get(en, "e");
        const char *rec = json_string_value(json_object_get(en, "r"));
        struct es_event ev;
        char err[160];
        if (!json_is_integer(ee) || json_integer_value(ee) < 0 || !rec ||
            es_decode_record(rec, strlen(rec), &ev, err, sizeof err) < 0)
            break; /* a malformed entry: keep what came before it */
        idx++;
        uint64_t e = (uint64_t)json_integer_value(ee);
        if (idx <= rlog_last(&st->log) && rlog_term_at(&st->log, idx) == e) {
            es_event_clear(&ev);
            continue;
        }
        if (idx <= rlog_last(&st->log)) {
            env_event(st->e, "truncated", json_pack("{s:I,s:I}", "from", (json_int_t)idx, "last",
                                                    (json_int_t)rlog_last(&st->log)));
            rlog_truncate(&st->log, idx);
            st->e->ops->log_truncate(st->e, LOG_NAME, idx - 1);
            if (st->synced >= idx)
                st->synced = idx - 1;
            if (st->applied >= idx)
                rebuild_below(st, idx);
        }
        push_entry(st, e, ev.stream, rec);
        persist_entry(st, e, rec);
        es_event_clear(&ev);
        wrote = 1;
    }
    if ((uint64_t)json_integer_value(jc) > st->leader_commit)
        st->leader_commit = (uint64_t)json_integer_value(jc);
    st->ack_match = idx;
    if (wrote || st->synced < idx) {
        st->ack_due = 1; /* acknowledged once synced: the group commit's flush */
        arm_flush(st);
    } else {
        env_send(st->e, src, json_pack("{s:s,s:b,s:I}", "type", "es_repl_ok", "ok", 1, "match", (json_int_t)idx));
    }
    replica_commit(st);
}

static void on_repl_ok(void *vst, const char *src, const json_t *body)
{
    struct es *st = vst;
    int k = env_node_index(st->e, src);
    const json_t *jm = json_object_get(body, "match"), *jh = json_object_get(body, "hint");
    if (!st->primary || k <= 0)
        return;
    if (json_is_true(json_object_get(body, "ok")) && json_is_integer(jm) && json_integer_value(jm) >= 0 &&
        (uint64_t)json_integer_value(jm) <= rlog_last(&st->log)) {
        uint64_t m = (uint64_t)json_integer_value(jm);
        if (m > st->match[k])
            st->match[k] = m;
        if (st->next[k] < m + 1)
            st->next[k] = m + 1;
        advance_commit(st);
        if (st->next[k] <= rlog_last(&st->log) && m + 1 == st->next[k])
            send_repl(st, k, st->next[k]);
    } else if (json_is_false(json_object_get(body, "ok")) && json_is_integer(jh) && json_integer_value(jh) >= 0) {
        uint64_t h = (uint64_t)json_integer_value(jh);
        if (h > rlog_last(&st->log))
            h = rlog_last(&st->log);
        st->next[k] = h + 1;
        if (st->match[k] > h)
            st->match[k] = h;
        send_repl(st, k, st->next[k]);
    }
}

/* ---- appends ----------------------------------------------------------------------------------- */

/* Appends ev on the primary. 0 and *pos; or an error code with why (22: a stale expectation,
 * *cur the stream's version now). */
static int do_append(struct es *st, struct es_event *ev, uint64_t *pos, int64_t *cur, char *why, size_t whylen)
{
    if (rlog_last(&st->log) >= MAX_EVENTS) {
        snprintf(why, whylen, "the store is full (%d events)", MAX_EVENTS);
        return ERR_TEMPORARILY_UNAVAILABLE;
    }
    int64_t now = (int64_t)json_integer_value(json_object_get(st->ver, ev->stream));
    *cur = now;
    if (ev->expected >= 0 && ev->expected != now && !(st->bugs & BUG_NO_OCC)) {
        st->conflicts++;
        snprintf(why, whylen,
                 "version conflict on stream %s: it is at version %lld, you expected %lld — another writer appended first; "
                 "read the stream again and decide from what is there",
                 ev->stream, (long long)now, (long long)ev->expected);
        env_event(st->e, "conflict", json_pack("{s:s,s:I,s:I}", "stream", ev->stream, "expected",
                                               (json_int_t)ev->expected, "version", (json_int_t)now));
        return ERR_PRECONDITION_FAILED;
    }
    /* with no-occ the writer's own idea of the version wins: two writers of N+1 both write it */
    ev->v = (uint64_t)(ev->expected >= 0 && (st->bugs & BUG_NO_OCC) ? ev->expected + 1 : now + 1);
    char *rec = es_encode_record(ev);
    *pos = push_entry(st, st->epoch, ev->stream, rec);
    persist_entry(st, st->epoch, rec);
    free(rec);
    if (!(st->bugs & BUG_NO_FSYNC))
        arm_flush(st); /* fsynced with every other append of this turn, then counted */
    if ((int64_t)ev->v > now)
        json_object_set_new(st->ver, ev->stream, json_integer((json_int_t)ev->v));
    st->appends++;
    env_event(st->e, "appended", json_pack("{s:s,s:I,s:I,s:s,s:I}", "stream", ev->stream, "v", (json_int_t)ev->v,
                                           "expected", (json_int_t)ev->expected, "type", ev->type, "pos",
                                           (json_int_t)*pos));
    return 0;
}

static void on_append(void *vst, const char *src, const json_t *body)
{
    struct es *st = vst;
    if (!st->primary) {
        char t[120];
        snprintf(t, sizeof t, "appends go to the primary %s", st->e->nodes[0]);
        env_reply_error(st->e, src, body, ERR_TEMPORARILY_UNAVAILABLE, t, st->e->nodes[0]);
        return;
    }
    struct es_event ev;
    char err[200];
    if (es_decode_append(body, &ev, err, sizeof err) < 0) {
        env_reply_error(st->e, src, body, ERR_MALFORMED_REQUEST, err, NULL);
        return;
    }
    uint64_t pos = 0;
    int64_t cur = 0;
    int code = do_append(st, &ev, &pos, &cur, err, sizeof err);
    if (code == ERR_PRECONDITION_FAILED) {
        env_reply(st->e, src, body, json_pack("{s:s,s:i,s:s,s:s,s:I}", "type", "error", "code", code, "text", err,
                                              "stream", ev.stream, "version", (json_int_t)cur));
    } else if (code) {
        env_reply_error(st->e, src, body, code, err, NULL);
    } else {
        char k[24];
        snprintf(k, sizeof k, "%llu", (unsigned long long)pos);
        json_object_set_new(st->pending, k, json_pack("{s:s,s:O,s:s,s:I}", "src", src, "body", body, "stream", ev.stream,
                                                      "version", (json_int_t)ev.v));
        replicate_all(st);
        advance_commit(st);
        emit_role(st);
    }
    es_event_clear(&ev);
}

/* ---- reads ------------------------------------------------------------------------------------- */

/* A stream named in a client body: a string, or a whole number as its digits (into buf). */
static const char *stream_arg(const json_t *v, char *buf, size_t len)
{
    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        snprintf(buf, len, "%lld", (long long)json_integer_value(v));
        return buf;
    }
    return json_string_value(v);
}

/* read {key: STREAM}: the stream's committed version on this node (its aggregate in "state"). */
static void on_read(void *vst, const char *src, const json_t *body)
{
    struct es *st = vst;
    char num[24];
    const char *key = stream_arg(json_object_get(body, "key"), num, sizeof num);
    if (!key) {
        env_reply_error(st->e, src, body, ERR_MALFORMED_REQUEST, "read needs a string \"key\": a stream name", NULL);
        return;
    }
    const json_t *agg = json_object_get(st->streams, key);
    if (!agg || !json_integer_value(json_object_get(agg, "v"))) {
        env_reply_error(st->e, src, body, ERR_KEY_DOES_NOT_EXIST, "no such stream here (nothing committed in it)", NULL);
        return;
    }
    env_reply(st->e, src, body, json_pack("{s:s,s:O,s:O}", "type", "read_ok", "value", json_object_get(agg, "v"), "state",
                                          json_object_get(agg, "state")));
}

/* read_stream {stream, from?}: the stream's committed events from version `from` (default 1). */
static void on_read_stream(void *vst, const char *src, const json_t *body)
{
    struct es *st = vst;
    char num[24];
    const char *s = stream_arg(json_object_get(body, "stream"), num, sizeof num);
    const json_t *jf = json_object_get(body, "from");
    if (!s || !es_valid_name(s, ES_STREAM_MAX) || (jf && (!json_is_integer(jf) || json_integer_value(jf) < 1))) {
        env_reply_error(st->e, src, body, ERR_MALFORMED_REQUEST,
                        "read_stream needs a valid string \"stream\" and, optionally, a version \"from\" of 1 or more", NULL);
        return;
    }
    uint64_t from = jf ? (uint64_t)json_integer_value(jf) : 1;
    json_t *evs = json_array();
    for (uint64_t p = 1; p <= st->applied && json_array_size(evs) < READ_MAX; p++) {
        const struct rlog_entry *en = rlog_at(&st->log, p);
        struct es_event ev;
        if (!en || strcmp(en->key, s) || event_at(st, p, &ev) < 0)
            continue;
        if (ev.v >= from)
            json_array_append_new(evs, json_pack("{s:I,s:s,s:O,s:I}", "v", (json_int_t)ev.v, "type", ev.type, "data",
                                                 ev.data, "pos", (json_int_t)p));
        es_event_clear(&ev);
    }
    const json_t *agg = json_object_get(st->streams, s);
    env_reply(st->e, src, body, json_pack("{s:s,s:s,s:I,s:o}", "type", "read_stream_ok", "stream", s, "version",
                                          agg ? json_integer_value(json_object_get(agg, "v")) : 0, "events", evs));
}

/* ---- timers ------------------------------------------------------------------------------------ */

static void es_on_timer(void *vst, int kind, uint64_t arg)
{
    struct es *st = vst;
    (void)arg;
    if (kind == TM_FLUSH) {
        flush(st);
        return;
    }
    if (st->primary)
        for (int k = 1; k < st->e->n_nodes; k++)
            send_repl(st, k, st->match[k] + 1); /* heartbeat, commit, and whatever was lost */
    project_tick(st);
    env_timer_set(st->e, TICK_US, TM_TICK, 0);
}

/* ---- life cycle -------------------------------------------------------------------------------- */

struct loader {
    struct es *st;
    int bad;
};

static void load_rec(void *ud, const void *data, size_t len)
{
    struct loader *l = ud;
    if (l->bad)
        return;
    json_t *r = json_loadb(data, len, 0, NULL);
    const json_t *e = json_object_get(r, "e");
    const char *rec = json_string_value(json_object_get(r, "r"));
    struct es_event ev;
    char err[160];
    if (!json_is_integer(e) || json_integer_value(e) < 0 || !rec || es_decode_record(rec, strlen(rec), &ev, err, sizeof err) < 0) {
        l->bad = 1; /* a torn tail: nothing after it counts */
        json_decref(r);
        return;
    }
    push_entry(l->st, (uint64_t)json_integer_value(e), ev.stream, rec);
    if ((int64_t)ev.v > json_integer_value(json_object_get(l->st->ver, ev.stream)))
        json_object_set_new(l->st->ver, ev.stream, json_integer((json_int_t)ev.v));
    if ((uint64_t)json_integer_value(e) > l->st->epoch)
        l->st->epoch = (uint64_t)json_integer_value(e);
    es_event_clear(&ev);
    json_decref(r);
}

static void load_snaps(struct es *st)
{
    char *data = NULL;
    size_t len = 0;
    if (st->e->ops->blob_get(st->e, SNAPS_NAME, &data, &len) != 0)
        return;
    json_t *j = json_loadb(data, len, 0, NULL);
    free(data);
    const char *k;
    json_t *v;
    json_object_foreach(j, k, v) {
        const json_t *jv = json_object_get(v, "v"), *jp = json_object_get(v, "pos"), *js = json_object_get(v, "state");
        if (!es_valid_name(k, ES_STREAM_MAX) || !json_is_integer(jv) || !json_is_integer(jp) || !json_is_object(js) ||
            json_integer_value(jp) < 1 || (uint64_t)json_integer_value(jp) > rlog_last(&st->log))
            continue; /* a snapshot of events this log no longer holds is no snapshot */
        json_object_set(st->snaps, k, v);
    }
    json_decref(j);
}

static void *es_create(struct env *e, const struct opts *o, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    struct es *st = xcalloc(1, sizeof *st);
    st->e = e;
    st->primary = e->self_idx == 0;
    const char *bug = opts_get(o, "bug", "");
    if (mode_listed(bug, "no-occ"))
        st->bugs |= BUG_NO_OCC;
    if (mode_listed(bug, "no-fsync"))
        st->bugs |= BUG_NO_FSYNC;
    if (mode_listed(bug, "stale-snapshot"))
        st->bugs |= BUG_STALE_SNAPSHOT;
    if (mode_listed(bug, "projection-skip"))
        st->bugs |= BUG_PROJECTION_SKIP;
    st->snap_every = opts_get_int(o, "snapshot", 10);
    st->catchup = opts_get_int(o, "catchup", 100);
    st->ver = json_object();
    st->snaps = json_object();
    st->pending = json_object();
    st->proj = json_object();
    struct loader l = {st, 0};
    e->ops->log_read(e, LOG_NAME, load_rec, &l);
    if (l.bad) /* drop the torn tail on disk too, so that appends follow the good prefix */
        e->ops->log_truncate(e, LOG_NAME, rlog_last(&st->log));
    st->synced = rlog_last(&st->log);
    char *data = NULL;
    size_t len = 0;
    if (e->ops->blob_get(e, STATE_NAME, &data, &len) == 0) {
        json_t *j = json_loadb(data, len, 0, NULL);
        if (json_integer_value(json_object_get(j, "epoch")) > (json_int_t)st->epoch)
            st->epoch = (uint64_t)json_integer_value(json_object_get(j, "epoch"));
        json_decref(j);
        free(data);
    }
    if (st->primary) {
        st->epoch++;
        char b[48];
        snprintf(b, sizeof b, "{\"epoch\":%llu}", (unsigned long long)st->epoch);
        e->ops->blob_put(e, STATE_NAME, b, strlen(b));
    }
    load_snaps(st);
    st->streams = json_deep_copy(st->snaps);
    for (int k = 1; k < e->n_nodes; k++)
        st->next[k] = rlog_last(&st->log) + 1;
    str_copy(st->shown, role_now(st), sizeof st->shown);
    return st;
}

static void es_start(void *vst)
{
    struct es *st = vst;
    env_event(st->e, "state", json_pack("{s:s,s:I,s:s}", "role", st->shown, "term", (json_int_t)st->epoch, "leader", st->e->nodes[0]));
    env_event(st->e, "recovered", json_pack("{s:I,s:I,s:I}", "pos", (json_int_t)rlog_last(&st->log), "epoch",
                                            (json_int_t)st->epoch, "snapshots", (json_int_t)json_object_size(st->snaps)));
    if (st->primary && st->e->n_nodes == 1)
        advance_commit(st);
    env_timer_set(st->e, TICK_US, TM_TICK, 0);
}

static void es_destroy(void *vst)
{
    struct es *st = vst;
    rlog_free(&st->log);
    json_decref(st->ver);
    json_decref(st->streams);
    json_decref(st->snaps);
    json_decref(st->pending);
    json_decref(st->proj);
    free(st);
}

static json_t *es_status(void *vst)
{
    struct es *st = vst;
    json_t *data = json_object();
    const char *k;
    json_t *v;
    json_object_foreach(st->streams, k, v)
        if (json_integer_value(json_object_get(v, "v")))
            json_object_set(data, k, json_object_get(v, "v"));
    return json_pack("{s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:o}", "role", role_now(st), "leader", st->e->nodes[0],
                     "term", (json_int_t)st->epoch,
                     "last", (json_int_t)rlog_last(&st->log), "commit", (json_int_t)st->commit, "applied",
                     (json_int_t)st->applied, "streams", (json_int_t)json_object_size(data), "snapshots",
                     (json_int_t)json_object_size(st->snaps), "projected", (json_int_t)st->proj_pos, "lag",
                     (json_int_t)(st->applied - st->proj_pos), "data", data);
}

/* ---- commands ---------------------------------------------------------------------------------- */

/* A word "k=v" of an append's data, typed as at the REPL (jtext_parse): a number stays a
 * number, true/false/null those, '"42"' the string "42", {"a":[1]} the object; anything else
 * (and a word that starts like JSON but is not) a string. */
static json_t *word_value(const char *v)
{
    char err[160];
    json_t *j = *v ? jtext_parse(v, strlen(v), err, sizeof err) : NULL;
    return j ? j : json_string(v);
}

static json_t *cmd_append(void *vst, int argc, char **argv)
{
    struct es *st = vst;
    if (!st->primary)
        return cmd_reply(0, "appends go to the primary %s (is it down?)", st->e->nodes[0]);
    json_t *body = json_pack("{s:s,s:s,s:s,s:{}}", "type", "append", "stream", argv[0], "event", argv[1], "data");
    for (int i = 2; i < argc; i++) {
        const char *eq = strchr(argv[i], '=');
        if (!eq || eq == argv[i]) {
            json_decref(body);
            return cmd_reply(0, "word %d: expected v=VERSION, v=any or NAME=VALUE, got '%.60s'", i + 1, argv[i]);
        }
        char name[64];
        size_t n = (size_t)(eq - argv[i]);
        if (n >= sizeof name) {
            json_decref(body);
            return cmd_reply(0, "word %d: a field name is at most 63 characters", i + 1);
        }
        memcpy(name, argv[i], n);
        name[n] = 0;
        if (!strcmp(name, "v")) {
            int64_t x;
            if (strcmp(eq + 1, "any") && (parse_i64(eq + 1, &x) < 0 || x < 0)) {
                json_decref(body);
                return cmd_reply(0, "v= takes the version you expect the stream at (0 for a new stream) or any, not '%.40s'",
                                 eq + 1);
            }
            json_object_set_new(body, "expected", strcmp(eq + 1, "any") ? json_integer((json_int_t)x) : json_string("any"));
        } else {
            json_object_set_new(json_object_get(body, "data"), name, word_value(eq + 1));
        }
    }
    struct es_event ev;
    char err[300];
    if (es_decode_append(body, &ev, err, sizeof err) < 0) {
        json_decref(body);
        return cmd_reply(0, "%s", err);
    }
    json_decref(body);
    uint64_t pos = 0;
    int64_t cur = 0;
    int code = do_append(st, &ev, &pos, &cur, err, sizeof err);
    json_t *r;
    if (code) {
        r = cmd_reply(0, "%s", err);
    } else {
        replicate_all(st);
        advance_commit(st);
        emit_role(st);
        r = cmd_reply(1, "%s v%llu %s appended at position %llu (epoch %llu): %s", ev.stream, (unsigned long long)ev.v,
                      ev.type, (unsigned long long)pos, (unsigned long long)st->epoch,
                      st->commit >= pos ? "committed"
                                        : "it commits once a majority of the nodes hold it (wait n1 primary)");
    }
    es_event_clear(&ev);
    return r;
}

/* replay STREAM [to=V] [nosnap]: the aggregate rebuilt step by step from this node's committed
 * events, from the newest snapshot at or below V unless nosnap. */
static json_t *cmd_replay(void *vst, int argc, char **argv)
{
    struct es *st = vst;
    uint64_t to = UINT64_MAX;
    int nosnap = 0;
    for (int i = 1; i < argc; i++) {
        int64_t x;
        if (!strncmp(argv[i], "to=", 3) && parse_i64(argv[i] + 3, &x) == 0 && x >= 0)
            to = (uint64_t)x;
        else if (!strcmp(argv[i], "nosnap"))
            nosnap = 1;
        else
            return cmd_reply(0, "replay STREAM [to=VERSION] [nosnap]: '%.40s' is neither", argv[i]);
    }
    if (!es_valid_name(argv[0], ES_STREAM_MAX))
        return cmd_reply(0, "'%.60s' is not a stream name (1 to 63 of A-Z a-z 0-9 . _ : -)", argv[0]);
    struct sb b = {0};
    json_t *state = json_object();
    uint64_t from_pos = 0, v = 0;
    const json_t *snap = json_object_get(st->snaps, argv[0]);
    if (snap && !nosnap && (uint64_t)json_integer_value(json_object_get(snap, "v")) <= to &&
        (uint64_t)json_integer_value(json_object_get(snap, "pos")) <= st->applied) {
        json_decref(state);
        state = json_deep_copy(json_object_get(snap, "state"));
        from_pos = (uint64_t)json_integer_value(json_object_get(snap, "pos"));
        v = (uint64_t)json_integer_value(json_object_get(snap, "v"));
        char *s = json_dumps(state, JSON_COMPACT | JSON_SORT_KEYS);
        sb_printf(&b, "  from the snapshot at v%llu (position %llu): %s\n", (unsigned long long)v,
                  (unsigned long long)from_pos, s);
        free(s);
    }
    int steps = 0, shown = 0;
    for (uint64_t p = from_pos + 1; p <= st->applied; p++) {
        const struct rlog_entry *en = rlog_at(&st->log, p);
        struct es_event ev;
        if (!en || strcmp(en->key, argv[0]) || event_at(st, p, &ev) < 0)
            continue;
        if (ev.v <= to) {
            es_fold(state, ev.type, ev.v, ev.data);
            v = ev.v;
            steps++;
            if (shown++ < 20) {
                char *d = json_dumps(ev.data, JSON_COMPACT | JSON_SORT_KEYS);
                char *s = json_dumps(state, JSON_COMPACT | JSON_SORT_KEYS);
                sb_printf(&b, "  v%llu %s %s -> %s\n", (unsigned long long)ev.v, ev.type, d, s);
                free(d);
                free(s);
            }
        }
        es_event_clear(&ev);
    }
    if (shown > 20)
        sb_printf(&b, "  … %d more steps\n", shown - 20);
    char *s = json_dumps(state, JSON_COMPACT | JSON_SORT_KEYS);
    json_t *r;
    if (!v)
        r = cmd_reply(0, "%s has no committed events on %s", argv[0], st->e->self);
    else
        r = cmd_reply(1, "%s on %s: %d events replayed%s\n%s  = v%llu %s", argv[0], st->e->self, steps,
                      from_pos ? " after the snapshot" : " from v1", b.s ? b.s : "", (unsigned long long)v, s);
    free(s);
    sb_free(&b);
    json_decref(state);
    return r;
}

/* projection NODE [rebuild]: the read model on NODE, or replay it from position 0. */
static json_t *cmd_projection(void *vst, int argc, char **argv)
{
    struct es *st = vst;
    if (argc > 1 && strcmp(argv[1], "rebuild"))
        return cmd_reply(0, "projection NODE [rebuild]: '%.40s' is not rebuild", argv[1]);
    if (argc > 1) {
        projection_reset(st);
        return cmd_reply(1, "%s rebuilds its projection: it replays the %llu committed events from position 0, %ld a tick",
                         st->e->self, (unsigned long long)st->applied, st->catchup);
    }
    char *s = json_dumps(st->proj, JSON_COMPACT | JSON_SORT_KEYS);
    json_t *r = cmd_reply(1, "%s projection at position %llu of %llu committed (lag %llu): %s", st->e->self,
                          (unsigned long long)st->proj_pos, (unsigned long long)st->applied,
                          (unsigned long long)(st->applied - st->proj_pos), s);
    free(s);
    return r;
}

/* ---- the face ----------------------------------------------------------------------------------- */

static const struct mode_handler es_handlers[] = {
    {"append", on_append},
    {"read", on_read},
    {"read_stream", on_read_stream},
    {"es_repl", on_repl},
    {"es_repl_ok", on_repl_ok},
    {NULL, NULL},
};

static const struct mode_option es_options[] = {
    {"snapshot", OPT_INT, NULL, 0, 100000, "10", "a durable snapshot of a stream's aggregate every K of its events (0: none)"},
    {"catchup", OPT_INT, NULL, 1, 100000, "100", "events the projection folds per tick (100 ms) while it catches up"},
    {NULL, 0, NULL, 0, 0, NULL, NULL},
};

static const struct mode_command es_commands[] = {
    {"append", "append STREAM TYPE [v=VERSION|any] [NAME=VALUE...]",
     "append an event to a stream on the primary; v= is the version you expect the stream at (0: a new stream): a stale one is refused",
     "append order-7 created v=0 amount=30", 2, 30, cmd_append, MC_ANY},
    {"replay", "replay STREAM [to=VERSION] [nosnap]",
     "rebuild a stream's aggregate from its committed events, step by step (from its newest snapshot unless nosnap)",
     "replay order-7", 1, 3, cmd_replay, MC_ANY},
    {"projection", "projection NODE [rebuild]",
     "show NODE's projection (events per type, last type per stream) or replay it from position 0 and watch it catch up",
     "projection n2 rebuild", 1, 2, cmd_projection, MC_ON_NODE},
    {NULL, NULL, NULL, NULL, 0, 0, NULL, MC_ANY},
};

static const struct mode_role es_roles[] = {
    {"primary", RC_LEADER},
    {"committing", RC_LEADER},
    {"replica", RC_FOLLOWER},
    {NULL, RC_UNKNOWN},
};

static const struct mode_figure es_figures[] = {
    {"term", "epoch", "e"},
    {"last", "last", "l"},
    {"commit", "commit", "c"},
    {"streams", "streams", "s"},
    {"snapshots", "snapshots", NULL},
    {"projected", "projected", "p"},
    {"lag", "projection lag", NULL},
    {NULL, NULL, NULL},
};

static const struct mode_check es_checks[] = {
    {"eventstore", "no two events at one stream version, one event per log position on every node, nothing committed "
                   "lost by a restart, every snapshot the fold of its stream, every projection a replay of the log",
     es_check_run},
    {NULL, NULL, NULL},
};

static const char *const es_client_types[] = {"append", "read", "read_stream", NULL};


const struct mode mode_eventstore = {
    .name = "eventstore",
    .summary = "event sourcing: streams appended with an expected version (optimistic concurrency), replay, snapshots and a projection, replicated by a primary",
    .options = es_options,
    .bugs = "no-occ|no-fsync|stale-snapshot|projection-skip",
    .handlers = es_handlers,
    .commands = es_commands,
    .create = es_create,
    .start = es_start,
    .destroy = es_destroy,
    .on_timer = es_on_timer,
    .status = es_status,
    .monitor = &es_monitor,
    .workload = "append",
    .client_types = es_client_types,
    .roles = es_roles,
    .figures = es_figures,
    .events = "state|appended|conflict|committed|snapshotted|projected|recovered|truncated",
    .checks = es_checks,
};
