/* causal — see causal.h. */
#include "causal.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "jtext.h"

#define MAX_REPORTS 5

struct session {
    int64_t process;
    const char *node;
    unsigned char *seen;    /* bit w: write number w observed */
    int *via;               /* per write observed: the op of this session that brought it
                             * (its own write, or a read), or -1 */
};

struct causal {
    const struct history *h;
    int nw;                 /* writes */
    int *wop;               /* write number -> op index */
    int *opw;               /* op index -> write number, or -1 */
    unsigned char **deps;   /* per write: bitset of the writes that causally precede it */
    size_t bytes;           /* bitset size */
    struct session *s;
    int ns;
};

static int bit(const unsigned char *b, int i) { return b[i >> 3] >> (i & 7) & 1; }
static void set_bit(unsigned char *b, int i) { b[i >> 3] |= (unsigned char)(1u << (i & 7)); }

static struct session *session_of(struct causal *c, const struct hist_op *op)
{
    for (int i = 0; i < c->ns; i++)
        if (c->s[i].process == op->process && c->s[i].node == op->node)
            return &c->s[i];
    c->s = xrealloc(c->s, (size_t)(c->ns + 1) * sizeof *c->s);
    struct session *s = &c->s[c->ns++];
    s->process = op->process;
    s->node = op->node;
    s->seen = xcalloc(c->bytes, 1);
    s->via = xcalloc((size_t)(c->nw ? c->nw : 1), sizeof *s->via);
    for (int i = 0; i < c->nw; i++)
        s->via[i] = -1;
    return s;
}

/* The write whose value a read of key returned: the latest one of that key and value invoked
 * before the read ended; -1 when none. */
static int write_of(const struct causal *c, const struct hist_op *r)
{
    int best = -1;
    for (int w = 0; w < c->nw; w++) {
        const struct hist_op *op = &c->h->ops[c->wop[w]];
        if (op->key != r->key || op->value != r->value)
            continue;
        if (r->ret_pos >= 0 && op->inv_pos > r->ret_pos)
            continue;
        if (best < 0 || op->inv_pos > c->h->ops[c->wop[best]].inv_pos)
            best = w;
    }
    return best;
}

static void op_text(const struct causal *c, int opi, struct sb *out)
{
    const struct hist_op *op = &c->h->ops[opi];
    sb_printf(out, "%s %s", op->f == HF_WRITE ? "write" : "read", op->key ? op->key : "");
    if (op->f == HF_WRITE || op->value)
        sb_printf(out, "=%s", op->value ? jtext_show(op->value) : "nil");
    else
        sb_add(out, "=nil");
    sb_printf(out, " by p%" PRId64 " at %s", op->process, op->node ? op->node : "?");
}

/* "write post=1 by p0 at n1 → read … → write reply=1 … → read reply=1 …": how session s came
 * to depend on write w. */
static void chain_text(const struct causal *c, const struct session *s, int w, struct sb *out)
{
    int via = s->via[w];
    op_text(c, c->wop[w], out);
    if (via < 0 || via == c->wop[w])
        return;
    /* the op that brought it: a read of a write x with w among x's causes (or x == w) */
    const struct hist_op *r = &c->h->ops[via];
    int x = r->f == HF_READ ? write_of(c, r) : c->opw[via];
    if (x >= 0 && x != w) {
        /* one step back along x's session: who there brought w */
        for (int i = 0; i < c->ns; i++) {
            const struct session *t = &c->s[i];
            const struct hist_op *xo = &c->h->ops[c->wop[x]];
            if (t->process != xo->process || t->node != xo->node)
                continue;
            if (t->via[w] >= 0 && t->via[w] != c->wop[w]) {
                sb_add(out, " → ");
                op_text(c, t->via[w], out);
            }
        }
        sb_add(out, " → ");
        op_text(c, c->wop[x], out);
    }
    if (r->f == HF_READ) {
        sb_add(out, " → ");
        op_text(c, via, out);
    }
}

/* s observes write w (and its causes) through op via. */
static void observe(struct causal *c, struct session *s, int w, int via)
{
    for (size_t b = 0; b < c->bytes; b++) {
        unsigned char add = (unsigned char)(c->deps[w][b] & ~s->seen[b]);
        if (!add)
            continue;
        for (int k = 0; k < 8; k++)
            if (add >> k & 1)
                s->via[(int)b * 8 + k] = via;
        s->seen[b] |= c->deps[w][b];
    }
    if (!bit(s->seen, w)) {
        set_bit(s->seen, w);
        s->via[w] = via;
    }
}

int causal_check(const struct history *h, struct sb *out)
{
    struct causal c = {.h = h};
    c.opw = xcalloc((size_t)(h->n ? h->n : 1), sizeof *c.opw);
    c.wop = xcalloc((size_t)(h->n ? h->n : 1), sizeof *c.wop);
    for (int i = 0; i < h->n; i++) {
        c.opw[i] = -1;
        const struct hist_op *op = &h->ops[i];
        if (op->f == HF_WRITE && op->outcome != HO_FAIL) {
            c.opw[i] = c.nw;
            c.wop[c.nw++] = i;
        }
    }
    if (c.nw > CAUSAL_MAX_WRITES) {
        sb_printf(out, "unknown: %d writes, more than the causal checker takes (%d)\n", c.nw, CAUSAL_MAX_WRITES);
        free(c.opw);
        free(c.wop);
        return 2;
    }
    c.bytes = (size_t)(c.nw + 7) / 8 + 1;
    c.deps = xcalloc((size_t)(c.nw ? c.nw : 1), sizeof *c.deps);
    int violations = 0, reads = 0;
    for (int i = 0; i < h->n; i++) {
        const struct hist_op *op = &h->ops[i];
        struct session *s = session_of(&c, op);
        if (op->f == HF_WRITE && c.opw[i] >= 0) {
            int w = c.opw[i];
            c.deps[w] = xcalloc(c.bytes, 1);
            memcpy(c.deps[w], s->seen, c.bytes);
            if (op->outcome == HO_OK)
                observe(&c, s, w, i);
            continue;
        }
        if (op->f != HF_READ || op->outcome != HO_OK)
            continue;
        reads++;
        int got = op->value ? write_of(&c, op) : -1;
        /* the newest write of this key the session observed that the read should include */
        int missed = -1;
        for (int w = 0; w < c.nw && missed < 0; w++) {
            if (!bit(s->seen, w) || h->ops[c.wop[w]].key != op->key || w == got)
                continue;
            if (got < 0 || bit(c.deps[w], got))
                missed = w; /* nil, or the read returned one of w's causes: older than w */
        }
        if (missed >= 0) {
            violations++;
            if (violations <= MAX_REPORTS) {
                sb_add(out, "NOT causal: ");
                op_text(&c, i, out);
                sb_printf(out, " (op %d), but that session had already observed ", i + 1);
                op_text(&c, c.wop[missed], out);
                sb_add(out, got < 0 ? ": it saw an effect without its cause\n" : ", which supersedes what it read\n");
                sb_add(out, "  chain: ");
                chain_text(&c, s, missed, out);
                sb_add(out, " → ");
                op_text(&c, i, out);
                sb_add(out, "\n");
            }
        }
        if (got >= 0)
            observe(&c, s, got, i);
    }
    if (violations > MAX_REPORTS)
        sb_printf(out, "… and %d more\n", violations - MAX_REPORTS);
    if (!violations)
        sb_printf(out, "causal: %d reads in %d sessions (a client at a node) never saw an effect without its cause (%d writes)\n",
                  reads, c.ns, c.nw);
    for (int i = 0; i < c.ns; i++) {
        free(c.s[i].seen);
        free(c.s[i].via);
    }
    free(c.s);
    for (int w = 0; w < c.nw; w++)
        free(c.deps[w]);
    free(c.deps);
    free(c.opw);
    free(c.wop);
    return violations ? 1 : 0;
}
