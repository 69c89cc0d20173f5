/* lab — the state of one conlab session and the machinery every command uses: the cluster
 * (processes or simulator), the event collector, the lab's view of who leads, the client
 * gateway (requests with a timeout, redirects followed, every operation recorded in the
 * history), output, and the hooks through which the dashboard, the invariant monitor and the
 * lesson engine watch events. One per process; single-threaded; its loop is lab_pump(). */
#ifndef CONLAB_LAB_H
#define CONLAB_LAB_H

#include <jansson.h>
#include <stdio.h>

#include "cluster.h"
#include "recorder.h"
#include "util.h"

/* What the lab believes about a node, from its events and status replies. */
struct node_view {
    char role[24];
    int64_t term;               /* term or epoch; -1 unknown */
    char leader[CL_IDLEN];      /* whom it believes leads */
};

enum op_outcome { OP_PENDING, OP_OK, OP_FAIL, OP_INFO };

/* One client operation in flight through the gateway. */
struct op {
    int used;
    int process;
    char client[CL_IDLEN];
    char f[8];                  /* read | write | cas */
    json_t *body;               /* the request sent (without msg_id) */
    json_t *invoke;             /* the invoke record (borrowed from the recorder) */
    int node;                   /* node currently asked */
    int hops;
    uint64_t msg_id;
    uint64_t deadline;          /* cluster time, µs */
    enum op_outcome outcome;
    json_t *reply;              /* the final reply body, when any */
    void (*done)(void *ud, struct op *op);
    void *done_ud;
};

#define LAB_MAX_OPS 512
#define LAB_MAX_EVENTS 200000

struct lab_hooks {
    void *ud;
    void (*on_event)(void *ud, const json_t *ev);      /* every event, after the lab's own */
    void (*on_output)(void *ud, const char *text);    /* command output (replaces stdout) */
    void (*before_sleep)(void *ud);                   /* each turn of the loop (redraws) */
};

struct lab {
    struct cluster *cl;
    char run_dir[512];          /* rundir.h: this lab's own, locked while it lives */
    int run_lock;
    char node_bin[512];
    char lessons_dir[512];
    struct node_view view[CL_MAXN];
    struct recorder hist;
    struct op ops[LAB_MAX_OPS];
    int repl_process;           /* the REPL's client process; a new one after each info */
    int next_process;
    uint64_t next_msg_id;
    json_t **events;            /* the most recent events (a ring) */
    size_t ev_head, ev_count;
    uint64_t ev_total;
    FILE *trace;
    struct rng rng;             /* for partition shapes: seeded by seed= */
    uint64_t seed;
    int interrupted;            /* Ctrl-C during a wait */
    int quit;
    int failed;                 /* a command errored or an expect failed (scripts) */
    int script_line;
    struct lab_hooks hooks[4];
    int nhooks;
    void *monitor;              /* the mode's live invariant monitor, when it has one */
    const struct mode_monitor *monitor_ops;
    struct publisher *pub;      /* events for `conlab dash` */
    void *lesson;               /* the running lesson (lessonhost.c), when any */
    int snapshots;              /* emit node statuses as events twice a second (screens) */
    uint64_t last_snapshot;
    json_t *cluster_ev;         /* the last "cluster" event, re-published for late viewers */
    json_t *net_ev;             /* the last partition/heal/cut event, likewise */
    uint64_t last_refresh;      /* mono µs of the last status round when picking a node */
    json_t *contexts;           /* "p<process>/<key>" -> the last read's version context */
    int alerts;
};

int lab_init(struct lab *lab, const char *argv0, char *err, size_t errlen);
void lab_destroy(struct lab *lab);
void lab_add_hooks(struct lab *lab, const struct lab_hooks *h);

/* Output: one or more lines to the user (stdout, or the dashboard). */
void lab_out(struct lab *lab, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* An error line; marks the session failed (scripts exit 1). */
void lab_err(struct lab *lab, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Runs the lab's loop for up to timeout_us, or until fd is readable (fd < 0: none). */
int lab_pump(struct lab *lab, uint64_t timeout_us, int fd);
/* Lab-made event (fault, output, lesson, …): stamped, collected and shown to hooks. */
void lab_event(struct lab *lab, const char *ev, json_t *fields);

/* Starts a cluster (stops any running one). Returns 0 or an error (reported). */
int lab_start(struct lab *lab, const char *mode, int n, const struct opts *o);
void lab_stop(struct lab *lab);

/* Queries every live node's status and refreshes the view. statuses[i] receives the status
 * (caller frees each) when statuses is non-NULL. */
void lab_refresh(struct lab *lab, json_t *statuses[CL_MAXN]);
/* The leader the lab sees in the highest term (-1 when none). Refreshes when asked. */
int lab_leader(struct lab *lab, int refresh);
/* Is a leader known to a majority? Fills *leader and *term. */
int lab_leader_agreed(struct lab *lab, int *leader, int64_t *term);
/* Parses NODE: "n3" or "leader". Reports and returns CL_EINVAL when bad. */
int lab_parse_node(struct lab *lab, const char *s, int *idx);

/* Starts a client operation; returns NULL (reported) when it cannot be sent. value is
 * borrowed. node < 0 picks the leader or the first live node. extra (borrowed, may be NULL)
 * is merged into the request body (cl=, w=, r=). process < 0 uses the REPL's process. */
struct op *lab_op_start(struct lab *lab, const char *f, const char *key, const json_t *value,
                        int node, const json_t *extra, int process);
/* Pumps until op completes; returns its outcome. The op is released by lab_op_free. */
enum op_outcome lab_op_wait(struct lab *lab, struct op *op);
void lab_op_free(struct op *op);
/* The op's result as the REPL prints it: "ok", "1", "nil", "error 11 not the leader", "timeout". */
void lab_op_describe(const struct op *op, struct sb *out);
/* The same without the "[via nK]" note: just the value or the outcome. */
void lab_op_result(const struct op *op, struct sb *out);

/* The client timeout for this cluster, in cluster time (µs). */
uint64_t lab_timeout_us(const struct lab *lab);

/* Runs one command line (may hold several commands separated by ';'). Returns 0, 1 for a
 * runtime failure, 2 for a parse error. */
int lab_exec(struct lab *lab, const char *line);
/* Checks a line's syntax without running it (scripts): 0 or 2 with msg filled. */
int lab_validate(struct lab *lab, const char *line, char *msg, size_t msglen);

/* Judges the recorded history: what = linearizable|sessions|sequential. 0 holds, 1 violated,
 * 2 unknown or not judgeable; the report is appended to out. */
int lab_check_history(struct lab *lab, const char *what, struct sb *out);
/* Do all live replicas hold the same data (each key on its replicas, for leaderless)? */
int lab_converged(struct lab *lab, struct sb *why);

/* Command names for completion (NULL-terminated, static). */
const char *const *lab_command_names(void);

#endif
