/* check_complete — what the shell completion offers, from the program itself: subcommands,
 * options, lesson ids and quiz topics from the shipped course, modes from the mode table, and
 * the file directives the bash and zsh scripts turn into file names. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "complete.h"
#include "mode.h"
#include "util.h"

/* The candidates for a command line written as one string ("lesson ra"; a trailing space
 * means the next word is empty), joined by spaces. Caller frees. */
static char *offered(const char *prog, const char *line)
{
    char *copy = xstrdup(line);
    char *words[32];
    int n = 0;
    char *p = copy;
    for (;;) {
        char *sp = strchr(p, ' ');
        words[n++] = p;
        if (!sp || n == 31)
            break;
        *sp = 0;
        p = sp + 1;
    }
    struct sb out = {0};
    complete_words(prog, n, words, &out);
    for (size_t i = 0; i < out.len; i++)
        if (out.s[i] == '\n')
            out.s[i] = i + 1 == out.len ? 0 : ' ';
    free(copy);
    return out.s ? out.s : xstrdup("");
}

#define OFFERS(prog, line, want)                                                   \
    do {                                                                           \
        char *got_ = offered(prog, line);                                          \
        ck_assert_msg(!strcmp(got_, want), "'%s' offered [%s], wanted [%s]", line, got_, want); \
        free(got_);                                                                \
    } while (0)

static void use_shipped_lessons(void)
{
    setenv("CONLAB_LESSONS", "lessons", 1);
}

START_TEST(subcommands_after_the_program_and_options_after_a_dash)
{
    OFFERS("conlab", "", "script check lesson quiz bench replay dash demo serve join keygen poke trace");
    OFFERS("conlab", "trace ", "export");
    OFFERS("conlab", "trace export --", "--shiviz --chrome --help");
    OFFERS("/usr/bin/conlab", "l", "lesson");
    OFFERS("conlab", "--", "--plain --no-color --start --lesson --help --version");
    OFFERS("conlab", "--plain ", ""); /* a subcommand only comes first */
    OFFERS("conlab", "quiz --t", "--topic --topics");
    OFFERS("conlab", "quiz -", "--topic -n --interview --seed --no-shuffle --topics --help");
    OFFERS("conlab-node", "--", "--id --mode --dir --ctl --events --bind --peer-bind --peer-key --nodes --lab-pid --opt "
                                "--check --help --version");
}
END_TEST

START_TEST(lesson_ids_come_from_the_course)
{
    use_shipped_lessons();
    OFFERS("conlab", "lesson ra", "raft-election raft-commit");
    OFFERS("conlab", "lesson sh", "show");
    OFFERS("conlab", "lesson spl", "split-brain");
    OFFERS("conlab", "lesson sw", "swim-detection");
    OFFERS("conlab", "lesson show w", "welcome");
    OFFERS("conlab", "lesson show welcome ", "");     /* show takes one id */
    OFFERS("conlab", "lesson reset -", "--all");
    OFFERS("conlab", "lesson welcome --", "--plain --no-color");
    OFFERS("conlab", "--plain --lesson cap", "cap-minority");
    setenv("CONLAB_LESSONS", "/nonexistent/lessons", 1);
    OFFERS("conlab", "lesson ra", "");                /* no course: nothing, and no noise */
}
END_TEST

START_TEST(quiz_topics_come_from_the_question_banks)
{
    use_shipped_lessons();
    OFFERS("conlab", "quiz --topic ra", "raft");
    OFFERS("conlab", "quiz -n 5 -t q", "quorum");
    OFFERS("conlab", "quiz -n ", "");                 /* a number: nothing to offer */
}
END_TEST

/* The table's modes whose name begins with prefix, space-separated (caller frees). */
static char *modes_from(const char *prefix)
{
    struct sb b = {0};
    sb_addn(&b, "", 0);
    for (int i = 0; mode_table[i]; i++)
        if (!strncmp(mode_table[i]->name, prefix, strlen(prefix)))
            sb_printf(&b, "%s%s", b.len ? " " : "", mode_table[i]->name);
    return b.s;
}

START_TEST(modes_come_from_the_mode_table)
{
    char *all = modes_from(""), *lea = modes_from("lea"), *r = modes_from("r"), *l = modes_from("l");
    ck_assert_ptr_nonnull(strstr(all, "raft")); /* the table is the one the program was built with */
    OFFERS("conlab", "--start ", all);
    OFFERS("conlab", "--start \"lea", lea);
    OFFERS("conlab", "bench --nodes 5 --mode r", r);
    OFFERS("conlab-node", "--id n1 --mode l", l);
    free(all);
    free(lea);
    free(r);
    free(l);
}
END_TEST

START_TEST(files_and_fixed_values)
{
    OFFERS("conlab", "script ", "@file:lab");
    OFFERS("conlab", "script a.lab -", "--help -"); /* - is standard input */
    OFFERS("conlab", "lesson validate ", "@file:yaml");
    OFFERS("conlab", "check --model c", "cas-register");
    OFFERS("conlab", "check --model kv ", "@file");
    OFFERS("conlab", "check h.jsonl ", "");          /* one history only */
    OFFERS("conlab", "bench --cl ", "one quorum all");
    OFFERS("conlab", "bench check --write ", "@file");
    OFFERS("conlab", "bench sp", "spread");
    OFFERS("conlab", "bench spread --se", "--seeds");
    OFFERS("conlab-node", "--dir ", "@file");
}
END_TEST

Suite *suite_complete(void);
Suite *suite_complete(void)
{
    Suite *s = suite_create("complete");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, subcommands_after_the_program_and_options_after_a_dash);
    tcase_add_test(tc, lesson_ids_come_from_the_course);
    tcase_add_test(tc, quiz_topics_come_from_the_question_banks);
    tcase_add_test(tc, modes_come_from_the_mode_table);
    tcase_add_test(tc, files_and_fixed_values);
    suite_add_tcase(s, tc);
    return s;
}
