/* faults — the fault model shared by the runtime's shim and the simulator (DESIGN §4).
 *
 * A struct faults is the whole network-fault state of a cluster: which directed links are
 * cut (partitions, one-way cuts) and, per directed link, delay with jitter, loss,
 * duplication and reordering probabilities. The lab owns the authoritative copy, edits it
 * with the functions below, and pushes it (as JSON) to every node; each node applies the row
 * of its own outgoing links. faults_decide() is the single place where a message's fate is
 * drawn, from a caller-supplied RNG, so the simulator reproduces it from a seed.
 */
#ifndef CONLAB_FAULTS_H
#define CONLAB_FAULTS_H

#include <jansson.h>
#include <stdint.h>

#include "rng.h"
#include "util.h"

struct link_fault {
    uint64_t delay_us, jitter_us;
    double loss, dup, reorder;   /* probabilities in [0, 1] */
    uint64_t kbps;               /* bandwidth in kilobits per second; 0 = unlimited */
};

struct faults {
    int n;
    uint8_t cut[CL_MAXNODES][CL_MAXNODES];          /* cut[a][b]: a's messages to b are dropped */
    struct link_fault link[CL_MAXNODES][CL_MAXNODES];
};

/* What happens to one message. */
struct fate {
    int copies;                  /* 0 = dropped, 1, or 2 (duplicated) */
    uint64_t delay_us[2];        /* per copy */
    const char *why;             /* when dropped: "partition" or "loss" (static string) */
};

void faults_init(struct faults *f, int n);
/* heal: removes every cut and link fault. */
void faults_heal(struct faults *f);
/* Any cut or link fault at all? */
int faults_active(const struct faults *f);
/* Cuts the cluster into groups: "n1,n2 | n3,n4,n5". Nodes not named join the last group.
 * Refuses unknown or repeated nodes and empty groups, naming the problem in err. */
int faults_partition(struct faults *f, const char *spec, char *err, size_t errlen);
/* Jepsen's shapes: one | halves | majority | minority-third | majorities-ring | bridge.
 * Random choices come from r. Writes a description ("n2 | n1,n3") into desc. */
int faults_shape(struct faults *f, const char *shape, struct rng *r, char *desc, size_t desclen,
                 char *err, size_t errlen);
void faults_isolate(struct faults *f, int idx);
/* One-way cut src -> dst (src's messages to dst are dropped; replies still flow). */
void faults_cut(struct faults *f, int src, int dst);
/* The longest delay, and the widest jitter, a link may have: 10 minutes. */
#define FAULTS_MAX_DELAY_US 600000000ull
/* Is delay_us~jitter_us within bounds? 0, or CL_ERANGE with the accepted range in err. */
int faults_check_delay(uint64_t delay_us, uint64_t jitter_us, char *err, size_t errlen);
/* Sets a field on link src->dst, or on every link when src (or dst) is -1. A delay or jitter
 * past FAULTS_MAX_DELAY_US is held at it (callers check first with faults_check_delay). */
void faults_set_delay(struct faults *f, int src, int dst, uint64_t delay_us, uint64_t jitter_us);
void faults_set_loss(struct faults *f, int src, int dst, double p);
void faults_set_dup(struct faults *f, int src, int dst, double p);
void faults_set_reorder(struct faults *f, int src, int dst, double p);
/* The narrowest and widest bandwidth a link may be given, in kilobits per second. */
#define FAULTS_MIN_KBPS 1ull
#define FAULTS_MAX_KBPS 10000000ull
/* Sets the bandwidth of link src->dst (or every link, as faults_set_delay); 0 removes it. */
void faults_set_bandwidth(struct faults *f, int src, int dst, uint64_t kbps);

/* A bandwidth-limited link (fallacy 3, "bandwidth is infinite"): the sender puts one frame on
 * the wire at a time, each taking len*8/kbps ms, in order; the frames waiting meanwhile are
 * its queue. The runtime keeps one per outgoing link, the simulator one per directed link;
 * both hold the frames themselves (the runtime in its outbox, the simulator in its event
 * queue) and ask here when each one is out. A queue holds at most BWQ_MAX_FRAMES frames: past
 * that, the sender drops the frame ("queue full"), as a router's full buffer does. */
#define BWQ_MAX_FRAMES 1000
struct bwq {
    uint64_t busy_until;         /* when the last frame queued is fully sent (µs) */
    uint64_t bytes;              /* bytes of the frames not yet fully sent */
    size_t n, head, cap;         /* a ring of the frames not yet fully sent */
    struct bwq_frame { uint64_t done; uint64_t bytes; } *v;
};
/* Forgets the frames whose time on the wire is over at now. */
void bwq_expire(struct bwq *q, uint64_t now);
/* Queues a frame of len bytes at now on a link of kbps (> 0). Returns the time it is fully
 * sent (now when the link was idle: now + its transmission time), or 0 when the queue already
 * holds BWQ_MAX_FRAMES frames (the frame is refused and not counted). */
uint64_t bwq_push(struct bwq *q, uint64_t now, size_t len, uint64_t kbps);
/* The link's bandwidth changed from old_kbps to new_kbps: the time each queued frame has left
 * on the wire is scaled by old/new (new 0: every queued frame is out at once). Returns that
 * factor, for the caller to apply to the frames it holds (bwq_retime_at). */
double bwq_rescale(struct bwq *q, uint64_t now, uint64_t old_kbps, uint64_t new_kbps);
/* A frame that was due out at `done` (then `tail` more µs to arrive), under a rescale by
 * factor at now: its new due time. */
uint64_t bwq_retime_at(uint64_t when, uint64_t tail, uint64_t now, double factor);
void bwq_free(struct bwq *q);

/* Draws the fate of one message src -> dst. */
void faults_decide(const struct faults *f, int src, int dst, struct rng *r, struct fate *out);
/* The same draw for one message on a link that is not cut, from its link fault alone (the
 * simulator's clusters over CL_MAXNODES keep one link fault for every link, not a table). */
void faults_decide_link(const struct link_fault *l, struct rng *r, struct fate *out);
/* Are a and b able to talk both ways? */
int faults_connected(const struct faults *f, int a, int b);
/* Groups of mutually connected nodes, as text: "n1,n2 | n3" ("" when fully connected). */
void faults_describe(const struct faults *f, struct sb *out);

json_t *faults_to_json(const struct faults *f);              /* caller frees */
int faults_from_json(const json_t *j, struct faults *f, char *err, size_t errlen);

#endif
