/* fixture — see fixture.h. */
#include "fixture.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "histfile.h"
#include "lincheck.h"

void fixture_failf(struct fixture *f, const char *fmt, ...)
{
    if (f->fail[0])
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->fail, sizeof f->fail, fmt, ap);
    va_end(ap);
}

static void on_record(void *ud, json_t *rec)
{
    struct fixture *f = ud;
    json_array_append(f->history, recorder_add(&f->rec, rec));
}

static void on_event(void *ud, const json_t *ev)
{
    struct fixture *f = ud;
    const char *what = json_string_value(json_object_get(ev, "ev"));
    if (f->mon && f->use_monitor) {
        size_t before = f->alert.len;
        if (f->mode->monitor->feed(f->mon, ev, &f->alert))
            fixture_failf(f, "monitor: %s", f->alert.s + before);
    }
    if (f->trace && what &&
        (f->trace > 1 || (strcmp(what, "send") && strcmp(what, "recv") && strcmp(what, "timer")))) {
        char *t = json_dumps(ev, JSON_COMPACT);
        fprintf(stderr, "%s\n", t);
        free(t);
    }
    for (int i = 0; f->keep && what && f->keep[i]; i++)
        if (!strcmp(what, f->keep[i])) {
            json_array_append_new(f->events, json_deep_copy(ev));
            break;
        }
    if (f->on_event)
        f->on_event(f->ud, ev);
}

/* Events are built only when someone reads them (a sweep without a monitor runs faster). */
static void update_events(struct fixture *f)
{
    int want = !f->quiet && ((f->mon && f->use_monitor) || f->keep || f->on_event || f->trace);
    sim_on_event(f->s, want ? on_event : NULL, want ? f : NULL);
}

struct fixture *fixture_try_new(const struct mode *m, int n, const char *optstr, uint64_t seed,
                                char *err, size_t errlen)
{
    struct opts o = {0};
    char *dup = xstrdup(optstr ? optstr : "");
    char *save = NULL;
    for (char *tok = strtok_r(dup, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        char *eq = strchr(tok, '=');
        if (eq) {
            *eq = 0;
            opts_set(&o, tok, eq + 1);
        }
    }
    free(dup);
    struct sim *s = NULL;
    if (mode_check_opts(m, &o, err, errlen) == 0)
        s = sim_new(m, n, &o, seed, err, errlen);
    opts_free(&o);
    if (!s)
        return NULL;
    struct fixture *f = xcalloc(1, sizeof *f);
    f->s = s;
    f->mode = m;
    f->n = n;
    f->seed = seed;
    f->c = simclient_new(s, on_record, f);
    f->events = json_array();
    f->history = json_array();
    if (m->monitor) {
        f->mon = m->monitor->create();
        f->use_monitor = 1;
    }
    const char *tr = getenv("FIXTURE_TRACE");
    f->trace = tr && *tr ? atoi(tr) : 0;
    update_events(f);
    return f;
}

struct fixture *fixture_new(const struct mode *m, int n, const char *optstr, uint64_t seed)
{
    char err[256] = "";
    struct fixture *f = fixture_try_new(m, n, optstr, seed, err, sizeof err);
    ck_assert_msg(f != NULL, "start %s %d %s: %s", m->name, n, optstr ? optstr : "", err);
    return f;
}

void fixture_free(struct fixture **fp)
{
    struct fixture *f = *fp;
    if (!f)
        return;
    simclient_destroy(&f->c);
    sim_destroy(&f->s);
    if (f->mon)
        f->mode->monitor->destroy(f->mon);
    recorder_clear(&f->rec);
    sb_free(&f->alert);
    json_decref(f->events);
    json_decref(f->history);
    free(f);
    *fp = NULL;
}

void fixture_watch(struct fixture *f, void (*on_ev)(void *ud, const json_t *ev),
                   void (*on_step)(void *ud), void *ud)
{
    f->on_event = on_ev;
    f->on_step = on_step;
    f->ud = ud;
    update_events(f);
}

void fixture_keep(struct fixture *f, const char *const *names)
{
    f->keep = names;
    update_events(f);
}

void fixture_events_off(struct fixture *f)
{
    f->quiet = 1;
    update_events(f);
}

const json_t *fixture_find(const struct fixture *f, const char *node, const char *ev)
{
    size_t i;
    const json_t *e;
    json_array_foreach(f->events, i, e)
        if (!strcmp(json_string_value(json_object_get(e, "ev")), ev) &&
            (!node || !strcmp(json_string_value(json_object_get(e, "node")), node)))
            return e;
    return NULL;
}

int fixture_count(const struct fixture *f, const char *ev, const char *field, const char *value)
{
    int n = 0;
    size_t i;
    const json_t *e;
    json_array_foreach(f->events, i, e) {
        if (strcmp(json_string_value(json_object_get(e, "ev")), ev))
            continue;
        if (field) {
            const char *v = json_string_value(json_object_get(e, field));
            if (!v || strcmp(v, value))
                continue;
        }
        n++;
    }
    return n;
}

struct until {
    struct fixture *f;
    int (*pred)(void *ud);
    void *ud;
};

/* After every step: the test's own check, then the failure or the caller's condition. */
static int step(void *ud, struct sim *s)
{
    (void)s;
    struct until *u = ud;
    if (u->f->on_step)
        u->f->on_step(u->f->ud);
    return u->f->fail[0] || (u->pred && u->pred(u->ud));
}

int fixture_run_until(struct fixture *f, uint64_t us, int (*pred)(void *ud), void *ud)
{
    struct until u = {f, pred, ud};
    uint64_t end = sim_now(f->s) + us;
    while (!f->fail[0]) {
        uint64_t now = sim_now(f->s);
        uint64_t slice = end - now < 1000 ? end - now : 1000;
        if (sim_run_until(f->s, slice, step, &u))
            return !f->fail[0];
        simclient_tick(f->c);
        if (pred && pred(ud))
            return 1;
        if (sim_now(f->s) >= end)
            break;
    }
    return 0;
}

void fixture_run(struct fixture *f, uint64_t us)
{
    fixture_run_until(f, us, NULL, NULL);
}

void fixture_direct(struct fixture *f, int direct)
{
    f->direct = direct;
}

static int fresh(struct fixture *f)
{
    int p = simclient_fresh(f->c, f->next_p);
    f->next_p = p + 1;
    simclient_set_follow(f->c, p, !f->direct);
    return p;
}

int fixture_invoke(struct fixture *f, int node, const char *fn, const char *key, const char *value,
                   const char *to)
{
    int p = fresh(f);
    ck_assert_int_eq(simclient_invoke(f->c, p, node, fn, key, value, to), 0);
    return p;
}

int fixture_send(struct fixture *f, int node, json_t *body)
{
    int p = fresh(f);
    ck_assert_int_eq(simclient_invoke_body(f->c, p, node, body), 0);
    return p;
}

struct await {
    struct fixture *f;
    int p;
};

static int op_done(void *ud)
{
    struct await *a = ud;
    return !simclient_busy(a->f->c, a->p);
}

enum simop_outcome fixture_await(struct fixture *f, int p, uint64_t max_us)
{
    if (simclient_busy(f->c, p)) {
        simclient_set_deadline(f->c, p, sim_now(f->s) + max_us);
        struct await a = {f, p};
        fixture_run_until(f, max_us, op_done, &a);
        if (simclient_busy(f->c, p) && !f->fail[0])
            simclient_tick(f->c); /* at the deadline: it ends as info */
    }
    return simclient_outcome(f->c, p);
}

json_t *fixture_call(struct fixture *f, int node, json_t *body, uint64_t max_us)
{
    int p = fixture_send(f, node, body);
    fixture_await(f, p, max_us);
    const json_t *r = simclient_reply(f->c, p);
    return r ? json_deep_copy(r) : NULL;
}

int fixture_linearizable(struct fixture *f, char *why, size_t whylen)
{
    char *jsonl = recorder_jsonl(&f->rec);
    struct history *h = NULL;
    char err[256];
    int ok = 0;
    if (history_parse_jsonl(jsonl, strlen(jsonl), &h, err, sizeof err) < 0) {
        snprintf(why, whylen, "the recorded history does not parse: %s", err);
        free(jsonl);
        return 0;
    }
    struct lin_opts o;
    lin_opts_default(&o);
    o.model = LIN_KV;
    o.time_limit_s = 60;
    struct lin_result *r = NULL;
    int v = lincheck_run(h, &o, &r, err, sizeof err);
    if (v == LIN_OK) {
        ok = 1;
    } else if (v < 0) {
        snprintf(why, whylen, "the checker cannot judge the history: %s", err);
    } else {
        struct sb b = {0};
        lincheck_format(h, r, &b);
        snprintf(why, whylen, "%s", b.s ? b.s : "not linearizable");
        sb_free(&b);
    }
    lin_result_free(&r);
    history_free(&h);
    free(jsonl);
    return ok;
}
