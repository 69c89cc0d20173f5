/* layout — where each dashboard pane goes for a terminal size. One pure function, so tests
 * can try any size (issue 6). Sizes in character cells; (0,0) is the top-left corner.
 *
 * The cluster view (no lesson, or F2 during one), three shapes:
 *   large  (cols >= 110, rows >= 30): title, cluster, then messages | log | votes, then
 *          events | output, command line.
 *   medium (cols >= 80, rows >= 24):  title, cluster, then messages | log, then
 *          events | output, command line.
 *   small  (cols >= LAYOUT_MIN_COLS, rows >= LAYOUT_MIN_ROWS): title, cluster, messages,
 *          output, command line.
 * The lesson view (LAYOUT_LESSON: a lesson runs), where the lesson is the largest pane:
 *   large: title, cluster; then the lesson on the left (about half the width, every row down
 *          to the command line) and on the right messages, log | votes, output.
 *   otherwise: title, a strip of node cells (from 16 rows), the lesson across the width (as
 *          tall as its text asks, leaving the output at least 4-5 rows), then the output
 *          (and the messages beside it from 100 columns).
 * Below the minimum, too_small is set and no pane is placed.
 */
#ifndef CONLAB_LAYOUT_H
#define CONLAB_LAYOUT_H

#include <stdbool.h>

#define LAYOUT_MIN_COLS 40
#define LAYOUT_MIN_ROWS 12

enum pane_id {
    PANE_TITLE,
    PANE_CLUSTER,
    PANE_MESSAGES,
    PANE_LOG,
    PANE_VOTES,
    PANE_EVENTS,
    PANE_OUTPUT,
    PANE_LESSON,
    PANE_CMDLINE,
    PANE_COUNT
};

struct rect {
    int x, y, w, h; /* w == 0 or h == 0: hidden */
};

enum layout_shape { LAYOUT_TOO_SMALL, LAYOUT_SMALL, LAYOUT_MEDIUM, LAYOUT_LARGE };

struct layout {
    int cols, rows;
    enum layout_shape shape;
    bool too_small;
    struct rect pane[PANE_COUNT];
};

#define LAYOUT_LESSON 1u /* a lesson runs: give it a pane */

/* Fills *out for a cols×rows terminal (any values, negative ones count as 0). */
void layout_compute(int cols, int rows, unsigned flags, struct layout *out);
/* The same, telling how many rows the lesson's text wants (its pane then takes that many plus
 * its border when it fits; 0 = as many as the other panes leave). */
void layout_compute_lesson(int cols, int rows, unsigned flags, int lesson_rows,
                           struct layout *out);
/* Is the pane shown? */
bool layout_visible(const struct layout *l, enum pane_id p);
/* The pane's name as shown in its title ("Messages"). */
const char *layout_pane_name(enum pane_id p);

#endif
