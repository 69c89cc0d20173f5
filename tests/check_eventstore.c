/* check_eventstore — the eventstore mode in the simulator: appends with an expected version
 * (a stale one refused with the stream's version now), replication to a majority before the
 * client hears ok, committed events surviving a crash, read_stream from any version, replay
 * from snapshots equal to a replay from version 1, a projection that catches up and equals a
 * replay; each bug toggle caught by the monitor; bad input refused; the record decoder's fuzz
 * corpus replayed. */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "es.h"
#include "fixture.h"
#include "fuzz_eventstore_one.h"
#include "mode.h"
#include "sim.h"

extern const struct mode mode_eventstore;

#define MS 1000ull
#define SEC 1000000ull

static const char *const kept[] = {"appended", "committed", "conflict", "snapshotted", "projected", "recovered",
                                   "truncated", NULL};

static struct fixture *fx(const char *opts, uint64_t seed)
{
    struct fixture *f = fixture_new(&mode_eventstore, 3, opts, seed);
    fixture_keep(f, kept);
    fixture_direct(f, 1);
    fixture_run(f, 50 * MS);
    return f;
}

static json_t *append(const char *stream, const char *type, long expected, json_t *data)
{
    json_t *b = json_pack("{s:s,s:s,s:s}", "type", "append", "stream", stream, "event", type);
    if (expected >= 0)
        json_object_set_new(b, "expected", json_integer(expected));
    if (data)
        json_object_set_new(b, "data", data);
    return b;
}

static const char *type_of(const json_t *r)
{
    return r ? json_string_value(json_object_get(r, "type")) : "(no reply)";
}

static long figure(struct fixture *f, int idx, const char *key)
{
    json_t *st = sim_status(f->s, idx);
    long v = (long)json_integer_value(json_object_get(st, key));
    json_decref(st);
    return v;
}

static json_t *call(struct fixture *f, int node, json_t *body)
{
    return fixture_call(f, node, body, 5 * SEC);
}

static void append_ok(struct fixture *f, const char *stream, const char *type, long expected, json_t *data, long want_v)
{
    json_t *r = call(f, 0, append(stream, type, expected, data));
    ck_assert_msg(r && !strcmp(type_of(r), "append_ok"), "append %s %s: %s %s", stream, type, type_of(r),
                  r ? json_string_value(json_object_get(r, "text")) : "");
    ck_assert_int_eq(json_integer_value(json_object_get(r, "version")), want_v);
    json_decref(r);
}

/* The aggregate state of stream on node idx (read's "state"), as compact sorted text. */
static char *state_on(struct fixture *f, int idx, const char *stream)
{
    json_t *r = call(f, idx, json_pack("{s:s,s:s}", "type", "read", "key", stream));
    char *s = r && !strcmp(type_of(r), "read_ok") ? json_dumps(json_object_get(r, "state"), JSON_COMPACT | JSON_SORT_KEYS)
                                                  : xstrdup(type_of(r));
    json_decref(r);
    return s;
}

static json_t *command(struct fixture *f, int idx, const char *name, const char *a, const char *b)
{
    char *argv[] = {(char *)a, (char *)b, NULL};
    json_t *r = sim_command(f->s, idx, name, a ? (b ? 2 : 1) : 0, argv);
    ck_assert_msg(r != NULL, "%s: no reply", name);
    return r;
}

/* Feeds every kept event to a fresh monitor; returns the alerts' text (caller frees) and
 * their number in *n. */
static char *monitor_alerts(struct fixture *f, int *n)
{
    void *mon = es_monitor.create();
    struct sb alert = {0};
    size_t i;
    const json_t *e;
    *n = 0;
    json_array_foreach(f->events, i, e)
        *n += es_monitor.feed(mon, e, &alert);
    es_monitor.destroy(mon);
    char *s = xstrdup(alert.s ? alert.s : "");
    sb_free(&alert);
    return s;
}

START_TEST(an_append_with_a_stale_expected_version_is_refused)
{
    struct fixture *f = fx("", 1);
    append_ok(f, "order-7", "created", 0, json_pack("{s:i}", "amount", 30), 1);
    json_t *r = call(f, 0, append("order-7", "paid", 0, NULL));
    ck_assert_str_eq(type_of(r), "error");
    ck_assert_int_eq(json_integer_value(json_object_get(r, "code")), 22);
    ck_assert_int_eq(json_integer_value(json_object_get(r, "version")), 1);
    ck_assert_msg(strstr(json_string_value(json_object_get(r, "text")), "it is at version 1, you expected 0"), "%s",
                  json_string_value(json_object_get(r, "text")));
    json_decref(r);
    append_ok(f, "order-7", "paid", 1, json_pack("{s:i}", "+paid", 30), 2);
    append_ok(f, "order-7", "shipped", -1, NULL, 3); /* no expectation: any version */
    ck_assert_int_eq(fixture_count(f, "conflict", NULL, NULL), 1);
    fixture_run(f, SEC);
    for (int i = 0; i < 3; i++) {
        char *s = state_on(f, i, "order-7");
        ck_assert_str_eq(s, "{\"amount\":30,\"paid\":30,\"status\":\"shipped\",\"version\":3}");
        free(s);
    }
    FIXTURE_OK(f);
    fixture_free(&f);
}
END_TEST

START_TEST(an_append_is_acknowledged_only_once_a_majority_holds_it)
{
    struct fixture *f = fx("", 2);
    sim_crash(f->s, 1);
    sim_crash(f->s, 2);
    int p = fixture_send(f, 0, append("acct-1", "opened", 0, NULL));
    ck_assert_int_ne(fixture_await(f, p, 2 * SEC), SIMOP_OK); /* alone, the primary cannot commit */
    ck_assert_int_eq(fixture_count(f, "committed", NULL, NULL), 0);
    sim_restart(f->s, 1);
    fixture_run(f, 2 * SEC);
    ck_assert_int_eq(figure(f, 0, "commit"), 1);
    ck_assert_int_eq(figure(f, 1, "last"), 1);
    append_ok(f, "acct-1", "deposited", 1, json_pack("{s:i}", "+balance", 10), 2);
    FIXTURE_OK(f);
    fixture_free(&f);
}
END_TEST

START_TEST(committed_events_survive_a_crash_of_every_node)
{
    struct fixture *f = fx("snapshot=3", 3);
    for (int i = 0; i < 7; i++)
        append_ok(f, "acct-1", "deposited", i, json_pack("{s:i}", "+balance", 10), i + 1);
    fixture_run(f, SEC);
    for (int i = 0; i < 3; i++)
        sim_crash(f->s, i);
    for (int i = 0; i < 3; i++)
        sim_restart(f->s, i);
    fixture_run(f, 2 * SEC);
    for (int i = 0; i < 3; i++) {
        char *s = state_on(f, i, "acct-1");
        ck_assert_str_eq(s, "{\"balance\":70,\"status\":\"deposited\",\"version\":7}");
        free(s);
        ck_assert_int_eq(figure(f, i, "snapshots"), 1);
    }
    ck_assert_int_eq(figure(f, 0, "term"), 2); /* a new epoch after the restart */
    append_ok(f, "acct-1", "withdrawn", 7, json_pack("{s:i}", "+balance", -5), 8);
    FIXTURE_OK(f);
    fixture_free(&f);
}
END_TEST

START_TEST(read_stream_returns_the_events_from_any_version)
{
    struct fixture *f = fx("", 4);
    append_ok(f, "s", "a", 0, NULL, 1);
    append_ok(f, "t", "x", 0, NULL, 1);
    append_ok(f, "s", "b", 1, NULL, 2);
    append_ok(f, "s", "c", 2, NULL, 3);
    fixture_run(f, SEC);
    json_t *r = call(f, 2, json_pack("{s:s,s:s,s:i}", "type", "read_stream", "stream", "s", "from", 2));
    ck_assert_str_eq(type_of(r), "read_stream_ok");
    const json_t *evs = json_object_get(r, "events");
    ck_assert_int_eq(json_array_size(evs), 2);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(evs, 0), "type")), "b");
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(evs, 1), "v")), 3);
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(evs, 1), "pos")), 4);
    json_decref(r);
    FIXTURE_OK(f);
    fixture_free(&f);
}
END_TEST

START_TEST(replay_from_a_snapshot_equals_a_replay_from_version_one)
{
    struct fixture *f = fx("snapshot=4", 5);
    for (int i = 0; i < 10; i++)
        append_ok(f, "cart-1", i % 2 ? "removed" : "added", i, json_pack("{s:i,s:i}", "+items", i % 2 ? -1 : 2, "n", i), i + 1);
    fixture_run(f, SEC);
    ck_assert_int_eq(fixture_count(f, "snapshotted", NULL, NULL), 6); /* v4 and v8 on 3 nodes */
    json_t *a = command(f, 1, "replay", "cart-1", NULL);
    char *argv[] = {(char *)"cart-1", (char *)"nosnap", NULL};
    json_t *b = sim_command(f->s, 1, "replay", 2, argv);
    ck_assert(json_is_true(json_object_get(a, "ok")) && json_is_true(json_object_get(b, "ok")));
    const char *ta = json_string_value(json_object_get(a, "text")), *tb = json_string_value(json_object_get(b, "text"));
    ck_assert_msg(strstr(ta, "after the snapshot") && strstr(ta, "2 events replayed"), "%s", ta);
    ck_assert_msg(strstr(tb, "10 events replayed from v1"), "%s", tb);
    ck_assert_str_eq(strstr(ta, "  = "), strstr(tb, "  = "));
    json_decref(a);
    json_decref(b);
    char *argv2[] = {(char *)"cart-1", (char *)"to=3", NULL};
    json_t *c = sim_command(f->s, 1, "replay", 2, argv2);
    ck_assert_msg(strstr(json_string_value(json_object_get(c, "text")), "= v3 "), "%s",
                  json_string_value(json_object_get(c, "text")));
    json_decref(c);
    FIXTURE_OK(f);
    fixture_free(&f);
}
END_TEST

START_TEST(a_projection_catches_up_and_equals_a_replay)
{
    struct fixture *f = fx("catchup=3", 6);
    for (int i = 0; i < 10; i++) {
        char s[8];
        snprintf(s, sizeof s, "o%d", i % 4);
        json_t *r = call(f, 0, append(s, i < 4 ? "created" : "paid", -1, NULL));
        ck_assert_str_eq(type_of(r), "append_ok");
        json_decref(r);
    }
    fixture_run(f, 2 * SEC);
    ck_assert_int_eq(figure(f, 2, "projected"), 10);
    json_t *r = command(f, 2, "projection", "n3", "rebuild");
    ck_assert(json_is_true(json_object_get(r, "ok")));
    json_decref(r);
    fixture_run(f, 150 * MS);
    long mid = figure(f, 2, "projected");
    ck_assert_msg(mid > 0 && mid < 10, "caught up in batches of 3, at %ld", mid);
    fixture_run(f, SEC);
    ck_assert_int_eq(figure(f, 2, "lag"), 0);
    r = command(f, 2, "projection", "n3", NULL);
    ck_assert_msg(strstr(json_string_value(json_object_get(r, "text")), "\"total\":10,\"types\":{\"created\":4,\"paid\":6}"),
                  "%s", json_string_value(json_object_get(r, "text")));
    json_decref(r);
    int n;
    char *alerts = monitor_alerts(f, &n);
    ck_assert_msg(n == 0, "%s", alerts);
    free(alerts);
    FIXTURE_OK(f);
    fixture_free(&f);
}
END_TEST

START_TEST(a_replica_that_was_down_catches_up)
{
    struct fixture *f = fx("", 7);
    sim_crash(f->s, 2);
    for (int i = 0; i < 150; i++)
        append_ok(f, "big", "e", i, NULL, i + 1); /* more than one batch of 64 */
    sim_restart(f->s, 2);
    fixture_run(f, 3 * SEC);
    ck_assert_int_eq(figure(f, 2, "last"), 150);
    ck_assert_int_eq(figure(f, 2, "commit"), 150);
    json_t *r = call(f, 2, json_pack("{s:s,s:s}", "type", "read", "key", "big"));
    ck_assert_int_eq(json_integer_value(json_object_get(r, "value")), 150);
    json_decref(r);
    FIXTURE_OK(f);
    fixture_free(&f);
}
END_TEST

/* ---- each bug toggle, caught by the monitor ---------------------------------------------- */

START_TEST(no_occ_writes_two_events_at_one_version_and_the_monitor_says_so)
{
    struct fixture *f = fx("bug=no-occ", 8);
    f->use_monitor = 0;
    append_ok(f, "order-7", "created", 0, NULL, 1);
    append_ok(f, "order-7", "cancelled", 0, NULL, 1); /* a second writer that also read v0 */
    fixture_run(f, SEC);
    int n;
    char *alerts = monitor_alerts(f, &n);
    ck_assert_msg(n >= 1 && strstr(alerts, "UniqueVersion: order-7 v1 is both created at position 1 and cancelled at position 2"),
                  "%s", alerts);
    free(alerts);
    fixture_free(&f);
}
END_TEST

START_TEST(no_fsync_loses_an_acknowledged_event_and_the_monitor_says_so)
{
    struct fixture *f = fx("bug=no-fsync", 9);
    f->use_monitor = 0;
    sim_crash(f->s, 1);
    sim_crash(f->s, 2);
    append_ok(f, "acct", "opened", 0, NULL, 1); /* acknowledged by the primary alone, not on disk */
    sim_crash(f->s, 0);
    sim_restart(f->s, 0);
    fixture_run(f, SEC);
    ck_assert_int_eq(figure(f, 0, "last"), 0);
    int n;
    char *alerts = monitor_alerts(f, &n);
    ck_assert_msg(n >= 1 && strstr(alerts, "Durability: n1 committed position 1 and came back from a restart holding 0"),
                  "%s", alerts);
    free(alerts);
    fixture_free(&f);
}
END_TEST

START_TEST(a_stale_snapshot_is_not_the_fold_and_the_monitor_says_so)
{
    struct fixture *f = fx("bug=stale-snapshot snapshot=2", 10);
    f->use_monitor = 0;
    for (int i = 0; i < 3; i++)
        append_ok(f, "acct", "deposited", i, json_pack("{s:i}", "+balance", 10), i + 1);
    fixture_run(f, SEC);
    sim_crash(f->s, 1);
    sim_restart(f->s, 1);
    fixture_run(f, SEC);
    char *s = state_on(f, 1, "acct");
    ck_assert_str_eq(s, "{\"balance\":20,\"status\":\"deposited\",\"version\":3}"); /* one deposit lost */
    free(s);
    int n;
    char *alerts = monitor_alerts(f, &n);
    ck_assert_msg(n >= 1 && strstr(alerts, "SnapshotIsFold: n1's snapshot of acct at v2 differs"), "%s", alerts);
    free(alerts);
    fixture_free(&f);
}
END_TEST

START_TEST(a_projection_that_skips_is_not_a_replay_and_the_monitor_says_so)
{
    struct fixture *f = fx("bug=projection-skip", 11);
    f->use_monitor = 0;
    for (int i = 0; i < 6; i++)
        fixture_send(f, 0, append("o", "e", -1, NULL)); /* six at once: one catch-up batch */
    fixture_run(f, 2 * SEC);
    int n;
    char *alerts = monitor_alerts(f, &n);
    ck_assert_msg(n >= 1 && strstr(alerts, "ProjectionIsReplay: n"), "%s", alerts);
    free(alerts);
    fixture_free(&f);
}
END_TEST

/* ---- bad input ------------------------------------------------------------------------------ */

START_TEST(bad_input_is_refused)
{
    struct fixture *f = fx("", 12);
    static const char *const bodies[] = {
        "{\"type\":\"append\"}",
        "{\"type\":\"append\",\"stream\":\"s\"}",
        "{\"type\":\"append\",\"stream\":\"a b\",\"event\":\"e\"}",
        "{\"type\":\"append\",\"stream\":\"s\",\"event\":\"e\",\"expected\":\"x\"}",
        "{\"type\":\"append\",\"stream\":\"s\",\"event\":\"e\",\"expected\":-5}",
        "{\"type\":\"append\",\"stream\":\"s\",\"event\":5}",
        "{\"type\":\"append\",\"stream\":[1],\"event\":\"e\"}",
        "{\"type\":\"read\"}",
        "{\"type\":\"read_stream\",\"stream\":\"s\",\"from\":0}",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof *bodies; i++) {
        json_t *r = call(f, 0, json_loads(bodies[i], 0, NULL));
        ck_assert_msg(json_integer_value(json_object_get(r, "code")) == 12, "%s: %s", bodies[i], type_of(r));
        json_decref(r);
    }
    json_t *r = call(f, 1, append("s", "e", 0, NULL));
    ck_assert_int_eq(json_integer_value(json_object_get(r, "code")), 11);
    ck_assert_str_eq(json_string_value(json_object_get(r, "leader")), "n1");
    json_decref(r);
    static const char *const peer[] = {
        "{\"type\":\"es_repl\"}",
        "{\"type\":\"es_repl\",\"epoch\":1,\"prev\":0,\"prev_epoch\":0,\"commit\":5,\"entries\":[{\"e\":1,\"r\":\"{}\"}]}",
        "{\"type\":\"es_repl\",\"epoch\":1,\"prev\":-1,\"prev_epoch\":0,\"commit\":0,\"entries\":[]}",
        "{\"type\":\"es_repl_ok\",\"ok\":true,\"match\":99}",
        "{\"type\":\"es_repl_ok\",\"ok\":false,\"hint\":-3}",
    };
    for (size_t i = 0; i < sizeof peer / sizeof *peer; i++)
        for (int n = 0; n < 3; n++)
            fixture_send(f, n, json_loads(peer[i], 0, NULL));
    fixture_run(f, SEC);
    append_ok(f, "s", "e", 0, NULL, 1); /* still working */
    char big[ES_DATA_MAX + 64];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    r = call(f, 0, append("s", "e", -1, json_pack("{s:s}", "blob", big)));
    ck_assert_int_eq(json_integer_value(json_object_get(r, "code")), 12);
    json_decref(r);
    json_t *c = command(f, 0, "append", "s", "e");
    ck_assert(json_is_true(json_object_get(c, "ok")));
    json_decref(c);
    char *argv[] = {(char *)"s", (char *)"e", (char *)"v=-1", NULL};
    c = sim_command(f->s, 0, "append", 3, argv);
    ck_assert(json_is_false(json_object_get(c, "ok")));
    json_decref(c);
    FIXTURE_OK(f);
    fixture_free(&f);
}
END_TEST

START_TEST(the_record_decoder_round_trips_and_refuses_with_a_reason)
{
    static const char *const good[] = {"{\"s\":\"a\",\"t\":\"b\",\"v\":1,\"x\":-1,\"d\":{}}",
                                       "{\"s\":\"order-7\",\"t\":\"paid\",\"v\":2,\"x\":1,\"d\":{\"+paid\":30}}",
                                       "{\"s\":\"x\",\"t\":\"y\",\"v\":3,\"x\":2}"};
    for (size_t i = 0; i < 3; i++)
        ck_assert_msg(!fuzz_eventstore_one((const uint8_t *)good[i], strlen(good[i])), "%s", good[i]);
    struct es_event ev;
    char err[200];
    ck_assert_int_eq(es_decode_record(good[1], strlen(good[1]), &ev, err, sizeof err), 0);
    ck_assert_str_eq(ev.stream, "order-7");
    ck_assert_int_eq(ev.v, 2);
    es_event_clear(&ev);
    static const char *const bad[] = {"", "[]", "{\"s\":\"a\"}", "{\"s\":\"a\",\"t\":\"b\",\"v\":0,\"x\":-1}",
                                      "{\"s\":\"a b\",\"t\":\"b\",\"v\":1,\"x\":-1}",
                                      "{\"s\":\"a\",\"t\":\"b\",\"v\":\"1\",\"x\":-1,\"d\":3}",
                                      "{\"s\":\"a\",\"s\":\"b\",\"t\":\"b\",\"v\":1,\"x\":-1}"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        err[0] = 0;
        ck_assert_msg(es_decode_record(bad[i], strlen(bad[i]), &ev, err, sizeof err) < 0 && err[0], "%s", bad[i]);
        ck_assert(!fuzz_eventstore_one((const uint8_t *)bad[i], strlen(bad[i])));
    }
    /* the corpus the fuzzer grew */
    const char *root = getenv("CONLAB_CORPUS");
    char *dir = xasprintf("%s/eventstore", root && *root ? root : "tests/corpus");
    DIR *d = opendir(dir);
    ck_assert_msg(d != NULL, "no corpus directory %s", dir);
    int files = 0;
    for (struct dirent *de; d && (de = readdir(d));) {
        if (de->d_name[0] == '.')
            continue;
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        FILE *fp = fopen(path, "rb");
        if (!fp)
            continue;
        char buf[65536];
        size_t n = fread(buf, 1, sizeof buf, fp);
        fclose(fp);
        const char *why = fuzz_eventstore_one((const uint8_t *)buf, n);
        ck_assert_msg(!why, "%s: %s", path, why);
        files++;
    }
    closedir(d);
    free(dir);
    ck_assert_int_gt(files, 0);
}
END_TEST

Suite *suite_eventstore(void);
Suite *suite_eventstore(void)
{
    Suite *s = suite_create("eventstore");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, an_append_with_a_stale_expected_version_is_refused);
    tcase_add_test(tc, an_append_is_acknowledged_only_once_a_majority_holds_it);
    tcase_add_test(tc, committed_events_survive_a_crash_of_every_node);
    tcase_add_test(tc, read_stream_returns_the_events_from_any_version);
    tcase_add_test(tc, replay_from_a_snapshot_equals_a_replay_from_version_one);
    tcase_add_test(tc, a_projection_catches_up_and_equals_a_replay);
    tcase_add_test(tc, a_replica_that_was_down_catches_up);
    tcase_add_test(tc, no_occ_writes_two_events_at_one_version_and_the_monitor_says_so);
    tcase_add_test(tc, no_fsync_loses_an_acknowledged_event_and_the_monitor_says_so);
    tcase_add_test(tc, a_stale_snapshot_is_not_the_fold_and_the_monitor_says_so);
    tcase_add_test(tc, a_projection_that_skips_is_not_a_replay_and_the_monitor_says_so);
    tcase_add_test(tc, bad_input_is_refused);
    tcase_add_test(tc, the_record_decoder_round_trips_and_refuses_with_a_reason);
    suite_add_tcase(s, tc);
    return s;
}
