/* check_faults — the fault model: partition specs (and every bad one of BAD-INPUT.md), the
 * named Jepsen shapes, isolation and one-way cuts, the statistics of loss, duplication,
 * delay and jitter drawn by faults_decide(), the JSON the lab pushes to nodes, and the
 * description the user reads. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "faults.h"
#include "rng.h"
#include "test_util.h"

#define ERRLEN 256

/* In hot loops: Check records every assertion's location (a write to a pipe), so test first. */
#define CHECK(cond, ...)                                                                     \
    do {                                                                                     \
        if (!(cond))                                                                         \
            ck_abort_msg(__VA_ARGS__);                                                       \
    } while (0)

/* Every pair in different groups is cut both ways and every pair in one group is not. */
static void assert_groups(const struct faults *f, const int *group)
{
    for (int a = 0; a < f->n; a++)
        for (int b = 0; b < f->n; b++) {
            if (a == b)
                continue;
            int want = group[a] != group[b];
            ck_assert_msg(f->cut[a][b] == want, "n%d -> n%d cut=%d, want %d", a + 1, b + 1,
                          f->cut[a][b], want);
        }
}

static void describe(const struct faults *f, char *out, size_t n)
{
    struct sb b = {0};
    faults_describe(f, &b);
    str_copy(out, b.s ? b.s : "(null)", n);
    sb_free(&b);
}

/* ---- partition specs ----------------------------------------------------------------- */

START_TEST(partition_cuts_between_groups_only)
{
    struct faults f;
    char err[ERRLEN] = "";
    faults_init(&f, 5);
    ck_assert_int_eq(faults_partition(&f, "n1,n2 | n3,n4,n5", err, sizeof err), 0);
    assert_groups(&f, (int[]){0, 0, 1, 1, 1});
    char d[128];
    describe(&f, d, sizeof d);
    ck_assert_str_eq(d, "n1,n2 | n3,n4,n5");
    ck_assert(faults_active(&f));
}
END_TEST

START_TEST(unnamed_nodes_join_the_last_group)
{
    struct faults f;
    char err[ERRLEN] = "";
    faults_init(&f, 5);
    ck_assert_int_eq(faults_partition(&f, "n1 | n2", err, sizeof err), 0);
    assert_groups(&f, (int[]){0, 1, 1, 1, 1});
    ck_assert_int_eq(faults_partition(&f, "n4|n2|n5", err, sizeof err), 0);
    assert_groups(&f, (int[]){2, 1, 2, 0, 2});
    char d[128];
    describe(&f, d, sizeof d);
    ck_assert_str_eq(d, "n1,n3,n5 | n2 | n4");
}
END_TEST

START_TEST(one_group_cuts_the_named_nodes_from_the_rest)
{
    struct faults f;
    char err[ERRLEN] = "";
    faults_init(&f, 4);
    ck_assert_int_eq(faults_partition(&f, "n2, n3", err, sizeof err), 0);
    assert_groups(&f, (int[]){1, 0, 0, 1});
}
END_TEST

static const struct {
    int n;
    const char *spec;
    const char *error;
} bad_specs[] = {
    {5, "n1,n2 | n2,n3", "n2 appears twice"},       /* overlapping groups */
    {5, "n1,n1 | n2", "n1 appears twice"},          /* repeated node */
    {5, "n1 || n2", "empty group"},
    {5, "| n1", "empty group"},
    {5, "n1 |", "empty group"},
    {5, "", "empty group"},
    {5, "   ", "empty group"},
    {3, "n1,n2,n3", "every node"},                   /* one group holding every node */
    {3, "n3 n1 n2", "every node"},
    {5, "n1 | n9", "unknown node \"n9\""},
    {5, "n0 | n1", "unknown node \"n0\""},
    {5, "lab | n1", "unknown node \"lab\""},
    {5, "n1,,n2 | n3", "unknown node \"\""},
    {5, "n1;n2 | n3", "unknown node \"n1;n2\""},
    {5, "n1 | n2 \x1b[31m", "unknown node"},
    {5, "n1 | nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn", "unknown node"},
};

START_TEST(bad_partition_specs_are_refused_with_a_reason_and_change_nothing)
{
    struct faults f;
    char err[ERRLEN] = "";
    faults_init(&f, bad_specs[_i].n);
    faults_cut(&f, 0, 1); /* an earlier fault that a refused spec must keep */
    struct faults before = f;
    ck_assert_int_eq(faults_partition(&f, bad_specs[_i].spec, err, sizeof err), CL_EINVAL);
    ck_assert_msg(strstr(err, bad_specs[_i].error), "spec \"%s\": got \"%s\", want \"%s\"",
                  bad_specs[_i].spec, err, bad_specs[_i].error);
    ck_assert_msg(!memcmp(&f, &before, sizeof f), "spec \"%s\" changed the faults", bad_specs[_i].spec);
}
END_TEST

/* ---- shapes ------------------------------------------------------------------------- */

/* Nodes node a can talk to both ways, including itself, as a bit set. */
static unsigned sees(const struct faults *f, int a)
{
    unsigned m = 0;
    for (int b = 0; b < f->n; b++)
        if (a == b || faults_connected(f, a, b))
            m |= 1u << b;
    return m;
}

static int popcount(unsigned m)
{
    return __builtin_popcount(m);
}

static void symmetric(const struct faults *f)
{
    for (int a = 0; a < f->n; a++)
        for (int b = 0; b < f->n; b++)
            ck_assert_msg(f->cut[a][b] == f->cut[b][a], "cut n%d->n%d is one-way", a + 1, b + 1);
}

/* Shapes that split into two cliques: the sizes of the two sides. */
static void assert_two_sides(const struct faults *f, int small, int large)
{
    symmetric(f);
    int sizes[2] = {0, 0}, ng = 0;
    unsigned seen = 0;
    for (int a = 0; a < f->n; a++) {
        unsigned g = sees(f, a);
        /* a clique: everyone a sees, sees exactly the same set */
        for (int b = 0; b < f->n; b++)
            if (g & (1u << b))
                ck_assert_msg(sees(f, b) == g, "n%d and n%d see different sets", a + 1, b + 1);
        if (seen & (1u << a))
            continue;
        seen |= g;
        ck_assert_msg(ng < 2, "more than two sides");
        sizes[ng++] = popcount(g);
    }
    ck_assert_int_eq(ng, 2);
    int lo = sizes[0] < sizes[1] ? sizes[0] : sizes[1], hi = sizes[0] + sizes[1] - lo;
    ck_assert_int_eq(lo, small);
    ck_assert_int_eq(hi, large);
}

static const struct {
    const char *shape;
    int n, small, large;
} two_sided[] = {
    {"one", 5, 1, 4},      {"one", 3, 1, 2},      {"halves", 5, 2, 3},
    {"halves", 4, 2, 2},   {"majority", 5, 2, 3}, {"majority", 4, 1, 3},
    {"majority", 6, 2, 4}, {"minority-third", 5, 1, 4}, {"minority-third", 6, 2, 4},
    {"minority-third", 9, 3, 6}, {"one", 2, 1, 1},
};

START_TEST(two_sided_shapes_have_the_documented_sizes)
{
    for (uint64_t seed = 1; seed <= 20; seed++) {
        struct faults f;
        struct rng r;
        char desc[128], err[ERRLEN] = "", d2[128];
        rng_seed(&r, seed);
        faults_init(&f, two_sided[_i].n);
        ck_assert_msg(faults_shape(&f, two_sided[_i].shape, &r, desc, sizeof desc, err, sizeof err) == 0,
                      "%s: %s", two_sided[_i].shape, err);
        assert_two_sides(&f, two_sided[_i].small, two_sided[_i].large);
        describe(&f, d2, sizeof d2);
        ck_assert_str_eq(desc, d2);
    }
}
END_TEST

START_TEST(majorities_ring_gives_every_node_a_different_majority)
{
    for (int n = 5; n <= 9; n++) {
        for (uint64_t seed = 1; seed <= 10; seed++) {
            struct faults f;
            struct rng r;
            char desc[256], err[ERRLEN] = "";
            rng_seed(&r, seed);
            faults_init(&f, n);
            ck_assert_int_eq(faults_shape(&f, "majorities-ring", &r, desc, sizeof desc, err, sizeof err), 0);
            symmetric(&f);
            unsigned seen[CL_MAXNODES];
            for (int a = 0; a < n; a++) {
                seen[a] = sees(&f, a);
                ck_assert_msg(popcount(seen[a]) > n / 2, "n=%d seed %llu: n%d sees only %d", n,
                              (unsigned long long)seed, a + 1, popcount(seen[a]));
                ck_assert_msg(popcount(seen[a]) < n, "n=%d: n%d sees everyone", n, a + 1);
                for (int b = 0; b < a; b++)
                    ck_assert_msg(seen[a] != seen[b], "n=%d seed %llu: n%d and n%d see the same majority",
                                  n, (unsigned long long)seed, a + 1, b + 1);
            }
        }
    }
}
END_TEST

START_TEST(bridge_joins_two_halves_through_one_node)
{
    for (int n = 3; n <= 7; n++) {
        struct faults f;
        struct rng r;
        char desc[128], err[ERRLEN] = "";
        rng_seed(&r, (uint64_t)n * 7);
        faults_init(&f, n);
        ck_assert_int_eq(faults_shape(&f, "bridge", &r, desc, sizeof desc, err, sizeof err), 0);
        symmetric(&f);
        int bridges = 0, mid = -1;
        for (int a = 0; a < n; a++)
            if (popcount(sees(&f, a)) == n) {
                bridges++;
                mid = a;
            }
        ck_assert_int_eq(bridges, 1);
        /* without the bridge: two cliques of (n-1)/2 and n-1-(n-1)/2 */
        int side[CL_MAXNODES], sizes[2] = {0, 0};
        int first = -1;
        for (int a = 0; a < n; a++) {
            if (a == mid)
                continue;
            if (first < 0)
                first = a;
            side[a] = faults_connected(&f, a, first) ? 0 : 1;
            sizes[side[a]]++;
        }
        for (int a = 0; a < n; a++)
            for (int b = 0; b < n; b++)
                if (a != mid && b != mid && a != b)
                    ck_assert_int_eq(faults_connected(&f, a, b), side[a] == side[b]);
        int lo = sizes[0] < sizes[1] ? sizes[0] : sizes[1];
        ck_assert_int_eq(lo, (n - 1) / 2);
        ck_assert_int_eq(sizes[0] + sizes[1], n - 1);
    }
}
END_TEST

START_TEST(shapes_follow_the_seed)
{
    /* same seed, same shape; over many seeds the isolated node varies */
    unsigned chosen = 0;
    for (uint64_t seed = 1; seed <= 40; seed++) {
        char d1[128], d2[128], err[ERRLEN] = "";
        struct faults f1, f2;
        struct rng r1, r2;
        rng_seed(&r1, seed);
        rng_seed(&r2, seed);
        faults_init(&f1, 5);
        faults_init(&f2, 5);
        ck_assert_int_eq(faults_shape(&f1, "one", &r1, d1, sizeof d1, err, sizeof err), 0);
        ck_assert_int_eq(faults_shape(&f2, "one", &r2, d2, sizeof d2, err, sizeof err), 0);
        ck_assert_str_eq(d1, d2);
        for (int a = 0; a < 5; a++)
            if (popcount(sees(&f1, a)) == 1)
                chosen |= 1u << a;
    }
    ck_assert_msg(popcount(chosen) >= 4, "only %d different nodes isolated over 40 seeds",
                  popcount(chosen));
}
END_TEST

START_TEST(bad_shapes_are_refused_with_a_reason)
{
    struct faults f;
    struct rng r;
    char desc[128], err[ERRLEN] = "";
    rng_seed(&r, 1);
    faults_init(&f, 5);
    ck_assert_int_eq(faults_shape(&f, "triangle", &r, desc, sizeof desc, err, sizeof err), CL_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "unknown partition shape \"triangle\""));
    ck_assert_ptr_nonnull(strstr(err, "majorities-ring"));
    ck_assert(!faults_active(&f));
    faults_init(&f, 1);
    ck_assert_int_eq(faults_shape(&f, "halves", &r, desc, sizeof desc, err, sizeof err), CL_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "at least 2 nodes"));
    faults_init(&f, 2);
    ck_assert_int_eq(faults_shape(&f, "bridge", &r, desc, sizeof desc, err, sizeof err), CL_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "at least 3 nodes"));
}
END_TEST

/* ---- isolate, cut, heal ---------------------------------------------------------------- */

START_TEST(isolate_cuts_one_node_both_ways)
{
    struct faults f;
    faults_init(&f, 4);
    faults_isolate(&f, 2);
    assert_groups(&f, (int[]){0, 0, 1, 0});
    char d[64];
    describe(&f, d, sizeof d);
    ck_assert_str_eq(d, "n1,n2,n4 | n3");
    faults_heal(&f);
    ck_assert(!faults_active(&f));
    describe(&f, d, sizeof d);
    ck_assert_str_eq(d, "");
    ck_assert_int_eq(f.n, 4);
}
END_TEST

START_TEST(one_way_cut_drops_one_direction_only)
{
    struct faults f;
    struct rng r;
    struct fate fate;
    rng_seed(&r, 3);
    faults_init(&f, 3);
    faults_cut(&f, 0, 1);
    faults_decide(&f, 0, 1, &r, &fate);
    ck_assert_int_eq(fate.copies, 0);
    ck_assert_str_eq(fate.why, "partition");
    faults_decide(&f, 1, 0, &r, &fate);
    ck_assert_int_eq(fate.copies, 1);
    ck_assert(fate.delay_us[0] == 0);
    faults_decide(&f, 0, 2, &r, &fate);
    ck_assert_int_eq(fate.copies, 1);
    ck_assert(!faults_connected(&f, 0, 1));
    ck_assert(!faults_connected(&f, 1, 0));
    ck_assert(faults_connected(&f, 0, 2));
    /* out-of-range nodes (clients) are never faulted */
    faults_decide(&f, -1, 1, &r, &fate);
    ck_assert_int_eq(fate.copies, 1);
    faults_decide(&f, 0, 7, &r, &fate);
    ck_assert_int_eq(fate.copies, 1);
}
END_TEST

/* ---- statistics ---------------------------------------------------------------------- */

#define DRAWS 20000

START_TEST(loss_and_duplication_happen_at_their_rates)
{
    static const double rates[][2] = {{0.3, 0}, {0, 0.25}, {0.5, 0.5}, {0.05, 0.9}, {1, 0}, {0, 1}};
    for (size_t k = 0; k < CL_ARRAY_LEN(rates); k++) {
        struct faults f;
        struct rng r;
        rng_seed(&r, 100 + k);
        faults_init(&f, 3);
        faults_set_loss(&f, -1, -1, rates[k][0]);
        faults_set_dup(&f, -1, -1, rates[k][1]);
        int lost = 0, dup = 0, delivered = 0;
        for (int i = 0; i < DRAWS; i++) {
            struct fate fate;
            faults_decide(&f, i % 3, (i + 1) % 3, &r, &fate);
            if (fate.copies == 0) {
                CHECK(!strcmp(fate.why, "loss"), "dropped for %s", fate.why);
                lost++;
            } else {
                delivered++;
                dup += fate.copies == 2;
            }
        }
        double pl = (double)lost / DRAWS, pd = delivered ? (double)dup / delivered : 0;
        /* 20 000 draws: the standard error is at most 0.0035 (0.0071 for dup after 50% loss) */
        ck_assert_msg(pl > rates[k][0] - 0.03 && pl < rates[k][0] + 0.03, "loss %.3f, want %.2f", pl,
                      rates[k][0]);
        if (delivered)
            ck_assert_msg(pd > rates[k][1] - 0.03 && pd < rates[k][1] + 0.03, "dup %.3f, want %.2f",
                          pd, rates[k][1]);
    }
}
END_TEST

START_TEST(delays_stay_within_the_jitter_bounds)
{
    struct faults f;
    struct rng r;
    rng_seed(&r, 9);
    faults_init(&f, 2);
    faults_set_delay(&f, 0, 1, 5000, 2000);
    uint64_t lo = UINT64_MAX, hi = 0;
    double sum = 0;
    for (int i = 0; i < DRAWS; i++) {
        struct fate fate;
        faults_decide(&f, 0, 1, &r, &fate);
        CHECK(fate.copies == 1, "%d copies", fate.copies);
        uint64_t d = fate.delay_us[0];
        CHECK(d >= 3000 && d <= 7000, "delay %llu outside 5000±2000", (unsigned long long)d);
        lo = d < lo ? d : lo;
        hi = d > hi ? d : hi;
        sum += (double)d;
    }
    ck_assert_msg(lo < 3100 && hi > 6900, "jitter range [%llu, %llu] too narrow",
                  (unsigned long long)lo, (unsigned long long)hi);
    double mean = sum / DRAWS;
    ck_assert_msg(mean > 4950 && mean < 5050, "mean delay %.0f", mean);
    /* the other direction was not touched */
    struct fate back;
    faults_decide(&f, 1, 0, &r, &back);
    ck_assert(back.delay_us[0] == 0);
}
END_TEST

START_TEST(jitter_larger_than_the_delay_never_goes_below_zero)
{
    struct faults f;
    struct rng r;
    rng_seed(&r, 10);
    faults_init(&f, 2);
    faults_set_delay(&f, -1, -1, 1000, 3000);
    int zeros = 0;
    for (int i = 0; i < DRAWS; i++) {
        struct fate fate;
        faults_decide(&f, 0, 1, &r, &fate);
        CHECK(fate.delay_us[0] <= 4000, "delay %llu", (unsigned long long)fate.delay_us[0]);
        zeros += fate.delay_us[0] == 0;
    }
    ck_assert_msg(zeros > DRAWS / 4, "only %d of %d draws clamped to 0", zeros, DRAWS);
}
END_TEST

START_TEST(delay_and_jitter_are_bounded_and_the_range_is_named)
{
    char err[ERRLEN] = "";
    ck_assert_int_eq(faults_check_delay(FAULTS_MAX_DELAY_US, FAULTS_MAX_DELAY_US, err, sizeof err), 0);
    ck_assert_int_eq(faults_check_delay(0, 0, err, sizeof err), 0);
    ck_assert_int_eq(faults_check_delay(100000, UINT64_MAX / 2, err, sizeof err), CL_ERANGE);
    ck_assert_msg(strstr(err, "a jitter of") && strstr(err, "each 0 to 600000 ms"), "%s", err);
    ck_assert_int_eq(faults_check_delay(FAULTS_MAX_DELAY_US + 1, 0, err, sizeof err), CL_ERANGE);
    ck_assert_msg(strstr(err, "a delay of 600000 ms"), "%s", err);
    /* whoever skips the check still gets a bounded link: no draw past delay + jitter */
    struct faults f;
    struct rng r;
    rng_seed(&r, 12);
    faults_init(&f, 2);
    faults_set_delay(&f, 0, 1, UINT64_MAX, UINT64_MAX);
    ck_assert(f.link[0][1].delay_us == FAULTS_MAX_DELAY_US && f.link[0][1].jitter_us == FAULTS_MAX_DELAY_US);
    for (int i = 0; i < DRAWS; i++) {
        struct fate fate;
        faults_decide(&f, 0, 1, &r, &fate);
        CHECK(fate.delay_us[0] <= 2 * FAULTS_MAX_DELAY_US, "delay %llu", (unsigned long long)fate.delay_us[0]);
    }
}
END_TEST

START_TEST(reordering_adds_a_bounded_extra_delay)
{
    struct faults f;
    struct rng r;
    rng_seed(&r, 11);
    faults_init(&f, 2);
    faults_set_delay(&f, 0, 1, 2000, 0);
    faults_set_reorder(&f, 0, 1, 0.5);
    int later = 0;
    for (int i = 0; i < DRAWS; i++) {
        struct fate fate;
        faults_decide(&f, 0, 1, &r, &fate);
        uint64_t d = fate.delay_us[0];
        CHECK(d == 2000 || (d >= 3000 && d <= 2000 + 20000 + 4000), "delay %llu", (unsigned long long)d);
        later += d > 2000;
    }
    ck_assert_msg(later > DRAWS * 0.47 && later < DRAWS * 0.53, "%d of %d reordered", later, DRAWS);
}
END_TEST

START_TEST(duplicates_draw_their_own_delays)
{
    struct faults f;
    struct rng r;
    rng_seed(&r, 12);
    faults_init(&f, 2);
    faults_set_dup(&f, 0, 1, 1);
    faults_set_delay(&f, 0, 1, 10000, 5000);
    int differ = 0;
    for (int i = 0; i < 1000; i++) {
        struct fate fate;
        faults_decide(&f, 0, 1, &r, &fate);
        CHECK(fate.copies == 2, "%d copies", fate.copies);
        differ += fate.delay_us[0] != fate.delay_us[1];
    }
    ck_assert_int_gt(differ, 900);
}
END_TEST

/* ---- JSON ----------------------------------------------------------------------------- */

START_TEST(rules_survive_a_json_round_trip)
{
    struct faults f, g;
    char err[ERRLEN] = "";
    faults_init(&f, 5);
    ck_assert_int_eq(faults_partition(&f, "n1,n2 | n3", err, sizeof err), 0);
    faults_cut(&f, 3, 4);
    faults_set_delay(&f, 0, 1, 3000000, 250);
    faults_set_loss(&f, 1, -1, 0.3);
    faults_set_dup(&f, -1, 2, 0.125);
    faults_set_reorder(&f, 4, 0, 1);
    json_t *j = faults_to_json(&f);
    char *txt = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    json_error_t je;
    json_t *back = json_loads(txt, 0, &je);
    ck_assert_ptr_nonnull(back);
    memset(&g, 0xab, sizeof g);
    ck_assert_int_eq(faults_from_json(back, &g, err, sizeof err), 0);
    json_decref(back);
    free(txt);
    ck_assert_int_eq(g.n, 5);
    ck_assert(!memcmp(g.cut, f.cut, sizeof f.cut));
    for (int a = 0; a < 5; a++)
        for (int b = 0; b < 5; b++) {
            const struct link_fault *x = &f.link[a][b], *y = &g.link[a][b];
            ck_assert(x->delay_us == y->delay_us && x->jitter_us == y->jitter_us);
            ck_assert(x->loss == y->loss && x->dup == y->dup && x->reorder == y->reorder);
        }
}
END_TEST

static const struct {
    const char *json;
    const char *error;
} bad_rules[] = {
    {"[]", "need n"},
    {"{}", "need n"},
    {"{\"n\":0,\"cuts\":[],\"links\":[]}", "need n"},
    {"{\"n\":129,\"cuts\":[],\"links\":[]}", "need n"},
    {"{\"n\":\"3\",\"cuts\":[],\"links\":[]}", "need n"},
    {"{\"n\":3,\"cuts\":{},\"links\":[]}", "need n"},
    {"{\"n\":3,\"cuts\":[],\"links\":null}", "need n"},
    {"{\"n\":3,\"cuts\":[[0,3]],\"links\":[]}", "cut 0"},
    {"{\"n\":3,\"cuts\":[[0,1],[-1,0]],\"links\":[]}", "cut 1"},
    {"{\"n\":3,\"cuts\":[[\"a\",\"b\"]],\"links\":[]}", "cut 0"},
    {"{\"n\":3,\"cuts\":[5],\"links\":[]}", "cut 0"},
    {"{\"n\":3,\"cuts\":[[0]],\"links\":[]}", "cut 0"},
    {"{\"n\":3,\"cuts\":[],\"links\":[{\"src\":0,\"dst\":9}]}", "link 0"},
    {"{\"n\":3,\"cuts\":[],\"links\":[{\"dst\":1,\"loss\":0.5}]}", "link 0"},
    {"{\"n\":3,\"cuts\":[],\"links\":[7]}", "link 0"},
    {"{\"n\":2,\"cuts\":[],\"links\":[{\"src\":0,\"dst\":1,\"jitter_us\":9223372036854775807}]}",
     "link 0: a jitter of 9223372036854775 ms is out of range: a delay and its jitter are each 0 to 600000 ms"},
    {"{\"n\":2,\"cuts\":[],\"links\":[{\"src\":0,\"dst\":1,\"delay_us\":600000001}]}",
     "link 0: a delay of 600000 ms is out of range"},
};

START_TEST(bad_rules_are_refused_with_a_reason)
{
    json_error_t je;
    json_t *j = json_loads(bad_rules[_i].json, 0, &je);
    ck_assert_ptr_nonnull(j);
    struct faults f;
    char err[ERRLEN] = "";
    ck_assert_msg(faults_from_json(j, &f, err, sizeof err) == CL_EINVAL, "%s accepted",
                  bad_rules[_i].json);
    ck_assert_msg(strstr(err, bad_rules[_i].error), "%s: got \"%s\"", bad_rules[_i].json, err);
    json_decref(j);
}
END_TEST

START_TEST(out_of_range_probabilities_are_clamped)
{
    json_error_t je;
    json_t *j = json_loads("{\"n\":2,\"cuts\":[],\"links\":[{\"src\":0,\"dst\":1,\"loss\":7,\"dup\":-1,"
                           "\"reorder\":0.5,\"delay_us\":-5,\"jitter_us\":10}]}", 0, &je);
    struct faults f;
    char err[ERRLEN] = "";
    ck_assert_int_eq(faults_from_json(j, &f, err, sizeof err), 0);
    ck_assert(f.link[0][1].loss == 1);
    ck_assert(f.link[0][1].dup == 0);
    ck_assert(f.link[0][1].reorder == 0.5);
    ck_assert(f.link[0][1].delay_us == 0);
    ck_assert(f.link[0][1].jitter_us == 10);
    json_decref(j);
}
END_TEST

/* ---- bandwidth ------------------------------------------------------------------------ */

START_TEST(a_bandwidth_sends_frames_one_after_another)
{
    struct bwq q = {0};
    /* 8 kbps: 1000 bytes = 8000 bits = 1 s on the wire */
    ck_assert_uint_eq(bwq_push(&q, 1000, 1000, 8), 1000 + 1000000);
    ck_assert_uint_eq(bwq_push(&q, 1000, 500, 8), 1000 + 1500000); /* waits its turn */
    ck_assert_uint_eq(q.n, 2);
    ck_assert_uint_eq(q.bytes, 1500);
    bwq_expire(&q, 1000 + 1000000);
    ck_assert_uint_eq(q.n, 1);
    ck_assert_uint_eq(q.bytes, 500);
    /* an idle link starts at once */
    ck_assert_uint_eq(bwq_push(&q, 5000000, 1000, 8), 5000000 + 1000000);
    ck_assert_uint_eq(q.n, 1);
    bwq_free(&q);
}
END_TEST

START_TEST(a_full_queue_refuses_the_next_frame)
{
    struct bwq q = {0};
    for (int i = 0; i < BWQ_MAX_FRAMES; i++)
        CHECK(bwq_push(&q, 0, 100, 1) > 0, "frame %d refused", i);
    ck_assert_uint_eq(bwq_push(&q, 0, 100, 1), 0);
    ck_assert_uint_eq(q.n, BWQ_MAX_FRAMES);
    bwq_expire(&q, UINT64_MAX);
    ck_assert_uint_eq(q.n, 0);
    ck_assert_uint_eq(q.bytes, 0);
    bwq_free(&q);
}
END_TEST

START_TEST(a_new_bandwidth_paces_what_is_queued_and_none_releases_it)
{
    struct bwq q = {0};
    bwq_push(&q, 0, 1000, 8);             /* out at 1 s */
    uint64_t second = bwq_push(&q, 0, 1000, 8); /* out at 2 s */
    ck_assert_uint_eq(second, 2000000);
    /* at 0.5 s the link doubles: what is left takes half as long */
    double f = bwq_rescale(&q, 500000, 8, 16);
    ck_assert(f == 0.5);
    ck_assert_uint_eq(q.busy_until, 500000 + 750000);
    ck_assert_uint_eq(bwq_retime_at(second + 300, 300, 500000, f), 500000 + 750000 + 300);
    /* a frame already out (its delay running) keeps its time */
    ck_assert_uint_eq(bwq_retime_at(400300, 300, 500000, f), 400300);
    /* no bandwidth any more: everything is out now */
    f = bwq_rescale(&q, 600000, 16, 0);
    ck_assert(f == 0);
    ck_assert_uint_eq(q.n, 0);
    ck_assert_uint_eq(bwq_retime_at(1250300, 300, 600000, f), 600300);
    bwq_free(&q);
}
END_TEST

START_TEST(bandwidth_survives_json_and_bad_values_are_refused)
{
    struct faults f, g;
    faults_init(&f, 3);
    faults_set_bandwidth(&f, 0, 1, 64);
    faults_set_bandwidth(&f, -1, 2, 8);
    ck_assert(faults_active(&f));
    json_t *j = faults_to_json(&f);
    char err[ERRLEN] = "";
    ck_assert_int_eq(faults_from_json(j, &g, err, sizeof err), 0);
    ck_assert_uint_eq(g.link[0][1].kbps, 64);
    ck_assert_uint_eq(g.link[0][2].kbps, 8);
    ck_assert_uint_eq(g.link[1][2].kbps, 8);
    ck_assert_uint_eq(g.link[1][0].kbps, 0);
    json_decref(j);
    const char *bad[] = {"-1", "1.5", "\"64\"", "20000000"};
    for (size_t i = 0; i < CL_ARRAY_LEN(bad); i++) {
        char txt[200];
        snprintf(txt, sizeof txt, "{\"n\":2,\"cuts\":[],\"links\":[{\"src\":0,\"dst\":1,\"kbps\":%s}]}", bad[i]);
        json_t *r = json_loads(txt, 0, NULL);
        ck_assert_ptr_nonnull(r);
        err[0] = 0;
        ck_assert_msg(faults_from_json(r, &g, err, sizeof err) < 0, "kbps %s accepted", bad[i]);
        ck_assert_msg(strstr(err, "kbps") != NULL, "kbps %s: %s", bad[i], err);
        json_decref(r);
    }
    faults_heal(&f);
    ck_assert_uint_eq(f.link[0][1].kbps, 0);
    faults_set_bandwidth(&f, 0, 1, FAULTS_MAX_KBPS + 5);
    ck_assert_uint_eq(f.link[0][1].kbps, FAULTS_MAX_KBPS);
}
END_TEST

Suite *suite_faults(void);
Suite *suite_faults(void)
{
    Suite *s = suite_create("faults");
    TCase *tc = tcase_create("partition");
    tcase_add_test(tc, partition_cuts_between_groups_only);
    tcase_add_test(tc, unnamed_nodes_join_the_last_group);
    tcase_add_test(tc, one_group_cuts_the_named_nodes_from_the_rest);
    tcase_add_loop_test(tc, bad_partition_specs_are_refused_with_a_reason_and_change_nothing, 0,
                        (int)CL_ARRAY_LEN(bad_specs));
    suite_add_tcase(s, tc);
    tc = tcase_create("shapes");
    tcase_add_loop_test(tc, two_sided_shapes_have_the_documented_sizes, 0, (int)CL_ARRAY_LEN(two_sided));
    tcase_add_test(tc, majorities_ring_gives_every_node_a_different_majority);
    tcase_add_test(tc, bridge_joins_two_halves_through_one_node);
    tcase_add_test(tc, shapes_follow_the_seed);
    tcase_add_test(tc, bad_shapes_are_refused_with_a_reason);
    tcase_add_test(tc, isolate_cuts_one_node_both_ways);
    tcase_add_test(tc, one_way_cut_drops_one_direction_only);
    suite_add_tcase(s, tc);
    tc = tcase_create("decide");
    tcase_add_test(tc, loss_and_duplication_happen_at_their_rates);
    tcase_add_test(tc, delays_stay_within_the_jitter_bounds);
    tcase_add_test(tc, jitter_larger_than_the_delay_never_goes_below_zero);
    tcase_add_test(tc, delay_and_jitter_are_bounded_and_the_range_is_named);
    tcase_add_test(tc, reordering_adds_a_bounded_extra_delay);
    tcase_add_test(tc, duplicates_draw_their_own_delays);
    suite_add_tcase(s, tc);
    tc = tcase_create("json");
    tcase_add_test(tc, rules_survive_a_json_round_trip);
    tcase_add_loop_test(tc, bad_rules_are_refused_with_a_reason, 0, (int)CL_ARRAY_LEN(bad_rules));
    tcase_add_test(tc, out_of_range_probabilities_are_clamped);
    suite_add_tcase(s, tc);
    tc = tcase_create("bandwidth");
    tcase_add_test(tc, a_bandwidth_sends_frames_one_after_another);
    tcase_add_test(tc, a_full_queue_refuses_the_next_frame);
    tcase_add_test(tc, a_new_bandwidth_paces_what_is_queued_and_none_releases_it);
    tcase_add_test(tc, bandwidth_survives_json_and_bad_values_are_refused);
    suite_add_tcase(s, tc);
    return s;
}
