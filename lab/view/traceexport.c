/* traceexport — see traceexport.h. */
#include "traceexport.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace.h"

static const char *str(const json_t *ev, const char *k)
{
    return json_string_value(json_object_get(ev, k));
}

/* Is ev a node's event worth showing? Sets *idx to the node's index. */
static int node_event(const json_t *ev, int *idx)
{
    const char *node = str(ev, "node"), *kind = str(ev, "ev");
    if (!node || !kind || !strcmp(kind, "status") || parse_node_id(node, CL_MAXNODES, idx) < 0)
        return 0;
    return 1;
}

/* Where the current run starts: after the end of the one before (the `cluster` event that
 * says it stopped, before the last cluster start), else 0. A node's first events may reach
 * the lab before the start's own `cluster` event. */
static size_t run_start(json_t *const *ev, size_t n)
{
    size_t i = n;
    while (i > 0) { /* the last start */
        const char *kind = str(ev[i - 1], "ev");
        if (kind && !strcmp(kind, "cluster") && !json_object_get(ev[i - 1], "stopped"))
            break;
        i--;
    }
    while (i > 0) { /* the stop before it */
        const char *kind = str(ev[i - 1], "ev");
        if (kind && !strcmp(kind, "cluster") && json_object_get(ev[i - 1], "stopped"))
            return i;
        i--;
    }
    return 0;
}

/* The run's node events in time order (events from different nodes reach the lab in any
 * order; their times share one monotonic clock, so a send comes before its recv). */
struct tev {
    const json_t *ev;
    int64_t t;
    size_t seq;
};

static int tev_cmp(const void *a, const void *b)
{
    const struct tev *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static struct tev *ordered(json_t *const *ev, size_t n, size_t *count)
{
    size_t from = run_start(ev, n), k = 0;
    struct tev *v = xcalloc(n - from + 1, sizeof *v);
    for (size_t i = from; i < n; i++) {
        int idx;
        if (!node_event(ev[i], &idx))
            continue;
        const json_t *t = json_object_get(ev[i], "t");
        v[k].ev = ev[i];
        v[k].t = json_is_integer(t) ? json_integer_value(t) : (k ? v[k - 1].t : 0);
        v[k].seq = i;
        k++;
    }
    qsort(v, k, sizeof *v, tev_cmp);
    *count = k;
    return v;
}

/* A short description: "send append_entries to n2 #7", "state leader term=3". */
static void describe(const json_t *ev, struct sb *out)
{
    const char *kind = str(ev, "ev");
    sb_add(out, kind);
    const char *type = str(ev, "type"), *to = str(ev, "to"), *from = str(ev, "from");
    if (type)
        sb_printf(out, " %s", type);
    if (to)
        sb_printf(out, " to %s", to);
    if (from)
        sb_printf(out, " from %s", from);
    const json_t *mid = json_object_get(ev, "msg_id");
    if (json_is_integer(mid))
        sb_printf(out, " #%" JSON_INTEGER_FORMAT, json_integer_value(mid));
    static const char *const extra[] = {"role", "term", "why", "what", "key", "index", "text", NULL};
    for (const char *const *k = extra; *k; k++) {
        const json_t *v = json_object_get(ev, *k);
        if (!v)
            continue;
        if (json_is_string(v))
            sb_printf(out, " %s=%s", *k, json_string_value(v));
        else if (json_is_integer(v))
            sb_printf(out, " %s=%" JSON_INTEGER_FORMAT, *k, json_integer_value(v));
    }
}

/* One line without control characters (ShiViz reads one event per line). */
static void add_line(struct sb *out, const char *s)
{
    for (; *s; s++)
        sb_addc(out, (unsigned char)*s < 0x20 ? ' ' : *s);
}

/* ---- message matching: a send waits for its recv ---------------------------------------- */

struct pend {
    int src, dst;
    char type[48];
    json_int_t msg_id;          /* -1 when none */
    uint64_t vc[CL_MAXNODES];       /* ShiViz: the sender's clock at the send */
    int64_t t;                  /* Chrome: the send's time (µs) */
    size_t flow;                /* Chrome: flow id */
    int used;
};

struct pends {
    struct pend *p;
    size_t n, cap;
};

static json_int_t msg_id_of(const json_t *ev)
{
    const json_t *m = json_object_get(ev, "msg_id");
    return json_is_integer(m) ? json_integer_value(m) : -1;
}

static struct pend *pend_add(struct pends *ps, int src, int dst, const json_t *ev)
{
    if (ps->n == ps->cap) {
        ps->cap = ps->cap ? ps->cap * 2 : 256;
        ps->p = xrealloc(ps->p, ps->cap * sizeof *ps->p);
    }
    struct pend *p = &ps->p[ps->n++];
    memset(p, 0, sizeof *p);
    p->src = src;
    p->dst = dst;
    snprintf(p->type, sizeof p->type, "%s", str(ev, "type") ? str(ev, "type") : "");
    p->msg_id = msg_id_of(ev);
    return p;
}

/* The oldest unmatched send that this recv delivers, or NULL. */
static struct pend *pend_match(struct pends *ps, int src, int dst, const json_t *ev)
{
    const char *type = str(ev, "type") ? str(ev, "type") : "";
    json_int_t mid = msg_id_of(ev);
    for (size_t i = 0; i < ps->n; i++) {
        struct pend *p = &ps->p[i];
        if (!p->used && p->src == src && p->dst == dst && p->msg_id == mid && !strcmp(p->type, type)) {
            p->used = 1;
            return p;
        }
    }
    return NULL;
}

/* A send to another node / a recv from one: the peer's index, else -1. */
static int peer_of(const json_t *ev, const char *field)
{
    int idx;
    const char *id = str(ev, field);
    return id && parse_node_id(id, CL_MAXNODES, &idx) == 0 ? idx : -1;
}

static int is(const json_t *ev, const char *kind)
{
    const char *k = str(ev, "ev");
    return k && !strcmp(k, kind);
}

/* ---- ShiViz ------------------------------------------------------------------------------ */

static size_t shiviz(const struct tev *ev, size_t n, struct sb *out)
{
    uint64_t vc[CL_MAXNODES][CL_MAXNODES];
    memset(vc, 0, sizeof vc);
    struct pends ps = {0};
    size_t written = 0;
    sb_add(out, SHIVIZ_REGEX "\n\n");
    for (size_t j = 0; j < n; j++) {
        const json_t *e = ev[j].ev;
        int me;
        node_event(e, &me);
        vc[me][me]++;
        if (is(e, "recv")) {
            int src = peer_of(e, "from");
            struct pend *p = src >= 0 ? pend_match(&ps, src, me, e) : NULL;
            if (p)
                for (int k = 0; k < CL_MAXNODES; k++)
                    if (k != me && p->vc[k] > vc[me][k])
                        vc[me][k] = p->vc[k];
        } else if (is(e, "send")) {
            int dst = peer_of(e, "to");
            if (dst >= 0 && dst != me) {
                struct pend *p = pend_add(&ps, me, dst, e);
                memcpy(p->vc, vc[me], sizeof p->vc);
            }
        }
        struct sb d = {0};
        const json_t *t = json_object_get(e, "t");
        sb_printf(&d, "t=%.3fms ", json_is_integer(t) ? (double)json_integer_value(t) / 1000 : 0.0);
        describe(e, &d);
        add_line(out, d.s);
        sb_free(&d);
        char id[CL_IDLEN];
        node_name(me, id);
        sb_printf(out, "\n%s {", id);
        int first = 1;
        for (int k = 0; k < CL_MAXNODES; k++) {
            if (!vc[me][k])
                continue;
            char kid[CL_IDLEN];
            node_name(k, kid);
            sb_printf(out, "%s\"%s\":%" PRIu64, first ? "" : ", ", kid, vc[me][k]);
            first = 0;
        }
        sb_add(out, "}\n");
        written++;
    }
    free(ps.p);
    return written;
}

/* ---- Chrome trace events ------------------------------------------------------------------ */

static void chrome_event(json_t *arr, const char *name, const char *ph, int pid, int tid, int64_t ts, json_t *extra)
{
    json_t *e = json_pack("{s:s,s:s,s:i,s:i,s:I}", "name", name, "ph", ph, "pid", pid, "tid", tid, "ts", (json_int_t)ts);
    if (extra) {
        json_object_update(e, extra);
        json_decref(extra);
    }
    json_array_append_new(arr, e);
}

static size_t chrome(const struct tev *ev, size_t n, struct sb *out)
{
    json_t *arr = json_array();
    int seen[CL_MAXNODES] = {0};
    char role[CL_MAXNODES][32];
    int64_t role_t[CL_MAXNODES], last_t = 0;
    memset(role, 0, sizeof role);
    struct pends ps = {0};
    size_t written = 0, flows = 0;
    for (size_t j = 0; j < n; j++) {
        const json_t *e = ev[j].ev;
        int me;
        node_event(e, &me);
        int64_t t = ev[j].t;
        if (t > last_t)
            last_t = t;
        int pid = me + 1;
        if (!seen[me]) {
            char id[CL_IDLEN];
            node_name(me, id);
            chrome_event(arr, "process_name", "M", pid, 0, 0, json_pack("{s:{s:s}}", "args", "name", id));
            chrome_event(arr, "thread_name", "M", pid, 1, 0, json_pack("{s:{s:s}}", "args", "name", "events"));
            chrome_event(arr, "thread_name", "M", pid, 2, 0, json_pack("{s:{s:s}}", "args", "name", "role"));
            seen[me] = 1;
        }
        struct sb d = {0};
        describe(e, &d);
        json_t *args = json_deep_copy(e);
        chrome_event(arr, d.s, "X", pid, 1, t, json_pack("{s:i,s:s,s:o}", "dur", 1, "cat", str(e, "ev"), "args", args));
        sb_free(&d);
        written++;
        /* roles: a slice from each state change (or crash) to the next */
        const char *r = is(e, "state") ? str(e, "role") : NULL;
        const char *what = is(e, "fault") ? str(e, "what") : NULL;
        if (r || (what && (!strcmp(what, "crash") || !strcmp(what, "stonith") || !strcmp(what, "start")))) {
            if (role[me][0] && t >= role_t[me])
                chrome_event(arr, role[me], "X", pid, 2, role_t[me], json_pack("{s:I,s:s}", "dur", (json_int_t)(t - role_t[me]), "cat", "role"));
            snprintf(role[me], sizeof role[me], "%s", r ? r : "");
            role_t[me] = t;
        }
        if (is(e, "send")) {
            int dst = peer_of(e, "to");
            if (dst >= 0 && dst != me) {
                struct pend *p = pend_add(&ps, me, dst, e);
                p->t = t;
                p->flow = ++flows;
                chrome_event(arr, str(e, "type") ? str(e, "type") : "message", "s", pid, 1, t,
                             json_pack("{s:s,s:I}", "cat", "message", "id", (json_int_t)p->flow));
            }
        } else if (is(e, "recv")) {
            int src = peer_of(e, "from");
            struct pend *p = src >= 0 ? pend_match(&ps, src, me, e) : NULL;
            if (p)
                chrome_event(arr, p->type[0] ? p->type : "message", "f", pid, 1, t,
                             json_pack("{s:s,s:I,s:s}", "cat", "message", "id", (json_int_t)p->flow, "bp", "e"));
        }
    }
    for (int k = 0; k < CL_MAXNODES; k++)
        if (role[k][0] && last_t >= role_t[k])
            chrome_event(arr, role[k], "X", k + 1, 2, role_t[k], json_pack("{s:I,s:s}", "dur", (json_int_t)(last_t - role_t[k] + 1), "cat", "role"));
    json_t *doc = json_pack("{s:o,s:s}", "traceEvents", arr, "displayTimeUnit", "ms");
    char *s = json_dumps(doc, JSON_COMPACT | JSON_ENSURE_ASCII);
    json_decref(doc);
    if (s) {
        sb_add(out, s);
        sb_addc(out, '\n');
        free(s);
    }
    free(ps.p);
    return written;
}

size_t trace_export(json_t *const *ev, size_t n, enum trace_format f, struct sb *out)
{
    size_t k;
    struct tev *v = ordered(ev, n, &k);
    size_t w = f == TRACE_SHIVIZ ? shiviz(v, k, out) : chrome(v, k, out);
    free(v);
    return w;
}

/* ---- conlab trace export TRACE OUT [--shiviz|--chrome] -------------------------------------- */

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

int traceexport_main(int argc, char **argv)
{
    static const char usage[] =
        "usage: conlab trace export TRACE OUT [--shiviz | --chrome]\n"
        "  a saved trace (the lab's `trace FILE`) as a ShiViz log or a Chrome trace (Perfetto);\n"
        "  OUT.json defaults to --chrome, OUT.log and OUT.shiviz to --shiviz\n";
    const char *in = NULL, *out = NULL, *fmt = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(usage, stdout);
            return 0;
        }
        if (!strcmp(argv[i], "--shiviz") || !strcmp(argv[i], "--chrome")) {
            fmt = argv[i];
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "conlab trace export: unknown option %s\n%s", argv[i], usage);
            return 2;
        } else if (!in) {
            in = argv[i];
        } else if (!out) {
            out = argv[i];
        } else {
            fprintf(stderr, "conlab trace export: one trace and one output file\n%s", usage);
            return 2;
        }
    }
    if (!in || !out) {
        fprintf(stderr, "conlab trace export: which trace, and where to?\n%s", usage);
        return 2;
    }
    if (!fmt)
        fmt = ends_with(out, ".json") ? "--chrome" : ends_with(out, ".log") || ends_with(out, ".shiviz") ? "--shiviz" : NULL;
    if (!fmt) {
        fprintf(stderr, "conlab trace export: add --shiviz or --chrome (or name OUT .json, .log)\n");
        return 2;
    }
    struct trace t = {0};
    struct sb errs = {0};
    if (trace_load(in, &t, &errs) < 0) {
        fprintf(stderr, "conlab trace export: %s", errs.s ? errs.s : "cannot read the trace\n");
        sb_free(&errs);
        return 2;
    }
    if (errs.s)
        fputs(errs.s, stderr);
    sb_free(&errs);
    struct sb text = {0};
    size_t n = trace_export(t.ev, t.n, !strcmp(fmt, "--shiviz") ? TRACE_SHIVIZ : TRACE_CHROME, &text);
    trace_free(&t);
    FILE *f = fopen(out, "w");
    int rc = 0;
    if (!f || fwrite(text.s ? text.s : "", 1, text.len, f) != text.len || fclose(f) != 0) {
        fprintf(stderr, "conlab trace export: cannot write %s\n", out);
        if (f)
            fclose(f);
        rc = 1;
    } else {
        printf("exported %zu node events to %s\n", n, out);
    }
    sb_free(&text);
    return rc;
}
