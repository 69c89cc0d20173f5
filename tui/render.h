/* render — the panes: draw a dashboard model into a canvas (issue 6).
 *
 * render_screen is a pure function of the model (what happened), the layout (where) and the
 * UI state (focus, scroll offsets, selection, overlays, the command line). It draws into a
 * canvas: tests read the canvas as text, dash.c copies it to the terminal.
 */
#ifndef CONLAB_RENDER_H
#define CONLAB_RENDER_H

#include <stdbool.h>
#include <stdint.h>

#include "canvas.h"
#include "layout.h"
#include "model.h"

enum render_mode { RENDER_LIVE, RENDER_READONLY, RENDER_REPLAY };

/* What the dashboard's user interface adds to the model. All strings are borrowed. */
struct render_ui {
    enum render_mode mode;
    enum pane_id focus;        /* PANE_CMDLINE = the command line has the keys */
    bool cmdline;              /* there is a command line (else a key hint is shown) */
    bool output_live;          /* the Output pane follows the live state even when frozen
                                * (the lab's own screen: answers to commands must show) */
    int scroll[PANE_COUNT];    /* lines scrolled back from the newest (0 = follow) */
    long selected_msg;         /* index into the message list (0 = oldest), -1 = none */
    bool show_json;            /* the selected message's JSON as an overlay */
    bool help;                 /* the help overlay */
    const char *filter;        /* the events filter, "" = all */
    /* Optional: positions of the recorded events that match the filter, ascending (the
     * dashboard keeps it as events arrive, so a rare match costs no scan); NULL = scan. */
    const uint64_t *matches;
    size_t nmatches;
    bool filter_editing;       /* the command line edits the filter */
    bool playing;              /* replay: playing rather than paused */
    double speed;              /* replay speed, or the lab's speed factor */
    const char *source;        /* "trace run.jsonl", "lab 1234", or NULL */
    const char *prompt;        /* command line prompt */
    const char *line;          /* command line text */
    int point;                 /* cursor position in line (bytes) */
    const char *notice;        /* a one-line notice for the title bar, or NULL */
    int output_unseen;         /* output lines that arrived while Output was scrolled back */
    const char *const *help_lines; /* the help overlay (NULL-terminated; dash_help_lines) */
    bool clocks;               /* F4: the Clocks pane in place of Log (and Votes) */
    bool causal;               /* F5: mark the selected message's happened-before relation */
};

/* Draws everything. The canvas must be l->cols × l->rows. */
void render_screen(struct canvas *c, const struct layout *l, const struct dm *m,
                   const struct render_ui *ui);
/* Draws only the command line (after a keystroke). Returns the cursor column. */
int render_cmdline(struct canvas *c, const struct layout *l, const struct render_ui *ui);
/* Rows of messages the Messages pane shows at once (for PgUp/PgDn steps). */
int render_pane_rows(const struct layout *l, enum pane_id p);
/* The layout for this model: the lesson view when a lesson runs and lesson_view is true
 * (the Lesson pane then as tall as its text asks), else the cluster view. */
void render_layout(const struct dm *m, int cols, int rows, bool lesson_view, struct layout *out);
/* Rows the Lesson pane's text takes at this width (its check line included); 0 when no
 * lesson runs. */
int render_lesson_rows(const struct dm *m, int width);
/* The Lesson pane's first text row when the student has not scrolled (the rows above the
 * step heading may be out of view on a small screen). */
int render_lesson_first_row(const struct canvas *c, const struct layout *l, const struct dm *m);
/* Is the State pane (a watched key's state on every node, `watch KEY`) drawn in the place of
 * Messages, Log and Votes? */
bool render_state_shown(const struct layout *l, const struct dm *m, const struct render_ui *ui);
/* Rows one line of output takes in a pane of this width (for keeping a scrolled Output
 * pane still while new lines arrive). */
int render_wrap_rows(const char *text, int width);

#endif
