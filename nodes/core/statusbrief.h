/* statusbrief — a node's status as the lab polls it: figures, not the whole data.
 *
 * A mode's status() carries its whole key/value data ("data"); polled twice a second and kept
 * by the lab, that made the lab's memory grow with the data, and past 1 MiB the status no
 * longer fit a frame. The brief status keeps every figure, and of the data: "keys" (how many),
 * "digest" (the root of a Merkle tree over the key/value pairs, kit/merkle.h, as 16 hex
 * digits: two nodes with equal digests hold the same data), and "data" itself only when it is
 * small (at most STATUS_INLINE_BYTES as JSON, as in a lesson). Strings in the "log" are cut
 * to STATUS_LOG_STR bytes. The data is fetched on demand, a page at a time (status_data_page).
 */
#ifndef CONLAB_STATUSBRIEF_H
#define CONLAB_STATUSBRIEF_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define STATUS_INLINE_BYTES 4096
#define STATUS_LOG_STR 160
#define STATUS_PAGE_BYTES (512u << 10)   /* data in one page: under the 1 MiB frame cap */

/* The digest of a data object (0 for an empty or missing one). */
uint64_t status_data_digest(const json_t *data);
/* Makes status s brief in place (see above) and returns it. */
json_t *status_brief(json_t *s);
/* A page of data: the keys after `after` (NULL: from the first) in byte order, as many as fit
 * max_bytes as JSON (at least one); *more is 1 when keys remain after the page. With key set,
 * the page holds that key alone (or nothing). A new object. */
json_t *status_data_page(const json_t *data, const char *after, const char *key, size_t max_bytes, int *more);

#endif
