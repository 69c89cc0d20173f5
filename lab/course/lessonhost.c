/* lessonhost — see lessonhost.h. The world answers from the lab's own view: node states from
 * the cluster, roles and terms from the last status round (refreshed before each evaluation),
 * values from node statuses, events and operations from the event ring, checks from the
 * checkers. */
#include "lessonhost.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clients.h"
#include "lesson.h"
#include "progress.h"

struct lessonhost {
    struct lesson *l;
    struct lesson_engine *e;
    struct progress *p;
    struct lesson_world w;
    uint64_t last_poll;
    int from_script;
    int quiet;                  /* our own commands (the lesson's `start`) are not the student's */
    int finish_told;            /* the course's next lesson was named */
    char last_check[256];       /* the pane's check line as last sent */
};

static int g_pane;

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
    out->leads = s != NODE_DOWN && lab->view[node].cls == RC_LEADER;
    return 0;
}

static void field_text(const json_t *v, char *buf, size_t n);

static int w_value(void *ud, int node, const char *key, char *val, size_t n)
{
    struct lab *lab = ud;
    if (!lab->cl || node < 0 || node >= lab->cl->n || lab->cl->state[node] != NODE_UP)
        return CL_ESTATE;
    const json_t *s = lab_status_cached(lab, node); /* the last status: the world never waits */
    if (!s)
        return CL_ESTATE;
    json_t *v = json_object_get(json_object_get(s, "data"), key), *page = NULL;
    if (!json_object_get(s, "data")) {
        /* a status too big to carry its data (statusbrief.h): ask for the key, outside the loop */
        int more;
        if (lab->pumping || !lab->cl->ops->data || !(page = lab->cl->ops->data(lab->cl, node, NULL, key, &more)))
            return CL_ESTATE;
        v = json_object_get(page, key);
    }
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
    json_decref(page);
    return rc;
}

static int w_partition(void *ud, int group[CL_MAXNODES])
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
            /* a lesson's value is YAML text: "1" matches the number 1 and the string "1" */
            const json_t *v = json_object_get(op, "value");
            char buf[256];
            field_text(v, buf, sizeof buf);
            if (!v || json_is_null(v) || strcmp(buf, q->value))
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

/* Does a command line (normalised to single spaces) begin with these words? */
static int words_prefix(const char *line, const char *words)
{
    size_t n = strlen(words);
    return !strncmp(line, words, n) && (line[n] == 0 || line[n] == ' ');
}

static int w_command_count(void *ud, uint64_t since, const char *words)
{
    struct lab *lab = ud;
    int count = 0;
    for (uint64_t g = since; g < lab->ev_total; g++) {
        const json_t *e = event_at(lab, g);
        const char *k = json_string_value(json_object_get(e, "ev"));
        if (!k || strcmp(k, "input"))
            continue;
        const char *line = json_string_value(json_object_get(e, "line"));
        if (line && (!words || words_prefix(line, words)))
            count++;
    }
    return count;
}

static int w_is_command(void *ud, const char *line)
{
    (void)ud;
    char word[64];
    while (*line == ' ' || *line == '\t')
        line++;
    size_t n = strcspn(line, " \t;");
    if (n == 0 || n >= sizeof word)
        return 0;
    memcpy(word, line, n);
    word[n] = 0;
    for (const char *const *c = lab_command_names(); *c; c++)
        if (!strcmp(*c, word))
            return 1;
    return actors_known(word); /* a named client's `c1 lock orders` */
}

static int early_pass(struct lab *lab);
static void pane_event(struct lab *lab);
static void show_step(struct lab *lab, const char *full);

void lessonhost_note_command(struct lab *lab, int argc, char **argv)
{
    struct lessonhost *h = H(lab);
    /* `lesson …` and the script's lesson-begin/check/end are not the student's doing */
    if (!h || h->quiet || argc == 0 || !strncmp(argv[0], "lesson", 6))
        return;
    if (lesson_engine_begin_steps(h->e)) { /* the first command ends the introduction */
        if (h->from_script) {
            early_pass(lab);
        } else {
            struct sb text = {0};
            lesson_engine_render(h->e, &text);
            show_step(lab, text.s);
            sb_free(&text);
            pane_event(lab);
        }
    }
    struct sb line = {0};
    for (int i = 0; i < argc; i++)
        sb_printf(&line, "%s%s", i ? " " : "", argv[i]);
    lab_event(lab, "input", json_pack("{s:s}", "line", line.s ? line.s : ""));
    sb_free(&line);
}

/* ---- showing the lesson ---------------------------------------------------------------------- */

static void show(struct lab *lab, const char *text)
{
    if (text && *text)
        lab_out(lab, "%s", text);
}

/* The Lesson pane: {"ev":"lesson","active":true,"title":status,"text":pane text,"check":line}
 * (tui/dash.h). Sent when something changed. */
static void pane_event(struct lab *lab)
{
    struct lessonhost *h = H(lab);
    if (!h)
        return;
    struct sb title = {0}, text = {0}, check = {0};
    lesson_engine_status_line(h->e, &title);
    lesson_engine_pane(h->e, &text);
    lesson_engine_check_line(h->e, &check);
    str_copy(h->last_check, check.s ? check.s : "", sizeof h->last_check);
    lab_event(lab, "lesson", json_pack("{s:b,s:s,s:s,s:s}", "active", 1, "title", title.s ? title.s : "",
                                       "text", text.s ? text.s : "", "check", check.s ? check.s : ""));
    sb_free(&title);
    sb_free(&text);
    sb_free(&check);
}

/* What a step change prints in the Output pane: everything without a Lesson pane (the REPL,
 * scripts); with one, the step's result and where to read on. */
static void show_step(struct lab *lab, const char *full)
{
    struct lessonhost *h = H(lab);
    const struct lesson_step *st = h ? lesson_engine_current(h->e) : NULL;
    enum lesson_phase ph = h ? lesson_engine_phase(h->e) : LESSON_FINISHED;
    if (!g_pane || (!st && ph != LESSON_QUIZ_READY)) {
        show(lab, full); /* the quiz and the finish: the whole text */
        return;
    }
    /* "Step N done: title" and its done text (up to the first blank line), then a pointer */
    struct sb b = {0};
    if (full && !strncmp(full, "Step ", 5) && strstr(full, " done: ")) {
        const char *end = strstr(full, "\n\n");
        sb_addn(&b, full, end ? (size_t)(end - full) : strlen(full));
        sb_addc(&b, '\n');
    }
    if (st)
        sb_printf(&b, "Step %d of %d: %s (read it in the Lesson pane)", lesson_engine_step(h->e) + 1,
                  h->l->nsteps, st->title);
    else
        sb_add(&b, "Every step is done: type `quiz` (or press F3) for the quiz.");
    show(lab, b.s);
    sb_free(&b);
}

/* After the last step or the last answer: the course's next lesson, or the end of it. */
static void tell_next(struct lab *lab)
{
    struct lessonhost *h = H(lab);
    if (!h || h->from_script || h->finish_told || lesson_engine_phase(h->e) != LESSON_FINISHED)
        return;
    h->finish_told = 1;
    char dir[4096], err[512];
    struct lesson_catalog cat;
    if (lesson_dir(dir, sizeof dir) < 0 || lesson_catalog_load(dir, &cat, err, sizeof err) < 0)
        return;
    const struct lesson *next = lesson_catalog_next(&cat, h->p, NULL);
    if (next)
        lab_out(lab, "Next in the course: `lesson %s` (%s). `lesson list` shows them all.", next->id,
                next->title);
    else
        lab_out(lab, "You have finished the course: every lesson is done. `conlab quiz` drills the "
                     "theory; `lesson list` shows what you did.");
    lesson_catalog_free(&cat);
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
                                 .event_count = w_event_count, .history_check = w_history_check,
                                 .command_count = w_command_count, .is_command = w_is_command};
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
        h->quiet = 1;
        int rc = lab_exec(lab, start.s);
        sb_free(&start);
        if (rc != 0) {
            lessonhost_free(lab);
            return 1;
        }
        h = H(lab);
        h->quiet = 0;
    }
    h->e = lesson_engine_new(h->l, &h->w, h->p);
    if (!from_script) {
        struct sb text = {0};
        lesson_engine_render(h->e, &text);
        if (g_pane)
            lab_out(lab, "Lesson %s: %s. Read it in the Lesson pane; type its commands here. "
                         "F2 switches between the lesson and the cluster view.", h->l->id, h->l->title);
        else
            show(lab, text.s);
        sb_free(&text);
        lab_out(lab, "(lesson words: next, hint, back, quiz, restart, lesson check, lesson quit)");
    }
    pane_event(lab);
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
void lessonhost_use_pane(int on)
{
    g_pane = on;
}

int lessonhost_list(struct lab *lab)
{
    char dir[4096], err[512];
    struct lesson_catalog cat;
    if (lesson_dir(dir, sizeof dir) < 0) {
        lab_err(lab, "no lessons directory found (set CONLAB_LESSONS)");
        return CL_ENOENT;
    }
    if (lesson_catalog_load(dir, &cat, err, sizeof err) < 0) {
        lab_err(lab, "%s", err);
        return CL_ENOENT;
    }
    struct progress *own = NULL;
    const struct progress *p = H(lab) && H(lab)->p ? H(lab)->p : NULL;
    if (!p) {
        char notice[512] = "";
        own = progress_load(notice, sizeof notice);
        p = own;
    }
    struct sb b = {0};
    lesson_catalog_table(&cat, p, &b);
    for (int i = 0; i < cat.nbad; i++)
        sb_printf(&b, "(skipped %s)\n", cat.bad[i]);
    sb_add(&b, "`lesson ID` starts one (its own cluster replaces this one).");
    lab_out(lab, "%s", b.s);
    sb_free(&b);
    progress_free(&own);
    lesson_catalog_free(&cat);
    return 0;
}

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
    /* a word that moves between steps prints the step; with a Lesson pane, a pointer to it */
    char verb[16] = "";
    sscanf(line, " %15s", verb);
    if (!strcmp(verb, "lesson"))
        sscanf(line, " lesson %15s", verb);
    if (!strcmp(verb, "next") || !strcmp(verb, "back") || !strcmp(verb, "skip") ||
        !strcmp(verb, "restart"))
        show_step(lab, out.s);
    else
        show(lab, out.s);
    sb_free(&out);
    if (c == LESSON_CMD_RESTART) {
        struct sb start = {0};
        lesson_start_command(h->l, &start);
        h->quiet = 1;
        lab_exec(lab, start.s);
        h = H(lab);
        if (!h) {
            sb_free(&start);
            return 1;
        }
        h->quiet = 0;
        sb_free(&start);
        lesson_engine_set_world(h->e, &h->w);
    } else if (c == LESSON_CMD_QUIT) {
        lab_event(lab, "lesson", json_pack("{s:b}", "active", 0));
        lessonhost_free(lab);
        return 1;
    }
    tell_next(lab);
    pane_event(lab);
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
    struct lessonhost *h = H(lab);
    if (h && r == LESSON_PASSED) {
        show_step(lab, out.s);
        tell_next(lab);
        pane_event(lab);
    } else if (h && r == LESSON_SLOW) {
        show(lab, out.s);
        pane_event(lab);
    }
    sb_free(&out);
}

/* ---- script commands -------------------------------------------------------------------------- */

/* A step that opens must wait for its commands: in a solution script, the moment a step opens
 * (lesson-begin, or the previous step passing) its check must not already hold. Returns 1 (and
 * reports it, failing the script) when it does. */
static int early_pass(struct lab *lab)
{
    struct lessonhost *h = H(lab);
    const struct lesson_step *st = h ? lesson_engine_current(h->e) : NULL;
    if (!st)
        return 0;
    struct sb why = {0};
    int holds = lcheck_eval(st->check, &h->w, lesson_engine_mark(h->e), &why);
    sb_free(&why);
    if (!holds)
        return 0;
    if (lab->script_line > 0)
        lab_out(lab, "FAIL line %d: lesson step %s: its check already holds when the step opens, "
                     "before its commands ran", lab->script_line, st->id);
    else
        lab_out(lab, "FAIL: lesson step %s: its check already holds when the step opens", st->id);
    lab->failed = 1;
    return 1;
}

int lessonhost_cmd_begin(struct lab *lab, int argc, char **argv)
{
    (void)argc;
    int rc = begin(lab, argv[1], 1);
    if (rc == 0) {
        lab_out(lab, "lesson %s: %d steps", argv[1], H(lab)->l->nsteps);
        if (early_pass(lab))
            return 1;
    }
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
            return early_pass(lab) ? 1 : 0;
        }
        if (mono_us() >= end || lab->interrupted)
            break;
        lab_pump(lab, 100000, -1);
    }
    struct sb why = {0};
    lcheck_eval(st->check, &h->w, lesson_engine_mark(h->e), &why);
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
    if (!strcmp(argv[1], "list"))
        return lessonhost_list(lab) == 0 ? 0 : 1;
    return lessonhost_begin(lab, argv[1]) == 0 ? 0 : 1;
}

static const struct lab_command lesson_commands[] = {
    {"lesson", "lesson ID | lesson list", "Start lesson ID (its cluster and step 1), or list the course. Inside a lesson: hint, next, back, quiz, restart, lesson check, lesson skip, lesson quit.", "lesson welcome", 1, 1, cmd_lesson},
    {"lesson-begin", "lesson-begin ID", "Scripts: load lesson ID and check its steps against this lab (the script starts the cluster itself).", "lesson-begin raft-election", 1, 1, lessonhost_cmd_begin},
    {"lesson-check", "lesson-check STEP TIMEOUT", "Scripts: wait until lesson step STEP (the current one) passes, or fail after TIMEOUT.", "lesson-check find-leader 10s", 2, 2, lessonhost_cmd_check},
    {"lesson-end", "lesson-end", "Scripts: every step of the lesson must have passed.", "lesson-end", 0, 0, lessonhost_cmd_end},
    {NULL, NULL, NULL, NULL, 0, 0, NULL},
};

static int hook_line(void *ud, const char *line)
{
    return lessonhost_line(ud, line);
}

static void hook_command(void *ud, int argc, char **argv)
{
    lessonhost_note_command(ud, argc, argv);
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
    lab_add_hooks(lab, &(struct lab_hooks){.ud = lab, .on_line = hook_line, .on_command = hook_command,
                                           .on_tick = hook_tick,
                                           .on_destroy = hook_destroy});
}
