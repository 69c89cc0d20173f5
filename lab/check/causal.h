/* causal — causal consistency of a history (Ahamad et al. 1995; COPS, Lloyd et al. 2011):
 * once a session has observed a write, it must never again observe the world without that
 * write's causes.
 *
 * Sessions. A session is a client process at one node ((process, node) pairs): COPS's clients
 * stay in their data centre, and the lab's REPL plays several people by asking several nodes
 * (`put post x @n1`, `get post @n2` …). Operations of a session are ordered as invoked.
 *
 * Causality. A write w depends on everything its session had observed when w was invoked: the
 * session's earlier writes, the writes it read, and — transitively — their dependencies.
 * Reads are attributed to the write of the value they returned (values are assumed unique per
 * key; a value written twice is taken from its latest write begun before the read ended).
 *
 * A read r of key k by session S is a violation when S had observed a write w' of k (itself,
 * or as a cause of something it observed) and r returns
 *   - nil: the effect was seen without its cause (the reply before the post), or
 *   - a write strictly older than w' in causal order (a cause of w').
 * A concurrent write of k is allowed (causal+ resolves it one way on every replica). Each
 * violation names the read, the write it should have seen, and the chain through which the
 * session came to depend on it. Only completed (ok) reads are judged; a write whose outcome is
 * unknown (info) may be read, but nobody depends on it unless someone read it.
 */
#ifndef CONLAB_CAUSAL_H
#define CONLAB_CAUSAL_H

#include "histfile.h"
#include "util.h"

#define CAUSAL_MAX_WRITES 20000   /* larger histories answer "unknown" */

/* Judges h and appends a report (each violation in words, at most a few) to out. Returns 0
 * causal, 1 a violation, 2 unknown (too many writes). */
int causal_check(const struct history *h, struct sb *out);

#endif
