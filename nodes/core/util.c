/* util — see util.h. */
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *err_str(int err)
{
    switch (err) {
    case CL_OK: return "ok";
    case CL_EINVAL: return "invalid input";
    case CL_ENOENT: return "not found";
    case CL_EIO: return "i/o error";
    case CL_ETIMEOUT: return "timed out";
    case CL_ESTATE: return "not possible now";
    case CL_ERANGE: return "out of range";
    case CL_ENOSPACE: return "limit reached";
    }
    return "unknown error";
}

static void oom(size_t n)
{
    fprintf(stderr, "conlab: out of memory allocating %zu bytes\n", n);
    abort();
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom(n);
    return p;
}

void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        oom(n * size);
    return p;
}

void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        oom(n);
    return q;
}

char *xstrdup(const char *s)
{
    return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
    char *p = xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

char *xasprintf(const char *fmt, ...)
{
    struct sb b = {0};
    va_list ap;
    va_start(ap, fmt);
    sb_vprintf(&b, fmt, ap);
    va_end(ap);
    if (!b.s)
        return xstrdup("");
    return b.s;
}

static void sb_grow(struct sb *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + extra + 1)
        cap *= 2;
    b->s = xrealloc(b->s, cap);
    b->cap = cap;
}

void sb_addn(struct sb *b, const char *s, size_t n)
{
    sb_grow(b, n);
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = 0;
}

void sb_add(struct sb *b, const char *s)
{
    sb_addn(b, s, strlen(s));
}

void sb_addc(struct sb *b, char c)
{
    sb_addn(b, &c, 1);
}

void sb_vprintf(struct sb *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return;
    sb_grow(b, (size_t)n);
    vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
}

void sb_printf(struct sb *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sb_vprintf(b, fmt, ap);
    va_end(ap);
}

void sb_free(struct sb *b)
{
    free(b->s);
    b->s = NULL;
    b->len = b->cap = 0;
}

size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    size_t len;
    uint32_t c, min;
    if ((s[0] & 0xe0) == 0xc0) {
        len = 2; c = s[0] & 0x1f; min = 0x80;
    } else if ((s[0] & 0xf0) == 0xe0) {
        len = 3; c = s[0] & 0x0f; min = 0x800;
    } else if ((s[0] & 0xf8) == 0xf0) {
        len = 4; c = s[0] & 0x07; min = 0x10000;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return 0;
    *cp = c;
    return len;
}

void sb_add_escaped(struct sb *b, const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < n) {
        uint32_t cp;
        size_t l = utf8_decode(s + i, n - i, &cp);
        if (l == 0) {
            sb_printf(b, "\\x%02x", s[i]);
            i++;
            continue;
        }
        if (cp == '\\') {
            sb_add(b, "\\\\");
        } else if (cp == 0x1b) {
            sb_add(b, "\\e");
        } else if (cp == '\n') {
            sb_add(b, "\\n");
        } else if (cp == '\r') {
            sb_add(b, "\\r");
        } else if (cp == '\t') {
            sb_add(b, "\\t");
        } else if (cp < 0x20 || cp == 0x7f) {
            sb_printf(b, "\\x%02x", (unsigned)cp);
        } else if ((cp >= 0x80 && cp < 0xa0) || (cp >= 0x200b && cp <= 0x200f) ||
                   (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) ||
                   cp == 0x061c || cp == 0xfeff) {
            sb_printf(b, "\\u%04x", (unsigned)cp);
        } else {
            sb_addn(b, (const char *)s + i, l);
        }
        i += l;
    }
    if (!b->s)
        sb_addn(b, "", 0);
}

uint64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int parse_i64(const char *s, int64_t *out)
{
    if (!s || !*s || isspace((unsigned char)*s))
        return CL_EINVAL;
    const char *p = s;
    if (*p == '+' || *p == '-')
        p++;
    if (!isdigit((unsigned char)*p))
        return CL_EINVAL;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (errno || *end)
        return CL_EINVAL;
    *out = v;
    return 0;
}

int parse_u64(const char *s, uint64_t *out)
{
    if (!s || !isdigit((unsigned char)*s))
        return CL_EINVAL;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return CL_EINVAL;
    *out = v;
    return 0;
}

int parse_double(const char *s, double *out)
{
    if (!s || !*s || isspace((unsigned char)*s))
        return CL_EINVAL;
    const char *p = s;
    if (*p == '+' || *p == '-')
        p++;
    if (!isdigit((unsigned char)*p) && *p != '.')
        return CL_EINVAL;
    for (const char *q = p; *q; q++)
        if (!isdigit((unsigned char)*q) && *q != '.')
            return CL_EINVAL; /* no hex, exponents, inf or nan */
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (errno || *end || !isfinite(v))
        return CL_EINVAL;
    *out = v;
    return 0;
}

int parse_duration_us(const char *s, uint64_t *out)
{
    if (!s || !*s)
        return CL_EINVAL;
    size_t n = strlen(s);
    size_t num_end = 0;
    while (num_end < n && (isdigit((unsigned char)s[num_end]) || s[num_end] == '.'))
        num_end++;
    if (num_end == 0 || num_end > 30)
        return CL_EINVAL;
    char num[32];
    memcpy(num, s, num_end);
    num[num_end] = 0;
    double v;
    if (parse_double(num, &v) < 0 || v < 0)
        return CL_EINVAL;
    const char *unit = s + num_end;
    double mult;
    if (!*unit || !strcmp(unit, "ms"))
        mult = 1e3;
    else if (!strcmp(unit, "s"))
        mult = 1e6;
    else if (!strcmp(unit, "us"))
        mult = 1;
    else if (!strcmp(unit, "m") || !strcmp(unit, "min"))
        mult = 60e6;
    else
        return CL_EINVAL;
    double us = v * mult;
    if (us > 1e15) /* about 31 years: anything longer is a typo */
        return CL_EINVAL;
    *out = (uint64_t)(us + 0.5);
    return 0;
}

int parse_percent(const char *s, double *out)
{
    if (!s)
        return CL_EINVAL;
    size_t n = strlen(s);
    char buf[32];
    if (n == 0 || n >= sizeof buf)
        return CL_EINVAL;
    memcpy(buf, s, n + 1);
    if (buf[n - 1] == '%')
        buf[n - 1] = 0;
    double v;
    if (parse_double(buf, &v) < 0 || v < 0 || v > 100 || buf[0] == '+' || buf[0] == '-')
        return CL_EINVAL;
    *out = v;
    return 0;
}

int parse_node_id(const char *s, int n, int *idx)
{
    if (!s || s[0] != 'n' || !isdigit((unsigned char)s[1]) || s[1] == '0')
        return CL_EINVAL;
    uint64_t v;
    if (parse_u64(s + 1, &v) < 0 || v < 1 || v > (uint64_t)n)
        return CL_EINVAL;
    *idx = (int)v - 1;
    return 0;
}

size_t str_copy(char *dst, const char *src, size_t size)
{
    size_t n = strlen(src);
    if (size) {
        size_t c = n < size - 1 ? n : size - 1;
        memcpy(dst, src, c);
        dst[c] = 0;
    }
    return n;
}

int str_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64)
        return 100;
    int row[65];
    for (size_t j = 0; j <= lb; j++)
        row[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        int prev = row[0];
        row[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int cur = row[j];
            int best = prev + (a[i - 1] != b[j - 1]);
            if (row[j] + 1 < best)
                best = row[j] + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            prev = cur;
        }
    }
    return row[lb];
}

void node_name(int idx, char buf[CL_IDLEN])
{
    snprintf(buf, CL_IDLEN, "n%d", idx + 1);
}
