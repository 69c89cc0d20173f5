/* multileader — multi-leader replication across data centres (issue 15; docs/modes/multileader.md;
 * DDIA ch. 5 "Multi-Leader Replication", the course's chapters 5.4 and 6.2).
 *
 * The cluster is cut into `dcs` data centres of consecutive nodes (n1,n2 | n3,n4 | n5,n6 for
 * `start multileader 6 dcs=3`). The first node of each centre is its leader, the others its
 * followers; the lab knows the centres as groups named dc1, dc2, … (the face's `groups`).
 *
 *   client ──write──► DC leader: new version (dot, context, timestamp), applied, logged
 *                      ├─ml_push──► each follower of its DC ──ml_push_ok──┐  synchronous:
 *                      │                        write_ok once all acked ◄─┘  (sync_timeout)
 *                      └─ml_push──► the other DC leaders (topology=all|ring|star), at once and
 *                                   then every `retry` until acknowledged: asynchronous
 *   client ──read───► any node: its own copy (a follower or a far DC may be behind)
 *   a write sent to a follower is refused with error 11 naming its DC's leader (the lab follows)
 *
 * Replication is state-based: a push carries whole items (every version of a key), a receiver
 * merges them in, and an ack names the content it got (the item's hash). The sender keeps a
 * key pending for a destination until an ack of its current content comes back, so lost,
 * duplicated or reordered pushes and partitions only delay convergence. A leader that changes a
 * key (a client write or a merge) makes it pending for its followers and for its out-neighbours
 * in the topology (ring: the next centre; star: dc1 and from dc1 every centre) except the one
 * it came from; a merge that changes nothing stops the flood.
 *
 * Versions (nodes/kit/vitem.h, vv.h). Every write is named by a dot (its leader, a counter) and
 * carries a context: the version vector of what it supersedes — the client's (a read returned
 * it) or, when the client sends none, everything its leader holds for the key. Two versions are
 * concurrent when neither's context covers the other's dot: a conflict, which the leader that
 * meets it resolves by `conflict=`:
 *   lww       one survives: the greatest timestamp (the node's skewable physical clock, or its
 *             hybrid logical clock with clock=hlc), then node, then value. The loser is gone:
 *             a lost update, and with skew even a causally later write loses (M2);
 *   siblings  both stay side by side (dotted version vectors) until a write whose context
 *             covers them; a read returns them all and that context (M3);
 *   merge     kept as siblings, but a read returns the application's merge of them:
 *             merge=union (comma-separated sets: the shopping cart) or merge=max (numbers);
 *             or a CRDT of the kit (nodes/kit/crdt.h): merge=gcounter|pncounter|gset|2pset|
 *             orset|cart. Then a write's value is an operation ("+5", "-2"; "milk", "-milk";
 *             "milk:2", "-milk"): its leader joins the states of every version it holds of the
 *             key, applies the operation (an add's dot is the write's dot) and writes the new
 *             state as the version's value; a read returns the query of the join of every
 *             sibling's state. Joins are commutative, associative and idempotent and a write's
 *             state includes what it supersedes, so nothing is lost: concurrent increments
 *             add up, a remove takes only the adds it saw (add wins).
 * Each conflict a node resolves is a `conflict` event the dashboard marks.
 *
 * States: leader (class leader) or follower. With failover=off (the default) the layout fixes
 * them from start to crash (a down leader makes its centre refuse writes until it is back).
 * With failover=auto a leader beats (ml_beat {dc, epoch}) to every node; a follower that hears
 * nothing from its leader for failover_timeout × its rank takes over with the next epoch (a
 * `failover` event); the newer (epoch, then lower node) wins wherever it is heard: followers
 * follow it, an older leader of the centre steps down, other centres push to it.
 * Deletes write a tombstone (a version without a value), replicated like a write.
 *
 * Invariants (SCENARIOS.md, multi-leader; checked live by mlmon.c from the events):
 *   - merge is commutative, associative and idempotent: replicas that received the same
 *     versions hold the same item, so after heal and quiescence all replicas are equal (M1);
 *   - a node's knowledge of a key (the version vector of its item) never shrinks — except
 *     under lww, where the loser of a conflict is dropped: the checker calls it a lost update;
 *   - no counter of a version vector exceeds the dots its node has handed out;
 *   - a write is acknowledged only after its leader and every follower of its centre logged it
 *     (fsync), and each node logs a merged item before acknowledging a push.
 *
 * Bug toggles: bug=vv-sum merges version vectors by adding counters instead of taking their
 * maximum (a context then claims writes that never happened, and a later concurrent write is
 * dropped as if seen); bug=drop-sibling keeps only the newest arrival of two concurrent
 * versions, silently.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crdt.h"
#include "env.h"
#include "hash.h"
#include "hlc.h"
#include "jtext.h"
#include "mode.h"
#include "msg.h"
#include "multileader.h"
#include "vitem.h"
#include "vtable.h"
#include "vv.h"

/* ---- constants and types ------------------------------------------------------------- */

#define MAX_VERSIONS 1024                /* siblings of one key a peer may send */
#define BATCH_ITEMS 1024                 /* items per push, at most */
#define BATCH_BYTES (384 * 1024)         /* and about this many bytes */
#define OP_HASHES 8                      /* contents of a key that hold a write (see struct op) */
#define DOT_BLOCK 1000                   /* dots reserved on disk at a time */
#define MAX_ID ((uint64_t)INT64_MAX)

enum { T_TICK = 1, T_OP, T_BEAT, T_WATCH };
enum conflict { C_LWW, C_SIBLINGS, C_MERGE };
enum mergefn { M_UNION, M_MAX, M_CRDT };
enum topology { TOPO_ALL, TOPO_RING, TOPO_STAR };

/* One node this node pushes to: a follower of its centre (sync) or another centre's leader. */
struct dest {
    int node;
    int sync;                /* a follower: client writes wait for its ack */
    long pending;            /* keys whose current content it has not acknowledged */
    uint64_t seq;            /* the last push's sequence number */
    uint64_t batch_seq;      /* the push that carries a batch (0: none in flight) */
    uint64_t batch_tick;     /* the tick it left on */
};

/* A client write waiting for the followers of its centre. A follower's ack counts when the
 * content it names is one this leader held after the write (hash in h[]): every later content
 * of the key holds the write or supersedes it. */
struct op {
    uint64_t id;
    char client[CL_IDLEN];
    json_t *req;
    char *key;
    uint32_t waiting;        /* dest slots yet to acknowledge */
    uint64_t h[OP_HASHES];
    int nh;
    uint64_t timer;
    json_t *ok;              /* the reply, sent when waiting reaches 0 */
    struct op *next;
};

struct ml {
    struct env *e;
    /* options */
    int dcs, dc, leader;     /* my centre and its leader (node indexes) */
    int of[CL_MAXN], first[CL_MAXN];
    enum conflict conflict;
    enum mergefn mergefn;
    enum crdt_type crdt_type;    /* with M_CRDT */
    int clock_hlc;
    enum topology topology;
    uint64_t sync_timeout, retry;
    int bug_vv_sum, bug_drop_sibling;
    /* data */
    struct vtable data;      /* vitem.acks: bit d = pending for dest slot d */
    struct dest dest[CL_MAXN];
    int ndest;
    struct hlc hlc;
    uint64_t last_ts;
    uint64_t dot, dot_hw;
    uint64_t next_op;
    struct op *ops;
    uint64_t tick, t_tick;
    /* figures */
    long writes, conflicts, lost, merged_in;
    /* failover=auto: each centre's leader as this node knows it, and its epoch */
    int failover;
    uint64_t failover_timeout;
    int lead_of[CL_MAXN];
    uint64_t epoch_of[CL_MAXN];
    uint64_t t_beat, t_watch;
    long failovers, deletes;
};

static int self_idx(const struct ml *st) { return st->e->self_idx; }
static const char *nname(const struct ml *st, int i) { return st->e->nodes[i]; }
static int is_leader(const struct ml *st) { return st->leader == self_idx(st); }
static const char (*names(const struct ml *st))[CL_IDLEN] { return (const char (*)[CL_IDLEN])st->e->nodes; }

/* ---- layout (shared with the face) ---------------------------------------------------- */

int multileader_layout(int n, int dcs, int of[CL_MAXN], int first[CL_MAXN])
{
    if (n < 1)
        n = 1;
    if (n > CL_MAXN)
        n = CL_MAXN;
    if (dcs < 1)
        dcs = 1;
    if (dcs > n)
        dcs = n;
    int base = n / dcs, extra = n % dcs, i = 0;
    for (int d = 0; d < dcs; d++) {
        first[d] = i;
        for (int k = 0; k < base + (d < extra); k++)
            of[i++] = d;
    }
    return dcs;
}

int multileader_dcs(const struct opts *o, int n)
{
    const char *v = opts_get(o, "dcs", NULL);
    if (v)
        return (int)opts_get_int(o, "dcs", 3);
    return n < 3 ? n : 3;
}

/* ---- versions ------------------------------------------------------------------------- */

static void dc_name(int d, char buf[CL_IDLEN])
{
    snprintf(buf, CL_IDLEN, "dc%d", d + 1);
}

/* "n1.3": a version's dot. */
static void dot_text(const struct ml *st, const struct version *v, struct sb *b)
{
    sb_printf(b, "%s.%" PRIu64, nname(st, v->node), v->dot);
}

/* The version vector of what an item holds: each version's context and dot. bug=vv-sum adds
 * the versions' vectors instead of taking their maximum. */
static void item_vv(const struct ml *st, const struct vitem *it, struct vv *out)
{
    memset(out, 0, sizeof *out);
    for (int i = 0; i < it->nv; i++) {
        struct vv one = it->v[i].ctx;
        vv_add_dot(&one, it->v[i].node, it->v[i].dot);
        if (st->bug_vv_sum && it->nv > 1) {
            for (int k = 0; k < CL_MAXN; k++)
                out->c[k] += one.c[k];
        } else {
            vv_merge(out, &one);
        }
    }
}

static json_t *vv_json(const struct ml *st, const struct vv *v)
{
    return vv_to_json(v, st->e->n_nodes);
}

static int str_cmp_ptr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* merge=<a CRDT>: one version's value decoded as a state of the type. NULL with err. */
static struct crdt *version_crdt(const struct ml *st, const char *value, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *j = json_loads(value, 0, &jerr);
    if (!j) {
        snprintf(err, errlen, "a version's value is not a %s state (JSON: %s)", crdt_type_name(st->crdt_type), jerr.text);
        return NULL;
    }
    char why[200];
    struct crdt *c = crdt_from_json(j, st->e->n_nodes, why, sizeof why);
    json_decref(j);
    if (!c) {
        snprintf(err, errlen, "a version's value is not a %s state: %s", crdt_type_name(st->crdt_type), why);
        return NULL;
    }
    if (c->type != st->crdt_type) {
        snprintf(err, errlen, "a version's value is a %s state, not a %s", crdt_type_name(c->type),
                 crdt_type_name(st->crdt_type));
        crdt_free(&c);
        return NULL;
    }
    return c;
}

/* The join of every live version's state (the bottom for none). NULL with err when one does
 * not decode (a peer's push is checked before it is merged, so only a damaged log gets here). */
static struct crdt *item_crdt(const struct ml *st, const struct vitem *it, char *err, size_t errlen)
{
    struct crdt *c = crdt_new(st->crdt_type);
    for (int i = 0; i < it->nv; i++) {
        if (!it->v[i].value)
            continue;
        struct crdt *one = version_crdt(st, it->v[i].value, err, errlen);
        if (!one) {
            crdt_free(&c);
            return NULL;
        }
        crdt_merge(c, one, 0);
        crdt_free(&one);
    }
    return c;
}

/* Applies a write's operation (its value) to state c. 0, or -1 with err. */
static int crdt_apply_op(const struct ml *st, struct crdt *c, const char *op, struct crdt_dot dot, char *err, size_t errlen)
{
    struct crdt *d = NULL;
    char why[200] = "";
    switch (st->crdt_type) {
    case CRDT_GCOUNTER:
    case CRDT_PNCOUNTER: {
        char *end;
        long long n = strtoll(op, &end, 10);
        if (!*op || *end || end == op) {
            snprintf(err, errlen, "a %s write is a whole number to add (\"5\", \"-2\"), got \"%.60s\"",
                     crdt_type_name(st->crdt_type), op);
            return -1;
        }
        d = crdt_add(c, self_idx(st), n, why, sizeof why);
        break;
    }
    case CRDT_GSET:
    case CRDT_2PSET:
    case CRDT_ORSET:
    case CRDT_CART: {
        int rem = op[0] == '-';
        const char *elem = op[0] == '-' || op[0] == '+' ? op + 1 : op;
        char buf[CRDT_MAX_ELEM + 32];
        long long amount = 1;
        const char *colon = st->crdt_type == CRDT_CART ? strrchr(elem, ':') : NULL;
        if (colon && !rem) {
            char *end;
            amount = strtoll(colon + 1, &end, 10);
            if (!colon[1] || *end || (size_t)(colon - elem) >= sizeof buf) {
                snprintf(err, errlen, "a cart write is ITEM, ITEM:N or -ITEM, got \"%.60s\"", op);
                return -1;
            }
            memcpy(buf, elem, (size_t)(colon - elem));
            buf[colon - elem] = 0;
            elem = buf;
        }
        if (!*elem) {
            snprintf(err, errlen, "a %s write names an element: E or +E adds it, -E removes it", crdt_type_name(st->crdt_type));
            return -1;
        }
        if (rem) {
            size_t removed = 0;
            d = crdt_remove(c, elem, &removed, why, sizeof why);
        } else {
            d = crdt_insert(c, elem, dot, amount, why, sizeof why);
        }
        break;
    }
    default:
        snprintf(why, sizeof why, "no operation for a %s", crdt_type_name(st->crdt_type));
        break;
    }
    if (!d) {
        snprintf(err, errlen, "%s", why);
        return -1;
    }
    crdt_free(&d);
    return 0;
}

/* Does every version of an item that came from a peer decode as a state of the type? */
static int item_crdt_ok(const struct ml *st, const struct vitem *it, char *err, size_t errlen)
{
    struct crdt *c = item_crdt(st, it, err, errlen);
    int ok = c != NULL;
    crdt_free(&c);
    return ok;
}

/* Is a value text a whole number (42, or the string "42")? Then 1 and *x. */
static int whole_number(const char *text, long long *x)
{
    json_t *v = jtext_decode(text);
    int ok = 0;
    if (json_is_integer(v)) {
        *x = json_integer_value(v);
        ok = 1;
    } else if (json_is_string(v)) {
        const char *s = json_string_value(v);
        char *end;
        *x = strtoll(s, &end, 10);
        ok = *s && !*end;
    }
    json_decref(v);
    return ok;
}

/* The merge function of conflict=merge over the live values of an item. */
static json_t *merged_value(const struct ml *st, const struct vitem *it)
{
    if (st->mergefn == M_CRDT) {
        /* a counter reads as its number; a set as its sorted elements, comma-separated (the
         * form merge=union reads as: a lin-kv value is one string, not siblings); a cart as
         * item:quantity pairs */
        char err[256];
        struct crdt *c = item_crdt(st, it, err, sizeof err);
        json_t *q = c ? crdt_query(c) : json_null();
        crdt_free(&c);
        if (!json_is_array(q) && !json_is_object(q))
            return q;
        struct sb b = {0};
        sb_add(&b, "");
        size_t i;
        json_t *x;
        const char *k;
        if (json_is_array(q)) {
            json_array_foreach(q, i, x) sb_printf(&b, "%s%s", i ? "," : "", json_string_value(x));
        } else {
            i = 0;
            json_object_foreach(q, k, x) sb_printf(&b, "%s%s:%" JSON_INTEGER_FORMAT, i++ ? "," : "", k, json_integer_value(x));
        }
        json_decref(q);
        json_t *r = json_string(b.s);
        sb_free(&b);
        return r;
    }
    if (st->mergefn == M_MAX) {
        const char *best = NULL;
        long long bv = 0;
        int bnum = 0;
        for (int i = 0; i < it->nv; i++) {
            const char *s = it->v[i].value;
            if (!s)
                continue;
            long long x = 0;
            int num = whole_number(s, &x);
            /* numbers (42, or a string of a whole number, "42") order as numbers, before any
             * other value; other values order by their text */
            if (!best || (num && bnum && x > bv) || (!num && bnum) || (!num && !bnum && strcmp(s, best) > 0)) {
                best = s;
                bv = x;
                bnum = num;
            }
        }
        return best ? jtext_decode(best) : json_null();
    }
    /* union: every element of every sibling's comma-separated set, sorted, once */
    char **el = NULL;
    size_t n = 0, cap = 0;
    int any = 0;
    for (int i = 0; i < it->nv; i++) {
        if (!it->v[i].value)
            continue;
        any = 1;
        json_t *d = jtext_decode(it->v[i].value); /* a string's elements; any other value as its text */
        char *copy = xstrdup(json_is_string(d) ? json_string_value(d) : jtext_show(it->v[i].value)), *save = NULL;
        json_decref(d);
        for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
            if (!*t)
                continue;
            if (n == cap) {
                cap = cap ? 2 * cap : 8;
                el = xrealloc(el, cap * sizeof *el);
            }
            el[n++] = xstrdup(t);
        }
        free(copy);
    }
    if (!any)
        return json_null();
    qsort(el, n, sizeof *el, str_cmp_ptr);
    struct sb b = {0};
    sb_add(&b, "");
    for (size_t i = 0; i < n; i++) {
        if (i && !strcmp(el[i], el[i - 1]))
            continue;
        if (b.len)
            sb_addc(&b, ',');
        sb_add(&b, el[i]);
    }
    for (size_t i = 0; i < n; i++)
        free(el[i]);
    free(el);
    json_t *r = json_string(b.s);
    sb_free(&b);
    return r;
}

/* What a read shows of an item: the value; the list of siblings (conflict=siblings, more
 * than one); the merged value (conflict=merge). */
static json_t *item_value(const struct ml *st, const struct vitem *it)
{
    if (st->conflict == C_MERGE)
        return merged_value(st, it);
    json_t *live = vitem_values(it);
    if (json_array_size(live) == 1) {
        json_t *v = json_incref(json_array_get(live, 0));
        json_decref(live);
        return v;
    }
    if (json_array_size(live) == 0) {
        json_decref(live);
        return json_null();
    }
    return live;
}

static json_t *versions_json(const struct ml *st, const struct vitem *it)
{
    json_t *a = json_array();
    for (int i = 0; i < it->nv; i++) {
        struct sb b = {0};
        if (st->conflict == C_MERGE && st->mergefn == M_CRDT && it->v[i].value) {
            /* a CRDT version: what it reads as, not its whole state */
            char err[256];
            struct crdt *c = version_crdt(st, it->v[i].value, err, sizeof err);
            json_t *q = c ? crdt_query(c) : NULL;
            char *t = q ? json_dumps(q, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
            sb_printf(&b, "%s@", t ? t : "(undecodable)");
            free(t);
            json_decref(q);
            crdt_free(&c);
        } else {
            sb_printf(&b, "%s@", it->v[i].value ? jtext_show(it->v[i].value) : "(deleted)");
        }
        dot_text(st, &it->v[i], &b);
        json_array_append_new(a, json_string(b.s));
        sb_free(&b);
    }
    return a;
}

/* ---- durable state -------------------------------------------------------------------- */

/* Logs an item's whole content (replayed by merging, so the last record of a key wins or
 * merges, whichever way the log is read). */
static void log_item(struct ml *st, const struct vitem *it)
{
    json_t *j = vitem_to_json(it, VMERGE_DVV, st->e->n_nodes);
    char *txt = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    st->e->ops->log_append(st->e, "data", txt, strlen(txt));
    free(txt);
}

static void sync_log(struct ml *st)
{
    st->e->ops->log_sync(st->e, "data");
}

/* The dot counter: reserved in blocks in blob "dot", so that no dot repeats after a restart
 * (under lww a dropped version's dot is in no context, so the data alone cannot tell). */
static uint64_t next_dot(struct ml *st)
{
    if (st->dot >= st->dot_hw) {
        st->dot_hw = st->dot + DOT_BLOCK;
        char buf[32];
        int len = snprintf(buf, sizeof buf, "%" PRIu64, st->dot_hw);
        st->e->ops->blob_put(st->e, "dot", buf, (size_t)len);
    }
    return ++st->dot;
}

struct replay {
    struct ml *st;
    long bad;
};

static int merge_item(struct ml *st, struct vitem *local, const struct vitem *in, const char *from);

static struct vitem *get_item(struct ml *st, const char *key, int create)
{
    uint64_t kh = hash_str(key);
    struct vitem *it = vtable_get(&st->data, key, kh);
    if (!it && create) {
        it = vitem_new(key, kh);
        vtable_put(&st->data, it);
    }
    return it;
}

static void replay_rec(void *ud, const void *data, size_t len)
{
    struct replay *r = ud;
    json_error_t jerr;
    json_t *j = json_loadb(data, len, 0, &jerr);
    char why[200];
    struct vitem *in = j ? vitem_from_json(j, VMERGE_DVV, MAX_VERSIONS, why, sizeof why) : NULL;
    json_decref(j);
    if (!in) {
        r->bad++;
        return;
    }
    struct vitem *it = get_item(r->st, in->key, 1);
    merge_item(r->st, it, in, NULL);
    vitem_free(in);
}

static int load_state(struct ml *st, char *err, size_t errlen)
{
    char *data;
    size_t len;
    if (st->e->ops->blob_get(st->e, "dot", &data, &len) == 0) {
        char buf[32];
        size_t k = len < sizeof buf - 1 ? len : sizeof buf - 1;
        memcpy(buf, data, k);
        buf[k] = 0;
        free(data);
        char *end;
        unsigned long long v = strtoull(buf, &end, 10);
        if (end == buf || *end) {
            snprintf(err, errlen, "blob dot: expected a whole number, got '%s'", buf);
            return CL_EINVAL;
        }
        st->dot = st->dot_hw = v; /* the whole reserved block may have been handed out */
    }
    struct replay r = {st, 0};
    if (st->e->ops->log_read(st->e, "data", replay_rec, &r) < 0) {
        snprintf(err, errlen, "log data: unreadable");
        return CL_EIO;
    }
    if (r.bad)
        env_event(st->e, "error", json_pack("{s:s,s:I}", "text", "log data: records skipped (not an item)",
                                            "count", (json_int_t)r.bad));
    return 0;
}

/* ---- replication bookkeeping ----------------------------------------------------------- */

static int dest_slot(const struct ml *st, int node)
{
    for (int d = 0; d < st->ndest; d++)
        if (st->dest[d].node == node)
            return d;
    return -1;
}

/* The key must reach every destination but `except` (a node index, or -1). With
 * topology=all a key that came from another centre goes only to my followers: its origin
 * pushes it to every leader itself (forwarding would let it overtake a slow direct link). */
static void mark_pending(struct ml *st, struct vitem *it, int except)
{
    for (int d = 0; d < st->ndest; d++) {
        if (st->dest[d].node == except)
            continue;
        if (except >= 0 && !st->dest[d].sync && st->topology == TOPO_ALL)
            continue;
        if (!(it->acks & (1u << d))) {
            it->acks |= 1u << d;
            st->dest[d].pending++;
        }
    }
}

/* Each client write of key still waiting learns the key's new content holds it. */
static void ops_note_content(struct ml *st, const struct vitem *it)
{
    for (struct op *op = st->ops; op; op = op->next)
        if (!strcmp(op->key, it->key) && op->nh < OP_HASHES)
            op->h[op->nh++] = it->h;
}

static json_t *push_body(struct ml *st, struct dest *ds, json_t *items)
{
    struct hlc h = hlc_send(&st->hlc, env_now_us(st->e));
    ds->seq++;
    return json_pack("{s:s,s:I,s:o,s:I,s:I}", "type", "ml_push", "seq", (json_int_t)ds->seq, "items", items,
                     "hl", (json_int_t)h.l, "hc", (json_int_t)h.c);
}

/* Sends one item to dest slot d now (a fresh write: no waiting for the next tick). */
static void push_one(struct ml *st, int d, const struct vitem *it)
{
    json_t *items = json_array();
    json_array_append_new(items, vitem_to_json(it, VMERGE_DVV, st->e->n_nodes));
    env_send(st->e, nname(st, st->dest[d].node), push_body(st, &st->dest[d], items));
}

/* Sends a batch of the keys pending for dest slot d. */
static void push_batch(struct ml *st, int d)
{
    struct dest *ds = &st->dest[d];
    if (ds->pending <= 0)
        return;
    json_t *items = json_array();
    size_t bytes = 0;
    VTABLE_FOREACH(&st->data, it) {
        if (!(it->acks & (1u << d)))
            continue;
        json_array_append_new(items, vitem_to_json(it, VMERGE_DVV, st->e->n_nodes));
        bytes += strlen(it->key) + 16;
        for (int i = 0; i < it->nv; i++)
            bytes += (it->v[i].value ? strlen(it->v[i].value) : 4) + 40 + 8 * (size_t)st->e->n_nodes;
        if (json_array_size(items) >= BATCH_ITEMS || bytes >= BATCH_BYTES)
            goto full; /* (VTABLE_FOREACH is two loops: a break would leave only the inner) */
    }
full:
    if (!json_array_size(items)) {
        json_decref(items);
        ds->pending = 0; /* the count drifted: nothing is marked */
        return;
    }
    json_t *b = push_body(st, ds, items);
    ds->batch_seq = ds->seq;
    ds->batch_tick = st->tick;
    env_send(st->e, nname(st, ds->node), b);
}

/* ---- merging --------------------------------------------------------------------------- */

static void emit_conflict(struct ml *st, const struct vitem *it, const char *from, json_t *extra)
{
    st->conflicts++;
    json_t *f = json_pack("{s:s,s:s,s:s,s:o,s:o}", "key", it->key, "from", from ? from : "client",
                          "resolution", st->conflict == C_LWW ? "lww" : st->conflict == C_SIBLINGS ? "siblings" : "merge",
                          "versions", versions_json(st, it), "value", item_value(st, it));
    if (extra) {
        json_object_update(f, extra);
        json_decref(extra);
    }
    env_event(st->e, "conflict", f);
}

/* lww: the greater (timestamp, node, value) survives. A loser that the winner did not know of
 * (its dot outside the winner's context) is a lost update: said in a conflict event. */
static int merge_lww(struct ml *st, struct vitem *local, const struct version *in, const char *from)
{
    if (local->nv == 0) {
        vitem_merge_version(VMERGE_LWW, local, in);
        return 1;
    }
    struct version *cur = &local->v[0];
    if (cur->node == in->node && cur->dot == in->dot)
        return 0; /* the same write */
    int in_wins = version_lww_cmp(in, cur) > 0;
    const struct version *win = in_wins ? in : cur, *lose = in_wins ? cur : in;
    if (from && !version_covers(win, lose)) {
        st->lost++;
        struct sb wd = {0}, ld = {0};
        dot_text(st, win, &wd);
        dot_text(st, lose, &ld);
        int skew = version_covers(lose, win);
        json_t *extra = json_pack("{s:s?,s:s,s:s?,s:s,s:I,s:I,s:s}", "kept", win->value ? jtext_show(win->value) : NULL,
                                  "kept_dot", wd.s, "dropped", lose->value ? jtext_show(lose->value) : NULL,
                                  "dropped_dot", ld.s, "kept_ts", (json_int_t)win->ts,
                                  "dropped_ts", (json_int_t)lose->ts, "why",
                                  skew ? "the causally later write has the earlier timestamp (clock skew): it loses"
                                       : "concurrent writes: the one with the later timestamp wins, the other is lost");
        sb_free(&wd);
        sb_free(&ld);
        if (in_wins) {
            vitem_merge_version(VMERGE_LWW, local, in);
            vitem_rehash(local);
        }
        emit_conflict(st, local, from, extra);
        return in_wins;
    }
    if (!in_wins)
        return 0;
    vitem_merge_version(VMERGE_LWW, local, in);
    return 1;
}

/* siblings and merge: dotted version vectors. bug=drop-sibling replaces every version that
 * the incoming one is concurrent with. */
static int merge_dvv(struct ml *st, struct vitem *local, const struct version *in)
{
    if (st->bug_drop_sibling) {
        int known = 0;
        for (int i = 0; i < local->nv; i++)
            if (version_covers(&local->v[i], in))
                known = 1;
        if (!known && local->nv) {
            while (local->nv)
                version_free(&local->v[--local->nv]);
            vitem_merge_version(VMERGE_DVV, local, in);
            return 1;
        }
    }
    return vitem_merge_version(VMERGE_DVV, local, in);
}

/* Merges every version of in into local; from is the node it came from ("client" for a local
 * write, NULL while replaying the log: no events). Returns 1 when local changed (rehashed). */
static int merge_item(struct ml *st, struct vitem *local, const struct vitem *in, const char *from)
{
    int changed = 0;
    for (int i = 0; i < in->nv; i++)
        changed |= st->conflict == C_LWW ? merge_lww(st, local, &in->v[i], from)
                                         : merge_dvv(st, local, &in->v[i]);
    if (!changed)
        return 0;
    vitem_rehash(local);
    if (from && st->conflict != C_LWW && local->nv > 1)
        emit_conflict(st, local, from, json_pack("{s:i}", "siblings", local->nv));
    return 1;
}

/* After a change: the apply event (what the node now holds, and its version vector). */
static void emit_apply(struct ml *st, const struct vitem *it, const char *from)
{
    struct vv v;
    item_vv(st, it, &v);
    env_event(st->e, "apply", json_pack("{s:s,s:s,s:o,s:o,s:o}", "key", it->key, "from", from, "value",
                                        item_value(st, it), "versions", versions_json(st, it), "vv",
                                        vv_json(st, &v)));
}

/* ---- client requests ------------------------------------------------------------------- */

struct client_req {
    char *key;                  /* a string, or a whole number as its decimal text */
    const json_t *value;        /* any JSON, kept as its value text (jtext.h) */
    const json_t *context;
};

static const struct msg_field read_fields[] = {
    MSG_TEXT(struct client_req, key),
    MSG_END,
};

static const struct msg_field write_fields[] = {
    MSG_TEXT(struct client_req, key),
    MSG_ANY(struct client_req, value),
    MSG_ANY_OPT(struct client_req, context),
    MSG_END,
};

static void on_read(void *vst, const char *src, const json_t *body)
{
    struct ml *st = vst;
    struct client_req req;
    if (msg_get_request(st->e, src, body, read_fields, &req, sizeof req) < 0)
        return;
    struct vitem *it = get_item(st, req.key, 0);
    msg_free_text(read_fields, &req);
    if (!it || !it->nv || vitem_is_tomb(it)) {
        env_reply_error(st->e, src, body, ERR_KEY_DOES_NOT_EXIST, "no such key here", NULL);
        return;
    }
    json_t *r = json_pack("{s:s}", "type", "read_ok");
    json_t *val = item_value(st, it);
    if (json_is_array(val)) {
        json_object_set(r, "value", json_array_get(val, 0));
        json_object_set(r, "siblings", val);
    } else {
        json_object_set(r, "value", val);
    }
    json_decref(val);
    if (st->conflict != C_LWW) {
        struct vv ctx;
        struct sb b = {0};
        item_vv(st, it, &ctx);
        vv_text(&ctx, st->e->n_nodes, names(st), &b);
        json_object_set_new(r, "context", json_string(b.s ? b.s : ""));
        sb_free(&b);
    }
    env_reply(st->e, src, body, r);
}

static void op_free(struct ml *st, struct op *op)
{
    for (struct op **p = &st->ops; *p; p = &(*p)->next)
        if (*p == op) {
            *p = op->next;
            break;
        }
    env_timer_cancel(st->e, op->timer);
    json_decref(op->req);
    json_decref(op->ok);
    free(op->key);
    free(op);
}

static void op_done(struct ml *st, struct op *op)
{
    env_reply(st->e, op->client, op->req, json_incref(op->ok));
    op_free(st, op);
}

static void do_write(struct ml *st, const char *src, const json_t *body, struct client_req req, int del);

static void on_write(void *vst, const char *src, const json_t *body)
{
    struct ml *st = vst;
    struct client_req req;
    if (msg_get_request(st->e, src, body, write_fields, &req, sizeof req) < 0)
        return;
    do_write(st, src, body, req, 0);
    msg_free_text(write_fields, &req);
}

static const struct msg_field delete_fields[] = {
    MSG_TEXT(struct client_req, key),
    MSG_ANY_OPT(struct client_req, context),
    MSG_END,
};

/* delete: a write of a tombstone (vitem.h), replicated and resolved like any write. */
static void on_delete(void *vst, const char *src, const json_t *body)
{
    struct ml *st = vst;
    struct client_req req;
    if (msg_get_request(st->e, src, body, delete_fields, &req, sizeof req) < 0)
        return;
    do_write(st, src, body, req, 1);
    msg_free_text(delete_fields, &req);
}

static void do_write(struct ml *st, const char *src, const json_t *body, struct client_req req, int del)
{
    if (!is_leader(st)) {
        char dc[CL_IDLEN], text[160];
        dc_name(st->dc, dc);
        snprintf(text, sizeof text, "%s follows %s, the leader of %s: writes go to a leader", st->e->self, nname(st, st->leader), dc);
        env_reply_error(st->e, src, body, ERR_TEMPORARILY_UNAVAILABLE, text, nname(st, st->leader));
        return;
    }
    struct vitem *it = get_item(st, req.key, 1);
    struct version v = {0};
    if (req.context && st->conflict != C_LWW) {
        char err[200];
        if (!json_is_string(req.context)) {
            env_reply_error(st->e, src, body, ERR_MALFORMED_REQUEST, "bad \"context\": expected the string a read returned", NULL);
            return;
        }
        if (vv_parse(json_string_value(req.context), st->e->n_nodes, names(st), &v.ctx, err, sizeof err) < 0) {
            char text[260];
            snprintf(text, sizeof text, "bad \"context\": %s", err);
            env_reply_error(st->e, src, body, ERR_MALFORMED_REQUEST, text, NULL);
            return;
        }
    } else {
        item_vv(st, it, &v.ctx); /* the write supersedes everything this leader holds */
    }
    /* timestamps never repeat on one node; physical ones are not corrected for skew (a node
     * whose clock is behind loses its writes to older ones: M2); hybrid ones are */
    uint64_t now = env_now_us(st->e);
    if (st->clock_hlc) {
        v.ts = hlc_pack(hlc_send(&st->hlc, now));
    } else {
        st->last_ts = now > st->last_ts ? now : st->last_ts + 1;
        v.ts = st->last_ts;
    }
    v.node = self_idx(st);
    char *state_text = NULL, *vtext = del ? NULL : jtext_encode(req.value);
    if (!del && st->conflict == C_MERGE && st->mergefn == M_CRDT) {
        /* the write is an operation on the join of every version held here: the new state is
         * the version's value (it includes all it supersedes, so the join loses nothing) */
        char err[300], num[32];
        struct crdt *c = item_crdt(st, it, err, sizeof err);
        /* the operation: a string ("+5", "milk", "-milk"), or a whole number for a counter */
        const char *optext = json_string_value(req.value);
        if (json_is_integer(req.value)) {
            snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(req.value));
            optext = num;
        }
        if (c && !optext) {
            snprintf(err, sizeof err, "a %s write is a string or a whole number (the operation), got %s",
                     crdt_type_name(st->crdt_type), jtext_show(vtext));
            crdt_free(&c);
        }
        if (c && crdt_apply_op(st, c, optext, (struct crdt_dot){self_idx(st), st->dot + 1}, err, sizeof err) < 0)
            crdt_free(&c);
        if (!c) {
            env_reply_error(st->e, src, body, ERR_PRECONDITION_FAILED, err, NULL);
            free(vtext);
            return;
        }
        json_t *cj = crdt_to_json(c);
        state_text = json_dumps(cj, JSON_COMPACT);
        json_decref(cj);
        crdt_free(&c);
    }
    v.dot = next_dot(st);
    v.value = del ? NULL : state_text ? state_text : vtext;
    st->writes++;
    st->deletes += del;
    struct vv full = v.ctx;
    vv_add_dot(&full, v.node, v.dot);
    env_event(st->e, "write", json_pack("{s:s,s:o,s:I,s:I,s:o}", "key", req.key, "value",
                                        del ? json_null() : json_incref((json_t *)req.value), "dot", (json_int_t)v.dot, "ts",
                                        (json_int_t)v.ts, "vv", vv_json(st, &full)));
    struct vitem one = {0};
    one.key = it->key;
    one.nv = 1;
    one.v = &v;
    int changed = merge_item(st, it, &one, "client");
    free(state_text); /* merged in as a copy */
    free(vtext);
    if (changed) {
        log_item(st, it);
        emit_apply(st, it, "client");
        mark_pending(st, it, -1);
    }
    sync_log(st);
    struct op *op = xcalloc(1, sizeof *op);
    op->id = ++st->next_op;
    str_copy(op->client, src, sizeof op->client);
    op->req = json_deep_copy(body);
    op->key = xstrdup(req.key);
    op->h[op->nh++] = it->h;
    struct sb dt = {0};
    dot_text(st, &v, &dt);
    op->ok = json_pack("{s:s,s:s,s:I}", "type", del ? "delete_ok" : "write_ok", "dot", dt.s, "ts", (json_int_t)v.ts);
    if (!del && st->conflict == C_MERGE && st->mergefn == M_CRDT)
        json_object_set_new(op->ok, "value", item_value(st, it)); /* what the key reads as here now */
    sb_free(&dt);
    for (int d = 0; d < st->ndest; d++) {
        if (!changed || !(it->acks & (1u << d)))
            continue;
        if (st->dest[d].sync)
            op->waiting |= 1u << d;
        push_one(st, d, it);
    }
    op->next = st->ops;
    st->ops = op;
    if (!op->waiting) {
        op_done(st, op);
        return;
    }
    op->timer = env_timer_set(st->e, st->sync_timeout, T_OP, op->id);
}

/* ---- peer messages --------------------------------------------------------------------- */

struct push_msg {
    uint64_t seq, hl, hc;
    const json_t *items;
};

static const struct msg_field push_fields[] = {
    MSG_U64(struct push_msg, seq, MAX_ID),
    MSG_ARRAY(struct push_msg, items, BATCH_ITEMS),
    MSG_U64_OPT(struct push_msg, hl, MAX_ID),
    MSG_U64_OPT(struct push_msg, hc, MAX_ID),
    MSG_END,
};

static void arm_watch(struct ml *st);

static void on_push(void *vst, const char *src, const json_t *body)
{
    struct ml *st = vst;
    struct push_msg m = {0};
    char err[256];
    int from = env_node_index(st->e, src);
    if (from < 0 || from == self_idx(st))
        return; /* not a peer */
    if (msg_get(body, NULL, push_fields, &m, err, sizeof err) < 0) {
        env_event(st->e, "error", json_pack("{s:s,s:s}", "from", src, "text", err));
        return;
    }
    if (m.hl) {
        struct hlc mh = {m.hl, m.hc};
        hlc_recv(&st->hlc, mh, env_now_us(st->e));
    }
    if (from == st->leader)
        arm_watch(st); /* word from my leader */
    json_t *acks = json_array();
    size_t i;
    const json_t *ij;
    int any = 0;
    json_array_foreach(m.items, i, ij) {
        char why[256];
        struct vitem *in = vitem_from_json(ij, VMERGE_DVV, MAX_VERSIONS, why, sizeof why);
        if (in && st->conflict == C_MERGE && st->mergefn == M_CRDT && !item_crdt_ok(st, in, why, sizeof why))
            vitem_free(in), in = NULL;
        if (!in) {
            env_event(st->e, "error", json_pack("{s:s,s:s,s:I}", "from", src, "text", why, "item", (json_int_t)i));
            continue;
        }
        struct vitem *it = get_item(st, in->key, 1);
        if (merge_item(st, it, in, src)) {
            st->merged_in++;
            log_item(st, it);
            emit_apply(st, it, src);
            mark_pending(st, it, from);
            ops_note_content(st, it);
            any = 1;
        }
        char hex[17];
        snprintf(hex, sizeof hex, "%016" PRIx64, in->h);
        json_array_append_new(acks, json_pack("{s:s,s:s}", "k", in->key, "h", hex));
        vitem_free(in);
    }
    if (any)
        sync_log(st); /* durable before acknowledged */
    env_send(st->e, src, json_pack("{s:s,s:I,s:o}", "type", "ml_push_ok", "seq", (json_int_t)m.seq, "acks", acks));
    /* what changed here goes on now, not at the next tick */
    for (int d = 0; any && d < st->ndest; d++)
        if (st->dest[d].pending > 0 && !st->dest[d].batch_seq)
            push_batch(st, d);
}

struct ack_msg {
    uint64_t seq;
    const json_t *acks;
};

static const struct msg_field ack_fields[] = {
    MSG_U64(struct ack_msg, seq, MAX_ID),
    MSG_ARRAY(struct ack_msg, acks, BATCH_ITEMS),
    MSG_END,
};

struct ack_item {
    const char *k;
    uint64_t h;
};

static const struct msg_field ack_item_fields[] = {
    MSG_STR(struct ack_item, k),
    MSG_HEX(struct ack_item, h),
    MSG_END,
};

static void on_push_ok(void *vst, const char *src, const json_t *body)
{
    struct ml *st = vst;
    struct ack_msg m;
    char err[256];
    int d = dest_slot(st, env_node_index(st->e, src));
    if (d < 0)
        return;
    if (msg_get(body, NULL, ack_fields, &m, err, sizeof err) < 0) {
        env_event(st->e, "error", json_pack("{s:s,s:s}", "from", src, "text", err));
        return;
    }
    struct dest *ds = &st->dest[d];
    size_t i;
    const json_t *aj;
    json_array_foreach(m.acks, i, aj) {
        struct ack_item a;
        if (msg_get(aj, "an ack", ack_item_fields, &a, err, sizeof err) < 0) {
            env_event(st->e, "error", json_pack("{s:s,s:s}", "from", src, "text", err));
            continue;
        }
        struct vitem *it = get_item(st, a.k, 0);
        if (it && it->h == a.h && (it->acks & (1u << d))) {
            it->acks &= ~(1u << d);
            ds->pending--;
        }
        if (!ds->sync)
            continue;
        for (struct op *op = st->ops, *next; op; op = next) {
            next = op->next;
            if (!(op->waiting & (1u << d)) || strcmp(op->key, a.k))
                continue;
            for (int k = 0; k < op->nh; k++)
                if (op->h[k] == a.h) {
                    op->waiting &= ~(1u << d);
                    break;
                }
            if (!op->waiting)
                op_done(st, op);
        }
    }
    if (m.seq == ds->batch_seq) {
        ds->batch_seq = 0;
        push_batch(st, d); /* ack-clocked: the next batch at once */
    }
}

/* ---- failover inside a centre (failover=auto) ------------------------------------------- */

/* Who I push to, from who leads each centre now: a leader, its followers (sync) and its
 * out-neighbours among the leaders; a follower, nobody. Every key goes out again to every
 * destination (state-based pushes are idempotent), and client writes waiting on the old
 * destinations are answered error 11 (indefinite: they are logged and keep replicating). */
static void setup_dests(struct ml *st)
{
    struct env *e = st->e;
    while (st->ops) {
        struct op *op = st->ops;
        json_t *err = json_pack("{s:s,s:i,s:s,s:b}", "type", "error", "code", ERR_TEMPORARILY_UNAVAILABLE, "text",
                                "the data centre's leadership moved while this write waited: it is logged and keeps "
                                "replicating",
                                "indefinite", 1);
        env_reply(e, op->client, op->req, err);
        op_free(st, op);
    }
    st->ndest = 0;
    memset(st->dest, 0, sizeof st->dest);
    if (is_leader(st)) {
        for (int i = 0; i < e->n_nodes; i++)
            if (i != e->self_idx && st->of[i] == st->dc)
                st->dest[st->ndest++] = (struct dest){.node = i, .sync = 1};
        for (int d = 0; d < st->dcs; d++) {
            if (d == st->dc || st->lead_of[d] == e->self_idx)
                continue;
            int to = st->topology == TOPO_ALL || (st->topology == TOPO_RING && d == (st->dc + 1) % st->dcs) ||
                     (st->topology == TOPO_STAR && (st->dc == 0 || d == 0));
            if (to)
                st->dest[st->ndest++] = (struct dest){.node = st->lead_of[d]};
        }
    }
    VTABLE_FOREACH(&st->data, it) {
        it->acks = 0;
        mark_pending(st, it, -1);
    }
}

static void emit_state(struct ml *st)
{
    char dc[CL_IDLEN];
    dc_name(st->dc, dc);
    env_event(st->e, "state", json_pack("{s:s,s:s,s:s,s:I}", "role", is_leader(st) ? "leader" : "follower", "leader",
                                        nname(st, st->leader), "dc", dc, "epoch", (json_int_t)st->epoch_of[st->dc]));
}

static void send_beats(struct ml *st)
{
    for (int i = 0; i < st->e->n_nodes; i++)
        if (i != self_idx(st))
            env_send(st->e, nname(st, i), json_pack("{s:s,s:i,s:I}", "type", "ml_beat", "dc", st->dc, "epoch",
                                                    (json_int_t)st->epoch_of[st->dc]));
}

/* A follower waits failover_timeout for its leader, times its rank among the followers
 * (the first follower takes over first; the next only if the first is gone too). */
static void arm_watch(struct ml *st)
{
    if (!st->failover || is_leader(st))
        return;
    env_timer_cancel(st->e, st->t_watch);
    int rank = 1;
    for (int i = 0; i < self_idx(st); i++)
        if (st->of[i] == st->dc && i != st->leader)
            rank++;
    st->t_watch = env_timer_set(st->e, st->failover_timeout * (uint64_t)rank, T_WATCH, 0);
}

static void become_leader(struct ml *st)
{
    int old = st->leader;
    st->epoch_of[st->dc]++;
    st->leader = self_idx(st);
    st->lead_of[st->dc] = self_idx(st);
    st->failovers++;
    env_timer_cancel(st->e, st->t_watch);
    st->t_watch = 0;
    char dc[CL_IDLEN];
    dc_name(st->dc, dc);
    env_event(st->e, "failover", json_pack("{s:s,s:s,s:s,s:I}", "dc", dc, "from", nname(st, old), "to", st->e->self,
                                           "epoch", (json_int_t)st->epoch_of[st->dc]));
    setup_dests(st);
    emit_state(st);
    send_beats(st);
}

struct beat_msg {
    int dc;
    uint64_t epoch;
};

static const struct msg_field beat_fields[] = {
    MSG_INT(struct beat_msg, dc, 0, CL_MAXN - 1),
    MSG_U64(struct beat_msg, epoch, MAX_ID),
    MSG_END,
};

/* ml_beat{dc, epoch}: src leads centre dc in that epoch. The newer (epoch, then the lower
 * node) wins: a follower follows it, a leader of the same centre that is older steps down,
 * other centres' leaders push to it from now on. */
static void on_beat(void *vst, const char *src, const json_t *body)
{
    struct ml *st = vst;
    struct beat_msg m;
    char err[256];
    int j = env_node_index(st->e, src);
    if (j < 0 || j == self_idx(st))
        return;
    if (msg_get(body, NULL, beat_fields, &m, err, sizeof err) < 0) {
        env_event(st->e, "error", json_pack("{s:s,s:s}", "from", src, "text", err));
        return;
    }
    if (m.dc >= st->dcs || st->of[j] != m.dc) {
        snprintf(err, sizeof err, "ml_beat: %s is not in dc%d", src, m.dc + 1);
        env_event(st->e, "error", json_pack("{s:s,s:s}", "from", src, "text", err));
        return;
    }
    int d = m.dc;
    int same = j == st->lead_of[d] && m.epoch == st->epoch_of[d];
    int newer = m.epoch > st->epoch_of[d] || (m.epoch == st->epoch_of[d] && j < st->lead_of[d]);
    if (same) {
        if (d == st->dc)
            arm_watch(st);
        return;
    }
    if (!newer) {
        if (d == st->dc && is_leader(st))
            env_send(st->e, src, json_pack("{s:s,s:i,s:I}", "type", "ml_beat", "dc", st->dc, "epoch",
                                           (json_int_t)st->epoch_of[st->dc]));
        return;
    }
    int was_leader = is_leader(st);
    st->lead_of[d] = j;
    st->epoch_of[d] = m.epoch;
    if (d == st->dc) {
        st->leader = j;
        if (was_leader) {
            env_timer_cancel(st->e, st->t_beat);
            st->t_beat = 0;
            setup_dests(st);
        }
        emit_state(st);
        arm_watch(st);
    } else if (was_leader) {
        setup_dests(st);
    }
}

/* ---- timers ---------------------------------------------------------------------------- */

static void on_timer(void *vst, int kind, uint64_t arg)
{
    struct ml *st = vst;
    if (kind == T_TICK) {
        st->tick++;
        for (int d = 0; d < st->ndest; d++) {
            struct dest *ds = &st->dest[d];
            /* a batch unanswered for a full retry period is sent again (lost, or slow) */
            if (ds->batch_seq && st->tick - ds->batch_tick >= 2)
                ds->batch_seq = 0;
            if (!ds->batch_seq && ds->pending > 0)
                push_batch(st, d);
        }
        st->t_tick = env_timer_set(st->e, st->retry, T_TICK, 0);
        return;
    }
    if (kind == T_BEAT) {
        st->t_beat = 0;
        if (is_leader(st)) {
            send_beats(st);
            st->t_beat = env_timer_set(st->e, st->failover_timeout / 3, T_BEAT, 0);
        }
        return;
    }
    if (kind == T_WATCH) {
        st->t_watch = 0;
        if (!is_leader(st))
            become_leader(st);
        if (is_leader(st) && !st->t_beat)
            st->t_beat = env_timer_set(st->e, st->failover_timeout / 3, T_BEAT, 0);
        return;
    }
    if (kind == T_OP) {
        for (struct op *op = st->ops; op; op = op->next) {
            if (op->id != arg)
                continue;
            op->timer = 0;
            struct sb b = {0};
            for (int d = 0; d < st->ndest; d++)
                if (op->waiting & (1u << d))
                    sb_printf(&b, "%s%s", b.len ? ", " : "", nname(st, st->dest[d].node));
            char text[300];
            snprintf(text, sizeof text, "not acknowledged by %s in time: the write is logged here and keeps replicating",
                     b.s ? b.s : "?");
            sb_free(&b);
            json_t *e = json_pack("{s:s,s:i,s:s,s:b}", "type", "error", "code", ERR_TEMPORARILY_UNAVAILABLE, "text",
                                  text, "indefinite", 1);
            env_reply(st->e, op->client, op->req, e);
            op_free(st, op);
            return;
        }
    }
}

/* ---- status ---------------------------------------------------------------------------- */

static json_t *ml_status(void *vst)
{
    struct ml *st = vst;
    json_t *data = json_object();
    struct vitem **v = vtable_sorted(&st->data);
    long siblings = 0;
    for (size_t i = 0; v[i]; i++) {
        if (!v[i]->nv || vitem_is_tomb(v[i]))
            continue;
        json_object_set_new(data, v[i]->key, item_value(st, v[i]));
        if (v[i]->nv > 1)
            siblings++;
    }
    free(v);
    long pending = 0;
    json_t *backlog = json_object();
    for (int d = 0; d < st->ndest; d++) {
        pending += st->dest[d].pending;
        json_object_set_new(backlog, nname(st, st->dest[d].node), json_integer(st->dest[d].pending));
    }
    char dc[CL_IDLEN];
    dc_name(st->dc, dc);
    struct sb h = {0};
    hlc_text(st->hlc, &h);
    static const char *const cn[] = {"lww", "siblings", "merge"};
    static const char *const tn[] = {"all", "ring", "star"};
    json_t *extra = json_pack("{s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:o,s:s,s:s,s:s,s:s,s:I,s:I,s:I,s:I}", "dc", dc, "keys",
                              (json_int_t)st->data.n, "writes", (json_int_t)st->writes, "conflicts",
                              (json_int_t)st->conflicts, "lost", (json_int_t)st->lost, "siblings",
                              (json_int_t)siblings, "pending", (json_int_t)pending, "backlog", backlog,
                              "conflict", cn[st->conflict], "topology", tn[st->topology], "clock",
                              st->clock_hlc ? "hlc" : "physical", "hlc", h.s ? h.s : "", "dot",
                              (json_int_t)st->dot, "epoch", (json_int_t)st->epoch_of[st->dc], "failovers",
                              (json_int_t)st->failovers, "deletes", (json_int_t)st->deletes);
    sb_free(&h);
    if (st->conflict == C_MERGE)
        json_object_set_new(extra, "merge", json_string(st->mergefn == M_CRDT ? crdt_type_name(st->crdt_type)
                                                        : st->mergefn == M_MAX ? "max" : "union"));
    return json_pack("{s:s,s:s,s:s,s:o,s:o}", "role", is_leader(st) ? "leader" : "follower", "leader",
                     nname(st, st->leader), "dc", dc, "data", data, "extra", extra);
}

/* ---- life cycle ------------------------------------------------------------------------- */

static const struct mode_option ml_options[] = {
    {"dcs", OPT_INT, NULL, 1, CL_MAXN, "3", "data centres (each: a leader and followers; default min(3, N))"},
    {"conflict", OPT_ENUM, "lww|siblings|merge", 0, 0, "lww",
     "lww: the later timestamp wins, the other write is lost; siblings: version vectors keep both; merge: the application merges them"},
    {"merge", OPT_ENUM, "union|max|gcounter|pncounter|gset|2pset|orset|cart", 0, 0, "union",
     "with conflict=merge: union of comma-separated sets, the largest number, or a CRDT of the kit (a write is an operation: +5, -2, milk, -milk, milk:2)"},
    {"clock", OPT_ENUM, "physical|hlc", 0, 0, "physical", "lww timestamps: the node's (skewable) physical clock, or its hybrid logical clock"},
    {"topology", OPT_ENUM, "all|ring|star", 0, 0, "all", "who the DC leaders push to: everyone, the next DC, or dc1 as hub"},
    {"sync_timeout", OPT_DURATION, NULL, 0, 0, "2s", "a write not acked by its DC's followers by then is answered error 11 (indefinite)"},
    {"retry", OPT_DURATION, NULL, 0, 0, "200ms", "how often unacknowledged keys are pushed again"},
    {"failover", OPT_ENUM, "off|auto", 0, 0, "off",
     "auto: a centre's follower takes over when its leader is silent for failover_timeout (off: the centre refuses writes until its leader is back)"},
    {"failover_timeout", OPT_DURATION, NULL, 1000, 0, "1s", "with failover=auto: how long a follower waits for its leader's heartbeat"},
    {NULL, 0, NULL, 0, 0, NULL, NULL},
};

static void ml_destroy(void *vst)
{
    struct ml *st = vst;
    if (!st)
        return;
    while (st->ops)
        op_free(st, st->ops);
    env_timer_cancel(st->e, st->t_tick);
    env_timer_cancel(st->e, st->t_beat);
    env_timer_cancel(st->e, st->t_watch);
    vtable_clear(&st->data);
    free(st);
}

static int enum_index(const char *v, const char *const *names_)
{
    for (int i = 0; names_[i]; i++)
        if (!strcmp(v, names_[i]))
            return i;
    return 0;
}

static void *ml_create(struct env *e, const struct opts *o, char *err, size_t errlen)
{
    int dcs = multileader_dcs(o, e->n_nodes);
    if (dcs > e->n_nodes) {
        snprintf(err, errlen, "dcs=%d > %d nodes: each data centre needs a node to lead it", dcs, e->n_nodes);
        return NULL;
    }
    uint64_t sync_timeout = opts_get_duration(o, "sync_timeout", 2000000);
    uint64_t retry = opts_get_duration(o, "retry", 200000);
    if (!sync_timeout || !retry) {
        snprintf(err, errlen, "sync_timeout and retry must be above 0");
        return NULL;
    }
    const char *merge = opts_get(o, "merge", "union"), *conflict = opts_get(o, "conflict", NULL);
    int ctype = strcmp(merge, "union") && strcmp(merge, "max") ? crdt_type_of(merge) : -1;
    if (ctype >= 0 && conflict && strcmp(conflict, "merge")) {
        snprintf(err, errlen, "merge=%s is a CRDT: it needs conflict=merge (or no conflict= at all), not conflict=%s", merge,
                 conflict);
        return NULL;
    }
    struct ml *st = xcalloc(1, sizeof *st);
    static const char *const cn[] = {"lww", "siblings", "merge", NULL};
    static const char *const mn[] = {"union", "max", NULL};
    static const char *const kn[] = {"physical", "hlc", NULL};
    static const char *const tn[] = {"all", "ring", "star", NULL};
    st->e = e;
    st->dcs = multileader_layout(e->n_nodes, dcs, st->of, st->first);
    st->dc = st->of[e->self_idx];
    st->leader = st->first[st->dc];
    st->conflict = ctype >= 0 ? C_MERGE : enum_index(conflict ? conflict : "lww", cn);
    st->mergefn = ctype >= 0 ? M_CRDT : enum_index(merge, mn);
    st->crdt_type = ctype >= 0 ? (enum crdt_type)ctype : CRDT_PNCOUNTER;
    st->clock_hlc = enum_index(opts_get(o, "clock", "physical"), kn);
    st->topology = enum_index(opts_get(o, "topology", "all"), tn);
    st->sync_timeout = sync_timeout;
    st->retry = retry;
    const char *bug = opts_get(o, "bug", "none");
    st->bug_vv_sum = !strcmp(bug, "vv-sum");
    st->bug_drop_sibling = !strcmp(bug, "drop-sibling");
    st->failover = !strcmp(opts_get(o, "failover", "off"), "auto");
    st->failover_timeout = opts_get_duration(o, "failover_timeout", 1000000);
    if (st->failover_timeout < 3)
        st->failover_timeout = 3;
    for (int d = 0; d < st->dcs; d++)
        st->lead_of[d] = st->first[d];
    st->next_op = (env_rand(e) & 0xffffffffull) << 20;
    if (load_state(st, err, errlen) < 0) {
        ml_destroy(st);
        return NULL;
    }
    /* who I push to; what was pending before a restart is not known: everything goes out
     * again once */
    setup_dests(st);
    return st;
}

static void ml_start(void *vst)
{
    struct ml *st = vst;
    char dc[CL_IDLEN];
    dc_name(st->dc, dc);
    (void)dc;
    emit_state(st);
    st->t_tick = env_timer_set(st->e, st->retry, T_TICK, 0);
    if (st->failover && is_leader(st)) {
        send_beats(st);
        st->t_beat = env_timer_set(st->e, st->failover_timeout / 3, T_BEAT, 0);
    }
    arm_watch(st);
}

static const struct mode_handler ml_handlers[] = {
    {"read", on_read},
    {"write", on_write},
    {"ml_push", on_push},
    {"ml_push_ok", on_push_ok},
    {"ml_beat", on_beat},
    {"delete", on_delete},
    {NULL, NULL},
};

/* ---- the face (mode.h) ------------------------------------------------------------------ */

static const struct mode_role ml_roles[] = {
    {"leader", RC_LEADER},
    {"follower", RC_FOLLOWER},
    {NULL, RC_UNKNOWN},
};

static const struct mode_figure ml_figures[] = {
    {"dc", "dc", ""},
    {"extra.keys", "keys", "keys="},
    {"extra.conflicts", "conflicts", "conf="},
    {"extra.lost", "lost", "lost="},
    {"extra.pending", "pending", "pend="},
    {NULL, NULL, NULL},
};

static const char *const ml_client_types[] = {"read", "write", "delete", NULL};

/* The data centres: dc1, dc2, … of consecutive nodes. */
static int ml_groups(const struct opts *o, int n, char gnames[][CL_IDLEN], int of[CL_MAXN])
{
    int first[CL_MAXN];
    int k = multileader_layout(n, multileader_dcs(o, n), of, first);
    for (int d = 0; d < k; d++)
        dc_name(d, gnames[d]);
    return k;
}

const struct mode mode_multileader = {
    .name = "multileader",
    .summary = "a leader per data centre, synchronous inside it, asynchronous between them; conflicts by lww, siblings or merge",
    .options = ml_options,
    .bugs = "vv-sum|drop-sibling",
    .handlers = ml_handlers,
    .commands = NULL,
    .create = ml_create,
    .start = ml_start,
    .destroy = ml_destroy,
    .on_timer = on_timer,
    .status = ml_status,
    .monitor = &multileader_monitor,
    .workload = "lin-kv",
    .client_types = ml_client_types,
    .roles = ml_roles,
    .figures = ml_figures,
    .events = "state|write|apply|conflict|error|failover",
    .groups = ml_groups,
    .compare_as = "multi-leader",
    .compare_opts = "dcs=3",
};
