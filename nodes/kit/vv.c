/* vv — see vv.h. */
#include "vv.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int vv_dominates(const struct vv *a, const struct vv *b)
{
    for (int i = 0; i < CL_MAXN; i++)
        if (a->c[i] < b->c[i])
            return 0;
    return 1;
}

enum vv_order vv_compare(const struct vv *a, const struct vv *b)
{
    int ab = vv_dominates(a, b), ba = vv_dominates(b, a);
    if (ab && ba)
        return VV_EQUAL;
    if (ab)
        return VV_AFTER;
    if (ba)
        return VV_BEFORE;
    return VV_CONCURRENT;
}

int vv_concurrent(const struct vv *a, const struct vv *b)
{
    return vv_compare(a, b) == VV_CONCURRENT;
}

void vv_merge(struct vv *dst, const struct vv *src)
{
    for (int i = 0; i < CL_MAXN; i++)
        if (src->c[i] > dst->c[i])
            dst->c[i] = src->c[i];
}

int vv_covers(const struct vv *v, int node, uint64_t counter)
{
    if (node < 0 || node >= CL_MAXN)
        return counter == 0;
    return v->c[node] >= counter;
}

void vv_add_dot(struct vv *v, int node, uint64_t counter)
{
    if (node >= 0 && node < CL_MAXN && counter > v->c[node])
        v->c[node] = counter;
}

int vv_is_zero(const struct vv *v)
{
    for (int i = 0; i < CL_MAXN; i++)
        if (v->c[i])
            return 0;
    return 1;
}

static void name_of(int i, const char (*names)[CL_IDLEN], char buf[CL_IDLEN])
{
    if (names)
        str_copy(buf, names[i], CL_IDLEN);
    else
        node_name(i, buf);
}

void vv_text(const struct vv *v, int n, const char (*names)[CL_IDLEN], struct sb *out)
{
    int first = 1;
    sb_add(out, "");
    for (int k = 0; k < n && k < CL_MAXN; k++) {
        if (!v->c[k])
            continue;
        char id[CL_IDLEN];
        name_of(k, names, id);
        sb_printf(out, "%s%s:%" PRIu64, first ? "" : ",", id, v->c[k]);
        first = 0;
    }
}

int vv_parse(const char *s, int n, const char (*names)[CL_IDLEN], struct vv *out, char *err,
             size_t errlen)
{
    struct vv v = {{0}};
    char *copy = xstrdup(s);
    char *save = NULL;
    int rc = 0;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *colon = strchr(tok, ':');
        uint64_t c = 0;
        int idx = -1;
        if (colon) {
            *colon = 0;
            for (int i = 0; i < n && i < CL_MAXN; i++) {
                char id[CL_IDLEN];
                name_of(i, names, id);
                if (!strcmp(id, tok))
                    idx = i;
            }
        }
        if (!colon || idx < 0 || parse_u64(colon + 1, &c) < 0) {
            snprintf(err, errlen, "bad context \"%s\": expected node:counter pairs such as n1:3,n2:1 "
                     "(as a read returned it)", s);
            rc = CL_EINVAL;
            break;
        }
        v.c[idx] = c;
    }
    free(copy);
    if (rc == 0)
        *out = v;
    return rc;
}

json_t *vv_to_json(const struct vv *v, int n)
{
    json_t *a = json_array();
    for (int i = 0; i < n && i < CL_MAXN; i++)
        json_array_append_new(a, json_integer((json_int_t)v->c[i]));
    return a;
}

int vv_from_json(const json_t *j, struct vv *out, char *err, size_t errlen)
{
    if (!json_is_array(j) || json_array_size(j) > CL_MAXN) {
        snprintf(err, errlen, "a version vector is an array of at most %d counters", CL_MAXN);
        return CL_EINVAL;
    }
    struct vv v = {{0}};
    size_t i;
    const json_t *x;
    json_array_foreach(j, i, x) {
        if (!json_is_integer(x) || json_integer_value(x) < 0) {
            snprintf(err, errlen, "entry %zu is not a counter (a whole number >= 0)", i);
            return CL_EINVAL;
        }
        v.c[i] = (uint64_t)json_integer_value(x);
    }
    *out = v;
    return 0;
}
