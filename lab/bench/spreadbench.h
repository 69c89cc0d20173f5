/* spreadbench — `conlab bench spread`: how many rounds a broadcast takes to reach every node,
 * in the deterministic simulator, from 16 up to 1,000 nodes (CL_SIM_MAXNODES), for any mode
 * whose face has spread_round (mode.h): for each of the mode's spread_runs (push, push-pull, …)
 * and each size, the distribution over seeds (mean, p50, p90, max) beside log2 N + ln N (push,
 * Pittel 1987) and log3 N + ln ln N (push-pull, Karp et al. 2000), and what each run cost: its
 * virtual time, wall time, messages and the memory it took (the process's resident growth).
 * Events are off (no monitor): the figures are the simulator's own cost.
 *
 *   conlab bench spread [--mode M] [--nodes 16,64,1000] [--seeds S] [--opt key=value]... [--json]
 *   conlab bench --mode M ...   (the same, for a mode with spread_round)
 */
#ifndef CONLAB_SPREADBENCH_H
#define CONLAB_SPREADBENCH_H

#include <stdint.h>

#include "mode.h"

struct spread_result {
    long rounds;            /* the largest round any node learned the broadcast in; -1: not all */
    int holders;            /* nodes that hold it at the end */
    uint64_t virtual_us;    /* from the broadcast until every node held it */
    uint64_t wall_us;       /* real time the whole run took (boot included) */
    uint64_t messages;      /* messages delivered in the run */
    size_t rss_bytes;       /* resident memory at the end, over what was resident before (the
                             * bench runs each run in a child process of its own) */
};

/* One run: n nodes of mode m with options o, seed; a broadcast from n1; runs until every node
 * holds it or 120 virtual seconds pass. 0 and *out, or a negative error with err. */
int spread_run(const struct mode *m, int n, const struct opts *o, uint64_t seed, struct spread_result *out,
               char *err, size_t errlen);

/* The sub-command; argv[0] is "spread" (or "bench", from `conlab bench --mode M`). */
int spreadbench_main(int argc, char **argv);

#endif
