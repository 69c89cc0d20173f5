/* check_benchstat — benchmark figures: percentiles by nearest rank, throughput, summary. */
#include <check.h>
#include <string.h>

#include "benchstat.h"

START_TEST(percentiles_follow_the_nearest_rank)
{
    struct benchstat *b = benchstat_new();
    for (uint64_t i = 100; i >= 1; i--)
        benchstat_ok(b, i * 1000); /* 1 ms .. 100 ms, fed out of order */
    ck_assert_uint_eq(benchstat_count(b), 100);
    ck_assert_uint_eq(benchstat_percentile(b, 50), 50000);
    ck_assert_uint_eq(benchstat_percentile(b, 99), 99000);
    ck_assert_uint_eq(benchstat_percentile(b, 99.5), 100000);
    ck_assert_uint_eq(benchstat_percentile(b, 0), 1000);
    ck_assert_uint_eq(benchstat_percentile(b, 100), 100000);
    ck_assert(benchstat_mean(b) > 50400 && benchstat_mean(b) < 50600);
    benchstat_ok(b, 1); /* adding after a query re-sorts */
    ck_assert_uint_eq(benchstat_percentile(b, 0), 1);
    benchstat_destroy(&b);
    ck_assert_ptr_null(b);
}
END_TEST

START_TEST(summary_reports_throughput_and_failures)
{
    struct benchstat *b = benchstat_new();
    for (int i = 0; i < 3900; i++)
        benchstat_ok(b, 2500 + (uint64_t)(i % 10) * 700);
    benchstat_fail(b);
    benchstat_timeout(b);
    benchstat_timeout(b);
    struct sb out = {0};
    benchstat_summary(b, 1000000, &out);
    ck_assert_msg(strstr(out.s, "3900 ops in 1.00s: 3900 ops/s"), "%s", out.s);
    ck_assert_msg(strstr(out.s, "p99 8.8ms"), "%s", out.s);
    ck_assert_msg(strstr(out.s, "(1 failed, 2 timed out)"), "%s", out.s);
    sb_free(&out);
    benchstat_destroy(&b);
}
END_TEST

START_TEST(an_empty_run_prints_zero_without_dividing_by_zero)
{
    struct benchstat *b = benchstat_new();
    struct sb out = {0};
    ck_assert_uint_eq(benchstat_percentile(b, 99), 0);
    benchstat_summary(b, 0, &out);
    ck_assert_str_eq(out.s, "0 ops in 0.00s: 0 ops/s");
    sb_free(&out);
    benchstat_destroy(&b);
}
END_TEST

Suite *suite_benchstat(void);
Suite *suite_benchstat(void)
{
    Suite *s = suite_create("benchstat");
    TCase *tc = tcase_create("figures");
    tcase_add_test(tc, percentiles_follow_the_nearest_rank);
    tcase_add_test(tc, summary_reports_throughput_and_failures);
    tcase_add_test(tc, an_empty_run_prints_zero_without_dividing_by_zero);
    suite_add_tcase(s, tc);
    return s;
}
