/* runtime — the real environment of one node process (DESIGN §3, env.h): one zmq_poll loop
 * over the node's two ROUTERs, its control DEALER, the ZAP handler and a signal self-pipe; a
 * timer heap for the mode's timers; the fault shim (cuts, delay with jitter, loss,
 * duplication, reordering, with delayed messages held here in the sender, so they die with
 * it); the node's clocks; durable state through storage.c; events PUSHed to the lab without
 * ever blocking.
 *
 * Two sockets, two kinds of sender (docs/protocol.md §1):
 *   - the client socket (--bind, the endpoint `endpoints` lists) is open to any program, which
 *     may send only client bodies (read, write, cas, delete, echo) under an id of its choosing
 *     that is not a node's id;
 *   - the peer socket (--peer-bind) takes only the cluster's nodes. With auth=curve (the
 *     default) it is a CURVE server and the ZAP handler here admits a connection only when its
 *     public key is one of the cluster's (handed over by the lab, which generates one keypair
 *     per node per run): the key, never the sender's claim, says which node sent a message.
 *     With auth=off it takes anyone and trusts the routing id (for lessons that show why not).
 *
 * Loop phases: read the clock once; run due timers and due delayed sends; compute the poll
 * timeout from the earliest of them; poll; dispatch; check the lab is still there. Until the
 * lab's first `peers` message the mode has not started: only control, ZAP and signals are
 * served; then only ZAP and signals until the connections to the live peers are up (or 1 s
 * has passed) and the mode has started, so every later control message finds it running.
 */
#ifndef CONLAB_RUNTIME_H
#define CONLAB_RUNTIME_H

#include "mode.h"

struct runtime_config {
    const char *id;            /* "n1" */
    const struct mode *mode;
    struct opts opts;          /* the mode's and the generic options */
    const char *dir;           /* data directory */
    const char *bind;          /* client socket, e.g. tcp://127.0.0.1:* or tcp://127.0.0.1:7101 */
    const char *peer_bind;     /* peer socket, e.g. tcp://127.0.0.1:* */
    int auth;                  /* 1: CURVE between peers with the keys below; 0: none */
    char secret[41];           /* this node's CURVE secret key (Z85) */
    char peer_key[CL_MAXNODES][41];/* every node's CURVE public key (Z85), "" when not known yet */
    const char *ctl;           /* the lab's control ROUTER */
    const char *events;        /* the lab's event PULL */
    int n_nodes;
    int lab_pid;               /* exit when the parent is no longer this pid (0: never) */
};

/* Runs the node until shutdown, a signal, or the lab's death. Returns the exit status. */
int runtime_run(const struct runtime_config *c);
/* Checks that the node could start on its data directory: opens the storage (see storage.h)
 * and recovers the mode's state, without any socket. Returns 0, or -1 with the reason the
 * node would give in err. Torn tails are cut, as a start would. */
int runtime_check(const struct runtime_config *c, char *err, size_t errlen);
/* Is s a CURVE key in Z85 (40 characters that decode)? */
int runtime_valid_key(const char *s);

#endif
