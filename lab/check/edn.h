/* edn — a reader and writer for EDN (extensible data notation), the format Jepsen writes its
 * histories in (history.edn): {:process 0, :type :invoke, :f :write, :value 3}.
 *
 * The reader takes a buffer and reads one form at a time, so a history of one map per line
 * streams without building a tree of the whole file; a history that is one vector of maps is
 * read element by element through edn_open_seq()/edn_next(). It accepts all of EDN that a
 * history can hold: nil, true/false, integers (with N), floats (with M), strings with escapes,
 * characters, keywords, symbols, lists, vectors, maps, sets, #tags, #_ discards, ; comments
 * and commas as whitespace. Every error names the line and column and what was expected;
 * nesting is capped at EDN_MAX_DEPTH and a string at EDN_MAX_STRING, so hostile input cannot
 * exhaust the stack or memory. Nothing here asserts on input.
 */
#ifndef CONLAB_EDN_H
#define CONLAB_EDN_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "util.h"

#define EDN_MAX_DEPTH 64
#define EDN_MAX_STRING (16u << 20)

enum edn_type {
    EDN_NIL, EDN_BOOL, EDN_INT, EDN_FLOAT, EDN_STRING, EDN_CHAR, EDN_KEYWORD, EDN_SYMBOL,
    EDN_LIST, EDN_VECTOR, EDN_MAP, EDN_SET, EDN_TAGGED
};

/* One value. Strings, keywords (without the colon), symbols, tag names and the literal text
 * of numbers are in s (NUL-terminated, len bytes; a string may hold NUL). Collections hold n
 * items (a map holds n/2 key,value pairs in order; a tagged value holds one item). */
struct edn {
    enum edn_type type;
    int line, col;          /* where the value starts, 1-based */
    bool b;
    bool int_fits;          /* EDN_INT: i is exact (else only s is) */
    int64_t i;
    double f;
    char *s;
    size_t len;
    struct edn **items;
    size_t n;
};

struct edn_reader;

/* Starts reading buf (borrowed: it must outlive the reader). Caller frees with edn_close. */
struct edn_reader *edn_open(const char *buf, size_t len);
void edn_close(struct edn_reader **r);

/* Reads the next form. Returns 1 with *out set (caller frees with edn_free), 0 at the end of
 * input (or of the open sequence, see below), or CL_EINVAL with "line L, column C: what" in
 * err. */
int edn_next(struct edn_reader *r, struct edn **out, char *err, size_t errlen);

/* If the next form is a vector or list, consumes its opening bracket and returns 1: the
 * following edn_next() calls return its elements, then 0 once the closing bracket is read.
 * Returns 0 (consuming nothing but whitespace) if the next form is anything else. */
int edn_open_seq(struct edn_reader *r);

/* After a sequence: 0 if only whitespace and comments remain, else CL_EINVAL with a reason. */
int edn_expect_end(struct edn_reader *r, char *err, size_t errlen);

/* Where the reader is (1-based), for callers' messages. */
void edn_position(const struct edn_reader *r, int *line, int *col);

void edn_free(struct edn *v);

/* Map look-up by keyword name (without colon); NULL when absent. Borrowed. */
const struct edn *edn_get(const struct edn *map, const char *keyword);

/* Writers. edn_write_string appends a quoted EDN string with escapes; edn_write appends any
 * value in canonical form. */
void edn_write_string(struct sb *out, const char *s, size_t len);
void edn_write(struct sb *out, const struct edn *v);

/* Name of a type, for messages ("a keyword", "a vector"). */
const char *edn_type_name(enum edn_type t);

#endif
