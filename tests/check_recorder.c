/* check_recorder — the history recorder numbers records in order, writes them as JSONL that
 * reads back record for record, refuses an unwritable path with CL_EIO, and formats keys and
 * values for the terminal with every escape sequence made visible. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "recorder.h"

static void add_op(struct recorder *r, int process, const char *type, const char *f, const char *key,
                   json_t *value, long long time_ns)
{
    recorder_add(r, json_pack("{s:i,s:s,s:s,s:s,s:o,s:I,s:s}", "process", process, "type", type, "f", f,
                              "key", key, "value", value, "time", (json_int_t)time_ns, "node", "n1"));
}

START_TEST(records_are_numbered_in_order_and_round_trip_as_jsonl)
{
    struct recorder r = {0};
    add_op(&r, 1, "invoke", "write", "x", json_string("1"), 120000);
    add_op(&r, 1, "ok", "write", "x", json_string("1"), 980000);
    add_op(&r, 2, "invoke", "read", "x", json_null(), 990000);
    add_op(&r, 2, "ok", "read", "x", json_string("1"), 1400000);
    ck_assert_uint_eq(r.n, 4);
    for (size_t i = 0; i < r.n; i++)
        ck_assert_int_eq(json_integer_value(json_object_get(r.v[i], "index")), (json_int_t)i);
    char *txt = recorder_jsonl(&r);
    size_t lines = 0;
    for (char *line = txt, *nl; (nl = strchr(line, '\n')); line = nl + 1) {
        *nl = 0;
        json_error_t je;
        json_t *j = json_loads(line, 0, &je);
        ck_assert_msg(j != NULL, "line %zu is not JSON: %s", lines, je.text);
        ck_assert(json_equal(j, r.v[lines]));
        json_decref(j);
        lines++;
    }
    ck_assert_uint_eq(lines, 4);
    free(txt);
    recorder_clear(&r);
    ck_assert_uint_eq(r.n, 0);
    txt = recorder_jsonl(&r);
    ck_assert_str_eq(txt, "");
    free(txt);
}
END_TEST

START_TEST(saving_writes_the_history_and_refuses_a_bad_path)
{
    struct recorder r = {0};
    add_op(&r, 3, "invoke", "cas", "k", json_pack("[s,s]", "1", "2"), 5);
    char path[] = "/tmp/conlab-recorder-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    ck_assert_int_eq(recorder_save(&r, path), 0);
    FILE *f = fopen(path, "r");
    char line[512];
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    ck_assert_ptr_nonnull(strstr(line, "\"f\":\"cas\""));
    ck_assert_ptr_null(fgets(line, sizeof line, f));
    fclose(f);
    unlink(path);
    ck_assert_int_eq(recorder_save(&r, "/nonexistent-dir/history.jsonl"), CL_EIO);
    ck_assert_int_eq(recorder_save(&r, "/tmp"), CL_EIO); /* a directory */
    recorder_clear(&r);
}
END_TEST

START_TEST(the_mirror_gets_every_record_as_a_line)
{
    struct recorder r = {0};
    char *buf = NULL;
    size_t len = 0;
    r.mirror = open_memstream(&buf, &len);
    add_op(&r, 1, "invoke", "write", "x", json_string("1"), 1);
    add_op(&r, 1, "info", "write", "x", json_string("1"), 2);
    fclose(r.mirror);
    r.mirror = NULL;
    int lines = 0;
    for (char *p = buf; *p; p++)
        lines += *p == '\n';
    ck_assert_int_eq(lines, 2);
    ck_assert_ptr_nonnull(strstr(buf, "\"type\":\"info\""));
    free(buf);
    recorder_clear(&r);
}
END_TEST

START_TEST(formatting_escapes_hostile_keys_and_values)
{
    struct recorder r = {0};
    add_op(&r, 7, "invoke", "write", "k\x1b]0;pwned\x07", json_string("v\r\xe2\x80\xae\x1b[2J"), 1500000000);
    add_op(&r, 7, "ok", "read", "\xe6\xbc\xa2", json_null(), 1600000000);
    recorder_add(&r, json_pack("{s:i,s:s,s:s,s:s,s:o,s:I,s:s,s:{s:i,s:s}}", "process", 8, "type", "fail", "f",
                               "cas", "key", "x", "value", json_pack("[s,s]", "1", "\x1b"), "time",
                               (json_int_t)1700000000, "node", "n2", "error", "code", 22, "text", "nope"));
    struct sb out = {0};
    recorder_format(&r, 0, &out);
    for (const unsigned char *p = (const unsigned char *)out.s; *p; p++)
        ck_assert_msg(*p >= 0x20 || *p == '\n', "raw control byte 0x%02x in \"%s\"", *p, out.s);
    ck_assert_ptr_nonnull(strstr(out.s, "k\\e]0;pwned\\x07"));
    ck_assert_ptr_nonnull(strstr(out.s, "v\\r\\u202e\\e[2J"));
    ck_assert_ptr_nonnull(strstr(out.s, "\xe6\xbc\xa2 nil @n1"));
    ck_assert_ptr_nonnull(strstr(out.s, "1.500s p7"));
    ck_assert_ptr_nonnull(strstr(out.s, "(error 22)"));
    sb_free(&out);
    /* from an index: only the later records */
    recorder_format(&r, 2, &out);
    ck_assert_ptr_null(strstr(out.s, "pwned"));
    ck_assert_ptr_nonnull(strstr(out.s, "p8"));
    sb_free(&out);
    recorder_clear(&r);
}
END_TEST

Suite *suite_recorder(void);
Suite *suite_recorder(void)
{
    Suite *s = suite_create("recorder");
    TCase *tc = tcase_create("history");
    tcase_add_test(tc, records_are_numbered_in_order_and_round_trip_as_jsonl);
    tcase_add_test(tc, saving_writes_the_history_and_refuses_a_bad_path);
    tcase_add_test(tc, the_mirror_gets_every_record_as_a_line);
    tcase_add_test(tc, formatting_escapes_hostile_keys_and_values);
    suite_add_tcase(s, tc);
    return s;
}
