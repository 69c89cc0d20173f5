/* util — allocation wrappers that abort on out-of-memory, the error enum with its string
 * table, a growable string buffer, small string helpers and the monotonic clock.
 * Everything in conlab includes this; it owns no global state except the error table. */
#ifndef CONLAB_UTIL_H
#define CONLAB_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

/* Most functions return 0 or one of these (negative). err_str() names each. */
enum cl_err {
    CL_OK = 0,
    CL_EINVAL = -1,   /* malformed input */
    CL_ENOENT = -2,   /* no such thing */
    CL_EIO = -3,      /* a system call failed */
    CL_ETIMEOUT = -4, /* gave up waiting */
    CL_ESTATE = -5,   /* not possible in the current state */
    CL_ERANGE = -6,   /* value out of range */
    CL_ENOSPACE = -7, /* a cap was reached */
};
const char *err_str(int err);

#define CL_MAXN 16            /* most nodes of a mode with per-node tables (the kit's version
                               * vectors, ring, items; bitmasks of nodes): mode.max_nodes's default */
#define CL_MAXNODES 128       /* most nodes in one cluster (env, runtime, simulator, lab, dashboard) */
#define CL_SIM_MAXNODES 1000  /* most nodes in one simulated cluster (nodes/sim, for modes whose
                               * sim_max_nodes allows it: gossip, swim); the lab, the runtime and
                               * the dashboard stay at CL_MAXNODES */
#define CL_IDLEN 16           /* node id buffer: "n1".."n1000", client ids */
#define CL_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A growable NUL-terminated string. Zero-initialise, append, then take .s (caller frees) or
 * sb_free(). */
struct sb {
    char *s;
    size_t len, cap;
};
void sb_add(struct sb *b, const char *s);
void sb_addn(struct sb *b, const char *s, size_t n);
void sb_addc(struct sb *b, char c);
void sb_printf(struct sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_vprintf(struct sb *b, const char *fmt, va_list ap);
void sb_free(struct sb *b);
/* Appends s with every control byte, escape sequence, invalid UTF-8 and Unicode BiDi control
 * written as a visible escape (\e, \x07, \u202e), so user data can never drive a terminal. */
void sb_add_escaped(struct sb *b, const char *s, size_t n);

/* Decodes one UTF-8 sequence of at most n bytes (n >= 1): returns its length and the code
 * point in *cp, or 0 when invalid (overlong forms, surrogates, above U+10FFFF). */
size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);

/* Monotonic microseconds (CLOCK_MONOTONIC) and wall-clock microseconds (CLOCK_REALTIME). */
uint64_t mono_us(void);
uint64_t wall_us(void);

/* Parsers for user input. Each returns 0, or CL_EINVAL with no side effect. */
int parse_i64(const char *s, int64_t *out);        /* decimal, optional sign, no junk */
int parse_u64(const char *s, uint64_t *out);       /* decimal, no sign */
int parse_double(const char *s, double *out);      /* finite decimal */
/* "500ms", "2s", "1.5s", "250us", "3m", or a bare number taken as milliseconds. */
int parse_duration_us(const char *s, uint64_t *out);
/* "10", "10%", "0.5%": a percentage 0..100 */
int parse_percent(const char *s, double *out);
/* "n3" -> 2 when 1 <= 3 <= n; else CL_EINVAL */
int parse_node_id(const char *s, int n, int *idx);

/* strlcpy-alike: always NUL-terminates, returns strlen(src). */
size_t str_copy(char *dst, const char *src, size_t size);
/* Levenshtein distance, capped at 100; for "did you mean". */
int str_distance(const char *a, const char *b);
/* Writes "n<idx+1>" into buf. */
void node_name(int idx, char buf[CL_IDLEN]);

#endif
