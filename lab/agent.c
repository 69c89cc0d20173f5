/* agent — see agent.h. One flat loop: poll the link to the lab, the nodes' control ROUTER
 * and event PULL (ipc, in the agent's own run directory), each node's client DEALER and a
 * signal self-pipe; reap children; heartbeats and the lab's silence. */
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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
#include "keys.h"
#include "nftfaults.h"
#include "rundir.h"
#include "util.h"

extern char **environ;

struct anode {
    char id[CL_IDLEN];
    pid_t pid;
    void *gw;                   /* DEALER to its loopback client socket */
    char endpoint[256];
    char log[PATH_MAX];
    long log_from;
};

struct agent {
    void *ctx, *link, *mon, *ctl, *evpull;
    char ctl_ep[PATH_MAX + 8], ev_ep[PATH_MAX + 8];
    char run_dir[PATH_MAX];
    int run_lock;
    char node_bin[PATH_MAX];
    char host[CL_IDLEN], addr[64], want_host[CL_IDLEN], want_addr[64];
    struct anode nodes[CL_MAXN];
    int welcomed, again, quiet;
    uint64_t heard_us, sent_us, hello_us, timeout_us, hb_us;
    struct nft *nft;
    char nft_why[300], netem_why[200];
    int quit, rc;
};

static int sig_pipe[2] = {-1, -1};

static void on_signal(int sig)
{
    int saved = errno;
    unsigned char b = (unsigned char)sig;
    ssize_t w = write(sig_pipe[1], &b, 1);
    (void)w;
    errno = saved;
}

static void say(struct agent *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct agent *a, const char *fmt, ...)
{
    if (a->quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "conlab join: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static void link_send(struct agent *a, const char *type, const char *id, const void *data, size_t len)
{
    zmq_send(a->link, type, strlen(type), ZMQ_SNDMORE | ZMQ_DONTWAIT);
    zmq_send(a->link, id, strlen(id), ZMQ_SNDMORE | ZMQ_DONTWAIT);
    zmq_send(a->link, data, len, ZMQ_DONTWAIT);
    a->sent_us = mono_us();
}

static struct anode *node_find(struct agent *a, const char *id)
{
    for (int i = 0; i < CL_MAXN; i++)
        if (a->nodes[i].id[0] && !strcmp(a->nodes[i].id, id))
            return &a->nodes[i];
    return NULL;
}

static struct anode *node_slot(struct agent *a, const char *id)
{
    struct anode *n = node_find(a, id);
    for (int i = 0; i < CL_MAXN && !n; i++)
        if (!a->nodes[i].id[0]) {
            n = &a->nodes[i];
            memset(n, 0, sizeof *n);
            str_copy(n->id, id, sizeof n->id);
        }
    return n;
}

static void kill_node(struct anode *n)
{
    if (n->pid > 0) {
        if (kill(-n->pid, SIGKILL) < 0)
            kill(n->pid, SIGKILL);
        waitpid(n->pid, NULL, 0);
    }
    n->pid = 0;
}

static void drop_gw(struct anode *n)
{
    if (n->gw)
        zmq_close(n->gw);
    n->gw = NULL;
    n->endpoint[0] = 0;
}

/* Every node goes (the lab is gone, or said bye): SIGKILL, as a crash. */
static int kill_all(struct agent *a)
{
    int k = 0;
    for (int i = 0; i < CL_MAXN; i++) {
        struct anode *n = &a->nodes[i];
        if (!n->id[0])
            continue;
        if (n->pid > 0)
            k++;
        kill_node(n);
        drop_gw(n);
        n->id[0] = 0;
    }
    nft_clear(a->nft);
    return k;
}

static void last_words(const struct anode *n, char *out, size_t len)
{
    out[0] = 0;
    FILE *f = fopen(n->log, "r");
    if (!f)
        return;
    if (fseek(f, n->log_from, SEEK_SET) == 0) {
        size_t got = fread(out, 1, len - 1, f);
        out[got] = 0;
        for (size_t i = 0; i < got; i++)
            if (out[i] == '\n')
                out[i] = i + 1 < got ? ';' : 0;
    }
    fclose(f);
}

static int valid_token(const char *s, size_t max)
{
    if (!s || !*s || strlen(s) > max)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '-' ||
              *s == '_'))
            return 0;
    return 1;
}

/* spawn: {run, mode, nodes, opts{}, keys{}, secret, bind, peer_bind} */
static void do_spawn(struct agent *a, const char *id, const char *data, size_t len)
{
    json_t *b = json_loadb(data, len, 0, NULL);
    const char *run = json_string_value(json_object_get(b, "run"));
    const char *mode = json_string_value(json_object_get(b, "mode"));
    const char *secret = json_string_value(json_object_get(b, "secret"));
    const char *bind = json_string_value(json_object_get(b, "bind"));
    const char *pbind = json_string_value(json_object_get(b, "peer_bind"));
    int idx;
    char why[600] = "";
    if (!json_is_object(b) || !valid_token(run, 60) || !valid_token(mode, 30) || parse_node_id(id, CL_MAXNODES, &idx) < 0)
        snprintf(why, sizeof why, "a spawn request without a run, a mode or a node id");
    struct anode *n = why[0] ? NULL : node_slot(a, id);
    if (!why[0] && !n)
        snprintf(why, sizeof why, "no room for another node");
    if (!why[0] && n->pid > 0)
        snprintf(why, sizeof why, "%s is running already", id);
    char dir[PATH_MAX], rdir[PATH_MAX];
    snprintf(rdir, sizeof rdir, "%s/%s", a->run_dir, run ? run : "x");
    snprintf(dir, sizeof dir, "%s/%s", rdir, id);
    if (!why[0] && mkdir(rdir, 0700) < 0 && errno != EEXIST)
        snprintf(why, sizeof why, "cannot create %s: %s", rdir, strerror(errno));
    if (why[0]) {
        json_t *x = json_pack("{s:i,s:s}", "status", 127, "words", why);
        char *s = json_dumps(x, JSON_COMPACT);
        link_send(a, "exited", id, s, strlen(s));
        free(s);
        json_decref(x);
        json_decref(b);
        return;
    }
    char pb[128], nodes[16], labpid[32];
    snprintf(pb, sizeof pb, "tcp://%s:*", a->addr);
    snprintf(nodes, sizeof nodes, "%lld", (long long)json_integer_value(json_object_get(b, "nodes")));
    snprintf(labpid, sizeof labpid, "%d", (int)getpid());
    snprintf(n->log, sizeof n->log, "%s/%s.log", rdir, id);
    char *argv[200];
    char *kv[200];
    int ac = 0, nkv = 0;
    argv[ac++] = a->node_bin;
    argv[ac++] = (char *)"--id"; argv[ac++] = (char *)id;
    argv[ac++] = (char *)"--mode"; argv[ac++] = (char *)mode;
    argv[ac++] = (char *)"--dir"; argv[ac++] = dir;
    argv[ac++] = (char *)"--bind"; argv[ac++] = bind && !strncmp(bind, "tcp://127.0.0.1:", 16) ? (char *)bind : (char *)"tcp://127.0.0.1:*";
    argv[ac++] = (char *)"--peer-bind"; argv[ac++] = pbind && *pbind ? (char *)pbind : pb;
    argv[ac++] = (char *)"--ctl"; argv[ac++] = a->ctl_ep;
    argv[ac++] = (char *)"--events"; argv[ac++] = a->ev_ep;
    argv[ac++] = (char *)"--nodes"; argv[ac++] = nodes;
    argv[ac++] = (char *)"--lab-pid"; argv[ac++] = labpid;
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(b, "keys"), k, v) {
        if (ac > 180 || !json_is_string(v))
            break;
        kv[nkv] = xasprintf("%s=%s", k, json_string_value(v));
        argv[ac++] = (char *)"--peer-key";
        argv[ac++] = kv[nkv++];
    }
    json_object_foreach(json_object_get(b, "opts"), k, v) {
        if (ac > 195 || !json_is_string(v))
            break;
        kv[nkv] = xasprintf("%s=%s", k, json_string_value(v));
        argv[ac++] = (char *)"--opt";
        argv[ac++] = kv[nkv++];
    }
    argv[ac] = NULL;
    size_t ne = 0;
    while (environ[ne])
        ne++;
    char **envp = xcalloc(ne + 2, sizeof *envp);
    size_t ke = 0;
    for (size_t i = 0; i < ne; i++)
        if (strncmp(environ[i], "CONLAB_NODE_SECRET=", 19))
            envp[ke++] = environ[i];
    char *secenv = secret ? xasprintf("CONLAB_NODE_SECRET=%s", secret) : NULL;
    envp[ke] = secenv;
    struct stat lst;
    n->log_from = stat(n->log, &lst) == 0 ? (long)lst.st_size : 0;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, n->log, O_WRONLY | O_CREAT | O_APPEND, 0600);
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
    int rc = posix_spawn(&n->pid, a->node_bin, &fa, &at, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    free(secenv);
    free(envp);
    for (int i = 0; i < nkv; i++)
        free(kv[i]);
    json_decref(b);
    if (rc != 0) {
        n->pid = 0;
        char *w = xasprintf("cannot start %s (%s): %s", id, a->node_bin, strerror(rc));
        json_t *x = json_pack("{s:i,s:s}", "status", 127, "words", w);
        char *s = json_dumps(x, JSON_COMPACT);
        link_send(a, "exited", id, s, strlen(s));
        free(s);
        free(w);
        json_decref(x);
    }
}

static void on_welcome(struct agent *a, const char *data, size_t len)
{
    json_t *w = json_loadb(data, len, 0, NULL);
    const char *host = json_string_value(json_object_get(w, "host"));
    const char *addr = json_string_value(json_object_get(w, "addr"));
    str_copy(a->host, host ? host : "?", sizeof a->host);
    if (a->want_addr[0])
        str_copy(a->addr, a->want_addr, sizeof a->addr);
    else if (addr && *addr && strlen(addr) < sizeof a->addr && !strchr(addr, ' '))
        str_copy(a->addr, addr, sizeof a->addr);
    else
        str_copy(a->addr, "127.0.0.1", sizeof a->addr);
    json_int_t hb = json_integer_value(json_object_get(w, "heartbeat_ms"));
    json_int_t to = json_integer_value(json_object_get(w, "timeout_ms"));
    a->hb_us = hb >= 50 && hb <= 10000 ? (uint64_t)hb * 1000 : 500000;
    a->timeout_us = to >= 200 && to <= 600000 ? (uint64_t)to * 1000 : 3000000;
    a->welcomed = 1;
    json_int_t first = json_integer_value(json_object_get(w, "first"));
    json_int_t nn = json_integer_value(json_object_get(w, "nodes"));
    say(a, "joined as host %s (nodes n%lld..n%lld; peers on %s; timeout %.1f s)", a->host, (long long)first + 1,
        (long long)(first + nn), a->addr, (double)a->timeout_us / 1e6);
    json_decref(w);
}

static void lab_gone(struct agent *a, const char *why)
{
    int k = kill_all(a);
    say(a, "%s: killed %d node%s", why, k, k == 1 ? "" : "s");
    a->welcomed = 0;
    a->hello_us = 0;
    if (!a->again) { /* its lab is gone: so is the agent, unless told to wait for the next */
        a->quit = 1;
        a->rc = 0;
    }
}

static void on_link(struct agent *a)
{
    for (int k = 0; k < 1024; k++) {
        zmq_msg_t f[3];
        int nf = 0, more = 1;
        while (more) {
            zmq_msg_t m;
            zmq_msg_init(&m);
            if (zmq_msg_recv(&m, a->link, nf ? 0 : ZMQ_DONTWAIT) < 0) {
                zmq_msg_close(&m);
                break;
            }
            more = zmq_msg_more(&m);
            if (nf < 3)
                f[nf++] = m;
            else
                zmq_msg_close(&m);
        }
        if (nf == 0)
            return;
        if (nf == 3 && zmq_msg_size(&f[0]) < 16 && zmq_msg_size(&f[1]) < CL_IDLEN) {
            char type[16], id[CL_IDLEN];
            memcpy(type, zmq_msg_data(&f[0]), zmq_msg_size(&f[0]));
            type[zmq_msg_size(&f[0])] = 0;
            memcpy(id, zmq_msg_data(&f[1]), zmq_msg_size(&f[1]));
            id[zmq_msg_size(&f[1])] = 0;
            const char *data = zmq_msg_data(&f[2]);
            size_t len = zmq_msg_size(&f[2]);
            a->heard_us = mono_us();
            struct anode *n = id[0] ? node_find(a, id) : NULL;
            if (!strcmp(type, "welcome")) {
                on_welcome(a, data, len);
            } else if (!strcmp(type, "refused")) {
                say(a, "the lab refused this agent: %.*s", (int)(len > 300 ? 300 : len), data);
                a->quit = 1;
                a->rc = 3;
            } else if (!strcmp(type, "rejoin")) {
                if (a->welcomed)
                    lab_gone(a, "the lab no longer knows this host");
            } else if (!a->welcomed) {
                /* nothing else before a welcome */
            } else if (!strcmp(type, "bye")) {
                lab_gone(a, "the lab said bye");
            } else if (!strcmp(type, "spawn")) {
                do_spawn(a, id, data, len);
            } else if (!strcmp(type, "kill") && n) {
                kill_node(n);
                drop_gw(n);
            } else if (!strcmp(type, "signal") && n && n->pid > 0) {
                int sig = len == 4 && !memcmp(data, "STOP", 4) ? SIGSTOP : len == 4 && !memcmp(data, "CONT", 4) ? SIGCONT : 0;
                if (sig && kill(-n->pid, sig) < 0)
                    kill(n->pid, sig);
            } else if (!strcmp(type, "ctl") && n) {
                zmq_send(a->ctl, id, strlen(id), ZMQ_SNDMORE | ZMQ_DONTWAIT);
                zmq_send(a->ctl, data, len, ZMQ_DONTWAIT);
            } else if (!strcmp(type, "client") && n && n->gw) {
                zmq_send(n->gw, data, len, ZMQ_DONTWAIT);
            } else if (!strcmp(type, "nftstat")) {
                json_t *c = nft_counters(a->nft);
                char *s = json_dumps(c, JSON_COMPACT);
                link_send(a, "nftstat", "", s, strlen(s));
                free(s);
                json_decref(c);
            } else if (!strcmp(type, "nft")) {
                char err[512] = "";
                json_t *rules = json_loadb(data, len, 0, NULL);
                int rc = nft_apply(a->nft, rules, err, sizeof err);
                json_decref(rules);
                if (rc < 0)
                    link_send(a, "note", "", err, strlen(err));
            }
        }
        for (int i = 0; i < nf; i++)
            zmq_msg_close(&f[i]);
    }
}

static void on_ctl(struct agent *a)
{
    for (int k = 0; k < 256; k++) {
        char rid[64];
        int rl = zmq_recv(a->ctl, rid, sizeof rid - 1, ZMQ_DONTWAIT);
        if (rl < 0)
            return;
        zmq_msg_t m;
        zmq_msg_init(&m);
        int more = 0;
        size_t ms = sizeof more;
        zmq_getsockopt(a->ctl, ZMQ_RCVMORE, &more, &ms);
        if (!more || rl >= (int)sizeof rid - 1) {
            zmq_msg_close(&m);
            continue;
        }
        zmq_msg_recv(&m, a->ctl, 0);
        rid[rl] = 0;
        struct anode *n = node_find(a, rid);
        if (n) {
            /* a registration names its client endpoint: the agent is the lab's gateway to it */
            struct envelope env;
            char err[128];
            if (envelope_decode(zmq_msg_data(&m), zmq_msg_size(&m), &env, err, sizeof err) == 0) {
                const char *ep = json_string_value(json_object_get(env.body, "endpoint"));
                if (!strcmp(envelope_type(&env), "register") && ep && strcmp(ep, n->endpoint)) {
                    drop_gw(n);
                    n->gw = zmq_socket(a->ctx, ZMQ_DEALER);
                    int zero = 0;
                    zmq_setsockopt(n->gw, ZMQ_LINGER, &zero, sizeof zero);
                    zmq_connect(n->gw, ep);
                    str_copy(n->endpoint, ep, sizeof n->endpoint);
                }
                envelope_clear(&env);
            }
            if (a->welcomed)
                link_send(a, "ctl", rid, zmq_msg_data(&m), zmq_msg_size(&m));
        }
        zmq_msg_close(&m);
    }
}

static void on_events(struct agent *a)
{
    for (int k = 0; k < 1024; k++) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, a->evpull, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m);
            return;
        }
        if (a->welcomed)
            link_send(a, "ev", "", zmq_msg_data(&m), zmq_msg_size(&m));
        zmq_msg_close(&m);
    }
}

static void on_gw(struct agent *a, struct anode *n)
{
    for (int k = 0; k < 256; k++) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, n->gw, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m);
            return;
        }
        if (a->welcomed)
            link_send(a, "reply", n->id, zmq_msg_data(&m), zmq_msg_size(&m));
        zmq_msg_close(&m);
    }
}

static void reap(struct agent *a)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        for (int i = 0; i < CL_MAXN; i++) {
            struct anode *n = &a->nodes[i];
            if (n->pid != pid)
                continue;
            n->pid = 0;
            drop_gw(n);
            char words[400];
            last_words(n, words, sizeof words);
            json_t *x = json_pack("{s:i,s:s}", "status", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status),
                                  "words", words);
            char *s = json_dumps(x, JSON_COMPACT);
            if (a->welcomed)
                link_send(a, "exited", n->id, s, strlen(s));
            free(s);
            json_decref(x);
        }
    }
}

/* The link's monitor: a lab that refuses our key does so in the CURVE handshake. */
static void on_monitor(struct agent *a)
{
    for (int k = 0; k < 64; k++) {
        zmq_msg_t ev, addr;
        zmq_msg_init(&ev);
        if (zmq_msg_recv(&ev, a->mon, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&ev);
            return;
        }
        uint16_t e = 0;
        uint32_t val = 0;
        if (zmq_msg_size(&ev) >= 6) {
            memcpy(&e, zmq_msg_data(&ev), 2);
            memcpy(&val, (char *)zmq_msg_data(&ev) + 2, 4);
        }
        int more = zmq_msg_more(&ev);
        zmq_msg_close(&ev);
        if (more) {
            zmq_msg_init(&addr);
            zmq_msg_recv(&addr, a->mon, 0);
            zmq_msg_close(&addr);
        }
        if (e == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) {
            say(a, "the lab refused this agent's key (status %u): is its public key in the cluster file, "
                   "and is --server-key the lab's?", (unsigned)val);
            a->quit = 1;
            a->rc = 3;
        }
    }
}

static void usage(FILE *f)
{
    fputs("usage: conlab join HOST:PORT --server-key KEY [--key FILE] [--host NAME] [--addr IP]\n"
          "                   [--again] [--quiet]\n"
          "  Runs this host's nodes for the classroom lab at HOST:PORT (conlab serve): the lab\n"
          "  spawns, crashes, pauses and restarts them through this agent, which relays their\n"
          "  messages and events. --key is this host's key file (conlab keygen; its public key\n"
          "  is in the lab's cluster file); --server-key the lab's public key (its `endpoints`\n"
          "  command prints it). --addr: the address the nodes bind for their peers (default: the\n"
          "  one the lab sees). When the lab is silent for its timeout, or says bye, the agent\n"
          "  kills its nodes and exits; --again waits for the next lab instead. Exit: 0 the lab\n"
          "  went, 2 usage, 3 refused.\n",
          f);
}

int agent_main(int argc, char **argv, const char *argv0)
{
    /* nothing inherited stays open (a caller's lock would live as long as the agent and its
     * nodes) */
    for (int fd = 3; fd < 1024; fd++)
        close(fd);
    struct agent a = {0};
    const char *target = NULL, *keyfile = NULL, *server = getenv("CONLAB_SERVER_KEY");
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (!strcmp(s, "--help") || !strcmp(s, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(s, "--key") && i + 1 < argc) {
            keyfile = argv[++i];
        } else if (!strcmp(s, "--server-key") && i + 1 < argc) {
            server = argv[++i];
        } else if (!strcmp(s, "--host") && i + 1 < argc) {
            str_copy(a.want_host, argv[++i], sizeof a.want_host);
        } else if (!strcmp(s, "--addr") && i + 1 < argc) {
            str_copy(a.want_addr, argv[++i], sizeof a.want_addr);
        } else if (!strcmp(s, "--again")) {
            a.again = 1;
        } else if (!strcmp(s, "--quiet")) {
            a.quiet = 1;
        } else if (s[0] != '-' && !target) {
            target = s;
        } else {
            fprintf(stderr, "conlab join: unexpected argument '%s'\n", s);
            usage(stderr);
            return 2;
        }
    }
    if (!target || !strrchr(target, ':')) {
        fprintf(stderr, "conlab join: name the lab as HOST:PORT (what conlab serve --bind says)\n");
        return 2;
    }
    if (!server || !key_valid(server)) {
        fprintf(stderr, "conlab join: --server-key wants the lab's 40-character public key (its `endpoints` "
                        "command prints it)\n");
        return 2;
    }
    char pub[KEY_Z85], sec[KEY_Z85], err[600];
    if (keyfile) {
        if (key_read(keyfile, pub, sec, err, sizeof err) < 0) {
            fprintf(stderr, "conlab join: %s\n", err);
            return 2;
        }
    } else if (zmq_curve_keypair(pub, sec) < 0) {
        fprintf(stderr, "conlab join: this libzmq cannot make CURVE keys\n");
        return 2;
    }
    const char *nb = getenv("CONLAB_NODE");
    if (nb && *nb) {
        str_copy(a.node_bin, nb, sizeof a.node_bin);
    } else {
        char buf[PATH_MAX];
        ssize_t len = readlink("/proc/self/exe", buf, sizeof buf - 1);
        if (len > 0)
            buf[len] = 0;
        else
            str_copy(buf, argv0, sizeof buf);
        char *slash = strrchr(buf, '/');
        if (slash)
            *slash = 0;
        snprintf(a.node_bin, sizeof a.node_bin, "%s/conlab-node", slash ? buf : ".");
    }
    if (rundir_create(a.run_dir, sizeof a.run_dir, &a.run_lock, err, sizeof err) < 0) {
        fprintf(stderr, "conlab join: %s\n", err);
        return 1;
    }
    char nfterr[300];
    a.nft = nft_open(nfterr, sizeof nfterr);
    str_copy(a.nft_why, nfterr, sizeof a.nft_why);
    if (a.nft)
        nft_netem_probe(a.netem_why, sizeof a.netem_why);
    else
        str_copy(a.netem_why, "not probed (no nftables here either)", sizeof a.netem_why);
    snprintf(a.ctl_ep, sizeof a.ctl_ep, "ipc://%s/ctl.sock", a.run_dir);
    snprintf(a.ev_ep, sizeof a.ev_ep, "ipc://%s/events.sock", a.run_dir);
    a.ctx = zmq_ctx_new();
    a.ctl = zmq_socket(a.ctx, ZMQ_ROUTER);
    a.evpull = zmq_socket(a.ctx, ZMQ_PULL);
    a.link = zmq_socket(a.ctx, ZMQ_DEALER);
    int zero = 0, hwm = 100000, ivl = 200;
    int64_t maxmsg = 4 << 20;
    zmq_setsockopt(a.ctl, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(a.evpull, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(a.evpull, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt(a.link, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(a.link, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(a.link, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt(a.link, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
    zmq_setsockopt(a.link, ZMQ_RECONNECT_IVL, &ivl, sizeof ivl);
    zmq_setsockopt(a.link, ZMQ_CURVE_SERVERKEY, server, 40);
    zmq_setsockopt(a.link, ZMQ_CURVE_PUBLICKEY, pub, 40);
    zmq_setsockopt(a.link, ZMQ_CURVE_SECRETKEY, sec, 40);
    char mon_ep[64], link_ep[300];
    snprintf(mon_ep, sizeof mon_ep, "inproc://agent-link-%d", (int)getpid());
    zmq_socket_monitor(a.link, mon_ep, ZMQ_EVENT_HANDSHAKE_FAILED_AUTH);
    a.mon = zmq_socket(a.ctx, ZMQ_PAIR);
    zmq_setsockopt(a.mon, ZMQ_LINGER, &zero, sizeof zero);
    zmq_connect(a.mon, mon_ep);
    snprintf(link_ep, sizeof link_ep, "tcp://%s", target);
    int rc = 0;
    if (zmq_bind(a.ctl, a.ctl_ep) < 0 || zmq_bind(a.evpull, a.ev_ep) < 0) {
        fprintf(stderr, "conlab join: cannot bind in %s: %s\n", a.run_dir, zmq_strerror(zmq_errno()));
        rc = 1;
    } else if (zmq_connect(a.link, link_ep) < 0) {
        fprintf(stderr, "conlab join: cannot connect to %s: %s\n", link_ep, zmq_strerror(zmq_errno()));
        rc = 2;
    }
    if (pipe(sig_pipe) == 0) {
        for (int i = 0; i < 2; i++)
            fcntl(sig_pipe[i], F_SETFL, fcntl(sig_pipe[i], F_GETFL) | O_NONBLOCK);
        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);
        signal(SIGHUP, on_signal);
        signal(SIGPIPE, SIG_IGN);
    }
    if (!rc) {
        say(a.quiet ? &a : &a, "connecting to %s with key %s%s%s", target, pub, nfterr[0] ? "; " : "", nfterr);
        if (!a.nft && nfterr[0])
            nfterr[0] = 0;
    }
    while (!rc && !a.quit) {
        uint64_t now = mono_us();
        if (!a.welcomed && now - a.hello_us >= 1000000) {
            json_t *h = json_pack("{s:s,s:s,s:s}", "version", "1", "nft", a.nft ? "ok" : a.nft_why, "netem", a.netem_why);
            if (a.want_host[0])
                json_object_set_new(h, "host", json_string(a.want_host));
            char *s = json_dumps(h, JSON_COMPACT);
            link_send(&a, "hello", "", s, strlen(s));
            free(s);
            json_decref(h);
            a.hello_us = now;
        }
        if (a.welcomed && now - a.heard_us > a.timeout_us) {
            lab_gone(&a, "the lab has been silent for its timeout");
            continue;
        }
        if (a.welcomed && now - a.sent_us >= a.hb_us)
            link_send(&a, "hb", "", "", 0);
        zmq_pollitem_t items[5 + CL_MAXN];
        struct anode *map[5 + CL_MAXN];
        int n = 0;
        items[n] = (zmq_pollitem_t){a.link, 0, ZMQ_POLLIN, 0}; map[n++] = NULL;
        items[n] = (zmq_pollitem_t){a.ctl, 0, ZMQ_POLLIN, 0}; map[n++] = NULL;
        items[n] = (zmq_pollitem_t){a.evpull, 0, ZMQ_POLLIN, 0}; map[n++] = NULL;
        items[n] = (zmq_pollitem_t){a.mon, 0, ZMQ_POLLIN, 0}; map[n++] = NULL;
        items[n] = (zmq_pollitem_t){NULL, sig_pipe[0], ZMQ_POLLIN, 0}; map[n++] = NULL;
        for (int i = 0; i < CL_MAXN; i++)
            if (a.nodes[i].id[0] && a.nodes[i].gw) {
                items[n] = (zmq_pollitem_t){a.nodes[i].gw, 0, ZMQ_POLLIN, 0};
                map[n++] = &a.nodes[i];
            }
        long ms = a.welcomed ? (long)(a.hb_us / 2000) : 100;
        if (ms > 100)
            ms = 100;
        int pr = zmq_poll(items, n, ms);
        reap(&a);
        if (pr <= 0)
            continue;
        if (items[4].revents & ZMQ_POLLIN) {
            unsigned char b[16];
            if (read(sig_pipe[0], b, sizeof b) > 0) {
                int k = kill_all(&a);
                say(&a, "interrupted: killed %d node%s", k, k == 1 ? "" : "s");
                break;
            }
        }
        if (items[3].revents & ZMQ_POLLIN)
            on_monitor(&a);
        if (items[0].revents & ZMQ_POLLIN)
            on_link(&a);
        if (items[1].revents & ZMQ_POLLIN)
            on_ctl(&a);
        if (items[2].revents & ZMQ_POLLIN)
            on_events(&a);
        for (int i = 5; i < n; i++)
            if ((items[i].revents & ZMQ_POLLIN) && map[i]->gw)
                on_gw(&a, map[i]);
    }
    if (a.quit)
        rc = a.rc;
    kill_all(&a);
    nft_close(&a.nft);
    for (int i = 0; i < CL_MAXN; i++)
        drop_gw(&a.nodes[i]);
    zmq_close(a.mon);
    zmq_close(a.link);
    zmq_close(a.ctl);
    zmq_close(a.evpull);
    zmq_ctx_term(a.ctx);
    rundir_remove(a.run_dir, &a.run_lock);
    return rc;
}
