/* lincheck — is a history linearizable? The Wing–Gong search as improved by Lowe and used by
 * Porcupine: walk the invocation/completion entries in order, tentatively linearize a pending
 * call, backtrack at a completion whose operation is still unlinearized, and remember every
 * (set of linearized operations, model state) already seen so no configuration is explored
 * twice. The set is a bitset with an incrementally maintained Zobrist hash.
 *
 * Models: register (read/write), cas-register (read/write/cas), kv (a map of cas-registers
 * with append; keys checked one by one, which is sound because linearizability is local:
 * Herlihy & Wing's P-compositionality). Every model is checked key by key; a history without
 * keys is one register. Indeterminate (info) operations may take effect at any time after
 * their invocation, or never; failed operations never happened; indeterminate reads are
 * dropped (they constrain nothing). In kv the empty string and nil are the same state, as in
 * Porcupine's kv histories where an absent key reads "". Values compare as JSON values (the
 * number 42 is not the string "42"), except on a key that is appended to: append works on
 * strings, so there a number counts as its digits.
 *
 * On a violation the result carries the smallest failing sub-history found (each removed
 * operation was shown not to matter: the history stays non-linearizable with it made
 * indeterminate), the longest partial linearization of it, the operation that could not be
 * placed and a plain-words explanation. A time limit answers `unknown` instead of hanging,
 * and so does a memory cap (1 GiB by default): every allocation a search makes is counted,
 * and the search stops before one would pass the cap. Configurations are stored compressed
 * (see struct cache in lincheck.c), so a long history on one key fits: 60 000 operations by
 * 16 clients take about 60 MB.
 */
#ifndef CONLAB_LINCHECK_H
#define CONLAB_LINCHECK_H

#include <stdbool.h>
#include <stdint.h>

#include "histfile.h"
#include "util.h"

enum lin_model { LIN_AUTO, LIN_REGISTER, LIN_CAS_REGISTER, LIN_KV };
enum lin_verdict { LIN_OK = 0, LIN_VIOLATION = 1, LIN_UNKNOWN = 2 };

struct lin_opts {
    enum lin_model model;   /* LIN_AUTO: kv when the history has keys, else cas-register */
    double time_limit_s;    /* 0: no limit */
    size_t max_memory;      /* bytes one search may hold (0: 1 GiB); then unknown */
    bool explain;           /* minimise and explain a violation (default on via lin_opts_default) */
    /* Called every 2 s of a long check: the key being searched (NULL for a history without
     * keys), configurations explored so far, seconds since the start. NULL: no reports. */
    void (*progress)(void *ud, const char *key, uint64_t configs, double seconds);
    void *progress_ud;
};
void lin_opts_default(struct lin_opts *o);

struct lin_result {
    enum lin_verdict verdict;
    enum lin_model model;       /* the model used */
    int n_keys, n_ops;          /* keys and operations judged (fail and indeterminate reads
                                   excluded) */
    double elapsed_ms;
    uint64_t configs;           /* configurations explored */
    bool out_of_memory;         /* unknown because of the memory cap, not the time limit */
    size_t peak_bytes;          /* the most memory one search held (its accounted allocations) */
    size_t memory_cap;          /* the cap it ran under, in bytes */
    const char *key;            /* the failing (or undecided) key; borrowed from the history;
                                   NULL for a single-register history */
    bool has_key;
    int *sub, n_sub;            /* the smallest failing sub-history: op indexes, invocation
                                   order */
    int n_key_ops;              /* operations on that key */
    bool minimal;               /* minimisation finished within its budget */
    int marked;                 /* the operation that could not be placed, or -1 */
    int *partial, n_partial;    /* longest partial linearization of the sub-history, in order */
    char *partial_state;        /* the register's value after it ("nil" when absent) */
    char *summary;              /* one line: "NOT linearizable (key x): ..." */
    char *explanation;          /* plain words; may be several sentences */
};

/* Judges h. Returns LIN_OK, LIN_VIOLATION or LIN_UNKNOWN (time limit), with *out set (caller
 * frees with lin_result_free); or CL_EINVAL, *out NULL, when the model cannot judge h (an
 * operation the model does not have), with the reason in err. */
int lincheck_run(const struct history *h, const struct lin_opts *o, struct lin_result **out,
                 char *err, size_t errlen);
void lin_result_free(struct lin_result **r);

/* Appends the report a user reads: verdict line, explanation, the sub-history as a timeline,
 * the longest partial linearization, and figures. */
void lincheck_format(const struct history *h, const struct lin_result *r, struct sb *out);

const char *lin_model_name(enum lin_model m);
int lin_model_parse(const char *s, enum lin_model *m); /* 0 or CL_EINVAL */

#endif
