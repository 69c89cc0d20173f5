/* swim — SWIM membership and failure detection (Das, Gupta, Motivala 2002, "SWIM: Scalable
 * Weakly-consistent Infection-style Process Group Membership Protocol"), with Lifeguard's
 * local health multiplier as an option (Dadgar et al. 2018).
 *
 * Protocol period (`period`). Each period a node probes one member, taken round-robin from a
 * shuffled list of the members it does not hold dead (§4.3: every member is probed within a
 * bounded time):
 *
 *   me ── probe{seq} ─────────────────────────▶ target        probe_ack within `timeout`?
 *   me ── probe_req{seq,target} ──▶ k others ── probe ──▶ target   (§3.1: indirect probe)
 *   me ◀── probe_ack{seq} ─── (an intermediary forwards the target's ack)
 *
 * (The paper's ping, ping-req and ack; `ping` is the runtime's own control message.)
 *
 * No ack, direct or indirect, by the end of the period: the target becomes *suspect* (§4.2) —
 * unless this node has not heard from it yet and started less than 2 x `suspect` ago (the lab
 * starts the processes one by one: a member may still be starting).
 * A suspect not refuted within `suspect` is confirmed *dead*.
 *
 * Incarnations (§4.2). Every member has an incarnation number that only it raises: a node that
 * hears itself suspected (or dead) at its incarnation or above raises its own above it and
 * spreads alive{itself, inc}. Between updates about member j the precedence is
 *   alive{j,i}   overrides suspect{j,i'} and alive{j,i'} when i > i' (and dead{j,i'}: a rejoin)
 *   suspect{j,i} overrides suspect{j,i'} when i > i', and alive{j,i'} when i >= i'
 *   dead{j,i}    overrides alive and suspect at any i' <= i
 * A restarted node comes back with its durable incarnation + 1, so its alive wins.
 *
 * Members held dead are not probed, but every REVIVE_EVERY periods one of them gets a ping: a
 * member that hears it is held suspect or dead (every message to it says so) refutes, so a
 * healed partition or a long pause merges back.
 *
 * Dissemination (§4.1): every update is piggybacked on pings, ping-reqs and acks, each one up to
 * lambda·ceil(log2(N+1)) times, the least sent first, at most 8 per message.
 *
 * Lifeguard (`lhm=on`): a local health score 0..8 rises when this node's own probe fails or it
 * must refute a suspicion of itself, and falls when a probe succeeds; its timeout and period are
 * scaled by (1 + score), so a node starved of CPU suspects others less readily.
 *
 * The protocol core (probe, probe_req, suspicion, incarnations, piggybacked dissemination,
 * Lifeguard) lives in the kit, nodes/kit/swimcore.[ch], shared with the leaderless ring's
 * membership=swim; this file is the mode around it: options, commands, status, the face.
 *
 * Clients may ask a node for its view: members{} → members_ok{inc, members{id:{status,inc}}}.
 *
 * Events: member {member,status,inc} when this node's view of a member changes (status alive,
 * suspect, dead); refute {inc} when it raises its incarnation; state {role} once (role member).
 *
 * Invariants (swimmon.c): Incarnation — a node's own incarnation never goes down, across
 * restarts; Resurrection — no node sees a member alive at an incarnation at or below one it had
 * confirmed dead (only a refutation, with a higher number, brings it back). Completeness and
 * accuracy are measured by `wait dead NODE` / `wait alive NODE` and the false-positive count.
 *
 * Bug toggles: no-indirect (no ping-req: a lost ping or ack alone makes a suspect — false
 * positives under loss), no-refute (a suspected node never raises its incarnation: a paused
 * node is declared dead for good), no-incarnation (any message from a suspect or dead member
 * makes it alive again at the same incarnation, without a refutation — Resurrection).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mode.h"
#include "swim.h"
#include "swimcore.h"

#define T_BASE 1                /* the core's timers: kinds 1, 2, 3 */

struct swim {
    struct swimc c;
};

static void sw_on_timer(void *vst, int kind, uint64_t arg)
{
    struct swim *st = vst;
    (void)swim_on_timer(&st->c, kind, arg);
}

static void on_ping(void *vst, const char *src, const json_t *body)
{
    swim_on_probe(&((struct swim *)vst)->c, src, body);
}

static void on_ping_req(void *vst, const char *src, const json_t *body)
{
    swim_on_probe_req(&((struct swim *)vst)->c, src, body);
}

static void on_ack(void *vst, const char *src, const json_t *body)
{
    swim_on_probe_ack(&((struct swim *)vst)->c, src, body);
}

/* ---- commands --------------------------------------------------------------------------- */

static json_t *cmd_reply(int ok, struct sb *b)
{
    json_t *r = json_pack("{s:b,s:s}", "ok", ok, "text", b->s ? b->s : "");
    sb_free(b);
    return r;
}

/* `members NODE`: NODE's view of the group. */
static json_t *cmd_members(void *vst, int argc, char **argv)
{
    struct swim *st = vst;
    struct sb b = {0};
    if (argc < 1 || strcmp(argv[0], st->c.e->self)) {
        sb_printf(&b, "members runs on the node it names (this is %s)", st->c.e->self);
        return cmd_reply(0, &b);
    }
    swim_view_text(&st->c, &b);
    return cmd_reply(1, &b);
}

static const struct mode_command swim_commands[] = {
    {"members", "members NODE", "NODE's membership view: each member alive, suspect or dead, with its incarnation",
     "members n3", 1, 1, cmd_members, MC_ON_NODE},
    {NULL, NULL, NULL, NULL, 0, 0, NULL, MC_ANY},
};

/* ---- life ------------------------------------------------------------------------------- */

static void *swim_create(struct env *e, const struct opts *o, char *err, size_t errlen)
{
    struct swim *st = xcalloc(1, sizeof *st);
    const char *bug = opts_get(o, "bug", "");
    struct swim_cfg cfg = {
        .period_us = opts_get_duration(o, "period", 500000),
        .timeout_us = opts_get_duration(o, "timeout", 150000),
        .suspect_us = opts_get_duration(o, "suspect", 2000000),
        .k = (int)opts_get_int(o, "k", 3),
        .lambda = (int)opts_get_int(o, "lambda", 3),
        .lhm = !strcmp(opts_get(o, "lhm", "off"), "on"),
        .bugs = (!strcmp(bug, "no-indirect") ? SWIM_BUG_NO_INDIRECT : 0) |
                (!strcmp(bug, "no-refute") ? SWIM_BUG_NO_REFUTE : 0) |
                (!strcmp(bug, "no-incarnation") ? SWIM_BUG_NO_INCARNATION : 0),
        .timer_base = T_BASE,
        .blob = "swim_inc",
    };
    if (swim_init(&st->c, e, &cfg, err, errlen) < 0) {
        swim_free(&st->c);
        free(st);
        return NULL;
    }
    return st;
}

static void swim_start(void *vst)
{
    struct swim *st = vst;
    env_event(st->c.e, "state", json_pack("{s:s,s:I}", "role", "member", "inc", (json_int_t)st->c.inc));
    swim_begin(&st->c);
}

static void swim_destroy(void *vst)
{
    struct swim *st = vst;
    swim_free(&st->c); /* the membership tables of a cluster past 128 (the simulator's 1,000) */
    free(st);
}

static json_t *swim_status(void *vst)
{
    struct swim *st = vst;
    int alive, suspect, dead;
    swim_counts(&st->c, &alive, &suspect, &dead);
    return json_pack("{s:s,s:I,s:i,s:i,s:i,s:i,s:I,s:o,s:o}", "role", "member", "inc", (json_int_t)st->c.inc, "alive",
                     alive, "suspect", suspect, "dead", dead, "lhm", st->c.lhm, "probes", (json_int_t)st->c.probes,
                     "members", swim_view_json(&st->c), "data", json_object());
}

/* A client's members{}: this node's view, {"type":"members_ok","inc":I,"members":{"n2":
 * {"status":"alive","inc":0},…}}. */
static void on_members(void *vst, const char *src, const json_t *body)
{
    struct swim *st = vst;
    env_reply(st->c.e, src, body, json_pack("{s:s,s:I,s:o}", "type", "members_ok", "inc", (json_int_t)st->c.inc,
                                            "members", swim_view_json(&st->c)));
}

static const struct mode_handler swim_handlers[] = {
    {"members", on_members},
    {"probe", on_ping},
    {"probe_req", on_ping_req},
    {"probe_ack", on_ack},
    {NULL, NULL},
};

static const struct mode_option swim_options[] = {
    {"period", OPT_DURATION, NULL, 10000, 10000000, "500ms", "the protocol period: one member probed per period"},
    {"timeout", OPT_DURATION, NULL, 1000, 5000000, "150ms", "a direct ping's ack must come within this, else ping-req"},
    {"suspect", OPT_DURATION, NULL, 10000, 60000000, "2s", "a suspect not refuted within this is confirmed dead"},
    {"k", OPT_INT, NULL, 0, 8, "3", "members asked to probe indirectly (ping-req)"},
    {"lambda", OPT_INT, NULL, 1, 10, "3", "each update is piggybacked lambda*log2(N+1) times"},
    {"lhm", OPT_ENUM, "on|off", 0, 0, "off", "Lifeguard's local health multiplier: a struggling node slows its own probing"},
    {NULL, 0, NULL, 0, 0, NULL, NULL},
};

/* ---- the face (mode.h) ------------------------------------------------------------------ */

static const struct mode_role swim_roles[] = {
    {"member", RC_PEER},
    {NULL, RC_UNKNOWN},
};

static const struct mode_figure swim_figures[] = {
    {"inc", "inc", "i"},
    {"alive", "alive", "a"},
    {"suspect", "suspect", "s"},
    {"dead", "dead", "d"},
    {"lhm", "lhm", NULL},
    {NULL, NULL, NULL},
};

static const struct mode_wait swim_waits[] = {
    {"dead", "wait dead NODE [TIMEOUT]", "until every live member holds NODE dead; says how long after its crash", 1,
     swimmon_wait_dead},
    {"alive", "wait alive NODE [TIMEOUT]", "until every live member holds NODE alive", 1, swimmon_wait_alive},
    {NULL, NULL, NULL, 0, NULL},
};

static const char *const swim_client_types[] = {"members", NULL};

const struct mode mode_swim = {
    .name = "swim",
    .summary = "SWIM failure detection: ping, ping-req through k members, suspicion, incarnations, piggybacked updates",
    .options = swim_options,
    .bugs = "no-indirect|no-refute|no-incarnation",
    .handlers = swim_handlers,
    .commands = swim_commands,
    .create = swim_create,
    .start = swim_start,
    .destroy = swim_destroy,
    .on_timer = sw_on_timer,
    .status = swim_status,
    .monitor = &swimmon_ops,
    .workload = "members",
    .client_types = swim_client_types,
    .roles = swim_roles,
    .figures = swim_figures,
    .events = "state|member|refute",
    .max_nodes = CL_MAXNODES,
    .sim_max_nodes = CL_SIM_MAXNODES,
    .waits = swim_waits,
    .grid_figure = "dead",
};
