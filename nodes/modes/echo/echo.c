/* echo — the smallest mode: every node answers Maelstrom's echo workload on its own. It is
 * the first lesson's "hello, node", and the proof that a mode is one folder: this file, its
 * page (docs/modes/echo.md), its lesson and its test are all it took to add.
 *
 *   client ── {"type":"echo","msg_id":N,"echo":X} ──────────────▶ node
 *   client ◀── {"type":"echo_ok","in_reply_to":N,"echo":X} ─────── node
 *
 * States: one role, `node` (class peer), from start to crash. No peer messages, no timers,
 * no durable state: a restarted node starts again from zero echoes.
 *
 * Invariant: a reply carries exactly the value it was asked to echo, whatever its JSON type
 * (a string, a number, an object …). A request without "echo" is refused with error 12
 * (malformed request) naming the field; any other type, with error 10 by the runtime.
 */
#include <stdlib.h>

#include "mode.h"

struct echo {
    struct env *e;
    uint64_t echoes;            /* requests answered since this node started */
};

static void on_echo(void *vst, const char *src, const json_t *body)
{
    struct echo *st = vst;
    const json_t *v = json_object_get(body, "echo");
    if (!v) {
        env_reply_error(st->e, src, body, ERR_MALFORMED_REQUEST,
                        "an echo request needs an \"echo\" field: the value to send back", NULL);
        return;
    }
    st->echoes++;
    env_reply(st->e, src, body, json_pack("{s:s,s:O}", "type", "echo_ok", "echo", v));
}

static void *echo_create(struct env *e, const struct opts *o, char *err, size_t errlen)
{
    (void)o;
    (void)err;
    (void)errlen;
    struct echo *st = xcalloc(1, sizeof *st);
    st->e = e;
    return st;
}

static void echo_start(void *vst)
{
    struct echo *st = vst;
    env_event(st->e, "state", json_pack("{s:s}", "role", "node"));
}

static void echo_destroy(void *vst)
{
    free(vst);
}

static void echo_on_timer(void *vst, int kind, uint64_t arg)
{
    (void)vst;
    (void)kind;
    (void)arg;
}

static json_t *echo_status(void *vst)
{
    struct echo *st = vst;
    return json_pack("{s:s,s:I,s:o}", "role", "node", "echoes", (json_int_t)st->echoes, "data", json_object());
}

static const struct mode_handler echo_handlers[] = {
    {"echo", on_echo},
    {NULL, NULL},
};

static const struct mode_option echo_options[] = {
    {NULL, 0, NULL, 0, 0, NULL, NULL},
};

/* ---- the face (mode.h) ------------------------------------------------------------------ */

static const struct mode_role echo_roles[] = {
    {"node", RC_PEER},
    {NULL, RC_UNKNOWN},
};

static const struct mode_figure echo_figures[] = {
    {"echoes", "echoes", "echoes="},
    {NULL, NULL, NULL},
};

static const char *const echo_client_types[] = {"echo", NULL};

const struct mode mode_echo = {
    .name = "echo",
    .summary = "Maelstrom's echo workload: every node answers each echo request with the same value",
    .options = echo_options,
    .bugs = NULL,
    .handlers = echo_handlers,
    .commands = NULL,
    .create = echo_create,
    .start = echo_start,
    .destroy = echo_destroy,
    .on_timer = echo_on_timer,
    .status = echo_status,
    .workload = "echo",
    .client_types = echo_client_types,
    .roles = echo_roles,
    .figures = echo_figures,
    .events = "state",
};
