/* rundir — see rundir.h. */
#include "rundir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

void rundir_base(char *out, size_t n)
{
    const char *x = getenv("XDG_RUNTIME_DIR");
    struct stat st;
    if (x && x[0] == '/' && stat(x, &st) == 0 && S_ISDIR(st.st_mode) && access(x, W_OK) == 0)
        snprintf(out, n, "%s/conlab", x);
    else
        snprintf(out, n, "/tmp/conlab-%d", (int)getuid());
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb; (void)flag; (void)ftw;
    remove(path); /* a symlink is removed, never followed (FTW_PHYS) */
    return 0;
}

static void rm_rf(const char *path)
{
    nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Creates (if needed) and opens the base directory, refusing anything this user does not
 * own alone. Returns an O_DIRECTORY fd, or -1 with err. */
static int open_base(const char *base, char *err, size_t errlen)
{
    if (mkdir(base, 0700) < 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create %s: %s", base, strerror(errno));
        return -1;
    }
    int fd = open(base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "%s is not a directory of ours (%s): remove it, or set XDG_RUNTIME_DIR",
                 base, errno == ELOOP || errno == ENOTDIR ? "a symlink or a file" : strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || st.st_uid != geteuid()) {
        snprintf(err, errlen, "%s belongs to uid %d, not to you: remove it, or set XDG_RUNTIME_DIR", base,
                 (int)st.st_uid);
        close(fd);
        return -1;
    }
    if ((st.st_mode & 077) && fchmod(fd, 0700) < 0) {
        snprintf(err, errlen, "%s is open to others and cannot be closed: %s", base, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

/* Opens name/lock under dirfd without following symlinks; -1 when there is none. */
static int open_lock(int dirfd, const char *name)
{
    int d = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (d < 0)
        return -1;
    int fd = openat(d, "lock", O_RDWR | O_NOFOLLOW | O_CLOEXEC);
    close(d);
    return fd;
}

/* Removes the run directories of labs that are gone: those whose lock can be taken. */
static void sweep(int basefd, const char *base)
{
    int dfd = dup(basefd);
    DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
    if (!d) {
        if (dfd >= 0)
            close(dfd);
        return;
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        struct stat st;
        if (de->d_name[0] == '.' || fstatat(basefd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
            !S_ISDIR(st.st_mode) || st.st_uid != geteuid())
            continue;
        int lfd = open_lock(basefd, de->d_name);
        if (lfd < 0)
            continue; /* not a lab's directory: not ours to judge */
        if (flock(lfd, LOCK_EX | LOCK_NB) == 0) {
            char *path = xasprintf("%s/%s", base, de->d_name);
            rm_rf(path);
            free(path);
        }
        close(lfd);
    }
    closedir(d);
}

int rundir_create(char *path, size_t n, int *lock_fd, char *err, size_t errlen)
{
    char base[400];
    rundir_base(base, sizeof base);
    *lock_fd = -1;
    int basefd = open_base(base, err, errlen);
    if (basefd < 0)
        return CL_EIO;
    int rc = CL_EIO;
    int gate = openat(basefd, ".sweep", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (gate < 0 || flock(gate, LOCK_EX) < 0) {
        snprintf(err, errlen, "cannot lock %s/.sweep: %s", base, strerror(errno));
        goto out;
    }
    sweep(basefd, base);
    snprintf(path, n, "%s/lab-XXXXXX", base);
    if (!mkdtemp(path)) {
        snprintf(err, errlen, "cannot create a run directory in %s: %s", base, strerror(errno));
        goto out;
    }
    char *lock = xasprintf("%s/lock", path);
    int fd = open(lock, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    free(lock);
    if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0) {
        snprintf(err, errlen, "cannot lock the run directory %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        rm_rf(path);
        goto out;
    }
    char *pidf = xasprintf("%s/pid", path);
    FILE *f = fopen(pidf, "w");
    free(pidf);
    if (f) {
        fprintf(f, "%d\n", (int)getpid());
        fclose(f);
    }
    *lock_fd = fd;
    rc = 0;
out:
    if (gate >= 0)
        close(gate); /* releases the gate */
    close(basefd);
    return rc;
}

void rundir_remove(const char *path, int *lock_fd)
{
    if (path[0])
        rm_rf(path);
    if (*lock_fd >= 0)
        close(*lock_fd);
    *lock_fd = -1;
}

int rundir_alive(const char *path)
{
    char *lock = xasprintf("%s/lock", path);
    int fd = open(lock, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    free(lock);
    if (fd < 0)
        return 0;
    int alive = flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
    close(fd); /* releases a lock taken on a dead lab's directory */
    return alive;
}

int rundir_find(pid_t pid, char *out, size_t n, pid_t *found, char *err, size_t errlen)
{
    char base[400];
    rundir_base(base, sizeof base);
    DIR *d = opendir(base);
    if (!d) {
        snprintf(err, errlen, "no running lab found (%s: %s)", base, strerror(errno));
        return CL_ENOENT;
    }
    struct dirent *de;
    time_t best_time = 0;
    int have = 0;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char *dir = xasprintf("%s/%s", base, de->d_name);
        char *pidf = xasprintf("%s/pid", dir);
        FILE *f = fopen(pidf, "r");
        long lp = 0;
        if (f) {
            if (fscanf(f, "%ld", &lp) != 1)
                lp = 0;
            fclose(f);
        }
        struct stat st;
        if (lp > 0 && (pid <= 0 || lp == (long)pid) && stat(dir, &st) == 0 && rundir_alive(dir) &&
            (!have || st.st_mtime > best_time)) {
            str_copy(out, dir, n);
            *found = (pid_t)lp;
            best_time = st.st_mtime;
            have = 1;
        }
        free(pidf);
        free(dir);
    }
    closedir(d);
    if (!have) {
        if (pid > 0)
            snprintf(err, errlen, "no lab with pid %ld is running", (long)pid);
        else
            snprintf(err, errlen, "no running lab found under %s (start one with `conlab`)", base);
        return CL_ENOENT;
    }
    return 0;
}
