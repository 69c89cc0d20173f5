/* traceexport — a run's events (the objects of a trace file, tui/trace.h) written for outside
 * viewers:
 *   - ShiViz (https://bestchai.bitbucket.io/shiviz/): the parsing regex on the first line, an
 *     empty delimiter line, then two lines per node event — "t=12.345ms send append_entries to
 *     n2" and "n1 {"n1":4,"n2":2}" — with vector clocks rebuilt from the send and recv events
 *     (each node's own entry counts its events from 1, as ShiViz requires; a recv merges the
 *     clock of the send it matches by sender, receiver, type and msg_id);
 *   - the Chrome trace event format (chrome://tracing, https://ui.perfetto.dev): one process per
 *     node, its events as 1 µs slices on an "events" track, its roles as slices on a "role"
 *     track, each delivered message as a flow arrow from its send to its recv.
 * Only the nodes' events count (not the lab's, nor periodic status), from the last `cluster`
 * event on (one run). trace_export is pure (events in, text out); traceexport_main is the
 * command `conlab trace export TRACE OUT [--shiviz|--chrome]` over a saved trace.
 */
#ifndef CONLAB_TRACEEXPORT_H
#define CONLAB_TRACEEXPORT_H

#include <jansson.h>
#include <stddef.h>

#include "util.h"

/* The regex ShiViz parses our log with (the file's first line). */
#define SHIVIZ_REGEX "(?<event>.*)\\n(?<host>\\S*) (?<clock>{.*})"

enum trace_format { TRACE_SHIVIZ, TRACE_CHROME };

/* Writes ev[0..n) (borrowed) in format f to out. Returns the number of node events written. */
size_t trace_export(json_t *const *ev, size_t n, enum trace_format f, struct sb *out);

/* `conlab trace export …` (argv[0] is "export"). Returns the exit status. */
int traceexport_main(int argc, char **argv);

#endif
