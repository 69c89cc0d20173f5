/* room — the classroom: a lab whose cluster spans several hosts (`conlab serve`).
 *
 * The lab binds one ZeroMQ ROUTER on --bind ADDR:PORT, a CURVE server: every connection
 * offers a public key, and the lab's ZAP handler admits only the keys it knows (the cluster
 * file's hosts, serve --allow FILE); an unknown key is refused with an `error` event naming
 * it. Without keys the room binds loopback only. On that one socket:
 *
 *   host agents (`conlab join`, agent.c) say hello; the lab knows each by its key (the
 *   cluster file's host of that key), welcomes it and then spawns, signals and kills that
 *   host's nodes through it, relays their control messages, events and client traffic, and
 *   both sides send heartbeats: an agent that hears nothing from the lab for the timeout
 *   kills its nodes; a host the lab does not hear from is lost (its nodes are down);
 *   attached dashboards (`conlab dash --attach`) say "view" and get every event the lab
 *   collects, after the cluster and the network's shape (late join); read-only, at most
 *   max_viewers at once.
 *
 * Link frames (after the ROUTER's routing id): TYPE, ID (a node id or empty), PAYLOAD.
 * The cluster file (YAML):
 *
 *   mode: raft               # optional: what `start` runs when no mode is named
 *   heartbeat: 500ms         # optional (default 500ms)
 *   timeout: 3s              # optional: agents kill their nodes after this long alone
 *   viewers: 8               # optional: attached dashboards at once (default 8)
 *   hosts:                   # in order: hostA holds n1 n2, hostB n3 n4, hostC n5
 *     - {name: hostA, nodes: 2, key: "<public key of hostA's agent>"}
 *     - {name: hostB, nodes: 2, key: "..."}
 *     - {name: hostC, nodes: 1, key: "..."}
 *   keys:                    # optional: more allowed keys (dashboards)
 *     - {name: alice, key: "..."}
 */
#ifndef CONLAB_ROOM_H
#define CONLAB_ROOM_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <zmq.h>

#include "keys.h"
#include "util.h"

#define ROOM_MAXHOSTS 16
#define ROOM_MAXVIEWERS 64

struct room_host {
    char name[CL_IDLEN];
    int nodes, first;           /* its nodes are first .. first+nodes-1 */
    char key[KEY_Z85];          /* its agent's public key ("" in an open room) */
    int joined;
    unsigned char rid[64];      /* its routing id on the ROUTER */
    size_t ridlen;
    uint64_t heard_us;          /* mono µs of its last message */
    uint64_t sent_us;           /* of our last heartbeat to it */
    char addr[64];              /* where it connects from */
    char nft[160];              /* faults=kernel on this host: "ok", or why not (its hello) */
    char netem[160];            /* tc netem on this host: "ok", or why not */
    json_t *rules;              /* the kernel rules last sent to it (owned), or NULL */
    json_t *counters;           /* its last nft counters (owned), or NULL */
    uint64_t counters_at;       /* mono µs they came */
};

/* The cluster (procs.c) that takes the hosts' node traffic while it runs. */
struct room_sink {
    void *ud;
    void (*ctl)(void *ud, const char *rid, const void *data, size_t len);
    void (*event)(void *ud, const void *data, size_t len);
    void (*reply)(void *ud, const char *id, const void *data, size_t len);
    void (*exited)(void *ud, const char *id, int status, const char *words);
    void (*lost)(void *ud, int host);
};

struct room_config {
    const char *bind;           /* "ADDR:PORT" */
    const char *cluster;        /* the cluster file */
    const char *key;            /* the lab's key file; NULL: a new key for this run */
    const char *allow;          /* more allowed keys; may be NULL */
    void (*on_event)(void *ud, const char *ev, json_t *fields); /* fields stolen */
    void *ud;
};

struct room;

/* Reads the cluster file, binds and starts the ZAP handler. NULL with err on failure. */
struct room *room_open(const struct room_config *cfg, char *err, size_t errlen);
void room_close(struct room **r);

/* The room's sockets to poll (at most 2); room_dispatch handles whatever is ready. */
int room_items(struct room *r, zmq_pollitem_t *items);
void room_dispatch(struct room *r);
/* Polls the room (and fd when >= 0) for at most timeout_us: 1 fd readable, 2 activity, 0. */
int room_pump(struct room *r, uint64_t timeout_us, int fd);
/* Heartbeats out, silent hosts lost, silent viewers forgotten. */
void room_tick(struct room *r, uint64_t now_us);
/* Every attached dashboard gets ev (never blocks: a slow viewer loses events). */
void room_publish(struct room *r, const json_t *ev);
/* What a dashboard that attaches later must see first (borrowed; NULL clears). */
void room_set_snapshot(struct room *r, const json_t *cluster_ev, const json_t *net_ev);
void room_set_sink(struct room *r, const struct room_sink *sink);

int room_nhosts(const struct room *r);
const struct room_host *room_host(const struct room *r, int h);
int room_nodes(const struct room *r);           /* the cluster file's node count */
int room_host_of(const struct room *r, int idx); /* node idx's host, -1 when none */
int room_host_find(const struct room *r, const char *name);
const char *room_mode(const struct room *r);    /* the cluster file's mode, or NULL */
const char *room_server_key(const struct room *r);
const char *room_endpoint(const struct room *r); /* tcp://ADDR:PORT */
int room_viewers(const struct room *r);
/* Sends one link message to host h's agent. 0, or CL_ESTATE when it is not joined. */
int room_send(struct room *r, int h, const char *type, const char *id, const void *data, size_t len);
/* Waits (pumping the room) until every host has joined or timeout_us passed: 0 or
 * CL_ETIMEOUT with the missing hosts named in err. */
int room_wait_hosts(struct room *r, uint64_t timeout_us, char *err, size_t errlen);
/* A description for `hosts` / `endpoints`. */
void room_describe(const struct room *r, struct sb *out);

/* faults kernel: is it on? (the cluster pushes its faults accordingly: procs.c) */
int room_kernel(const struct room *r);
void room_set_kernel(struct room *r, int on);
/* The kernel rules sent to host h (stolen; NULL: none): sends them to its agent. */
int room_send_rules(struct room *r, int h, json_t *rules);
/* Asks every joined host with rules for its nft counters and pumps until they came or
 * timeout_us passed (they land in room_host()->counters). Waits: never inside the loop. */
void room_fetch_counters(struct room *r, uint64_t timeout_us);

/* Checks a cluster file's text without binding anything: 0 (*nodes: how many it holds) or
 * CL_EINVAL with "NAME:LINE:COL: what" in err. */
int room_cluster_check(const char *buf, size_t len, const char *name, int *nodes, char *err, size_t errlen);

/* Is ADDR (of "ADDR:PORT") a loopback address? */
int room_is_loopback(const char *addr);

#endif
