/* check_heap — the timer heap pops in (when, insertion) order, so equal times are FIFO and a
 * simulation is deterministic; the idset keeps exact membership through long probe chains
 * and deletions. Random operations are checked against a plain reference. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "heap.h"
#include "rng.h"
#include "test_util.h"

/* In hot loops: Check records every assertion's location (a write to a pipe), so test first. */
#define CHECK(cond, ...)                                                                     \
    do {                                                                                     \
        if (!(cond))                                                                         \
            ck_abort_msg(__VA_ARGS__);                                                       \
    } while (0)

START_TEST(items_pop_in_time_order)
{
    struct heap h = {0};
    uint64_t times[] = {50, 10, 40, 20, 30};
    for (int i = 0; i < 5; i++) {
        struct heap_item it = {.when = times[i], .kind = i};
        heap_push(&h, &it);
    }
    ck_assert_uint_eq(heap_peek(&h)->when, 10);
    uint64_t last = 0;
    struct heap_item out;
    int n = 0;
    while (heap_pop(&h, &out)) {
        ck_assert_uint_ge(out.when, last);
        ck_assert_uint_eq(out.when, times[out.kind]); /* payload travels with its item */
        last = out.when;
        n++;
    }
    ck_assert_int_eq(n, 5);
    ck_assert_ptr_null(heap_peek(&h));
    ck_assert_int_eq(heap_pop(&h, &out), 0);
    heap_free(&h);
}
END_TEST

START_TEST(equal_times_pop_in_insertion_order)
{
    struct heap h = {0};
    uint64_t seqs[100];
    for (int i = 0; i < 100; i++) {
        struct heap_item it = {.when = 7, .a = (uint64_t)i};
        seqs[i] = heap_push(&h, &it);
        ck_assert_uint_eq(it.seq, seqs[i]);
        if (i)
            ck_assert_uint_gt(seqs[i], seqs[i - 1]);
    }
    struct heap_item early = {.when = 6, .a = 1000};
    heap_push(&h, &early);
    struct heap_item out;
    ck_assert(heap_pop(&h, &out));
    ck_assert_uint_eq(out.a, 1000);
    for (int i = 0; i < 100; i++) {
        ck_assert(heap_pop(&h, &out));
        ck_assert_uint_eq(out.a, (uint64_t)i);
        ck_assert_uint_eq(out.seq, seqs[i]);
    }
    heap_free(&h);
}
END_TEST

/* The reference: an unsorted array, the minimum found by a scan. */
struct ref {
    struct heap_item v[4096];
    int n;
};

static int ref_pop(struct ref *r, struct heap_item *out)
{
    if (!r->n)
        return 0;
    int m = 0;
    for (int i = 1; i < r->n; i++)
        if (r->v[i].when < r->v[m].when || (r->v[i].when == r->v[m].when && r->v[i].seq < r->v[m].seq))
            m = i;
    *out = r->v[m];
    r->v[m] = r->v[--r->n];
    return 1;
}

START_TEST(random_pushes_and_pops_match_a_sorted_reference)
{
    int seeds = test_seeds(40);
    for (int seed = 1; seed <= seeds; seed++) {
        struct rng r;
        rng_seed(&r, (uint64_t)seed);
        struct heap h = {0};
        static struct ref ref;
        ref.n = 0;
        uint64_t span = rng_range(&r, 1, 50); /* small spans make many ties */
        for (int step = 0; step < 3000; step++) {
            if (ref.n < 4000 && rng_range(&r, 0, 99) < 60) {
                struct heap_item it = {.when = rng_range(&r, 0, span), .b = (uint64_t)step};
                heap_push(&h, &it);
                ref.v[ref.n++] = it;
            } else {
                struct heap_item a, b;
                int ha = heap_pop(&h, &a), hb = ref_pop(&ref, &b);
                CHECK(ha == hb, "seed %d step %d: heap pop %d, reference %d", seed, step, ha, hb);
                CHECK(!ha || (a.seq == b.seq && a.when == b.when && a.b == b.b),
                      "seed %d step %d: heap gave (%llu, seq %llu), reference (%llu, seq %llu)", seed,
                      step, (unsigned long long)a.when, (unsigned long long)a.seq,
                      (unsigned long long)b.when, (unsigned long long)b.seq);
            }
            CHECK(h.n == (size_t)ref.n, "seed %d step %d: %zu items, reference %d", seed, step, h.n, ref.n);
        }
        struct heap_item a, b;
        while (ref_pop(&ref, &b)) {
            CHECK(heap_pop(&h, &a) && a.seq == b.seq, "seed %d: draining differs", seed);
        }
        ck_assert_int_eq(heap_pop(&h, &a), 0);
        heap_free(&h);
    }
}
END_TEST

START_TEST(idset_finds_what_was_added_once)
{
    struct idset s = {0};
    ck_assert_int_eq(idset_take(&s, 5), 0); /* empty */
    for (uint64_t id = 1; id <= 1000; id++)
        idset_add(&s, id);
    ck_assert_uint_eq(s.n, 1000);
    ck_assert_int_eq(idset_take(&s, 1001), 0);
    for (uint64_t id = 2; id <= 1000; id += 2)
        ck_assert_int_eq(idset_take(&s, id), 1);
    for (uint64_t id = 1; id <= 1000; id++)
        ck_assert_int_eq(idset_take(&s, id), id % 2 == 1);
    ck_assert_uint_eq(s.n, 0);
    idset_add(&s, 0); /* 0 is never an id */
    ck_assert_int_eq(idset_take(&s, 0), 0);
    idset_free(&s);
}
END_TEST

/* Ids that all hash to one slot of a 64-slot table make one long probe chain; deleting from
 * its middle must not hide the ids after the hole. */
START_TEST(idset_deletion_keeps_collision_chains_reachable)
{
    struct idset probe = {0};
    idset_add(&probe, 1); /* allocate the 64-slot table to learn the slot layout */
    size_t cap = probe.cap;
    idset_free(&probe);
    /* find ids that land in the same home slot by trial in a scratch set */
    uint64_t same[12];
    int found = 0;
    size_t home = (size_t)-1;
    for (uint64_t id = 1; found < 12 && id < 1000000; id++) {
        struct idset t = {0};
        idset_add(&t, id);
        size_t slot = 0;
        while (t.v[slot] != id)
            slot++;
        idset_free(&t);
        if (home == (size_t)-1)
            home = slot;
        if (slot == home)
            same[found++] = id;
    }
    ck_assert_int_eq(found, 12);
    ck_assert_uint_ge(cap, 24); /* 12 ids keep the table at its first size */
    struct idset s = {0};
    for (int i = 0; i < 12; i++)
        idset_add(&s, same[i]);
    ck_assert_uint_eq(s.cap, cap);
    int order[] = {5, 0, 11, 6, 1, 10, 3, 7, 2, 9, 4, 8};
    int gone[12] = {0};
    for (int k = 0; k < 12; k++) {
        ck_assert_int_eq(idset_take(&s, same[order[k]]), 1);
        gone[order[k]] = 1;
        /* every id not yet taken is still found (take and put back) */
        for (int i = 0; i < 12; i++) {
            if (gone[i])
                continue;
            ck_assert_msg(idset_take(&s, same[i]) == 1, "id %d lost after %d deletions", i, k + 1);
            idset_add(&s, same[i]);
        }
        ck_assert_int_eq(idset_take(&s, same[order[k]]), 0);
    }
    ck_assert_uint_eq(s.n, 0);
    idset_free(&s);
}
END_TEST

START_TEST(idset_random_operations_match_a_reference)
{
    struct rng r;
    rng_seed(&r, 77);
    enum { RANGE = 3000 };
    static unsigned char in[RANGE];
    memset(in, 0, sizeof in);
    struct idset s = {0};
    size_t count = 0;
    for (int step = 0; step < 60000; step++) {
        uint64_t id = rng_range(&r, 1, RANGE - 1);
        if (rng_range(&r, 0, 1) && !in[id]) {
            idset_add(&s, id);
            in[id] = 1;
            count++;
        } else {
            int got = idset_take(&s, id);
            CHECK(got == in[id], "step %d: take(%llu) = %d, want %d", step, (unsigned long long)id, got, in[id]);
            count -= in[id];
            in[id] = 0;
        }
        CHECK(s.n == count, "step %d: %zu ids, want %zu", step, s.n, count);
    }
    for (uint64_t id = 1; id < RANGE; id++)
        CHECK(idset_take(&s, id) == in[id], "id %llu", (unsigned long long)id);
    ck_assert_uint_eq(s.n, 0);
    idset_free(&s);
}
END_TEST


START_TEST(retime_stretches_pending_items_of_one_kind_and_keeps_ids)
{
    struct heap h = {0};
    struct heap_item t1 = {.when = 1100, .kind = 1}, t2 = {.when = 1300, .kind = 1},
                     msg = {.when = 1200, .kind = 2}, due = {.when = 900, .kind = 1};
    uint64_t id1 = heap_push(&h, &t1), id2 = heap_push(&h, &t2), idm = heap_push(&h, &msg),
             idd = heap_push(&h, &due);
    heap_retime(&h, 1000, 10, 1); /* slow motion: kind-1 items have 10x longer to go */
    struct heap_item out;
    ck_assert(heap_pop(&h, &out));
    ck_assert_uint_eq(out.seq, idd); /* already due: stays due */
    ck_assert_uint_eq(out.when, 900);
    ck_assert(heap_pop(&h, &out));
    ck_assert_uint_eq(out.seq, idm); /* another kind: untouched */
    ck_assert_uint_eq(out.when, 1200);
    ck_assert(heap_pop(&h, &out));
    ck_assert_uint_eq(out.seq, id1);
    ck_assert_uint_eq(out.when, 2000);
    ck_assert(heap_pop(&h, &out));
    ck_assert_uint_eq(out.seq, id2);
    ck_assert_uint_eq(out.when, 4000);
    /* every kind, faster: 500 left becomes 50 */
    struct heap_item a = {.when = 1500, .kind = 3};
    heap_push(&h, &a);
    heap_retime(&h, 1000, 0.1, -1);
    ck_assert_uint_eq(heap_peek(&h)->when, 1050);
    heap_free(&h);
}
END_TEST

Suite *suite_heap(void);
Suite *suite_heap(void)
{
    Suite *s = suite_create("heap");
    TCase *tc = tcase_create("heap");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, items_pop_in_time_order);
    tcase_add_test(tc, equal_times_pop_in_insertion_order);
    tcase_add_test(tc, random_pushes_and_pops_match_a_sorted_reference);
    tcase_add_test(tc, retime_stretches_pending_items_of_one_kind_and_keeps_ids);
    suite_add_tcase(s, tc);
    tc = tcase_create("idset");
    tcase_add_test(tc, idset_finds_what_was_added_once);
    tcase_add_test(tc, idset_deletion_keeps_collision_chains_reachable);
    tcase_add_test(tc, idset_random_operations_match_a_reference);
    suite_add_tcase(s, tc);
    return s;
}
