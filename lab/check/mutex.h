/* mutex — `check mutex`: did a lock keep its promise? Judged on the run's `mutex` records
 * (docs/checkers.md, "Lock records"), one JSON object a line, the lab's own events:
 *
 *   {"t":1200000,"ev":"mutex","op":"acquire","client":"c1","lock":"orders","token":34}
 *   {"t":7600000,"ev":"mutex","op":"release","client":"c1","lock":"orders","token":34,"why":"expired"}
 *   {"t":7500000,"ev":"mutex","op":"write","client":"c1","lock":"orders","token":34,
 *    "resource":"order-7","value":"paid","accepted":true,"fencing":false}
 *
 * t is microseconds on one clock for every record (the lab's: since the cluster started).
 * A critical section runs from a client's acquire to its release of the same lock (unlock,
 * expiry noticed, crash, ...), or to the end of the history when it never ended.
 *
 * The verdict, per lock:
 *   - no two holders' critical sections overlap in real time, unless the storage was fenced
 *     (its write records say "fencing":true): then an overlap is reported as fenced, and
 *   - no write is accepted with a stale token: lower than a token the storage had already
 *     accepted for the same resource (fenced or not).
 *
 * A `fault` event with what crash, stonith or exit of node N ends the sections whose acquire
 * record came from node N (clients hosted in a node: redlock's), at the fault's time.
 * Lines whose "ev" is not "mutex" (nor such a fault) are skipped, so a whole trace file (`trace FILE`) can be
 * judged; a malformed line is refused with "line L: what". Ownership: mutex_hist_free frees.
 */
#ifndef CONLAB_MUTEX_H
#define CONLAB_MUTEX_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define MUTEX_MAX_RECORDS 1000000

/* MX_DOWN: a node went down (a `fault` event crash, stonith or exit): the sections that
 * clients hosted in that node opened (their acquire record came from it) end there. */
enum mutex_op { MX_ACQUIRE, MX_RELEASE, MX_WRITE, MX_DOWN };

struct mutex_rec {
    enum mutex_op op;
    int64_t t;              /* µs */
    char *client, *lock;
    uint64_t token;         /* 0 when the record has none (a write without a lock) */
    char *why;              /* release */
    char *resource, *value; /* write */
    int accepted, fencing;  /* write */
    char *node;             /* the node that emitted the record (its "node"), NULL when none */
    int line;               /* 1-based line of the file, or the record's position */
};

struct mutex_hist {
    struct mutex_rec *r;
    size_t n, cap;
};

struct mutex_hist *mutex_hist_new(void);
void mutex_hist_free(struct mutex_hist **h);
/* Adds one record from a JSON object in the form above (borrowed). Returns 1 when added, 0
 * when it is not a mutex record (its "ev" is something else: skipped), or CL_EINVAL with
 * what is wrong in err ("op must be acquire, release or write"). */
int mutex_hist_add(struct mutex_hist *h, const json_t *rec, int line, char *err, size_t errlen);
/* Parses JSONL. Returns 0 and *out (caller frees), or CL_EINVAL with "line L: what" in err
 * and *out NULL. Empty lines are skipped. */
int mutex_parse(const char *buf, size_t len, struct mutex_hist **out, char *err, size_t errlen);
/* Judges h; appends the report (a verdict line, then one line per finding) to out. Returns 0
 * holds, 1 violated. */
int mutex_check(const struct mutex_hist *h, struct sb *out);
/* `conlab check --mutex FILE` ("-" = stdin): exit status 0, 1, or 2 (unreadable). */
int mutex_cli(const char *path, struct sb *out, struct sb *errout);

#endif
