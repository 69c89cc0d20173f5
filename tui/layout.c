/* layout — pane rectangles from the terminal size (layout.h). */
#include "layout.h"

#include <string.h>

static struct rect R(int x, int y, int w, int h)
{
    struct rect r = {x, y, w > 0 ? w : 0, h > 0 ? h : 0};
    return r;
}

bool layout_visible(const struct layout *l, enum pane_id p)
{
    return !l->too_small && l->pane[p].w > 0 && l->pane[p].h > 0;
}

const char *layout_pane_name(enum pane_id p)
{
    static const char *const names[PANE_COUNT] = {
        "Title", "Cluster", "Messages", "Log", "Votes & quorums",
        "Events", "Output", "Lesson", "Command",
    };
    return (unsigned)p < PANE_COUNT ? names[p] : "?";
}

void layout_compute(int cols, int rows, unsigned flags, struct layout *out)
{
    memset(out, 0, sizeof *out);
    if (cols < 0)
        cols = 0;
    if (rows < 0)
        rows = 0;
    out->cols = cols;
    out->rows = rows;
    if (cols < LAYOUT_MIN_COLS || rows < LAYOUT_MIN_ROWS) {
        out->too_small = true;
        out->shape = LAYOUT_TOO_SMALL;
        return;
    }
    bool lesson = flags & LAYOUT_LESSON;
    out->pane[PANE_TITLE] = R(0, 0, cols, 1);
    out->pane[PANE_CMDLINE] = R(0, rows - 1, cols, 1);
    int top = 1, bottom = rows - 1; /* rows [top, bottom) are free */

    if (cols >= 110 && rows >= 30) {
        out->shape = LAYOUT_LARGE;
        int ch = rows >= 40 ? 9 : 8;
        out->pane[PANE_CLUSTER] = R(0, top, cols, ch);
        top += ch;
        int bh = (bottom - top) * 2 / 5;
        if (bh < 8)
            bh = 8;
        int mh = bottom - top - bh;
        int w1 = cols * 45 / 100, w2 = cols * 30 / 100;
        out->pane[PANE_MESSAGES] = R(0, top, w1, mh);
        out->pane[PANE_LOG] = R(w1, top, w2, mh);
        out->pane[PANE_VOTES] = R(w1 + w2, top, cols - w1 - w2, mh);
        top += mh;
        if (lesson) {
            int a = cols * 40 / 100, b = cols * 30 / 100;
            out->pane[PANE_EVENTS] = R(0, top, a, bh);
            out->pane[PANE_OUTPUT] = R(a, top, b, bh);
            out->pane[PANE_LESSON] = R(a + b, top, cols - a - b, bh);
        } else {
            int a = cols * 55 / 100;
            out->pane[PANE_EVENTS] = R(0, top, a, bh);
            out->pane[PANE_OUTPUT] = R(a, top, cols - a, bh);
        }
    } else if (cols >= 80 && rows >= 24) {
        out->shape = LAYOUT_MEDIUM;
        int ch = 6;
        out->pane[PANE_CLUSTER] = R(0, top, cols, ch);
        top += ch;
        int bh = (bottom - top) * 2 / 5;
        if (bh < 6)
            bh = 6;
        int mh = bottom - top - bh;
        int w1 = cols * 55 / 100;
        out->pane[PANE_MESSAGES] = R(0, top, w1, mh);
        out->pane[lesson ? PANE_LESSON : PANE_LOG] = R(w1, top, cols - w1, mh);
        top += mh;
        int a = cols / 2;
        out->pane[PANE_EVENTS] = R(0, top, a, bh);
        out->pane[PANE_OUTPUT] = R(a, top, cols - a, bh);
    } else {
        out->shape = LAYOUT_SMALL;
        int ch = rows >= 18 ? 5 : 4;
        out->pane[PANE_CLUSTER] = R(0, top, cols, ch);
        top += ch;
        int oh = (bottom - top) / 2;
        int mh = bottom - top - oh;
        out->pane[PANE_MESSAGES] = R(0, top, cols, mh);
        out->pane[lesson ? PANE_LESSON : PANE_OUTPUT] = R(0, top + mh, cols, oh);
    }
}
