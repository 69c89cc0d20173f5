/* check_jsonvalues — client values of any JSON type through the KV state machine and the modes
 * built on it (raft, leader, paxos, zab): a write of 42 reads back the number 42, of "42" the string, of an
 * object the object; a cas compares JSON values (42 is not "42"); integer keys are taken as
 * their decimal text (raft, leader). The entry codec (kvsm.h) round-trips every value, strings that begin with
 * its mark included. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "kvsm.h"
#include "mode.h"

extern const struct mode mode_raft;
extern const struct mode mode_leader;
extern const struct mode mode_paxos;
extern const struct mode mode_zab;

#define SEC 1000000ull

START_TEST(the_entry_codec_round_trips_every_value)
{
    static const char *const vals[] = {"42", "\"42\"", "\"\"", "null", "true", "1.5", "[1,\"a\",{}]", "{\"k\":[null]}",
                                       "\"\\u0001x\"", "\"\\u0001\"", "-7"};
    for (size_t i = 0; i < sizeof vals / sizeof *vals; i++) {
        json_t *v = json_loads(vals[i], JSON_DECODE_ANY, NULL);
        ck_assert_msg(v != NULL, "%s", vals[i]);
        char *t = kvsm_value_encode(v);
        json_t *back = kvsm_value_decode(t);
        ck_assert_msg(json_equal(v, back), "%s did not round-trip", vals[i]);
        if (json_is_string(v) && json_string_value(v)[0] != KV_JSON_MARK)
            ck_assert_str_eq(t, json_string_value(v)); /* a plain string travels as itself */
        free(t);
        json_decref(v);
        json_decref(back);
    }
    struct kvsm sm;
    kvsm_init(&sm);
    struct rlog_entry put = {.type = KV_PUT, .key = (char *)"x", .value = (char *)"\x01" "42"};
    ck_assert_int_eq(kvsm_apply(&sm, &put), 0);
    ck_assert(json_is_integer(kvsm_get_json(&sm, "x")));
    struct rlog_entry cas = {.type = KV_CAS, .key = (char *)"x", .from = (char *)"42", .value = (char *)"y"};
    ck_assert_int_eq(kvsm_apply(&sm, &cas), ERR_PRECONDITION_FAILED); /* the string "42" is not 42 */
    cas.from = (char *)"\x01" "42";
    ck_assert_int_eq(kvsm_apply(&sm, &cas), 0);
    ck_assert_str_eq(kvsm_get(&sm, "x"), "y");
    ck_assert_str_eq(kvsm_value_text("\x01[1]"), "[1]");
    kvsm_free(&sm);
}
END_TEST

static json_t *call(struct fixture *f, int node, const char *body)
{
    json_t *r = fixture_call(f, node, json_loads(body, 0, NULL), 5 * SEC);
    ck_assert_msg(r != NULL, "no reply to %s", body);
    return r;
}

static void values_through(const struct mode *m, const char *opts, int int_keys)
{
    struct fixture *f = fixture_new(m, 3, opts, 20);
    fixture_run(f, 2 * SEC);
    static const char *const writes[] = {
        "{\"type\":\"write\",\"key\":\"ext\",\"value\":42}",
        "{\"type\":\"write\",\"key\":\"s\",\"value\":\"42\"}",
        "{\"type\":\"write\",\"key\":7,\"value\":{\"a\":[1,2]}}",
    };
    const char *third = int_keys ? writes[2] : "{\"type\":\"write\",\"key\":\"7\",\"value\":{\"a\":[1,2]}}";
    for (size_t i = 0; i < 3; i++) {
        json_t *r = call(f, 0, i == 2 ? third : writes[i]);
        ck_assert_msg(!strcmp(json_string_value(json_object_get(r, "type")), "write_ok"), "%s: %s", m->name,
                      json_string_value(json_object_get(r, "text")));
        json_decref(r);
    }
    json_t *r = call(f, 1, "{\"type\":\"read\",\"key\":\"ext\"}");
    ck_assert_msg(json_is_integer(json_object_get(r, "value")) && json_integer_value(json_object_get(r, "value")) == 42,
                  "%s: read ext", m->name);
    json_decref(r);
    r = call(f, 0, "{\"type\":\"read\",\"key\":\"s\"}");
    ck_assert_str_eq(json_string_value(json_object_get(r, "value")), "42");
    json_decref(r);
    r = call(f, 0, "{\"type\":\"read\",\"key\":\"7\"}");
    json_t *want = json_loads("{\"a\":[1,2]}", 0, NULL);
    ck_assert(json_equal(json_object_get(r, "value"), want));
    json_decref(want);
    json_decref(r);
    r = call(f, 0, "{\"type\":\"cas\",\"key\":\"ext\",\"from\":\"42\",\"to\":1}");
    ck_assert_int_eq(json_integer_value(json_object_get(r, "code")), 22);
    json_decref(r);
    r = call(f, 0, "{\"type\":\"cas\",\"key\":\"ext\",\"from\":42,\"to\":[true]}");
    ck_assert_str_eq(json_string_value(json_object_get(r, "type")), "cas_ok");
    json_decref(r);
    r = call(f, 0, "{\"type\":\"write\",\"key\":\"x\"}");
    ck_assert_int_eq(json_integer_value(json_object_get(r, "code")), 12); /* no value: still refused */
    json_decref(r);
    FIXTURE_OK(f);
    fixture_free(&f);
}

START_TEST(raft_stores_and_answers_any_json_value)
{
    values_through(&mode_raft, "", 1);
}
END_TEST

START_TEST(leader_stores_and_answers_any_json_value)
{
    values_through(&mode_leader, "", 1);
}
END_TEST

START_TEST(paxos_stores_and_answers_any_json_value)
{
    values_through(&mode_paxos, "", 0);
}
END_TEST

START_TEST(zab_stores_and_answers_any_json_value)
{
    values_through(&mode_zab, "", 0);
}
END_TEST

Suite *suite_jsonvalues(void);
Suite *suite_jsonvalues(void)
{
    Suite *s = suite_create("jsonvalues");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, the_entry_codec_round_trips_every_value);
    tcase_add_test(tc, raft_stores_and_answers_any_json_value);
    tcase_add_test(tc, leader_stores_and_answers_any_json_value);
    tcase_add_test(tc, paxos_stores_and_answers_any_json_value);
    tcase_add_test(tc, zab_stores_and_answers_any_json_value);
    suite_add_tcase(s, tc);
    return s;
}
