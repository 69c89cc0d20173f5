/* check_sim1000 — the simulator at 1,000 nodes (issue 18: "the simulator runs 1,000 nodes"):
 * scenarios G1–G3 of SCENARIOS.md for gossip at N = 1000 (the rounds to full dissemination,
 * printed beside log2 N and log2 N + ln N, within c·log2 N + k; 30 % loss only adds rounds; a
 * partition 500 | 500 keeps each rumor on its side until the heal, then every view converges)
 * and the simulator's own parts at that size (partitions as groups, one link fault for every
 * link, no dense tables). `make check` runs one seed of each; CONLAB_FULL=1 (check-full)
 * sweeps many; under CONLAB_QUICK (the ASan and valgrind tiers) the scenarios run at 250 nodes
 * (still past CL_MAXNODES: the same code) so that valgrind's time stays in bounds. The live
 * monitor checks every event of every run. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "fixture.h"
#include "gossip.h"
#include "spreadbench.h"
#include "test_util.h"

extern const struct mode mode_gossip;

#define THOUSAND 1000
/* The size the scenarios run at: 1000, or 250 under CONLAB_QUICK. */
static int big_n(void)
{
    return getenv("CONLAB_QUICK") ? 250 : THOUSAND;
}
#define BIG big_n()

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

static int holders(struct fixture *f, const char *text)
{
    int h, live, hot;
    uint64_t r;
    return gossipmon_spread(f->mon, text, &h, &live, &r, &hot) == 0 ? h : 0;
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

static int seeds(void)
{
    return getenv("CONLAB_FULL") ? 20 : 1;
}

/* The rounds a rumor started on n1 takes to reach all n nodes (-1: not within a minute). */
static int rounds_to_spread(int n, const char *opts, uint64_t seed, double loss)
{
    struct fixture *f = fixture_new(&mode_gossip, n, opts, seed);
    if (loss > 0)
        sim_set_link_all(f->s, &(struct link_fault){.loss = loss});
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

START_TEST(g1_at_1000_nodes_every_style_reaches_every_node_within_c_log2_n_plus_k_rounds)
{
    static const struct {
        const char *opts;
        double c, k;
    } styles[] = {
        {"style=push stop=none ttl=200 ae=0", 2.0, 6},
        {"style=push-pull stop=none ttl=200 ae=0", 1.5, 4},
        {"style=push fanout=2 stop=none ttl=200 ae=0", 2.0, 4}, /* 21 rounds seen in 20 seeds */
    };
    int ns = seeds();
    for (size_t s = 0; s < CL_ARRAY_LEN(styles); s++) {
        double sum = 0;
        int max = 0, min = 1 << 30;
        for (int seed = 1; seed <= ns; seed++) {
            int r = rounds_to_spread(BIG, styles[s].opts, (uint64_t)seed, 0);
            ck_assert_msg(r >= 0, "N=%d %s seed %d: the rumor did not reach every node", BIG, styles[s].opts, seed);
            sum += r;
            max = r > max ? r : max;
            min = r < min ? r : min;
        }
        double bound = styles[s].c * log2(BIG) + styles[s].k;
        printf("G1 N=%d %-42s rounds mean %.1f min %d max %d over %d seeds (log2 N = %.1f, log2 N + ln N = %.1f, "
               "bound %.1f)\n", BIG, styles[s].opts, sum / ns, min, max, ns, log2(BIG), log2(BIG) + log(BIG), bound);
        fflush(stdout);
        ck_assert_msg(max <= bound, "%s N=%d: %d rounds, over the bound %.1f", styles[s].opts, BIG, max, bound);
    }
}
END_TEST

START_TEST(g2_at_1000_nodes_thirty_percent_loss_only_adds_rounds)
{
    int ns = seeds(), max = 0;
    double clean = 0, lossy = 0;
    for (int seed = 1; seed <= ns; seed++) {
        int a = rounds_to_spread(BIG, "style=push-pull stop=none ttl=200 ae=0", (uint64_t)seed, 0);
        int b = rounds_to_spread(BIG, "style=push-pull stop=none ttl=200 ae=0", (uint64_t)seed, 0.3);
        ck_assert_msg(a >= 0 && b >= 0, "seed %d: the rumor did not reach every node", seed);
        clean += a;
        lossy += b;
        max = b > max ? b : max;
    }
    double bound = 2 * log2(BIG) + 8;
    printf("G2 N=%d push-pull: %.1f rounds without loss, %.1f with 30%% loss on every link (max %d, bound %.1f) "
           "over %d seeds\n", BIG, clean / ns, lossy / ns, max, bound, ns);
    ck_assert_msg(max <= bound, "with loss: %d rounds, over %.1f", max, bound);
    ck_assert_msg(lossy >= clean, "loss made it faster? %.1f < %.1f", lossy / ns, clean / ns);
}
END_TEST

START_TEST(g3_at_1000_nodes_a_partition_keeps_each_rumor_on_its_side_until_the_heal)
{
    for (int seed = 1; seed <= seeds(); seed++) {
        struct fixture *f = fixture_new(&mode_gossip, BIG, "style=push-pull ae=1s", (uint64_t)seed);
        ck_assert_ptr_null(sim_faults(f->s)); /* no dense tables over CL_MAXNODES */
        char err[200];
        char spec[64];
        snprintf(spec, sizeof spec, "n1-n%d | n%d-n%d", BIG / 2, BIG / 2 + 1, BIG);
        ck_assert_int_eq(sim_partition(f->s, spec, err, sizeof err), 0);
        fixture_run(f, 200000);
        rumor(f, 0, "left");
        rumor(f, BIG - 1, "right");
        fixture_run(f, 5000000);
        ck_assert_int_eq(holders(f, "left"), BIG / 2);
        ck_assert_int_eq(holders(f, "right"), BIG / 2);
        for (int i = 0; i < BIG; i++) { /* each side holds its own rumor only */
            json_t *st = sim_status(f->s, i);
            json_t *data = json_object_get(st, "data");
            ck_assert(json_object_get(data, i < BIG / 2 ? "left" : "right"));
            ck_assert(!json_object_get(data, i < BIG / 2 ? "right" : "left"));
            json_decref(st);
        }
        uint64_t healed = sim_now(f->s);
        sim_heal(f->s);
        struct spread a = {f, "left"}, b = {f, "right"};
        ck_assert(fixture_run_until(f, 30000000, all_hold, &a));
        ck_assert(fixture_run_until(f, 30000000, all_hold, &b));
        /* every node's view converges: the same rumors everywhere */
        json_t *s0 = sim_status(f->s, 0);
        for (int i = 1; i < BIG; i++) {
            json_t *si = sim_status(f->s, i);
            ck_assert_msg(json_equal(json_object_get(s0, "data"), json_object_get(si, "data")), "n%d differs", i + 1);
            json_decref(si);
        }
        json_decref(s0);
        printf("G3 N=%d seed %d: partition %d | %d, each rumor on its side only; after the heal all %d nodes hold "
               "both within %.1f s\n", BIG, seed, BIG / 2, BIG / 2, BIG, (double)(sim_now(f->s) - healed) / 1e6);
        FIXTURE_OK(f);
        fixture_free(&f);
    }
}
END_TEST

START_TEST(the_simulator_takes_1000_nodes_of_a_mode_that_allows_it_and_refuses_more)
{
    char err[200];
    struct opts o = {0};
    struct sim *s = sim_new(&mode_gossip, THOUSAND + 1, &o, 1, err, sizeof err);
    ck_assert_ptr_null(s);
    ck_assert_ptr_nonnull(strstr(err, "1 to 1000 nodes"));
    ck_assert_int_eq(mode_sim_max_nodes(&mode_gossip), CL_SIM_MAXNODES);
    ck_assert_int_eq(mode_max_nodes(&mode_gossip), CL_MAXNODES); /* real processes stay at 128 */
    s = sim_new(&mode_gossip, THOUSAND, &o, 1, err, sizeof err);
    ck_assert_ptr_nonnull(s);
    /* a partition names nodes and ranges; bad ones are refused with the reason */
    ck_assert_int_eq(sim_partition(s, "n1-n10,n20 | n999", err, sizeof err), 0);
    ck_assert_int_eq(sim_partition(s, "n1-n1001", err, sizeof err), CL_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "n1..n1000"));
    ck_assert_int_eq(sim_partition(s, "n5 | n5", err, sizeof err), CL_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "named twice"));
    ck_assert_int_eq(sim_partition(s, "n9-n3", err, sizeof err), CL_EINVAL);
    ck_assert_int_eq(sim_partition(s, "n1 | | n2", err, sizeof err), CL_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "empty group"));
    sim_heal(s);
    /* a node can join past 1000? no: the mode's simulator bound holds */
    ck_assert_int_eq(sim_add_node(s), -1);
    sim_run_for(s, 1000000);
    uint64_t sent, delivered, dropped;
    sim_counts(s, &sent, &delivered, &dropped);
    ck_assert_uint_eq(dropped, 0);
    ck_assert_uint_gt(delivered, 0);
    sim_destroy(&s);
    /* the same functions on a small cluster act on its fault tables */
    s = sim_new(&mode_gossip, 4, &o, 1, err, sizeof err);
    ck_assert_int_eq(sim_partition(s, "n1-n2 | n3-n4", err, sizeof err), 0);
    ck_assert(!faults_connected(sim_faults(s), 0, 2));
    ck_assert(faults_connected(sim_faults(s), 0, 1));
    sim_set_link_all(s, &(struct link_fault){.loss = 0.5});
    ck_assert(sim_faults(s)->link[3][0].loss == 0.5);
    sim_heal(s);
    ck_assert(!faults_active(sim_faults(s)));
    sim_destroy(&s);
}
END_TEST

START_TEST(a_thousand_node_push_pull_run_is_timed_and_measured)
{
    /* the figures docs/bench.md quotes: events off (no monitor), as conlab bench spread runs */
    if (!getenv("CONLAB_FULL"))
        return; /* a figure, not a check: check-full only (conlab bench spread prints it too) */
    struct rusage before, after;
    getrusage(RUSAGE_SELF, &before);
    uint64_t t0 = mono_us();
    char err[200];
    struct opts o = {0};
    opts_set(&o, "style", "push-pull");
    struct sim *s = sim_new(&mode_gossip, THOUSAND, &o, 7, err, sizeof err);
    ck_assert_ptr_nonnull(s);
    sim_run_for(s, 200000);
    char n1[] = "n1", text[] = "hello";
    char *argv[] = {n1, text};
    json_decref(sim_command(s, 0, "rumor", 2, argv));
    sim_run_for(s, 3000000);
    int all = 1;
    for (int i = 0; i < THOUSAND && all; i++) {
        json_t *st = sim_status(s, i);
        all = json_object_get(json_object_get(st, "data"), "hello") != NULL;
        json_decref(st);
    }
    uint64_t sent, delivered, dropped;
    sim_counts(s, &sent, &delivered, &dropped);
    sim_destroy(&s);
    opts_free(&o);
    getrusage(RUSAGE_SELF, &after);
    printf("1000-node push-pull, 3.2 s of virtual time: %.2f s of CPU, %llu messages, max RSS %ld MB (was %ld MB "
           "before)\n", (double)(mono_us() - t0) / 1e6, (unsigned long long)delivered, after.ru_maxrss / 1024,
           before.ru_maxrss / 1024);
    ck_assert(all);
}
END_TEST

START_TEST(bench_spread_counts_the_rounds_from_every_nodes_state_and_refuses_bad_input)
{
    char err[200];
    struct opts o = {0};
    opts_set(&o, "style", "push-pull");
    opts_set(&o, "ae", "0");
    struct spread_result r;
    ck_assert_int_eq(spread_run(&mode_gossip, 64, &o, 3, &r, err, sizeof err), 0);
    ck_assert_int_eq(r.holders, 64);
    ck_assert(r.rounds >= 1 && r.rounds <= 1.5 * log2(64) + 4);
    ck_assert_uint_gt(r.messages, 0);
    ck_assert_uint_gt(r.virtual_us, 0);
    /* the same seed, the same figure */
    struct spread_result again;
    ck_assert_int_eq(spread_run(&mode_gossip, 64, &o, 3, &again, err, sizeof err), 0);
    ck_assert_int_eq(again.rounds, r.rounds);
    ck_assert_uint_eq(again.virtual_us, r.virtual_us);
    opts_free(&o);
    /* a mode without a spread figure, and bad arguments, are refused with the reason */
    const struct mode *other = NULL;
    for (int i = 0; mode_table[i] && !other; i++)
        if (!mode_table[i]->spread_round)
            other = mode_table[i];
    ck_assert_ptr_nonnull(other);
    ck_assert_int_lt(spread_run(other, 3, &o, 1, &r, err, sizeof err), 0);
    ck_assert_ptr_nonnull(strstr(err, "no spread figure"));
    char a0[] = "spread", a1[] = "--nodes", a2[] = "16,1001", b2[] = "0", a3[] = "--seeds", a4[] = "0";
    char *bad_nodes[] = {a0, a1, a2};
    ck_assert_int_eq(spreadbench_main(3, bad_nodes), 2);
    char *zero_nodes[] = {a0, a1, b2};
    ck_assert_int_eq(spreadbench_main(3, zero_nodes), 2);
    char *bad_seeds[] = {a0, a3, a4};
    ck_assert_int_eq(spreadbench_main(3, bad_seeds), 2);
    char *no_value[] = {a0, a3};
    ck_assert_int_eq(spreadbench_main(2, no_value), 2);
}
END_TEST

Suite *suite_sim1000(void);
Suite *suite_sim1000(void)
{
    Suite *s = suite_create("sim1000");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, the_simulator_takes_1000_nodes_of_a_mode_that_allows_it_and_refuses_more);
    tcase_add_test(tc, g1_at_1000_nodes_every_style_reaches_every_node_within_c_log2_n_plus_k_rounds);
    tcase_add_test(tc, g2_at_1000_nodes_thirty_percent_loss_only_adds_rounds);
    tcase_add_test(tc, g3_at_1000_nodes_a_partition_keeps_each_rumor_on_its_side_until_the_heal);
    tcase_add_test(tc, a_thousand_node_push_pull_run_is_timed_and_measured);
    tcase_add_test(tc, bench_spread_counts_the_rounds_from_every_nodes_state_and_refuses_bad_input);
    suite_add_tcase(s, tc);
    return s;
}
