/* check_sessions — session guarantees (each one caught on a hand-written history, naming the
 * pair), sequential consistency as the teaching contrast to linearizability, and
 * convergence of replicas. */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkbench.h"
#include "checkcli.h"
#include "histfile.h"
#include "lincheck.h"
#include "sessions.h"
#include "test_util.h"

static struct history *load(const char *path)
{
    char err[512];
    struct history *h = NULL;
    ck_assert_msg(history_load(path, &h, err, sizeof err) == 0, "%s", err);
    return h;
}

static const char *const guarantee_files[][2] = {
    {"sess-bad-read-your-writes.jsonl", "read-your-writes"},
    {"sess-bad-read-your-writes-older-own.jsonl", "read-your-writes"},
    {"sess-bad-monotonic-reads.jsonl", "monotonic-reads"},
    {"sess-bad-monotonic-writes.jsonl", "monotonic-writes"},
    {"sess-bad-writes-follow-reads.jsonl", "writes-follow-reads"},
};

START_TEST(each_guarantee_is_caught_and_names_the_pair)
{
    char path[256];
    snprintf(path, sizeof path, "tests/histories/%s", guarantee_files[_i][0]);
    struct history *h = load(path);
    struct sess_result *r = NULL;
    ck_assert_int_eq(sessions_check(h, &r), 1);
    ck_assert_int_eq(r->n, 1);
    ck_assert_str_eq(sess_guarantee_name(r->v[0].g), guarantee_files[_i][1]);
    /* the violating read is the last operation; the newer write it missed is named */
    ck_assert_int_eq(r->v[0].read, h->n - 1);
    ck_assert_int_ge(r->v[0].newer, 0);
    ck_assert_int_ne(h->ops[r->v[0].newer].f, HF_READ);
    struct sb want = {0};
    history_describe_op(h, &h->ops[r->v[0].newer], &want);
    ck_assert_msg(strstr(r->v[0].text, want.s), "%s does not name %s", r->v[0].text, want.s);
    struct sb out = {0};
    sessions_format(h, r, &out);
    ck_assert_ptr_nonnull(strstr(out.s, "session guarantees VIOLATED"));
    ck_assert_ptr_nonnull(strstr(out.s, guarantee_files[_i][1]));
    sb_free(&out);
    sb_free(&want);
    sess_result_free(&r);
    history_free(&h);
}
END_TEST

START_TEST(session_consistent_histories_pass)
{
    const char *files[] = {"tests/histories/sess-ok-stale-but-session-consistent.jsonl",
                           "tests/histories/sess-ok-info-write-not-required.jsonl",
                           "tests/histories/lin-ok-two-keys.jsonl",
                           "tests/histories/lin-ok-concurrent-read.jsonl"};
    for (size_t i = 0; i < CL_ARRAY_LEN(files); i++) {
        struct history *h = load(files[i]);
        struct sess_result *r = NULL;
        ck_assert_msg(sessions_check(h, &r) == 0, "%s: %s", files[i], r->n ? r->v[0].text : "");
        sess_result_free(&r);
        history_free(&h);
    }
}
END_TEST

START_TEST(a_stale_read_from_another_session_is_not_a_session_violation)
{
    /* the teaching point: sessions hold, linearizability does not */
    struct history *h = load("tests/histories/sess-ok-stale-but-session-consistent.jsonl");
    struct sess_result *r = NULL;
    ck_assert_int_eq(sessions_check(h, &r), 0);
    struct lin_result *lr = NULL;
    char err[256];
    ck_assert_int_eq(lincheck_run(h, NULL, &lr, err, sizeof err), LIN_VIOLATION);
    lin_result_free(&lr);
    sess_result_free(&r);
    history_free(&h);
}
END_TEST

START_TEST(sequentially_consistent_but_not_linearizable)
{
    struct history *h = load("tests/histories/seq-ok-stale-read-not-linearizable.jsonl");
    struct sb out = {0};
    ck_assert_int_eq(seqcheck_run(h, 5, &out), 0);
    ck_assert_ptr_nonnull(strstr(out.s, "read x=nil (p2), write x=1 (p1)"));
    sb_free(&out);
    ck_assert_int_eq(checker_report(h, "linearizable", &out), 1);
    sb_free(&out);
    history_free(&h);
}
END_TEST

START_TEST(sequential_consistency_has_the_known_answers)
{
    static const struct {
        const char *file;
        int want;
    } cases[] = {
        {"tests/histories/seq-bad-dekker.jsonl", 1},
        {"tests/histories/seq-bad-value-then-nil.jsonl", 1},
        {"tests/histories/seq-ok-info-write.jsonl", 0},
        {"tests/histories/seq-ok-stale-read-not-linearizable.jsonl", 0},
        {"tests/histories/lin-ok-two-keys.jsonl", 0},
    };
    for (size_t i = 0; i < CL_ARRAY_LEN(cases); i++) {
        struct history *h = load(cases[i].file);
        struct sb out = {0};
        ck_assert_msg(seqcheck_run(h, 5, &out) == cases[i].want, "%s: %s", cases[i].file, out.s);
        if (cases[i].want)
            ck_assert_ptr_nonnull(strstr(out.s, "NOT sequentially consistent"));
        sb_free(&out);
        history_free(&h);
    }
}
END_TEST

START_TEST(sequential_check_refuses_large_histories)
{
    struct history *h = history_new();
    char e[256];
    for (int i = 0; i < SEQ_MAX_OPS + 5; i++) {
        history_add(h, i % 3, HE_INVOKE, "write", "x", "1", NULL, 2 * i, NULL, NULL, e, sizeof e);
        history_add(h, i % 3, HE_OK, "write", "x", "1", NULL, 2 * i + 1, NULL, NULL, e, sizeof e);
    }
    struct sb out = {0};
    ck_assert_int_eq(seqcheck_run(h, 5, &out), 2);
    ck_assert_ptr_nonnull(strstr(out.s, "unknown"));
    sb_free(&out);
    history_free(&h);
}
END_TEST

START_TEST(check_sessions_and_sequential_from_the_command_line)
{
    struct sb out = {0}, err = {0};
    char *a1[] = {(char *)"check", (char *)"--sessions",
                  (char *)"tests/histories/sess-bad-monotonic-reads.jsonl"};
    ck_assert_int_eq(checkcli_run(3, a1, &out, &err), 1);
    ck_assert_ptr_nonnull(strstr(out.s, "monotonic-reads"));
    sb_free(&out);
    char *a2[] = {(char *)"check", (char *)"--sequential", (char *)"--json",
                  (char *)"tests/histories/seq-bad-dekker.jsonl"};
    ck_assert_int_eq(checkcli_run(4, a2, &out, &err), 1);
    sb_free(&out);
    char *a3[] = {(char *)"check", (char *)"--sessions", (char *)"--json",
                  (char *)"tests/histories/sess-bad-read-your-writes.jsonl"};
    ck_assert_int_eq(checkcli_run(4, a3, &out, &err), 1);
    ck_assert_ptr_nonnull(strstr(out.s, "\"guarantee\":\"read-your-writes\""));
    sb_free(&out);
    sb_free(&err);
}
END_TEST

START_TEST(linearizable_histories_keep_every_session_guarantee)
{
    /* values repeat (0..4) in generated histories: attribution must not invent violations */
    for (int seed = 1; seed <= test_seeds(10); seed++) {
        struct history *h = checkbench_generate(3000, 3 + seed % 8, 1 + seed % 5, 3,
                                                (uint64_t)seed);
        struct sess_result *r = NULL;
        ck_assert_msg(sessions_check(h, &r) == 0, "seed %d: %s", seed, r->n ? r->v[0].text : "");
        ck_assert_int_gt(r->n_reads, 0);
        sess_result_free(&r);
        history_free(&h);
    }
}
END_TEST

START_TEST(replicas_that_agree_have_converged)
{
    const char *k1[] = {"x", "y"}, *v1[] = {"1", "2"};
    const char *k2[] = {"y", "x"}, *v2[] = {"2", "1"};
    const char *k3[] = {"x"}, *v3[] = {"9"};
    struct replica r[] = {
        {"n1", true, 2, k1, v1},
        {"n2", true, 2, k2, v2},
        {"n3", false, 1, k3, v3},   /* down: not counted */
    };
    struct sb out = {0};
    ck_assert_int_eq(convergence_check(r, 3, &out), 0);
    ck_assert_ptr_nonnull(strstr(out.s, "converged: 2 live replicas hold the same data"));
    sb_free(&out);
}
END_TEST

START_TEST(diverged_replicas_are_named_key_by_key)
{
    const char *k1[] = {"x", "y"}, *v1[] = {"1", "2"};
    const char *k2[] = {"x"}, *v2[] = {"3"};
    const char *k3[] = {"x", "y", "z"}, *v3[] = {"1", "2", "\x1b[31m"};
    struct replica r[] = {
        {"n1", true, 2, k1, v1},
        {"n2", true, 1, k2, v2},
        {"n3", true, 3, k3, v3},
    };
    struct sb out = {0};
    ck_assert_int_eq(convergence_check(r, 3, &out), 1);
    ck_assert_ptr_nonnull(strstr(out.s, "NOT converged"));
    ck_assert_ptr_nonnull(strstr(out.s, "x: n1=1 n2=3 n3=1"));
    ck_assert_ptr_nonnull(strstr(out.s, "y: n1=2 n2=(absent) n3=2"));
    ck_assert_ptr_nonnull(strstr(out.s, "z: n1=(absent) n2=(absent) n3=\\e[31m"));
    ck_assert_ptr_null(strchr(out.s, 0x1b));   /* escapes never reach the terminal */
    sb_free(&out);
    struct replica one[] = {{"n1", true, 1, k2, v2}};
    ck_assert_int_eq(convergence_check(one, 1, &out), 0);
    sb_free(&out);
}
END_TEST

Suite *suite_sessions(void);
Suite *suite_sessions(void)
{
    Suite *s = suite_create("sessions");
    TCase *tc = tcase_create("sessions");
    tcase_add_loop_test(tc, each_guarantee_is_caught_and_names_the_pair, 0,
                        (int)CL_ARRAY_LEN(guarantee_files));
    tcase_add_test(tc, session_consistent_histories_pass);
    tcase_add_test(tc, a_stale_read_from_another_session_is_not_a_session_violation);
    tcase_add_test(tc, sequentially_consistent_but_not_linearizable);
    tcase_add_test(tc, sequential_consistency_has_the_known_answers);
    tcase_add_test(tc, sequential_check_refuses_large_histories);
    tcase_add_test(tc, check_sessions_and_sequential_from_the_command_line);
    tcase_add_test(tc, linearizable_histories_keep_every_session_guarantee);
    tcase_add_test(tc, replicas_that_agree_have_converged);
    tcase_add_test(tc, diverged_replicas_are_named_key_by_key);
    suite_add_tcase(s, tc);
    return s;
}
