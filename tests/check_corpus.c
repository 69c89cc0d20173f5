/* check_corpus — replays every file of tests/corpus/<target>/ (envelope, cmdline, parse,
 * faults, storage, event, peermsg: seeds and crash reproducers of the fuzz targets) through the same checks as `make fuzz`, so they
 * run on every `make check` without a fuzzing engine. CONLAB_CORPUS overrides the directory
 * (default tests/corpus, relative to the source tree where `make check` runs). */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_targets.h"

static char store_dir[64];

static const char *storage_in_dir(const uint8_t *data, size_t size)
{
    return fuzz_storage_one(data, size, store_dir);
}

static const char *corpus_root(void)
{
    const char *d = getenv("CONLAB_CORPUS");
    return d && *d ? d : "tests/corpus";
}

static int replay(const char *target, const char *(*fn)(const uint8_t *, size_t))
{
    char *path = xasprintf("%s/%s", corpus_root(), target);
    DIR *d = opendir(path);
    ck_assert_msg(d != NULL, "no corpus directory %s (run from the source tree or set CONLAB_CORPUS)", path);
    int files = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char *file = xasprintf("%s/%s", path, e->d_name);
        FILE *f = fopen(file, "rb");
        ck_assert_msg(f != NULL, "cannot read %s", file);
        struct sb b = {0};
        char buf[65536];
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, f)) > 0 && b.len < (8u << 20))
            sb_addn(&b, buf, n);
        fclose(f);
        const char *bad = fn((const uint8_t *)(b.s ? b.s : ""), b.len);
        ck_assert_msg(bad == NULL, "%s: %s", file, bad);
        sb_free(&b);
        free(file);
        files++;
    }
    closedir(d);
    free(path);
    return files;
}

START_TEST(peermsg_corpus_replays_cleanly)
{
    ck_assert_int_ge(replay("peermsg", fuzz_peermsg_one), 5);
}
END_TEST

START_TEST(event_corpus_replays_cleanly)
{
    ck_assert_int_ge(replay("event", fuzz_event_one), 5);
}
END_TEST

START_TEST(envelope_corpus_replays_cleanly)
{
    ck_assert_int_ge(replay("envelope", fuzz_envelope_one), 5);
}
END_TEST

START_TEST(cmdline_corpus_replays_cleanly)
{
    ck_assert_int_ge(replay("cmdline", fuzz_cmdline_one), 5);
}
END_TEST

START_TEST(parse_corpus_replays_cleanly)
{
    ck_assert_int_ge(replay("parse", fuzz_parse_one), 5);
}
END_TEST

START_TEST(faults_corpus_replays_cleanly)
{
    ck_assert_int_ge(replay("faults", fuzz_faults_one), 5);
}
END_TEST

START_TEST(storage_corpus_replays_cleanly)
{
    strcpy(store_dir, "/tmp/conlab-corpus-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(store_dir));
    int n = replay("storage", storage_in_dir);
    rmdir(store_dir);
    ck_assert_int_ge(n, 5);
}
END_TEST

Suite *suite_corpus(void);
Suite *suite_corpus(void)
{
    Suite *s = suite_create("corpus");
    TCase *tc = tcase_create("replay");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, event_corpus_replays_cleanly);
    tcase_add_test(tc, peermsg_corpus_replays_cleanly);
    tcase_add_test(tc, envelope_corpus_replays_cleanly);
    tcase_add_test(tc, cmdline_corpus_replays_cleanly);
    tcase_add_test(tc, parse_corpus_replays_cleanly);
    tcase_add_test(tc, faults_corpus_replays_cleanly);
    tcase_add_test(tc, storage_corpus_replays_cleanly);
    suite_add_tcase(s, tc);
    return s;
}
