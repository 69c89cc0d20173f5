/* checkbench — `conlab bench check`: how fast the linearizability checker is, in figures.
 * For each history file given (or every .edn/.jsonl under tests/data/jepsen and tests/data/kv)
 * and for a generated history, it forks a child that loads and checks the history, and
 * prints the verdict, the check time and the child's peak RSS. Also the generator of
 * linearizable-by-construction histories the tests and the benchmark share. */
#ifndef CONLAB_CHECKBENCH_H
#define CONLAB_CHECKBENCH_H

#include <stdint.h>

#include "histfile.h"

/* conlab bench check [--ops N] [--procs P] [--keys K] [--seed S] [--info PCT] [--write FILE]
 *                    [FILE|DIR...]
 * Prints a table; returns 0, or 2 on bad usage. --write saves the generated history (EDN)
 * and exits. */
int checkbench_main(int argc, char **argv);

/* A linearizable history by construction: n_ops operations (read 50 %, write 30 %, cas 20 %,
 * values 0..4) by procs processes over keys keys ("k0".. or no key when keys == 0), each
 * taking effect at a random instant inside its interval; info_pct % of writes and cas time
 * out (info) and take effect or not at random. Times in ns. Caller frees. */
struct history *checkbench_generate(int n_ops, int procs, int keys, int info_pct,
                                    uint64_t seed);

#endif
