/* bench — see bench.h. Closed-loop clients through the lab's own gateway (the same path a
 * student's `put` takes), latency percentiles from every completed operation, election
 * times from the nodes' own `state` events after a SIGKILL of the leader. Generic over the
 * mode's face: any mode whose clients speak lin-kv; elections for modes with a leader role. */
#include "bench.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "catchup.h"
#include "spreadbench.h"
#include "lockbench.h"
#include "txnbench.h"
#include "esbench.h"
#include "lab.h"

struct bench {
    struct lab lab;
    const char *mode;
    int nodes, clients, keys, elections, json, reads_pct;
    const char *workload;       /* lin-kv, or Maelstrom's g-counter, pn-counter, g-set */
    uint64_t *sent;             /* per client: when its raw request left (µs, cluster time) */
    json_t *extra;              /* per-request options: {"cl":"quorum"} */
    double seconds;
    struct opts opts;
    const char *setup[16];      /* --setup: lab commands run before the load (delay dc1->dc2 80) */
    int nsetup;
    /* the run */
    double *lat;                /* ms */
    size_t nlat, caplat;
    uint64_t ok, failed, info;
    uint64_t end_us;
    struct rng rng;
    int running;
    /* elections */
    int64_t old_term;
    int new_leader;
    uint64_t new_leader_t;
};

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(double *v, size_t n, double p)
{
    if (!n)
        return 0;
    size_t i = (size_t)ceil(p / 100.0 * (double)n);
    if (i > 0)
        i--;
    if (i >= n)
        i = n - 1;
    return v[i];
}

static void next_op(struct bench *b, int process);

static void op_done(void *ud, struct op *op)
{
    struct bench *b = ud;
    int process = op->process;
    uint64_t start = op->invoke ? (uint64_t)json_integer_value(json_object_get(op->invoke, "time")) / 1000
                                : b->sent[process - 1000];
    double ms = (double)(cluster_now(b->lab.cl) - start) / 1000.0;
    if (op->outcome == OP_OK) {
        b->ok++;
        if (b->nlat == b->caplat) {
            b->caplat = b->caplat ? b->caplat * 2 : 4096;
            b->lat = xrealloc(b->lat, b->caplat * sizeof *b->lat);
        }
        b->lat[b->nlat++] = ms;
    } else if (op->outcome == OP_FAIL) {
        b->failed++;
    } else {
        b->info++;
    }
    op->done = NULL;
    lab_op_free(op);
    if (b->running && mono_us() < b->end_us)
        next_op(b, process);
}

/* Maelstrom's g-counter, pn-counter and g-set workloads: add{delta} or add{element} and read{},
 * sent as they are to the node the client sticks to. */
static struct op *next_raw(struct bench *b, int process, int read)
{
    json_t *body;
    if (read)
        body = json_pack("{s:s}", "type", "read");
    else if (!strcmp(b->workload, "g-set"))
        body = json_pack("{s:s,s:I}", "type", "add", "element", (json_int_t)(rng_next(&b->rng) % 1000000000));
    else {
        json_int_t d = (json_int_t)rng_range(&b->rng, 1, 5);
        if (!strcmp(b->workload, "pn-counter") && rng_range(&b->rng, 0, 2) == 0)
            d = -d;
        body = json_pack("{s:s,s:I}", "type", "add", "delta", d);
    }
    b->sent[process - 1000] = cluster_now(b->lab.cl);
    struct op *op = lab_send_start(&b->lab, (process - 1000) % b->lab.cl->n, body);
    json_decref(body);
    if (op)
        op->process = process;
    return op;
}

static void next_op(struct bench *b, int process)
{
    if (strcmp(b->workload, "lin-kv")) {
        struct op *op = next_raw(b, process, (int)rng_range(&b->rng, 0, 99) < b->reads_pct);
        if (!op)
            return;
        if (op->outcome != OP_PENDING) {
            op_done(b, op);
            return;
        }
        op->done = op_done;
        op->done_ud = b;
        return;
    }
    char key[32];
    snprintf(key, sizeof key, "k%u", (unsigned)rng_range(&b->rng, 0, (uint64_t)b->keys - 1));
    int read = (int)rng_range(&b->rng, 0, 99) < b->reads_pct;
    char val[32];
    snprintf(val, sizeof val, "%llu", (unsigned long long)(rng_next(&b->rng) % 1000000));
    json_t *value = read ? NULL : json_string(val);
    struct op *op = lab_op_start(&b->lab, read ? "read" : "write", key, value, -1, b->extra, process);
    json_decref(value);
    if (!op)
        return;
    if (op->outcome != OP_PENDING) { /* failed at once (node down) */
        op_done(b, op);
        return;
    }
    op->done = op_done;
    op->done_ud = b;
}

/* A new leader: a state event whose role is of the leader class, in a newer term or epoch. */
static void on_event(void *ud, const struct event *ev)
{
    struct bench *b = ud;
    if (ev->kind != EV_STATE || !b->lab.cl || mode_role_class(b->lab.cl->mode, ev->state.role) != RC_LEADER)
        return;
    int64_t term = ev->state.has_term ? (int64_t)ev->state.term : ev->state.has_epoch ? (int64_t)ev->state.epoch : -1;
    if (term > b->old_term && !b->new_leader) {
        b->new_leader = 1;
        b->new_leader_t = ev->t;
    }
}

/* The mode a bench runs without --mode: the first that answers lin-kv through a leader. */
static const struct mode *default_mode(void)
{
    for (int i = 0; mode_table[i]; i++)
        if (mode_table[i]->workload && !strcmp(mode_table[i]->workload, "lin-kv") &&
            mode_has_class(mode_table[i], RC_LEADER))
            return mode_table[i];
    return NULL;
}

static int wait_leader(struct bench *b, uint64_t timeout_us)
{
    uint64_t end = mono_us() + timeout_us;
    int l;
    int64_t t;
    while (mono_us() < end) {
        if (lab_leader_agreed(&b->lab, &l, &t))
            return l;
        lab_pump(&b->lab, 10000, -1);
    }
    return -1;
}

/* Messages between nodes and fsyncs, summed over the live nodes (their status counters). */
static void io_counts(struct bench *b, uint64_t *msgs, uint64_t *syncs)
{
    json_t *st[CL_MAXNODES] = {0};
    lab_refresh(&b->lab, st);
    *msgs = *syncs = 0;
    for (int i = 0; i < b->lab.cl->n; i++) {
        *msgs += (uint64_t)json_integer_value(json_object_get(st[i], "peer_sends"));
        *syncs += (uint64_t)json_integer_value(json_object_get(st[i], "fsyncs"));
        json_decref(st[i]);
    }
}

static void load(struct bench *b, struct sb *json)
{
    uint64_t msgs0, syncs0, msgs1, syncs1;
    io_counts(b, &msgs0, &syncs0);
    b->nlat = 0;
    b->ok = b->failed = b->info = 0;
    b->running = 1;
    uint64_t t0 = mono_us();
    b->end_us = t0 + (uint64_t)(b->seconds * 1e6);
    for (int p = 0; p < b->clients; p++)
        next_op(b, 1000 + p);
    while (mono_us() < b->end_us)
        lab_pump(&b->lab, 20000, -1);
    b->running = 0;
    /* let the last operations finish */
    for (int k = 0; k < 200; k++) {
        int pending = 0;
        for (int i = 0; i < LAB_MAX_OPS; i++)
            pending += b->lab.ops[i].used && b->lab.ops[i].outcome == OP_PENDING;
        if (!pending)
            break;
        lab_pump(&b->lab, 10000, -1);
    }
    double secs = (double)(mono_us() - t0) / 1e6;
    io_counts(b, &msgs1, &syncs1);
    double mpo = b->ok ? (double)(msgs1 - msgs0) / (double)b->ok : 0;
    double spo = b->ok ? (double)(syncs1 - syncs0) / (double)b->ok : 0;
    qsort(b->lat, b->nlat, sizeof *b->lat, cmp_double);
    double thr = (double)b->ok / secs;
    if (b->json) {
        sb_printf(json, "\"ops\":%llu,\"failed\":%llu,\"indeterminate\":%llu,\"throughput\":%.1f,\"p50_ms\":%.3f,\"p99_ms\":%.3f",
                  (unsigned long long)b->ok, (unsigned long long)b->failed, (unsigned long long)b->info, thr,
                  pct(b->lat, b->nlat, 50), pct(b->lat, b->nlat, 99));
        sb_printf(json, ",\"msgs_per_op\":%.2f,\"fsyncs_per_op\":%.2f", mpo, spo);
    } else {
        if (strcmp(b->workload, "lin-kv"))
            printf("load: %s, %d nodes, %d clients, %.1f s, %s workload (add and read), %d%% reads\n", b->mode, b->nodes,
                   b->clients, secs, b->workload, b->reads_pct);
        else
            printf("load: %s, %d nodes, %d clients, %.1f s, %d%% reads over %d keys\n", b->mode, b->nodes,
                   b->clients, secs, b->reads_pct, b->keys);
        printf("  ok %llu, failed %llu, indeterminate %llu\n", (unsigned long long)b->ok,
               (unsigned long long)b->failed, (unsigned long long)b->info);
        printf("  throughput %.0f ops/s, latency p50 %.3f ms, p99 %.3f ms, max %.3f ms\n", thr,
               pct(b->lat, b->nlat, 50), pct(b->lat, b->nlat, 99), b->nlat ? b->lat[b->nlat - 1] : 0);
        printf("  messages between nodes per ok operation %.2f, fsyncs per ok operation %.2f (every node, heartbeats included)\n",
               mpo, spo);
    }
}

/* Until every node follows one leader in one term (the restarted one included) and has for
 * half a second, as etcd's side waits for a healthy cluster between trials. */
static void settle(struct bench *b)
{
    uint64_t end = mono_us() + 10000000, stable_since = 0;
    while (mono_us() < end) {
        int l;
        int64_t t;
        int all = lab_leader_agreed(&b->lab, &l, &t);
        for (int i = 0; all && i < b->lab.cl->n; i++)
            all = b->lab.cl->state[i] == NODE_UP && b->lab.view[i].term == t;
        if (!all)
            stable_since = 0;
        else if (!stable_since)
            stable_since = mono_us();
        else if (mono_us() - stable_since > 500000)
            return;
        uint64_t until = mono_us() + 50000;
        while (mono_us() < until)
            lab_pump(&b->lab, until - mono_us(), -1);
    }
}

static void elections(struct bench *b, struct sb *json)
{
    double *ms = xcalloc((size_t)b->elections, sizeof *ms);
    int done = 0;
    for (int k = 0; k < b->elections; k++) {
        int l = wait_leader(b, 10000000);
        if (l < 0)
            break;
        b->old_term = b->lab.view[l].term;
        b->new_leader = 0;
        uint64_t t0 = cluster_now(b->lab.cl);
        b->lab.cl->ops->crash(b->lab.cl, l);
        uint64_t end = mono_us() + 10000000;
        while (!b->new_leader && mono_us() < end)
            lab_pump(&b->lab, 5000, -1);
        if (b->new_leader)
            ms[done++] = (double)(b->new_leader_t - t0) / 1000.0;
        b->lab.cl->ops->restart(b->lab.cl, l);
        settle(b);
    }
    qsort(ms, (size_t)done, sizeof *ms, cmp_double);
    if (b->json) {
        sb_add(json, ",\"election_ms\":[");
        for (int i = 0; i < done; i++)
            sb_printf(json, "%s%.1f", i ? "," : "", ms[i]);
        sb_add(json, "]");
    } else {
        printf("elections after SIGKILL of the leader: %d trials, median %.1f ms, min %.1f, max %.1f\n", done,
               pct(ms, (size_t)done, 50), done ? ms[0] : 0, done ? ms[done - 1] : 0);
    }
    free(ms);
}

/* ---- foundation figures ------------------------------------------------------------------- */

static double zmq_rtt_us(int rounds)
{
    void *ctx = zmq_ctx_new();
    void *r = zmq_socket(ctx, ZMQ_ROUTER), *d = zmq_socket(ctx, ZMQ_DEALER);
    zmq_bind(r, "tcp://127.0.0.1:*");
    char ep[256];
    size_t len = sizeof ep;
    zmq_getsockopt(r, ZMQ_LAST_ENDPOINT, ep, &len);
    zmq_connect(d, ep);
    const char *msg = "{\"src\":\"c1\",\"dest\":\"n1\",\"body\":{\"type\":\"write\",\"key\":\"x\",\"value\":\"1\",\"msg_id\":1}}";
    char id[256], buf[1024];
    uint64_t t0 = 0;
    for (int i = 0; i < rounds + 100; i++) {
        if (i == 100)
            t0 = mono_us();
        zmq_send(d, msg, strlen(msg), 0);
        int il = zmq_recv(r, id, sizeof id, 0);
        zmq_recv(r, buf, sizeof buf, 0);
        zmq_send(r, id, (size_t)il, ZMQ_SNDMORE);
        zmq_send(r, buf, strlen(msg), 0);
        zmq_recv(d, buf, sizeof buf, 0);
    }
    double us = (double)(mono_us() - t0) / rounds;
    zmq_close(r);
    zmq_close(d);
    zmq_ctx_term(ctx);
    return us;
}

static long proc_field(int pid, const char *file, const char *field)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/%s", pid, file);
    FILE *f = fopen(path, "r");
    long v = -1;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, field, strlen(field)))
            v = atol(line + strlen(field));
    if (f)
        fclose(f);
    return v;
}

static double cpu_seconds(int pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char buf[1024];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    unsigned long ut = 0, st = 0;
    if (p)
        sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st);
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static int foundation(const char *argv0, int json_out)
{
    struct lab lab;
    char err[256];
    const struct mode *m = default_mode();
    if (!m) {
        fprintf(stderr, "conlab bench foundation: no lin-kv mode with a leader is built in\n");
        return 1;
    }
    if (lab_init(&lab, argv0, err, sizeof err) < 0) {
        fprintf(stderr, "conlab bench: %s\n", err);
        return 1;
    }
    lab_add_hooks(&lab, &(struct lab_hooks){.on_output = NULL});
    struct opts o = {0};
    opts_set(&o, "events", "state");
    double start_ms[5];
    for (int k = 0; k < 5; k++) {
        uint64_t t0 = mono_us();
        if (lab_start(&lab, m->name, 5, &o) < 0)
            return 1;
        start_ms[k] = (double)(mono_us() - t0) / 1000;
        if (k < 4)
            lab_stop(&lab);
    }
    qsort(start_ms, 5, sizeof *start_ms, cmp_double);
    /* put round trip, one client, fsync on */
    int rounds = 2000;
    double *lat = xcalloc((size_t)rounds, sizeof *lat);
    json_t *v = json_string("1");
    for (int i = 0; i < rounds; i++) {
        uint64_t t0 = mono_us();
        struct op *op = lab_op_start(&lab, "write", "x", v, 0, NULL, 1);
        lab_op_wait(&lab, op);
        lab_op_free(op);
        lat[i] = (double)(mono_us() - t0);
    }
    json_decref(v);
    qsort(lat, (size_t)rounds, sizeof *lat, cmp_double);
    double put_us = pct(lat, (size_t)rounds, 50);
    double zmq_us = zmq_rtt_us(rounds);
    /* idle CPU of 5 nodes over 10 s */
    int pids[5];
    json_t *st[CL_MAXNODES] = {0};
    lab_refresh(&lab, st);
    for (int i = 0; i < 5; i++) {
        pids[i] = (int)json_integer_value(json_object_get(st[i], "pid"));
        json_decref(st[i]);
    }
    double c0 = 0, c1 = 0;
    for (int i = 0; i < 5; i++)
        c0 += cpu_seconds(pids[i]);
    uint64_t t0 = mono_us();
    while (mono_us() - t0 < 10000000)
        lab_pump(&lab, 10000000 - (mono_us() - t0), -1);
    double wall = (double)(mono_us() - t0) / 1e6;
    for (int i = 0; i < 5; i++)
        c1 += cpu_seconds(pids[i]);
    long rss_kb = proc_field(pids[0], "status", "VmRSS:");
    double idle_pct = (c1 - c0) / wall * 100;
    if (json_out)
        printf("{\"start_leader5_ms\":%.1f,\"put_rtt_us\":%.1f,\"zmq_rtt_us\":%.1f,\"ratio\":%.2f,\"idle_cpu_pct\":%.3f,\"node_rss_kb\":%ld}\n",
               start_ms[2], put_us, zmq_us, put_us / zmq_us, idle_pct, rss_kb);
    else {
        printf("start %s 5 until every node registered: median %.1f ms (min %.1f, max %.1f, 5 runs)\n",
               m->name, start_ms[2], start_ms[0], start_ms[4]);
        printf("put round trip through the lab (%s, fsync on, p50 of %d): %.1f us\n", m->name, rounds, put_us);
        printf("bare ZeroMQ DEALER/ROUTER round trip on loopback: %.1f us  (ratio %.1fx)\n", zmq_us, put_us / zmq_us);
        printf("idle 5-node cluster: %.3f%% of one core over %.1f s (all nodes together)\n", idle_pct, wall);
        printf("RSS of one node: %ld KiB\n", rss_kb);
    }
    free(lat);
    opts_free(&o);
    lab_destroy(&lab);
    return 0;
}

static void usage(FILE *f)
{
    fputs("usage: conlab bench [--mode M] [--nodes N] [--clients C] [--seconds S] [--reads PCT]\n"
          "                    [--keys K] [--cl one|quorum|all] [--elections T] [--opt key=value]...\n"
          "                    [--setup 'LAB COMMAND']... [--workload lin-kv|g-counter|pn-counter|g-set] [--json]\n"
          "       conlab bench foundation [--json]\n"
          "       conlab bench catchup [--mode M] [--keys K] [--opt key=value]... [--json]\n"
          "       conlab bench spread [--mode M] [--nodes 16,64,1000] [--seeds S] [--opt key=value]... [--json]\n"
          "       conlab bench txn [--nodes N] [--clients C] [--seconds S] [--accounts A] [--json]\n"
          "       conlab bench events [--nodes N] [--clients C] [--seconds S] [--streams K] [--peer M] [--json]\n"
          "       conlab bench lock [--clients C] [--seconds S] [--rounds R] [--service NAME] [--json]\n"
          "       conlab bench check [FILE|DIR...]   conlab bench dash\n"
          "Drives closed-loop clients through the lab's gateway and prints throughput and latency\n"
          "percentiles; --elections T also kills the leader T times and times the next election;\n"
          "--setup runs a lab command first (a fault: 'delay dc1->dc2 80', 'skew n2 -500').\n"
          "Without --mode: the first mode whose clients speak lin-kv through a leader. --workload: Maelstrom's\n"
          "counter and set workloads (add{delta}, add{element}, read{}) for a mode that answers them.\n"
          "--mode M for a mode that disseminates broadcasts (its face has a spread figure) runs the spread bench:\n"
          "rounds to reach every node in the simulator, up to 1000 nodes (conlab bench spread --help).\n", f);
}

int bench_main(int argc, char **argv, const char *argv0)
{
    int json_out = 0;
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--json"))
            json_out = 1;
    if (argc >= 2 && !strcmp(argv[1], "foundation"))
        return foundation(argv0, json_out);
    if (argc >= 2 && !strcmp(argv[1], "catchup"))
        return catchup_main(argc - 1, argv + 1);
    if (argc >= 2 && !strcmp(argv[1], "spread"))
        return spreadbench_main(argc - 1, argv + 1);
    /* a mode that disseminates broadcasts (its face has spread_round): the spread bench */
    for (int i = 1; i + 1 < argc; i++)
        if (!strcmp(argv[i], "--mode") && mode_find(argv[i + 1]) && mode_find(argv[i + 1])->spread_round)
            return spreadbench_main(argc, argv);
    if (argc >= 2 && !strcmp(argv[1], "txn"))
        return txnbench_main(argc - 1, argv + 1, argv0);
    if (argc >= 2 && !strcmp(argv[1], "events"))
        return esbench_main(argc - 1, argv + 1, argv0);
    if (argc >= 2 && !strcmp(argv[1], "lock"))
        return lockbench_main(argc - 1, argv + 1);
    struct bench *b = xcalloc(1, sizeof *b);
    b->mode = default_mode() ? default_mode()->name : "";
    b->nodes = 3;
    b->clients = 16;
    b->seconds = 5;
    b->keys = 100;
    b->workload = "lin-kv";
    b->json = json_out;
    opts_set(&b->opts, "events", "state");
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int64_t x;
        if (!strcmp(a, "--json"))
            continue;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            free(b);
            return 0;
        }
        if (!v) {
            fprintf(stderr, "conlab bench: %s needs a value\n", a);
            return 2;
        }
        i++;
        if (!strcmp(a, "--mode"))
            b->mode = v;
        else if (!strcmp(a, "--nodes") && parse_i64(v, &x) == 0 && x >= 1 && x <= 9)
            b->nodes = (int)x;
        else if (!strcmp(a, "--clients") && parse_i64(v, &x) == 0 && x >= 1 && x <= 256)
            b->clients = (int)x;
        else if (!strcmp(a, "--keys") && parse_i64(v, &x) == 0 && x >= 1 && x <= 1000000)
            b->keys = (int)x;
        else if (!strcmp(a, "--reads") && parse_i64(v, &x) == 0 && x >= 0 && x <= 100)
            b->reads_pct = (int)x;
        else if (!strcmp(a, "--elections") && parse_i64(v, &x) == 0 && x >= 0 && x <= 1000)
            b->elections = (int)x;
        else if (!strcmp(a, "--cl") && (!strcmp(v, "one") || !strcmp(v, "quorum") || !strcmp(v, "all"))) {
            json_decref(b->extra);
            b->extra = json_pack("{s:s}", "cl", v);
        } else if (!strcmp(a, "--seconds") && parse_double(v, &b->seconds) == 0 && b->seconds > 0 && b->seconds <= 3600)
            ;
        else if (!strcmp(a, "--workload") && (!strcmp(v, "lin-kv") || !strcmp(v, "g-counter") || !strcmp(v, "pn-counter") ||
                                               !strcmp(v, "g-set")))
            b->workload = v;
        else if (!strcmp(a, "--setup") && b->nsetup < 16)
            b->setup[b->nsetup++] = v;
        else if (!strcmp(a, "--opt") && strchr(v, '=')) {
            char *k = xstrndup(v, (size_t)(strchr(v, '=') - v));
            opts_set(&b->opts, k, strchr(v, '=') + 1);
            free(k);
        } else {
            fprintf(stderr, "conlab bench: bad %s %s\n", a, v);
            usage(stderr);
            return 2;
        }
    }
    const struct mode *m = mode_find(b->mode);
    char err[256];
    if (!m || mode_check_opts(m, &b->opts, err, sizeof err) < 0) {
        fprintf(stderr, "conlab bench: %s\n", m ? err : "unknown mode; modes:");
        if (!m)
            fprintf(stderr, "  %s\n", mode_names());
        return 2;
    }
    if (strcmp(b->workload, "lin-kv") && !(mode_client_type(m, "add") && mode_client_type(m, "read"))) {
        fprintf(stderr, "conlab bench: the %s mode does not answer Maelstrom's %s workload (add and read)\n", m->name,
                b->workload);
        return 2;
    }
    /* lin-kv, or any mode whose clients may send read and write (a CRDT mode's registers) */
    if (!strcmp(b->workload, "lin-kv") && (!m->workload || strcmp(m->workload, "lin-kv")) && !(mode_client_type(m, "read") && mode_client_type(m, "write"))) {
        fprintf(stderr, "conlab bench: the %s mode answers the %s workload, not lin-kv reads and writes\n", m->name,
                m->workload ? m->workload : "(no)");
        return 2;
    }
    int has_leader = mode_has_class(m, RC_LEADER);
    if (b->elections && !has_leader) {
        fprintf(stderr, "conlab bench: the %s mode has no leader to kill (--elections)\n", m->name);
        return 2;
    }
    if (lab_init(&b->lab, argv0, err, sizeof err) < 0) {
        fprintf(stderr, "conlab bench: %s\n", err);
        return 1;
    }
    struct lab_hooks h = {.ud = b, .on_event = on_event};
    lab_add_hooks(&b->lab, &h);
    rng_seed(&b->rng, 42);
    b->sent = xcalloc((size_t)b->clients, sizeof *b->sent);
    int rc = 1;
    if (lab_start(&b->lab, m->name, b->nodes, &b->opts) < 0)
        goto out;
    if (has_leader && wait_leader(b, 10000000) < 0) {
        fprintf(stderr, "conlab bench: no leader\n");
        goto out;
    }
    for (int k = 0; k < b->nsetup; k++)
        if (lab_exec(&b->lab, b->setup[k]) != 0) {
            fprintf(stderr, "conlab bench: --setup '%s' failed\n", b->setup[k]);
            goto out;
        }
    struct sb json = {0};
    if (b->json)
        sb_printf(&json, "{\"mode\":\"%s\",\"workload\":\"%s\",\"nodes\":%d,\"clients\":%d,\"seconds\":%.1f,%s%s%s", b->mode, b->workload, b->nodes,
                  b->clients, b->seconds, b->extra ? "\"cl\":\"" : "", b->extra ? json_string_value(json_object_get(b->extra, "cl")) : "",
                  b->extra ? "\"," : "");
    load(b, &json);
    if (b->elections)
        elections(b, &json);
    if (b->json) {
        sb_add(&json, "}");
        puts(json.s);
    }
    sb_free(&json);
    rc = 0;
out:
    lab_destroy(&b->lab);
    opts_free(&b->opts);
    json_decref(b->extra);
    free(b->lat);
    free(b->sent);
    free(b);
    return rc;
}
