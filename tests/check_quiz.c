/* check_quiz — the question bank (every shipped file, the coverage the course promises) and
 * the drill: sessions fed through a FILE* with known answers, asserting the score, the
 * feedback, the saved Leitner boxes and the next session's choice of questions. */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "progress.h"
#include "lesson.h"
#include "quiz.h"
#include "util.h"

static char tmpdir[64];

static void setup_tmp(void)
{
    str_copy(tmpdir, "/tmp/conlab-quiz-XXXXXX", sizeof tmpdir);
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    setenv("XDG_DATA_HOME", tmpdir, 1);
}

static void rm_tmp(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
}

static const char *const bank_text =
    "schema: 1\ntopic: quorum\nquestions:\n"
    "  - id: t-choice\n    kind: choice\n    question: \"N=3: majority?\"\n"
    "    choices:\n"
    "      - { text: \"1\", why: \"Too few.\" }\n"
    "      - { text: \"2\", correct: true, why: \"floor(3/2)+1.\" }\n"
    "      - { text: \"3\", why: \"All is more than a majority.\" }\n"
    "    explanation: \"A majority of 3 is 2.\"\n"
    "  - id: t-num\n    kind: numeric\n    question: \"N=5, R=2: smallest W?\"\n    answer: 4\n"
    "    explanation: \"R + W > N.\"\n"
    "  - id: t-order\n    kind: order\n    topic: raft\n    question: \"Order.\"\n"
    "    order: [timeout, vote, lead]\n    explanation: \"Timeout, votes, leadership.\"\n"
    "  - id: t-multi\n    kind: choice\n    multiple: true\n    topic: raft\n    question: \"Persist?\"\n"
    "    choices:\n"
    "      - { text: currentTerm, correct: true, why: \"yes\" }\n"
    "      - { text: votedFor, correct: true, why: \"yes\" }\n"
    "      - { text: commitIndex, why: \"volatile\" }\n"
    "    explanation: \"Figure 2.\"\n"
    "  - id: t-open\n    kind: open\n    topic: raft\n    question: \"Explain Raft.\"\n"
    "    model_answer: \"Leader, terms, majorities.\"\n    key_points: [terms, majorities]\n"
    "    explanation: \"Safety by intersection.\"\n";

static void load_bank(struct quiz_bank *bank)
{
    char path[128], err[512];
    snprintf(path, sizeof path, "%s/bank.yaml", tmpdir);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(bank_text, f);
    fclose(f);
    memset(bank, 0, sizeof *bank);
    ck_assert_msg(quiz_bank_add_file(bank, path, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(bank->n, 5);
}

/* Runs one session with `answers` as stdin; returns the output (caller frees). */
static char *session(const struct quiz_bank *bank, struct quiz_opts *o, struct progress *p,
                     const char *answers, struct quiz_result *res, int *rc)
{
    FILE *in = fmemopen((void *)answers, strlen(answers), "r");
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    *rc = quiz_run(bank, o, p, in, out, res);
    fclose(in);
    fclose(out);
    return buf;
}

START_TEST(session_from_stdin_scores_and_saves_leitner_boxes)
{
    setup_tmp();
    struct quiz_bank bank;
    load_bank(&bank);
    char notice[512];
    struct progress *p = progress_load(notice, sizeof notice);
    struct quiz_opts o = {.count = 4, .seed = 7, .no_shuffle = true, .echo = true};
    struct quiz_result res;
    int rc;
    /* all cards are new, so the seed alone decides the order: learn it from a dry run
     * without progress, then answer each question by its text */
    struct sb answers = {0};
    const char *order[4];
    int k = 0;
    {
        char *dry = session(&bank, &o, NULL, "skip\nskip\nskip\nskip\n", &res, &rc);
        for (const char *q = dry; (q = strstr(q, "Question ")) && k < 4; q++) {
            const char *nl = strchr(q, '\n') + 1;
            if (!strncmp(nl, "N=3: majority?", 14)) order[k++] = "zz\nb\n";   /* invalid, then right */
            else if (!strncmp(nl, "N=5, R=2", 8)) order[k++] = "3\n";        /* wrong */
            else if (!strncmp(nl, "Order.", 6)) order[k++] = "a b c\n";      /* right (no shuffle) */
            else if (!strncmp(nl, "Persist?", 8)) order[k++] = "a, b\n";     /* right */
        }
        free(dry);
    }
    ck_assert_int_eq(k, 4);
    for (int i = 0; i < 4; i++)
        sb_add(&answers, order[i]);
    char *out = session(&bank, &o, p, answers.s, &res, &rc);
    sb_free(&answers);
    ck_assert_int_eq(rc, 0);
    ck_assert_int_eq(res.asked, 4);
    ck_assert_int_eq(res.right, 3);
    ck_assert_msg(strstr(out, "\"zz\" is not one of the choices: answer with a letter a-c."),
                  "%s", out);
    ck_assert_msg(strstr(out, "Not quite. The answer is 4.\nExplanation: R + W > N."), "%s", out);
    ck_assert_msg(strstr(out, "Score: 3/4 = 75%"), "%s", out);
    ck_assert_msg(strstr(out, "Weak topics: quorum (1/2)"), "%s", out);
    ck_assert_msg(strstr(out, "Drill them: conlab quiz --topic quorum"), "%s", out);
    free(out);
    progress_free(&p);

    /* what was saved: right answers in box 2, the wrong one in box 1, one session */
    p = progress_load(notice, sizeof notice);
    ck_assert_str_eq(notice, "");
    ck_assert_int_eq(progress_quiz_sessions(p), 1);
    struct progress_card c;
    progress_card_get(p, "t-num", &c);
    ck_assert_int_eq(c.box, 1);
    ck_assert_int_eq(c.seen, 1);
    ck_assert_int_eq(c.right, 0);
    progress_card_get(p, "t-choice", &c);
    ck_assert_int_eq(c.box, 2);
    ck_assert_int_eq(c.right, 1);
    progress_card_get(p, "t-open", &c);
    ck_assert_int_eq(c.box, 0);

    /* next session, one question: the box-1 card is due first */
    o.count = 1;
    out = session(&bank, &o, p, "4\n", &res, &rc);
    ck_assert_msg(strstr(out, "N=5, R=2: smallest W?"), "%s", out);
    ck_assert_int_eq(res.right, 1);
    ck_assert_msg(strstr(out, "No weak topics this session."), "%s", out);
    free(out);
    progress_card_get(p, "t-num", &c);
    ck_assert_int_eq(c.box, 2);
    ck_assert_int_eq(c.last, 2);
    progress_free(&p);
    quiz_bank_free(&bank);
    rm_tmp();
}
END_TEST

START_TEST(interview_mode_self_grades_against_the_model_answer)
{
    setup_tmp();
    struct quiz_bank bank;
    load_bank(&bank);
    char notice[512];
    struct progress *p = progress_load(notice, sizeof notice);
    struct quiz_opts o = {.count = 5, .seed = 1, .interview = true, .echo = true};
    struct quiz_result res;
    int rc;
    char *out = session(&bank, &o, p, "Terms and votes.\nmaybe\np\n", &res, &rc);
    ck_assert_int_eq(rc, 0);
    ck_assert_int_eq(res.asked, 1); /* only the open question */
    ck_assert_int_eq(res.partly, 1);
    ck_assert_msg(strstr(out, "Model answer:\nLeader, terms, majorities.\nKey points:\n  - terms\n"
                              "  - majorities\n"), "%s", out);
    ck_assert_msg(strstr(out, "Answer y, p or n."), "%s", out);
    ck_assert_msg(strstr(out, "Score: 0/1 (and 1 partly) = 50%"), "%s", out);
    free(out);
    struct progress_card c;
    progress_card_get(p, "t-open", &c);
    ck_assert_int_eq(c.box, 1);
    progress_free(&p);
    quiz_bank_free(&bank);
    rm_tmp();
}
END_TEST

START_TEST(unknown_topic_and_eof_end_cleanly)
{
    setup_tmp();
    struct quiz_bank bank;
    load_bank(&bank);
    struct quiz_opts o = {.count = 3, .seed = 1, .topic = "quorums"};
    struct quiz_result res;
    int rc;
    char *out = session(&bank, &o, NULL, "", &res, &rc);
    ck_assert_int_eq(rc, CL_ENOENT);
    ck_assert_str_eq(out, "no questions on topic \"quorums\"; did you mean \"quorum\"?\n");
    free(out);
    o.topic = "raft";
    out = session(&bank, &o, NULL, "zzz\n", &res, &rc); /* not an answer, then EOF */
    ck_assert_int_eq(rc, 0);
    ck_assert_int_eq(res.asked, 0);
    ck_assert_msg(strstr(out, "Score: 0/0"), "%s", out);
    free(out);
    quiz_bank_free(&bank);
    rm_tmp();
}
END_TEST

START_TEST(shuffled_choices_are_graded_by_position_shown)
{
    setup_tmp();
    struct quiz_bank bank;
    load_bank(&bank);
    const struct quiz_question *q = quiz_bank_find(&bank, "t-choice");
    int perm[3] = {2, 0, 1}; /* shows "3", "1", "2" */
    struct sb b = {0};
    quiz_render(q, perm, &b);
    ck_assert_msg(strstr(b.s, "  a) 3\n  b) 1\n  c) 2\n"), "%s", b.s);
    sb_free(&b);
    ck_assert_int_eq(quiz_grade(q, perm, "c", &b), 1);
    sb_free(&b);
    ck_assert_int_eq(quiz_grade(q, perm, "b", &b), 0);
    ck_assert_msg(strstr(b.s, "The answer is c."), "%s", b.s);
    sb_free(&b);
    ck_assert_int_eq(quiz_grade(q, perm, "d", &b), CL_EINVAL);
    sb_free(&b);
    ck_assert_int_eq(quiz_grade(q, perm, "a,c", &b), CL_EINVAL);
    ck_assert_msg(strstr(b.s, "Pick one letter only."), "%s", b.s);
    sb_free(&b);
    const struct quiz_question *m = quiz_bank_find(&bank, "t-multi");
    ck_assert_int_eq(quiz_grade(m, NULL, "ab", &b), 1);
    sb_free(&b);
    ck_assert_int_eq(quiz_grade(m, NULL, "a", &b), 0);
    sb_free(&b);
    const struct quiz_question *o = quiz_bank_find(&bank, "t-order");
    int op[3] = {1, 2, 0}; /* shows vote, lead, timeout */
    ck_assert_int_eq(quiz_grade(o, op, "c a b", &b), 1);
    sb_free(&b);
    ck_assert_int_eq(quiz_grade(o, op, "c a a", &b), CL_EINVAL);
    sb_free(&b);
    ck_assert_int_eq(quiz_grade(o, op, "a b c", &b), 0);
    ck_assert_msg(strstr(b.s, "  1. (c) timeout\n  2. (a) vote\n  3. (b) lead\n"), "%s", b.s);
    sb_free(&b);
    const struct quiz_question *n = quiz_bank_find(&bank, "t-num");
    ck_assert_int_eq(quiz_grade(n, NULL, " 4 ", &b), 1);
    sb_free(&b);
    ck_assert_int_eq(quiz_grade(n, NULL, "4x", &b), CL_EINVAL);
    sb_free(&b);
    quiz_bank_free(&bank);
    rm_tmp();
}
END_TEST

START_TEST(shipped_bank_covers_the_course)
{
    struct quiz_bank bank = {0};
    char err[1024];
    ck_assert_msg(quiz_bank_load_dir(&bank, "lessons/quiz", err, sizeof err) == 0, "%s", err);
    ck_assert_int_ge(bank.n, 150);
    static const char *const topics[] = {"cap", "consistency", "replication", "quorum",
                                         "conflicts", "raft", "paxos", "zab", "clocks",
                                         "transactions", "gossip", "fencing", "events"};
    int kinds[4] = {0};
    for (int i = 0; i < bank.n; i++) {
        kinds[bank.q[i].kind]++;
        ck_assert_msg(strlen(bank.q[i].explanation) >= 20, "%s: explanation too short",
                      bank.q[i].id);
    }
    for (size_t t = 0; t < CL_ARRAY_LEN(topics); t++) {
        int n = 0;
        for (int i = 0; i < bank.n; i++)
            n += quiz_question_has_topic(&bank.q[i], topics[t]);
        ck_assert_msg(n >= 3, "topic %s has %d questions", topics[t], n);
    }
    ck_assert_int_ge(kinds[QUIZ_CHOICE], 80);
    ck_assert_int_ge(kinds[QUIZ_NUMERIC], 20);
    ck_assert_int_ge(kinds[QUIZ_ORDER], 8);
    ck_assert_int_ge(kinds[QUIZ_OPEN], 15);
    /* every numeric and choice answer grades as right against itself */
    for (int i = 0; i < bank.n; i++) {
        const struct quiz_question *q = &bank.q[i];
        struct sb b = {0};
        char ans[64] = "";
        if (q->kind == QUIZ_NUMERIC) {
            snprintf(ans, sizeof ans, "%.10g", q->answer);
        } else if (q->kind == QUIZ_CHOICE) {
            for (int c = 0; c < q->nchoices; c++)
                if (q->choices[c].correct)
                    sb_printf(&b, "%c", 'a' + c);
            str_copy(ans, b.s, sizeof ans);
            sb_free(&b);
        } else if (q->kind == QUIZ_ORDER) {
            for (int c = 0; c < q->nitems; c++)
                sb_printf(&b, "%c ", 'a' + c);
            str_copy(ans, b.s, sizeof ans);
            sb_free(&b);
        } else {
            continue;
        }
        ck_assert_msg(quiz_grade(q, NULL, ans, &b) == 1, "%s: %s", q->id, b.s);
        sb_free(&b);
    }
    char *t = quiz_bank_topics(&bank);
    ck_assert_msg(strstr(t, "cap|clocks|conflicts|consistency"), "%s", t);
    free(t);
    quiz_bank_free(&bank);
}
END_TEST

/* Characters (code points) in a UTF-8 string. */
static size_t chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

/* Single-answer choice questions of q[0..n), and how many of them give the answer away by
 * having the right option strictly longer than every other. */
static void length_cues(const struct quiz_question *q, int n, int *single, int *cues)
{
    *single = *cues = 0;
    for (int i = 0; i < n; i++) {
        if (q[i].kind != QUIZ_CHOICE || q[i].multiple)
            continue;
        int right = -1;
        for (int c = 0; c < q[i].nchoices; c++)
            if (q[i].choices[c].correct)
                right = c;
        if (right < 0)
            continue;
        (*single)++;
        bool longest = true;
        for (int c = 0; c < q[i].nchoices; c++)
            if (c != right && chars(q[i].choices[c].text) >= chars(q[i].choices[right].text))
                longest = false;
        *cues += longest;
    }
}

/* A student should not be able to pass a bank by picking the longest option: in every bank
 * (each quiz file, each lesson's end-of-lesson questions) the right option is the strictly
 * longest in at most 40% of the single-answer questions. */
START_TEST(no_bank_gives_the_answer_away_by_its_length)
{
    DIR *dh = opendir("lessons/quiz");
    ck_assert_ptr_nonnull(dh);
    struct dirent *de;
    int banks = 0, total = 0, total_cues = 0;
    char err[1024];
    while ((de = readdir(dh))) {
        size_t len = strlen(de->d_name);
        if (len < 6 || strcmp(de->d_name + len - 5, ".yaml"))
            continue;
        char path[512];
        snprintf(path, sizeof path, "lessons/quiz/%s", de->d_name);
        struct quiz_bank bank = {0};
        ck_assert_msg(quiz_bank_add_file(&bank, path, err, sizeof err) == 0, "%s", err);
        int single, cues;
        length_cues(bank.q, bank.n, &single, &cues);
        ck_assert_msg(cues * 10 <= single * 4, "%s: the right option is the longest in %d of %d "
                      "single-answer questions (more than 40%%)", path, cues, single);
        total += single;
        total_cues += cues;
        banks++;
        quiz_bank_free(&bank);
    }
    closedir(dh);
    struct lesson_catalog cat;
    ck_assert_int_eq(lesson_catalog_load("lessons", &cat, err, sizeof err), 0);
    for (int i = 0; i < cat.n; i++) {
        int single, cues;
        length_cues(cat.l[i]->quiz, cat.l[i]->nquiz, &single, &cues);
        ck_assert_msg(cues * 10 <= single * 4, "lesson %s: the right option is the longest in %d of "
                      "%d single-answer questions", cat.l[i]->id, cues, single);
        total += single;
        total_cues += cues;
        banks++;
    }
    lesson_catalog_free(&cat);
    ck_assert_int_ge(banks, 15);
    ck_assert_int_ge(total, 120);
    /* and the check itself flags a bank made of giveaways */
    struct quiz_question q[2];
    memset(q, 0, sizeof q);
    for (int i = 0; i < 2; i++) {
        q[i].kind = QUIZ_CHOICE;
        q[i].nchoices = 2;
        q[i].choices[0].text = (char *)"No";
        q[i].choices[1].text = (char *)"Yes, because of the long and detailed reason";
        q[i].choices[1].correct = true;
    }
    int single, cues;
    length_cues(q, 2, &single, &cues);
    ck_assert_int_eq(cues, 2);
}
END_TEST

START_TEST(a_bad_quiz_file_is_skipped_and_the_rest_loads)
{
    setup_tmp();
    char path[128], err[1024];
    snprintf(path, sizeof path, "%s/a-good.yaml", tmpdir);
    FILE *f = fopen(path, "w");
    fputs(bank_text, f);
    fclose(f);
    snprintf(path, sizeof path, "%s/b-bad.yaml", tmpdir);
    f = fopen(path, "w");
    fputs("schema: 1\ntopic: x\nquestions:\n  - id: q\n    kind: choise\n    question: Q\n"
          "    explanation: E\n", f);
    fclose(f);
    struct quiz_bank bank = {0};
    ck_assert_int_eq(quiz_bank_load_dir(&bank, tmpdir, err, sizeof err), 1);
    ck_assert_int_eq(bank.n, 5);
    ck_assert_msg(strstr(err, "b-bad.yaml:5:11: question kind: unknown value \"choise\"; did you "
                              "mean \"choice\"?"), "%s", err);
    quiz_bank_free(&bank);
    unlink(path);
    snprintf(path, sizeof path, "%s/a-good.yaml", tmpdir);
    unlink(path);
    ck_assert_int_eq(quiz_bank_load_dir(&bank, tmpdir, err, sizeof err), CL_ENOENT);
    ck_assert_msg(strstr(err, "no questions in"), "%s", err);
    quiz_bank_free(&bank);
    rm_tmp();
}
END_TEST

START_TEST(leitner_boxes_space_out_the_cards)
{
    setup_tmp();
    struct quiz_bank bank;
    load_bank(&bank);
    char notice[512];
    struct progress *p = progress_load(notice, sizeof notice);
    ck_assert_int_eq(progress_quiz_begin_session(p), 1);
    struct progress_card box1 = {1, 1, 1, 0}, box2 = {2, 1, 1, 1}, box3 = {3, 1, 1, 1};
    progress_card_set(p, "t-choice", &box1);
    progress_card_set(p, "t-num", &box2);
    progress_card_set(p, "t-order", &box3);
    progress_card_set(p, "t-multi", &box3);
    struct quiz_opts o = {.count = 1, .seed = 3, .no_shuffle = true};
    struct quiz_result res;
    int rc;
    /* session 2: box 1 is due every session, box 2 every other one */
    char *out = session(&bank, &o, p, "b\n", &res, &rc);
    ck_assert_msg(strstr(out, "N=3: majority?"), "%s", out);
    ck_assert_int_eq(res.right, 1);
    free(out);
    /* session 3: the box-2 card asked in session 1 is now due; the choice card (now box 2,
     * asked in session 2) is not */
    out = session(&bank, &o, p, "4\n", &res, &rc);
    ck_assert_msg(strstr(out, "N=5, R=2: smallest W?"), "%s", out);
    free(out);
    struct progress_card c;
    progress_card_get(p, "t-num", &c);
    ck_assert_int_eq(c.box, 3);
    ck_assert_int_eq(c.last, 3);
    ck_assert_int_eq(progress_quiz_sessions(p), 3);
    progress_free(&p);
    quiz_bank_free(&bank);
    rm_tmp();
}
END_TEST

Suite *suite_quiz(void);
Suite *suite_quiz(void)
{
    Suite *s = suite_create("quiz");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, session_from_stdin_scores_and_saves_leitner_boxes);
    tcase_add_test(tc, interview_mode_self_grades_against_the_model_answer);
    tcase_add_test(tc, unknown_topic_and_eof_end_cleanly);
    tcase_add_test(tc, shuffled_choices_are_graded_by_position_shown);
    tcase_add_test(tc, shipped_bank_covers_the_course);
    tcase_add_test(tc, no_bank_gives_the_answer_away_by_its_length);
    tcase_add_test(tc, a_bad_quiz_file_is_skipped_and_the_rest_loads);
    tcase_add_test(tc, leitner_boxes_space_out_the_cards);
    suite_add_tcase(s, tc);
    return s;
}
