/* lessonhost — see lessonhost.h. The world answers from the lab's own view: node states from
 * the cluster, roles and terms from the last status round (refreshed before each evaluation),
 * values from node statuses, events and operations from the event ring, checks from the
 * checkers. */
#include "lessonhost.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lesson.h"
#include "progress.h"

struct lessonhost {
    struct lesson *l;
    struct lesson_engine *e;
    struct progress *p;
    struct lesson_world w;
    uint64_t last_poll;
    int from_script;
};

static struct lessonhost *H(const struct lab *lab)
{
    return lab->lesson;
}

/* ---- the world ------------------------------------------------------------------------------ */

static uint64_t w_mark(void *ud)
{
    return ((struct lab *)ud)->ev_total;
}

static int w_nodes(void *ud)
{
    struct lab *lab = ud;
    return lab->cl ? lab->cl->n : 0;
}

static int w_node_info(void *ud, int node, struct lesson_node_info *out)
{
    struct lab *lab = ud;
    if (!lab->cl || node < 0 || node >= lab->cl->n)
        return CL_ENOENT;
    enum node_state s = lab->cl->state[node];
    str_copy(out->state, s == NODE_DOWN ? "down" : s == NODE_PAUSED ? "paused" : "up", sizeof out->state);
    str_copy(out->role, s == NODE_DOWN ? "" : lab->view[node].role, sizeof out->role);
    out->term = lab->view[node].term;
    return 0;
}

static int w_value(void *ud, int node, const char *key, char *val, size_t n)
{
    struct lab *lab = ud;
    if (!lab->cl || node < 0 || node >= lab->cl->n || lab->cl->state[node] != NODE_UP)
        return CL_ESTATE;
    const json_t *s = lab_status_cached(lab, node); /* the last status: the world never waits */
    if (!s)
        return CL_ESTATE;
    json_t *v = json_object_get(json_object_get(s, "data"), key);
    int rc = 0;
    if (json_is_string(v)) {
        str_copy(val, json_string_value(v), n);
        rc = 1;
    } else if (v && !json_is_null(v)) {
        char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        str_copy(val, t ? t : "", n);
        free(t);
        rc = 1;
    }
    return rc;
}

static int w_partition(void *ud, int group[CL_MAXN])
{
    struct lab *lab = ud;
    if (!lab->cl)
        return 1;
    int n = lab->cl->n, groups = 0;
    for (int i = 0; i < n; i++)
        group[i] = -1;
    for (int i = 0; i < n; i++) {
        if (group[i] >= 0)
            continue;
        group[i] = groups;
        /* everything two-way connected to i, transitively */
        for (int changed = 1; changed;) {
            changed = 0;
            for (int a = 0; a < n; a++)
                for (int b = 0; b < n; b++)
                    if (group[a] == groups && group[b] < 0 && faults_connected(&lab->cl->faults, a, b)) {
                        group[b] = groups;
                        changed = 1;
                    }
        }
        groups++;
    }
    return groups;
}

static const json_t *event_at(const struct lab *lab, uint64_t global)
{
    uint64_t first = lab->ev_total - lab->ev_count;
    if (global < first || global >= lab->ev_total)
        return NULL;
    return lab->events[(lab->ev_head + (global - first)) % LAB_MAX_EVENTS];
}

static int w_op_count(void *ud, uint64_t since, const struct lesson_op_query *q)
{
    struct lab *lab = ud;
    int count = 0;
    for (uint64_t g = since; g < lab->ev_total; g++) {
        struct event e;
        char err[64];
        if (event_decode(event_at(lab, g), &e, err, sizeof err) < 0 || e.kind != EV_OP || !e.op)
            continue;
        const json_t *op = e.op;
        const char *type = json_string_value(json_object_get(op, "type"));
        unsigned bit = !type ? 0 : !strcmp(type, "ok") ? LOP_OK : !strcmp(type, "fail") ? LOP_FAIL :
                       !strcmp(type, "info") ? LOP_INFO : 0;
        if (!(bit & q->outcomes))
            continue;
        const char *f = json_string_value(json_object_get(op, "f"));
        if (q->f && (!f || strcmp(q->f, f)))
            continue;
        const char *key = json_string_value(json_object_get(op, "key"));
        if (q->key && (!key || strcmp(q->key, key)))
            continue;
        if (q->node >= 0) {
            char id[CL_IDLEN];
            node_name(q->node, id);
            const char *nd = json_string_value(json_object_get(op, "node"));
            if (!nd || strcmp(nd, id))
                continue;
        }
        if (q->value) {
            const char *v = json_string_value(json_object_get(op, "value"));
            if (!v || strcmp(v, q->value))
                continue;
        }
        count++;
    }
    return count;
}

static void field_text(const json_t *v, char *buf, size_t n)
{
    if (json_is_string(v))
        str_copy(buf, json_string_value(v), n);
    else if (json_is_integer(v))
        snprintf(buf, n, "%lld", (long long)json_integer_value(v));
    else if (json_is_true(v))
        str_copy(buf, "true", n);
    else if (json_is_false(v))
        str_copy(buf, "false", n);
    else {
        char *t = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
        str_copy(buf, t ? t : "", n);
        free(t);
    }
}

static int w_event_count(void *ud, uint64_t since, const char *ev, int node, int nfields,
                         const char *const *keys, const char *const *vals)
{
    struct lab *lab = ud;
    int count = 0;
    char id[CL_IDLEN] = "";
    if (node >= 0)
        node_name(node, id);
    for (uint64_t g = since; g < lab->ev_total; g++) {
        struct event e;
        char err[64];
        if (event_decode(event_at(lab, g), &e, err, sizeof err) < 0 || strcmp(e.name, ev))
            continue;
        if (node >= 0 && (!e.node || strcmp(e.node, id)))
            continue;
        int ok = 1;
        for (int i = 0; i < nfields && ok; i++) {
            char buf[256];
            field_text(json_object_get(e.json, keys[i]), buf, sizeof buf);
            ok = !strcmp(buf, vals[i]);
        }
        count += ok;
    }
    return count;
}

static int w_history_check(void *ud, const char *checker, const char *const *keys, int nkeys, struct sb *why)
{
    struct lab *lab = ud;
    if (!lab->cl && !strcmp(checker, "converged"))
        return CL_ESTATE;
    struct sb out = {0};
    int rc = lab_check(lab, checker, keys, nkeys, &out);
    if (rc != 0 && why && out.s) {
        char *nl = strchr(out.s, '\n');
        if (nl)
            *nl = 0;
        sb_add(why, out.s);
    }
    sb_free(&out);
    return rc == 0 ? 1 : rc == 1 ? 0 : CL_ESTATE;
}

/* ---- showing the lesson ---------------------------------------------------------------------- */

static void show(struct lab *lab, const char *text)
{
    if (text && *text)
        lab_out(lab, "%s", text);
}

static void pane_event(struct lab *lab, const char *check)
{
    struct lessonhost *h = H(lab);
    if (!h)
        return;
    struct sb title = {0}, text = {0};
    lesson_engine_status_line(h->e, &title);
    lesson_engine_render(h->e, &text);
    lab_event(lab, "lesson", json_pack("{s:b,s:s,s:s,s:s}", "active", 1, "title", title.s ? title.s : "",
                                       "text", text.s ? text.s : "", "check", check ? check : "pending"));
    sb_free(&title);
    sb_free(&text);
}

void lessonhost_free(struct lab *lab)
{
    struct lessonhost *h = H(lab);
    if (!h)
        return;
    lesson_engine_free(&h->e);
    lesson_free(&h->l);
    if (h->p) {
        char err[256];
        if (progress_save(h->p, err, sizeof err) < 0)
            lab_out(lab, "(progress not saved: %s)", err);
    }
    progress_free(&h->p);
    free(h);
    lab->lesson = NULL;
}

static int begin(struct lab *lab, const char *id, int from_script)
{
    lessonhost_free(lab);
    char err[512];
    struct lessonhost *h = xcalloc(1, sizeof *h);
    if (lesson_load_id(id, &h->l, err, sizeof err) < 0) {
        lab_err(lab, "%s", err);
        free(h);
        return 2;
    }
    h->from_script = from_script;
    h->w = (struct lesson_world){.ud = lab, .mark = w_mark, .nodes = w_nodes, .node_info = w_node_info,
                                 .value = w_value, .partition = w_partition, .op_count = w_op_count,
                                 .event_count = w_event_count, .history_check = w_history_check};
    if (!from_script) {
        char notice[512] = "";
        h->p = progress_load(notice, sizeof notice);
        if (*notice)
            lab_out(lab, "%s", notice);
    }
    lab->lesson = h;
    if (!from_script) {
        struct sb start = {0};
        lesson_start_command(h->l, &start);
        int rc = lab_exec(lab, start.s);
        sb_free(&start);
        if (rc != 0) {
            lessonhost_free(lab);
            return 1;
        }
    }
    h->e = lesson_engine_new(h->l, &h->w, h->p);
    if (!from_script) {
        struct sb text = {0};
        lesson_engine_render(h->e, &text);
        show(lab, text.s);
        sb_free(&text);
        lab_out(lab, "(lesson words: hint, next, back, restart, lesson check, lesson quit)");
    }
    pane_event(lab, "pending");
    return 0;
}

int lessonhost_begin(struct lab *lab, const char *id)
{
    return begin(lab, id, 0);
}

int lessonhost_active(const struct lab *lab)
{
    return H(lab) != NULL;
}

static void judge(struct lab *lab, int refresh);

int lessonhost_line(struct lab *lab, const char *line)
{
    struct lessonhost *h = H(lab);
    if (!h)
        return 0;
    if (!h->from_script) {
        /* judge what the previous line did before running this one: lines that arrive
         * together (a paste, a pipe) would otherwise outrun the 250 ms poll (outside the
         * loop, so it may wait for fresh statuses) */
        judge(lab, 1);
        h = H(lab);
        if (!h)
            return 0;
    }
    struct sb out = {0};
    enum lesson_cmd c = lesson_engine_command(h->e, line, &out);
    if (c == LESSON_CMD_NONE) {
        sb_free(&out);
        return 0;
    }
    show(lab, out.s);
    sb_free(&out);
    if (c == LESSON_CMD_RESTART) {
        struct sb start = {0};
        lesson_start_command(h->l, &start);
        lab_exec(lab, start.s);
        sb_free(&start);
        lesson_engine_set_world(h->e, &h->w);
        struct sb text = {0};
        lesson_engine_render(h->e, &text);
        show(lab, text.s);
        sb_free(&text);
    } else if (c == LESSON_CMD_QUIT) {
        lab_event(lab, "lesson", json_pack("{s:b}", "active", 0));
        lessonhost_free(lab);
        return 1;
    }
    pane_event(lab, "pending");
    return 1;
}

/* One evaluation of the current step. refresh: wait for fresh statuses first (commands
 * only); otherwise the last ones, and a new round is asked for the next poll. */
static enum lesson_poll poll_once(struct lab *lab, int refresh, struct sb *out)
{
    if (refresh)
        lab_refresh(lab, NULL);
    else
        lab_status_round(lab);
    struct lessonhost *h = H(lab);
    if (!h)
        return LESSON_IDLE;
    return lesson_engine_poll(h->e, out);
}

void lessonhost_poll(struct lab *lab)
{
    struct lessonhost *h = H(lab);
    if (!h || h->from_script)
        return;
    uint64_t now = mono_us();
    if (now - h->last_poll < 250000)
        return;
    judge(lab, 0);
}

/* Evaluates the step now; prints and moves on when it passed. */
static void judge(struct lab *lab, int refresh)
{
    H(lab)->last_poll = mono_us();
    struct sb out = {0};
    enum lesson_poll r = poll_once(lab, refresh, &out);
    if (r == LESSON_PASSED || r == LESSON_SLOW) {
        show(lab, out.s);
        pane_event(lab, r == LESSON_PASSED ? "passed" : "pending");
    }
    sb_free(&out);
}

/* ---- script commands -------------------------------------------------------------------------- */

int lessonhost_cmd_begin(struct lab *lab, int argc, char **argv)
{
    (void)argc;
    int rc = begin(lab, argv[1], 1);
    if (rc == 0)
        lab_out(lab, "lesson %s: %d steps", argv[1], H(lab)->l->nsteps);
    return rc;
}

int lessonhost_cmd_check(struct lab *lab, int argc, char **argv)
{
    (void)argc;
    struct lessonhost *h = H(lab);
    if (!h) {
        lab_err(lab, "no lesson: 'lesson-begin ID' first");
        return 1;
    }
    uint64_t timeout;
    if (parse_duration_us(argv[2], &timeout) < 0) {
        lab_err(lab, "bad timeout '%s': expected e.g. 30s", argv[2]);
        return 2;
    }
    const struct lesson_step *st = lesson_engine_current(h->e);
    if (!st || strcmp(st->id, argv[1])) {
        lab_err(lab, "lesson step %s is not the current step (%s)", argv[1], st ? st->id : "none: the steps are done");
        return 1;
    }
    uint64_t end = mono_us() + timeout;
    struct sb out = {0};
    for (;;) {
        sb_free(&out);
        enum lesson_poll r = poll_once(lab, 1, &out);
        if (r == LESSON_PASSED) {
            lab_out(lab, "ok: lesson step %s passed", argv[1]);
            sb_free(&out);
            return 0;
        }
        if (mono_us() >= end || lab->interrupted)
            break;
        lab_pump(lab, 100000, -1);
    }
    struct sb why = {0};
    lesson_check_eval(st->check, &h->w, 0, &why);
    if (lab->script_line > 0)
        lab_out(lab, "FAIL line %d: lesson step %s: %s", lab->script_line, argv[1], why.s ? why.s : "did not pass");
    else
        lab_out(lab, "FAIL: lesson step %s: %s", argv[1], why.s ? why.s : "did not pass");
    lab->failed = 1;
    sb_free(&why);
    sb_free(&out);
    return 1;
}

int lessonhost_cmd_end(struct lab *lab, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    struct lessonhost *h = H(lab);
    if (!h) {
        lab_err(lab, "no lesson: 'lesson-begin ID' first");
        return 1;
    }
    int ok = lesson_engine_phase(h->e) != LESSON_IN_STEP;
    if (!ok) {
        const struct lesson_step *st = lesson_engine_current(h->e);
        if (lab->script_line > 0)
            lab_out(lab, "FAIL line %d: lesson ended at step %s", lab->script_line, st ? st->id : "?");
        lab->failed = 1;
    } else {
        lab_out(lab, "ok: every step of lesson %s passed", h->l->id);
    }
    lessonhost_free(lab);
    return ok ? 0 : 1;
}

/* ---- plugged into the lab ------------------------------------------------------------------- */

static int cmd_lesson(struct lab *lab, int argc, char **argv)
{
    (void)argc;
    return lessonhost_begin(lab, argv[1]) == 0 ? 0 : 1;
}

static const struct lab_command lesson_commands[] = {
    {"lesson", "lesson ID", "Start lesson ID: its cluster and step 1 ('conlab lesson list' shows them). Inside a lesson: hint, next, back, restart, lesson check, lesson skip, lesson quit.", "lesson raft-election", 1, 1, cmd_lesson},
    {"lesson-begin", "lesson-begin ID", "Scripts: load lesson ID and check its steps against this lab (the script starts the cluster itself).", "lesson-begin raft-election", 1, 1, lessonhost_cmd_begin},
    {"lesson-check", "lesson-check STEP TIMEOUT", "Scripts: wait until lesson step STEP (the current one) passes, or fail after TIMEOUT.", "lesson-check find-leader 10s", 2, 2, lessonhost_cmd_check},
    {"lesson-end", "lesson-end", "Scripts: every step of the lesson must have passed.", "lesson-end", 0, 0, lessonhost_cmd_end},
    {NULL, NULL, NULL, NULL, 0, 0, NULL},
};

static int hook_line(void *ud, const char *line)
{
    return lessonhost_line(ud, line);
}

static void hook_tick(void *ud)
{
    lessonhost_poll(ud);
}

static void hook_destroy(void *ud)
{
    lessonhost_free(ud);
}

void lessonhost_install(struct lab *lab)
{
    lab_add_commands(lesson_commands);
    lab_add_hooks(lab, &(struct lab_hooks){.ud = lab, .on_line = hook_line, .on_tick = hook_tick,
                                           .on_destroy = hook_destroy});
}
