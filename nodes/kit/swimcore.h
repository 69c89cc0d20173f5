/* swimcore — SWIM membership and failure detection (Das, Gupta, Motivala 2002), with Lifeguard's
 * local health multiplier as an option (Dadgar et al. 2018): the protocol core, shared by the
 * swim mode (nodes/modes/swim/) and the leaderless ring's membership=swim (nodes/modes/leaderless/).
 *
 * Each protocol period a node probes one member (round-robin over a shuffled list); without an
 * ack within the timeout it asks k others to probe it (probe_req); without any ack by the end of
 * the period the member becomes *suspect*; a suspect not refuted within the suspicion timeout is
 * *dead*. Every member has an incarnation number only it raises: hearing itself suspected (or
 * dead) it refutes with a higher one. Updates ride piggybacked on probes, probe_reqs and acks,
 * each up to lambda*ceil(log2(N+1)) times (infection-style dissemination). Full description and
 * precedence rules: swimcore.c.
 *
 * Beyond the paper, for a ring that members join and leave:
 *   - UNKNOWN: a node added to the address book after this one started (cfg.newcomers_unknown)
 *     is no member until an update about it arrives (its own alive{it, inc} spreads by gossip);
 *   - LEFT: a member that announced it leaves (swim_leave): never probed, never suspected; only
 *     its own alive at a higher incarnation (a restart) brings it back.
 *
 * Wire messages (types): probe {seq, updates?}, probe_req {seq, target, updates?},
 * probe_ack {seq, updates?}; an update is {m: member id, s: alive|suspect|dead|left, i: inc}.
 * Events: member {member, status, inc} (status alive, suspect, dead, left, or joined: first heard
 * of an unknown member), refute {inc}.
 *
 * Tables: one bound, SWIM_MAX members (indexes into env nodes[]; 1,000 in the simulator). Up to
 * SWIM_SMALL (CL_MAXNODES) members they live inside struct swimc; a bigger (simulated) cluster
 * moves them to the heap.
 * Ownership: the caller embeds struct swimc (zeroed; never copied: it points into itself) and
 * calls swim_init, swim_begin, then feeds it messages and timers; swim_free at the end (a no-op up
 * to SWIM_SMALL members).
 */
#ifndef CONLAB_SWIMCORE_H
#define CONLAB_SWIMCORE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "env.h"
#include "util.h"

#define SWIM_MAX CL_SIM_MAXNODES      /* the one bound: members in a table (the simulator's 1,000) */
#define SWIM_SMALL CL_MAXNODES        /* members the tables inside struct swimc hold; past that they
                                       * move to the heap (swim_free) */
#define SWIM_MAX_UPDATES 8            /* updates piggybacked per message */
#define SWIM_FWD_SLOTS 64             /* probes sent on behalf of others, in flight */

enum swim_status { SWIM_ALIVE, SWIM_SUSPECT, SWIM_DEAD, SWIM_LEFT, SWIM_UNKNOWN };

/* Bug toggles (cfg.bugs, or-ed). */
#define SWIM_BUG_NO_INDIRECT 1        /* no probe_req: a lost probe alone makes a suspect */
#define SWIM_BUG_NO_REFUTE 2          /* a suspected node never raises its incarnation */
#define SWIM_BUG_NO_INCARNATION 4     /* any message from a suspect/dead member makes it alive */

struct swim_cfg {
    uint64_t period_us, timeout_us, suspect_us;
    int k, lambda, lhm;               /* lhm: Lifeguard's local health multiplier on (1) */
    int bugs;
    int timer_base;                   /* the core's timers are kinds timer_base .. timer_base+2 */
    int newcomers_unknown;            /* nodes added after the start are unknown until heard of */
    int announce;                     /* spread alive{me} at start even at incarnation 0 */
    const char *blob;                 /* where the incarnation is kept ("swim_inc") */
    /* called after member j's status changed in this node's view (was -> now) */
    void (*on_change)(void *ud, int j, enum swim_status was, enum swim_status now);
    void *ud;
};

struct swim_member {
    enum swim_status st;
    uint64_t inc;
    uint64_t suspect_timer;
    int sent;                         /* times the current update about it was piggybacked */
    int heard;                        /* it has sent this node something since this node started */
    int fresh;                        /* there is an update to spread */
};

struct swim_fwd {
    int used;
    uint64_t my_seq, their_seq;
    int requester;
};

struct swimc {
    struct env *e;
    struct swim_cfg cfg;
    struct swim_member *m;            /* the table: small_m up to SWIM_SMALL members, else the heap */
    int cap;                          /* entries m, order and scratch have room for */
    int known;                        /* table entries set up (grows with the address book) */
    uint64_t inc;                     /* my own incarnation */
    int left;                         /* I announced that I leave */
    int lhm;                          /* Lifeguard's local health score 0..8 */
    int *order, norder, pos;
    int *scratch;
    uint64_t seq;
    int probing;                      /* the member probed this period, or -1 */
    uint64_t probe_seq;
    int acked;
    struct swim_fwd fwd[SWIM_FWD_SLOTS];
    uint64_t probes, suspicions, refutes, periods;
    uint64_t started_us;              /* env_now_us at start: the grace for members not yet heard */
    uint64_t t_probe;
    struct swim_member small_m[SWIM_SMALL];
    int small_order[SWIM_SMALL], small_scratch[SWIM_SMALL];
};

/* "alive", "suspect", "dead", "left", "unknown". */
const char *swim_status_name(enum swim_status s);

/* Sets up the table (every node of the address book alive), reads the incarnation back from
 * cfg->blob (a restart comes back one above). Returns 0, or -1 with err (timeout >= period). */
int swim_init(struct swimc *c, struct env *e, const struct swim_cfg *cfg, char *err, size_t errlen);
/* Frees the tables a cluster past SWIM_SMALL members put on the heap (nothing below). */
void swim_free(struct swimc *c);
/* Starts probing (call from the mode's start). */
void swim_begin(struct swimc *c);
/* Stops the probe timer and every suspicion timer. */
void swim_stop(struct swimc *c);

/* A timer of the core's kinds: handles it and returns 1; any other kind: 0. */
int swim_on_timer(struct swimc *c, int kind, uint64_t arg);
/* Message handlers (the types above). */
void swim_on_probe(struct swimc *c, const char *src, const json_t *body);
void swim_on_probe_req(struct swimc *c, const char *src, const json_t *body);
void swim_on_probe_ack(struct swimc *c, const char *src, const json_t *body);

/* Member j's status in this node's view (SWIM_ALIVE for me unless I left). */
enum swim_status swim_status_of(struct swimc *c, int j);
uint64_t swim_inc_of(struct swimc *c, int j);
/* Announce that this node leaves: left{me, inc} spreads; it refutes nothing any more. */
void swim_leave(struct swimc *c);
/* Has the news about member j been piggybacked as often as dissemination wants? */
int swim_spread(struct swimc *c, int j);
/* This node's view: {"n2":{"status":"alive","inc":0},…} (every member but itself). */
json_t *swim_view_json(struct swimc *c);
/* Counts of members by status, itself included as alive (unless it left). */
void swim_counts(struct swimc *c, int *alive, int *suspect, int *dead);
/* "n1 (incarnation 3): n2=alive/0 n3=suspect/1 …" into b. */
void swim_view_text(struct swimc *c, struct sb *b);

#endif
