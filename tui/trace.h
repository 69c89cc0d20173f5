/* trace — trace files: JSONL, one event per line, the same objects as the dashboard's event
 * stream (dash.h). `trace FILE` in the lab writes one; `conlab replay FILE` reads it back.
 * To save a whole run the lab can write the events it still holds (trace_save, e.g. from
 * dm_event_at over the dashboard's recording, or its own store) and then append each new
 * event with trace_write as it arrives. */
#ifndef CONLAB_TRACE_H
#define CONLAB_TRACE_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

#include "util.h"

#define TRACE_MAX_LINE (1u << 20) /* a longer line is refused */

struct trace {
    json_t **ev;      /* owned references */
    size_t n;
    size_t bad;       /* lines refused */
};

/* Reads a trace. Bad lines (not JSON, not an object, no "ev", too long) are refused one by
 * one with "FILE:LINE: why" appended to errors (at most 20 such lines, then a count); the rest
 * still load. Returns 0, or CL_EIO when the file cannot be read (reason in errors). */
int trace_load(const char *path, struct trace *out, struct sb *errors);
/* The same from an open stream (not closed); path names it in errors. */
int trace_load_file(FILE *f, const char *path, struct trace *out, struct sb *errors);
void trace_free(struct trace *t);
/* Appends one event as a line (compact JSON). Returns 0 or CL_EIO. */
int trace_write(FILE *f, const json_t *ev);
/* Writes events[0..n) to path (replacing it). Returns 0, or CL_EIO with a reason in err. */
int trace_save(const char *path, json_t *const *events, size_t n, struct sb *err);

#endif
