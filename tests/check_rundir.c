/* check_rundir — a lab's run directory (lab/rundir.c): made by mkdtemp under a base of this
 * user's alone (a symlinked base is refused, an open one closed), locked while the lab lives,
 * never shared by two labs, and swept only when its lock is free — a directory without a lock,
 * or a live lab's, is left alone, and removal never follows a symlink. Each test works under
 * its own XDG_RUNTIME_DIR. (Two labs in two PID namespaces: tests/proc/.) */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rundir.h"
#include "util.h"

static char xdg[64], base[128];

static void setup(void)
{
    strcpy(xdg, "/tmp/conlab-rundir-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(xdg));
    setenv("XDG_RUNTIME_DIR", xdg, 1);
    snprintf(base, sizeof base, "%s/conlab", xdg);
}

static void teardown(void)
{
    char *cmd = xasprintf("chmod -R u+rwx '%s' 2>/dev/null; rm -rf '%s'", xdg, xdg);
    if (system(cmd) != 0) {
    }
    free(cmd);
    unsetenv("XDG_RUNTIME_DIR");
}

static int exists(const char *fmt, const char *a)
{
    char *p = xasprintf(fmt, a);
    struct stat st;
    int rc = lstat(p, &st) == 0;
    free(p);
    return rc;
}

static void touch(const char *path)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fclose(f);
}

START_TEST(a_run_directory_is_private_locked_and_holds_the_pid)
{
    char dir[512], err[600];
    int lock;
    ck_assert_int_eq(rundir_create(dir, sizeof dir, &lock, err, sizeof err), 0);
    ck_assert_msg(!strncmp(dir, base, strlen(base)) && strstr(dir, "/lab-"), "%s", dir);
    struct stat st;
    ck_assert_int_eq(stat(dir, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0700);
    ck_assert_int_eq(stat(base, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0700);
    ck_assert(rundir_alive(dir));
    char found[512];
    pid_t who = 0;
    ck_assert_int_eq(rundir_find(getpid(), found, sizeof found, &who, err, sizeof err), 0);
    ck_assert_str_eq(found, dir);
    ck_assert_int_eq(who, getpid());
    ck_assert_int_ge(fcntl(lock, F_GETFD) & FD_CLOEXEC, 1); /* the nodes do not inherit it */
    rundir_remove(dir, &lock);
    ck_assert_int_eq(lock, -1);
    ck_assert(!exists("%s", dir));
    ck_assert_int_eq(rundir_find(getpid(), found, sizeof found, &who, err, sizeof err), CL_ENOENT);
    ck_assert_msg(strstr(err, "no lab with pid"), "%s", err);
}
END_TEST

START_TEST(two_labs_of_one_pid_never_share_a_directory)
{
    char a[512], b[512], err[600];
    int la, lb;
    ck_assert_int_eq(rundir_create(a, sizeof a, &la, err, sizeof err), 0);
    ck_assert_int_eq(rundir_create(b, sizeof b, &lb, err, sizeof err), 0); /* b's sweep keeps a */
    ck_assert_str_ne(a, b);
    ck_assert(exists("%s/lock", a) && rundir_alive(a) && rundir_alive(b));
    rundir_remove(b, &lb);
    ck_assert(exists("%s", a));
    rundir_remove(a, &la);
}
END_TEST

START_TEST(the_sweep_takes_only_directories_whose_lock_is_free)
{
    char live[512], err[600], path[600];
    int ll;
    ck_assert_int_eq(rundir_create(live, sizeof live, &ll, err, sizeof err), 0);
    /* a lab that died (its lock file, nobody holding it); a directory that is no lab's; a
     * symlink to a directory with a lock file, and something it points to */
    snprintf(path, sizeof path, "%s/lab-dead01", base);
    ck_assert_int_eq(mkdir(path, 0700), 0);
    snprintf(path, sizeof path, "%s/lab-dead01/lock", base);
    touch(path);
    snprintf(path, sizeof path, "%s/lab-dead01/n1.log", base);
    touch(path);
    snprintf(path, sizeof path, "%s/notalab", base);
    ck_assert_int_eq(mkdir(path, 0700), 0);
    snprintf(path, sizeof path, "%s/target", xdg);
    ck_assert_int_eq(mkdir(path, 0700), 0);
    snprintf(path, sizeof path, "%s/target/lock", xdg);
    touch(path);
    char target[600], link[600];
    snprintf(target, sizeof target, "%s/target", xdg);
    snprintf(link, sizeof link, "%s/lab-link01", base);
    ck_assert_int_eq(symlink(target, link), 0);
    char fresh[512];
    int lf;
    ck_assert_int_eq(rundir_create(fresh, sizeof fresh, &lf, err, sizeof err), 0);
    ck_assert_msg(!exists("%s/lab-dead01", base), "a dead lab's directory was not swept");
    ck_assert_msg(exists("%s", live) && rundir_alive(live), "a live lab's directory was swept");
    ck_assert_msg(exists("%s/notalab", base), "a directory without a lock was swept");
    ck_assert_msg(exists("%s/lab-link01", base) && exists("%s/target/lock", xdg), "a symlink was followed");
    rundir_remove(fresh, &lf);
    rundir_remove(live, &ll);
}
END_TEST

START_TEST(removing_a_run_directory_never_follows_a_symlink)
{
    char dir[512], err[600], outside[600], link[600];
    int lock;
    ck_assert_int_eq(rundir_create(dir, sizeof dir, &lock, err, sizeof err), 0);
    snprintf(outside, sizeof outside, "%s/precious", xdg);
    ck_assert_int_eq(mkdir(outside, 0700), 0);
    snprintf(link, sizeof link, "%s/precious/file", xdg);
    touch(link);
    snprintf(link, sizeof link, "%s/escape", dir);
    ck_assert_int_eq(symlink(outside, link), 0);
    rundir_remove(dir, &lock);
    ck_assert(!exists("%s", dir));
    ck_assert_msg(exists("%s/precious/file", xdg), "removal followed a symlink out of the run directory");
}
END_TEST

START_TEST(a_symlinked_base_is_refused)
{
    char elsewhere[600], dir[512], err[600];
    snprintf(elsewhere, sizeof elsewhere, "%s/elsewhere", xdg);
    ck_assert_int_eq(mkdir(elsewhere, 0777), 0);
    ck_assert_int_eq(symlink(elsewhere, base), 0); /* planted by someone else */
    int lock;
    ck_assert_int_eq(rundir_create(dir, sizeof dir, &lock, err, sizeof err), CL_EIO);
    ck_assert_msg(strstr(err, base) && strstr(err, "symlink"), "%s", err);
    ck_assert_int_eq(lock, -1);
    char *cmd = xasprintf("test -z \"$(ls -A '%s')\"", elsewhere);
    ck_assert_msg(system(cmd) == 0, "something was made in the symlink's target");
    free(cmd);
}
END_TEST

START_TEST(a_base_open_to_others_is_closed_and_one_owned_by_another_user_refused)
{
    ck_assert_int_eq(mkdir(base, 0777), 0);
    ck_assert_int_eq(chmod(base, 0777), 0);
    char dir[512], err[600];
    int lock;
    ck_assert_int_eq(rundir_create(dir, sizeof dir, &lock, err, sizeof err), 0);
    struct stat st;
    ck_assert_int_eq(stat(base, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0700);
    rundir_remove(dir, &lock);
    if (geteuid() != 0)
        return; /* only root can give the base away */
    ck_assert_int_eq(chown(base, 65534, 65534), 0);
    ck_assert_int_eq(rundir_create(dir, sizeof dir, &lock, err, sizeof err), CL_EIO);
    ck_assert_msg(strstr(err, "belongs to uid 65534"), "%s", err);
}
END_TEST

Suite *suite_rundir(void);
Suite *suite_rundir(void)
{
    Suite *s = suite_create("rundir");
    TCase *tc = tcase_create("rundir");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, a_run_directory_is_private_locked_and_holds_the_pid);
    tcase_add_test(tc, two_labs_of_one_pid_never_share_a_directory);
    tcase_add_test(tc, the_sweep_takes_only_directories_whose_lock_is_free);
    tcase_add_test(tc, removing_a_run_directory_never_follows_a_symlink);
    tcase_add_test(tc, a_symlinked_base_is_refused);
    tcase_add_test(tc, a_base_open_to_others_is_closed_and_one_owned_by_another_user_refused);
    suite_add_tcase(s, tc);
    return s;
}
