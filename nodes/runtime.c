/* runtime — see runtime.h. */
#include "runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>
#include <zmq.h>

#include "clocks.h"
#include "envelope.h"
#include "faults.h"
#include "heap.h"
#include "rng.h"
#include "storage.h"

#define MAX_CLIENTS 256
#define HWM 20000

enum { OUT_MSG = 1 };

struct client {
    char id[CL_IDLEN];
    unsigned char rid[256];
    size_t rid_len;
    uint64_t last_used;
};

struct rt {
    struct env env;
    const struct runtime_config *cfg;
    const struct mode *mode;
    void *st;
    void *zctx, *router, *ctl, *evpush;
    void *peer[CL_MAXN];
    char peer_ep[CL_MAXN][256];
    char bound_ep[256];
    struct heap timers;
    struct idset cancelled;
    struct heap outbox;         /* delayed sends: p = frame (char *), a = length, node = dest */
    struct faults faults;
    struct rng rng;
    struct clocks clk;
    double speed;
    uint64_t inc;
    uint64_t ev_seq, ev_dropped;
    uint64_t garbage, unknown_types;
    int events_all;
    struct storage *store;
    int sigpipe[2];
    int running, started;
    struct client clients[MAX_CLIENTS];
    int nclients;
    uint64_t now_mono;
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

static void wire_send(struct rt *r, int dst, const char *frame, size_t len)
{
    if (dst < 0 || !r->peer[dst])
        return;
    if (zmq_send(r->peer[dst], frame, len, ZMQ_DONTWAIT) < 0 && r->events_all)
        emit(r, "drop", json_pack("{s:s,s:s}", "to", r->env.nodes[dst], "why", "peer unreachable"));
}

static struct client *find_client(struct rt *r, const char *id)
{
    for (int i = 0; i < r->nclients; i++)
        if (!strcmp(r->clients[i].id, id))
            return &r->clients[i];
    return NULL;
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
        clocks_on_send(&r->clk);
        env.lamport = r->clk.lamport;
        env.vc_n = e->n_nodes;
        memcpy(env.vc, r->clk.vc, sizeof env.vc);
    }
    size_t len;
    char *frame = envelope_encode(&env, &len);
    const char *type = envelope_type(&env);
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
                emit(r, "send", json_pack("{s:s,s:s,s:O}", "to", dest, "type", type, "body", body));
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
        json_t *fl = json_pack("{s:s,s:s,s:I,s:O}", "to", dest, "type", type, "lamport",
                               (json_int_t)env.lamport, "body", body);
        json_t *mid = json_object_get(body, "msg_id");
        if (mid)
            json_object_set(fl, "msg_id", mid);
        emit(r, "send", fl);
    }
    if (f.copies == 0) {
        emit(r, "drop", json_pack("{s:s,s:s,s:s}", "to", dest, "type", type, "why", f.why));
    } else {
        for (int i = 0; i < f.copies; i++) {
            if (f.delay_us[i] == 0) {
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

static int rt_blob_put(struct env *e, const char *n, const void *d, size_t l) { return storage_blob_put(rt_of(e)->store, n, d, l); }
static int rt_blob_get(struct env *e, const char *n, char **d, size_t *l) { return storage_blob_get(rt_of(e)->store, n, d, l); }
static int rt_log_append(struct env *e, const char *n, const void *d, size_t l) { return storage_log_append(rt_of(e)->store, n, d, l); }
static int rt_log_sync(struct env *e, const char *n) { return storage_log_sync(rt_of(e)->store, n); }
static int rt_log_truncate(struct env *e, const char *n, size_t k) { return storage_log_truncate(rt_of(e)->store, n, k); }
static long rt_log_read(struct env *e, const char *n, void (*fn)(void *, const void *, size_t), void *ud) { return storage_log_read(rt_of(e)->store, n, fn, ud); }

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
    json_object_set_new(s, "skew_us", json_integer((json_int_t)r->clk.skew_us));
    json_object_set_new(s, "events_dropped", json_integer((json_int_t)r->ev_dropped));
    json_object_set_new(s, "garbage", json_integer((json_int_t)r->garbage));
    json_object_set_new(s, "pid", json_integer(getpid()));
    return s;
}

static void set_peers(struct rt *r, const json_t *nodes)
{
    size_t i;
    json_t *n;
    json_array_foreach(nodes, i, n) {
        const char *id = json_string_value(json_object_get(n, "id"));
        const char *ep = json_string_value(json_object_get(n, "endpoint"));
        int idx;
        if (!id || !ep || parse_node_id(id, CL_MAXN, &idx) < 0)
            continue;
        if (idx >= r->env.n_nodes) {
            for (int k = r->env.n_nodes; k <= idx; k++)
                node_name(k, r->env.nodes[k]);
            r->env.n_nodes = idx + 1;
            r->faults.n = r->env.n_nodes;
            r->clk.n = r->env.n_nodes;
        }
        if (idx == r->env.self_idx || !strcmp(r->peer_ep[idx], ep))
            continue;
        if (r->peer[idx])
            zmq_close(r->peer[idx]);
        void *s = zmq_socket(r->zctx, ZMQ_DEALER);
        int one = 1, zero = 0, hwm = HWM;
        zmq_setsockopt(s, ZMQ_ROUTING_ID, r->env.self, strlen(r->env.self));
        zmq_setsockopt(s, ZMQ_IMMEDIATE, &one, sizeof one);
        zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
        zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof hwm);
        if (zmq_connect(s, ep) < 0) {
            emit(r, "error", json_pack("{s:s}", "text", "cannot connect to a peer endpoint"));
            zmq_close(s);
            continue;
        }
        r->peer[idx] = s;
        str_copy(r->peer_ep[idx], ep, sizeof r->peer_ep[idx]);
    }
    /* a peer DEALER also needs a loop-back for messages to self */
    if (!r->peer[r->env.self_idx] && r->bound_ep[0]) {
        void *s = zmq_socket(r->zctx, ZMQ_DEALER);
        int zero = 0;
        zmq_setsockopt(s, ZMQ_ROUTING_ID, r->env.self, strlen(r->env.self));
        zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
        zmq_connect(s, r->bound_ep);
        r->peer[r->env.self_idx] = s;
    }
    if (!r->started) {
        /* Before the mode's first message: wait (briefly) until the connections to the live
         * peers are up, so that a first election or a first write is not lost to a socket
         * still connecting (ZMQ_IMMEDIATE drops sends on a pipe that is not ready). */
        uint64_t end = mono_us() + 1000000;
        for (;;) {
            zmq_pollitem_t items[CL_MAXN];
            int want = 0;
            size_t k;
            json_t *x;
            json_array_foreach(nodes, k, x) {
                int idx;
                const char *pid = json_string_value(json_object_get(x, "id"));
                if (!pid || parse_node_id(pid, CL_MAXN, &idx) < 0 || idx == r->env.self_idx || !r->peer[idx] ||
                    json_is_false(json_object_get(x, "up")))
                    continue;
                items[want++] = (zmq_pollitem_t){r->peer[idx], 0, ZMQ_POLLOUT, 0};
            }
            if (want == 0 || zmq_poll(items, want, 0) < 0)
                break;
            int ready = 0;
            for (int j = 0; j < want; j++)
                ready += (items[j].revents & ZMQ_POLLOUT) != 0;
            if (ready == want || mono_us() >= end)
                break;
            usleep(1000);
        }
        r->started = 1;
        if (r->mode->start)
            r->mode->start(r->st);
    }
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
            ctl_send(r, json_pack("{s:s}", "type", "pong"));
    } else if (!strcmp(type, "peers")) {
        set_peers(r, json_object_get(b, "nodes"));
    } else if (!strcmp(type, "faults")) {
        struct faults f;
        if (faults_from_json(json_object_get(b, "rules"), &f, err, sizeof err) == 0) {
            if (f.n < r->env.n_nodes)
                f.n = r->env.n_nodes;
            r->faults = f;
        } else {
            emit(r, "error", json_pack("{s:s}", "text", err));
        }
    } else if (!strcmp(type, "clock")) {
        r->clk.skew_us = json_integer_value(json_object_get(b, "skew_us"));
        json_int_t st = json_integer_value(json_object_get(b, "strobe_us"));
        json_int_t per = json_integer_value(json_object_get(b, "period_us"));
        r->clk.strobe_us = st > 0 ? (uint64_t)st : 0;
        r->clk.strobe_period_us = per > 0 ? (uint64_t)per : 0;
        r->clk.strobe_from_us = wall_us();
        emit(r, "clock", json_pack("{s:I,s:I}", "skew_us", (json_int_t)r->clk.skew_us, "physical_us",
                                   (json_int_t)rt_now_us(&r->env)));
    } else if (!strcmp(type, "speed")) {
        double f = json_number_value(json_object_get(b, "factor"));
        if (f >= 0.01 && f <= 10)
            rt_set_speed(r, f);
    } else if (!strcmp(type, "status")) {
        ctl_send(r, json_pack("{s:s,s:O,s:o}", "type", "status_ok", "req",
                              json_object_get(b, "req") ? json_object_get(b, "req") : json_null(),
                              "status", full_status(r)));
    } else if (!strcmp(type, "command")) {
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
    } else if (!strcmp(type, "shutdown")) {
        r->running = 0;
    }
    envelope_clear(&env);
}

/* ---- the peer/client socket ----------------------------------------------------------- */

static const char *const control_types[] = {"faults", "clock", "speed", "shutdown", "peers", "ping",
                                            "status", "command", "welcome", NULL};

static void garbage(struct rt *r, const char *why, const char *detail)
{
    r->garbage++;
    emit(r, "drop", json_pack("{s:s,s:s}", "why", why, "detail", detail ? detail : ""));
}

static void remember_client(struct rt *r, const char *id, const void *rid, size_t rid_len)
{
    struct client *c = find_client(r, id);
    if (!c) {
        if (r->nclients < MAX_CLIENTS) {
            c = &r->clients[r->nclients++];
        } else { /* replace the least recently used */
            c = &r->clients[0];
            for (int i = 1; i < r->nclients; i++)
                if (r->clients[i].last_used < c->last_used)
                    c = &r->clients[i];
        }
        str_copy(c->id, id, CL_IDLEN);
    }
    memcpy(c->rid, rid, rid_len);
    c->rid_len = rid_len;
    c->last_used = r->now_mono;
}

static void on_router(struct rt *r)
{
    for (int budget = 0; budget < 256; budget++) {
        zmq_msg_t rid, payload;
        zmq_msg_init(&rid);
        if (zmq_msg_recv(&rid, r->router, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&rid);
            return;
        }
        if (!zmq_msg_more(&rid)) {
            zmq_msg_close(&rid);
            garbage(r, "garbage", "a message with no payload frame");
            continue;
        }
        zmq_msg_init(&payload);
        zmq_msg_recv(&payload, r->router, 0);
        int extra = 0;
        while (zmq_msg_more(&payload)) { /* more frames than one: drain and refuse */
            zmq_msg_t x;
            zmq_msg_init(&x);
            zmq_msg_recv(&x, r->router, 0);
            int more = zmq_msg_more(&x);
            zmq_msg_close(&x);
            extra++;
            if (!more)
                break;
        }
        if (extra) {
            garbage(r, "garbage", "more than one payload frame");
            goto next;
        }
        struct envelope env;
        char err[256];
        if (envelope_decode(zmq_msg_data(&payload), zmq_msg_size(&payload), &env, err, sizeof err) < 0) {
            garbage(r, "garbage", err);
            goto next;
        }
        const char *type = envelope_type(&env);
        for (const char *const *c = control_types; *c; c++) {
            if (!strcmp(*c, type)) {
                garbage(r, "control on peer socket", type);
                envelope_clear(&env);
                goto next;
            }
        }
        int from = env_node_index(&r->env, env.src);
        size_t rlen = zmq_msg_size(&rid);
        if (from >= 0) {
            if (rlen != strlen(env.src) || memcmp(zmq_msg_data(&rid), env.src, rlen)) {
                garbage(r, "spoofed sender", env.src);
                envelope_clear(&env);
                goto next;
            }
            clocks_on_recv(&r->clk, env.lamport, env.vc, env.vc_n);
        } else {
            if (rlen > sizeof r->clients[0].rid) {
                garbage(r, "garbage", "routing id too long");
                envelope_clear(&env);
                goto next;
            }
            remember_client(r, env.src, zmq_msg_data(&rid), rlen);
        }
        if (r->events_all) {
            json_t *fl = json_pack("{s:s,s:s}", "from", env.src, "type", type);
            json_t *mid = json_object_get(env.body, "msg_id");
            if (mid)
                json_object_set(fl, "msg_id", mid);
            emit(r, "recv", fl);
        }
        if (mode_dispatch(r->mode, r->st, env.src, env.body) < 0) {
            r->unknown_types++;
            emit(r, "drop", json_pack("{s:s,s:s,s:s}", "from", env.src, "type", type, "why", "unknown type"));
            if (from < 0)
                env_reply_error(&r->env, env.src, env.body, ERR_NOT_SUPPORTED, "unknown message type", NULL);
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
    int zero = 0, hwm = HWM, max = (int)ENVELOPE_MAX_BYTES;
    int64_t maxmsg = max;
    zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(s, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt(s, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
    return s;
}

int runtime_run(const struct runtime_config *c)
{
    struct rt *r = xcalloc(1, sizeof *r);
    int rc = 1;
    char err[256];
    r->cfg = c;
    r->mode = c->mode;
    r->env.ops = &rt_ops;
    r->env.impl = r;
    str_copy(r->env.self, c->id, CL_IDLEN);
    r->env.n_nodes = c->n_nodes;
    for (int i = 0; i < CL_MAXN; i++)
        node_name(i, r->env.nodes[i]);
    if (parse_node_id(c->id, CL_MAXN, &r->env.self_idx) < 0) {
        fprintf(stderr, "conlab-node: node ids are n1..n%d\n", CL_MAXN);
        free(r);
        return 2;
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

    r->store = storage_open(c->dir, strcmp(opts_get(&c->opts, "fsync", "on"), "off") != 0, err, sizeof err);
    if (!r->store) {
        fprintf(stderr, "conlab-node %s: %s\n", c->id, err);
        goto out_pipe;
    }
    r->zctx = zmq_ctx_new();
    r->router = make_socket(r, ZMQ_ROUTER);
    int one = 1;
    zmq_setsockopt(r->router, ZMQ_ROUTER_MANDATORY, &one, sizeof one);
    if (zmq_bind(r->router, c->bind) < 0) {
        fprintf(stderr, "conlab-node %s: cannot bind %s: %s\n", c->id, c->bind, zmq_strerror(zmq_errno()));
        goto out_zmq;
    }
    size_t eplen = sizeof r->bound_ep;
    zmq_getsockopt(r->router, ZMQ_LAST_ENDPOINT, r->bound_ep, &eplen);
    r->ctl = make_socket(r, ZMQ_DEALER);
    zmq_setsockopt(r->ctl, ZMQ_ROUTING_ID, c->id, strlen(c->id));
    r->evpush = make_socket(r, ZMQ_PUSH);
    if (zmq_connect(r->ctl, c->ctl) < 0 || zmq_connect(r->evpush, c->events) < 0) {
        fprintf(stderr, "conlab-node %s: cannot reach the lab: %s\n", c->id, zmq_strerror(zmq_errno()));
        goto out_zmq;
    }

    r->st = r->mode->create(&r->env, &c->opts, err, sizeof err);
    if (!r->st) {
        fprintf(stderr, "conlab-node %s: %s\n", c->id, err);
        ctl_send(r, json_pack("{s:s,s:s}", "type", "fatal", "text", err));
        goto out_zmq;
    }
    ctl_send(r, json_pack("{s:s,s:i,s:s,s:I}", "type", "register", "pid", getpid(), "endpoint",
                          r->bound_ep, "inc", (json_int_t)r->inc));
    emit(r, "fault", json_pack("{s:s,s:s}", "what", "start", "endpoint", r->bound_ep));

    r->running = 1;
    uint64_t last_parent_check = 0;
    while (r->running) {
        uint64_t now = mono_us();
        r->now_mono = now;
        run_due(r, now);
        zmq_pollitem_t items[3] = {
            {r->router, 0, ZMQ_POLLIN, 0},
            {r->ctl, 0, ZMQ_POLLIN, 0},
            {NULL, r->sigpipe[0], ZMQ_POLLIN, 0},
        };
        int n = zmq_poll(items, 3, poll_timeout_ms(r, mono_us()));
        if (n < 0 && zmq_errno() != EINTR)
            break;
        r->now_mono = mono_us();
        if (items[2].revents & ZMQ_POLLIN) {
            unsigned char sig;
            while (read(r->sigpipe[0], &sig, 1) == 1)
                r->running = 0;
        }
        if (items[1].revents & ZMQ_POLLIN) {
            char buf[65536];
            for (int k = 0; k < 64; k++) {
                int len = zmq_recv(r->ctl, buf, sizeof buf, ZMQ_DONTWAIT);
                if (len < 0)
                    break;
                if (len > (int)sizeof buf)
                    continue;
                on_control(r, buf, (size_t)len);
            }
        }
        if (items[0].revents & ZMQ_POLLIN)
            on_router(r);
        if (c->lab_pid > 0 && r->now_mono - last_parent_check > 250000) {
            last_parent_check = r->now_mono;
            if (getppid() != c->lab_pid)
                break; /* the lab is gone: no orphans */
        }
    }
    rc = 0;
    r->mode->destroy(r->st);
out_zmq:
    for (int i = 0; i < CL_MAXN; i++)
        if (r->peer[i])
            zmq_close(r->peer[i]);
    if (r->router)
        zmq_close(r->router);
    if (r->ctl)
        zmq_close(r->ctl);
    if (r->evpush)
        zmq_close(r->evpush);
    if (r->zctx)
        zmq_ctx_term(r->zctx);
    storage_close(&r->store);
out_pipe:
    close(r->sigpipe[0]);
    close(r->sigpipe[1]);
    g_sigfd = -1;
out_free: {
        struct heap_item it;
        while (heap_pop(&r->outbox, &it))
            free(it.p);
    }
    heap_free(&r->outbox);
    heap_free(&r->timers);
    idset_free(&r->cancelled);
    free(r);
    return rc;
}
