/* zksm — see zksm.h. Arrays searched linearly (a lab's tree holds tens of znodes); the order of
 * the arrays is part of the state, the same on every replica, and snapshots keep it. */
#include "zksm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "env.h"
#include "kvsm.h"

#define ZK_MAX_TIMEOUT_US (600ull * 1000000)

static void node_clear(struct zk_node *n)
{
    free(n->path);
    free(n->data);
}

void zksm_init(struct zksm *z)
{
    memset(z, 0, sizeof *z);
    z->capn = 16;
    z->n = xcalloc(z->capn, sizeof *z->n);
    z->n[0].path = xstrdup("/");
    z->n[0].data = xstrdup("");
    z->nn = 1;
}

static void clear_all(struct zksm *z)
{
    for (size_t i = 0; i < z->nn; i++)
        node_clear(&z->n[i]);
    for (size_t i = 0; i < z->nw; i++)
        free(z->w[i].path);
    free(z->n);
    free(z->s);
    free(z->w);
    memset(z, 0, sizeof *z);
}

void zksm_free(struct zksm *z)
{
    clear_all(z);
}

/* ---- paths ----------------------------------------------------------------------------------- */

static int path_ok(const char *p, int allow_root, char *err, size_t errlen)
{
    size_t len = strlen(p);
    if (p[0] != '/') {
        snprintf(err, errlen, "path must start with / (got \"%.60s\")", p);
        return CL_EINVAL;
    }
    if (len > ZK_MAX_PATH) {
        snprintf(err, errlen, "path longer than %d bytes", ZK_MAX_PATH);
        return CL_EINVAL;
    }
    if (len == 1) {
        if (allow_root)
            return 0;
        snprintf(err, errlen, "the root / cannot be created, deleted or set");
        return CL_EINVAL;
    }
    if (p[len - 1] == '/') {
        snprintf(err, errlen, "path must not end with / (got \"%.60s\")", p);
        return CL_EINVAL;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c < 0x20 || c == 0x7f) {
            snprintf(err, errlen, "path holds a control character at byte %zu", i);
            return CL_EINVAL;
        }
        if (c == '/') {
            const char *comp = p + i + 1;
            size_t cl = strcspn(comp, "/");
            if (cl == 0 || (cl == 1 && comp[0] == '.') || (cl == 2 && comp[0] == '.' && comp[1] == '.')) {
                snprintf(err, errlen, "path has an empty, . or .. component (\"%.60s\")", p);
                return CL_EINVAL;
            }
        }
    }
    return 0;
}

/* The parent of a valid path other than the root, into out. */
static void parent_of(const char *p, char out[ZK_MAX_PATH + 16])
{
    const char *slash = strrchr(p, '/');
    size_t n = (size_t)(slash - p);
    if (n == 0)
        n = 1;
    memcpy(out, p, n);
    out[n] = 0;
}

static long find(const struct zksm *z, const char *path)
{
    for (size_t i = 0; i < z->nn; i++)
        if (!strcmp(z->n[i].path, path))
            return (long)i;
    return -1;
}

const struct zk_node *zksm_get(const struct zksm *z, const char *path)
{
    long i = path ? find(z, path) : -1;
    return i < 0 ? NULL : &z->n[i];
}

const struct zk_session *zksm_session(const struct zksm *z, uint64_t id)
{
    for (size_t i = 0; i < z->ns; i++)
        if (z->s[i].id == id)
            return &z->s[i];
    return NULL;
}

static int has_children(const struct zksm *z, const char *path)
{
    size_t len = strlen(path);
    for (size_t i = 1; i < z->nn; i++) {
        const char *q = z->n[i].path;
        if (len == 1 ? strchr(q + 1, '/') == NULL : !strncmp(q, path, len) && q[len] == '/' && !strchr(q + len + 1, '/'))
            return 1;
    }
    return 0;
}

/* ---- operations: shape ---------------------------------------------------------------------- */

static int get_bool(const json_t *op, const char *k, int *out, char *err, size_t errlen)
{
    const json_t *v = json_object_get(op, k);
    *out = 0;
    if (!v)
        return 0;
    if (!json_is_boolean(v)) {
        snprintf(err, errlen, "\"%s\" must be true or false", k);
        return CL_EINVAL;
    }
    *out = json_is_true(v);
    return 0;
}

static int get_u64(const json_t *op, const char *k, int need, uint64_t max, uint64_t *out, char *err, size_t errlen)
{
    const json_t *v = json_object_get(op, k);
    *out = 0;
    if (!v) {
        if (need)
            snprintf(err, errlen, "\"%s\" is missing (a whole number)", k);
        return need ? CL_EINVAL : 0;
    }
    if (!json_is_integer(v) || json_integer_value(v) < 0 || (uint64_t)json_integer_value(v) > max) {
        snprintf(err, errlen, "\"%s\" must be a whole number from 0 to %llu", k, (unsigned long long)max);
        return CL_EINVAL;
    }
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

static int get_version(const json_t *op, int64_t *out, char *err, size_t errlen)
{
    const json_t *v = json_object_get(op, "version");
    *out = -1;
    if (!v)
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < -1 || json_integer_value(v) > INT32_MAX) {
        snprintf(err, errlen, "\"version\" must be -1 (any) or a version >= 0");
        return CL_EINVAL;
    }
    *out = json_integer_value(v);
    return 0;
}

static int get_path(const json_t *op, int allow_root, const char **out, char *err, size_t errlen)
{
    const json_t *v = json_object_get(op, "path");
    if (!json_is_string(v)) {
        snprintf(err, errlen, "\"path\" is missing (a string such as /config/db)");
        return CL_EINVAL;
    }
    *out = json_string_value(v);
    return path_ok(*out, allow_root, err, errlen);
}

/* An op's data, any JSON but null (absent or null: the empty string ""), as kvsm's entry text
 * (kvsm.h) into buf: so 42 and "42" stay apart in the tree. */
static int get_data_text(const json_t *op, int need, char *buf, size_t len, char *err, size_t errlen)
{
    const json_t *v = json_object_get(op, "data");
    buf[0] = 0;
    if (!v || json_is_null(v)) {
        if (need)
            snprintf(err, errlen, "\"data\" is missing (any JSON value: a string, 42, {\"a\":[1]} …)");
        return need ? CL_EINVAL : 0;
    }
    char *t = kvsm_value_encode(v);
    size_t n = t ? strlen(t) : len;
    if (n > ZK_MAX_DATA || n >= len) {
        free(t);
        snprintf(err, errlen, "\"data\" must be at most %d bytes (a string, or any JSON as its compact text)", ZK_MAX_DATA);
        return CL_EINVAL;
    }
    memcpy(buf, t, n + 1);
    free(t);
    return 0;
}

static int get_data(const json_t *op, int need, const char **out, char *err, size_t errlen)
{
    char buf[ZK_MAX_DATA + 2];
    *out = "";
    return get_data_text(op, need, buf, sizeof buf, err, errlen);
}

int zksm_check_op(const json_t *op, char *err, size_t errlen)
{
    if (!json_is_object(op)) {
        snprintf(err, errlen, "an operation must be a JSON object");
        return CL_EINVAL;
    }
    const char *name = json_string_value(json_object_get(op, "op"));
    const char *path, *data;
    int b;
    uint64_t u;
    int64_t ver;
    if (!name) {
        snprintf(err, errlen, "\"op\" is missing: open, close, create, delete, set, get, exists, children or sync");
        return CL_EINVAL;
    }
    if (!strcmp(name, "open")) {
        if (get_u64(op, "timeout", 1, ZK_MAX_TIMEOUT_US, &u, err, errlen) < 0)
            return CL_EINVAL;
        if (u < 1000) {
            snprintf(err, errlen, "\"timeout\" must be at least 1000 µs");
            return CL_EINVAL;
        }
        return 0;
    }
    if (!strcmp(name, "close"))
        return get_u64(op, "session", 1, INT64_MAX, &u, err, errlen);
    if (!strcmp(name, "sync"))
        return 0;
    if (!strcmp(name, "create"))
        return get_path(op, 0, &path, err, errlen) < 0 || get_data(op, 0, &data, err, errlen) < 0 ||
                       get_bool(op, "ephemeral", &b, err, errlen) < 0 || get_bool(op, "sequential", &b, err, errlen) < 0 ||
                       get_bool(op, "parents", &b, err, errlen) < 0 ||
                       get_u64(op, "session", 0, INT64_MAX, &u, err, errlen) < 0
                   ? CL_EINVAL
                   : 0;
    if (!strcmp(name, "delete"))
        return get_path(op, 0, &path, err, errlen) < 0 || get_version(op, &ver, err, errlen) < 0 ? CL_EINVAL : 0;
    if (!strcmp(name, "set"))
        return get_path(op, 0, &path, err, errlen) < 0 || get_data(op, 1, &data, err, errlen) < 0 ||
                       get_version(op, &ver, err, errlen) < 0
                   ? CL_EINVAL
                   : 0;
    if (!strcmp(name, "get") || !strcmp(name, "exists") || !strcmp(name, "children"))
        return get_path(op, 1, &path, err, errlen) < 0 || get_bool(op, "watch", &b, err, errlen) < 0 ? CL_EINVAL : 0;
    snprintf(err, errlen, "unknown op \"%.40s\": open, close, create, delete, set, get, exists, children or sync", name);
    return CL_EINVAL;
}

/* ---- operations: effect -------------------------------------------------------------------- */

static json_t *fail(int code, const char *fmt, const char *path)
{
    char t[700];
    snprintf(t, sizeof t, fmt, path ? path : "");
    return json_pack("{s:i,s:s}", "error", code, "text", t);
}

static json_t *stat_json(const struct zk_node *n)
{
    return json_pack("{s:I,s:I,s:I,s:I,s:I}", "czxid", (json_int_t)n->czxid, "mzxid", (json_int_t)n->mzxid, "version",
                     (json_int_t)n->version, "cversion", (json_int_t)n->cversion, "owner", (json_int_t)n->owner);
}

/* Fires (and removes) the watches of kind child on path. */
static void fire(struct zksm *z, const char *path, int child, const char *event, json_t *fired)
{
    size_t w = 0;
    for (size_t i = 0; i < z->nw; i++) {
        struct zk_watch *x = &z->w[i];
        if (x->child == child && !strcmp(x->path, path)) {
            if (fired)
                json_array_append_new(fired, json_pack("{s:s,s:I,s:s,s:s}", "client", x->client, "watch",
                                                       (json_int_t)x->id, "path", x->path, "event", event));
            free(x->path);
            continue;
        }
        z->w[w++] = *x;
    }
    z->nw = w;
}

static uint64_t add_watch(struct zksm *z, uint64_t index, const char *client, const char *path, int child)
{
    for (size_t i = 0; i < z->nw; i++)
        if (z->w[i].child == child && !strcmp(z->w[i].client, client) && !strcmp(z->w[i].path, path))
            return z->w[i].id; /* one watch per client, path and kind: it fires once */
    if (z->nw == z->capw) {
        z->capw = z->capw ? 2 * z->capw : 16;
        z->w = xrealloc(z->w, z->capw * sizeof *z->w);
    }
    struct zk_watch *x = &z->w[z->nw++];
    memset(x, 0, sizeof *x);
    x->id = index;
    str_copy(x->client, client, CL_IDLEN);
    x->path = xstrdup(path);
    x->child = child;
    return index;
}

static struct zk_node *add_node(struct zksm *z, const char *path, const char *data, uint64_t index, uint64_t owner)
{
    if (z->nn == z->capn) {
        z->capn *= 2;
        z->n = xrealloc(z->n, z->capn * sizeof *z->n);
    }
    struct zk_node *n = &z->n[z->nn++];
    memset(n, 0, sizeof *n);
    n->path = xstrdup(path);
    n->data = xstrdup(data ? data : "");
    n->czxid = n->mzxid = index;
    n->owner = owner;
    return n;
}

static void remove_node(struct zksm *z, size_t i, json_t *fired)
{
    char path[ZK_MAX_PATH + 16], parent[ZK_MAX_PATH + 16];
    str_copy(path, z->n[i].path, sizeof path);
    node_clear(&z->n[i]);
    memmove(&z->n[i], &z->n[i + 1], (z->nn - i - 1) * sizeof *z->n);
    z->nn--;
    parent_of(path, parent);
    long p = find(z, parent);
    if (p >= 0)
        z->n[p].cversion++;
    fire(z, path, 0, "deleted", fired);
    fire(z, path, 1, "deleted", fired);
    fire(z, parent, 1, "children", fired);
}

/* Creates path (checked) with its parent existing; returns the result. */
static json_t *create_one(struct zksm *z, uint64_t index, const char *path, const char *data, int eph, int seq,
                          uint64_t session, json_t *fired)
{
    char parent[ZK_MAX_PATH + 16], full[ZK_MAX_PATH + 32];
    parent_of(path, parent);
    long p = find(z, parent);
    if (p < 0)
        return fail(ERR_KEY_DOES_NOT_EXIST, "no node: the parent %s does not exist", parent);
    if (z->n[p].owner)
        return fail(ERR_PRECONDITION_FAILED, "%s is ephemeral: an ephemeral node cannot have children", parent);
    if (seq)
        snprintf(full, sizeof full, "%s%010llu", path, (unsigned long long)z->n[p].seq++);
    else
        str_copy(full, path, sizeof full);
    if (find(z, full) >= 0)
        return fail(ERR_KEY_ALREADY_EXISTS, "node exists: %s", full);
    if (z->nn >= ZK_MAX_NODES)
        return fail(ERR_PRECONDITION_FAILED, "the tree is full (%s not created)", full);
    z->n[p].cversion++;
    struct zk_node *n = add_node(z, full, data, index, eph ? session : 0);
    json_t *r = json_pack("{s:s,s:I}", "path", n->path, "czxid", (json_int_t)index);
    fire(z, full, 0, "created", fired);
    fire(z, parent, 1, "children", fired);
    return r;
}

struct kid {
    const char *name, *data;
};

static int cmp_kid(const void *a, const void *b)
{
    return strcmp(((const struct kid *)a)->name, ((const struct kid *)b)->name);
}

json_t *zksm_apply(struct zksm *z, uint64_t index, const char *client, const json_t *op, json_t *fired)
{
    char err[300];
    if (zksm_check_op(op, err, sizeof err) < 0)
        return fail(ERR_MALFORMED_REQUEST, "%s", err);
    const char *name = json_string_value(json_object_get(op, "op"));
    const char *path = json_string_value(json_object_get(op, "path"));
    char dbuf[ZK_MAX_DATA + 2];
    const char *data = get_data_text(op, 0, dbuf, sizeof dbuf, err, sizeof err) == 0 ? dbuf : "";
    int watch = json_is_true(json_object_get(op, "watch"));
    int64_t version = json_object_get(op, "version") ? json_integer_value(json_object_get(op, "version")) : -1;
    if (!client)
        client = "";
    if (!strcmp(name, "open")) {
        if (z->ns == z->caps) {
            z->caps = z->caps ? 2 * z->caps : 8;
            z->s = xrealloc(z->s, z->caps * sizeof *z->s);
        }
        struct zk_session *s = &z->s[z->ns++];
        memset(s, 0, sizeof *s);
        s->id = index;
        s->timeout_us = (uint64_t)json_integer_value(json_object_get(op, "timeout"));
        str_copy(s->client, client, CL_IDLEN);
        return json_pack("{s:I,s:I}", "session", (json_int_t)index, "timeout", (json_int_t)s->timeout_us);
    }
    if (!strcmp(name, "close")) {
        uint64_t sid = (uint64_t)json_integer_value(json_object_get(op, "session"));
        size_t k;
        for (k = 0; k < z->ns && z->s[k].id != sid; k++)
            ;
        if (k == z->ns)
            return json_pack("{s:i,s:s}", "error", ERR_ABORT, "text", "session expired or unknown");
        memmove(&z->s[k], &z->s[k + 1], (z->ns - k - 1) * sizeof *z->s);
        z->ns--;
        json_t *deleted = json_array();
        for (size_t i = 0; i < z->nn;) {
            if (z->n[i].owner == sid) {
                json_array_append_new(deleted, json_string(z->n[i].path));
                remove_node(z, i, fired);
            } else {
                i++;
            }
        }
        return json_pack("{s:I,s:o}", "session", (json_int_t)sid, "deleted", deleted);
    }
    if (!strcmp(name, "sync"))
        return json_pack("{s:I}", "index", (json_int_t)index);
    if (!strcmp(name, "create")) {
        int eph = json_is_true(json_object_get(op, "ephemeral"));
        int seq = json_is_true(json_object_get(op, "sequential"));
        uint64_t sid = (uint64_t)json_integer_value(json_object_get(op, "session"));
        if (eph && !zksm_session(z, sid))
            return json_pack("{s:i,s:s}", "error", ERR_ABORT, "text", "session expired or unknown: no ephemeral node");
        if (json_is_true(json_object_get(op, "parents"))) {
            char anc[ZK_MAX_PATH + 16];
            for (const char *q = strchr(path + 1, '/'); q; q = strchr(q + 1, '/')) {
                size_t n = (size_t)(q - path);
                memcpy(anc, path, n);
                anc[n] = 0;
                long a = find(z, anc);
                if (a >= 0 && z->n[a].owner)
                    break; /* create_one names the ephemeral parent */
                if (a < 0) {
                    json_t *r = create_one(z, index, anc, "", 0, 0, 0, fired);
                    if (json_object_get(r, "error"))
                        return r;
                    json_decref(r);
                }
            }
        }
        return create_one(z, index, path, data, eph, seq, sid, fired);
    }
    long i = find(z, path);
    if (!strcmp(name, "exists")) {
        json_t *r = json_pack("{s:o}", "stat", i >= 0 ? stat_json(&z->n[i]) : json_null());
        if (watch)
            json_object_set_new(r, "watch", json_integer((json_int_t)add_watch(z, index, client, path, 0)));
        return r;
    }
    if (i < 0)
        return fail(ERR_KEY_DOES_NOT_EXIST, "no node %s", path);
    struct zk_node *n = &z->n[i];
    if (!strcmp(name, "get")) {
        json_t *r = json_pack("{s:o,s:o}", "data", kvsm_value_decode(n->data), "stat", stat_json(n));
        if (watch)
            json_object_set_new(r, "watch", json_integer((json_int_t)add_watch(z, index, client, path, 0)));
        return r;
    }
    if (!strcmp(name, "children")) {
        size_t len = strlen(path), cap = 0, k = 0;
        struct kid *kids = NULL;
        for (size_t j = 1; j < z->nn; j++) {
            const char *q = z->n[j].path;
            const char *rest = len == 1 ? q + 1 : !strncmp(q, path, len) && q[len] == '/' ? q + len + 1 : NULL;
            if (!rest || strchr(rest, '/'))
                continue;
            if (k == cap) {
                cap = cap ? 2 * cap : 16;
                kids = xrealloc(kids, cap * sizeof *kids);
            }
            kids[k].name = rest;
            kids[k++].data = z->n[j].data;
        }
        if (k)
            qsort(kids, k, sizeof *kids, cmp_kid);
        json_t *arr = json_array(), *dat = json_object();
        for (size_t j = 0; j < k; j++) {
            json_array_append_new(arr, json_string(kids[j].name));
            json_object_set_new(dat, kids[j].name, kvsm_value_decode(kids[j].data));
        }
        free(kids);
        json_t *r = json_pack("{s:o,s:o,s:o}", "children", arr, "data", dat, "stat", stat_json(n));
        if (watch)
            json_object_set_new(r, "watch", json_integer((json_int_t)add_watch(z, index, client, path, 1)));
        return r;
    }
    if (version >= 0 && version != n->version) {
        char t[200];
        snprintf(t, sizeof t, "bad version: %s is at version %lld, not %lld", path, (long long)n->version,
                 (long long)version);
        return json_pack("{s:i,s:s}", "error", ERR_PRECONDITION_FAILED, "text", t);
    }
    if (!strcmp(name, "set")) {
        free(n->data);
        n->data = xstrdup(data);
        n->version++;
        n->mzxid = index;
        json_t *r = json_pack("{s:s,s:o}", "path", path, "stat", stat_json(n));
        fire(z, path, 0, "changed", fired);
        return r;
    }
    /* delete */
    if (has_children(z, path))
        return fail(ERR_PRECONDITION_FAILED, "not empty: %s has children", path);
    remove_node(z, (size_t)i, fired);
    return json_pack("{s:s}", "path", path);
}

/* ---- state ---------------------------------------------------------------------------------- */

json_t *zksm_data(const struct zksm *z)
{
    json_t *o = json_object();
    for (size_t i = 1; i < z->nn; i++)
        json_object_set_new(o, z->n[i].path, kvsm_value_decode(z->n[i].data));
    return o;
}

json_t *zksm_state(const struct zksm *z)
{
    json_t *nodes = json_array(), *sess = json_array(), *w = json_array();
    for (size_t i = 0; i < z->nn; i++) {
        const struct zk_node *n = &z->n[i];
        json_array_append_new(nodes, json_pack("[s,s,I,I,I,I,I,I]", n->path, n->data, (json_int_t)n->czxid,
                                               (json_int_t)n->mzxid, (json_int_t)n->version, (json_int_t)n->cversion,
                                               (json_int_t)n->owner, (json_int_t)n->seq));
    }
    for (size_t i = 0; i < z->ns; i++)
        json_array_append_new(sess, json_pack("[I,I,s]", (json_int_t)z->s[i].id, (json_int_t)z->s[i].timeout_us,
                                              z->s[i].client));
    for (size_t i = 0; i < z->nw; i++)
        json_array_append_new(w, json_pack("[I,s,s,b]", (json_int_t)z->w[i].id, z->w[i].client, z->w[i].path,
                                           z->w[i].child));
    return json_pack("{s:o,s:o,s:o}", "nodes", nodes, "sessions", sess, "watches", w);
}

int zksm_set_state(struct zksm *z, const json_t *st, char *err, size_t errlen)
{
    const json_t *nodes = json_object_get(st, "nodes"), *sess = json_object_get(st, "sessions"),
                 *w = json_object_get(st, "watches");
    if (!json_is_array(nodes) || !json_is_array(sess) || !json_is_array(w) || json_array_size(nodes) < 1 ||
        json_array_size(nodes) > ZK_MAX_NODES) {
        snprintf(err, errlen, "a zk state needs nodes (the root first), sessions and watches (arrays)");
        return CL_EINVAL;
    }
    struct zksm t;
    memset(&t, 0, sizeof t);
    size_t i;
    json_t *v;
    json_array_foreach(nodes, i, v) {
        const char *path, *data;
        json_int_t cz, mz, ver, cver, owner, seq;
        char e2[200];
        if (json_unpack(v, "[ssIIIIII]", &path, &data, &cz, &mz, &ver, &cver, &owner, &seq) < 0 ||
            path_ok(path, i == 0, e2, sizeof e2) < 0 || (i == 0) != !strcmp(path, "/") || cz < 0 || mz < 0 || owner < 0 ||
            seq < 0) {
            snprintf(err, errlen, "zk state: node %zu is malformed", i);
            goto bad;
        }
        if (t.nn == t.capn) {
            t.capn = t.capn ? 2 * t.capn : 16;
            t.n = xrealloc(t.n, t.capn * sizeof *t.n);
        }
        struct zk_node *n = add_node(&t, path, data, (uint64_t)cz, (uint64_t)owner);
        n->mzxid = (uint64_t)mz;
        n->version = ver;
        n->cversion = cver;
        n->seq = (uint64_t)seq;
    }
    json_array_foreach(sess, i, v) {
        json_int_t id, to;
        const char *c;
        if (json_unpack(v, "[IIs]", &id, &to, &c) < 0 || id < 0 || to < 0) {
            snprintf(err, errlen, "zk state: session %zu is malformed", i);
            goto bad;
        }
        if (t.ns == t.caps) {
            t.caps = t.caps ? 2 * t.caps : 8;
            t.s = xrealloc(t.s, t.caps * sizeof *t.s);
        }
        t.s[t.ns].id = (uint64_t)id;
        t.s[t.ns].timeout_us = (uint64_t)to;
        str_copy(t.s[t.ns++].client, c, CL_IDLEN);
    }
    json_array_foreach(w, i, v) {
        json_int_t id;
        const char *c, *p;
        int child;
        if (json_unpack(v, "[Issb]", &id, &c, &p, &child) < 0 || id < 0) {
            snprintf(err, errlen, "zk state: watch %zu is malformed", i);
            goto bad;
        }
        add_watch(&t, (uint64_t)id, c, p, child);
    }
    clear_all(z);
    *z = t;
    return 0;
bad:
    clear_all(&t);
    return CL_EINVAL;
}

char *zksm_op_text(const json_t *op)
{
    const char *name = json_string_value(json_object_get(op, "op"));
    const char *path = json_string_value(json_object_get(op, "path"));
    if (!name)
        return xstrdup("zk ?");
    if (!strcmp(name, "open"))
        return xasprintf("open session (timeout %lldms)", (long long)json_integer_value(json_object_get(op, "timeout")) / 1000);
    if (!strcmp(name, "close"))
        return xasprintf("close session %lld (%s)", (long long)json_integer_value(json_object_get(op, "session")),
                         json_string_value(json_object_get(op, "why")) ? json_string_value(json_object_get(op, "why")) : "closed");
    if (!strcmp(name, "sync"))
        return xstrdup("sync");
    int eph = json_is_true(json_object_get(op, "ephemeral")), seq = json_is_true(json_object_get(op, "sequential"));
    const json_t *dv = json_object_get(op, "data");
    char *dj = dv && !json_is_string(dv) ? json_dumps(dv, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    const char *data = dj ? dj : json_string_value(dv);
    if (!strcmp(name, "create")) {
        free(dj);
        return xasprintf("create %.100s%s%s%s%s", path ? path : "?", eph || seq ? " (" : "", eph ? "ephemeral" : "",
                         eph && seq ? ", " : "", seq ? "sequential)" : eph ? ")" : "");
    }
    if (!strcmp(name, "set")) {
        char *t = xasprintf("set %.100s = %.60s", path ? path : "?", data ? data : "");
        free(dj);
        return t;
    }
    free(dj);
    return xasprintf("%s %.100s%s", name, path ? path : "?", json_is_true(json_object_get(op, "watch")) ? " (watch)" : "");
}
