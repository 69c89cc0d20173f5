/* hash — see hash.h. */
#include "hash.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

uint64_t hash_bytes(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

uint64_t hash_mix(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x;
}

uint64_t hash_str(const char *s)
{
    return hash_mix(hash_bytes(HASH_SEED, s, strlen(s)));
}

const char *hash_hex(uint64_t h, char buf[17])
{
    snprintf(buf, 17, "%016" PRIx64, h);
    return buf;
}

int hash_parse_hex(const char *s, uint64_t *out)
{
    if (!s || strlen(s) != 16)
        return CL_EINVAL;
    uint64_t v = 0;
    for (int i = 0; i < 16; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
              : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0)
            return CL_EINVAL;
        v = v << 4 | (uint64_t)d;
    }
    *out = v;
    return 0;
}
