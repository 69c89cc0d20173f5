/* clocks — see clocks.h. */
#include "clocks.h"

#include <string.h>

#include "hash.h"
#include "hlc.h"

void clocks_init(struct clocks *c, int self, int n)
{
    memset(c, 0, sizeof *c);
    c->self = self;
    c->n = n;
}

/* a + b, saturated to the int64_t range (skews come from the lab and may be absurd) */
static int64_t add_sat(int64_t a, int64_t b)
{
    int64_t r;
    if (__builtin_add_overflow(a, b, &r))
        return b > 0 ? INT64_MAX : INT64_MIN;
    return r;
}

int64_t clocks_ntp_residual(int self, uint64_t k, uint64_t err_us)
{
    if (!err_us || err_us > (uint64_t)INT64_MAX / 4)
        return 0;
    uint64_t h = hash_mix(k * 0x9e3779b97f4a7c15ull ^ ((uint64_t)(self + 1) << 32));
    return (int64_t)(h % (2 * err_us + 1)) - (int64_t)err_us;
}

/* drift_ppm µs per second over [from, now] (0 before from), saturated */
static int64_t drift_over(int64_t ppm, uint64_t from, uint64_t now)
{
    if (!ppm || now <= from)
        return 0;
    long double d = (long double)ppm * (long double)(now - from) / 1e6L;
    if (d > (long double)INT64_MAX / 2)
        return INT64_MAX / 2;
    if (d < (long double)INT64_MIN / 2)
        return INT64_MIN / 2;
    return (int64_t)d;
}

static int64_t offset_of(const struct clocks *c, uint64_t now_us)
{
    if (c->ntp_from_us && now_us >= c->ntp_from_us) {
        uint64_t poll = c->ntp_poll_us ? c->ntp_poll_us : 1000000;
        uint64_t k = (now_us - c->ntp_from_us) / poll;
        uint64_t tk = c->ntp_from_us + k * poll;
        /* a clock set (skew, drift) after the last sync keeps that setting until the next */
        if (c->drift_from_us <= tk)
            return add_sat(clocks_ntp_residual(c->self, k, c->ntp_err_us), drift_over(c->drift_ppm, tk, now_us));
    }
    return add_sat(c->skew_us, drift_over(c->drift_ppm, c->drift_from_us, now_us));
}

uint64_t clocks_physical(const struct clocks *c, uint64_t now_us)
{
    int64_t t = add_sat(now_us > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)now_us, offset_of(c, now_us));
    if (c->strobe_period_us && now_us >= c->strobe_from_us) {
        uint64_t k = (now_us - c->strobe_from_us) / c->strobe_period_us;
        if (k % 2 == 0)
            t = add_sat(t, c->strobe_us > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)c->strobe_us);
    }
    return t < 0 ? 0 : (uint64_t)t;
}

int64_t clocks_offset(const struct clocks *c, uint64_t now_us)
{
    uint64_t pt = clocks_physical(c, now_us);
    return pt >= now_us ? (int64_t)(pt - now_us > (uint64_t)INT64_MAX ? INT64_MAX : pt - now_us)
                        : -(int64_t)(now_us - pt > (uint64_t)INT64_MAX ? INT64_MAX : now_us - pt);
}

/* Logical clocks stop at the largest value an envelope carries (a non-negative JSON integer),
 * so a peer stamping INT64_MAX can neither wrap them nor make our stamps undecodable. */
#define LOGICAL_MAX ((uint64_t)INT64_MAX)

void clocks_tick(struct clocks *c)
{
    if (c->lamport < LOGICAL_MAX)
        c->lamport++;
    if (c->self >= 0 && c->self < CL_MAXNODES && c->vc[c->self] < LOGICAL_MAX)
        c->vc[c->self]++;
}

void clocks_on_send(struct clocks *c)
{
    clocks_tick(c);
}

void clocks_on_recv(struct clocks *c, uint64_t lamport, const uint64_t *vc, int vn)
{
    if (lamport > c->lamport)
        c->lamport = lamport < LOGICAL_MAX ? lamport : LOGICAL_MAX;
    for (int i = 0; i < vn && i < CL_MAXNODES; i++)
        if (vc[i] > c->vc[i])
            c->vc[i] = vc[i] < LOGICAL_MAX ? vc[i] : LOGICAL_MAX;
    clocks_tick(c);
}

void clocks_hlc_send(struct clocks *c, uint64_t pt)
{
    struct hlc h = {c->hlc_l, c->hlc_c};
    hlc_send(&h, pt);
    c->hlc_l = h.l;
    c->hlc_c = h.c;
}

void clocks_hlc_recv(struct clocks *c, uint64_t l, uint64_t cc, uint64_t pt)
{
    if (!l && !cc) {
        clocks_hlc_send(c, pt);
        return;
    }
    /* a peer's stamp is capped like the logical clocks: no wrap, always encodable */
    struct hlc h = {c->hlc_l, c->hlc_c}, m = {l < LOGICAL_MAX ? l : LOGICAL_MAX, cc < LOGICAL_MAX ? cc : LOGICAL_MAX};
    hlc_recv(&h, m, pt);
    c->hlc_l = h.l < LOGICAL_MAX ? h.l : LOGICAL_MAX;
    c->hlc_c = h.c < LOGICAL_MAX ? h.c : LOGICAL_MAX;
}
