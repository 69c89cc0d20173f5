/* runtime — see runtime.h. */
#include "runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include "clocks.h"
#include "envelope.h"
#include "faults.h"
#include "heap.h"
#include "rng.h"
#include "statusbrief.h"
#include "storage.h"

/* Clients the node can answer (their routing ids): the table grows as clients come, and only
 * past MAX_CLIENTS does the least recently used one give its place (a client still waiting
 * for its reply is never pushed out by a few hundred others). */
#define MAX_CLIENTS 65536
#define HWM 20000
/* libzmq cuts a connection whose frame exceeds this before anyone sees it; frames between
 * ENVELOPE_MAX_BYTES and this reach the decoder, which refuses them with a `drop` event. */
#define FRAME_HARD_MAX (16 << 20)
#define ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define MONITOR_ENDPOINT "inproc://conlab.peer-monitor"

enum { OUT_MSG = 1, OUT_BW };  /* OUT_BW: queued on a bandwidth-limited link; b = its delay after it is out */

struct client {
    char id[CL_IDLEN];
    unsigned char rid[256];
    size_t rid_len;
    uint64_t last_used;
};

struct rt {
    struct env env;
    char node_ids[CL_MAXNODES][CL_IDLEN]; /* env.nodes */
    const struct runtime_config *cfg;
    const struct mode *mode;
    void *st;
    void *zctx, *router, *ctl, *evpush;
    void *peersock;             /* the peer ROUTER (CURVE server with auth) */
    void *zap, *monitor;        /* ZAP handler (REP) and the peer socket's monitor (PAIR) */
    void *peer[CL_MAXNODES];
    char peer_ep[CL_MAXNODES][256]; /* eager: where peer[i] connects; lazy: where it will */
    int lazy;                   /* peers=lazy: a peer's socket is made at the first send to it */
    uint64_t lazy_connects;     /* peer sockets made so far (peers=lazy) */
    char bound_ep[256], peer_bound_ep[256];
    int auth;
    char secret[41], public[41];
    char key[CL_MAXNODES][41];      /* every node's public key (Z85), "" when unknown */
    unsigned char key_bin[CL_MAXNODES][32];
    uint64_t refused, refused_reported, refused_at; /* unauthenticated peer connections */
    uint64_t start_deadline;    /* while > 0: waiting for the peer connections, mode not started */
    json_t *start_nodes;        /* the `peers` list being waited on */
    struct heap timers;
    struct idset cancelled;
    struct heap outbox;         /* delayed sends: p = frame (char *), a = length, node = dest */
    struct faults faults;
    struct bwq bwq[CL_MAXNODES]; /* per outgoing link with a bandwidth: the frames on the wire */
    uint64_t bwq_reported[CL_MAXNODES]; /* the queue length the last `queue` event gave */
    struct rng rng;
    struct clocks clk;
    double speed;
    uint64_t inc;
    uint64_t ev_seq, ev_dropped;
    uint64_t garbage, unknown_types;
    uint64_t peer_sends, fsyncs;  /* messages the mode sent to other nodes; log syncs and blob puts */
    int events_all;
    struct storage *store;
    int sigpipe[2];
    int running, started;
    json_t *early_cmds;         /* mode commands received before the start (run after it) */
    struct client *clients;
    int nclients, capclients;
    int *client_index;          /* open addressing over clients[] by id: -1 empty */
    size_t index_cap;           /* a power of two, at least twice capclients */
    uint64_t now_mono;
    /* the outside program a mode hosts (env prog_start): its pid, its stdin and stdout, what
     * waits to be written to it and the part of a line read from it */
    pid_t prog_pid;
    int prog_in, prog_out;
    struct sb prog_obuf;
    size_t prog_ooff;
    struct sb prog_ibuf;
};

static volatile sig_atomic_t g_sigfd = -1;

static void on_signal(int sig)
{
    int saved = errno;
    unsigned char c = (unsigned char)sig;
    if (g_sigfd >= 0 && write(g_sigfd, &c, 1) < 0) {
    }
    errno = saved;
}

static struct rt *rt_of(struct env *e)
{
    return e->impl;
}

/* ---- events ------------------------------------------------------------------------- */

static void emit(struct rt *r, const char *ev, json_t *fields)
{
    json_t *e = json_object();
    json_object_set_new(e, "seq", json_integer((json_int_t)++r->ev_seq));
    json_object_set_new(e, "inc", json_integer((json_int_t)r->inc));
    json_object_set_new(e, "t", json_integer((json_int_t)mono_us()));
    json_object_set_new(e, "node", json_string(r->env.self));
    json_object_set_new(e, "ev", json_string(ev));
    if (fields) {
        json_object_update(e, fields);
        json_decref(fields);
    }
    char *s = json_dumps(e, JSON_COMPACT);
    json_decref(e);
    if (!s)
        return;
    if (zmq_send(r->evpush, s, strlen(s), ZMQ_DONTWAIT) < 0)
        r->ev_dropped++;
    free(s);
}

static void rt_event(struct env *e, const char *ev, json_t *fields)
{
    emit(rt_of(e), ev, fields);
}

/* ---- sending ------------------------------------------------------------------------- */

static void *peer_dealer(struct rt *r, int idx, const char *ep);
static void on_zap(struct rt *r);

/* peers=lazy: the first message to a peer makes its socket and waits (at most 250 ms) for the
 * connection to come up, so that this message is not dropped by ZMQ_IMMEDIATE. Meanwhile it
 * answers ZAP requests: the peer may be making its own first connection to us right now. */
static void lazy_connect(struct rt *r, int dst)
{
    r->peer[dst] = peer_dealer(r, dst, r->peer_ep[dst]);
    if (!r->peer[dst])
        return;
    r->lazy_connects++;
    uint64_t end = mono_us() + 250000;
    for (;;) {
        zmq_pollitem_t it[2] = {{r->peer[dst], 0, ZMQ_POLLOUT, 0}, {r->zap, 0, ZMQ_POLLIN, 0}};
        uint64_t now = mono_us();
        if (now >= end)
            return;
        int nit = r->zap ? 2 : 1;
        if (zmq_poll(it, nit, (long)((end - now) / 1000) + 1) < 0)
            return;
        if (it[0].revents & ZMQ_POLLOUT)
            return;
        if (nit == 2 && (it[1].revents & ZMQ_POLLIN))
            on_zap(r);
    }
}

static void wire_send(struct rt *r, int dst, const char *frame, size_t len)
{
    if (dst >= 0 && !r->peer[dst] && r->lazy && r->peer_ep[dst][0])
        lazy_connect(r, dst);
    if (dst < 0 || !r->peer[dst])
        return;
    if (zmq_send(r->peer[dst], frame, len, ZMQ_DONTWAIT) < 0 && r->events_all)
        emit(r, "drop", json_pack("{s:s,s:s}", "to", r->env.nodes[dst], "why", "peer unreachable"));
}

static size_t client_slot(const struct rt *r, const char *id)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (const unsigned char *p = (const unsigned char *)id; *p; p++)
        h = (h ^ *p) * 0x100000001b3ull;
    size_t mask = r->index_cap - 1, k = (size_t)(h ^ (h >> 29)) & mask;
    while (r->client_index[k] >= 0 && strcmp(r->clients[r->client_index[k]].id, id))
        k = (k + 1) & mask;
    return k;
}

static void client_reindex(struct rt *r)
{
    size_t cap = 64;
    while (cap < 2 * (size_t)r->capclients)
        cap *= 2;
    free(r->client_index);
    r->client_index = xmalloc(cap * sizeof *r->client_index);
    r->index_cap = cap;
    for (size_t k = 0; k < cap; k++)
        r->client_index[k] = -1;
    for (int i = 0; i < r->nclients; i++)
        r->client_index[client_slot(r, r->clients[i].id)] = i;
}

static struct client *find_client(struct rt *r, const char *id)
{
    if (!r->client_index)
        return NULL;
    int i = r->client_index[client_slot(r, id)];
    return i >= 0 ? &r->clients[i] : NULL;
}

/* The body a `send` event shows: the body itself, or, for a frame over EVENT_BODY_MAX bytes
 * (a snapshot chunk, a batch of big entries), its scalar fields with long strings, arrays and
 * objects summed up, and "elided": the frame's size. Events stay small, whatever the data. */
#define EVENT_BODY_MAX 4096
static json_t *event_body(json_t *body, size_t frame_len)
{
    if (frame_len <= EVENT_BODY_MAX)
        return json_incref(body);
    json_t *o = json_object();
    const char *k;
    json_t *v;
    json_object_foreach(body, k, v) {
        if (json_is_string(v) && json_string_length(v) > 64)
            json_object_set_new(o, k, json_sprintf("(%zu bytes)", json_string_length(v)));
        else if (json_is_array(v))
            json_object_set_new(o, k, json_sprintf("(%zu items)", json_array_size(v)));
        else if (json_is_object(v))
            json_object_set_new(o, k, json_sprintf("(%zu keys)", json_object_size(v)));
        else
            json_object_set(o, k, v);
    }
    json_object_set_new(o, "elided", json_integer((json_int_t)frame_len));
    return o;
}

static uint64_t rt_now_us(struct env *e);

/* The `queue` event of the link to dst: when a queue starts, each time its length reaches a
 * power of two, and when it has drained (or, with force, whatever its length). */
static void report_queue(struct rt *r, int dst, int force)
{
    struct bwq *q = &r->bwq[dst];
    bwq_expire(q, r->now_mono);
    uint64_t n = q->n, was = r->bwq_reported[dst];
    if (!force && !(n && n > was && (n & (n - 1)) == 0) && !(n == 0 && was))
        return;
    r->bwq_reported[dst] = n;
    uint64_t wait = q->busy_until > r->now_mono ? q->busy_until - r->now_mono : 0;
    emit(r, "queue", json_pack("{s:s,s:I,s:I,s:I,s:I}", "to", r->env.nodes[dst], "msgs", (json_int_t)n, "bytes",
                               (json_int_t)q->bytes, "kbps", (json_int_t)r->faults.link[r->env.self_idx][dst].kbps,
                               "wait_ms", (json_int_t)(wait / 1000)));
}

/* The link to dst changed from old_kbps to new_kbps: what waits on it follows the new pace
 * (all of it leaves at once when the bandwidth is gone). */
struct bw_retime {
    int dst;
    uint64_t now;
    double factor;
};

static uint64_t bw_retime_item(const struct heap_item *it, void *ud)
{
    const struct bw_retime *w = ud;
    if (it->kind != OUT_BW || it->node != w->dst)
        return it->when;
    return bwq_retime_at(it->when, it->b, w->now, w->factor);
}

static void bw_changed(struct rt *r, int dst, uint64_t old_kbps, uint64_t new_kbps)
{
    struct bwq *q = &r->bwq[dst];
    bwq_expire(q, r->now_mono);
    if (!q->n)
        return;
    struct bw_retime w = {dst, r->now_mono, bwq_rescale(q, r->now_mono, old_kbps, new_kbps)};
    heap_rewhen(&r->outbox, bw_retime_item, &w);
}

static void rt_send(struct env *e, const char *dest, json_t *body)
{
    struct rt *r = rt_of(e);
    int dst = env_node_index(e, dest);
    struct envelope env = {0};
    str_copy(env.src, e->self, CL_IDLEN);
    str_copy(env.dest, dest, CL_IDLEN);
    env.body = body;
    env.inc = r->inc;
    if (dst >= 0) {
        r->peer_sends++;
        clocks_on_send(&r->clk);
        clocks_hlc_send(&r->clk, rt_now_us(e));
        env.hlc_l = r->clk.hlc_l;
        env.hlc_c = r->clk.hlc_c;
        env.lamport = r->clk.lamport;
        env.vc_n = e->n_nodes;
        memcpy(env.vc, r->clk.vc, sizeof env.vc);
    }
    size_t len;
    char *frame = envelope_encode(&env, &len);
    const char *type = envelope_type(&env);
    if (len > ENVELOPE_MAX_BYTES) {
        /* the receiver would refuse it (or lose the connection): say so here, once, instead */
        char detail[96];
        snprintf(detail, sizeof detail, "a frame of %zu bytes is over the %u-byte cap", len, ENVELOPE_MAX_BYTES);
        emit(r, "drop", json_pack("{s:s,s:s,s:s,s:s}", "to", dest, "type", type, "why", "too big", "detail", detail));
        free(frame);
        json_decref(body);
        return;
    }
    if (dst < 0) {
        struct client *c = find_client(r, dest);
        if (!c) {
            emit(r, "drop", json_pack("{s:s,s:s,s:s}", "to", dest, "type", type, "why", "unknown client"));
        } else {
            c->last_used = r->now_mono;
            if (zmq_send(r->router, c->rid, c->rid_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
                zmq_send(r->router, frame, len, ZMQ_DONTWAIT) < 0)
                emit(r, "drop", json_pack("{s:s,s:s,s:s}", "to", dest, "type", type, "why", "client gone"));
            else if (r->events_all)
                emit(r, "send", json_pack("{s:s,s:s,s:o}", "to", dest, "type", type, "body", event_body(body, len)));
        }
        free(frame);
        json_decref(body);
        return;
    }
    struct fate f;
    if (dst == e->self_idx)
        f = (struct fate){.copies = 1};
    else
        faults_decide(&r->faults, e->self_idx, dst, &r->rng, &f);
    if (r->events_all) {
        json_t *fl = json_pack("{s:s,s:s,s:I,s:o}", "to", dest, "type", type, "lamport",
                               (json_int_t)env.lamport, "body", event_body(body, len));
        json_t *mid = json_object_get(body, "msg_id");
        if (mid)
            json_object_set(fl, "msg_id", mid);
        emit(r, "send", fl);
    }
    uint64_t kbps = dst != e->self_idx ? r->faults.link[e->self_idx][dst].kbps : 0;
    if (f.copies == 0) {
        emit(r, "drop", json_pack("{s:s,s:s,s:s}", "to", dest, "type", type, "why", f.why));
    } else {
        for (int i = 0; i < f.copies; i++) {
            if (kbps) {
                /* a bandwidth: the frame waits its turn on the wire, then its delay */
                uint64_t out = bwq_push(&r->bwq[dst], r->now_mono, len, kbps);
                if (!out) {
                    char detail[96];
                    snprintf(detail, sizeof detail, "%d frames already wait on the link to %s", BWQ_MAX_FRAMES, dest);
                    emit(r, "drop", json_pack("{s:s,s:s,s:s,s:s}", "to", dest, "type", type, "why", "queue full",
                                              "detail", detail));
                    continue;
                }
                struct heap_item it = {.when = out + f.delay_us[i], .kind = OUT_BW, .node = dst, .a = len,
                                       .b = f.delay_us[i], .p = xstrndup(frame, len)};
                heap_push(&r->outbox, &it);
                report_queue(r, dst, 0);
            } else if (f.delay_us[i] == 0) {
                wire_send(r, dst, frame, len);
            } else {
                /* held here, in the sender: a crash of this node loses it */
                struct heap_item it = {.when = r->now_mono + f.delay_us[i], .kind = OUT_MSG,
                                       .node = dst, .a = len, .p = xstrndup(frame, len)};
                heap_push(&r->outbox, &it);
            }
        }
    }
    free(frame);
    json_decref(body);
}

/* ---- timers, clock, randomness ------------------------------------------------------- */

static uint64_t rt_timer_set(struct env *e, uint64_t delay_us, int kind, uint64_t arg)
{
    struct rt *r = rt_of(e);
    uint64_t scaled = (uint64_t)((double)delay_us / r->speed);
    struct heap_item it = {.when = mono_us() + scaled, .kind = kind, .b = arg};
    return heap_push(&r->timers, &it);
}

/* Slow motion: a new speed stretches (or shrinks) the time left on every armed timer, so the
 * whole node follows the new pace at once rather than after its pending timers ran out. */
static void rt_set_speed(struct rt *r, double f)
{
    if (f == r->speed)
        return;
    heap_retime(&r->timers, mono_us(), r->speed / f, -1);
    r->speed = f;
}

static double rt_speed(struct env *e)
{
    return rt_of(e)->speed;
}

static void rt_timer_cancel(struct env *e, uint64_t id)
{
    idset_add(&rt_of(e)->cancelled, id);
}

static uint64_t rt_now_us(struct env *e)
{
    return clocks_physical(&rt_of(e)->clk, wall_us());
}

static uint64_t rt_rand64(struct env *e)
{
    return rng_next(&rt_of(e)->rng);
}

/* ---- storage ------------------------------------------------------------------------- */

static int rt_blob_put(struct env *e, const char *n, const void *d, size_t l)
{
    rt_of(e)->fsyncs++;
    return storage_blob_put(rt_of(e)->store, n, d, l);
}
static int rt_blob_get(struct env *e, const char *n, char **d, size_t *l) { return storage_blob_get(rt_of(e)->store, n, d, l); }
static int rt_log_append(struct env *e, const char *n, const void *d, size_t l) { return storage_log_append(rt_of(e)->store, n, d, l); }
static int rt_log_sync(struct env *e, const char *n)
{
    rt_of(e)->fsyncs++;
    return storage_log_sync(rt_of(e)->store, n);
}
static int rt_log_truncate(struct env *e, const char *n, size_t k) { return storage_log_truncate(rt_of(e)->store, n, k); }
static long rt_log_read(struct env *e, const char *n, void (*fn)(void *, const void *, size_t), void *ud) { return storage_log_read(rt_of(e)->store, n, fn, ud); }

/* ---- an outside program the mode hosts ------------------------------------------------ */

/* A line longer than this from the program is cut there (and the rest of it dropped). */
#define PROG_LINE_MAX (ENVELOPE_MAX_BYTES + 4096)

static int rt_prog_start(struct env *e, char *const argv[], char *err, size_t errlen)
{
    struct rt *r = rt_of(e);
    if (r->prog_pid > 0) {
        snprintf(err, errlen, "a program already runs on this node");
        return -1;
    }
    int in[2], out[2], ex[2];
    if (pipe2(in, O_CLOEXEC) < 0)
        goto fail0;
    if (pipe2(out, O_CLOEXEC) < 0)
        goto fail1;
    if (pipe2(ex, O_CLOEXEC) < 0)
        goto fail2;
    pid_t pid = fork();
    if (pid < 0)
        goto fail3;
    if (pid == 0) {
        /* the child: dies with the node, stdin/stdout on the pipes, stderr is the node's log */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGPIPE, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGINT, SIG_DFL);
        if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0)
            _exit(127);
        execvp(argv[0], argv);
        int code = errno;
        if (write(ex[1], &code, sizeof code) < 0)
            _exit(127);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    close(ex[1]);
    int code = 0;
    ssize_t got;
    while ((got = read(ex[0], &code, sizeof code)) < 0 && errno == EINTR)
        ;
    close(ex[0]);
    if (got == (ssize_t)sizeof code) { /* exec failed */
        waitpid(pid, NULL, 0);
        close(in[1]);
        close(out[0]);
        snprintf(err, errlen, "cannot run %s: %s", argv[0], strerror(code));
        return -1;
    }
    fcntl(in[1], F_SETFL, fcntl(in[1], F_GETFL) | O_NONBLOCK);
    fcntl(out[0], F_SETFL, fcntl(out[0], F_GETFL) | O_NONBLOCK);
    r->prog_pid = pid;
    r->prog_in = in[1];
    r->prog_out = out[0];
    return 0;
fail3:
    close(ex[0]);
    close(ex[1]);
fail2:
    close(out[0]);
    close(out[1]);
fail1:
    close(in[0]);
    close(in[1]);
fail0:
    snprintf(err, errlen, "cannot run %s: %s", argv[0], strerror(errno));
    return -1;
}

static void prog_flush(struct rt *r)
{
    while (r->prog_in >= 0 && r->prog_ooff < r->prog_obuf.len) {
        ssize_t n = write(r->prog_in, r->prog_obuf.s + r->prog_ooff, r->prog_obuf.len - r->prog_ooff);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (n <= 0) { /* the program closed its stdin: what it was sent is lost */
            close(r->prog_in);
            r->prog_in = -1;
            break;
        }
        r->prog_ooff += (size_t)n;
    }
    sb_free(&r->prog_obuf);
    r->prog_ooff = 0;
}

static int rt_prog_write(struct env *e, const char *data, size_t len)
{
    struct rt *r = rt_of(e);
    if (r->prog_in < 0)
        return -1;
    sb_addn(&r->prog_obuf, data, len);
    prog_flush(r);
    return 0;
}

/* The program ended (its stdout closed): reap it and tell the mode. */
static void prog_reap(struct rt *r)
{
    if (r->prog_pid <= 0)
        return;
    int status = 0;
    char why[64];
    if (waitpid(r->prog_pid, &status, 0) < 0)
        snprintf(why, sizeof why, "ended (status unknown)");
    else if (WIFSIGNALED(status))
        snprintf(why, sizeof why, "killed by signal %d", WTERMSIG(status));
    else
        snprintf(why, sizeof why, "exited with status %d", WEXITSTATUS(status));
    r->prog_pid = 0;
    if (r->prog_in >= 0)
        close(r->prog_in);
    r->prog_in = -1;
    sb_free(&r->prog_obuf);
    r->prog_ooff = 0;
    if (r->st && r->mode->on_prog_exit)
        r->mode->on_prog_exit(r->st, why);
}

static void prog_line(struct rt *r, const char *line, size_t len)
{
    if (len && line[len - 1] == '\r')
        len--;
    if (r->st && r->mode->on_prog_line)
        r->mode->on_prog_line(r->st, line, len);
}

static void on_prog_out(struct rt *r)
{
    char buf[65536];
    for (int budget = 0; budget < 64; budget++) {
        ssize_t n = read(r->prog_out, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return; /* EAGAIN: all read */
        if (n == 0) {
            if (r->prog_ibuf.len)
                prog_line(r, r->prog_ibuf.s, r->prog_ibuf.len);
            sb_free(&r->prog_ibuf);
            close(r->prog_out);
            r->prog_out = -1;
            prog_reap(r);
            return;
        }
        const char *p = buf, *end = buf + n;
        while (p < end) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            size_t take = nl ? (size_t)(nl - p) : (size_t)(end - p);
            if (r->prog_ibuf.len < PROG_LINE_MAX)
                sb_addn(&r->prog_ibuf, p, take < PROG_LINE_MAX - r->prog_ibuf.len ? take : PROG_LINE_MAX - r->prog_ibuf.len);
            if (!nl)
                break;
            if (r->prog_ibuf.len)
                prog_line(r, r->prog_ibuf.s, r->prog_ibuf.len);
            sb_free(&r->prog_ibuf);
            p = nl + 1;
        }
    }
}

static void prog_stop(struct rt *r)
{
    if (r->prog_pid > 0) {
        kill(r->prog_pid, SIGKILL);
        waitpid(r->prog_pid, NULL, 0);
        r->prog_pid = 0;
    }
    if (r->prog_in >= 0)
        close(r->prog_in);
    if (r->prog_out >= 0)
        close(r->prog_out);
    r->prog_in = r->prog_out = -1;
    sb_free(&r->prog_obuf);
    sb_free(&r->prog_ibuf);
}

static void ctl_send(struct rt *r, json_t *body);

/* STONITH: the lab powers the node off and answers with power_off_ok (on_control). */
static int rt_power_off(struct env *e, const char *node)
{
    struct rt *r = rt_of(e);
    if (!node || !*node)
        return -1;
    ctl_send(r, json_pack("{s:s,s:s}", "type", "power_off", "node", node));
    return 0;
}

static const struct env_ops rt_ops = {
    .send = rt_send,
    .timer_set = rt_timer_set,
    .timer_cancel = rt_timer_cancel,
    .now_us = rt_now_us,
    .event = rt_event,
    .rand64 = rt_rand64,
    .speed = rt_speed,
    .blob_put = rt_blob_put,
    .blob_get = rt_blob_get,
    .log_append = rt_log_append,
    .log_sync = rt_log_sync,
    .log_truncate = rt_log_truncate,
    .log_read = rt_log_read,
    .prog_start = rt_prog_start,
    .prog_write = rt_prog_write,
    .power_off = rt_power_off,
};

/* ---- control ------------------------------------------------------------------------- */

static void ctl_send(struct rt *r, json_t *body)
{
    struct envelope env = {0};
    str_copy(env.src, r->env.self, CL_IDLEN);
    str_copy(env.dest, "lab", CL_IDLEN);
    env.body = body;
    size_t len;
    char *frame = envelope_encode(&env, &len);
    zmq_send(r->ctl, frame, len, ZMQ_DONTWAIT);
    free(frame);
    json_decref(body);
}

static json_t *full_status(struct rt *r)
{
    json_t *s = r->st && r->mode->status ? r->mode->status(r->st) : json_object();
    json_object_set_new(s, "state", json_string("up"));
    json_object_set_new(s, "lamport", json_integer((json_int_t)r->clk.lamport));
    json_t *vc = json_array();
    for (int i = 0; i < r->env.n_nodes; i++)
        json_array_append_new(vc, json_integer((json_int_t)r->clk.vc[i]));
    json_object_set_new(s, "vc", vc);
    json_object_set_new(s, "clock_us", json_integer((json_int_t)rt_now_us(&r->env)));
    json_object_set_new(s, "hlc", json_pack("[I,I]", (json_int_t)r->clk.hlc_l, (json_int_t)r->clk.hlc_c));
    json_object_set_new(s, "skew_us", json_integer((json_int_t)r->clk.skew_us));
    json_object_set_new(s, "drift_ppm", json_integer((json_int_t)r->clk.drift_ppm));
    json_object_set_new(s, "offset_us", json_integer((json_int_t)clocks_offset(&r->clk, wall_us())));
    json_object_set_new(s, "ntp", json_boolean(r->clk.ntp_from_us != 0));
    json_object_set_new(s, "ntp_err_us", json_integer((json_int_t)r->clk.ntp_err_us));
    json_object_set_new(s, "events_dropped", json_integer((json_int_t)r->ev_dropped));
    json_object_set_new(s, "garbage", json_integer((json_int_t)r->garbage));
    json_object_set_new(s, "peers_refused", json_integer((json_int_t)r->refused));
    /* what the bench counts per committed write (`conlab bench` figures msgs/write, fsyncs/write) */
    json_object_set_new(s, "peer_sends", json_integer((json_int_t)r->peer_sends));
    if (r->lazy)
        json_object_set_new(s, "peer_sockets", json_integer((json_int_t)r->lazy_connects));
    json_object_set_new(s, "fsyncs", json_integer((json_int_t)r->fsyncs));
    json_t *queue = json_object();
    for (int d = 0; d < r->env.n_nodes; d++) {
        struct bwq *q = &r->bwq[d];
        bwq_expire(q, r->now_mono);
        if (q->n)
            json_object_set_new(queue, r->env.nodes[d],
                                json_pack("{s:I,s:I,s:I}", "msgs", (json_int_t)q->n, "bytes", (json_int_t)q->bytes,
                                          "wait_ms", (json_int_t)((q->busy_until - r->now_mono) / 1000)));
    }
    json_object_set_new(s, "queue", queue);
    json_object_set_new(s, "pid", json_integer(getpid()));
    json_object_set_new(s, "endpoint", json_string(r->bound_ep));
    json_object_set_new(s, "peer_endpoint", json_string(r->peer_bound_ep));
    return s;
}

/* ---- keys and the peer sockets --------------------------------------------------------- */

int runtime_valid_key(const char *s)
{
    uint8_t bin[32];
    return s && strlen(s) == 40 && zmq_z85_decode(bin, s) != NULL;
}

/* Learns node idx's public key (Z85). Returns 1 when it changed. */
static int set_key(struct rt *r, int idx, const char *z85)
{
    if (!runtime_valid_key(z85) || !strcmp(r->key[idx], z85))
        return 0;
    str_copy(r->key[idx], z85, sizeof r->key[idx]);
    zmq_z85_decode(r->key_bin[idx], z85);
    return 1;
}

/* The DEALER that carries this node's messages to node idx's peer socket. */
static void *peer_dealer(struct rt *r, int idx, const char *ep)
{
    void *s = zmq_socket(r->zctx, ZMQ_DEALER);
    int one = 1, zero = 0, hwm = HWM;
    if (r->auth) {
        /* CURVE: the receiver knows us by our key; the routing id is left to libzmq, so no
         * one holding an id can lock us out */
        zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, r->key[idx], 40);
        zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, r->public, 40);
        zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, r->secret, 40);
    } else {
        zmq_setsockopt(s, ZMQ_ROUTING_ID, r->env.self, strlen(r->env.self));
    }
    if (idx != r->env.self_idx)
        zmq_setsockopt(s, ZMQ_IMMEDIATE, &one, sizeof one);
    zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof hwm);
    if (zmq_connect(s, ep) < 0) {
        emit(r, "error", json_pack("{s:s,s:s}", "text", "cannot connect to a peer endpoint", "endpoint", ep));
        zmq_close(s);
        return NULL;
    }
    return s;
}

/* Have the connections to the live peers of the `peers` list come up? */
static int peers_ready(struct rt *r, const json_t *nodes)
{
    zmq_pollitem_t items[CL_MAXNODES];
    int want = 0;
    size_t k;
    json_t *x;
    json_array_foreach(nodes, k, x) {
        int idx;
        const char *pid = json_string_value(json_object_get(x, "id"));
        if (!pid || parse_node_id(pid, CL_MAXNODES, &idx) < 0 || idx == r->env.self_idx || !r->peer[idx] ||
            json_is_false(json_object_get(x, "up")) || want == CL_MAXNODES)
            continue;
        items[want++] = (zmq_pollitem_t){r->peer[idx], 0, ZMQ_POLLOUT, 0};
    }
    if (want == 0 || zmq_poll(items, want, 0) < 0)
        return 1;
    int ready = 0;
    for (int j = 0; j < want; j++)
        ready += (items[j].revents & ZMQ_POLLOUT) != 0;
    return ready == want;
}

static void set_peers(struct rt *r, const json_t *nodes)
{
    size_t i;
    json_t *n;
    json_array_foreach(nodes, i, n) {
        const char *id = json_string_value(json_object_get(n, "id"));
        const char *ep = json_string_value(json_object_get(n, "peer_endpoint"));
        const char *key = json_string_value(json_object_get(n, "key"));
        int idx;
        if (!id || parse_node_id(id, CL_MAXNODES, &idx) < 0)
            continue;
        int rekeyed = key && set_key(r, idx, key);
        if (!ep)
            continue; /* a node about to be added: its key comes first */
        if (idx >= r->env.n_nodes) {
            for (int k = r->env.n_nodes; k <= idx; k++)
                node_name(k, r->env.nodes[k]);
            r->env.n_nodes = idx + 1;
            r->faults.n = r->env.n_nodes;
            r->clk.n = r->env.n_nodes;
        }
        if (r->auth && !r->key[idx][0]) {
            emit(r, "error", json_pack("{s:s,s:s}", "text", "no key for a peer: cannot reach it", "peer", id));
            continue;
        }
        if (idx == r->env.self_idx || (!strcmp(r->peer_ep[idx], ep) && !rekeyed))
            continue;
        int had = r->peer[idx] != NULL;
        if (r->peer[idx])
            zmq_close(r->peer[idx]);
        r->peer[idx] = NULL;
        /* lazy: a peer not yet talked to gets its socket at the first send (wire_send); one
         * already talked to (it moved: a restart) is reconnected at once */
        if (!r->lazy || had)
            r->peer[idx] = peer_dealer(r, idx, ep);
        str_copy(r->peer_ep[idx], r->peer[idx] || r->lazy ? ep : "", sizeof r->peer_ep[idx]);
    }
    /* messages to self go through the node's own peer socket too */
    if (!r->peer[r->env.self_idx] && r->peer_bound_ep[0])
        r->peer[r->env.self_idx] = peer_dealer(r, r->env.self_idx, r->peer_bound_ep);
    if (!r->started && !r->start_deadline) {
        /* Before the mode's first message: wait (at most a second, serving control and ZAP
         * meanwhile) until the connections to the live peers are up, so that a first election
         * or a first write is not lost to a socket still connecting (ZMQ_IMMEDIATE drops sends
         * on a pipe that is not ready). The loop checks and starts the mode. */
        r->start_deadline = mono_us() + 1000000;
        json_decref(r->start_nodes);
        r->start_nodes = json_deep_copy(nodes);
    }
}

static void run_command(struct rt *r, const json_t *b);

/* Starts the mode once the peers are connected or the wait is over. */
static void maybe_start(struct rt *r)
{
    if (r->started || !r->start_deadline)
        return;
    if (!peers_ready(r, r->start_nodes) && mono_us() < r->start_deadline)
        return;
    r->started = 1;
    r->start_deadline = 0;
    json_decref(r->start_nodes);
    r->start_nodes = NULL;
    if (r->mode->start)
        r->mode->start(r->st);
    /* the commands that came before the start, in order */
    json_t *early = r->early_cmds;
    r->early_cmds = NULL;
    size_t i;
    json_t *b;
    json_array_foreach(early, i, b)
        run_command(r, b);
    json_decref(early);
}

/* ZAP (RFC 27): libzmq asks here about every CURVE connection to the peer socket. Admitted
 * only with one of the cluster's public keys, and then known by that node's id (the
 * "User-Id" of every message it sends). */
static void on_zap(struct rt *r)
{
    for (int k = 0; k < 64; k++) {
        zmq_msg_t f[8];
        int nf = 0, more = 1;
        while (more) {
            zmq_msg_t m;
            zmq_msg_init(&m);
            if (zmq_msg_recv(&m, r->zap, nf ? 0 : ZMQ_DONTWAIT) < 0) {
                zmq_msg_close(&m);
                break;
            }
            more = zmq_msg_more(&m);
            if (nf < 8)
                f[nf++] = m;
            else
                zmq_msg_close(&m);
        }
        if (nf == 0)
            return;
        char who[CL_IDLEN] = "";
        const char *mech = nf >= 6 ? zmq_msg_data(&f[5]) : "";
        size_t mlen = nf >= 6 ? zmq_msg_size(&f[5]) : 0;
        if (nf >= 7 && mlen == 5 && !memcmp(mech, "CURVE", 5) && zmq_msg_size(&f[6]) == 32) {
            for (int i = 0; i < CL_MAXNODES && !who[0]; i++)
                if (r->key[i][0] && !memcmp(r->key_bin[i], zmq_msg_data(&f[6]), 32))
                    str_copy(who, r->env.nodes[i], sizeof who);
        }
        const char *code = who[0] ? "200" : "400";
        const char *text = who[0] ? "OK" : "not a key of this cluster";
        zmq_send(r->zap, "1.0", 3, ZMQ_SNDMORE);
        if (nf >= 2)
            zmq_send(r->zap, zmq_msg_data(&f[1]), zmq_msg_size(&f[1]), ZMQ_SNDMORE);
        else
            zmq_send(r->zap, "", 0, ZMQ_SNDMORE);
        zmq_send(r->zap, code, 3, ZMQ_SNDMORE);
        zmq_send(r->zap, text, strlen(text), ZMQ_SNDMORE);
        zmq_send(r->zap, who, strlen(who), ZMQ_SNDMORE);
        zmq_send(r->zap, "", 0, 0);
        if (!who[0]) {
            char addr[64] = "";
            if (nf >= 4) {
                size_t al = zmq_msg_size(&f[3]) < sizeof addr - 1 ? zmq_msg_size(&f[3]) : sizeof addr - 1;
                memcpy(addr, zmq_msg_data(&f[3]), al);
                addr[al] = 0;
            }
            r->refused++;
            r->refused_reported = r->refused;
            struct sb d = {0};
            sb_add(&d, "a connection to the peer socket");
            if (addr[0]) {
                sb_add(&d, " from ");
                sb_add_escaped(&d, addr, strlen(addr));
            }
            sb_add(&d, " offered a key that is not one of the cluster's");
            emit(r, "drop", json_pack("{s:s,s:s}", "why", "unauthenticated peer", "detail", d.s));
            sb_free(&d);
        }
        for (int i = 0; i < nf; i++)
            zmq_msg_close(&f[i]);
    }
}

/* The peer socket's monitor: handshakes that failed before ZAP was even asked (a program that
 * does not speak CURVE, or garbage). Such a client retries every 100 ms, so the event is
 * rate-limited: at most one a second, with the count since the last. */
static void on_monitor(struct rt *r)
{
    for (int k = 0; k < 256; k++) {
        zmq_msg_t a, b;
        zmq_msg_init(&a);
        if (zmq_msg_recv(&a, r->monitor, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&a);
            break;
        }
        uint16_t ev = 0;
        if (zmq_msg_size(&a) >= 2)
            memcpy(&ev, zmq_msg_data(&a), 2);
        int more = zmq_msg_more(&a);
        zmq_msg_close(&a);
        if (more) {
            zmq_msg_init(&b);
            zmq_msg_recv(&b, r->monitor, 0);
            zmq_msg_close(&b);
        }
        if (ev == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL || ev == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL)
            r->refused++;
    }
    if (r->refused > r->refused_reported && r->now_mono - r->refused_at >= 1000000) {
        uint64_t n = r->refused - r->refused_reported;
        r->refused_reported = r->refused;
        r->refused_at = r->now_mono;
        char detail[160];
        snprintf(detail, sizeof detail, "%llu connection%s to the peer socket without the cluster's CURVE keys",
                 (unsigned long long)n, n == 1 ? "" : "s");
        emit(r, "drop", json_pack("{s:s,s:s,s:I}", "why", "unauthenticated peer", "detail", detail, "count",
                                  (json_int_t)n));
    }
}

/* Runs a mode command from the lab and answers it. */
static void run_command(struct rt *r, const json_t *b)
{
    const char *name = json_string_value(json_object_get(b, "name"));
    json_t *args = json_object_get(b, "args");
    char *argv[16];
    int argc = 0;
    size_t i;
    json_t *a;
    json_array_foreach(args, i, a) {
        if (argc < 16 && json_is_string(a))
            argv[argc++] = (char *)json_string_value(a);
    }
    json_t *reply = NULL;
    for (const struct mode_command *c = r->mode->commands; name && c && c->name; c++)
        if (!strcmp(c->name, name))
            reply = c->run(r->st, argc, argv);
    if (!reply)
        reply = json_pack("{s:b,s:s}", "ok", 0, "text", "no such command in this mode");
    ctl_send(r, json_pack("{s:s,s:O,s:o}", "type", "command_ok", "req",
                          json_object_get(b, "req") ? json_object_get(b, "req") : json_null(),
                          "reply", reply));
}

static void on_control(struct rt *r, const char *buf, size_t len)
{
    struct envelope env;
    char err[256];
    if (envelope_decode(buf, len, &env, err, sizeof err) < 0) {
        emit(r, "error", json_pack("{s:s,s:s}", "text", "bad control frame", "detail", err));
        return;
    }
    const char *type = envelope_type(&env);
    const json_t *b = env.body;
    if (!strcmp(type, "welcome") || !strcmp(type, "ping")) {
        if (!strcmp(type, "ping"))
            ctl_send(r, json_pack("{s:s,s:O}", "type", "pong", "req",
                                  json_object_get(b, "req") ? json_object_get(b, "req") : json_null()));
    } else if (!strcmp(type, "peers")) {
        set_peers(r, json_object_get(b, "nodes"));
    } else if (!strcmp(type, "faults")) {
        struct faults f;
        if (faults_from_json(json_object_get(b, "rules"), &f, err, sizeof err) == 0) {
            if (f.n < r->env.n_nodes)
                f.n = r->env.n_nodes;
            int self = r->env.self_idx;
            for (int d = 0; d < f.n && d < CL_MAXNODES; d++)
                if (f.link[self][d].kbps != r->faults.link[self][d].kbps)
                    bw_changed(r, d, r->faults.link[self][d].kbps, f.link[self][d].kbps);
            r->faults = f; /* a queue that drained says so once its frames have left (run_due) */
        } else {
            emit(r, "error", json_pack("{s:s}", "text", err));
        }
    } else if (!strcmp(type, "clock")) {
        int64_t skew = json_integer_value(json_object_get(b, "skew_us"));
        int64_t drift = json_integer_value(json_object_get(b, "drift_ppm"));
        if (skew != r->clk.skew_us || drift != r->clk.drift_ppm || !r->clk.drift_from_us)
            r->clk.drift_from_us = wall_us(); /* the offset is skew from now on, then drifts */
        r->clk.skew_us = skew;
        r->clk.drift_ppm = drift;
        json_int_t np = json_integer_value(json_object_get(b, "ntp_poll_us"));
        json_int_t ne = json_integer_value(json_object_get(b, "ntp_err_us"));
        r->clk.ntp_poll_us = np > 0 ? (uint64_t)np : 0;
        r->clk.ntp_err_us = ne > 0 ? (uint64_t)ne : 0;
        if (!json_is_true(json_object_get(b, "ntp")))
            r->clk.ntp_from_us = 0;
        else if (!r->clk.ntp_from_us)
            r->clk.ntp_from_us = wall_us();
        json_int_t st = json_integer_value(json_object_get(b, "strobe_us"));
        json_int_t per = json_integer_value(json_object_get(b, "period_us"));
        r->clk.strobe_us = st > 0 ? (uint64_t)st : 0;
        r->clk.strobe_period_us = per > 0 ? (uint64_t)per : 0;
        r->clk.strobe_from_us = wall_us();
        emit(r, "clock", json_pack("{s:I,s:I,s:I,s:b,s:I}", "skew_us", (json_int_t)r->clk.skew_us, "physical_us",
                                   (json_int_t)rt_now_us(&r->env), "drift_ppm", (json_int_t)r->clk.drift_ppm, "ntp",
                                   r->clk.ntp_from_us != 0, "offset_us",
                                   (json_int_t)clocks_offset(&r->clk, wall_us())));
    } else if (!strcmp(type, "speed")) {
        double f = json_number_value(json_object_get(b, "factor"));
        if (f >= 0.01 && f <= 10)
            rt_set_speed(r, f);
    } else if (!strcmp(type, "status")) {
        /* brief (the lab's polls): figures, the data's size and digest, not the data */
        json_t *s = full_status(r);
        if (json_is_true(json_object_get(b, "brief")))
            s = status_brief(s);
        ctl_send(r, json_pack("{s:s,s:O,s:o}", "type", "status_ok", "req",
                              json_object_get(b, "req") ? json_object_get(b, "req") : json_null(),
                              "status", s));
    } else if (!strcmp(type, "data")) {
        /* the data on demand, a page at a time (or one key): get, log, convergence */
        json_t *s = r->st && r->mode->status ? r->mode->status(r->st) : json_object();
        int more = 0;
        json_t *page = status_data_page(json_object_get(s, "data"), json_string_value(json_object_get(b, "after")),
                                        json_string_value(json_object_get(b, "key")), STATUS_PAGE_BYTES, &more);
        char hex[17];
        snprintf(hex, sizeof hex, "%016llx", (unsigned long long)status_data_digest(json_object_get(s, "data")));
        json_decref(s);
        ctl_send(r, json_pack("{s:s,s:O,s:o,s:b,s:s}", "type", "data_ok", "req",
                              json_object_get(b, "req") ? json_object_get(b, "req") : json_null(), "data", page,
                              "more", more, "digest", hex));
    } else if (!strcmp(type, "command")) {
        /* a command that arrives before the mode has started (the lab may send one right
         * after `peers`) waits for the start: it must find the mode running */
        if (r->started)
            run_command(r, b);
        else
            json_array_append_new(r->early_cmds ? r->early_cmds : (r->early_cmds = json_array()), json_deep_copy(b));
    } else if (!strcmp(type, "power_off_ok")) {
        /* the lab's answer to env power_off: the node named is dead, or the lab refused */
        const char *node = json_string_value(json_object_get(b, "node"));
        const char *text = json_string_value(json_object_get(b, "text"));
        if (r->started && r->mode->on_power_off && node)
            r->mode->on_power_off(r->st, node, json_is_true(json_object_get(b, "ok")), text ? text : "");
    } else if (!strcmp(type, "shutdown")) {
        r->running = 0;
    }
    envelope_clear(&env);
}

/* ---- the client and peer sockets ----------------------------------------------------- */

static const char *const control_types[] = {"faults", "clock", "speed", "shutdown", "peers", "ping",
                                            "status", "command", "welcome", "data", "power_off_ok",
                                            NULL};

static void garbage(struct rt *r, const char *why, const char *detail)
{
    r->garbage++;
    emit(r, "drop", json_pack("{s:s,s:s}", "why", why, "detail", detail ? detail : ""));
}

static void remember_client(struct rt *r, const char *id, const void *rid, size_t rid_len)
{
    struct client *c = find_client(r, id);
    if (!c) {
        if (r->nclients == r->capclients && r->capclients < MAX_CLIENTS) {
            r->capclients = r->capclients ? r->capclients * 2 : 64;
            r->clients = xrealloc(r->clients, (size_t)r->capclients * sizeof *r->clients);
            client_reindex(r);
        }
        if (r->nclients < r->capclients) {
            c = &r->clients[r->nclients++];
            str_copy(c->id, id, CL_IDLEN);
            r->client_index[client_slot(r, id)] = (int)(c - r->clients);
        } else { /* MAX_CLIENTS of them: the least recently used gives its place */
            c = &r->clients[0];
            for (int i = 1; i < r->nclients; i++)
                if (r->clients[i].last_used < c->last_used)
                    c = &r->clients[i];
            str_copy(c->id, id, CL_IDLEN);
            client_reindex(r);
        }
    }
    memcpy(c->rid, rid, rid_len);
    c->rid_len = rid_len;
    c->last_used = r->now_mono;
}

/* Receives one message from a ROUTER: the routing id and exactly one payload frame. Returns
 * 1 (both initialised: close them), 0 when nothing is waiting, -1 after refusing a message
 * with the wrong number of frames. */
static int recv_routed(struct rt *r, void *sock, zmq_msg_t *rid, zmq_msg_t *payload)
{
    zmq_msg_init(rid);
    if (zmq_msg_recv(rid, sock, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(rid);
        return 0;
    }
    if (!zmq_msg_more(rid)) {
        zmq_msg_close(rid);
        garbage(r, "garbage", "a message with no payload frame");
        return -1;
    }
    zmq_msg_init(payload);
    zmq_msg_recv(payload, sock, 0);
    int extra = 0;
    while (zmq_msg_more(payload) && !extra) { /* more frames than one: drain and refuse */
        for (;;) {
            zmq_msg_t x;
            zmq_msg_init(&x);
            zmq_msg_recv(&x, sock, 0);
            int more = zmq_msg_more(&x);
            zmq_msg_close(&x);
            extra++;
            if (!more)
                break;
        }
    }
    if (extra) {
        zmq_msg_close(rid);
        zmq_msg_close(payload);
        garbage(r, "garbage", "more than one payload frame");
        return -1;
    }
    return 1;
}

/* Decodes and checks what every frame must satisfy on either socket: a valid envelope, not a
 * control type, addressed to this node. Returns 0 with *env filled, or -1 (dropped). */
static int accept_envelope(struct rt *r, zmq_msg_t *payload, struct envelope *env)
{
    char err[256];
    if (envelope_decode(zmq_msg_data(payload), zmq_msg_size(payload), env, err, sizeof err) < 0) {
        garbage(r, "garbage", err);
        return -1;
    }
    const char *type = envelope_type(env);
    for (const char *const *c = control_types; *c; c++) {
        if (!strcmp(*c, type)) {
            garbage(r, "control on peer socket", type);
            envelope_clear(env);
            return -1;
        }
    }
    if (strcmp(env->dest, r->env.self)) {
        char detail[64];
        snprintf(detail, sizeof detail, "addressed to %s, not to %s", env->dest, r->env.self);
        garbage(r, "wrong destination", detail);
        envelope_clear(env);
        return -1;
    }
    return 0;
}

static void deliver(struct rt *r, struct envelope *env, int from_client)
{
    const char *type = envelope_type(env);
    if (r->events_all) {
        json_t *fl = json_pack("{s:s,s:s}", "from", env->src, "type", type);
        json_t *mid = json_object_get(env->body, "msg_id");
        if (mid)
            json_object_set(fl, "msg_id", mid);
        emit(r, "recv", fl);
    }
    if (mode_dispatch(r->mode, r->st, env->src, env->body) < 0) {
        r->unknown_types++;
        emit(r, "drop", json_pack("{s:s,s:s,s:s}", "from", env->src, "type", type, "why", "unknown type"));
        if (from_client)
            env_reply_error(&r->env, env->src, env->body, ERR_NOT_SUPPORTED, "unknown message type", NULL);
    }
}

static int has_handler(const struct mode *m, const char *type)
{
    for (const struct mode_handler *h = m->handlers; h && h->type; h++)
        if (!strcmp(h->type, type))
            return 1;
    return 0;
}

/* The client socket: any program, client bodies only, never under a node's id. */
static void on_clients(struct rt *r)
{
    for (int budget = 0; budget < 256; budget++) {
        zmq_msg_t rid, payload;
        int got = recv_routed(r, r->router, &rid, &payload);
        if (got == 0)
            return;
        if (got < 0)
            continue;
        struct envelope env;
        if (accept_envelope(r, &payload, &env) < 0)
            goto next;
        const char *type = envelope_type(&env);
        size_t rlen = zmq_msg_size(&rid);
        int idx;
        if (env_node_index(&r->env, env.src) >= 0 || parse_node_id(env.src, CL_MAXNODES, &idx) == 0) {
            /* a node speaks on the peer socket, proven by its key: a client using a node's id
             * is refused, whatever it sends */
            char detail[96];
            snprintf(detail, sizeof detail, "a client sent %s as %s: node ids are for nodes", type, env.src);
            garbage(r, "client claims a node id", detail);
        } else if (rlen > sizeof ((struct client *)0)->rid) {
            garbage(r, "garbage", "routing id too long");
        } else if (!mode_client_type(r->mode, type) && has_handler(r->mode, type)) {
            char detail[96], text[320];
            snprintf(detail, sizeof detail, "%s is a message between nodes", type);
            garbage(r, "peer message from a client", detail);
            remember_client(r, env.src, zmq_msg_data(&rid), rlen);
            snprintf(text, sizeof text, "a message between nodes: clients send %s",
                     mode_client_types_text(r->mode));
            env_reply_error(&r->env, env.src, env.body, ERR_NOT_SUPPORTED, text, NULL);
        } else {
            remember_client(r, env.src, zmq_msg_data(&rid), rlen);
            deliver(r, &env, 1);
        }
        envelope_clear(&env);
    next:
        zmq_msg_close(&rid);
        zmq_msg_close(&payload);
    }
}

/* The peer socket: only the cluster's nodes. With auth, the ZAP handler named the sender
 * (User-Id) from its key; without, the routing id is all there is. */
static void on_peers(struct rt *r)
{
    for (int budget = 0; budget < 256; budget++) {
        zmq_msg_t rid, payload;
        int got = recv_routed(r, r->peersock, &rid, &payload);
        if (got == 0)
            return;
        if (got < 0)
            continue;
        struct envelope env;
        if (accept_envelope(r, &payload, &env) < 0)
            goto next;
        char who[CL_IDLEN] = "";
        if (r->auth) {
            const char *user = zmq_msg_gets(&payload, "User-Id");
            str_copy(who, user ? user : "", sizeof who);
        } else if (zmq_msg_size(&rid) < sizeof who && !memchr(zmq_msg_data(&rid), 0, zmq_msg_size(&rid))) {
            /* (an id with a NUL inside, "n1\0x", would read as "n1": not an id at all) */
            memcpy(who, zmq_msg_data(&rid), zmq_msg_size(&rid));
            who[zmq_msg_size(&rid)] = 0;
        }
        if (env_node_index(&r->env, env.src) < 0 || strcmp(who, env.src)) {
            char detail[96];
            snprintf(detail, sizeof detail, "%s %s sent as %s", r->auth ? "the key of" : "routing id",
                     who[0] ? who : "(none)", env.src);
            garbage(r, "spoofed sender", detail);
        } else {
            clocks_on_recv(&r->clk, env.lamport, env.vc, env.vc_n);
            clocks_hlc_recv(&r->clk, env.hlc_l, env.hlc_c, rt_now_us(&r->env));
            deliver(r, &env, 0);
        }
        envelope_clear(&env);
    next:
        zmq_msg_close(&rid);
        zmq_msg_close(&payload);
    }
}

/* ---- the loop --------------------------------------------------------------------------- */

static int run_due(struct rt *r, uint64_t now)
{
    int ran = 0;
    const struct heap_item *top;
    while ((top = heap_peek(&r->outbox)) && top->when <= now) {
        struct heap_item it;
        heap_pop(&r->outbox, &it);
        wire_send(r, it.node, it.p, it.a);
        free(it.p);
        if (it.kind == OUT_BW)
            report_queue(r, it.node, 0);
    }
    while ((top = heap_peek(&r->timers)) && top->when <= now && ran < 1000) {
        struct heap_item it;
        heap_pop(&r->timers, &it);
        if (idset_take(&r->cancelled, it.seq))
            continue;
        r->mode->on_timer(r->st, it.kind, it.b);
        ran++;
    }
    return ran;
}

static long poll_timeout_ms(struct rt *r, uint64_t now)
{
    uint64_t next = now + 500000; /* wake at least twice a second to check the lab */
    const struct heap_item *t = heap_peek(&r->timers), *o = heap_peek(&r->outbox);
    if (t && t->when < next)
        next = t->when;
    if (o && o->when < next)
        next = o->when;
    if (next <= now)
        return 0;
    return (long)((next - now + 999) / 1000);
}

static void *make_socket(struct rt *r, int type)
{
    void *s = zmq_socket(r->zctx, type);
    int zero = 0, hwm = HWM;
    int64_t maxmsg = FRAME_HARD_MAX;
    zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(s, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt(s, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
    return s;
}

/* The environment as runtime_run and runtime_check share it. Returns 0, or -1 with err. */
static int rt_init(struct rt *r, const struct runtime_config *c, char *err, size_t errlen)
{
    r->cfg = c;
    r->mode = c->mode;
    r->prog_in = r->prog_out = -1;
    r->env.ops = &rt_ops;
    r->env.impl = r;
    str_copy(r->env.self, c->id, CL_IDLEN);
    r->env.n_nodes = c->n_nodes;
    r->env.nodes = r->node_ids;
    for (int i = 0; i < CL_MAXNODES; i++)
        node_name(i, r->env.nodes[i]);
    if (parse_node_id(c->id, CL_MAXNODES, &r->env.self_idx) < 0) {
        snprintf(err, errlen, "node ids are n1..n%d", CL_MAXNODES);
        return -1;
    }
    if (r->env.self_idx >= r->env.n_nodes)
        r->env.n_nodes = r->env.self_idx + 1;
    r->inc = wall_us();
    r->speed = 1;
    const char *sp = opts_get(&c->opts, "speed", NULL);
    if (sp) {
        double d;
        if (parse_double(sp, &d) == 0 && d >= 0.01 && d <= 10)
            r->speed = d;
    }
    r->events_all = strcmp(opts_get(&c->opts, "events", "all"), "state") != 0;
    uint64_t seed = (uint64_t)opts_get_int(&c->opts, "seed", (long)(r->inc & 0x7fffffff));
    rng_seed(&r->rng, seed * 1000003u + (uint64_t)r->env.self_idx + r->inc);
    faults_init(&r->faults, r->env.n_nodes);
    clocks_init(&r->clk, r->env.self_idx, r->env.n_nodes);
    r->auth = c->auth;
    const char *peers = opts_get(&c->opts, "peers", "auto");
    r->lazy = !strcmp(peers, "lazy") || (!strcmp(peers, "auto") && c->n_nodes > CL_MAXN);
    if (r->auth) {
        if (!runtime_valid_key(c->secret)) {
            snprintf(err, errlen, "auth=curve needs this node's CURVE secret key (the lab hands it over)");
            return -1;
        }
        str_copy(r->secret, c->secret, sizeof r->secret);
        zmq_curve_public(r->public, r->secret);
        for (int i = 0; i < CL_MAXNODES; i++)
            set_key(r, i, c->peer_key[i]);
        set_key(r, r->env.self_idx, r->public);
    }
    return 0;
}

/* The disk and the mode's recovered state. Returns 0, or -1 with the node's reason in err. */
static int rt_load(struct rt *r, char *err, size_t errlen)
{
    const struct runtime_config *c = r->cfg;
    r->store = storage_open(c->dir, strcmp(opts_get(&c->opts, "fsync", "on"), "off") != 0, err, errlen);
    if (!r->store)
        return -1;
    r->st = r->mode->create(&r->env, &c->opts, err, errlen);
    return r->st ? 0 : -1;
}

static void rt_free(struct rt *r)
{
    struct heap_item it;
    while (heap_pop(&r->outbox, &it))
        free(it.p);
    heap_free(&r->outbox);
    for (int d = 0; d < CL_MAXNODES; d++)
        bwq_free(&r->bwq[d]);
    heap_free(&r->timers);
    idset_free(&r->cancelled);
    free(r->clients);
    free(r->client_index);
    json_decref(r->early_cmds);
    json_decref(r->start_nodes);
    explicit_bzero(r->secret, sizeof r->secret);
    free(r);
}

int runtime_check(const struct runtime_config *c, char *err, size_t errlen)
{
    struct rt *r = xcalloc(1, sizeof *r);
    int rc = rt_init(r, c, err, errlen);
    if (rc == 0)
        rc = rt_load(r, err, errlen);
    if (r->st)
        r->mode->destroy(r->st);
    storage_close(&r->store);
    rt_free(r);
    return rc;
}

/* Opens the sockets: client ROUTER, ZAP handler and peer ROUTER (with its monitor), control
 * DEALER, event PUSH. Returns 0, or -1 with err. */
static int open_sockets(struct rt *r, char *err, size_t errlen)
{
    const struct runtime_config *c = r->cfg;
    r->zctx = zmq_ctx_new();
    r->router = make_socket(r, ZMQ_ROUTER);
    int one = 1;
    zmq_setsockopt(r->router, ZMQ_ROUTER_MANDATORY, &one, sizeof one);
    if (zmq_bind(r->router, c->bind) < 0) {
        snprintf(err, errlen, "cannot bind %s: %s", c->bind, zmq_strerror(zmq_errno()));
        return -1;
    }
    size_t eplen = sizeof r->bound_ep;
    zmq_getsockopt(r->router, ZMQ_LAST_ENDPOINT, r->bound_ep, &eplen);
    r->peersock = make_socket(r, ZMQ_ROUTER);
    if (r->auth) {
        /* the ZAP handler must be there before the first connection, or libzmq admits all */
        r->zap = zmq_socket(r->zctx, ZMQ_REP);
        int zero = 0;
        zmq_setsockopt(r->zap, ZMQ_LINGER, &zero, sizeof zero);
        if (zmq_bind(r->zap, ZAP_ENDPOINT) < 0) {
            snprintf(err, errlen, "cannot start the ZAP handler: %s", zmq_strerror(zmq_errno()));
            return -1;
        }
        zmq_setsockopt(r->peersock, ZMQ_CURVE_SERVER, &one, sizeof one);
        zmq_setsockopt(r->peersock, ZMQ_CURVE_SECRETKEY, r->secret, 40);
        if (zmq_socket_monitor(r->peersock, MONITOR_ENDPOINT,
                               ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) == 0) {
            r->monitor = zmq_socket(r->zctx, ZMQ_PAIR);
            zmq_setsockopt(r->monitor, ZMQ_LINGER, &zero, sizeof zero);
            zmq_connect(r->monitor, MONITOR_ENDPOINT);
        }
    }
    const char *pb = c->peer_bind ? c->peer_bind : "tcp://127.0.0.1:*";
    if (zmq_bind(r->peersock, pb) < 0) {
        snprintf(err, errlen, "cannot bind %s: %s", pb, zmq_strerror(zmq_errno()));
        return -1;
    }
    eplen = sizeof r->peer_bound_ep;
    zmq_getsockopt(r->peersock, ZMQ_LAST_ENDPOINT, r->peer_bound_ep, &eplen);
    r->ctl = make_socket(r, ZMQ_DEALER);
    zmq_setsockopt(r->ctl, ZMQ_ROUTING_ID, c->id, strlen(c->id));
    r->evpush = make_socket(r, ZMQ_PUSH);
    if (zmq_connect(r->ctl, c->ctl) < 0 || zmq_connect(r->evpush, c->events) < 0) {
        snprintf(err, errlen, "cannot reach the lab: %s", zmq_strerror(zmq_errno()));
        return -1;
    }
    return 0;
}

static void close_sockets(struct rt *r)
{
    for (int i = 0; i < CL_MAXNODES; i++)
        if (r->peer[i])
            zmq_close(r->peer[i]);
    void *socks[] = {r->router, r->peersock, r->zap, r->monitor, r->ctl, r->evpush};
    for (size_t i = 0; i < CL_ARRAY_LEN(socks); i++)
        if (socks[i])
            zmq_close(socks[i]);
    if (r->zctx)
        zmq_ctx_term(r->zctx);
}

static void on_ctl_socket(struct rt *r)
{
    for (int k = 0; k < 64; k++) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, r->ctl, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m);
            return;
        }
        on_control(r, zmq_msg_data(&m), zmq_msg_size(&m));
        zmq_msg_close(&m);
    }
}

int runtime_run(const struct runtime_config *c)
{
    struct rt *r = xcalloc(1, sizeof *r);
    int rc = 1;
    char err[512];
    if (rt_init(r, c, err, sizeof err) < 0) {
        fprintf(stderr, "conlab-node %s: %s\n", c->id, err);
        rt_free(r);
        return 2;
    }
    if (c->lab_pid > 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != c->lab_pid)
            goto out_free; /* the lab died before we got here */
    }
    if (pipe2(r->sigpipe, O_CLOEXEC | O_NONBLOCK) < 0)
        goto out_free;
    g_sigfd = r->sigpipe[1];
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (open_sockets(r, err, sizeof err) < 0) {
        fprintf(stderr, "conlab-node %s: %s\n", c->id, err);
        goto out_zmq;
    }
    if (rt_load(r, err, sizeof err) < 0) {
        /* the node's own words: on its stderr (the lab shows that file) and to the lab */
        fprintf(stderr, "conlab-node %s: %s\n", c->id, err);
        int linger = 500;
        zmq_setsockopt(r->ctl, ZMQ_LINGER, &linger, sizeof linger);
        ctl_send(r, json_pack("{s:s,s:s}", "type", "fatal", "text", err));
        goto out_zmq;
    }
    ctl_send(r, json_pack("{s:s,s:i,s:s,s:s,s:I}", "type", "register", "pid", getpid(), "endpoint",
                          r->bound_ep, "peer_endpoint", r->peer_bound_ep, "inc", (json_int_t)r->inc));
    emit(r, "fault", json_pack("{s:s,s:s}", "what", "start", "endpoint", r->bound_ep));
    const struct storage_repair *rep;
    int nrep = storage_repairs(r->store, &rep);
    for (int i = 0; i < nrep; i++) {
        char text[200];
        snprintf(text, sizeof text, "torn write: cut the last %zu bytes of %s at offset %zu (a record a crash "
                 "left half-written)", rep[i].bytes, rep[i].file, rep[i].offset);
        emit(r, "error", json_pack("{s:s,s:s,s:I,s:I}", "text", text, "file", rep[i].file, "offset",
                                   (json_int_t)rep[i].offset, "bytes", (json_int_t)rep[i].bytes));
    }

    r->running = 1;
    uint64_t last_parent_check = 0;
    while (r->running) {
        uint64_t now = mono_us();
        r->now_mono = now;
        if (r->started)
            run_due(r, now);
        zmq_pollitem_t items[8];
        int n = 0, i_ctl = -1, i_sig = -1, i_zap = -1, i_mon = -1, i_cli = -1, i_peer = -1;
        int i_pout = -1, i_pin = -1;
        /* between `peers` and the mode's start, control waits too: a command such as
         * `timeout` must find the mode started and its peers connected */
        if (r->started || !r->start_deadline)
            items[i_ctl = n++] = (zmq_pollitem_t){r->ctl, 0, ZMQ_POLLIN, 0};
        items[i_sig = n++] = (zmq_pollitem_t){NULL, r->sigpipe[0], ZMQ_POLLIN, 0};
        if (r->zap)
            items[i_zap = n++] = (zmq_pollitem_t){r->zap, 0, ZMQ_POLLIN, 0};
        if (r->monitor)
            items[i_mon = n++] = (zmq_pollitem_t){r->monitor, 0, ZMQ_POLLIN, 0};
        if (r->started) { /* messages wait in their queues until the mode has started */
            items[i_cli = n++] = (zmq_pollitem_t){r->router, 0, ZMQ_POLLIN, 0};
            items[i_peer = n++] = (zmq_pollitem_t){r->peersock, 0, ZMQ_POLLIN, 0};
        }
        if (r->prog_out >= 0)
            items[i_pout = n++] = (zmq_pollitem_t){NULL, r->prog_out, ZMQ_POLLIN, 0};
        if (r->prog_in >= 0 && r->prog_obuf.len > r->prog_ooff)
            items[i_pin = n++] = (zmq_pollitem_t){NULL, r->prog_in, ZMQ_POLLOUT, 0};
        long timeout = r->started ? poll_timeout_ms(r, mono_us()) : r->start_deadline ? 2 : 500;
        int got = zmq_poll(items, n, timeout);
        if (got < 0 && zmq_errno() != EINTR)
            break;
        r->now_mono = mono_us();
        if (items[i_sig].revents & ZMQ_POLLIN) {
            unsigned char sig;
            while (read(r->sigpipe[0], &sig, 1) == 1)
                r->running = 0;
        }
        if (i_ctl >= 0 && (items[i_ctl].revents & ZMQ_POLLIN))
            on_ctl_socket(r); /* first: a key the lab just sent decides the ZAP requests below */
        if (i_zap >= 0 && (items[i_zap].revents & ZMQ_POLLIN))
            on_zap(r);
        if (i_mon >= 0)
            on_monitor(r); /* also reports refusals counted earlier, once a second */
        if (i_cli >= 0 && (items[i_cli].revents & ZMQ_POLLIN))
            on_clients(r);
        if (i_peer >= 0 && (items[i_peer].revents & ZMQ_POLLIN))
            on_peers(r);
        if (i_pin >= 0 && (items[i_pin].revents & (ZMQ_POLLOUT | ZMQ_POLLERR)))
            prog_flush(r);
        if (i_pout >= 0 && (items[i_pout].revents & (ZMQ_POLLIN | ZMQ_POLLERR)))
            on_prog_out(r);
        maybe_start(r);
        if (c->lab_pid > 0 && r->now_mono - last_parent_check > 250000) {
            last_parent_check = r->now_mono;
            if (getppid() != c->lab_pid)
                break; /* the lab is gone: no orphans */
        }
    }
    rc = 0;
out_zmq:
    prog_stop(r);
    if (r->st)
        r->mode->destroy(r->st);
    close_sockets(r);
    storage_close(&r->store);
    close(r->sigpipe[0]);
    close(r->sigpipe[1]);
    g_sigfd = -1;
out_free:
    rt_free(r);
    return rc;
}
