/* check_kit_hlc — hybrid logical clocks (SCENARIOS.md L3, L4) on random runs: N nodes whose
 * physical clocks are skewed by up to ε from true time send each other messages with random
 * delays. After every event: stamps strictly increase per node; a receive is stamped above its
 * send (happened-before respected); l ≥ pt; l − pt ≤ ε (the bound of Kulkarni et al.: l is a
 * physical time some node had, never ahead of the fastest clock); c stays below N(ε+1) … in
 * practice far below. And with a clock that jumps back (L4) the HLC stays monotonic where raw
 * physical timestamps invert. */
#include <check.h>
#include <inttypes.h>
#include <string.h>

#include "hlc.h"
#include "rng.h"
#include "test_util.h"

#define NODES 5
#define MAXQ 256

struct msg {
    int to;
    uint64_t deliver_at;     /* true time */
    struct hlc stamp;
};

START_TEST(hlc_is_monotonic_respects_causality_and_stays_within_the_skew_bound)
{
    struct rng r;
    rng_seed(&r, 7 + (uint64_t)_i);
    const int64_t eps = 5000;              /* µs: the largest offset of any clock from true time */
    int64_t skew[NODES];
    struct hlc h[NODES];
    memset(h, 0, sizeof h);
    for (int i = 0; i < NODES; i++)
        skew[i] = (int64_t)rng_range(&r, 0, 2 * (uint64_t)eps) - eps;
    struct msg q[MAXQ];
    int nq = 0;
    uint64_t now = 1000000;                /* true time, µs */
    uint64_t max_c = 0;
    int events = test_seeds(20000);
    for (int k = 0; k < events; k++) {
        now += rng_range(&r, 0, 300);      /* events are close: counters have work to do */
        /* deliver what is due */
        for (int m = 0; m < nq; m++) {
            if (q[m].deliver_at > now)
                continue;
            int i = q[m].to;
            uint64_t pt = (uint64_t)((int64_t)now + skew[i]);
            struct hlc before = h[i];
            struct hlc got = hlc_recv(&h[i], q[m].stamp, pt);
            ck_assert_msg(hlc_cmp(got, before) > 0, "receive not after the node's previous stamp");
            ck_assert_msg(hlc_cmp(got, q[m].stamp) > 0, "receive not after its send");
            ck_assert_uint_ge(got.l, pt);
            ck_assert_msg(got.l - pt <= (uint64_t)(2 * eps), "l - pt = %" PRIu64 " above 2ε", got.l - pt);
            if (got.c > max_c)
                max_c = got.c;
            q[m--] = q[--nq];
        }
        /* a send (or a local event) */
        int i = (int)rng_range(&r, 0, NODES - 1);
        uint64_t pt = (uint64_t)((int64_t)now + skew[i]);
        struct hlc before = h[i];
        struct hlc s = hlc_send(&h[i], pt);
        ck_assert_msg(hlc_cmp(s, before) > 0, "send not after the node's previous stamp");
        ck_assert_uint_ge(s.l, pt);
        ck_assert_msg(s.l - pt <= (uint64_t)(2 * eps), "l - pt = %" PRIu64 " above 2ε", s.l - pt);
        if (nq < MAXQ) {
            int to = (int)rng_range(&r, 0, NODES - 2);
            q[nq++] = (struct msg){to >= i ? to + 1 : to, now + rng_range(&r, 100, 3000), s};
        }
        if (s.c > max_c)
            max_c = s.c;
    }
    /* the paper's bound on c: N(ε+1) with ε in clock ticks (µs here) */
    ck_assert_uint_lt(max_c, (uint64_t)NODES * (uint64_t)(2 * eps + 1));
}
END_TEST

START_TEST(a_clock_that_jumps_back_does_not_take_the_hlc_with_it)
{
    struct hlc h = {0};
    struct hlc a = hlc_send(&h, 5000000);
    /* the physical clock is set back 2 s (an NTP step, `clock bump n1 -2000`) */
    struct hlc b = hlc_send(&h, 3000000);
    struct hlc c = hlc_send(&h, 3000100);
    ck_assert_int_gt(hlc_cmp(b, a), 0);
    ck_assert_int_gt(hlc_cmp(c, b), 0);
    ck_assert_uint_eq(b.l, 5000000);   /* l holds the largest time heard of */
    ck_assert_uint_eq(c.c, 2);
    /* raw physical stamps would have put b and c before a: the anomaly L4 shows */
    ck_assert_uint_lt(3000100, a.l);
    /* once the physical clock passes l again, c resets */
    struct hlc d = hlc_send(&h, 5000001);
    ck_assert_uint_eq(d.l, 5000001);
    ck_assert_uint_eq(d.c, 0);
}
END_TEST

START_TEST(receive_takes_the_larger_of_three_times_and_the_counter_rules)
{
    struct hlc h = {100, 4};
    struct hlc m = {100, 9};
    struct hlc r = hlc_recv(&h, m, 50); /* l = l = lm: max(c, cm) + 1 */
    ck_assert_uint_eq(r.l, 100);
    ck_assert_uint_eq(r.c, 10);
    m = (struct hlc){200, 3};
    r = hlc_recv(&h, m, 150);           /* lm largest: cm + 1 */
    ck_assert_uint_eq(r.l, 200);
    ck_assert_uint_eq(r.c, 4);
    m = (struct hlc){150, 8};
    r = hlc_recv(&h, m, 120);           /* own l largest: c + 1 */
    ck_assert_uint_eq(r.l, 200);
    ck_assert_uint_eq(r.c, 5);
    r = hlc_recv(&h, m, 900);           /* physical time largest: 0 */
    ck_assert_uint_eq(r.l, 900);
    ck_assert_uint_eq(r.c, 0);
}
END_TEST

START_TEST(packing_orders_as_the_pair_and_text_reads_in_ms)
{
    struct hlc a = {1712000123, 0}, b = {1712000123, 1}, c = {1712000124, 0};
    ck_assert_uint_lt(hlc_pack(a), hlc_pack(b));
    ck_assert_uint_lt(hlc_pack(b), hlc_pack(c));
    ck_assert_int_eq(hlc_cmp(hlc_unpack(hlc_pack(b)), b), 0);
    struct sb t = {0};
    hlc_text(b, &t);
    ck_assert_str_eq(t.s, "1712000.123+1");
    sb_free(&t);
}
END_TEST

Suite *suite_kit_hlc(void);
Suite *suite_kit_hlc(void)
{
    Suite *s = suite_create("kit_hlc");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, hlc_is_monotonic_respects_causality_and_stays_within_the_skew_bound, 0, 5);
    tcase_add_test(tc, a_clock_that_jumps_back_does_not_take_the_hlc_with_it);
    tcase_add_test(tc, receive_takes_the_larger_of_three_times_and_the_counter_rules);
    tcase_add_test(tc, packing_orders_as_the_pair_and_text_reads_in_ms);
    suite_add_tcase(s, tc);
    return s;
}
