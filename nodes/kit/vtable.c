/* vtable — see vtable.h. */
#include "vtable.h"

#include <stdlib.h>
#include <string.h>

struct vitem *vtable_get(const struct vtable *t, const char *key, uint64_t khash)
{
    if (!t->nb)
        return NULL;
    for (struct vitem *it = t->b[khash & (t->nb - 1)]; it; it = it->next)
        if (it->khash == khash && !strcmp(it->key, key))
            return it;
    return NULL;
}

static void grow(struct vtable *t)
{
    size_t nb = t->nb ? t->nb * 2 : 64;
    struct vitem **b = xcalloc(nb, sizeof *b);
    for (size_t i = 0; i < t->nb; i++) {
        struct vitem *it = t->b[i];
        while (it) {
            struct vitem *next = it->next;
            it->next = b[it->khash & (nb - 1)];
            b[it->khash & (nb - 1)] = it;
            it = next;
        }
    }
    free(t->b);
    t->b = b;
    t->nb = nb;
}

void vtable_put(struct vtable *t, struct vitem *it)
{
    if (t->n + 1 > t->nb)
        grow(t);
    size_t i = it->khash & (t->nb - 1);
    it->next = t->b[i];
    t->b[i] = it;
    t->n++;
}

void vtable_unlink(struct vtable *t, struct vitem *it)
{
    if (!t->nb)
        return;
    struct vitem **pp = &t->b[it->khash & (t->nb - 1)];
    while (*pp && *pp != it)
        pp = &(*pp)->next;
    if (*pp) {
        *pp = it->next;
        it->next = NULL;
        t->n--;
    }
}

void vtable_clear(struct vtable *t)
{
    for (size_t i = 0; i < t->nb; i++) {
        struct vitem *it = t->b[i];
        while (it) {
            struct vitem *next = it->next;
            vitem_free(it);
            it = next;
        }
    }
    free(t->b);
    memset(t, 0, sizeof *t);
}

static int key_cmp(const void *a, const void *b)
{
    return strcmp((*(struct vitem *const *)a)->key, (*(struct vitem *const *)b)->key);
}

struct vitem **vtable_sorted(const struct vtable *t)
{
    struct vitem **v = xcalloc(t->n + 1, sizeof *v);
    size_t k = 0;
    VTABLE_FOREACH(t, it)
        v[k++] = it;
    qsort(v, k, sizeof *v, key_cmp);
    return v;
}
