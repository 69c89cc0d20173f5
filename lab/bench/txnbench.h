/* txnbench — `conlab bench txn`: transfers per second, p50/p99, aborts, and messages and
 * fsyncs per transaction, for each protocol of the mode that takes `transfer` requests (2PC,
 * 3PC, sagas), on real processes with fsync on, in one run.
 *
 *   conlab bench txn [--nodes N] [--clients C] [--seconds S] [--accounts A] [--json]
 */
#ifndef CONLAB_TXNBENCH_H
#define CONLAB_TXNBENCH_H

/* argv[0] is "txn". Prints the figures; returns the exit status. */
int txnbench_main(int argc, char **argv, const char *argv0);

#endif
