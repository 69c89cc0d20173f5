/* check_crdtmode — the crdt mode in the simulator (one fixture, the mode's monitor fed every
 * event): C1 counters under partition, duplication and reordering, exact after heal; C2 the
 * OR-Set's add wins across a partition; C4 redelivery and restarts harmless; C5 the LWW
 * register loses a causally later write under clock skew, the MV register keeps it; both sync
 * styles converge and delta ships fewer bytes; bug=merge-sum caught by the monitor on a fixed
 * seed; bad client and peer input refused with the reason. Real processes: the scenario
 * scripts tests/scenarios/crdt_*.lab. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "crdt.h"
#include "crdtview.h"
#include "faults.h"
#include "fixture.h"
#include "test_util.h"

extern const struct mode mode_crdt;

#define MS 1000ull
#define SEC 1000000ull

static json_t *call(struct fixture *f, int node, json_t *body)
{
    json_t *r = fixture_call(f, node, body, 2 * SEC);
    ck_assert_msg(r != NULL, "no reply from n%d", node + 1);
    return r;
}

static void update_ok(struct fixture *f, int node, const char *key, const char *crdt, const char *op,
                      const char *elem, int n)
{
    json_t *b = json_pack("{s:s,s:s,s:s,s:i}", "type", "update", "key", key, "op", op, "n", n);
    if (crdt)
        json_object_set_new(b, "crdt", json_string(crdt));
    if (elem)
        json_object_set_new(b, !strcmp(op, "set") ? "value" : "elem", json_string(elem));
    json_t *r = call(f, node, b);
    ck_assert_msg(!strcmp(json_string_value(json_object_get(r, "type")), "update_ok"), "update %s %s on n%d: %s", op,
                  key, node + 1, json_string_value(json_object_get(r, "text")));
    json_decref(r);
}

/* The value of key on node (a new reference). */
static json_t *read_at(struct fixture *f, int node, const char *key)
{
    json_t *r = call(f, node, json_pack("{s:s,s:s}", "type", "read", "key", key));
    ck_assert_str_eq(json_string_value(json_object_get(r, "type")), "read_ok");
    json_t *v = json_incref(json_object_get(r, "value"));
    json_decref(r);
    return v;
}

struct conv {
    struct fixture *f;
};

static int converged(void *ud)
{
    struct fixture *f = ud;
    json_t *first = NULL;
    int same = 1;
    for (int i = 0; i < f->n && same; i++) {
        if (sim_node_state(f->s, i) != SIM_UP)
            continue;
        json_t *st = sim_status(f->s, i);
        json_t *d = json_incref(json_object_get(st, "data"));
        json_decref(st);
        if (!first)
            first = d;
        else {
            same = json_equal(first, d);
            json_decref(d);
        }
    }
    json_decref(first);
    return same;
}

static void await_convergence(struct fixture *f)
{
    ck_assert_msg(fixture_run_until(f, 10 * SEC, converged, f), "seed %llu: no convergence in 10 s (%s)",
                  (unsigned long long)f->seed, f->fail);
    FIXTURE_OK(f);
}

static void partition(struct fixture *f, const char *spec)
{
    char err[200];
    ck_assert_int_eq(faults_partition(sim_faults(f->s), spec, err, sizeof err), 0);
}

/* ---- C1 ------------------------------------------------------------------------------------ */

static const char *const syncs[] = {"sync=state", "sync=delta", "sync=delta fanout=1"};
static const char *const all_syncs[] = {"sync=state", "sync=delta", "sync=delta fanout=1", "sync=op"};

START_TEST(c1_counters_are_bounded_during_faults_and_exact_after_heal)
{
    int seeds = test_seeds(6);
    for (int s = 0; s < seeds; s++) {
        struct fixture *f = fixture_new(&mode_crdt, 3, syncs[_i], 100 + (uint64_t)s);
        struct faults *fl = sim_faults(f->s);
        faults_set_dup(fl, -1, -1, 0.3);
        faults_set_reorder(fl, -1, -1, 0.3);
        faults_set_delay(fl, -1, -1, 0, 5 * MS);
        int total = 0, acked_here[3] = {0};
        partition(f, "n1 | n2,n3");
        for (int i = 0; i < 12; i++) {
            int node = i % 3, n = 1 + i % 4;
            int dec = i % 5 == 4;
            update_ok(f, node, "hits", NULL, dec ? "dec" : "inc", NULL, n);
            total += dec ? -n : n;
            acked_here[node] += dec ? -n : n;
            update_ok(f, node, "views", "gcounter", "inc", NULL, 1);
            fixture_run(f, 20 * MS);
            /* every read is at most what was acknowledged anywhere; a gcounter at least what this
             * node acknowledged itself */
            json_t *v = read_at(f, node, "views");
            ck_assert_int_le(json_integer_value(v), i + 1);
            json_decref(v);
        }
        (void)acked_here;
        faults_heal(fl);
        await_convergence(f);
        for (int n = 0; n < 3; n++) {
            json_t *v = read_at(f, n, "hits");
            ck_assert_int_eq(json_integer_value(v), total);
            json_decref(v);
            v = read_at(f, n, "views");
            ck_assert_int_eq(json_integer_value(v), 12);
            json_decref(v);
        }
        FIXTURE_OK(f);
        fixture_free(&f);
    }
}
END_TEST

/* ---- C2 ------------------------------------------------------------------------------------ */

START_TEST(c2_or_set_concurrent_add_and_remove_across_a_partition_add_wins)
{
    struct fixture *f = fixture_new(&mode_crdt, 3, syncs[_i], 7);
    update_ok(f, 0, "cart", NULL, "add", "milk", 1);
    await_convergence(f);
    partition(f, "n1 | n2,n3");
    update_ok(f, 0, "cart", NULL, "add", "milk", 1);
    update_ok(f, 1, "cart", NULL, "rem", "milk", 1);
    update_ok(f, 2, "cart", NULL, "add", "eggs", 1);
    fixture_run(f, 300 * MS);
    json_t *v = read_at(f, 1, "cart");
    ck_assert_int_eq(json_array_size(v), 1);       /* n2's side: milk removed, eggs */
    json_decref(v);
    faults_heal(sim_faults(f->s));
    await_convergence(f);
    for (int n = 0; n < 3; n++) {
        v = read_at(f, n, "cart");
        ck_assert_int_eq(json_array_size(v), 2);
        ck_assert_str_eq(json_string_value(json_array_get(v, 0)), "eggs");
        ck_assert_str_eq(json_string_value(json_array_get(v, 1)), "milk");
        json_decref(v);
    }
    FIXTURE_OK(f);
    fixture_free(&f);
}
END_TEST

START_TEST(cart_keeps_the_item_a_concurrent_remove_did_not_see)
{
    struct fixture *f = fixture_new(&mode_crdt, 3, "sync=delta", 9);
    update_ok(f, 0, "basket", "cart", "add", "milk", 2);
    await_convergence(f);
    partition(f, "n1 | n2,n3");
    update_ok(f, 0, "basket", "cart", "add", "milk", 1);
    update_ok(f, 1, "basket", "cart", "rem", "milk", 1);
    faults_heal(sim_faults(f->s));
    await_convergence(f);
    json_t *v = read_at(f, 2, "basket");
    ck_assert_int_eq(json_integer_value(json_object_get(v, "milk")), 1);
    json_decref(v);
    fixture_free(&f);
}
END_TEST

/* ---- C4 ------------------------------------------------------------------------------------ */

START_TEST(c4_redelivery_reordering_and_restarts_change_nothing)
{
    struct fixture *f = fixture_new(&mode_crdt, 3, syncs[_i], 21);
    struct faults *fl = sim_faults(f->s);
    faults_set_dup(fl, -1, -1, 0.5);
    faults_set_reorder(fl, -1, -1, 0.5);
    for (int i = 0; i < 9; i++) {
        char e[8];
        snprintf(e, sizeof e, "e%d", i);
        update_ok(f, i % 3, "s", NULL, "add", e, 1);
        update_ok(f, i % 3, "c", NULL, "inc", NULL, 2);
    }
    await_convergence(f);
    json_t *before = sim_status(f->s, 0);
    /* more duplicated, reordered syncs of the same states: nothing changes */
    fixture_run(f, 2 * SEC);
    json_t *after = sim_status(f->s, 0);
    ck_assert(json_equal(json_object_get(before, "data"), json_object_get(after, "data")));
    json_decref(before);
    json_decref(after);
    /* a restarted node replays its own updates and gets the rest back by sync */
    sim_crash(f->s, 2);
    update_ok(f, 0, "c", NULL, "inc", NULL, 1);
    sim_restart(f->s, 2);
    await_convergence(f);
    json_t *v = read_at(f, 2, "c");
    ck_assert_int_eq(json_integer_value(v), 19);
    json_decref(v);
    v = read_at(f, 2, "s");
    ck_assert_int_eq(json_array_size(v), 9);
    json_decref(v);
    FIXTURE_OK(f);
    fixture_free(&f);
}
END_TEST

/* ---- C5 ------------------------------------------------------------------------------------ */

START_TEST(c5_lww_register_loses_a_causally_later_write_under_skew_mv_keeps_it)
{
    struct fixture *f = fixture_new(&mode_crdt, 3, "sync=delta", 5);
    sim_clocks(f->s, 1)->skew_us = -5 * (int64_t)SEC;      /* n2's clock is 5 s behind */
    update_ok(f, 0, "x", "lww", "set", "v1", 1);
    update_ok(f, 0, "y", "mv", "set", "v1", 1);
    await_convergence(f);
    /* n2 has read v1 and writes v2 after it: causally later */
    json_t *v = read_at(f, 1, "x");
    ck_assert_str_eq(json_string_value(v), "v1");
    json_decref(v);
    update_ok(f, 1, "x", NULL, "set", "v2", 1);
    update_ok(f, 1, "y", NULL, "set", "v2", 1);
    await_convergence(f);
    v = read_at(f, 2, "x");
    ck_assert_msg(!strcmp(json_string_value(v), "v1"), "the anomaly: v2 should be lost, read %s", json_string_value(v));
    json_decref(v);
    v = read_at(f, 2, "y");
    ck_assert_str_eq(json_string_value(v), "v2");
    json_decref(v);
    /* concurrent MV writes stay side by side */
    partition(f, "n1 | n2,n3");
    update_ok(f, 0, "y", NULL, "set", "a", 1);
    update_ok(f, 2, "y", NULL, "set", "b", 1);
    faults_heal(sim_faults(f->s));
    await_convergence(f);
    v = read_at(f, 1, "y");
    ck_assert_int_eq(json_array_size(v), 2);
    json_decref(v);
    FIXTURE_OK(f);
    fixture_free(&f);
}
END_TEST

/* ---- the bug and the monitor ------------------------------------------------------------------ */

START_TEST(merge_sum_bug_is_caught_by_the_monitor_on_a_fixed_seed)
{
    struct fixture *f = fixture_new(&mode_crdt, 3, "sync=state bug=merge-sum", 3);
    update_ok(f, 0, "hits", NULL, "inc", NULL, 5);
    fixture_run(f, 2 * SEC);
    ck_assert_msg(strstr(f->fail, "Convergence"), "the monitor should catch merge-sum: %s", f->fail);
    fixture_free(&f);
}
END_TEST

START_TEST(delta_sync_ships_fewer_bytes_than_state_sync)
{
    uint64_t bytes[2] = {0, 0};
    for (int k = 0; k < 2; k++) {
        struct fixture *f = fixture_new(&mode_crdt, 3, k ? "sync=delta" : "sync=state", 4);
        for (int i = 0; i < 40; i++) {
            char e[16];
            snprintf(e, sizeof e, "item%d", i);
            update_ok(f, i % 3, "s", NULL, "add", e, 1);
        }
        await_convergence(f);
        fixture_run(f, SEC);
        for (int n = 0; n < 3; n++) {
            json_t *st = sim_status(f->s, n);
            bytes[k] += (uint64_t)json_integer_value(json_object_get(json_object_get(st, "extra"), "bytes_sent"));
            json_decref(st);
        }
        fixture_free(&f);
    }
    ck_assert_msg(bytes[1] * 5 < bytes[0], "delta %llu bytes, state %llu", (unsigned long long)bytes[1],
                  (unsigned long long)bytes[0]);
}
END_TEST

/* ---- bad input ---------------------------------------------------------------------------------- */

static const char *const bad_requests[][2] = {
    {"{\"type\":\"update\",\"op\":\"inc\"}", "key"},
    {"{\"type\":\"update\",\"key\":\"k\",\"op\":\"inc\",\"crdt\":\"nope\"}", "unknown crdt"},
    {"{\"type\":\"update\",\"key\":\"k\",\"op\":\"jump\"}", "unknown op"},
    {"{\"type\":\"update\",\"key\":\"k\",\"op\":\"inc\",\"n\":0}", "n is a whole number"},
    {"{\"type\":\"update\",\"key\":\"k\",\"op\":\"inc\",\"n\":\"x\"}", "n is a whole number"},
    {"{\"type\":\"update\",\"key\":\"k\",\"op\":\"dec\",\"crdt\":\"gcounter\"}", "gcounter takes inc"},
    {"{\"type\":\"update\",\"key\":\"k\",\"op\":\"add\"}", "needs \\\"elem\\\""},
    {"{\"type\":\"update\",\"key\":\"k\",\"op\":\"set\",\"crdt\":\"lww\"}", "needs \\\"value\\\""},
    {"{\"type\":\"update\",\"key\":\"\",\"op\":\"inc\"}", "a key has"},
    {"{\"type\":\"update\",\"key\":\"k\",\"op\":\"rem\",\"elem\":\"x\",\"crdt\":\"2pset\"}", "2pset removes only"},
    {"{\"type\":\"add\"}", "add needs"},
    {"{\"type\":\"read\",\"key\":5}", "key"},
};

START_TEST(bad_client_requests_get_an_error_naming_the_problem)
{
    struct fixture *f = fixture_new(&mode_crdt, 3, "", 1);
    json_t *body = json_loads(bad_requests[_i][0], 0, NULL);
    ck_assert(body);
    json_t *r = call(f, 0, body);
    ck_assert_str_eq(json_string_value(json_object_get(r, "type")), "error");
    char *s = json_dumps(r, 0);
    ck_assert_msg(strstr(s, bad_requests[_i][1]), "%s: %s", bad_requests[_i][0], s);
    free(s);
    json_decref(r);
    fixture_free(&f);
}
END_TEST

START_TEST(a_key_keeps_its_type)
{
    struct fixture *f = fixture_new(&mode_crdt, 3, "", 1);
    update_ok(f, 0, "k", NULL, "inc", NULL, 1);
    json_t *r = call(f, 0, json_pack("{s:s,s:s,s:s,s:s}", "type", "update", "key", "k", "op", "add", "elem", "x"));
    ck_assert_int_eq(json_integer_value(json_object_get(r, "code")), 22);
    ck_assert_msg(strstr(json_string_value(json_object_get(r, "text")), "is a pncounter"), "%s",
                  json_string_value(json_object_get(r, "text")));
    json_decref(r);
    fixture_free(&f);
}
END_TEST

START_TEST(maelstrom_counter_and_set_workloads_work)
{
    struct fixture *f = fixture_new(&mode_crdt, 3, "", 2);
    json_t *r = call(f, 0, json_pack("{s:s,s:i}", "type", "add", "delta", 5));
    ck_assert_str_eq(json_string_value(json_object_get(r, "type")), "add_ok");
    json_decref(r);
    json_decref(call(f, 1, json_pack("{s:s,s:i}", "type", "add", "delta", -2)));
    await_convergence(f);
    r = call(f, 2, json_pack("{s:s}", "type", "read"));
    ck_assert_int_eq(json_integer_value(json_object_get(r, "value")), 3);
    json_decref(r);
    json_decref(call(f, 2, json_pack("{s:s,s:s}", "type", "add", "element", "x")));
    await_convergence(f);
    r = call(f, 0, json_pack("{s:s}", "type", "read"));
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(r, "value"), 0)), "x");
    json_decref(r);
    fixture_free(&f);
}
END_TEST

static const char *const bad_peer[] = {
    "{\"type\":\"crdt_state\"}",
    "{\"type\":\"crdt_state\",\"inc\":1,\"round\":1,\"part\":3,\"parts\":1,\"seq\":0,\"keys\":[]}",
    "{\"type\":\"crdt_state\",\"inc\":1,\"round\":1,\"part\":0,\"parts\":1,\"seq\":0,\"keys\":[[\"k\",{\"t\":\"gcounter\",\"p\":[0,0,0,0,9]},{}]]}",
    "{\"type\":\"crdt_state\",\"inc\":1,\"round\":1,\"part\":0,\"parts\":1,\"seq\":0,\"keys\":[[\"k\",{\"t\":\"gcounter\"},{\"v\":\"x\"}]]}",
    "{\"type\":\"crdt_state\",\"inc\":1,\"round\":1,\"part\":0,\"parts\":1,\"seq\":0,\"keys\":[\"k\"]}",
    "{\"type\":\"crdt_delta\",\"inc\":1,\"from\":1,\"to\":5,\"deltas\":[]}",
    "{\"type\":\"crdt_delta\",\"inc\":1,\"from\":0,\"to\":0,\"deltas\":[]}",
    "{\"type\":\"crdt_ack\",\"inc\":-1,\"upto\":0,\"me\":1}",
};

/* Peer messages are delivered straight to a node's handlers, as a peer would send them. */
START_TEST(malformed_peer_messages_are_dropped_with_an_error_event_and_the_node_keeps_serving)
{
    static const char *const keep[] = {"error", NULL};
    struct fixture *f = fixture_new(&mode_crdt, 3, "", 1);
    fixture_keep(f, keep);
    json_t *body = json_loads(bad_peer[_i], 0, NULL);
    ck_assert(body);
    mode_dispatch(&mode_crdt, sim_state(f->s, 0), "n2", body);
    json_decref(body);
    fixture_run(f, 10 * MS);
    ck_assert_msg(fixture_count(f, "error", NULL, NULL) >= 1, "no error event for %s", bad_peer[_i]);
    update_ok(f, 0, "k", NULL, "inc", NULL, 1);
    json_t *v = read_at(f, 0, "k");
    ck_assert_int_eq(json_integer_value(v), 1);
    json_decref(v);
    fixture_free(&f);
}
END_TEST


/* ---- sync=op: causal delivery, and the bug that drops it ---------------------------------------- */

/* n1's add reaches n2 but not n3 (a one-way cut); n2 removes it; n3 gets n2's remove first. */
static void remove_overtakes_add(struct fixture *f)
{
    faults_cut(sim_faults(f->s), 0, 2);
    update_ok(f, 0, "s", NULL, "add", "milk", 1);
    fixture_run(f, 500 * MS);
    json_t *v = read_at(f, 1, "s");
    ck_assert_int_eq(json_array_size(v), 1);
    json_decref(v);
    update_ok(f, 1, "s", NULL, "rem", "milk", 1);
    fixture_run(f, 500 * MS);
    faults_heal(sim_faults(f->s));
}

START_TEST(op_based_sync_holds_a_remove_until_its_add_is_applied)
{
    static const char *const keep[] = {"buffer", "deliver", NULL};
    struct fixture *f = fixture_new(&mode_crdt, 3, "sync=op", 12);
    fixture_keep(f, keep);
    remove_overtakes_add(f);
    ck_assert_int_ge(fixture_count(f, "buffer", "node", "n3"), 1);
    await_convergence(f);
    for (int n = 0; n < 3; n++) {
        json_t *v = read_at(f, n, "s");
        ck_assert_int_eq(json_array_size(v), 0);
        json_decref(v);
    }
    FIXTURE_OK(f);
    fixture_free(&f);
}
END_TEST

START_TEST(no_causal_bug_diverges_and_the_monitor_catches_it_on_a_fixed_seed)
{
    struct fixture *f = fixture_new(&mode_crdt, 3, "sync=op bug=no-causal", 12);
    remove_overtakes_add(f);
    fixture_run(f, 2 * SEC);
    ck_assert_msg(strstr(f->fail, "Convergence"), "the monitor should catch no-causal: %s", f->fail);
    fixture_free(&f);
}
END_TEST

START_TEST(op_based_counters_sets_and_restarts_converge)
{
    struct fixture *f = fixture_new(&mode_crdt, 3, "sync=op", 13);
    struct faults *fl = sim_faults(f->s);
    faults_set_dup(fl, -1, -1, 0.3);
    faults_set_reorder(fl, -1, -1, 0.3);
    for (int i = 0; i < 12; i++) {
        char e[8];
        snprintf(e, sizeof e, "e%d", i % 4);
        update_ok(f, i % 3, "c", NULL, "inc", NULL, 1 + i);
        update_ok(f, (i + 1) % 3, "s", NULL, i % 3 == 2 ? "rem" : "add", e, 1);
        update_ok(f, (i + 2) % 3, "b", "cart", i % 5 == 4 ? "rem" : "add", e, 2);
        if (i == 6) {
            sim_crash(f->s, 2);
            fixture_run(f, 100 * MS);
            sim_restart(f->s, 2);
        }
    }
    await_convergence(f);
    json_t *v = read_at(f, 2, "c");
    ck_assert_int_eq(json_integer_value(v), 78);
    json_decref(v);
    FIXTURE_OK(f);
    fixture_free(&f);
}
END_TEST

START_TEST(no_causal_needs_op_sync)
{
    char err[256];
    struct fixture *f = fixture_try_new(&mode_crdt, 3, "sync=delta bug=no-causal", 1, err, sizeof err);
    ck_assert_ptr_null(f);
    ck_assert_msg(strstr(err, "sync=op"), "%s", err);
}
END_TEST

/* ---- check crdt ------------------------------------------------------------------------------------ */

/* Runs the mode's `crdt` check on the fixture's monitor and the nodes' statuses. */
/* ---- the moment of convergence (the monitor's note, a `converged` event on the dashboard) ---- */

struct notes {
    struct fixture *f;
    json_t *seen; /* every note, in order */
};

static void note_event(void *ud, const json_t *ev)
{
    struct notes *n = ud;
    (void)ev;
    const json_t *note = mode_crdt.monitor->note(n->f->mon);
    if (note)
        json_array_append(n->seen, (json_t *)note);
}

START_TEST(the_monitor_marks_the_moment_diverged_replicas_converge)
{
    struct fixture *f = fixture_new(&mode_crdt, 3, all_syncs[_i], 41);
    struct notes n = {f, json_array()};
    /* the lab feeds the cluster event first: the monitor learns how many replicas there are */
    json_t *cl = json_pack("{s:I,s:s,s:s,s:s,s:[s,s,s],s:{}}", "t", (json_int_t)0, "node", "lab", "ev", "cluster", "mode",
                           "crdt", "nodes", "n1", "n2", "n3", "options");
    struct sb alert = {0};
    mode_crdt.monitor->feed(f->mon, cl, &alert);
    json_decref(cl);
    sb_free(&alert);
    fixture_watch(f, note_event, NULL, &n);
    /* one writer at a time: replicas lag, but nothing is concurrent, nothing to mark */
    update_ok(f, 0, "hits", "pncounter", "inc", NULL, 2);
    await_convergence(f);
    fixture_run(f, 500 * MS);
    ck_assert_int_eq((int)json_array_size(n.seen), 0);
    partition(f, "n1 | n2,n3");
    update_ok(f, 0, "hits", NULL, "inc", NULL, 5);
    update_ok(f, 1, "hits", NULL, "inc", NULL, 3);
    fixture_run(f, 500 * MS);
    ck_assert_int_eq((int)json_array_size(n.seen), 0); /* diverged, not converged */
    faults_heal(sim_faults(f->s));
    await_convergence(f);
    fixture_run(f, 500 * MS);
    ck_assert_int_eq((int)json_array_size(n.seen), 1);
    const json_t *c = json_array_get(n.seen, 0);
    ck_assert_str_eq(json_string_value(json_object_get(c, "ev")), "converged");
    ck_assert_str_eq(json_string_value(json_object_get(c, "key")), "hits");
    ck_assert_int_eq(json_integer_value(json_object_get(c, "replicas")), 3);
    ck_assert_int_eq(json_integer_value(json_object_get(c, "value")), 10);
    ck_assert_int_gt(json_integer_value(json_object_get(c, "after_ms")), 0);
    json_decref(n.seen);
    fixture_free(&f);
}
END_TEST

static int check_crdt(struct fixture *f, struct sb *out)
{
    const struct mode_check *mc = mode_check_find(&mode_crdt, "crdt");
    ck_assert_ptr_nonnull(mc);
    json_t *st[CL_MAXNODES] = {0};
    for (int i = 0; i < f->n; i++)
        st[i] = sim_node_state(f->s, i) == SIM_UP ? sim_status(f->s, i) : NULL;
    int rc = mc->run(f->mon, (const json_t *const *)st, f->n, out);
    for (int i = 0; i < f->n; i++)
        json_decref(st[i]);
    return rc;
}

START_TEST(check_crdt_holds_for_every_type_after_faults_and_heal)
{
    struct fixture *f = fixture_new(&mode_crdt, 3, all_syncs[_i], 31);
    partition(f, "n1 | n2,n3");
    update_ok(f, 0, "hits", NULL, "inc", NULL, 5);
    update_ok(f, 1, "hits", NULL, "dec", NULL, 2);
    update_ok(f, 2, "views", "gcounter", "inc", NULL, 3);
    update_ok(f, 0, "g", "gset", "add", "a", 1);
    update_ok(f, 1, "g", "gset", "add", "b", 1);
    update_ok(f, 0, "t", "2pset", "add", "x", 1);
    update_ok(f, 0, "t", NULL, "rem", "x", 1);
    update_ok(f, 0, "cart", NULL, "add", "milk", 1);
    update_ok(f, 1, "cart", NULL, "add", "milk", 1);
    update_ok(f, 1, "cart", NULL, "rem", "milk", 1);
    update_ok(f, 2, "basket", "cart", "add", "eggs", 6);
    update_ok(f, 0, "x", "lww", "set", "v1", 1);
    update_ok(f, 1, "x", "lww", "set", "v2", 1);
    update_ok(f, 0, "y", "mv", "set", "a", 1);
    update_ok(f, 2, "y", "mv", "set", "b", 1);
    json_t *r = read_at(f, 1, "hits");
    json_decref(r);
    struct sb out = {0};
    /* during the partition the replicas cannot all have seen everything */
    ck_assert_int_eq(check_crdt(f, &out), 2);
    sb_free(&out);
    faults_heal(sim_faults(f->s));
    await_convergence(f);
    int rc = check_crdt(f, &out);
    ck_assert_msg(rc == 0, "%s", out.s);
    ck_assert_msg(strstr(out.s, "cart (orset"), "%s", out.s);
    sb_free(&out);
    fixture_free(&f);
}
END_TEST

START_TEST(check_crdt_catches_merge_sum_and_no_causal)
{
    struct fixture *f = fixture_new(&mode_crdt, 3, "sync=state bug=merge-sum", 3);
    f->use_monitor = 1;
    update_ok(f, 0, "hits", NULL, "inc", NULL, 5);
    f->fail[0] = 0;
    fixture_run(f, SEC);
    f->fail[0] = 0;
    json_t *r = read_at(f, 1, "hits");
    json_decref(r);
    struct sb out = {0};
    ck_assert_int_eq(check_crdt(f, &out), 1);
    ck_assert_msg(strstr(out.s, "VIOLATED"), "%s", out.s);
    sb_free(&out);
    fixture_free(&f);

    f = fixture_new(&mode_crdt, 3, "sync=op bug=no-causal", 12);
    remove_overtakes_add(f);
    fixture_run(f, 2 * SEC);
    ck_assert_int_eq(check_crdt(f, &out), 1);
    ck_assert_msg(strstr(out.s, "n3 has seen every update but holds [\"milk\"]"), "%s", out.s);
    sb_free(&out);
    fixture_free(&f);
}
END_TEST


/* Any JSON value as an element, an item or a register value (Maelstrom's g-set sends integers):
 * kept as its value text, read back as the same JSON value; 42 and "42" are two elements. */
START_TEST(elements_and_values_are_any_json_on_the_wire_and_check_crdt_judges_them)
{
    struct fixture *f = fixture_new(&mode_crdt, 3, all_syncs[_i], 41);
    f->use_monitor = 1;
    partition(f, "n1 | n2,n3");
    json_decref(call(f, 0, json_pack("{s:s,s:i}", "type", "add", "element", 42)));
    json_decref(call(f, 1, json_pack("{s:s,s:s}", "type", "add", "element", "42")));
    json_decref(call(f, 2, json_pack("{s:s,s:{s:[i,i]}}", "type", "add", "element", "k", 1, 2)));
    json_decref(call(f, 2, json_pack("{s:s,s:i}", "type", "add", "element", 42)));
    json_t *r = call(f, 0, json_pack("{s:s,s:s,s:s,s:i}", "type", "update", "key", "s", "op", "add", "elem", 7));
    ck_assert_str_eq(json_string_value(json_object_get(r, "type")), "update_ok");
    ck_assert_int_eq(json_integer_value(json_array_get(json_object_get(r, "value"), 0)), 7);
    json_decref(r);
    json_decref(call(f, 1, json_pack("{s:s,s:s,s:s,s:b}", "type", "update", "key", "s", "op", "add", "elem", 1)));
    json_decref(call(f, 1, json_pack("{s:s,s:s,s:s,s:s,s:i,s:i}", "type", "update", "key", "c", "crdt", "cart", "op", "add",
                                     "elem", 5, "n", 2)));
    json_decref(call(f, 0, json_pack("{s:s,s:s,s:i}", "type", "write", "key", "r", "value", 9)));
    faults_heal(sim_faults(f->s));
    await_convergence(f);
    for (int node = 0; node < 3; node++) {
        json_t *v = read_at(f, node, "set");
        char *t = json_dumps(v, JSON_COMPACT);
        ck_assert_msg(json_array_size(v) == 3, "n%d: %s", node + 1, t);
        int num = 0, str = 0, obj = 0;
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x) {
            num += json_is_integer(x) && json_integer_value(x) == 42;
            str += json_is_string(x) && !strcmp(json_string_value(x), "42");
            obj += json_is_object(x) && json_array_size(json_object_get(x, "k")) == 2;
        }
        ck_assert_msg(num == 1 && str == 1 && obj == 1, "n%d: %s", node + 1, t);
        free(t);
        json_decref(v);
        v = read_at(f, node, "s");
        t = json_dumps(v, JSON_COMPACT);
        ck_assert_msg(!strcmp(t, "[7,true]"), "n%d: s = %s", node + 1, t);
        free(t);
        json_decref(v);
        v = read_at(f, node, "c");
        ck_assert_int_eq(json_integer_value(json_object_get(v, "5")), 2);
        json_decref(v);
        v = read_at(f, node, "r");
        ck_assert(json_is_integer(v) && json_integer_value(v) == 9);
        json_decref(v);
    }
    /* a keyless Maelstrom read is the set */
    r = call(f, 2, json_pack("{s:s}", "type", "read"));
    ck_assert_int_eq(json_array_size(json_object_get(r, "value")), 3);
    json_decref(r);
    struct sb out = {0};
    int rc = check_crdt(f, &out);
    ck_assert_msg(rc == 0, "%s", out.s);
    sb_free(&out);
    fixture_free(&f);
}
END_TEST

/* maelstrom=g-set|g-counter|pn-counter: what a keyless read reads before any add, and a
 * g-counter refuses to shrink. */
START_TEST(maelstrom_option_names_the_workload_of_keyless_bodies)
{
    struct fixture *f = fixture_new(&mode_crdt, 3, "maelstrom=g-set", 5);
    json_t *r = call(f, 0, json_pack("{s:s}", "type", "read"));
    ck_assert(json_is_array(json_object_get(r, "value")) && json_array_size(json_object_get(r, "value")) == 0);
    json_decref(r);
    fixture_free(&f);
    f = fixture_new(&mode_crdt, 3, "maelstrom=g-counter", 5);
    r = call(f, 0, json_pack("{s:s}", "type", "read"));
    ck_assert_int_eq(json_integer_value(json_object_get(r, "value")), 0);
    json_decref(r);
    r = call(f, 1, json_pack("{s:s,s:i}", "type", "add", "delta", -1));
    ck_assert_str_eq(json_string_value(json_object_get(r, "type")), "error");
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(r, "text")), "only grows"));
    json_decref(r);
    json_decref(call(f, 1, json_pack("{s:s,s:i}", "type", "add", "delta", 4)));
    await_convergence(f);
    r = call(f, 2, json_pack("{s:s,s:s}", "type", "read", "key", "counter"));
    ck_assert_str_eq(json_string_value(json_object_get(r, "crdt")), "gcounter");
    ck_assert_int_eq(json_integer_value(json_object_get(r, "value")), 4);
    json_decref(r);
    fixture_free(&f);
}
END_TEST

/* The digest's state table (crdtview.c): every type's entries, bounded. */
START_TEST(digest_state_tables_show_each_types_internals_bounded)
{
    static const char names[3][CL_IDLEN] = {"n1", "n2", "n3"};
    char err[200];
    struct crdt *c = crdt_new(CRDT_PNCOUNTER);
    crdt_free((struct crdt *[]){crdt_add(c, 0, 5, err, sizeof err)});
    crdt_free((struct crdt *[]){crdt_add(c, 2, -1, err, sizeof err)});
    json_t *t = crdtview_table(c, 3, names);
    char *s = json_dumps(t, JSON_COMPACT);
    ck_assert_msg(strstr(s, "\"cols\":[\"P\",\"N\"],\"rows\":[[\"n1\",\"5\",\"0\"],[\"n2\",\"0\",\"0\"],[\"n3\",\"0\",\"1\"]]"), "%s", s);
    free(s);
    json_decref(t);
    crdt_free(&c);
    /* an OR-Set: elements with their dots, the removed dots, at most CRDTVIEW_ROWS rows */
    c = crdt_new(CRDT_ORSET);
    for (int i = 0; i < 20; i++) {
        char e[16];
        snprintf(e, sizeof e, "e%02d", i);
        crdt_free((struct crdt *[]){crdt_insert(c, e, (struct crdt_dot){i % 3, (uint64_t)i + 1}, 1, err, sizeof err)});
    }
    for (int i = 0; i < 9; i++) /* one element with many dots */
        crdt_free((struct crdt *[]){crdt_insert(c, "e00", (struct crdt_dot){1, 100 + (uint64_t)i}, 1, err, sizeof err)});
    size_t removed;
    crdt_free((struct crdt *[]){crdt_remove(c, "e19", &removed, err, sizeof err)});
    crdt_free((struct crdt *[]){crdt_insert(c, "42", (struct crdt_dot){0, 500}, 1, err, sizeof err)});
    t = crdtview_table(c, 3, names);
    s = json_dumps(t, JSON_COMPACT);
    ck_assert_int_eq(json_array_size(json_object_get(t, "rows")), CRDTVIEW_ROWS);
    ck_assert_int_eq(json_integer_value(json_object_get(t, "more")), 20 - CRDTVIEW_ROWS);
    ck_assert_msg(strstr(s, "[\"42\",\"n1:500\"]"), "%s", s);
    ck_assert_msg(strstr(s, "[\"e00\",\"n1:1 n2:100 n2:101 n2:102 n2:103 +5\"]"), "%s", s);
    ck_assert_msg(strstr(s, "\"foot\":[[\"removed\",\"n2:20\"]]"), "%s", s);
    ck_assert_ptr_nonnull(json_object_get(t, "about"));
    free(s);
    json_decref(t);
    crdt_free(&c);
    /* a 2P-Set's tombstone, an MV-Register's siblings, an LWW stamp, a cart, a long element */
    c = crdt_new(CRDT_2PSET);
    crdt_free((struct crdt *[]){crdt_insert(c, "a", (struct crdt_dot){0, 1}, 1, err, sizeof err)});
    crdt_free((struct crdt *[]){crdt_remove(c, "a", &removed, err, sizeof err)});
    t = crdtview_table(c, 3, names);
    s = json_dumps(t, JSON_COMPACT);
    ck_assert_msg(strstr(s, "[[\"a\",\"removed\"]]"), "%s", s);
    free(s);
    json_decref(t);
    crdt_free(&c);
    c = crdt_new(CRDT_MV);
    struct crdt *d = crdt_copy(c);
    crdt_free((struct crdt *[]){crdt_assign(c, "v1", 0, 1, err, sizeof err)});
    crdt_free((struct crdt *[]){crdt_assign(d, "v2", 1, 1, err, sizeof err)});
    crdt_merge(c, d, 0);
    crdt_free(&d);
    t = crdtview_table(c, 3, names);
    s = json_dumps(t, JSON_COMPACT);
    ck_assert_msg(strstr(s, "[[\"v1\",\"n1:1\"],[\"v2\",\"n2:1\"]]"), "%s", s);
    free(s);
    json_decref(t);
    crdt_free(&c);
    c = crdt_new(CRDT_LWW);
    crdt_free((struct crdt *[]){crdt_assign(c, "x", 1, 3723000004ull, err, sizeof err)});
    t = crdtview_table(c, 3, names);
    s = json_dumps(t, JSON_COMPACT);
    ck_assert_msg(strstr(s, "[[\"value\",\"x\"],[\"stamp\",\"01:02:03.000004\"],[\"writer\",\"n2\"]]"), "%s", s);
    free(s);
    json_decref(t);
    crdt_free(&c);
    c = crdt_new(CRDT_CART);
    char longe[200];
    memset(longe, 'z', sizeof longe - 1);
    longe[sizeof longe - 1] = 0;
    crdt_free((struct crdt *[]){crdt_insert(c, "milk", (struct crdt_dot){0, 1}, 2, err, sizeof err)});
    crdt_free((struct crdt *[]){crdt_insert(c, "milk", (struct crdt_dot){1, 1}, 1, err, sizeof err)});
    crdt_free((struct crdt *[]){crdt_insert(c, longe, (struct crdt_dot){2, 1}, 1, err, sizeof err)});
    t = crdtview_table(c, 3, names);
    s = json_dumps(t, JSON_COMPACT);
    ck_assert_msg(strstr(s, "[\"milk\",\"3\",\"n1:1+2 n2:1+1\"]"), "%s", s);
    ck_assert_msg(strstr(s, "zzz\xe2\x80\xa6\""), "%s", s);
    ck_assert_int_le(strlen(json_string_value(json_array_get(json_array_get(json_object_get(t, "rows"), 1), 0))), CRDTVIEW_CELL);
    free(s);
    json_decref(t);
    crdt_free(&c);
}
END_TEST

Suite *suite_crdtmode(void);
Suite *suite_crdtmode(void)
{
    Suite *s = suite_create("crdtmode");
    TCase *tc = tcase_create("crdtmode");
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, c1_counters_are_bounded_during_faults_and_exact_after_heal, 0, (int)CL_ARRAY_LEN(syncs));
    tcase_add_loop_test(tc, c2_or_set_concurrent_add_and_remove_across_a_partition_add_wins, 0, (int)CL_ARRAY_LEN(syncs));
    tcase_add_test(tc, cart_keeps_the_item_a_concurrent_remove_did_not_see);
    tcase_add_loop_test(tc, c4_redelivery_reordering_and_restarts_change_nothing, 0, (int)CL_ARRAY_LEN(syncs));
    tcase_add_test(tc, c5_lww_register_loses_a_causally_later_write_under_skew_mv_keeps_it);
    tcase_add_test(tc, merge_sum_bug_is_caught_by_the_monitor_on_a_fixed_seed);
    tcase_add_test(tc, delta_sync_ships_fewer_bytes_than_state_sync);
    tcase_add_loop_test(tc, bad_client_requests_get_an_error_naming_the_problem, 0, (int)CL_ARRAY_LEN(bad_requests));
    tcase_add_test(tc, a_key_keeps_its_type);
    tcase_add_test(tc, maelstrom_counter_and_set_workloads_work);
    tcase_add_loop_test(tc, malformed_peer_messages_are_dropped_with_an_error_event_and_the_node_keeps_serving, 0,
                        (int)CL_ARRAY_LEN(bad_peer));
    tcase_add_test(tc, op_based_sync_holds_a_remove_until_its_add_is_applied);
    tcase_add_test(tc, no_causal_bug_diverges_and_the_monitor_catches_it_on_a_fixed_seed);
    tcase_add_test(tc, op_based_counters_sets_and_restarts_converge);
    tcase_add_test(tc, no_causal_needs_op_sync);
    tcase_add_loop_test(tc, check_crdt_holds_for_every_type_after_faults_and_heal, 0, (int)CL_ARRAY_LEN(all_syncs));
    tcase_add_loop_test(tc, the_monitor_marks_the_moment_diverged_replicas_converge, 0, (int)CL_ARRAY_LEN(all_syncs));
    tcase_add_test(tc, check_crdt_catches_merge_sum_and_no_causal);
    tcase_add_loop_test(tc, elements_and_values_are_any_json_on_the_wire_and_check_crdt_judges_them, 0, 4);
    tcase_add_test(tc, maelstrom_option_names_the_workload_of_keyless_bodies);
    tcase_add_test(tc, digest_state_tables_show_each_types_internals_bounded);
    suite_add_tcase(s, tc);
    return s;
}
