/* clients — see clients.h. */
#include "clients.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include "fence.h"
#include "lab.h"

#define MAX_ACTORS 24
#define MAX_DEFER 16

extern char **environ;

enum cstate { CS_STARTING, CS_UP, CS_PAUSED, CS_DOWN };
static const char *const cstate_names[] = {"starting", "up", "paused", "down"};

struct actor {
    int used;
    char name[16];
    pid_t pid;
    enum cstate state;
    void *push;
    char ep[600];
    uint64_t session, timeout_us;
    json_t *held;               /* lock or election path -> token (from its mutex events) */
    json_t *fired;              /* path -> [watch notifications seen, taken by `await watch`] */
    int expired;                /* session expiries it reported */
    uint64_t resume_at;         /* `pause c1 6s` */
    json_t *queued;             /* req -> the command line sent while it was paused */
};

struct defer {
    int idx;                    /* node to resume */
    uint64_t at;
};

static struct {
    struct lab *lab;
    void *ctx;
    struct actor a[MAX_ACTORS];
    const struct cluster *cl;   /* the cluster the clients belong to */
    uint64_t cl_t0;             /* and its start (a new cluster may reuse the address) */
    struct fence fence;
    int fence_ready;
    json_t *writes;             /* storage_write events waiting for the storage */
    json_t *replies;            /* req -> client_reply event */
    uint64_t next_req;
    struct defer d[MAX_DEFER];
    char self[600];
} A;

static struct actor *find(const char *name)
{
    for (int i = 0; i < MAX_ACTORS; i++)
        if (A.a[i].used && !strcmp(A.a[i].name, name))
            return &A.a[i];
    return NULL;
}

static json_t *declared; /* names `client NAME` lines of a checked script will start */

int actors_known(const char *word)
{
    return word && (find(word) != NULL || json_object_get(declared, word) != NULL);
}

int actors_validate(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[0], "client") && strlen(argv[1]) < 16) {
        if (!declared)
            declared = json_object();
        json_object_set_new(declared, argv[1], json_true());
    }
    return argc > 0 && actors_known(argv[0]);
}

static void send_cmd(struct actor *c, json_t *cmd)
{
    char *s = json_dumps(cmd, JSON_COMPACT);
    zmq_send(c->push, s, strlen(s), ZMQ_DONTWAIT);
    free(s);
    json_decref(cmd);
}

/* The crash or the end of a client: its critical sections end now. */
static void end_sections(struct lab *lab, struct actor *c, const char *why)
{
    const char *k;
    json_t *v;
    json_object_foreach(c->held, k, v)
        lab_event(lab, "mutex", json_pack("{s:s,s:s,s:s,s:O,s:s}", "op", "release", "client", c->name, "lock", k, "token", v,
                                          "why", why));
    json_object_clear(c->held);
}

static void kill_actor(struct lab *lab, struct actor *c, const char *why)
{
    if (c->pid > 0) {
        kill(c->pid, SIGKILL);
        kill(c->pid, SIGCONT);
        waitpid(c->pid, NULL, 0);
    }
    c->pid = 0;
    if (c->state != CS_DOWN && lab)
        end_sections(lab, c, why);
    c->state = CS_DOWN;
}

static void drop_all(struct lab *lab)
{
    for (int i = 0; i < MAX_ACTORS; i++) {
        struct actor *c = &A.a[i];
        if (!c->used)
            continue;
        kill_actor(lab, c, "stop");
        if (c->push)
            zmq_close(c->push);
        json_decref(c->held);
        json_decref(c->fired);
        json_decref(c->queued);
        memset(c, 0, sizeof *c);
    }
    if (A.fence_ready)
        fence_free(&A.fence);
    A.fence_ready = 0;
    json_object_clear(A.writes);
    json_object_clear(A.replies);
}

/* The clients belong to one cluster: a new one (or none) ends them. */
static void follow_cluster(struct lab *lab)
{
    if (lab->cl != A.cl || (lab->cl && lab->cl->t0_us != A.cl_t0)) {
        drop_all(NULL); /* the old run is over: its history ends here */
        A.cl = lab->cl;
        A.cl_t0 = lab->cl ? lab->cl->t0_us : 0;
    }
    if (lab->cl && !A.fence_ready) {
        fence_init(&A.fence, strcmp(opts_get(&lab->cl->opts, "fencing", "on"), "off") != 0);
        A.fence_ready = 1;
    }
}

/* ---- events from the clients ------------------------------------------------------------------ */

static void on_event(void *ud, const struct event *e)
{
    (void)ud;
    const json_t *j = e->json;
    const char *ev = json_string_value(json_object_get(j, "ev"));
    const char *node = json_string_value(json_object_get(j, "node"));
    if (!ev)
        return;
    if (!strcmp(ev, "mutex")) { /* the critical sections each client is in, for its crash */
        const char *client = json_string_value(json_object_get(j, "client"));
        const char *op = json_string_value(json_object_get(j, "op"));
        const char *lock = json_string_value(json_object_get(j, "lock"));
        struct actor *c = client ? find(client) : NULL;
        if (c && op && lock && !strcmp(op, "acquire"))
            json_object_set(c->held, lock, json_object_get(j, "token"));
        else if (c && op && lock && !strcmp(op, "release"))
            json_object_del(c->held, lock);
        return;
    }
    struct actor *c = node ? find(node) : NULL;
    if (!c)
        return;
    if (!strcmp(ev, "client_reply")) {
        char k[32];
        snprintf(k, sizeof k, "%lld", (long long)json_integer_value(json_object_get(j, "req")));
        if (json_object_get(c->queued, k)) { /* a command it got while paused: nobody waits for it */
            if (A.lab)
                lab_out(A.lab, "%s: %s%s", c->name, json_is_true(json_object_get(j, "ok")) ? "" : "FAILED: ",
                        json_string_value(json_object_get(j, "text")) ? json_string_value(json_object_get(j, "text")) : "");
            json_object_del(c->queued, k);
            return;
        }
        json_object_set(A.replies, k, (json_t *)j);
    } else if (!strcmp(ev, "client_session")) {
        const char *what = json_string_value(json_object_get(j, "what"));
        if (what && !strcmp(what, "open") && json_is_true(json_object_get(j, "main"))) {
            c->session = (uint64_t)json_integer_value(json_object_get(j, "session"));
            if (c->state == CS_STARTING)
                c->state = CS_UP;
        } else if (what && !strcmp(what, "expired")) {
            c->expired++;
            if (A.lab && c->state == CS_UP)
                lab_out(A.lab, "%s: session %lld expired", c->name, (long long)json_integer_value(json_object_get(j, "session")));
        }
    } else if (!strcmp(ev, "elected")) {
        if (A.lab && json_is_true(json_object_get(j, "waited")))
            lab_out(A.lab, "%s: now leads %s (token %lld)", c->name, json_string_value(json_object_get(j, "path")),
                    (long long)json_integer_value(json_object_get(j, "token")));
    } else if (!strcmp(ev, "watch_fired")) {
        const char *path = json_string_value(json_object_get(j, "path"));
        if (!path)
            return;
        json_t *f = json_object_get(c->fired, path);
        if (!f) {
            f = json_pack("[i,i]", 0, 0);
            json_object_set_new(c->fired, path, f);
        }
        json_array_set_new(f, 0, json_integer(json_integer_value(json_array_get(f, 0)) + 1));
        const char *v = json_string_value(json_object_get(j, "value"));
        if (A.lab)
            lab_out(A.lab, "%s: watch fired on %s (%s)%s%s", c->name, path, json_string_value(json_object_get(j, "event")),
                    v ? ", now: " : "", v ? v : "");
    } else if (!strcmp(ev, "storage_write")) {
        json_array_append(A.writes, (json_t *)j);
    }
}

/* The storage decides the writes that came (outside the event callback: it records events). */
static void on_tick(void *ud)
{
    struct lab *lab = ud;
    follow_cluster(lab);
    uint64_t now = mono_us();
    for (int i = 0; i < MAX_ACTORS; i++) {
        struct actor *c = &A.a[i];
        if (c->used && c->state == CS_PAUSED && c->resume_at && now >= c->resume_at) {
            c->resume_at = 0;
            kill(c->pid, SIGCONT);
            c->state = CS_UP;
            lab_event(lab, "fault", json_pack("{s:s,s:s}", "what", "resume", "target", c->name));
            lab_out(lab, "resumed %s (its pause ended)", c->name);
        }
    }
    for (int i = 0; i < MAX_DEFER; i++) {
        struct defer *d = &A.d[i];
        if (!d->at || now < d->at)
            continue;
        d->at = 0;
        if (lab->cl && d->idx < lab->cl->n && lab->cl->state[d->idx] == NODE_PAUSED &&
            lab->cl->ops->resume(lab->cl, d->idx) == 0)
            lab_out(lab, "resumed n%d (its pause ended)", d->idx + 1);
    }
    if (!json_array_size(A.writes) || !A.fence_ready)
        return;
    json_t *w = A.writes;
    A.writes = json_array();
    size_t k;
    json_t *e;
    json_array_foreach(w, k, e) {
        const char *client = json_string_value(json_object_get(e, "node"));
        const char *res = json_string_value(json_object_get(e, "resource"));
        const char *val = json_string_value(json_object_get(e, "value"));
        const char *lock = json_string_value(json_object_get(e, "lock"));
        uint64_t token = (uint64_t)json_integer_value(json_object_get(e, "token"));
        uint64_t highest = 0;
        enum fence_outcome o = fence_write(&A.fence, res, token, val, client, &highest);
        int accepted = o != FENCE_REFUSED;
        json_t *f = json_pack("{s:O,s:s,s:s,s:I,s:s,s:s?,s:b,s:b,s:I}", "t", json_object_get(e, "t"), "op", "write", "client", client ? client : "", "token",
                              (json_int_t)token, "resource", res ? res : "", "value", val, "accepted", accepted, "fencing",
                              A.fence.on, "highest", (json_int_t)highest);
        if (lock)
            json_object_set_new(f, "lock", json_string(lock));
        lab_event(lab, "mutex", f);
        struct actor *c = client ? find(client) : NULL;
        if (c && c->push)
            send_cmd(c, json_pack("{s:s,s:O,s:b,s:b,s:I,s:I,s:s?,s:[s?,s?]}", "cmd", "storage_result", "req",
                                  json_object_get(e, "req"), "accepted", accepted, "stale", o == FENCE_STALE_ACCEPTED,
                                  "highest", (json_int_t)highest, "token", (json_int_t)token, "lock", lock, "args", res, val));
    }
    json_decref(w);
}

static void on_destroy(void *ud)
{
    (void)ud;
    drop_all(NULL);
    if (A.ctx)
        zmq_ctx_term(A.ctx);
    A.ctx = NULL;
    json_decref(A.writes);
    json_decref(A.replies);
    A.writes = A.replies = NULL;
    json_decref(declared);
    declared = NULL;
    A.lab = NULL;
    A.cl = NULL;
}

/* ---- commands -------------------------------------------------------------------------------- */

static int name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 15)
        return 0;
    if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return 0;
    return 1;
}

/* Waits for the reply to req from client c, up to us; NULL on timeout or when c went away
 * (caller frees the reply). */
static json_t *await_reply(struct lab *lab, struct actor *c, uint64_t req, uint64_t us)
{
    char k[32];
    snprintf(k, sizeof k, "%llu", (unsigned long long)req);
    uint64_t end = mono_us() + us;
    for (;;) {
        json_t *r = json_object_get(A.replies, k);
        if (r) {
            json_incref(r);
            json_object_del(A.replies, k);
            return r;
        }
        if (mono_us() >= end || lab->interrupted || !c->used || c->state == CS_DOWN || c->state == CS_PAUSED)
            return NULL;
        lab_pump(lab, 50000, -1);
    }
}

static int usable(struct lab *lab, struct actor *c)
{
    if (c->state == CS_DOWN) {
        lab_err(lab, "%s crashed: start a new client (client %s) to go on", c->name, c->name);
        return 0;
    }
    return 1;
}

static int cmd_client(struct lab *lab, int argc, char **argv)
{
    follow_cluster(lab);
    if (!lab->cl) {
        lab_err(lab, "no cluster is running: start one first, e.g. 'start zab 3 service=zk'");
        return 1;
    }
    if (!mode_client_type(lab->cl->mode, "zk")) {
        lab_err(lab, "the %s mode offers no coordination service for clients: start zab 3 service=zk", lab->cl->mode->name);
        return 1;
    }
    if (lab->cl->sim) {
        lab_err(lab, "a client is a real process: start the cluster without sim=on");
        return 1;
    }
    const char *events = lab->cl->ops->events_endpoint ? lab->cl->ops->events_endpoint(lab->cl) : NULL;
    if (!events) {
        lab_err(lab, "this cluster cannot host client processes");
        return 1;
    }
    const char *name = argv[1];
    uint64_t timeout = 3000000;
    for (int i = 2; i < argc; i++) {
        if (strncmp(argv[i], "session=", 8) || parse_duration_us(argv[i] + 8, &timeout) < 0 || timeout < 100000 ||
            timeout > 600000000) {
            lab_err(lab, "bad '%s': client NAME [session=DURATION] (100ms to 10m)", argv[i]);
            return 2;
        }
    }
    if (!name_ok(name) || (name[0] == 'n' && name[1] >= '0' && name[1] <= '9') || !strcmp(name, "leader") ||
        !strcmp(name, "lab")) {
        lab_err(lab, "bad client name '%s': 1 to 15 letters, digits or _, starting with a letter, not a node's name (c1, alice)",
                name);
        return 2;
    }
    struct actor *c = find(name);
    if (c && c->state != CS_DOWN) {
        lab_err(lab, "%s is already running (crash %s first to start it again)", name, name);
        return 1;
    }
    if (!c) {
        for (int i = 0; i < MAX_ACTORS && !c; i++)
            if (!A.a[i].used)
                c = &A.a[i];
        if (!c) {
            lab_err(lab, "too many clients (%d)", MAX_ACTORS);
            return 1;
        }
        memset(c, 0, sizeof *c);
        c->used = 1;
        str_copy(c->name, name, sizeof c->name);
        c->held = json_object();
        c->fired = json_object();
        c->queued = json_object();
        snprintf(c->ep, sizeof c->ep, "ipc://%s/client-%s.sock", lab->run_dir, name);
        if (!A.ctx)
            A.ctx = zmq_ctx_new();
        c->push = zmq_socket(A.ctx, ZMQ_PUSH);
        int zero = 0;
        zmq_setsockopt(c->push, ZMQ_LINGER, &zero, sizeof zero);
        zmq_connect(c->push, c->ep);
    }
    lab_client_process(lab, name); /* the same name in the history (as=NAME) */
    c->timeout_us = timeout;
    c->session = 0;
    c->expired = 0;
    json_object_clear(c->held);
    char *av[64];
    int n = 0;
    char sess[32], labpid[32];
    snprintf(sess, sizeof sess, "%lluus", (unsigned long long)timeout);
    snprintf(labpid, sizeof labpid, "%d", (int)getpid());
    av[n++] = A.self;
    av[n++] = (char *)"__client";
    av[n++] = (char *)"--id";
    av[n++] = c->name;
    av[n++] = (char *)"--cmd";
    av[n++] = c->ep;
    av[n++] = (char *)"--events";
    av[n++] = (char *)events;
    av[n++] = (char *)"--session";
    av[n++] = sess;
    av[n++] = (char *)"--lab-pid";
    av[n++] = labpid;
    char *nodes[CL_MAXN];
    int nn = 0;
    for (int i = 0; i < lab->cl->n && i < CL_MAXN && n < 60; i++) {
        char id[CL_IDLEN];
        node_name(i, id);
        nodes[nn] = xasprintf("%s=%s", id, lab->cl->ops->endpoint(lab->cl, i));
        av[n++] = (char *)"--node";
        av[n++] = nodes[nn++];
    }
    av[n] = NULL;
    char logpath[700];
    snprintf(logpath, sizeof logpath, "%s/client-%s.log", lab->run_dir, name);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, logpath, O_WRONLY | O_CREAT | O_APPEND, 0600);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    posix_spawnattr_t at;
    posix_spawnattr_init(&at);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &all);
    int rc = posix_spawn(&c->pid, A.self, &fa, &at, av, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    for (int i = 0; i < nn; i++)
        free(nodes[i]);
    if (rc != 0) {
        c->pid = 0;
        c->state = CS_DOWN;
        lab_err(lab, "cannot start client %s (%s): %s", name, A.self, strerror(rc));
        return 1;
    }
    c->state = CS_STARTING;
    lab_event(lab, "fault", json_pack("{s:s,s:s}", "what", "client", "target", name));
    uint64_t end = mono_us() + 15000000;
    while (c->state == CS_STARTING && mono_us() < end && !lab->interrupted) {
        int st;
        if (waitpid(c->pid, &st, WNOHANG) == c->pid) {
            c->pid = 0;
            c->state = CS_DOWN;
            lab_err(lab, "client %s exited at once (see %s)", name, logpath);
            return 1;
        }
        lab_pump(lab, 50000, -1);
    }
    if (c->state != CS_UP) {
        lab_err(lab, "client %s opened no session within 15 s (is a leader elected? try 'wait leader')", name);
        kill_actor(lab, c, "crash");
        return 1;
    }
    lab_out(lab, "%s: session %llu (timeout %s%llu%s), heartbeats every %llums to every node", name,
            (unsigned long long)c->session, "", (unsigned long long)(timeout >= 1000000 && timeout % 1000000 == 0 ? timeout / 1000000 : timeout / 1000),
            timeout >= 1000000 && timeout % 1000000 == 0 ? "s" : "ms", (unsigned long long)(timeout / 3000));
    return 0;
}

static int cmd_clients(struct lab *lab, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    follow_cluster(lab);
    int any = 0;
    for (int i = 0; i < MAX_ACTORS; i++) {
        struct actor *c = &A.a[i];
        if (!c->used)
            continue;
        any = 1;
        struct sb b = {0};
        sb_printf(&b, "%s %s session=%llu pid=%d", c->name, cstate_names[c->state], (unsigned long long)c->session,
                  (int)c->pid);
        const char *k;
        json_t *v;
        json_object_foreach(c->held, k, v) sb_printf(&b, " holds %s(token %lld)", k, (long long)json_integer_value(v));
        lab_out(lab, "%s", b.s);
        sb_free(&b);
    }
    if (!any)
        lab_out(lab, "no client: start one with 'client c1'");
    return 0;
}

static int cmd_storage(struct lab *lab, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    follow_cluster(lab);
    if (!A.fence_ready) {
        lab_out(lab, "no cluster: the storage starts with one");
        return 0;
    }
    lab_out(lab, "storage: fencing %s", A.fence.on ? "on (a token lower than one accepted is refused)" : "off (every write is accepted)");
    for (size_t i = 0; i < A.fence.n; i++) {
        const struct fence_res *r = &A.fence.r[i];
        lab_out(lab, "  %s = %s (by %s, highest token %llu; %llu writes, %llu refused, %llu stale accepted)", r->name,
                r->value ? r->value : "nil", r->by ? r->by : "-", (unsigned long long)r->highest,
                (unsigned long long)r->writes, (unsigned long long)r->refused, (unsigned long long)r->stale_accepted);
    }
    if (!A.fence.n)
        lab_out(lab, "  (nothing written yet: CLIENT write storage KEY VALUE)");
    return 0;
}

static const struct lab_command actor_commands[] = {
    {"client", "client NAME [session=DURATION]",
     "Start a named client session (its own process) of the cluster's coordination service (zab service=zk): it keeps "
     "its session alive with heartbeats; then NAME lock, unlock, elect, resign, watch, set, get, register, discover, "
     "write, await, isolate or heal (see docs/modes/zk.md); pause, resume and crash take it like a node.",
     "client c1", 1, 2, cmd_client},
    {"clients", "clients", "List the named clients: state, session, the locks they hold.", "clients", 0, 0, cmd_clients},
    {"storage", "storage", "Show the fenced storage the clients write to (CLIENT write storage KEY VALUE): each resource's "
                           "value and highest token.", "storage", 0, 0, cmd_storage},
    {NULL, NULL, NULL, NULL, 0, 0, NULL},
};

/* `c2 await elected PATH|watch PATH|expired [TIMEOUT]`: waits on what the client reported. */
static int await_state(struct lab *lab, struct actor *c, int argc, char **argv)
{
    uint64_t timeout = 30000000;
    const char *what = argv[2];
    int needs_path = !strcmp(what, "elected") || !strcmp(what, "watch");
    if ((!needs_path && strcmp(what, "expired")) || argc < 3 + needs_path ||
        (argc > 3 + needs_path && parse_duration_us(argv[3 + needs_path], &timeout) < 0) || argc > 4 + needs_path) {
        lab_err(lab, "usage: %s await elected PATH|watch PATH|expired [TIMEOUT]", c->name);
        return 2;
    }
    const char *path = needs_path ? argv[3] : NULL;
    int start_expired = c->expired;
    uint64_t t0 = mono_us(), end = t0 + timeout;
    for (;;) {
        int done = 0;
        if (!strcmp(what, "elected"))
            done = json_object_get(c->held, path) != NULL;
        else if (!strcmp(what, "expired"))
            done = c->expired > start_expired || (c->expired && argc == 3 && 0);
        else {
            json_t *f = json_object_get(c->fired, path);
            if (f && json_integer_value(json_array_get(f, 0)) > json_integer_value(json_array_get(f, 1))) {
                json_array_set_new(f, 1, json_integer(json_integer_value(json_array_get(f, 1)) + 1));
                done = 1;
            }
        }
        if (done) {
            lab_out(lab, "%s: %s%s%s after %llums", c->name, !strcmp(what, "elected") ? "leads " : !strcmp(what, "watch") ? "watch fired on " : "session expired",
                    path ? path : "", "", (unsigned long long)((mono_us() - t0) / 1000));
            return 0;
        }
        if (mono_us() >= end || lab->interrupted || c->state == CS_DOWN) {
            lab_err(lab, "%s: no %s%s%s within %llums", c->name, what, path ? " on " : "", path ? path : "",
                    (unsigned long long)(timeout / 1000));
            return 1;
        }
        lab_pump(lab, 50000, -1);
    }
}

int actors_command(struct lab *lab, int argc, char **argv)
{
    struct actor *c = argc > 0 ? find(argv[0]) : NULL;
    if (!c)
        return -1;
    follow_cluster(lab);
    if (argc < 2) {
        lab_err(lab, "%s what? lock, unlock, elect, resign, watch, set, get, register, discover, write, await, isolate, heal",
                c->name);
        return 2;
    }
    if (!strcmp(argv[1], "await"))
        return await_state(lab, c, argc, argv);
    if (!usable(lab, c))
        return 1;
    const char *verb = argv[1];
    int first = 2;
    if (!strcmp(verb, "write")) {
        if (argc < 5 || strcmp(argv[2], "storage")) {
            lab_err(lab, "usage: %s write storage KEY VALUE [lock=NAME]", c->name);
            return 2;
        }
        first = 3;
    }
    json_t *args = json_array();
    for (int i = first; i < argc; i++)
        json_array_append_new(args, json_string(argv[i]));
    uint64_t req = ++A.next_req;
    uint64_t wait = 20000000;
    for (int i = first; i < argc; i++) {
        uint64_t w;
        if (!strncmp(argv[i], "wait=", 5) && parse_duration_us(argv[i] + 5, &w) == 0)
            wait = w + 20000000;
    }
    send_cmd(c, json_pack("{s:I,s:s,s:o}", "req", (json_int_t)req, "cmd", verb, "args", args));
    if (c->state == CS_PAUSED) {
        /* a paused process runs nothing: the command waits in its socket, like the work a
         * process was about to do when its pause began, and runs first when it resumes */
        char k[32];
        snprintf(k, sizeof k, "%llu", (unsigned long long)req);
        json_object_set_new(c->queued, k, json_string(verb));
        lab_out(lab, "%s is paused: '%s' waits and runs as soon as it resumes", c->name, verb);
        return 0;
    }
    json_t *r = await_reply(lab, c, req, wait);
    if (!r) {
        lab_err(lab, "%s: no answer (%s)", c->name,
                c->state == CS_PAUSED ? "it was paused" : c->state == CS_DOWN ? "it crashed" : "timeout");
        return 1;
    }
    const char *text = json_string_value(json_object_get(r, "text"));
    int ok = json_is_true(json_object_get(r, "ok"));
    if (ok)
        lab_out(lab, "%s", text ? text : "ok");
    else
        lab_err(lab, "%s: %s", c->name, text ? text : "failed");
    json_decref(r);
    return ok ? 0 : 1;
}

int actors_fault(struct lab *lab, const char *verb, int argc, char **argv)
{
    struct actor *c = argc > 1 ? find(argv[1]) : NULL;
    if (!c)
        return -1;
    uint64_t dur = 0;
    if (argc > 2 && (strcmp(verb, "pause") || parse_duration_us(argv[2], &dur) < 0 || !dur)) {
        lab_err(lab, "usage: %s", !strcmp(verb, "pause") ? "pause CLIENT [DURATION] (pause c1 6s)" : "crash|resume CLIENT");
        return 2;
    }
    if (!strcmp(verb, "crash")) {
        if (c->state == CS_DOWN) {
            lab_err(lab, "cannot crash %s: it is already down", c->name);
            return 1;
        }
        kill_actor(lab, c, "crash");
        lab_event(lab, "fault", json_pack("{s:s,s:s}", "what", "crash", "target", c->name));
        lab_out(lab, "crashed %s: its session now expires %llums after its last heartbeat", c->name,
                (unsigned long long)(c->timeout_us / 1000));
        return 0;
    }
    if (!strcmp(verb, "pause")) {
        if (c->state != CS_UP) {
            lab_err(lab, "cannot pause %s: it is not running", c->name);
            return 1;
        }
        kill(c->pid, SIGSTOP);
        c->state = CS_PAUSED;
        c->resume_at = dur ? mono_us() + dur : 0;
        lab_event(lab, "fault", json_pack("{s:s,s:s}", "what", "pause", "target", c->name));
        if (dur)
            lab_out(lab, "paused %s for %llums (a GC pause: no heartbeat, no work)", c->name, (unsigned long long)(dur / 1000));
        else
            lab_out(lab, "paused %s (a GC pause: no heartbeat, no work)", c->name);
        return 0;
    }
    if (!strcmp(verb, "resume")) {
        if (c->state != CS_PAUSED) {
            lab_err(lab, "cannot resume %s: it is not paused", c->name);
            return 1;
        }
        kill(c->pid, SIGCONT);
        c->state = CS_UP;
        c->resume_at = 0;
        lab_event(lab, "fault", json_pack("{s:s,s:s}", "what", "resume", "target", c->name));
        lab_out(lab, "resumed %s", c->name);
        /* what it was given while paused runs now: show its outcome before going on */
        uint64_t end = mono_us() + 10000000;
        while (json_object_size(c->queued) && mono_us() < end && !lab->interrupted && c->state == CS_UP)
            lab_pump(lab, 50000, -1);
        return 0;
    }
    lab_err(lab, "a client is not restarted: start it again with 'client %s' (a new session)", c->name);
    return 1;
}

int actors_send(struct lab *lab, const char *name, const char *verb, int argc, char **argv, uint64_t *req)
{
    follow_cluster(lab);
    struct actor *c = find(name);
    if (!c || c->state != CS_UP)
        return -1;
    json_t *args = json_array();
    for (int i = 0; i < argc; i++)
        json_array_append_new(args, json_string(argv[i]));
    *req = ++A.next_req;
    send_cmd(c, json_pack("{s:I,s:s,s:o}", "req", (json_int_t)*req, "cmd", verb, "args", args));
    return 0;
}

json_t *actors_wait(struct lab *lab, const char *name, uint64_t req, uint64_t us)
{
    struct actor *c = find(name);
    return c ? await_reply(lab, c, req, us) : NULL;
}

void actors_resume_later(struct lab *lab, int idx, uint64_t us)
{
    (void)lab;
    for (int i = 0; i < MAX_DEFER; i++)
        if (!A.d[i].at) {
            A.d[i].idx = idx;
            A.d[i].at = mono_us() + us;
            return;
        }
}

void actors_install(struct lab *lab)
{
    A.lab = lab;
    if (!A.writes)
        A.writes = json_array();
    if (!A.replies)
        A.replies = json_object();
    ssize_t n = readlink("/proc/self/exe", A.self, sizeof A.self - 1);
    A.self[n > 0 ? n : 0] = 0;
    lab_add_commands(actor_commands);
    lab_add_hooks(lab, &(struct lab_hooks){.ud = lab, .on_event = on_event, .on_tick = on_tick, .on_destroy = on_destroy});
}
