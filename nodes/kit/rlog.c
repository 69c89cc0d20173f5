/* rlog — see rlog.h. */
#include "kvsm.h"
#include "rlog.h"

#include <stdlib.h>
#include <string.h>

#include "hash.h"

void rlog_entry_free(struct rlog_entry *en)
{
    free(en->key);
    free(en->value);
    free(en->from);
    free(en->client);
    memset(en, 0, sizeof *en);
}

void rlog_members_text(uint32_t members, const char (*names)[CL_IDLEN], int n_names, struct sb *out)
{
    int first = 1;
    sb_add(out, "");
    for (int i = 0; i < CL_MAXN; i++) {
        if (!((members >> i) & 1))
            continue;
        if (!first)
            sb_addc(out, ',');
        first = 0;
        if (names && i < n_names)
            sb_add(out, names[i]);
        else
            sb_printf(out, "n%d", i + 1);
    }
}

char *rlog_entry_text(const struct rlog_entry *en, const char (*names)[CL_IDLEN], int n_names)
{
    struct sb b = {0};
    switch (en->type) {
    case KV_NOOP: sb_add(&b, "noop"); break;
    case KV_PUT: sb_printf(&b, "put %s %s", en->key ? en->key : "", kvsm_value_text(en->value)); break;
    case KV_CAS:
        sb_printf(&b, "cas %s %s %s", en->key ? en->key : "", kvsm_value_text(en->from), kvsm_value_text(en->value));
        break;
    case KV_CONF: sb_add(&b, "config "); rlog_members_text(en->members, names, n_names, &b); break;
    case KV_OP: sb_printf(&b, "op %s %s", en->key ? en->key : "", en->value ? en->value : ""); break;
    default: sb_printf(&b, "entry of type %d", en->type); break;
    }
    return b.s;
}

char *rlog_entry_label(const struct rlog_entry *en, const char (*names)[CL_IDLEN], int n_names)
{
    char *c = rlog_entry_text(en, names, n_names);
    size_t len = strlen(c);
    if (len <= 96)
        return c;
    uint64_t h = hash_bytes(HASH_SEED, c, len);
    char *out = xasprintf("%.80s... (%zu bytes, #%016llx)", c, len, (unsigned long long)h);
    free(c);
    return out;
}

static size_t json_str_cost(const char *s)
{
    size_t n = 3;
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++)
        n += *p == '"' || *p == '\\' ? 2 : *p < 0x20 ? 6 : 1;
    return n;
}

size_t rlog_entry_json_cost(const struct rlog_entry *en)
{
    return 96 + json_str_cost(en->key) + json_str_cost(en->value) + json_str_cost(en->from) +
           json_str_cost(en->client);
}

uint64_t rlog_last(const struct rlog *l)
{
    return l->base + l->n;
}

struct rlog_entry *rlog_at(const struct rlog *l, uint64_t i)
{
    if (i <= l->base || i > rlog_last(l))
        return NULL;
    return &l->e[i - l->base - 1];
}

uint64_t rlog_term_at(const struct rlog *l, uint64_t i)
{
    if (i == l->base)
        return l->base_term;
    const struct rlog_entry *en = rlog_at(l, i);
    return en ? en->term : 0;
}

uint64_t rlog_push(struct rlog *l, struct rlog_entry *en)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->e = xrealloc(l->e, l->cap * sizeof *l->e);
    }
    l->e[l->n++] = *en;
    memset(en, 0, sizeof *en);
    return rlog_last(l);
}

void rlog_truncate(struct rlog *l, uint64_t from)
{
    if (from > rlog_last(l))
        return;
    size_t keep = from <= l->base ? 0 : (size_t)(from - l->base - 1);
    for (size_t k = keep; k < l->n; k++)
        rlog_entry_free(&l->e[k]);
    l->n = keep;
}

void rlog_compact(struct rlog *l, uint64_t upto, uint64_t base_term)
{
    if (upto < l->base)
        return;
    size_t drop = upto <= l->base ? 0 : upto >= rlog_last(l) ? l->n : (size_t)(upto - l->base);
    for (size_t k = 0; k < drop; k++)
        rlog_entry_free(&l->e[k]);
    if (l->n > drop)
        memmove(l->e, l->e + drop, (l->n - drop) * sizeof *l->e);
    l->n -= drop;
    l->base = upto;
    l->base_term = base_term;
}

void rlog_free(struct rlog *l)
{
    for (size_t k = 0; k < l->n; k++)
        rlog_entry_free(&l->e[k]);
    free(l->e);
    memset(l, 0, sizeof *l);
}
