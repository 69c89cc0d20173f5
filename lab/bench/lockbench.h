/* lockbench — `conlab bench lock`: for each lock service of the lab (the ZooKeeper-like
 * service on zab today; redlock adds its row in lockbench.c's table), on real processes with
 * fsync on: lock/unlock pairs per second with C named clients contending for one lock, whether
 * `check mutex` holds over that run, and the time a waiting client takes the lock after its
 * holder crashed (session timeout plus one round through the log).
 *
 *   conlab bench lock [--clients C] [--seconds S] [--rounds R] [--service NAME] [--json]
 */
#ifndef CONLAB_LOCKBENCH_H
#define CONLAB_LOCKBENCH_H

/* argv[0] is "lock". Prints the figures; returns the exit status. */
int lockbench_main(int argc, char **argv);

#endif
