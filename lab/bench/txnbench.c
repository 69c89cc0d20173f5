/* txnbench — `conlab bench txn`: bank transfers through a mode whose clients send `transfer`
 * requests (its face's client types say so), once per value of its `protocol` option (2PC,
 * 3PC and sagas for the transaction mode), on real processes with fsync on: transfers per
 * second, latency p50/p99, aborts, and the messages and fsyncs per transaction the nodes
 * report in their status (`msgs`, `fsyncs`). One run, every protocol, so the ratios compare
 * like with like on a loaded machine.
 *
 *   conlab bench txn [--nodes N] [--clients C] [--seconds S] [--accounts A] [--json]
 */
#include "txnbench.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab.h"
#include "rng.h"

struct client {
    struct tb *b;
    uint64_t t0;
};

struct tb {
    struct lab lab;
    struct client cl[256];
    int clients, nodes, accounts;
    double seconds;
    double *lat;
    size_t nlat, caplat;
    uint64_t ok, aborted, info, end_us;
    int running;
    struct rng rng;
};

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(const double *v, size_t n, double p)
{
    if (!n)
        return 0;
    size_t i = (size_t)ceil(p / 100.0 * (double)n);
    return v[i > 0 ? (i > n ? n : i) - 1 : 0];
}

static void account(char *buf, size_t len, int i)
{
    static const char *const six[] = {"alice", "bob", "carol", "dave", "erin", "frank"};
    if (i < 6)
        snprintf(buf, len, "%s", six[i]);
    else
        snprintf(buf, len, "a%d", i + 1);
}

static void next_transfer(struct client *c);

static void done(void *ud, struct op *op)
{
    struct client *c = ud;
    struct tb *b = c->b;
    const char *type = json_string_value(json_object_get(op->reply, "type"));
    if (op->outcome == OP_OK && type && strcmp(type, "error")) {
        b->ok++;
        if (b->nlat == b->caplat) {
            b->caplat = b->caplat ? 2 * b->caplat : 4096;
            b->lat = xrealloc(b->lat, b->caplat * sizeof *b->lat);
        }
        b->lat[b->nlat++] = (double)(mono_us() - c->t0) / 1000.0;
    } else if (op->outcome == OP_OK) {
        b->aborted++;
    } else {
        b->info++;
    }
    op->done = NULL;
    lab_op_free(op);
    if (b->running && mono_us() < b->end_us)
        next_transfer(c);
}

static void next_transfer(struct client *c)
{
    struct tb *b = c->b;
    int x = (int)rng_range(&b->rng, 0, (uint64_t)b->accounts - 1), y;
    do
        y = (int)rng_range(&b->rng, 0, (uint64_t)b->accounts - 1);
    while (y == x);
    char from[16], to[16];
    account(from, sizeof from, x);
    account(to, sizeof to, y);
    json_t *body = json_pack("{s:s,s:s,s:s,s:i}", "type", "transfer", "from", from, "to", to, "amount", 1);
    c->t0 = mono_us();
    struct op *op = lab_send_start(&b->lab, 0, body);
    json_decref(body);
    if (!op)
        return;
    op->done = done;
    op->done_ud = c;
    if (op->outcome != OP_PENDING)
        done(c, op);
}

/* One protocol: start, load, sum the nodes' counters, stop. Prints or appends JSON. */
static int run_one(struct tb *b, const struct mode *m, const char *proto, const char *argv0, struct sb *json, int first)
{
    char err[256];
    struct opts o = {0};
    opts_set(&o, "protocol", proto);
    opts_set(&o, "events", "state");
    char n[16];
    snprintf(n, sizeof n, "%d", b->accounts);
    opts_set(&o, "accounts", n);
    memset(&b->lab, 0, sizeof b->lab);
    if (lab_init(&b->lab, argv0, err, sizeof err) < 0) {
        fprintf(stderr, "conlab bench txn: %s\n", err);
        opts_free(&o);
        return -1;
    }
    int rc = -1;
    if (lab_start(&b->lab, m->name, b->nodes, &o) < 0)
        goto out;
    b->nlat = 0;
    b->ok = b->aborted = b->info = 0;
    b->running = 1;
    uint64_t t0 = mono_us();
    b->end_us = t0 + (uint64_t)(b->seconds * 1e6);
    for (int i = 0; i < b->clients; i++) {
        b->cl[i].b = b;
        next_transfer(&b->cl[i]);
    }
    while (mono_us() < b->end_us)
        lab_pump(&b->lab, 20000, -1);
    b->running = 0;
    for (int k = 0; k < 300; k++) {
        int pending = 0;
        for (int i = 0; i < LAB_MAX_OPS; i++)
            pending += b->lab.ops[i].used && b->lab.ops[i].outcome == OP_PENDING;
        if (!pending)
            break;
        lab_pump(&b->lab, 10000, -1);
    }
    double secs = (double)(mono_us() - t0) / 1e6;
    lab_refresh(&b->lab, NULL);
    long long msgs = 0, fsyncs = 0;
    for (int i = 0; i < b->lab.cl->n; i++) {
        const json_t *st = lab_status_cached(&b->lab, i);
        msgs += json_integer_value(json_object_get(st, "msgs"));
        fsyncs += json_integer_value(json_object_get(st, "fsyncs"));
    }
    qsort(b->lat, b->nlat, sizeof *b->lat, cmp_double);
    double per = (double)(b->ok + b->aborted) > 0 ? 1.0 / (double)(b->ok + b->aborted) : 0;
    if (json) {
        sb_printf(json, "%s\"%s\":{\"transfers\":%llu,\"aborted\":%llu,\"indeterminate\":%llu,\"per_s\":%.1f,"
                  "\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"msgs_per_txn\":%.2f,\"fsyncs_per_txn\":%.2f}", first ? "" : ",", proto,
                  (unsigned long long)b->ok, (unsigned long long)b->aborted, (unsigned long long)b->info,
                  (double)b->ok / secs, pct(b->lat, b->nlat, 50), pct(b->lat, b->nlat, 99), (double)msgs * per,
                  (double)fsyncs * per);
    } else {
        printf("  %-5s %6.0f transfers/s  p50 %7.2f ms  p99 %7.2f ms  committed %llu, aborted %llu, indeterminate %llu;"
               " %.1f messages and %.1f fsyncs per transaction\n", proto, (double)b->ok / secs, pct(b->lat, b->nlat, 50),
               pct(b->lat, b->nlat, 99), (unsigned long long)b->ok, (unsigned long long)b->aborted,
               (unsigned long long)b->info, (double)msgs * per, (double)fsyncs * per);
    }
    rc = 0;
out:
    lab_destroy(&b->lab);
    opts_free(&o);
    return rc;
}

int txnbench_main(int argc, char **argv, const char *argv0)
{
    struct tb *b = xcalloc(1, sizeof *b);
    b->clients = 16;
    b->nodes = 4;
    b->seconds = 5;
    b->accounts = 60;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        int64_t x;
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--json")) {
            json = 1;
            continue;
        }
        if (v && !strcmp(a, "--clients") && parse_i64(v, &x) == 0 && x >= 1 && x <= 256)
            b->clients = (int)x;
        else if (v && !strcmp(a, "--nodes") && parse_i64(v, &x) == 0 && x >= 3 && x <= 9)
            b->nodes = (int)x;
        else if (v && !strcmp(a, "--accounts") && parse_i64(v, &x) == 0 && x >= 6 && x <= 100000)
            b->accounts = (int)x;
        else if (v && !strcmp(a, "--seconds") && parse_double(v, &b->seconds) == 0 && b->seconds > 0 && b->seconds <= 3600)
            ;
        else {
            fprintf(stderr, "usage: conlab bench txn [--nodes N] [--clients C] [--seconds S] [--accounts A] [--json]\n");
            free(b);
            return 2;
        }
        i++;
    }
    /* the mode: the first whose clients may send transfers; its protocols from its face */
    const struct mode *m = NULL;
    for (int i = 0; mode_table[i] && !m; i++)
        if (mode_table[i]->client_types && mode_client_type(mode_table[i], "transfer"))
            m = mode_table[i];
    const char *protos = NULL;
    for (const struct mode_option *o = m ? m->options : NULL; o && o->name && !protos; o++)
        if (!strcmp(o->name, "protocol") && o->kind == OPT_ENUM)
            protos = o->values;
    if (!m || !protos) {
        fprintf(stderr, "conlab bench txn: no mode takes transfer requests with a protocol option\n");
        free(b);
        return 1;
    }
    rng_seed(&b->rng, 42);
    struct sb js = {0};
    if (json)
        sb_printf(&js, "{\"mode\":\"%s\",\"nodes\":%d,\"clients\":%d,\"seconds\":%.1f,\"accounts\":%d,", m->name, b->nodes,
                  b->clients, b->seconds, b->accounts);
    else
        printf("transfers: %s, %d nodes (1 coordinator), %d clients, %.1f s each, %d accounts, fsync on\n", m->name,
               b->nodes, b->clients, b->seconds, b->accounts);
    int rc = 0, first = 1;
    char *list = xstrdup(protos);
    for (char *save = NULL, *p = strtok_r(list, "|", &save); p; p = strtok_r(NULL, "|", &save)) {
        if (run_one(b, m, p, argv0, json ? &js : NULL, first) < 0)
            rc = 1;
        first = 0;
    }
    free(list);
    if (json) {
        sb_add(&js, "}");
        puts(js.s);
    }
    sb_free(&js);
    free(b->lat);
    free(b);
    return rc;
}
