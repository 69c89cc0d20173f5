/* lcheck — a lesson step's check: a tree of all/any/not over a closed set of predicates
 * (docs/lessons.md "Checks"), parsed from the lesson's YAML and evaluated against the lab
 * through struct lesson_world. The predicates are one table, {name, parse, eval, describe},
 * so a new one is one row and its three functions.
 *
 * A step waits for the student: predicates about what *happened* (op, event, command) count
 * only what came after the step's mark, and lcheck_waits() says whether a check needs such a
 * thing at all. A check made of state alone (leaders, value, …) is already true when its step
 * opens, and the loader refuses it.
 *
 * Ownership: a struct lesson_check tree is owned by its step (lcheck_free).
 */
#ifndef CONLAB_LCHECK_H
#define CONLAB_LCHECK_H

#include <stdbool.h>
#include <stdint.h>

#include "util.h"
#include "yamldoc.h"

/* ---- what the lab provides --------------------------------------------------------- */

/* One node as the lab sees it now. */
struct lesson_node_info {
    char state[8];           /* "up", "down" or "paused" */
    char role[16];           /* as the mode's status says: "leader", "follower", … ("" if unknown) */
    int64_t term;            /* term or epoch, -1 when the mode has none or it is unknown */
    bool leads;              /* its role is of the leader class in the mode's face ("leading") */
};

/* A query over the recorded client history (docs/protocol.md §4). */
enum { LOP_OK = 1, LOP_FAIL = 2, LOP_INFO = 4 };
struct lesson_op_query {
    const char *f;           /* "write", "read", "cas" or NULL for any */
    const char *key;         /* NULL for any */
    int node;                /* index of the node asked, -1 for any */
    const char *value;       /* write: the value written; read: the value read; NULL any */
    unsigned outcomes;       /* LOP_* mask of completions that count */
};

/* Every callback returns a negative cl_err when it cannot answer (the check then fails with
 * the callback's reason in why, if it wrote one). Node indexes are 0-based (n1 = 0). */
struct lesson_world {
    void *ud;
    /* A position in the lab's streams of events, client operations and commands typed.
     * Predicates about what *happened* count only what came after the step's mark. It must
     * never go backwards, not even across `stop`/`start` (lessons restart the cluster inside
     * a step). */
    uint64_t (*mark)(void *ud);
    /* Number of nodes in the running cluster (0 when none is running). */
    int (*nodes)(void *ud);
    int (*node_info)(void *ud, int node, struct lesson_node_info *out);
    /* The value of key in node's local state (its status "data"): 1 and val filled when
     * present, 0 when absent, negative when the node cannot be asked (down, paused). */
    int (*value)(void *ud, int node, const char *key, char *val, size_t n);
    /* The current partition: group[i] = group index of node i. Returns the number of groups
     * (1 = no partition). */
    int (*partition)(void *ud, int group[CL_MAXNODES]);
    /* Completed client operations since `since` matching q. */
    int (*op_count)(void *ud, uint64_t since, const struct lesson_op_query *q);
    /* Events since `since` whose "ev" is ev, from node (-1 any), whose fields equal the
     * given values (compared as text; numbers in decimal). */
    int (*event_count)(void *ud, uint64_t since, const char *ev, int node, int nfields,
                       const char *const *keys, const char *const *vals);
    /* Runs a checker ("linearizable", "sessions", "converged") over the whole history,
     * restricted to keys when nkeys > 0. 1 holds, 0 violated (why says how), <0 error. */
    int (*history_check)(void *ud, const char *checker, const char *const *keys, int nkeys,
                         struct sb *why);
    /* Lab commands the student ran since `since` whose words begin with `words` ("check
     * linearizable" counts `check linearizable x` too); words NULL counts every command. */
    int (*command_count)(void *ud, uint64_t since, const char *words);
    /* Is line a lab command (its first word names one)? The quiz never takes such a line as
     * an answer. NULL: no line is. */
    int (*is_command)(void *ud, const char *line);
};

/* ---- the check tree ------------------------------------------------------------------- */

enum lcheck_kind {
    LC_ALL, LC_ANY, LC_NOT,
    LC_LEADERS, LC_ROLE, LC_TERM, LC_NODE, LC_VALUE, LC_PARTITIONED, LC_OP, LC_EVENT,
    LC_CONVERGED, LC_HISTORY, LC_COMMAND,
    LC_COUNT
};

#define LCHECK_MAX_FIELDS 8
#define LCHECK_MAX_KEYS 8

struct lesson_check {
    enum lcheck_kind kind;
    int line, col;
    struct lesson_check **kids;     /* all/any: n kids; not: 1 */
    int nkids;
    long count;                     /* leaders: exact count (-1 unset); op/event/command: at_least */
    long at_least;                  /* leaders: at least; term: at least (-1 unset) */
    int node;                       /* role/term/node/op/event/value: node index, -1 any */
    char role[16];                  /* role: is; node: state */
    char *key, *value;              /* value/op */
    bool absent;                    /* value: the key must be absent */
    int on;                         /* value: >=0 a node, -1 all up nodes, -2 majority, -3 any */
    char f[8];                      /* op: write/read/cas */
    unsigned outcomes;              /* op */
    int group[CL_MAXNODES];             /* partitioned: expected group per node */
    int ngroups;                    /* partitioned: 0 = any partition */
    int isolated;                   /* partitioned: node alone, -1 unset */
    char name[24];                  /* event: ev; history: checker */
    char *fk[LCHECK_MAX_FIELDS], *fv[LCHECK_MAX_FIELDS];
    int nf;
    char *keys[LCHECK_MAX_KEYS];    /* converged/history: keys; command: the commands */
    int nkeys;
    bool holds;                     /* history: expected verdict */
};

/* What the parser needs from the lesson loader. */
struct lcheck_ctx {
    const struct ydoc *d;
    char *err;
    size_t errlen;
    int nodes;                      /* the cluster's size, for node names */
    const char *event_names;        /* the events `event` may name, '|'-separated */
    /* Checks one lab command line as the loader does for `commands:` (known command, nodes
     * in range); 0 or CL_EINVAL with err filled. */
    int (*command_ok)(void *ud, const struct ydoc_node *at, const char *what, const char *line);
    void *ud;
};

/* Parses a check (a map naming exactly one predicate). Returns 0 and *out (caller frees with
 * lcheck_free, also on error), or CL_EINVAL with err = "FILE:LINE:COL: what was expected". */
int lcheck_parse(struct lcheck_ctx *c, const struct ydoc_node *n, const char *what,
                 struct lesson_check **out);
void lcheck_free(struct lesson_check *c);

/* Evaluates a check once. Returns 1 pass, 0 fail; on fail why gets one human-readable
 * line ("expected 1 leader, saw 2 in term 7: n1, n4"). since is the step's mark. */
int lcheck_eval(const struct lesson_check *c, const struct lesson_world *w, uint64_t since,
                struct sb *why);
/* The check in words ("(1 leader and you ran `status`)"). */
void lcheck_describe(const struct lesson_check *c, struct sb *b);
/* Does passing need something done after the step began (an op, an event or a command that
 * must happen, not merely not happen)? A check that does not is true when its step opens. */
bool lcheck_waits(const struct lesson_check *c);
/* The predicate names, '|'-separated ("all|any|not|leaders|…"), for messages and docs. */
const char *lcheck_names(void);

#endif
