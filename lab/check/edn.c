/* edn — see edn.h. A hand-written recursive-descent reader over a borrowed buffer; the depth
 * counter bounds recursion, and every error is formatted with the position it was found at. */
#include "edn.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct edn_reader {
    const char *p, *end;
    int line, col;
    int seq_close;          /* the closing bracket of an open sequence, or 0 */
    char *err;
    size_t errlen;
};

struct edn_reader *edn_open(const char *buf, size_t len)
{
    struct edn_reader *r = xcalloc(1, sizeof *r);
    r->p = buf;
    r->end = buf + len;
    r->line = 1;
    r->col = 1;
    return r;
}

void edn_close(struct edn_reader **r)
{
    if (r && *r) {
        free(*r);
        *r = NULL;
    }
}

void edn_position(const struct edn_reader *r, int *line, int *col)
{
    *line = r->line;
    *col = r->col;
}

static int fail_at(struct edn_reader *r, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail_at(struct edn_reader *r, int line, int col, const char *fmt, ...)
{
    if (r->err && r->errlen) {
        int n = snprintf(r->err, r->errlen, "line %d, column %d: ", line, col);
        if (n >= 0 && (size_t)n < r->errlen) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(r->err + n, r->errlen - (size_t)n, fmt, ap);
            va_end(ap);
        }
    }
    return CL_EINVAL;
}

static void advance(struct edn_reader *r)
{
    if (*r->p == '\n') {
        r->line++;
        r->col = 1;
    } else if (((unsigned char)*r->p & 0xC0) != 0x80) {
        r->col++;           /* columns count characters, not UTF-8 continuation bytes */
    }
    r->p++;
}

/* Describes the character at p for "expected X, found Y". */
static const char *found(const struct edn_reader *r, char buf[16])
{
    if (r->p >= r->end)
        return "end of input";
    unsigned char c = (unsigned char)*r->p;
    if (c >= 0x21 && c < 0x7f)
        snprintf(buf, 16, "'%c'", c);
    else if (c == ' ')
        snprintf(buf, 16, "a space");
    else if (c == '\n')
        snprintf(buf, 16, "end of line");
    else
        snprintf(buf, 16, "byte 0x%02x", c);
    return buf;
}

static void skip_ws(struct edn_reader *r)
{
    while (r->p < r->end) {
        char c = *r->p;
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',' || c == '\f') {
            advance(r);
        } else if (c == ';') {
            while (r->p < r->end && *r->p != '\n')
                advance(r);
        } else {
            break;
        }
    }
}

static bool is_delim(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',' || c == '\f' || c == '(' ||
           c == ')' || c == '[' || c == ']' || c == '{' || c == '}' || c == '"' || c == ';' ||
           c == '\\';
}

static bool is_sym_char(char c)
{
    return isalnum((unsigned char)c) || (c != 0 && strchr(".*+!-_?$%&=<>/:#'", c) != NULL) ||
           ((unsigned char)c >= 0x80);
}

static struct edn *new_value(enum edn_type t, int line, int col)
{
    struct edn *v = xcalloc(1, sizeof *v);
    v->type = t;
    v->line = line;
    v->col = col;
    return v;
}

void edn_free(struct edn *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->n; i++)
        edn_free(v->items[i]);
    free(v->items);
    free(v->s);
    free(v);
}

static int read_form(struct edn_reader *r, struct edn **out, int depth);

/* A token: the run of symbol characters starting at p. */
static size_t token_len(const struct edn_reader *r)
{
    const char *q = r->p;
    while (q < r->end && !is_delim(*q))
        q++;
    return (size_t)(q - r->p);
}

static int read_number_or_symbol(struct edn_reader *r, struct edn **out)
{
    int line = r->line, col = r->col;
    size_t n = token_len(r);
    const char *t = r->p;
    for (size_t i = 0; i < n; i++) {
        if (!is_sym_char(t[i]))
            return fail_at(r, line, col + (int)i, "unexpected byte 0x%02x in a symbol",
                           (unsigned char)t[i]);
    }
    char *text = xstrndup(t, n);
    for (size_t i = 0; i < n; i++)
        advance(r);
    bool numeric = isdigit((unsigned char)text[0]) ||
                   ((text[0] == '-' || text[0] == '+') && isdigit((unsigned char)text[1]));
    struct edn *v;
    if (numeric) {
        /* integer: [+-]?digits N?; float: digits with . or e, M? */
        size_t k = (text[0] == '-' || text[0] == '+') ? 1 : 0;
        size_t digits = k;
        while (isdigit((unsigned char)text[digits]))
            digits++;
        if (text[digits] == 0 || (text[digits] == 'N' && text[digits + 1] == 0)) {
            v = new_value(EDN_INT, line, col);
            if (text[digits] == 'N')
                text[digits] = 0;
            errno = 0;
            char *endp;
            long long x = strtoll(text, &endp, 10);
            v->int_fits = errno == 0 && *endp == 0;
            v->i = v->int_fits ? x : 0;
            /* canonical text: no leading '+' */
            if (text[0] == '+')
                memmove(text, text + 1, strlen(text));
        } else {
            char *endp;
            size_t tl = strlen(text);
            if (tl && text[tl - 1] == 'M')
                text[tl - 1] = 0;
            errno = 0;
            double d = strtod(text, &endp);
            if (*endp != 0 || endp == text) {
                int e = fail_at(r, line, col, "malformed number '%s'", text);
                free(text);
                return e;
            }
            v = new_value(EDN_FLOAT, line, col);
            v->f = d;
        }
    } else if (!strcmp(text, "nil")) {
        v = new_value(EDN_NIL, line, col);
    } else if (!strcmp(text, "true") || !strcmp(text, "false")) {
        v = new_value(EDN_BOOL, line, col);
        v->b = text[0] == 't';
    } else {
        v = new_value(EDN_SYMBOL, line, col);
    }
    v->s = text;
    v->len = strlen(text);
    *out = v;
    return 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static void put_utf8(struct sb *b, unsigned cp)
{
    char u[4];
    if (cp < 0x80) {
        sb_addc(b, (char)cp);
        return;
    }
    if (cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3F));
        sb_addn(b, u, 2);
    } else {
        u[0] = (char)(0xE0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        sb_addn(b, u, 3);
    }
}

static int read_string(struct edn_reader *r, struct edn **out)
{
    int line = r->line, col = r->col;
    advance(r); /* opening quote */
    struct sb b = {0};
    sb_add(&b, "");
    for (;;) {
        if (r->p >= r->end) {
            sb_free(&b);
            return fail_at(r, line, col, "string not closed (expected '\"' before end of input)");
        }
        if (b.len > EDN_MAX_STRING) {
            sb_free(&b);
            return fail_at(r, line, col, "string longer than %u bytes", EDN_MAX_STRING);
        }
        char c = *r->p;
        if (c == '"') {
            advance(r);
            break;
        }
        if (c != '\\') {
            sb_addc(&b, c);
            advance(r);
            continue;
        }
        int el = r->line, ec = r->col;
        advance(r);
        if (r->p >= r->end) {
            sb_free(&b);
            return fail_at(r, el, ec, "string not closed (expected '\"' before end of input)");
        }
        char e = *r->p;
        advance(r);
        switch (e) {
        case 'n': sb_addc(&b, '\n'); break;
        case 't': sb_addc(&b, '\t'); break;
        case 'r': sb_addc(&b, '\r'); break;
        case 'b': sb_addc(&b, '\b'); break;
        case 'f': sb_addc(&b, '\f'); break;
        case '"': sb_addc(&b, '"'); break;
        case '\\': sb_addc(&b, '\\'); break;
        case 'u': {
            unsigned cp = 0;
            for (int i = 0; i < 4; i++) {
                int h = r->p < r->end ? hexval(*r->p) : -1;
                if (h < 0) {
                    sb_free(&b);
                    return fail_at(r, el, ec, "expected four hex digits after \\u");
                }
                cp = cp * 16 + (unsigned)h;
                advance(r);
            }
            put_utf8(&b, cp);
            break;
        }
        default:
            sb_free(&b);
            return fail_at(r, el, ec, "unknown escape '\\%c' in a string", e);
        }
    }
    struct edn *v = new_value(EDN_STRING, line, col);
    v->len = b.len;
    v->s = b.s;
    *out = v;
    return 0;
}

static int read_char(struct edn_reader *r, struct edn **out)
{
    int line = r->line, col = r->col;
    advance(r); /* backslash */
    if (r->p >= r->end)
        return fail_at(r, line, col, "expected a character after '\\'");
    const char *start = r->p;
    advance(r);
    while (r->p < r->end && !is_delim(*r->p))
        advance(r);
    size_t n = (size_t)(r->p - start);
    struct sb b = {0};
    sb_add(&b, "");
    if (n == 1 || (((unsigned char)start[0] & 0x80) && n <= 4))
        sb_addn(&b, start, n);
    else if (n == 7 && !memcmp(start, "newline", 7))
        sb_addc(&b, '\n');
    else if (n == 5 && !memcmp(start, "space", 5))
        sb_addc(&b, ' ');
    else if (n == 3 && !memcmp(start, "tab", 3))
        sb_addc(&b, '\t');
    else if (n == 6 && !memcmp(start, "return", 6))
        sb_addc(&b, '\r');
    else if (n == 5 && start[0] == 'u' && hexval(start[1]) >= 0 && hexval(start[2]) >= 0 &&
             hexval(start[3]) >= 0 && hexval(start[4]) >= 0)
        put_utf8(&b, (unsigned)(hexval(start[1]) << 12 | hexval(start[2]) << 8 |
                                hexval(start[3]) << 4 | hexval(start[4])));
    else {
        sb_free(&b);
        return fail_at(r, line, col, "unknown character literal '\\%.*s'", (int)(n > 20 ? 20 : n),
                       start);
    }
    struct edn *v = new_value(EDN_CHAR, line, col);
    v->s = b.s;
    v->len = b.len;
    *out = v;
    return 0;
}

static int read_coll(struct edn_reader *r, struct edn **out, enum edn_type t, char close,
                     int line, int col, int depth)
{
    struct edn *v = new_value(t, line, col);
    size_t cap = 0;
    for (;;) {
        skip_ws(r);
        if (r->p >= r->end) {
            edn_free(v);
            return fail_at(r, line, col, "'%c' opened here is never closed (expected '%c')",
                           t == EDN_LIST ? '(' : t == EDN_VECTOR ? '[' : '{', close);
        }
        if (*r->p == close) {
            advance(r);
            break;
        }
        if (*r->p == ')' || *r->p == ']' || *r->p == '}') {
            int e = fail_at(r, r->line, r->col, "expected '%c' to close the %s opened at line %d, "
                            "column %d, found '%c'", close, edn_type_name(t), line, col, *r->p);
            edn_free(v);
            return e;
        }
        struct edn *item = NULL;
        int rc = read_form(r, &item, depth + 1);
        if (rc < 0) {
            edn_free(v);
            return rc;
        }
        if (rc == 0)
            continue;   /* a #_ discard */
        if (v->n == cap) {
            cap = cap ? cap * 2 : 8;
            v->items = xrealloc(v->items, cap * sizeof *v->items);
        }
        v->items[v->n++] = item;
    }
    if (t == EDN_MAP && v->n % 2) {
        int e = fail_at(r, line, col, "map has a key without a value (%zu forms)", v->n);
        edn_free(v);
        return e;
    }
    *out = v;
    return 0;
}

/* Returns 1 with *out, 0 for a discarded form (#_), or CL_EINVAL. */
static int read_form(struct edn_reader *r, struct edn **out, int depth)
{
    char fb[16];
    skip_ws(r);
    int line = r->line, col = r->col;
    if (depth > EDN_MAX_DEPTH)
        return fail_at(r, line, col, "nested deeper than %d levels", EDN_MAX_DEPTH);
    if (r->p >= r->end)
        return fail_at(r, line, col, "expected a value, found end of input");
    char c = *r->p;
    int rc;
    switch (c) {
    case '(':
        advance(r);
        rc = read_coll(r, out, EDN_LIST, ')', line, col, depth);
        return rc < 0 ? rc : 1;
    case '[':
        advance(r);
        rc = read_coll(r, out, EDN_VECTOR, ']', line, col, depth);
        return rc < 0 ? rc : 1;
    case '{':
        advance(r);
        rc = read_coll(r, out, EDN_MAP, '}', line, col, depth);
        return rc < 0 ? rc : 1;
    case ')': case ']': case '}':
        return fail_at(r, line, col, "unexpected '%c' (nothing is open here)", c);
    case '"':
        rc = read_string(r, out);
        return rc < 0 ? rc : 1;
    case '\\':
        rc = read_char(r, out);
        return rc < 0 ? rc : 1;
    case ':': {
        advance(r);
        size_t n = token_len(r);
        if (n == 0)
            return fail_at(r, line, col, "expected a keyword name after ':', found %s",
                           found(r, fb));
        for (size_t i = 0; i < n; i++)
            if (!is_sym_char(r->p[i]))
                return fail_at(r, line, col + 1 + (int)i, "unexpected byte 0x%02x in a keyword",
                               (unsigned char)r->p[i]);
        struct edn *v = new_value(EDN_KEYWORD, line, col);
        v->s = xstrndup(r->p, n);
        v->len = n;
        for (size_t i = 0; i < n; i++)
            advance(r);
        *out = v;
        return 1;
    }
    case '#': {
        advance(r);
        if (r->p < r->end && *r->p == '{') {
            advance(r);
            rc = read_coll(r, out, EDN_SET, '}', line, col, depth);
            return rc < 0 ? rc : 1;
        }
        if (r->p < r->end && *r->p == '_') {
            advance(r);
            struct edn *gone = NULL;
            rc = read_form(r, &gone, depth + 1);
            if (rc < 0)
                return rc;
            edn_free(gone);
            return 0;
        }
        size_t n = token_len(r);
        if (n == 0 || !isalpha((unsigned char)*r->p))
            return fail_at(r, line, col, "expected a tag name, '{' or '_' after '#', found %s",
                           found(r, fb));
        char *tag = xstrndup(r->p, n);
        for (size_t i = 0; i < n; i++)
            advance(r);
        struct edn *inner = NULL;
        do {
            rc = read_form(r, &inner, depth + 1);
        } while (rc == 0);
        if (rc < 0) {
            free(tag);
            return rc;
        }
        struct edn *v = new_value(EDN_TAGGED, line, col);
        v->s = tag;
        v->len = n;
        v->items = xmalloc(sizeof *v->items);
        v->items[0] = inner;
        v->n = 1;
        *out = v;
        return 1;
    }
    default:
        if (!is_sym_char(c))
            return fail_at(r, line, col, "expected a value, found %s", found(r, fb));
        rc = read_number_or_symbol(r, out);
        return rc < 0 ? rc : 1;
    }
}

int edn_next(struct edn_reader *r, struct edn **out, char *err, size_t errlen)
{
    r->err = err;
    r->errlen = errlen;
    *out = NULL;
    for (;;) {
        skip_ws(r);
        if (r->seq_close) {
            if (r->p >= r->end)
                return fail_at(r, r->line, r->col, "expected '%c' to close the history, found "
                               "end of input", r->seq_close);
            if (*r->p == r->seq_close) {
                advance(r);
                r->seq_close = 0;
                return 0;
            }
        } else if (r->p >= r->end) {
            return 0;
        }
        int rc = read_form(r, out, 1);
        if (rc != 0)
            return rc;
    }
}

int edn_open_seq(struct edn_reader *r)
{
    skip_ws(r);
    if (r->p < r->end && (*r->p == '[' || *r->p == '(')) {
        r->seq_close = *r->p == '[' ? ']' : ')';
        advance(r);
        return 1;
    }
    return 0;
}

int edn_expect_end(struct edn_reader *r, char *err, size_t errlen)
{
    char fb[16];
    r->err = err;
    r->errlen = errlen;
    skip_ws(r);
    if (r->p < r->end)
        return fail_at(r, r->line, r->col, "expected end of input after the history, found %s",
                       found(r, fb));
    return 0;
}

const struct edn *edn_get(const struct edn *map, const char *keyword)
{
    if (!map || map->type != EDN_MAP)
        return NULL;
    for (size_t i = 0; i + 1 < map->n; i += 2) {
        const struct edn *k = map->items[i];
        if (k->type == EDN_KEYWORD && !strcmp(k->s, keyword))
            return map->items[i + 1];
    }
    return NULL;
}

void edn_write_string(struct sb *out, const char *s, size_t len)
{
    sb_addc(out, '"');
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"': sb_add(out, "\\\""); break;
        case '\\': sb_add(out, "\\\\"); break;
        case '\n': sb_add(out, "\\n"); break;
        case '\t': sb_add(out, "\\t"); break;
        case '\r': sb_add(out, "\\r"); break;
        default:
            if (c < 0x20 || c == 0x7f)
                sb_printf(out, "\\u%04x", c);
            else
                sb_addc(out, (char)c);
        }
    }
    sb_addc(out, '"');
}

void edn_write(struct sb *out, const struct edn *v)
{
    static const char *open[] = {[EDN_LIST] = "(", [EDN_VECTOR] = "[", [EDN_MAP] = "{",
                                 [EDN_SET] = "#{"};
    static const char *close[] = {[EDN_LIST] = ")", [EDN_VECTOR] = "]", [EDN_MAP] = "}",
                                  [EDN_SET] = "}"};
    switch (v->type) {
    case EDN_NIL: sb_add(out, "nil"); break;
    case EDN_BOOL: sb_add(out, v->b ? "true" : "false"); break;
    case EDN_INT: sb_add(out, v->s); break;
    case EDN_FLOAT: sb_add(out, v->s); break;
    case EDN_STRING: edn_write_string(out, v->s, v->len); break;
    case EDN_CHAR:
        if (v->s[0] == '\n') sb_add(out, "\\newline");
        else if (v->s[0] == ' ') sb_add(out, "\\space");
        else if (v->s[0] == '\t') sb_add(out, "\\tab");
        else if (v->s[0] == '\r') sb_add(out, "\\return");
        else if (v->len != 1 || (unsigned char)v->s[0] >= 0x20)
            { sb_addc(out, '\\'); sb_addn(out, v->s, v->len); }
        else
            sb_printf(out, "\\u%04x", (unsigned char)v->s[0]);
        break;
    case EDN_KEYWORD: sb_addc(out, ':'); sb_add(out, v->s); break;
    case EDN_SYMBOL: sb_add(out, v->s); break;
    case EDN_TAGGED:
        sb_printf(out, "#%s ", v->s);
        edn_write(out, v->items[0]);
        break;
    case EDN_LIST: case EDN_VECTOR: case EDN_MAP: case EDN_SET:
        sb_add(out, open[v->type]);
        for (size_t i = 0; i < v->n; i++) {
            if (i)
                sb_add(out, (v->type == EDN_MAP && i % 2 == 0) ? ", " : " ");
            edn_write(out, v->items[i]);
        }
        sb_add(out, close[v->type]);
        break;
    }
}

const char *edn_type_name(enum edn_type t)
{
    switch (t) {
    case EDN_NIL: return "nil";
    case EDN_BOOL: return "a boolean";
    case EDN_INT: return "an integer";
    case EDN_FLOAT: return "a number";
    case EDN_STRING: return "a string";
    case EDN_CHAR: return "a character";
    case EDN_KEYWORD: return "a keyword";
    case EDN_SYMBOL: return "a symbol";
    case EDN_LIST: return "a list";
    case EDN_VECTOR: return "a vector";
    case EDN_MAP: return "a map";
    case EDN_SET: return "a set";
    case EDN_TAGGED: return "a tagged value";
    }
    return "a value";
}
