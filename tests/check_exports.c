/* check_exports — what `history export` and `trace export` write: a Jepsen EDN history that
 * reads back as the same operations (values, outcomes, processes, keys, times), and ShiViz and
 * Chrome exports of synthetic events (vector clocks rebuilt from sends and recvs that reach
 * the lab out of order; flow arrows; role slices). The real-process round trip through other
 * readers is tests/proc/exports.sh. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "histfile.h"
#include "traceexport.h"
#include "test_util.h"

START_TEST(an_edn_export_reads_back_as_the_same_history)
{
    struct history *h = history_new();
    char e[256];
    ck_assert_int_eq(history_add(h, 0, HE_INVOKE, "write", "x", "1", NULL, 1000, "n1", NULL, e, sizeof e), 0);
    ck_assert_int_eq(history_add(h, 1, HE_INVOKE, "read", "x", NULL, NULL, 1500, "n2", NULL, e, sizeof e), 0);
    ck_assert_int_eq(history_add(h, 0, HE_OK, "write", "x", "1", NULL, 2000, "n1", NULL, e, sizeof e), 0);
    ck_assert_int_eq(history_add(h, 1, HE_OK, "read", "x", "1", NULL, 2500, "n2", NULL, e, sizeof e), 0);
    ck_assert_int_eq(history_add(h, 2, HE_INVOKE, "write", "say \"hi\"", "a\\b\"c", NULL, 3000, "n3", NULL, e, sizeof e), 0);
    ck_assert_int_eq(history_add(h, 2, HE_INFO, "write", "say \"hi\"", NULL, NULL, 4000, "n3", "timeout", e, sizeof e), 0);
    ck_assert_int_eq(history_add(h, 3, HE_INVOKE, "cas", "x", "1", "2", 5000, "n1", NULL, e, sizeof e), 0);
    ck_assert_int_eq(history_add(h, 3, HE_FAIL, "cas", "x", NULL, NULL, 6000, "n1", "precondition failed", e, sizeof e), 0);
    ck_assert_int_eq(history_add(h, 4, HE_INVOKE, "read", "y", NULL, NULL, 7000, "n1", NULL, e, sizeof e), 0);
    ck_assert_int_eq(history_add(h, 4, HE_OK, "read", "y", NULL, NULL, 8000, "n1", NULL, e, sizeof e), 0);
    struct sb edn = {0};
    history_write_edn(h, &edn);
    struct history *back = NULL;
    ck_assert_msg(history_parse_edn(edn.s, edn.len, &back, e, sizeof e) == 0, "%s\n%s", e, edn.s);
    ck_assert_int_eq(back->n, h->n);
    for (int i = 0; i < h->n; i++) {
        const struct hist_op *a = &h->ops[i], *b = &back->ops[i];
        ck_assert_int_eq(a->process, b->process);
        ck_assert_int_eq(a->f, b->f);
        ck_assert_int_eq(a->outcome, b->outcome);
        ck_assert_str_eq(a->key, b->key);
        ck_assert_msg((!a->value && !b->value) || (a->value && b->value && !strcmp(a->value, b->value)),
                      "op %d: value %s / %s", i, a->value ? a->value : "nil", b->value ? b->value : "nil");
        if (a->f == HF_CAS)
            ck_assert_str_eq(a->value2, b->value2);
    }
    /* and the EDN written from the read-back history is the same text */
    struct sb again = {0};
    history_write_edn(back, &again);
    ck_assert_str_eq(edn.s, again.s);
    sb_free(&edn);
    sb_free(&again);
    history_free(&back);
    history_free(&h);
}
END_TEST

/* A synthetic run: n1 sends to n2, whose recv reaches the lab first; n2 answers. */
static json_t **run(size_t *n)
{
    static const char *const lines[] = {
        "{\"t\":0,\"node\":\"lab\",\"ev\":\"cluster\",\"stopped\":true}",
        "{\"t\":1,\"node\":\"n9\",\"ev\":\"state\",\"role\":\"old run\"}",
        "{\"t\":0,\"node\":\"lab\",\"ev\":\"cluster\",\"stopped\":true}",
        "{\"t\":5,\"node\":\"n1\",\"ev\":\"state\",\"role\":\"leader\",\"term\":1}",
        "{\"t\":9,\"node\":\"lab\",\"ev\":\"cluster\",\"mode\":\"x\",\"nodes\":[\"n1\",\"n2\"]}",
        "{\"t\":30,\"node\":\"n2\",\"ev\":\"recv\",\"from\":\"n1\",\"type\":\"ping\",\"msg_id\":7}",
        "{\"t\":20,\"node\":\"n1\",\"ev\":\"send\",\"to\":\"n2\",\"type\":\"ping\",\"msg_id\":7}",
        "{\"t\":31,\"node\":\"n2\",\"ev\":\"status\",\"status\":{}}",
        "{\"t\":40,\"node\":\"n2\",\"ev\":\"send\",\"to\":\"n1\",\"type\":\"pong\",\"msg_id\":1}",
        "{\"t\":50,\"node\":\"n1\",\"ev\":\"recv\",\"from\":\"n2\",\"type\":\"pong\",\"msg_id\":1}",
        "{\"t\":60,\"node\":\"n2\",\"ev\":\"error\",\"text\":\"two\\nlines\"}",
        "{\"t\":70,\"node\":\"n1\",\"ev\":\"state\",\"role\":\"follower\",\"term\":2}",
    };
    *n = sizeof lines / sizeof lines[0];
    json_t **ev = xcalloc(*n, sizeof *ev);
    for (size_t i = 0; i < *n; i++) {
        ev[i] = json_loads(lines[i], 0, NULL);
        ck_assert_ptr_nonnull(ev[i]);
    }
    return ev;
}

static void free_run(json_t **ev, size_t n)
{
    for (size_t i = 0; i < n; i++)
        json_decref(ev[i]);
    free(ev);
}

START_TEST(shiviz_gets_vector_clocks_rebuilt_from_messages)
{
    size_t n;
    json_t **ev = run(&n);
    struct sb out = {0};
    ck_assert_int_eq(trace_export(ev, n, TRACE_SHIVIZ, &out), 7);
    const char *want =
        SHIVIZ_REGEX "\n\n"
        "t=0.005ms state role=leader term=1\nn1 {\"n1\":1}\n"
        "t=0.020ms send ping to n2 #7\nn1 {\"n1\":2}\n"
        "t=0.030ms recv ping from n1 #7\nn2 {\"n1\":2, \"n2\":1}\n"
        "t=0.040ms send pong to n1 #1\nn2 {\"n1\":2, \"n2\":2}\n"
        "t=0.050ms recv pong from n2 #1\nn1 {\"n1\":3, \"n2\":2}\n"
        "t=0.060ms error text=two lines\nn2 {\"n1\":2, \"n2\":3}\n"
        "t=0.070ms state role=follower term=2\nn1 {\"n1\":4, \"n2\":2}\n";
    ck_assert_str_eq(out.s, want);
    sb_free(&out);
    free_run(ev, n);
}
END_TEST

START_TEST(chrome_gets_processes_roles_and_message_arrows)
{
    size_t n;
    json_t **ev = run(&n);
    struct sb out = {0};
    trace_export(ev, n, TRACE_CHROME, &out);
    json_error_t je;
    json_t *doc = json_loads(out.s, 0, &je);
    ck_assert_msg(doc != NULL, "%s", je.text);
    json_t *arr = json_object_get(doc, "traceEvents");
    int procs = 0, flows_s = 0, flows_f = 0, roles = 0;
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e) {
        const char *ph = json_string_value(json_object_get(e, "ph"));
        const char *name = json_string_value(json_object_get(e, "name"));
        if (!strcmp(ph, "M") && !strcmp(name, "process_name"))
            procs++;
        if (!strcmp(ph, "s"))
            flows_s++;
        if (!strcmp(ph, "f")) {
            flows_f++;
            ck_assert_str_eq(json_string_value(json_object_get(e, "bp")), "e");
        }
        const char *cat = json_string_value(json_object_get(e, "cat"));
        if (cat && !strcmp(cat, "role")) {
            roles++;
            if (!strcmp(name, "leader"))
                ck_assert_int_eq(json_integer_value(json_object_get(e, "dur")), 65);
        }
    }
    ck_assert_int_eq(procs, 2);
    ck_assert_int_eq(flows_s, 2);
    ck_assert_int_eq(flows_f, 2);
    ck_assert_int_eq(roles, 2); /* n1 leader 5..70, n1 follower 70..end */
    json_decref(doc);
    sb_free(&out);
    free_run(ev, n);
}
END_TEST

START_TEST(an_empty_run_exports_a_valid_empty_file)
{
    struct sb out = {0};
    ck_assert_int_eq(trace_export(NULL, 0, TRACE_SHIVIZ, &out), 0);
    ck_assert_str_eq(out.s, SHIVIZ_REGEX "\n\n");
    sb_free(&out);
    ck_assert_int_eq(trace_export(NULL, 0, TRACE_CHROME, &out), 0);
    json_t *doc = json_loads(out.s, 0, NULL);
    ck_assert_ptr_nonnull(doc);
    ck_assert_int_eq(json_array_size(json_object_get(doc, "traceEvents")), 0);
    json_decref(doc);
    sb_free(&out);
}
END_TEST

Suite *suite_exports(void);
Suite *suite_exports(void)
{
    Suite *s = suite_create("exports");
    TCase *tc = tcase_create("exports");
    tcase_add_test(tc, an_edn_export_reads_back_as_the_same_history);
    tcase_add_test(tc, shiviz_gets_vector_clocks_rebuilt_from_messages);
    tcase_add_test(tc, chrome_gets_processes_roles_and_message_arrows);
    tcase_add_test(tc, an_empty_run_exports_a_valid_empty_file);
    suite_add_tcase(s, tc);
    return s;
}
