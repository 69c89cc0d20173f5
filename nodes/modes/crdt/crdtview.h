/* crdtview — a key's internal CRDT state as the small table a `digest` event carries for the
 * dashboard (crdtview.c says its shape). Pure. */
#ifndef CONLAB_CRDTVIEW_H
#define CONLAB_CRDTVIEW_H

#include <jansson.h>

#include "crdt.h"
#include "util.h"

#define CRDTVIEW_ROWS 12      /* entries in one table */
#define CRDTVIEW_DOTS 6       /* dots shown per entry */
#define CRDTVIEW_CELL 40      /* bytes in one cell */

/* The table of c's state (a new object); names[i] names node i. */
json_t *crdtview_table(const struct crdt *c, int nodes, const char (*names)[CL_IDLEN]);

/* What a client reads for a state's query q (crdt_query; stolen): the value texts of set
 * elements and register values back to their JSON values (jtext.h), a cart's items named as a
 * user reads them. A new reference. */
json_t *crdtview_value(enum crdt_type t, json_t *q);

#endif
