/* ring — see ring.h. */
#include "ring.h"

#include <stdio.h>
#include <stdlib.h>

#include "hash.h"

struct vnode {
    uint64_t token;
    int node;
};

struct ring {
    struct vnode *v;         /* sorted by token, then node */
    int nv, nodes, vnodes;
    int members;             /* nodes holding tokens */
};

static int vnode_cmp(const void *a, const void *b)
{
    const struct vnode *x = a, *y = b;
    if (x->token != y->token)
        return x->token < y->token ? -1 : 1;
    return x->node - y->node;
}

struct ring *ring_new_of(int nodes, const int *member, int vnodes)
{
    if (nodes < 1 || nodes > CL_MAXN || vnodes < 1 || vnodes > RING_MAX_VNODES)
        return NULL;
    int m = 0;
    for (int k = 0; k < nodes; k++)
        m += !member || member[k];
    if (!m)
        return NULL;
    struct ring *r = xcalloc(1, sizeof *r);
    r->nodes = nodes;
    r->members = m;
    r->vnodes = vnodes;
    r->nv = m * vnodes;
    r->v = xcalloc((size_t)r->nv, sizeof *r->v);
    int at = 0;
    for (int k = 0; k < nodes; k++) {
        if (member && !member[k])
            continue;
        char id[CL_IDLEN];
        node_name(k, id);
        for (int v = 0; v < vnodes; v++) {
            char name[64];
            snprintf(name, sizeof name, "%s#%d", id, v);
            r->v[at++] = (struct vnode){hash_str(name), k};
        }
    }
    qsort(r->v, (size_t)r->nv, sizeof *r->v, vnode_cmp);
    return r;
}

struct ring *ring_new(int nodes, int vnodes)
{
    return ring_new_of(nodes, NULL, vnodes);
}

void ring_destroy(struct ring **r)
{
    if (!*r)
        return;
    free((*r)->v);
    free(*r);
    *r = NULL;
}

int ring_nodes(const struct ring *r)
{
    return r->nodes;
}

int ring_members(const struct ring *r)
{
    return r->members;
}

int ring_vnodes(const struct ring *r)
{
    return r->vnodes;
}

/* The first vnode at or after h (clockwise), wrapping. */
static int ring_first(const struct ring *r, uint64_t h)
{
    int lo = 0, hi = r->nv;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (r->v[mid].token < h)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo == r->nv ? 0 : lo;
}

int ring_walk(const struct ring *r, uint64_t khash, int out[CL_MAXN])
{
    int cnt = 0;
    uint32_t seen = 0;
    int start = ring_first(r, khash);
    for (int i = 0; i < r->nv && cnt < r->members; i++) {
        int nd = r->v[(start + i) % r->nv].node;
        if (!(seen & (1u << nd))) {
            seen |= 1u << nd;
            out[cnt++] = nd;
        }
    }
    return cnt;
}

int ring_replicas(const struct ring *r, const char *key, int out[CL_MAXN])
{
    return ring_walk(r, hash_str(key), out);
}

uint32_t ring_owners(const struct ring *r, uint64_t khash, int n)
{
    int pl[CL_MAXN];
    int cnt = ring_walk(r, khash, pl);
    uint32_t m = 0;
    for (int i = 0; i < cnt && i < n; i++)
        m |= 1u << pl[i];
    return m;
}

void ring_shares(const struct ring *r, double share[CL_MAXN])
{
    for (int k = 0; k < CL_MAXN; k++)
        share[k] = 0;
    for (int i = 0; i < r->nv; i++) {
        uint64_t prev = r->v[(i + r->nv - 1) % r->nv].token;
        uint64_t span = r->v[i].token - prev; /* wraps correctly for i == 0 */
        if (r->nv == 1)
            span = UINT64_MAX;
        share[r->v[i].node] += (double)span / 18446744073709551616.0;
    }
}

int ring_tokens(const struct ring *r, int node, uint64_t *out, int max)
{
    int k = 0;
    for (int i = 0; i < r->nv; i++)
        if (r->v[i].node == node) {
            if (k < max)
                out[k] = r->v[i].token;
            k++;
        }
    return k;
}
