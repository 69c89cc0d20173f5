/* check_util — the parsers for user input refuse every bad number of BAD-INPUT.md without
 * touching their output, sb_add_escaped() never lets user data drive a terminal, and the
 * small string helpers behave as their headers say. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"
#include "util.h"

/* ---- integers ------------------------------------------------------------------------ */

static const struct {
    const char *in;
    int64_t want;
} good_i64[] = {
    {"0", 0},
    {"42", 42},
    {"-7", -7},
    {"-0", 0},
    {"+5", 5}, /* "optional sign": a leading + is the same number */
    {"9223372036854775807", INT64_MAX},
    {"-9223372036854775808", INT64_MIN},
    {"007", 7},
};

START_TEST(parse_i64_accepts_decimal_integers)
{
    int64_t v = 12345;
    ck_assert_int_eq(parse_i64(good_i64[_i].in, &v), 0);
    ck_assert_msg(v == good_i64[_i].want, "%s parsed as %lld", good_i64[_i].in, (long long)v);
}
END_TEST

static const char *const bad_ints[] = {
    "", " 5", "5 ", "abc", "5x", "x5", "1.5", "1e3", "0x10", "0X1f", "9223372036854775808",
    "-9223372036854775809", "99999999999999999999999", "+", "-", "--5", "+-5", "5\n", "١٢",
    "inf", "nan", "5\x1b[31m",
};

START_TEST(parse_i64_refuses_junk_and_overflow_without_writing)
{
    int64_t v = 12345;
    ck_assert_msg(parse_i64(bad_ints[_i], &v) == CL_EINVAL, "\"%s\" was accepted", bad_ints[_i]);
    ck_assert_msg(v == 12345, "\"%s\" wrote %lld on failure", bad_ints[_i], (long long)v);
}
END_TEST

START_TEST(parse_u64_takes_the_full_unsigned_range_and_nothing_signed)
{
    uint64_t v = 99;
    ck_assert_int_eq(parse_u64("18446744073709551615", &v), 0);
    ck_assert(v == UINT64_MAX);
    ck_assert_int_eq(parse_u64("9223372036854775808", &v), 0); /* 2^63 fits unsigned */
    ck_assert(v == (1ull << 63));
    ck_assert_int_eq(parse_u64("0", &v), 0);
    ck_assert(v == 0);
    static const char *const bad[] = {"-1", "-0", "+1", "18446744073709551616", "0x10", "1.0",
                                      "", " 1", "1 ", "abc", "1e2", NULL};
    for (int i = 0; bad[i]; i++) {
        v = 99;
        ck_assert_msg(parse_u64(bad[i], &v) == CL_EINVAL, "\"%s\" was accepted", bad[i]);
        ck_assert_msg(v == 99, "\"%s\" wrote on failure", bad[i]);
    }
    ck_assert_int_eq(parse_u64(NULL, &v), CL_EINVAL);
}
END_TEST

/* ---- floats, durations, percentages ----------------------------------------------------- */

START_TEST(parse_double_accepts_plain_decimals_only)
{
    double d = 9;
    ck_assert_int_eq(parse_double("1.5", &d), 0);
    ck_assert(d == 1.5);
    ck_assert_int_eq(parse_double("-0.25", &d), 0);
    ck_assert(d == -0.25);
    ck_assert_int_eq(parse_double(".5", &d), 0);
    ck_assert(d == 0.5);
    ck_assert_int_eq(parse_double("10", &d), 0);
    ck_assert(d == 10);
    static const char *const bad[] = {"", "abc", "1e5", "1E5", "inf", "-inf", "nan", "NaN", "0x1p3",
                                      ".", "-", "1..2", "1.2.3", " 1", "1 ", "1,5", NULL};
    for (int i = 0; bad[i]; i++) {
        d = 9;
        ck_assert_msg(parse_double(bad[i], &d) == CL_EINVAL, "\"%s\" was accepted", bad[i]);
        ck_assert_msg(d == 9, "\"%s\" wrote on failure", bad[i]);
    }
    /* 400 digits overflow a double: refused rather than taken as infinity */
    char big[402];
    memset(big, '9', 400);
    big[400] = 0;
    ck_assert_int_eq(parse_double(big, &d), CL_EINVAL);
}
END_TEST

static const struct {
    const char *in;
    uint64_t want;
} good_dur[] = {
    {"500ms", 500000}, {"2s", 2000000}, {"1.5s", 1500000}, {"250us", 250},
    {"3m", 180000000}, {"1min", 60000000}, {"10", 10000}, {"0", 0}, {"0.5ms", 500},
};

START_TEST(parse_duration_understands_units)
{
    uint64_t v = 1;
    ck_assert_int_eq(parse_duration_us(good_dur[_i].in, &v), 0);
    ck_assert_msg(v == good_dur[_i].want, "%s parsed as %llu us", good_dur[_i].in,
                  (unsigned long long)v);
}
END_TEST

START_TEST(parse_duration_refuses_signs_unknown_units_and_absurd_lengths)
{
    static const char *const bad[] = {"", "ms", "-5ms", "+5s", "5h", "5 s", "5sec", "1e3s", "0x10",
                                      "1.2.3s", "5ms ", "99999999999s", "abc", "5S", NULL};
    for (int i = 0; bad[i]; i++) {
        uint64_t v = 77;
        ck_assert_msg(parse_duration_us(bad[i], &v) == CL_EINVAL, "\"%s\" was accepted", bad[i]);
        ck_assert_msg(v == 77, "\"%s\" wrote on failure", bad[i]);
    }
    char longnum[64];
    memset(longnum, '1', 40);
    strcpy(longnum + 40, "us");
    uint64_t v;
    ck_assert_int_eq(parse_duration_us(longnum, &v), CL_EINVAL);
}
END_TEST

START_TEST(parse_percent_takes_0_to_100_with_or_without_a_percent_sign)
{
    double d = -1;
    ck_assert_int_eq(parse_percent("10", &d), 0);
    ck_assert(d == 10);
    ck_assert_int_eq(parse_percent("10%", &d), 0);
    ck_assert(d == 10);
    ck_assert_int_eq(parse_percent("0.5%", &d), 0);
    ck_assert(d == 0.5);
    ck_assert_int_eq(parse_percent("100%", &d), 0);
    ck_assert(d == 100);
    static const char *const bad[] = {"", "%", "101", "100.1%", "-1", "-0", "+5", "50%%", "abc%",
                                      "1e1", "0x10", "5 %", NULL};
    for (int i = 0; bad[i]; i++) {
        d = -1;
        ck_assert_msg(parse_percent(bad[i], &d) == CL_EINVAL, "\"%s\" was accepted", bad[i]);
        ck_assert_msg(d == -1, "\"%s\" wrote on failure", bad[i]);
    }
    char longs[64];
    memset(longs, '0', 50);
    strcpy(longs + 50, "1%");
    ck_assert_int_eq(parse_percent(longs, &d), CL_EINVAL);
}
END_TEST

START_TEST(parse_node_id_accepts_only_existing_nodes)
{
    int idx = -5;
    ck_assert_int_eq(parse_node_id("n1", 3, &idx), 0);
    ck_assert_int_eq(idx, 0);
    ck_assert_int_eq(parse_node_id("n3", 3, &idx), 0);
    ck_assert_int_eq(idx, 2);
    ck_assert_int_eq(parse_node_id("n16", 16, &idx), 0);
    ck_assert_int_eq(idx, 15);
    static const char *const bad[] = {"n4", "n0", "n01", "N1", "n", "n-1", "n+1", "n1x", "n1.0",
                                      "n 1", " n1", "1", "lab", "repl", "", "n99999999999999999999",
                                      "n18446744073709551617", "n0x1", NULL};
    for (int i = 0; bad[i]; i++) {
        idx = -5;
        ck_assert_msg(parse_node_id(bad[i], 3, &idx) == CL_EINVAL, "\"%s\" was accepted", bad[i]);
        ck_assert_msg(idx == -5, "\"%s\" wrote on failure", bad[i]);
    }
    ck_assert_int_eq(parse_node_id(NULL, 3, &idx), CL_EINVAL);
}
END_TEST

/* ---- escaping ------------------------------------------------------------------------ */

static char *esc(const char *s, size_t n)
{
    struct sb b = {0};
    sb_add_escaped(&b, s, n);
    return b.s;
}

static const struct {
    const char *in;
    size_t n;           /* 0: strlen */
    const char *want;
} escapes[] = {
    {"plain text", 0, "plain text"},
    {"\x1b[31mred\x1b[0m", 0, "\\e[31mred\\e[0m"},                 /* CSI colour */
    {"\x1b]0;pwned\x07", 0, "\\e]0;pwned\\x07"},                    /* OSC set title */
    {"\x1b]52;c;ZXZpbA==\x1b\\", 0, "\\e]52;c;ZXZpbA==\\e\\\\"},    /* OSC 52 clipboard */
    {"over\rwrite", 0, "over\\rwrite"},
    {"a\nb\tc", 0, "a\\nb\\tc"},
    {"nul\0byte", 8, "nul\\x00byte"},
    {"del\x7f", 0, "del\\x7f"},
    {"back\\slash", 0, "back\\\\slash"},
    {"\xe2\x80\xae" "evil", 0, "\\u202eevil"},                      /* RIGHT-TO-LEFT OVERRIDE */
    {"\xe2\x81\xa6x\xe2\x81\xa9", 0, "\\u2066x\\u2069"},            /* BiDi isolates */
    {"\xe2\x80\x8b", 0, "\\u200b"},                                 /* zero width space */
    {"\xe2\x80\x8f", 0, "\\u200f"},                                 /* RIGHT-TO-LEFT MARK */
    {"\xd8\x9c", 0, "\\u061c"},                                     /* ARABIC LETTER MARK */
    {"\xef\xbb\xbf" "bom", 0, "\\ufeffbom"},
    {"\xc2\x9b" "31m", 0, "\\u009b31m"},                            /* C1 CSI */
    {"\xff\xfe", 0, "\\xff\\xfe"},                                  /* never UTF-8 */
    {"\xc0\xaf", 0, "\\xc0\\xaf"},                                  /* overlong '/' */
    {"\xe4\xb8", 0, "\\xe4\\xb8"},                                  /* truncated */
    {"\xed\xa0\x80", 0, "\\xed\\xa0\\x80"},                         /* surrogate */
    {"\xf4\x90\x80\x80", 0, "\\xf4\\x90\\x80\\x80"},                /* above U+10FFFF */
    {"\xe6\xbc\xa2\xe5\xad\x97", 0, "\xe6\xbc\xa2\xe5\xad\x97"},    /* wide CJK kept */
    {"\xef\xbc\xa1", 0, "\xef\xbc\xa1"},                            /* fullwidth A kept */
    {"\xf0\x9f\x98\x80", 0, "\xf0\x9f\x98\x80"},                    /* emoji kept */
    {"caf\xc3\xa9", 0, "caf\xc3\xa9"},
};

START_TEST(escaping_makes_control_and_invalid_bytes_visible)
{
    size_t n = escapes[_i].n ? escapes[_i].n : strlen(escapes[_i].in);
    char *out = esc(escapes[_i].in, n);
    ck_assert_msg(!strcmp(out, escapes[_i].want), "case %d: got \"%s\"", _i, out);
    free(out);
}
END_TEST

/* Is s valid UTF-8 with no C0/C1 control, DEL or BiDi control? */
static int terminal_safe(const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    while (*s) {
        unsigned c = *s;
        if (c < 0x20 || c == 0x7f)
            return 0;
        if (c < 0x80) {
            s++;
            continue;
        }
        int len = (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
        if (!len)
            return 0;
        uint32_t cp = c & (0x7fu >> len);
        for (int i = 1; i < len; i++) {
            if ((s[i] & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i] & 0x3f);
        }
        if (cp < 0xa0 || cp == 0x061c || (cp >= 0x200e && cp <= 0x200f) || (cp >= 0x202a && cp <= 0x202e) ||
            (cp >= 0x2066 && cp <= 0x2069))
            return 0;
        s += len;
    }
    return 1;
}

START_TEST(escaping_random_bytes_always_gives_terminal_safe_text)
{
    struct rng r;
    rng_seed(&r, 1234);
    char buf[64];
    for (int iter = 0; iter < 20000; iter++) {
        size_t n = (size_t)rng_range(&r, 0, sizeof buf);
        for (size_t i = 0; i < n; i++) {
            /* bias towards interesting bytes */
            static const unsigned char pick[] = {0x1b, 0x07, 0x00, '\r', '\\', 0xe2, 0x80, 0xae,
                                                 0xc2, 0x9b, 0xff, 0xf0, 0x9f, 'a'};
            buf[i] = rng_range(&r, 0, 1) ? (char)pick[rng_range(&r, 0, sizeof pick - 1)]
                                         : (char)rng_range(&r, 0, 255);
        }
        char *out = esc(buf, n);
        if (!out || !terminal_safe(out))
            ck_abort_msg("unsafe output at iteration %d: %s", iter, out ? out : "(null)");
        free(out);
    }
}
END_TEST

START_TEST(escaping_nothing_gives_an_empty_string)
{
    char *out = esc("", 0);
    ck_assert_ptr_nonnull(out);
    ck_assert_str_eq(out, "");
    free(out);
}
END_TEST

/* ---- string helpers ------------------------------------------------------------------ */

START_TEST(str_distance_counts_edits)
{
    ck_assert_int_eq(str_distance("kitten", "sitting"), 3);
    ck_assert_int_eq(str_distance("sitting", "kitten"), 3);
    ck_assert_int_eq(str_distance("", "abc"), 3);
    ck_assert_int_eq(str_distance("abc", ""), 3);
    ck_assert_int_eq(str_distance("same", "same"), 0);
    ck_assert_int_eq(str_distance("partiton", "partition"), 1);
    ck_assert_int_eq(str_distance("flaw", "lawn"), 2);
    char big[80];
    memset(big, 'a', 70);
    big[70] = 0;
    ck_assert_int_eq(str_distance(big, "a"), 100); /* capped, no overflow of its row */
}
END_TEST

START_TEST(str_copy_truncates_and_terminates)
{
    char buf[4] = "xyz";
    ck_assert_uint_eq(str_copy(buf, "hello", sizeof buf), 5);
    ck_assert_str_eq(buf, "hel");
    ck_assert_uint_eq(str_copy(buf, "", sizeof buf), 0);
    ck_assert_str_eq(buf, "");
    ck_assert_uint_eq(str_copy(buf, "abc", 0), 3); /* size 0 writes nothing */
}
END_TEST

START_TEST(string_buffer_grows_and_formats)
{
    struct sb b = {0};
    for (int i = 0; i < 1000; i++)
        sb_printf(&b, "%d,", i);
    ck_assert_uint_eq(b.len, strlen(b.s));
    ck_assert(!strncmp(b.s, "0,1,2,", 6));
    ck_assert_ptr_nonnull(strstr(b.s, ",999,"));
    sb_free(&b);
    ck_assert_ptr_null(b.s);
    char *s = xasprintf("%s-%d", "n", 3);
    ck_assert_str_eq(s, "n-3");
    free(s);
    char name[CL_IDLEN];
    node_name(15, name);
    ck_assert_str_eq(name, "n16");
    ck_assert_str_eq(err_str(CL_ETIMEOUT), "timed out");
    ck_assert_str_eq(err_str(-99), "unknown error");
}
END_TEST

Suite *suite_util(void);
Suite *suite_util(void)
{
    Suite *s = suite_create("util");
    TCase *tc = tcase_create("parse");
    tcase_add_loop_test(tc, parse_i64_accepts_decimal_integers, 0, (int)CL_ARRAY_LEN(good_i64));
    tcase_add_loop_test(tc, parse_i64_refuses_junk_and_overflow_without_writing, 0,
                        (int)CL_ARRAY_LEN(bad_ints));
    tcase_add_test(tc, parse_u64_takes_the_full_unsigned_range_and_nothing_signed);
    tcase_add_test(tc, parse_double_accepts_plain_decimals_only);
    tcase_add_loop_test(tc, parse_duration_understands_units, 0, (int)CL_ARRAY_LEN(good_dur));
    tcase_add_test(tc, parse_duration_refuses_signs_unknown_units_and_absurd_lengths);
    tcase_add_test(tc, parse_percent_takes_0_to_100_with_or_without_a_percent_sign);
    tcase_add_test(tc, parse_node_id_accepts_only_existing_nodes);
    suite_add_tcase(s, tc);
    tc = tcase_create("escape");
    tcase_add_loop_test(tc, escaping_makes_control_and_invalid_bytes_visible, 0,
                        (int)CL_ARRAY_LEN(escapes));
    tcase_add_test(tc, escaping_random_bytes_always_gives_terminal_safe_text);
    tcase_add_test(tc, escaping_nothing_gives_an_empty_string);
    suite_add_tcase(s, tc);
    tc = tcase_create("strings");
    tcase_add_test(tc, str_distance_counts_edits);
    tcase_add_test(tc, str_copy_truncates_and_terminates);
    tcase_add_test(tc, string_buffer_grows_and_formats);
    suite_add_tcase(s, tc);
    return s;
}
