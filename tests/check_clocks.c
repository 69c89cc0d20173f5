/* check_clocks — Lamport and vector clocks order causally related events, and the physical
 * clock applies skew, bumps and strobes without ever going below zero. */
#include <check.h>
#include <string.h>

#include "clocks.h"
#include "envelope.h"
#include "fixture.h"
#include "mode.h"
#include "rng.h"

START_TEST(lamport_receive_is_later_than_the_send)
{
    struct clocks a, b;
    clocks_init(&a, 0, 2);
    clocks_init(&b, 1, 2);
    for (int i = 0; i < 10; i++)
        clocks_tick(&a);            /* a is ahead */
    clocks_on_send(&a);
    uint64_t stamp = a.lamport;
    ck_assert_uint_eq(stamp, 11);
    clocks_on_recv(&b, stamp, a.vc, a.n);
    ck_assert_uint_gt(b.lamport, stamp);
    /* a receiver already ahead stays ahead and still ticks */
    for (int i = 0; i < 50; i++)
        clocks_tick(&b);
    uint64_t before = b.lamport;
    clocks_on_recv(&b, 3, a.vc, a.n);
    ck_assert_uint_eq(b.lamport, before + 1);
}
END_TEST

START_TEST(vector_clocks_merge_by_maximum_then_tick_self)
{
    struct clocks c;
    clocks_init(&c, 1, 3);
    c.vc[0] = 5;
    c.vc[1] = 2;
    c.vc[2] = 9;
    uint64_t in[3] = {7, 4, 1};
    clocks_on_recv(&c, 0, in, 3);
    ck_assert_uint_eq(c.vc[0], 7);
    ck_assert_uint_eq(c.vc[1], 5); /* max(2,4) + own tick */
    ck_assert_uint_eq(c.vc[2], 9);
    /* a shorter vector merges what it has; an over-long one is cut at CL_MAXNODES */
    uint64_t big[CL_MAXNODES + 4];
    for (int i = 0; i < CL_MAXNODES + 4; i++)
        big[i] = 100;
    clocks_on_recv(&c, 0, big, CL_MAXNODES + 4);
    ck_assert_uint_eq(c.vc[CL_MAXNODES - 1], 100);
    clocks_on_recv(&c, 0, NULL, 0);
    ck_assert_uint_eq(c.vc[1], 102);
}
END_TEST

/* Is x <= y entry-wise? */
static int vc_le(const uint64_t *x, const uint64_t *y, int n)
{
    for (int i = 0; i < n; i++)
        if (x[i] > y[i])
            return 0;
    return 1;
}

START_TEST(vector_clocks_capture_happens_before_in_random_runs)
{
    /* three nodes exchange messages at random; every receive event's clock dominates the
     * send's, and two concurrent sends from different nodes are incomparable until one
     * hears of the other */
    struct rng r;
    rng_seed(&r, 5);
    struct clocks c[3];
    for (int i = 0; i < 3; i++)
        clocks_init(&c[i], i, 3);
    for (int step = 0; step < 5000; step++) {
        int from = (int)rng_range(&r, 0, 2), to = (int)rng_range(&r, 0, 2);
        if (from == to) {
            clocks_tick(&c[from]);
            continue;
        }
        clocks_on_send(&c[from]);
        uint64_t sent[3], lam = c[from].lamport;
        memcpy(sent, c[from].vc, sizeof sent);
        clocks_on_recv(&c[to], lam, sent, 3);
        /* the receive dominates the send, strictly */
        if (!vc_le(sent, c[to].vc, 3) || vc_le(c[to].vc, sent, 3) || c[to].lamport <= lam)
            ck_abort_msg("step %d: n%d -> n%d not ordered after the send", step, from + 1, to + 1);
    }
    struct clocks x, y;
    clocks_init(&x, 0, 2);
    clocks_init(&y, 1, 2);
    clocks_on_send(&x);
    clocks_on_send(&y);
    ck_assert(!vc_le(x.vc, y.vc, 2) && !vc_le(y.vc, x.vc, 2)); /* concurrent */
}
END_TEST

START_TEST(logical_clocks_stop_at_the_largest_value_the_wire_carries)
{
    /* a peer (or a program posing as one) stamping INT64_MAX must not make this node's next
     * stamps wrap or exceed what the envelope decoder accepts (non-negative JSON integers) */
    struct clocks c;
    clocks_init(&c, 0, 2);
    uint64_t vc[2] = {5, (uint64_t)INT64_MAX};
    clocks_on_recv(&c, (uint64_t)INT64_MAX, vc, 2);
    ck_assert_uint_eq(c.lamport, (uint64_t)INT64_MAX);
    clocks_on_send(&c);
    ck_assert_uint_eq(c.lamport, (uint64_t)INT64_MAX);
    ck_assert_uint_eq(c.vc[1], (uint64_t)INT64_MAX);
    c.vc[0] = (uint64_t)INT64_MAX;
    clocks_tick(&c);
    ck_assert_uint_eq(c.vc[0], (uint64_t)INT64_MAX);
    uint64_t huge[1] = {UINT64_MAX};
    clocks_on_recv(&c, UINT64_MAX, huge, 1);
    ck_assert_uint_le(c.lamport, (uint64_t)INT64_MAX);
    ck_assert_uint_le(c.vc[0], (uint64_t)INT64_MAX);
}
END_TEST

START_TEST(skew_and_bumps_shift_the_physical_clock)
{
    struct clocks c;
    clocks_init(&c, 0, 1);
    ck_assert_uint_eq(clocks_physical(&c, 1000000), 1000000);
    c.skew_us = 5000;
    ck_assert_uint_eq(clocks_physical(&c, 1000000), 1005000);
    c.skew_us += -8000; /* a bump back */
    ck_assert_uint_eq(clocks_physical(&c, 1000000), 997000);
}
END_TEST

START_TEST(physical_clock_never_goes_below_zero)
{
    struct clocks c;
    clocks_init(&c, 0, 1);
    c.skew_us = -5000;
    ck_assert_uint_eq(clocks_physical(&c, 3000), 0);
    ck_assert_uint_eq(clocks_physical(&c, 5000), 0);
    ck_assert_uint_eq(clocks_physical(&c, 5001), 1);
    c.skew_us = INT64_MIN / 2;
    ck_assert_uint_eq(clocks_physical(&c, 1000000), 0);
}
END_TEST

START_TEST(huge_skews_and_strobes_saturate_instead_of_wrapping)
{
    struct clocks c;
    clocks_init(&c, 0, 1);
    uint64_t now = 1732471000123456ull;
    c.skew_us = INT64_MAX;
    ck_assert_uint_eq(clocks_physical(&c, now), (uint64_t)INT64_MAX);
    c.skew_us = INT64_MIN;
    ck_assert_uint_eq(clocks_physical(&c, now), 0);
    c.skew_us = 0;
    c.strobe_us = UINT64_MAX;
    c.strobe_period_us = 1000;
    c.strobe_from_us = now;
    ck_assert_uint_ge(clocks_physical(&c, now), now); /* +strobe, saturated: never wraps low */
    ck_assert_uint_eq(clocks_physical(&c, now + 1000), now + 1000);
}
END_TEST

START_TEST(strobe_alternates_every_period_from_its_start)
{
    struct clocks c;
    clocks_init(&c, 0, 1);
    c.strobe_us = 500;
    c.strobe_period_us = 1000;
    c.strobe_from_us = 10000;
    ck_assert_uint_eq(clocks_physical(&c, 9999), 9999);          /* before it started */
    ck_assert_uint_eq(clocks_physical(&c, 10000), 10500);        /* first period: +strobe */
    ck_assert_uint_eq(clocks_physical(&c, 10999), 11499);
    ck_assert_uint_eq(clocks_physical(&c, 11000), 11000);        /* second: +0 */
    ck_assert_uint_eq(clocks_physical(&c, 12000), 12500);
    /* with a negative skew: the strobe rides on top, still never below 0 */
    c.skew_us = -10600;
    ck_assert_uint_eq(clocks_physical(&c, 10000), 0);
    ck_assert_uint_eq(clocks_physical(&c, 12000), 1900);
    /* period 0 turns it off */
    c.strobe_period_us = 0;
    c.skew_us = 0;
    ck_assert_uint_eq(clocks_physical(&c, 10000), 10000);
}
END_TEST

START_TEST(tick_with_a_bad_self_index_touches_no_vector_entry)
{
    struct clocks c;
    clocks_init(&c, -1, 3);
    clocks_tick(&c);
    ck_assert_uint_eq(c.lamport, 1);
    for (int i = 0; i < CL_MAXNODES; i++)
        ck_assert_uint_eq(c.vc[i], 0);
    clocks_init(&c, CL_MAXNODES, 3);
    clocks_on_send(&c);
    ck_assert_uint_eq(c.lamport, 1);
}
END_TEST


/* ---- HLC, stamped by the simulator like the runtime (SCENARIOS.md L3, L4) ---------------- */

extern const struct mode mode_raft;

struct hlc_watch {
    struct fixture *f;
    uint64_t l[CL_MAXN], c[CL_MAXN];
    int64_t span;               /* largest skew minus smallest: the bound on l - pt */
    uint64_t stamps, max_c, max_ahead;
};

/* After every step: a node whose HLC moved moved forward, to at least its physical time and
 * at most `span` ahead of it. */
static void hlc_step(void *ud)
{
    struct hlc_watch *w = ud;
    for (int i = 0; i < w->f->n; i++) {
        struct clocks *k = sim_clocks(w->f->s, i);
        if (k->hlc_l == w->l[i] && k->hlc_c == w->c[i])
            continue;
        uint64_t pt = sim_node_now_us(w->f->s, i);
        if (k->hlc_l < w->l[i] || (k->hlc_l == w->l[i] && k->hlc_c <= w->c[i]))
            fixture_failf(w->f, "n%d's hlc went back: %llu.%llu after %llu.%llu", i + 1, (unsigned long long)k->hlc_l,
                          (unsigned long long)k->hlc_c, (unsigned long long)w->l[i], (unsigned long long)w->c[i]);
        if (k->hlc_l < pt)
            fixture_failf(w->f, "n%d's hlc l=%llu is below its physical clock %llu", i + 1,
                          (unsigned long long)k->hlc_l, (unsigned long long)pt);
        else if ((int64_t)(k->hlc_l - pt) > w->span)
            fixture_failf(w->f, "n%d's hlc runs %lld us ahead of its physical clock, above the skew span %lld", i + 1,
                          (long long)(k->hlc_l - pt), (long long)w->span);
        else if (k->hlc_l - pt > w->max_ahead)
            w->max_ahead = k->hlc_l - pt;
        if (k->hlc_c > w->max_c)
            w->max_c = k->hlc_c;
        w->l[i] = k->hlc_l;
        w->c[i] = k->hlc_c;
        w->stamps++;
    }
}

START_TEST(hlc_stays_within_the_clock_skew_of_physical_time_and_never_goes_back)
{
    static const int64_t skew_ms[] = {-40, 35, 0, 10, -20};
    struct fixture *f = fixture_new(&mode_raft, 5, "", 9 + (uint64_t)_i);
    struct hlc_watch w = {.f = f, .span = 75000};
    for (int i = 0; i < 5; i++)
        sim_clocks(f->s, i)->skew_us = skew_ms[i] * 1000;
    faults_set_delay(sim_faults(f->s), -1, -1, 1000, 4000);
    fixture_watch(f, NULL, hlc_step, &w);
    for (int k = 0; k < 20; k++) {
        char v[8];
        snprintf(v, sizeof v, "%d", k);
        fixture_invoke(f, k % 5, "write", "x", v, NULL);
        fixture_run(f, 50000);
    }
    FIXTURE_OK(f);
    ck_assert_uint_gt(w.stamps, 100);
    ck_assert_uint_gt(w.max_ahead, 0);      /* the slow clocks did run behind what they heard */
    ck_assert_uint_lt(w.max_c, 5 * 75001); /* the paper's bound on c: N(ε+1) */
    fixture_free(&f);
}
END_TEST

START_TEST(hlc_stays_monotonic_when_a_clock_jumps_back_where_physical_stamps_invert)
{
    struct fixture *f = fixture_new(&mode_raft, 3, "", 3);
    struct hlc_watch w = {.f = f, .span = INT64_MAX};
    fixture_watch(f, NULL, hlc_step, &w);
    fixture_run(f, 1000000);
    uint64_t before_pt = sim_node_now_us(f->s, 0), before_l = sim_clocks(f->s, 0)->hlc_l;
    sim_clocks(f->s, 0)->skew_us -= 2000000; /* `clock bump n1 -2000` */
    fixture_run(f, 1000000);
    ck_assert_uint_lt(sim_node_now_us(f->s, 0), before_pt); /* raw physical time went back */
    ck_assert_uint_ge(sim_clocks(f->s, 0)->hlc_l, before_l); /* the hlc did not */
    FIXTURE_OK(f);                                            /* and never went back (hlc_step) */
    fixture_free(&f);
}
END_TEST

START_TEST(envelopes_carry_the_hlc_and_refuse_a_malformed_one)
{
    struct envelope e = {0};
    char err[200];
    const char *ok = "{\"src\":\"n1\",\"dest\":\"n2\",\"body\":{\"type\":\"x\"},\"hlc\":[1700000000000123,4]}";
    ck_assert_int_eq(envelope_decode(ok, strlen(ok), &e, err, sizeof err), 0);
    ck_assert_uint_eq(e.hlc_l, 1700000000000123ull);
    ck_assert_uint_eq(e.hlc_c, 4);
    size_t len;
    char *s = envelope_encode(&e, &len);
    ck_assert_ptr_nonnull(strstr(s, "\"hlc\":[1700000000000123,4]"));
    free(s);
    envelope_clear(&e);
    const char *bad[] = {"{\"src\":\"n1\",\"dest\":\"n2\",\"body\":{\"type\":\"x\"},\"hlc\":[1]}",
                         "{\"src\":\"n1\",\"dest\":\"n2\",\"body\":{\"type\":\"x\"},\"hlc\":[-1,0]}",
                         "{\"src\":\"n1\",\"dest\":\"n2\",\"body\":{\"type\":\"x\"},\"hlc\":\"soon\"}"};
    for (size_t i = 0; i < 3; i++) {
        err[0] = 0;
        ck_assert_int_lt(envelope_decode(bad[i], strlen(bad[i]), &e, err, sizeof err), 0);
        ck_assert_ptr_nonnull(strstr(err, "hlc"));
    }
}
END_TEST

START_TEST(drift_grows_the_offset_by_its_rate_from_when_it_was_set)
{
    struct clocks c;
    clocks_init(&c, 0, 3);
    c.skew_us = -3000;
    c.drift_ppm = 500;              /* 0.5 ms per second */
    c.drift_from_us = 10000000;
    ck_assert_int_eq(clocks_offset(&c, 5000000), -3000);       /* before it started: the skew */
    ck_assert_int_eq(clocks_offset(&c, 10000000), -3000);
    ck_assert_int_eq(clocks_offset(&c, 14000000), -1000);      /* 4 s later: +2 ms */
    ck_assert_uint_eq(clocks_physical(&c, 14000000), 13999000);
    c.drift_ppm = -1000000;         /* a stopped clock never goes below 0 */
    ck_assert_uint_eq(clocks_physical(&c, 20000000), 9997000);
    ck_assert_uint_eq(clocks_physical(&c, 4000000000ull), 9997000);
    c.drift_ppm = 1000000;          /* huge rates saturate */
    c.drift_from_us = 0;
    ck_assert_uint_ge(clocks_physical(&c, UINT64_MAX / 2), UINT64_MAX / 4);
}
END_TEST

START_TEST(ntp_steps_each_clock_to_true_time_within_its_error_at_every_poll)
{
    for (int node = 0; node < 5; node++) {
        struct clocks c;
        clocks_init(&c, node, 5);
        c.skew_us = 5000000;        /* 5 s ahead */
        c.drift_ppm = 200;
        c.drift_from_us = 1000000;
        c.ntp_from_us = 50000000;
        c.ntp_poll_us = 1000000;
        c.ntp_err_us = 2000;
        ck_assert_int_gt(clocks_offset(&c, 49000000), 5000000); /* before the first sync */
        int64_t seen_lo = 0, seen_hi = 0;
        for (uint64_t t = 50000000; t < 80000000; t += 250000) {
            int64_t off = clocks_offset(&c, t);
            uint64_t since = (t - 50000000) % 1000000;       /* since the last sync */
            int64_t drift = (int64_t)(since * 200 / 1000000);
            ck_assert_msg(off >= -2000 + drift && off <= 2000 + drift, "node %d at %llu: offset %lld", node,
                          (unsigned long long)t, (long long)off);
            if (!since) {
                seen_lo = off < seen_lo ? off : seen_lo;
                seen_hi = off > seen_hi ? off : seen_hi;
            }
        }
        ck_assert_msg(seen_hi - seen_lo > 500, "node %d: residuals vary (%lld..%lld)", node, (long long)seen_lo,
                      (long long)seen_hi);
        /* a skew set between two syncs holds until the next one corrects it */
        c.skew_us = 40000;
        c.drift_from_us = 80500000;
        ck_assert_int_eq(clocks_offset(&c, 80600000), 40000 + 20);
        int64_t after = clocks_offset(&c, 81000000);
        ck_assert_msg(after >= -2000 && after <= 2000, "after the next sync: %lld", (long long)after);
        /* the same sync leaves the same residual: a replay agrees */
        ck_assert_int_eq(clocks_ntp_residual(node, 7, 2000), clocks_ntp_residual(node, 7, 2000));
        ck_assert_int_eq(clocks_ntp_residual(node, 7, 0), 0);
    }
}
END_TEST

Suite *suite_clocks(void);
Suite *suite_clocks(void)
{
    Suite *s = suite_create("clocks");
    TCase *tc = tcase_create("logical");
    tcase_add_test(tc, lamport_receive_is_later_than_the_send);
    tcase_add_test(tc, vector_clocks_merge_by_maximum_then_tick_self);
    tcase_add_test(tc, vector_clocks_capture_happens_before_in_random_runs);
    tcase_add_test(tc, tick_with_a_bad_self_index_touches_no_vector_entry);
    tcase_add_test(tc, logical_clocks_stop_at_the_largest_value_the_wire_carries);
    suite_add_tcase(s, tc);
    tc = tcase_create("physical");
    tcase_add_test(tc, skew_and_bumps_shift_the_physical_clock);
    tcase_add_test(tc, physical_clock_never_goes_below_zero);
    tcase_add_test(tc, strobe_alternates_every_period_from_its_start);
    tcase_add_test(tc, huge_skews_and_strobes_saturate_instead_of_wrapping);
    tcase_add_test(tc, drift_grows_the_offset_by_its_rate_from_when_it_was_set);
    tcase_add_test(tc, ntp_steps_each_clock_to_true_time_within_its_error_at_every_poll);
    suite_add_tcase(s, tc);
    tc = tcase_create("hlc");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, hlc_stays_within_the_clock_skew_of_physical_time_and_never_goes_back, 0, 3);
    tcase_add_test(tc, hlc_stays_monotonic_when_a_clock_jumps_back_where_physical_stamps_invert);
    tcase_add_test(tc, envelopes_carry_the_hlc_and_refuse_a_malformed_one);
    suite_add_tcase(s, tc);
    return s;
}
