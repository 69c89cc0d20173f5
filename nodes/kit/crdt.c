/* crdt — see crdt.h. One section per type family: counters, grow-only string sets (G-Set and
 * the two halves of a 2P-Set), dotted entries (OR-Set and cart), registers (LWW and MV), then
 * the wire form and the descriptions. */
#include "crdt.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const type_names[CRDT_NTYPES] = {"gcounter", "pncounter", "gset", "2pset",
                                                    "orset", "lww", "mv", "cart"};

const char *crdt_type_name(enum crdt_type t)
{
    return t >= 0 && t < CRDT_NTYPES ? type_names[t] : "?";
}

int crdt_type_of(const char *name)
{
    for (int i = 0; name && i < CRDT_NTYPES; i++)
        if (!strcmp(name, type_names[i]))
            return i;
    return -1;
}

const char *crdt_type_names(void)
{
    return "gcounter|pncounter|gset|2pset|orset|lww|mv|cart";
}

static void errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void errf(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* ---- string sets ------------------------------------------------------------------------ */

static int strs_find(const struct crdt_strs *s, const char *x, size_t *at)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(s->v[mid], x);
        if (!c) {
            if (at)
                *at = mid;
            return 1;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (at)
        *at = lo;
    return 0;
}

static int strs_add(struct crdt_strs *s, const char *x)
{
    size_t at;
    if (strs_find(s, x, &at))
        return 0;
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 8;
        s->v = xrealloc(s->v, s->cap * sizeof *s->v);
    }
    if (s->n > at)
        memmove(s->v + at + 1, s->v + at, (s->n - at) * sizeof *s->v);
    s->v[at] = xstrdup(x);
    s->n++;
    return 1;
}

static void strs_clear(struct crdt_strs *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    memset(s, 0, sizeof *s);
}

/* dst ∪= src by a sorted merge; returns 1 when dst grew. */
static int strs_merge(struct crdt_strs *dst, const struct crdt_strs *src)
{
    if (!src->n)
        return 0;
    char **out = xmalloc((dst->n + src->n) * sizeof *out);
    size_t i = 0, j = 0, k = 0;
    int grew = 0;
    while (i < dst->n || j < src->n) {
        int c = i == dst->n ? 1 : j == src->n ? -1 : strcmp(dst->v[i], src->v[j]);
        if (c < 0) {
            out[k++] = dst->v[i++];
        } else if (c > 0) {
            out[k++] = xstrdup(src->v[j++]);
            grew = 1;
        } else {
            out[k++] = dst->v[i++];
            j++;
        }
    }
    free(dst->v);
    dst->v = out;
    dst->n = dst->cap = k;
    return grew;
}

static int strs_equal(const struct crdt_strs *a, const struct crdt_strs *b)
{
    if (a->n != b->n)
        return 0;
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->v[i], b->v[i]))
            return 0;
    return 1;
}

/* ---- dots and dotted entries ------------------------------------------------------------ */

static int dot_cmp(const struct crdt_dot *a, const struct crdt_dot *b)
{
    if (a->node != b->node)
        return a->node < b->node ? -1 : 1;
    return a->ctr < b->ctr ? -1 : a->ctr > b->ctr;
}

static int dot_cmp_q(const void *a, const void *b)
{
    return dot_cmp(a, b);
}

static int dentry_cmp(const struct crdt_dentry *a, const struct crdt_dentry *b)
{
    int c = strcmp(a->elem, b->elem);
    if (c)
        return c;
    c = dot_cmp(&a->dot, &b->dot);
    if (c)
        return c;
    return a->amount < b->amount ? -1 : a->amount > b->amount;
}

static int dentry_cmp_q(const void *a, const void *b)
{
    return dentry_cmp(a, b);
}

static int removed(const struct crdt *c, const struct crdt_dot *d)
{
    return c->nd && bsearch(d, c->d, c->nd, sizeof *c->d, dot_cmp_q) != NULL;
}

static void dots_push(struct crdt *c, struct crdt_dot d)
{
    if (c->nd == c->capd) {
        c->capd = c->capd ? 2 * c->capd : 8;
        c->d = xrealloc(c->d, c->capd * sizeof *c->d);
    }
    c->d[c->nd++] = d;
}

static void entries_push(struct crdt *c, const char *elem, struct crdt_dot d, int64_t amount, int copy)
{
    if (c->ne == c->cape) {
        c->cape = c->cape ? 2 * c->cape : 8;
        c->e = xrealloc(c->e, c->cape * sizeof *c->e);
    }
    c->e[c->ne++] = (struct crdt_dentry){copy ? xstrdup(elem) : (char *)elem, d, amount};
}

/* Sorts and deduplicates the removed dots and entries, then drops the entries whose dot was
 * removed: the normal form every state is kept in. */
static void dotted_normalize(struct crdt *c)
{
    if (c->nd > 1) {
        qsort(c->d, c->nd, sizeof *c->d, dot_cmp_q);
        size_t k = 1;
        for (size_t i = 1; i < c->nd; i++)
            if (dot_cmp(&c->d[i], &c->d[k - 1]))
                c->d[k++] = c->d[i];
        c->nd = k;
    }
    if (c->ne > 1)
        qsort(c->e, c->ne, sizeof *c->e, dentry_cmp_q);
    size_t k = 0;
    for (size_t i = 0; i < c->ne; i++) {
        if ((k && !dentry_cmp(&c->e[i], &c->e[k - 1])) || removed(c, &c->e[i].dot))
            free(c->e[i].elem);
        else
            c->e[k++] = c->e[i];
    }
    c->ne = k;
}

/* dst ⊔= src for dotted states: removed dots united, entries united minus the removed. */
static int dotted_merge(struct crdt *dst, const struct crdt *src)
{
    size_t nd0 = dst->nd, ne0 = dst->ne;
    /* removed dots: sorted union */
    if (src->nd) {
        struct crdt_dot *out = xmalloc((dst->nd + src->nd) * sizeof *out);
        size_t i = 0, j = 0, k = 0;
        while (i < dst->nd || j < src->nd) {
            int c = i == dst->nd ? 1 : j == src->nd ? -1 : dot_cmp(&dst->d[i], &src->d[j]);
            if (c <= 0) {
                out[k++] = dst->d[i++];
                j += !c;
            } else {
                out[k++] = src->d[j++];
            }
        }
        free(dst->d);
        dst->d = out;
        dst->nd = dst->capd = k;
    }
    /* entries: sorted union, without the removed ones */
    struct crdt_dentry *out = xmalloc((dst->ne + src->ne + 1) * sizeof *out);
    size_t i = 0, j = 0, k = 0;
    while (i < dst->ne || j < src->ne) {
        int c = i == dst->ne ? 1 : j == src->ne ? -1 : dentry_cmp(&dst->e[i], &src->e[j]);
        struct crdt_dentry x;
        int own;
        if (c <= 0) {
            x = dst->e[i++];
            own = 1;
            j += !c;
        } else {
            x = src->e[j++];
            own = 0;
        }
        if (removed(dst, &x.dot)) {
            if (own)
                free(x.elem);
            continue;
        }
        if (!own)
            x.elem = xstrdup(x.elem);
        out[k++] = x;
    }
    free(dst->e);
    dst->e = out;
    dst->ne = k;
    dst->cape = dst->ne + src->ne + 1;
    /* no new removed dot: entries only grew; else something changed when either grew */
    return dst->nd != nd0 || dst->ne != ne0;
}

static int dotted_equal(const struct crdt *a, const struct crdt *b)
{
    if (a->nd != b->nd || a->ne != b->ne)
        return 0;
    for (size_t i = 0; i < a->nd; i++)
        if (dot_cmp(&a->d[i], &b->d[i]))
            return 0;
    for (size_t i = 0; i < a->ne; i++)
        if (dentry_cmp(&a->e[i], &b->e[i]))
            return 0;
    return 1;
}

/* ---- MV-register entries ------------------------------------------------------------------ */

static int mv_cmp(const struct crdt_mventry *a, const struct crdt_mventry *b)
{
    int c = strcmp(a->value, b->value);
    if (c)
        return c;
    return memcmp(a->vv.c, b->vv.c, sizeof a->vv.c);
}

static int mv_cmp_q(const void *a, const void *b)
{
    return mv_cmp(a, b);
}

static void mv_push(struct crdt *c, const char *value, const struct vv *vv)
{
    if (c->nmv == c->capmv) {
        c->capmv = c->capmv ? 2 * c->capmv : 4;
        c->mv = xrealloc(c->mv, c->capmv * sizeof *c->mv);
    }
    c->mv[c->nmv].value = xstrdup(value);
    c->mv[c->nmv].vv = *vv;
    c->nmv++;
}

/* Keeps the maximal entries (no other entry's vector is strictly after), sorted, distinct. */
static void mv_normalize(struct crdt *c)
{
    size_t k = 0;
    for (size_t i = 0; i < c->nmv; i++) {
        int drop = 0;
        for (size_t j = 0; j < c->nmv && !drop; j++)
            drop = j != i && vv_compare(&c->mv[i].vv, &c->mv[j].vv) == VV_BEFORE;
        if (drop)
            free(c->mv[i].value);
        else
            c->mv[k++] = c->mv[i];
    }
    c->nmv = k;
    if (c->nmv > 1)
        qsort(c->mv, c->nmv, sizeof *c->mv, mv_cmp_q);
    k = 0;
    for (size_t i = 0; i < c->nmv; i++) {
        if (k && !mv_cmp(&c->mv[i], &c->mv[k - 1]))
            free(c->mv[i].value);
        else
            c->mv[k++] = c->mv[i];
    }
    c->nmv = k;
}

static int mv_equal(const struct crdt *a, const struct crdt *b)
{
    if (a->nmv != b->nmv)
        return 0;
    for (size_t i = 0; i < a->nmv; i++)
        if (mv_cmp(&a->mv[i], &b->mv[i]))
            return 0;
    return 1;
}

/* ---- life cycle, merge, order ------------------------------------------------------------ */

struct crdt *crdt_new(enum crdt_type t)
{
    struct crdt *c = xcalloc(1, sizeof *c);
    c->type = t;
    return c;
}

void crdt_free(struct crdt **pc)
{
    struct crdt *c = pc ? *pc : NULL;
    if (!c)
        return;
    strs_clear(&c->a);
    strs_clear(&c->r);
    for (size_t i = 0; i < c->ne; i++)
        free(c->e[i].elem);
    free(c->e);
    free(c->d);
    free(c->value);
    for (size_t i = 0; i < c->nmv; i++)
        free(c->mv[i].value);
    free(c->mv);
    free(c);
    *pc = NULL;
}

struct crdt *crdt_copy(const struct crdt *c)
{
    struct crdt *x = crdt_new(c->type);
    crdt_merge(x, c, 0);
    return x;
}

/* The LWW order: (ts, node, value); an unset register is below everything. */
static int lww_cmp(uint64_t ts1, int n1, const char *v1, uint64_t ts2, int n2, const char *v2)
{
    if (!v1 || !v2)
        return (v1 != NULL) - (v2 != NULL);
    if (ts1 != ts2)
        return ts1 < ts2 ? -1 : 1;
    if (n1 != n2)
        return n1 < n2 ? -1 : 1;
    return strcmp(v1, v2);
}

static void clear_payload(struct crdt *c)
{
    enum crdt_type t = c->type;
    struct crdt tmp = *c;
    struct crdt *p = &tmp;
    /* free everything but keep the struct */
    strs_clear(&p->a);
    strs_clear(&p->r);
    for (size_t i = 0; i < p->ne; i++)
        free(p->e[i].elem);
    free(p->e);
    free(p->d);
    free(p->value);
    for (size_t i = 0; i < p->nmv; i++)
        free(p->mv[i].value);
    free(p->mv);
    memset(c, 0, sizeof *c);
    c->type = t;
}

int crdt_merge(struct crdt *dst, const struct crdt *src, int bug_sum)
{
    if (src->type != dst->type) {
        /* a key created with two types: the higher type's state wins (see crdt.h) */
        if (src->type < dst->type)
            return 0;
        clear_payload(dst);
        dst->type = src->type;
    }
    int changed = 0;
    switch (dst->type) {
    case CRDT_GCOUNTER:
    case CRDT_PNCOUNTER:
        for (int i = 0; i < CL_MAXN; i++) {
            if (bug_sum) {
                /* bug=merge-sum: adding is not idempotent — a state merged twice counts twice */
                changed |= src->p[i] || src->n[i];
                dst->p[i] = dst->p[i] + src->p[i] > CRDT_MAX_COUNT ? CRDT_MAX_COUNT : dst->p[i] + src->p[i];
                dst->n[i] = dst->n[i] + src->n[i] > CRDT_MAX_COUNT ? CRDT_MAX_COUNT : dst->n[i] + src->n[i];
                continue;
            }
            if (src->p[i] > dst->p[i]) {
                dst->p[i] = src->p[i];
                changed = 1;
            }
            if (src->n[i] > dst->n[i]) {
                dst->n[i] = src->n[i];
                changed = 1;
            }
        }
        break;
    case CRDT_GSET:
        changed = strs_merge(&dst->a, &src->a);
        break;
    case CRDT_2PSET:
        changed = strs_merge(&dst->a, &src->a);
        changed |= strs_merge(&dst->r, &src->r);
        break;
    case CRDT_ORSET:
    case CRDT_CART:
        changed = dotted_merge(dst, src);
        break;
    case CRDT_LWW:
        if (lww_cmp(src->ts, src->node, src->value, dst->ts, dst->node, dst->value) > 0) {
            free(dst->value);
            dst->value = xstrdup(src->value);
            dst->ts = src->ts;
            dst->node = src->node;
            changed = 1;
        }
        break;
    case CRDT_MV:
        /* src is already included when each of its entries is below or equal to one here */
        for (size_t i = 0; i < src->nmv && !changed; i++) {
            int covered = 0;
            for (size_t j = 0; j < dst->nmv && !covered; j++) {
                enum vv_order o = vv_compare(&src->mv[i].vv, &dst->mv[j].vv);
                covered = o == VV_BEFORE || (o == VV_EQUAL && !strcmp(src->mv[i].value, dst->mv[j].value));
            }
            changed = !covered;
        }
        if (changed) {
            for (size_t i = 0; i < src->nmv; i++)
                mv_push(dst, src->mv[i].value, &src->mv[i].vv);
            mv_normalize(dst);
        }
        break;
    case CRDT_NTYPES:
        break;
    }
    return changed;
}

int crdt_equal(const struct crdt *a, const struct crdt *b)
{
    if (a->type != b->type)
        return 0;
    switch (a->type) {
    case CRDT_GCOUNTER:
    case CRDT_PNCOUNTER:
        return !memcmp(a->p, b->p, sizeof a->p) && !memcmp(a->n, b->n, sizeof a->n);
    case CRDT_GSET:
        return strs_equal(&a->a, &b->a);
    case CRDT_2PSET:
        return strs_equal(&a->a, &b->a) && strs_equal(&a->r, &b->r);
    case CRDT_ORSET:
    case CRDT_CART:
        return dotted_equal(a, b);
    case CRDT_LWW:
        return !lww_cmp(a->ts, a->node, a->value, b->ts, b->node, b->value) && !a->value == !b->value;
    case CRDT_MV:
        return mv_equal(a, b);
    case CRDT_NTYPES:
        break;
    }
    return 1;
}

int crdt_leq(const struct crdt *a, const struct crdt *b)
{
    struct crdt *x = crdt_copy(b);
    int changed = crdt_merge(x, a, 0);
    int eq = crdt_equal(x, b);
    crdt_free(&x);
    return !changed && eq;
}

/* ---- updates ------------------------------------------------------------------------------- */

static int check_elem(const char *elem, const char *what, char *err, size_t errlen)
{
    if (!elem) {
        errf(err, errlen, "a %s is needed", what);
        return -1;
    }
    size_t n = strlen(elem);
    if (n == 0 || n > CRDT_MAX_ELEM) {
        errf(err, errlen, "a %s has 1 to %d bytes, got %zu", what, CRDT_MAX_ELEM, n);
        return -1;
    }
    return 0;
}

static int check_node(int node, char *err, size_t errlen)
{
    if (node < 0 || node >= CL_MAXN) {
        errf(err, errlen, "node index %d out of range", node);
        return -1;
    }
    return 0;
}

struct crdt *crdt_add(struct crdt *c, int node, int64_t n, char *err, size_t errlen)
{
    if (check_node(node, err, errlen) < 0)
        return NULL;
    if (c->type != CRDT_GCOUNTER && c->type != CRDT_PNCOUNTER) {
        errf(err, errlen, "a %s is not a counter", crdt_type_name(c->type));
        return NULL;
    }
    if (n == 0 || n > CRDT_MAX_AMOUNT || n < -CRDT_MAX_AMOUNT) {
        errf(err, errlen, "an increment is a whole number from 1 to %" PRId64 " (or its negative), got %" PRId64,
             CRDT_MAX_AMOUNT, n);
        return NULL;
    }
    if (n < 0 && c->type == CRDT_GCOUNTER) {
        errf(err, errlen, "a gcounter only grows: it cannot take %" PRId64 " (a pncounter can)", n);
        return NULL;
    }
    uint64_t *comp = n > 0 ? &c->p[node] : &c->n[node];
    uint64_t by = n > 0 ? (uint64_t)n : (uint64_t)-n;
    if (*comp + by > CRDT_MAX_COUNT) {
        errf(err, errlen, "the counter's component would pass %" PRIu64, CRDT_MAX_COUNT);
        return NULL;
    }
    *comp += by;
    struct crdt *d = crdt_new(c->type);
    d->p[node] = c->p[node];
    d->n[node] = c->n[node];
    return d;
}

struct crdt *crdt_insert(struct crdt *c, const char *elem, struct crdt_dot dot, int64_t amount, char *err,
                         size_t errlen)
{
    if (check_elem(elem, c->type == CRDT_CART ? "item" : "element", err, errlen) < 0)
        return NULL;
    struct crdt *d = crdt_new(c->type);
    switch (c->type) {
    case CRDT_GSET:
    case CRDT_2PSET:
        strs_add(&c->a, elem);
        strs_add(&d->a, elem);
        return d;
    case CRDT_ORSET:
    case CRDT_CART:
        if (check_node(dot.node, err, errlen) < 0)
            break;
        if (dot.ctr == 0 || dot.ctr > CRDT_MAX_COUNT) {
            errf(err, errlen, "a dot's counter runs from 1 to %" PRIu64, CRDT_MAX_COUNT);
            break;
        }
        if (c->type == CRDT_ORSET)
            amount = 1;
        if (amount == 0 || amount > CRDT_MAX_AMOUNT || amount < -CRDT_MAX_AMOUNT) {
            errf(err, errlen, "an amount is a whole number from 1 to %" PRId64 " (or its negative), got %" PRId64,
                 CRDT_MAX_AMOUNT, amount);
            break;
        }
        entries_push(d, elem, dot, amount, 1);
        crdt_merge(c, d, 0);
        return d;
    default:
        errf(err, errlen, "a %s has no elements to add", crdt_type_name(c->type));
        break;
    }
    crdt_free(&d);
    return NULL;
}

struct crdt_dot *crdt_dots_of(const struct crdt *c, const char *elem, size_t *n)
{
    struct crdt_dot *out = xmalloc((c->ne + 1) * sizeof *out);
    size_t k = 0;
    for (size_t i = 0; i < c->ne; i++)
        if (!strcmp(c->e[i].elem, elem))
            out[k++] = c->e[i].dot;
    *n = k;
    return out;
}

struct crdt *crdt_remove(struct crdt *c, const char *elem, size_t *nremoved, char *err, size_t errlen)
{
    if (check_elem(elem, c->type == CRDT_CART ? "item" : "element", err, errlen) < 0)
        return NULL;
    if (nremoved)
        *nremoved = 0;
    struct crdt *d = crdt_new(c->type);
    switch (c->type) {
    case CRDT_2PSET:
        if (!strs_find(&c->a, elem, NULL) || strs_find(&c->r, elem, NULL)) {
            errf(err, errlen, "a 2pset removes only an element it holds (%s)",
                 strs_find(&c->r, elem, NULL) ? "this one was removed already, for ever" : "this one was never added here");
            break;
        }
        strs_add(&c->r, elem);
        strs_add(&d->r, elem);
        if (nremoved)
            *nremoved = 1;
        return d;
    case CRDT_ORSET:
    case CRDT_CART: {
        size_t n;
        struct crdt_dot *dots = crdt_dots_of(c, elem, &n);
        for (size_t i = 0; i < n; i++)
            dots_push(d, dots[i]);
        free(dots);
        dotted_normalize(d);
        crdt_merge(c, d, 0);
        if (nremoved)
            *nremoved = n;
        return d;
    }
    default:
        errf(err, errlen, "a %s has no remove", crdt_type_name(c->type));
        break;
    }
    crdt_free(&d);
    return NULL;
}

size_t crdt_remove_dots(struct crdt *c, const char *elem, const struct crdt_dot *dots, size_t n)
{
    if (c->type != CRDT_ORSET && c->type != CRDT_CART)
        return 0;
    size_t k = 0, gone = 0;
    for (size_t i = 0; i < c->ne; i++) {
        int hit = 0;
        for (size_t j = 0; j < n && !hit; j++)
            hit = !strcmp(c->e[i].elem, elem) && !dot_cmp(&c->e[i].dot, &dots[j]);
        if (hit) {
            free(c->e[i].elem);
            gone++;
        } else {
            c->e[k++] = c->e[i];
        }
    }
    c->ne = k;
    return gone;
}

struct crdt *crdt_assign(struct crdt *c, const char *value, int node, uint64_t ts_or_ctr, char *err,
                         size_t errlen)
{
    if (check_elem(value, "value", err, errlen) < 0 || check_node(node, err, errlen) < 0)
        return NULL;
    if (ts_or_ctr > CRDT_MAX_COUNT) {
        errf(err, errlen, "a timestamp or counter above %" PRIu64, CRDT_MAX_COUNT);
        return NULL;
    }
    struct crdt *d = crdt_new(c->type);
    if (c->type == CRDT_LWW) {
        d->value = xstrdup(value);
        d->ts = ts_or_ctr;
        d->node = node;
        crdt_merge(c, d, 0);
        return d;
    }
    if (c->type == CRDT_MV) {
        struct vv v = {{0}};
        for (size_t i = 0; i < c->nmv; i++)
            vv_merge(&v, &c->mv[i].vv);
        v.c[node] = v.c[node] + 1 > ts_or_ctr ? v.c[node] + 1 : ts_or_ctr;
        mv_push(d, value, &v);
        crdt_merge(c, d, 0);
        return d;
    }
    errf(err, errlen, "a %s is not a register", crdt_type_name(c->type));
    crdt_free(&d);
    return NULL;
}

/* ---- queries -------------------------------------------------------------------------------- */

static json_t *strs_json(const struct crdt_strs *s)
{
    json_t *a = json_array();
    for (size_t i = 0; i < s->n; i++)
        json_array_append_new(a, json_string(s->v[i]));
    return a;
}

json_t *crdt_query(const struct crdt *c)
{
    switch (c->type) {
    case CRDT_GCOUNTER:
    case CRDT_PNCOUNTER: {
        int64_t v = 0;
        for (int i = 0; i < CL_MAXN; i++)
            v += (int64_t)c->p[i] - (int64_t)c->n[i];
        return json_integer(v);
    }
    case CRDT_GSET:
        return strs_json(&c->a);
    case CRDT_2PSET: {
        json_t *a = json_array();
        for (size_t i = 0; i < c->a.n; i++)
            if (!strs_find(&c->r, c->a.v[i], NULL))
                json_array_append_new(a, json_string(c->a.v[i]));
        return a;
    }
    case CRDT_ORSET: {
        json_t *a = json_array();
        for (size_t i = 0; i < c->ne; i++)
            if (!i || strcmp(c->e[i].elem, c->e[i - 1].elem))
                json_array_append_new(a, json_string(c->e[i].elem));
        return a;
    }
    case CRDT_CART: {
        json_t *o = json_object();
        for (size_t i = 0; i < c->ne;) {
            int64_t q = 0;
            size_t j = i;
            for (; j < c->ne && !strcmp(c->e[j].elem, c->e[i].elem); j++)
                q += c->e[j].amount;
            json_object_set_new(o, c->e[i].elem, json_integer(q));
            i = j;
        }
        return o;
    }
    case CRDT_LWW:
        return c->value ? json_string(c->value) : json_null();
    case CRDT_MV: {
        if (c->nmv == 0)
            return json_null();
        if (c->nmv == 1)
            return json_string(c->mv[0].value);
        json_t *a = json_array();
        for (size_t i = 0; i < c->nmv; i++)
            if (!i || strcmp(c->mv[i].value, c->mv[i - 1].value))
                json_array_append_new(a, json_string(c->mv[i].value));
        return a;
    }
    case CRDT_NTYPES:
        break;
    }
    return json_null();
}

size_t crdt_items(const struct crdt *c)
{
    switch (c->type) {
    case CRDT_GCOUNTER:
    case CRDT_PNCOUNTER: {
        size_t k = 0;
        for (int i = 0; i < CL_MAXN; i++)
            k += (c->p[i] != 0) + (c->n[i] != 0);
        return k;
    }
    case CRDT_GSET:
    case CRDT_2PSET:
        return c->a.n + c->r.n;
    case CRDT_ORSET:
    case CRDT_CART:
        return c->ne + c->nd;
    case CRDT_LWW:
        return c->value != NULL;
    case CRDT_MV:
        return c->nmv;
    case CRDT_NTYPES:
        break;
    }
    return 0;
}

uint64_t crdt_max_dot(const struct crdt *c, int node)
{
    uint64_t m = 0;
    for (size_t i = 0; i < c->ne; i++)
        if (c->e[i].dot.node == node && c->e[i].dot.ctr > m)
            m = c->e[i].dot.ctr;
    for (size_t i = 0; i < c->nd; i++)
        if (c->d[i].node == node && c->d[i].ctr > m)
            m = c->d[i].ctr;
    for (size_t i = 0; node >= 0 && node < CL_MAXN && i < c->nmv; i++)
        if (c->mv[i].vv.c[node] > m)
            m = c->mv[i].vv.c[node];
    return m;
}

/* ---- wire form ------------------------------------------------------------------------------ */

static json_t *comps_json(const uint64_t *v)
{
    int last = -1;
    for (int i = 0; i < CL_MAXN; i++)
        if (v[i])
            last = i;
    json_t *a = json_array();
    for (int i = 0; i <= last; i++)
        json_array_append_new(a, json_integer((json_int_t)v[i]));
    return a;
}

static json_t *vv_json(const struct vv *v)
{
    return comps_json(v->c);
}

/* One piece holding entries [e0, e1) and removed dots [d0, d1) (or strings, or mv entries). */
static json_t *piece_json(const struct crdt *c, size_t e0, size_t e1, size_t d0, size_t d1)
{
    json_t *o = json_pack("{s:s}", "t", crdt_type_name(c->type));
    switch (c->type) {
    case CRDT_GCOUNTER:
        json_object_set_new(o, "p", comps_json(c->p));
        break;
    case CRDT_PNCOUNTER:
        json_object_set_new(o, "p", comps_json(c->p));
        json_object_set_new(o, "n", comps_json(c->n));
        break;
    case CRDT_GSET:
    case CRDT_2PSET: {
        json_t *a = json_array(), *r = json_array();
        for (size_t i = e0; i < e1; i++)
            json_array_append_new(a, json_string(c->a.v[i]));
        json_object_set_new(o, "a", a);
        if (c->type == CRDT_2PSET) {
            for (size_t i = d0; i < d1; i++)
                json_array_append_new(r, json_string(c->r.v[i]));
            json_object_set_new(o, "r", r);
        } else {
            json_decref(r);
        }
        break;
    }
    case CRDT_ORSET:
    case CRDT_CART: {
        json_t *e = json_array(), *d = json_array();
        for (size_t i = e0; i < e1; i++) {
            json_t *x = json_pack("[s,i,I]", c->e[i].elem, c->e[i].dot.node, (json_int_t)c->e[i].dot.ctr);
            if (c->type == CRDT_CART)
                json_array_append_new(x, json_integer(c->e[i].amount));
            json_array_append_new(e, x);
        }
        for (size_t i = d0; i < d1; i++)
            json_array_append_new(d, json_pack("[i,I]", c->d[i].node, (json_int_t)c->d[i].ctr));
        json_object_set_new(o, "e", e);
        json_object_set_new(o, "d", d);
        break;
    }
    case CRDT_LWW:
        if (c->value)
            json_object_set_new(o, "v", json_pack("[I,i,s]", (json_int_t)c->ts, c->node, c->value));
        break;
    case CRDT_MV: {
        json_t *e = json_array();
        for (size_t i = e0; i < e1; i++)
            json_array_append_new(e, json_pack("[s,o]", c->mv[i].value, vv_json(&c->mv[i].vv)));
        json_object_set_new(o, "e", e);
        break;
    }
    case CRDT_NTYPES:
        break;
    }
    return o;
}

/* The two lists a state's pieces are cut from, and their lengths. */
static void lists(const struct crdt *c, size_t *n1, size_t *n2)
{
    *n1 = *n2 = 0;
    switch (c->type) {
    case CRDT_GSET:
    case CRDT_2PSET:
        *n1 = c->a.n;
        *n2 = c->r.n;
        break;
    case CRDT_ORSET:
    case CRDT_CART:
        *n1 = c->ne;
        *n2 = c->nd;
        break;
    case CRDT_MV:
        *n1 = c->nmv;
        break;
    default:
        break;
    }
}

json_t *crdt_to_json(const struct crdt *c)
{
    size_t n1, n2;
    lists(c, &n1, &n2);
    return piece_json(c, 0, n1, 0, n2);
}

json_t *crdt_to_json_pieces(const struct crdt *c, size_t max_items)
{
    size_t n1, n2;
    lists(c, &n1, &n2);
    json_t *out = json_array();
    if (max_items == 0 || n1 + n2 <= max_items) {
        json_array_append_new(out, piece_json(c, 0, n1, 0, n2));
        return out;
    }
    for (size_t i = 0; i < n1; i += max_items)
        json_array_append_new(out, piece_json(c, i, i + max_items < n1 ? i + max_items : n1, 0, 0));
    for (size_t i = 0; i < n2; i += max_items)
        json_array_append_new(out, piece_json(c, 0, 0, i, i + max_items < n2 ? i + max_items : n2));
    return out;
}

static int get_count(const json_t *v, uint64_t max, uint64_t *out)
{
    if (!json_is_integer(v) || json_integer_value(v) < 0 || (uint64_t)json_integer_value(v) > max)
        return -1;
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

static int get_str(const json_t *v, const char **out)
{
    if (!json_is_string(v))
        return -1;
    size_t n = json_string_length(v);
    const char *s = json_string_value(v);
    if (n == 0 || n > CRDT_MAX_ELEM || memchr(s, 0, n))
        return -1;
    *out = s;
    return 0;
}

static int get_comps(const json_t *a, int nodes, uint64_t *out, const char *what, char *err, size_t errlen)
{
    if (!a)
        return 0;
    if (!json_is_array(a) || json_array_size(a) > CL_MAXN) {
        errf(err, errlen, "\"%s\" is an array of at most %d counters", what, CL_MAXN);
        return -1;
    }
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v) {
        if (get_count(v, CRDT_MAX_COUNT, &out[i]) < 0) {
            errf(err, errlen, "\"%s\"[%zu] is not a whole number from 0 to %" PRIu64, what, i, CRDT_MAX_COUNT);
            return -1;
        }
        if (out[i] && (int)i >= nodes) {
            errf(err, errlen, "\"%s\"[%zu] names node %zu of a %d-node cluster", what, i, i + 1, nodes);
            return -1;
        }
    }
    return 0;
}

static int get_dot(const json_t *n, const json_t *ctr, int nodes, struct crdt_dot *d)
{
    uint64_t node;
    if (get_count(n, (uint64_t)nodes - 1, &node) < 0 || get_count(ctr, CRDT_MAX_COUNT, &d->ctr) < 0 || d->ctr == 0)
        return -1;
    d->node = (int)node;
    return 0;
}

static const json_t *get_list(const json_t *j, const char *key, char *err, size_t errlen, size_t *total)
{
    const json_t *a = json_object_get(j, key);
    if (!a)
        return NULL;
    if (!json_is_array(a)) {
        errf(err, errlen, "\"%s\" is not an array", key);
        return (const json_t *)-1;
    }
    *total += json_array_size(a);
    if (*total > CRDT_MAX_ITEMS) {
        errf(err, errlen, "more than %d entries in one state", CRDT_MAX_ITEMS);
        return (const json_t *)-1;
    }
    return a;
}

#define BAD_LIST ((const json_t *)-1)

struct crdt *crdt_from_json(const json_t *j, int nodes, char *err, size_t errlen)
{
    if (nodes < 1 || nodes > CL_MAXN)
        nodes = CL_MAXN;
    if (!json_is_object(j)) {
        errf(err, errlen, "a CRDT state is an object");
        return NULL;
    }
    const char *tn = json_string_value(json_object_get(j, "t"));
    int t = crdt_type_of(tn);
    if (t < 0) {
        errf(err, errlen, "a CRDT state needs \"t\", one of %s", crdt_type_names());
        return NULL;
    }
    struct crdt *c = crdt_new((enum crdt_type)t);
    size_t total = 0;
    size_t i;
    json_t *v;
    switch (c->type) {
    case CRDT_GCOUNTER:
    case CRDT_PNCOUNTER:
        if (get_comps(json_object_get(j, "p"), nodes, c->p, "p", err, errlen) < 0 ||
            get_comps(json_object_get(j, "n"), nodes, c->n, "n", err, errlen) < 0)
            goto bad;
        if (c->type == CRDT_GCOUNTER && json_object_get(j, "n")) {
            errf(err, errlen, "a gcounter has no \"n\"");
            goto bad;
        }
        break;
    case CRDT_GSET:
    case CRDT_2PSET:
        for (int half = 0; half < 2; half++) {
            const char *key = half ? "r" : "a";
            const json_t *a = get_list(j, key, err, errlen, &total);
            if (a == BAD_LIST)
                goto bad;
            if (a && half && c->type == CRDT_GSET) {
                errf(err, errlen, "a gset has no \"r\"");
                goto bad;
            }
            json_array_foreach(a, i, v) {
                const char *s;
                if (get_str(v, &s) < 0) {
                    errf(err, errlen, "\"%s\"[%zu] is not an element (a string of 1 to %d bytes)", key, i, CRDT_MAX_ELEM);
                    goto bad;
                }
                strs_add(half ? &c->r : &c->a, s);
            }
        }
        break;
    case CRDT_ORSET:
    case CRDT_CART: {
        const json_t *e = get_list(j, "e", err, errlen, &total);
        if (e == BAD_LIST)
            goto bad;
        size_t want = c->type == CRDT_CART ? 4 : 3;
        json_array_foreach(e, i, v) {
            const char *s;
            struct crdt_dot d;
            json_int_t amount = 1;
            if (!json_is_array(v) || json_array_size(v) != want || get_str(json_array_get(v, 0), &s) < 0 ||
                get_dot(json_array_get(v, 1), json_array_get(v, 2), nodes, &d) < 0 ||
                (want == 4 && (!json_is_integer(json_array_get(v, 3)) ||
                               (amount = json_integer_value(json_array_get(v, 3))) == 0 ||
                               amount > CRDT_MAX_AMOUNT || amount < -CRDT_MAX_AMOUNT))) {
                errf(err, errlen, "\"e\"[%zu] is not [element, node 0..%d, counter 1..%" PRIu64 "%s]", i, nodes - 1,
                     CRDT_MAX_COUNT, want == 4 ? ", amount ≠ 0" : "");
                goto bad;
            }
            entries_push(c, s, d, amount, 1);
        }
        const json_t *dl = get_list(j, "d", err, errlen, &total);
        if (dl == BAD_LIST)
            goto bad;
        json_array_foreach(dl, i, v) {
            struct crdt_dot d;
            if (!json_is_array(v) || json_array_size(v) != 2 ||
                get_dot(json_array_get(v, 0), json_array_get(v, 1), nodes, &d) < 0) {
                errf(err, errlen, "\"d\"[%zu] is not a removed dot [node 0..%d, counter 1..%" PRIu64 "]", i, nodes - 1,
                     CRDT_MAX_COUNT);
                goto bad;
            }
            dots_push(c, d);
        }
        dotted_normalize(c);
        break;
    }
    case CRDT_LWW: {
        const json_t *x = json_object_get(j, "v");
        if (!x)
            break;
        uint64_t ts, node;
        const char *s;
        if (!json_is_array(x) || json_array_size(x) != 3 || get_count(json_array_get(x, 0), CRDT_MAX_COUNT, &ts) < 0 ||
            get_count(json_array_get(x, 1), (uint64_t)nodes - 1, &node) < 0 || get_str(json_array_get(x, 2), &s) < 0) {
            errf(err, errlen, "\"v\" is not [timestamp, node 0..%d, value]", nodes - 1);
            goto bad;
        }
        c->ts = ts;
        c->node = (int)node;
        c->value = xstrdup(s);
        break;
    }
    case CRDT_MV: {
        const json_t *e = get_list(j, "e", err, errlen, &total);
        if (e == BAD_LIST)
            goto bad;
        if (json_array_size(e) > 4096) {
            errf(err, errlen, "an mv register with more than 4096 values");
            goto bad;
        }
        json_array_foreach(e, i, v) {
            const char *s;
            struct vv vv = {{0}};
            char why[160] = "";
            if (!json_is_array(v) || json_array_size(v) != 2 || get_str(json_array_get(v, 0), &s) < 0 ||
                get_comps(json_array_get(v, 1), nodes, vv.c, "vector", why, sizeof why) < 0 ||
                !json_is_array(json_array_get(v, 1)) || vv_is_zero(&vv)) {
                errf(err, errlen, "\"e\"[%zu] is not [value, version vector]%s%s", i, why[0] ? ": " : "", why);
                goto bad;
            }
            mv_push(c, s, &vv);
        }
        mv_normalize(c);
        break;
    }
    case CRDT_NTYPES:
        break;
    }
    return c;
bad:
    crdt_free(&c);
    return NULL;
}

/* ---- description ------------------------------------------------------------------------------ */

static const char *nm(const char (*names)[CL_IDLEN], int i, char buf[CL_IDLEN])
{
    if (names)
        return names[i];
    node_name(i, buf);
    return buf;
}

static void comps_text(const uint64_t *v, int nodes, const char (*names)[CL_IDLEN], struct sb *out)
{
    char b[CL_IDLEN];
    int any = 0;
    for (int i = 0; i < nodes && i < CL_MAXN; i++) {
        sb_printf(out, "%s%s:%" PRIu64, any ? " " : "", nm(names, i, b), v[i]);
        any = 1;
    }
}

void crdt_describe(const struct crdt *c, int nodes, const char (*names)[CL_IDLEN], struct sb *out)
{
    char b[CL_IDLEN];
    sb_printf(out, "type %s", crdt_type_name(c->type));
    switch (c->type) {
    case CRDT_GCOUNTER:
        sb_add(out, "\n  increments per node (merge takes each node's maximum): ");
        comps_text(c->p, nodes, names, out);
        break;
    case CRDT_PNCOUNTER:
        sb_add(out, "\n  P (increments per node): ");
        comps_text(c->p, nodes, names, out);
        sb_add(out, "\n  N (decrements per node): ");
        comps_text(c->n, nodes, names, out);
        break;
    case CRDT_GSET:
    case CRDT_2PSET:
        sb_printf(out, "\n  added (%zu):", c->a.n);
        for (size_t i = 0; i < c->a.n && i < 50; i++) {
            sb_addc(out, ' ');
            sb_add_escaped(out, c->a.v[i], strlen(c->a.v[i]));
        }
        if (c->type == CRDT_2PSET) {
            sb_printf(out, "\n  removed for ever — tombstones (%zu):", c->r.n);
            for (size_t i = 0; i < c->r.n && i < 50; i++) {
                sb_addc(out, ' ');
                sb_add_escaped(out, c->r.v[i], strlen(c->r.v[i]));
            }
        }
        break;
    case CRDT_ORSET:
    case CRDT_CART: {
        struct vv seen = {{0}};
        sb_printf(out, "\n  live entries (%zu), each with the dot of the add that made it:", c->ne);
        for (size_t i = 0; i < c->ne && i < 50; i++) {
            sb_add(out, "\n    ");
            sb_add_escaped(out, c->e[i].elem, strlen(c->e[i].elem));
            sb_printf(out, " (%s,%" PRIu64 ")", nm(names, c->e[i].dot.node, b), c->e[i].dot.ctr);
            if (c->type == CRDT_CART)
                sb_printf(out, " %+" PRId64, c->e[i].amount);
        }
        if (c->ne > 50)
            sb_printf(out, "\n    … %zu more", c->ne - 50);
        sb_printf(out, "\n  tombstones: removed dots (%zu):", c->nd);
        for (size_t i = 0; i < c->nd && i < 50; i++)
            sb_printf(out, " (%s,%" PRIu64 ")", nm(names, c->d[i].node, b), c->d[i].ctr);
        for (size_t i = 0; i < c->ne; i++)
            vv_add_dot(&seen, c->e[i].dot.node, c->e[i].dot.ctr);
        for (size_t i = 0; i < c->nd; i++)
            vv_add_dot(&seen, c->d[i].node, c->d[i].ctr);
        sb_add(out, "\n  version vector (highest dot seen per node): ");
        comps_text(seen.c, nodes, names, out);
        break;
    }
    case CRDT_LWW:
        if (c->value) {
            sb_add(out, "\n  value ");
            sb_add_escaped(out, c->value, strlen(c->value));
            sb_printf(out, " written at %" PRIu64 " µs by %s (highest timestamp wins, then node)", c->ts,
                      nm(names, c->node, b));
        } else {
            sb_add(out, "\n  never written");
        }
        break;
    case CRDT_MV:
        sb_printf(out, "\n  concurrent values (%zu), each with its version vector:", c->nmv);
        for (size_t i = 0; i < c->nmv; i++) {
            sb_add(out, "\n    ");
            sb_add_escaped(out, c->mv[i].value, strlen(c->mv[i].value));
            sb_add(out, " [");
            comps_text(c->mv[i].vv.c, nodes, names, out);
            sb_addc(out, ']');
        }
        break;
    case CRDT_NTYPES:
        break;
    }
}

/* ---- causal contexts ----------------------------------------------------------------------- */

void crdt_ctx_clear(struct crdt_ctx *x)
{
    free(x->extra);
    memset(x, 0, sizeof *x);
}

void crdt_ctx_copy(struct crdt_ctx *dst, const struct crdt_ctx *src)
{
    crdt_ctx_clear(dst);
    dst->base = src->base;
    if (src->nextra) {
        dst->extra = xmalloc(src->nextra * sizeof *dst->extra);
        memcpy(dst->extra, src->extra, src->nextra * sizeof *dst->extra);
        dst->nextra = src->nextra;
    }
}

int crdt_ctx_has(const struct crdt_ctx *x, struct crdt_dot d)
{
    if (d.node < 0 || d.node >= CL_MAXN)
        return 0;
    if (d.ctr <= x->base.c[d.node])
        return 1;
    return x->nextra && bsearch(&d, x->extra, x->nextra, sizeof *x->extra, dot_cmp_q) != NULL;
}

/* Folds the extra dots that continue base into it; keeps the rest sorted. */
static void ctx_compact(struct crdt_ctx *x)
{
    if (x->nextra > 1)
        qsort(x->extra, x->nextra, sizeof *x->extra, dot_cmp_q);
    size_t k = 0;
    for (size_t i = 0; i < x->nextra; i++) {
        struct crdt_dot d = x->extra[i];
        if (d.ctr <= x->base.c[d.node])
            continue;
        if (d.ctr == x->base.c[d.node] + 1) {
            x->base.c[d.node] = d.ctr;
            continue;
        }
        if (k && !dot_cmp(&x->extra[k - 1], &d))
            continue;
        x->extra[k++] = d;
    }
    x->nextra = k;
    /* a fold may let later dots of the same node continue it: one more pass settles it,
     * since the dots are sorted per node */
    size_t k2 = 0;
    for (size_t i = 0; i < x->nextra; i++) {
        struct crdt_dot d = x->extra[i];
        if (d.ctr <= x->base.c[d.node])
            continue;
        if (d.ctr == x->base.c[d.node] + 1)
            x->base.c[d.node] = d.ctr;
        else
            x->extra[k2++] = d;
    }
    x->nextra = k2;
}

int crdt_ctx_add(struct crdt_ctx *x, struct crdt_dot d)
{
    if (d.node < 0 || d.node >= CL_MAXN || d.ctr == 0 || crdt_ctx_has(x, d))
        return 0;
    x->extra = xrealloc(x->extra, (x->nextra + 1) * sizeof *x->extra);
    x->extra[x->nextra++] = d;
    ctx_compact(x);
    return 1;
}

int crdt_ctx_merge(struct crdt_ctx *dst, const struct crdt_ctx *src)
{
    int grew = 0;
    for (int i = 0; i < CL_MAXN; i++)
        if (src->base.c[i] > dst->base.c[i]) {
            /* the dots between are new unless dst held them as extras */
            dst->base.c[i] = src->base.c[i];
            grew = 1;
        }
    if (src->nextra) {
        size_t n0 = dst->nextra;
        dst->extra = xrealloc(dst->extra, (dst->nextra + src->nextra) * sizeof *dst->extra);
        for (size_t i = 0; i < src->nextra; i++)
            if (!crdt_ctx_has(&(struct crdt_ctx){dst->base, dst->extra, n0}, src->extra[i])) {
                dst->extra[dst->nextra++] = src->extra[i];
                grew = 1;
            }
    }
    ctx_compact(dst);
    return grew;
}

int crdt_ctx_equal(const struct crdt_ctx *a, const struct crdt_ctx *b)
{
    if (memcmp(a->base.c, b->base.c, sizeof a->base.c) || a->nextra != b->nextra)
        return 0;
    for (size_t i = 0; i < a->nextra; i++)
        if (dot_cmp(&a->extra[i], &b->extra[i]))
            return 0;
    return 1;
}

json_t *crdt_ctx_to_json(const struct crdt_ctx *x)
{
    json_t *e = json_array();
    for (size_t i = 0; i < x->nextra; i++)
        json_array_append_new(e, json_pack("[i,I]", x->extra[i].node, (json_int_t)x->extra[i].ctr));
    return json_pack("{s:o,s:o}", "v", comps_json(x->base.c), "x", e);
}

int crdt_ctx_from_json(const json_t *j, int nodes, struct crdt_ctx *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (nodes < 1 || nodes > CL_MAXN)
        nodes = CL_MAXN;
    if (!json_is_object(j)) {
        errf(err, errlen, "a causal context is an object {\"v\":[…],\"x\":[…]}");
        return CL_EINVAL;
    }
    if (get_comps(json_object_get(j, "v"), nodes, out->base.c, "v", err, errlen) < 0)
        return CL_EINVAL;
    const json_t *x = json_object_get(j, "x");
    if (x && (!json_is_array(x) || json_array_size(x) > CRDT_MAX_ITEMS)) {
        errf(err, errlen, "\"x\" is not an array of at most %d dots", CRDT_MAX_ITEMS);
        return CL_EINVAL;
    }
    size_t i;
    json_t *v;
    if (json_array_size(x))
        out->extra = xmalloc(json_array_size(x) * sizeof *out->extra);
    json_array_foreach(x, i, v) {
        struct crdt_dot d;
        if (!json_is_array(v) || json_array_size(v) != 2 ||
            get_dot(json_array_get(v, 0), json_array_get(v, 1), nodes, &d) < 0) {
            errf(err, errlen, "\"x\"[%zu] is not a dot [node 0..%d, counter 1..%" PRIu64 "]", i, nodes - 1,
                 CRDT_MAX_COUNT);
            crdt_ctx_clear(out);
            return CL_EINVAL;
        }
        out->extra[out->nextra++] = d;
    }
    ctx_compact(out);
    return 0;
}

void crdt_ctx_text(const struct crdt_ctx *x, int nodes, const char (*names)[CL_IDLEN], struct sb *out)
{
    char b[CL_IDLEN];
    int any = 0;
    sb_addn(out, "", 0);
    for (int i = 0; i < nodes && i < CL_MAXN; i++)
        if (x->base.c[i]) {
            sb_printf(out, "%s%s:%" PRIu64, any ? "," : "", nm(names, i, b), x->base.c[i]);
            any = 1;
        }
    for (size_t i = 0; i < x->nextra; i++)
        sb_printf(out, "+%s:%" PRIu64, nm(names, x->extra[i].node, b), x->extra[i].ctr);
}
