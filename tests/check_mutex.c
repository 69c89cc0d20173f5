/* check_mutex — `check mutex` (lab/check/mutex.h): the pause-past-the-lease history with
 * fencing off (overlap and a stale token accepted: violated) and on (the overlap is fenced, the
 * stale write refused: holds); locks taken one after the other; records checked field by
 * field; `conlab check --mutex` exit codes; the fuzz corpus replayed. */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkcli.h"
#include "fuzz_mutex_one.h"
#include "test_util.h"
#include "mutex.h"

static int judge_text(const char *text, struct sb *out)
{
    struct mutex_hist *h = NULL;
    char err[400];
    ck_assert_msg(mutex_parse(text, strlen(text), &h, err, sizeof err) == 0, "%s", err);
    int rc = mutex_check(h, out);
    mutex_hist_free(&h);
    return rc;
}

static int cli(struct sb *out, struct sb *err, const char *file)
{
    char *argv[] = {(char *)"check", (char *)"--mutex", (char *)file, NULL};
    return checkcli_run(3, argv, out, err);
}

START_TEST(a_paused_holder_writing_without_fencing_is_a_violation)
{
    struct sb out = {0}, err = {0};
    ck_assert_int_eq(cli(&out, &err, "tests/histories/mutex/fencing-off.jsonl"), 1);
    ck_assert_msg(strstr(out.s, "mutex VIOLATED: 1 overlapping critical section, 1 write accepted with a stale token"), "%s", out.s);
    ck_assert_msg(strstr(out.s, "c1 (token 34, since 1.20s) and c2 (token 35) both held orders from 4.52s to 7.60s"), "%s", out.s);
    ck_assert_msg(strstr(out.s, "accepted c1's write order-7=paid with token 34 at 7.50s after it had accepted token 35 from c2"), "%s", out.s);
    sb_free(&out);
    sb_free(&err);
}
END_TEST

START_TEST(with_fencing_the_overlap_is_harmless_and_the_stale_write_refused)
{
    struct sb out = {0}, err = {0};
    ck_assert_int_eq(cli(&out, &err, "tests/histories/mutex/fencing-on.jsonl"), 0);
    ck_assert_msg(strstr(out.s, "mutex holds: 2 critical sections of 1 lock, 1 overlap fenced; 2 writes (1 refused by fencing)"), "%s", out.s);
    ck_assert_msg(strstr(out.s, "overlap, fenced: c1 (token 34"), "%s", out.s);
    sb_free(&out);
    sb_free(&err);
}
END_TEST

START_TEST(locks_taken_one_after_the_other_hold)
{
    struct sb out = {0}, err = {0};
    ck_assert_int_eq(cli(&out, &err, "tests/histories/mutex/one-at-a-time.jsonl"), 0);
    ck_assert_msg(strstr(out.s, "mutex holds: 3 critical sections of 2 locks, no two overlap; 1 write"), "%s", out.s);
    sb_free(&out);
    /* an empty history has nothing to judge */
    ck_assert_int_eq(judge_text("", &out), 0);
    ck_assert_msg(strstr(out.s, "nothing to judge"), "%s", out.s);
    sb_free(&out);
    /* a lock never released overlaps everything after it */
    ck_assert_int_eq(judge_text("{\"t\":1,\"ev\":\"mutex\",\"op\":\"acquire\",\"client\":\"a\",\"lock\":\"L\",\"token\":1}\n"
                                "{\"t\":2,\"ev\":\"mutex\",\"op\":\"acquire\",\"client\":\"b\",\"lock\":\"L\",\"token\":2}\n",
                                &out),
                     1);
    ck_assert_msg(strstr(out.s, "to the end of the history"), "%s", out.s);
    sb_free(&out);
    sb_free(&err);
}
END_TEST

START_TEST(malformed_records_are_refused_with_their_line)
{
    static const struct {
        const char *text, *want;
    } bad[] = {
        {"{\"ev\":\"state\"}\n{\"ev\":\"mutex\",\"op\":\"grab\"}\n", "line 2: \"op\" must be acquire, release or write"},
        {"{\"ev\":\"mutex\",\"op\":\"acquire\",\"client\":\"c1\",\"lock\":\"x\",\"t\":1}", "line 1: a mutex record needs \"token\""},
        {"{\"ev\":\"mutex\",\"op\":\"acquire\",\"client\":\"c1\",\"token\":1,\"t\":1}", "needs \"lock\""},
        {"{\"ev\":\"mutex\",\"op\":\"acquire\",\"client\":\"c1\",\"lock\":\"x\",\"token\":-1,\"t\":1}", "\"token\" must be a whole number"},
        {"{\"ev\":\"mutex\",\"op\":\"write\",\"client\":\"c1\",\"token\":1,\"t\":1,\"resource\":\"r\",\"accepted\":1,\"fencing\":true}", "needs \"accepted\""},
        {"\n\n{\"ev\":", "line 3: not JSON"},
        {"[]", "line 1: a record must be a JSON object"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct mutex_hist *h = NULL;
        char err[400] = "";
        ck_assert_int_eq(mutex_parse(bad[i].text, strlen(bad[i].text), &h, err, sizeof err), CL_EINVAL);
        ck_assert_ptr_null(h);
        ck_assert_msg(strstr(err, bad[i].want), "case %zu: %s", i, err);
    }
    struct sb out = {0}, err = {0};
    ck_assert_int_eq(cli(&out, &err, "/nonexistent/mutex.jsonl"), 2);
    ck_assert_msg(strstr(err.s, "cannot open"), "%s", err.s);
    sb_free(&out);
    sb_free(&err);
}
END_TEST

START_TEST(the_fuzz_corpus_replays_cleanly)
{
    ck_assert_int_ge(test_replay_corpus("mutex", fuzz_mutex_one), 5);
}
END_TEST

Suite *suite_mutex(void);
Suite *suite_mutex(void)
{
    Suite *s = suite_create("mutex");
    TCase *tc = tcase_create("mutex");
    tcase_add_test(tc, a_paused_holder_writing_without_fencing_is_a_violation);
    tcase_add_test(tc, with_fencing_the_overlap_is_harmless_and_the_stale_write_refused);
    tcase_add_test(tc, locks_taken_one_after_the_other_hold);
    tcase_add_test(tc, malformed_records_are_refused_with_their_line);
    tcase_add_test(tc, the_fuzz_corpus_replays_cleanly);
    suite_add_tcase(s, tc);
    return s;
}
