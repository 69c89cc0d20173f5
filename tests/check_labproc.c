/* check_labproc — the lab driving real node processes through its own API:
 *  - the crash test of the Raft issue (SIGKILL nodes mid-write, restart them, and find every
 *    acknowledged write still there: the whole history, final reads included, is
 *    linearizable);
 *  - impersonation (a local program posing as a node that is down, on both of a node's
 *    sockets, with an append_entries of term 10^12 writing EVIL and a request_vote of term
 *    2^62-1): refused with events, and the data and terms stay what they were; even with
 *    auth=off, where the impostor gets through, a term jump to 2^62-1 is refused;
 *  - a program holding the routing id of a node while it restarts cannot silence it;
 *  - the 20-write loss: one flipped byte in the middle of a lagging cluster's log used to
 *    cut the log and lose acknowledged writes everywhere; now that node refuses to start,
 *    saying which file and offset, and the cluster keeps every write;
 *  - data past the 1 MiB frame cap (5 MB: the snapshot goes in chunks, statuses stay brief,
 *    convergence by digest) and a convergence check that never passes on nothing compared;
 *  - the corruption fuzzer over every file kind of every mode (raft log, raft.term, snapshot,
 *    leader log and state, leaderless data, hints and dots), as real clusters wrote them: a
 *    flipped byte in record k of n refuses the start, naming file and offset, unless k = n.
 * Skipped where real processes are not allowed (valgrind). */
#include <check.h>
#include <dirent.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "envelope.h"
#include "event.h"
#include "lab.h"
#include "runtime.h"
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

static void watch_event(void *ud, const struct event *tev)
{
    struct watch *w = ud;
    const json_t *ev = tev->json;
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

START_TEST(an_absurd_term_is_refused_even_without_authentication)
{
    if (!test_procs_allowed())
        return;
    /* auth=off: the peer socket trusts the routing id, so a program holding "n3" gets through;
     * the term's sanity bound still refuses a jump to 2^62 - 1, with an event */
    struct lab lab;
    struct watch w;
    start_lab(&lab, &w, "raft", "auth", "off");
    ck_assert_int_eq(lab_exec(&lab, "crash n3"), 0);
    char *pep = peer_endpoint(&lab, 0);
    void *ctx = zmq_ctx_new();
    void *s = rogue(ctx, "n3", pep);
    free(pep);
    send_as(s, "n3", "n1",
            json_pack("{s:s,s:I,s:i,s:i}", "type", "request_vote", "term", (json_int_t)((1LL << 62) - 1),
                      "last_index", 1000000, "last_term", 1000000));
    json_t *st = NULL;
    uint64_t end = mono_us() + 10000000;
    int seen = 0;
    while (!seen && mono_us() < end) {
        lab_pump(&lab, 50000, -1);
        for (size_t i = 0; i < lab.ev_count && !seen; i++) {
            const json_t *e = lab.events[(lab.ev_head + i) % LAB_MAX_EVENTS];
            seen = !strcmp(jstr(e, "ev"), "error") && !strcmp(jstr(e, "node"), "n1") &&
                   strstr(jstr(e, "text"), "refused a term jump") && strstr(jstr(e, "text"), "4611686018427387903");
        }
    }
    ck_assert_msg(seen, "n1 did not report the term jump");
    st = lab.cl->ops->status(lab.cl, 0);
    ck_assert_int_lt(json_integer_value(json_object_get(st, "term")), 1000);
    json_decref(st);
    zmq_close(s);
    zmq_ctx_term(ctx);
    ck_assert_int_eq(lab_exec(&lab, "restart n3"), 0);
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

/* The number N of the newest run_dir/clusterN: the running (or just stopped) cluster's. */
static int cluster_generation(struct lab *lab)
{
    int gen = 0;
    DIR *d = opendir(lab->run_dir);
    struct dirent *de;
    while (d && (de = readdir(d)))
        if (!strncmp(de->d_name, "cluster", 7) && atoi(de->d_name + 7) > gen)
            gen = atoi(de->d_name + 7);
    if (d)
        closedir(d);
    return gen;
}

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
    snprintf(path, sizeof path, "%s/cluster%d/n2/raft.log.0.log", lab.run_dir, cluster_generation(&lab));
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
    snprintf(want, sizeof want, "cannot restart n2: raft.log.0.log: record %d (at offset %ld) is corrupt and %d valid "
             "records follow it", k, at - STORAGE_HEADER, n - k);
    ck_assert_msg(rc != 0 && strstr(got, want), "restart n2 (status %d): %s\nwanted: %s", rc, got, want);
    ck_assert_msg(strstr(got, "(data dir "), "restart n2: %s", got);
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

/* Counts the snapshot events that say a node installed one (the node's index + 1 in ud). */
struct installs {
    int node;
    int n;
};

static void count_installs(void *ud, const struct event *tev)
{
    struct installs *in = ud;
    const json_t *ev = tev->json;
    char id[CL_IDLEN];
    snprintf(id, sizeof id, "n%d", in->node + 1);
    if (!strcmp(jstr(ev, "ev"), "snapshot") && !strcmp(jstr(ev, "node"), id) &&
        json_is_true(json_object_get(ev, "installed")))
        in->n++;
}

/* Writes key=value (200 kB) through the leader, asking again (same value) if a leader change
 * or a loaded machine made it fail: what counts is that it is acknowledged once. */
static void write_acked(struct lab *lab, const char *key, const char *value)
{
    enum op_outcome out = OP_INFO;
    for (int attempt = 0; attempt < 5 && out != OP_OK; attempt++) {
        ck_assert_int_eq(lab_exec(lab, "wait leader"), 0);
        int leader = lab_leader(lab, 1);
        json_t *v = json_string(value);
        struct op *op = lab_op_start(lab, "write", key, v, leader, NULL, 50 + attempt);
        json_decref(v);
        ck_assert_ptr_nonnull(op);
        out = lab_op_wait(lab, op);
        lab_op_free(op);
    }
    ck_assert_msg(out == OP_OK, "write %s of %zu bytes: outcome %d", key, strlen(value), out);
}

/* Data past the frame cap: 5 MB (25 values of 200 kB) while a follower is down. The snapshot
 * that brings it back is five times the 1 MiB cap: it goes in chunks, the follower installs
 * it and converges (same digest, same data fetched page by page), statuses stay brief and
 * answered, and nothing is dropped as too big. Waits on states, with generous deadlines: the
 * machine may be loaded. */
START_TEST(a_frame_over_the_cap_is_never_lost_in_silence)
{
    if (!test_procs_allowed())
        return;
    const char *bin = getenv("CONLAB_BIN");
    char node[512];
    snprintf(node, sizeof node, "%s/conlab-node", bin ? bin : "bin");
    setenv("CONLAB_NODE", node, 1);
    struct lab lab;
    struct watch w;
    memset(&w, 0, sizeof w);
    char err[256];
    ck_assert_int_eq(lab_init(&lab, "conlab", err, sizeof err), 0);
    struct lab_hooks h = {.ud = &w, .on_output = watch_output, .on_event = watch_event};
    lab_add_hooks(&lab, &h);
    struct opts o = {0};
    opts_set(&o, "snapshot", "4");
    opts_set(&o, "timeout", "30s");
    opts_set(&o, "election", "1s"); /* heartbeats late under load must not start elections */
    opts_set(&o, "heartbeat", "100ms");
    ck_assert_int_eq(lab_start(&lab, "raft", 3, &o), 0);
    opts_free(&o);
    ck_assert_int_eq(lab_exec(&lab, "wait leader"), 0);
    int leader = lab_leader(&lab, 1);
    ck_assert_int_ge(leader, 0);
    int victim = (leader + 1) % 3;
    struct installs in = {.node = victim};
    struct lab_hooks h2 = {.ud = &in, .on_event = count_installs};
    lab_add_hooks(&lab, &h2);
    ck_assert_int_eq(lab.cl->ops->crash(lab.cl, victim), 0);
    enum { NVAL = 25, VLEN = 200000 };
    char *big = xmalloc(VLEN + 1);
    for (int i = 0; i < NVAL; i++) {
        memset(big, 'a' + i % 26, VLEN);
        big[VLEN] = 0;
        char key[8];
        snprintf(key, sizeof key, "b%d", i);
        write_acked(&lab, key, big);
    }
    free(big);
    /* the leader's status is answered, brief: 5 MB of data as a count and a digest */
    leader = lab_leader(&lab, 1);
    ck_assert_int_ge(leader, 0);
    json_t *lst = lab.cl->ops->status(lab.cl, leader);
    ck_assert_msg(lst != NULL, "the leader's status went unanswered");
    ck_assert_int_eq(json_integer_value(json_object_get(lst, "keys")), NVAL);
    ck_assert_ptr_null(json_object_get(lst, "data"));
    ck_assert_ptr_nonnull(json_object_get(lst, "digest"));
    json_decref(lst);
    ck_assert_int_eq(lab.cl->ops->restart(lab.cl, victim), 0);
    /* the victim catches up through the chunked snapshot: wait for its install, then for its
     * digest to be the leader's */
    uint64_t end = mono_us() + 120000000;
    while (in.n == 0 && mono_us() < end)
        lab_pump(&lab, 200000, -1);
    ck_assert_msg(in.n > 0, "the restarted node installed no snapshot in 120 s; drops: %s",
                  w.drops.s ? w.drops.s : "(none)");
    int same = 0;
    while (!same && mono_us() < end) {
        json_t *vs = lab.cl->ops->status(lab.cl, victim);
        json_t *ls = lab.cl->ops->status(lab.cl, lab_leader(&lab, 0) >= 0 ? lab_leader(&lab, 0) : leader);
        same = vs && ls && json_integer_value(json_object_get(vs, "keys")) == NVAL &&
               json_equal(json_object_get(vs, "digest"), json_object_get(ls, "digest"));
        json_decref(vs);
        json_decref(ls);
        if (!same)
            lab_pump(&lab, 200000, -1);
    }
    ck_assert_msg(same, "the restarted node did not reach the leader's data");
    /* convergence by digest, and the data itself fetched page by page under the cap */
    ck_assert_int_eq(lab_exec(&lab, "wait converged 60s"), 0);
    json_t *d = lab_node_data(&lab, victim);
    ck_assert_ptr_nonnull(d);
    ck_assert_int_eq(json_object_size(d), NVAL);
    ck_assert_int_eq(json_string_length(json_object_get(d, "b7")), VLEN);
    json_decref(d);
    ck_assert_msg(!(w.drops.s && strstr(w.drops.s, "too big")), "a frame was dropped as too big: %s", w.drops.s);
    stop_lab(&lab, &w);
}
END_TEST

/* `wait converged` and `check converged` compare something or say they cannot: a node that
 * is up but answers nothing (stopped behind the lab's back) is "cannot compare", never
 * "converged"; a node with different data is "NOT converged". */
START_TEST(converged_never_passes_on_nothing_compared)
{
    if (!test_procs_allowed())
        return;
    struct lab lab;
    struct watch w;
    start_lab(&lab, &w, "raft", "timeout", "10s");
    ck_assert_int_eq(lab_exec(&lab, "put x 1"), 0);
    ck_assert_int_eq(lab_exec(&lab, "wait converged 30s"), 0);
    int leader = lab_leader(&lab, 1);
    int silent = (leader + 1) % 3;
    json_t *st = lab.cl->ops->status(lab.cl, silent);
    ck_assert_ptr_nonnull(st);
    pid_t pid = (pid_t)json_integer_value(json_object_get(st, "pid"));
    json_decref(st);
    ck_assert_int_gt(pid, 0);
    ck_assert_int_eq(kill(pid, SIGSTOP), 0); /* the lab still believes it is up */
    /* let its last status grow old */
    uint64_t end = mono_us() + 3500000;
    while (mono_us() < end)
        lab_pump(&lab, end - mono_us(), -1);
    int rc;
    char *got = run(&lab, &w, "check converged", &rc);
    ck_assert_msg(strstr(got, "cannot compare") && !strstr(got, "converged: every"), "check converged: %s", got);
    free(got);
    got = run(&lab, &w, "wait converged 2s", &rc);
    ck_assert_msg(rc != 0, "wait converged passed with a silent node: %s", got);
    free(got);
    got = run(&lab, &w, "status", &rc);
    char want[32];
    snprintf(want, sizeof want, "n%d raft", silent + 1);
    ck_assert_msg(strstr(got, want) && strstr(got, "no answer within 1 s"), "status: %s", got);
    free(got);
    ck_assert_int_eq(kill(pid, SIGCONT), 0);
    ck_assert_int_eq(lab_exec(&lab, "wait converged 30s"), 0);
    stop_lab(&lab, &w);
}
END_TEST

/* 600 clients at once, each with one write outstanding at the leader: all are answered (the
 * node's table of clients used to hold 256 and push out clients still waiting). */
START_TEST(six_hundred_concurrent_clients_are_all_answered)
{
    if (!test_procs_allowed())
        return;
    struct lab lab;
    struct watch w;
    start_lab(&lab, &w, "raft", "election", "1s");
    int leader = lab_leader(&lab, 1);
    ck_assert_int_ge(leader, 0);
    char lid[CL_IDLEN];
    snprintf(lid, sizeof lid, "n%d", leader + 1);
    enum { NC = 600 };
    void *ctx = zmq_ctx_new();
    zmq_ctx_set(ctx, ZMQ_MAX_SOCKETS, NC + 64);
    static void *socks[NC];
    static zmq_pollitem_t items[NC];
    static int answered[NC];
    memset(answered, 0, sizeof answered);
    for (int i = 0; i < NC; i++) {
        char id[CL_IDLEN];
        snprintf(id, sizeof id, "c%d", 1000 + i);
        socks[i] = rogue(ctx, id, lab.cl->ops->endpoint(lab.cl, leader));
        items[i] = (zmq_pollitem_t){.socket = socks[i], .events = ZMQ_POLLIN};
    }
    for (int i = 0; i < NC; i++) {
        char id[CL_IDLEN], key[16];
        snprintf(id, sizeof id, "c%d", 1000 + i);
        snprintf(key, sizeof key, "k%d", i);
        send_as(socks[i], id, lid, json_pack("{s:s,s:i,s:s,s:s}", "type", "write", "msg_id", 1, "key", key, "value", "v"));
    }
    int got = 0;
    uint64_t end = mono_us() + 120000000;
    while (got < NC && mono_us() < end) {
        lab_pump(&lab, 1000, -1); /* the lab keeps draining the nodes' events */
        if (zmq_poll(items, NC, 20) <= 0)
            continue;
        for (int i = 0; i < NC; i++) {
            if (!(items[i].revents & ZMQ_POLLIN))
                continue;
            char buf[4096];
            while (zmq_recv(socks[i], buf, sizeof buf, ZMQ_DONTWAIT) >= 0)
                if (!answered[i]) {
                    answered[i] = 1;
                    got++;
                }
        }
    }
    for (int i = 0; i < NC; i++)
        zmq_close(socks[i]);
    zmq_ctx_term(ctx);
    ck_assert_msg(got == NC, "%d of %d clients were answered", got, NC);
    stop_lab(&lab, &w);
}
END_TEST

/* ---- the corruption fuzzer over every file kind --------------------------------------------- */

struct flip_stats {
    int files, logs, blobs, refused, torn;
    struct sb kinds;    /* "mode:file " per file seen */
};

/* Can node id of mode start on dir (with opts)? 0, or -1 with its reason in err. */
static int node_can_start(const char *mode, const char *id, int n, const struct opts *o, const char *dir,
                          char *err, size_t errlen)
{
    struct runtime_config c;
    memset(&c, 0, sizeof c);
    c.id = id;
    c.mode = mode_find(mode);
    ck_assert_ptr_nonnull(c.mode);
    opts_copy(&c.opts, o);
    c.dir = dir;
    c.n_nodes = n;
    int rc = runtime_check(&c, err, errlen);
    opts_free(&c.opts);
    return rc;
}

static void copy_dir(const char *from, const char *to)
{
    char *cmd = xasprintf("rm -rf '%s' && cp -a '%s' '%s'", to, from, to);
    ck_assert_int_eq(system(cmd), 0);
    free(cmd);
}

/* For every record of every file of node dir `src`: flip a byte of its header and one of its
 * data in a copy, and try to start the node on the copy. A blob, or a log record with others
 * after it, must refuse the start naming the file and the record's offset; the last record
 * of a log is a torn write: the node starts. */
static void flip_every_record(const char *mode, const char *id, int n, const struct opts *o, const char *src,
                              struct flip_stats *fs)
{
    char err[600];
    char work[600];
    snprintf(work, sizeof work, "%s.flip", src);
    copy_dir(src, work);
    ck_assert_msg(node_can_start(mode, id, n, o, work, err, sizeof err) == 0, "%s %s as written: %s", mode, id, err);
    DIR *d = opendir(src);
    ck_assert_ptr_nonnull(d);
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t nl = strlen(de->d_name);
        int is_log = nl > 4 && !strcmp(de->d_name + nl - 4, ".log");
        int is_blob = nl > 5 && !strcmp(de->d_name + nl - 5, ".blob");
        if (de->d_name[0] == '.' || (!is_log && !is_blob))
            continue;
        char path[900];
        snprintf(path, sizeof path, "%s/%s", src, de->d_name);
        FILE *f = fopen(path, "rb");
        static unsigned char buf[4 << 20];
        size_t size = fread(buf, 1, sizeof buf, f);
        fclose(f);
        if (size == 0)
            continue;
        fs->files++;
        fs->logs += is_log;
        fs->blobs += is_blob;
        sb_printf(&fs->kinds, "%s:%s ", mode, de->d_name);
        size_t offs[4096];
        int nrec = 0;
        for (size_t off = 0; off + STORAGE_HEADER <= size && nrec < 4096;) {
            size_t len = (size_t)buf[off] | (size_t)buf[off + 1] << 8 | (size_t)buf[off + 2] << 16 |
                         (size_t)buf[off + 3] << 24;
            offs[nrec++] = off;
            off += STORAGE_HEADER + len;
        }
        ck_assert_int_gt(nrec, 0);
        for (int k = 0; k < nrec; k++) {
            size_t end = k + 1 < nrec ? offs[k + 1] : size;
            size_t targets[2] = {offs[k] + 5, offs[k] + STORAGE_HEADER + (end - offs[k] - STORAGE_HEADER) / 2};
            for (int t = 0; t < 2; t++) {
                if (targets[t] >= end)
                    continue;
                copy_dir(src, work);
                char wpath[900];
                snprintf(wpath, sizeof wpath, "%s/%s", work, de->d_name);
                int fd = open(wpath, O_RDWR);
                unsigned char c = buf[targets[t]] ^ 0x10;
                ck_assert_int_eq(pwrite(fd, &c, 1, (off_t)targets[t]), 1);
                close(fd);
                err[0] = 0;
                int rc = node_can_start(mode, id, n, o, work, err, sizeof err);
                if (is_blob || k < nrec - 1) {
                    char want[200];
                    if (is_blob)
                        snprintf(want, sizeof want, "%s: ", de->d_name);
                    else
                        snprintf(want, sizeof want, "%s: record %d (at offset %zu) is corrupt", de->d_name, k + 1, offs[k]);
                    ck_assert_msg(rc < 0, "%s %s: a flip in %s record %d of %d (byte %zu) did not refuse the start",
                                  mode, id, de->d_name, k + 1, nrec, targets[t]);
                    ck_assert_msg(strstr(err, want) && strstr(err, "offset"), "%s %s: \"%s\" does not say \"%s\"",
                                  mode, id, err, want);
                    fs->refused++;
                } else {
                    ck_assert_msg(rc == 0, "%s %s: the last record of %s torn at byte %zu refused the start: %s",
                                  mode, id, de->d_name, targets[t], err);
                    fs->torn++;
                }
            }
        }
    }
    closedir(d);
    char *cmd = xasprintf("rm -rf '%s'", work);
    ck_assert_int_eq(system(cmd), 0);
    free(cmd);
}

/* Runs a cluster to write every kind of file its mode keeps, stops it, and flips every record
 * of every node's files. */
static void fuzz_mode(const char *start, const char *mode, int n, const char *const *opts, const char *const *cmds,
                      struct flip_stats *fs)
{
    struct lab lab;
    struct watch w;
    const char *bin = getenv("CONLAB_BIN");
    char node[512], err[256];
    snprintf(node, sizeof node, "%s/conlab-node", bin ? bin : "bin");
    setenv("CONLAB_NODE", node, 1);
    ck_assert_int_eq(lab_init(&lab, "conlab", err, sizeof err), 0);
    memset(&w, 0, sizeof w);
    struct lab_hooks h = {.ud = &w, .on_output = watch_output, .on_event = watch_event};
    lab_add_hooks(&lab, &h);
    int rc;
    char *got = run(&lab, &w, start, &rc);
    ck_assert_msg(rc == 0, "%s: %s", start, got);
    free(got);
    for (int i = 0; cmds[i]; i++) {
        got = run(&lab, &w, cmds[i], &rc);
        ck_assert_msg(rc == 0, "%s: %s", cmds[i], got);
        free(got);
    }
    ck_assert_int_eq(lab_exec(&lab, "stop"), 0);
    struct opts o = {0};
    for (int i = 0; opts[i]; i += 2)
        opts_set(&o, opts[i], opts[i + 1]);
    int gen = cluster_generation(&lab);
    for (int i = 0; i < n; i++) {
        char id[CL_IDLEN], dir[700];
        node_name(i, id);
        snprintf(dir, sizeof dir, "%s/cluster%d/%s", lab.run_dir, gen, id);
        flip_every_record(mode, id, n, &o, dir, fs);
    }
    opts_free(&o);
    stop_lab(&lab, &w);
}

START_TEST(a_flipped_byte_in_any_record_of_any_file_kind_refuses_the_start_unless_it_is_the_last)
{
    if (!test_procs_allowed())
        return;
    struct flip_stats fs = {0};
    static const char *const raft_opts[] = {"snapshot", "6", NULL};
    static const char *const raft_cmds[] = {"wait leader", "put a 1", "put b 2", "cas a 1 3", "put c 4", "put d 5",
                                            "put e 6", "put f 7", "put g 8", "put h 9", NULL};
    fuzz_mode("start raft 3 snapshot=6", "raft", 3, raft_opts, raft_cmds, &fs);
    static const char *const leader_opts[] = {NULL};
    static const char *const leader_cmds[] = {"put a 1", "put b 2", "put c 3", "promote n2", "put d 4", NULL};
    fuzz_mode("start leader 3", "leader", 3, leader_opts, leader_cmds, &fs);
    static const char *const ll_opts[] = {"n", "3", "w", "3", "r", "1", "sloppy", "on", "conflict", "siblings", NULL};
    static const char *const ll_cmds[] = {"crash n4", "put a 1", "put b 2", "put c 3", "put d 4", "put e 5",
                                          "put f 6", "put g 7", "put h 8", NULL};
    /* with n4 down, w=3 needs stand-ins: they keep hints for n4 */
    fuzz_mode("start leaderless 4 n=3 w=3 r=1 sloppy=on conflict=siblings", "leaderless", 4, ll_opts, ll_cmds, &fs);
    const char *want[] = {"raft:raft.log.", "raft:raft.term.log", "raft:raft.snap.blob", "leader:leader.log.log",
                          "leader:leader.state.blob", "leaderless:data.log", "leaderless:hints.log",
                          "leaderless:dot.blob", NULL};
    for (int i = 0; want[i]; i++)
        ck_assert_msg(strstr(fs.kinds.s, want[i]), "no %s file was written: %s", want[i], fs.kinds.s);
    ck_assert_int_gt(fs.refused, 60);
    ck_assert_int_gt(fs.torn, 10);
    sb_free(&fs.kinds);
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
    tcase_add_test(tc, an_absurd_term_is_refused_even_without_authentication);
    tcase_add_test(tc, holding_a_nodes_routing_id_does_not_silence_it_after_a_restart);
    tcase_add_test(tc, a_corrupt_record_mid_log_refuses_the_start_and_no_acknowledged_write_is_lost);
    tcase_add_test(tc, a_flipped_byte_in_any_record_of_any_file_kind_refuses_the_start_unless_it_is_the_last);
    suite_add_tcase(s, tc);
    tc = tcase_create("framecap");
    tcase_set_timeout(tc, 400);
    tcase_add_test(tc, a_frame_over_the_cap_is_never_lost_in_silence);
    tcase_add_test(tc, converged_never_passes_on_nothing_compared);
    tcase_add_test(tc, six_hundred_concurrent_clients_are_all_answered);
    suite_add_tcase(s, tc);
    return s;
}
