/* lesson — see lesson.h. Three parts: the loader (YAML tree -> struct lesson, with every
 * reference checked), the predicates (evaluated through struct lesson_world) and the engine. */
#include "lesson.h"

#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mode.h"
#include "lcheck.h"
#include "progress.h"
#include "yamldoc.h"

#define TEXT_MAX (16u * 1024u)
#define LINE_MAX_LEN 256

static const char *const lab_commands =
    "bandwidth|spoof|stop|status|put|get|cas|send|partition|isolate|heal|crash|restart|pause|resume|delay|loss|dup|"
    "skew|clock|wait|speed|freeze|step|thaw|history|check|expect|log|clocks|trace|help|"
    "endpoints|cut|reorder|compare|messages|client|clients|storage|watch";
/* The modes, their own commands and the events a lesson may check come from the mode table
 * (mode_names, mode_command_names, mode_event_names). */

/* ---- small helpers ------------------------------------------------------------------- */

static char **strv_push(char **v, int *n, const char *s)
{
    v = xrealloc(v, (size_t)(*n + 1) * sizeof *v);
    v[(*n)++] = xstrdup(s);
    return v;
}

static void strv_free(char **v, int n)
{
    for (int i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void lesson_free(struct lesson **lp)
{
    if (!lp || !*lp)
        return;
    struct lesson *l = *lp;
    free(l->file);
    free(l->id);
    free(l->title);
    free(l->summary);
    free(l->level);
    strv_free(l->topics, l->ntopics);
    strv_free(l->requires, l->nrequires);
    for (int i = 0; i < l->nopts; i++) {
        free(l->opt_key[i]);
        free(l->opt_val[i]);
    }
    free(l->intro);
    free(l->finish);
    strv_free(l->recap, l->nrecap);
    for (int i = 0; i < l->nsteps; i++) {
        struct lesson_step *s = &l->steps[i];
        free(s->id);
        free(s->title);
        free(s->text);
        free(s->done);
        for (int k = 0; k < s->ncommands; k++)
            free(s->commands[k]);
        for (int k = 0; k < s->nsolution; k++)
            free(s->solution[k]);
        for (int k = 0; k < s->nhints; k++)
            free(s->hints[k]);
        lcheck_free(s->check);
    }
    free(l->steps);
    for (int i = 0; i < l->nquiz; i++)
        quiz_question_clear(&l->quiz[i]);
    free(l->quiz);
    free(l->notes);
    for (int i = 0; i < l->ndemo; i++)
        free(l->demo[i].text);
    free(l->demo);
    free(l);
    *lp = NULL;
}

/* Parser context: the document, the error buffer and the cluster size for node names. */
struct pctx {
    const struct ydoc *d;
    char *err;
    size_t errlen;
    int nodes;
    char clients[16][16];       /* names `client NAME` lines started: `NAME lock …` is a command */
    int nclients;
};

static int opt_text(struct pctx *c, const struct ydoc_node *map, const char *key,
                    const char *what, char **out)
{
    const struct ydoc_node *n = ydoc_get(map, key);
    const char *s;
    if (!n)
        return 0;
    char w[160];
    snprintf(w, sizeof w, "%s %s", what, key);
    if (ydoc_str(c->d, n, w, TEXT_MAX, &s, c->err, c->errlen) < 0)
        return CL_EINVAL;
    *out = xstrdup(s);
    return 0;
}

static int req_text(struct pctx *c, const struct ydoc_node *map, const char *key,
                    const char *what, char **out)
{
    if (!ydoc_get(map, key))
        return ydoc_error(c->d, map, c->err, c->errlen, "%s: missing required key \"%s\"", what,
                          key);
    return opt_text(c, map, key, what, out);
}

/* A list of strings (or a single string taken as a one-item list when single_ok). */
static int str_list(struct pctx *c, const struct ydoc_node *n, const char *what, int max,
                    size_t maxlen, char **out, int *count)
{
    if (ydoc_want(c->d, n, YDOC_LIST, what, c->err, c->errlen) < 0)
        return CL_EINVAL;
    if ((int)n->n > max)
        return ydoc_error(c->d, n, c->err, c->errlen, "%s: %zu items; at most %d", what, n->n,
                          max);
    for (size_t i = 0; i < n->n; i++) {
        const char *s;
        char w[128];
        snprintf(w, sizeof w, "%s item %zu", what, i + 1);
        if (ydoc_str(c->d, n->items[i], w, maxlen, &s, c->err, c->errlen) < 0)
            return CL_EINVAL;
        out[(*count)++] = xstrdup(s);
    }
    return 0;
}

/* Checks one lab command line: a known command word, node names within the cluster. */
static int check_command(struct pctx *c, const struct ydoc_node *at, const char *what,
                         const char *line, bool solution)
{
    if (strlen(line) > LINE_MAX_LEN)
        return ydoc_error(c->d, at, c->err, c->errlen, "%s: command longer than %d bytes", what,
                          LINE_MAX_LEN);
    if (strchr(line, '\n'))
        return ydoc_error(c->d, at, c->err, c->errlen, "%s: one command per item, no newlines",
                          what);
    char buf[LINE_MAX_LEN + 1];
    str_copy(buf, line, sizeof buf);
    char *save = NULL;
    char *word = strtok_r(buf, " ", &save);
    if (!word)
        return ydoc_error(c->d, at, c->err, c->errlen, "%s: empty command", what);
    if (!strcmp(word, "quit"))
        return ydoc_error(c->d, at, c->err, c->errlen,
                          "%s: \"quit\" is not allowed in a lesson", what);
    if (!strcmp(word, "start")) {
        /* a step may restart the cluster in another mode, with at most the lesson's nodes */
        char *mode = strtok_r(NULL, " ", &save), *num = strtok_r(NULL, " ", &save);
        int64_t nn = c->nodes;
        char sug[32];
        char bar[40] = "";
        if (mode && strlen(mode) < 30)
            snprintf(bar, sizeof bar, "|%s|", mode);
        if (!mode || !bar[0] || !mode_find(mode)) {
            if (mode && ydoc_suggest(mode, mode_names(), sug, sizeof sug))
                return ydoc_error(c->d, at, c->err, c->errlen,
                                  "%s: unknown mode \"%s\"; did you mean \"%s\"?", what, mode,
                                  sug);
            return ydoc_error(c->d, at, c->err, c->errlen,
                              "%s: start needs a mode: %s", what, mode_names());
        }
        if (num && !strchr(num, '=') && (parse_i64(num, &nn) < 0 || nn < 1 || nn > c->nodes))
            return ydoc_error(c->d, at, c->err, c->errlen,
                              "%s: start may use 1 to %d nodes (the lesson's cluster size)", what,
                              c->nodes);
        return 0;
    }
    size_t wl = strlen(word);
    bool found = false;
    if (!strcmp(word, "client")) {
        char *name = strtok_r(NULL, " ", &save);
        if (name && strlen(name) < sizeof c->clients[0] && c->nclients < (int)CL_ARRAY_LEN(c->clients))
            str_copy(c->clients[c->nclients++], name, sizeof c->clients[0]);
    }
    for (int k = 0; k < c->nclients && !found; k++)
        found = !strcmp(c->clients[k], word);
    const char *const lists[] = {lab_commands, mode_command_names()};
    for (size_t li = 0; li < CL_ARRAY_LEN(lists); li++)
        for (const char *p = lists[li]; *p;) {
            const char *bar = strchr(p, '|');
            size_t len = bar ? (size_t)(bar - p) : strlen(p);
            if (len == wl && !strncmp(p, word, len))
                found = true;
            if (!bar)
                break;
            p = bar + 1;
        }
    if (!found) {
        char sug[32];
        if (ydoc_suggest(word, lab_commands, sug, sizeof sug))
            return ydoc_error(c->d, at, c->err, c->errlen,
                              "%s: unknown command \"%s\"; did you mean \"%s\"?", what, word,
                              sug);
        return ydoc_error(c->d, at, c->err, c->errlen, "%s: unknown command \"%s\"", what, word);
    }
    (void)solution;
    /* node names: n<digits>, alone, after @, or in comma lists */
    for (char *tok = strtok_r(NULL, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        char *t = tok[0] == '@' ? tok + 1 : tok;
        for (char *arrow = strstr(t, "->"); arrow; arrow = strstr(arrow, "->"))
            arrow[0] = arrow[1] = ','; /* delay n1->n3: check both ends */
        char *save2 = NULL;
        for (char *part = strtok_r(t, ",", &save2); part; part = strtok_r(NULL, ",", &save2)) {
            if (part[0] != 'n' || !part[1])
                continue;
            bool digits = true;
            for (char *q = part + 1; *q; q++)
                digits = digits && *q >= '0' && *q <= '9';
            int idx;
            if (digits && parse_node_id(part, c->nodes, &idx) < 0)
                return ydoc_error(c->d, at, c->err, c->errlen,
                                  "%s: node \"%s\" does not exist; the cluster has n1..n%d",
                                  what, part, c->nodes);
        }
    }
    return 0;
}

static int command_ok(void *ud, const struct ydoc_node *at, const char *what, const char *line)
{
    return check_command(ud, at, what, line, false);
}

static int command_list(struct pctx *c, const struct ydoc_node *n, const char *what,
                        char **out, int *count, bool solution)
{
    if (str_list(c, n, what, LESSON_MAX_CMDS, LINE_MAX_LEN, out, count) < 0)
        return CL_EINVAL;
    for (int i = 0; i < *count; i++) {
        char w[128];
        snprintf(w, sizeof w, "%s item %d", what, i + 1);
        if (check_command(c, n->items[i], w, out[i], solution) < 0)
            return CL_EINVAL;
    }
    return 0;
}

/* ---- lesson -------------------------------------------------------------------------- */

static int parse_cluster(struct pctx *c, const struct ydoc_node *n, struct lesson *l)
{
    static const char *const keys[] = {"mode", "nodes", "seed", "options", NULL};
    static const char *const req[] = {"mode", "nodes", NULL};
    const struct ydoc *d = c->d;
    int idx;
    long v;
    if (ydoc_check_keys(d, n, "cluster", keys, req, c->err, c->errlen) < 0 ||
        ydoc_enum(d, ydoc_get(n, "mode"), "cluster mode", mode_names(), &idx, c->err,
                  c->errlen) < 0)
        return CL_EINVAL;
    /* as many nodes as `start` offers the mode: 9, or its own max_nodes */
    const struct mode *cm = mode_find(ydoc_get(n, "mode")->str);
    long most = cm && cm->max_nodes > 0 ? mode_max_nodes(cm) : 9;
    if (ydoc_int(d, ydoc_get(n, "nodes"), "cluster nodes", 1, most, &v, c->err, c->errlen) < 0)
        return CL_EINVAL;
    str_copy(l->mode, ydoc_get(n, "mode")->str, sizeof l->mode);
    l->nodes = (int)v;
    c->nodes = l->nodes;
    l->seed = -1;
    if (ydoc_get(n, "seed") && ydoc_int(d, ydoc_get(n, "seed"), "cluster seed", 0, 2147483647L,
                                        &l->seed, c->err, c->errlen) < 0)
        return CL_EINVAL;
    const struct ydoc_node *o = ydoc_get(n, "options");
    if (!o)
        return 0;
    if (ydoc_want(d, o, YDOC_MAP, "cluster options", c->err, c->errlen) < 0)
        return CL_EINVAL;
    if (o->n > LESSON_MAX_OPTS)
        return ydoc_error(d, o, c->err, c->errlen, "cluster options: at most %d",
                          LESSON_MAX_OPTS);
    long nn = -1, ww = -1, rr = -1;
    for (size_t i = 0; i < o->n; i++) {
        const char *k = o->keys[i]->str, *s;
        if (ydoc_str(d, o->items[i], "cluster option value", 64, &s, c->err, c->errlen) < 0)
            return CL_EINVAL;
        for (const char *q = s; *q; q++)
            if (*q == ' ' || *q == '=' || *q == ';' || *q == '#')
                return ydoc_error(d, o->items[i], c->err, c->errlen,
                                  "cluster option %s: the value may not contain spaces, '=', ';' "
                                  "or '#'", k);
        for (const char *q = k; *q; q++)
            if (!((*q >= 'a' && *q <= 'z') || *q == '_' || (*q >= '0' && *q <= '9')))
                return ydoc_error(d, o->keys[i], c->err, c->errlen,
                                  "cluster option \"%.40s\": not an option name", k);
        if (!strcmp(k, "seed") || !strcmp(k, "mode"))
            return ydoc_error(d, o->keys[i], c->err, c->errlen,
                              "cluster option %s: give it as cluster %s", k, k);
        long *slot = !strcmp(k, "n") ? &nn : !strcmp(k, "w") ? &ww : !strcmp(k, "r") ? &rr : NULL;
        if (slot && ydoc_int(d, o->items[i], k, 1, 9, slot, c->err, c->errlen) < 0)
            return CL_EINVAL;
        l->opt_key[l->nopts] = xstrdup(k);
        l->opt_val[l->nopts++] = xstrdup(s);
    }
    long rep = nn > 0 ? nn : l->nodes;
    if (nn > l->nodes)
        return ydoc_error(d, o, c->err, c->errlen,
                          "cluster options: n=%ld replicas but only %d nodes", nn, l->nodes);
    if (ww > rep || rr > rep)
        return ydoc_error(d, o, c->err, c->errlen,
                          "cluster options: w and r must be at most n=%ld", rep);
    return 0;
}

static int parse_step(struct pctx *c, const struct ydoc_node *n, int i, struct lesson_step *s)
{
    static const char *const keys[] = {"id", "title", "text", "commands", "check", "timeout",
                                       "hints", "solution", "done", NULL};
    static const char *const req[] = {"id", "title", "text", "check", "solution", NULL};
    char what[96];
    const struct ydoc_node *idn = ydoc_get(n, "id");
    if (idn && idn->kind == YDOC_SCALAR && !idn->null && idn->len <= 64)
        snprintf(what, sizeof what, "step \"%s\"", idn->str);
    else
        snprintf(what, sizeof what, "step %d", i + 1);
    if (ydoc_check_keys(c->d, n, what, keys, req, c->err, c->errlen) < 0)
        return CL_EINVAL;
    const char *id;
    if (ydoc_ident(c->d, ydoc_get(n, "id"), "step id", 64, &id, c->err, c->errlen) < 0)
        return CL_EINVAL;
    s->id = xstrdup(id);
    s->line = n->line;
    snprintf(what, sizeof what, "step \"%s\"", id);
    if (req_text(c, n, "title", what, &s->title) < 0 || req_text(c, n, "text", what, &s->text) < 0 ||
        opt_text(c, n, "done", what, &s->done) < 0)
        return CL_EINVAL;
    char w2[128];
    if (ydoc_get(n, "commands")) {
        snprintf(w2, sizeof w2, "%s commands", what);
        if (command_list(c, ydoc_get(n, "commands"), w2, s->commands, &s->ncommands, false) < 0)
            return CL_EINVAL;
    }
    snprintf(w2, sizeof w2, "%s solution", what);
    if (command_list(c, ydoc_get(n, "solution"), w2, s->solution, &s->nsolution, true) < 0)
        return CL_EINVAL;
    if (ydoc_get(n, "hints")) {
        snprintf(w2, sizeof w2, "%s hints", what);
        if (str_list(c, ydoc_get(n, "hints"), w2, LESSON_MAX_HINTS, TEXT_MAX, s->hints,
                     &s->nhints) < 0)
            return CL_EINVAL;
    }
    s->timeout_ms = 30000;
    if (ydoc_get(n, "timeout")) {
        snprintf(w2, sizeof w2, "%s timeout", what);
        if (ydoc_duration_ms(c->d, ydoc_get(n, "timeout"), w2, 100, 600000, &s->timeout_ms,
                             c->err, c->errlen) < 0)
            return CL_EINVAL;
    }
    snprintf(w2, sizeof w2, "%s check", what);
    struct lcheck_ctx cc = {.d = c->d, .err = c->err, .errlen = c->errlen, .nodes = c->nodes,
                            .event_names = mode_event_names(), .command_ok = command_ok, .ud = c};
    if (lcheck_parse(&cc, ydoc_get(n, "check"), w2, &s->check) < 0)
        return CL_EINVAL;
    /* a step waits for the student: a check of state alone already holds when it opens */
    if (!lcheck_waits(s->check))
        return ydoc_error(c->d, ydoc_get(n, "check"), c->err, c->errlen,
                          "%s: nothing in it waits for the student, so it may already hold when "
                          "the step opens; add what the step asks for: an op, an event or a "
                          "command (e.g. all: [..., command: \"status\"])", w2);
    return 0;
}

static int parse_demo(struct pctx *c, const struct ydoc_node *n, struct lesson *l)
{
    if (ydoc_want(c->d, n, YDOC_LIST, "instructor demo", c->err, c->errlen) < 0)
        return CL_EINVAL;
    if (n->n > 200)
        return ydoc_error(c->d, n, c->err, c->errlen, "instructor demo: at most 200 items");
    l->demo = xcalloc(n->n ? n->n : 1, sizeof *l->demo);
    for (size_t i = 0; i < n->n; i++) {
        static const char *const keys[] = {"say", "run", "marker", "wait", NULL};
        const struct ydoc_node *it = n->items[i];
        if (ydoc_check_keys(c->d, it, "instructor demo item", keys, NULL, c->err, c->errlen) < 0)
            return CL_EINVAL;
        if (it->n != 1)
            return ydoc_error(c->d, it, c->err, c->errlen,
                              "instructor demo item: exactly one of say, run, marker, wait");
        struct lesson_demo *dm = &l->demo[l->ndemo++];
        const char *k = it->keys[0]->str;
        str_copy(dm->kind, k, sizeof dm->kind);
        if (!strcmp(k, "wait")) {
            if (ydoc_duration_ms(c->d, it->items[0], "instructor demo wait", 0, 600000,
                                 &dm->wait_ms, c->err, c->errlen) < 0)
                return CL_EINVAL;
            continue;
        }
        const char *s;
        if (ydoc_str(c->d, it->items[0], "instructor demo text", TEXT_MAX, &s, c->err,
                     c->errlen) < 0)
            return CL_EINVAL;
        if (!strcmp(k, "run") && check_command(c, it->items[0], "instructor demo run", s, false) < 0)
            return CL_EINVAL;
        dm->text = xstrdup(s);
    }
    return 0;
}

static int parse_lesson(struct pctx *c, const struct ydoc_node *root, struct lesson *l)
{
    static const char *const keys[] = {"schema", "id", "title", "summary", "level", "minutes",
                                       "topics", "requires", "cluster", "intro", "steps",
                                       "finish", "recap", "quiz", "instructor", "chapter", NULL};
    static const char *const req[] = {"schema", "id", "title", "level", "minutes", "cluster",
                                      "steps", NULL};
    const struct ydoc *d = c->d;
    long v;
    if (ydoc_check_keys(d, root, "lesson", keys, req, c->err, c->errlen) < 0)
        return CL_EINVAL;
    if (ydoc_int(d, ydoc_get(root, "schema"), "schema", 0, 1000000, &v, c->err, c->errlen) < 0)
        return CL_EINVAL;
    if (v != 1)
        return ydoc_error(d, ydoc_get(root, "schema"), c->err, c->errlen,
                          "schema %ld is not supported by this conlab (it reads schema 1)", v);
    const char *id;
    if (ydoc_ident(d, ydoc_get(root, "id"), "id", 64, &id, c->err, c->errlen) < 0)
        return CL_EINVAL;
    l->id = xstrdup(id);
    int lv;
    if (req_text(c, root, "title", "lesson", &l->title) < 0 ||
        opt_text(c, root, "summary", "lesson", &l->summary) < 0 ||
        ydoc_enum(d, ydoc_get(root, "level"), "level", "beginner|intermediate|advanced", &lv,
                  c->err, c->errlen) < 0 ||
        ydoc_int(d, ydoc_get(root, "minutes"), "minutes", 1, 120, &l->minutes, c->err,
                 c->errlen) < 0)
        return CL_EINVAL;
    l->level = xstrdup(ydoc_get(root, "level")->str);
    if (ydoc_get(root, "chapter")) {
        long ch;
        if (ydoc_int(d, ydoc_get(root, "chapter"), "chapter", 1, LESSON_MAX_CHAPTER, &ch, c->err,
                     c->errlen) < 0)
            return CL_EINVAL;
        l->chapter = (int)ch;
    }
    if (strlen(l->title) > 120)
        return ydoc_error(d, ydoc_get(root, "title"), c->err, c->errlen,
                          "title: at most 120 bytes");
    const struct ydoc_node *t = ydoc_get(root, "topics");
    if (t) {
        if (ydoc_want(d, t, YDOC_LIST, "topics", c->err, c->errlen) < 0)
            return CL_EINVAL;
        if (t->n > 16)
            return ydoc_error(d, t, c->err, c->errlen, "topics: at most 16");
        for (size_t i = 0; i < t->n; i++) {
            const char *s;
            if (ydoc_ident(d, t->items[i], "topics item", 32, &s, c->err, c->errlen) < 0)
                return CL_EINVAL;
            l->topics = strv_push(l->topics, &l->ntopics, s);
        }
    }
    t = ydoc_get(root, "requires");
    if (t) {
        if (ydoc_want(d, t, YDOC_LIST, "requires", c->err, c->errlen) < 0)
            return CL_EINVAL;
        if (t->n > 16)
            return ydoc_error(d, t, c->err, c->errlen, "requires: at most 16");
        for (size_t i = 0; i < t->n; i++) {
            const char *s;
            if (ydoc_ident(d, t->items[i], "requires item", 64, &s, c->err, c->errlen) < 0)
                return CL_EINVAL;
            if (!strcmp(s, l->id))
                return ydoc_error(d, t->items[i], c->err, c->errlen,
                                  "requires: a lesson cannot require itself");
            l->requires = strv_push(l->requires, &l->nrequires, s);
        }
    }
    if (parse_cluster(c, ydoc_get(root, "cluster"), l) < 0)
        return CL_EINVAL;
    if (opt_text(c, root, "intro", "lesson", &l->intro) < 0 ||
        opt_text(c, root, "finish", "lesson", &l->finish) < 0)
        return CL_EINVAL;
    t = ydoc_get(root, "recap");
    if (t) {
        if (ydoc_want(d, t, YDOC_LIST, "recap", c->err, c->errlen) < 0)
            return CL_EINVAL;
        if (t->n > 20)
            return ydoc_error(d, t, c->err, c->errlen, "recap: at most 20 items");
        l->recap = xcalloc(t->n ? t->n : 1, sizeof *l->recap);
        if (str_list(c, t, "recap", 20, TEXT_MAX, l->recap, &l->nrecap) < 0)
            return CL_EINVAL;
    }
    const struct ydoc_node *steps = ydoc_get(root, "steps");
    if (ydoc_want(d, steps, YDOC_LIST, "steps", c->err, c->errlen) < 0)
        return CL_EINVAL;
    if (steps->n == 0 || steps->n > LESSON_MAX_STEPS)
        return ydoc_error(d, steps, c->err, c->errlen, "steps: between 1 and %d steps",
                          LESSON_MAX_STEPS);
    l->steps = xcalloc(steps->n, sizeof *l->steps);
    for (size_t i = 0; i < steps->n; i++) {
        l->nsteps++;
        if (parse_step(c, steps->items[i], (int)i, &l->steps[i]) < 0)
            return CL_EINVAL;
        for (size_t j = 0; j < i; j++)
            if (!strcmp(l->steps[j].id, l->steps[i].id))
                return ydoc_error(d, ydoc_get(steps->items[i], "id"), c->err, c->errlen,
                                  "step id \"%s\" is used twice (first by step %zu)",
                                  l->steps[i].id, j + 1);
    }
    t = ydoc_get(root, "quiz");
    if (t) {
        if (ydoc_want(d, t, YDOC_LIST, "quiz", c->err, c->errlen) < 0)
            return CL_EINVAL;
        if (t->n > 20)
            return ydoc_error(d, t, c->err, c->errlen, "quiz: at most 20 questions");
        l->quiz = xcalloc(t->n ? t->n : 1, sizeof *l->quiz);
        for (size_t i = 0; i < t->n; i++) {
            if (quiz_question_parse(d, t->items[i], l->id, &l->quiz[i], c->err, c->errlen) < 0)
                return CL_EINVAL;
            l->nquiz++;
            if (l->quiz[i].kind == QUIZ_OPEN)
                return ydoc_error(d, t->items[i], c->err, c->errlen,
                                  "quiz: open questions belong in the interview bank "
                                  "(lessons/quiz/); use choice, numeric or order here");
            for (size_t j = 0; j < i; j++)
                if (!strcmp(l->quiz[j].id, l->quiz[i].id))
                    return ydoc_error(d, t->items[i], c->err, c->errlen,
                                      "quiz id \"%s\" is used twice", l->quiz[i].id);
        }
    }
    const struct ydoc_node *ins = ydoc_get(root, "instructor");
    if (ins) {
        static const char *const ikeys[] = {"notes", "demo", NULL};
        if (ydoc_check_keys(d, ins, "instructor", ikeys, NULL, c->err, c->errlen) < 0 ||
            opt_text(c, ins, "notes", "instructor", &l->notes) < 0)
            return CL_EINVAL;
        if (ydoc_get(ins, "demo") && parse_demo(c, ydoc_get(ins, "demo"), l) < 0)
            return CL_EINVAL;
    }
    return 0;
}

int lesson_parse(const char *buf, size_t len, const char *name, struct lesson **out, char *err,
                 size_t errlen)
{
    *out = NULL;
    struct ydoc *d;
    if (ydoc_parse(buf, len, name, NULL, &d, err, errlen) < 0)
        return CL_EINVAL;
    struct lesson *l = xcalloc(1, sizeof *l);
    l->file = xstrdup(name ? name : "<input>");
    struct pctx c = {.d = d, .err = err, .errlen = errlen, .nodes = 1};
    int rc = parse_lesson(&c, d->root, l);
    ydoc_free(&d);
    if (rc < 0) {
        lesson_free(&l);
        return CL_EINVAL;
    }
    *out = l;
    return 0;
}

int lesson_load_file(const char *path, struct lesson **out, char *err, size_t errlen)
{
    *out = NULL;
    struct ydoc *d;
    int rc = ydoc_load_file(path, NULL, &d, err, errlen);
    if (rc < 0)
        return rc;
    struct lesson *l = xcalloc(1, sizeof *l);
    l->file = xstrdup(path);
    struct pctx c = {.d = d, .err = err, .errlen = errlen, .nodes = 1};
    rc = parse_lesson(&c, d->root, l);
    ydoc_free(&d);
    if (rc < 0) {
        lesson_free(&l);
        return CL_EINVAL;
    }
    *out = l;
    return 0;
}

int lesson_dir(char *buf, size_t n)
{
    struct stat st;
    const char *env = getenv("CONLAB_LESSONS");
    if (env && *env) {
        str_copy(buf, env, n);
        return stat(buf, &st) == 0 && S_ISDIR(st.st_mode) ? 0 : CL_ENOENT;
    }
    char exe[4096];
    ssize_t k = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (k > 0) {
        exe[k] = 0;
        char *dir = dirname(exe);
        static const char *const rel[] = {"../lessons", "../share/conlab/lessons"};
        for (size_t i = 0; i < CL_ARRAY_LEN(rel); i++) {
            snprintf(buf, n, "%s/%s", dir, rel[i]);
            if (stat(buf, &st) == 0 && S_ISDIR(st.st_mode))
                return 0;
        }
    }
    str_copy(buf, "lessons", n);
    return stat(buf, &st) == 0 && S_ISDIR(st.st_mode) ? 0 : CL_ENOENT;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int lesson_catalog_load(const char *dir, struct lesson_catalog *cat, char *err, size_t errlen)
{
    memset(cat, 0, sizeof *cat);
    DIR *dh = opendir(dir);
    if (!dh) {
        snprintf(err, errlen, "cannot read the lessons directory %s: %s", dir, strerror(errno));
        return CL_ENOENT;
    }
    char **names = NULL;
    int nn = 0;
    struct dirent *de;
    while ((de = readdir(dh)) && nn < 500) {
        size_t len = strlen(de->d_name);
        if (de->d_name[0] == '.' || len < 6 || strcmp(de->d_name + len - 5, ".yaml"))
            continue;
        names = strv_push(names, &nn, de->d_name);
    }
    closedir(dh);
    if (nn)
        qsort(names, (size_t)nn, sizeof *names, cmp_str);
    char *root = realpath(dir, NULL);
    for (int i = 0; i < nn; i++) {
        char path[4096], e[512];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        /* a symlink may point anywhere: only files inside the lessons directory are read */
        char *real = realpath(path, NULL);
        size_t rl = root ? strlen(root) : 0;
        if (!real || !root || strncmp(real, root, rl) || real[rl] != '/') {
            char *m = xasprintf("%s: not a file inside the lessons directory; skipped", path);
            cat->bad = strv_push(cat->bad, &cat->nbad, m);
            free(m);
            free(real);
            continue;
        }
        free(real);
        struct lesson *l;
        if (lesson_load_file(path, &l, e, sizeof e) < 0) {
            cat->bad = strv_push(cat->bad, &cat->nbad, e);
            continue;
        }
        bool dup = false;
        for (int j = 0; j < cat->n; j++)
            if (!strcmp(cat->l[j]->id, l->id)) {
                char *m = xasprintf("%s: lesson id \"%s\" is already used by %s", path, l->id,
                                    cat->l[j]->file);
                cat->bad = strv_push(cat->bad, &cat->nbad, m);
                free(m);
                dup = true;
            }
        if (dup) {
            lesson_free(&l);
            continue;
        }
        cat->l = xrealloc(cat->l, (size_t)(cat->n + 1) * sizeof *cat->l);
        cat->l[cat->n++] = l;
    }
    strv_free(names, nn);
    free(root);
    for (int i = 0; i < cat->n; i++)
        for (int r = 0; r < cat->l[i]->nrequires; r++) {
            bool ok = false;
            for (int j = 0; j < cat->n; j++)
                ok = ok || !strcmp(cat->l[j]->id, cat->l[i]->requires[r]);
            if (!ok) {
                char *m = xasprintf("%s: requires unknown lesson \"%s\"", cat->l[i]->file,
                                    cat->l[i]->requires[r]);
                cat->bad = strv_push(cat->bad, &cat->nbad, m);
                free(m);
            }
        }
    return 0;
}

void lesson_catalog_free(struct lesson_catalog *cat)
{
    for (int i = 0; i < cat->n; i++)
        lesson_free(&cat->l[i]);
    free(cat->l);
    strv_free(cat->bad, cat->nbad);
    memset(cat, 0, sizeof *cat);
}

const struct lesson *lesson_catalog_find(const struct lesson_catalog *cat, const char *id,
                                         char *err, size_t errlen)
{
    struct sb words = {0};
    for (int i = 0; i < cat->n; i++) {
        if (!strcmp(cat->l[i]->id, id)) {
            sb_free(&words);
            return cat->l[i];
        }
        if (i)
            sb_addc(&words, '|');
        sb_add(&words, cat->l[i]->id);
    }
    char sug[80];
    struct sb esc = {0};
    sb_add_escaped(&esc, id, strlen(id) > 64 ? 64 : strlen(id));
    if (words.s && ydoc_suggest(id, words.s, sug, sizeof sug))
        snprintf(err, errlen, "unknown lesson \"%s\"; did you mean \"%s\"? (conlab lesson list)",
                 esc.s ? esc.s : "", sug);
    else
        snprintf(err, errlen, "unknown lesson \"%s\"; `conlab lesson list` shows them all",
                 esc.s ? esc.s : "");
    sb_free(&esc);
    sb_free(&words);
    return NULL;
}

int lesson_load_id(const char *id, struct lesson **out, char *err, size_t errlen)
{
    *out = NULL;
    char dir[4096];
    if (lesson_dir(dir, sizeof dir) < 0) {
        snprintf(err, errlen, "no lessons directory found (set CONLAB_LESSONS)");
        return CL_ENOENT;
    }
    struct lesson_catalog cat;
    if (lesson_catalog_load(dir, &cat, err, errlen) < 0)
        return CL_ENOENT;
    int rc = CL_ENOENT;
    for (int i = 0; i < cat.n; i++)
        if (!strcmp(cat.l[i]->id, id)) {
            *out = cat.l[i];
            cat.l[i] = cat.l[--cat.n];
            rc = 0;
            break;
        }
    if (rc < 0) {
        /* a bad file named after the id: report its error rather than "unknown" */
        for (int i = 0; i < cat.nbad; i++) {
            char path[512];
            str_copy(path, cat.bad[i], sizeof path);
            path[strcspn(path, ":")] = 0;
            const char *slash = strrchr(path, '/');
            const char *base = slash ? slash + 1 : path;
            const char *dash = strchr(base, '-');
            size_t idl = strlen(id);
            if (dash && !strncmp(dash + 1, id, idl) && !strncmp(dash + 1 + idl, ".yaml", 5)) {
                snprintf(err, errlen, "%s", cat.bad[i]);
                rc = CL_EINVAL;
            }
        }
        if (rc == CL_ENOENT)
            lesson_catalog_find(&cat, id, err, errlen);
    }
    lesson_catalog_free(&cat);
    return rc;
}

void lesson_start_command(const struct lesson *l, struct sb *out)
{
    sb_printf(out, "start %s %d", l->mode, l->nodes);
    if (l->seed >= 0)
        sb_printf(out, " seed=%ld", l->seed);
    for (int i = 0; i < l->nopts; i++)
        sb_printf(out, " %s=%s", l->opt_key[i], l->opt_val[i]);
}

int lesson_solution_script(const struct lesson *l, struct sb *out)
{
    sb_printf(out, "# lesson %s: every step's solution, then its check (generated)\n", l->id);
    lesson_start_command(l, out); /* the lesson's cluster, as `lesson ID` starts it */
    sb_addc(out, '\n');
    sb_printf(out, "lesson-begin %s\n", l->id);
    for (int i = 0; i < l->nsteps; i++) {
        const struct lesson_step *s = &l->steps[i];
        sb_printf(out, "# step %d/%d: %s\n", i + 1, l->nsteps, s->id);
        for (int k = 0; k < s->nsolution; k++)
            sb_printf(out, "%s\n", s->solution[k]);
        if (s->timeout_ms % 1000 == 0)
            sb_printf(out, "lesson-check %s %lds\n", s->id, s->timeout_ms / 1000);
        else
            sb_printf(out, "lesson-check %s %ldms\n", s->id, s->timeout_ms);
    }
    sb_add(out, "lesson-end\n");
    return 0;
}

/* ---- engine ----------------------------------------------------------------------------- */

struct lesson_engine {
    const struct lesson *l;
    const struct lesson_world *w;
    struct progress *p;
    enum lesson_phase phase;
    int step;                       /* current step; nsteps once past the last one */
    int quiz;                       /* current quiz question */
    int quiz_right;
    uint64_t mark;                  /* world mark when the step began */
    uint64_t started_us;            /* when the step began (mono) */
    bool slow_told;
    int just_passed;                /* the step that passed last (shown once), -1 none */
    char *slow_why;                 /* why the step did not pass, after its timeout */
    int *hints;                     /* revealed per step, this session */
    bool *passed;                   /* passed in this session */
    int perm[QUIZ_MAX_CHOICES];     /* display order of choices or items (a fixed shuffle) */
};

const char *const lesson_engine_words[] = {"hint", "next", "back", "quiz", "restart", "lesson",
                                           NULL};

static void save(struct lesson_engine *e, struct sb *out)
{
    if (!e->p)
        return;
    char err[512];
    if (progress_save(e->p, err, sizeof err) < 0 && out)
        sb_printf(out, "(progress not saved: %s)\n", err);
}

static void arm(struct lesson_engine *e)
{
    e->mark = e->w && e->w->mark ? e->w->mark(e->w->ud) : 0;
    e->started_us = mono_us();
    e->slow_told = false;
    free(e->slow_why);
    e->slow_why = NULL;
}

/* Display order for a choice or ordering question: a fixed shuffle that is never the answer
 * order. */
static void make_perm(struct lesson_engine *e)
{
    if (e->quiz >= e->l->nquiz)
        return;
    const struct quiz_question *q = &e->l->quiz[e->quiz];
    int n = q->kind == QUIZ_CHOICE ? q->nchoices : q->nitems;
    for (int i = 0; i < n; i++)
        e->perm[i] = (i + 1) % (n ? n : 1); /* rotate by one */
    if (n >= 3) { /* and swap the last two so it is not a plain rotation */
        int t = e->perm[n - 1];
        e->perm[n - 1] = e->perm[n - 2];
        e->perm[n - 2] = t;
    }
}

struct lesson_engine *lesson_engine_new(const struct lesson *l, const struct lesson_world *w,
                                        struct progress *p)
{
    struct lesson_engine *e = xcalloc(1, sizeof *e);
    e->l = l;
    e->w = w;
    e->p = p;
    e->hints = xcalloc((size_t)l->nsteps, sizeof *e->hints);
    e->passed = xcalloc((size_t)l->nsteps, sizeof *e->passed);
    e->phase = l->intro ? LESSON_INTRO : LESSON_IN_STEP;
    e->just_passed = -1;
    if (p) {
        progress_lesson_set_step(p, l->id, 0);
        save(e, NULL);
    }
    arm(e);
    return e;
}

void lesson_engine_free(struct lesson_engine **e)
{
    if (!e || !*e)
        return;
    free((*e)->hints);
    free((*e)->passed);
    free((*e)->slow_why);
    free(*e);
    *e = NULL;
}

void lesson_engine_set_world(struct lesson_engine *e, const struct lesson_world *w)
{
    e->w = w;
    arm(e);
}

enum lesson_phase lesson_engine_phase(const struct lesson_engine *e)
{
    return e->phase;
}

int lesson_engine_step(const struct lesson_engine *e)
{
    return e->step;
}

const struct lesson_step *lesson_engine_current(const struct lesson_engine *e)
{
    return e->phase == LESSON_IN_STEP ? &e->l->steps[e->step] : NULL;
}

static void go_to(struct lesson_engine *e, int i);

bool lesson_engine_begin_steps(struct lesson_engine *e)
{
    if (e->phase != LESSON_INTRO)
        return false;
    go_to(e, 0);
    return true;
}

bool lesson_engine_step_passed(const struct lesson_engine *e)
{
    return e->phase == LESSON_IN_STEP && e->passed[e->step];
}

uint64_t lesson_engine_mark(const struct lesson_engine *e)
{
    return e->mark;
}

static void finish(struct lesson_engine *e)
{
    e->phase = LESSON_FINISHED;
    if (!e->p)
        return;
    bool all = true;
    for (int i = 0; i < e->l->nsteps; i++) {
        const char *st = progress_step_status(e->p, e->l->id, e->l->steps[i].id);
        all = all && st && !strcmp(st, "done");
    }
    progress_lesson_set_done(e->p, e->l->id, all);
}

/* Moves to step i, or past the last step: the quiz is offered (it starts when asked for), or
 * the lesson is finished. */
static void go_to(struct lesson_engine *e, int i)
{
    if (i < 0) {
        i = 0;
        if (e->l->intro) {
            e->step = 0;
            e->phase = LESSON_INTRO;
            arm(e);
            return;
        }
    }
    e->step = i;
    if (i >= e->l->nsteps) {
        e->step = e->l->nsteps;
        e->quiz = 0;
        if (e->l->nquiz > 0)
            e->phase = LESSON_QUIZ_READY;
        else
            finish(e);
    } else {
        e->phase = LESSON_IN_STEP;
    }
    if (e->p)
        progress_lesson_set_step(e->p, e->l->id, e->step);
    arm(e);
}

static void render_text(struct sb *out, const char *text)
{
    if (!text)
        return;
    sb_add(out, text);
    if (out->len && out->s[out->len - 1] != '\n')
        sb_addc(out, '\n');
}

static void render_quiz_offer(const struct lesson_engine *e, struct sb *out)
{
    sb_printf(out, "Every step of \"%s\" is behind you. A short quiz (%d question%s) checks what "
              "you saw: type `quiz` to start it, or `lesson quit` to leave. Until then the lab "
              "is yours: any command still works.\n", e->l->title, e->l->nquiz,
              e->l->nquiz == 1 ? "" : "s");
}

static void render_finish(const struct lesson_engine *e, struct sb *out)
{
    const struct lesson *l = e->l;
    sb_printf(out, "Lesson complete: %s\n\n", l->title);
    render_text(out, l->finish);
    if (l->nquiz)
        sb_printf(out, "\nQuiz: %d of %d right.\n", e->quiz_right, l->nquiz);
    if (l->nrecap) {
        sb_add(out, "\nRecap:\n");
        for (int i = 0; i < l->nrecap; i++)
            sb_printf(out, "  - %s\n", l->recap[i]);
    }
}

static void render_step(const struct lesson_engine *e, struct sb *out, bool pane)
{
    const struct lesson *l = e->l;
    const struct lesson_step *s = &l->steps[e->step];
    if (pane && e->just_passed >= 0 && e->just_passed < l->nsteps)
        sb_printf(out, "Done: step %d (%s)\n\n", e->just_passed + 1, l->steps[e->just_passed].title);
    const char *st = e->p ? progress_step_status(e->p, l->id, s->id) : NULL;
    sb_printf(out, "Step %d of %d: %s%s\n", e->step + 1, l->nsteps, s->title,
              e->passed[e->step] ? "  (done: `next` moves on)"
              : st && !strcmp(st, "done") ? "  (done before)" : "");
    if (!pane)
        sb_addc(out, '\n');
    render_text(out, s->text);
    if (s->ncommands) {
        sb_add(out, "\nTry:\n");
        for (int i = 0; i < s->ncommands; i++)
            sb_printf(out, "    %s\n", s->commands[i]);
    }
    for (int i = 0; i < e->hints[e->step] && i < s->nhints; i++)
        sb_printf(out, "\nHint %d/%d: %s\n", i + 1, s->nhints, s->hints[i]);
    if (!pane)
        sb_add(out, "\n(the step completes when you have done it; hint | next | back | "
                    "restart | lesson quit)\n");
}

static void render_intro(const struct lesson_engine *e, struct sb *out, bool pane)
{
    const struct lesson *l = e->l;
    sb_printf(out, "%s  (%s, about %ld minutes)\n\n", l->title, l->level, l->minutes);
    render_text(out, l->intro);
    sb_printf(out, "\nWhen you are ready, type `next` for step 1 of %d%s.\n", l->nsteps,
              pane ? " (or type its first command)" : "");
}

void lesson_engine_render(const struct lesson_engine *e, struct sb *out)
{
    switch (e->phase) {
    case LESSON_INTRO: /* the REPL shows step 1 at once: the first command opens it */
        render_intro(e, out, false);
        sb_addc(out, '\n');
        render_step(e, out, false);
        return;
    case LESSON_IN_STEP:
        render_step(e, out, false);
        return;
    case LESSON_QUIZ_READY:
        render_quiz_offer(e, out);
        return;
    case LESSON_IN_QUIZ:
        sb_printf(out, "Quiz %d of %d\n\n", e->quiz + 1, e->l->nquiz);
        quiz_render(&e->l->quiz[e->quiz], e->perm, out);
        return;
    case LESSON_FINISHED:
        render_finish(e, out);
        return;
    }
}

void lesson_engine_pane(const struct lesson_engine *e, struct sb *out)
{
    switch (e->phase) {
    case LESSON_INTRO:
        render_intro(e, out, true);
        return;
    case LESSON_IN_STEP:
        render_step(e, out, true);
        return;
    case LESSON_QUIZ_READY:
        if (e->just_passed >= 0)
            sb_printf(out, "Done: step %d (%s)\n\n", e->just_passed + 1,
                      e->l->steps[e->just_passed].title);
        render_quiz_offer(e, out);
        return;
    default:
        lesson_engine_render(e, out);
        return;
    }
}

void lesson_engine_check_line(const struct lesson_engine *e, struct sb *out)
{
    switch (e->phase) {
    case LESSON_INTRO:
        sb_add(out, "introduction: `next` starts step 1");
        return;
    case LESSON_IN_STEP:
        if (e->passed[e->step])
            sb_add(out, "passed: type `next` to go on");
        else if (e->slow_why)
            sb_printf(out, "not yet: %s (`hint` for a clue)", e->slow_why);
        else
            sb_add(out, "waiting for you: do the step");
        return;
    case LESSON_QUIZ_READY:
        sb_add(out, "steps done: type `quiz` (or F3) for the quiz");
        return;
    case LESSON_IN_QUIZ:
        sb_add(out, "answer the question; lab commands still work");
        return;
    case LESSON_FINISHED:
        sb_add(out, "lesson complete");
        return;
    }
}

void lesson_engine_status_line(const struct lesson_engine *e, struct sb *out)
{
    const struct lesson *l = e->l;
    if (e->phase == LESSON_INTRO) {
        sb_printf(out, "%s · introduction · %d steps", l->id, l->nsteps);
    } else if (e->phase == LESSON_IN_STEP) {
        const struct lesson_step *s = &l->steps[e->step];
        sb_printf(out, "%s · step %d of %d", l->id, e->step + 1, l->nsteps);
        if (s->nhints)
            sb_printf(out, " · hints %d/%d", e->hints[e->step], s->nhints);
    } else if (e->phase == LESSON_QUIZ_READY) {
        sb_printf(out, "%s · steps done · quiz waiting", l->id);
    } else if (e->phase == LESSON_IN_QUIZ) {
        sb_printf(out, "%s · quiz %d of %d", l->id, e->quiz + 1, l->nquiz);
    } else {
        sb_printf(out, "%s · complete", l->id);
    }
}

static void pass_step(struct lesson_engine *e, struct sb *out)
{
    const struct lesson_step *s = &e->l->steps[e->step];
    e->passed[e->step] = true;
    e->just_passed = e->step;
    if (e->p)
        progress_step_set_status(e->p, e->l->id, s->id, "done");
    sb_printf(out, "Step %d done: %s\n", e->step + 1, s->title);
    if (s->done)
        render_text(out, s->done);
    sb_addc(out, '\n');
    go_to(e, e->step + 1);
    save(e, out);
    lesson_engine_render(e, out);
}

/* The step's check holds and the student did something since the step opened. */
static int step_holds(struct lesson_engine *e, struct sb *why)
{
    const struct lesson_step *s = &e->l->steps[e->step];
    if (!lcheck_eval(s->check, e->w, e->mark, why))
        return 0;
    if (e->w->command_count && e->w->command_count(e->w->ud, e->mark, NULL) < 1) {
        sb_add(why, "waiting for you: run the step's commands");
        return 0;
    }
    return 1;
}

enum lesson_poll lesson_engine_poll(struct lesson_engine *e, struct sb *out)
{
    if (e->phase != LESSON_IN_STEP)
        return LESSON_IDLE;
    if (!e->w) {
        sb_add(out, "no lab is attached to this lesson");
        return LESSON_PENDING;
    }
    const struct lesson_step *s = &e->l->steps[e->step];
    struct sb why = {0};
    if (step_holds(e, &why)) {
        sb_free(&why);
        pass_step(e, out);
        return LESSON_PASSED;
    }
    if (!e->slow_told && mono_us() - e->started_us >= (uint64_t)s->timeout_ms * 1000) {
        e->slow_told = true;
        free(e->slow_why);
        e->slow_why = xstrdup(why.s ? why.s : "the check does not pass");
        sb_printf(out, "Not there yet: %s.\n", e->slow_why);
        if (e->hints[e->step] < s->nhints)
            sb_add(out, "Type `hint` for a clue.\n");
        sb_free(&why);
        return LESSON_SLOW;
    }
    if (why.s)
        sb_add(out, why.s);
    sb_free(&why);
    return LESSON_PENDING;
}

int lesson_engine_hint(struct lesson_engine *e, struct sb *out)
{
    if (e->phase == LESSON_INTRO) {
        sb_add(out, "This is the introduction: `next` starts step 1, and each step has hints.\n");
        return 0;
    }
    if (e->phase != LESSON_IN_STEP) {
        sb_add(out, "No hints here.\n");
        return 0;
    }
    const struct lesson_step *s = &e->l->steps[e->step];
    int *h = &e->hints[e->step];
    if (s->nhints == 0) {
        sb_add(out, "This step has no hints; read the step text again.\n");
        return 0;
    }
    if (*h >= s->nhints) {
        sb_printf(out, "That was the last hint (%d/%d):\n  %s\n", s->nhints, s->nhints,
                  s->hints[s->nhints - 1]);
        return *h;
    }
    (*h)++;
    sb_printf(out, "Hint %d/%d: %s\n", *h, s->nhints, s->hints[*h - 1]);
    if (e->p && progress_step_hints(e->p, e->l->id, s->id) < *h) {
        progress_step_set_hints(e->p, e->l->id, s->id, *h);
        save(e, out);
    }
    return *h;
}

int lesson_engine_next(struct lesson_engine *e, struct sb *out)
{
    if (e->phase == LESSON_INTRO) {
        go_to(e, 0);
        lesson_engine_render(e, out);
        return 0;
    }
    if (e->phase != LESSON_IN_STEP) {
        sb_add(out, e->phase == LESSON_QUIZ_READY ? "Every step is done: `quiz` starts the quiz, "
                                                     "`lesson quit` leaves.\n"
                    : e->phase == LESSON_IN_QUIZ ? "Answer the question to go on (`lesson skip` "
                                                    "skips it).\n"
                                                  : "The lesson is complete.\n");
        return CL_ESTATE;
    }
    if (e->passed[e->step]) {
        e->just_passed = -1;
        go_to(e, e->step + 1);
        save(e, out);
        lesson_engine_render(e, out);
        return 0;
    }
    struct sb why = {0};
    if (e->w && step_holds(e, &why)) {
        sb_free(&why);
        pass_step(e, out);
        return 0;
    }
    sb_printf(out, "Step %d is not done yet: %s.\nDo the step (`hint` gives a clue), or "
              "`lesson skip` to move on without it.\n", e->step + 1,
              why.s ? why.s : "its check does not pass");
    sb_free(&why);
    return CL_ESTATE;
}

int lesson_engine_skip(struct lesson_engine *e, struct sb *out)
{
    if (e->phase == LESSON_IN_QUIZ) {
        sb_add(out, "Skipped the question.\n\n");
        e->quiz++;
        if (e->quiz >= e->l->nquiz)
            finish(e);
        else
            make_perm(e);
        save(e, out);
        lesson_engine_render(e, out);
        return 0;
    }
    if (e->phase == LESSON_QUIZ_READY) {
        sb_add(out, "Skipped the quiz.\n\n");
        finish(e);
        save(e, out);
        lesson_engine_render(e, out);
        return 0;
    }
    if (e->phase == LESSON_INTRO)
        return lesson_engine_next(e, out);
    if (e->phase != LESSON_IN_STEP) {
        sb_add(out, "The lesson is complete.\n");
        return CL_ESTATE;
    }
    const struct lesson_step *s = &e->l->steps[e->step];
    if (e->p) {
        const char *st = progress_step_status(e->p, e->l->id, s->id);
        if (!st || strcmp(st, "done"))
            progress_step_set_status(e->p, e->l->id, s->id, "skipped");
    }
    sb_printf(out, "Skipped step %d. Later steps may expect what it would have done; its "
              "solution is:\n", e->step + 1);
    for (int i = 0; i < s->nsolution; i++)
        sb_printf(out, "    %s\n", s->solution[i]);
    sb_addc(out, '\n');
    e->just_passed = -1;
    go_to(e, e->step + 1);
    save(e, out);
    lesson_engine_render(e, out);
    return 0;
}

int lesson_engine_back(struct lesson_engine *e, struct sb *out)
{
    if (e->phase == LESSON_INTRO || (e->step == 0 && e->phase == LESSON_IN_STEP && !e->l->intro)) {
        sb_add(out, "This is the beginning of the lesson.\n");
        return CL_ESTATE;
    }
    e->just_passed = -1;
    go_to(e, e->phase == LESSON_IN_STEP ? e->step - 1 : e->l->nsteps - 1);
    save(e, out);
    if (e->phase == LESSON_INTRO)
        render_intro(e, out, false);
    else
        lesson_engine_render(e, out);
    return 0;
}

void lesson_engine_restart(struct lesson_engine *e, struct sb *out)
{
    memset(e->hints, 0, (size_t)e->l->nsteps * sizeof *e->hints);
    memset(e->passed, 0, (size_t)e->l->nsteps * sizeof *e->passed);
    e->quiz_right = 0;
    e->just_passed = -1;
    go_to(e, -1);
    save(e, out);
    lesson_engine_render(e, out);
}

int lesson_engine_quiz(struct lesson_engine *e, struct sb *out)
{
    if (e->l->nquiz == 0) {
        sb_add(out, "This lesson has no quiz; `conlab quiz` drills the question bank.\n");
        return CL_ESTATE;
    }
    if (e->phase == LESSON_IN_STEP || e->phase == LESSON_INTRO) {
        sb_printf(out, "The quiz comes after the last step; you are at step %d of %d.\n",
                  e->step + 1, e->l->nsteps);
        return CL_ESTATE;
    }
    if (e->phase == LESSON_IN_QUIZ) {
        sb_add(out, "The quiz is on:\n\n");
        lesson_engine_render(e, out);
        return 0;
    }
    e->phase = LESSON_IN_QUIZ;
    e->quiz = 0;
    e->quiz_right = 0;
    e->just_passed = -1;
    make_perm(e);
    lesson_engine_render(e, out);
    return 0;
}

int lesson_engine_answer(struct lesson_engine *e, const char *answer, struct sb *out)
{
    if (e->phase != LESSON_IN_QUIZ) {
        sb_add(out, "There is no question to answer right now.\n");
        return CL_ESTATE;
    }
    const struct quiz_question *q = &e->l->quiz[e->quiz];
    int r = quiz_grade(q, e->perm, answer, out);
    if (r < 0)
        return r;
    e->quiz_right += r;
    if (e->p)
        progress_lesson_set_answer(e->p, e->l->id, q->id, r == 1);
    e->quiz++;
    sb_addc(out, '\n');
    if (e->quiz >= e->l->nquiz)
        finish(e);
    else
        make_perm(e);
    save(e, out);
    lesson_engine_render(e, out);
    return r;
}

enum lesson_cmd lesson_engine_command(struct lesson_engine *e, const char *line,
                                      struct sb *out)
{
    char buf[256];
    str_copy(buf, line, sizeof buf);
    char *save = NULL;
    char *w1 = strtok_r(buf, " \t\r\n", &save);
    char *w2 = w1 ? strtok_r(NULL, " \t\r\n", &save) : NULL;
    char *w3 = w2 ? strtok_r(NULL, " \t\r\n", &save) : NULL;
    if (!w1)
        return LESSON_CMD_NONE;
    bool lesson = !strcmp(w1, "lesson");
    const char *verb = w3 ? NULL : lesson ? w2 : (w2 ? NULL : w1);
    if (lesson && !w2) {
        lesson_engine_render(e, out);
        return LESSON_CMD_HANDLED;
    }
    if (verb && !strcmp(verb, "hint")) {
        lesson_engine_hint(e, out);
        return LESSON_CMD_HANDLED;
    }
    if (verb && !strcmp(verb, "next")) {
        lesson_engine_next(e, out);
        return LESSON_CMD_HANDLED;
    }
    if (verb && !strcmp(verb, "back")) {
        lesson_engine_back(e, out);
        return LESSON_CMD_HANDLED;
    }
    if (verb && !strcmp(verb, "quiz")) {
        lesson_engine_quiz(e, out);
        return LESSON_CMD_HANDLED;
    }
    if (verb && !strcmp(verb, "restart")) {
        lesson_engine_restart(e, out);
        return LESSON_CMD_RESTART;
    }
    if (verb && lesson && !strcmp(verb, "skip")) {
        lesson_engine_skip(e, out);
        return LESSON_CMD_HANDLED;
    }
    if (verb && lesson && !strcmp(verb, "check")) {
        if (e->phase != LESSON_IN_STEP) {
            sb_add(out, "No step to check now.\n");
            return LESSON_CMD_HANDLED;
        }
        struct sb why = {0};
        if (e->w && lcheck_eval(e->l->steps[e->step].check, e->w, e->mark, &why))
            sb_add(out, e->passed[e->step] ? "The step passed: `next` moves on.\n"
                                           : "The step's check holds now.\n");
        else
            sb_printf(out, "Not yet: %s.\n", why.s ? why.s : "no lab attached");
        sb_free(&why);
        return LESSON_CMD_HANDLED;
    }
    if (verb && lesson && !strcmp(verb, "quit")) {
        sb_printf(out, "Left the lesson %s at step %d of %d. `lesson %s` starts it again.\n",
                  e->l->id, e->step < e->l->nsteps ? e->step + 1 : e->l->nsteps, e->l->nsteps,
                  e->l->id);
        return LESSON_CMD_QUIT;
    }
    if (lesson)
        return LESSON_CMD_NONE; /* `lesson list`, `lesson ID`: the lab's */
    if (e->phase == LESSON_IN_QUIZ && !(e->w && e->w->is_command && e->w->is_command(e->w->ud, line))) {
        lesson_engine_answer(e, line, out);
        return LESSON_CMD_HANDLED;
    }
    return LESSON_CMD_NONE;
}

/* ---- the course ------------------------------------------------------------------------- */

/* The course's chapters, as the lab groups its lessons (`lesson list`, docs/lessons.md). */
static const char *const chapter_titles[] = {
    NULL,
    "Why distributed systems are hard: a first cluster and the fallacies",
    "CAP and PACELC",
    "Consistency models",
    "Time, clocks and ordering",
    "Consensus: Raft, Paxos, ZAB",
    "Replication: single-leader, multi-leader, leaderless",
    "Quorums and the Dynamo ring",
    "CRDTs",
    "Distributed transactions",
    "Gossip and membership",
    "Coordination: locks, leases, fencing",
};

const char *lesson_chapter_title(int chapter)
{
    if (chapter < 1 || chapter >= (int)CL_ARRAY_LEN(chapter_titles))
        return NULL;
    return chapter_titles[chapter];
}

static void table_row(const struct lesson *l, const struct progress *p, struct sb *out, int *done_out)
{
    int done = 0;
    for (int s = 0; p && s < l->nsteps; s++) {
        const char *st = progress_step_status(p, l->id, l->steps[s].id);
        done += st && !strcmp(st, "done");
    }
    char state[32];
    *done_out = p && progress_lesson_done(p, l->id);
    if (*done_out)
        str_copy(state, "done", sizeof state);
    else if (done)
        snprintf(state, sizeof state, "%d/%d", done, l->nsteps);
    else
        str_copy(state, "-", sizeof state);
    sb_printf(out, "%-22s %-12s %3ld  %-9s %s\n", l->id, l->level, l->minutes, state, l->title);
}

/* Grouped by chapter (chapter order, then file order; lessons without one last, as "other"),
 * each group with its progress and the next lesson of it not yet done. Every lesson's row
 * begins with its id; headings and notes begin with a space or '('. */
void lesson_catalog_table(const struct lesson_catalog *cat, const struct progress *p,
                          struct sb *out)
{
    sb_printf(out, "%-22s %-12s %3s  %-9s %s\n", "ID", "LEVEL", "MIN", "DONE", "TITLE");
    for (int ch = 1; ch <= LESSON_MAX_CHAPTER + 1; ch++) {
        int want = ch == LESSON_MAX_CHAPTER + 1 ? 0 : ch, n = 0, ndone = 0;
        const struct lesson *next = NULL;
        for (int i = 0; i < cat->n; i++)
            n += cat->l[i]->chapter == want;
        if (!n)
            continue;
        const char *title = lesson_chapter_title(want);
        if (want)
            sb_printf(out, " -- chapter %d%s%s", want, title ? ": " : "", title ? title : "");
        else
            sb_add(out, " -- other lessons");
        struct sb rows = {0};
        for (int i = 0; i < cat->n; i++) {
            if (cat->l[i]->chapter != want)
                continue;
            int d;
            table_row(cat->l[i], p, &rows, &d);
            ndone += d;
            if (!d && !next)
                next = cat->l[i];
        }
        sb_printf(out, " (%d/%d done)\n%s", ndone, n, rows.s ? rows.s : "");
        sb_free(&rows);
        if (next && ndone)
            sb_printf(out, " (next in this chapter: lesson %s)\n", next->id);
    }
    if (!cat->n)
        sb_add(out, "(no lessons found)\n");
}

void lesson_catalog_ids(const struct lesson_catalog *cat, struct sb *out)
{
    for (int i = 0; i < cat->n; i++)
        sb_printf(out, "%s\n", cat->l[i]->id);
}

const struct lesson *lesson_catalog_next(const struct lesson_catalog *cat,
                                         const struct progress *p, const char *skip_id)
{
    for (int i = 0; i < cat->n; i++)
        if ((!skip_id || strcmp(cat->l[i]->id, skip_id)) &&
            !(p && progress_lesson_done(p, cat->l[i]->id)))
            return cat->l[i];
    return NULL;
}
