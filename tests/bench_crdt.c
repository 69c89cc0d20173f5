/* bench_crdt — the crdt mode's replication figures, in the simulator (virtual time, so the
 * figures do not depend on the machine's load): an OR-Set of 10,000 elements on 3 (and 5)
 * nodes, then 1 % of it changed (50 removes, 50 new adds, spread over the nodes). For each
 * replication style (sync=state, delta, op): the bytes every node ships in the 2 s after the
 * change, the bytes per sync message, the time until every replica holds the same set again,
 * and the time to converge after a partition with 100 updates on each side is healed. Prints
 * delta's and op's bytes as a share of state's. `make bench` runs it (lab/bench/all.sh).
 *
 *   bin/bench_crdt [--elements N] [--nodes N] [--json]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "faults.h"
#include "mode.h"
#include "sim.h"

extern const struct mode mode_crdt;

#define MS 1000ull
#define SEC 1000000ull

struct run {
    const char *sync;
    double bytes_after_change, msgs_after_change;
    double converge_change_ms, converge_heal_ms;
    double wall_s;
};

static uint64_t bytes_msgs(struct sim *s, uint64_t *msgs)
{
    uint64_t b = 0, m = 0;
    for (int i = 0; i < sim_size(s); i++) {
        json_t *st = sim_status(s, i);
        json_t *x = json_object_get(st, "extra");
        b += (uint64_t)json_integer_value(json_object_get(x, "bytes_sent"));
        m += (uint64_t)json_integer_value(json_object_get(x, "msgs_sent"));
        json_decref(st);
    }
    if (msgs)
        *msgs = m;
    return b;
}

static int converged(void *ud, struct sim *s)
{
    (void)ud;
    json_t *first = NULL;
    int same = 1;
    for (int i = 0; i < sim_size(s) && same; i++) {
        json_t *st = sim_status(s, i);
        json_t *c = json_incref(json_object_get(json_object_get(st, "extra"), "contexts"));
        json_t *d = json_incref(json_object_get(st, "data"));
        json_decref(st);
        json_t *pair = json_pack("[o,o]", c ? c : json_null(), d ? d : json_null());
        if (!first)
            first = pair;
        else {
            same = json_equal(first, pair);
            json_decref(pair);
        }
    }
    json_decref(first);
    return same;
}

/* Checked every 50 ms of virtual time (statuses of 10,000 elements are not free): the times
 * are rounded up to that. */
static double run_until_converged(struct sim *s, uint64_t max_us)
{
    uint64_t t0 = sim_now(s);
    while (sim_now(s) - t0 < max_us) {
        sim_run_for(s, 50 * MS);
        if (converged(NULL, s))
            return (double)(sim_now(s) - t0) / 1000.0;
    }
    return -1;
}

static int client_no;

static void update(struct sim *s, int node, const char *op, const char *elem)
{
    char client[16];
    snprintf(client, sizeof client, "c%d", 1 + client_no++ % 200);
    sim_client_send(s, node, client, json_pack("{s:s,s:s,s:s,s:s}", "type", "update", "key", "s", "op", op, "elem", elem));
}

static void on_reply(void *ud, const char *node, const char *client, const json_t *body)
{
    (void)node;
    (void)client;
    int *errors = ud;
    if (strcmp(json_string_value(json_object_get(body, "type")), "update_ok"))
        (*errors)++;
}

static int one(struct run *r, int nodes, int elements, int *errors)
{
    struct timespec w0, w1;
    clock_gettime(CLOCK_MONOTONIC, &w0);
    struct opts o = {0};
    opts_set(&o, "sync", r->sync);
    opts_set(&o, "interval", "100ms");
    opts_set(&o, "fsync", "off");
    char err[256];
    struct sim *s = sim_new(&mode_crdt, nodes, &o, 42, err, sizeof err);
    opts_free(&o);
    if (!s) {
        fprintf(stderr, "bench_crdt: %s\n", err);
        return -1;
    }
    sim_on_reply(s, on_reply, errors);
    sim_run_for(s, 10 * MS);
    char e[32];
    for (int i = 0; i < elements; i++) {
        snprintf(e, sizeof e, "e%05d", i);
        update(s, 0, "add", e);
        if (i % 100 == 99)
            sim_run_for(s, 1 * MS);
    }
    if (run_until_converged(s, 120 * SEC) < 0) {
        fprintf(stderr, "bench_crdt: sync=%s: no convergence after the load\n", r->sync);
        sim_destroy(&s);
        return -1;
    }
    sim_run_for(s, SEC);
    /* 1 % changed: half removes of old elements, half new elements, spread over the nodes */
    uint64_t m0, m1;
    uint64_t b0 = bytes_msgs(s, &m0);
    int change = elements / 100;
    for (int i = 0; i < change; i++) {
        if (i % 2)
            snprintf(e, sizeof e, "e%05d", i * 97 % elements);
        else
            snprintf(e, sizeof e, "new%05d", i);
        update(s, i % nodes, i % 2 ? "rem" : "add", e);
    }
    r->converge_change_ms = run_until_converged(s, 60 * SEC);
    uint64_t rest = 2 * SEC;
    sim_run_for(s, rest);
    uint64_t b1 = bytes_msgs(s, &m1);
    r->bytes_after_change = (double)(b1 - b0);
    r->msgs_after_change = (double)(m1 - m0);
    /* a partition, 100 updates on each side, heal */
    char spec[64];
    snprintf(spec, sizeof spec, "n1 | n2%s", nodes > 2 ? ",n3" : "");
    if (faults_partition(sim_faults(s), spec, err, sizeof err) < 0) {
        fprintf(stderr, "bench_crdt: %s\n", err);
        sim_destroy(&s);
        return -1;
    }
    for (int i = 0; i < 100; i++) {
        snprintf(e, sizeof e, "left%03d", i);
        update(s, 0, "add", e);
        snprintf(e, sizeof e, "right%03d", i);
        update(s, 1, "add", e);
    }
    sim_run_for(s, SEC);
    faults_heal(sim_faults(s));
    r->converge_heal_ms = run_until_converged(s, 60 * SEC);
    sim_destroy(&s);
    clock_gettime(CLOCK_MONOTONIC, &w1);
    r->wall_s = (double)(w1.tv_sec - w0.tv_sec) + (double)(w1.tv_nsec - w0.tv_nsec) / 1e9;
    return 0;
}

int main(int argc, char **argv)
{
    int elements = 10000, json = 0;
    int node_counts[2] = {3, 5}, nn = 2;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            json = 1;
        else if (!strcmp(argv[i], "--elements") && i + 1 < argc && atoi(argv[i + 1]) >= 100 &&
                 atoi(argv[i + 1]) <= 20000)
            elements = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--nodes") && i + 1 < argc && atoi(argv[i + 1]) >= 2 && atoi(argv[i + 1]) <= 9) {
            node_counts[0] = atoi(argv[++i]);
            nn = 1;
        } else {
            fprintf(stderr, "usage: bench_crdt [--elements 100..20000] [--nodes 2..9] [--json]\n");
            return 2;
        }
    }
    static const char *const syncs[] = {"state", "delta", "op"};
    json_t *out = json_array();
    int errors = 0;
    for (int k = 0; k < nn; k++) {
        int nodes = node_counts[k];
        struct run r[3] = {{0}};
        for (int i = 0; i < 3; i++) {
            r[i].sync = syncs[i];
            if (one(&r[i], nodes, elements, &errors) < 0)
                return 1;
        }
        if (json) {
            for (int i = 0; i < 3; i++)
                json_array_append_new(out, json_pack("{s:s,s:i,s:i,s:f,s:f,s:f,s:f,s:f}", "sync", r[i].sync, "nodes", nodes,
                                                     "elements", elements, "bytes_2s_after_change", r[i].bytes_after_change,
                                                     "bytes_per_msg", r[i].msgs_after_change > 0 ? r[i].bytes_after_change / r[i].msgs_after_change : 0,
                                                     "converge_after_change_ms", r[i].converge_change_ms,
                                                     "converge_after_heal_ms", r[i].converge_heal_ms));
            continue;
        }
        printf("crdt: %d nodes, an OR-Set of %d elements, %d%% changed (%d updates); interval 100 ms; simulator, virtual time\n",
               nodes, elements, 1, elements / 100);
        printf("  %-6s %16s %10s %12s %18s %17s %8s\n", "sync", "bytes in 2 s", "messages", "bytes/msg",
               "converged after", "after heal", "wall");
        for (int i = 0; i < 3; i++)
            printf("  %-6s %16.0f %10.0f %12.0f %15.0f ms %14.0f ms %7.1fs\n", r[i].sync, r[i].bytes_after_change,
                   r[i].msgs_after_change,
                   r[i].msgs_after_change > 0 ? r[i].bytes_after_change / r[i].msgs_after_change : 0,
                   r[i].converge_change_ms, r[i].converge_heal_ms, r[i].wall_s);
        printf("  delta ships %.2f%% of state's bytes; op %.2f%%\n", 100 * r[1].bytes_after_change / r[0].bytes_after_change,
               100 * r[2].bytes_after_change / r[0].bytes_after_change);
    }
    if (json) {
        char *s = json_dumps(out, JSON_INDENT(1));
        puts(s);
        free(s);
    }
    json_decref(out);
    if (errors)
        fprintf(stderr, "bench_crdt: %d updates refused\n", errors);
    return errors ? 1 : 0;
}
