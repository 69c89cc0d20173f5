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
#include "test_util.h"

static char store_dir[64];

static const char *storage_in_dir(const uint8_t *data, size_t size)
{
    return fuzz_storage_one(data, size, store_dir);
}

START_TEST(peermsg_corpus_replays_cleanly)
{
    ck_assert_int_ge(test_replay_corpus("peermsg", fuzz_peermsg_one), 5);
}
END_TEST

START_TEST(event_corpus_replays_cleanly)
{
    ck_assert_int_ge(test_replay_corpus("event", fuzz_event_one), 5);
}
END_TEST

START_TEST(envelope_corpus_replays_cleanly)
{
    ck_assert_int_ge(test_replay_corpus("envelope", fuzz_envelope_one), 5);
}
END_TEST

START_TEST(cmdline_corpus_replays_cleanly)
{
    ck_assert_int_ge(test_replay_corpus("cmdline", fuzz_cmdline_one), 5);
}
END_TEST

START_TEST(parse_corpus_replays_cleanly)
{
    ck_assert_int_ge(test_replay_corpus("parse", fuzz_parse_one), 5);
}
END_TEST

START_TEST(faults_corpus_replays_cleanly)
{
    ck_assert_int_ge(test_replay_corpus("faults", fuzz_faults_one), 5);
}
END_TEST

START_TEST(storage_corpus_replays_cleanly)
{
    strcpy(store_dir, "/tmp/conlab-corpus-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(store_dir));
    int n = test_replay_corpus("storage", storage_in_dir);
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
