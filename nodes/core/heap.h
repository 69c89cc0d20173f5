/* heap — a binary min-heap of timed items ordered by (when, seq): the timer heap of the
 * runtime and the event queue of the simulator. Equal times pop in insertion order, so a
 * simulation is deterministic. Cancellation is lazy: the owner keeps ids it cancelled in a
 * struct idset and skips them when they pop. */
#ifndef CONLAB_HEAP_H
#define CONLAB_HEAP_H

#include <stddef.h>
#include <stdint.h>

struct heap_item {
    uint64_t when;      /* due time, µs */
    uint64_t seq;       /* tie-break and id: unique, increasing */
    int kind;           /* owner-defined */
    int node;           /* owner-defined: node index */
    uint64_t a, b;      /* owner-defined payload */
    void *p;            /* owner-defined payload (owned by whoever pops it) */
};

struct heap {
    struct heap_item *v;
    size_t n, cap;
    uint64_t next_seq;
};

/* Pushes a copy of *it, assigning it->seq. Returns the seq. */
uint64_t heap_push(struct heap *h, struct heap_item *it);
/* Pops the earliest item into *out; returns 0 when empty. */
int heap_pop(struct heap *h, struct heap_item *out);
/* The earliest item (borrowed) or NULL. */
const struct heap_item *heap_peek(const struct heap *h);
void heap_free(struct heap *h);
/* Stretches the time left on every item of this kind (kind < 0: every item) by factor:
 * an item due at `when` > now becomes due at now + (when - now) * factor; items already
 * due stay due. Ids and the order of equal times are kept. A speed change uses it so that
 * timers already armed follow the new pace at once. */
void heap_retime(struct heap *h, uint64_t now, double factor, int kind);

/* Gives every item the due time fn returns for it (fn returns it->when to leave it as it is).
 * Ids and the order of equal times are kept. The bandwidth queues use it when a link's
 * bandwidth changes under the frames it holds. */
void heap_rewhen(struct heap *h, uint64_t (*fn)(const struct heap_item *it, void *ud), void *ud);

/* A set of 64-bit ids (open addressing). */
struct idset {
    uint64_t *v;
    size_t n, cap;
};
void idset_add(struct idset *s, uint64_t id);
/* Removes id; returns 1 when it was present. */
int idset_take(struct idset *s, uint64_t id);
void idset_free(struct idset *s);

#endif
