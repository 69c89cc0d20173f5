/* check_kit_kvsm — the key/value state machine: put and cas follow lin-kv (20 for a missing
 * key, 22 for a failed precondition), a request its client's session covers is never applied
 * twice and answers with its first result, and a snapshot of data and sessions restores both. */
#include <check.h>

#include "env.h"
#include "kvsm.h"

static struct rlog_entry op(int type, const char *k, const char *from, const char *v,
                            const char *client, uint64_t msg_id)
{
    return (struct rlog_entry){.type = type, .key = (char *)k, .from = (char *)from,
                               .value = (char *)v, .client = (char *)client, .msg_id = msg_id};
}

START_TEST(put_and_cas_follow_lin_kv)
{
    struct kvsm sm;
    kvsm_init(&sm);
    struct rlog_entry e = op(KV_CAS, "x", "1", "2", NULL, 0);
    ck_assert_int_eq(kvsm_apply(&sm, &e), ERR_KEY_DOES_NOT_EXIST);
    e = op(KV_PUT, "x", NULL, "1", NULL, 0);
    ck_assert_int_eq(kvsm_apply(&sm, &e), 0);
    e = op(KV_CAS, "x", "9", "2", NULL, 0);
    ck_assert_int_eq(kvsm_apply(&sm, &e), ERR_PRECONDITION_FAILED);
    ck_assert_str_eq(kvsm_get(&sm, "x"), "1");
    e = op(KV_CAS, "x", "1", "2", NULL, 0);
    ck_assert_int_eq(kvsm_apply(&sm, &e), 0);
    ck_assert_str_eq(kvsm_get(&sm, "x"), "2");
    e = op(KV_NOOP, NULL, NULL, NULL, NULL, 0);
    ck_assert_int_eq(kvsm_apply(&sm, &e), 0);
    ck_assert_ptr_null(kvsm_get(&sm, "y"));
    ck_assert_int_eq(json_object_size(sm.sessions), 0); /* no client named: no session */
    kvsm_free(&sm);
}
END_TEST

START_TEST(a_retried_request_is_applied_once_and_keeps_its_result)
{
    struct kvsm sm;
    kvsm_init(&sm);
    struct rlog_entry e = op(KV_PUT, "x", NULL, "1", "c1", 5);
    ck_assert_int_eq(kvsm_apply(&sm, &e), 0);
    struct rlog_entry c = op(KV_CAS, "x", "0", "2", "c1", 6);
    ck_assert_int_eq(kvsm_apply(&sm, &c), ERR_PRECONDITION_FAILED);
    /* another client changes x; then c1's two requests arrive again (retries) */
    struct rlog_entry o = op(KV_PUT, "x", NULL, "0", "c2", 1);
    kvsm_apply(&sm, &o);
    ck_assert_int_eq(kvsm_apply(&sm, &c), ERR_PRECONDITION_FAILED); /* the first result, not a new try */
    ck_assert_int_eq(kvsm_apply(&sm, &e), ERR_PRECONDITION_FAILED);  /* older than the session: skipped */
    ck_assert_str_eq(kvsm_get(&sm, "x"), "0");
    uint64_t id;
    int code;
    ck_assert(kvsm_session(&sm, "c1", &id, &code));
    ck_assert_uint_eq(id, 6);
    ck_assert_int_eq(code, ERR_PRECONDITION_FAILED);
    ck_assert(!kvsm_session(&sm, "c9", &id, &code));
    ck_assert(!kvsm_session(&sm, NULL, &id, &code));
    kvsm_free(&sm);
}
END_TEST

START_TEST(a_snapshot_restores_data_and_sessions)
{
    struct kvsm a, b;
    kvsm_init(&a);
    kvsm_init(&b);
    struct rlog_entry e = op(KV_PUT, "x", NULL, "1", "c1", 3);
    kvsm_apply(&a, &e);
    kvsm_set_state(&b, a.data, a.sessions);
    ck_assert(json_equal(a.data, b.data) && json_equal(a.sessions, b.sessions));
    ck_assert_int_eq(kvsm_apply(&b, &e), 0); /* the session came along: not applied again */
    ck_assert_int_eq(json_object_size(b.data), 1);
    e.value = (char *)"2";
    e.msg_id = 4;
    kvsm_apply(&a, &e);
    ck_assert_str_eq(kvsm_get(&b, "x"), "1"); /* a copy, not shared */
    kvsm_set_state(&b, NULL, NULL);
    ck_assert_int_eq(json_object_size(b.data), 0);
    kvsm_clear(&a);
    ck_assert_int_eq(json_object_size(a.data) + json_object_size(a.sessions), 0);
    kvsm_free(&a);
    kvsm_free(&b);
}
END_TEST

Suite *suite_kit_kvsm(void);
Suite *suite_kit_kvsm(void)
{
    Suite *s = suite_create("kit_kvsm");
    TCase *tc = tcase_create("kvsm");
    tcase_add_test(tc, put_and_cas_follow_lin_kv);
    tcase_add_test(tc, a_retried_request_is_applied_once_and_keeps_its_result);
    tcase_add_test(tc, a_snapshot_restores_data_and_sessions);
    suite_add_tcase(s, tc);
    return s;
}
