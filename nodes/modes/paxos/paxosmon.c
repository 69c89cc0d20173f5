/* paxosmon — the live Paxos invariant monitor. See paxosmon.h.
 *
 * State: per node, the highest ballot it promised (and the event that did) and the last slot
 * it applied; per slot, every (ballot, command) some acceptor accepted with the set of
 * acceptors that did, the command known chosen there (and the event that showed it), and the
 * command applied there. Slots are a growable array indexed by slot number.
 */
#include "paxosmon.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"

#define MON_MAXN 64
#define MON_MAXSLOT (1u << 24)

struct variant {
    uint64_t ballot, hash;
    uint64_t nodes;             /* bit i: node i accepted it */
    uint64_t seq;
    int node;
};

struct mslot {
    struct variant *v;
    int nv;
    int chosen, applied;
    uint64_t c_hash, a_hash, c_seq, a_seq;
    int c_node, a_node;
    char *c_cmd;
};

struct mnode {
    char id[CL_IDLEN];
    uint64_t inc;
    uint64_t promised, p_seq;
    uint64_t applied;
};

struct paxosmon {
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

struct paxosmon *paxosmon_new(void)
{
    return xcalloc(1, sizeof(struct paxosmon));
}

void paxosmon_destroy(struct paxosmon **mp)
{
    struct paxosmon *m = *mp;
    if (!m)
        return;
    for (size_t i = 0; i < m->nslots; i++) {
        free(m->slots[i].v);
        free(m->slots[i].c_cmd);
    }
    free(m->slots);
    json_decref(m->last);
    free(m);
    *mp = NULL;
}

int paxosmon_violations(const struct paxosmon *m)
{
    return m->violations;
}

const json_t *paxosmon_last(const struct paxosmon *m)
{
    return m->last;
}

static void violation(struct paxosmon *m, struct sb *alert, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void violation(struct paxosmon *m, struct sb *alert, const char *fmt, ...)
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
        json_array_append_new(json_object_get(m->last, "events"),
                              json_integer((json_int_t)strtoll(hash + 1, NULL, 10)));
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

static int node_of(struct paxosmon *m, const char *id)
{
    for (int i = 0; i < m->nn; i++)
        if (!strcmp(m->nodes[i].id, id))
            return i;
    if (m->nn >= MON_MAXN)
        return -1;
    str_copy(m->nodes[m->nn].id, id, CL_IDLEN);
    return m->nn++;
}

static struct mslot *slot_of(struct paxosmon *m, uint64_t s)
{
    if (s == 0 || s >= MON_MAXSLOT)
        return NULL;
    if (s >= m->nslots) {
        size_t n = m->nslots ? m->nslots : 64;
        while (n <= s)
            n *= 2;
        m->slots = xrealloc(m->slots, n * sizeof *m->slots);
        memset(m->slots + m->nslots, 0, (n - m->nslots) * sizeof *m->slots);
        m->nslots = n;
    }
    return &m->slots[s];
}

static uint64_t u(const json_t *ev, const char *k)
{
    json_int_t v = json_integer_value(json_object_get(ev, k));
    return v < 0 ? 0 : (uint64_t)v;
}

static int popcount64(uint64_t x)
{
    int n = 0;
    for (; x; x &= x - 1)
        n++;
    return n;
}

/* Slot s is shown chosen with cmd by node ni's event seq: Agreement. */
static int chosen(struct paxosmon *m, uint64_t s, const char *cmd, int ni, uint64_t seq, const char *how,
                  struct sb *alert)
{
    struct mslot *sl = slot_of(m, s);
    if (!sl || !cmd)
        return 0;
    uint64_t h = hash_str(cmd);
    if (!sl->chosen) {
        sl->chosen = 1;
        sl->c_hash = h;
        sl->c_cmd = xstrdup(cmd);
        sl->c_seq = seq;
        sl->c_node = ni;
        return 0;
    }
    if (sl->c_hash == h)
        return 0;
    violation(m, alert,
              "Agreement: two values chosen for slot %llu: \"%s\" and \"%s\" (%s) (events %s#%llu, %s#%llu)",
              (unsigned long long)s, sl->c_cmd, cmd, how, m->nodes[sl->c_node].id, (unsigned long long)sl->c_seq,
              m->nodes[ni].id, (unsigned long long)seq);
    return 1;
}

static int on_promise(struct paxosmon *m, int ni, const json_t *ev, uint64_t seq)
{
    struct mnode *nd = &m->nodes[ni];
    uint64_t b = u(ev, "ballot");
    if (b > nd->promised) {
        nd->promised = b;
        nd->p_seq = seq;
    }
    return 0;
}

static int on_accepted(struct paxosmon *m, int ni, const json_t *ev, uint64_t seq, struct sb *alert)
{
    struct mnode *nd = &m->nodes[ni];
    uint64_t b = u(ev, "ballot");
    int q = (int)u(ev, "quorum");
    int bad = 0;
    if (b < nd->promised) {
        const char *bt = json_string_value(json_object_get(ev, "ballot_text"));
        violation(m, alert,
                  "Promise Kept: %s accepted ballot %s (%llu) below the ballot %llu it had promised (events %s#%llu, %s#%llu)",
                  nd->id, bt ? bt : "?", (unsigned long long)b, (unsigned long long)nd->promised, nd->id,
                  (unsigned long long)nd->p_seq, nd->id, (unsigned long long)seq);
        bad = 1;
    } else if (b > nd->promised) {
        nd->promised = b;
        nd->p_seq = seq;
    }
    size_t i;
    const json_t *c;
    json_array_foreach(json_object_get(ev, "cmds"), i, c) {
        uint64_t s = (uint64_t)json_integer_value(json_array_get(c, 0));
        const char *cmd = json_string_value(json_array_get(c, 1));
        struct mslot *sl = slot_of(m, s);
        if (!sl || !cmd)
            continue;
        uint64_t h = hash_str(cmd);
        struct variant *v = NULL;
        for (int k = 0; k < sl->nv; k++)
            if (sl->v[k].ballot == b && sl->v[k].hash == h)
                v = &sl->v[k];
        if (!v) {
            sl->v = xrealloc(sl->v, (size_t)(sl->nv + 1) * sizeof *sl->v);
            v = &sl->v[sl->nv++];
            memset(v, 0, sizeof *v);
            v->ballot = b;
            v->hash = h;
        }
        v->nodes |= 1ull << ni;
        v->seq = seq;
        v->node = ni;
        if (q > 0 && popcount64(v->nodes) >= q && !bad)
            bad |= chosen(m, s, cmd, ni, seq, "accepted by a majority", alert);
    }
    return bad;
}

static int on_learnt_one(struct paxosmon *m, int ni, uint64_t s, const char *cmd, uint64_t seq, const char *what,
                         struct sb *alert)
{
    struct mslot *sl = slot_of(m, s);
    if (!sl || !cmd)
        return 0;
    if (!strcmp(what, "learn") && sl->chosen && sl->c_hash != hash_str(cmd)) {
        violation(m, alert,
                  "Learned Chosen: %s learnt \"%s\" for slot %llu where \"%s\" was chosen (events %s#%llu, %s#%llu)",
                  m->nodes[ni].id, cmd, (unsigned long long)s, sl->c_cmd, m->nodes[sl->c_node].id,
                  (unsigned long long)sl->c_seq, m->nodes[ni].id, (unsigned long long)seq);
        return 1;
    }
    return chosen(m, s, cmd, ni, seq, what, alert);
}

/* `chosen` and `learn` carry the burst's slots in cmds ([[slot, cmd], …]), or one slot and cmd. */
static int on_learnt(struct paxosmon *m, int ni, const json_t *ev, uint64_t seq, const char *what, struct sb *alert)
{
    const json_t *cmds = json_object_get(ev, "cmds");
    if (!json_is_array(cmds))
        return on_learnt_one(m, ni, u(ev, "slot"), json_string_value(json_object_get(ev, "cmd")), seq, what, alert);
    size_t i;
    const json_t *c;
    json_array_foreach(cmds, i, c) {
        if (on_learnt_one(m, ni, (uint64_t)json_integer_value(json_array_get(c, 0)),
                          json_string_value(json_array_get(c, 1)), seq, what, alert))
            return 1;
    }
    return 0;
}

static int on_apply(struct paxosmon *m, int ni, const json_t *ev, uint64_t seq, struct sb *alert)
{
    struct mnode *nd = &m->nodes[ni];
    uint64_t s = u(ev, "index");
    const char *cmd = json_string_value(json_object_get(ev, "cmd"));
    struct mslot *sl = slot_of(m, s);
    if (!sl || !cmd)
        return 0;
    if (s != nd->applied + 1) {
        uint64_t was = nd->applied;
        nd->applied = s;
        violation(m, alert, "In-Order Apply: %s applied slot %llu after slot %llu (events %s#%llu)", nd->id,
                  (unsigned long long)s, (unsigned long long)was, nd->id, (unsigned long long)seq);
        return 1;
    }
    nd->applied = s;
    uint64_t h = hash_str(cmd);
    if (!sl->applied) {
        sl->applied = 1;
        sl->a_hash = h;
        sl->a_seq = seq;
        sl->a_node = ni;
    } else if (sl->a_hash != h) {
        violation(m, alert, "In-Order Apply: %s applied \"%s\" at slot %llu where %s applied another command (events %s#%llu, %s#%llu)",
                  nd->id, cmd, (unsigned long long)s, m->nodes[sl->a_node].id, m->nodes[sl->a_node].id,
                  (unsigned long long)sl->a_seq, nd->id, (unsigned long long)seq);
        return 1;
    }
    if (sl->chosen && sl->c_hash != h) {
        violation(m, alert, "Learned Chosen: %s applied \"%s\" at slot %llu where \"%s\" was chosen (events %s#%llu, %s#%llu)",
                  nd->id, cmd, (unsigned long long)s, sl->c_cmd, m->nodes[sl->c_node].id,
                  (unsigned long long)sl->c_seq, nd->id, (unsigned long long)seq);
        return 1;
    }
    return 0;
}

int paxosmon_feed(struct paxosmon *m, const json_t *ev, struct sb *alert)
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
            nd->applied = 0;
        nd->inc = e.inc;
    }
    if (e.kind == EV_FAULT) {
        if (e.fault.what && (!strcmp(e.fault.what, "restart") || !strcmp(e.fault.what, "crash")))
            nd->applied = 0;
        return 0;
    }
    if (e.kind == EV_APPLY)
        return on_apply(m, ni, ev, seq, alert);
    if (!e.name)
        return 0;
    if (!strcmp(e.name, "promise"))
        return on_promise(m, ni, ev, seq);
    if (!strcmp(e.name, "accepted"))
        return on_accepted(m, ni, ev, seq, alert);
    if (!strcmp(e.name, "chosen") || !strcmp(e.name, "learn"))
        return on_learnt(m, ni, ev, seq, e.name, alert);
    return 0;
}

/* ---- the mode's monitor face (mode.h) --------------------------------------------------- */

static void *mon_create(void) { return paxosmon_new(); }
static int mon_feed(void *m, const json_t *ev, struct sb *alert) { return paxosmon_feed(m, ev, alert); }
static int mon_violations(const void *m) { return paxosmon_violations(m); }
static const json_t *mon_last(const void *m) { return paxosmon_last(m); }
static void mon_destroy(void *m)
{
    struct paxosmon *p = m;
    paxosmon_destroy(&p);
}

const struct mode_monitor paxosmon_monitor = {
    .create = mon_create,
    .feed = mon_feed,
    .violations = mon_violations,
    .last = mon_last,
    .destroy = mon_destroy,
};
