/* mode — what a protocol (raft, leader, leaderless, …) provides to be run by the runtime,
 * the simulator and the lab. A new mode is one folder nodes/modes/NAME/ whose files define
 * `const struct mode mode_<name>`; the Makefile collects every such folder into mode_table.
 *
 * A mode is a pure state machine behind struct env (env.h): `make check` refuses a mode
 * object that calls anything but the environment, jansson, libc's pure functions and the
 * protocol kit (tests/purity.sh). Its file opens with its state diagram, its invariants and
 * the rule each handler implements.
 *
 * Besides its handlers, struct mode carries the mode's *face*: everything the lab, the
 * dashboard and the lessons need to know about it (its client workload, role classes, status
 * figures, which replicas hold a key, its live invariant monitor, its own commands and the
 * events it emits). No file outside nodes/modes/NAME/ names a mode (tests/check_modeface.c).
 */
#ifndef CONLAB_MODE_H
#define CONLAB_MODE_H

#include "env.h"
#include "event.h"

/* One key=value option a mode accepts on `start`. */
enum opt_kind { OPT_ENUM, OPT_INT, OPT_DURATION };
struct mode_option {
    const char *name;
    enum opt_kind kind;
    const char *values;     /* OPT_ENUM: "sync|async|semisync" */
    long min, max;          /* OPT_INT: inclusive range; OPT_DURATION: µs range, when max > 0 */
    const char *def;        /* default as text */
    const char *help;
};

/* Parsed options: name=value pairs, validated against the mode's table. */
struct opts {
    int n;
    char *key[32];
    char *val[32];
};
/* Value of key or def when absent (borrowed). */
const char *opts_get(const struct opts *o, const char *key, const char *def);
long opts_get_int(const struct opts *o, const char *key, long def);
/* Microseconds; def_us when absent. */
uint64_t opts_get_duration(const struct opts *o, const char *key, uint64_t def_us);
/* Sets (replacing) a copy of key=value. */
void opts_set(struct opts *o, const char *key, const char *val);
void opts_free(struct opts *o);
void opts_copy(struct opts *dst, const struct opts *src);

/* A message handler: runs when a body of `type` arrives. src is a node or client id. A
 * handler of type "*" (last in the table) takes every type no other handler names. */
struct mode_handler {
    const char *type;
    void (*fn)(void *st, const char *src, const json_t *body);
};

/* Which node the lab runs a mode command on. */
enum mode_cmd_target {
    MC_ANY = 0,      /* the leader when one is known, else the first live node */
    MC_ON_NODE,      /* the node named by the first argument (NODE or `leader`) */
    MC_ON_LEADER,    /* the leader; the first argument names a node of the cluster (checked) */
    MC_ADD_NODE,     /* the lab starts one more node first, the first argument becomes its id,
                      * and the command runs on the leader (membership change) */
};

/* A mode-specific lab command (`help` lists it with its mode). The lab sends it to the node
 * `target` picks as a control message; the node's mode runs it and returns a reply object
 * {"ok":true,"text":"…"} or {"ok":false,"text":"…"} (caller frees). */
struct mode_command {
    const char *name;
    const char *usage;      /* "promote NODE" */
    const char *help;
    const char *example;
    int min_args, max_args; /* words the user types after the name (the node gets them too) */
    json_t *(*run)(void *st, int argc, char **argv);
    enum mode_cmd_target target;
};

/* One of a mode's own checks (`check NAME`, a lesson's history predicate): it judges the run so
 * far from the mode's live monitor (mon: fed every event since the cluster started; NULL when
 * the mode has none) and the statuses of the nodes (status[i], NULL for a node that is down).
 * Returns 0 holds, 1 violated, 2 cannot judge (yet); appends the report a user reads to out. */
struct mode_check {
    const char *name;
    const char *help;
    int (*run)(const void *mon, const json_t *const *status, int n, struct sb *out);
};

/* One role a mode's status and state events name, and its class (event.h). */
struct mode_role {
    const char *role;       /* "precandidate" */
    enum role_class cls;    /* RC_CANDIDATE */
};

/* One figure of a node's status shown by `status` ("term=3") and on the dashboard's node card
 * ("c12"). key is a field of the status, or a dotted path into it ("extra.keys"). */
struct mode_figure {
    const char *key;
    const char *label;      /* in `status` lines: label=value */
    const char *card;       /* on node cards: <card><value>; NULL = not on the card */
};

/* A live invariant monitor (the lab and the test fixture run it): pure, fed every event of a
 * run in the order it was received (docs/protocol.md §3). */
struct mode_monitor {
    void *(*create)(void);
    /* Feeds one event (borrowed). Returns 1 and appends one line to alert when this event
     * proves a violation ("<Invariant>: <what happened> (events n1#41, n3#57)"); else 0. */
    int (*feed)(void *mon, const json_t *ev, struct sb *alert);
    /* Violations found so far. */
    int (*violations)(const void *mon);
    /* The newest violation as an `invariant` event, or NULL; borrowed until the next feed. */
    const json_t *(*last)(const void *mon);
    void (*destroy)(void *mon);
    /* May be NULL. A fact the last feed found that is no violation but worth marking (the moment
     * a key's replicas converged, …): an event {"ev":NAME,…} the lab stamps with the time and
     * node "lab" and shows like any event (the dashboard marks `converged`); NULL when none.
     * Borrowed until the next feed. */
    const json_t *(*note)(const void *mon);
};

/* A condition a mode offers to `wait` (and `expect`) beyond the lab's own: `wait rumor hello`.
 * holds() reads the state of the mode's live monitor (mode_monitor.create's), fed every event
 * of the run, the lab's faults included. It returns 1 when the condition holds and writes what
 * holds into says ("all 64 nodes after 7 rounds"); 0 when not yet, with why into says (shown
 * at the timeout); -1 when the arguments are wrong, with the problem into says. */
struct mode_wait {
    const char *name;       /* "rumor" */
    const char *usage;      /* "wait rumor TEXT [TIMEOUT]" */
    const char *help;
    int nargs;              /* words after the name, before an optional timeout */
    int (*holds)(void *mon, int argc, char **argv, struct sb *says);
};

struct mode {
    const char *name;
    const char *summary;
    const struct mode_option *options;   /* NULL-name terminated */
    const char *bugs;                    /* "commit-old-term|no-vote-persist" or NULL */
    const struct mode_handler *handlers; /* NULL-type terminated */
    const struct mode_command *commands; /* NULL-name terminated, may be NULL */

    /* Builds the state, loading durable state through env (a restart recovers here).
     * opts were validated by mode_check_opts(). Returns NULL and fills err on failure. */
    void *(*create)(struct env *e, const struct opts *o, char *err, size_t errlen);
    /* Called once after create, when the node may start sending and arming timers. */
    void (*start)(void *st);
    void (*destroy)(void *st);
    void (*on_timer)(void *st, int kind, uint64_t arg);
    /* A snapshot of the node's state for `status`, `log`, the dashboard and checks:
     * {"role":"leader","term":3,"commit":12,"applied":12,"leader":"n1",
     *  "data":{"x":"1",…},"log":[…]}. Caller frees. */
    json_t *(*status)(void *st);
    /* The mode's live invariant monitor, or NULL when it has none. */
    const struct mode_monitor *monitor;

    /* ---- the face (see the top of this file) ---- */
    /* The Maelstrom workload whose client bodies it answers: "lin-kv" (read, write, cas: the
     * lab's put/get/cas, the checkers, the bench) or "echo". */
    const char *workload;
    /* The request types a client may send it (NULL-terminated), or NULL for lin-kv's read,
     * write, cas and delete. Every other type it handles is a message between nodes, which a
     * node refuses on its client socket. */
    const char *const *client_types;
    /* Every role its status and state events name, with its class; NULL-role terminated. A
     * role missing here has no class (drawn as a follower). */
    const struct mode_role *roles;
    /* Status figures in the order `status` prints them; NULL-key terminated, may be NULL. */
    const struct mode_figure *figures;
    /* Which nodes hold key in a cluster of n nodes with these options: fills out[] and returns
     * how many (the lab compares those replicas for `converged`). NULL: every node holds
     * every key. Pure. */
    int (*replicas)(const struct opts *o, int n, const char *key, int out[CL_MAXN]);
    /* The events the mode itself emits, '|'-separated ("state|vote|append|…"): what a lesson
     * may check beyond the generic kinds of event.h. */
    const char *events;
    /* An option that lists the nodes added after the start ("join" for raft): when a
     * MC_ADD_NODE command adds a node, the lab appends its id (comma-separated) before the
     * node starts. NULL when the mode needs none. */
    const char *join_option;
    /* A mode that hosts an outside program (env prog_start): one line the program wrote on
     * its stdout, without the newline (borrowed), and the program's end ("exited with status
     * 1", "killed by signal 9"). NULL for every other mode. */
    void (*on_prog_line)(void *st, const char *line, size_t len);
    void (*on_prog_exit)(void *st, const char *why);
    /* Named groups of nodes (data centres, …) in a cluster of n nodes with these options:
     * fills names[g] ("dc1") and of[i], the group of node i; returns how many groups. The lab
     * takes a group's name wherever it takes a NODE (the group's leader, else its first live
     * node: `put x 1 @dc2`) or a set of nodes (`partition dc1 | dc2,dc3`, `delay dc1->dc2 80`),
     * and `wait leader` / `expect leader` want a leader in every group, known to a majority of
     * it. NULL: no groups (the whole cluster is one). Pure. */
    int (*groups)(const struct opts *o, int n, char names[][CL_IDLEN], int of[CL_MAXN]);
    /* `compare` (the course's replication table, 6.4): the row this mode fills, such as
     * "single-leader", and the start options of that row (space-separated key=value, may be
     * NULL). compare_as NULL: the mode has no row. */
    const char *compare_as;
    const char *compare_opts;
    /* A mode with a leader role that elects a leader only under one option, as "multi=on"
     * (Multi-Paxos; Basic Paxos has proposers and no leader): `wait leader`, `isolate leader`
     * and the rest then say so in a cluster started otherwise, instead of waiting in vain.
     * NULL: a mode with a role of the leader class always elects one. */
    const char *leader_when;
    /* The mode's own checks (struct mode_check), NULL-name terminated, or NULL: `check NAME`
     * runs one while a cluster of the mode runs. */
    const struct mode_check *checks;
    /* The most nodes a cluster of this mode may have (`start`, `add`, the simulator); 0 means
     * CL_MAXN (16), the limit of the kit's per-node tables and of modes keeping bitmasks of
     * nodes. At most CL_MAXNODES.
     * (`start` itself offers at most 9 nodes to a mode that leaves this at 0.) */
    int max_nodes;
    /* Conditions `wait NAME …` waits for in this mode, judged by its monitor's state (which
     * sees every event); NULL-name terminated, may be NULL. */
    const struct mode_wait *waits;
    /* The key of one of its figures that the dashboard's compact node grid (a cluster too big
     * for cards) prints in each node's cell, highlighting the nodes where it is not 0: which
     * nodes have the rumor, which know of a death. NULL: none. */
    const char *grid_figure;
    /* The answer to env_power_off (env.h): node is powered off (ok = 1), or the lab refused
     * (ok = 0, text says why). NULL when the mode never asks. */
    void (*on_power_off)(void *st, const char *node, int ok, const char *text);
    /* May be NULL. A command of the mode's (commands above) that is a client operation of a
     * workload (an increment, a set's add or remove) says which, from its name and the words
     * its run gets (pure; the words unchanged): {"f":"add"|"remove","key":K,"value":V} (a
     * counter's V its delta, negative to take away; a set's its element), or NULL when these
     * words are none. The lab records it in the history: invoke before the command runs, ok or
     * fail (the reply's "ok") after, so that the history checkers judge it (docs/checkers.md). */
    json_t *(*command_op)(const char *name, int argc, char **argv);
    /* The most nodes the deterministic simulator runs of this mode (nodes/sim: tests, benches);
     * 0 means max_nodes. At most CL_SIM_MAXNODES: a mode whose tables grow with the cluster
     * (gossip, swim) may go past the CL_MAXNODES of real processes and the lab. */
    int sim_max_nodes;
    /* Dissemination, for a mode of the broadcast workload (broadcast{message} to one node starts
     * it): does node state st hold the message text, and in which round did it learn it (counted
     * along its path, 0 at its origin)? That round, or -1 when it does not hold it. NULL: none.
     * `conlab bench spread` reads it from every node of a simulated cluster (no events needed),
     * for each of spread_runs: {label, start options}, NULL-label terminated. */
    long (*spread_round)(void *st, const char *text);
    const struct mode_spread_run *spread_runs;
};

/* One configuration `conlab bench spread` runs (struct mode's spread_runs). */
struct mode_spread_run {
    const char *label;          /* "push" */
    const char *opts;           /* "style=push stop=none ttl=200 ae=0" */
};

extern const struct mode *const mode_table[];
/* The most nodes a cluster of mode m may have (its max_nodes, else 16). */
int mode_max_nodes(const struct mode *m);
/* The most nodes the simulator runs of mode m (its sim_max_nodes, else mode_max_nodes). */
int mode_sim_max_nodes(const struct mode *m);
/* The wait condition of m named name, or NULL. */
const struct mode_wait *mode_find_wait(const struct mode *m, const char *name);
const struct mode *mode_find(const char *name);
/* May a client send a request of this type to a node of mode m (its client_types)? */
int mode_client_type(const struct mode *m, const char *type);
/* The client request types of m, as "read, write, cas, delete" (static buffer: next call). */
const char *mode_client_types_text(const struct mode *m);

/* The class of role in mode m: its face's table, else the class of that name ("leader" is a
 * leader), else RC_UNKNOWN. m may be NULL. */
enum role_class mode_role_class(const struct mode *m, const char *role);
/* Does some role of m have class c? */
bool mode_has_class(const struct mode *m, enum role_class c);
/* The face's parts a viewer of events needs, for the `cluster` event: {"workload":…,
 * "roles":{role:class,…},"figures":[{"key","label","card"?},…]}. Caller frees. */
json_t *mode_face_json(const struct mode *m);
/* Fills out[] with the nodes that hold key (every node when the mode has no replicas face);
 * returns how many. */
int mode_replicas(const struct mode *m, const struct opts *o, int n, const char *key, int out[CL_MAXNODES]);
/* '|'-separated lists over mode_table (static, built once): the mode names; every event a
 * lesson may check (event.h's kinds and each mode's own); every mode command's name. */
const char *mode_names(void);
/* Is word one of the words of a '|'-separated list ("sync|async")? */
bool mode_listed(const char *list, const char *word);
const char *mode_event_names(void);
const char *mode_command_names(void);
/* Every mode's own check names, '|'-separated (static, built once; "" when none). */
const char *mode_check_names(void);
/* Mode m's check called name, or NULL. */
const struct mode_check *mode_check_find(const struct mode *m, const char *name);

/* Dispatches body to the mode's handler for its "type". Returns 0, or CL_ENOENT when the
 * mode has no handler for it (the caller counts and drops it) or the body has no type. */
int mode_dispatch(const struct mode *m, void *st, const char *src, const json_t *body);

/* Validates key=value options for mode m (the mode's own table plus the generic ones:
 * seed, speed, sim, fsync, bug, client_timeout). On error fills err with one line naming
 * the option and the accepted form. */
int mode_check_opts(const struct mode *m, const struct opts *o, char *err, size_t errlen);

#endif
