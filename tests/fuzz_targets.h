/* fuzz_targets — the bodies of the fuzz targets, shared by the libFuzzer entry points
 * (tests/fuzz_envelope.c, tests/fuzz_cmdline.c, built by `make fuzz`) and by the Check suite
 * that replays tests/corpus/ without a fuzzing engine (tests/check_corpus.c).
 *
 * Each returns NULL when the input was handled correctly — accepted, or refused with a
 * message — and otherwise a static string naming the broken property. Crashes, leaks and
 * out-of-bounds reads are left to the sanitizers. */
#ifndef CONLAB_FUZZ_TARGETS_H
#define CONLAB_FUZZ_TARGETS_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cmdline.h"
#include "envelope.h"
#include "util.h"

/* envelope_decode: an accepted frame re-encodes to one that decodes to the same envelope; a
 * refused frame leaves the output empty and says why. */
static inline const char *fuzz_envelope_one(const uint8_t *data, size_t size)
{
    struct envelope e, e2;
    char err[256] = "";
    if (envelope_decode(data, size, &e, err, sizeof err) < 0) {
        if (!err[0])
            return "refused without a reason";
        if (e.body || e.src[0] || e.dest[0])
            return "refused but left output behind";
        return NULL;
    }
    const char *bad = NULL;
    if (!envelope_valid_id(e.src) || !envelope_valid_id(e.dest) || !envelope_type(&e)[0])
        bad = "accepted an invalid id or an empty type";
    size_t len;
    char *s = envelope_encode(&e, &len);
    if (!bad && len <= ENVELOPE_MAX_BYTES) {
        err[0] = 0;
        if (envelope_decode(s, len, &e2, err, sizeof err) < 0) {
            bad = "its own encoding was refused";
        } else {
            if (strcmp(e.src, e2.src) || strcmp(e.dest, e2.dest) || e.lamport != e2.lamport ||
                e.inc != e2.inc || e.vc_n != e2.vc_n ||
                memcmp(e.vc, e2.vc, sizeof e.vc) || !json_equal(e.body, e2.body))
                bad = "the round trip changed the envelope";
            envelope_clear(&e2);
        }
    }
    free(s);
    envelope_clear(&e);
    return bad;
}

/* cmdline_split + cmdline_words: commands are non-empty, words are bounded and terminated,
 * every refusal says why, and escaping any word gives terminal-safe text. */
static inline const char *fuzz_cmdline_one(const uint8_t *data, size_t size)
{
    char *line = xmalloc(size + 1);
    memcpy(line, data, size);
    line[size] = 0;
    char *cmds[16];
    char err[256] = "";
    const char *bad = NULL;
    int n = cmdline_split(line, cmds, 16, err, sizeof err);
    if (n < 0 && !err[0])
        bad = "split refused without a reason";
    for (int i = 0; i < n; i++) {
        if (!bad && !cmds[i][0])
            bad = "an empty command";
        struct words w;
        err[0] = 0;
        if (cmdline_words(cmds[i], &w, err, sizeof err) < 0) {
            if (!bad && !err[0])
                bad = "words refused without a reason";
        } else {
            if (!bad && (w.argc > CMDLINE_MAX_WORDS || w.argv[w.argc]))
                bad = "words not terminated";
            for (int k = 0; k < w.argc && !bad; k++) {
                struct sb b = {0};
                sb_add_escaped(&b, w.argv[k], strlen(w.argv[k]));
                for (const unsigned char *p = (const unsigned char *)b.s; *p; p++)
                    if (*p < 0x20 || *p == 0x7f)
                        bad = "escaping left a control byte";
                sb_free(&b);
            }
            words_free(&w);
        }
        free(cmds[i]);
    }
    free(line);
    return bad;
}

#endif
