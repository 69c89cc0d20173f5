/* version — what this build is: the release (kept in one place, the top entry of
 * debian/changelog) and the commit it was built from (git in a checkout, else the COMMIT file
 * of a tarball or package). The Makefile generates the definitions (build/gen/version.c). */
#ifndef CONLAB_VERSION_H
#define CONLAB_VERSION_H

/* The release, e.g. "0.1.0". */
extern const char conlab_version[];
/* The commit, e.g. "421ada9c3f1e" or "421ada9c3f1e-dirty"; "unknown" when the build had
 * neither git nor a COMMIT file. */
extern const char conlab_commit[];

#endif
