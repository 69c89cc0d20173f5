/* zkclient — see zkclient.h. One zmq_poll loop: commands from the lab, replies and watch
 * notifications from the nodes, timers for heartbeats, request retries and waits.
 *
 * A command is a task: a small state machine stepped by each reply (reply != NULL), by a
 * watch it waits on, or by its deadline. Requests go to the node believed to lead; a refusal
 * "not the leader" (error 11, with or without a hint) is resent, since the node did not apply
 * it; a request that gets no answer for 5 s is resent when it is a read or a session open,
 * else its task fails as indeterminate. */
#include "zkclient.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>
#include <zmq.h>

#include "env.h"
#include "envelope.h"
#include "util.h"

#define MAX_TASKS 64
#define MAX_HELD 32
#define MAX_SESS 16
#define MAX_INFLIGHT 128
#define MAX_WATCHED 32
#define PATHLEN 640
#define REQ_TIMEOUT_US 5000000

enum tkind { K_OPEN, K_LOCK, K_UNLOCK, K_ELECT, K_RESIGN, K_WATCH, K_REWATCH, K_SET, K_GET, K_REGISTER, K_DISCOVER, K_WRITE };

struct nodeep {
    char id[CL_IDLEN];
    void *sock;
    int cut;                    /* isolated from this node: nothing in, nothing out */
};

struct sess {
    uint64_t sid, timeout_us;
    int live, main;
};

struct task {
    int used, kind, step;
    uint64_t req;               /* the lab's request id, 0 once answered (or for background work) */
    char name[PATHLEN];         /* lock name, election or config path */
    char value[PATHLEN];
    char mynode[PATHLEN];       /* the znode this task created */
    char waitpath[PATHLEN];     /* the predecessor whose watch it waits on */
    char ahead[PATHLEN];        /* who holds / leads, for messages */
    uint64_t deadline_us, lease_us, sid, token;
    int own_session, retried, nahead;
    uint64_t bench_until;       /* `bench LOCK SECONDS`: lock and unlock again until then */
    uint64_t pairs;
};

struct held {
    int used, elect, leading;
    char name[PATHLEN], node[PATHLEN];
    uint64_t token, sid;
    int own_session;
};

struct inflight {
    uint64_t msg_id;
    int task;
    json_t *op;
    uint64_t sent_us, resend_at;
    int node;
};

static struct {
    char id[CL_IDLEN];
    struct nodeep n[CL_MAXN];
    int nn, leader;
    void *ctx, *cmd, *ev;
    struct sess s[MAX_SESS];
    struct task t[MAX_TASKS];
    struct held h[MAX_HELD];
    struct inflight f[MAX_INFLIGHT];
    char watched[MAX_WATCHED][PATHLEN];
    uint64_t seen_watch[256];
    int seen_at;
    uint64_t next_msg, timeout_us, next_hb;
    pid_t lab_pid;
} C;

/* ---- output: events to the lab ------------------------------------------------------------------ */

static void event(const char *ev, json_t *f)
{
    json_t *e = f ? f : json_object();
    json_object_set_new(e, "t", json_integer((json_int_t)mono_us()));
    json_object_set_new(e, "node", json_string(C.id));
    json_object_set_new(e, "ev", json_string(ev));
    char *s = json_dumps(e, JSON_COMPACT);
    zmq_send(C.ev, s, strlen(s), ZMQ_DONTWAIT);
    free(s);
    json_decref(e);
}

static void reply(struct task *t, int ok, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void reply(struct task *t, int ok, const char *fmt, ...)
{
    if (!t->req)
        return;
    struct sb b = {0};
    va_list ap;
    va_start(ap, fmt);
    sb_vprintf(&b, fmt, ap);
    va_end(ap);
    event("client_reply", json_pack("{s:I,s:b,s:s}", "req", (json_int_t)t->req, "ok", ok, "text", b.s ? b.s : ""));
    sb_free(&b);
    t->req = 0;
}

static void mutex_ev(const char *op, const char *lock, uint64_t token, const char *why)
{
    json_t *f = json_pack("{s:s,s:s,s:s,s:I}", "op", op, "client", C.id, "lock", lock, "token", (json_int_t)token);
    if (why)
        json_object_set_new(f, "why", json_string(why));
    event("mutex", f);
}

/* ---- requests ---------------------------------------------------------------------------------- */

static void send_to(int node, json_t *body)
{
    if (node < 0 || node >= C.nn || C.n[node].cut) {
        json_decref(body);
        return;
    }
    struct envelope env = {0};
    str_copy(env.src, C.id, CL_IDLEN);
    str_copy(env.dest, C.n[node].id, CL_IDLEN);
    env.body = body;
    size_t len;
    char *frame = envelope_encode(&env, &len);
    zmq_send(C.n[node].sock, frame, len, ZMQ_DONTWAIT);
    free(frame);
    json_decref(body);
}

static void transmit(struct inflight *f)
{
    f->sent_us = mono_us();
    f->resend_at = 0;
    f->node = C.leader;
    send_to(C.leader, json_pack("{s:s,s:I,s:O}", "type", "zk", "msg_id", (json_int_t)f->msg_id, "op", f->op));
}

/* Sends op (stolen) for task ti. */
static void request(int ti, json_t *op)
{
    for (int i = 0; i < MAX_INFLIGHT; i++) {
        struct inflight *f = &C.f[i];
        if (f->op)
            continue;
        f->msg_id = ++C.next_msg;
        f->task = ti;
        f->op = op;
        transmit(f);
        return;
    }
    json_decref(op);
    reply(&C.t[ti], 0, "too many requests in flight");
    C.t[ti].used = 0;
}

static int new_task(int kind, uint64_t req, const char *name, const char *value)
{
    for (int i = 0; i < MAX_TASKS; i++) {
        if (C.t[i].used)
            continue;
        struct task *t = &C.t[i];
        memset(t, 0, sizeof *t);
        t->used = 1;
        t->kind = kind;
        t->req = req;
        str_copy(t->name, name ? name : "", PATHLEN);
        str_copy(t->value, value ? value : "", PATHLEN);
        return i;
    }
    return -1;
}

static void end_task(int ti)
{
    for (int i = 0; i < MAX_INFLIGHT; i++)
        if (C.f[i].op && C.f[i].task == ti) {
            json_decref(C.f[i].op);
            C.f[i].op = NULL;
        }
    C.t[ti].used = 0;
}

static struct sess *main_sess(void)
{
    for (int i = 0; i < MAX_SESS; i++)
        if (C.s[i].live && C.s[i].main)
            return &C.s[i];
    return NULL;
}

static struct sess *add_sess(uint64_t sid, uint64_t timeout, int is_main)
{
    for (int i = 0; i < MAX_SESS; i++)
        if (!C.s[i].live) {
            C.s[i] = (struct sess){sid, timeout, 1, is_main};
            return &C.s[i];
        }
    return NULL;
}

static struct held *find_held(const char *name, int elect)
{
    for (int i = 0; i < MAX_HELD; i++)
        if (C.h[i].used && C.h[i].elect == elect && !strcmp(C.h[i].name, name))
            return &C.h[i];
    return NULL;
}

static struct held *add_held(void)
{
    for (int i = 0; i < MAX_HELD; i++)
        if (!C.h[i].used) {
            memset(&C.h[i], 0, sizeof C.h[i]);
            C.h[i].used = 1;
            return &C.h[i];
        }
    return NULL;
}

static const char *base(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static void start(int ti);

/* ---- the recipes ------------------------------------------------------------------------------- */

/* The queue under dir (a lock's /locks/NAME, an election path): after children came back. */
static void queue_position(int ti, const json_t *r)
{
    struct task *t = &C.t[ti];
    const json_t *kids = json_object_get(r, "children"), *data = json_object_get(r, "data");
    size_t n = json_array_size(kids), me = n;
    for (size_t i = 0; i < n; i++)
        if (!strcmp(json_string_value(json_array_get(kids, i)), base(t->mynode)))
            me = i;
    const char *dir = t->kind == K_LOCK ? t->value : t->name;
    if (me == n) {
        /* our znode is gone: its session expired while we queued */
        if (t->kind == K_LOCK)
            reply(t, 0, "lost the queue for %s: the session of our znode expired while we waited", t->name);
        event("client_session", json_pack("{s:s,s:s}", "what", "dequeued", "path", dir));
        end_task(ti);
        return;
    }
    const char *first = json_string_value(json_array_get(kids, 0));
    str_copy(t->ahead, json_string_value(json_object_get(data, first)) ? json_string_value(json_object_get(data, first)) : "?",
             PATHLEN);
    t->nahead = (int)me;
    if (me == 0 && t->bench_until) {
        /* the benchmark: held, counted, released at once, and queued again */
        mutex_ev("acquire", t->name, t->token, NULL);
        t->pairs++;
        t->step = 20;
        request(ti, json_pack("{s:s,s:s}", "op", "delete", "path", t->mynode));
        return;
    }
    if (me == 0) {
        struct held *h = add_held();
        if (!h) {
            reply(t, 0, "too many locks held");
            end_task(ti);
            return;
        }
        h->elect = t->kind == K_ELECT;
        h->leading = 1;
        str_copy(h->name, t->name, PATHLEN);
        str_copy(h->node, t->mynode, PATHLEN);
        h->token = t->token;
        h->sid = t->sid;
        h->own_session = t->own_session;
        mutex_ev("acquire", t->name, t->token, NULL);
        if (t->kind == K_LOCK) {
            reply(t, 1, "acquired %s, fencing token %llu", t->name, (unsigned long long)t->token);
        } else {
            event("elected", json_pack("{s:s,s:I,s:b}", "path", t->name, "token", (json_int_t)t->token, "waited",
                                       t->req == 0));
            reply(t, 1, "%s leads %s (token %llu)", C.id, t->name, (unsigned long long)t->token);
        }
        end_task(ti);
        return;
    }
    char pred[PATHLEN * 2];
    snprintf(pred, sizeof pred, "%s/%s", dir, json_string_value(json_array_get(kids, me - 1)));
    str_copy(t->waitpath, pred, PATHLEN);
    t->step = 6;
    request(ti, json_pack("{s:s,s:s,s:b}", "op", "exists", "path", t->waitpath, "watch", 1));
}

static void list_queue(int ti)
{
    struct task *t = &C.t[ti];
    t->step = 5;
    request(ti, json_pack("{s:s,s:s}", "op", "children", "path", t->kind == K_LOCK ? t->value : t->name));
}

static void give_up_node(struct task *t)
{
    if (t->mynode[0])
        request(-1, json_pack("{s:s,s:s}", "op", "delete", "path", t->mynode));
    if (t->own_session && t->sid)
        request(-1, json_pack("{s:s,s:I}", "op", "close", "session", (json_int_t)t->sid));
}

static void release_held(struct held *h, const char *why)
{
    if (h->leading || !h->elect)
        mutex_ev("release", h->name, h->token, why);
    h->used = 0;
}

/* Steps task ti with a reply r (NULL: start or wake). */
static void step(int ti, const json_t *r)
{
    struct task *t = &C.t[ti];
    const json_t *err = r ? json_object_get(r, "code") : NULL;
    int code = err ? (int)json_integer_value(err) : 0;
    const char *etext = r ? json_string_value(json_object_get(r, "text")) : NULL;
    if (!etext)
        etext = "";
    switch (t->kind) {
    case K_OPEN:
        if (code) {
            reply(t, 0, "cannot open a session: %s", etext);
            end_task(ti);
            return;
        }
        add_sess((uint64_t)json_integer_value(json_object_get(r, "session")), C.timeout_us, 1);
        event("client_session", json_pack("{s:s,s:I,s:I,s:b}", "what", "open", "session",
                                          json_integer_value(json_object_get(r, "session")), "timeout_ms",
                                          (json_int_t)(C.timeout_us / 1000), "main", 1));
        reply(t, 1, "session %lld", (long long)json_integer_value(json_object_get(r, "session")));
        end_task(ti);
        for (int i = 0; i < MAX_TASKS; i++) /* work that waited for the new session */
            if (C.t[i].used && C.t[i].step == -1) {
                C.t[i].step = 0;
                start(i);
            }
        return;
    case K_LOCK:
    case K_ELECT:
        if (code && !(t->step == 8 && code == ERR_KEY_DOES_NOT_EXIST)) {
            reply(t, 0, "%s: error %d: %s", t->name, code, etext);
            give_up_node(t);
            end_task(ti);
            return;
        }
        if (t->step == 1) { /* a session of its own for the lease */
            t->sid = (uint64_t)json_integer_value(json_object_get(r, "session"));
            t->own_session = 1;
            add_sess(t->sid, t->lease_us, 0);
            t->step = 2;
        }
        if (t->step == 2) {
            char path[PATHLEN * 2];
            snprintf(path, sizeof path, "%s/%s", t->kind == K_LOCK ? t->value : t->name, t->kind == K_LOCK ? "lock-" : "n-");
            t->step = 3;
            request(ti, json_pack("{s:s,s:s,s:s,s:b,s:b,s:b,s:I}", "op", "create", "path", path, "data", C.id,
                                  "ephemeral", 1, "sequential", 1, "parents", 1, "session", (json_int_t)t->sid));
            return;
        }
        if (t->step == 3) {
            str_copy(t->mynode, json_string_value(json_object_get(r, "path")), PATHLEN);
            t->token = (uint64_t)json_integer_value(json_object_get(r, "czxid"));
            list_queue(ti);
            return;
        }
        if (t->step == 5) {
            queue_position(ti, r);
            return;
        }
        if (t->step == 20) { /* the benchmark's unlock */
            mutex_ev("release", t->name, t->token, "unlock");
            t->mynode[0] = 0;
            if (mono_us() >= t->bench_until) {
                reply(t, 1, "%llu lock/unlock pairs", (unsigned long long)t->pairs);
                end_task(ti);
                return;
            }
            t->step = 2;
            step(ti, NULL);
            return;
        }
        if (t->step == 6) { /* exists(predecessor, watch) */
            if (json_is_null(json_object_get(r, "stat"))) {
                list_queue(ti);
                return;
            }
            t->step = 7;
            if (t->kind == K_ELECT)
                reply(t, 1, "%s waits for %s: %d ahead (%s leads)", C.id, t->name, t->nahead, t->ahead);
            return;
        }
        return;
    case K_UNLOCK:
    case K_RESIGN: {
        struct held *h = find_held(t->name, t->kind == K_RESIGN);
        if (h && (code == 0 || code == ERR_KEY_DOES_NOT_EXIST)) {
            uint64_t tok = h->token;
            if (h->own_session)
                request(-1, json_pack("{s:s,s:I}", "op", "close", "session", (json_int_t)h->sid));
            release_held(h, t->kind == K_UNLOCK ? "unlock" : "resign");
            if (t->kind == K_UNLOCK) {
                reply(t, 1, "released %s (token %llu)", t->name, (unsigned long long)tok);
            } else {
                /* LeaderSelector's autoRequeue: back into the queue, behind everyone */
                int e = new_task(K_ELECT, 0, t->name, NULL);
                if (e >= 0) {
                    C.t[e].sid = main_sess() ? main_sess()->sid : 0;
                    start(e);
                }
                reply(t, 1, "%s resigned %s and requeued", C.id, t->name);
            }
        } else {
            reply(t, 0, "%s: error %d: %s", t->name, code, etext);
        }
        end_task(ti);
        return;
    }
    case K_WATCH:
    case K_REWATCH:
        if (code == ERR_KEY_DOES_NOT_EXIST && t->step == 0) {
            t->step = 1;
            request(ti, json_pack("{s:s,s:s,s:b}", "op", "exists", "path", t->name, "watch", 1));
            return;
        }
        if (code) {
            reply(t, 0, "%s: error %d: %s", t->name, code, etext);
            end_task(ti);
            return;
        }
        {
            const char *v = json_string_value(json_object_get(r, "data"));
            if (t->kind == K_REWATCH)
                event("watch_fired", json_pack("{s:s,s:s,s:s?}", "path", t->name, "event", t->value, "value", v));
            else if (v)
                reply(t, 1, "%s watches %s (now: %s)", C.id, t->name, v);
            else
                reply(t, 1, "%s watches %s (no such node yet)", C.id, t->name);
        }
        end_task(ti);
        return;
    case K_SET:
        if (code == ERR_KEY_DOES_NOT_EXIST && t->step == 0) {
            t->step = 1;
            request(ti, json_pack("{s:s,s:s,s:s,s:b}", "op", "create", "path", t->name, "data", t->value, "parents", 1));
            return;
        }
        if (code == ERR_KEY_ALREADY_EXISTS && t->step == 1 && !t->retried++) {
            t->step = 0;
            request(ti, json_pack("{s:s,s:s,s:s}", "op", "set", "path", t->name, "data", t->value));
            return;
        }
        if (code)
            reply(t, 0, "%s: error %d: %s", t->name, code, etext);
        else
            reply(t, 1, "set %s = %s", t->name, t->value);
        end_task(ti);
        return;
    case K_GET:
        if (code)
            reply(t, 0, "%s: error %d: %s", t->name, code, etext);
        else
            reply(t, 1, "%s = %s", t->name, json_string_value(json_object_get(r, "data")));
        end_task(ti);
        return;
    case K_REGISTER:
        if (code)
            reply(t, 0, "%s: error %d: %s", t->name, code, etext);
        else
            reply(t, 1, "registered %s as %s", t->value, json_string_value(json_object_get(r, "path")));
        end_task(ti);
        return;
    case K_DISCOVER:
        if (code == ERR_KEY_DOES_NOT_EXIST) {
            reply(t, 1, "%s: no instance", t->name);
        } else if (code) {
            reply(t, 0, "%s: error %d: %s", t->name, code, etext);
        } else {
            const json_t *kids = json_object_get(r, "children"), *data = json_object_get(r, "data");
            struct sb b = {0};
            sb_printf(&b, "%s: %zu instance%s", t->name, json_array_size(kids), json_array_size(kids) == 1 ? "" : "s");
            size_t i;
            json_t *k;
            json_array_foreach(kids, i, k) sb_printf(&b, "%s%s", i ? ", " : ": ",
                                                     json_string_value(json_object_get(data, json_string_value(k))));
            reply(t, 1, "%s", b.s);
            sb_free(&b);
        }
        end_task(ti);
        return;
    }
}

/* Is a new main session being opened? */
static int opening(void)
{
    for (int i = 0; i < MAX_TASKS; i++)
        if (C.t[i].used && C.t[i].kind == K_OPEN)
            return 1;
    return 0;
}

static void start(int ti)
{
    struct task *t = &C.t[ti];
    switch (t->kind) {
    case K_OPEN:
        request(ti, json_pack("{s:s,s:I}", "op", "open", "timeout", (json_int_t)C.timeout_us));
        return;
    case K_LOCK: {
        char dir[PATHLEN];
        snprintf(dir, sizeof dir, "/locks/%s", t->name);
        str_copy(t->value, dir, PATHLEN);
        struct sess *m = main_sess();
        if (t->lease_us && (!m || t->lease_us != m->timeout_us)) {
            t->step = 1;
            request(ti, json_pack("{s:s,s:I}", "op", "open", "timeout", (json_int_t)t->lease_us));
            return;
        }
        if (!m && opening()) {
            t->step = -1; /* runs once the new session is open */
            return;
        }
        if (!m) {
            reply(t, 0, "no session: it expired and a new one is not open yet");
            end_task(ti);
            return;
        }
        t->sid = m->sid;
        t->step = 2;
        step(ti, NULL);
        return;
    }
    case K_ELECT: {
        struct sess *m = main_sess();
        if (!m && opening()) {
            t->step = -1; /* runs once the new session is open */
            return;
        }
        if (!m) {
            reply(t, 0, "no session: it expired and a new one is not open yet");
            end_task(ti);
            return;
        }
        t->sid = m->sid;
        t->step = 2;
        step(ti, NULL);
        return;
    }
    case K_UNLOCK:
    case K_RESIGN: {
        struct held *h = find_held(t->name, t->kind == K_RESIGN);
        if (!h) {
            /* an election we wait in: leave the queue */
            for (int i = 0; t->kind == K_RESIGN && i < MAX_TASKS; i++)
                if (C.t[i].used && C.t[i].kind == K_ELECT && !strcmp(C.t[i].name, t->name)) {
                    give_up_node(&C.t[i]);
                    end_task(i);
                    reply(t, 1, "%s left the queue for %s", C.id, t->name);
                    end_task(ti);
                    return;
                }
            reply(t, 0, "%s does not %s %s", C.id, t->kind == K_UNLOCK ? "hold" : "lead", t->name);
            end_task(ti);
            return;
        }
        request(ti, json_pack("{s:s,s:s}", "op", "delete", "path", h->node));
        return;
    }
    case K_WATCH:
    case K_REWATCH:
        request(ti, json_pack("{s:s,s:s,s:b}", "op", "get", "path", t->name, "watch", 1));
        return;
    case K_SET:
        request(ti, json_pack("{s:s,s:s,s:s}", "op", "set", "path", t->name, "data", t->value));
        return;
    case K_GET:
        request(ti, json_pack("{s:s,s:s}", "op", "get", "path", t->name));
        return;
    case K_REGISTER: {
        struct sess *m = main_sess();
        if (!m && opening()) {
            t->step = -1;
            return;
        }
        char path[PATHLEN * 2];
        snprintf(path, sizeof path, "%s/i-", t->name);
        request(ti, json_pack("{s:s,s:s,s:s,s:b,s:b,s:b,s:I}", "op", "create", "path", path, "data", t->value, "ephemeral", 1,
                              "sequential", 1, "parents", 1, "session", (json_int_t)(m ? m->sid : 0)));
        return;
    }
    case K_DISCOVER:
        request(ti, json_pack("{s:s,s:s}", "op", "children", "path", t->name));
        return;
    }
}

/* ---- from the nodes --------------------------------------------------------------------------- */

static void session_lost(uint64_t sid)
{
    for (int i = 0; i < MAX_SESS; i++) {
        struct sess *s = &C.s[i];
        if (!s->live || s->sid != sid)
            continue;
        s->live = 0;
        event("client_session", json_pack("{s:s,s:I,s:b}", "what", "expired", "session", (json_int_t)sid, "main", s->main));
        for (int k = 0; k < MAX_HELD; k++)
            if (C.h[k].used && C.h[k].sid == sid)
                release_held(&C.h[k], "expired");
        if (s->main) { /* Curator reconnects with a new session; ephemeral registrations are gone */
            int ti = new_task(K_OPEN, 0, NULL, NULL);
            if (ti >= 0)
                start(ti);
        }
    }
}

static void on_watch(const json_t *b)
{
    uint64_t id = (uint64_t)json_integer_value(json_object_get(b, "watch"));
    for (int i = 0; i < 256; i++)
        if (C.seen_watch[i] == id && id)
            return; /* every replica tells us: the first copy counts */
    C.seen_watch[C.seen_at++ % 256] = id;
    const char *path = json_string_value(json_object_get(b, "path"));
    const char *what = json_string_value(json_object_get(b, "event"));
    if (!path)
        return;
    for (int i = 0; i < MAX_TASKS; i++)
        if (C.t[i].used && C.t[i].step == 7 && !strcmp(C.t[i].waitpath, path)) /* a predecessor went */
            list_queue(i);
    for (int i = 0; i < MAX_WATCHED; i++)
        if (C.watched[i][0] && !strcmp(C.watched[i], path)) {
            int ti = new_task(K_REWATCH, 0, path, what ? what : "changed");
            if (ti >= 0)
                start(ti);
        }
}

static void on_node_msg(int node, const json_t *b)
{
    const char *type = json_string_value(json_object_get(b, "type"));
    if (!type)
        return;
    if (!strcmp(type, "zk_watch")) {
        on_watch(b);
        return;
    }
    if (!strcmp(type, "zk_heartbeat_ok")) {
        if (json_is_false(json_object_get(b, "alive")))
            session_lost((uint64_t)json_integer_value(json_object_get(b, "session")));
        return;
    }
    const json_t *irt = json_object_get(b, "in_reply_to");
    for (int i = 0; i < MAX_INFLIGHT; i++) {
        struct inflight *f = &C.f[i];
        if (!f->op || !json_is_integer(irt) || (uint64_t)json_integer_value(irt) != f->msg_id)
            continue;
        if (!strcmp(type, "error") && json_integer_value(json_object_get(b, "code")) == ERR_TEMPORARILY_UNAVAILABLE) {
            /* not applied: ask the leader it names, else the next node, a moment later */
            const char *l = json_string_value(json_object_get(b, "leader"));
            int li = -1;
            for (int k = 0; l && k < C.nn; k++)
                if (!strcmp(C.n[k].id, l))
                    li = k;
            C.leader = li >= 0 ? li : (node + 1) % C.nn;
            f->resend_at = mono_us() + (li >= 0 ? 0 : 100000);
            if (li >= 0)
                transmit(f);
            return;
        }
        if (node != C.leader && strcmp(type, "error"))
            C.leader = node;
        int ti = f->task;
        json_decref(f->op);
        f->op = NULL;
        if (ti >= 0 && C.t[ti].used)
            step(ti, b);
        return;
    }
}

/* ---- from the lab ------------------------------------------------------------------------------ */

static int arg_duration(const char *a, const char *key, uint64_t *out)
{
    size_t k = strlen(key);
    if (strncmp(a, key, k) || a[k] != '=')
        return 0;
    return parse_duration_us(a + k + 1, out) == 0 ? 1 : -1;
}

static int path_arg(struct task *t, const char *p)
{
    if (!p || p[0] != '/' || strlen(p) >= PATHLEN - 16) {
        reply(t, 0, "a path starts with / (such as /config/db), got '%s'", p ? p : "");
        return -1;
    }
    return 0;
}

static void on_command(const json_t *c)
{
    uint64_t req = (uint64_t)json_integer_value(json_object_get(c, "req"));
    const char *cmd = json_string_value(json_object_get(c, "cmd"));
    const json_t *args = json_object_get(c, "args");
    int argc = (int)json_array_size(args);
    const char *a0 = argc > 0 ? json_string_value(json_array_get(args, 0)) : NULL;
    const char *a1 = argc > 1 ? json_string_value(json_array_get(args, 1)) : NULL;
    if (!cmd)
        return;
    if (!strcmp(cmd, "storage_result")) {
        uint64_t token = (uint64_t)json_integer_value(json_object_get(c, "token"));
        const char *lock = json_string_value(json_object_get(c, "lock"));
        int accepted = json_is_true(json_object_get(c, "accepted"));
        struct task t = {.req = req};
        if (accepted) {
            reply(&t, 1, "storage accepted %s=%s with token %llu%s", a0 ? a0 : "", a1 ? a1 : "", (unsigned long long)token,
                  json_is_true(json_object_get(c, "stale")) ? " (a stale token: fencing is off)" : "");
        } else {
            reply(&t, 0, "storage refused token %llu: it has accepted token %lld for %s (fencing)", (unsigned long long)token,
                  (long long)json_integer_value(json_object_get(c, "highest")), a0 ? a0 : "");
            struct held *h = lock ? find_held(lock, 0) : NULL;
            if (h && h->token == token)
                release_held(h, "fenced"); /* the storage told us: we lost the lock */
        }
        return;
    }
    if (!strcmp(cmd, "isolate") || !strcmp(cmd, "heal")) {
        for (int i = 0; i < C.nn; i++) {
            int named = argc == 0;
            for (int k = 0; k < argc; k++)
                named |= !strcmp(json_string_value(json_array_get(args, k)), C.n[i].id);
            if (named)
                C.n[i].cut = !strcmp(cmd, "isolate");
        }
        struct task t = {.req = req};
        reply(&t, 1, "%s %s", C.id, !strcmp(cmd, "heal") ? "reaches every node again" : "is cut off");
        return;
    }
    if (!strcmp(cmd, "write")) {
        /* carries the token of the lock named (lock=NAME), else of the newest lock held */
        const char *lock = NULL;
        for (int k = 2; k < argc; k++) {
            const char *a = json_string_value(json_array_get(args, k));
            if (!strncmp(a, "lock=", 5))
                lock = a + 5;
        }
        struct held *h = NULL;
        for (int i = 0; i < MAX_HELD; i++)
            if (C.h[i].used && !C.h[i].elect && (!lock || !strcmp(C.h[i].name, lock)) && (!h || C.h[i].token > h->token))
                h = &C.h[i];
        event("storage_write", json_pack("{s:I,s:s,s:s,s:I,s:s?}", "req", (json_int_t)req, "resource", a0 ? a0 : "",
                                         "value", a1 ? a1 : "", "token", (json_int_t)(h ? h->token : 0), "lock",
                                         h ? h->name : lock));
        return;
    }
    static const struct {
        const char *name;
        int kind, min;
    } verbs[] = {{"lock", K_LOCK, 1},     {"unlock", K_UNLOCK, 1},     {"elect", K_ELECT, 1}, {"resign", K_RESIGN, 1},
                 {"watch", K_WATCH, 1},   {"set", K_SET, 2},           {"get", K_GET, 1},     {"register", K_REGISTER, 2},
                 {"discover", K_DISCOVER, 1}, {"bench", K_LOCK, 2}};
    for (size_t v = 0; v < sizeof verbs / sizeof verbs[0]; v++) {
        if (strcmp(cmd, verbs[v].name))
            continue;
        struct task tmp = {.req = req};
        if (argc < verbs[v].min) {
            reply(&tmp, 0, "%s needs %d argument%s", cmd, verbs[v].min, verbs[v].min == 1 ? "" : "s");
            return;
        }
        int ti = new_task(verbs[v].kind, req, a0, verbs[v].min > 1 ? a1 : NULL);
        if (ti < 0) {
            reply(&tmp, 0, "too many commands under way");
            return;
        }
        struct task *t = &C.t[ti];
        if (t->kind != K_LOCK && t->kind != K_UNLOCK && path_arg(t, a0) < 0) {
            end_task(ti);
            return;
        }
        if (t->kind == K_LOCK || t->kind == K_UNLOCK) {
            if (!a0[0] || strchr(a0, '/') || strlen(a0) > 200) {
                reply(t, 0, "a lock's name is a word without / (such as orders), got '%s'", a0);
                end_task(ti);
                return;
            }
        }
        uint64_t wait_us = 10000000;
        for (int k = 1; k < argc && t->kind == K_LOCK && strcmp(cmd, "bench"); k++) {
            const char *a = json_string_value(json_array_get(args, k));
            int r1 = arg_duration(a, "wait", &wait_us), r2 = r1 ? 0 : arg_duration(a, "lease", &t->lease_us);
            if (r1 < 0 || r2 < 0 || (!r1 && !r2)) {
                reply(t, 0, "bad '%s': lock NAME [wait=DURATION] [lease=DURATION]", a);
                end_task(ti);
                return;
            }
        }
        if (t->kind == K_LOCK && find_held(a0, 0)) {
            reply(t, 0, "%s already holds %s", C.id, a0);
            end_task(ti);
            return;
        }
        if (t->kind == K_ELECT && find_held(a0, 1)) {
            reply(t, 0, "%s already leads %s", C.id, a0);
            end_task(ti);
            return;
        }
        if (!strcmp(cmd, "bench")) {
            uint64_t s;
            if (parse_duration_us(a1, &s) < 0 || !s) {
                reply(t, 0, "bench LOCK DURATION, got '%s'", a1);
                end_task(ti);
                return;
            }
            t->bench_until = mono_us() + s;
            wait_us = s + 60000000;
            t->value[0] = 0;
        }
        if (t->kind == K_LOCK)
            t->deadline_us = mono_us() + wait_us;
        if (t->kind == K_WATCH) {
            int have = 0;
            for (int i = 0; i < MAX_WATCHED && !have; i++)
                have = !strcmp(C.watched[i], a0);
            for (int i = 0; i < MAX_WATCHED && !have; i++)
                if (!C.watched[i][0]) {
                    str_copy(C.watched[i], a0, PATHLEN);
                    have = 1;
                }
        }
        start(ti);
        return;
    }
    struct task t = {.req = req};
    reply(&t, 0, "unknown client command '%s': lock, unlock, elect, resign, watch, set, get, register, discover, write, isolate, heal",
          cmd);
}

/* ---- the loop ---------------------------------------------------------------------------------- */

static void timers(void)
{
    uint64_t now = mono_us();
    if (now >= C.next_hb) {
        uint64_t hb = C.timeout_us / 3;
        for (int i = 0; i < MAX_SESS; i++) {
            if (!C.s[i].live)
                continue;
            if (C.s[i].timeout_us / 3 < hb)
                hb = C.s[i].timeout_us / 3;
            for (int k = 0; k < C.nn; k++)
                send_to(k, json_pack("{s:s,s:I,s:I}", "type", "zk_heartbeat", "msg_id", (json_int_t)++C.next_msg, "session",
                                     (json_int_t)C.s[i].sid));
        }
        C.next_hb = now + (hb < 20000 ? 20000 : hb);
    }
    for (int i = 0; i < MAX_INFLIGHT; i++) {
        struct inflight *f = &C.f[i];
        if (!f->op)
            continue;
        if (f->resend_at && now >= f->resend_at) {
            transmit(f);
            continue;
        }
        if (!f->resend_at && now - f->sent_us > REQ_TIMEOUT_US) {
            const char *op = json_string_value(json_object_get(f->op, "op"));
            int idem = op && (!strcmp(op, "get") || !strcmp(op, "children") || !strcmp(op, "exists") || !strcmp(op, "open") ||
                              !strcmp(op, "sync"));
            if (idem || f->task < 0) {
                C.leader = (f->node + 1) % C.nn;
                if (f->task < 0 && f->sent_us && now - f->sent_us > 4 * REQ_TIMEOUT_US) {
                    json_decref(f->op);
                    f->op = NULL;
                    continue;
                }
                transmit(f);
                continue;
            }
            int ti = f->task;
            json_decref(f->op);
            f->op = NULL;
            if (ti >= 0 && C.t[ti].used) {
                reply(&C.t[ti], 0, "timeout: no answer from %s in %d s (the outcome is unknown)", C.n[f->node].id,
                      REQ_TIMEOUT_US / 1000000);
                end_task(ti);
            }
        }
    }
    for (int i = 0; i < MAX_TASKS; i++) {
        struct task *t = &C.t[i];
        if (t->used && t->kind == K_LOCK && t->deadline_us && now >= t->deadline_us && t->step < 8) {
            if (!t->mynode[0] || !t->ahead[0])
                reply(t, 0, "not acquired %s within the wait: the service did not answer in time (cut off? no leader?)",
                      t->name);
            else
                reply(t, 0, "not acquired %s within the wait: %d ahead, %s holds it", t->name, t->nahead, t->ahead);
            give_up_node(t);
            end_task(i);
        }
    }
}

static void on_sigterm(int sig)
{
    (void)sig;
    _exit(0);
}

int zkclient_main(int argc, char **argv)
{
    const char *cmd_ep = NULL, *ev_ep = NULL;
    memset(&C, 0, sizeof C);
    C.timeout_us = 3000000;
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (!strcmp(k, "--id")) {
            str_copy(C.id, v, CL_IDLEN);
        } else if (!strcmp(k, "--cmd")) {
            cmd_ep = v;
        } else if (!strcmp(k, "--events")) {
            ev_ep = v;
        } else if (!strcmp(k, "--session")) {
            if (parse_duration_us(v, &C.timeout_us) < 0 || C.timeout_us < 10000) {
                fprintf(stderr, "conlab __client: bad --session %s\n", v);
                return 2;
            }
        } else if (!strcmp(k, "--lab-pid")) {
            C.lab_pid = (pid_t)atoi(v);
        } else if (!strcmp(k, "--node") && C.nn < CL_MAXN) {
            const char *eq = strchr(v, '=');
            if (!eq || (size_t)(eq - v) >= CL_IDLEN)
                return 2;
            memcpy(C.n[C.nn].id, v, (size_t)(eq - v));
            C.n[C.nn].id[eq - v] = 0;
            C.n[C.nn].sock = (void *)(eq + 1); /* the endpoint until connected */
            C.nn++;
        } else {
            fprintf(stderr, "conlab __client: unknown option %s\n", k);
            return 2;
        }
    }
    if (!C.id[0] || !cmd_ep || !ev_ep || !C.nn) {
        fprintf(stderr, "conlab __client: needs --id, --cmd, --events and --node ID=EP\n");
        return 2;
    }
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (C.lab_pid && getppid() != C.lab_pid)
        return 0; /* the lab is already gone */
    signal(SIGTERM, on_sigterm);
    signal(SIGPIPE, SIG_IGN);
    C.ctx = zmq_ctx_new();
    int zero = 0;
    C.cmd = zmq_socket(C.ctx, ZMQ_PULL);
    C.ev = zmq_socket(C.ctx, ZMQ_PUSH);
    zmq_setsockopt(C.ev, ZMQ_LINGER, &zero, sizeof zero);
    if (zmq_bind(C.cmd, cmd_ep) < 0 || zmq_connect(C.ev, ev_ep) < 0) {
        fprintf(stderr, "conlab __client: cannot bind %s or reach %s: %s\n", cmd_ep, ev_ep, zmq_strerror(errno));
        return 1;
    }
    for (int i = 0; i < C.nn; i++) {
        const char *ep = C.n[i].sock;
        void *s = zmq_socket(C.ctx, ZMQ_DEALER);
        zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
        zmq_setsockopt(s, ZMQ_ROUTING_ID, C.id, strlen(C.id));
        if (zmq_connect(s, ep) < 0) {
            fprintf(stderr, "conlab __client: cannot connect to %s at %s\n", C.n[i].id, ep);
            return 1;
        }
        C.n[i].sock = s;
    }
    int ti = new_task(K_OPEN, 0, NULL, NULL);
    start(ti);
    for (;;) {
        zmq_pollitem_t items[1 + CL_MAXN];
        items[0] = (zmq_pollitem_t){C.cmd, 0, ZMQ_POLLIN, 0};
        for (int i = 0; i < C.nn; i++)
            items[1 + i] = (zmq_pollitem_t){C.n[i].sock, 0, ZMQ_POLLIN, 0};
        zmq_poll(items, 1 + C.nn, 20);
        /* the lab's commands first: after a pause, a queued command runs before the replies that
         * would tell us what happened meanwhile (as a process that wakes up does) */
        for (int k = 0; k < 64 && (items[0].revents & ZMQ_POLLIN); k++) {
            char buf[65536];
            int n = zmq_recv(C.cmd, buf, sizeof buf - 1, ZMQ_DONTWAIT);
            if (n < 0)
                break;
            json_t *c = json_loadb(buf, (size_t)(n < (int)sizeof buf ? n : (int)sizeof buf - 1), 0, NULL);
            if (c)
                on_command(c);
            json_decref(c);
        }
        for (int i = 0; i < C.nn; i++) {
            for (int k = 0; k < 256 && (items[1 + i].revents & ZMQ_POLLIN); k++) {
                zmq_msg_t m;
                zmq_msg_init(&m);
                if (zmq_msg_recv(&m, C.n[i].sock, ZMQ_DONTWAIT) < 0) {
                    zmq_msg_close(&m);
                    break;
                }
                struct envelope env;
                char err[200];
                int rc = envelope_decode(zmq_msg_data(&m), zmq_msg_size(&m), &env, err, sizeof err);
                zmq_msg_close(&m);
                if (rc < 0)
                    continue;
                if (!C.n[i].cut)
                    on_node_msg(i, env.body);
                envelope_clear(&env);
            }
        }
        timers();
        if (C.lab_pid && getppid() != C.lab_pid)
            return 0;
    }
}
