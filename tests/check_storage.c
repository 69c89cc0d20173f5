/* check_storage — a node's disk: blobs are replaced atomically, log records come back in order
 * after a reopen, only synced records survive a close without sync (a crash), truncation is
 * durable, a torn tail left by a crash (the last record, damaged) is cut off on open and
 * reported while the records before it are kept, and damage anywhere else — a record with
 * valid ones after it, any byte of a blob — refuses the open with a message naming the file,
 * the record and its offset, leaving the file as it was. Each test works in its own mkdtemp
 * directory and removes it. */
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
            ck_assert_str_eq(e->d_name, "state.blob");
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
    char *tmp = xasprintf("%s/.state.blob.tmp", dir);
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
    ck_assert_int_eq(file_size("l.log"), STORAGE_HEADER + 1);
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
    ck_assert_int_eq(file_size("wal.log"), good); /* the tail is cut on open, and reported */
    const struct storage_repair *rep;
    ck_assert_int_eq(storage_repairs(s, &rep), 1);
    ck_assert_str_eq(rep[0].file, "wal.log");
    ck_assert_uint_eq(rep[0].offset, (size_t)good);
    ck_assert_uint_eq(rep[0].bytes, n);
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

/* A record as storage.c writes it: header then data. Returns its size. */
static size_t record(unsigned char *out, const char *data, size_t len)
{
    storage_record_header(out, data, len);
    memcpy(out + STORAGE_HEADER, data, len);
    return STORAGE_HEADER + len;
}

START_TEST(a_record_cut_short_is_cut_on_open)
{
    /* a header announcing 100 bytes with only 10 written */
    unsigned char rec[STORAGE_HEADER + 100];
    char data[100];
    memset(data, 'p', sizeof data);
    record(rec, data, sizeof data);
    torn_tail(rec, STORAGE_HEADER + 10);
}
END_TEST

START_TEST(a_header_announcing_gigabytes_is_cut_on_open)
{
    unsigned char rec[STORAGE_HEADER + 4];
    storage_record_header(rec, "xxxx", 4);
    rec[0] = rec[1] = rec[2] = rec[3] = 0xff; /* and a checksum that agrees with it */
    unsigned crc = storage_crc32(rec, 8) ^ 0x636c6231u;
    for (int i = 0; i < 4; i++)
        rec[8 + i] = (unsigned char)(crc >> (8 * i));
    memcpy(rec + STORAGE_HEADER, "xxxx", 4);
    torn_tail(rec, sizeof rec);
}
END_TEST

START_TEST(a_complete_last_record_with_a_bad_crc_is_cut_on_open)
{
    unsigned char rec[STORAGE_HEADER + 5];
    record(rec, "fifth", 5);
    rec[STORAGE_HEADER + 2] ^= 0x01;
    torn_tail(rec, sizeof rec);
}
END_TEST

START_TEST(a_zero_filled_tail_is_cut_on_open)
{
    /* blocks allocated for an append that never reached the disk read back as zeros: a zero
     * header is not a valid (empty) record */
    unsigned char zeros[4096] = {0};
    torn_tail(zeros, sizeof zeros);
}
END_TEST

/* Writes n records "rec-1".."rec-N" to log "wal" and returns the file's bytes and each
 * record's offset (offs[n] = file size). */
static unsigned char *write_records(int n, size_t *offs, size_t *size)
{
    struct storage *s = open_store();
    for (int i = 1; i <= n; i++) {
        char rec[32];
        snprintf(rec, sizeof rec, "rec-%d%s", i, i % 3 ? "" : "-longer");
        append(s, "wal", rec);
    }
    ck_assert_int_eq(storage_log_sync(s, "wal"), 0);
    storage_close(&s);
    char *p = xasprintf("%s/wal.log", dir);
    FILE *f = fopen(p, "rb");
    free(p);
    ck_assert_ptr_nonnull(f);
    unsigned char *bytes = malloc(4096);
    *size = fread(bytes, 1, 4096, f);
    fclose(f);
    size_t off = 0;
    for (int i = 0; i < n; i++) {
        offs[i] = off;
        off += STORAGE_HEADER + ((unsigned)bytes[off] | (unsigned)bytes[off + 1] << 8);
    }
    offs[n] = off;
    ck_assert_uint_eq(off, *size);
    return bytes;
}

static void write_file(const char *name, const unsigned char *bytes, size_t n)
{
    char *p = xasprintf("%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    free(p);
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(bytes, 1, n, f), n);
    fclose(f);
}

START_TEST(a_corrupt_record_in_the_middle_refuses_the_open_naming_file_and_offset)
{
    size_t offs[4], size;
    unsigned char *bytes = write_records(3, offs, &size);
    bytes[offs[1] + STORAGE_HEADER + 2] ^= 0x20; /* one bit of "rec-2" */
    write_file("wal.log", bytes, size);
    char err[512] = "";
    struct storage *s = storage_open(dir, 0, err, sizeof err);
    ck_assert_msg(s == NULL, "a log with a corrupt middle record was opened");
    char want[128];
    snprintf(want, sizeof want, "wal.log: record 2 (at offset %zu) is corrupt and 1 valid record follows it", offs[1]);
    ck_assert_msg(strstr(err, want), "err \"%s\", want \"%s\"", err, want);
    ck_assert_ptr_nonnull(strstr(err, dir));
    ck_assert_int_eq(file_size("wal.log"), (off_t)size); /* nothing was cut */
    free(bytes);
}
END_TEST

/* The corruption fuzzer over one log: for every record k of n and every byte of it, flip the
 * byte: the open is refused (naming record k and its offset, the file untouched) unless k is
 * the last record, which is a torn write: cut, reported, and the records before it kept. */
START_TEST(a_flipped_byte_in_any_record_refuses_the_open_unless_it_is_the_last)
{
    enum { N = 6 };
    size_t offs[N + 1], size;
    unsigned char *bytes = write_records(N, offs, &size);
    int tried = 0;
    for (int k = 0; k < N; k++) {
        for (size_t b = offs[k]; b < offs[k + 1]; b++) {
            for (int bit = 0; bit < 8; bit += 7) {
                bytes[b] ^= (unsigned char)(1u << bit);
                write_file("wal.log", bytes, size);
                bytes[b] ^= (unsigned char)(1u << bit);
                char err[512] = "";
                struct storage *s = storage_open(dir, 0, err, sizeof err);
                tried++;
                if (k < N - 1) {
                    ck_assert_msg(s == NULL, "record %d of %d, byte %zu flipped: the open succeeded", k + 1, N, b - offs[k]);
                    char want[96];
                    snprintf(want, sizeof want, "record %d (at offset %zu)", k + 1, offs[k]);
                    ck_assert_msg(strstr(err, want), "byte %zu: \"%s\" does not name %s", b, err, want);
                    ck_assert_int_eq(file_size("wal.log"), (off_t)size);
                } else {
                    ck_assert_msg(s != NULL, "the last record torn at byte %zu: %s", b - offs[k], err);
                    const struct storage_repair *rep;
                    ck_assert_int_eq(storage_repairs(s, &rep), 1);
                    ck_assert_str_eq(rep[0].file, "wal.log");
                    ck_assert_uint_eq(rep[0].offset, offs[k]);
                    ck_assert_uint_eq(rep[0].bytes, size - offs[k]);
                    long n;
                    char *txt = read_log(s, "wal", &n);
                    ck_assert_int_eq(n, N - 1);
                    free(txt);
                    storage_close(&s);
                    ck_assert_int_eq(file_size("wal.log"), (off_t)offs[k]);
                }
            }
        }
    }
    ck_assert_int_gt(tried, 100);
    free(bytes);
}
END_TEST

START_TEST(a_damaged_blob_refuses_the_open_whatever_byte_is_hit)
{
    struct storage *s = open_store();
    ck_assert_int_eq(storage_blob_put(s, "raft.state", "7 2 0 7\n", 8), 0);
    storage_close(&s);
    char *p = xasprintf("%s/raft.state.blob", dir);
    FILE *f = fopen(p, "rb");
    unsigned char bytes[64];
    size_t size = fread(bytes, 1, sizeof bytes, f);
    fclose(f);
    free(p);
    ck_assert_uint_eq(size, STORAGE_HEADER + 8);
    for (size_t b = 0; b < size; b++) {
        bytes[b] ^= 0x10;
        write_file("raft.state.blob", bytes, size);
        bytes[b] ^= 0x10;
        char err[512] = "";
        s = storage_open(dir, 0, err, sizeof err);
        ck_assert_msg(s == NULL, "byte %zu of the blob flipped: the open succeeded", b);
        ck_assert_msg(strstr(err, "raft.state.blob") && strstr(err, "offset"), "%s", err);
    }
    /* cut short, or grown: refused too */
    write_file("raft.state.blob", bytes, size - 1);
    char err[512];
    ck_assert_ptr_null(storage_open(dir, 0, err, sizeof err));
    unsigned char more[65];
    memcpy(more, bytes, size);
    more[size] = 'x';
    write_file("raft.state.blob", more, size + 1);
    ck_assert_ptr_null(storage_open(dir, 0, err, sizeof err));
    write_file("raft.state.blob", bytes, size);
    s = open_store();
    char *data;
    size_t len;
    ck_assert_int_eq(storage_blob_get(s, "raft.state", &data, &len), 0);
    ck_assert_uint_eq(len, 8);
    free(data);
    storage_close(&s);
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
    tcase_add_test(tc, a_zero_filled_tail_is_cut_on_open);
    tcase_add_test(tc, a_corrupt_record_in_the_middle_refuses_the_open_naming_file_and_offset);
    tcase_add_test(tc, a_flipped_byte_in_any_record_refuses_the_open_unless_it_is_the_last);
    tcase_add_test(tc, a_damaged_blob_refuses_the_open_whatever_byte_is_hit);
    tcase_add_test(tc, crc32_is_the_ieee_checksum);
    suite_add_tcase(s, tc);
    return s;
}
