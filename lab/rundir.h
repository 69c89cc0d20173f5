/* rundir — a lab's run directory: where its ipc:// sockets, its clusters' data and its
 * dashboard endpoint live for the lab's lifetime, and nobody else's.
 *
 *   base      $XDG_RUNTIME_DIR/conlab when XDG_RUNTIME_DIR is an absolute path to a directory
 *             this user can write, else /tmp/conlab-UID. Created 0700, and refused unless it
 *             is a real directory (never a symlink followed) owned by this user; group and
 *             other access is taken away.
 *   run dir   base/lab-XXXXXX from mkdtemp: a name no other lab can hold, whatever its pid or
 *             PID namespace. Inside: "lock", flock'ed exclusively for the lab's lifetime (not
 *             inherited by the nodes), and "pid", the lab's pid as its own namespace sees it
 *             (for `conlab dash --pid`; never used to judge whether a lab is alive).
 *   sweep     before a lab makes its directory it removes those of labs that are gone: every
 *             directory whose lock it can take. Sweeping and creating happen under base/.sweep
 *             (flock'ed exclusively), so no lab is ever seen half-made; a directory without a
 *             lock file is not a lab's and is left alone.
 * A lab is alive exactly while its lock is held, in any PID namespace sharing the files.
 */
#ifndef CONLAB_RUNDIR_H
#define CONLAB_RUNDIR_H

#include <stddef.h>
#include <sys/types.h>

/* The base directory's path (not created). */
void rundir_base(char *out, size_t n);
/* Sweeps, then creates and locks a new run directory: its path in path, the lock's file
 * descriptor in *lock_fd. Returns 0, or CL_EIO with the reason (naming the path) in err. */
int rundir_create(char *path, size_t n, int *lock_fd, char *err, size_t errlen);
/* Removes the run directory (without following symlinks) and releases its lock. */
void rundir_remove(const char *path, int *lock_fd);
/* Is the lab of this run directory alive (its lock held)? */
int rundir_alive(const char *path);
/* Finds a live lab's run directory: the one whose pid file says pid, or with pid 0 any; the
 * newest when several match. Returns 0 with the path in out (and its pid in *found), or
 * CL_ENOENT with the reason in err. */
int rundir_find(pid_t pid, char *out, size_t n, pid_t *found, char *err, size_t errlen);

#endif
