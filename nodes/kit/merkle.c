/* merkle — see merkle.h. */
#include "merkle.h"

#include <string.h>

#include "hash.h"
#include "util.h"

unsigned merkle_leaf_of(uint64_t khash)
{
    return (unsigned)(khash >> (64 - MERKLE_LEAF_BITS));
}

void merkle_clear(struct merkle *m)
{
    memset(m, 0, sizeof *m);
}

void merkle_update(struct merkle *m, uint64_t khash, uint64_t h_old, uint64_t h_new)
{
    m->leaf[merkle_leaf_of(khash)] ^= h_old ^ h_new;
}

uint64_t merkle_top(const struct merkle *m, int t)
{
    return hash_mix(hash_bytes(HASH_SEED, &m->leaf[t * MERKLE_FANOUT], MERKLE_FANOUT * sizeof(uint64_t)));
}

uint64_t merkle_root(const struct merkle *m, uint64_t top[MERKLE_TOPS])
{
    for (int t = 0; t < MERKLE_TOPS; t++)
        top[t] = merkle_top(m, t);
    return hash_mix(hash_bytes(HASH_SEED, top, MERKLE_TOPS * sizeof(uint64_t)));
}

const uint64_t *merkle_leaves(const struct merkle *m, int t)
{
    return &m->leaf[t * MERKLE_FANOUT];
}

int merkle_diff(const struct merkle *m, int t, const uint64_t theirs[MERKLE_FANOUT], int *out)
{
    int n = 0;
    for (int l = 0; l < MERKLE_FANOUT; l++)
        if (m->leaf[t * MERKLE_FANOUT + l] != theirs[l])
            out[n++] = t * MERKLE_FANOUT + l;
    return n;
}

json_t *merkle_hashes_json(const uint64_t *h, int n)
{
    json_t *a = json_array();
    char hb[17];
    for (int i = 0; i < n; i++)
        json_array_append_new(a, json_string(hash_hex(h[i], hb)));
    return a;
}

int merkle_hashes_parse(const json_t *a, uint64_t *out, int n)
{
    if (!json_is_array(a) || (int)json_array_size(a) != n)
        return CL_EINVAL;
    for (int i = 0; i < n; i++)
        if (hash_parse_hex(json_string_value(json_array_get(a, (size_t)i)), &out[i]) < 0)
            return CL_EINVAL;
    return 0;
}
