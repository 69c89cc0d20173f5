/* spanner — what the TrueTime mode's monitor and checks share with its face and its tests.
 * See spanner.c (the protocol) and ttmon.c (external consistency, checked from events). */
#ifndef CONLAB_SPANNER_H
#define CONLAB_SPANNER_H

#include "mode.h"

/* The live monitor: external consistency (ttmon.c). */
extern const struct mode_monitor spanner_monitor;
/* `check external` (NULL-name terminated). */
extern const struct mode_check spanner_checks[];

#endif
