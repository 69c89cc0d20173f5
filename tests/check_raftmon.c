/* check_raftmon — the live Raft invariant monitor: each invariant's violation is reported
 * with the events that prove it; correct traces and malformed events raise nothing. */
#include <check.h>
#include <string.h>

#include "raftmon.h"

static int seq;

/* Feeds one event written as JSON (seq added); returns the monitor's verdict. */
static int feed(struct raftmon *m, struct sb *alert, const char *node, const char *json)
{
    json_error_t je;
    json_t *ev = json_loads(json, 0, &je);
    ck_assert_msg(ev != NULL, "bad test event %s: %s", json, je.text);
    json_object_set_new(ev, "seq", json_integer(++seq));
    json_object_set_new(ev, "node", json_string(node));
    int r = raftmon_feed(m, ev, alert);
    json_decref(ev);
    return r;
}

#define LEADER(t) "{\"ev\":\"state\",\"role\":\"leader\",\"term\":" #t "}"
#define FOLLOWER(t) "{\"ev\":\"state\",\"role\":\"follower\",\"term\":" #t "}"

START_TEST(two_leaders_in_one_term_break_election_safety)
{
    struct raftmon *m = raftmon_new();
    struct sb a = {0};
    seq = 0;
    ck_assert_int_eq(feed(m, &a, "n1", LEADER(3)), 0);
    ck_assert_int_eq(feed(m, &a, "n2", FOLLOWER(3)), 0);
    ck_assert_int_eq(feed(m, &a, "n3", LEADER(3)), 1);
    ck_assert_ptr_nonnull(strstr(a.s, "Election Safety"));
    ck_assert_ptr_nonnull(strstr(a.s, "n1#1"));
    ck_assert_ptr_nonnull(strstr(a.s, "n3#3"));
    ck_assert_int_eq(raftmon_violations(m), 1);
    const json_t *inv = raftmon_last(m);
    ck_assert_str_eq(json_string_value(json_object_get(inv, "ev")), "invariant");
    ck_assert_str_eq(json_string_value(json_object_get(inv, "name")), "Election Safety");
    ck_assert_int_eq(json_integer_value(json_array_get(json_object_get(inv, "events"), 0)), 1);
    ck_assert_int_eq(json_integer_value(json_array_get(json_object_get(inv, "events"), 1)), 3);
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(inv, "nodes"), 1)), "n3");
    /* the same node announcing its leadership again is not a second leader */
    ck_assert_int_eq(feed(m, &a, "n1", LEADER(3)), 0);
    sb_free(&a);
    raftmon_destroy(&m);
    ck_assert_ptr_null(m);
}
END_TEST

START_TEST(one_index_and_term_with_two_commands_breaks_log_matching)
{
    struct raftmon *m = raftmon_new();
    struct sb a = {0};
    seq = 0;
    ck_assert_int_eq(feed(m, &a, "n1", "{\"ev\":\"append\",\"index\":1,\"term\":1,\"count\":2,\"prev_term\":0,\"cmds\":[\"noop\",\"put x 1\"]}"), 0);
    ck_assert_int_eq(feed(m, &a, "n2", "{\"ev\":\"append\",\"index\":1,\"term\":1,\"count\":1,\"prev_term\":0,\"cmds\":[\"noop\"]}"), 0);
    ck_assert_int_eq(feed(m, &a, "n2", "{\"ev\":\"append\",\"index\":2,\"term\":1,\"count\":1,\"prev_term\":1,\"cmds\":[\"put x 2\"]}"), 1);
    ck_assert_ptr_nonnull(strstr(a.s, "Log Matching"));
    ck_assert_ptr_nonnull(strstr(a.s, "index 2"));
    ck_assert_ptr_nonnull(strstr(a.s, "n1#1"));
    ck_assert_ptr_nonnull(strstr(a.s, "n2#3"));
    sb_free(&a);
    raftmon_destroy(&m);
}
END_TEST

START_TEST(same_entry_with_another_predecessor_breaks_log_matching)
{
    struct raftmon *m = raftmon_new();
    struct sb a = {0};
    seq = 0;
    ck_assert_int_eq(feed(m, &a, "n1", "{\"ev\":\"append\",\"index\":5,\"term\":3,\"count\":1,\"prev_term\":2,\"cmds\":[\"put x 1\"]}"), 0);
    ck_assert_int_eq(feed(m, &a, "n2", "{\"ev\":\"append\",\"index\":5,\"term\":3,\"count\":1,\"prev_term\":1,\"cmds\":[\"put x 1\"]}"), 1);
    ck_assert_ptr_nonnull(strstr(a.s, "different predecessors"));
    sb_free(&a);
    raftmon_destroy(&m);
}
END_TEST

START_TEST(leader_without_a_committed_entry_breaks_leader_completeness)
{
    struct raftmon *m = raftmon_new();
    struct sb a = {0};
    seq = 0;
    feed(m, &a, "n1", LEADER(1));
    feed(m, &a, "n1", "{\"ev\":\"append\",\"index\":1,\"term\":1,\"count\":2,\"prev_term\":0,\"cmds\":[\"noop\",\"put x 1\"]}");
    feed(m, &a, "n2", "{\"ev\":\"append\",\"index\":1,\"term\":1,\"count\":2,\"prev_term\":0,\"cmds\":[\"noop\",\"put x 1\"]}");
    ck_assert_int_eq(feed(m, &a, "n1", "{\"ev\":\"commit\",\"index\":2,\"term\":1,\"cur_term\":1}"), 0);
    feed(m, &a, "n3", "{\"ev\":\"append\",\"index\":1,\"term\":1,\"count\":1,\"prev_term\":0,\"cmds\":[\"noop\"]}");
    ck_assert_int_eq(feed(m, &a, "n3", LEADER(2)), 1);
    ck_assert_ptr_nonnull(strstr(a.s, "Leader Completeness"));
    ck_assert_ptr_nonnull(strstr(a.s, "n3 leads term 2 without entry 2"));
    ck_assert_ptr_nonnull(strstr(a.s, "n1#4"));
    sb_free(&a);
    raftmon_destroy(&m);
}
END_TEST

START_TEST(leader_elected_before_a_late_commit_is_checked_at_the_commit)
{
    struct raftmon *m = raftmon_new();
    struct sb a = {0};
    seq = 0;
    feed(m, &a, "n1", "{\"ev\":\"append\",\"index\":1,\"term\":1,\"count\":1,\"prev_term\":0,\"cmds\":[\"put x 1\"]}");
    ck_assert_int_eq(feed(m, &a, "n3", LEADER(2)), 0); /* n3 holds nothing, nothing committed yet */
    ck_assert_int_eq(feed(m, &a, "n1", "{\"ev\":\"commit\",\"index\":1,\"term\":1,\"cur_term\":1}"), 1);
    ck_assert_ptr_nonnull(strstr(a.s, "Leader Completeness"));
    sb_free(&a);
    raftmon_destroy(&m);
}
END_TEST

START_TEST(truncating_a_committed_entry_is_reported)
{
    struct raftmon *m = raftmon_new();
    struct sb a = {0};
    seq = 0;
    feed(m, &a, "n2", "{\"ev\":\"append\",\"index\":1,\"term\":1,\"count\":2,\"prev_term\":0,\"cmds\":[\"noop\",\"put x 1\"]}");
    feed(m, &a, "n2", "{\"ev\":\"commit\",\"index\":2,\"term\":1,\"cur_term\":1}");
    ck_assert_int_eq(feed(m, &a, "n2", "{\"ev\":\"truncate\",\"index\":3}"), 0);
    ck_assert_int_eq(feed(m, &a, "n2", "{\"ev\":\"truncate\",\"index\":2}"), 1);
    ck_assert_ptr_nonnull(strstr(a.s, "removed entry 2"));
    sb_free(&a);
    raftmon_destroy(&m);
}
END_TEST

START_TEST(leader_truncating_its_log_breaks_append_only)
{
    struct raftmon *m = raftmon_new();
    struct sb a = {0};
    seq = 0;
    feed(m, &a, "n1", LEADER(1));
    feed(m, &a, "n1", "{\"ev\":\"append\",\"index\":1,\"term\":1,\"count\":2,\"prev_term\":0,\"cmds\":[\"noop\",\"put x 1\"]}");
    ck_assert_int_eq(feed(m, &a, "n1", "{\"ev\":\"truncate\",\"index\":2}"), 1);
    ck_assert_ptr_nonnull(strstr(a.s, "Leader Append-Only"));
    sb_free(&a);
    raftmon_destroy(&m);
}
END_TEST

START_TEST(different_commands_applied_at_one_index_break_state_machine_safety)
{
    struct raftmon *m = raftmon_new();
    struct sb a = {0};
    seq = 0;
    ck_assert_int_eq(feed(m, &a, "n1", "{\"ev\":\"apply\",\"index\":4,\"term\":2,\"cmd\":\"put x 1\"}"), 0);
    ck_assert_int_eq(feed(m, &a, "n2", "{\"ev\":\"apply\",\"index\":4,\"term\":2,\"cmd\":\"put x 1\"}"), 0);
    ck_assert_int_eq(feed(m, &a, "n3", "{\"ev\":\"apply\",\"index\":4,\"term\":3,\"cmd\":\"put x 9\"}"), 1);
    ck_assert_ptr_nonnull(strstr(a.s, "State Machine Safety"));
    ck_assert_ptr_nonnull(strstr(a.s, "put x 9"));
    sb_free(&a);
    raftmon_destroy(&m);
}
END_TEST

START_TEST(a_correct_trace_with_overwrites_and_snapshots_raises_nothing)
{
    struct raftmon *m = raftmon_new();
    struct sb a = {0};
    seq = 0;
    const char *trace[][2] = {
        {"n1", LEADER(1)},
        {"n1", "{\"ev\":\"append\",\"index\":1,\"term\":1,\"count\":3,\"prev_term\":0,\"cmds\":[\"noop\",\"put x 1\",\"put x 2\"]}"},
        {"n2", "{\"ev\":\"append\",\"index\":1,\"term\":1,\"count\":2,\"prev_term\":0,\"cmds\":[\"noop\",\"put x 1\"]}"},
        {"n1", "{\"ev\":\"commit\",\"index\":2,\"term\":1,\"cur_term\":1}"},
        {"n1", "{\"ev\":\"apply\",\"index\":2,\"term\":1,\"cmd\":\"put x 1\"}"},
        {"n2", LEADER(2)},                       /* n1's uncommitted 3 is lost */
        {"n2", "{\"ev\":\"append\",\"index\":3,\"term\":2,\"count\":1,\"prev_term\":1,\"cmds\":[\"noop\"]}"},
        {"n1", FOLLOWER(2)},
        {"n1", "{\"ev\":\"truncate\",\"index\":3}"},
        {"n1", "{\"ev\":\"append\",\"index\":3,\"term\":2,\"count\":1,\"prev_term\":1,\"cmds\":[\"noop\"]}"},
        {"n2", "{\"ev\":\"commit\",\"index\":3,\"term\":2,\"cur_term\":2}"},
        {"n2", "{\"ev\":\"snapshot\",\"index\":3,\"term\":2,\"installed\":false}"},
        {"n3", "{\"ev\":\"snapshot\",\"index\":3,\"term\":2,\"installed\":true}"},
        {"n3", "{\"ev\":\"commit\",\"index\":3,\"term\":2,\"cur_term\":2}"},
        {"n3", "{\"ev\":\"fault\",\"what\":\"restart\"}"},
        {"n3", LEADER(3)},
        {"n3", "{\"ev\":\"append\",\"index\":4,\"term\":3,\"count\":1,\"prev_term\":2,\"cmds\":[\"noop\"]}"},
    };
    for (size_t i = 0; i < sizeof trace / sizeof trace[0]; i++)
        ck_assert_msg(feed(m, &a, trace[i][0], trace[i][1]) == 0, "event %zu: %s", i, a.s);
    ck_assert_int_eq(raftmon_violations(m), 0);
    ck_assert_ptr_null(raftmon_last(m));
    sb_free(&a);
    raftmon_destroy(&m);
}
END_TEST


START_TEST(an_installed_snapshot_keeps_the_entries_after_it)
{
    struct raftmon *m = raftmon_new();
    struct sb a = {0};
    seq = 0;
    feed(m, &a, "n1", "{\"ev\":\"append\",\"index\":1,\"term\":1,\"count\":3,\"prev_term\":0,\"cmds\":[\"noop\",\"put x 1\",\"put x 2\"]}");
    feed(m, &a, "n2", "{\"ev\":\"append\",\"index\":1,\"term\":1,\"count\":3,\"prev_term\":0,\"cmds\":[\"noop\",\"put x 1\",\"put x 2\"]}");
    feed(m, &a, "n1", "{\"ev\":\"commit\",\"index\":3,\"term\":1,\"cur_term\":1}");
    /* n2 receives a snapshot at 2 and keeps entry 3; it can then lead term 2 */
    feed(m, &a, "n2", "{\"ev\":\"snapshot\",\"index\":2,\"term\":1,\"installed\":true}");
    ck_assert_int_eq(feed(m, &a, "n2", LEADER(2)), 0);
    /* n3 holds a different entry at 2: its log is replaced, entry 3 is not kept */
    feed(m, &a, "n3", "{\"ev\":\"append\",\"index\":1,\"term\":1,\"count\":1,\"prev_term\":0,\"cmds\":[\"noop\"]}");
    feed(m, &a, "n3", "{\"ev\":\"snapshot\",\"index\":2,\"term\":1,\"installed\":true}");
    ck_assert_int_eq(feed(m, &a, "n3", LEADER(3)), 1);
    ck_assert_ptr_nonnull(strstr(a.s, "without entry 3"));
    sb_free(&a);
    raftmon_destroy(&m);
}
END_TEST

START_TEST(malformed_events_are_ignored)
{
    struct raftmon *m = raftmon_new();
    struct sb a = {0};
    seq = 0;
    static const char *const bad[] = {
        "{\"ev\":\"state\"}",
        "{\"ev\":\"state\",\"role\":7,\"term\":\"x\"}",
        "{\"ev\":\"append\",\"index\":1,\"term\":1,\"count\":5,\"prev_term\":0,\"cmds\":[\"a\"]}",
        "{\"ev\":\"append\",\"index\":-4,\"term\":1,\"count\":1,\"prev_term\":0,\"cmds\":[\"a\"]}",
        "{\"ev\":\"append\",\"index\":9223372036854775807,\"term\":1,\"count\":1,\"prev_term\":0,\"cmds\":[\"a\"]}",
        "{\"ev\":\"commit\",\"index\":9223372036854775807}",
        "{\"ev\":\"truncate\"}",
        "{\"ev\":\"apply\",\"index\":3}",
        "{\"ev\":\"snapshot\",\"index\":-1}",
        "{\"ev\":42}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_int_eq(feed(m, &a, "n1", bad[i]), 0);
    json_t *nonode = json_pack("{s:s}", "ev", "state");
    ck_assert_int_eq(raftmon_feed(m, nonode, &a), 0);
    json_decref(nonode);
    ck_assert_int_eq(raftmon_violations(m), 0);
    sb_free(&a);
    raftmon_destroy(&m);
}
END_TEST

Suite *suite_raftmon(void);
Suite *suite_raftmon(void)
{
    Suite *s = suite_create("raftmon");
    TCase *tc = tcase_create("invariants");
    tcase_add_test(tc, two_leaders_in_one_term_break_election_safety);
    tcase_add_test(tc, one_index_and_term_with_two_commands_breaks_log_matching);
    tcase_add_test(tc, same_entry_with_another_predecessor_breaks_log_matching);
    tcase_add_test(tc, leader_without_a_committed_entry_breaks_leader_completeness);
    tcase_add_test(tc, leader_elected_before_a_late_commit_is_checked_at_the_commit);
    tcase_add_test(tc, truncating_a_committed_entry_is_reported);
    tcase_add_test(tc, leader_truncating_its_log_breaks_append_only);
    tcase_add_test(tc, different_commands_applied_at_one_index_break_state_machine_safety);
    tcase_add_test(tc, a_correct_trace_with_overwrites_and_snapshots_raises_nothing);
    tcase_add_test(tc, an_installed_snapshot_keeps_the_entries_after_it);
    tcase_add_test(tc, malformed_events_are_ignored);
    suite_add_tcase(s, tc);
    return s;
}
