/* check_dashmodel — the dashboard model folds events into what the panes show (tui/model.h). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "canvas.h"
#include "layout.h"
#include "model.h"
#include "render.h"
#include "rng.h"
#include "test_util.h"

static void feed(struct dm *m, const char *json)
{
    json_error_t je;
    json_t *ev = json_loads(json, 0, &je);
    ck_assert_msg(ev != NULL, "test JSON does not parse: %s (%s)", json, je.text);
    dm_feed(m, ev);
    json_decref(ev);
}

static struct dm *three(void)
{
    struct dm *m = dm_new(0);
    feed(m, "{\"ev\":\"cluster\",\"mode\":\"raft\",\"nodes\":[\"n1\",\"n2\",\"n3\"]}");
    return m;
}

static const struct dm_msg *last_msg(const struct dm_state *s)
{
    ck_assert_uint_gt(s->nmsgs, 0);
    return dm_msg_at(s, s->nmsgs - 1);
}

START_TEST(cluster_event_names_the_nodes)
{
    struct dm *m = three();
    const struct dm_state *s = dm_view(m);
    ck_assert_int_eq(s->n, 3);
    ck_assert_str_eq(s->mode, "raft");
    ck_assert_str_eq(s->node[2].id, "n3");
    ck_assert_int_eq(s->node[0].life, DM_UP);
    dm_destroy(&m);
    ck_assert_ptr_null(m);
}
END_TEST

START_TEST(state_event_sets_role_term_and_leader)
{
    struct dm *m = three();
    feed(m, "{\"ev\":\"state\",\"node\":\"n2\",\"role\":\"leader\",\"term\":4}");
    feed(m, "{\"ev\":\"state\",\"node\":\"n1\",\"role\":\"follower\",\"term\":4,\"leader\":\"n2\"}");
    const struct dm_state *s = dm_view(m);
    ck_assert_str_eq(s->node[1].role, "leader");
    ck_assert_uint_eq(s->node[1].term, 4);
    ck_assert_str_eq(s->node[1].leader, "n2");
    ck_assert_str_eq(s->node[0].leader, "n2");
    dm_destroy(&m);
}
END_TEST

START_TEST(message_is_pending_until_received_by_msg_id)
{
    struct dm *m = three();
    feed(m, "{\"ev\":\"send\",\"node\":\"n1\",\"to\":\"n2\",\"type\":\"append_entries\",\"msg_id\":7}");
    feed(m, "{\"ev\":\"send\",\"node\":\"n1\",\"to\":\"n2\",\"type\":\"append_entries\",\"msg_id\":8}");
    const struct dm_state *s = dm_view(m);
    ck_assert_int_eq(dm_msg_at(s, 0)->st, DM_PENDING);
    feed(m, "{\"ev\":\"recv\",\"node\":\"n2\",\"from\":\"n1\",\"type\":\"append_entries\",\"msg_id\":8}");
    s = dm_view(m);
    ck_assert_int_eq(dm_msg_at(s, 0)->st, DM_PENDING);   /* id 7 still in flight */
    ck_assert_int_eq(dm_msg_at(s, 1)->st, DM_DELIVERED); /* id 8 arrived */
    dm_destroy(&m);
}
END_TEST

START_TEST(messages_without_id_are_matched_in_order)
{
    struct dm *m = three();
    feed(m, "{\"ev\":\"send\",\"node\":\"n2\",\"to\":\"n1\",\"type\":\"ok\"}");
    feed(m, "{\"ev\":\"send\",\"node\":\"n2\",\"to\":\"n1\",\"type\":\"ok\"}");
    feed(m, "{\"ev\":\"recv\",\"node\":\"n1\",\"from\":\"n2\",\"type\":\"ok\"}");
    const struct dm_state *s = dm_view(m);
    ck_assert_int_eq(dm_msg_at(s, 0)->st, DM_DELIVERED);
    ck_assert_int_eq(dm_msg_at(s, 1)->st, DM_PENDING);
    dm_destroy(&m);
}
END_TEST

START_TEST(drop_after_send_marks_the_message_dropped_with_reason)
{
    struct dm *m = three();
    feed(m, "{\"ev\":\"send\",\"node\":\"n1\",\"to\":\"n3\",\"type\":\"request_vote\",\"msg_id\":1}");
    feed(m, "{\"ev\":\"drop\",\"node\":\"n1\",\"to\":\"n3\",\"type\":\"request_vote\",\"msg_id\":1,\"why\":\"partition\"}");
    const struct dm_state *s = dm_view(m);
    ck_assert_uint_eq(s->nmsgs, 1);
    ck_assert_int_eq(last_msg(s)->st, DM_DROPPED);
    ck_assert_str_eq(last_msg(s)->why, "partition");
    ck_assert_uint_eq(s->drops, 1);
    dm_destroy(&m);
}
END_TEST

START_TEST(drop_at_the_receiver_without_send_adds_a_dropped_message)
{
    struct dm *m = three();
    feed(m, "{\"ev\":\"drop\",\"node\":\"n2\",\"from\":\"n3\",\"type\":\"ping\",\"why\":\"loss\"}");
    const struct dm_state *s = dm_view(m);
    ck_assert_uint_eq(s->nmsgs, 1);
    ck_assert_str_eq(last_msg(s)->src, "n3");
    ck_assert_str_eq(last_msg(s)->dst, "n2");
    ck_assert_int_eq(last_msg(s)->st, DM_DROPPED);
    dm_destroy(&m);
}
END_TEST

START_TEST(message_ring_keeps_the_newest)
{
    struct dm *m = three();
    char buf[160];
    for (int i = 0; i < DM_MAX_MSGS + 10; i++) {
        snprintf(buf, sizeof buf, "{\"ev\":\"send\",\"node\":\"n1\",\"to\":\"n2\",\"type\":\"x\",\"msg_id\":%d}", i);
        feed(m, buf);
    }
    const struct dm_state *s = dm_view(m);
    ck_assert_uint_eq(s->nmsgs, DM_MAX_MSGS);
    ck_assert_int_eq(dm_msg_at(s, 0)->msg_id, 10);
    ck_assert_int_eq(last_msg(s)->msg_id, DM_MAX_MSGS + 9);
    dm_destroy(&m);
}
END_TEST

START_TEST(partition_groups_nodes_and_heal_clears_them)
{
    struct dm *m = three();
    feed(m, "{\"ev\":\"fault\",\"what\":\"partition\",\"groups\":[[\"n1\"],[\"n2\",\"n3\"]]}");
    const struct dm_state *s = dm_view(m);
    ck_assert_int_eq(s->ngroups, 2);
    ck_assert_int_eq(s->group_of[0], 0);
    ck_assert_int_eq(s->group_of[1], 1);
    ck_assert_int_eq(s->group_of[2], 1);
    feed(m, "{\"ev\":\"fault\",\"what\":\"delay\",\"src\":\"n1\",\"dst\":\"n2\",\"ms\":300}");
    ck_assert_int_eq(dm_view(m)->nlinks, 1);
    ck_assert_uint_eq(dm_view(m)->links[0].delay_ms, 300);
    feed(m, "{\"ev\":\"fault\",\"what\":\"heal\"}");
    s = dm_view(m);
    ck_assert_int_eq(s->ngroups, 0);
    ck_assert_int_eq(s->nlinks, 0);
    dm_destroy(&m);
}
END_TEST

START_TEST(a_bandwidth_and_its_queue_show_on_the_link)
{
    struct dm *m = three();
    feed(m, "{\"ev\":\"fault\",\"what\":\"bandwidth\",\"src\":\"n1\",\"dst\":\"n2\",\"kbps\":64}");
    ck_assert_int_eq(dm_view(m)->nlinks, 1);
    ck_assert_uint_eq(dm_view(m)->links[0].kbps, 64);
    feed(m, "{\"ev\":\"queue\",\"node\":\"n1\",\"to\":\"n2\",\"msgs\":4,\"bytes\":900,\"kbps\":64}");
    ck_assert_int_eq(dm_view(m)->nlinks, 1);
    ck_assert_uint_eq(dm_view(m)->links[0].queued, 4);
    feed(m, "{\"ev\":\"queue\",\"node\":\"n1\",\"to\":\"n2\",\"msgs\":\"many\"}"); /* ignored */
    ck_assert_uint_eq(dm_view(m)->links[0].queued, 4);
    feed(m, "{\"ev\":\"fault\",\"what\":\"bandwidth\",\"src\":\"n1\",\"dst\":\"n2\",\"kbps\":0}");
    ck_assert_int_eq(dm_view(m)->nlinks, 1); /* the queue is still there */
    feed(m, "{\"ev\":\"queue\",\"node\":\"n1\",\"to\":\"n2\",\"msgs\":0,\"bytes\":0,\"kbps\":0}");
    ck_assert_int_eq(dm_view(m)->nlinks, 0);
    dm_destroy(&m);
}
END_TEST

START_TEST(unnamed_nodes_join_the_last_group)
{
    struct dm *m = three();
    feed(m, "{\"ev\":\"fault\",\"what\":\"partition\",\"groups\":[[\"n2\"],[\"n1\"]]}");
    ck_assert_int_eq(dm_view(m)->group_of[2], 1);
    ck_assert_int_eq(dm_view(m)->group_of[1], 0);
    dm_destroy(&m);
}
END_TEST

START_TEST(process_faults_change_up_down_paused)
{
    struct dm *m = three();
    feed(m, "{\"ev\":\"fault\",\"what\":\"crash\",\"node\":\"n2\"}");
    feed(m, "{\"ev\":\"fault\",\"what\":\"pause\",\"node\":\"n3\"}");
    ck_assert_int_eq(dm_view(m)->node[1].life, DM_DOWN);
    ck_assert_int_eq(dm_view(m)->node[2].life, DM_PAUSED);
    feed(m, "{\"ev\":\"fault\",\"what\":\"restart\",\"node\":\"n2\"}");
    ck_assert_int_eq(dm_view(m)->node[1].life, DM_UP);
    feed(m, "{\"ev\":\"fault\",\"what\":\"stonith\",\"node\":\"n3\",\"by\":\"n2\"}"); /* powered off */
    ck_assert_int_eq(dm_view(m)->node[2].life, DM_DOWN);
    dm_destroy(&m);
}
END_TEST

START_TEST(conflicting_append_replaces_the_entry_and_what_follows)
{
    struct dm *m = three();
    feed(m, "{\"ev\":\"append\",\"node\":\"n1\",\"index\":1,\"term\":1,\"count\":3}");
    ck_assert_uint_eq(dm_view(m)->node[0].nlog, 3);
    feed(m, "{\"ev\":\"append\",\"node\":\"n1\",\"index\":2,\"term\":2,\"cmd\":\"put x 2\"}");
    const struct dm_node *n = &dm_view(m)->node[0];
    ck_assert_uint_eq(n->nlog, 2);
    ck_assert_uint_eq(n->log[1].term, 2);
    ck_assert_str_eq(n->log[1].cmd, "put x 2");
    feed(m, "{\"ev\":\"truncate\",\"node\":\"n1\",\"index\":2}");
    ck_assert_uint_eq(dm_view(m)->node[0].nlog, 1);
    dm_destroy(&m);
}
END_TEST

START_TEST(huge_append_count_is_capped)
{
    struct dm *m = three();
    feed(m, "{\"ev\":\"append\",\"node\":\"n1\",\"index\":1,\"term\":1,\"count\":1000000000000}");
    ck_assert_uint_le(dm_view(m)->node[0].nlog, DM_MAX_LOG);
    dm_destroy(&m);
}
END_TEST

START_TEST(status_snapshot_sets_figures_clocks_and_log)
{
    struct dm *m = three();
    feed(m, "{\"ev\":\"status\",\"node\":\"n3\",\"status\":{\"role\":\"follower\",\"term\":3,"
            "\"commit\":12,\"applied\":11,\"state\":\"paused\",\"lamport\":41,\"vc\":[3,0,5],"
            "\"clock_us\":2500000,\"log\":[{\"index\":11,\"term\":3,\"cmd\":\"put x 1\"},"
            "{\"index\":12,\"term\":3,\"cmd\":\"put y 2\"}]}}");
    const struct dm_node *n = &dm_view(m)->node[2];
    ck_assert_uint_eq(n->term, 3);
    ck_assert_uint_eq(n->commit, 12);
    ck_assert_uint_eq(n->applied, 11);
    ck_assert_int_eq(n->life, DM_PAUSED);
    ck_assert_uint_eq(n->lamport, 41);
    ck_assert_int_eq(n->nvc, 3);
    ck_assert_uint_eq(n->vc[2], 5);
    ck_assert(n->has_clock);
    ck_assert_uint_eq(n->nlog, 2);
    ck_assert_uint_eq(n->log[0].index, 11);
    ck_assert_str_eq(n->log[1].cmd, "put y 2");
    dm_destroy(&m);
}
END_TEST

START_TEST(vote_tally_records_grants_and_denials_with_reason)
{
    struct dm *m = three();
    feed(m, "{\"ev\":\"vote\",\"node\":\"n1\",\"what\":\"request\",\"term\":5,\"candidate\":\"n1\"}");
    feed(m, "{\"ev\":\"vote\",\"node\":\"n2\",\"what\":\"grant\",\"term\":5,\"candidate\":\"n1\"}");
    feed(m, "{\"ev\":\"vote\",\"node\":\"n3\",\"what\":\"deny\",\"term\":5,\"candidate\":\"n1\",\"reason\":\"log not up to date\"}");
    const struct dm_state *s = dm_view(m);
    ck_assert_int_eq(s->nelections, 1);
    const struct dm_election *e = &s->elections[0];
    ck_assert_uint_eq(e->term, 5);
    ck_assert_str_eq(e->candidate, "n1");
    /* the candidate's own vote counts: n1 won with 2 of 3 (its own and n2's) */
    ck_assert_int_eq(e->nvotes, 3);
    ck_assert_str_eq(e->votes[0].voter, "n1");
    ck_assert_int_eq(e->votes[0].granted, 1);
    ck_assert_str_eq(e->votes[0].reason, "own vote");
    ck_assert_int_eq(e->votes[1].granted, 1);
    ck_assert_int_eq(e->votes[2].granted, 0);
    ck_assert_str_eq(e->votes[2].reason, "log not up to date");
    dm_destroy(&m);
}
END_TEST

START_TEST(quorum_event_records_who_answered)
{
    struct dm *m = three();
    feed(m, "{\"ev\":\"quorum\",\"node\":\"n1\",\"op\":\"write\",\"key\":\"x\",\"need\":2,"
            "\"acked\":[\"n1\",\"n2\"],\"missing\":[\"n3\"],\"stale\":[]}");
    const struct dm_quorum *q = &dm_view(m)->quorums[0];
    ck_assert_int_eq(q->need, 2);
    ck_assert_uint_eq(q->acked, 3u);
    ck_assert_uint_eq(q->missing, 4u);
    ck_assert_str_eq(q->op, "write");
    dm_destroy(&m);
}
END_TEST

START_TEST(freeze_keeps_the_view_while_live_advances)
{
    struct dm *m = three();
    feed(m, "{\"ev\":\"state\",\"node\":\"n1\",\"role\":\"leader\",\"term\":1}");
    dm_freeze(m);
    ck_assert(dm_frozen(m));
    feed(m, "{\"ev\":\"state\",\"node\":\"n1\",\"role\":\"follower\",\"term\":2}");
    ck_assert_str_eq(dm_view(m)->node[0].role, "leader");
    ck_assert_str_eq(dm_live(m)->node[0].role, "follower");
    ck_assert_uint_eq(dm_cursor(m), 2);
    ck_assert_uint_eq(dm_count(m), 3);
    dm_thaw(m);
    ck_assert_str_eq(dm_view(m)->node[0].role, "follower");
    dm_destroy(&m);
}
END_TEST

/* Term of n1 after feeding events 0..k of the synthetic run below. */
static void feed_terms(struct dm *m, int n)
{
    char buf[128];
    for (int i = 0; i < n; i++) {
        snprintf(buf, sizeof buf, "{\"ev\":\"state\",\"node\":\"n1\",\"role\":\"follower\",\"term\":%d,\"t\":%d}", i, i);
        feed(m, buf);
    }
}

START_TEST(seek_back_and_forth_rebuilds_the_state_at_each_position)
{
    struct dm *m = dm_new(0);
    int n = 3 * DM_CKPT_EVERY + 100;
    feed_terms(m, n);
    int points[] = {1, 5, DM_CKPT_EVERY - 1, DM_CKPT_EVERY, DM_CKPT_EVERY + 1, 2 * DM_CKPT_EVERY + 7,
                    17, n, n - 1, 3};
    for (size_t k = 0; k < CL_ARRAY_LEN(points); k++) {
        dm_seek(m, (uint64_t)points[k]);
        ck_assert_uint_eq(dm_cursor(m), (uint64_t)points[k]);
        ck_assert_uint_eq(dm_view(m)->events, (uint64_t)points[k]);
        ck_assert_msg(dm_view(m)->node[0].term == (uint64_t)(points[k] - 1),
                      "at %d: term %llu", points[k], (unsigned long long)dm_view(m)->node[0].term);
    }
    dm_seek(m, 1000000000); /* clamped */
    ck_assert_uint_eq(dm_cursor(m), (uint64_t)n);
    dm_destroy(&m);
}
END_TEST

START_TEST(full_recording_lets_old_events_go_but_keeps_the_live_state)
{
    struct dm *m = dm_new(2 * DM_CKPT_EVERY);
    int n = 5 * DM_CKPT_EVERY + 3;
    feed_terms(m, n);
    ck_assert_uint_eq(dm_count(m), (uint64_t)n);
    ck_assert_uint_gt(dm_first_pos(m), 0);
    ck_assert_uint_eq(dm_live(m)->node[0].term, (uint64_t)(n - 1));
    ck_assert_ptr_null(dm_event_at(m, 0));
    ck_assert_ptr_nonnull(dm_event_at(m, (uint64_t)n - 1));
    dm_seek(m, 0); /* clamped to the oldest reachable position */
    ck_assert_uint_eq(dm_cursor(m), dm_first_pos(m));
    ck_assert_uint_eq(dm_view(m)->node[0].term, dm_first_pos(m) - 1);
    dm_destroy(&m);
}
END_TEST

START_TEST(bad_events_are_counted_and_ignored)
{
    struct dm *m = three();
    feed(m, "[1,2,3]");
    feed(m, "{\"node\":\"n1\"}");
    feed(m, "{\"ev\":\"state\",\"node\":\"n99999999999999999\",\"role\":\"leader\"}");
    feed(m, "{\"ev\":\"append\",\"node\":\"n1\",\"index\":\"x\",\"term\":-1}");
    feed(m, "{\"ev\":\"fault\",\"what\":\"partition\",\"groups\":\"n1\"}");
    feed(m, "{\"ev\":\"vote\",\"node\":\"n1\",\"what\":\"grant\",\"term\":1,\"candidate\":\"n12345678901234567890\"}");
    ck_assert_uint_eq(dm_view(m)->bad_events, 2);
    ck_assert_int_eq(dm_view(m)->n, 3);
    ck_assert_uint_eq(dm_view(m)->node[0].nlog, 0);
    ck_assert_int_eq(dm_view(m)->ngroups, 0);
    dm_destroy(&m);
}
END_TEST

START_TEST(repeated_cluster_event_keeps_the_state)
{
    struct dm *m = three();
    feed(m, "{\"ev\":\"append\",\"node\":\"n1\",\"index\":1,\"term\":1}");
    feed(m, "{\"ev\":\"cluster\",\"mode\":\"raft\",\"nodes\":[\"n1\",\"n2\",\"n3\"]}");
    ck_assert_uint_eq(dm_view(m)->node[0].nlog, 1);
    feed(m, "{\"ev\":\"cluster\",\"mode\":\"raft\",\"nodes\":[\"n1\",\"n2\"]}");
    ck_assert_int_eq(dm_view(m)->n, 2);
    ck_assert_uint_eq(dm_view(m)->node[0].nlog, 0);
    feed(m, "{\"ev\":\"cluster\",\"stopped\":true}");
    ck_assert(!dm_view(m)->running);
    ck_assert_int_eq(dm_view(m)->node[0].life, DM_DOWN);
    dm_destroy(&m);
}
END_TEST

START_TEST(output_event_splits_lines)
{
    struct dm *m = three();
    feed(m, "{\"ev\":\"output\",\"text\":\"n1 raft leader\\nn2 raft follower\"}");
    const struct dm_state *s = dm_view(m);
    ck_assert_uint_eq(s->nout, 2);
    ck_assert_str_eq(dm_output_at(s, 1), "n2 raft follower");
    dm_destroy(&m);
}
END_TEST

START_TEST(lesson_event_sets_and_clears_the_step)
{
    struct dm *m = three();
    feed(m, "{\"ev\":\"lesson\",\"title\":\"Split brain\",\"step\":2,\"text\":\"Cut the network\","
            "\"check\":\"pending\",\"hint\":\"try partition\"}");
    const struct dm_lesson *l = &dm_view(m)->lesson;
    ck_assert(l->active);
    ck_assert_str_eq(l->step, "2");
    ck_assert_str_eq(l->hint, "try partition");
    feed(m, "{\"ev\":\"lesson\",\"active\":false}");
    ck_assert(!dm_view(m)->lesson.active);
    dm_destroy(&m);
}
END_TEST

START_TEST(invariant_events_become_alerts)
{
    struct dm *m = three();
    feed(m, "{\"ev\":\"invariant\",\"node\":\"n1\",\"name\":\"election_safety\",\"text\":\"two leaders in term 3\"}");
    ck_assert_int_eq(dm_view(m)->nalerts, 1);
    ck_assert_ptr_nonnull(strstr(dm_view(m)->alerts[0].text, "two leaders in term 3"));
    /* a check that found nothing wrong is no alert; one that found a violation is */
    feed(m, "{\"ev\":\"verdict\",\"check\":\"linearizable\",\"verdict\":\"holds\"}");
    ck_assert_int_eq(dm_view(m)->nalerts, 1);
    feed(m, "{\"ev\":\"verdict\",\"check\":\"linearizable\",\"verdict\":\"violated\"}");
    ck_assert_int_eq(dm_view(m)->nalerts, 2);
    dm_destroy(&m);
}
END_TEST

START_TEST(filter_matches_every_word_and_event_type)
{
    json_t *ev = json_loads("{\"ev\":\"drop\",\"node\":\"n1\",\"to\":\"n2\",\"type\":\"append_entries\",\"why\":\"partition\"}", 0, NULL);
    ck_assert(dm_event_matches(ev, NULL));
    ck_assert(dm_event_matches(ev, ""));
    ck_assert(dm_event_matches(ev, "ev=drop"));
    ck_assert(!dm_event_matches(ev, "ev=dro"));
    ck_assert(dm_event_matches(ev, "PARTITION n2"));
    ck_assert(!dm_event_matches(ev, "partition n3"));
    json_decref(ev);
}
END_TEST

START_TEST(event_line_escapes_control_bytes)
{
    json_t *ev = json_loads("{\"ev\":\"apply\",\"node\":\"n1\",\"key\":\"k\\u001b[2J\\u0007\",\"value\":\"\\u202eevil\"}", 0, NULL);
    struct sb b = {0};
    dm_event_line(ev, &b);
    ck_assert_ptr_null(strchr(b.s, 0x1b));
    ck_assert_ptr_null(strchr(b.s, 0x07));
    ck_assert_ptr_nonnull(strstr(b.s, "k\\e[2J\\x07"));
    ck_assert_ptr_nonnull(strstr(b.s, "\\u202eevil"));
    sb_free(&b);
    json_decref(ev);
}
END_TEST

/* A random JSON value: the kinds of junk a broken node or a hostile client could send. */
static json_t *junk(struct rng *r, int depth)
{
    static const char *const strs[] = {"n1", "n2", "n3", "n17", "", "leader", "x\x1b[2J",
                                       "\xe2\x80\xae", "partition", "write", "read", "n1\nn2"};
    switch (rng_range(r, 0, depth > 2 ? 4 : 6)) {
    case 0: return json_integer((json_int_t)rng_range(r, 0, 20) - 5);
    case 1: return json_integer((json_int_t)(rng_next(r) >> 1));
    case 2: return json_string(strs[rng_range(r, 0, CL_ARRAY_LEN(strs) - 1)]);
    case 3: return json_null();
    case 4: return json_real(rng_double(r) * 100);
    case 5: {
        json_t *a = json_array();
        for (uint64_t i = rng_range(r, 0, 4); i > 0; i--)
            json_array_append_new(a, junk(r, depth + 1));
        return a;
    }
    default: {
        json_t *o = json_object();
        json_object_set_new(o, "index", junk(r, depth + 1));
        json_object_set_new(o, "term", junk(r, depth + 1));
        return o;
    }
    }
}

START_TEST(random_events_never_break_the_model_or_the_screen)
{
    static const char *const evs[] = {"send", "recv", "drop", "state", "status", "vote", "append",
                                      "truncate", "commit", "apply", "quorum", "fault", "cluster",
                                      "output", "lesson", "op", "invariant", "speed", "bogus"};
    static const char *const keys[] = {"node", "to", "from", "type", "msg_id", "role", "term",
                                       "index", "count", "what", "groups", "candidate", "acked",
                                       "missing", "need", "nodes", "status", "text", "src", "dst",
                                       "ms", "pct", "log", "leader", "t", "cmd", "stopped"};
    int seeds = test_seeds(40);
    for (int seed = 1; seed <= seeds; seed++) {
        struct rng r;
        rng_seed(&r, (uint64_t)seed);
        struct dm *m = three();
        struct canvas *c = canvas_new(120, 40, seed % 2);
        for (int k = 0; k < 300; k++) {
            json_t *ev = json_object();
            json_object_set_new(ev, "ev", json_string(evs[rng_range(&r, 0, CL_ARRAY_LEN(evs) - 1)]));
            for (uint64_t f = rng_range(&r, 0, 8); f > 0; f--)
                json_object_set_new(ev, keys[rng_range(&r, 0, CL_ARRAY_LEN(keys) - 1)], junk(&r, 0));
            dm_feed(m, ev);
            json_decref(ev);
            if (k % 25 == 0) {
                int cols = (int)rng_range(&r, 1, 200), rows = (int)rng_range(&r, 1, 60);
                canvas_resize(c, cols, rows);
                struct layout l;
                layout_compute(cols, rows, rng_range(&r, 0, 1) ? LAYOUT_LESSON : 0, &l);
                struct render_ui ui = {.focus = PANE_CMDLINE, .selected_msg = (long)rng_range(&r, 0, 50) - 1,
                                       .show_json = true, .filter = "", .cmdline = true};
                render_screen(c, &l, m, &ui);
                if (k % 50 == 0)
                    dm_seek(m, rng_range(&r, 0, dm_count(m)));
                else
                    dm_thaw(m);
            }
        }
        ck_assert_msg(dm_count(m) == 301, "seed %d", seed);
        canvas_free(&c);
        dm_destroy(&m);
    }
}
END_TEST

START_TEST(huge_text_is_capped)
{
    struct dm *m = three();
    char *big = xmalloc(100001);
    memset(big, 'a', 100000);
    big[100000] = 0;
    json_t *ev = json_pack("{s:s, s:s, s:i, s:i, s:s}", "ev", "append", "node", "n1", "index", 1,
                           "term", 1, "cmd", big);
    dm_feed(m, ev);
    json_decref(ev);
    ev = json_pack("{s:s, s:s}", "ev", "output", "text", big);
    dm_feed(m, ev);
    json_decref(ev);
    ck_assert_uint_le(strlen(dm_view(m)->node[0].log[0].cmd), DM_MAX_TEXT);
    ck_assert_uint_le(strlen(dm_output_at(dm_view(m), 0)), 4 * DM_MAX_TEXT);
    free(big);
    dm_destroy(&m);
}
END_TEST

START_TEST(a_client_exchange_is_drawn_from_the_node_events)
{
    struct dm *m = three();
    /* the gateway emits no event: the node's recv draws the request, its send the reply */
    feed(m, "{\"ev\":\"recv\",\"node\":\"n1\",\"from\":\"c0\",\"type\":\"echo\",\"msg_id\":3}");
    const struct dm_msg *q = last_msg(dm_view(m));
    ck_assert_str_eq(q->src, "c0");
    ck_assert_str_eq(q->dst, "n1");
    ck_assert_int_eq(q->st, DM_DELIVERED);
    feed(m, "{\"ev\":\"send\",\"node\":\"n1\",\"to\":\"c0\",\"type\":\"echo_ok\",\"body\":{\"type\":\"echo_ok\",\"in_reply_to\":3}}");
    const struct dm_msg *r = last_msg(dm_view(m));
    ck_assert_str_eq(r->type, "echo_ok");
    ck_assert_int_eq(r->st, DM_DELIVERED);
    ck_assert_uint_eq(dm_view(m)->nmsgs, 2);
    /* between nodes a message stays pending until its receiver says so */
    feed(m, "{\"ev\":\"send\",\"node\":\"n1\",\"to\":\"n2\",\"type\":\"ping\"}");
    ck_assert_int_eq(last_msg(dm_view(m))->st, DM_PENDING);
    dm_destroy(&m);
}
END_TEST

START_TEST(the_cluster_event_gives_role_classes_and_card_figures)
{
    struct dm *m = dm_new(0);
    feed(m, "{\"ev\":\"cluster\",\"mode\":\"two-phase\",\"nodes\":[\"n1\",\"n2\"],"
            "\"roles\":{\"coordinator\":\"coordinator\",\"boss\":\"leader\",\"cohort\":\"participant\"},"
            "\"figures\":[{\"key\":\"extra.txns\",\"label\":\"txns\",\"card\":\"tx\"},{\"key\":\"commit\",\"label\":\"commit\"}]}");
    feed(m, "{\"ev\":\"state\",\"node\":\"n1\",\"role\":\"boss\",\"epoch\":2}");
    feed(m, "{\"ev\":\"state\",\"node\":\"n2\",\"role\":\"cohort\"}");
    const struct dm_state *s = dm_view(m);
    ck_assert_int_eq(s->node[0].rclass, RC_LEADER);
    ck_assert_str_eq(s->node[0].leader, "n1"); /* a leader leads itself */
    ck_assert_int_eq(s->node[1].rclass, RC_PARTICIPANT);
    feed(m, "{\"ev\":\"status\",\"node\":\"n2\",\"status\":{\"role\":\"cohort\",\"commit\":4,\"extra\":{\"txns\":7}}}");
    ck_assert_str_eq(dm_view(m)->node[1].card, "tx7"); /* commit has no card label */
    ck_assert_str_eq(dm_view(m)->node[0].card, "tx-");
    /* a trace without a face: roles named like a class have it, figures are commit/applied */
    struct dm *old = three();
    feed(old, "{\"ev\":\"state\",\"node\":\"n3\",\"role\":\"candidate\",\"term\":2}");
    feed(old, "{\"ev\":\"state\",\"node\":\"n2\",\"role\":\"precandidate\",\"term\":2}");
    feed(old, "{\"ev\":\"commit\",\"node\":\"n3\",\"index\":5}");
    ck_assert_int_eq(dm_view(old)->node[2].rclass, RC_CANDIDATE);
    ck_assert_int_eq(dm_view(old)->node[1].rclass, RC_UNKNOWN);
    ck_assert_str_eq(dm_view(old)->node[2].card, "c5 a0");
    dm_destroy(&old);
    dm_destroy(&m);
}
END_TEST

START_TEST(a_converged_mark_and_a_watched_key_are_drawn)
{
    struct dm *m = three();
    feed(m, "{\"ev\":\"digest\",\"node\":\"n1\",\"t\":10,\"key\":\"cart\",\"ctx\":\"n1:1\",\"hash\":\"ab\",\"value\":[\"milk\"]}");
    ck_assert_str_eq(dm_view(m)->node[0].watch, ""); /* nothing watched yet */
    feed(m, "{\"ev\":\"watch\",\"node\":\"lab\",\"t\":20,\"key\":\"cart\"}");
    feed(m, "{\"ev\":\"digest\",\"node\":\"n2\",\"t\":30,\"key\":\"cart\",\"ctx\":\"n1:1,n2:1\",\"hash\":\"cd\",\"value\":[\"eggs\",\"milk\"]}");
    feed(m, "{\"ev\":\"digest\",\"node\":\"n2\",\"t\":31,\"key\":\"other\",\"ctx\":\"n2:1\",\"hash\":\"ef\",\"value\":1}");
    feed(m, "{\"ev\":\"converged\",\"node\":\"lab\",\"t\":2500000,\"key\":\"cart\",\"replicas\":3,\"after_ms\":120}");
    const struct dm_state *s = dm_view(m);
    ck_assert_str_eq(s->watch_key, "cart");
    ck_assert_str_eq(s->node[1].watch, "cart [\"eggs\",\"milk\"] n1:1,n2:1");
    ck_assert_str_eq(s->node[0].watch, "");
    ck_assert_int_eq(s->nconverged, 1);
    ck_assert_str_eq(s->converged_key, "cart");
    ck_assert_uint_eq(s->converged_t, 2500000);
    json_t *mark = json_pack("{s:s,s:s}", "ev", "converged", "node", "lab");
    ck_assert(dm_event_is_mark(mark));
    json_decref(mark);
    dm_destroy(&m);
}
END_TEST


START_TEST(a_watched_keys_internal_state_is_kept_per_node_from_its_digest)
{
    struct dm *m = three();
    feed(m, "{\"ev\":\"watch\",\"node\":\"lab\",\"t\":20,\"key\":\"cart\"}");
    feed(m, "{\"ev\":\"digest\",\"node\":\"n2\",\"t\":30,\"key\":\"cart\",\"ctx\":\"n1:1,n2:1\",\"value\":[\"milk\"],"
            "\"why\":\"merge from n1 (delta)\",\"state\":{\"t\":\"orset\",\"cols\":[\"dots\"],\"rows\":[[\"milk\",\"n1:1 n2:1\"],"
            "\"not a row\",[],[42,7]],\"foot\":[[\"removed\",\"n3:1\"]],\"more\":3,\"about\":\"add wins\"}}");
    const struct dm_state *s = dm_view(m);
    const struct dm_wnode *w = &s->wst[1];
    ck_assert(w->has);
    ck_assert(!s->wst[0].has);
    ck_assert_str_eq(w->type, "orset");
    ck_assert_str_eq(w->value, "[\"milk\"]");
    ck_assert_str_eq(w->ctx, "n1:1,n2:1");
    ck_assert_str_eq(w->why, "merge from n1 (delta)");
    ck_assert_str_eq(w->about, "add wins");
    ck_assert_int_eq(w->ncols, 1);
    ck_assert_str_eq(w->cols[0], "dots");
    ck_assert_int_eq(w->nrows, 3); /* the malformed rows are left out; a number is drawn as JSON */
    ck_assert_str_eq(w->rows[0].key, "milk");
    ck_assert_str_eq(w->rows[0].cell[0], "n1:1 n2:1");
    ck_assert_str_eq(w->rows[1].key, "42");
    ck_assert_str_eq(w->rows[1].cell[0], "7");
    ck_assert(w->rows[2].foot);
    ck_assert_str_eq(w->rows[2].key, "removed");
    ck_assert_int_eq(w->more, 3);
    ck_assert_uint_eq(w->t, 30);
    /* the type's text is said once per key: a later digest without it keeps it */
    feed(m, "{\"ev\":\"digest\",\"node\":\"n2\",\"t\":31,\"key\":\"cart\",\"ctx\":\"n1:1,n2:2\","
            "\"state\":{\"t\":\"orset\",\"cols\":[\"dots\"],\"rows\":[[\"milk\",\"n1:1 n2:1\"]],\"more\":3}}");
    ck_assert_str_eq(dm_view(m)->wst[1].about, "add wins");
    ck_assert_str_eq(dm_view(m)->wst[1].ctx, "n1:1,n2:2");
    /* a digest without the table: the entries stay, value and context are the new ones */
    feed(m, "{\"ev\":\"digest\",\"node\":\"n2\",\"t\":32,\"key\":\"cart\",\"ctx\":\"n1:1,n2:3\",\"value\":[]}");
    ck_assert_str_eq(dm_view(m)->wst[1].ctx, "n1:1,n2:3");
    ck_assert_str_eq(dm_view(m)->wst[1].value, "[]");
    ck_assert_int_eq(dm_view(m)->wst[1].nrows, 1);
    ck_assert_str_eq(dm_view(m)->wst[1].rows[0].key, "milk");
    /* a state of more entries than kept: counted, not kept */
    struct sb big = {0};
    sb_add(&big, "{\"ev\":\"digest\",\"node\":\"n1\",\"t\":40,\"key\":\"cart\",\"ctx\":\"\",\"state\":{\"t\":\"gset\",\"rows\":[");
    for (int i = 0; i < 40; i++)
        sb_printf(&big, "%s[\"e%d\"]", i ? "," : "", i);
    sb_add(&big, "]}}");
    feed(m, big.s);
    sb_free(&big);
    ck_assert_int_eq(dm_view(m)->wst[0].nrows, DM_WROWS);
    ck_assert_int_eq(dm_view(m)->wst[0].more, 40 - DM_WROWS);
    /* the moment of convergence is remembered per key */
    feed(m, "{\"ev\":\"converged\",\"node\":\"lab\",\"t\":2500000,\"key\":\"cart\",\"replicas\":3,\"after_ms\":120}");
    ck_assert_int_eq(dm_view(m)->nconv, 1);
    ck_assert_str_eq(dm_view(m)->conv[0].key, "cart");
    ck_assert_int_eq(dm_view(m)->conv[0].after_ms, 120);
    /* watch off: nothing watched, every state let go */
    feed(m, "{\"ev\":\"watch\",\"node\":\"lab\",\"t\":50,\"key\":\"\"}");
    ck_assert_str_eq(dm_view(m)->watch_key, "");
    ck_assert(!dm_view(m)->wst[1].has);
    /* a watch of a key updated before: the lab adds each node's newest digest of it */
    feed(m, "{\"ev\":\"watch\",\"node\":\"lab\",\"t\":60,\"key\":\"hits\",\"digests\":[{\"ev\":\"digest\",\"node\":\"n3\","
            "\"t\":5,\"key\":\"hits\",\"ctx\":\"n3:1\",\"value\":2,\"state\":{\"t\":\"gcounter\",\"rows\":[[\"n3\",\"2\"]]}},"
            "{\"ev\":\"digest\",\"node\":\"n2\",\"t\":6,\"key\":\"other\",\"ctx\":\"n2:1\"},\"junk\"]}");
    ck_assert(dm_view(m)->wst[2].has);
    ck_assert_str_eq(dm_view(m)->wst[2].rows[0].cell[0], "2");
    ck_assert_str_eq(dm_view(m)->node[2].watch, "hits 2 n3:1");
    ck_assert(!dm_view(m)->wst[1].has); /* another key's digest is not this one's */
    dm_destroy(&m);
}
END_TEST

Suite *suite_dashmodel(void);
Suite *suite_dashmodel(void)
{
    Suite *s = suite_create("dashmodel");
    TCase *tc = tcase_create("model");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, cluster_event_names_the_nodes);
    tcase_add_test(tc, state_event_sets_role_term_and_leader);
    tcase_add_test(tc, message_is_pending_until_received_by_msg_id);
    tcase_add_test(tc, messages_without_id_are_matched_in_order);
    tcase_add_test(tc, drop_after_send_marks_the_message_dropped_with_reason);
    tcase_add_test(tc, drop_at_the_receiver_without_send_adds_a_dropped_message);
    tcase_add_test(tc, message_ring_keeps_the_newest);
    tcase_add_test(tc, partition_groups_nodes_and_heal_clears_them);
    tcase_add_test(tc, unnamed_nodes_join_the_last_group);
    tcase_add_test(tc, process_faults_change_up_down_paused);
    tcase_add_test(tc, a_bandwidth_and_its_queue_show_on_the_link);
    tcase_add_test(tc, conflicting_append_replaces_the_entry_and_what_follows);
    tcase_add_test(tc, huge_append_count_is_capped);
    tcase_add_test(tc, status_snapshot_sets_figures_clocks_and_log);
    tcase_add_test(tc, vote_tally_records_grants_and_denials_with_reason);
    tcase_add_test(tc, quorum_event_records_who_answered);
    tcase_add_test(tc, freeze_keeps_the_view_while_live_advances);
    tcase_add_test(tc, seek_back_and_forth_rebuilds_the_state_at_each_position);
    tcase_add_test(tc, full_recording_lets_old_events_go_but_keeps_the_live_state);
    tcase_add_test(tc, bad_events_are_counted_and_ignored);
    tcase_add_test(tc, repeated_cluster_event_keeps_the_state);
    tcase_add_test(tc, output_event_splits_lines);
    tcase_add_test(tc, lesson_event_sets_and_clears_the_step);
    tcase_add_test(tc, invariant_events_become_alerts);
    tcase_add_test(tc, filter_matches_every_word_and_event_type);
    tcase_add_test(tc, event_line_escapes_control_bytes);
    tcase_add_test(tc, random_events_never_break_the_model_or_the_screen);
    tcase_add_test(tc, huge_text_is_capped);
    tcase_add_test(tc, a_client_exchange_is_drawn_from_the_node_events);
    tcase_add_test(tc, the_cluster_event_gives_role_classes_and_card_figures);
    tcase_add_test(tc, a_converged_mark_and_a_watched_key_are_drawn);
    tcase_add_test(tc, a_watched_keys_internal_state_is_kept_per_node_from_its_digest);
    suite_add_tcase(s, tc);
    return s;
}
