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

static int clamp(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* The cluster view: every pane but the lesson. */
static void cluster_view(int cols, int top, int bottom, struct layout *out)
{
    int rows = out->rows;
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
        int a = cols * 55 / 100;
        out->pane[PANE_EVENTS] = R(0, top, a, bh);
        out->pane[PANE_OUTPUT] = R(a, top, cols - a, bh);
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
        out->pane[PANE_LOG] = R(w1, top, cols - w1, mh);
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
        out->pane[PANE_OUTPUT] = R(0, top + mh, cols, oh);
    }
}

/* The lesson view: the lesson is the largest pane; the cluster adapts around it. */
static void lesson_view(int cols, int top, int bottom, int want, struct layout *out)
{
    int rows = out->rows;
    if (cols >= 110 && rows >= 30) {
        /* the lesson on the left, the cluster's panes on the right */
        out->shape = LAYOUT_LARGE;
        int ch = rows >= 40 ? 9 : 8;
        out->pane[PANE_CLUSTER] = R(0, top, cols, ch);
        top += ch;
        int h = bottom - top;
        int lw = cols * 48 / 100 > 50 ? cols * 48 / 100 : 50;
        int rw = cols - lw;
        out->pane[PANE_LESSON] = R(0, top, lw, h);
        int mh = h * 40 / 100, lvh = clamp(h * 25 / 100, 6, 12);
        int oh = h - mh - lvh;
        out->pane[PANE_MESSAGES] = R(lw, top, rw, mh);
        int logw = rw * 55 / 100;
        out->pane[PANE_LOG] = R(lw, top + mh, logw, lvh);
        out->pane[PANE_VOTES] = R(lw + logw, top + mh, rw - logw, lvh);
        out->pane[PANE_OUTPUT] = R(lw, top + mh + lvh, rw, oh);
        return;
    }
    /* a strip of node cells, the lesson across the width, the output below it */
    out->shape = cols >= 80 && rows >= 24 ? LAYOUT_MEDIUM : LAYOUT_SMALL;
    int ch = rows >= 24 ? 4 : rows >= 16 ? 3 : 0;
    if (ch) {
        out->pane[PANE_CLUSTER] = R(0, top, cols, ch);
        top += ch;
    }
    int h = bottom - top;
    int omin = rows >= 24 ? 5 : 4;
    int lh = want > 0 ? clamp(want + 2, 4, h - omin) : h - omin;
    out->pane[PANE_LESSON] = R(0, top, cols, lh);
    top += lh;
    int oh = bottom - top;
    if (cols >= 100 && oh >= 5) { /* room beside the output: the messages */
        int ow = cols * 55 / 100;
        out->pane[PANE_OUTPUT] = R(0, top, ow, oh);
        out->pane[PANE_MESSAGES] = R(ow, top, cols - ow, oh);
    } else {
        out->pane[PANE_OUTPUT] = R(0, top, cols, oh);
    }
}

void layout_compute_lesson(int cols, int rows, unsigned flags, int lesson_rows,
                           struct layout *out)
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
    out->pane[PANE_TITLE] = R(0, 0, cols, 1);
    out->pane[PANE_CMDLINE] = R(0, rows - 1, cols, 1);
    if (flags & LAYOUT_LESSON)
        lesson_view(cols, 1, rows - 1, lesson_rows, out);
    else
        cluster_view(cols, 1, rows - 1, out);
}

void layout_compute(int cols, int rows, unsigned flags, struct layout *out)
{
    layout_compute_lesson(cols, rows, flags, 0, out);
}
