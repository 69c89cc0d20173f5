/* check_envelope — the envelope decoder refuses every malformed frame with a clear error. */
#include <check.h>
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

Suite *suite_envelope(void);
Suite *suite_envelope(void)
{
    Suite *s = suite_create("envelope");
    TCase *tc = tcase_create("decode");
    tcase_add_test(tc, valid_frame_round_trips);
    tcase_add_loop_test(tc, malformed_frames_are_refused_with_a_reason, 0, (int)(sizeof bad / sizeof bad[0]));
    tcase_add_test(tc, oversized_frame_is_refused);
    suite_add_tcase(s, tc);
    return s;
}
