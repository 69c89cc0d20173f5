/* check_jsonlab — any JSON value through the value text (nodes/kit/jtext.h) and the modes that
 * keep values as text: leaderless and multi-leader (vitem), causal. A write of 42 reads back
 * the number 42, of "42" the string, of an object the object, under an integer key too;
 * siblings keep each version's type (42 and "42" are two siblings, not one); what a student
 * types parses by the same rule (bad input refused with what and where). */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "fuzz_jtext_one.h"
#include "test_util.h"
#include "histfile.h"
#include "jtext.h"
#include "lab.h"
#include "lincheck.h"
#include "mode.h"

extern const struct mode mode_leaderless;
extern const struct mode mode_multileader;
extern const struct mode mode_causal;

#define SEC 1000000ull

/* ---- the value text ------------------------------------------------------------------------ */

START_TEST(the_value_text_round_trips_every_value_and_keeps_words_as_themselves)
{
    static const char *const vals[] = {"42", "\"42\"", "\"\"", "null", "true", "\"true\"", "1.5", "[1,\"a\",{}]",
                                       "{\"k\":[null]}", "\"\\u0002x\"", "\"\\u0002\"", "-7", "\"hello\"",
                                       "\" 42\"", "\"a\\u0000b\"", "\"[1]\"", "\"{\"", "\"milk,eggs\""};
    for (size_t i = 0; i < sizeof vals / sizeof *vals; i++) {
        json_t *v = json_loads(vals[i], JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
        ck_assert_msg(v != NULL, "%s", vals[i]);
        char *t = jtext_encode(v);
        json_t *back = jtext_decode(t);
        ck_assert_msg(json_equal(v, back), "%s did not round-trip (text %s)", vals[i], t);
        ck_assert_int_eq(jtext_is_string(t), json_is_string(v));
        free(t);
        json_decref(v);
        json_decref(back);
    }
    json_t *n = json_integer(42), *s = json_string("42"), *w = json_string("hello");
    char *tn = jtext_encode(n), *ts = jtext_encode(s), *tw = jtext_encode(w);
    ck_assert_str_eq(tn, "42");                 /* a number's text is its digits */
    ck_assert_str_ne(tn, ts);                   /* 42 is not "42" */
    ck_assert_str_eq(jtext_show(ts), "\"42\""); /* shown quoted: it would read as a number */
    ck_assert_str_eq(tw, "hello");              /* a word is itself, shown bare */
    ck_assert_str_eq(jtext_show(tw), "hello");
    char buf[16];
    ck_assert_str_eq(jtext_string(ts, buf, sizeof buf), "42");
    ck_assert_ptr_null(jtext_string(tn, buf, sizeof buf));
    free(tn), free(ts), free(tw);
    json_decref(n), json_decref(s), json_decref(w);
    /* object keys sorted: equal objects have equal texts */
    json_t *o1 = json_loads("{\"b\":1,\"a\":2}", 0, NULL), *o2 = json_loads("{\"a\":2,\"b\":1}", 0, NULL);
    char *t1 = jtext_encode(o1), *t2 = jtext_encode(o2);
    ck_assert_str_eq(t1, t2);
    free(t1), free(t2);
    json_decref(o1), json_decref(o2);
}
END_TEST

static void parses_as(const char *typed, const char *want_json)
{
    char err[200] = "";
    json_t *v = jtext_parse(typed, strlen(typed), err, sizeof err);
    ck_assert_msg(v != NULL, "%s: %s", typed, err);
    json_t *want = json_loads(want_json, JSON_DECODE_ANY, NULL);
    ck_assert_msg(json_equal(v, want), "%s did not parse as %s", typed, want_json);
    json_decref(v);
    json_decref(want);
}

static void refused(const char *typed, const char *why)
{
    char err[200] = "";
    json_t *v = jtext_parse(typed, strlen(typed), err, sizeof err);
    ck_assert_msg(v == NULL, "%s was taken", typed);
    ck_assert_msg(strstr(err, why) != NULL, "%s: \"%s\" does not say \"%s\"", typed, err, why);
}

START_TEST(typed_values_parse_as_json_or_as_a_bare_word)
{
    parses_as("42", "42");
    parses_as("\"42\"", "\"42\"");
    parses_as("-1.5", "-1.5");
    parses_as("true", "true");
    parses_as("null", "null");
    parses_as("{\"a\":[1,2]}", "{\"a\":[1,2]}");
    parses_as("[1, \"x\"]", "[1,\"x\"]");
    parses_as("hello", "\"hello\"");
    parses_as("42abc", "\"42abc\"");
    parses_as("+5", "\"+5\"");
    parses_as("milk,eggs", "\"milk,eggs\"");
    parses_as("\"\"", "\"\"");
    refused("\"abc", "unterminated string starting at column 1");
    refused("\"a\\\"", "unterminated string");
    refused("{\"a\":", "bad JSON object at column");
    refused("[1,2", "bad JSON array at column");
    refused("\"a\"b", "bad JSON string at column");
    parses_as("", "\"\"");
}
END_TEST

START_TEST(the_fuzz_corpus_replays_cleanly)
{
    ck_assert_int_ge(test_replay_corpus("jtext", fuzz_jtext_one), 20);
}
END_TEST

/* ---- the history and the checker ------------------------------------------------------------ */

#define W(p, t, v, tm) "{\"process\":" #p ",\"type\":\"" t "\",\"f\":\"write\",\"key\":\"x\",\"value\":" v ",\"time\":" #tm "}\n"
#define R(p, t, v, tm) "{\"process\":" #p ",\"type\":\"" t "\",\"f\":\"read\",\"key\":\"x\",\"value\":" v ",\"time\":" #tm "}\n"

static int judge(const char *jsonl, struct sb *report)
{
    struct history *h = NULL;
    char err[300];
    ck_assert_msg(history_parse_jsonl(jsonl, strlen(jsonl), &h, err, sizeof err) == 0, "%s", err);
    struct lin_result *r = NULL;
    int v = lincheck_run(h, NULL, &r, err, sizeof err);
    ck_assert_msg(v >= 0, "%s", err);
    if (report)
        lincheck_format(h, r, report);
    lin_result_free(&r);
    history_free(&h);
    return v;
}

START_TEST(the_checker_tells_42_from_the_string_42)
{
    /* a write of the number 42, then a read of the string "42": no register returns that */
    struct sb rep = {0};
    ck_assert_int_eq(judge(W(1, "invoke", "42", 10) W(1, "ok", "42", 20) R(2, "invoke", "null", 30)
                               R(2, "ok", "\"42\"", 40),
                           &rep),
                     LIN_VIOLATION);
    ck_assert_msg(strstr(rep.s, "read x=\"42\" by p2"), "%s", rep.s);
    sb_free(&rep);
    /* the same value read back is linearizable, for either type and for objects in any key order */
    ck_assert_int_eq(judge(W(1, "invoke", "42", 10) W(1, "ok", "42", 20) R(2, "invoke", "null", 30)
                               R(2, "ok", "42", 40),
                           NULL),
                     LIN_OK);
    ck_assert_int_eq(judge(W(1, "invoke", "\"42\"", 10) W(1, "ok", "\"42\"", 20) R(2, "invoke", "null", 30)
                               R(2, "ok", "\"42\"", 40),
                           NULL),
                     LIN_OK);
    ck_assert_int_eq(judge(W(1, "invoke", "{\"a\":1,\"b\":[2]}", 10) W(1, "ok", "{\"a\":1,\"b\":[2]}", 20)
                               R(2, "invoke", "null", 30) R(2, "ok", "{\"b\":[2],\"a\":1}", 40),
                           NULL),
                     LIN_OK);
    /* appends concatenate strings, those that read as numbers too: "1" then "2" reads "12" */
    ck_assert_int_eq(judge("{\"process\":1,\"type\":\"invoke\",\"f\":\"append\",\"key\":\"x\",\"value\":\"1\",\"time\":10}\n"
                           "{\"process\":1,\"type\":\"ok\",\"f\":\"append\",\"key\":\"x\",\"value\":\"1\",\"time\":20}\n"
                           "{\"process\":1,\"type\":\"invoke\",\"f\":\"append\",\"key\":\"x\",\"value\":\"2\",\"time\":30}\n"
                           "{\"process\":1,\"type\":\"ok\",\"f\":\"append\",\"key\":\"x\",\"value\":\"2\",\"time\":40}\n"
                           R(2, "invoke", "null", 50) R(2, "ok", "\"12\"", 60),
                           NULL),
                     LIN_OK);
    /* a cas from the string "42" on the number 42 must fail: its ok is a violation */
    ck_assert_int_eq(judge(W(1, "invoke", "42", 10) W(1, "ok", "42", 20)
                           "{\"process\":2,\"type\":\"invoke\",\"f\":\"cas\",\"key\":\"x\",\"value\":[\"42\",1],\"time\":30}\n"
                           "{\"process\":2,\"type\":\"ok\",\"f\":\"cas\",\"key\":\"x\",\"value\":[\"42\",1],\"time\":40}\n",
                           NULL),
                     LIN_VIOLATION);
}
END_TEST

START_TEST(histories_keep_json_types_through_jsonl_and_edn)
{
    const char *jl = W(1, "invoke", "42", 10) W(1, "ok", "42", 20) W(2, "invoke", "\"42\"", 30) W(2, "ok", "\"42\"", 40)
        W(3, "invoke", "{\"a\":[1,2]}", 50) W(3, "ok", "{\"a\":[1,2]}", 60) W(4, "invoke", "\"hello\"", 70)
        W(4, "ok", "\"hello\"", 80);
    struct history *h = NULL;
    char err[300];
    ck_assert_msg(history_parse_jsonl(jl, strlen(jl), &h, err, sizeof err) == 0, "%s", err);
    ck_assert_ptr_ne(h->ops[0].value, h->ops[1].value); /* 42 and "42": two values */
    struct sb d = {0};
    for (int i = 0; i < 4; i++) {
        history_describe_op(h, &h->ops[i], &d);
        sb_add(&d, "; ");
    }
    ck_assert_str_eq(d.s, "write x=42; write x=\"42\"; write x={\"a\":[1,2]}; write x=hello; ");
    sb_free(&d);
    struct sb j = {0}, e = {0};
    history_write_jsonl(h, &j);
    ck_assert_msg(strstr(j.s, "\"value\":42,") && strstr(j.s, "\"value\":\"42\",") &&
                      strstr(j.s, "\"value\":{\"a\":[1,2]},"),
                  "%s", j.s);
    history_write_edn(h, &e);
    ck_assert_msg(strstr(e.s, ":value 42,") && strstr(e.s, ":value \"42\",") && strstr(e.s, ":value {\"a\" [1 2]},") &&
                      strstr(e.s, ":value \"hello\","),
                  "%s", e.s);
    /* and back: the EDN reader keeps the string "42" apart from the number 42 */
    struct history *g = NULL;
    ck_assert_msg(history_parse(j.s, j.len, &g, err, sizeof err) == 0, "%s", err);
    ck_assert_str_eq(g->ops[0].value, h->ops[0].value);
    ck_assert_str_eq(g->ops[1].value, h->ops[1].value);
    history_free(&g);
    const char *edn = "{:process 1, :type :invoke, :f :write, :value 42}\n{:process 1, :type :ok, :f :write, :value 42}\n"
                      "{:process 2, :type :invoke, :f :read, :value nil}\n{:process 2, :type :ok, :f :read, :value \"42\"}\n";
    ck_assert_msg(history_parse(edn, strlen(edn), &g, err, sizeof err) == 0, "%s", err);
    ck_assert_ptr_ne(g->ops[0].value, g->ops[1].value);
    struct lin_result *r = NULL;
    ck_assert_int_eq(lincheck_run(g, NULL, &r, err, sizeof err), LIN_VIOLATION);
    lin_result_free(&r);
    history_free(&g);
    sb_free(&j);
    sb_free(&e);
    history_free(&h);
}
END_TEST

/* ---- the REPL, in-process over the simulator ------------------------------------------------- */

static void on_output(void *ud, const char *text)
{
    sb_add(ud, text);
    sb_add(ud, "\n");
}

static void repl_values_through(const char *mode, const char *first)
{
    struct lab lab;
    struct sb out = {0};
    char err[256];
    ck_assert_int_eq(lab_init(&lab, "conlab", err, sizeof err), 0);
    struct lab_hooks hk = {.ud = &out, .on_output = on_output};
    lab_add_hooks(&lab, &hk);
    struct opts o = {0};
    opts_set(&o, "sim", "on");
    opts_set(&o, "seed", "7");
    ck_assert_int_eq(lab_start(&lab, mode, 3, &o), 0);
    opts_free(&o);
    ck_assert_msg(lab_exec(&lab, first) == 0, "%s: %s", mode, out.s);
    static const char *const good[] = {
        "put x 42", "put y \"42\"", "put z {\"a\":[1,2]}", "put w hello", "put t true", "put q 'a b'",
        "expect x = 42", "expect y = \"42\"", "expect z = '{\"a\": [1, 2]}'", "expect z = {\"a\":[1,2]}", "expect w = hello", "expect t = true",
        "expect q = 'a b'", "expect fail expect x = \"42\"", "expect fail expect y = 42", "expect nothere = nil",
        "expect linearizable",
    };
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        ck_assert_msg(lab_exec(&lab, good[i]) == 0, "%s: '%s' failed:\n%s", mode, good[i], out.s);
    /* what get prints: a number bare, an ambiguous string quoted, a word bare */
    sb_free(&out);
    ck_assert_int_eq(lab_exec(&lab, "get x; get y; get z; get w"), 0);
    ck_assert_msg(strstr(out.s, "42  [") && strstr(out.s, "\"42\"  [") && strstr(out.s, "{\"a\":[1,2]}  [") &&
                      strstr(out.s, "hello  ["),
                  "%s", out.s);
    /* the history keeps the types */
    char *jl = recorder_jsonl(&lab.hist);
    ck_assert_msg(strstr(jl, "\"f\":\"write\",\"key\":\"x\",\"value\":42") && strstr(jl, "\"key\":\"y\",\"value\":\"42\""), "%s", jl);
    free(jl);
    /* bad values: refused naming what and where, nothing sent */
    static const struct {
        const char *line, *why;
    } bad[] = {
        {"put x \"abc", "unbalanced \" quote"},
        {"put x {\"a\":", "bad value '{\"a\":': bad JSON object at column 5"},
        {"put x [1,2", "bad value '[1,2': bad JSON array at column"},
        {"put x \"a\"b", "bad value '\"a\"b': bad JSON string at column"},
        {"put x {a:1}", "bad value '{a:1}': bad JSON object at column 2"},
        {"expect x = [1,", "bad VALUE '[1,'"},
    };
    size_t n_before = lab.hist.n;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        sb_free(&out);
        ck_assert_msg(lab_exec(&lab, bad[i].line) != 0, "'%s' was taken", bad[i].line);
        ck_assert_msg(strstr(out.s, bad[i].why), "%s: '%s' said \"%s\", want \"%s\"", mode, bad[i].line, out.s, bad[i].why);
    }
    ck_assert_uint_eq(lab.hist.n, n_before);
    lab_destroy(&lab);
    sb_free(&out);
}

START_TEST(the_repl_sends_typed_values_and_refuses_bad_json)
{
    repl_values_through("raft", "wait leader");
    repl_values_through("leaderless", "wait 1s");
}
END_TEST

/* ---- the modes ----------------------------------------------------------------------------- */

static json_t *call(struct fixture *f, int node, const char *body)
{
    json_t *r = fixture_call(f, node, json_loads(body, 0, NULL), 10 * SEC);
    ck_assert_msg(r != NULL, "no reply to %s", body);
    return r;
}

static void ok(struct fixture *f, int node, const char *body)
{
    json_t *r = call(f, node, body);
    const char *t = json_string_value(json_object_get(r, "type"));
    ck_assert_msg(t && strstr(t, "_ok"), "%s: %s", body, json_string_value(json_object_get(r, "text")));
    json_decref(r);
}

static void reads(struct fixture *f, int node, const char *key, const char *want_json)
{
    char body[200];
    snprintf(body, sizeof body, "{\"type\":\"read\",\"key\":%s}", key);
    json_t *want = json_loads(want_json, JSON_DECODE_ANY, NULL);
    json_t *got = NULL;
    /* replication is asynchronous in some modes: ask again until it arrives */
    for (int i = 0; i < 50; i++) {
        json_decref(got);
        got = call(f, node, body);
        if (json_equal(json_object_get(got, "value"), want))
            break;
        fixture_run(f, SEC / 5);
    }
    char *d = json_dumps(got, JSON_COMPACT);
    ck_assert_msg(json_equal(json_object_get(got, "value"), want), "read %s at n%d: want %s, got %s", key, node + 1,
                  want_json, d);
    free(d);
    json_decref(got);
    json_decref(want);
}

static void values_through(const struct mode *m, int n, const char *opts, int reader)
{
    struct fixture *f = fixture_new(m, n, opts, 20);
    fixture_direct(f, 1);
    fixture_run(f, 2 * SEC);
    ok(f, 0, "{\"type\":\"write\",\"key\":\"ext\",\"value\":42}");
    ok(f, 0, "{\"type\":\"write\",\"key\":\"s\",\"value\":\"42\"}");
    ok(f, 0, "{\"type\":\"write\",\"key\":7,\"value\":{\"a\":[1,2]}}");
    ok(f, 0, "{\"type\":\"write\",\"key\":\"w\",\"value\":\"\\u0002odd\"}");
    reads(f, reader, "\"ext\"", "42");
    reads(f, reader, "\"s\"", "\"42\"");
    reads(f, reader, "7", "{\"a\":[1,2]}");
    reads(f, reader, "\"7\"", "{\"a\":[1,2]}");
    reads(f, reader, "\"w\"", "\"\\u0002odd\"");
    json_t *r = call(f, 0, "{\"type\":\"write\",\"key\":\"x\"}");
    ck_assert_int_eq(json_integer_value(json_object_get(r, "code")), 12); /* no value: still refused */
    json_decref(r);
    r = call(f, 0, "{\"type\":\"write\",\"key\":[1],\"value\":1}");
    ck_assert_int_eq(json_integer_value(json_object_get(r, "code")), 12); /* a key is a string or a number */
    json_decref(r);
    FIXTURE_OK(f);
    fixture_free(&f);
}

START_TEST(leaderless_stores_and_answers_any_json_value)
{
    values_through(&mode_leaderless, 3, "n=3 w=2 r=2", 1);
}
END_TEST

START_TEST(multileader_stores_and_answers_any_json_value)
{
    values_through(&mode_multileader, 4, "dcs=2", 2);
}
END_TEST

START_TEST(causal_stores_and_answers_any_json_value)
{
    values_through(&mode_causal, 3, "", 1);
}
END_TEST

/* Two writes without a context are concurrent: with siblings, 42 and "42" stay two versions. */
static void siblings_keep_their_types(const struct mode *m, int n, const char *opts, int second)
{
    struct fixture *f = fixture_new(m, n, opts, 21);
    fixture_direct(f, 1);
    fixture_run(f, 2 * SEC);
    int p1 = fixture_send(f, 0, json_loads("{\"type\":\"write\",\"key\":\"x\",\"value\":42}", 0, NULL));
    int p2 = fixture_send(f, second, json_loads("{\"type\":\"write\",\"key\":\"x\",\"value\":\"42\"}", 0, NULL));
    ck_assert_int_eq(fixture_await(f, p1, 10 * SEC), SIMOP_OK);
    ck_assert_int_eq(fixture_await(f, p2, 10 * SEC), SIMOP_OK);
    json_t *want = json_loads("[42,\"42\"]", 0, NULL), *got = NULL;
    for (int i = 0; i < 50; i++) {
        json_decref(got);
        got = call(f, 0, "{\"type\":\"read\",\"key\":\"x\"}");
        json_t *sib = json_object_get(got, "siblings");
        if (json_array_size(sib) == 2)
            break;
        fixture_run(f, SEC / 5);
    }
    json_t *sib = json_object_get(got, "siblings");
    char *d = json_dumps(got, JSON_COMPACT);
    ck_assert_msg(json_array_size(sib) == 2, "%s: %s", m->name, d);
    int has_num = 0, has_str = 0;
    size_t i;
    json_t *v;
    json_array_foreach(sib, i, v) {
        has_num |= json_is_integer(v) && json_integer_value(v) == 42;
        has_str |= json_is_string(v) && !strcmp(json_string_value(v), "42");
    }
    ck_assert_msg(has_num && has_str, "%s: %s", m->name, d);
    free(d);
    json_decref(want);
    json_decref(got);
    FIXTURE_OK(f);
    fixture_free(&f);
}

START_TEST(leaderless_siblings_keep_their_json_types)
{
    siblings_keep_their_types(&mode_leaderless, 3, "n=3 w=2 r=2 conflict=siblings", 1);
}
END_TEST

START_TEST(multileader_siblings_keep_their_json_types)
{
    siblings_keep_their_types(&mode_multileader, 4, "dcs=2 conflict=siblings", 2);
}
END_TEST

/* merge=max orders numbers as numbers and answers the number; a counter takes 5 or "+5" */
START_TEST(multileader_merges_take_numbers)
{
    struct fixture *f = fixture_new(&mode_multileader, 2, "dcs=1 conflict=merge merge=pncounter", 22);
    fixture_direct(f, 1);
    fixture_run(f, 2 * SEC);
    ok(f, 0, "{\"type\":\"write\",\"key\":\"c\",\"value\":5}");
    ok(f, 0, "{\"type\":\"write\",\"key\":\"c\",\"value\":\"+3\"}");
    ok(f, 0, "{\"type\":\"write\",\"key\":\"c\",\"value\":-2}");
    reads(f, 0, "\"c\"", "6");
    json_t *r = call(f, 0, "{\"type\":\"write\",\"key\":\"c\",\"value\":[1]}");
    ck_assert_int_eq(json_integer_value(json_object_get(r, "code")), 22);
    ck_assert(strstr(json_string_value(json_object_get(r, "text")), "string or a whole number") != NULL);
    json_decref(r);
    FIXTURE_OK(f);
    fixture_free(&f);
}
END_TEST

Suite *suite_jsonlab(void);
Suite *suite_jsonlab(void)
{
    Suite *s = suite_create("jsonlab");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, the_value_text_round_trips_every_value_and_keeps_words_as_themselves);
    tcase_add_test(tc, typed_values_parse_as_json_or_as_a_bare_word);
    tcase_add_test(tc, the_fuzz_corpus_replays_cleanly);
    tcase_add_test(tc, the_checker_tells_42_from_the_string_42);
    tcase_add_test(tc, histories_keep_json_types_through_jsonl_and_edn);
    tcase_add_test(tc, the_repl_sends_typed_values_and_refuses_bad_json);
    tcase_add_test(tc, leaderless_stores_and_answers_any_json_value);
    tcase_add_test(tc, multileader_stores_and_answers_any_json_value);
    tcase_add_test(tc, causal_stores_and_answers_any_json_value);
    tcase_add_test(tc, leaderless_siblings_keep_their_json_types);
    tcase_add_test(tc, multileader_siblings_keep_their_json_types);
    tcase_add_test(tc, multileader_merges_take_numbers);
    suite_add_tcase(s, tc);
    return s;
}
