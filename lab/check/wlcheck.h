/* wlcheck — checkers of Maelstrom's set-like workloads over a history: g-set (clients `add` an
 * element, `read` the set) and broadcast (clients `broadcast` a message, `read` the messages a
 * node has seen). The rule of Maelstrom's (and Jepsen's set) checker: every element whose add
 * was acknowledged is in the final read of every node that was read (else *lost*, naming the
 * node), and no read holds an element nobody tried to add (*unexpected*). Reads that miss an
 * element acknowledged before they began are counted (*stale*: allowed, eventual), as are
 * elements whose add was never acknowledged but that were read (*recovered*).
 *
 * The history: conlab JSONL or Jepsen/Maelstrom EDN, ops with f `add` (g-set) or `broadcast`,
 * value the element; f `read`, value the set read (a JSON array, EDN #{…} or […]). A read's
 * node is its "node" (JSONL), else its process. Values compare as their JSON text.
 */
#ifndef CONLAB_WLCHECK_H
#define CONLAB_WLCHECK_H

#include "histfile.h"
#include "util.h"

/* add_f: "add" or "broadcast". Appends the report; returns 0 valid, 1 not, 2 cannot judge (no
 * acknowledged operation or no successful read). */
int wlcheck_set(const struct history *h, const char *add_f, struct sb *out);
int wlcheck_gset(const struct history *h, struct sb *out);
int wlcheck_broadcast(const struct history *h, struct sb *out);

#endif
