/* clocks — a node's clocks (DESIGN §5): the physical clock with injected faults, and the
 * Lamport, vector and hybrid logical clocks (HLC, nodes/kit/hlc.h) the runtime stamps on every
 * envelope. Pure: the caller passes the true time in, so the runtime and the simulator share
 * it. */
#ifndef CONLAB_CLOCKS_H
#define CONLAB_CLOCKS_H

#include <stdint.h>

#include "util.h"

struct clocks {
    int self, n;
    uint64_t lamport;
    uint64_t vc[CL_MAXNODES];
    int64_t skew_us;            /* constant offset: `skew` plus every `clock bump` */
    uint64_t strobe_us;         /* `clock strobe`: the clock jumps between +0 and +strobe_us */
    uint64_t strobe_period_us;  /* every period (0 = no strobe) */
    uint64_t strobe_from_us;    /* true time the strobe started */
    uint64_t hlc_l, hlc_c;      /* hybrid logical clock: µs (the largest physical time heard
                                 * of) and a counter; 0, 0 until the first event */
    int64_t drift_ppm;          /* `clock drift`: the clock gains drift_ppm µs per second of true
                                 * time (negative: it loses), counted from drift_from_us */
    uint64_t drift_from_us;     /* true time the drift (and the skew) were last set */
    uint64_t ntp_from_us;       /* `ntp on`: true time of the first sync; 0 = no NTP */
    uint64_t ntp_poll_us;       /* a sync every poll (0: 1 s) */
    uint64_t ntp_err_us;        /* each sync leaves the clock off by up to ± this */
};

void clocks_init(struct clocks *c, int self, int n);
/* Node-local physical time for the true time now_us (skew, bumps, drift, NTP and strobe
 * applied; never below 0).
 *
 * Drift: the offset from true time grows by drift_ppm µs per second since drift_from_us.
 * NTP (an ntpdate-like model): at ntp_from_us and every poll after it the clock is stepped to
 * true time plus a residual error in ±ntp_err_us (drawn from the sync's number and the node,
 * so the simulator replays it); between syncs it drifts again. A skew or bump set since the
 * last sync (drift_from_us after it) holds until the next one; a strobe is never corrected
 * (it is a fault on top). Pure: a function of now_us. */
uint64_t clocks_physical(const struct clocks *c, uint64_t now_us);
/* The node's clock minus true time at now_us (µs, signed): what NTP would measure. */
int64_t clocks_offset(const struct clocks *c, uint64_t now_us);
/* The residual error the NTP sync number k leaves on node self (in ±err_us). */
int64_t clocks_ntp_residual(int self, uint64_t k, uint64_t err_us);
/* Before a send: ticks Lamport and own vector entry. */
void clocks_on_send(struct clocks *c);
/* On receipt of a message stamped (lamport, vc[0..vn)): merges, then ticks. Lamport and vector
 * entries never exceed INT64_MAX (the largest value an envelope carries). */
void clocks_on_recv(struct clocks *c, uint64_t lamport, const uint64_t *vc, int vn);
/* The HLC rules (Kulkarni et al.) at the node's physical time pt: a send or local event, and
 * the receipt of a message stamped (l, c) (0, 0: unstamped, treated as a local event). */
void clocks_hlc_send(struct clocks *c, uint64_t pt);
void clocks_hlc_recv(struct clocks *c, uint64_t l, uint64_t cc, uint64_t pt);
/* A local event (e.g. a client write applied): ticks both. */
void clocks_tick(struct clocks *c);

#endif
