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

static const struct lab_command room_commands[] = {
    {"hosts", "hosts", "A classroom's hosts (conlab serve): which nodes each runs, whether its agent (conlab join) is there and from where, and the dashboards attached.", "hosts", 0, 0, cmd_hosts},
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
    fprintf(stderr, "conlab serve: on each host: conlab join %s --key HOST.key --server-key '%s'\n", bind,
            room_server_key(lab.room));
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
