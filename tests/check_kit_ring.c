/* check_kit_ring — the consistent-hash ring: every key's preference list names each node once,
 * every node builds the same ring, the shares of the hash space add up, and adding a node moves
 * only the keys it becomes first replica of (the point of consistent hashing). */
#include <check.h>
#include <stdio.h>

#include "hash.h"
#include "ring.h"
#include "util.h"

START_TEST(a_preference_list_names_every_node_exactly_once)
{
    for (int nodes = 1; nodes <= CL_MAXN; nodes += 3) {
        struct ring *r = ring_new(nodes, 8);
        ck_assert_ptr_nonnull(r);
        for (int k = 0; k < 500; k++) {
            char key[16];
            snprintf(key, sizeof key, "k%d", k);
            int pl[CL_MAXN];
            ck_assert_int_eq(ring_replicas(r, key, pl), nodes);
            uint32_t seen = 0;
            for (int i = 0; i < nodes; i++) {
                ck_assert(pl[i] >= 0 && pl[i] < nodes);
                ck_assert_msg(!(seen & (1u << pl[i])), "%s names n%d twice", key, pl[i] + 1);
                seen |= 1u << pl[i];
            }
            /* owners are the first n of the list */
            uint32_t want = (1u << pl[0]) | (nodes > 1 ? 1u << pl[1] : 0);
            ck_assert_uint_eq(ring_owners(r, hash_str(key), 2), want);
        }
        ring_destroy(&r);
        ck_assert_ptr_null(r);
    }
}
END_TEST

START_TEST(every_node_builds_the_same_ring)
{
    struct ring *a = ring_new(5, 16), *b = ring_new(5, 16);
    for (int k = 0; k < 200; k++) {
        char key[16];
        snprintf(key, sizeof key, "key%d", k);
        int pa[CL_MAXN], pb[CL_MAXN];
        ring_replicas(a, key, pa);
        ring_replicas(b, key, pb);
        for (int i = 0; i < 5; i++)
            ck_assert_int_eq(pa[i], pb[i]);
    }
    uint64_t ta[16], tb[16];
    ck_assert_int_eq(ring_tokens(a, 3, ta, 16), 16);
    ck_assert_int_eq(ring_tokens(b, 3, tb, 16), 16);
    for (int i = 0; i < 16; i++) {
        ck_assert_uint_eq(ta[i], tb[i]);
        if (i)
            ck_assert_uint_gt(ta[i], ta[i - 1]); /* in ring order */
    }
    ck_assert_int_eq(ring_nodes(a), 5);
    ck_assert_int_eq(ring_vnodes(a), 16);
    ring_destroy(&a);
    ring_destroy(&b);
}
END_TEST

START_TEST(shares_cover_the_whole_hash_space)
{
    for (int nodes = 1; nodes <= 8; nodes++) {
        struct ring *r = ring_new(nodes, nodes == 1 ? 1 : 32);
        double share[CL_MAXN], sum = 0;
        ring_shares(r, share);
        for (int k = 0; k < CL_MAXN; k++) {
            sum += share[k];
            if (k >= nodes)
                ck_assert(share[k] == 0);
        }
        ck_assert_msg(sum > 0.999999 && sum < 1.000001, "%d nodes: shares sum to %f", nodes, sum);
        /* with 32 vnodes no node owns much more than its fair part */
        for (int k = 0; k < nodes; k++)
            ck_assert_msg(share[k] < 2.5 / nodes, "n%d owns %.2f of %d nodes' ring", k + 1, share[k], nodes);
        ring_destroy(&r);
    }
}
END_TEST

START_TEST(adding_a_node_moves_only_the_keys_it_takes_first)
{
    for (int nodes = 2; nodes < CL_MAXN; nodes++) {
        struct ring *before = ring_new(nodes, 8), *after = ring_new(nodes + 1, 8);
        int moved = 0;
        for (int k = 0; k < 2000; k++) {
            char key[16];
            snprintf(key, sizeof key, "x%d", k);
            int pb[CL_MAXN], pa[CL_MAXN];
            ring_replicas(before, key, pb);
            ring_replicas(after, key, pa);
            if (pa[0] != pb[0]) {
                ck_assert_int_eq(pa[0], nodes); /* only to the newcomer */
                moved++;
            }
            /* the old nodes keep their relative order */
            int j = 0;
            for (int i = 0; i < nodes + 1; i++)
                if (pa[i] != nodes)
                    ck_assert_int_eq(pa[i], pb[j++]);
        }
        ck_assert_int_gt(moved, 0);
        ck_assert_int_lt(moved, 2000 * 3 / (nodes + 1)); /* about 1/(nodes+1) of the keys */
        ring_destroy(&before);
        ring_destroy(&after);
    }
}
END_TEST

START_TEST(a_ring_of_some_members_leaves_the_others_out_and_removing_one_moves_only_its_keys)
{
    for (int nodes = 3; nodes <= CL_MAXN; nodes++) {
        int member[CL_MAXN];
        for (int i = 0; i < nodes; i++)
            member[i] = 1;
        int gone = nodes / 2;
        struct ring *all = ring_new_of(nodes, member, 8);
        member[gone] = 0;
        struct ring *some = ring_new_of(nodes, member, 8);
        ck_assert_int_eq(ring_nodes(some), nodes);
        ck_assert_int_eq(ring_members(some), nodes - 1);
        ck_assert_int_eq(ring_tokens(some, gone, NULL, 0), 0);
        for (int k = 0; k < 1000; k++) {
            char key[16];
            snprintf(key, sizeof key, "y%d", k);
            int pa[CL_MAXN], ps[CL_MAXN];
            ck_assert_int_eq(ring_replicas(all, key, pa), nodes);
            ck_assert_int_eq(ring_replicas(some, key, ps), nodes - 1);
            /* the same walk with the removed node skipped: the others keep their order */
            int j = 0;
            for (int i = 0; i < nodes; i++)
                if (pa[i] != gone)
                    ck_assert_int_eq(ps[j++], pa[i]);
        }
        ring_destroy(&all);
        ring_destroy(&some);
    }
    int none[3] = {0, 0, 0};
    ck_assert_ptr_null(ring_new_of(3, none, 8));
}
END_TEST

START_TEST(out_of_range_rings_are_refused)
{
    ck_assert_ptr_null(ring_new(0, 8));
    ck_assert_ptr_null(ring_new(CL_MAXN + 1, 8));
    ck_assert_ptr_null(ring_new(3, 0));
    ck_assert_ptr_null(ring_new(3, RING_MAX_VNODES + 1));
    struct ring *r = NULL;
    ring_destroy(&r); /* destroying nothing is fine */
}
END_TEST

Suite *suite_kit_ring(void);
Suite *suite_kit_ring(void)
{
    Suite *s = suite_create("kit_ring");
    TCase *tc = tcase_create("ring");
    tcase_add_test(tc, a_preference_list_names_every_node_exactly_once);
    tcase_add_test(tc, every_node_builds_the_same_ring);
    tcase_add_test(tc, shares_cover_the_whole_hash_space);
    tcase_add_test(tc, adding_a_node_moves_only_the_keys_it_takes_first);
    tcase_add_test(tc, out_of_range_rings_are_refused);
    tcase_add_test(tc, a_ring_of_some_members_leaves_the_others_out_and_removing_one_moves_only_its_keys);
    suite_add_tcase(s, tc);
    return s;
}
