/* check_render — what a user sees: the model drawn into a text canvas (tui/render.h). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "canvas.h"
#include "dash.h"
#include "layout.h"
#include "lesson.h"
#include "model.h"
#include "render.h"
#include "test_util.h"
#include "trace.h"

static void feed(struct dm *m, const char *json)
{
    json_t *ev = json_loads(json, 0, NULL);
    ck_assert_msg(ev != NULL, "test JSON does not parse: %s", json);
    dm_feed(m, ev);
    json_decref(ev);
}

static struct dm *fixture(void)
{
    struct trace tr;
    struct sb err = {0};
    int rc = trace_load("tests/traces/raft3.jsonl", &tr, &err);
    ck_assert_msg(rc == 0, "fixture: %s", err.s ? err.s : "");
    ck_assert_uint_eq(tr.bad, 0);
    struct dm *m = dm_new(0);
    for (size_t i = 0; i < tr.n; i++)
        dm_feed(m, tr.ev[i]);
    trace_free(&tr);
    sb_free(&err);
    return m;
}

static void ui_init(struct render_ui *ui)
{
    memset(ui, 0, sizeof *ui);
    ui->mode = RENDER_LIVE;
    ui->focus = PANE_CMDLINE;
    ui->cmdline = true;
    ui->selected_msg = -1;
    ui->filter = "";
    ui->prompt = "conlab> ";
    ui->line = "";
    ui->help_lines = dash_help_lines();
}

/* The screen as text; caller frees. */
static char *screen(const struct dm *m, int cols, int rows, bool utf8, const struct render_ui *ui)
{
    struct canvas *c = canvas_new(cols, rows, utf8);
    struct layout l;
    render_layout(m, cols, rows, true, &l);
    render_screen(c, &l, m, ui);
    char *text = canvas_dump(c);
    canvas_free(&c);
    return text;
}

/* Fails when needle is not on the screen, printing the screen to stderr (it is too long for
 * Check's message). */
#define EXPECT_ON_SCREEN(screen_text, needle)                                                  \
    do {                                                                                     \
        if (!strstr((screen_text), (needle))) {                                              \
            fputs((screen_text), stderr);                                                    \
            ck_abort_msg("not on the screen: %s", (needle));                                 \
        }                                                                                    \
    } while (0)

/* The row of the screen holding needle, or NULL. */
static const char *line_with(const char *text, const char *needle, char *buf, size_t n)
{
    const char *p = strstr(text, needle);
    if (!p)
        return NULL;
    const char *a = p;
    while (a > text && a[-1] != '\n')
        a--;
    size_t len = strcspn(a, "\n");
    snprintf(buf, n, "%.*s", (int)len, a);
    return buf;
}

START_TEST(leader_is_marked_at_both_sizes)
{
    struct dm *m = dm_new(0);
    feed(m, "{\"ev\":\"cluster\",\"mode\":\"raft\",\"nodes\":[\"n1\",\"n2\",\"n3\"]}");
    feed(m, "{\"ev\":\"state\",\"node\":\"n2\",\"role\":\"leader\",\"term\":3}");
    feed(m, "{\"ev\":\"state\",\"node\":\"n1\",\"role\":\"follower\",\"term\":3}");
    struct render_ui ui;
    ui_init(&ui);
    int sizes[][2] = {{120, 40}, {80, 24}, {60, 16}};
    for (size_t i = 0; i < CL_ARRAY_LEN(sizes); i++) {
        char *s = screen(m, sizes[i][0], sizes[i][1], true, &ui);
        ck_assert_msg(strstr(s, "LEADER t3") || strstr(s, "LEADER  term 3"), "%dx%d:\n%s",
                      sizes[i][0], sizes[i][1], s);
        ck_assert_msg(!strstr(s, "n1 ★") && !strstr(s, "n3 ★"), "only n2 is leader:\n%s", s);
        free(s);
    }
    char *s = screen(m, 120, 40, true, &ui);
    ck_assert_msg(strstr(s, "n2 ★"), "%s", s);
    ck_assert_ptr_nonnull(strstr(s, "follower  term 3")); /* wide cards say it in words */
    free(s);
    dm_destroy(&m);
}
END_TEST

START_TEST(partition_draws_separated_groups)
{
    struct dm *m = fixture();
    struct render_ui ui;
    ui_init(&ui);
    char *s = screen(m, 120, 40, true, &ui);
    char row[512];
    ck_assert_msg(line_with(s, "partition: n1 | n2,n3", row, sizeof row), "%s", s);
    /* n1's box, then the separator, then n2 and n3 */
    ck_assert_msg(line_with(s, "┌ n1", row, sizeof row), "%s", s);
    const char *sep = strstr(row, "┃");
    ck_assert_ptr_nonnull(sep);
    ck_assert(strstr(row, "┌ n1") < sep && sep < strstr(row, "┌ n2"));
    free(s);
    /* the same in plain ASCII at 80x24 */
    s = screen(m, 80, 24, false, &ui);
    ck_assert_msg(strstr(s, "partition: n1 | n2,n3"), "%s", s);
    ck_assert_msg(line_with(s, "+ n1", row, sizeof row) && strchr(row, '#'), "%s", s);
    free(s);
    /* after heal, no groups */
    feed(m, "{\"ev\":\"fault\",\"what\":\"heal\"}");
    s = screen(m, 120, 40, true, &ui);
    ck_assert_ptr_null(strstr(s, "partition:"));
    ck_assert_ptr_null(strstr(s, "┃"));
    free(s);
    dm_destroy(&m);
}
END_TEST

START_TEST(dropped_message_is_crossed_out)
{
    struct dm *m = dm_new(0);
    feed(m, "{\"ev\":\"cluster\",\"mode\":\"raft\",\"nodes\":[\"n1\",\"n2\",\"n3\"]}");
    feed(m, "{\"ev\":\"send\",\"node\":\"n1\",\"to\":\"n3\",\"type\":\"append_entries\",\"msg_id\":1}");
    feed(m, "{\"ev\":\"drop\",\"node\":\"n1\",\"to\":\"n3\",\"type\":\"append_entries\",\"msg_id\":1,\"why\":\"loss\"}");
    feed(m, "{\"ev\":\"send\",\"node\":\"n2\",\"to\":\"n1\",\"type\":\"heartbeat\",\"msg_id\":2}");
    feed(m, "{\"ev\":\"recv\",\"node\":\"n1\",\"from\":\"n2\",\"type\":\"heartbeat\",\"msg_id\":2}");
    feed(m, "{\"ev\":\"send\",\"node\":\"n3\",\"to\":\"n2\",\"type\":\"vote\",\"msg_id\":3}");
    struct render_ui ui;
    ui_init(&ui);
    char *s = screen(m, 120, 40, true, &ui);
    char row[512];
    ck_assert_msg(line_with(s, "append_entries ✗ loss", row, sizeof row), "%s", s);
    ck_assert_msg(strstr(row, "╌") && strstr(row, "✗"), "%s", row);
    ck_assert_msg(line_with(s, "heartbeat", row, sizeof row) && strstr(row, "◀"), "%s", s);
    ck_assert_msg(line_with(s, "vote", row, sizeof row) && strstr(row, "┄") && strstr(row, "…"),
                  "an in-flight message is drawn pending:\n%s", s);
    free(s);
    s = screen(m, 80, 24, false, &ui);
    ck_assert_msg(line_with(s, "append_entries x loss", row, sizeof row), "%s", s);
    free(s);
    dm_destroy(&m);
}
END_TEST

START_TEST(escape_sequences_in_keys_are_shown_escaped)
{
    struct dm *m = fixture();
    struct render_ui ui;
    ui_init(&ui);
    ui.line = "put k\x1b]0;pwned\x07 v";
    ui.point = (int)strlen(ui.line);
    for (int utf8 = 0; utf8 < 2; utf8++) {
        struct canvas *c = canvas_new(120, 40, utf8);
        struct layout l;
        layout_compute(120, 40, 0, &l);
        render_screen(c, &l, m, &ui);
        for (int i = 0; i < c->cols * c->rows; i++) {
            uint32_t cp = c->cells[i].cp;
            ck_assert_msg(cp == 0 || (cp >= 0x20 && cp != 0x7f && !(cp >= 0x80 && cp < 0xa0) &&
                                      !(cp >= 0x202a && cp <= 0x202e)),
                          "control code point U+%04x reached cell %d", cp, i);
        }
        char *s = canvas_dump(c);
        ck_assert_msg(strstr(s, "key=k\\e[31mred value=v\\u202e"), "%s", s);
        ck_assert_msg(strstr(s, "put k\\e]0;pwned\\x07 v"), "the command line is escaped:\n%s", s);
        free(s);
        canvas_free(&c);
    }
    dm_destroy(&m);
}
END_TEST

START_TEST(help_overlay_lists_every_key)
{
    struct dm *m = fixture();
    struct render_ui ui;
    ui_init(&ui);
    ui.help = true;
    char *s = screen(m, 120, 40, true, &ui);
    const char *keys[] = {"F1 or ?", "Tab", "PgUp/PgDn", "Space", "- and +", "quit or Ctrl-D",
                          "Left/Right", "Ctrl-Z", "/", "F2", "F3", "Esc", "Home/End", "Ctrl-C"};
    for (size_t i = 0; i < CL_ARRAY_LEN(keys); i++)
        ck_assert_msg(strstr(s, keys[i]), "help lacks %s:\n%s", keys[i], s);
    ck_assert_ptr_nonnull(strstr(s, "Help: keys"));
    /* and what the screen shows: the legend of the short forms */
    const char *legend[] = {"c12 a12", "commit index 12", "L42 vc[3,5,1]", "Lamport clock",
                            "vector clock", "ALERTS n", "own vote", "speed 0.1"};
    for (size_t i = 0; i < CL_ARRAY_LEN(legend); i++)
        ck_assert_msg(strstr(s, legend[i]), "the legend lacks %s:\n%s", legend[i], s);
    free(s);
    dm_destroy(&m);
}
END_TEST

static void feed_json(struct dm *m, const char *text)
{
    json_t *j = json_loads(text, 0, NULL);
    ck_assert_ptr_nonnull(j);
    dm_feed(m, j);
    json_decref(j);
}

START_TEST(clocks_pane_shows_offsets_drift_ntp_and_truetime_at_80x24_and_120x40)
{
    struct dm *m = fixture();
    feed_json(m, "{\"t\":9000000,\"ev\":\"status\",\"node\":\"n1\",\"status\":{\"role\":\"follower\",\"clock_us\":5000000,"
                 "\"offset_us\":30000,\"drift_ppm\":0,\"ntp\":false,\"lamport\":7,\"vc\":[6,2,3],"
                 "\"truetime\":{\"earliest\":4993000,\"latest\":5007000,\"epsilon_us\":7000}}}");
    feed_json(m, "{\"t\":9000001,\"ev\":\"status\",\"node\":\"n2\",\"status\":{\"role\":\"follower\",\"clock_us\":5000000,"
                 "\"offset_us\":1500,\"drift_ppm\":500,\"ntp\":true,\"lamport\":8,\"vc\":[2,4,4],"
                 "\"truetime\":{\"earliest\":4993000,\"latest\":5007000,\"epsilon_us\":7000}}}");
    struct render_ui ui;
    ui_init(&ui);
    ui.clocks = true;
    static const int sizes[][2] = {{80, 24}, {120, 40}};
    for (size_t k = 0; k < CL_ARRAY_LEN(sizes); k++) {
        char *s = screen(m, sizes[k][0], sizes[k][1], true, &ui);
        ck_assert_msg(strstr(s, "Clocks"), "%s", s);
        ck_assert_msg(strstr(s, "+30.0ms"), "%s", s);
        ck_assert_msg(strstr(s, "TT[+23.0,+37.0]ms MISSES"), "%s", s);
        ck_assert_msg(strstr(s, "+1.5ms* +500ppm L8 [2,4,4]"), "%s", s);
        ck_assert_msg(strstr(s, "TT[-5.5,+8.5]ms ok"), "%s", s);
        free(s);
    }
    ui.clocks = false;
    char *s = screen(m, 120, 40, true, &ui);
    ck_assert_msg(!strstr(s, "MISSES"), "%s", s);
    free(s);
    dm_destroy(&m);
}
END_TEST

START_TEST(f5_marks_the_messages_before_and_after_the_selected_one)
{
    struct dm *m = dm_new(0);
    feed_json(m, "{\"t\":1,\"ev\":\"cluster\",\"mode\":\"raft\",\"nodes\":[\"n1\",\"n2\",\"n3\"]}");
    /* n1 -> n2 (a), then n2 -> n3 (b: after a's arrival), and n3 -> n1 (c) concurrent with a */
    feed_json(m, "{\"t\":10,\"ev\":\"send\",\"node\":\"n1\",\"to\":\"n2\",\"type\":\"aaa\"}");
    feed_json(m, "{\"t\":11,\"ev\":\"send\",\"node\":\"n3\",\"to\":\"n1\",\"type\":\"ccc\"}");
    feed_json(m, "{\"t\":20,\"ev\":\"recv\",\"node\":\"n2\",\"from\":\"n1\",\"type\":\"aaa\"}");
    /* b's arrival at n3 comes in before its send (each node's events on their own stream) */
    feed_json(m, "{\"t\":40,\"ev\":\"recv\",\"node\":\"n3\",\"from\":\"n2\",\"type\":\"bbb\"}");
    feed_json(m, "{\"t\":30,\"ev\":\"send\",\"node\":\"n2\",\"to\":\"n3\",\"type\":\"bbb\"}");
    feed_json(m, "{\"t\":50,\"ev\":\"send\",\"node\":\"n3\",\"to\":\"n2\",\"type\":\"ddd\"}");
    struct render_ui ui;
    ui_init(&ui);
    ui.causal = true;
    ui.selected_msg = 2; /* bbb */
    char *s = screen(m, 120, 40, false, &ui);
    ck_assert_msg(strstr(s, "Messages (< before, > after, . concurrent)"), "%s", s);
    const char *lines[][2] = {{"aaa", "<"}, {"ccc", "."}, {"ddd", ">"}};
    for (size_t i = 0; i < CL_ARRAY_LEN(lines); i++) {
        const char *p = strstr(s, lines[i][0]);
        ck_assert_msg(p, "%s", s);
        const char *bol = p;
        while (bol > s && bol[-1] != '\n')
            bol--;
        ck_assert_msg(bol[1] == lines[i][1][0], "%s should be marked %s:\n%s", lines[i][0], lines[i][1], s);
    }
    ck_assert_msg(!strstr(s, "bbb...") , "bbb is drawn pending:\n%s", s);
    free(s);
    dm_destroy(&m);
}
END_TEST

START_TEST(too_small_terminal_says_so_without_crashing)
{
    struct dm *m = fixture();
    struct render_ui ui;
    ui_init(&ui);
    char *s = screen(m, 20, 5, true, &ui);
    ck_assert_msg(strstr(s, "terminal too small"), "%s", s);
    free(s);
    s = screen(m, 1, 1, true, &ui);
    ck_assert_uint_le(strlen(s), 8);
    free(s);
    dm_destroy(&m);
}
END_TEST

START_TEST(ascii_mode_draws_no_byte_above_127)
{
    struct dm *m = fixture();
    struct render_ui ui;
    ui_init(&ui);
    for (int help = 0; help < 2; help++) {
        ui.help = help;
        char *s = screen(m, 120, 40, false, &ui);
        for (const unsigned char *p = (const unsigned char *)s; *p; p++)
            ck_assert_msg(*p < 0x80, "non-ASCII byte at %ld", (long)(p - (const unsigned char *)s));
        if (!help)
            EXPECT_ON_SCREEN(s, "LEADER  term 2");
        free(s);
    }
    dm_destroy(&m);
}
END_TEST

START_TEST(conflicting_log_entry_is_highlighted)
{
    struct dm *m = fixture();
    struct render_ui ui;
    ui_init(&ui);
    struct canvas *c = canvas_new(120, 40, true);
    struct layout l;
    layout_compute(120, 40, 0, &l);
    render_screen(c, &l, m, &ui);
    char *s = canvas_dump(c);
    char row[512];
    /* n1 kept index 3 from term 1; the new leader n2 has term 2 there */
    ck_assert_msg(line_with(s, "!1 put z", row, sizeof row), "%s", s);
    ck_assert_ptr_nonnull(strstr(row, "2 put z"));
    /* and its cells carry the conflict role */
    int found = 0;
    for (int y = l.pane[PANE_LOG].y; y < l.pane[PANE_LOG].y + l.pane[PANE_LOG].h; y++)
        for (int x = l.pane[PANE_LOG].x; x < l.pane[PANE_LOG].x + l.pane[PANE_LOG].w; x++)
            if (canvas_at(c, x, y)->cp == '!' && canvas_at(c, x, y)->role == ROLE_CONFLICT)
                found = 1;
    ck_assert(found);
    free(s);
    canvas_free(&c);
    dm_destroy(&m);
}
END_TEST

START_TEST(committed_entries_are_set_apart_by_a_rule)
{
    struct dm *m = fixture();
    struct render_ui ui;
    ui_init(&ui);
    dm_seek(m, 60); /* n1 leads term 1, commit 2, and has appended index 3 */
    char *s = screen(m, 120, 40, true, &ui);
    const char *two = strstr(s, "│2   1 put y"), *rule = strstr(s, "committed above"),
               *three = strstr(s, "│3   ~1 put z");
    ck_assert_msg(two && rule && three && two < rule && rule < three, "%s", s);
    free(s);
    dm_destroy(&m);
}
END_TEST

START_TEST(votes_and_quorums_show_who_answered)
{
    struct dm *m = fixture();
    struct render_ui ui;
    ui_init(&ui);
    char *s = screen(m, 160, 45, true, &ui);
    EXPECT_ON_SCREEN(s, "W=2 write z: n1 ✗ n2 ✓ n3 ✓  met");
    free(s);
    s = screen(m, 120, 40, true, &ui); /* a narrow pane: the short form, nothing cut */
    EXPECT_ON_SCREEN(s, "W2 z: n1✗ n2✓ n3✓ met");
    EXPECT_ON_SCREEN(s, "term 2 n2: 2/3 votes - won");
    free(s);
    /* a protocol's own quorum (paxos promises, zab acks) is a Q, not a write */
    feed(m, "{\"ev\":\"quorum\",\"node\":\"n1\",\"t\":99000000,\"op\":\"prepare\",\"key\":\"ballot 3.n1\","
            "\"need\":2,\"acked\":[\"n1\",\"n3\"],\"missing\":[\"n2\"],\"ok\":true}");
    s = screen(m, 160, 45, true, &ui);
    EXPECT_ON_SCREEN(s, "Q2 ballot 3.n1: n1✓ n2✗ n3✓ met");
    free(s);
    dm_destroy(&m);
}
END_TEST

START_TEST(votes_count_the_candidates_own_vote)
{
    struct dm *m = dm_new(0);
    feed(m, "{\"ev\":\"cluster\",\"mode\":\"raft\",\"nodes\":[\"n1\",\"n2\",\"n3\"]}");
    feed(m, "{\"ev\":\"vote\",\"node\":\"n2\",\"what\":\"request\",\"term\":5,\"candidate\":\"n2\"}");
    feed(m, "{\"ev\":\"vote\",\"node\":\"n3\",\"what\":\"grant\",\"term\":5,\"candidate\":\"n2\"}");
    feed(m, "{\"ev\":\"state\",\"node\":\"n2\",\"role\":\"leader\",\"term\":5}");
    struct render_ui ui;
    ui_init(&ui);
    char *s = screen(m, 120, 40, true, &ui);
    EXPECT_ON_SCREEN(s, "term 5 n2: 2/3 votes - won"); /* n2's own vote and n3's */
    EXPECT_ON_SCREEN(s, "n2 ✓ own vote");
    free(s);
    dm_destroy(&m);
}
END_TEST

START_TEST(selected_message_shows_its_json)
{
    struct dm *m = fixture();
    struct render_ui ui;
    ui_init(&ui);
    const struct dm_state *st = dm_view(m);
    for (size_t i = 0; i < st->nmsgs; i++)
        if (dm_msg_at(st, i)->msg_id == 101)
            ui.selected_msg = (long)i;
    ck_assert_int_ge(ui.selected_msg, 0);
    ui.show_json = true;
    char *s = screen(m, 120, 40, true, &ui);
    ck_assert_msg(strstr(s, "message n2 -> n1 DROPPED"), "%s", s);
    ck_assert_msg(strstr(s, "\"msg_id\": 101"), "%s", s);
    free(s);
    dm_destroy(&m);
}
END_TEST

START_TEST(events_filter_shows_only_matching_events)
{
    struct dm *m = fixture();
    struct render_ui ui;
    ui_init(&ui);
    ui.filter = "ev=drop";
    struct canvas *c = canvas_new(120, 40, true);
    struct layout l;
    layout_compute(120, 40, 0, &l);
    render_screen(c, &l, m, &ui);
    int drops = 0;
    for (int y = l.pane[PANE_EVENTS].y + 1; y < l.pane[PANE_EVENTS].y + l.pane[PANE_EVENTS].h - 1; y++) {
        struct sb b = {0};
        canvas_row_text(c, y, &b);
        const char *inside = b.s + 3; /* past the border */
        if (strstr(inside, " drop "))
            drops++;
        else
            ck_assert_msg(strspn(inside, " ") >= (size_t)(l.pane[PANE_EVENTS].w - 2) ||
                              !strstr(inside, "s n"),
                          "non-matching event shown: %s", b.s);
        sb_free(&b);
    }
    ck_assert_int_eq(drops, 3);
    char *s = canvas_dump(c);
    ck_assert_ptr_nonnull(strstr(s, "Events [filter: ev=drop]"));
    free(s);
    canvas_free(&c);
    dm_destroy(&m);
}
END_TEST

START_TEST(indexed_filter_draws_the_same_as_a_scan)
{
    struct dm *m = fixture();
    struct render_ui ui;
    ui_init(&ui);
    ui.filter = "n2";
    dm_seek(m, 60);
    char *scan = screen(m, 120, 40, true, &ui);
    uint64_t pos[100];
    size_t n = 0;
    for (uint64_t p = 0; p < dm_count(m); p++)
        if (dm_event_matches(dm_event_at(m, p), ui.filter))
            pos[n++] = p;
    ck_assert_uint_gt(n, 10);
    ui.matches = pos;
    ui.nmatches = n;
    char *indexed = screen(m, 120, 40, true, &ui);
    ck_assert_str_eq(scan, indexed);
    free(scan);
    free(indexed);
    dm_destroy(&m);
}
END_TEST

START_TEST(time_travel_shows_the_past_state)
{
    struct dm *m = fixture();
    struct render_ui ui;
    ui_init(&ui);
    dm_seek(m, 20); /* before the partition, n1 has just won */
    char *s = screen(m, 120, 40, true, &ui);
    ck_assert_msg(strstr(s, "FROZEN 20/74"), "%s", s);
    ck_assert_ptr_null(strstr(s, "partition:"));
    ck_assert_ptr_nonnull(strstr(s, "n1 ★"));
    ck_assert_ptr_null(strstr(s, "n2 ★"));
    free(s);
    dm_destroy(&m);
}
END_TEST

START_TEST(output_follows_live_while_frozen_on_the_labs_screen)
{
    struct dm *m = fixture();
    dm_freeze(m);
    feed(m, "{\"ev\":\"output\",\"text\":\"n1 raft leader term=1 commit=2 up\"}");
    struct render_ui ui;
    ui_init(&ui);
    char *s = screen(m, 120, 40, true, &ui);
    ck_assert_ptr_null(strstr(s, "n1 raft leader term=1")); /* a replay shows the past */
    free(s);
    ui.output_live = true;
    s = screen(m, 120, 40, true, &ui);
    ck_assert_ptr_nonnull(strstr(s, "n1 raft leader term=1"));
    ck_assert_ptr_nonnull(strstr(s, "FROZEN 74/75"));
    free(s);
    dm_destroy(&m);
}
END_TEST

START_TEST(lesson_pane_shows_step_check_and_hint)
{
    struct dm *m = fixture();
    feed(m, "{\"ev\":\"lesson\",\"active\":true,\"title\":\"split-brain · step 2 of 8\","
            "\"text\":\"Step 2 of 8: Cut\\nCut the leader off\\nfrom the others and watch what "
            "happens.\\n\\nTry:\\n    partition n1 | n2,n3\\n    promote n2\\n\\nHint 1/1: n1 alone.\\n\","
            "\"check\":\"not yet: no second leader yet\"}");
    struct render_ui ui;
    ui_init(&ui);
    int sizes[][2] = {{120, 40}, {80, 24}};
    for (size_t i = 0; i < CL_ARRAY_LEN(sizes); i++) {
        char *s = screen(m, sizes[i][0], sizes[i][1], true, &ui);
        EXPECT_ON_SCREEN(s, "Lesson split-brain · step 2 of 8");
        /* the file's line breaks are not the pane's: one paragraph */
        EXPECT_ON_SCREEN(s, "Cut the leader off from the others");
        EXPECT_ON_SCREEN(s, "Try: partition n1 | n2,n3 · promote n2");
        EXPECT_ON_SCREEN(s, "Hint 1/1: n1 alone.");
        EXPECT_ON_SCREEN(s, "not yet: no second leader yet");
        free(s);
    }
    dm_destroy(&m);
}
END_TEST

/* The text inside a pane (its border excluded), rows joined by spaces, runs of spaces made
 * one; caller frees. */
static char *pane_text(const struct canvas *c, const struct rect *r)
{
    struct sb b = {0};
    for (int y = r->y + 1; y < r->y + r->h - 1; y++) {
        sb_addc(&b, ' ');
        for (int x = r->x + 1; x < r->x + r->w - 1; x++) {
            const struct cell *cl = canvas_at(c, x, y);
            uint32_t cp = cl->cp;
            if (cp == 0)
                continue;
            char u[5] = {0};
            if (cp < 0x80) {
                u[0] = (char)cp;
            } else if (cp < 0x800) {
                u[0] = (char)(0xc0 | (cp >> 6));
                u[1] = (char)(0x80 | (cp & 0x3f));
            } else if (cp < 0x10000) {
                u[0] = (char)(0xe0 | (cp >> 12));
                u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
                u[2] = (char)(0x80 | (cp & 0x3f));
            } else {
                u[0] = (char)(0xf0 | (cp >> 18));
                u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
                u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
                u[3] = (char)(0x80 | (cp & 0x3f));
            }
            sb_add(&b, u);
        }
    }
    return b.s ? b.s : xstrdup("");
}

/* Whitespace runs made one space, ends trimmed, the text escaped as the screen shows it. */
static char *normalized(const char *text)
{
    struct sb esc = {0}, out = {0};
    sb_add_escaped(&esc, text, strlen(text));
    /* the escape of a line break is a break between words here */
    for (char *p = esc.s; p && (p = strstr(p, "\\n"));)
        memcpy(p, "  ", 2);
    bool space = true;
    for (const char *p = esc.s; p && *p; p++) {
        if (*p == ' ') {
            space = true;
            continue;
        }
        if (space && out.len)
            sb_addc(&out, ' ');
        space = false;
        sb_addc(&out, *p);
    }
    sb_free(&esc);
    return out.s ? out.s : xstrdup("");
}

/* The lesson pane at this size, as the lab's lesson host sends it. */
static char *lesson_screen(struct lesson_engine *e, const struct lesson *l, int cols, int rows,
                           char **pane)
{
    struct dm *m = dm_new(0);
    struct sb ev = {0};
    sb_printf(&ev, "{\"ev\":\"cluster\",\"mode\":\"%s\",\"nodes\":[", l->mode);
    for (int i = 0; i < l->nodes; i++)
        sb_printf(&ev, "%s\"n%d\"", i ? "," : "", i + 1);
    sb_add(&ev, "]}");
    feed(m, ev.s);
    sb_free(&ev);
    struct sb title = {0}, text = {0}, check = {0};
    lesson_engine_status_line(e, &title);
    lesson_engine_pane(e, &text);
    lesson_engine_check_line(e, &check);
    json_t *lev = json_pack("{s:s,s:b,s:s,s:s,s:s}", "ev", "lesson", "active", 1, "title", title.s,
                            "text", text.s, "check", check.s);
    dm_feed(m, lev);
    json_decref(lev);
    sb_free(&title);
    sb_free(&text);
    sb_free(&check);
    struct render_ui ui;
    ui_init(&ui);
    struct canvas *c = canvas_new(cols, rows, true);
    struct layout lay;
    render_layout(m, cols, rows, true, &lay);
    render_screen(c, &lay, m, &ui);
    ck_assert_msg(layout_visible(&lay, PANE_LESSON), "%dx%d: no lesson pane", cols, rows);
    *pane = pane_text(c, &lay.pane[PANE_LESSON]);
    char *screen_text = canvas_dump(c);
    canvas_free(&c);
    dm_destroy(&m);
    return screen_text;
}

/* Every step of every shipped lesson, at 80x24 and 120x40: the step's heading, its whole
 * text and every command to try are in the Lesson pane without scrolling. */
START_TEST(every_step_of_every_lesson_is_readable_at_80x24_and_120x40)
{
    struct lesson_catalog cat;
    char err[512];
    ck_assert_int_eq(lesson_catalog_load("lessons", &cat, err, sizeof err), 0);
    ck_assert_msg(cat.nbad == 0, "%s", cat.nbad ? cat.bad[0] : "");
    ck_assert_int_ge(cat.n, 8);
    int sizes[][2] = {{80, 24}, {120, 40}};
    int checked = 0;
    for (int li = 0; li < cat.n; li++) {
        const struct lesson *l = cat.l[li];
        struct lesson_engine *e = lesson_engine_new(l, NULL, NULL);
        struct sb out = {0};
        if (lesson_engine_phase(e) == LESSON_INTRO)
            lesson_engine_next(e, &out); /* the introduction is a page of its own */
        sb_free(&out);
        for (int st = 0; st < l->nsteps; st++) {
            ck_assert_int_eq(lesson_engine_step(e), st);
            const struct lesson_step *step = &l->steps[st];
            for (size_t k = 0; k < CL_ARRAY_LEN(sizes); k++) {
                char *pane;
                char *scr = lesson_screen(e, l, sizes[k][0], sizes[k][1], &pane);
                char *have = normalized(pane);
                char head[160];
                snprintf(head, sizeof head, "Step %d of %d: %s", st + 1, l->nsteps, step->title);
                char *want_head = normalized(head), *want_text = normalized(step->text);
                ck_assert_msg(strstr(have, want_head), "%s step %s at %dx%d: no heading\n%s", l->id,
                              step->id, sizes[k][0], sizes[k][1], scr);
                ck_assert_msg(strstr(have, want_text), "%s step %s at %dx%d: the text is not all "
                              "in view\n%s", l->id, step->id, sizes[k][0], sizes[k][1], scr);
                for (int c = 0; c < step->ncommands; c++) {
                    char *want_cmd = normalized(step->commands[c]);
                    ck_assert_msg(strstr(have, want_cmd), "%s step %s at %dx%d: command \"%s\" "
                                  "is not in view\n%s", l->id, step->id, sizes[k][0], sizes[k][1],
                                  step->commands[c], scr);
                    free(want_cmd);
                }
                free(want_head);
                free(want_text);
                free(have);
                free(pane);
                free(scr);
                checked++;
            }
            lesson_engine_skip(e, &out); /* on to the next step, as `lesson skip` does */
            sb_free(&out);
        }
        lesson_engine_free(&e);
    }
    ck_assert_int_ge(checked, 2 * 40);
    lesson_catalog_free(&cat);
}
END_TEST

/* The normalized text of one pane of the screen at this size; caller frees. */
static char *pane_of(const struct dm *m, int cols, int rows, const struct render_ui *ui,
                     enum pane_id p)
{
    struct canvas *c = canvas_new(cols, rows, true);
    struct layout l;
    render_layout(m, cols, rows, true, &l);
    render_screen(c, &l, m, ui);
    char *raw = pane_text(c, &l.pane[p]);
    char *text = normalized(raw);
    free(raw);
    canvas_free(&c);
    return text;
}

START_TEST(output_wraps_and_says_when_new_output_came_while_scrolled_back)
{
    struct dm *m = dm_new(0);
    feed(m, "{\"ev\":\"cluster\",\"mode\":\"raft\",\"nodes\":[\"n1\",\"n2\",\"n3\"]}");
    feed(m, "{\"ev\":\"output\",\"text\":\"error 11 quorum not reached: 1 of the 2 acks needed (acked: "
            "n1; no answer: n3, n2); the write may have been applied where it was acked\"}");
    for (int i = 0; i < 30; i++) {
        char ev[96];
        snprintf(ev, sizeof ev, "{\"ev\":\"output\",\"text\":\"line %d\"}", i);
        feed(m, ev);
    }
    struct render_ui ui;
    ui_init(&ui);
    ui.output_live = true;
    char *s = screen(m, 80, 24, true, &ui);
    EXPECT_ON_SCREEN(s, "line 29"); /* following: the newest line at the bottom */
    ck_assert_ptr_null(strstr(s, "new output"));
    free(s);
    /* scrolled back to the long line: all of it, wrapped, nothing cut */
    ui.scroll[PANE_OUTPUT] = 30;
    char *out = pane_of(m, 80, 24, &ui, PANE_OUTPUT);
    ck_assert_msg(strstr(out, "error 11 quorum not reached: 1 of the 2 acks needed (acked: n1; no "
                              "answer: n3, n2); the write may have been applied where it was acked"),
                  "%s", out);
    ck_assert_ptr_null(strstr(out, "line 29"));
    free(out);
    s = screen(m, 80, 24, true, &ui);
    EXPECT_ON_SCREEN(s, "more - End");
    free(s);
    ui.output_unseen = 3; /* lines came while scrolled back: the border says so */
    s = screen(m, 80, 24, true, &ui);
    EXPECT_ON_SCREEN(s, "▼ new output (3) - End");
    free(s);
    dm_destroy(&m);
}
END_TEST

START_TEST(a_hundred_nodes_draw_as_a_compact_grid_with_the_spread)
{
    struct dm *m = dm_new(0);
    struct sb b = {0};
    sb_add(&b, "{\"ev\":\"cluster\",\"mode\":\"gossip\",\"roles\":{\"susceptible\":\"follower\","
               "\"infective\":\"candidate\",\"removed\":\"peer\"},\"figures\":[{\"key\":\"rumors\","
               "\"label\":\"rumors\",\"card\":\"r\",\"grid\":true}],\"nodes\":[");
    for (int i = 1; i <= 100; i++)
        sb_printf(&b, "%s\"n%d\"", i > 1 ? "," : "", i);
    sb_add(&b, "]}");
    feed(m, b.s);
    sb_free(&b);
    for (int i = 1; i <= 100; i++) {
        char ev[200];
        snprintf(ev, sizeof ev, "{\"ev\":\"status\",\"node\":\"n%d\",\"status\":{\"role\":\"%s\",\"rumors\":%d}}", i,
                 i <= 30 ? "infective" : "susceptible", i <= 30 ? 1 : 0);
        feed(m, ev);
    }
    struct render_ui ui;
    ui_init(&ui);
    char *s = screen(m, 120, 40, true, &ui);
    EXPECT_ON_SCREEN(s, "100 nodes: susceptible 70 infective 30");
    EXPECT_ON_SCREEN(s, "rumors>0 on 30");
    EXPECT_ON_SCREEN(s, " 1:1 ");
    EXPECT_ON_SCREEN(s, " 100:0 ");
    free(s);
    /* a taller screen has room for the ids */
    s = screen(m, 160, 60, true, &ui);
    EXPECT_ON_SCREEN(s, "n1:1 ");
    EXPECT_ON_SCREEN(s, "n100:0");
    free(s);
    dm_destroy(&m);
}
END_TEST

START_TEST(node_cards_share_the_width_and_cut_no_figure)
{
    struct dm *m = dm_new(0);
    feed(m, "{\"ev\":\"cluster\",\"mode\":\"raft\",\"nodes\":[\"n1\",\"n2\",\"n3\",\"n4\",\"n5\"]}");
    for (int i = 1; i <= 5; i++) {
        char ev[300];
        snprintf(ev, sizeof ev, "{\"ev\":\"status\",\"node\":\"n%d\",\"status\":{\"role\":\"%s\","
                 "\"term\":12,\"commit\":1446,\"applied\":1446,\"lamport\":14460,"
                 "\"vc\":[3301,5870,3282,12034,99%d]}}", i, i == 3 ? "leader" : "follower", i);
        feed(m, ev);
    }
    struct render_ui ui;
    ui_init(&ui);
    char *s = screen(m, 120, 40, true, &ui);
    /* every figure of every card is there, the vector wrapped inside the card */
    EXPECT_ON_SCREEN(s, "L14460 vc[3301,5870,");
    EXPECT_ON_SCREEN(s, "3282,12034,995]");
    EXPECT_ON_SCREEN(s, "c1446 a1446");
    /* and the five cards use the width: the last one ends near the right edge */
    char row[600];
    ck_assert_ptr_nonnull(line_with(s, "┌ n5", row, sizeof row));
    const char *last = strstr(row, "┐│"); /* n5's top-right corner, then the pane's border */
    ck_assert_msg(last, "%s", row);
    free(s);
    /* three nodes at 120 columns: wide cards, their figures in words */
    struct dm *m3 = dm_new(0);
    feed(m3, "{\"ev\":\"cluster\",\"mode\":\"raft\",\"nodes\":[\"n1\",\"n2\",\"n3\"]}");
    feed(m3, "{\"ev\":\"status\",\"node\":\"n1\",\"status\":{\"role\":\"leader\",\"term\":2,"
             "\"commit\":3,\"applied\":3,\"lamport\":40,\"vc\":[20,5,5]}}");
    s = screen(m3, 120, 40, true, &ui);
    EXPECT_ON_SCREEN(s, "commit 3  applied 3");
    EXPECT_ON_SCREEN(s, "lamport 40 vector [20,5,5]");
    free(s);
    dm_destroy(&m3);
    dm_destroy(&m);
}
END_TEST

START_TEST(log_has_a_column_for_every_node_and_labels_stay_readable)
{
    struct dm *m = dm_new(0);
    feed(m, "{\"ev\":\"cluster\",\"mode\":\"raft\",\"nodes\":[\"n1\",\"n2\",\"n3\",\"n4\","
            "\"n5\",\"n6\",\"n7\",\"n8\",\"n9\"]}");
    for (int i = 1; i <= 9; i++) {
        char ev[200];
        snprintf(ev, sizeof ev, "{\"ev\":\"append\",\"node\":\"n%d\",\"index\":1,\"term\":1,"
                 "\"cmd\":\"put x 1\"}", i);
        feed(m, ev);
    }
    struct render_ui ui;
    ui_init(&ui);
    char *s = screen(m, 120, 40, true, &ui);
    char row[600];
    ck_assert_ptr_nonnull(line_with(s, "idx", row, sizeof row));
    for (int i = 1; i <= 9; i++) {
        char id[8];
        snprintf(id, sizeof id, "n%d", i);
        ck_assert_msg(strstr(strstr(row, "idx"), id), "no Log column for %s: %s", id, row);
    }
    free(s);
    dm_destroy(&m);
    /* between two neighbouring columns a label too long for its arrow takes its short form */
    m = dm_new(0);
    feed(m, "{\"ev\":\"cluster\",\"mode\":\"raft\",\"nodes\":[\"n1\",\"n2\",\"n3\"]}");
    feed(m, "{\"ev\":\"send\",\"node\":\"n1\",\"to\":\"n2\",\"type\":\"append_entries_ok\",\"msg_id\":1}");
    feed(m, "{\"ev\":\"send\",\"node\":\"n2\",\"to\":\"n3\",\"type\":\"request_vote\",\"msg_id\":2}");
    s = screen(m, 80, 24, true, &ui);
    EXPECT_ON_SCREEN(s, "append ok");
    EXPECT_ON_SCREEN(s, "request_vote");
    ck_assert_ptr_null(strstr(s, "append_en─"));
    free(s);
    dm_destroy(&m);
}
END_TEST

START_TEST(no_cluster_says_what_to_type)
{
    struct dm *m = dm_new(0);
    struct render_ui ui;
    ui_init(&ui);
    char *s = screen(m, 120, 40, true, &ui);
    EXPECT_ON_SCREEN(s, "no cluster running: type `start raft 3`");
    EXPECT_ON_SCREEN(s, "`lesson welcome`");
    free(s);
    char *out = pane_of(m, 120, 40, &ui, PANE_OUTPUT);
    ck_assert_msg(strstr(out, "`help` lists every command"), "%s", out);
    free(out);
    dm_destroy(&m);
}
END_TEST

START_TEST(command_line_keeps_the_cursor_visible)
{
    struct dm *m = dm_new(0);
    struct render_ui ui;
    ui_init(&ui);
    struct canvas *c = canvas_new(80, 24, true);
    struct layout l;
    layout_compute(80, 24, 0, &l);
    ui.line = "put 日本 x";
    ui.point = (int)strlen(ui.line);
    int cx = render_cmdline(c, &l, &ui);
    ck_assert_int_eq(cx, 8 + 10); /* "conlab> " + 10 columns (two of them wide) */
    char long_line[300];
    memset(long_line, 'a', sizeof long_line - 2);
    long_line[sizeof long_line - 2] = 'Z';
    long_line[sizeof long_line - 1] = 0;
    ui.line = long_line;
    ui.point = (int)strlen(long_line);
    cx = render_cmdline(c, &l, &ui);
    ck_assert_int_lt(cx, 80);
    ck_assert_uint_eq(canvas_at(c, cx - 1, 23)->cp, 'Z');
    canvas_free(&c);
    dm_destroy(&m);
}
END_TEST

START_TEST(sixteen_nodes_fit_with_readable_column_names)
{
    struct dm *m = dm_new(0);
    feed(m, "{\"ev\":\"cluster\",\"mode\":\"leaderless\",\"nodes\":[\"n1\",\"n2\",\"n3\","
            "\"n4\",\"n5\",\"n6\",\"n7\",\"n8\",\"n9\",\"n10\",\"n11\",\"n12\",\"n13\","
            "\"n14\",\"n15\",\"n16\"]}");
    feed(m, "{\"ev\":\"send\",\"node\":\"n10\",\"to\":\"n11\",\"type\":\"replicate\"}");
    struct render_ui ui;
    ui_init(&ui);
    int sizes[][2] = {{120, 40}, {80, 24}};
    for (size_t k = 0; k < CL_ARRAY_LEN(sizes); k++) {
        char *s = screen(m, sizes[k][0], sizes[k][1], true, &ui);
        /* every node's name appears whole in the Messages header */
        for (int i = 1; i <= 16; i++) {
            char name[24];
            snprintf(name, sizeof name, " n%d ", i);
            if (!strstr(s, name))
                fputs(s, stderr);
            ck_assert_msg(strstr(s, name), "%dx%d: %s missing", sizes[k][0], sizes[k][1], name);
        }
        if (!strstr(s, "n16 ? c0"))
            fputs(s, stderr);
        ck_assert_msg(strstr(s, "n16 ? c0"), "%dx%d: no compact row for n16", sizes[k][0], sizes[k][1]);
        free(s);
    }
    dm_destroy(&m);
}
END_TEST

START_TEST(wide_characters_keep_the_columns_aligned)
{
    struct canvas *c = canvas_new(10, 1, true);
    int used = canvas_text(c, 0, 0, 10, "日本x", ROLE_NORMAL);
    ck_assert_int_eq(used, 5);
    ck_assert_uint_eq(canvas_at(c, 4, 0)->cp, 'x');
    used = canvas_text(c, 0, 0, 3, "日本", ROLE_NORMAL); /* a wide char never half-fits */
    ck_assert_int_eq(used, 2);
    canvas_free(&c);
}
END_TEST

START_TEST(the_title_marks_convergence_and_cards_show_the_watched_key)
{
    struct dm *m = dm_new(0);
    static const char *const evs[] = {
        "{\"ev\":\"cluster\",\"mode\":\"crdt\",\"nodes\":[\"n1\",\"n2\",\"n3\"]}",
        "{\"ev\":\"watch\",\"node\":\"lab\",\"t\":20,\"key\":\"cart\"}",
        "{\"ev\":\"digest\",\"node\":\"n2\",\"t\":30,\"key\":\"cart\",\"ctx\":\"n1:1,n2:1\",\"hash\":\"cd\",\"value\":[\"milk\"]}",
        "{\"ev\":\"converged\",\"node\":\"lab\",\"t\":2500000,\"key\":\"cart\",\"replicas\":3,\"after_ms\":120}",
    };
    for (size_t i = 0; i < CL_ARRAY_LEN(evs); i++) {
        json_t *ev = json_loads(evs[i], 0, NULL);
        ck_assert_ptr_nonnull(ev);
        dm_feed(m, ev);
        json_decref(ev);
    }
    struct render_ui ui;
    ui_init(&ui);
    char *text = screen(m, 140, 45, false, &ui);
    EXPECT_ON_SCREEN(text, "CONVERGED cart t=2.500s");
    EXPECT_ON_SCREEN(text, "n1:1,n2:1");
    EXPECT_ON_SCREEN(text, "== ");
    free(text);
    dm_destroy(&m);
}
END_TEST


/* One line of the screen that holds needle (a new string), or NULL. */
static char *line_holding(const char *text, const char *needle)
{
    const char *at = strstr(text, needle);
    if (!at)
        return NULL;
    const char *b = at, *e = strchr(at, '\n');
    while (b > text && b[-1] != '\n')
        b--;
    return xstrndup(b, e ? (size_t)(e - b) : strlen(b));
}

START_TEST(the_state_pane_draws_a_watched_keys_state_on_every_node_side_by_side)
{
    static const char *const before[] = {
        "{\"ev\":\"cluster\",\"mode\":\"crdt\",\"nodes\":[\"n1\",\"n2\",\"n3\"]}",
        "{\"ev\":\"watch\",\"node\":\"lab\",\"t\":20,\"key\":\"cart\"}",
        "{\"ev\":\"fault\",\"what\":\"partition\",\"node\":\"lab\",\"t\":25,\"groups\":[[\"n1\"],[\"n2\",\"n3\"]]}",
        "{\"ev\":\"digest\",\"node\":\"n1\",\"t\":30,\"key\":\"cart\",\"ctx\":\"n1:2\",\"value\":[],\"why\":\"rem here (n1:2)\","
        "\"state\":{\"t\":\"orset\",\"cols\":[\"dots\"],\"rows\":[],\"foot\":[[\"removed\",\"n1:1\"]]}}",
        "{\"ev\":\"digest\",\"node\":\"n2\",\"t\":31,\"key\":\"cart\",\"ctx\":\"n2:1,n3:1\",\"value\":[\"eggs\",\"milk\"],"
        "\"state\":{\"t\":\"orset\",\"cols\":[\"dots\"],\"rows\":[[\"eggs\",\"n2:1\"],[\"milk\",\"n3:1\"]]}}",
        "{\"ev\":\"digest\",\"node\":\"n3\",\"t\":32,\"key\":\"cart\",\"ctx\":\"n2:1,n3:1\",\"value\":[\"eggs\",\"milk\"],"
        "\"state\":{\"t\":\"orset\",\"cols\":[\"dots\"],\"rows\":[[\"eggs\",\"n2:1\"],[\"milk\",\"n3:1\"]]}}",
    };
    static const char *const after[] = {
        "{\"ev\":\"fault\",\"what\":\"heal\",\"node\":\"lab\",\"t\":40}",
        "{\"ev\":\"digest\",\"node\":\"n1\",\"t\":50,\"key\":\"cart\",\"ctx\":\"n1:2,n2:1,n3:1\",\"value\":[\"eggs\",\"milk\"],"
        "\"why\":\"merge from n2 (delta)\",\"state\":{\"t\":\"orset\",\"cols\":[\"dots\"],\"rows\":[[\"eggs\",\"n2:1\"],[\"milk\",\"n3:1\"]],"
        "\"foot\":[[\"removed\",\"n1:1\"]]}}",
        "{\"ev\":\"digest\",\"node\":\"n2\",\"t\":51,\"key\":\"cart\",\"ctx\":\"n1:2,n2:1,n3:1\",\"value\":[\"eggs\",\"milk\"],"
        "\"state\":{\"t\":\"orset\",\"cols\":[\"dots\"],\"rows\":[[\"eggs\",\"n2:1\"],[\"milk\",\"n3:1\"]],\"foot\":[[\"removed\",\"n1:1\"]]}}",
        "{\"ev\":\"digest\",\"node\":\"n3\",\"t\":52,\"key\":\"cart\",\"ctx\":\"n1:2,n2:1,n3:1\",\"value\":[\"eggs\",\"milk\"],"
        "\"state\":{\"t\":\"orset\",\"cols\":[\"dots\"],\"rows\":[[\"eggs\",\"n2:1\"],[\"milk\",\"n3:1\"]],\"foot\":[[\"removed\",\"n1:1\"]]}}",
        "{\"ev\":\"converged\",\"node\":\"lab\",\"t\":2500000,\"key\":\"cart\",\"replicas\":3,\"after_ms\":120}",
    };
    static const int sizes[][2] = {{80, 24}, {120, 40}};
    for (size_t z = 0; z < CL_ARRAY_LEN(sizes); z++) {
        struct dm *m = dm_new(0);
        for (size_t i = 0; i < CL_ARRAY_LEN(before); i++)
            feed(m, before[i]);
        struct render_ui ui;
        ui_init(&ui);
        char *text = screen(m, sizes[z][0], sizes[z][1], false, &ui);
        EXPECT_ON_SCREEN(text, "State of cart (orset)");
        EXPECT_ON_SCREEN(text, "DIFFER: n1 | n2,n3");
        /* the entries line up: n1 lacks eggs and milk (marked), n2 and n3 hold them (marked:
         * another node differs), n1's removed dot is marked against the others' none */
        char *l = line_holding(text, "*eggs n2:1");
        ck_assert_msg(l && strstr(l, "*- eggs"), "eggs not lined up: %s\n%s", l ? l : "(none)", text);
        free(l);
        l = line_holding(text, "*removed n1:1");
        ck_assert_msg(l && strstr(l, "*- removed"), "removed not lined up: %s\n%s", l ? l : "(none)", text);
        free(l);
        EXPECT_ON_SCREEN(text, "ctx n2:1,n3:1");
        ck_assert_ptr_null(strstr(text, "Messages")); /* the State pane takes their place */
        free(text);
        for (size_t i = 0; i < CL_ARRAY_LEN(after); i++)
            feed(m, after[i]);
        text = screen(m, sizes[z][0], sizes[z][1], false, &ui);
        EXPECT_ON_SCREEN(text, "CONVERGED");
        EXPECT_ON_SCREEN(text, "t=2.500s");
        ck_assert_ptr_null(strstr(text, "DIFFER"));
        ck_assert_ptr_null(strstr(text, "*eggs"));
        l = line_holding(text, "eggs n2:1");
        ck_assert_msg(l && strstr(strstr(l, "eggs n2:1") + 1, "eggs n2:1"), "not side by side:\n%s", text);
        free(l);
        if (sizes[z][1] >= 40) { /* room for what changed each one and what the entries mean */
            EXPECT_ON_SCREEN(text, "merge from n2 (delta) t=0.000s");
        }
        free(text);
        /* watch off: the messages are back */
        feed(m, "{\"ev\":\"watch\",\"node\":\"lab\",\"t\":60,\"key\":\"\"}");
        text = screen(m, sizes[z][0], sizes[z][1], false, &ui);
        EXPECT_ON_SCREEN(text, "Messages");
        ck_assert_ptr_null(strstr(text, "State of"));
        free(text);
        dm_destroy(&m);
    }
}
END_TEST

START_TEST(the_state_pane_shows_counter_vectors_and_says_when_nothing_came_yet)
{
    struct dm *m = dm_new(0);
    feed(m, "{\"ev\":\"cluster\",\"mode\":\"crdt\",\"nodes\":[\"n1\",\"n2\",\"n3\"]}");
    feed(m, "{\"ev\":\"watch\",\"node\":\"lab\",\"t\":20,\"key\":\"hits\"}");
    struct render_ui ui;
    ui_init(&ui);
    char *text = screen(m, 80, 24, false, &ui);
    EXPECT_ON_SCREEN(text, "no node has reported its state of hits yet");
    free(text);
    feed(m, "{\"ev\":\"digest\",\"node\":\"n1\",\"t\":30,\"key\":\"hits\",\"ctx\":\"n1:1,n3:1\",\"value\":4,"
            "\"state\":{\"t\":\"pncounter\",\"cols\":[\"P\",\"N\"],\"rows\":[[\"n1\",\"5\",\"0\"],[\"n2\",\"0\",\"0\"],[\"n3\",\"0\",\"1\"]]}}");
    feed(m, "{\"ev\":\"digest\",\"node\":\"n2\",\"t\":31,\"key\":\"hits\",\"ctx\":\"n1:1\",\"value\":5,"
            "\"state\":{\"t\":\"pncounter\",\"cols\":[\"P\",\"N\"],\"rows\":[[\"n1\",\"5\",\"0\"],[\"n2\",\"0\",\"0\"],[\"n3\",\"0\",\"0\"]]}}");
    text = screen(m, 80, 24, false, &ui);
    EXPECT_ON_SCREEN(text, "State of hits (pncounter)");
    EXPECT_ON_SCREEN(text, "n1 = 4");
    EXPECT_ON_SCREEN(text, "n2 = 5");
    EXPECT_ON_SCREEN(text, "n3 (nothing yet)");
    EXPECT_ON_SCREEN(text, "P N");
    char *l = line_holding(text, "*n3 0 1");
    ck_assert_msg(l && strstr(l, "*n3 0 0"), "n3's entries not lined up and marked:\n%s", text);
    free(l);
    l = line_holding(text, " n1 5 0");
    ck_assert_msg(l && strstr(strstr(l, " n1 5 0") + 1, " n1 5 0"), "equal entries not side by side:\n%s", text);
    free(l);
    free(text);
    dm_destroy(&m);
}
END_TEST


/* More entries than rows: those that differ between nodes are shown first, the rest counted. */
START_TEST(the_state_pane_shows_what_differs_when_not_everything_fits)
{
    struct dm *m = dm_new(0);
    feed(m, "{\"ev\":\"cluster\",\"mode\":\"crdt\",\"nodes\":[\"n1\",\"n2\",\"n3\"]}");
    feed(m, "{\"ev\":\"watch\",\"node\":\"lab\",\"t\":20,\"key\":\"big\"}");
    for (int node = 1; node <= 3; node++) {
        struct sb ev = {0};
        sb_printf(&ev, "{\"ev\":\"digest\",\"node\":\"n%d\",\"t\":30,\"key\":\"big\",\"ctx\":\"n1:9\",\"state\":{\"t\":\"orset\","
                       "\"cols\":[\"dots\"],\"rows\":[", node);
        for (int i = 0; i < 10; i++)
            sb_printf(&ev, "%s[\"e%d\",\"n1:%d\"]", i ? "," : "", i, i + 1);
        if (node == 3)
            sb_add(&ev, ",[\"zz\",\"n3:1\"]");
        sb_add(&ev, "]}}");
        feed(m, ev.s);
        sb_free(&ev);
    }
    struct render_ui ui;
    ui_init(&ui);
    char *text = screen(m, 80, 24, false, &ui);
    char *l = line_holding(text, "*zz n3:1");
    ck_assert_msg(l && strstr(l, "*- zz"), "the differing entry is not shown:\n%s", text);
    free(l);
    EXPECT_ON_SCREEN(text, "more");
    EXPECT_ON_SCREEN(text, "DIFFER: n1,n2 | n3");
    free(text);
    dm_destroy(&m);
}
END_TEST

START_TEST(a_big_cluster_shows_the_infection_curve_beside_the_theory)
{
    struct dm *m = dm_new(0);
    struct sb cl = {0};
    sb_add(&cl, "{\"ev\":\"cluster\",\"mode\":\"x\",\"options\":{\"fanout\":\"1\",\"style\":\"push\"},\"nodes\":[");
    for (int i = 1; i <= 20; i++)
        sb_printf(&cl, "%s\"n%d\"", i > 1 ? "," : "", i);
    sb_add(&cl, "]}");
    const char *evs[] = {
        cl.s,
        "{\"ev\":\"rumor\",\"node\":\"n1\",\"t\":1,\"rumor\":\"n1#1\",\"text\":\"hi\"}",
        "{\"ev\":\"infect\",\"node\":\"n7\",\"t\":2,\"rumor\":\"n1#1\",\"round\":1}",
        "{\"ev\":\"infect\",\"node\":\"n3\",\"t\":3,\"rumor\":\"n1#1\",\"round\":2}",
        "{\"ev\":\"infect\",\"node\":\"n9\",\"t\":4,\"rumor\":\"n1#1\",\"round\":2}",
    };
    for (size_t i = 0; i < CL_ARRAY_LEN(evs); i++) {
        json_t *ev = json_loads(evs[i], 0, NULL);
        ck_assert_ptr_nonnull(ev);
        dm_feed(m, ev);
        json_decref(ev);
    }
    sb_free(&cl);
    struct render_ui ui;
    ui_init(&ui);
    char *text = screen(m, 160, 45, false, &ui);
    EXPECT_ON_SCREEN(text, "rumor n1#1 by round: 1 2 4 of 20  (theory, push f=1: 1 2 4)");
    free(text);
    dm_destroy(&m);
}
END_TEST

Suite *suite_render(void);
Suite *suite_render(void)
{
    Suite *s = suite_create("render");
    TCase *tc = tcase_create("render");
    tcase_add_test(tc, leader_is_marked_at_both_sizes);
    tcase_add_test(tc, the_title_marks_convergence_and_cards_show_the_watched_key);
    tcase_add_test(tc, the_state_pane_draws_a_watched_keys_state_on_every_node_side_by_side);
    tcase_add_test(tc, the_state_pane_shows_counter_vectors_and_says_when_nothing_came_yet);
    tcase_add_test(tc, the_state_pane_shows_what_differs_when_not_everything_fits);
    tcase_add_test(tc, a_big_cluster_shows_the_infection_curve_beside_the_theory);
    tcase_add_test(tc, partition_draws_separated_groups);
    tcase_add_test(tc, dropped_message_is_crossed_out);
    tcase_add_test(tc, escape_sequences_in_keys_are_shown_escaped);
    tcase_add_test(tc, help_overlay_lists_every_key);
    tcase_add_test(tc, too_small_terminal_says_so_without_crashing);
    tcase_add_test(tc, clocks_pane_shows_offsets_drift_ntp_and_truetime_at_80x24_and_120x40);
    tcase_add_test(tc, f5_marks_the_messages_before_and_after_the_selected_one);
    tcase_add_test(tc, ascii_mode_draws_no_byte_above_127);
    tcase_add_test(tc, conflicting_log_entry_is_highlighted);
    tcase_add_test(tc, committed_entries_are_set_apart_by_a_rule);
    tcase_add_test(tc, votes_and_quorums_show_who_answered);
    tcase_add_test(tc, votes_count_the_candidates_own_vote);
    tcase_add_test(tc, selected_message_shows_its_json);
    tcase_add_test(tc, events_filter_shows_only_matching_events);
    tcase_add_test(tc, indexed_filter_draws_the_same_as_a_scan);
    tcase_add_test(tc, time_travel_shows_the_past_state);
    tcase_add_test(tc, output_follows_live_while_frozen_on_the_labs_screen);
    tcase_add_test(tc, lesson_pane_shows_step_check_and_hint);
    tcase_add_test(tc, every_step_of_every_lesson_is_readable_at_80x24_and_120x40);
    tcase_add_test(tc, command_line_keeps_the_cursor_visible);
    tcase_add_test(tc, output_wraps_and_says_when_new_output_came_while_scrolled_back);
    tcase_add_test(tc, node_cards_share_the_width_and_cut_no_figure);
    tcase_add_test(tc, a_hundred_nodes_draw_as_a_compact_grid_with_the_spread);
    tcase_add_test(tc, log_has_a_column_for_every_node_and_labels_stay_readable);
    tcase_add_test(tc, no_cluster_says_what_to_type);
    tcase_add_test(tc, sixteen_nodes_fit_with_readable_column_names);
    tcase_add_test(tc, wide_characters_keep_the_columns_aligned);
    suite_add_tcase(s, tc);
    return s;
}
