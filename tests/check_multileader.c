/* check_multileader — the multi-leader mode in the simulator: the scenarios M1–M3 of
 * SCENARIOS.md, the multi-leader invariants (its monitor runs after every step), the
 * resolution strategies, the topologies, the bug toggles the monitor must catch, and a sweep
 * over seeds with loss, duplication, reordering and partitions. */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catchup.h"
#include "clocks.h"
#include "fixture.h"
#include "mode.h"
#include "multileader.h"
#include "sim.h"
#include "test_util.h"

#define SEC 1000000ull
#define MS 1000ull

extern const struct mode mode_multileader;

static const char *const kept[] = {"write", "apply", "conflict", "error", "state", NULL};

static struct fixture *ml_new(int n, const char *spec, uint64_t seed)
{
    struct fixture *f = fixture_new(&mode_multileader, n, spec, seed);
    fixture_direct(f, 1); /* an error 11 is the answer, not a redirect */
    simclient_set_timeout(f->c, 0);
    fixture_keep(f, kept);
    return f;
}

static json_t *req_write(const char *key, const char *value)
{
    return json_pack("{s:s,s:s,s:s}", "type", "write", "key", key, "value", value);
}

static const char *rtype(const json_t *r)
{
    return r ? json_string_value(json_object_get(r, "type")) : "(no reply)";
}

static void put_ok(struct fixture *f, int node, const char *key, const char *value)
{
    json_t *r = fixture_call(f, node, req_write(key, value), 10 * SEC);
    char *d = r ? json_dumps(r, JSON_COMPACT) : NULL;
    ck_assert_msg(r && !strcmp(rtype(r), "write_ok"), "seed %" PRIu64 ": put %s %s @n%d: %s", f->seed, key,
                  value, node + 1, d ? d : "no reply");
    free(d);
    json_decref(r);
}

/* A node's copy of key from its status, as compact JSON ("\"a\"", "[\"a\",\"b\"]"), or NULL. */
static char *held(struct fixture *f, int node, const char *key)
{
    json_t *st = sim_status(f->s, node);
    json_t *v = json_object_get(json_object_get(st, "data"), key);
    char *out = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    json_decref(st);
    return out;
}


/* Every live node holds the same data and nothing is pending anywhere. */
static int converged(void *ud)
{
    struct fixture *f = ud;
    json_t *ref = NULL;
    int ok = 1;
    for (int i = 0; ok && i < f->n; i++) {
        if (sim_node_state(f->s, i) != SIM_UP)
            continue;
        json_t *st = sim_status(f->s, i);
        if (json_integer_value(json_object_get(json_object_get(st, "extra"), "pending")))
            ok = 0;
        json_t *d = json_object_get(st, "data");
        if (!ref)
            ref = json_incref(d);
        else if (!json_equal(ref, d))
            ok = 0;
        json_decref(st);
    }
    json_decref(ref);
    return ok;
}

static void await_converged(struct fixture *f, uint64_t us)
{
    ck_assert_msg(fixture_run_until(f, us, converged, f), "seed %" PRIu64 ": no convergence in %.1fs", f->seed,
                  (double)us / SEC);
}

struct holds {
    struct fixture *f;
    int node;
    const char *key, *want;
};

static int holds_pred(void *ud)
{
    struct holds *h = ud;
    char *v = held(h->f, h->node, h->key);
    int ok = v && !strcmp(v, h->want);
    free(v);
    return ok;
}

static void await_holds(struct fixture *f, int node, const char *key, const char *want)
{
    struct holds h = {f, node, key, want};
    ck_assert_msg(fixture_run_until(f, 10 * SEC, holds_pred, &h), "seed %" PRIu64 ": n%d never held %s=%s",
                  f->seed, node + 1, key, want);
}

static void assert_all_hold(struct fixture *f, const char *key, const char *want)
{
    for (int i = 0; i < f->n; i++) {
        char *v = held(f, i, key);
        ck_assert_msg(v && !strcmp(v, want), "seed %" PRIu64 ": n%d holds %s=%s, want %s", f->seed, i + 1, key,
                      v ? v : "(nothing)", want);
        free(v);
    }
}

/* Delay every link between two different data centres (dcs centres of n nodes). */
static void wan_delay(struct fixture *f, int dcs, uint64_t us)
{
    int of[CL_MAXN], first[CL_MAXN];
    multileader_layout(f->n, dcs, of, first);
    for (int a = 0; a < f->n; a++)
        for (int b = 0; b < f->n; b++)
            if (of[a] != of[b])
                faults_set_delay(sim_faults(f->s), a, b, us, 0);
}

/* A second monitor fed every event, for runs where a violation is the expected outcome (the
 * fixture's own monitor would stop the run at the first one). */
struct watch {
    void *mon;
    struct sb alerts;
    int violations;
};

static void watch_event(void *ud, const json_t *ev)
{
    struct watch *w = ud;
    if (multileader_monitor.feed(w->mon, ev, &w->alerts))
        w->violations++;
}

static void watch_start(struct fixture *f, struct watch *w)
{
    memset(w, 0, sizeof *w);
    w->mon = multileader_monitor.create();
    f->use_monitor = 0;
    fixture_watch(f, watch_event, NULL, w);
}

static void watch_end(struct watch *w)
{
    multileader_monitor.destroy(w->mon);
    sb_free(&w->alerts);
}

/* ---- layout, options, routing --------------------------------------------------------- */

START_TEST(nodes_split_into_data_centres_of_consecutive_nodes_led_by_the_first)
{
    int of[CL_MAXN], first[CL_MAXN];
    ck_assert_int_eq(multileader_layout(6, 3, of, first), 3);
    int want6[] = {0, 0, 1, 1, 2, 2};
    for (int i = 0; i < 6; i++)
        ck_assert_int_eq(of[i], want6[i]);
    ck_assert_int_eq(first[1], 2);
    ck_assert_int_eq(multileader_layout(7, 3, of, first), 3);
    int want7[] = {0, 0, 0, 1, 1, 2, 2};
    for (int i = 0; i < 7; i++)
        ck_assert_int_eq(of[i], want7[i]);
    /* the face's groups say the same, with names */
    struct opts o = {0};
    opts_set(&o, "dcs", "2");
    char gn[CL_MAXN][CL_IDLEN];
    ck_assert_ptr_nonnull(mode_multileader.groups);
    ck_assert_int_eq(mode_multileader.groups(&o, 5, gn, of), 2);
    ck_assert_str_eq(gn[0], "dc1");
    ck_assert_str_eq(gn[1], "dc2");
    ck_assert_int_eq(of[2], 0);
    ck_assert_int_eq(of[3], 1);
    opts_free(&o);
    /* without dcs=: three centres, or one per node below three nodes */
    ck_assert_int_eq(mode_multileader.groups(&o, 2, gn, of), 2);
    ck_assert_int_eq(mode_multileader.groups(&o, 9, gn, of), 3);
}
END_TEST

START_TEST(more_centres_than_nodes_is_refused)
{
    char err[256] = "";
    struct fixture *f = fixture_try_new(&mode_multileader, 2, "dcs=3", 1, err, sizeof err);
    ck_assert_ptr_null(f);
    ck_assert_msg(strstr(err, "dcs=3 > 2 nodes"), "%s", err);
    f = fixture_try_new(&mode_multileader, 3, "conflict=crdt", 1, err, sizeof err);
    ck_assert_ptr_null(f);
    ck_assert_msg(strstr(err, "conflict=lww|siblings|merge"), "%s", err);
}
END_TEST

START_TEST(leaders_and_followers_say_who_leads_their_centre)
{
    struct fixture *f = ml_new(6, "dcs=3", 1);
    fixture_run(f, 10 * MS);
    for (int i = 0; i < 6; i++) {
        json_t *st = sim_status(f->s, i);
        char want[CL_IDLEN];
        snprintf(want, sizeof want, "n%d", i / 2 * 2 + 1);
        ck_assert_str_eq(json_string_value(json_object_get(st, "role")), i % 2 ? "follower" : "leader");
        ck_assert_str_eq(json_string_value(json_object_get(st, "leader")), want);
        char dc[8];
        snprintf(dc, sizeof dc, "dc%d", i / 2 + 1);
        ck_assert_str_eq(json_string_value(json_object_get(st, "dc")), dc);
        json_decref(st);
    }
    FIXTURE_OK(f);
    fixture_free(&f);
}
END_TEST

START_TEST(a_write_to_a_follower_is_refused_naming_its_leader)
{
    struct fixture *f = ml_new(6, "dcs=3", 1);
    json_t *r = fixture_call(f, 3, req_write("x", "1"), 5 * SEC);
    ck_assert_str_eq(rtype(r), "error");
    ck_assert_int_eq(json_integer_value(json_object_get(r, "code")), 11);
    ck_assert_str_eq(json_string_value(json_object_get(r, "leader")), "n3");
    json_decref(r);
    FIXTURE_OK(f);
    fixture_free(&f);
}
END_TEST

START_TEST(a_write_is_acked_only_once_every_follower_of_its_centre_holds_it)
{
    struct fixture *f = ml_new(6, "dcs=3", 2);
    faults_set_delay(sim_faults(f->s), 2, 3, 50 * MS, 0); /* a slow follower */
    faults_set_delay(sim_faults(f->s), 2, 0, 150 * MS, 0); /* and a far DC */
    put_ok(f, 2, "x", "1");
    char *v = held(f, 3, "x");
    ck_assert_msg(v && !strcmp(v, "\"1\""), "the follower n4 holds %s", v ? v : "nothing");
    free(v);
    v = held(f, 0, "x"); /* dc1 is 150 ms away: asynchronous */
    ck_assert_ptr_null(v);
    await_converged(f, 5 * SEC);
    FIXTURE_OK(f);
    fixture_free(&f);
}
END_TEST

START_TEST(a_write_whose_follower_is_down_fails_indefinitely_and_still_replicates)
{
    struct fixture *f = ml_new(4, "dcs=2 sync_timeout=300ms", 3);
    sim_crash(f->s, 1);
    json_t *r = fixture_call(f, 0, req_write("x", "1"), 5 * SEC);
    ck_assert_str_eq(rtype(r), "error");
    ck_assert_int_eq(json_integer_value(json_object_get(r, "code")), 11);
    ck_assert(json_is_true(json_object_get(r, "indefinite")));
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(r, "text")), "n2"));
    json_decref(r);
    sim_restart(f->s, 1);
    await_converged(f, 5 * SEC);
    assert_all_hold(f, "x", "\"1\"");
    FIXTURE_OK(f);
    fixture_free(&f);
}
END_TEST

START_TEST(bad_client_requests_and_peer_garbage_are_refused_with_a_reason)
{
    struct fixture *f = ml_new(3, "conflict=siblings", 4);
    json_t *r = fixture_call(f, 0, json_pack("{s:s,s:s}", "type", "write", "key", "x"), 5 * SEC);
    ck_assert_int_eq(json_integer_value(json_object_get(r, "code")), 12);
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(r, "text")), "value"));
    json_decref(r);
    r = fixture_call(f, 0, json_pack("{s:s,s:s,s:s,s:s}", "type", "write", "key", "x", "value", "1", "context", "n9:x"),
                     5 * SEC);
    ck_assert_int_eq(json_integer_value(json_object_get(r, "code")), 12);
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(r, "text")), "context"));
    json_decref(r);
    r = fixture_call(f, 0, json_pack("{s:s,s:s}", "type", "read", "key", "nothing"), 5 * SEC);
    ck_assert_int_eq(json_integer_value(json_object_get(r, "code")), 20);
    json_decref(r);
    FIXTURE_OK(f);
    fixture_free(&f);
}
END_TEST

/* ---- M1: conflicts converge ----------------------------------------------------------- */

static void m1_run(const char *spec, const char *want, int monitor)
{
    struct fixture *f = ml_new(3, spec, 11);
    f->use_monitor = monitor;
    char err[200];
    ck_assert_int_eq(faults_partition(sim_faults(f->s), "n1 | n2,n3", err, sizeof err), 0);
    put_ok(f, 0, "x", "a");
    put_ok(f, 1, "x", "b");
    fixture_run(f, 500 * MS);
    faults_heal(sim_faults(f->s));
    await_converged(f, 10 * SEC);
    if (want)
        assert_all_hold(f, "x", want);
    ck_assert_int_ge(fixture_count(f, "conflict", NULL, NULL), 1);
    FIXTURE_OK(f);
    fixture_free(&f);
}

START_TEST(m1_siblings_after_heal_are_identical_everywhere)
{
    m1_run("conflict=siblings", "[\"a\",\"b\"]", 1);
}
END_TEST

START_TEST(m1_lww_after_heal_every_replica_keeps_the_same_one)
{
    m1_run("conflict=lww", NULL, 0);
}
END_TEST

START_TEST(m1_merge_union_after_heal_every_replica_reads_the_union)
{
    m1_run("conflict=merge merge=union", "\"a,b\"", 1);
}
END_TEST

/* ---- M2, M3: clock skew ----------------------------------------------------------------- */

/* n1's clock is 5 s behind; n2 writes b, n1 sees it, then n1 writes a: causally later. */
static struct fixture *m2_run(const char *spec, struct watch *w)
{
    struct fixture *f = ml_new(3, spec, 21);
    if (w)
        watch_start(f, w);
    sim_clocks(f->s, 0)->skew_us = -5 * (int64_t)SEC;
    put_ok(f, 1, "x", "b");
    await_holds(f, 0, "x", "\"b\"");
    put_ok(f, 0, "x", "a");
    await_converged(f, 10 * SEC);
    return f;
}

START_TEST(m2_lww_under_skew_drops_the_causally_later_write_and_the_checker_flags_it)
{
    struct watch w;
    struct fixture *f = m2_run("conflict=lww", &w);
    assert_all_hold(f, "x", "\"b\"");
    ck_assert_msg(w.alerts.s && strstr(w.alerts.s, "LostUpdate") && strstr(w.alerts.s, "clock skew"), "monitor: %s",
                  w.alerts.s ? w.alerts.s : "(silent)");
    FIXTURE_OK(f);
    watch_end(&w);
    ck_assert_int_ge(fixture_count(f, "conflict", "why",
                                   "the causally later write has the earlier timestamp (clock skew): it loses"),
                     1);
    fixture_free(&f);
}
END_TEST

START_TEST(m2_lww_by_hybrid_logical_clock_keeps_the_causally_later_write)
{
    struct fixture *f = m2_run("conflict=lww clock=hlc", NULL);
    assert_all_hold(f, "x", "\"a\"");
    FIXTURE_OK(f);
    fixture_free(&f);
}
END_TEST

START_TEST(m3_version_vectors_keep_the_later_write_and_concurrent_ones_as_siblings)
{
    struct fixture *f = m2_run("conflict=siblings", NULL);
    assert_all_hold(f, "x", "\"a\""); /* a's context covers b: superseded, not lost */
    ck_assert_int_eq(fixture_count(f, "conflict", NULL, NULL), 0);
    /* concurrent: n1 and n3 write y before either hears of the other */
    faults_set_delay(sim_faults(f->s), -1, -1, 100 * MS, 0);
    put_ok(f, 0, "y", "p");
    put_ok(f, 2, "y", "q");
    await_converged(f, 10 * SEC);
    assert_all_hold(f, "y", "[\"p\",\"q\"]");
    /* a read returns both and the context; a write with it supersedes both */
    json_t *r = fixture_call(f, 1, json_pack("{s:s,s:s}", "type", "read", "key", "y"), 5 * SEC);
    ck_assert_int_eq((int)json_array_size(json_object_get(r, "siblings")), 2);
    const char *ctx = json_string_value(json_object_get(r, "context"));
    ck_assert_ptr_nonnull(ctx);
    json_t *w = json_pack("{s:s,s:s,s:s,s:s}", "type", "write", "key", "y", "value", "pq", "context", ctx);
    json_decref(r);
    r = fixture_call(f, 1, w, 5 * SEC);
    ck_assert_str_eq(rtype(r), "write_ok");
    json_decref(r);
    await_converged(f, 10 * SEC);
    assert_all_hold(f, "y", "\"pq\"");
    FIXTURE_OK(f);
    fixture_free(&f);
}
END_TEST

START_TEST(a_cart_written_in_two_centres_at_once_merges_to_the_union)
{
    struct fixture *f = ml_new(6, "dcs=3 conflict=merge merge=union", 5);
    wan_delay(f, 3, 80 * MS);
    put_ok(f, 0, "cart:alice", "milk");
    put_ok(f, 2, "cart:alice", "eggs");
    await_converged(f, 10 * SEC);
    assert_all_hold(f, "cart:alice", "\"eggs,milk\"");
    ck_assert_int_ge(fixture_count(f, "conflict", "resolution", "merge"), 1);
    FIXTURE_OK(f);
    fixture_free(&f);
}
END_TEST

START_TEST(merge_max_keeps_the_largest_number)
{
    struct fixture *f = ml_new(3, "conflict=merge merge=max", 6);
    faults_set_delay(sim_faults(f->s), -1, -1, 80 * MS, 0);
    put_ok(f, 0, "hits", "7");
    put_ok(f, 1, "hits", "12");
    put_ok(f, 2, "hits", "9");
    await_converged(f, 10 * SEC);
    assert_all_hold(f, "hits", "\"12\"");
    FIXTURE_OK(f);
    fixture_free(&f);
}
END_TEST

/* ---- conflict=merge with the kit's CRDTs (nodes/kit/crdt.h) ------------------------------ */

/* Writes an operation and expects it refused with code (22: not an operation of the type). */
static void put_refused(struct fixture *f, int node, const char *key, const char *value, const char *why)
{
    json_t *r = fixture_call(f, node, req_write(key, value), 10 * SEC);
    const char *text = json_string_value(json_object_get(r, "text"));
    ck_assert_msg(r && !strcmp(rtype(r), "error") && json_integer_value(json_object_get(r, "code")) == 22 && text &&
                      strstr(text, why),
                  "put %s %s: want error 22 with \"%s\", got %s", key, value, why, text ? text : rtype(r));
    json_decref(r);
}

START_TEST(merge_pncounter_adds_up_increments_made_on_both_sides_of_a_partition)
{
    struct fixture *f = ml_new(3, "dcs=3 merge=pncounter", 31); /* conflict=merge implied */
    char err[200];
    put_ok(f, 0, "hits", "+2");
    await_converged(f, 10 * SEC);
    ck_assert_int_eq(faults_partition(sim_faults(f->s), "n1 | n2,n3", err, sizeof err), 0);
    put_ok(f, 0, "hits", "5");
    put_ok(f, 1, "hits", "3");
    put_ok(f, 2, "hits", "-1");
    fixture_run(f, 500 * MS);
    await_holds(f, 0, "hits", "7"); /* n1 alone: 2 + 5 */
    faults_heal(sim_faults(f->s));
    await_converged(f, 10 * SEC);
    assert_all_hold(f, "hits", "9"); /* nothing lost: lww would keep one side's number */
    ck_assert_int_ge(fixture_count(f, "conflict", "resolution", "merge"), 1);
    /* a write answers with what the key reads as at its leader */
    json_t *r = fixture_call(f, 1, req_write("hits", "1"), 10 * SEC);
    ck_assert_str_eq(rtype(r), "write_ok");
    ck_assert_int_eq(json_integer_value(json_object_get(r, "value")), 10);
    json_decref(r);
    put_refused(f, 0, "hits", "milk", "whole number");
    FIXTURE_OK(f);
    fixture_free(&f);
}
END_TEST

START_TEST(merge_orset_a_remove_takes_only_the_adds_it_saw_add_wins)
{
    struct fixture *f = ml_new(3, "dcs=3 conflict=merge merge=orset", 32);
    char err[200];
    put_ok(f, 0, "cart", "milk");
    put_ok(f, 0, "cart", "eggs");
    await_converged(f, 10 * SEC);
    assert_all_hold(f, "cart", "\"eggs,milk\"");
    ck_assert_int_eq(faults_partition(sim_faults(f->s), "n1 | n2,n3", err, sizeof err), 0);
    put_ok(f, 1, "cart", "-milk"); /* removes the milk n2 saw */
    put_ok(f, 0, "cart", "+milk"); /* n1 adds milk again, concurrently */
    put_ok(f, 2, "cart", "-eggs"); /* nobody re-adds eggs */
    put_ok(f, 2, "cart", "bread");
    fixture_run(f, 500 * MS);
    faults_heal(sim_faults(f->s));
    await_converged(f, 10 * SEC);
    assert_all_hold(f, "cart", "\"bread,milk\"");
    /* a remove of what is not there removes nothing; a gset-only write form is refused */
    put_ok(f, 0, "cart", "-tea");
    put_refused(f, 0, "cart", "-", "names an element");
    FIXTURE_OK(f);
    fixture_free(&f);
}
END_TEST

START_TEST(merge_cart_keeps_concurrent_quantities_and_a_remove_of_what_it_saw)
{
    struct fixture *f = ml_new(6, "dcs=3 merge=cart", 33);
    wan_delay(f, 3, 80 * MS);
    put_ok(f, 0, "basket", "milk:2");
    put_ok(f, 2, "basket", "milk:3");
    put_ok(f, 4, "basket", "eggs");
    await_converged(f, 10 * SEC);
    assert_all_hold(f, "basket", "\"eggs:1,milk:5\"");
    put_ok(f, 4, "basket", "-milk");
    await_converged(f, 10 * SEC);
    assert_all_hold(f, "basket", "\"eggs:1\"");
    put_refused(f, 0, "basket", "milk:x", "ITEM:N");
    FIXTURE_OK(f);
    fixture_free(&f);
}
END_TEST

START_TEST(merge_with_a_crdt_refuses_what_its_type_cannot_do)
{
    struct fixture *f = ml_new(3, "merge=gcounter", 34);
    put_ok(f, 0, "g", "4");
    put_refused(f, 0, "g", "-1", "only grows");
    fixture_free(&f);
    f = ml_new(3, "merge=2pset", 35);
    put_ok(f, 0, "s", "a");
    put_ok(f, 0, "s", "-a");
    put_refused(f, 0, "s", "-a", "for ever");
    put_ok(f, 0, "s", "a"); /* accepted, but a 2pset never brings it back */
    await_converged(f, 10 * SEC);
    assert_all_hold(f, "s", "\"\"");
    fixture_free(&f);
    f = ml_new(3, "merge=gset", 36);
    put_refused(f, 0, "s", "-a", "no remove");
    fixture_free(&f);
    char err[300];
    ck_assert_ptr_null(fixture_try_new(&mode_multileader, 3, "conflict=lww merge=orset", 1, err, sizeof err));
    ck_assert_msg(strstr(err, "needs conflict=merge"), "%s", err);
}
END_TEST

/* A peer's push whose version is not a state of the type is refused, naming why. */
START_TEST(merge_crdt_refuses_a_pushed_version_that_is_not_a_state_of_its_type)
{
    struct fixture *f = ml_new(3, "merge=pncounter", 37);
    f->use_monitor = 0;
    static const char *const bad[] = {
        "\"seven\"", "\"{\\\"t\\\":\\\"orset\\\",\\\"e\\\":[],\\\"d\\\":[]}\"", "\"{\\\"t\\\":\\\"pncounter\\\",\\\"p\\\":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17]}\""};
    for (size_t i = 0; i < CL_ARRAY_LEN(bad); i++) {
        char body[600];
        snprintf(body, sizeof body,
                 "{\"type\":\"ml_push\",\"seq\":%zu,\"items\":[{\"key\":\"x\",\"vers\":[{\"v\":%s,\"t\":5,\"n\":1,\"d\":%zu,\"c\":[0,0,0]}]}]}",
                 i + 1, bad[i], i + 1);
        json_error_t je;
        json_t *b = json_loads(body, 0, &je);
        ck_assert_msg(b != NULL, "%s: %s", body, je.text);
        sim_client_send(f->s, 0, "n2", b);
        fixture_run(f, 100 * MS);
    }
    ck_assert_int_ge(fixture_count(f, "error", NULL, NULL), 3);
    const json_t *e = fixture_find(f, "n1", "error");
    ck_assert_msg(e && strstr(json_string_value(json_object_get(e, "text")), "pncounter"), "no error naming the type");
    char *v = held(f, 0, "x");
    ck_assert_msg(!v, "n1 took a bad version: %s", v ? v : "");
    put_ok(f, 0, "x", "1");
    fixture_free(&f);
}
END_TEST

/* ---- topologies ---------------------------------------------------------------------- */

static const char *const topologies[] = {"topology=all", "topology=ring", "topology=star"};

START_TEST(every_topology_carries_each_centres_writes_to_every_node)
{
    char spec[64];
    snprintf(spec, sizeof spec, "dcs=3 conflict=siblings %s", topologies[_i]);
    struct fixture *f = ml_new(6, spec, 7);
    put_ok(f, 0, "a", "1");
    put_ok(f, 2, "b", "2");
    put_ok(f, 4, "c", "3");
    await_converged(f, 10 * SEC);
    assert_all_hold(f, "a", "\"1\"");
    assert_all_hold(f, "b", "\"2\"");
    assert_all_hold(f, "c", "\"3\"");
    FIXTURE_OK(f);
    fixture_free(&f);
}
END_TEST

/* ---- bugs the monitor must catch ------------------------------------------------------- */

START_TEST(bug_vv_sum_is_caught_as_a_vector_claiming_writes_that_never_happened)
{
    struct fixture *f = ml_new(3, "conflict=siblings bug=vv-sum", 8);
    put_ok(f, 0, "x", "a");
    await_converged(f, 5 * SEC);
    /* two writes that both saw a: siblings whose vectors share n1's counter, which a sum
     * counts twice */
    faults_set_delay(sim_faults(f->s), -1, -1, 80 * MS, 0);
    put_ok(f, 1, "x", "b");
    put_ok(f, 2, "x", "c");
    fixture_run(f, 2 * SEC);
    ck_assert_msg(f->fail[0] && strstr(f->fail, "VectorBound"), "monitor: %s", f->fail[0] ? f->fail : "(silent)");
    fixture_free(&f);
}
END_TEST

START_TEST(bug_drop_sibling_is_caught_as_a_lost_update)
{
    struct fixture *f = ml_new(3, "conflict=siblings bug=drop-sibling", 9);
    faults_set_delay(sim_faults(f->s), -1, -1, 80 * MS, 0);
    put_ok(f, 0, "x", "a");
    put_ok(f, 1, "x", "b");
    fixture_run(f, 2 * SEC);
    ck_assert_msg(f->fail[0] && strstr(f->fail, "LostUpdate"), "monitor: %s", f->fail[0] ? f->fail : "(silent)");
    fixture_free(&f);
}
END_TEST

/* ---- crashes ------------------------------------------------------------------------------ */

START_TEST(acked_writes_survive_a_crash_of_every_node)
{
    struct fixture *f = ml_new(4, "dcs=2 conflict=siblings", 10);
    put_ok(f, 0, "x", "1");
    put_ok(f, 2, "y", "2");
    for (int i = 0; i < 4; i++)
        sim_crash(f->s, i);
    for (int i = 0; i < 4; i++)
        sim_restart(f->s, i);
    await_converged(f, 10 * SEC);
    assert_all_hold(f, "x", "\"1\"");
    assert_all_hold(f, "y", "\"2\"");
    /* the dots go on, never repeating */
    put_ok(f, 0, "x", "3");
    await_converged(f, 10 * SEC);
    assert_all_hold(f, "x", "\"3\"");
    FIXTURE_OK(f);
    fixture_free(&f);
}
END_TEST

/* ---- the sweep: faults, then heal ------------------------------------------------------- */

static const char *const sweep_specs[] = {
    "dcs=3 conflict=siblings",
    "dcs=3 conflict=siblings topology=ring",
    "dcs=2 conflict=merge",
    "dcs=3 conflict=lww clock=hlc topology=star",
    "dcs=3 merge=pncounter topology=ring",
};

START_TEST(under_loss_duplication_reordering_and_partitions_replicas_converge_and_keep_every_acked_write)
{
    int seeds = test_seeds(6);
    for (int s = 0; s < seeds; s++) {
        uint64_t seed = 100 + (uint64_t)s * 7 + (uint64_t)_i * 1000;
        struct fixture *f = ml_new(6, sweep_specs[_i], seed);
        int lww = strstr(sweep_specs[_i], "lww") != NULL, counter = strstr(sweep_specs[_i], "pncounter") != NULL;
        char keys[64][8];
        f->use_monitor = !lww;
        struct faults *fa = sim_faults(f->s);
        faults_set_loss(fa, -1, -1, 0.2);
        faults_set_dup(fa, -1, -1, 0.1);
        faults_set_reorder(fa, -1, -1, 0.2);
        faults_set_delay(fa, -1, -1, 20 * MS, 30 * MS);
        struct rng *r = sim_rng(f->s);
        simclient_set_timeout(f->c, 3 * SEC);
        int procs[64], np = 0;
        char vals[64][16];
        for (int k = 0; k < 40; k++) {
            if (k == 10) {
                char err[100];
                faults_partition(fa, "n1,n2 | n3,n4,n5,n6", err, sizeof err);
            }
            if (k == 25)
            {
                char err[100];
                faults_partition(fa, "n1,n2,n3,n4 | n5,n6", err, sizeof err);
            }
            int leader = (int)(rng_next(r) % 3) * 2;
            char key[8];
            snprintf(key, sizeof key, "k%d", (int)(rng_next(r) % 4));
            snprintf(vals[np], sizeof vals[np], counter ? "%d" : "v%d", counter ? k + 1 : k);
            memcpy(keys[np], key, sizeof key);
            procs[np] = fixture_invoke(f, leader, "write", key, vals[np], NULL);
            np++;
            fixture_run(f, (rng_next(r) % 60) * MS);
            if (np == 64)
                break;
        }
        enum simop_outcome out[64];
        for (int p = 0; p < np; p++)
            out[p] = fixture_await(f, procs[p], 5 * SEC);
        faults_heal(fa);
        await_converged(f, 30 * SEC);
        FIXTURE_OK(f);
        /* a counter holds every acknowledged increment, and nothing that was never written:
         * between the sum of the acked ones and the sum of all (an indefinite one may land) */
        for (int k = 0; counter && k < 4; k++) {
            char key[8], *v;
            snprintf(key, sizeof key, "k%d", k);
            long lo = 0, hi = 0;
            for (int p = 0; p < np; p++)
                if (!strcmp(keys[p], key)) {
                    hi += atol(vals[p]);
                    lo += out[p] == SIMOP_OK ? atol(vals[p]) : 0;
                }
            v = held(f, 0, key);
            long got = v ? atol(v) : 0;
            ck_assert_msg(got >= lo && got <= hi, "seed %" PRIu64 ": %s holds %ld, acked %ld, written %ld", seed, key, got, lo, hi);
            free(v);
        }
        /* siblings and merge keep every acked write: each acked value is either still there
         * or superseded by a write that had seen it (the monitor's LostUpdate watches that) */
        fixture_free(&f);
    }
}
END_TEST

START_TEST(same_seed_gives_the_same_trace)
{
    uint64_t h[2];
    for (int k = 0; k < 2; k++) {
        struct fixture *f = ml_new(6, "dcs=3 conflict=siblings", 42);
        sim_trace_hash_enable(f->s);
        faults_set_loss(sim_faults(f->s), -1, -1, 0.1);
        put_ok(f, 0, "x", "1");
        put_ok(f, 2, "x", "2");
        fixture_run(f, 2 * SEC);
        h[k] = sim_trace_hash(f->s);
        fixture_free(&f);
    }
    ck_assert_uint_eq(h[0], h[1]);
}
END_TEST

START_TEST(ten_thousand_divergent_keys_converge_after_heal)
{
    long keys = getenv("CONLAB_QUICK") ? 1000 : 10000;
    struct opts o = {0};
    opts_set(&o, "dcs", "3");
    opts_set(&o, "conflict", "siblings");
    struct catchup_result res;
    char err[200];
    ck_assert_msg(catchup_run(&mode_multileader, 3, &o, keys, 1, &res, err, sizeof err) == 0, "%s", err);
    opts_free(&o);
    ck_assert_int_eq(res.held, keys);
    printf("multileader: %ld divergent keys reached the cut-off DC %.3f s (virtual) after heal; %" PRIu64
           " messages; %.3f s wall\n", res.held, res.virtual_us / 1e6, res.messages, res.wall_us / 1e6);
    json_decref(res.by_type);
    json_decref(res.mode_events);
}
END_TEST


/* ---- peer bodies, mutated at random (the decoders of ml_push and ml_push_ok) ------------- */

static json_t *junk(struct rng *r, int depth)
{
    switch (rng_next(r) % (depth > 2 ? 6 : 8)) {
    case 0: return json_null();
    case 1: return json_integer((json_int_t)(rng_next(r) % 3 == 0 ? -1 : (json_int_t)(rng_next(r) >> 1)));
    case 2: return json_string(rng_next(r) % 2 ? "" : "n1.2");
    case 3: return json_true();
    case 4: return json_real(-0.5);
    case 5: return json_string("ffffffffffffffff");
    case 6: {
        json_t *a = json_array();
        for (int i = (int)(rng_next(r) % 3); i > 0; i--)
            json_array_append_new(a, junk(r, depth + 1));
        return a;
    }
    default: {
        json_t *o = json_object();
        static const char *const keys[] = {"key", "vers", "v", "t", "n", "d", "c", "k", "h", "deps"};
        for (int i = (int)(rng_next(r) % 4); i > 0; i--)
            json_object_set_new(o, keys[rng_next(r) % 10], junk(r, depth + 1));
        return o;
    }
    }
}

/* Replaces one value somewhere in j (an object or array) with junk, or deletes a field. */
static void mutate(struct rng *r, json_t *j, int depth)
{
    if (json_is_object(j) && json_object_size(j)) {
        size_t pick = rng_next(r) % json_object_size(j), i = 0;
        const char *k;
        json_t *v;
        json_object_foreach(j, k, v) {
            if (i++ != pick)
                continue;
            if ((json_is_object(v) || json_is_array(v)) && rng_next(r) % 2 && depth < 6)
                mutate(r, v, depth + 1);
            else if (rng_next(r) % 4 == 0)
                json_object_del(j, k);
            else
                json_object_set_new(j, k, junk(r, depth));
            return;
        }
    } else if (json_is_array(j) && json_array_size(j)) {
        size_t i = rng_next(r) % json_array_size(j);
        json_t *v = json_array_get(j, i);
        if ((json_is_object(v) || json_is_array(v)) && rng_next(r) % 2 && depth < 6)
            mutate(r, v, depth + 1);
        else
            json_array_set_new(j, i, junk(r, depth));
    }
}

START_TEST(peer_messages_mutated_at_random_are_refused_or_merged_and_the_node_keeps_serving)
{
    static const char *const valid[] = {"{\"type\":\"ml_push\",\"seq\":1,\"items\":[{\"key\":\"x\",\"vers\":[{\"v\":\"a\",\"t\":5,\"n\":1,\"d\":1,\"c\":[0,0,0]},{\"v\":null,\"t\":6,\"n\":2,\"d\":1,\"c\":[1,0,0]}]}],\"hl\":5,\"hc\":0}", "{\"type\":\"ml_push_ok\",\"seq\":1,\"acks\":[{\"k\":\"x\",\"h\":\"00000000000000ab\"}]}"};
    struct fixture *f = ml_new(3, "conflict=siblings", 77);
    f->use_monitor = 0; /* made-up dots are well-formed lies: this is about the decoders */
    struct rng r;
    rng_seed(&r, 99);
    int rounds = test_seeds(400);
    for (int i = 0; i < rounds; i++) {
        json_t *b = json_loads(valid[i % 2], 0, NULL);
        ck_assert_ptr_nonnull(b);
        for (int k = (int)(rng_next(&r) % 3); k >= 0; k--)
            mutate(&r, b, 0);
        json_object_set_new(b, "type", json_string(i % 2 ? (strstr(valid[1], "ml_") ? "ml_push_ok" : "cz_put_ok")
                                                         : (strstr(valid[0], "ml_") ? "ml_push" : "cz_put")));
        sim_client_send(f->s, 0, "n2", b);
        fixture_run(f, 1000);
    }
    json_t *w = json_pack("{s:s,s:s,s:s}", "type", "write", "key", "after", "value", "ok");
    json_t *rep = fixture_call(f, 0, w, 5 * SEC);
    ck_assert_msg(rep && !strcmp(json_string_value(json_object_get(rep, "type")), "write_ok"), "the node stopped serving");
    json_decref(rep);
    fixture_free(&f);
}
END_TEST

/* ---- failover inside a centre, deletes ------------------------------------------------- */

struct role_is {
    struct fixture *f;
    int node;
    const char *role, *leader;
};

static int role_pred(void *ud)
{
    struct role_is *r = ud;
    if (sim_node_state(r->f->s, r->node) != SIM_UP)
        return 0;
    json_t *st = sim_status(r->f->s, r->node);
    int ok = !strcmp(json_string_value(json_object_get(st, "role")), r->role) &&
             (!r->leader || !strcmp(json_string_value(json_object_get(st, "leader")), r->leader));
    json_decref(st);
    return ok;
}

static void await_role(struct fixture *f, int node, const char *role, const char *leader)
{
    struct role_is r = {f, node, role, leader};
    ck_assert_msg(fixture_run_until(f, 20 * SEC, role_pred, &r), "seed %" PRIu64 ": n%d never became %s%s%s", f->seed,
                  node + 1, role, leader ? " of " : "", leader ? leader : "");
}

START_TEST(failover_auto_a_follower_takes_over_its_centre_and_the_old_leader_follows_it)
{
    static const char *const more[] = {"write", "apply", "conflict", "error", "state", "failover", NULL};
    struct fixture *f = ml_new(6, "dcs=3 failover=auto failover_timeout=500ms", 31);
    fixture_keep(f, more);
    put_ok(f, 0, "x", "a");
    sim_crash(f->s, 0); /* dc1's leader */
    await_role(f, 1, "leader", "n2");
    ck_assert_int_eq(fixture_count(f, "failover", "to", "n2"), 1);
    const json_t *fo = fixture_find(f, "n2", "failover");
    ck_assert_str_eq(json_string_value(json_object_get(fo, "from")), "n1");
    ck_assert_str_eq(json_string_value(json_object_get(fo, "dc")), "dc1");
    /* dc1 takes writes again, through n2; inside the centre replication stays synchronous, so
     * the answer waits for n1 (down): error 11, indefinite — the write is logged at n2 and
     * replicates to the other centres at once */
    json_t *w = fixture_call(f, 1, req_write("y", "b"), 10 * SEC);
    ck_assert_str_eq(rtype(w), "error");
    ck_assert(json_is_true(json_object_get(w, "indefinite")));
    json_decref(w);
    await_holds(f, 2, "y", "\"b\""); /* the other centres' leaders get it from n2 */
    await_holds(f, 4, "y", "\"b\"");
    put_ok(f, 2, "z", "c"); /* dc2's writes reach dc1's new leader */
    await_holds(f, 1, "z", "\"c\"");
    sim_restart(f->s, 0); /* the old leader comes back as leader of epoch 0, and steps down */
    await_role(f, 0, "follower", "n2");
    await_converged(f, 20 * SEC);
    assert_all_hold(f, "x", "\"a\"");
    assert_all_hold(f, "y", "\"b\"");
    json_t *r = fixture_call(f, 0, req_write("w", "1"), 5 * SEC);
    ck_assert_str_eq(rtype(r), "error");
    ck_assert_str_eq(json_string_value(json_object_get(r, "leader")), "n2");
    json_decref(r);
    put_ok(f, 1, "w", "1");
    FIXTURE_OK(f);
    fixture_free(&f);
}
END_TEST

START_TEST(failover_off_leaves_a_centre_without_its_leader_refusing_writes)
{
    static const char *const more[] = {"state", "failover", NULL};
    struct fixture *f = ml_new(6, "dcs=3 failover_timeout=500ms", 32);
    fixture_keep(f, more);
    sim_crash(f->s, 0);
    fixture_run(f, 5 * SEC);
    ck_assert_int_eq(fixture_count(f, "failover", NULL, NULL), 0);
    json_t *r = fixture_call(f, 1, req_write("x", "1"), 5 * SEC);
    ck_assert_str_eq(rtype(r), "error");
    json_decref(r);
    FIXTURE_OK(f);
    fixture_free(&f);
}
END_TEST

START_TEST(a_delete_removes_the_key_at_every_replica)
{
    for (int c = 0; c < 3; c++) {
        static const char *const specs[] = {"conflict=lww", "conflict=siblings", "conflict=merge"};
        struct fixture *f = ml_new(3, specs[c], 41);
        put_ok(f, 0, "x", "a");
        put_ok(f, 0, "keep", "k");
        await_converged(f, 10 * SEC);
        json_t *r = fixture_call(f, 1, json_pack("{s:s,s:s}", "type", "delete", "key", "x"), 10 * SEC);
        ck_assert_msg(!strcmp(rtype(r), "delete_ok"), "%s: %s", specs[c], rtype(r));
        json_decref(r);
        await_converged(f, 10 * SEC);
        for (int i = 0; i < 3; i++) {
            char *v = held(f, i, "x");
            ck_assert_msg(!v, "%s: n%d still holds x=%s", specs[c], i + 1, v);
            free(v);
        }
        assert_all_hold(f, "keep", "\"k\"");
        r = fixture_call(f, 2, json_pack("{s:s,s:s}", "type", "read", "key", "x"), 5 * SEC);
        ck_assert_int_eq(json_integer_value(json_object_get(r, "code")), ERR_KEY_DOES_NOT_EXIST);
        json_decref(r);
        put_ok(f, 2, "x", "again"); /* a later write brings it back */
        await_converged(f, 10 * SEC);
        assert_all_hold(f, "x", "\"again\"");
        FIXTURE_OK(f);
        fixture_free(&f);
    }
}
END_TEST

Suite *suite_multileader(void);
Suite *suite_multileader(void)
{
    Suite *s = suite_create("multileader");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, nodes_split_into_data_centres_of_consecutive_nodes_led_by_the_first);
    tcase_add_test(tc, more_centres_than_nodes_is_refused);
    tcase_add_test(tc, leaders_and_followers_say_who_leads_their_centre);
    tcase_add_test(tc, a_write_to_a_follower_is_refused_naming_its_leader);
    tcase_add_test(tc, a_write_is_acked_only_once_every_follower_of_its_centre_holds_it);
    tcase_add_test(tc, a_write_whose_follower_is_down_fails_indefinitely_and_still_replicates);
    tcase_add_test(tc, bad_client_requests_and_peer_garbage_are_refused_with_a_reason);
    tcase_add_test(tc, m1_siblings_after_heal_are_identical_everywhere);
    tcase_add_test(tc, m1_lww_after_heal_every_replica_keeps_the_same_one);
    tcase_add_test(tc, m1_merge_union_after_heal_every_replica_reads_the_union);
    tcase_add_test(tc, m2_lww_under_skew_drops_the_causally_later_write_and_the_checker_flags_it);
    tcase_add_test(tc, m2_lww_by_hybrid_logical_clock_keeps_the_causally_later_write);
    tcase_add_test(tc, m3_version_vectors_keep_the_later_write_and_concurrent_ones_as_siblings);
    tcase_add_test(tc, a_cart_written_in_two_centres_at_once_merges_to_the_union);
    tcase_add_test(tc, merge_max_keeps_the_largest_number);
    tcase_add_test(tc, merge_pncounter_adds_up_increments_made_on_both_sides_of_a_partition);
    tcase_add_test(tc, merge_orset_a_remove_takes_only_the_adds_it_saw_add_wins);
    tcase_add_test(tc, merge_cart_keeps_concurrent_quantities_and_a_remove_of_what_it_saw);
    tcase_add_test(tc, merge_with_a_crdt_refuses_what_its_type_cannot_do);
    tcase_add_test(tc, merge_crdt_refuses_a_pushed_version_that_is_not_a_state_of_its_type);
    tcase_add_loop_test(tc, every_topology_carries_each_centres_writes_to_every_node, 0, 3);
    tcase_add_test(tc, bug_vv_sum_is_caught_as_a_vector_claiming_writes_that_never_happened);
    tcase_add_test(tc, bug_drop_sibling_is_caught_as_a_lost_update);
    tcase_add_test(tc, acked_writes_survive_a_crash_of_every_node);
    tcase_add_loop_test(tc, under_loss_duplication_reordering_and_partitions_replicas_converge_and_keep_every_acked_write,
                        0, (int)CL_ARRAY_LEN(sweep_specs));
    tcase_add_test(tc, same_seed_gives_the_same_trace);
    tcase_add_test(tc, ten_thousand_divergent_keys_converge_after_heal);
    tcase_add_test(tc, peer_messages_mutated_at_random_are_refused_or_merged_and_the_node_keeps_serving);
    tcase_add_test(tc, failover_auto_a_follower_takes_over_its_centre_and_the_old_leader_follows_it);
    tcase_add_test(tc, failover_off_leaves_a_centre_without_its_leader_refusing_writes);
    tcase_add_test(tc, a_delete_removes_the_key_at_every_replica);
    suite_add_tcase(s, tc);
    return s;
}
