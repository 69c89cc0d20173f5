/* txncheck — checkers of transactional histories (txnhist.h):
 *
 *  - serializable: Elle's method (Kingsbury & Alvaro, "Elle: Inferring Isolation Anomalies
 *    from Experimental Observations", VLDB 2020), for list-append and rw-register histories.
 *    It infers each key's version order (list-append: the longest list read, every other read a
 *    prefix of it; registers: nil first, and a transaction that reads v1 then writes v2 orders
 *    v1 before v2), builds the dependency graph of the committed (ok) and possibly committed
 *    (info) transactions — ww (a write follows another's), wr (a read sees a write), rw (a read
 *    misses the next write: an anti-dependency) — and searches it for cycles, naming each
 *    anomaly found: G0 (ww only), G1c (ww and wr), G-single (exactly one rw), G2 (several rw),
 *    plus G1a (a read of an aborted write), G1b (a read of an intermediate write) and
 *    incompatible orders (two list reads neither a prefix of the other).
 *  - bank: Jepsen's bank. The accounts are the keys read by read-only transactions of two
 *    reads or more; every committed transaction that reads them all (a snapshot) must see the
 *    same total, and no balance below zero; a read that misses money names the transfers in
 *    flight at that time.
 *
 * Both append a report a user reads to out and return 0 (holds), 1 (violated) or CL_EINVAL
 * (nothing they can judge, reason in out). They take time linear in the history plus the
 * cycle searches (bounded). Users: `conlab check --serializable|--bank FILE`, the lab's
 * `check serializable` and `check bank`.
 */
#ifndef CONLAB_TXNCHECK_H
#define CONLAB_TXNCHECK_H

#include "txnhist.h"
#include "util.h"

int txncheck_serializable(const struct txnhist *h, struct sb *out);
/* total < 0: the total of the first snapshot read is the one every other must see. */
int txncheck_bank(const struct txnhist *h, long long total, struct sb *out);

/* `conlab check --serializable FILE` and `--bank FILE`: what is "serializable" or "bank".
 * Loads FILE, judges it, appends the report to out (errors to errout); returns the exit status
 * (0 holds, 1 violated, 2 bad input). */
int txncheck_cli(const char *what, const char *file, struct sb *out, struct sb *errout);

#endif
