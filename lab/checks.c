/* checks — the lab's checkers, one table: the history checkers of lab/check/ (judged on the
 * recorded history, optionally restricted to some keys) and the checkers of the replicas'
 * state (converged: the live replicas of every key hold the same data, the mode's face
 * saying which nodes hold a key). `check`, `expect` and the lessons all come here. */
#include "exonce.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkcli.h"
#include "mutex.h"
#include "wlcheck.h"
#include "txncheck.h"
#include "lab.h"

/* ---- the replicas' state ---------------------------------------------------------------------- */

/* The per-key comparison over the data fetched from every live node (data[i], NULL for the
 * others): every key any live node holds, once, across the live replicas that hold it. */
static int compare_data(struct lab *lab, json_t *const data[CL_MAXNODES], struct sb *why)
{
    const struct cluster *c = lab->cl;
    json_t *keys = json_object();
    for (int i = 0; i < c->n; i++) {
        const char *key;
        json_t *v;
        json_object_foreach(data[i], key, v)
            json_object_set_new(keys, key, json_true());
    }
    int ok = 1;
    const char *key;
    json_t *unused;
    json_object_foreach(keys, key, unused) {
        int reps[CL_MAXNODES];
        int nr = mode_replicas(c->mode, &c->opts, c->n, key, reps);
        const json_t *ref = NULL;
        int refi = -1;
        for (int r = 0; r < nr && ok; r++) {
            int j = reps[r];
            if (!data[j])
                continue;
            const json_t *d = json_object_get(data[j], key);
            if (refi < 0) {
                ref = d;
                refi = j;
            } else if (!json_equal((json_t *)(ref ? ref : json_null()), (json_t *)(d ? d : json_null()))) {
                ok = 0;
                if (why && nr == c->n)
                    sb_printf(why, "n%d and n%d hold different data (key %s)", refi + 1, j + 1, key);
                else if (why)
                    sb_printf(why, "replicas n%d and n%d of key %s differ", refi + 1, j + 1, key);
            }
        }
        if (!ok)
            break;
    }
    json_decref(keys);
    return ok;
}

int lab_converged(struct lab *lab, struct sb *why)
{
    if (!lab->cl) {
        if (why)
            sb_add(why, "cannot compare: no cluster");
        return -1;
    }
    const struct cluster *c = lab->cl;
    /* every live node must have answered lately: a node that said nothing is not "the same" */
    int live = 0, first = -1, same = 1;
    const char *digest0 = NULL;
    uint64_t now = mono_us();
    for (int i = 0; i < c->n; i++) {
        if (c->state[i] != NODE_UP)
            continue;
        const json_t *st = lab_status_cached(lab, i);
        const char *d = json_string_value(json_object_get(st, "digest"));
        if (!st || !d || lab->status_at[i] + 3000000 < now) {
            if (why)
                sb_printf(why, "cannot compare: n%d is up but its status did not come (busy, or stuck?)", i + 1);
            return -1;
        }
        live++;
        if (first < 0) {
            first = i;
            digest0 = d;
        } else if (strcmp(d, digest0)) {
            same = 0;
        }
    }
    if (!live) {
        if (why)
            sb_add(why, "cannot compare: no live node");
        return -1;
    }
    /* every node holds every key: equal digests are equal data, nothing to fetch */
    int reps[CL_MAXNODES];
    int full = mode_replicas(c->mode, &c->opts, c->n, "x", reps) == c->n;
    if (full && same)
        return 1;
    json_t *data[CL_MAXNODES] = {0};
    int rc = 1;
    for (int i = 0; i < c->n && rc == 1; i++) {
        if (c->state[i] != NODE_UP)
            continue;
        data[i] = lab_node_data(lab, i);
        if (!data[i]) {
            if (why)
                sb_printf(why, "cannot compare: n%d's data did not come", i + 1);
            rc = -1;
        }
    }
    if (rc == 1) {
        rc = compare_data(lab, data, why);
        if (rc == 1 && full && !same) {
            /* the data changed between the statuses and the fetch: not settled yet */
            rc = 0;
            if (why)
                sb_add(why, "the replicas' digests differed a moment ago (writes still arriving?)");
        }
    }
    for (int i = 0; i < c->n; i++)
        json_decref(data[i]);
    return rc;
}

static int run_converged(struct lab *lab, const struct history_checker *hc, const char *const *keys, int nkeys,
                         struct sb *out)
{
    (void)hc;
    (void)keys;
    (void)nkeys;
    if (!lab->cl) {
        sb_add(out, "no cluster to compare");
        return 2;
    }
    struct sb why = {0};
    int ok = lab_converged(lab, &why);
    sb_add(out, ok == 1 ? "converged: every live replica holds the same data" : ok == 0 ? "NOT converged: " : "");
    if (ok != 1)
        sb_add(out, why.s ? why.s : "");
    sb_free(&why);
    return ok == 1 ? 0 : ok == 0 ? 1 : 2;
}

/* ---- the recorded history ---------------------------------------------------------------------- */

static int workload_checker(const struct history_checker *hc);

/* The history restricted to keys (all of it when nkeys is 0), as JSONL: a lesson asks about
 * the keys of its step, and the history keeps earlier steps' keys. Caller frees. */
static char *history_for_keys(struct lab *lab, const char *const *keys, int nkeys, int this_run)
{
    char *all;
    if (this_run) {
        /* the records since the cluster now running started */
        struct sb b = {0};
        sb_add(&b, "");
        for (size_t i = lab->hist_run_from <= lab->hist.n ? lab->hist_run_from : 0; i < lab->hist.n; i++) {
            char *s = json_dumps(lab->hist.v[i], JSON_COMPACT);
            if (s)
                sb_printf(&b, "%s\n", s);
            free(s);
        }
        all = b.s;
    } else {
        all = recorder_jsonl(&lab->hist);
    }
    if (!all || nkeys <= 0)
        return all;
    struct sb out = {0};
    sb_add(&out, "");
    for (char *line = all, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = 0;
        json_t *o = json_loads(line, 0, NULL);
        const char *k = o ? json_string_value(json_object_get(o, "key")) : NULL;
        int keep = 0;
        for (int i = 0; k && i < nkeys && !keep; i++)
            keep = !strcmp(k, keys[i]);
        if (keep)
            sb_printf(&out, "%s\n", line);
        json_decref(o);
    }
    free(all);
    return out.s;
}

/* The time (ns, the history's clock) of the last fault the lab applied to the cluster now running
 * (partition, heal, crash, …): the counter and set checkers take only reads that began after it
 * as final (Maelstrom's "after heal and quiescence"). INT64_MIN when none; INT64_MAX while a
 * fault is still on (no read is final yet). */
static int64_t last_fault_ns(const struct lab *lab)
{
    /* a fault still on (a cut, a link fault, a node down or paused): nothing is final yet */
    if (lab->cl) {
        int whole = !faults_active(&lab->cl->faults);
        for (int i = 0; whole && i < lab->cl->n; i++)
            whole = lab->cl->state[i] == NODE_UP;
        if (!whole)
            return INT64_MAX;
    }
    uint64_t first = lab->ev_total - lab->ev_count;
    for (uint64_t g = lab->ev_total; g > first; g--) {
        const json_t *e = lab->events[(lab->ev_head + (g - 1 - first)) % LAB_MAX_EVENTS];
        const char *ev = json_string_value(json_object_get(e, "ev"));
        if (ev && !strcmp(ev, "cluster") && !json_is_true(json_object_get(e, "stopped")))
            break;
        if (ev && !strcmp(ev, "fault"))
            return (int64_t)json_integer_value(json_object_get(e, "t")) * 1000;
    }
    return INT64_MIN;
}

/* Is hc one of the workload checkers (counters, sets, broadcast), which judge add, remove,
 * broadcast and the reads of their keys? */
static int workload_checker(const struct history_checker *hc)
{
    return hc->run == wlcheck_gset || hc->run == wlcheck_broadcast || hc->run == wlcheck_pncounter ||
           hc->run == wlcheck_gcounter || hc->run == wlcheck_orset;
}

/* The history without its workload operations, for the register checkers: no add, remove or
 * broadcast, no operation on a key one of those names, and (when they name no key: Maelstrom's
 * workloads) no read of a key nothing wrote. NULL when nothing was left out. Caller frees. */
static struct history *registers_only(const struct history *h, int *left_out)
{
    int keyless = 0, any = 0;
    json_t *wkeys = json_object(), *written = json_object();
    for (int i = 0; i < h->n; i++) {
        const struct hist_op *op = &h->ops[i];
        if (op->f == HF_OTHER) {
            any = 1;
            if (op->key)
                json_object_set_new(wkeys, op->key, json_true());
            else
                keyless = 1;
        } else if (op->f != HF_READ && op->key) {
            json_object_set_new(written, op->key, json_true());
        }
    }
    struct history *r = NULL;
    *left_out = 0;
    if (any) {
        int *keep = xcalloc((size_t)h->n + 1, sizeof *keep), nk = 0;
        for (int i = 0; i < h->n; i++) {
            const struct hist_op *op = &h->ops[i];
            int drop = op->f == HF_OTHER || (op->key && json_object_get(wkeys, op->key)) ||
                       (keyless && op->f == HF_READ && (!op->key || !json_object_get(written, op->key)));
            if (!drop)
                keep[nk++] = i;
        }
        *left_out = h->n - nk;
        r = history_subset(h, keep, nk);
        free(keep);
    }
    json_decref(wkeys);
    json_decref(written);
    return r;
}

/* Judges a parsed history with hc: the workload checkers with the last fault as the quiet point,
 * the register checkers without the workload's operations. */
static int judge(struct lab *lab, const struct history_checker *hc, const struct history *h, struct sb *out)
{
    if (workload_checker(hc)) {
        if (hc->run == wlcheck_pncounter || hc->run == wlcheck_gcounter)
            return wlcheck_counter_at(h, hc->run == wlcheck_pncounter, last_fault_ns(lab), out);
        if (hc->run == wlcheck_orset)
            return wlcheck_orset_at(h, last_fault_ns(lab), out);
        return hc->run(h, out);
    }
    int left = 0;
    struct history *reg = registers_only(h, &left);
    int rc;
    if (reg && !reg->n) {
        sb_printf(out, "nothing to judge: the history holds only workload operations (%d: add, remove, broadcast and "
                       "their reads; `check counter`, `check g-set`, `check or-set`, `check broadcast` judge them)", left);
        rc = 0;
    } else {
        rc = hc->run(reg ? reg : h, out);
        if (reg && rc >= 0 && rc <= 1)
            sb_printf(out, "%s(%d workload operations left to `check counter|g-set|or-set|broadcast`)",
                      out->len && out->s[out->len - 1] == '\n' ? "" : "\n", left);
    }
    history_free(&reg);
    return rc;
}

static int run_history(struct lab *lab, const struct history_checker *hc, const char *const *keys, int nkeys,
                       struct sb *out)
{
    /* a workload's state lives in its cluster: its checkers judge the run now going on */
    char *jsonl = history_for_keys(lab, keys, nkeys, workload_checker(hc) && lab->cl);
    int rc;
    if (!jsonl || !*jsonl) {
        sb_add(out, nkeys > 0 ? "nothing recorded on these keys: nothing can be violated"
                              : "the history is empty: nothing to judge (every put, get and cas is recorded, and every "
                                "add, remove, broadcast and read of a workload)");
        rc = 0;
    } else {
        struct history *h = NULL;
        char err[400];
        if (history_parse_jsonl(jsonl, strlen(jsonl), &h, err, sizeof err) < 0) {
            sb_printf(out, "cannot read the lab's own history: %s", err);
            rc = 2;
        } else {
            rc = judge(lab, hc, h, out);
            if (rc < 0 || rc > 1)
                rc = 2;
        }
        history_free(&h);
    }
    free(jsonl);
    while (out->len && out->s[out->len - 1] == '\n')
        out->s[--out->len] = 0;
    return rc;
}

/* ---- events of the current cluster ---------------------------------------------------------------- */

/* The position of the first event of the cluster now running (the last `cluster` event that
 * started one): the checkers over events judge this run only, not one stopped before. */
static uint64_t run_first_event(const struct lab *lab)
{
    uint64_t first = lab->ev_total - lab->ev_count;
    for (uint64_t g = lab->ev_total; g > first; g--) {
        const json_t *e = lab->events[(lab->ev_head + (g - 1 - first)) % LAB_MAX_EVENTS];
        const char *ev = json_string_value(json_object_get(e, "ev"));
        if (ev && !strcmp(ev, "cluster") && !json_is_true(json_object_get(e, "stopped")))
            return g - 1;
    }
    return first;
}

/* ---- the transactions of the run ---------------------------------------------------------------- */

/* Every `txn_end` event of the cluster now running (a mode's transaction ended: its ops with the values read,
 * its outcome commit, abort or compensated, how long it took) as a history of transactions,
 * or NULL with the reason in out. Caller frees. */
static struct txnhist *run_transactions(struct lab *lab, struct sb *out)
{
    struct sb jl = {0};
    sb_add(&jl, "");
    uint64_t first = lab->ev_total - lab->ev_count;
    int p = 0;
    for (uint64_t g = run_first_event(lab); g < lab->ev_total; g++) {
        const json_t *e = lab->events[(lab->ev_head + (g - first)) % LAB_MAX_EVENTS];
        const char *ev = json_string_value(json_object_get(e, "ev"));
        const json_t *ops = json_object_get(e, "ops");
        const char *outcome = json_string_value(json_object_get(e, "outcome"));
        if (!ev || strcmp(ev, "txn_end") || !json_is_array(ops) || !json_array_size(ops) || !outcome)
            continue;
        json_int_t t = json_integer_value(json_object_get(e, "t")), ms = json_integer_value(json_object_get(e, "ms"));
        const char *id = json_string_value(json_object_get(e, "txn"));
        char *v = json_dumps(ops, JSON_COMPACT);
        sb_printf(&jl, "{\"type\":\"invoke\",\"process\":%d,\"time\":%lld,\"id\":\"%s\",\"value\":%s}\n", p,
                  (long long)(t - ms * 1000) * 1000, id ? id : "", v);
        sb_printf(&jl, "{\"type\":\"%s\",\"process\":%d,\"time\":%lld,\"value\":%s}\n",
                  !strcmp(outcome, "commit") ? "ok" : "fail", p, (long long)t * 1000, v);
        free(v);
        p++;
    }
    struct txnhist *h = NULL;
    char err[400];
    if (!p)
        sb_add(out, "no transaction has ended in this run (a mode's txn_end events are its transactions)");
    else if (txnhist_parse(jl.s, jl.len, &h, err, sizeof err) < 0)
        sb_printf(out, "cannot read the run's transactions: %s", err);
    sb_free(&jl);
    return h;
}

static int run_txncheck(struct lab *lab, const struct history_checker *hc, const char *const *keys, int nkeys,
                        struct sb *out, int bank)
{
    (void)hc;
    (void)keys;
    (void)nkeys;
    struct txnhist *h = run_transactions(lab, out);
    if (!h)
        return 2;
    int rc = bank ? txncheck_bank(h, -1, out) : txncheck_serializable(h, out);
    txnhist_free(&h);
    while (out->len && out->s[out->len - 1] == '\n')
        out->s[--out->len] = 0;
    return rc == 0 ? 0 : rc == 1 ? 1 : 2;
}

static int run_serializable(struct lab *lab, const struct history_checker *hc, const char *const *keys, int nkeys,
                            struct sb *out)
{
    return run_txncheck(lab, hc, keys, nkeys, out, 0);
}

static int run_bank(struct lab *lab, const struct history_checker *hc, const char *const *keys, int nkeys, struct sb *out)
{
    return run_txncheck(lab, hc, keys, nkeys, out, 1);
}

/* ---- exactly once ---------------------------------------------------------------------------------- */

/* Every `produced` event against the `consumed` events of this run (exonce.h). */
static int run_exactly_once(struct lab *lab, const struct history_checker *hc, const char *const *keys, int nkeys,
                            struct sb *out)
{
    (void)hc;
    (void)keys;
    (void)nkeys;
    struct exonce x;
    exonce_init(&x);
    uint64_t first = lab->ev_total - lab->ev_count;
    for (uint64_t g = run_first_event(lab); g < lab->ev_total; g++)
        exonce_feed(&x, lab->events[(lab->ev_head + (g - first)) % LAB_MAX_EVENTS]);
    int rc = exonce_verdict(&x, out);
    exonce_free(&x);
    return rc;
}

/* ---- mutual exclusion ------------------------------------------------------------------------ */

/* The `mutex` events of the cluster now running (lock acquire and release by clients, writes
 * to the fenced storage; lab/check/mutex.h) judged by the mutex checker. */
static int run_mutex(struct lab *lab, const struct history_checker *hc, const char *const *keys, int nkeys,
                     struct sb *out)
{
    (void)hc;
    (void)keys;
    (void)nkeys;
    struct mutex_hist *h = mutex_hist_new();
    uint64_t first = lab->ev_total - lab->ev_count;
    int rc = 0;
    for (uint64_t g = run_first_event(lab); g < lab->ev_total && rc >= 0; g++) {
        const json_t *e = lab->events[(lab->ev_head + (g - first)) % LAB_MAX_EVENTS];
        char err[300];
        rc = mutex_hist_add(h, e, (int)(g - first + 1), err, sizeof err);
        if (rc < 0)
            sb_printf(out, "a mutex event of this run is malformed: %s", err);
    }
    if (rc >= 0)
        rc = mutex_check(h, out);
    else
        rc = 2;
    mutex_hist_free(&h);
    return rc;
}

/* ---- the table ---------------------------------------------------------------------------------- */

struct lab_checker {
    const char *name;
    int (*run)(struct lab *lab, const struct history_checker *hc, const char *const *keys, int nkeys,
               struct sb *out);
};

/* Checkers of the replicas' state; the history checkers come from history_checkers[]. */
static const struct lab_checker state_checkers[] = {
    {"converged", run_converged},
    {"serializable", run_serializable},
    {"bank", run_bank},
    {"exactly-once", run_exactly_once},
    {"mutex", run_mutex},
    {NULL, NULL},
};

/* The workload operations recorded since the cluster now running started, judged key by key
 * (wlcheck_workload_at): the verdict, or -1 when there are none. */
static int run_workload(struct lab *lab, struct sb *out)
{
    size_t from = lab->hist_run_from <= lab->hist.n ? lab->hist_run_from : 0;
    struct sb jl = {0};
    for (size_t i = from; i < lab->hist.n; i++) {
        char *s = json_dumps(lab->hist.v[i], JSON_COMPACT);
        if (s)
            sb_printf(&jl, "%s\n", s);
        free(s);
    }
    int rc = -1;
    struct history *h = NULL;
    char err[400];
    if (jl.s && history_parse_jsonl(jl.s, jl.len, &h, err, sizeof err) == 0)
        rc = wlcheck_workload_at(h, last_fault_ns(lab), out);
    else if (jl.s) {
        sb_printf(out, "cannot read the lab's own history: %s", err);
        rc = 2;
    }
    history_free(&h);
    sb_free(&jl);
    return rc;
}

/* A check of the running mode's own (mode.h, struct mode_check): judged from its monitor and the
 * live nodes' statuses. */
static int run_mode_check(struct lab *lab, const struct mode_check *mc, struct sb *out)
{
    const json_t *status[CL_MAXNODES] = {0};
    json_t *full[CL_MAXNODES] = {0};
    const struct cluster *c = lab->cl;
    int n = c->n < CL_MAXNODES ? c->n : CL_MAXNODES;
    for (int i = 0; i < n; i++) {
        status[i] = c->state[i] == NODE_UP ? lab_status_cached(lab, i) : NULL;
        /* a brief status carries no data past 4 KiB (statusbrief.h): the check gets the whole
         * data, fetched a page at a time as `wait converged` does */
        if (status[i] && !json_is_object(json_object_get(status[i], "data")) &&
            json_integer_value(json_object_get(status[i], "keys")) > 0 && !lab->pumping) {
            json_t *d = lab_node_data(lab, i);
            if (d) {
                full[i] = json_copy((json_t *)status[i]);
                json_object_set_new(full[i], "data", d);
                status[i] = full[i];
            }
        }
    }
    int rc = mc->run(lab_monitor_state(lab), status, n, out);
    for (int i = 0; i < n; i++)
        json_decref(full[i]);
    /* and the workload operations this run recorded (counters by Maelstrom's bound, sets by no
     * lost adds): the history's verdict joins the mode's */
    struct sb wl = {0};
    int wrc = run_workload(lab, &wl);
    if (wrc >= 0) {
        while (out->len && out->s[out->len - 1] == '\n')
            out->s[--out->len] = 0;
        sb_printf(out, "\nthe recorded history of this run: %s", wl.s ? wl.s : "");
        if (wrc == 1 || (wrc == 2 && rc == 0))
            rc = wrc;
    }
    sb_free(&wl);
    while (out->len && out->s[out->len - 1] == '\n')
        out->s[--out->len] = 0;
    return rc < 0 || rc > 2 ? 2 : rc;
}

int lab_check(struct lab *lab, const char *name, const char *const *keys, int nkeys, struct sb *out)
{
    const struct mode_check *mc = lab->cl ? mode_check_find(lab->cl->mode, name) : NULL;
    if (mc)
        return run_mode_check(lab, mc, out);
    for (const struct lab_checker *c = state_checkers; c->name; c++)
        if (!strcmp(c->name, name))
            return c->run(lab, NULL, keys, nkeys, out);
    const struct history_checker *hc = history_checker_find(name);
    if (hc && name && *name)
        return run_history(lab, hc, keys, nkeys, out);
    sb_printf(out, "unknown check '%s': expected %s", name ? name : "", lab_check_names());
    if (lab->cl && lab->cl->mode->checks)
        for (const struct mode_check *c = lab->cl->mode->checks; c->name; c++)
            sb_printf(out, "|%s", c->name);
    return CL_ENOENT;
}

const char *lab_check_names(void)
{
    static char buf[256];
    if (!buf[0]) {
        size_t at = 0;
        for (const struct history_checker *c = history_checkers; c->name; c++)
            at += (size_t)snprintf(buf + at, sizeof buf - at, "%s%s", at ? "|" : "", c->name);
        for (const struct lab_checker *c = state_checkers; c->name; c++)
            at += (size_t)snprintf(buf + at, sizeof buf - at, "%s%s", at ? "|" : "", c->name);
    }
    return buf;
}

int lab_check_history(struct lab *lab, const char *what, struct sb *out)
{
    const struct history_checker *hc = history_checker_find(what);
    if (!hc) {
        sb_printf(out, "unknown check '%s'", what ? what : "");
        return 2;
    }
    return run_history(lab, hc, NULL, 0, out);
}
