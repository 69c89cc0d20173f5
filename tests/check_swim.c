/* check_swim — the swim mode in the simulator (scenario G4 of SCENARIOS.md, and G3 for
 * membership): a crashed member is held dead by every live member within a bound
 * (completeness; the time is printed); no suspicion at all without faults (accuracy); a paused
 * member is suspected, refutes with a higher incarnation and is alive again; a partition heals
 * into one view; a restarted member rejoins above its old incarnation; each bug toggle is caught
 * (no-indirect: more false positives under loss; no-refute: a paused member stays dead;
 * no-incarnation: Resurrection); bad messages are dropped with an error event.
 * The live monitor (swimmon.c) checks every step of every run. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "fixture.h"
#include "swim.h"
#include "test_util.h"

extern const struct mode mode_swim;

/* Tells the monitor about a process fault, as the lab would. */
static void fault(struct fixture *f, const char *what, int idx)
{
    char id[CL_IDLEN];
    node_name(idx, id);
    json_t *ev = json_pack("{s:I,s:s,s:s,s:s}", "t", (json_int_t)sim_now(f->s), "node", "lab", "ev", "fault", "what",
                           what, "target", id);
    mode_swim.monitor->feed(f->mon, ev, NULL);
    json_decref(ev);
}

static void crash(struct fixture *f, int idx)
{
    sim_crash(f->s, idx);
    fault(f, "crash", idx);
}

static void restart(struct fixture *f, int idx)
{
    sim_restart(f->s, idx);
    fault(f, "restart", idx);
}

static void pause_node(struct fixture *f, int idx)
{
    sim_pause(f->s, idx);
    fault(f, "pause", idx);
}

static void resume_node(struct fixture *f, int idx)
{
    sim_resume(f->s, idx);
    fault(f, "resume", idx);
}

struct want {
    struct fixture *f;
    int idx;
    const char *status;
};

static int all_hold(void *ud)
{
    struct want *w = ud;
    int others;
    return swimmon_count(w->f->mon, w->idx, w->status, &others) == others && others > 0;
}

static int some_hold(void *ud)
{
    struct want *w = ud;
    int others;
    return swimmon_count(w->f->mon, w->idx, w->status, &others) > 0;
}

START_TEST(g4_a_crashed_member_is_held_dead_by_every_live_member_within_the_bound)
{
    static const int sizes[] = {4, 8, 16};
    for (size_t s = 0; s < CL_ARRAY_LEN(sizes); s++) {
        int n = sizes[s];
        uint64_t worst = 0, sum = 0;
        for (uint64_t seed = 1; seed <= 5; seed++) {
            struct fixture *f = fixture_new(&mode_swim, n, "period=200ms timeout=60ms suspect=1s", seed);
            fixture_run(f, 1000000);
            crash(f, 1);
            struct want w = {f, 1, "dead"};
            /* every member probes n2 within 2(N-1) periods (round-robin); then the suspicion
             * timeout; then the news spreads in O(log N) periods */
            uint64_t bound = (uint64_t)(2 * (n - 1)) * 200000 + 1000000 + 3000000;
            ck_assert_msg(fixture_run_until(f, bound, all_hold, &w), "N=%d seed %llu: n2 not dead everywhere", n,
                          (unsigned long long)seed);
            uint64_t t = swimmon_detect_us(f->mon, 1);
            sum += t;
            if (t > worst)
                worst = t;
            int fs, fd;
            swimmon_false_positives(f->mon, &fs, &fd);
            ck_assert_int_eq(fs + fd, 0);
            FIXTURE_OK(f);
            fixture_free(&f);
        }
        printf("G4 N=%-2d crash detected by all in %.0fms mean, %.0fms worst (period 200ms, suspect 1s)\n", n,
               (double)sum / 5000, (double)worst / 1000);
    }
}
END_TEST

START_TEST(g4_no_member_is_suspected_without_faults)
{
    struct fixture *f = fixture_new(&mode_swim, 8, "", 9);
    fixture_run(f, 20000000);
    int fs, fd;
    swimmon_false_positives(f->mon, &fs, &fd);
    ck_assert_int_eq(fs, 0);
    ck_assert_int_eq(fd, 0);
    FIXTURE_OK(f);
    fixture_free(&f);
}
END_TEST

START_TEST(g4_a_paused_member_is_suspected_then_refutes_and_is_alive_again)
{
    struct fixture *f = fixture_new(&mode_swim, 6, "suspect=3s", 4);
    fixture_run(f, 1000000);
    pause_node(f, 4);
    struct want s = {f, 4, "suspect"};
    ck_assert(fixture_run_until(f, 5000000, some_hold, &s));
    resume_node(f, 4);
    struct want a = {f, 4, "alive"};
    ck_assert(fixture_run_until(f, 5000000, all_hold, &a));
    json_t *st = sim_status(f->s, 4);
    ck_assert_int_ge(json_integer_value(json_object_get(st, "inc")), 1); /* it refuted */
    json_decref(st);
    FIXTURE_OK(f);
    fixture_free(&f);
}
END_TEST

START_TEST(a_member_paused_past_the_suspicion_is_dead_then_refutes_on_resume)
{
    struct fixture *f = fixture_new(&mode_swim, 6, "suspect=500ms", 4);
    fixture_run(f, 1000000);
    pause_node(f, 4);
    struct want d = {f, 4, "dead"};
    ck_assert(fixture_run_until(f, 10000000, all_hold, &d));
    resume_node(f, 4);
    struct want a = {f, 4, "alive"};
    ck_assert(fixture_run_until(f, 10000000, all_hold, &a));
    FIXTURE_OK(f);
    fixture_free(&f);
}
END_TEST

START_TEST(g3_after_a_partition_heals_every_view_converges)
{
    struct fixture *f = fixture_new(&mode_swim, 6, "suspect=500ms", 2);
    char err[128];
    fixture_run(f, 1000000);
    ck_assert_int_eq(faults_partition(sim_faults(f->s), "n1,n2,n3 | n4,n5,n6", err, sizeof err), 0);
    struct want d = {f, 0, "dead"};
    ck_assert(fixture_run_until(f, 15000000, some_hold, &d));
    fixture_run(f, 5000000);
    faults_heal(sim_faults(f->s));
    for (int i = 0; i < 6; i++) {
        struct want a = {f, i, "alive"};
        ck_assert_msg(fixture_run_until(f, 20000000, all_hold, &a), "n%d not alive everywhere after the heal", i + 1);
    }
    FIXTURE_OK(f);
    fixture_free(&f);
}
END_TEST

START_TEST(a_restarted_member_rejoins_above_its_old_incarnation)
{
    struct fixture *f = fixture_new(&mode_swim, 5, "suspect=500ms", 3);
    fixture_run(f, 1000000);
    crash(f, 2);
    struct want d = {f, 2, "dead"};
    ck_assert(fixture_run_until(f, 15000000, all_hold, &d));
    restart(f, 2);
    struct want a = {f, 2, "alive"};
    ck_assert(fixture_run_until(f, 15000000, all_hold, &a));
    json_t *st = sim_status(f->s, 2);
    ck_assert_int_ge(json_integer_value(json_object_get(st, "inc")), 1);
    json_decref(st);
    FIXTURE_OK(f);
    fixture_free(&f);
}
END_TEST

static int false_positives(const char *opts, uint64_t seed)
{
    struct fixture *f = fixture_new(&mode_swim, 8, opts, seed);
    faults_set_loss(sim_faults(f->s), -1, -1, 0.2);
    fixture_run(f, 20000000);
    int fs, fd;
    swimmon_false_positives(f->mon, &fs, &fd);
    FIXTURE_OK(f);
    fixture_free(&f);
    return fs;
}

START_TEST(bug_no_indirect_suspects_more_members_under_loss)
{
    int with = 0, without = 0;
    for (uint64_t seed = 1; seed <= 3; seed++) {
        with += false_positives("suspect=2s", seed);
        without += false_positives("suspect=2s bug=no-indirect", seed);
    }
    printf("20%% loss, N=8, 3 x 20s: %d false suspicions with ping-req, %d without\n", with, without);
    ck_assert_msg(without > 2 * with, "without ping-req %d, with %d", without, with);
}
END_TEST

START_TEST(bug_no_refute_leaves_a_paused_member_dead_for_good)
{
    struct fixture *f = fixture_new(&mode_swim, 6, "suspect=500ms bug=no-refute", 4);
    fixture_run(f, 1000000);
    pause_node(f, 4);
    struct want d = {f, 4, "dead"};
    ck_assert(fixture_run_until(f, 10000000, all_hold, &d));
    resume_node(f, 4);
    struct want a = {f, 4, "alive"};
    ck_assert(!fixture_run_until(f, 10000000, some_hold, &a));
    FIXTURE_OK(f);
    fixture_free(&f);
}
END_TEST

START_TEST(bug_no_incarnation_is_caught_as_resurrection)
{
    struct fixture *f = fixture_new(&mode_swim, 6, "suspect=500ms bug=no-incarnation", 4);
    fixture_run(f, 1000000);
    pause_node(f, 4);
    struct want d = {f, 4, "dead"};
    ck_assert(fixture_run_until(f, 10000000, some_hold, &d));
    resume_node(f, 4);
    fixture_run(f, 10000000);
    ck_assert_msg(strstr(f->fail, "Resurrection"), "no Resurrection: '%s'", f->fail);
    fixture_free(&f);
}
END_TEST

START_TEST(bad_messages_are_dropped_with_an_error_event)
{
    static const char *const names[] = {"error", "member", NULL};
    struct fixture *f = fixture_new(&mode_swim, 3, "", 1);
    fixture_keep(f, names);
    fixture_run(f, 500000);
    static const char *const bad[] = {
        "{\"type\":\"probe\"}",
        "{\"type\":\"probe\",\"seq\":-1}",
        "{\"type\":\"probe\",\"seq\":1,\"updates\":[{\"m\":\"n1\",\"s\":\"zombie\",\"i\":1}]}",
        "{\"type\":\"probe\",\"seq\":1,\"updates\":[{\"m\":\"n99\",\"s\":\"dead\",\"i\":1}]}",
        "{\"type\":\"probe\",\"seq\":1,\"updates\":[{\"m\":\"n1\",\"s\":\"dead\"}]}",
        "{\"type\":\"probe_req\",\"seq\":1,\"target\":\"n2\"}",
        "{\"type\":\"probe_req\",\"seq\":1,\"target\":\"n9\"}",
        "{\"type\":\"probe_ack\",\"seq\":\"x\"}",
    };
    for (size_t i = 0; i < CL_ARRAY_LEN(bad); i++) {
        json_t *b = json_loads(bad[i], 0, NULL);
        ck_assert_ptr_nonnull(b);
        sim_client_send(f->s, 1, "n3", b);
        fixture_run(f, 5000);
    }
    ck_assert_int_ge(fixture_count(f, "error", NULL, NULL), 6);
    ck_assert_int_eq(fixture_count(f, "member", NULL, NULL), 0);
    fixture_run(f, 5000000);
    int fs, fd;
    swimmon_false_positives(f->mon, &fs, &fd);
    ck_assert_int_eq(fs + fd, 0);
    FIXTURE_OK(f);
    fixture_free(&f);
}
END_TEST

START_TEST(timeout_must_fit_in_the_period)
{
    char err[256];
    struct fixture *f = fixture_try_new(&mode_swim, 3, "period=100ms timeout=100ms", 1, err, sizeof err);
    ck_assert_ptr_null(f);
    ck_assert_ptr_nonnull(strstr(err, "timeout < period"));
}
END_TEST

START_TEST(lifeguard_slows_a_struggling_members_probing)
{
    /* under heavy loss a member's own probes fail; with lhm=on its local health score rises */
    struct fixture *f = fixture_new(&mode_swim, 6, "lhm=on suspect=3s", 5);
    faults_set_loss(sim_faults(f->s), 0, -1, 0.9);
    fixture_run(f, 10000000);
    json_t *st = sim_status(f->s, 0);
    ck_assert_int_gt(json_integer_value(json_object_get(st, "lhm")), 0);
    json_decref(st);
    FIXTURE_OK(f);
    fixture_free(&f);
}
END_TEST

Suite *suite_swim(void);
Suite *suite_swim(void)
{
    Suite *s = suite_create("swim");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, g4_a_crashed_member_is_held_dead_by_every_live_member_within_the_bound);
    tcase_add_test(tc, g4_no_member_is_suspected_without_faults);
    tcase_add_test(tc, g4_a_paused_member_is_suspected_then_refutes_and_is_alive_again);
    tcase_add_test(tc, a_member_paused_past_the_suspicion_is_dead_then_refutes_on_resume);
    tcase_add_test(tc, g3_after_a_partition_heals_every_view_converges);
    tcase_add_test(tc, a_restarted_member_rejoins_above_its_old_incarnation);
    tcase_add_test(tc, bug_no_indirect_suspects_more_members_under_loss);
    tcase_add_test(tc, bug_no_refute_leaves_a_paused_member_dead_for_good);
    tcase_add_test(tc, bug_no_incarnation_is_caught_as_resurrection);
    tcase_add_test(tc, bad_messages_are_dropped_with_an_error_event);
    tcase_add_test(tc, timeout_must_fit_in_the_period);
    tcase_add_test(tc, lifeguard_slows_a_struggling_members_probing);
    suite_add_tcase(s, tc);
    return s;
}
