/* check_zk — the ZooKeeper-like tree (nodes/kit/zksm.h) on its own, and served by zab with
 * service=zk in the simulator: ephemeral znodes vanish exactly when their session expires (at
 * the same log index on every replica, and never before the session's timeout passed without a
 * heartbeat); a watch fires once per change; an election path has at most one leader at any
 * index, the same on every replica, also across a leader crash of the ensemble. */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "fence.h"
#include "fuzz_zk_one.h"
#include "test_util.h"
#include "mutex.h"
#include "sim.h"
#include "zksm.h"

extern const struct mode mode_zab;

#define MS 1000ull
#define SEC 1000000ull

/* ---- the state machine alone ------------------------------------------------------------------- */

static json_t *op(struct zksm *z, uint64_t i, const char *client, const char *text, json_t *fired)
{
    json_error_t je;
    json_t *o = json_loads(text, 0, &je);
    ck_assert_msg(o != NULL, "%s: %s", text, je.text);
    json_t *r = zksm_apply(z, i, client, o, fired);
    json_decref(o);
    return r;
}

static int err_of(const json_t *r)
{
    return (int)json_integer_value(json_object_get(r, "error"));
}

START_TEST(znodes_have_versions_sequences_and_conditional_updates)
{
    struct zksm z;
    zksm_init(&z);
    json_t *r = op(&z, 1, "c1", "{\"op\":\"create\",\"path\":\"/a/b\",\"data\":\"x\"}", NULL);
    ck_assert_int_eq(err_of(r), 20); /* no parent */
    json_decref(r);
    r = op(&z, 2, "c1", "{\"op\":\"create\",\"path\":\"/a/b\",\"data\":\"x\",\"parents\":true}", NULL);
    ck_assert_str_eq(json_string_value(json_object_get(r, "path")), "/a/b");
    ck_assert_int_eq(json_integer_value(json_object_get(r, "czxid")), 2);
    json_decref(r);
    r = op(&z, 3, "c1", "{\"op\":\"create\",\"path\":\"/a/b\"}", NULL);
    ck_assert_int_eq(err_of(r), 21);
    json_decref(r);
    r = op(&z, 4, "c1", "{\"op\":\"set\",\"path\":\"/a/b\",\"data\":\"y\",\"version\":0}", NULL);
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(r, "stat"), "version")), 1);
    json_decref(r);
    r = op(&z, 5, "c1", "{\"op\":\"set\",\"path\":\"/a/b\",\"data\":\"z\",\"version\":0}", NULL);
    ck_assert_int_eq(err_of(r), 22); /* bad version */
    json_decref(r);
    r = op(&z, 6, "c1", "{\"op\":\"delete\",\"path\":\"/a\"}", NULL);
    ck_assert_int_eq(err_of(r), 22); /* not empty */
    json_decref(r);
    for (int k = 0; k < 3; k++) {
        r = op(&z, 7 + (uint64_t)k, "c1", "{\"op\":\"create\",\"path\":\"/a/q-\",\"sequential\":true}", NULL);
        char want[32];
        snprintf(want, sizeof want, "/a/q-%010d", k);
        ck_assert_str_eq(json_string_value(json_object_get(r, "path")), want);
        json_decref(r);
    }
    r = op(&z, 10, "c1", "{\"op\":\"children\",\"path\":\"/a\"}", NULL);
    ck_assert_int_eq(json_array_size(json_object_get(r, "children")), 4);
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(r, "children"), 0)), "b");
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(r, "data"), "b")), "y");
    json_decref(r);
    r = op(&z, 11, "c1", "{\"op\":\"delete\",\"path\":\"/a/b\",\"version\":1}", NULL);
    ck_assert_ptr_null(json_object_get(r, "error"));
    json_decref(r);
    ck_assert_ptr_null(zksm_get(&z, "/a/b"));
    /* the state survives a snapshot */
    json_t *st = zksm_state(&z);
    struct zksm y;
    zksm_init(&y);
    char err[200];
    ck_assert_int_eq(zksm_set_state(&y, st, err, sizeof err), 0);
    json_t *st2 = zksm_state(&y);
    ck_assert(json_equal(st, st2));
    json_decref(st);
    json_decref(st2);
    zksm_free(&y);
    zksm_free(&z);
}
END_TEST

START_TEST(ephemeral_znodes_go_with_their_session_and_watches_fire_once)
{
    struct zksm z;
    zksm_init(&z);
    json_t *fired = json_array();
    json_t *r = op(&z, 1, "c1", "{\"op\":\"open\",\"timeout\":3000000}", fired);
    ck_assert_int_eq(json_integer_value(json_object_get(r, "session")), 1);
    json_decref(r);
    r = op(&z, 2, "c1", "{\"op\":\"create\",\"path\":\"/lock/l-\",\"ephemeral\":true,\"sequential\":true,\"session\":1,\"parents\":true}", fired);
    ck_assert_str_eq(json_string_value(json_object_get(r, "path")), "/lock/l-0000000000");
    json_decref(r);
    r = op(&z, 3, "c1", "{\"op\":\"create\",\"path\":\"/lock/l-0000000000/x\"}", fired);
    ck_assert_int_eq(err_of(r), 22); /* no children for ephemerals */
    json_decref(r);
    r = op(&z, 4, "c1", "{\"op\":\"create\",\"path\":\"/e\",\"ephemeral\":true,\"session\":99}", fired);
    ck_assert_int_eq(err_of(r), 14); /* no such session */
    json_decref(r);
    /* c2 watches the lock node's existence and the queue */
    json_decref(op(&z, 5, "c2", "{\"op\":\"exists\",\"path\":\"/lock/l-0000000000\",\"watch\":true}", fired));
    json_decref(op(&z, 6, "c2", "{\"op\":\"exists\",\"path\":\"/lock/l-0000000000\",\"watch\":true}", fired)); /* same watch */
    json_decref(op(&z, 7, "c2", "{\"op\":\"children\",\"path\":\"/lock\",\"watch\":true}", fired));
    ck_assert_int_eq((int)z.nw, 2);
    ck_assert_int_eq((int)json_array_size(fired), 0);
    r = op(&z, 8, "lab", "{\"op\":\"close\",\"session\":1,\"why\":\"expired\"}", fired);
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(r, "deleted"), 0)), "/lock/l-0000000000");
    json_decref(r);
    ck_assert_ptr_null(zksm_get(&z, "/lock/l-0000000000"));
    ck_assert_ptr_null(zksm_session(&z, 1));
    ck_assert_int_eq((int)json_array_size(fired), 2); /* the data watch (deleted) and the child watch */
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(fired, 0), "event")), "deleted");
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(fired, 0), "watch")), 5);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(fired, 1), "event")), "children");
    ck_assert_int_eq((int)z.nw, 0);
    /* one-shot: the next change fires nothing */
    json_decref(op(&z, 9, "c2", "{\"op\":\"create\",\"path\":\"/lock/m\"}", fired));
    ck_assert_int_eq((int)json_array_size(fired), 2);
    r = op(&z, 10, "lab", "{\"op\":\"close\",\"session\":1}", fired);
    ck_assert_int_eq(err_of(r), 14);
    json_decref(r);
    json_decref(fired);
    zksm_free(&z);
}
END_TEST

START_TEST(malformed_operations_are_refused_with_the_field_named)
{
    static const struct {
        const char *op, *want;
    } bad[] = {
        {"{}", "\"op\" is missing"},
        {"{\"op\":\"fly\"}", "unknown op \"fly\""},
        {"{\"op\":\"create\",\"path\":\"a\"}", "path must start with /"},
        {"{\"op\":\"create\",\"path\":\"/a/\"}", "must not end with /"},
        {"{\"op\":\"create\",\"path\":\"/a//b\"}", "empty, . or .. component"},
        {"{\"op\":\"create\",\"path\":\"/a/../b\"}", "empty, . or .. component"},
        {"{\"op\":\"create\",\"path\":\"/\"}", "the root / cannot be"},
        {"{\"op\":\"create\",\"path\":\"/a\",\"ephemeral\":1}", "\"ephemeral\" must be true or false"},
        {"{\"op\":\"set\",\"path\":\"/a\"}", "\"data\" is missing"},
        {"{\"op\":\"delete\",\"path\":\"/a\",\"version\":-2}", "\"version\" must be -1"},
        {"{\"op\":\"open\",\"timeout\":5}", "at least 1000"},
        {"{\"op\":\"close\"}", "\"session\" is missing"},
        {"[1]", "must be a JSON object"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *o = json_loads(bad[i].op, JSON_DECODE_ANY, NULL);
        char err[300] = "";
        ck_assert_int_eq(zksm_check_op(o, err, sizeof err), CL_EINVAL);
        ck_assert_msg(strstr(err, bad[i].want), "case %zu: %s", i, err);
        json_decref(o);
    }
    struct zksm z;
    zksm_init(&z);
    char err[200];
    json_t *st = json_loads("{\"nodes\":[[\"/x\",\"\",0,0,0,0,0,0]],\"sessions\":[],\"watches\":[]}", 0, NULL);
    ck_assert_int_eq(zksm_set_state(&z, st, err, sizeof err), CL_EINVAL);
    json_decref(st);
    zksm_free(&z);
}
END_TEST

/* ---- served by zab (service=zk) in the simulator ------------------------------------------------ */

struct zkrun {
    struct fixture *f;
    uint64_t sid;               /* the session under test */
    char eph[64];               /* its ephemeral znode */
    uint64_t last_hb_us;        /* when its last heartbeat was sent */
    uint64_t timeout_us;
    int dirty[CL_MAXN];
    uint64_t expired_at_index;  /* the close entry's index, from the zk_session events */
    int expired_events;
    uint64_t early;             /* an expiry proposed before its timeout: the time it was */
    json_t *leaders;            /* "index" -> leader of /leader/x at that index (first replica to apply it) */
    const char *elect_dir;
    json_t *watch_fires;        /* "node/watch" -> count */
};

static json_t *zk(struct fixture *f, int node, json_t *o)
{
    json_t *r = fixture_call(f, node, json_pack("{s:s,s:o}", "type", "zk", "op", o), 5 * SEC);
    ck_assert_msg(r != NULL, "seed %llu: no reply", (unsigned long long)f->seed);
    return r;
}

static void heartbeat(struct zkrun *z, uint64_t sid)
{
    for (int i = 0; i < z->f->n; i++)
        if (sim_node_state(z->f->s, i) == SIM_UP)
            fixture_send(z->f, i, json_pack("{s:s,s:I}", "type", "zk_heartbeat", "session", (json_int_t)sid));
    if (sid == z->sid)
        z->last_hb_us = sim_now(z->f->s);
}

static void on_event(void *ud, const json_t *ev)
{
    struct zkrun *z = ud;
    const char *e = json_string_value(json_object_get(ev, "ev"));
    const char *node = json_string_value(json_object_get(ev, "node"));
    int idx;
    if (!e || !node || parse_node_id(node, z->f->n, &idx) < 0)
        return;
    if (!strcmp(e, "apply"))
        z->dirty[idx] = 1;
    if (!strcmp(e, "zk_session")) {
        const char *what = json_string_value(json_object_get(ev, "what"));
        uint64_t sid = (uint64_t)json_integer_value(json_object_get(ev, "session"));
        if (what && !strcmp(what, "expiring") && sid == z->sid && sim_now(z->f->s) < z->last_hb_us + z->timeout_us)
            z->early = sim_now(z->f->s);
        if (what && !strcmp(what, "expired") && sid == z->sid) {
            uint64_t at = (uint64_t)json_integer_value(json_object_get(ev, "index"));
            if (z->expired_events++ && at != z->expired_at_index)
                fixture_failf(z->f, "session %llu expired at index %llu on %s, at %llu elsewhere", (unsigned long long)sid,
                              (unsigned long long)at, node, (unsigned long long)z->expired_at_index);
            z->expired_at_index = at;
        }
    }
    if (!strcmp(e, "zk_watch")) {
        char k[64];
        snprintf(k, sizeof k, "%s/%lld", node, (long long)json_integer_value(json_object_get(ev, "watch")));
        json_object_set_new(z->watch_fires, k, json_integer(json_integer_value(json_object_get(z->watch_fires, k)) + 1));
        if (json_integer_value(json_object_get(z->watch_fires, k)) > 1)
            fixture_failf(z->f, "watch %s fired twice", k);
    }
}

/* After every step, each replica that applied something: an ephemeral znode exists exactly
 * while its session does; the leader of the election directory is the one every replica saw
 * at that index. */
static void on_step(void *ud)
{
    struct zkrun *z = ud;
    for (int i = 0; i < z->f->n; i++) {
        if (!z->dirty[i] || sim_node_state(z->f->s, i) != SIM_UP)
            continue;
        z->dirty[i] = 0;
        json_t *st = sim_status(z->f->s, i);
        const json_t *data = json_object_get(st, "data");
        const json_t *sess = json_object_get(json_object_get(json_object_get(st, "extra"), "zk"), "sessions");
        uint64_t applied = (uint64_t)json_integer_value(json_object_get(st, "applied"));
        int open = 0;
        size_t k;
        json_t *v;
        json_array_foreach(sess, k, v) open |= (uint64_t)json_integer_value(v) == z->sid;
        if (z->eph[0] && z->sid) {
            int exists = json_object_get(data, z->eph) != NULL;
            if (exists && !open)
                fixture_failf(z->f, "n%d at index %llu: %s outlived its session %llu", i + 1, (unsigned long long)applied,
                              z->eph, (unsigned long long)z->sid);
            if (!exists && open && z->expired_at_index == 0 && applied > 0 && json_object_get(data, "/ready"))
                fixture_failf(z->f, "n%d at index %llu: %s vanished while its session is open", i + 1,
                              (unsigned long long)applied, z->eph);
        }
        if (z->elect_dir) {
            /* the lowest child under the directory leads */
            const char *best = NULL, *who = NULL, *key;
            size_t dl = strlen(z->elect_dir);
            json_object_foreach((json_t *)data, key, v) {
                if (strncmp(key, z->elect_dir, dl) || key[dl] != '/' || strchr(key + dl + 1, '/'))
                    continue;
                if (!best || strcmp(key, best) < 0) {
                    best = key;
                    who = json_string_value(v);
                }
            }
            char ik[32];
            snprintf(ik, sizeof ik, "%llu", (unsigned long long)applied);
            const char *seen = json_string_value(json_object_get(z->leaders, ik));
            if (!seen)
                json_object_set_new(z->leaders, ik, json_string(who ? who : "-"));
            else if (strcmp(seen, who ? who : "-"))
                fixture_failf(z->f, "at index %llu n%d says %s leads %s, another replica said %s", (unsigned long long)applied,
                              i + 1, who ? who : "nobody", z->elect_dir, seen);
        }
        json_decref(st);
    }
}

static uint64_t open_session(struct fixture *f, uint64_t timeout)
{
    json_t *r = zk(f, 0, json_pack("{s:s,s:I}", "op", "open", "timeout", (json_int_t)timeout));
    uint64_t sid = (uint64_t)json_integer_value(json_object_get(r, "session"));
    ck_assert_msg(sid > 0, "seed %llu: open failed", (unsigned long long)f->seed);
    json_decref(r);
    return sid;
}

static int has_leader(void *ud)
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

static struct zkrun *run_new(uint64_t seed)
{
    struct zkrun *z = xcalloc(1, sizeof *z);
    z->f = fixture_new(&mode_zab, 3, "service=zk", seed);
    z->leaders = json_object();
    z->watch_fires = json_object();
    fixture_watch(z->f, on_event, on_step, z);
    ck_assert(fixture_run_until(z->f, 5 * SEC, has_leader, z->f));
    return z;
}

static void run_free(struct zkrun *z)
{
    json_decref(z->leaders);
    json_decref(z->watch_fires);
    fixture_free(&z->f);
    free(z);
}

START_TEST(an_ephemeral_znode_vanishes_exactly_when_its_session_expires)
{
    for (uint64_t seed = 1; seed <= 6; seed++) {
        struct zkrun *z = run_new(seed);
        struct fixture *f = z->f;
        z->timeout_us = 600 * MS;
        z->sid = open_session(f, z->timeout_us);
        heartbeat(z, z->sid);
        json_t *r = zk(f, 0, json_pack("{s:s,s:s,s:b,s:I}", "op", "create", "path", "/e", "ephemeral", 1, "session",
                                       (json_int_t)z->sid));
        ck_assert_str_eq(json_string_value(json_object_get(r, "path")), "/e");
        json_decref(r);
        str_copy(z->eph, "/e", sizeof z->eph);
        json_decref(zk(f, 0, json_pack("{s:s,s:s}", "op", "create", "path", "/ready")));
        /* alive for 3 s of heartbeats every 150 ms: nothing expires */
        for (int k = 0; k < 20; k++) {
            heartbeat(z, z->sid);
            fixture_run(f, 150 * MS);
        }
        ck_assert_msg(z->expired_events == 0, "seed %llu: the session expired while heartbeats flowed", (unsigned long long)seed);
        /* silence: it expires after its timeout, at one index everywhere */
        fixture_run(f, 2 * SEC);
        FIXTURE_OK(f);
        ck_assert_msg(z->expired_events == 3, "seed %llu: %d replicas saw the expiry", (unsigned long long)seed,
                      z->expired_events);
        ck_assert_msg(!z->early, "seed %llu: expiry proposed %llums after the last heartbeat", (unsigned long long)seed,
                      (unsigned long long)((z->early - z->last_hb_us) / 1000));
        json_t *g = zk(f, 1, json_pack("{s:s,s:s}", "op", "exists", "path", "/e"));
        ck_assert(json_is_null(json_object_get(g, "stat")));
        json_decref(g);
        run_free(z);
    }
}
END_TEST

START_TEST(a_watch_fires_once_per_change)
{
    struct zkrun *z = run_new(11);
    struct fixture *f = z->f;
    json_decref(zk(f, 0, json_pack("{s:s,s:s,s:s}", "op", "create", "path", "/config", "data", "a")));
    json_t *r = zk(f, 0, json_pack("{s:s,s:s,s:b}", "op", "get", "path", "/config", "watch", 1));
    json_int_t w1 = json_integer_value(json_object_get(r, "watch"));
    json_decref(r);
    json_decref(zk(f, 0, json_pack("{s:s,s:s,s:s}", "op", "set", "path", "/config", "data", "b")));
    json_decref(zk(f, 0, json_pack("{s:s,s:s,s:s}", "op", "set", "path", "/config", "data", "c")));
    fixture_run(f, 500 * MS);
    char k[32];
    for (int i = 0; i < 3; i++) {
        snprintf(k, sizeof k, "n%d/%lld", i + 1, (long long)w1);
        ck_assert_msg(json_integer_value(json_object_get(z->watch_fires, k)) == 1, "%s fired %lld times", k,
                      (long long)json_integer_value(json_object_get(z->watch_fires, k)));
    }
    ck_assert_int_eq((int)json_object_size(z->watch_fires), 3); /* the second set fired nothing */
    r = zk(f, 0, json_pack("{s:s,s:s,s:b}", "op", "get", "path", "/config", "watch", 1));
    json_int_t w2 = json_integer_value(json_object_get(r, "watch"));
    ck_assert_str_eq(json_string_value(json_object_get(r, "data")), "c");
    json_decref(r);
    ck_assert_int_gt(w2, w1);
    json_decref(zk(f, 0, json_pack("{s:s,s:s}", "op", "delete", "path", "/config")));
    fixture_run(f, 500 * MS);
    ck_assert_int_eq((int)json_object_size(z->watch_fires), 6);
    FIXTURE_OK(f);
    run_free(z);
}
END_TEST

START_TEST(an_election_path_has_one_leader_at_any_index_everywhere)
{
    for (uint64_t seed = 21; seed <= 26; seed++) {
        struct zkrun *z = run_new(seed);
        struct fixture *f = z->f;
        z->elect_dir = "/leader/x";
        uint64_t sid[3];
        for (int c = 0; c < 3; c++) {
            sid[c] = open_session(f, 800 * MS);
            char who[8];
            snprintf(who, sizeof who, "p%d", c + 1);
            json_decref(zk(f, 0, json_pack("{s:s,s:s,s:s,s:b,s:b,s:b,s:I}", "op", "create", "path", "/leader/x/n-", "data",
                                           who, "ephemeral", 1, "sequential", 1, "parents", 1, "session", (json_int_t)sid[c])));
        }
        /* p1 leads; then it falls silent (a crashed or paused client), and later p2 too, while the
         * ensemble loses its own leader once */
        for (int round = 0; round < 40; round++) {
            for (int c = 0; c < 3; c++)
                if (!(c == 0 && round >= 5) && !(c == 1 && round >= 20))
                    heartbeat(z, sid[c]);
            if (round == 10) {
                for (int i = 0; i < f->n; i++) {
                    json_t *st = sim_status(f->s, i);
                    if (!strcmp(json_string_value(json_object_get(st, "role")), "leading"))
                        sim_crash(f->s, i);
                    json_decref(st);
                }
            }
            if (round == 25)
                for (int i = 0; i < f->n; i++)
                    if (sim_node_state(f->s, i) == SIM_DOWN)
                        sim_restart(f->s, i);
            fixture_run(f, 150 * MS);
        }
        FIXTURE_OK(f);
        /* p3 leads in the end, on every replica that is up */
        int saw_p3 = 0;
        const char *key;
        json_t *v;
        json_object_foreach(z->leaders, key, v) saw_p3 |= !strcmp(json_string_value(v), "p3");
        ck_assert_msg(saw_p3, "seed %llu: the leadership never reached p3", (unsigned long long)seed);
        run_free(z);
    }
}
END_TEST

START_TEST(requests_are_refused_without_service_zk_and_when_malformed)
{
    struct fixture *f = fixture_new(&mode_zab, 3, "", 3);
    ck_assert(fixture_run_until(f, 5 * SEC, has_leader, f));
    json_t *r = fixture_call(f, 0, json_pack("{s:s,s:{s:s}}", "type", "zk", "op", "op", "sync"), 3 * SEC);
    ck_assert_int_eq(json_integer_value(json_object_get(r, "code")), 10);
    json_decref(r);
    fixture_free(&f);
    f = fixture_new(&mode_zab, 3, "service=zk", 3);
    ck_assert(fixture_run_until(f, 5 * SEC, has_leader, f));
    r = fixture_call(f, 0, json_pack("{s:s,s:{s:s}}", "type", "zk", "op", "op", "create"), 3 * SEC);
    ck_assert_int_eq(json_integer_value(json_object_get(r, "code")), 12);
    ck_assert_msg(strstr(json_string_value(json_object_get(r, "text")), "\"path\" is missing"), "%s",
                  json_string_value(json_object_get(r, "text")));
    json_decref(r);
    r = fixture_call(f, 0, json_pack("{s:s,s:s}", "type", "zk_heartbeat", "session", "x"), 3 * SEC);
    ck_assert_int_eq(json_integer_value(json_object_get(r, "code")), 12);
    json_decref(r);
    r = fixture_call(f, 0, json_pack("{s:s,s:{s:s}}", "type", "zk", "op", "op", "sync"), 3 * SEC);
    ck_assert_str_eq(json_string_value(json_object_get(r, "type")), "zk_ok");
    json_decref(r);
    FIXTURE_OK(f);
    fixture_free(&f);
}
END_TEST


/* ---- mutual exclusion with and without fencing: the lock recipe against the ensemble -------------- */

static void mrec(struct mutex_hist *h, struct fixture *f, json_t *rec)
{
    char err[200];
    json_object_set_new(rec, "ev", json_string("mutex"));
    json_object_set_new(rec, "t", json_integer((json_int_t)sim_now(f->s)));
    ck_assert_msg(mutex_hist_add(h, rec, (int)h->n + 1, err, sizeof err) == 1, "%s", err);
    json_decref(rec);
}

static void swrite(struct mutex_hist *h, struct fixture *f, struct fence *fe, const char *who, uint64_t tok,
                   const char *val)
{
    enum fence_outcome o = fence_write(fe, "order-7", tok, val, who, NULL);
    mrec(h, f, json_pack("{s:s,s:s,s:s,s:I,s:s,s:s,s:b,s:b}", "op", "write", "client", who, "lock", "o", "token",
                         (json_int_t)tok, "resource", "order-7", "value", val, "accepted", o != FENCE_REFUSED, "fencing",
                         fe->on));
}

/* Creates a's lock znode in a new session; returns its token (czxid), the znode in node. */
static uint64_t enqueue(struct fixture *f, uint64_t *sid, char node[64])
{
    *sid = open_session(f, 500 * MS);
    json_t *r = zk(f, 0, json_pack("{s:s,s:s,s:b,s:b,s:b,s:I}", "op", "create", "path", "/locks/o/lock-", "ephemeral", 1,
                                   "sequential", 1, "parents", 1, "session", (json_int_t)*sid));
    ck_assert_msg(json_object_get(r, "path") != NULL, "seed %llu: create failed", (unsigned long long)f->seed);
    str_copy(node, json_string_value(json_object_get(r, "path")), 64);
    uint64_t tok = (uint64_t)json_integer_value(json_object_get(r, "czxid"));
    json_decref(r);
    return tok;
}

/* 1 when node is the lowest child of /locks/o, 0 when another is, -1 when it is gone. */
static int lowest(struct fixture *f, const char *node)
{
    json_t *r = zk(f, 0, json_pack("{s:s,s:s}", "op", "children", "path", "/locks/o"));
    const json_t *kids = json_object_get(r, "children");
    int at = -1;
    for (size_t i = 0; i < json_array_size(kids); i++)
        if (!strcmp(json_string_value(json_array_get(kids, i)), strrchr(node, '/') + 1))
            at = (int)i;
    json_decref(r);
    return at < 0 ? -1 : at == 0;
}

/* A holds the lock and freezes (no heartbeat) before its second write; B waits for the lock
 * (a client whose session is lost queues again), writes, and A wakes and writes. nemesis:
 * 0 isolates the ensemble's leader for a while, 1 jumps its clock 2 s ahead (it expires
 * sessions early), 2 crashes a follower and restarts it. Returns the mutex verdict. */
static int pause_past_lease(uint64_t seed, int fencing, int nemesis, struct sb *report)
{
    struct zkrun *z = run_new(seed);
    struct fixture *f = z->f;
    struct mutex_hist *h = mutex_hist_new();
    struct fence fe;
    fence_init(&fe, fencing);
    uint64_t sa, sb;
    char na[64], nb[64];
    uint64_t ta = enqueue(f, &sa, na);
    ck_assert_int_eq(lowest(f, na), 1);
    mrec(h, f, json_pack("{s:s,s:s,s:s,s:I}", "op", "acquire", "client", "a", "lock", "o", "token", (json_int_t)ta));
    swrite(h, f, &fe, "a", ta, "a1");
    uint64_t tb = enqueue(f, &sb, nb);
    int leader = -1;
    for (int i = 0; i < f->n; i++) {
        json_t *st = sim_status(f->s, i);
        if (!strcmp(json_string_value(json_object_get(st, "role")), "leading"))
            leader = i;
        json_decref(st);
    }
    if (nemesis == 0 && leader >= 0)
        faults_isolate(sim_faults(f->s), leader);
    else if (nemesis == 1 && leader >= 0)
        sim_clocks(f->s, leader)->skew_us += 2000000;
    else if (nemesis == 2)
        sim_crash(f->s, leader == 1 ? 2 : 1);
    int b_holds = 0;
    for (int k = 0; k < 80 && !b_holds; k++) {
        heartbeat(z, sb);
        fixture_run(f, 100 * MS);
        if (k == 8) {
            faults_heal(sim_faults(f->s));
            for (int i = 0; i < f->n; i++)
                if (sim_node_state(f->s, i) == SIM_DOWN)
                    sim_restart(f->s, i);
        }
        int l = lowest(f, nb);
        if (l < 0)
            tb = enqueue(f, &sb, nb); /* B's session was lost (a clock jump): queue again */
        else if (l == 1)
            b_holds = 1;
    }
    ck_assert_msg(b_holds, "seed %llu: b never got the lock", (unsigned long long)seed);
    mrec(h, f, json_pack("{s:s,s:s,s:s,s:I}", "op", "acquire", "client", "b", "lock", "o", "token", (json_int_t)tb));
    swrite(h, f, &fe, "b", tb, "b1");
    /* a wakes up: it writes before it hears that its session is gone */
    swrite(h, f, &fe, "a", ta, "a2");
    json_t *r = fixture_call(f, 0, json_pack("{s:s,s:I}", "type", "zk_heartbeat", "session", (json_int_t)sa), 5 * SEC);
    ck_assert(json_is_false(json_object_get(r, "alive")));
    json_decref(r);
    mrec(h, f, json_pack("{s:s,s:s,s:s,s:I,s:s}", "op", "release", "client", "a", "lock", "o", "token", (json_int_t)ta, "why",
                         "expired"));
    json_decref(zk(f, 0, json_pack("{s:s,s:s}", "op", "delete", "path", nb)));
    mrec(h, f, json_pack("{s:s,s:s,s:s,s:I,s:s}", "op", "release", "client", "b", "lock", "o", "token", (json_int_t)tb, "why",
                         "unlock"));
    FIXTURE_OK(f);
    int v = mutex_check(h, report);
    mutex_hist_free(&h);
    fence_free(&fe);
    run_free(z);
    return v;
}

START_TEST(mutual_exclusion_holds_with_fencing_under_pauses_partitions_and_clock_jumps)
{
    for (uint64_t seed = 41; seed <= 52; seed++) {
        struct sb out = {0};
        int v = pause_past_lease(seed, 1, (int)(seed % 3), &out);
        ck_assert_msg(v == 0, "seed %llu: %s", (unsigned long long)seed, out.s);
        ck_assert_msg(strstr(out.s, "overlap fenced") || strstr(out.s, "overlaps fenced"), "seed %llu: %s",
                      (unsigned long long)seed, out.s);
        sb_free(&out);
    }
}
END_TEST

START_TEST(without_fencing_the_checker_flags_two_writers)
{
    struct sb out = {0};
    ck_assert_int_eq(pause_past_lease(7, 0, 2, &out), 1);
    ck_assert_msg(strstr(out.s, "STALE TOKEN: the storage accepted a's write order-7=a2"), "%s", out.s);
    ck_assert_msg(strstr(out.s, "OVERLAP: a (token"), "%s", out.s);
    sb_free(&out);
}
END_TEST

START_TEST(the_fuzz_corpus_replays_cleanly)
{
    ck_assert_int_ge(test_replay_corpus("zk", fuzz_zk_one), 5);
}
END_TEST

Suite *suite_zk(void);
Suite *suite_zk(void)
{
    Suite *s = suite_create("zk");
    TCase *tc = tcase_create("zksm");
    tcase_add_test(tc, znodes_have_versions_sequences_and_conditional_updates);
    tcase_add_test(tc, ephemeral_znodes_go_with_their_session_and_watches_fire_once);
    tcase_add_test(tc, malformed_operations_are_refused_with_the_field_named);
    tcase_add_test(tc, the_fuzz_corpus_replays_cleanly);
    suite_add_tcase(s, tc);
    TCase *sim = tcase_create("zab service=zk");
    tcase_set_timeout(sim, 120);
    tcase_add_test(sim, an_ephemeral_znode_vanishes_exactly_when_its_session_expires);
    tcase_add_test(sim, a_watch_fires_once_per_change);
    tcase_add_test(sim, an_election_path_has_one_leader_at_any_index_everywhere);
    tcase_add_test(sim, requests_are_refused_without_service_zk_and_when_malformed);
    tcase_add_test(sim, mutual_exclusion_holds_with_fencing_under_pauses_partitions_and_clock_jumps);
    tcase_add_test(sim, without_fencing_the_checker_flags_two_writers);
    suite_add_tcase(s, sim);
    return s;
}
