/* sessions — the weaker guarantees a client can count on (Terry et al., "Session Guarantees
 * for Weakly Consistent Replicated Data", 1994), checked per process (a process is a session);
 * sequential consistency for small histories; convergence of replicas.
 *
 * Writes are ordered by what a session could know: w1 is older than w2 when w1 is in the
 * causal past of w2 — earlier in w2's session, or read (directly or transitively) by w2's
 * session before w2 was invoked. nil (absent) is older than every write of its key. Reads
 * are attributed to the write of the value they returned (values are assumed unique per
 * key, as in Jepsen's generators; where a value was written twice, the latest write of it
 * begun before the read ended is assumed). Then, for a read r of key k by session S:
 *  - read-your-writes: r must not return a write older than S's own latest write of k;
 *  - monotonic reads: r must not return a write older than S's previous read of k;
 *  - monotonic writes: if S read w2 (by session T) earlier, and T wrote w1 to k before w2,
 *    r must not return a write older than w1;
 *  - writes-follow-reads: if S read w2 (by T) earlier, and T had read w1 of k before writing
 *    w2, r must not return a write older than w1.
 * Each violation names the pair of operations and the read.
 */
#ifndef CONLAB_SESSIONS_H
#define CONLAB_SESSIONS_H

#include <stdbool.h>

#include "histfile.h"
#include "util.h"

#define SESS_MAX_WRITES 40000   /* larger histories answer "unknown" */
#define SEQ_MAX_OPS 200         /* sequential consistency: larger histories answer "unknown" */

enum sess_guarantee { SG_RYW, SG_MR, SG_MW, SG_WFR };

struct sess_violation {
    enum sess_guarantee g;
    int read;               /* the violating read (op index) */
    int newer;              /* the write the session already knew of (op index) */
    int via;                /* the read or write that carried that knowledge, or -1 */
    int got;                /* the write the read returned, or -1 for nil */
    char *text;             /* plain words */
};

struct sess_result {
    int verdict;            /* 0 all hold, 1 violation, 2 unknown (too large) */
    int n;
    struct sess_violation *v;
    int counts[4];          /* per guarantee */
    int n_reads, n_writes;
};

/* Checks all four guarantees. Returns the verdict, *out set (caller frees). */
int sessions_check(const struct history *h, struct sess_result **out);
void sess_result_free(struct sess_result **r);
void sessions_format(const struct history *h, const struct sess_result *r, struct sb *out);
const char *sess_guarantee_name(enum sess_guarantee g);

/* Sequential consistency: is there one total order of all operations (all keys together)
 * that keeps each process's own order and the register rules — ignoring real time across
 * processes? Appends a verdict and, when it holds, a witness order. Returns 0 yes, 1 no,
 * 2 unknown (more than SEQ_MAX_OPS operations, or the time limit ran out). */
int seqcheck_run(const struct history *h, double time_limit_s, struct sb *out);

/* Convergence: once healed and quiet, do all live replicas hold the same data? Each replica
 * names its node, whether it is live, and its data as n key/value pairs (any order). Appends
 * "converged: ..." or one line per differing key ("x: n1=1 n2=2 n3=(absent)"). Returns 0
 * converged, 1 diverged. */
struct replica {
    const char *node;
    bool live;
    int n;
    const char *const *keys;
    const char *const *values;
};
int convergence_check(const struct replica *r, int n, struct sb *out);

#endif
