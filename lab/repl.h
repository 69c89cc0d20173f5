/* repl — the lab's line interfaces: the plain REPL (GNU readline through its callback
 * interface inside the lab's loop when stdin is a terminal; plain lines otherwise) and the
 * script runner (`conlab script FILE…`). Both feed lab_exec(). */
#ifndef CONLAB_REPL_H
#define CONLAB_REPL_H

#include "lab.h"

/* Runs the plain REPL until quit or end of input. Returns the exit status. */
int repl_run(struct lab *lab, const char *first_command);
/* Runs scripts (path "-" = stdin). Returns 0 all held, 1 a command or expect failed, 2 a
 * script could not be read or parsed. */
int script_run(struct lab *lab, int nfiles, char **files);
/* Installs SIGINT/SIGTERM/SIGHUP handlers that interrupt waits and ask the lab to quit. */
void repl_signals(struct lab *lab);
/* The readline history file ($XDG_STATE_HOME/conlab/history), or NULL when there is no
 * usable home. Static buffer. */
const char *repl_history_path(void);
/* Readline completion over commands, modes, options and node ids (for the dashboard too). */
char **repl_complete(const char *text, int start, int end);
/* The lab whose cluster repl_complete offers node names from (repl_run and script_run set
 * it; the dashboard calls this). */
void repl_complete_lab(struct lab *lab);

#endif
