/* check_gossip — the gossip mode in the simulator (scenarios G1–G3 of SCENARIOS.md): a rumor
 * reaches every node within c·log2 N + k rounds for push, pull and push-pull (the rounds are
 * printed beside log2 N); push-pull and a wider fanout take fewer rounds; 30 % loss only adds
 * rounds; a partition keeps it on one side until the heal; the stop rule ends the traffic and
 * anti-entropy repairs push's residue; each bug toggle is caught (Integrity, Stability, or the
 * residue `wait rumor` reports); bad messages are dropped with an error event.
 * The live monitor (gossipmon.c) checks every step of every run. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "fixture.h"
#include "gossip.h"
#include "test_util.h"

extern const struct mode mode_gossip;

struct spread {
    struct fixture *f;
    const char *text;
};

static int all_hold(void *ud)
{
    struct spread *sp = ud;
    int h, live, hot;
    uint64_t r;
    return gossipmon_spread(sp->f->mon, sp->text, &h, &live, &r, &hot) == 0 && h == live;
}

static int none_hot(void *ud)
{
    struct spread *sp = ud;
    int h, live, hot;
    uint64_t r;
    return gossipmon_spread(sp->f->mon, sp->text, &h, &live, &r, &hot) == 0 && hot == 0;
}

static void rumor(struct fixture *f, int node, const char *text)
{
    char id[CL_IDLEN];
    node_name(node, id);
    char *argv[] = {id, (char *)text};
    json_t *r = sim_command(f->s, node, "rumor", 2, argv);
    ck_assert_msg(json_is_true(json_object_get(r, "ok")), "rumor refused: %s",
                  json_string_value(json_object_get(r, "text")));
    json_decref(r);
}

/* Starts n nodes, lets them boot, starts a rumor on n1 and runs until every node holds it.
 * Returns the rounds it took (the largest round any node learned it in), or -1. */
static int rounds_to_spread(int n, const char *opts, uint64_t seed, double loss)
{
    struct fixture *f = fixture_new(&mode_gossip, n, opts, seed);
    if (loss > 0)
        faults_set_loss(sim_faults(f->s), -1, -1, loss);
    fixture_run(f, 200000);
    rumor(f, 0, "hello");
    struct spread sp = {f, "hello"};
    int ok = fixture_run_until(f, 60000000, all_hold, &sp);
    FIXTURE_OK(f);
    int h, live, hot;
    uint64_t r = 0;
    gossipmon_spread(f->mon, "hello", &h, &live, &r, &hot);
    fixture_free(&f);
    return ok ? (int)r : -1;
}

/* Mean and max rounds over seeds 1..seeds. */
static void sweep(int n, const char *opts, int seeds, double loss, double *mean, int *max)
{
    double sum = 0;
    *max = 0;
    for (int s = 1; s <= seeds; s++) {
        int r = rounds_to_spread(n, opts, (uint64_t)s, loss);
        ck_assert_msg(r >= 0, "N=%d %s seed %d: the rumor did not reach every node", n, opts, s);
        sum += r;
        if (r > *max)
            *max = r;
    }
    *mean = sum / seeds;
}

START_TEST(g1_every_style_reaches_every_node_within_c_log2_n_plus_k_rounds)
{
    static const int sizes[] = {5, 8, 16, 32, 64, 100};
    static const struct {
        const char *opts;
        double c, k;
    } styles[] = {
        {"style=push stop=none ttl=200 ae=0", 2.0, 6},
        {"style=pull ttl=200 ae=0", 2.0, 6},
        {"style=push-pull stop=none ttl=200 ae=0", 1.5, 4},
        {"style=push fanout=2 stop=none ttl=200 ae=0", 1.5, 4},
    };
    for (size_t s = 0; s < CL_ARRAY_LEN(styles); s++)
        for (size_t i = 0; i < CL_ARRAY_LEN(sizes); i++) {
            int n = sizes[i], max;
            double mean;
            sweep(n, styles[s].opts, 6, 0, &mean, &max);
            double bound = styles[s].c * log2(n) + styles[s].k;
            printf("G1 %-40s N=%-3d rounds mean %.1f max %d (log2 N = %.1f, log2 N + ln N = %.1f, bound %.1f)\n",
                   styles[s].opts, n, mean, max, log2(n), log2(n) + log(n), bound);
            ck_assert_msg(max <= bound, "%s N=%d: %d rounds, over the bound %.1f", styles[s].opts, n, max, bound);
        }
}
END_TEST

START_TEST(push_pull_and_a_wider_fanout_take_fewer_rounds_than_push)
{
    double push, pp, f2;
    int mx;
    sweep(64, "style=push stop=none ttl=200 ae=0", 8, 0, &push, &mx);
    sweep(64, "style=push-pull stop=none ttl=200 ae=0", 8, 0, &pp, &mx);
    sweep(64, "style=push fanout=2 stop=none ttl=200 ae=0", 8, 0, &f2, &mx);
    printf("N=64 mean rounds: push %.1f, push-pull %.1f, push fanout=2 %.1f\n", push, pp, f2);
    ck_assert_msg(pp < push, "push-pull %.1f not below push %.1f", pp, push);
    ck_assert_msg(f2 < push, "fanout 2 %.1f not below fanout 1 %.1f", f2, push);
}
END_TEST

START_TEST(g2_thirty_percent_loss_only_adds_rounds_and_no_node_invents_a_rumor)
{
    double clean, lossy;
    int mx, mxl;
    sweep(16, "style=push-pull", 8, 0, &clean, &mx);
    sweep(16, "style=push-pull", 8, 0.3, &lossy, &mxl);
    printf("G2 N=16 push-pull: %.1f rounds without loss, %.1f with 30%% loss (max %d, bound %.1f)\n", clean, lossy,
           mxl, 3 * log2(16) + 8);
    ck_assert_msg(mxl <= 3 * log2(16) + 8, "with loss: %d rounds", mxl);
    ck_assert_msg(lossy >= clean, "loss made it faster? %.1f < %.1f", lossy, clean);
}
END_TEST

START_TEST(g3_a_partition_keeps_the_rumor_on_one_side_until_the_heal)
{
    struct fixture *f = fixture_new(&mode_gossip, 6, "style=push-pull", 3);
    char err[128];
    ck_assert_int_eq(faults_partition(sim_faults(f->s), "n1,n2,n3 | n4,n5,n6", err, sizeof err), 0);
    fixture_run(f, 200000);
    rumor(f, 0, "left");
    rumor(f, 5, "right");
    fixture_run(f, 3000000);
    int h, live, hot;
    uint64_t r;
    ck_assert_int_eq(gossipmon_spread(f->mon, "left", &h, &live, &r, &hot), 0);
    ck_assert_int_eq(h, 3);
    ck_assert_int_eq(gossipmon_spread(f->mon, "right", &h, &live, &r, &hot), 0);
    ck_assert_int_eq(h, 3);
    faults_heal(sim_faults(f->s));
    struct spread a = {f, "left"}, b = {f, "right"};
    ck_assert(fixture_run_until(f, 10000000, all_hold, &a));
    ck_assert(fixture_run_until(f, 10000000, all_hold, &b));
    /* every node's view converges: the same rumors everywhere */
    json_t *s0 = sim_status(f->s, 0);
    for (int i = 1; i < 6; i++) {
        json_t *si = sim_status(f->s, i);
        ck_assert(json_equal(json_object_get(s0, "data"), json_object_get(si, "data")));
        json_decref(si);
    }
    json_decref(s0);
    FIXTURE_OK(f);
    fixture_free(&f);
}
END_TEST

static int count_sends(struct fixture *f)
{
    uint64_t sent, delivered, dropped;
    sim_counts(f->s, &sent, &delivered, &dropped);
    return (int)sent;
}

START_TEST(the_stop_rule_ends_the_traffic_and_anti_entropy_repairs_the_residue)
{
    /* push with a counter of 1 stops early and often leaves a residue; some seed shows it */
    int residue_seen = 0;
    for (uint64_t seed = 1; seed <= 20 && !residue_seen; seed++) {
        struct fixture *f = fixture_new(&mode_gossip, 32, "style=push stop=counter k=1 ae=0", seed);
        fixture_run(f, 200000);
        rumor(f, 0, "x");
        struct spread sp = {f, "x"};
        ck_assert(fixture_run_until(f, 20000000, none_hot, &sp));
        int before = count_sends(f);
        fixture_run(f, 2000000);
        ck_assert_int_eq(count_sends(f), before); /* quiet once every holder is removed */
        int h, live, hot;
        uint64_t r;
        gossipmon_spread(f->mon, "x", &h, &live, &r, &hot);
        residue_seen = h < live;
        FIXTURE_OK(f);
        fixture_free(&f);
    }
    ck_assert_msg(residue_seen, "push with k=1 never left a residue in 20 seeds");
    /* the same with anti-entropy: everyone, every seed */
    for (uint64_t seed = 1; seed <= 5; seed++) {
        struct fixture *f = fixture_new(&mode_gossip, 32, "style=push stop=counter k=1 ae=500ms", seed);
        fixture_run(f, 200000);
        rumor(f, 0, "x");
        struct spread sp = {f, "x"};
        ck_assert_msg(fixture_run_until(f, 30000000, all_hold, &sp), "seed %llu", (unsigned long long)seed);
        FIXTURE_OK(f);
        fixture_free(&f);
    }
}
END_TEST

START_TEST(bug_corrupt_is_caught_as_integrity)
{
    struct fixture *f = fixture_new(&mode_gossip, 8, "style=push bug=corrupt", 5);
    fixture_run(f, 200000);
    rumor(f, 0, "hello");
    fixture_run(f, 3000000);
    ck_assert_msg(strstr(f->fail, "Integrity"), "no Integrity violation: '%s'", f->fail);
    fixture_free(&f);
}
END_TEST

START_TEST(bug_forget_is_caught_as_stability)
{
    struct fixture *f = fixture_new(&mode_gossip, 8, "style=push-pull bug=forget", 5);
    fixture_run(f, 200000);
    rumor(f, 0, "hello");
    fixture_run(f, 10000000);
    ck_assert_msg(strstr(f->fail, "Stability"), "no Stability violation: '%s'", f->fail);
    fixture_free(&f);
}
END_TEST

START_TEST(bug_stop_early_leaves_most_nodes_without_the_rumor)
{
    struct fixture *f = fixture_new(&mode_gossip, 32, "style=push bug=stop-early ae=0", 5);
    fixture_run(f, 200000);
    rumor(f, 0, "hello");
    fixture_run(f, 5000000);
    FIXTURE_OK(f);
    struct sb says = {0};
    char hello[] = "hello";
    char *argv[] = {hello};
    ck_assert_int_eq(gossipmon_wait_rumor(f->mon, 1, argv, &says), 0);
    printf("bug=stop-early: %s\n", says.s);
    ck_assert_ptr_nonnull(strstr(says.s, "no holder pushes it"));
    sb_free(&says);
    fixture_free(&f);
}
END_TEST

START_TEST(wait_rumor_says_the_rounds_beside_log2_n)
{
    struct fixture *f = fixture_new(&mode_gossip, 16, "style=push-pull", 2);
    fixture_run(f, 200000);
    struct sb says = {0};
    char hello[] = "hello";
    char *argv[] = {hello};
    ck_assert_int_eq(gossipmon_wait_rumor(f->mon, 1, argv, &says), 0);
    ck_assert_ptr_nonnull(strstr(says.s, "no node holds"));
    sb_free(&says);
    rumor(f, 3, "hello");
    struct spread sp = {f, "hello"};
    ck_assert(fixture_run_until(f, 10000000, all_hold, &sp));
    ck_assert_int_eq(gossipmon_wait_rumor(f->mon, 1, argv, &says), 1);
    ck_assert_msg(strstr(says.s, "all 16 nodes after") && strstr(says.s, "(log2 16 = 4.0)"), "%s", says.s);
    sb_free(&says);
    ck_assert_int_eq(gossipmon_wait_rumor(f->mon, 0, argv, &says), -1);
    sb_free(&says);
    FIXTURE_OK(f);
    fixture_free(&f);
}
END_TEST

START_TEST(bad_rumors_and_messages_are_dropped_with_an_error_event)
{
    static const char *const names[] = {"error", "infect", NULL};
    struct fixture *f = fixture_new(&mode_gossip, 3, "style=push", 1);
    fixture_keep(f, names);
    fixture_run(f, 200000);
    static const char *const bad[] = {
        "{\"type\":\"gossip\",\"rumors\":5}",
        "{\"type\":\"gossip\",\"rumors\":[{\"id\":\"n1#1\",\"text\":\"x\"}]}",
        "{\"type\":\"gossip\",\"rumors\":[{\"id\":\"bogus\",\"text\":\"x\",\"round\":1}]}",
        "{\"type\":\"gossip\",\"rumors\":[{\"id\":\"n1#1\",\"text\":\"\",\"round\":1}]}",
        "{\"type\":\"gossip\",\"rumors\":[{\"id\":\"n1#1\",\"text\":\"x\",\"round\":-1}]}",
        "{\"type\":\"gossip_ok\",\"known\":[]}",
        "{\"type\":\"gossip\",\"have\":{}}",
    };
    for (size_t i = 0; i < CL_ARRAY_LEN(bad); i++) {
        json_t *b = json_loads(bad[i], 0, NULL);
        ck_assert_ptr_nonnull(b);
        /* a node sends it: the client gateway would refuse these types before the mode */
        sim_client_send(f->s, 1, "n3", b);
        fixture_run(f, 5000);
    }
    ck_assert_int_ge(fixture_count(f, "error", NULL, NULL), (int)CL_ARRAY_LEN(bad));
    ck_assert_int_eq(fixture_count(f, "infect", NULL, NULL), 0);
    /* and the node still spreads a real rumor */
    rumor(f, 1, "fine");
    struct spread sp = {f, "fine"};
    ck_assert(fixture_run_until(f, 5000000, all_hold, &sp));
    FIXTURE_OK(f);
    fixture_free(&f);
}
END_TEST

START_TEST(a_restarted_node_learns_the_rumors_again_and_keeps_its_ids_unique)
{
    struct fixture *f = fixture_new(&mode_gossip, 5, "style=push-pull", 4);
    fixture_run(f, 200000);
    rumor(f, 0, "one");
    struct spread sp = {f, "one"};
    ck_assert(fixture_run_until(f, 5000000, all_hold, &sp));
    sim_crash(f->s, 0);
    sim_restart(f->s, 0);
    ck_assert(fixture_run_until(f, 5000000, all_hold, &sp));
    rumor(f, 0, "two"); /* n1#2, not a second n1#1 (the monitor would see two texts) */
    struct spread sp2 = {f, "two"};
    ck_assert(fixture_run_until(f, 5000000, all_hold, &sp2));
    FIXTURE_OK(f);
    fixture_free(&f);
}
END_TEST

START_TEST(rumor_command_refuses_bad_text_and_other_nodes)
{
    struct fixture *f = fixture_new(&mode_gossip, 3, "", 1);
    fixture_run(f, 100000);
    char n1[] = "n1", n2[] = "n2", x[] = "x", sp[] = "has space", okt[] = "ok";
    char *a1[] = {n2, x};
    json_t *r = sim_command(f->s, 0, "rumor", 2, a1);
    ck_assert(json_is_false(json_object_get(r, "ok")));
    json_decref(r);
    char *a2[] = {n1, sp};
    r = sim_command(f->s, 0, "rumor", 2, a2);
    ck_assert(json_is_false(json_object_get(r, "ok")));
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(r, "text")), "without spaces"));
    json_decref(r);
    char *a3[] = {n1, okt};
    r = sim_command(f->s, 0, "rumor", 2, a3);
    ck_assert(json_is_true(json_object_get(r, "ok")));
    json_decref(r);
    r = sim_command(f->s, 0, "rumor", 2, a3);
    ck_assert(json_is_false(json_object_get(r, "ok")));
    json_decref(r);
    fixture_free(&f);
}
END_TEST

START_TEST(maelstrom_broadcast_and_read_spread_messages_to_every_node)
{
    struct fixture *f = fixture_new(&mode_gossip, 5, "style=push-pull", 6);
    fixture_run(f, 100000);
    json_t *r = fixture_call(f, 2, json_pack("{s:s,s:i}", "type", "broadcast", "message", 42), 1000000);
    ck_assert_str_eq(json_string_value(json_object_get(r, "type")), "broadcast_ok");
    json_decref(r);
    r = fixture_call(f, 0, json_pack("{s:s,s:s}", "type", "broadcast", "message", "hi"), 1000000);
    ck_assert_str_eq(json_string_value(json_object_get(r, "type")), "broadcast_ok");
    json_decref(r);
    r = fixture_call(f, 0, json_pack("{s:s,s:[]}", "type", "broadcast", "message"), 1000000);
    ck_assert_int_eq(json_integer_value(json_object_get(r, "code")), 12);
    json_decref(r);
    r = fixture_call(f, 1, json_pack("{s:s,s:{}}", "type", "topology", "topology"), 1000000);
    ck_assert_str_eq(json_string_value(json_object_get(r, "type")), "topology_ok");
    json_decref(r);
    struct spread a = {f, "42"}, b = {f, "hi"};
    ck_assert(fixture_run_until(f, 5000000, all_hold, &a));
    ck_assert(fixture_run_until(f, 5000000, all_hold, &b));
    r = fixture_call(f, 4, json_pack("{s:s}", "type", "read"), 1000000);
    const json_t *m = json_object_get(r, "messages");
    ck_assert_int_eq(json_array_size(m), 2);
    ck_assert(json_is_integer(json_array_get(m, 0)) || json_is_integer(json_array_get(m, 1)));
    json_decref(r);
    FIXTURE_OK(f);
    fixture_free(&f);
}
END_TEST

Suite *suite_gossip(void);
Suite *suite_gossip(void)
{
    Suite *s = suite_create("gossip");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, g1_every_style_reaches_every_node_within_c_log2_n_plus_k_rounds);
    tcase_add_test(tc, push_pull_and_a_wider_fanout_take_fewer_rounds_than_push);
    tcase_add_test(tc, g2_thirty_percent_loss_only_adds_rounds_and_no_node_invents_a_rumor);
    tcase_add_test(tc, g3_a_partition_keeps_the_rumor_on_one_side_until_the_heal);
    tcase_add_test(tc, the_stop_rule_ends_the_traffic_and_anti_entropy_repairs_the_residue);
    tcase_add_test(tc, bug_corrupt_is_caught_as_integrity);
    tcase_add_test(tc, bug_forget_is_caught_as_stability);
    tcase_add_test(tc, bug_stop_early_leaves_most_nodes_without_the_rumor);
    tcase_add_test(tc, wait_rumor_says_the_rounds_beside_log2_n);
    tcase_add_test(tc, bad_rumors_and_messages_are_dropped_with_an_error_event);
    tcase_add_test(tc, a_restarted_node_learns_the_rumors_again_and_keeps_its_ids_unique);
    tcase_add_test(tc, rumor_command_refuses_bad_text_and_other_nodes);
    tcase_add_test(tc, maelstrom_broadcast_and_read_spread_messages_to_every_node);
    suite_add_tcase(s, tc);
    return s;
}
