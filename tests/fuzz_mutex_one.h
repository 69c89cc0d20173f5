/* fuzz_mutex_one — the body of the mutex record reader's fuzz target, shared by the libFuzzer
 * entry point (tests/fuzz_mutex.c, `make fuzz`) and the Check suite that replays
 * tests/corpus/mutex/ (tests/check_mutex.c). Returns NULL when the input was handled
 * correctly, else the broken property. */
#ifndef CONLAB_FUZZ_MUTEX_ONE_H
#define CONLAB_FUZZ_MUTEX_ONE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mutex.h"

/* An accepted history is judged (a verdict of 0 or 1 with a report); a refused one names its
 * line and leaves nothing behind. */
static inline const char *fuzz_mutex_one(const uint8_t *data, size_t size)
{
    struct mutex_hist *h = NULL;
    char err[400] = "";
    if (mutex_parse((const char *)data, size, &h, err, sizeof err) < 0) {
        if (h)
            return "refused but left a history behind";
        if (strncmp(err, "line ", 5))
            return "refused without naming the line";
        return NULL;
    }
    struct sb out = {0};
    int rc = mutex_check(h, &out);
    const char *bad = NULL;
    if (rc != 0 && rc != 1)
        bad = "the checker returned something else than 0 or 1";
    else if (!out.s || !*out.s)
        bad = "the checker said nothing";
    else if (rc == 1 && !strstr(out.s, "VIOLATED"))
        bad = "a violation without the word VIOLATED";
    sb_free(&out);
    mutex_hist_free(&h);
    return bad;
}

#endif
