/* swimmon — the swim mode's live monitor (swim.h). Fed every event of a run in the order the
 * lab received it; it relies only on each node's own events being in order.
 *
 * State: view[i][j], what member i last said about member j (status, incarnation; from i's
 * `member` events), kept sparse: row i holds only the members i said something about (the
 * others are alive at incarnation 0), so 1,000 simulated members do not cost a million
 * entries; per node: up, crashed or paused (the lab's faults), the highest incarnation
 * it ever said of itself (its `state` and `refute` events), when it crashed and when the last
 * up member came to hold it dead; the false positives so far: suspect or dead declarations of
 * a member that was not crashed or paused since every up member last held it alive.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "swim.h"

enum { V_ALIVE, V_SUSPECT, V_DEAD };

struct mview {
    uint8_t st;
    uint64_t inc;
    uint64_t dead_inc;          /* the incarnation it confirmed j dead at (with had_dead) */
    uint8_t had_dead;
};

/* Row i of the view: the members i said something about, sorted by j. */
struct mrow {
    int n, cap;
    struct ment {
        int j;
        struct mview v;
    } *e;
};

#define MAXM CL_SIM_MAXNODES            /* members: the simulator's 1,000-node clusters */

struct swimmon {
    struct mrow v[MAXM];
    int n;
    uint8_t down[MAXM], paused[MAXM];
    uint8_t touched[MAXM];              /* crashed or paused since every up member last held it alive */
    uint64_t own_inc[MAXM];
    uint8_t said_inc[MAXM];
    uint64_t crash_t[MAXM], dead_t[MAXM];
    int fp_suspect, fp_dead;
    int violations;
    json_t *last;
};

static void *mon_create(void)
{
    return xcalloc(1, sizeof(struct swimmon));
}

static void mon_destroy(void *vm)
{
    struct swimmon *m = vm;
    if (!m)
        return;
    for (int i = 0; i < MAXM; i++)
        free(m->v[i].e);
    json_decref(m->last);
    free(m);
}

/* What i last said about j: its entry, or NULL (alive at incarnation 0, never dead). */
static const struct mview *view(const struct swimmon *m, int i, int j)
{
    const struct mrow *r = &m->v[i];
    int lo = 0, hi = r->n;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (r->e[mid].j < j)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < r->n && r->e[lo].j == j ? &r->e[lo].v : NULL;
}

static int view_st(const struct swimmon *m, int i, int j)
{
    const struct mview *v = view(m, i, j);
    return v ? v->st : V_ALIVE;
}

/* i's entry about j, made (alive at 0) when there is none. */
static struct mview *view_put(struct swimmon *m, int i, int j)
{
    struct mrow *r = &m->v[i];
    int lo = 0, hi = r->n;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (r->e[mid].j < j)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < r->n && r->e[lo].j == j)
        return &r->e[lo].v;
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 4;
        r->e = xrealloc(r->e, (size_t)r->cap * sizeof *r->e);
    }
    memmove(&r->e[lo + 1], &r->e[lo], (size_t)(r->n - lo) * sizeof *r->e);
    r->n++;
    memset(&r->e[lo], 0, sizeof r->e[lo]);
    r->e[lo].j = j;
    return &r->e[lo].v;
}

static int mon_violations(const void *vm)
{
    return ((const struct swimmon *)vm)->violations;
}

static const json_t *mon_last(const void *vm)
{
    return ((const struct swimmon *)vm)->last;
}

static void violation(struct swimmon *m, struct sb *alert, const char *name, const char *node, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void violation(struct swimmon *m, struct sb *alert, const char *name, const char *node, const char *fmt, ...)
{
    m->violations++;
    struct sb text = {0};
    va_list ap;
    va_start(ap, fmt);
    sb_printf(&text, "%s: ", name);
    sb_vprintf(&text, fmt, ap);
    va_end(ap);
    json_decref(m->last);
    m->last = json_pack("{s:s,s:s,s:s,s:[s]}", "ev", "invariant", "name", name, "text", text.s, "nodes", node);
    if (alert) {
        sb_add(alert, text.s);
        sb_addc(alert, '\n');
    }
    sb_free(&text);
}

int swimmon_count(void *vm, int idx, const char *status, int *others)
{
    struct swimmon *m = vm;
    int want = !strcmp(status, "dead") ? V_DEAD : !strcmp(status, "suspect") ? V_SUSPECT : V_ALIVE;
    int c = 0;
    *others = 0;
    if (idx < 0 || idx >= MAXM)
        return 0;
    for (int i = 0; i < m->n; i++) {
        if (i == idx || m->down[i] || m->paused[i])
            continue;
        (*others)++;
        c += view_st(m, i, idx) == want;
    }
    return c;
}

static void check_detected(struct swimmon *m, int j, uint64_t t)
{
    int others;
    if (m->down[j] && !m->dead_t[j] && swimmon_count(m, j, "dead", &others) == others && others > 0)
        m->dead_t[j] = t > m->crash_t[j] ? t : m->crash_t[j] + 1;
}

static uint64_t u(const json_t *ev, const char *k)
{
    json_int_t v = json_integer_value(json_object_get(ev, k));
    return v < 0 ? 0 : (uint64_t)v;
}

static int mon_feed(void *vm, const json_t *ev, struct sb *alert)
{
    struct swimmon *m = vm;
    struct event e;
    char err[128];
    if (event_decode(ev, &e, err, sizeof err) < 0)
        return 0;
    if (e.kind == EV_CLUSTER) {
        if (e.cluster.stopped) {
            for (int i = 0; i < MAXM; i++)
                m->v[i].n = 0;
            memset(m->down, 0, sizeof m->down);
            memset(m->paused, 0, sizeof m->paused);
            memset(m->touched, 0, sizeof m->touched);
            memset(m->said_inc, 0, sizeof m->said_inc);
            memset(m->crash_t, 0, sizeof m->crash_t);
            memset(m->dead_t, 0, sizeof m->dead_t);
            m->fp_suspect = m->fp_dead = 0;
            m->n = 0;
        } else if (json_is_array(e.cluster.nodes)) {
            m->n = (int)json_array_size(e.cluster.nodes);
        }
        return 0;
    }
    if (e.kind == EV_FAULT) {
        int t;
        if (!e.fault.what || !e.fault.target || parse_node_id(e.fault.target, MAXM, &t) < 0)
            return 0;
        if (t >= m->n)
            m->n = t + 1;
        if (!strcmp(e.fault.what, "crash") || !strcmp(e.fault.what, "exit")) {
            m->down[t] = 1;
            m->touched[t] = 1;
            m->crash_t[t] = e.has_t ? e.t : 0;
            m->dead_t[t] = 0;
            check_detected(m, t, e.has_t ? e.t : 0);
        } else if (!strcmp(e.fault.what, "restart")) {
            m->down[t] = 0;
            m->touched[t] = 1;
            m->crash_t[t] = m->dead_t[t] = 0;
        } else if (!strcmp(e.fault.what, "pause")) {
            m->paused[t] = 1;
            m->touched[t] = 1;
        } else if (!strcmp(e.fault.what, "resume")) {
            m->paused[t] = 0;
        }
        for (int j = 0; j < m->n; j++)
            check_detected(m, j, e.has_t ? e.t : 0);
        return 0;
    }
    int i;
    if (!e.node || parse_node_id(e.node, MAXM, &i) < 0)
        return 0;
    if (i >= m->n)
        m->n = i + 1;
    const char *what = e.name;
    if (!what)
        return 0;
    int bad = 0;
    if (e.kind == EV_STATE || !strcmp(what, "refute")) {
        if (!json_is_integer(json_object_get(ev, "inc")))
            return 0;
        uint64_t inc = u(ev, "inc");
        if (m->said_inc[i] && inc < m->own_inc[i]) {
            violation(m, alert, "Incarnation", e.node, "%s says incarnation %llu after having said %llu (events %s#%llu)",
                      e.node, (unsigned long long)inc, (unsigned long long)m->own_inc[i], e.node,
                      (unsigned long long)(e.has_seq ? e.seq : 0));
            bad = 1;
        }
        if (!m->said_inc[i] || inc > m->own_inc[i])
            m->own_inc[i] = inc;
        m->said_inc[i] = 1;
        if (e.kind == EV_STATE) /* a new life: its view starts from everyone alive */
            m->v[i].n = 0;
        return bad;
    }
    if (strcmp(what, "member"))
        return 0;
    const char *who = json_string_value(json_object_get(ev, "member"));
    const char *st = json_string_value(json_object_get(ev, "status"));
    int j;
    if (!who || !st || parse_node_id(who, MAXM, &j) < 0)
        return 0;
    if (j >= m->n)
        m->n = j + 1;
    uint64_t inc = u(ev, "inc");
    struct mview *v = view_put(m, i, j);
    int s = !strcmp(st, "dead") ? V_DEAD : !strcmp(st, "suspect") ? V_SUSPECT : V_ALIVE;
    if (s == V_ALIVE && v->had_dead && inc <= v->dead_inc) {
        violation(m, alert, "Resurrection", e.node,
                  "%s holds %s alive at incarnation %llu after confirming it dead at %llu: only a refutation, with a "
                  "higher incarnation, may bring it back (events %s#%llu)",
                  e.node, who, (unsigned long long)inc, (unsigned long long)v->dead_inc, e.node,
                  (unsigned long long)(e.has_seq ? e.seq : 0));
        bad = 1;
    }
    if (s != V_ALIVE && !m->touched[j]) {
        if (s == V_SUSPECT)
            m->fp_suspect++;
        else
            m->fp_dead++;
    }
    if (s == V_DEAD) {
        v->had_dead = 1;
        v->dead_inc = inc;
    }
    v->st = (uint8_t)s;
    v->inc = inc;
    check_detected(m, j, e.has_t ? e.t : 0);
    int others;
    if (m->touched[j] && !m->down[j] && !m->paused[j] && swimmon_count(m, j, "alive", &others) == others)
        m->touched[j] = 0;
    return bad;
}

const struct mode_monitor swimmon_ops = {
    .create = mon_create,
    .feed = mon_feed,
    .violations = mon_violations,
    .last = mon_last,
    .destroy = mon_destroy,
};

void swimmon_false_positives(void *vm, int *suspects, int *deads)
{
    struct swimmon *m = vm;
    *suspects = m->fp_suspect;
    *deads = m->fp_dead;
}

uint64_t swimmon_detect_us(void *vm, int idx)
{
    struct swimmon *m = vm;
    if (idx < 0 || idx >= MAXM || !m->dead_t[idx])
        return 0;
    return m->dead_t[idx] - m->crash_t[idx];
}

static int wait_status(void *vm, int argc, char **argv, struct sb *says, const char *status)
{
    struct swimmon *m = vm;
    int j;
    if (argc < 1 || parse_node_id(argv[0], MAXM, &j) < 0) {
        sb_printf(says, "wait %s needs a node, e.g. 'wait %s n7'", status, status);
        return -1;
    }
    if (!m) {
        sb_add(says, "no cluster is running");
        return 0;
    }
    if (j >= m->n) {
        sb_printf(says, "there is no %s in this cluster of %d", argv[0], m->n);
        return -1;
    }
    int others, c = swimmon_count(m, j, status, &others);
    int fs, fd;
    swimmon_false_positives(m, &fs, &fd);
    if (c == others) {
        sb_printf(says, "all %d live members hold %s %s", others, argv[0], status);
        if (!strcmp(status, "dead") && swimmon_detect_us(m, j))
            sb_printf(says, ", %.0fms after its crash", (double)swimmon_detect_us(m, j) / 1000);
        sb_printf(says, " (false positives so far: %d suspicions, %d dead)", fs, fd);
        return 1;
    }
    sb_printf(says, "%d of %d live members hold %s %s; the others:", c, others, argv[0], status);
    int shown = 0;
    static const char *const names[] = {"alive", "suspect", "dead"};
    for (int i = 0; i < m->n && shown < 8; i++) {
        if (i == j || m->down[i] || m->paused[i])
            continue;
        const struct mview *v = view(m, i, j);
        if (strcmp(names[v ? v->st : V_ALIVE], status)) {
            sb_printf(says, " n%d (%s/%llu)", i + 1, names[v ? v->st : V_ALIVE], (unsigned long long)(v ? v->inc : 0));
            shown++;
        }
    }
    if (others - c > shown)
        sb_add(says, " …");
    return 0;
}

int swimmon_wait_dead(void *vm, int argc, char **argv, struct sb *says)
{
    return wait_status(vm, argc, argv, says, "dead");
}

int swimmon_wait_alive(void *vm, int argc, char **argv, struct sb *says)
{
    return wait_status(vm, argc, argv, says, "alive");
}
