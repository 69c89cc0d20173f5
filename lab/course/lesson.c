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
#include "progress.h"
#include "yamldoc.h"

#define TEXT_MAX (16u * 1024u)
#define LINE_MAX_LEN 256

static const char *const lab_commands =
    "stop|status|put|get|cas|send|partition|isolate|heal|crash|restart|pause|resume|delay|loss|dup|"
    "skew|clock|wait|speed|freeze|step|thaw|history|check|expect|log|clocks|trace|help|"
    "endpoints|cut|reorder";
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

static void check_free(struct lesson_check *c)
{
    if (!c)
        return;
    for (int i = 0; i < c->nkids; i++)
        check_free(c->kids[i]);
    free(c->kids);
    free(c->key);
    free(c->value);
    for (int i = 0; i < c->nf; i++) {
        free(c->fk[i]);
        free(c->fv[i]);
    }
    for (int i = 0; i < c->nkeys; i++)
        free(c->keys[i]);
    free(c);
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
        check_free(s->check);
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

/* "n3" -> 2, checked against the cluster size. */
static int node_ref(struct pctx *c, const struct ydoc_node *n, const char *what, int *idx)
{
    const char *s;
    if (ydoc_str(c->d, n, what, 16, &s, c->err, c->errlen) < 0)
        return CL_EINVAL;
    if (parse_node_id(s, c->nodes, idx) < 0)
        return ydoc_error(c->d, n, c->err, c->errlen,
                          "%s: unknown node \"%s\"; the cluster has n1..n%d", what, s, c->nodes);
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

/* ---- checks ----------------------------------------------------------------------------- */

static const char *const check_names =
    "all|any|not|leaders|role|term|node|value|partitioned|op|event|converged|history";

static int parse_check(struct pctx *c, const struct ydoc_node *n, const char *what, int depth,
                       struct lesson_check **out);

static int parse_keys(struct pctx *c, const struct ydoc_node *n, const char *what,
                      struct lesson_check *k)
{
    if (!n)
        return 0;
    if (ydoc_want(c->d, n, YDOC_LIST, what, c->err, c->errlen) < 0)
        return CL_EINVAL;
    if (n->n > LCHECK_MAX_KEYS || n->n == 0)
        return ydoc_error(c->d, n, c->err, c->errlen, "%s: between 1 and %d keys", what,
                          LCHECK_MAX_KEYS);
    for (size_t i = 0; i < n->n; i++) {
        const char *s;
        if (ydoc_str(c->d, n->items[i], what, 64, &s, c->err, c->errlen) < 0)
            return CL_EINVAL;
        k->keys[k->nkeys++] = xstrdup(s);
    }
    return 0;
}

static int parse_leaf(struct pctx *c, const char *name, const struct ydoc_node *a,
                      const char *what, struct lesson_check *k)
{
    const struct ydoc *d = c->d;
    char *err = c->err;
    size_t el = c->errlen;
    char w[160];
    snprintf(w, sizeof w, "%s: %s", what, name);
    switch (k->kind) {
    case LC_LEADERS: {
        static const char *const keys[] = {"count", "at_least", NULL};
        if (ydoc_check_keys(d, a, w, keys, NULL, err, el) < 0)
            return CL_EINVAL;
        const struct ydoc_node *cn = ydoc_get(a, "count"), *al = ydoc_get(a, "at_least");
        if (!!cn == !!al)
            return ydoc_error(d, a, err, el, "%s: give exactly one of count or at_least", w);
        if (cn && ydoc_int(d, cn, "leaders count", 0, c->nodes, &k->count, err, el) < 0)
            return CL_EINVAL;
        if (al && ydoc_int(d, al, "leaders at_least", 0, c->nodes, &k->at_least, err, el) < 0)
            return CL_EINVAL;
        return 0;
    }
    case LC_ROLE: {
        static const char *const keys[] = {"node", "is", NULL};
        const char *s;
        if (ydoc_check_keys(d, a, w, keys, keys, err, el) < 0 ||
            node_ref(c, ydoc_get(a, "node"), "role node", &k->node) < 0 ||
            ydoc_ident(d, ydoc_get(a, "is"), "role is", 15, &s, err, el) < 0)
            return CL_EINVAL;
        str_copy(k->role, s, sizeof k->role);
        return 0;
    }
    case LC_TERM: {
        static const char *const keys[] = {"node", "at_least", NULL};
        static const char *const req[] = {"at_least", NULL};
        if (ydoc_check_keys(d, a, w, keys, req, err, el) < 0 ||
            ydoc_int(d, ydoc_get(a, "at_least"), "term at_least", 0, 1000000000L, &k->at_least,
                     err, el) < 0)
            return CL_EINVAL;
        if (ydoc_get(a, "node") && node_ref(c, ydoc_get(a, "node"), "term node", &k->node) < 0)
            return CL_EINVAL;
        return 0;
    }
    case LC_NODE: {
        static const char *const keys[] = {"id", "state", NULL};
        int st;
        if (ydoc_check_keys(d, a, w, keys, keys, err, el) < 0 ||
            node_ref(c, ydoc_get(a, "id"), "node id", &k->node) < 0 ||
            ydoc_enum(d, ydoc_get(a, "state"), "node state", "up|down|paused", &st, err, el) < 0)
            return CL_EINVAL;
        str_copy(k->role, st == 0 ? "up" : st == 1 ? "down" : "paused", sizeof k->role);
        return 0;
    }
    case LC_VALUE: {
        static const char *const keys[] = {"key", "equals", "absent", "on", NULL};
        static const char *const req[] = {"key", NULL};
        const char *s;
        if (ydoc_check_keys(d, a, w, keys, req, err, el) < 0 ||
            ydoc_str(d, ydoc_get(a, "key"), "value key", 64, &s, err, el) < 0)
            return CL_EINVAL;
        k->key = xstrdup(s);
        const struct ydoc_node *eq = ydoc_get(a, "equals"), *ab = ydoc_get(a, "absent");
        if (!!eq == !!ab)
            return ydoc_error(d, a, err, el, "%s: give exactly one of equals or absent", w);
        if (eq) {
            if (ydoc_str(d, eq, "value equals", 256, &s, err, el) < 0)
                return CL_EINVAL;
            k->value = xstrdup(s);
        }
        if (ab) {
            if (ydoc_bool(d, ab, "value absent", &k->absent, err, el) < 0)
                return CL_EINVAL;
            if (!k->absent)
                return ydoc_error(d, ab, err, el, "value absent: only `absent: true` makes sense");
        }
        k->on = -1;
        const struct ydoc_node *on = ydoc_get(a, "on");
        if (on) {
            if (ydoc_str(d, on, "value on", 16, &s, err, el) < 0)
                return CL_EINVAL;
            if (!strcmp(s, "all"))
                k->on = -1;
            else if (!strcmp(s, "majority"))
                k->on = -2;
            else if (!strcmp(s, "any"))
                k->on = -3;
            else if (parse_node_id(s, c->nodes, &k->on) < 0)
                return ydoc_error(d, on, err, el,
                                  "value on: expected all, majority, any or a node n1..n%d, "
                                  "found \"%s\"", c->nodes, s);
        }
        return 0;
    }
    case LC_PARTITIONED: {
        static const char *const keys[] = {"groups", "isolated", "any", NULL};
        if (ydoc_check_keys(d, a, w, keys, NULL, err, el) < 0)
            return CL_EINVAL;
        const struct ydoc_node *g = ydoc_get(a, "groups"), *is = ydoc_get(a, "isolated"),
                               *an = ydoc_get(a, "any");
        if (!!g + !!is + !!an != 1)
            return ydoc_error(d, a, err, el, "%s: give exactly one of groups, isolated or any",
                              w);
        k->isolated = -1;
        if (an) {
            bool b;
            if (ydoc_bool(d, an, "partitioned any", &b, err, el) < 0)
                return CL_EINVAL;
            if (!b)
                return ydoc_error(d, an, err, el,
                                  "partitioned any: write `not: {partitioned: {any: true}}` "
                                  "for a whole network");
            return 0;
        }
        if (is)
            return node_ref(c, is, "partitioned isolated", &k->isolated);
        if (ydoc_want(d, g, YDOC_LIST, "partitioned groups", err, el) < 0)
            return CL_EINVAL;
        if (g->n < 2 || (int)g->n > c->nodes)
            return ydoc_error(d, g, err, el,
                              "partitioned groups: expected 2 to %d groups, found %zu", c->nodes,
                              g->n);
        for (int i = 0; i < CL_MAXN; i++)
            k->group[i] = -1;
        for (size_t gi = 0; gi < g->n; gi++) {
            const struct ydoc_node *grp = g->items[gi];
            if (ydoc_want(d, grp, YDOC_LIST, "partitioned group", err, el) < 0)
                return CL_EINVAL;
            if (grp->n == 0)
                return ydoc_error(d, grp, err, el, "partitioned groups: an empty group");
            for (size_t j = 0; j < grp->n; j++) {
                int idx;
                if (node_ref(c, grp->items[j], "partitioned group", &idx) < 0)
                    return CL_EINVAL;
                if (k->group[idx] >= 0)
                    return ydoc_error(d, grp->items[j], err, el,
                                      "partitioned groups: n%d is in two groups", idx + 1);
                k->group[idx] = (int)gi;
            }
        }
        /* unnamed nodes join the last group, as with the `partition` command */
        for (int i = 0; i < c->nodes; i++)
            if (k->group[i] < 0)
                k->group[i] = (int)g->n - 1;
        k->ngroups = (int)g->n;
        return 0;
    }
    case LC_OP: {
        static const char *const keys[] = {"kind", "key", "via", "value", "outcome", "at_least",
                                           NULL};
        static const char *const req[] = {"kind", NULL};
        int kind;
        const char *s;
        if (ydoc_check_keys(d, a, w, keys, req, err, el) < 0 ||
            ydoc_enum(d, ydoc_get(a, "kind"), "op kind", "put|get|cas", &kind, err, el) < 0)
            return CL_EINVAL;
        str_copy(k->f, kind == 0 ? "write" : kind == 1 ? "read" : "cas", sizeof k->f);
        if (ydoc_get(a, "key")) {
            if (ydoc_str(d, ydoc_get(a, "key"), "op key", 64, &s, err, el) < 0)
                return CL_EINVAL;
            k->key = xstrdup(s);
        }
        if (ydoc_get(a, "value")) {
            if (ydoc_str(d, ydoc_get(a, "value"), "op value", 256, &s, err, el) < 0)
                return CL_EINVAL;
            k->value = xstrdup(s);
        }
        if (ydoc_get(a, "via") && node_ref(c, ydoc_get(a, "via"), "op via", &k->node) < 0)
            return CL_EINVAL;
        k->count = 1;
        if (ydoc_get(a, "at_least") &&
            ydoc_int(d, ydoc_get(a, "at_least"), "op at_least", 1, 1000, &k->count, err, el) < 0)
            return CL_EINVAL;
        const struct ydoc_node *o = ydoc_get(a, "outcome");
        k->outcomes = LOP_OK;
        if (o) {
            k->outcomes = 0;
            static const char *const words = "ok|fail|info|timeout|error";
            static const unsigned bits[] = {LOP_OK, LOP_FAIL, LOP_INFO, LOP_INFO,
                                            LOP_FAIL | LOP_INFO};
            if (o->kind == YDOC_SCALAR) {
                int idx;
                if (ydoc_enum(d, o, "op outcome", words, &idx, err, el) < 0)
                    return CL_EINVAL;
                k->outcomes = bits[idx];
            } else {
                if (ydoc_want(d, o, YDOC_LIST, "op outcome", err, el) < 0)
                    return CL_EINVAL;
                if (o->n == 0)
                    return ydoc_error(d, o, err, el, "op outcome: an empty list");
                for (size_t i = 0; i < o->n; i++) {
                    int idx;
                    if (ydoc_enum(d, o->items[i], "op outcome", words, &idx, err, el) < 0)
                        return CL_EINVAL;
                    k->outcomes |= bits[idx];
                }
            }
        }
        return 0;
    }
    case LC_EVENT: {
        static const char *const keys[] = {"ev", "node", "where", "at_least", NULL};
        static const char *const req[] = {"ev", NULL};
        int idx;
        if (ydoc_check_keys(d, a, w, keys, req, err, el) < 0 ||
            ydoc_enum(d, ydoc_get(a, "ev"), "event ev", mode_event_names(), &idx, err, el) < 0)
            return CL_EINVAL;
        str_copy(k->name, ydoc_get(a, "ev")->str, sizeof k->name);
        if (ydoc_get(a, "node") && node_ref(c, ydoc_get(a, "node"), "event node", &k->node) < 0)
            return CL_EINVAL;
        k->count = 1;
        if (ydoc_get(a, "at_least") &&
            ydoc_int(d, ydoc_get(a, "at_least"), "event at_least", 1, 100000, &k->count, err,
                     el) < 0)
            return CL_EINVAL;
        const struct ydoc_node *wh = ydoc_get(a, "where");
        if (wh) {
            if (ydoc_want(d, wh, YDOC_MAP, "event where", err, el) < 0)
                return CL_EINVAL;
            if (wh->n > LCHECK_MAX_FIELDS)
                return ydoc_error(d, wh, err, el, "event where: at most %d fields",
                                  LCHECK_MAX_FIELDS);
            for (size_t i = 0; i < wh->n; i++) {
                const char *v;
                if (ydoc_str(d, wh->items[i], "event where value", 256, &v, err, el) < 0)
                    return CL_EINVAL;
                k->fk[k->nf] = xstrdup(wh->keys[i]->str);
                k->fv[k->nf++] = xstrdup(v);
            }
        }
        return 0;
    }
    case LC_CONVERGED: {
        static const char *const keys[] = {"keys", NULL};
        if (ydoc_check_keys(d, a, w, keys, keys, err, el) < 0)
            return CL_EINVAL;
        return parse_keys(c, ydoc_get(a, "keys"), "converged keys", k);
    }
    case LC_HISTORY: {
        static const char *const keys[] = {"checker", "keys", "holds", NULL};
        static const char *const req[] = {"checker", NULL};
        int idx;
        if (ydoc_check_keys(d, a, w, keys, req, err, el) < 0 ||
            ydoc_enum(d, ydoc_get(a, "checker"), "history checker",
                      "linearizable|sessions|converged", &idx, err, el) < 0)
            return CL_EINVAL;
        str_copy(k->name, ydoc_get(a, "checker")->str, sizeof k->name);
        k->holds = true;
        if (ydoc_get(a, "holds") &&
            ydoc_bool(d, ydoc_get(a, "holds"), "history holds", &k->holds, err, el) < 0)
            return CL_EINVAL;
        return parse_keys(c, ydoc_get(a, "keys"), "history keys", k);
    }
    default:
        return 0;
    }
}

static int parse_check(struct pctx *c, const struct ydoc_node *n, const char *what, int depth,
                       struct lesson_check **out)
{
    *out = NULL;
    if (ydoc_want(c->d, n, YDOC_MAP, what, c->err, c->errlen) < 0)
        return CL_EINVAL;
    if (n->n != 1)
        return ydoc_error(c->d, n, c->err, c->errlen,
                          "%s: a check names exactly one predicate (found %zu); combine several "
                          "with all: [...]", what, n->n);
    if (depth > 8)
        return ydoc_error(c->d, n, c->err, c->errlen, "%s: checks nested deeper than 8", what);
    const char *name = n->keys[0]->str;
    int kind;
    if (ydoc_enum(c->d, n->keys[0], "check predicate", check_names, &kind, c->err, c->errlen) <
        0)
        return CL_EINVAL;
    struct lesson_check *k = xcalloc(1, sizeof *k);
    *out = k;
    k->kind = (enum lcheck_kind)kind;
    k->line = n->line;
    k->col = n->col;
    k->node = -1;
    k->count = -1;
    k->at_least = -1;
    k->isolated = -1;
    const struct ydoc_node *a = n->items[0];
    if (k->kind == LC_ALL || k->kind == LC_ANY) {
        if (ydoc_want(c->d, a, YDOC_LIST, name, c->err, c->errlen) < 0)
            return CL_EINVAL;
        if (a->n == 0 || a->n > 16)
            return ydoc_error(c->d, a, c->err, c->errlen, "%s: between 1 and 16 checks", name);
        k->kids = xcalloc(a->n, sizeof *k->kids);
        for (size_t i = 0; i < a->n; i++) {
            k->nkids++;
            if (parse_check(c, a->items[i], what, depth + 1, &k->kids[i]) < 0)
                return CL_EINVAL;
        }
        return 0;
    }
    if (k->kind == LC_NOT) {
        k->kids = xcalloc(1, sizeof *k->kids);
        k->nkids = 1;
        return parse_check(c, a, what, depth + 1, &k->kids[0]);
    }
    return parse_leaf(c, name, a, what, k);
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
                  c->errlen) < 0 ||
        ydoc_int(d, ydoc_get(n, "nodes"), "cluster nodes", 1, 9, &v, c->err, c->errlen) < 0)
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
    return parse_check(c, ydoc_get(n, "check"), w2, 0, &s->check);
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
                                       "finish", "recap", "quiz", "instructor", NULL};
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
    struct pctx c = {d, err, errlen, 1};
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
    struct pctx c = {d, err, errlen, 1};
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
    sb_printf(out, "lesson-begin %s\n", l->id);
    lesson_start_command(l, out);
    sb_addc(out, '\n');
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

/* ---- predicates ----------------------------------------------------------------------- */

static void node_list(struct sb *b, const int *idx, int n)
{
    for (int i = 0; i < n; i++)
        sb_printf(b, "%sn%d", i ? ", " : "", idx[i] + 1);
}

static int info(const struct lesson_world *w, int node, struct lesson_node_info *in)
{
    memset(in, 0, sizeof *in);
    in->term = -1;
    if (!w->node_info || w->node_info(w->ud, node, in) < 0) {
        str_copy(in->state, "down", sizeof in->state);
        return -1;
    }
    return 0;
}

static int eval_leaders(const struct lesson_check *c, const struct lesson_world *w, int n,
                        struct sb *why)
{
    int idx[CL_MAXN], cnt = 0;
    int64_t terms[CL_MAXN];
    for (int i = 0; i < n; i++) {
        struct lesson_node_info in;
        if (info(w, i, &in) == 0 && !strcmp(in.state, "up") && !strcmp(in.role, "leader")) {
            terms[cnt] = in.term;
            idx[cnt++] = i;
        }
    }
    bool ok = c->count >= 0 ? cnt == c->count : cnt >= c->at_least;
    if (ok)
        return 1;
    if (c->count >= 0)
        sb_printf(why, "expected %ld leader%s, saw %d", c->count, c->count == 1 ? "" : "s", cnt);
    else
        sb_printf(why, "expected at least %ld leader%s, saw %d", c->at_least,
                  c->at_least == 1 ? "" : "s", cnt);
    if (!cnt)
        return 0;
    bool same = true;
    for (int i = 1; i < cnt; i++)
        same = same && terms[i] == terms[0];
    if (same && terms[0] >= 0) {
        sb_printf(why, " in term %lld: ", (long long)terms[0]);
        node_list(why, idx, cnt);
    } else {
        sb_add(why, ": ");
        for (int i = 0; i < cnt; i++) {
            sb_printf(why, "%sn%d", i ? ", " : "", idx[i] + 1);
            if (terms[i] >= 0)
                sb_printf(why, " (term %lld)", (long long)terms[i]);
        }
    }
    return 0;
}

static int eval_value(const struct lesson_check *c, const struct lesson_world *w, int n,
                      struct sb *why)
{
    char want[300];
    if (c->absent)
        snprintf(want, sizeof want, "%s absent", c->key);
    else
        snprintf(want, sizeof want, "%s = \"%s\"", c->key, c->value);
    int hold[CL_MAXN], nh = 0, up = 0;
    struct sb bad = {0};
    int first = c->on >= 0 ? c->on : 0, last = c->on >= 0 ? c->on + 1 : n;
    for (int i = first; i < last; i++) {
        char val[256];
        int r = w->value ? w->value(w->ud, i, c->key, val, sizeof val) : CL_ESTATE;
        if (r < 0) {
            if (c->on >= 0)
                sb_printf(&bad, "n%d cannot be asked (down or paused)", i + 1);
            continue;
        }
        up++;
        bool ok = c->absent ? r == 0 : (r == 1 && !strcmp(val, c->value));
        if (ok) {
            hold[nh++] = i;
        } else if (!bad.len) {
            if (r == 0)
                sb_printf(&bad, "n%d has no %s", i + 1, c->key);
            else
                sb_printf(&bad, "n%d holds %s = \"%s\"", i + 1, c->key, val);
        }
    }
    bool pass;
    if (c->on >= 0)
        pass = nh == 1;
    else if (c->on == -1)
        pass = up > 0 && nh == up;
    else if (c->on == -2)
        pass = nh > n / 2;
    else
        pass = nh > 0;
    if (pass) {
        sb_free(&bad);
        return 1;
    }
    if (c->on >= 0)
        sb_printf(why, "expected %s on n%d, but %s", want, c->on + 1, bad.s ? bad.s : "it differs");
    else if (c->on == -1)
        sb_printf(why, "expected %s on every live node, but %s", want,
                  bad.s ? bad.s : "no node can be asked");
    else if (c->on == -2) {
        sb_printf(why, "expected %s on a majority (%d of %d), found it on %d", want, n / 2 + 1,
                  n, nh);
        if (nh) {
            sb_add(why, ": ");
            node_list(why, hold, nh);
        }
    } else {
        sb_printf(why, "expected %s on some node, found it on none", want);
    }
    sb_free(&bad);
    return 0;
}

static void describe_groups(struct sb *b, const int *group, int n, int ng)
{
    for (int g = 0; g < ng; g++) {
        if (g)
            sb_add(b, " | ");
        bool first = true;
        for (int i = 0; i < n; i++)
            if (group[i] == g) {
                sb_printf(b, "%sn%d", first ? "" : ",", i + 1);
                first = false;
            }
    }
}

static int eval_partitioned(const struct lesson_check *c, const struct lesson_world *w, int n,
                            struct sb *why)
{
    int group[CL_MAXN] = {0};
    int ng = w->partition ? w->partition(w->ud, group) : CL_ESTATE;
    if (ng < 0) {
        sb_add(why, "the lab cannot tell the partition");
        return 0;
    }
    struct sb now = {0};
    if (ng <= 1)
        sb_add(&now, "the network is whole");
    else {
        sb_add(&now, "the network is ");
        describe_groups(&now, group, n, ng);
    }
    bool ok;
    if (c->isolated >= 0) {
        ok = true;
        for (int i = 0; i < n; i++)
            if (i != c->isolated && group[i] == group[c->isolated])
                ok = false;
        ok = ok && ng > 1;
        if (!ok)
            sb_printf(why, "expected n%d cut off from every other node, but %s",
                      c->isolated + 1, now.s);
    } else if (c->ngroups == 0) {
        ok = ng > 1;
        if (!ok)
            sb_printf(why, "expected a partition, but %s", now.s);
    } else {
        ok = ng > 1;
        for (int i = 0; ok && i < n; i++)
            for (int j = 0; j < n; j++)
                if ((c->group[i] == c->group[j]) != (group[i] == group[j]))
                    ok = false;
        if (!ok) {
            sb_add(why, "expected the network cut into ");
            describe_groups(why, c->group, n, c->ngroups);
            sb_printf(why, ", but %s", now.s);
        }
    }
    sb_free(&now);
    return ok;
}

static const char *user_op(const char *f)
{
    return !strcmp(f, "write") ? "put" : !strcmp(f, "read") ? "get" : "cas";
}

static void describe_outcomes(struct sb *b, unsigned m)
{
    const char *sep = "";
    if (m & LOP_OK) { sb_add(b, "succeeded"); sep = " or "; }
    if (m & LOP_FAIL) { sb_printf(b, "%sfailed", sep); sep = " or "; }
    if (m & LOP_INFO)
        sb_printf(b, "%stimed out", sep);
}

static int eval_leaf(const struct lesson_check *c, const struct lesson_world *w, uint64_t since,
                     struct sb *why)
{
    int n = w->nodes ? w->nodes(w->ud) : 0;
    if (n <= 0) {
        sb_add(why, "no cluster is running (start it again with `lesson restart`)");
        return 0;
    }
    if (n > CL_MAXN)
        n = CL_MAXN;
    switch (c->kind) {
    case LC_LEADERS:
        return eval_leaders(c, w, n, why);
    case LC_ROLE: {
        struct lesson_node_info in;
        if (c->node >= n) {
            sb_printf(why, "n%d is not in the cluster", c->node + 1);
            return 0;
        }
        info(w, c->node, &in);
        if (!strcmp(in.state, "up") && !strcmp(in.role, c->role))
            return 1;
        if (strcmp(in.state, "up"))
            sb_printf(why, "expected n%d to be %s, but it is %s", c->node + 1, c->role, in.state);
        else
            sb_printf(why, "expected n%d to be %s, but it is %s", c->node + 1, c->role,
                      in.role[0] ? in.role : "of unknown role");
        if (in.term >= 0 && !strcmp(in.state, "up"))
            sb_printf(why, " (term %lld)", (long long)in.term);
        return 0;
    }
    case LC_TERM: {
        int64_t best = -1;
        int who = -1;
        for (int i = 0; i < n; i++) {
            if (c->node >= 0 && i != c->node)
                continue;
            struct lesson_node_info in;
            if (info(w, i, &in) == 0 && !strcmp(in.state, "up") && in.term > best) {
                best = in.term;
                who = i;
            }
        }
        if (best >= c->at_least)
            return 1;
        if (who < 0)
            sb_printf(why, "expected term at least %ld, but no live node reports a term",
                      c->at_least);
        else
            sb_printf(why, "expected term at least %ld, but %s n%d is at term %lld", c->at_least,
                      c->node >= 0 ? "" : "the highest,", who + 1, (long long)best);
        return 0;
    }
    case LC_NODE: {
        struct lesson_node_info in;
        info(w, c->node, &in);
        if (!strcmp(in.state, c->role))
            return 1;
        sb_printf(why, "expected n%d to be %s, but it is %s", c->node + 1, c->role, in.state);
        return 0;
    }
    case LC_VALUE:
        return eval_value(c, w, n, why);
    case LC_PARTITIONED:
        return eval_partitioned(c, w, n, why);
    case LC_OP: {
        struct lesson_op_query q = {c->f, c->key, c->node, c->value, c->outcomes};
        int k = w->op_count ? w->op_count(w->ud, since, &q) : CL_ESTATE;
        if (k >= c->count)
            return 1;
        sb_printf(why, "expected %s%s%s", c->count > 1 ? "" : "a ", user_op(c->f),
                  c->count > 1 ? "s" : "");
        if (c->count > 1)
            sb_printf(why, " (at least %ld)", c->count);
        if (c->key)
            sb_printf(why, " of %s", c->key);
        if (c->value)
            sb_printf(why, " %s \"%s\"", !strcmp(c->f, "read") ? "returning" : "=", c->value);
        if (c->node >= 0)
            sb_printf(why, " through n%d", c->node + 1);
        sb_add(why, " that ");
        describe_outcomes(why, c->outcomes);
        sb_printf(why, " since this step began; saw %d", k < 0 ? 0 : k);
        return 0;
    }
    case LC_EVENT: {
        int k = w->event_count ? w->event_count(w->ud, since, c->name, c->node, c->nf,
                                                (const char *const *)c->fk,
                                                (const char *const *)c->fv)
                               : CL_ESTATE;
        if (k >= c->count)
            return 1;
        sb_printf(why, "expected %s%s event", c->count > 1 ? "" : "a ", c->name);
        if (c->nf) {
            sb_add(why, " with");
            for (int i = 0; i < c->nf; i++)
                sb_printf(why, " %s=%s", c->fk[i], c->fv[i]);
        }
        if (c->node >= 0)
            sb_printf(why, " from n%d", c->node + 1);
        sb_printf(why, " since this step began; saw %d", k < 0 ? 0 : k);
        if (c->count > 1)
            sb_printf(why, " of %ld", c->count);
        return 0;
    }
    case LC_CONVERGED: {
        for (int k = 0; k < c->nkeys; k++) {
            char first[256] = "", val[256];
            int fr = -2, fnode = -1;
            for (int i = 0; i < n; i++) {
                int r = w->value ? w->value(w->ud, i, c->keys[k], val, sizeof val) : CL_ESTATE;
                if (r < 0)
                    continue;
                if (fr == -2) {
                    fr = r;
                    fnode = i;
                    str_copy(first, r ? val : "", sizeof first);
                    continue;
                }
                if (r != fr || (r == 1 && strcmp(val, first))) {
                    sb_printf(why, "expected every live node to agree on %s, but n%d has %s%s%s "
                              "and n%d has %s%s%s", c->keys[k], fnode + 1, fr ? "\"" : "",
                              fr ? first : "nothing", fr ? "\"" : "", i + 1, r ? "\"" : "",
                              r ? val : "nothing", r ? "\"" : "");
                    return 0;
                }
            }
            if (fr == -2) {
                sb_printf(why, "expected the nodes to agree on %s, but no node can be asked",
                          c->keys[k]);
                return 0;
            }
        }
        return 1;
    }
    case LC_HISTORY: {
        struct sb detail = {0};
        int r = w->history_check ? w->history_check(w->ud, c->name,
                                                    (const char *const *)c->keys, c->nkeys,
                                                    &detail)
                                 : CL_ESTATE;
        int ok = r >= 0 && (r == 1) == c->holds;
        if (!ok) {
            if (r < 0)
                sb_printf(why, "the %s check could not run%s%s", c->name, detail.s ? ": " : "",
                          detail.s ? detail.s : "");
            else if (c->holds)
                sb_printf(why, "expected the history to be %s, but it is not%s%s", c->name,
                          detail.s ? ": " : "", detail.s ? detail.s : "");
            else
                sb_printf(why, "expected the history NOT to be %s, but the checker found it %s "
                          "(no anomaly yet)", c->name, c->name);
        }
        sb_free(&detail);
        return ok;
    }
    default:
        return 0;
    }
}

/* The predicate in words, for `not` and for the step screen. */
static void describe_check(const struct lesson_check *c, struct sb *b)
{
    switch (c->kind) {
    case LC_ALL:
    case LC_ANY:
        sb_add(b, "(");
        for (int i = 0; i < c->nkids; i++) {
            if (i)
                sb_add(b, c->kind == LC_ALL ? " and " : " or ");
            describe_check(c->kids[i], b);
        }
        sb_add(b, ")");
        return;
    case LC_NOT:
        sb_add(b, "not ");
        describe_check(c->kids[0], b);
        return;
    case LC_LEADERS:
        if (c->count >= 0)
            sb_printf(b, "%ld leader%s", c->count, c->count == 1 ? "" : "s");
        else
            sb_printf(b, "at least %ld leader%s", c->at_least, c->at_least == 1 ? "" : "s");
        return;
    case LC_ROLE:
        sb_printf(b, "n%d is %s", c->node + 1, c->role);
        return;
    case LC_TERM:
        if (c->node >= 0)
            sb_printf(b, "n%d at term %ld or later", c->node + 1, c->at_least);
        else
            sb_printf(b, "a term of %ld or later", c->at_least);
        return;
    case LC_NODE:
        sb_printf(b, "n%d is %s", c->node + 1, c->role);
        return;
    case LC_VALUE:
        if (c->absent)
            sb_printf(b, "%s absent", c->key);
        else
            sb_printf(b, "%s = \"%s\"", c->key, c->value);
        if (c->on >= 0)
            sb_printf(b, " on n%d", c->on + 1);
        else
            sb_add(b, c->on == -1 ? " on every live node" : c->on == -2 ? " on a majority"
                                                                        : " on some node");
        return;
    case LC_PARTITIONED:
        if (c->isolated >= 0)
            sb_printf(b, "n%d isolated", c->isolated + 1);
        else if (!c->ngroups)
            sb_add(b, "a partition");
        else {
            sb_add(b, "the partition ");
            int n = 0;
            for (int i = 0; i < CL_MAXN; i++)
                if (c->group[i] >= 0)
                    n = i + 1;
            describe_groups(b, c->group, n, c->ngroups);
        }
        return;
    case LC_OP:
        sb_printf(b, "a %s", user_op(c->f));
        if (c->key)
            sb_printf(b, " of %s", c->key);
        if (c->value)
            sb_printf(b, " %s \"%s\"", !strcmp(c->f, "read") ? "returning" : "=", c->value);
        if (c->node >= 0)
            sb_printf(b, " through n%d", c->node + 1);
        sb_add(b, " that ");
        describe_outcomes(b, c->outcomes);
        return;
    case LC_EVENT:
        sb_printf(b, "a %s event", c->name);
        for (int i = 0; i < c->nf; i++)
            sb_printf(b, " %s=%s", c->fk[i], c->fv[i]);
        if (c->node >= 0)
            sb_printf(b, " from n%d", c->node + 1);
        return;
    case LC_CONVERGED:
        sb_add(b, "the live nodes agree on");
        for (int i = 0; i < c->nkeys; i++)
            sb_printf(b, " %s", c->keys[i]);
        return;
    case LC_HISTORY:
        sb_printf(b, "the history is %s%s", c->holds ? "" : "not ", c->name);
        return;
    }
}

int lesson_check_eval(const struct lesson_check *c, const struct lesson_world *w,
                      uint64_t since, struct sb *why)
{
    switch (c->kind) {
    case LC_ALL:
        for (int i = 0; i < c->nkids; i++)
            if (!lesson_check_eval(c->kids[i], w, since, why))
                return 0;
        return 1;
    case LC_ANY: {
        struct sb all = {0};
        for (int i = 0; i < c->nkids; i++) {
            struct sb one = {0};
            if (lesson_check_eval(c->kids[i], w, since, &one)) {
                sb_free(&one);
                sb_free(&all);
                return 1;
            }
            if (all.len)
                sb_add(&all, "; or ");
            if (one.s)
                sb_add(&all, one.s);
            sb_free(&one);
        }
        if (all.s)
            sb_add(why, all.s);
        sb_free(&all);
        return 0;
    }
    case LC_NOT: {
        struct sb inner = {0};
        int r = lesson_check_eval(c->kids[0], w, since, &inner);
        sb_free(&inner);
        if (!r)
            return 1;
        sb_add(why, "expected not ");
        describe_check(c->kids[0], why);
        sb_add(why, ", but it holds");
        return 0;
    }
    default:
        return eval_leaf(c, w, since, why);
    }
}

/* ---- engine ----------------------------------------------------------------------------- */

struct lesson_engine {
    const struct lesson *l;
    const struct lesson_world *w;
    struct progress *p;
    enum lesson_phase phase;
    int step;                       /* current step; nsteps in the quiz or finished */
    int quiz;                       /* current quiz question */
    int quiz_right;
    uint64_t mark;                  /* world mark when the step began */
    uint64_t started_us;            /* when the step began (mono) */
    bool slow_told;
    int *hints;                     /* revealed per step, this session */
    bool *passed;                   /* passed in this session */
    int perm[QUIZ_MAX_CHOICES];     /* display order of choices or items (a fixed shuffle) */
};

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
}

/* Display order for an ordering question: a fixed shuffle that is never the answer order. */
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
    e->phase = LESSON_IN_STEP;
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

/* Moves to step i (or past the last step into the quiz or the finish). */
static void go_to(struct lesson_engine *e, int i)
{
    e->step = i;
    if (i >= e->l->nsteps) {
        e->step = e->l->nsteps;
        e->quiz = 0;
        if (e->l->nquiz > 0) {
            e->phase = LESSON_IN_QUIZ;
            make_perm(e);
        } else {
            finish(e);
        }
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

void lesson_engine_render(const struct lesson_engine *e, struct sb *out)
{
    const struct lesson *l = e->l;
    if (e->phase == LESSON_IN_STEP) {
        const struct lesson_step *s = &l->steps[e->step];
        if (e->step == 0 && l->intro) {
            sb_printf(out, "%s  (%s, about %ld minutes)\n\n", l->title, l->level, l->minutes);
            render_text(out, l->intro);
            sb_addc(out, '\n');
        }
        const char *st = e->p ? progress_step_status(e->p, l->id, s->id) : NULL;
        sb_printf(out, "Step %d of %d: %s%s\n\n", e->step + 1, l->nsteps, s->title,
                  st && !strcmp(st, "done") ? "  (done before)" : "");
        render_text(out, s->text);
        if (s->ncommands) {
            sb_add(out, "\nTry:\n");
            for (int i = 0; i < s->ncommands; i++)
                sb_printf(out, "    %s\n", s->commands[i]);
        }
        for (int i = 0; i < e->hints[e->step] && i < s->nhints; i++)
            sb_printf(out, "\nHint %d/%d: %s\n", i + 1, s->nhints, s->hints[i]);
        sb_add(out, "\n(the step completes when you have done it; hint | next | back | "
                    "restart | lesson quit)\n");
        return;
    }
    if (e->phase == LESSON_IN_QUIZ) {
        sb_printf(out, "Quiz %d of %d\n\n", e->quiz + 1, l->nquiz);
        quiz_render(&l->quiz[e->quiz], e->perm, out);
        return;
    }
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

void lesson_engine_status_line(const struct lesson_engine *e, struct sb *out)
{
    const struct lesson *l = e->l;
    if (e->phase == LESSON_IN_STEP) {
        const struct lesson_step *s = &l->steps[e->step];
        sb_printf(out, "%s: step %d of %d, %s", l->id, e->step + 1, l->nsteps, s->title);
        if (s->nhints)
            sb_printf(out, " (hints %d/%d)", e->hints[e->step], s->nhints);
    } else if (e->phase == LESSON_IN_QUIZ) {
        sb_printf(out, "%s: quiz %d of %d", l->id, e->quiz + 1, l->nquiz);
    } else {
        sb_printf(out, "%s: complete", l->id);
    }
}

static void pass_step(struct lesson_engine *e, struct sb *out)
{
    const struct lesson_step *s = &e->l->steps[e->step];
    e->passed[e->step] = true;
    if (e->p)
        progress_step_set_status(e->p, e->l->id, s->id, "done");
    sb_printf(out, "Step %d done: %s\n", e->step + 1, s->title);
    if (s->done) {
        render_text(out, s->done);
    }
    sb_addc(out, '\n');
    go_to(e, e->step + 1);
    save(e, out);
    lesson_engine_render(e, out);
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
    int ok = lesson_check_eval(s->check, e->w, e->mark, &why);
    if (ok) {
        sb_free(&why);
        pass_step(e, out);
        return LESSON_PASSED;
    }
    if (!e->slow_told && mono_us() - e->started_us >= (uint64_t)s->timeout_ms * 1000) {
        e->slow_told = true;
        sb_printf(out, "Not there yet: %s.\n", why.s ? why.s : "the check does not pass");
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
    if (e->phase != LESSON_IN_STEP) {
        sb_add(out, e->phase == LESSON_IN_QUIZ ? "Answer the question to go on.\n"
                                                : "The lesson is complete.\n");
        return CL_ESTATE;
    }
    if (e->passed[e->step]) {
        go_to(e, e->step + 1);
        save(e, out);
        lesson_engine_render(e, out);
        return 0;
    }
    struct sb why = {0};
    if (e->w && lesson_check_eval(e->l->steps[e->step].check, e->w, e->mark, &why)) {
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
    if (e->phase != LESSON_IN_STEP) {
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
    go_to(e, e->step + 1);
    save(e, out);
    lesson_engine_render(e, out);
    return 0;
}

int lesson_engine_back(struct lesson_engine *e, struct sb *out)
{
    if (e->step == 0 && e->phase == LESSON_IN_STEP) {
        sb_add(out, "This is the first step.\n");
        return CL_ESTATE;
    }
    go_to(e, e->phase == LESSON_IN_STEP ? e->step - 1 : e->l->nsteps - 1);
    e->passed[e->step] = false;
    save(e, out);
    lesson_engine_render(e, out);
    return 0;
}

void lesson_engine_restart(struct lesson_engine *e, struct sb *out)
{
    memset(e->hints, 0, (size_t)e->l->nsteps * sizeof *e->hints);
    memset(e->passed, 0, (size_t)e->l->nsteps * sizeof *e->passed);
    e->quiz_right = 0;
    go_to(e, 0);
    save(e, out);
    lesson_engine_render(e, out);
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
    if (w3)
        goto answer_or_none;
    bool lesson = !strcmp(w1, "lesson");
    const char *verb = lesson ? w2 : (w2 ? NULL : w1);
    if (lesson && !verb) {
        lesson_engine_render(e, out);
        return LESSON_CMD_HANDLED;
    }
    if (!verb)
        goto answer_or_none;
    if (!strcmp(verb, "hint")) {
        lesson_engine_hint(e, out);
        return LESSON_CMD_HANDLED;
    }
    if (!strcmp(verb, "next")) {
        lesson_engine_next(e, out);
        return LESSON_CMD_HANDLED;
    }
    if (!strcmp(verb, "back")) {
        lesson_engine_back(e, out);
        return LESSON_CMD_HANDLED;
    }
    if (!strcmp(verb, "restart")) {
        lesson_engine_restart(e, out);
        return LESSON_CMD_RESTART;
    }
    if (lesson && !strcmp(verb, "skip")) {
        lesson_engine_skip(e, out);
        return LESSON_CMD_HANDLED;
    }
    if (lesson && !strcmp(verb, "check")) {
        if (e->phase != LESSON_IN_STEP) {
            sb_add(out, "No step to check now.\n");
            return LESSON_CMD_HANDLED;
        }
        struct sb why = {0};
        if (e->w && lesson_check_eval(e->l->steps[e->step].check, e->w, e->mark, &why))
            sb_add(out, "The step's check holds now.\n");
        else
            sb_printf(out, "Not yet: %s.\n", why.s ? why.s : "no lab attached");
        sb_free(&why);
        return LESSON_CMD_HANDLED;
    }
    if (lesson && !strcmp(verb, "quit")) {
        sb_printf(out, "Left the lesson %s at step %d of %d. `conlab lesson %s` starts it "
                  "again.\n", e->l->id, e->step < e->l->nsteps ? e->step + 1 : e->l->nsteps,
                  e->l->nsteps, e->l->id);
        return LESSON_CMD_QUIT;
    }
    if (lesson) {
        sb_printf(out, "unknown lesson command \"%s\": hint, next, back, restart, lesson skip, "
                  "lesson check, lesson quit\n", verb);
        return LESSON_CMD_HANDLED;
    }
answer_or_none:
    if (e->phase == LESSON_IN_QUIZ) {
        lesson_engine_answer(e, line, out);
        return LESSON_CMD_HANDLED;
    }
    return LESSON_CMD_NONE;
}
