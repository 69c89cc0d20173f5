/* check_dashcli — `conlab replay` without a terminal, and `conlab dash` attached to a test
 * publisher standing in for a running lab (lab/view/dashcli.h). */
#include <check.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include "dashcli.h"
#include "rundir.h"
#include "test_util.h"
#include "trace.h"
#include "util.h"

#define FIXTURE "tests/traces/raft3.jsonl"

/* the fuzz target's body, replayed here over its corpus */
#define CONLAB_NO_FUZZ_MAIN
#include "fuzz_trace.c"

struct run {
    int rc;
    char *out, *err;
};

static char *slurp(FILE *f)
{
    fflush(f);
    rewind(f);
    struct sb b = {0};
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        sb_addn(&b, buf, n);
    if (!b.s)
        sb_addn(&b, "", 0);
    return b.s;
}

/* Runs a subcommand's main with stdout and stderr captured. */
static struct run run(int (*fn)(int, char **), int argc, const char **argv)
{
    struct run r;
    fflush(stdout);
    fflush(stderr);
    FILE *o = tmpfile(), *e = tmpfile();
    ck_assert(o && e);
    int so = dup(1), se = dup(2);
    dup2(fileno(o), 1);
    dup2(fileno(e), 2);
    r.rc = fn(argc, (char **)argv);
    fflush(stdout);
    fflush(stderr);
    dup2(so, 1);
    dup2(se, 2);
    close(so);
    close(se);
    r.out = slurp(o);
    r.err = slurp(e);
    fclose(o);
    fclose(e);
    return r;
}

static void run_free(struct run *r)
{
    free(r->out);
    free(r->err);
}

START_TEST(plain_replay_prints_the_final_state)
{
    const char *argv[] = {"replay", "--plain", FIXTURE};
    struct run r = run(replaycli_main, 3, argv);
    ck_assert_msg(r.rc == 0, "rc %d: %s", r.rc, r.err);
    ck_assert_msg(strstr(r.out, "74 events, at event 74"), "%s", r.out);
    ck_assert_msg(strstr(r.out, "n2 leader term=2 commit=3"), "%s", r.out);
    ck_assert_msg(strstr(r.out, "partition: n1 | n2 n3"), "%s", r.out);
    ck_assert_msg(strstr(r.out, "3 dropped"), "%s", r.out);
    ck_assert_msg(strstr(r.out, "ALERT"), "%s", r.out);
    ck_assert_ptr_null(strchr(r.out, 0x1b));
    run_free(&r);
}
END_TEST

START_TEST(replay_at_an_event_shows_the_state_then)
{
    const char *argv[] = {"replay", "--plain", "--at", "20", FIXTURE};
    struct run r = run(replaycli_main, 5, argv);
    ck_assert_int_eq(r.rc, 0);
    ck_assert_msg(strstr(r.out, "at event 20"), "%s", r.out);
    ck_assert_msg(strstr(r.out, "n1 leader term=1"), "%s", r.out);
    ck_assert_msg(!strstr(r.out, "partition:"), "%s", r.out);
    run_free(&r);
}
END_TEST

START_TEST(bad_trace_lines_are_named_and_the_rest_loaded)
{
    const char *argv[] = {"replay", "--plain", "tests/traces/bad_lines.jsonl"};
    struct run r = run(replaycli_main, 3, argv);
    ck_assert_int_eq(r.rc, 1);
    ck_assert_msg(strstr(r.err, "bad_lines.jsonl:2: column"), "%s", r.err);
    ck_assert_msg(strstr(r.err, "bad_lines.jsonl:3: not a JSON object"), "%s", r.err);
    ck_assert_msg(strstr(r.err, "bad_lines.jsonl:4: no \"ev\""), "%s", r.err);
    ck_assert_msg(strstr(r.out, "2 events (3 bad lines skipped)"), "%s", r.out);
    ck_assert_msg(strstr(r.out, "n1 leader term=1"), "%s", r.out);
    run_free(&r);
}
END_TEST

START_TEST(missing_or_empty_trace_is_a_clear_error)
{
    const char *argv[] = {"replay", "--plain", "tests/traces/no-such-file.jsonl"};
    struct run r = run(replaycli_main, 3, argv);
    ck_assert_int_eq(r.rc, 2);
    ck_assert_msg(strstr(r.err, "no-such-file.jsonl: No such file"), "%s", r.err);
    run_free(&r);
    char path[] = "/tmp/conlab-empty-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, "\n\n", 2), 2);
    close(fd);
    const char *argv2[] = {"replay", "--plain", path};
    r = run(replaycli_main, 3, argv2);
    unlink(path);
    ck_assert_int_eq(r.rc, 2);
    ck_assert_msg(strstr(r.err, "holds no events"), "%s", r.err);
    run_free(&r);
}
END_TEST

START_TEST(replay_refuses_bad_options)
{
    const char *a1[] = {"replay", "--speed", "fast", FIXTURE};
    struct run r = run(replaycli_main, 4, a1);
    ck_assert_int_eq(r.rc, 2);
    ck_assert_ptr_nonnull(strstr(r.err, "--speed"));
    run_free(&r);
    const char *a2[] = {"replay", "--screen", "80by24", FIXTURE};
    r = run(replaycli_main, 4, a2);
    ck_assert_int_eq(r.rc, 2);
    ck_assert_ptr_nonnull(strstr(r.err, "COLSxROWS"));
    run_free(&r);
    const char *a3[] = {"replay", "--frobnicate", FIXTURE};
    r = run(replaycli_main, 3, a3);
    ck_assert_int_eq(r.rc, 2);
    ck_assert_ptr_nonnull(strstr(r.err, "unknown option '--frobnicate'"));
    run_free(&r);
}
END_TEST

START_TEST(screen_option_draws_the_dashboard_as_text)
{
    const char *argv[] = {"replay", "--screen", "80x24", FIXTURE};
    struct run r = run(replaycli_main, 4, argv);
    ck_assert_int_eq(r.rc, 0);
    ck_assert_msg(strstr(r.out, "LEADER t2"), "%s", r.out);
    int lines = 0;
    for (char *p = r.out; *p; p++)
        lines += *p == '\n';
    ck_assert_int_eq(lines, 24);
    run_free(&r);
}
END_TEST

START_TEST(run_directories_live_under_xdg_runtime_dir)
{
    char buf[256], want[256], dir[] = "/tmp/conlab-xdg-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    setenv("XDG_RUNTIME_DIR", dir, 1);
    rundir_base(buf, sizeof buf);
    snprintf(want, sizeof want, "%s/conlab", dir);
    ck_assert_str_eq(buf, want);
    rmdir(dir);
    setenv("XDG_RUNTIME_DIR", "relative/dir", 1); /* the spec says: ignore relative values */
    rundir_base(buf, sizeof buf);
    snprintf(want, sizeof want, "/tmp/conlab-%u", (unsigned)getuid());
    ck_assert_str_eq(buf, want);
    unsetenv("XDG_RUNTIME_DIR");
}
END_TEST

START_TEST(attach_without_a_running_lab_is_a_clear_error)
{
    char dir[] = "/tmp/conlab-xdg-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    setenv("XDG_RUNTIME_DIR", dir, 1);
    const char *argv[] = {"dash", "--plain"};
    struct run r = run(dashcli_main, 2, argv);
    ck_assert_int_eq(r.rc, 2);
    ck_assert_msg(strstr(r.err, "no running lab found"), "%s", r.err);
    run_free(&r);
    const char *argv2[] = {"dash", "--plain", "--pid", "not-a-pid"};
    r = run(dashcli_main, 4, argv2);
    ck_assert_int_eq(r.rc, 2);
    run_free(&r);
    unsetenv("XDG_RUNTIME_DIR");
    rmdir(dir);
}
END_TEST

/* A stand-in for the lab: publishes the fixture's events (and a bad frame) on a PUB socket
 * whose endpoint it writes where the lab would, over and over until killed. */
static void publisher(const char *dir)
{
    char epdir[512], epfile[600], ep[600], why[600];
    int lock;
    if (rundir_create(epdir, sizeof epdir, &lock, why, sizeof why) < 0)
        _exit(2);
    snprintf(ep, sizeof ep, "ipc://%s/dash.sock", dir);
    snprintf(epfile, sizeof epfile, "%s/dash.endpoint", epdir);
    void *ctx = zmq_ctx_new();
    void *pub = zmq_socket(ctx, ZMQ_PUB);
    if (zmq_bind(pub, ep))
        _exit(3);
    FILE *f = fopen(epfile, "w");
    if (!f)
        _exit(4);
    fprintf(f, "%s\n", ep);
    fclose(f);
    struct trace tr;
    struct sb err = {0};
    if (trace_load(FIXTURE, &tr, &err))
        _exit(5);
    for (int round = 0; round < 200; round++) {
        zmq_send(pub, "not json", 8, 0);
        for (size_t i = 0; i < tr.n; i++) {
            char *s = json_dumps(tr.ev[i], JSON_COMPACT);
            zmq_send(pub, s, strlen(s), 0);
            free(s);
        }
        usleep(50000);
    }
    _exit(0);
}

START_TEST(attach_prints_the_events_of_a_running_lab)
{
    if (!test_procs_allowed())
        return;
    char dir[] = "/tmp/conlab-xdg-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    setenv("XDG_RUNTIME_DIR", dir, 1);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0)
        publisher(dir);
    char ep[600], epdir[600], err[600];
    pid_t found = 0;
    for (int i = 0; i < 100 && dashcli_find_endpoint(pid, ep, sizeof ep, &found, epdir, sizeof epdir, err, sizeof err);
         i++)
        usleep(20000);
    ck_assert_msg(found == pid, "the publisher did not show up as a live lab: %s", err);

    const char *argv[] = {"dash", "--plain", "--count", "80", "--seconds", "10"};
    struct run r = run(dashcli_main, 6, argv);
    ck_assert_msg(r.rc == 0, "rc %d: %s", r.rc, r.err);
    int lines = 0;
    for (char *p = r.out; *p; p++)
        lines += *p == '\n';
    ck_assert_int_ge(lines, 80);
    ck_assert_msg(strstr(r.out, "n2 state role=leader term=2"), "%s", r.out);
    ck_assert_msg(strstr(r.out, "key=k\\e[31mred"), "escaped: %s", r.out);
    ck_assert_ptr_null(strchr(r.out, 0x1b));
    ck_assert_msg(strstr(r.err, "were not events"), "%s", r.err);
    run_free(&r);

    char pidarg[32];
    snprintf(pidarg, sizeof pidarg, "%ld", (long)pid);
    const char *argv2[] = {"dash", "--plain", "--pid", pidarg, "--count", "3", "--seconds", "10"};
    r = run(dashcli_main, 8, argv2);
    ck_assert_msg(r.rc == 0, "rc %d: %s", r.rc, r.err);
    run_free(&r);

    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    const char *argv3[] = {"dash", "--plain", "--pid", pidarg};
    r = run(dashcli_main, 4, argv3);
    ck_assert_int_eq(r.rc, 2);
    ck_assert_msg(strstr(r.err, "no lab with pid"), "%s", r.err);
    run_free(&r);
    unsetenv("XDG_RUNTIME_DIR");
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

START_TEST(trace_corpus_and_random_bytes_load_and_draw_without_crashing)
{
    DIR *d = opendir("tests/corpus/trace");
    ck_assert_ptr_nonnull(d);
    struct dirent *de;
    int files = 0;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char path[512];
        snprintf(path, sizeof path, "tests/corpus/trace/%s", de->d_name);
        FILE *f = fopen(path, "rb");
        ck_assert_ptr_nonnull(f);
        char *buf = slurp(f);
        fclose(f);
        fuzz_trace_one((const uint8_t *)buf, strlen(buf));
        free(buf);
        files++;
    }
    closedir(d);
    ck_assert_int_ge(files, 2);
    /* mutations of the fixture: bytes flipped, lines cut */
    FILE *f = fopen(FIXTURE, "rb");
    char *base = slurp(f);
    fclose(f);
    size_t n = strlen(base);
    unsigned x = 12345;
    for (int round = 0; round < test_seeds(40); round++) {
        char *mut = xstrdup(base);
        for (int k = 0; k < 20; k++) {
            x = x * 1103515245u + 12345u;
            mut[(x >> 8) % n] = (char)(x >> 3);
        }
        x = x * 1103515245u + 12345u;
        fuzz_trace_one((const uint8_t *)mut, (x >> 8) % n + 1);
        free(mut);
    }
    free(base);
}
END_TEST

Suite *suite_dashcli(void);
Suite *suite_dashcli(void)
{
    Suite *s = suite_create("dashcli");
    TCase *tc = tcase_create("dashcli");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, plain_replay_prints_the_final_state);
    tcase_add_test(tc, replay_at_an_event_shows_the_state_then);
    tcase_add_test(tc, bad_trace_lines_are_named_and_the_rest_loaded);
    tcase_add_test(tc, missing_or_empty_trace_is_a_clear_error);
    tcase_add_test(tc, replay_refuses_bad_options);
    tcase_add_test(tc, screen_option_draws_the_dashboard_as_text);
    tcase_add_test(tc, run_directories_live_under_xdg_runtime_dir);
    tcase_add_test(tc, attach_without_a_running_lab_is_a_clear_error);
    tcase_add_test(tc, attach_prints_the_events_of_a_running_lab);
    tcase_add_test(tc, trace_corpus_and_random_bytes_load_and_draw_without_crashing);
    suite_add_tcase(s, tc);
    return s;
}
