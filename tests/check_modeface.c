/* check_modeface — a mode is one folder: its face (mode.h) is complete and true to what the
 * mode does in the simulator (every role it names and every event it emits is declared),
 * the dashboard reads role classes from the `cluster` event alone, and no source outside
 * nodes/modes/NAME/ names a mode (the sources are scanned from the source tree, where
 * `make check` runs). */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lab.h"
#include "model.h"
#include "mode.h"
#include "sim.h"
#include "test_util.h"

static int nmodes(void)
{
    int n = 0;
    while (mode_table[n])
        n++;
    return n;
}

START_TEST(every_mode_has_a_complete_face)
{
    const struct mode *m = mode_table[_i];
    ck_assert_msg(m->workload && *m->workload, "%s: no workload", m->name);
    ck_assert_msg(m->roles && m->roles->role, "%s: no roles", m->name);
    for (const struct mode_role *r = m->roles; r->role; r++) {
        ck_assert_msg(r->cls > RC_UNKNOWN && r->cls < RC_COUNT, "%s: role %s has no class", m->name, r->role);
        for (const struct mode_role *q = r + 1; q->role; q++)
            ck_assert_msg(strcmp(r->role, q->role), "%s: role %s twice", m->name, r->role);
    }
    for (const struct mode_figure *f = m->figures; f && f->key; f++)
        ck_assert_msg(*f->key && f->label && *f->label, "%s: a figure without key or label", m->name);
    ck_assert_msg(m->events != NULL, "%s: no event list", m->name);
    for (const char *p = m->events; *p;) {
        const char *bar = strchr(p, '|');
        ck_assert_msg(bar != p && p[0] != '|', "%s: an empty event name in \"%s\"", m->name, m->events);
        p = bar ? bar + 1 : p + strlen(p);
    }
    /* a mode command must not hide a lab command or another mode's */
    for (const struct mode_command *c = m->commands; c && c->name; c++) {
        int seen = 0;
        for (const char *const *n = lab_command_names(); *n; n++)
            seen += !strcmp(*n, c->name);
        ck_assert_msg(seen == 1, "%s: command %s is named %d times among the lab's commands", m->name, c->name, seen);
        ck_assert_msg(c->min_args <= c->max_args && c->run, "%s: command %s", m->name, c->name);
    }
    if (m->join_option) {
        int found = 0;
        for (const struct mode_option *o = m->options; o && o->name; o++)
            found |= !strcmp(o->name, m->join_option);
        ck_assert_msg(found, "%s: join_option %s is not one of its options", m->name, m->join_option);
    }
    if (m->leave_option) {
        int found = 0;
        for (const struct mode_option *o = m->options; o && o->name; o++)
            found |= !strcmp(o->name, m->leave_option);
        ck_assert_msg(found, "%s: leave_option %s is not one of its options", m->name, m->leave_option);
    }
}
END_TEST

START_TEST(the_lists_lessons_check_against_come_from_the_table)
{
    for (int i = 0; mode_table[i]; i++) {
        const struct mode *m = mode_table[i];
        ck_assert_msg(mode_listed(mode_names(), m->name), "%s missing from %s", m->name, mode_names());
        for (const char *p = m->events; p && *p;) {
            const char *bar = strchr(p, '|');
            char ev[32];
            size_t n = bar ? (size_t)(bar - p) : strlen(p);
            ck_assert(n < sizeof ev);
            memcpy(ev, p, n);
            ev[n] = 0;
            ck_assert_msg(mode_listed(mode_event_names(), ev), "event %s of %s missing", ev, m->name);
            p = bar ? bar + 1 : p + n;
        }
        for (const struct mode_command *c = m->commands; c && c->name; c++)
            ck_assert_msg(mode_listed(mode_command_names(), c->name), "command %s missing", c->name);
    }
    for (int k = 1; k < EV_KIND_COUNT; k++)
        ck_assert(mode_listed(mode_event_names(), event_kind_name((enum ev_kind)k)));
    ck_assert(!mode_listed(mode_names(), "no-such-mode"));
}
END_TEST

START_TEST(replicas_are_distinct_nodes_of_the_cluster)
{
    const struct mode *m = mode_table[_i];
    struct opts o = {0};
    for (int n = 1; n <= 7; n++) {
        for (int k = 0; k < 50; k++) {
            char key[16];
            snprintf(key, sizeof key, "k%d", k);
            int out[CL_MAXNODES];
            int nr = mode_replicas(m, &o, n, key, out);
            ck_assert_msg(nr >= 1 && nr <= n, "%s: %d replicas of %s among %d nodes", m->name, nr, key, n);
            for (int a = 0; a < nr; a++) {
                ck_assert(out[a] >= 0 && out[a] < n);
                for (int b = a + 1; b < nr; b++)
                    ck_assert_msg(out[a] != out[b], "%s: n%d twice among the replicas of %s", m->name, out[a] + 1, key);
            }
        }
    }
}
END_TEST

/* ---- the face is true to the mode: run it and compare ------------------------------------ */

struct run {
    const struct mode *m;
    char bad[512];
    int events;
};

static void on_event(void *ud, const json_t *j)
{
    struct run *r = ud;
    struct event e;
    char err[64];
    ck_assert_msg(event_decode(j, &e, err, sizeof err) == 0, "%s: %s", r->m->name, err);
    r->events++;
    if (e.kind == EV_SEND || e.kind == EV_RECV || e.kind == EV_DROP || e.kind == EV_TIMER || e.kind == EV_FAULT)
        return; /* the runtime's and the simulator's, not the mode's */
    if (!mode_listed(r->m->events, e.name) && !r->bad[0])
        snprintf(r->bad, sizeof r->bad, "emits %s, not in its face's events \"%s\"", e.name, r->m->events);
    if (e.kind == EV_STATE && e.state.role && mode_role_class(r->m, e.state.role) == RC_UNKNOWN && !r->bad[0])
        snprintf(r->bad, sizeof r->bad, "names role %s, not in its face", e.state.role);
}

static void on_reply(void *ud, const char *node, const char *client, const json_t *body)
{
    (void)ud;
    (void)node;
    (void)client;
    (void)body;
}

/* A client body of the mode's workload. */
static json_t *request(const struct mode *m, int k)
{
    char v[16];
    snprintf(v, sizeof v, "v%d", k);
    if (!strcmp(m->workload, "lin-kv"))
        return k % 3 == 2 ? json_pack("{s:s,s:I,s:s}", "type", "read", "msg_id", (json_int_t)k + 1, "key", "x")
                          : json_pack("{s:s,s:I,s:s,s:s}", "type", "write", "msg_id", (json_int_t)k + 1, "key",
                                      k % 2 ? "x" : "y", "value", v);
    return json_pack("{s:s,s:I,s:s}", "type", m->workload, "msg_id", (json_int_t)k + 1, m->workload, v);
}

START_TEST(a_mode_names_only_roles_and_events_of_its_face)
{
    const struct mode *m = mode_table[_i];
    struct opts o = {0};
    char err[256];
    struct run r = {.m = m};
    struct sim *s = sim_new(m, 3, &o, 7, err, sizeof err);
    ck_assert_msg(s != NULL, "%s: %s", m->name, err);
    sim_on_event(s, on_event, &r);
    sim_on_reply(s, on_reply, &r);
    for (int k = 0; k < 60; k++) {
        char client[8];
        snprintf(client, sizeof client, "c%d", 1 + k % 4);
        sim_client_send(s, k % 3, client, request(m, k));
        sim_run_for(s, 50000);
        if (k == 20)
            sim_crash(s, 0);
        if (k == 40)
            sim_restart(s, 0);
    }
    sim_run_for(s, 3000000);
    for (int i = 0; i < 3; i++) {
        json_t *st = sim_status(s, i);
        const char *role = json_string_value(json_object_get(st, "role"));
        ck_assert_msg(role && mode_role_class(m, role) != RC_UNKNOWN, "%s: status role %s not in its face", m->name,
                      role ? role : "(none)");
        json_decref(st);
    }
    sim_destroy(&s);
    ck_assert_msg(!r.bad[0], "%s %s", m->name, r.bad);
    ck_assert_int_gt(r.events, 0);
}
END_TEST

START_TEST(the_dashboard_colours_roles_from_the_cluster_event_alone)
{
    const struct mode *m = mode_table[_i];
    struct dm *d = dm_new(0);
    json_t *cl = json_pack("{s:s,s:s,s:[s,s]}", "ev", "cluster", "mode", m->name, "nodes", "n1", "n2");
    json_t *face = mode_face_json(m);
    json_object_update(cl, face);
    json_decref(face);
    /* the mode's name is replaced: a viewer needs no mode table, only the event */
    json_object_set_new(cl, "mode", json_string("unknown-to-the-viewer"));
    dm_feed(d, cl);
    json_decref(cl);
    for (const struct mode_role *r = m->roles; r && r->role; r++) {
        json_t *ev = json_pack("{s:s,s:s,s:s,s:i}", "ev", "state", "node", "n2", "role", r->role, "term", 1);
        dm_feed(d, ev);
        json_decref(ev);
        ck_assert_msg(dm_view(d)->node[1].rclass == r->cls, "%s: role %s drawn as class %d, not %d", m->name, r->role,
                      dm_view(d)->node[1].rclass, r->cls);
    }
    dm_destroy(&d);
}
END_TEST

/* ---- no file outside a mode's folder names it ------------------------------------------------ */

/* Is a mode's name ambiguous with a word the lab uses for other things (a role, a class, the
 * NODE alias `leader`, a Maelstrom workload such as echo, a client request type such as txn,
 * a value of a mode's option such as membership=gossip)?
 * Then only its uses as a mode name count. */
static int ambiguous(const char *name)
{
    /* a mode named like a role, or like a checker of the lab (`check causal` judges any
     * mode's history): the word has another meaning there */
    if (!strcmp(name, "leader") || role_class_of(name) != RC_UNKNOWN || mode_listed(lab_check_names(), name))
        return 1;
    for (int i = 0; mode_table[i]; i++)
        if ((mode_table[i]->workload && !strcmp(mode_table[i]->workload, name)) ||
            (mode_table[i]->client_types && mode_client_type(mode_table[i], name)))
            return 1;
    for (int i = 0; mode_table[i]; i++)
        for (const struct mode_role *r = mode_table[i]->roles; r && r->role; r++)
            if (!strcmp(r->role, name))
                return 1;
    /* a mode named like a value of some mode's option (leaderless's membership=gossip: the
     * technique, not the mode) */
    for (int i = 0; mode_table[i]; i++)
        for (const struct mode_option *o = mode_table[i]->options; o && o->name; o++)
            if (o->kind == OPT_ENUM && o->values && mode_listed(o->values, name))
                return 1;
    return 0;
}

/* Does the text before a literal (on its line) use it as a mode name? */
static int mode_context(const char *line_start, const char *lit)
{
    static const char *const ctx[] = {"mode_find(", "lab_start(", "->name", "mode_name", "\"mode\"", "mode =",
                                      "mode=", NULL};
    size_t n = (size_t)(lit - line_start);
    char buf[512];
    if (n >= sizeof buf)
        line_start = lit - (n = sizeof buf - 1);
    memcpy(buf, line_start, n);
    buf[n] = 0;
    for (int k = 0; ctx[k]; k++)
        if (strstr(buf, ctx[k]))
            return 1;
    return 0;
}

/* Scans C text for string literals that name a mode other than `own` (NULL: any): a literal
 * that is exactly a mode's name, a '|'-list that holds one, or — for names that are also
 * roles or the `leader` alias — one used as a mode (mode_find("…"), lab_start(…, "…"),
 * ->name compared with it, a "mode" field set to it). Appends "file:line: why" per finding to
 * out; returns how many. */
static int scan_text(const char *file, const char *text, const char *own, struct sb *out)
{
    int found = 0, line = 1;
    const char *line_start = text;
    for (const char *p = text; *p; p++) {
        if (*p == '\n') {
            line++;
            line_start = p + 1;
        } else if (p[0] == '/' && p[1] == '*') {
            for (p += 2; *p && !(p[0] == '*' && p[1] == '/'); p++)
                if (*p == '\n') {
                    line++;
                    line_start = p + 1;
                }
            if (!*p)
                break;
            p++;
        } else if (p[0] == '/' && p[1] == '/') {
            while (p[1] && p[1] != '\n')
                p++;
        } else if (*p == '\'') {
            for (p++; *p && *p != '\'' && *p != '\n'; p++)
                if (*p == '\\' && p[1])
                    p++;
            if (!*p)
                break;
        } else if (*p == '"') {
            const char *lit = p;
            struct sb s = {0};
            sb_addn(&s, "", 0);
            for (p++; *p && *p != '"' && *p != '\n'; p++) {
                if (*p == '\\' && p[1])
                    p++;
                sb_addc(&s, *p);
            }
            for (int i = 0; mode_table[i]; i++) {
                const char *name = mode_table[i]->name;
                if (own && !strcmp(own, name))
                    continue;
                const char *why = NULL;
                if (!strcmp(s.s, name) && (!ambiguous(name) || mode_context(line_start, lit)))
                    why = "names the mode";
                else if (strchr(s.s, '|') && mode_listed(s.s, name) && !ambiguous(name))
                    why = "lists the mode";
                if (why) {
                    sb_printf(out, "%s:%d: \"%s\" %s %s\n", file, line, s.s, why, name);
                    found++;
                }
            }
            sb_free(&s);
            if (!*p)
                break;
        }
    }
    return found;
}

static int scan_tree(const char *dir, struct sb *out, int *files)
{
    DIR *d = opendir(dir);
    ck_assert_msg(d != NULL, "cannot open %s: run from the source tree", dir);
    int found = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char *path = xasprintf("%s/%s", dir, de->d_name);
        struct stat st;
        size_t len = strlen(de->d_name);
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
            found += scan_tree(path, out, files);
        } else if (len > 2 && (!strcmp(de->d_name + len - 2, ".c") || !strcmp(de->d_name + len - 2, ".h"))) {
            /* a mode's own folder may name itself */
            const char *own = NULL;
            if (!strncmp(path, "nodes/modes/", 12)) {
                for (int i = 0; mode_table[i]; i++) {
                    size_t n = strlen(mode_table[i]->name);
                    if (!strncmp(path + 12, mode_table[i]->name, n) && path[12 + n] == '/')
                        own = mode_table[i]->name;
                }
            }
            FILE *f = fopen(path, "r");
            ck_assert_msg(f != NULL, "cannot read %s", path);
            struct sb text = {0};
            char buf[65536];
            size_t n;
            while ((n = fread(buf, 1, sizeof buf, f)) > 0)
                sb_addn(&text, buf, n);
            fclose(f);
            found += scan_text(path, text.s ? text.s : "", own, out);
            sb_free(&text);
            (*files)++;
        }
        free(path);
    }
    closedir(d);
    return found;
}

START_TEST(the_scan_finds_a_mode_named_outside_its_folder)
{
    ck_assert_int_ge(nmodes(), 2);
    const char *a = mode_table[0]->name, *b = mode_table[1]->name;
    /* every mode name, in the shapes the scan must catch */
    for (int i = 0; mode_table[i]; i++) {
        const char *name = mode_table[i]->name;
        struct sb out = {0};
        char *src = xasprintf("const struct mode *m = mode_find(\"%s\");\n"
                              "int r = strcmp(lab->cl->mode->name, \"%s\");\n"
                              "lab_start(&lab, \"%s\", 5, &o);\n",
                              name, name, name);
        ck_assert_int_eq(scan_text("t.c", src, NULL, &out), 3);
        ck_assert_int_eq(scan_text("t.c", src, name, &out), 0); /* in its own folder */
        free(src);
        if (!ambiguous(name)) {
            src = xasprintf("static const char *m = \"%s\";\nconst char *all = \"x|%s|y\";\n", name, name);
            ck_assert_int_eq(scan_text("t.c", src, NULL, &out), 2);
            free(src);
        }
        sb_free(&out);
    }
    /* and leaves alone what is not a mode: comments, prose, roles and the NODE alias */
    struct sb out = {0};
    char *src = xasprintf("/* start %s 3 */ // %s\nlab_err(lab, \"start %s 3\");\n"
                          "if (!strcmp(role, \"leader\")) x(); if (!strcmp(s, \"leader\")) y();\n"
                          "char c = '\"';\n",
                          a, b, a);
    ck_assert_msg(scan_text("t.c", src, NULL, &out) == 0, "%s", out.s);
    free(src);
    sb_free(&out);
}
END_TEST

START_TEST(no_source_outside_a_mode_folder_names_a_mode)
{
    struct sb out = {0};
    int files = 0, found = 0;
    static const char *const roots[] = {"nodes", "lab", "tui"};
    for (size_t r = 0; r < CL_ARRAY_LEN(roots); r++)
        found += scan_tree(roots[r], &out, &files);
    ck_assert_int_gt(files, 40);
    ck_assert_msg(found == 0, "sources name a mode outside its folder (put it in the mode's face instead):\n%s",
                  out.s);
    sb_free(&out);
}
END_TEST

Suite *suite_modeface(void);
Suite *suite_modeface(void)
{
    Suite *s = suite_create("modeface");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, every_mode_has_a_complete_face, 0, nmodes());
    tcase_add_test(tc, the_lists_lessons_check_against_come_from_the_table);
    tcase_add_loop_test(tc, replicas_are_distinct_nodes_of_the_cluster, 0, nmodes());
    tcase_add_loop_test(tc, a_mode_names_only_roles_and_events_of_its_face, 0, nmodes());
    tcase_add_loop_test(tc, the_dashboard_colours_roles_from_the_cluster_event_alone, 0, nmodes());
    tcase_add_test(tc, the_scan_finds_a_mode_named_outside_its_folder);
    tcase_add_test(tc, no_source_outside_a_mode_folder_names_a_mode);
    suite_add_tcase(s, tc);
    return s;
}
