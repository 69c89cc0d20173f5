/* es — what the eventstore mode's files share: its live invariant monitor (esmon.c), named by
 * the face in eventstore.c. */
#ifndef CONLAB_ES_H
#define CONLAB_ES_H

#include "esevent.h"
#include "mode.h"

extern const struct mode_monitor es_monitor;
/* `check eventstore` (struct mode_check): the monitor's verdict, invariant by invariant. */
int es_check_run(const void *mon, const json_t *const *status, int n, struct sb *out);

#endif
