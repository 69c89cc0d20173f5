/* check_cmdline — what the user types is split into commands at ';' outside quotes, '#'
 * starts a comment, quotes and backslashes work as in a shell, and every malformed line
 * (unbalanced quote, trailing backslash, a 1 MiB paste) is refused with a reason. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmdline.h"
#include "util.h"

#define MAXC 16

/* Splits line and joins the commands with " / " into out; returns the count or -1. */
static int split(const char *line, char *out, size_t outlen, char *err)
{
    char *cmds[MAXC];
    int n = cmdline_split(line, cmds, MAXC, err, 256);
    struct sb b = {0};
    sb_addn(&b, "", 0);
    for (int i = 0; i < n; i++) {
        sb_printf(&b, "%s%s", i ? " / " : "", cmds[i]);
        free(cmds[i]);
    }
    str_copy(out, b.s, outlen);
    sb_free(&b);
    return n;
}

/* Words of cmd joined with "|"; returns 0 or -1. */
static int words(const char *cmd, char *out, size_t outlen, char *err)
{
    struct words w;
    if (cmdline_words(cmd, &w, err, 256) < 0)
        return -1;
    struct sb b = {0};
    sb_addn(&b, "", 0);
    for (int i = 0; i < w.argc; i++)
        sb_printf(&b, "%s%s", i ? "|" : "", w.argv[i]);
    ck_assert_ptr_null(w.argv[w.argc]);
    str_copy(out, b.s, outlen);
    sb_free(&b);
    int argc = w.argc;
    words_free(&w);
    ck_assert_int_eq(w.argc, 0);
    return argc;
}

static const struct {
    const char *line;
    int n;
    const char *cmds;
} splits[] = {
    {"status", 1, "status"},
    {"write x 1; read x", 2, "write x 1 / read x"},
    {"a;b;;c;", 3, "a / b / c"},
    {"  a  ;\t b \r", 2, "a / b"},
    {"write x 'a;b'; read x", 2, "write x 'a;b' / read x"},
    {"write x \"a;b\"", 1, "write x \"a;b\""},
    {"write x a\\;b", 1, "write x a\\;b"},
    {"status # shows the nodes; not a command", 1, "status"},
    {"# only a comment", 0, ""},
    {"write x '#1' # real comment", 1, "write x '#1'"},
    {"write x \"#1\"; read x#comment", 2, "write x \"#1\" / read x"},
    {"write x a\\#b", 1, "write x a\\#b"},
    {"write x \"say \\\"hi;\\\"\"; read x", 2, "write x \"say \\\"hi;\\\"\" / read x"},
    {"", 0, ""},
    {"   \t  ", 0, ""},
    {";;;", 0, ""},
    {"\r\n", 0, ""},
};

START_TEST(lines_split_at_unquoted_semicolons)
{
    char out[512], err[256] = "";
    int n = split(splits[_i].line, out, sizeof out, err);
    ck_assert_msg(n == splits[_i].n, "\"%s\": %d commands (%s), want %d", splits[_i].line, n,
                  n < 0 ? err : out, splits[_i].n);
    ck_assert_msg(!strcmp(out, splits[_i].cmds), "\"%s\": got \"%s\"", splits[_i].line, out);
}
END_TEST

static const struct {
    const char *cmd;
    int argc;
    const char *words;
} wordcases[] = {
    {"write x 1", 3, "write|x|1"},
    {"  write   x\t1  ", 3, "write|x|1"},
    {"write x 'hello world'", 3, "write|x|hello world"},
    {"write x \"hello world\"", 3, "write|x|hello world"},
    {"write x ''", 3, "write|x|"},
    {"write x \"\"", 3, "write|x|"},
    {"write x a'b c'd", 3, "write|x|ab cd"},
    {"write x 'a\\b'", 3, "write|x|a\\b"},          /* single quotes are literal */
    {"write x \"a\\\"b\"", 3, "write|x|a\"b"},     /* \" inside double quotes */
    {"write x \"a\\\\b\"", 3, "write|x|a\\b"},
    {"write x a\\ b", 3, "write|x|a b"},
    {"write x it\\'s", 3, "write|x|it's"},
    {"write x a\\;b", 3, "write|x|a;b"},
    {"write x \"'\"", 3, "write|x|'"},
    {"", 0, ""},
    {"   ", 0, ""},
};

START_TEST(commands_split_into_words_with_quotes_and_escapes)
{
    char out[512], err[256] = "";
    int argc = words(wordcases[_i].cmd, out, sizeof out, err);
    ck_assert_msg(argc == wordcases[_i].argc, "\"%s\": %d words (%s)", wordcases[_i].cmd, argc,
                  argc < 0 ? err : out);
    ck_assert_msg(!strcmp(out, wordcases[_i].words), "\"%s\": got \"%s\"", wordcases[_i].cmd, out);
}
END_TEST

static const struct {
    const char *line;
    const char *error;
} badlines[] = {
    {"write x 'abc", "unbalanced ' quote"},
    {"write x \"abc", "unbalanced \" quote"},
    {"write x \"abc\\\"", "unbalanced \" quote"},
    {"write x 'a'b'", "unbalanced ' quote"},
    {"write x abc\\", "trailing backslash"},
    {"write x \\", "trailing backslash"},
    {"a; b 'c", "unbalanced ' quote"},
};

/* What a REPL does with a line: split, then words of each command. */
static int run_line(const char *line, char *err)
{
    char *cmds[MAXC];
    int n = cmdline_split(line, cmds, MAXC, err, 256);
    if (n < 0)
        return -1;
    int rc = 0;
    for (int i = 0; i < n; i++) {
        struct words w;
        if (rc == 0 && cmdline_words(cmds[i], &w, err, 256) < 0)
            rc = -1;
        else if (rc == 0)
            words_free(&w);
        free(cmds[i]);
    }
    return rc;
}

START_TEST(malformed_lines_are_refused_with_a_reason)
{
    char err[256] = "";
    ck_assert_msg(run_line(badlines[_i].line, err) < 0, "\"%s\" accepted", badlines[_i].line);
    ck_assert_msg(strstr(err, badlines[_i].error), "\"%s\": got \"%s\"", badlines[_i].line, err);
}
END_TEST

START_TEST(words_alone_refuse_unbalanced_quotes_and_trailing_backslash)
{
    char out[64], err[256] = "";
    ck_assert_int_eq(words("write x 'a", out, sizeof out, err), -1);
    ck_assert_ptr_nonnull(strstr(err, "unbalanced ' quote"));
    ck_assert_int_eq(words("write \"a\\", out, sizeof out, err), -1);
    ck_assert_ptr_nonnull(strstr(err, "trailing backslash"));
    ck_assert_int_eq(words("write a\\", out, sizeof out, err), -1);
    ck_assert_ptr_nonnull(strstr(err, "trailing backslash"));
}
END_TEST

START_TEST(a_one_mebibyte_line_is_refused)
{
    size_t n = 1 << 20;
    char *line = malloc(n + 1);
    memset(line, 'a', n);
    line[n] = 0;
    char *cmds[MAXC], err[256] = "";
    ck_assert_int_eq(cmdline_split(line, cmds, MAXC, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "limit"));
    /* the largest allowed line still works */
    line[CMDLINE_MAX_LINE] = 0;
    ck_assert_int_eq(cmdline_split(line, cmds, MAXC, err, sizeof err), 1);
    ck_assert_uint_eq(strlen(cmds[0]), CMDLINE_MAX_LINE);
    free(cmds[0]);
    free(line);
}
END_TEST

START_TEST(too_many_commands_or_words_are_refused)
{
    struct sb b = {0};
    for (int i = 0; i < MAXC + 1; i++)
        sb_add(&b, "status;");
    char *cmds[MAXC], err[256] = "";
    ck_assert_int_eq(cmdline_split(b.s, cmds, MAXC, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "more than 16 commands"));
    sb_free(&b);
    for (int i = 0; i < CMDLINE_MAX_WORDS; i++)
        sb_add(&b, "w ");
    struct words w;
    ck_assert_int_eq(cmdline_words(b.s, &w, err, sizeof err), 0);
    ck_assert_int_eq(w.argc, CMDLINE_MAX_WORDS);
    words_free(&w);
    sb_add(&b, "one-more");
    ck_assert_int_eq(cmdline_words(b.s, &w, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "more than 64 words"));
    ck_assert_int_eq(w.argc, 0);
    sb_free(&b);
}
END_TEST

START_TEST(control_bytes_and_utf8_pass_through_unchanged)
{
    /* the splitter does not interpret them; escaping for display is the caller's job */
    char out[128], err[256] = "";
    ck_assert_int_eq(words("write \x1b]0;x\x07 \xe2\x80\xae\xe6\xbc\xa2", out, sizeof out, err), 3);
    ck_assert_str_eq(out, "write|\x1b]0;x\x07|\xe2\x80\xae\xe6\xbc\xa2");
}
END_TEST

START_TEST(ten_thousand_pasted_lines_each_parse_alone)
{
    char err[256];
    for (int i = 0; i < 10000; i++) {
        char line[64];
        snprintf(line, sizeof line, "write k%d %d; read k%d", i, i, i);
        ck_assert_int_eq(run_line(line, err), 0);
    }
}
END_TEST

Suite *suite_cmdline(void);
Suite *suite_cmdline(void)
{
    Suite *s = suite_create("cmdline");
    TCase *tc = tcase_create("split");
    tcase_add_loop_test(tc, lines_split_at_unquoted_semicolons, 0, (int)CL_ARRAY_LEN(splits));
    tcase_add_loop_test(tc, commands_split_into_words_with_quotes_and_escapes, 0,
                        (int)CL_ARRAY_LEN(wordcases));
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_loop_test(tc, malformed_lines_are_refused_with_a_reason, 0, (int)CL_ARRAY_LEN(badlines));
    tcase_add_test(tc, words_alone_refuse_unbalanced_quotes_and_trailing_backslash);
    tcase_add_test(tc, a_one_mebibyte_line_is_refused);
    tcase_add_test(tc, too_many_commands_or_words_are_refused);
    tcase_add_test(tc, control_bytes_and_utf8_pass_through_unchanged);
    tcase_add_test(tc, ten_thousand_pasted_lines_each_parse_alone);
    suite_add_tcase(s, tc);
    return s;
}
