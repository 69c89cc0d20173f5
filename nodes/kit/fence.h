/* fence — the state of a fenced storage service (Kleppmann, "How to do distributed locking",
 * 2016; the course's 8.4): per resource, the highest fencing token a write was accepted with.
 * A lock service hands each holder a token that grows with every grant (the ZooKeeper-like
 * service: the log index of the lock node's creation; redlock: its counter). The storage
 * refuses a write whose token is lower than one it has already accepted for that resource,
 * so a holder that was paused past its lease and wakes up believing it still holds the lock
 * cannot overwrite the work of the holder that came after it.
 *
 *   write(resource, token):  token >= highest[resource]  ->  accepted, highest = token
 *                            token <  highest[resource]  ->  refused (fencing on)
 *                                                        ->  accepted, flagged stale (fencing off)
 *
 * With fencing off the storage accepts every write (the unsafe storage a lesson starts with)
 * but still remembers the highest token, so that it can say which write it would have refused.
 * Equal tokens are accepted: one holder may write several times.
 *
 * Pure (no clock, no I/O): the lab's storage and any mode that hosts a storage (redlock) share
 * it. Users: lab/coord (the storage behind `CLIENT write storage KEY VALUE`), redlock.
 * Ownership: fence_init() zeroes, fence_free() releases every string; values returned are
 * borrowed until the next write or fence_free().
 */
#ifndef CONLAB_FENCE_H
#define CONLAB_FENCE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct fence_res {
    char *name;             /* the resource ("order-7") */
    uint64_t highest;       /* the highest token a write was accepted with */
    char *value;            /* the value of the last accepted write, NULL before any */
    char *by;               /* who wrote it ("c2"), NULL before any */
    uint64_t writes, refused, stale_accepted;
};

struct fence {
    int on;                 /* fencing on: refuse lower tokens */
    struct fence_res *r;
    size_t n, cap;
};

/* The outcome of one write. */
enum fence_outcome {
    FENCE_ACCEPTED = 0,     /* token >= highest: accepted */
    FENCE_REFUSED = 1,      /* token < highest, fencing on: refused, nothing changed */
    FENCE_STALE_ACCEPTED = 2, /* token < highest, fencing off: accepted all the same */
};

void fence_init(struct fence *f, int on);
void fence_free(struct fence *f);
/* Decides and applies a write of value by `by` carrying token. *highest_before (may be NULL)
 * receives the highest token accepted for resource before this write (0 when none). Copies
 * the strings it keeps. Refuses resource NULL or empty as FENCE_REFUSED. */
enum fence_outcome fence_write(struct fence *f, const char *resource, uint64_t token, const char *value,
                               const char *by, uint64_t *highest_before);
/* The resource's state, or NULL when nothing was ever written to it (borrowed). */
const struct fence_res *fence_get(const struct fence *f, const char *resource);
/* "accepted" / "refused" / "accepted (stale token)". */
const char *fence_outcome_name(enum fence_outcome o);
/* The whole state as JSON {"fencing":true,"resources":{"order-7":{"highest":35,"value":"paid",
 * "by":"c2","writes":2,"refused":1,"stale_accepted":0},…}}. Caller frees. */
json_t *fence_json(const struct fence *f);

#endif
