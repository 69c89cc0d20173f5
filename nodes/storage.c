/* storage — see storage.h.
 *
 * The life of a log file:
 *   open:   every record is checked (header checksum, length in range, data checksum). At the
 *           first damaged record, the rest of the file is searched for a valid record:
 *             none  -> a torn tail: the file is cut there (fsynced) and the cut is recorded;
 *             found -> corruption: storage_open() fails naming file, record and offset.
 *   append: records go to an in-memory buffer (`pending`), visible to storage_log_read();
 *   sync:   the buffer is written at the end of the durable part and fdatasync'd;
 *   truncate: pending records are synced first, then the file is cut at a record boundary.
 * Invariant: `off` holds the offset of each durable record, `end` the size of the durable
 * part, and the file is exactly `end` bytes long after every successful call.
 */
#include "storage.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

#define MAX_RECORD (64u << 20)
#define HDR STORAGE_HEADER
#define HDR_SEED 0x636c6231u /* "clb1": a header of zeros is not a valid header */

struct slog {
    char *name;
    int fd;
    size_t *off;          /* file offset of each durable record */
    size_t nrec, caprec;
    size_t end;           /* file size of the durable part */
    struct sb pending;    /* appended, not yet written */
    size_t npending;
    int dirty;            /* written (or cut) since the last fdatasync */
};

struct storage {
    char *dir;
    int fsync_on;
    struct slog *logs;
    size_t nlogs;
    struct storage_repair *repairs;
    int nrepairs;
};

unsigned storage_crc32(const void *data, size_t len)
{
    static unsigned table[256];
    static int init;
    if (!init) {
        for (unsigned i = 0; i < 256; i++) {
            unsigned c = i;
            for (int k = 0; k < 8; k++)
                c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
            table[i] = c;
        }
        init = 1;
    }
    unsigned c = 0xffffffffu;
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++)
        c = table[(c ^ p[i]) & 0xff] ^ (c >> 8);
    return c ^ 0xffffffffu;
}

static void put32(unsigned char *p, unsigned v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

static unsigned get32(const unsigned char *p)
{
    return (unsigned)p[0] | (unsigned)p[1] << 8 | (unsigned)p[2] << 16 | (unsigned)p[3] << 24;
}

void storage_record_header(unsigned char hdr[HDR], const void *data, size_t len)
{
    put32(hdr, (unsigned)len);
    put32(hdr + 4, storage_crc32(data, len));
    put32(hdr + 8, storage_crc32(hdr, 8) ^ HDR_SEED);
}

/* Is h a well-formed header whose data fits in room bytes? Sets *len. */
static int header_ok(const unsigned char *h, size_t room, unsigned *len)
{
    if ((storage_crc32(h, 8) ^ HDR_SEED) != get32(h + 8))
        return 0;
    *len = get32(h);
    return *len <= MAX_RECORD && *len <= room;
}

static int valid_name(const char *name)
{
    if (!*name || strlen(name) > 64)
        return 0;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' || *p == '.'))
            return 0;
    return name[0] != '.';
}

/* Reads exactly n bytes at off (0), or fails (-1). */
static int read_at(int fd, void *buf, size_t n, size_t off)
{
    char *p = buf;
    while (n) {
        ssize_t r = pread(fd, p, n, (off_t)off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        p += r;
        n -= (size_t)r;
        off += (size_t)r;
    }
    return 0;
}

/* Is there a complete, valid record at off in a file of size bytes? Sets *len. buf is a
 * scratch buffer the caller frees. */
static int record_ok(int fd, size_t off, size_t size, unsigned *len, char **buf)
{
    unsigned char h[HDR];
    if (size - off < HDR || read_at(fd, h, HDR, off) < 0 || !header_ok(h, size - off - HDR, len))
        return 0;
    *buf = xrealloc(*buf, *len ? *len : 1);
    return read_at(fd, *buf, *len, off + HDR) == 0 && storage_crc32(*buf, *len) == get32(h + 4);
}

/* The offset of the first valid record starting after `from`, or -1: tells a torn tail (none)
 * from a damaged record that good ones follow. Scans headers first (cheap), then checks the
 * data of a candidate. */
static long long next_valid_record(int fd, size_t from, size_t size)
{
    enum { CHUNK = 1 << 20 };
    unsigned char *win = xmalloc(CHUNK + HDR);
    char *buf = NULL;
    long long found = -1;
    for (size_t base = from; base + HDR <= size && found < 0; base += CHUNK) {
        size_t n = size - base < CHUNK + HDR ? size - base : CHUNK + HDR;
        if (read_at(fd, win, n, base) < 0)
            break;
        for (size_t i = 0; i + HDR <= n && i < CHUNK; i++) {
            unsigned len;
            if (!header_ok(win + i, size - (base + i) - HDR, &len))
                continue;
            if (record_ok(fd, base + i, size, &len, &buf)) {
                found = (long long)(base + i);
                break;
            }
        }
    }
    free(buf);
    free(win);
    return found;
}

static void push_off(struct slog *l, size_t off)
{
    if (l->nrec == l->caprec) {
        l->caprec = l->caprec ? l->caprec * 2 : 256;
        l->off = xrealloc(l->off, l->caprec * sizeof *l->off);
    }
    l->off[l->nrec++] = off;
}

/* Indexes the records of l's file, cutting a torn tail (recorded in s->repairs) or failing on
 * corruption. Returns 0 or -1 with err filled. */
static int index_log(struct storage *s, struct slog *l, const char *file, char *err, size_t errlen)
{
    struct stat st;
    if (fstat(l->fd, &st) < 0) {
        snprintf(err, errlen, "%s: %s", file, strerror(errno));
        return -1;
    }
    size_t size = (size_t)st.st_size, off = 0;
    char *buf = NULL;
    unsigned len;
    while (off < size && record_ok(l->fd, off, size, &len, &buf)) {
        push_off(l, off);
        off += HDR + len;
    }
    free(buf);
    l->end = off;
    if (off == size)
        return 0;
    long long next = next_valid_record(l->fd, off + 1, size);
    if (next >= 0) {
        /* count what follows, to say how much the node would forget */
        size_t after = 0, p = (size_t)next;
        buf = NULL;
        while (p < size && record_ok(l->fd, p, size, &len, &buf)) {
            after++;
            p += HDR + len;
        }
        free(buf);
        snprintf(err, errlen,
                 "%s: record %zu (at offset %zu) is corrupt and %zu valid record%s follow%s it "
                 "(from offset %lld): not a torn write; refusing to start rather than forget them",
                 file, l->nrec + 1, off, after, after == 1 ? "" : "s", after == 1 ? "s" : "", next);
        return -1;
    }
    /* a torn tail: the last record was never completely written */
    if (ftruncate(l->fd, (off_t)off) < 0 || (s->fsync_on && fdatasync(l->fd) < 0)) {
        snprintf(err, errlen, "%s: cannot cut the torn tail at offset %zu: %s", file, off, strerror(errno));
        return -1;
    }
    s->repairs = xrealloc(s->repairs, (size_t)(s->nrepairs + 1) * sizeof *s->repairs);
    struct storage_repair *r = &s->repairs[s->nrepairs++];
    str_copy(r->file, file, sizeof r->file);
    r->offset = off;
    r->bytes = size - off;
    return 0;
}

/* Opens (creating when create is set) the log name; NULL with err filled on failure. */
static struct slog *open_log(struct storage *s, const char *name, int create, char *err, size_t errlen)
{
    char *file = xasprintf("%s.log", name);
    char *path = xasprintf("%s/%s", s->dir, file);
    int fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW | (create ? O_CREAT : 0), 0600);
    free(path);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", file, strerror(errno));
        free(file);
        return NULL;
    }
    s->logs = xrealloc(s->logs, (s->nlogs + 1) * sizeof *s->logs);
    struct slog *l = &s->logs[s->nlogs];
    memset(l, 0, sizeof *l);
    l->name = xstrdup(name);
    l->fd = fd;
    if (index_log(s, l, file, err, errlen) < 0) {
        close(fd);
        free(l->off);
        free(l->name);
        free(file);
        return NULL;
    }
    s->nlogs++;
    free(file);
    return l;
}

static struct slog *get_log(struct storage *s, const char *name)
{
    for (size_t i = 0; i < s->nlogs; i++)
        if (!strcmp(s->logs[i].name, name))
            return &s->logs[i];
    if (!valid_name(name))
        return NULL;
    char err[256];
    return open_log(s, name, 1, err, sizeof err);
}

/* Reads blob file `file` whole and checks it is exactly one valid record. */
static int read_blob(struct storage *s, const char *file, char **data, size_t *len, char *err, size_t errlen)
{
    char *path = xasprintf("%s/%s", s->dir, file);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    free(path);
    if (fd < 0) {
        if (errno == ENOENT)
            return CL_ENOENT;
        snprintf(err, errlen, "%s: %s", file, strerror(errno));
        return CL_EIO;
    }
    struct stat st;
    unsigned char h[HDR];
    unsigned n = 0;
    int rc = CL_EIO;
    char *buf = NULL;
    if (fstat(fd, &st) < 0) {
        snprintf(err, errlen, "%s: %s", file, strerror(errno));
    } else if ((size_t)st.st_size < HDR || read_at(fd, h, HDR, 0) < 0 ||
               !header_ok(h, (size_t)st.st_size - HDR, &n) || HDR + (size_t)n != (size_t)st.st_size) {
        snprintf(err, errlen, "%s: the header at offset 0 is corrupt (%lld bytes on disk); a blob is "
                 "replaced whole, so this is not a torn write: refusing to start", file, (long long)st.st_size);
    } else {
        buf = xmalloc(n + 1);
        if (read_at(fd, buf, n, HDR) < 0 || storage_crc32(buf, n) != get32(h + 4)) {
            snprintf(err, errlen, "%s: the data at offset %d fails its checksum; a blob is replaced "
                     "whole, so this is not a torn write: refusing to start", file, HDR);
        } else {
            buf[n] = 0;
            *data = buf;
            *len = n;
            buf = NULL;
            rc = 0;
        }
    }
    free(buf);
    close(fd);
    return rc;
}

static int has_suffix(const char *s, const char *suf, size_t *stem)
{
    size_t n = strlen(s), k = strlen(suf);
    *stem = n - k;
    return n > k && !strcmp(s + n - k, suf);
}

/* Checks every log and blob already in the directory. */
static int check_all(struct storage *s, char *err, size_t errlen)
{
    DIR *d = opendir(s->dir);
    if (!d) {
        snprintf(err, errlen, "cannot read data dir %s: %s", s->dir, strerror(errno));
        return -1;
    }
    struct dirent *de;
    int rc = 0;
    while (rc == 0 && (de = readdir(d))) {
        size_t stem;
        char name[80];
        if (de->d_name[0] == '.' || strlen(de->d_name) >= sizeof name)
            continue;
        if (has_suffix(de->d_name, ".log", &stem)) {
            memcpy(name, de->d_name, stem);
            name[stem] = 0;
            int known = 0;
            for (size_t i = 0; i < s->nlogs; i++)
                known |= !strcmp(s->logs[i].name, name);
            if (valid_name(name) && !known && !open_log(s, name, 0, err, errlen))
                rc = -1;
        } else if (has_suffix(de->d_name, ".blob", &stem)) {
            char *data = NULL;
            size_t len;
            int r = read_blob(s, de->d_name, &data, &len, err, errlen);
            free(data);
            if (r < 0 && r != CL_ENOENT)
                rc = -1;
        }
    }
    closedir(d);
    return rc;
}

struct storage *storage_open(const char *dir, int fsync_on, char *err, size_t errlen)
{
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create data dir %s: %s", dir, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "data dir %s is not a directory", dir);
        return NULL;
    }
    struct storage *s = xcalloc(1, sizeof *s);
    s->dir = xstrdup(dir);
    s->fsync_on = fsync_on;
    char why[400];
    if (check_all(s, why, sizeof why) < 0) {
        snprintf(err, errlen, "%s (data dir %s)", why, dir); /* the file first: screens cut long lines */
        storage_close(&s);
        return NULL;
    }
    return s;
}

void storage_close(struct storage **sp)
{
    struct storage *s = *sp;
    if (!s)
        return;
    for (size_t i = 0; i < s->nlogs; i++) {
        struct slog *l = &s->logs[i];
        if (l->fd >= 0)
            close(l->fd);
        free(l->off);
        free(l->name);
        sb_free(&l->pending);
    }
    free(s->logs);
    free(s->repairs);
    free(s->dir);
    free(s);
    *sp = NULL;
}

int storage_repairs(const struct storage *s, const struct storage_repair **out)
{
    *out = s->repairs;
    return s->nrepairs;
}

static void sync_dir(struct storage *s)
{
    if (!s->fsync_on)
        return;
    int fd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

static int write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len) {
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return CL_EIO;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

int storage_blob_put(struct storage *s, const char *name, const void *data, size_t len)
{
    if (!valid_name(name) || len > MAX_RECORD)
        return CL_EINVAL;
    char *path = xasprintf("%s/%s.blob", s->dir, name);
    char *tmp = xasprintf("%s/.%s.blob.tmp", s->dir, name);
    unsigned char h[HDR];
    storage_record_header(h, data, len);
    int rc = CL_EIO;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        goto out;
    if (write_all(fd, h, HDR) < 0 || write_all(fd, data, len) < 0 || (s->fsync_on && fsync(fd) < 0)) {
        close(fd);
        goto out;
    }
    close(fd);
    if (rename(tmp, path) < 0)
        goto out;
    sync_dir(s);
    rc = 0;
out:
    free(path);
    free(tmp);
    return rc;
}

int storage_blob_get(struct storage *s, const char *name, char **data, size_t *len)
{
    if (!valid_name(name))
        return CL_EINVAL;
    char *file = xasprintf("%s.blob", name);
    char err[256];
    int rc = read_blob(s, file, data, len, err, sizeof err);
    free(file);
    return rc;
}

int storage_log_append(struct storage *s, const char *name, const void *data, size_t len)
{
    struct slog *l = get_log(s, name);
    if (!l || len > MAX_RECORD)
        return CL_EINVAL;
    unsigned char h[HDR];
    storage_record_header(h, data, len);
    sb_addn(&l->pending, (const char *)h, HDR);
    sb_addn(&l->pending, data, len);
    l->npending++;
    return 0;
}

int storage_log_sync(struct storage *s, const char *name)
{
    struct slog *l = get_log(s, name);
    if (!l)
        return CL_EINVAL;
    if (l->npending) {
        if (pwrite(l->fd, l->pending.s, l->pending.len, (off_t)l->end) != (ssize_t)l->pending.len)
            return CL_EIO;
        /* index the records just written */
        size_t off = 0;
        while (off < l->pending.len) {
            push_off(l, l->end + off);
            off += HDR + get32((const unsigned char *)l->pending.s + off);
        }
        l->end += l->pending.len;
        l->pending.len = 0;
        l->npending = 0;
        l->dirty = 1;
    }
    if (!l->dirty)
        return 0; /* nothing new since the last sync: already durable */
    if (s->fsync_on && fdatasync(l->fd) < 0)
        return CL_EIO;
    l->dirty = 0;
    return 0;
}

int storage_log_truncate(struct storage *s, const char *name, size_t nrec)
{
    struct slog *l = get_log(s, name);
    if (!l)
        return CL_EINVAL;
    if (l->npending) { /* make pending records durable first so counts are exact */
        int rc = storage_log_sync(s, name);
        if (rc < 0)
            return rc;
    }
    if (nrec >= l->nrec)
        return 0;
    l->end = l->off[nrec];
    l->nrec = nrec;
    if (ftruncate(l->fd, (off_t)l->end) < 0)
        return CL_EIO;
    if (s->fsync_on && fdatasync(l->fd) < 0)
        return CL_EIO;
    return 0;
}

long storage_log_read(struct storage *s, const char *name,
                      void (*fn)(void *ud, const void *data, size_t len), void *ud)
{
    struct slog *l = get_log(s, name);
    if (!l)
        return CL_EINVAL;
    char *buf = NULL;
    for (size_t i = 0; i < l->nrec; i++) {
        unsigned len;
        if (!record_ok(l->fd, l->off[i], l->end, &len, &buf)) {
            free(buf);
            return CL_EIO;
        }
        fn(ud, buf, len);
    }
    free(buf);
    /* records appended but not yet synced are part of the log as the mode sees it */
    size_t off = 0;
    while (off < l->pending.len) {
        unsigned len = get32((const unsigned char *)l->pending.s + off);
        fn(ud, l->pending.s + off + HDR, len);
        off += HDR + len;
    }
    return (long)(l->nrec + l->npending);
}
