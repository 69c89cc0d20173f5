/* vitem — see vitem.h. */
#include "vitem.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "jtext.h"
#include "msg.h"

void version_free(struct version *v)
{
    free(v->value);
    v->value = NULL;
}

void version_copy(struct version *dst, const struct version *src)
{
    *dst = *src;
    dst->value = src->value ? xstrdup(src->value) : NULL;
}

int version_lww_cmp(const struct version *a, const struct version *b)
{
    if (a->ts != b->ts)
        return a->ts < b->ts ? -1 : 1;
    if (a->node != b->node)
        return a->node < b->node ? -1 : 1;
    if (!a->value || !b->value)
        return a->value ? 1 : b->value ? -1 : 0;
    return strcmp(a->value, b->value);
}

/* (A higher counter of the same node says nothing: dots name events, contexts order them.) */
int version_covers(const struct version *a, const struct version *b)
{
    if (a->node == b->node && a->dot == b->dot)
        return 1;
    return vv_covers(&a->ctx, b->node, b->dot);
}

static int version_order(const void *pa, const void *pb)
{
    const struct version *a = pa, *b = pb;
    if (a->node != b->node)
        return a->node - b->node;
    if (a->dot != b->dot)
        return a->dot < b->dot ? -1 : 1;
    return version_lww_cmp(a, b);
}

static void name_of(int i, const char (*names)[CL_IDLEN], char buf[CL_IDLEN])
{
    if (names && i >= 0 && i < CL_MAXN)
        str_copy(buf, names[i], CL_IDLEN);
    else if (i >= 0 && i < CL_MAXN)
        node_name(i, buf);
    else
        str_copy(buf, "?", CL_IDLEN);
}

void version_text(const struct version *v, enum vmerge m, const char (*names)[CL_IDLEN],
                  struct sb *out)
{
    char id[CL_IDLEN];
    name_of(v->node, names, id);
    if (m == VMERGE_LWW)
        sb_printf(out, "%" PRIu64 "@%s", v->ts, id);
    else
        sb_printf(out, "%s.%" PRIu64, id, v->dot);
}

struct vitem *vitem_new(const char *key, uint64_t khash)
{
    struct vitem *it = xcalloc(1, sizeof *it);
    it->key = xstrdup(key);
    it->khash = khash;
    return it;
}

void vitem_free(struct vitem *it)
{
    if (!it)
        return;
    for (int i = 0; i < it->nv; i++)
        version_free(&it->v[i]);
    free(it->v);
    free(it->key);
    free(it);
}

struct vitem *vitem_dup(const struct vitem *src)
{
    struct vitem *it = vitem_new(src->key, src->khash);
    it->nv = src->nv;
    it->v = xcalloc((size_t)(src->nv ? src->nv : 1), sizeof *it->v);
    for (int i = 0; i < src->nv; i++)
        version_copy(&it->v[i], &src->v[i]);
    it->h = src->h;
    it->owners = src->owners;
    return it;
}

void vitem_rehash(struct vitem *it)
{
    if (it->nv == 0) {
        it->h = 0;
        return;
    }
    uint64_t h = hash_bytes(HASH_SEED, it->key, strlen(it->key) + 1);
    for (int i = 0; i < it->nv; i++) {
        const struct version *v = &it->v[i];
        uint64_t f[3] = {v->ts, (uint64_t)v->node, v->dot};
        h = hash_bytes(h, f, sizeof f);
        if (v->value)
            h = hash_bytes(h, v->value, strlen(v->value) + 1);
        else
            h = hash_bytes(h, "\xff", 1);
    }
    it->h = hash_mix(h) | 1; /* never 0: 0 means absent */
}

int vitem_is_tomb(const struct vitem *it)
{
    for (int i = 0; i < it->nv; i++)
        if (it->v[i].value)
            return 0;
    return it->nv > 0;
}

uint64_t vitem_newest_ts(const struct vitem *it)
{
    uint64_t t = 0;
    for (int i = 0; i < it->nv; i++)
        if (it->v[i].ts > t)
            t = it->v[i].ts;
    return t;
}

static void remove_version(struct vitem *it, int i)
{
    version_free(&it->v[i]);
    memmove(&it->v[i], &it->v[i + 1], (size_t)(it->nv - i - 1) * sizeof *it->v);
    it->nv--;
}

int vitem_merge_version(enum vmerge m, struct vitem *it, const struct version *in)
{
    if (m == VMERGE_LWW) {
        if (it->nv == 1 && version_lww_cmp(&it->v[0], in) >= 0)
            return 0;
        while (it->nv)
            remove_version(it, it->nv - 1);
        it->v = xrealloc(it->v, sizeof *it->v);
        version_copy(&it->v[0], in);
        it->nv = 1;
        return 1;
    }
    for (int i = 0; i < it->nv; i++)
        if (version_covers(&it->v[i], in))
            return 0; /* known already, or superseded */
    for (int i = it->nv - 1; i >= 0; i--)
        if (version_covers(in, &it->v[i]))
            remove_version(it, i);
    it->v = xrealloc(it->v, (size_t)(it->nv + 1) * sizeof *it->v);
    version_copy(&it->v[it->nv++], in);
    qsort(it->v, (size_t)it->nv, sizeof *it->v, version_order);
    return 1;
}

int vitem_merge(enum vmerge m, struct vitem *dst, const struct vitem *src)
{
    int changed = 0;
    for (int i = 0; i < src->nv; i++)
        changed |= vitem_merge_version(m, dst, &src->v[i]);
    if (changed)
        vitem_rehash(dst);
    return changed;
}

void vitem_context(const struct vitem *it, struct vv *out)
{
    memset(out, 0, sizeof *out);
    for (int i = 0; i < it->nv; i++) {
        vv_merge(out, &it->v[i].ctx);
        vv_add_dot(out, it->v[i].node, it->v[i].dot);
    }
}

json_t *vitem_values(const struct vitem *it)
{
    json_t *live = json_array();
    for (int i = 0; i < it->nv; i++)
        if (it->v[i].value)
            json_array_append_new(live, jtext_decode(it->v[i].value));
    return live;
}

void vitem_versions_text(const struct vitem *it, enum vmerge m, const char (*names)[CL_IDLEN],
                         struct sb *out)
{
    sb_add(out, "");
    for (int i = 0; i < it->nv; i++) {
        if (i)
            sb_add(out, " ");
        version_text(&it->v[i], m, names, out);
    }
}

json_t *vitem_to_json(const struct vitem *it, enum vmerge m, int n_nodes)
{
    json_t *vs = json_array();
    for (int i = 0; i < it->nv; i++) {
        const struct version *v = &it->v[i];
        json_t *j = json_pack("{s:o,s:I,s:i}", "v", v->value ? json_string(v->value) : json_null(),
                              "t", (json_int_t)v->ts, "n", v->node);
        if (m == VMERGE_DVV) {
            json_object_set_new(j, "d", json_integer((json_int_t)v->dot));
            json_object_set_new(j, "c", vv_to_json(&v->ctx, n_nodes));
        }
        json_array_append_new(vs, j);
    }
    return json_pack("{s:s,s:o}", "key", it->key, "vers", vs);
}

struct item_msg {
    const char *key;
    const json_t *vers;
};

struct version_msg {
    const char *v;
    uint64_t t;
    int n;
    uint64_t d;
    const json_t *c;
};

static const struct msg_field version_lww_fields[] = {
    MSG_STR_NULL(struct version_msg, v),
    MSG_U64(struct version_msg, t, INT64_MAX),
    MSG_INT(struct version_msg, n, 0, CL_MAXN - 1),
    MSG_END,
};

static const struct msg_field version_dvv_fields[] = {
    MSG_STR_NULL(struct version_msg, v),
    MSG_U64(struct version_msg, t, INT64_MAX),
    MSG_INT(struct version_msg, n, 0, CL_MAXN - 1),
    MSG_U64(struct version_msg, d, INT64_MAX),
    MSG_ARRAY(struct version_msg, c, CL_MAXN),
    MSG_END,
};

struct vitem *vitem_from_json(const json_t *j, enum vmerge m, int max_versions, char *why,
                              size_t whylen)
{
    static const struct msg_field item_fields[] = {
        MSG_STR(struct item_msg, key),
        MSG_ARRAY(struct item_msg, vers, 0),
        MSG_END,
    };
    struct item_msg im;
    char err[200];
    if (msg_get(j, "an item", item_fields, &im, err, sizeof err) < 0) {
        snprintf(why, whylen, "%s", err);
        return NULL;
    }
    if (json_array_size(im.vers) > (size_t)max_versions) {
        snprintf(why, whylen, "key %s has %zu versions, more than %d", im.key,
                 json_array_size(im.vers), max_versions);
        return NULL;
    }
    struct vitem *it = vitem_new(im.key, hash_str(im.key));
    it->v = xcalloc(json_array_size(im.vers) + 1, sizeof *it->v);
    size_t i;
    const json_t *vj;
    json_array_foreach(im.vers, i, vj) {
        struct version_msg vm = {0};
        struct version v = {0};
        if (msg_get(vj, "a version", m == VMERGE_DVV ? version_dvv_fields : version_lww_fields, &vm,
                    err, sizeof err) < 0 ||
            (m == VMERGE_DVV && vv_from_json(vm.c, &v.ctx, err, sizeof err) < 0)) {
            snprintf(why, whylen, "key %s version %zu: %s", im.key, i, err);
            vitem_free(it);
            return NULL;
        }
        v.value = (char *)vm.v;
        v.ts = vm.t;
        v.node = vm.n;
        v.dot = vm.d;
        vitem_merge_version(m, it, &v); /* copies the strings */
    }
    vitem_rehash(it);
    return it;
}
