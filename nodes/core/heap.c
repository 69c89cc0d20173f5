/* heap — see heap.h. */
#include "heap.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

static int before(const struct heap_item *a, const struct heap_item *b)
{
    return a->when < b->when || (a->when == b->when && a->seq < b->seq);
}

static void sift_in(struct heap *h, const struct heap_item *it)
{
    if (h->n == h->cap) {
        h->cap = h->cap ? h->cap * 2 : 64;
        h->v = xrealloc(h->v, h->cap * sizeof *h->v);
    }
    size_t i = h->n++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!before(it, &h->v[parent]))
            break;
        h->v[i] = h->v[parent];
        i = parent;
    }
    h->v[i] = *it;
}

uint64_t heap_push(struct heap *h, struct heap_item *it)
{
    it->seq = ++h->next_seq;
    sift_in(h, it);
    return it->seq;
}


int heap_pop(struct heap *h, struct heap_item *out)
{
    if (h->n == 0)
        return 0;
    *out = h->v[0];
    struct heap_item last = h->v[--h->n];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        const struct heap_item *best = &last;
        if (l < h->n && before(&h->v[l], best)) {
            m = l;
            best = &h->v[l];
        }
        if (r < h->n && before(&h->v[r], best))
            m = r;
        if (m == i)
            break;
        h->v[i] = h->v[m];
        i = m;
    }
    if (h->n > 0)
        h->v[i] = last;
    return 1;
}

void heap_retime(struct heap *h, uint64_t now, double factor, int kind)
{
    if (factor <= 0 || h->n == 0)
        return;
    size_t n = h->n;
    struct heap_item *items = xcalloc(n, sizeof *items);
    memcpy(items, h->v, n * sizeof *items);
    h->n = 0;
    for (size_t i = 0; i < n; i++) {
        struct heap_item *it = &items[i];
        if ((kind < 0 || it->kind == kind) && it->when > now) {
            double left = (double)(it->when - now) * factor;
            it->when = now + (left > 9e18 ? (uint64_t)9e18 : (uint64_t)left);
        }
        sift_in(h, it); /* keeps it->seq: ids stay valid for cancellation */
    }
    free(items);
}

void heap_rewhen(struct heap *h, uint64_t (*fn)(const struct heap_item *it, void *ud), void *ud)
{
    if (h->n == 0)
        return;
    size_t n = h->n;
    struct heap_item *items = xcalloc(n, sizeof *items);
    memcpy(items, h->v, n * sizeof *items);
    h->n = 0;
    for (size_t i = 0; i < n; i++) {
        items[i].when = fn(&items[i], ud);
        sift_in(h, &items[i]);
    }
    free(items);
}

const struct heap_item *heap_peek(const struct heap *h)
{
    return h->n ? &h->v[0] : NULL;
}

void heap_free(struct heap *h)
{
    free(h->v);
    memset(h, 0, sizeof *h);
}

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return x;
}

static void idset_put(uint64_t *v, size_t cap, uint64_t id)
{
    size_t i = mix(id) & (cap - 1);
    while (v[i])
        i = (i + 1) & (cap - 1);
    v[i] = id;
}

void idset_add(struct idset *s, uint64_t id)
{
    if (!id)
        return;
    if ((s->n + 1) * 2 > s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        uint64_t *v = xcalloc(cap, sizeof *v);
        for (size_t i = 0; i < s->cap; i++)
            if (s->v[i])
                idset_put(v, cap, s->v[i]);
        free(s->v);
        s->v = v;
        s->cap = cap;
    }
    idset_put(s->v, s->cap, id);
    s->n++;
}

int idset_take(struct idset *s, uint64_t id)
{
    if (!s->n || !id)
        return 0;
    size_t i = mix(id) & (s->cap - 1);
    while (s->v[i]) {
        if (s->v[i] == id) {
            /* backward-shift deletion keeps probe chains intact */
            s->v[i] = 0;
            s->n--;
            size_t j = (i + 1) & (s->cap - 1);
            while (s->v[j]) {
                uint64_t x = s->v[j];
                s->v[j] = 0;
                idset_put(s->v, s->cap, x);
                j = (j + 1) & (s->cap - 1);
            }
            return 1;
        }
        i = (i + 1) & (s->cap - 1);
    }
    return 0;
}

void idset_free(struct idset *s)
{
    free(s->v);
    memset(s, 0, sizeof *s);
}
