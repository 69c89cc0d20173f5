/* check_kit_fence — the fenced storage's state (nodes/kit/fence.h): the highest token per
 * resource; with fencing on a lower token is refused and changes nothing, with fencing off it
 * is accepted and counted as stale; equal tokens pass; resources are independent. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "fence.h"

START_TEST(a_lower_token_is_refused_when_fencing_is_on)
{
    struct fence f;
    fence_init(&f, 1);
    uint64_t hb;
    ck_assert_int_eq(fence_write(&f, "order-7", 34, "paid", "c1", &hb), FENCE_ACCEPTED);
    ck_assert_uint_eq(hb, 0);
    ck_assert_int_eq(fence_write(&f, "order-7", 35, "shipped", "c2", &hb), FENCE_ACCEPTED);
    ck_assert_uint_eq(hb, 34);
    ck_assert_int_eq(fence_write(&f, "order-7", 34, "paid", "c1", &hb), FENCE_REFUSED);
    ck_assert_uint_eq(hb, 35);
    const struct fence_res *r = fence_get(&f, "order-7");
    ck_assert_str_eq(r->value, "shipped");
    ck_assert_str_eq(r->by, "c2");
    ck_assert_uint_eq(r->highest, 35);
    ck_assert_uint_eq(r->refused, 1);
    ck_assert_uint_eq(r->writes, 2);
    ck_assert_int_eq(fence_write(&f, "order-7", 35, "delivered", "c2", NULL), FENCE_ACCEPTED);
    ck_assert_str_eq(fence_get(&f, "order-7")->value, "delivered");
    fence_free(&f);
}
END_TEST

START_TEST(fencing_off_accepts_a_stale_token_and_says_so)
{
    struct fence f;
    fence_init(&f, 0);
    ck_assert_int_eq(fence_write(&f, "order-7", 35, "shipped", "c2", NULL), FENCE_ACCEPTED);
    uint64_t hb;
    ck_assert_int_eq(fence_write(&f, "order-7", 34, "paid", "c1", &hb), FENCE_STALE_ACCEPTED);
    ck_assert_uint_eq(hb, 35);
    const struct fence_res *r = fence_get(&f, "order-7");
    ck_assert_str_eq(r->value, "paid");
    ck_assert_uint_eq(r->highest, 35);
    ck_assert_uint_eq(r->stale_accepted, 1);
    ck_assert_str_eq(fence_outcome_name(FENCE_STALE_ACCEPTED), "accepted (stale token)");
    json_t *j = fence_json(&f);
    ck_assert(json_is_false(json_object_get(j, "fencing")));
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(json_object_get(j, "resources"), "order-7"), "highest")), 35);
    json_decref(j);
    fence_free(&f);
}
END_TEST

START_TEST(resources_are_fenced_independently)
{
    struct fence f;
    fence_init(&f, 1);
    ck_assert_int_eq(fence_write(&f, "a", 10, "x", "c1", NULL), FENCE_ACCEPTED);
    ck_assert_int_eq(fence_write(&f, "b", 3, "y", "c2", NULL), FENCE_ACCEPTED);
    ck_assert_int_eq(fence_write(&f, "a", 9, "z", "c2", NULL), FENCE_REFUSED);
    ck_assert_int_eq(fence_write(&f, "", 99, "z", "c2", NULL), FENCE_REFUSED);
    ck_assert_int_eq(fence_write(&f, NULL, 99, "z", "c2", NULL), FENCE_REFUSED);
    ck_assert_ptr_null(fence_get(&f, "c"));
    for (int i = 0; i < 40; i++) {
        char name[16];
        snprintf(name, sizeof name, "r%d", i);
        ck_assert_int_eq(fence_write(&f, name, (uint64_t)i, NULL, NULL, NULL), FENCE_ACCEPTED);
    }
    ck_assert_uint_eq(f.n, 42);
    ck_assert_ptr_null(fence_get(&f, "r7")->value);
    fence_free(&f);
}
END_TEST

Suite *suite_kit_fence(void);
Suite *suite_kit_fence(void)
{
    Suite *s = suite_create("kit_fence");
    TCase *tc = tcase_create("fence");
    tcase_add_test(tc, a_lower_token_is_refused_when_fencing_is_on);
    tcase_add_test(tc, fencing_off_accepts_a_stale_token_and_says_so);
    tcase_add_test(tc, resources_are_fenced_independently);
    suite_add_tcase(s, tc);
    return s;
}
