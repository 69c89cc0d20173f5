/* check_kit_kvreply — how every client driver reads a lin-kv reply: successes, nil reads,
 * redirects to a named leader, refusals without one, definite failures, and indeterminate
 * outcomes (timeouts after partial application, unknown codes, unexpected bodies). */
#include <check.h>
#include <string.h>

#include "kvreply.h"
#include "util.h"

static const struct {
    const char *reply, *f;
    enum kvreply_kind kind;
    int code;
} cases[] = {
    {"{\"type\":\"read_ok\",\"value\":\"1\"}", "read", KVR_OK, -1},
    {"{\"type\":\"read_ok\",\"value\":null}", "read", KVR_OK, -1},
    {"{\"type\":\"write_ok\"}", "write", KVR_OK, -1},
    {"{\"type\":\"cas_ok\"}", "cas", KVR_OK, -1},
    {"{\"type\":\"delete_ok\"}", "delete", KVR_OK, -1},
    {"{\"type\":\"error\",\"code\":20,\"text\":\"no such key\"}", "read", KVR_OK, 20},
    {"{\"type\":\"error\",\"code\":20,\"text\":\"no such key\"}", "cas", KVR_FAIL, 20},
    {"{\"type\":\"error\",\"code\":22,\"text\":\"expected 1\"}", "cas", KVR_FAIL, 22},
    {"{\"type\":\"error\",\"code\":11,\"text\":\"not the leader\",\"leader\":\"n2\"}", "write", KVR_REDIRECT, 11},
    {"{\"type\":\"error\",\"code\":11,\"text\":\"no leader known\"}", "write", KVR_UNAVAILABLE, 11},
    {"{\"type\":\"error\",\"code\":11,\"text\":\"quorum not reached\",\"indefinite\":true}", "write", KVR_INFO, 11},
    {"{\"type\":\"error\",\"code\":12,\"text\":\"malformed\"}", "write", KVR_FAIL, 12},
    {"{\"type\":\"error\",\"code\":10,\"text\":\"not supported\"}", "cas", KVR_FAIL, 10},
    {"{\"type\":\"error\",\"code\":13,\"text\":\"crashed\"}", "write", KVR_INFO, 13},
    {"{\"type\":\"error\",\"code\":0,\"text\":\"timeout\"}", "write", KVR_INFO, 0},
    {"{\"type\":\"frobnicate\"}", "write", KVR_INFO, -1},
    {"{\"code\":11}", "write", KVR_INFO, -1},
};

START_TEST(each_reply_means_one_thing)
{
    json_t *r = json_loads(cases[_i].reply, 0, NULL);
    ck_assert_ptr_nonnull(r);
    struct kvreply k;
    kvreply_classify(r, cases[_i].f, &k);
    ck_assert_msg(k.kind == cases[_i].kind, "%s to %s: kind %d, want %d", cases[_i].reply, cases[_i].f,
                  k.kind, cases[_i].kind);
    ck_assert_int_eq(k.code, cases[_i].code);
    if (k.kind == KVR_REDIRECT)
        ck_assert_str_eq(k.leader, "n2");
    else
        ck_assert_ptr_null(k.leader);
    if (!strcmp(cases[_i].reply, "{\"type\":\"read_ok\",\"value\":\"1\"}"))
        ck_assert_str_eq(json_string_value(k.value), "1");
    else
        ck_assert_ptr_null(k.value);
    ck_assert_ptr_nonnull(k.text);
    json_decref(r);
}
END_TEST

START_TEST(definite_codes_are_maelstroms)
{
    int definite[] = {10, 11, 12, 14, 20, 21, 22, 30};
    for (size_t i = 0; i < CL_ARRAY_LEN(definite); i++)
        ck_assert(kvreply_definite(definite[i]));
    int not[] = {0, 1, 13, 23, 31, -1};
    for (size_t i = 0; i < CL_ARRAY_LEN(not); i++)
        ck_assert(!kvreply_definite(not[i]));
}
END_TEST

Suite *suite_kit_kvreply(void);
Suite *suite_kit_kvreply(void)
{
    Suite *s = suite_create("kit_kvreply");
    TCase *tc = tcase_create("kvreply");
    tcase_add_loop_test(tc, each_reply_means_one_thing, 0, (int)CL_ARRAY_LEN(cases));
    tcase_add_test(tc, definite_codes_are_maelstroms);
    suite_add_tcase(s, tc);
    return s;
}
