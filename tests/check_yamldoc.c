/* check_yamldoc — the strict YAML loader: what it builds, and every bad input of
 * BAD-INPUT.md refused with a positioned message. */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "yamldoc.h"

static int parse(const char *s, struct ydoc **d, char *err, size_t n)
{
    return ydoc_parse(s, strlen(s), "t.yaml", NULL, d, err, n);
}

START_TEST(map_of_lists_keeps_positions)
{
    struct ydoc *d;
    char err[256];
    ck_assert_int_eq(parse("a: 1\nb:\n  - x\n  - \"y z\"\nc: {k: v}\n", &d, err, sizeof err), 0);
    ck_assert_int_eq(d->root->kind, YDOC_MAP);
    ck_assert_uint_eq(d->root->n, 3);
    const struct ydoc_node *b = ydoc_get(d->root, "b");
    ck_assert_int_eq(b->kind, YDOC_LIST);
    ck_assert_uint_eq(b->n, 2);
    ck_assert_str_eq(b->items[1]->str, "y z");
    ck_assert(!b->items[1]->plain);
    ck_assert_int_eq(b->items[1]->line, 4);
    ck_assert_int_eq(b->items[1]->col, 5);
    ck_assert_str_eq(ydoc_get(ydoc_get(d->root, "c"), "k")->str, "v");
    ck_assert_ptr_null(ydoc_get(d->root, "missing"));
    ydoc_free(&d);
    ck_assert_ptr_null(d);
}
END_TEST

START_TEST(crlf_and_utf8_bom_are_accepted)
{
    struct ydoc *d;
    char err[256];
    const char s[] = "\xef\xbb\xbf" "a: caf\xc3\xa9\r\nb: 2\r\n";
    ck_assert_int_eq(ydoc_parse(s, sizeof s - 1, "t.yaml", NULL, &d, err, sizeof err), 0);
    ck_assert_str_eq(ydoc_get(d->root, "a")->str, "caf\xc3\xa9");
    ck_assert_int_eq(ydoc_get(d->root, "b")->line, 2);
    ydoc_free(&d);
}
END_TEST

static const struct {
    const char *doc;
    size_t len; /* 0: strlen */
    const char *error;
} bad[] = {
    {"", 0, "t.yaml:1:1: empty file"},
    {"# only a comment\n", 0, "empty file"},
    {"a: 1\na: 2\n", 0, "t.yaml:2:1: duplicate key \"a\" (first defined at 1:1)"},
    {"a: &x 1\nb: *x\n", 0, "t.yaml:1:4: anchor &x"},
    {"a: *x\n", 0, "alias"},
    {"a: !!binary aGVsbG8=\n", 0, "t.yaml:1:4: tag"},
    {"a: !foo 1\n", 0, "tag"},
    {"a: 1\n---\nb: 2\n", 0, "t.yaml:2:1: a second document"},
    {"%YAML 1.1\n---\na: 1\n", 0, "directives"},
    {"base: {a: 1}\nchild:\n  <<: {b: 2}\n", 0, "t.yaml:3:3: merge keys (<<)"},
    {"? [a, b]\n: 1\n", 0, "a map key must be a plain string"},
    {"a:\n\t- 1\n", 0, "t.yaml:2:1: tab character in indentation"},
    {"a: x\x00y\n", 8, "t.yaml:1:5: a NUL byte is not allowed"},
    {"a: caf\xe9\n", 0, "t.yaml:1:7: invalid UTF-8"},
    {"a: \xc0\xaf\n", 0, "invalid UTF-8"},
    {"a: \x1b[31mred\n", 0, "t.yaml:1:4: the control character U+001B"},
    {"a: \"\\e[2J\"\n", 0, "string contains the control character U+001B (from an escape)"},
    {"a: \"x\\0y\"\n", 0, "NUL byte (from an escape)"},
    {"a: \"\\u202e\"\n", 0, "bidirectional control U+202E"},
    {"\xff\xfe" "a\x00:\x00", 6, "UTF-16 or UTF-32"},
    {"a\x00:\x00 \x001\x00", 8, "UTF-16 without a byte order mark"},
    {"a: [1, 2\n", 0, "t.yaml:2:1:"},
    {"a: 'unterminated\n", 0, "found unexpected end of stream"},
    {"- a\nb: 1\n", 0, "t.yaml:2:1:"},
};

START_TEST(bad_yaml_is_refused_with_its_position)
{
    struct ydoc *d = (struct ydoc *)1;
    char err[512];
    size_t len = bad[_i].len ? bad[_i].len : strlen(bad[_i].doc);
    int rc = ydoc_parse(bad[_i].doc, len, "t.yaml", NULL, &d, err, sizeof err);
    ck_assert_int_eq(rc, CL_EINVAL);
    ck_assert_ptr_null(d);
    ck_assert_msg(strstr(err, bad[_i].error), "case %d: got \"%s\", want \"%s\"", _i, err,
                  bad[_i].error);
}
END_TEST

START_TEST(deep_nesting_is_refused_at_the_cap_without_recursion)
{
    size_t n = 10000;
    char *s = xmalloc(2 * n + 1);
    memset(s, '[', n);
    memset(s + n, ']', n);
    s[2 * n] = 0;
    struct ydoc *d;
    char err[256];
    ck_assert_int_eq(ydoc_parse(s, 2 * n, "deep.yaml", NULL, &d, err, sizeof err), CL_EINVAL);
    ck_assert_msg(strstr(err, "deep.yaml:1:33: nesting deeper than 32 levels"), "%s", err);
    free(s);
    /* 32 levels exactly is fine */
    char ok[65];
    memset(ok, '[', 32);
    memset(ok + 32, ']', 32);
    ok[64] = 0;
    ck_assert_int_eq(ydoc_parse(ok, 64, "ok.yaml", NULL, &d, err, sizeof err), 0);
    ydoc_free(&d);
}
END_TEST

START_TEST(size_caps_refuse_big_files_scalars_and_node_counts)
{
    struct ydoc *d;
    char err[256];
    size_t big = YDOC_MAX_BYTES + 1;
    char *s = xmalloc(big);
    memset(s, 'a', big);
    ck_assert_int_eq(ydoc_parse(s, big, "big.yaml", NULL, &d, err, sizeof err), CL_EINVAL);
    ck_assert_msg(strstr(err, "the limit is 256 KiB"), "%s", err);
    /* a 20 KiB scalar */
    size_t sl = 20 * 1024;
    memcpy(s, "a: ", 3);
    memset(s + 3, 'x', sl);
    s[3 + sl] = '\n';
    ck_assert_int_eq(ydoc_parse(s, sl + 4, "s.yaml", NULL, &d, err, sizeof err), CL_EINVAL);
    ck_assert_msg(strstr(err, "s.yaml:1:4: string of 20480 bytes; the limit is 16384"), "%s", err);
    free(s);
    struct ydoc_limits lim = {YDOC_MAX_BYTES, YDOC_MAX_SCALAR, 10, 32};
    const char *many = "[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]";
    ck_assert_int_eq(ydoc_parse(many, strlen(many), "m.yaml", &lim, &d, err, sizeof err),
                     CL_EINVAL);
    ck_assert_msg(strstr(err, "more than 10 nodes"), "%s", err);
}
END_TEST

START_TEST(billion_laughs_is_refused_at_the_first_anchor)
{
    const char *s = "a: &a [x, x, x, x, x, x, x, x, x]\n"
                    "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                    "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n";
    struct ydoc *d;
    char err[256];
    ck_assert_int_eq(parse(s, &d, err, sizeof err), CL_EINVAL);
    ck_assert_msg(strstr(err, "t.yaml:1:4: anchor &a"), "%s", err);
}
END_TEST

START_TEST(typed_accessors_refuse_yaml_1_1_coercions)
{
    struct ydoc *d;
    char err[256];
    ck_assert_int_eq(parse("a: yes\nb: true\nc: \"10\"\nd: 0x10\ne: 12\nf: 1.5\ng: ~\nh: 2s\n"
                           "i: -3\nj: Raft\n",
                           &d, err, sizeof err), 0);
    bool b;
    long v;
    double x;
    const char *s;
    ck_assert_int_eq(ydoc_bool(d, ydoc_get(d->root, "a"), "a", &b, err, sizeof err), CL_EINVAL);
    ck_assert_msg(strstr(err, "t.yaml:1:4: a: expected true or false, found \"yes\""), "%s", err);
    ck_assert_int_eq(ydoc_bool(d, ydoc_get(d->root, "b"), "b", &b, err, sizeof err), 0);
    ck_assert(b);
    ck_assert_int_eq(ydoc_int(d, ydoc_get(d->root, "c"), "c", 0, 100, &v, err, sizeof err),
                     CL_EINVAL);
    ck_assert_msg(strstr(err, "found the quoted string \"10\""), "%s", err);
    ck_assert_int_eq(ydoc_int(d, ydoc_get(d->root, "d"), "d", 0, 100, &v, err, sizeof err),
                     CL_EINVAL);
    ck_assert_int_eq(ydoc_int(d, ydoc_get(d->root, "e"), "e", 0, 10, &v, err, sizeof err),
                     CL_EINVAL);
    ck_assert_msg(strstr(err, "e: 12 is out of range (0..10)"), "%s", err);
    ck_assert_int_eq(ydoc_int(d, ydoc_get(d->root, "e"), "e", 0, 100, &v, err, sizeof err), 0);
    ck_assert_int_eq(v, 12);
    ck_assert_int_eq(ydoc_int(d, ydoc_get(d->root, "f"), "f", 0, 100, &v, err, sizeof err),
                     CL_EINVAL);
    ck_assert_int_eq(ydoc_num(d, ydoc_get(d->root, "f"), "f", 0, 100, &x, err, sizeof err), 0);
    ck_assert(x == 1.5);
    ck_assert_int_eq(ydoc_str(d, ydoc_get(d->root, "g"), "g", 0, &s, err, sizeof err),
                     CL_EINVAL);
    ck_assert_msg(strstr(err, "found nothing (null)"), "%s", err);
    ck_assert_int_eq(ydoc_duration_ms(d, ydoc_get(d->root, "h"), "h", 0, 60000, &v, err,
                                      sizeof err), 0);
    ck_assert_int_eq(v, 2000);
    ck_assert_int_eq(ydoc_duration_ms(d, ydoc_get(d->root, "i"), "i", 0, 60000, &v, err,
                                      sizeof err), CL_EINVAL);
    int idx;
    ck_assert_int_eq(ydoc_enum(d, ydoc_get(d->root, "j"), "mode", "leader|raft|leaderless", &idx,
                               err, sizeof err), CL_EINVAL);
    ck_assert_msg(strstr(err, "t.yaml:10:4: mode: unknown value \"Raft\"; did you mean \"raft\"?"),
                  "%s", err);
    ydoc_free(&d);
}
END_TEST

START_TEST(unknown_keys_get_a_did_you_mean)
{
    struct ydoc *d;
    char err[256];
    ck_assert_int_eq(parse("id: x\nhint: [a]\n", &d, err, sizeof err), 0);
    static const char *const keys[] = {"id", "hints", "text", NULL};
    static const char *const req[] = {"id", "text", NULL};
    ck_assert_int_eq(ydoc_check_keys(d, d->root, "step 1", keys, req, err, sizeof err), CL_EINVAL);
    ck_assert_str_eq(err, "t.yaml:2:1: step 1: unknown key \"hint\"; did you mean \"hints\"?");
    ydoc_free(&d);
    ck_assert_int_eq(parse("id: x\nhints: [a]\n", &d, err, sizeof err), 0);
    ck_assert_int_eq(ydoc_check_keys(d, d->root, "step 1", keys, req, err, sizeof err), CL_EINVAL);
    ck_assert_str_eq(err, "t.yaml:1:1: step 1: missing required key \"text\"");
    ydoc_free(&d);
}
END_TEST

START_TEST(missing_file_is_reported_by_name)
{
    struct ydoc *d;
    char err[256];
    ck_assert_int_eq(ydoc_load_file("/nonexistent/x.yaml", NULL, &d, err, sizeof err), CL_ENOENT);
    ck_assert_msg(strstr(err, "/nonexistent/x.yaml:1:1: cannot open"), "%s", err);
}
END_TEST

/* Replays the fuzz corpus (tests/corpus/yamldoc/) when present: none may crash. */
START_TEST(fuzz_corpus_replays_without_crashing)
{
    DIR *dh = opendir("tests/corpus/yamldoc");
    ck_assert_msg(dh != NULL, "run the tests from the source tree (tests/corpus/yamldoc)");
    struct dirent *de;
    int n = 0, ok = 0;
    while ((de = readdir(dh))) {
        if (de->d_name[0] == '.')
            continue;
        char path[600];
        snprintf(path, sizeof path, "tests/corpus/yamldoc/%s", de->d_name);
        struct ydoc *d;
        char err[256];
        if (ydoc_load_file(path, NULL, &d, err, sizeof err) == 0) {
            ok++;
            ydoc_free(&d);
        } else {
            ck_assert_msg(strstr(err, path) == err, "error does not name the file: %s", err);
        }
        n++;
    }
    closedir(dh);
    ck_assert_int_gt(n, 0);
    ck_assert_int_gt(ok, 0);
}
END_TEST

Suite *suite_yamldoc(void);
Suite *suite_yamldoc(void)
{
    Suite *s = suite_create("yamldoc");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, map_of_lists_keeps_positions);
    tcase_add_test(tc, crlf_and_utf8_bom_are_accepted);
    tcase_add_loop_test(tc, bad_yaml_is_refused_with_its_position, 0, (int)CL_ARRAY_LEN(bad));
    tcase_add_test(tc, deep_nesting_is_refused_at_the_cap_without_recursion);
    tcase_add_test(tc, size_caps_refuse_big_files_scalars_and_node_counts);
    tcase_add_test(tc, billion_laughs_is_refused_at_the_first_anchor);
    tcase_add_test(tc, typed_accessors_refuse_yaml_1_1_coercions);
    tcase_add_test(tc, unknown_keys_get_a_did_you_mean);
    tcase_add_test(tc, missing_file_is_reported_by_name);
    tcase_add_test(tc, fuzz_corpus_replays_without_crashing);
    suite_add_tcase(s, tc);
    return s;
}
