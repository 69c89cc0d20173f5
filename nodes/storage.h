/* storage — a node's durable state on disk, in its data directory: named blobs replaced
 * atomically (write to a temp file, fsync, rename, fsync the directory) and append-only record
 * logs. Appends are buffered in memory until storage_log_sync() writes them and fsyncs (unless
 * fsync is off). Owned by the runtime; one per process.
 *
 * On disk every record — each record of a log file NAME.log, and the single record a blob
 * file NAME.blob holds — is a 12-byte header then the data:
 *     u32 length | u32 CRC-32 of the data | u32 CRC-32 of the first 8 bytes ^ 0x636c6231
 * (little-endian). The header's own checksum lets the reader tell a record boundary from
 * noise, so a damaged record can be placed: last in its file, or followed by good records.
 *
 * Opening refuses rather than forgets. storage_open() checks every log and blob in the
 * directory. A log whose *last* record is damaged (short, or with a bad checksum, and no
 * valid record after it) was torn by a crash while being appended: that tail is cut, and
 * storage_repairs() lists the cut so the node can say so. A damaged record with valid records
 * after it, or any damaged blob (blobs are replaced whole, never torn), is corruption: the
 * open fails with a message naming the file, the record and its offset, and the node must not
 * start — truncating there would silently drop what the node had acknowledged.
 */
#ifndef CONLAB_STORAGE_H
#define CONLAB_STORAGE_H

#include <stddef.h>

#define STORAGE_HEADER 12

struct storage;

/* A torn tail cut off by storage_open(). */
struct storage_repair {
    char file[80];          /* "raft.log.0.log" */
    size_t offset;          /* where the file now ends */
    size_t bytes;           /* how many bytes were cut */
};

/* Opens (creating) dir and checks everything in it (see above). Returns NULL and fills err
 * with one line naming the file, record and offset when something is corrupt or cannot be
 * read. */
struct storage *storage_open(const char *dir, int fsync_on, char *err, size_t errlen);
void storage_close(struct storage **s);
/* Torn tails cut by storage_open(): *out borrowed until storage_close(). Returns the count. */
int storage_repairs(const struct storage *s, const struct storage_repair **out);
int storage_blob_put(struct storage *s, const char *name, const void *data, size_t len);
/* 0 and a malloc'd copy (caller frees); CL_ENOENT when absent; CL_EIO when unreadable or its
 * checksum fails. */
int storage_blob_get(struct storage *s, const char *name, char **data, size_t *len);
int storage_log_append(struct storage *s, const char *name, const void *data, size_t len);
int storage_log_sync(struct storage *s, const char *name);
int storage_log_truncate(struct storage *s, const char *name, size_t nrec);
/* Calls fn for each record (durable, then appended but unsynced); returns the count, or
 * CL_EINVAL (bad name) / CL_EIO (unreadable, or a checksum fails: the file changed under us). */
long storage_log_read(struct storage *s, const char *name,
                      void (*fn)(void *ud, const void *data, size_t len), void *ud);
/* CRC-32 (IEEE) of data. */
unsigned storage_crc32(const void *data, size_t len);
/* The 12-byte header of a record holding data (for tests and tools that write files). */
void storage_record_header(unsigned char hdr[STORAGE_HEADER], const void *data, size_t len);

#endif
