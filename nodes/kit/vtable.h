/* vtable — a string-keyed hash table of versioned items (vitem.h), chained, doubling as it
 * grows. The table owns its items: vtable_put() takes one, vtable_clear() frees them all,
 * vtable_unlink() hands one back. Lookups need the key's hash (vitem.khash = hash_str(key)).
 *
 * Users: leaderless (its data and one hint store per owner). Zero-initialise to start.
 */
#ifndef CONLAB_VTABLE_H
#define CONLAB_VTABLE_H

#include <stddef.h>

#include "vitem.h"

struct vtable {
    struct vitem **b;
    size_t nb, n;            /* buckets (a power of two, or 0), items */
};

/* The item for key, or NULL (borrowed). */
struct vitem *vtable_get(const struct vtable *t, const char *key, uint64_t khash);
/* Adds it (the table takes it; its key must not be there yet). */
void vtable_put(struct vtable *t, struct vitem *it);
/* Removes it from the table without freeing it. */
void vtable_unlink(struct vtable *t, struct vitem *it);
/* Frees every item and the buckets; the table is empty again. */
void vtable_clear(struct vtable *t);
/* Every item in key order, NULL-terminated (caller frees the array, not the items). */
struct vitem **vtable_sorted(const struct vtable *t);

/* for each item (it may be unlinked and freed inside the loop) */
#define VTABLE_FOREACH(t, it)                                                               \
    for (size_t vt_i_ = 0; vt_i_ < (t)->nb; vt_i_++)                                       \
        for (struct vitem *it = (t)->b[vt_i_], *it##_next_ = it ? it->next : NULL; it;     \
             it = it##_next_, it##_next_ = it ? it->next : NULL)

#endif
