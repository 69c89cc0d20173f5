/* live — the lab on a terminal: the ncurses dashboard (tui/dash.c) with the command line inside
 * it, driven by the lab's one loop. Falls back to nothing: the caller runs the plain REPL when
 * live_run() returns -1 (no usable terminal). */
#ifndef CONLAB_LIVE_H
#define CONLAB_LIVE_H

#include "lab.h"

/* Runs until quit. Returns the exit status, or -1 when the dashboard cannot open (reason in
 * err) and nothing was run. */
int live_run(struct lab *lab, const char *first_command, int no_color, char *err, size_t errlen);

#endif
