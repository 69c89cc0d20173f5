/* lesson — the guided course: loading and validating lesson files (format in docs/lessons.md)
 * and the step engine. The checks themselves are lcheck.h.
 *
 * A lesson names the cluster to start and a list of steps. Each step has text, commands the
 * student is invited to type, a *check* (a tree of all/any/not over predicates such as
 * `leaders`, `role`, `value`, `partitioned`, `op`, `event`, `history`, `command`), progressive
 * hints and a `solution` (lab command lines) that makes the check pass. The lab evaluates
 * checks through struct lesson_world, which it implements over its live state, events,
 * history and the commands typed; this module never talks to nodes itself.
 *
 * Engine states:
 *
 *   INTRO --`next` or a lab command--> STEP(0) --passes--> STEP(1) ... STEP(n-1) --passes-->
 *     QUIZ_READY --`quiz`--> QUIZ(0) ... QUIZ(q-1) --answered--> FINISHED
 *     (no quiz: STEP(n-1) --passes--> FINISHED; no intro: the lesson opens at STEP(0))
 *
 * A step passes when its check holds *and* the student ran at least one lab command since
 * the step opened: what happened before it opened (events, operations, commands, all after
 * the step's mark) never counts, so a step never passes by itself and a lesson never opens
 * past step 1. The quiz starts only when asked for, and a line that is a lab command is
 * never taken as an answer. `back` goes to STEP(i-1) (a step passed once stays passed, so
 * `next` moves on again), `restart` to STEP(0) (the caller restarts the cluster), `skip`
 * leaves a step unpassed; `next` only moves past a step that passes or passed.
 *
 * Ownership: struct lesson and everything in it belong to the lesson (lesson_free). An
 * engine borrows its lesson, world and progress; they must outlive it.
 */
#ifndef CONLAB_LESSON_H
#define CONLAB_LESSON_H

#include <stdbool.h>
#include <stdint.h>

#include "lcheck.h"
#include "quiz.h"
#include "util.h"

struct progress;

#define LESSON_MAX_STEPS 100
#define LESSON_MAX_HINTS 10
#define LESSON_MAX_CMDS 32
#define LESSON_MAX_OPTS 16

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
    int chapter;                    /* the course chapter (1..LESSON_MAX_CHAPTER), 0 = none */
};

#define LESSON_MAX_CHAPTER 30
/* The title of a course chapter ("CAP and PACELC"), or NULL for a number with no title. */
const char *lesson_chapter_title(int chapter);

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

/* Writes the lesson as a conlab script that runs every step's solution:
 *     # comment lines
 *     start MODE N opts…
 *     lesson-begin ID
 *     <solution commands of step 1>
 *     lesson-check STEP-ID TIMEOUT
 *     …
 *     lesson-end
 * `lesson-begin` creates an engine, `lesson-check` polls it until the named step (which
 * must be the current one) passes or TIMEOUT elapses, `lesson-end` requires that every
 * step passed. A step whose check already holds when it opens (at lesson-begin, or when the
 * step before passes), before its own commands ran, fails the script. See docs/lessons.md
 * "Running solutions". Returns 0. */
int lesson_solution_script(const struct lesson *l, struct sb *out);

/* ---- the engine ---------------------------------------------------------------------- */

struct lesson_engine;

enum lesson_phase { LESSON_INTRO, LESSON_IN_STEP, LESSON_QUIZ_READY, LESSON_IN_QUIZ,
                    LESSON_FINISHED };

/* Result of polling the current step. */
enum lesson_poll {
    LESSON_PENDING = 0,   /* not yet; why holds the reason */
    LESSON_PASSED = 1,    /* the step passed and the engine moved on; out holds the `done`
                             text and the next step (or the quiz offer / finish text) */
    LESSON_SLOW = 2,      /* still pending and the step's timeout just elapsed: once per step,
                             the engine suggests `hint` in out */
    LESSON_IDLE = 3,      /* nothing to check (quiz offered, in the quiz, or finished) */
};

/* Creates an engine at the introduction (or at step 1 when the lesson has none). world and
 * progress may be NULL (no checks / nothing kept); both are borrowed. */
struct lesson_engine *lesson_engine_new(const struct lesson *l, const struct lesson_world *w,
                                        struct progress *p);
void lesson_engine_free(struct lesson_engine **e);
/* Attaches (or re-attaches) the lab and takes the current step's mark again. */
void lesson_engine_set_world(struct lesson_engine *e, const struct lesson_world *w);

enum lesson_phase lesson_engine_phase(const struct lesson_engine *e);
/* Index of the current step (0-based; nsteps once past the last step). */
int lesson_engine_step(const struct lesson_engine *e);
const struct lesson_step *lesson_engine_current(const struct lesson_engine *e);
/* Did the current step pass in this session (it stays passed after `back`)? */
bool lesson_engine_step_passed(const struct lesson_engine *e);
/* The current step's mark (what its checks count from). */
uint64_t lesson_engine_mark(const struct lesson_engine *e);

/* In the introduction: opens step 1 now (its mark is taken now), as the first lab command the
 * student types does; returns true when it did. Elsewhere a no-op returning false. */
bool lesson_engine_begin_steps(struct lesson_engine *e);
/* Evaluates the current step (call it after each command and on each event batch; cheap).
 * On a pass, records progress, moves on and writes what to show into out. */
enum lesson_poll lesson_engine_poll(struct lesson_engine *e, struct sb *out);

/* The whole current screen as plain text for the REPL: the intro (at step 1), the step's
 * title, text, the commands to try and the hints revealed; or the quiz offer, the current
 * question, or the finish text and recap. `code` marks are kept. */
void lesson_engine_render(const struct lesson_engine *e, struct sb *out);
/* The same for the dashboard's Lesson pane: what the student needs now, shortest first
 * place: the step that just passed (one line), the intro at step 1, "Step k of n: title",
 * the text, "Try:" and the commands one per line, the hints revealed. The pane wraps it and
 * keeps its end (the commands) in view. */
void lesson_engine_pane(const struct lesson_engine *e, struct sb *out);
/* One line for the pane's status: "waiting for you", "not yet: why" after the step's
 * timeout, the quiz offer, or the score. */
void lesson_engine_check_line(const struct lesson_engine *e, struct sb *out);

/* One line for a status bar: "raft-election · step 2 of 5 · hints 1/2",
 * "raft-election · quiz 1 of 3" or "raft-election · complete". */
void lesson_engine_status_line(const struct lesson_engine *e, struct sb *out);

/* Reveals the next hint into out ("Hint 2/3: …"); the solution after the last hint is never
 * shown. Returns the number revealed so far. */
int lesson_engine_hint(struct lesson_engine *e, struct sb *out);
/* `next`: moves on if the current step passes now or passed before; else out says why not
 * and returns CL_ESTATE. */
int lesson_engine_next(struct lesson_engine *e, struct sb *out);
/* `lesson skip`: leaves the current step unpassed (recorded as skipped) and moves on; in the
 * quiz, skips the question. */
int lesson_engine_skip(struct lesson_engine *e, struct sb *out);
/* `back`: the previous step again (its check is re-armed; having passed, `next` moves on).
 * CL_ESTATE at step 1. */
int lesson_engine_back(struct lesson_engine *e, struct sb *out);
/* `restart`: step 1, hints hidden. The caller must restart the cluster (start line from
 * lesson_start_command) before the next poll, then call lesson_engine_set_world (which
 * takes the step's mark again). */
void lesson_engine_restart(struct lesson_engine *e, struct sb *out);
/* `quiz`: starts the end-of-lesson quiz once every step is behind (or again when finished).
 * CL_ESTATE (out says why) when the steps are not done or the lesson has no quiz. */
int lesson_engine_quiz(struct lesson_engine *e, struct sb *out);
/* In the quiz phase: grades one answer line (see quiz_grade); CL_EINVAL when it is not a
 * possible answer (out says what is expected), else 1/0 and the engine moves on. */
int lesson_engine_answer(struct lesson_engine *e, const char *answer, struct sb *out);

/* What lesson_engine_command did with a line. */
enum lesson_cmd {
    LESSON_CMD_NONE = 0,     /* not a lesson word: run it as a lab command, then poll */
    LESSON_CMD_HANDLED = 1,  /* handled: show out */
    LESSON_CMD_RESTART = 2,  /* handled: restart the cluster (lesson_start_command), show out */
    LESSON_CMD_QUIT = 3,     /* `lesson quit`: leave the lesson; show out */
};
/* The in-lesson words, one place for the dashboard and --plain: `hint`, `next`, `back`,
 * `quiz`, `restart` (bare; `restart n1` is the lab's), `lesson` (show the screen again),
 * `lesson check` (why the step is not done), `lesson skip`, `lesson restart`, `lesson quit`.
 * Any other `lesson WORD` (`lesson list`, `lesson ID`) is the lab's. In the quiz a line that
 * is none of these and not a lab command (world->is_command) is an answer. */
enum lesson_cmd lesson_engine_command(struct lesson_engine *e, const char *line,
                                      struct sb *out);
/* The words above, for help and completion (NULL-terminated). */
extern const char *const lesson_engine_words[];

/* ---- the course ----------------------------------------------------------------------- */

/* The catalog as a table for `lesson list` (in the lab and on the command line): id, level,
 * minutes, progress (p may be NULL) and title, one lesson a line. */
void lesson_catalog_table(const struct lesson_catalog *cat, const struct progress *p,
                          struct sb *out);
/* Every lesson's id, one a line, in course order (scripts: `conlab lesson list --ids`). */
void lesson_catalog_ids(const struct lesson_catalog *cat, struct sb *out);
/* The first lesson of the catalog, in course order, that p does not record as done (other
 * than skip_id), or NULL when every lesson is done. */
const struct lesson *lesson_catalog_next(const struct lesson_catalog *cat,
                                         const struct progress *p, const char *skip_id);

#endif
