/* esbench — `conlab bench events`: appends to an event store against writes to a peer mode,
 * in one run, on real processes with fsync on. The event store is the mode whose clients send
 * `append` (its face's client types say so); the peer is a lin-kv mode whose leader is elected
 * by a majority (a role of the candidate class) and which snapshots its log (an option
 * "snapshot"), or --peer M.
 *
 *   conlab bench events [--nodes N] [--clients C] [--seconds S] [--streams K] [--peer M] [--json]
 *
 * Figures: appends/s (each with the version its client last saw of its stream: optimistic
 * concurrency, so conflicts are counted too), p50/p99; the peer's writes/s, p50/p99, and the
 * ratio; then the replay times: a replica's projection rebuilt from position 0
 * (`projection NODE rebuild`), and a replica crashed and restarted until it has applied and
 * projected the whole log again (it rebuilds its aggregates from its snapshots and log).
 */
#include "esbench.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab.h"
#include "rng.h"

#define MAX_CLIENTS 256

struct esb;

struct esclient {
    struct esb *b;
    uint64_t t0;
    int stream;
};

struct esb {
    struct lab lab;
    struct esclient cl[MAX_CLIENTS];
    int clients, nodes, streams, peer_mode;
    double seconds;
    long long *known;           /* the newest version each stream was seen at */
    double *lat;
    size_t nlat, caplat;
    uint64_t ok, conflicts, failed, info, end_us;
    int running;
    struct rng rng;
};

struct figures {
    double per_s, p50, p99;
    uint64_t ok, conflicts, failed, info;
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

static void quiet(void *ud, const char *text)
{
    (void)ud;
    (void)text;
}

static void add_lat(struct esb *b, double ms)
{
    if (b->nlat == b->caplat) {
        b->caplat = b->caplat ? 2 * b->caplat : 4096;
        b->lat = xrealloc(b->lat, b->caplat * sizeof *b->lat);
    }
    b->lat[b->nlat++] = ms;
}

static void next_op(struct esclient *c);

static void done(void *ud, struct op *op)
{
    struct esclient *c = ud;
    struct esb *b = c->b;
    const json_t *r = op->reply;
    const char *type = json_string_value(json_object_get(r, "type"));
    if (op->outcome != OP_OK) {
        b->info++;
    } else if (b->peer_mode) {
        b->ok++;
        add_lat(b, (double)(mono_us() - c->t0) / 1000.0);
    } else if (type && !strcmp(type, "append_ok")) {
        b->ok++;
        b->known[c->stream] = json_integer_value(json_object_get(r, "version"));
        add_lat(b, (double)(mono_us() - c->t0) / 1000.0);
    } else if (json_integer_value(json_object_get(r, "code")) == 22) {
        b->conflicts++;
        b->known[c->stream] = json_integer_value(json_object_get(r, "version"));
    } else {
        b->failed++;
    }
    op->done = NULL;
    lab_op_free(op);
    if (b->running && mono_us() < b->end_us)
        next_op(c);
}

static void next_op(struct esclient *c)
{
    struct esb *b = c->b;
    c->stream = (int)rng_range(&b->rng, 0, (uint64_t)b->streams - 1);
    char s[32];
    snprintf(s, sizeof s, "s%d", c->stream);
    struct op *op;
    c->t0 = mono_us();
    if (b->peer_mode) {
        json_t *v = json_integer((json_int_t)(rng_next(&b->rng) % 1000000));
        char val[32];
        snprintf(val, sizeof val, "%lld", (long long)json_integer_value(v));
        json_decref(v);
        json_t *jv = json_string(val);
        op = lab_op_start(&b->lab, "write", s, jv, -1, NULL, (int)(c - b->cl) + 1);
        json_decref(jv);
    } else {
        json_t *body = json_pack("{s:s,s:s,s:s,s:I,s:{s:i}}", "type", "append", "stream", s, "event", "added", "expected",
                                 (json_int_t)b->known[c->stream], "data", "+n", 1);
        op = lab_send_start(&b->lab, 0, body);
        json_decref(body);
    }
    if (!op)
        return;
    op->done = done;
    op->done_ud = c;
    if (op->outcome != OP_PENDING)
        done(c, op);
}

static const json_t *status_of(struct esb *b, int i)
{
    return lab_status_cached(&b->lab, i);
}

static long long fig(struct esb *b, int i, const char *k)
{
    return (long long)json_integer_value(json_object_get(status_of(b, i), k));
}

/* Pumps until node i has applied and projected upto events (status polled), or timeout_us;
 * the seconds it took, or -1. */
static double wait_projected(struct esb *b, int i, long long upto, uint64_t t0, uint64_t timeout_us)
{
    while (mono_us() < t0 + timeout_us) {
        lab_refresh(&b->lab, NULL);
        if (status_of(b, i) && fig(b, i, "applied") >= upto && fig(b, i, "projected") >= upto)
            return (double)(mono_us() - t0) / 1e6;
        lab_pump(&b->lab, 5000, -1);
    }
    return -1;
}

static int wait_role_class(struct esb *b, enum role_class cls, uint64_t timeout_us)
{
    uint64_t end = mono_us() + timeout_us;
    while (mono_us() < end) {
        int l;
        int64_t t;
        if (cls == RC_LEADER && lab_leader_agreed(&b->lab, &l, &t))
            return l;
        lab_pump(&b->lab, 10000, -1);
    }
    return -1;
}

/* One load of S seconds: appends (peer 0) or the peer's writes (peer 1). */
static void load(struct esb *b, struct figures *f)
{
    b->nlat = 0;
    b->ok = b->conflicts = b->failed = b->info = 0;
    b->running = 1;
    uint64_t t0 = mono_us();
    b->end_us = t0 + (uint64_t)(b->seconds * 1e6);
    for (int i = 0; i < b->clients; i++) {
        b->cl[i].b = b;
        next_op(&b->cl[i]);
    }
    while (mono_us() < b->end_us)
        lab_pump(&b->lab, 20000, -1);
    b->running = 0;
    for (int k = 0; k < 500; k++) {
        int pending = 0;
        for (int i = 0; i < LAB_MAX_OPS; i++)
            pending += b->lab.ops[i].used && b->lab.ops[i].outcome == OP_PENDING;
        if (!pending)
            break;
        lab_pump(&b->lab, 10000, -1);
    }
    double secs = (double)(mono_us() - t0) / 1e6;
    qsort(b->lat, b->nlat, sizeof *b->lat, cmp_double);
    f->per_s = (double)b->ok / secs;
    f->p50 = pct(b->lat, b->nlat, 50);
    f->p99 = pct(b->lat, b->nlat, 99);
    f->ok = b->ok;
    f->conflicts = b->conflicts;
    f->failed = b->failed;
    f->info = b->info;
}

static int start(struct esb *b, const char *argv0, const char *mode, struct opts *o)
{
    char err[256];
    memset(&b->lab, 0, sizeof b->lab);
    if (lab_init(&b->lab, argv0, err, sizeof err) < 0) {
        fprintf(stderr, "conlab bench events: %s\n", err);
        return -1;
    }
    struct lab_hooks h = {0};
    h.on_output = quiet;
    lab_add_hooks(&b->lab, &h);
    if (lab_start(&b->lab, mode, b->nodes, o) < 0) {
        lab_destroy(&b->lab);
        return -1;
    }
    return 0;
}

static const struct mode *pick_store(void)
{
    for (int i = 0; mode_table[i]; i++)
        if (mode_table[i]->client_types && mode_client_type(mode_table[i], "append") &&
            mode_client_type(mode_table[i], "read_stream"))
            return mode_table[i];
    return NULL;
}

static const struct mode *pick_peer(const char *name)
{
    if (name)
        return mode_find(name);
    /* first choice: one that also compacts its log into snapshots (an option "snapshot"), as the
     * event store does; else any with an elected leader */
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; mode_table[i]; i++) {
            const struct mode *m = mode_table[i];
            int snaps = 0;
            for (const struct mode_option *o = m->options; o && o->name; o++)
                snaps |= !strcmp(o->name, "snapshot");
            if (m->workload && !strcmp(m->workload, "lin-kv") && mode_has_class(m, RC_LEADER) &&
                mode_has_class(m, RC_CANDIDATE) && (snaps || pass))
                return m;
        }
    return NULL;
}

int esbench_main(int argc, char **argv, const char *argv0)
{
    struct esb *b = xcalloc(1, sizeof *b);
    b->clients = 16;
    b->nodes = 3;
    b->seconds = 5;
    b->streams = 1000;
    const char *peer_name = NULL;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        int64_t x;
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--json")) {
            json = 1;
            continue;
        }
        if (v && !strcmp(a, "--clients") && parse_i64(v, &x) == 0 && x >= 1 && x <= MAX_CLIENTS)
            b->clients = (int)x;
        else if (v && !strcmp(a, "--nodes") && parse_i64(v, &x) == 0 && x >= 3 && x <= 9)
            b->nodes = (int)x;
        else if (v && !strcmp(a, "--streams") && parse_i64(v, &x) == 0 && x >= 1 && x <= 1000000)
            b->streams = (int)x;
        else if (v && !strcmp(a, "--peer"))
            peer_name = v;
        else if (v && !strcmp(a, "--seconds") && parse_double(v, &b->seconds) == 0 && b->seconds > 0 && b->seconds <= 3600)
            ;
        else {
            fprintf(stderr, "usage: conlab bench events [--nodes N] [--clients C] [--seconds S] [--streams K] [--peer M] "
                            "[--json]\n");
            free(b);
            return 2;
        }
        i++;
    }
    const struct mode *store = pick_store(), *peer = pick_peer(peer_name);
    if (!store || !peer || !peer->workload || strcmp(peer->workload, "lin-kv")) {
        fprintf(stderr, "conlab bench events: %s\n",
                !store ? "no mode takes append and read_stream requests"
                       : peer_name ? "--peer must name a mode whose clients speak lin-kv"
                                   : "no lin-kv mode with an elected leader to compare with");
        free(b);
        return 1;
    }
    b->known = xcalloc((size_t)b->streams, sizeof *b->known);
    rng_seed(&b->rng, 34);
    int rc = 1;
    struct figures fe = {0}, fp = {0};
    double rebuild_s = -1, restart_s = -1;
    long long events = 0;

    /* the event store: appends, then the replays */
    struct opts o = {0};
    opts_set(&o, "events", "state");
    opts_set(&o, "catchup", "100000");
    if (start(b, argv0, store->name, &o) < 0)
        goto out;
    if (wait_role_class(b, RC_LEADER, 10000000) < 0) {
        fprintf(stderr, "conlab bench events: the %s cluster shows no primary\n", store->name);
        lab_destroy(&b->lab);
        goto out;
    }
    load(b, &fe);
    lab_refresh(&b->lab, NULL);
    events = fig(b, 0, "commit");
    int r = b->nodes - 1; /* a replica: the last node */
    char cmd[64];
    if (wait_projected(b, r, events, mono_us(), 60000000) >= 0) {
        snprintf(cmd, sizeof cmd, "projection n%d rebuild", r + 1);
        uint64_t t0 = mono_us();
        lab_exec(&b->lab, cmd);
        rebuild_s = wait_projected(b, r, events, t0, 120000000);
        snprintf(cmd, sizeof cmd, "crash n%d", r + 1);
        lab_exec(&b->lab, cmd);
        snprintf(cmd, sizeof cmd, "restart n%d", r + 1);
        t0 = mono_us();
        lab_exec(&b->lab, cmd);
        restart_s = wait_projected(b, r, events, t0, 120000000);
    }
    lab_destroy(&b->lab);

    /* the peer: writes of the same size of load */
    b->peer_mode = 1;
    opts_free(&o);
    opts_set(&o, "events", "state");
    if (start(b, argv0, peer->name, &o) < 0)
        goto out;
    wait_role_class(b, RC_LEADER, 5000000); /* a mode that elects on the first write goes on without one */
    load(b, &fp);
    lab_destroy(&b->lab);
    rc = 0;

    double ratio = fp.per_s > 0 ? fe.per_s / fp.per_s : 0;
    if (json) {
        printf("{\"store\":\"%s\",\"peer\":\"%s\",\"nodes\":%d,\"clients\":%d,\"seconds\":%.1f,\"streams\":%d,"
               "\"appends\":{\"ok\":%llu,\"per_s\":%.1f,\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"conflicts\":%llu,\"failed\":%llu,"
               "\"indeterminate\":%llu},\"peer_writes\":{\"ok\":%llu,\"per_s\":%.1f,\"p50_ms\":%.3f,\"p99_ms\":%.3f,"
               "\"indeterminate\":%llu},\"ratio\":%.3f,\"events\":%lld,\"projection_rebuild_s\":%.3f,"
               "\"replica_restart_s\":%.3f}\n",
               store->name, peer->name, b->nodes, b->clients, b->seconds, b->streams, (unsigned long long)fe.ok, fe.per_s,
               fe.p50, fe.p99, (unsigned long long)fe.conflicts, (unsigned long long)fe.failed,
               (unsigned long long)fe.info, (unsigned long long)fp.ok, fp.per_s, fp.p50, fp.p99,
               (unsigned long long)fp.info, ratio, events, rebuild_s, restart_s);
    } else {
        printf("event store (%s) against %s: %d nodes, %d clients, %.1f s each, %d streams, fsync on\n", store->name,
               peer->name, b->nodes, b->clients, b->seconds, b->streams);
        printf("  appends  %7.0f /s  p50 %7.2f ms  p99 %7.2f ms  (%llu ok, %llu version conflicts, %llu failed, %llu "
               "indeterminate)\n",
               fe.per_s, fe.p50, fe.p99, (unsigned long long)fe.ok, (unsigned long long)fe.conflicts,
               (unsigned long long)fe.failed, (unsigned long long)fe.info);
        printf("  %-8s %7.0f /s  p50 %7.2f ms  p99 %7.2f ms  (%llu writes, %llu indeterminate)\n", peer->name, fp.per_s,
               fp.p50, fp.p99, (unsigned long long)fp.ok, (unsigned long long)fp.info);
        printf("  ratio    appends/s : %s writes/s = %.2f\n", peer->name, ratio);
        if (rebuild_s >= 0)
            printf("  replay   a projection rebuilt from position 0: %lld events in %.3f s (%.0f events/s)\n", events,
                   rebuild_s, rebuild_s > 0 ? (double)events / rebuild_s : 0);
        else
            printf("  replay   the projection did not catch up in time\n");
        if (restart_s >= 0)
            printf("  replay   a replica crashed and restarted, applied and projected again: %.3f s\n", restart_s);
        else
            printf("  replay   the restarted replica did not catch up in time\n");
    }
out:
    opts_free(&o);
    free(b->known);
    free(b->lat);
    free(b);
    return rc;
}
