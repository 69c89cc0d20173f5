/* check_kit_vtable — the table of versioned items: it finds what was put through growth,
 * keeps counts exact when items are unlinked (also inside FOREACH), lists keys in order, and
 * agrees with a plain reference under random operations. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "rng.h"
#include "vtable.h"
#include "test_util.h"

#define CHECK(cond, ...)                                                                     \
    do {                                                                                     \
        if (!(cond))                                                                         \
            ck_abort_msg(__VA_ARGS__);                                                       \
    } while (0)

static struct vitem *item(const char *key)
{
    return vitem_new(key, hash_str(key));
}

START_TEST(random_puts_and_unlinks_agree_with_a_reference)
{
    struct vtable t = {0};
    enum { K = 3000 };
    static char present[K];
    memset(present, 0, sizeof present);
    struct rng r;
    rng_seed(&r, 31);
    for (int step = 0; step < test_seeds(30000); step++) {
        int k = (int)rng_range(&r, 0, K - 1);
        char key[16];
        snprintf(key, sizeof key, "key%d", k);
        struct vitem *it = vtable_get(&t, key, hash_str(key));
        CHECK((it != NULL) == present[k], "step %d: %s %s", step, key, present[k] ? "lost" : "invented");
        if (!it) {
            vtable_put(&t, item(key));
            present[k] = 1;
        } else if (rng_range(&r, 0, 1)) {
            vtable_unlink(&t, it);
            vitem_free(it);
            present[k] = 0;
        }
    }
    size_t n = 0;
    for (int k = 0; k < K; k++)
        n += present[k];
    ck_assert_uint_eq(t.n, n);
    struct vitem **v = vtable_sorted(&t);
    size_t count = 0;
    for (; v[count]; count++)
        if (count)
            ck_assert_int_lt(strcmp(v[count - 1]->key, v[count]->key), 0);
    ck_assert_uint_eq(count, n);
    free(v);
    vtable_clear(&t);
    ck_assert_uint_eq(t.n, 0);
    ck_assert_ptr_null(vtable_get(&t, "key1", hash_str("key1")));
}
END_TEST

START_TEST(foreach_survives_unlinking_the_current_item)
{
    struct vtable t = {0};
    for (int k = 0; k < 500; k++) {
        char key[16];
        snprintf(key, sizeof key, "k%d", k);
        vtable_put(&t, item(key));
    }
    int visited = 0;
    VTABLE_FOREACH(&t, it) {
        visited++;
        if (it->key[1] % 2 == 0) {
            vtable_unlink(&t, it);
            vitem_free(it);
        }
    }
    ck_assert_int_eq(visited, 500);
    VTABLE_FOREACH(&t, it)
        ck_assert(it->key[1] % 2 == 1);
    vtable_clear(&t);
    struct vitem *x = item("x");
    vtable_unlink(&t, x); /* unlinking from an empty table does nothing */
    ck_assert_uint_eq(t.n, 0);
    vitem_free(x);
}
END_TEST

Suite *suite_kit_vtable(void);
Suite *suite_kit_vtable(void)
{
    Suite *s = suite_create("kit_vtable");
    TCase *tc = tcase_create("vtable");
    tcase_add_test(tc, random_puts_and_unlinks_agree_with_a_reference);
    tcase_add_test(tc, foreach_survives_unlinking_the_current_item);
    suite_add_tcase(s, tc);
    return s;
}
