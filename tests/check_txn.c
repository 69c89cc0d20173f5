/* check_txn — the txn mode (two- and three-phase commit) in the simulator: scenarios T1–T7 of
 * SCENARIOS.md, lock waits made visible, the bug toggles caught by the mode's monitor, bad
 * input refused, and a seed sweep of transfers under coordinator and participant crashes in
 * which every transaction is atomic and the bank's total is conserved.
 *
 * Runs go through the test fixture (tests/fixture.h), which feeds every event to the mode's
 * monitor (txnmon.c) and fails on its first alert; the anomaly tests (T7, the bugs) feed a
 * monitor of their own instead and require that it fires.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "faults.h"
#include "fixture.h"
#include "mode.h"
#include "sim.h"
#include "test_util.h"
#include "txn.h"

#define MS 1000ull
#define SEC 1000000ull

static const char *const kept[] = {"txn_state", "decision", "txn_end", "lock_wait", "lock_grant", "lock_timeout",
                                   "blocked", "crashpoint", "lock_refused", "recover", "txn_vote", "saga_step",
                                   "compensate", "step_applied", NULL};

static struct fixture *fx(const char *opts, uint64_t seed)
{
    struct fixture *f = fixture_new(&mode_txn, 4, opts, seed);
    fixture_keep(f, kept);
    fixture_direct(f, 1);
    fixture_run(f, 50 * MS);
    return f;
}

/* The anomaly tests' own monitor: counts alerts instead of failing the run. */
struct own {
    void *mon;
    struct sb alert;
    int alerts;
};

static void own_event(void *ud, const json_t *ev)
{
    struct own *o = ud;
    o->alerts += txn_monitor.feed(o->mon, ev, &o->alert);
}

static void own_watch(struct fixture *f, struct own *o)
{
    memset(o, 0, sizeof *o);
    o->mon = txn_monitor.create();
    f->use_monitor = 0;
    fixture_watch(f, own_event, NULL, o);
}

static void own_free(struct own *o)
{
    txn_monitor.destroy(o->mon);
    sb_free(&o->alert);
}

static json_t *transfer_body(const char *from, const char *to, int amount)
{
    return json_pack("{s:s,s:s,s:s,s:i}", "type", "transfer", "from", from, "to", to, "amount", amount);
}

static const char *reply_type(const json_t *r)
{
    return r ? json_string_value(json_object_get(r, "type")) : "(none)";
}

/* The value of key on node idx as a number (-1 when absent). */
static long long balance(struct fixture *f, int idx, const char *key)
{
    json_t *st = sim_status(f->s, idx);
    const char *v = json_string_value(json_object_get(json_object_get(st, "data"), key));
    long long x = v ? atoll(v) : -1;
    json_decref(st);
    return x;
}

static long long bank_total(struct fixture *f)
{
    long long t = 0;
    for (int i = 0; i < txn_account_count(); i++)
        t += balance(f, txn_shard(4, txn_account_name(i)), txn_account_name(i));
    return t;
}

static const char *role(struct fixture *f, int idx)
{
    static char r[32];
    json_t *st = sim_status(f->s, idx);
    str_copy(r, st ? json_string_value(json_object_get(st, "role")) : "down", sizeof r);
    json_decref(st);
    return r;
}

static const char *figure(struct fixture *f, int idx, const char *key)
{
    static char r[256];
    json_t *st = sim_status(f->s, idx);
    const char *v = json_string_value(json_object_get(st, key));
    str_copy(r, v ? v : "", sizeof r);
    json_decref(st);
    return r;
}

static json_t *command(struct fixture *f, int idx, const char *name, const char *a1, const char *a2, const char *a3)
{
    char *argv[4] = {(char *)a1, (char *)a2, (char *)a3, NULL};
    int argc = a3 ? 3 : a2 ? 2 : a1 ? 1 : 0;
    return sim_command(f->s, idx, name, argc, argv);
}

static void crashpoint(struct fixture *f, int idx, const char *at)
{
    char id[8];
    snprintf(id, sizeof id, "n%d", idx + 1);
    json_t *r = command(f, idx, "crashpoint", id, at, NULL);
    ck_assert_msg(json_is_true(json_object_get(r, "ok")), "crashpoint %s: %s", at,
                  json_string_value(json_object_get(r, "text")));
    json_decref(r);
}

struct role_wait {
    struct fixture *f;
    int idx;
    const char *role;
};

static int role_is(void *ud)
{
    struct role_wait *w = ud;
    return sim_node_state(w->f->s, w->idx) != SIM_DOWN && !strcmp(role(w->f, w->idx), w->role);
}

static int wait_role(struct fixture *f, int idx, const char *r, uint64_t us)
{
    struct role_wait w = {f, idx, r};
    return fixture_run_until(f, us, role_is, &w);
}

/* Kept events ev whose field is true. */
static int count_true(struct fixture *f, const char *ev, const char *field)
{
    int n = 0;
    size_t i;
    const json_t *e;
    json_array_foreach(f->events, i, e)
        n += !strcmp(json_string_value(json_object_get(e, "ev")), ev) && json_is_true(json_object_get(e, field));
    return n;
}

/* ---- T1, T2 ------------------------------------------------------------------------------- */

START_TEST(t1_happy_path_commits_on_every_shard_and_conserves_the_total)
{
    struct fixture *f = fx("", 1);
    ck_assert_int_eq(bank_total(f), 600);
    json_t *r = fixture_call(f, 0, transfer_body("alice", "bob", 30), 5 * SEC);
    ck_assert_str_eq(reply_type(r), "transfer_ok");
    json_decref(r);
    ck_assert_int_eq(balance(f, 1, "alice"), 70);
    ck_assert_int_eq(balance(f, 2, "bob"), 130);
    r = fixture_call(f, 0, transfer_body("carol", "dave", 5), 5 * SEC);
    ck_assert_str_eq(reply_type(r), "transfer_ok");
    json_decref(r);
    ck_assert_int_eq(bank_total(f), 600);
    /* a multi-key transaction reads what the transfers wrote */
    r = fixture_call(f, 0, json_pack("{s:s,s:[[s,s,n],[s,s,s],[s,s,n]]}", "type", "txn", "txn", "r", "alice", "w", "x", "7",
                                     "r", "bob"), 5 * SEC);
    ck_assert_str_eq(reply_type(r), "txn_ok");
    ck_assert_str_eq(json_string_value(json_array_get(json_array_get(json_object_get(r, "txn"), 0), 2)), "70");
    ck_assert_str_eq(json_string_value(json_array_get(json_array_get(json_object_get(r, "txn"), 2), 2)), "130");
    json_decref(r);
    ck_assert_int_eq(fixture_count(f, "txn_end", "outcome", "commit"), 3);
    ck_assert_int_eq(fixture_count(f, "txn_state", "state", "aborted"), 0);
    ck_assert_str_eq(figure(f, 1, "locks"), "");
    FIXTURE_OK(f);
    fixture_free(&f);
}
END_TEST

START_TEST(t2_a_no_vote_aborts_on_every_shard)
{
    struct fixture *f = fx("", 2);
    json_t *r = fixture_call(f, 0, transfer_body("alice", "bob", 500), 5 * SEC);
    ck_assert_str_eq(reply_type(r), "error");
    ck_assert_int_eq(json_integer_value(json_object_get(r, "code")), 30);
    ck_assert_msg(strstr(json_string_value(json_object_get(r, "text")), "alice would go negative"), "%s",
                  json_string_value(json_object_get(r, "text")));
    json_decref(r);
    ck_assert_int_eq(fixture_count(f, "txn_vote", "vote", "no"), 1);
    ck_assert_int_eq(fixture_count(f, "txn_state", "state", "aborted"), 2);
    ck_assert_int_eq(fixture_count(f, "txn_state", "state", "committed"), 0);
    ck_assert_int_eq(balance(f, 1, "alice"), 100);
    ck_assert_int_eq(balance(f, 2, "bob"), 100);
    FIXTURE_OK(f);
    fixture_free(&f);
}
END_TEST

/* ---- T3, T4 ------------------------------------------------------------------------------- */

START_TEST(t3_coordinator_crash_after_prepare_blocks_the_participants_until_it_restarts)
{
    struct fixture *f = fx("", 3);
    crashpoint(f, 0, "prepare");
    int p = fixture_send(f, 0, transfer_body("alice", "bob", 10));
    ck_assert(wait_role(f, 0, "halted", 2 * SEC));
    ck_assert(wait_role(f, 1, "blocked", 2 * SEC));
    ck_assert(wait_role(f, 2, "blocked", 2 * SEC));
    sim_crash(f->s, 0);
    /* blocked for as long as the coordinator is away: the locks stay, reads are refused */
    fixture_run(f, 3 * SEC);
    ck_assert_str_eq(role(f, 1), "blocked");
    ck_assert_str_eq(figure(f, 1, "locks"), "alice:t1");
    ck_assert_str_eq(figure(f, 1, "indoubt"), "t1!");
    json_t *r = fixture_call(f, 1, json_pack("{s:s,s:s}", "type", "read", "key", "alice"), SEC);
    ck_assert_int_eq(json_integer_value(json_object_get(r, "code")), 11);
    ck_assert_msg(strstr(json_string_value(json_object_get(r, "text")), "locked by t1"), "%s",
                  json_string_value(json_object_get(r, "text")));
    json_decref(r);
    ck_assert_int_ge(fixture_count(f, "lock_refused", NULL, NULL), 1);
    ck_assert_int_eq(fixture_count(f, "blocked", NULL, NULL), 2);
    ck_assert_int_eq(fixture_count(f, "txn_state", "state", "aborted"), 0);
    /* the restarted coordinator has no decision: presumed abort resolves everyone */
    sim_restart(f->s, 0);
    ck_assert(wait_role(f, 1, "participant", 3 * SEC));
    ck_assert(wait_role(f, 2, "participant", 3 * SEC));
    ck_assert_int_eq(fixture_count(f, "txn_state", "state", "aborted"), 2);
    ck_assert_int_eq(balance(f, 1, "alice"), 100);
    ck_assert_int_ne(fixture_await(f, p, SEC), SIMOP_OK);
    /* and the cluster goes on with a new id */
    r = fixture_call(f, 0, transfer_body("alice", "bob", 10), 5 * SEC);
    ck_assert_str_eq(reply_type(r), "transfer_ok");
    ck_assert_str_ne(json_string_value(json_object_get(r, "txn")), "t1");
    json_decref(r);
    ck_assert_int_eq(bank_total(f), 600);
    FIXTURE_OK(f);
    fixture_free(&f);
}
END_TEST

static void crash_after(const char *at, uint64_t seed)
{
    struct fixture *f = fx("", seed);
    crashpoint(f, 0, at);
    fixture_send(f, 0, transfer_body("alice", "bob", 10));
    ck_assert(wait_role(f, 0, "halted", 2 * SEC));
    fixture_run(f, SEC);
    sim_crash(f->s, 0);
    sim_restart(f->s, 0);
    ck_assert(wait_role(f, 1, "participant", 3 * SEC));
    ck_assert(wait_role(f, 2, "participant", 3 * SEC));
    ck_assert_int_eq(balance(f, 1, "alice"), 90);
    ck_assert_int_eq(balance(f, 2, "bob"), 110);
    ck_assert_int_eq(fixture_count(f, "txn_state", "state", "committed"), 2);
    ck_assert_int_eq(fixture_count(f, "txn_state", "state", "aborted"), 0);
    ck_assert_int_eq(fixture_count(f, "recover", "decision", "commit"), 1);
    FIXTURE_OK(f);
    fixture_free(&f);
}

START_TEST(t4_crash_after_the_decision_is_logged_commits_everywhere_on_recovery)
{
    crash_after("decision", 4);
}
END_TEST

START_TEST(t4_crash_after_sending_to_one_participant_commits_the_others_on_recovery)
{
    crash_after("send", 5);
}
END_TEST

/* ---- T5 ------------------------------------------------------------------------------------ */

START_TEST(t5_participant_crash_after_yes_asks_for_and_applies_the_outcome)
{
    struct fixture *f = fx("", 6);
    crashpoint(f, 1, "vote");
    int p = fixture_send(f, 0, transfer_body("alice", "bob", 25));
    ck_assert(wait_role(f, 1, "halted", 2 * SEC));
    sim_crash(f->s, 1);
    fixture_run(f, SEC);
    ck_assert_int_eq(fixture_count(f, "decision", "outcome", "commit"), 1);
    sim_restart(f->s, 1);
    ck_assert(wait_role(f, 1, "participant", 3 * SEC));
    ck_assert_int_eq(fixture_await(f, p, 3 * SEC), SIMOP_OK);
    ck_assert_int_eq(balance(f, 1, "alice"), 75);
    ck_assert_int_eq(balance(f, 2, "bob"), 125);
    ck_assert_int_eq(fixture_count(f, "txn_state", "state", "in-doubt"), 1);
    ck_assert_int_eq(fixture_count(f, "txn_state", "state", "aborted"), 0);
    FIXTURE_OK(f);
    fixture_free(&f);
}
END_TEST

/* ---- T6, T7 (3pc) --------------------------------------------------------------------------- */

static json_t *three_shard_body(void)
{
    return json_pack("{s:s,s:[[s,s,i],[s,s,i],[s,s,i]]}", "type", "txn", "txn", "add", "alice", -10, "add", "bob", 5,
                     "add", "carol", 5);
}

START_TEST(t6_3pc_coordinator_crash_in_precommit_terminates_without_waiting)
{
    struct fixture *f = fx("protocol=3pc", 7);
    crashpoint(f, 0, "precommit");
    fixture_send(f, 0, three_shard_body());
    ck_assert(wait_role(f, 0, "halted", 2 * SEC));
    sim_crash(f->s, 0);
    /* without the coordinator: the precommitted one tells the others, all commit */
    fixture_run(f, 3 * SEC);
    ck_assert_int_eq(fixture_count(f, "txn_state", "state", "committed"), 3);
    ck_assert_int_eq(fixture_count(f, "txn_state", "state", "aborted"), 0);
    ck_assert_int_eq(balance(f, 1, "alice"), 90);
    ck_assert_int_eq(balance(f, 3, "carol"), 105);
    ck_assert_int_eq(bank_total(f), 600);
    FIXTURE_OK(f);
    fixture_free(&f);
}
END_TEST

START_TEST(t6_3pc_crash_before_precommit_aborts_without_waiting)
{
    struct fixture *f = fx("protocol=3pc", 8);
    crashpoint(f, 0, "prepare");
    fixture_send(f, 0, three_shard_body());
    ck_assert(wait_role(f, 0, "halted", 2 * SEC));
    sim_crash(f->s, 0);
    fixture_run(f, 3 * SEC);
    ck_assert_int_eq(fixture_count(f, "txn_state", "state", "aborted"), 3);
    ck_assert_int_eq(fixture_count(f, "blocked", NULL, NULL), 0);
    ck_assert_int_eq(bank_total(f), 600);
    ck_assert_int_eq(balance(f, 1, "alice"), 100);
    FIXTURE_OK(f);
    fixture_free(&f);
}
END_TEST

START_TEST(t7_3pc_partition_during_precommit_commits_one_side_and_aborts_the_other)
{
    struct fixture *f = fx("protocol=3pc", 9);
    struct own o;
    own_watch(f, &o);
    crashpoint(f, 0, "precommit");
    fixture_send(f, 0, three_shard_body());
    ck_assert(wait_role(f, 0, "halted", 2 * SEC));
    char err[200];
    ck_assert_msg(faults_partition(sim_faults(f->s), "n1,n2|n3,n4", err, sizeof err) == 0, "%s", err);
    fixture_run(f, 3 * SEC);
    ck_assert_int_eq(fixture_count(f, "txn_state", "state", "committed"), 1);
    ck_assert_int_eq(fixture_count(f, "txn_state", "state", "aborted"), 2);
    ck_assert_int_eq(balance(f, 1, "alice"), 90);
    ck_assert_int_eq(balance(f, 2, "bob"), 100);
    ck_assert_int_ne(bank_total(f), 600);
    ck_assert_int_ge(o.alerts, 1);
    ck_assert_msg(strstr(o.alert.s, "Atomicity: n2 committed t1 but n"), "%s", o.alert.s);
    own_free(&o);
    fixture_free(&f);
}
END_TEST

/* ---- T8, T9, T10 (sagas) ------------------------------------------------------------------------ */

static json_t *failing_saga_body(void)
{
    return json_pack("{s:s,s:[[s,s,i],[s,s,i],[s,s,i]]}", "type", "txn", "txn", "add", "alice", -30, "add", "bob", 30,
                     "add", "carol", -1000);
}

START_TEST(t8_saga_step_3_fails_and_steps_2_then_1_are_compensated)
{
    struct fixture *f = fx("protocol=saga", 20);
    json_t *r = fixture_call(f, 0, transfer_body("alice", "bob", 30), 5 * SEC);
    ck_assert_str_eq(reply_type(r), "transfer_ok");
    json_decref(r);
    r = fixture_call(f, 0, failing_saga_body(), 5 * SEC);
    ck_assert_int_eq(json_integer_value(json_object_get(r, "code")), 30);
    ck_assert_msg(strstr(json_string_value(json_object_get(r, "text")), "compensated: step 3 failed: carol would go negative"),
                  "%s", json_string_value(json_object_get(r, "text")));
    json_decref(r);
    /* compensations: step 2 first, then step 1 */
    ck_assert_int_eq(fixture_count(f, "compensate", NULL, NULL), 2);
    const json_t *c1 = json_array_get(f->events, 0);
    size_t i;
    int order[2], k = 0;
    json_array_foreach(f->events, i, c1)
        if (!strcmp(json_string_value(json_object_get(c1, "ev")), "compensate") && k < 2)
            order[k++] = (int)json_integer_value(json_object_get(c1, "step"));
    ck_assert_int_eq(order[0], 2);
    ck_assert_int_eq(order[1], 1);
    ck_assert_int_eq(fixture_count(f, "txn_end", "outcome", "compensated"), 1);
    ck_assert_int_eq(balance(f, 1, "alice"), 70);
    ck_assert_int_eq(balance(f, 2, "bob"), 130);
    ck_assert_int_eq(bank_total(f), 600);
    FIXTURE_OK(f);
    fixture_free(&f);
}
END_TEST

START_TEST(t9_saga_orchestrator_crash_resumes_and_applies_every_step_once)
{
    struct fixture *f = fx("protocol=saga", 21);
    crashpoint(f, 0, "step");
    fixture_send(f, 0, transfer_body("alice", "bob", 10));
    ck_assert(wait_role(f, 0, "halted", 2 * SEC));
    fixture_run(f, SEC);
    sim_crash(f->s, 0);
    sim_restart(f->s, 0);
    fixture_run(f, 3 * SEC);
    ck_assert_int_eq(fixture_count(f, "txn_end", "outcome", "commit"), 1);
    /* step 1 was sent again after the restart: answered from memory, applied once */
    ck_assert_int_ge(count_true(f, "step_applied", "duplicate"), 1);
    ck_assert_int_eq(balance(f, 1, "alice"), 90);
    ck_assert_int_eq(balance(f, 2, "bob"), 110);
    /* and a failing saga crashed mid-compensation finishes compensating */
    crashpoint(f, 0, "step");
    fixture_send(f, 0, failing_saga_body());
    ck_assert(wait_role(f, 0, "halted", 2 * SEC));
    sim_crash(f->s, 0);
    sim_restart(f->s, 0);
    fixture_run(f, 3 * SEC);
    ck_assert_int_eq(fixture_count(f, "txn_end", "outcome", "compensated"), 1);
    ck_assert_int_eq(bank_total(f), 600);
    ck_assert_int_eq(balance(f, 1, "alice"), 90);
    FIXTURE_OK(f);
    fixture_free(&f);
}
END_TEST

START_TEST(t9_a_restarted_participant_remembers_what_it_applied)
{
    struct fixture *f = fx("protocol=saga", 22);
    json_t *r = fixture_call(f, 0, transfer_body("alice", "bob", 10), 5 * SEC);
    ck_assert_str_eq(reply_type(r), "transfer_ok");
    json_decref(r);
    sim_crash(f->s, 1);
    sim_restart(f->s, 1);
    fixture_run(f, 100 * MS);
    ck_assert_int_eq(balance(f, 1, "alice"), 90);
    /* a late duplicate of step 1 is answered from the log, not applied again */
    fixture_send(f, 1, json_pack("{s:s,s:s,s:i,s:[s,s,i],s:b}", "type", "step", "saga", "t1", "step", 0, "op", "add", "alice",
                                 -10, "compensate", 0));
    fixture_run(f, 100 * MS);
    ck_assert_int_eq(balance(f, 1, "alice"), 90);
    FIXTURE_OK(f);
    fixture_free(&f);
}
END_TEST

START_TEST(t10_saga_has_no_isolation_a_reader_sees_money_in_flight)
{
    struct fixture *f = fx("protocol=saga", 23);
    crashpoint(f, 0, "step");
    fixture_send(f, 0, transfer_body("alice", "bob", 30));
    ck_assert(wait_role(f, 0, "halted", 2 * SEC));
    fixture_run(f, 100 * MS);
    /* alice was debited, bob not yet credited: 30 are in flight, and any reader sees it */
    ck_assert_int_eq(balance(f, 1, "alice"), 70);
    ck_assert_int_eq(balance(f, 2, "bob"), 100);
    json_t *r = fixture_call(f, 1, json_pack("{s:s,s:s}", "type", "read", "key", "alice"), SEC);
    ck_assert_str_eq(json_string_value(json_object_get(r, "value")), "70");
    json_decref(r);
    ck_assert_int_eq(bank_total(f), 570);
    /* the same moment under 2pc: the reader is refused, the lock says why */
    struct fixture *g = fx("", 23);
    crashpoint(g, 0, "decision");
    fixture_send(g, 0, transfer_body("alice", "bob", 30));
    ck_assert(wait_role(g, 0, "halted", 2 * SEC));
    r = fixture_call(g, 1, json_pack("{s:s,s:s}", "type", "read", "key", "alice"), SEC);
    ck_assert_int_eq(json_integer_value(json_object_get(r, "code")), 11);
    json_decref(r);
    FIXTURE_OK(f);
    FIXTURE_OK(g);
    fixture_free(&f);
    fixture_free(&g);
}
END_TEST

START_TEST(bug_forward_compensation_is_caught_by_the_monitor)
{
    struct fixture *f = fx("protocol=saga bug=forward-compensation", 24);
    struct own o;
    own_watch(f, &o);
    json_t *r = fixture_call(f, 0, failing_saga_body(), 5 * SEC);
    json_decref(r);
    ck_assert_int_ge(o.alerts, 1);
    ck_assert_msg(strstr(o.alert.s, "CompensationOrder: n1 compensated step 2 of t1 after step 1"), "%s", o.alert.s);
    own_free(&o);
    fixture_free(&f);
}
END_TEST

START_TEST(bug_no_idempotency_applies_a_retried_step_twice)
{
    struct fixture *f = fx("protocol=saga bug=no-idempotency", 25);
    crashpoint(f, 0, "step");
    fixture_send(f, 0, transfer_body("alice", "bob", 10));
    ck_assert(wait_role(f, 0, "halted", 2 * SEC));
    fixture_run(f, 100 * MS);
    sim_crash(f->s, 0);
    sim_restart(f->s, 0);
    fixture_run(f, 3 * SEC);
    ck_assert_int_eq(balance(f, 1, "alice"), 80); /* debited twice */
    ck_assert_int_eq(bank_total(f), 590);
    fixture_free(&f);
}
END_TEST

/* ---- locks ---------------------------------------------------------------------------------- */

START_TEST(concurrent_transfers_on_one_account_wait_for_the_lock_visibly_and_both_commit)
{
    struct fixture *f = fx("", 10);
    int p1 = fixture_send(f, 0, transfer_body("alice", "bob", 10));
    int p2 = fixture_send(f, 0, transfer_body("alice", "carol", 20));
    ck_assert_int_eq(fixture_await(f, p1, 5 * SEC), SIMOP_OK);
    ck_assert_int_eq(fixture_await(f, p2, 5 * SEC), SIMOP_OK);
    ck_assert_int_ge(fixture_count(f, "lock_wait", "key", "alice"), 1);
    ck_assert_int_ge(fixture_count(f, "lock_grant", NULL, NULL), 1);
    const json_t *w = fixture_find(f, "n2", "lock_wait");
    ck_assert_ptr_nonnull(w);
    ck_assert_str_eq(json_string_value(json_object_get(w, "holder")), "t1");
    ck_assert_str_eq(json_string_value(json_object_get(w, "txn")), "t2");
    ck_assert_int_eq(balance(f, 1, "alice"), 70);
    ck_assert_int_eq(bank_total(f), 600);
    FIXTURE_OK(f);
    fixture_free(&f);
}
END_TEST

START_TEST(a_lock_held_by_a_prepared_transaction_times_the_waiter_out_with_a_no_vote)
{
    struct fixture *f = fx("lock_timeout=500ms timeout=2s", 11);
    /* n3's votes never reach the coordinator: t1 stays prepared on n2, holding alice */
    faults_cut(sim_faults(f->s), 2, 0);
    int p1 = fixture_send(f, 0, transfer_body("alice", "bob", 10));
    fixture_run(f, 100 * MS);
    ck_assert_str_eq(figure(f, 1, "locks"), "alice:t1");
    int p2 = fixture_send(f, 0, transfer_body("alice", "carol", 20));
    fixture_run(f, 100 * MS);
    ck_assert_str_eq(figure(f, 1, "waits"), "t2->alice(t1)");
    ck_assert_int_eq(fixture_await(f, p2, 5 * SEC), SIMOP_FAIL);
    const json_t *w = fixture_find(f, "n2", "lock_wait");
    ck_assert_ptr_nonnull(w);
    ck_assert_str_eq(json_string_value(json_object_get(w, "holder")), "t1");
    ck_assert_str_eq(json_string_value(json_object_get(w, "holder_state")), "prepared");
    ck_assert_int_eq(fixture_count(f, "lock_timeout", "txn", "t2"), 1);
    ck_assert_int_ne(fixture_await(f, p1, 10 * SEC), SIMOP_OK);
    faults_heal(sim_faults(f->s));
    fixture_run(f, 2 * SEC);
    ck_assert_str_eq(figure(f, 1, "locks"), "");
    ck_assert_int_eq(bank_total(f), 600);
    FIXTURE_OK(f);
    fixture_free(&f);
}
END_TEST

/* ---- bug toggles ------------------------------------------------------------------------------ */

START_TEST(bug_unilateral_abort_is_caught_by_the_monitor)
{
    struct fixture *f = fx("bug=unilateral-abort", 12);
    struct own o;
    own_watch(f, &o);
    crashpoint(f, 0, "send");
    fixture_send(f, 0, transfer_body("alice", "bob", 10));
    ck_assert(wait_role(f, 0, "halted", 2 * SEC));
    fixture_run(f, 2 * SEC);
    ck_assert_int_ge(o.alerts, 1);
    ck_assert_msg(strstr(o.alert.s, "NoUnilateralAbort: n3 voted yes on t1"), "%s", o.alert.s);
    ck_assert_msg(strstr(o.alert.s, "Atomicity: n2 committed t1 but n3 aborted it"), "%s", o.alert.s);
    ck_assert_int_eq(bank_total(f), 590); /* alice paid, bob never got it */
    own_free(&o);
    fixture_free(&f);
}
END_TEST

START_TEST(bug_no_decision_log_forgets_a_commit_and_breaks_atomicity)
{
    struct fixture *f = fx("bug=no-decision-log", 13);
    struct own o;
    own_watch(f, &o);
    crashpoint(f, 0, "send");
    fixture_send(f, 0, transfer_body("alice", "bob", 10));
    ck_assert(wait_role(f, 0, "halted", 2 * SEC));
    sim_crash(f->s, 0);
    sim_restart(f->s, 0);
    fixture_run(f, 2 * SEC);
    ck_assert_msg(strstr(o.alert.s, "DecisionLogged: n1 sent its decision on t1"), "%s", o.alert.s);
    ck_assert_msg(strstr(o.alert.s, "Atomicity: n2 committed t1 but n3 aborted it"), "%s", o.alert.s);
    own_free(&o);
    fixture_free(&f);
}
END_TEST

START_TEST(bug_no_prepare_log_forgets_a_yes_vote_across_a_restart)
{
    struct fixture *f = fx("bug=no-prepare-log", 14);
    struct own o;
    own_watch(f, &o);
    crashpoint(f, 2, "vote");
    fixture_send(f, 0, transfer_body("alice", "bob", 10));
    ck_assert(wait_role(f, 2, "halted", 2 * SEC));
    sim_crash(f->s, 2);
    sim_restart(f->s, 2);
    fixture_run(f, 2 * SEC);
    ck_assert_msg(strstr(o.alert.s, "Atomicity: n2 committed t1 but n3 aborted it"), "%s", o.alert.s);
    ck_assert_int_eq(fixture_count(f, "txn_state", "by", "forgotten"), 1);
    own_free(&o);
    fixture_free(&f);
}
END_TEST

/* ---- bad input -------------------------------------------------------------------------------- */

START_TEST(bad_requests_are_refused_with_the_reason)
{
    struct fixture *f = fx("", 15);
    static const char *const bodies[] = {
        "{\"type\":\"txn\"}",
        "{\"type\":\"txn\",\"txn\":[]}",
        "{\"type\":\"txn\",\"txn\":[[\"x\",\"a\",1]]}",
        "{\"type\":\"txn\",\"txn\":[[\"w\",\"a\",null]]}",
        "{\"type\":\"txn\",\"txn\":[[\"add\",\"a\",\"1\"]]}",
        "{\"type\":\"txn\",\"txn\":[[\"r\",\"\",null]]}",
        "{\"type\":\"txn\",\"txn\":\"r a\"}",
        "{\"type\":\"transfer\",\"from\":\"alice\",\"to\":\"bob\",\"amount\":-3}",
        "{\"type\":\"transfer\",\"from\":\"alice\",\"to\":\"alice\",\"amount\":3}",
        "{\"type\":\"transfer\",\"from\":\"alice\",\"amount\":3}",
        "{\"type\":\"read\"}",
        "{\"type\":\"write\",\"key\":\"a\",\"value\":null}",
        "{\"type\":\"write\",\"key\":[1],\"value\":1}",
    };
    for (size_t i = 0; i < CL_ARRAY_LEN(bodies); i++) {
        json_t *r = fixture_call(f, 0, json_loads(bodies[i], 0, NULL), SEC);
        ck_assert_msg(r && json_integer_value(json_object_get(r, "code")) == 12, "%s -> %s", bodies[i],
                      r ? json_dumps(r, 0) : "nothing");
        json_decref(r);
    }
    /* a participant sends transactions to the coordinator and keys to their shard */
    json_t *r = fixture_call(f, 1, transfer_body("alice", "bob", 1), SEC);
    ck_assert_int_eq(json_integer_value(json_object_get(r, "code")), 11);
    json_decref(r);
    r = fixture_call(f, 1, json_pack("{s:s,s:s}", "type", "read", "key", "bob"), SEC);
    ck_assert_int_eq(json_integer_value(json_object_get(r, "code")), 11);
    ck_assert_msg(strstr(json_string_value(json_object_get(r, "text")), "bob lives on n3"), "%s",
                  json_string_value(json_object_get(r, "text")));
    json_decref(r);
    /* peer messages with missing or wrong fields are dropped, and the node goes on */
    static const char *const peer[] = {
        "{\"type\":\"prepare\"}", "{\"type\":\"prepare\",\"txn\":\"t9\",\"ops\":[[0,[\"add\",\"bob\",1]]],\"parts\":[]}",
        "{\"type\":\"decide\",\"txn\":\"t9\",\"outcome\":\"maybe\"}", "{\"type\":\"vote\",\"txn\":5}",
        "{\"type\":\"query\"}", "{\"type\":\"outcome\",\"txn\":\"t9\"}", "{\"type\":\"ack\"}",
    };
    for (size_t i = 0; i < CL_ARRAY_LEN(peer); i++) {
        fixture_send(f, 1, json_loads(peer[i], 0, NULL));
        fixture_send(f, 0, json_loads(peer[i], 0, NULL));
    }
    fixture_run(f, SEC);
    r = fixture_call(f, 0, transfer_body("alice", "bob", 1), 5 * SEC);
    ck_assert_str_eq(reply_type(r), "transfer_ok");
    json_decref(r);
    /* commands */
    json_t *c = command(f, 0, "transfer", "alice", "bob", "lots");
    ck_assert(json_is_false(json_object_get(c, "ok")));
    json_decref(c);
    c = command(f, 1, "crashpoint", "n2", "decision", NULL);
    ck_assert(json_is_false(json_object_get(c, "ok")));
    json_decref(c);
    c = command(f, 0, "txn", "put", "a", NULL);
    ck_assert(json_is_false(json_object_get(c, "ok")));
    json_decref(c);
    c = command(f, 0, "txn", "put", "a", "1");
    ck_assert(json_is_true(json_object_get(c, "ok")));
    json_decref(c);
    char err[200];
    ck_assert_ptr_null(fixture_try_new(&mode_txn, 1, "", 1, err, sizeof err));
    FIXTURE_OK(f);
    fixture_free(&f);
}
END_TEST

/* ---- sweep ------------------------------------------------------------------------------------ */

/* Random transfers while random nodes crash and restart: every transaction is atomic (the
 * monitor), and once everyone is back and quiet, no lock is left and the total is 600.
 * Loops 0 and 1: 2pc; loop 2: sagas (each completes or is compensated, every step once). */
START_TEST(sweep_transfers_under_crashes_stay_atomic_and_conserve_the_total)
{
    int seeds = test_seeds(10), commits = 0;
    for (int seed = 1; seed <= seeds; seed++) {
        struct fixture *f = fx(_i == 2 ? "protocol=saga" : "", (uint64_t)(100 + seed + 1000 * _i));
        struct rng *g = sim_rng(f->s);
        for (int round = 0; round < 30 && !f->fail[0]; round++) {
            int a = (int)(rng_next(g) % 6), b = (int)(rng_next(g) % 6);
            if (a != b)
                fixture_send(f, 0, transfer_body(txn_account_name(a), txn_account_name(b), 1 + (int)(rng_next(g) % 40)));
            uint64_t r = rng_next(g) % 10;
            int victim = (int)(rng_next(g) % 4);
            if (r == 0 && sim_node_state(f->s, victim) != SIM_DOWN)
                sim_crash(f->s, victim);
            else if (r < 4 && sim_node_state(f->s, victim) == SIM_DOWN)
                sim_restart(f->s, victim);
            fixture_run(f, (50 + rng_next(g) % 200) * MS);
        }
        for (int i = 0; i < 4; i++)
            if (sim_node_state(f->s, i) == SIM_DOWN)
                sim_restart(f->s, i);
        fixture_run(f, 5 * SEC);
        FIXTURE_OK(f);
        commits += fixture_count(f, "txn_end", "outcome", "commit");
        ck_assert_msg(bank_total(f) == 600, "seed %d: total %lld", 100 + seed, bank_total(f));
        for (int i = 1; i < 4; i++)
            ck_assert_msg(!strcmp(figure(f, i, "locks"), ""), "seed %d: n%d still holds %s", 100 + seed, i + 1,
                          figure(f, i, "locks"));
        fixture_free(&f);
    }
    ck_assert_int_ge(commits, seeds * 5);
}
END_TEST

Suite *suite_txn(void);
Suite *suite_txn(void)
{
    Suite *s = suite_create("txn");
    TCase *tc = tcase_create("scenarios");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, t1_happy_path_commits_on_every_shard_and_conserves_the_total);
    tcase_add_test(tc, t2_a_no_vote_aborts_on_every_shard);
    tcase_add_test(tc, t3_coordinator_crash_after_prepare_blocks_the_participants_until_it_restarts);
    tcase_add_test(tc, t4_crash_after_the_decision_is_logged_commits_everywhere_on_recovery);
    tcase_add_test(tc, t4_crash_after_sending_to_one_participant_commits_the_others_on_recovery);
    tcase_add_test(tc, t5_participant_crash_after_yes_asks_for_and_applies_the_outcome);
    tcase_add_test(tc, t6_3pc_coordinator_crash_in_precommit_terminates_without_waiting);
    tcase_add_test(tc, t6_3pc_crash_before_precommit_aborts_without_waiting);
    tcase_add_test(tc, t7_3pc_partition_during_precommit_commits_one_side_and_aborts_the_other);
    tcase_add_test(tc, t8_saga_step_3_fails_and_steps_2_then_1_are_compensated);
    tcase_add_test(tc, t9_saga_orchestrator_crash_resumes_and_applies_every_step_once);
    tcase_add_test(tc, t9_a_restarted_participant_remembers_what_it_applied);
    tcase_add_test(tc, t10_saga_has_no_isolation_a_reader_sees_money_in_flight);
    tcase_add_test(tc, bug_forward_compensation_is_caught_by_the_monitor);
    tcase_add_test(tc, bug_no_idempotency_applies_a_retried_step_twice);
    tcase_add_test(tc, concurrent_transfers_on_one_account_wait_for_the_lock_visibly_and_both_commit);
    tcase_add_test(tc, a_lock_held_by_a_prepared_transaction_times_the_waiter_out_with_a_no_vote);
    tcase_add_test(tc, bug_unilateral_abort_is_caught_by_the_monitor);
    tcase_add_test(tc, bug_no_decision_log_forgets_a_commit_and_breaks_atomicity);
    tcase_add_test(tc, bug_no_prepare_log_forgets_a_yes_vote_across_a_restart);
    tcase_add_test(tc, bad_requests_are_refused_with_the_reason);
    suite_add_tcase(s, tc);
    tc = tcase_create("sweeps");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, sweep_transfers_under_crashes_stay_atomic_and_conserve_the_total, 0, 3);
    suite_add_tcase(s, tc);
    return s;
}
