/* dashcli — `conlab replay` and `conlab dash`: the dashboard without a cluster (dashcli.h).
 *
 * Both run their own small loop (the lab's loop is not there): poll the terminal, a signal
 * self-pipe and, for `dash`, the lab's ZeroMQ PUB socket; then dash_before_sleep redraws.
 * Without a terminal (or with --plain) replay prints a text summary, or with --screen the
 * dashboard rendered as text; dash prints one line per event.
 */
#include "dashcli.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include <readline/readline.h>

#include "canvas.h"
#include "dash.h"
#include "keys.h"
#include "layout.h"
#include "model.h"
#include "render.h"
#include "rundir.h"
#include "trace.h"

/* ---- signals through a self-pipe -------------------------------------------------------- */

static int sig_pipe[2] = {-1, -1};

static void sig_to_pipe(int sig)
{
    int saved = errno;
    unsigned char b = (unsigned char)sig;
    ssize_t w = write(sig_pipe[1], &b, 1);
    (void)w;
    errno = saved;
}

static int signals_open(void)
{
    if (pipe(sig_pipe) < 0)
        return CL_EIO;
    for (int i = 0; i < 2; i++) {
        fcntl(sig_pipe[i], F_SETFL, fcntl(sig_pipe[i], F_GETFL) | O_NONBLOCK);
        fcntl(sig_pipe[i], F_SETFD, FD_CLOEXEC);
    }
    static const int sigs[] = {SIGWINCH, SIGTSTP, SIGCONT, SIGINT, SIGTERM, SIGHUP};
    for (size_t i = 0; i < CL_ARRAY_LEN(sigs); i++) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = sig_to_pipe;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = SA_RESTART;
        sigaction(sigs[i], &sa, NULL);
    }
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

static void signals_close(void)
{
    static const int sigs[] = {SIGWINCH, SIGTSTP, SIGCONT, SIGINT, SIGTERM, SIGHUP};
    for (size_t i = 0; i < CL_ARRAY_LEN(sigs); i++)
        signal(sigs[i], SIG_DFL);
    for (int i = 0; i < 2; i++)
        if (sig_pipe[i] >= 0)
            close(sig_pipe[i]);
    sig_pipe[0] = sig_pipe[1] = -1;
}

/* Hands pending signals to the dashboard; returns true when one asks to leave. */
static bool signals_dispatch(struct dash *d)
{
    unsigned char buf[64];
    ssize_t n;
    bool leave = false;
    while ((n = read(sig_pipe[0], buf, sizeof buf)) > 0)
        for (ssize_t i = 0; i < n; i++) {
            int sig = buf[i];
            if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP)
                leave = true;
            else if (d)
                dash_on_signal(d, sig);
        }
    return leave;
}

/* ---- shared option parsing -------------------------------------------------------------- */

static int parse_size(const char *s, int *cols, int *rows)
{
    char *x = strchr(s, 'x');
    if (!x)
        return CL_EINVAL;
    char *a = xstrndup(s, (size_t)(x - s));
    int64_t c, r;
    int rc = parse_i64(a, &c) || parse_i64(x + 1, &r) ? CL_EINVAL : 0;
    free(a);
    if (rc || c < 1 || r < 1 || c > 1000 || r > 1000)
        return CL_EINVAL;
    *cols = (int)c;
    *rows = (int)r;
    return 0;
}

/* ---- replay ----------------------------------------------------------------------------- */

static void replay_usage(FILE *f)
{
    fputs("usage: conlab replay [--plain] [--no-color] [--play] [--repl] [--speed F] [--at N]\n"
          "                     [--screen COLSxROWS] FILE\n"
          "  Opens a trace (JSONL, one event per line; - = stdin) in the dashboard with time\n"
          "  travel. Without a terminal, or with --plain, prints a summary of the state at\n"
          "  event N (default: the end). --screen prints the dashboard as text at that size.\n"
          "  --repl adds a command line: seek N, play, pause, live, speed F, filter WORDS, quit.\n",
          f);
}

static const char *life_name(enum dm_life l)
{
    return l == DM_DOWN ? "down" : l == DM_PAUSED ? "paused" : l == DM_UP ? "up" : "?";
}

static void print_escaped(FILE *f, const char *s)
{
    struct sb b = {0};
    sb_add_escaped(&b, s, strlen(s));
    fputs(b.s, f);
    sb_free(&b);
}

/* The state at the cursor, as text: what a user checks in a trace without a terminal. */
static void replay_summary(FILE *f, const char *path, const struct dm *m, size_t bad)
{
    const struct dm_state *s = dm_view(m);
    fprintf(f, "trace ");
    print_escaped(f, path);
    fprintf(f, ": %llu events", (unsigned long long)dm_count(m));
    if (bad)
        fprintf(f, " (%zu bad lines skipped)", bad);
    fprintf(f, ", at event %llu, t=%llu.%03llus\n", (unsigned long long)dm_cursor(m),
            (unsigned long long)(s->t_last / 1000000), (unsigned long long)(s->t_last / 1000 % 1000));
    fprintf(f, "cluster: %s, %d nodes%s\n", s->mode[0] ? s->mode : "?", s->n,
            s->running ? "" : " (stopped)");
    for (int i = 0; i < s->n; i++) {
        const struct dm_node *n = &s->node[i];
        fprintf(f, "  %s %s", n->id, n->role[0] ? n->role : "?");
        if (n->has_term)
            fprintf(f, " term=%llu", (unsigned long long)n->term);
        if (n->has_epoch)
            fprintf(f, " epoch=%llu", (unsigned long long)n->epoch);
        fprintf(f, " commit=%llu applied=%llu log=%zu %s\n", (unsigned long long)n->commit,
                (unsigned long long)n->applied, n->nlog, life_name(n->life));
    }
    if (s->ngroups > 1) {
        fprintf(f, "partition:");
        for (int g = 0; g < s->ngroups; g++) {
            fprintf(f, g ? " |" : "");
            for (int i = 0; i < s->n; i++)
                if (s->group_of[i] == g)
                    fprintf(f, " %s", s->node[i].id);
        }
        fprintf(f, "\n");
    }
    size_t del = 0, drop = 0, pend = 0;
    for (size_t i = 0; i < s->nmsgs; i++) {
        const struct dm_msg *msg = dm_msg_at(s, i);
        del += msg->st == DM_DELIVERED;
        drop += msg->st == DM_DROPPED;
        pend += msg->st == DM_PENDING;
    }
    fprintf(f, "messages (last %zu): %zu delivered, %zu dropped, %zu in flight\n", s->nmsgs, del,
            drop, pend);
    for (int k = 0; k < s->nelections; k++) {
        const struct dm_election *e = &s->elections[k];
        int g = 0;
        for (int v = 0; v < e->nvotes; v++)
            g += e->votes[v].granted;
        fprintf(f, "election term %llu %s: %d/%d votes\n", (unsigned long long)e->term,
                e->candidate, g, s->n);
    }
    for (int k = 0; k < s->nalerts; k++) {
        fprintf(f, "ALERT ");
        print_escaped(f, s->alerts[k].text);
        fprintf(f, "\n");
    }
}

/* ---- the replay's command line ------------------------------------------------------- */

static struct dash *replay_dash;
static bool replay_quit;
static const char *const replay_words[] = {"seek", "play", "pause", "live", "freeze", "filter",
                                           "speed", "help", "quit", NULL};

static void replay_line(void *ud, const char *line)
{
    (void)ud;
    while (*line == ' ')
        line++;
    char reply[160];
    if (!*line)
        return;
    if (!strcmp(line, "quit") || !strcmp(line, "exit") || !strcmp(line, "q")) {
        replay_quit = true;
        return;
    }
    if (!strcmp(line, "help")) {
        dash_set_notice(replay_dash, "commands: seek N, play, pause, live, speed F, filter WORDS, quit");
        return;
    }
    if (!dash_command(replay_dash, line, reply, sizeof reply)) {
        struct sb b = {0};
        sb_add(&b, "unknown command '");
        size_t n = strcspn(line, " ");
        sb_add_escaped(&b, line, n > 30 ? 30 : n);
        sb_add(&b, "' (try help)");
        str_copy(reply, b.s, sizeof reply);
        sb_free(&b);
    }
    dash_set_notice(replay_dash, reply);
}

static char *replay_word_gen(const char *text, int state)
{
    static int i;
    static size_t len;
    if (!state) {
        i = 0;
        len = strlen(text);
    }
    while (replay_words[i]) {
        const char *w = replay_words[i++];
        if (!strncmp(w, text, len))
            return xstrdup(w);
    }
    return NULL;
}

static char **replay_complete(const char *text, int start, int end)
{
    (void)end;
    rl_attempted_completion_over = 1;
    if (start != 0)
        return NULL;
    return rl_completion_matches(text, replay_word_gen);
}

static int replay_loop(struct dash *d)
{
    int rc = 0;
    while (!dash_quit_requested(d) && !replay_quit) {
        uint64_t wait = dash_before_sleep(d, mono_us());
        int timeout = wait == UINT64_MAX ? -1 : (int)((wait + 999) / 1000);
        struct pollfd p[2] = {{dash_input_fd(d), POLLIN, 0}, {sig_pipe[0], POLLIN, 0}};
        int n = poll(p, 2, timeout);
        if (n < 0 && errno != EINTR) {
            rc = 1;
            break;
        }
        if (p[1].revents & POLLIN && signals_dispatch(d))
            break;
        if (p[0].revents & (POLLHUP | POLLERR))
            break;
        if (p[0].revents & POLLIN)
            dash_on_readable(d);
    }
    return rc;
}

int replaycli_main(int argc, char **argv)
{
    bool plain = false, no_color = false, playing = false, at_set = false, repl = false;
    double speed = 1.0;
    uint64_t at = 0;
    int cols = 0, rows = 0;
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--plain")) {
            plain = true;
        } else if (!strcmp(a, "--no-color")) {
            no_color = true;
        } else if (!strcmp(a, "--play")) {
            playing = true;
        } else if (!strcmp(a, "--repl")) {
            repl = true;
        } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            replay_usage(stdout);
            return 0;
        } else if (!strcmp(a, "--speed") && i + 1 < argc) {
            if (parse_double(argv[++i], &speed) || speed <= 0 || speed > 1000) {
                fprintf(stderr, "conlab replay: --speed wants a number in (0, 1000], not '%s'\n", argv[i]);
                return 2;
            }
        } else if (!strcmp(a, "--at") && i + 1 < argc) {
            if (parse_u64(argv[++i], &at)) {
                fprintf(stderr, "conlab replay: --at wants an event number, not '%s'\n", argv[i]);
                return 2;
            }
            at_set = true;
        } else if (!strcmp(a, "--screen") && i + 1 < argc) {
            if (parse_size(argv[++i], &cols, &rows)) {
                fprintf(stderr, "conlab replay: --screen wants COLSxROWS (e.g. 120x40), not '%s'\n", argv[i]);
                return 2;
            }
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "conlab replay: unknown option '%s'\n", a);
            replay_usage(stderr);
            return 2;
        } else if (!path) {
            path = a;
        } else {
            fprintf(stderr, "conlab replay: one trace file only ('%s')\n", a);
            return 2;
        }
    }
    if (!path) {
        replay_usage(stderr);
        return 2;
    }
    struct sb errors = {0};
    struct trace tr;
    int lrc = trace_load(path, &tr, &errors);
    if (errors.s && errors.len)
        fputs(errors.s, stderr);
    if (lrc) {
        sb_free(&errors);
        return 2;
    }
    if (tr.n == 0) {
        fprintf(stderr, "conlab replay: %s holds no events\n", path);
        sb_free(&errors);
        trace_free(&tr);
        return 2;
    }
    int rc = tr.bad ? 1 : 0;
    bool tty = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
    if (plain || cols || !tty) {
        struct dm *m = dm_new(tr.n + DM_CKPT_EVERY);
        for (size_t i = 0; i < tr.n; i++)
            dm_feed(m, tr.ev[i]);
        if (at_set)
            dm_seek(m, at);
        if (cols) {
            struct canvas *c = canvas_new(cols, rows, !no_color && dash_want_color(false));
            struct layout l;
            struct render_ui ui = {0};
            ui.mode = RENDER_REPLAY;
            ui.focus = PANE_EVENTS;
            ui.selected_msg = -1;
            ui.filter = "";
            ui.speed = speed;
            render_layout(m, cols, rows, true, &l);
            render_screen(c, &l, m, &ui);
            char *text = canvas_dump(c);
            fputs(text, stdout);
            free(text);
            canvas_free(&c);
        } else {
            replay_summary(stdout, path, m, tr.bad);
        }
        dm_destroy(&m);
        trace_free(&tr);
        sb_free(&errors);
        return rc;
    }

    char err[256], source[160];
    struct sb src = {0};
    sb_add(&src, "replay ");
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    sb_add_escaped(&src, base, strlen(base) > 60 ? 60 : strlen(base));
    str_copy(source, src.s, sizeof source);
    sb_free(&src);
    struct dash_config cfg = {.kind = DASH_REPLAY, .no_color = no_color, .source = source,
                              .record_cap = tr.n + DM_CKPT_EVERY, .replay_speed = speed,
                              .on_line = repl ? replay_line : NULL,
                              .complete = repl ? replay_complete : NULL,
                              .prompt = "replay> "};
    if (signals_open()) {
        fprintf(stderr, "conlab replay: cannot create a pipe: %s\n", strerror(errno));
        trace_free(&tr);
        sb_free(&errors);
        return 2;
    }
    struct dash *d = dash_new(&cfg, err, sizeof err);
    if (!d) {
        /* a terminal that cannot draw (TERM=dumb …): the text summary still tells the story */
        fprintf(stderr, "conlab replay: %s; printing a summary instead\n", err);
        signals_close();
        struct dm *m = dm_new(tr.n + DM_CKPT_EVERY);
        for (size_t i = 0; i < tr.n; i++)
            dm_feed(m, tr.ev[i]);
        if (at_set)
            dm_seek(m, at);
        replay_summary(stdout, path, m, tr.bad);
        dm_destroy(&m);
        trace_free(&tr);
        sb_free(&errors);
        return rc;
    }
    replay_dash = d;
    replay_quit = false;
    for (size_t i = 0; i < tr.n; i++)
        dash_feed(d, tr.ev[i]);
    struct dm *m = dash_model(d);
    dm_seek(m, at_set ? at : (playing ? 0 : 1));
    if (tr.bad) {
        char note[96];
        snprintf(note, sizeof note, "%zu bad trace lines skipped (listed on exit)", tr.bad);
        dash_set_notice(d, note);
    }
    dash_set_playing(d, playing);
    int lrc2 = replay_loop(d);
    dash_destroy(&d);
    replay_dash = NULL;
    signals_close();
    if (errors.s && errors.len)
        fputs(errors.s, stderr);
    trace_free(&tr);
    sb_free(&errors);
    return lrc2 ? lrc2 : rc;
}

/* ---- finding a running lab -------------------------------------------------------------- */

static int read_endpoint(const char *file, char *ep, size_t epn)
{
    FILE *f = fopen(file, "r");
    if (!f)
        return CL_ENOENT;
    if (!fgets(ep, (int)epn, f)) {
        fclose(f);
        return CL_EINVAL;
    }
    fclose(f);
    ep[strcspn(ep, "\r\n")] = 0;
    if (strncmp(ep, "ipc://", 6) && strncmp(ep, "tcp://", 6))
        return CL_EINVAL;
    return 0;
}

int dashcli_find_endpoint(pid_t pid, char *ep, size_t epn, pid_t *found, char *dir, size_t dirn, char *err,
                          size_t errn)
{
    if (rundir_find(pid, dir, dirn, found, err, errn) < 0)
        return CL_ENOENT;
    char path[1024];
    snprintf(path, sizeof path, "%s/dash.endpoint", dir);
    int rc = read_endpoint(path, ep, epn);
    if (rc) {
        snprintf(err, errn, "%s: %s", path,
                 rc == CL_ENOENT ? "missing: is that lab's dashboard stream on?"
                                 : "does not hold an ipc:// or tcp:// endpoint");
        return CL_ENOENT;
    }
    return 0;
}

/* ---- attach ----------------------------------------------------------------------------- */

static void dash_usage(FILE *f)
{
    fputs("usage: conlab dash [--pid PID | --endpoint EP] [--plain] [--no-color]\n"
          "                   [--count N] [--seconds S]\n"
          "       conlab dash --attach HOST:PORT --server-key KEY --key FILE [...]\n"
          "  Attaches a read-only dashboard to a running lab (the newest one by default).\n"
          "  Without a terminal, or with --plain, prints one line per event; --count and\n"
          "  --seconds stop after that many events or seconds.\n"
          "  --attach: a classroom lab on another host (conlab serve), over CURVE: --key is your\n"
          "  key file (conlab keygen; the lab must know its public key), --server-key the lab's\n"
          "  public key (its `endpoints` command prints it). Exit 3 when the lab refuses you.\n",
          f);
}

/* Splits a frame into events (one JSON object, or several on separate lines). */
static size_t frame_events(const char *buf, size_t len, void (*cb)(void *, json_t *), void *ud,
                           size_t *bad)
{
    size_t got = 0, i = 0;
    while (i < len) {
        size_t j = i;
        while (j < len && buf[j] != '\n')
            j++;
        if (j > i) {
            json_t *ev = json_loadb(buf + i, j - i, 0, NULL);
            if (ev && json_is_object(ev) && json_is_string(json_object_get(ev, "ev"))) {
                cb(ud, ev);
                got++;
            } else {
                (*bad)++;
            }
            json_decref(ev);
        }
        i = j + 1;
    }
    return got;
}

struct attach {
    struct dash *d;
    FILE *out;
    uint64_t events;
};

static void attach_event(void *ud, json_t *ev)
{
    struct attach *a = ud;
    a->events++;
    if (a->d) {
        dash_feed(a->d, ev);
    } else {
        struct sb b = {0};
        dm_event_line(ev, &b);
        fprintf(a->out, "%s\n", b.s);
        sb_free(&b);
    }
}

int dashcli_main(int argc, char **argv)
{
    bool plain = false, no_color = false;
    int64_t pid = 0;
    uint64_t count = 0, seconds = 0;
    const char *endpoint = NULL, *attach = NULL, *keyfile = NULL, *server = getenv("CONLAB_SERVER_KEY");
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--plain")) {
            plain = true;
        } else if (!strcmp(a, "--no-color")) {
            no_color = true;
        } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            dash_usage(stdout);
            return 0;
        } else if (!strcmp(a, "--pid") && i + 1 < argc) {
            if (parse_i64(argv[++i], &pid) || pid <= 0 || pid > 0x7fffffff) {
                fprintf(stderr, "conlab dash: --pid wants a process id, not '%s'\n", argv[i]);
                return 2;
            }
        } else if (!strcmp(a, "--endpoint") && i + 1 < argc) {
            endpoint = argv[++i];
            if (strncmp(endpoint, "ipc://", 6) && strncmp(endpoint, "tcp://", 6)) {
                fprintf(stderr, "conlab dash: --endpoint wants ipc://PATH or tcp://HOST:PORT\n");
                return 2;
            }
        } else if (!strcmp(a, "--attach") && i + 1 < argc) {
            attach = argv[++i];
            if (!strrchr(attach, ':')) {
                fprintf(stderr, "conlab dash: --attach wants HOST:PORT (the lab's conlab serve --bind)\n");
                return 2;
            }
        } else if (!strcmp(a, "--key") && i + 1 < argc) {
            keyfile = argv[++i];
        } else if (!strcmp(a, "--server-key") && i + 1 < argc) {
            server = argv[++i];
        } else if (!strcmp(a, "--count") && i + 1 < argc) {
            if (parse_u64(argv[++i], &count)) {
                fprintf(stderr, "conlab dash: --count wants a number, not '%s'\n", argv[i]);
                return 2;
            }
        } else if (!strcmp(a, "--seconds") && i + 1 < argc) {
            if (parse_u64(argv[++i], &seconds)) {
                fprintf(stderr, "conlab dash: --seconds wants a number, not '%s'\n", argv[i]);
                return 2;
            }
        } else {
            fprintf(stderr, "conlab dash: unknown argument '%s'\n", a);
            dash_usage(stderr);
            return 2;
        }
    }
    char ep[512], err[600], labdir[600] = "";
    char pub[KEY_Z85], sec[KEY_Z85];
    pid_t lab = 0;
    if (attach) {
        if (!server || !key_valid(server)) {
            fprintf(stderr, "conlab dash: --attach needs --server-key, the lab's 40-character public key (its "
                            "`endpoints` command prints it)\n");
            return 2;
        }
        if (!keyfile) {
            fprintf(stderr, "conlab dash: --attach needs --key FILE, a key the lab knows (conlab keygen)\n");
            return 2;
        }
        if (key_read(keyfile, pub, sec, err, sizeof err) < 0) {
            fprintf(stderr, "conlab dash: %s\n", err);
            return 2;
        }
        snprintf(ep, sizeof ep, "tcp://%s", attach);
    } else if (endpoint) {
        str_copy(ep, endpoint, sizeof ep);
    } else if (dashcli_find_endpoint((pid_t)pid, ep, sizeof ep, &lab, labdir, sizeof labdir, err, sizeof err)) {
        fprintf(stderr, "conlab dash: %s\n", err);
        return 2;
    }
    void *ctx = zmq_ctx_new();
    void *sub = zmq_socket(ctx, attach ? ZMQ_DEALER : ZMQ_SUB);
    void *mon = NULL;
    int64_t maxmsg = 1 << 22;
    int hwm = 100000, linger = 0;
    zmq_setsockopt(sub, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
    zmq_setsockopt(sub, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt(sub, ZMQ_LINGER, &linger, sizeof linger);
    if (attach) {
        /* a classroom: a DEALER that says "view" (and again every 2 s, or the lab forgets it) */
        zmq_setsockopt(sub, ZMQ_CURVE_SERVERKEY, server, 40);
        zmq_setsockopt(sub, ZMQ_CURVE_PUBLICKEY, pub, 40);
        zmq_setsockopt(sub, ZMQ_CURVE_SECRETKEY, sec, 40);
        char mon_ep[64];
        snprintf(mon_ep, sizeof mon_ep, "inproc://dash-mon-%d", (int)getpid());
        zmq_socket_monitor(sub, mon_ep, ZMQ_EVENT_HANDSHAKE_FAILED_AUTH);
        mon = zmq_socket(ctx, ZMQ_PAIR);
        zmq_setsockopt(mon, ZMQ_LINGER, &linger, sizeof linger);
        zmq_connect(mon, mon_ep);
    } else {
        zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "", 0);
    }
    if (zmq_connect(sub, ep)) {
        fprintf(stderr, "conlab dash: cannot connect to %s: %s\n", ep, zmq_strerror(zmq_errno()));
        zmq_close(sub);
        zmq_ctx_term(ctx);
        return 2;
    }
    int rc = 0;
    struct attach at = {.out = stdout};
    bool tty = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
    if (signals_open()) {
        zmq_close(sub);
        zmq_ctx_term(ctx);
        return 2;
    }
    if (!plain && tty) {
        char source[64];
        if (attach)
            snprintf(source, sizeof source, "read-only: %.50s", attach);
        else if (lab)
            snprintf(source, sizeof source, "read-only: lab %ld", (long)lab);
        else
            snprintf(source, sizeof source, "read-only");
        struct dash_config cfg = {.kind = DASH_READONLY, .no_color = no_color, .source = source};
        at.d = dash_new(&cfg, err, sizeof err);
        if (!at.d)
            fprintf(stderr, "conlab dash: %s; printing events as lines instead\n", err);
        else
            dash_set_notice(at.d, "waiting for events");
    }
    uint64_t start = mono_us(), last_check = start, last_view = 0;
    size_t bad = 0;
    bool gone = false, waiting = true;
    char *buf = xmalloc((size_t)maxmsg + 1);
    for (;;) {
        if (at.d && dash_quit_requested(at.d))
            break;
        uint64_t now = mono_us();
        if (seconds && now - start >= seconds * 1000000)
            break;
        if (count && at.events >= count)
            break;
        uint64_t wait = at.d ? dash_before_sleep(at.d, now) : UINT64_MAX;
        if (wait > 500000)
            wait = 500000; /* check the lab is alive twice a second */
        if (attach && now - last_view >= 2000000) {
            zmq_send(sub, "view", 4, ZMQ_SNDMORE | ZMQ_DONTWAIT);
            zmq_send(sub, "", 0, ZMQ_SNDMORE | ZMQ_DONTWAIT);
            zmq_send(sub, "", 0, ZMQ_DONTWAIT);
            last_view = now;
        }
        zmq_pollitem_t items[4] = {
            {sub, 0, ZMQ_POLLIN, 0},
            {NULL, sig_pipe[0], ZMQ_POLLIN, 0},
            {NULL, STDIN_FILENO, ZMQ_POLLIN, 0},
            {mon, 0, ZMQ_POLLIN, 0},
        };
        if (!at.d) /* no terminal to read: the monitor takes the third place */
            items[2] = items[3];
        int n = zmq_poll(items, mon ? 3 + (at.d != NULL) : at.d ? 3 : 2, (long)((wait + 999) / 1000));
        if (n < 0 && zmq_errno() != EINTR) {
            fprintf(stderr, "conlab dash: poll: %s\n", zmq_strerror(zmq_errno()));
            rc = 1;
            break;
        }
        if (items[1].revents & ZMQ_POLLIN && signals_dispatch(at.d))
            break;
        if (at.d && items[2].revents & ZMQ_POLLIN)
            dash_on_readable(at.d);
        if (mon && (items[at.d ? 3 : 2].revents & ZMQ_POLLIN)) {
            fprintf(stderr, "conlab dash: the lab refused this key (%s): is its public key in the lab's cluster file "
                            "or allow list, and is --server-key the lab's?\n", keyfile);
            rc = 3;
            break;
        }
        for (int k = 0; k < 10000 && (items[0].revents & ZMQ_POLLIN); k++) {
            int len;
            if (attach) { /* TYPE, ID, PAYLOAD */
                char type[16];
                int tl = zmq_recv(sub, type, sizeof type - 1, ZMQ_DONTWAIT);
                if (tl < 0)
                    break;
                type[tl < (int)sizeof type - 1 ? tl : (int)sizeof type - 1] = 0;
                char idb[32];
                len = -1;
                if (zmq_recv(sub, idb, sizeof idb, 0) >= 0)
                    len = zmq_recv(sub, buf, (size_t)maxmsg, 0);
                if (len < 0)
                    break;
                if (!strcmp(type, "refused")) {
                    fprintf(stderr, "conlab dash: the lab refused this dashboard: %.*s\n", len > 300 ? 300 : len, buf);
                    rc = 3;
                    gone = true;
                    break;
                }
                if (strcmp(type, "ev"))
                    continue;
            } else {
                len = zmq_recv(sub, buf, (size_t)maxmsg, ZMQ_DONTWAIT);
            }
            if (len < 0)
                break;
            size_t l = (size_t)len > (size_t)maxmsg ? (size_t)maxmsg : (size_t)len;
            frame_events(buf, l, attach_event, &at, &bad);
            if (waiting && at.d) {
                dash_set_notice(at.d, NULL);
                waiting = false;
            }
            if (count && at.events >= count)
                break;
        }
        if (!at.d)
            fflush(at.out); /* lines as they come, also into a pipe or a file */
        if (rc)
            break;
        if (labdir[0] && !gone && mono_us() - last_check > 1000000) {
            last_check = mono_us();
            if (!rundir_alive(labdir)) {
                gone = true;
                if (at.d) {
                    char note[96];
                    snprintf(note, sizeof note, "lab %ld has exited (q quits)", (long)lab);
                    dash_set_notice(at.d, note);
                } else {
                    fprintf(stderr, "conlab dash: lab %ld has exited\n", (long)lab);
                    break;
                }
            }
        }
    }
    free(buf);
    dash_destroy(&at.d);
    signals_close();
    if (mon)
        zmq_close(mon);
    zmq_close(sub);
    zmq_ctx_term(ctx);
    if (bad)
        fprintf(stderr, "conlab dash: %zu frames were not events and were skipped\n", bad);
    return rc;
}
