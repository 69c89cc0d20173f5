/* yamldoc — a strict YAML loader for lessons and quiz banks, and the only module that
 * includes <yaml.h>. It turns bytes into a small tree of maps, lists and scalars, each node
 * carrying its line:column, and refuses everything a lesson file has no business holding:
 * aliases and anchors (billion laughs), tags, several documents, directives, duplicate keys,
 * merge keys (<<), non-scalar keys, nesting deeper than a cap, oversized files or scalars,
 * UTF-16/32, NUL bytes, invalid UTF-8, control characters and tabs in indentation.
 *
 * On top of the tree sit typed accessors (string, integer, boolean, enum, duration) that
 * refuse YAML 1.1 coercions ("yes" is not a boolean here) and report errors as
 * "FILE:LINE:COLUMN: what was expected", with a did-you-mean for unknown keys.
 *
 * Ownership: ydoc_parse() returns a struct ydoc the caller frees with ydoc_free(); every
 * node and string inside is owned by it and valid until then.
 */
#ifndef CONLAB_YAMLDOC_H
#define CONLAB_YAMLDOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define YDOC_MAX_BYTES (256u * 1024u) /* default file cap */
#define YDOC_MAX_SCALAR (16u * 1024u) /* default scalar cap */
#define YDOC_MAX_DEPTH 32             /* default nesting cap */
#define YDOC_MAX_NODES 65536          /* default node cap */

enum ydoc_kind { YDOC_SCALAR, YDOC_MAP, YDOC_LIST };

struct ydoc_node {
    enum ydoc_kind kind;
    int line, col;           /* 1-based position of the node's first character */
    /* scalars */
    char *str;               /* NUL-terminated text (never contains NUL) */
    size_t len;
    bool plain;              /* unquoted (plain style): may be a number, bool or null */
    bool null;               /* plain "", "~", "null" or "Null"/"NULL" */
    /* maps and lists: n children; a map's keys[i] (always a scalar) maps to items[i] */
    size_t n;
    struct ydoc_node **items;
    struct ydoc_node **keys;
};

struct ydoc {
    char *name;              /* file name used in messages */
    struct ydoc_node *root;  /* NULL for an empty stream */
};

struct ydoc_limits {
    size_t max_bytes, max_scalar, max_nodes;
    int max_depth;           /* at most YDOC_MAX_DEPTH (a larger value is clamped) */
};

/* Parses len bytes (need not be NUL-terminated). name is used in messages. lim may be NULL
 * for the defaults above. Returns 0 and *out (caller frees with ydoc_free), or CL_EINVAL
 * and err = "name:line:col: message". An empty stream is an error ("empty file"). */
int ydoc_parse(const char *buf, size_t len, const char *name, const struct ydoc_limits *lim,
               struct ydoc **out, char *err, size_t errlen);
/* Reads and parses a file (at most lim->max_bytes; a larger file is refused unread). */
int ydoc_load_file(const char *path, const struct ydoc_limits *lim, struct ydoc **out,
                   char *err, size_t errlen);
void ydoc_free(struct ydoc **d);

/* The value for key in map, or NULL (also when map is not a map). Borrowed. */
const struct ydoc_node *ydoc_get(const struct ydoc_node *map, const char *key);
const char *ydoc_kind_name(enum ydoc_kind k);

/* Fills err with "name:line:col: " + the formatted message; always returns CL_EINVAL. */
int ydoc_error(const struct ydoc *d, const struct ydoc_node *at, char *err, size_t errlen,
               const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Schema helpers. `what` names the place in words ("step \"split\""). Each returns 0, or
 * CL_EINVAL with a positioned message in err. */
/* Every key of map must be in allowed (NULL-terminated); every key in required (may be
 * NULL) must be present. Unknown keys get a did-you-mean. */
int ydoc_check_keys(const struct ydoc *d, const struct ydoc_node *map, const char *what,
                    const char *const *allowed, const char *const *required, char *err,
                    size_t errlen);
int ydoc_want(const struct ydoc *d, const struct ydoc_node *n, enum ydoc_kind k,
              const char *what, char *err, size_t errlen);
/* A non-null scalar of at most maxlen bytes (0 = no extra limit). *out is borrowed. */
int ydoc_str(const struct ydoc *d, const struct ydoc_node *n, const char *what, size_t maxlen,
             const char **out, char *err, size_t errlen);
/* A plain decimal integer in [min, max]: "10" yes, "\"10\"", "0x10", "1e3", "10.0" no. */
int ydoc_int(const struct ydoc *d, const struct ydoc_node *n, const char *what, long min,
             long max, long *out, char *err, size_t errlen);
/* A plain decimal number (integer or with a fraction) in [min, max]. */
int ydoc_num(const struct ydoc *d, const struct ydoc_node *n, const char *what, double min,
             double max, double *out, char *err, size_t errlen);
/* Only plain true / false; yes/no/on/off are refused with a hint. */
int ydoc_bool(const struct ydoc *d, const struct ydoc_node *n, const char *what, bool *out,
              char *err, size_t errlen);
/* One of the '|'-separated words; *idx is its position. Did-you-mean on a near miss. */
int ydoc_enum(const struct ydoc *d, const struct ydoc_node *n, const char *what,
              const char *words, int *idx, char *err, size_t errlen);
/* A duration such as "500ms", "2s", "1m" (a bare number is milliseconds), in [min_ms, max_ms]. */
int ydoc_duration_ms(const struct ydoc *d, const struct ydoc_node *n, const char *what,
                     long min_ms, long max_ms, long *out, char *err, size_t errlen);
/* An identifier [a-z0-9-]{1,maxlen}, starting with a letter or digit. */
int ydoc_ident(const struct ydoc *d, const struct ydoc_node *n, const char *what,
               size_t maxlen, const char **out, char *err, size_t errlen);

/* Best match for word among the '|'-separated words (distance <= 2 or a prefix), or NULL.
 * Writes the match into buf. */
const char *ydoc_suggest(const char *word, const char *words, char *buf, size_t n);

#endif
