/* check_spanner — TrueTime and commit-wait in the simulator (issue 15, the course's Q9): the
 * interval clock of the kit, the commit-wait (a write is acknowledged only once TT.after(s),
 * about 2ε after it began), external consistency and linearizability with clocks skewed
 * within ε (the monitor runs after every step), the bug toggle no-commit-wait caught by the
 * monitor on a fixed seed, a skew beyond ε caught even with commit-wait, majority writes and
 * recovery after crashes, refusal of bad input, and a sweep with loss, duplication and
 * reordering. */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clocks.h"
#include "fixture.h"
#include "mode.h"
#include "rng.h"
#include "sim.h"
#include "spanner.h"
#include "test_util.h"
#include "truetime.h"

#define SEC 1000000ull
#define MS 1000ull

extern const struct mode mode_spanner;

static const char *const kept[] = {"txn_begin", "commit_wait", "txn_commit", "apply", "error", "state", NULL};

static struct fixture *sp_new(int n, const char *spec, uint64_t seed)
{
    struct fixture *f = fixture_new(&mode_spanner, n, spec, seed);
    fixture_direct(f, 1);
    simclient_set_timeout(f->c, 0);
    fixture_keep(f, kept);
    return f;
}

static json_t *req(const char *type, const char *key, const char *value)
{
    json_t *b = json_pack("{s:s,s:s}", "type", type, "key", key);
    if (value)
        json_object_set_new(b, "value", json_string(value));
    return b;
}

static const char *rtype(const json_t *r)
{
    return r ? json_string_value(json_object_get(r, "type")) : "(no reply)";
}

/* put through node; returns the write's timestamp; *took the virtual time it took. */
static uint64_t put_ok(struct fixture *f, int node, const char *key, const char *value, uint64_t *took)
{
    uint64_t t0 = sim_now(f->s);
    json_t *r = fixture_call(f, node, req("write", key, value), 30 * SEC);
    char *d = r ? json_dumps(r, JSON_COMPACT) : NULL;
    ck_assert_msg(r && !strcmp(rtype(r), "write_ok"), "seed %" PRIu64 ": put %s %s @n%d: %s", f->seed, key, value,
                  node + 1, d ? d : "no reply");
    free(d);
    if (took)
        *took = sim_now(f->s) - t0;
    uint64_t ts = (uint64_t)json_integer_value(json_object_get(r, "ts"));
    json_decref(r);
    return ts;
}

/* get through node: the value (static buffer), or "nil" for key-does-not-exist. */
static const char *get_ok(struct fixture *f, int node, const char *key)
{
    static char buf[64];
    json_t *r = fixture_call(f, node, req("read", key, NULL), 30 * SEC);
    if (r && !strcmp(rtype(r), "error") && json_integer_value(json_object_get(r, "code")) == ERR_KEY_DOES_NOT_EXIST)
        snprintf(buf, sizeof buf, "nil");
    else {
        char *d = r ? json_dumps(r, JSON_COMPACT) : NULL;
        ck_assert_msg(r && !strcmp(rtype(r), "read_ok"), "seed %" PRIu64 ": get %s @n%d: %s", f->seed, key, node + 1,
                      d ? d : "no reply");
        free(d);
        snprintf(buf, sizeof buf, "%s", json_string_value(json_object_get(r, "value")));
    }
    json_decref(r);
    return buf;
}

/* A second monitor fed every event, for runs where a violation is the expected outcome. */
struct watch {
    void *mon;
    struct sb alerts;
    int violations;
};

static void watch_event(void *ud, const json_t *ev)
{
    struct watch *w = ud;
    if (spanner_monitor.feed(w->mon, ev, &w->alerts))
        w->violations++;
}

static void watch_start(struct fixture *f, struct watch *w)
{
    memset(w, 0, sizeof *w);
    w->mon = spanner_monitor.create();
    f->use_monitor = 0;
    fixture_watch(f, watch_event, NULL, w);
}

static void watch_end(struct watch *w)
{
    spanner_monitor.destroy(w->mon);
    sb_free(&w->alerts);
}

/* ---- the interval clock --------------------------------------------------------------- */

START_TEST(truetime_interval_brackets_the_clock_and_after_before_answer_certainly)
{
    struct tt_interval i = tt_at(1000000, 7000);
    ck_assert_uint_eq(i.earliest, 993000);
    ck_assert_uint_eq(i.latest, 1007000);
    ck_assert(tt_after(1000000, 7000, 992999));
    ck_assert(!tt_after(1000000, 7000, 993000));
    ck_assert(tt_before(1000000, 7000, 1007001));
    ck_assert(!tt_before(1000000, 7000, 1007000));
    /* commit-wait for s = latest now: 2ε + 1 µs of this clock */
    ck_assert_uint_eq(tt_wait_us(1000000, 7000, i.latest), 14001);
    ck_assert_uint_eq(tt_wait_us(1014001, 7000, i.latest), 0);
    ck_assert(tt_after(1000000 + tt_wait_us(1000000, 7000, i.latest), 7000, i.latest));
    /* never below 0, never wraps */
    ck_assert_uint_eq(tt_at(5, 7000).earliest, 0);
    ck_assert_uint_eq(tt_at(UINT64_MAX - 3, 7000).latest, UINT64_MAX);
    ck_assert_uint_eq(tt_at(42, 0).earliest, 42);
}
END_TEST

/* ---- commit-wait ----------------------------------------------------------------------- */

START_TEST(a_write_waits_out_twice_epsilon_before_it_is_acknowledged)
{
    static const uint64_t eps_ms[] = {1, 7, 50, 200};
    for (size_t k = 0; k < CL_ARRAY_LEN(eps_ms); k++) {
        char spec[64];
        snprintf(spec, sizeof spec, "epsilon=%" PRIu64 "ms", eps_ms[k]);
        struct fixture *f = sp_new(3, spec, 3);
        uint64_t took;
        put_ok(f, 0, "x", "1", &took);
        uint64_t eps = eps_ms[k] * MS;
        ck_assert_msg(took >= 2 * eps, "ε=%" PRIu64 "ms: the write took %" PRIu64 " µs, less than 2ε", eps_ms[k], took);
        ck_assert_msg(took < 2 * eps + 200 * MS, "ε=%" PRIu64 "ms: the write took %" PRIu64 " µs", eps_ms[k], took);
        const json_t *cw = fixture_find(f, "n1", "commit_wait");
        ck_assert_ptr_nonnull(cw);
        uint64_t w = (uint64_t)json_integer_value(json_object_get(cw, "wait_us"));
        ck_assert_msg(w > 2 * eps - 2 * MS && w <= 2 * eps + 1, "commit_wait wait_us %" PRIu64 " for ε %" PRIu64, w, eps);
        ck_assert_int_eq(json_integer_value(json_object_get(cw, "epsilon_us")), (json_int_t)eps);
        ck_assert_str_eq(get_ok(f, 2, "x"), "1");
        FIXTURE_OK(f);
        fixture_free(&f);
    }
}
END_TEST

START_TEST(a_read_at_a_node_that_missed_the_write_still_returns_it)
{
    struct fixture *f = sp_new(3, "epsilon=5ms", 4);
    faults_cut(sim_faults(f->s), 0, 2); /* n3 never hears n1's tt_write */
    put_ok(f, 0, "x", "a", NULL);
    ck_assert_str_eq(get_ok(f, 2, "x"), "a"); /* the majority read finds it, writes it back */
    json_t *st = sim_status(f->s, 2);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(st, "data"), "x")), "a");
    json_decref(st);
    ck_assert_str_eq(get_ok(f, 1, "nothing"), "nil");
    FIXTURE_OK(f);
    char why[512];
    ck_assert_msg(fixture_linearizable(f, why, sizeof why), "%s", why);
    fixture_free(&f);
}
END_TEST

/* ---- external consistency ------------------------------------------------------------- */

/* Skews within ±limit of true time on every node. */
static void skew_all(struct fixture *f, int64_t limit)
{
    struct rng *r = sim_rng(f->s);
    for (int i = 0; i < f->n; i++)
        sim_clocks(f->s, i)->skew_us = (int64_t)(rng_next(r) % (uint64_t)(2 * limit + 1)) - limit;
}

START_TEST(with_clocks_skewed_within_epsilon_timestamps_follow_real_time)
{
    int seeds = test_seeds(8);
    for (int s = 0; s < seeds; s++) {
        uint64_t seed = 50 + (uint64_t)s;
        struct fixture *f = sp_new(5, "epsilon=10ms", seed);
        skew_all(f, 10 * MS);
        struct rng *r = sim_rng(f->s);
        for (int k = 0; k < 40; k++) {
            char key[8], val[8];
            snprintf(key, sizeof key, "k%d", (int)(rng_next(r) % 3));
            snprintf(val, sizeof val, "v%d", k);
            int node = (int)(rng_next(r) % 5);
            if (rng_next(r) % 2)
                put_ok(f, node, key, val, NULL);
            else
                get_ok(f, node, key);
        }
        FIXTURE_OK(f);
        char why[512];
        ck_assert_msg(fixture_linearizable(f, why, sizeof why), "seed %" PRIu64 ": %s", seed, why);
        fixture_free(&f);
    }
}
END_TEST

/* n1's clock 9 ms ahead, n2's 9 ms behind, ε = 10 ms: both inside the bound. */
static struct fixture *skewed_pair(const char *spec, struct watch *w)
{
    struct fixture *f = sp_new(3, spec, 11);
    watch_start(f, w);
    sim_clocks(f->s, 0)->skew_us = 9 * (int64_t)MS;
    sim_clocks(f->s, 1)->skew_us = -9 * (int64_t)MS;
    return f;
}

START_TEST(bug_no_commit_wait_gives_a_later_write_an_earlier_timestamp_and_the_monitor_says_so)
{
    struct watch w;
    struct fixture *f = skewed_pair("epsilon=10ms bug=no-commit-wait", &w);
    uint64_t took;
    uint64_t s1 = put_ok(f, 0, "x", "1", &took);
    ck_assert_msg(took < 10 * MS, "no commit-wait, yet the write took %" PRIu64 " µs", took);
    uint64_t s2 = put_ok(f, 1, "x", "2", NULL); /* begins after x=1 was acknowledged */
    ck_assert_msg(s2 < s1, "s1 %" PRIu64 " s2 %" PRIu64, s1, s2);
    ck_assert_int_eq(w.violations, 1);
    ck_assert_msg(strstr(w.alerts.s, "ExternalConsistency: n2's write of x began") &&
                      strstr(w.alerts.s, "n1's write of x was acknowledged, yet got an earlier timestamp") &&
                      strstr(w.alerts.s, "without waiting out TrueTime's uncertainty"),
                  "%s", w.alerts.s);
    /* and the later write is lost: by timestamp, x=1 is newer */
    fixture_run(f, 50 * MS);
    ck_assert_str_eq(get_ok(f, 2, "x"), "1");
    char why[512];
    ck_assert(!fixture_linearizable(f, why, sizeof why));
    const json_t *cw = fixture_find(f, "n1", "commit_wait");
    ck_assert(json_is_true(json_object_get(cw, "skipped")));
    /* the mode's check reads the same monitor */
    struct sb out = {0};
    const struct mode_check *mc = mode_check_find(&mode_spanner, "external");
    ck_assert_ptr_nonnull(mc);
    ck_assert_int_eq(mc->run(w.mon, NULL, 0, &out), 1);
    ck_assert_msg(strstr(out.s, "external consistency violated (") != NULL, "%s", out.s);
    sb_free(&out);
    watch_end(&w);
    fixture_free(&f);
}
END_TEST

START_TEST(with_commit_wait_the_same_pair_is_ordered)
{
    struct watch w;
    struct fixture *f = skewed_pair("epsilon=10ms", &w);
    uint64_t s1 = put_ok(f, 0, "x", "1", NULL);
    uint64_t s2 = put_ok(f, 1, "x", "2", NULL);
    ck_assert_msg(s1 < s2, "s1 %" PRIu64 " s2 %" PRIu64, s1, s2);
    ck_assert_str_eq(get_ok(f, 2, "x"), "2");
    ck_assert_int_eq(w.violations, 0);
    struct sb out = {0};
    ck_assert_int_eq(mode_check_find(&mode_spanner, "external")->run(w.mon, NULL, 0, &out), 0);
    ck_assert_msg(strstr(out.s, "external consistency holds: 3 transactions") != NULL, "%s", out.s);
    sb_free(&out);
    char why[512];
    ck_assert_msg(fixture_linearizable(f, why, sizeof why), "%s", why);
    watch_end(&w);
    fixture_free(&f);
}
END_TEST

START_TEST(a_skew_beyond_epsilon_breaks_external_consistency_even_with_commit_wait)
{
    struct watch w;
    struct fixture *f = sp_new(3, "epsilon=2ms", 12);
    watch_start(f, &w);
    sim_clocks(f->s, 0)->skew_us = 30 * (int64_t)MS; /* far beyond ε */
    put_ok(f, 0, "x", "1", NULL);
    put_ok(f, 1, "x", "2", NULL);
    ck_assert_int_ge(w.violations, 1);
    ck_assert_msg(strstr(w.alerts.s, "ExternalConsistency") != NULL, "%s", w.alerts.s);
    watch_end(&w);
    fixture_free(&f);
}
END_TEST

START_TEST(the_monitor_flags_only_pairs_in_real_time_order)
{
    void *m = spanner_monitor.create();
    struct sb alert = {0};
#define EV(...) json_pack(__VA_ARGS__)
    json_t *evs[] = {
        EV("{s:s,s:s,s:i,s:i,s:I}", "ev", "txn_begin", "node", "n1", "id", 1, "seq", 1, "t", (json_int_t)100),
        EV("{s:s,s:s,s:i,s:i,s:I}", "ev", "txn_begin", "node", "n2", "id", 1, "seq", 1, "t", (json_int_t)150),
        /* concurrent with n1's: any order of timestamps is fine */
        EV("{s:s,s:s,s:i,s:i,s:I,s:s,s:s,s:I}", "ev", "txn_commit", "node", "n2", "id", 1, "seq", 2, "t",
           (json_int_t)300, "op", "write", "key", "x", "ts", (json_int_t)5000),
        EV("{s:s,s:s,s:i,s:i,s:I,s:s,s:s,s:I}", "ev", "txn_commit", "node", "n1", "id", 1, "seq", 2, "t",
           (json_int_t)200, "op", "write", "key", "x", "ts", (json_int_t)9000),
        /* begins after both: must be above 9000 */
        EV("{s:s,s:s,s:i,s:i,s:I}", "ev", "txn_begin", "node", "n3", "id", 7, "seq", 1, "t", (json_int_t)400),
        EV("{s:s,s:s,s:i,s:i,s:I,s:s,s:s,s:I}", "ev", "txn_commit", "node", "n3", "id", 7, "seq", 2, "t",
           (json_int_t)500, "op", "read", "key", "x", "ts", (json_int_t)9000),
    };
    int flagged = 0;
    for (size_t i = 0; i < CL_ARRAY_LEN(evs); i++) {
        flagged += spanner_monitor.feed(m, evs[i], &alert);
        json_decref(evs[i]);
    }
    ck_assert_int_eq(flagged, 1);
    ck_assert_int_eq(spanner_monitor.violations(m), 1);
    ck_assert_msg(strstr(alert.s, "n3's read of x began 0.200 ms after n1's write of x was acknowledged") != NULL, "%s",
                  alert.s);
    const json_t *last = spanner_monitor.last(m);
    ck_assert_str_eq(json_string_value(json_object_get(last, "name")), "ExternalConsistency");
    sb_free(&alert);
    spanner_monitor.destroy(m);
}
END_TEST

/* ---- faults ----------------------------------------------------------------------------- */

START_TEST(a_majority_commits_and_a_restarted_node_recovers_its_versions)
{
    struct fixture *f = sp_new(3, "epsilon=3ms", 5);
    sim_crash(f->s, 2);
    put_ok(f, 0, "x", "1", NULL);
    put_ok(f, 1, "y", "2", NULL);
    sim_restart(f->s, 2);
    fixture_run(f, 1 * SEC); /* the coordinators resend to n3 every retry */
    for (int i = 0; i < 3; i++) {
        sim_crash(f->s, i);
        sim_restart(f->s, i);
    }
    fixture_run(f, 10 * MS);
    for (int i = 0; i < 3; i++) {
        json_t *st = sim_status(f->s, i);
        json_t *d = json_object_get(st, "data");
        ck_assert_str_eq(json_string_value(json_object_get(d, "x")), "1");
        ck_assert_str_eq(json_string_value(json_object_get(d, "y")), "2");
        json_decref(st);
    }
    ck_assert_str_eq(get_ok(f, 2, "x"), "1");
    FIXTURE_OK(f);
    fixture_free(&f);
}
END_TEST

START_TEST(a_minority_cannot_commit_and_says_why)
{
    struct fixture *f = sp_new(3, "epsilon=3ms timeout=1s", 6);
    faults_isolate(sim_faults(f->s), 0);
    json_t *r = fixture_call(f, 0, req("write", "x", "1"), 10 * SEC);
    ck_assert_str_eq(rtype(r), "error");
    ck_assert_int_eq(json_integer_value(json_object_get(r, "code")), ERR_TEMPORARILY_UNAVAILABLE);
    ck_assert_msg(strstr(json_string_value(json_object_get(r, "text")), "1 of 3 replicas answered in time, a majority is 2"),
                  "%s", json_string_value(json_object_get(r, "text")));
    json_decref(r);
    faults_heal(sim_faults(f->s));
    ck_assert_str_eq(get_ok(f, 2, "x"), "1"); /* it kept replicating: an indefinite write */
    fixture_free(&f);
}
END_TEST

START_TEST(bad_client_requests_and_peer_garbage_are_refused_with_a_reason)
{
    struct fixture *f = sp_new(3, "", 8);
    json_t *r = fixture_call(f, 0, json_pack("{s:s,s:s}", "type", "write", "key", "x"), 5 * SEC);
    ck_assert_int_eq(json_integer_value(json_object_get(r, "code")), ERR_MALFORMED_REQUEST);
    ck_assert_msg(strstr(json_string_value(json_object_get(r, "text")), "value"), "%s",
                  json_string_value(json_object_get(r, "text")));
    json_decref(r);
    r = fixture_call(f, 0, json_pack("{s:s,s:[i]}", "type", "read", "key", 3), 5 * SEC); /* 3 is a key, [3] is not */
    ck_assert_int_eq(json_integer_value(json_object_get(r, "code")), ERR_MALFORMED_REQUEST);
    json_decref(r);
    /* peers' garbage: refused as an error event, the node keeps serving */
    json_t *bad[] = {
        json_pack("{s:s,s:i}", "type", "tt_write", "id", 1),
        json_pack("{s:s,s:i,s:s,s:s,s:i,s:s}", "type", "tt_write", "id", 1, "key", "x", "value", "v", "ts", 5, "writer",
                  "n99"),
        json_pack("{s:s,s:i,s:s,s:i}", "type", "tt_read", "id", 1, "key", "x", "at", -4),
        json_pack("{s:s,s:i,s:i}", "type", "tt_read_ok", "id", 1, "ts", 9),
        json_pack("{s:s,s:s}", "type", "tt_write_ok", "id", "x"),
    };
    for (size_t i = 0; i < CL_ARRAY_LEN(bad); i++)
        sim_client_send(f->s, 0, "n2", bad[i]);
    fixture_run(f, 10 * MS);
    ck_assert_int_ge(fixture_count(f, "error", NULL, NULL), (int)CL_ARRAY_LEN(bad));
    put_ok(f, 0, "x", "fine", NULL);
    ck_assert_str_eq(get_ok(f, 1, "x"), "fine");
    fixture_free(&f);
}
END_TEST

START_TEST(under_loss_duplication_and_reordering_histories_stay_linearizable_and_externally_consistent)
{
    int seeds = test_seeds(5);
    for (int s = 0; s < seeds; s++) {
        uint64_t seed = 300 + (uint64_t)s;
        struct fixture *f = sp_new(3, "epsilon=4ms retry=50ms timeout=20s", seed);
        skew_all(f, 4 * MS);
        struct faults *fa = sim_faults(f->s);
        faults_set_loss(fa, -1, -1, 0.2);
        faults_set_dup(fa, -1, -1, 0.1);
        faults_set_reorder(fa, -1, -1, 0.2);
        faults_set_delay(fa, -1, -1, 2 * MS, 8 * MS);
        simclient_set_timeout(f->c, 20 * SEC);
        struct rng *r = sim_rng(f->s);
        int procs[32], np = 0;
        for (int k = 0; k < 30; k++) {
            char key[8], val[8];
            snprintf(key, sizeof key, "k%d", (int)(rng_next(r) % 2));
            snprintf(val, sizeof val, "v%d", k);
            procs[np++] = fixture_invoke(f, (int)(rng_next(r) % 3), rng_next(r) % 2 ? "write" : "read", key, val, NULL);
            fixture_run(f, (rng_next(r) % 20) * MS);
        }
        for (int p = 0; p < np; p++)
            fixture_await(f, procs[p], 30 * SEC);
        FIXTURE_OK(f);
        char why[512];
        ck_assert_msg(fixture_linearizable(f, why, sizeof why), "seed %" PRIu64 ": %s", seed, why);
        fixture_free(&f);
    }
}
END_TEST

START_TEST(same_seed_gives_the_same_trace)
{
    uint64_t h[2];
    for (int k = 0; k < 2; k++) {
        struct fixture *f = sp_new(3, "epsilon=5ms", 77);
        sim_trace_hash_enable(f->s);
        put_ok(f, 0, "x", "1", NULL);
        get_ok(f, 2, "x");
        h[k] = sim_trace_hash(f->s);
        fixture_free(&f);
    }
    ck_assert_uint_eq(h[0], h[1]);
}
END_TEST

Suite *suite_spanner(void);
Suite *suite_spanner(void)
{
    Suite *s = suite_create("spanner");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, truetime_interval_brackets_the_clock_and_after_before_answer_certainly);
    tcase_add_test(tc, a_write_waits_out_twice_epsilon_before_it_is_acknowledged);
    tcase_add_test(tc, a_read_at_a_node_that_missed_the_write_still_returns_it);
    tcase_add_test(tc, with_clocks_skewed_within_epsilon_timestamps_follow_real_time);
    tcase_add_test(tc, bug_no_commit_wait_gives_a_later_write_an_earlier_timestamp_and_the_monitor_says_so);
    tcase_add_test(tc, with_commit_wait_the_same_pair_is_ordered);
    tcase_add_test(tc, a_skew_beyond_epsilon_breaks_external_consistency_even_with_commit_wait);
    tcase_add_test(tc, the_monitor_flags_only_pairs_in_real_time_order);
    tcase_add_test(tc, a_majority_commits_and_a_restarted_node_recovers_its_versions);
    tcase_add_test(tc, a_minority_cannot_commit_and_says_why);
    tcase_add_test(tc, bad_client_requests_and_peer_garbage_are_refused_with_a_reason);
    tcase_add_test(tc, under_loss_duplication_and_reordering_histories_stay_linearizable_and_externally_consistent);
    tcase_add_test(tc, same_seed_gives_the_same_trace);
    suite_add_tcase(s, tc);
    return s;
}
