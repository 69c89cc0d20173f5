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
          "                   [--bind EP] [--nodes N] [--lab-pid PID] [--opt key=value]...\n"
          "One node of a conlab cluster. The lab starts it; it binds a ROUTER socket on --bind\n"
          "(default tcp://127.0.0.1:*), registers with the lab's control socket, PUSHes events,\n"
          "and exits when the lab tells it to, on SIGTERM, or when the lab dies.\n", f);
}

int main(int argc, char **argv)
{
    struct runtime_config c;
    memset(&c, 0, sizeof c);
    c.bind = "tcp://127.0.0.1:*";
    c.n_nodes = 3;
    const char *mode = NULL;
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
    if (!c.id || !envelope_valid_id(c.id) || !mode || !c.dir || !c.ctl || !c.events) {
        fprintf(stderr, "conlab-node: --id, --mode, --dir, --ctl and --events are required\n");
        usage(stderr);
        return 2;
    }
    if (c.n_nodes < 1 || c.n_nodes > CL_MAXN) {
        fprintf(stderr, "conlab-node: --nodes must be 1..%d\n", CL_MAXN);
        return 2;
    }
    c.mode = mode_find(mode);
    if (!c.mode) {
        fprintf(stderr, "conlab-node: unknown mode %s\n", mode);
        return 2;
    }
    char err[256];
    if (mode_check_opts(c.mode, &c.opts, err, sizeof err) < 0) {
        fprintf(stderr, "conlab-node: %s\n", err);
        return 2;
    }
    int rc = runtime_run(&c);
    opts_free(&c.opts);
    return rc;
}
