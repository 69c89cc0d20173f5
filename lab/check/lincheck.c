/* lincheck — see lincheck.h.
 *
 * Shape of a check: history -> groups of operations per key -> for each key a list of "kops"
 * (the operations the model sees, values as small integer ids) -> the search. On a failing
 * key: cut the key's history to the shortest failing prefix, weaken every operation that
 * does not matter to "indeterminate", search the rest once more tracking the longest partial
 * linearization, and explain in words.
 *
 * Soundness of the minimisation (why the sub-history proves the whole one wrong):
 *  - making an operation indeterminate only allows more linearizations, so if the weakened
 *    history is still not linearizable, neither is the original;
 *  - cutting at a point c (dropping operations invoked after c, making operations still
 *    running at c indeterminate) keeps a prefix of any linearization, so a failing prefix
 *    implies a failing whole; failing prefixes are monotone in c, so a binary search finds the
 *    shortest.
 */
#include "lincheck.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jtext.h"
#include "timeline.h"

enum { K_READ, K_WRITE, K_CAS, K_APPEND };

#define LIN_MAX_MEMORY ((size_t)1 << 30)   /* a search's memory, in bytes: then unknown */
#define LIN_FIRST_ROUND 4096                /* configurations per key in the first round */
#define LIN_LAST_ROUND (1u << 24)           /* the last capped round; then no cap */

struct kop {
    int inv, ret;           /* event positions; ret INT_MAX when indeterminate */
    int f, a, b;            /* kind and value ids (0 = nil) */
    int idx;                /* index of the op in the history */
};

/* ---- value ids ---------------------------------------------------------------------------- */

struct vtab {
    const char **str;       /* id -> string (NULL for id 0, nil) */
    size_t *len;
    uint64_t *hash;         /* id -> FNV-1a of its bytes (so a concatenation's hash costs only
                               its argument's bytes) */
    bool *owned;
    int n, cap;
    int *slots;             /* open addressing: content -> id+1 */
    size_t scap;
    uint64_t *ckey;         /* append memo: (state,arg) -> id+1 */
    int *cval;
    size_t ccap, cn;
    bool kv;
    size_t owned_bytes;     /* the strings it owns (append states) */
    size_t bytes;           /* what the table holds (its arrays and its own strings) */
};

static void vt_account(struct vtab *v)
{
    v->bytes = (size_t)v->cap * (sizeof *v->str + sizeof *v->len + sizeof *v->hash + sizeof *v->owned) +
               v->scap * sizeof *v->slots + v->ccap * (sizeof *v->ckey + sizeof *v->cval) + v->owned_bytes;
}

#define FNV_OFFSET 1469598103934665603ull

static uint64_t hmore(uint64_t h, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

static uint64_t hbytes(const char *s, size_t n)
{
    uint64_t h = FNV_OFFSET;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

static void vt_init(struct vtab *v, bool kv)
{
    memset(v, 0, sizeof *v);
    v->kv = kv;
    v->cap = 64;
    v->str = xcalloc((size_t)v->cap, sizeof *v->str);
    v->len = xcalloc((size_t)v->cap, sizeof *v->len);
    v->hash = xcalloc((size_t)v->cap, sizeof *v->hash);
    v->owned = xcalloc((size_t)v->cap, sizeof *v->owned);
    v->n = 1; /* id 0 is nil */
    v->hash[0] = FNV_OFFSET;
    v->scap = 256;
    v->slots = xcalloc(v->scap, sizeof *v->slots);
    vt_account(v);
}

static void vt_free(struct vtab *v)
{
    for (int i = 0; i < v->n; i++)
        if (v->owned[i])
            free((char *)v->str[i]);
    free(v->str);
    free(v->len);
    free(v->hash);
    free(v->owned);
    free(v->slots);
    free(v->ckey);
    free(v->cval);
}

static void vt_rehash(struct vtab *v)
{
    free(v->slots);
    v->scap *= 2;
    v->slots = xcalloc(v->scap, sizeof *v->slots);
    for (int id = 1; id < v->n; id++) {
        size_t j = v->hash[id] & (v->scap - 1);
        while (v->slots[j])
            j = (j + 1) & (v->scap - 1);
        v->slots[j] = id + 1;
    }
}

/* Inserts s (len bytes, hash h) as a new id at free slot j. */
static int vt_insert(struct vtab *v, const char *s, size_t n, uint64_t h, bool own, size_t j)
{
    if (v->n == v->cap) {
        v->cap *= 2;
        v->str = xrealloc(v->str, (size_t)v->cap * sizeof *v->str);
        v->len = xrealloc(v->len, (size_t)v->cap * sizeof *v->len);
        v->hash = xrealloc(v->hash, (size_t)v->cap * sizeof *v->hash);
        v->owned = xrealloc(v->owned, (size_t)v->cap * sizeof *v->owned);
    }
    int id = v->n++;
    v->str[id] = s;
    v->len[id] = n;
    v->hash[id] = h;
    v->owned[id] = own;
    v->slots[j] = id + 1;
    if (own)
        v->owned_bytes += n + 1;
    if ((size_t)v->n * 2 > v->scap)
        vt_rehash(v);
    vt_account(v);
    return id;
}

/* id of s (len bytes); takes ownership of s when own and s is new, else frees it. */
static int vt_id_n(struct vtab *v, const char *s, size_t n, bool own)
{
    if (!s || (v->kv && n == 0)) {
        if (own)
            free((char *)s);
        return 0;
    }
    uint64_t h = hbytes(s, n);
    size_t j = h & (v->scap - 1);
    while (v->slots[j]) {
        int id = v->slots[j] - 1;
        if (v->hash[id] == h && v->len[id] == n && !memcmp(v->str[id], s, n)) {
            if (own)
                free((char *)s);
            return id;
        }
        j = (j + 1) & (v->scap - 1);
    }
    return vt_insert(v, s, n, h, own, j);
}

static int vt_id(struct vtab *v, const char *s)
{
    return s ? vt_id_n(v, s, strlen(s), false) : 0;
}

/* Slot of a memo key: a full 64-bit mix, so that both halves (state and argument) reach the
 * low bits the mask keeps (a plain multiply leaves the state out of them). */
static size_t memo_slot(uint64_t key, size_t cap)
{
    key ^= key >> 33;
    key *= 0xFF51AFD7ED558CCDull;
    key ^= key >> 33;
    key *= 0xC4CEB9FE1A85EC53ull;
    key ^= key >> 33;
    return key & (cap - 1);
}

static int vt_concat(struct vtab *v, int state, int arg)
{
    uint64_t key = ((uint64_t)(uint32_t)state << 32) | (uint32_t)arg;
    if (v->cn * 2 >= v->ccap) {
        size_t ncap = v->ccap ? v->ccap * 2 : 1024;
        uint64_t *nk = xcalloc(ncap, sizeof *nk);
        int *nv = xcalloc(ncap, sizeof *nv);
        for (size_t i = 0; i < v->ccap; i++) {
            if (!v->cval[i])
                continue;
            size_t j = memo_slot(v->ckey[i], ncap);
            while (nv[j])
                j = (j + 1) & (ncap - 1);
            nk[j] = v->ckey[i];
            nv[j] = v->cval[i];
        }
        free(v->ckey);
        free(v->cval);
        v->ckey = nk;
        v->cval = nv;
        v->ccap = ncap;
    }
    size_t j = memo_slot(key, v->ccap);
    while (v->cval[j]) {
        if (v->ckey[j] == key)
            return v->cval[j] - 1;
        j = (j + 1) & (v->ccap - 1);
    }
    size_t la = state ? v->len[state] : 0, lb = arg ? v->len[arg] : 0;
    int id = 0;
    if (la + lb > 0 || !v->kv) {
        /* the hash of state+arg continues the state's: only the argument's bytes are read; the
         * string is built only when it is new */
        uint64_t h = hmore(v->hash[state], arg ? v->str[arg] : "", lb);
        size_t k = h & (v->scap - 1);
        id = -1;
        while (v->slots[k]) {
            int c = v->slots[k] - 1;
            if (v->hash[c] == h && v->len[c] == la + lb && (!la || !memcmp(v->str[c], v->str[state], la)) &&
                (!lb || !memcmp(v->str[c] + la, v->str[arg], lb))) {
                id = c;
                break;
            }
            k = (k + 1) & (v->scap - 1);
        }
        if (id < 0) {
            char *s = xmalloc(la + lb + 1);
            if (la)
                memcpy(s, v->str[state], la);
            if (lb)
                memcpy(s + la, v->str[arg], lb);
            s[la + lb] = 0;
            id = vt_insert(v, s, la + lb, h, true, k);
        }
    }
    v->ckey[j] = key;
    v->cval[j] = id + 1;
    v->cn++;
    vt_account(v);
    return id;
}

static const char *vt_str(const struct vtab *v, int id)
{
    return id ? v->str[id] : NULL;
}

/* The model's step: the new state, or -1 when the operation cannot take effect in state. */
static int step(struct vtab *v, int state, const struct kop *o)
{
    switch (o->f) {
    case K_READ: return state == o->a ? state : -1;
    case K_WRITE: return o->a;
    case K_CAS: return state == o->a ? o->b : -1;
    case K_APPEND: return vt_concat(v, state, o->a);
    }
    return -1;
}

/* ---- the search --------------------------------------------------------------------------- */

/* The configurations already explored: (set of linearized operations, model state). A set is
 * stored compressed, because a plain bitset costs n bits per configuration and a long history
 * explores about n configurations (n^2 bits: 450 MB for 60 000 operations). Operations are
 * numbered definite ones first, in invocation order, then indeterminate ones, from a word
 * boundary. Definite operations are linearized roughly in order, so their bits are a run of
 * full words, a short window, then zeros; the indeterminate bits are kept as they are, up to
 * the last one set. Encoded as: full words | window words | indeterminate words | the words.
 *
 * Memory is accounted for what is really allocated — the table, the arena, and during a
 * growth the old and the new blocks together — and the search stops (unknown, out of memory)
 * before an allocation would pass the cap. */
struct cache {
    uint64_t *hash;
    int32_t *state;
    uint64_t *at;           /* arena offset (in words) of the encoding + 1; 0 = empty */
    size_t cap, n;
    uint64_t *arena;        /* encodings, back to back */
    size_t arena_len, arena_cap;
    int dwords, iwords;     /* words of the definite and the indeterminate parts */
    size_t fixed;           /* bytes the search holds besides the cache */
    const struct vtab *vt;  /* the values (append states grow it during the search) */
    size_t limit, peak;     /* the cap and the most ever held, in bytes */
    uint64_t *enc;          /* scratch: one encoding */
};

static size_t cache_bytes(const struct cache *c)
{
    return c->fixed + c->vt->bytes + c->cap * (sizeof *c->hash + sizeof *c->state + sizeof *c->at) +
           c->arena_cap * sizeof *c->arena;
}

/* Would holding `extra` more bytes (besides what is held) stay within the cap? Records the peak. */
static bool cache_afford(struct cache *c, size_t extra)
{
    size_t total = cache_bytes(c) + extra;
    if (c->limit && total > c->limit)
        return false;
    if (total > c->peak)
        c->peak = total;
    return true;
}

static bool cache_init(struct cache *c, const struct vtab *vt, int dwords, int iwords, size_t fixed,
                       size_t limit)
{
    memset(c, 0, sizeof *c);
    c->vt = vt;
    c->dwords = dwords;
    c->iwords = iwords;
    c->fixed = fixed + (size_t)(3 + dwords + iwords) * sizeof(uint64_t);
    c->limit = limit;
    c->enc = xmalloc((size_t)(3 + dwords + iwords) * sizeof *c->enc);
    if (!cache_afford(c, 1024 * (sizeof *c->hash + sizeof *c->state + sizeof *c->at)))
        return false;
    c->cap = 1024;
    c->hash = xcalloc(c->cap, sizeof *c->hash);
    c->state = xcalloc(c->cap, sizeof *c->state);
    c->at = xcalloc(c->cap, sizeof *c->at);
    return true;
}

static void cache_free(struct cache *c)
{
    free(c->hash);
    free(c->state);
    free(c->at);
    free(c->arena);
    free(c->enc);
}

static bool cache_grow(struct cache *c)
{
    size_t ncap = c->cap * 2;
    if (!cache_afford(c, ncap * (sizeof *c->hash + sizeof *c->state + sizeof *c->at)))
        return false;
    uint64_t *nh = xcalloc(ncap, sizeof *nh);
    int32_t *ns = xcalloc(ncap, sizeof *ns);
    uint64_t *na = xcalloc(ncap, sizeof *na);
    for (size_t i = 0; i < c->cap; i++) {
        if (!c->at[i])
            continue;
        size_t j = c->hash[i] & (ncap - 1);
        while (na[j])
            j = (j + 1) & (ncap - 1);
        nh[j] = c->hash[i];
        ns[j] = c->state[i];
        na[j] = c->at[i];
    }
    free(c->hash);
    free(c->state);
    free(c->at);
    c->hash = nh;
    c->state = ns;
    c->at = na;
    c->cap = ncap;
    return true;
}

/* Encodes bits into c->enc; returns its length in words. */
static size_t encode(struct cache *c, const uint64_t *bits)
{
    int d = c->dwords, full = 0, last = -1, ilast = -1;
    while (full < d && bits[full] == ~0ull)
        full++;
    for (int w = d - 1; w >= full; w--)
        if (bits[w]) {
            last = w;
            break;
        }
    for (int w = c->iwords - 1; w >= 0; w--)
        if (bits[d + w]) {
            ilast = w;
            break;
        }
    size_t win = last >= full ? (size_t)(last - full + 1) : 0, ind = (size_t)(ilast + 1);
    c->enc[0] = (uint64_t)full;
    c->enc[1] = win;
    c->enc[2] = ind;
    memcpy(c->enc + 3, bits + full, win * sizeof *bits);
    memcpy(c->enc + 3 + win, bits + d, ind * sizeof *bits);
    return 3 + win + ind;
}

/* Adds (bits, state). Returns 1 if it was new, 0 if known, -1 when the memory cap stops it. */
static int cache_add(struct cache *c, const uint64_t *bits, uint64_t h, int state)
{
    size_t len = encode(c, bits);
    size_t j = h & (c->cap - 1);
    while (c->at[j]) {
        const uint64_t *e = c->arena + c->at[j] - 1;
        if (c->hash[j] == h && c->state[j] == state && e[1] == c->enc[1] && e[2] == c->enc[2] &&
            !memcmp(e, c->enc, len * sizeof *e))
            return 0;
        j = (j + 1) & (c->cap - 1);
    }
    if (c->arena_len + len > c->arena_cap) {
        size_t ncap = c->arena_cap ? c->arena_cap * 2 : 4096;
        while (ncap < c->arena_len + len)
            ncap *= 2;
        if (!cache_afford(c, ncap * sizeof *c->arena))   /* old and new blocks, while copying */
            return -1;
        c->arena = xrealloc(c->arena, ncap * sizeof *c->arena);
        c->arena_cap = ncap;
    }
    memcpy(c->arena + c->arena_len, c->enc, len * sizeof *c->enc);
    c->hash[j] = h;
    c->state[j] = state;
    c->at[j] = c->arena_len + 1;
    c->arena_len += len;
    c->n++;
    if (c->n * 2 > c->cap && !cache_grow(c))
        return -1;
    return 1;
}

struct ent { int pos, op; bool call; };

static int ent_cmp(const void *a, const void *b)
{
    const struct ent *x = a, *y = b;
    return (x->pos > y->pos) - (x->pos < y->pos);
}

struct track {
    int *seq, n;            /* longest partial linearization: kop indexes */
    int state;
};

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* What a search may spend, and what it reports back. */
struct budget {
    uint64_t deadline;      /* mono µs; 0 = none */
    size_t memory;          /* bytes; 0 = none */
    uint64_t configs;       /* out: configurations explored (added up) */
    size_t peak;            /* out: the most memory held by one search */
    bool out_of_memory;     /* out: a search stopped at the memory cap */
    uint64_t max_configs;   /* a search may remember this many configurations; 0 = no cap */
    bool over_configs;      /* out: a search stopped at max_configs (undecided, try again) */
    const struct lin_opts *o;   /* o->progress, called every LIN_TICK_US during a search */
    const char *key;            /* the key being searched */
    uint64_t t0, next_tick;     /* mono µs: the check's start, the next progress report */
};

#define LIN_TICK_US 2000000

static void tick(struct budget *b, uint64_t now, uint64_t configs)
{
    if (b->o && b->o->progress && now >= b->next_tick) {
        b->next_tick = now + LIN_TICK_US;
        b->o->progress(b->o->progress_ud, b->key, b->configs + configs, (double)(now - b->t0) / 1e6);
    }
}

/* Judges one key's kops. Returns LIN_OK, LIN_VIOLATION or LIN_UNKNOWN (deadline passed, or
 * the memory cap reached: b->out_of_memory). With tr, records the longest partial
 * linearization. */
static int search(struct vtab *vt, const struct kop *ops, int n, struct budget *b, struct track *tr)
{
    int definite = 0;
    for (int i = 0; i < n; i++)
        definite += ops[i].ret != INT_MAX;
    if (tr) {
        tr->n = 0;
        tr->state = 0;
        free(tr->seq);
        tr->seq = xmalloc((size_t)(n + 1) * sizeof *tr->seq);
    }
    if (definite == 0)
        return LIN_OK;

    struct ent *e = xmalloc((size_t)(2 * n) * sizeof *e);
    int ne = 0;
    for (int i = 0; i < n; i++) {
        e[ne++] = (struct ent){ops[i].inv, i, true};
        if (ops[i].ret != INT_MAX)
            e[ne++] = (struct ent){ops[i].ret, i, false};
    }
    qsort(e, (size_t)ne, sizeof *e, ent_cmp);
    /* doubly linked list over entries; index ne is the head sentinel */
    int *next = xmalloc((size_t)(ne + 1) * sizeof *next);
    int *prev = xmalloc((size_t)(ne + 1) * sizeof *prev);
    int *call_of = xmalloc((size_t)n * sizeof *call_of);
    int *ret_of = xmalloc((size_t)n * sizeof *ret_of);
    for (int i = 0; i < n; i++)
        ret_of[i] = -1;
    int head = ne;
    int last = head;
    for (int i = 0; i < ne; i++) {
        next[last] = i;
        prev[i] = last;
        last = i;
        if (e[i].call)
            call_of[e[i].op] = i;
        else
            ret_of[e[i].op] = i;
    }
    next[last] = -1;

    /* bit positions: definite operations first, then indeterminate ones from a word boundary
     * (see struct cache) */
    int *bit = xmalloc((size_t)n * sizeof *bit);
    int nd = 0, ni = 0;
    for (int i = 0; i < n; i++)
        if (ops[i].ret != INT_MAX)
            bit[i] = nd++;
    int dwords = (nd + 63) / 64;
    for (int i = 0; i < n; i++)
        if (ops[i].ret == INT_MAX)
            bit[i] = dwords * 64 + ni++;
    int iwords = (ni + 63) / 64, words = dwords + iwords;
    uint64_t *bits = xcalloc((size_t)(words ? words : 1), sizeof *bits);
    uint64_t *zob = xmalloc((size_t)n * sizeof *zob);
    uint64_t seed = 0x5eed;
    for (int i = 0; i < n; i++)
        zob[i] = splitmix(&seed);
    int *stack_ent = xmalloc((size_t)n * sizeof *stack_ent);
    int *stack_state = xmalloc((size_t)n * sizeof *stack_state);
    int sp = 0;

    bool *stack_forced = xmalloc((size_t)n * sizeof *stack_forced);
    int state = 0, verdict = LIN_VIOLATION;
    uint64_t h = 0, iter = 0;
    /* what this search holds besides the cache: the arrays above */
    size_t fixed = (size_t)ne * sizeof *e + 2 * (size_t)(ne + 1) * sizeof(int) + 5 * (size_t)n * sizeof(int) +
                   (size_t)words * sizeof *bits + (size_t)n * (sizeof *zob + sizeof *stack_forced);
    struct cache cache;
    if (!cache_init(&cache, vt, dwords, iwords, fixed, b->memory)) {
        verdict = LIN_UNKNOWN;
        b->out_of_memory = true;
        goto out;
    }
    int cur = next[head];
    int same = 0;           /* with tr: leading entries of tr->seq equal to the stack */
    bool fresh = true;      /* at a node not scanned yet */
    for (;;) {
        if ((++iter & 1023) == 0 && (b->deadline || (b->o && b->o->progress))) {
            uint64_t now = mono_us();
            if (b->deadline && now > b->deadline) {
                verdict = LIN_UNKNOWN;
                break;
            }
            tick(b, now, cache.n);
        }
        int pick = -1;
        bool forced = false;
        if (fresh) {
            /* A read that can take effect now may as well take effect now: it changes nothing
             * and every operation that must precede it already has. So it is placed without
             * branching, and if that fails, this whole configuration fails. */
            fresh = false;
            for (int x = next[head]; x >= 0 && e[x].call; x = next[x]) {
                const struct kop *o = &ops[e[x].op];
                if (o->f == K_READ && o->a == state) {
                    pick = x;
                    forced = true;
                    break;
                }
            }
        }
        if (pick < 0 && cur >= 0 && e[cur].call)
            pick = cur;
        if (pick >= 0) {
            int op = e[pick].op;
            /* An indeterminate operation is only worth placing right before an operation that
             * observes the value it leaves (a read, a cas, an append): one followed by a write
             * could as well never have happened. So after an indeterminate operation, no
             * write. The flag is part of the cached configuration. */
            bool after_open = sp > 0 && ops[e[stack_ent[sp - 1]].op].ret == INT_MAX;
            int ns = (after_open && ops[op].f == K_WRITE) || (!forced && ops[op].f == K_READ)
                         ? -1 : step(vt, state, &ops[op]);
            if (ns >= 0) {
                bits[bit[op] / 64] |= 1ull << (bit[op] % 64);
                uint64_t h2 = h ^ zob[op];
                int key = ns * 2 + (ops[op].ret == INT_MAX);
                int added = cache_add(&cache, bits, h2 ^ ((uint64_t)(uint32_t)key * 0x9E3779B97F4A7C15ull), key);
                if (added < 0) {
                    verdict = LIN_UNKNOWN;
                    b->out_of_memory = true;
                    break;
                }
                if (added && b->max_configs && cache.n > b->max_configs) {
                    verdict = LIN_UNKNOWN;
                    b->over_configs = true;
                    break;
                }
                if (added) {
                    stack_ent[sp] = pick;
                    stack_state[sp] = state;
                    stack_forced[sp] = forced;
                    sp++;
                    state = ns;
                    h = h2;
                    /* lift the call and its completion out of the list */
                    next[prev[pick]] = next[pick];
                    if (next[pick] >= 0)
                        prev[next[pick]] = prev[pick];
                    int r = ret_of[op];
                    if (r >= 0) {
                        next[prev[r]] = next[r];
                        if (next[r] >= 0)
                            prev[next[r]] = prev[r];
                        definite--;
                    }
                    if (tr && sp > tr->n) {
                        /* tr->seq[0, same) still equals the stack: copy only the rest, so
                         * that tracking costs O(pushes), not O(n) per new depth */
                        for (int k = same; k < sp; k++)
                            tr->seq[k] = e[stack_ent[k]].op;
                        tr->n = sp;
                        same = sp;
                        tr->state = state;
                    }
                    if (definite == 0) {
                        verdict = LIN_OK;
                        break;
                    }
                    cur = next[head];
                    fresh = true;
                    continue;
                }
                bits[bit[op] / 64] &= ~(1ull << (bit[op] % 64));
            }
            if (!forced) {
                cur = next[cur];
                continue;
            }
            /* the forced read leads to a configuration already known to fail */
        }
        /* a completion whose operation is not linearized, or a forced read that failed:
         * this configuration fails; undo the choice that led here (and any forced ones) */
        bool popped_forced;
        int c = -1;
        do {
            if (sp == 0)
                goto out;
            sp--;
            if (sp < same)
                same = sp;
            c = stack_ent[sp];
            popped_forced = stack_forced[sp];
            int op = e[c].op;
            state = stack_state[sp];
            h ^= zob[op];
            bits[bit[op] / 64] &= ~(1ull << (bit[op] % 64));
            int r = ret_of[op];
            if (r >= 0) {
                next[prev[r]] = r;
                if (next[r] >= 0)
                    prev[next[r]] = r;
                definite++;
            }
            next[prev[c]] = c;
            if (next[c] >= 0)
                prev[next[c]] = c;
        } while (popped_forced);
        cur = next[c];
        fresh = false;
    }
out:
    free(stack_forced);
    b->configs += cache.n;
    if (cache.peak > b->peak)
        b->peak = cache.peak;
    cache_free(&cache);
    free(bit);
    free(e);
    free(next);
    free(prev);
    free(call_of);
    free(ret_of);
    free(bits);
    free(zob);
    free(stack_ent);
    free(stack_state);
    return verdict;
}

/* ---- building a key's kops ------------------------------------------------------------------ */

struct group {
    const char *key;
    int *idx, n, cap;
};

/* A value's id in a key whose history appends: the append model works on strings (Porcupine's
 * kv), so a marked string ("12", jtext.h) counts as its characters, which appends concatenate;
 * a number counts as its digits there. Elsewhere values are their value texts: 42 is not "42". */
static int vt_id_append(struct vtab *v, const char *s)
{
    if (!s || s[0] != JTEXT_MARK)
        return vt_id(v, s);
    json_t *j = jtext_decode(s);
    const char *t = json_string_value(j);
    size_t n = json_string_length(j);
    int id = vt_id_n(v, xstrndup(t ? t : "", n), n, true);
    json_decref(j);
    return id;
}

/* Builds the kops of one key. cut: operations invoked at or after position cut are left out
 * and those completing after it become indeterminate (INT_MAX: no cut). weak[i] (may be NULL)
 * makes the group's i-th operation indeterminate. */
static int build(const struct history *h, const struct group *g, struct vtab *vt, int cut,
                 const bool *weak, struct kop *out)
{
    int n = 0;
    bool appends = false;
    for (int i = 0; i < g->n && !appends; i++)
        appends = h->ops[g->idx[i]].f == HF_APPEND;
    int (*id)(struct vtab *, const char *) = appends ? vt_id_append : vt_id;
    for (int i = 0; i < g->n; i++) {
        const struct hist_op *op = &h->ops[g->idx[i]];
        if (op->outcome == HO_FAIL || op->inv_pos >= cut)
            continue;
        bool definite = op->outcome == HO_OK && op->ret_pos < cut && !(weak && weak[i]);
        struct kop k = {.inv = op->inv_pos, .ret = definite ? op->ret_pos : INT_MAX,
                        .idx = g->idx[i]};
        switch (op->f) {
        case HF_READ:
            if (!definite)
                continue;
            k.f = K_READ;
            k.a = id(vt, op->value);
            break;
        case HF_WRITE: k.f = K_WRITE; k.a = id(vt, op->value); break;
        case HF_CAS:
            k.f = K_CAS;
            k.a = id(vt, op->value);
            k.b = id(vt, op->value2);
            break;
        case HF_APPEND: k.f = K_APPEND; k.a = id(vt, op->value); break;
        default: continue;
        }
        out[n++] = k;
    }
    return n;
}

/* ---- public ------------------------------------------------------------------------------- */

void lin_opts_default(struct lin_opts *o)
{
    memset(o, 0, sizeof *o);
    o->model = LIN_AUTO;
    o->explain = true;
}

const char *lin_model_name(enum lin_model m)
{
    switch (m) {
    case LIN_AUTO: return "auto";
    case LIN_REGISTER: return "register";
    case LIN_CAS_REGISTER: return "cas-register";
    case LIN_KV: return "kv";
    }
    return "?";
}

int lin_model_parse(const char *s, enum lin_model *m)
{
    if (!strcmp(s, "register")) *m = LIN_REGISTER;
    else if (!strcmp(s, "cas-register")) *m = LIN_CAS_REGISTER;
    else if (!strcmp(s, "kv")) *m = LIN_KV;
    else if (!strcmp(s, "auto")) *m = LIN_AUTO;
    else return CL_EINVAL;
    return 0;
}

void lin_result_free(struct lin_result **rp)
{
    if (!rp || !*rp)
        return;
    struct lin_result *r = *rp;
    free(r->sub);
    free(r->partial);
    free(r->partial_state);
    free(r->summary);
    free(r->explanation);
    free(r);
    *rp = NULL;
}

static int check_ops_allowed(const struct history *h, enum lin_model m, char *err, size_t errlen)
{
    for (int i = 0; i < h->n; i++) {
        const struct hist_op *op = &h->ops[i];
        const char *why = NULL;
        if (op->f == HF_OTHER)
            why = "is not an operation of any model (read/get, write/put, cas, append)";
        else if (op->f == HF_CAS && m == LIN_REGISTER)
            why = "is not an operation of the register model (use --model cas-register)";
        else if (op->f == HF_APPEND && m != LIN_KV)
            why = "is only an operation of the kv model (use --model kv)";
        if (why) {
            if (op->line)
                snprintf(err, errlen, "line %d: operation %s %s", op->line, op->fname, why);
            else
                snprintf(err, errlen, "operation %s (process %" PRId64 ", event %d) %s",
                         op->fname, op->process, op->inv_pos + 1, why);
            return CL_EINVAL;
        }
        if (op->f == HF_CAS && op->outcome != HO_FAIL && op->value2 == NULL && op->value == NULL) {
            snprintf(err, errlen, "cas by process %" PRId64 " (event %d) has no [from to] value",
                     op->process, op->inv_pos + 1);
            return CL_EINVAL;
        }
    }
    return 0;
}

static int group_cmp(const void *a, const void *b)
{
    const struct group *x = a, *y = b;
    if (!x->key || !y->key)
        return (x->key != NULL) - (y->key != NULL);
    return strcmp(x->key, y->key);
}

static struct group *group_by_key(const struct history *h, int *ng)
{
    /* keys are interned: equal keys are equal pointers; sort op indexes by key pointer */
    struct group *g = NULL;
    int n = 0, cap = 0;
    /* small open-addressed map pointer -> group */
    size_t mcap = 64;
    int *map = xcalloc(mcap, sizeof *map);
    for (int i = 0; i < h->n; i++) {
        const char *k = h->ops[i].key;
        size_t j = ((uintptr_t)k * 0x9E3779B97F4A7C15ull) >> 17 & (mcap - 1);
        while (map[j] && g[map[j] - 1].key != k)
            j = (j + 1) & (mcap - 1);
        if (!map[j]) {
            if (n == cap) {
                cap = cap ? cap * 2 : 8;
                g = xrealloc(g, (size_t)cap * sizeof *g);
            }
            g[n] = (struct group){.key = k};
            map[j] = ++n;
            if ((size_t)n * 2 > mcap) {
                size_t ncap = mcap * 2;
                int *nm = xcalloc(ncap, sizeof *nm);
                for (int q = 0; q < n; q++) {
                    size_t t = ((uintptr_t)g[q].key * 0x9E3779B97F4A7C15ull) >> 17 & (ncap - 1);
                    while (nm[t])
                        t = (t + 1) & (ncap - 1);
                    nm[t] = q + 1;
                }
                free(map);
                map = nm;
                mcap = ncap;
                j = 0;
                while (g[map[j] ? map[j] - 1 : 0].key != k || !map[j])
                    j++;
            }
        }
        struct group *gr = &g[map[j] - 1];
        if (gr->n == gr->cap) {
            gr->cap = gr->cap ? gr->cap * 2 : 16;
            gr->idx = xrealloc(gr->idx, (size_t)gr->cap * sizeof *gr->idx);
        }
        gr->idx[gr->n++] = i;
    }
    free(map);
    if (n > 1)
        qsort(g, (size_t)n, sizeof *g, group_cmp);
    *ng = n;
    return g;
}

/* Runs one variant of a group: returns the verdict. */
static int run_variant(const struct history *h, const struct group *g, struct vtab *vt, int cut,
                       const bool *weak, struct budget *b, struct track *tr, struct kop **kops_out,
                       int *nk_out)
{
    struct kop *k = xmalloc((size_t)(g->n ? g->n : 1) * sizeof *k);
    int nk = build(h, g, vt, cut, weak, k);
    int v = search(vt, k, nk, b, tr);
    if (kops_out) {
        *kops_out = k;
        *nk_out = nk;
    } else {
        free(k);
    }
    return v;
}

static uint64_t deadline_in(double s)
{
    return s > 0 ? mono_us() + (uint64_t)(s * 1e6) : 0;
}

/* Words for one op: "read x=1 by p3 [812ms–815ms]". */
static void op_words(const struct history *h, int idx, struct sb *out, bool times)
{
    const struct hist_op *op = &h->ops[idx];
    history_describe_op(h, op, out);
    sb_printf(out, " by p%" PRId64, op->process);
    if (times) {
        sb_add(out, " [");
        history_describe_time(h, op->t_inv, out);
        sb_add(out, "\u2013");
        if (op->outcome == HO_OK)
            history_describe_time(h, op->t_ret, out);
        else
            sb_add(out, "?");
        sb_add(out, "]");
    }
}

/* Does op (a kop) set the register to value id v? */
static bool produces(const struct kop *k, int v)
{
    return (k->f == K_WRITE && k->a == v) || (k->f == K_CAS && k->b == v);
}

static bool sets_other(const struct kop *k, int v)
{
    return (k->f == K_WRITE && k->a != v) || (k->f == K_CAS && k->b != v);
}

/* Explains why kops[r] (the blocked operation) cannot take effect; appends to out and
 * returns true when one of the known patterns proves it. */
static bool explain_pattern(const struct history *h, struct vtab *vt, const struct kop *k, int n,
                            int r, struct sb *summary, struct sb *why, int *inv, int *ninv)
{
    *ninv = 0;
    const struct kop *R = &k[r];
    if (R->f != K_READ && R->f != K_CAS)
        return false;
    int v = R->a;
    bool appends = false, resets = false;
    for (int i = 0; i < n; i++) {
        appends |= k[i].f == K_APPEND;
        resets |= (k[i].f == K_WRITE || k[i].f == K_CAS) && k[i].inv <= R->ret;
    }
    if (appends) {
        /* with appends only, a value only grows: it must contain every append that completed
         * before the read began */
        if (resets || R->f != K_READ)
            return false;
        const char *have = vt_str(vt, v);
        for (int i = 0; i < n; i++) {
            const char *add = vt_str(vt, k[i].a);
            if (k[i].f != K_APPEND || k[i].ret == INT_MAX || k[i].ret >= R->inv || !add)
                continue;
            if (have && strstr(have, add))
                continue;
            struct sb rw = {0}, aw = {0};
            op_words(h, R->idx, &rw, true);
            op_words(h, k[i].idx, &aw, false);
            sb_add(&aw, " (ok at ");
            history_describe_time(h, h->ops[k[i].idx].t_ret, &aw);
            sb_add(&aw, ")");
            sb_printf(summary, "%s cannot follow %s", rw.s, aw.s);
            sb_printf(why, "%s must follow %s, because the append completed before the read "
                      "began, and with no write to reset it the value only grows: it must "
                      "contain what was appended.", rw.s, aw.s);
            sb_free(&rw);
            sb_free(&aw);
            inv[(*ninv)++] = R->idx;
            inv[(*ninv)++] = k[i].idx;
            return true;
        }
        return false;
    }
    const char *rv = vt_str(vt, v);
    const char *verb = R->f == K_READ ? "read" : "cas";
    const struct hist_op *rop = &h->ops[R->idx];
    /* candidates: operations that could leave the register at v, begun before R ended */
    int last_prod = -1;       /* the producer completing last; -2 = the initial nil */
    bool any = v == 0, open_prod = false;
    if (v == 0)
        last_prod = -2;
    for (int i = 0; i < n; i++) {
        if (i == r || !produces(&k[i], v) || k[i].inv > R->ret)
            continue;
        any = true;
        if (k[i].ret == INT_MAX)
            open_prod = true;
        else if (last_prod < 0 || k[i].ret > k[last_prod].ret)
            last_prod = i;
    }
    struct sb rw = {0};
    op_words(h, R->idx, &rw, true);
    if (!any) {
        sb_printf(summary, "%s %s a value no write could have set by then", rw.s,
                  R->f == K_READ ? "returned" : "expected");
        sb_printf(why, "%s cannot be explained: no write of ", rw.s);
        sb_add_escaped(why, rv, strlen(rv));
        sb_add(why, " had even begun before it ended (writes that failed never took effect).");
        sb_free(&rw);
        inv[(*ninv)++] = R->idx;
        return true;
    }
    if (open_prod) {
        sb_free(&rw);
        return false;
    }
    /* W: a definite write of another value, completed before R began, begun after every
     * producer completed */
    int best = -1;
    for (int i = 0; i < n; i++) {
        if (i == r || k[i].ret == INT_MAX || !sets_other(&k[i], v) || k[i].ret >= R->inv)
            continue;
        if (last_prod >= 0 && k[last_prod].ret >= k[i].inv)
            continue;
        if (best < 0 || k[i].ret > k[best].ret)
            best = i;
    }
    if (best < 0) {
        sb_free(&rw);
        return false;
    }
    const struct hist_op *wop = &h->ops[k[best].idx];
    struct sb ww = {0};
    history_describe_op(h, wop, &ww);
    sb_printf(&ww, " by p%" PRId64 " (ok at ", wop->process);
    history_describe_time(h, wop->t_ret, &ww);
    sb_add(&ww, ")");
    sb_printf(summary, "%s cannot follow %s", rw.s, ww.s);
    sb_printf(why, "%s must follow %s, because p%" PRId64 "'s %s completed before p%" PRId64
              "'s %s began, and no later write set %s back to ", rw.s, ww.s, wop->process,
              hist_f_name(wop->f), rop->process, verb, rop->key ? rop->key : "the register");
    sb_add_escaped(why, rv ? rv : "nil", rv ? strlen(rv) : 3);
    if (last_prod >= 0) {
        const struct hist_op *pop = &h->ops[k[last_prod].idx];
        sb_add(why, " (the last ");
        history_describe_op(h, pop, why);
        sb_printf(why, " by p%" PRId64 " completed at ", pop->process);
        history_describe_time(h, pop->t_ret, why);
        sb_add(why, ", before ");
        history_describe_op(h, wop, why);
        sb_add(why, " began).");
    } else {
        sb_add(why, rv ? "." : " (nil is only the initial state).");
    }
    sb_free(&rw);
    sb_free(&ww);
    inv[(*ninv)++] = R->idx;
    inv[(*ninv)++] = k[best].idx;
    if (last_prod >= 0)
        inv[(*ninv)++] = k[last_prod].idx;   /* the earlier producers prove nothing more */
    return true;
}

static int idx_cmp_pos(const void *a, const void *b, void *hv)
{
    const struct history *h = hv;
    int x = *(const int *)a, y = *(const int *)b;
    return (h->ops[x].inv_pos > h->ops[y].inv_pos) - (h->ops[x].inv_pos < h->ops[y].inv_pos);
}

/* Fills r's sub-history, partial linearization and blocked operation from a tracked search
 * of the variant (cut, weak) or, when only is given, of just those operations. */
static void fill_from_search(const struct history *h, const struct group *g, struct vtab *vt,
                             int cut, const bool *weak, const int *only, int n_only, size_t memory,
                             struct lin_result *r, struct kop **kops, int *nkops, int *blocked)
{
    struct group sub = *g;
    if (only) {
        sub.idx = (int *)only;
        sub.n = n_only;
    }
    struct track tr = {0};
    struct kop *k = NULL;
    int nk = 0;
    struct budget b = {.memory = memory};
    run_variant(h, &sub, vt, cut, weak, &b, &tr, &k, &nk);
    bool *in_lin = xcalloc((size_t)(nk + 1), sizeof *in_lin);
    for (int i = 0; i < tr.n; i++)
        in_lin[tr.seq[i]] = true;
    /* the sub-history: the definite operations, plus indeterminate ones (as recorded) that
     * could produce a value some definite read or cas needs */
    r->sub = xmalloc((size_t)(nk + 1) * sizeof *r->sub);
    r->n_sub = 0;
    for (int i = 0; i < nk; i++) {
        bool keep = k[i].ret != INT_MAX;
        if (!keep && h->ops[k[i].idx].outcome != HO_OK) {
            for (int j = 0; j < nk && !keep; j++)
                keep = k[j].ret != INT_MAX && (k[j].f == K_READ || k[j].f == K_CAS) &&
                       produces(&k[i], k[j].a);
        }
        if (!keep && h->ops[k[i].idx].outcome == HO_OK && in_lin[i])
            keep = true;    /* made indeterminate, but the partial linearization uses it */
        if (keep)
            r->sub[r->n_sub++] = k[i].idx;
    }
    qsort_r(r->sub, (size_t)r->n_sub, sizeof *r->sub, idx_cmp_pos, (void *)h);
    r->partial = xmalloc((size_t)(tr.n + 1) * sizeof *r->partial);
    for (int i = 0; i < tr.n; i++)
        r->partial[i] = k[tr.seq[i]].idx;
    r->n_partial = tr.n;
    const char *st = vt_str(vt, tr.state);
    free(r->partial_state);
    r->partial_state = xstrdup(st ? jtext_show(st) : "nil"); /* as a user reads it: 42, "42" */
    /* the blocked op: the definite op outside the partial linearization completing first */
    *blocked = -1;
    for (int i = 0; i < nk; i++)
        if (!in_lin[i] && k[i].ret != INT_MAX && (*blocked < 0 || k[i].ret < k[*blocked].ret))
            *blocked = i;
    free(in_lin);
    free(tr.seq);
    *kops = k;
    *nkops = nk;
}

static int kop_ret_desc(const void *a, const void *b, void *kv)
{
    const struct kop *k = kv;
    int x = k[*(const int *)a].ret, y = k[*(const int *)b].ret;
    return (x < y) - (x > y);
}

/* Minimises and explains a failing group, filling r. */
static void explain(const struct history *h, const struct group *g, struct vtab *vt,
                    struct lin_result *r, double budget_s, size_t memory)
{
    uint64_t t_end = mono_us() + (uint64_t)(budget_s * 1e6);
    bool out_of_time = false;
    /* 1. the shortest failing prefix: binary search over completion positions */
    int *rets = xmalloc((size_t)(g->n + 1) * sizeof *rets);
    int nr = 0;
    for (int i = 0; i < g->n; i++) {
        const struct hist_op *op = &h->ops[g->idx[i]];
        if (op->outcome == HO_OK)
            rets[nr++] = op->ret_pos;
    }
    for (int i = 1; i < nr; i++) {
        int x = rets[i], j = i;
        while (j > 0 && rets[j - 1] > x) {
            rets[j] = rets[j - 1];
            j--;
        }
        rets[j] = x;
    }
    int lo = 0, hi = nr - 1, cut = INT_MAX;
    while (lo <= hi && !out_of_time) {
        int mid = (lo + hi) / 2;
        struct budget b = {.deadline = t_end, .memory = memory};
        int v = run_variant(h, g, vt, rets[mid] + 1, NULL, &b, NULL, NULL, NULL);
        if (v == LIN_VIOLATION) {
            cut = rets[mid] + 1;
            hi = mid - 1;
        } else {
            out_of_time = v == LIN_UNKNOWN;
            lo = mid + 1;
        }
    }
    free(rets);

    struct sb summary = {0}, why = {0};
    int *inv = xmalloc((size_t)(g->n + 1) * sizeof *inv);
    int ninv = 0, blocked = -1;
    struct kop *k = NULL;
    int nk = 0;
    bool done = false;

    /* 2. a known pattern among the reads and cas of the failing prefix proves the violation
     * with a handful of operations: take the smallest such proof */
    {
        struct kop *k0 = xmalloc((size_t)(g->n + 1) * sizeof *k0);
        int n0 = build(h, g, vt, cut, NULL, k0);
        int *tmp = xmalloc((size_t)(g->n + 1) * sizeof *tmp);
        int best = -1;
        /* latest completion first: the prefix was cut just after the operation that broke it,
         * so the proof is usually found at once (scanning from the start costs n^2) */
        int *order = xmalloc((size_t)(n0 + 1) * sizeof *order);
        for (int i = 0; i < n0; i++)
            order[i] = i;
        qsort_r(order, (size_t)n0, sizeof *order, kop_ret_desc, k0);
        for (int oi = 0; oi < n0; oi++) {
            int i = order[oi];
            if (k0[i].ret == INT_MAX || (k0[i].f != K_READ && k0[i].f != K_CAS))
                continue;
            struct sb s2 = {0}, w2 = {0};
            int nt = 0;
            if (explain_pattern(h, vt, k0, n0, i, &s2, &w2, tmp, &nt) &&
                (best < 0 || nt < ninv)) {
                sb_free(&summary);
                sb_free(&why);
                summary = s2;
                why = w2;
                memcpy(inv, tmp, (size_t)nt * sizeof *inv);
                ninv = nt;
                best = i;
            } else {
                sb_free(&s2);
                sb_free(&w2);
            }
            if (best >= 0 && ninv <= 2)
                break;
        }
        free(order);
        free(tmp);
        free(k0);
        if (best >= 0) {
            done = true;
            r->minimal = true;
            fill_from_search(h, g, vt, INT_MAX, NULL, inv, ninv, memory, r, &k, &nk, &blocked);
            blocked = -1;
            for (int i = 0; i < nk; i++)
                if (k[i].idx == inv[0])
                    blocked = i;
        }
    }

    /* 3. otherwise weaken what does not matter, latest first, in chunks then one by one:
     * reads first (dropping a read shrinks the search), then writes (an indeterminate write
     * widens it, so each try gets a small budget and counts as needed when it runs out) */
    if (!done) {
        bool *weak = xcalloc((size_t)(g->n + 1), sizeof *weak);
        int *cand = xmalloc((size_t)(g->n + 1) * sizeof *cand);
        int *set = xmalloc((size_t)(g->n + 1) * sizeof *set);
        bool gave_up = false;
        for (int phase = 0; phase < 2 && !out_of_time; phase++) {
            int nc = 0;
            for (int i = g->n - 1; i >= 0; i--) {
                const struct hist_op *op = &h->ops[g->idx[i]];
                if (op->outcome == HO_OK && op->ret_pos < cut &&
                    (op->f == HF_READ) == (phase == 0))
                    cand[nc++] = i;
            }
            for (int chunk = nc / 2 > 0 ? nc / 2 : 1; !out_of_time; chunk /= 2) {
                for (int s = 0; s < nc && !out_of_time; s += chunk) {
                    int ns = 0;
                    for (int q = s; q < s + chunk && q < nc; q++)
                        if (!weak[cand[q]]) {
                            weak[cand[q]] = true;
                            set[ns++] = cand[q];
                        }
                    if (ns == 0)
                        continue;
                    uint64_t now = mono_us();
                    if (now >= t_end) {
                        out_of_time = true;
                        for (int q = 0; q < ns; q++)
                            weak[set[q]] = false;
                        break;
                    }
                    uint64_t dl = phase == 0 ? t_end
                                             : (now + 100000 < t_end ? now + 100000 : t_end);
                    struct budget b = {.deadline = dl, .memory = memory};
                    int v = run_variant(h, g, vt, cut, weak, &b, NULL, NULL, NULL);
                    if (v != LIN_VIOLATION) {
                        gave_up |= v == LIN_UNKNOWN;
                        for (int q = 0; q < ns; q++)
                            weak[set[q]] = false;   /* these matter (or we could not tell) */
                    }
                }
                if (chunk <= 1)
                    break;
            }
        }
        free(set);
        free(cand);
        r->minimal = !out_of_time && !gave_up;
        struct budget b = {.memory = memory};
        if (run_variant(h, g, vt, cut, weak, &b, NULL, NULL, NULL) != LIN_VIOLATION) {
            /* cannot happen for a sound minimisation; fall back to the whole key */
            memset(weak, 0, (size_t)(g->n + 1) * sizeof *weak);
            cut = INT_MAX;
            r->minimal = false;
        }
        fill_from_search(h, g, vt, cut, weak, NULL, 0, memory, r, &k, &nk, &blocked);
        free(weak);
        if (blocked >= 0 && explain_pattern(h, vt, k, nk, blocked, &summary, &why, inv, &ninv))
            done = true;
    }
    if (!done) {
        int nd = r->n_sub;
        sb_printf(&summary, "no order of these %d operations respects both real time and the "
                  "register", nd);
        sb_printf(&why, "Every order of these %d operations that respects real time (an "
                  "operation that completed before another began comes first) breaks the "
                  "rules of a register (a read returns the last value written).", nd);
        if (blocked >= 0) {
            sb_add(&why, " After the longest partial linearization the value is ");
            sb_add_escaped(&why, r->partial_state, strlen(r->partial_state));
            sb_add(&why, ", and ");
            op_words(h, k[blocked].idx, &why, true);
            sb_add(&why, " can neither take effect there nor wait.");
        }
    }
    r->marked = blocked >= 0 ? k[blocked].idx : -1;
    struct sb line = {0};
    sb_add(&line, "NOT linearizable");
    if (g->key) {
        sb_add(&line, " (key ");
        sb_add_escaped(&line, g->key, strlen(g->key));
        sb_add(&line, ")");
    }
    sb_printf(&line, ": %s", summary.s ? summary.s : "");
    r->summary = line.s;
    r->explanation = why.s ? why.s : xstrdup("");
    sb_free(&summary);
    free(inv);
    free(k);
}

int lincheck_run(const struct history *h, const struct lin_opts *o, struct lin_result **out,
                 char *err, size_t errlen)
{
    *out = NULL;
    struct lin_opts def;
    if (!o) {
        lin_opts_default(&def);
        o = &def;
    }
    enum lin_model m = o->model;
    if (m == LIN_AUTO) {
        m = h->has_keys ? LIN_KV : LIN_CAS_REGISTER;
        for (int i = 0; i < h->n; i++)
            if (h->ops[i].f == HF_APPEND)
                m = LIN_KV;
    }
    if (check_ops_allowed(h, m, err, errlen))
        return CL_EINVAL;
    uint64_t t0 = mono_us();
    size_t memory = o->max_memory ? o->max_memory : LIN_MAX_MEMORY;
    struct budget b = {.deadline = deadline_in(o->time_limit_s), .memory = memory, .o = o, .t0 = t0,
                       .next_tick = t0 + LIN_TICK_US};
    struct lin_result *r = xcalloc(1, sizeof *r);
    r->model = m;
    r->marked = -1;
    int ng;
    struct group *g = group_by_key(h, &ng);
    r->n_keys = ng;
    r->verdict = LIN_OK;
    int failed = -1, unknown = -1;
    /* Keys in rounds: each round gives every undecided key a search of at most `cap`
     * configurations, eight times more each round, until no cap. One failing key decides the
     * whole history, so a key that fails quickly is found before a hard one is finished (as
     * Porcupine's partitions, checked side by side, stop at the first that fails); a
     * linearizable history costs at most 8/7 of the searches it needs. */
    enum { K_PENDING, K_DONE };
    char *kst = xcalloc((size_t)(ng ? ng : 1), 1);
    bool *counted = xcalloc((size_t)(ng ? ng : 1), sizeof *counted);
    bool deadline_hit = false;
    for (uint64_t cap = LIN_FIRST_ROUND;; cap = cap && cap < LIN_LAST_ROUND ? cap * 8 : 0) {
        bool pending = false;
        for (int i = 0; i < ng && failed < 0 && !deadline_hit; i++) {
            if (kst[i] != K_PENDING)
                continue;
            struct vtab vt;
            vt_init(&vt, m == LIN_KV);
            struct kop *k = NULL;
            int nk = 0;
            b.max_configs = cap;
            b.over_configs = false;
            b.key = g[i].key;
            b.out_of_memory = false;
            int v = run_variant(h, &g[i], &vt, INT_MAX, NULL, &b, NULL, &k, &nk);
            if (!counted[i]) {
                r->n_ops += nk;
                counted[i] = true;
            }
            free(k);
            if (v == LIN_VIOLATION) {
                failed = i;
                if (o->explain) {
                    r->model = m;
                    double budget = o->time_limit_s > 0 ? o->time_limit_s : 10.0;
                    if (budget > 10.0)
                        budget = 10.0;
                    explain(h, &g[i], &vt, r, budget, memory);
                }
                vt_free(&vt);
                break;
            }
            vt_free(&vt);
            if (v == LIN_UNKNOWN && b.over_configs) {
                pending = true;   /* next round, with a larger cap */
                continue;
            }
            kst[i] = K_DONE;
            if (v == LIN_UNKNOWN && unknown < 0) {
                unknown = i;
                r->out_of_memory = b.out_of_memory;
            }
            if (v == LIN_UNKNOWN && !b.out_of_memory)
                deadline_hit = true;   /* the other keys cannot be judged either */
            tick(&b, mono_us(), 0);
        }
        if (failed >= 0 || deadline_hit || !pending)
            break;
    }
    if (failed < 0 && unknown < 0 && deadline_hit)
        unknown = 0;
    free(kst);
    free(counted);
    r->configs = b.configs;
    r->peak_bytes = b.peak;
    r->memory_cap = memory;
    if (failed >= 0) {
        r->verdict = LIN_VIOLATION;
        r->key = g[failed].key;
        r->n_key_ops = g[failed].n;
    } else if (unknown >= 0) {
        r->verdict = LIN_UNKNOWN;
        r->key = g[unknown].key;
        r->n_key_ops = g[unknown].n;
    }
    r->has_key = r->key != NULL;
    if (r->verdict == LIN_VIOLATION && !r->summary) {
        struct sb s = {0};
        sb_add(&s, "NOT linearizable");
        if (r->key) {
            sb_add(&s, " (key ");
            sb_add_escaped(&s, r->key, strlen(r->key));
            sb_add(&s, ")");
        }
        r->summary = s.s;
    }
    for (int i = 0; i < ng; i++)
        free(g[i].idx);
    free(g);
    r->elapsed_ms = (double)(mono_us() - t0) / 1000.0;
    *out = r;
    return r->verdict;
}

void lincheck_format(const struct history *h, const struct lin_result *r, struct sb *out)
{
    switch (r->verdict) {
    case LIN_OK:
        if (h->n == 0) {
            sb_add(out, "linearizable: the history holds no client operation (empty, or only the "
                        "nemesis's entries), and an empty history is linearizable\n");
            return;
        }
        sb_printf(out, "linearizable (%s model: %d operation%s on %d key%s, %.1f ms)\n",
                  lin_model_name(r->model), r->n_ops, r->n_ops == 1 ? "" : "s", r->n_keys,
                  r->n_keys == 1 ? "" : "s", r->elapsed_ms);
        return;
    case LIN_UNKNOWN:
        if (r->out_of_memory)
            sb_printf(out, "unknown: the search reached its memory cap (%zu MiB) without deciding",
                      r->memory_cap >> 20);
        else
            sb_add(out, "unknown: the time limit ran out before the search finished");
        if (r->key) {
            sb_add(out, " (key ");
            sb_add_escaped(out, r->key, strlen(r->key));
            sb_add(out, ")");
        }
        sb_printf(out, "; %" PRIu64 " configurations explored in %.1f ms\n", r->configs,
                  r->elapsed_ms);
        return;
    case LIN_VIOLATION:
        break;
    }
    sb_printf(out, "%s\n", r->summary);
    if (r->explanation && *r->explanation)
        sb_printf(out, "  %s\n", r->explanation);
    if (r->n_sub > 0) {
        sb_printf(out, "\n%s failing sub-history (%d of %d operations on this %s):\n",
                  r->minimal ? "Smallest" : "A", r->n_sub, r->n_key_ops,
                  r->has_key ? "key" : "register");
        timeline_draw(h, r->sub, r->n_sub, r->marked, 100, out);
    }
    if (r->n_partial >= 0 && r->sub) {
        sb_add(out, "\nLongest partial linearization: ");
        if (r->n_partial == 0)
            sb_add(out, "(none: not even the first operation can be placed)");
        for (int i = 0; i < r->n_partial; i++) {
            if (i)
                sb_add(out, ", ");
            const struct hist_op *op = &h->ops[r->partial[i]];
            history_describe_op(h, op, out);
            sb_printf(out, " (p%" PRId64 ")", op->process);
        }
        sb_add(out, " -> ");
        sb_add_escaped(out, r->partial_state, strlen(r->partial_state));
        sb_add(out, "\n");
        if (r->marked >= 0) {
            sb_add(out, "then ");
            op_words(h, r->marked, out, false);
            sb_add(out, " cannot take effect.\n");
        }
    }
    sb_printf(out, "(%s model: %d key%s, %.1f ms)\n", lin_model_name(r->model), r->n_keys,
              r->n_keys == 1 ? "" : "s", r->elapsed_ms);
}
