/* check_fixture — the test fixture itself (tests/fixture.h): its linearizability check rejects a
 * stale read and accepts the same read overlapping the write; its clients follow redirects or,
 * direct, report the refusal; every invoke gets one completion in the recorder; and every mode's
 * commands come with an example their own table accepts (what `help` shows must work). */
#include <check.h>
#include <string.h>

#include "fixture.h"
#include "mode.h"
#include "recorder.h"

extern const struct mode mode_raft;

#define ET 150000ull

static void add_record(struct fixture *f, const char *json)
{
    json_t *r = json_loads(json, 0, NULL);
    ck_assert_ptr_nonnull(r);
    json_array_append(f->history, recorder_add(&f->rec, r));
}

START_TEST(linearizability_check_rejects_a_stale_read)
{
    /* w1 ok, then w2 ok, then a read of w1's value */
    const char *rows[] = {
        "{\"process\":0,\"type\":\"invoke\",\"f\":\"write\",\"key\":\"x\",\"value\":\"1\",\"time\":1}",
        "{\"process\":0,\"type\":\"ok\",\"f\":\"write\",\"key\":\"x\",\"value\":\"1\",\"time\":2}",
        "{\"process\":1,\"type\":\"invoke\",\"f\":\"write\",\"key\":\"x\",\"value\":\"2\",\"time\":3}",
        "{\"process\":1,\"type\":\"ok\",\"f\":\"write\",\"key\":\"x\",\"value\":\"2\",\"time\":4}",
        "{\"process\":2,\"type\":\"invoke\",\"f\":\"read\",\"key\":\"x\",\"value\":null,\"time\":5}",
        "{\"process\":2,\"type\":\"ok\",\"f\":\"read\",\"key\":\"x\",\"value\":\"1\",\"time\":6}",
    };
    struct fixture *f = fixture_new(&mode_raft, 3, NULL, 1);
    for (size_t i = 0; i < CL_ARRAY_LEN(rows); i++)
        add_record(f, rows[i]);
    char why[4096];
    ck_assert_int_eq(fixture_linearizable(f, why, sizeof why), 0);
    ck_assert_msg(strstr(why, "NOT linearizable") && strstr(why, "x"), "%s", why);
    fixture_free(&f);
    /* the same read overlapping w2 is fine */
    f = fixture_new(&mode_raft, 3, NULL, 1);
    const int order[] = {0, 1, 2, 4, 3, 5};
    for (size_t i = 0; i < CL_ARRAY_LEN(order); i++)
        add_record(f, rows[order[i]]);
    ck_assert_msg(fixture_linearizable(f, why, sizeof why), "%s", why);
    fixture_free(&f);
}
END_TEST

static int leader_of(struct fixture *f)
{
    for (int i = 0; i < f->n; i++) {
        json_t *st = sim_status(f->s, i);
        const char *role = json_string_value(json_object_get(st, "role"));
        int yes = role && !strcmp(role, "leader");
        json_decref(st);
        if (yes)
            return i;
    }
    return -1;
}

static int has_leader(void *ud)
{
    return leader_of(ud) >= 0;
}

START_TEST(clients_follow_redirects_unless_direct)
{
    struct fixture *f = fixture_new(&mode_raft, 3, NULL, 3);
    ck_assert(fixture_run_until(f, 20 * ET, has_leader, f));
    int l = leader_of(f), fo = (l + 1) % 3;
    /* following: the write sent to a follower is redirected and lands on the leader */
    int p = fixture_invoke(f, fo, "write", "x", "1", NULL);
    ck_assert_int_eq(fixture_await(f, p, 10 * ET), SIMOP_OK);
    /* direct: the refusal is the outcome, a definite failure naming the leader */
    fixture_direct(f, 1);
    p = fixture_invoke(f, fo, "write", "x", "2", NULL);
    ck_assert_int_eq(fixture_await(f, p, 10 * ET), SIMOP_FAIL);
    ck_assert_int_eq(simclient_code(f->c, p), 11);
    char lid[CL_IDLEN];
    node_name(l, lid);
    ck_assert_str_eq(json_string_value(json_object_get(simclient_reply(f->c, p), "leader")), lid);
    /* a request nobody answers ends as info at the deadline await sets */
    sim_pause(f->s, l);
    p = fixture_invoke(f, l, "read", "x", NULL, NULL);
    ck_assert_int_eq(fixture_await(f, p, ET), SIMOP_INFO);
    ck_assert_ptr_null(simclient_reply(f->c, p));
    /* every invoke has exactly one completion, in order, with the fields the checkers read */
    ck_assert_int_eq(json_array_size(f->history), 6);
    for (size_t i = 0; i < json_array_size(f->history); i++) {
        const json_t *r = json_array_get(f->history, i);
        ck_assert_int_eq(json_integer_value(json_object_get(r, "index")), (int)i);
        ck_assert_str_eq(json_string_value(json_object_get(r, "type")), i % 2 ? (i == 5 ? "info" : i == 3 ? "fail" : "ok") : "invoke");
        ck_assert_ptr_nonnull(json_object_get(r, "time"));
        ck_assert_ptr_nonnull(json_object_get(r, "node"));
    }
    FIXTURE_OK(f);
    fixture_free(&f);
}
END_TEST

START_TEST(every_mode_command_example_fits_its_usage)
{
    for (int i = 0; mode_table[i]; i++) {
        for (const struct mode_command *c = mode_table[i]->commands; c && c->name; c++) {
            char ex[128];
            str_copy(ex, c->example, sizeof ex);
            int words = 0;
            char *save = NULL;
            const char *first = NULL;
            for (char *w = strtok_r(ex, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
                if (!first)
                    first = w;
                words++;
                ck_assert_msg(w[0] != '@', "%s: example \"%s\" uses @NODE, usage is \"%s\"", c->name,
                              c->example, c->usage);
            }
            ck_assert_msg(first && !strcmp(first, c->name), "%s: example \"%s\"", c->name, c->example);
            ck_assert_msg(words - 1 >= c->min_args && words - 1 <= c->max_args,
                          "%s (%s mode): example \"%s\" has %d arguments, the command takes %d to %d",
                          c->name, mode_table[i]->name, c->example, words - 1, c->min_args, c->max_args);
            ck_assert_msg(!strncmp(c->usage, c->name, strlen(c->name)), "%s: usage \"%s\"", c->name, c->usage);
        }
    }
}
END_TEST

Suite *suite_fixture(void);
Suite *suite_fixture(void)
{
    Suite *s = suite_create("fixture");
    TCase *tc = tcase_create("fixture");
    tcase_add_test(tc, linearizability_check_rejects_a_stale_read);
    tcase_add_test(tc, clients_follow_redirects_unless_direct);
    tcase_add_test(tc, every_mode_command_example_fits_its_usage);
    suite_add_tcase(s, tc);
    return s;
}
