/* check_gossipscale — the gossip and swim modes on many real node processes, through the lab's
 * own API: 32 gossip nodes spread a rumor to everyone and agree, 24 swim members all hold a
 * crashed one dead (every `make check`); and, under CONLAB_FULL (`make check-full`), 100 gossip
 * nodes start in under 10 s, spread a rumor within 2·(log2 N + ln N) rounds, and 100 swim
 * members detect a crash. Skipped where real processes are not allowed (valgrind). */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab.h"
#include "test_util.h"

struct seen {
    char last[1024];
};

static void on_output(void *ud, const char *text)
{
    struct seen *s = ud;
    str_copy(s->last, text, sizeof s->last);
}

static int lab_up(struct lab *lab, struct seen *s)
{
    const char *bin = getenv("CONLAB_BIN");
    char node[512];
    snprintf(node, sizeof node, "%s/conlab-node", bin ? bin : "bin");
    setenv("CONLAB_NODE", node, 1);
    char err[256];
    ck_assert_int_eq(lab_init(lab, "conlab", err, sizeof err), 0);
    struct lab_hooks h = {.ud = s, .on_output = on_output};
    lab_add_hooks(lab, &h);
    return 0;
}

/* Starts n nodes of mode with "k=v …" options; returns the start's wall time in ms. */
static double start(struct lab *lab, struct seen *s, const char *mode, int n, const char *optstr)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "start %s %d %s", mode, n, optstr);
    uint64_t t0 = mono_us();
    ck_assert_msg(lab_exec(lab, cmd) == 0, "%s: %s", cmd, s->last);
    return (double)(mono_us() - t0) / 1000;
}

static void run(struct lab *lab, struct seen *s, const char *cmd)
{
    ck_assert_msg(lab_exec(lab, cmd) == 0, "%s: %s", cmd, s->last);
}

/* The rounds in "all N nodes after R rounds …". */
static int rounds_of(const char *text)
{
    const char *p = strstr(text, " after ");
    return p ? atoi(p + 7) : -1;
}

START_TEST(thirty_two_gossip_nodes_spread_a_rumor_and_twenty_four_swim_members_detect_a_crash)
{
    if (!test_procs_allowed())
        return;
    struct lab lab;
    struct seen s = {0};
    lab_up(&lab, &s);
    double ms = start(&lab, &s, "gossip", 32, "style=push-pull events=state auth=off");
    run(&lab, &s, "rumor n7 hello");
    run(&lab, &s, "wait rumor hello 120s");
    int r = rounds_of(s.last);
    printf("32 gossip nodes: started in %.0f ms; %s\n", ms, s.last);
    ck_assert_int_gt(r, 0);
    ck_assert_msg(r <= 2 * (log2(32) + log(32)) + 4, "%d rounds", r);
    run(&lab, &s, "expect converged");
    run(&lab, &s, "stop");
    ms = start(&lab, &s, "swim", 24, "events=state auth=off");
    run(&lab, &s, "wait 1s");
    run(&lab, &s, "crash n9");
    run(&lab, &s, "wait dead n9 120s");
    printf("24 swim members: started in %.0f ms; %s\n", ms, s.last);
    run(&lab, &s, "stop");
    lab_destroy(&lab);
}
END_TEST

START_TEST(a_hundred_real_nodes_start_in_under_ten_seconds_spread_and_detect)
{
    if (!test_procs_allowed() || !getenv("CONLAB_FULL"))
        return;
    struct lab lab;
    struct seen s = {0};
    lab_up(&lab, &s);
    double ms = start(&lab, &s, "gossip", 100, "style=push events=state auth=off");
    ck_assert_msg(ms < 10000, "100 nodes took %.0f ms to start", ms);
    run(&lab, &s, "rumor n1 hello");
    run(&lab, &s, "wait rumor hello 300s");
    int r = rounds_of(s.last);
    printf("100 gossip nodes: started in %.0f ms; %s\n", ms, s.last);
    ck_assert_msg(r > 0 && r <= 2 * (log2(100) + log(100)), "%d rounds", r);
    run(&lab, &s, "expect converged");
    run(&lab, &s, "stop");
    ms = start(&lab, &s, "swim", 100, "events=state auth=off");
    ck_assert_msg(ms < 10000, "100 swim members took %.0f ms to start", ms);
    run(&lab, &s, "wait 2s");
    run(&lab, &s, "crash n42");
    run(&lab, &s, "wait dead n42 300s");
    printf("100 swim members: started in %.0f ms; %s\n", ms, s.last);
    run(&lab, &s, "stop");
    lab_destroy(&lab);
}
END_TEST

START_TEST(idle_lazy_peer_connections_close_and_reopen_at_the_next_message)
{
    if (!test_procs_allowed())
        return;
    struct lab lab;
    struct seen s = {0};
    lab_up(&lab, &s);
    start(&lab, &s, "gossip", 12, "style=push-pull events=state auth=off peers=lazy peer_idle=300ms ae=0");
    run(&lab, &s, "rumor n1 hello");
    run(&lab, &s, "wait rumor hello 120s");
    run(&lab, &s, "wait 2s");
    /* quiet since (no anti-entropy, the rumor dead): the connections it made are closed */
    json_t *st[CL_MAXNODES] = {0};
    lab_refresh(&lab, st);
    long closed = 0, open = 0;
    for (int i = 0; i < 12; i++) {
        closed += (long)json_integer_value(json_object_get(st[i], "peer_sockets_closed"));
        open += (long)json_integer_value(json_object_get(st[i], "peer_sockets_open"));
        json_decref(st[i]);
    }
    printf("12 gossip nodes, peers=lazy peer_idle=300ms: %ld idle peer sockets closed, %ld open 2 s after the rumor\n",
           closed, open);
    ck_assert_int_gt(closed, 0);
    /* reopened at the next message: a second rumor reaches everyone */
    run(&lab, &s, "rumor n5 again");
    run(&lab, &s, "wait rumor again 120s");
    run(&lab, &s, "stop");
    lab_destroy(&lab);
}
END_TEST

Suite *suite_gossipscale(void);
Suite *suite_gossipscale(void)
{
    Suite *s = suite_create("gossipscale");
    TCase *tc = tcase_create("real");
    tcase_set_timeout(tc, 900);
    tcase_add_test(tc, thirty_two_gossip_nodes_spread_a_rumor_and_twenty_four_swim_members_detect_a_crash);
    tcase_add_test(tc, a_hundred_real_nodes_start_in_under_ten_seconds_spread_and_detect);
    tcase_add_test(tc, idle_lazy_peer_connections_close_and_reopen_at_the_next_message);
    suite_add_tcase(s, tc);
    return s;
}
