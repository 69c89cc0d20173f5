/* check_outbox — the outbox mode in the simulator: an order's event reaches the consumer once;
 * a service crash after publishing sends it again and the consumer drops the duplicate; the
 * dual write loses an event when the service dies between its two writes; no-dedup applies a
 * duplicate twice (the monitor flags it); a restarted broker redelivers and nothing is applied
 * twice; bad input refused. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "mode.h"
#include "sim.h"

extern const struct mode mode_outbox;

#define MS 1000ull
#define SEC 1000000ull

static const char *const kept[] = {"produced", "consumed", "stored", "crashpoint", NULL};

static struct fixture *fx(const char *opts, uint64_t seed)
{
    struct fixture *f = fixture_new(&mode_outbox, 3, opts, seed);
    fixture_keep(f, kept);
    fixture_direct(f, 1);
    fixture_run(f, 50 * MS);
    return f;
}

static json_t *order(const char *id, int amount)
{
    return json_pack("{s:s,s:s,s:i}", "type", "order", "order", id, "amount", amount);
}

static long figure(struct fixture *f, int idx, const char *key)
{
    json_t *st = sim_status(f->s, idx);
    long v = (long)json_integer_value(json_object_get(st, key));
    json_decref(st);
    return v;
}

static const char *role(struct fixture *f, int idx)
{
    static char r[32];
    json_t *st = sim_status(f->s, idx);
    str_copy(r, st ? json_string_value(json_object_get(st, "role")) : "down", sizeof r);
    json_decref(st);
    return r;
}

static int count_true(struct fixture *f, const char *ev, const char *field)
{
    int n = 0;
    size_t i;
    const json_t *e;
    json_array_foreach(f->events, i, e)
        n += !strcmp(json_string_value(json_object_get(e, "ev")), ev) && json_is_true(json_object_get(e, field));
    return n;
}

static void crashpoint(struct fixture *f, const char *at)
{
    char *argv[] = {(char *)"n1", (char *)at, NULL};
    json_t *r = sim_command(f->s, 0, "stopat", 2, argv);
    ck_assert_msg(json_is_true(json_object_get(r, "ok")), "%s", json_string_value(json_object_get(r, "text")));
    json_decref(r);
}

START_TEST(an_orders_event_reaches_the_consumer_once)
{
    struct fixture *f = fx("", 1);
    for (int i = 0; i < 5; i++) {
        char id[8];
        snprintf(id, sizeof id, "o%d", i);
        json_t *r = fixture_call(f, 0, order(id, 10 + i), SEC);
        ck_assert_str_eq(json_string_value(json_object_get(r, "type")), "order_ok");
        json_decref(r);
    }
    fixture_run(f, SEC);
    ck_assert_int_eq(fixture_count(f, "produced", NULL, NULL), 5);
    ck_assert_int_eq(count_true(f, "consumed", "applied"), 5);
    ck_assert_int_eq(figure(f, 2, "applied"), 5);
    ck_assert_int_eq(figure(f, 0, "outbox"), 0);
    ck_assert_str_eq(role(f, 0), "service");
    FIXTURE_OK(f);
    fixture_free(&f);
}
END_TEST

START_TEST(a_service_crash_after_publishing_sends_a_duplicate_that_is_dropped)
{
    struct fixture *f = fx("", 2);
    crashpoint(f, "publish");
    json_t *r = fixture_call(f, 0, order("o1", 30), SEC);
    json_decref(r);
    fixture_run(f, SEC);
    ck_assert_str_eq(role(f, 0), "halted");
    sim_crash(f->s, 0);
    sim_restart(f->s, 0);
    fixture_run(f, 2 * SEC);
    ck_assert_str_eq(role(f, 0), "service");
    ck_assert_int_eq(fixture_count(f, "stored", NULL, NULL), 2);
    ck_assert_int_eq(count_true(f, "consumed", "duplicate"), 1);
    ck_assert_int_eq(figure(f, 2, "applied"), 1);
    ck_assert_int_eq(figure(f, 2, "dropped"), 1);
    FIXTURE_OK(f);
    fixture_free(&f);
}
END_TEST

START_TEST(the_dual_write_loses_the_event_when_the_service_dies_between_its_writes)
{
    struct fixture *f = fx("bug=dual-write", 3);
    crashpoint(f, "between");
    fixture_send(f, 0, order("o1", 30));
    fixture_run(f, SEC);
    sim_crash(f->s, 0);
    sim_restart(f->s, 0);
    fixture_run(f, 2 * SEC);
    ck_assert_int_eq(fixture_count(f, "produced", NULL, NULL), 1);
    ck_assert_int_eq(fixture_count(f, "consumed", NULL, NULL), 0);
    json_t *r = fixture_call(f, 0, json_pack("{s:s,s:s}", "type", "read", "key", "o1"), SEC);
    ck_assert_str_eq(json_string_value(json_object_get(r, "type")), "read_ok"); /* the order exists */
    json_decref(r);
    FIXTURE_OK(f);
    fixture_free(&f);
}
END_TEST

START_TEST(no_dedup_applies_a_duplicate_and_the_monitor_flags_it)
{
    struct fixture *f = fx("bug=no-dedup", 4);
    f->use_monitor = 0;
    void *mon = mode_outbox.monitor->create();
    struct sb alert = {0};
    crashpoint(f, "publish");
    json_t *r = fixture_call(f, 0, order("o1", 30), SEC);
    json_decref(r);
    fixture_run(f, SEC);
    sim_crash(f->s, 0);
    sim_restart(f->s, 0);
    fixture_run(f, 2 * SEC);
    int alerts = 0;
    size_t i;
    const json_t *e;
    json_array_foreach(f->events, i, e)
        alerts += mode_outbox.monitor->feed(mon, e, &alert);
    ck_assert_int_ge(alerts, 1);
    ck_assert_msg(strstr(alert.s, "ExactlyOnce: n3 applied m1 a second time"), "%s", alert.s);
    ck_assert_int_eq(figure(f, 2, "applied"), 2);
    mode_outbox.monitor->destroy(mon);
    sb_free(&alert);
    fixture_free(&f);
}
END_TEST

START_TEST(a_restarted_broker_redelivers_and_nothing_is_applied_twice)
{
    struct fixture *f = fx("", 5);
    json_t *r = fixture_call(f, 0, order("o1", 30), SEC);
    json_decref(r);
    fixture_run(f, SEC);
    sim_crash(f->s, 1);
    sim_restart(f->s, 1);
    sim_crash(f->s, 2);
    sim_restart(f->s, 2);
    fixture_run(f, 2 * SEC);
    ck_assert_int_eq(count_true(f, "consumed", "applied"), 1);
    ck_assert_int_ge(count_true(f, "consumed", "duplicate"), 1);
    ck_assert_str_eq(role(f, 1), "broker");
    FIXTURE_OK(f);
    fixture_free(&f);
}
END_TEST

START_TEST(bad_input_is_refused)
{
    struct fixture *f = fx("", 6);
    static const char *const bodies[] = {"{\"type\":\"order\"}", "{\"type\":\"order\",\"order\":\"o\",\"amount\":\"x\"}",
                                         "{\"type\":\"read\"}"};
    for (size_t i = 0; i < 3; i++) {
        json_t *r = fixture_call(f, 0, json_loads(bodies[i], 0, NULL), SEC);
        ck_assert_int_eq(json_integer_value(json_object_get(r, "code")), 12);
        json_decref(r);
    }
    json_t *r = fixture_call(f, 1, order("o1", 1), SEC);
    ck_assert_int_eq(json_integer_value(json_object_get(r, "code")), 11);
    json_decref(r);
    r = fixture_call(f, 0, order("o1", 1), SEC);
    json_decref(r);
    r = fixture_call(f, 0, order("o1", 1), SEC);
    ck_assert_int_eq(json_integer_value(json_object_get(r, "code")), 22);
    json_decref(r);
    static const char *const peer[] = {"{\"type\":\"publish\"}", "{\"type\":\"deliver\",\"id\":\"m9\"}",
                                       "{\"type\":\"delivered\",\"offset\":99}", "{\"type\":\"published\"}"};
    for (size_t i = 0; i < 4; i++)
        for (int n = 0; n < 3; n++)
            fixture_send(f, n, json_loads(peer[i], 0, NULL));
    fixture_run(f, SEC);
    ck_assert_int_eq(figure(f, 2, "applied"), 1);
    char err[200];
    ck_assert_ptr_null(fixture_try_new(&mode_outbox, 4, "", 1, err, sizeof err));
    FIXTURE_OK(f);
    fixture_free(&f);
}
END_TEST

Suite *suite_outbox(void);
Suite *suite_outbox(void)
{
    Suite *s = suite_create("outbox");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, an_orders_event_reaches_the_consumer_once);
    tcase_add_test(tc, a_service_crash_after_publishing_sends_a_duplicate_that_is_dropped);
    tcase_add_test(tc, the_dual_write_loses_the_event_when_the_service_dies_between_its_writes);
    tcase_add_test(tc, no_dedup_applies_a_duplicate_and_the_monitor_flags_it);
    tcase_add_test(tc, a_restarted_broker_redelivers_and_nothing_is_applied_twice);
    tcase_add_test(tc, bad_input_is_refused);
    suite_add_tcase(s, tc);
    return s;
}
