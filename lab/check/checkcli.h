/* checkcli — `conlab check`: judges a history file from the command line, and the one entry
 * the lab's REPL uses to judge its in-memory history.
 *
 *   conlab check [--model register|cas-register|kv] [--time-limit S] [--json]
 *                [--sessions | --sequential | --causal | --to-edn | --serializable | --bank |
 *                 --exactly-once] FILE                                        (FILE "-" = stdin)
 *
 * Exit status: 0 linearizable (or: the property holds), 1 not (counterexample printed),
 * 2 bad input or bad usage, 3 unknown (time limit ran out). FILE may be conlab JSONL, Jepsen
 * EDN, or a JSON report this command wrote with --json (its sub-history is re-checked).
 */
#ifndef CONLAB_CHECKCLI_H
#define CONLAB_CHECKCLI_H

#include "histfile.h"
#include "util.h"

/* argv[0] is the command name ("check"); options and the file follow. Prints to stdout,
 * errors to stderr; returns the exit status above. */
int checkcli_main(int argc, char **argv);

/* The same, writing the report to out and errors to errout (both appended; caller frees). */
int checkcli_run(int argc, char **argv, struct sb *out, struct sb *errout);

/* The checkers of a recorded history, one table (NULL-name terminated): run appends the
 * report a user reads to out and returns 0 holds, 1 violated, 2 unknown, or CL_EINVAL for a
 * history it cannot judge (reason in out). */
struct history_checker {
    const char *name;
    const char *aka;        /* another accepted name, or NULL */
    const char *what;       /* one line: what it judges */
    int (*run)(const struct history *h, struct sb *out);
};
extern const struct history_checker history_checkers[];
/* The checker named name (NULL or "" is linearizable), or NULL. */
const struct history_checker *history_checker_find(const char *name);

/* The REPL's `check [linearizable|sessions|sequential]` on an in-memory history: appends the
 * report a user reads to out. what NULL or "" means linearizable. Returns 0 holds,
 * 1 violation, 2 unknown (time limit, or too large for the sequential search), or CL_EINVAL
 * for an unknown `what` or a history the model cannot judge (reason in out). */
int checker_report(const struct history *h, const char *what, struct sb *out);

#endif
