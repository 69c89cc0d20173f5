/* check_runtime — one real bin/conlab-node process (mode leader, n1 of two nodes, with
 * repl=async so that the absent n2 does not hold writes), with this test playing the lab
 * (docs/protocol.md §1 "Control"): it binds the control ROUTER and the event PULL, generates
 * the CURVE keys of n1 and n2, answers the node's register and sends it its peers. Then
 * another program's garbage goes to the node's client socket — not JSON, JSON that is not an
 * object, missing fields, an empty frame, a multi-frame message, nested-array bombs, control
 * types, a client claiming a node's id, a message between nodes, a frame for another node, a
 * 2 MiB frame — and for each the node emits a `drop` event with a reason and keeps serving: a
 * valid write then read still succeed, `status` counts the garbage, and `shutdown` on the
 * control socket ends it with status 0. The peer socket admits only the cluster's keys: a
 * plain connection and a stranger's key are refused with an event, n2's key may speak only as
 * n2, and even n2 cannot make n1 jump epochs.
 *
 * Skipped when test_procs_allowed() is false (under valgrind). Everything is bounded by
 * timeouts; the node gets --lab-pid so it dies with this test process. */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include "envelope.h"
#include "test_util.h"
#include "util.h"

#define WAIT_MS 3000

struct lab {
    char dir[64];
    void *ctx, *ctl, *ev;
    pid_t pid;
    char ep[256];           /* the node's client endpoint */
    char peer_ep[256];      /* the node's peer endpoint */
    char pub1[41], sec1[41], pub2[41], sec2[41]; /* n1's and n2's CURVE keys */
};

static void *sock(struct lab *L, int type)
{
    void *s = zmq_socket(L->ctx, type);
    int zero = 0;
    zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
    return s;
}

/* Receives one whole message (all frames) within ms; returns the number of frames (0 on
 * timeout) and the last frame as a NUL-terminated malloc'd string. */
static int recv_msg(void *s, int ms, char **last, char *first, size_t firstlen)
{
    zmq_pollitem_t it = {s, 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&it, 1, ms) <= 0)
        return 0;
    int frames = 0;
    *last = NULL;
    for (;;) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, s, 0) < 0) {
            zmq_msg_close(&m);
            break;
        }
        if (frames == 0 && first) {
            size_t n = zmq_msg_size(&m) < firstlen - 1 ? zmq_msg_size(&m) : firstlen - 1;
            memcpy(first, zmq_msg_data(&m), n);
            first[n] = 0;
        }
        free(*last);
        *last = xstrndup(zmq_msg_data(&m), zmq_msg_size(&m));
        frames++;
        int more = zmq_msg_more(&m);
        zmq_msg_close(&m);
        if (!more)
            break;
    }
    return frames;
}

static void send_env(void *s, const char *rid, const char *src, const char *dest, json_t *body)
{
    struct envelope e = {0};
    str_copy(e.src, src, CL_IDLEN);
    str_copy(e.dest, dest, CL_IDLEN);
    e.body = body;
    size_t len;
    char *frame = envelope_encode(&e, &len);
    if (rid)
        zmq_send(s, rid, strlen(rid), ZMQ_SNDMORE);
    zmq_send(s, frame, len, 0);
    free(frame);
    json_decref(body);
}

static void ctl_send(struct lab *L, json_t *body)
{
    send_env(L->ctl, "n1", "lab", "n1", body);
}

/* The next control message from the node (its body, caller frees) or NULL after WAIT_MS. */
static json_t *ctl_recv(struct lab *L)
{
    char *frame = NULL, rid[32];
    int n = recv_msg(L->ctl, WAIT_MS, &frame, rid, sizeof rid);
    if (n != 2) {
        free(frame);
        return NULL;
    }
    struct envelope e;
    char err[256];
    json_t *body = NULL;
    if (envelope_decode(frame, strlen(frame), &e, err, sizeof err) == 0) {
        ck_assert_str_eq(rid, "n1");
        ck_assert_str_eq(e.src, "n1");
        body = json_incref(e.body);
        envelope_clear(&e);
    }
    free(frame);
    return body;
}

/* Waits for an event named ev (and, when why is set, with that "why"); returns it (caller
 * frees) or NULL after WAIT_MS. Other events are skipped. */
static json_t *wait_event(struct lab *L, const char *ev, const char *why)
{
    uint64_t end = mono_us() + WAIT_MS * 1000ull;
    for (;;) {
        uint64_t now = mono_us();
        if (now >= end)
            return NULL;
        char *frame = NULL;
        if (recv_msg(L->ev, (int)((end - now) / 1000) + 1, &frame, NULL, 0) != 1) {
            free(frame);
            continue;
        }
        json_error_t je;
        json_t *j = json_loads(frame, 0, &je);
        free(frame);
        ck_assert_msg(j != NULL, "an event that is not JSON");
        const char *name = json_string_value(json_object_get(j, "ev"));
        const char *w = json_string_value(json_object_get(j, "why"));
        if (name && !strcmp(name, ev) && (!why || (w && !strcmp(w, why))))
            return j;
        json_decref(j);
    }
}

static const char *node_bin(void)
{
    static char path[512];
    const char *bin = getenv("CONLAB_BIN");
    snprintf(path, sizeof path, "%s/conlab-node", bin && *bin ? bin : "bin");
    return path;
}

static void lab_start(struct lab *L)
{
    memset(L, 0, sizeof *L);
    ck_assert_msg(access(node_bin(), X_OK) == 0, "%s is not built (set CONLAB_BIN)", node_bin());
    strcpy(L->dir, "/tmp/conlab-rt-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(L->dir));
    L->ctx = zmq_ctx_new();
    L->ctl = sock(L, ZMQ_ROUTER);
    L->ev = sock(L, ZMQ_PULL);
    char ctl_ep[128], ev_ep[128], bind_ep[128], peer_ep[128], data[128], labpid[32], k1[64], k2[64];
    snprintf(ctl_ep, sizeof ctl_ep, "ipc://%s/ctl", L->dir);
    snprintf(ev_ep, sizeof ev_ep, "ipc://%s/ev", L->dir);
    snprintf(bind_ep, sizeof bind_ep, "ipc://%s/n1", L->dir);
    snprintf(peer_ep, sizeof peer_ep, "ipc://%s/n1-peers", L->dir);
    ck_assert_int_eq(zmq_curve_keypair(L->pub1, L->sec1), 0);
    ck_assert_int_eq(zmq_curve_keypair(L->pub2, L->sec2), 0);
    snprintf(k1, sizeof k1, "n1=%s", L->pub1);
    snprintf(k2, sizeof k2, "n2=%s", L->pub2);
    snprintf(data, sizeof data, "%s/data", L->dir);
    snprintf(labpid, sizeof labpid, "%d", (int)getpid());
    ck_assert_int_eq(zmq_bind(L->ctl, ctl_ep), 0);
    ck_assert_int_eq(zmq_bind(L->ev, ev_ep), 0);
    L->pid = fork();
    ck_assert_int_ge(L->pid, 0);
    if (L->pid == 0) {
        setenv("CONLAB_NODE_SECRET", L->sec1, 1);
        execl(node_bin(), node_bin(), "--id", "n1", "--mode", "leader", "--nodes", "2", "--dir", data,
              "--ctl", ctl_ep, "--events", ev_ep, "--bind", bind_ep, "--peer-bind", peer_ep, "--peer-key", k1,
              "--peer-key", k2, "--opt", "repl=async", "--lab-pid", labpid, (char *)NULL);
        _exit(127);
    }
    json_t *reg = ctl_recv(L);
    ck_assert_msg(reg != NULL, "the node did not register within %d ms", WAIT_MS);
    ck_assert_str_eq(json_string_value(json_object_get(reg, "type")), "register");
    ck_assert_int_eq(json_integer_value(json_object_get(reg, "pid")), L->pid);
    const char *ep = json_string_value(json_object_get(reg, "endpoint"));
    const char *pep = json_string_value(json_object_get(reg, "peer_endpoint"));
    ck_assert_ptr_nonnull(ep);
    ck_assert_ptr_nonnull(pep);
    str_copy(L->ep, ep, sizeof L->ep);
    str_copy(L->peer_ep, pep, sizeof L->peer_ep);
    json_decref(reg);
    ctl_send(L, json_pack("{s:s}", "type", "welcome"));
    ctl_send(L, json_pack("{s:s,s:[{s:s,s:s,s:s,s:b},{s:s,s:s,s:b}]}", "type", "peers", "nodes", "id", "n1",
                          "peer_endpoint", L->peer_ep, "key", L->pub1, "up", 1, "id", "n2", "key", L->pub2, "up", 0));
    json_t *st = wait_event(L, "state", NULL);
    ck_assert_msg(st != NULL, "the node did not start its mode");
    ck_assert_str_eq(json_string_value(json_object_get(st, "role")), "leader");
    json_decref(st);
}

/* Waits up to ms for the node to exit; returns its wait status or -1. */
static int reap(struct lab *L, int ms)
{
    for (int waited = 0; waited <= ms; waited += 10) {
        int status;
        pid_t p = waitpid(L->pid, &status, WNOHANG);
        if (p == L->pid) {
            L->pid = 0;
            return status;
        }
        usleep(10000);
    }
    return -1;
}

static void rm_rf(const char *path)
{
    char *cmd = xasprintf("rm -rf '%s'", path);
    if (system(cmd) != 0) {
    }
    free(cmd);
}

static void lab_stop(struct lab *L)
{
    if (L->pid > 0) {
        kill(L->pid, SIGKILL);
        reap(L, 2000);
    }
    zmq_close(L->ctl);
    zmq_close(L->ev);
    zmq_ctx_term(L->ctx);
    rm_rf(L->dir);
}

static void *client(struct lab *L, const char *id)
{
    void *s = sock(L, ZMQ_DEALER);
    zmq_setsockopt(s, ZMQ_ROUTING_ID, id, strlen(id));
    ck_assert_int_eq(zmq_connect(s, L->ep), 0);
    return s;
}

/* Sends a request as client c1 and returns the reply body (caller frees) or NULL. */
static json_t *request(void *s, json_t *body)
{
    send_env(s, NULL, "c1", "n1", body);
    char *frame = NULL;
    if (recv_msg(s, WAIT_MS, &frame, NULL, 0) != 1) {
        free(frame);
        return NULL;
    }
    struct envelope e;
    char err[256];
    json_t *b = NULL;
    if (envelope_decode(frame, strlen(frame), &e, err, sizeof err) == 0) {
        ck_assert_str_eq(e.dest, "c1");
        b = json_incref(e.body);
        envelope_clear(&e);
    }
    free(frame);
    return b;
}

static void assert_serves(void *c, const char *value)
{
    json_t *r = request(c, json_pack("{s:s,s:i,s:s,s:s}", "type", "write", "msg_id", 101, "key", "x",
                                     "value", value));
    ck_assert_msg(r != NULL, "no reply to a write");
    ck_assert_str_eq(json_string_value(json_object_get(r, "type")), "write_ok");
    ck_assert_int_eq(json_integer_value(json_object_get(r, "in_reply_to")), 101);
    json_decref(r);
    r = request(c, json_pack("{s:s,s:i,s:s}", "type", "read", "msg_id", 102, "key", "x"));
    ck_assert_msg(r != NULL, "no reply to a read");
    ck_assert_str_eq(json_string_value(json_object_get(r, "type")), "read_ok");
    ck_assert_str_eq(json_string_value(json_object_get(r, "value")), value);
    json_decref(r);
}

/* ---- garbage ------------------------------------------------------------------------- */

#define ENV(body) "{\"src\":\"c1\",\"dest\":\"n1\",\"body\":" body "}"

static const struct {
    const char *what;
    const char *frame;      /* NULL: built by the test */
    const char *why;
    const char *detail;
} garbage[] = {
    {"not JSON", "hello, node", "garbage", "malformed JSON"},
    {"JSON that is not an object", "[1,2,3]", "garbage", "not a JSON object"},
    {"a bare string", "\"n1\"", "garbage", "malformed JSON"},
    {"missing dest", "{\"src\":\"c1\",\"body\":{\"type\":\"read\",\"key\":\"x\"}}", "garbage", "missing field \"dest\""},
    {"missing body", "{\"src\":\"c1\",\"dest\":\"n1\"}", "garbage", "missing field \"body\""},
    {"missing type", ENV("{\"key\":\"x\"}"), "garbage", "body.type"},
    {"negative msg_id", ENV("{\"type\":\"read\",\"msg_id\":-1}"), "garbage", "msg_id"},
    {"invalid UTF-8", "{\"src\":\"c\xff\",\"dest\":\"n1\",\"body\":{\"type\":\"read\"}}", "garbage", "malformed JSON"},
    {"an empty frame", "", "garbage", "empty frame"},
    {"a multi-frame message", NULL, "garbage", "more than one payload frame"},
    {"nested arrays 100 000 deep", NULL, "garbage", "malformed JSON"},
    {"shutdown on the peer socket", ENV("{\"type\":\"shutdown\"}"), "control on peer socket", "shutdown"},
    {"peers on the peer socket", ENV("{\"type\":\"peers\",\"nodes\":[]}"), "control on peer socket", "peers"},
    {"faults on the peer socket", ENV("{\"type\":\"faults\",\"rules\":{}}"), "control on peer socket", "faults"},
    {"a client claiming n2's id", "{\"src\":\"n2\",\"dest\":\"n1\",\"body\":{\"type\":\"write\",\"key\":\"x\",\"value\":\"evil\"}}",
     "client claims a node id", "write as n2"},
    {"a client claiming a node id outside the cluster", "{\"src\":\"n9\",\"dest\":\"n1\",\"body\":{\"type\":\"read\"}}",
     "client claims a node id", "read as n9"},
    {"a message between nodes from a client", ENV("{\"type\":\"replicate\",\"msg_id\":3,\"epoch\":99}"),
     "peer message from a client", "replicate is a message between nodes"},
    {"a frame for another node", "{\"src\":\"c1\",\"dest\":\"n2\",\"body\":{\"type\":\"write\",\"key\":\"x\",\"value\":\"evil\"}}",
     "wrong destination", "addressed to n2, not to n1"},
    {"a 2 MiB frame", NULL, "garbage", "frame of 2097152 bytes exceeds the 1048576-byte cap"},
};

START_TEST(garbage_frames_are_dropped_with_a_reason_and_the_node_keeps_serving)
{
    if (!test_procs_allowed())
        return;
    struct lab L;
    lab_start(&L);
    void *c = client(&L, "c1");
    assert_serves(c, "before");
    int sent = 0;
    for (size_t i = 0; i < CL_ARRAY_LEN(garbage); i++) {
        if (!strcmp(garbage[i].what, "a multi-frame message")) {
            zmq_send(c, "part one", 8, ZMQ_SNDMORE);
            zmq_send(c, ENV("{\"type\":\"read\",\"key\":\"x\"}"), strlen(ENV("{\"type\":\"read\",\"key\":\"x\"}")), 0);
        } else if (!strcmp(garbage[i].what, "a 2 MiB frame")) {
            size_t n = 2u << 20;
            char *frame = malloc(n);
            memset(frame, ' ', n);
            frame[0] = '{';
            frame[n - 1] = '}';
            zmq_send(c, frame, n, 0);
            free(frame);
        } else if (!strncmp(garbage[i].what, "nested arrays", 13)) {
            size_t depth = 100000;
            char *bomb = malloc(2 * depth);
            memset(bomb, '[', depth);
            memset(bomb + depth, ']', depth);
            zmq_send(c, bomb, 2 * depth, 0);
            free(bomb);
        } else {
            zmq_send(c, garbage[i].frame, strlen(garbage[i].frame), 0);
        }
        sent++;
        json_t *ev = wait_event(&L, "drop", garbage[i].why);
        ck_assert_msg(ev != NULL, "%s: no drop event (why %s)", garbage[i].what, garbage[i].why);
        if (!strcmp(garbage[i].why, "peer message from a client")) { /* answered, too */
            char *frame = NULL;
            ck_assert_int_eq(recv_msg(c, WAIT_MS, &frame, NULL, 0), 1);
            ck_assert_msg(strstr(frame, "\"code\":10") && strstr(frame, "\"in_reply_to\":3"), "%s", frame);
            free(frame);
        }
        const char *detail = json_string_value(json_object_get(ev, "detail"));
        ck_assert_msg(detail && strstr(detail, garbage[i].detail), "%s: detail \"%s\", want \"%s\"",
                      garbage[i].what, detail ? detail : "(none)", garbage[i].detail);
        json_decref(ev);
    }
    /* an unknown type from a client is not garbage: dropped, counted and answered */
    json_t *r = request(c, json_pack("{s:s,s:i}", "type", "frobnicate", "msg_id", 9));
    ck_assert_ptr_nonnull(r);
    ck_assert_str_eq(json_string_value(json_object_get(r, "type")), "error");
    ck_assert_int_eq(json_integer_value(json_object_get(r, "code")), 10);
    ck_assert_int_eq(json_integer_value(json_object_get(r, "in_reply_to")), 9);
    json_decref(r);
    json_t *ev = wait_event(&L, "drop", "unknown type");
    ck_assert_ptr_nonnull(ev);
    json_decref(ev);

    /* the spoofed write did not happen, and the node still serves */
    r = request(c, json_pack("{s:s,s:i,s:s}", "type", "read", "msg_id", 10, "key", "x"));
    ck_assert_ptr_nonnull(r);
    ck_assert_str_eq(json_string_value(json_object_get(r, "value")), "before");
    json_decref(r);
    assert_serves(c, "after");

    /* status counts the garbage */
    ctl_send(&L, json_pack("{s:s,s:i}", "type", "status", "req", 4));
    json_t *st = ctl_recv(&L);
    ck_assert_ptr_nonnull(st);
    ck_assert_str_eq(json_string_value(json_object_get(st, "type")), "status_ok");
    ck_assert_int_eq(json_integer_value(json_object_get(st, "req")), 4);
    json_t *status = json_object_get(st, "status");
    ck_assert_str_eq(json_string_value(json_object_get(status, "role")), "leader");
    ck_assert_int_eq(json_integer_value(json_object_get(status, "garbage")), sent);
    json_decref(st);

    zmq_close(c);
    ctl_send(&L, json_pack("{s:s}", "type", "shutdown"));
    int status_code = reap(&L, 5000);
    ck_assert_msg(status_code >= 0, "the node did not exit after shutdown");
    ck_assert(WIFEXITED(status_code) && WEXITSTATUS(status_code) == 0);
    lab_stop(&L);
}
END_TEST

START_TEST(a_frame_over_16_mib_costs_only_its_sender_the_connection)
{
    if (!test_procs_allowed())
        return;
    struct lab L;
    lab_start(&L);
    void *c = client(&L, "c1");
    assert_serves(c, "v1");
    /* frames up to 16 MiB reach the decoder and are refused with an event (see the garbage
     * test); past that ZMQ_MAXMSGSIZE makes libzmq drop the sender's connection before the node
     * sees the frame; the node and its other clients carry on */
    void *big = client(&L, "c2");
    size_t n = 20u << 20;
    char *frame = malloc(n);
    memset(frame, ' ', n);
    frame[0] = '{';
    frame[n - 1] = '}';
    ck_assert_int_eq(zmq_send(big, frame, n, 0), (int)n);
    free(frame);
    usleep(200000);
    ck_assert_int_eq(kill(L.pid, 0), 0);
    assert_serves(c, "v2");
    zmq_close(big);
    zmq_close(c);
    ctl_send(&L, json_pack("{s:s}", "type", "shutdown"));
    int st = reap(&L, 5000);
    ck_assert(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    lab_stop(&L);
}
END_TEST

/* A DEALER to the node's peer socket: plain (keys NULL) or CURVE with the given keypair. */
static void *peer_client(struct lab *L, const char *pub, const char *sec, const char *rid)
{
    void *s = sock(L, ZMQ_DEALER);
    if (rid)
        zmq_setsockopt(s, ZMQ_ROUTING_ID, rid, strlen(rid));
    if (pub) {
        zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, L->pub1, 40);
        zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, pub, 40);
        zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, sec, 40);
    }
    ck_assert_int_eq(zmq_connect(s, L->peer_ep), 0);
    return s;
}

static json_t *replicate_body(long long epoch)
{
    return json_pack("{s:s,s:I,s:i,s:i,s:i,s:[],s:i,s:i}", "type", "replicate", "epoch", (json_int_t)epoch,
                     "prev_index", 0, "prev_epoch", 0, "prev_leader", -1, "entries", "commit", 0, "last", 0);
}

START_TEST(the_peer_socket_admits_only_the_cluster_keys_and_each_only_as_itself)
{
    if (!test_procs_allowed())
        return;
    struct lab L;
    lab_start(&L);
    /* a program that does not speak CURVE, calling itself n2 */
    void *plain = peer_client(&L, NULL, NULL, "n2");
    send_env(plain, NULL, "n2", "n1", replicate_body(1));
    json_t *ev = wait_event(&L, "drop", "unauthenticated peer");
    ck_assert_msg(ev != NULL, "a plain connection to the peer socket raised no event");
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(ev, "detail")), "without the cluster's CURVE keys"));
    json_decref(ev);
    zmq_close(plain);
    /* CURVE, with a key that is not the cluster's */
    char pub[41], sec[41];
    zmq_curve_keypair(pub, sec);
    void *stranger = peer_client(&L, pub, sec, "n2");
    send_env(stranger, NULL, "n2", "n1", replicate_body(1));
    ev = wait_event(&L, "drop", "unauthenticated peer");
    ck_assert_msg(ev != NULL, "a stranger's key raised no event");
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(ev, "detail")), "not one of the cluster's"));
    json_decref(ev);
    zmq_close(stranger);
    /* n2's key: it may not speak as n1, whatever its routing id says */
    void *n2 = peer_client(&L, L.pub2, L.sec2, "n1");
    send_env(n2, NULL, "n1", "n1", replicate_body(1));
    ev = wait_event(&L, "drop", "spoofed sender");
    ck_assert_msg(ev != NULL, "n2's key speaking as n1 was not refused");
    ck_assert_str_eq(json_string_value(json_object_get(ev, "detail")), "the key of n2 sent as n1");
    json_decref(ev);
    /* as itself it is heard, but an absurd epoch is refused and reported, not adopted */
    send_env(n2, NULL, "n2", "n1", replicate_body(1000000000000000LL));
    ev = wait_event(&L, "error", NULL);
    ck_assert_msg(ev != NULL, "no event for an epoch jump");
    ck_assert_msg(strstr(json_string_value(json_object_get(ev, "text")), "refused an epoch jump from 1 to 1000000000000000"),
                  "%s", json_string_value(json_object_get(ev, "text")));
    json_decref(ev);
    send_env(n2, NULL, "n2", "n1", replicate_body(1));
    ev = wait_event(&L, "recv", NULL);
    ck_assert_msg(ev != NULL, "n2 with its own key was not heard");
    ck_assert_str_eq(json_string_value(json_object_get(ev, "from")), "n2");
    json_decref(ev);
    zmq_close(n2);
    /* n1 still leads epoch 1, serves, and counts the refusals */
    ctl_send(&L, json_pack("{s:s,s:i}", "type", "status", "req", 8));
    json_t *st = ctl_recv(&L);
    ck_assert_ptr_nonnull(st);
    json_t *status = json_object_get(st, "status");
    ck_assert_str_eq(json_string_value(json_object_get(status, "role")), "leader");
    ck_assert_int_eq(json_integer_value(json_object_get(status, "epoch")), 1);
    ck_assert_int_ge(json_integer_value(json_object_get(status, "peers_refused")), 2);
    json_decref(st);
    void *c = client(&L, "c1");
    assert_serves(c, "still-n1");
    zmq_close(c);
    lab_stop(&L);
}
END_TEST

START_TEST(bad_control_frames_are_reported_and_ignored)
{
    if (!test_procs_allowed())
        return;
    struct lab L;
    lab_start(&L);
    zmq_send(L.ctl, "n1", 2, ZMQ_SNDMORE);
    zmq_send(L.ctl, "not json", 8, 0);
    json_t *ev = wait_event(&L, "error", NULL);
    ck_assert_ptr_nonnull(ev);
    ck_assert_str_eq(json_string_value(json_object_get(ev, "text")), "bad control frame");
    json_decref(ev);
    ctl_send(&L, json_pack("{s:s,s:{s:i}}", "type", "faults", "rules", "n", 99));
    ev = wait_event(&L, "error", NULL);
    ck_assert_ptr_nonnull(ev);
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(ev, "text")), "fault rules"));
    json_decref(ev);
    /* a ping still gets its pong */
    ctl_send(&L, json_pack("{s:s}", "type", "ping"));
    json_t *pong = ctl_recv(&L);
    ck_assert_ptr_nonnull(pong);
    ck_assert_str_eq(json_string_value(json_object_get(pong, "type")), "pong");
    json_decref(pong);
    void *c = client(&L, "c1");
    assert_serves(c, "ok");
    zmq_close(c);
    kill(L.pid, SIGTERM); /* a signal ends it cleanly too */
    int st = reap(&L, 5000);
    ck_assert(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    lab_stop(&L);
}
END_TEST

/* Sends a status request and returns the "status" object's field as an integer. */
static json_int_t status_field(struct lab *L, const char *field, int req)
{
    ctl_send(L, json_pack("{s:s,s:i}", "type", "status", "req", req));
    json_t *st = ctl_recv(L);
    ck_assert_msg(st != NULL, "no status_ok");
    ck_assert_int_eq(json_integer_value(json_object_get(st, "req")), req);
    json_int_t v = json_integer_value(json_object_get(json_object_get(st, "status"), field));
    json_decref(st);
    return v;
}

START_TEST(clock_control_skews_the_node_clock_but_never_below_zero)
{
    if (!test_procs_allowed())
        return;
    struct lab L;
    lab_start(&L);
    ctl_send(&L, json_pack("{s:s,s:I,s:i,s:i}", "type", "clock", "skew_us", (json_int_t)-5000000, "strobe_us", 0,
                           "period_us", 0));
    json_t *ev = wait_event(&L, "clock", NULL);
    ck_assert_ptr_nonnull(ev);
    ck_assert_int_eq(json_integer_value(json_object_get(ev, "skew_us")), -5000000);
    json_decref(ev);
    uint64_t before = wall_us();
    json_int_t clock = status_field(&L, "clock_us", 1);
    uint64_t after = wall_us();
    ck_assert_msg((uint64_t)clock + 5000000 >= before && (uint64_t)clock + 5000000 <= after,
                  "clock_us %lld is not wall time - 5 s", (long long)clock);
    ck_assert_int_eq(status_field(&L, "skew_us", 2), -5000000);
    /* a skew larger than the epoch: the clock stops at 0 rather than wrapping */
    ctl_send(&L, json_pack("{s:s,s:I}", "type", "clock", "skew_us", (json_int_t)INT64_MIN / 2));
    ev = wait_event(&L, "clock", NULL);
    ck_assert_ptr_nonnull(ev);
    ck_assert_int_eq(json_integer_value(json_object_get(ev, "physical_us")), 0);
    json_decref(ev);
    ck_assert_int_eq(status_field(&L, "clock_us", 3), 0);
    /* commands: unknown ones are answered, not fatal */
    ctl_send(&L, json_pack("{s:s,s:i,s:s,s:[]}", "type", "command", "req", 5, "name", "frobnicate", "args"));
    json_t *r = ctl_recv(&L);
    ck_assert_ptr_nonnull(r);
    ck_assert_str_eq(json_string_value(json_object_get(r, "type")), "command_ok");
    ck_assert(json_is_false(json_object_get(json_object_get(r, "reply"), "ok")));
    json_decref(r);
    ctl_send(&L, json_pack("{s:s,s:i,s:s,s:i}", "type", "command", "req", 6, "name", "promote", "args", 7));
    r = ctl_recv(&L);
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(json_integer_value(json_object_get(r, "req")), 6);
    json_decref(r);
    void *c = client(&L, "c1");
    assert_serves(c, "skewed");
    zmq_close(c);
    ctl_send(&L, json_pack("{s:s}", "type", "shutdown"));
    int st = reap(&L, 5000);
    ck_assert(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    lab_stop(&L);
}
END_TEST

Suite *suite_runtime(void);
Suite *suite_runtime(void)
{
    Suite *s = suite_create("runtime");
    TCase *tc = tcase_create("process");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, garbage_frames_are_dropped_with_a_reason_and_the_node_keeps_serving);
    tcase_add_test(tc, a_frame_over_16_mib_costs_only_its_sender_the_connection);
    tcase_add_test(tc, the_peer_socket_admits_only_the_cluster_keys_and_each_only_as_itself);
    tcase_add_test(tc, bad_control_frames_are_reported_and_ignored);
    tcase_add_test(tc, clock_control_skews_the_node_clock_but_never_below_zero);
    suite_add_tcase(s, tc);
    return s;
}
