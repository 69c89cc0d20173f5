/* clients — the lab's named client sessions (issue 19): `client c1` starts a client process
 * (lab/coord/zkclient.c) that holds a session of the cluster's ZooKeeper-like service and runs
 * the recipes; `c1 lock orders wait=5s lease=3s`, `c1 write storage KEY VALUE`, `pause c1 6s`,
 * `crash c1` … reach it. The lab also hosts the fenced storage those writes go to (the kit's
 * fence, `fencing=on|off`), and records every lock acquire and release and every storage write
 * as a `mutex` event (lab/check/mutex.h), so that `check mutex` can judge the run.
 *
 * The lab talks to a client through a PUSH socket (commands) and hears it on the cluster's
 * event socket (its replies are events too). A client is a process like a node: paused with
 * SIGSTOP, crashed with SIGKILL (the lab then records the end of its critical sections), cut
 * off from nodes with `c1 isolate [NODES]`. Clients end with their cluster.
 *
 * These are the lab's "actors beside the nodes": commands.c asks actors_command() about a word
 * no command table knows and actors_fault() about a process fault on a name that is not a
 * node. Ownership: everything lives in the lab (installed by lab_init, freed with it). */
#ifndef CONLAB_CLIENTS_H
#define CONLAB_CLIENTS_H

#include <jansson.h>
#include <stdint.h>

struct lab;

/* Adds the commands (client, clients, storage) and the lab hooks. */
void actors_install(struct lab *lab);
/* `NAME VERB …` for a client NAME: runs it and returns the command's status (0, 1, 2); -1 when
 * argv[0] names no client. */
int actors_command(struct lab *lab, int argc, char **argv);
/* Is word a client's name (so that the REPL and lessons take `c1 lock …` as a command)? */
int actors_known(const char *word);
/* For a script checked before it runs: notes the name a `client NAME` line will start, and
 * says whether argv[0] is such a name (then 1). */
int actors_validate(int argc, char **argv);
/* crash|pause|resume|restart on argv[1] when it names a client (argv[2]: pause's duration):
 * the status; -1 when it is not a client's name. */
int actors_fault(struct lab *lab, const char *verb, int argc, char **argv);
/* For programs that drive several clients at once (the lock benchmark): sends `VERB ARGS…` to
 * client name without waiting; *req receives its id. Returns 0, or -1 (no such client, down). */
int actors_send(struct lab *lab, const char *name, const char *verb, int argc, char **argv, uint64_t *req);
/* Waits up to us for the reply to req of client name: {"ok":bool,"text":…} (caller frees), or
 * NULL on timeout or when the client went down. */
json_t *actors_wait(struct lab *lab, const char *name, uint64_t req, uint64_t us);
/* Resumes node idx after us (`pause n1 2s`). */
void actors_resume_later(struct lab *lab, int idx, uint64_t us);

#endif
