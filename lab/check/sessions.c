/* sessions — see sessions.h.
 *
 * The session check walks the events in order, keeping for every write w the set past[w] of
 * writes in its causal past (a bitset over writes) and for every process P its knowledge
 * K[P] (writes it issued or read, with their pasts) and R[P] (writes it read directly). A
 * read r of key k by P returning w_r violates a guarantee when P knows a definite write w1 of
 * k with w_r older than w1 (w_r in past[w1], or w_r nil). How w1 came to be known names the
 * guarantee: P wrote it (read-your-writes), P read it (monotonic reads), P read a later write
 * of w1's own session (monotonic writes) or of a session that had read w1
 * (writes-follow-reads). */
#include "sessions.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *sess_guarantee_name(enum sess_guarantee g)
{
    switch (g) {
    case SG_RYW: return "read-your-writes";
    case SG_MR: return "monotonic-reads";
    case SG_MW: return "monotonic-writes";
    case SG_WFR: return "writes-follow-reads";
    }
    return "?";
}

struct pev { int pos, op; bool ret; };

static int pev_cmp(const void *a, const void *b)
{
    const struct pev *x = a, *y = b;
    return (x->pos > y->pos) - (x->pos < y->pos);
}

static bool is_write(const struct hist_op *op)
{
    return (op->f == HF_WRITE || op->f == HF_CAS) && op->outcome != HO_FAIL;
}

static const char *written(const struct hist_op *op)
{
    return op->f == HF_CAS ? op->value2 : op->value;
}

/* process number -> dense index */
struct pmap {
    int64_t *keys;
    int n, cap;
};

static int pmap_get(struct pmap *m, int64_t p)
{
    for (int i = 0; i < m->n; i++)
        if (m->keys[i] == p)
            return i;
    if (m->n == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 16;
        m->keys = xrealloc(m->keys, (size_t)m->cap * sizeof *m->keys);
    }
    m->keys[m->n] = p;
    return m->n++;
}

/* key pointer (interned; NULL for a keyless register) -> dense index */
struct kmap {
    const char **keys;
    int *slots;             /* index + 1 */
    int n, cap;             /* cap: slots, a power of two */
};

static int key_index(struct kmap *m, const char *key)
{
    if ((m->n + 1) * 2 > m->cap) {
        int ncap = m->cap ? m->cap * 2 : 64;
        int *ns = xcalloc((size_t)ncap, sizeof *ns);
        for (int i = 0; i < m->n; i++) {
            size_t j = ((uintptr_t)m->keys[i] * 0x9E3779B97F4A7C15ull >> 17) & (size_t)(ncap - 1);
            while (ns[j])
                j = (j + 1) & (size_t)(ncap - 1);
            ns[j] = i + 1;
        }
        free(m->slots);
        m->slots = ns;
        m->cap = ncap;
        m->keys = xrealloc(m->keys, (size_t)ncap * sizeof *m->keys);
    }
    size_t j = ((uintptr_t)key * 0x9E3779B97F4A7C15ull >> 17) & (size_t)(m->cap - 1);
    while (m->slots[j]) {
        if (m->keys[m->slots[j] - 1] == key)
            return m->slots[j] - 1;
        j = (j + 1) & (size_t)(m->cap - 1);
    }
    m->keys[m->n] = key;
    m->slots[j] = ++m->n;
    return m->n - 1;
}

#define BIT(set, i) (((set)[(i) / 64] >> ((i) % 64)) & 1)
#define SETBIT(set, i) ((set)[(i) / 64] |= 1ull << ((i) % 64))

static void op_words(const struct history *h, int idx, struct sb *out)
{
    const struct hist_op *op = &h->ops[idx];
    history_describe_op(h, op, out);
    sb_printf(out, " by p%" PRId64 " [", op->process);
    history_describe_time(h, op->t_inv, out);
    sb_add(out, "..");
    if (op->outcome == HO_OK)
        history_describe_time(h, op->t_ret, out);
    else
        sb_add(out, "?");
    sb_add(out, "]");
}

int sessions_check(const struct history *h, struct sess_result **out)
{
    struct sess_result *r = xcalloc(1, sizeof *r);
    *out = r;
    /* number the writes */
    int *wid = xmalloc((size_t)(h->n + 1) * sizeof *wid);
    int W = 0;
    for (int i = 0; i < h->n; i++)
        wid[i] = is_write(&h->ops[i]) ? W++ : -1;
    r->n_writes = W;
    if (W > SESS_MAX_WRITES) {
        free(wid);
        r->verdict = 2;
        return 2;
    }
    int *wop = xmalloc((size_t)(W + 1) * sizeof *wop);
    for (int i = 0; i < h->n; i++)
        if (wid[i] >= 0)
            wop[wid[i]] = i;
    int words = (W + 63) / 64 + 1;
    uint64_t *past = xcalloc((size_t)(W + 1) * (size_t)words, sizeof *past);
    struct pmap pm = {0};
    for (int i = 0; i < h->n; i++)
        pmap_get(&pm, h->ops[i].process);
    int np = pm.n;
    uint64_t *K = xcalloc((size_t)np * (size_t)words, sizeof *K);
    uint64_t *Rd = xcalloc((size_t)np * (size_t)words, sizeof *Rd);
    /* each process's reads so far: (op, write id) */
    int **preads = xcalloc((size_t)np, sizeof *preads);
    int *npreads = xcalloc((size_t)np, sizeof *npreads), *cpreads = xcalloc((size_t)np, sizeof *cpreads);
    /* writes per key, for attribution and the floor scan */
    struct pev *ev = xmalloc((size_t)(2 * h->n + 1) * sizeof *ev);
    int ne = 0;
    for (int i = 0; i < h->n; i++) {
        ev[ne++] = (struct pev){h->ops[i].inv_pos, i, false};
        if (h->ops[i].completed)
            ev[ne++] = (struct pev){h->ops[i].ret_pos, i, true};
    }
    qsort(ev, (size_t)ne, sizeof *ev, pev_cmp);
    struct kmap km = {0};
    int nkeys = 0;
    for (int i = 0; i < h->n; i++)
        nkeys = key_index(&km, h->ops[i].key) + 1 > nkeys ? key_index(&km, h->ops[i].key) + 1
                                                           : nkeys;
    int **kwrites = xcalloc((size_t)nkeys + 1, sizeof *kwrites);
    int *nkwrites = xcalloc((size_t)nkeys + 1, sizeof *nkwrites);
    int *ckwrites = xcalloc((size_t)nkeys + 1, sizeof *ckwrites);
    for (int w = 0; w < W; w++) {
        int ki = key_index(&km, h->ops[wop[w]].key);
        if (nkwrites[ki] == ckwrites[ki]) {
            ckwrites[ki] = ckwrites[ki] ? ckwrites[ki] * 2 : 16;
            kwrites[ki] = xrealloc(kwrites[ki], (size_t)ckwrites[ki] * sizeof **kwrites);
        }
        kwrites[ki][nkwrites[ki]++] = w;
    }
    int *maxk = xmalloc((size_t)(W + 1) * sizeof *maxk);
    int vcap = 0;
    for (int e = 0; e < ne; e++) {
        int i = ev[e].op;
        const struct hist_op *op = &h->ops[i];
        int p = pmap_get(&pm, op->process);
        uint64_t *kp = K + (size_t)p * words;
        if (!ev[e].ret) {
            if (wid[i] >= 0) {
                memcpy(past + (size_t)wid[i] * words, kp, (size_t)words * sizeof *kp);
                SETBIT(kp, wid[i]);
            }
            continue;
        }
        if (op->f != HF_READ || op->outcome != HO_OK)
            continue;
        r->n_reads++;
        /* the writes of this key: known definite ones, reduced to the newest (a write in the
         * causal past of another known one adds nothing: pasts only grow) */
        int ki = key_index(&km, op->key);
        int *kw = kwrites[ki], nkw = nkwrites[ki];
        int nm = 0;
        for (int q = nkw - 1; q >= 0; q--) {
            int w = kw[q];
            if (!BIT(kp, w) || h->ops[wop[w]].outcome != HO_OK)
                continue;
            bool redundant = false;
            for (int t = 0; t < nm && !redundant; t++)
                redundant = BIT(past + (size_t)maxk[t] * words, w);
            if (!redundant)
                maxk[nm++] = w;
        }
        /* attribute: a write of the value read, begun before the read ended. Values may
         * repeat, so take the earliest one that breaks no guarantee (it teaches the session
         * the least, so no later read is blamed for knowledge the session may not have) */
        int got = -1, latest = -1;
        bool violated = false;
        if (op->value) {
            for (int q = 0; q < nkw; q++) {
                int c = kw[q];
                const struct hist_op *o = &h->ops[wop[c]];
                if (written(o) != op->value || o->inv_pos >= op->ret_pos)
                    continue;
                latest = c;
                if (got >= 0)
                    continue;
                bool older = false;
                for (int t = 0; t < nm && !older; t++)
                    older = maxk[t] != c && BIT(past + (size_t)maxk[t] * words, c);
                if (!older)
                    got = c;
            }
            if (latest < 0)
                continue;   /* a value nobody wrote: linearizability's business, not ours */
            if (got < 0) {
                got = latest;
                violated = true;
            }
        } else {
            violated = nm > 0;
        }
        int w1 = -1;
        enum sess_guarantee g = SG_WFR;
        for (int t = 0; t < nm && violated; t++) {
            int w = maxk[t];
            if (got >= 0 && (w == got || !BIT(past + (size_t)w * words, got)))
                continue;
            const struct hist_op *o = &h->ops[wop[w]];
            /* classify; keep the most specific */
            enum sess_guarantee gw;
            if (o->process == op->process)
                gw = SG_RYW;
            else if (BIT(Rd + (size_t)p * words, w))
                gw = SG_MR;
            else
                gw = SG_WFR; /* refined below */
            if (w1 < 0 || gw < g || (gw == g && w > w1)) {
                w1 = w;
                g = gw;
            }
        }
        if (w1 >= 0) {
            int via = -1;
            if (g == SG_MR) {
                for (int q = 0; q < npreads[p]; q++)
                    if (preads[p][2 * q + 1] == w1) {
                        via = preads[p][2 * q];
                        break;
                    }
            } else if (g == SG_WFR) {
                /* the read that carried w1: of some w2 with w1 in past[w2] */
                for (int q = 0; q < npreads[p]; q++) {
                    int w2 = preads[p][2 * q + 1];
                    if (BIT(past + (size_t)w2 * words, w1)) {
                        via = preads[p][2 * q];
                        if (h->ops[wop[w2]].process == h->ops[wop[w1]].process)
                            g = SG_MW;
                        break;
                    }
                }
            }
            if (r->n == vcap) {
                vcap = vcap ? vcap * 2 : 8;
                r->v = xrealloc(r->v, (size_t)vcap * sizeof *r->v);
            }
            struct sess_violation *v = &r->v[r->n++];
            v->g = g;
            v->read = i;
            v->newer = wop[w1];
            v->via = via;
            v->got = got >= 0 ? wop[got] : -1;
            r->counts[g]++;
            struct sb t = {0};
            sb_printf(&t, "%s: ", sess_guarantee_name(g));
            op_words(h, i, &t);
            sb_add(&t, " returned ");
            if (got >= 0) {
                sb_add(&t, "an older value (");
                op_words(h, wop[got], &t);
                sb_add(&t, " is in the causal past of ");
            } else {
                sb_add(&t, "nil, older than ");
            }
            op_words(h, wop[w1], &t);
            if (got >= 0)
                sb_add(&t, ")");
            switch (g) {
            case SG_RYW:
                sb_printf(&t, ", though p%" PRId64 " had itself written that.", op->process);
                break;
            case SG_MR:
                sb_printf(&t, ", though p%" PRId64 " had already read it", op->process);
                if (via >= 0) {
                    sb_add(&t, " (");
                    op_words(h, via, &t);
                    sb_add(&t, ")");
                }
                sb_add(&t, ".");
                break;
            case SG_MW:
            case SG_WFR:
                if (via >= 0) {
                    const struct hist_op *vo = &h->ops[via];
                    int w2 = -1;
                    for (int q = 0; q < npreads[p]; q++)
                        if (preads[p][2 * q] == via)
                            w2 = preads[p][2 * q + 1];
                    sb_printf(&t, ", though p%" PRId64 " had earlier ", op->process);
                    history_describe_op(h, vo, &t);
                    if (w2 >= 0) {
                        const struct hist_op *o2 = &h->ops[wop[w2]];
                        sb_add(&t, ", written by ");
                        op_words(h, wop[w2], &t);
                        if (g == SG_MW)
                            sb_printf(&t, " after p%" PRId64 "'s own ", o2->process);
                        else
                            sb_printf(&t, " after p%" PRId64 " had seen ", o2->process);
                        history_describe_op(h, &h->ops[wop[w1]], &t);
                        sb_add(&t, ".");
                    } else {
                        sb_add(&t, ".");
                    }
                } else {
                    sb_add(&t, ".");
                }
                break;
            }
            v->text = t.s;
        }
        /* learn */
        if (got >= 0) {
            uint64_t *pw = past + (size_t)got * words;
            for (int q = 0; q < words; q++)
                kp[q] |= pw[q];
            SETBIT(kp, got);
            SETBIT(Rd + (size_t)p * words, got);
            if (npreads[p] == cpreads[p]) {
                cpreads[p] = cpreads[p] ? cpreads[p] * 2 : 16;
                preads[p] = xrealloc(preads[p], (size_t)cpreads[p] * 2 * sizeof **preads);
            }
            preads[p][2 * npreads[p]] = i;
            preads[p][2 * npreads[p] + 1] = got;
            npreads[p]++;
        }
    }
    for (int k = 0; k < nkeys; k++)
        free(kwrites[k]);
    free(kwrites);
    free(nkwrites);
    free(ckwrites);
    free(maxk);
    free(km.keys);
    free(km.slots);
    for (int p = 0; p < np; p++)
        free(preads[p]);
    free(preads);
    free(npreads);
    free(cpreads);
    free(ev);
    free(K);
    free(Rd);
    free(past);
    free(wop);
    free(wid);
    free(pm.keys);
    r->verdict = r->n ? 1 : 0;
    return r->verdict;
}

void sess_result_free(struct sess_result **rp)
{
    if (!rp || !*rp)
        return;
    for (int i = 0; i < (*rp)->n; i++)
        free((*rp)->v[i].text);
    free((*rp)->v);
    free(*rp);
    *rp = NULL;
}

void sessions_format(const struct history *h, const struct sess_result *r, struct sb *out)
{
    (void)h;
    if (r->verdict == 2) {
        sb_printf(out, "unknown: %d writes is more than the session check handles (%d)\n",
                  r->n_writes, SESS_MAX_WRITES);
        return;
    }
    if (r->verdict == 0) {
        sb_printf(out, "session guarantees hold: read-your-writes, monotonic reads, monotonic "
                  "writes, writes-follow-reads (%d reads, %d writes)\n", r->n_reads, r->n_writes);
        return;
    }
    sb_printf(out, "session guarantees VIOLATED:");
    for (int g = 0; g < 4; g++)
        if (r->counts[g])
            sb_printf(out, " %s x%d", sess_guarantee_name((enum sess_guarantee)g), r->counts[g]);
    sb_add(out, "\n");
    int shown = r->n < 20 ? r->n : 20;
    for (int i = 0; i < shown; i++)
        sb_printf(out, "  %s\n", r->v[i].text);
    if (shown < r->n)
        sb_printf(out, "  ... and %d more\n", r->n - shown);
}

/* ---- sequential consistency --------------------------------------------------------------- */

struct sq {
    const struct history *h;
    int np;
    int **pops;             /* per process: op indexes in order */
    int *plen;
    int *pos;               /* per process: next op */
    const char **keys;      /* distinct keys */
    int nkeys;
    int *keyidx;            /* op -> key index */
    const char **state;     /* per key */
    int *order, depth, best_depth, *best;
    uint64_t deadline, iter;
    bool timeout;
    /* visited set: hashes of (pos, state) with full keys */
    uint64_t *vh;
    char **vk;
    size_t vcap, vn;
    size_t keylen;
};

static size_t sq_key(struct sq *s, char *buf)
{
    size_t n = 0;
    memcpy(buf, s->pos, (size_t)s->np * sizeof(int));
    n += (size_t)s->np * sizeof(int);
    memcpy(buf + n, s->state, (size_t)s->nkeys * sizeof(char *));
    n += (size_t)s->nkeys * sizeof(char *);
    return n;
}

static bool sq_visit(struct sq *s)
{
    char *buf = xmalloc(s->keylen);
    sq_key(s, buf);
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < s->keylen; i++)
        h = (h ^ (unsigned char)buf[i]) * 1099511628211ull;
    if ((s->vn + 1) * 2 > s->vcap) {
        size_t ncap = s->vcap ? s->vcap * 2 : 1024;
        uint64_t *nh = xcalloc(ncap, sizeof *nh);
        char **nk = xcalloc(ncap, sizeof *nk);
        for (size_t i = 0; i < s->vcap; i++) {
            if (!s->vk[i])
                continue;
            size_t j = s->vh[i] & (ncap - 1);
            while (nk[j])
                j = (j + 1) & (ncap - 1);
            nh[j] = s->vh[i];
            nk[j] = s->vk[i];
        }
        free(s->vh);
        free(s->vk);
        s->vh = nh;
        s->vk = nk;
        s->vcap = ncap;
    }
    size_t j = h & (s->vcap - 1);
    while (s->vk[j]) {
        if (s->vh[j] == h && !memcmp(s->vk[j], buf, s->keylen)) {
            free(buf);
            return false;
        }
        j = (j + 1) & (s->vcap - 1);
    }
    s->vh[j] = h;
    s->vk[j] = buf;
    s->vn++;
    return true;
}

static bool sq_dfs(struct sq *s)
{
    if (s->deadline && (++s->iter & 255) == 0 && mono_us() > s->deadline) {
        s->timeout = true;
        return false;
    }
    if (s->timeout)
        return false;
    bool done = true;
    for (int p = 0; p < s->np; p++)
        if (s->pos[p] < s->plen[p])
            done = false;
    if (done)
        return true;
    if (!sq_visit(s))
        return false;
    for (int p = 0; p < s->np; p++) {
        if (s->pos[p] >= s->plen[p])
            continue;
        int i = s->pops[p][s->pos[p]];
        const struct hist_op *op = &s->h->ops[i];
        int k = s->keyidx[i];
        const char *old = s->state[k];
        bool ok = false;
        switch (op->f) {
        case HF_READ: ok = old == op->value; break;
        case HF_WRITE: ok = true; s->state[k] = op->value; break;
        case HF_CAS:
            ok = old == op->value;
            if (ok)
                s->state[k] = op->value2;
            break;
        default: break;
        }
        s->pos[p]++;
        if (ok) {
            s->order[s->depth++] = i;
            if (s->depth > s->best_depth) {
                s->best_depth = s->depth;
                memcpy(s->best, s->order, (size_t)s->depth * sizeof *s->order);
            }
            if (sq_dfs(s))
                return true;
            s->depth--;
        }
        s->state[k] = old;
        /* an indeterminate write may also never take effect */
        if (op->outcome == HO_INFO && sq_dfs(s))
            return true;
        s->pos[p]--;
        if (s->timeout)
            return false;
    }
    return false;
}

int seqcheck_run(const struct history *h, double time_limit_s, struct sb *out)
{
    int n = 0;
    for (int i = 0; i < h->n; i++) {
        const struct hist_op *op = &h->ops[i];
        if (op->f == HF_APPEND || op->f == HF_OTHER) {
            sb_printf(out, "unknown: the sequential-consistency check knows read, write and cas "
                      "only (found %s)\n", op->fname);
            return 2;
        }
        if (op->outcome == HO_FAIL || (op->f == HF_READ && op->outcome != HO_OK))
            continue;
        n++;
    }
    if (n > SEQ_MAX_OPS) {
        sb_printf(out, "unknown: %d operations is more than the sequential-consistency search "
                  "takes (%d); it is meant for small teaching histories\n", n, SEQ_MAX_OPS);
        return 2;
    }
    struct sq s = {.h = h};
    struct pmap pm = {0};
    for (int i = 0; i < h->n; i++)
        pmap_get(&pm, h->ops[i].process);
    s.np = pm.n;
    s.pops = xcalloc((size_t)s.np, sizeof *s.pops);
    s.plen = xcalloc((size_t)s.np, sizeof *s.plen);
    s.pos = xcalloc((size_t)s.np, sizeof *s.pos);
    s.keyidx = xcalloc((size_t)h->n, sizeof *s.keyidx);
    s.keys = xcalloc((size_t)h->n + 1, sizeof *s.keys);
    for (int i = 0; i < h->n; i++) {
        const struct hist_op *op = &h->ops[i];
        if (op->outcome == HO_FAIL || (op->f == HF_READ && op->outcome != HO_OK))
            continue;
        int p = pmap_get(&pm, op->process);
        if (!s.pops[p])
            s.pops[p] = xmalloc((size_t)h->n * sizeof **s.pops);
        s.pops[p][s.plen[p]++] = i;   /* ops are in invocation order: each process's order */
        int k = 0;
        while (k < s.nkeys && s.keys[k] != op->key)
            k++;
        if (k == s.nkeys)
            s.keys[s.nkeys++] = op->key;
        s.keyidx[i] = k;
    }
    s.state = xcalloc((size_t)s.nkeys + 1, sizeof *s.state);
    s.order = xmalloc((size_t)(n + 1) * sizeof *s.order);
    s.best = xmalloc((size_t)(n + 1) * sizeof *s.best);
    s.keylen = (size_t)s.np * sizeof(int) + (size_t)s.nkeys * sizeof(char *);
    s.deadline = time_limit_s > 0 ? mono_us() + (uint64_t)(time_limit_s * 1e6) : 0;
    bool ok = sq_dfs(&s);
    int rc;
    const int *seq = ok ? s.order : s.best;
    int len = ok ? s.depth : s.best_depth;
    if (ok) {
        sb_printf(out, "sequentially consistent: one order of the %d operations keeps every "
                  "process's own order and the register rules:\n  ", n);
        rc = 0;
    } else if (s.timeout) {
        sb_printf(out, "unknown: the time limit ran out\n");
        rc = 2;
        len = 0;
    } else {
        sb_printf(out, "NOT sequentially consistent: no single order of the %d operations keeps "
                  "every process's own order and the register rules. The longest order found:"
                  "\n  ", n);
        rc = 1;
    }
    for (int i = 0; i < len; i++) {
        if (i)
            sb_add(out, ", ");
        history_describe_op(h, &h->ops[seq[i]], out);
        sb_printf(out, " (p%" PRId64 ")", h->ops[seq[i]].process);
    }
    if (len || rc != 2)
        sb_add(out, "\n");
    for (int p = 0; p < s.np; p++)
        free(s.pops[p]);
    for (size_t i = 0; i < s.vcap; i++)
        free(s.vk[i]);
    free(s.vk);
    free(s.vh);
    free(s.pops);
    free(s.plen);
    free(s.pos);
    free(s.keyidx);
    free(s.keys);
    free(s.state);
    free(s.order);
    free(s.best);
    free(pm.keys);
    return rc;
}

/* ---- convergence -------------------------------------------------------------------------- */

static const char *lookup(const struct replica *r, const char *key)
{
    for (int i = 0; i < r->n; i++)
        if (!strcmp(r->keys[i], key))
            return r->values[i];
    return NULL;
}

int convergence_check(const struct replica *r, int n, struct sb *out)
{
    int live = 0, first = -1;
    for (int i = 0; i < n; i++)
        if (r[i].live) {
            live++;
            if (first < 0)
                first = i;
        }
    if (live <= 1) {
        sb_printf(out, "converged: %d live replica%s\n", live, live == 1 ? "" : "s");
        return 0;
    }
    int bad = 0;
    /* every key any live replica holds */
    for (int i = 0; i < n; i++) {
        if (!r[i].live)
            continue;
        for (int k = 0; k < r[i].n; k++) {
            const char *key = r[i].keys[k];
            /* report each key once: at the first live replica holding it */
            bool seen = false;
            for (int j = 0; j < i && !seen; j++)
                seen = r[j].live && lookup(&r[j], key);
            if (seen)
                continue;
            const char *v0 = r[i].values[k];
            bool same = true;
            for (int j = 0; j < n; j++) {
                if (!r[j].live)
                    continue;
                const char *v = lookup(&r[j], key);
                if (!v || strcmp(v, v0))
                    same = false;
            }
            if (same)
                continue;
            if (bad++ == 0)
                sb_add(out, "NOT converged: live replicas differ\n");
            sb_add(out, "  ");
            sb_add_escaped(out, key, strlen(key));
            sb_add(out, ":");
            for (int j = 0; j < n; j++) {
                if (!r[j].live)
                    continue;
                const char *v = lookup(&r[j], key);
                sb_printf(out, " %s=", r[j].node);
                if (v)
                    sb_add_escaped(out, v, strlen(v));
                else
                    sb_add(out, "(absent)");
            }
            sb_add(out, "\n");
        }
    }
    if (!bad)
        sb_printf(out, "converged: %d live replicas hold the same data (%d keys)\n", live,
                  r[first].n);
    return bad ? 1 : 0;
}
