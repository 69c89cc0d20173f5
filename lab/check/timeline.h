/* timeline — draws operations of a history as a text timeline: one row per process, a bar
 * from each operation's invocation to its completion, labelled with the operation, columns in
 * event order (so concurrency and real-time order are exact, not to scale), an indeterminate
 * operation open to the right, and one operation optionally marked as the impossible one.
 * Pure: draws into a string buffer, so the report, the REPL and the dashboard share it. */
#ifndef CONLAB_TIMELINE_H
#define CONLAB_TIMELINE_H

#include "histfile.h"
#include "util.h"

/* Appends the drawing of ops[0..n) (indexes into h) to out, then a legend with each operation's
 * times. marked is an op index to flag, or -1. width is a soft limit: labels shrink to fit it
 * where they can. */
void timeline_draw(const struct history *h, const int *ops, int n, int marked, int width,
                   struct sb *out);

#endif
