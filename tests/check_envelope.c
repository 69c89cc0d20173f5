/* check_envelope — the envelope decoder refuses every malformed frame with a clear error. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "envelope.h"

static int decode(const char *s, struct envelope *e, char *err)
{
    return envelope_decode(s, strlen(s), e, err, 256);
}

START_TEST(valid_frame_round_trips)
{
    struct envelope e;
    char err[256];
    ck_assert_int_eq(decode("{\"src\":\"n1\",\"dest\":\"n2\",\"body\":{\"type\":\"read\",\"msg_id\":3,\"key\":\"x\"},\"lamport\":4,\"vc\":[1,2]}", &e, err), 0);
    ck_assert_str_eq(e.src, "n1");
    ck_assert_str_eq(e.dest, "n2");
    ck_assert_str_eq(envelope_type(&e), "read");
    ck_assert_uint_eq(e.lamport, 4);
    ck_assert_int_eq(e.vc_n, 2);
    size_t len;
    char *s = envelope_encode(&e, &len);
    struct envelope e2;
    ck_assert_int_eq(envelope_decode(s, len, &e2, err, sizeof err), 0);
    ck_assert_uint_eq(e2.vc[1], 2);
    free(s);
    envelope_clear(&e);
    envelope_clear(&e2);
}
END_TEST

static const struct {
    const char *frame;
    const char *error;
} bad[] = {
    {"", "empty frame"},
    {"not json", "malformed JSON"},
    {"[1,2]", "not a JSON object"},
    {"{\"dest\":\"n2\",\"body\":{\"type\":\"x\"}}", "missing field \"src\""},
    {"{\"src\":5,\"dest\":\"n2\",\"body\":{\"type\":\"x\"}}", "\"src\" must be a string"},
    {"{\"src\":\"n1\\u0000x\",\"dest\":\"n2\",\"body\":{\"type\":\"x\"}}", "is not allowed"},
    {"{\"src\":\"n 1\",\"dest\":\"n2\",\"body\":{\"type\":\"x\"}}", "not a valid id"},
    {"{\"src\":\"n1\",\"dest\":\"n2\"}", "missing field \"body\""},
    {"{\"src\":\"n1\",\"dest\":\"n2\",\"body\":[]}", "\"body\" must be an object"},
    {"{\"src\":\"n1\",\"dest\":\"n2\",\"body\":{}}", "body.type"},
    {"{\"src\":\"n1\",\"dest\":\"n2\",\"body\":{\"type\":\"x\",\"msg_id\":-1}}", "msg_id"},
    {"{\"src\":\"n1\",\"dest\":\"n2\",\"body\":{\"type\":\"x\",\"msg_id\":1.5}}", "msg_id"},
    {"{\"src\":\"n1\",\"dest\":\"n2\",\"body\":{\"type\":\"x\"},\"vc\":{}}", "\"vc\" must be an array"},
    {"{\"src\":\"n1\",\"dest\":\"n2\",\"body\":{\"type\":\"x\"},\"vc\":[1,\"a\"]}", "\"vc\"[1]"},
    {"{\"src\":\"n1\",\"src\":\"n3\",\"dest\":\"n2\",\"body\":{\"type\":\"x\"}}", "malformed JSON"},
    {"{\"src\":\"n1\",\"dest\":\"n2\",\"body\":{\"type\":\"x\"},\"lamport\":\"7\"}", "lamport"},
    /* numbers at the edges: no wrap, no signed casts, no floats in clock fields */
    {"{\"src\":\"n1\",\"dest\":\"n2\",\"body\":{\"type\":\"x\"},\"lamport\":18446744073709551615}", "malformed JSON"},
    {"{\"src\":\"n1\",\"dest\":\"n2\",\"body\":{\"type\":\"x\"},\"lamport\":-1}", "lamport"},
    {"{\"src\":\"n1\",\"dest\":\"n2\",\"body\":{\"type\":\"x\"},\"lamport\":1e3}", "lamport"},
    {"{\"src\":\"n1\",\"dest\":\"n2\",\"body\":{\"type\":\"x\"},\"inc\":-5}", "inc"},
    {"{\"src\":\"n1\",\"dest\":\"n2\",\"body\":{\"type\":\"x\"},\"vc\":[1,-2]}", "\"vc\"[1]"},
    {"{\"src\":\"n1\",\"dest\":\"n2\",\"body\":{\"type\":\"x\"},\"vc\":[1,2.5]}", "\"vc\"[1]"},
    {"{\"src\":\"n1\",\"dest\":\"n2\",\"body\":{\"type\":\"x\"},\"vc\":[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]}", "at most 128"},
    {"{\"src\":\"n1\",\"dest\":\"n2\",\"body\":{\"type\":\"x\",\"in_reply_to\":\"3\"}}", "in_reply_to"},
    /* ids and types */
    {"{\"src\":\"abcdefghijklmnop\",\"dest\":\"n2\",\"body\":{\"type\":\"x\"}}", "not a valid id"},
    {"{\"src\":\"\",\"dest\":\"n2\",\"body\":{\"type\":\"x\"}}", "not a valid id"},
    {"{\"src\":\"n1\",\"dest\":\"n\\u001b2\",\"body\":{\"type\":\"x\"}}", "\"dest\" is not a valid id"},
    {"{\"src\":\"n1\",\"dest\":\"n2\",\"body\":{\"type\":\"\"}}", "body.type"},
    {"{\"src\":\"n1\",\"dest\":\"n2\",\"body\":{\"type\":7}}", "body.type"},
    {"{\"src\":\"n1\",\"dest\":\"n2\",\"body\":{\"type\":\"x\\u0000y\"}}", "is not allowed"},
    {"{\"src\":\"n1\",\"dest\":\"n2\",\"body\":{\"type\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}}", "at most 64"},
    /* encodings and framing */
    {"{\"src\":\"n\xff\",\"dest\":\"n2\",\"body\":{\"type\":\"x\"}}", "malformed JSON"},
    {"\xef\xbb\xbf{\"src\":\"n1\",\"dest\":\"n2\",\"body\":{\"type\":\"x\"}}", "malformed JSON"},
    {"{\"src\":\"n1\",\"dest\":\"n2\",\"body\":{\"type\":\"x\"}} {}", "malformed JSON"},
    {"{\"src\":\"n1\",\"dest\":\"n2\",\"body\":{\"type\":\"x\"}", "malformed JSON"},
    {"\"just a string\"", "malformed JSON"},
    {"null", "malformed JSON"},
    {"{\"src\":\"n1\",\"dest\":\"n2\",\"body\":{\"type\":\"x\",\"k\":1,\"k\":2}}", "malformed JSON"},
};

START_TEST(malformed_frames_are_refused_with_a_reason)
{
    struct envelope e;
    char err[256];
    ck_assert_int_lt(decode(bad[_i].frame, &e, err), 0);
    ck_assert_msg(strstr(err, bad[_i].error), "frame %d: got \"%s\", want \"%s\"", _i, err, bad[_i].error);
    ck_assert_ptr_null(e.body);
}
END_TEST

START_TEST(oversized_frame_is_refused)
{
    size_t n = ENVELOPE_MAX_BYTES + 1;
    char *big = malloc(n);
    memset(big, ' ', n);
    struct envelope e;
    char err[256];
    ck_assert_int_lt(envelope_decode(big, n, &e, err, sizeof err), 0);
    ck_assert_ptr_nonnull(strstr(err, "cap"));
    free(big);
}
END_TEST

START_TEST(edge_values_are_accepted)
{
    struct envelope e;
    char err[256] = "";
    ck_assert_msg(decode("{\"src\":\"abcdefghijklmno\",\"dest\":\"c-1.x_Y\",\"body\":{\"type\":"
                         "\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\",\"msg_id\":0},"
                         "\"lamport\":9223372036854775807,\"vc\":[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,9],\"inc\":0}",
                         &e, err) == 0, "%s", err);
    ck_assert_str_eq(e.src, "abcdefghijklmno");
    ck_assert_uint_eq(e.lamport, 9223372036854775807ull);
    ck_assert_int_eq(e.vc_n, 16);
    ck_assert_uint_eq(e.vc[15], 9);
    envelope_clear(&e);
    ck_assert_ptr_null(e.body);
}
END_TEST

START_TEST(decode_reads_exactly_the_given_length)
{
    /* frames are not NUL-terminated: only len bytes count */
    const char buf[] = "{\"src\":\"c1\",\"dest\":\"n1\",\"body\":{\"type\":\"read\"}}GARBAGE";
    struct envelope e;
    char err[256] = "";
    ck_assert_int_eq(envelope_decode(buf, sizeof buf - 1 - 7, &e, err, sizeof err), 0);
    envelope_clear(&e);
    ck_assert_int_lt(envelope_decode(buf, sizeof buf - 1, &e, err, sizeof err), 0);
    ck_assert_int_lt(envelope_decode(buf, 10, &e, err, sizeof err), 0);
    ck_assert_ptr_nonnull(strstr(err, "malformed JSON"));
}
END_TEST

START_TEST(deep_nesting_is_refused_without_exhausting_the_stack)
{
    size_t depth = 400000; /* 800 kB: under the frame cap */
    char *bomb = malloc(2 * depth + 64);
    size_t n = (size_t)sprintf(bomb, "{\"src\":\"n1\",\"dest\":\"n2\",\"body\":{\"type\":\"x\",\"v\":");
    memset(bomb + n, '[', depth);
    memset(bomb + n + depth, ']', depth);
    n += 2 * depth;
    memcpy(bomb + n, "}}", 2);
    n += 2;
    struct envelope e;
    char err[256] = "";
    ck_assert_int_lt(envelope_decode(bomb, n, &e, err, sizeof err), 0);
    ck_assert_ptr_nonnull(strstr(err, "malformed JSON"));
    free(bomb);
}
END_TEST

START_TEST(encode_omits_absent_clocks_and_escapes_strings)
{
    struct envelope e = {0};
    str_copy(e.src, "n1", CL_IDLEN);
    str_copy(e.dest, "c1", CL_IDLEN);
    e.body = json_pack("{s:s,s:s}", "type", "read_ok", "value", "a\"b\x1b\n\xe6\xbc\xa2");
    size_t len;
    char *s = envelope_encode(&e, &len);
    ck_assert_uint_eq(len, strlen(s));
    ck_assert_ptr_null(strstr(s, "lamport"));
    ck_assert_ptr_null(strstr(s, "\"vc\""));
    ck_assert_ptr_null(strstr(s, "\"inc\""));
    ck_assert_ptr_null(strchr(s, 0x1b)); /* raw control bytes never reach the wire */
    struct envelope back;
    char err[256] = "";
    ck_assert_int_eq(envelope_decode(s, len, &back, err, sizeof err), 0);
    ck_assert_str_eq(json_string_value(json_object_get(back.body, "value")), "a\"b\x1b\n\xe6\xbc\xa2");
    envelope_clear(&back);
    envelope_clear(&e);
    free(s);
}
END_TEST

START_TEST(valid_ids_are_short_and_plain)
{
    static const char *const good[] = {"n1", "n16", "lab", "c12", "client.a-b_C", "abcdefghijklmno", NULL};
    static const char *const refused[] = {"", "abcdefghijklmnop", "n 1", "n1\n", "\xc3\xa9", "a/b", "n1;", "\x1b", NULL};
    for (int i = 0; good[i]; i++)
        ck_assert_msg(envelope_valid_id(good[i]), "%s refused", good[i]);
    for (int i = 0; refused[i]; i++)
        ck_assert_msg(!envelope_valid_id(refused[i]), "\"%s\" accepted", refused[i]);
}
END_TEST

Suite *suite_envelope(void);
Suite *suite_envelope(void)
{
    Suite *s = suite_create("envelope");
    TCase *tc = tcase_create("decode");
    tcase_add_test(tc, valid_frame_round_trips);
    tcase_add_loop_test(tc, malformed_frames_are_refused_with_a_reason, 0, (int)(sizeof bad / sizeof bad[0]));
    tcase_add_test(tc, oversized_frame_is_refused);
    tcase_add_test(tc, edge_values_are_accepted);
    tcase_add_test(tc, decode_reads_exactly_the_given_length);
    tcase_add_test(tc, deep_nesting_is_refused_without_exhausting_the_stack);
    tcase_add_test(tc, encode_omits_absent_clocks_and_escapes_strings);
    tcase_add_test(tc, valid_ids_are_short_and_plain);
    suite_add_tcase(s, tc);
    return s;
}
