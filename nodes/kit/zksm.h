/* zksm — a ZooKeeper-like data tree as a state machine a replicated log feeds (Hunt et al.,
 * "ZooKeeper: wait-free coordination for Internet-scale systems", USENIX ATC 2010; the
 * ZooKeeper programmer's guide). Every replica applies the same operations in the same order
 * and so holds the same tree, the same sessions and the same watches.
 *
 * znodes: a tree of paths ("/locks/orders/lock-0000000034"), each with data (any JSON value:
 * "config", 42, {"a":[1]}; kept as kvsm's entry text, kvsm.h, and answered with its type), a
 * version (bumped by every set), czxid/mzxid (the log index that created / last changed it),
 * a cversion and a sequence counter for its children. A znode is persistent, or ephemeral
 * (owned by a session: it goes when the session goes; it cannot have children); a sequential
 * create appends the parent's counter to the name, ten digits, so that names sort in creation
 * order.
 *
 * Sessions: opened through the log (the session id is the index of the open entry) with a
 * timeout; kept alive by heartbeats that never enter the log; closed through the log, by the
 * client or by the leader when it heard no heartbeat for the timeout ("expired"). Closing
 * deletes the session's ephemeral znodes in that same entry: every replica agrees on the
 * index at which an ephemeral znode vanished, which is exactly the index at which its session
 * expired.
 *
 * Watches: one-shot. get/exists set a data watch on a path, children a child watch; the first
 * change that triggers one removes it and reports it once (zksm_apply's `fired`): create P
 * fires P's data watches ("created") and the parent's child watches ("children"); delete P
 * fires P's data and child watches ("deleted") and the parent's child watches; set P fires P's
 * data watches ("changed"). A watch's id is the index of the entry that set it.
 *
 * Operations (JSON objects, "op" names one; checked by zksm_check_op before proposing):
 *   open {timeout}                              -> {session}
 *   close {session, why?}                       -> {deleted:[paths]}
 *   create {path, data?, ephemeral?, sequential?, session?, parents?} -> {path, czxid}
 *   delete {path, version?}  set {path, data, version?}   (version -1 or absent: any)
 *   get {path, watch?} -> {data, stat}   exists {path, watch?} -> {stat|null}
 *   children {path, watch?} -> {children:[names, sorted], data:{name:data}}
 *   sync -> {index}
 * Errors: {"error":code,"text":…} with Maelstrom's codes: 20 no node, 21 node exists,
 * 22 bad version / not empty / ephemeral parent, 14 session expired or unknown, 12 malformed.
 *
 * Pure (no clock, no I/O). Users: zab (`service=zk`). Ownership: zksm_init()/zksm_free();
 * results are new references (caller frees).
 */
#ifndef CONLAB_ZKSM_H
#define CONLAB_ZKSM_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define ZK_MAX_PATH 512
#define ZK_MAX_DATA 4096
#define ZK_MAX_NODES 100000

struct zk_node {
    char *path, *data;          /* data: kvsm_value_encode's text (kvsm_value_decode reads it) */
    uint64_t czxid, mzxid;      /* log indexes */
    int64_t version, cversion;
    uint64_t owner;             /* session id of an ephemeral node, 0 persistent */
    uint64_t seq;               /* the next sequence number of its sequential children */
};

struct zk_session {
    uint64_t id;                /* the index of its open entry */
    uint64_t timeout_us;
    char client[CL_IDLEN];
};

struct zk_watch {
    uint64_t id;                /* the index of the entry that set it */
    char client[CL_IDLEN];
    char *path;
    int child;                  /* 1 child watch, 0 data watch */
};

struct zksm {
    struct zk_node *n;
    size_t nn, capn;
    struct zk_session *s;
    size_t ns, caps;
    struct zk_watch *w;
    size_t nw, capw;
};

void zksm_init(struct zksm *z);
void zksm_free(struct zksm *z);
/* 0 when op is a well-formed operation (the shape only: the tree may still refuse it), else
 * CL_EINVAL with what is wrong in err ("path must start with /"). */
int zksm_check_op(const json_t *op, char *err, size_t errlen);
/* Applies op (borrowed) set by client at log index; returns the result object (caller frees):
 * the fields above, or {"error":code,"text":…}. Appends the watches it fired to fired (an
 * array, may be NULL): {"client","watch","path","event"}. */
json_t *zksm_apply(struct zksm *z, uint64_t index, const char *client, const json_t *op, json_t *fired);
/* The session, or NULL. */
const struct zk_session *zksm_session(const struct zksm *z, uint64_t id);
/* The znode at path, or NULL (borrowed until the next apply). */
const struct zk_node *zksm_get(const struct zksm *z, const char *path);
/* Every znode as {path: data} (for status and convergence). Caller frees. */
json_t *zksm_data(const struct zksm *z);
/* The whole state (snapshots): {"nodes":[…],"sessions":[…],"watches":[…]}. Caller frees. */
json_t *zksm_state(const struct zksm *z);
/* Replaces the state with the one given; 0, or CL_EINVAL (state unchanged) when malformed. */
int zksm_set_state(struct zksm *z, const json_t *st, char *err, size_t errlen);
/* "create /locks/orders/lock- (ephemeral, sequential)": one line for events and logs. Caller
 * frees. */
char *zksm_op_text(const json_t *op);

#endif
