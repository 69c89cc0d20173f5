/* publish — the lab's event stream for `conlab dash` in another terminal: a ZeroMQ PUB socket
 * on ipc://<run dir>/dash.sock whose endpoint is written (one line) to <run dir>/dash.endpoint.
 * Every event the lab collects goes out as one JSON frame, without ever blocking (a slow
 * viewer loses events, the lab does not wait). Owned by the lab. */
#ifndef CONLAB_PUBLISH_H
#define CONLAB_PUBLISH_H

#include <jansson.h>

struct publisher;

/* Returns NULL when the socket cannot be bound (the lab goes on without it). */
struct publisher *publish_open(const char *run_dir);
void publish_event(struct publisher *p, const json_t *ev);
void publish_close(struct publisher **p);

#endif
