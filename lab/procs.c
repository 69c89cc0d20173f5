/* procs — the cluster as real processes: one conlab-node per node, spawned with
 * posix_spawn into its own process group (so the terminal's Ctrl-C and Ctrl-Z reach only the
 * lab), crashed with SIGKILL, paused with SIGSTOP, restarted on the same data directory and
 * ports. The lab binds a control ROUTER and an event PULL in its run directory (mode 0700:
 * only this user reaches them); the gateway keeps one DEALER per node's client socket.
 *
 * Peer authentication (auth=curve, the default): the lab generates one CURVE keypair per
 * node per run. A node gets its secret key in its environment (CONLAB_NODE_SECRET: readable
 * by this user only, unlike the command line) and every node's public key on its command line
 * (--peer-key) and in the `peers` message, so a restarted or added node is known at once.
 * Keys stay the same across restarts within a run. See cluster.h. */
#include "cluster.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include "envelope.h"
#include "room.h"

extern char **environ;

struct pnode {
    pid_t pid;
    char endpoint[256];
    char port_bind[256];      /* what to --bind on restart: the first port it got */
    char peer_endpoint[256];  /* its peer socket, where the other nodes connect */
    char peer_bind[256];      /* what to --peer-bind on restart */
    char pub[41], sec[41];    /* its CURVE keypair (Z85), with auth */
    long log_from;            /* where this incarnation's output starts in its log file */
    void *gw;                 /* gateway DEALER */
    uint64_t inc;
    int registered;
    int host;                 /* classroom: its host in the room (-1: a local process) */
    int running;              /* classroom: its agent runs it */
    char words[400];          /* classroom: its last words, from its agent */
};

struct procs {
    struct cluster c;
    void *zctx, *ctl, *evpull;
    char ctl_ep[600], ev_ep[600];
    char node_bin[512], data_dir[512], run_dir[512];
    struct pnode nodes[CL_MAXNODES];
    uint64_t req_seq;
    json_t *pending_reply;     /* a status_ok / command_ok we are waiting for */
    uint64_t pending_req;
    int generation;
    int auth;                  /* CURVE between the nodes */
    struct room *room;         /* classroom: nodes on other hosts, through their agents */
    char run[80];              /* classroom: this cluster's name on the hosts */
};

/* Is node idx's process there (spawned and not reaped), wherever it runs? */
static int proc_alive(const struct procs *p, int idx)
{
    return p->nodes[idx].host >= 0 ? p->nodes[idx].running : p->nodes[idx].pid != 0;
}

static struct procs *P(struct cluster *c)
{
    return (struct procs *)c;
}

static void lab_event(struct procs *p, int idx, const char *what, json_t *extra)
{
    json_t *e = json_pack("{s:I,s:s,s:s}", "t", (json_int_t)cluster_now(&p->c), "ev", "fault", "what", what);
    if (idx >= 0) {
        char id[CL_IDLEN];
        node_name(idx, id);
        json_object_set_new(e, "node", json_string(id));
    }
    if (extra) {
        json_object_update(e, extra);
        json_decref(extra);
    }
    if (p->c.on_event)
        p->c.on_event(p->c.ud, e);
    json_decref(e);
}

/* An error the lab saw on node idx's behalf (a reply it had to refuse), as an `error` event. */
static void lab_error(struct procs *p, int idx, const char *what, const char *why)
{
    char id[CL_IDLEN], text[400];
    node_name(idx, id);
    snprintf(text, sizeof text, "%s from %s refused: %s", what, id, why);
    json_t *e = json_pack("{s:I,s:s,s:s,s:s}", "t", (json_int_t)cluster_now(&p->c), "ev", "error", "node", id,
                          "text", text);
    if (p->c.on_event)
        p->c.on_event(p->c.ud, e);
    json_decref(e);
}

static int ctl_send(struct procs *p, int idx, json_t *body)
{
    struct envelope env = {0};
    str_copy(env.src, "lab", CL_IDLEN);
    node_name(idx, env.dest);
    env.body = body;
    size_t len;
    char *frame = envelope_encode(&env, &len);
    int rc;
    if (p->nodes[idx].host >= 0) {
        rc = room_send(p->room, p->nodes[idx].host, "ctl", env.dest, frame, len);
    } else {
        rc = zmq_send(p->ctl, env.dest, strlen(env.dest), ZMQ_SNDMORE | ZMQ_DONTWAIT);
        if (rc >= 0)
            rc = zmq_send(p->ctl, frame, len, ZMQ_DONTWAIT);
    }
    free(frame);
    json_decref(body);
    return rc < 0 ? CL_EIO : 0;
}

/* Everything in the environment but a secret of ours, then the node's secret: the envp of a
 * spawned node (caller frees the array and its last element). */
static char **node_environ(const struct pnode *nd)
{
    size_t n = 0;
    while (environ[n])
        n++;
    char **envp = xcalloc(n + 2, sizeof *envp);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "CONLAB_NODE_SECRET=", 19))
            envp[k++] = environ[i];
    envp[k] = nd->sec[0] ? xasprintf("CONLAB_NODE_SECRET=%s", nd->sec) : NULL;
    return envp;
}

/* A node on another host: its agent spawns it (agent.c), with what spawn_node would give it. */
static int spawn_remote(struct procs *p, int idx, char *err, size_t errlen)
{
    struct pnode *nd = &p->nodes[idx];
    char id[CL_IDLEN];
    node_name(idx, id);
    json_t *keys = json_object(), *opts = json_object();
    for (int i = 0; i < p->c.n && p->auth; i++) {
        char pid[CL_IDLEN];
        node_name(i, pid);
        if (p->nodes[i].pub[0])
            json_object_set_new(keys, pid, json_string(p->nodes[i].pub));
    }
    for (int i = 0; i < p->c.opts.n; i++)
        json_object_set_new(opts, p->c.opts.key[i], json_string(p->c.opts.val[i]));
    json_t *b = json_pack("{s:s,s:s,s:i,s:o,s:o,s:s,s:s}", "run", p->run, "mode", p->c.mode->name, "nodes", p->c.n,
                          "keys", keys, "opts", opts, "bind", nd->port_bind, "peer_bind", nd->peer_bind);
    if (nd->sec[0])
        json_object_set_new(b, "secret", json_string(nd->sec));
    char *s = json_dumps(b, JSON_COMPACT);
    json_decref(b);
    int rc = room_send(p->room, nd->host, "spawn", id, s, strlen(s));
    free(s);
    if (rc < 0) {
        const struct room_host *h = room_host(p->room, nd->host);
        snprintf(err, errlen, "cannot start %s: host %s has no agent (conlab join)", id, h ? h->name : "?");
        return CL_ESTATE;
    }
    nd->running = 1;
    nd->words[0] = 0;
    nd->registered = 0;
    p->c.state[idx] = NODE_STARTING;
    return 0;
}

/* How long a node may take to register after it is spawned (start, add, restart). A node
 * registers in milliseconds; a busy machine (CI, ASan, a hundred nodes) can take seconds. */
#define REGISTER_US 30000000
#define REGISTER_S "30 s"

static int spawn_node(struct procs *p, int idx, char *err, size_t errlen)
{
    struct pnode *nd = &p->nodes[idx];
    if (nd->host >= 0)
        return spawn_remote(p, idx, err, errlen);
    char id[CL_IDLEN], dir[600], nodes[16], labpid[32], logpath[600];
    node_name(idx, id);
    snprintf(dir, sizeof dir, "%s/%s", p->data_dir, id);
    snprintf(nodes, sizeof nodes, "%d", p->c.n);
    snprintf(labpid, sizeof labpid, "%d", (int)getpid());
    snprintf(logpath, sizeof logpath, "%s/%s.log", p->data_dir, id);
    char *argv[40 + 2 * CL_MAXNODES + 2 * 32]; /* fixed words, a --peer-key per node, an --opt per option */
    int a = 0;
    argv[a++] = p->node_bin;
    argv[a++] = (char *)"--id"; argv[a++] = id;
    argv[a++] = (char *)"--mode"; argv[a++] = (char *)p->c.mode->name;
    argv[a++] = (char *)"--dir"; argv[a++] = dir;
    argv[a++] = (char *)"--bind"; argv[a++] = nd->port_bind[0] ? nd->port_bind : (char *)"tcp://127.0.0.1:*";
    argv[a++] = (char *)"--peer-bind"; argv[a++] = nd->peer_bind[0] ? nd->peer_bind : (char *)"tcp://127.0.0.1:*";
    argv[a++] = (char *)"--ctl"; argv[a++] = p->ctl_ep;
    argv[a++] = (char *)"--events"; argv[a++] = p->ev_ep;
    argv[a++] = (char *)"--nodes"; argv[a++] = nodes;
    argv[a++] = (char *)"--lab-pid"; argv[a++] = labpid;
    char *kv[32 + CL_MAXNODES];
    int nkv = 0;
    for (int i = 0; i < p->c.n && p->auth; i++) {
        if (!p->nodes[i].pub[0])
            continue;
        char pid[CL_IDLEN];
        node_name(i, pid);
        kv[nkv] = xasprintf("%s=%s", pid, p->nodes[i].pub);
        argv[a++] = (char *)"--peer-key";
        argv[a++] = kv[nkv++];
    }
    for (int i = 0; i < p->c.opts.n && a < (int)CL_ARRAY_LEN(argv) - 3; i++) {
        kv[nkv] = xasprintf("%s=%s", p->c.opts.key[i], p->c.opts.val[i]);
        argv[a++] = (char *)"--opt";
        argv[a++] = kv[nkv++];
    }
    argv[a] = NULL;
    /* this incarnation's last words start where the log ends now */
    struct stat lst;
    nd->log_from = stat(logpath, &lst) == 0 ? (long)lst.st_size : 0;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, logpath, O_WRONLY | O_CREAT | O_APPEND, 0600);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    posix_spawnattr_t at;
    posix_spawnattr_init(&at);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setpgroup(&at, 0);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &all);
    char **envp = node_environ(nd);
    int rc = posix_spawn(&nd->pid, p->node_bin, &fa, &at, argv, envp);
    for (size_t i = 0; envp[i]; i++)
        if (!strncmp(envp[i], "CONLAB_NODE_SECRET=", 19))
            free(envp[i]);
    free(envp);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    for (int i = 0; i < nkv; i++)
        free(kv[i]);
    if (rc != 0) {
        snprintf(err, errlen, "cannot start %s (%s): %s", id, p->node_bin, strerror(rc));
        nd->pid = 0;
        return CL_EIO;
    }
    nd->registered = 0;
    p->c.state[idx] = NODE_STARTING;
    return 0;
}

/* The node's last words: what this incarnation wrote to its log (stderr) file, joined into
 * one line, into out. */
static void last_words(struct procs *p, int idx, char *out, size_t n)
{
    if (p->nodes[idx].host >= 0) {
        str_copy(out, p->nodes[idx].words, n);
        return;
    }
    char logpath[700];
    snprintf(logpath, sizeof logpath, "%s/n%d.log", p->data_dir, idx + 1);
    struct sb msg = {0};
    FILE *f = fopen(logpath, "r");
    if (f && fseek(f, p->nodes[idx].log_from, SEEK_SET) < 0) {
        fclose(f);
        f = NULL;
    }
    char line[512];
    while (f && fgets(line, sizeof line, f) && msg.len < 4096) {
        line[strcspn(line, "\n")] = 0;
        if (!line[0])
            continue;
        /* "conlab-node n2: …": the lab already says which node */
        char prefix[32];
        snprintf(prefix, sizeof prefix, "conlab-node n%d: ", idx + 1);
        const char *text = strncmp(line, prefix, strlen(prefix)) ? line : line + strlen(prefix);
        if (msg.len)
            sb_add(&msg, "; ");
        sb_add(&msg, text);
    }
    if (f)
        fclose(f);
    str_copy(out, msg.s ? msg.s : "", n);
    sb_free(&msg);
}

static void send_peers(struct procs *p, int only)
{
    json_t *list = json_array();
    for (int i = 0; i < p->c.n; i++) {
        char id[CL_IDLEN];
        node_name(i, id);
        if (!p->nodes[i].peer_endpoint[0] && !p->nodes[i].pub[0])
            continue;
        json_t *e = json_pack("{s:s,s:b}", "id", id, "up", p->nodes[i].registered && p->c.state[i] != NODE_DOWN);
        if (p->nodes[i].peer_endpoint[0]) /* a node being added is known by its key first */
            json_object_set_new(e, "peer_endpoint", json_string(p->nodes[i].peer_endpoint));
        if (p->nodes[i].pub[0])
            json_object_set_new(e, "key", json_string(p->nodes[i].pub));
        json_array_append_new(list, e);
    }
    for (int i = 0; i < p->c.n; i++) {
        if ((only >= 0 && i != only) || !p->nodes[i].registered)
            continue;
        ctl_send(p, i, json_pack("{s:s,s:O}", "type", "peers", "nodes", list));
    }
    json_decref(list);
}

/* "tcp://IP:PORT" -> IP (dotted IPv4 only) and PORT; 0 or CL_EINVAL. */
static int peer_addr(const char *ep, char *ip, size_t n, int *port)
{
    if (strncmp(ep, "tcp://", 6))
        return CL_EINVAL;
    const char *h = ep + 6, *colon = strrchr(h, ':');
    int64_t v;
    if (!colon || (size_t)(colon - h) >= n || strspn(h, "0123456789.") != (size_t)(colon - h) ||
        parse_i64(colon + 1, &v) < 0 || v < 1 || v > 65535)
        return CL_EINVAL;
    memcpy(ip, h, (size_t)(colon - h));
    ip[colon - h] = 0;
    *port = (int)v;
    return 0;
}

/* faults kernel (room.h, nftfaults.h): every fault the kernel can say moves from the node shim
 * into nftables rules on the receiving host: a cut or a loss on the links from one host's
 * nodes to a node of another host, when all that host's nodes share it (the kernel tells
 * senders apart by their host's address only). Links within a host, delay, duplication and
 * reordering stay in the shim. Fills shim with what the nodes must still do, and sends each
 * host its rules. */
static void kernel_split(struct procs *p, struct faults *shim)
{
    int nh = room_nhosts(p->room), n = p->c.n;
    memcpy(shim, &p->c.faults, sizeof *shim);
    static char ip[CL_MAXNODES][64];
    int port[CL_MAXNODES];
    char hip[ROOM_MAXHOSTS][64];
    memset(hip, 0, sizeof hip);
    json_t *rules[ROOM_MAXHOSTS] = {0};
    for (int i = 0; i < n; i++) {
        int h = p->nodes[i].host;
        ip[i][0] = 0;
        if (h < 0 || peer_addr(p->nodes[i].peer_endpoint, ip[i], sizeof ip[i], &port[i]) < 0)
            continue;
        if (!hip[h][0])
            str_copy(hip[h], ip[i], sizeof hip[h]);
    }
    for (int b = 0; b < n; b++) {
        int hb = p->nodes[b].host;
        if (hb < 0 || !ip[b][0])
            continue;
        for (int hs = 0; hs < nh; hs++) {
            if (hs == hb || !hip[hs][0] || !strcmp(hip[hs], ip[b]))
                continue;
            int pct = -1, uniform = 1;
            for (int a = 0; a < n; a++) {
                if (p->nodes[a].host != hs)
                    continue;
                int v = p->c.faults.cut[a][b] ? 100 : (int)(p->c.faults.link[a][b].loss * 100 + 0.5);
                if (pct < 0)
                    pct = v;
                else if (pct != v)
                    uniform = 0;
            }
            if (!uniform || pct <= 0)
                continue;
            char id[CL_IDLEN];
            node_name(b, id);
            char *what = xasprintf("%s->%s", room_host(p->room, hs)->name, id);
            if (!rules[hb])
                rules[hb] = json_array();
            json_array_append_new(rules[hb], json_pack("{s:s,s:s,s:i,s:i,s:s}", "src", hip[hs], "dst", ip[b], "dport",
                                                       port[b], "loss", pct, "link", what));
            free(what);
            for (int a = 0; a < n; a++)
                if (p->nodes[a].host == hs) {
                    shim->cut[a][b] = 0;
                    shim->link[a][b].loss = 0;
                }
        }
    }
    for (int h = 0; h < nh; h++)
        room_send_rules(p->room, h, rules[h]);
}

static void push_all_faults(struct procs *p)
{
    struct faults *shim = NULL;
    if (room_kernel(p->room)) {
        shim = xmalloc(sizeof *shim);
        kernel_split(p, shim);
    } else if (p->room) {
        for (int h = 0; h < room_nhosts(p->room); h++)
            room_send_rules(p->room, h, NULL);
    }
    for (int i = 0; i < p->c.n; i++)
        if (p->nodes[i].registered)
            ctl_send(p, i, json_pack("{s:s,s:o}", "type", "faults", "rules", faults_to_json(shim ? shim : &p->c.faults)));
    free(shim);
}

static void push_node_faults(struct procs *p, int idx)
{
    if (room_kernel(p->room)) { /* a new peer endpoint changes the hosts' rules */
        push_all_faults(p);
        return;
    }
    ctl_send(p, idx, json_pack("{s:s,s:o}", "type", "faults", "rules", faults_to_json(&p->c.faults)));
}

static void push_node_clock(struct procs *p, int idx)
{
    ctl_send(p, idx, json_pack("{s:s,s:I,s:I,s:I,s:I,s:b,s:I,s:I}", "type", "clock", "skew_us",
                               (json_int_t)p->c.skew_us[idx], "strobe_us", (json_int_t)p->c.strobe_us[idx],
                               "period_us", (json_int_t)p->c.strobe_period_us[idx], "drift_ppm",
                               (json_int_t)p->c.drift_ppm[idx], "ntp", p->c.ntp, "ntp_poll_us",
                               (json_int_t)p->c.ntp_poll_us, "ntp_err_us", (json_int_t)p->c.ntp_err_us));
}

static void on_register(struct procs *p, int idx, const json_t *b)
{
    struct pnode *nd = &p->nodes[idx];
    const char *ep = json_string_value(json_object_get(b, "endpoint"));
    const char *pep = json_string_value(json_object_get(b, "peer_endpoint"));
    if (!ep || !pep)
        return;
    int changed = strcmp(nd->endpoint, ep) != 0 || strcmp(nd->peer_endpoint, pep) != 0;
    str_copy(nd->endpoint, ep, sizeof nd->endpoint);
    str_copy(nd->peer_endpoint, pep, sizeof nd->peer_endpoint);
    if (!nd->port_bind[0])
        str_copy(nd->port_bind, ep, sizeof nd->port_bind);
    if (!nd->peer_bind[0])
        str_copy(nd->peer_bind, pep, sizeof nd->peer_bind);
    nd->inc = (uint64_t)json_integer_value(json_object_get(b, "inc"));
    nd->registered = 1;
    if (p->c.state[idx] == NODE_STARTING)
        p->c.state[idx] = NODE_UP;
    if (nd->host < 0 && (!nd->gw || changed)) {
        if (nd->gw)
            zmq_close(nd->gw);
        /* no routing id of our own: one that anyone could hold first would lock us out */
        nd->gw = zmq_socket(p->zctx, ZMQ_DEALER);
        int zero = 0;
        zmq_setsockopt(nd->gw, ZMQ_LINGER, &zero, sizeof zero);
        zmq_connect(nd->gw, ep);
    }
    ctl_send(p, idx, json_pack("{s:s}", "type", "welcome"));
    push_node_faults(p, idx);
    if (p->c.skew_us[idx] || p->c.strobe_us[idx] || p->c.drift_ppm[idx] || p->c.ntp)
        push_node_clock(p, idx);
    /* the newcomer learns everyone; everyone learns the newcomer (if its endpoint moved) */
    int all_up = 1;
    for (int i = 0; i < p->c.n; i++)
        all_up &= p->nodes[i].registered || p->c.state[i] == NODE_DOWN;
    if (all_up)
        send_peers(p, changed ? -1 : idx);
}

static void on_power_off(struct procs *p, int idx, const json_t *b);
static void kill_node(struct procs *p, int idx);

/* One control message from node rid (NULL when the routing id was too long). from_host:
 * the agent that relayed it (-1: our own ROUTER), which must be the node's. */
static void handle_ctl(struct procs *p, const char *rid, const void *data, size_t len, int from_host)
{
    {
        struct envelope env;
        char err[256];
        int idx;
        if (!rid || envelope_decode(data, len, &env, err, sizeof err) < 0) {
            if (rid && parse_node_id(rid, p->c.n, &idx) == 0 && p->nodes[idx].host == from_host)
                lab_error(p, idx, "a control message", err); /* e.g. a status over the cap */
            return;
        }
        if (parse_node_id(rid, p->c.n, &idx) < 0 || strcmp(rid, env.src) || p->nodes[idx].host != from_host) {
            envelope_clear(&env);
            return;
        }
        const char *type = envelope_type(&env);
        if (!strcmp(type, "register")) {
            on_register(p, idx, env.body);
        } else if (!strcmp(type, "status_ok") || !strcmp(type, "command_ok") || !strcmp(type, "pong") ||
                   !strcmp(type, "data_ok")) {
            if ((uint64_t)json_integer_value(json_object_get(env.body, "req")) == p->pending_req) {
                json_decref(p->pending_reply);
                p->pending_reply = json_incref(env.body);
            } else if (!strcmp(type, "status_ok") && p->c.on_status) { /* a status_request */
                p->c.on_status(p->c.ud, idx, json_object_get(env.body, "status"));
            }
        } else if (!strcmp(type, "power_off")) {
            on_power_off(p, idx, env.body);
        } else if (!strcmp(type, "fatal")) {
            lab_event(p, idx, "fatal", json_pack("{s:O}", "text", json_object_get(env.body, "text")));
        }
        envelope_clear(&env);
    }
}

static void on_ctl(struct procs *p)
{
    for (int k = 0; k < 256; k++) {
        char rid[64];
        int rl = zmq_recv(p->ctl, rid, sizeof rid - 1, ZMQ_DONTWAIT);
        if (rl < 0)
            return;
        zmq_msg_t m;
        zmq_msg_init(&m);
        int more = 0;
        size_t ms = sizeof more;
        zmq_getsockopt(p->ctl, ZMQ_RCVMORE, &more, &ms);
        if (!more) {
            zmq_msg_close(&m);
            continue;
        }
        zmq_msg_recv(&m, p->ctl, 0);
        rid[rl < (int)sizeof rid - 1 ? rl : 0] = 0;
        handle_ctl(p, rl < (int)sizeof rid - 1 ? rid : NULL, zmq_msg_data(&m), zmq_msg_size(&m), -1);
        zmq_msg_close(&m);
    }
}

/* One event frame. remote: it came through an agent, stamped by another host's clock: the
 * lab stamps it with its own on arrival. */
static void handle_event(struct procs *p, const void *data, size_t len, int remote)
{
    json_error_t je;
    json_t *e = json_loadb(data, len, 0, &je);
    if (!json_is_object(e)) {
        json_decref(e);
        return;
    }
    if (remote) {
        json_object_set_new(e, "t", json_integer((json_int_t)cluster_now(&p->c)));
    } else {
        json_int_t t = json_integer_value(json_object_get(e, "t"));
        json_object_set_new(e, "t", json_integer(t > (json_int_t)p->c.t0_us ? t - (json_int_t)p->c.t0_us : 0));
    }
    if (p->c.on_event)
        p->c.on_event(p->c.ud, e);
    json_decref(e);
}

static void on_events(struct procs *p)
{
    for (int k = 0; k < 1024; k++) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, p->evpull, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m);
            return;
        }
        handle_event(p, zmq_msg_data(&m), zmq_msg_size(&m), 0);
        zmq_msg_close(&m);
    }
}

static void handle_reply(struct procs *p, int idx, const void *data, size_t len)
{
    struct envelope env;
    char err[256];
    if (envelope_decode(data, len, &env, err, sizeof err) < 0) {
        lab_error(p, idx, "a client reply", err);
        return;
    }
    if (p->c.on_reply)
        p->c.on_reply(p->c.ud, idx, env.dest, env.body);
    envelope_clear(&env);
}

static void on_gateway(struct procs *p, int idx)
{
    for (int k = 0; k < 256; k++) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, p->nodes[idx].gw, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m);
            return;
        }
        handle_reply(p, idx, zmq_msg_data(&m), zmq_msg_size(&m));
        zmq_msg_close(&m);
    }
}

/* ---- the classroom: what the hosts' agents relay (room.h) ---------------------------- */

static int room_node(struct procs *p, const char *id)
{
    int idx;
    return id && parse_node_id(id, p->c.n, &idx) == 0 && p->nodes[idx].host >= 0 ? idx : -1;
}

static void sink_ctl(void *ud, const char *rid, const void *data, size_t len)
{
    struct procs *p = ud;
    int idx = room_node(p, rid);
    if (idx >= 0)
        handle_ctl(p, rid, data, len, p->nodes[idx].host);
}

static void sink_event(void *ud, const void *data, size_t len)
{
    handle_event(ud, data, len, 1);
}

static void sink_reply(void *ud, const char *id, const void *data, size_t len)
{
    struct procs *p = ud;
    int idx = room_node(p, id);
    if (idx >= 0)
        handle_reply(p, idx, data, len);
}

static void sink_exited(void *ud, const char *id, int status, const char *words)
{
    struct procs *p = ud;
    int idx = room_node(p, id);
    if (idx < 0)
        return;
    struct pnode *nd = &p->nodes[idx];
    nd->running = 0;
    nd->registered = 0;
    str_copy(nd->words, words ? words : "", sizeof nd->words);
    if (p->c.state[idx] != NODE_DOWN) {
        p->c.state[idx] = NODE_DOWN;
        lab_event(p, idx, "exit", json_pack("{s:i}", "status", status));
    }
}

static void sink_lost(void *ud, int host)
{
    struct procs *p = ud;
    for (int i = 0; i < p->c.n; i++) {
        struct pnode *nd = &p->nodes[i];
        if (nd->host != host)
            continue;
        nd->running = 0;
        nd->registered = 0;
        str_copy(nd->words, "its host's agent is gone", sizeof nd->words);
        if (p->c.state[i] != NODE_DOWN) {
            p->c.state[i] = NODE_DOWN;
            lab_event(p, i, "exit", json_pack("{s:i,s:s}", "status", -1, "why", "host lost"));
        }
    }
}

static void reap(struct procs *p)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        for (int i = 0; i < p->c.n; i++) {
            if (p->nodes[i].pid != pid)
                continue;
            p->nodes[i].pid = 0;
            p->nodes[i].registered = 0;
            if (p->c.state[i] != NODE_DOWN) {
                p->c.state[i] = NODE_DOWN;
                lab_event(p, i, "exit", json_pack("{s:i}", "status", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status)));
            }
        }
    }
}

static int procs_pump(struct cluster *c, uint64_t timeout_us, int fd)
{
    struct procs *p = P(c);
    uint64_t end = mono_us() + timeout_us;
    for (;;) {
        zmq_pollitem_t items[5 + CL_MAXNODES];
        int map[5 + CL_MAXNODES];
        int n = 0;
        if (p->room) {
            int k = room_items(p->room, items);
            for (int i = 0; i < k; i++)
                map[n++] = -4;
        }
        items[n] = (zmq_pollitem_t){p->ctl, 0, ZMQ_POLLIN, 0}; map[n++] = -1;
        items[n] = (zmq_pollitem_t){p->evpull, 0, ZMQ_POLLIN, 0}; map[n++] = -2;
        for (int i = 0; i < c->n; i++)
            if (p->nodes[i].gw) {
                items[n] = (zmq_pollitem_t){p->nodes[i].gw, 0, ZMQ_POLLIN, 0};
                map[n++] = i;
            }
        int fdi = -1;
        if (fd >= 0) {
            fdi = n;
            items[n] = (zmq_pollitem_t){NULL, fd, ZMQ_POLLIN, 0};
            map[n++] = -3;
        }
        uint64_t now = mono_us();
        long ms = now >= end ? 0 : (long)((end - now + 999) / 1000);
        if (ms > 100)
            ms = 100; /* reap dead children at least ten times a second */
        int rc = zmq_poll(items, n, ms);
        reap(p);
        if (p->room)
            room_tick(p->room, mono_us());
        if (rc > 0) {
            int activity = 0, room_ready = 0;
            for (int i = 0; i < n; i++) {
                if (map[i] == -4) {
                    room_ready |= (items[i].revents & ZMQ_POLLIN) != 0;
                    continue;
                }
                if (!(items[i].revents & (ZMQ_POLLIN | ZMQ_POLLERR)) || i == fdi)
                    continue;
                if (map[i] == -1)
                    on_ctl(p);
                else if (map[i] == -2)
                    on_events(p);
                else if (map[i] >= 0)
                    on_gateway(p, map[i]);
                activity = 1;
            }
            if (room_ready) {
                room_dispatch(p->room);
                activity = 1;
            }
            if (fdi >= 0 && (items[fdi].revents & (ZMQ_POLLIN | ZMQ_POLLERR)))
                return 1; /* readable, or hung up (end of input): the caller reads and sees */
            if (activity)
                return 2;
        }
        if (mono_us() >= end)
            return 0;
        if (p->pending_reply)
            return 0;
    }
}

static int procs_client_send(struct cluster *c, int idx, const char *client, json_t *body)
{
    struct procs *p = P(c);
    if (idx < 0 || idx >= c->n || (p->nodes[idx].host < 0 && !p->nodes[idx].gw) || c->state[idx] == NODE_DOWN) {
        json_decref(body);
        return CL_ESTATE;
    }
    if (p->nodes[idx].host >= 0) {
        struct envelope renv = {0};
        str_copy(renv.src, client, CL_IDLEN);
        node_name(idx, renv.dest);
        renv.body = body;
        size_t rlen;
        char *rframe = envelope_encode(&renv, &rlen);
        int rrc = room_send(p->room, p->nodes[idx].host, "client", renv.dest, rframe, rlen);
        free(rframe);
        json_decref(body);
        return rrc < 0 ? CL_EIO : 0;
    }
    struct envelope env = {0};
    str_copy(env.src, client, CL_IDLEN);
    node_name(idx, env.dest);
    env.body = body;
    size_t len;
    char *frame = envelope_encode(&env, &len);
    int rc = zmq_send(p->nodes[idx].gw, frame, len, ZMQ_DONTWAIT);
    free(frame);
    json_decref(body);
    return rc < 0 ? CL_EIO : 0;
}

/* Signals a node and whatever program it hosts: the node leads its own process group. */
static void signal_node(pid_t pid, int sig)
{
    if (kill(-pid, sig) < 0)
        kill(pid, sig);
}

/* STONITH (env power_off): node idx asks the lab to power another node off. The lab kills it
 * as `crash` does, whatever the network's cuts (its path is not the network), shows a `fault`
 * event with what "stonith" and by (the node that asked), and answers power_off_ok once the
 * process is dead. A node already down is confirmed at once; itself or a name that is not a
 * node is refused. */
static void on_power_off(struct procs *p, int idx, const json_t *b)
{
    const char *target = json_string_value(json_object_get(b, "node"));
    char by[CL_IDLEN], text[160];
    int t = -1, ok = 0;
    node_name(idx, by);
    if (!target || parse_node_id(target, p->c.n, &t) < 0) {
        snprintf(text, sizeof text, "power off refused: %s is not a node of this cluster",
                 target ? target : "(no node named)");
    } else if (t == idx) {
        snprintf(text, sizeof text, "power off refused: %s asked to power itself off", by);
    } else if (p->c.state[t] == NODE_DOWN || !proc_alive(p, t)) {
        ok = 1;
        snprintf(text, sizeof text, "%s was already down", target);
    } else {
        kill_node(p, t);
        lab_event(p, t, "stonith", json_pack("{s:s}", "by", by));
        ok = 1;
        snprintf(text, sizeof text, "%s powered off (SIGKILL) for %s", target, by);
    }
    ctl_send(p, idx, json_pack("{s:s,s:s,s:b,s:s}", "type", "power_off_ok", "node", target ? target : "", "ok",
                               ok, "text", text));
}

static int procs_crash(struct cluster *c, int idx)
{
    struct procs *p = P(c);
    if (c->state[idx] == NODE_DOWN || !proc_alive(p, idx))
        return CL_ESTATE;
    kill_node(p, idx);
    lab_event(p, idx, "crash", NULL);
    return 0;
}

/* Kills node idx with SIGKILL (its agent does, on another host) and marks it down: `crash`
 * and STONITH. */
static void kill_node(struct procs *p, int idx)
{
    struct cluster *c = &p->c;
    if (p->nodes[idx].host >= 0) {
        char id[CL_IDLEN];
        node_name(idx, id);
        room_send(p->room, p->nodes[idx].host, "kill", id, "", 0); /* the agent kills and reaps it */
        p->nodes[idx].running = 0;
    } else {
        signal_node(p->nodes[idx].pid, SIGKILL);
        waitpid(p->nodes[idx].pid, NULL, 0);
    }
    p->nodes[idx].pid = 0;
    p->nodes[idx].registered = 0;
    c->state[idx] = NODE_DOWN;
}

static int wait_registered(struct procs *p, int idx, uint64_t timeout_us)
{
    uint64_t end = mono_us() + timeout_us;
    while (mono_us() < end) {
        if (p->nodes[idx].registered)
            return 0;
        if (!proc_alive(p, idx))
            return CL_EIO;
        procs_pump(&p->c, 20000, -1);
    }
    return p->nodes[idx].registered ? 0 : CL_ETIMEOUT;
}

static int procs_restart(struct cluster *c, int idx)
{
    struct procs *p = P(c);
    c->error[0] = 0;
    if (c->state[idx] != NODE_DOWN)
        return CL_ESTATE;
    if (spawn_node(p, idx, c->error, sizeof c->error) < 0)
        return CL_EIO;
    lab_event(p, idx, "restart", NULL);
    int rc = wait_registered(p, idx, REGISTER_US);
    if (rc == 0) {
        send_peers(p, -1);
    } else if (rc == CL_EIO) { /* it exited: say why in its own words */
        last_words(p, idx, c->error, sizeof c->error);
        if (!c->error[0])
            str_copy(c->error, "it exited without a word", sizeof c->error);
    } else {
        str_copy(c->error, "it did not register within " REGISTER_S, sizeof c->error);
    }
    return rc;
}

static int procs_pause(struct cluster *c, int idx)
{
    struct procs *p = P(c);
    if (c->state[idx] != NODE_UP)
        return CL_ESTATE;
    if (p->nodes[idx].host >= 0) {
        char id[CL_IDLEN];
        node_name(idx, id);
        room_send(p->room, p->nodes[idx].host, "signal", id, "STOP", 4);
    } else {
        signal_node(p->nodes[idx].pid, SIGSTOP);
    }
    c->state[idx] = NODE_PAUSED;
    lab_event(p, idx, "pause", NULL);
    return 0;
}

static int procs_resume(struct cluster *c, int idx)
{
    struct procs *p = P(c);
    if (c->state[idx] != NODE_PAUSED)
        return CL_ESTATE;
    if (p->nodes[idx].host >= 0) {
        char id[CL_IDLEN];
        node_name(idx, id);
        room_send(p->room, p->nodes[idx].host, "signal", id, "CONT", 4);
    } else {
        signal_node(p->nodes[idx].pid, SIGCONT);
    }
    c->state[idx] = NODE_UP;
    lab_event(p, idx, "resume", NULL);
    return 0;
}

static void procs_push_faults(struct cluster *c)
{
    push_all_faults(P(c));
}

static void procs_push_clock(struct cluster *c, int idx)
{
    if (P(c)->nodes[idx].registered)
        push_node_clock(P(c), idx);
}

static void procs_push_speed(struct cluster *c)
{
    for (int i = 0; i < c->n; i++)
        if (P(c)->nodes[i].registered)
            ctl_send(P(c), i, json_pack("{s:s,s:f}", "type", "speed", "factor", c->speed));
}

static json_t *request(struct procs *p, int idx, json_t *body, const char *field)
{
    if (!p->nodes[idx].registered || p->c.state[idx] != NODE_UP) {
        json_decref(body);
        return NULL;
    }
    p->pending_req = ++p->req_seq;
    json_object_set_new(body, "req", json_integer((json_int_t)p->pending_req));
    json_decref(p->pending_reply);
    p->pending_reply = NULL;
    if (ctl_send(p, idx, body) < 0)
        return NULL;
    uint64_t end = mono_us() + 3000000; /* a loaded machine: be patient before saying nothing came */
    while (!p->pending_reply && mono_us() < end)
        procs_pump(&p->c, end - mono_us(), -1);
    json_t *r = NULL;
    if (p->pending_reply)
        r = json_incref(field ? json_object_get(p->pending_reply, field) : p->pending_reply);
    json_decref(p->pending_reply);
    p->pending_reply = NULL;
    p->pending_req = 0;
    return r;
}

static json_t *procs_status(struct cluster *c, int idx)
{
    return request(P(c), idx, json_pack("{s:s,s:b}", "type", "status", "brief", 1), "status");
}

static json_t *procs_data(struct cluster *c, int idx, const char *after, const char *key, int *more)
{
    *more = 0;
    json_t *body = json_pack("{s:s}", "type", "data");
    if (after)
        json_object_set_new(body, "after", json_string(after));
    if (key)
        json_object_set_new(body, "key", json_string(key));
    json_t *reply = request(P(c), idx, body, NULL);
    if (!reply)
        return NULL;
    *more = json_is_true(json_object_get(reply, "more"));
    json_t *page = json_incref(json_object_get(reply, "data"));
    json_decref(reply);
    return json_is_object(page) ? page : (json_decref(page), NULL);
}

static int procs_status_request(struct cluster *c, int idx)
{
    struct procs *p = P(c);
    if (!p->nodes[idx].registered || c->state[idx] != NODE_UP)
        return CL_ESTATE;
    return ctl_send(p, idx, json_pack("{s:s,s:I,s:b}", "type", "status", "req", (json_int_t)++p->req_seq, "brief", 1));
}

static json_t *procs_command(struct cluster *c, int idx, const char *name, int argc, char **argv)
{
    json_t *args = json_array();
    for (int i = 0; i < argc; i++)
        json_array_append_new(args, json_string(argv[i]));
    json_t *r = request(P(c), idx, json_pack("{s:s,s:s,s:o}", "type", "command", "name", name, "args", args), "reply");
    if (!r)
        r = json_pack("{s:b,s:s}", "ok", 0, "text", "the node did not answer");
    return r;
}

/* Waits until every running node has handled what the lab sent it before (control messages
 * are handled in order: a pong proves the earlier ones were). */
static void control_barrier(struct procs *p)
{
    for (int i = 0; i < p->c.n; i++) {
        json_t *r = request(p, i, json_pack("{s:s}", "type", "ping"), "type");
        json_decref(r);
    }
}

static const char *procs_endpoint(struct cluster *c, int idx)
{
    return P(c)->nodes[idx].endpoint;
}

static const char *procs_peer_endpoint(struct cluster *c, int idx)
{
    return P(c)->nodes[idx].peer_endpoint;
}

static int procs_add_node(struct cluster *c, char *err, size_t errlen)
{
    struct procs *p = P(c);
    if (c->n >= mode_max_nodes(c->mode)) {
        snprintf(err, errlen, "a cluster has at most %d nodes", mode_max_nodes(c->mode));
        return CL_ENOSPACE;
    }
    if (p->room) {
        snprintf(err, errlen, "a classroom's nodes are the cluster file's: no node can be added");
        return CL_ESTATE;
    }
    int idx = c->n++;
    c->faults.n = c->n;
    memset(&p->nodes[idx], 0, sizeof p->nodes[idx]);
    p->nodes[idx].host = -1;
    if (p->auth) {
        /* the others learn the newcomer's key before it can knock: a refused CURVE handshake
         * is never retried */
        zmq_curve_keypair(p->nodes[idx].pub, p->nodes[idx].sec);
        send_peers(p, -1);
        control_barrier(p);
    }
    if (spawn_node(p, idx, err, errlen) < 0) {
        c->n--;
        return CL_EIO;
    }
    int rc = wait_registered(p, idx, REGISTER_US);
    if (rc < 0) {
        char words[400];
        last_words(p, idx, words, sizeof words);
        snprintf(err, errlen, "n%d did not register%s%s", idx + 1, words[0] ? ": " : "", words);
        return rc == CL_EIO ? CL_EIO : CL_ETIMEOUT;
    }
    send_peers(p, -1);
    return idx;
}

/* An attacker's DEALER: it connects, sends one frame and is closed at once; libzmq keeps it a
 * second (its linger) to deliver the frame, or drops it when the handshake is refused. */
static int procs_spoof(struct cluster *c, int idx, const char *as, int key_of, json_t *body, char *err,
                       size_t errlen)
{
    struct procs *p = P(c);
    struct pnode *nd = &p->nodes[idx];
    if (c->state[idx] != NODE_UP || !nd->peer_endpoint[0]) {
        json_decref(body);
        snprintf(err, errlen, "n%d is not up", idx + 1);
        return CL_ESTATE;
    }
    void *s = zmq_socket(p->zctx, ZMQ_DEALER);
    int linger = 1000;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    if (p->auth) {
        char pub[41], sec[41];
        if (key_of >= 0) {
            str_copy(pub, p->nodes[key_of].pub, sizeof pub);
            str_copy(sec, p->nodes[key_of].sec, sizeof sec);
        } else {
            zmq_curve_keypair(pub, sec);
        }
        zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, nd->pub, 40);
        zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, pub, 40);
        zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, sec, 40);
        explicit_bzero(sec, sizeof sec);
    } else {
        zmq_setsockopt(s, ZMQ_ROUTING_ID, as, strlen(as));
    }
    if (zmq_connect(s, nd->peer_endpoint) < 0) {
        snprintf(err, errlen, "cannot connect to n%d's peer socket %s: %s", idx + 1, nd->peer_endpoint,
                 zmq_strerror(zmq_errno()));
        zmq_close(s);
        json_decref(body);
        return CL_EIO;
    }
    struct envelope env = {0};
    str_copy(env.src, as, CL_IDLEN);
    node_name(idx, env.dest);
    env.body = body;
    env.inc = 1;
    size_t len;
    char *frame = envelope_encode(&env, &len);
    int rc = zmq_send(s, frame, len, ZMQ_DONTWAIT);
    free(frame);
    json_decref(body);
    zmq_close(s);
    if (rc < 0) {
        snprintf(err, errlen, "the frame did not leave: %s", zmq_strerror(zmq_errno()));
        return CL_EIO;
    }
    return 0;
}

static void procs_destroy(struct cluster *c)
{
    struct procs *p = P(c);
    for (int i = 0; i < c->n; i++) {
        if (p->nodes[i].host >= 0) {
            char id[CL_IDLEN];
            node_name(i, id);
            if (p->nodes[i].running) /* its agent kills it and forgets it */
                room_send(p->room, p->nodes[i].host, "kill", id, "", 0);
            p->nodes[i].running = 0;
            continue;
        }
        if (p->nodes[i].pid && c->state[i] == NODE_PAUSED)
            signal_node(p->nodes[i].pid, SIGCONT);
        if (p->nodes[i].registered)
            ctl_send(p, i, json_pack("{s:s}", "type", "shutdown"));
    }
    if (p->room) {
        room_set_sink(p->room, NULL);
        for (int h = 0; h < room_nhosts(p->room); h++)
            room_send_rules(p->room, h, NULL);
    }
    uint64_t end = mono_us() + 1000000;
    for (;;) {
        int alive = 0;
        for (int i = 0; i < c->n; i++)
            if (p->nodes[i].pid) {
                if (waitpid(p->nodes[i].pid, NULL, WNOHANG) == p->nodes[i].pid)
                    p->nodes[i].pid = 0;
                else
                    alive++;
            }
        if (!alive)
            break;
        if (mono_us() > end) {
            for (int i = 0; i < c->n; i++)
                if (p->nodes[i].pid) {
                    kill(p->nodes[i].pid, SIGKILL);
                    waitpid(p->nodes[i].pid, NULL, 0);
                    p->nodes[i].pid = 0;
                }
            break;
        }
        usleep(5000);
    }
    for (int i = 0; i < c->n; i++)
        if (p->nodes[i].gw)
            zmq_close(p->nodes[i].gw);
    zmq_close(p->ctl);
    zmq_close(p->evpull);
    zmq_ctx_term(p->zctx);
    json_decref(p->pending_reply);
    opts_free(&c->opts);
    free(p);
}

static const char *procs_events_endpoint(struct cluster *c)
{
    return P(c)->ev_ep;
}

static const struct cluster_ops procs_ops = {
    .client_send = procs_client_send,
    .pump = procs_pump,
    .crash = procs_crash,
    .restart = procs_restart,
    .pause = procs_pause,
    .resume = procs_resume,
    .push_faults = procs_push_faults,
    .push_clock = procs_push_clock,
    .push_speed = procs_push_speed,
    .status = procs_status,
    .status_request = procs_status_request,
    .command = procs_command,
    .endpoint = procs_endpoint,
    .add_node = procs_add_node,
    .spoof = procs_spoof,
    .destroy = procs_destroy,
    .data = procs_data,
    .peer_endpoint = procs_peer_endpoint,
    .events_endpoint = procs_events_endpoint,
};

struct cluster *procs_start(const struct cluster_config *cfg, char *err, size_t errlen)
{
    static int generation;
    struct procs *p = xcalloc(1, sizeof *p);
    struct cluster *c = &p->c;
    c->ops = &procs_ops;
    c->mode = cfg->mode;
    c->n = cfg->n;
    opts_copy(&c->opts, cfg->opts);
    c->speed = cfg->speed;
    c->seed = cfg->seed;
    c->on_event = cfg->on_event;
    c->on_reply = cfg->on_reply;
    c->ud = cfg->ud;
    c->t0_us = mono_us();
    faults_init(&c->faults, c->n);
    p->generation = ++generation;
    p->auth = strcmp(opts_get(&c->opts, "auth", "curve"), "off") != 0;
    if (p->auth && !zmq_has("curve")) {
        snprintf(err, errlen, "this libzmq has no CURVE support, which peer authentication needs: "
                 "install a libzmq built with libsodium, or start with auth=off (then any local "
                 "program can pose as a node)");
        opts_free(&c->opts);
        free(p);
        return NULL;
    }
    for (int i = 0; i < CL_MAXNODES; i++)
        p->nodes[i].host = -1;
    p->room = cfg->room;
    if (p->room) {
        if (c->n != room_nodes(p->room)) {
            snprintf(err, errlen, "the cluster file holds %d nodes, not %d: start MODE (without a count)",
                     room_nodes(p->room), c->n);
            opts_free(&c->opts);
            free(p);
            return NULL;
        }
        if (!p->auth && !getenv("CONLAB_PLAINTEXT_PEERS")) {
            snprintf(err, errlen, "a classroom's nodes talk across hosts: auth=off would let anyone on the "
                     "network pose as a node (CONLAB_PLAINTEXT_PEERS=1 allows it, for measuring CURVE's cost)");
            opts_free(&c->opts);
            free(p);
            return NULL;
        }
        if (room_wait_hosts(p->room, 30000000, err, errlen) < 0) {
            opts_free(&c->opts);
            free(p);
            return NULL;
        }
        for (int i = 0; i < c->n; i++)
            p->nodes[i].host = room_host_of(p->room, i);
        snprintf(p->run, sizeof p->run, "%s-%d", strrchr(cfg->run_dir, '/') ? strrchr(cfg->run_dir, '/') + 1 : "lab",
                 p->generation);
        struct room_sink sink = {p, sink_ctl, sink_event, sink_reply, sink_exited, sink_lost};
        room_set_sink(p->room, &sink);
    }
    for (int i = 0; i < c->n && p->auth; i++)
        zmq_curve_keypair(p->nodes[i].pub, p->nodes[i].sec);
    str_copy(p->node_bin, cfg->node_bin, sizeof p->node_bin);
    str_copy(p->run_dir, cfg->run_dir, sizeof p->run_dir);
    snprintf(p->data_dir, sizeof p->data_dir, "%s/cluster%d", cfg->run_dir, p->generation);
    if (mkdir(p->data_dir, 0700) < 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create %s: %s", p->data_dir, strerror(errno));
        opts_free(&c->opts);
        free(p);
        return NULL;
    }
    snprintf(p->ctl_ep, sizeof p->ctl_ep, "ipc://%s/ctl.sock", p->data_dir);
    snprintf(p->ev_ep, sizeof p->ev_ep, "ipc://%s/events.sock", p->data_dir);
    p->zctx = zmq_ctx_new();
    p->ctl = zmq_socket(p->zctx, ZMQ_ROUTER);
    p->evpull = zmq_socket(p->zctx, ZMQ_PULL);
    int zero = 0, hwm = 100000;
    zmq_setsockopt(p->ctl, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(p->evpull, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(p->evpull, ZMQ_RCVHWM, &hwm, sizeof hwm);
    if (zmq_bind(p->ctl, p->ctl_ep) < 0 || zmq_bind(p->evpull, p->ev_ep) < 0) {
        snprintf(err, errlen, "cannot bind the lab's sockets in %s: %s", p->data_dir, zmq_strerror(zmq_errno()));
        c->n = 0;
        procs_destroy(c);
        return NULL;
    }
    for (int i = 0; i < c->n; i++) {
        if (spawn_node(p, i, err, errlen) < 0) {
            procs_destroy(c);
            return NULL;
        }
    }
    uint64_t end = mono_us() + REGISTER_US;
    for (;;) {
        int done = 1;
        for (int i = 0; i < c->n; i++) {
            if (!proc_alive(p, i) && !p->nodes[i].registered) {
                char words[400];
                last_words(p, i, words, sizeof words);
                snprintf(err, errlen, "n%d exited during start%s%s", i + 1, words[0] ? ": " : "", words);
                procs_destroy(c);
                return NULL;
            }
            done &= p->nodes[i].registered;
        }
        if (done)
            break;
        if (mono_us() > end) {
            snprintf(err, errlen, "the nodes did not all register within " REGISTER_S);
            procs_destroy(c);
            return NULL;
        }
        procs_pump(c, 20000, -1);
    }
    send_peers(p, -1);
    return c;
}
