/* check_layout — pane rectangles for any terminal size (tui/layout.h). */
#include <check.h>
#include <stdio.h>

#include "layout.h"
#include "test_util.h"

static int overlap(const struct rect *a, const struct rect *b)
{
    return a->x < b->x + b->w && b->x < a->x + a->w && a->y < b->y + b->h && b->y < a->y + a->h;
}

START_TEST(every_size_keeps_panes_on_screen_and_apart)
{
    for (int flags = 0; flags < 2; flags++)
        for (int cols = -3; cols <= 260; cols += 1)
            for (int rows = -3; rows <= 90; rows += ((cols + 7) % 7) + 1) {
                struct layout l;
                layout_compute(cols, rows, (unsigned)flags, &l);
                if (l.too_small)
                    continue;
                for (int p = 0; p < PANE_COUNT; p++) {
                    const struct rect *r = &l.pane[p];
                    if (!layout_visible(&l, p))
                        continue;
                    ck_assert_msg(r->x >= 0 && r->y >= 0 && r->x + r->w <= cols && r->y + r->h <= rows,
                                  "%dx%d: %s off screen", cols, rows, layout_pane_name(p));
                    ck_assert_msg(p == PANE_TITLE || p == PANE_CMDLINE || (r->w >= 10 && r->h >= 3),
                                  "%dx%d: %s only %dx%d", cols, rows, layout_pane_name(p), r->w, r->h);
                    for (int q = p + 1; q < PANE_COUNT; q++)
                        if (layout_visible(&l, q))
                            ck_assert_msg(!overlap(r, &l.pane[q]), "%dx%d: %s overlaps %s", cols,
                                          rows, layout_pane_name(p), layout_pane_name(q));
                }
                ck_assert(layout_visible(&l, PANE_CMDLINE));
                ck_assert_int_eq(l.pane[PANE_CMDLINE].y, rows - 1);
                ck_assert(layout_visible(&l, PANE_OUTPUT));
                if (flags & LAYOUT_LESSON) { /* the lesson is the largest pane */
                    ck_assert(layout_visible(&l, PANE_LESSON));
                    ck_assert_msg(rows < 16 || layout_visible(&l, PANE_CLUSTER), "%dx%d", cols, rows);
                    for (int p = 0; p < PANE_COUNT; p++)
                        if (p != PANE_LESSON && layout_visible(&l, p))
                            ck_assert_msg(l.pane[p].w * l.pane[p].h <
                                              l.pane[PANE_LESSON].w * l.pane[PANE_LESSON].h,
                                          "%dx%d: %s is larger than the lesson", cols, rows,
                                          layout_pane_name(p));
                } else {
                    ck_assert(layout_visible(&l, PANE_CLUSTER));
                    ck_assert(layout_visible(&l, PANE_MESSAGES));
                }
            }
}
END_TEST

START_TEST(large_terminal_shows_every_pane)
{
    struct layout l;
    layout_compute(120, 40, 0, &l);
    ck_assert_int_eq(l.shape, LAYOUT_LARGE);
    enum pane_id want[] = {PANE_TITLE, PANE_CLUSTER, PANE_MESSAGES, PANE_LOG, PANE_VOTES,
                           PANE_EVENTS, PANE_OUTPUT, PANE_CMDLINE};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        ck_assert_msg(layout_visible(&l, want[i]), "%s hidden", layout_pane_name(want[i]));
    ck_assert(!layout_visible(&l, PANE_LESSON));
    /* the lesson view: the lesson down the left, the cluster's panes around it */
    layout_compute(120, 40, LAYOUT_LESSON, &l);
    ck_assert(layout_visible(&l, PANE_LESSON));
    ck_assert(layout_visible(&l, PANE_VOTES));
    ck_assert(layout_visible(&l, PANE_MESSAGES));
    ck_assert(layout_visible(&l, PANE_LOG));
    ck_assert(layout_visible(&l, PANE_OUTPUT));
    ck_assert_int_eq(l.pane[PANE_LESSON].x, 0);
    ck_assert_int_ge(l.pane[PANE_LESSON].h, 28);
    ck_assert_int_ge(l.pane[PANE_LESSON].w, 55);
    ck_assert_int_eq(l.pane[PANE_LESSON].y + l.pane[PANE_LESSON].h, 39); /* down to the command line */
}
END_TEST

START_TEST(the_lesson_pane_takes_the_rows_its_text_asks_for)
{
    struct layout l;
    layout_compute_lesson(80, 24, LAYOUT_LESSON, 6, &l);
    ck_assert_int_eq(l.pane[PANE_LESSON].h, 8); /* six rows of text and the border */
    int out_small = l.pane[PANE_OUTPUT].h;
    layout_compute_lesson(80, 24, LAYOUT_LESSON, 40, &l); /* too long: the output keeps 5 rows */
    ck_assert_int_eq(l.pane[PANE_OUTPUT].h, 5);
    ck_assert_int_gt(out_small, 5);
    ck_assert_int_eq(l.pane[PANE_LESSON].w, 80);
    ck_assert(layout_visible(&l, PANE_CLUSTER));
}
END_TEST

START_TEST(eighty_by_twenty_four_shows_a_reduced_set)
{
    struct layout l;
    layout_compute(80, 24, 0, &l);
    ck_assert_int_eq(l.shape, LAYOUT_MEDIUM);
    ck_assert(layout_visible(&l, PANE_MESSAGES));
    ck_assert(layout_visible(&l, PANE_LOG));
    ck_assert(layout_visible(&l, PANE_EVENTS));
    ck_assert(layout_visible(&l, PANE_OUTPUT));
    ck_assert(!layout_visible(&l, PANE_VOTES));
    ck_assert_int_ge(l.pane[PANE_MESSAGES].h, 7);
    layout_compute(80, 24, LAYOUT_LESSON, &l);
    ck_assert(layout_visible(&l, PANE_LESSON));
    ck_assert(!layout_visible(&l, PANE_LOG));
    ck_assert_int_ge(l.pane[PANE_LESSON].h, 12);
}
END_TEST

START_TEST(small_terminal_keeps_cluster_messages_and_output)
{
    struct layout l;
    layout_compute(60, 16, 0, &l);
    ck_assert_int_eq(l.shape, LAYOUT_SMALL);
    ck_assert(layout_visible(&l, PANE_OUTPUT));
    ck_assert(!layout_visible(&l, PANE_EVENTS));
}
END_TEST

START_TEST(below_the_minimum_is_too_small)
{
    int sizes[][2] = {{20, 5}, {1, 1}, {0, 0}, {-5, 40}, {LAYOUT_MIN_COLS - 1, 40}, {200, LAYOUT_MIN_ROWS - 1}};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        struct layout l;
        layout_compute(sizes[i][0], sizes[i][1], 0, &l);
        ck_assert_msg(l.too_small, "%dx%d", sizes[i][0], sizes[i][1]);
        for (int p = 0; p < PANE_COUNT; p++)
            ck_assert(!layout_visible(&l, p));
    }
    struct layout l;
    layout_compute(LAYOUT_MIN_COLS, LAYOUT_MIN_ROWS, 0, &l);
    ck_assert(!l.too_small);
}
END_TEST

Suite *suite_layout(void);
Suite *suite_layout(void)
{
    Suite *s = suite_create("layout");
    TCase *tc = tcase_create("layout");
    tcase_add_test(tc, every_size_keeps_panes_on_screen_and_apart);
    tcase_add_test(tc, large_terminal_shows_every_pane);
    tcase_add_test(tc, eighty_by_twenty_four_shows_a_reduced_set);
    tcase_add_test(tc, the_lesson_pane_takes_the_rows_its_text_asks_for);
    tcase_add_test(tc, small_terminal_keeps_cluster_messages_and_output);
    tcase_add_test(tc, below_the_minimum_is_too_small);
    suite_add_tcase(s, tc);
    return s;
}
