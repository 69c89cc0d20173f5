/* multileader — the parts of the multi-leader mode its monitor, its tests and its face share:
 * how a cluster of n nodes splits into data centres. See multileader.c. */
#ifndef CONLAB_MULTILEADER_H
#define CONLAB_MULTILEADER_H

#include "mode.h"

/* Splits n nodes into dcs data centres of consecutive nodes (the first n % dcs centres get
 * one node more): of[i] is node i's centre (0-based), first[d] the first node of centre d,
 * which leads it. Returns dcs, clamped to 1..n. */
int multileader_layout(int n, int dcs, int of[CL_MAXN], int first[CL_MAXN]);
/* The dcs option of o for a cluster of n nodes: its value, else min(3, n). */
int multileader_dcs(const struct opts *o, int n);

extern const struct mode_monitor multileader_monitor;

#endif
