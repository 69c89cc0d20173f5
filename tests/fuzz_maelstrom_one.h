/* fuzz_maelstrom_one — the body of the Maelstrom line decoder's fuzz target, shared by the
 * libFuzzer entry point (tests/fuzz_maelstrom.c, `make fuzz`) and the Check suite that replays
 * tests/corpus/maelstrom/ (tests/check_maelstrom.c). Returns NULL when the input was handled
 * correctly, else the broken property. */
#ifndef CONLAB_FUZZ_MAELSTROM_ONE_H
#define CONLAB_FUZZ_MAELSTROM_ONE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "maelstrom.h"

/* An accepted line re-encodes to one that decodes to the same message; a refused line leaves
 * the output empty and says why. */
static inline const char *fuzz_maelstrom_one(const uint8_t *data, size_t size)
{
    struct mline m, m2;
    char err[256] = "";
    if (maelstrom_decode((const char *)data, size, &m, err, sizeof err) < 0) {
        if (!err[0])
            return "refused without a reason";
        if (m.body || m.src[0] || m.dest[0])
            return "refused but left output behind";
        return NULL;
    }
    const char *bad = NULL;
    if (!m.body || !json_is_object(m.body) || !json_string_value(json_object_get(m.body, "type")))
        bad = "accepted without an object body with a type";
    else if (!maelstrom_valid_id(m.dest) || (m.src[0] && !maelstrom_valid_id(m.src)))
        bad = "accepted an invalid id";
    if (!bad) {
        size_t len;
        char *line = maelstrom_encode(m.src[0] ? m.src : "n1", m.dest, m.body, &len);
        if (!line)
            bad = "an accepted message does not encode";
        else if (memchr(line, '\n', len))
            bad = "an encoded message spans lines";
        else if (maelstrom_decode(line, len, &m2, err, sizeof err) < 0)
            bad = "a re-encoded message is refused";
        else {
            if (strcmp(m.dest, m2.dest) || !json_equal(m.body, m2.body))
                bad = "a re-encoded message decodes differently";
            json_decref(m2.body);
        }
        free(line);
    }
    json_decref(m.body);
    return bad;
}

#endif
