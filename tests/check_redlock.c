/* check_redlock — the Redis-style lease lock in the simulator: Redlock's majority, validity and
 * retries; Kleppmann's failures (a holder paused past its lease, an instance whose clock jumps,
 * a single instance that crashes) shown on fixed seeds and flagged by the monitor; the same
 * runs safe with fencing=on (the storage refuses the stale token); the bug toggles; bad input;
 * and sweeps of random pauses, clock jumps and partitions: with fencing no stale write is ever
 * accepted, without it some seed shows one.
 *
 * The mode's monitor runs beside the test here (its verdicts are what the tests look at), not
 * inside the fixture, which would stop the run at the first violation.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "faults.h"
#include "fixture.h"
#include "mode.h"
#include "mutex.h"
#include "sim.h"
#include "test_util.h"

extern const struct mode mode_redlock;

#define MS 1000ull
#define SEC 1000000ull

struct h {
    struct fixture *x;
    void *mon;
    struct sb alert;
    int mutual, stale;          /* violations of MutualExclusion, NoStaleWrite */
};

static const char *const kept[] = {"lock", "lease", "mutex", "state", "error", "fault", NULL};

static void on_ev(void *ud, const json_t *ev)
{
    struct h *h = ud;
    size_t before = h->alert.len;
    if (mode_redlock.monitor->feed(h->mon, ev, &h->alert)) {
        if (strstr(h->alert.s + before, "MutualExclusion"))
            h->mutual++;
        if (strstr(h->alert.s + before, "NoStaleWrite"))
            h->stale++;
        sb_add(&h->alert, "\n");
    }
}

static struct h *h_new(const char *opts, int n, uint64_t seed)
{
    struct h *h = xcalloc(1, sizeof *h);
    h->x = fixture_new(&mode_redlock, n, opts, seed);
    h->x->use_monitor = 0;
    h->mon = mode_redlock.monitor->create();
    fixture_keep(h->x, kept);
    fixture_watch(h->x, on_ev, NULL, h);
    return h;
}

static void h_free(struct h *h)
{
    fixture_free(&h->x);
    mode_redlock.monitor->destroy(h->mon);
    sb_free(&h->alert);
    free(h);
}

static void run(struct h *h, uint64_t us)
{
    fixture_run(h->x, us);
}

/* Runs a command on node idx (its name goes first); returns ok, keeps the text in last. */
static char last[512];
static int cmd(struct h *h, int idx, const char *name, const char *a1, const char *a2, const char *a3,
               const char *a4)
{
    char node[8];
    snprintf(node, sizeof node, "n%d", idx + 1);
    char *argv[6] = {node, (char *)a1, (char *)a2, (char *)a3, (char *)a4, NULL};
    int argc = 1;
    while (argc < 5 && argv[argc])
        argc++;
    json_t *r = sim_command(h->x->s, idx, name, argc, argv);
    int ok = json_is_true(json_object_get(r, "ok"));
    snprintf(last, sizeof last, "%s", json_string_value(json_object_get(r, "text")));
    json_decref(r);
    return ok;
}

/* Kept `lock` events of client `client` with what = what. */
static int count_lock(struct h *h, const char *client, const char *what)
{
    size_t i;
    json_t *e;
    int n = 0;
    json_array_foreach(h->x->events, i, e)
        if (!strcmp(json_string_value(json_object_get(e, "ev")), "lock") &&
            !strcmp(json_string_value(json_object_get(e, "client")), client) &&
            !strcmp(json_string_value(json_object_get(e, "what")), what))
            n++;
    return n;
}

static const json_t *last_lock(struct h *h, const char *client, const char *what)
{
    const json_t *found = NULL;
    size_t i;
    json_t *e;
    json_array_foreach(h->x->events, i, e)
        if (!strcmp(json_string_value(json_object_get(e, "ev")), "lock") &&
            !strcmp(json_string_value(json_object_get(e, "client")), client) &&
            !strcmp(json_string_value(json_object_get(e, "what")), what))
            found = e;
    return found;
}

struct waitfor {
    struct h *h;
    const char *client, *what;
    int n;
};

static int seen(void *ud)
{
    struct waitfor *w = ud;
    return count_lock(w->h, w->client, w->what) >= w->n;
}

/* Runs until client has emitted its n-th `lock` event what (or us pass); 1 when it did. */
static int until(struct h *h, const char *client, const char *what, int n, uint64_t us)
{
    struct waitfor w = {h, client, what, n};
    return fixture_run_until(h->x, us, seen, &w);
}

static const char *stored(struct h *h, int storage)
{
    static char v[128];
    json_t *st = sim_status(h->x->s, storage);
    const char *s = json_string_value(json_object_get(json_object_get(st, "data"), "order-7"));
    snprintf(v, sizeof v, "%s", s ? s : "(nil)");
    json_decref(st);
    return v;
}

static int live_keys(struct h *h, int idx)
{
    json_t *st = sim_status(h->x->s, idx);
    int n = (int)json_integer_value(json_object_get(st, "locks"));
    json_decref(st);
    return n;
}

static void bump(struct h *h, int idx, int64_t us)
{
    sim_clocks(h->x->s, idx)->skew_us += us;
}

/* ---- the algorithm -------------------------------------------------------------------------- */

START_TEST(a_client_acquires_with_a_majority_and_releases_everywhere)
{
    struct h *h = h_new("", 5, 1);
    run(h, 10 * MS);
    ck_assert_msg(cmd(h, 0, "acquire", "orders", "lease=3s", NULL, NULL), "%s", last);
    ck_assert(until(h, "n1", "acquired", 1, SEC));
    const json_t *a = last_lock(h, "n1", "acquired");
    ck_assert_int_eq(json_integer_value(json_object_get(a, "token")), 1);
    ck_assert_int_ge(json_array_size(json_object_get(a, "instances")), 3);
    int64_t v = json_integer_value(json_object_get(a, "validity_ms"));
    ck_assert(v > 2900 && v < 3000); /* lease - elapsed - drift (30 ms + 2 ms) */
    run(h, 10 * MS);
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(live_keys(h, i), 1);
    ck_assert(!cmd(h, 1, "acquire", "orders", NULL, NULL, NULL) || 1); /* another client may try */
    ck_assert(until(h, "n2", "failed", 4, 2 * SEC)); /* 3 retries, then it gives up */
    ck_assert_msg(cmd(h, 0, "release", "orders", NULL, NULL, NULL), "%s", last);
    run(h, 10 * MS);
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(live_keys(h, i), 0);
    ck_assert_int_eq(h->mutual + h->stale, 0);
    FIXTURE_OK(h->x);
    h_free(h);
}
END_TEST

START_TEST(a_minority_of_instances_is_not_enough_and_is_given_back)
{
    struct h *h = h_new("", 5, 2);
    run(h, 10 * MS);
    char err[200];
    ck_assert(faults_partition(sim_faults(h->x->s), "n1,n2 | n3,n4,n5", err, sizeof err) == 0);
    ck_assert(cmd(h, 0, "acquire", "orders", "lease=3s", NULL, NULL));
    ck_assert(until(h, "n1", "failed", 4, 10 * SEC));
    ck_assert_int_eq(count_lock(h, "n1", "acquired"), 0);
    const json_t *f = last_lock(h, "n1", "failed");
    ck_assert_int_eq(json_integer_value(json_object_get(f, "granted")), 2);
    ck_assert_int_eq(json_integer_value(json_object_get(f, "quorum")), 3);
    ck_assert(!json_is_true(json_object_get(f, "retry")));
    run(h, 10 * MS);
    ck_assert_int_eq(live_keys(h, 0), 0); /* unlocked after the failed attempt */
    ck_assert_int_eq(live_keys(h, 1), 0);
    h_free(h);
}
END_TEST

/* ---- Kleppmann's failures, and fencing ------------------------------------------------------ */

/* The holder checks its lease, starts working, and pauses (a GC pause) past its lease; a second
 * client acquires and writes; the first wakes up and writes. */
static struct h *paused_holder(int fencing)
{
    struct h *h = h_new(fencing ? "fencing=on work=1s" : "fencing=off work=1s", 5, 3);
    run(h, 10 * MS);
    ck_assert(cmd(h, 0, "acquire", "orders", "lease=2s", NULL, NULL));
    ck_assert(until(h, "n1", "acquired", 1, SEC));
    ck_assert_msg(cmd(h, 0, "store", "orders", "order-7", "paid", NULL), "%s", last);
    sim_pause(h->x->s, 0);
    run(h, 3 * SEC); /* n1's lease is over on every instance */
    ck_assert(cmd(h, 1, "acquire", "orders", "lease=5s", NULL, NULL));
    ck_assert(until(h, "n2", "acquired", 1, 3 * SEC));
    ck_assert(cmd(h, 1, "store", "orders", "order-7", "shipped", NULL));
    ck_assert(until(h, "n2", "written", 1, 3 * SEC));
    sim_resume(h->x->s, 0);
    ck_assert(until(h, "n1", fencing ? "refused" : "written", 1, 3 * SEC));
    return h;
}

START_TEST(a_paused_holder_overwrites_the_next_holders_work_without_fencing)
{
    struct h *h = paused_holder(0);
    ck_assert_str_eq(stored(h, 4), "paid"); /* the stale write won: order-7 is corrupt */
    ck_assert_int_eq(h->mutual, 1);
    ck_assert_int_eq(h->stale, 1);
    const json_t *w = last_lock(h, "n1", "written");
    ck_assert_int_eq(json_integer_value(json_object_get(w, "token")), 1);
    ck_assert_int_eq(json_integer_value(json_object_get(w, "highest")), 2);
    ck_assert_int_eq(count_lock(h, "n1", "expired"), 1); /* it notices, after the write left */
    h_free(h);
}
END_TEST

START_TEST(with_fencing_the_storage_refuses_the_paused_holders_stale_token)
{
    struct h *h = paused_holder(1);
    ck_assert_str_eq(stored(h, 4), "shipped");
    ck_assert_int_eq(h->mutual, 0); /* the overlap was fenced */
    ck_assert_int_eq(h->stale, 0);
    const json_t *w = last_lock(h, "n1", "refused");
    ck_assert_int_eq(json_integer_value(json_object_get(w, "token")), 1);
    h_free(h);
}
END_TEST

/* Kleppmann's clock jump: three instances' clocks jump past the lease, the key expires there,
 * and a second client gets a majority while the first still holds the lock. */
START_TEST(a_clock_jump_on_a_majority_of_instances_gives_two_holders)
{
    int fencing = _i;
    struct h *h = h_new(fencing ? "fencing=on work=0" : "work=0", 5, 4);
    run(h, 10 * MS);
    ck_assert(cmd(h, 0, "acquire", "orders", "lease=10s", NULL, NULL));
    ck_assert(until(h, "n1", "acquired", 1, SEC));
    for (int i = 2; i < 5; i++)
        bump(h, i, 20 * (int64_t)SEC);
    ck_assert(cmd(h, 1, "acquire", "orders", "lease=10s", NULL, NULL));
    ck_assert(until(h, "n2", "acquired", 1, 2 * SEC));
    ck_assert_int_eq(count_lock(h, "n1", "expired"), 0); /* n1 still holds it, by its clock */
    ck_assert(cmd(h, 1, "store", "orders", "order-7", "shipped", NULL));
    ck_assert(until(h, "n2", "written", 1, SEC));
    ck_assert(cmd(h, 0, "store", "orders", "order-7", "paid", NULL));
    ck_assert(until(h, "n1", fencing ? "refused" : "written", 1, SEC));
    ck_assert_int_eq(h->mutual, fencing ? 0 : 1);
    ck_assert_int_eq(h->stale, fencing ? 0 : 1);
    ck_assert_str_eq(stored(h, 4), fencing ? "shipped" : "paid");
    h_free(h);
}
END_TEST

/* A single instance keeps its keys in memory: when it crashes and restarts, the lock is gone
 * and a second client takes it while the first holds it. Its token counter is durable, so the
 * next token is still higher. */
START_TEST(a_single_instance_forgets_its_locks_in_a_crash)
{
    struct h *h = h_new("instances=1 work=0", 3, 5);
    run(h, 10 * MS);
    ck_assert(cmd(h, 1, "acquire", "orders", "lease=5s", NULL, NULL));
    ck_assert(until(h, "n2", "acquired", 1, SEC));
    ck_assert_int_eq(json_array_size(json_object_get(last_lock(h, "n2", "acquired"), "instances")), 1);
    sim_crash(h->x->s, 0);
    sim_restart(h->x->s, 0);
    ck_assert(cmd(h, 2, "acquire", "orders", "lease=5s", NULL, NULL));
    ck_assert(until(h, "n3", "acquired", 1, SEC));
    ck_assert_int_eq(h->mutual, 1);
    ck_assert_int_eq(json_integer_value(json_object_get(last_lock(h, "n3", "acquired"), "token")), 2);
    h_free(h);
}
END_TEST

/* ---- bug toggles ------------------------------------------------------------------------------ */

/* unsafe-release: a client whose lease ran out releases with a bare DEL and deletes the next
 * holder's key; a third client then takes the lock while the second holds it. */
START_TEST(unsafe_release_deletes_the_next_holders_lock)
{
    int bug = _i;
    struct h *h = h_new(bug ? "bug=unsafe-release work=0" : "work=0", 3, 6);
    run(h, 10 * MS);
    ck_assert(cmd(h, 0, "acquire", "orders", "lease=1s", NULL, NULL));
    ck_assert(until(h, "n1", "acquired", 1, SEC));
    run(h, 1500 * MS);
    ck_assert_int_eq(count_lock(h, "n1", "expired"), 1);
    ck_assert(cmd(h, 1, "acquire", "orders", "lease=10s", NULL, NULL));
    ck_assert(until(h, "n2", "acquired", 1, SEC));
    ck_assert_msg(cmd(h, 0, "release", "orders", NULL, NULL, NULL), "%s", last); /* n1 releases late */
    run(h, 10 * MS);
    cmd(h, 2, "acquire", "orders", "lease=10s", NULL, NULL);
    run(h, SEC);
    ck_assert_int_eq(count_lock(h, "n3", "acquired"), bug ? 1 : 0);
    ck_assert_int_eq(h->mutual, bug ? 1 : 0);
    h_free(h);
}
END_TEST

/* one-instance: one grant is enough, so the two sides of a partition both hold the lock. */
START_TEST(one_instance_bug_lets_both_sides_of_a_partition_hold_the_lock)
{
    int bug = _i;
    struct h *h = h_new(bug ? "bug=one-instance" : "", 5, 7);
    run(h, 10 * MS);
    char err[200];
    ck_assert(faults_partition(sim_faults(h->x->s), "n1,n2 | n3,n4,n5", err, sizeof err) == 0);
    cmd(h, 0, "acquire", "orders", "lease=5s", NULL, NULL);
    cmd(h, 2, "acquire", "orders", "lease=5s", NULL, NULL);
    run(h, 3 * SEC);
    ck_assert_int_eq(count_lock(h, "n1", "acquired"), bug ? 1 : 0);
    ck_assert_int_eq(count_lock(h, "n3", "acquired"), 1);
    ck_assert_int_eq(h->mutual, bug ? 1 : 0);
    h_free(h);
}
END_TEST

/* no-drift: validity is the whole lease, although acquiring took time (a slow instance). */
START_TEST(no_drift_bug_claims_the_whole_lease)
{
    int bug = _i;
    struct h *h = h_new(bug ? "bug=no-drift" : "", 3, 8);
    run(h, 10 * MS);
    faults_set_delay(sim_faults(h->x->s), 1, 0, 150 * MS, 0); /* n2's and n3's answers take 150 ms */
    faults_set_delay(sim_faults(h->x->s), 2, 0, 150 * MS, 0);
    ck_assert(cmd(h, 0, "acquire", "orders", "lease=2s", NULL, NULL));
    ck_assert(until(h, "n1", "acquired", 1, SEC));
    int64_t v = json_integer_value(json_object_get(last_lock(h, "n1", "acquired"), "validity_ms"));
    if (bug)
        ck_assert_int_eq(v, 2000);
    else
        ck_assert(v < 1850); /* 2000 - 150 elapsed - 22 drift */
    h_free(h);
}
END_TEST

/* ---- durability, commands, bad input ---------------------------------------------------------- */

START_TEST(tokens_keep_growing_across_instance_restarts)
{
    struct h *h = h_new("work=0", 3, 9);
    run(h, 10 * MS);
    for (int round = 1; round <= 3; round++) {
        ck_assert(cmd(h, 0, "acquire", "orders", "lease=1s", NULL, NULL));
        ck_assert(until(h, "n1", "acquired", round, 2 * SEC));
        ck_assert(cmd(h, 0, "release", "orders", NULL, NULL, NULL));
        for (int i = 0; i < 3; i++) {
            sim_crash(h->x->s, i);
            sim_restart(h->x->s, i);
        }
        run(h, 10 * MS);
    }
    /* the client's memory died with n1: it learnt the counters again from the refusals */
    ck_assert_int_eq(json_integer_value(json_object_get(last_lock(h, "n1", "acquired"), "token")), 3);
    h_free(h);
}
END_TEST

START_TEST(commands_refuse_bad_arguments_with_the_accepted_form)
{
    struct h *h = h_new("", 3, 10);
    run(h, 10 * MS);
    ck_assert(!cmd(h, 0, "acquire", "orders", "lease=5", NULL, NULL));
    ck_assert_ptr_nonnull(strstr(last, "lease=5: a duration"));
    ck_assert(!cmd(h, 0, "acquire", "orders", "color=red", NULL, NULL));
    ck_assert_ptr_nonnull(strstr(last, "expected lease=DURATION"));
    ck_assert(!cmd(h, 0, "acquire", "bad\"name", NULL, NULL, NULL));
    ck_assert(!cmd(h, 0, "store", "orders", "order-7", "paid", NULL));
    ck_assert_ptr_nonnull(strstr(last, "does not hold orders"));
    ck_assert(!cmd(h, 0, "release", "orders", NULL, NULL, NULL));
    ck_assert(cmd(h, 0, "acquire", "orders", "as=c7", NULL, NULL));
    ck_assert(!cmd(h, 0, "acquire", "orders", "as=c7", NULL, NULL)); /* already acquiring */
    ck_assert(until(h, "c7", "acquired", 1, SEC));
    char n2[] = "n2", o[] = "orders";
    json_t *r = sim_command(h->x->s, 0, "acquire", 2, (char *[]){n2, o}); /* runs on the node named */
    ck_assert(!json_is_true(json_object_get(r, "ok")));
    json_decref(r);
    char err[200];
    struct fixture *bad = fixture_try_new(&mode_redlock, 3, "instances=4", 1, err, sizeof err);
    ck_assert_ptr_null(bad);
    ck_assert_ptr_nonnull(strstr(err, "instances=4"));
    h_free(h);
}
END_TEST

START_TEST(malformed_peer_messages_are_dropped_with_an_error)
{
    struct h *h = h_new("", 3, 11);
    run(h, 10 * MS);
    const char *bodies[] = {
        "{\"type\":\"lock_set\",\"lock\":\"orders\"}",
        "{\"type\":\"lock_set\",\"lock\":\"orders\",\"value\":\"v\",\"client\":\"c\",\"ttl_us\":-1,\"token\":1,\"attempt\":1}",
        "{\"type\":\"lock_set_ok\",\"lock\":3}",
        "{\"type\":\"store\",\"lock\":\"orders\",\"key\":\"k\",\"value\":\"v\",\"client\":\"c\",\"token\":\"x\"}",
        "{\"type\":\"lock_del\"}",
        NULL,
    };
    int before = fixture_count(h->x, "error", NULL, NULL);
    for (int i = 0; bodies[i]; i++) {
        json_error_t je;
        json_t *b = json_loads(bodies[i], 0, &je);
        ck_assert_ptr_nonnull(b);
        /* as if from n2: through the mode's handler table */
        ck_assert_int_eq(mode_dispatch(&mode_redlock, sim_state(h->x->s, 2), "n2", b), 0);
        json_decref(b);
    }
    run(h, 10 * MS);
    ck_assert_int_eq(fixture_count(h->x, "error", NULL, NULL) - before, 5);
    ck_assert_int_eq(live_keys(h, 2), 0);
    h_free(h);
}
END_TEST

/* `check mutex` and a node that goes down: the sections its clients opened end at the fault, so
 * a waiter that takes over after the holder's node crashed is no overlap; without the fault
 * event the crashed holder's section runs to the end and overlaps. */
START_TEST(check_mutex_ends_a_crashed_nodes_sections_at_the_fault)
{
    const char *with =
        "{\"t\":100,\"node\":\"n1\",\"ev\":\"mutex\",\"op\":\"acquire\",\"client\":\"n1\",\"lock\":\"orders\",\"token\":1}\n"
        "{\"t\":200,\"node\":\"n1\",\"ev\":\"fault\",\"what\":\"crash\"}\n"
        "{\"t\":1300,\"node\":\"n2\",\"ev\":\"mutex\",\"op\":\"acquire\",\"client\":\"n2\",\"lock\":\"orders\",\"token\":2}\n";
    struct mutex_hist *h = NULL;
    char err[300];
    struct sb out = {0};
    ck_assert_msg(mutex_parse(with, strlen(with), &h, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(mutex_check(h, &out) == 0, "%s", out.s);
    mutex_hist_free(&h);
    sb_free(&out);
    /* a stonith of n1 ends them too; a crash of another node does not */
    const char *other = "{\"t\":100,\"node\":\"n1\",\"ev\":\"mutex\",\"op\":\"acquire\",\"client\":\"n1\",\"lock\":\"orders\",\"token\":1}\n"
                        "{\"t\":200,\"node\":\"n3\",\"ev\":\"fault\",\"what\":\"stonith\",\"by\":\"n2\"}\n"
                        "{\"t\":1300,\"node\":\"n2\",\"ev\":\"mutex\",\"op\":\"acquire\",\"client\":\"n2\",\"lock\":\"orders\",\"token\":2}\n";
    ck_assert(mutex_parse(other, strlen(other), &h, err, sizeof err) == 0);
    ck_assert_int_eq(mutex_check(h, &out), 1);
    ck_assert_msg(strstr(out.s, "OVERLAP"), "%s", out.s);
    mutex_hist_free(&h);
    sb_free(&out);
}
END_TEST

/* ---- sweeps ------------------------------------------------------------------------------------- */

/* Three clients (n1..n3) loop acquire, store, release on one lock, with random pauses of a
 * client, clock jumps of an instance and partitions. Returns stale writes accepted. */
static int random_run(int fencing, uint64_t seed, int *acquired)
{
    struct h *h = h_new(fencing ? "fencing=on work=300ms lease=1s" : "fencing=off work=300ms lease=1s", 5, seed);
    struct rng *r = sim_rng(h->x->s);
    const char *clients[] = {"n1", "n2", "n3"};
    run(h, 10 * MS);
    for (int step = 0; step < 40; step++) {
        int c = (int)(rng_next(r) % 3);
        uint64_t dice = rng_next(r) % 10;
        if (sim_node_state(h->x->s, c) == SIM_UP) {
            if (!cmd(h, c, "store", "orders", "order-7", clients[c], NULL))
                cmd(h, c, "acquire", "orders", "wait=2s", NULL, NULL);
        }
        if (dice == 0 && sim_node_state(h->x->s, c) == SIM_UP) {
            sim_pause(h->x->s, c);
        } else if (dice == 1) {
            for (int i = 0; i < 3; i++)
                if (sim_node_state(h->x->s, i) == SIM_PAUSED)
                    sim_resume(h->x->s, i);
        } else if (dice == 2) {
            bump(h, 3 + (int)(rng_next(r) % 2), (int64_t)(rng_next(r) % (3 * SEC)));
        } else if (dice == 3) {
            char desc[100], err[100];
            faults_shape(sim_faults(h->x->s), "minority-third", r, desc, sizeof desc, err, sizeof err);
        } else if (dice == 4) {
            faults_heal(sim_faults(h->x->s));
        }
        run(h, (rng_next(r) % 700) * MS);
    }
    for (int i = 0; i < 3; i++)
        if (sim_node_state(h->x->s, i) == SIM_PAUSED)
            sim_resume(h->x->s, i);
    run(h, 3 * SEC);
    *acquired = fixture_count(h->x, "mutex", "op", "acquire");
    int stale = h->stale;
    h_free(h);
    return stale;
}

START_TEST(with_fencing_no_stale_write_is_ever_accepted)
{
    int seeds = getenv("CONLAB_FULL") ? 1000 : getenv("CONLAB_QUICK") ? 40 : 150;
    int acq = 0, stale = 0;
    for (int s = 0; s < seeds; s++) {
        int a;
        stale += random_run(1, 1000 + (uint64_t)s, &a);
        acq += a;
    }
    printf("redlock sweep (fencing=on): %d seeds, %d acquisitions, %d stale writes accepted\n", seeds, acq, stale);
    ck_assert_int_gt(acq, seeds);
    ck_assert_int_eq(stale, 0);
}
END_TEST

START_TEST(without_fencing_some_seed_accepts_a_stale_write)
{
    int seeds = getenv("CONLAB_FULL") ? 1000 : getenv("CONLAB_QUICK") ? 40 : 150;
    int acq = 0, stale = 0, bad = 0, first = -1;
    for (int s = 0; s < seeds; s++) {
        int a;
        int n = random_run(0, 1000 + (uint64_t)s, &a);
        acq += a;
        stale += n;
        if (n && first < 0)
            first = s;
        bad += n > 0;
    }
    printf("redlock sweep (fencing=off): %d seeds, %d acquisitions, %d stale writes accepted in %d seeds (first: seed %d)\n",
           seeds, acq, stale, bad, first >= 0 ? 1000 + first : -1);
    ck_assert_int_gt(bad, 0);
}
END_TEST

Suite *suite_redlock(void);
Suite *suite_redlock(void)
{
    Suite *s = suite_create("redlock");
    TCase *tc = tcase_create("algorithm");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, a_client_acquires_with_a_majority_and_releases_everywhere);
    tcase_add_test(tc, a_minority_of_instances_is_not_enough_and_is_given_back);
    tcase_add_test(tc, tokens_keep_growing_across_instance_restarts);
    tcase_add_test(tc, commands_refuse_bad_arguments_with_the_accepted_form);
    tcase_add_test(tc, malformed_peer_messages_are_dropped_with_an_error);
    tcase_add_test(tc, check_mutex_ends_a_crashed_nodes_sections_at_the_fault);
    suite_add_tcase(s, tc);

    tc = tcase_create("failures");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, a_paused_holder_overwrites_the_next_holders_work_without_fencing);
    tcase_add_test(tc, with_fencing_the_storage_refuses_the_paused_holders_stale_token);
    tcase_add_loop_test(tc, a_clock_jump_on_a_majority_of_instances_gives_two_holders, 0, 2);
    tcase_add_test(tc, a_single_instance_forgets_its_locks_in_a_crash);
    tcase_add_loop_test(tc, unsafe_release_deletes_the_next_holders_lock, 0, 2);
    tcase_add_loop_test(tc, one_instance_bug_lets_both_sides_of_a_partition_hold_the_lock, 0, 2);
    tcase_add_loop_test(tc, no_drift_bug_claims_the_whole_lease, 0, 2);
    suite_add_tcase(s, tc);

    tc = tcase_create("sweeps");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, with_fencing_no_stale_write_is_ever_accepted);
    tcase_add_test(tc, without_fencing_some_seed_accepts_a_stale_write);
    suite_add_tcase(s, tc);
    return s;
}
