/* check_sim — the simulator itself: H7 (the same seed gives an identical event-trace hash, with
 * the leader mode under a client workload and random faults; different seeds differ), and
 * the process and network faults it promises: a crash loses unsynced log records and the
 * messages its sender still held, pause holds messages and timers until resume, partitions
 * and down nodes drop with a reason.
 *
 * The fault tests run a tiny test-local mode, "probe", whose handlers touch one env call each,
 * so what is observed is the simulator, not a protocol. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "faults.h"
#include "mode.h"
#include "sim.h"
#include "test_util.h"

#define MS 1000ull
#define SEC 1000000ull

/* ---- the probe mode ------------------------------------------------------------------ */

struct probe {
    struct env *env;
    long loaded;            /* log records found at create */
    int hellos, ticks, puts;
    uint64_t tick_timer;
    char blob[32];
};

enum { T_TICK = 1 };

static void count_rec(void *ud, const void *data, size_t len)
{
    (void)data;
    (void)len;
    (*(long *)ud)++;
}

static void *probe_create(struct env *e, const struct opts *o, char *err, size_t errlen)
{
    (void)o;
    (void)err;
    (void)errlen;
    struct probe *p = xcalloc(1, sizeof *p);
    p->env = e;
    e->ops->log_read(e, "probe", count_rec, &p->loaded);
    char *data;
    size_t len;
    if (e->ops->blob_get(e, "probe.blob", &data, &len) == 0) {
        str_copy(p->blob, data, sizeof p->blob);
        free(data);
    }
    return p;
}

static void probe_start(void *st)
{
    struct probe *p = st;
    p->tick_timer = env_timer_set(p->env, 100 * MS, T_TICK, 0);
}

static void probe_destroy(void *st)
{
    free(st);
}

static void probe_timer(void *st, int kind, uint64_t arg)
{
    (void)arg;
    struct probe *p = st;
    if (kind == T_TICK) {
        p->ticks++;
        p->tick_timer = env_timer_set(p->env, 100 * MS, T_TICK, 0);
    }
}

static void on_put(void *st, const char *src, const json_t *body)
{
    struct probe *p = st;
    const char *v = json_string_value(json_object_get(body, "value"));
    p->puts++;
    p->env->ops->log_append(p->env, "probe", v, strlen(v));
    if (json_is_true(json_object_get(body, "sync")))
        p->env->ops->log_sync(p->env, "probe");
    env_reply(p->env, src, body, json_pack("{s:s}", "type", "put_ok"));
}

static void on_blob(void *st, const char *src, const json_t *body)
{
    struct probe *p = st;
    const char *v = json_string_value(json_object_get(body, "value"));
    p->env->ops->blob_put(p->env, "probe.blob", v, strlen(v));
    env_reply(p->env, src, body, json_pack("{s:s}", "type", "blob_ok"));
}

static void on_forward(void *st, const char *src, const json_t *body)
{
    struct probe *p = st;
    env_send(p->env, json_string_value(json_object_get(body, "to")), json_pack("{s:s}", "type", "hello"));
    env_reply(p->env, src, body, json_pack("{s:s}", "type", "forward_ok"));
}

static void on_hello(void *st, const char *src, const json_t *body)
{
    (void)src;
    (void)body;
    ((struct probe *)st)->hellos++;
}

static void on_stop(void *st, const char *src, const json_t *body)
{
    struct probe *p = st;
    env_timer_cancel(p->env, p->tick_timer);
    p->tick_timer = 0;
    env_reply(p->env, src, body, json_pack("{s:s}", "type", "stop_ok"));
}

static json_t *probe_status(void *st)
{
    struct probe *p = st;
    return json_pack("{s:s,s:I,s:i,s:i,s:i,s:s}", "role", "probe", "loaded", (json_int_t)p->loaded,
                     "hellos", p->hellos, "ticks", p->ticks, "puts", p->puts, "blob", p->blob);
}

static const struct mode_handler probe_handlers[] = {
    {"put", on_put}, {"blob", on_blob}, {"forward", on_forward}, {"hello", on_hello}, {"stop", on_stop}, {NULL, NULL},
};

static const struct mode mode_probe = {
    .name = "probe",
    .summary = "test-local: one env call per handler",
    .handlers = probe_handlers,
    .create = probe_create,
    .start = probe_start,
    .destroy = probe_destroy,
    .on_timer = probe_timer,
    .status = probe_status,
};

/* ---- harness ------------------------------------------------------------------------- */

struct watch {
    int replies;
    char last_reply[32];
    int drops_partition, drops_down, events;
};

static void on_reply(void *ud, const char *node, const char *client, const json_t *body)
{
    (void)node;
    (void)client;
    struct watch *w = ud;
    w->replies++;
    str_copy(w->last_reply, json_string_value(json_object_get(body, "type")), sizeof w->last_reply);
}

static void on_event(void *ud, const json_t *ev)
{
    struct watch *w = ud;
    w->events++;
    const char *name = json_string_value(json_object_get(ev, "ev"));
    const char *why = json_string_value(json_object_get(ev, "why"));
    if (name && !strcmp(name, "drop") && why) {
        w->drops_partition += !strcmp(why, "partition");
        w->drops_down += !strcmp(why, "node down");
    }
}

static struct sim *probe_sim(int n, struct watch *w)
{
    char err[256] = "";
    struct sim *s = sim_new(&mode_probe, n, NULL, 1, err, sizeof err);
    ck_assert_msg(s != NULL, "sim_new: %s", err);
    memset(w, 0, sizeof *w);
    sim_on_reply(s, on_reply, w);
    sim_on_event(s, on_event, w);
    return s;
}

static long stat_of(struct sim *s, int idx, const char *field)
{
    json_t *st = sim_status(s, idx);
    long v = (long)json_integer_value(json_object_get(st, field));
    json_decref(st);
    return v;
}

static void put(struct sim *s, int idx, const char *value, int sync)
{
    ck_assert_int_eq(sim_client_send(s, idx, "c1", json_pack("{s:s,s:i,s:s,s:b}", "type", "put", "msg_id", 1,
                                                             "value", value, "sync", sync)), 0);
}

static void forward(struct sim *s, int from, const char *to)
{
    ck_assert_int_eq(sim_client_send(s, from, "c1", json_pack("{s:s,s:i,s:s}", "type", "forward",
                                                              "msg_id", 2, "to", to)), 0);
}

/* ---- process faults ------------------------------------------------------------------- */

START_TEST(crash_loses_unsynced_log_records)
{
    struct watch w;
    struct sim *s = probe_sim(1, &w);
    put(s, 0, "a", 1);
    put(s, 0, "b", 0);
    sim_run_for(s, 10 * MS);
    ck_assert_int_eq(w.replies, 2); /* both acknowledged ... */
    sim_crash(s, 0);
    ck_assert_int_eq(sim_node_state(s, 0), SIM_DOWN);
    sim_restart(s, 0);
    ck_assert_int_eq(stat_of(s, 0, "loaded"), 1); /* ... only the synced one survived */
    /* a later sync makes everything before it durable */
    put(s, 0, "c", 0);
    put(s, 0, "d", 1);
    sim_run_for(s, 10 * MS);
    sim_crash(s, 0);
    sim_restart(s, 0);
    ck_assert_int_eq(stat_of(s, 0, "loaded"), 3);
    sim_destroy(&s);
    ck_assert_ptr_null(s);
}
END_TEST

START_TEST(blobs_survive_a_crash)
{
    struct watch w;
    struct sim *s = probe_sim(1, &w);
    ck_assert_int_eq(sim_client_send(s, 0, "c1", json_pack("{s:s,s:s}", "type", "blob", "value", "kept")), 0);
    sim_run_for(s, 10 * MS);
    sim_crash(s, 0);
    sim_restart(s, 0);
    json_t *st = sim_status(s, 0);
    ck_assert_str_eq(json_string_value(json_object_get(st, "blob")), "kept");
    json_decref(st);
    sim_destroy(&s);
}
END_TEST

START_TEST(a_down_node_refuses_clients_and_drops_messages)
{
    struct watch w;
    struct sim *s = probe_sim(2, &w);
    sim_crash(s, 1);
    ck_assert_int_eq(sim_client_send(s, 1, "c1", json_pack("{s:s}", "type", "put")), CL_ESTATE);
    forward(s, 0, "n2");
    sim_run_for(s, 10 * MS);
    ck_assert_int_eq(w.drops_down, 1);
    json_t *st = sim_status(s, 1);
    ck_assert_str_eq(json_string_value(json_object_get(st, "state")), "down");
    json_decref(st);
    ck_assert_ptr_null(sim_state(s, 1));
    sim_destroy(&s);
}
END_TEST

START_TEST(timers_of_a_crashed_incarnation_never_fire)
{
    struct watch w;
    struct sim *s = probe_sim(1, &w);
    sim_run_for(s, 250 * MS); /* two ticks, a third armed */
    ck_assert_int_eq(stat_of(s, 0, "ticks"), 2);
    sim_crash(s, 0);
    sim_restart(s, 0);
    sim_run_for(s, 1000 * MS);
    ck_assert_int_eq(stat_of(s, 0, "ticks"), 10); /* one timer chain, not two */
    sim_destroy(&s);
}
END_TEST

START_TEST(pause_holds_messages_and_timers_until_resume)
{
    struct watch w;
    struct sim *s = probe_sim(2, &w);
    sim_run_for(s, 50 * MS);
    sim_pause(s, 1);
    ck_assert_int_eq(sim_node_state(s, 1), SIM_PAUSED);
    forward(s, 0, "n2");
    put(s, 1, "while-paused", 1);
    sim_run_for(s, 1 * SEC);
    ck_assert_int_eq(w.replies, 1);                  /* n1 answered, n2 did not */
    ck_assert_str_eq(w.last_reply, "forward_ok");
    ck_assert_int_eq(stat_of(s, 1, "hellos"), 0);
    ck_assert_int_eq(stat_of(s, 1, "ticks"), 0);     /* its timer is held too */
    ck_assert_int_ge(stat_of(s, 0, "ticks"), 9);     /* while n1 lives on */
    json_t *st = sim_status(s, 1);
    ck_assert_str_eq(json_string_value(json_object_get(st, "state")), "paused");
    json_decref(st);
    sim_resume(s, 1);
    sim_run_for(s, 1 * MS);
    ck_assert_int_eq(stat_of(s, 1, "hellos"), 1);
    ck_assert_int_eq(stat_of(s, 1, "ticks"), 1);     /* the held timer fires once */
    sim_run_for(s, 10 * MS);
    ck_assert_int_eq(w.replies, 2);
    ck_assert_str_eq(w.last_reply, "put_ok");
    sim_resume(s, 1); /* resume without pause: nothing happens */
    ck_assert_int_eq(sim_node_state(s, 1), SIM_UP);
    sim_destroy(&s);
}
END_TEST

START_TEST(a_timer_held_by_a_pause_can_still_be_cancelled)
{
    struct watch w;
    struct sim *s = probe_sim(1, &w);
    sim_run_for(s, 50 * MS);
    sim_pause(s, 0);
    /* held in this order: the request that cancels the tick timer (due at 50.5 ms), then the
     * tick itself (due at 100 ms) */
    ck_assert_int_eq(sim_client_send(s, 0, "c1", json_pack("{s:s}", "type", "stop")), 0);
    sim_run_for(s, 150 * MS);
    ck_assert_int_eq(stat_of(s, 0, "ticks"), 0);
    sim_resume(s, 0);
    sim_run_for(s, 1 * SEC);
    ck_assert_str_eq(w.last_reply, "stop_ok");
    ck_assert_int_eq(stat_of(s, 0, "ticks"), 0); /* cancelled before it ran: never fires */
    sim_destroy(&s);
}
END_TEST

struct times {
    uint64_t last;
    int backwards;
};

static void on_time(void *ud, const json_t *ev)
{
    struct times *t = ud;
    uint64_t at = (uint64_t)json_integer_value(json_object_get(ev, "t"));
    t->backwards += at < t->last;
    t->last = at;
}

START_TEST(a_cancelled_timer_does_not_let_later_items_run_early)
{
    struct watch w;
    struct sim *s = probe_sim(1, &w);
    struct times t = {0, 0};
    sim_on_event(s, on_time, &t);
    ck_assert_int_eq(sim_client_send(s, 0, "c1", json_pack("{s:s}", "type", "stop")), 0);
    sim_run_for(s, 1 * MS); /* the tick due at 100 ms is cancelled */
    ck_assert_int_eq(w.replies, 1);
    sim_set_net_us(s, 300 * MS);
    put(s, 0, "late", 1); /* due at 301 ms */
    sim_run_for(s, 149 * MS);
    ck_assert_uint_eq(sim_now(s), 150 * MS);
    ck_assert_int_eq(stat_of(s, 0, "puts"), 0); /* not yet due: it must not have run */
    sim_run_for(s, 1 * SEC);
    ck_assert_int_eq(w.replies, 2);
    ck_assert_int_eq(t.backwards, 0);
    sim_destroy(&s);
}
END_TEST

START_TEST(delayed_messages_die_with_their_sender)
{
    struct watch w;
    struct sim *s = probe_sim(2, &w);
    faults_set_delay(sim_faults(s), 0, 1, 1 * SEC, 0);
    forward(s, 0, "n2");
    sim_run_for(s, 2 * SEC);
    ck_assert_int_eq(stat_of(s, 1, "hellos"), 1); /* arrives late */
    forward(s, 0, "n2");
    sim_run_for(s, 500 * MS);
    sim_crash(s, 0);
    sim_run_for(s, 2 * SEC);
    ck_assert_int_eq(stat_of(s, 1, "hellos"), 1); /* the second died with n1 */
    sim_destroy(&s);
}
END_TEST

START_TEST(a_bandwidth_queues_messages_and_heal_lets_them_go)
{
    struct watch w;
    struct sim *s = probe_sim(2, &w);
    /* 1 kbps: a hello (its body and the envelope, about 150 bytes) takes over a second */
    faults_set_bandwidth(sim_faults(s), 0, 1, 1);
    for (int i = 0; i < 4; i++)
        forward(s, 0, "n2");
    sim_run_for(s, 500 * MS);
    ck_assert_int_eq(stat_of(s, 1, "hellos"), 0);
    json_t *st = sim_status(s, 0);
    json_t *q = json_object_get(json_object_get(st, "queue"), "n2");
    ck_assert_int_eq(json_integer_value(json_object_get(q, "msgs")), 4);
    ck_assert_int_gt(json_integer_value(json_object_get(q, "wait_ms")), 4000);
    json_decref(st);
    sim_run_for(s, 1500 * MS);
    ck_assert_int_eq(stat_of(s, 1, "hellos"), 1); /* one at a time */
    struct faults healed = *sim_faults(s);
    faults_heal(&healed);
    sim_set_faults(s, &healed);
    sim_run_for(s, 50 * MS);
    ck_assert_int_eq(stat_of(s, 1, "hellos"), 4); /* the rest at once */
    st = sim_status(s, 0);
    ck_assert_int_eq(json_object_size(json_object_get(st, "queue")), 0);
    json_decref(st);
    sim_destroy(&s);
}
END_TEST

START_TEST(a_full_bandwidth_queue_drops_with_a_reason)
{
    struct watch w;
    struct sim *s = probe_sim(2, &w);
    faults_set_bandwidth(sim_faults(s), 0, 1, 1);
    for (int i = 0; i < BWQ_MAX_FRAMES + 3; i++)
        forward(s, 0, "n2");
    sim_run_for(s, 100 * MS);
    uint64_t sent, delivered, dropped;
    sim_counts(s, &sent, &delivered, &dropped);
    ck_assert_uint_eq(dropped, 3);
    sim_destroy(&s);
}
END_TEST

START_TEST(partitions_drop_messages_with_a_reason)
{
    struct watch w;
    struct sim *s = probe_sim(3, &w);
    char err[256] = "";
    ck_assert_int_eq(faults_partition(sim_faults(s), "n1 | n2", err, sizeof err), 0);
    forward(s, 0, "n2");
    forward(s, 1, "n3"); /* same side */
    sim_run_for(s, 10 * MS);
    ck_assert_int_eq(stat_of(s, 1, "hellos"), 0);
    ck_assert_int_eq(stat_of(s, 2, "hellos"), 1);
    ck_assert_int_eq(w.drops_partition, 1);
    uint64_t sent, delivered, dropped;
    sim_counts(s, &sent, &delivered, &dropped);
    ck_assert_uint_eq(dropped, 1);
    faults_heal(sim_faults(s));
    forward(s, 0, "n2");
    sim_run_for(s, 10 * MS);
    ck_assert_int_eq(stat_of(s, 1, "hellos"), 1);
    sim_destroy(&s);
}
END_TEST

START_TEST(unknown_message_types_are_reported_not_fatal)
{
    struct watch w;
    struct sim *s = probe_sim(1, &w);
    ck_assert_int_eq(sim_client_send(s, 0, "c1", json_pack("{s:s}", "type", "no_such")), 0);
    ck_assert_int_eq(sim_client_send(s, 0, "c1", json_pack("{s:i}", "type", 3)), 0);
    sim_run_for(s, 10 * MS);
    put(s, 0, "x", 1);
    sim_run_for(s, 10 * MS);
    ck_assert_str_eq(w.last_reply, "put_ok");
    sim_destroy(&s);
}
END_TEST

/* ---- H7: determinism ------------------------------------------------------------------ */

struct counter {
    long events;
};

static void count_event(void *ud, const json_t *ev)
{
    (void)ev;
    ((struct counter *)ud)->events++;
}

/* The leader mode, 3 nodes, 8 s of virtual time: clients write and read at random nodes while
 * partitions, heals, crashes, restarts, pauses, loss, duplication and delays come and go, all
 * drawn from `seed`. Returns the trace hash. */
static uint64_t leader_run(uint64_t seed, int watch, long *events)
{
    const struct mode *m = mode_find("leader");
    ck_assert_ptr_nonnull(m);
    struct opts o = {0};
    opts_set(&o, "repl", "semisync");
    opts_set(&o, "heartbeat", "100ms"); /* a busy run: many events to hash */
    char err[256] = "";
    struct sim *s = sim_new(m, 3, &o, seed, err, sizeof err);
    opts_free(&o);
    ck_assert_msg(s != NULL, "sim_new: %s", err);
    sim_trace_hash_enable(s);
    struct counter c = {0};
    if (watch)
        sim_on_event(s, count_event, &c);
    struct rng w;
    rng_seed(&w, seed ^ 0x5eedull);
    static const char *const shapes[] = {"one", "halves", "majority", "bridge", "majorities-ring"};
    int op = 0;
    for (int step = 0; step < 320; step++) {
        uint64_t dice = rng_range(&w, 0, 99);
        int node = (int)rng_range(&w, 0, 2);
        if (dice < 55) {
            char client[16], key[8], value[16];
            snprintf(client, sizeof client, "c%d", op % 5);
            snprintf(key, sizeof key, "k%d", (int)rng_range(&w, 0, 3));
            snprintf(value, sizeof value, "%d", op);
            json_t *b = rng_range(&w, 0, 1)
                            ? json_pack("{s:s,s:i,s:s,s:s}", "type", "write", "msg_id", op, "key", key, "value", value)
                            : json_pack("{s:s,s:i,s:s}", "type", "read", "msg_id", op, "key", key);
            sim_client_send(s, node, client, b); /* refused when down: fine */
            op++;
        } else if (dice < 60) {
            char desc[128];
            faults_shape(sim_faults(s), shapes[rng_range(&w, 0, 4)], sim_rng(s), desc, sizeof desc, err,
                         sizeof err);
        } else if (dice < 66) {
            faults_heal(sim_faults(s));
        } else if (dice < 69) {
            sim_crash(s, node);
        } else if (dice < 76) {
            for (int i = 0; i < 3; i++)
                sim_restart(s, i);
        } else if (dice < 78) {
            sim_pause(s, node);
        } else if (dice < 82) {
            for (int i = 0; i < 3; i++)
                sim_resume(s, i);
        } else if (dice < 85) {
            faults_set_loss(sim_faults(s), -1, -1, 0.1);
        } else if (dice < 88) {
            faults_set_dup(sim_faults(s), -1, -1, 0.2);
        } else if (dice < 91) {
            faults_set_delay(sim_faults(s), node, -1, 20 * MS, 15 * MS);
        }
        sim_run_for(s, 25 * MS);
    }
    faults_heal(sim_faults(s));
    for (int i = 0; i < 3; i++) {
        sim_resume(s, i);
        sim_restart(s, i);
    }
    sim_run_for(s, 1 * SEC);
    uint64_t sent, delivered, dropped;
    sim_counts(s, &sent, &delivered, &dropped);
    ck_assert_uint_gt(sent, 100);
    ck_assert_uint_gt(dropped, 0); /* the faults did something */
    uint64_t h = sim_trace_hash(s);
    if (events)
        *events = c.events;
    sim_destroy(&s);
    return h;
}

START_TEST(the_same_seed_gives_the_same_trace_hash)
{
    int seeds = test_seeds(6);
    for (int seed = 1; seed <= seeds; seed++) {
        uint64_t a = leader_run((uint64_t)seed, 0, NULL), b = leader_run((uint64_t)seed, 0, NULL);
        ck_assert_msg(a == b, "seed %d: %016llx then %016llx", seed, (unsigned long long)a,
                      (unsigned long long)b);
    }
}
END_TEST

START_TEST(different_seeds_give_different_traces)
{
    uint64_t h[4];
    for (int i = 0; i < 4; i++)
        h[i] = leader_run((uint64_t)(100 + i), 0, NULL);
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < i; j++)
            ck_assert_msg(h[i] != h[j], "seeds %d and %d hash alike", 100 + i, 100 + j);
}
END_TEST

START_TEST(watching_the_events_does_not_change_the_trace)
{
    long events = 0;
    uint64_t watched = leader_run(42, 1, &events), blind = leader_run(42, 0, NULL);
    ck_assert_int_gt(events, 1000);
    ck_assert_msg(watched == blind, "%016llx with a callback, %016llx without",
                  (unsigned long long)watched, (unsigned long long)blind);
}
END_TEST

START_TEST(a_mode_that_refuses_its_options_gives_no_simulator)
{
    const struct mode *m = mode_find("leader");
    struct opts o = {0};
    opts_set(&o, "heartbeat", "0ms");
    char err[256] = "";
    struct sim *s = sim_new(m, 3, &o, 1, err, sizeof err);
    ck_assert_ptr_null(s);
    ck_assert_ptr_nonnull(strstr(err, "heartbeat"));
    opts_free(&o);
    ck_assert_ptr_null(sim_new(m, 0, NULL, 1, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "1 to 16 nodes"));
    ck_assert_ptr_null(sim_new(m, CL_MAXN + 1, NULL, 1, err, sizeof err));
}
END_TEST

Suite *suite_sim(void);
Suite *suite_sim(void)
{
    Suite *s = suite_create("sim");
    TCase *tc = tcase_create("faults");
    tcase_add_test(tc, crash_loses_unsynced_log_records);
    tcase_add_test(tc, blobs_survive_a_crash);
    tcase_add_test(tc, a_down_node_refuses_clients_and_drops_messages);
    tcase_add_test(tc, timers_of_a_crashed_incarnation_never_fire);
    tcase_add_test(tc, pause_holds_messages_and_timers_until_resume);
    tcase_add_test(tc, a_timer_held_by_a_pause_can_still_be_cancelled);
    tcase_add_test(tc, a_cancelled_timer_does_not_let_later_items_run_early);
    tcase_add_test(tc, delayed_messages_die_with_their_sender);
    tcase_add_test(tc, partitions_drop_messages_with_a_reason);
    tcase_add_test(tc, unknown_message_types_are_reported_not_fatal);
    suite_add_tcase(s, tc);
    tc = tcase_create("determinism");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, the_same_seed_gives_the_same_trace_hash);
    tcase_add_test(tc, different_seeds_give_different_traces);
    tcase_add_test(tc, watching_the_events_does_not_change_the_trace);
    tcase_add_test(tc, a_mode_that_refuses_its_options_gives_no_simulator);
    tcase_add_test(tc, a_bandwidth_queues_messages_and_heal_lets_them_go);
    tcase_add_test(tc, a_full_bandwidth_queue_drops_with_a_reason);
    suite_add_tcase(s, tc);
    return s;
}
