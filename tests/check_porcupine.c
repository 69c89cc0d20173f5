/* check_porcupine — `conlab check` against Porcupine's own test data (tests/data/porcupine:
 * its kv histories of 1, 10 and 50 clients and its 102 Jepsen etcd logs): the same verdict on
 * every file; the 50-client violation decided by a small search (a failing key is found before
 * a hard one is finished); histories with no client operation are linearizable; Jepsen's log
 * format is read; long searches report progress. */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "checkcli.h"
#include "histfile.h"
#include "lincheck.h"
#include "test_util.h"

static int judged;

/* Judges path (verdict only, as Porcupine) and compares with want (0 ok, 1 not). */
static void judge(const char *path, int want)
{
    struct stat st;
    if (getenv("CONLAB_QUICK") && stat(path, &st) == 0 && st.st_size > 100000)
        return; /* the 50-client files under valgrind: minutes; the normal tier runs them */
    char err[512];
    struct history *h = NULL;
    ck_assert_msg(history_load(path, &h, err, sizeof err) == 0, "%s: %s", path, err);
    struct lin_opts o;
    lin_opts_default(&o);
    o.explain = false;
    o.time_limit_s = 300;
    struct lin_result *r = NULL;
    int v = lincheck_run(h, &o, &r, err, sizeof err);
    ck_assert_msg(v == (want ? LIN_VIOLATION : LIN_OK), "%s: verdict %d, Porcupine's is %s", path, v,
                  want ? "not linearizable" : "linearizable");
    lin_result_free(&r);
    history_free(&h);
    judged++;
}

static void each(const char *dir, int want_by_dir)
{
    DIR *d = opendir(dir);
    ck_assert_msg(d != NULL, "cannot open %s (run from the repository root)", dir);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || strstr(e->d_name, ".md"))
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        int want = want_by_dir >= 0 ? want_by_dir : strstr(e->d_name, "-bad") != NULL;
        judge(path, want);
    }
    closedir(d);
}

START_TEST(every_porcupine_history_gets_porcupines_verdict)
{
    judged = 0;
    each("tests/data/porcupine/kv", -1);
    each("tests/data/porcupine/jepsen/good", 0);
    each("tests/data/porcupine/jepsen/bad", 1);
    ck_assert_int_ge(judged, getenv("CONLAB_QUICK") ? 100 : 108);
}
END_TEST

/* Knossos's verdicts (tests/data/knossos: good/ linearizable, bad/ not; the rest of its
 * data/cas-register in tests/data/jepsen, and all 120 files in the bench script). */
START_TEST(knossos_histories_get_knossos_verdict)
{
    judged = 0;
    each("tests/data/knossos/good", 0);
    each("tests/data/knossos/bad", 1);
    ck_assert_int_eq(judged, 6);
}
END_TEST

START_TEST(fifty_clients_with_a_violation_are_decided_by_a_small_search)
{
    if (getenv("CONLAB_QUICK"))
        return;
    char err[512];
    struct history *h = NULL;
    ck_assert_msg(history_load("tests/data/porcupine/kv/c50-bad.txt", &h, err, sizeof err) == 0, "%s", err);
    struct lin_opts o;
    lin_opts_default(&o);
    o.explain = false;
    struct lin_result *r = NULL;
    ck_assert_int_eq(lincheck_run(h, &o, &r, err, sizeof err), LIN_VIOLATION);
    /* one key takes millions of configurations; the failing ones, thousands: rounds of
     * growing caps find a failing key first (16 777 217 explored before, then unknown) */
    ck_assert_msg(r->configs < 500000, "%llu configurations", (unsigned long long)r->configs);
    lin_result_free(&r);
    history_free(&h);
}
END_TEST

START_TEST(no_client_operation_is_linearizable)
{
    static const char *const inputs[] = {"", "  \n\n", "[]", "[{:process :nemesis, :type :info, :f :start}]",
                                         "{:process :nemesis, :type :info, :f :start, :value nil}\n"
                                         "{:process :nemesis, :type :info, :f :stop, :value nil}\n",
                                         "INFO  jepsen.core - Run complete\n"};
    for (size_t i = 0; i < CL_ARRAY_LEN(inputs); i++) {
        char err[256];
        struct history *h = NULL;
        ck_assert_msg(history_parse(inputs[i], strlen(inputs[i]), &h, err, sizeof err) == 0, "%zu: %s", i, err);
        ck_assert_int_eq(h->n, 0);
        struct lin_result *r = NULL;
        ck_assert_int_eq(lincheck_run(h, NULL, &r, err, sizeof err), LIN_OK);
        struct sb out = {0};
        lincheck_format(h, r, &out);
        ck_assert_ptr_nonnull(strstr(out.s, "no client operation"));
        sb_free(&out);
        lin_result_free(&r);
        history_free(&h);
    }
}
END_TEST

START_TEST(jepsen_logs_are_read)
{
    const char *log = "INFO  jepsen.core - Running test\n"
                      "INFO  jepsen.util - 0\t:invoke\t:write\t3\n"
                      "INFO  jepsen.util - 1\t:invoke\t:cas\t[3 4]\n"
                      "INFO  jepsen.util - 0\t:ok\t:write\t3\n"
                      "INFO  jepsen.util - 2\t:invoke\t:read\tnil\n"
                      "INFO  jepsen.util - :nemesis\t:info\t:start\tnil\n"
                      "INFO  jepsen.util - 1\t:info\t:cas\t:timed-out\n"
                      "INFO  jepsen.util - 2\t:ok\t:read\t4\n"
                      "INFO  jepsen.util - 3\t:invoke\t:cas\t[4 1]\n"
                      "INFO  jepsen.util - 3\t:fail\t:cas\t[4 1]\n"
                      "INFO  jepsen.util - 4\t:invoke\t:read\tnil\n"
                      "INFO  jepsen.util - 4\t:fail\t:read\t:timed-out\n";
    char err[256];
    struct history *h = NULL;
    ck_assert_msg(history_parse(log, strlen(log), &h, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(h->n, 5);
    ck_assert_int_eq(h->ops[1].f, HF_CAS);
    ck_assert_str_eq(h->ops[1].value, "3");
    ck_assert_str_eq(h->ops[1].value2, "4");
    ck_assert_int_eq(h->ops[1].outcome, HO_INFO);
    ck_assert_str_eq(h->ops[2].value, "4");
    ck_assert_int_eq(h->ops[3].outcome, HO_FAIL);
    ck_assert_int_eq(h->ops[4].outcome, HO_INFO); /* a timed-out read */
    struct lin_result *r = NULL;
    ck_assert_int_eq(lincheck_run(h, NULL, &r, err, sizeof err), LIN_OK);
    lin_result_free(&r);
    history_free(&h);
    const char *bad = "INFO  jepsen.util - 0\t:begin\t:write\t3\n";
    ck_assert_int_eq(history_parse(bad, strlen(bad), &h, err, sizeof err), CL_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "line 1: expected :invoke"));
}
END_TEST

static int ticks;
static void on_progress(void *ud, const char *key, uint64_t configs, double seconds)
{
    (void)ud;
    (void)key;
    ck_assert(seconds >= 1.9);
    ck_assert_uint_gt(configs, 0);
    ticks++;
}

START_TEST(a_long_search_reports_progress_and_stops_at_its_time_limit)
{
    if (getenv("CONLAB_QUICK"))
        return;
    /* key 0 of c50-bad alone: a search of millions of configurations */
    char err[512];
    struct history *all = NULL;
    ck_assert_msg(history_load("tests/data/porcupine/kv/c50-bad.txt", &all, err, sizeof err) == 0, "%s", err);
    int keep[1024], n = 0;
    for (int i = 0; i < all->n && n < 1024; i++)
        if (all->ops[i].key && !strcmp(all->ops[i].key, "0"))
            keep[n++] = i;
    struct history *h = history_subset(all, keep, n);
    struct lin_opts o;
    lin_opts_default(&o);
    o.explain = false;
    o.time_limit_s = 5;
    o.progress = on_progress;
    ticks = 0;
    struct lin_result *r = NULL;
    int v = lincheck_run(h, &o, &r, err, sizeof err);
    if (v == LIN_UNKNOWN)
        ck_assert_int_ge(ticks, 1);
    lin_result_free(&r);
    history_free(&h);
    history_free(&all);
}
END_TEST

Suite *suite_porcupine(void);
Suite *suite_porcupine(void)
{
    Suite *s = suite_create("porcupine");
    TCase *tc = tcase_create("porcupine");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, every_porcupine_history_gets_porcupines_verdict);
    tcase_add_test(tc, knossos_histories_get_knossos_verdict);
    tcase_add_test(tc, fifty_clients_with_a_violation_are_decided_by_a_small_search);
    tcase_add_test(tc, no_client_operation_is_linearizable);
    tcase_add_test(tc, jepsen_logs_are_read);
    tcase_add_test(tc, a_long_search_reports_progress_and_stops_at_its_time_limit);
    suite_add_tcase(s, tc);
    return s;
}
