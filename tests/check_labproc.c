/* check_labproc — the lab driving real node processes through its own API:
 *  - the crash test of the Raft issue (SIGKILL nodes mid-write, restart them, and find every
 *    acknowledged write still there: the whole history, final reads included, is
 *    linearizable);
 *  - impersonation (a local program posing as a node that is down, on both of a node's
 *    sockets, with an append_entries of term 10^12 writing EVIL and a request_vote of term
 *    2^62-1): refused with events, and the data and terms stay what they were;
 *  - a program holding the routing id of a node while it restarts cannot silence it;
 *  - the 20-write loss: one flipped byte in the middle of a lagging cluster's log used to
 *    cut the log and lose acknowledged writes everywhere; now that node refuses to start,
 *    saying which file and offset, and the cluster keeps every write.
 * Skipped where real processes are not allowed (valgrind). */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "envelope.h"
#include "lab.h"
#include "storage.h"
#include "test_util.h"

struct load {
    struct lab *lab;
    struct rng rng;
    int running;
    int acked, infos;
};

static void next(struct load *ld, int process);

static void done(void *ud, struct op *op)
{
    struct load *ld = ud;
    int p = op->process;
    if (op->outcome == OP_OK)
        ld->acked++;
    else if (op->outcome == OP_INFO)
        ld->infos++;
    op->done = NULL;
    lab_op_free(op);
    if (ld->running)
        next(ld, p + (op->outcome == OP_INFO ? 100 : 0)); /* a process that timed out is retired */
}

static void next(struct load *ld, int process)
{
    char key[8], val[16];
    snprintf(key, sizeof key, "k%d", (int)rng_range(&ld->rng, 0, 9));
    snprintf(val, sizeof val, "%llu", (unsigned long long)rng_range(&ld->rng, 0, 1u << 30));
    json_t *v = json_string(val);
    struct op *op = lab_op_start(ld->lab, "write", key, v, -1, NULL, process);
    json_decref(v);
    if (!op)
        return;
    if (op->outcome != OP_PENDING) {
        done(ld, op);
        return;
    }
    op->done = done;
    op->done_ud = ld;
}

static void on_output(void *ud, const char *text)
{
    (void)ud;
    (void)text; /* keep the test's output quiet */
}

START_TEST(raft_loses_no_acknowledged_write_when_nodes_are_killed_mid_write)
{
    if (!test_procs_allowed())
        return;
    const char *bin = getenv("CONLAB_BIN");
    char node[512];
    snprintf(node, sizeof node, "%s/conlab-node", bin ? bin : "bin");
    setenv("CONLAB_NODE", node, 1);
    struct lab lab;
    char err[256];
    ck_assert_int_eq(lab_init(&lab, "conlab", err, sizeof err), 0);
    struct lab_hooks h = {.on_output = on_output};
    lab_add_hooks(&lab, &h);
    struct opts o = {0};
    opts_set(&o, "events", "state");
    opts_set(&o, "timeout", "1s");
    ck_assert_int_eq(lab_start(&lab, "raft", 3, &o), 0);
    ck_assert_int_eq(lab_exec(&lab, "wait leader"), 0);
    struct load ld = {.lab = &lab, .running = 1};
    rng_seed(&ld.rng, 7);
    for (int p = 0; p < 8; p++)
        next(&ld, 10 + p);
    int rounds = getenv("CONLAB_QUICK") ? 3 : 6;
    for (int r = 0; r < rounds; r++) {
        lab_pump(&lab, 300000, -1);
        uint64_t end = mono_us() + 300000;
        while (mono_us() < end)
            lab_pump(&lab, end - mono_us(), -1);
        int victim = (int)rng_range(&ld.rng, 0, 2);
        lab.cl->ops->crash(lab.cl, victim); /* SIGKILL, in the middle of the load */
        end = mono_us() + 400000;
        while (mono_us() < end)
            lab_pump(&lab, end - mono_us(), -1);
        lab.cl->ops->restart(lab.cl, victim);
    }
    ld.running = 0;
    uint64_t end = mono_us() + 3000000;
    while (mono_us() < end)
        lab_pump(&lab, 100000, -1);
    ck_assert_int_eq(lab_exec(&lab, "wait leader"), 0);
    /* read every key back (recorded), then judge the whole history */
    for (int k = 0; k < 10; k++) {
        char cmd[32];
        snprintf(cmd, sizeof cmd, "get k%d", k);
        ck_assert_int_eq(lab_exec(&lab, cmd), 0);
    }
    struct sb out = {0};
    int verdict = lab_check_history(&lab, "linearizable", &out);
    ck_assert_msg(ld.acked > 50, "only %d writes were acknowledged", ld.acked);
    ck_assert_msg(verdict == 0, "after %d acknowledged writes and %d indeterminate ones: %s", ld.acked, ld.infos,
                  out.s ? out.s : "");
    sb_free(&out);
    opts_free(&o);
    lab_destroy(&lab);
}
END_TEST

/* ---- attacks and corruption ----------------------------------------------------------- */

/* What a test watches: the lab's output, and the drop and error events. */
struct watch {
    struct sb out;
    struct sb drops;    /* "node why: detail\n" per drop event */
};

static void watch_output(void *ud, const char *text)
{
    struct watch *w = ud;
    sb_add(&w->out, text);
    sb_add(&w->out, "\n");
}

static const char *jstr(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static void watch_event(void *ud, const json_t *ev)
{
    struct watch *w = ud;
    if (!strcmp(jstr(ev, "ev"), "drop") && json_object_get(ev, "why"))
        sb_printf(&w->drops, "%s %s: %s\n", jstr(ev, "node"), jstr(ev, "why"), jstr(ev, "detail"));
}

static void start_lab(struct lab *lab, struct watch *w, const char *mode, const char *key, const char *val)
{
    const char *bin = getenv("CONLAB_BIN");
    char node[512];
    snprintf(node, sizeof node, "%s/conlab-node", bin ? bin : "bin");
    setenv("CONLAB_NODE", node, 1);
    char err[256];
    ck_assert_int_eq(lab_init(lab, "conlab", err, sizeof err), 0);
    memset(w, 0, sizeof *w);
    struct lab_hooks h = {.ud = w, .on_output = watch_output, .on_event = watch_event};
    lab_add_hooks(lab, &h);
    struct opts o = {0};
    if (key)
        opts_set(&o, key, val);
    ck_assert_int_eq(lab_start(lab, mode, 3, &o), 0);
    opts_free(&o);
    ck_assert_int_eq(lab_exec(lab, "wait leader"), 0);
}

static void stop_lab(struct lab *lab, struct watch *w)
{
    lab_destroy(lab);
    sb_free(&w->out);
    sb_free(&w->drops);
}

/* Runs the lab until text shows up in *where (up to 10 s). */
static int wait_for(struct lab *lab, const struct sb *where, const char *text)
{
    uint64_t end = mono_us() + 10000000;
    while (!(where->s && strstr(where->s, text)) && mono_us() < end)
        lab_pump(lab, 50000, -1);
    return where->s && strstr(where->s, text);
}

/* The output of one command (caller frees); its status in *rc. */
static char *run(struct lab *lab, struct watch *w, const char *cmd, int *rc)
{
    size_t from = w->out.len;
    int r = lab_exec(lab, cmd);
    if (rc)
        *rc = r;
    return xstrdup(w->out.s ? w->out.s + from : "");
}

static void send_as(void *sock, const char *src, const char *dest, json_t *body)
{
    struct envelope e = {0};
    str_copy(e.src, src, CL_IDLEN);
    str_copy(e.dest, dest, CL_IDLEN);
    e.body = body;
    size_t len;
    char *frame = envelope_encode(&e, &len);
    zmq_send(sock, frame, len, ZMQ_DONTWAIT);
    free(frame);
    json_decref(body);
}

/* A DEALER that picked routing id rid, connected to ep. */
static void *rogue(void *ctx, const char *rid, const char *ep)
{
    void *s = zmq_socket(ctx, ZMQ_DEALER);
    int zero = 0;
    zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(s, ZMQ_ROUTING_ID, rid, strlen(rid));
    ck_assert_int_eq(zmq_connect(s, ep), 0);
    return s;
}

/* Node idx's peer endpoint, from its status (caller frees). */
static char *peer_endpoint(struct lab *lab, int idx)
{
    json_t *st = lab->cl->ops->status(lab->cl, idx);
    ck_assert_ptr_nonnull(st);
    const char *pep = json_string_value(json_object_get(st, "peer_endpoint"));
    ck_assert_ptr_nonnull(pep);
    char *r = xstrdup(pep);
    json_decref(st);
    return r;
}

START_TEST(a_program_posing_as_a_down_node_is_refused_and_changes_nothing)
{
    if (!test_procs_allowed())
        return;
    struct lab lab;
    struct watch w;
    start_lab(&lab, &w, "raft", NULL, NULL);
    ck_assert_int_eq(lab_exec(&lab, "put x good"), 0);
    ck_assert_int_eq(lab_exec(&lab, "crash n2"), 0);
    /* as n2, to n1's and n3's client and peer sockets: an append_entries of term 10^12 that
     * writes x = EVIL, and as n3 a request_vote of term 2^62 - 1 */
    void *ctx = zmq_ctx_new();
    void *socks[4];
    const char *dest[4] = {"n1", "n1", "n3", "n3"};
    for (int t = 0, i = 0; t < 3; t += 2) {
        char *pep = peer_endpoint(&lab, t);
        socks[i++] = rogue(ctx, "n2", lab.cl->ops->endpoint(lab.cl, t));
        socks[i++] = rogue(ctx, "n2", pep);
        free(pep);
    }
    for (int i = 0; i < 4; i++) {
        send_as(socks[i], "n2", dest[i],
                json_pack("{s:s,s:I,s:i,s:i,s:[[I,i,s,s,s,s,i,i]],s:i}", "type", "append_entries", "term",
                          (json_int_t)1000000000000LL, "prev_index", 0, "prev_term", 0, "entries",
                          (json_int_t)1000000000000LL, 1, "x", "EVIL", "", "", 0, 0, "commit", 1));
        send_as(socks[i], "n3", dest[i],
                json_pack("{s:s,s:I,s:i,s:i}", "type", "request_vote", "term", (json_int_t)((1LL << 62) - 1),
                          "last_index", 1000000, "last_term", 1000000));
    }
    ck_assert_msg(wait_for(&lab, &w.drops, "n1 client claims a node id: a client sent append_entries as n2"),
                  "%s", w.drops.s ? w.drops.s : "(no drops)");
    ck_assert_msg(wait_for(&lab, &w.drops, "n3 client claims a node id: a client sent request_vote as n3"),
                  "%s", w.drops.s);
    ck_assert_msg(wait_for(&lab, &w.drops, "n1 unauthenticated peer"), "%s", w.drops.s);
    ck_assert_msg(wait_for(&lab, &w.drops, "n3 unauthenticated peer"), "%s", w.drops.s);
    for (int i = 0; i < 4; i++)
        zmq_close(socks[i]);
    zmq_ctx_term(ctx);
    ck_assert_int_eq(lab_exec(&lab, "restart n2"), 0);
    ck_assert_int_eq(lab_exec(&lab, "wait leader"), 0);
    char *got = run(&lab, &w, "get x", NULL);
    ck_assert_msg(!strncmp(got, "good", 4), "get x: %s", got);
    free(got);
    /* every node holds x = good (n2 once it has caught up), in a term nowhere near 10^12 */
    for (int i = 0; i < 3; i++) {
        uint64_t end = mono_us() + 10000000;
        json_t *st = NULL;
        for (;;) {
            json_decref(st);
            st = lab.cl->ops->status(lab.cl, i);
            const char *x = json_string_value(json_object_get(json_object_get(st, "data"), "x"));
            if ((x && !strcmp(x, "good")) || mono_us() > end)
                break;
            lab_pump(&lab, 50000, -1);
        }
        ck_assert_ptr_nonnull(st);
        ck_assert_str_eq(jstr(json_object_get(st, "data"), "x"), "good");
        ck_assert_int_lt(json_integer_value(json_object_get(st, "term")), 1000);
        json_decref(st);
    }
    ck_assert_int_eq(lab_exec(&lab, "put x after"), 0);
    stop_lab(&lab, &w);
}
END_TEST

START_TEST(holding_a_nodes_routing_id_does_not_silence_it_after_a_restart)
{
    if (!test_procs_allowed())
        return;
    struct lab lab;
    struct watch w;
    start_lab(&lab, &w, "raft", NULL, NULL);
    int leader = lab_leader(&lab, 1);
    ck_assert_int_ge(leader, 0);
    int victim = leader == 2 ? 1 : 2;     /* a follower restarted while its id is held */
    int other = 3 - leader - victim;      /* the other follower */
    char vid[CL_IDLEN], oid[CL_IDLEN], cmd[64];
    node_name(victim, vid);
    node_name(other, oid);
    snprintf(cmd, sizeof cmd, "crash %s", vid);
    ck_assert_int_eq(lab_exec(&lab, cmd), 0);
    void *ctx = zmq_ctx_new();
    void *socks[4];
    int ns = 0;
    for (int t = 0; t < 3; t++) {
        if (t == victim)
            continue;
        char *pep = peer_endpoint(&lab, t);
        socks[ns++] = rogue(ctx, vid, lab.cl->ops->endpoint(lab.cl, t));
        socks[ns++] = rogue(ctx, vid, pep);
        free(pep);
    }
    for (int i = 0; i < ns; i += 2) /* the client connections are up once their garbage lands */
        zmq_send(socks[i], "hello", 5, ZMQ_DONTWAIT);
    ck_assert(wait_for(&lab, &w.drops, "garbage: malformed JSON"));
    snprintf(cmd, sizeof cmd, "restart %s", vid);
    ck_assert_int_eq(lab_exec(&lab, cmd), 0);
    /* with the other follower down, every commit needs the restarted node's answers */
    snprintf(cmd, sizeof cmd, "crash %s", oid);
    ck_assert_int_eq(lab_exec(&lab, cmd), 0);
    int rc;
    char *got = run(&lab, &w, "put y heard", &rc);
    ck_assert_msg(rc == 0 && !strncmp(got, "ok", 2), "a put that needs %s's answers: %s", vid, got);
    free(got);
    for (int i = 0; i < ns; i++)
        zmq_close(socks[i]);
    zmq_ctx_term(ctx);
    stop_lab(&lab, &w);
}
END_TEST

/* Offset of the data of the first record of the log file at path that contains needle; *k is
 * its number (from 1), *n the number of records. */
static long record_with(const char *path, const char *needle, int *k, int *n)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    static unsigned char buf[1 << 20];
    size_t size = fread(buf, 1, sizeof buf, f);
    fclose(f);
    long found = -1;
    size_t off = 0;
    *n = 0;
    while (off + STORAGE_HEADER <= size) {
        size_t len = (size_t)buf[off] | (size_t)buf[off + 1] << 8 | (size_t)buf[off + 2] << 16;
        if (found < 0 && memmem(buf + off + STORAGE_HEADER, len, needle, strlen(needle))) {
            found = (long)(off + STORAGE_HEADER);
            *k = *n + 1;
        }
        (*n)++;
        off += STORAGE_HEADER + len;
    }
    return found;
}

START_TEST(a_corrupt_record_mid_log_refuses_the_start_and_no_acknowledged_write_is_lost)
{
    if (!test_procs_allowed())
        return;
    struct lab lab;
    struct watch w;
    start_lab(&lab, &w, "raft", "snapshot", "0");
    ck_assert_int_eq(lab_exec(&lab, "put a first-write"), 0);
    ck_assert_int_eq(lab_exec(&lab, "crash n1"), 0); /* n1 lags from here on */
    ck_assert_int_eq(lab_exec(&lab, "wait leader"), 0);
    for (int i = 0; i < 20; i++) {
        char cmd[64];
        snprintf(cmd, sizeof cmd, "put k%d v%d", i, i);
        char *got = run(&lab, &w, cmd, NULL);
        ck_assert_msg(!strncmp(got, "ok", 2), "%s: %s", cmd, got);
        free(got);
    }
    ck_assert_int_eq(lab_exec(&lab, "crash n3"), 0);
    ck_assert_int_eq(lab_exec(&lab, "crash n2"), 0);
    /* one flipped bit in n2's record of the first write, in the middle of its log */
    char path[700];
    snprintf(path, sizeof path, "%s/cluster1/n2/raft.log.0.log", lab.run_dir);
    int k = 0, n = 0;
    long at = record_with(path, "first-write", &k, &n);
    ck_assert_msg(at > 0 && k < n, "the first write is record %d of %d", k, n);
    int fd = open(path, O_RDWR);
    ck_assert_int_ge(fd, 0);
    unsigned char c;
    ck_assert_int_eq(pread(fd, &c, 1, at), 1);
    c ^= 0x04;
    ck_assert_int_eq(pwrite(fd, &c, 1, at), 1);
    close(fd);
    /* n2 refuses to start, and the lab shows its own words: file, record, offset */
    int rc;
    char *got = run(&lab, &w, "restart n2", &rc);
    char want[160];
    snprintf(want, sizeof want, "cannot restart n2: conlab-node n2: data dir ");
    ck_assert_msg(rc != 0 && strstr(got, want), "restart n2 (status %d): %s", rc, got);
    snprintf(want, sizeof want, "raft.log.0.log: record %d (at offset %ld) is corrupt and %d valid records follow it",
             k, at - STORAGE_HEADER, n - k);
    ck_assert_msg(strstr(got, want), "restart n2: %s\nwanted: %s", got, want);
    free(got);
    /* the two sound disks elect the node that has the 20 writes: none is lost */
    ck_assert_int_eq(lab_exec(&lab, "restart n1"), 0);
    ck_assert_int_eq(lab_exec(&lab, "restart n3"), 0);
    ck_assert_int_eq(lab_exec(&lab, "wait leader"), 0);
    for (int i = 0; i < 20; i++) {
        char cmd[64], val[16];
        snprintf(cmd, sizeof cmd, "get k%d", i);
        snprintf(val, sizeof val, "v%d", i);
        got = run(&lab, &w, cmd, NULL);
        ck_assert_msg(!strncmp(got, val, strlen(val)) && (got[strlen(val)] == '\n' || got[strlen(val)] == ' '),
                      "%s: %s", cmd, got);
        free(got);
    }
    got = run(&lab, &w, "get a", NULL);
    ck_assert_msg(!strncmp(got, "first-write", 11), "get a: %s", got);
    free(got);
    stop_lab(&lab, &w);
}
END_TEST

Suite *suite_labproc(void);
Suite *suite_labproc(void)
{
    Suite *s = suite_create("labproc");
    TCase *tc = tcase_create("crash");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, raft_loses_no_acknowledged_write_when_nodes_are_killed_mid_write);
    suite_add_tcase(s, tc);
    tc = tcase_create("attacks");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, a_program_posing_as_a_down_node_is_refused_and_changes_nothing);
    tcase_add_test(tc, holding_a_nodes_routing_id_does_not_silence_it_after_a_restart);
    tcase_add_test(tc, a_corrupt_record_mid_log_refuses_the_start_and_no_acknowledged_write_is_lost);
    suite_add_tcase(s, tc);
    return s;
}
