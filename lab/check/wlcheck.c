/* wlcheck — see wlcheck.h. */
#include "wlcheck.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The elements of a read's value text, each as its JSON text, into the object set (text -> true).
 * 0, or -1 when the value is not an array. */
static int elements(const char *value, json_t *set)
{
    json_t *a = value ? json_loads(value, JSON_DECODE_ANY, NULL) : NULL;
    if (!json_is_array(a)) {
        json_decref(a);
        return -1;
    }
    size_t i;
    json_t *x;
    json_array_foreach(a, i, x) {
        char *t = json_is_string(x) ? strdup(json_string_value(x)) : json_dumps(x, JSON_COMPACT | JSON_ENCODE_ANY);
        if (t)
            json_object_set_new(set, t, json_true());
        free(t);
    }
    json_decref(a);
    return 0;
}

/* Who read: the node asked, else the process. Elements compare as the history keeps values: a
 * string as itself, anything else as its JSON text (a number as its digits). */
static const char *who(const struct hist_op *op, char *buf, size_t len)
{
    if (op->node)
        return op->node;
    snprintf(buf, len, "process %lld", (long long)op->process);
    return buf;
}

int wlcheck_set(const struct history *h, const char *add_f, struct sb *out)
{
    json_t *attempted = json_object(), *acked = json_object(); /* element -> t_ret of its ack */
    json_t *finals = json_object();                              /* reader -> index of its last ok read */
    long adds = 0, reads = 0, bad_reads = 0;
    for (int i = 0; i < h->n; i++) {
        const struct hist_op *op = &h->ops[i];
        if (!strcmp(op->fname, add_f)) {
            if (!op->value)
                continue;
            adds++;
            json_object_set_new(attempted, op->value, json_true());
            if (op->outcome == HO_OK)
                json_object_set_new(acked, op->value, json_integer(op->t_ret));
        } else if (op->f == HF_READ && op->outcome == HO_OK) {
            json_t *probe = json_object();
            int ok = elements(op->value, probe);
            json_decref(probe);
            if (ok < 0) {
                bad_reads++;
                continue;
            }
            reads++;
            char b[48];
            const char *r = who(op, b, sizeof b);
            const json_t *was = json_object_get(finals, r);
            if (!was || h->ops[json_integer_value(was)].t_ret < op->t_ret)
                json_object_set_new(finals, r, json_integer(i));
        }
    }
    struct sb bad = {0};
    long lost = 0, unexpected = 0, stale = 0, recovered = 0;
    /* unexpected and stale, over every ok read */
    json_t *seen_unexpected = json_object(), *recov = json_object();
    for (int i = 0; i < h->n; i++) {
        const struct hist_op *op = &h->ops[i];
        if (op->f != HF_READ || op->outcome != HO_OK)
            continue;
        json_t *set = json_object();
        if (elements(op->value, set) < 0) {
            json_decref(set);
            continue;
        }
        const char *e;
        json_t *v;
        json_object_foreach(set, e, v) {
            if (!json_object_get(attempted, e) && !json_object_get(seen_unexpected, e)) {
                json_object_set_new(seen_unexpected, e, json_true());
                if (unexpected++ < 5)
                    sb_printf(&bad, "\n  unexpected: %s was read (op %d) but never added", e, i);
            } else if (json_object_get(attempted, e) && !json_object_get(acked, e)) {
                json_object_set_new(recov, e, json_true());
            }
        }
        int missed = 0;
        json_object_foreach(acked, e, v)
            if (json_integer_value(v) < op->t_inv && !json_object_get(set, e))
                missed = 1;
        stale += missed;
        json_decref(set);
    }
    recovered = (long)json_object_size(recov);
    /* lost: acknowledged, missing from a node's final read */
    const char *r;
    json_t *ix;
    json_t *lost_set = json_object();
    json_object_foreach(finals, r, ix) {
        const struct hist_op *op = &h->ops[json_integer_value(ix)];
        json_t *set = json_object();
        elements(op->value, set);
        const char *e;
        json_t *v;
        json_object_foreach(acked, e, v) {
            if (json_object_get(set, e))
                continue;
            if (!json_object_get(lost_set, e))
                json_object_set_new(lost_set, e, json_true());
            if (lost++ < 5)
                sb_printf(&bad, "\n  lost: %s was acknowledged but is not in %s's final read (op %d)", e, r,
                          (int)json_integer_value(ix));
        }
        json_decref(set);
    }
    int rc;
    const char *name = strcmp(add_f, "add") ? add_f : "g-set";
    if (!json_object_size(acked) || !reads) {
        sb_printf(out, "%s: cannot judge: %ld %s operations (%zu acknowledged), %ld successful reads of a set%s",
                  name, adds, add_f, json_object_size(acked), reads,
                  bad_reads ? " (some reads did not return a set)" : "");
        rc = 2;
    } else if (!lost && !unexpected) {
        sb_printf(out, "%s valid: all %zu acknowledged elements are in the final read of each of %zu readers; %ld stale "
                       "reads, %ld elements read whose add was never acknowledged",
                  name, json_object_size(acked), json_object_size(finals), stale, recovered);
        rc = 0;
    } else {
        sb_printf(out, "%s NOT valid: %zu acknowledged elements lost (%ld misses among %zu final reads), %ld unexpected; "
                       "%ld stale reads%s",
                  name, json_object_size(lost_set), lost, json_object_size(finals), unexpected, stale,
                  bad.s ? bad.s : "");
        rc = 1;
    }
    sb_free(&bad);
    json_decref(lost_set);
    json_decref(seen_unexpected);
    json_decref(recov);
    json_decref(attempted);
    json_decref(acked);
    json_decref(finals);
    return rc;
}

int wlcheck_gset(const struct history *h, struct sb *out)
{
    return wlcheck_set(h, "add", out);
}

int wlcheck_broadcast(const struct history *h, struct sb *out)
{
    return wlcheck_set(h, "broadcast", out);
}

/* ---- counters and sets with removes, key by key ---------------------------------------------- */

static int is_update(const struct hist_op *op)
{
    return !strcmp(op->fname, "add") || !strcmp(op->fname, "remove") || !strcmp(op->fname, "broadcast");
}

/* The groups of a workload history: the operations of each key an update names (its updates and
 * reads); when no update names a key (Maelstrom's workloads: add{delta}, read{}), one group of
 * every update and read, whatever key a read names (the lab's `get value` is a read too).
 * Fills keys[g] and, per group, the op indexes (owned arrays). Returns the number of groups. */
struct wl_group {
    const char *key;
    int *ix;
    int n;
};

static int wl_groups(const struct history *h, struct wl_group **out)
{
    int keyed = 0, any = 0;
    for (int i = 0; i < h->n; i++)
        if (is_update(&h->ops[i])) {
            any = 1;
            keyed |= h->ops[i].key != NULL;
        }
    struct wl_group *g = NULL;
    int ng = 0;
    for (int i = 0; any && i < h->n; i++) {
        const struct hist_op *op = &h->ops[i];
        if (!is_update(op) && op->f != HF_READ)
            continue;
        const char *k = keyed ? op->key : NULL;
        int at = -1;
        for (int j = 0; j < ng && at < 0; j++)
            if (g[j].key == k)
                at = j;
        if (at < 0) {
            if (!is_update(op))
                continue; /* a read of a key no update names: not a workload key (yet) */
            g = xrealloc(g, (size_t)(ng + 1) * sizeof *g);
            g[ng] = (struct wl_group){k, NULL, 0};
            at = ng++;
        }
        g[at].ix = xrealloc(g[at].ix, (size_t)(g[at].n + 1) * sizeof *g[at].ix);
        g[at].ix[g[at].n++] = i;
    }
    /* reads before a key's first update were skipped above: take them again */
    for (int j = 0; j < ng; j++) {
        free(g[j].ix);
        g[j].ix = NULL;
        g[j].n = 0;
    }
    for (int i = 0; i < h->n; i++) {
        const struct hist_op *op = &h->ops[i];
        if (!is_update(op) && op->f != HF_READ)
            continue;
        const char *k = keyed ? op->key : NULL;
        for (int j = 0; j < ng; j++)
            if (g[j].key == k) {
                g[j].ix = xrealloc(g[j].ix, (size_t)(g[j].n + 1) * sizeof *g[j].ix);
                g[j].ix[g[j].n++] = i;
            }
    }
    *out = g;
    return ng;
}

static void wl_groups_free(struct wl_group *g, int ng)
{
    for (int j = 0; j < ng; j++)
        free(g[j].ix);
    free(g);
}

static void key_label(const struct wl_group *g, struct sb *out)
{
    if (!g->key)
        return;
    sb_add(out, "key ");
    sb_add_escaped(out, g->key, strlen(g->key));
    sb_add(out, ": ");
}

/* A value read as a whole number: nil is 0 (a counter nobody added to). */
static int as_int(const char *v, int64_t *out)
{
    if (!v) {
        *out = 0;
        return 0;
    }
    return parse_i64(v, out);
}

/* The reader of an operation, as an interned-pointer-or-process identity: two ops have the same
 * reader when their nodes are the same string, or (no nodes) the same process. */
static int same_reader(const struct hist_op *a, const struct hist_op *b)
{
    if (a->node || b->node)
        return a->node && b->node && !strcmp(a->node, b->node);
    return a->process == b->process;
}

static int64_t ret_of(const struct hist_op *op)
{
    return op->completed ? op->t_ret : INT64_MAX;
}

/* When the updates of a group were done: the latest completion (or, never completed, the
 * invocation) of any update that did not fail. Reads that begin after it (and after quiet_from)
 * are final. */
static int64_t updates_done(const struct history *h, const struct wl_group *g)
{
    int64_t t = INT64_MIN;
    for (int k = 0; k < g->n; k++) {
        const struct hist_op *op = &h->ops[g->ix[k]];
        if (!is_update(op) || op->outcome == HO_FAIL)
            continue;
        int64_t e = op->completed ? op->t_ret : op->t_inv;
        if (e > t)
            t = e;
    }
    return t;
}

/* Each reader's last ok read that began after `after`: indexes into finals (at most one per
 * reader). Returns how many. */
static int final_reads(const struct history *h, const struct wl_group *g, int64_t after, int *finals)
{
    int nf = 0;
    for (int k = 0; k < g->n; k++) {
        const struct hist_op *op = &h->ops[g->ix[k]];
        if (op->f != HF_READ || op->outcome != HO_OK || op->t_inv <= after)
            continue;
        int at = -1;
        for (int j = 0; j < nf && at < 0; j++)
            if (same_reader(&h->ops[finals[j]], op))
                at = j;
        if (at < 0)
            finals[nf++] = g->ix[k];
        else if (h->ops[finals[at]].t_inv < op->t_inv)
            finals[at] = g->ix[k];
    }
    return nf;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

#define SUBSET_SUMS_MAX 65536

/* The possible totals: base plus any subset of the indeterminate deltas, as a sorted set; NULL
 * (with the range in lo, hi) when there would be more than SUBSET_SUMS_MAX. */
static int64_t *subset_sums(int64_t base, const int64_t *info, int ninfo, int *n, int64_t *lo, int64_t *hi)
{
    *lo = *hi = base;
    for (int i = 0; i < ninfo; i++) {
        if (info[i] < 0)
            *lo += info[i];
        else
            *hi += info[i];
    }
    int64_t *s = xcalloc(1, sizeof *s);
    int ns = 1;
    s[0] = base;
    for (int i = 0; i < ninfo; i++) {
        if (ns * 2 > SUBSET_SUMS_MAX) {
            free(s);
            return NULL;
        }
        s = xrealloc(s, (size_t)ns * 2 * sizeof *s);
        for (int j = 0; j < ns; j++)
            s[ns + j] = s[j] + info[i];
        ns *= 2;
        qsort(s, (size_t)ns, sizeof *s, cmp_i64);
        int u = 1;
        for (int j = 1; j < ns; j++)
            if (s[j] != s[u - 1])
                s[u++] = s[j];
        ns = u;
    }
    *n = ns;
    return s;
}

static void who_read(const struct hist_op *op, struct sb *out)
{
    if (op->node)
        sb_add(out, op->node);
    else
        sb_printf(out, "process %lld", (long long)op->process);
}

/* One counter key. Returns 0 valid, 1 violated, 2 cannot judge, -1 not a counter (skipped). */
static int counter_group(const struct history *h, const struct wl_group *g, int pn, int64_t quiet_from,
                         struct sb *out, int *judged_reads)
{
    int n = g->n;
    int64_t *d = xcalloc((size_t)n + 1, sizeof *d);
    int adds = 0, acked = 0, info = 0, reads = 0, bad = 0, below = 0, above = 0;
    int64_t sum_ok = 0;
    struct sb why = {0};
    int rc = 0;
    for (int k = 0; k < n; k++) {
        const struct hist_op *op = &h->ops[g->ix[k]];
        if (op->f == HF_READ) {
            int64_t v;
            if (op->outcome == HO_OK && as_int(op->value, &v) < 0)
                rc = -1; /* a set, or something else: not a counter */
            continue;
        }
        if (strcmp(op->fname, "add") || !op->value || parse_i64(op->value, &d[k]) < 0) {
            rc = -1;
            continue;
        }
        if (!pn && d[k] < 0 && op->outcome != HO_FAIL) {
            sb_printf(&why, "\n  add of %lld (op %d): a g-counter only grows (--pn-counter takes decrements)",
                      (long long)d[k], g->ix[k]);
            rc = 2;
        }
        if (op->outcome == HO_FAIL)
            continue;
        adds++;
        if (op->outcome == HO_OK) {
            acked++;
            sum_ok += d[k];
        } else {
            info++;
        }
    }
    if (rc) {
        if (rc == 2) {
            key_label(g, out);
            sb_printf(out, "cannot judge as a g-counter:%s", why.s);
        }
        sb_free(&why);
        free(d);
        return rc;
    }
    /* every ok read within the bound */
    for (int k = 0; k < n; k++) {
        const struct hist_op *r = &h->ops[g->ix[k]];
        if (r->f != HF_READ || r->outcome != HO_OK)
            continue;
        reads++;
        int64_t v = 0, mine = 0, lo = 0, hi = 0;
        as_int(r->value, &v);
        for (int j = 0; j < n; j++) {
            const struct hist_op *a = &h->ops[g->ix[j]];
            if (a->f == HF_READ || a->outcome == HO_FAIL)
                continue;
            if (a->outcome == HO_OK && ret_of(a) < r->t_inv && same_reader(a, r))
                mine += d[j];
            else if (a->t_inv < ret_of(r)) {
                if (d[j] < 0)
                    lo += d[j];
                else
                    hi += d[j];
            }
        }
        lo += mine;
        hi += mine;
        if (v < lo || v > hi) {
            bad++;
            if (v < lo)
                below++;
            else
                above++;
            if (bad <= 5) {
                sb_add(&why, "\n  read ");
                sb_printf(&why, "%lld by ", (long long)v);
                who_read(r, &why);
                sb_add(&why, " [");
                history_describe_time(h, r->t_inv, &why);
                sb_add(&why, "–");
                history_describe_time(h, r->t_ret, &why);
                sb_printf(&why, "] (op %d) is outside [%lld, %lld]: ", g->ix[k], (long long)lo, (long long)hi);
                if (v < lo)
                    sb_printf(&why, "the adds its reader had acknowledged before it began sum to %lld, and every other "
                                    "possible decrement to %lld (a lost increment)", (long long)mine, (long long)(lo - mine));
                else
                    sb_printf(&why, "no more than %lld could have been added by its end (a value from nowhere, or an "
                                    "increment counted twice)", (long long)hi);
            }
        }
    }
    /* the final reads: the acknowledged sum plus some of the indeterminate deltas */
    int64_t after = updates_done(h, g);
    if (quiet_from > after)
        after = quiet_from;
    int *fin = xcalloc((size_t)n + 1, sizeof *fin);
    int nf = final_reads(h, g, after, fin);
    int64_t *inf = xcalloc((size_t)info + 1, sizeof *inf);
    int ni = 0;
    for (int k = 0; k < n; k++) {
        const struct hist_op *a = &h->ops[g->ix[k]];
        if (a->f != HF_READ && a->outcome == HO_INFO)
            inf[ni++] = d[k];
    }
    int nsums = 0;
    int64_t lo, hi;
    int64_t *sums = subset_sums(sum_ok, inf, ni, &nsums, &lo, &hi);
    int final_bad = 0;
    for (int j = 0; j < nf; j++) {
        const struct hist_op *r = &h->ops[fin[j]];
        int64_t v = 0;
        as_int(r->value, &v);
        int ok = sums ? bsearch(&v, sums, (size_t)nsums, sizeof *sums, cmp_i64) != NULL : v >= lo && v <= hi;
        if (ok)
            continue;
        final_bad++;
        if (bad + final_bad <= 5) {
            sb_printf(&why, "\n  final read %lld by ", (long long)v);
            who_read(r, &why);
            sb_printf(&why, " (op %d), begun after every add ended%s: the total must be the acknowledged sum %lld", fin[j],
                      quiet_from > INT64_MIN ? " and after the last fault" : "", (long long)sum_ok);
            if (ni)
                sb_printf(&why, " plus some of the %d indeterminate adds (%lld to %lld)", ni, (long long)lo, (long long)hi);
            if (v < sum_ok)
                sb_add(&why, ": increments were lost");
            sb_add(&why, " (if the nodes had not converged yet: `wait converged`, then read again)");
        }
    }
    *judged_reads += reads;
    key_label(g, out);
    const char *name = pn ? "pn-counter" : "g-counter";
    if (!reads) {
        sb_printf(out, "%s: cannot judge: %d adds (%d acknowledged), no successful read", name, adds, acked);
        rc = 2;
    } else if (!bad && !final_bad) {
        sb_printf(out, "%s valid: %d reads within the bound; acknowledged sum %lld (%d adds, %d indeterminate); ", name,
                  reads, (long long)sum_ok, acked, ni);
        if (nf)
            sb_printf(out, "%d final read%s equal%s it%s", nf, nf == 1 ? "" : "s", nf == 1 ? "s" : "",
                      ni ? " plus some of the indeterminate adds" : "");
        else if (quiet_from == INT64_MAX)
            sb_add(out, "a fault is still on: the final total is judged after heal");
        else
            sb_add(out, "no read began after the last add ended: the final total is not judged");
        rc = 0;
    } else {
        sb_printf(out, "%s NOT valid: %d of %d reads outside the bound (%d too low, %d too high), %d of %d final reads "
                       "not a possible total%s",
                  name, bad, reads, below, above, final_bad, nf, why.s ? why.s : "");
        rc = 1;
    }
    free(sums);
    free(inf);
    free(fin);
    free(d);
    sb_free(&why);
    return rc;
}

/* The worst of two verdicts: violated over cannot-judge over valid. */
static int worse(int a, int b)
{
    if (a == 1 || b == 1)
        return 1;
    if (a == 2 || b == 2)
        return 2;
    return 0;
}

int wlcheck_counter_at(const struct history *h, int pn, int64_t quiet_from, struct sb *out)
{
    struct wl_group *g = NULL;
    int ng = wl_groups(h, &g), judged = 0, rc = -1, reads = 0;
    for (int j = 0; j < ng; j++) {
        struct sb one = {0};
        int r = counter_group(h, &g[j], pn, quiet_from, &one, &reads);
        if (r >= 0) {
            if (judged++)
                sb_addc(out, '\n');
            sb_add(out, one.s ? one.s : "");
            rc = rc < 0 ? r : worse(rc, r);
        }
        sb_free(&one);
    }
    wl_groups_free(g, ng);
    if (rc < 0) {
        sb_printf(out, "%s: cannot judge: no counter in the history (add with a whole-number delta, read of a number)",
                  pn ? "pn-counter" : "g-counter");
        rc = 2;
    }
    return rc;
}

int wlcheck_gcounter(const struct history *h, struct sb *out)
{
    return wlcheck_counter_at(h, 0, INT64_MIN, out);
}

int wlcheck_pncounter(const struct history *h, struct sb *out)
{
    return wlcheck_counter_at(h, 1, INT64_MIN, out);
}

/* Reads of a set: is every ok read an array? */
static int reads_sets(const struct history *h, const struct wl_group *g)
{
    int any = 0;
    for (int k = 0; k < g->n; k++) {
        const struct hist_op *op = &h->ops[g->ix[k]];
        if (op->f != HF_READ || op->outcome != HO_OK || !op->value)
            continue;
        json_t *probe = json_object();
        int ok = elements(op->value, probe) == 0;
        json_decref(probe);
        if (!ok)
            return 0;
        any = 1;
    }
    return any;
}

/* One set key with adds and removes (an OR-Set: add wins). Returns 0 valid, 1 violated, 2 cannot
 * judge, -1 not a set (skipped). */
static int orset_group(const struct history *h, const struct wl_group *g, int64_t quiet_from, struct sb *out)
{
    for (int k = 0; k < g->n; k++) {
        const struct hist_op *op = &h->ops[g->ix[k]];
        if (strcmp(op->fname, "add") && strcmp(op->fname, "remove") && op->f != HF_READ)
            return -1;
    }
    if (!reads_sets(h, g))
        return -1;
    /* required: an acknowledged add that no remove of its element (not failed) invoked after it
     * began may have observed */
    json_t *attempted = json_object(), *required = json_object(); /* element -> op index */
    int adds = 0, acked = 0, removes = 0;
    for (int k = 0; k < g->n; k++) {
        const struct hist_op *a = &h->ops[g->ix[k]];
        if (!a->value || a->f == HF_READ)
            continue;
        if (!strcmp(a->fname, "remove")) {
            removes += a->outcome != HO_FAIL;
            continue;
        }
        adds++;
        json_object_set_new(attempted, a->value, json_true());
        if (a->outcome != HO_OK)
            continue;
        acked++;
        int observed = 0;
        for (int j = 0; j < g->n && !observed; j++) {
            const struct hist_op *r = &h->ops[g->ix[j]];
            observed = !strcmp(r->fname, "remove") && r->outcome != HO_FAIL && r->value == a->value &&
                       r->t_inv > a->t_inv;
        }
        if (!observed)
            json_object_set_new(required, a->value, json_integer(g->ix[k]));
    }
    int64_t after = updates_done(h, g);
    if (quiet_from > after)
        after = quiet_from;
    int *fin = xcalloc((size_t)g->n + 1, sizeof *fin);
    int nf = final_reads(h, g, after, fin);
    struct sb why = {0};
    int lost = 0, unexpected = 0, reads = 0;
    json_t *seen_unexpected = json_object();
    for (int k = 0; k < g->n; k++) {
        const struct hist_op *r = &h->ops[g->ix[k]];
        if (r->f != HF_READ || r->outcome != HO_OK)
            continue;
        reads++;
        json_t *set = json_object();
        elements(r->value, set);
        const char *e;
        json_t *v;
        json_object_foreach(set, e, v) {
            if (!json_object_get(attempted, e) && !json_object_get(seen_unexpected, e)) {
                json_object_set_new(seen_unexpected, e, json_true());
                if (unexpected++ < 5) {
                    sb_add(&why, "\n  unexpected: ");
                    sb_add_escaped(&why, e, strlen(e));
                    sb_printf(&why, " was read (op %d) but never added", g->ix[k]);
                }
            }
        }
        json_decref(set);
    }
    for (int j = 0; j < nf; j++) {
        const struct hist_op *r = &h->ops[fin[j]];
        json_t *set = json_object();
        elements(r->value ? r->value : "[]", set);
        const char *e;
        json_t *v;
        json_object_foreach(required, e, v) {
            if (json_object_get(set, e))
                continue;
            if (lost++ < 5) {
                sb_add(&why, "\n  lost: ");
                sb_add_escaped(&why, e, strlen(e));
                sb_printf(&why, " was added (op %lld, acknowledged) and no remove could have observed it, but it is not "
                                "in the final read of ",
                          (long long)json_integer_value(v));
                who_read(r, &why);
                sb_printf(&why, " (op %d)", fin[j]);
            }
        }
        json_decref(set);
    }
    key_label(g, out);
    int rc;
    if (!reads) {
        sb_printf(out, "or-set: cannot judge: %d adds (%d acknowledged), %d removes, no successful read", adds, acked,
                  removes);
        rc = 2;
    } else if (!lost && !unexpected) {
        sb_printf(out, "or-set valid: %zu acknowledged adds no remove observed", json_object_size(required));
        if (nf)
            sb_printf(out, " are in each of %d final read%s", nf, nf == 1 ? "" : "s");
        else if (quiet_from == INT64_MAX)
            sb_add(out, "; a fault is still on: lost adds are judged after heal");
        else
            sb_add(out, "; no read began after the last update ended: lost adds not judged");
        sb_printf(out, " (%d adds, %d removes, %d reads); nothing read that was never added", adds, removes, reads);
        rc = 0;
    } else {
        sb_printf(out, "or-set NOT valid: %d lost adds among %d final reads, %d unexpected elements%s", lost, nf,
                  unexpected, why.s ? why.s : "");
        rc = 1;
    }
    sb_free(&why);
    free(fin);
    json_decref(seen_unexpected);
    json_decref(attempted);
    json_decref(required);
    return rc;
}

int wlcheck_orset_at(const struct history *h, int64_t quiet_from, struct sb *out)
{
    struct wl_group *g = NULL;
    int ng = wl_groups(h, &g), judged = 0, rc = -1;
    for (int j = 0; j < ng; j++) {
        struct sb one = {0};
        int r = orset_group(h, &g[j], quiet_from, &one);
        if (r >= 0) {
            if (judged++)
                sb_addc(out, '\n');
            sb_add(out, one.s ? one.s : "");
            rc = rc < 0 ? r : worse(rc, r);
        }
        sb_free(&one);
    }
    wl_groups_free(g, ng);
    if (rc < 0) {
        sb_add(out, "or-set: cannot judge: no set in the history (add and remove of elements, reads of a set)");
        rc = 2;
    }
    return rc;
}

int wlcheck_orset(const struct history *h, struct sb *out)
{
    return wlcheck_orset_at(h, INT64_MIN, out);
}

int wlcheck_workload_at(const struct history *h, int64_t quiet_from, struct sb *out)
{
    struct wl_group *g = NULL;
    int ng = wl_groups(h, &g), judged = 0, rc = -1, reads = 0;
    for (int j = 0; j < ng; j++) {
        struct sb one = {0};
        int r = counter_group(h, &g[j], 1, quiet_from, &one, &reads);
        if (r < 0) {
            sb_free(&one);
            r = orset_group(h, &g[j], quiet_from, &one);
        }
        if (r >= 0) {
            if (judged++)
                sb_addc(out, '\n');
            sb_add(out, one.s ? one.s : "");
            rc = rc < 0 ? r : worse(rc, r);
        }
        sb_free(&one);
    }
    wl_groups_free(g, ng);
    return rc;
}
