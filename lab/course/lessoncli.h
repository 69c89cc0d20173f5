/* lessoncli — the `conlab lesson …` and `conlab quiz …` subcommands that need no running lab:
 * listing, validating and showing lessons, resetting progress, and the quiz drill on the
 * terminal. The interactive `conlab lesson ID` (which starts a cluster) is the lab's: it uses
 * the engine in lesson.h.
 *
 * Both functions take argv starting at the subcommand word (argv[0] = "lesson" or "quiz"),
 * print to stdout/stderr and return the process exit status.
 */
#ifndef CONLAB_LESSONCLI_H
#define CONLAB_LESSONCLI_H

#include <stdbool.h>

/* Does lessoncli_main handle `conlab lesson WORD`? (list, validate, show, script, reset,
 * help, --help). For any other word the lab runs the interactive lesson WORD. */
bool lessoncli_handles(const char *word);

/* conlab lesson list                   id, title, level, minutes, done or not
 * conlab lesson validate FILE…         lesson or quiz files; 0 all valid, 1 some invalid,
 *                                      2 usage
 * conlab lesson show ID                overview: cluster, steps, commands
 * conlab lesson script ID              the solution script (see lesson_solution_script)
 * conlab lesson reset ID|--all         forget progress
 * An unknown ID is refused with a did-you-mean (exit 2). */
int lessoncli_main(int argc, char **argv);

/* conlab quiz [--topic T] [-n N] [--interview] [--seed S] [--topics]
 * Reads answers from stdin, writes to stdout; 0 after a session, 1 when no question matches,
 * 2 on a usage error or a bad question bank. */
int quizcli_main(int argc, char **argv);

#endif
