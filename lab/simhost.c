/* simhost — the cluster as the deterministic simulator hosted inside the lab
 * (`start MODE N sim=on seed=S`). Virtual time follows the wall clock times the speed factor
 * unless frozen; `step N` then advances event by event. Same commands, events and history as
 * real processes; a run replays exactly from its seed. See cluster.h. */
#include "cluster.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include "statusbrief.h"

struct simhost {
    struct cluster c;
    struct sim *sim;
    uint64_t wall_anchor;      /* wall µs when virtual time was virt_anchor */
    uint64_t virt_anchor;
};

static struct simhost *S(struct cluster *c)
{
    return (struct simhost *)c;
}

static void on_sim_event(void *ud, const json_t *ev)
{
    struct cluster *c = ud;
    c->events_seen++;
    if (c->on_event)
        c->on_event(c->ud, ev);
}

static void on_sim_reply(void *ud, const char *node, const char *client, const json_t *body)
{
    struct cluster *c = ud;
    int idx;
    if (parse_node_id(node, c->n, &idx) == 0 && c->on_reply)
        c->on_reply(c->ud, idx, client, body);
}


static void sync_states(struct simhost *h)
{
    for (int i = 0; i < h->c.n; i++) {
        enum sim_node_state s = sim_node_state(h->sim, i);
        h->c.state[i] = s == SIM_UP ? NODE_UP : s == SIM_DOWN ? NODE_DOWN : NODE_PAUSED;
    }
}

static void reanchor(struct simhost *h)
{
    h->wall_anchor = mono_us();
    h->virt_anchor = sim_now(h->sim);
}

static int sh_pump(struct cluster *c, uint64_t timeout_us, int fd)
{
    struct simhost *h = S(c);
    uint64_t end = mono_us() + timeout_us;
    for (;;) {
        uint64_t now = mono_us();
        int activity = 0;
        if (!c->frozen) {
            uint64_t target = h->virt_anchor + (uint64_t)((double)(now - h->wall_anchor) * c->speed);
            int budget = 20000; /* stay responsive even if the sim is busy */
            while (sim_next_time(h->sim) <= target && budget-- > 0) {
                sim_step(h->sim);
                activity = 1;
            }
            if (budget <= 0)
                reanchor(h); /* fell behind: slow virtual time rather than freeze the lab */
            else if (sim_now(h->sim) < target)
                sim_run_for(h->sim, target - sim_now(h->sim));
        }
        sync_states(h);
        if (activity)
            return 2;
        now = mono_us();
        if (now >= end)
            return 0;
        uint64_t wait = end - now;
        if (!c->frozen) {
            uint64_t next = sim_next_time(h->sim);
            if (next != UINT64_MAX) {
                uint64_t virt_wait = next > sim_now(h->sim) ? next - sim_now(h->sim) : 0;
                uint64_t wall_wait = (uint64_t)((double)virt_wait / c->speed);
                if (wall_wait < wait)
                    wait = wall_wait;
            }
        }
        if (wait > 100000)
            wait = 100000;
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int rc = poll(fd >= 0 ? &pfd : NULL, fd >= 0 ? 1 : 0, (int)((wait + 999) / 1000));
        if (rc > 0)
            return 1;
    }
}

static int sh_client_send(struct cluster *c, int idx, const char *client, json_t *body)
{
    return sim_client_send(S(c)->sim, idx, client, body);
}

static int sh_crash(struct cluster *c, int idx)
{
    if (c->state[idx] == NODE_DOWN)
        return CL_ESTATE;
    sim_crash(S(c)->sim, idx);
    sync_states(S(c));
    return 0;
}

static int sh_restart(struct cluster *c, int idx)
{
    if (c->state[idx] != NODE_DOWN)
        return CL_ESTATE;
    sim_restart(S(c)->sim, idx);
    sync_states(S(c));
    return 0;
}

static int sh_pause(struct cluster *c, int idx)
{
    if (c->state[idx] != NODE_UP)
        return CL_ESTATE;
    sim_pause(S(c)->sim, idx);
    sync_states(S(c));
    return 0;
}

static int sh_resume(struct cluster *c, int idx)
{
    if (c->state[idx] != NODE_PAUSED)
        return CL_ESTATE;
    sim_resume(S(c)->sim, idx);
    sync_states(S(c));
    return 0;
}

static void sh_push_faults(struct cluster *c)
{
    sim_set_faults(S(c)->sim, &c->faults);
}

static void sh_push_clock(struct cluster *c, int idx)
{
    struct clocks *k = sim_clocks(S(c)->sim, idx);
    uint64_t now = sim_now(S(c)->sim) + 1000000000ull;
    if (k->skew_us != c->skew_us[idx] || k->drift_ppm != c->drift_ppm[idx] || !k->drift_from_us)
        k->drift_from_us = now;
    k->drift_ppm = c->drift_ppm[idx];
    k->ntp_poll_us = c->ntp_poll_us;
    k->ntp_err_us = c->ntp_err_us;
    if (!c->ntp)
        k->ntp_from_us = 0;
    else if (!k->ntp_from_us)
        k->ntp_from_us = now;
    k->skew_us = c->skew_us[idx];
    k->strobe_us = c->strobe_us[idx];
    k->strobe_period_us = c->strobe_period_us[idx];
    k->strobe_from_us = sim_now(S(c)->sim) + 1000000000ull;
}

static void sh_push_speed(struct cluster *c)
{
    reanchor(S(c));
}

static json_t *sh_status(struct cluster *c, int idx)
{
    if (c->state[idx] == NODE_DOWN)
        return NULL;
    json_t *s = sim_status(S(c)->sim, idx);
    struct clocks *k = sim_clocks(S(c)->sim, idx);
    json_object_set_new(s, "lamport", json_integer((json_int_t)k->lamport));
    json_t *vc = json_array();
    for (int i = 0; i < c->n; i++)
        json_array_append_new(vc, json_integer((json_int_t)k->vc[i]));
    json_object_set_new(s, "vc", vc);
    json_object_set_new(s, "skew_us", json_integer((json_int_t)k->skew_us));
    json_object_set_new(s, "drift_ppm", json_integer((json_int_t)k->drift_ppm));
    json_object_set_new(s, "offset_us", json_integer((json_int_t)clocks_offset(k, sim_now(S(c)->sim) + 1000000000ull)));
    json_object_set_new(s, "ntp", json_boolean(k->ntp_from_us != 0));
    json_object_set_new(s, "ntp_err_us", json_integer((json_int_t)k->ntp_err_us));
    json_object_set_new(s, "hlc", json_pack("[I,I]", (json_int_t)k->hlc_l, (json_int_t)k->hlc_c));
    if (!json_object_get(s, "clock_us"))
        json_object_set_new(s, "clock_us", json_integer((json_int_t)sim_node_now_us(S(c)->sim, idx)));
    return status_brief(s);
}

static json_t *sh_data(struct cluster *c, int idx, const char *after, const char *key, int *more)
{
    *more = 0;
    if (c->state[idx] == NODE_DOWN)
        return NULL;
    json_t *s = sim_status(S(c)->sim, idx);
    json_t *page = status_data_page(json_object_get(s, "data"), after, key, STATUS_PAGE_BYTES, more);
    json_decref(s);
    return page;
}

static int sh_status_request(struct cluster *c, int idx)
{
    if (c->state[idx] != NODE_UP)
        return CL_ESTATE;
    json_t *s = sh_status(c, idx);
    if (s && c->on_status)
        c->on_status(c->ud, idx, s);
    json_decref(s);
    return 0;
}

static json_t *sh_command(struct cluster *c, int idx, const char *name, int argc, char **argv)
{
    return sim_command(S(c)->sim, idx, name, argc, argv);
}

static const char *sh_endpoint(struct cluster *c, int idx)
{
    (void)c;
    (void)idx;
    return "sim (inside the lab: no socket)";
}

static int sh_add_node(struct cluster *c, char *err, size_t errlen)
{
    const char *opt = c->mode->join_option;
    const char *join = opt ? opts_get(&c->opts, opt, NULL) : NULL;
    if (join)
        sim_set_opt(S(c)->sim, opt, join);
    int idx = sim_add_node(S(c)->sim);
    if (idx < 0) {
        snprintf(err, errlen, "cannot add a node (at most %d)", mode_max_nodes(c->mode));
        return CL_ENOSPACE;
    }
    c->n = sim_size(S(c)->sim);
    c->faults.n = c->n;
    sync_states(S(c));
    return idx;
}

static void sh_destroy(struct cluster *c)
{
    sim_destroy(&S(c)->sim);
    opts_free(&c->opts);
    free(c);
}

/* The simulator has no sockets and no keys: the frame reaches the node as it would with
 * auth=off, and the lab says so. */
static int sh_spoof(struct cluster *c, int idx, const char *as, int key_of, json_t *body, char *err, size_t errlen)
{
    (void)key_of;
    if (sim_client_send(S(c)->sim, idx, as, body) < 0) {
        snprintf(err, errlen, "n%d is down", idx + 1);
        return CL_ESTATE;
    }
    return 0;
}

static const struct cluster_ops sh_ops = {
    .client_send = sh_client_send,
    .pump = sh_pump,
    .crash = sh_crash,
    .restart = sh_restart,
    .pause = sh_pause,
    .resume = sh_resume,
    .push_faults = sh_push_faults,
    .push_clock = sh_push_clock,
    .push_speed = sh_push_speed,
    .status = sh_status,
    .status_request = sh_status_request,
    .command = sh_command,
    .endpoint = sh_endpoint,
    .add_node = sh_add_node,
    .spoof = sh_spoof,
    .destroy = sh_destroy,
    .data = sh_data,
};

struct cluster *simhost_start(const struct cluster_config *cfg, char *err, size_t errlen)
{
    struct simhost *h = xcalloc(1, sizeof *h);
    struct cluster *c = &h->c;
    c->ops = &sh_ops;
    c->mode = cfg->mode;
    c->n = cfg->n;
    opts_copy(&c->opts, cfg->opts);
    c->speed = cfg->speed;
    c->seed = cfg->seed;
    c->sim = 1;
    c->on_event = cfg->on_event;
    c->on_reply = cfg->on_reply;
    c->ud = cfg->ud;
    faults_init(&c->faults, c->n);
    h->sim = sim_new(cfg->mode, cfg->n, cfg->opts, cfg->seed, err, errlen);
    if (!h->sim) {
        opts_free(&c->opts);
        free(h);
        return NULL;
    }
    sim_on_event(h->sim, on_sim_event, c);
    sim_on_reply(h->sim, on_sim_reply, c);
    reanchor(h);
    sync_states(h);
    return c;
}

int simhost_freeze(struct cluster *c, int on)
{
    if (!c->sim)
        return CL_ESTATE;
    c->frozen = on;
    if (!on)
        reanchor(S(c));
    return 0;
}

int simhost_step(struct cluster *c, int n, int *ran)
{
    if (!c->sim)
        return CL_ESTATE;
    int k = 0;
    while (k < n && sim_step(S(c)->sim))
        k++;
    sync_states(S(c));
    reanchor(S(c));
    *ran = k;
    return 0;
}

uint64_t cluster_now(const struct cluster *c)
{
    if (c->sim)
        return sim_now(((const struct simhost *)c)->sim);
    return mono_us() - c->t0_us;
}

void cluster_destroy(struct cluster **c)
{
    if (*c)
        (*c)->ops->destroy(*c);
    *c = NULL;
}

const char *node_state_name(enum node_state s)
{
    switch (s) {
    case NODE_UP: return "up";
    case NODE_DOWN: return "down";
    case NODE_PAUSED: return "paused";
    case NODE_STARTING: return "starting";
    }
    return "?";
}
