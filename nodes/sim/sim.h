/* sim — the deterministic simulator (DESIGN §3): every node of a cluster in one process,
 * virtual time, one seeded RNG, the fault model of faults.h, in-memory disks that lose
 * whatever was not synced when a node crashes. The same seed gives the same run, event for
 * event. Tests drive it directly; the lab hosts it for `start MODE N sim=on seed=S`.
 *
 * Time is in virtual microseconds from 0. Each message takes net_us (default 500 µs) plus
 * its fault delay; links are FIFO unless jitter or reordering says otherwise.
 * Ownership: sim_client_send() steals body; callbacks borrow what they are given.
 */
#ifndef CONLAB_SIM_H
#define CONLAB_SIM_H

#include <jansson.h>
#include <stdint.h>

#include "clocks.h"
#include "faults.h"
#include "mode.h"

struct sim;

/* n is 1 to mode_sim_max_nodes(m). Returns NULL and fills err when the mode refuses its
 * options. Memory grows with what is in use (the nodes, the links that carry a message or a
 * bandwidth queue), not with n²: a 1,000-node gossip cluster is measured in docs/bench.md. */
struct sim *sim_new(const struct mode *m, int n, const struct opts *o, uint64_t seed, char *err,
                    size_t errlen);
void sim_destroy(struct sim **s);

/* Every event, as the runtime would PUSH it: {"seq":..,"t":µs,"node":"n1","ev":..,...}.
 * When no callback is set, send/recv/drop events are not even built (fast sweeps). */
void sim_on_event(struct sim *s, void (*cb)(void *ud, const json_t *ev), void *ud);
/* Bodies that nodes send to client ids (anything not a node id). */
void sim_on_reply(struct sim *s,
                  void (*cb)(void *ud, const char *node, const char *client, const json_t *body),
                  void *ud);
/* Delivers a client request to node idx after net_us; clients stand beside each node, so
 * partitions do not apply. Steals body. Returns CL_ESTATE when the node is down. */
int sim_client_send(struct sim *s, int idx, const char *client, json_t *body);

/* Runs the next queued item (message, timer, resume). Returns 0 when nothing is queued. */
int sim_step(struct sim *s);
/* Runs every item due up to now + us, then sets the clock to now + us. */
void sim_run_for(struct sim *s, uint64_t us);
/* Runs until pred(ud) holds (checked after each item) or `us` passes; 1 when it held. */
int sim_run_until(struct sim *s, uint64_t us, int (*pred)(void *ud, struct sim *s), void *ud);
uint64_t sim_now(const struct sim *s);
/* Time of the next queued item, or UINT64_MAX. */
uint64_t sim_next_time(const struct sim *s);
/* An FNV-1a hash over every event so far (scenario H7: same seed, same hash). Events are
 * hashed even with no callback set only when sim_trace_hash_enable() was called first. */
void sim_trace_hash_enable(struct sim *s);
uint64_t sim_trace_hash(const struct sim *s);

int sim_size(const struct sim *s);
const struct mode *sim_mode(const struct sim *s);
struct faults *sim_faults(struct sim *s);   /* edit in place; applies to later sends (NULL over
                                             * CL_MAXNODES nodes: see sim_partition) */
/* Replaces the fault rules; a link whose bandwidth changed paces the frames already queued on
 * it anew (all go at once when its bandwidth is removed), as on real processes. */
void sim_set_faults(struct sim *s, const struct faults *f);
/* Clusters over CL_MAXNODES nodes (up to the mode's sim_max_nodes, at most CL_SIM_MAXNODES)
 * keep no dense fault tables: sim_faults() returns NULL there and sim_set_faults() does
 * nothing. Their network faults are a partition into groups and one link fault for every link
 * (no bandwidth), set with these three, which work at any size (on the fault tables up to
 * CL_MAXNODES). sim_partition takes "n1-n500 | n501-n1000" (nodes, ranges, commas; the nodes
 * not named join the last group); 0, or CL_EINVAL with err. */
int sim_partition(struct sim *s, const char *spec, char *err, size_t errlen);
void sim_heal(struct sim *s);
void sim_set_link_all(struct sim *s, const struct link_fault *lf);
struct rng *sim_rng(struct sim *s);
void sim_set_net_us(struct sim *s, uint64_t us);
/* The runtime's slow motion, modelled: timers take delay / f of virtual time (armed ones are
 * stretched at once) while messages and the nodes' clocks keep their pace, as with
 * `speed f` on real processes. The lab's sim=on host does not use it: there the whole
 * virtual clock is paced by the speed instead. Default 1. */
void sim_set_speed(struct sim *s, double f);

/* Process faults. crash drops the node's state, timers, unsynced disk and delayed outgoing
 * messages; restart creates it again from its disk; pause holds its input until resume. */
void sim_crash(struct sim *s, int idx);
void sim_restart(struct sim *s, int idx);
void sim_pause(struct sim *s, int idx);
void sim_resume(struct sim *s, int idx);
enum sim_node_state { SIM_UP, SIM_DOWN, SIM_PAUSED };
enum sim_node_state sim_node_state(const struct sim *s, int idx);

/* The mode's state of node idx (NULL when down), for invariant checks. Borrowed. */
void *sim_state(struct sim *s, int idx);
/* mode->status() of node idx, or {"state":"down"}. Caller frees. */
json_t *sim_status(struct sim *s, int idx);
struct clocks *sim_clocks(struct sim *s, int idx);
/* Node idx's physical clock now (µs; its skew applied): what its env's now_us says. */
uint64_t sim_node_now_us(const struct sim *s, int idx);
/* Runs a mode command on node idx; caller frees the reply. */
json_t *sim_command(struct sim *s, int idx, const char *name, int argc, char **argv);
/* Counters: messages sent, delivered and dropped so far. */
void sim_counts(const struct sim *s, uint64_t *sent, uint64_t *delivered, uint64_t *dropped);
/* Sets an option for nodes created or restarted from now on (e.g. raft's join=). */
void sim_set_opt(struct sim *s, const char *key, const char *val);
/* Adds a node to the simulated cluster (membership change); returns its index or -1. */
int sim_add_node(struct sim *s);
/* Messages whose JSON body is over bytes are dropped by the sender with a `drop` event (why
 * "too big"), as the runtime drops frames over its cap; sim_too_big() counts them. 0 (the
 * default) sets no cap: measuring each body costs time. */
void sim_set_frame_cap(struct sim *s, size_t bytes);
uint64_t sim_too_big(const struct sim *s);

#endif
