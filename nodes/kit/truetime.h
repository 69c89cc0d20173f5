/* truetime — a TrueTime-style interval clock (Corbett et al., "Spanner", OSDI 2012, §3).
 *
 * A node cannot know true time; it knows its own clock pt and a bound ε on how far that clock
 * may be from true time. TT.now() is then the interval [pt − ε, pt + ε], which (as long as the
 * bound holds) contains true time. Two questions follow:
 *
 *   TT.after(t)   true time has certainly passed t:      earliest > t
 *   TT.before(t)  true time has certainly not reached t: latest   < t
 *
 * Commit-wait: a transaction stamped s = TT.now().latest is acknowledged only once
 * TT.after(s) — about 2ε later. Then if T1 is acknowledged before T2 starts (in real time),
 * s1 < true time at T1's ack < true time at T2's start ≤ s2: timestamps follow real time
 * (external consistency). The promise holds only while every clock is within ε of true time;
 * in the lab that is the student's `skew` against the ε they chose.
 *
 * Pure: tt_at() takes the node's clock reading; tt_now() reads it through the environment.
 * Users: the spanner mode, the `clocks` command and the dashboard's clocks pane (from a
 * node's status). All times in µs.
 */
#ifndef CONLAB_TRUETIME_H
#define CONLAB_TRUETIME_H

#include <stdint.h>

struct env;

struct tt_interval {
    uint64_t earliest, latest;
};

/* The interval for a clock reading pt and bound eps (earliest never below 0). */
struct tt_interval tt_at(uint64_t pt, uint64_t eps);
/* TT.now() on this node: its physical clock (env_now_us) ± eps. */
struct tt_interval tt_now(struct env *e, uint64_t eps);
/* TT.after(t): earliest > t. TT.before(t): latest < t. At clock reading pt. */
int tt_after(uint64_t pt, uint64_t eps, uint64_t t);
int tt_before(uint64_t pt, uint64_t eps, uint64_t t);
/* How long (µs of this node's clock) until TT.after(t) holds: 0 when it already does. */
uint64_t tt_wait_us(uint64_t pt, uint64_t eps, uint64_t t);

#endif
