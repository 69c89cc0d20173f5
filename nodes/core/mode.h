/* mode — what a protocol (raft, leader, leaderless, …) provides to be run by the runtime,
 * the simulator and the lab. A new mode is one folder nodes/modes/NAME/ whose files define
 * `const struct mode mode_<name>`; the Makefile collects every such folder into mode_table.
 *
 * A mode is a pure state machine behind struct env (env.h). Its file opens with its
 * state diagram, its invariants and the rule each handler implements.
 */
#ifndef CONLAB_MODE_H
#define CONLAB_MODE_H

#include "env.h"

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

/* A message handler: runs when a body of `type` arrives. src is a node or client id. */
struct mode_handler {
    const char *type;
    void (*fn)(void *st, const char *src, const json_t *body);
};

/* A mode-specific lab command (promote, timeout, add, remove, ring). The lab sends it to
 * `target` (a node argument, or the leader) as a control message; the node's mode runs it and
 * returns a reply object {"ok":true,"text":"…"} or {"ok":false,"text":"…"} (caller frees). */
struct mode_command {
    const char *name;
    const char *usage;      /* "promote NODE" */
    const char *help;
    const char *example;
    int min_args, max_args; /* words the user types after the name (the node gets them too) */
    json_t *(*run)(void *st, int argc, char **argv);
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
};

extern const struct mode *const mode_table[];
const struct mode *mode_find(const char *name);

/* Dispatches body to the mode's handler for its "type". Returns 0, or CL_ENOENT when the
 * mode has no handler for it (the caller counts and drops it) or the body has no type. */
int mode_dispatch(const struct mode *m, void *st, const char *src, const json_t *body);

/* Validates key=value options for mode m (the mode's own table plus the generic ones:
 * seed, speed, sim, fsync, bug, client_timeout). On error fills err with one line naming
 * the option and the accepted form. */
int mode_check_opts(const struct mode *m, const struct opts *o, char *err, size_t errlen);

#endif
