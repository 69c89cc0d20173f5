/* check_speed — slow motion (`speed F` while a cluster runs). Timers follow the new pace at
 * once, armed ones included, while the nodes' clocks keep real time; a mode that measures on
 * its clock a window matching its timers (Raft's check-quorum and lease) must follow too, or
 * slowing down deposes every leader in turn (an election storm).
 *
 * In the simulator (sim_set_speed models the runtime: timers stretched, clocks and network
 * at their pace) virtual time is cheap: a minute of slow motion, then back to full speed, for
 * 3 and 5 nodes and several seeds. On real processes the lab sends `speed 0.1` to running
 * nodes and watches for role changes: no state event at all, one leader, the same term. The
 * window is 10 s of wall time (20 heartbeat rounds, 3 to 6 election timeouts and two
 * check-quorum windows at the slowed pace), 4 s under CONLAB_QUICK, a full minute under
 * CONLAB_FULL. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "lab.h"
#include "mode.h"
#include "sim.h"
#include "test_util.h"

#define MS 1000ull
#define SEC 1000000ull

/* ---- in the simulator --------------------------------------------------------------- */

struct watch {
    int role_changes;
    char last[160];
};

static void on_sim_event(void *ud, const json_t *ev)
{
    struct watch *w = ud;
    const char *e = json_string_value(json_object_get(ev, "ev"));
    if (!e || strcmp(e, "state"))
        return;
    w->role_changes++;
    char *t = json_dumps(ev, JSON_COMPACT);
    snprintf(w->last, sizeof w->last, "%s", t ? t : "");
    free(t);
}

/* The one leader and its term, or -1 when there is not exactly one. */
static int sim_leader(struct sim *s, int64_t *term)
{
    int who = -1, count = 0;
    for (int i = 0; i < sim_size(s); i++) {
        json_t *st = sim_status(s, i);
        const char *role = json_string_value(json_object_get(st, "role"));
        if (role && !strcmp(role, "leader")) {
            who = i;
            count++;
            *term = json_integer_value(json_object_get(st, "term"));
        }
        json_decref(st);
    }
    return count == 1 ? who : -1;
}

static void sim_slow_motion(int n, uint64_t seed)
{
    const struct mode *m = mode_find("raft");
    ck_assert_ptr_nonnull(m);
    struct opts o = {0};
    char err[256];
    struct sim *s = sim_new(m, n, &o, seed, err, sizeof err);
    ck_assert_msg(s != NULL, "%s", err);
    int64_t term = 0, t2 = 0;
    int leader = -1;
    for (int k = 0; k < 100 && leader < 0; k++) {
        sim_run_for(s, 100 * MS);
        leader = sim_leader(s, &term);
    }
    ck_assert_msg(leader >= 0, "seed %llu: no leader after 10 s", (unsigned long long)seed);
    sim_run_for(s, 500 * MS); /* settled: every follower has heard the leader */
    leader = sim_leader(s, &term);
    struct watch w = {0};
    sim_on_event(s, on_sim_event, &w);
    double speeds[] = {0.1, 0.05, 1, 0.25, 1};
    uint64_t spans[] = {60 * SEC, 10 * SEC, 5 * SEC, 10 * SEC, 5 * SEC};
    for (int p = 0; p < 5; p++) {
        sim_set_speed(s, speeds[p]);
        for (uint64_t t = 0; t < spans[p]; t += 100 * MS) {
            sim_run_for(s, 100 * MS);
            int now = sim_leader(s, &t2);
            ck_assert_msg(now == leader && t2 == term && w.role_changes == 0,
                          "seed %llu, %d nodes, speed %g, after %.1f s: leader n%d term %lld "
                          "(was n%d term %lld); role change: %s",
                          (unsigned long long)seed, n, speeds[p], (double)t / SEC, now + 1,
                          (long long)t2, leader + 1, (long long)term, w.last);
        }
    }
    sim_destroy(&s);
    opts_free(&o);
}

START_TEST(slow_motion_keeps_the_raft_leader_for_a_minute_in_the_simulator)
{
    for (int seed = 1; seed <= test_seeds(4); seed++) {
        sim_slow_motion(3, (uint64_t)seed);
        sim_slow_motion(5, (uint64_t)seed + 100);
    }
}
END_TEST

START_TEST(armed_timers_follow_a_speed_change_at_once)
{
    /* A follower armed its election timer at full speed; slowing to 0.1 must stretch it, so
     * a leader that stops sending heartbeats is noticed ten times later, not at the old pace. */
    const struct mode *m = mode_find("raft");
    struct opts o = {0};
    char err[256];
    struct sim *s = sim_new(m, 3, &o, 9, err, sizeof err);
    ck_assert_msg(s != NULL, "%s", err);
    int64_t term = 0, t2 = 0;
    int leader = -1;
    for (int k = 0; k < 100 && leader < 0; k++) {
        sim_run_for(s, 100 * MS);
        leader = sim_leader(s, &term);
    }
    ck_assert_int_ge(leader, 0);
    sim_run_for(s, 20 * MS);
    sim_set_speed(s, 0.1);
    sim_crash(s, leader);
    /* election timeouts are 150-300 ms at full speed: at 0.1 nobody may start one for 1.4 s */
    sim_run_for(s, 1400 * MS);
    for (int i = 0; i < 3; i++) {
        if (i == leader)
            continue;
        json_t *st = sim_status(s, i);
        ck_assert_int_eq(json_integer_value(json_object_get(st, "term")), term);
        json_decref(st);
    }
    sim_run_for(s, 10 * SEC); /* but within a few slowed timeouts a new leader wins */
    ck_assert_int_ge(sim_leader(s, &t2), 0);
    ck_assert_int_gt(t2, term);
    sim_destroy(&s);
    opts_free(&o);
}
END_TEST

/* ---- on real processes -------------------------------------------------------------- */

struct live_watch {
    int armed;
    int state_events;
    char last[200];
};

static void on_lab_event(void *ud, const struct event *tev)
{
    struct live_watch *w = ud;
    const json_t *ev = tev->json;
    const char *e = json_string_value(json_object_get(ev, "ev"));
    if (!w->armed || !e || strcmp(e, "state"))
        return;
    w->state_events++;
    char *t = json_dumps(ev, JSON_COMPACT);
    snprintf(w->last, sizeof w->last, "%s", t ? t : "");
    free(t);
}

static void quiet(void *ud, const char *text)
{
    (void)ud;
    (void)text;
}

static void real_slow_motion(int n, uint64_t watch_us)
{
    const char *bin = getenv("CONLAB_BIN");
    char node[512];
    snprintf(node, sizeof node, "%s/conlab-node", bin ? bin : "bin");
    setenv("CONLAB_NODE", node, 1);
    struct lab lab;
    char err[256];
    ck_assert_int_eq(lab_init(&lab, "conlab", err, sizeof err), 0);
    struct live_watch w = {0};
    struct lab_hooks h = {.ud = &w, .on_event = on_lab_event, .on_output = quiet};
    lab_add_hooks(&lab, &h);
    /* timers long enough that a busy machine (load 50+ on 2 cores) does not churn elections at
     * full speed; what is tested is that slow motion stretches every timer alike */
    struct opts o = {0};
    opts_set(&o, "election", "1s");
    opts_set(&o, "heartbeat", "100ms");
    ck_assert_int_eq(lab_start(&lab, "raft", n, &o), 0);
    ck_assert_int_eq(lab_exec(&lab, "wait leader"), 0);
    /* settle: every node agrees on one leader and term (polled, up to 20 s), then a little
     * longer so each follower has heard it; that is the reference */
    int leader = -1, now = -1;
    int64_t term = -1, t2 = -1;
    uint64_t end = mono_us() + 20 * SEC;
    while (mono_us() < end) {
        lab_pump(&lab, 200 * MS, -1);
        lab_refresh(&lab, NULL);
        if (lab_leader_agreed(&lab, &leader, &term))
            break;
    }
    ck_assert_msg(lab_leader_agreed(&lab, &leader, &term), "no leader agreed before the switch");
    w.armed = 1;
    ck_assert_int_eq(lab_exec(&lab, "speed 0.1"), 0);
    end = mono_us() + watch_us;
    while (mono_us() < end && !w.state_events)
        lab_pump(&lab, 250 * MS, -1);
    lab_refresh(&lab, NULL);
    int agreed = lab_leader_agreed(&lab, &now, &t2);
    ck_assert_msg(w.state_events == 0, "%d nodes at speed 0.1: a role changed: %s", n, w.last);
    ck_assert_msg(agreed && now == leader && t2 == term,
                  "%d nodes at speed 0.1: leader n%d term %lld, was n%d term %lld", n, now + 1,
                  (long long)t2, leader + 1, (long long)term);
    /* and back to full speed without an election either */
    ck_assert_int_eq(lab_exec(&lab, "speed 1"), 0);
    end = mono_us() + 1 * SEC;
    while (mono_us() < end && !w.state_events)
        lab_pump(&lab, 100 * MS, -1);
    ck_assert_msg(w.state_events == 0, "%d nodes back at speed 1: a role changed: %s", n, w.last);
    opts_free(&o);
    lab_destroy(&lab);
}

START_TEST(slow_motion_keeps_the_raft_leader_on_real_processes)
{
    if (!test_procs_allowed())
        return;
    uint64_t watch = getenv("CONLAB_FULL") ? 60 * SEC : getenv("CONLAB_QUICK") ? 4 * SEC : 10 * SEC;
    real_slow_motion(3, watch);
    real_slow_motion(5, watch);
}
END_TEST

Suite *suite_speed(void);
Suite *suite_speed(void)
{
    Suite *s = suite_create("speed");
    TCase *tc = tcase_create("sim");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, slow_motion_keeps_the_raft_leader_for_a_minute_in_the_simulator);
    tcase_add_test(tc, armed_timers_follow_a_speed_change_at_once);
    suite_add_tcase(s, tc);
    tc = tcase_create("real");
    tcase_set_timeout(tc, 200);
    tcase_add_test(tc, slow_motion_keeps_the_raft_leader_on_real_processes);
    suite_add_tcase(s, tc);
    return s;
}
