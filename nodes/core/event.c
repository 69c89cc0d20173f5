/* event — kinds, names, the decoder and the one fold of a node's state. See event.h. */
#include "event.h"

#include <stdio.h>
#include <string.h>

static const char *const kind_names[EV_KIND_COUNT] = {
    [EV_OTHER] = "",
    [EV_SEND] = "send", [EV_RECV] = "recv", [EV_DROP] = "drop", [EV_TIMER] = "timer",
    [EV_STATE] = "state", [EV_VOTE] = "vote", [EV_APPEND] = "append", [EV_TRUNCATE] = "truncate",
    [EV_COMMIT] = "commit", [EV_APPLY] = "apply", [EV_SNAPSHOT] = "snapshot",
    [EV_QUORUM] = "quorum", [EV_ERROR] = "error",
    [EV_FAULT] = "fault", [EV_CLUSTER] = "cluster", [EV_STATUS] = "status", [EV_OUTPUT] = "output",
    [EV_OP] = "op", [EV_CLIENT] = "client", [EV_LESSON] = "lesson", [EV_VERDICT] = "verdict",
    [EV_COMMAND] = "command", [EV_SPEED] = "speed", [EV_INVARIANT] = "invariant",
    [EV_QUEUE] = "queue",
};

const char *event_kind_name(enum ev_kind k)
{
    return k >= 0 && k < EV_KIND_COUNT ? kind_names[k] : "";
}

enum ev_kind event_kind_of(const char *name)
{
    if (!name || !*name)
        return EV_OTHER;
    for (int k = 1; k < EV_KIND_COUNT; k++)
        if (!strcmp(kind_names[k], name))
            return (enum ev_kind)k;
    return EV_OTHER;
}

const char *event_kind_names(void)
{
    static char buf[512];
    if (!buf[0]) {
        size_t at = 0;
        for (int k = 1; k < EV_KIND_COUNT; k++)
            at += (size_t)snprintf(buf + at, sizeof buf - at, "%s%s", k > 1 ? "|" : "", kind_names[k]);
    }
    return buf;
}

static const char *const class_names[RC_COUNT] = {
    [RC_UNKNOWN] = "", [RC_LEADER] = "leader", [RC_CANDIDATE] = "candidate",
    [RC_FOLLOWER] = "follower", [RC_PEER] = "peer", [RC_COORDINATOR] = "coordinator",
    [RC_PARTICIPANT] = "participant",
};

const char *role_class_name(enum role_class c)
{
    return c >= 0 && c < RC_COUNT ? class_names[c] : "";
}

enum role_class role_class_of(const char *name)
{
    for (int c = 1; name && c < RC_COUNT; c++)
        if (!strcmp(class_names[c], name))
            return (enum role_class)c;
    return RC_UNKNOWN;
}

/* ---- field readers: a field of the wrong type counts as absent and is named once ---------- */

struct rd {
    const json_t *o;
    struct event *e;
};

static void bad(struct rd *r, const char *k)
{
    if (!r->e->bad_field)
        r->e->bad_field = k;
}

static const char *str(struct rd *r, const char *k)
{
    const json_t *v = json_object_get(r->o, k);
    if (v && !json_is_string(v)) {
        if (!json_is_null(v))
            bad(r, k);
        return NULL;
    }
    return json_string_value(v);
}

/* A non-negative whole number (a real is truncated, as traces written by hand may hold 3.0). */
static bool u64(struct rd *r, const char *k, uint64_t *out)
{
    const json_t *v = json_object_get(r->o, k);
    if (!v)
        return false;
    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        *out = (uint64_t)json_integer_value(v);
        return true;
    }
    if (json_is_real(v) && json_real_value(v) >= 0 && json_real_value(v) < 1.8e19) {
        *out = (uint64_t)json_real_value(v);
        return true;
    }
    bad(r, k);
    return false;
}

static bool i64(struct rd *r, const char *k, int64_t *out)
{
    const json_t *v = json_object_get(r->o, k);
    if (!v)
        return false;
    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return true;
    }
    if (json_is_real(v) && json_real_value(v) > -9e18 && json_real_value(v) < 9e18) {
        *out = (int64_t)json_real_value(v);
        return true;
    }
    bad(r, k);
    return false;
}

static bool num(struct rd *r, const char *k, double *out)
{
    const json_t *v = json_object_get(r->o, k);
    if (!v)
        return false;
    if (!json_is_number(v)) {
        bad(r, k);
        return false;
    }
    *out = json_number_value(v);
    return true;
}

static const json_t *arr(struct rd *r, const char *k)
{
    const json_t *v = json_object_get(r->o, k);
    if (v && !json_is_array(v)) {
        bad(r, k);
        return NULL;
    }
    return v;
}

static const json_t *obj(struct rd *r, const char *k)
{
    const json_t *v = json_object_get(r->o, k);
    if (v && !json_is_object(v)) {
        bad(r, k);
        return NULL;
    }
    return v;
}

/* ---- the decoder ----------------------------------------------------------------------- */

static void read_state(struct rd *r, struct ev_state *s)
{
    s->role = str(r, "role");
    s->has_term = u64(r, "term", &s->term);
    s->has_epoch = u64(r, "epoch", &s->epoch);
    s->leader_null = json_is_null(json_object_get(r->o, "leader"));
    s->leader = str(r, "leader");
}

void event_state_of_status(const json_t *status, struct ev_state *out)
{
    struct event scratch = {0};
    struct rd r = {status, &scratch};
    memset(out, 0, sizeof *out);
    if (json_is_object(status))
        read_state(&r, out);
}

static void read_msg(struct rd *r, struct ev_msg *m, enum ev_kind k)
{
    const char *to = str(r, "to"), *from = str(r, "from");
    m->outgoing = k == EV_SEND || (k == EV_DROP && to);
    m->peer = m->outgoing ? to : from;
    const json_t *body = json_object_get(r->o, "body");
    m->body = json_is_object(body) ? body : NULL;
    m->type = str(r, "type");
    if (!m->type && m->body)
        m->type = json_string_value(json_object_get(m->body, "type"));
    if (!m->type)
        m->type = "";
    m->msg_id = -1;
    if (!i64(r, "msg_id", &m->msg_id) && m->body) {
        const json_t *id = json_object_get(m->body, "msg_id");
        if (json_is_integer(id))
            m->msg_id = json_integer_value(id);
    }
    m->has_lamport = u64(r, "lamport", &m->lamport);
    m->why = k == EV_DROP ? str(r, "why") : NULL;
}

static void read_fault(struct rd *r, struct event *e)
{
    struct ev_fault *f = &e->fault;
    f->what = str(r, "what");
    f->target = str(r, "target");
    if (!f->target)
        f->target = e->node;
    f->groups = arr(r, "groups");
    f->src = str(r, "src");
    f->dst = str(r, "dst");
    f->has_ms = u64(r, "ms", &f->ms);
    f->has_pct = num(r, "pct", &f->pct) || num(r, "loss", &f->pct);
    f->has_kbps = u64(r, "kbps", &f->kbps);
    int64_t v;
    if (i64(r, "skew_us", &v)) {
        f->has_skew_us = true;
        f->skew_us = v;
    } else if (f->what && !strcmp(f->what, "skew") && i64(r, "ms", &v) && v > -9000000000000ll &&
               v < 9000000000000ll) {
        f->has_skew_us = true;
        f->skew_us = v * 1000;
    }
}

static void read_cluster(struct rd *r, struct ev_cluster *c)
{
    c->mode = str(r, "mode");
    c->nodes = arr(r, "nodes");
    c->options = obj(r, "options");
    c->roles = obj(r, "roles");
    c->figures = arr(r, "figures");
    const char *what = str(r, "what");
    c->stopped = json_is_true(json_object_get(r->o, "stopped")) || (what && !strcmp(what, "stop")) ||
                 (c->nodes && json_array_size(c->nodes) == 0);
    const json_t *sp = json_object_get(c->options, "speed");
    if (json_is_number(sp)) {
        c->has_speed = true;
        c->speed = json_number_value(sp);
    }
}

int event_decode(const json_t *j, struct event *e, char *err, size_t errlen)
{
    memset(e, 0, sizeof *e);
    if (!json_is_object(j)) {
        snprintf(err, errlen, "an event is a JSON object, not %s",
                 json_is_array(j) ? "an array" : j ? "a scalar" : "nothing");
        return CL_EINVAL;
    }
    const char *name = json_string_value(json_object_get(j, "ev"));
    if (!name) {
        snprintf(err, errlen, "an event needs a string \"ev\" naming its kind");
        return CL_EINVAL;
    }
    struct rd r = {j, e};
    e->json = j;
    e->name = name;
    e->kind = event_kind_of(name);
    e->node = str(&r, "node");
    e->has_t = u64(&r, "t", &e->t);
    e->has_seq = u64(&r, "seq", &e->seq);
    e->has_inc = u64(&r, "inc", &e->inc);
    switch (e->kind) {
    case EV_SEND: case EV_RECV: case EV_DROP:
        read_msg(&r, &e->msg, e->kind);
        break;
    case EV_STATE:
        read_state(&r, &e->state);
        break;
    case EV_STATUS: {
        const json_t *st = obj(&r, "status");
        e->status = st;
        if (st) {
            struct rd rs = {st, e};
            read_state(&rs, &e->state);
        }
        break;
    }
    case EV_VOTE:
        e->vote.what = str(&r, "what");
        e->vote.has_term = u64(&r, "term", &e->vote.term);
        e->vote.candidate = str(&r, "candidate");
        e->vote.reason = str(&r, "reason");
        break;
    case EV_APPEND: case EV_TRUNCATE: case EV_COMMIT: case EV_APPLY: case EV_SNAPSHOT:
        e->log.has_index = u64(&r, "index", &e->log.index);
        e->log.has_term = u64(&r, "term", &e->log.term);
        e->log.has_epoch = u64(&r, "epoch", &e->log.epoch);
        e->log.count = 1;
        u64(&r, "count", &e->log.count);
        e->log.cmd = str(&r, "cmd");
        e->log.key = str(&r, "key");
        e->log.value = json_object_get(j, "value");
        break;
    case EV_QUORUM:
        e->quorum.op = str(&r, "op");
        e->quorum.key = str(&r, "key");
        e->quorum.has_need = i64(&r, "need", &e->quorum.need);
        e->quorum.acked = arr(&r, "acked");
        e->quorum.missing = arr(&r, "missing");
        e->quorum.stale = arr(&r, "stale");
        break;
    case EV_FAULT:
        read_fault(&r, e);
        break;
    case EV_CLUSTER:
        read_cluster(&r, &e->cluster);
        break;
    case EV_OUTPUT: case EV_ERROR: case EV_INVARIANT:
        e->text = str(&r, "text");
        break;
    case EV_OP:
        e->op = obj(&r, "op");
        break;
    case EV_SPEED:
        num(&r, "factor", &e->factor);
        break;
    default:
        break;
    }
    return 0;
}

/* ---- the one fold of a node's state ------------------------------------------------------ */

void event_view_fold(struct ev_view *v, const struct ev_state *s, bool is_status)
{
    if (s->role)
        str_copy(v->role, s->role, sizeof v->role);
    if (s->has_term) {
        v->has_term = true;
        v->term = s->term;
    }
    if (s->has_epoch) {
        v->has_epoch = true;
        v->epoch = s->epoch;
    }
    if (s->leader && strlen(s->leader) < CL_IDLEN)
        str_copy(v->leader, s->leader, sizeof v->leader);
    else if (!is_status || s->leader_null)
        v->leader[0] = 0;
}

int64_t event_view_term(const struct ev_view *v)
{
    if (v->has_term)
        return (int64_t)v->term;
    if (v->has_epoch)
        return (int64_t)v->epoch;
    return -1;
}

const json_t *event_path(const json_t *obj, const char *path)
{
    char part[64];
    const json_t *v = obj;
    while (v && path && *path) {
        const char *dot = strchr(path, '.');
        size_t n = dot ? (size_t)(dot - path) : strlen(path);
        if (n >= sizeof part)
            return NULL;
        memcpy(part, path, n);
        part[n] = 0;
        v = json_is_object(v) ? json_object_get(v, part) : NULL;
        path = dot ? dot + 1 : NULL;
    }
    return v;
}
