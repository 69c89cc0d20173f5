/* cluster — the lab's handle on a running cluster, whichever way it runs: real node
 * processes (procs.c) or the simulator hosted in the lab (simhost.c). The lab, the gateway and
 * the commands talk only to this interface, so every command works the same in both.
 *
 * The cluster owns the fault state (struct faults) and the clock faults, and pushes them to
 * the nodes; it reports everything the nodes emit through on_event, every client reply
 * through on_reply and every status asked with status_request through on_status (set by the
 * lab after the start). Ownership: callbacks borrow what they get; client_send steals body.
 */
#ifndef CONLAB_CLUSTER_H
#define CONLAB_CLUSTER_H

#include <jansson.h>
#include <stdint.h>

#include "faults.h"
#include "mode.h"

enum node_state { NODE_UP, NODE_DOWN, NODE_PAUSED, NODE_STARTING };

struct cluster;
struct room;

struct cluster_ops {
    int (*client_send)(struct cluster *c, int idx, const char *client, json_t *body);
    /* Runs the cluster until timeout_us passes, fd (when >= 0) is readable, or something
     * happened (a message, event or reply was handled). Returns 1 when fd became readable,
     * 2 after activity, 0 on timeout. Callers loop on their own condition. */
    int (*pump)(struct cluster *c, uint64_t timeout_us, int fd);
    int (*crash)(struct cluster *c, int idx);
    int (*restart)(struct cluster *c, int idx);
    int (*pause)(struct cluster *c, int idx);
    int (*resume)(struct cluster *c, int idx);
    void (*push_faults)(struct cluster *c);
    void (*push_clock)(struct cluster *c, int idx);
    void (*push_speed)(struct cluster *c);
    /* The node's status (docs/protocol.md §2), or NULL when it is down or does not answer
     * within 3 s. Brief (statusbrief.h). Caller frees. Waits: the lab uses status_request. */
    json_t *(*status)(struct cluster *c, int idx);
    /* Asks for the node's status without waiting; the reply reaches on_status (from the
     * pump, or at once in the simulator). Returns 0, or CL_ESTATE when the node is not up. */
    int (*status_request)(struct cluster *c, int idx);
    /* Runs a mode command on node idx. Caller frees the {"ok":..,"text":..} reply. */
    json_t *(*command)(struct cluster *c, int idx, const char *name, int argc, char **argv);
    /* The node's client endpoint ("tcp://127.0.0.1:7101", or "sim" in the simulator). */
    const char *(*endpoint)(struct cluster *c, int idx);
    /* Adds a node (membership change); returns its index or a negative error. */
    int (*add_node)(struct cluster *c, char *err, size_t errlen);
    /* `spoof` (fallacy 4): sends body (stolen) to node idx's peer socket under the sender id
     * `as`, from a socket of the lab's own: an attacker on this machine. With auth=curve it
     * offers a CURVE key of its own (key_of < 0) or node key_of's real key (a stolen key);
     * with auth=off it takes the routing id `as`. Returns 0 when it left (what the node makes
     * of it shows in the node's events), or a negative error with err. */
    int (*spoof)(struct cluster *c, int idx, const char *as, int key_of, json_t *body, char *err, size_t errlen);
    void (*destroy)(struct cluster *c);
    /* Statuses are brief (statusbrief.h): the data comes on demand, a page of node idx's data
     * at a time (the keys after `after`, NULL from the first; or key alone), or NULL when the
     * node is down or does not answer. *more is 1 when keys remain. Caller frees. Waits. */
    json_t *(*data)(struct cluster *c, int idx, const char *after, const char *key, int *more);
    /* The node's peer endpoint (where the other nodes connect), or NULL (simulator). */
    const char *(*peer_endpoint)(struct cluster *c, int idx);
    /* The endpoint where the nodes push their events, for other processes of the lab that
     * report the same way (the named clients, lab/coord); NULL when there is none (the
     * simulator). May be NULL. */
    const char *(*events_endpoint)(struct cluster *c);
};

struct cluster {
    const struct cluster_ops *ops;
    const struct mode *mode;
    int n;
    struct opts opts;
    double speed;
    uint64_t seed;
    int sim;                          /* hosted simulator? */
    struct faults faults;
    int64_t skew_us[CL_MAXNODES];
    uint64_t strobe_us[CL_MAXNODES], strobe_period_us[CL_MAXNODES];
    enum node_state state[CL_MAXNODES];
    uint64_t t0_us;                   /* when the cluster started (mono, or virtual 0) */
    void (*on_event)(void *ud, const json_t *ev);
    void (*on_reply)(void *ud, int idx, const char *client, const json_t *body);
    void (*on_status)(void *ud, int idx, const json_t *status);
    void *ud;
    /* Why the last restart or add_node failed, in the node's own words when it left any
     * ("" when nothing failed or nothing was said). */
    char error[512];
    /* simulator only */
    int frozen;
    uint64_t events_seen;
    /* `clock drift NODE PPM` and `ntp on|off` (clocks.h): pushed with the skew */
    int64_t drift_ppm[CL_MAXNODES];
    int ntp;
    uint64_t ntp_poll_us, ntp_err_us;
};

struct cluster_config {
    const struct mode *mode;
    int n;
    const struct opts *opts;
    double speed;
    uint64_t seed;
    const char *node_bin;             /* path of conlab-node (procs only) */
    const char *run_dir;              /* per-lab run directory (procs only) */
    void (*on_event)(void *ud, const json_t *ev);
    void (*on_reply)(void *ud, int idx, const char *client, const json_t *body);
    void *ud;
    struct room *room;                /* classroom (room.h): nodes on its hosts (procs only) */
};

/* Starts N real node processes and waits (up to 10 s) until every one has registered.
 * Returns NULL and fills err on failure (nothing is left running). */
struct cluster *procs_start(const struct cluster_config *cfg, char *err, size_t errlen);
/* Starts the simulator in the lab. */
struct cluster *simhost_start(const struct cluster_config *cfg, char *err, size_t errlen);

/* Simulator controls (no-ops with CL_ESTATE for processes). */
int simhost_freeze(struct cluster *c, int on);
int simhost_step(struct cluster *c, int n, int *ran);

/* Current time of the cluster in µs since its start (virtual time in the simulator). */
uint64_t cluster_now(const struct cluster *c);
void cluster_destroy(struct cluster **c);
const char *node_state_name(enum node_state s);

#endif
