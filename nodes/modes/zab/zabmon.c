/* zabmon — the live ZAB invariant monitor. See zabmon.h.
 *
 * State: per node, the last index and zxid it delivered, its commit index (volatile: reset on
 * restart); per index, the proposal first delivered there (zxid, command) and every proposal a
 * leader broadcast there (zxid, command). Indexes are a growable array.
 */
#include "zabmon.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"

#define MON_MAXN 64
#define MON_MAXIDX (1u << 24)

struct prop {
    uint64_t zxid, hash;
};

struct mslot {
    int delivered;
    uint64_t d_zxid, d_hash, d_seq;
    int d_node;
    char *d_cmd;
    struct prop *p;
    int np;
};

struct mnode {
    char id[CL_IDLEN];
    uint64_t inc;
    uint64_t applied, last_zxid, commit;
    int fresh;                  /* no delivery since the (re)start */
};

struct zabmon {
    struct mnode nodes[MON_MAXN];
    int nn;
    struct mslot *slots;
    size_t nslots;
    int violations;
    json_t *last;
};

static uint64_t hash_str(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (; s && *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ull;
    }
    return h;
}

struct zabmon *zabmon_new(void)
{
    struct zabmon *m = xcalloc(1, sizeof *m);
    return m;
}

void zabmon_destroy(struct zabmon **mp)
{
    struct zabmon *m = *mp;
    if (!m)
        return;
    for (size_t i = 0; i < m->nslots; i++) {
        free(m->slots[i].d_cmd);
        free(m->slots[i].p);
    }
    free(m->slots);
    json_decref(m->last);
    free(m);
    *mp = NULL;
}

int zabmon_violations(const struct zabmon *m) { return m->violations; }
const json_t *zabmon_last(const struct zabmon *m) { return m->last; }

static void violation(struct zabmon *m, struct sb *alert, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void violation(struct zabmon *m, struct sb *alert, const char *fmt, ...)
{
    m->violations++;
    struct sb text = {0};
    va_list ap;
    va_start(ap, fmt);
    sb_vprintf(&text, fmt, ap);
    va_end(ap);
    json_decref(m->last);
    const char *colon = strchr(text.s, ':');
    m->last = json_pack("{s:s,s:s%,s:s,s:[],s:[]}", "ev", "invariant", "name", text.s,
                        (size_t)(colon ? colon - text.s : 0), "text", text.s, "events", "nodes");
    const char *tail = strstr(text.s, "(events ");
    for (const char *p = tail ? tail + 8 : NULL; p && *p && *p != ')';) {
        const char *hash = strchr(p, '#');
        if (!hash)
            break;
        json_array_append_new(json_object_get(m->last, "nodes"), json_stringn(p, (size_t)(hash - p)));
        json_array_append_new(json_object_get(m->last, "events"), json_integer((json_int_t)strtoll(hash + 1, NULL, 10)));
        p = strpbrk(hash, ",)");
        while (p && (*p == ',' || *p == ' '))
            p++;
    }
    if (alert) {
        sb_add(alert, text.s);
        sb_addc(alert, '\n');
    }
    sb_free(&text);
}

static int node_of(struct zabmon *m, const char *id)
{
    for (int i = 0; i < m->nn; i++)
        if (!strcmp(m->nodes[i].id, id))
            return i;
    if (m->nn >= MON_MAXN)
        return -1;
    str_copy(m->nodes[m->nn].id, id, CL_IDLEN);
    m->nodes[m->nn].fresh = 1;
    return m->nn++;
}

static struct mslot *slot_of(struct zabmon *m, uint64_t i)
{
    if (i == 0 || i >= MON_MAXIDX)
        return NULL;
    if (i >= m->nslots) {
        size_t n = m->nslots ? m->nslots : 64;
        while (n <= i)
            n *= 2;
        m->slots = xrealloc(m->slots, n * sizeof *m->slots);
        memset(m->slots + m->nslots, 0, (n - m->nslots) * sizeof *m->slots);
        m->nslots = n;
    }
    return &m->slots[i];
}

static uint64_t u(const json_t *ev, const char *k)
{
    json_int_t v = json_integer_value(json_object_get(ev, k));
    return v < 0 ? 0 : (uint64_t)v;
}

/* Integrity: a proposal broadcast at index i with zxid must carry one command. */
static int check_integrity(struct zabmon *m, struct mslot *sl, uint64_t i, uint64_t zxid, uint64_t h, const char *cmd,
                           int ni, uint64_t seq, struct sb *alert)
{
    for (int k = 0; k < sl->np; k++)
        if (sl->p[k].zxid == zxid && sl->p[k].hash != h) {
            violation(m, alert, "Integrity: %s delivered \"%s\" at index %llu (zxid 0x%llx) but the leader broadcast another command there (events %s#%llu)",
                      m->nodes[ni].id, cmd, (unsigned long long)i, (unsigned long long)zxid, m->nodes[ni].id,
                      (unsigned long long)seq);
            return 1;
        }
    return 0;
}

static int on_propose(struct zabmon *m, const json_t *ev)
{
    uint64_t i = u(ev, "index"), zx = u(ev, "zxid");
    const char *cmd = json_string_value(json_object_get(ev, "cmd"));
    struct mslot *sl = slot_of(m, i);
    if (!sl || !cmd)
        return 0;
    for (int k = 0; k < sl->np; k++)
        if (sl->p[k].zxid == zx)
            return 0;
    sl->p = xrealloc(sl->p, (size_t)(sl->np + 1) * sizeof *sl->p);
    sl->p[sl->np++] = (struct prop){zx, hash_str(cmd)};
    return 0;
}

static int on_apply(struct zabmon *m, int ni, const json_t *ev, uint64_t seq, struct sb *alert)
{
    struct mnode *nd = &m->nodes[ni];
    uint64_t i = u(ev, "index"), zx = u(ev, "zxid");
    const char *cmd = json_string_value(json_object_get(ev, "cmd"));
    struct mslot *sl = slot_of(m, i);
    if (!sl || !cmd)
        return 0;
    uint64_t h = hash_str(cmd);
    int bad = 0;
    if (!nd->fresh && i != nd->applied + 1) {
        violation(m, alert, "Primary Order: %s delivered index %llu after index %llu (events %s#%llu)", nd->id,
                  (unsigned long long)i, (unsigned long long)nd->applied, nd->id, (unsigned long long)seq);
        bad = 1;
    } else if (!nd->fresh && zx <= nd->last_zxid) {
        violation(m, alert, "Primary Order: %s delivered zxid 0x%llx after 0x%llx (events %s#%llu)", nd->id,
                  (unsigned long long)zx, (unsigned long long)nd->last_zxid, nd->id, (unsigned long long)seq);
        bad = 1;
    }
    nd->fresh = 0;
    nd->applied = i;
    nd->last_zxid = zx;
    if (bad)
        return 1;
    if (!sl->delivered) {
        sl->delivered = 1;
        sl->d_zxid = zx;
        sl->d_hash = h;
        sl->d_seq = seq;
        sl->d_node = ni;
        sl->d_cmd = xstrdup(cmd);
    } else if (sl->d_zxid != zx || sl->d_hash != h) {
        violation(m, alert, "Agreement: at index %llu %s delivered \"%s\" (zxid 0x%llx) and %s delivered \"%s\" (zxid 0x%llx) (events %s#%llu, %s#%llu)",
                  (unsigned long long)i, m->nodes[sl->d_node].id, sl->d_cmd, (unsigned long long)sl->d_zxid, nd->id, cmd,
                  (unsigned long long)zx, m->nodes[sl->d_node].id, (unsigned long long)sl->d_seq, nd->id,
                  (unsigned long long)seq);
        return 1;
    }
    return check_integrity(m, sl, i, zx, h, cmd, ni, seq, alert);
}

static int on_commit(struct zabmon *m, int ni, const json_t *ev, uint64_t seq, struct sb *alert)
{
    struct mnode *nd = &m->nodes[ni];
    uint64_t i = u(ev, "index");
    if (i > nd->commit)
        nd->commit = i;
    const json_t *acks = json_object_get(ev, "acks"), *q = json_object_get(ev, "quorum");
    if (json_is_integer(acks) && json_is_integer(q) && json_integer_value(acks) < json_integer_value(q)) {
        violation(m, alert, "Commit Quorum: %s committed index %llu with %lld acknowledgements of the %lld a quorum needs (events %s#%llu)",
                  nd->id, (unsigned long long)i, (long long)json_integer_value(acks), (long long)json_integer_value(q),
                  nd->id, (unsigned long long)seq);
        return 1;
    }
    return 0;
}

static int on_truncate(struct zabmon *m, int ni, const json_t *ev, uint64_t seq, struct sb *alert)
{
    struct mnode *nd = &m->nodes[ni];
    uint64_t from = u(ev, "index");
    if (from && from <= nd->commit) {
        violation(m, alert, "Committed Kept: %s truncated from index %llu though it had committed up to %llu (events %s#%llu)",
                  nd->id, (unsigned long long)from, (unsigned long long)nd->commit, nd->id, (unsigned long long)seq);
        return 1;
    }
    return 0;
}

static int on_logged(struct zabmon *m, int ni, const json_t *ev, uint64_t seq, struct sb *alert)
{
    struct mnode *nd = &m->nodes[ni];
    uint64_t e = u(ev, "epoch"), a = u(ev, "accepted_epoch");
    if (e < a) {
        violation(m, alert, "Epoch Fencing: %s logged a proposal of epoch %llu after accepting epoch %llu (events %s#%llu)",
                  nd->id, (unsigned long long)e, (unsigned long long)a, nd->id, (unsigned long long)seq);
        return 1;
    }
    return 0;
}

static void restarted(struct mnode *nd)
{
    nd->fresh = 1;
    nd->commit = 0;
}

int zabmon_feed(struct zabmon *m, const json_t *ev, struct sb *alert)
{
    struct event e;
    char err[64];
    if (event_decode(ev, &e, err, sizeof err) < 0 || !e.node)
        return 0;
    int ni = node_of(m, e.node);
    if (ni < 0)
        return 0;
    struct mnode *nd = &m->nodes[ni];
    uint64_t seq = e.has_seq ? e.seq : 0;
    if (e.has_inc && e.inc != nd->inc) {
        if (nd->inc)
            restarted(nd);
        nd->inc = e.inc;
    }
    switch (e.kind) {
    case EV_FAULT:
        if (e.fault.what && (!strcmp(e.fault.what, "restart") || !strcmp(e.fault.what, "crash")))
            restarted(nd);
        return 0;
    case EV_APPLY:
        return on_apply(m, ni, ev, seq, alert);
    case EV_COMMIT:
        return on_commit(m, ni, ev, seq, alert);
    case EV_TRUNCATE:
        return on_truncate(m, ni, ev, seq, alert);
    case EV_SNAPSHOT:
        nd->fresh = 1; /* the next delivery follows the snapshot */
        return 0;
    default:
        break;
    }
    if (!e.name)
        return 0;
    if (!strcmp(e.name, "propose"))
        return on_propose(m, ev);
    if (!strcmp(e.name, "logged"))
        return on_logged(m, ni, ev, seq, alert);
    return 0;
}

static void *mon_create(void) { return zabmon_new(); }
static int mon_feed(void *m, const json_t *ev, struct sb *alert) { return zabmon_feed(m, ev, alert); }
static int mon_violations(const void *m) { return zabmon_violations(m); }
static const json_t *mon_last(const void *m) { return zabmon_last(m); }
static void mon_destroy(void *m)
{
    struct zabmon *z = m;
    zabmon_destroy(&z);
}

const struct mode_monitor zabmon_monitor = {
    .create = mon_create,
    .feed = mon_feed,
    .violations = mon_violations,
    .last = mon_last,
    .destroy = mon_destroy,
};
