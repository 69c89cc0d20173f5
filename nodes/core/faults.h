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
/* Draws the fate of one message src -> dst. */
void faults_decide(const struct faults *f, int src, int dst, struct rng *r, struct fate *out);
/* Are a and b able to talk both ways? */
int faults_connected(const struct faults *f, int a, int b);
/* Groups of mutually connected nodes, as text: "n1,n2 | n3" ("" when fully connected). */
void faults_describe(const struct faults *f, struct sb *out);

json_t *faults_to_json(const struct faults *f);              /* caller frees */
int faults_from_json(const json_t *j, struct faults *f, char *err, size_t errlen);

#endif
