/* hlc — hybrid logical clocks (Kulkarni, Demirbas et al., "Logical Physical Clocks", 2014).
 *
 * A timestamp is (l, c): l is the largest physical time the node has heard of (its own
 * clock's or one carried by a message), c counts events since l last changed. The rules
 * (Figure 5 of the paper), with pt the node's physical clock now:
 *
 *   send or local event:  l' = max(l, pt);  c' = (l' == l) ? c + 1 : 0
 *   receive (lm, cm):     l' = max(l, lm, pt);
 *                         c' = l' == l == lm ? max(c, cm) + 1
 *                            : l' == l       ? c + 1
 *                            : l' == lm      ? cm + 1
 *                            :                 0
 *
 * Properties (SCENARIOS.md L3, L4; checked by tests/check_kit_hlc.c): stamps strictly
 * increase on a node even when its physical clock goes back; e → f implies hlc(e) < hlc(f);
 * l ≥ pt; l − pt stays within the largest skew between clocks (ε) plus message delay; c stays
 * bounded when clocks tick.
 *
 * Users: the multileader mode (LWW by HLC, clock=hlc), the causal mode, the clocks pane.
 * Plain values, no allocation.
 */
#ifndef CONLAB_HLC_H
#define CONLAB_HLC_H

#include <stdint.h>

#include "util.h"

struct hlc {
    uint64_t l;              /* µs: the largest physical time heard of */
    uint64_t c;              /* events since l last changed */
};

/* A send or local event at physical time pt: advances h and returns the new stamp. */
struct hlc hlc_send(struct hlc *h, uint64_t pt);
/* The receipt of a message stamped m at physical time pt: advances h and returns it. */
struct hlc hlc_recv(struct hlc *h, struct hlc m, uint64_t pt);
/* -1, 0 or 1: lexicographic (l, c). */
int hlc_cmp(struct hlc a, struct hlc b);
/* One number that orders as (l, c) does, for fields that hold one timestamp: l·1000 + c
 * (c above 999 counts as 999, so two such stamps may tie; l below 2^63/1000). */
uint64_t hlc_pack(struct hlc h);
/* The reverse of hlc_pack. */
struct hlc hlc_unpack(uint64_t packed);
/* Appends "l.c" with l in ms since the epoch of the clock ("1712.345+2"). */
void hlc_text(struct hlc h, struct sb *out);

#endif
