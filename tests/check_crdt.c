/* check_crdt — the CRDT library (nodes/kit/crdt.h) as algebra: C3 of SCENARIOS.md.
 * For every type, random states reached by random updates on three replicas and random merges
 * between them (10,000 cases per type; fewer under CONLAB_QUICK): merge is commutative,
 * associative and idempotent, it inflates (each side is below the result), an update's delta
 * merged into the state before the update gives the state after it, and the wire form and its
 * pieces give the state back. Then each type's meaning: counters sum, the OR-Set's add wins,
 * the 2P-Set's remove is for ever, the LWW register keeps the highest stamp, the MV register
 * keeps concurrent writes, the cart keeps an item a concurrent remove did not see; the decoder
 * refuses what is not a state; and bug=merge-sum breaks idempotence (the law test catches it). */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <string.h>

#include "crdt.h"
#include "fuzz_crdt_target.h"
#include "rng.h"
#include "test_util.h"

#define NREP 3

static const char *const elems[] = {"a", "b", "c", "milk", "eggs"};

struct world {
    struct crdt *r[NREP];
    uint64_t ctr[NREP];         /* each replica's own dot counter */
    uint64_t clock;             /* LWW stamps */
};

/* One random update on replica k; returns 1 when it applied. Checks that its delta, merged
 * into the state before it, gives the state after it, and that the state only grew. */
static int random_update(struct world *w, int k, struct rng *g)
{
    struct crdt *before = crdt_copy(w->r[k]);
    struct crdt *c = w->r[k], *d = NULL;
    char err[200];
    const char *e = elems[rng_range(g, 0, CL_ARRAY_LEN(elems) - 1)];
    struct crdt_dot dot = {k, ++w->ctr[k]};
    switch (c->type) {
    case CRDT_GCOUNTER:
        d = crdt_add(c, k, (int64_t)rng_range(g, 1, 5), err, sizeof err);
        break;
    case CRDT_PNCOUNTER:
        d = crdt_add(c, k, (int64_t)rng_range(g, 1, 5) * (rng_range(g, 0, 1) ? 1 : -1), err, sizeof err);
        break;
    case CRDT_GSET:
        d = crdt_insert(c, e, dot, 1, err, sizeof err);
        break;
    case CRDT_2PSET:
    case CRDT_ORSET:
    case CRDT_CART:
        if (rng_range(g, 0, 2) == 0)
            d = crdt_remove(c, e, NULL, err, sizeof err);
        else
            d = crdt_insert(c, e, dot, (int64_t)rng_range(g, 1, 3), err, sizeof err);
        break;
    case CRDT_LWW:
        w->clock += rng_range(g, 0, 2);
        d = crdt_assign(c, e, k, w->clock, err, sizeof err);
        break;
    case CRDT_MV:
        d = crdt_assign(c, e, k, dot.ctr, err, sizeof err);
        break;
    default:
        break;
    }
    if (d) {
        ck_assert_msg(crdt_leq(before, c), "%s: an update lost something", crdt_type_name(c->type));
        struct crdt *x = crdt_copy(before);
        crdt_merge(x, d, 0);
        ck_assert_msg(crdt_equal(x, c), "%s: before ⊔ delta is not the state after the update", crdt_type_name(c->type));
        crdt_free(&x);
        crdt_free(&d);
    } else {
        /* only the 2P-Set refuses (removing what it does not hold) */
        ck_assert_msg(c->type == CRDT_2PSET, "%s refused an update: %s", crdt_type_name(c->type), err);
    }
    crdt_free(&before);
    return d != NULL;
}

static struct crdt *merged(const struct crdt *a, const struct crdt *b, int bug)
{
    struct crdt *x = crdt_copy(a);
    crdt_merge(x, b, bug);
    return x;
}

/* Random states of type t from seed: updates and merges between replicas. */
static void world_make(struct world *w, enum crdt_type t, uint64_t seed)
{
    struct rng g;
    rng_seed(&g, seed);
    memset(w, 0, sizeof *w);
    for (int k = 0; k < NREP; k++)
        w->r[k] = crdt_new(t);
    int steps = (int)rng_range(&g, 0, 14);
    for (int s = 0; s < steps; s++) {
        int k = (int)rng_range(&g, 0, NREP - 1);
        if (rng_range(&g, 0, 3) == 0)
            crdt_merge(w->r[k], w->r[rng_range(&g, 0, NREP - 1)], 0);
        else
            random_update(w, k, &g);
    }
}

static void world_free(struct world *w)
{
    for (int k = 0; k < NREP; k++)
        crdt_free(&w->r[k]);
}

static void check_laws(enum crdt_type t, uint64_t seed)
{
    struct world w;
    world_make(&w, t, seed);
    const char *tn = crdt_type_name(t);
    struct crdt *a = w.r[0], *b = w.r[1], *c = w.r[2];
    struct crdt *ab = merged(a, b, 0), *ba = merged(b, a, 0);
    ck_assert_msg(crdt_equal(ab, ba), "%s seed %llu: a ⊔ b ≠ b ⊔ a", tn, (unsigned long long)seed);
    struct crdt *ab_c = merged(ab, c, 0), *bc = merged(b, c, 0), *a_bc = merged(a, bc, 0);
    ck_assert_msg(crdt_equal(ab_c, a_bc), "%s seed %llu: (a ⊔ b) ⊔ c ≠ a ⊔ (b ⊔ c)", tn, (unsigned long long)seed);
    struct crdt *aa = merged(a, a, 0);
    ck_assert_msg(crdt_equal(aa, a), "%s seed %llu: a ⊔ a ≠ a", tn, (unsigned long long)seed);
    ck_assert_msg(crdt_leq(a, ab) && crdt_leq(b, ab), "%s seed %llu: a merge lost something", tn,
                  (unsigned long long)seed);
    /* merging what is already included changes nothing: redelivery and old states are harmless */
    struct crdt *again = crdt_copy(ab);
    ck_assert_msg(!crdt_merge(again, a, 0) && crdt_equal(again, ab), "%s seed %llu: an old state changed a newer one",
                  tn, (unsigned long long)seed);
    /* the wire form, whole and in pieces */
    char err[200];
    json_t *j = crdt_to_json(ab_c);
    struct crdt *back = crdt_from_json(j, NREP, err, sizeof err);
    ck_assert_msg(back, "%s seed %llu: own wire form refused: %s", tn, (unsigned long long)seed, err);
    ck_assert_msg(crdt_equal(back, ab_c), "%s seed %llu: wire form does not round-trip", tn, (unsigned long long)seed);
    json_t *pieces = crdt_to_json_pieces(ab_c, 2);
    struct crdt *whole = crdt_new(t);
    size_t i;
    json_t *p;
    json_array_foreach(pieces, i, p) {
        struct crdt *x = crdt_from_json(p, NREP, err, sizeof err);
        ck_assert_msg(x, "%s: a piece refused: %s", tn, err);
        ck_assert(crdt_leq(x, ab_c));
        crdt_merge(whole, x, 0);
        crdt_free(&x);
    }
    ck_assert_msg(crdt_equal(whole, ab_c), "%s seed %llu: the pieces do not add up", tn, (unsigned long long)seed);
    json_decref(pieces);
    json_decref(j);
    crdt_free(&whole);
    crdt_free(&back);
    crdt_free(&again);
    crdt_free(&aa);
    crdt_free(&ab_c);
    crdt_free(&bc);
    crdt_free(&a_bc);
    crdt_free(&ab);
    crdt_free(&ba);
    world_free(&w);
}

START_TEST(merge_is_commutative_associative_idempotent_and_inflationary)
{
    enum crdt_type t = (enum crdt_type)_i;
    int n = test_seeds(10000);
    for (int s = 0; s < n; s++)
        check_laws(t, 1000003u * (uint64_t)t + (uint64_t)s);
}
END_TEST

START_TEST(merge_sum_bug_breaks_idempotence_and_the_law_test_sees_it)
{
    int broken = 0;
    for (int s = 0; s < 200 && !broken; s++) {
        struct world w;
        world_make(&w, CRDT_PNCOUNTER, (uint64_t)s);
        struct crdt *aa = merged(w.r[0], w.r[0], 1);
        broken = !crdt_equal(aa, w.r[0]);
        crdt_free(&aa);
        world_free(&w);
    }
    ck_assert_msg(broken, "merge-sum should make a ⊔ a ≠ a for some counter state");
}
END_TEST

/* ---- what each type means ----------------------------------------------------------------- */

START_TEST(counters_sum_every_nodes_increments_once_however_often_merged)
{
    char err[200];
    struct crdt *n1 = crdt_new(CRDT_PNCOUNTER), *n2 = crdt_new(CRDT_PNCOUNTER), *n3 = crdt_new(CRDT_PNCOUNTER);
    struct crdt *d;
    d = crdt_add(n1, 0, 5, err, sizeof err);
    crdt_free(&d);
    d = crdt_add(n2, 1, 3, err, sizeof err);
    crdt_free(&d);
    d = crdt_add(n3, 2, -1, err, sizeof err);
    crdt_free(&d);
    for (int round = 0; round < 3; round++) {
        crdt_merge(n1, n2, 0);
        crdt_merge(n1, n3, 0);
        crdt_merge(n2, n1, 0);
        crdt_merge(n3, n2, 0);
    }
    json_t *q = crdt_query(n3);
    ck_assert_int_eq(json_integer_value(q), 7);
    json_decref(q);
    struct crdt *g = crdt_new(CRDT_GCOUNTER);
    ck_assert_ptr_null(crdt_add(g, 0, -1, err, sizeof err));
    ck_assert_msg(strstr(err, "only grows"), "%s", err);
    crdt_free(&g);
    crdt_free(&n1);
    crdt_free(&n2);
    crdt_free(&n3);
}
END_TEST

START_TEST(or_set_concurrent_add_and_remove_resolve_add_wins)
{
    char err[200];
    struct crdt *n1 = crdt_new(CRDT_ORSET), *n2 = crdt_new(CRDT_ORSET), *d;
    d = crdt_insert(n1, "milk", (struct crdt_dot){0, 1}, 1, err, sizeof err);
    crdt_merge(n2, d, 0);          /* n2 saw the first add */
    crdt_free(&d);
    /* partition: n1 adds milk again, n2 removes the milk it saw */
    d = crdt_insert(n1, "milk", (struct crdt_dot){0, 2}, 1, err, sizeof err);
    crdt_free(&d);
    size_t gone;
    d = crdt_remove(n2, "milk", &gone, err, sizeof err);
    ck_assert_int_eq(gone, 1);
    crdt_free(&d);
    crdt_merge(n1, n2, 0);
    crdt_merge(n2, n1, 0);
    json_t *q = crdt_query(n2);
    ck_assert_int_eq(json_array_size(q), 1);
    ck_assert_str_eq(json_string_value(json_array_get(q, 0)), "milk");
    json_decref(q);
    ck_assert(crdt_equal(n1, n2));
    crdt_free(&n1);
    crdt_free(&n2);
}
END_TEST

START_TEST(two_phase_set_removes_for_ever)
{
    char err[200];
    struct crdt *s = crdt_new(CRDT_2PSET), *d;
    ck_assert_ptr_null(crdt_remove(s, "x", NULL, err, sizeof err));
    d = crdt_insert(s, "x", (struct crdt_dot){0, 1}, 1, err, sizeof err);
    crdt_free(&d);
    d = crdt_remove(s, "x", NULL, err, sizeof err);
    ck_assert_ptr_nonnull(d);
    crdt_free(&d);
    d = crdt_insert(s, "x", (struct crdt_dot){0, 2}, 1, err, sizeof err);
    crdt_free(&d);
    json_t *q = crdt_query(s);
    ck_assert_int_eq(json_array_size(q), 0);
    json_decref(q);
    ck_assert_ptr_null(crdt_remove(s, "x", NULL, err, sizeof err));
    ck_assert_msg(strstr(err, "for ever"), "%s", err);
    crdt_free(&s);
}
END_TEST

START_TEST(lww_keeps_the_highest_stamp_and_mv_keeps_concurrent_writes)
{
    char err[200];
    /* C5: n2 writes after seeing n1's write, but its clock is behind: its write is lost */
    struct crdt *a = crdt_new(CRDT_LWW), *b = crdt_new(CRDT_LWW), *d;
    d = crdt_assign(a, "v1", 0, 5000, err, sizeof err);
    crdt_merge(b, d, 0);
    crdt_free(&d);
    d = crdt_assign(b, "v2", 1, 3000, err, sizeof err);
    crdt_free(&d);
    crdt_merge(a, b, 0);
    ck_assert_str_eq(a->value, "v1");
    ck_assert_str_eq(b->value, "v1");
    /* the MV register: a causally later write replaces, concurrent ones stay side by side */
    struct crdt *m1 = crdt_new(CRDT_MV), *m2 = crdt_new(CRDT_MV);
    d = crdt_assign(m1, "v1", 0, 1, err, sizeof err);
    crdt_merge(m2, d, 0);
    crdt_free(&d);
    d = crdt_assign(m2, "v2", 1, 1, err, sizeof err);
    crdt_free(&d);
    crdt_merge(m1, m2, 0);
    json_t *q = crdt_query(m1);
    ck_assert_str_eq(json_string_value(q), "v2");
    json_decref(q);
    d = crdt_assign(m1, "x", 0, 2, err, sizeof err);
    crdt_free(&d);
    d = crdt_assign(m2, "y", 1, 2, err, sizeof err);
    crdt_free(&d);
    crdt_merge(m1, m2, 0);
    q = crdt_query(m1);
    ck_assert_int_eq(json_array_size(q), 2);
    json_decref(q);
    crdt_free(&a);
    crdt_free(&b);
    crdt_free(&m1);
    crdt_free(&m2);
}
END_TEST

START_TEST(cart_remove_takes_only_what_it_saw)
{
    char err[200];
    struct crdt *n1 = crdt_new(CRDT_CART), *n2 = crdt_new(CRDT_CART), *d;
    d = crdt_insert(n1, "milk", (struct crdt_dot){0, 1}, 2, err, sizeof err);
    crdt_merge(n2, d, 0);
    crdt_free(&d);
    d = crdt_insert(n1, "eggs", (struct crdt_dot){0, 2}, 6, err, sizeof err);
    crdt_merge(n2, d, 0);
    crdt_free(&d);
    /* partition: n1 adds one more milk; n2 removes milk (the 2 it saw) and a concurrent n2 also
     * removes milk: both removes together take exactly what they saw */
    d = crdt_insert(n1, "milk", (struct crdt_dot){0, 3}, 1, err, sizeof err);
    crdt_free(&d);
    d = crdt_remove(n2, "milk", NULL, err, sizeof err);
    crdt_free(&d);
    crdt_merge(n1, n2, 0);
    crdt_merge(n2, n1, 0);
    json_t *q = crdt_query(n1);
    ck_assert_int_eq(json_integer_value(json_object_get(q, "milk")), 1);
    ck_assert_int_eq(json_integer_value(json_object_get(q, "eggs")), 6);
    json_decref(q);
    ck_assert(crdt_equal(n1, n2));
    crdt_free(&n1);
    crdt_free(&n2);
}
END_TEST

START_TEST(op_based_remove_without_causal_delivery_diverges)
{
    /* the op-based effector keeps no tombstone: a remove delivered before its add misses it */
    char err[200];
    struct crdt *n1 = crdt_new(CRDT_ORSET), *n3 = crdt_new(CRDT_ORSET), *add;
    add = crdt_insert(n1, "milk", (struct crdt_dot){0, 1}, 1, err, sizeof err);
    size_t nd;
    struct crdt_dot *dots = crdt_dots_of(n1, "milk", &nd);
    ck_assert_int_eq(crdt_remove_dots(n1, "milk", dots, nd), 1);
    /* n3 gets the remove first, then the add */
    ck_assert_int_eq(crdt_remove_dots(n3, "milk", dots, nd), 0);
    crdt_merge(n3, add, 0);
    json_t *q1 = crdt_query(n1), *q3 = crdt_query(n3);
    ck_assert_int_eq(json_array_size(q1), 0);
    ck_assert_int_eq(json_array_size(q3), 1);
    json_decref(q1);
    json_decref(q3);
    free(dots);
    crdt_free(&add);
    crdt_free(&n1);
    crdt_free(&n3);
}
END_TEST

START_TEST(contexts_merge_as_sets_of_dots)
{
    struct crdt_ctx a = {{{0}}, NULL, 0}, b = {{{0}}, NULL, 0};
    crdt_ctx_add(&a, (struct crdt_dot){0, 1});
    crdt_ctx_add(&a, (struct crdt_dot){0, 3});
    ck_assert_int_eq(a.base.c[0], 1);
    ck_assert_int_eq(a.nextra, 1);
    crdt_ctx_add(&b, (struct crdt_dot){0, 2});
    crdt_ctx_add(&b, (struct crdt_dot){1, 1});
    ck_assert(crdt_ctx_merge(&a, &b));
    ck_assert_int_eq(a.base.c[0], 3);
    ck_assert_int_eq(a.base.c[1], 1);
    ck_assert_int_eq(a.nextra, 0);
    ck_assert(!crdt_ctx_merge(&a, &b));
    struct sb t = {0};
    crdt_ctx_text(&a, 3, NULL, &t);
    ck_assert_str_eq(t.s, "n1:3,n2:1");
    sb_free(&t);
    json_t *j = crdt_ctx_to_json(&a);
    struct crdt_ctx c;
    char err[200];
    ck_assert_int_eq(crdt_ctx_from_json(j, 3, &c, err, sizeof err), 0);
    ck_assert(crdt_ctx_equal(&a, &c));
    json_decref(j);
    crdt_ctx_clear(&a);
    crdt_ctx_clear(&b);
    crdt_ctx_clear(&c);
}
END_TEST

/* ---- the decoder ---------------------------------------------------------------------------- */

static const char *const bad_states[] = {
    "[]",
    "{}",
    "{\"t\":\"nope\"}",
    "{\"t\":\"gcounter\",\"p\":[1,-2]}",
    "{\"t\":\"gcounter\",\"p\":[0,0,0,5]}",            /* node 4 of a 3-node cluster */
    "{\"t\":\"gcounter\",\"p\":[1],\"n\":[1]}",
    "{\"t\":\"pncounter\",\"p\":\"x\"}",
    "{\"t\":\"pncounter\",\"p\":[1.5]}",
    "{\"t\":\"gcounter\",\"p\":[72057594037927937]}",   /* above CRDT_MAX_COUNT */
    "{\"t\":\"gset\",\"a\":[1]}",
    "{\"t\":\"gset\",\"a\":[\"\"]}",
    "{\"t\":\"gset\",\"a\":[\"x\"],\"r\":[\"x\"]}",
    "{\"t\":\"2pset\",\"r\":{}}",
    "{\"t\":\"orset\",\"e\":[[\"x\",0]]}",
    "{\"t\":\"orset\",\"e\":[[\"x\",7,1]]}",
    "{\"t\":\"orset\",\"e\":[[\"x\",0,0]]}",
    "{\"t\":\"orset\",\"d\":[[0]]}",
    "{\"t\":\"orset\",\"e\":[[\"a\\u0000b\",0,1]]}",
    "{\"t\":\"cart\",\"e\":[[\"x\",0,1]]}",
    "{\"t\":\"cart\",\"e\":[[\"x\",0,1,0]]}",
    "{\"t\":\"lww\",\"v\":[1,0]}",
    "{\"t\":\"lww\",\"v\":[1,9,\"x\"]}",
    "{\"t\":\"mv\",\"e\":[[\"x\",[]]]}",
    "{\"t\":\"mv\",\"e\":[[\"x\",[0,0,0,0,1]]]}",
    "{\"t\":\"mv\",\"e\":[\"x\"]}",
};

START_TEST(the_decoder_refuses_what_is_not_a_state_and_says_why)
{
    json_t *j = json_loads(bad_states[_i], JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    ck_assert_msg(j, "test input %s", bad_states[_i]);
    char err[200] = "";
    struct crdt *c = crdt_from_json(j, 3, err, sizeof err);
    ck_assert_msg(!c, "accepted %s", bad_states[_i]);
    ck_assert_msg(err[0], "refused %s without a reason", bad_states[_i]);
    json_decref(j);
}
END_TEST


/* ---- the fuzz target's corpus (tests/corpus/crdt/, tests/fuzz_crdt.c) -------------------------- */

START_TEST(the_decoder_corpus_replays_cleanly)
{
    const char *root = getenv("CONLAB_CORPUS");
    char *path = xasprintf("%s/crdt", root && *root ? root : "tests/corpus");
    DIR *d = opendir(path);
    ck_assert_msg(d != NULL, "no corpus directory %s (run from the source tree or set CONLAB_CORPUS)", path);
    int files = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char *file = xasprintf("%s/%s", path, e->d_name);
        FILE *fp = fopen(file, "rb");
        ck_assert_msg(fp != NULL, "cannot read %s", file);
        struct sb b = {0};
        char buf[65536];
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, fp)) > 0 && b.len < (2u << 20))
            sb_addn(&b, buf, n);
        fclose(fp);
        const char *bad = fuzz_crdt_one((const uint8_t *)(b.s ? b.s : ""), b.len);
        ck_assert_msg(bad == NULL, "%s: %s", file, bad);
        sb_free(&b);
        free(file);
        files++;
    }
    closedir(d);
    free(path);
    ck_assert_int_ge(files, 10);
}
END_TEST

Suite *suite_crdt(void);
Suite *suite_crdt(void)
{
    Suite *s = suite_create("crdt");
    TCase *tc = tcase_create("crdt");
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, merge_is_commutative_associative_idempotent_and_inflationary, 0, CRDT_NTYPES);
    tcase_add_test(tc, merge_sum_bug_breaks_idempotence_and_the_law_test_sees_it);
    tcase_add_test(tc, counters_sum_every_nodes_increments_once_however_often_merged);
    tcase_add_test(tc, or_set_concurrent_add_and_remove_resolve_add_wins);
    tcase_add_test(tc, two_phase_set_removes_for_ever);
    tcase_add_test(tc, lww_keeps_the_highest_stamp_and_mv_keeps_concurrent_writes);
    tcase_add_test(tc, cart_remove_takes_only_what_it_saw);
    tcase_add_test(tc, op_based_remove_without_causal_delivery_diverges);
    tcase_add_test(tc, contexts_merge_as_sets_of_dots);
    tcase_add_loop_test(tc, the_decoder_refuses_what_is_not_a_state_and_says_why, 0, (int)CL_ARRAY_LEN(bad_states));
    tcase_add_test(tc, the_decoder_corpus_replays_cleanly);
    suite_add_tcase(s, tc);
    return s;
}
