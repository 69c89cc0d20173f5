/* txncheck — see txncheck.h. The serializability checker follows Elle: infer version orders,
 * build the ww/wr/rw graph, find strongly connected components (Tarjan, iterative), and in
 * each look for the cycle that names the weakest anomaly (G0, then G1c, G-single, G2). */
#include "txncheck.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { E_WW = 1, E_WR = 2, E_RW = 4 };
#define MAX_SEARCHES 4000   /* cycle searches (BFS) per history */
#define MAX_REPORTS 3       /* cycles reported per anomaly */

/* ---- a string map: (key id, text) -> slot ---------------------------------------------------- */

struct ent {
    int kid;
    const char *s;          /* NULL = nil */
    int writer;             /* op that wrote it, -1 none */
    int pos;                /* position in the key's version order, -1 unknown */
    int intermediate;       /* the writer wrote the key again later */
    int *readers;           /* ops that read it (registers) */
    int nreaders, capreaders;
};

struct map {
    struct ent *e;
    size_t cap, n;
};

static uint64_t hash_text(uint64_t h, const char *s)
{
    if (!s)
        return h ^ 0x9e3779b97f4a7c15ull;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ull;
    }
    return h;
}

static int same(const char *a, const char *b)
{
    return a == b || (a && b && !strcmp(a, b));
}

static struct ent *map_get(struct map *m, int kid, const char *s, int create)
{
    if (!m->cap)
        return NULL;
    size_t at = hash_text((uint64_t)kid * 0xcbf29ce484222325ull + 7, s) & (m->cap - 1);
    while (m->e[at].kid >= 0) {
        if (m->e[at].kid == kid && same(m->e[at].s, s))
            return &m->e[at];
        at = (at + 1) & (m->cap - 1);
    }
    if (!create)
        return NULL;
    struct ent *e = &m->e[at];
    memset(e, 0, sizeof *e);
    e->kid = kid;
    e->s = s;
    e->writer = -1;
    e->pos = -1;
    m->n++;
    return e;
}

static void map_init(struct map *m)
{
    m->cap = 1024;
    m->n = 0;
    m->e = xcalloc(m->cap, sizeof *m->e);
    for (size_t i = 0; i < m->cap; i++)
        m->e[i].kid = -1;
}

/* Finds or adds (kid, s), growing the table first when half full. */
static struct ent *map_put(struct map *m, int kid, const char *s)
{
    if ((m->n + 1) * 2 > m->cap) {
        size_t ncap = m->cap * 2;
        struct ent *ne = xcalloc(ncap, sizeof *ne);
        for (size_t i = 0; i < ncap; i++)
            ne[i].kid = -1;
        for (size_t i = 0; i < m->cap; i++) {
            if (m->e[i].kid < 0)
                continue;
            size_t at = hash_text((uint64_t)m->e[i].kid * 0xcbf29ce484222325ull + 7, m->e[i].s) & (ncap - 1);
            while (ne[at].kid >= 0)
                at = (at + 1) & (ncap - 1);
            ne[at] = m->e[i];
        }
        free(m->e);
        m->e = ne;
        m->cap = ncap;
    }
    return map_get(m, kid, s, 1);
}

static void map_free(struct map *m)
{
    for (size_t i = 0; i < m->cap; i++)
        if (m->e[i].kid >= 0)
            free(m->e[i].readers);
    free(m->e);
}

/* ---- keys ------------------------------------------------------------------------------------- */

struct key {
    const char *name;
    int list;               /* list-append (1) or register (0) */
    const struct mop *longest;  /* list-append: the longest list read by an ok op */
    int longest_op;
    int bad_order;          /* an incompatible read was reported */
};

struct keys {
    struct key *k;
    int n, cap;
    struct map ids;         /* (0, name) -> pos = key id */
};

static int key_id(struct keys *ks, const char *name)
{
    struct ent *e = map_put(&ks->ids, 0, name);
    if (e->pos >= 0)
        return e->pos;
    if (ks->n == ks->cap) {
        ks->cap = ks->cap ? 2 * ks->cap : 64;
        ks->k = xrealloc(ks->k, (size_t)ks->cap * sizeof *ks->k);
    }
    memset(&ks->k[ks->n], 0, sizeof ks->k[ks->n]);
    ks->k[ks->n].name = name;
    ks->k[ks->n].longest_op = -1;
    e->pos = ks->n;
    return ks->n++;
}

/* ---- the graph --------------------------------------------------------------------------------- */

struct edge {
    int from, to, type, kid;
    const char *value;      /* the value that makes the edge */
};

struct graph {
    struct edge *e;
    int n, cap;
    int nodes;
    int *start;             /* CSR over e sorted by from: edges of v are [start[v], start[v+1]) */
    int *order;
};

static void edge_add(struct graph *g, int from, int to, int type, int kid, const char *value)
{
    if (from == to || from < 0 || to < 0)
        return;
    if (g->n == g->cap) {
        g->cap = g->cap ? 2 * g->cap : 1024;
        g->e = xrealloc(g->e, (size_t)g->cap * sizeof *g->e);
    }
    g->e[g->n++] = (struct edge){from, to, type, kid, value};
}

static void graph_index(struct graph *g)
{
    g->start = xcalloc((size_t)g->nodes + 1, sizeof *g->start);
    g->order = xcalloc((size_t)(g->n ? g->n : 1), sizeof *g->order);
    for (int i = 0; i < g->n; i++)
        g->start[g->e[i].from + 1]++;
    for (int v = 0; v < g->nodes; v++)
        g->start[v + 1] += g->start[v];
    int *fill = xcalloc((size_t)g->nodes + 1, sizeof *fill);
    for (int i = 0; i < g->n; i++) {
        int f = g->e[i].from;
        g->order[g->start[f] + fill[f]++] = i;
    }
    free(fill);
}

/* Tarjan's strongly connected components over the edges in mask, iteratively. comp[v] gets
 * a component id; size[c] its size. Returns the number of components. */
static int scc(const struct graph *g, int mask, int *comp, int *size)
{
    int n = g->nodes, count = 0, index = 0, sp = 0, cs = 0;
    int *idx = xmalloc((size_t)(n ? n : 1) * sizeof *idx), *low = xmalloc((size_t)(n ? n : 1) * sizeof *low);
    int *stack = xmalloc((size_t)(n ? n : 1) * sizeof *stack), *on = xcalloc((size_t)(n ? n : 1), sizeof *on);
    int *cv = xmalloc((size_t)(n ? n : 1) * sizeof *cv), *ce = xmalloc((size_t)(n ? n : 1) * sizeof *ce);
    for (int v = 0; v < n; v++)
        idx[v] = -1;
    for (int root = 0; root < n; root++) {
        if (idx[root] >= 0)
            continue;
        cv[cs] = root;
        ce[cs++] = g->start[root];
        idx[root] = low[root] = index++;
        stack[sp++] = root;
        on[root] = 1;
        while (cs) {
            int v = cv[cs - 1];
            if (ce[cs - 1] < g->start[v + 1]) {
                const struct edge *e = &g->e[g->order[ce[cs - 1]++]];
                if (!(e->type & mask))
                    continue;
                int w = e->to;
                if (idx[w] < 0) {
                    idx[w] = low[w] = index++;
                    stack[sp++] = w;
                    on[w] = 1;
                    cv[cs] = w;
                    ce[cs++] = g->start[w];
                } else if (on[w] && idx[w] < low[v]) {
                    low[v] = idx[w];
                }
                continue;
            }
            if (low[v] == idx[v]) {
                int w, sz = 0;
                do {
                    w = stack[--sp];
                    on[w] = 0;
                    comp[w] = count;
                    sz++;
                } while (w != v);
                size[count++] = sz;
            }
            cs--;
            if (cs && low[v] < low[cv[cs - 1]])
                low[cv[cs - 1]] = low[v];
        }
    }
    free(idx);
    free(low);
    free(stack);
    free(on);
    free(cv);
    free(ce);
    return count;
}

/* BFS from src to dst inside component c, over edges in mask. Fills path[] with edge indexes
 * (src .. dst) and returns its length, or 0. */
static int bfs(const struct graph *g, int src, int dst, int mask, const int *comp, int c, int *prev_edge, int *stamp,
               int mark, int *queue, int *path, int maxpath)
{
    int qh = 0, qt = 0;
    queue[qt++] = src;
    stamp[src] = mark;
    while (qh < qt) {
        int v = queue[qh++];
        for (int k = g->start[v]; k < g->start[v + 1]; k++) {
            const struct edge *e = &g->e[g->order[k]];
            if (!(e->type & mask) || comp[e->to] != c || stamp[e->to] == mark)
                continue;
            stamp[e->to] = mark;
            prev_edge[e->to] = g->order[k];
            if (e->to == dst) {
                int n = 0;
                for (int at = dst; at != src && n < maxpath; at = g->e[prev_edge[at]].from)
                    path[n++] = prev_edge[at];
                for (int i = 0; i < n / 2; i++) {
                    int t = path[i];
                    path[i] = path[n - 1 - i];
                    path[n - 1 - i] = t;
                }
                return n;
            }
            queue[qt++] = e->to;
        }
    }
    return 0;
}

/* ---- the checker ------------------------------------------------------------------------------- */

struct ctx {
    const struct txnhist *h;
    struct keys ks;
    struct map vals;        /* (key id, value) -> writer, position, readers */
    struct graph g;
    struct sb *out;
    int anomalies;
    int counts[8];
    uint64_t sigs[64];      /* cycles reported (rotations of one are one) */
    int nsigs;
};

enum { A_G0, A_G1A, A_G1B, A_G1C, A_GSINGLE, A_G2, A_ORDER };
static const char *const anomaly_names[] = {"G0", "G1a", "G1b", "G1c", "G-single", "G2", "incompatible-order"};
static const char *const anomaly_words[] = {
    "write cycle: the transactions' writes interleave in no serial order",
    "aborted read: a committed transaction read a value written by one that failed",
    "intermediate read: a transaction read a value its writer overwrote before committing",
    "circular information flow: each transaction saw another's writes, around a cycle",
    "read skew: a cycle with exactly one anti-dependency (a read that missed a write)",
    "write skew or worse: a cycle with two or more anti-dependencies",
    "two reads of a list disagree on its order: neither is a prefix of the other",
};

static void name_op(const struct ctx *c, int i, struct sb *out)
{
    txnhist_name(c->h, i, out);
}

static void op_line(const struct ctx *c, int i, struct sb *out)
{
    sb_add(out, "    ");
    name_op(c, i, out);
    sb_printf(out, " (process %lld%s) ", (long long)c->h->ops[i].process,
              c->h->ops[i].outcome == TX_INFO ? ", indeterminate" : c->h->ops[i].outcome == TX_FAIL ? ", failed" : "");
    txnhist_describe(&c->h->ops[i], out);
    sb_addc(out, '\n');
}

static uint64_t cycle_sig(const struct ctx *c, const int *path, int n)
{
    /* the set of transactions, whatever the rotation: a sum and an xor of mixed ids */
    uint64_t sum = 0, x = 0;
    for (int i = 0; i < n; i++) {
        uint64_t v = (uint64_t)c->g.e[path[i]].from * 0x9e3779b97f4a7c15ull;
        v ^= v >> 31;
        sum += v;
        x ^= v * 0xbf58476d1ce4e5b9ull;
    }
    return sum ^ (x << 1) ^ (uint64_t)n;
}

static void report_cycle(struct ctx *c, int anomaly, const int *path, int n)
{
    uint64_t sig = cycle_sig(c, path, n);
    for (int i = 0; i < c->nsigs; i++)
        if (c->sigs[i] == sig)
            return;
    if (c->nsigs < (int)CL_ARRAY_LEN(c->sigs))
        c->sigs[c->nsigs++] = sig;
    if (c->counts[anomaly]++ >= MAX_REPORTS)
        return;
    c->anomalies++;
    sb_printf(c->out, "%s (%s), %d transactions:\n", anomaly_names[anomaly], anomaly_words[anomaly], n);
    for (int i = 0; i < n; i++) {
        const struct edge *e = &c->g.e[path[i]];
        op_line(c, e->from, c->out);
        const char *k = c->ks.k[e->kid].name;
        const char *v = e->value ? e->value : "nil";
        const char *what = c->ks.k[e->kid].list ? "append" : "write";
        struct sb to = {0};
        name_op(c, e->to, &to);
        sb_add(c->out, "      ");
        if (e->type == E_WW)
            sb_printf(c->out, "ww on %s: the next %s of %s is %s's (%s)", k, what, k, to.s, v);
        else if (e->type == E_WR)
            sb_printf(c->out, "wr on %s: its %s of %s to %s is read by %s", k, what, v, k, to.s);
        else
            sb_printf(c->out, "rw on %s: it read %s without the %s of %s by %s", k, k, what, v, to.s);
        sb_addc(c->out, '\n');
        sb_free(&to);
    }
}

static void report_plain(struct ctx *c, int anomaly, int op, const char *fmt, const char *k, const char *v, int other)
{
    if (c->counts[anomaly]++ >= MAX_REPORTS)
        return;
    c->anomalies++;
    sb_printf(c->out, "%s (%s):\n", anomaly_names[anomaly], anomaly_words[anomaly]);
    op_line(c, op, c->out);
    sb_add(c->out, "      ");
    sb_printf(c->out, fmt, k, v ? v : "nil");
    if (other >= 0) {
        sb_addc(c->out, ' ');
        name_op(c, other, c->out);
        sb_addc(c->out, '\n');
        op_line(c, other, c->out);
    } else {
        sb_addc(c->out, '\n');
    }
}

static int is_node(const struct ctx *c, int i)
{
    return i >= 0 && c->h->ops[i].outcome != TX_FAIL;
}

static void reader_add(struct ent *e, int op)
{
    if (e->nreaders == e->capreaders) {
        e->capreaders = e->capreaders ? 2 * e->capreaders : 4;
        e->readers = xrealloc(e->readers, (size_t)e->capreaders * sizeof *e->readers);
    }
    e->readers[e->nreaders++] = op;
}

/* Pass 1: keys, writers, intermediate writes, the longest list reads. */
static void collect(struct ctx *c)
{
    const struct txnhist *h = c->h;
    for (int i = 0; i < h->n; i++) {
        const struct txn_op *op = &h->ops[i];
        for (int j = 0; j < op->nmops; j++) {
            const struct mop *m = &op->mops[j];
            int kid = key_id(&c->ks, m->key);
            struct key *k = &c->ks.k[kid];
            if (m->f == MOP_APPEND || (m->f == MOP_R && m->is_list))
                k->list = 1;
            if (m->f == MOP_W || m->f == MOP_APPEND) {
                struct ent *e = map_put(&c->vals, kid, m->value);
                if (e->writer < 0)
                    e->writer = i;
                /* a later write of the same key by the same op makes this one intermediate */
                for (int l = j + 1; l < op->nmops; l++)
                    if ((op->mops[l].f == MOP_W || op->mops[l].f == MOP_APPEND) && !strcmp(op->mops[l].key, m->key))
                        e->intermediate = 1;
            }
            if (m->f == MOP_R && m->is_list && !m->unknown && op->outcome == TX_OK &&
                (!k->longest || m->nlist > k->longest->nlist)) {
                k->longest = m;
                k->longest_op = i;
            }
        }
    }
    /* positions in each list key's order */
    for (int kid = 0; kid < c->ks.n; kid++) {
        const struct mop *L = c->ks.k[kid].longest;
        for (int p = 0; L && p < L->nlist; p++) {
            struct ent *e = map_put(&c->vals, kid, L->list[p]);
            if (e->pos < 0)
                e->pos = p;
        }
    }
}

/* Pass 2: edges and the non-cycle anomalies. */
static void build(struct ctx *c)
{
    const struct txnhist *h = c->h;
    /* ww along each list order */
    for (int kid = 0; kid < c->ks.n; kid++) {
        const struct mop *L = c->ks.k[kid].longest;
        for (int p = 0; L && p + 1 < L->nlist; p++) {
            struct ent *a = map_get(&c->vals, kid, L->list[p], 0), *b = map_get(&c->vals, kid, L->list[p + 1], 0);
            if (a && b && is_node(c, a->writer) && is_node(c, b->writer))
                edge_add(&c->g, a->writer, b->writer, E_WW, kid, L->list[p + 1]);
        }
    }
    for (int i = 0; i < h->n; i++) {
        const struct txn_op *op = &h->ops[i];
        if (op->outcome != TX_OK)
            continue;
        for (int j = 0; j < op->nmops; j++) {
            const struct mop *m = &op->mops[j];
            if (m->f != MOP_R || m->unknown)
                continue;
            int kid = key_id(&c->ks, m->key);
            struct key *k = &c->ks.k[kid];
            if (m->is_list) {
                const struct mop *L = k->longest;
                /* a prefix of the longest read, or the order is incompatible */
                int ok = L && m->nlist <= L->nlist;
                for (int p = 0; ok && p < m->nlist; p++)
                    ok = !strcmp(m->list[p], L->list[p]);
                if (!ok && !k->bad_order) {
                    k->bad_order = 1;
                    report_plain(c, A_ORDER, i, "its read of %s disagrees with the longest read of it, by%.0s", k->name, NULL,
                                 k->longest_op);
                }
                for (int p = 0; p < m->nlist; p++) {
                    struct ent *e = map_get(&c->vals, kid, m->list[p], 0);
                    if (e && e->writer >= 0 && h->ops[e->writer].outcome == TX_FAIL)
                        report_plain(c, A_G1A, i, "read %s holding %s, appended by the failed", k->name, m->list[p], e->writer);
                }
                if (m->nlist) {
                    struct ent *e = map_get(&c->vals, kid, m->list[m->nlist - 1], 0);
                    if (e && e->intermediate && e->writer != i)
                        report_plain(c, A_G1B, i, "read %s ending with %s, an intermediate append of", k->name,
                                     m->list[m->nlist - 1], e->writer);
                    if (e && is_node(c, e->writer))
                        edge_add(&c->g, e->writer, i, E_WR, kid, m->list[m->nlist - 1]);
                }
                if (ok && L && m->nlist < L->nlist) {
                    struct ent *e = map_get(&c->vals, kid, L->list[m->nlist], 0);
                    if (e && is_node(c, e->writer))
                        edge_add(&c->g, i, e->writer, E_RW, kid, L->list[m->nlist]);
                }
            } else {
                struct ent *e = map_put(&c->vals, kid, m->value);
                reader_add(e, i);
                if (m->value && e->writer >= 0 && h->ops[e->writer].outcome == TX_FAIL)
                    report_plain(c, A_G1A, i, "read %s=%s, written by the failed", k->name, m->value, e->writer);
                else if (m->value && e->intermediate && e->writer != i)
                    report_plain(c, A_G1B, i, "read %s=%s, an intermediate write of", k->name, m->value, e->writer);
                else if (m->value && is_node(c, e->writer))
                    edge_add(&c->g, e->writer, i, E_WR, kid, m->value);
            }
        }
    }
    /* registers: nil comes first; a read of v1 then a write of v2 in one op orders v1 < v2 */
    for (int i = 0; i < h->n; i++) {
        const struct txn_op *op = &h->ops[i];
        if (op->outcome == TX_FAIL)
            continue;
        for (int j = 0; j < op->nmops; j++) {
            const struct mop *r = &op->mops[j];
            if (r->f != MOP_R || r->unknown || r->is_list)
                continue;
            for (int l = j + 1; l < op->nmops; l++) {
                const struct mop *w = &op->mops[l];
                if (w->f != MOP_W || strcmp(w->key, r->key))
                    continue;
                int kid = key_id(&c->ks, r->key);
                struct ent *e = map_get(&c->vals, kid, r->value, 0);
                if (e && r->value && is_node(c, e->writer))
                    edge_add(&c->g, e->writer, i, E_WW, kid, w->value);
                for (int q = 0; e && q < e->nreaders; q++)
                    if (e->readers[q] != i)
                        edge_add(&c->g, e->readers[q], i, E_RW, kid, w->value);
                break;
            }
        }
    }
    /* nil reads precede every write of the key */
    for (size_t s = 0; s < c->vals.cap; s++) {
        struct ent *e = &c->vals.e[s];
        if (e->kid < 0 || e->s || c->ks.k[e->kid].list || !e->nreaders)
            continue;
        int budget = 2000;
        for (int i = 0; i < h->n && budget > 0; i++) {
            const struct txn_op *op = &h->ops[i];
            if (!is_node(c, i))
                continue;
            for (int j = 0; j < op->nmops; j++)
                if (op->mops[j].f == MOP_W && !strcmp(op->mops[j].key, c->ks.k[e->kid].name)) {
                    for (int q = 0; q < e->nreaders && budget > 0; q++, budget--)
                        edge_add(&c->g, e->readers[q], i, E_RW, e->kid, op->mops[j].value);
                    break;
                }
        }
    }
}

static void cycles(struct ctx *c, int *truncated)
{
    struct graph *g = &c->g;
    int n = g->nodes;
    int *comp = xcalloc((size_t)(n ? n : 1), sizeof *comp), *size = xcalloc((size_t)(n ? n : 1), sizeof *size);
    int *prev = xcalloc((size_t)(n ? n : 1), sizeof *prev), *stamp = xcalloc((size_t)(n ? n : 1), sizeof *stamp);
    int *queue = xcalloc((size_t)(n ? n : 1), sizeof *queue), *path = xcalloc((size_t)(n ? n : 1), sizeof *path);
    int mark = 0, searches = 0;
    static const struct { int mask, anomaly; } passes[] = {{E_WW, A_G0}, {E_WW | E_WR, A_G1C}, {E_WW | E_WR | E_RW, A_GSINGLE}};
    for (size_t pi = 0; pi < CL_ARRAY_LEN(passes); pi++) {
        int mask = passes[pi].mask;
        scc(g, mask, comp, size);
        for (int i = 0; i < g->n; i++) {
            const struct edge *e = &g->e[i];
            if (!(e->type & mask) || comp[e->from] != comp[e->to] || size[comp[e->from]] < 2)
                continue;
            /* G0: any ww edge in a ww cycle. G1c: a wr edge in a ww+wr cycle. Then an rw edge:
             * back through ww/wr only is G-single, through anything else G2. */
            if ((pi == 1 && e->type != E_WR) || (pi == 2 && e->type != E_RW))
                continue;
            if (++searches > MAX_SEARCHES) {
                *truncated = 1;
                goto out;
            }
            int an = passes[pi].anomaly;
            int back = pi == 2 ? (E_WW | E_WR) : mask;
            if (c->counts[an] >= MAX_REPORTS && (pi < 2 || c->counts[A_G2] >= MAX_REPORTS))
                continue;
            int len = bfs(g, e->to, e->from, back, comp, comp[e->from], prev, stamp, ++mark, queue, path + 1, n - 1);
            if (!len && pi == 2) {
                len = bfs(g, e->to, e->from, mask, comp, comp[e->from], prev, stamp, ++mark, queue, path + 1, n - 1);
                an = A_G2;
            }
            if (len) {
                path[0] = i;
                report_cycle(c, an, path, len + 1);
            }
        }
    }
out:
    free(comp);
    free(size);
    free(prev);
    free(stamp);
    free(queue);
    free(path);
}

int txncheck_serializable(const struct txnhist *h, struct sb *out)
{
    struct ctx c = {.h = h, .out = out};
    map_init(&c.ks.ids);
    map_init(&c.vals);
    struct sb report = {0};
    c.out = &report;
    collect(&c);
    build(&c);
    c.g.nodes = h->n;
    graph_index(&c.g);
    int truncated = 0;
    cycles(&c, &truncated);
    int ok = 0, info = 0, fail = 0, ww = 0, wr = 0, rw = 0;
    for (int i = 0; i < h->n; i++)
        ok += h->ops[i].outcome == TX_OK, info += h->ops[i].outcome == TX_INFO, fail += h->ops[i].outcome == TX_FAIL;
    for (int i = 0; i < c.g.n; i++)
        ww += c.g.e[i].type == E_WW, wr += c.g.e[i].type == E_WR, rw += c.g.e[i].type == E_RW;
    if (!c.anomalies)
        sb_printf(out, "serializable: no dependency cycle among %d transactions (%d ok, %d indeterminate, %d failed) on "
                  "%d keys; %d ww, %d wr, %d rw edges%s\n", h->n, ok, info, fail, c.ks.n, ww, wr, rw,
                  truncated ? " (the cycle search stopped early: not every component was searched)" : "");
    else {
        sb_printf(out, "NOT serializable:");
        for (int a = 0; a < (int)CL_ARRAY_LEN(anomaly_names); a++)
            if (c.counts[a])
                sb_printf(out, " %s x%d", anomaly_names[a], c.counts[a]);
        sb_printf(out, " (%d transactions, %d keys; %d ww, %d wr, %d rw edges)\n", h->n, c.ks.n, ww, wr, rw);
        sb_add(out, report.s ? report.s : "");
    }
    sb_free(&report);
    free(c.g.e);
    free(c.g.start);
    free(c.g.order);
    map_free(&c.vals);
    map_free(&c.ks.ids);
    free(c.ks.k);
    return c.anomalies ? 1 : 0;
}

/* ---- bank -------------------------------------------------------------------------------------- */

/* A balance: a number, or a string of digits (the txn mode keeps balances as "100", which
 * txnhist.h holds as its JSON literal "\"100\""). */
static int as_ll(const char *s, long long *out)
{
    int64_t x;
    char b[32];
    size_t n = s ? strlen(s) : 0;
    if (n > 2 && n < sizeof b && s[0] == '"' && s[n - 1] == '"') {
        memcpy(b, s + 1, n - 2);
        b[n - 2] = 0;
        s = b;
    }
    if (!s || parse_i64(s, &x) < 0)
        return 0;
    *out = x;
    return 1;
}

int txncheck_bank(const struct txnhist *h, long long total, struct sb *out)
{
    struct keys ks = {0};
    map_init(&ks.ids);
    /* the accounts: every key read by a read-only op of two reads or more (Jepsen's bank reads
     * every account in one transaction) */
    char *is_acct = NULL;
    int cap = 0;
    for (int i = 0; i < h->n; i++) {
        const struct txn_op *op = &h->ops[i];
        int ro = op->nmops >= 2;
        for (int j = 0; j < op->nmops; j++)
            ro &= op->mops[j].f == MOP_R;
        for (int j = 0; j < op->nmops; j++) {
            int kid = key_id(&ks, op->mops[j].key);
            if (kid >= cap) {
                int ncap = (kid + 1) * 2;
                is_acct = xrealloc(is_acct, (size_t)ncap);
                memset(is_acct + cap, 0, (size_t)(ncap - cap));
                cap = ncap;
            }
            if (ro)
                is_acct[kid] = 1;
        }
    }
    int naccts = 0;
    for (int k = 0; k < ks.n; k++)
        naccts += is_acct[k];
    int snapshots = 0, bad = 0, negative = 0;
    long long want = total;
    int *seen = xcalloc((size_t)(ks.n ? ks.n : 1), sizeof *seen);
    struct sb rep = {0};
    for (int i = 0; i < h->n && naccts; i++) {
        const struct txn_op *op = &h->ops[i];
        if (op->outcome != TX_OK)
            continue;
        memset(seen, 0, (size_t)ks.n * sizeof *seen);
        long long sum = 0;
        int covered = 0, numeric = 1;
        for (int j = 0; j < op->nmops; j++) {
            const struct mop *m = &op->mops[j];
            if (m->f != MOP_R || m->unknown)
                continue;
            int kid = key_id(&ks, m->key);
            if (kid >= cap || !is_acct[kid] || seen[kid])
                continue;
            long long b;
            if (!as_ll(m->value, &b)) {
                numeric = 0;
                continue;
            }
            seen[kid] = 1;
            covered++;
            sum += b;
            if (b < 0 && negative++ < MAX_REPORTS) {
                sb_add(&rep, "negative balance: ");
                txnhist_name(h, i, &rep);
                sb_printf(&rep, " read %s = %lld\n", m->key, b);
            }
        }
        if (covered != naccts || !numeric)
            continue;
        snapshots++;
        if (want < 0) {
            want = sum;
            continue;
        }
        if (sum == want)
            continue;
        if (bad++ >= MAX_REPORTS)
            continue;
        sb_add(&rep, "");
        txnhist_name(h, i, &rep);
        sb_printf(&rep, " read a total of %lld, not %lld (%lld %s): ", sum, want, sum < want ? want - sum : sum - want,
                  sum < want ? "missing" : "too many");
        txnhist_describe(op, &rep);
        sb_addc(&rep, '\n');
        /* what was in flight: transfers whose span overlaps the read's */
        int named = 0;
        for (int t = 0; t < h->n && named < 4; t++) {
            const struct txn_op *w = &h->ops[t];
            int adds = 0;
            for (int j = 0; j < w->nmops; j++)
                adds |= w->mops[j].f == MOP_ADD;
            int64_t wend = w->t_ret < 0 ? INT64_MAX : w->t_ret, rend = op->t_ret < 0 ? INT64_MAX : op->t_ret;
            if (!adds || t == i || w->t_inv > rend || wend < op->t_inv)
                continue;
            sb_add(&rep, "    in flight: ");
            txnhist_name(h, t, &rep);
            sb_addc(&rep, ' ');
            txnhist_describe(w, &rep);
            sb_add(&rep, w->outcome == TX_OK ? " (committed)\n" : w->outcome == TX_FAIL ? " (failed)\n" : " (indeterminate)\n");
            named++;
        }
        if (!named)
            sb_add(&rep, "    no transfer overlaps it: money was created or lost\n");
    }
    int rc;
    if (!naccts) {
        sb_add(out, "bank: no read-only transaction reads two keys or more (a read of every account): nothing to judge\n");
        rc = CL_EINVAL;
    } else if (!snapshots) {
        sb_printf(out, "bank: no committed transaction read all %d accounts: nothing to judge\n", naccts);
        rc = 0;
    } else if (!bad && !negative) {
        sb_printf(out, "bank: %d snapshot reads of %d accounts, every one totals %lld; no balance below zero\n", snapshots,
                  naccts, want < 0 ? 0 : want);
        rc = 0;
    } else {
        sb_printf(out, "bank NOT ok: %d of %d snapshot reads of %d accounts see another total than %lld; %d negative "
                  "balances\n", bad, snapshots, naccts, want, negative);
        sb_add(out, rep.s ? rep.s : "");
        rc = 1;
    }
    sb_free(&rep);
    free(seen);
    free(is_acct);
    map_free(&ks.ids);
    free(ks.k);
    return rc;
}

int txncheck_cli(const char *what, const char *file, struct sb *out, struct sb *errout)
{
    struct txnhist *h = NULL;
    char err[600];
    if (txnhist_load(file, &h, err, sizeof err)) {
        sb_printf(errout, "conlab check: %s\n", err);
        return 2;
    }
    int rc = !strcmp(what, "bank") ? txncheck_bank(h, -1, out) : txncheck_serializable(h, out);
    txnhist_free(&h);
    return rc == 0 ? 0 : rc == 1 ? 1 : 2;
}
