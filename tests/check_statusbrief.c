/* check_statusbrief — brief statuses (nodes/core/statusbrief.h): the digest names the data
 * whatever the order it was built in, small data stays inline and large data does not, log
 * strings are cut at a UTF-8 boundary, and pages of data cover every key once, each under its
 * byte budget. */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "statusbrief.h"
#include "test_util.h"
#include "util.h"

START_TEST(equal_data_equal_digest_whatever_the_order)
{
    json_t *a = json_object(), *b = json_object();
    for (int i = 0; i < 500; i++) {
        char k[16], v[16];
        snprintf(k, sizeof k, "k%d", i);
        snprintf(v, sizeof v, "v%d", i * 7);
        json_object_set_new(a, k, json_string(v));
    }
    for (int i = 499; i >= 0; i--) {
        char k[16], v[16];
        snprintf(k, sizeof k, "k%d", i);
        snprintf(v, sizeof v, "v%d", i * 7);
        json_object_set_new(b, k, json_string(v));
    }
    ck_assert_uint_eq(status_data_digest(a), status_data_digest(b));
    json_object_set_new(b, "k250", json_string("other"));
    ck_assert_uint_ne(status_data_digest(a), status_data_digest(b));
    json_object_set_new(b, "k250", json_string("v1750"));
    ck_assert_uint_eq(status_data_digest(a), status_data_digest(b));
    json_object_del(b, "k3");
    ck_assert_uint_ne(status_data_digest(a), status_data_digest(b));
    /* a value and the same text as another type differ */
    json_t *c = json_pack("{s:s}", "x", "1"), *d = json_pack("{s:i}", "x", 1);
    ck_assert_uint_ne(status_data_digest(c), status_data_digest(d));
    json_decref(a);
    json_decref(b);
    json_decref(c);
    json_decref(d);
}
END_TEST

START_TEST(small_data_stays_inline_large_data_becomes_figures)
{
    json_t *s = json_pack("{s:s,s:{s:s}}", "role", "leader", "data", "x", "1");
    s = status_brief(s);
    ck_assert_ptr_nonnull(json_object_get(s, "data"));
    ck_assert_int_eq(json_integer_value(json_object_get(s, "keys")), 1);
    ck_assert_int_eq(strlen(json_string_value(json_object_get(s, "digest"))), 16);
    json_decref(s);
    char *big = malloc(STATUS_INLINE_BYTES + 1);
    memset(big, 'a', STATUS_INLINE_BYTES);
    big[STATUS_INLINE_BYTES] = 0;
    s = json_pack("{s:s,s:{s:s,s:s}}", "role", "leader", "data", "x", "1", "y", big);
    free(big);
    s = status_brief(s);
    ck_assert_ptr_null(json_object_get(s, "data"));
    ck_assert_int_eq(json_integer_value(json_object_get(s, "keys")), 2);
    json_decref(s);
    /* a mode that keeps no data: zero keys, a digest all the same */
    s = status_brief(json_pack("{s:s}", "role", "node"));
    ck_assert_int_eq(json_integer_value(json_object_get(s, "keys")), 0);
    ck_assert_str_eq(json_string_value(json_object_get(s, "digest")), "0000000000000000");
    json_decref(s);
}
END_TEST

START_TEST(log_strings_are_cut_at_a_utf8_boundary)
{
    struct sb b = {0};
    for (int i = 0; i < 200; i++)
        sb_add(&b, "\xc3\xa9"); /* é, two bytes */
    json_t *s = json_pack("{s:[{s:i,s:s}]}", "log", "index", 1, "cmd", b.s);
    sb_free(&b);
    s = status_brief(s);
    const char *cmd = json_string_value(json_object_get(json_array_get(json_object_get(s, "log"), 0), "cmd"));
    ck_assert_ptr_nonnull(cmd); /* jansson keeps only valid UTF-8: the cut is on a boundary */
    ck_assert_uint_lt(strlen(cmd), 200);
    ck_assert_ptr_nonnull(strstr(cmd, "(400 bytes)"));
    json_decref(s);
}
END_TEST

START_TEST(pages_cover_every_key_once_under_their_budget)
{
    json_t *data = json_object();
    char *v = malloc(30001);
    memset(v, 'q', 30000);
    v[30000] = 0;
    for (int i = 0; i < 200; i++) {
        char k[16];
        snprintf(k, sizeof k, "key%03d", i);
        json_object_set_new(data, k, json_string(i % 10 ? "small" : v));
    }
    free(v);
    json_t *seen = json_object();
    char *after = NULL;
    int more = 1, pages = 0;
    while (more) {
        json_t *page = status_data_page(data, after, NULL, 100000, &more);
        char *txt = json_dumps(page, JSON_COMPACT);
        ck_assert_uint_le(strlen(txt), 100000);
        free(txt);
        const char *k, *last = NULL;
        json_t *x;
        json_object_foreach(page, k, x) {
            ck_assert_ptr_null(json_object_get(seen, k));
            json_object_set(seen, k, x);
            if (!last || strcmp(k, last) > 0)
                last = k;
        }
        ck_assert_ptr_nonnull(last);
        free(after);
        after = strdup(last);
        json_decref(page);
        pages++;
    }
    free(after);
    ck_assert_int_ge(pages, 6);
    ck_assert(json_equal(seen, data));
    json_t *one = status_data_page(data, NULL, "key007", 10, &more);
    ck_assert_int_eq(json_object_size(one), 1);
    ck_assert_int_eq(more, 0);
    json_decref(one);
    json_decref(seen);
    json_decref(data);
}
END_TEST

Suite *suite_statusbrief(void);
Suite *suite_statusbrief(void)
{
    Suite *s = suite_create("statusbrief");
    TCase *tc = tcase_create("statusbrief");
    tcase_add_test(tc, equal_data_equal_digest_whatever_the_order);
    tcase_add_test(tc, small_data_stays_inline_large_data_becomes_figures);
    tcase_add_test(tc, log_strings_are_cut_at_a_utf8_boundary);
    tcase_add_test(tc, pages_cover_every_key_once_under_their_budget);
    suite_add_tcase(s, tc);
    return s;
}
