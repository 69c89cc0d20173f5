/* statusbrief — see statusbrief.h. */
#include "statusbrief.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "merkle.h"
#include "util.h"

static uint64_t pair_hash(const char *key, const json_t *v)
{
    uint64_t h = hash_bytes(HASH_SEED, key, strlen(key) + 1);
    if (json_is_string(v)) {
        h = hash_bytes(h, "s", 1);
        h = hash_bytes(h, json_string_value(v), json_string_length(v));
    } else {
        char *t = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
        h = hash_bytes(h, "j", 1);
        h = hash_bytes(h, t ? t : "", t ? strlen(t) : 0);
        free(t);
    }
    h = hash_mix(h);
    return h ? h : 1;
}

uint64_t status_data_digest(const json_t *data)
{
    if (!json_is_object(data) || json_object_size(data) == 0)
        return 0;
    struct merkle *m = xcalloc(1, sizeof *m);
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)data, k, v)
        merkle_update(m, hash_str(k), 0, pair_hash(k, v));
    uint64_t top[MERKLE_TOPS];
    uint64_t root = merkle_root(m, top);
    free(m);
    return root ? root : 1;
}

/* An upper bound of the bytes string s takes in a JSON text. */
static size_t str_cost(const char *s, size_t n)
{
    size_t c = 3;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        c += ch == '"' || ch == '\\' ? 2 : ch < 0x20 ? 6 : 1;
    }
    return c;
}

static size_t value_cost(const json_t *v)
{
    if (json_is_string(v))
        return str_cost(json_string_value(v), json_string_length(v));
    char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    size_t c = t ? strlen(t) + 1 : 8;
    free(t);
    return c;
}

/* s cut to at most max bytes at a UTF-8 boundary, with how long it was. */
static json_t *cut_string(const char *s, size_t len, size_t max)
{
    size_t keep = max;
    while (keep > 0 && ((unsigned char)s[keep] & 0xc0) == 0x80)
        keep--;
    return json_sprintf("%.*s... (%zu bytes)", (int)keep, s, len);
}

json_t *status_brief(json_t *s)
{
    if (!json_is_object(s))
        return s;
    json_t *data = json_object_get(s, "data");
    if (!json_is_object(data)) {
        /* a mode that keeps no data: nothing to compare, and nothing that differs */
        json_object_set_new(s, "keys", json_integer(0));
        json_object_set_new(s, "digest", json_string("0000000000000000"));
    } else {
        size_t cost = 2;
        const char *k;
        json_t *v;
        json_object_foreach(data, k, v) {
            cost += str_cost(k, strlen(k)) + value_cost(v);
            if (cost > STATUS_INLINE_BYTES)
                break;
        }
        char hex[17];
        snprintf(hex, sizeof hex, "%016llx", (unsigned long long)status_data_digest(data));
        json_object_set_new(s, "keys", json_integer((json_int_t)json_object_size(data)));
        json_object_set_new(s, "digest", json_string(hex));
        if (cost > STATUS_INLINE_BYTES)
            json_object_del(s, "data");
    }
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(s, "log"), i, e) {
        const char *k;
        json_t *v;
        json_object_foreach(e, k, v) {
            if (json_is_string(v) && json_string_length(v) > STATUS_LOG_STR)
                json_object_set_new(e, k, cut_string(json_string_value(v), json_string_length(v), STATUS_LOG_STR));
        }
    }
    return s;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

json_t *status_data_page(const json_t *data, const char *after, const char *key, size_t max_bytes, int *more)
{
    json_t *page = json_object();
    *more = 0;
    if (!json_is_object(data))
        return page;
    if (key) {
        json_t *v = json_object_get(data, key);
        if (v)
            json_object_set(page, key, v);
        return page;
    }
    size_t n = json_object_size(data), m = 0;
    const char **keys = xmalloc((n ? n : 1) * sizeof *keys);
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)data, k, v) {
        if (!after || strcmp(k, after) > 0)
            keys[m++] = k;
    }
    qsort(keys, m, sizeof *keys, cmp_str);
    size_t cost = 2;
    for (size_t i = 0; i < m; i++) {
        v = json_object_get(data, keys[i]);
        size_t c = str_cost(keys[i], strlen(keys[i])) + value_cost(v);
        if (i > 0 && cost + c > max_bytes) {
            *more = 1;
            break;
        }
        cost += c;
        json_object_set(page, keys[i], v);
    }
    free(keys);
    return page;
}
