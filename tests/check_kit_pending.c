/* check_kit_pending — requests waiting for their log index: taken in arrival order once their
 * index is reached (or exactly at it), retries recognised by (client, msg_id), forgotten
 * without an answer when dropped, and answered with in_reply_to = their own msg_id. */
#include <check.h>
#include <string.h>

#include "pending.h"

struct sent {
    json_t *v;   /* [dest, body] pairs */
};

static void fake_send(struct env *e, const char *dest, json_t *body)
{
    struct sent *s = e->impl;
    json_array_append_new(s->v, json_pack("[s,o]", dest, body));
}

static const struct env_ops fake_ops = {.send = fake_send};

struct taken {
    uint64_t idx[16];
    int n;
};

static void note(void *ud, const struct pending_req *r)
{
    struct taken *t = ud;
    t->idx[t->n++] = r->index;
}

START_TEST(requests_are_taken_in_order_once_their_index_is_reached)
{
    struct pending q = {0};
    json_t *id = json_integer(1);
    pending_add(&q, "c1", id, 3, 1, 1);
    pending_add(&q, "c2", NULL, 1, 1, 1);
    pending_add(&q, "c3", id, 2, 1, 2);
    pending_add(&q, "c4", id, 5, 1, 2);
    ck_assert(pending_has(&q, "c1", id));
    ck_assert(!pending_has(&q, "c2", id)); /* no msg_id: never a retry */
    ck_assert(!pending_has(&q, "c9", id));
    struct taken t = {.n = 0};
    ck_assert_uint_eq(pending_take(&q, 3, 0, note, &t), 3);
    ck_assert_int_eq(t.n, 3);
    ck_assert_uint_eq(t.idx[0], 3); /* arrival order, not index order */
    ck_assert_uint_eq(t.idx[1], 1);
    ck_assert_uint_eq(t.idx[2], 2);
    ck_assert_uint_eq(q.n, 1);
    t.n = 0;
    ck_assert_uint_eq(pending_take(&q, 4, 1, note, &t), 0); /* exact: 5 is not 4 */
    ck_assert_uint_eq(pending_take(&q, 5, 1, note, &t), 1);
    pending_add(&q, "c5", id, 7, 2, 1);
    pending_add(&q, "c6", id, 9, 2, 1);
    pending_drop_upto(&q, 8);
    ck_assert_uint_eq(q.n, 1);
    ck_assert_str_eq(q.v[0].client, "c6");
    pending_clear(&q);
    ck_assert_uint_eq(q.n, 0);
    json_decref(id);
}
END_TEST

START_TEST(replies_carry_the_requests_own_msg_id)
{
    struct sent s = {json_array()};
    struct env e = {.ops = &fake_ops, .impl = &s};
    struct pending q = {0};
    json_t *id = json_string("abc"); /* any JSON a client used */
    pending_add(&q, "c1", id, 1, 1, 1);
    pending_add(&q, "c2", NULL, 1, 1, 1);
    json_decref(id);
    pending_reply(&e, &q.v[0], json_pack("{s:s}", "type", "write_ok"));
    pending_reply_error(&e, &q.v[1], 11, "entry overwritten by a new leader");
    ck_assert_int_eq(json_array_size(s.v), 2);
    json_t *r0 = json_array_get(json_array_get(s.v, 0), 1);
    ck_assert_str_eq(json_string_value(json_array_get(json_array_get(s.v, 0), 0)), "c1");
    ck_assert_str_eq(json_string_value(json_object_get(r0, "in_reply_to")), "abc");
    json_t *r1 = json_array_get(json_array_get(s.v, 1), 1);
    ck_assert_ptr_null(json_object_get(r1, "in_reply_to"));
    ck_assert_int_eq(json_integer_value(json_object_get(r1, "code")), 11);
    ck_assert_str_eq(json_string_value(json_object_get(r1, "text")), "entry overwritten by a new leader");
    pending_clear(&q);
    json_decref(s.v);
}
END_TEST

Suite *suite_kit_pending(void);
Suite *suite_kit_pending(void)
{
    Suite *s = suite_create("kit_pending");
    TCase *tc = tcase_create("pending");
    tcase_add_test(tc, requests_are_taken_in_order_once_their_index_is_reached);
    tcase_add_test(tc, replies_carry_the_requests_own_msg_id);
    suite_add_tcase(s, tc);
    return s;
}
