/* storage — a node's durable state on disk, in its data directory: named blobs replaced
 * atomically (write to a temp file, fsync, rename, fsync the directory) and append-only record
 * logs (each record: 4-byte length, 4-byte CRC-32, data). Appends are buffered in memory until
 * storage_log_sync() writes them and fsyncs (unless fsync is off). A torn or corrupt tail left
 * by a crash is cut off when the log is opened. Owned by the runtime; one per process. */
#ifndef CONLAB_STORAGE_H
#define CONLAB_STORAGE_H

#include <stddef.h>

struct storage;

/* Opens (creating) dir. Returns NULL and fills err on failure. */
struct storage *storage_open(const char *dir, int fsync_on, char *err, size_t errlen);
void storage_close(struct storage **s);
int storage_blob_put(struct storage *s, const char *name, const void *data, size_t len);
int storage_blob_get(struct storage *s, const char *name, char **data, size_t *len);
int storage_log_append(struct storage *s, const char *name, const void *data, size_t len);
int storage_log_sync(struct storage *s, const char *name);
int storage_log_truncate(struct storage *s, const char *name, size_t nrec);
long storage_log_read(struct storage *s, const char *name,
                      void (*fn)(void *ud, const void *data, size_t len), void *ud);
/* CRC-32 (IEEE) of data. */
unsigned storage_crc32(const void *data, size_t len);

#endif
