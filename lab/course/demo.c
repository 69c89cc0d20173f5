/* demo.c — `conlab demo LESSON [--pace SECONDS]`: instructor mode.
 *
 * Plays a lesson's solution (the same script `conlab lesson script ID` writes, checks
 * included) in the terminal, step by step: before each step it shows the step's title and
 * text and waits for a key (space or Enter; q stops), or, with --pace, for that many seconds,
 * so that the instructor can narrate. The lab's loop keeps running while it waits: events
 * arrive and the nodes go on. Output is plain lines, readable at large font sizes.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "demo.h"
#include "lab.h"
#include "lesson.h"
#include "lessonhost.h"
#include "util.h"

static struct termios saved;
static int raw_on;

static void raw_mode(int on)
{
    if (!isatty(STDIN_FILENO))
        return;
    if (on && !raw_on) {
        struct termios t;
        if (tcgetattr(STDIN_FILENO, &saved) < 0)
            return;
        t = saved;
        t.c_lflag &= (tcflag_t) ~(ICANON | ECHO);
        t.c_cc[VMIN] = 1;
        t.c_cc[VTIME] = 0;
        if (tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0)
            raw_on = 1;
    } else if (!on && raw_on) {
        tcsetattr(STDIN_FILENO, TCSANOW, &saved);
        raw_on = 0;
    }
}

/* Waits for a key (not paced) or for pace_us, pumping the lab meanwhile. Returns 0 to go on,
 * 1 to stop (q, end of input, Ctrl-C). */
static int pause_here(struct lab *lab, int paced, uint64_t pace_us)
{
    if (paced) {
        uint64_t end = mono_us() + pace_us;
        while (mono_us() < end && !lab->interrupted)
            lab_pump(lab, 50000, -1);
        return lab->interrupted;
    }
    printf("  [space or Enter: run this step · q: stop]\n");
    fflush(stdout);
    raw_mode(1);
    int stop = 0;
    for (;;) {
        if (lab->interrupted) {
            stop = 1;
            break;
        }
        if (lab_pump(lab, 100000, STDIN_FILENO) != 1)
            continue;
        char c;
        ssize_t n = read(STDIN_FILENO, &c, 1);
        if (n <= 0 || c == 'q' || c == 'Q' || c == 4) {
            stop = 1;
            break;
        }
        if (c == ' ' || c == '\n' || c == '\r')
            break;
    }
    raw_mode(0);
    return stop;
}

static void show_step(const struct lesson *l, int k)
{
    const struct lesson_step *st = &l->steps[k];
    printf("\n==== Step %d of %d: %s ====\n", k + 1, l->nsteps, st->title ? st->title : st->id);
    if (st->text)
        fputs(st->text, stdout);
    if (st->text && st->text[strlen(st->text) - 1] != '\n')
        putchar('\n');
    fflush(stdout);
}

/* One text field as markdown lines, each prefixed (a quote: "> "). */
static void md_lines(struct sb *out, const char *text, const char *prefix)
{
    for (const char *p = text; p && *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        sb_printf(out, "%s%.*s\n", prefix, (int)n, p);
        p += n + (nl ? 1 : 0);
    }
}

void demo_sheet(const struct lesson *l, struct sb *out)
{
    struct sb start = {0};
    lesson_start_command(l, &start);
    sb_printf(out, "# Demo cheat sheet: %s\n\n", l->title);
    sb_printf(out, "Lesson `%s` · %s · %ld min · play it with `conlab demo %s` (space or Enter before "
                   "each step; `--pace S` to advance alone).\n\n",
              l->id, l->level, l->minutes, l->id);
    sb_printf(out, "Cluster: `%s`\n\n", start.s ? start.s : "");
    sb_free(&start);
    if (l->notes) {
        sb_add(out, "Before you start:\n\n");
        md_lines(out, l->notes, "> ");
        sb_add(out, "\n");
    }
    for (int k = 0; k < l->nsteps; k++) {
        const struct lesson_step *st = &l->steps[k];
        sb_printf(out, "## %d. %s\n\n", k + 1, st->title ? st->title : st->id);
        if (st->text) {
            sb_add(out, "Say:\n\n");
            md_lines(out, st->text, "> ");
            sb_add(out, "\n");
        }
        sb_add(out, "Type:\n\n```\n");
        for (int c = 0; c < st->nsolution; c++)
            sb_printf(out, "%s\n", st->solution[c]);
        sb_add(out, "```\n\n");
        if (st->done) {
            sb_add(out, "Then point at:\n\n");
            md_lines(out, st->done, "> ");
            sb_add(out, "\n");
        }
    }
    if (l->nrecap) {
        sb_add(out, "## Recap\n\n");
        for (int r = 0; r < l->nrecap; r++)
            sb_printf(out, "- %s\n", l->recap[r]);
        sb_add(out, "\n");
    }
}

int demo_main(struct lab *lab, int argc, char **argv)
{
    const char *id = NULL;
    uint64_t pace_us = 0;
    int sheet = 0, paced = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--sheet")) {
            sheet = 1;
        } else if (!strcmp(argv[i], "--pace") && i + 1 < argc) {
            double s;
            if (parse_double(argv[++i], &s) < 0 || s < 0 || s > 3600) {
                fprintf(stderr, "conlab demo: bad --pace '%s': expected seconds from 0 to 3600\n", argv[i]);
                return 2;
            }
            pace_us = (uint64_t)(s * 1e6);
            paced = 1;
        } else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            puts("usage: conlab demo LESSON [--pace SECONDS] | conlab demo LESSON --sheet\n"
                 "  plays the lesson's solution step by step for a class: each step's text, then\n"
                 "  its commands and its check; waits for space or Enter before each step (q stops),\n"
                 "  or SECONDS with --pace; --sheet prints the lesson's one-page demo cheat sheet\n"
                 "  (markdown) instead");
            return 0;
        } else if (!id && argv[i][0] != '-') {
            id = argv[i];
        } else {
            fprintf(stderr, "conlab demo: unknown argument '%s'\n", argv[i]);
            return 2;
        }
    }
    if (!id) {
        fprintf(stderr, "usage: conlab demo LESSON [--pace SECONDS]\n");
        return 2;
    }
    struct lesson *l;
    char err[1024];
    if (lesson_load_id(id, &l, err, sizeof err) < 0) {
        fprintf(stderr, "conlab demo: %s\n", err);
        return 2;
    }
    if (sheet) {
        struct sb b = {0};
        demo_sheet(l, &b);
        fputs(b.s ? b.s : "", stdout);
        sb_free(&b);
        lesson_free(&l);
        return 0;
    }
    struct sb script = {0};
    if (lesson_solution_script(l, &script) < 0) {
        fprintf(stderr, "conlab demo: lesson %s has no solution to play\n", id);
        lesson_free(&l);
        return 2;
    }
    printf("==== %s ====\n", l->title);
    if (l->intro)
        fputs(l->intro, stdout);
    if (l->notes)
        printf("\n(instructor) %s\n", l->notes);
    fflush(stdout);
    int step = -1, worst = 0, stopped = 0;
    for (char *p = script.s; p && *p && !stopped && !lab->quit;) {
        char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        char *line = xstrndup(p, len);
        p += len + (nl ? 1 : 0);
        if (!strncmp(line, "# step ", 7)) {
            if (++step < l->nsteps) {
                show_step(l, step);
                stopped = pause_here(lab, paced, pace_us);
            }
        } else if (line[0] && line[0] != '#') {
            lab_out(lab, "conlab> %s", line);
            int rc = lab_exec(lab, line);
            if (rc > worst)
                worst = rc;
        }
        free(line);
    }
    if (!stopped && l->finish)
        printf("\n==== Finish ====\n%s", l->finish);
    sb_free(&script);
    lesson_free(&l);
    return stopped ? 0 : worst || lab->failed ? 1 : 0;
}
