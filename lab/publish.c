/* publish — see publish.h. */
#include "publish.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "util.h"

struct publisher {
    void *ctx, *pub;
    char path[600];
};

struct publisher *publish_open(const char *run_dir)
{
    struct publisher *p = xcalloc(1, sizeof *p);
    char ep[700];
    snprintf(ep, sizeof ep, "ipc://%s/dash.sock", run_dir);
    snprintf(p->path, sizeof p->path, "%s/dash.endpoint", run_dir);
    p->ctx = zmq_ctx_new();
    p->pub = zmq_socket(p->ctx, ZMQ_PUB);
    int zero = 0, hwm = 100000;
    zmq_setsockopt(p->pub, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(p->pub, ZMQ_SNDHWM, &hwm, sizeof hwm);
    if (zmq_bind(p->pub, ep) < 0) {
        zmq_close(p->pub);
        zmq_ctx_term(p->ctx);
        free(p);
        return NULL;
    }
    char tmp[700];
    snprintf(tmp, sizeof tmp, "%s.tmp", p->path);
    FILE *f = fopen(tmp, "w");
    if (f) {
        fprintf(f, "%s\n", ep);
        fclose(f);
        rename(tmp, p->path);
    }
    return p;
}

void publish_event(struct publisher *p, const json_t *ev)
{
    if (!p)
        return;
    char *s = json_dumps(ev, JSON_COMPACT);
    if (s) {
        zmq_send(p->pub, s, strlen(s), ZMQ_DONTWAIT);
        free(s);
    }
}

void publish_close(struct publisher **pp)
{
    struct publisher *p = *pp;
    if (!p)
        return;
    remove(p->path);
    zmq_close(p->pub);
    zmq_ctx_term(p->ctx);
    free(p);
    *pp = NULL;
}
