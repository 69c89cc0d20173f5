/* check_maelstrom — the maelstrom mode's bridge without processes: the line decoder (and its
 * fuzz corpus), and the mode driven through a fake environment that records what it sends to
 * nodes and clients and what it writes to the program. The real processes are the scenarios
 * tests/scenarios/maelstrom_*.lab (Python example nodes of examples/maelstrom/). */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <string.h>

#include "fuzz_maelstrom_one.h"
#include "maelstrom.h"
#include "mode.h"
#include "sim.h"
#include "test_util.h"

extern const struct mode mode_maelstrom;

static int decode(const char *line, struct mline *m, char *err)
{
    return maelstrom_decode(line, strlen(line), m, err, 256);
}

START_TEST(the_decoder_takes_a_message_and_names_what_is_wrong)
{
    struct mline m;
    char err[256];
    ck_assert_int_eq(decode("{\"src\":\"n1\",\"dest\":\"c4\",\"body\":{\"type\":\"read_ok\",\"value\":42,\"in_reply_to\":3}}", &m, err), 0);
    ck_assert_str_eq(m.src, "n1");
    ck_assert_str_eq(m.dest, "c4");
    ck_assert_int_eq(json_integer_value(json_object_get(m.body, "value")), 42);
    json_decref(m.body);
    ck_assert_int_eq(decode("{\"dest\":\"n2\",\"body\":{\"type\":\"gossip\"}}", &m, err), 0);
    ck_assert_str_eq(m.src, "");
    json_decref(m.body);
    static const struct { const char *line, *why; } bad[] = {
        {"hello", "not JSON"},
        {"[1]", "not a JSON object"},
        {"{\"body\":{\"type\":\"a\"}}", "\"dest\" is missing"},
        {"{\"dest\":7,\"body\":{\"type\":\"a\"}}", "\"dest\" is not a string"},
        {"{\"dest\":\"a b\",\"body\":{\"type\":\"a\"}}", "\"dest\" is not a valid id"},
        {"{\"dest\":\"c1\"}", "\"body\" is missing"},
        {"{\"dest\":\"c1\",\"body\":[]}", "\"body\" is not an object"},
        {"{\"dest\":\"c1\",\"body\":{}}", "\"body.type\" is missing"},
        {"{\"dest\":\"c1\",\"body\":{\"type\":\"\"}}", "\"body.type\" is not a non-empty string"},
        {"{\"dest\":\"c1\",\"body\":{\"type\":\"a\",\"msg_id\":1.5}}", "\"body.msg_id\" is not an integer"},
        {"{\"dest\":\"c1\",\"dest\":\"c2\",\"body\":{\"type\":\"a\"}}", "not JSON"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_int_eq(decode(bad[i].line, &m, err), -1);
        ck_assert_msg(strstr(err, bad[i].why), "%s: %s (wanted %s)", bad[i].line, err, bad[i].why);
        ck_assert_ptr_null(m.body);
    }
}
END_TEST

START_TEST(the_decoder_corpus_replays_cleanly)
{
    const char *root = getenv("CONLAB_CORPUS");
    char *path = xasprintf("%s/maelstrom", root && *root ? root : "tests/corpus");
    DIR *d = opendir(path);
    ck_assert_msg(d != NULL, "no corpus directory %s", path);
    int files = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char *file = xasprintf("%s/%s", path, e->d_name);
        FILE *f = fopen(file, "rb");
        ck_assert(f != NULL);
        struct sb b = {0};
        char buf[65536];
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, f)) > 0)
            sb_addn(&b, buf, n);
        fclose(f);
        const char *bad = fuzz_maelstrom_one((const uint8_t *)(b.s ? b.s : ""), b.len);
        ck_assert_msg(bad == NULL, "%s: %s", file, bad);
        sb_free(&b);
        free(file);
        files++;
    }
    closedir(d);
    free(path);
    ck_assert_int_ge(files, 5);
}
END_TEST

/* ---- a fake environment with a program ------------------------------------------------ */

struct fake {
    struct env env;
    char ids[3][CL_IDLEN];
    json_t *sent;       /* [{"dest":…,"body":…}] */
    json_t *events;     /* [{"ev":…,…}] */
    struct sb prog;     /* what the program was given on stdin */
    int started, start_fails;
    char argv0[64], argv1[64];
};

static void f_send(struct env *e, const char *dest, json_t *body)
{
    struct fake *f = e->impl;
    json_array_append_new(f->sent, json_pack("{s:s,s:o}", "dest", dest, "body", body));
}
static uint64_t f_timer_set(struct env *e, uint64_t us, int kind, uint64_t arg) { (void)e; (void)us; (void)kind; (void)arg; return 1; }
static void f_timer_cancel(struct env *e, uint64_t id) { (void)e; (void)id; }
static uint64_t f_now(struct env *e) { (void)e; return 0; }
static uint64_t f_rand(struct env *e) { (void)e; return 4; }
static void f_event(struct env *e, const char *ev, json_t *fields)
{
    struct fake *f = e->impl;
    json_t *o = fields ? fields : json_object();
    json_object_set_new(o, "ev", json_string(ev));
    json_array_append_new(f->events, o);
}
static int f_prog_start(struct env *e, char *const argv[], char *err, size_t errlen)
{
    struct fake *f = e->impl;
    if (f->start_fails) {
        snprintf(err, errlen, "cannot run %s: No such file or directory", argv[0]);
        return -1;
    }
    f->started = 1;
    str_copy(f->argv0, argv[0], sizeof f->argv0);
    str_copy(f->argv1, argv[1] ? argv[1] : "", sizeof f->argv1);
    return 0;
}
static int f_prog_write(struct env *e, const char *data, size_t len)
{
    struct fake *f = e->impl;
    sb_addn(&f->prog, data, len);
    return 0;
}

static const struct env_ops fake_ops = {
    .send = f_send, .timer_set = f_timer_set, .timer_cancel = f_timer_cancel, .now_us = f_now,
    .event = f_event, .rand64 = f_rand, .prog_start = f_prog_start, .prog_write = f_prog_write,
};

static const char *fake_workload;

static void *fake_start(struct fake *f, const char *bin, const char *args, int fails)
{
    memset(f, 0, sizeof *f);
    f->env.ops = &fake_ops;
    f->env.impl = f;
    f->env.n_nodes = 3;
    f->env.nodes = f->ids;
    for (int i = 0; i < 3; i++)
        node_name(i, f->env.nodes[i]);
    f->env.self_idx = 1;
    str_copy(f->env.self, "n2", CL_IDLEN);
    f->sent = json_array();
    f->events = json_array();
    f->start_fails = fails;
    struct opts o = {0};
    if (bin)
        opts_set(&o, "bin", bin);
    if (args)
        opts_set(&o, "args", args);
    if (fake_workload)
        opts_set(&o, "workload", fake_workload);
    char err[256];
    void *st = mode_maelstrom.create(&f->env, &o, err, sizeof err);
    opts_free(&o);
    if (st)
        mode_maelstrom.start(st);
    return st;
}

static void fake_free(struct fake *f, void *st)
{
    if (st)
        mode_maelstrom.destroy(st);
    json_decref(f->sent);
    json_decref(f->events);
    sb_free(&f->prog);
}

static const char *role(void *st)
{
    static char r[32];
    json_t *s = mode_maelstrom.status(st);
    str_copy(r, json_string_value(json_object_get(s, "role")), sizeof r);
    json_decref(s);
    return r;
}

static void line(void *st, const char *l)
{
    mode_maelstrom.on_prog_line(st, l, strlen(l));
}

START_TEST(the_program_gets_init_then_every_message_as_it_came)
{
    struct fake f;
    void *st = fake_start(&f, "./node.py", "-u,x", 0);
    ck_assert_ptr_nonnull(st);
    ck_assert(f.started);
    ck_assert_str_eq(f.argv0, "./node.py");
    ck_assert_str_eq(f.argv1, "-u");
    ck_assert_str_eq(role(st), "starting");
    ck_assert_ptr_nonnull(strstr(f.prog.s, "\"type\":\"init\""));
    ck_assert_ptr_nonnull(strstr(f.prog.s, "\"node_id\":\"n2\""));
    ck_assert_ptr_nonnull(strstr(f.prog.s, "\"node_ids\":[\"n1\",\"n2\",\"n3\"]"));
    line(st, "{\"src\":\"n2\",\"dest\":\"lab\",\"body\":{\"type\":\"init_ok\",\"in_reply_to\":1}}");
    ck_assert_str_eq(role(st), "node");
    ck_assert_int_eq(json_array_size(f.sent), 0); /* init_ok is the bridge's, nobody else's */
    sb_free(&f.prog);
    json_t *req = json_pack("{s:s,s:i,s:s,s:i}", "type", "write", "msg_id", 9, "key", "ext", "value", 42);
    ck_assert_int_eq(mode_dispatch(&mode_maelstrom, st, "c7", req), 0);
    json_decref(req);
    ck_assert_str_eq(f.prog.s, "{\"src\":\"c7\",\"dest\":\"n2\",\"body\":{\"type\":\"write\",\"msg_id\":9,\"key\":\"ext\",\"value\":42}}\n");
    /* its answers: to a client, to a peer */
    line(st, "{\"src\":\"n2\",\"dest\":\"c7\",\"body\":{\"type\":\"write_ok\",\"in_reply_to\":9}}");
    line(st, "{\"src\":\"n2\",\"dest\":\"n1\",\"body\":{\"type\":\"gossip\",\"msg_id\":3,\"seen\":[1]}}");
    ck_assert_int_eq(json_array_size(f.sent), 2);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(f.sent, 0), "dest")), "c7");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(f.sent, 1), "dest")), "n1");
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(json_array_get(f.sent, 0), "body"), "in_reply_to")), 9);
    fake_free(&f, st);
}
END_TEST

START_TEST(garbage_from_the_program_is_an_error_event_and_the_node_goes_on)
{
    struct fake f;
    void *st = fake_start(&f, "node", NULL, 0);
    line(st, "{\"src\":\"n2\",\"dest\":\"lab\",\"body\":{\"type\":\"init_ok\",\"in_reply_to\":1}}");
    size_t ev0 = json_array_size(f.events);
    line(st, "hello world");
    line(st, "{\"dest\":\"c1\",\"body\":{\"type\":5}}");
    ck_assert_int_eq(json_array_size(f.events), ev0 + 2);
    const char *text = json_string_value(json_object_get(json_array_get(f.events, ev0 + 1), "text"));
    ck_assert_ptr_nonnull(strstr(text, "not a Maelstrom message"));
    ck_assert_ptr_nonnull(strstr(text, "body.type"));
    line(st, "{\"dest\":\"c1\",\"body\":{\"type\":\"echo_ok\",\"in_reply_to\":2}}");
    ck_assert_int_eq(json_array_size(f.sent), 1);
    json_t *s = mode_maelstrom.status(st);
    ck_assert_int_eq(json_integer_value(json_object_get(s, "refused")), 2);
    json_decref(s);
    fake_free(&f, st);
}
END_TEST

START_TEST(a_service_request_goes_to_n1_and_its_answer_back_to_the_program)
{
    struct fake f;
    void *st = fake_start(&f, "node", NULL, 0); /* n2 */
    sb_free(&f.prog);
    line(st, "{\"src\":\"n2\",\"dest\":\"seq-kv\",\"body\":{\"type\":\"read\",\"key\":\"k\",\"msg_id\":4}}");
    ck_assert_int_eq(json_array_size(f.sent), 1);
    const json_t *out = json_array_get(f.sent, 0);
    ck_assert_str_eq(json_string_value(json_object_get(out, "dest")), "n1");
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(out, "body"), "type")), "mael_svc");
    json_t *ok = json_pack("{s:s,s:s,s:{s:s,s:i,s:i}}", "type", "mael_svc_ok", "svc", "seq-kv", "body", "type", "read_ok",
                           "value", 7, "in_reply_to", 4);
    mode_dispatch(&mode_maelstrom, st, "n3", ok); /* not from n1: ignored */
    ck_assert_ptr_null(f.prog.s);
    mode_dispatch(&mode_maelstrom, st, "n1", ok);
    json_decref(ok);
    ck_assert_ptr_nonnull(strstr(f.prog.s, "\"src\":\"seq-kv\""));
    ck_assert_ptr_nonnull(strstr(f.prog.s, "\"value\":7"));
    ck_assert_ptr_nonnull(strstr(f.prog.s, "\"in_reply_to\":4"));
    fake_free(&f, st);
}
END_TEST

/* n1 serves the services: read, write, cas (create_if_not_exists), any JSON key, lin-tso. */
START_TEST(n1_serves_the_kv_services_and_the_timestamp_oracle)
{
    struct fake f;
    memset(&f, 0, sizeof f);
    void *st = fake_start(&f, "node", NULL, 0);
    mode_maelstrom.destroy(st);
    f.env.self_idx = 0;
    str_copy(f.env.self, "n1", CL_IDLEN);
    struct opts o = {0};
    opts_set(&o, "bin", "node");
    char err[256];
    st = mode_maelstrom.create(&f.env, &o, err, sizeof err);
    opts_free(&o);
    ck_assert_ptr_nonnull(st);
    mode_maelstrom.start(st);
    static const struct { const char *line, *want; } steps[] = {
        {"{\"src\":\"n1\",\"dest\":\"lin-kv\",\"body\":{\"type\":\"read\",\"key\":1,\"msg_id\":10}}", "\"code\":20"},
        {"{\"src\":\"n1\",\"dest\":\"lin-kv\",\"body\":{\"type\":\"write\",\"key\":1,\"value\":[1],\"msg_id\":11}}", "write_ok"},
        {"{\"src\":\"n1\",\"dest\":\"lin-kv\",\"body\":{\"type\":\"read\",\"key\":1,\"msg_id\":12}}", "\"value\":[1]"},
        {"{\"src\":\"n1\",\"dest\":\"lin-kv\",\"body\":{\"type\":\"read\",\"key\":\"1\",\"msg_id\":13}}", "\"code\":20"},
        {"{\"src\":\"n1\",\"dest\":\"lin-kv\",\"body\":{\"type\":\"cas\",\"key\":1,\"from\":[2],\"to\":3,\"msg_id\":14}}", "\"code\":22"},
        {"{\"src\":\"n1\",\"dest\":\"lin-kv\",\"body\":{\"type\":\"cas\",\"key\":1,\"from\":[1],\"to\":3,\"msg_id\":15}}", "cas_ok"},
        {"{\"src\":\"n1\",\"dest\":\"lww-kv\",\"body\":{\"type\":\"cas\",\"key\":\"c\",\"from\":0,\"to\":1,\"msg_id\":16}}", "\"code\":20"},
        {"{\"src\":\"n1\",\"dest\":\"lww-kv\",\"body\":{\"type\":\"cas\",\"key\":\"c\",\"from\":0,\"to\":1,\"create_if_not_exists\":true,\"msg_id\":17}}", "cas_ok"},
        {"{\"src\":\"n1\",\"dest\":\"lin-tso\",\"body\":{\"type\":\"ts\",\"msg_id\":18}}", "\"ts\":1"},
        {"{\"src\":\"n1\",\"dest\":\"lin-tso\",\"body\":{\"type\":\"ts\",\"msg_id\":19}}", "\"ts\":2"},
        {"{\"src\":\"n1\",\"dest\":\"seq-kv\",\"body\":{\"type\":\"delete\",\"key\":1,\"msg_id\":20}}", "\"code\":10"},
        {"{\"src\":\"n1\",\"dest\":\"seq-kv\",\"body\":{\"type\":\"write\",\"msg_id\":21}}", "\"code\":12"},
    };
    for (size_t i = 0; i < sizeof steps / sizeof *steps; i++) {
        sb_free(&f.prog);
        line(st, steps[i].line);
        ck_assert_msg(f.prog.s && strstr(f.prog.s, steps[i].want), "%s: got %s", steps[i].line, f.prog.s ? f.prog.s : "nothing");
    }
    ck_assert_int_eq(json_array_size(f.sent), 0); /* all served in the bridge */
    /* another node's request, through the network */
    json_t *req = json_pack("{s:s,s:s,s:{s:s,s:i,s:i}}", "type", "mael_svc", "svc", "lin-kv", "body", "type", "read", "key", 1,
                            "msg_id", 30);
    mode_dispatch(&mode_maelstrom, st, "c9", req); /* not a node: ignored */
    ck_assert_int_eq(json_array_size(f.sent), 0);
    mode_dispatch(&mode_maelstrom, st, "n3", req);
    json_decref(req);
    ck_assert_int_eq(json_array_size(f.sent), 1);
    const json_t *out = json_array_get(f.sent, 0);
    ck_assert_str_eq(json_string_value(json_object_get(out, "dest")), "n3");
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(json_object_get(out, "body"), "body"), "value")), 3);
    fake_free(&f, st);
}
END_TEST


/* A service request from node `from` (n1's own program, or another node's through mael_svc),
 * answered by n1's bridge: the reply body (caller frees). */
static json_t *svc_req(struct fake *f, void *st, const char *from, const char *svc, const char *body_json)
{
    json_t *body = json_loads(body_json, 0, NULL);
    ck_assert_ptr_nonnull(body);
    json_t *rep = NULL;
    if (!strcmp(from, "n1")) {
        sb_free(&f->prog);
        json_t *m = json_pack("{s:s,s:s,s:O}", "src", "n1", "dest", svc, "body", body);
        char *l = json_dumps(m, JSON_COMPACT);
        line(st, l);
        free(l);
        json_decref(m);
        json_t *got = json_loads(f->prog.s, 0, NULL);
        rep = json_incref(json_object_get(got, "body"));
        json_decref(got);
    } else {
        size_t before = json_array_size(f->sent);
        json_t *req = json_pack("{s:s,s:s,s:O}", "type", "mael_svc", "svc", svc, "body", body);
        mode_dispatch(&mode_maelstrom, st, from, req);
        json_decref(req);
        ck_assert_int_eq(json_array_size(f->sent), before + 1);
        rep = json_incref(json_object_get(json_object_get(json_array_get(f->sent, before), "body"), "body"));
    }
    json_decref(body);
    ck_assert_ptr_nonnull(rep);
    return rep;
}

/* What a read answered: the value's JSON text, or "absent" (error 20). */
static const char *read_says(json_t *rep)
{
    static char buf[64];
    if (json_integer_value(json_object_get(rep, "code")) == 20)
        str_copy(buf, "absent", sizeof buf);
    else {
        char *t = json_dumps(json_object_get(rep, "value"), JSON_ENCODE_ANY);
        str_copy(buf, t ? t : "?", sizeof buf);
        free(t);
    }
    json_decref(rep);
    return buf;
}

static void *n1_bridge(struct fake *f)
{
    void *st = fake_start(f, "node", NULL, 0);
    mode_maelstrom.destroy(st);
    f->env.self_idx = 0;
    str_copy(f->env.self, "n1", CL_IDLEN);
    struct opts o = {0};
    opts_set(&o, "bin", "node");
    char err[256];
    st = mode_maelstrom.create(&f->env, &o, err, sizeof err);
    opts_free(&o);
    ck_assert_ptr_nonnull(st);
    mode_maelstrom.start(st);
    return st;
}

/* lin-kv never reads stale; seq-kv may read a past state (deterministically: the state as the
 * reader last saw it), then catches up and never goes back; lww-kv's replicas answer in turn and
 * agree only after they merge (the T_LWW timer, kind 2, fired by hand here: no clock). */
START_TEST(seq_kv_and_lww_kv_may_read_stale_and_lin_kv_never)
{
    struct fake f;
    memset(&f, 0, sizeof f);
    void *st = n1_bridge(&f);
    /* lin-kv: n3 looks, n2 writes, n3 reads: the write, every time */
    ck_assert_str_eq(read_says(svc_req(&f, st, "n3", "lin-kv", "{\"type\":\"read\",\"key\":\"x\",\"msg_id\":1}")), "absent");
    json_decref(svc_req(&f, st, "n2", "lin-kv", "{\"type\":\"write\",\"key\":\"x\",\"value\":1,\"msg_id\":2}"));
    for (int i = 0; i < 3; i++)
        ck_assert_str_eq(read_says(svc_req(&f, st, "n3", "lin-kv", "{\"type\":\"read\",\"key\":\"x\",\"msg_id\":3}")), "1");
    /* seq-kv: the same steps; n3's first read after n2's write is the past it last saw */
    ck_assert_str_eq(read_says(svc_req(&f, st, "n3", "seq-kv", "{\"type\":\"read\",\"key\":\"x\",\"msg_id\":4}")), "absent");
    json_decref(svc_req(&f, st, "n2", "seq-kv", "{\"type\":\"write\",\"key\":\"x\",\"value\":1,\"msg_id\":5}"));
    json_t *r = svc_req(&f, st, "n3", "seq-kv", "{\"type\":\"read\",\"key\":\"x\",\"msg_id\":6}");
    ck_assert(json_is_true(json_object_get(r, "stale")));
    ck_assert_str_eq(read_says(r), "absent");
    ck_assert_str_eq(read_says(svc_req(&f, st, "n3", "seq-kv", "{\"type\":\"read\",\"key\":\"x\",\"msg_id\":7}")), "1");
    /* the writer reads its own write; a cas acts on the newest state */
    ck_assert_str_eq(read_says(svc_req(&f, st, "n2", "seq-kv", "{\"type\":\"read\",\"key\":\"x\",\"msg_id\":8}")), "1");
    json_decref(svc_req(&f, st, "n1", "seq-kv", "{\"type\":\"cas\",\"key\":\"x\",\"from\":1,\"to\":2,\"msg_id\":9}"));
    /* n3 saw 1: stale once more (1, never absent again), then 2, then never back */
    ck_assert_str_eq(read_says(svc_req(&f, st, "n3", "seq-kv", "{\"type\":\"read\",\"key\":\"x\",\"msg_id\":10}")), "1");
    for (int i = 0; i < 3; i++)
        ck_assert_str_eq(read_says(svc_req(&f, st, "n3", "seq-kv", "{\"type\":\"read\",\"key\":\"x\",\"msg_id\":11}")), "2");
    /* a client that writes anything first reads fresh (the usual fix: a write of its own) */
    json_decref(svc_req(&f, st, "n2", "seq-kv", "{\"type\":\"write\",\"key\":\"x\",\"value\":3,\"msg_id\":12}"));
    json_decref(svc_req(&f, st, "n3", "seq-kv", "{\"type\":\"write\",\"key\":\"sync-n3\",\"value\":0,\"msg_id\":13}"));
    ck_assert_str_eq(read_says(svc_req(&f, st, "n3", "seq-kv", "{\"type\":\"read\",\"key\":\"x\",\"msg_id\":14}")), "3");
    /* lww-kv: n2's write lands on one replica; n3's reads go to the others in turn */
    json_decref(svc_req(&f, st, "n2", "lww-kv", "{\"type\":\"write\",\"key\":\"y\",\"value\":7,\"msg_id\":15}"));
    ck_assert_str_eq(read_says(svc_req(&f, st, "n3", "lww-kv", "{\"type\":\"read\",\"key\":\"y\",\"msg_id\":16}")), "absent");
    ck_assert_str_eq(read_says(svc_req(&f, st, "n3", "lww-kv", "{\"type\":\"read\",\"key\":\"y\",\"msg_id\":17}")), "absent");
    ck_assert_str_eq(read_says(svc_req(&f, st, "n3", "lww-kv", "{\"type\":\"read\",\"key\":\"y\",\"msg_id\":18}")), "7");
    /* and may go back in time */
    ck_assert_str_eq(read_says(svc_req(&f, st, "n3", "lww-kv", "{\"type\":\"read\",\"key\":\"y\",\"msg_id\":19}")), "absent");
    /* two writers on different replicas: after the merge every replica holds the later stamp */
    json_decref(svc_req(&f, st, "n1", "lww-kv", "{\"type\":\"write\",\"key\":\"y\",\"value\":8,\"msg_id\":20}"));
    mode_maelstrom.on_timer(st, 2, 0);
    for (int i = 0; i < 4; i++)
        ck_assert_str_eq(read_says(svc_req(&f, st, "n3", "lww-kv", "{\"type\":\"read\",\"key\":\"y\",\"msg_id\":21}")), "8");
    fake_free(&f, st);
}
END_TEST

START_TEST(after_the_program_ends_clients_get_error_13)
{
    struct fake f;
    void *st = fake_start(&f, "node", NULL, 0);
    mode_maelstrom.on_prog_exit(st, "exited with status 3");
    ck_assert_str_eq(role(st), "exited");
    json_t *req = json_pack("{s:s,s:i,s:s}", "type", "read", "msg_id", 5, "key", "x");
    mode_dispatch(&mode_maelstrom, st, "c1", req);
    mode_dispatch(&mode_maelstrom, st, "n1", req); /* a peer: nobody to answer */
    json_decref(req);
    ck_assert_int_eq(json_array_size(f.sent), 1);
    json_t *b = json_object_get(json_array_get(f.sent, 0), "body");
    ck_assert_int_eq(json_integer_value(json_object_get(b, "code")), 13);
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(b, "text")), "exited with status 3"));
    fake_free(&f, st);
    /* a program that cannot start: the node says why and answers the same way */
    st = fake_start(&f, "/no/such", NULL, 1);
    ck_assert_str_eq(role(st), "exited");
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(json_array_get(f.events, 0), "text")), "cannot run /no/such"));
    fake_free(&f, st);
}
END_TEST

START_TEST(no_bin_is_refused_and_the_simulator_cannot_host_one)
{
    struct fake f;
    ck_assert_ptr_null(fake_start(&f, NULL, NULL, 0));
    fake_free(&f, NULL);
    struct opts o = {0};
    opts_set(&o, "bin", "x.py");
    opts_set(&o, "sim", "on");
    char err[256];
    ck_assert_ptr_null(sim_new(&mode_maelstrom, 3, &o, 1, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "simulator cannot host"));
    opts_free(&o);
    /* with no program (the lab's option probe, the face tests) every request gets error 10 */
    struct opts none = {0};
    struct sim *s = sim_new(&mode_maelstrom, 2, &none, 1, err, sizeof err);
    ck_assert_ptr_nonnull(s);
    sim_destroy(&s);
}
END_TEST

START_TEST(the_probe_shows_what_the_program_holds_and_acks_are_counted)
{
    struct fake f;
    fake_workload = "broadcast";
    void *st = fake_start(&f, "node", NULL, 0);
    fake_workload = NULL;
    line(st, "{\"src\":\"n2\",\"dest\":\"lab\",\"body\":{\"type\":\"init_ok\",\"in_reply_to\":1}}");
    json_t *s = mode_maelstrom.status(st);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(s, "data"), "unknown")), "n2");
    json_decref(s);
    sb_free(&f.prog);
    mode_maelstrom.on_timer(st, 1, 0); /* the probe: a read from the lab */
    ck_assert_ptr_nonnull(strstr(f.prog.s, "\"src\":\"lab\""));
    ck_assert_ptr_nonnull(strstr(f.prog.s, "\"type\":\"read\""));
    json_t *sent = json_loads(f.prog.s, 0, NULL);
    json_int_t mid = json_integer_value(json_object_get(json_object_get(sent, "body"), "msg_id"));
    json_decref(sent);
    char l[256];
    snprintf(l, sizeof l, "{\"dest\":\"lab\",\"body\":{\"type\":\"read_ok\",\"in_reply_to\":%lld,\"messages\":[3,1,\"b\",2]}}",
             (long long)mid);
    line(st, l);
    s = mode_maelstrom.status(st);
    char *d = json_dumps(json_object_get(s, "data"), JSON_COMPACT);
    ck_assert_str_eq(d, "{\"messages\":[\"b\",1,2,3]}"); /* a set: sorted by its JSON text */
    free(d);
    json_decref(s);
    ck_assert_int_eq(json_array_size(f.sent), 0); /* the probe's answer goes nowhere */
    /* a client's broadcast, acknowledged by the program, counts */
    json_t *req = json_pack("{s:s,s:i,s:i}", "type", "broadcast", "msg_id", 4, "message", 9);
    mode_dispatch(&mode_maelstrom, st, "c2", req);
    json_decref(req);
    line(st, "{\"dest\":\"c2\",\"body\":{\"type\":\"broadcast_ok\",\"in_reply_to\":4}}");
    s = mode_maelstrom.status(st);
    ck_assert_int_eq(json_integer_value(json_object_get(s, "acked")), 1);
    json_decref(s);
    fake_free(&f, st);
}
END_TEST

Suite *suite_maelstrom(void);
Suite *suite_maelstrom(void)
{
    Suite *s = suite_create("maelstrom");
    TCase *tc = tcase_create("maelstrom");
    tcase_add_test(tc, the_decoder_takes_a_message_and_names_what_is_wrong);
    tcase_add_test(tc, the_decoder_corpus_replays_cleanly);
    tcase_add_test(tc, the_program_gets_init_then_every_message_as_it_came);
    tcase_add_test(tc, garbage_from_the_program_is_an_error_event_and_the_node_goes_on);
    tcase_add_test(tc, a_service_request_goes_to_n1_and_its_answer_back_to_the_program);
    tcase_add_test(tc, n1_serves_the_kv_services_and_the_timestamp_oracle);
    tcase_add_test(tc, seq_kv_and_lww_kv_may_read_stale_and_lin_kv_never);
    tcase_add_test(tc, after_the_program_ends_clients_get_error_13);
    tcase_add_test(tc, no_bin_is_refused_and_the_simulator_cannot_host_one);
    tcase_add_test(tc, the_probe_shows_what_the_program_holds_and_acks_are_counted);
    suite_add_tcase(s, tc);
    return s;
}
