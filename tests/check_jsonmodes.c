/* check_jsonmodes — client values of any JSON type through the modes that are not on the kit's
 * KV state machine (issue 20 item 4; check_jsonvalues covers raft, leader, paxos, zab): spanner,
 * txn, outbox, eventstore, redlock, echo, zab's service=zk and the maelstrom mode's services.
 * Each writes the number 42, the string "42" and the object {"a":[1]}, reads them back with
 * their types, and again after every node restarted where the mode is durable; a body whose
 * value is missing still gets a clear error. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "zksm.h"
#include "mode.h"
#include "sim.h"

extern const struct mode mode_spanner;
extern const struct mode mode_eventstore;
extern const struct mode mode_outbox;
extern const struct mode mode_redlock;
extern const struct mode mode_txn;
extern const struct mode mode_zab;

#define SEC 1000000ull
#define MS 1000ull

/* The three values every mode must keep apart. */
static const char *const vals[] = {"42", "\"42\"", "{\"a\":[1]}"};
#define NVALS 3

static json_t *J(const char *text)
{
    json_t *v = json_loads(text, JSON_DECODE_ANY, NULL);
    ck_assert_msg(v != NULL, "bad test JSON %s", text);
    return v;
}

/* Sends body (JSON text) to node and waits for the reply (caller frees). */
static json_t *call(struct fixture *f, int node, const char *body)
{
    json_t *r = fixture_call(f, node, J(body), 30 * SEC);
    ck_assert_msg(r != NULL, "seed %llu: no reply to %s", (unsigned long long)f->seed, body);
    return r;
}

static const char *rtype(const json_t *r)
{
    const char *t = json_string_value(json_object_get(r, "type"));
    return t ? t : "?";
}

/* v equals the JSON text want, type included (42 is not "42"). */
static void assert_json(const json_t *v, const char *want, const char *what)
{
    json_t *w = J(want);
    char *got = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    ck_assert_msg(v && json_equal((json_t *)v, w), "%s: wanted %s, got %s", what, want, got ? got : "nothing");
    free(got);
    json_decref(w);
}

/* The reply is an error with code, its text naming needle. */
static void assert_error(json_t *r, int code, const char *needle)
{
    const char *text = json_string_value(json_object_get(r, "text"));
    ck_assert_msg(!strcmp(rtype(r), "error") && json_integer_value(json_object_get(r, "code")) == code,
                  "wanted error %d, got %s %s", code, rtype(r), text ? text : "");
    ck_assert_msg(text && strstr(text, needle), "error text \"%s\" does not name %s", text ? text : "", needle);
    json_decref(r);
}

static void restart_all(struct fixture *f)
{
    for (int i = 0; i < f->n; i++) {
        sim_crash(f->s, i);
        sim_restart(f->s, i);
    }
}

/* ---- spanner --------------------------------------------------------------------------------- */

static void spanner_reads(struct fixture *f, int node)
{
    char body[200];
    for (int i = 0; i < NVALS; i++) {
        snprintf(body, sizeof body, "{\"type\":\"read\",\"key\":\"k%d\"}", i);
        json_t *r = call(f, node, body);
        ck_assert_str_eq(rtype(r), "read_ok");
        assert_json(json_object_get(r, "value"), vals[i], body);
        json_decref(r);
    }
    json_t *r = call(f, node, "{\"type\":\"read\",\"key\":7}");
    assert_json(json_object_get(r, "value"), "[true,null]", "integer key 7");
    json_decref(r);
    json_t *st = sim_status(f->s, node);
    assert_json(json_object_get(json_object_get(st, "data"), "k0"), "42", "status data k0");
    assert_json(json_object_get(json_object_get(st, "data"), "k1"), "\"42\"", "status data k1");
    json_decref(st);
}

START_TEST(spanner_keeps_every_json_value_and_its_type_across_restarts)
{
    struct fixture *f = fixture_new(&mode_spanner, 3, "epsilon=2ms", 11);
    fixture_direct(f, 1);
    char body[200];
    for (int i = 0; i < NVALS; i++) {
        snprintf(body, sizeof body, "{\"type\":\"write\",\"key\":\"k%d\",\"value\":%s}", i, vals[i]);
        json_t *r = call(f, i % 3, body);
        ck_assert_msg(!strcmp(rtype(r), "write_ok"), "%s: %s", body, rtype(r));
        json_decref(r);
    }
    json_t *r = call(f, 0, "{\"type\":\"write\",\"key\":7,\"value\":[true,null]}");
    ck_assert_str_eq(rtype(r), "write_ok");
    json_decref(r);
    fixture_run(f, 1 * SEC);
    spanner_reads(f, 1);
    restart_all(f);
    fixture_run(f, 100 * MS);
    spanner_reads(f, 2); /* every version came back from the log with its type */
    assert_error(call(f, 0, "{\"type\":\"write\",\"key\":\"x\"}"), 12, "\"value\"");
    assert_error(call(f, 0, "{\"type\":\"write\",\"value\":1}"), 12, "\"key\"");
    FIXTURE_OK(f);
    fixture_free(&f);
}
END_TEST

/* ---- eventstore ------------------------------------------------------------------------------ */

static void es_reads(struct fixture *f, int node)
{
    json_t *r = call(f, node, "{\"type\":\"read_stream\",\"stream\":\"s\"}");
    ck_assert_str_eq(rtype(r), "read_stream_ok");
    const json_t *evs = json_object_get(r, "events");
    ck_assert_int_eq(json_array_size(evs), NVALS);
    for (int i = 0; i < NVALS; i++)
        assert_json(json_object_get(json_array_get(evs, (size_t)i), "data"), vals[i], "an event's data");
    json_decref(r);
    r = call(f, node, "{\"type\":\"read\",\"key\":\"s\"}");
    assert_json(json_object_get(json_object_get(r, "state"), "data"), "\"42\"", "the aggregate's data");
    assert_json(json_object_get(json_object_get(r, "state"), "a"), "[1]", "the aggregate's field a");
    json_decref(r);
    r = call(f, node, "{\"type\":\"read_stream\",\"stream\":7}");
    assert_json(json_object_get(json_array_get(json_object_get(r, "events"), 0), "data"), "[true,null]", "stream 7");
    json_decref(r);
}

START_TEST(eventstore_keeps_any_json_payload_and_its_type_across_restarts)
{
    struct fixture *f = fixture_new(&mode_eventstore, 3, "snapshot=2", 12);
    fixture_direct(f, 1);
    fixture_run(f, 50 * MS);
    char body[200];
    for (int i = 0; i < NVALS; i++) {
        snprintf(body, sizeof body, "{\"type\":\"append\",\"stream\":\"s\",\"event\":\"e\",\"data\":%s}", vals[i]);
        json_t *r = call(f, 0, body);
        ck_assert_msg(!strcmp(rtype(r), "append_ok"), "%s: %s", body, rtype(r));
        json_decref(r);
    }
    json_t *r = call(f, 0, "{\"type\":\"append\",\"stream\":7,\"event\":\"e\",\"data\":[true,null]}");
    ck_assert_str_eq(rtype(r), "append_ok");
    json_decref(r);
    fixture_run(f, 1 * SEC);
    es_reads(f, 1);
    restart_all(f);
    fixture_run(f, 2 * SEC);
    es_reads(f, 0); /* replayed from the log (and snapshots) with their types */
    es_reads(f, 2);
    assert_error(call(f, 0, "{\"type\":\"append\",\"event\":\"e\",\"data\":1}"), 12, "\"stream\"");
    FIXTURE_OK(f);
    fixture_free(&f);
}
END_TEST

/* ---- outbox --------------------------------------------------------------------------------- */

static void outbox_reads(struct fixture *f)
{
    char body[200];
    for (int node = 0; node < 3; node += 2) { /* the service n1 and the consumer n3 */
        for (int i = 0; i < NVALS; i++) {
            snprintf(body, sizeof body, "{\"type\":\"read\",\"key\":\"o%d\"}", i);
            json_t *r = call(f, node, body);
            ck_assert_msg(!strcmp(rtype(r), "read_ok"), "n%d %s: %s", node + 1, body, rtype(r));
            assert_json(json_object_get(r, "payload"), vals[i], body);
            json_decref(r);
        }
        json_t *r = call(f, node, "{\"type\":\"read\",\"key\":7}");
        assert_json(json_object_get(r, "payload"), "[true,null]", "order 7's payload");
        json_decref(r);
        r = call(f, node, "{\"type\":\"read\",\"key\":\"plain\"}");
        ck_assert_str_eq(rtype(r), "read_ok");
        ck_assert_ptr_null(json_object_get(r, "payload")); /* an order without one has none */
        json_decref(r);
    }
}

static int outbox_all_applied(void *ud)
{
    struct fixture *f = ud;
    json_t *st = sim_status(f->s, 2);
    int n = (int)json_integer_value(json_object_get(st, "applied"));
    json_decref(st);
    return n >= NVALS + 2;
}

START_TEST(outbox_carries_any_json_payload_to_the_consumer_and_keeps_it_across_restarts)
{
    struct fixture *f = fixture_new(&mode_outbox, 3, "", 13);
    fixture_direct(f, 1);
    fixture_run(f, 50 * MS);
    char body[200];
    for (int i = 0; i < NVALS; i++) {
        snprintf(body, sizeof body, "{\"type\":\"order\",\"order\":\"o%d\",\"amount\":5,\"payload\":%s}", i, vals[i]);
        json_t *r = call(f, 0, body);
        ck_assert_msg(!strcmp(rtype(r), "order_ok"), "%s: %s", body, rtype(r));
        json_decref(r);
    }
    json_t *r = call(f, 0, "{\"type\":\"order\",\"order\":7,\"payload\":[true,null]}");
    ck_assert_str_eq(rtype(r), "order_ok");
    json_decref(r);
    r = call(f, 0, "{\"type\":\"order\",\"order\":\"plain\"}");
    ck_assert_str_eq(rtype(r), "order_ok");
    json_decref(r);
    ck_assert(fixture_run_until(f, 20 * SEC, outbox_all_applied, f));
    outbox_reads(f);
    restart_all(f);
    fixture_run(f, 500 * MS);
    outbox_reads(f); /* from the service's, the broker's and the consumer's logs */
    assert_error(call(f, 0, "{\"type\":\"order\",\"payload\":1}"), 12, "\"order\"");
    FIXTURE_OK(f);
    fixture_free(&f);
}
END_TEST

START_TEST(the_outbox_monitor_tells_42_from_the_string_42)
{
    void *mon = mode_outbox.monitor->create();
    struct sb alert = {0};
    json_t *e = J("{\"ev\":\"produced\",\"node\":\"n1\",\"seq\":1,\"id\":\"m1\",\"order\":\"o\",\"payload\":42}");
    ck_assert_int_eq(mode_outbox.monitor->feed(mon, e, &alert), 0);
    json_decref(e);
    e = J("{\"ev\":\"consumed\",\"node\":\"n3\",\"seq\":2,\"id\":\"m1\",\"order\":\"o\",\"applied\":true,\"payload\":\"42\"}");
    ck_assert_int_eq(mode_outbox.monitor->feed(mon, e, &alert), 1);
    json_decref(e);
    ck_assert_msg(alert.s && strstr(alert.s, "SamePayload"), "%s", alert.s ? alert.s : "no alert");
    e = J("{\"ev\":\"produced\",\"node\":\"n1\",\"seq\":3,\"id\":\"m2\",\"order\":\"p\",\"payload\":{\"a\":[1]}}");
    mode_outbox.monitor->feed(mon, e, &alert);
    json_decref(e);
    e = J("{\"ev\":\"consumed\",\"node\":\"n3\",\"seq\":4,\"id\":\"m2\",\"order\":\"p\",\"applied\":true,\"payload\":{\"a\":[1]}}");
    ck_assert_int_eq(mode_outbox.monitor->feed(mon, e, &alert), 0);
    json_decref(e);
    ck_assert_int_eq(mode_outbox.monitor->violations(mon), 1);
    sb_free(&alert);
    mode_outbox.monitor->destroy(mon);
}
END_TEST

/* ---- redlock -------------------------------------------------------------------------------- */

static int rl_cmd(struct fixture *f, int idx, const char *name, const char *a1, const char *a2, const char *a3)
{
    char node[8];
    snprintf(node, sizeof node, "n%d", idx + 1);
    char *argv[] = {node, (char *)a1, (char *)a2, (char *)a3, NULL};
    int argc = a3 ? 4 : a2 ? 3 : 2;
    json_t *r = sim_command(f->s, idx, name, argc, argv);
    int ok = json_is_true(json_object_get(r, "ok"));
    ck_assert_msg(ok, "%s %s %s: %s", name, a1, a2 ? a2 : "", json_string_value(json_object_get(r, "text")));
    json_decref(r);
    return ok;
}

struct lockwait {
    struct fixture *f;
    const char *what;
    int n;
};

static int lock_seen(void *ud)
{
    struct lockwait *w = ud;
    return fixture_count(w->f, "lock", "what", w->what) >= w->n;
}

START_TEST(redlock_stores_any_json_value_and_a_read_answers_its_type)
{
    static const char *const kept[] = {"lock", NULL};
    struct fixture *f = fixture_new(&mode_redlock, 3, "work=0", 14);
    fixture_keep(f, kept);
    fixture_direct(f, 1);
    fixture_run(f, 10 * MS);
    rl_cmd(f, 0, "acquire", "orders", "lease=30s", NULL);
    struct lockwait w = {f, "acquired", 1};
    ck_assert(fixture_run_until(f, 5 * SEC, lock_seen, &w));
    /* the words a student types: 42, '"42"' (quotes kept by the shell's single quotes), JSON */
    static const char *const words[] = {"42", "\"42\"", "{\"a\":[1]}", "paid"};
    char key[16];
    for (int i = 0; i < 4; i++) {
        char *argv[] = {(char *)"n1", (char *)"orders", key, (char *)words[i], NULL};
        snprintf(key, sizeof key, "k%d", i);
        json_t *r = sim_command(f->s, 0, "store", 4, argv);
        ck_assert_msg(json_is_true(json_object_get(r, "ok")), "%s", json_string_value(json_object_get(r, "text")));
        json_decref(r);
        w.what = "written";
        w.n = i + 1;
        ck_assert(fixture_run_until(f, 5 * SEC, lock_seen, &w));
    }
    char body[100];
    for (int i = 0; i < 4; i++) {
        snprintf(body, sizeof body, "{\"type\":\"read\",\"key\":\"k%d\"}", i);
        json_t *r = call(f, 2, body); /* the storage is the last node */
        ck_assert_str_eq(rtype(r), "read_ok");
        assert_json(json_object_get(r, "value"), i < NVALS ? vals[i] : "\"paid\"", body);
        json_decref(r);
    }
    json_t *st = sim_status(f->s, 2);
    assert_json(json_object_get(json_object_get(st, "data"), "k0"), "42", "the storage's status");
    assert_json(json_object_get(json_object_get(json_object_get(json_object_get(json_object_get(st, "extra"), "fence"),
                                                                "resources"), "k1"), "value"),
                "\"42\"", "the fence's value");
    json_decref(st);
    assert_error(call(f, 2, "{\"type\":\"read\"}"), 12, "\"key\"");
    FIXTURE_OK(f);
    fixture_free(&f);
}
END_TEST

/* ---- txn ------------------------------------------------------------------------------------ */

static void txn_reads(struct fixture *f, const char *opts)
{
    json_t *r = call(f, 0, "{\"type\":\"txn\",\"txn\":[[\"r\",\"k0\",null],[\"r\",\"k1\",null],[\"r\",7,null],"
                           "[\"r\",\"l\",null]]}");
    ck_assert_msg(!strcmp(rtype(r), "txn_ok"), "%s: %s %s", opts, rtype(r), json_string_value(json_object_get(r, "text")));
    const json_t *ops = json_object_get(r, "txn");
    assert_json(json_array_get(json_array_get(ops, 0), 2), "42", "r k0");
    assert_json(json_array_get(json_array_get(ops, 1), 2), "\"42\"", "r k1");
    assert_json(json_array_get(json_array_get(ops, 2), 1), "7", "the integer key as the client sent it");
    assert_json(json_array_get(json_array_get(ops, 2), 2), "{\"a\":[1]}", "r 7");
    assert_json(json_array_get(json_array_get(ops, 3), 2), "[1,\"1\",{\"a\":[1]}]", "r l (list-append)");
    json_decref(r);
    r = call(f, 0, "{\"type\":\"read\",\"key\":\"k0\"}");
    assert_json(json_object_get(r, "value"), "42", "read k0");
    json_decref(r);
    r = call(f, 0, "{\"type\":\"read\",\"key\":\"w\"}");
    assert_json(json_object_get(r, "value"), "[true]", "read w");
    json_decref(r);
}

static void txn_values(const char *opts, uint64_t seed)
{
    struct fixture *f = fixture_new(&mode_txn, 4, opts, seed);
    fixture_direct(f, 1);
    fixture_run(f, 50 * MS);
    json_t *r = call(f, 0, "{\"type\":\"txn\",\"txn\":[[\"w\",\"k0\",42],[\"w\",\"k1\",\"42\"],[\"w\",7,{\"a\":[1]}],"
                           "[\"append\",\"l\",1],[\"append\",\"l\",\"1\"],[\"append\",\"l\",{\"a\":[1]}]]}");
    ck_assert_msg(!strcmp(rtype(r), "txn_ok"), "%s: %s %s", opts, rtype(r), json_string_value(json_object_get(r, "text")));
    assert_json(json_array_get(json_array_get(json_object_get(r, "txn"), 2), 1), "7", "a write's integer key");
    json_decref(r);
    r = call(f, 0, "{\"type\":\"write\",\"key\":\"w\",\"value\":[true]}");
    ck_assert_str_eq(rtype(r), "write_ok");
    json_decref(r);
    txn_reads(f, opts);
    restart_all(f);
    fixture_run(f, 2 * SEC);
    txn_reads(f, opts); /* the participants' logs kept every type */
    assert_error(call(f, 0, "{\"type\":\"txn\",\"txn\":[[\"w\",\"k0\"]]}"), 12, "[F, KEY, VALUE]");
    assert_error(call(f, 0, "{\"type\":\"write\",\"key\":\"k0\"}"), 12, "\"value\"");
    FIXTURE_OK(f);
    fixture_free(&f);
}

START_TEST(the_txn_and_append_commands_type_their_words_as_the_repl_does)
{
    struct fixture *f = fixture_new(&mode_txn, 4, "", 18);
    fixture_direct(f, 1);
    fixture_run(f, 50 * MS);
    char *argv[] = {(char *)"put", (char *)"x", (char *)"42", (char *)"put", (char *)"y", (char *)"\"42\"",
                    (char *)"append", (char *)"l", (char *)"{\"a\":[1]}", (char *)"put", (char *)"z", (char *)"paid", NULL};
    json_t *c = sim_command(f->s, 0, "txn", 12, argv);
    ck_assert_msg(json_is_true(json_object_get(c, "ok")), "%s", json_string_value(json_object_get(c, "text")));
    json_decref(c);
    fixture_run(f, 2 * SEC);
    json_t *r = call(f, 0, "{\"type\":\"txn\",\"txn\":[[\"r\",\"x\",null],[\"r\",\"y\",null],[\"r\",\"l\",null],"
                           "[\"r\",\"z\",null]]}");
    ck_assert_str_eq(rtype(r), "txn_ok");
    const json_t *ops = json_object_get(r, "txn");
    assert_json(json_array_get(json_array_get(ops, 0), 2), "42", "txn put x 42");
    assert_json(json_array_get(json_array_get(ops, 1), 2), "\"42\"", "txn put y '\"42\"'");
    assert_json(json_array_get(json_array_get(ops, 2), 2), "[{\"a\":[1]}]", "txn append l {\"a\":[1]}");
    assert_json(json_array_get(json_array_get(ops, 3), 2), "\"paid\"", "txn put z paid");
    json_decref(r);
    char *bad[] = {(char *)"put", (char *)"x", (char *)"{\"a\":", NULL};
    c = sim_command(f->s, 0, "txn", 3, bad);
    ck_assert(json_is_false(json_object_get(c, "ok")));
    ck_assert_msg(strstr(json_string_value(json_object_get(c, "text")), "bad JSON"), "%s",
                  json_string_value(json_object_get(c, "text")));
    json_decref(c);
    FIXTURE_OK(f);
    fixture_free(&f);
    f = fixture_new(&mode_eventstore, 3, "", 19);
    fixture_direct(f, 1);
    fixture_run(f, 50 * MS);
    char *es[] = {(char *)"s", (char *)"e", (char *)"n=42", (char *)"t=\"42\"", (char *)"o={\"a\":[1]}", (char *)"w=paid", NULL};
    c = sim_command(f->s, 0, "append", 6, es);
    ck_assert_msg(json_is_true(json_object_get(c, "ok")), "%s", json_string_value(json_object_get(c, "text")));
    json_decref(c);
    fixture_run(f, 1 * SEC);
    r = call(f, 1, "{\"type\":\"read\",\"key\":\"s\"}");
    const json_t *agg = json_object_get(r, "state");
    assert_json(json_object_get(agg, "n"), "42", "append n=42");
    assert_json(json_object_get(agg, "t"), "\"42\"", "append t='\"42\"'");
    assert_json(json_object_get(agg, "o"), "{\"a\":[1]}", "append o={...}");
    assert_json(json_object_get(agg, "w"), "\"paid\"", "append w=paid");
    json_decref(r);
    FIXTURE_OK(f);
    fixture_free(&f);
}
END_TEST

START_TEST(txn_keeps_any_json_value_and_integer_keys_across_restarts_2pc)
{
    txn_values("", 15);
}
END_TEST

START_TEST(txn_keeps_any_json_value_and_integer_keys_across_restarts_saga)
{
    txn_values("protocol=saga", 16);
}
END_TEST

/* ---- zab service=zk ----------------------------------------------------------------------------- */

static int zab_leads(void *ud)
{
    struct fixture *f = ud;
    for (int i = 0; i < f->n; i++) {
        json_t *st = sim_status(f->s, i);
        int l = !strcmp(json_string_value(json_object_get(st, "role")), "leading") &&
                !strcmp(json_string_value(json_object_get(json_object_get(st, "extra"), "phase")), "broadcast");
        json_decref(st);
        if (l)
            return 1;
    }
    return 0;
}

/* A zk request to whichever node leads (a follower redirects: the fixture is direct). */
static json_t *zk_call(struct fixture *f, const char *op)
{
    char body[300];
    snprintf(body, sizeof body, "{\"type\":\"zk\",\"op\":%s}", op);
    for (int tries = 0; tries < 20; tries++) {
        for (int i = 0; i < f->n; i++) {
            json_t *r = call(f, i, body);
            if (strcmp(rtype(r), "error") || json_integer_value(json_object_get(r, "code")) != 11)
                return r;
            json_decref(r);
        }
        fixture_run(f, 500 * MS);
    }
    ck_abort_msg("no node led to take %s", op);
    return NULL;
}

static void zk_reads(struct fixture *f)
{
    char op[100];
    for (int i = 0; i < NVALS; i++) {
        snprintf(op, sizeof op, "{\"op\":\"get\",\"path\":\"/v%d\"}", i);
        json_t *r = zk_call(f, op);
        ck_assert_msg(!strcmp(rtype(r), "zk_ok"), "%s: %s", op, rtype(r));
        assert_json(json_object_get(r, "data"), vals[i], op);
        json_decref(r);
    }
    json_t *r = zk_call(f, "{\"op\":\"children\",\"path\":\"/\"}");
    assert_json(json_object_get(json_object_get(r, "data"), "v0"), "42", "children's data v0");
    assert_json(json_object_get(json_object_get(r, "data"), "v1"), "\"42\"", "children's data v1");
    json_decref(r);
}

START_TEST(a_zk_snapshot_keeps_the_data_types)
{
    struct zksm z, back;
    zksm_init(&z);
    zksm_init(&back);
    for (int i = 0; i < NVALS; i++) {
        char op[120];
        snprintf(op, sizeof op, "{\"op\":\"create\",\"path\":\"/v%d\",\"data\":%s}", i, vals[i]);
        json_t *o = J(op), *r = zksm_apply(&z, (uint64_t)i + 1, "c1", o, NULL);
        ck_assert_msg(!json_object_get(r, "error"), "%s", op);
        json_decref(o);
        json_decref(r);
    }
    json_t *st = zksm_state(&z);
    char err[200];
    ck_assert_int_eq(zksm_set_state(&back, st, err, sizeof err), 0);
    json_decref(st);
    json_t *d = zksm_data(&back);
    for (int i = 0; i < NVALS; i++) {
        char path[8];
        snprintf(path, sizeof path, "/v%d", i);
        assert_json(json_object_get(d, path), vals[i], path);
    }
    json_decref(d);
    zksm_free(&z);
    zksm_free(&back);
}
END_TEST

START_TEST(zab_zk_keeps_any_json_data_and_its_type_across_restarts)
{
    struct fixture *f = fixture_new(&mode_zab, 3, "service=zk", 17);
    fixture_direct(f, 1);
    ck_assert(fixture_run_until(f, 5 * SEC, zab_leads, f));
    char op[160];
    for (int i = 0; i < NVALS; i++) {
        snprintf(op, sizeof op, "{\"op\":\"create\",\"path\":\"/v%d\",\"data\":%s}", i, i == 2 ? "\"x\"" : vals[i]);
        json_t *r = zk_call(f, op);
        ck_assert_msg(!strcmp(rtype(r), "zk_ok"), "%s: %s", op, json_string_value(json_object_get(r, "text")));
        json_decref(r);
    }
    json_t *r = zk_call(f, "{\"op\":\"set\",\"path\":\"/v2\",\"data\":{\"a\":[1]}}");
    ck_assert_str_eq(rtype(r), "zk_ok");
    json_decref(r);
    zk_reads(f);
    restart_all(f);
    ck_assert(fixture_run_until(f, 10 * SEC, zab_leads, f));
    zk_reads(f); /* the log (and its snapshot) kept every type */
    r = zk_call(f, "{\"op\":\"set\",\"path\":\"/v0\"}");
    ck_assert_int_eq(json_integer_value(json_object_get(r, "code")), 12);
    ck_assert(strstr(json_string_value(json_object_get(r, "text")), "\"data\" is missing"));
    json_decref(r);
    FIXTURE_OK(f);
    fixture_free(&f);
}
END_TEST

Suite *suite_jsonmodes(void);
Suite *suite_jsonmodes(void)
{
    Suite *s = suite_create("jsonmodes");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, spanner_keeps_every_json_value_and_its_type_across_restarts);
    tcase_add_test(tc, eventstore_keeps_any_json_payload_and_its_type_across_restarts);
    tcase_add_test(tc, outbox_carries_any_json_payload_to_the_consumer_and_keeps_it_across_restarts);
    tcase_add_test(tc, the_outbox_monitor_tells_42_from_the_string_42);
    tcase_add_test(tc, redlock_stores_any_json_value_and_a_read_answers_its_type);
    tcase_add_test(tc, txn_keeps_any_json_value_and_integer_keys_across_restarts_2pc);
    tcase_add_test(tc, txn_keeps_any_json_value_and_integer_keys_across_restarts_saga);
    tcase_add_test(tc, zab_zk_keeps_any_json_data_and_its_type_across_restarts);
    tcase_add_test(tc, the_txn_and_append_commands_type_their_words_as_the_repl_does);
    tcase_add_test(tc, a_zk_snapshot_keeps_the_data_types);
    suite_add_tcase(s, tc);
    return s;
}
