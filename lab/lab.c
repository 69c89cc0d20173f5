/* lab — see lab.h. The file follows the loop: the run directory, the session's life, output,
 * the collector (one decode per event, one fold of each node's state), the status cache, the
 * gateway, the loop itself, the cluster's life and the view of the leader. */
#include "lab.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clients.h"
#include "envelope.h"
#include "publish.h"
#include "room.h"
#include "rundir.h"
#include "sim.h"

static void exe_dir(const char *argv0, char *out, size_t n)
{
    char buf[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (len > 0) {
        buf[len] = 0;
    } else if (!realpath(argv0, buf)) {
        str_copy(buf, argv0, sizeof buf);
    }
    char *slash = strrchr(buf, '/');
    if (slash)
        *slash = 0;
    else
        str_copy(buf, ".", sizeof buf);
    str_copy(out, buf, n);
}

static void view_reset(struct lab *lab)
{
    for (int i = 0; i < CL_MAXNODES; i++) {
        memset(&lab->view[i], 0, sizeof lab->view[i]);
        lab->view[i].term = -1;
    }
}

int lab_init(struct lab *lab, const char *argv0, char *err, size_t errlen)
{
    memset(lab, 0, sizeof *lab);
    char dir[512];
    if (rundir_create(lab->run_dir, sizeof lab->run_dir, &lab->run_lock, err, errlen) < 0)
        return CL_EIO;
    exe_dir(argv0, dir, sizeof dir);
    const char *nb = getenv("CONLAB_NODE");
    if (nb && *nb)
        str_copy(lab->node_bin, nb, sizeof lab->node_bin);
    else
        snprintf(lab->node_bin, sizeof lab->node_bin, "%s/conlab-node", dir);
    const char *ld = getenv("CONLAB_LESSONS");
    if (ld && *ld)
        str_copy(lab->lessons_dir, ld, sizeof lab->lessons_dir);
    else
        snprintf(lab->lessons_dir, sizeof lab->lessons_dir, "%s/../lessons", dir);
    lab->seed = (uint64_t)mono_us();
    rng_seed(&lab->rng, lab->seed);
    lab->events = xcalloc(LAB_MAX_EVENTS, sizeof *lab->events);
    lab->ev_cost = xcalloc(LAB_MAX_EVENTS, sizeof *lab->ev_cost);
    lab->next_process = 1;
    lab->repl_process = 0;
    view_reset(lab);
    lab->pub = publish_open(lab->run_dir);
    lab->contexts = json_object();
    actors_install(lab); /* named client sessions beside the nodes (lab/coord) */
    return 0;
}

/* ---- hooks and added commands ------------------------------------------------------------ */

void lab_add_hooks(struct lab *lab, const struct lab_hooks *h)
{
    int k = 0; /* let removed hooks go first */
    for (int i = 0; i < lab->nhooks; i++)
        if (lab->hooks[i].ud || lab->hooks[i].on_event || lab->hooks[i].on_output || lab->hooks[i].on_line ||
            lab->hooks[i].on_command || lab->hooks[i].on_tick || lab->hooks[i].before_sleep || lab->hooks[i].on_destroy)
            lab->hooks[k++] = lab->hooks[i];
    lab->nhooks = k;
    assert(lab->nhooks < (int)CL_ARRAY_LEN(lab->hooks));
    if (lab->nhooks < (int)CL_ARRAY_LEN(lab->hooks))
        lab->hooks[lab->nhooks++] = *h;
}

void lab_command_typed(struct lab *lab, int argc, char **argv)
{
    for (int i = 0; i < lab->nhooks; i++)
        if (lab->hooks[i].on_command)
            lab->hooks[i].on_command(lab->hooks[i].ud, argc, argv);
}

void lab_remove_hooks(struct lab *lab, void *ud)
{
    for (int i = 0; i < lab->nhooks; i++)
        if (lab->hooks[i].ud == ud)
            memset(&lab->hooks[i], 0, sizeof lab->hooks[i]); /* compacted by the next add */
}

static void collect(struct lab *lab, json_t *ev);
static void out_text(struct lab *lab, const char *text);

/* ---- the mode's live invariant monitor: a hook for the life of one cluster ----------------- */

struct lab_monitor {
    struct lab *lab;
    const struct mode_monitor *ops;
    void *mon;
};

static void monitor_on_event(void *ud, const struct event *e)
{
    struct lab_monitor *m = ud;
    if (e->kind == EV_INVARIANT || e->kind == EV_OUTPUT)
        return;
    struct sb alert = {0};
    if (m->ops->feed(m->mon, e->json, &alert)) {
        struct lab *lab = m->lab;
        lab->alerts++;
        json_t *a = json_pack("{s:I,s:s,s:s,s:s}", "t", (json_int_t)e->t, "node", "lab", "ev", "invariant", "text",
                              alert.s ? alert.s : "");
        collect(lab, a);
        json_decref(a);
        struct sb line = {0};
        sb_add(&line, "INVARIANT VIOLATED: ");
        sb_add(&line, alert.s ? alert.s : "");
        out_text(lab, line.s);
        sb_free(&line);
    }
    sb_free(&alert);
    const json_t *note = m->ops->note ? m->ops->note(m->mon) : NULL;
    if (json_is_object(note) && json_is_string(json_object_get(note, "ev"))) {
        json_t *n = json_deep_copy(note); /* collect() feeds the monitor again: note is gone */
        json_object_set_new(n, "t", json_integer((json_int_t)e->t));
        json_object_set_new(n, "node", json_string("lab"));
        collect(m->lab, n);
        json_decref(n);
    }
}

void *lab_monitor_state(struct lab *lab)
{
    return lab->monitor ? lab->monitor->mon : NULL;
}

static void monitor_stop(struct lab *lab)
{
    struct lab_monitor *m = lab->monitor;
    if (!m)
        return;
    lab_remove_hooks(lab, m);
    m->ops->destroy(m->mon);
    free(m);
    lab->monitor = NULL;
}

static void monitor_start(struct lab *lab, const struct mode *mode)
{
    monitor_stop(lab);
    if (!mode->monitor)
        return;
    struct lab_monitor *m = xcalloc(1, sizeof *m);
    m->lab = lab;
    m->ops = mode->monitor;
    m->mon = mode->monitor->create();
    lab->monitor = m;
    lab_add_hooks(lab, &(struct lab_hooks){.ud = m, .on_event = monitor_on_event});
}

/* Commands other modules add (the lesson host's): program-wide, like the mode table. */
static const struct lab_command *added_tables[8];
static int nadded;

void lab_add_commands(const struct lab_command *table)
{
    for (int i = 0; i < nadded; i++)
        if (added_tables[i] == table)
            return;
    assert(nadded < (int)CL_ARRAY_LEN(added_tables));
    if (nadded < (int)CL_ARRAY_LEN(added_tables))
        added_tables[nadded++] = table;
}

const struct lab_command *lab_added_command(const char *name);
const struct lab_command *lab_added_command(const char *name)
{
    for (int t = 0; t < nadded; t++)
        for (const struct lab_command *c = added_tables[t]; c->name; c++)
            if (!strcmp(c->name, name))
                return c;
    return NULL;
}

const struct lab_command *const *lab_added_tables(int *n);
const struct lab_command *const *lab_added_tables(int *n)
{
    *n = nadded;
    return added_tables;
}

void lab_destroy(struct lab *lab)
{
    for (int i = lab->nhooks - 1; i >= 0; i--)
        if (lab->hooks[i].on_destroy)
            lab->hooks[i].on_destroy(lab->hooks[i].ud);
    lab_stop(lab);
    room_close(&lab->room);
    for (int i = 0; i < LAB_MAX_OPS; i++)
        lab_op_free(&lab->ops[i]);
    for (size_t i = 0; i < lab->ev_count; i++)
        json_decref(lab->events[(lab->ev_head + i) % LAB_MAX_EVENTS]);
    free(lab->events);
    free(lab->ev_cost);
    recorder_clear(&lab->hist);
    if (lab->trace)
        fclose(lab->trace);
    publish_close(&lab->pub);
    json_decref(lab->cluster_ev);
    json_decref(lab->net_ev);
    monitor_stop(lab);
    for (int i = 0; i < CL_MAXNODES; i++)
        json_decref(lab->status[i]);
    json_decref(lab->contexts);
    rundir_remove(lab->run_dir, &lab->run_lock);
}

/* ---- output ----------------------------------------------------------------------------- */

static void out_text(struct lab *lab, const char *text)
{
    /* as an event too: the dashboard, `conlab dash` viewers and traces show it */
    json_t *e = json_pack("{s:I,s:s,s:s,s:s}", "t", lab->cl ? (json_int_t)cluster_now(lab->cl) : (json_int_t)0,
                          "node", "lab", "ev", "output", "text", text);
    collect(lab, e);
    json_decref(e);
    int hooked = 0;
    for (int i = 0; i < lab->nhooks; i++)
        if (lab->hooks[i].on_output) {
            lab->hooks[i].on_output(lab->hooks[i].ud, text);
            hooked = 1;
        }
    if (!hooked) {
        fputs(text, stdout);
        if (!*text || text[strlen(text) - 1] != '\n')
            fputc('\n', stdout);
        fflush(stdout);
    }
}

void lab_out(struct lab *lab, const char *fmt, ...)
{
    struct sb b = {0};
    va_list ap;
    va_start(ap, fmt);
    sb_vprintf(&b, fmt, ap);
    va_end(ap);
    out_text(lab, b.s ? b.s : "");
    sb_free(&b);
}

void lab_err(struct lab *lab, const char *fmt, ...)
{
    struct sb b = {0};
    if (lab->script_line > 0)
        sb_printf(&b, "error line %d: ", lab->script_line);
    else
        sb_add(&b, "error: ");
    va_list ap;
    va_start(ap, fmt);
    sb_vprintf(&b, fmt, ap);
    va_end(ap);
    out_text(lab, b.s);
    sb_free(&b);
    lab->failed = 1;
}

/* ---- events: one decode each, one fold of a node's state ---------------------------------- */

static void view_fold(struct lab *lab, int idx, const struct ev_state *st, bool is_status)
{
    struct node_view *v = &lab->view[idx];
    event_view_fold(&v->ev, st, is_status);
    str_copy(v->role, v->ev.role[0] ? v->ev.role : "?", sizeof v->role);
    v->term = event_view_term(&v->ev);
    str_copy(v->leader, v->ev.leader, sizeof v->leader);
    v->cls = mode_role_class(lab->cl ? lab->cl->mode : NULL, v->role);
}

static void view_down(struct lab *lab, int idx)
{
    struct node_view *v = &lab->view[idx];
    str_copy(v->role, "down", sizeof v->role);
    v->leader[0] = 0;
    v->cls = RC_UNKNOWN;
}

/* An estimate of the memory a JSON value takes (jansson's objects, strings and numbers). */
static size_t json_cost(const json_t *j)
{
    size_t c;
    const char *k;
    json_t *v;
    size_t i;
    switch (json_typeof(j)) {
    case JSON_OBJECT:
        c = 96;
        json_object_foreach((json_t *)j, k, v)
            c += 56 + strlen(k) + json_cost(v);
        return c;
    case JSON_ARRAY:
        c = 64 + 8 * json_array_size(j);
        json_array_foreach(j, i, v)
            c += json_cost(v);
        return c;
    case JSON_STRING:
        return 48 + json_string_length(j);
    default:
        return 32;
    }
}

static void collect(struct lab *lab, json_t *ev)
{
    struct event e;
    char err[128];
    int typed = event_decode(ev, &e, err, sizeof err) == 0;
    int idx = -1;
    if (typed && e.node && lab->cl)
        parse_node_id(e.node, lab->cl->n, &idx);
    if (idx >= 0 && e.kind == EV_STATE) {
        view_fold(lab, idx, &e.state, false);
    } else if (idx >= 0 && e.kind == EV_FAULT && e.fault.what &&
               (!strcmp(e.fault.what, "crash") || !strcmp(e.fault.what, "exit") ||
                !strcmp(e.fault.what, "stonith"))) {
        view_down(lab, idx);
    }
    if (typed && e.kind == EV_FAULT && e.fault.what &&
        (!strcmp(e.fault.what, "partition") || !strcmp(e.fault.what, "heal") || !strcmp(e.fault.what, "cut"))) {
        json_decref(lab->net_ev); /* the network's shape, for viewers that attach later */
        lab->net_ev = json_incref(ev);
    }
    /* keep it: at most LAB_MAX_EVENTS events and LAB_EVENT_BYTES, the oldest go first */
    size_t cost = json_cost(ev);
    while (lab->ev_count > 0 && (lab->ev_count == LAB_MAX_EVENTS || lab->ev_bytes + cost > LAB_EVENT_BYTES)) {
        size_t old = lab->ev_head;
        json_decref(lab->events[old]);
        lab->events[old] = NULL;
        lab->ev_bytes -= lab->ev_cost[old];
        lab->ev_head = (lab->ev_head + 1) % LAB_MAX_EVENTS;
        lab->ev_count--;
    }
    size_t slot = (lab->ev_head + lab->ev_count++) % LAB_MAX_EVENTS;
    lab->events[slot] = json_incref(ev);
    lab->ev_cost[slot] = (uint32_t)(cost > UINT32_MAX ? UINT32_MAX : cost);
    lab->ev_bytes += lab->ev_cost[slot];
    lab->ev_total++;
    if (lab->trace) {
        char *s = json_dumps(ev, JSON_COMPACT);
        if (s) {
            fprintf(lab->trace, "%s\n", s);
            free(s);
        }
    }
    publish_event(lab->pub, ev);
    if (lab->room) {
        room_publish(lab->room, ev);
        if (typed && (e.kind == EV_CLUSTER || lab->net_ev == ev))
            room_set_snapshot(lab->room, e.kind == EV_CLUSTER ? ev : lab->cluster_ev, lab->net_ev);
    }
    if (!typed)
        return;
    for (int i = 0; i < lab->nhooks; i++)
        if (lab->hooks[i].on_event)
            lab->hooks[i].on_event(lab->hooks[i].ud, &e);
}

static void on_cluster_event(void *ud, const json_t *ev)
{
    collect(ud, (json_t *)ev);
}

void lab_event(struct lab *lab, const char *ev, json_t *fields)
{
    json_t *e = json_object();
    json_object_set_new(e, "t", json_integer(lab->cl ? (json_int_t)cluster_now(lab->cl) : 0));
    json_object_set_new(e, "node", json_string("lab"));
    json_object_set_new(e, "ev", json_string(ev));
    if (fields) {
        json_object_update(e, fields);
        json_decref(fields);
    }
    collect(lab, e);
    json_decref(e);
}

/* ---- node statuses: asked without waiting, folded as they come ----------------------------- */

/* A status as an event for the screens (the dashboard, `conlab dash`, traces). s is stolen. */
static void status_event(struct lab *lab, int idx, json_t *s)
{
    char id[CL_IDLEN];
    node_name(idx, id);
    json_object_set_new(s, "state", json_string(node_state_name(lab->cl->state[idx])));
    json_t *e = json_pack("{s:I,s:s,s:s,s:o}", "t", (json_int_t)cluster_now(lab->cl), "node", id, "ev", "status",
                          "status", s);
    collect(lab, e);
    json_decref(e);
}

static void on_cluster_status(void *ud, int idx, const json_t *status)
{
    struct lab *lab = ud;
    if (!lab->cl || idx < 0 || idx >= lab->cl->n || !json_is_object(status))
        return;
    lab->asked[idx] = 0;
    json_decref(lab->status[idx]);
    lab->status[idx] = json_deep_copy(status);
    lab->status_at[idx] = mono_us();
    struct ev_state st;
    event_state_of_status(status, &st);
    view_fold(lab, idx, &st, true);
    if (lab->for_screens[idx]) {
        lab->for_screens[idx] = 0;
        status_event(lab, idx, json_deep_copy(status));
    }
}

/* Asks every live node for its status; for_screens: the answers also become status events
 * (the snapshot rounds, twice a second while a screen watches). */
static void status_round(struct lab *lab, int for_screens)
{
    if (!lab->cl)
        return;
    lab->last_round = mono_us();
    for (int i = 0; i < lab->cl->n; i++) {
        if (lab->cl->state[i] == NODE_DOWN)
            view_down(lab, i);
        if (lab->cl->state[i] != NODE_UP) {
            lab->asked[i] = 0;
            if (for_screens)
                status_event(lab, i, json_object());
            continue;
        }
        if (for_screens)
            lab->for_screens[i] = 1;
        if (!lab->asked[i] || mono_us() - lab->status_at[i] > 2000000) /* a lost answer is asked again */
            lab->asked[i] = lab->cl->ops->status_request(lab->cl, i) == 0;
    }
}

void lab_status_round(struct lab *lab)
{
    status_round(lab, 0);
}

const json_t *lab_status_cached(const struct lab *lab, int idx)
{
    if (!lab->cl || idx < 0 || idx >= lab->cl->n || lab->cl->state[idx] == NODE_DOWN)
        return NULL;
    return lab->status[idx];
}

json_t *lab_node_data(struct lab *lab, int idx)
{
    if (!lab->cl || idx < 0 || idx >= lab->cl->n || lab->cl->state[idx] != NODE_UP)
        return NULL;
    json_t *inline_data = json_object_get(lab->status[idx], "data");
    if (json_is_object(inline_data) && lab->status_at[idx] + 1000000 > mono_us())
        return json_deep_copy(inline_data); /* a fresh status that carried it (small data) */
    if (!lab->cl->ops->data)
        return NULL;
    assert(!lab->pumping);
    json_t *all = json_object();
    char *after = NULL;
    int more = 1;
    while (more) {
        json_t *page = lab->cl ? lab->cl->ops->data(lab->cl, idx, after, NULL, &more) : NULL;
        if (!page) {
            json_decref(all);
            all = NULL;
            break;
        }
        const char *k, *last = NULL;
        json_t *v;
        json_object_foreach(page, k, v) {
            json_object_set(all, k, v);
            if (!last || strcmp(k, last) > 0)
                last = k;
        }
        if (!last)
            more = 0;
        else {
            free(after);
            after = xstrdup(last);
        }
        json_decref(page);
    }
    free(after);
    return all;
}

void lab_refresh(struct lab *lab, json_t *statuses[CL_MAXNODES])
{
    assert(!lab->pumping); /* a refresh waits: never from inside the loop */
    if (!lab->cl)
        return;
    for (int i = 0; i < lab->cl->n; i++)
        lab->asked[i] = 0;
    uint64_t asked_at = mono_us();
    lab_status_round(lab);
    uint64_t end = asked_at + 1000000;
    for (;;) {
        int waiting = 0;
        for (int i = 0; lab->cl && i < lab->cl->n; i++)
            waiting += lab->asked[i] && lab->cl->state[i] == NODE_UP;
        if (!waiting || mono_us() >= end || !lab->cl || lab->interrupted)
            break;
        lab_pump(lab, end - mono_us(), -1);
    }
    for (int i = 0; statuses && i < CL_MAXNODES; i++) {
        int fresh = lab->cl && i < lab->cl->n && lab->cl->state[i] != NODE_DOWN && lab->status[i] &&
                    lab->status_at[i] >= asked_at;
        statuses[i] = fresh ? json_deep_copy(lab->status[i]) : NULL;
    }
}

/* ---- the gateway ------------------------------------------------------------------------ */

uint64_t lab_timeout_us(const struct lab *lab)
{
    if (!lab->cl)
        return 2000000;
    uint64_t t = opts_get_duration(&lab->cl->opts, "timeout", 2000000);
    if (!lab->cl->sim)
        t = (uint64_t)((double)t / lab->cl->speed); /* slow motion slows everything */
    return t;
}

json_t *lab_record(struct lab *lab, int process, const char *type, const char *f, const json_t *key,
                   const json_t *value, int node, json_t *error)
{
    json_t *r = json_object();
    json_object_set_new(r, "process", json_integer(process));
    json_object_set_new(r, "type", json_string(type));
    json_object_set_new(r, "f", json_string(f));
    if (key)
        json_object_set(r, "key", (json_t *)key);
    json_object_set_new(r, "value", value ? json_deep_copy(value) : json_null());
    json_object_set_new(r, "time", json_integer(lab->cl ? (json_int_t)cluster_now(lab->cl) * 1000 : 0));
    char id[CL_IDLEN];
    node_name(node, id);
    json_object_set_new(r, "node", json_string(id));
    if (error)
        json_object_set_new(r, "error", error);
    return recorder_add(&lab->hist, r);
}

static json_t *record(struct lab *lab, const struct op *op, const char *type, const json_t *value,
                      json_t *error)
{
    return lab_record(lab, op->process, type, op->f, json_object_get(op->body, "key"), value, op->node, error);
}

static const json_t *op_value(const struct op *op)
{
    if (!strcmp(op->f, "cas"))
        return NULL; /* built by the caller */
    return json_object_get(op->body, "value");
}

/* Maelstrom's definite errors: the operation certainly did not take effect. */
static int definite(int code);
static int workload_op(const json_t *body, char f[16], const json_t **value);

/* The completion of a workload operation sent as is (lab_send_start: add, broadcast, a keyless
 * read): ok on its *_ok reply, fail on a definite error, info on any other error or none. A
 * read's value is what the reply holds: "value" (counters, g-set), else "messages" (broadcast). */
static void record_workload(struct lab *lab, struct op *op, enum op_outcome out, const json_t *reply)
{
    const char *rtype = json_string_value(json_object_get(reply, "type"));
    const char *type = out == OP_OK ? "ok" : out == OP_FAIL ? "fail" : "info";
    json_t *error = NULL, *value = NULL;
    if (out == OP_OK && rtype && !strcmp(rtype, "error")) {
        int code = (int)json_integer_value(json_object_get(reply, "code"));
        type = definite(code) && !json_is_true(json_object_get(reply, "indefinite")) ? "fail" : "info";
        error = json_pack("{s:O,s:O}", "code", json_object_get(reply, "code") ? json_object_get(reply, "code") : json_null(),
                          "text", json_object_get(reply, "text") ? json_object_get(reply, "text") : json_string(""));
    } else if (out != OP_OK) {
        error = json_string(reply ? "error" : out == OP_INFO ? "timeout" : "node down");
    }
    if (!strcmp(op->f, "read")) {
        const json_t *v = json_object_get(reply, "value");
        if (!v)
            v = json_object_get(reply, "messages");
        value = !strcmp(type, "ok") && v ? json_incref((json_t *)v) : json_null();
    } else {
        char f[16];
        const json_t *v = NULL;
        workload_op(op->body, f, &v);
        value = json_incref((json_t *)(v ? v : json_null()));
    }
    record(lab, op, type, value, error);
    json_decref(value);
    if (strcmp(type, "ok") && strcmp(type, "fail") && op->process == lab->repl_process)
        lab->repl_process = lab->next_process++; /* Jepsen: an indeterminate process is retired */
}

static void op_finish(struct lab *lab, struct op *op, enum op_outcome out, const json_t *reply)
{
    op->outcome = out;
    json_decref(op->reply);
    op->reply = reply ? json_deep_copy(reply) : NULL;
    if (op->raw) {
        if (op->workload)
            record_workload(lab, op, out, reply);
        if (op->done)
            op->done(op->done_ud, op);
        return;
    }
    json_t *value = NULL;
    if (!strcmp(op->f, "cas"))
        value = json_pack("[O,O]", json_object_get(op->body, "from"), json_object_get(op->body, "to"));
    else if (!strcmp(op->f, "read"))
        value = out == OP_OK ? json_incref(json_object_get(reply, "value") ? json_object_get(reply, "value") : json_null()) : json_null();
    else
        value = json_incref((json_t *)op_value(op));
    json_t *error = NULL;
    if (out == OP_INFO && !reply)
        error = json_string("timeout");
    else if (out != OP_OK && reply)
        error = json_pack("{s:O,s:O}", "code", json_object_get(reply, "code") ? json_object_get(reply, "code") : json_null(),
                          "text", json_object_get(reply, "text") ? json_object_get(reply, "text") : json_string(""));
    else if (out != OP_OK)
        error = json_string("node down");
    json_t *rec = record(lab, op, out == OP_OK ? "ok" : out == OP_FAIL ? "fail" : "info", value, error);
    op->latency_us = (json_integer_value(json_object_get(rec, "time")) -
                      json_integer_value(json_object_get(op->invoke, "time"))) / 1000;
    json_t *sib = json_object_get(reply, "siblings");
    if (out == OP_OK && sib)
        json_object_set(rec, "siblings", sib);
    json_t *ctx = json_object_get(reply, "context");
    if (out == OP_OK && ctx && (!strcmp(op->f, "read") || !strcmp(op->f, "write"))) {
        /* a later write by this client supersedes what it read or wrote (version vectors) */
        char k[300];
        snprintf(k, sizeof k, "p%d/%s", op->process, json_string_value(json_object_get(op->body, "key")));
        json_object_set(lab->contexts, k, ctx);
    }
    json_decref(value);
    lab_event(lab, "op", json_pack("{s:O}", "op", rec));
    if (out == OP_INFO && op->process == lab->repl_process)
        lab->repl_process = lab->next_process++; /* Jepsen: an indeterminate process is retired */
    for (int c = 0; out == OP_INFO && c < lab->nclients; c++)
        if (op->process == lab->client_process[c])
            lab->client_process[c] = lab->next_process++;
    if (op->done)
        op->done(op->done_ud, op);
}

static int send_op(struct lab *lab, struct op *op)
{
    op->msg_id = ++lab->next_msg_id;
    json_t *b = json_deep_copy(op->body);
    json_object_set_new(b, "msg_id", json_integer((json_int_t)op->msg_id));
    return lab->cl->ops->client_send(lab->cl, op->node, op->client, b);
}

static int definite(int code)
{
    return code == 10 || code == 11 || code == 12 || code == 14 || code == 20 || code == 21 ||
           code == 22 || code == 30;
}

static void on_cluster_reply(void *ud, int idx, const char *client, const json_t *body)
{
    struct lab *lab = ud;
    json_int_t irt = json_integer_value(json_object_get(body, "in_reply_to"));
    (void)idx;
    for (int i = 0; i < LAB_MAX_OPS; i++) {
        struct op *op = &lab->ops[i];
        if (!op->used || op->outcome != OP_PENDING || (json_int_t)op->msg_id != irt || strcmp(op->client, client))
            continue;
        const char *type = json_string_value(json_object_get(body, "type"));
        if (!op->raw && type && !strcmp(type, "error")) {
            int code = (int)json_integer_value(json_object_get(body, "code"));
            const char *leader = json_string_value(json_object_get(body, "leader"));
            int lidx;
            if (code == 11 && leader && !op->as_is && op->hops < 5 && parse_node_id(leader, lab->cl->n, &lidx) == 0 &&
                lidx != op->node && lab->cl->state[lidx] != NODE_DOWN) {
                op->hops++;
                op->node = lidx; /* follow the redirect */
                if (send_op(lab, op) == 0)
                    return;
            }
            if (code == 20 && !strcmp(op->f, "read")) {
                json_t *nil = json_pack("{s:s,s:n}", "type", "read_ok", "value");
                op_finish(lab, op, OP_OK, nil);
                json_decref(nil);
                return;
            }
            int indefinite = json_is_true(json_object_get(body, "indefinite"));
            op_finish(lab, op, definite(code) && !indefinite ? OP_FAIL : OP_INFO, body);
            return;
        }
        op_finish(lab, op, OP_OK, body);
        return;
    }
}

static void check_deadlines(struct lab *lab)
{
    if (!lab->cl)
        return;
    uint64_t now = cluster_now(lab->cl);
    for (int i = 0; i < LAB_MAX_OPS; i++) {
        struct op *op = &lab->ops[i];
        if (op->used && op->outcome == OP_PENDING && now >= op->deadline)
            op_finish(lab, op, OP_INFO, NULL);
    }
}

static struct op *op_alloc(struct lab *lab, int process)
{
    if (!lab->cl) {
        lab_err(lab, "no cluster is running: start one first, e.g. 'start raft 3'");
        return NULL;
    }
    for (int i = 0; i < LAB_MAX_OPS; i++) {
        struct op *op = &lab->ops[i];
        if (op->used)
            continue;
        memset(op, 0, sizeof *op);
        op->used = 1;
        op->process = process >= 0 ? process : lab->repl_process;
        snprintf(op->client, sizeof op->client, "c%d", op->process);
        return op;
    }
    lab_err(lab, "too many operations in flight (%d)", LAB_MAX_OPS);
    return NULL;
}

struct op *lab_op_start(struct lab *lab, const char *f, const char *key, const json_t *value,
                        int node, const json_t *extra, int process)
{
    struct op *op = op_alloc(lab, process);
    if (!op)
        return NULL;
    str_copy(op->f, f, sizeof op->f);
    const char *type = !strcmp(f, "read") ? "read" : !strcmp(f, "write") ? "write" : "cas";
    op->body = json_pack("{s:s,s:s}", "type", type, "key", key);
    if (!strcmp(f, "write"))
        json_object_set(op->body, "value", (json_t *)value);
    else if (!strcmp(f, "cas")) {
        json_object_set(op->body, "from", json_array_get(value, 0));
        json_object_set(op->body, "to", json_array_get(value, 1));
    }
    if (extra)
        json_object_update(op->body, (json_t *)extra);
    if (!strcmp(f, "write") && !json_object_get(op->body, "context")) {
        char k[300];
        snprintf(k, sizeof k, "p%d/%s", op->process, key);
        json_t *ctx = json_object_get(lab->contexts, k);
        if (ctx)
            json_object_set(op->body, "context", ctx);
    }
    if (node < 0) {
        node = lab_leader(lab, 0);
        /* no leader known (or a mode without one): ask the nodes, without waiting and not for
         * every operation, and meanwhile spread the clients over the live nodes */
        if ((node < 0 || lab->cl->state[node] == NODE_DOWN) && mono_us() - lab->last_round > 200000)
            lab_status_round(lab);
        for (int k = 0; (node < 0 || lab->cl->state[node] == NODE_DOWN) && k < lab->cl->n; k++)
            node = (op->process + k) % lab->cl->n;
        if (node < 0)
            node = 0;
    }
    op->node = node;
    op->deadline = cluster_now(lab->cl) + lab_timeout_us(lab);
    json_t *inv_value = !strcmp(f, "cas") ? json_incref((json_t *)value) : !strcmp(f, "read") ? json_null() : json_incref((json_t *)value);
    op->invoke = record(lab, op, "invoke", inv_value, NULL);
    json_decref(inv_value);
    lab_event(lab, "op", json_pack("{s:O}", "op", op->invoke));
    if (lab->cl->state[node] == NODE_DOWN || send_op(lab, op) < 0)
        op_finish(lab, op, OP_FAIL, NULL);
    return op;
}

/* Is a body one of Maelstrom's workload operations the history records (g-set, g-counter,
 * pn-counter: add{element|delta} and read{}; broadcast: broadcast{message} and read{})? Sets
 * f and the invoked value. A read with a key is a register read (lab_op_start's). */
static int workload_op(const json_t *body, char f[16], const json_t **value)
{
    const char *type = json_string_value(json_object_get(body, "type"));
    *value = NULL;
    if (!type)
        return 0;
    if (!strcmp(type, "add")) {
        *value = json_object_get(body, "delta");
        if (!*value)
            *value = json_object_get(body, "element");
        str_copy(f, "add", 16);
        return *value != NULL;
    }
    if (!strcmp(type, "broadcast")) {
        *value = json_object_get(body, "message");
        str_copy(f, "broadcast", 16);
        return *value != NULL;
    }
    if (!strcmp(type, "read") && !json_object_get(body, "key")) {
        str_copy(f, "read", 16);
        return 1;
    }
    return 0;
}

/* Does a process other than op have an operation in flight? (A process has one at a time.) */
static int process_busy(const struct lab *lab, const struct op *self, int process)
{
    for (int i = 0; i < LAB_MAX_OPS; i++)
        if (&lab->ops[i] != self && lab->ops[i].used && lab->ops[i].process == process &&
            lab->ops[i].outcome == OP_PENDING && (!lab->ops[i].raw || lab->ops[i].workload))
            return 1;
    return 0;
}

struct op *lab_send_start(struct lab *lab, int node, const json_t *body)
{
    struct op *op = op_alloc(lab, -1);
    if (!op)
        return NULL;
    op->raw = 1;
    op->as_is = 1;
    str_copy(op->f, "send", sizeof op->f);
    op->body = json_deep_copy(body);
    json_object_del(op->body, "msg_id");
    op->node = node;
    op->deadline = cluster_now(lab->cl) + lab_timeout_us(lab);
    const json_t *wv;
    char wf[16];
    if (workload_op(op->body, wf, &wv)) {
        /* a workload operation is a client operation of the history, like put and get */
        op->workload = 1;
        str_copy(op->f, wf, sizeof op->f);
        if (process_busy(lab, op, op->process)) { /* concurrent senders (a bench): one process each */
            op->process = lab->next_process++;
            snprintf(op->client, sizeof op->client, "c%d", op->process);
        }
        op->invoke = record(lab, op, "invoke", wv ? wv : json_null(), NULL);
        lab_event(lab, "op", json_pack("{s:O}", "op", op->invoke));
    }
    if (lab->cl->state[node] == NODE_DOWN || send_op(lab, op) < 0)
        op_finish(lab, op, OP_FAIL, NULL);
    return op;
}

enum op_outcome lab_op_wait(struct lab *lab, struct op *op)
{
    while (op->outcome == OP_PENDING && !lab->interrupted)
        lab_pump(lab, 20000, -1);
    if (op->outcome == OP_PENDING) /* interrupted: the result is unknown */
        op_finish(lab, op, OP_INFO, NULL);
    return op->outcome;
}

void lab_op_free(struct op *op)
{
    if (!op || !op->used)
        return;
    json_decref(op->body);
    json_decref(op->reply);
    memset(op, 0, sizeof *op);
}

void lab_op_describe(const struct op *op, struct sb *out)
{
    lab_op_result(op, out);
    if (op->hops)
        sb_printf(out, "  [via n%d]", op->node + 1);
    /* a mode that says which nodes held the write when it was acknowledged (leader) */
    json_t *by = op->outcome == OP_OK ? json_object_get(op->reply, "acked_by") : NULL;
    if (json_array_size(by)) {
        sb_add(out, "  [acked by");
        size_t i;
        json_t *n;
        json_array_foreach(by, i, n) {
            sb_add(out, i ? ", " : " ");
            recorder_add_value(out, n);
        }
        sb_addc(out, ']');
    }
    /* what the client waited, so that latency is measured, not guessed (PACELC) */
    if (!op->as_is && op->outcome != OP_PENDING && op->latency_us >= 0)
        sb_printf(out, "  [%lld ms]", (long long)((op->latency_us + 500) / 1000));
}

void lab_op_result(const struct op *op, struct sb *out)
{
    if (op->as_is && op->reply) {
        /* ASCII only: every control byte and non-ASCII character is a \u escape, so the
         * reply can never drive a terminal */
        char *s = json_dumps(op->reply, JSON_COMPACT | JSON_ENSURE_ASCII);
        sb_add(out, s ? s : "");
        free(s);
    } else if (op->outcome == OP_OK) {
        if (!strcmp(op->f, "read")) {
            json_t *sib = json_object_get(op->reply, "siblings");
            if (json_array_size(sib) > 1) {
                sb_add(out, "siblings:");
                size_t i;
                json_t *s;
                json_array_foreach(sib, i, s) {
                    sb_addc(out, ' ');
                    recorder_add_value(out, s);
                }
            } else {
                recorder_add_value(out, json_object_get(op->reply, "value"));
            }
        } else {
            sb_add(out, "ok");
        }
    } else if (!op->reply) {
        sb_add(out, op->outcome == OP_INFO ? "timeout" : "error: node down");
    } else {
        const char *text = json_string_value(json_object_get(op->reply, "text"));
        sb_printf(out, "error %lld ", (long long)json_integer_value(json_object_get(op->reply, "code")));
        sb_add_escaped(out, text ? text : "", text ? strlen(text) : 0);
        const char *l = json_string_value(json_object_get(op->reply, "leader"));
        if (l)
            sb_printf(out, " (leader %s)", l);
    }
}

/* ---- the loop --------------------------------------------------------------------------- */

#define SNAPSHOT_EVERY_US 500000
#define SLICE_US 50000

/* Phase "due": what the clock says must happen now. */
static void run_due(struct lab *lab, uint64_t now)
{
    check_deadlines(lab);
    if (lab->snapshots && now - lab->last_snapshot >= SNAPSHOT_EVERY_US) {
        lab->last_snapshot = now;
        if (lab->cluster_ev)
            publish_event(lab->pub, lab->cluster_ev); /* a viewer that attached late learns the cluster */
        if (lab->net_ev)
            publish_event(lab->pub, lab->net_ev);     /* and the network's shape */
        status_round(lab, 1);                         /* the answers arrive in dispatch */
    }
    for (int i = 0; i < lab->nhooks; i++)
        if (lab->hooks[i].on_tick)
            lab->hooks[i].on_tick(lab->hooks[i].ud);
}

int lab_pump(struct lab *lab, uint64_t timeout_us, int fd)
{
    assert(!lab->pumping); /* one loop: a hook or callback must never pump again */
    lab->pumping = 1;
    uint64_t end = mono_us() + timeout_us;
    int rc;
    for (;;) {
        /* clock */
        uint64_t now = mono_us();
        /* due */
        run_due(lab, now);
        /* redraw */
        for (int i = 0; i < lab->nhooks; i++)
            if (lab->hooks[i].before_sleep)
                lab->hooks[i].before_sleep(lab->hooks[i].ud);
        /* poll (dispatch runs inside it, through the cluster's callbacks) */
        now = mono_us();
        uint64_t slice = now >= end ? 0 : end - now;
        if (slice > SLICE_US)
            slice = SLICE_US;
        int ready;
        if (lab->cl) {
            ready = lab->cl->ops->pump(lab->cl, slice, fd);
        } else if (lab->room) {
            ready = room_pump(lab->room, slice, fd);
        } else {
            struct pollfd p = {.fd = fd, .events = POLLIN};
            ready = poll(fd >= 0 ? &p : NULL, fd >= 0 ? 1 : 0, (int)(slice / 1000)) > 0;
        }
        if (ready == 1) {
            rc = 1;
            break;
        }
        if (ready == 2 || mono_us() >= end || lab->interrupted) {
            rc = 0; /* something happened: let the caller look */
            break;
        }
    }
    lab->pumping = 0;
    return rc;
}

int lab_input(struct lab *lab, const char *line)
{
    for (int i = 0; i < lab->nhooks; i++)
        if (lab->hooks[i].on_line && lab->hooks[i].on_line(lab->hooks[i].ud, line))
            return 0;
    return lab_exec(lab, line);
}

/* ---- cluster lifecycle and the view ----------------------------------------------------- */

int lab_start(struct lab *lab, const char *mode_name, int n, const struct opts *o)
{
    lab_stop(lab);
    const struct mode *m = mode_find(mode_name);
    if (!m) {
        lab_err(lab, "unknown mode '%s'; modes: %s", mode_name, mode_names());
        return CL_EINVAL;
    }
    struct cluster_config cfg = {
        .mode = m,
        .n = n,
        .opts = o,
        .speed = 1,
        .node_bin = lab->node_bin,
        .run_dir = lab->run_dir,
        .on_event = on_cluster_event,
        .on_reply = on_cluster_reply,
        .ud = lab,
        .room = lab->room,
    };
    const char *sp = opts_get(o, "speed", NULL);
    if (sp)
        parse_double(sp, &cfg.speed);
    const char *seed = opts_get(o, "seed", NULL);
    int64_t s;
    cfg.seed = seed && parse_i64(seed, &s) == 0 ? (uint64_t)s : (mono_us() & 0x7fffffff);
    lab->seed = cfg.seed;
    rng_seed(&lab->rng, cfg.seed);
    view_reset(lab);
    json_object_clear(lab->contexts); /* a version vector names the old cluster's writes */
    lab->hist_run_from = lab->hist.n;
    for (int i = 0; i < CL_MAXNODES; i++) {
        json_decref(lab->status[i]);
        lab->status[i] = NULL;
        lab->asked[i] = lab->for_screens[i] = 0;
    }
    char err[512];
    int sim = !strcmp(opts_get(o, "sim", "off"), "on");
    if (!sim) {
        /* let the mode judge its options (cross-field rules such as w <= n) before any
         * process starts: build it once in a throwaway simulator */
        struct sim *probe = sim_new(m, n, o, 1, err, sizeof err);
        if (!probe) {
            lab_err(lab, "%s", err);
            return CL_EINVAL;
        }
        sim_destroy(&probe);
    }
    /* the live invariant monitor, for the modes that have one: set up before the first event */
    monitor_start(lab, m);
    lab->cl = sim ? simhost_start(&cfg, err, sizeof err) : procs_start(&cfg, err, sizeof err);
    if (!lab->cl) {
        monitor_stop(lab);
        lab_err(lab, "%s", err);
        return CL_EIO;
    }
    lab->cl->on_status = on_cluster_status;
    json_t *nodes = json_array(), *opts = json_object();
    for (int i = 0; i < n; i++) {
        char id[CL_IDLEN];
        node_name(i, id);
        json_array_append_new(nodes, json_string(id));
    }
    for (int i = 0; i < o->n; i++)
        json_object_set_new(opts, o->key[i], json_string(o->val[i]));
    /* the mode's face travels with the cluster, so traces and `conlab dash` need no mode table */
    json_t *fields = json_pack("{s:s,s:o,s:o,s:b,s:I}", "mode", m->name, "nodes", nodes, "options", opts, "sim", sim,
                               "seed", (json_int_t)cfg.seed);
    json_t *face = mode_face_json(m);
    json_object_update(fields, face);
    json_decref(face);
    lab_event(lab, "cluster", fields);
    json_decref(lab->cluster_ev);
    lab->cluster_ev = json_incref(lab->events[(lab->ev_head + lab->ev_count - 1) % LAB_MAX_EVENTS]);
    return 0;
}

void lab_stop(struct lab *lab)
{
    if (!lab->cl)
        return;
    for (int i = 0; i < LAB_MAX_OPS; i++)
        if (lab->ops[i].used && lab->ops[i].outcome == OP_PENDING)
            op_finish(lab, &lab->ops[i], OP_INFO, NULL);
    cluster_destroy(&lab->cl);
    monitor_stop(lab);
    lab_event(lab, "cluster", json_pack("{s:b}", "stopped", 1));
    json_decref(lab->cluster_ev);
    lab->cluster_ev = NULL;
}

int lab_leader(struct lab *lab, int refresh)
{
    if (!lab->cl)
        return -1;
    if (refresh)
        lab_refresh(lab, NULL);
    int best = -1;
    for (int i = 0; i < lab->cl->n; i++) {
        if (lab->cl->state[i] == NODE_DOWN || lab->view[i].cls != RC_LEADER)
            continue;
        if (best < 0 || lab->view[i].term > lab->view[best].term)
            best = i;
    }
    return best;
}

int lab_mode_has_leader(struct lab *lab, struct sb *why)
{
    const struct mode *m = lab->cl ? lab->cl->mode : NULL;
    if (m && m->leader_when && mode_has_class(m, RC_LEADER)) {
        /* "key=value": is the cluster started with it (or is it the option's default)? */
        const char *eq = strchr(m->leader_when, '=');
        char key[64] = "";
        if (eq && (size_t)(eq - m->leader_when) < sizeof key)
            memcpy(key, m->leader_when, (size_t)(eq - m->leader_when));
        const char *def = "";
        for (const struct mode_option *o = m->options; key[0] && o && o->name; o++)
            if (!strcmp(o->name, key))
                def = o->def ? o->def : "";
        const char *val = key[0] ? opts_get(&lab->cl->opts, key, def) : NULL;
        if (!val || !strcmp(val, eq + 1))
            return 1;
        if (why)
            sb_printf(why, "the %s mode elects no leader with %s=%s (it does with %s)", m->name, key, val,
                      m->leader_when);
        return 0;
    }
    if (!m || mode_has_class(m, RC_LEADER))
        return 1;
    if (why) {
        sb_printf(why, "the %s mode has no leader (its roles:", m->name);
        for (const struct mode_role *r = m->roles; r && r->role; r++)
            sb_printf(why, " %s", r->role);
        sb_add(why, ")");
    }
    return 0;
}

int lab_groups(struct lab *lab, char names[][CL_IDLEN], int of[CL_MAXN])
{
    const struct mode *m = lab->cl ? lab->cl->mode : NULL;
    if (!m || !m->groups)
        return 0;
    int k = m->groups(&lab->cl->opts, lab->cl->n, names, of);
    return k < 0 ? 0 : k > CL_MAXN ? CL_MAXN : k;
}

int lab_group_mask(struct lab *lab, const char *name, uint32_t *mask)
{
    /* a classroom's hosts (the cluster file's names) are groups too */
    int h = lab->room && lab->cl && !lab->cl->sim ? room_host_find(lab->room, name) : -1;
    if (h >= 0) {
        const struct room_host *rh = room_host(lab->room, h);
        *mask = 0;
        for (int i = rh->first; i < rh->first + rh->nodes && i < lab->cl->n; i++)
            *mask |= 1u << i;
        return 1;
    }
    char names[CL_MAXN][CL_IDLEN];
    int of[CL_MAXNODES];
    int k = lab_groups(lab, names, of);
    for (int g = 0; g < k; g++) {
        if (strcmp(names[g], name))
            continue;
        *mask = 0;
        for (int i = 0; i < lab->cl->n; i++)
            if (of[i] == g)
                *mask |= 1u << i;
        return 1;
    }
    return 0;
}

/* The leader of the nodes in mask (a group, or the cluster) and whether a majority of them
 * knows it: the up node of the leader class in the highest term, and the nodes that name it
 * in the same term. */
static int leader_of(struct lab *lab, uint32_t mask, int *leader)
{
    int l = -1, size = 0;
    for (int i = 0; i < lab->cl->n; i++) {
        if (!(mask & (1u << i)))
            continue;
        size++;
        if (lab->cl->state[i] == NODE_DOWN || lab->view[i].cls != RC_LEADER)
            continue;
        if (l < 0 || lab->view[i].term > lab->view[l].term)
            l = i;
    }
    *leader = l;
    if (l < 0)
        return 0;
    char id[CL_IDLEN];
    node_name(l, id);
    int agree = 0;
    for (int i = 0; i < lab->cl->n; i++) {
        if (!(mask & (1u << i)) || lab->cl->state[i] != NODE_UP)
            continue;
        if (i == l || (!strcmp(lab->view[i].leader, id) && lab->view[i].term == lab->view[l].term))
            agree++;
    }
    return agree >= size / 2 + 1;
}

int lab_leader_agreed(struct lab *lab, int *leader, int64_t *term)
{
    char names[CL_MAXN][CL_IDLEN];
    int of[CL_MAXNODES];
    int k = lab_groups(lab, names, of);
    if (k > 0) {
        /* a mode with groups (data centres): a leader in each, known to a majority of it */
        lab_refresh(lab, NULL);
        int first = -1;
        for (int g = 0; g < k; g++) {
            uint32_t mask = 0;
            for (int i = 0; i < lab->cl->n; i++)
                if (of[i] == g)
                    mask |= 1u << i;
            int l;
            if (!leader_of(lab, mask, &l))
                return 0;
            if (first < 0)
                first = l;
        }
        *leader = first;
        *term = lab->view[first].term;
        return 1;
    }
    int l = lab_leader(lab, 1);
    if (l < 0)
        return 0;
    uint32_t all = lab->cl->n >= 32 ? 0xffffffffu : (1u << lab->cl->n) - 1;
    int ok = leader_of(lab, all, &l);
    *leader = l;
    *term = lab->view[l].term;
    return ok;
}

int lab_leaders_text(struct lab *lab, struct sb *out)
{
    char names[CL_MAXN][CL_IDLEN];
    int of[CL_MAXNODES];
    int k = lab_groups(lab, names, of);
    for (int g = 0; g < k; g++) {
        uint32_t mask = 0;
        for (int i = 0; i < lab->cl->n; i++)
            if (of[i] == g)
                mask |= 1u << i;
        int l;
        leader_of(lab, mask, &l);
        if (l >= 0)
            sb_printf(out, "%s%s n%d", g ? ", " : "", names[g], l + 1);
        else
            sb_printf(out, "%s%s none", g ? ", " : "", names[g]);
    }
    return k;
}

int lab_parse_node(struct lab *lab, const char *s, int *idx)
{
    if (!lab->cl) {
        lab_err(lab, "no cluster is running: start one first, e.g. 'start raft 3'");
        return CL_EINVAL;
    }
    if (!strcmp(s, "leader")) {
        struct sb why = {0};
        if (!lab_mode_has_leader(lab, &why)) {
            lab_err(lab, "%s: name a node (n1..n%d)", why.s, lab->cl->n);
            sb_free(&why);
            return CL_EINVAL;
        }
        int l = lab_leader(lab, 1);
        if (l < 0) {
            lab_err(lab, "no node is leader right now (try 'wait leader')");
            return CL_EINVAL;
        }
        *idx = l;
        return 0;
    }
    uint32_t mask;
    if (lab_group_mask(lab, s, &mask)) {
        /* a group (a data centre): its leader, else its first live node, else its first */
        int l;
        leader_of(lab, mask, &l);
        for (int i = 0; l < 0 && i < lab->cl->n; i++)
            if ((mask & (1u << i)) && lab->cl->state[i] == NODE_UP)
                l = i;
        for (int i = 0; l < 0 && i < lab->cl->n; i++)
            if (mask & (1u << i))
                l = i;
        if (l < 0) {
            lab_err(lab, "group '%s' has no node", s);
            return CL_EINVAL;
        }
        *idx = l;
        return 0;
    }
    if (parse_node_id(s, lab->cl->n, idx) < 0) {
        char names[CL_MAXN][CL_IDLEN];
        int of[CL_MAXNODES];
        int k = lab_groups(lab, names, of);
        struct sb g = {0};
        for (int i = 0; i < k; i++)
            sb_printf(&g, "%s%s", i ? ", " : ", or a group: ", names[i]);
        lab_err(lab, "unknown node '%s': this cluster has n1..n%d (or say 'leader'%s)", s, lab->cl->n, g.s ? g.s : "");
        sb_free(&g);
        return CL_EINVAL;
    }
    return 0;
}

int lab_client_process(struct lab *lab, const char *name)
{
    for (int c = 0; c < lab->nclients; c++)
        if (!strcmp(lab->client_name[c], name))
            return lab->client_process[c];
    if (lab->nclients >= LAB_MAX_CLIENTS)
        return -1;
    str_copy(lab->client_name[lab->nclients], name, sizeof lab->client_name[0]);
    lab->client_process[lab->nclients] = lab->next_process++;
    return lab->client_process[lab->nclients++];
}
