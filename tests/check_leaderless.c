/* check_leaderless — the leaderless (Dynamo-style) mode in the simulator: the scenarios
 * Q1–Q6 of SCENARIOS.md, the leaderless invariants, and property sweeps over seeds.
 *
 * Runs go through the test fixture (tests/fixture.h): a client sends one request of the
 * test's making to the node it stands beside and the simulator runs until its reply (or a
 * time limit); the fixture records the history and keeps the mode's own events. */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catchup.h"
#include "fixture.h"
#include "hash.h"
#include "mode.h"
#include "leaderless.h"
#include "ring.h"
#include "sim.h"
#include "test_util.h"

#define MAXC 64
#define SEC 1000000ull
#define MS 1000ull

extern const struct mode mode_leaderless;

struct tc {
    struct fixture *x;
    struct sim *s;            /* x->s */
    int proc[MAXC];           /* the process of each client number's latest request */
    uint64_t seed;
};

static const char *const kept_events[] = {"quorum", "repair", "hint", "antientropy", "apply",
                                          "tombstone", "error", "member", "stream", NULL};

static struct tc *tc_new(int n, const char *spec, uint64_t seed)
{
    struct tc *t = xcalloc(1, sizeof *t);
    t->seed = seed;
    t->x = fixture_new(&mode_leaderless, n, spec, seed);
    t->s = t->x->s;
    fixture_direct(t->x, 1);             /* an error 11 is the answer, not a redirect */
    simclient_set_timeout(t->x->c, 0);   /* a request waits until the test waits for it */
    fixture_keep(t->x, kept_events);
    return t;
}

static void tc_free(struct tc *t)
{
    fixture_free(&t->x);
    free(t);
}

static void tc_send(struct tc *t, int node, int client, json_t *body)
{
    ck_assert(client > 0 && client < MAXC);
    t->proc[client] = fixture_send(t->x, node, body);
}

/* The client's reply (caller frees), or NULL when none came within max_us. */
static json_t *tc_wait(struct tc *t, int client, uint64_t max_us)
{
    fixture_await(t->x, t->proc[client], max_us);
    const json_t *r = simclient_reply(t->x->c, t->proc[client]);
    return r ? json_deep_copy(r) : NULL;
}

static json_t *req_write(const char *key, const char *value, const char *cl)
{
    json_t *b = json_pack("{s:s,s:s,s:s}", "type", "write", "key", key, "value", value);
    if (cl)
        json_object_set_new(b, "cl", json_string(cl));
    return b;
}

static json_t *req_read(const char *key, const char *cl)
{
    json_t *b = json_pack("{s:s,s:s}", "type", "read", "key", key);
    if (cl)
        json_object_set_new(b, "cl", json_string(cl));
    return b;
}

static json_t *call(struct tc *t, int node, int client, json_t *body)
{
    tc_send(t, node, client, body);
    return tc_wait(t, client, 5 * SEC);
}

static const char *rtype(const json_t *r)
{
    return r ? json_string_value(json_object_get(r, "type")) : "(no reply)";
}

/* put: asserts write_ok. */
static void put_ok(struct tc *t, int node, const char *key, const char *value, const char *cl)
{
    json_t *r = call(t, node, 1, req_write(key, value, cl));
    ck_assert_msg(r && !strcmp(rtype(r), "write_ok"), "seed %" PRIu64 ": put %s %s @n%d: %s", t->seed,
                  key, value, node + 1, r ? json_dumps(r, 0) : "no reply");
    json_decref(r);
}

/* get: the value read (caller frees; NULL for nil); asserts read_ok. */
static char *get_val(struct tc *t, int node, const char *key, const char *cl)
{
    json_t *r = call(t, node, 1, req_read(key, cl));
    ck_assert_msg(r && !strcmp(rtype(r), "read_ok"), "seed %" PRIu64 ": get %s @n%d: %s", t->seed, key,
                  node + 1, rtype(r));
    const char *v = json_string_value(json_object_get(r, "value"));
    char *out = v ? xstrdup(v) : NULL;
    json_decref(r);
    return out;
}

/* A node's own copy of key from its status (NULL when absent or down; caller frees). */
static char *held(struct tc *t, int node, const char *key)
{
    json_t *st = sim_status(t->s, node);
    json_t *v = json_object_get(json_object_get(st, "data"), key);
    char *out = NULL;
    if (json_is_string(v))
        out = xstrdup(json_string_value(v));
    else if (v)
        out = json_dumps(v, JSON_COMPACT);
    json_decref(st);
    return out;
}

static long extra_int(struct tc *t, int node, const char *field)
{
    json_t *st = sim_status(t->s, node);
    long v = (long)json_integer_value(json_object_get(json_object_get(st, "extra"), field));
    json_decref(st);
    return v;
}

/* The key's preference list from `ring KEY`: replicas into rep[], stand-ins into sub[]. */
static void prefs(struct tc *t, const char *key, int *rep, int *nrep, int *sub, int *nsub)
{
    char *argv[] = {(char *)key};
    json_t *r = sim_command(t->s, 0, "ring", 1, argv);
    const char *text = json_string_value(json_object_get(r, "text"));
    ck_assert_ptr_nonnull(text);
    const char *p = strstr(text, "replicas");
    ck_assert_ptr_nonnull(p);
    *nrep = *nsub = 0;
    int in_sub = 0;
    for (p += 8; *p; p++) {
        if (*p == ';')
            in_sub = 1;
        if (*p == 'n' && p[1] >= '0' && p[1] <= '9' && (p[-1] == ' ')) {
            int idx = atoi(p + 1) - 1;
            if (in_sub)
                sub[(*nsub)++] = idx;
            else
                rep[(*nrep)++] = idx;
        }
    }
    json_decref(r);
}

/* Kept events of one kind; count those matching field=value. */
static int count_events(struct tc *t, const char *ev, const char *field, const char *value)
{
    return fixture_count(t->x, ev, field, value);
}

/* ---- options ----------------------------------------------------------------------------- */

static const struct {
    int nodes;
    const char *spec;
    const char *error;
} bad_opts[] = {
    {5, "n=3 w=4 r=2", "w=4 > n=3: a write cannot need more acks than there are replicas"},
    {5, "n=3 w=2 r=5", "r=5 > n=3: a read cannot need more answers"},
    {3, "n=4 w=2 r=2", "n=4 > 3 nodes"},
    {5, "n=0", "bad n=0: expected a whole number from 1"},
    {5, "w=two", "bad w=two"},
    {5, "conflict=crdt", "bad conflict=crdt: expected conflict=lww|siblings"},
    {5, "read_repair=sometimes", "expected read_repair=blocking|background|off"},
    {5, "request_timeout=0", "must be above 0"},
    {5, "nn=3", "did you mean n?"},
};

START_TEST(impossible_n_w_r_is_refused_with_the_rule_it_breaks)
{
    char err[256] = "";
    struct fixture *f = fixture_try_new(&mode_leaderless, bad_opts[_i].nodes, bad_opts[_i].spec, 1, err,
                                        sizeof err);
    ck_assert_ptr_null(f);
    ck_assert_msg(strstr(err, bad_opts[_i].error), "%s: got \"%s\", want \"%s\"", bad_opts[_i].spec,
                  err, bad_opts[_i].error);
}
END_TEST

static const struct {
    const char *body;
    int code;
    const char *text;
} bad_requests[] = {
    {"{\"type\":\"write\",\"key\":\"x\"}", 12, "write needs a value \"value\""},
    {"{\"type\":\"read\"}", 12, "read needs a string \"key\""},
    {"{\"type\":\"read\",\"key\":[7]}", 12, "read needs a string \"key\""},
    {"{\"type\":\"read\",\"key\":\"x\",\"cl\":\"most\"}", 12, "bad \"cl\""},
    {"{\"type\":\"write\",\"key\":\"x\",\"value\":\"1\",\"w\":4}", 12, "w=4 > n=3: a write cannot need more acks"},
    {"{\"type\":\"read\",\"key\":\"x\",\"r\":0}", 12, "bad \"r\""},
    {"{\"type\":\"cas\",\"key\":\"x\",\"from\":\"1\",\"to\":\"2\"}", 10, "cas is not supported"},
    {"{\"type\":\"delete\"}", 12, "delete needs a string \"key\""},
};

START_TEST(bad_client_requests_get_an_error_naming_the_problem)
{
    struct tc *t = tc_new(3, "n=3 w=2 r=2", 1);
    json_error_t jerr;
    json_t *b = json_loads(bad_requests[_i].body, 0, &jerr);
    ck_assert_ptr_nonnull(b);
    json_t *r = call(t, 0, 1, b);
    ck_assert_str_eq(rtype(r), "error");
    ck_assert_int_eq(json_integer_value(json_object_get(r, "code")), bad_requests[_i].code);
    const char *text = json_string_value(json_object_get(r, "text"));
    ck_assert_msg(strstr(text, bad_requests[_i].text), "got \"%s\"", text);
    json_decref(r);
    /* and the node goes on serving */
    put_ok(t, 0, "x", "1", NULL);
    tc_free(t);
}
END_TEST

START_TEST(garbage_from_peers_and_clients_posing_as_peers_is_dropped)
{
    struct tc *t = tc_new(3, "n=3 w=2 r=2", 2);
    /* a client may not speak the replica protocol */
    tc_send(t, 0, 1, json_pack("{s:s,s:i,s:{s:s,s:[]}}", "type", "ll_write", "op", 1, "item", "key", "x", "vers"));
    fixture_run(t->x, 10 * MS);
    ck_assert_int_ge(count_events(t, "error", NULL, NULL), 1);
    char *v = held(t, 0, "x");
    ck_assert_ptr_null(v);
    put_ok(t, 0, "x", "1", NULL);
    tc_free(t);
}
END_TEST

/* Malformed replica-protocol bodies, as if from n2 (the runtime stops spoofing; here the
 * simulator's client entry lets a test speak as a node). */
static const char *const bad_peer[] = {
    "{\"type\":\"ll_write\"}",
    "{\"type\":\"ll_write\",\"op\":-3,\"item\":{\"key\":\"x\",\"vers\":[]}}",
    "{\"type\":\"ll_write\",\"op\":1,\"item\":7}",
    "{\"type\":\"ll_write\",\"op\":1,\"item\":{\"key\":\"x\",\"vers\":[5,{\"v\":1}]}}",
    "{\"type\":\"ll_write\",\"op\":1,\"item\":{\"key\":\"x\",\"vers\":[{\"v\":\"1\",\"t\":1,\"n\":99}]}}",
    "{\"type\":\"ll_write\",\"op\":1,\"item\":{\"key\":\"x\",\"vers\":[{\"v\":\"1\",\"t\":-1,\"n\":0}]}}",
    "{\"type\":\"ll_write\",\"op\":1,\"hint_for\":\"n9\",\"item\":{\"key\":\"x\",\"vers\":[]}}",
    "{\"type\":\"ll_read\",\"op\":1}",
    "{\"type\":\"ll_read_ok\",\"op\":\"1\",\"item\":null}",
    "{\"type\":\"ll_write_ok\",\"op\":123456}",
    "{\"type\":\"ll_handoff\",\"items\":{}}",
    "{\"type\":\"ll_handoff\",\"items\":[1,{\"key\":5}]}",
    "{\"type\":\"ll_handoff_ok\",\"acks\":[{\"key\":\"x\",\"h\":\"zz\"},3]}",
    "{\"type\":\"ae_root\",\"sid\":1,\"root\":\"0000000000000000\",\"top\":[\"1\"]}",
    "{\"type\":\"ae_root\",\"root\":\"0000000000000000\"}",
    "{\"type\":\"ae_diff\",\"sid\":1,\"tops\":[99],\"leaves\":[[]]}",
    "{\"type\":\"ae_push\",\"sid\":1,\"leaves\":[5000],\"items\":[]}",
    "{\"type\":\"ae_push\",\"sid\":1,\"leaves\":[1],\"items\":[{\"key\":\"x\",\"vers\":\"no\"}]}",
    "{\"type\":\"ae_pull\",\"sid\":1,\"items\":[]}",
};

START_TEST(malformed_peer_messages_are_dropped_and_the_node_keeps_serving)
{
    struct tc *t = tc_new(3, "n=3 w=3 r=3 conflict=siblings", 15);
    json_error_t jerr;
    json_t *b = json_loads(bad_peer[_i], 0, &jerr);
    ck_assert_msg(b != NULL, "%s", jerr.text);
    ck_assert_int_eq(sim_client_send(t->s, 0, "n2", b), 0);
    fixture_run(t->x, 10 * MS);
    char *v = held(t, 0, "x");
    ck_assert_ptr_null(v);
    put_ok(t, 0, "x", "1", NULL);
    char *got = get_val(t, 0, "x", NULL);
    ck_assert_str_eq(got, "1");
    free(got);
    tc_free(t);
}
END_TEST

/* ---- ring ---------------------------------------------------------------------------------- */

START_TEST(ring_names_the_same_n_distinct_replicas_on_every_node)
{
    struct tc *t = tc_new(5, "n=3 vnodes=8", 3);
    char *argv[] = {(char *)"k42"};
    json_t *r0 = sim_command(t->s, 0, "ring", 1, argv);
    json_t *r4 = sim_command(t->s, 4, "ring", 1, argv);
    ck_assert_str_eq(json_string_value(json_object_get(r0, "text")),
                     json_string_value(json_object_get(r4, "text")));
    int rep[CL_MAXN], sub[CL_MAXN], nrep, nsub;
    prefs(t, "k42", rep, &nrep, sub, &nsub);
    ck_assert_int_eq(nrep, 3);
    ck_assert_int_eq(nsub, 2);
    for (int i = 0; i < nrep; i++)
        for (int j = 0; j < nsub; j++)
            ck_assert_int_ne(rep[i], sub[j]);
    /* the lab's view of the ring (leaderless.h) agrees with the nodes' */
    struct ll_ring *ring = leaderless_ring_new(5, 8);
    int pl[CL_MAXN];
    ck_assert_int_eq(leaderless_ring_replicas(ring, "k42", pl), 5);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(pl[i], rep[i]);
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(pl[3 + i], sub[i]);
    leaderless_ring_destroy(&ring);
    ck_assert_ptr_null(ring);
    ck_assert_ptr_null(leaderless_ring_new(17, 8));
    json_t *all = sim_command(t->s, 2, "ring", 0, NULL);
    const char *text = json_string_value(json_object_get(all, "text"));
    ck_assert_ptr_nonnull(strstr(text, "5 nodes x 8 vnodes"));
    for (int k = 1; k <= 5; k++) {
        char line[24];
        snprintf(line, sizeof line, "\nn%d ", k);
        ck_assert_msg(strstr(text, line), "ring lists n%d", k);
    }
    json_decref(r0);
    json_decref(r4);
    json_decref(all);
    tc_free(t);
}
END_TEST

/* ---- Q1: strict quorums ------------------------------------------------------------------- */

START_TEST(q1_strict_read_sees_write_with_one_replica_down)
{
    struct tc *t = tc_new(5, "n=3 w=2 r=2", 4);
    for (int k = 0; k < 10; k++) {
        char key[24], val[24];
        snprintf(key, sizeof key, "k%d", k);
        snprintf(val, sizeof val, "v%d", k);
        int rep[CL_MAXN], sub[CL_MAXN], nrep, nsub;
        prefs(t, key, rep, &nrep, sub, &nsub);
        sim_crash(t->s, rep[k % 3]);
        int writer = rep[(k + 1) % 3], reader = sub[k % 2];
        put_ok(t, writer, key, val, NULL);
        char *got = get_val(t, reader, key, NULL);
        ck_assert_msg(got && !strcmp(got, val), "read of %s after its ack: %s", key, got ? got : "nil");
        free(got);
        sim_restart(t->s, rep[k % 3]);
        fixture_run(t->x, 50 * MS);
    }
    tc_free(t);
}
END_TEST

/* One client, one request at a time, random keys and nodes, jittery links: with W+R>N every
 * read returns the latest acknowledged write. Returns the number of stale reads seen. */
static int sequential_run(const char *spec, uint64_t seed, int ops, int *reads_out)
{
    struct tc *t = tc_new(5, spec, seed);
    struct rng r;
    rng_seed(&r, seed * 7919 + 1);
    faults_set_delay(sim_faults(t->s), -1, -1, 0, 8 * MS);
    char last[4][32];
    int have[4] = {0};
    int stale = 0, reads = 0;
    for (int i = 0; i < ops; i++) {
        int k = (int)rng_range(&r, 0, 3);
        int node = (int)rng_range(&r, 0, 4);
        char key[24];
        snprintf(key, sizeof key, "k%d", k);
        if (rng_range(&r, 0, 1)) {
            char val[32];
            snprintf(val, sizeof val, "v%d", i);
            json_t *rep = call(t, node, 1, req_write(key, val, NULL));
            if (rep && !strcmp(rtype(rep), "write_ok")) {
                str_copy(last[k], val, sizeof last[k]);
                have[k] = 1;
            }
            json_decref(rep);
        } else {
            char *got = get_val(t, node, key, NULL);
            reads++;
            if (have[k] ? !got || strcmp(got, last[k]) : got != NULL)
                stale++;
            free(got);
        }
    }
    tc_free(t);
    if (reads_out)
        *reads_out = reads;
    return stale;
}

START_TEST(with_w_plus_r_above_n_every_read_returns_the_latest_acked_write)
{
    static const char *const specs[] = {"n=3 w=2 r=2", "n=3 w=3 r=1", "n=3 w=1 r=3", "n=5 w=3 r=3"};
    int seeds = test_seeds(20);
    for (int s = 0; s < seeds; s++) {
        const char *spec = specs[s % 4];
        int reads;
        int stale = sequential_run(spec, 100 + (uint64_t)s, 40, &reads);
        ck_assert_msg(stale == 0, "seed %d (%s): %d of %d reads were stale", 100 + s, spec, stale, reads);
    }
}
END_TEST

/* ---- Q2: weak quorums ------------------------------------------------------------------- */

START_TEST(with_w_plus_r_at_most_n_some_seed_reads_stale)
{
    int seeds = test_seeds(20), stale_seeds = 0;
    for (int s = 0; s < seeds; s++)
        if (sequential_run("n=3 w=1 r=1", 300 + (uint64_t)s, 40, NULL) > 0)
            stale_seeds++;
    ck_assert_msg(stale_seeds > 0, "no stale read in %d seeds with w=1 r=1", seeds);
}
END_TEST

START_TEST(q2_weak_config_reads_stale_when_replication_is_delayed)
{
    struct tc *t = tc_new(3, "n=3 w=1 r=1", 5);
    put_ok(t, 0, "x", "1", "all");
    /* n1's messages to the other replicas take 100 ms */
    faults_set_delay(sim_faults(t->s), 0, 1, 100 * MS, 0);
    faults_set_delay(sim_faults(t->s), 0, 2, 100 * MS, 0);
    put_ok(t, 0, "x", "2", "one");
    char *got = get_val(t, 1, "x", "one");
    ck_assert_msg(got && !strcmp(got, "1"), "expected the stale 1, read %s", got ? got : "nil");
    free(got);
    /* the quorum event of the read names who answered */
    ck_assert_int_ge(count_events(t, "quorum", "op", "read"), 1);
    /* a quorum read sees the new value and repairs */
    fixture_run(t->x, 300 * MS);
    got = get_val(t, 1, "x", "quorum");
    ck_assert_str_eq(got, "2");
    free(got);
    tc_free(t);
}
END_TEST

/* ---- Q3: read repair ---------------------------------------------------------------------- */

START_TEST(q3_read_repair_brings_every_contacted_replica_up_to_date)
{
    struct tc *t = tc_new(3, "n=3 w=2 r=2 ae_interval=0", 6);
    put_ok(t, 0, "x", "1", "all");
    faults_isolate(sim_faults(t->s), 2);
    put_ok(t, 0, "x", "2", NULL);
    faults_heal(sim_faults(t->s));
    char *v = held(t, 2, "x");
    ck_assert_str_eq(v, "1"); /* n3 missed the write */
    free(v);
    fixture_run(t->x, 2 * SEC); /* no anti-entropy, no hints: n3 stays behind */
    v = held(t, 2, "x");
    ck_assert_str_eq(v, "1");
    free(v);
    char *got = get_val(t, 1, "x", "all");
    ck_assert_str_eq(got, "2");
    free(got);
    for (int i = 0; i < 3; i++) {
        v = held(t, i, "x");
        ck_assert_msg(v && !strcmp(v, "2"), "n%d holds %s right after the read", i + 1, v ? v : "nil");
        free(v);
    }
    ck_assert_int_eq(count_events(t, "repair", "to", "n3"), 1);
    /* the quorum event lists n3 as stale */
    size_t i;
    json_t *e;
    int seen = 0;
    json_array_foreach(t->x->events, i, e) {
        if (strcmp(json_string_value(json_object_get(e, "ev")), "quorum") ||
            strcmp(json_string_value(json_object_get(e, "op")), "read"))
            continue;
        json_t *stale = json_object_get(e, "stale");
        seen = json_array_size(stale) == 1 && !strcmp(json_string_value(json_array_get(stale, 0)), "n3");
    }
    ck_assert_msg(seen, "the read's quorum event names n3 as stale");
    tc_free(t);
}
END_TEST

START_TEST(background_read_repair_replies_sooner_and_off_never_repairs)
{
    static const char *const specs[] = {"n=3 w=2 r=3 ae_interval=0 read_repair=blocking",
                                        "n=3 w=2 r=3 ae_interval=0 read_repair=background",
                                        "n=3 w=2 r=3 ae_interval=0 read_repair=off"};
    uint64_t latency[3];
    for (int m = 0; m < 3; m++) {
        struct tc *t = tc_new(3, specs[m], 16);
        put_ok(t, 0, "x", "1", "all");
        faults_isolate(sim_faults(t->s), 2);
        put_ok(t, 0, "x", "2", NULL);
        faults_heal(sim_faults(t->s));
        uint64_t t0 = sim_now(t->s);
        char *got = get_val(t, 1, "x", NULL);
        latency[m] = sim_now(t->s) - t0;
        ck_assert_str_eq(got, "2");
        free(got);
        fixture_run(t->x, 100 * MS);
        char *v = held(t, 2, "x");
        ck_assert_str_eq(v, m < 2 ? "2" : "1");
        free(v);
        ck_assert_int_eq(count_events(t, "repair", "to", "n3"), m < 2 ? 1 : 0);
        tc_free(t);
    }
    /* blocking waits one more round trip, for the repair's ack */
    ck_assert_uint_gt(latency[0], latency[1]);
    ck_assert_uint_eq(latency[1], latency[2]);
}
END_TEST

START_TEST(only_a_sloppy_quorum_reaches_w_through_a_stand_in)
{
    for (int sloppy = 0; sloppy < 2; sloppy++) {
        struct tc *t = tc_new(4, sloppy ? "n=3 w=3 r=1 sloppy=on" : "n=3 w=3 r=1", 17);
        int rep[CL_MAXN], sub[CL_MAXN], nrep, nsub;
        prefs(t, "x", rep, &nrep, sub, &nsub);
        sim_crash(t->s, rep[2]);
        json_t *r = call(t, rep[0], 1, req_write("x", "1", NULL));
        ck_assert_str_eq(rtype(r), sloppy ? "write_ok" : "error");
        json_decref(r);
        ck_assert_int_eq(extra_int(t, sub[0], "hints_pending"), sloppy ? 1 : 0);
        tc_free(t);
    }
}
END_TEST

/* ---- Q4: hinted handoff ---------------------------------------------------------------- */

START_TEST(q4_hint_is_kept_across_a_restart_and_deleted_only_after_the_owner_acks)
{
    struct tc *t = tc_new(5, "n=3 w=2 r=2 sloppy=on ae_interval=0", 7);
    int rep[CL_MAXN], sub[CL_MAXN], nrep, nsub;
    prefs(t, "x", rep, &nrep, sub, &nsub);
    int owner = rep[1], standin = sub[0];
    sim_crash(t->s, owner);
    put_ok(t, rep[0], "x", "1", NULL);
    fixture_run(t->x, 400 * MS); /* past replica_timeout: the stand-in takes a hint */
    ck_assert_int_eq(extra_int(t, standin, "hints_pending"), 1);
    ck_assert_int_eq(count_events(t, "hint", "what", "stored"), 1);
    /* the hint survives the stand-in's restart */
    sim_crash(t->s, standin);
    sim_restart(t->s, standin);
    ck_assert_int_eq(extra_int(t, standin, "hints_pending"), 1);
    /* the owner returns, but cannot answer the stand-in: it gets the hint, the hint stays */
    faults_cut(sim_faults(t->s), owner, standin);
    sim_restart(t->s, owner);
    fixture_run(t->x, 3 * SEC);
    char *v = held(t, owner, "x");
    ck_assert_str_eq(v, "1");
    free(v);
    ck_assert_int_ge(count_events(t, "hint", "what", "delivered"), 1);
    ck_assert_int_eq(count_events(t, "hint", "what", "deleted"), 0);
    ck_assert_int_eq(extra_int(t, standin, "hints_pending"), 1);
    faults_heal(sim_faults(t->s));
    fixture_run(t->x, 3 * SEC);
    ck_assert_int_eq(extra_int(t, standin, "hints_pending"), 0);
    ck_assert_int_eq(count_events(t, "hint", "what", "deleted"), 1);
    tc_free(t);
}
END_TEST

/* ---- Q5: sloppy quorums break read-your-writes ---------------------------------------- */

START_TEST(q5_sloppy_write_succeeds_on_stand_ins_and_a_read_through_the_owners_misses_it)
{
    struct tc *t = tc_new(5, "n=3 w=2 r=2 sloppy=on ae_interval=0", 8);
    int rep[CL_MAXN], sub[CL_MAXN], nrep, nsub;
    prefs(t, "x", rep, &nrep, sub, &nsub);
    put_ok(t, rep[0], "x", "1", "all");
    char spec[128];
    snprintf(spec, sizeof spec, "n%d,n%d | n%d,n%d,n%d", sub[0] + 1, sub[1] + 1, rep[0] + 1, rep[1] + 1,
             rep[2] + 1);
    char err[128];
    ck_assert_int_eq(faults_partition(sim_faults(t->s), spec, err, sizeof err), 0);
    put_ok(t, sub[0], "x", "2", NULL);
    char *got = get_val(t, rep[0], "x", NULL);
    ck_assert_msg(got && !strcmp(got, "1"), "the owners should miss the sloppy write, read %s",
                  got ? got : "nil");
    free(got);
    /* the write's quorum event names the stand-ins */
    size_t i;
    json_t *e;
    int standins = 0;
    json_array_foreach(t->x->events, i, e)
        if (!strcmp(json_string_value(json_object_get(e, "ev")), "quorum") && json_object_get(e, "standins"))
            standins = (int)json_array_size(json_object_get(e, "standins"));
    ck_assert_int_eq(standins, 2);
    /* after heal the hints reach the owners */
    faults_heal(sim_faults(t->s));
    fixture_run(t->x, 3 * SEC);
    got = get_val(t, rep[0], "x", NULL);
    ck_assert_str_eq(got, "2");
    free(got);
    tc_free(t);
}
END_TEST

/* ---- Q6: siblings ------------------------------------------------------------------------- */

static int json_has(const json_t *arr, const char *s)
{
    size_t i;
    const json_t *v;
    json_array_foreach(arr, i, v)
        if (json_is_string(v) && !strcmp(json_string_value(v), s))
            return 1;
    return 0;
}

START_TEST(q6_concurrent_writes_become_siblings_and_a_merge_write_supersedes_them)
{
    struct tc *t = tc_new(3, "n=3 w=2 r=2 conflict=siblings", 9);
    tc_send(t, 0, 1, req_write("x", "a", NULL));
    tc_send(t, 1, 2, req_write("x", "b", NULL));
    json_t *r1 = tc_wait(t, 1, 2 * SEC), *r2 = tc_wait(t, 2, 2 * SEC);
    ck_assert_str_eq(rtype(r1), "write_ok");
    ck_assert_str_eq(rtype(r2), "write_ok");
    json_decref(r1);
    json_decref(r2);
    json_t *r = call(t, 2, 3, req_read("x", NULL));
    ck_assert_str_eq(rtype(r), "read_ok");
    json_t *sib = json_object_get(r, "siblings");
    ck_assert_int_eq(json_array_size(sib), 2);
    ck_assert(json_has(sib, "a") && json_has(sib, "b"));
    const char *ctx = json_string_value(json_object_get(r, "context"));
    ck_assert_ptr_nonnull(ctx);
    json_t *w = req_write("x", "ab", NULL);
    json_object_set_new(w, "context", json_string(ctx));
    json_decref(r);
    r = call(t, 1, 3, w);
    ck_assert_str_eq(rtype(r), "write_ok");
    json_decref(r);
    r = call(t, 0, 3, req_read("x", "all"));
    ck_assert_str_eq(json_string_value(json_object_get(r, "value")), "ab");
    ck_assert_ptr_null(json_object_get(r, "siblings"));
    json_decref(r);
    /* a delete with the read's context removes what it saw */
    r = call(t, 2, 3, req_read("x", NULL));
    json_t *d = json_pack("{s:s,s:s,s:O}", "type", "delete", "key", "x", "context", json_object_get(r, "context"));
    json_decref(r);
    r = call(t, 0, 3, d);
    ck_assert_str_eq(rtype(r), "delete_ok");
    json_decref(r);
    r = call(t, 1, 3, req_read("x", "all"));
    ck_assert(json_is_null(json_object_get(r, "value")));
    ck_assert_ptr_null(json_object_get(r, "siblings"));
    json_decref(r);
    /* a bad context is refused */
    w = req_write("x", "z", NULL);
    json_object_set_new(w, "context", json_string("n9:x"));
    r = call(t, 0, 3, w);
    ck_assert_int_eq(json_integer_value(json_object_get(r, "code")), 12);
    json_decref(r);
    tc_free(t);
}
END_TEST

START_TEST(with_vector_clocks_no_concurrent_write_is_lost)
{
    int seeds = test_seeds(20);
    for (int s = 0; s < seeds; s++) {
        struct tc *t = tc_new(5, "n=3 w=2 r=2 conflict=siblings", 500 + (uint64_t)s);
        struct rng r;
        rng_seed(&r, 500 + (uint64_t)s);
        faults_set_delay(sim_faults(t->s), -1, -1, 0, 10 * MS);
        int writers = 2 + (int)rng_range(&r, 0, 3);
        char vals[8][16];
        for (int c = 1; c <= writers; c++) {
            snprintf(vals[c], sizeof vals[c], "w%d", c);
            tc_send(t, (int)rng_range(&r, 0, 4), c, req_write("x", vals[c], NULL));
        }
        int acked[8] = {0};
        for (int c = 1; c <= writers; c++) {
            json_t *rep = tc_wait(t, c, 3 * SEC);
            acked[c] = rep && !strcmp(rtype(rep), "write_ok");
            json_decref(rep);
        }
        fixture_run(t->x, 200 * MS);
        json_t *rep = call(t, (int)rng_range(&r, 0, 4), 9, req_read("x", "all"));
        json_t *sib = json_object_get(rep, "siblings");
        for (int c = 1; c <= writers; c++) {
            if (!acked[c])
                continue;
            int found = sib ? json_has(sib, vals[c])
                            : !strcmp(json_string_value(json_object_get(rep, "value")), vals[c]);
            ck_assert_msg(found, "seed %d: acked write %s lost (%d writers)", 500 + s, vals[c], writers);
        }
        ck_assert_int_eq(json_array_size(sib), writers);
        json_decref(rep);
        tc_free(t);
    }
}
END_TEST

/* ---- LWW under skew ------------------------------------------------------------------------ */

START_TEST(lww_under_clock_skew_loses_the_later_update)
{
    struct tc *t = tc_new(3, "n=3 w=2 r=2", 10);
    sim_clocks(t->s, 1)->skew_us = -5 * (int64_t)SEC; /* n2 is five seconds behind */
    put_ok(t, 0, "x", "1", NULL);
    fixture_run(t->x, 10 * MS);
    put_ok(t, 1, "x", "2", NULL); /* acknowledged, and later in real time */
    char *got = get_val(t, 2, "x", "all");
    ck_assert_msg(got && !strcmp(got, "1"), "LWW should keep the write with the later timestamp, read %s",
                  got ? got : "nil");
    free(got);
    tc_free(t);
}
END_TEST

/* ---- convergence, anti-entropy, hints under faults --------------------------------------- */

struct expect {
    char last_acked[32];
    int have;
    char later[16][32];   /* writes after the last ack that did not get one */
    int nlater;
};

static int allowed(const struct expect *x, const char *v)
{
    if (x->have && v && !strcmp(v, x->last_acked))
        return 1;
    for (int i = 0; i < x->nlater; i++)
        if (v && !strcmp(v, x->later[i]))
            return 1;
    return !x->have && (!v || x->nlater);
}

/* Per replica, each key's applied lww versions only grow. */
static void check_monotonic(struct tc *t)
{
    json_t *last = json_object();
    size_t i;
    json_t *e;
    json_array_foreach(t->x->events, i, e) {
        if (strcmp(json_string_value(json_object_get(e, "ev")), "apply"))
            continue;
        char id[128];
        snprintf(id, sizeof id, "%s/%s", json_string_value(json_object_get(e, "node")),
                 json_string_value(json_object_get(e, "key")));
        uint64_t ts = strtoull(json_string_value(json_object_get(e, "version")), NULL, 10);
        json_t *prev = json_object_get(last, id);
        ck_assert_msg(!prev || (uint64_t)json_integer_value(prev) <= ts,
                      "seed %" PRIu64 ": %s went back from %" JSON_INTEGER_FORMAT " to %" PRIu64, t->seed,
                      id, json_integer_value(prev), ts);
        json_object_set_new(last, id, json_integer((json_int_t)ts));
    }
    json_decref(last);
}

static void net_noise(struct faults *f, int lossy)
{
    faults_set_delay(f, -1, -1, 0, 3 * MS);
    if (lossy) {
        faults_set_loss(f, -1, -1, 0.05);
        faults_set_dup(f, -1, -1, 0.05);
        faults_set_reorder(f, -1, -1, 0.05);
    }
}

START_TEST(after_heal_and_quiet_replicas_converge_and_no_acked_write_is_lost)
{
    int seeds = test_seeds(20);
    for (int s = 0; s < seeds; s++) {
        uint64_t seed = 700 + (uint64_t)s;
        const char *spec = s % 2 ? "n=3 w=2 r=2 read_repair=off ae_interval=300ms sloppy=on"
                                 : "n=3 w=2 r=2 read_repair=off ae_interval=300ms";
        struct tc *t = tc_new(5, spec, seed);
        struct rng r;
        rng_seed(&r, seed);
        struct faults *f = sim_faults(t->s);
        int lossy = s % 4 >= 2; /* half the seeds also lose, duplicate and reorder messages */
        net_noise(f, lossy);
        struct expect x[6];
        memset(x, 0, sizeof x);
        int faulty = -1, crashed = 0;
        for (int i = 0; i < 40; i++) {
            /* at most one node faulty at a time: each key keeps two live replicas */
            if (rng_range(&r, 0, 5) == 0) {
                if (faulty >= 0) {
                    if (crashed)
                        sim_restart(t->s, faulty);
                    faults_heal(f);
                    net_noise(f, lossy);
                    faulty = -1;
                } else {
                    faulty = (int)rng_range(&r, 0, 4);
                    crashed = (int)rng_range(&r, 0, 1);
                    if (crashed)
                        sim_crash(t->s, faulty);
                    else
                        faults_isolate(f, faulty);
                }
            }
            int k = (int)rng_range(&r, 0, 5), node;
            do
                node = (int)rng_range(&r, 0, 4);
            while (node == faulty && crashed);
            char key[24], val[32];
            snprintf(key, sizeof key, "k%d", k);
            snprintf(val, sizeof val, "v%d", i);
            json_t *rep = call(t, node, 1, req_write(key, val, NULL));
            if (rep && !strcmp(rtype(rep), "write_ok")) {
                str_copy(x[k].last_acked, val, sizeof x[k].last_acked);
                x[k].have = 1;
                x[k].nlater = 0;
            } else if (x[k].nlater < 16) {
                str_copy(x[k].later[x[k].nlater++], val, sizeof x[k].later[0]);
            }
            json_decref(rep);
        }
        if (faulty >= 0 && crashed)
            sim_restart(t->s, faulty);
        faults_heal(f);
        fixture_run(t->x, 6 * SEC);
        for (int k = 0; k < 6; k++) {
            char key[24];
            snprintf(key, sizeof key, "k%d", k);
            int rep[CL_MAXN], sub[CL_MAXN], nrep, nsub;
            prefs(t, key, rep, &nrep, sub, &nsub);
            char *first = held(t, rep[0], key);
            ck_assert_msg(allowed(&x[k], first), "seed %" PRIu64 ": %s holds %s, last acked %s", seed, key,
                          first ? first : "nil", x[k].have ? x[k].last_acked : "none");
            for (int j = 1; j < nrep; j++) {
                char *v = held(t, rep[j], key);
                ck_assert_msg((!v && !first) || (v && first && !strcmp(v, first)),
                              "seed %" PRIu64 ": %s not converged: n%d %s, n%d %s", seed, key, rep[0] + 1,
                              first ? first : "nil", rep[j] + 1, v ? v : "nil");
                free(v);
            }
            free(first);
        }
        for (int i = 0; i < 5; i++)
            ck_assert_msg(extra_int(t, i, "hints_pending") == 0, "seed %" PRIu64 ": n%d still has hints",
                          seed, i + 1);
        check_monotonic(t);
        tc_free(t);
    }
}
END_TEST

START_TEST(with_vector_clocks_replicas_converge_and_keep_every_acked_write)
{
    int seeds = test_seeds(10);
    for (int s = 0; s < seeds; s++) {
        uint64_t seed = 1100 + (uint64_t)s;
        struct tc *t = tc_new(5, "n=3 w=2 r=2 conflict=siblings read_repair=off ae_interval=300ms", seed);
        struct rng r;
        rng_seed(&r, seed);
        struct faults *f = sim_faults(t->s);
        net_noise(f, 1);
        json_t *acked = json_object(); /* key -> [values] */
        for (int i = 0; i < 30; i++) {
            if (i == 10)
                faults_isolate(f, (int)rng_range(&r, 0, 4));
            if (i == 20) {
                faults_heal(f);
                net_noise(f, 1);
            }
            char key[24], val[32];
            snprintf(key, sizeof key, "k%d", (int)rng_range(&r, 0, 3));
            snprintf(val, sizeof val, "v%d", i);
            json_t *rep = call(t, (int)rng_range(&r, 0, 4), 1, req_write(key, val, NULL));
            if (rep && !strcmp(rtype(rep), "write_ok")) {
                if (!json_object_get(acked, key))
                    json_object_set_new(acked, key, json_array());
                json_array_append_new(json_object_get(acked, key), json_string(val));
            }
            json_decref(rep);
        }
        faults_heal(f);
        fixture_run(t->x, 5 * SEC);
        const char *key;
        json_t *vals;
        json_object_foreach(acked, key, vals) {
            int rep[CL_MAXN], sub[CL_MAXN], nrep, nsub;
            prefs(t, key, rep, &nrep, sub, &nsub);
            char *first = held(t, rep[0], key);
            ck_assert_ptr_nonnull(first);
            for (int j = 1; j < nrep; j++) {
                char *v = held(t, rep[j], key);
                ck_assert_msg(v && !strcmp(v, first), "seed %" PRIu64 ": %s differs: %s vs %s", seed, key,
                              first, v ? v : "nil");
                free(v);
            }
            json_error_t jerr;
            json_t *have = json_loads(first, JSON_DECODE_ANY, &jerr);
            if (!have)
                have = json_pack("[s]", first); /* a single value is stored as a string */
            size_t i;
            json_t *v;
            json_array_foreach(vals, i, v)
                ck_assert_msg(json_has(have, json_string_value(v)), "seed %" PRIu64 ": %s lost %s (holds %s)",
                              seed, key, json_string_value(v), first);
            json_decref(have);
            free(first);
        }
        json_decref(acked);
        tc_free(t);
    }
}
END_TEST

START_TEST(a_node_added_to_the_ring_receives_its_keys_through_anti_entropy)
{
    struct tc *t = tc_new(3, "n=2 w=2 r=1 ae_interval=300ms", 18);
    for (int k = 0; k < 40; k++) {
        char key[24];
        snprintf(key, sizeof key, "k%d", k);
        put_ok(t, k % 3, key, key, NULL);
    }
    ck_assert_int_eq(sim_add_node(t->s), 3);
    fixture_run(t->x, 3 * SEC);
    struct ll_ring *ring = leaderless_ring_new(4, 8);
    int owned = 0;
    for (int k = 0; k < 40; k++) {
        char key[24];
        snprintf(key, sizeof key, "k%d", k);
        int pl[CL_MAXN];
        leaderless_ring_replicas(ring, key, pl);
        if (pl[0] != 3 && pl[1] != 3)
            continue;
        owned++;
        char *v = held(t, 3, key);
        ck_assert_msg(v && !strcmp(v, key), "n4 should hold %s, holds %s", key, v ? v : "nil");
        free(v);
    }
    ck_assert_int_gt(owned, 0);
    leaderless_ring_destroy(&ring);
    tc_free(t);
}
END_TEST

START_TEST(anti_entropy_repairs_a_replica_that_missed_writes)
{
    struct tc *t = tc_new(3, "n=3 w=2 r=2 read_repair=off ae_interval=500ms", 11);
    faults_isolate(sim_faults(t->s), 2);
    for (int k = 0; k < 50; k++) {
        char key[24];
        snprintf(key, sizeof key, "k%d", k);
        put_ok(t, k % 2, key, "v", NULL);
    }
    ck_assert_int_eq(extra_int(t, 2, "keys"), 0);
    faults_heal(sim_faults(t->s));
    fixture_run(t->x, 4 * SEC);
    json_t *st = sim_status(t->s, 2);
    ck_assert_int_eq(json_object_size(json_object_get(st, "data")), 50);
    json_decref(st);
    /* an exchange reported what it repaired */
    size_t i;
    json_t *e;
    long repaired = 0;
    json_array_foreach(t->x->events, i, e)
        if (!strcmp(json_string_value(json_object_get(e, "ev")), "antientropy"))
            repaired += json_integer_value(json_object_get(e, "repaired_here")) +
                        json_integer_value(json_object_get(e, "repaired_there"));
    ck_assert_int_ge(repaired, 50);
    ck_assert_int_ge(count_events(t, "repair", "via", "antientropy"), 1);
    tc_free(t);
}
END_TEST

START_TEST(a_hint_reaches_its_node_once_the_node_returns)
{
    int seeds = test_seeds(20);
    for (int s = 0; s < seeds; s++) {
        uint64_t seed = 900 + (uint64_t)s;
        struct tc *t = tc_new(5, "n=3 w=2 r=2 sloppy=on ae_interval=0", seed);
        struct rng r;
        rng_seed(&r, seed);
        char key[24];
        snprintf(key, sizeof key, "h%d", s);
        int rep[CL_MAXN], sub[CL_MAXN], nrep, nsub;
        prefs(t, key, rep, &nrep, sub, &nsub);
        int owner = rep[rng_range(&r, 0, 2)];
        sim_crash(t->s, owner);
        int coord;
        do
            coord = (int)rng_range(&r, 0, 4);
        while (coord == owner);
        put_ok(t, coord, key, "v", NULL);
        fixture_run(t->x, rng_range(&r, 300, 3000) * MS);
        long pending = 0;
        for (int i = 0; i < 5; i++)
            pending += extra_int(t, i, "hints_pending");
        ck_assert_msg(pending == 1, "seed %" PRIu64 ": %ld hints pending while n%d is down", seed, pending,
                      owner + 1);
        sim_restart(t->s, owner);
        fixture_run(t->x, 2 * SEC);
        char *v = held(t, owner, key);
        ck_assert_msg(v && !strcmp(v, "v"), "seed %" PRIu64 ": n%d holds %s", seed, owner + 1, v ? v : "nil");
        free(v);
        for (int i = 0; i < 5; i++)
            ck_assert_int_eq(extra_int(t, i, "hints_pending"), 0);
        tc_free(t);
    }
}
END_TEST

/* ---- failures, deletes, durability ----------------------------------------------------------- */

START_TEST(a_quorum_not_reached_fails_with_error_11_naming_who_answered)
{
    struct tc *t = tc_new(3, "n=3 w=2 r=2", 12);
    sim_crash(t->s, 1);
    sim_crash(t->s, 2);
    json_t *r = call(t, 0, 1, req_write("x", "1", NULL));
    ck_assert_str_eq(rtype(r), "error");
    ck_assert_int_eq(json_integer_value(json_object_get(r, "code")), 11);
    const char *text = json_string_value(json_object_get(r, "text"));
    ck_assert_msg(strstr(text, "1 of the 2 acks") && strstr(text, "n2") && strstr(text, "may have been applied"),
                  "%s", text);
    json_decref(r);
    r = call(t, 0, 1, req_read("x", "quorum"));
    ck_assert_int_eq(json_integer_value(json_object_get(r, "code")), 11);
    json_decref(r);
    /* but cl=one still works, and its quorum event lists the missing replicas */
    r = call(t, 0, 1, req_read("x", "one"));
    ck_assert_str_eq(rtype(r), "read_ok");
    json_decref(r);
    size_t i;
    json_t *e;
    int missing = 0;
    json_array_foreach(t->x->events, i, e)
        if (!strcmp(json_string_value(json_object_get(e, "ev")), "quorum"))
            missing = (int)json_array_size(json_object_get(e, "missing"));
    ck_assert_int_eq(missing, 2);
    tc_free(t);
}
END_TEST

START_TEST(deletes_leave_tombstones_that_are_collected_after_the_grace_period)
{
    struct tc *t = tc_new(3, "n=3 w=2 r=2 tombstone_grace=2s ae_interval=200ms", 13);
    put_ok(t, 0, "x", "1", "all");
    json_t *r = call(t, 1, 1, json_pack("{s:s,s:s}", "type", "delete", "key", "x"));
    ck_assert_str_eq(rtype(r), "delete_ok");
    json_decref(r);
    char *got = get_val(t, 2, "x", "all");
    ck_assert_ptr_null(got);
    long tombs = 0;
    for (int i = 0; i < 3; i++)
        tombs += extra_int(t, i, "tombstones");
    ck_assert_int_eq(tombs, 3);
    fixture_run(t->x, 5 * SEC);
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(extra_int(t, i, "tombstones"), 0);
        ck_assert_int_eq(extra_int(t, i, "keys"), 0);
    }
    ck_assert_int_ge(count_events(t, "tombstone", "what", "collected"), 3);
    got = get_val(t, 0, "x", "all");
    ck_assert_ptr_null(got);
    tc_free(t);
}
END_TEST

START_TEST(acked_writes_survive_a_crash_of_every_node)
{
    struct tc *t = tc_new(3, "n=3 w=3 r=1 conflict=siblings", 14);
    for (int k = 0; k < 30; k++) {
        char key[24];
        snprintf(key, sizeof key, "k%d", k);
        put_ok(t, k % 3, key, key, NULL);
    }
    for (int i = 0; i < 3; i++)
        sim_crash(t->s, i);
    for (int i = 0; i < 3; i++)
        sim_restart(t->s, i);
    for (int k = 0; k < 30; k++) {
        char key[24];
        snprintf(key, sizeof key, "k%d", k);
        char *got = get_val(t, (k + 1) % 3, key, "one");
        ck_assert_msg(got && !strcmp(got, key), "%s after restart: %s", key, got ? got : "nil");
        free(got);
    }
    /* dots are not reused after a restart: a new write supersedes nothing it did not read */
    put_ok(t, 0, "k0", "new", NULL);
    json_t *r = call(t, 1, 1, req_read("k0", "all"));
    ck_assert_int_eq(json_array_size(json_object_get(r, "siblings")), 2);
    json_decref(r);
    tc_free(t);
}
END_TEST

START_TEST(bug_unsynced_ack_loses_acked_writes_in_a_crash)
{
    struct tc *t = tc_new(3, "n=3 w=3 r=1 bug=unsynced-ack", 19);
    for (int k = 0; k < 5; k++) {
        char key[24];
        snprintf(key, sizeof key, "k%d", k);
        put_ok(t, k % 3, key, key, NULL);
    }
    for (int i = 0; i < 3; i++)
        sim_crash(t->s, i);
    for (int i = 0; i < 3; i++)
        sim_restart(t->s, i);
    int lost = 0;
    for (int k = 0; k < 5; k++) {
        char key[24];
        snprintf(key, sizeof key, "k%d", k);
        char *got = get_val(t, 0, key, "all");
        lost += got == NULL;
        free(got);
    }
    ck_assert_int_eq(lost, 5);
    tc_free(t);
}
END_TEST

START_TEST(bug_hint_delete_on_send_loses_the_write_for_a_down_owner)
{
    struct tc *t = tc_new(5, "n=3 w=2 r=2 sloppy=on ae_interval=0 bug=hint-delete-on-send", 7);
    int rep[CL_MAXN], sub[CL_MAXN], nrep, nsub;
    prefs(t, "x", rep, &nrep, sub, &nsub);
    sim_crash(t->s, rep[1]);
    put_ok(t, rep[0], "x", "1", NULL);
    fixture_run(t->x, 2 * SEC); /* the stand-in sends its hint into the void and forgets it */
    ck_assert_int_eq(extra_int(t, sub[0], "hints_pending"), 0);
    sim_restart(t->s, rep[1]);
    fixture_run(t->x, 3 * SEC);
    char *v = held(t, rep[1], "x");
    ck_assert_ptr_null(v);
    tc_free(t);
}
END_TEST

START_TEST(same_seed_gives_the_same_trace)
{
    uint64_t h[2];
    for (int run = 0; run < 2; run++) {
        struct fixture *f = fixture_new(&mode_leaderless, 5, "n=3 w=2 r=2 sloppy=on ae_interval=300ms", 42);
        struct sim *s = f->s;
        sim_trace_hash_enable(s);
        faults_set_delay(sim_faults(s), -1, -1, 0, 5 * MS);
        for (int k = 0; k < 10; k++) {
            char key[24];
            snprintf(key, sizeof key, "k%d", k);
            sim_client_send(s, k % 5, "c1", req_write(key, "v", NULL));
            if (k == 4)
                sim_crash(s, 2);
            sim_run_for(s, 100 * MS);
        }
        sim_restart(s, 2);
        sim_run_for(s, 2 * SEC);
        h[run] = sim_trace_hash(s);
        fixture_free(&f);
    }
    ck_assert_uint_eq(h[0], h[1]);
}
END_TEST

/* ---- what the lab shows ------------------------------------------------------------------- */

/* `hints NODE` runs on the node it names: the stand-in that took a write for a crashed
 * replica lists it; any other node says it keeps none and where hints live. */
START_TEST(hints_are_listed_by_the_stand_in_that_keeps_them)
{
    struct tc *t = tc_new(5, "n=3 w=2 r=2 sloppy=on ae_interval=0", 7);
    int rep[CL_MAXN], sub[CL_MAXN], nrep, nsub;
    prefs(t, "k", rep, &nrep, sub, &nsub);
    sim_crash(t->s, rep[0]);
    put_ok(t, rep[1], "k", "6", NULL);
    fixture_run(t->x, 400 * MS); /* past replica_timeout: the first stand-in takes a hint */
    char id[CL_IDLEN], owner[CL_IDLEN];
    node_name(sub[0], id);
    node_name(rep[0], owner);
    char *argv[] = {id};
    json_t *r = sim_command(t->s, sub[0], "hints", 1, argv);
    const char *text = json_string_value(json_object_get(r, "text"));
    ck_assert(json_is_true(json_object_get(r, "ok")));
    char want[64];
    snprintf(want, sizeof want, "%s keeps 1 hint", id);
    ck_assert_msg(strstr(text, want), "%s", text);
    snprintf(want, sizeof want, "for %s: k", owner);
    ck_assert_msg(strstr(text, want), "%s", text);
    json_decref(r);
    node_name(rep[1], id);
    r = sim_command(t->s, rep[1], "hints", 1, argv);
    text = json_string_value(json_object_get(r, "text"));
    ck_assert_msg(strstr(text, "keeps 0 hints") && strstr(text, "ring KEY"), "%s", text);
    json_decref(r);
    /* the node's log (`log NODE`) lists what it did, numbered, under a title */
    json_t *st = sim_status(t->s, sub[0]);
    ck_assert_ptr_nonnull(json_string_value(json_object_get(st, "log_title")));
    json_t *first = json_array_get(json_object_get(st, "log"), 0);
    ck_assert_int_eq(json_integer_value(json_object_get(first, "index")), 1);
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(first, "cmd")), "hint stored"));
    json_decref(st);
    tc_free(t);
}
END_TEST

/* A client that sends back the context of its own last write (write_ok carries it, as a read
 * does) supersedes that write, even across a partition: the old value does not survive as
 * a sibling, and the client reads its own last write. */
START_TEST(a_sessions_later_write_supersedes_its_earlier_ones)
{
    struct tc *t = tc_new(3, "n=3 w=1 r=1 conflict=siblings", 31);
    json_t *r = call(t, 0, 1, req_write("c", "0", NULL));
    ck_assert_str_eq(rtype(r), "write_ok");
    json_t *ctx = json_incref(json_object_get(r, "context"));
    ck_assert_msg(json_is_string(ctx) && strstr(json_string_value(ctx), "n1:"), "context %s",
                  json_string_value(ctx));
    json_decref(r);
    char err[128];
    ck_assert_int_eq(faults_partition(sim_faults(t->s), "n1 | n2,n3", err, sizeof err), 0);
    json_t *w = req_write("c", "left", NULL);
    json_object_set_new(w, "context", ctx);
    r = call(t, 0, 1, w);
    ck_assert_str_eq(rtype(r), "write_ok");
    w = req_write("c", "right", NULL);
    json_object_set(w, "context", json_object_get(r, "context"));
    json_decref(r);
    r = call(t, 1, 1, w);
    ck_assert_str_eq(rtype(r), "write_ok");
    json_decref(r);
    faults_heal(sim_faults(t->s));
    fixture_run(t->x, 2 * SEC);
    r = call(t, 2, 2, req_read("c", "all"));
    ck_assert_str_eq(json_string_value(json_object_get(r, "value")), "right");
    ck_assert_ptr_null(json_object_get(r, "siblings"));
    json_decref(r);
    tc_free(t);
}
END_TEST

/* Writes on both sides of a partition, each based on what its side had read, are siblings:
 * both supersede the value both sides read, which does not survive beside them. */
START_TEST(writes_on_both_sides_of_a_partition_are_siblings_without_the_value_they_replaced)
{
    struct tc *t = tc_new(3, "n=3 w=1 r=1 conflict=siblings", 32);
    put_ok(t, 0, "c", "0", "all");
    char err[128];
    ck_assert_int_eq(faults_partition(sim_faults(t->s), "n1 | n2,n3", err, sizeof err), 0);
    for (int side = 0; side < 2; side++) {
        json_t *r = call(t, side, 1 + side, req_read("c", NULL));
        json_t *w = req_write("c", side ? "right" : "left", NULL);
        json_object_set(w, "context", json_object_get(r, "context"));
        json_decref(r);
        r = call(t, side, 1 + side, w);
        ck_assert_str_eq(rtype(r), "write_ok");
        json_decref(r);
    }
    faults_heal(sim_faults(t->s));
    fixture_run(t->x, 2 * SEC);
    json_t *r = call(t, 2, 3, req_read("c", "all"));
    json_t *sib = json_object_get(r, "siblings");
    ck_assert_int_eq(json_array_size(sib), 2);
    ck_assert(json_has(sib, "left") && json_has(sib, "right") && !json_has(sib, "0"));
    json_decref(r);
    tc_free(t);
}
END_TEST

/* ---- the anti-entropy figure ------------------------------------------------------------- */

START_TEST(anti_entropy_repairs_ten_thousand_divergent_keys)
{
    long keys = getenv("CONLAB_QUICK") ? 1000 : 10000;
    struct opts o = {0}; /* writes only, no read repair: anti-entropy alone brings n3 up to date */
    opts_set(&o, "n", "3");
    opts_set(&o, "w", "2");
    opts_set(&o, "r", "1");
    opts_set(&o, "read_repair", "off");
    opts_set(&o, "ae_interval", "1s");
    struct catchup_result res;
    char err[200];
    ck_assert_msg(catchup_run(&mode_leaderless, 3, &o, keys, 1, &res, err, sizeof err) == 0, "%s", err);
    opts_free(&o);
    ck_assert_int_eq(res.want, keys);
    ck_assert_int_eq(res.held, keys);
    json_int_t exchanges = json_integer_value(json_object_get(res.mode_events, "antientropy"));
    ck_assert_msg(exchanges >= 1, "n3 caught up without an anti-entropy exchange");
    printf("leaderless anti-entropy: %ld divergent keys repaired %.3f s (virtual) after heal; %lld exchange(s), "
           "%" PRIu64 " messages (%lld ae_push); %.3f s wall\n",
           res.held, res.virtual_us / 1e6, (long long)exchanges, res.messages,
           (long long)json_integer_value(json_object_get(res.by_type, "ae_push")), res.wall_us / 1e6);
    json_decref(res.by_type);
    json_decref(res.mode_events);
}
END_TEST

/* ---- membership=swim (or gossip): members, deaths and leaves learned by SWIM ------------------ */

static const char *extra_str(struct tc *t, int i, const char *field);

/* node's view of member: "alive", "suspect", "dead", "left", "unknown", or NULL (not in its table). */
static const char *view_of(struct tc *t, int node, const char *member)
{
    static char out[16];
    json_t *st = sim_status(t->s, node);
    const char *v = json_string_value(
        json_object_get(json_object_get(json_object_get(json_object_get(st, "extra"), "members"), member), "status"));
    if (v)
        str_copy(out, v, sizeof out);
    json_decref(st);
    return v ? out : NULL;
}

struct views {
    struct tc *t;
    const char *member, *want;
};

/* Every live node but the member itself sees it as want. */
static int all_views(void *ud)
{
    struct views *v = ud;
    for (int i = 0; i < v->t->x->n; i++) {
        char id[CL_IDLEN];
        node_name(i, id);
        if (!strcmp(id, v->member) || sim_node_state(v->t->s, i) != SIM_UP)
            continue;
        const char *s = view_of(v->t, i, v->member);
        if (!s || strcmp(s, v->want))
            return 0;
    }
    return 1;
}

static void await_views(struct tc *t, const char *member, const char *want, uint64_t us)
{
    struct views v = {t, member, want};
    ck_assert_msg(fixture_run_until(t->x, us, all_views, &v), "seed %" PRIu64 ": not every node sees %s %s",
                  t->seed, member, want);
}

START_TEST(gossip_membership_marks_a_crashed_node_dead_everywhere_and_a_restarted_one_alive)
{
    struct tc *t = tc_new(5, "membership=gossip sloppy=on swim_suspect=1s", 71);
    fixture_run(t->x, 1 * SEC);
    ck_assert_str_eq(view_of(t, 0, "n4"), "alive");
    sim_crash(t->s, 3);
    uint64_t t0 = sim_now(t->s);
    await_views(t, "n4", "dead", 10 * SEC);
    uint64_t took = sim_now(t->s) - t0;
    printf("swim membership: 5 nodes, swim_suspect=1s: every view has n4 dead %.2f s after its crash\n", took / 1e6);
    ck_assert_uint_ge(took, 1 * SEC); /* not before the suspicion timeout */
    /* a crash is not a departure: the dead member keeps its tokens in every view's ring */
    for (int i = 0; i < 5; i++)
        if (i != 3)
            ck_assert_str_eq(extra_str(t, i, "ring"), "5 nodes x 8 vnodes");
    /* writes whose replica is dead in the view go to a stand-in, with a hint */
    for (int k = 0; k < 12; k++) {
        char key[8];
        snprintf(key, sizeof key, "k%d", k);
        tc_send(t, k % 3, 1, req_write(key, "v", NULL));
        json_t *r = tc_wait(t, 1, 5 * SEC);
        ck_assert_msg(r && !strcmp(json_string_value(json_object_get(r, "type")), "write_ok"), "write %s", key);
        json_decref(r);
    }
    ck_assert_int_ge(fixture_count(t->x, "hint", NULL, NULL), 1);
    /* a restart is a new incarnation: its alive wins over the old life's dead */
    sim_restart(t->s, 3);
    await_views(t, "n4", "alive", 10 * SEC);
    FIXTURE_OK(t->x);
    tc_free(t);
}
END_TEST

START_TEST(swim_membership_takes_in_a_new_node_when_its_alive_arrives)
{
    struct tc *t = tc_new(4, "membership=swim sloppy=on", 72);
    fixture_run(t->x, 500 * MS);
    int n5 = sim_add_node(t->s);
    ck_assert_int_eq(n5, 4);
    /* in the address book at once, in the views only by SWIM's dissemination */
    fixture_run(t->x, 1000);
    ck_assert_msg(!view_of(t, 0, "n5") || !strcmp(view_of(t, 0, "n5"), "unknown"), "n1 knew n5 before any gossip");
    await_views(t, "n5", "alive", 10 * SEC);
    ck_assert_int_ge(fixture_count(t->x, "member", "status", "joined"), 1);
    FIXTURE_OK(t->x);
    tc_free(t);
}
END_TEST

START_TEST(swim_membership_refuses_a_bad_probe)
{
    struct tc *t = tc_new(3, "membership=swim", 73);
    static const char *const bad[] = {"{\"type\":\"probe\"}", "{\"type\":\"probe\",\"seq\":-1}",
                                      "{\"type\":\"probe_req\",\"seq\":1}", "{\"type\":\"probe_ack\",\"seq\":\"x\"}"};
    for (size_t i = 0; i < CL_ARRAY_LEN(bad); i++) {
        sim_client_send(t->s, 0, "n2", json_loads(bad[i], 0, NULL));
        fixture_run(t->x, 50 * MS);
    }
    ck_assert_int_ge(fixture_count(t->x, "error", NULL, NULL), 4);
    ck_assert_str_eq(view_of(t, 0, "n2"), "alive");
    tc_free(t);
}
END_TEST


/* ---- streaming ranges: join and decommission under membership=swim --------------------------------- */

/* A field of node i's status "extra" as a string (static copy), or "". */
static const char *extra_str(struct tc *t, int i, const char *field)
{
    static char out[64];
    json_t *st = sim_status(t->s, i);
    const char *v = json_string_value(json_object_get(json_object_get(st, "extra"), field));
    str_copy(out, v ? v : "", sizeof out);
    json_decref(st);
    return out;
}

struct rstate_want {
    struct tc *t;
    int node;
    const char *want;
};

static int rstate_is(void *ud)
{
    struct rstate_want *w = ud;
    return !strcmp(extra_str(w->t, w->node, "ring_state"), w->want);
}

/* Does node i hold key with value (its status data)? */
static int holds(struct tc *t, int i, const char *key, const char *value)
{
    json_t *st = sim_status(t->s, i);
    const char *v = json_string_value(json_object_get(json_object_get(st, "data"), key));
    int ok = v && !strcmp(v, value);
    json_decref(st);
    return ok;
}

/* Writes keys kP..kQ-1 (value "vK") through rotating coordinators among the first `among`
 * nodes, skipping node `skip`; asserts each acknowledged. */
static void write_range(struct tc *t, const char *prefix, int from, int to, int among, int skip)
{
    for (int k = from; k < to; k++) {
        char key[16], val[16];
        snprintf(key, sizeof key, "%s%d", prefix, k);
        snprintf(val, sizeof val, "v%d", k);
        int node = k % among;
        if (node == skip)
            node = (node + 1) % among;
        put_ok(t, node, key, val, NULL);
    }
}

/* Every key reads back (r=2) with its value, through nodes other than skip. */
static void read_back(struct tc *t, const char *prefix, int from, int to, int among, int skip)
{
    for (int k = from; k < to; k++) {
        char key[16], val[16];
        snprintf(key, sizeof key, "%s%d", prefix, k);
        snprintf(val, sizeof val, "v%d", k);
        int node = (k * 7) % among;
        if (node == skip)
            node = (node + 1) % among;
        char *v = get_val(t, node, key, NULL);
        ck_assert_msg(v && !strcmp(v, val), "seed %" PRIu64 ": acknowledged write %s=%s read back as %s @n%d", t->seed,
                      key, val, v ? v : "nil", node + 1);
        free(v);
    }
}

START_TEST(a_joiner_streams_its_ranges_from_the_current_owners_and_no_acknowledged_write_is_lost)
{
    /* anti-entropy off: the joiner's keys can only come by the stream */
    uint64_t seed = 91 + (uint64_t)_i;
    struct tc *t = tc_new(4, "membership=swim join=n5 ae_interval=0", seed);
    fixture_run(t->x, 500 * MS);
    write_range(t, "a", 0, 120, 4, -1);
    int n5 = sim_add_node(t->s);
    ck_assert_int_eq(n5, 4);
    fixture_run(t->x, 1000);
    ck_assert_str_eq(extra_str(t, n5, "ring_state"), "joining");
    /* writes go on while it joins */
    write_range(t, "b", 0, 60, 4, -1);
    struct rstate_want w = {t, n5, "normal"};
    uint64_t t0 = sim_now(t->s);
    ck_assert_msg(fixture_run_until(t->x, 20 * SEC, rstate_is, &w), "seed %" PRIu64 ": n5 still %s", seed,
                  extra_str(t, n5, "ring_state"));
    await_views(t, "n5", "alive", 10 * SEC);
    if (_i == 0)
        printf("join: n5 streamed its ranges in %.2f s (virtual); %d stream events\n", (sim_now(t->s) - t0) / 1e6,
               fixture_count(t->x, "stream", NULL, NULL));
    /* every node's ring, from its own view, has the five members */
    for (int i = 0; i <= n5; i++)
        ck_assert_str_eq(extra_str(t, i, "ring"), "5 nodes x 8 vnodes");
    /* the joiner holds every key written before it came of which it is a replica */
    struct ring *r5 = ring_new(5, 8);
    int mine = 0;
    for (int k = 0; k < 120; k++) {
        char key[16], val[16];
        snprintf(key, sizeof key, "a%d", k);
        snprintf(val, sizeof val, "v%d", k);
        if (!(ring_owners(r5, hash_str(key), 3) & (1u << n5)))
            continue;
        mine++;
        ck_assert_msg(holds(t, n5, key, val), "seed %" PRIu64 ": n5 replicates %s but did not get it by the stream",
                      seed, key);
    }
    ring_destroy(&r5);
    ck_assert_int_gt(mine, 10);
    fixture_run(t->x, 1 * SEC);
    read_back(t, "a", 0, 120, 5, -1);
    read_back(t, "b", 0, 60, 5, -1);
    FIXTURE_OK(t->x);
    tc_free(t);
}
END_TEST

START_TEST(decommission_streams_the_leavers_ranges_to_their_new_owners_and_every_view_drops_it)
{
    uint64_t seed = 95 + (uint64_t)_i;
    struct tc *t = tc_new(5, "membership=swim ae_interval=0", seed);
    fixture_run(t->x, 500 * MS);
    write_range(t, "a", 0, 120, 5, -1);
    char n3[] = "n3", *argv[] = {n3};
    json_t *r = sim_command(t->s, 2, "decommission", 1, argv);
    ck_assert_msg(json_is_true(json_object_get(r, "ok")), "decommission n3: %s",
                  json_string_value(json_object_get(r, "text")));
    json_decref(r);
    uint64_t t0 = sim_now(t->s);
    /* writes go on while it leaves (not through it) */
    write_range(t, "b", 0, 60, 5, 2);
    struct rstate_want w = {t, 2, "left"};
    ck_assert_msg(fixture_run_until(t->x, 20 * SEC, rstate_is, &w), "seed %" PRIu64 ": n3 still %s", seed,
                  extra_str(t, 2, "ring_state"));
    await_views(t, "n3", "left", 10 * SEC);
    if (_i == 0)
        printf("decommission: n3 streamed its ranges out and every view holds it left %.2f s (virtual) after `decommission`\n",
               (sim_now(t->s) - t0) / 1e6);
    for (int i = 0; i < 5; i++)
        if (i != 2)
            ck_assert_str_eq(extra_str(t, i, "ring"), "4 nodes x 8 vnodes");
    /* every new replica of every key n3 held has it, without anti-entropy */
    int member[5] = {1, 1, 0, 1, 1};
    struct ring *r4 = ring_new_of(5, member, 8);
    for (int k = 0; k < 120; k++) {
        char key[16], val[16];
        snprintf(key, sizeof key, "a%d", k);
        snprintf(val, sizeof val, "v%d", k);
        uint32_t owners = ring_owners(r4, hash_str(key), 3);
        for (int i = 0; i < 5; i++)
            if (owners & (1u << i))
                ck_assert_msg(holds(t, i, key, val), "seed %" PRIu64 ": n%d replicates %s after the decommission but lacks it",
                              seed, i + 1, key);
    }
    ring_destroy(&r4);
    /* the leaver takes no write any more; the others answer every key */
    read_back(t, "a", 0, 120, 5, 2);
    read_back(t, "b", 0, 60, 5, 2);
    write_range(t, "c", 0, 20, 5, 2);
    read_back(t, "c", 0, 20, 5, 2);
    FIXTURE_OK(t->x);
    tc_free(t);
}
END_TEST

START_TEST(decommission_is_refused_without_swim_or_below_n_members)
{
    struct tc *t = tc_new(3, "", 97);
    char n2[] = "n2", *argv[] = {n2};
    json_t *r = sim_command(t->s, 1, "decommission", 1, argv);
    ck_assert(!json_is_true(json_object_get(r, "ok")));
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(r, "text")), "membership=swim"));
    json_decref(r);
    tc_free(t);
    t = tc_new(3, "membership=swim", 98);
    fixture_run(t->x, 200 * MS);
    r = sim_command(t->s, 1, "decommission", 1, argv);
    ck_assert(!json_is_true(json_object_get(r, "ok")));
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(r, "text")), "n=3"));
    json_decref(r);
    tc_free(t);
}
END_TEST

Suite *suite_leaderless(void);
Suite *suite_leaderless(void)
{
    Suite *s = suite_create("leaderless");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, impossible_n_w_r_is_refused_with_the_rule_it_breaks, 0, (int)CL_ARRAY_LEN(bad_opts));
    tcase_add_test(tc, gossip_membership_marks_a_crashed_node_dead_everywhere_and_a_restarted_one_alive);
    tcase_add_test(tc, swim_membership_takes_in_a_new_node_when_its_alive_arrives);
    tcase_add_test(tc, swim_membership_refuses_a_bad_probe);
    tcase_add_loop_test(tc, a_joiner_streams_its_ranges_from_the_current_owners_and_no_acknowledged_write_is_lost, 0, 3);
    tcase_add_loop_test(tc, decommission_streams_the_leavers_ranges_to_their_new_owners_and_every_view_drops_it, 0, 3);
    tcase_add_test(tc, decommission_is_refused_without_swim_or_below_n_members);
    tcase_add_loop_test(tc, bad_client_requests_get_an_error_naming_the_problem, 0,
                        (int)CL_ARRAY_LEN(bad_requests));
    tcase_add_test(tc, garbage_from_peers_and_clients_posing_as_peers_is_dropped);
    tcase_add_loop_test(tc, malformed_peer_messages_are_dropped_and_the_node_keeps_serving, 0,
                        (int)CL_ARRAY_LEN(bad_peer));
    tcase_add_test(tc, ring_names_the_same_n_distinct_replicas_on_every_node);
    tcase_add_test(tc, q1_strict_read_sees_write_with_one_replica_down);
    tcase_add_test(tc, with_w_plus_r_above_n_every_read_returns_the_latest_acked_write);
    tcase_add_test(tc, with_w_plus_r_at_most_n_some_seed_reads_stale);
    tcase_add_test(tc, q2_weak_config_reads_stale_when_replication_is_delayed);
    tcase_add_test(tc, q3_read_repair_brings_every_contacted_replica_up_to_date);
    tcase_add_test(tc, background_read_repair_replies_sooner_and_off_never_repairs);
    tcase_add_test(tc, only_a_sloppy_quorum_reaches_w_through_a_stand_in);
    tcase_add_test(tc, q4_hint_is_kept_across_a_restart_and_deleted_only_after_the_owner_acks);
    tcase_add_test(tc, q5_sloppy_write_succeeds_on_stand_ins_and_a_read_through_the_owners_misses_it);
    tcase_add_test(tc, q6_concurrent_writes_become_siblings_and_a_merge_write_supersedes_them);
    tcase_add_test(tc, with_vector_clocks_no_concurrent_write_is_lost);
    tcase_add_test(tc, lww_under_clock_skew_loses_the_later_update);
    tcase_add_test(tc, after_heal_and_quiet_replicas_converge_and_no_acked_write_is_lost);
    tcase_add_test(tc, with_vector_clocks_replicas_converge_and_keep_every_acked_write);
    tcase_add_test(tc, a_node_added_to_the_ring_receives_its_keys_through_anti_entropy);
    tcase_add_test(tc, anti_entropy_repairs_a_replica_that_missed_writes);
    tcase_add_test(tc, a_hint_reaches_its_node_once_the_node_returns);
    tcase_add_test(tc, a_quorum_not_reached_fails_with_error_11_naming_who_answered);
    tcase_add_test(tc, deletes_leave_tombstones_that_are_collected_after_the_grace_period);
    tcase_add_test(tc, acked_writes_survive_a_crash_of_every_node);
    tcase_add_test(tc, bug_unsynced_ack_loses_acked_writes_in_a_crash);
    tcase_add_test(tc, bug_hint_delete_on_send_loses_the_write_for_a_down_owner);
    tcase_add_test(tc, same_seed_gives_the_same_trace);
    tcase_add_test(tc, anti_entropy_repairs_ten_thousand_divergent_keys);
    tcase_add_test(tc, hints_are_listed_by_the_stand_in_that_keeps_them);
    tcase_add_test(tc, a_sessions_later_write_supersedes_its_earlier_ones);
    tcase_add_test(tc, writes_on_both_sides_of_a_partition_are_siblings_without_the_value_they_replaced);
    suite_add_tcase(s, tc);
    return s;
}
