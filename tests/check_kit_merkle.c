/* check_kit_merkle — the anti-entropy tree: roots are equal exactly when the sets of (key hash,
 * content hash) pairs are equal, whatever the order of updates; removing an item undoes adding
 * it; and merkle_diff names exactly the leaves whose contents differ. Random sets drive it. */
#include <check.h>
#include <string.h>

#include "hash.h"
#include "merkle.h"
#include "rng.h"
#include "util.h"
#include "test_util.h"

#define CHECK(cond, ...)                                                                     \
    do {                                                                                     \
        if (!(cond))                                                                         \
            ck_abort_msg(__VA_ARGS__);                                                       \
    } while (0)

#define NITEMS 300

struct kv {
    uint64_t khash, h;
};

static uint64_t root_of(const struct merkle *m)
{
    uint64_t top[MERKLE_TOPS];
    return merkle_root(m, top);
}

START_TEST(roots_are_equal_iff_the_contents_are)
{
    struct rng r;
    rng_seed(&r, 41);
    static struct merkle a, b;
    for (int round = 0; round < test_seeds(200); round++) {
        struct kv items[NITEMS];
        int n = (int)rng_range(&r, 0, NITEMS);
        for (int i = 0; i < n; i++)
            items[i] = (struct kv){rng_next(&r), rng_next(&r) | 1};
        merkle_clear(&a);
        merkle_clear(&b);
        for (int i = 0; i < n; i++)
            merkle_update(&a, items[i].khash, 0, items[i].h);
        for (int i = n - 1; i >= 0; i--) /* another order, through an intermediate content */
            merkle_update(&b, items[i].khash, 0, items[i].h ^ 0x5a5a);
        for (int i = 0; i < n; i++)
            merkle_update(&b, items[i].khash, items[i].h ^ 0x5a5a, items[i].h);
        CHECK(root_of(&a) == root_of(&b), "round %d: same contents, different roots", round);
        CHECK(!memcmp(&a, &b, sizeof a), "round %d: same contents, different leaves", round);
        if (n == 0)
            continue;
        /* change one item's content: the roots differ, and the diff names its leaf only */
        int k = (int)rng_range(&r, 0, (uint64_t)n - 1);
        uint64_t nh = rng_next(&r) | 1;
        merkle_update(&b, items[k].khash, items[k].h, nh);
        CHECK(root_of(&a) != root_of(&b), "round %d: different contents, same root", round);
        uint64_t top_a[MERKLE_TOPS], top_b[MERKLE_TOPS];
        merkle_root(&a, top_a);
        merkle_root(&b, top_b);
        unsigned leaf = merkle_leaf_of(items[k].khash);
        for (int t = 0; t < MERKLE_TOPS; t++) {
            int out[MERKLE_FANOUT];
            int d = merkle_diff(&a, t, merkle_leaves(&b, t), out);
            if (t == (int)(leaf / MERKLE_FANOUT)) {
                CHECK(top_a[t] != top_b[t] && d == 1 && out[0] == (int)leaf, "round %d: diff misses leaf %u", round, leaf);
            } else {
                CHECK(top_a[t] == top_b[t] && d == 0, "round %d: subtree %d differs", round, t);
            }
        }
        /* removing the item from both makes them equal again */
        merkle_update(&a, items[k].khash, items[k].h, 0);
        merkle_update(&b, items[k].khash, nh, 0);
        CHECK(root_of(&a) == root_of(&b), "round %d: removal did not undo", round);
    }
}
END_TEST

START_TEST(an_empty_tree_has_zero_leaves_and_a_fixed_root)
{
    static struct merkle m;
    merkle_clear(&m);
    uint64_t r0 = root_of(&m);
    merkle_update(&m, hash_str("x"), 0, 77);
    ck_assert_uint_ne(root_of(&m), r0);
    merkle_update(&m, hash_str("x"), 77, 0);
    ck_assert_uint_eq(root_of(&m), r0);
    for (int l = 0; l < MERKLE_LEAVES; l++)
        ck_assert_uint_eq(m.leaf[l], 0);
    ck_assert_uint_eq(merkle_leaf_of(0), 0);
    ck_assert_uint_eq(merkle_leaf_of(UINT64_MAX), MERKLE_LEAVES - 1);
}
END_TEST

START_TEST(hash_lists_round_trip_and_refuse_bad_lengths)
{
    uint64_t h[3] = {1, UINT64_MAX, 0x0123456789abcdefull}, back[3];
    json_t *j = merkle_hashes_json(h, 3);
    ck_assert_int_eq(merkle_hashes_parse(j, back, 3), 0);
    ck_assert(!memcmp(h, back, sizeof h));
    ck_assert_int_eq(merkle_hashes_parse(j, back, 2), CL_EINVAL);
    json_array_set_new(j, 1, json_string("xyz"));
    ck_assert_int_eq(merkle_hashes_parse(j, back, 3), CL_EINVAL);
    json_decref(j);
    ck_assert_int_eq(merkle_hashes_parse(NULL, back, 0), CL_EINVAL);
}
END_TEST

Suite *suite_kit_merkle(void);
Suite *suite_kit_merkle(void)
{
    Suite *s = suite_create("kit_merkle");
    TCase *tc = tcase_create("merkle");
    tcase_add_test(tc, roots_are_equal_iff_the_contents_are);
    tcase_add_test(tc, an_empty_tree_has_zero_leaves_and_a_fixed_root);
    tcase_add_test(tc, hash_lists_round_trip_and_refuse_bad_lengths);
    suite_add_tcase(s, tc);
    return s;
}
