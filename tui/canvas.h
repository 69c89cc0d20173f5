/* canvas — a grid of character cells the panes draw into (issue 6).
 *
 * The renderer never talks to a terminal: it fills a canvas. Tests read the canvas back as
 * text (canvas_row_text); the screen backend in dash.c copies the cells that changed since
 * the last frame to ncurses. Each cell holds one Unicode code point and a semantic role
 * (leader, dropped, …); roles become colours and attributes in one table in dash.c.
 *
 * All text goes through sb_add_escaped before it reaches a cell, so control bytes, escape
 * sequences, BiDi controls and invalid UTF-8 in user data are shown escaped and can never
 * drive the terminal. With utf8 false (not a UTF-8 locale, NO_COLOR, TERM=dumb) every
 * non-ASCII code point is drawn as '?', and glyph() gives ASCII fallbacks.
 */
#ifndef CONLAB_CANVAS_H
#define CONLAB_CANVAS_H

#include <stdbool.h>
#include <stdint.h>

#include "util.h"

enum role {
    ROLE_NORMAL,
    ROLE_TITLE,
    ROLE_BORDER,
    ROLE_FOCUS,       /* the focused pane's border */
    ROLE_LEADER,
    ROLE_CANDIDATE,
    ROLE_FOLLOWER,
    ROLE_DOWN,
    ROLE_PAUSED,
    ROLE_PARTITION,
    ROLE_DELIVERED,
    ROLE_PENDING,
    ROLE_DROPPED,
    ROLE_COMMITTED,
    ROLE_UNCOMMITTED,
    ROLE_CONFLICT,
    ROLE_ALERT,
    ROLE_OK,
    ROLE_FAIL,
    ROLE_DIM,
    ROLE_SELECTED,
    ROLE_OUTPUT,
    ROLE_PROMPT,
    ROLE_HELP,
    ROLE_COUNT
};

enum glyph {
    G_H, G_V, G_TL, G_TR, G_BL, G_BR,   /* box drawing */
    G_ARROW_R, G_ARROW_L, G_CROSS, G_CHECK, G_PENDING_LINE, G_DROP_LINE, G_ELLIPSIS,
    G_STAR, G_SEP, G_LIVE, G_FROZEN, G_UP, G_DOWN_ARROW, G_COUNT
};

struct cell {
    uint32_t cp;   /* code point; 0 = right half of a wide character */
    uint8_t role;  /* enum role */
};

struct canvas {
    int cols, rows;
    bool utf8;
    struct cell *cells; /* rows × cols, owned */
    struct sb tmp;      /* scratch for escaping */
};

/* A blank canvas (caller frees with canvas_free). */
struct canvas *canvas_new(int cols, int rows, bool utf8);
void canvas_free(struct canvas **c);
/* Changes the size and blanks every cell. */
void canvas_resize(struct canvas *c, int cols, int rows);
void canvas_clear(struct canvas *c);
/* Blanks a rectangle with the given role. */
void canvas_fill(struct canvas *c, int x, int y, int w, int h, enum role role);
/* Draws s (escaped first) at (x, y), clipped to maxw columns and to the canvas. Returns the
 * columns used. */
int canvas_text(struct canvas *c, int x, int y, int maxw, const char *s, enum role role);
/* Draws raw (already safe) text: our own UI strings and glyphs, not user data. */
int canvas_raw(struct canvas *c, int x, int y, int maxw, const char *s, enum role role);
/* Like canvas_text, with printf formatting (arguments are escaped as part of the result). */
int canvas_printf(struct canvas *c, int x, int y, int maxw, enum role role, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
void canvas_glyph(struct canvas *c, int x, int y, enum glyph g, enum role role);
void canvas_hline(struct canvas *c, int x, int y, int w, enum glyph g, enum role role);
/* A box with a title in its top border (title is raw UI text). */
void canvas_box(struct canvas *c, int x, int y, int w, int h, const char *title, enum role role);
/* Sets the role of cells without changing their text. */
void canvas_set_role(struct canvas *c, int x, int y, int w, enum role role);
const struct cell *canvas_at(const struct canvas *c, int x, int y); /* NULL outside */
/* Appends row y as UTF-8 (trailing blanks trimmed) to b. */
void canvas_row_text(const struct canvas *c, int y, struct sb *b);
/* The whole canvas as text, one line per row; caller frees. */
char *canvas_dump(const struct canvas *c);
/* The glyph's text for this canvas (UTF-8 or ASCII fallback). */
const char *canvas_glyph_str(const struct canvas *c, enum glyph g);
/* Columns a code point takes: 2 for East-Asian wide, else 1. */
int canvas_cp_width(uint32_t cp);

#endif
