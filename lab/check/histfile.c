/* histfile — see histfile.h. The JSONL reader uses jansson line by line; the EDN reader
 * streams forms from edn.c. Both feed history_add(), which pairs invocations with their
 * completions per process and is also what the lab calls while it records. */
#include "histfile.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edn.h"
#include "jtext.h"

/* ---- string pool: interned, length-prefixed strings in an open-addressed table ---------- */

struct strpool {
    char **slots;           /* each: a malloc'd block holding size_t len then the bytes+NUL */
    size_t cap, n;
};

static uint64_t hash_bytes(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

static size_t slot_len(const char *slot)
{
    size_t n;
    memcpy(&n, slot, sizeof n);
    return n;
}

static void pool_grow(struct strpool *p)
{
    size_t ncap = p->cap ? p->cap * 2 : 256;
    char **ns = xcalloc(ncap, sizeof *ns);
    for (size_t i = 0; i < p->cap; i++) {
        char *s = p->slots[i];
        if (!s)
            continue;
        size_t j = hash_bytes(s + sizeof(size_t), slot_len(s)) & (ncap - 1);
        while (ns[j])
            j = (j + 1) & (ncap - 1);
        ns[j] = s;
    }
    free(p->slots);
    p->slots = ns;
    p->cap = ncap;
}

static const char *pool_intern(struct strpool *p, const char *s, size_t len)
{
    if (!s)
        return NULL;
    if ((p->n + 1) * 2 > p->cap)
        pool_grow(p);
    size_t j = hash_bytes(s, len) & (p->cap - 1);
    while (p->slots[j]) {
        char *t = p->slots[j];
        if (slot_len(t) == len && !memcmp(t + sizeof(size_t), s, len))
            return t + sizeof(size_t);
        j = (j + 1) & (p->cap - 1);
    }
    char *t = xmalloc(sizeof(size_t) + len + 1);
    memcpy(t, &len, sizeof len);
    memcpy(t + sizeof(size_t), s, len);
    t[sizeof(size_t) + len] = 0;
    p->slots[j] = t;
    p->n++;
    return t + sizeof(size_t);
}

static void pool_free(struct strpool *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->cap; i++)
        free(p->slots[i]);
    free(p->slots);
    free(p);
}

/* ---- history ---------------------------------------------------------------------------- */

struct history *history_new(void)
{
    struct history *h = xcalloc(1, sizeof *h);
    h->pool = xcalloc(1, sizeof *h->pool);
    h->has_time = true;
    return h;
}

void history_free(struct history **hp)
{
    if (!hp || !*hp)
        return;
    struct history *h = *hp;
    pool_free(h->pool);
    free(h->ops);
    free(h->pending);
    free(h);
    *hp = NULL;
}

const char *history_intern(struct history *h, const char *s, size_t len)
{
    return pool_intern(h->pool, s, len);
}

static const char *intern0(struct history *h, const char *s)
{
    return s ? pool_intern(h->pool, s, strlen(s)) : NULL;
}

const char *hist_f_name(enum hist_f f)
{
    switch (f) {
    case HF_READ: return "read";
    case HF_WRITE: return "write";
    case HF_CAS: return "cas";
    case HF_APPEND: return "append";
    case HF_OTHER: return "other";
    }
    return "other";
}

static enum hist_f classify_f(const char *f)
{
    if (!strcmp(f, "read") || !strcmp(f, "get"))
        return HF_READ;
    if (!strcmp(f, "write") || !strcmp(f, "put"))
        return HF_WRITE;
    if (!strcmp(f, "cas"))
        return HF_CAS;
    if (!strcmp(f, "append"))
        return HF_APPEND;
    return HF_OTHER;
}

static int find_pending(const struct history *h, int64_t process)
{
    for (int i = 0; i < h->n_pending; i++)
        if (h->ops[h->pending[i]].process == process)
            return i;
    return -1;
}

int history_add(struct history *h, int64_t process, enum hist_event type, const char *f,
                const char *key, const char *value, const char *value2, int64_t time_ns,
                const char *node, const char *error, char *err, size_t errlen)
{
    int pi = find_pending(h, process);
    int pos = h->n_events;
    if (type == HE_INVOKE) {
        if (pi >= 0) {
            snprintf(err, errlen, "process %" PRId64 " invokes %s while its %s is still open "
                     "(a process has at most one operation outstanding)", process, f,
                     h->ops[h->pending[pi]].fname);
            return CL_EINVAL;
        }
        if (h->n >= HIST_MAX_OPS) {
            snprintf(err, errlen, "more than %d operations", HIST_MAX_OPS);
            return CL_EINVAL;
        }
        if (h->n == h->cap) {
            h->cap = h->cap ? h->cap * 2 : 64;
            h->ops = xrealloc(h->ops, (size_t)h->cap * sizeof *h->ops);
        }
        struct hist_op *op = &h->ops[h->n];
        memset(op, 0, sizeof *op);
        op->process = process;
        op->fname = intern0(h, f);
        op->f = classify_f(f);
        op->key = intern0(h, key);
        if (key)
            h->has_keys = true;
        op->value = op->f == HF_READ ? NULL : intern0(h, value);
        op->value2 = intern0(h, value2);
        op->outcome = HO_INFO;
        op->t_inv = time_ns;
        op->t_ret = INT64_MAX;
        op->inv_pos = pos;
        op->ret_pos = -1;
        op->node = intern0(h, node);
        if (h->n_pending == h->cap_pending) {
            h->cap_pending = h->cap_pending ? h->cap_pending * 2 : 16;
            h->pending = xrealloc(h->pending, (size_t)h->cap_pending * sizeof *h->pending);
        }
        h->pending[h->n_pending++] = h->n;
        h->n++;
        h->n_events++;
        return 0;
    }
    if (pi < 0) {
        snprintf(err, errlen, "a completion for process %" PRId64 " that has no open invocation",
                 process);
        return CL_EINVAL;
    }
    struct hist_op *op = &h->ops[h->pending[pi]];
    if (f && strcmp(f, op->fname)) {
        snprintf(err, errlen, "completion :f %s does not match the invocation's %s (process %"
                 PRId64 ")", f, op->fname, process);
        return CL_EINVAL;
    }
    h->pending[pi] = h->pending[--h->n_pending];
    op->completed = true;
    op->ret_pos = pos;
    op->t_ret = time_ns;
    op->outcome = type == HE_OK ? HO_OK : type == HE_FAIL ? HO_FAIL : HO_INFO;
    if (op->f == HF_READ && type == HE_OK)
        op->value = intern0(h, value);
    if (!op->node)
        op->node = intern0(h, node);
    op->error = intern0(h, error);
    if (op->t_ret < op->t_inv && h->has_time) {
        snprintf(err, errlen, "completion time %" PRId64 " is before its invocation's %" PRId64,
                 time_ns, op->t_inv);
        return CL_EINVAL;
    }
    h->n_events++;
    return 0;
}

/* ---- shared: value normalisation --------------------------------------------------------- */

static int type_from(const char *s, enum hist_event *t)
{
    if (!strcmp(s, "invoke")) *t = HE_INVOKE;
    else if (!strcmp(s, "ok")) *t = HE_OK;
    else if (!strcmp(s, "fail")) *t = HE_FAIL;
    else if (!strcmp(s, "info")) *t = HE_INFO;
    else return CL_EINVAL;
    return 0;
}

/* ---- EDN ---------------------------------------------------------------------------------- */

/* A scalar EDN value as conlab's string form; NULL for nil. Returns 0 or CL_EINVAL. */
static int edn_scalar(const struct edn *v, struct sb *out, bool *is_nil)
{
    *is_nil = false;
    switch (v->type) {
    case EDN_NIL: *is_nil = true; return 0;
    case EDN_STRING: sb_addn(out, v->s, v->len); return 0;
    case EDN_INT: case EDN_FLOAT: case EDN_SYMBOL: case EDN_CHAR: sb_add(out, v->s); return 0;
    case EDN_BOOL: sb_add(out, v->b ? "true" : "false"); return 0;
    case EDN_KEYWORD: sb_addc(out, ':'); sb_add(out, v->s); return 0;
    default: return CL_EINVAL;
    }
}

/* A scalar EDN value of an operation (:value) as its value text (jtext.h): a string that would
 * read as another value is marked, so the string "42" is not the number 42. */
static int edn_value(const struct edn *v, struct sb *out, bool *is_nil)
{
    if (v->type != EDN_STRING)
        return edn_scalar(v, out, is_nil);
    *is_nil = false;
    json_t *j = json_stringn(v->s, v->len);
    char *t = jtext_encode(j);
    json_decref(j);
    if (!t)
        return CL_EINVAL;
    sb_add(out, t);
    free(t);
    return 0;
}

/* A vector, list or set of scalars (and of such collections) as JSON, for Maelstrom's g-set and
 * broadcast histories (#{1 5}, [1 5]); NULL for anything else (maps, tags, too deep). */
static json_t *edn_collection_json(const struct edn *v, int depth)
{
    if (depth > 8)
        return NULL;
    switch (v->type) {
    case EDN_NIL: return json_null();
    case EDN_BOOL: return json_boolean(v->b);
    case EDN_INT: return v->int_fits ? json_integer((json_int_t)v->i) : json_stringn(v->s, strlen(v->s));
    case EDN_FLOAT: return json_real(v->f);
    case EDN_STRING: return json_stringn(v->s, v->len);
    case EDN_KEYWORD: case EDN_SYMBOL: case EDN_CHAR: return json_string(v->s);
    case EDN_VECTOR: case EDN_LIST: case EDN_SET: {
        json_t *a = json_array();
        for (size_t i = 0; i < v->n; i++) {
            json_t *x = edn_collection_json(v->items[i], depth + 1);
            if (!x) {
                json_decref(a);
                return NULL;
            }
            json_array_append_new(a, x);
        }
        return a;
    }
    default: return NULL;
    }
}

static int edn_event(struct history *h, const struct edn *m, char *err, size_t errlen)
{
    struct sb v1 = {0}, v2 = {0}, k = {0};
    char why[320];
    int rc = CL_EINVAL;
    if (m->type != EDN_MAP) {
        snprintf(err, errlen, "line %d, column %d: expected an operation map "
                 "{:process .., :type .., :f ..}, found %s", m->line, m->col,
                 edn_type_name(m->type));
        return CL_EINVAL;
    }
    const struct edn *proc = edn_get(m, "process"), *type = edn_get(m, "type"),
                     *f = edn_get(m, "f"), *val = edn_get(m, "value"), *key = edn_get(m, "key"),
                     *tm = edn_get(m, "time"), *er = edn_get(m, "error");
    const struct edn *at = m;
#define BAD(where, ...) do { at = (where); snprintf(why, sizeof why, __VA_ARGS__); goto out; } while (0)
    if (!proc)
        BAD(m, "the operation has no :process");
    if (proc->type != EDN_INT) {
        rc = 0;          /* :nemesis and other non-client processes are not operations */
        goto out;
    }
    if (!proc->int_fits)
        BAD(proc, ":process %s is out of range", proc->s);
    if (!type || type->type != EDN_KEYWORD)
        BAD(type ? type : m, "expected :type :invoke, :ok, :fail or :info");
    enum hist_event t;
    if (type_from(type->s, &t))
        BAD(type, "expected :type :invoke, :ok, :fail or :info, found :%s", type->s);
    if (!f || (f->type != EDN_KEYWORD && f->type != EDN_STRING))
        BAD(f ? f : m, "expected :f as a keyword (:read, :write, :cas, ...)");
    bool nil1 = true, nil2 = true;
    if (classify_f(f->s) == HF_CAS && val && val->type != EDN_NIL) {
        if ((val->type != EDN_VECTOR && val->type != EDN_LIST) || val->n != 2)
            BAD(val, "expected a cas :value as [from to], found %s", edn_type_name(val->type));
        if (edn_value(val->items[0], &v1, &nil1) || edn_value(val->items[1], &v2, &nil2))
            BAD(val, "expected cas values to be numbers, strings or nil");
    } else if (val) {
        if (edn_value(val, &v1, &nil1)) {
            json_t *j = edn_collection_json(val, 0);
            char *jt = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) : NULL;
            json_decref(j);
            if (!jt)
                BAD(val, "expected :value to be a number, a string, nil or a collection of them, found %s",
                    edn_type_name(val->type));
            sb_add(&v1, jt);
            free(jt);
            h->has_collections = true;
        }
    }
    bool knil = true;
    if (key && edn_scalar(key, &k, &knil))
        BAD(key, "expected :key to be a string, number or keyword, found %s",
            edn_type_name(key->type));
    int64_t time_ns = h->n_events;
    if (tm) {
        if (tm->type != EDN_INT || !tm->int_fits || tm->i < 0)
            BAD(tm, "expected :time as a non-negative integer (nanoseconds)");
        time_ns = tm->i;
    } else {
        h->has_time = false;
    }
    struct sb e = {0};
    if (er) {
        bool enil;
        if (edn_scalar(er, &e, &enil)) {
            sb_free(&e);
            edn_write(&e, er);
        }
    }
    if (!h->has_time)
        time_ns = h->n_events;
    char aerr[256];
    if (v1.len == 0 && !nil1)
        sb_add(&v1, "");
    if (v2.len == 0 && !nil2)
        sb_add(&v2, "");
    if (k.len == 0 && !knil)
        sb_add(&k, "");
    int arc = history_add(h, proc->i, t, f->s, knil ? NULL : k.s, nil1 ? NULL : v1.s,
                          nil2 ? NULL : v2.s, time_ns, NULL, e.s, aerr, sizeof aerr);
    sb_free(&e);
    if (arc)
        BAD(m, "%s", aerr);
    rc = 0;
#undef BAD
out:
    if (rc)
        snprintf(err, errlen, "line %d, column %d: %s", at->line, at->col, why);
    sb_free(&v1);
    sb_free(&v2);
    sb_free(&k);
    return rc;
}

static int finish(struct history *h, struct history **out, char *err, size_t errlen)
{
    if (!h->has_time) {
        /* some event had no time: order and draw by event numbers throughout */
        for (int i = 0; i < h->n; i++) {
            h->ops[i].t_inv = h->ops[i].inv_pos;
            h->ops[i].t_ret = h->ops[i].completed ? h->ops[i].ret_pos : INT64_MAX;
        }
    }
    /* no client operation (empty, or only the nemesis's entries): linearizable, as Knossos
     * judges it; the checkers say there was nothing to judge */
    (void)err;
    (void)errlen;
    *out = h;
    return 0;
}

int history_parse_edn(const char *buf, size_t len, struct history **out, char *err,
                      size_t errlen)
{
    *out = NULL;
    struct history *h = history_new();
    h->format = HIST_EDN;
    struct edn_reader *r = edn_open(buf, len);
    int rc = 0;
    bool seq = edn_open_seq(r);
    for (;;) {
        struct edn *v = NULL;
        rc = edn_next(r, &v, err, errlen);
        if (rc <= 0)
            break;
        rc = edn_event(h, v, err, errlen);
        edn_free(v);
        if (rc)
            break;
    }
    if (rc == 0 && seq)
        rc = edn_expect_end(r, err, errlen);
    edn_close(&r);
    if (rc) {
        history_free(&h);
        return CL_EINVAL;
    }
    return finish(h, out, err, errlen);
}

/* ---- JSONL ------------------------------------------------------------------------------- */

/* Column of "name" in the line, for messages about a field (1 when not found). */
static int field_col(const char *line, size_t len, const char *name)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\"", name);
    size_t pl = strlen(pat);
    for (size_t i = 0; i + pl <= len; i++)
        if (!memcmp(line + i, pat, pl))
            return (int)i + 1;
    return 1;
}

/* A JSON value of an operation as its value text (jtext.h): null is nil; a string that would
 * read as another value is marked, so "42" is not 42; an array or object is its compact,
 * key-sorted text, so that equal values are one interned string. */
static int json_scalar(const json_t *v, struct sb *out, bool *is_nil)
{
    *is_nil = false;
    if (!v || json_is_null(v)) {
        *is_nil = true;
        return 0;
    }
    char *t = jtext_encode(v);
    if (!t)
        return CL_EINVAL;
    sb_add(out, t);
    free(t);
    return 0;
}

static int jsonl_line(struct history *h, const char *line, size_t len, int lineno, char *err,
                      size_t errlen)
{
    json_error_t je;
    json_t *o = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
    if (!o) {
        snprintf(err, errlen, "line %d, column %d: %s", lineno, je.column > 0 ? je.column : 1,
                 je.text);
        return CL_EINVAL;
    }
    struct sb v1 = {0}, v2 = {0}, ek = {0};
    int rc = CL_EINVAL;
    const char *field = NULL;
    char why[300];
#define BAD(fld, ...) do { field = (fld); snprintf(why, sizeof why, __VA_ARGS__); goto out; } while (0)
    if (!json_is_object(o))
        BAD(NULL, "expected a JSON object per line, found %s",
            json_is_array(o) ? "an array" : "a scalar");
    json_t *proc = json_object_get(o, "process"), *type = json_object_get(o, "type"),
           *f = json_object_get(o, "f"), *key = json_object_get(o, "key"),
           *val = json_object_get(o, "value"), *tm = json_object_get(o, "time"),
           *node = json_object_get(o, "node"), *er = json_object_get(o, "error");
    if (!proc)
        BAD(NULL, "missing field \"process\"");
    if (!json_is_integer(proc) || json_integer_value(proc) < 0)
        BAD("process", "\"process\" must be a non-negative integer");
    if (!type || !json_is_string(type))
        BAD(type ? "type" : NULL, "expected \"type\": \"invoke\", \"ok\", \"fail\" or \"info\"");
    enum hist_event t;
    if (type_from(json_string_value(type), &t))
        BAD("type", "expected \"type\": \"invoke\", \"ok\", \"fail\" or \"info\", found \"%s\"",
            json_string_value(type));
    if (!f || !json_is_string(f) || !json_string_value(f)[0] ||
        strlen(json_string_value(f)) != json_string_length(f))
        BAD(f ? "f" : NULL, "expected \"f\": \"read\", \"write\" or \"cas\"");
    const char *fs = json_string_value(f);
    char kbuf[32];
    if (json_is_integer(key)) { /* a whole-number key is its decimal text, as the modes take it */
        snprintf(kbuf, sizeof kbuf, "%" JSON_INTEGER_FORMAT, json_integer_value(key));
        key = json_string(kbuf);
        json_object_set_new(o, "key", key); /* o owns it */
    }
    if (key && !json_is_null(key) && !json_is_string(key))
        BAD("key", "\"key\" must be a string or a whole number");
    if (key && json_is_string(key) && strlen(json_string_value(key)) != json_string_length(key))
        BAD("key", "\"key\" must not contain NUL");
    bool nil1 = true, nil2 = true;
    if (val && classify_f(fs) == HF_CAS && !json_is_null(val)) {
        if (!json_is_array(val) || json_array_size(val) != 2)
            BAD("value", "expected a cas \"value\" as [from, to]");
        if (json_scalar(json_array_get(val, 0), &v1, &nil1) ||
            json_scalar(json_array_get(val, 1), &v2, &nil2))
            BAD("value", "cas values must be JSON values");
    } else if (val) {
        if (json_scalar(val, &v1, &nil1))
            BAD("value", "\"value\" must be a JSON value");
    }
    if (!nil1 && memchr(v1.s, 0, v1.len))
        BAD("value", "\"value\" must not contain NUL");
    if (!nil2 && memchr(v2.s, 0, v2.len))
        BAD("value", "\"value\" must not contain NUL");
    int64_t time_ns = h->n_events;
    if (tm) {
        if (!json_is_integer(tm) || json_integer_value(tm) < 0)
            BAD("time", "\"time\" must be a non-negative integer (nanoseconds)");
        time_ns = json_integer_value(tm);
    } else {
        h->has_time = false;
    }
    if (!h->has_time)
        time_ns = h->n_events;
    if (node && !json_is_string(node))
        BAD("node", "\"node\" must be a string");
    if (er) {
        if (json_is_string(er)) {
            sb_add(&ek, json_string_value(er));
        } else if (json_is_object(er)) {
            json_t *code = json_object_get(er, "code"), *text = json_object_get(er, "text");
            sb_printf(&ek, "%" JSON_INTEGER_FORMAT " %s",
                      json_is_integer(code) ? json_integer_value(code) : 0,
                      json_is_string(text) ? json_string_value(text) : "");
        }
    }
    char aerr[256];
    if (history_add(h, json_integer_value(proc), t, fs,
                    key && json_is_string(key) ? json_string_value(key) : NULL,
                    nil1 ? NULL : v1.s, nil2 ? NULL : v2.s, time_ns,
                    node ? json_string_value(node) : NULL, ek.s, aerr, sizeof aerr))
        BAD(NULL, "%s", aerr);
    rc = 0;
#undef BAD
out:
    if (rc)
        snprintf(err, errlen, "line %d, column %d: %s", lineno,
                 field ? field_col(line, len, field) : 1, why);
    json_decref(o);
    sb_free(&v1);
    sb_free(&v2);
    sb_free(&ek);
    return rc;
}

int history_parse_jsonl(const char *buf, size_t len, struct history **out, char *err,
                        size_t errlen)
{
    *out = NULL;
    struct history *h = history_new();
    h->format = HIST_JSONL;
    /* a report written by `conlab check --json`: re-check its sub-history */
    json_t *rep = json_loadb(buf, len, 0, NULL);
    json_t *sub = rep && json_is_object(rep) ? json_object_get(rep, "sub_history") : NULL;
    if (sub && json_is_array(sub)) {
        size_t k;
        json_t *ev;
        json_array_foreach(sub, k, ev) {
            char *line = json_dumps(ev, JSON_COMPACT | JSON_ENCODE_ANY);
            char e2[400];
            int rc = jsonl_line(h, line, strlen(line), 1, e2, sizeof e2);
            free(line);
            if (rc) {
                snprintf(err, errlen, "report sub_history entry %zu: %s", k + 1, e2);
                json_decref(rep);
                history_free(&h);
                return CL_EINVAL;
            }
        }
        json_decref(rep);
        return finish(h, out, err, errlen);
    }
    json_decref(rep);
    size_t i = 0;
    int lineno = 0;
    while (i < len) {
        size_t j = i;
        while (j < len && buf[j] != '\n')
            j++;
        lineno++;
        size_t e = j;
        if (e > i && buf[e - 1] == '\r')
            e--;
        bool blank = true;
        for (size_t k = i; k < e; k++)
            if (!isspace((unsigned char)buf[k])) {
                blank = false;
                break;
            }
        if (!blank && jsonl_line(h, buf + i, e - i, lineno, err, errlen)) {
            history_free(&h);
            return CL_EINVAL;
        }
        i = j + 1;
    }
    return finish(h, out, err, errlen);
}

/* Jepsen's own log of a test (jepsen.log): the lines "INFO  jepsen.util - 3\t:invoke\t:cas\t[1 4]"
 * are the history; every other line (setup, nemesis, stack traces) is skipped. A value is nil,
 * an integer, [from to] or :timed-out (then the operation is indeterminate, whatever its
 * type). This is the format of Porcupine's test_data/jepsen. */
static bool is_jepsen_log(const char *buf, size_t len)
{
    /* its first line: a log level, spaces, a jepsen namespace ("INFO  jepsen.core - …") */
    static const char *const levels[] = {"INFO", "WARN", "ERROR", "DEBUG", "TRACE"};
    for (size_t k = 0; k < CL_ARRAY_LEN(levels); k++) {
        size_t n = strlen(levels[k]), i = n;
        if (len <= n || memcmp(buf, levels[k], n) || (buf[n] != ' ' && buf[n] != '\t'))
            continue;
        while (i < len && (buf[i] == ' ' || buf[i] == '\t'))
            i++;
        return len - i >= 7 && !memcmp(buf + i, "jepsen.", 7);
    }
    return false;
}

/* The next whitespace-separated word of [*p, end): sets w and wl; false when none. */
static bool next_word(const char **p, const char *end, const char **w, size_t *wl)
{
    const char *q = *p;
    while (q < end && (*q == ' ' || *q == '\t'))
        q++;
    if (q >= end)
        return false;
    const char *s = q;
    if (*q == '[') {
        while (q < end && *q != ']')
            q++;
        if (q < end)
            q++;
    } else {
        while (q < end && *q != ' ' && *q != '\t')
            q++;
    }
    *w = s;
    *wl = (size_t)(q - s);
    *p = q;
    return true;
}

static bool all_digits(const char *s, size_t n)
{
    size_t i = n && s[0] == '-' ? 1 : 0;
    if (i == n)
        return false;
    for (; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    return true;
}

int history_parse_jepsen_log(const char *buf, size_t len, struct history **out, char *err, size_t errlen)
{
    *out = NULL;
    struct history *h = history_new();
    h->format = HIST_EDN;
    h->has_time = false;
    const char *end = buf + len;
    int line = 0;
    for (const char *p = buf; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        line++;
        const char *mark = memmem(p, (size_t)(le - p), "jepsen.util - ", 14);
        const char *q = mark ? mark + 14 : NULL;
        const char *w[4];
        size_t wl[4];
        int nw = 0;
        while (q && nw < 4 && next_word(&q, le, &w[nw], &wl[nw]))
            nw++;
        /* "P :type :f value", P a number: a client's operation; anything else is skipped */
        if (q && nw >= 3 && all_digits(w[0], wl[0]) && w[1][0] == ':' && w[2][0] == ':') {
            char type[16], f[64], v1[64] = "", v2[64] = "";
            bool nil = true, timed_out = false;
            snprintf(type, sizeof type, "%.*s", (int)wl[1] - 1, w[1] + 1);
            snprintf(f, sizeof f, "%.*s", (int)wl[2] - 1, w[2] + 1);
            if (nw >= 4) {
                const char *v = w[3];
                size_t vl = wl[3];
                if (vl == 10 && !memcmp(v, ":timed-out", 10)) {
                    timed_out = true;
                } else if (vl >= 2 && v[0] == '[' && v[vl - 1] == ']') {
                    const char *r = v + 1, *re = v + vl - 1, *a, *b;
                    size_t al, bl;
                    if (next_word(&r, re, &a, &al) && next_word(&r, re, &b, &bl) && al < sizeof v1 && bl < sizeof v2) {
                        memcpy(v1, a, al);
                        memcpy(v2, b, bl);
                        nil = false;
                    }
                } else if (all_digits(v, vl) && vl < sizeof v1) {
                    memcpy(v1, v, vl);
                    nil = false;
                }
            }
            enum hist_event t;
            if (!strcmp(type, "invoke"))
                t = HE_INVOKE;
            else if (timed_out || !strcmp(type, "info"))
                t = HE_INFO;
            else if (!strcmp(type, "ok"))
                t = HE_OK;
            else if (!strcmp(type, "fail"))
                t = HE_FAIL;
            else {
                snprintf(err, errlen, "line %d: expected :invoke, :ok, :fail or :info, found :%s", line, type);
                history_free(&h);
                return CL_EINVAL;
            }
            int64_t proc = strtoll(w[0], NULL, 10);
            bool cas = !strcmp(f, "cas");
            char aerr[256];
            if (history_add(h, proc, t, f, NULL, nil ? NULL : v1, nil || !cas ? NULL : v2, h->n_events, NULL,
                            timed_out ? "timed-out" : NULL, aerr, sizeof aerr)) {
                snprintf(err, errlen, "line %d: %s", line, aerr);
                history_free(&h);
                return CL_EINVAL;
            }
        }
        p = nl ? nl + 1 : end;
    }
    return finish(h, out, err, errlen);
}

int history_parse(const char *buf, size_t len, struct history **out, char *err, size_t errlen)
{
    size_t i = 0;
    if (len >= 3 && !memcmp(buf, "\xEF\xBB\xBF", 3))
        i = 3;   /* a UTF-8 byte-order mark */
    while (i < len && isspace((unsigned char)buf[i]))
        i++;
    if (i == len) { /* an empty history: no operations, linearizable */
        *out = history_new();
        return 0;
    }
    if (is_jepsen_log(buf + i, len - i))
        return history_parse_jepsen_log(buf, len, out, err, errlen);
    if (buf[i] == '{') {
        size_t j = i + 1;
        while (j < len && isspace((unsigned char)buf[j]))
            j++;
        if (j < len && (buf[j] == '"' || buf[j] == '}'))
            return history_parse_jsonl(buf, len, out, err, errlen);
    }
    return history_parse_edn(buf, len, out, err, errlen);
}

int history_load(const char *path, struct history **out, char *err, size_t errlen)
{
    *out = NULL;
    FILE *fp = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    if (!fp) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return CL_EIO;
    }
    struct sb b = {0};
    char chunk[65536];
    size_t n;
    int rc = 0;
    while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0) {
        if (b.len + n > HIST_MAX_BYTES) {
            snprintf(err, errlen, "%s: larger than %u MiB", path, HIST_MAX_BYTES >> 20);
            rc = CL_EINVAL;
            break;
        }
        sb_addn(&b, chunk, n);
    }
    if (!rc && ferror(fp)) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        rc = CL_EIO;
    }
    if (fp != stdin)
        fclose(fp);
    if (!rc) {
        char e2[512];
        rc = history_parse(b.s ? b.s : "", b.len, out, e2, sizeof e2);
        if (rc)
            snprintf(err, errlen, "%s: %s", path, e2);
    }
    sb_free(&b);
    return rc;
}

/* ---- writers ------------------------------------------------------------------------------ */

struct ev { int pos, op; bool ret; };

static int ev_cmp(const void *a, const void *b)
{
    const struct ev *x = a, *y = b;
    return (x->pos > y->pos) - (x->pos < y->pos);
}

static struct ev *events_of(const struct history *h, int *n)
{
    struct ev *ev = xmalloc((size_t)(2 * h->n + 1) * sizeof *ev);
    int k = 0;
    for (int i = 0; i < h->n; i++) {
        ev[k++] = (struct ev){h->ops[i].inv_pos, i, false};
        if (h->ops[i].completed)
            ev[k++] = (struct ev){h->ops[i].ret_pos, i, true};
    }
    qsort(ev, (size_t)k, sizeof *ev, ev_cmp);
    *n = k;
    return ev;
}

static const char *event_type(const struct hist_op *op, bool ret)
{
    if (!ret)
        return "invoke";
    return op->outcome == HO_OK ? "ok" : op->outcome == HO_FAIL ? "fail" : "info";
}

static bool is_decimal(const char *s)
{
    const char *p = s + (*s == '-');
    if (!*p || (*p == '0' && p[1]) || strlen(p) > 18)
        return false;
    for (; *p; p++)
        if (!isdigit((unsigned char)*p))
            return false;
    return !(s[0] == '-' && s[1] == '0');
}

/* A JSON value as EDN: numbers, true/false, nil, strings, vectors and maps (string keys). */
static void edn_json(struct sb *out, const json_t *j)
{
    if (json_is_string(j)) {
        edn_write_string(out, json_string_value(j), json_string_length(j));
    } else if (json_is_array(j)) {
        size_t i;
        json_t *x;
        sb_addc(out, '[');
        json_array_foreach(j, i, x) {
            if (i)
                sb_addc(out, ' ');
            edn_json(out, x);
        }
        sb_addc(out, ']');
    } else if (json_is_object(j)) {
        const char *k;
        json_t *x;
        int first = 1;
        sb_addc(out, '{');
        json_object_foreach((json_t *)j, k, x) {
            if (!first)
                sb_add(out, ", ");
            first = 0;
            edn_write_string(out, k, strlen(k));
            sb_addc(out, ' ');
            edn_json(out, x);
        }
        sb_addc(out, '}');
    } else if (json_is_null(j)) {
        sb_add(out, "nil");
    } else {
        char *t = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
        sb_add(out, t ? t : "nil");
        free(t);
    }
}

/* A history value (its value text) as EDN: the number 42 as 42, the string "42" as "42". A
 * key is plain text: a string, or a number where it is one's digits (Jepsen's keys). */
static void edn_val(struct sb *out, const char *v)
{
    if (!v) {
        sb_add(out, "nil");
        return;
    }
    json_t *j = jtext_decode(v);
    edn_json(out, j);
    json_decref(j);
}

static void edn_key(struct sb *out, const char *v)
{
    if (!v)
        sb_add(out, "nil");
    else if (is_decimal(v))
        sb_add(out, v);
    else
        edn_write_string(out, v, strlen(v));
}

/* A workload read's value (a set's, a broadcast's: JSON array text) as an EDN vector of its
 * elements; 0 when v is not such an array (written as edn_val does). */
static int edn_collection(struct sb *out, const char *v)
{
    json_t *a = v && v[0] == '[' ? json_loads(v, JSON_DECODE_ANY, NULL) : NULL;
    if (!json_is_array(a)) {
        json_decref(a);
        return 0;
    }
    sb_addc(out, '[');
    size_t i;
    json_t *x;
    json_array_foreach(a, i, x) {
        if (i)
            sb_addc(out, ' ');
        if (json_is_string(x)) {
            edn_write_string(out, json_string_value(x), json_string_length(x));
        } else {
            char *t = json_dumps(x, JSON_COMPACT | JSON_ENCODE_ANY);
            if (t && (json_is_integer(x) || json_is_real(x) || json_is_boolean(x)))
                sb_add(out, t);
            else if (json_is_null(x))
                sb_add(out, "nil");
            else if (t)
                edn_write_string(out, t, strlen(t));
            free(t);
        }
    }
    sb_addc(out, ']');
    json_decref(a);
    return 1;
}

/* Does the history hold workload updates (add, remove, broadcast), whose reads are sets? */
static bool has_workload(const struct history *h)
{
    for (int i = 0; i < h->n; i++)
        if (!strcmp(h->ops[i].fname, "add") || !strcmp(h->ops[i].fname, "remove") ||
            !strcmp(h->ops[i].fname, "broadcast"))
            return true;
    return false;
}

void history_write_edn(const struct history *h, struct sb *out)
{
    history_write_edn_independent(h, 0, out);
}

void history_write_edn_independent(const struct history *h, int independent, struct sb *out)
{
    int n;
    struct ev *ev = events_of(h, &n);
    bool workload = has_workload(h);
    sb_add(out, "");
    for (int i = 0; i < n; i++) {
        const struct hist_op *op = &h->ops[ev[i].op];
        bool ret = ev[i].ret;
        sb_printf(out, "{:process %" PRId64 ", :type :%s, :f ", op->process,
                  event_type(op, ret));
        bool kw = isalpha((unsigned char)op->fname[0]);
        for (const char *p = op->fname; *p && kw; p++)
            kw = isalnum((unsigned char)*p) || strchr("_.*+!?<>=-", *p);
        if (kw)
            sb_printf(out, ":%s", op->fname);
        else
            edn_write_string(out, op->fname, strlen(op->fname));
        bool tuple = independent && op->key; /* jepsen.independent: :value [k v] */
        if (op->key && !tuple) {
            sb_add(out, ", :key ");
            edn_key(out, op->key);
        }
        sb_add(out, ", :value ");
        if (tuple) {
            sb_addc(out, '[');
            edn_key(out, op->key);
            sb_addc(out, ' ');
        }
        if (op->f == HF_CAS) {
            sb_addc(out, '[');
            edn_val(out, op->value);
            sb_addc(out, ' ');
            edn_val(out, op->value2);
            sb_addc(out, ']');
        } else if (op->f == HF_READ) {
            const char *v = ret && op->outcome == HO_OK ? op->value : NULL;
            if (!workload || !edn_collection(out, v))
                edn_val(out, v);
        } else {
            edn_val(out, op->value);
        }
        if (tuple)
            sb_addc(out, ']');
        if (h->has_time)
            sb_printf(out, ", :time %" PRId64, ret ? op->t_ret : op->t_inv);
        if (ret && op->error) {
            sb_add(out, ", :error ");
            edn_write_string(out, op->error, strlen(op->error));
        }
        sb_add(out, "}\n");
    }
    free(ev);
}

static json_t *json_val(const char *v)
{
    return v ? jtext_decode(v) : json_null();
}

void history_write_jsonl(const struct history *h, struct sb *out)
{
    int n;
    struct ev *ev = events_of(h, &n);
    sb_add(out, "");
    for (int i = 0; i < n; i++) {
        const struct hist_op *op = &h->ops[ev[i].op];
        bool ret = ev[i].ret;
        json_t *o = json_object();
        json_object_set_new(o, "index", json_integer(i));
        json_object_set_new(o, "process", json_integer(op->process));
        json_object_set_new(o, "type", json_string(event_type(op, ret)));
        json_object_set_new(o, "f", json_string(op->fname));
        if (op->key)
            json_object_set_new(o, "key", json_string(op->key));
        if (op->f == HF_CAS)
            json_object_set_new(o, "value", json_pack("[oo]", json_val(op->value),
                                                      json_val(op->value2)));
        else if (op->f == HF_READ)
            json_object_set_new(o, "value", json_val(ret && op->outcome == HO_OK ? op->value
                                                                                 : NULL));
        else
            json_object_set_new(o, "value", json_val(op->value));
        if (h->has_time)
            json_object_set_new(o, "time", json_integer(ret ? op->t_ret : op->t_inv));
        if (op->node)
            json_object_set_new(o, "node", json_string(op->node));
        if (ret && op->error)
            json_object_set_new(o, "error", json_string(op->error));
        char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        sb_add(out, s);
        sb_addc(out, '\n');
        free(s);
        json_decref(o);
    }
    free(ev);
}

struct history *history_subset(const struct history *h, const int *keep, int n)
{
    struct history *c = history_new();
    c->has_time = h->has_time;
    c->format = h->format;
    c->n_events = h->n_events;
    c->ops = xcalloc((size_t)(n ? n : 1), sizeof *c->ops);
    c->cap = n ? n : 1;
    for (int i = 0; i < n; i++) {
        struct hist_op op = h->ops[keep[i]];
        op.fname = intern0(c, op.fname);
        op.key = intern0(c, op.key);
        op.value = intern0(c, op.value);
        op.value2 = intern0(c, op.value2);
        op.node = intern0(c, op.node);
        op.error = intern0(c, op.error);
        if (op.key)
            c->has_keys = true;
        c->ops[c->n++] = op;
    }
    return c;
}

/* ---- words ------------------------------------------------------------------------------- */

/* A value as a user reads it: nil; the number 42 as 42, an object as its JSON; a string bare
 * when it is a simple word, else quoted ("42" is the string, "a b" too). */
static void add_val(struct sb *out, const char *v)
{
    if (!v)
        sb_add(out, "nil");
    else if (!jtext_is_string(v) || v[0] == JTEXT_MARK)
        sb_add_escaped(out, jtext_show(v), strlen(jtext_show(v)));
    else {
        bool simple = *v != 0 && strcmp(v, "nil");
        for (const char *p = v; *p && simple; p++)
            simple = isalnum((unsigned char)*p) || strchr("_.:+-/", *p);
        if (!simple)
            sb_addc(out, '"');
        sb_add_escaped(out, v, strlen(v));
        if (!simple)
            sb_addc(out, '"');
    }
}

void history_describe_op(const struct history *h, const struct hist_op *op, struct sb *out)
{
    (void)h;
    const char *k = op->key;
    switch (op->f) {
    case HF_READ:
        sb_add(out, "read ");
        if (k) {
            sb_add_escaped(out, k, strlen(k));
            sb_addc(out, '=');
        }
        if (op->outcome == HO_OK)
            add_val(out, op->value);
        else
            sb_add(out, "?");
        break;
    case HF_WRITE:
        sb_add(out, "write ");
        if (k) {
            sb_add_escaped(out, k, strlen(k));
            sb_addc(out, '=');
        }
        add_val(out, op->value);
        break;
    case HF_CAS:
        sb_add(out, "cas ");
        if (k) {
            sb_add_escaped(out, k, strlen(k));
            sb_addc(out, ' ');
        }
        add_val(out, op->value);
        sb_add(out, "->");
        add_val(out, op->value2);
        break;
    case HF_APPEND:
        sb_add(out, "append ");
        if (k) {
            sb_add_escaped(out, k, strlen(k));
            sb_add(out, "+=");
        }
        add_val(out, op->value);
        break;
    case HF_OTHER:
        sb_add_escaped(out, op->fname, strlen(op->fname));
        if (k) {
            sb_addc(out, ' ');
            sb_add_escaped(out, k, strlen(k));
        }
        break;
    }
}

void history_describe_time(const struct history *h, int64_t t, struct sb *out)
{
    if (t == INT64_MAX) {
        sb_add(out, "never");
        return;
    }
    if (!h->has_time) {
        sb_printf(out, "#%" PRId64, t);
        return;
    }
    if (t < 10000)
        sb_printf(out, "%" PRId64 "ns", t);
    else if (t < 10000000)
        sb_printf(out, "%" PRId64 "us", t / 1000);
    else if (t < 100000000000ll)
        sb_printf(out, "%" PRId64 "ms", t / 1000000);
    else
        sb_printf(out, "%.2fs", (double)t / 1e9);
}
