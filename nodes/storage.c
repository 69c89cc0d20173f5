/* storage — see storage.h. */
#include "storage.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

#define MAX_RECORD (64u << 20)

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

static int valid_name(const char *name)
{
    if (!*name || strlen(name) > 64)
        return 0;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' || *p == '.'))
            return 0;
    return name[0] != '.';
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
    free(s->dir);
    free(s);
    *sp = NULL;
}

static void sync_dir(struct storage *s)
{
    if (!s->fsync_on)
        return;
    int fd = open(s->dir, O_RDONLY | O_DIRECTORY);
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
    if (!valid_name(name))
        return CL_EINVAL;
    char *path = xasprintf("%s/%s", s->dir, name);
    char *tmp = xasprintf("%s/.%s.tmp", s->dir, name);
    int rc = CL_EIO;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        goto out;
    if (write_all(fd, data, len) < 0 || (s->fsync_on && fsync(fd) < 0)) {
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
    char *path = xasprintf("%s/%s", s->dir, name);
    int fd = open(path, O_RDONLY);
    free(path);
    if (fd < 0)
        return CL_ENOENT;
    struct sb b = {0};
    char buf[65536];
    ssize_t r;
    while ((r = read(fd, buf, sizeof buf)) > 0)
        sb_addn(&b, buf, (size_t)r);
    close(fd);
    if (r < 0) {
        sb_free(&b);
        return CL_EIO;
    }
    if (!b.s)
        sb_addn(&b, "", 0);
    *data = b.s;
    *len = b.len;
    return 0;
}

static void push_off(struct slog *l, size_t off)
{
    if (l->nrec == l->caprec) {
        l->caprec = l->caprec ? l->caprec * 2 : 256;
        l->off = xrealloc(l->off, l->caprec * sizeof *l->off);
    }
    l->off[l->nrec++] = off;
}

/* Opens a log, indexing its records and cutting off a torn tail. */
static struct slog *get_log(struct storage *s, const char *name)
{
    for (size_t i = 0; i < s->nlogs; i++)
        if (!strcmp(s->logs[i].name, name))
            return &s->logs[i];
    if (!valid_name(name))
        return NULL;
    char *path = xasprintf("%s/%s.log", s->dir, name);
    int fd = open(path, O_RDWR | O_CREAT, 0600);
    free(path);
    if (fd < 0)
        return NULL;
    s->logs = xrealloc(s->logs, (s->nlogs + 1) * sizeof *s->logs);
    struct slog *l = &s->logs[s->nlogs++];
    memset(l, 0, sizeof *l);
    l->name = xstrdup(name);
    l->fd = fd;
    size_t off = 0;
    unsigned char hdr[8];
    char *buf = NULL;
    for (;;) {
        if (pread(fd, hdr, 8, (off_t)off) != 8)
            break;
        unsigned len = (unsigned)hdr[0] | (unsigned)hdr[1] << 8 | (unsigned)hdr[2] << 16 | (unsigned)hdr[3] << 24;
        unsigned crc = (unsigned)hdr[4] | (unsigned)hdr[5] << 8 | (unsigned)hdr[6] << 16 | (unsigned)hdr[7] << 24;
        if (len > MAX_RECORD)
            break;
        buf = xrealloc(buf, len ? len : 1);
        if (pread(fd, buf, len, (off_t)(off + 8)) != (ssize_t)len || storage_crc32(buf, len) != crc)
            break;
        push_off(l, off);
        off += 8 + len;
    }
    free(buf);
    l->end = off;
    if (ftruncate(fd, (off_t)off) < 0) { /* drop the torn tail */
    }
    return l;
}

int storage_log_append(struct storage *s, const char *name, const void *data, size_t len)
{
    struct slog *l = get_log(s, name);
    if (!l || len > MAX_RECORD)
        return CL_EINVAL;
    unsigned crc = storage_crc32(data, len);
    unsigned char hdr[8] = {(unsigned char)len, (unsigned char)(len >> 8), (unsigned char)(len >> 16),
                            (unsigned char)(len >> 24), (unsigned char)crc, (unsigned char)(crc >> 8),
                            (unsigned char)(crc >> 16), (unsigned char)(crc >> 24)};
    sb_addn(&l->pending, (const char *)hdr, 8);
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
            const unsigned char *h = (const unsigned char *)l->pending.s + off;
            unsigned len = (unsigned)h[0] | (unsigned)h[1] << 8 | (unsigned)h[2] << 16 | (unsigned)h[3] << 24;
            push_off(l, l->end + off);
            off += 8 + len;
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
        size_t off = l->off[i];
        size_t next = i + 1 < l->nrec ? l->off[i + 1] : l->end;
        size_t len = next - off - 8;
        buf = xrealloc(buf, len ? len : 1);
        if (pread(l->fd, buf, len, (off_t)(off + 8)) != (ssize_t)len) {
            free(buf);
            return CL_EIO;
        }
        fn(ud, buf, len);
    }
    free(buf);
    /* records appended but not yet synced are part of the log as the mode sees it */
    size_t off = 0;
    while (off < l->pending.len) {
        const unsigned char *h = (const unsigned char *)l->pending.s + off;
        unsigned len = (unsigned)h[0] | (unsigned)h[1] << 8 | (unsigned)h[2] << 16 | (unsigned)h[3] << 24;
        fn(ud, l->pending.s + off + 8, len);
        off += 8 + len;
    }
    return (long)(l->nrec + l->npending);
}
