/* esbench — `conlab bench events`: appends/s and p50/p99 on the event store (optimistic
 * concurrency, version conflicts counted) against writes/s on a peer mode with an elected
 * leader, in one run on real processes with fsync on; then the replay times of a projection
 * rebuilt from position 0 and of a replica crashed and restarted.
 *
 *   conlab bench events [--nodes N] [--clients C] [--seconds S] [--streams K] [--peer M] [--json]
 */
#ifndef CONLAB_ESBENCH_H
#define CONLAB_ESBENCH_H

/* argv[0] is "events". Prints the figures; returns the exit status. */
int esbench_main(int argc, char **argv, const char *argv0);

#endif
