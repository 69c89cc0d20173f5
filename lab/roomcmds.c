/* roomcmds — see roomcmds.h. */
#include "roomcmds.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lab.h"
#include "lessonhost.h"
#include "live.h"
#include "repl.h"
#include "room.h"
#include "version.h"

enum { OK = 0, RUNTIME = 1, PARSE = 2 };

static int need_room(struct lab *lab)
{
    if (lab->room)
        return 1;
    lab_err(lab, "this lab is not a classroom: start one with conlab serve --bind ADDR:PORT --cluster FILE");
    return 0;
}

static int cmd_hosts(struct lab *lab, int argc, char **argv)
{
    (void)argc; (void)argv;
    if (!need_room(lab))
        return RUNTIME;
    struct sb b = {0};
    room_describe(lab->room, &b);
    lab_out(lab, "%s", b.s);
    sb_free(&b);
    return OK;
}

/* The kernel's rules of every host, with what the counters measured. */
static void describe_kernel(struct lab *lab, struct sb *b)
{
    struct room *r = lab->room;
    int any = 0;
    for (int h = 0; h < room_nhosts(r); h++) {
        const struct room_host *rh = room_host(r, h);
        size_t i;
        json_t *rule;
        json_array_foreach(rh->rules, i, rule) {
            const char *link = json_string_value(json_object_get(rule, "link"));
            json_int_t loss = json_integer_value(json_object_get(rule, "loss"));
            json_t *c = json_object_get(json_object_get(rh->counters, "rules"), link ? link : "");
            json_int_t seen = json_integer_value(json_object_get(c, "seen"));
            json_int_t dropped = json_integer_value(json_object_get(c, "dropped"));
            sb_printf(b, "  on %s: %s %s (nft: %s:%lld from %s)", rh->name, link ? link : "?",
                      loss >= 100 ? "cut" : "", json_string_value(json_object_get(rule, "dst")),
                      (long long)json_integer_value(json_object_get(rule, "dport")),
                      json_string_value(json_object_get(rule, "src")));
            if (loss < 100)
                sb_printf(b, " loss %lld%%", (long long)loss);
            if (c)
                sb_printf(b, "; on the wire %lld packets, %lld dropped (%.1f%%)", (long long)seen, (long long)dropped,
                          seen ? 100.0 * (double)dropped / (double)seen : 0.0);
            sb_addc(b, '\n');
            any = 1;
        }
        if (rh->counters && json_integer_value(json_object_get(rh->counters, "seen")))
            sb_printf(b, "  %s in all: %lld packets seen by its rules, %lld dropped (%.1f%%)\n", rh->name,
                      (long long)json_integer_value(json_object_get(rh->counters, "seen")),
                      (long long)json_integer_value(json_object_get(rh->counters, "dropped")),
                      100.0 * (double)json_integer_value(json_object_get(rh->counters, "dropped")) /
                          (double)json_integer_value(json_object_get(rh->counters, "seen")));
    }
    if (!any)
        sb_add(b, "  no rule: no cut or loss between hosts\n");
}

static int cmd_faults(struct lab *lab, int argc, char **argv)
{
    if (!need_room(lab))
        return RUNTIME;
    struct room *r = lab->room;
    struct sb b = {0};
    if (argc == 2 && !strcmp(argv[1], "kernel")) {
        for (int h = 0; h < room_nhosts(r); h++) {
            const struct room_host *rh = room_host(r, h);
            if (rh->joined && strcmp(rh->nft, "ok")) {
                lab_err(lab, "host %s cannot: %s (its agent must run as root, with nftables)", rh->name, rh->nft);
                return RUNTIME;
            }
        }
        room_set_kernel(r, 1);
        if (lab->cl && !lab->cl->sim)
            lab->cl->ops->push_faults(lab->cl);
        sb_add(&b, "faults kernel: cuts, partitions and loss between hosts are nftables rules on the hosts now "
                   "(loss drops packets: TCP resends them, so a message comes late rather than never); links "
                   "within a host, delay, duplication and reordering stay in the node shim");
        for (int h = 0; h < room_nhosts(r); h++) {
            const struct room_host *rh = room_host(r, h);
            if (rh->joined && strcmp(rh->netem, "ok"))
                sb_printf(&b, "\n  %s has no tc netem (%s)", rh->name, rh->netem);
            else if (rh->joined)
                sb_printf(&b, "\n  %s has tc netem, which conlab does not use yet", rh->name);
        }
        lab_event(lab, "output", json_pack("{s:s,s:s}", "text", "faults kernel", "what", "faults-backend"));
    } else if (argc == 2 && !strcmp(argv[1], "shim")) {
        room_set_kernel(r, 0);
        if (lab->cl && !lab->cl->sim)
            lab->cl->ops->push_faults(lab->cl);
        sb_add(&b, "faults shim: every network fault is the nodes' own again (the hosts' rules are gone)");
        lab_event(lab, "output", json_pack("{s:s,s:s}", "text", "faults shim", "what", "faults-backend"));
    } else if (argc == 1) {
        if (!room_kernel(r)) {
            sb_add(&b, "faults shim: the nodes drop, delay, duplicate and reorder their own messages");
        } else {
            room_fetch_counters(r, 3000000);
            sb_add(&b, "faults kernel: nftables rules on the hosts\n");
            describe_kernel(lab, &b);
            while (b.len && b.s[b.len - 1] == '\n')
                b.s[--b.len] = 0;
        }
    } else {
        lab_err(lab, "usage: faults [kernel|shim]");
        sb_free(&b);
        return PARSE;
    }
    lab_out(lab, "%s", b.s);
    sb_free(&b);
    return OK;
}

/* ---- load: closed-loop writers through the lab's gateway (a classroom's benchmark) ---- */

struct load {
    struct lab *lab;
    uint64_t end_us, ok, failed, info, seq;
    double *lat;
    size_t nlat, cap;
};

static void load_next(struct load *l, int process);

static void load_done(void *ud, struct op *op)
{
    struct load *l = ud;
    int process = op->process;
    uint64_t start = (uint64_t)json_integer_value(json_object_get(op->invoke, "time")) / 1000;
    if (op->outcome == OP_OK) {
        l->ok++;
        if (l->nlat == l->cap) {
            l->cap = l->cap ? l->cap * 2 : 4096;
            l->lat = xrealloc(l->lat, l->cap * sizeof *l->lat);
        }
        l->lat[l->nlat++] = (double)(cluster_now(l->lab->cl) - start) / 1000.0;
    } else if (op->outcome == OP_FAIL) {
        l->failed++;
    } else {
        l->info++;
    }
    op->done = NULL;
    lab_op_free(op);
    if (mono_us() < l->end_us)
        load_next(l, process);
}

static void load_next(struct load *l, int process)
{
    char key[32], val[32];
    snprintf(key, sizeof key, "load%llu", (unsigned long long)(l->seq % 16));
    snprintf(val, sizeof val, "%llu", (unsigned long long)++l->seq);
    json_t *v = json_string(val);
    struct op *op = lab_op_start(l->lab, "write", key, v, -1, NULL, process);
    json_decref(v);
    if (!op)
        return;
    if (op->outcome != OP_PENDING) {
        load_done(l, op);
        return;
    }
    op->done = load_done;
    op->done_ud = l;
}

static int cmp_ms(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int cmd_load(struct lab *lab, int argc, char **argv)
{
    uint64_t dur;
    int64_t clients = 4;
    if (parse_duration_us(argv[1], &dur) < 0 || dur < 100000 || dur > 600000000) {
        lab_err(lab, "bad duration '%s': from 100ms to 10m, e.g. 5s", argv[1]);
        return PARSE;
    }
    if (argc > 2 && (parse_i64(argv[2], &clients) < 0 || clients < 1 || clients > 64)) {
        lab_err(lab, "bad client count '%s': from 1 to 64", argv[2]);
        return PARSE;
    }
    if (!lab->cl) {
        lab_err(lab, "no cluster: start one first");
        return RUNTIME;
    }
    struct load l = {.lab = lab};
    uint64_t ev0 = lab->ev_total, t0 = mono_us();
    l.end_us = t0 + dur;
    for (int c = 0; c < clients; c++)
        load_next(&l, lab->next_process++);
    /* the last writes end within their timeout after the deadline */
    uint64_t hard = l.end_us + lab_timeout_us(lab) + 1000000;
    while (mono_us() < hard && !lab->interrupted) {
        int pending = 0;
        for (int i = 0; i < LAB_MAX_OPS; i++)
            pending += lab->ops[i].used && lab->ops[i].done == load_done;
        if (!pending && mono_us() >= l.end_us)
            break;
        lab_pump(lab, 10000, -1);
    }
    double secs = (double)(mono_us() - t0) / 1e6;
    qsort(l.lat, l.nlat, sizeof *l.lat, cmp_ms);
    double p50 = l.nlat ? l.lat[l.nlat / 2] : 0, p99 = l.nlat ? l.lat[(size_t)((double)(l.nlat - 1) * 0.99)] : 0;
    lab_out(lab, "load: %lld clients, %.1f s: %llu writes ok (%.0f/s), %llu failed, %llu indeterminate; latency p50 "
            "%.2f ms, p99 %.2f ms; %.0f events/s collected",
            (long long)clients, secs, (unsigned long long)l.ok, (double)l.ok / secs, (unsigned long long)l.failed,
            (unsigned long long)l.info, p50, p99, (double)(lab->ev_total - ev0) / secs);
    free(l.lat);
    return OK;
}

static const struct lab_command room_commands[] = {
    {"hosts", "hosts", "A classroom's hosts (conlab serve): which nodes each runs, whether its agent (conlab join) is there and from where, and the dashboards attached.", "hosts", 0, 0, cmd_hosts},
    {"faults", "faults [kernel|shim]", "A classroom's fault backend (conlab serve, agents as root): kernel puts cuts, partitions and loss between hosts into nftables rules on the hosts (random drop for loss), as Jepsen's nemesis does; shim (the default) leaves every fault to the nodes. Delay, duplication and reordering always stay in the shim. Without a word: the rules, and the packets each saw and dropped on the wire.", "faults kernel", 0, 1, cmd_faults},
    {"load", "load DURATION [CLIENTS]", "Closed-loop writers (default 4) through the gateway for DURATION: writes per second, latency p50 and p99, events per second the lab collected. Every write is in the history.", "load 5s 4", 1, 2, cmd_load},
    {NULL, NULL, NULL, NULL, 0, 0, NULL},
};

void roomcmds_install(void)
{
    lab_add_commands(room_commands);
}

static void serve_usage(FILE *f)
{
    fputs("usage: conlab serve --bind ADDR:PORT --cluster FILE [--key FILE] [--allow FILE]\n"
          "                    [--plain] [--no-color] [SCRIPT...]\n"
          "  A classroom lab: the cluster file names the hosts and how many nodes each runs;\n"
          "  each host runs conlab join, and the lab drives every node through those agents\n"
          "  (every command works as on one machine; `partition hostA | hostB,hostC` takes the\n"
          "  hosts' names). Every connection is CURVE-authenticated: --key is the lab's key file\n"
          "  (conlab keygen; without it a new key for this run), the cluster file's hosts' keys\n"
          "  and --allow FILE (one public key a line) are the keys admitted (agents, attached\n"
          "  dashboards). Without keys in the cluster file only a loopback ADDR is accepted.\n"
          "  With SCRIPT files, runs them like conlab script and exits with their status.\n",
          f);
}

static void room_to_lab(void *ud, const char *ev, json_t *fields)
{
    lab_event(ud, ev, fields);
}

int serve_main(int argc, char **argv, const char *argv0)
{
    const char *bind = NULL, *cluster = NULL, *key = NULL, *allow = NULL;
    int plain = 0, no_color = 0, nscripts = 0;
    char **scripts = calloc((size_t)argc + 1, sizeof *scripts);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            serve_usage(stdout);
            free(scripts);
            return 0;
        } else if (!strcmp(a, "--bind") && i + 1 < argc) {
            bind = argv[++i];
        } else if (!strcmp(a, "--cluster") && i + 1 < argc) {
            cluster = argv[++i];
        } else if (!strcmp(a, "--key") && i + 1 < argc) {
            key = argv[++i];
        } else if (!strcmp(a, "--allow") && i + 1 < argc) {
            allow = argv[++i];
        } else if (!strcmp(a, "--plain")) {
            plain = 1;
        } else if (!strcmp(a, "--no-color")) {
            no_color = 1;
        } else if (a[0] != '-' || !strcmp(a, "-")) {
            scripts[nscripts++] = argv[i];
        } else {
            fprintf(stderr, "conlab serve: unknown argument '%s'\n", a);
            serve_usage(stderr);
            free(scripts);
            return 2;
        }
    }
    if (!bind || !cluster) {
        fprintf(stderr, "conlab serve: %s\n", !bind ? "--bind ADDR:PORT is required (e.g. --bind 0.0.0.0:7400)"
                                                    : "--cluster FILE is required (the hosts and their nodes)");
        free(scripts);
        return 2;
    }
    struct lab lab;
    char err[1024];
    if (lab_init(&lab, argv0, err, sizeof err) < 0) {
        fprintf(stderr, "conlab serve: %s\n", err);
        free(scripts);
        return 1;
    }
    struct room_config rc = {.bind = bind, .cluster = cluster, .key = key, .allow = allow,
                             .on_event = room_to_lab, .ud = &lab};
    lab.room = room_open(&rc, err, sizeof err);
    if (!lab.room) {
        fprintf(stderr, "conlab serve: %s\n", err);
        lab_destroy(&lab);
        free(scripts);
        return 2;
    }
    lab.snapshots = 1; /* attached dashboards see the nodes' states */
    lessonhost_install(&lab);
    roomcmds_install();
    fprintf(stderr, "conlab serve: classroom on %s, server key %s\n", room_endpoint(lab.room), room_server_key(lab.room));
    fprintf(stderr, "conlab serve: on each host: conlab join %s --key HOST.key --server-key '%s'\n",
            room_endpoint(lab.room) + 6, room_server_key(lab.room));
    int code;
    if (nscripts) {
        code = script_run(&lab, nscripts, scripts);
    } else {
        code = -1;
        if (!plain && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO)) {
            code = live_run(&lab, NULL, no_color, err, sizeof err);
            if (code < 0)
                fprintf(stderr, "conlab serve: no dashboard (%s): using the plain REPL\n", err);
        }
        if (code < 0) {
            if (isatty(STDIN_FILENO))
                printf("conlab %s classroom: type 'help' for commands, 'hosts' for the hosts.\n", conlab_version);
            code = repl_run(&lab, NULL);
        }
    }
    lab_destroy(&lab);
    free(scripts);
    return code;
}
