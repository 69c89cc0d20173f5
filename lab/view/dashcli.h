/* dashcli — the dashboard's own subcommands (issue 6, docs/dashboard.md):
 *   conlab replay [options] FILE     a saved trace in the dashboard, with time travel
 *   conlab dash [options]            a read-only dashboard attached to a running lab
 *   conlab bench dash [options]      model + renderer throughput (lab/bench/dashbench.c)
 * Each *_main takes argv[0] = the subcommand's name and returns the exit status.
 */
#ifndef CONLAB_DASHCLI_H
#define CONLAB_DASHCLI_H

#include <stddef.h>
#include <sys/types.h>

int replaycli_main(int argc, char **argv);
int dashcli_main(int argc, char **argv);
int dashbench_main(int argc, char **argv);

/* The lab's side (not written here): bind a ZMQ_XPUB socket with ZMQ_XPUB_VERBOSE set
 * (ipc:// in the run directory), write its endpoint to "<run dir>/dash.endpoint" (rundir.h:
 * the directory a live lab holds locked), send every event as one frame of compact JSON, and
 * when the XPUB socket reports a new subscription (a frame starting with byte 1) send the
 * recorded events again (or the latest cluster and status events) so a late viewer sees the
 * cluster; remove the file on exit. `conlab bench dash --publish TRACE`
 * (lab/bench/dashbench.c) does exactly this with a trace and can serve as the example.
 *
 * Finds the dashboard endpoint of the live lab with this pid (0 = the newest live lab).
 * Returns 0 and fills ep, *found and its run directory dir, or CL_ENOENT with a reason in
 * err. */
int dashcli_find_endpoint(pid_t pid, char *ep, size_t epn, pid_t *found, char *dir, size_t dirn, char *err,
                          size_t errn);

#endif
