/* check_event — the typed events: every kind decodes to its fields, a field of the wrong type
 * is named and ignored without hiding the rest, what is not an event is refused with a
 * reason, and a node's state folds the same way from `state` events and status snapshots. */
#include <check.h>
#include <string.h>

#include "event.h"
#include "fuzz_targets.h"

static json_t *J(const char *s)
{
    json_error_t e;
    json_t *j = json_loads(s, JSON_DECODE_ANY, &e);
    ck_assert_msg(j != NULL, "test JSON: %s", e.text);
    return j;
}

START_TEST(every_kind_has_a_name_and_back)
{
    for (int k = 1; k < EV_KIND_COUNT; k++) {
        const char *n = event_kind_name((enum ev_kind)k);
        ck_assert(n[0]);
        ck_assert_int_eq(event_kind_of(n), k);
        ck_assert_ptr_nonnull(strstr(event_kind_names(), n));
    }
    ck_assert_int_eq(event_kind_of("hint"), EV_OTHER);
    ck_assert_int_eq(event_kind_of(NULL), EV_OTHER);
    for (int c = 1; c < RC_COUNT; c++)
        ck_assert_int_eq(role_class_of(role_class_name((enum role_class)c)), c);
    ck_assert_int_eq(role_class_of("precandidate"), RC_UNKNOWN);
}
END_TEST

START_TEST(a_state_event_decodes_role_term_and_leader)
{
    json_t *j = J("{\"ev\":\"state\",\"node\":\"n2\",\"t\":120,\"seq\":4,\"inc\":9,\"role\":\"follower\","
                  "\"term\":3,\"leader\":\"n1\"}");
    struct event e;
    char err[128];
    ck_assert_int_eq(event_decode(j, &e, err, sizeof err), 0);
    ck_assert_int_eq(e.kind, EV_STATE);
    ck_assert_str_eq(e.node, "n2");
    ck_assert(e.has_t && e.t == 120 && e.has_seq && e.seq == 4 && e.has_inc && e.inc == 9);
    ck_assert_str_eq(e.state.role, "follower");
    ck_assert(e.state.has_term && e.state.term == 3 && !e.state.has_epoch);
    ck_assert_str_eq(e.state.leader, "n1");
    ck_assert_ptr_null(e.bad_field);
    json_decref(j);
}
END_TEST

START_TEST(messages_decode_their_peer_type_and_id)
{
    struct event e;
    char err[128];
    json_t *j = J("{\"ev\":\"send\",\"node\":\"n1\",\"to\":\"n2\",\"lamport\":7,"
                  "\"body\":{\"type\":\"append_entries\",\"msg_id\":11}}");
    ck_assert_int_eq(event_decode(j, &e, err, sizeof err), 0);
    ck_assert(e.msg.outgoing);
    ck_assert_str_eq(e.msg.peer, "n2");
    ck_assert_str_eq(e.msg.type, "append_entries"); /* from the body when the event has none */
    ck_assert_int_eq(e.msg.msg_id, 11);
    ck_assert(e.msg.has_lamport && e.msg.lamport == 7);
    json_decref(j);
    j = J("{\"ev\":\"drop\",\"node\":\"n2\",\"from\":\"n1\",\"type\":\"vote\",\"why\":\"partition\"}");
    ck_assert_int_eq(event_decode(j, &e, err, sizeof err), 0);
    ck_assert(!e.msg.outgoing);
    ck_assert_str_eq(e.msg.peer, "n1");
    ck_assert_str_eq(e.msg.why, "partition");
    ck_assert_int_eq(e.msg.msg_id, -1);
    json_decref(j);
}
END_TEST

START_TEST(the_cluster_event_carries_the_face)
{
    struct event e;
    char err[128];
    json_t *j = J("{\"ev\":\"cluster\",\"mode\":\"m\",\"nodes\":[\"n1\"],\"options\":{\"speed\":0.5},"
                  "\"roles\":{\"boss\":\"leader\"},\"figures\":[{\"key\":\"commit\",\"card\":\"c\"}]}");
    ck_assert_int_eq(event_decode(j, &e, err, sizeof err), 0);
    ck_assert(!e.cluster.stopped);
    ck_assert_str_eq(json_string_value(json_object_get(e.cluster.roles, "boss")), "leader");
    ck_assert_int_eq(json_array_size(e.cluster.figures), 1);
    ck_assert(e.cluster.has_speed && e.cluster.speed == 0.5);
    json_decref(j);
    j = J("{\"ev\":\"cluster\",\"stopped\":true}");
    ck_assert_int_eq(event_decode(j, &e, err, sizeof err), 0);
    ck_assert(e.cluster.stopped);
    json_decref(j);
}
END_TEST

START_TEST(a_field_of_the_wrong_type_is_named_and_ignored)
{
    struct event e;
    char err[128];
    json_t *j = J("{\"ev\":\"state\",\"node\":\"n1\",\"role\":\"leader\",\"term\":\"three\",\"leader\":7}");
    ck_assert_int_eq(event_decode(j, &e, err, sizeof err), 0);
    ck_assert_str_eq(e.state.role, "leader"); /* the rest survives */
    ck_assert(!e.state.has_term);
    ck_assert_ptr_null(e.state.leader);
    ck_assert_str_eq(e.bad_field, "term");
    json_decref(j);
    j = J("{\"ev\":\"append\",\"node\":\"n1\",\"index\":-4,\"term\":2,\"count\":1.0}");
    ck_assert_int_eq(event_decode(j, &e, err, sizeof err), 0);
    ck_assert(!e.log.has_index && e.log.has_term && e.log.count == 1);
    ck_assert_str_eq(e.bad_field, "index");
    json_decref(j);
}
END_TEST

START_TEST(what_is_not_an_event_is_refused_with_a_reason)
{
    static const char *const bad[] = {"[1,2]", "3", "{\"node\":\"n1\"}", "{\"ev\":4}", "null"};
    for (size_t k = 0; k < CL_ARRAY_LEN(bad); k++) {
        json_t *j = J(bad[k]);
        struct event e;
        char err[128] = "";
        ck_assert_int_eq(event_decode(j, &e, err, sizeof err), CL_EINVAL);
        ck_assert_msg(err[0], "%s refused without a reason", bad[k]);
        ck_assert_int_eq(e.kind, EV_OTHER);
        json_decref(j);
    }
}
END_TEST

START_TEST(state_events_and_statuses_fold_the_same_view)
{
    struct ev_view v = {0};
    struct ev_state st = {.role = "leader", .has_term = true, .term = 4, .leader = "n1"};
    event_view_fold(&v, &st, false);
    ck_assert_str_eq(v.role, "leader");
    ck_assert_int_eq(event_view_term(&v), 4);
    ck_assert_str_eq(v.leader, "n1");
    /* a status that does not mention the leader keeps it; one that says null clears it */
    struct ev_state quiet = {.role = "leader"};
    event_view_fold(&v, &quiet, true);
    ck_assert_str_eq(v.leader, "n1");
    struct ev_state none = {.leader_null = true};
    event_view_fold(&v, &none, true);
    ck_assert_str_eq(v.leader, "");
    /* a state event names the whole state: no leader means none */
    event_view_fold(&v, &st, false);
    struct ev_state follower = {.role = "follower", .has_epoch = true, .epoch = 9};
    event_view_fold(&v, &follower, false);
    ck_assert_str_eq(v.leader, "");
    ck_assert_int_eq(event_view_term(&v), 4); /* the term wins over the epoch */
    struct ev_view w = {0};
    event_view_fold(&w, &follower, false);
    ck_assert_int_eq(event_view_term(&w), 9);
    struct ev_view z = {0};
    ck_assert_int_eq(event_view_term(&z), -1);
    json_t *s = J("{\"role\":\"replica\",\"extra\":{\"keys\":3},\"epoch\":2}");
    event_state_of_status(s, &st);
    ck_assert_str_eq(st.role, "replica");
    ck_assert(st.has_epoch && st.epoch == 2);
    ck_assert_int_eq(json_integer_value(event_path(s, "extra.keys")), 3);
    ck_assert_ptr_null(event_path(s, "extra.nope"));
    ck_assert_ptr_null(event_path(s, "role.deeper"));
    json_decref(s);
}
END_TEST

START_TEST(odd_shapes_keep_the_fuzz_property)
{
    /* the fuzz target's property on a few shapes (tests/corpus/event/ holds the rest) */
    static const char *const in[] = {"{\"ev\":\"status\",\"status\":[]}", "{\"ev\":\"fault\",\"what\":\"skew\",\"ms\":1e300}",
                                      "{\"ev\":\"quorum\",\"need\":\"x\",\"acked\":{}}", "not json"};
    for (size_t k = 0; k < CL_ARRAY_LEN(in); k++) {
        const char *bad = fuzz_event_one((const uint8_t *)in[k], strlen(in[k]));
        ck_assert_msg(bad == NULL, "%s: %s", in[k], bad);
    }
}
END_TEST

Suite *suite_event(void);
Suite *suite_event(void)
{
    Suite *s = suite_create("event");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, every_kind_has_a_name_and_back);
    tcase_add_test(tc, a_state_event_decodes_role_term_and_leader);
    tcase_add_test(tc, messages_decode_their_peer_type_and_id);
    tcase_add_test(tc, the_cluster_event_carries_the_face);
    tcase_add_test(tc, a_field_of_the_wrong_type_is_named_and_ignored);
    tcase_add_test(tc, what_is_not_an_event_is_refused_with_a_reason);
    tcase_add_test(tc, state_events_and_statuses_fold_the_same_view);
    tcase_add_test(tc, odd_shapes_keep_the_fuzz_property);
    suite_add_tcase(s, tc);
    return s;
}
