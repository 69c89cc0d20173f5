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
