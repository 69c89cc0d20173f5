/* fuzz_txnhist_one — the body of the transactional history reader's fuzz target, shared by
 * the libFuzzer entry point (tests/fuzz_txnhist.c, `make fuzz`) and the Check suite that
 * replays tests/corpus/txnhist/ (tests/check_txncheck.c). Returns NULL when the input was
 * handled correctly, else the broken property. */
#ifndef CONLAB_FUZZ_TXNHIST_ONE_H
#define CONLAB_FUZZ_TXNHIST_ONE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "txncheck.h"
#include "txnhist.h"

/* An accepted history is judged by both checkers without trouble (each says something); a
 * refused one names the line and leaves nothing behind. */
static inline const char *fuzz_txnhist_one(const uint8_t *data, size_t size)
{
    struct txnhist *h = NULL;
    char err[400] = "";
    if (txnhist_parse((const char *)data, size, &h, err, sizeof err) < 0) {
        if (h)
            return "refused but left a history behind";
        if (!strstr(err, "line "))
            return "refused without naming the line";
        return NULL;
    }
    const char *bad = NULL;
    struct sb out = {0};
    int rc = txncheck_serializable(h, &out);
    if ((rc != 0 && rc != 1) || !out.s || !*out.s)
        bad = "the serializability checker said nothing";
    sb_free(&out);
    rc = txncheck_bank(h, -1, &out);
    if (!bad && (rc != 0 && rc != 1 && rc != CL_EINVAL))
        bad = "the bank checker returned something else";
    if (!bad && (!out.s || !*out.s))
        bad = "the bank checker said nothing";
    sb_free(&out);
    txnhist_free(&h);
    return bad;
}

#endif
