/* gossipmon — the gossip mode's live monitor (gossip.h). Fed every event of a run in the order
 * the lab received it; it never relies on that order across nodes (events of different nodes
 * may arrive in any order), only on each node's own events being in order.
 *
 * State: a table of rumors (id, the first text seen for it and the event that showed it, the
 * largest round any node learned it in, and per node: holds it in this life, still pushes it);
 * per node: up or down (the lab's crash/restart faults), and its incarnation (a new "inc" on
 * its events starts a new life with nothing learned).
 *
 * Integrity: every event naming a rumor names it with one text (a node that alters a rumor on
 * the way is caught whichever event arrives first). Stability: a node learns a rumor at most
 * once per life.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "gossip.h"

#define MON_RUMORS 1024

struct mrumor {
    char id[CL_IDLEN + 12];
    char text[72];
    char shown_by[CL_IDLEN + 24];   /* the event that first gave the text: "n1#41" */
    uint64_t max_round;
    /* bit j: node j holds it in this life / still pushes it (up to CL_SIM_MAXNODES nodes: the
     * simulator's 1,000-node clusters), and how many bits are set */
    uint8_t has[(CL_SIM_MAXNODES + 7) / 8];
    uint8_t hot[(CL_SIM_MAXNODES + 7) / 8];
    int nhas, nhot;
};

struct gossipmon {
    struct mrumor *r;
    int nr;
    int n;                          /* nodes in the cluster (the cluster event, else the highest seen) */
    uint8_t down[CL_SIM_MAXNODES];
    int ndown;
    uint64_t inc[CL_SIM_MAXNODES];
    uint8_t seen_inc[CL_SIM_MAXNODES];
    int violations;
    json_t *last;
};

static void *mon_create(void)
{
    struct gossipmon *m = xcalloc(1, sizeof *m);
    m->r = xcalloc(MON_RUMORS, sizeof *m->r);
    return m;
}

static void mon_destroy(void *vm)
{
    struct gossipmon *m = vm;
    if (!m)
        return;
    free(m->r);
    json_decref(m->last);
    free(m);
}

static int mon_violations(const void *vm)
{
    return ((const struct gossipmon *)vm)->violations;
}

static const json_t *mon_last(const void *vm)
{
    return ((const struct gossipmon *)vm)->last;
}

static void violation(struct gossipmon *m, struct sb *alert, const char *name, const char *node,
                      const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void violation(struct gossipmon *m, struct sb *alert, const char *name, const char *node,
                      const char *fmt, ...)
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

static struct mrumor *rumor_of(struct gossipmon *m, const char *id, int create)
{
    for (int i = 0; i < m->nr; i++)
        if (!strcmp(m->r[i].id, id))
            return &m->r[i];
    if (!create || m->nr == MON_RUMORS || strlen(id) >= sizeof m->r[0].id)
        return NULL;
    struct mrumor *r = &m->r[m->nr++];
    memset(r, 0, sizeof *r);
    str_copy(r->id, id, sizeof r->id);
    return r;
}

static int bit(const uint8_t *set, int j)
{
    return (set[j >> 3] >> (j & 7)) & 1;
}

/* Sets bit j of set to v, keeping *count (the bits set) right. */
static void set_bit(uint8_t *set, int *count, int j, int v)
{
    if (bit(set, j) == v)
        return;
    set[j >> 3] ^= (uint8_t)(1u << (j & 7));
    *count += v ? 1 : -1;
}

static void new_life(struct gossipmon *m, int idx)
{
    for (int i = 0; i < m->nr; i++) {
        set_bit(m->r[i].has, &m->r[i].nhas, idx, 0);
        set_bit(m->r[i].hot, &m->r[i].nhot, idx, 0);
    }
}

static void set_down(struct gossipmon *m, int idx, int down)
{
    if (m->down[idx] != down)
        m->ndown += down ? 1 : -1;
    m->down[idx] = (uint8_t)down;
}

/* Holders of r among the live nodes (and of those, how many still push it). */
static int live_holders(const struct gossipmon *m, const struct mrumor *r, int *hot)
{
    if (!m->ndown) {
        if (hot)
            *hot = r->nhot;
        return r->nhas;
    }
    int h = 0, ht = 0;
    for (int j = 0; j < m->n; j++)
        if (!m->down[j] && bit(r->has, j)) {
            h++;
            ht += bit(r->hot, j);
        }
    if (hot)
        *hot = ht;
    return h;
}

static const char *str(const json_t *ev, const char *k)
{
    return json_string_value(json_object_get(ev, k));
}

static int mon_feed(void *vm, const json_t *ev, struct sb *alert)
{
    struct gossipmon *m = vm;
    struct event e;
    char err[128];
    if (event_decode(ev, &e, err, sizeof err) < 0)
        return 0;
    if (e.kind == EV_CLUSTER) {
        if (e.cluster.stopped) {
            m->nr = 0;
            m->n = 0;
            memset(m->down, 0, sizeof m->down);
            m->ndown = 0;
            memset(m->seen_inc, 0, sizeof m->seen_inc);
        } else if (json_is_array(e.cluster.nodes)) {
            m->n = (int)json_array_size(e.cluster.nodes);
        }
        return 0;
    }
    if (e.kind == EV_FAULT) {
        int t;
        if (!e.fault.what || !e.fault.target || parse_node_id(e.fault.target, CL_SIM_MAXNODES, &t) < 0)
            return 0;
        if (t >= m->n)
            m->n = t + 1;
        if (!strcmp(e.fault.what, "crash") || !strcmp(e.fault.what, "exit")) {
            set_down(m, t, 1);
            new_life(m, t);
        } else if (!strcmp(e.fault.what, "restart")) {
            set_down(m, t, 0);
            new_life(m, t);
        }
        return 0;
    }
    int idx;
    if (!e.node || parse_node_id(e.node, CL_SIM_MAXNODES, &idx) < 0)
        return 0;
    if (idx >= m->n)
        m->n = idx + 1;
    if (e.has_inc) {
        if (m->seen_inc[idx] && m->inc[idx] != e.inc)
            new_life(m, idx);
        m->seen_inc[idx] = 1;
        m->inc[idx] = e.inc;
    }
    if (e.kind != EV_OTHER || !e.name)
        return 0;
    int is_rumor = !strcmp(e.name, "rumor"), is_infect = !strcmp(e.name, "infect");
    int is_cold = !strcmp(e.name, "cold");
    if (!is_rumor && !is_infect && !is_cold)
        return 0;
    const char *id = str(ev, "rumor"), *text = str(ev, "text");
    if (!id)
        return 0;
    struct mrumor *r = rumor_of(m, id, !is_cold);
    if (!r)
        return 0;
    char where[CL_IDLEN + 24];
    snprintf(where, sizeof where, "%s#%llu", e.node, (unsigned long long)(e.has_seq ? e.seq : 0));
    if (is_cold) {
        set_bit(r->hot, &r->nhot, idx, 0);
        return 0;
    }
    int bad = 0;
    if (text) {
        if (!r->text[0]) {
            str_copy(r->text, text, sizeof r->text);
            str_copy(r->shown_by, where, sizeof r->shown_by);
        } else if (strcmp(r->text, text)) {
            violation(m, alert, "Integrity", e.node, "%s holds rumor %s as '%s', but it is '%s' (events %s, %s)",
                      e.node, id, text, r->text, r->shown_by, where);
            bad = 1;
        }
    }
    if (bit(r->has, idx) && !bad) {
        violation(m, alert, "Stability", e.node, "%s learned rumor %s '%s' a second time in one life: it forgot it (events %s)",
                  e.node, id, r->text, where);
        bad = 1;
    }
    set_bit(r->has, &r->nhas, idx, 1);
    set_bit(r->hot, &r->nhot, idx, 1);
    json_int_t round = json_integer_value(json_object_get(ev, "round"));
    if (is_infect && round > 0 && (uint64_t)round > r->max_round)
        r->max_round = (uint64_t)round;
    return bad;
}

const struct mode_monitor gossipmon_ops = {
    .create = mon_create,
    .feed = mon_feed,
    .violations = mon_violations,
    .last = mon_last,
    .destroy = mon_destroy,
};

int gossipmon_spread(void *vm, const char *text, int *holders, int *live, uint64_t *max_round, int *hot)
{
    struct gossipmon *m = vm;
    struct mrumor *best = NULL;
    int besth = -1;
    for (int i = 0; i < m->nr; i++) {
        if (strcmp(m->r[i].text, text))
            continue;
        int h = live_holders(m, &m->r[i], NULL);
        if (h > besth) {
            besth = h;
            best = &m->r[i];
        }
    }
    if (!best)
        return CL_ENOENT;
    *holders = live_holders(m, best, hot);
    *live = m->n - m->ndown;
    *max_round = best->max_round;
    return 0;
}

int gossipmon_wait_rumor(void *vm, int argc, char **argv, struct sb *says)
{
    struct gossipmon *m = vm;
    if (argc < 1 || !argv[0][0]) {
        sb_add(says, "wait rumor needs the rumor's text, e.g. 'wait rumor hello'");
        return -1;
    }
    int h, live, hot;
    uint64_t rounds;
    if (!m || gossipmon_spread(m, argv[0], &h, &live, &rounds, &hot) < 0) {
        sb_printf(says, "no node holds a rumor '%s' (start one with 'rumor NODE %s')", argv[0], argv[0]);
        return 0;
    }
    double lg = live > 1 ? log2((double)live) : 0;
    if (h == live) {
        sb_printf(says, "all %d%s nodes after %llu round%s (log2 %d = %.1f)", live,
                  live < m->n ? " live" : "", (unsigned long long)rounds, rounds == 1 ? "" : "s", live, lg);
        return 1;
    }
    sb_printf(says, "%d of %d%s nodes hold '%s' after %llu rounds; missing:", h, live, live < m->n ? " live" : "",
              argv[0], (unsigned long long)rounds);
    int shown = 0;
    struct mrumor *best = NULL;
    for (int i = 0; i < m->nr && !best; i++)
        if (!strcmp(m->r[i].text, argv[0]))
            best = &m->r[i];
    for (int i = 0; i < m->nr; i++) {
        if (strcmp(m->r[i].text, argv[0]))
            continue;
        if (live_holders(m, &m->r[i], NULL) == h) {
            best = &m->r[i];
            break;
        }
    }
    for (int j = 0; best && j < m->n && shown < 8; j++)
        if (!m->down[j] && !bit(best->has, j)) {
            sb_printf(says, " n%d", j + 1);
            shown++;
        }
    if (live - h > shown)
        sb_add(says, " …");
    if (!hot)
        sb_add(says, "; no holder pushes it any more (a residue: pull or anti-entropy, ae=PERIOD, would reach them)");
    return 0;
}
