/* lessoncli — see lessoncli.h. */
#include "lessoncli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lesson.h"
#include "progress.h"
#include "quiz.h"
#include "util.h"
#include "yamldoc.h"

bool lessoncli_handles(const char *word)
{
    static const char *const w[] = {"list", "validate", "show", "script", "reset", "help",
                                    "--help", "-h"};
    for (size_t i = 0; i < CL_ARRAY_LEN(w); i++)
        if (!strcmp(word, w[i]))
            return true;
    return false;
}

static void usage_lesson(FILE *f)
{
    fputs("usage: conlab lesson list [--ids]       the course by chapter, with progress (--ids: ids only)\n"
          "       conlab lesson ID                 start lesson ID (its cluster and step 1)\n"
          "       conlab lesson validate FILE...   check lesson and quiz files\n"
          "       conlab lesson show ID            the lesson's steps and commands\n"
          "       conlab lesson script ID          its solution as a conlab script\n"
          "       conlab lesson reset ID|--all     forget progress\n"
          "in a lesson: hint | next | back | restart | lesson skip | lesson quit\n", f);
}

static int load_catalog(struct lesson_catalog *cat, bool quiet)
{
    char dir[4096], err[512];
    if (lesson_dir(dir, sizeof dir) < 0) {
        fprintf(stderr, "conlab: no lessons directory found (set CONLAB_LESSONS)\n");
        return 2;
    }
    if (lesson_catalog_load(dir, cat, err, sizeof err) < 0) {
        fprintf(stderr, "conlab: %s\n", err);
        return 2;
    }
    for (int i = 0; !quiet && i < cat->nbad; i++)
        fprintf(stderr, "conlab: skipped %s\n", cat->bad[i]);
    return 0;
}

static struct progress *load_progress(void)
{
    char notice[1024];
    struct progress *p = progress_load(notice, sizeof notice);
    if (notice[0])
        fprintf(stderr, "conlab: %s\n", notice);
    return p;
}

static int cmd_list(bool ids)
{
    struct lesson_catalog cat;
    int rc = load_catalog(&cat, ids);
    if (rc)
        return rc;
    struct progress *p = ids ? NULL : load_progress();
    struct sb b = {0};
    if (ids)
        lesson_catalog_ids(&cat, &b);
    else
        lesson_catalog_table(&cat, p, &b);
    fputs(b.s ? b.s : "", stdout);
    sb_free(&b);
    progress_free(&p);
    lesson_catalog_free(&cat);
    return 0;
}

/* A quiz file has a top-level `questions`; anything else is taken for a lesson. */
static int validate_one(const char *path)
{
    char err[1024];
    struct ydoc *d;
    int rc = ydoc_load_file(path, NULL, &d, err, sizeof err);
    if (rc < 0) {
        fprintf(stderr, "%s\n", err);
        return rc;
    }
    bool quiz = ydoc_get(d->root, "questions") != NULL;
    ydoc_free(&d);
    if (quiz) {
        struct quiz_bank bank = {0};
        rc = quiz_bank_add_file(&bank, path, err, sizeof err);
        if (rc < 0)
            fprintf(stderr, "%s\n", err);
        else
            printf("%s: ok (quiz, %d questions)\n", path, bank.n);
        quiz_bank_free(&bank);
        return rc;
    }
    struct lesson *l;
    rc = lesson_load_file(path, &l, err, sizeof err);
    if (rc < 0) {
        fprintf(stderr, "%s\n", err);
        return rc;
    }
    printf("%s: ok (lesson %s, %d steps%s%d quiz questions)\n", path, l->id, l->nsteps, ", ",
           l->nquiz);
    lesson_free(&l);
    return 0;
}

static int cmd_show(const char *id, bool script)
{
    struct lesson_catalog cat;
    int rc = load_catalog(&cat, true);
    if (rc)
        return rc;
    char err[512];
    const struct lesson *l = lesson_catalog_find(&cat, id, err, sizeof err);
    if (!l) {
        fprintf(stderr, "conlab: %s\n", err);
        lesson_catalog_free(&cat);
        return 2;
    }
    struct sb b = {0};
    if (script) {
        lesson_solution_script(l, &b);
    } else {
        sb_printf(&b, "%s: %s\n%s, about %ld minutes\n", l->id, l->title, l->level, l->minutes);
        if (l->summary)
            sb_printf(&b, "%s\n", l->summary);
        sb_add(&b, "cluster: ");
        lesson_start_command(l, &b);
        sb_addc(&b, '\n');
        for (int i = 0; i < l->nsteps; i++) {
            const struct lesson_step *s = &l->steps[i];
            sb_printf(&b, "  %2d. %-22s %s\n", i + 1, s->id, s->title);
            for (int k = 0; k < s->ncommands; k++)
                sb_printf(&b, "        try: %s\n", s->commands[k]);
        }
        if (l->nquiz)
            sb_printf(&b, "  then %d quiz question%s\n", l->nquiz, l->nquiz == 1 ? "" : "s");
    }
    struct sb esc = {0};
    /* lesson text is ours, but a shared lesson file is not: never let it drive the terminal */
    for (size_t i = 0; i < b.len;) {
        const char *nl = memchr(b.s + i, '\n', b.len - i);
        size_t len = nl ? (size_t)(nl - (b.s + i)) : b.len - i;
        sb_add_escaped(&esc, b.s + i, len);
        sb_addc(&esc, '\n');
        i += len + 1;
    }
    fputs(esc.s ? esc.s : "", stdout);
    sb_free(&esc);
    sb_free(&b);
    lesson_catalog_free(&cat);
    return 0;
}

static int cmd_reset(const char *id)
{
    struct progress *p = load_progress();
    if (!strcmp(id, "--all")) {
        struct lesson_catalog cat;
        if (load_catalog(&cat, true) == 0) {
            for (int i = 0; i < cat.n; i++)
                progress_lesson_reset(p, cat.l[i]->id);
            lesson_catalog_free(&cat);
        }
    } else {
        progress_lesson_reset(p, id);
    }
    char err[512];
    int rc = progress_save(p, err, sizeof err);
    if (rc < 0)
        fprintf(stderr, "conlab: %s\n", err);
    else
        printf("progress of %s forgotten\n", !strcmp(id, "--all") ? "every lesson" : id);
    progress_free(&p);
    return rc < 0 ? 1 : 0;
}

int lessoncli_main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "help") || !strcmp(argv[1], "--help") ||
        !strcmp(argv[1], "-h")) {
        usage_lesson(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *sub = argv[1];
    if (!strcmp(sub, "list")) {
        if (argc > 3 || (argc == 3 && strcmp(argv[2], "--ids"))) {
            fputs("usage: conlab lesson list [--ids]\n", stderr);
            return 2;
        }
        return cmd_list(argc == 3);
    }
    if (!strcmp(sub, "validate")) {
        if (argc < 3) {
            fputs("usage: conlab lesson validate FILE...\n", stderr);
            return 2;
        }
        int bad = 0;
        for (int i = 2; i < argc; i++)
            bad += validate_one(argv[i]) < 0;
        return bad ? 1 : 0;
    }
    if (!strcmp(sub, "show") || !strcmp(sub, "script")) {
        if (argc != 3) {
            fprintf(stderr, "usage: conlab lesson %s ID\n", sub);
            return 2;
        }
        return cmd_show(argv[2], !strcmp(sub, "script"));
    }
    if (!strcmp(sub, "reset")) {
        if (argc != 3) {
            fputs("usage: conlab lesson reset ID|--all\n", stderr);
            return 2;
        }
        return cmd_reset(argv[2]);
    }
    /* anything else is a lesson id: the lab starts it; here we only say whether it exists */
    struct lesson_catalog cat;
    int rc = load_catalog(&cat, true);
    if (rc)
        return rc;
    char err[512];
    const struct lesson *l = lesson_catalog_find(&cat, sub, err, sizeof err);
    if (!l)
        fprintf(stderr, "conlab: %s\n", err);
    else
        fprintf(stderr, "conlab: starting lessons needs the lab; run `conlab` and type "
                "`lesson %s`\n", sub);
    lesson_catalog_free(&cat);
    return 2;
}

static void usage_quiz(FILE *f)
{
    fputs("usage: conlab quiz [--topic T] [-n N] [--interview] [--seed S] [--no-shuffle] "
          "[--topics]\n"
          "  one question at a time; answer with a letter, a number or letters in order;\n"
          "  `skip` shows the answer, `quit` ends the session with a summary\n", f);
}

int quizcli_main(int argc, char **argv)
{
    struct quiz_opts o = {0};
    o.count = 10;
    bool list_topics = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--topic") || !strcmp(a, "-t")) {
            if (!val) {
                fputs("conlab quiz: --topic needs a topic\n", stderr);
                return 2;
            }
            o.topic = val;
            i++;
        } else if (!strncmp(a, "--topic=", 8)) {
            o.topic = a + 8;
        } else if (!strcmp(a, "-n")) {
            int64_t n;
            if (!val || parse_i64(val, &n) < 0 || n < 1 || n > 1000) {
                fputs("conlab quiz: -n needs a number from 1 to 1000\n", stderr);
                return 2;
            }
            o.count = (int)n;
            i++;
        } else if (!strcmp(a, "--seed")) {
            uint64_t s;
            if (!val || parse_u64(val, &s) < 0) {
                fputs("conlab quiz: --seed needs a non-negative whole number\n", stderr);
                return 2;
            }
            o.seed = (unsigned long)s;
            i++;
        } else if (!strcmp(a, "--interview")) {
            o.interview = true;
        } else if (!strcmp(a, "--no-shuffle")) {
            o.no_shuffle = true;
        } else if (!strcmp(a, "--topics")) {
            list_topics = true;
        } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage_quiz(stdout);
            return 0;
        } else {
            fprintf(stderr, "conlab quiz: unknown argument \"%s\"\n", a);
            usage_quiz(stderr);
            return 2;
        }
    }
    char dir[4096], qdir[4200], err[1024];
    if (lesson_dir(dir, sizeof dir) < 0) {
        fputs("conlab quiz: no lessons directory found (set CONLAB_LESSONS)\n", stderr);
        return 2;
    }
    snprintf(qdir, sizeof qdir, "%s/quiz", dir);
    struct quiz_bank bank = {0};
    int skipped = quiz_bank_load_dir(&bank, qdir, err, sizeof err);
    if (skipped < 0) {
        fprintf(stderr, "conlab quiz: %s\n", err);
        quiz_bank_free(&bank);
        return 2;
    }
    if (skipped > 0)
        fprintf(stderr, "conlab quiz: skipped %d bad file%s:\n%s\n", skipped,
                skipped == 1 ? "" : "s", err);
    if (list_topics) {
        char *t = quiz_bank_topics(&bank);
        for (char *s = t; *s; s++)
            if (*s == '|')
                *s = '\n';
        printf("%s\n", t);
        free(t);
        quiz_bank_free(&bank);
        return 0;
    }
    o.echo = !isatty(STDIN_FILENO);
    struct progress *p = load_progress();
    struct quiz_result res;
    int rc = quiz_run(&bank, &o, p, stdin, stdout, &res);
    progress_free(&p);
    quiz_bank_free(&bank);
    return rc < 0 ? 1 : 0;
}
