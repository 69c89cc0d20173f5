/* mlmon — the multi-leader mode's live invariant monitor (mode.h's struct mode_monitor), fed
 * every event of a run. It reads two of the mode's events (multileader.c):
 *
 *   write {key, dot, vv}  a DC leader handed out dot (its node, dot) for a client write;
 *   apply {key, vv}       a node's item for key changed; vv is what it now knows of the key.
 *
 * Invariants:
 *   VectorBound   no counter of a version vector exceeds the dots its node handed out: a vector
 *                 that claims n1:5 when n1 wrote 3 times says it saw writes that never
 *                 happened, and will drop a real one as already seen (bug=vv-sum);
 *   LostUpdate    (from a conflict event naming a dropped_dot: lww's own resolution, flagged
 *                 as the anomaly it is) and a node's knowledge of a key never shrinks: a vv that no longer covers a
 *                 counter the node's previous vv of that key had means a write was dropped
 *                 without being superseded — what conflict=lww does to concurrent writes and
 *                 to a causally later write under clock skew (M2), and bug=drop-sibling does
 *                 with siblings.
 * State: the highest dot per node, and per (node, key) the newest vv. A restarted node keeps
 * its entries: it reloads the same data from its log.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "multileader.h"
#include "vv.h"

struct knows {
    char *node_key;          /* "n1\0key" as "n1/key" */
    uint64_t h;
    struct vv v;
    struct vv excused;       /* dots already reported lost here (by a conflict event) */
    struct knows *next;
};

struct mlmon {
    uint64_t max_dot[CL_MAXN];
    uint64_t dot_seq[CL_MAXN];
    struct knows **b;
    size_t nb, n;
    int violations;
    json_t *last;
};

static void *mon_create(void)
{
    struct mlmon *m = xcalloc(1, sizeof *m);
    m->nb = 256;
    m->b = xcalloc(m->nb, sizeof *m->b);
    return m;
}

static void mon_destroy(void *vm)
{
    struct mlmon *m = vm;
    if (!m)
        return;
    for (size_t i = 0; i < m->nb; i++)
        for (struct knows *k = m->b[i], *next; k; k = next) {
            next = k->next;
            free(k->node_key);
            free(k);
        }
    free(m->b);
    json_decref(m->last);
    free(m);
}

static int mon_violations(const void *vm)
{
    return ((const struct mlmon *)vm)->violations;
}

static const json_t *mon_last(const void *vm)
{
    return ((const struct mlmon *)vm)->last;
}

static void violation(struct mlmon *m, struct sb *alert, const char *node, uint64_t seq, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void violation(struct mlmon *m, struct sb *alert, const char *node, uint64_t seq, const char *fmt, ...)
{
    m->violations++;
    struct sb text = {0};
    va_list ap;
    va_start(ap, fmt);
    sb_vprintf(&text, fmt, ap);
    va_end(ap);
    sb_printf(&text, " (events %s#%llu)", node, (unsigned long long)seq);
    const char *colon = strchr(text.s, ':');
    json_decref(m->last);
    m->last = json_pack("{s:s,s:s%,s:s,s:[i],s:[s]}", "ev", "invariant", "name", text.s,
                        (size_t)(colon ? colon - text.s : 0), "text", text.s, "events", (int)seq, "nodes", node);
    if (alert) {
        sb_add(alert, text.s);
        sb_addc(alert, '\n');
    }
    sb_free(&text);
}

static struct knows *knows_get(struct mlmon *m, const char *node, const char *key)
{
    char *nk = xasprintf("%s/%s", node, key);
    uint64_t h = hash_str(nk);
    size_t i = h & (m->nb - 1);
    for (struct knows *k = m->b[i]; k; k = k->next)
        if (k->h == h && !strcmp(k->node_key, nk)) {
            free(nk);
            return k;
        }
    if (m->n >= 2 * m->nb) { /* grow */
        size_t nb = 2 * m->nb;
        struct knows **b = xcalloc(nb, sizeof *b);
        for (size_t j = 0; j < m->nb; j++)
            for (struct knows *k = m->b[j], *next; k; k = next) {
                next = k->next;
                k->next = b[k->h & (nb - 1)];
                b[k->h & (nb - 1)] = k;
            }
        free(m->b);
        m->b = b;
        m->nb = nb;
        i = h & (m->nb - 1);
    }
    struct knows *k = xcalloc(1, sizeof *k);
    k->node_key = nk;
    k->h = h;
    k->next = m->b[i];
    m->b[i] = k;
    m->n++;
    return k;
}

/* "n3" → 2, or -1. */
static int node_index(const char *id)
{
    if (!id || id[0] != 'n')
        return -1;
    char *end;
    long v = strtol(id + 1, &end, 10);
    return *end || v < 1 || v > CL_MAXN ? -1 : (int)v - 1;
}

static void vv_str(const struct vv *v, struct sb *b)
{
    vv_text(v, CL_MAXN, NULL, b);
    if (!b->len)
        sb_add(b, "(empty)");
}

/* VectorBound over v: the first counter beyond its node's highest dot. */
static int check_bound(struct mlmon *m, const struct vv *v, const char *node, uint64_t seq, const char *key,
                       struct sb *alert)
{
    for (int k = 0; k < CL_MAXN; k++)
        if (v->c[k] > m->max_dot[k]) {
            struct sb b = {0};
            vv_str(v, &b);
            violation(m, alert, node, seq,
                      "VectorBound: %s's version vector of %s is %s, but n%d has handed out only %llu dot(s): "
                      "it claims writes that never happened",
                      node, key, b.s, k + 1, (unsigned long long)m->max_dot[k]);
            sb_free(&b);
            return 1;
        }
    return 0;
}

static int mon_feed(void *vm, const json_t *ev, struct sb *alert)
{
    struct mlmon *m = vm;
    const char *name = json_string_value(json_object_get(ev, "ev"));
    const char *node = json_string_value(json_object_get(ev, "node"));
    const char *key = json_string_value(json_object_get(ev, "key"));
    if (!name || !node || !key)
        return 0;
    int is_write = !strcmp(name, "write"), is_apply = !strcmp(name, "apply");
    if (!strcmp(name, "conflict")) {
        /* lww's resolution drops the loser: the mode says so, the checker flags it */
        const char *dd = json_string_value(json_object_get(ev, "dropped_dot"));
        const char *dot = dd ? strrchr(dd, '.') : NULL;
        if (!dot)
            return 0;
        char id[CL_IDLEN];
        snprintf(id, sizeof id, "%.*s", (int)(dot - dd), dd);
        int j = node_index(id);
        uint64_t c = strtoull(dot + 1, NULL, 10);
        if (j < 0)
            return 0;
        struct knows *k = knows_get(m, node, key);
        if (c > k->excused.c[j])
            k->excused.c[j] = c;
        const char *why = json_string_value(json_object_get(ev, "why"));
        json_t *dv = json_object_get(ev, "dropped"), *kv = json_object_get(ev, "kept");
        violation(m, alert, node, (uint64_t)json_integer_value(json_object_get(ev, "seq")),
                  "LostUpdate: %s resolved a conflict on %s by last-writer-wins and dropped the write %s (%s), "
                  "keeping %s: %s",
                  node, key, dd, json_is_string(dv) ? json_string_value(dv) : "a delete",
                  json_is_string(kv) ? json_string_value(kv) : "a delete", why ? why : "");
        return 1;
    }
    if (!is_write && !is_apply)
        return 0;
    struct vv v;
    char err[120];
    if (vv_from_json(json_object_get(ev, "vv"), &v, err, sizeof err) < 0)
        return 0;
    uint64_t seq = (uint64_t)json_integer_value(json_object_get(ev, "seq"));
    int before = m->violations;
    if (is_write) {
        int w = node_index(node);
        json_int_t dot = json_integer_value(json_object_get(ev, "dot"));
        if (w >= 0 && dot > 0 && (uint64_t)dot > m->max_dot[w]) {
            m->max_dot[w] = (uint64_t)dot;
            m->dot_seq[w] = seq;
        }
        check_bound(m, &v, node, seq, key, alert);
        return m->violations > before;
    }
    if (check_bound(m, &v, node, seq, key, alert))
        return 1;
    struct knows *k = knows_get(m, node, key);
    for (int i = 0; i < CL_MAXN; i++)
        if (v.c[i] < k->v.c[i] && k->excused.c[i] < k->v.c[i]) {
            struct sb was = {0}, now = {0};
            vv_str(&k->v, &was);
            vv_str(&v, &now);
            violation(m, alert, node, seq,
                      "LostUpdate: %s dropped a write to %s without superseding it: it knew %s, now %s "
                      "(n%d's write %llu is gone)",
                      node, key, was.s, now.s, i + 1, (unsigned long long)k->v.c[i]);
            sb_free(&was);
            sb_free(&now);
            break;
        }
    /* knowledge so far: the join, so that one loss is reported once */
    vv_merge(&k->v, &v);
    return m->violations > before;
}

const struct mode_monitor multileader_monitor = {
    .create = mon_create,
    .feed = mon_feed,
    .violations = mon_violations,
    .last = mon_last,
    .destroy = mon_destroy,
};
