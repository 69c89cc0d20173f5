/* env — the environment a mode runs in (DESIGN §3).
 *
 * A mode never touches ZeroMQ, the system clock, files or rand(). It sees only this
 * interface: send a message, set and cancel timers, read its node-local clock, persist and
 * load durable state, emit events, draw random numbers. Two implementations exist:
 *   - the runtime (nodes/runtime.c): real sockets, a timer heap, the fault shim, fsync;
 *   - the simulator (nodes/sim/sim.c): virtual time, a seeded RNG, in-memory "disks" that lose
 *     what was not synced when a node crashes.
 *
 * Message bodies are jansson objects (json_t) in Maelstrom's shape: {"type":..,"msg_id":..}.
 * Ownership: env_send() and env_event() take the reference they are given (steal it).
 * Every body a mode receives is borrowed for the duration of the handler.
 */
#ifndef CONLAB_ENV_H
#define CONLAB_ENV_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

struct env;

struct env_ops {
    /* Send body to dest (a node id such as "n2", or a client id that sent us a message).
     * Steals body. The runtime stamps the envelope (src, dest, clocks) and applies faults. */
    void (*send)(struct env *e, const char *dest, json_t *body);
    /* Arm a one-shot timer after delay_us of protocol time (scaled by the lab's speed).
     * When it fires the mode's on_timer(kind, arg) runs. Returns an id > 0. */
    uint64_t (*timer_set)(struct env *e, uint64_t delay_us, int kind, uint64_t arg);
    void (*timer_cancel)(struct env *e, uint64_t id);
    /* Node-local physical clock in microseconds: real time plus injected skew, bumps and
     * strobes. Use it for timestamps and leases, never to order events across nodes. */
    uint64_t (*now_us)(struct env *e);
    /* Emit an event {"ev":ev, ...fields}. Steals fields (may be NULL). */
    void (*event)(struct env *e, const char *ev, json_t *fields);
    /* Uniform random 64-bit number (seeded in the simulator). */
    uint64_t (*rand64)(struct env *e);
    /* The lab's speed factor now (1 = normal, 0.1 = ten times slower; it may change at any
     * time). Timers follow it, armed ones included; now_us does not. So a mode that
     * measures on now_us a duration it compares with its timer delays divides by it. NULL
     * means 1. */
    double (*speed)(struct env *e);

    /* Durable state. A "blob" is a small named file replaced atomically (write, fsync,
     * rename). A "log" is an append-only file of records; appends are buffered until
     * log_sync(), which fsyncs (unless the lab runs with fsync=off). On a crash, whatever
     * was not synced may be lost: the simulator drops it on purpose. */
    int (*blob_put)(struct env *e, const char *name, const void *data, size_t len);
    /* Returns 0 and a malloc'd copy in *data (caller frees), or CL_ENOENT. */
    int (*blob_get)(struct env *e, const char *name, char **data, size_t *len);
    int (*log_append)(struct env *e, const char *name, const void *data, size_t len);
    int (*log_sync)(struct env *e, const char *name);
    /* Keep only the first nrec records (a truncation is durable when it returns). */
    int (*log_truncate)(struct env *e, const char *name, size_t nrec);
    /* Calls fn for each durable record in order; returns the count or a negative error. */
    long (*log_read)(struct env *e, const char *name,
                     void (*fn)(void *ud, const void *data, size_t len), void *ud);

    /* An outside program the node hosts (a Maelstrom node: nodes/modes/maelstrom/). NULL
     * where the environment cannot run one (the simulator). prog_start runs argv[0] (a path,
     * or a name looked up in PATH) with pipes on its stdin and stdout and the node's stderr;
     * it dies with the node (crash, pause and resume reach it too). Every line it writes
     * on stdout goes to the mode's on_prog_line, its end to on_prog_exit (mode.h). Returns 0,
     * or -1 with err ("cannot run PATH: No such file or directory"). */
    int (*prog_start)(struct env *e, char *const argv[], char *err, size_t errlen);
    /* Queues len bytes for the program's stdin (never blocks; dropped once it has exited).
     * Returns 0, or -1 when no program runs. */
    int (*prog_write)(struct env *e, const char *data, size_t len);
    /* STONITH ("shoot the other node in the head"): asks the lab to power node off, out of
     * band (the lab's path is not the network, so partitions do not stop it). The runtime
     * asks the lab, which SIGKILLs the node's process; the simulator crashes it after one
     * network delay. The answer reaches the mode's on_power_off (mode.h) once the node is
     * dead (ok) or the lab refused (not a node, itself). A `fault` event with what
     * "stonith" shows it. Returns 0 once asked, or -1 where nobody can power a node off.
     * NULL means -1. */
    int (*power_off)(struct env *e, const char *node);
};

struct env {
    const struct env_ops *ops;
    void *impl;                 /* the implementation's own state */
    char self[CL_IDLEN];        /* this node's id, "n1" */
    int self_idx;               /* 0-based index of self in nodes[] */
    int n_nodes;                /* nodes in the cluster (may grow with membership change) */
    char (*nodes)[CL_IDLEN];    /* the cluster's node ids, n_nodes of them (the implementation's
                                 * table: CL_MAXNODES in the runtime, up to CL_SIM_MAXNODES in the
                                 * simulator, which shares one table among its nodes) */
    uint64_t msg_seq;           /* last msg_id handed out by env_next_msg_id */
};

static inline void env_send(struct env *e, const char *dest, json_t *body) { e->ops->send(e, dest, body); }
static inline uint64_t env_timer_set(struct env *e, uint64_t us, int kind, uint64_t arg) { return e->ops->timer_set(e, us, kind, arg); }
static inline void env_timer_cancel(struct env *e, uint64_t id) { if (id) e->ops->timer_cancel(e, id); }
static inline uint64_t env_now_us(struct env *e) { return e->ops->now_us(e); }
static inline void env_event(struct env *e, const char *ev, json_t *fields) { e->ops->event(e, ev, fields); }
static inline uint64_t env_rand(struct env *e) { return e->ops->rand64(e); }
static inline int env_power_off(struct env *e, const char *node) { return e->ops->power_off ? e->ops->power_off(e, node) : -1; }
static inline double env_speed(struct env *e) { return e->ops->speed ? e->ops->speed(e) : 1.0; }
/* Uniform in [lo, hi] (inclusive). */
static inline uint64_t env_rand_range(struct env *e, uint64_t lo, uint64_t hi) { return hi <= lo ? lo : lo + env_rand(e) % (hi - lo + 1); }

/* Reply to a client or peer request: copies msg_id into in_reply_to and sends. Steals reply. */
void env_reply(struct env *e, const char *dest, const json_t *req, json_t *reply);
/* Reply {"type":"error","code":code,"text":text} (and "leader" when leader is non-NULL). */
void env_reply_error(struct env *e, const char *dest, const json_t *req, int code,
                     const char *text, const char *leader);
/* Index of a node id in e->nodes, or -1. */
int env_node_index(const struct env *e, const char *id);
/* A new msg_id for outgoing requests, unique within this node incarnation. */
uint64_t env_next_msg_id(struct env *e);

/* Maelstrom error codes (a subset). */
enum {
    ERR_TIMEOUT = 0,
    ERR_NOT_SUPPORTED = 10,
    ERR_TEMPORARILY_UNAVAILABLE = 11,
    ERR_MALFORMED_REQUEST = 12,
    ERR_CRASH = 13,
    ERR_ABORT = 14,
    ERR_KEY_DOES_NOT_EXIST = 20,
    ERR_KEY_ALREADY_EXISTS = 21,
    ERR_PRECONDITION_FAILED = 22,
    ERR_TXN_CONFLICT = 30,
};

#endif
