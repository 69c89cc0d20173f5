/* bench — `conlab bench`: load generators and timings that print figures (never pass/fail).
 *   conlab bench [--mode M] [--nodes N] [--clients C] [--seconds S] [--reads PCT] [--keys K]
 *                [--elections T] [--opt key=value]... [--json]
 *   conlab bench foundation      start time, put round trip vs bare ZeroMQ, idle CPU, RSS
 * Other sub-benchmarks (check, dash) are registered by their modules. */
#ifndef CONLAB_BENCH_H
#define CONLAB_BENCH_H

int bench_main(int argc, char **argv, const char *argv0);

#endif
