/* check_kit_vitem — one key's versions: merging is commutative, associative and idempotent
 * in both conflict modes (replicas that saw the same versions hold the same item, whatever the
 * order or duplicates), LWW keeps the greatest (timestamp, node, value), DVV keeps exactly the
 * versions no other version covers (no concurrent write is lost, no obsolete one survives), and
 * the wire form round-trips and refuses malformed items. Random causal histories drive the
 * properties: each write's context is what a client read from some earlier versions. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "hash.h"
#include "rng.h"
#include "vitem.h"
#include "test_util.h"

#define CHECK(cond, ...)                                                                     \
    do {                                                                                     \
        if (!(cond))                                                                         \
            ck_abort_msg(__VA_ARGS__);                                                       \
    } while (0)

#define MAXV 24

/* A causal history of n writes on 4 nodes: write i read, from each node, the first few of the
 * writes that node coordinated (a random prefix, maybe none). Contexts are then what DVV
 * assumes: a context covering (k, c) saw every dot of k up to c, or what superseded it.
 * LWW versions carry no dot or context (as the mode writes them). */
static int random_history(struct rng *r, struct version *v, int n, enum vmerge m)
{
    uint64_t counter[4] = {0};
    for (int i = 0; i < n; i++) {
        struct vitem *read = vitem_new("k", hash_str("k"));
        uint64_t upto[4];
        for (int k = 0; k < 4; k++)
            upto[k] = rng_range(r, 0, counter[k]);
        for (int j = 0; j < i; j++)
            if (v[j].dot <= upto[v[j].node])
                vitem_merge_version(VMERGE_DVV, read, &v[j]);
        memset(&v[i], 0, sizeof v[i]);
        vitem_context(read, &v[i].ctx);
        vitem_free(read);
        v[i].node = (int)rng_range(r, 0, 3);
        v[i].dot = ++counter[v[i].node];
        v[i].ts = rng_range(r, 1, 50);
        char val[16];
        snprintf(val, sizeof val, "v%d", i);
        v[i].value = rng_range(r, 0, 9) ? xstrdup(val) : NULL;
        if (m == VMERGE_LWW) {
            v[i].dot = 0;
            memset(&v[i].ctx, 0, sizeof v[i].ctx);
        }
    }
    return n;
}

static void shuffle(struct rng *r, int *order, int n)
{
    for (int i = n - 1; i > 0; i--) {
        int j = (int)rng_range(r, 0, (uint64_t)i);
        int t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
}

/* Merges the versions in the given order (with repeats) into a new item. */
static struct vitem *merged(enum vmerge m, struct version *v, const int *order, int n)
{
    struct vitem *it = vitem_new("k", hash_str("k"));
    for (int i = 0; i < n; i++)
        vitem_merge_version(m, it, &v[order[i]]);
    vitem_rehash(it);
    return it;
}

START_TEST(merge_is_order_and_duplicate_insensitive)
{
    enum vmerge m = _i ? VMERGE_DVV : VMERGE_LWW;
    struct rng r;
    rng_seed(&r, 21 + (uint64_t)_i);
    for (int round = 0; round < test_seeds(400); round++) {
        struct version v[MAXV];
        int n = random_history(&r, v, (int)rng_range(&r, 1, MAXV), m);
        int a[2 * MAXV], b[2 * MAXV];
        for (int i = 0; i < n; i++)
            a[i] = b[i] = i;
        int nb = n;
        for (int i = 0; i < n; i++) /* duplicates */
            if (rng_range(&r, 0, 1))
                b[nb++] = i;
        shuffle(&r, a, n);
        shuffle(&r, b, nb);
        struct vitem *x = merged(m, v, a, n), *y = merged(m, v, b, nb);
        CHECK(x->h == y->h && x->nv == y->nv, "round %d: order changed the result", round);
        /* associativity: merging two halves merged separately gives the same */
        int half = n / 2;
        struct vitem *p = merged(m, v, a, half), *q = merged(m, v, a + half, n - half);
        vitem_merge(m, p, q);
        CHECK(p->h == x->h, "round %d: grouping changed the result", round);
        /* idempotence */
        CHECK(!vitem_merge(m, x, y) && x->h == y->h, "round %d: merging an equal item changed it", round);
        vitem_free(x);
        vitem_free(y);
        vitem_free(p);
        vitem_free(q);
        for (int i = 0; i < n; i++)
            version_free(&v[i]);
    }
}
END_TEST

START_TEST(dvv_keeps_exactly_the_versions_nothing_covers)
{
    struct rng r;
    rng_seed(&r, 23);
    for (int round = 0; round < test_seeds(400); round++) {
        struct version v[MAXV];
        int n = random_history(&r, v, (int)rng_range(&r, 1, MAXV), VMERGE_DVV);
        int order[MAXV];
        for (int i = 0; i < n; i++)
            order[i] = i;
        shuffle(&r, order, n);
        struct vitem *it = merged(VMERGE_DVV, v, order, n);
        for (int i = 0; i < n; i++) {
            int covered = 0, kept = 0;
            for (int j = 0; j < n; j++)
                covered |= j != i && version_covers(&v[j], &v[i]);
            for (int k = 0; k < it->nv; k++)
                kept |= it->v[k].node == v[i].node && it->v[k].dot == v[i].dot;
            CHECK(kept == !covered, "round %d: version %d %s", round, i,
                  covered ? "survived though covered" : "lost though concurrent");
        }
        /* a write carrying the item's context supersedes every version in it */
        struct version w = {.value = (char *)"w", .node = 0, .dot = 1000, .ts = 99};
        vitem_context(it, &w.ctx);
        vitem_merge_version(VMERGE_DVV, it, &w);
        CHECK(it->nv == 1 && !strcmp(it->v[0].value, "w"), "round %d: the merge write left %d", round, it->nv);
        vitem_free(it);
        for (int i = 0; i < n; i++)
            version_free(&v[i]);
    }
}
END_TEST

START_TEST(lww_keeps_the_greatest_timestamp_then_node_then_value)
{
    struct vitem *it = vitem_new("x", hash_str("x"));
    struct version a = {.value = (char *)"a", .ts = 10, .node = 2};
    struct version b = {.value = (char *)"b", .ts = 10, .node = 1};
    struct version c = {.value = (char *)"c", .ts = 9, .node = 3};
    struct version tomb = {.value = NULL, .ts = 10, .node = 2};
    ck_assert(vitem_merge_version(VMERGE_LWW, it, &b));
    ck_assert(vitem_merge_version(VMERGE_LWW, it, &a)); /* same time, higher node */
    ck_assert(!vitem_merge_version(VMERGE_LWW, it, &c)); /* older: the lost update */
    ck_assert(!vitem_merge_version(VMERGE_LWW, it, &tomb)); /* a tombstone sorts below a value */
    ck_assert_str_eq(it->v[0].value, "a");
    ck_assert(!vitem_is_tomb(it));
    vitem_rehash(it);
    ck_assert_uint_ne(it->h, 0);
    ck_assert_uint_eq(vitem_newest_ts(it), 10);
    struct sb t = {0};
    vitem_versions_text(it, VMERGE_LWW, NULL, &t);
    ck_assert_str_eq(t.s, "10@n3");
    sb_free(&t);
    vitem_free(it);
    it = vitem_new("x", hash_str("x"));
    vitem_rehash(it);
    ck_assert_uint_eq(it->h, 0); /* empty: absent */
    vitem_free(it);
}
END_TEST

START_TEST(wire_form_round_trips_with_contexts)
{
    const enum vmerge modes[] = {VMERGE_LWW, VMERGE_DVV};
    struct rng r;
    rng_seed(&r, 29);
    for (int k = 0; k < 2; k++) {
        struct version v[MAXV];
        int n = random_history(&r, v, MAXV, modes[k]);
        int order[MAXV];
        for (int i = 0; i < n; i++)
            order[i] = i;
        struct vitem *it = merged(modes[k], v, order, n);
        json_t *j = vitem_to_json(it, modes[k], 4);
        char why[200];
        struct vitem *back = vitem_from_json(j, modes[k], 1024, why, sizeof why);
        ck_assert_msg(back != NULL, "%s", why);
        ck_assert_uint_eq(back->h, it->h);
        ck_assert_str_eq(back->key, "k");
        json_decref(j);
        j = vitem_to_json(it, modes[k], 4);
        ck_assert_ptr_null(vitem_from_json(j, modes[k], 0, why, sizeof why)); /* too many versions */
        json_decref(j);
        vitem_free(back);
        /* a copy is equal and independent */
        struct vitem *d = vitem_dup(it);
        ck_assert_uint_eq(d->h, it->h);
        vitem_free(d);
        vitem_free(it);
        for (int i = 0; i < n; i++)
            version_free(&v[i]);
    }
}
END_TEST

START_TEST(malformed_items_are_refused_with_the_reason)
{
    static const struct {
        const char *json;
        const char *why;
    } bad[] = {
        {"7", "an item needs to be an object"},
        {"{\"vers\":[]}", "needs a string \"key\""},
        {"{\"key\":\"x\"}", "needs an array \"vers\""},
        {"{\"key\":\"x\",\"vers\":[5]}", "key x version 0"},
        {"{\"key\":\"x\",\"vers\":[{\"v\":1,\"t\":1,\"n\":0}]}", "a string or null \"v\""},
        {"{\"key\":\"x\",\"vers\":[{\"v\":\"1\",\"t\":-1,\"n\":0}]}", "\"t\""},
        {"{\"key\":\"x\",\"vers\":[{\"v\":\"1\",\"t\":1,\"n\":99}]}", "\"n\" from 0 to 15"},
        {"{\"key\":\"x\",\"vers\":[{\"v\":\"1\",\"t\":1,\"n\":0}]}", "\"d\""},
        {"{\"key\":\"x\",\"vers\":[{\"v\":\"1\",\"t\":1,\"n\":0,\"d\":1,\"c\":[-2]}]}", "entry 0"},
        {"{\"key\":\"x\",\"vers\":[{\"v\":\"1\",\"t\":1,\"n\":0,\"d\":1,\"c\":[]},{\"v\":\"2\",\"t\":1,\"n\":0,\"d\":2,\"c\":[]},{\"v\":\"3\",\"t\":1,\"n\":0,\"d\":3,\"c\":[]}]}", "more than 2"},
    };
    for (size_t i = 0; i < CL_ARRAY_LEN(bad); i++) {
        json_t *j = json_loads(bad[i].json, JSON_DECODE_ANY, NULL);
        ck_assert_ptr_nonnull(j);
        char why[200] = "";
        struct vitem *it = vitem_from_json(j, VMERGE_DVV, 2, why, sizeof why);
        ck_assert_msg(it == NULL, "%s was accepted", bad[i].json);
        ck_assert_msg(strstr(why, bad[i].why), "%s: \"%s\" lacks \"%s\"", bad[i].json, why, bad[i].why);
        json_decref(j);
    }
}
END_TEST

Suite *suite_kit_vitem(void);
Suite *suite_kit_vitem(void)
{
    Suite *s = suite_create("kit_vitem");
    TCase *tc = tcase_create("vitem");
    tcase_add_loop_test(tc, merge_is_order_and_duplicate_insensitive, 0, 2);
    tcase_add_test(tc, dvv_keeps_exactly_the_versions_nothing_covers);
    tcase_add_test(tc, lww_keeps_the_greatest_timestamp_then_node_then_value);
    tcase_add_test(tc, wire_form_round_trips_with_contexts);
    tcase_add_test(tc, malformed_items_are_refused_with_the_reason);
    suite_add_tcase(s, tc);
    return s;
}
