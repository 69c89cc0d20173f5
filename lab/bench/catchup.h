/* catchup — `conlab bench catchup`: how long a replica that missed many writes takes to
 * catch up once the network heals, for any mode whose clients speak lin-kv (anti-entropy in
 * a Dynamo ring, log replication or a snapshot in Raft, …). Runs in the simulator, so the
 * figure is virtual time and repeatable from its seed; the wall time says what it cost.
 *
 *   conlab bench catchup [--mode M] [--nodes N] [--keys K] [--seed S] [--opt key=value]... [--json]
 */
#ifndef CONLAB_CATCHUP_H
#define CONLAB_CATCHUP_H

#include <stdint.h>

#include "mode.h"

struct catchup_result {
    long keys;              /* keys written while the last node was cut off */
    long want;              /* of those, the keys the cut-off node should hold (its replicas) */
    long held;              /* keys it holds at the end */
    uint64_t virtual_us;    /* simulated time from heal until it held them all */
    uint64_t wall_us;       /* real time the simulator took for that */
    uint64_t messages;      /* messages sent between nodes from heal until then */
    json_t *by_type;        /* {message type: count} over those (caller frees) */
    json_t *mode_events;    /* {event name: count}: the mode's own events over that time */
};

/* Cuts node N off, writes `keys` keys through the others (following redirects to a leader),
 * heals, and runs the simulator until node N holds every key whose replicas include it, or
 * 120 virtual seconds pass. Returns 0 and fills *out, or a negative error with err filled. */
int catchup_run(const struct mode *m, int nodes, const struct opts *o, long keys, uint64_t seed,
                struct catchup_result *out, char *err, size_t errlen);

/* The sub-command; argv[0] is "catchup". Returns the exit status. */
int catchup_main(int argc, char **argv);

#endif
