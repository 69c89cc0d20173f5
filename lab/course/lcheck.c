/* lcheck — see lcheck.h. The predicate table is at the end of the file; each predicate has a
 * parser (YAML arguments into struct lesson_check), an evaluator (against struct
 * lesson_world, with a reason on failure) and a description in words. */
#include "lcheck.h"
#include "mode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "n3" -> 2, checked against the cluster size. */
static int node_ref(struct lcheck_ctx *c, const struct ydoc_node *n, const char *what, int *idx)
{
    const char *s;
    if (ydoc_str(c->d, n, what, 16, &s, c->err, c->errlen) < 0)
        return CL_EINVAL;
    if (parse_node_id(s, c->nodes, idx) < 0)
        return ydoc_error(c->d, n, c->err, c->errlen,
                          "%s: unknown node \"%s\"; the cluster has n1..n%d", what, s, c->nodes);
    return 0;
}

static int parse_keys(struct lcheck_ctx *c, const struct ydoc_node *n, const char *what,
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

static int leaders_hold(const struct lesson_check *c, const struct lesson_world *w, int n,
                        struct sb *why)
{
    int idx[CL_MAXNODES], cnt = 0;
    int64_t terms[CL_MAXNODES];
    for (int i = 0; i < n; i++) {
        struct lesson_node_info in;
        if (info(w, i, &in) == 0 && !strcmp(in.state, "up") && (in.leads || !strcmp(in.role, "leader"))) {
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

static int value_holds(const struct lesson_check *c, const struct lesson_world *w, int n,
                      struct sb *why)
{
    char want[300];
    if (c->absent)
        snprintf(want, sizeof want, "%s absent", c->key);
    else
        snprintf(want, sizeof want, "%s = \"%s\"", c->key, c->value);
    int hold[CL_MAXNODES], nh = 0, up = 0;
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

static int partition_holds(const struct lesson_check *c, const struct lesson_world *w, int n,
                            struct sb *why)
{
    int group[CL_MAXNODES] = {0};
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


/* ---- the predicates ------------------------------------------------------------------ */

static int parse_leaders(struct lcheck_ctx *c, const struct ydoc_node *a, const char *w,
                      struct lesson_check *k)
{
    const struct ydoc *d = c->d;
    char *err = c->err;
    size_t el = c->errlen;
    (void)d;
    (void)err;
    (void)el;
    (void)w;
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

static int eval_leaders(const struct lesson_check *c, const struct lesson_world *w, uint64_t since,
                     int n, struct sb *why)
{
    (void)since;
    (void)n;
    return leaders_hold(c, w, n, why);
}

static void describe_leaders(const struct lesson_check *c, struct sb *b)
{
    if (c->count >= 0)
        sb_printf(b, "%ld leader%s", c->count, c->count == 1 ? "" : "s");
    else
        sb_printf(b, "at least %ld leader%s", c->at_least, c->at_least == 1 ? "" : "s");
    return;
}

static int parse_role(struct lcheck_ctx *c, const struct ydoc_node *a, const char *w,
                      struct lesson_check *k)
{
    const struct ydoc *d = c->d;
    char *err = c->err;
    size_t el = c->errlen;
    (void)d;
    (void)err;
    (void)el;
    (void)w;
    static const char *const keys[] = {"node", "is", NULL};
    const char *s;
    if (ydoc_check_keys(d, a, w, keys, keys, err, el) < 0 ||
        node_ref(c, ydoc_get(a, "node"), "role node", &k->node) < 0 ||
        ydoc_ident(d, ydoc_get(a, "is"), "role is", 15, &s, err, el) < 0)
        return CL_EINVAL;
    str_copy(k->role, s, sizeof k->role);
    return 0;
}

static int eval_role(const struct lesson_check *c, const struct lesson_world *w, uint64_t since,
                     int n, struct sb *why)
{
    (void)since;
    (void)n;
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

static void describe_role(const struct lesson_check *c, struct sb *b)
{
    sb_printf(b, "n%d is %s", c->node + 1, c->role);
    return;
}

static int parse_term(struct lcheck_ctx *c, const struct ydoc_node *a, const char *w,
                      struct lesson_check *k)
{
    const struct ydoc *d = c->d;
    char *err = c->err;
    size_t el = c->errlen;
    (void)d;
    (void)err;
    (void)el;
    (void)w;
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

static int eval_term(const struct lesson_check *c, const struct lesson_world *w, uint64_t since,
                     int n, struct sb *why)
{
    (void)since;
    (void)n;
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

static void describe_term(const struct lesson_check *c, struct sb *b)
{
    if (c->node >= 0)
        sb_printf(b, "n%d at term %ld or later", c->node + 1, c->at_least);
    else
        sb_printf(b, "a term of %ld or later", c->at_least);
    return;
}

static int parse_node(struct lcheck_ctx *c, const struct ydoc_node *a, const char *w,
                      struct lesson_check *k)
{
    const struct ydoc *d = c->d;
    char *err = c->err;
    size_t el = c->errlen;
    (void)d;
    (void)err;
    (void)el;
    (void)w;
    static const char *const keys[] = {"id", "state", NULL};
    int st;
    if (ydoc_check_keys(d, a, w, keys, keys, err, el) < 0 ||
        node_ref(c, ydoc_get(a, "id"), "node id", &k->node) < 0 ||
        ydoc_enum(d, ydoc_get(a, "state"), "node state", "up|down|paused", &st, err, el) < 0)
        return CL_EINVAL;
    str_copy(k->role, st == 0 ? "up" : st == 1 ? "down" : "paused", sizeof k->role);
    return 0;
}

static int eval_node(const struct lesson_check *c, const struct lesson_world *w, uint64_t since,
                     int n, struct sb *why)
{
    (void)since;
    (void)n;
    struct lesson_node_info in;
    info(w, c->node, &in);
    if (!strcmp(in.state, c->role))
        return 1;
    sb_printf(why, "expected n%d to be %s, but it is %s", c->node + 1, c->role, in.state);
    return 0;
}

static void describe_node(const struct lesson_check *c, struct sb *b)
{
    sb_printf(b, "n%d is %s", c->node + 1, c->role);
    return;
}

static int parse_value(struct lcheck_ctx *c, const struct ydoc_node *a, const char *w,
                      struct lesson_check *k)
{
    const struct ydoc *d = c->d;
    char *err = c->err;
    size_t el = c->errlen;
    (void)d;
    (void)err;
    (void)el;
    (void)w;
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

static int eval_value(const struct lesson_check *c, const struct lesson_world *w, uint64_t since,
                     int n, struct sb *why)
{
    (void)since;
    (void)n;
    return value_holds(c, w, n, why);
}

static void describe_value(const struct lesson_check *c, struct sb *b)
{
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
}

static int parse_partitioned(struct lcheck_ctx *c, const struct ydoc_node *a, const char *w,
                      struct lesson_check *k)
{
    const struct ydoc *d = c->d;
    char *err = c->err;
    size_t el = c->errlen;
    (void)d;
    (void)err;
    (void)el;
    (void)w;
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
    for (int i = 0; i < CL_MAXNODES; i++)
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

static int eval_partitioned(const struct lesson_check *c, const struct lesson_world *w, uint64_t since,
                     int n, struct sb *why)
{
    (void)since;
    (void)n;
    return partition_holds(c, w, n, why);
}

static void describe_partitioned(const struct lesson_check *c, struct sb *b)
{
    if (c->isolated >= 0)
        sb_printf(b, "n%d isolated", c->isolated + 1);
    else if (!c->ngroups)
        sb_add(b, "a partition");
    else {
        sb_add(b, "the partition ");
        int n = 0;
        for (int i = 0; i < CL_MAXNODES; i++)
            if (c->group[i] >= 0)
                n = i + 1;
        describe_groups(b, c->group, n, c->ngroups);
    }
    return;
}

static int parse_op(struct lcheck_ctx *c, const struct ydoc_node *a, const char *w,
                      struct lesson_check *k)
{
    const struct ydoc *d = c->d;
    char *err = c->err;
    size_t el = c->errlen;
    (void)d;
    (void)err;
    (void)el;
    (void)w;
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

static int eval_op(const struct lesson_check *c, const struct lesson_world *w, uint64_t since,
                     int n, struct sb *why)
{
    (void)since;
    (void)n;
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

static void describe_op(const struct lesson_check *c, struct sb *b)
{
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
}

static int parse_event(struct lcheck_ctx *c, const struct ydoc_node *a, const char *w,
                      struct lesson_check *k)
{
    const struct ydoc *d = c->d;
    char *err = c->err;
    size_t el = c->errlen;
    (void)d;
    (void)err;
    (void)el;
    (void)w;
    static const char *const keys[] = {"ev", "node", "where", "at_least", NULL};
    static const char *const req[] = {"ev", NULL};
    int idx;
    if (ydoc_check_keys(d, a, w, keys, req, err, el) < 0 ||
        ydoc_enum(d, ydoc_get(a, "ev"), "event ev", c->event_names, &idx, err, el) < 0)
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

static int eval_event(const struct lesson_check *c, const struct lesson_world *w, uint64_t since,
                     int n, struct sb *why)
{
    (void)since;
    (void)n;
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

static void describe_event(const struct lesson_check *c, struct sb *b)
{
    sb_printf(b, "a %s event", c->name);
    for (int i = 0; i < c->nf; i++)
        sb_printf(b, " %s=%s", c->fk[i], c->fv[i]);
    if (c->node >= 0)
        sb_printf(b, " from n%d", c->node + 1);
    return;
}

static int parse_converged(struct lcheck_ctx *c, const struct ydoc_node *a, const char *w,
                      struct lesson_check *k)
{
    const struct ydoc *d = c->d;
    char *err = c->err;
    size_t el = c->errlen;
    (void)d;
    (void)err;
    (void)el;
    (void)w;
    static const char *const keys[] = {"keys", NULL};
    if (ydoc_check_keys(d, a, w, keys, keys, err, el) < 0)
        return CL_EINVAL;
    return parse_keys(c, ydoc_get(a, "keys"), "converged keys", k);
}

static int eval_converged(const struct lesson_check *c, const struct lesson_world *w, uint64_t since,
                     int n, struct sb *why)
{
    (void)since;
    (void)n;
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

static void describe_converged(const struct lesson_check *c, struct sb *b)
{
    sb_add(b, "the live nodes agree on");
    for (int i = 0; i < c->nkeys; i++)
        sb_printf(b, " %s", c->keys[i]);
    return;
}

static int parse_history(struct lcheck_ctx *c, const struct ydoc_node *a, const char *w,
                      struct lesson_check *k)
{
    const struct ydoc *d = c->d;
    char *err = c->err;
    size_t el = c->errlen;
    (void)d;
    (void)err;
    (void)el;
    (void)w;
    static const char *const keys[] = {"checker", "keys", "holds", NULL};
    static const char *const req[] = {"checker", NULL};
    int idx;
    /* the lab's checkers, then every mode's own (mode.h: struct mode_check) */
    static char names[512];
    if (!names[0])
        snprintf(names, sizeof names, "linearizable|sessions|converged|serializable|bank|exactly-once|sequential|causal|mutex%s%s",
                 *mode_check_names() ? "|" : "",
                 mode_check_names());
    if (ydoc_check_keys(d, a, w, keys, req, err, el) < 0 ||
        ydoc_enum(d, ydoc_get(a, "checker"), "history checker", names, &idx, err, el) < 0)
        return CL_EINVAL;
    str_copy(k->name, ydoc_get(a, "checker")->str, sizeof k->name);
    k->holds = true;
    if (ydoc_get(a, "holds") &&
        ydoc_bool(d, ydoc_get(a, "holds"), "history holds", &k->holds, err, el) < 0)
        return CL_EINVAL;
    return parse_keys(c, ydoc_get(a, "keys"), "history keys", k);
}

static int eval_history(const struct lesson_check *c, const struct lesson_world *w, uint64_t since,
                     int n, struct sb *why)
{
    (void)since;
    (void)n;
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

static void describe_history(const struct lesson_check *c, struct sb *b)
{
    sb_printf(b, "the history is %s%s", c->holds ? "" : "not ", c->name);
    return;
}

/* command: the student ran a lab command (one of several) since the step began. The argument
 * is one command line or a list of them; each matches a command whose words begin with its
 * words. */
static int parse_command(struct lcheck_ctx *c, const struct ydoc_node *a, const char *w,
                         struct lesson_check *k)
{
    k->count = 1;
    const struct ydoc_node *list = a;
    if (a->kind == YDOC_SCALAR) {
        list = NULL;
    } else if (ydoc_want(c->d, a, YDOC_LIST, w, c->err, c->errlen) < 0) {
        return CL_EINVAL;
    } else if (a->n == 0 || a->n > LCHECK_MAX_KEYS) {
        return ydoc_error(c->d, a, c->err, c->errlen, "%s: between 1 and %d commands", w,
                          LCHECK_MAX_KEYS);
    }
    size_t n = list ? list->n : 1;
    for (size_t i = 0; i < n; i++) {
        const struct ydoc_node *it = list ? list->items[i] : a;
        const char *s;
        if (ydoc_str(c->d, it, w, 256, &s, c->err, c->errlen) < 0)
            return CL_EINVAL;
        if (c->command_ok && c->command_ok(c->ud, it, w, s) < 0)
            return CL_EINVAL;
        /* kept with single spaces: matching compares words */
        struct sb norm = {0};
        sb_add(&norm, "");
        for (const char *p = s; *p;) {
            while (*p == ' ' || *p == '\t')
                p++;
            size_t len = strcspn(p, " \t");
            if (len)
                sb_printf(&norm, "%s%.*s", norm.len ? " " : "", (int)len, p);
            p += len;
        }
        k->keys[k->nkeys++] = norm.s;
    }
    return 0;
}

static int eval_command(const struct lesson_check *c, const struct lesson_world *w,
                        uint64_t since, int n, struct sb *why)
{
    (void)n;
    int got = 0;
    for (int i = 0; i < c->nkeys; i++) {
        int k = w->command_count ? w->command_count(w->ud, since, c->keys[i]) : CL_ESTATE;
        if (k > 0)
            got += k;
    }
    if (got >= c->count)
        return 1;
    sb_add(why, "waiting for you to run ");
    for (int i = 0; i < c->nkeys; i++)
        sb_printf(why, "%s`%s`", i == 0 ? "" : i == c->nkeys - 1 ? " or " : ", ", c->keys[i]);
    return 0;
}

static void describe_command(const struct lesson_check *c, struct sb *b)
{
    sb_add(b, "you ran ");
    for (int i = 0; i < c->nkeys; i++)
        sb_printf(b, "%s`%s`", i == 0 ? "" : i == c->nkeys - 1 ? " or " : ", ", c->keys[i]);
}

/* ---- all, any, not ------------------------------------------------------------------------ */

static int parse_kids(struct lcheck_ctx *c, const struct ydoc_node *a, const char *what,
                      int depth, struct lesson_check *k);

static int eval_all(const struct lesson_check *c, const struct lesson_world *w, uint64_t since,
                    int n, struct sb *why)
{
    (void)n;
    for (int i = 0; i < c->nkids; i++)
        if (!lcheck_eval(c->kids[i], w, since, why))
            return 0;
    return 1;
}

static int eval_any(const struct lesson_check *c, const struct lesson_world *w, uint64_t since,
                    int n, struct sb *why)
{
    (void)n;
    struct sb all = {0};
    for (int i = 0; i < c->nkids; i++) {
        struct sb one = {0};
        if (lcheck_eval(c->kids[i], w, since, &one)) {
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

static int eval_not(const struct lesson_check *c, const struct lesson_world *w, uint64_t since,
                    int n, struct sb *why)
{
    (void)n;
    struct sb inner = {0};
    int r = lcheck_eval(c->kids[0], w, since, &inner);
    sb_free(&inner);
    if (!r)
        return 1;
    sb_add(why, "expected not ");
    lcheck_describe(c->kids[0], why);
    sb_add(why, ", but it holds");
    return 0;
}

static void describe_all_any(const struct lesson_check *c, struct sb *b)
{
    sb_add(b, "(");
    for (int i = 0; i < c->nkids; i++) {
        if (i)
            sb_add(b, c->kind == LC_ALL ? " and " : " or ");
        lcheck_describe(c->kids[i], b);
    }
    sb_add(b, ")");
}

static void describe_not(const struct lesson_check *c, struct sb *b)
{
    sb_add(b, "not ");
    lcheck_describe(c->kids[0], b);
}

/* ---- the table ---------------------------------------------------------------------------- */

struct lcheck_pred {
    const char *name;
    bool action;        /* counts only what happened after the step began */
    bool cluster;       /* needs a running cluster to mean anything */
    int (*parse)(struct lcheck_ctx *c, const struct ydoc_node *args, const char *what,
                 struct lesson_check *k);
    int (*eval)(const struct lesson_check *k, const struct lesson_world *w, uint64_t since,
                int n, struct sb *why);
    void (*describe)(const struct lesson_check *k, struct sb *b);
};

static const struct lcheck_pred preds[LC_COUNT] = {
    [LC_ALL] = {"all", false, false, NULL, eval_all, describe_all_any},
    [LC_ANY] = {"any", false, false, NULL, eval_any, describe_all_any},
    [LC_NOT] = {"not", false, false, NULL, eval_not, describe_not},
    [LC_LEADERS] = {"leaders", false, true, parse_leaders, eval_leaders, describe_leaders},
    [LC_ROLE] = {"role", false, true, parse_role, eval_role, describe_role},
    [LC_TERM] = {"term", false, true, parse_term, eval_term, describe_term},
    [LC_NODE] = {"node", false, true, parse_node, eval_node, describe_node},
    [LC_VALUE] = {"value", false, true, parse_value, eval_value, describe_value},
    [LC_PARTITIONED] = {"partitioned", false, true, parse_partitioned, eval_partitioned,
                        describe_partitioned},
    [LC_OP] = {"op", true, true, parse_op, eval_op, describe_op},
    [LC_EVENT] = {"event", true, true, parse_event, eval_event, describe_event},
    [LC_CONVERGED] = {"converged", false, true, parse_converged, eval_converged,
                      describe_converged},
    [LC_HISTORY] = {"history", false, true, parse_history, eval_history, describe_history},
    [LC_COMMAND] = {"command", true, false, parse_command, eval_command, describe_command},
};

const char *lcheck_names(void)
{
    static char names[256];
    if (!names[0])
        for (int i = 0; i < LC_COUNT; i++)
            snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", i ? "|" : "",
                     preds[i].name);
    return names;
}

void lcheck_free(struct lesson_check *c)
{
    if (!c)
        return;
    for (int i = 0; i < c->nkids; i++)
        lcheck_free(c->kids[i]);
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

static int parse_at(struct lcheck_ctx *c, const struct ydoc_node *n, const char *what, int depth,
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
    int kind;
    if (ydoc_enum(c->d, n->keys[0], "check predicate", lcheck_names(), &kind, c->err,
                  c->errlen) < 0)
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
    if (k->kind == LC_ALL || k->kind == LC_ANY || k->kind == LC_NOT)
        return parse_kids(c, a, what, depth, k);
    char w[160];
    snprintf(w, sizeof w, "%s: %s", what, preds[kind].name);
    return preds[kind].parse(c, a, w, k);
}

static int parse_kids(struct lcheck_ctx *c, const struct ydoc_node *a, const char *what,
                      int depth, struct lesson_check *k)
{
    const char *name = preds[k->kind].name;
    if (k->kind == LC_NOT) {
        k->kids = xcalloc(1, sizeof *k->kids);
        k->nkids = 1;
        return parse_at(c, a, what, depth + 1, &k->kids[0]);
    }
    if (ydoc_want(c->d, a, YDOC_LIST, name, c->err, c->errlen) < 0)
        return CL_EINVAL;
    if (a->n == 0 || a->n > 16)
        return ydoc_error(c->d, a, c->err, c->errlen, "%s: between 1 and 16 checks", name);
    k->kids = xcalloc(a->n, sizeof *k->kids);
    for (size_t i = 0; i < a->n; i++) {
        k->nkids++;
        if (parse_at(c, a->items[i], what, depth + 1, &k->kids[i]) < 0)
            return CL_EINVAL;
    }
    return 0;
}

int lcheck_parse(struct lcheck_ctx *c, const struct ydoc_node *n, const char *what,
                 struct lesson_check **out)
{
    return parse_at(c, n, what, 0, out);
}

int lcheck_eval(const struct lesson_check *c, const struct lesson_world *w, uint64_t since,
                struct sb *why)
{
    const struct lcheck_pred *p = &preds[c->kind];
    int n = 0;
    if (p->cluster) {
        n = w->nodes ? w->nodes(w->ud) : 0;
        if (n <= 0) {
            sb_add(why, "no cluster is running (start it again with `lesson restart`)");
            return 0;
        }
        if (n > CL_MAXNODES)
            n = CL_MAXNODES;
    }
    return p->eval(c, w, since, n, why);
}

void lcheck_describe(const struct lesson_check *c, struct sb *b)
{
    preds[c->kind].describe(c, b);
}

bool lcheck_waits(const struct lesson_check *c)
{
    switch (c->kind) {
    case LC_ALL:
        for (int i = 0; i < c->nkids; i++)
            if (lcheck_waits(c->kids[i]))
                return true;
        return false;
    case LC_ANY:
        for (int i = 0; i < c->nkids; i++)
            if (!lcheck_waits(c->kids[i]))
                return false;
        return c->nkids > 0;
    case LC_NOT:
        return false; /* "nothing happened" is already true when the step opens */
    default:
        return preds[c->kind].action;
    }
}
