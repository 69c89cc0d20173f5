/* check_kit_vv — version vectors: compare is a partial order (reflexive, antisymmetric,
 * transitive) that agrees with dominates and concurrent; merge is the least upper bound
 * (commutative, associative, idempotent); the text and JSON forms round-trip and bad input is
 * refused with a reason. Properties are checked on random vectors. */
#include <check.h>
#include <string.h>

#include "rng.h"
#include "vv.h"
#include "test_util.h"

#define CHECK(cond, ...)                                                                     \
    do {                                                                                     \
        if (!(cond))                                                                         \
            ck_abort_msg(__VA_ARGS__);                                                       \
    } while (0)

/* Small counters on few nodes, so that equal and comparable pairs are common. */
static struct vv random_vv(struct rng *r)
{
    struct vv v = {{0}};
    for (int i = 0; i < 4; i++)
        v.c[i] = rng_range(r, 0, 2);
    return v;
}

static enum vv_order flip(enum vv_order o)
{
    return o == VV_BEFORE ? VV_AFTER : o == VV_AFTER ? VV_BEFORE : o;
}

START_TEST(compare_is_a_partial_order)
{
    struct rng r;
    rng_seed(&r, 11);
    int seen[4] = {0};
    int rounds = test_seeds(20000);
    for (int i = 0; i < rounds; i++) {
        struct vv a = random_vv(&r), b = random_vv(&r), c = random_vv(&r);
        enum vv_order ab = vv_compare(&a, &b), bc = vv_compare(&b, &c), ac = vv_compare(&a, &c);
        seen[ab]++;
        CHECK(vv_compare(&a, &a) == VV_EQUAL, "reflexive");
        CHECK(vv_compare(&b, &a) == flip(ab), "antisymmetric");
        CHECK(ab != VV_EQUAL || !memcmp(&a, &b, sizeof a), "equal means identical");
        if ((ab == VV_BEFORE || ab == VV_EQUAL) && (bc == VV_BEFORE || bc == VV_EQUAL))
            CHECK(ac == VV_BEFORE || ac == VV_EQUAL, "transitive");
        CHECK(vv_dominates(&a, &b) == (ab == VV_AFTER || ab == VV_EQUAL), "dominates agrees");
        CHECK(vv_concurrent(&a, &b) == (ab == VV_CONCURRENT), "concurrent agrees");
    }
    for (int k = 0; k < 4; k++)
        ck_assert_int_gt(seen[k], rounds / 200); /* every relation was exercised */
}
END_TEST

START_TEST(merge_is_the_least_upper_bound)
{
    struct rng r;
    rng_seed(&r, 12);
    for (int i = 0; i < test_seeds(20000); i++) {
        struct vv a = random_vv(&r), b = random_vv(&r), c = random_vv(&r);
        struct vv ab = a, ba = b, aa = a;
        vv_merge(&ab, &b);
        vv_merge(&ba, &a);
        vv_merge(&aa, &a);
        CHECK(vv_compare(&ab, &ba) == VV_EQUAL, "commutative");
        CHECK(vv_compare(&aa, &a) == VV_EQUAL, "idempotent");
        struct vv ab_c = ab, bc = b, a_bc = a;
        vv_merge(&ab_c, &c);
        vv_merge(&bc, &c);
        vv_merge(&a_bc, &bc);
        CHECK(vv_compare(&ab_c, &a_bc) == VV_EQUAL, "associative");
        CHECK(vv_dominates(&ab, &a) && vv_dominates(&ab, &b), "an upper bound");
        if (vv_dominates(&c, &a) && vv_dominates(&c, &b))
            CHECK(vv_dominates(&c, &ab), "the least one");
    }
}
END_TEST

START_TEST(dots_are_covered_once_their_counter_is_reached)
{
    struct vv v = {{0}};
    ck_assert(vv_is_zero(&v));
    ck_assert(!vv_covers(&v, 1, 1));
    ck_assert(vv_covers(&v, 1, 0)); /* a zero dot names nothing */
    vv_add_dot(&v, 1, 3);
    ck_assert(vv_covers(&v, 1, 3) && vv_covers(&v, 1, 2) && !vv_covers(&v, 1, 4));
    ck_assert(!vv_covers(&v, 0, 1));
    vv_add_dot(&v, 1, 2); /* never lowers a counter */
    ck_assert_uint_eq(v.c[1], 3);
    ck_assert(!vv_is_zero(&v));
    ck_assert(!vv_covers(&v, CL_MAXN, 1) && !vv_covers(&v, -1, 1));
}
END_TEST

START_TEST(text_form_round_trips_and_names_what_is_wrong)
{
    const char names[3][CL_IDLEN] = {"n1", "n2", "n3"};
    struct vv v = {{0}}, back;
    v.c[0] = 3;
    v.c[2] = 12;
    struct sb b = {0};
    vv_text(&v, 3, names, &b);
    ck_assert_str_eq(b.s, "n1:3,n3:12");
    char err[200];
    ck_assert_int_eq(vv_parse(b.s, 3, names, &back, err, sizeof err), 0);
    ck_assert_int_eq(vv_compare(&v, &back), VV_EQUAL);
    sb_free(&b);
    vv_text(&back, 3, NULL, &b); /* default names n1.. */
    ck_assert_str_eq(b.s, "n1:3,n3:12");
    sb_free(&b);
    struct vv zero = {{0}};
    vv_text(&zero, 3, names, &b);
    ck_assert_str_eq(b.s, "");
    sb_free(&b);
    ck_assert_int_eq(vv_parse("", 3, names, &back, err, sizeof err), 0);
    ck_assert(vv_is_zero(&back));
    const char *bad[] = {"n4:1", "n1", "n1:x", "n1:-1", "x:1,n2:2", ":3"};
    for (size_t i = 0; i < CL_ARRAY_LEN(bad); i++) {
        back = v;
        ck_assert_int_eq(vv_parse(bad[i], 3, names, &back, err, sizeof err), CL_EINVAL);
        ck_assert_msg(strstr(err, "node:counter"), "%s: %s", bad[i], err);
        ck_assert_int_eq(vv_compare(&back, &v), VV_EQUAL); /* untouched */
    }
}
END_TEST

START_TEST(json_form_round_trips_and_refuses_bad_counters)
{
    struct vv v = {{0}}, back;
    v.c[1] = 7;
    json_t *j = vv_to_json(&v, 3);
    ck_assert_int_eq(json_array_size(j), 3);
    char err[200];
    ck_assert_int_eq(vv_from_json(j, &back, err, sizeof err), 0);
    ck_assert_int_eq(vv_compare(&v, &back), VV_EQUAL);
    json_decref(j);
    const char *bad[] = {"[-1]", "[\"1\"]", "{}", "[1.5]",
                         "[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]"};
    for (size_t i = 0; i < CL_ARRAY_LEN(bad); i++) {
        j = json_loads(bad[i], JSON_DECODE_ANY, NULL);
        ck_assert_int_eq(vv_from_json(j, &back, err, sizeof err), CL_EINVAL);
        ck_assert(err[0]);
        json_decref(j);
    }
}
END_TEST

Suite *suite_kit_vv(void);
Suite *suite_kit_vv(void)
{
    Suite *s = suite_create("kit_vv");
    TCase *tc = tcase_create("vv");
    tcase_add_test(tc, compare_is_a_partial_order);
    tcase_add_test(tc, merge_is_the_least_upper_bound);
    tcase_add_test(tc, dots_are_covered_once_their_counter_is_reached);
    tcase_add_test(tc, text_form_round_trips_and_names_what_is_wrong);
    tcase_add_test(tc, json_form_round_trips_and_refuses_bad_counters);
    suite_add_tcase(s, tc);
    return s;
}
