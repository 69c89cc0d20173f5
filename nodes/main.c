/* conlab-node — one node process: parses its command line and hands over to the runtime.
 * The lab spawns it; a person rarely runs it by hand (see `conlab-node --help`). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "envelope.h"
#include "runtime.h"
#include "version.h"

static void usage(FILE *f)
{
    fputs("usage: conlab-node --id nK --mode MODE --dir DATADIR --ctl EP --events EP\n"
          "                   [--bind EP] [--peer-bind EP] [--peer-key nK=KEY]... [--nodes N]\n"
          "                   [--lab-pid PID] [--opt key=value]...\n"
          "       conlab-node --check --id nK --mode MODE --dir DATADIR [--opt key=value]...\n"
          "One node of a conlab cluster. The lab starts it; it binds its client socket on --bind\n"
          "and its peer socket on --peer-bind (both default tcp://127.0.0.1:*), registers with the\n"
          "lab's control socket, PUSHes events, and exits when the lab tells it to, on SIGTERM, or\n"
          "when the lab dies. With auth=curve (the default) the peer socket admits only the keys\n"
          "given by --peer-key (CURVE public keys, Z85); the node's own secret key comes in the\n"
          "environment variable CONLAB_NODE_SECRET, never on the command line.\n"
          "--check recovers the node's state from DATADIR and exits: 0 if it could start, 1 with\n"
          "the reason (a corrupt file, its record and offset) if not.\n", f);
}

int main(int argc, char **argv)
{
    struct runtime_config c;
    memset(&c, 0, sizeof c);
    c.bind = "tcp://127.0.0.1:*";
    c.n_nodes = 3;
    const char *mode = NULL;
    int check = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(a, "--version")) {
            printf("conlab-node %s (commit %s)\n", conlab_version, conlab_commit);
            return 0;
        }
        if (!strcmp(a, "--check")) {
            check = 1;
            continue;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "conlab-node: %s needs a value\n", a);
            usage(stderr);
            return 2;
        }
        const char *v = argv[++i];
        if (!strcmp(a, "--id"))
            c.id = v;
        else if (!strcmp(a, "--mode"))
            mode = v;
        else if (!strcmp(a, "--dir"))
            c.dir = v;
        else if (!strcmp(a, "--bind"))
            c.bind = v;
        else if (!strcmp(a, "--peer-bind"))
            c.peer_bind = v;
        else if (!strcmp(a, "--peer-key")) {
            const char *eq = strchr(v, '=');
            char id[CL_IDLEN] = "";
            int idx;
            if (eq && (size_t)(eq - v) < sizeof id)
                memcpy(id, v, (size_t)(eq - v));
            if (!eq || parse_node_id(id, CL_MAXNODES, &idx) < 0 || !runtime_valid_key(eq + 1)) {
                fprintf(stderr, "conlab-node: --peer-key wants nK=KEY (a 40-character Z85 CURVE key), got %s\n", v);
                return 2;
            }
            str_copy(c.peer_key[idx], eq + 1, sizeof c.peer_key[idx]);
        }
        else if (!strcmp(a, "--ctl"))
            c.ctl = v;
        else if (!strcmp(a, "--events"))
            c.events = v;
        else if (!strcmp(a, "--nodes"))
            c.n_nodes = atoi(v);
        else if (!strcmp(a, "--lab-pid"))
            c.lab_pid = atoi(v);
        else if (!strcmp(a, "--opt")) {
            const char *eq = strchr(v, '=');
            if (!eq) {
                fprintf(stderr, "conlab-node: --opt wants key=value, got %s\n", v);
                return 2;
            }
            char *k = xstrndup(v, (size_t)(eq - v));
            opts_set(&c.opts, k, eq + 1);
            free(k);
        } else {
            fprintf(stderr, "conlab-node: unknown argument %s\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (check && c.id && mode && c.dir && !c.ctl && !c.events)
        c.ctl = c.events = "";
    if (!c.id || !envelope_valid_id(c.id) || !mode || !c.dir || !c.ctl || !c.events) {
        fprintf(stderr, "conlab-node: --id, --mode, --dir, --ctl and --events are required\n");
        usage(stderr);
        return 2;
    }
    if (c.n_nodes < 1 || c.n_nodes > CL_MAXNODES) {
        fprintf(stderr, "conlab-node: --nodes must be 1..%d\n", CL_MAXNODES);
        return 2;
    }
    c.mode = mode_find(mode);
    if (!c.mode) {
        fprintf(stderr, "conlab-node: unknown mode %s\n", mode);
        return 2;
    }
    char err[512];
    if (mode_check_opts(c.mode, &c.opts, err, sizeof err) < 0) {
        fprintf(stderr, "conlab-node: %s\n", err);
        return 2;
    }
    c.auth = strcmp(opts_get(&c.opts, "auth", "curve"), "off") != 0;
    char *secret = getenv("CONLAB_NODE_SECRET");
    if (secret) {
        str_copy(c.secret, secret, sizeof c.secret);
        memset(secret, 'x', strlen(secret)); /* out of /proc/PID/environ too */
    }
    if (check) {
        c.auth = 0;
        int rc = runtime_check(&c, err, sizeof err);
        if (rc < 0)
            fprintf(stderr, "conlab-node %s: %s\n", c.id, err);
        else
            printf("conlab-node %s: %s can start\n", c.id, c.dir);
        opts_free(&c.opts);
        return rc < 0 ? 1 : 0;
    }
    int rc = runtime_run(&c);
    opts_free(&c.opts);
    return rc;
}
