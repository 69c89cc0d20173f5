/* check_exonce — the exactly-once checker over a file (`conlab check --exactly-once FILE`):
 * a trace whose produced events are each applied once holds (exit 0); a lost, a twice-applied
 * and an invented event are named (exit 1); a line that is not JSON is refused with its line
 * (exit 2); other JSON lines are skipped. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkcli.h"
#include "exonce.h"

static int run(const char *text, struct sb *out, struct sb *err)
{
    char path[] = "/tmp/conlab-exonce-XXXXXX";
    int fd = mkstemp(path);
    ck_assert(fd >= 0);
    ck_assert(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
    char *argv[] = {(char *)"check", (char *)"--exactly-once", path, NULL};
    int rc = checkcli_run(3, argv, out, err);
    unlink(path);
    return rc;
}

START_TEST(each_produced_event_applied_once_holds)
{
    struct sb out = {0}, err = {0};
    int rc = run("{\"t\":0,\"node\":\"lab\",\"ev\":\"output\",\"text\":\"start\"}\n"
                 "{\"ev\":\"produced\",\"node\":\"n1\",\"id\":\"m1\",\"order\":\"o1\"}\n"
                 "\n"
                 "{\"ev\":\"consumed\",\"node\":\"n3\",\"id\":\"m1\",\"applied\":true}\n"
                 "{\"ev\":\"consumed\",\"node\":\"n3\",\"id\":\"m1\",\"applied\":false,\"duplicate\":true}\n",
                 &out, &err);
    ck_assert_msg(rc == 0, "%s%s", out.s ? out.s : "", err.s ? err.s : "");
    ck_assert_msg(strstr(out.s, "exactly once: 1 events produced, each applied once (1 duplicate deliveries dropped)"),
                  "%s", out.s);
    sb_free(&out);
    sb_free(&err);
}
END_TEST

START_TEST(lost_twice_and_invented_are_named)
{
    struct sb out = {0}, err = {0};
    int rc = run("{\"ev\":\"produced\",\"id\":\"m1\",\"order\":\"o1\"}\n"
                 "{\"ev\":\"produced\",\"id\":\"m2\",\"order\":\"o2\"}\n"
                 "{\"ev\":\"consumed\",\"id\":\"m2\",\"applied\":true}\n"
                 "{\"ev\":\"consumed\",\"id\":\"m2\",\"applied\":true}\n"
                 "{\"ev\":\"consumed\",\"id\":\"m9\",\"applied\":true}\n",
                 &out, &err);
    ck_assert_int_eq(rc, 1);
    ck_assert_msg(strstr(out.s, "NOT exactly once: 1 lost, 1 applied more than once, 1 invented, of 2 produced"), "%s",
                  out.s);
    ck_assert(strstr(out.s, "lost: m1 (order o1)"));
    ck_assert(strstr(out.s, "applied 2 times: m2"));
    ck_assert(strstr(out.s, "invented: m9"));
    sb_free(&out);
    sb_free(&err);
}
END_TEST

START_TEST(bad_input_is_refused_with_its_line)
{
    struct sb out = {0}, err = {0};
    ck_assert_int_eq(run("{\"ev\":\"produced\",\"id\":\"m1\"}\n{\"ev\":\n", &out, &err), 2);
    ck_assert_msg(err.s && strstr(err.s, ":2:") && strstr(err.s, "not a JSON line"), "%s", err.s ? err.s : "");
    sb_free(&out);
    sb_free(&err);
    char *argv[] = {(char *)"check", (char *)"--exactly-once", (char *)"/nonexistent/trace", NULL};
    ck_assert_int_eq(checkcli_run(3, argv, &out, &err), 2);
    ck_assert(strstr(err.s, "cannot read /nonexistent/trace"));
    sb_free(&out);
    sb_free(&err);
    ck_assert_int_eq(run("", &out, &err), 0); /* nothing produced or consumed: said so */
    ck_assert(strstr(out.s, "nothing was produced or consumed"));
    sb_free(&out);
    sb_free(&err);
}
END_TEST

Suite *suite_exonce(void);
Suite *suite_exonce(void)
{
    Suite *s = suite_create("exonce");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, each_produced_event_applied_once_holds);
    tcase_add_test(tc, lost_twice_and_invented_are_named);
    tcase_add_test(tc, bad_input_is_refused_with_its_line);
    suite_add_tcase(s, tc);
    return s;
}
