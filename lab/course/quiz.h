/* quiz — question banks and the drill. A bank is a set of YAML files (the files in lessons/quiz/,
 * format in docs/quizzes.md) of four kinds of question: multiple choice (a reason per
 * choice), numeric (with a tolerance), ordering, and open interview questions (a model answer
 * and its key points, graded by the student). Every question carries a worked explanation.
 *
 * The drill reads answers from a FILE* and writes to a FILE*, so the same engine serves the
 * terminal, a pipe and the tests. Spaced repetition uses Leitner boxes kept in the progress
 * file (progress.h): a right answer moves a card up a box, a wrong one back to box 1, and a
 * card in box b is due again 2^(b-1) sessions after it was last asked.
 *
 * Ownership: a struct quiz_bank owns its questions and strings; quiz_bank_free() frees all.
 */
#ifndef CONLAB_QUIZ_H
#define CONLAB_QUIZ_H

#include <stdbool.h>
#include <stdio.h>

#include "util.h"

struct ydoc;
struct ydoc_node;
struct progress;

#define QUIZ_MAX_CHOICES 8
#define QUIZ_MAX_ITEMS 8
#define QUIZ_MAX_POINTS 10
#define QUIZ_BOXES 5

enum quiz_kind { QUIZ_CHOICE, QUIZ_NUMERIC, QUIZ_ORDER, QUIZ_OPEN };

struct quiz_choice {
    char *text;
    char *why;       /* why this choice is right or wrong (required) */
    bool correct;
};

struct quiz_question {
    char *id;        /* unique across the bank */
    char *topic;     /* e.g. "quorum"; --topic matches it or one of tags */
    char **tags;
    int ntags;
    enum quiz_kind kind;
    char *question;
    char *explanation;             /* the worked explanation (required) */
    /* QUIZ_CHOICE */
    struct quiz_choice choices[QUIZ_MAX_CHOICES];
    int nchoices;
    bool multiple;                 /* more than one correct choice; all must be named */
    /* QUIZ_NUMERIC */
    double answer, tolerance;
    char *unit;                    /* may be NULL */
    /* QUIZ_ORDER: items in the correct order (shown shuffled) */
    char *items[QUIZ_MAX_ITEMS];
    int nitems;
    /* QUIZ_OPEN */
    char *model_answer;
    char *key_points[QUIZ_MAX_POINTS];
    int npoints;
    /* where it came from, for messages */
    char *file;
    int line;
};

struct quiz_bank {
    struct quiz_question *q;
    int n, cap;
};

const char *quiz_kind_name(enum quiz_kind k);

/* Parses one question map (also used for a lesson's end-of-lesson quiz). default_topic may be
 * NULL (then `topic` is required). Fills *q (caller frees with quiz_question_clear) or returns
 * CL_EINVAL with a positioned message. */
int quiz_question_parse(const struct ydoc *d, const struct ydoc_node *n,
                        const char *default_topic, struct quiz_question *q, char *err,
                        size_t errlen);
void quiz_question_clear(struct quiz_question *q);

/* Adds the questions of one quiz file to bank. On error nothing is added. Ids must be unique
 * across the bank. */
int quiz_bank_add_file(struct quiz_bank *bank, const char *path, char *err, size_t errlen);
/* Loads every *.yaml in dir (sorted). A bad file is skipped: returns the number of skipped
 * files (err holds their messages, one per line), 0 when all loaded, or CL_ENOENT when no
 * question at all could be loaded. */
int quiz_bank_load_dir(struct quiz_bank *bank, const char *dir, char *err, size_t errlen);
void quiz_bank_free(struct quiz_bank *bank);
const struct quiz_question *quiz_bank_find(const struct quiz_bank *bank, const char *id);
/* '|'-separated list of every topic in the bank, sorted (caller frees). */
char *quiz_bank_topics(const struct quiz_bank *bank);
bool quiz_question_has_topic(const struct quiz_question *q, const char *topic);

/* The question as text, with choices or items lettered a, b, c… shown in the order perm[]
 * (a permutation of 0..n-1 over choices or items: label i shows entry perm[i]; NULL = as
 * stored). The drill shuffles both so positions cannot be learnt. */
void quiz_render(const struct quiz_question *q, const int *perm, struct sb *out);

/* Grades one answer line. Returns 1 right, 0 wrong, CL_EINVAL when the answer is not a
 * possible answer at all (not one of the choices, not a number, not a permutation): then
 * feedback says what is expected and the caller asks again. On 0/1 feedback gets the verdict,
 * the reason for each choice named and the worked explanation. QUIZ_OPEN cannot be graded
 * here (CL_ESTATE). */
int quiz_grade(const struct quiz_question *q, const int *perm, const char *answer,
               struct sb *feedback);

/* Options of one drill session. */
struct quiz_opts {
    const char *topic;      /* NULL = every topic */
    int count;              /* questions to ask (default 10) */
    bool interview;         /* open questions with self-grading instead of graded ones */
    unsigned long seed;     /* 0 = from the clock */
    bool no_shuffle;        /* show choices and items in file order (tests, instructors) */
    bool echo;              /* write each answer read back to out (input is not a terminal) */
};

struct quiz_result {
    int asked, right, partly;
    int skipped;            /* asked but left by "quit" or EOF */
};

/* Runs one session: picks due questions (Leitner), asks them on out, reads answers from in
 * (one line each; "quit" or EOF ends early), prints feedback, the score and the weak topics,
 * and updates progress (may be NULL: nothing is kept). Returns 0, or CL_ENOENT when no
 * question matches the topic (a message naming the known topics is printed). */
int quiz_run(const struct quiz_bank *bank, const struct quiz_opts *o, struct progress *p,
             FILE *in, FILE *out, struct quiz_result *res);

#endif
