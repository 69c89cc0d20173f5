/* simclient — closed-loop simulated clients that record a history. See simclient.h. */
#include "simclient.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct proc {
    enum simop_outcome outcome;
    char f[8];
    char *key, *value, *to;
    json_t *hist_value;       /* the value recorded with the invoke */
    uint32_t allowed;
    int node;                 /* node of the current attempt, -1 = waiting to retry */
    uint64_t msg_id;          /* msg_id of the current attempt */
    uint64_t deadline, retry_at;
    char *read_value;
    int read_null;
};

struct simclient {
    struct sim *s;
    uint64_t timeout_us, backoff_us;
    uint64_t next_msg_id;
    struct proc p[SIMCLIENT_MAXP];
    json_t *hist;
    int ok, fail, info;
};

static void on_reply(void *ud, const char *node, const char *client, const json_t *body);

struct simclient *simclient_new(struct sim *s)
{
    struct simclient *c = xcalloc(1, sizeof *c);
    c->s = s;
    c->timeout_us = 2000000;
    c->backoff_us = 20000;
    c->hist = json_array();
    for (int i = 0; i < SIMCLIENT_MAXP; i++) {
        c->p[i].allowed = 0xffffffffu;
        c->p[i].node = -1;
    }
    sim_on_reply(s, on_reply, c);
    return c;
}

static void proc_clear(struct proc *p)
{
    free(p->key);
    free(p->value);
    free(p->to);
    free(p->read_value);
    json_decref(p->hist_value);
    p->key = p->value = p->to = p->read_value = NULL;
    p->hist_value = NULL;
}

void simclient_destroy(struct simclient **cp)
{
    struct simclient *c = *cp;
    if (!c)
        return;
    sim_on_reply(c->s, NULL, NULL);
    for (int i = 0; i < SIMCLIENT_MAXP; i++)
        proc_clear(&c->p[i]);
    json_decref(c->hist);
    free(c);
    *cp = NULL;
}

void simclient_set_timeout(struct simclient *c, uint64_t us)
{
    c->timeout_us = us;
}

void simclient_set_backoff(struct simclient *c, uint64_t us)
{
    c->backoff_us = us;
}

void simclient_set_allowed(struct simclient *c, int p, uint32_t mask)
{
    if (p >= 0 && p < SIMCLIENT_MAXP)
        c->p[p].allowed = mask;
}

static void record(struct simclient *c, int pi, const char *type, int node, json_t *value,
                   json_t *error)
{
    struct proc *p = &c->p[pi];
    char nid[CL_IDLEN];
    node_name(node < 0 ? 0 : node, nid);
    json_t *h = json_pack("{s:I,s:i,s:s,s:s,s:s,s:o,s:I,s:s}", "index",
                          (json_int_t)json_array_size(c->hist), "process", pi, "type", type, "f",
                          p->f, "key", p->key, "value", value ? value : json_null(), "time",
                          (json_int_t)(sim_now(c->s) * 1000), "node", nid);
    if (error)
        json_object_set_new(h, "error", error);
    json_array_append_new(c->hist, h);
}

static void attempt(struct simclient *c, int pi, int node)
{
    struct proc *p = &c->p[pi];
    char cid[CL_IDLEN];
    snprintf(cid, sizeof cid, "c%d", pi);
    p->msg_id = ++c->next_msg_id;
    p->node = node;
    json_t *b = json_pack("{s:s,s:I,s:s}", "type", p->f, "msg_id", (json_int_t)p->msg_id, "key", p->key);
    if (!strcmp(p->f, "write"))
        json_object_set_new(b, "value", json_string(p->value));
    else if (!strcmp(p->f, "cas")) {
        json_object_set_new(b, "from", json_string(p->value));
        json_object_set_new(b, "to", json_string(p->to));
    }
    if (sim_client_send(c->s, node, cid, b) < 0) {
        p->node = -1; /* node down: retry elsewhere */
        p->retry_at = sim_now(c->s) + c->backoff_us;
    }
}

int simclient_invoke(struct simclient *c, int pi, int node, const char *f, const char *key,
                     const char *value, const char *to)
{
    if (pi < 0 || pi >= SIMCLIENT_MAXP || c->p[pi].outcome == SIMOP_PENDING)
        return CL_ESTATE;
    struct proc *p = &c->p[pi];
    proc_clear(p);
    str_copy(p->f, f, sizeof p->f);
    p->key = xstrdup(key);
    p->value = value ? xstrdup(value) : NULL;
    p->to = to ? xstrdup(to) : NULL;
    if (!strcmp(f, "cas"))
        p->hist_value = json_pack("[s,s]", value, to);
    else if (!strcmp(f, "write"))
        p->hist_value = json_string(value);
    p->outcome = SIMOP_PENDING;
    p->deadline = sim_now(c->s) + c->timeout_us;
    record(c, pi, "invoke", node, json_incref(p->hist_value), NULL);
    attempt(c, pi, node);
    return 0;
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
    int pi;
    if (client[0] != 'c' || sscanf(client + 1, "%d", &pi) != 1 || pi < 0 || pi >= SIMCLIENT_MAXP)
        return;
    struct proc *p = &c->p[pi];
    json_int_t irt = json_integer_value(json_object_get(body, "in_reply_to"));
    int from;
    if (p->outcome != SIMOP_PENDING || p->node < 0 || (uint64_t)irt != p->msg_id ||
        parse_node_id(node, sim_size(c->s), &from) < 0 || from != p->node)
        return; /* a late answer to an earlier attempt */
    const char *type = json_string_value(json_object_get(body, "type"));
    if (!type)
        return;
    if (!strcmp(type, "read_ok")) {
        json_t *v = json_object_get(body, "value");
        free(p->read_value);
        p->read_value = json_is_string(v) ? xstrdup(json_string_value(v)) : NULL;
        finish(c, pi, SIMOP_OK, json_is_string(v) ? json_incref(v) : json_null(), NULL);
        return;
    }
    if (!strcmp(type, "write_ok") || !strcmp(type, "cas_ok")) {
        finish(c, pi, SIMOP_OK, json_incref(p->hist_value), NULL);
        return;
    }
    if (strcmp(type, "error"))
        return;
    json_int_t code = json_integer_value(json_object_get(body, "code"));
    if (code == 20 && !strcmp(p->f, "read")) {
        finish(c, pi, SIMOP_OK, json_null(), NULL);
        return;
    }
    if (code == 20 || code == 22 || code == 12 || code == 10) {
        finish(c, pi, SIMOP_FAIL, json_incref(p->hist_value),
                json_pack("{s:I,s:s}", "code", code,
                          "text", json_string_value(json_object_get(body, "text")) ?
                          json_string_value(json_object_get(body, "text")) : ""));
        return;
    }
    if (code == 11) {
        /* refused before doing anything: follow the leader hint, or retry elsewhere later */
        const char *hint = json_string_value(json_object_get(body, "leader"));
        int li;
        if (hint && parse_node_id(hint, sim_size(c->s), &li) == 0 && ((p->allowed >> li) & 1) &&
            sim_node_state(c->s, li) != SIM_DOWN) {
            attempt(c, pi, li);
            return;
        }
        p->retry_at = sim_now(c->s) + c->backoff_us;
        p->node = -(from + 2); /* waiting; remember where we were */
        return;
    }
    /* any other error: indeterminate */
    finish(c, pi, SIMOP_INFO, json_incref(p->hist_value),
            json_pack("{s:I,s:s}", "code", code, "text", "error"));
}

void simclient_tick(struct simclient *c)
{
    uint64_t now = sim_now(c->s);
    for (int pi = 0; pi < SIMCLIENT_MAXP; pi++) {
        struct proc *p = &c->p[pi];
        if (p->outcome != SIMOP_PENDING)
            continue;
        if (now >= p->deadline) {
            int was = p->node;
            if (p->node < 0)
                p->node = p->node <= -2 ? -p->node - 2 : 0;
            (void)was;
            finish(c, pi, SIMOP_INFO, json_incref(p->hist_value), json_string("timeout"));
            continue;
        }
        if (p->node < 0 && now >= p->retry_at) {
            int last = p->node <= -2 ? -p->node - 2 : -1;
            attempt(c, pi, next_node(c, pi, last));
        }
    }
}

int simclient_busy(const struct simclient *c, int p)
{
    return p >= 0 && p < SIMCLIENT_MAXP && c->p[p].outcome == SIMOP_PENDING;
}

enum simop_outcome simclient_outcome(const struct simclient *c, int p)
{
    return p >= 0 && p < SIMCLIENT_MAXP ? c->p[p].outcome : SIMOP_NONE;
}

const char *simclient_value(const struct simclient *c, int p)
{
    return p >= 0 && p < SIMCLIENT_MAXP ? c->p[p].read_value : NULL;
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

const json_t *simclient_history(const struct simclient *c)
{
    return c->hist;
}

void simclient_history_jsonl(const struct simclient *c, struct sb *out)
{
    size_t i;
    json_t *h;
    json_array_foreach(c->hist, i, h) {
        char *s = json_dumps(h, JSON_COMPACT);
        sb_add(out, s);
        sb_addc(out, '\n');
        free(s);
    }
}
