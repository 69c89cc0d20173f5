/* swim — the swim mode's monitor (swimmon.c), shared with its face and its tests. */
#ifndef CONLAB_SWIM_H
#define CONLAB_SWIM_H

#include "mode.h"

/* The live monitor: Incarnation (a node's own incarnation never goes down, across restarts)
 * and Resurrection (no member is seen alive again at an incarnation at or below the one it was
 * confirmed dead at), plus each member's view of every other (from `member` events), which
 * nodes are crashed or paused (the lab's faults), and the false positives: members suspected
 * or declared dead while up and not paused. */
extern const struct mode_monitor swimmon_ops;

/* `wait dead NODE`, `wait alive NODE`: mode_wait.holds over a swimmon state. */
int swimmon_wait_dead(void *mon, int argc, char **argv, struct sb *says);
int swimmon_wait_alive(void *mon, int argc, char **argv, struct sb *says);

/* How many up members (other than node idx) hold idx in status ("alive", "suspect", "dead"),
 * and how many up members there are besides it. */
int swimmon_count(void *mon, int idx, const char *status, int *others);
/* Suspicions and dead declarations so far of members that were up and not paused then. */
void swimmon_false_positives(void *mon, int *suspects, int *deads);
/* µs between node idx's crash (the lab's fault event) and the moment the last up member held it
 * dead; 0 when not (yet) known. */
uint64_t swimmon_detect_us(void *mon, int idx);

#endif
