/* txnhist — see txnhist.h. JSONL lines go through jansson; EDN forms through edn.c. Both build
 * one generic value tree (a "val": nil, text, or a list of vals) per micro-operation, and one
 * function turns it into a struct mop, so the two formats refuse the same things the same way. */
#include "txnhist.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edn.h"

/* ---- building ---------------------------------------------------------------------------------- */

static void mops_free(struct mop *m, int n)
{
    if (!m)
        return;
    for (int i = 0; i < n; i++) {
        free(m[i].key);
        free(m[i].value);
        for (int j = 0; j < m[i].nlist; j++)
            free(m[i].list[j]);
        free(m[i].list);
    }
    free(m);
}

void txnhist_free(struct txnhist **hp)
{
    struct txnhist *h = hp ? *hp : NULL;
    if (!h)
        return;
    for (int i = 0; i < h->n; i++) {
        mops_free(h->ops[i].mops, h->ops[i].nmops);
        free(h->ops[i].name);
    }
    free(h->ops);
    free(h);
    *hp = NULL;
}

/* One event of either format, decoded. */
struct tev {
    int type;               /* 0 invoke, 1 ok, 2 fail, 3 info */
    int64_t process;
    bool has_time;
    int64_t time;
    struct mop *mops;       /* owned until handed over */
    int nmops;
    char *name;
    int line;
};

/* Open invocations: process -> op index (a small linear map; processes are few). */
struct parser {
    struct txnhist *h;
    int64_t *proc;
    int *idx;
    int nopen, capopen;
    int64_t events;
};

static int find_open(struct parser *p, int64_t process)
{
    for (int i = 0; i < p->nopen; i++)
        if (p->proc[i] == process)
            return i;
    return -1;
}

static int add_event(struct parser *p, struct tev *e, char *err, size_t errlen)
{
    int64_t t = e->has_time ? e->time : p->events;
    p->events++;
    int o = find_open(p, e->process);
    if (e->type == 0) {
        if (o >= 0) {
            snprintf(err, errlen, "line %d: process %lld invokes again before its operation (line %d) completed", e->line,
                     (long long)e->process, p->h->ops[p->idx[o]].line);
            return CL_EINVAL;
        }
        if (p->h->n == p->h->cap) {
            p->h->cap = p->h->cap ? 2 * p->h->cap : 64;
            p->h->ops = xrealloc(p->h->ops, (size_t)p->h->cap * sizeof *p->h->ops);
        }
        struct txn_op *op = &p->h->ops[p->h->n];
        memset(op, 0, sizeof *op);
        op->process = e->process;
        op->outcome = TX_INFO;
        op->mops = e->mops;
        op->nmops = e->nmops;
        op->t_inv = t;
        op->t_ret = -1;
        op->line = e->line;
        op->name = e->name;
        e->mops = NULL;
        e->name = NULL;
        /* reads of an operation that never completes ok are unknown */
        for (int i = 0; i < op->nmops; i++)
            if (op->mops[i].f == MOP_R)
                op->mops[i].unknown = true;
        if (p->nopen == p->capopen) {
            p->capopen = p->capopen ? 2 * p->capopen : 16;
            p->proc = xrealloc(p->proc, (size_t)p->capopen * sizeof *p->proc);
            p->idx = xrealloc(p->idx, (size_t)p->capopen * sizeof *p->idx);
        }
        p->proc[p->nopen] = e->process;
        p->idx[p->nopen++] = p->h->n++;
        return 0;
    }
    if (o < 0) {
        snprintf(err, errlen, "line %d: a completion of process %lld with no invocation open", e->line,
                 (long long)e->process);
        return CL_EINVAL;
    }
    struct txn_op *op = &p->h->ops[p->idx[o]];
    p->proc[o] = p->proc[p->nopen - 1];
    p->idx[o] = p->idx[p->nopen - 1];
    p->nopen--;
    op->t_ret = t;
    op->outcome = e->type == 1 ? TX_OK : e->type == 2 ? TX_FAIL : TX_INFO;
    if (e->type == 1 && e->mops) {
        /* the completion holds what was read */
        if (e->nmops != op->nmops) {
            snprintf(err, errlen, "line %d: the completion has %d micro-operations, its invocation (line %d) %d", e->line,
                     e->nmops, op->line, op->nmops);
            return CL_EINVAL;
        }
        mops_free(op->mops, op->nmops);
        op->mops = e->mops;
        e->mops = NULL;
    } else if (e->type == 1) {
        for (int i = 0; i < op->nmops; i++)
            op->mops[i].unknown = false;
    }
    if (!op->name && e->name) {
        op->name = e->name;
        e->name = NULL;
    }
    return 0;
}

/* A generic value: nil, text, or a list. */
struct val {
    int kind;               /* 0 nil, 1 text, 2 list, 3 other (an EDN map, bool, ...) */
    char *s;                /* kind 1: the text; kind 2 from JSON: the list's canonical JSON */
    int str;                /* kind 1: it was a string (not a number, a keyword, a JSON object …) */
    struct val *items;
    int n;
};

/* The text a micro-operation's value is compared by (txnhist.h): a string as itself unless
 * its text reads as JSON ("42", "true", "[1]"), then as its JSON literal ("\"42\""); any
 * other value as its compact JSON. So 42 and "42" stay two values. Steals x->s (NULL when x
 * has no text: nil, an EDN list). */
static char *val_text(struct val *x)
{
    char *t = x->s;
    x->s = NULL;
    if (!t || x->kind != 1 || !x->str)
        return t;
    json_t *j = json_loads(t, JSON_DECODE_ANY, NULL);
    if (!j)
        return t;
    json_decref(j);
    json_t *js = json_string(t);
    char *q = js ? json_dumps(js, JSON_ENCODE_ANY) : NULL;
    json_decref(js);
    if (!q)
        return t;
    free(t);
    return q;
}

static void val_free(struct val *v)
{
    free(v->s);
    for (int i = 0; i < v->n; i++)
        val_free(&v->items[i]);
    free(v->items);
    memset(v, 0, sizeof *v);
}

/* Turns [f k v] into a mop. 0, or CL_EINVAL with what in err. */
static int val_mop(struct val *v, struct mop *m, int line, char *err, size_t errlen)
{
    memset(m, 0, sizeof *m);
    if (v->kind != 2 || v->n != 3 || v->items[0].kind != 1 || v->items[1].kind != 1) {
        snprintf(err, errlen, "line %d: a micro-operation is [f key value] with f r, w, append or add", line);
        return CL_EINVAL;
    }
    const char *f = v->items[0].s;
    if (!strcmp(f, "r"))
        m->f = MOP_R;
    else if (!strcmp(f, "w"))
        m->f = MOP_W;
    else if (!strcmp(f, "append"))
        m->f = MOP_APPEND;
    else if (!strcmp(f, "add"))
        m->f = MOP_ADD;
    else {
        snprintf(err, errlen, "line %d: unknown micro-operation '%.40s' (r, w, append or add)", line, f);
        return CL_EINVAL;
    }
    struct val *x = &v->items[2];
    if (m->f != MOP_R && !(x->kind == 1 || (x->kind == 2 && x->s && m->f != MOP_ADD))) {
        snprintf(err, errlen, "line %d: %s needs a value (a number or a string; any JSON but null in JSONL)", line, f);
        return CL_EINVAL;
    }
    if (m->f != MOP_R && x->kind == 2) { /* a w or append of a JSON array: one value, its text */
        m->value = val_text(x);
        m->key = v->items[1].s;
        v->items[1].s = NULL;
        return 0;
    }
    if (x->kind == 3) {
        snprintf(err, errlen, "line %d: a value read is nil, a number, a string or a list", line);
        return CL_EINVAL;
    }
    if (x->kind == 2) {
        if (x->n > TXNHIST_MAX_LIST) {
            snprintf(err, errlen, "line %d: a list of more than %d elements", line, TXNHIST_MAX_LIST);
            return CL_EINVAL;
        }
        for (int i = 0; i < x->n; i++)
            if (x->items[i].kind != 1 && !(x->items[i].kind == 2 && x->items[i].s)) {
                snprintf(err, errlen, "line %d: a list read holds numbers or strings only (any JSON but null in JSONL)",
                         line);
                return CL_EINVAL;
            }
        m->is_list = true;
        m->list = xcalloc((size_t)(x->n ? x->n : 1), sizeof *m->list);
        for (int i = 0; i < x->n; i++)
            m->list[i] = val_text(&x->items[i]);
        m->nlist = x->n;
    } else if (x->kind == 1) {
        m->value = val_text(x);
    }
    m->key = v->items[1].s;
    v->items[1].s = NULL;
    return 0;
}

static int val_mops(struct val *v, struct tev *e, char *err, size_t errlen)
{
    if (v->kind == 0)
        return 0;
    if (v->kind != 2) {
        snprintf(err, errlen, "line %d: a transaction's value is a list of micro-operations", e->line);
        return CL_EINVAL;
    }
    if (v->n > TXNHIST_MAX_MOPS) {
        snprintf(err, errlen, "line %d: more than %d micro-operations in one transaction", e->line, TXNHIST_MAX_MOPS);
        return CL_EINVAL;
    }
    e->mops = xcalloc((size_t)(v->n ? v->n : 1), sizeof *e->mops);
    for (int i = 0; i < v->n; i++) {
        if (val_mop(&v->items[i], &e->mops[i], e->line, err, errlen) < 0) {
            mops_free(e->mops, i);
            e->mops = NULL;
            return CL_EINVAL;
        }
    }
    e->nmops = v->n;
    return 0;
}

static int type_of(const char *t)
{
    return !t ? -1 : !strcmp(t, "invoke") ? 0 : !strcmp(t, "ok") ? 1 : !strcmp(t, "fail") ? 2 : !strcmp(t, "info") ? 3 : -1;
}

/* ---- JSONL ------------------------------------------------------------------------------------- */

static void json_val(const json_t *j, struct val *v, int depth)
{
    memset(v, 0, sizeof *v);
    char b[32];
    if (json_is_null(j)) {
        v->kind = 0;
    } else if (json_is_string(j)) {
        v->kind = 1;
        v->str = 1;
        v->s = xstrndup(json_string_value(j), json_string_length(j));
    } else if (json_is_integer(j)) {
        v->kind = 1;
        snprintf(b, sizeof b, "%lld", (long long)json_integer_value(j));
        v->s = xstrdup(b);
    } else if (json_is_array(j) && depth < 3) {
        v->kind = 2;
        v->n = (int)json_array_size(j);
        v->items = xcalloc((size_t)(v->n ? v->n : 1), sizeof *v->items);
        for (int i = 0; i < v->n; i++)
            json_val(json_array_get(j, (size_t)i), &v->items[i], depth + 1);
        v->s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    } else {
        /* true, 1.5, {"a":[1]}, a deeper array: one value, its compact key-sorted JSON */
        v->kind = 1;
        v->s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
        if (!v->s)
            v->kind = 3;
    }
}

static int jsonl_line(struct parser *p, const char *s, size_t len, int line, char *err, size_t errlen)
{
    json_error_t je;
    json_t *o = json_loadb(s, len, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(o)) {
        snprintf(err, errlen, "line %d: not a JSON object (%s)", line, o ? "another value" : je.text);
        json_decref(o);
        return CL_EINVAL;
    }
    struct tev e = {0};
    e.line = line;
    e.type = type_of(json_string_value(json_object_get(o, "type")));
    const json_t *proc = json_object_get(o, "process");
    const json_t *t = json_object_get(o, "time");
    int rc = CL_EINVAL;
    if (e.type < 0) {
        snprintf(err, errlen, "line %d: \"type\" is invoke, ok, fail or info", line);
    } else if (!json_is_integer(proc)) {
        snprintf(err, errlen, "line %d: \"process\" is a whole number", line);
    } else {
        e.process = json_integer_value(proc);
        if (json_is_integer(t)) {
            e.has_time = true;
            e.time = json_integer_value(t);
        }
        const char *name = json_string_value(json_object_get(o, "id"));
        if (name)
            e.name = xstrndup(name, strlen(name) < 40 ? strlen(name) : 40);
        struct val v;
        json_val(json_object_get(o, "value"), &v, 0);
        rc = val_mops(&v, &e, err, errlen);
        val_free(&v);
        if (rc == 0)
            rc = add_event(p, &e, err, errlen);
    }
    mops_free(e.mops, e.nmops);
    free(e.name);
    json_decref(o);
    return rc;
}

/* ---- EDN --------------------------------------------------------------------------------------- */

static void edn_val(const struct edn *x, struct val *v)
{
    memset(v, 0, sizeof *v);
    switch (x->type) {
    case EDN_NIL:
        v->kind = 0;
        break;
    case EDN_INT:
    case EDN_STRING:
    case EDN_KEYWORD:
    case EDN_SYMBOL:
        v->kind = 1;
        v->str = x->type == EDN_STRING;
        v->s = xstrndup(x->s ? x->s : "", x->s ? strlen(x->s) : 0);
        break;
    case EDN_VECTOR:
    case EDN_LIST:
        v->kind = 2;
        v->n = (int)x->n;
        v->items = xcalloc(x->n ? x->n : 1, sizeof *v->items);
        for (size_t i = 0; i < x->n; i++)
            edn_val(x->items[i], &v->items[i]);
        break;
    default:
        v->kind = 3;
    }
}

static const char *edn_word(const struct edn *x)
{
    return x && (x->type == EDN_KEYWORD || x->type == EDN_STRING || x->type == EDN_SYMBOL) ? x->s : NULL;
}

static int edn_form(struct parser *p, const struct edn *m, char *err, size_t errlen)
{
    if (m->type != EDN_MAP) {
        snprintf(err, errlen, "line %d: an operation is a map, not %s", m->line, edn_type_name(m->type));
        return CL_EINVAL;
    }
    const struct edn *proc = edn_get(m, "process");
    if (proc && proc->type != EDN_INT)
        return 0; /* the nemesis */
    struct tev e = {0};
    e.line = m->line;
    e.type = type_of(edn_word(edn_get(m, "type")));
    if (e.type < 0) {
        snprintf(err, errlen, "line %d: :type is :invoke, :ok, :fail or :info", m->line);
        return CL_EINVAL;
    }
    if (!proc || !proc->int_fits) {
        snprintf(err, errlen, "line %d: :process is a whole number", m->line);
        return CL_EINVAL;
    }
    e.process = proc->i;
    const struct edn *t = edn_get(m, "time");
    if (t && t->type == EDN_INT && t->int_fits) {
        e.has_time = true;
        e.time = t->i;
    }
    struct val v;
    const struct edn *value = edn_get(m, "value");
    if (value)
        edn_val(value, &v);
    else
        memset(&v, 0, sizeof v);
    int rc = val_mops(&v, &e, err, errlen);
    val_free(&v);
    if (rc == 0)
        rc = add_event(p, &e, err, errlen);
    mops_free(e.mops, e.nmops);
    free(e.name);
    return rc;
}

/* ---- entry points ------------------------------------------------------------------------------ */

int txnhist_parse(const char *buf, size_t len, struct txnhist **out, char *err, size_t errlen)
{
    *out = NULL;
    struct parser p = {0};
    p.h = xcalloc(1, sizeof *p.h);
    size_t i = 0;
    while (i < len && (buf[i] == ' ' || buf[i] == '\n' || buf[i] == '\t' || buf[i] == '\r'))
        i++;
    int rc = 0;
    if (i + 1 < len && buf[i] == '{' && buf[i + 1] == '"') {
        int line = 1;
        for (size_t at = 0; at < len && rc == 0;) {
            const char *nl = memchr(buf + at, '\n', len - at);
            size_t end = nl ? (size_t)(nl - buf) : len;
            size_t s = at;
            while (s < end && (buf[s] == ' ' || buf[s] == '\t' || buf[s] == '\r'))
                s++;
            if (s < end)
                rc = jsonl_line(&p, buf + s, end - s, line, err, errlen);
            at = end + 1;
            line++;
        }
    } else {
        struct edn_reader *r = edn_open(buf, len);
        bool seq = edn_open_seq(r);
        for (;;) {
            struct edn *v = NULL;
            rc = edn_next(r, &v, err, errlen);
            if (rc <= 0)
                break;
            rc = edn_form(&p, v, err, errlen);
            edn_free(v);
            if (rc)
                break;
        }
        if (rc == 0 && seq)
            rc = edn_expect_end(r, err, errlen);
        edn_close(&r);
    }
    free(p.proc);
    free(p.idx);
    if (rc) {
        if (!strstr(err, "line "))
            snprintf(err, errlen, "line ?: unreadable");
        txnhist_free(&p.h);
        return CL_EINVAL;
    }
    *out = p.h;
    return 0;
}

int txnhist_load(const char *path, struct txnhist **out, char *err, size_t errlen)
{
    *out = NULL;
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    if (!f) {
        snprintf(err, errlen, "%s: cannot open it", path);
        return CL_EIO;
    }
    struct sb b = {0};
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        sb_addn(&b, chunk, n);
        if (b.len > (512u << 20))
            break;
    }
    if (f != stdin)
        fclose(f);
    if (b.len > (512u << 20)) {
        sb_free(&b);
        snprintf(err, errlen, "%s: larger than 512 MiB", path);
        return CL_EINVAL;
    }
    char e2[400];
    int rc = txnhist_parse(b.s ? b.s : "", b.len, out, e2, sizeof e2);
    if (rc)
        snprintf(err, errlen, "%s: %s", path, e2);
    sb_free(&b);
    return rc;
}

static void add_val(struct sb *out, const char *s)
{
    if (!s)
        sb_add(out, "nil");
    else
        sb_add_escaped(out, s, strlen(s));
}

void txnhist_describe(const struct txn_op *op, struct sb *out)
{
    static const char *const names[] = {"r", "w", "append", "add"};
    for (int i = 0; i < op->nmops; i++) {
        const struct mop *m = &op->mops[i];
        sb_printf(out, "%s[%s ", i ? " " : "", names[m->f]);
        add_val(out, m->key);
        sb_addc(out, ' ');
        if (m->f == MOP_R && m->unknown) {
            sb_add(out, "?");
        } else if (m->is_list) {
            sb_addc(out, '[');
            for (int j = 0; j < m->nlist; j++) {
                if (j)
                    sb_addc(out, ' ');
                if (j == 3 && m->nlist > 6) {
                    sb_printf(out, "... %d more ...", m->nlist - 5);
                    j = m->nlist - 2;
                    continue;
                }
                add_val(out, m->list[j]);
            }
            sb_addc(out, ']');
        } else {
            add_val(out, m->value);
        }
        sb_addc(out, ']');
    }
}

void txnhist_name(const struct txnhist *h, int i, struct sb *out)
{
    if (h->ops[i].name)
        sb_add_escaped(out, h->ops[i].name, strlen(h->ops[i].name));
    else
        sb_printf(out, "op %d", i + 1);
}
