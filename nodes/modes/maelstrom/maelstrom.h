/* maelstrom — the wire of Maelstrom's node protocol (JSON lines on stdin/stdout), as the
 * maelstrom mode speaks it to the program it hosts. Pure: no I/O here.
 *
 * One line = one message {"src":"n1","dest":"c3","body":{"type":"read_ok","in_reply_to":4,…}}.
 * Maelstrom's own docs: https://github.com/jepsen-io/maelstrom/blob/main/doc/protocol.md
 */
#ifndef CONLAB_MAELSTROM_H
#define CONLAB_MAELSTROM_H

#include <jansson.h>
#include <stddef.h>

#include "util.h"

/* A program's line is refused when longer than this. */
#define MAELSTROM_LINE_MAX (1u << 20)

struct mline {
    char src[CL_IDLEN];     /* "" when the line has none (src is optional from a program) */
    char dest[CL_IDLEN];
    json_t *body;           /* owned: json_decref() it */
};

/* Decodes one line (no newline). Returns 0 with *m filled, or -1 with m zeroed and err saying
 * what is wrong and where ("field \"dest\" is missing"). */
int maelstrom_decode(const char *line, size_t len, struct mline *m, char *err, size_t errlen);
/* Is s a Maelstrom id a node may address: 1-15 of A-Za-z0-9_.- ? */
int maelstrom_valid_id(const char *s);
/* The line (no newline) for a message from src to dest (body borrowed). Caller frees. */
char *maelstrom_encode(const char *src, const char *dest, const json_t *body, size_t *len);

#endif
