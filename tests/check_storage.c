/* check_storage — a node's disk: blobs are replaced atomically, log records come back in order
 * after a reopen, only synced records survive a close without sync (a crash), truncation is
 * durable, and a torn or corrupt tail left by a crash is cut off on open while the records
 * before it are kept. Each test works in its own mkdtemp directory and removes it. */
#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "storage.h"
#include "util.h"

static char dir[64];

static void setup(void)
{
    strcpy(dir, "/tmp/conlab-storage-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            char *p = xasprintf("%s/%s", dir, e->d_name);
            unlink(p);
            free(p);
        }
        closedir(d);
    }
    rmdir(dir);
}

static struct storage *open_store(void)
{
    char err[256] = "";
    struct storage *s = storage_open(dir, 0, err, sizeof err);
    ck_assert_msg(s != NULL, "open: %s", err);
    return s;
}

/* Records read back, joined with "|" (record bytes must be printable here). */
struct got {
    struct sb text;
    int n;
};

static void collect(void *ud, const void *data, size_t len)
{
    struct got *g = ud;
    if (g->n++)
        sb_addc(&g->text, '|');
    sb_addn(&g->text, data, len);
}

static char *read_log(struct storage *s, const char *name, long *count)
{
    struct got g = {{0}, 0};
    sb_addn(&g.text, "", 0);
    *count = storage_log_read(s, name, collect, &g);
    ck_assert_int_eq(*count, g.n);
    return g.text.s;
}

static void assert_log(struct storage *s, const char *name, long want_n, const char *want)
{
    long n;
    char *txt = read_log(s, name, &n);
    ck_assert_msg(n == want_n && !strcmp(txt, want), "log %s: %ld records \"%s\", want %ld \"%s\"",
                  name, n, txt, want_n, want);
    free(txt);
}

static void append(struct storage *s, const char *name, const char *rec)
{
    ck_assert_int_eq(storage_log_append(s, name, rec, strlen(rec)), 0);
}

static off_t file_size(const char *name)
{
    char *p = xasprintf("%s/%s", dir, name);
    struct stat st;
    int rc = stat(p, &st);
    free(p);
    return rc == 0 ? st.st_size : -1;
}

static void append_raw(const char *name, const void *bytes, size_t n)
{
    char *p = xasprintf("%s/%s", dir, name);
    int fd = open(p, O_WRONLY | O_APPEND);
    free(p);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, bytes, n), (ssize_t)n);
    close(fd);
}

/* ---- blobs --------------------------------------------------------------------------- */

START_TEST(blobs_are_replaced_whole)
{
    struct storage *s = open_store();
    char *data;
    size_t len;
    ck_assert_int_eq(storage_blob_get(s, "state", &data, &len), CL_ENOENT);
    ck_assert_int_eq(storage_blob_put(s, "state", "version-one-long", 16), 0);
    ck_assert_int_eq(storage_blob_put(s, "state", "v2", 2), 0);
    ck_assert_int_eq(storage_blob_get(s, "state", &data, &len), 0);
    ck_assert_uint_eq(len, 2);
    ck_assert(!memcmp(data, "v2", 2));
    free(data);
    storage_close(&s);
    ck_assert_ptr_null(s);
    /* durable across a reopen; no temporary file left behind */
    s = open_store();
    ck_assert_int_eq(storage_blob_get(s, "state", &data, &len), 0);
    ck_assert_uint_eq(len, 2);
    free(data);
    storage_close(&s);
    DIR *d = opendir(dir);
    struct dirent *e;
    int files = 0;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            files++;
            ck_assert_str_eq(e->d_name, "state");
        }
    closedir(d);
    ck_assert_int_eq(files, 1);
}
END_TEST

START_TEST(blobs_hold_binary_and_empty_values)
{
    struct storage *s = open_store();
    char bin[] = {'a', 0, 'b', (char)0xff, 0};
    char *data;
    size_t len;
    ck_assert_int_eq(storage_blob_put(s, "bin", bin, sizeof bin), 0);
    ck_assert_int_eq(storage_blob_get(s, "bin", &data, &len), 0);
    ck_assert_uint_eq(len, sizeof bin);
    ck_assert(!memcmp(data, bin, sizeof bin));
    free(data);
    ck_assert_int_eq(storage_blob_put(s, "empty", "", 0), 0);
    ck_assert_int_eq(storage_blob_get(s, "empty", &data, &len), 0);
    ck_assert_uint_eq(len, 0);
    ck_assert_ptr_nonnull(data);
    free(data);
    storage_close(&s);
}
END_TEST

START_TEST(an_interrupted_replace_keeps_the_old_blob)
{
    struct storage *s = open_store();
    ck_assert_int_eq(storage_blob_put(s, "state", "old", 3), 0);
    storage_close(&s);
    /* a crash after writing the temporary file but before the rename */
    char *tmp = xasprintf("%s/.state.tmp", dir);
    FILE *f = fopen(tmp, "w");
    fputs("half-writ", f);
    fclose(f);
    free(tmp);
    s = open_store();
    char *data;
    size_t len;
    ck_assert_int_eq(storage_blob_get(s, "state", &data, &len), 0);
    ck_assert_uint_eq(len, 3);
    ck_assert(!memcmp(data, "old", 3));
    free(data);
    ck_assert_int_eq(storage_blob_put(s, "state", "new", 3), 0);
    ck_assert_int_eq(storage_blob_get(s, "state", &data, &len), 0);
    ck_assert(!memcmp(data, "new", 3));
    free(data);
    storage_close(&s);
}
END_TEST

START_TEST(names_that_could_escape_the_data_dir_are_refused)
{
    struct storage *s = open_store();
    static const char *const bad[] = {"../evil", "a/b", "", ".hidden", "UPPER", "sp ace",
                                      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", NULL};
    char *data;
    size_t len;
    for (int i = 0; bad[i]; i++) {
        ck_assert_msg(storage_blob_put(s, bad[i], "x", 1) == CL_EINVAL, "blob %s accepted", bad[i]);
        ck_assert_int_eq(storage_blob_get(s, bad[i], &data, &len), CL_EINVAL);
        ck_assert_msg(storage_log_append(s, bad[i], "x", 1) == CL_EINVAL, "log %s accepted", bad[i]);
        ck_assert_int_eq(storage_log_sync(s, bad[i]), CL_EINVAL);
        ck_assert_int_eq(storage_log_truncate(s, bad[i], 0), CL_EINVAL);
    }
    storage_close(&s);
    DIR *d = opendir(dir);
    struct dirent *e;
    while ((e = readdir(d)))
        ck_assert_msg(e->d_name[0] == '.', "a refused name left %s behind", e->d_name);
    closedir(d);
    char *outside = xasprintf("%s/../evil.log", dir);
    ck_assert_int_ne(access(outside, F_OK), 0);
    free(outside);
}
END_TEST

START_TEST(opening_a_path_that_is_not_a_directory_fails_with_a_reason)
{
    char err[256] = "";
    char *missing = xasprintf("%s/no/such/dir", dir);
    ck_assert_ptr_null(storage_open(missing, 0, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "cannot create data dir"));
    free(missing);
    char *file = xasprintf("%s/plainfile", dir);
    FILE *f = fopen(file, "w");
    fclose(f);
    err[0] = 0;
    struct storage *s = storage_open(file, 0, err, sizeof err);
    ck_assert_msg(s == NULL, "a plain file was opened as a data dir");
    ck_assert_ptr_nonnull(strstr(err, file));
    free(file);
}
END_TEST

/* ---- logs ---------------------------------------------------------------------------- */

START_TEST(log_records_come_back_in_order_after_a_reopen)
{
    char err[256];
    struct storage *s = storage_open(dir, 1, err, sizeof err); /* with fsync */
    append(s, "raft", "one");
    append(s, "raft", "");
    append(s, "raft", "three");
    assert_log(s, "raft", 3, "one||three"); /* appended but unsynced records are visible */
    ck_assert_int_eq(storage_log_sync(s, "raft"), 0);
    append(s, "other", "x");
    ck_assert_int_eq(storage_log_sync(s, "other"), 0);
    storage_close(&s);
    s = open_store();
    assert_log(s, "raft", 3, "one||three");
    assert_log(s, "other", 1, "x");
    assert_log(s, "never-written", 0, "");
    storage_close(&s);
}
END_TEST

START_TEST(unsynced_records_are_lost_when_the_process_dies)
{
    struct storage *s = open_store();
    append(s, "l", "durable");
    ck_assert_int_eq(storage_log_sync(s, "l"), 0);
    append(s, "l", "volatile-1");
    append(s, "l", "volatile-2");
    storage_close(&s); /* no sync: what a crash does */
    s = open_store();
    assert_log(s, "l", 1, "durable");
    storage_close(&s);
}
END_TEST

START_TEST(large_and_binary_records_round_trip)
{
    struct storage *s = open_store();
    size_t big = 1 << 20;
    char *rec = malloc(big);
    for (size_t i = 0; i < big; i++)
        rec[i] = (char)(i * 131);
    ck_assert_int_eq(storage_log_append(s, "big", rec, big), 0);
    ck_assert_int_eq(storage_log_append(s, "big", "\0\1\2", 3), 0);
    ck_assert_int_eq(storage_log_sync(s, "big"), 0);
    storage_close(&s);
    s = open_store();
    struct got g = {{0}, 0};
    ck_assert_int_eq(storage_log_read(s, "big", collect, &g), 2);
    ck_assert_uint_eq(g.text.len, big + 1 + 3);
    ck_assert(!memcmp(g.text.s, rec, big));
    ck_assert(!memcmp(g.text.s + big + 1, "\0\1\2", 3));
    sb_free(&g.text);
    free(rec);
    storage_close(&s);
}
END_TEST

START_TEST(truncation_keeps_the_first_records_durably)
{
    struct storage *s = open_store();
    append(s, "l", "a");
    append(s, "l", "b");
    append(s, "l", "c");
    ck_assert_int_eq(storage_log_sync(s, "l"), 0);
    append(s, "l", "d"); /* pending: made durable before counting */
    ck_assert_int_eq(storage_log_truncate(s, "l", 2), 0);
    assert_log(s, "l", 2, "a|b");
    ck_assert_int_eq(storage_log_truncate(s, "l", 10), 0); /* longer than the log: no change */
    assert_log(s, "l", 2, "a|b");
    storage_close(&s);
    s = open_store();
    assert_log(s, "l", 2, "a|b");
    append(s, "l", "e");
    ck_assert_int_eq(storage_log_sync(s, "l"), 0);
    ck_assert_int_eq(storage_log_truncate(s, "l", 0), 0);
    assert_log(s, "l", 0, "");
    append(s, "l", "f");
    ck_assert_int_eq(storage_log_sync(s, "l"), 0);
    storage_close(&s);
    s = open_store();
    assert_log(s, "l", 1, "f");
    storage_close(&s);
    ck_assert_int_eq(file_size("l.log"), 8 + 1);
}
END_TEST

/* Three synced records, then `tail` written raw after them as a crash would leave it. */
static void torn_tail(const void *tail, size_t n)
{
    struct storage *s = open_store();
    append(s, "wal", "first");
    append(s, "wal", "second");
    append(s, "wal", "third");
    ck_assert_int_eq(storage_log_sync(s, "wal"), 0);
    storage_close(&s);
    off_t good = file_size("wal.log");
    append_raw("wal.log", tail, n);
    ck_assert_int_eq(file_size("wal.log"), good + (off_t)n);
    s = open_store();
    assert_log(s, "wal", 3, "first|second|third");
    ck_assert_int_eq(file_size("wal.log"), good); /* the tail is cut on open */
    append(s, "wal", "fourth");
    ck_assert_int_eq(storage_log_sync(s, "wal"), 0);
    storage_close(&s);
    s = open_store();
    assert_log(s, "wal", 4, "first|second|third|fourth");
    storage_close(&s);
}

START_TEST(garbage_after_the_last_record_is_cut_on_open)
{
    torn_tail("garbage!!", 9);
}
END_TEST

START_TEST(a_short_header_is_cut_on_open)
{
    torn_tail("\x05\x00\x00", 3);
}
END_TEST

START_TEST(a_record_cut_short_is_cut_on_open)
{
    /* a header announcing 100 bytes with only 10 written */
    unsigned char rec[8 + 10] = {100, 0, 0, 0, 1, 2, 3, 4, 'p', 'a', 'r', 't', 'i', 'a', 'l', '.', '.', '.'};
    torn_tail(rec, sizeof rec);
}
END_TEST

START_TEST(a_header_announcing_gigabytes_is_cut_on_open)
{
    unsigned char rec[12] = {0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 'x', 'x', 'x', 'x'};
    torn_tail(rec, sizeof rec);
}
END_TEST

START_TEST(a_complete_last_record_with_a_bad_crc_is_cut_on_open)
{
    const char *data = "fifth";
    unsigned crc = storage_crc32(data, 5) ^ 1;
    unsigned char rec[8 + 5] = {5, 0, 0, 0, (unsigned char)crc, (unsigned char)(crc >> 8),
                                (unsigned char)(crc >> 16), (unsigned char)(crc >> 24)};
    memcpy(rec + 8, data, 5);
    torn_tail(rec, sizeof rec);
}
END_TEST

START_TEST(a_corrupt_record_in_the_middle_ends_the_log_there)
{
    struct storage *s = open_store();
    append(s, "wal", "alpha");
    append(s, "wal", "bravo");
    append(s, "wal", "charlie");
    ck_assert_int_eq(storage_log_sync(s, "wal"), 0);
    storage_close(&s);
    /* flip one bit of "bravo": record 2 starts at 8 + 5, its data 8 bytes later */
    char *p = xasprintf("%s/wal.log", dir);
    int fd = open(p, O_RDWR);
    free(p);
    char c;
    ck_assert_int_eq(pread(fd, &c, 1, 8 + 5 + 8 + 2), 1);
    ck_assert_int_eq(c, 'a');
    c ^= 0x20;
    ck_assert_int_eq(pwrite(fd, &c, 1, 8 + 5 + 8 + 2), 1);
    close(fd);
    s = open_store();
    assert_log(s, "wal", 1, "alpha");
    storage_close(&s);
    ck_assert_int_eq(file_size("wal.log"), 8 + 5);
}
END_TEST

START_TEST(crc32_is_the_ieee_checksum)
{
    ck_assert_uint_eq(storage_crc32("123456789", 9), 0xcbf43926u);
    ck_assert_uint_eq(storage_crc32("", 0), 0);
    ck_assert_uint_ne(storage_crc32("a", 1), storage_crc32("b", 1));
}
END_TEST

Suite *suite_storage(void);
Suite *suite_storage(void)
{
    Suite *s = suite_create("storage");
    TCase *tc = tcase_create("blobs");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, blobs_are_replaced_whole);
    tcase_add_test(tc, blobs_hold_binary_and_empty_values);
    tcase_add_test(tc, an_interrupted_replace_keeps_the_old_blob);
    tcase_add_test(tc, names_that_could_escape_the_data_dir_are_refused);
    tcase_add_test(tc, opening_a_path_that_is_not_a_directory_fails_with_a_reason);
    suite_add_tcase(s, tc);
    tc = tcase_create("logs");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, log_records_come_back_in_order_after_a_reopen);
    tcase_add_test(tc, unsynced_records_are_lost_when_the_process_dies);
    tcase_add_test(tc, large_and_binary_records_round_trip);
    tcase_add_test(tc, truncation_keeps_the_first_records_durably);
    tcase_add_test(tc, garbage_after_the_last_record_is_cut_on_open);
    tcase_add_test(tc, a_short_header_is_cut_on_open);
    tcase_add_test(tc, a_record_cut_short_is_cut_on_open);
    tcase_add_test(tc, a_header_announcing_gigabytes_is_cut_on_open);
    tcase_add_test(tc, a_complete_last_record_with_a_bad_crc_is_cut_on_open);
    tcase_add_test(tc, a_corrupt_record_in_the_middle_ends_the_log_there);
    tcase_add_test(tc, crc32_is_the_ieee_checksum);
    suite_add_tcase(s, tc);
    return s;
}
