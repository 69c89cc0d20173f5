/* txnmon — the txn mode's live invariant monitor (mode.h's struct mode_monitor), fed every
 * event of a run. It proves, from events alone:
 *
 *  - Atomicity (TCConsistent): no transaction is committed by one participant and aborted by
 *    another ("txn_state" committed / aborted).
 *  - NoUnilateralAbort (2pc): a participant that voted YES aborts only when told (by the
 *    coordinator, a peer that knows, or the termination rule of 3pc), never on a timeout.
 *  - DecisionLogged: the coordinator's decision is durable before it is sent
 *    ("decision" with logged=false).
 *  - CompensationOrder (sagas): compensations run in reverse order of the steps, and only for
 *    steps that were done ("saga_step" done, "compensate").
 *  - SagaUndone: a saga that ended compensated left no done step without its compensation.
 *
 * Pure: jansson and libc only. Each alert ends with the events that prove it
 * ("(events n2#14, n4#17)"), as every monitor's do.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "txn.h"

struct txnmon {
    json_t *txns;           /* txn -> {"commit":"n2#14","abort":"n4#17","flagged":true} */
    int violations;
    json_t *last;
};

static void *mon_create(void)
{
    struct txnmon *m = xcalloc(1, sizeof *m);
    m->txns = json_object();
    return m;
}

static void violation(struct txnmon *m, struct sb *alert, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void violation(struct txnmon *m, struct sb *alert, const char *fmt, ...)
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
    sb_add(alert, text.s);
    sb_free(&text);
}

static json_t *saga_of(struct txnmon *m, const char *saga)
{
    json_t *t = json_object_get(m->txns, saga);
    if (!t) {
        t = json_pack("{s:{},s:{},s:i}", "done", "comp", "last", 1 << 30);
        json_object_set_new(m->txns, saga, t);
    }
    return t;
}

static int saga_feed(struct txnmon *m, const char *name, const char *saga, const json_t *ev, const char *where,
                     struct sb *alert)
{
    int step = (int)json_integer_value(json_object_get(ev, "step"));
    char k[16];
    snprintf(k, sizeof k, "%d", step);
    if (!strcmp(name, "saga_step")) {
        const char *o = json_string_value(json_object_get(ev, "outcome"));
        const char *f = json_string_value(json_array_get(json_object_get(ev, "op"), 0));
        if (o && !strcmp(o, "done") && f && strcmp(f, "r"))
            json_object_set_new(json_object_get(saga_of(m, saga), "done"), k, json_string(where));
        return 0;
    }
    if (!strcmp(name, "compensate")) {
        json_t *t = saga_of(m, saga);
        int last = (int)json_integer_value(json_object_get(t, "last"));
        const char *done = json_string_value(json_object_get(json_object_get(t, "done"), k));
        json_object_set_new(json_object_get(t, "comp"), k, json_string(where));
        json_object_set_new(t, "last", json_integer(step));
        if (!done) {
            violation(m, alert, "CompensationOrder: %s compensated step %d of %s, which was never done (events %s)",
                      json_string_value(json_object_get(ev, "node")), step, saga, where);
            return 1;
        }
        if (step >= last) {
            violation(m, alert, "CompensationOrder: %s compensated step %d of %s after step %d: compensations run in "
                      "reverse order (events %s)", json_string_value(json_object_get(ev, "node")), step, saga, last, where);
            return 1;
        }
        return 0;
    }
    /* txn_end of a compensated saga: every done step undone */
    const char *o = json_string_value(json_object_get(ev, "outcome"));
    json_t *t = json_object_get(m->txns, saga);
    if (!o || strcmp(o, "compensated") || !t || !json_object_get(t, "done"))
        return 0;
    const char *sk;
    json_t *v;
    json_object_foreach(json_object_get(t, "done"), sk, v) {
        if (!json_object_get(json_object_get(t, "comp"), sk)) {
            violation(m, alert, "SagaUndone: %s ended compensated but step %s was never compensated (events %s, %s)", saga,
                      sk, json_string_value(v), where);
            return 1;
        }
    }
    return 0;
}

static int mon_feed(void *vm, const json_t *ev, struct sb *alert)
{
    struct txnmon *m = vm;
    const char *name = json_string_value(json_object_get(ev, "ev"));
    const char *node = json_string_value(json_object_get(ev, "node"));
    const char *txn = json_string_value(json_object_get(ev, "txn"));
    if (!txn)
        txn = json_string_value(json_object_get(ev, "saga"));
    if (!name || !node || !txn)
        return 0;
    char where[64];
    snprintf(where, sizeof where, "%s#%lld", node, (long long)json_integer_value(json_object_get(ev, "seq")));
    if (!strcmp(name, "saga_step") || !strcmp(name, "compensate") || !strcmp(name, "txn_end"))
        return saga_feed(m, name, txn, ev, where, alert);
    if (!strcmp(name, "decision")) {
        if (json_is_false(json_object_get(ev, "logged"))) {
            violation(m, alert, "DecisionLogged: %s sent its decision on %s (%s) before it was durable: a crash now "
                      "forgets it (events %s)", node, txn, json_string_value(json_object_get(ev, "outcome")), where);
            return 1;
        }
        return 0;
    }
    if (strcmp(name, "txn_state"))
        return 0;
    const char *state = json_string_value(json_object_get(ev, "state"));
    const char *by = json_string_value(json_object_get(ev, "by"));
    const char *proto = json_string_value(json_object_get(ev, "protocol"));
    if (!state)
        return 0;
    json_t *t = json_object_get(m->txns, txn);
    if (!t) {
        t = json_object();
        json_object_set_new(m->txns, txn, t);
    }
    if (!strcmp(state, "prepared")) {
        char k[80];
        snprintf(k, sizeof k, "yes:%s", node);
        json_object_set_new(t, k, json_string(where));
        return 0;
    }
    int commit = !strcmp(state, "committed");
    if (!commit && strcmp(state, "aborted"))
        return 0;
    int found = 0;
    if (!commit && by && !strcmp(by, "timeout") && proto && !strcmp(proto, "2pc")) {
        char k[80];
        snprintf(k, sizeof k, "yes:%s", node);
        const char *yes = json_string_value(json_object_get(t, k));
        if (yes) {
            violation(m, alert, "NoUnilateralAbort: %s voted yes on %s, then aborted it on a timeout without being told "
                      "(events %s, %s)", node, txn, yes, where);
            found = 1;
        }
    }
    char val[96];
    snprintf(val, sizeof val, "%s", where);
    json_object_set_new(t, commit ? "commit" : "abort", json_string(val));
    const char *other = json_string_value(json_object_get(t, commit ? "abort" : "commit"));
    if (other && !json_is_true(json_object_get(t, "flagged"))) {
        json_object_set_new(t, "flagged", json_true());
        char onode[CL_IDLEN];
        size_t n = strcspn(other, "#");
        snprintf(onode, sizeof onode, "%.*s", (int)(n < sizeof onode ? n : sizeof onode - 1), other);
        violation(m, alert, "Atomicity: %s %s %s but %s %s it (events %s, %s)", commit ? node : onode, "committed", txn,
                  commit ? onode : node, "aborted", commit ? other : where, commit ? where : other);
        found = 1;
    }
    return found;
}

static int mon_violations(const void *vm) { return ((const struct txnmon *)vm)->violations; }
static const json_t *mon_last(const void *vm) { return ((const struct txnmon *)vm)->last; }

static void mon_destroy(void *vm)
{
    struct txnmon *m = vm;
    if (!m)
        return;
    json_decref(m->txns);
    json_decref(m->last);
    free(m);
}

const struct mode_monitor txn_monitor = {
    .create = mon_create,
    .feed = mon_feed,
    .violations = mon_violations,
    .last = mon_last,
    .destroy = mon_destroy,
};
