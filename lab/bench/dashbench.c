/* dashbench — `conlab bench dash`: how many events a second the dashboard model and renderer
 * keep up with, how often they redraw, and what CPU they use (issue 6's performance figures).
 *
 * Synthetic Raft-like events (sends, receipts, drops, appends, commits, status snapshots)
 * are fed at a paced rate into the model; the screen is rendered into a text canvas with the
 * dashboard's coalescing rule (at most one frame per 33 ms, only when something changed).
 * Three phases: paced at --rate for --seconds, flat out for one second, idle (one status
 * snapshot per node every 500 ms) for --idle seconds.
 */
#include "dashcli.h"

#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "canvas.h"
#include "layout.h"
#include "model.h"
#include "render.h"
#include "rundir.h"
#include "trace.h"

#define FRAME_US 33000

static uint64_t cpu_us(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (uint64_t)ru.ru_utime.tv_sec * 1000000u + (uint64_t)ru.ru_utime.tv_usec +
           (uint64_t)ru.ru_stime.tv_sec * 1000000u + (uint64_t)ru.ru_stime.tv_usec;
}

static void sleep_us(uint64_t us)
{
    struct timespec ts = {(time_t)(us / 1000000), (long)(us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

struct gen {
    uint64_t k, t, msg_id, index;
    int nodes;
};

static json_t *status_event(struct gen *g, int i)
{
    char id[CL_IDLEN];
    node_name(i, id);
    return json_pack("{s:s, s:s, s:I, s:{s:s, s:I, s:I, s:I, s:s}}", "ev", "status", "node", id,
                     "t", (json_int_t)g->t, "status", "role", i == 0 ? "leader" : "follower",
                     "term", (json_int_t)3, "commit", (json_int_t)g->index, "applied",
                     (json_int_t)g->index, "state", "up");
}

/* The next synthetic event (caller owns it). */
static json_t *next_event(struct gen *g)
{
    g->k++;
    g->t += 200;
    int peer = 1 + (int)(g->k / 4 % (uint64_t)(g->nodes - 1));
    char to[CL_IDLEN];
    node_name(peer, to);
    switch (g->k % 8) {
    case 0:
        g->msg_id++;
        return json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:{s:s, s:I, s:I}}", "ev", "send",
                         "node", "n1", "to", to, "type", "append_entries", "msg_id",
                         (json_int_t)g->msg_id, "t", (json_int_t)g->t, "lamport",
                         (json_int_t)g->k, "body", "type", "append_entries", "msg_id",
                         (json_int_t)g->msg_id, "term", (json_int_t)3);
    case 1:
        if (g->k % 64 == 1)
            return json_pack("{s:s, s:s, s:s, s:s, s:I, s:s, s:I}", "ev", "drop", "node", "n1",
                             "to", to, "type", "append_entries", "msg_id", (json_int_t)g->msg_id,
                             "why", "loss", "t", (json_int_t)g->t);
        return json_pack("{s:s, s:s, s:s, s:s, s:I, s:I}", "ev", "recv", "node", to, "from", "n1",
                         "type", "append_entries", "msg_id", (json_int_t)g->msg_id, "t",
                         (json_int_t)g->t);
    case 2:
        g->index++;
        return json_pack("{s:s, s:s, s:I, s:I, s:I, s:I}", "ev", "append", "node", "n1", "index",
                         (json_int_t)g->index, "term", (json_int_t)3, "count", (json_int_t)1,
                         "t", (json_int_t)g->t);
    case 3:
        return json_pack("{s:s, s:s, s:I, s:I}", "ev", "append", "node", to, "index",
                         (json_int_t)g->index, "term", (json_int_t)3, "t", (json_int_t)g->t);
    case 4:
        return json_pack("{s:s, s:s, s:I, s:I}", "ev", "commit", "node", "n1", "index",
                         (json_int_t)g->index, "t", (json_int_t)g->t);
    case 5:
        return json_pack("{s:s, s:s, s:I, s:s, s:s, s:I}", "ev", "apply", "node", "n1", "index",
                         (json_int_t)g->index, "key", "x", "value", "1", "t", (json_int_t)g->t);
    case 6:
        return json_pack("{s:s, s:s, s:s, s:s, s:I}", "ev", "send", "node", to, "to", "n1",
                         "type", "append_entries_ok", "t", (json_int_t)g->t);
    default:
        return json_pack("{s:s, s:s, s:s, s:s, s:I}", "ev", "recv", "node", "n1", "from", to,
                         "type", "append_entries_ok", "t", (json_int_t)g->t);
    }
}

struct bench_screen {
    struct canvas *c;
    struct layout l;
    struct render_ui ui;
    uint64_t frames;
};

static void frame(struct bench_screen *s, struct dm *m)
{
    render_screen(s->c, &s->l, m, &s->ui);
    s->frames++;
}

/* ---- --publish: a stand-in lab for testing `conlab dash` -------------------------------- */

static volatile sig_atomic_t publish_stop;

static void on_stop(int sig)
{
    (void)sig;
    publish_stop = 1;
}

/* Publishes a trace the way a lab publishes its stream: an XPUB socket whose endpoint is
 * written where `conlab dash` looks; each new subscriber gets the whole trace (a late viewer
 * must see the cluster). (A trace's old status snapshots are not re-sent: they would undo
 * what came after them.) */
static int publish(const char *path, double seconds)
{
    struct trace tr;
    struct sb err = {0};
    int rc = trace_load(path, &tr, &err);
    if (err.s && err.len)
        fputs(err.s, stderr);
    sb_free(&err);
    if (rc || tr.n == 0) {
        trace_free(&tr);
        return 2;
    }
    char dir[512], file[600], ep[600], why[600];
    int lock = -1;
    if (rundir_create(dir, sizeof dir, &lock, why, sizeof why) < 0) { /* where conlab dash looks */
        fprintf(stderr, "conlab bench dash: %s\n", why);
        trace_free(&tr);
        return 2;
    }
    snprintf(file, sizeof file, "%s/dash.endpoint", dir);
    snprintf(ep, sizeof ep, "ipc://%s/dash.sock", dir);
    void *ctx = zmq_ctx_new();
    void *pub = zmq_socket(ctx, ZMQ_XPUB);
    int linger = 0, verbose = 1;
    zmq_setsockopt(pub, ZMQ_LINGER, &linger, sizeof linger);
    /* report every subscription, not only the first of a kind: each viewer needs the trace */
    zmq_setsockopt(pub, ZMQ_XPUB_VERBOSE, &verbose, sizeof verbose);
    if (zmq_bind(pub, ep)) {
        fprintf(stderr, "conlab bench dash: cannot bind %s: %s\n", ep, zmq_strerror(zmq_errno()));
        zmq_close(pub);
        zmq_ctx_term(ctx);
        rundir_remove(dir, &lock);
        trace_free(&tr);
        return 2;
    }
    FILE *f = fopen(file, "w");
    if (f) {
        fprintf(f, "%s\n", ep);
        fclose(f);
    }
    printf("publishing %s as lab %ld at %s\n", path, (long)getpid(), ep);
    fflush(stdout);
    signal(SIGTERM, on_stop);
    signal(SIGINT, on_stop);
    uint64_t end = mono_us() + (uint64_t)(seconds * 1e6);
    while (!publish_stop && mono_us() < end) {
        zmq_pollitem_t it = {pub, 0, ZMQ_POLLIN, 0};
        zmq_poll(&it, 1, 100);
        char sub[256];
        while (zmq_recv(pub, sub, sizeof sub, ZMQ_DONTWAIT) > 0) {
            if (sub[0] != 1)
                continue;
            for (size_t i = 0; i < tr.n; i++) {
                char *s = json_dumps(tr.ev[i], JSON_COMPACT);
                zmq_send(pub, s, strlen(s), 0);
                free(s);
            }
        }
    }
    zmq_close(pub);
    zmq_ctx_term(ctx);
    rundir_remove(dir, &lock);
    trace_free(&tr);
    return 0;
}

int dashbench_main(int argc, char **argv)
{
    uint64_t rate = 5000;
    double seconds = 3, idle = 2;
    int cols = 120, rows = 40;
    const char *publish_path = NULL;
    bool seconds_set = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--seconds"))
            seconds_set = true;
        if (!strcmp(argv[i], "--rate") && i + 1 < argc) {
            if (parse_u64(argv[++i], &rate) || rate == 0 || rate > 10000000) {
                fprintf(stderr, "conlab bench dash: --rate wants events per second, not '%s'\n", argv[i]);
                return 2;
            }
        } else if (!strcmp(argv[i], "--seconds") && i + 1 < argc) {
            if (parse_double(argv[++i], &seconds) || seconds <= 0 || seconds > 3600) {
                fprintf(stderr, "conlab bench dash: --seconds wants a duration in seconds\n");
                return 2;
            }
        } else if (!strcmp(argv[i], "--idle") && i + 1 < argc) {
            if (parse_double(argv[++i], &idle) || idle < 0 || idle > 3600) {
                fprintf(stderr, "conlab bench dash: --idle wants a duration in seconds\n");
                return 2;
            }
        } else if (!strcmp(argv[i], "--publish") && i + 1 < argc) {
            publish_path = argv[++i];
        } else if (!strcmp(argv[i], "--help")) {
            puts("usage: conlab bench dash [--rate EV_PER_S] [--seconds S] [--idle S]\n"
                 "       conlab bench dash --publish TRACE [--seconds S]   (a stand-in lab for conlab dash)");
            return 0;
        } else {
            fprintf(stderr, "conlab bench dash: unknown argument '%s'\n", argv[i]);
            return 2;
        }
    }
    if (publish_path)
        return publish(publish_path, seconds_set ? seconds : 60);
    struct dm *m = dm_new(0);
    struct gen g = {.nodes = 3};
    /* a synthetic cluster: a leader and followers, named by their classes */
    json_t *cl = json_pack("{s:s, s:s, s:[s,s,s], s:I, s:{s:s,s:s}}", "ev", "cluster", "mode", "synthetic", "nodes",
                           "n1", "n2", "n3", "t", (json_int_t)0, "roles", "leader", "leader", "follower", "follower");
    dm_feed(m, cl);
    json_decref(cl);
    struct bench_screen s = {.c = canvas_new(cols, rows, true)};
    s.ui.mode = RENDER_LIVE;
    s.ui.focus = PANE_CMDLINE;
    s.ui.cmdline = true;
    s.ui.selected_msg = -1;
    s.ui.filter = "";
    s.ui.prompt = "conlab> ";
    s.ui.line = "";
    layout_compute(cols, rows, 0, &s.l);

    /* 1. paced */
    uint64_t t0 = mono_us(), c0 = cpu_us(), fed = 0, last_frame = 0, max_backlog = 0;
    bool dirty = false;
    uint64_t dur = (uint64_t)(seconds * 1e6);
    for (;;) {
        uint64_t now = mono_us(), el = now - t0;
        if (el >= dur)
            break;
        uint64_t due = rate * el / 1000000;
        if (due > fed && due - fed > max_backlog)
            max_backlog = due - fed;
        while (fed < due) {
            json_t *ev = next_event(&g);
            dm_feed(m, ev);
            json_decref(ev);
            fed++;
            dirty = true;
        }
        now = mono_us();
        if (dirty && now - last_frame >= FRAME_US) {
            frame(&s, m);
            last_frame = now;
            dirty = false;
        }
        sleep_us(1000);
    }
    double el = (double)(mono_us() - t0) / 1e6;
    double cpu = (double)(cpu_us() - c0) / 1e6;
    printf("paced: offered %llu ev/s for %.1f s: sustained %.0f ev/s, worst backlog %llu events, "
           "%.1f redraws/s, CPU %.1f%% of a core\n",
           (unsigned long long)rate, el, (double)fed / el, (unsigned long long)max_backlog,
           (double)s.frames / el, 100.0 * cpu / el);

    /* 2. flat out for one second */
    uint64_t f0 = s.frames, n = 0;
    t0 = mono_us();
    last_frame = 0;
    while (mono_us() - t0 < 1000000) {
        for (int k = 0; k < 256; k++, n++) {
            json_t *ev = next_event(&g);
            dm_feed(m, ev);
            json_decref(ev);
        }
        uint64_t now = mono_us();
        if (now - last_frame >= FRAME_US) {
            frame(&s, m);
            last_frame = now;
        }
    }
    el = (double)(mono_us() - t0) / 1e6;
    printf("flat out: %.0f ev/s into the model with %.1f redraws/s\n", (double)n / el,
           (double)(s.frames - f0) / el);

    /* 3. idle: a status snapshot per node every 500 ms */
    if (idle > 0) {
        f0 = s.frames;
        t0 = mono_us();
        c0 = cpu_us();
        uint64_t next_status = t0;
        dur = (uint64_t)(idle * 1e6);
        while (mono_us() - t0 < dur) {
            uint64_t now = mono_us();
            if (now >= next_status) {
                for (int i = 0; i < g.nodes; i++) {
                    json_t *ev = status_event(&g, i);
                    dm_feed(m, ev);
                    json_decref(ev);
                }
                next_status += 500000;
                dirty = true;
            }
            if (dirty) {
                frame(&s, m);
                dirty = false;
            }
            uint64_t wait = next_status > mono_us() ? next_status - mono_us() : 0;
            sleep_us(wait);
        }
        el = (double)(mono_us() - t0) / 1e6;
        cpu = (double)(cpu_us() - c0) / 1e6;
        printf("idle: %.1f redraws/s, CPU %.2f%% of a core\n", (double)(s.frames - f0) / el,
               100.0 * cpu / el);
    }
    canvas_free(&s.c);
    dm_destroy(&m);
    return 0;
}
