/* test_util — helpers shared by the Check suites. */
#ifndef CONLAB_TEST_UTIL_H
#define CONLAB_TEST_UTIL_H

#include <check.h>
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "util.h"

/* Number of simulator seeds for sweeps: small under CONLAB_QUICK (sanitizers, valgrind),
 * larger under CONLAB_FULL (make check-full). */
static inline int test_seeds(int normal)
{
    if (getenv("CONLAB_FULL"))
        return normal * 10;
    if (getenv("CONLAB_QUICK"))
        return normal / 20 > 2 ? normal / 20 : 2;
    return normal;
}

/* Are real-process tests allowed (not under valgrind)? */
static inline int test_procs_allowed(void)
{
    return getenv("CONLAB_NO_PROCS") == NULL;
}

/* Replays every file of the fuzz corpus tests/corpus/TARGET/ (CONLAB_CORPUS overrides the
 * root) through FN, the same check `make fuzz` runs; fails naming the file FN refuses.
 * Returns how many files it read. */
static inline int test_replay_corpus(const char *target, const char *(*fn)(const uint8_t *, size_t))
{
    const char *root = getenv("CONLAB_CORPUS");
    char *path = xasprintf("%s/%s", root && *root ? root : "tests/corpus", target);
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

#endif
