/* txnhist — a history of transactions, as Elle and Jepsen's bank test read them: each
 * operation is a list of micro-operations on keys — [r k v] (a read: a register value, or the
 * list a list-append key holds), [w k v] (a register write), [append k v] (append v to the
 * list k), [add k n] (the lab's bank: add n to k) — with its process, outcome (ok, fail, info)
 * and times. Loaded from the lab's JSONL ({"type":"invoke|ok|fail|info","process":0,"f":"txn",
 * "value":[["append","x",1],["r","x",[1]]],"time":ns}, one per line) or a Jepsen/Elle EDN
 * history ({:type :ok, :f :txn, :value [[:append 9 1] [:r 9 [1]]], :process 0, :time 12}).
 *
 * Values are kept as text, one text per JSON value (issue 20): an integer as its decimal text,
 * a string as itself unless its text reads as JSON ("42", "true"), then as its JSON literal
 * ("\"42\""), any other JSON value (true, 1.5, {"a":[1]}, an array written or appended) as
 * its compact key-sorted JSON; so the checkers compare JSON values: 42 and "42" are two
 * values. nil is NULL. Keys are text (7 and "7" are one key, as in the txn mode). A read of a
 * list holds its elements. An invocation pairs with the next completion of its process; an ok
 * completion carries the values read. Malformed input is refused with "line L: what". Users:
 * txncheck (check serializable, check bank), the lab (from its transaction events), the fuzz
 * target fuzz_txnhist.
 */
#ifndef CONLAB_TXNHIST_H
#define CONLAB_TXNHIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define TXNHIST_MAX_MOPS 4096       /* micro-operations in one transaction */
#define TXNHIST_MAX_LIST 100000     /* elements in one list read */

enum mop_f { MOP_R, MOP_W, MOP_APPEND, MOP_ADD };
enum txn_outcome { TX_OK, TX_FAIL, TX_INFO };

struct mop {
    enum mop_f f;
    char *key;
    char *value;            /* w, append, add: the argument; r of a register: the value (NULL = nil) */
    bool is_list;           /* r: the value read is a list (list-append) */
    bool unknown;           /* r: the value read is not known (an invocation never completed ok) */
    char **list;            /* r of a list: its elements */
    int nlist;
};

struct txn_op {
    int64_t process;
    enum txn_outcome outcome;
    struct mop *mops;
    int nmops;
    int64_t t_inv, t_ret;   /* nanoseconds, or event numbers; t_ret -1 when never completed */
    int line;               /* source line of the invocation */
    char *name;             /* an id to name it by ("t7"), or NULL: then "op N" */
};

struct txnhist {
    struct txn_op *ops;     /* in invocation order */
    int n, cap;
};

/* Parses a whole buffer (JSONL when the first non-blank characters are '{"', else EDN). On
 * success *out is the history (caller frees with txnhist_free) and 0 is returned; else
 * CL_EINVAL with "line L: what was expected" in err and *out NULL. */
int txnhist_parse(const char *buf, size_t len, struct txnhist **out, char *err, size_t errlen);
/* Reads a file ("-" = stdin) and parses it; errors are prefixed with the path. */
int txnhist_load(const char *path, struct txnhist **out, char *err, size_t errlen);
void txnhist_free(struct txnhist **h);

/* Appends "[append x 1] [r x [1 2]]" (values escaped for terminals). */
void txnhist_describe(const struct txn_op *op, struct sb *out);
/* The name of op i: its own, else "op I". Appends to out. */
void txnhist_name(const struct txnhist *h, int i, struct sb *out);

#endif
