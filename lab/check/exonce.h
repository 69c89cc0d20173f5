/* exonce — the exactly-once checker: every event a service produced (`produced`, "id") against
 * what its consumers did with it (`consumed`: "applied" true when a consumer acted on it,
 * "duplicate" when it dropped a copy). Each produced id must be applied exactly once and
 * nothing applied that nobody produced; it names the lost, the twice-applied and the invented.
 *
 * Fed event by event: by the lab (`check exactly-once`, over the running cluster's events) and
 * by `conlab check --exactly-once FILE` (a trace the lab wrote with `trace FILE`, or any file of
 * JSON lines holding such events; other lines that are JSON objects are skipped).
 *
 * Ownership: struct exonce owns its tables; exonce_free releases them.
 */
#ifndef CONLAB_EXONCE_H
#define CONLAB_EXONCE_H

#include <jansson.h>

#include "util.h"

struct exonce {
    json_t *produced;       /* id -> order (or null) */
    json_t *applied;        /* id -> times applied */
    long dups;              /* duplicate deliveries dropped */
};

void exonce_init(struct exonce *x);
void exonce_free(struct exonce *x);
/* Takes one event (borrowed); anything but produced/consumed with a string "id" is ignored. */
void exonce_feed(struct exonce *x, const json_t *ev);
/* The verdict: 0 exactly once (or nothing produced or consumed: said so), 1 not; appends the
 * report to out. */
int exonce_verdict(const struct exonce *x, struct sb *out);
/* Reads FILE ("-": stdin) as JSON lines and judges them: 0, 1, or 2 with errout naming the
 * file and line of the first line that is not JSON. */
int exonce_file(const char *file, struct sb *out, struct sb *errout);

#endif
