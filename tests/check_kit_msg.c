/* check_kit_msg — typed message getters: a body that has every field in range fills the struct;
 * each kind of wrong body (missing field, wrong type, out of range, too long, not an object) is
 * refused with one line naming the message and the field; optional fields keep the caller's
 * default; nothing leaks when a later field is refused after a text field was copied. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "util.h"

struct req {
    uint64_t term;
    int node;
    const char *key;
    const char *val;     /* string or null */
    char *text;          /* string or number */
    int flag;
    const json_t *items;
    const json_t *obj;
    uint64_t hash;
    uint64_t opt;
    const json_t *any;
};

static const struct msg_field fields[] = {
    MSG_U64(struct req, term, 1000),
    MSG_INT(struct req, node, -1, 15),
    MSG_STR(struct req, key),
    MSG_STR_NULL(struct req, val),
    MSG_TEXT(struct req, text),
    MSG_BOOL(struct req, flag),
    MSG_ARRAY(struct req, items, 3),
    MSG_OBJECT(struct req, obj),
    MSG_HEX(struct req, hash),
    MSG_U64_OPT(struct req, opt, 10),
    MSG_ANY_OPT(struct req, any),
    MSG_END,
};

static const char *good =
    "{\"type\":\"demo\",\"term\":7,\"node\":-1,\"key\":\"x\",\"val\":null,\"text\":42,\"flag\":true,"
    "\"items\":[1,2],\"obj\":{},\"hash\":\"00000000000000ff\"}";

START_TEST(a_well_formed_body_fills_every_field)
{
    json_t *b = json_loads(good, 0, NULL);
    struct req r = {.opt = 99};
    char err[200];
    ck_assert_int_eq(msg_get(b, NULL, fields, &r, err, sizeof err), 0);
    ck_assert_uint_eq(r.term, 7);
    ck_assert_int_eq(r.node, -1);
    ck_assert_str_eq(r.key, "x");
    ck_assert_ptr_null(r.val);
    ck_assert_str_eq(r.text, "42");
    ck_assert_int_eq(r.flag, 1);
    ck_assert_int_eq(json_array_size(r.items), 2);
    ck_assert(json_is_object(r.obj));
    ck_assert_uint_eq(r.hash, 255);
    ck_assert_uint_eq(r.opt, 99); /* absent: the caller's default stays */
    ck_assert_ptr_null(r.any);
    msg_free_text(fields, &r);
    ck_assert_ptr_null(r.text);
    json_decref(b);
}
END_TEST

static const struct {
    const char *field, *value, *want;
} bad[] = {
    {"term", NULL, "demo needs a whole number \"term\" from 0 to 1000, got nothing"},
    {"term", "-1", "\"term\" from 0 to 1000, got -1"},
    {"term", "1001", "got 1001"},
    {"term", "\"7\"", "got a string"},
    {"term", "7.5", "got a fraction"},
    {"node", "16", "\"node\" from -1 to 15, got 16"},
    {"node", "-2", "got -2"},
    {"key", "5", "demo needs a string \"key\", got 5"},
    {"key", NULL, "demo needs a string \"key\", got nothing"},
    {"val", "[]", "a string or null \"val\", got an array"},
    {"text", "true", "a string \"text\", got true"},
    {"flag", "1", "a boolean \"flag\", got 1"},
    {"items", "[1,2,3,4]", "an array \"items\" of at most 3 elements, got 4 elements"},
    {"items", "{}", "got an object"},
    {"obj", "null", "an object \"obj\", got null"},
    {"hash", "\"ff\"", "\"hash\", got \"ff\""},
    {"opt", "11", "\"opt\" from 0 to 10, got 11"},
};

START_TEST(each_wrong_field_is_named)
{
    json_t *b = json_loads(good, 0, NULL);
    if (bad[_i].value)
        json_object_set_new(b, bad[_i].field, json_loads(bad[_i].value, JSON_DECODE_ANY, NULL));
    else
        json_object_del(b, bad[_i].field);
    struct req r = {0};
    char err[200] = "";
    ck_assert_int_eq(msg_get(b, NULL, fields, &r, err, sizeof err), CL_EINVAL);
    ck_assert_msg(strstr(err, bad[_i].want), "%s=%s: got \"%s\", want \"%s\"", bad[_i].field,
                  bad[_i].value ? bad[_i].value : "(absent)", err, bad[_i].want);
    /* a refused body allocates nothing: text was copied before a later field failed */
    if (strcmp(bad[_i].field, "term") && strcmp(bad[_i].field, "node") && strcmp(bad[_i].field, "key") &&
        strcmp(bad[_i].field, "val") && strcmp(bad[_i].field, "text"))
        ck_assert_ptr_null(r.text);
    json_decref(b);
}
END_TEST

START_TEST(a_body_that_is_not_an_object_is_refused)
{
    char err[200];
    struct req r;
    json_t *a = json_array();
    ck_assert_int_eq(msg_get(a, "append_entries", fields, &r, err, sizeof err), CL_EINVAL);
    ck_assert_str_eq(err, "append_entries needs to be an object, got an array");
    ck_assert_int_eq(msg_get(NULL, NULL, fields, &r, err, sizeof err), CL_EINVAL);
    ck_assert_str_eq(err, "the message needs to be an object, got nothing");
    json_decref(a);
    char got[32];
    json_t *x = json_real(0.5);
    msg_describe(x, got, sizeof got);
    ck_assert_str_eq(got, "a fraction");
    json_decref(x);
}
END_TEST

Suite *suite_kit_msg(void);
Suite *suite_kit_msg(void)
{
    Suite *s = suite_create("kit_msg");
    TCase *tc = tcase_create("msg");
    tcase_add_test(tc, a_well_formed_body_fills_every_field);
    tcase_add_loop_test(tc, each_wrong_field_is_named, 0, (int)CL_ARRAY_LEN(bad));
    tcase_add_test(tc, a_body_that_is_not_an_object_is_refused);
    suite_add_tcase(s, tc);
    return s;
}
