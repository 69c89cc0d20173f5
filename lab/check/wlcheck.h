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

/* Maelstrom's g-counter and pn-counter (`conlab check --g-counter|--pn-counter`, `check counter`
 * in the lab): ops with f `add`, value a whole-number delta, and f `read`, value the total (nil
 * is 0), grouped by key (no key: one counter). Two rules:
 *   - every ok read r lies in [lo, hi]: mine = the deltas of the adds acknowledged before r began
 *     through r's own reader (node, else process: read-your-writes at a node, which an eventually
 *     consistent counter keeps even while partitioned); every other add not failed and invoked
 *     before r ended may or may not be in it: lo = mine + its negative deltas, hi = mine + its
 *     positive ones;
 *   - a final read (each reader's last ok read that began after every add ended, and after
 *     quiet_from: the last fault, in the lab) is the sum of the acknowledged deltas plus some
 *     subset of the indeterminate (info) ones (Maelstrom's rule).
 * g-counter refuses a negative delta (cannot judge, 2). Returns 0 valid, 1 not, 2 cannot judge.
 * quiet_from INT64_MIN: none. */
int wlcheck_counter_at(const struct history *h, int pn, int64_t quiet_from, struct sb *out);
int wlcheck_gcounter(const struct history *h, struct sb *out);
int wlcheck_pncounter(const struct history *h, struct sb *out);
/* An OR-Set (add wins) over ops `add`/`remove` (value the element) and reads of the set, key by
 * key: no lost adds — an acknowledged add that no remove of its element invoked after the add
 * began could have observed is in every final read (as above) — and nothing read that was never
 * added. A remove invoked later is given the benefit of the doubt (it may have observed the add);
 * whether a removed element is gone is not judged (an add-wins set keeps it when an add was
 * concurrent). */
int wlcheck_orset_at(const struct history *h, int64_t quiet_from, struct sb *out);
int wlcheck_orset(const struct history *h, struct sb *out);
/* Every key of a history judged by what its reads are: numbers as a pn-counter, sets as an
 * OR-Set. Returns -1 when no key is either (nothing appended). */
int wlcheck_workload_at(const struct history *h, int64_t quiet_from, struct sb *out);

#endif
