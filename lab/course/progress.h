/* progress — what a student has done, kept in $XDG_DATA_HOME/conlab/progress.json (or
 * ~/.local/share/conlab/progress.json; a relative XDG_DATA_HOME is ignored, as the XDG spec
 * says). The file is 0600, written atomically (temporary file, fsync, rename, fsync of the
 * directory). A file that cannot be parsed is renamed progress.json.corrupt-<unix time>, a
 * fresh record is started and the caller gets a message to show: the lab goes on.
 *
 * Layout (JSON):
 *   {"version":1,
 *    "lessons":{"raft-election":{"step":2,"done":false,"steps":{"find-leader":"done"},
 *                                "hints":{"find-leader":1},"answers":{"q1":true},
 *                                "updated":1732471000}},
 *    "quiz":{"sessions":3,"cards":{"q-id":{"box":2,"last":3,"seen":4,"right":3}}}}
 *
 * Ownership: progress_load() returns an object the caller frees with progress_free(); strings
 * it returns are borrowed until the next change.
 */
#ifndef CONLAB_PROGRESS_H
#define CONLAB_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>

struct progress;

/* Writes the progress file's path into buf. Returns 0, or CL_ENOENT when neither an absolute
 * XDG_DATA_HOME nor HOME is set (then progress lives in memory only). */
int progress_path(char *buf, size_t n);

/* Loads the progress file (a missing file is a fresh record). Never fails: on a corrupt file
 * the file is kept aside and notice gets one line for the user ("" when all went well). */
struct progress *progress_load(char *notice, size_t n);
/* Loads from an explicit path (tests); path NULL = memory only, never saved. */
struct progress *progress_load_path(const char *path, char *notice, size_t n);
/* Writes the file atomically. Returns 0 or CL_EIO with err filled; memory-only is a no-op. */
int progress_save(struct progress *p, char *err, size_t errlen);
void progress_free(struct progress **p);

/* Lessons. step is the index of the step the student last reached. */
int progress_lesson_step(const struct progress *p, const char *lesson);
void progress_lesson_set_step(struct progress *p, const char *lesson, int step);
bool progress_lesson_done(const struct progress *p, const char *lesson);
void progress_lesson_set_done(struct progress *p, const char *lesson, bool done);
/* "done", "skipped" or NULL. */
const char *progress_step_status(const struct progress *p, const char *lesson, const char *step);
void progress_step_set_status(struct progress *p, const char *lesson, const char *step,
                              const char *status);
int progress_step_hints(const struct progress *p, const char *lesson, const char *step);
void progress_step_set_hints(struct progress *p, const char *lesson, const char *step, int n);
/* End-of-lesson quiz answers: 1 right, 0 wrong, -1 not answered. */
int progress_lesson_answer(const struct progress *p, const char *lesson, const char *qid);
void progress_lesson_set_answer(struct progress *p, const char *lesson, const char *qid,
                                bool right);
/* Forgets everything about one lesson. */
void progress_lesson_reset(struct progress *p, const char *lesson);

/* Quiz: one Leitner card per question. A card never asked has box 0. */
struct progress_card {
    int box;        /* 0 = new, 1..5 */
    int last;       /* session number when last asked */
    int seen, right;
};
void progress_card_get(const struct progress *p, const char *qid, struct progress_card *c);
void progress_card_set(struct progress *p, const char *qid, const struct progress_card *c);
/* Starts a quiz session and returns its number (1, 2, …). */
int progress_quiz_begin_session(struct progress *p);
int progress_quiz_sessions(const struct progress *p);

#endif
