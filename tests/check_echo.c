/* check_echo — the echo mode in the simulator: every node answers each echo request with the
 * same value, whatever its JSON type, on its own (no message between nodes), refuses a request
 * without "echo" with error 12, and keeps answering across a crash and restart of another node.
 * The real processes are the hello-node lesson's solution (tests/lessons/run_solutions.sh). */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "mode.h"
#include "sim.h"
#include "test_util.h"

extern const struct mode mode_echo;

struct box {
    json_t *reply[8];           /* the last reply per client c1..c8 */
    int peer_sends;             /* messages from one node to another */
};

static void on_event(void *ud, const json_t *ev)
{
    struct box *b = ud;
    const char *to = json_string_value(json_object_get(ev, "to"));
    int idx;
    if (!strcmp(json_string_value(json_object_get(ev, "ev")), "send") && to && parse_node_id(to, CL_MAXN, &idx) == 0)
        b->peer_sends++;
}

static void on_reply(void *ud, const char *node, const char *client, const json_t *body)
{
    struct box *b = ud;
    (void)node;
    int c = client[0] == 'c' ? atoi(client + 1) : 0;
    if (c < 1 || c > 8)
        return;
    json_decref(b->reply[c - 1]);
    b->reply[c - 1] = json_deep_copy(body);
}

static struct sim *start(struct box *b, int n)
{
    struct opts o = {0};
    char err[256];
    struct sim *s = sim_new(&mode_echo, n, &o, 11, err, sizeof err);
    ck_assert_msg(s != NULL, "%s", err);
    sim_on_reply(s, on_reply, b);
    sim_on_event(s, on_event, b);
    sim_run_for(s, 1000);
    return s;
}

/* Sends body (stolen) from client c to node idx and returns the reply (borrowed). */
static const json_t *ask(struct sim *s, struct box *b, int idx, int c, json_t *body)
{
    char client[8];
    snprintf(client, sizeof client, "c%d", c);
    json_decref(b->reply[c - 1]);
    b->reply[c - 1] = NULL;
    ck_assert_int_eq(sim_client_send(s, idx, client, body), 0);
    sim_run_for(s, 10000);
    ck_assert_msg(b->reply[c - 1] != NULL, "no reply from n%d", idx + 1);
    return b->reply[c - 1];
}

static void box_free(struct box *b)
{
    for (int i = 0; i < 8; i++)
        json_decref(b->reply[i]);
}

START_TEST(every_node_echoes_the_value_it_was_sent)
{
    static const char *const values[] = {"\"hello\"", "42", "-1.5", "null", "true", "[1,\"a\",{}]",
                                         "{\"nested\":{\"deep\":[null]}}", "\"\\u00e9t\\u00e9 \\u202e\""};
    struct box b = {0};
    struct sim *s = start(&b, 3);
    for (size_t k = 0; k < CL_ARRAY_LEN(values); k++) {
        json_t *v = json_loads(values[k], JSON_DECODE_ANY, NULL);
        ck_assert_ptr_nonnull(v);
        int idx = (int)(k % 3);
        const json_t *r = ask(s, &b, idx, 1, json_pack("{s:s,s:I,s:O}", "type", "echo", "msg_id", (json_int_t)k + 1, "echo", v));
        ck_assert_str_eq(json_string_value(json_object_get(r, "type")), "echo_ok");
        ck_assert_int_eq(json_integer_value(json_object_get(r, "in_reply_to")), (json_int_t)k + 1);
        ck_assert_msg(json_equal(json_object_get(r, "echo"), v), "n%d changed %s", idx + 1, values[k]);
        json_decref(v);
    }
    json_t *st = sim_status(s, 0);
    ck_assert_str_eq(json_string_value(json_object_get(st, "role")), "node");
    ck_assert_int_eq(json_integer_value(json_object_get(st, "echoes")), 3);
    json_decref(st);
    ck_assert_msg(b.peer_sends == 0, "echo nodes sent %d messages to each other", b.peer_sends);
    sim_destroy(&s);
    box_free(&b);
}
END_TEST

START_TEST(a_request_without_echo_is_refused_with_error_12)
{
    struct box b = {0};
    struct sim *s = start(&b, 1);
    const json_t *r = ask(s, &b, 0, 2, json_pack("{s:s,s:i}", "type", "echo", "msg_id", 5));
    ck_assert_str_eq(json_string_value(json_object_get(r, "type")), "error");
    ck_assert_int_eq(json_integer_value(json_object_get(r, "code")), 12);
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(r, "text")), "\"echo\""));
    ck_assert_int_eq(json_integer_value(json_object_get(r, "in_reply_to")), 5);
    json_t *st = sim_status(s, 0);
    ck_assert_int_eq(json_integer_value(json_object_get(st, "echoes")), 0);
    json_decref(st);
    sim_destroy(&s);
    box_free(&b);
}
END_TEST

START_TEST(a_node_answers_on_its_own_whatever_happens_to_the_others)
{
    struct box b = {0};
    struct sim *s = start(&b, 3);
    sim_crash(s, 0);
    faults_isolate(sim_faults(s), 1);
    const json_t *r = ask(s, &b, 1, 3, json_pack("{s:s,s:i,s:s}", "type", "echo", "msg_id", 1, "echo", "alone"));
    ck_assert_str_eq(json_string_value(json_object_get(r, "echo")), "alone");
    sim_restart(s, 0);
    sim_run_for(s, 1000);
    r = ask(s, &b, 0, 3, json_pack("{s:s,s:i,s:s}", "type", "echo", "msg_id", 2, "echo", "back"));
    ck_assert_str_eq(json_string_value(json_object_get(r, "echo")), "back");
    json_t *st = sim_status(s, 0);
    ck_assert_int_eq(json_integer_value(json_object_get(st, "echoes")), 1); /* nothing durable */
    json_decref(st);
    sim_destroy(&s);
    box_free(&b);
}
END_TEST

Suite *suite_echo(void);
Suite *suite_echo(void)
{
    Suite *s = suite_create("echo");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, every_node_echoes_the_value_it_was_sent);
    tcase_add_test(tc, a_request_without_echo_is_refused_with_error_12);
    tcase_add_test(tc, a_node_answers_on_its_own_whatever_happens_to_the_others);
    suite_add_tcase(s, tc);
    return s;
}
