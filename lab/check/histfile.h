/* histfile — one in-memory history of client operations, loaded from conlab's JSONL history
 * (docs/protocol.md §4) or a Jepsen EDN history, or built event by event by the lab; and
 * written back as JSONL or EDN (so a conlab history can be handed to Jepsen's tools).
 *
 * A history is a list of operations, each an invocation paired with its completion:
 * ok (it happened), fail (it definitely did not) or info (indeterminate: it may take effect at
 * any time after its invocation, or never). An invocation with no completion by the end of the
 * history is info too. Values are any JSON value kept as its value text (nodes/kit/jtext.h):
 * a number as its digits (Jepsen's integers too), a plain word as itself, a string that would
 * read as another value marked, so the number 42 and the string "42" are two values; nil
 * (absent) is NULL and distinct from every value. Keys are plain text (a whole-number key is
 * its decimal text). Every string in a history is interned, so two values are equal exactly
 * when their pointers are; history_describe_op shows them as a user reads them (42, "42"). Nemesis entries (non-numeric
 * :process) are skipped. Malformed input is refused with "line L, column C: what".
 */
#ifndef CONLAB_HISTFILE_H
#define CONLAB_HISTFILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "util.h"

#define HIST_MAX_BYTES (512u << 20)   /* larger files are refused */
#define HIST_MAX_OPS 10000000

enum hist_f { HF_READ, HF_WRITE, HF_CAS, HF_APPEND, HF_OTHER };
enum hist_outcome { HO_OK, HO_FAIL, HO_INFO };
enum hist_format { HIST_JSONL, HIST_EDN };
enum hist_event { HE_INVOKE, HE_OK, HE_FAIL, HE_INFO };

struct hist_op {
    int64_t process;
    enum hist_f f;
    const char *fname;      /* the f as written ("read", "get", "put", ...); interned */
    const char *key;        /* interned; NULL for a single-register history */
    const char *value;      /* write/append: the value; read: the value read (NULL = nil);
                               cas: from */
    const char *value2;     /* cas: to */
    enum hist_outcome outcome;
    bool completed;         /* a completion event exists (info or not) */
    int64_t t_inv, t_ret;   /* nanoseconds (or event numbers when the file has no times) */
    int inv_pos, ret_pos;   /* positions in the event order; ret_pos -1 when never completed */
    const char *node;       /* node asked (JSONL), interned or NULL */
    const char *error;      /* error text on fail/info, interned or NULL */
    int line;               /* source line of the invocation (0 when built in memory) */
};

struct history {
    struct hist_op *ops;    /* in invocation order */
    int n, cap;
    int n_events;
    bool has_time;          /* times came from the file (else event numbers) */
    bool has_keys;          /* some operation names a key */
    bool has_collections;   /* some EDN :value was a vector, list or set (kept as JSON text) */
    enum hist_format format;
    struct strpool *pool;   /* private */
    int64_t *pending;       /* private: process -> open op, as a small map */
    int n_pending, cap_pending;
};

/* Lifetime. history_new() returns an empty history; history_free(&h) frees it, NULLs h. */
struct history *history_new(void);
void history_free(struct history **h);

/* Interns s (len bytes) into h; the result lives as long as h. NULL stays NULL. */
const char *history_intern(struct history *h, const char *s, size_t len);

/* Appends one event, as the lab records it. For invoke, value is the written value (cas: from,
 * with value2 = to); for ok of a read, the value read. Returns 0, or CL_EINVAL with a reason in
 * err (a completion with no open invocation, a second invocation while one is open). */
int history_add(struct history *h, int64_t process, enum hist_event type, const char *f,
                const char *key, const char *value, const char *value2, int64_t time_ns,
                const char *node, const char *error, char *err, size_t errlen);

/* Parses a whole buffer, detecting the format (JSONL when the first object starts with '{"',
 * EDN otherwise). On success *out is the history (caller frees) and 0 is returned; on failure
 * CL_EINVAL with "line L, column C: what was expected" in err. */
int history_parse(const char *buf, size_t len, struct history **out, char *err, size_t errlen);
int history_parse_jsonl(const char *buf, size_t len, struct history **out, char *err,
                        size_t errlen);
int history_parse_edn(const char *buf, size_t len, struct history **out, char *err,
                      size_t errlen);
/* Jepsen's test log (the "INFO jepsen.util - P :type :f value" lines; Porcupine's
 * test_data/jepsen): one register, values nil, integers or [from to]; :timed-out is
 * indeterminate. Other lines are skipped. */
int history_parse_jepsen_log(const char *buf, size_t len, struct history **out, char *err,
                             size_t errlen);

/* Reads and parses a file ("-" = stdin). Errors are prefixed with the path. */
int history_load(const char *path, struct history **out, char *err, size_t errlen);

/* Writers: the events in their original order, values with their JSON types. EDN writes one
 * map per line as Jepsen does: numbers as numbers, strings as strings, arrays as vectors,
 * objects as maps (a key that is a whole number's text is written as the number). */
void history_write_jsonl(const struct history *h, struct sb *out);
void history_write_edn(const struct history *h, struct sb *out);
/* The same; with independent, an operation on a key writes it as jepsen.independent does: no
 * :key, :value [k v] (a cas [k [from to]], a read's invocation [k nil]), the form Jepsen's
 * independent checker and Knossos's per-key runs take. conlab's reader does not read such
 * tuples back as keys. */
void history_write_edn_independent(const struct history *h, int independent, struct sb *out);

/* A copy of h holding only the operations whose indexes are in keep[0..n) (ascending), with
 * the same values and times. Caller frees. */
struct history *history_subset(const struct history *h, const int *keep, int n);

/* Words for messages: "write x=3", "read x=nil", "cas x 1->2", "append x+=y" (value
 * escaped for terminals). Appends to out. */
void history_describe_op(const struct history *h, const struct hist_op *op, struct sb *out);
/* "812ms" / "1.25s" / "#12" (event number when the file has no times). */
void history_describe_time(const struct history *h, int64_t t, struct sb *out);
const char *hist_f_name(enum hist_f f);

#endif
