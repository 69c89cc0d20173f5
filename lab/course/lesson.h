/* lesson — the guided course: loading and validating lesson files (format in docs/lessons.md),
 * the closed set of check predicates, and the step engine.
 *
 * A lesson names the cluster to start and a list of steps. Each step has text, commands the
 * student is invited to type, a *check* (a tree of all/any/not over predicates such as
 * `leaders`, `role`, `value`, `partitioned`, `op`, `event`, `history`), progressive hints and
 * a `solution` (lab command lines) that makes the check pass. The lab evaluates checks through
 * struct lesson_world, which it implements over its live state, events and history; this
 * module never talks to nodes itself.
 *
 * Engine states:   STEP(i) --check passes--> STEP(i+1) ... --last step passes--> QUIZ(j)
 *                  QUIZ(j) --answered-->  QUIZ(j+1) ... --> DONE
 * `back` goes to STEP(i-1), `restart` to STEP(0) (the caller restarts the cluster), `skip`
 * leaves a step unpassed. The student advances by doing: `next` only moves past a step whose
 * check passes (or that passed before).
 *
 * Ownership: struct lesson and everything in it belong to the lesson (lesson_free). An
 * engine borrows its lesson, world and progress; they must outlive it.
 */
#ifndef CONLAB_LESSON_H
#define CONLAB_LESSON_H

#include <stdbool.h>
#include <stdint.h>

#include "quiz.h"
#include "util.h"

struct progress;

#define LESSON_MAX_STEPS 100
#define LESSON_MAX_HINTS 10
#define LESSON_MAX_CMDS 32
#define LESSON_MAX_OPTS 16

/* ---- what the lab provides --------------------------------------------------------- */

/* One node as the lab sees it now. */
struct lesson_node_info {
    char state[8];           /* "up", "down" or "paused" */
    char role[16];           /* as the mode's status says: "leader", "follower", … ("" if unknown) */
    int64_t term;            /* term or epoch, -1 when the mode has none or it is unknown */
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
    /* A position in the lab's event and history streams (e.g. the count of events and
     * history entries seen). Predicates about what *happened* count only what came after the
     * step's mark. It must never go backwards, not even across `stop`/`start` (lessons
     * restart the cluster inside a step). */
    uint64_t (*mark)(void *ud);
    /* Number of nodes in the running cluster (0 when none is running). */
    int (*nodes)(void *ud);
    int (*node_info)(void *ud, int node, struct lesson_node_info *out);
    /* The value of key in node's local state (its status "data"): 1 and val filled when
     * present, 0 when absent, negative when the node cannot be asked (down, paused). */
    int (*value)(void *ud, int node, const char *key, char *val, size_t n);
    /* The current partition: group[i] = group index of node i. Returns the number of groups
     * (1 = no partition). */
    int (*partition)(void *ud, int group[CL_MAXN]);
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
};

/* ---- the lesson ------------------------------------------------------------------------ */

enum lcheck_kind {
    LC_ALL, LC_ANY, LC_NOT,
    LC_LEADERS, LC_ROLE, LC_TERM, LC_NODE, LC_VALUE, LC_PARTITIONED, LC_OP, LC_EVENT,
    LC_CONVERGED, LC_HISTORY,
};

#define LCHECK_MAX_FIELDS 8
#define LCHECK_MAX_KEYS 8

struct lesson_check {
    enum lcheck_kind kind;
    int line, col;
    struct lesson_check **kids;     /* all/any: n kids; not: 1 */
    int nkids;
    long count;                     /* leaders: exact count (-1 unset); op/event: at_least */
    long at_least;                  /* leaders: at least; term: at least (-1 unset) */
    int node;                       /* role/term/node/op/event/value: node index, -1 any */
    char role[16];                  /* role: is; node: state */
    char *key, *value;              /* value/op */
    bool absent;                    /* value: the key must be absent */
    int on;                         /* value: >=0 a node, -1 all up nodes, -2 majority, -3 any */
    char f[8];                      /* op: write/read/cas */
    unsigned outcomes;              /* op */
    int group[CL_MAXN];             /* partitioned: expected group per node */
    int ngroups;                    /* partitioned: 0 = any partition */
    int isolated;                   /* partitioned: node alone, -1 unset */
    char name[24];                  /* event: ev; history: checker */
    char *fk[LCHECK_MAX_FIELDS], *fv[LCHECK_MAX_FIELDS];
    int nf;
    char *keys[LCHECK_MAX_KEYS];    /* converged/history */
    int nkeys;
    bool holds;                     /* history: expected verdict */
};

struct lesson_step {
    char *id, *title, *text, *done;
    char *commands[LESSON_MAX_CMDS];
    int ncommands;
    char *solution[LESSON_MAX_CMDS];
    int nsolution;
    char *hints[LESSON_MAX_HINTS];
    int nhints;
    struct lesson_check *check;
    long timeout_ms;                /* how long the solution may take to pass (default 30 s) */
    int line;
};

struct lesson_demo {
    char kind[8];                   /* say | run | marker | wait */
    char *text;                     /* say/run/marker text; wait: NULL */
    long wait_ms;
};

struct lesson {
    char *file;
    char *id, *title, *summary, *level;
    long minutes;
    char **topics;
    int ntopics;
    char **requires;
    int nrequires;
    /* cluster */
    char mode[16];
    int nodes;
    long seed;                      /* -1 = none given */
    char *opt_key[LESSON_MAX_OPTS], *opt_val[LESSON_MAX_OPTS];
    int nopts;
    char *intro, *finish;
    char **recap;
    int nrecap;
    struct lesson_step *steps;
    int nsteps;
    struct quiz_question *quiz;     /* end-of-lesson questions (choice, numeric, order) */
    int nquiz;
    char *notes;
    struct lesson_demo *demo;
    int ndemo;
};

/* Parses and validates a lesson (name is used in messages). Returns 0 and *out (caller frees
 * with lesson_free), or CL_EINVAL and err = "FILE:LINE:COL: what was expected". */
int lesson_parse(const char *buf, size_t len, const char *name, struct lesson **out, char *err,
                 size_t errlen);
int lesson_load_file(const char *path, struct lesson **out, char *err, size_t errlen);
void lesson_free(struct lesson **l);

/* The lessons directory: $CONLAB_LESSONS, else ../lessons or ../share/conlab/lessons next to
 * the running binary, else ./lessons. Returns 0 or CL_ENOENT. */
int lesson_dir(char *buf, size_t n);

/* All lessons of a directory, in file-name order (01-….yaml first). */
struct lesson_catalog {
    struct lesson **l;
    int n;
    char **bad;                     /* one message per file that failed to load */
    int nbad;
};
/* Loads every *.yaml directly in dir; a bad file is recorded in bad and skipped (the course
 * goes on). Also checks ids are unique and `requires` resolve (recorded in bad). Returns 0,
 * or CL_ENOENT when dir cannot be read. */
int lesson_catalog_load(const char *dir, struct lesson_catalog *cat, char *err, size_t errlen);
void lesson_catalog_free(struct lesson_catalog *cat);
/* The lesson with this id, or NULL with err = "unknown lesson \"x\"; did you mean …?" */
const struct lesson *lesson_catalog_find(const struct lesson_catalog *cat, const char *id,
                                         char *err, size_t errlen);

/* Loads lesson ID from the lessons directory (lesson_dir) for `conlab lesson ID`. Returns 0
 * and *out (caller frees with lesson_free), CL_ENOENT with err = "unknown lesson …; did you
 * mean …?", or CL_EINVAL with the file's positioned error when that lesson's file is bad. */
int lesson_load_id(const char *id, struct lesson **out, char *err, size_t errlen);

/* "start raft 5 seed=42 speed=0.5" (no newline) into out. */
void lesson_start_command(const struct lesson *l, struct sb *out);

/* Evaluates a check once. Returns 1 pass, 0 fail; on fail why gets one human-readable
 * line ("expected 1 leader, saw 2 in term 7: n1, n4"). since is the step's mark. */
int lesson_check_eval(const struct lesson_check *c, const struct lesson_world *w,
                      uint64_t since, struct sb *why);

/* Writes the lesson as a conlab script that runs every step's solution:
 *     # comment lines
 *     lesson-begin ID
 *     start MODE N opts…
 *     <solution commands of step 1>
 *     lesson-check STEP-ID TIMEOUT
 *     …
 *     lesson-end
 * `lesson-begin` creates an engine, `lesson-check` polls it until the named step (which
 * must be the current one) passes or TIMEOUT elapses, `lesson-end` requires that every
 * step passed. See docs/lessons.md "Running solutions". Returns 0. */
int lesson_solution_script(const struct lesson *l, struct sb *out);

/* ---- the engine ---------------------------------------------------------------------- */

struct lesson_engine;

enum lesson_phase { LESSON_IN_STEP, LESSON_IN_QUIZ, LESSON_FINISHED };

/* Result of polling the current step. */
enum lesson_poll {
    LESSON_PENDING = 0,   /* not yet; why holds the reason */
    LESSON_PASSED = 1,    /* the step passed and the engine moved on; out holds the `done`
                             text and the next step (or the quiz / finish text) */
    LESSON_SLOW = 2,      /* still pending and the step's timeout just elapsed: once per step,
                             the engine suggests `hint` in out */
    LESSON_IDLE = 3,      /* nothing to check (in the quiz or finished) */
};

/* Creates an engine at step 1. world and progress may be NULL (no checks / nothing kept);
 * both are borrowed. The step's mark is taken from world now. */
struct lesson_engine *lesson_engine_new(const struct lesson *l, const struct lesson_world *w,
                                        struct progress *p);
void lesson_engine_free(struct lesson_engine **e);
/* Attaches (or re-attaches) the lab and takes the current step's mark again. */
void lesson_engine_set_world(struct lesson_engine *e, const struct lesson_world *w);

enum lesson_phase lesson_engine_phase(const struct lesson_engine *e);
/* Index of the current step (0-based; nsteps once past the last step). */
int lesson_engine_step(const struct lesson_engine *e);
const struct lesson_step *lesson_engine_current(const struct lesson_engine *e);

/* Evaluates the current step's check (call it after each command and on each event batch;
 * cheap). On a pass, records progress, moves on and writes what to show into out. */
enum lesson_poll lesson_engine_poll(struct lesson_engine *e, struct sb *out);

/* Writes the current screen: the intro (at step 1), the step's title, text, the commands to
 * try and what was already revealed of the hints; or the current quiz question; or the finish
 * text and recap. Plain text with `code` marks kept; the dashboard pane wraps it. */
void lesson_engine_render(const struct lesson_engine *e, struct sb *out);

/* One line for a status bar: "raft-election: step 2 of 5, Force an election (hints 1/2)",
 * "raft-election: quiz 1 of 3" or "raft-election: complete". */
void lesson_engine_status_line(const struct lesson_engine *e, struct sb *out);

/* Reveals the next hint into out ("Hint 2/3: …"); the solution after the last hint is never
 * shown. Returns the number revealed so far. */
int lesson_engine_hint(struct lesson_engine *e, struct sb *out);
/* `next`: moves on if the current step passes now or passed before; else out says why not
 * and returns CL_ESTATE. */
int lesson_engine_next(struct lesson_engine *e, struct sb *out);
/* `lesson skip`: leaves the current step unpassed (recorded as skipped) and moves on. */
int lesson_engine_skip(struct lesson_engine *e, struct sb *out);
/* `back`: the previous step again (its check is re-armed). CL_ESTATE at step 1. */
int lesson_engine_back(struct lesson_engine *e, struct sb *out);
/* `restart`: step 1, hints hidden. The caller must restart the cluster (start line from
 * lesson_start_command) before the next poll, then call lesson_engine_set_world (which
 * takes the step's mark again). */
void lesson_engine_restart(struct lesson_engine *e, struct sb *out);
/* In the quiz phase: grades one answer line (see quiz_grade); CL_EINVAL when it is not a
 * possible answer (out says what is expected), else 1/0 and the engine moves on. */
int lesson_engine_answer(struct lesson_engine *e, const char *answer, struct sb *out);

/* What lesson_engine_command did with a line. */
enum lesson_cmd {
    LESSON_CMD_NONE = 0,     /* not a lesson command: run it as a lab command, then poll */
    LESSON_CMD_HANDLED = 1,  /* handled: show out */
    LESSON_CMD_RESTART = 2,  /* handled: restart the cluster (lesson_start_command), show out */
    LESSON_CMD_QUIT = 3,     /* `lesson quit`: leave the lesson; show out */
};
/* The in-lesson REPL words, one place for the dashboard and --plain: `hint`, `next`, `back`,
 * `restart` (bare; `restart n1` is the lab's), `lesson` (show the screen again),
 * `lesson check` (why the step is not done), `lesson skip`, `lesson restart`, `lesson quit`.
 * In the quiz phase any other line is an answer. */
enum lesson_cmd lesson_engine_command(struct lesson_engine *e, const char *line,
                                      struct sb *out);

#endif
