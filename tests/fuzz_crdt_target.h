/* fuzz_crdt_target — the body of the CRDT state decoder's fuzz target (tests/fuzz_crdt.c,
 * built by `make fuzz`), shared with the crdt suite, which replays tests/corpus/crdt/ without
 * a fuzzing engine. Returns NULL when the input was handled correctly — decoded, or refused
 * with a reason — and otherwise a static string naming the broken property. */
#ifndef CONLAB_FUZZ_CRDT_TARGET_H
#define CONLAB_FUZZ_CRDT_TARGET_H

#include <jansson.h>
#include <stdint.h>
#include <string.h>

#include "crdt.h"

static inline const char *fuzz_crdt_one(const uint8_t *data, size_t size)
{
    if (size > (1u << 20))
        return NULL;    /* the envelope refuses frames over 1 MiB before any decoder */
    json_t *j = json_loadb((const char *)data, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    if (!j)
        return NULL;
    const char *bad = NULL;
    char err[300] = "";
    struct crdt *c = crdt_from_json(j, 3, err, sizeof err);
    if (!c) {
        if (!err[0])
            bad = "a state refused without a reason";
    } else {
        /* what the decoder accepts, the encoder writes back to the same state */
        json_t *again = crdt_to_json(c);
        struct crdt *c2 = crdt_from_json(again, 3, err, sizeof err);
        if (!c2)
            bad = "the encoder wrote a state the decoder refuses";
        else if (!crdt_equal(c, c2))
            bad = "a state does not survive encode and decode";
        /* and it is a lattice element: merging it into itself changes nothing */
        if (!bad && c2 && (crdt_merge(c2, c, 0) || !crdt_equal(c, c2)))
            bad = "a decoded state is not idempotent under merge";
        json_t *q = crdt_query(c);
        json_decref(q);
        struct sb d = {0};
        crdt_describe(c, 3, NULL, &d);
        sb_free(&d);
        json_decref(again);
        crdt_free(&c2);
        crdt_free(&c);
    }
    /* the causal-context decoder on the same bytes */
    struct crdt_ctx x;
    err[0] = 0;
    if (crdt_ctx_from_json(j, 3, &x, err, sizeof err) == 0) {
        json_t *back = crdt_ctx_to_json(&x);
        struct crdt_ctx y;
        if (crdt_ctx_from_json(back, 3, &y, err, sizeof err) < 0 || !crdt_ctx_equal(&x, &y))
            bad = bad ? bad : "a causal context does not survive encode and decode";
        else
            crdt_ctx_clear(&y);
        json_decref(back);
        crdt_ctx_clear(&x);
    } else if (!err[0]) {
        bad = bad ? bad : "a causal context refused without a reason";
    }
    json_decref(j);
    return bad;
}

#endif
