/* runtime — the real environment of one node process (DESIGN §3, env.h): one zmq_poll loop
 * over the node's ROUTER, its control DEALER and a signal self-pipe; a timer heap for the
 * mode's timers; the fault shim (cuts, delay with jitter, loss, duplication, reordering, with
 * delayed messages held here in the sender, so they die with it); the node's clocks; durable
 * state through storage.c; events PUSHed to the lab without ever blocking.
 *
 * Loop phases: read the clock once; run due timers and due delayed sends; compute the poll
 * timeout from the earliest of them; poll; dispatch; check the lab is still there.
 */
#ifndef CONLAB_RUNTIME_H
#define CONLAB_RUNTIME_H

#include "mode.h"

struct runtime_config {
    const char *id;            /* "n1" */
    const struct mode *mode;
    struct opts opts;          /* the mode's and the generic options */
    const char *dir;           /* data directory */
    const char *bind;          /* e.g. tcp://127.0.0.1:* or tcp://127.0.0.1:7101 */
    const char *ctl;           /* the lab's control ROUTER */
    const char *events;        /* the lab's event PULL */
    int n_nodes;
    int lab_pid;               /* exit when the parent is no longer this pid (0: never) */
};

/* Runs the node until shutdown, a signal, or the lab's death. Returns the exit status. */
int runtime_run(const struct runtime_config *c);

#endif
