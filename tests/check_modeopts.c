/* check_modeopts — `start leader key=value ...`: mode_check_opts() accepts the mode's and the
 * generic options and refuses everything else with one line naming the option and the
 * accepted form; the opts helpers fall back to defaults on bad values. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "mode.h"
#include "util.h"

static const struct mode *leader(void)
{
    const struct mode *m = mode_find("leader");
    ck_assert_ptr_nonnull(m);
    return m;
}

/* Checks "k=v k=v ..." against the leader mode; err gets the message. */
static int check(const char *spec, char *err, size_t errlen)
{
    struct opts o = {0};
    char buf[256];
    str_copy(buf, spec, sizeof buf);
    for (char *save = NULL, *tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        char *eq = strchr(tok, '=');
        ck_assert_ptr_nonnull(eq);
        *eq = 0;
        opts_set(&o, tok, eq + 1);
    }
    err[0] = 0;
    int rc = mode_check_opts(leader(), &o, err, errlen);
    opts_free(&o);
    return rc;
}

static const char *const good[] = {
    "repl=sync",
    "repl=async failover=manual fencing=on sync_down=block",
    "heartbeat=50ms failover_timeout=2s",
    "seed=0", "seed=2147483647", "speed=0.01", "speed=10", "speed=1", "sim=on", "fsync=off",
    "bug=none", "timeout=500ms", "events=state",
    "timeout=10ms", "timeout=600s", "auth=curve", "auth=off",
    "",
};

START_TEST(valid_options_are_accepted)
{
    char err[256];
    ck_assert_msg(check(good[_i], err, sizeof err) == 0, "\"%s\": %s", good[_i], err);
}
END_TEST

static const struct {
    const char *spec;
    const char *error;
} bad[] = {
    {"replx=sync", "unknown option replx for mode leader (did you mean repl?)"},
    {"fencng=on", "(did you mean fencing?)"},
    {"sed=4", "(did you mean seed?)"},
    {"hearbeat=1s", "(did you mean heartbeat?)"},
    {"zzzzzzzzzz=1", "unknown option zzzzzzzzzz for mode leader; see 'help start'"},
    {"repl=fast", "bad repl=fast: expected repl=async|sync|semisync"},
    {"repl=", "bad repl=: expected repl=async|sync|semisync"},
    {"repl=SYNC", "expected repl=async|sync|semisync"},
    {"fencing=yes", "bad fencing=yes: expected fencing=on|off"},
    {"sim=1", "expected sim=on|off"},
    {"speed=0", "bad speed=0: expected a number from 0.01 to 10"},
    {"speed=11", "bad speed=11"},
    {"speed=fast", "bad speed=fast"},
    {"speed=1e1", "bad speed=1e1"},
    {"speed=-1", "bad speed=-1"},
    {"speed=nan", "bad speed=nan"},
    {"speed=inf", "bad speed=inf"},
    {"bug=commit-old-term", "unknown bug=commit-old-term for mode leader: expected none"},
    {"seed=-1", "bad seed=-1: expected a whole number from 0 to 2147483647"},
    {"seed=2147483648", "bad seed=2147483648"},
    {"seed=9223372036854775808", "bad seed=9223372036854775808"},
    {"seed=0x10", "bad seed=0x10"},
    {"seed=1.5", "bad seed=1.5"},
    {"seed=abc", "bad seed=abc"},
    {"heartbeat=fast", "bad heartbeat=fast: expected a duration such as 500ms or 2s"},
    {"failover_timeout=-1s", "bad failover_timeout=-1s"},
    {"timeout=5h", "bad timeout=5h"},
    {"timeout=0", "bad timeout=0: expected a duration from 10ms to 600s"},
    {"timeout=9ms", "bad timeout=9ms: expected a duration from 10ms to 600s"},
    {"timeout=601s", "bad timeout=601s"},
    {"auth=none", "bad auth=none: expected auth=curve|off"},
    {"repl=sync repl2=x", "unknown option repl2"},
};

START_TEST(bad_options_are_refused_naming_the_accepted_form)
{
    char err[256];
    ck_assert_msg(check(bad[_i].spec, err, sizeof err) == CL_EINVAL, "\"%s\" accepted", bad[_i].spec);
    ck_assert_msg(strstr(err, bad[_i].error), "\"%s\": got \"%s\"", bad[_i].spec, err);
    ck_assert_ptr_null(strchr(err, '\n'));
}
END_TEST

START_TEST(a_small_error_buffer_is_never_overrun)
{
    char err[16];
    memset(err, 'Z', sizeof err);
    ck_assert_int_eq(check("repl=fast", err, 12), CL_EINVAL);
    ck_assert_uint_eq(strlen(err), 11);
    ck_assert_int_eq(err[12], 'Z');
}
END_TEST

START_TEST(opts_helpers_return_defaults_on_bad_values)
{
    struct opts o = {0};
    opts_set(&o, "n", "12");
    opts_set(&o, "bad", "12x");
    opts_set(&o, "d", "250ms");
    opts_set(&o, "dbad", "soon");
    ck_assert_int_eq(opts_get_int(&o, "n", 5), 12);
    ck_assert_int_eq(opts_get_int(&o, "bad", 5), 5);
    ck_assert_int_eq(opts_get_int(&o, "missing", 5), 5);
    ck_assert_uint_eq(opts_get_duration(&o, "d", 1), 250000);
    ck_assert_uint_eq(opts_get_duration(&o, "dbad", 1), 1);
    ck_assert_str_eq(opts_get(&o, "n", "x"), "12");
    ck_assert_str_eq(opts_get(&o, "none", "x"), "x");
    ck_assert_str_eq(opts_get(NULL, "n", "x"), "x");
    opts_set(&o, "n", "13"); /* replaces */
    ck_assert_int_eq(o.n, 4);
    ck_assert_int_eq(opts_get_int(&o, "n", 5), 13);
    struct opts c = {0};
    opts_copy(&c, &o);
    ck_assert_int_eq(c.n, 4);
    ck_assert_str_eq(opts_get(&c, "d", ""), "250ms");
    opts_free(&c);
    opts_free(&o);
    ck_assert_int_eq(o.n, 0);
}
END_TEST

START_TEST(options_beyond_the_table_size_are_ignored_not_overflowed)
{
    struct opts o = {0};
    for (int i = 0; i < 40; i++) {
        char k[16];
        snprintf(k, sizeof k, "k%d", i);
        opts_set(&o, k, "v");
    }
    ck_assert_int_eq(o.n, (int)CL_ARRAY_LEN(o.key));
    ck_assert_ptr_null(opts_get(&o, "k39", NULL));
    opts_free(&o);
}
END_TEST

START_TEST(dispatch_drops_bodies_without_a_known_type)
{
    const struct mode *m = leader();
    json_t *b = json_pack("{s:s}", "type", "no_such_type");
    ck_assert_int_eq(mode_dispatch(m, NULL, "c1", b), CL_ENOENT);
    json_decref(b);
    b = json_pack("{s:i}", "type", 5);
    ck_assert_int_eq(mode_dispatch(m, NULL, "c1", b), CL_ENOENT);
    json_decref(b);
    b = json_object();
    ck_assert_int_eq(mode_dispatch(m, NULL, "c1", b), CL_ENOENT);
    json_decref(b);
    ck_assert_ptr_null(mode_find("nosuchmode"));
}
END_TEST

Suite *suite_modeopts(void);
Suite *suite_modeopts(void)
{
    Suite *s = suite_create("modeopts");
    TCase *tc = tcase_create("check");
    tcase_add_loop_test(tc, valid_options_are_accepted, 0, (int)CL_ARRAY_LEN(good));
    tcase_add_loop_test(tc, bad_options_are_refused_naming_the_accepted_form, 0, (int)CL_ARRAY_LEN(bad));
    tcase_add_test(tc, a_small_error_buffer_is_never_overrun);
    suite_add_tcase(s, tc);
    tc = tcase_create("opts");
    tcase_add_test(tc, opts_helpers_return_defaults_on_bad_values);
    tcase_add_test(tc, options_beyond_the_table_size_are_ignored_not_overflowed);
    tcase_add_test(tc, dispatch_drops_bodies_without_a_known_type);
    suite_add_tcase(s, tc);
    return s;
}
