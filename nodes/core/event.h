/* event — the event stream as types (docs/protocol.md §3): the kinds, their names, and one
 * decoder from a JSON event into a typed struct. Everything that reads events goes through
 * it: the lab (its view of the nodes, the hooks), the dashboard model, the invariant
 * monitors, the bench and the lessons. What a `state` event or a status snapshot says about a
 * node is folded in one place, event_view_fold().
 *
 * The decoder never copies: every pointer in a struct event borrows from the JSON object it
 * was decoded from, and lives as long as that object. A field of the wrong type is treated as
 * absent (the first such field is named in bad_field), so one bad field never hides the rest
 * of an event; only a value that is not an object with a string "ev" is refused.
 *
 * Role classes. Each mode names its own roles ("leader", "precandidate", "replica", …); its
 * face (mode.h) maps each to a class, which the dashboard colours and the lab uses to resolve
 * the node alias `leader`. The `cluster` event carries that table (docs/protocol.md §3), so a
 * saved trace and `conlab dash` colour roles without knowing the mode.
 */
#ifndef CONLAB_EVENT_H
#define CONLAB_EVENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "util.h"

enum ev_kind {
    EV_OTHER = 0,   /* a mode's own event (hint, repair, fenced, …): name and json only */
    /* emitted by the runtime or the simulator for every message and timer */
    EV_SEND, EV_RECV, EV_DROP, EV_TIMER,
    /* emitted by modes, with a meaning every reader shares */
    EV_STATE, EV_VOTE, EV_APPEND, EV_TRUNCATE, EV_COMMIT, EV_APPLY, EV_SNAPSHOT, EV_QUORUM,
    EV_ERROR,
    /* made by the lab */
    EV_FAULT, EV_CLUSTER, EV_STATUS, EV_OUTPUT, EV_OP, EV_CLIENT, EV_LESSON, EV_VERDICT,
    EV_COMMAND, EV_SPEED, EV_INVARIANT,
    /* emitted by the runtime or the simulator on a link with a bandwidth (fields: json only) */
    EV_QUEUE,
    EV_KIND_COUNT
};

/* The kind's "ev" name ("state"); "" for EV_OTHER. */
const char *event_kind_name(enum ev_kind k);
/* The kind named name, or EV_OTHER. */
enum ev_kind event_kind_of(const char *name);
/* Every kind's name, '|'-separated (static): what any mode's lesson may check. */
const char *event_kind_names(void);

enum role_class {
    RC_UNKNOWN = 0, RC_LEADER, RC_CANDIDATE, RC_FOLLOWER, RC_PEER, RC_COORDINATOR,
    RC_PARTICIPANT, RC_COUNT
};
const char *role_class_name(enum role_class c);   /* "leader"; "" for RC_UNKNOWN */
enum role_class role_class_of(const char *name);  /* RC_UNKNOWN when not a class name */

/* send, recv, drop: the message and its fate. */
struct ev_msg {
    const char *peer;        /* "to" (send, drop at the sender) or "from" (recv, drop at the receiver) */
    bool outgoing;           /* peer is "to" */
    const char *type;        /* the message type ("type", else body.type); "" when unknown */
    int64_t msg_id;          /* -1 when absent */
    bool has_lamport;
    uint64_t lamport;
    const char *why;         /* drop: the reason, else NULL */
    const json_t *body;      /* send: the body, when the runtime included it */
};

/* state events and status snapshots: who a node is. Absent fields are false/NULL. */
struct ev_state {
    const char *role;
    bool has_term, has_epoch;
    uint64_t term, epoch;
    const char *leader;
    bool leader_null;        /* "leader": null (a status that knows no leader) */
};

struct ev_vote {
    const char *what;        /* request | grant | deny */
    bool has_term;
    uint64_t term;
    const char *candidate;
    const char *reason;
};

/* append, truncate, commit, apply, snapshot. */
struct ev_log {
    bool has_index, has_term, has_epoch;
    uint64_t index, term, epoch;
    uint64_t count;          /* append: entries added (1 when absent) */
    const char *cmd;         /* append of one entry: its command, when given */
    const char *key;         /* apply */
    const json_t *value;     /* apply */
};

struct ev_quorum {
    const char *op, *key;
    bool has_need;
    int64_t need;
    const json_t *acked, *missing, *stale;   /* arrays of node ids, or NULL */
};

struct ev_fault {
    const char *what;        /* crash, stonith, restart, pause, resume, exit, partition, heal, cut, … */
    const char *target;      /* "target", else the event's node */
    const json_t *groups;    /* partition: an array of arrays of node ids, or NULL */
    const char *src, *dst;   /* delay, loss: the link (NULL = every node) */
    bool has_ms;
    uint64_t ms;             /* delay */
    bool has_pct;
    double pct;              /* loss ("pct", else "loss") */
    bool has_skew_us;
    int64_t skew_us;         /* skew ("skew_us", else "ms" × 1000) */
    bool has_kbps;
    uint64_t kbps;           /* bandwidth: kilobits per second, 0 = unlimited */
};

struct ev_cluster {
    bool stopped;            /* {"stopped":true}, "what":"stop" or an empty node list */
    const char *mode;
    const json_t *nodes;     /* array of node ids */
    const json_t *options;   /* object */
    const json_t *roles;     /* object role -> class name, or NULL (older traces) */
    const json_t *figures;   /* array of {"key","label","card"?}, or NULL */
    bool has_speed;
    double speed;            /* options.speed */
};

struct event {
    enum ev_kind kind;
    const char *name;        /* "ev" */
    const char *node;        /* "node", or NULL */
    bool has_t, has_seq, has_inc;
    uint64_t t, seq, inc;
    const json_t *json;      /* the whole event */
    const char *bad_field;   /* the first field of the wrong type (ignored), or NULL */
    union {
        struct ev_msg msg;           /* EV_SEND, EV_RECV, EV_DROP */
        struct ev_state state;       /* EV_STATE, and EV_STATUS (from its "status" object) */
        struct ev_vote vote;         /* EV_VOTE */
        struct ev_log log;           /* EV_APPEND, EV_TRUNCATE, EV_COMMIT, EV_APPLY, EV_SNAPSHOT */
        struct ev_quorum quorum;     /* EV_QUORUM */
        struct ev_fault fault;       /* EV_FAULT */
        struct ev_cluster cluster;   /* EV_CLUSTER */
        const char *text;            /* EV_OUTPUT, EV_ERROR, EV_INVARIANT: "text" */
        const json_t *op;            /* EV_OP: the history record */
        double factor;               /* EV_SPEED: "factor" (0 when absent) */
    };
    const json_t *status;    /* EV_STATUS: the status object, else NULL */
};

/* Decodes j into *e (borrowing from j). Returns 0, or CL_EINVAL with err filled when j is not
 * an object with a string "ev" (then *e is zeroed). */
int event_decode(const json_t *j, struct event *e, char *err, size_t errlen);

/* Reads a status object (docs/protocol.md §2) as the state it describes. */
void event_state_of_status(const json_t *status, struct ev_state *out);

/* What a node's state events and status snapshots say about it. */
struct ev_view {
    char role[24];
    bool has_term, has_epoch;
    uint64_t term, epoch;
    char leader[CL_IDLEN];
};
/* Folds a state (from a `state` event or a status) into v. A `state` event names the whole
 * state after a change, so an absent leader clears it; a status keeps a leader it does not
 * mention unless it says null. */
void event_view_fold(struct ev_view *v, const struct ev_state *s, bool is_status);
/* The view's term, else its epoch, else -1. */
int64_t event_view_term(const struct ev_view *v);

/* The value at a dotted path in obj ("commit", "extra.keys"), or NULL. Borrowed. */
const json_t *event_path(const json_t *obj, const char *path);

#endif
