/* check_lesson — lesson files (every shipped one, and malformed fixtures with their expected
 * errors), the check predicates against a scripted fake lab, the step engine, the solution
 * script, and the progress file (atomic, 0600, corrupt files kept aside). */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lesson.h"
#include "lessoncli.h"
#include "progress.h"
#include "quiz.h"
#include "util.h"

/* ---- a fake lab ------------------------------------------------------------------------ */

struct fake_op {
    const char *f, *key, *value;
    int node;
    unsigned outcome;
    uint64_t seq;
};
struct fake_ev {
    const char *ev;
    int node;
    const char *k, *v;
    uint64_t seq;
};
struct fake_cmd {
    const char *line;
    uint64_t seq;
};
struct fake {
    int n;
    struct fake_cmd cmds[32];
    int ncmds;
    struct lesson_node_info info[CL_MAXNODES];
    const char *vals[CL_MAXNODES][4][2]; /* per node: up to 4 key/value pairs */
    int group[CL_MAXNODES], ngroups;
    struct fake_op ops[32];
    int nops;
    struct fake_ev evs[32];
    int nevs;
    int lin; /* history verdict */
    uint64_t seq;
};

static uint64_t f_mark(void *ud)
{
    return ((struct fake *)ud)->seq;
}
static int f_nodes(void *ud)
{
    return ((struct fake *)ud)->n;
}
static int f_info(void *ud, int node, struct lesson_node_info *out)
{
    struct fake *f = ud;
    if (node >= f->n)
        return CL_ENOENT;
    *out = f->info[node];
    return 0;
}
static int f_value(void *ud, int node, const char *key, char *val, size_t n)
{
    struct fake *f = ud;
    if (strcmp(f->info[node].state, "up"))
        return CL_ESTATE;
    for (int i = 0; i < 4; i++)
        if (f->vals[node][i][0] && !strcmp(f->vals[node][i][0], key)) {
            str_copy(val, f->vals[node][i][1], n);
            return 1;
        }
    return 0;
}
static int f_partition(void *ud, int group[CL_MAXNODES])
{
    struct fake *f = ud;
    memcpy(group, f->group, sizeof f->group);
    return f->ngroups;
}
static int f_ops(void *ud, uint64_t since, const struct lesson_op_query *q)
{
    struct fake *f = ud;
    int k = 0;
    for (int i = 0; i < f->nops; i++) {
        const struct fake_op *o = &f->ops[i];
        if (o->seq < since || (q->f && strcmp(q->f, o->f)) || (q->key && strcmp(q->key, o->key)) ||
            (q->node >= 0 && q->node != o->node) || (q->value && (!o->value ||
            strcmp(q->value, o->value))) || !(q->outcomes & o->outcome))
            continue;
        k++;
    }
    return k;
}
static int f_events(void *ud, uint64_t since, const char *ev, int node, int nf,
                    const char *const *keys, const char *const *vals)
{
    struct fake *f = ud;
    int k = 0;
    for (int i = 0; i < f->nevs; i++) {
        const struct fake_ev *e = &f->evs[i];
        if (e->seq < since || strcmp(e->ev, ev) || (node >= 0 && node != e->node))
            continue;
        bool ok = true;
        for (int j = 0; j < nf; j++)
            ok = ok && e->k && !strcmp(e->k, keys[j]) && !strcmp(e->v, vals[j]);
        k += ok;
    }
    return k;
}
static int f_history(void *ud, const char *checker, const char *const *keys, int nkeys,
                     struct sb *why)
{
    (void)checker;
    (void)keys;
    (void)nkeys;
    struct fake *f = ud;
    if (!f->lin)
        sb_add(why, "read of x returned 1 after the write of 2 completed");
    return f->lin;
}

static int f_commands(void *ud, uint64_t since, const char *words)
{
    struct fake *f = ud;
    int k = 0;
    for (int i = 0; i < f->ncmds; i++) {
        const struct fake_cmd *c = &f->cmds[i];
        size_t n = words ? strlen(words) : 0;
        if (c->seq >= since && (!words || (!strncmp(c->line, words, n) && (!c->line[n] || c->line[n] == ' '))))
            k++;
    }
    return k;
}
static int f_is_command(void *ud, const char *line)
{
    (void)ud;
    static const char *const known[] = {"status", "put", "get", "check", "wait", "isolate", NULL};
    for (int i = 0; known[i]; i++)
        if (!strncmp(line, known[i], strlen(known[i])))
            return 1;
    return 0;
}

static struct fake F;
static const struct lesson_world W = {&F, f_mark, f_nodes, f_info, f_value, f_partition, f_ops,
                                      f_events, f_history, f_commands, f_is_command};

static void fake_reset(int n)
{
    memset(&F, 0, sizeof F);
    F.n = n;
    F.ngroups = 1;
    F.lin = 1;
    F.seq = 1;
    for (int i = 0; i < n; i++) {
        str_copy(F.info[i].state, "up", sizeof F.info[i].state);
        str_copy(F.info[i].role, "follower", sizeof F.info[i].role);
        F.info[i].term = 3;
    }
}

static void fake_op(const char *f, const char *key, const char *value, int node, unsigned outcome)
{
    F.ops[F.nops++] = (struct fake_op){f, key, value, node, outcome, F.seq++};
}

static void fake_ev(const char *ev, int node, const char *k, const char *v)
{
    F.evs[F.nevs++] = (struct fake_ev){ev, node, k, v, F.seq++};
}

/* The student types a lab command. */
static void fake_cmd(const char *line)
{
    F.cmds[F.ncmds++] = (struct fake_cmd){line, F.seq++};
}

/* A check (YAML flow text) parsed for a cluster of `nodes` nodes; caller frees with
 * lcheck_free. */
static struct lesson_check *parse_check_text(const char *check, int nodes)
{
    struct ydoc *d;
    char err[512];
    ck_assert_msg(ydoc_parse(check, strlen(check), "check", NULL, &d, err, sizeof err) == 0, "%s", err);
    struct lcheck_ctx c = {.d = d, .err = err, .errlen = sizeof err, .nodes = nodes,
                           .event_names = "vote|state|drop|fault|apply"};
    struct lesson_check *k = NULL;
    int rc = lcheck_parse(&c, d->root, "check", &k);
    ydoc_free(&d);
    ck_assert_msg(rc == 0, "%s", err);
    return k;
}

static int eval(const char *check, int nodes, char *why, size_t n)
{
    struct lesson_check *k = parse_check_text(check, nodes);
    struct sb b = {0};
    int r = lcheck_eval(k, &W, 0, &b);
    str_copy(why, b.s ? b.s : "", n);
    sb_free(&b);
    lcheck_free(k);
    return r;
}

/* ---- predicates ---------------------------------------------------------------------- */

START_TEST(two_leaders_in_one_term_fail_with_their_names)
{
    fake_reset(5);
    str_copy(F.info[0].role, "leader", 16);
    str_copy(F.info[3].role, "leader", 16);
    F.info[0].term = F.info[3].term = 7;
    char why[512];
    ck_assert_int_eq(eval("{ leaders: { count: 1 } }", 5, why, sizeof why), 0);
    ck_assert_str_eq(why, "expected 1 leader, saw 2 in term 7: n1, n4");
    F.info[3].term = 8;
    ck_assert_int_eq(eval("{ leaders: { count: 1 } }", 5, why, sizeof why), 0);
    ck_assert_str_eq(why, "expected 1 leader, saw 2: n1 (term 7), n4 (term 8)");
    ck_assert_int_eq(eval("{ leaders: { count: 2 } }", 5, why, sizeof why), 1);
    /* a crashed leader does not count */
    str_copy(F.info[0].state, "down", 8);
    ck_assert_int_eq(eval("{ leaders: { count: 1 } }", 5, why, sizeof why), 1);
}
END_TEST

START_TEST(role_and_node_state_report_what_they_saw)
{
    fake_reset(3);
    char why[512];
    ck_assert_int_eq(eval("{ role: { node: n2, is: leader } }", 3, why, sizeof why), 0);
    ck_assert_str_eq(why, "expected n2 to be leader, but it is follower (term 3)");
    str_copy(F.info[1].state, "down", 8);
    ck_assert_int_eq(eval("{ role: { node: n2, is: leader } }", 3, why, sizeof why), 0);
    ck_assert_str_eq(why, "expected n2 to be leader, but it is down");
    ck_assert_int_eq(eval("{ node: { id: n2, state: down } }", 3, why, sizeof why), 1);
    ck_assert_int_eq(eval("{ node: { id: n1, state: paused } }", 3, why, sizeof why), 0);
    ck_assert_str_eq(why, "expected n1 to be paused, but it is up");
    ck_assert_int_eq(eval("{ term: { at_least: 4 } }", 3, why, sizeof why), 0);
    ck_assert_str_eq(why, "expected term at least 4, but the highest, n1 is at term 3");
    F.info[2].term = 5;
    ck_assert_int_eq(eval("{ term: { at_least: 4 } }", 3, why, sizeof why), 1);
}
END_TEST

START_TEST(value_on_all_majority_and_one_node)
{
    fake_reset(3);
    F.vals[0][0][0] = "x"; F.vals[0][0][1] = "2";
    F.vals[1][0][0] = "x"; F.vals[1][0][1] = "2";
    F.vals[2][0][0] = "x"; F.vals[2][0][1] = "1";
    char why[512];
    ck_assert_int_eq(eval("{ value: { key: x, equals: \"2\", on: majority } }", 3, why, sizeof why), 1);
    ck_assert_int_eq(eval("{ value: { key: x, equals: \"2\" } }", 3, why, sizeof why), 0);
    ck_assert_str_eq(why, "expected x = \"2\" on every live node, but n3 holds x = \"1\"");
    ck_assert_int_eq(eval("{ value: { key: x, equals: \"1\", on: n3 } }", 3, why, sizeof why), 1);
    ck_assert_int_eq(eval("{ value: { key: y, absent: true, on: n1 } }", 3, why, sizeof why), 1);
    ck_assert_int_eq(eval("{ value: { key: x, equals: \"1\", on: majority } }", 3, why, sizeof why), 0);
    ck_assert_str_eq(why, "expected x = \"1\" on a majority (2 of 3), found it on 1: n3");
    ck_assert_int_eq(eval("{ converged: { keys: [x] } }", 3, why, sizeof why), 0);
    ck_assert_str_eq(why, "expected every live node to agree on x, but n1 has \"2\" and n3 has \"1\"");
    F.vals[2][0][1] = "2";
    ck_assert_int_eq(eval("{ converged: { keys: [x] } }", 3, why, sizeof why), 1);
}
END_TEST

START_TEST(partition_shapes_are_compared_as_sets)
{
    fake_reset(5);
    char why[512];
    ck_assert_int_eq(eval("{ partitioned: { any: true } }", 5, why, sizeof why), 0);
    ck_assert_str_eq(why, "expected a partition, but the network is whole");
    ck_assert_int_eq(eval("{ not: { partitioned: { any: true } } }", 5, why, sizeof why), 1);
    int g[CL_MAXNODES] = {1, 1, 0, 0, 0};
    memcpy(F.group, g, sizeof g);
    F.ngroups = 2;
    /* the same cut with the groups named in the other order */
    ck_assert_int_eq(eval("{ partitioned: { groups: [[n1, n2], [n3, n4, n5]] } }", 5, why,
                          sizeof why), 1);
    ck_assert_int_eq(eval("{ partitioned: { groups: [[n1], [n2, n3]] } }", 5, why, sizeof why), 0);
    ck_assert_str_eq(why, "expected the network cut into n1 | n2,n3,n4,n5, but the network is "
                          "n3,n4,n5 | n1,n2");
    ck_assert_int_eq(eval("{ partitioned: { isolated: n1 } }", 5, why, sizeof why), 0);
    ck_assert_int_eq(eval("{ not: { partitioned: { any: true } } }", 5, why, sizeof why), 0);
    ck_assert_str_eq(why, "expected not a partition, but it holds");
}
END_TEST

START_TEST(ops_and_events_count_only_after_the_mark)
{
    fake_reset(3);
    fake_op("write", "x", "1", 0, LOP_OK);
    uint64_t mark = F.seq;
    fake_op("read", "x", "1", 2, LOP_OK);
    fake_op("write", "y", "5", 2, LOP_INFO);
    fake_ev("vote", 1, "what", "grant");
    struct lesson_check *k = parse_check_text("{ op: { kind: put, key: x, outcome: ok } }", 3);
    struct sb why = {0};
    ck_assert_int_eq(lcheck_eval(k, &W, 0, &why), 1);
    ck_assert_int_eq(lcheck_eval(k, &W, mark, &why), 0);
    ck_assert_str_eq(why.s, "expected a put of x that succeeded since this step began; saw 0");
    lcheck_free(k);
    sb_free(&why);
    char w[512];
    ck_assert_int_eq(eval("{ op: { kind: get, key: x, via: n3, value: \"1\" } }", 3, w, sizeof w), 1);
    ck_assert_int_eq(eval("{ op: { kind: put, key: y, outcome: [fail, timeout] } }", 3, w,
                          sizeof w), 1);
    ck_assert_int_eq(eval("{ op: { kind: put, key: y, outcome: ok } }", 3, w, sizeof w), 0);
    ck_assert_int_eq(eval("{ event: { ev: vote, where: { what: grant } } }", 3, w, sizeof w), 1);
    ck_assert_int_eq(eval("{ event: { ev: vote, where: { what: grant }, at_least: 2 } }", 3, w,
                          sizeof w), 0);
    ck_assert_str_eq(w, "expected vote event with what=grant since this step began; saw 1 of 2");
}
END_TEST

START_TEST(history_verdicts_and_combinators)
{
    fake_reset(3);
    char why[512];
    ck_assert_int_eq(eval("{ history: { checker: linearizable } }", 3, why, sizeof why), 1);
    F.lin = 0;
    ck_assert_int_eq(eval("{ history: { checker: linearizable } }", 3, why, sizeof why), 0);
    ck_assert_str_eq(why, "expected the history to be linearizable, but it is not: read of x "
                          "returned 1 after the write of 2 completed");
    ck_assert_int_eq(eval("{ history: { checker: linearizable, holds: false } }", 3, why,
                          sizeof why), 1);
    ck_assert_int_eq(eval("{ all: [ { leaders: { count: 0 } }, { role: { node: n1, is: leader } } ] }",
                          3, why, sizeof why), 0);
    ck_assert_str_eq(why, "expected n1 to be leader, but it is follower (term 3)");
    ck_assert_int_eq(eval("{ any: [ { leaders: { count: 1 } }, { node: { id: n1, state: down } } ] }",
                          3, why, sizeof why), 0);
    ck_assert_str_eq(why, "expected 1 leader, saw 0; or expected n1 to be down, but it is up");
    fake_reset(0);
    ck_assert_int_eq(eval("{ leaders: { count: 0 } }", 3, why, sizeof why), 0);
    ck_assert_msg(strstr(why, "no cluster is running"), "%s", why);
}
END_TEST

/* ---- files ------------------------------------------------------------------------------ */

START_TEST(every_shipped_lesson_validates_and_fits_the_course)
{
    struct lesson_catalog cat;
    char err[512];
    ck_assert_int_eq(lesson_catalog_load("lessons", &cat, err, sizeof err), 0);
    for (int i = 0; i < cat.nbad; i++)
        ck_abort_msg("%s", cat.bad[i]);
    ck_assert_int_ge(cat.n, 7);
    static const char *const ids[] = {"fallacies", "cap-minority", "leader-sync-async",
                                      "split-brain", "raft-election", "raft-commit",
                                      "consistency-models"};
    for (size_t i = 0; i < CL_ARRAY_LEN(ids); i++)
        ck_assert_msg(lesson_catalog_find(&cat, ids[i], err, sizeof err), "%s", err);
    for (int i = 0; i < cat.n; i++) {
        const struct lesson *l = cat.l[i];
        ck_assert_msg(l->minutes >= 10 && l->minutes <= 20, "%s: %ld minutes", l->id, l->minutes);
        ck_assert_msg(l->intro && l->finish && l->nrecap > 0 && l->nquiz > 0,
                      "%s: intro, finish, recap and quiz expected", l->id);
        for (int k = 0; k < l->nquiz; k++) { /* the stored answer grades as right */
            const struct quiz_question *q = &l->quiz[k];
            struct sb ans = {0}, fb = {0};
            if (q->kind == QUIZ_NUMERIC)
                sb_printf(&ans, "%.10g", q->answer);
            for (int c = 0; q->kind == QUIZ_CHOICE && c < q->nchoices; c++)
                if (q->choices[c].correct)
                    sb_addc(&ans, (char)('a' + c));
            for (int c = 0; q->kind == QUIZ_ORDER && c < q->nitems; c++)
                sb_printf(&ans, "%c ", 'a' + c);
            ck_assert_msg(quiz_grade(q, NULL, ans.s, &fb) == 1, "%s: %s", q->id, fb.s);
            sb_free(&ans);
            sb_free(&fb);
        }
        for (int s = 0; s < l->nsteps; s++) {
            ck_assert_msg(l->steps[s].nsolution > 0 && l->steps[s].nhints > 0,
                          "%s step %s: solution and hints expected", l->id, l->steps[s].id);
            ck_assert_msg(l->steps[s].ncommands > 0, "%s step %s: no commands to try", l->id,
                          l->steps[s].id);
        }
    }
    lesson_catalog_free(&cat);
}
END_TEST

/* Each fixture's expected error is on its first line ("# expect: …") or in NAME.expect. */
START_TEST(malformed_fixtures_fail_with_their_expected_error)
{
    DIR *dh = opendir("tests/lessons/bad");
    ck_assert_msg(dh != NULL, "run from the source tree");
    struct dirent *de;
    int n = 0;
    char cwd[4096];
    ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
    ck_assert_int_eq(chdir("tests/lessons/bad"), 0);
    while ((de = readdir(dh))) {
        size_t len = strlen(de->d_name);
        if (len < 6 || strcmp(de->d_name + len - 5, ".yaml"))
            continue;
        char expect[512] = "", side[300];
        snprintf(side, sizeof side, "%.*s.expect", (int)(len - 5), de->d_name);
        FILE *f = fopen(side, "r");
        if (!f) {
            f = fopen(de->d_name, "r");
            ck_assert_ptr_nonnull(f);
            char line[512] = "";
            if (fgets(line, sizeof line, f) && !strncmp(line, "# expect: ", 10))
                str_copy(expect, line + 10, sizeof expect);
        } else if (!fgets(expect, sizeof expect, f)) {
            expect[0] = 0;
        }
        fclose(f);
        expect[strcspn(expect, "\n")] = 0;
        ck_assert_msg(expect[0], "%s has no expected error", de->d_name);
        char err[1024] = "";
        int rc;
        if (!strncmp(de->d_name, "quiz-", 5)) {
            struct quiz_bank bank = {0};
            rc = quiz_bank_add_file(&bank, de->d_name, err, sizeof err);
            quiz_bank_free(&bank);
        } else {
            struct lesson *l = NULL;
            rc = lesson_load_file(de->d_name, &l, err, sizeof err);
            lesson_free(&l);
        }
        ck_assert_msg(rc < 0, "%s was accepted", de->d_name);
        ck_assert_msg(strstr(err, expect), "%s:\n  got  %s\n  want %s", de->d_name, err, expect);
        n++;
    }
    closedir(dh);
    ck_assert_int_eq(chdir(cwd), 0);
    ck_assert_int_ge(n, 30);
}
END_TEST

START_TEST(solution_script_runs_each_step_then_checks_it)
{
    struct lesson *l;
    char err[512];
    ck_assert_msg(lesson_load_file("lessons/03-cap-minority.yaml", &l, err, sizeof err) == 0, "%s",
                  err);
    struct sb b = {0};
    lesson_solution_script(l, &b);
    ck_assert_msg(strstr(b.s, "start leaderless 3 seed=202 n=3 w=2 r=2\nlesson-begin cap-minority\n"
                              "# step 1/6: everyone-has-x\nput x 1 cl=all\n"
                              "lesson-check everyone-has-x 30s\n"), "%s", b.s);
    ck_assert_msg(strstr(b.s, "lesson-check judge 30s\nlesson-end\n"), "%s", b.s);
    int checks = 0;
    for (const char *p = b.s; (p = strstr(p, "lesson-check ")); p++)
        checks++;
    ck_assert_int_eq(checks, l->nsteps);
    sb_free(&b);
    lesson_free(&l);
}
END_TEST

START_TEST(unknown_lesson_id_gets_a_suggestion)
{
    struct lesson_catalog cat;
    char err[512];
    ck_assert_int_eq(lesson_catalog_load("lessons", &cat, err, sizeof err), 0);
    ck_assert_ptr_null(lesson_catalog_find(&cat, "raft-elect", err, sizeof err));
    ck_assert_str_eq(err, "unknown lesson \"raft-elect\"; did you mean \"raft-election\"? "
                          "(conlab lesson list)");
    ck_assert_ptr_null(lesson_catalog_find(&cat, "zzzzzzzz\x1b[2J", err, sizeof err));
    ck_assert_msg(strstr(err, "\\e[2J") && !strchr(err, 0x1b), "%s", err);
    lesson_catalog_free(&cat);
    ck_assert_int_eq(lesson_catalog_load("/nonexistent", &cat, err, sizeof err), CL_ENOENT);
}
END_TEST

/* ---- engine ------------------------------------------------------------------------------ */

static const char *const engine_lesson =
    "schema: 1\nid: eng\ntitle: Engine\nlevel: beginner\nminutes: 10\n"
    "cluster: { mode: raft, nodes: 3, seed: 9, options: { speed: \"0.5\" } }\n"
    "intro: Hello.\n"
    "steps:\n"
    "  - id: lead\n    title: Lead\n    text: Get a leader.\n    commands: [wait leader]\n"
    "    check: { all: [ { leaders: { count: 1 } }, { command: wait leader } ] }\n"
    "    hints: [first, second]\n    solution: [wait leader]\n    done: Well done.\n"
    "  - id: cut\n    title: Cut\n    text: Cut n3.\n    commands: [isolate n3]\n"
    "    check: { all: [ { partitioned: { isolated: n3 } }, { command: [isolate, partition] } ] }\n"
    "    solution: [isolate n3]\n"
    "quiz:\n"
    "  - id: q\n    kind: numeric\n    question: Majority of 3?\n    answer: 2\n"
    "    explanation: floor(3/2)+1.\n"
    "recap: [one leader]\nfinish: Bye.\n";

static char tmpdir[64];

static struct progress *temp_progress(void)
{
    str_copy(tmpdir, "/tmp/conlab-lesson-XXXXXX", sizeof tmpdir);
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    setenv("XDG_DATA_HOME", tmpdir, 1);
    char notice[512];
    struct progress *p = progress_load(notice, sizeof notice);
    ck_assert_str_eq(notice, "");
    return p;
}

static void rm_tmp(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
}

START_TEST(engine_advances_by_doing_and_keeps_progress)
{
    struct lesson *l;
    char err[512];
    ck_assert_msg(lesson_parse(engine_lesson, strlen(engine_lesson), "eng.yaml", &l, err,
                               sizeof err) == 0, "%s", err);
    struct sb start = {0};
    lesson_start_command(l, &start);
    ck_assert_str_eq(start.s, "start raft 3 seed=9 speed=0.5");
    sb_free(&start);
    fake_reset(3);
    struct progress *p = temp_progress();
    struct lesson_engine *e = lesson_engine_new(l, &W, p);
    struct sb out = {0};
    /* the introduction first: the REPL shows it with step 1; nothing is checked yet */
    ck_assert_int_eq(lesson_engine_phase(e), LESSON_INTRO);
    lesson_engine_render(e, &out);
    ck_assert_msg(strstr(out.s, "Hello.") && strstr(out.s, "Step 1 of 2: Lead") &&
                  strstr(out.s, "    wait leader"), "%s", out.s);
    sb_free(&out);
    lesson_engine_pane(e, &out);
    ck_assert_msg(strstr(out.s, "Hello.") && !strstr(out.s, "Step 1 of 2"), "%s", out.s);
    sb_free(&out);
    ck_assert_int_eq(lesson_engine_poll(e, &out), LESSON_IDLE);
    /* the first lab command opens step 1, and counts for it */
    ck_assert(lesson_engine_begin_steps(e));
    ck_assert(!lesson_engine_begin_steps(e));
    ck_assert_int_eq(lesson_engine_phase(e), LESSON_IN_STEP);
    /* not yet: no leader; `next` refuses and says why */
    ck_assert_int_eq(lesson_engine_poll(e, &out), LESSON_PENDING);
    ck_assert_str_eq(out.s, "expected 1 leader, saw 0");
    sb_free(&out);
    ck_assert_int_eq(lesson_engine_next(e, &out), CL_ESTATE);
    ck_assert_msg(strstr(out.s, "Step 1 is not done yet: expected 1 leader, saw 0."), "%s", out.s);
    sb_free(&out);
    /* hints are progressive and the last one repeats */
    ck_assert_int_eq(lesson_engine_hint(e, &out), 1);
    ck_assert_int_eq(lesson_engine_hint(e, &out), 2);
    ck_assert_int_eq(lesson_engine_hint(e, &out), 2);
    ck_assert_msg(strstr(out.s, "Hint 1/2: first") && strstr(out.s, "Hint 2/2: second") &&
                  strstr(out.s, "That was the last hint"), "%s", out.s);
    sb_free(&out);
    /* the leader alone is not the step: the student has not done it yet */
    str_copy(F.info[1].role, "leader", 16);
    ck_assert_int_eq(lesson_engine_poll(e, &out), LESSON_PENDING);
    ck_assert_str_eq(out.s, "waiting for you to run `wait leader`");
    sb_free(&out);
    fake_cmd("wait leader");
    ck_assert_int_eq(lesson_engine_poll(e, &out), LESSON_PASSED);
    ck_assert_msg(strstr(out.s, "Step 1 done: Lead\nWell done.") && strstr(out.s, "Step 2 of 2: Cut"),
                  "%s", out.s);
    sb_free(&out);
    ck_assert_int_eq(lesson_engine_step(e), 1);
    ck_assert_str_eq(progress_step_status(p, "eng", "lead"), "done");
    ck_assert_int_eq(progress_step_hints(p, "eng", "lead"), 2);
    /* the new step's pane: the one that passed, then this one, waiting (not "passed") */
    lesson_engine_pane(e, &out);
    ck_assert_msg(strstr(out.s, "Done: step 1 (Lead)") && strstr(out.s, "Step 2 of 2: Cut"), "%s", out.s);
    sb_free(&out);
    lesson_engine_check_line(e, &out);
    ck_assert_str_eq(out.s, "waiting for you: do the step");
    sb_free(&out);
    /* back re-arms step 1; having passed, it says so, and next moves on */
    ck_assert_int_eq(lesson_engine_back(e, &out), 0);
    ck_assert_int_eq(lesson_engine_step(e), 0);
    sb_free(&out);
    lesson_engine_check_line(e, &out);
    ck_assert_str_eq(out.s, "passed: type `next` to go on");
    sb_free(&out);
    ck_assert_int_eq(lesson_engine_next(e, &out), 0);
    ck_assert_int_eq(lesson_engine_step(e), 1);
    sb_free(&out);
    /* skip step 2: recorded; the quiz is offered, not started */
    ck_assert_int_eq(lesson_engine_skip(e, &out), 0);
    ck_assert_msg(strstr(out.s, "    isolate n3") && strstr(out.s, "type `quiz`"), "%s", out.s);
    sb_free(&out);
    ck_assert_int_eq(lesson_engine_phase(e), LESSON_QUIZ_READY);
    ck_assert_str_eq(progress_step_status(p, "eng", "cut"), "skipped");
    ck_assert_int_eq(lesson_engine_poll(e, &out), LESSON_IDLE);
    ck_assert_int_eq(lesson_engine_command(e, "2", &out), LESSON_CMD_NONE); /* not an answer yet */
    ck_assert_int_eq(lesson_engine_command(e, "quiz", &out), LESSON_CMD_HANDLED);
    ck_assert_msg(strstr(out.s, "Quiz 1 of 1") && strstr(out.s, "Majority of 3?"), "%s", out.s);
    sb_free(&out);
    ck_assert_int_eq(lesson_engine_answer(e, "two", &out), CL_EINVAL);
    ck_assert_msg(strstr(out.s, "is not a number"), "%s", out.s);
    sb_free(&out);
    ck_assert_int_eq(lesson_engine_answer(e, "2", &out), 1);
    ck_assert_msg(strstr(out.s, "Right.") && strstr(out.s, "Lesson complete") &&
                  strstr(out.s, "Quiz: 1 of 1 right.") && strstr(out.s, "  - one leader"),
                  "%s", out.s);
    sb_free(&out);
    ck_assert_int_eq(lesson_engine_phase(e), LESSON_FINISHED);
    /* a skipped step means the lesson is not done */
    ck_assert(!progress_lesson_done(p, "eng"));
    lesson_engine_free(&e);
    progress_free(&p);

    /* the saved file says the same, and restart + a real pass completes the lesson */
    char notice[512];
    p = progress_load(notice, sizeof notice);
    ck_assert_str_eq(notice, "");
    ck_assert_str_eq(progress_step_status(p, "eng", "lead"), "done");
    e = lesson_engine_new(l, &W, p);
    lesson_engine_restart(e, &out);
    ck_assert_int_eq(lesson_engine_phase(e), LESSON_INTRO);
    sb_free(&out);
    ck_assert_int_eq(lesson_engine_next(e, &out), 0);
    sb_free(&out);
    /* what was typed before the step opened does not count */
    ck_assert_int_eq(lesson_engine_poll(e, &out), LESSON_PENDING);
    sb_free(&out);
    fake_cmd("wait leader 5s");
    ck_assert_int_eq(lesson_engine_poll(e, &out), LESSON_PASSED);
    sb_free(&out);
    F.ngroups = 2;
    F.group[2] = 1;
    ck_assert_int_eq(lesson_engine_poll(e, &out), LESSON_PENDING); /* partitioned, not by you */
    sb_free(&out);
    fake_cmd("partition n3 | n1,n2");
    ck_assert_int_eq(lesson_engine_poll(e, &out), LESSON_PASSED);
    sb_free(&out);
    ck_assert_int_eq(lesson_engine_quiz(e, &out), 0);
    sb_free(&out);
    ck_assert_int_eq(lesson_engine_answer(e, "3", &out), 0);
    ck_assert_msg(strstr(out.s, "Not quite. The answer is 2.") && strstr(out.s, "floor(3/2)+1."),
                  "%s", out.s);
    sb_free(&out);
    ck_assert(progress_lesson_done(p, "eng"));
    lesson_engine_free(&e);
    progress_free(&p);
    p = progress_load(notice, sizeof notice);
    ck_assert(progress_lesson_done(p, "eng"));
    ck_assert_int_eq(progress_lesson_answer(p, "eng", "q"), 0); /* the last answer, 3, was wrong */
    ck_assert_int_eq(progress_lesson_answer(p, "eng", "nope"), -1);
    progress_free(&p);
    lesson_free(&l);
    rm_tmp();
}
END_TEST

START_TEST(slow_step_suggests_a_hint_once)
{
    const char *doc =
        "schema: 1\nid: slow\ntitle: S\nlevel: beginner\nminutes: 10\ncluster: { mode: raft, nodes: 3 }\n"
        "steps:\n  - id: a\n    title: A\n    text: T\n"
        "    check: { all: [ { leaders: { count: 1 } }, { command: wait leader } ] }\n"
        "    timeout: 100ms\n    hints: [h]\n    solution: [wait leader]\n";
    struct lesson *l;
    char err[512];
    ck_assert_msg(lesson_parse(doc, strlen(doc), "s.yaml", &l, err, sizeof err) == 0, "%s", err);
    fake_reset(3);
    struct lesson_engine *e = lesson_engine_new(l, &W, NULL);
    ck_assert_int_eq(lesson_engine_phase(e), LESSON_IN_STEP); /* no introduction: step 1 */
    struct sb out = {0};
    usleep(150 * 1000);
    ck_assert_int_eq(lesson_engine_poll(e, &out), LESSON_SLOW);
    ck_assert_msg(strstr(out.s, "Not there yet: expected 1 leader, saw 0.") &&
                  strstr(out.s, "Type `hint`"), "%s", out.s);
    sb_free(&out);
    lesson_engine_check_line(e, &out);
    ck_assert_str_eq(out.s, "not yet: expected 1 leader, saw 0 (`hint` for a clue)");
    sb_free(&out);
    ck_assert_int_eq(lesson_engine_poll(e, &out), LESSON_PENDING);
    sb_free(&out);
    lesson_engine_free(&e);
    lesson_free(&l);
}
END_TEST

START_TEST(repl_words_are_routed_to_the_engine_or_the_lab)
{
    struct lesson *l;
    char err[512];
    ck_assert_msg(lesson_parse(engine_lesson, strlen(engine_lesson), "eng.yaml", &l, err,
                               sizeof err) == 0, "%s", err);
    fake_reset(3);
    struct lesson_engine *e = lesson_engine_new(l, &W, NULL);
    struct sb out = {0};
    ck_assert_int_eq(lesson_engine_command(e, "restart n1", &out), LESSON_CMD_NONE);
    ck_assert_int_eq(lesson_engine_command(e, "status", &out), LESSON_CMD_NONE);
    ck_assert_int_eq(lesson_engine_command(e, "check linearizable", &out), LESSON_CMD_NONE);
    ck_assert_int_eq(lesson_engine_command(e, "   ", &out), LESSON_CMD_NONE);
    ck_assert_int_eq(lesson_engine_command(e, "lesson list", &out), LESSON_CMD_NONE); /* the lab's */
    ck_assert_int_eq(lesson_engine_command(e, "lesson raft-election", &out), LESSON_CMD_NONE);
    ck_assert_ptr_null(out.s);
    ck_assert_int_eq(lesson_engine_command(e, "next", &out), LESSON_CMD_HANDLED); /* the intro */
    sb_free(&out);
    ck_assert_int_eq(lesson_engine_command(e, "hint", &out), LESSON_CMD_HANDLED);
    ck_assert_msg(strstr(out.s, "Hint 1/2: first"), "%s", out.s);
    sb_free(&out);
    lesson_engine_status_line(e, &out);
    ck_assert_str_eq(out.s, "eng · step 1 of 2 · hints 1/2");
    sb_free(&out);
    ck_assert_int_eq(lesson_engine_command(e, "lesson check", &out), LESSON_CMD_HANDLED);
    ck_assert_str_eq(out.s, "Not yet: expected 1 leader, saw 0.\n");
    sb_free(&out);
    ck_assert_int_eq(lesson_engine_command(e, "quiz", &out), LESSON_CMD_HANDLED);
    ck_assert_msg(strstr(out.s, "The quiz comes after the last step"), "%s", out.s);
    sb_free(&out);
    ck_assert_int_eq(lesson_engine_command(e, "restart", &out), LESSON_CMD_RESTART);
    sb_free(&out);
    ck_assert_int_eq(lesson_engine_command(e, "lesson skip", &out), LESSON_CMD_HANDLED); /* intro */
    sb_free(&out);
    ck_assert_int_eq(lesson_engine_command(e, "lesson skip", &out), LESSON_CMD_HANDLED);
    sb_free(&out);
    ck_assert_int_eq(lesson_engine_command(e, "lesson skip", &out), LESSON_CMD_HANDLED);
    sb_free(&out);
    ck_assert_int_eq(lesson_engine_phase(e), LESSON_QUIZ_READY);
    lesson_engine_status_line(e, &out);
    ck_assert_str_eq(out.s, "eng · steps done · quiz waiting");
    sb_free(&out);
    ck_assert_int_eq(lesson_engine_command(e, "quiz", &out), LESSON_CMD_HANDLED);
    sb_free(&out);
    /* in the quiz, a lab command is still a lab command; anything else is an answer */
    ck_assert_int_eq(lesson_engine_phase(e), LESSON_IN_QUIZ);
    ck_assert_int_eq(lesson_engine_command(e, "wait leader", &out), LESSON_CMD_NONE);
    ck_assert_int_eq(lesson_engine_command(e, "get x", &out), LESSON_CMD_NONE);
    ck_assert_int_eq(lesson_engine_command(e, "check linearizable", &out), LESSON_CMD_NONE);
    ck_assert_ptr_null(out.s);
    ck_assert_int_eq(lesson_engine_phase(e), LESSON_IN_QUIZ);
    ck_assert_int_eq(lesson_engine_command(e, "two", &out), LESSON_CMD_HANDLED);
    ck_assert_msg(strstr(out.s, "is not a number"), "%s", out.s);
    sb_free(&out);
    lesson_engine_status_line(e, &out);
    ck_assert_str_eq(out.s, "eng · quiz 1 of 1");
    sb_free(&out);
    ck_assert_int_eq(lesson_engine_command(e, "2", &out), LESSON_CMD_HANDLED);
    ck_assert_int_eq(lesson_engine_phase(e), LESSON_FINISHED);
    sb_free(&out);
    lesson_engine_status_line(e, &out);
    ck_assert_str_eq(out.s, "eng · complete");
    sb_free(&out);
    ck_assert_int_eq(lesson_engine_command(e, "lesson quit", &out), LESSON_CMD_QUIT);
    ck_assert_msg(strstr(out.s, "Left the lesson eng"), "%s", out.s);
    sb_free(&out);
    lesson_engine_free(&e);
    lesson_free(&l);
}
END_TEST

/* A step waits for the student: a check made of state alone already holds when its step opens
 * (the cluster had a leader before the student typed anything), so the loader refuses it. */
START_TEST(a_check_of_state_alone_is_refused_because_it_holds_when_the_step_opens)
{
    static const char *const refused[] = {
        "{ leaders: { count: 1 } }",
        "{ not: { op: { kind: put, key: x } } }",
        "{ any: [ { op: { kind: put, key: x } }, { leaders: { count: 1 } } ] }",
        "{ all: [ { value: { key: x, equals: \"1\" } }, { history: { checker: linearizable } } ] }",
    };
    static const char *const accepted[] = {
        "{ all: [ { leaders: { count: 1 } }, { command: status } ] }",
        "{ op: { kind: put, key: x } }",
        "{ all: [ { value: { key: x, equals: \"1\" } }, { event: { ev: apply } } ] }",
        "{ any: [ { command: [status, wait leader] }, { op: { kind: get } } ] }",
    };
    for (int i = 0; i < 8; i++) {
        const char *check = i < 4 ? refused[i] : accepted[i - 4];
        char buf[1024], err[512];
        snprintf(buf, sizeof buf, "schema: 1\nid: t\ntitle: T\nlevel: beginner\nminutes: 10\n"
                 "cluster: { mode: raft, nodes: 3 }\nsteps:\n  - id: s1\n    title: S1\n"
                 "    text: Do.\n    check: %s\n    solution: [status]\n", check);
        struct lesson *l = NULL;
        int rc = lesson_parse(buf, strlen(buf), "t.yaml", &l, err, sizeof err);
        if (i < 4) {
            ck_assert_msg(rc < 0, "accepted: %s", check);
            ck_assert_msg(strstr(err, "t.yaml:11:12: step \"s1\" check: nothing in it waits for "
                                      "the student"), "%s", err);
        } else {
            ck_assert_msg(rc == 0, "%s: %s", check, err);
        }
        lesson_free(&l);
    }
}
END_TEST

START_TEST(command_predicate_counts_whole_words_typed_since_the_mark)
{
    fake_reset(3);
    fake_cmd("status");
    uint64_t mark = F.seq;
    fake_cmd("check linearizable x");
    fake_cmd("wait   leader");
    struct lesson_check *k = parse_check_text("{ command: \"check  linearizable\" }", 3);
    struct sb why = {0};
    ck_assert_int_eq(lcheck_eval(k, &W, mark, &why), 1);
    lcheck_free(k);
    k = parse_check_text("{ command: \"check lin\" }", 3); /* words, not letters */
    ck_assert_int_eq(lcheck_eval(k, &W, mark, &why), 0);
    ck_assert_str_eq(why.s, "waiting for you to run `check lin`");
    lcheck_free(k);
    sb_free(&why);
    k = parse_check_text("{ command: [status, help] }", 3); /* status came before the mark */
    ck_assert_int_eq(lcheck_eval(k, &W, mark, &why), 0);
    ck_assert_str_eq(why.s, "waiting for you to run `status` or `help`");
    ck_assert_int_eq(lcheck_eval(k, &W, 0, &why), 1);
    struct sb d = {0};
    lcheck_describe(k, &d);
    ck_assert_str_eq(d.s, "you ran `status` or `help`");
    sb_free(&d);
    lcheck_free(k);
    sb_free(&why);
}
END_TEST

START_TEST(the_course_names_the_next_lesson_and_finishes_only_when_all_are_done)
{
    struct lesson_catalog cat;
    char err[512];
    ck_assert_int_eq(lesson_catalog_load("lessons", &cat, err, sizeof err), 0);
    struct progress *p = progress_load_path(NULL, err, sizeof err);
    ck_assert_str_eq(lesson_catalog_next(&cat, p, NULL)->id, "welcome");
    for (int i = 0; i < cat.n - 1; i++)
        progress_lesson_set_done(p, cat.l[i]->id, true);
    ck_assert_str_eq(lesson_catalog_next(&cat, p, NULL)->id, cat.l[cat.n - 1]->id);
    ck_assert_ptr_null(lesson_catalog_next(&cat, p, cat.l[cat.n - 1]->id));
    progress_lesson_set_done(p, cat.l[cat.n - 1]->id, true);
    ck_assert_ptr_null(lesson_catalog_next(&cat, p, NULL)); /* the whole course is done */
    struct sb t = {0};
    lesson_catalog_table(&cat, p, &t);
    ck_assert_msg(strstr(t.s, "ID ") && strstr(t.s, "welcome ") && strstr(t.s, " done "), "%s", t.s);
    sb_free(&t);
    progress_free(&p);
    lesson_catalog_free(&cat);
}
END_TEST

/* ---- progress file ---------------------------------------------------------------------- */

START_TEST(corrupt_progress_is_kept_aside_and_a_fresh_one_started)
{
    struct progress *p = temp_progress();
    progress_lesson_set_step(p, "x", 2);
    char err[512];
    ck_assert_int_eq(progress_save(p, err, sizeof err), 0);
    progress_free(&p);
    char path[300];
    snprintf(path, sizeof path, "%s/conlab/progress.json", tmpdir);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0600);
    FILE *f = fopen(path, "w");
    fputs("{\"version\":1,\"lessons\":{\"x\":{\"step\":\"two\"}}", f);
    fclose(f);
    char notice[1024];
    p = progress_load(notice, sizeof notice);
    ck_assert_msg(strstr(notice, "was unreadable") && strstr(notice, "kept it as") &&
                  strstr(notice, "progress.json.corrupt-") && strstr(notice, "started a fresh one"),
                  "%s", notice);
    ck_assert_int_eq(progress_lesson_step(p, "x"), 0);
    ck_assert_int_eq(stat(path, &st), -1); /* moved aside */
    ck_assert_int_eq(progress_save(p, err, sizeof err), 0);
    progress_free(&p);
    /* wrong types are corruption too, not a crash */
    f = fopen(path, "w");
    fputs("{\"version\":1,\"lessons\":{\"x\":{\"step\":\"two\"}},\"quiz\":{\"sessions\":0,\"cards\":{}}}", f);
    fclose(f);
    p = progress_load(notice, sizeof notice);
    ck_assert_msg(strstr(notice, "wrong type"), "%s", notice);
    progress_free(&p);
    rm_tmp();
}
END_TEST

START_TEST(relative_xdg_data_home_is_ignored)
{
    char path[4096];
    setenv("XDG_DATA_HOME", "relative/dir", 1);
    setenv("HOME", "/home/someone", 1);
    ck_assert_int_eq(progress_path(path, sizeof path), 0);
    ck_assert_str_eq(path, "/home/someone/.local/share/conlab/progress.json");
    setenv("XDG_DATA_HOME", "/data", 1);
    ck_assert_int_eq(progress_path(path, sizeof path), 0);
    ck_assert_str_eq(path, "/data/conlab/progress.json");
    unsetenv("XDG_DATA_HOME");
    unsetenv("HOME");
    ck_assert_int_eq(progress_path(path, sizeof path), CL_ENOENT);
    char notice[256];
    struct progress *p = progress_load(notice, sizeof notice);
    ck_assert_msg(strstr(notice, "progress will not be kept"), "%s", notice);
    progress_lesson_set_step(p, "a", 1);
    char err[128];
    ck_assert_int_eq(progress_save(p, err, sizeof err), 0); /* memory only: a no-op */
    progress_free(&p);
}
END_TEST

/* docs/lessons.md's whole example is a valid lesson, and docs/quizzes.md's format block a
 * valid quiz file: the documentation cannot drift from the loader. */
static char *doc_block(const char *path, const char *fence)
{
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    struct sb all = {0};
    char line[1024];
    while (fgets(line, sizeof line, f))
        sb_add(&all, line);
    fclose(f);
    const char *a = strstr(all.s, fence);
    ck_assert_ptr_nonnull(a);
    a += strlen(fence);
    const char *b = strstr(a, "```");
    ck_assert_ptr_nonnull(b);
    char *block = xstrndup(a, (size_t)(b - a));
    sb_free(&all);
    return block;
}

START_TEST(documented_examples_load)
{
    char *doc = doc_block("docs/lessons.md", "## A whole example\n\n```yaml\n");
    struct lesson *l;
    char err[512];
    ck_assert_msg(lesson_parse(doc, strlen(doc), "docs/lessons.md", &l, err, sizeof err) == 0,
                  "%s", err);
    ck_assert_int_eq(l->nsteps, 2);
    ck_assert_int_eq(l->nquiz, 1);
    ck_assert_int_eq(l->ndemo, 4);
    lesson_free(&l);
    free(doc);
    doc = doc_block("docs/quizzes.md", "## Format\n\n```yaml\n");
    char path[] = "/tmp/conlab-doc-quiz-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, doc, strlen(doc)), (ssize_t)strlen(doc));
    close(fd);
    struct quiz_bank bank = {0};
    ck_assert_msg(quiz_bank_add_file(&bank, path, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(bank.n, 4);
    quiz_bank_free(&bank);
    unlink(path);
    free(doc);
}
END_TEST

/* Runs fn with stdout and stderr captured into a string (caller frees). */
static char *captured(int (*fn)(int, char **), int argc, char **argv, int *rc)
{
    char path[] = "/tmp/conlab-cli-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    fflush(stdout);
    fflush(stderr);
    int o = dup(1), e = dup(2);
    dup2(fd, 1);
    dup2(fd, 2);
    *rc = fn(argc, argv);
    fflush(stdout);
    fflush(stderr);
    dup2(o, 1);
    dup2(e, 2);
    close(o);
    close(e);
    off_t len = lseek(fd, 0, SEEK_END);
    char *buf = xcalloc((size_t)len + 1, 1);
    ck_assert_int_eq(pread(fd, buf, (size_t)len, 0), len);
    close(fd);
    unlink(path);
    return buf;
}

START_TEST(cli_lists_validates_and_refuses_unknown_ids)
{
    setenv("CONLAB_LESSONS", "lessons", 1);
    struct progress *p = temp_progress();
    progress_lesson_set_done(p, "fallacies", true);
    progress_step_set_status(p, "cap-minority", "everyone-has-x", "done");
    char err[256];
    ck_assert_int_eq(progress_save(p, err, sizeof err), 0);
    progress_free(&p);
    int rc;
    char *argv1[] = {(char *)"lesson", (char *)"list", NULL};
    char *out = captured(lessoncli_main, 2, argv1, &rc);
    ck_assert_int_eq(rc, 0);
    ck_assert_msg(strstr(out, "fallacies") && strstr(out, "beginner") && strstr(out, " done "),
                  "%s", out);
    ck_assert_msg(strstr(out, " 1/6 "), "%s", out);
    free(out);
    char *argv2[] = {(char *)"lesson", (char *)"validate", (char *)"lessons/02-fallacies.yaml", (char *)"lessons/quiz/raft.yaml",
                     (char *)"tests/lessons/bad/alias.yaml", NULL};
    out = captured(lessoncli_main, 5, argv2, &rc);
    ck_assert_int_eq(rc, 1);
    ck_assert_msg(strstr(out, "lessons/02-fallacies.yaml: ok (lesson fallacies, 6 steps"), "%s", out);
    ck_assert_msg(strstr(out, "lessons/quiz/raft.yaml: ok (quiz, 14 questions)"), "%s", out);
    ck_assert_msg(strstr(out, "tests/lessons/bad/alias.yaml:2:8: anchor &t"), "%s", out);
    free(out);
    char *argv3[] = {(char *)"lesson", (char *)"show", (char *)"raft-electon", NULL};
    out = captured(lessoncli_main, 3, argv3, &rc);
    ck_assert_int_eq(rc, 2);
    ck_assert_msg(strstr(out, "unknown lesson \"raft-electon\"; did you mean \"raft-election\"?"),
                  "%s", out);
    free(out);
    char *argv4[] = {(char *)"lesson", (char *)"script", (char *)"raft-election", NULL};
    out = captured(lessoncli_main, 3, argv4, &rc);
    ck_assert_int_eq(rc, 0);
    ck_assert_msg(!strncmp(out, "# lesson raft-election", 22) && strstr(out, "lesson-end\n"), "%s",
                  out);
    free(out);
    struct lesson *l;
    ck_assert_int_eq(lesson_load_id("raft-commit", &l, err, sizeof err), 0);
    ck_assert_str_eq(l->mode, "raft");
    lesson_free(&l);
    ck_assert_int_eq(lesson_load_id("raft-comit", &l, err, sizeof err), CL_ENOENT);
    ck_assert_msg(strstr(err, "did you mean \"raft-commit\"?"), "%s", err);
    /* a lesson whose file is broken: its own error, and the other lessons still load */
    char dir[] = "/tmp/conlab-lessons-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/01-broken.yaml", dir);
    FILE *f = fopen(path, "w");
    fputs("schema: 1\nid: broken\nid: again\n", f);
    fclose(f);
    setenv("CONLAB_LESSONS", dir, 1);
    ck_assert_int_eq(lesson_load_id("broken", &l, err, sizeof err), CL_EINVAL);
    ck_assert_msg(strstr(err, "01-broken.yaml:3:1: duplicate key \"id\""), "%s", err);
    unlink(path);
    /* a symlink out of the lessons directory is refused, a lesson beside it still loads */
    char link[128];
    snprintf(link, sizeof link, "%s/02-escape.yaml", dir);
    ck_assert_int_eq(symlink("/etc/passwd", link), 0);
    snprintf(path, sizeof path, "%s/03-ok.yaml", dir);
    f = fopen(path, "w");
    fputs("schema: 1\nid: ok\ntitle: T\nlevel: beginner\nminutes: 10\n"
          "cluster: { mode: raft, nodes: 3 }\nsteps:\n  - id: a\n    title: A\n    text: T\n"
          "    check: { command: wait leader }\n    solution: [wait leader]\n", f);
    fclose(f);
    struct lesson_catalog cat;
    ck_assert_int_eq(lesson_catalog_load(dir, &cat, err, sizeof err), 0);
    ck_assert_int_eq(cat.n, 1);
    ck_assert_int_eq(cat.nbad, 1);
    ck_assert_msg(strstr(cat.bad[0], "02-escape.yaml: not a file inside the lessons directory"),
                  "%s", cat.bad[0]);
    lesson_catalog_free(&cat);
    unlink(link);
    unlink(path);
    rmdir(dir);
    setenv("CONLAB_LESSONS", "lessons", 1);
    char *argv5[] = {(char *)"quiz", (char *)"-n", (char *)"zero", NULL};
    out = captured(quizcli_main, 3, argv5, &rc);
    ck_assert_int_eq(rc, 2);
    ck_assert_msg(strstr(out, "-n needs a number from 1 to 1000"), "%s", out);
    free(out);
    unsetenv("CONLAB_LESSONS");
    rm_tmp();
}
END_TEST

Suite *suite_lesson(void);
Suite *suite_lesson(void)
{
    Suite *s = suite_create("lesson");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, two_leaders_in_one_term_fail_with_their_names);
    tcase_add_test(tc, role_and_node_state_report_what_they_saw);
    tcase_add_test(tc, value_on_all_majority_and_one_node);
    tcase_add_test(tc, partition_shapes_are_compared_as_sets);
    tcase_add_test(tc, ops_and_events_count_only_after_the_mark);
    tcase_add_test(tc, history_verdicts_and_combinators);
    tcase_add_test(tc, every_shipped_lesson_validates_and_fits_the_course);
    tcase_add_test(tc, malformed_fixtures_fail_with_their_expected_error);
    tcase_add_test(tc, solution_script_runs_each_step_then_checks_it);
    tcase_add_test(tc, unknown_lesson_id_gets_a_suggestion);
    tcase_add_test(tc, engine_advances_by_doing_and_keeps_progress);
    tcase_add_test(tc, slow_step_suggests_a_hint_once);
    tcase_add_test(tc, repl_words_are_routed_to_the_engine_or_the_lab);
    tcase_add_test(tc, a_check_of_state_alone_is_refused_because_it_holds_when_the_step_opens);
    tcase_add_test(tc, command_predicate_counts_whole_words_typed_since_the_mark);
    tcase_add_test(tc, the_course_names_the_next_lesson_and_finishes_only_when_all_are_done);
    tcase_add_test(tc, corrupt_progress_is_kept_aside_and_a_fresh_one_started);
    tcase_add_test(tc, relative_xdg_data_home_is_ignored);
    tcase_add_test(tc, documented_examples_load);
    tcase_add_test(tc, cli_lists_validates_and_refuses_unknown_ids);
    suite_add_tcase(s, tc);
    return s;
}
