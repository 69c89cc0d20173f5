/* raftmon — the live Raft invariant monitor. See raftmon.h.
 *
 * State: per node, the log as its events describe it (entries after its snapshot base, each
 * with term, command hash and the event that appended it), its role and term; globally, per
 * term the first leader seen; per index the variants (term, predecessor term, command) ever
 * appended anywhere, the committed entry and the applied command. Everything is indexed by
 * log index in growable arrays, so each event costs O(entries it touches).
 */
#include "raftmon.h"

#include <stdlib.h>
#include <string.h>

#define MON_MAXN 64

struct mentry {
    uint64_t term, hash;
    uint64_t seq;
};

struct mnode {
    char id[CL_IDLEN];
    uint64_t inc;
    uint64_t base;              /* entries <= base are in a snapshot: unknown here */
    struct mentry *log;         /* log[k] = index base + 1 + k */
    size_t n, cap;
    int leader;
    uint64_t term;
    uint64_t leader_seq;
    uint64_t cmt;               /* highest index this incarnation reported committed */
};

struct variant {
    uint64_t term, prev_term, hash, seq;
    int node;
};

struct slot {                   /* everything known about one log index */
    struct variant *v;
    int nv;
    int committed, applied;
    uint64_t c_term, c_hash, c_at_term, c_seq, a_hash, a_seq;
    int c_node, a_node;
};

struct lead {
    uint64_t term, seq;
    int node;
};

struct raftmon {
    struct mnode nodes[MON_MAXN];
    int nn;
    struct slot *slots;         /* slots[i] for index i */
    size_t nslots;
    struct lead *leads;         /* open addressing on term */
    size_t leadcap, nleads;
    uint64_t max_committed;
    int violations;
    json_t *last;               /* the newest violation as an `invariant` event */
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

struct raftmon *raftmon_new(void)
{
    struct raftmon *m = xcalloc(1, sizeof *m);
    m->leadcap = 64;
    m->leads = xcalloc(m->leadcap, sizeof *m->leads);
    return m;
}

void raftmon_destroy(struct raftmon **mp)
{
    struct raftmon *m = *mp;
    if (!m)
        return;
    for (int i = 0; i < m->nn; i++)
        free(m->nodes[i].log);
    for (size_t i = 0; i < m->nslots; i++)
        free(m->slots[i].v);
    free(m->slots);
    free(m->leads);
    json_decref(m->last);
    free(m);
    *mp = NULL;
}

int raftmon_violations(const struct raftmon *m)
{
    return m->violations;
}

static int node_of(struct raftmon *m, const char *id)
{
    for (int i = 0; i < m->nn; i++)
        if (!strcmp(m->nodes[i].id, id))
            return i;
    if (m->nn == MON_MAXN || strlen(id) >= CL_IDLEN)
        return -1;
    struct mnode *nd = &m->nodes[m->nn];
    memset(nd, 0, sizeof *nd);
    str_copy(nd->id, id, CL_IDLEN);
    return m->nn++;
}

static struct slot *slot(struct raftmon *m, uint64_t i)
{
    /* an index far beyond anything seen (a forged or corrupt event) is not tracked: the
     * arrays grow with the logs, never by a jump */
    if (i >= (1ull << 40) || i >= m->nslots + (1u << 20))
        return NULL;
    if (i >= m->nslots) {
        size_t n = m->nslots ? m->nslots : 256;
        while (n <= i)
            n *= 2;
        m->slots = xrealloc(m->slots, n * sizeof *m->slots);
        memset(m->slots + m->nslots, 0, (n - m->nslots) * sizeof *m->slots);
        m->nslots = n;
    }
    return &m->slots[i];
}

static uint64_t node_last(const struct mnode *nd)
{
    return nd->base + nd->n;
}

/* The node's entry at index i, or NULL when unknown (in its snapshot or past its end). */
static struct mentry *node_entry(struct mnode *nd, uint64_t i)
{
    if (i <= nd->base || i > node_last(nd))
        return NULL;
    return &nd->log[i - nd->base - 1];
}

static void violation(struct raftmon *m, struct sb *alert, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void violation(struct raftmon *m, struct sb *alert, const char *fmt, ...)
{
    m->violations++;
    struct sb text = {0};
    va_list ap;
    va_start(ap, fmt);
    sb_vprintf(&text, fmt, ap);
    va_end(ap);
    /* the `invariant` event: name (before the colon), text, and the proving events, parsed
     * back from the "(events n1#41, n3#57)" tail every message ends with */
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

const json_t *raftmon_last(const struct raftmon *m)
{
    return m->last;
}

static uint64_t u(const json_t *ev, const char *k)
{
    json_int_t v = json_integer_value(json_object_get(ev, k));
    return v < 0 ? 0 : (uint64_t)v;
}

static struct lead *lead_find(struct raftmon *m, uint64_t term, int create)
{
    if (create && (m->nleads + 1) * 2 > m->leadcap) {
        struct lead *old = m->leads;
        size_t oc = m->leadcap;
        m->leadcap *= 2;
        m->leads = xcalloc(m->leadcap, sizeof *m->leads);
        m->nleads = 0;
        for (size_t i = 0; i < oc; i++)
            if (old[i].term)
                *lead_find(m, old[i].term, 1) = old[i];
        free(old);
    }
    size_t h = (size_t)(term * 0x9e3779b97f4a7c15ull) & (m->leadcap - 1);
    for (;; h = (h + 1) & (m->leadcap - 1)) {
        if (m->leads[h].term == term)
            return &m->leads[h];
        if (!m->leads[h].term) {
            if (!create)
                return NULL;
            m->leads[h].term = term;
            m->nleads++;
            return &m->leads[h];
        }
    }
}

/* Does leader node ni (of term t) hold every entry committed in a term before t? */
static int check_completeness(struct raftmon *m, int ni, uint64_t seq, struct sb *alert)
{
    struct mnode *nd = &m->nodes[ni];
    for (uint64_t i = nd->base + 1; i <= m->max_committed && i < m->nslots; i++) {
        struct slot *s = &m->slots[i];
        if (!s->committed || s->c_at_term >= nd->term)
            continue;
        struct mentry *en = node_entry(nd, i);
        if (!en || en->term != s->c_term) {
            violation(m, alert,
                      "Leader Completeness: %s leads term %llu without entry %llu (term %llu) "
                      "committed in term %llu (events %s#%llu, %s#%llu)",
                      nd->id, (unsigned long long)nd->term, (unsigned long long)i,
                      (unsigned long long)s->c_term, (unsigned long long)s->c_at_term,
                      m->nodes[s->c_node].id, (unsigned long long)s->c_seq, nd->id,
                      (unsigned long long)seq);
            return 1;
        }
    }
    return 0;
}

static int on_state(struct raftmon *m, int ni, const struct ev_state *st, uint64_t seq, struct sb *alert)
{
    struct mnode *nd = &m->nodes[ni];
    const char *role = st->role;
    uint64_t term = st->has_term ? st->term : 0;
    if (!role)
        return 0;
    nd->term = term;
    nd->leader = !strcmp(role, "leader");
    if (!nd->leader)
        return 0;
    nd->leader_seq = seq;
    struct lead *l = lead_find(m, term, 0);
    if (l && l->node != ni) {
        violation(m, alert,
                  "Election Safety: %s and %s are both leader of term %llu (events %s#%llu, %s#%llu)",
                  m->nodes[l->node].id, nd->id, (unsigned long long)term, m->nodes[l->node].id,
                  (unsigned long long)l->seq, nd->id, (unsigned long long)seq);
        return 1;
    }
    if (!l) {
        l = lead_find(m, term, 1);
        l->node = ni;
        l->seq = seq;
    }
    return check_completeness(m, ni, seq, alert);
}

static void node_push(struct mnode *nd, uint64_t term, uint64_t hash, uint64_t seq)
{
    if (nd->n == nd->cap) {
        nd->cap = nd->cap ? nd->cap * 2 : 64;
        nd->log = xrealloc(nd->log, nd->cap * sizeof *nd->log);
    }
    nd->log[nd->n++] = (struct mentry){.term = term, .hash = hash, .seq = seq};
}

static int on_append(struct raftmon *m, int ni, const json_t *ev, uint64_t seq, struct sb *alert)
{
    struct mnode *nd = &m->nodes[ni];
    uint64_t index = u(ev, "index"), term = u(ev, "term"), prev_term = u(ev, "prev_term");
    json_t *cmds = json_object_get(ev, "cmds");
    size_t count = (size_t)u(ev, "count");
    if (!index || !json_is_array(cmds) || json_array_size(cmds) != count)
        return 0;
    int bad = 0;
    for (size_t k = 0; k < count; k++) {
        uint64_t i = index + k;
        uint64_t pt = k == 0 ? prev_term : term;
        uint64_t h = hash_str(json_string_value(json_array_get(cmds, k)));
        struct slot *s = slot(m, i);
        if (!s)
            return bad;
        /* Log Matching: entries with one index and term hold one command and follow one
         * predecessor term (so, by induction, identical prefixes). */
        int seen = 0;
        for (int v = 0; v < s->nv && !bad; v++) {
            struct variant *va = &s->v[v];
            if (va->term != term)
                continue;
            seen = 1;
            if (va->hash != h || (va->prev_term != pt && i > 1)) {
                violation(m, alert,
                          "Log Matching: %s and %s hold different entries at index %llu term %llu "
                          "(%s) (events %s#%llu, %s#%llu)",
                          m->nodes[va->node].id, nd->id, (unsigned long long)i,
                          (unsigned long long)term,
                          va->hash != h ? "different commands" : "different predecessors",
                          m->nodes[va->node].id, (unsigned long long)va->seq, nd->id,
                          (unsigned long long)seq);
                bad = 1;
            }
        }
        if (!seen) {
            s->v = xrealloc(s->v, (size_t)(s->nv + 1) * sizeof *s->v);
            s->v[s->nv++] = (struct variant){.term = term, .prev_term = pt, .hash = h, .seq = seq, .node = ni};
        }
        /* the node's own log */
        if (i <= nd->base)
            continue;
        if (i - 1 > node_last(nd)) {
            /* events were lost: forget what came before */
            nd->base = i - 1;
            nd->n = 0;
        }
        nd->n = (size_t)(i - 1 - nd->base);
        node_push(nd, term, h, seq);
    }
    return bad;
}

static int on_truncate(struct raftmon *m, int ni, const json_t *ev, uint64_t seq, struct sb *alert)
{
    struct mnode *nd = &m->nodes[ni];
    uint64_t index = u(ev, "index");
    if (!index)
        return 0;
    int bad = 0;
    if (nd->leader && index <= node_last(nd)) {
        violation(m, alert,
                  "Leader Append-Only: leader %s of term %llu truncated its log from index %llu "
                  "(events %s#%llu, %s#%llu)",
                  nd->id, (unsigned long long)nd->term, (unsigned long long)index, nd->id,
                  (unsigned long long)nd->leader_seq, nd->id, (unsigned long long)seq);
        bad = 1;
    }
    for (uint64_t i = index; !bad && i <= node_last(nd) && i < m->nslots; i++) {
        struct slot *s = &m->slots[i];
        struct mentry *en = node_entry(nd, i);
        if (en && s->committed && s->c_term == en->term) {
            violation(m, alert,
                      "Leader Completeness: %s removed entry %llu (term %llu), which was committed "
                      "(events %s#%llu, %s#%llu)",
                      nd->id, (unsigned long long)i, (unsigned long long)en->term,
                      m->nodes[s->c_node].id, (unsigned long long)s->c_seq, nd->id,
                      (unsigned long long)seq);
            bad = 1;
        }
    }
    if (index - 1 < node_last(nd))
        nd->n = index - 1 > nd->base ? (size_t)(index - 1 - nd->base) : 0;
    return bad;
}

static int on_commit(struct raftmon *m, int ni, const json_t *ev, uint64_t seq, struct sb *alert)
{
    struct mnode *nd = &m->nodes[ni];
    uint64_t index = u(ev, "index");
    uint64_t at = json_object_get(ev, "cur_term") ? u(ev, "cur_term") : nd->term;
    uint64_t from = nd->cmt > nd->base ? nd->cmt + 1 : nd->base + 1;
    if (index > node_last(nd))
        index = node_last(nd);
    for (uint64_t i = from; i <= index; i++) {
        struct mentry *en = node_entry(nd, i);
        struct slot *s = slot(m, i);
        if (!en || !s)
            break;
        if (s->committed) {
            if (s->c_term != en->term || s->c_hash != en->hash) {
                violation(m, alert,
                          "State Machine Safety: %s and %s committed different entries at index %llu "
                          "(terms %llu and %llu) (events %s#%llu, %s#%llu)",
                          m->nodes[s->c_node].id, nd->id, (unsigned long long)i,
                          (unsigned long long)s->c_term, (unsigned long long)en->term,
                          m->nodes[s->c_node].id, (unsigned long long)s->c_seq, nd->id,
                          (unsigned long long)seq);
                nd->cmt = index;
                return 1;
            }
            if (at < s->c_at_term)
                s->c_at_term = at;
            continue;
        }
        s->committed = 1;
        s->c_term = en->term;
        s->c_hash = en->hash;
        s->c_at_term = at;
        s->c_seq = seq;
        s->c_node = ni;
        if (i > m->max_committed)
            m->max_committed = i;
        /* every current leader of a later term must already hold it */
        for (int l = 0; l < m->nn; l++) {
            struct mnode *ld = &m->nodes[l];
            if (!ld->leader || ld->term <= at || i <= ld->base)
                continue;
            struct mentry *le = node_entry(ld, i);
            if (!le || le->term != en->term) {
                violation(m, alert,
                          "Leader Completeness: %s leads term %llu without entry %llu (term %llu) "
                          "committed in term %llu (events %s#%llu, %s#%llu)",
                          ld->id, (unsigned long long)ld->term, (unsigned long long)i,
                          (unsigned long long)en->term, (unsigned long long)at, ld->id,
                          (unsigned long long)ld->leader_seq, nd->id, (unsigned long long)seq);
                nd->cmt = index;
                return 1;
            }
        }
    }
    if (index > nd->cmt)
        nd->cmt = index;
    return 0;
}

static int on_apply(struct raftmon *m, int ni, const json_t *ev, uint64_t seq, struct sb *alert)
{
    uint64_t index = u(ev, "index");
    const char *cmd = json_string_value(json_object_get(ev, "cmd"));
    struct slot *s = index ? slot(m, index) : NULL;
    if (!s || !cmd)
        return 0;
    uint64_t h = hash_str(cmd);
    if (s->applied && s->a_hash != h) {
        violation(m, alert,
                  "State Machine Safety: %s and %s applied different commands at index %llu "
                  "(%s applied \"%s\") (events %s#%llu, %s#%llu)",
                  m->nodes[s->a_node].id, m->nodes[ni].id, (unsigned long long)index,
                  m->nodes[ni].id, cmd, m->nodes[s->a_node].id, (unsigned long long)s->a_seq,
                  m->nodes[ni].id, (unsigned long long)seq);
        return 1;
    }
    if (!s->applied) {
        s->applied = 1;
        s->a_hash = h;
        s->a_seq = seq;
        s->a_node = ni;
    }
    return 0;
}

static void on_snapshot(struct raftmon *m, int ni, const json_t *ev)
{
    (void)m;
    struct mnode *nd = &m->nodes[ni];
    uint64_t index = u(ev, "index"), term = u(ev, "term");
    if (index <= nd->base)
        return;
    /* §7: a node keeps the entries after the snapshot when it holds the snapshot's last
     * entry (same index and term); otherwise its whole log is replaced */
    struct mentry *en = node_entry(nd, index);
    if (en && en->term == term) {
        size_t drop = (size_t)(index - nd->base);
        if (nd->n > drop)
            memmove(nd->log, nd->log + drop, (nd->n - drop) * sizeof *nd->log);
        nd->n -= drop;
    } else {
        nd->n = 0;
    }
    nd->base = index;
    if (nd->cmt < index)
        nd->cmt = index;
}

static void restarted(struct mnode *nd)
{
    nd->leader = 0;
    nd->cmt = 0;
}

int raftmon_feed(struct raftmon *m, const json_t *ev, struct sb *alert)
{
    struct event e; /* the typed event (event.h): the same decode as the lab and the dashboard */
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
    case EV_STATE:
        return on_state(m, ni, &e.state, seq, alert);
    case EV_SNAPSHOT:
        on_snapshot(m, ni, ev);
        return 0;
    case EV_APPEND:
        return on_append(m, ni, ev, seq, alert);
    case EV_APPLY:
        return on_apply(m, ni, ev, seq, alert);
    case EV_TRUNCATE:
        return on_truncate(m, ni, ev, seq, alert);
    case EV_COMMIT:
        return on_commit(m, ni, ev, seq, alert);
    case EV_FAULT:
        if (e.fault.what && (!strcmp(e.fault.what, "restart") || !strcmp(e.fault.what, "crash")))
            restarted(nd);
        return 0;
    default:
        return 0;
    }
}

/* ---- the mode's monitor face (mode.h) --------------------------------------------------- */

static void *mon_create(void) { return raftmon_new(); }
static int mon_feed(void *m, const json_t *ev, struct sb *alert) { return raftmon_feed(m, ev, alert); }
static int mon_violations(const void *m) { return raftmon_violations(m); }
static const json_t *mon_last(const void *m) { return raftmon_last(m); }
static void mon_destroy(void *m)
{
    struct raftmon *r = m;
    raftmon_destroy(&r);
}

const struct mode_monitor raftmon_monitor = {
    .create = mon_create,
    .feed = mon_feed,
    .violations = mon_violations,
    .last = mon_last,
    .destroy = mon_destroy,
};
