/* simclient — closed-loop simulated clients that record a history. See simclient.h. */
#include "simclient.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvreply.h"

struct proc {
    int used;
    enum simop_outcome outcome;
    char f[16];
    json_t *body;             /* the request, without msg_id */
    json_t *hist_value;       /* the value recorded with the invoke */
    uint32_t allowed;
    int direct;
    int node;                 /* node of the current attempt, -1 = waiting to retry */
    uint64_t msg_id;          /* msg_id of the current attempt */
    uint64_t deadline, retry_at;
    char *read_value;
    json_t *reply;
    int code;
};

struct simclient {
    struct sim *s;
    void (*record)(void *ud, json_t *rec);
    void *ud;
    uint64_t timeout_us, backoff_us;
    uint64_t next_msg_id;
    struct proc *p;
    int np;
    long nrec;
    int ok, fail, info;
};

static void on_reply(void *ud, const char *node, const char *client, const json_t *body);

struct simclient *simclient_new(struct sim *s, void (*record)(void *ud, json_t *rec), void *ud)
{
    struct simclient *c = xcalloc(1, sizeof *c);
    c->s = s;
    c->record = record;
    c->ud = ud;
    c->timeout_us = 2000000;
    c->backoff_us = 20000;
    sim_on_reply(s, on_reply, c);
    return c;
}

static void proc_clear(struct proc *p)
{
    json_decref(p->body);
    json_decref(p->hist_value);
    json_decref(p->reply);
    free(p->read_value);
    p->body = p->hist_value = p->reply = NULL;
    p->read_value = NULL;
}

void simclient_destroy(struct simclient **cp)
{
    struct simclient *c = *cp;
    if (!c)
        return;
    sim_on_reply(c->s, NULL, NULL);
    for (int i = 0; i < c->np; i++)
        proc_clear(&c->p[i]);
    free(c->p);
    free(c);
    *cp = NULL;
}

/* Process pi, created (with the defaults) on first use; NULL when pi < 0. */
static struct proc *proc_of(struct simclient *c, int pi)
{
    if (pi < 0)
        return NULL;
    if (pi >= c->np) {
        int np = pi + 1 > 2 * c->np ? pi + 1 : 2 * c->np;
        c->p = xrealloc(c->p, (size_t)np * sizeof *c->p);
        memset(c->p + c->np, 0, (size_t)(np - c->np) * sizeof *c->p);
        for (int i = c->np; i < np; i++) {
            c->p[i].allowed = 0xffffffffu;
            c->p[i].node = -1;
            c->p[i].code = -1;
        }
        c->np = np;
    }
    return &c->p[pi];
}

static const struct proc *proc_get(const struct simclient *c, int pi)
{
    return pi >= 0 && pi < c->np ? &c->p[pi] : NULL;
}

void simclient_set_timeout(struct simclient *c, uint64_t us)
{
    c->timeout_us = us;
}

void simclient_set_backoff(struct simclient *c, uint64_t us)
{
    c->backoff_us = us;
}

void simclient_set_allowed(struct simclient *c, int pi, uint32_t mask)
{
    struct proc *p = proc_of(c, pi);
    if (p)
        p->allowed = mask;
}

void simclient_set_follow(struct simclient *c, int pi, int follow)
{
    struct proc *p = proc_of(c, pi);
    if (p)
        p->direct = !follow;
}

void simclient_set_deadline(struct simclient *c, int pi, uint64_t t)
{
    struct proc *p = proc_of(c, pi);
    if (p)
        p->deadline = t;
}

static void record(struct simclient *c, int pi, const char *type, int node, json_t *value,
                   json_t *error)
{
    struct proc *p = &c->p[pi];
    char nid[CL_IDLEN];
    node_name(node < 0 ? 0 : node, nid);
    const char *key = json_string_value(json_object_get(p->body, "key"));
    json_t *h = json_pack("{s:I,s:i,s:s,s:s,s:s,s:o,s:I,s:s}", "index", (json_int_t)c->nrec++,
                          "process", pi, "type", type, "f", p->f, "key", key ? key : "", "value",
                          value ? value : json_null(), "time", (json_int_t)(sim_now(c->s) * 1000),
                          "node", nid);
    if (error)
        json_object_set_new(h, "error", error);
    if (c->record)
        c->record(c->ud, h);
    else
        json_decref(h);
}

static void finish(struct simclient *c, int pi, enum simop_outcome o, json_t *value, json_t *error)
{
    struct proc *p = &c->p[pi];
    p->outcome = o;
    record(c, pi, o == SIMOP_OK ? "ok" : o == SIMOP_FAIL ? "fail" : "info", p->node, value, error);
    p->node = -1;
    if (o == SIMOP_OK)
        c->ok++;
    else if (o == SIMOP_FAIL)
        c->fail++;
    else
        c->info++;
}

static void attempt(struct simclient *c, int pi, int node)
{
    struct proc *p = &c->p[pi];
    char cid[CL_IDLEN];
    snprintf(cid, sizeof cid, "c%d", pi);
    p->msg_id = ++c->next_msg_id;
    p->node = node;
    json_t *b = json_deep_copy(p->body);
    json_object_set_new(b, "msg_id", json_integer((json_int_t)p->msg_id));
    if (sim_client_send(c->s, node, cid, b) < 0) {
        if (p->direct) { /* nothing was sent: it certainly did not take effect */
            p->code = ERR_CRASH;
            finish(c, pi, SIMOP_FAIL, json_incref(p->hist_value),
                   json_pack("{s:i,s:s}", "code", ERR_CRASH, "text", "node is down"));
            return;
        }
        p->node = -1; /* node down: retry elsewhere */
        p->retry_at = sim_now(c->s) + c->backoff_us;
    }
}

int simclient_invoke_body(struct simclient *c, int pi, int node, json_t *body)
{
    struct proc *p = proc_of(c, pi);
    const char *f = json_string_value(json_object_get(body, "type"));
    if (!p || p->outcome == SIMOP_PENDING || !f) {
        json_decref(body);
        return CL_ESTATE;
    }
    proc_clear(p);
    p->used = 1;
    p->code = -1;
    str_copy(p->f, f, sizeof p->f);
    json_object_del(body, "msg_id");
    p->body = body;
    if (!strcmp(f, "cas"))
        p->hist_value = json_pack("[O,O]", json_object_get(body, "from") ? json_object_get(body, "from") : json_null(),
                                  json_object_get(body, "to") ? json_object_get(body, "to") : json_null());
    else if (!strcmp(f, "write"))
        p->hist_value = json_incref(json_object_get(body, "value") ? json_object_get(body, "value") : json_null());
    p->outcome = SIMOP_PENDING;
    p->deadline = c->timeout_us ? sim_now(c->s) + c->timeout_us : UINT64_MAX;
    record(c, pi, "invoke", node, json_incref(p->hist_value), NULL);
    attempt(c, pi, node);
    return 0;
}

int simclient_invoke(struct simclient *c, int pi, int node, const char *f, const char *key,
                     const char *value, const char *to)
{
    json_t *b = json_pack("{s:s,s:s}", "type", f, "key", key);
    if (!strcmp(f, "write"))
        json_object_set_new(b, "value", json_string(value));
    else if (!strcmp(f, "cas")) {
        json_object_set_new(b, "from", json_string(value));
        json_object_set_new(b, "to", json_string(to));
    }
    return simclient_invoke_body(c, pi, node, b);
}

/* Another allowed node, round robin from the last one tried. */
static int next_node(struct simclient *c, int pi, int from)
{
    int n = sim_size(c->s);
    for (int k = 1; k <= n; k++) {
        int i = ((from < 0 ? 0 : from) + k) % n;
        if ((c->p[pi].allowed >> i) & 1)
            return i;
    }
    return from < 0 ? 0 : from;
}

static void on_reply(void *ud, const char *node, const char *client, const json_t *body)
{
    struct simclient *c = ud;
    int pi, from;
    if (client[0] != 'c' || sscanf(client + 1, "%d", &pi) != 1 || pi < 0 || pi >= c->np)
        return;
    struct proc *p = &c->p[pi];
    json_int_t irt = json_integer_value(json_object_get(body, "in_reply_to"));
    if (p->outcome != SIMOP_PENDING || p->node < 0 || (uint64_t)irt != p->msg_id ||
        parse_node_id(node, sim_size(c->s), &from) < 0 || from != p->node)
        return; /* a late answer to an earlier attempt */
    struct kvreply k;
    kvreply_classify(body, p->f, &k);
    json_decref(p->reply);
    p->reply = json_deep_copy(body);
    p->code = k.code;
    json_t *err = k.code >= 0 ? json_pack("{s:i,s:s}", "code", k.code, "text", k.text) : NULL;
    switch (k.kind) {
    case KVR_OK:
        json_decref(err);
        if (!strcmp(p->f, "read")) {
            free(p->read_value);
            p->read_value = json_is_string(k.value) ? xstrdup(json_string_value(k.value)) : NULL;
            finish(c, pi, SIMOP_OK, k.value ? json_deep_copy(k.value) : json_null(), NULL);
        } else {
            finish(c, pi, SIMOP_OK, json_incref(p->hist_value), NULL);
        }
        return;
    case KVR_FAIL:
        finish(c, pi, SIMOP_FAIL, json_incref(p->hist_value), err);
        return;
    case KVR_INFO:
        finish(c, pi, SIMOP_INFO, json_incref(p->hist_value), err);
        return;
    case KVR_REDIRECT:
    case KVR_UNAVAILABLE:
        break;
    }
    if (p->direct) {
        finish(c, pi, SIMOP_FAIL, json_incref(p->hist_value), err);
        return;
    }
    json_decref(err);
    /* refused before doing anything: follow the leader hint, or retry elsewhere later */
    int li;
    if (k.leader && parse_node_id(k.leader, sim_size(c->s), &li) == 0 && ((p->allowed >> li) & 1) &&
        sim_node_state(c->s, li) != SIM_DOWN) {
        attempt(c, pi, li);
        return;
    }
    p->retry_at = sim_now(c->s) + c->backoff_us;
    p->node = -(from + 2); /* waiting; remember where we were */
}

void simclient_tick(struct simclient *c)
{
    uint64_t now = sim_now(c->s);
    for (int pi = 0; pi < c->np; pi++) {
        struct proc *p = &c->p[pi];
        if (p->outcome != SIMOP_PENDING)
            continue;
        if (now >= p->deadline) {
            if (p->node < 0)
                p->node = p->node <= -2 ? -p->node - 2 : 0;
            json_decref(p->reply);
            p->reply = NULL;
            finish(c, pi, SIMOP_INFO, json_incref(p->hist_value), json_string("timeout"));
            continue;
        }
        if (p->node < 0 && now >= p->retry_at) {
            int last = p->node <= -2 ? -p->node - 2 : -1;
            attempt(c, pi, next_node(c, pi, last));
        }
    }
}

int simclient_busy(const struct simclient *c, int pi)
{
    const struct proc *p = proc_get(c, pi);
    return p && p->outcome == SIMOP_PENDING;
}

int simclient_fresh(const struct simclient *c, int from)
{
    int pi = from < 0 ? 0 : from;
    while (pi < c->np && c->p[pi].used)
        pi++;
    return pi;
}

enum simop_outcome simclient_outcome(const struct simclient *c, int pi)
{
    const struct proc *p = proc_get(c, pi);
    return p ? p->outcome : SIMOP_NONE;
}

const char *simclient_value(const struct simclient *c, int pi)
{
    const struct proc *p = proc_get(c, pi);
    return p ? p->read_value : NULL;
}

const json_t *simclient_reply(const struct simclient *c, int pi)
{
    const struct proc *p = proc_get(c, pi);
    return p ? p->reply : NULL;
}

int simclient_code(const struct simclient *c, int pi)
{
    const struct proc *p = proc_get(c, pi);
    return p ? p->code : -1;
}

void simclient_counts(const struct simclient *c, int *ok, int *fail, int *info)
{
    if (ok)
        *ok = c->ok;
    if (fail)
        *fail = c->fail;
    if (info)
        *info = c->info;
}
