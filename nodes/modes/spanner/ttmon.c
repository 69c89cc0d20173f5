/* ttmon — the spanner mode's live monitor (mode.h's struct mode_monitor) and its check
 * `check external`. It reads the mode's events (spanner.c):
 *
 *   txn_begin  {id, op, key}               a coordinator took a client request;
 *   txn_commit {id, op, key, ts, wait_us}  it answered it, with timestamp ts;
 *   state      {epsilon_us}                the ε the nodes run with;
 *   clock      {offset_us, skew_us}        the runtime's report of a node's clock (`skew`,
 *                                          `clock drift`, `ntp`); the lab's fault {what: skew}.
 *
 * Event times ("t") are true time: the simulator's virtual clock, or on real processes the
 * host's monotonic clock, which every node process shares (node clocks, skew included, are
 * only in the timestamps).
 *
 * Invariant ExternalConsistency: if T1 was acknowledged before T2 began (t_commit(T1) <
 * t_begin(T2)), then ts(T1) < ts(T2). The committed transactions are kept sorted by commit
 * time with a running maximum of their timestamps, so a new T2 is judged against the largest
 * timestamp of everything acknowledged before it began, in O(log n).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spanner.h"

struct done {
    uint64_t t_end, ts, seq, wait_us;
    char node[CL_IDLEN];
    char op[8];
    char *key;
};

struct begin {
    uint64_t id, t, inc;
    char node[CL_IDLEN];
};

struct ttmon {
    uint64_t eps;
    int64_t skew[CL_MAXN];
    struct begin *b;
    size_t nb, capb;
    struct done *d;          /* ascending t_end */
    size_t *pmax;            /* pmax[i]: index of the largest ts among d[0..i] */
    size_t nd, capd;
    int violations;
    char *first;             /* the first violation's text */
    json_t *last;
};

static void *mon_create(void)
{
    return xcalloc(1, sizeof(struct ttmon));
}

static void mon_destroy(void *vm)
{
    struct ttmon *m = vm;
    if (!m)
        return;
    for (size_t i = 0; i < m->nd; i++)
        free(m->d[i].key);
    free(m->d);
    free(m->pmax);
    free(m->b);
    free(m->first);
    json_decref(m->last);
    free(m);
}

static int mon_violations(const void *vm)
{
    return ((const struct ttmon *)vm)->violations;
}

static const json_t *mon_last(const void *vm)
{
    return ((const struct ttmon *)vm)->last;
}

static int node_index(const char *id)
{
    if (!id || id[0] != 'n')
        return -1;
    char *end;
    long i = strtol(id + 1, &end, 10);
    return *end || i < 1 || i > CL_MAXN ? -1 : (int)i - 1;
}

static uint64_t u64(const json_t *ev, const char *k)
{
    json_int_t v = json_integer_value(json_object_get(ev, k));
    return v > 0 ? (uint64_t)v : 0;
}

static void ms_text(struct sb *b, uint64_t us)
{
    sb_printf(b, "%" PRIu64 ".%03" PRIu64 " ms", us / 1000, us % 1000);
}

/* The largest |skew| beyond ε, as " — n1's clock is 9.000 ms off, beyond ε = 7.000 ms: …". */
static void skew_note(const struct ttmon *m, struct sb *b)
{
    int worst = -1;
    uint64_t w = 0;
    for (int i = 0; i < CL_MAXN; i++) {
        uint64_t a = m->skew[i] < 0 ? (uint64_t)(-m->skew[i]) : (uint64_t)m->skew[i];
        if (a > m->eps && a > w) {
            w = a;
            worst = i;
        }
    }
    if (worst < 0)
        return;
    sb_printf(b, "; n%d's clock is ", worst + 1);
    ms_text(b, w);
    sb_add(b, " off, beyond ε = ");
    ms_text(b, m->eps);
    sb_add(b, ": TrueTime's interval no longer holds true time");
}

static void violation(struct ttmon *m, struct sb *alert, const struct done *t1, const char *node2, const char *op2,
                      const char *key2, uint64_t ts2, uint64_t gap, uint64_t seq2)
{
    m->violations++;
    struct sb text = {0};
    sb_printf(&text, "ExternalConsistency: %s's %s of %s began ", node2, op2, key2);
    ms_text(&text, gap);
    sb_printf(&text, " after %s's %s of %s was acknowledged, yet got an earlier timestamp (%" PRIu64 " ≤ %" PRIu64 ", ",
              t1->node, t1->op, t1->key, ts2, t1->ts);
    ms_text(&text, t1->ts - ts2);
    sb_add(&text, " earlier)");
    if (!strcmp(t1->op, "write") && !t1->wait_us)
        sb_printf(&text, "; %s acknowledged its write without waiting out TrueTime's uncertainty (no commit-wait)",
                  t1->node);
    skew_note(m, &text);
    sb_printf(&text, " (events %s#%" PRIu64 ", %s#%" PRIu64 ")", t1->node, t1->seq, node2, seq2);
    if (!m->first)
        m->first = xstrdup(text.s);
    json_decref(m->last);
    m->last = json_pack("{s:s,s:s,s:s,s:[I,I],s:[s,s]}", "ev", "invariant", "name", "ExternalConsistency", "text",
                        text.s, "events", (json_int_t)t1->seq, (json_int_t)seq2, "nodes", t1->node, node2);
    if (alert) {
        sb_add(alert, text.s);
        sb_addc(alert, '\n');
    }
    sb_free(&text);
}

/* Index of the last transaction acknowledged strictly before t, or -1. */
static long before(const struct ttmon *m, uint64_t t)
{
    long lo = 0, hi = (long)m->nd - 1, r = -1;
    while (lo <= hi) {
        long mid = (lo + hi) / 2;
        if (m->d[mid].t_end < t) {
            r = mid;
            lo = mid + 1;
        } else {
            hi = mid - 1;
        }
    }
    return r;
}

static void insert_done(struct ttmon *m, const struct done *x)
{
    if (m->nd == m->capd) {
        m->capd = m->capd ? 2 * m->capd : 256;
        m->d = xrealloc(m->d, m->capd * sizeof *m->d);
        m->pmax = xrealloc(m->pmax, m->capd * sizeof *m->pmax);
    }
    size_t i = m->nd;
    while (i > 0 && m->d[i - 1].t_end > x->t_end)
        i--;
    memmove(m->d + i + 1, m->d + i, (m->nd - i) * sizeof *m->d);
    m->d[i] = *x;
    m->nd++;
    for (size_t j = i; j < m->nd; j++) {
        size_t p = j ? m->pmax[j - 1] : j;
        m->pmax[j] = j && m->d[p].ts >= m->d[j].ts ? p : j;
    }
}

static int mon_feed(void *vm, const json_t *ev, struct sb *alert)
{
    struct ttmon *m = vm;
    const char *name = json_string_value(json_object_get(ev, "ev"));
    const char *node = json_string_value(json_object_get(ev, "node"));
    if (!name || !node)
        return 0;
    if (!strcmp(name, "state")) {
        uint64_t e = u64(ev, "epsilon_us");
        if (json_object_get(ev, "epsilon_us"))
            m->eps = e;
        return 0;
    }
    if (!strcmp(name, "clock")) { /* the runtime's: its offset now (skew, drift, NTP), else its skew */
        int i = node_index(node);
        const json_t *o = json_object_get(ev, "offset_us");
        if (!json_is_integer(o))
            o = json_object_get(ev, "skew_us");
        if (i >= 0 && json_is_integer(o))
            m->skew[i] = (int64_t)json_integer_value(o);
        return 0;
    }
    if (!strcmp(name, "fault")) { /* the lab's `skew` (the simulator in the lab has no clock event) */
        const char *what = json_string_value(json_object_get(ev, "what"));
        int i = node_index(json_string_value(json_object_get(ev, "target")));
        if (what && !strcmp(what, "skew") && i >= 0 && json_is_integer(json_object_get(ev, "skew_ms")))
            m->skew[i] = (int64_t)json_integer_value(json_object_get(ev, "skew_ms")) * 1000;
        return 0;
    }
    if (!strcmp(name, "txn_begin")) {
        if (m->nb == m->capb) {
            m->capb = m->capb ? 2 * m->capb : 64;
            m->b = xrealloc(m->b, m->capb * sizeof *m->b);
        }
        struct begin *b = &m->b[m->nb++];
        memset(b, 0, sizeof *b);
        b->id = u64(ev, "id");
        b->t = u64(ev, "t");
        b->inc = u64(ev, "inc");
        str_copy(b->node, node, sizeof b->node);
        return 0;
    }
    if (strcmp(name, "txn_commit"))
        return 0;
    uint64_t id = u64(ev, "id"), t = u64(ev, "t"), inc = u64(ev, "inc");
    uint64_t t_begin = t;
    for (size_t i = 0; i < m->nb; i++)
        if (m->b[i].id == id && m->b[i].inc == inc && !strcmp(m->b[i].node, node)) {
            t_begin = m->b[i].t;
            m->b[i] = m->b[--m->nb];
            break;
        }
    const char *op = json_string_value(json_object_get(ev, "op"));
    const char *key = json_string_value(json_object_get(ev, "key"));
    struct done x = {0};
    x.t_end = t;
    x.ts = u64(ev, "ts");
    x.seq = u64(ev, "seq");
    x.wait_us = u64(ev, "wait_us");
    str_copy(x.node, node, sizeof x.node);
    str_copy(x.op, op ? op : "?", sizeof x.op);
    int before_v = m->violations;
    long j = before(m, t_begin);
    if (j >= 0) {
        const struct done *t1 = &m->d[m->pmax[j]];
        if (t1->ts >= x.ts)
            violation(m, alert, t1, node, x.op, key ? key : "?", x.ts, t_begin - t1->t_end, x.seq);
    }
    x.key = xstrdup(key ? key : "?");
    insert_done(m, &x);
    return m->violations > before_v;
}

const struct mode_monitor spanner_monitor = {
    .create = mon_create,
    .feed = mon_feed,
    .violations = mon_violations,
    .last = mon_last,
    .destroy = mon_destroy,
};

static int check_external(const void *vm, const json_t *const *status, int n, struct sb *out)
{
    (void)status;
    (void)n;
    const struct ttmon *m = vm;
    if (!m) {
        sb_add(out, "cannot judge: no monitor saw this run's events");
        return 2;
    }
    if (m->violations) {
        sb_printf(out, "external consistency violated (%d pair%s): %s", m->violations, m->violations == 1 ? "" : "s",
                  m->first);
        return 1;
    }
    if (!m->nd) {
        sb_add(out, "cannot judge: no transaction was acknowledged yet");
        return 2;
    }
    sb_printf(out, "external consistency holds: %zu transaction%s, and each that began after another was acknowledged "
                   "has a later timestamp",
              m->nd, m->nd == 1 ? "" : "s");
    return 0;
}

const struct mode_check spanner_checks[] = {
    {"external", "external consistency (spanner): a transaction that began after another was acknowledged has a later timestamp",
     check_external},
    {NULL, NULL, NULL},
};
