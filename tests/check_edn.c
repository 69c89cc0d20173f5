/* check_edn — the EDN reader and writer, and the history readers (JSONL and EDN): every form
 * a Jepsen history can hold is read, every malformed input is refused with its line and
 * column, and every saved fuzz input is replayed. */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edn.h"
#include "histfile.h"
#include "test_util.h"

static struct edn *read_one(const char *s, char *err, size_t errlen)
{
    struct edn_reader *r = edn_open(s, strlen(s));
    struct edn *v = NULL;
    int rc = edn_next(r, &v, err, errlen);
    edn_close(&r);
    return rc == 1 ? v : NULL;
}

START_TEST(reads_every_kind_of_value)
{
    char err[256];
    struct edn *v = read_one("{:a nil, :b true :c -42 :d 12345678901234567890N :e 1.5M "
                             "\"s\\\"\\n\\u00e9\" \\x [1 (2) #{3}] #inst \"2024\" sym/x "
                             ":k/ns #_ :gone \\newline ; comment\n :end}", err, sizeof err);
    ck_assert_msg(v != NULL, "%s", err);
    ck_assert_int_eq(v->type, EDN_MAP);
    ck_assert_uint_eq(v->n, 18);
    ck_assert_int_eq(edn_get(v, "a")->type, EDN_NIL);
    ck_assert(edn_get(v, "b")->b);
    ck_assert_int_eq(edn_get(v, "c")->i, -42);
    const struct edn *big = edn_get(v, "d");
    ck_assert_int_eq(big->type, EDN_INT);
    ck_assert(!big->int_fits);
    ck_assert_str_eq(big->s, "12345678901234567890");
    ck_assert_double_eq(edn_get(v, "e")->f, 1.5);
    const struct edn *str = v->items[10];
    ck_assert_int_eq(str->type, EDN_STRING);
    ck_assert_str_eq(str->s, "s\"\n\xc3\xa9");
    ck_assert_int_eq(v->items[11]->type, EDN_CHAR);
    ck_assert_int_eq(v->items[12]->type, EDN_VECTOR);
    ck_assert_int_eq(v->items[12]->items[2]->type, EDN_SET);
    ck_assert_int_eq(v->items[13]->type, EDN_TAGGED);
    ck_assert_str_eq(v->items[13]->s, "inst");
    ck_assert_int_eq(v->items[14]->type, EDN_SYMBOL);
    ck_assert_int_eq(v->items[15]->type, EDN_KEYWORD);
    edn_free(v);
}
END_TEST

START_TEST(writer_output_reads_back_the_same)
{
    char err[256];
    const char *src = "{:process 0, :type :invoke, :f :cas, :value [1 \"two\\t\" nil], "
                      ":s #{:a}, :c \\space, :t #inst \"2024-01-01\", :l (1 -2.5)}";
    struct edn *v = read_one(src, err, sizeof err);
    ck_assert_msg(v != NULL, "%s", err);
    struct sb a = {0}, b = {0};
    edn_write(&a, v);
    struct edn *w = read_one(a.s, err, sizeof err);
    ck_assert_msg(w != NULL, "%s in %s", err, a.s);
    edn_write(&b, w);
    ck_assert_str_eq(a.s, b.s);
    sb_free(&a);
    sb_free(&b);
    edn_free(v);
    edn_free(w);
}
END_TEST

static const struct {
    const char *in, *want;
} bad_edn[] = {
    {"{:a 1", "line 1, column 1: '{' opened here is never closed"},
    {"[1 2}", "expected ']' to close"},
    {"\n  \"abc", "line 2, column 3: string not closed"},
    {"\"a\\q\"", "unknown escape"},
    {"\"\\u12\"", "four hex digits"},
    {"{:a}", "map has a key without a value"},
    {":", "expected a keyword name"},
    {"#", "expected a tag name"},
    {"\\bogus", "unknown character literal"},
    {")", "unexpected ')'"},
    {"1.2.3", "malformed number"},
    {"\x01", "expected a value, found byte 0x01"},
    {"#_", "found end of input"},
};

START_TEST(malformed_edn_is_refused_with_its_position)
{
    char err[256] = "";
    struct edn *v = read_one(bad_edn[_i].in, err, sizeof err);
    ck_assert_msg(v == NULL, "accepted %s", bad_edn[_i].in);
    ck_assert_msg(strstr(err, bad_edn[_i].want), "input %d: got \"%s\", want \"%s\"", _i, err,
                  bad_edn[_i].want);
}
END_TEST

START_TEST(deep_nesting_is_refused_not_a_stack_overflow)
{
    size_t n = 100000;
    char *s = malloc(n + 1);
    memset(s, '[', n);
    s[n] = 0;
    char err[256];
    ck_assert_ptr_null(read_one(s, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "nested deeper than"));
    free(s);
}
END_TEST

static struct history *parse(const char *s, char *err)
{
    struct history *h = NULL;
    history_parse(s, strlen(s), &h, err, 512);
    return h;
}

START_TEST(jepsen_vector_list_and_one_map_per_line_all_read)
{
    const char *forms[] = {
        "[{:process 0, :type :invoke, :f :write, :value 3}\n {:process 0, :type :ok, :f :write, :value 3}]",
        "({:process 0 :type :invoke :f :write :value 3} {:process 0 :type :ok :f :write :value 3})",
        "; a comment\n{:process 0, :type :invoke, :f :write, :value 3}\n{:process 0, :type :ok, :f :write, :value 3},\n",
    };
    for (size_t i = 0; i < CL_ARRAY_LEN(forms); i++) {
        char err[512] = "";
        struct history *h = parse(forms[i], err);
        ck_assert_msg(h != NULL, "form %zu: %s", i, err);
        ck_assert_int_eq(h->format, HIST_EDN);
        ck_assert_int_eq(h->n, 1);
        ck_assert_int_eq(h->ops[0].f, HF_WRITE);
        ck_assert_int_eq(h->ops[0].outcome, HO_OK);
        ck_assert_str_eq(h->ops[0].value, "3");
        history_free(&h);
    }
}
END_TEST

START_TEST(values_become_strings_and_nil_stays_distinct)
{
    char err[512] = "";
    struct history *h = parse(
        "{\"process\":1,\"type\":\"invoke\",\"f\":\"write\",\"key\":\"x\",\"value\":\"nil\",\"time\":1}\n"
        "{\"process\":1,\"type\":\"ok\",\"f\":\"write\",\"key\":\"x\",\"value\":\"nil\",\"time\":2}\n"
        "{\"process\":2,\"type\":\"invoke\",\"f\":\"read\",\"key\":\"x\",\"value\":null,\"time\":3}\n"
        "{\"process\":2,\"type\":\"ok\",\"f\":\"read\",\"key\":\"x\",\"value\":null,\"time\":4}\n"
        "{\"process\":3,\"type\":\"invoke\",\"f\":\"cas\",\"key\":\"x\",\"value\":[5,\"6\"],\"time\":5}\n"
        "{\"process\":4,\"type\":\"invoke\",\"f\":\"write\",\"key\":\"y\",\"value\":{\"b\":1,\"a\":[1.5]},\"time\":6}\n",
        err);
    ck_assert_msg(h != NULL, "%s", err);
    ck_assert_int_eq(h->format, HIST_JSONL);
    ck_assert_str_eq(h->ops[0].value, "nil");
    ck_assert_ptr_null(h->ops[1].value);
    ck_assert_str_eq(h->ops[2].value, "5");
    /* the string "6" is not the number 6: it keeps a text of its own (jtext.h) */
    ck_assert_ptr_ne(h->ops[2].value2, history_intern(h, "6", 1));
    ck_assert_ptr_eq(h->ops[2].value2, history_intern(h, "\x02\"6\"", 4));
    ck_assert_int_eq(h->ops[2].outcome, HO_INFO);   /* never completed */
    ck_assert_str_eq(h->ops[3].value, "{\"a\":[1.5],\"b\":1}"); /* any JSON: its sorted compact text */
    ck_assert(!h->ops[2].completed);
    history_free(&h);
}
END_TEST

static const struct {
    const char *in, *want;
} bad_hist[] = {
    {"{:type :invoke, :f :read}", "line 1, column 1: the operation has no :process"},
    {"{:process 1, :type :begin, :f :read}", "line 1, column 20: expected :type :invoke"},
    {"{:process 1, :type :invoke, :f 7}", "expected :f as a keyword"},
    {"{:process 1, :type :invoke, :f :cas, :value 3}", "expected a cas :value as [from to]"},
    {"{:process 1, :type :invoke, :f :write, :value {:a 1}}", "expected :value to be"},
    {"{:process 1, :type :invoke, :f :write, :value 1, :time -5}", "expected :time"},
    {"{:process 1, :type :ok, :f :write, :value 1}", "no open invocation"},
    {"{:process 1, :type :invoke, :f :write, :value 1}\n{:process 1, :type :invoke, :f :read}",
     "line 2, column 1: process 1 invokes read while its write is still open"},
    {"{:process 1, :type :invoke, :f :write, :value 1}\n{:process 1, :type :ok, :f :read}",
     "does not match the invocation's write"},
    {"[{:process 1, :type :invoke, :f :write, :value 1}", "expected ']' to close the history"},
    {"[{:process 1, :type :invoke, :f :write, :value 1}] junk", "expected end of input"},
    {"{:process 99999999999999999999, :type :invoke, :f :read}", "out of range"},
    {"{\"process\":1,\"type\":\"invoke\",\"f\":\"write\",\"value\":\"1\"\n", "line 1, column"},
    {"{\"process\":1,\"type\":\"invoke\",\"f\":\"read\"}\n{\"process\":1,\"type\":\"ok\",\"f\":\"read\",\"value\":\"1\",\"value\":\"2\"}",
     "line 2, column"},
    {"{\"type\":\"invoke\",\"f\":\"read\"}", "missing field \"process\""},
    {"{\"process\":\"p1\",\"type\":\"invoke\",\"f\":\"read\"}", "line 1, column 2: \"process\" must be"},
    {"{\"process\":1,\"type\":\"start\",\"f\":\"read\"}", "line 1, column 14: expected \"type\""},
    {"{\"process\":1,\"type\":\"invoke\",\"f\":\"cas\",\"value\":[1]}", "[from, to]"},
    {"{\"process\":1,\"type\":\"invoke\",\"f\":\"read\",\"key\":5.5}", "\"key\" must be a string or a whole number"},
    {"{\"process\":1,\"type\":\"invoke\",\"f\":\"read\",\"time\":1.5}", "\"time\" must be"},
    {"{\"process\":1,\"type\":\"invoke\",\"f\":\"write\",\"value\":\"a\\u0000b\"}", "NUL"},
    {"{\"process\":1,\"type\":\"invoke\",\"f\":\"read\",\"time\":9}\n{\"process\":1,\"type\":\"ok\",\"f\":\"read\",\"time\":3}",
     "before its invocation"},
    {"{\"process\":1}\n[1]", "expected \"type\""},
};

START_TEST(malformed_histories_are_refused_with_line_column_and_reason)
{
    char err[512] = "";
    struct history *h = parse(bad_hist[_i].in, err);
    ck_assert_msg(h == NULL, "input %d accepted", _i);
    ck_assert_msg(strstr(err, bad_hist[_i].want), "input %d: got \"%s\", want \"%s\"", _i, err,
                  bad_hist[_i].want);
}
END_TEST

START_TEST(history_writers_round_trip)
{
    char err[512] = "";
    struct history *h = parse(
        "{\"process\":1,\"type\":\"invoke\",\"f\":\"write\",\"key\":\"x y\",\"value\":\"a\\\"b\",\"time\":10}\n"
        "{\"process\":2,\"type\":\"invoke\",\"f\":\"cas\",\"key\":\"x y\",\"value\":[\"1\",\"07\"],\"time\":11}\n"
        "{\"process\":1,\"type\":\"ok\",\"f\":\"write\",\"key\":\"x y\",\"value\":\"a\\\"b\",\"time\":20,\"node\":\"n1\"}\n"
        "{\"process\":2,\"type\":\"info\",\"f\":\"cas\",\"key\":\"x y\",\"value\":[\"1\",\"07\"],\"time\":30,\"error\":\"timeout\"}\n"
        "{\"process\":3,\"type\":\"invoke\",\"f\":\"read\",\"key\":\"x y\",\"value\":null,\"time\":40}\n"
        "{\"process\":3,\"type\":\"ok\",\"f\":\"read\",\"key\":\"x y\",\"value\":\"a\\\"b\",\"time\":50}\n",
        err);
    ck_assert_msg(h != NULL, "%s", err);
    for (int fmt = 0; fmt < 2; fmt++) {
        struct sb out = {0};
        if (fmt)
            history_write_edn(h, &out);
        else
            history_write_jsonl(h, &out);
        struct history *g = parse(out.s, err);
        ck_assert_msg(g != NULL, "%s in\n%s", err, out.s);
        ck_assert_int_eq(g->format, fmt ? HIST_EDN : HIST_JSONL);
        ck_assert_int_eq(g->n, h->n);
        for (int i = 0; i < h->n; i++) {
            ck_assert_int_eq(g->ops[i].f, h->ops[i].f);
            ck_assert_int_eq(g->ops[i].outcome, h->ops[i].outcome);
            ck_assert_int_eq(g->ops[i].process, h->ops[i].process);
            ck_assert_int_eq(g->ops[i].t_inv, h->ops[i].t_inv);
            ck_assert_int_eq(g->ops[i].t_ret, h->ops[i].t_ret);
            ck_assert_int_eq(g->ops[i].inv_pos, h->ops[i].inv_pos);
            ck_assert_str_eq(g->ops[i].key, h->ops[i].key);
            if (h->ops[i].value)
                ck_assert_str_eq(g->ops[i].value, h->ops[i].value);
            if (h->ops[i].value2)
                ck_assert_str_eq(g->ops[i].value2, h->ops[i].value2);
        }
        if (fmt) /* a string stays a string ("1" is not 1; the number 1 is written as 1) */
            ck_assert_ptr_nonnull(strstr(out.s, ":value [\"1\" \"07\"]"));
        history_free(&g);
        sb_free(&out);
    }
    history_free(&h);
}
END_TEST

/* Every saved fuzz input must be refused or accepted cleanly (no crash, no leak, and a
 * refusal names its position). */
static int replay_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *fp = fopen(path, "rb");
        if (!fp)
            continue;
        char *buf = malloc(1 << 20);
        size_t len = fread(buf, 1, 1 << 20, fp);
        fclose(fp);
        char err[512] = "";
        struct history *h = NULL;
        int rc = history_parse(buf, len, &h, err, sizeof err);
        if (rc)
            ck_assert_msg(strstr(err, "line ") != NULL, "%s: error without position: %s", path,
                          err);
        else
            ck_assert_int_ge(h->n, 0); /* no client operation is a valid (linearizable) history */
        history_free(&h);
        struct edn_reader *r = edn_open(buf, len);
        struct edn *v = NULL;
        while (edn_next(r, &v, err, sizeof err) == 1) {
            struct sb out = {0};
            edn_write(&out, v);
            sb_free(&out);
            edn_free(v);
        }
        edn_close(&r);
        free(buf);
        n++;
    }
    closedir(d);
    return n;
}

START_TEST(saved_fuzz_inputs_replay_cleanly)
{
    int n = replay_dir("tests/corpus/edn") + replay_dir("tests/corpus/histjsonl");
    ck_assert_int_gt(n, 0);
}
END_TEST

Suite *suite_edn(void);
Suite *suite_edn(void)
{
    Suite *s = suite_create("edn");
    TCase *tc = tcase_create("edn");
    tcase_add_test(tc, reads_every_kind_of_value);
    tcase_add_test(tc, writer_output_reads_back_the_same);
    tcase_add_loop_test(tc, malformed_edn_is_refused_with_its_position, 0,
                        (int)CL_ARRAY_LEN(bad_edn));
    tcase_add_test(tc, deep_nesting_is_refused_not_a_stack_overflow);
    tcase_add_test(tc, jepsen_vector_list_and_one_map_per_line_all_read);
    tcase_add_test(tc, values_become_strings_and_nil_stays_distinct);
    tcase_add_loop_test(tc, malformed_histories_are_refused_with_line_column_and_reason, 0,
                        (int)CL_ARRAY_LEN(bad_hist));
    tcase_add_test(tc, history_writers_round_trip);
    tcase_add_test(tc, saved_fuzz_inputs_replay_cleanly);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    return s;
}
