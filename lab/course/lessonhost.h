/* lessonhost — a lesson running in the lab: the lesson engine (lesson.c) watching the lab's
 * live state through struct lesson_world, the in-lesson words (hint, next, back, restart,
 * lesson quit), the lesson pane's events, and the commands that start a lesson (`lesson ID`)
 * and run a lesson's solution (`lesson-begin ID`, `lesson-check STEP TIMEOUT`, `lesson-end`).
 * One per lab. The lab does not know it: lessonhost_install() adds its commands and its
 * hooks (a typed line, a tick of the loop, the lab's end) to the lab. */
#ifndef CONLAB_LESSONHOST_H
#define CONLAB_LESSONHOST_H

#include "lab.h"

/* Plugs the lesson host into lab: its commands and its hooks. Call once after lab_init. */
void lessonhost_install(struct lab *lab);
/* The dashboard shows the lesson in its own pane (1): the Output pane then gets a short line
 * for each step instead of its whole text. Call before lessonhost_begin. */
void lessonhost_use_pane(int on);
/* Loads lesson id, starts its cluster and shows step 1. Returns 0 or an error (reported). */
int lessonhost_begin(struct lab *lab, const char *id);
/* `lesson list` in the lab: the course and the progress kept. Returns 0 or an error. */
int lessonhost_list(struct lab *lab);
/* Called by lab_exec before each command runs: while a lesson runs, the command becomes an
 * "input" event ({"ev":"input","line":"put x 1"}), so that a step counts only what was typed
 * after it opened. */
void lessonhost_note_command(struct lab *lab, int argc, char **argv);
/* Is a lesson running? */
int lessonhost_active(const struct lab *lab);
/* Offers a typed line to the lesson first: 1 when it was a lesson word (handled), 0 when the
 * lab should run it as a command (then call lessonhost_poll). */
int lessonhost_line(struct lab *lab, const char *line);
/* Checks the current step against the lab's state (the last statuses: it never waits);
 * prints and moves on when it passed. Cheap enough to call after every command and a few
 * times a second (the lab's loop does, through the tick hook). */
void lessonhost_poll(struct lab *lab);
/* Script commands (lab_exec dispatches them). Each returns 0, 1 (runtime) or 2 (parse). */
int lessonhost_cmd_begin(struct lab *lab, int argc, char **argv);
int lessonhost_cmd_check(struct lab *lab, int argc, char **argv);
int lessonhost_cmd_end(struct lab *lab, int argc, char **argv);
void lessonhost_free(struct lab *lab);

#endif
