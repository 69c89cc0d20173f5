/* check_lincheck — the linearizability checker and `conlab check`: real Jepsen and Porcupine
 * histories judged right, hand-written histories with known answers (every indeterminate
 * case), counterexamples that are small and themselves failing, a saved report re-checked
 * (scenario H8), the time limit, and the command's exit codes. */
#include <check.h>
#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "checkbench.h"
#include "checkcli.h"
#include "histfile.h"
#include "lincheck.h"
#include "test_util.h"

static int run_check(struct sb *out, struct sb *err, int n, ...)
{
    char *argv[16];
    argv[0] = (char *)"check";
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n && i < 14; i++)
        argv[i + 1] = va_arg(ap, char *);
    va_end(ap);
    return checkcli_run(n + 1, argv, out, err);
}

/* Calls fn(path, expected exit) for every history file in dir whose name starts with prefix;
 * the expectation comes from the directory (good/bad) or the name (-ok-/-bad-). */
static int each_file(const char *dir, const char *prefix, void (*fn)(const char *, int))
{
    DIR *d = opendir(dir);
    ck_assert_msg(d != NULL, "cannot open %s (run from the repository root)", dir);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || strncmp(e->d_name, prefix, strlen(prefix)))
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        int want = strstr(dir, "/bad") || strstr(e->d_name, "-bad-") ? 1 : 0;
        fn(path, want);
        n++;
    }
    closedir(d);
    return n;
}

static void expect_exit(const char *path, int want)
{
    struct sb out = {0}, err = {0};
    int rc = run_check(&out, &err, 1, path);
    ck_assert_msg(rc == want, "%s: exit %d, want %d\n%s%s", path, rc, want, out.s ? out.s : "",
                  err.s ? err.s : "");
    if (want == 1)
        ck_assert_ptr_nonnull(strstr(out.s, "NOT linearizable"));
    sb_free(&out);
    sb_free(&err);
}

START_TEST(jepsen_and_porcupine_histories_are_judged_right)
{
    int n = each_file("tests/data/jepsen/good", "", expect_exit) +
            each_file("tests/data/jepsen/bad", "", expect_exit) +
            each_file("tests/data/kv/good", "", expect_exit) +
            each_file("tests/data/kv/bad", "", expect_exit);
    ck_assert_int_ge(n, 20);
}
END_TEST

START_TEST(hand_written_histories_have_the_known_answers)
{
    ck_assert_int_ge(each_file("tests/histories", "lin-", expect_exit), 20);
}
END_TEST

static struct history *load(const char *path)
{
    char err[512];
    struct history *h = NULL;
    ck_assert_msg(history_load(path, &h, err, sizeof err) == 0, "%s", err);
    return h;
}

START_TEST(stale_read_is_explained_in_plain_words_and_drawn)
{
    struct sb out = {0}, err = {0};
    ck_assert_int_eq(run_check(&out, &err, 1, "tests/histories/lin-bad-stale-read.jsonl"), 1);
    const char *want[] = {
        "NOT linearizable (key x): read x=1 by p3 [812ms\u2013815ms] cannot follow write x=2 by "
        "p1 (ok at 790ms)",
        "because p1's write completed before p3's read began, and no later write set x back to 1",
        "Smallest failing sub-history (3 of 3 operations",
        "  p3                              [read x=1-]",
        "^^^^^^^^^^^ cannot take effect",
        "Longest partial linearization: write x=1 (p1), write x=2 (p1) -> 2",
    };
    for (size_t i = 0; i < CL_ARRAY_LEN(want); i++)
        ck_assert_msg(strstr(out.s, want[i]), "missing \"%s\" in\n%s", want[i], out.s);
    sb_free(&out);
    sb_free(&err);
}
END_TEST

/* The counterexample must be small, and must itself be non-linearizable. */
static void small_and_failing(const char *path, int want)
{
    if (want != 1)
        return;
    struct history *h = load(path);
    struct lin_result *r = NULL;
    char err[512];
    ck_assert_int_eq(lincheck_run(h, NULL, &r, err, sizeof err), LIN_VIOLATION);
    ck_assert_msg(r->n_sub >= 1 && r->n_sub <= 6, "%s: sub-history of %d ops", path, r->n_sub);
    ck_assert_int_ge(r->marked, 0);
    ck_assert_int_lt(r->n_partial, r->n_sub);
    struct history *sub = history_subset(h, r->sub, r->n_sub);
    struct lin_result *r2 = NULL;
    ck_assert_int_eq(lincheck_run(sub, NULL, &r2, err, sizeof err), LIN_VIOLATION);
    lin_result_free(&r2);
    history_free(&sub);
    lin_result_free(&r);
    history_free(&h);
}

START_TEST(counterexamples_are_small_and_fail_on_their_own)
{
    each_file("tests/data/jepsen/bad", "", small_and_failing);
    each_file("tests/data/kv/bad", "", small_and_failing);
    each_file("tests/histories", "lin-bad", small_and_failing);
}
END_TEST

/* Scenario H8: a saved failing report, re-checked, gives the same verdict. */
static void recheck_report(const char *path, int want)
{
    if (want != 1)
        return;
    struct sb out = {0}, err = {0};
    ck_assert_int_eq(run_check(&out, &err, 2, "--json", path), 1);
    json_error_t je;
    json_t *rep = json_loads(out.s, 0, &je);
    ck_assert_msg(rep != NULL, "%s: report is not JSON: %s", path, je.text);
    ck_assert_str_eq(json_string_value(json_object_get(rep, "verdict")), "not linearizable");
    char tmp[] = "/tmp/conlab-report-XXXXXX";
    int fd = mkstemp(tmp);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, out.s, out.len), (ssize_t)out.len);
    close(fd);
    struct sb out2 = {0}, err2 = {0};
    int rc = run_check(&out2, &err2, 2, "--json", tmp);
    ck_assert_msg(rc == 1, "%s: re-check exit %d: %s%s", path, rc, out2.s ? out2.s : "",
                  err2.s ? err2.s : "");
    json_t *rep2 = json_loads(out2.s, 0, &je);
    ck_assert_ptr_nonnull(rep2);
    json_t *k1 = json_object_get(rep, "key"), *k2 = json_object_get(rep2, "key");
    ck_assert(json_equal(k1, k2));
    /* with real times the whole verdict line is the same */
    struct history *h = load(path);
    if (h->has_time)
        ck_assert_str_eq(json_string_value(json_object_get(rep, "summary")),
                         json_string_value(json_object_get(rep2, "summary")));
    history_free(&h);
    unlink(tmp);
    json_decref(rep);
    json_decref(rep2);
    sb_free(&out);
    sb_free(&err);
    sb_free(&out2);
    sb_free(&err2);
}

START_TEST(saved_report_rechecked_gives_the_same_verdict)
{
    each_file("tests/data/jepsen/bad", "", recheck_report);
    each_file("tests/histories", "lin-bad", recheck_report);
}
END_TEST

START_TEST(generated_linearizable_histories_pass)
{
    for (int seed = 1; seed <= test_seeds(20); seed++) {
        struct history *h = checkbench_generate(600, 2 + seed % 8, 1 + seed % 4, 5,
                                                (uint64_t)seed);
        struct lin_result *r = NULL;
        char err[256];
        int v = lincheck_run(h, NULL, &r, err, sizeof err);
        ck_assert_msg(v == LIN_OK, "seed %d: verdict %d", seed, v);
        lin_result_free(&r);
        history_free(&h);
    }
}
END_TEST

START_TEST(a_read_of_a_value_never_written_is_caught)
{
    for (int seed = 1; seed <= test_seeds(20); seed++) {
        struct history *h = checkbench_generate(400, 4, 2, 5, (uint64_t)seed);
        int target = -1;
        for (int i = h->n - 1; i >= 0 && target < 0; i--)
            if (h->ops[i].f == HF_READ && h->ops[i].outcome == HO_OK)
                target = i;
        ck_assert_int_ge(target, 0);
        h->ops[target].value = history_intern(h, "99", 2);
        struct lin_result *r = NULL;
        char err[256];
        ck_assert_int_eq(lincheck_run(h, NULL, &r, err, sizeof err), LIN_VIOLATION);
        ck_assert_int_eq(r->marked, target);
        ck_assert_ptr_nonnull(strstr(r->summary, "a value no write could have set"));
        lin_result_free(&r);
        history_free(&h);
    }
}
END_TEST

START_TEST(time_limit_answers_unknown_instead_of_hanging)
{
    /* 50 clients hammering one register: hard for any WGL search */
    struct history *h = checkbench_generate(10000, 50, 1, 1, 1);
    struct lin_opts o;
    lin_opts_default(&o);
    o.time_limit_s = 0.3;
    struct lin_result *r = NULL;
    char err[256];
    uint64_t t0 = mono_us();
    ck_assert_int_eq(lincheck_run(h, &o, &r, err, sizeof err), LIN_UNKNOWN);
    ck_assert_int_lt(mono_us() - t0, 3000000);
    struct sb out = {0};
    lincheck_format(h, r, &out);
    ck_assert_ptr_nonnull(strstr(out.s, "unknown: the time limit ran out"));
    sb_free(&out);
    lin_result_free(&r);
    history_free(&h);
}
END_TEST

START_TEST(a_long_linearizable_history_on_one_key_is_decided_within_the_memory_cap)
{
    /* 60 000 operations by 16 clients on one key used to end `unknown` at the cap (each
     * remembered configuration cost a bit per operation) */
    int n = getenv("CONLAB_QUICK") ? 6000 : 60000;
    struct history *h = checkbench_generate(n, 16, 1, 0, 1);
    struct lin_result *r = NULL;
    char err[256];
    ck_assert_int_eq(lincheck_run(h, NULL, &r, err, sizeof err), LIN_OK);
    ck_assert_int_eq(r->n_keys, 1);
    ck_assert_msg(r->peak_bytes < ((size_t)256 << 20), "peak %zu bytes", r->peak_bytes);
    lin_result_free(&r);
    history_free(&h);
}
END_TEST

/* Peak resident memory of this process, in bytes. */
static size_t max_rss(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (size_t)ru.ru_maxrss * 1024;
}

START_TEST(the_memory_cap_counts_what_the_search_really_allocates)
{
    /* 50 clients hammering one register with no time limit: the search runs into the cap,
     * answers unknown (out of memory) and never holds more than the cap */
    size_t cap = (size_t)32 << 20;
    struct history *h = checkbench_generate(10000, 50, 1, 1, 1);
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        size_t before = max_rss();
        struct lin_opts o;
        lin_opts_default(&o);
        o.max_memory = cap;
        o.explain = false;
        struct lin_result *r = NULL;
        char err[256];
        int v = lincheck_run(h, &o, &r, err, sizeof err);
        struct sb out = {0};
        lincheck_format(h, r, &out);
        size_t report[4] = {(size_t)v, r->out_of_memory, r->peak_bytes, max_rss() - before};
        if (write(fds[1], report, sizeof report) != sizeof report || write(fds[1], out.s, out.len) < 0)
            _exit(1);
        _exit(0);
    }
    close(fds[1]);
    size_t report[4] = {0};
    ck_assert_int_eq(read(fds[0], report, sizeof report), (ssize_t)sizeof report);
    char text[512] = "";
    ssize_t got = read(fds[0], text, sizeof text - 1);
    text[got > 0 ? got : 0] = 0;
    close(fds[0]);
    int st;
    waitpid(pid, &st, 0);
    ck_assert_int_eq(report[0], LIN_UNKNOWN);
    ck_assert(report[1]);
    ck_assert_msg(report[2] <= cap && report[2] > cap / 2, "accounted peak %zu of a %zu cap", report[2], cap);
    ck_assert_msg(strstr(text, "unknown: the search reached its memory cap (32 MiB) without deciding"), "%s", text);
#if !defined(__SANITIZE_ADDRESS__)
    /* and the process really grew by no more than that (plus allocator slack) */
    if (test_procs_allowed())
        ck_assert_msg(report[3] <= cap + cap / 2, "resident memory grew by %zu bytes under a %zu cap", report[3], cap);
#endif
    history_free(&h);
}
END_TEST

START_TEST(model_must_know_every_operation)
{
    struct sb out = {0}, err = {0};
    ck_assert_int_eq(run_check(&out, &err, 3, "--model", "register",
                               "tests/histories/lin-ok-info-cas.edn"), 2);
    ck_assert_ptr_nonnull(strstr(err.s, "not an operation of the register model"));
    sb_free(&err);
    ck_assert_int_eq(run_check(&out, &err, 3, "--model", "cas-register",
                               "tests/histories/lin-ok-kv-append.edn"), 2);
    ck_assert_ptr_nonnull(strstr(err.s, "only an operation of the kv model"));
    sb_free(&err);
    ck_assert_int_eq(run_check(&out, &err, 3, "--model", "kv",
                               "tests/histories/lin-ok-kv-append.edn"), 0);
    struct history *h = history_new();
    char e[256];
    ck_assert_int_eq(history_add(h, 1, HE_INVOKE, "increment", "x", "1", NULL, 1, NULL, NULL, e,
                                 sizeof e), 0);
    struct lin_result *r = NULL;
    ck_assert_int_eq(lincheck_run(h, NULL, &r, e, sizeof e), CL_EINVAL);
    ck_assert_ptr_nonnull(strstr(e, "increment"));
    ck_assert_ptr_null(r);
    history_free(&h);
    sb_free(&out);
    sb_free(&err);
}
END_TEST

START_TEST(bad_usage_and_bad_files_exit_2_with_a_reason)
{
    static const struct {
        int n;
        const char *a[3];
        const char *want;
    } cases[] = {
        {0, {0}, "which history file?"},
        {1, {"--frobnicate"}, "unknown option"},
        {2, {"--model", "queue"}, "unknown model 'queue'"},
        {3, {"--time-limit", "soon", "x.edn"}, "--time-limit wants seconds"},
        {1, {"/nonexistent/history.edn"}, "No such file"},
        {2, {"a.edn", "b.edn"}, "one history file at a time"},
        {1, {"tests/data"}, "conlab check:"},
    };
    for (size_t i = 0; i < CL_ARRAY_LEN(cases); i++) {
        struct sb out = {0}, err = {0};
        char *argv[4] = {(char *)"check"};
        for (int k = 0; k < cases[i].n; k++)
            argv[k + 1] = (char *)cases[i].a[k];
        ck_assert_int_eq(checkcli_run(cases[i].n + 1, argv, &out, &err), 2);
        ck_assert_msg(err.s && strstr(err.s, cases[i].want), "case %zu: %s", i,
                      err.s ? err.s : "(nothing)");
        sb_free(&out);
        sb_free(&err);
    }
    struct sb out = {0}, err = {0};
    ck_assert_int_eq(run_check(&out, &err, 1, "--help"), 0);
    ck_assert_ptr_nonnull(strstr(out.s, "usage: conlab check"));
    sb_free(&out);
    sb_free(&err);
}
END_TEST

/* Converting a history to EDN (for Jepsen's tools) keeps its verdict. */
static void edn_keeps_verdict(const char *path, int want)
{
    struct history *h = load(path);
    struct sb edn = {0};
    history_write_edn(h, &edn);
    struct history *g = NULL;
    char err[512];
    ck_assert_msg(history_parse(edn.s, edn.len, &g, err, sizeof err) == 0, "%s: %s", path, err);
    struct lin_opts o;
    lin_opts_default(&o);
    o.explain = false;
    struct lin_result *r = NULL;
    ck_assert_int_eq(lincheck_run(g, &o, &r, err, sizeof err), want);
    lin_result_free(&r);
    history_free(&g);
    history_free(&h);
    sb_free(&edn);
}

START_TEST(edn_conversion_keeps_the_verdict)
{
    each_file("tests/histories", "lin-", edn_keeps_verdict);
    each_file("tests/data/jepsen/bad", "", edn_keeps_verdict);
    each_file("tests/data/kv/good", "", edn_keeps_verdict);
    struct sb out = {0}, err = {0};
    ck_assert_int_eq(run_check(&out, &err, 2, "--to-edn", "tests/histories/lin-bad-stale-read.jsonl"), 0);
    ck_assert_ptr_nonnull(strstr(out.s, "{:process 3, :type :ok, :f :read, :key \"x\", :value 1, "
                                        ":time 815000000}"));
    sb_free(&out);
    sb_free(&err);
}
END_TEST

START_TEST(repl_report_judges_an_in_memory_history)
{
    struct history *h = history_new();
    char e[256];
    ck_assert_int_eq(history_add(h, 1, HE_INVOKE, "write", "x", "1", NULL, 1000, "n1", NULL, e, sizeof e), 0);
    ck_assert_int_eq(history_add(h, 1, HE_OK, "write", "x", "1", NULL, 2000, "n1", NULL, e, sizeof e), 0);
    ck_assert_int_eq(history_add(h, 2, HE_INVOKE, "read", "x", NULL, NULL, 3000, "n3", NULL, e, sizeof e), 0);
    ck_assert_int_eq(history_add(h, 2, HE_OK, "read", "x", NULL, NULL, 4000, "n3", NULL, e, sizeof e), 0);
    struct sb out = {0};
    ck_assert_int_eq(checker_report(h, "linearizable", &out), 1);
    ck_assert_ptr_nonnull(strstr(out.s, "NOT linearizable (key x): read x=nil by p2"));
    sb_free(&out);
    ck_assert_int_eq(checker_report(h, "sessions", &out), 0);
    sb_free(&out);
    ck_assert_int_eq(checker_report(h, "sequential", &out), 0);
    ck_assert_ptr_nonnull(strstr(out.s, "sequentially consistent"));
    sb_free(&out);
    ck_assert_int_eq(checker_report(h, "serializable", &out), CL_EINVAL);
    ck_assert_ptr_nonnull(strstr(out.s, "unknown check"));
    sb_free(&out);
    history_free(&h);
}
END_TEST

/* `conlab check` as a program: its output goes to stdout and its status is the verdict. */
START_TEST(check_command_runs_as_a_program)
{
    const char *files[] = {"tests/histories/lin-ok-two-keys.jsonl",
                           "tests/histories/lin-bad-stale-read.jsonl", "/nonexistent"};
    const int want[] = {0, 1, 2};
    for (int i = 0; i < 3; i++) {
        int fd[2];
        ck_assert_int_eq(pipe(fd), 0);
        fflush(stdout);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            dup2(fd[1], 1);
            dup2(fd[1], 2);
            close(fd[0]);
            /* a generous limit: under valgrind the search runs ~50x slower than its default budget */
            char *argv[] = {(char *)"check", (char *)"--time-limit", (char *)"600", (char *)files[i], NULL};
            _exit(checkcli_main(4, argv));
        }
        close(fd[1]);
        char buf[8192];
        ssize_t n, tot = 0;
        while ((n = read(fd[0], buf + tot, sizeof buf - 1 - (size_t)tot)) > 0)
            tot += n;
        buf[tot] = 0;
        close(fd[0]);
        int st;
        waitpid(pid, &st, 0);
        ck_assert(WIFEXITED(st));
        ck_assert_int_eq(WEXITSTATUS(st), want[i]);
        ck_assert_ptr_nonnull(strstr(buf, i == 0 ? "linearizable" : i == 1 ? "NOT linearizable"
                                                                         : "No such file"));
    }
}
END_TEST

Suite *suite_lincheck(void);
Suite *suite_lincheck(void)
{
    Suite *s = suite_create("lincheck");
    TCase *tc = tcase_create("lincheck");
    tcase_add_test(tc, jepsen_and_porcupine_histories_are_judged_right);
    tcase_add_test(tc, hand_written_histories_have_the_known_answers);
    tcase_add_test(tc, stale_read_is_explained_in_plain_words_and_drawn);
    tcase_add_test(tc, counterexamples_are_small_and_fail_on_their_own);
    tcase_add_test(tc, saved_report_rechecked_gives_the_same_verdict);
    tcase_add_test(tc, generated_linearizable_histories_pass);
    tcase_add_test(tc, a_read_of_a_value_never_written_is_caught);
    tcase_add_test(tc, time_limit_answers_unknown_instead_of_hanging);
    tcase_add_test(tc, a_long_linearizable_history_on_one_key_is_decided_within_the_memory_cap);
    tcase_add_test(tc, the_memory_cap_counts_what_the_search_really_allocates);
    tcase_add_test(tc, model_must_know_every_operation);
    tcase_add_test(tc, bad_usage_and_bad_files_exit_2_with_a_reason);
    tcase_add_test(tc, edn_conversion_keeps_the_verdict);
    tcase_add_test(tc, repl_report_judges_an_in_memory_history);
    tcase_add_test(tc, check_command_runs_as_a_program);
    tcase_set_timeout(tc, 120);
    suite_add_tcase(s, tc);
    return s;
}
