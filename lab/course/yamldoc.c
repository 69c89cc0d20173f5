/* yamldoc — see yamldoc.h. Two passes: a byte scan that refuses bad encodings before libyaml
 * sees them (so every refusal names a line and column), then libyaml's event parser, whose
 * events are folded into a tree with an explicit stack whose depth we cap ourselves (libyaml
 * 0.2.5 has no nesting limit of its own). */
#include "yamldoc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "util.h"

#define YDOC_MAX_KEYS 1024 /* keys in one map: keeps the duplicate check cheap */

static const struct ydoc_limits default_limits = {
    YDOC_MAX_BYTES, YDOC_MAX_SCALAR, YDOC_MAX_NODES, YDOC_MAX_DEPTH,
};

const char *ydoc_kind_name(enum ydoc_kind k)
{
    switch (k) {
    case YDOC_SCALAR: return "a scalar";
    case YDOC_MAP: return "a map";
    case YDOC_LIST: return "a list";
    }
    return "?";
}

static void node_free(struct ydoc_node *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->n; i++) {
        node_free(n->items[i]);
        if (n->keys)
            node_free(n->keys[i]);
    }
    free(n->items);
    free(n->keys);
    free(n->str);
    free(n);
}

void ydoc_free(struct ydoc **d)
{
    if (!d || !*d)
        return;
    node_free((*d)->root);
    free((*d)->name);
    free(*d);
    *d = NULL;
}

static int fail_at(char *err, size_t errlen, const char *name, int line, int col,
                   const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static int fail_at(char *err, size_t errlen, const char *name, int line, int col,
                   const char *fmt, ...)
{
    if (!err || !errlen)
        return CL_EINVAL;
    int k = snprintf(err, errlen, "%s:%d:%d: ", name, line, col);
    if (k < 0 || (size_t)k >= errlen)
        return CL_EINVAL;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err + k, errlen - (size_t)k, fmt, ap);
    va_end(ap);
    return CL_EINVAL;
}

int ydoc_error(const struct ydoc *d, const struct ydoc_node *at, char *err, size_t errlen,
               const char *fmt, ...)
{
    if (!err || !errlen)
        return CL_EINVAL;
    int k = snprintf(err, errlen, "%s:%d:%d: ", d && d->name ? d->name : "<input>",
                     at ? at->line : 1, at ? at->col : 1);
    if (k < 0 || (size_t)k >= errlen)
        return CL_EINVAL;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err + k, errlen - (size_t)k, fmt, ap);
    va_end(ap);
    return CL_EINVAL;
}

/* Characters no lesson text may hold: C0 controls but tab and line breaks, DEL, C1 controls
 * and the Unicode BiDi overrides/isolates (they can make text display in another order). */
static int forbidden_cp(uint32_t c, bool allow_breaks)
{
    if (c == '\t')
        return 0;
    if (c == '\n' || c == '\r')
        return !allow_breaks;
    if (c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0x9f))
        return 1;
    if ((c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069) || c == 0x200e ||
        c == 0x200f || c == 0x061c)
        return 1;
    return 0;
}

static void describe_cp(uint32_t c, char *buf, size_t n)
{
    if (c == 0)
        snprintf(buf, n, "a NUL byte");
    else if (c >= 0x200e)
        snprintf(buf, n, "the bidirectional control U+%04X", (unsigned)c);
    else
        snprintf(buf, n, "the control character U+%04X", (unsigned)c);
}

/* Pass 1: encoding, NUL, control characters and tabs in indentation. */
static int prescan(const unsigned char *s, size_t len, const char *name, char *err,
                   size_t errlen)
{
    if ((len >= 2 && ((s[0] == 0xfe && s[1] == 0xff) || (s[0] == 0xff && s[1] == 0xfe))) ||
        (len >= 4 && s[0] == 0 && s[1] == 0 && s[2] == 0xfe && s[3] == 0xff))
        return fail_at(err, errlen, name, 1, 1,
                       "the file is UTF-16 or UTF-32 (byte order mark); save it as UTF-8");
    if (len >= 2 && (s[0] == 0 || s[1] == 0) && s[0] != s[1])
        return fail_at(err, errlen, name, 1, 1,
                       "the file looks like UTF-16 without a byte order mark; save it as UTF-8");
    int line = 1, col = 1;
    bool indent = true;
    size_t i = 0;
    if (len >= 3 && s[0] == 0xef && s[1] == 0xbb && s[2] == 0xbf)
        i = 3;
    while (i < len) {
        uint32_t c;
        size_t k = s[i] ? utf8_decode(s + i, len - i, &c) : 1;
        if (!s[i])
            c = 0;
        if (!k)
            return fail_at(err, errlen, name, line, col,
                           "invalid UTF-8 (byte 0x%02x); lesson files must be UTF-8", s[i]);
        if (c == '\n') {
            line++;
            col = 1;
            indent = true;
            i += k;
            continue;
        }
        if (c == '\t' && indent)
            return fail_at(err, errlen, name, line, col,
                           "tab character in indentation; indent with spaces");
        if (forbidden_cp(c, true) || c == 0) {
            char what[64];
            describe_cp(c, what, sizeof what);
            return fail_at(err, errlen, name, line, col, "%s is not allowed here", what);
        }
        if (c != ' ' && c != '\r')
            indent = false;
        col++;
        i += k;
    }
    return 0;
}

struct frame {
    struct ydoc_node *node;
    struct ydoc_node *key; /* map: key waiting for its value */
};

struct builder {
    const char *name;
    const struct ydoc_limits *lim;
    struct ydoc_node *root;
    struct frame stack[YDOC_MAX_DEPTH + 2];
    int depth;
    size_t nodes;
    int docs;
    char *err;
    size_t errlen;
};

static int is_null_text(const char *s, size_t len)
{
    return len == 0 || (len == 1 && s[0] == '~') || (len == 4 && (!memcmp(s, "null", 4) ||
           !memcmp(s, "Null", 4) || !memcmp(s, "NULL", 4)));
}

static void list_push(struct ydoc_node *p, struct ydoc_node *key, struct ydoc_node *v)
{
    if ((p->n & (p->n - 1)) == 0) { /* grow at powers of two */
        size_t cap = p->n ? p->n * 2 : 4;
        if (cap < 4)
            cap = 4;
        p->items = xrealloc(p->items, cap * sizeof *p->items);
        if (p->kind == YDOC_MAP)
            p->keys = xrealloc(p->keys, cap * sizeof *p->keys);
    }
    if (p->kind == YDOC_MAP)
        p->keys[p->n] = key;
    p->items[p->n++] = v;
}

/* Attaches a new node to the current container (or makes it the root). Takes ownership. */
static int attach(struct builder *b, struct ydoc_node *n)
{
    if (!b->depth) {
        if (b->root) {
            node_free(n);
            return fail_at(b->err, b->errlen, b->name, n->line, n->col,
                           "unexpected second root node");
        }
        b->root = n;
        return 0;
    }
    struct frame *f = &b->stack[b->depth - 1];
    if (f->node->kind == YDOC_LIST) {
        list_push(f->node, NULL, n);
        return 0;
    }
    if (!f->key) {
        if (n->kind != YDOC_SCALAR) {
            int line = n->line, col = n->col;
            node_free(n);
            return fail_at(b->err, b->errlen, b->name, line, col,
                           "a map key must be a plain string, not a map or a list");
        }
        if (n->plain && !strcmp(n->str, "<<")) {
            int line = n->line, col = n->col;
            node_free(n);
            return fail_at(b->err, b->errlen, b->name, line, col,
                           "merge keys (<<) are not allowed; write the keys out");
        }
        struct ydoc_node *m = f->node;
        for (size_t i = 0; i < m->n; i++) {
            if (m->keys[i]->len == n->len && !memcmp(m->keys[i]->str, n->str, n->len)) {
                char k[64];
                str_copy(k, n->str, sizeof k);
                int line = n->line, col = n->col, l0 = m->keys[i]->line, c0 = m->keys[i]->col;
                node_free(n);
                return fail_at(b->err, b->errlen, b->name, line, col,
                               "duplicate key \"%s\" (first defined at %d:%d)", k, l0, c0);
            }
        }
        if (m->n >= YDOC_MAX_KEYS) {
            int line = n->line, col = n->col;
            node_free(n);
            return fail_at(b->err, b->errlen, b->name, line, col,
                           "more than %d keys in one map", YDOC_MAX_KEYS);
        }
        f->key = n;
        return 0;
    }
    list_push(f->node, f->key, n);
    f->key = NULL;
    return 0;
}

static struct ydoc_node *new_node(struct builder *b, enum ydoc_kind k, const yaml_mark_t *m)
{
    if (b->nodes >= b->lim->max_nodes) {
        fail_at(b->err, b->errlen, b->name, (int)m->line + 1, (int)m->column + 1,
                "more than %zu nodes in one file", b->lim->max_nodes);
        return NULL;
    }
    b->nodes++;
    struct ydoc_node *n = xcalloc(1, sizeof *n);
    n->kind = k;
    n->line = (int)m->line + 1;
    n->col = (int)m->column + 1;
    return n;
}

/* Anchors, tags: refused wherever they appear. */
static int refuse_props(struct builder *b, const yaml_event_t *ev, const yaml_char_t *anchor,
                        const yaml_char_t *tag)
{
    int line = (int)ev->start_mark.line + 1, col = (int)ev->start_mark.column + 1;
    if (anchor)
        return fail_at(b->err, b->errlen, b->name, line, col,
                       "anchor &%.40s: anchors and aliases are not allowed in lesson files",
                       (const char *)anchor);
    if (tag)
        return fail_at(b->err, b->errlen, b->name, line, col,
                       "tag %.40s: tags are not allowed; write plain values",
                       (const char *)tag);
    return 0;
}

static int on_scalar(struct builder *b, const yaml_event_t *ev)
{
    const char *v = (const char *)ev->data.scalar.value;
    size_t len = ev->data.scalar.length;
    int line = (int)ev->start_mark.line + 1, col = (int)ev->start_mark.column + 1;
    if (refuse_props(b, ev, ev->data.scalar.anchor,
                     ev->data.scalar.plain_implicit || ev->data.scalar.quoted_implicit
                         ? NULL : ev->data.scalar.tag) < 0)
        return CL_EINVAL;
    if (len > b->lim->max_scalar)
        return fail_at(b->err, b->errlen, b->name, line, col,
                       "string of %zu bytes; the limit is %zu", len, b->lim->max_scalar);
    /* Escapes in double-quoted strings can produce what the byte scan never saw. */
    for (size_t i = 0; i < len;) {
        uint32_t c;
        size_t k = v[i] ? utf8_decode((const unsigned char *)v + i, len - i, &c) : 1;
        if (!v[i])
            c = 0;
        if (!k)
            return fail_at(b->err, b->errlen, b->name, line, col, "string is not valid UTF-8");
        if (c == 0 || forbidden_cp(c, true)) {
            char what[64];
            describe_cp(c, what, sizeof what);
            return fail_at(b->err, b->errlen, b->name, line, col,
                           "string contains %s (from an escape)", what);
        }
        i += k;
    }
    struct ydoc_node *n = new_node(b, YDOC_SCALAR, &ev->start_mark);
    if (!n)
        return CL_EINVAL;
    n->str = xstrndup(v, len);
    n->len = len;
    n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    n->null = n->plain && is_null_text(v, len);
    return attach(b, n);
}

static int on_start(struct builder *b, const yaml_event_t *ev, enum ydoc_kind k)
{
    const yaml_char_t *anchor = k == YDOC_MAP ? ev->data.mapping_start.anchor
                                              : ev->data.sequence_start.anchor;
    const yaml_char_t *tag = k == YDOC_MAP ? ev->data.mapping_start.tag
                                           : ev->data.sequence_start.tag;
    int implicit = k == YDOC_MAP ? ev->data.mapping_start.implicit
                                 : ev->data.sequence_start.implicit;
    if (refuse_props(b, ev, anchor, implicit ? NULL : tag) < 0)
        return CL_EINVAL;
    int cap = b->lim->max_depth < YDOC_MAX_DEPTH ? b->lim->max_depth : YDOC_MAX_DEPTH;
    if (b->depth >= cap)
        return fail_at(b->err, b->errlen, b->name, (int)ev->start_mark.line + 1,
                       (int)ev->start_mark.column + 1, "nesting deeper than %d levels", cap);
    struct ydoc_node *n = new_node(b, k, &ev->start_mark);
    if (!n)
        return CL_EINVAL;
    if (attach(b, n) < 0)
        return CL_EINVAL;
    b->stack[b->depth].node = n;
    b->stack[b->depth].key = NULL;
    b->depth++;
    return 0;
}

static int on_event(struct builder *b, const yaml_event_t *ev)
{
    int line = (int)ev->start_mark.line + 1, col = (int)ev->start_mark.column + 1;
    switch (ev->type) {
    case YAML_STREAM_START_EVENT:
    case YAML_STREAM_END_EVENT:
    case YAML_DOCUMENT_END_EVENT:
    case YAML_NO_EVENT:
        return 0;
    case YAML_DOCUMENT_START_EVENT:
        if (++b->docs > 1)
            return fail_at(b->err, b->errlen, b->name, line, col,
                           "a second document; a lesson or quiz file holds exactly one");
        if (ev->data.document_start.version_directive ||
            ev->data.document_start.tag_directives.start !=
                ev->data.document_start.tag_directives.end)
            return fail_at(b->err, b->errlen, b->name, line, col,
                           "directives (%%YAML, %%TAG) are not allowed");
        return 0;
    case YAML_ALIAS_EVENT:
        return fail_at(b->err, b->errlen, b->name, line, col,
                       "alias *%.40s: anchors and aliases are not allowed in lesson files",
                       (const char *)ev->data.alias.anchor);
    case YAML_SCALAR_EVENT:
        return on_scalar(b, ev);
    case YAML_SEQUENCE_START_EVENT:
        return on_start(b, ev, YDOC_LIST);
    case YAML_MAPPING_START_EVENT:
        return on_start(b, ev, YDOC_MAP);
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        if (b->depth > 0)
            b->depth--;
        return 0;
    }
    return 0;
}

int ydoc_parse(const char *buf, size_t len, const char *name, const struct ydoc_limits *lim,
               struct ydoc **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!name)
        name = "<input>";
    if (!lim)
        lim = &default_limits;
    if (len > lim->max_bytes)
        return fail_at(err, errlen, name, 1, 1, "file of %zu bytes; the limit is %zu KiB", len,
                       lim->max_bytes / 1024);
    if (prescan((const unsigned char *)buf, len, name, err, errlen) < 0)
        return CL_EINVAL;

    struct builder b = {0};
    b.name = name;
    b.lim = lim;
    b.err = err;
    b.errlen = errlen;
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p))
        return fail_at(err, errlen, name, 1, 1, "cannot initialise the YAML parser");
    if (len >= 3 && !memcmp(buf, "\xef\xbb\xbf", 3)) { /* a UTF-8 byte order mark */
        buf += 3;
        len -= 3;
    }
    yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
    yaml_parser_set_encoding(&p, YAML_UTF8_ENCODING);
    int rc = 0;
    for (;;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&p, &ev)) {
            const yaml_mark_t *m = p.problem ? &p.problem_mark : &p.mark;
            if (p.context)
                rc = fail_at(err, errlen, name, (int)m->line + 1, (int)m->column + 1,
                             "%s (%s at %d:%d)", p.problem ? p.problem : "malformed YAML",
                             p.context, (int)p.context_mark.line + 1,
                             (int)p.context_mark.column + 1);
            else
                rc = fail_at(err, errlen, name, (int)m->line + 1, (int)m->column + 1, "%s",
                             p.problem ? p.problem : "malformed YAML");
            break;
        }
        int done = ev.type == YAML_STREAM_END_EVENT;
        rc = on_event(&b, &ev);
        yaml_event_delete(&ev);
        if (rc < 0 || done)
            break;
    }
    yaml_parser_delete(&p);
    if (rc == 0 && !b.root)
        rc = fail_at(err, errlen, name, 1, 1, "empty file: expected a map of keys");
    if (rc < 0) {
        for (int i = 0; i < b.depth; i++) /* keys still waiting for their value */
            node_free(b.stack[i].key);
        node_free(b.root);
        return CL_EINVAL;
    }
    struct ydoc *d = xcalloc(1, sizeof *d);
    d->name = xstrdup(name);
    d->root = b.root;
    *out = d;
    return 0;
}

int ydoc_load_file(const char *path, const struct ydoc_limits *lim, struct ydoc **out,
                   char *err, size_t errlen)
{
    *out = NULL;
    if (!lim)
        lim = &default_limits;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return fail_at(err, errlen, path, 1, 1, "cannot open: %s", strerror(errno)),
               errno == ENOENT ? CL_ENOENT : CL_EIO;
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return fail_at(err, errlen, path, 1, 1, "not a regular file"), CL_EIO;
    }
    if ((uint64_t)st.st_size > lim->max_bytes) {
        close(fd);
        return fail_at(err, errlen, path, 1, 1, "file of %lld bytes; the limit is %zu KiB",
                       (long long)st.st_size, lim->max_bytes / 1024);
    }
    size_t cap = (size_t)st.st_size + 1, len = 0;
    char *buf = xmalloc(cap + 1);
    for (;;) {
        ssize_t r = read(fd, buf + len, cap - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            close(fd);
            free(buf);
            return fail_at(err, errlen, path, 1, 1, "read failed: %s", strerror(e)), CL_EIO;
        }
        if (r == 0)
            break;
        len += (size_t)r;
        if (len == cap) { /* the file grew while we read it */
            if (len > lim->max_bytes)
                break;
            cap *= 2;
            buf = xrealloc(buf, cap + 1);
        }
    }
    close(fd);
    int rc = ydoc_parse(buf, len, path, lim, out, err, errlen);
    free(buf);
    return rc;
}

const struct ydoc_node *ydoc_get(const struct ydoc_node *map, const char *key)
{
    if (!map || map->kind != YDOC_MAP)
        return NULL;
    for (size_t i = 0; i < map->n; i++)
        if (!strcmp(map->keys[i]->str, key))
            return map->items[i];
    return NULL;
}

const char *ydoc_suggest(const char *word, const char *words, char *buf, size_t n)
{
    int best = 3;
    const char *found = NULL;
    size_t wl = strlen(word);
    char tmp[128];
    for (const char *p = words; p && *p;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len < sizeof tmp) {
            memcpy(tmp, p, len);
            tmp[len] = 0;
            int d = str_distance(word, tmp);
            if (wl >= 3 && len > wl && !strncmp(tmp, word, wl))
                d = d < 1 ? d : 1;
            if (d < best) {
                best = d;
                str_copy(buf, tmp, n);
                found = buf;
            }
        }
        p = bar ? bar + 1 : NULL;
    }
    return found;
}

int ydoc_check_keys(const struct ydoc *d, const struct ydoc_node *map, const char *what,
                    const char *const *allowed, const char *const *required, char *err,
                    size_t errlen)
{
    if (ydoc_want(d, map, YDOC_MAP, what, err, errlen) < 0)
        return CL_EINVAL;
    struct sb words = {0};
    for (const char *const *a = allowed; *a; a++) {
        if (a != allowed)
            sb_addc(&words, '|');
        sb_add(&words, *a);
    }
    for (size_t i = 0; i < map->n; i++) {
        const char *k = map->keys[i]->str;
        const char *const *a = allowed;
        while (*a && strcmp(*a, k))
            a++;
        if (*a)
            continue;
        char sug[64], shown[80];
        struct sb esc = {0};
        sb_add_escaped(&esc, k, strlen(k) > 40 ? 40 : strlen(k));
        str_copy(shown, esc.s ? esc.s : "", sizeof shown);
        sb_free(&esc);
        int rc;
        if (ydoc_suggest(k, words.s, sug, sizeof sug))
            rc = ydoc_error(d, map->keys[i], err, errlen,
                            "%s: unknown key \"%s\"; did you mean \"%s\"?", what, shown, sug);
        else
            rc = ydoc_error(d, map->keys[i], err, errlen,
                            "%s: unknown key \"%s\"; expected one of: %s", what, shown,
                            words.s);
        sb_free(&words);
        return rc;
    }
    sb_free(&words);
    for (const char *const *r = required; r && *r; r++)
        if (!ydoc_get(map, *r))
            return ydoc_error(d, map, err, errlen, "%s: missing required key \"%s\"", what, *r);
    return 0;
}

int ydoc_want(const struct ydoc *d, const struct ydoc_node *n, enum ydoc_kind k,
              const char *what, char *err, size_t errlen)
{
    if (!n)
        return ydoc_error(d, NULL, err, errlen, "%s: missing", what);
    if (n->kind != k)
        return ydoc_error(d, n, err, errlen, "%s: expected %s, found %s", what,
                          ydoc_kind_name(k), n->kind == YDOC_SCALAR && n->null
                              ? "null" : ydoc_kind_name(n->kind));
    return 0;
}

int ydoc_str(const struct ydoc *d, const struct ydoc_node *n, const char *what, size_t maxlen,
             const char **out, char *err, size_t errlen)
{
    if (ydoc_want(d, n, YDOC_SCALAR, what, err, errlen) < 0)
        return CL_EINVAL;
    if (n->null)
        return ydoc_error(d, n, err, errlen, "%s: expected text, found nothing (null)", what);
    if (maxlen && n->len > maxlen)
        return ydoc_error(d, n, err, errlen, "%s: text of %zu bytes; the limit is %zu", what,
                          n->len, maxlen);
    *out = n->str;
    return 0;
}

static int is_decimal(const char *s, bool frac)
{
    if (*s == '-')
        s++;
    if (!*s)
        return 0;
    int digits = 0, dot = 0;
    for (; *s; s++) {
        if (*s >= '0' && *s <= '9')
            digits++;
        else if (*s == '.' && frac && !dot && digits)
            dot = 1;
        else
            return 0;
    }
    return digits > 0 && s[-1] != '.';
}

int ydoc_int(const struct ydoc *d, const struct ydoc_node *n, const char *what, long min,
             long max, long *out, char *err, size_t errlen)
{
    if (ydoc_want(d, n, YDOC_SCALAR, what, err, errlen) < 0)
        return CL_EINVAL;
    int64_t v;
    if (!n->plain || !is_decimal(n->str, false) || parse_i64(n->str, &v) < 0)
        return ydoc_error(d, n, err, errlen, "%s: expected a whole number, found %s\"%.40s\"",
                          what, n->plain ? "" : "the quoted string ", n->str);
    if (v < min || v > max)
        return ydoc_error(d, n, err, errlen, "%s: %lld is out of range (%ld..%ld)", what,
                          (long long)v, min, max);
    *out = (long)v;
    return 0;
}

int ydoc_num(const struct ydoc *d, const struct ydoc_node *n, const char *what, double min,
             double max, double *out, char *err, size_t errlen)
{
    if (ydoc_want(d, n, YDOC_SCALAR, what, err, errlen) < 0)
        return CL_EINVAL;
    double v;
    if (!n->plain || !is_decimal(n->str, true) || parse_double(n->str, &v) < 0)
        return ydoc_error(d, n, err, errlen, "%s: expected a number, found \"%.40s\"", what,
                          n->str);
    if (v < min || v > max)
        return ydoc_error(d, n, err, errlen, "%s: %g is out of range (%g..%g)", what, v, min,
                          max);
    *out = v;
    return 0;
}

int ydoc_bool(const struct ydoc *d, const struct ydoc_node *n, const char *what, bool *out,
              char *err, size_t errlen)
{
    if (ydoc_want(d, n, YDOC_SCALAR, what, err, errlen) < 0)
        return CL_EINVAL;
    if (n->plain && !strcmp(n->str, "true")) {
        *out = true;
        return 0;
    }
    if (n->plain && !strcmp(n->str, "false")) {
        *out = false;
        return 0;
    }
    return ydoc_error(d, n, err, errlen,
                      "%s: expected true or false, found \"%.40s\" (yes/no/on/off are not "
                      "booleans here)", what, n->str);
}

int ydoc_enum(const struct ydoc *d, const struct ydoc_node *n, const char *what,
              const char *words, int *idx, char *err, size_t errlen)
{
    const char *s = NULL;
    if (ydoc_str(d, n, what, 256, &s, err, errlen) < 0)
        return CL_EINVAL;
    int i = 0;
    size_t sl = strlen(s);
    for (const char *p = words; p && *p; i++) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == sl && !strncmp(p, s, len)) {
            *idx = i;
            return 0;
        }
        p = bar ? bar + 1 : NULL;
    }
    char sug[64];
    struct sb esc = {0};
    sb_add_escaped(&esc, s, sl > 40 ? 40 : sl);
    int rc;
    if (ydoc_suggest(s, words, sug, sizeof sug))
        rc = ydoc_error(d, n, err, errlen, "%s: unknown value \"%s\"; did you mean \"%s\"?",
                        what, esc.s, sug);
    else
        rc = ydoc_error(d, n, err, errlen, "%s: unknown value \"%s\"; expected one of %s", what,
                        esc.s, words);
    sb_free(&esc);
    return rc;
}

int ydoc_duration_ms(const struct ydoc *d, const struct ydoc_node *n, const char *what,
                     long min_ms, long max_ms, long *out, char *err, size_t errlen)
{
    if (ydoc_want(d, n, YDOC_SCALAR, what, err, errlen) < 0)
        return CL_EINVAL;
    uint64_t us;
    if (n->null || n->str[0] == '-' || n->str[0] == '+' ||
        parse_duration_us(n->str, &us) < 0)
        return ydoc_error(d, n, err, errlen,
                          "%s: expected a duration such as 500ms, 10s or 1m, found \"%.40s\"",
                          what, n->str);
    if (us / 1000 < (uint64_t)min_ms || us / 1000 > (uint64_t)max_ms)
        return ydoc_error(d, n, err, errlen, "%s: %s is out of range (%ldms..%lds)", what,
                          n->str, min_ms, max_ms / 1000);
    *out = (long)(us / 1000);
    return 0;
}

int ydoc_ident(const struct ydoc *d, const struct ydoc_node *n, const char *what,
               size_t maxlen, const char **out, char *err, size_t errlen)
{
    const char *s = NULL;
    if (ydoc_str(d, n, what, 0, &s, err, errlen) < 0)
        return CL_EINVAL;
    size_t len = strlen(s);
    bool ok = len >= 1 && len <= maxlen && s[0] != '-';
    for (size_t i = 0; ok && i < len; i++)
        ok = (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-';
    if (!ok)
        return ydoc_error(d, n, err, errlen,
                          "%s: \"%.40s\" is not a valid id (lower-case letters, digits and '-', "
                          "at most %zu)", what, s, maxlen);
    *out = s;
    return 0;
}
