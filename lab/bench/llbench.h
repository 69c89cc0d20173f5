/* llbench — the leaderless mode's simulator figure: how long Merkle-tree anti-entropy takes
 * to repair a replica that missed many writes (issue 8). Throughput and latency at cl=one,
 * quorum and all come from real processes (`conlab bench`), not from here. */
#ifndef CONLAB_LLBENCH_H
#define CONLAB_LLBENCH_H

#include <stddef.h>
#include <stdint.h>

struct llbench_ae {
    long keys;              /* divergent keys written while one replica was cut off */
    long repaired;          /* keys the replica holds at the end */
    uint64_t virtual_us;    /* simulated time from heal until the replica holds them all */
    uint64_t first_exchange_us; /* from heal until the first exchange started */
    uint64_t exchange_us;   /* time inside the exchanges that repaired something (summed) */
    uint64_t exchanges;     /* anti-entropy exchanges that repaired something */
    uint64_t batches;       /* ae_push/ae_pull round trips in those exchanges */
    uint64_t wall_us;       /* real time the simulator took for the repair phase */
};

/* Three nodes, n=3 w=2: cuts n3 off, writes `keys` keys through n1 and n2, heals, and runs
 * the simulator (reads and read repair off, ae_interval=1s) until n3 holds every key or 120
 * virtual seconds pass. Returns 0 and fills *out, or a negative error with err filled. */
int llbench_ae_repair(long keys, uint64_t seed, struct llbench_ae *out, char *err, size_t errlen);

#endif
