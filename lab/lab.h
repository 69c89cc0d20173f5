/* lab — the state of one conlab session and the machinery every command uses: the cluster
 * (processes or simulator), the event collector, the lab's view of who leads (from the
 * nodes' state events and status replies, read through the mode's face), the client gateway
 * (requests with a timeout, redirects followed, every operation recorded in the history),
 * output, and the hooks through which the dashboard, the mode's invariant monitor and the
 * lesson host watch the session. One per process; single-threaded.
 *
 * The loop is lab_pump(): one flat loop in named phases, like the node's (docs/design.md):
 *
 *   clock     now = mono_us()
 *   due       client deadlines; a status round every 500 ms while screens watch (the
 *             requests go out, the replies come back through dispatch); each hook's on_tick
 *   redraw    each hook's before_sleep (the dashboard's coalesced redraw)
 *   poll      the cluster's sockets (or the hosted simulator) and fd, until the next due work
 *   dispatch  events → collect (view, ring, trace, viewers, hooks' on_event); replies →
 *             operations; status replies → the view and the status cache
 *
 * Nothing inside a turn pumps again: hooks never wait, and the only calls that wait
 * (lab_refresh, lab_op_wait, the commands that wait) run the loop from outside it, which
 * lab_pump() asserts. The lab knows no lesson and no mode by name: the lesson host adds
 * itself through lab_add_hooks() and lab_add_commands(); the mode's monitor runs as a hook. */
#ifndef CONLAB_LAB_H
#define CONLAB_LAB_H

#include <jansson.h>
#include <stdio.h>

#include "cluster.h"
#include "event.h"
#include "recorder.h"
#include "util.h"

struct lab;
struct lab_monitor;

/* What the lab believes about a node, from its events and status replies (event_view_fold). */
struct node_view {
    char role[24];
    int64_t term;               /* term or epoch; -1 unknown */
    char leader[CL_IDLEN];      /* whom it believes leads */
    enum role_class cls;        /* the role's class in the running mode */
    struct ev_view ev;          /* the fold the fields above are read from */
};

enum op_outcome { OP_PENDING, OP_OK, OP_FAIL, OP_INFO };

/* One client operation in flight through the gateway. */
struct op {
    int used;
    int process;
    char client[CL_IDLEN];
    char f[16];                 /* read | write | cas; add | broadcast (workload ops) */
    json_t *body;               /* the request sent (without msg_id) */
    json_t *invoke;             /* the invoke record (borrowed from the recorder) */
    int node;                   /* node currently asked */
    int hops;
    uint64_t msg_id;
    uint64_t deadline;          /* cluster time, µs */
    enum op_outcome outcome;
    int raw;                    /* `send` of a body the history does not know: not recorded */
    int as_is;                  /* `send`: no redirect followed; the reply printed as it is */
    json_t *reply;              /* the final reply body, when any */
    void (*done)(void *ud, struct op *op);
    void *done_ud;
    int64_t latency_us;         /* cluster time from invoke to completion, once complete */
    int workload;               /* a raw send of a workload operation (add, broadcast, read{}): recorded */
};

#define LAB_MAX_OPS 512
#define LAB_MAX_EVENTS 200000
#define LAB_MAX_CLIENTS 8
/* The event history is bounded in bytes too (an estimate of the memory its events take): the
 * oldest events go first, so that the lab's memory stays flat however long it runs. */
#define LAB_EVENT_BYTES (24u << 20)

/* What a watcher of the session plugs in; every callback may be NULL. None may wait or pump
 * (they run inside the loop), except on_line, which runs outside it. */
struct lab_hooks {
    void *ud;
    void (*on_event)(void *ud, const struct event *ev); /* every event, after the lab's own fold */
    void (*on_output)(void *ud, const char *text);      /* command output (replaces stdout) */
    int (*on_line)(void *ud, const char *line);         /* a typed line, before it runs as a
                                                         * command: 1 when the hook took it */
    void (*on_command)(void *ud, int argc, char **argv); /* a command about to run (its words) */
    void (*on_tick)(void *ud);                          /* each turn of the loop: due work */
    void (*before_sleep)(void *ud);                     /* each turn of the loop: redraws */
    void (*on_destroy)(void *ud);                       /* the lab is going away */
};

/* A lab command (DESIGN §7): a table entry with its help, run with the words typed (argv[0]
 * is the name). Returns 0, 1 (runtime failure) or 2 (parse error). */
struct lab_command {
    const char *name;
    const char *usage;
    const char *help;
    const char *example;
    int min, max;               /* arguments after the name; max -1 = any */
    int (*run)(struct lab *lab, int argc, char **argv);
};

struct words;
struct lab {
    struct cluster *cl;
    char run_dir[512];          /* rundir.h: this lab's own, locked while it lives */
    int run_lock;
    char node_bin[512];
    char lessons_dir[512];
    struct node_view view[CL_MAXNODES];
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
    struct lab_hooks hooks[8];
    int nhooks;
    struct lab_monitor *monitor; /* the mode's live invariant monitor (a hook), when it has one */
    struct publisher *pub;      /* events for `conlab dash` */
    void *lesson;               /* the running lesson (lessonhost.c), when any */
    int snapshots;              /* emit node statuses as events twice a second (screens) */
    uint64_t last_snapshot;
    int pumping;                /* inside lab_pump: nothing may pump again */
    json_t *status[CL_MAXNODES];    /* each node's last status reply (owned), NULL when none */
    uint64_t status_at[CL_MAXNODES];/* mono µs of that reply */
    int asked[CL_MAXNODES];         /* a status request is out */
    int for_screens[CL_MAXNODES];   /* its answer becomes a status event (a snapshot round) */
    uint64_t last_round;        /* mono µs of the last status round */
    json_t *cluster_ev;         /* the last "cluster" event, re-published for late viewers */
    json_t *net_ev;             /* the last partition/heal/cut event, likewise */
    json_t *contexts;           /* "p<process>/<key>" -> the last read's version context */
    int alerts;
    /* named clients (`put x 1 as=alice`): each its own process in the history, so that a
     * lesson can stage two clients; a name's process is retired after an info, like the REPL's */
    char client_name[LAB_MAX_CLIENTS][16];
    int client_process[LAB_MAX_CLIENTS];
    int nclients;
    uint32_t *ev_cost;          /* per slot of events[]: its estimated bytes */
    size_t ev_bytes;            /* their sum, at most LAB_EVENT_BYTES (but for the newest) */
    struct room *room;          /* classroom (`conlab serve`, room.h): hosts, dashboards */
    size_t hist_run_from;       /* hist.n when the cluster now running started: its records follow */
    const struct words *words;  /* the command running, as typed (cmdline.h), while it runs:
                                   a value argument's JSON (put x "42") */
};

/* The process of the named client, created on first use; -1 when the table is full. */
int lab_client_process(struct lab *lab, const char *name);
/* After a change to lab->cl->faults: pushes them to the cluster and records a "fault" event
 * (what: "partition", "heal", …; extra, owned, is merged into it; may be NULL). */
void lab_faults_changed(struct lab *lab, const char *what, json_t *extra);
/* `compare [MODE...]` (lab/compare.c). */
int cmd_compare(struct lab *lab, int argc, char **argv);
/* `messages [NODE]` (lab/msgstats.c): count, size and encoding cost per message type. */
int cmd_messages(struct lab *lab, int argc, char **argv);

int lab_init(struct lab *lab, const char *argv0, char *err, size_t errlen);
void lab_destroy(struct lab *lab);
void lab_add_hooks(struct lab *lab, const struct lab_hooks *h);
/* Removes the hooks added with this ud (safe from inside a callback). */
void lab_remove_hooks(struct lab *lab, void *ud);
/* The running mode's live monitor state (mode_monitor.create's), or NULL: what a mode's
 * `wait` conditions (struct mode_wait) read. Borrowed. */
void *lab_monitor_state(struct lab *lab);
/* Adds a table of commands (NULL-name terminated, static) to every lab of the process; `help`
 * lists them after the lab's own. Adding the same table twice is harmless. */
void lab_add_commands(const struct lab_command *table);
/* Tells the hooks that a command is about to run (lab_exec calls it for every command). */
void lab_command_typed(struct lab *lab, int argc, char **argv);
/* Output: one or more lines to the user (stdout, or the dashboard). */
void lab_out(struct lab *lab, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* An error line; marks the session failed (scripts exit 1). */
void lab_err(struct lab *lab, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Runs the lab's loop for up to timeout_us, or until fd is readable (fd < 0: none). Returns
 * 1 when fd is readable, 0 after activity or at the timeout: callers loop on their own
 * condition. Never from inside the loop (a hook, an event callback). */
int lab_pump(struct lab *lab, uint64_t timeout_us, int fd);
/* A line the user typed: offered to the hooks (the lesson's words), else run as commands. */
int lab_input(struct lab *lab, const char *line);
/* Lab-made event (fault, output, lesson, …): stamped, collected and shown to hooks. */
void lab_event(struct lab *lab, const char *ev, json_t *fields);

/* Starts a cluster (stops any running one). Returns 0 or an error (reported). */
int lab_start(struct lab *lab, const char *mode, int n, const struct opts *o);
void lab_stop(struct lab *lab);

/* Asks every live node for its status and runs the loop until each answered (at most 1 s),
 * refreshing the view and the status cache. statuses[i] receives a copy of each status
 * (caller frees each; NULL for a node down, paused or silent) when statuses is non-NULL.
 * Waits: never from inside the loop. */
void lab_refresh(struct lab *lab, json_t *statuses[CL_MAXNODES]);
/* Sends a status request to every live node that has none out, without waiting; the replies
 * update the view and the cache as they arrive. Safe inside the loop. */
void lab_status_round(struct lab *lab);
/* Node idx's last status reply (borrowed until the next reply), or NULL. */
const json_t *lab_status_cached(const struct lab *lab, int idx);
/* The node whose role is of the leader class in the highest term (-1 when none). Refreshes
 * first when asked (then it waits). */
int lab_leader(struct lab *lab, int refresh);
/* Does the running mode have a role of the leader class? Names the mode's roles in why
 * otherwise. */
int lab_mode_has_leader(struct lab *lab, struct sb *why);
/* Is a leader known to a majority? Fills *leader and *term. With groups (lab_groups): is
 * there one in every group, known to a majority of it (*leader: the first group's)? */
int lab_leader_agreed(struct lab *lab, int *leader, int64_t *term);
/* The running mode's groups of nodes (its face's `groups`: data centres): fills names[] and
 * of[] (each node's group) and returns how many (0: none, or no cluster). */
int lab_groups(struct lab *lab, char names[][CL_IDLEN], int of[CL_MAXN]);
/* Is name a group? Then fills *mask with its nodes (bit i = node i) and returns 1. */
int lab_group_mask(struct lab *lab, const char *name, uint32_t *mask);
/* With groups, appends "dc1 n1, dc2 n3" (each group's leader, or none) and returns the
 * number of groups; else appends nothing and returns 0. */
int lab_leaders_text(struct lab *lab, struct sb *out);
/* Parses NODE: "n3", "leader" or a group's name (its leader, else its first live node).
 * Reports and returns CL_EINVAL when bad. */
int lab_parse_node(struct lab *lab, const char *s, int *idx);

/* Starts a client operation; returns NULL (reported) when it cannot be sent. value is
 * borrowed. node < 0 picks the leader or the first live node. extra (borrowed, may be NULL)
 * is merged into the request body (cl=, w=, r=). process < 0 uses the REPL's process. */
struct op *lab_op_start(struct lab *lab, const char *f, const char *key, const json_t *value,
                        int node, const json_t *extra, int process);
/* Sends body (a client request: any "type"; borrowed, msg_id added) to node as the REPL's
 * client, as is: no redirect. Not recorded in the history, except Maelstrom's workload
 * operations (add{delta|element}, broadcast{message}, a read{} without key), recorded with
 * invoke and ok/fail/info (a process of their own when the REPL's has one in flight). NULL (reported) when it cannot be
 * sent. The reply, whatever its type, ends the op with OP_OK; none in time, OP_INFO. */
struct op *lab_send_start(struct lab *lab, int node, const json_t *body);
/* Appends one record to the history (docs/protocol.md §4): process, type (invoke, ok, fail,
 * info), f, key (may be NULL: none), value (borrowed; NULL is null), the node asked, error
 * (stolen, may be NULL), stamped with the cluster's time. Returns the record (borrowed). */
json_t *lab_record(struct lab *lab, int process, const char *type, const char *f, const json_t *key,
                   const json_t *value, int node, json_t *error);
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

/* The lab's checkers, one table (lab/checks.c): each judges the recorded history (keys, when
 * nkeys > 0, restricts it to those keys) or the replicas' state. Returns 0 holds, 1
 * violated, 2 unknown or not judgeable, CL_ENOENT for an unknown name; the report a user
 * reads is appended to out. Judges the statuses as they are: refresh first to wait for fresh
 * ones. */
int lab_check(struct lab *lab, const char *name, const char *const *keys, int nkeys, struct sb *out);
/* The state of the running mode's live invariant monitor (its mode_monitor's), or NULL. */
void *lab_monitor_state(struct lab *lab);
/* The checkers' names, '|'-separated (static). */
const char *lab_check_names(void);
/* lab_check on the whole history for the history checkers (linearizable|sessions|sequential). */
int lab_check_history(struct lab *lab, const char *what, struct sb *out);
/* Do the live replicas of every key hold the same data (the mode's face says which nodes hold
 * a key)? From the last statuses: the digests of their data (statusbrief.h) when every node
 * holds every key, and the data fetched on demand when they differ (why names the first
 * difference) or when nodes hold different keys by design. 1 converged, 0 not, -1 cannot
 * compare (why says why: no live node, a node that did not answer): never "converged" on
 * nothing compared. Waits for the data it fetches: never from inside the loop. */
int lab_converged(struct lab *lab, struct sb *why);
/* Node idx's whole data, fetched a page at a time (or from its last status when it carried
 * it); NULL when the node is not up or did not answer. Caller frees. Waits. */
json_t *lab_node_data(struct lab *lab, int idx);

/* Command names for completion: the lab's, the added tables', every mode's (NULL-terminated,
 * static until the next lab_add_commands). */
const char *const *lab_command_names(void);

#endif
