/* txn — distributed transactions (two-phase commit, three-phase commit, sagas): the mode's
 * shared declarations. txn.c is the protocol (coordinator n1, participants n2..nN, each the
 * shard of some keys); txnmon.c is its live invariant monitor (atomicity, no unilateral
 * abort after a YES vote, a decision durable before it is sent, compensations in reverse). */
#ifndef CONLAB_TXN_H
#define CONLAB_TXN_H

#include "mode.h"

extern const struct mode mode_txn;
extern const struct mode_monitor txn_monitor;

/* The participant (node index, 1..n-1) that holds key in a cluster of n nodes: the bank's
 * accounts (alice, bob, carol, …) round-robin over the participants, any other key by hash.
 * Returns -1 when n < 2 (no participant). Pure. */
int txn_shard(int n, const char *key);

/* The name of bank account i (0-based) when i < txn_account_count(): "alice", "bob", … */
const char *txn_account_name(int i);
int txn_account_count(void);

#endif
