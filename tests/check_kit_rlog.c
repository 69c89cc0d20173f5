/* check_kit_rlog — the in-memory replicated log: indexes stay consecutive through pushes,
 * truncations and compactions (checked against a plain reference under random operations),
 * terms are known exactly for base..last, and entries print as the commands a user typed. */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rlog.h"
#include "rng.h"
#include "test_util.h"

#define CHECK(cond, ...)                                                                     \
    do {                                                                                     \
        if (!(cond))                                                                         \
            ck_abort_msg(__VA_ARGS__);                                                       \
    } while (0)

static struct rlog_entry put(uint64_t term, const char *k, const char *v)
{
    return (struct rlog_entry){.term = term, .type = KV_PUT, .key = xstrdup(k), .value = xstrdup(v)};
}

START_TEST(random_pushes_truncations_and_compactions_keep_indexes_consecutive)
{
    struct rlog l = {0};
    struct rng r;
    rng_seed(&r, 51);
    enum { MAXI = 4000 };
    static uint64_t ref_term[MAXI + 1];
    uint64_t last = 0, base = 0;
    for (int step = 0; step < test_seeds(20000) && last < MAXI - 10; step++) {
        uint64_t x = rng_range(&r, 0, 9);
        if (x < 6) {
            char v[16];
            snprintf(v, sizeof v, "%d", step);
            struct rlog_entry en = put(rng_range(&r, 1, 5), "k", v);
            uint64_t term = en.term;
            CHECK(rlog_push(&l, &en) == ++last, "push returns the new index");
            CHECK(en.key == NULL, "push takes the strings");
            ref_term[last] = term;
        } else if (x < 8) {
            uint64_t from = rng_range(&r, base + 1, last + 2);
            rlog_truncate(&l, from);
            if (from <= last)
                last = from - 1;
        } else if (last > base) {
            uint64_t upto = rng_range(&r, base + 1, last);
            rlog_compact(&l, upto, ref_term[upto]);
            base = upto;
        }
        CHECK(rlog_last(&l) == last && l.base == base, "step %d: last %llu base %llu", step,
              (unsigned long long)rlog_last(&l), (unsigned long long)l.base);
        CHECK(rlog_at(&l, base) == NULL && rlog_at(&l, last + 1) == NULL, "step %d: out of range", step);
        CHECK(rlog_term_at(&l, base) == (base ? ref_term[base] : 0), "step %d: base term", step);
        for (uint64_t i = base + 1; i <= last; i++)
            CHECK(rlog_term_at(&l, i) == ref_term[i] && rlog_at(&l, i)->term == ref_term[i],
                  "step %d: term at %llu", step, (unsigned long long)i);
        CHECK(rlog_term_at(&l, last + 1) == 0, "past the end");
    }
    rlog_compact(&l, last + 5, 9); /* past the end: everything goes */
    ck_assert_uint_eq(rlog_last(&l), last + 5);
    ck_assert_uint_eq(l.n, 0);
    ck_assert_uint_eq(rlog_term_at(&l, last + 5), 9);
    rlog_compact(&l, 1, 1); /* behind the base: nothing changes */
    ck_assert_uint_eq(l.base, last + 5);
    rlog_free(&l);
    ck_assert_uint_eq(rlog_last(&l), 0);
}
END_TEST

START_TEST(entries_print_as_commands)
{
    const char names[3][CL_IDLEN] = {"n1", "n2", "n3"};
    struct rlog_entry e[] = {
        {.type = KV_NOOP},
        {.type = KV_PUT, .key = (char *)"x", .value = (char *)"1"},
        {.type = KV_CAS, .key = (char *)"x", .from = (char *)"1", .value = (char *)"2"},
        {.type = KV_CONF, .members = 0x13},
    };
    const char *want[] = {"noop", "put x 1", "cas x 1 2", "config n1,n2,n5"};
    for (int i = 0; i < 4; i++) {
        char *t = rlog_entry_text(&e[i], names, 3);
        ck_assert_str_eq(t, want[i]);
        free(t);
    }
    /* long values are cut, with the length and a hash that tells two apart */
    char big[300];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = 0;
    struct rlog_entry l1 = {.type = KV_PUT, .key = (char *)"k", .value = big};
    char *a = rlog_entry_label(&l1, names, 3);
    big[200] = 'b';
    char *b = rlog_entry_label(&l1, names, 3);
    ck_assert_uint_lt(strlen(a), 140);
    ck_assert_ptr_nonnull(strstr(a, "(305 bytes, #"));
    ck_assert_str_ne(a, b);
    free(a);
    free(b);
    char *s = rlog_entry_label(&e[1], names, 3);
    ck_assert_str_eq(s, "put x 1");
    free(s);
}
END_TEST

Suite *suite_kit_rlog(void);
/* The JSON cost bounds the entry's real size in a message, whatever its bytes (quotes,
 * backslashes, control bytes, UTF-8). */
START_TEST(json_cost_bounds_the_encoded_entry)
{
    static const char *const values[] = {"", "plain", "\"quoted\\\"", "\x01\x02\x1f\n\t", "caf\xc3\xa9 \xe2\x82\xac"};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        struct rlog_entry en = {.term = 123456789, .type = KV_CAS, .msg_id = 987654321, .members = 7,
                                .key = (char *)values[i], .value = (char *)values[(i + 1) % 5],
                                .from = (char *)values[(i + 2) % 5], .client = (char *)"c12"};
        json_t *j = json_pack("[I,i,s,s,s,s,I,I]", (json_int_t)en.term, en.type, en.key, en.value, en.from, en.client,
                              (json_int_t)en.msg_id, (json_int_t)en.members);
        char *txt = json_dumps(j, JSON_COMPACT);
        ck_assert_uint_ge(rlog_entry_json_cost(&en), strlen(txt) + 1);
        free(txt);
        json_decref(j);
    }
}
END_TEST

Suite *suite_kit_rlog(void)
{
    Suite *s = suite_create("kit_rlog");
    TCase *tc = tcase_create("rlog");
    tcase_add_test(tc, random_pushes_truncations_and_compactions_keep_indexes_consecutive);
    tcase_add_test(tc, entries_print_as_commands);
    tcase_add_test(tc, json_cost_bounds_the_encoded_entry);
    suite_add_tcase(s, tc);
    return s;
}
