/* recorder — the history of every client operation through the lab (DESIGN §6,
 * docs/protocol.md §4): invoke then ok / fail / info, as JSON records in order. Owns its
 * records; hands out borrowed pointers valid until the next append or recorder_clear(). */
#ifndef CONLAB_RECORDER_H
#define CONLAB_RECORDER_H

#include <jansson.h>
#include <stdio.h>

#include "util.h"

struct recorder {
    json_t **v;
    size_t n, cap;
    FILE *mirror;               /* when set, every record is also written here as a line */
};

/* Appends a record (steals rec), setting its "index". Returns the borrowed record. */
json_t *recorder_add(struct recorder *r, json_t *rec);
void recorder_clear(struct recorder *r);
/* The whole history as JSONL (caller frees). */
char *recorder_jsonl(const struct recorder *r);
/* Writes it to path; returns 0 or CL_EIO. */
int recorder_save(const struct recorder *r, const char *path);
/* Appends a history value as a user reads it: a string escaped for the terminal (in double
 * quotes when it would read as another value: "42", "true", "[1]"; a plain word bare), nil for
 * null or absent, anything else as compact JSON (escaped): 42, {"a":[1,2]}. */
void recorder_add_value(struct sb *out, const json_t *v);
/* One human line per record: "  0.120s p1 invoke write x 1 @n1". */
void recorder_format(const struct recorder *r, size_t from, struct sb *out);

#endif
