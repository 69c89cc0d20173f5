/* canvas — cell grid with escaping text output (canvas.h). */
#include "canvas.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const glyph_utf8[G_COUNT] = {
    "─", "│", "┌", "┐", "└", "┘", "▶", "◀", "✗", "✓", "┄", "╌", "…", "★", "┃", "●", "❚", "▲", "▼",
};
static const char *const glyph_ascii[G_COUNT] = {
    "-", "|", "+", "+", "+", "+", ">", "<", "x", "v", ".", "x", "~", "*", "#", "*", "=", "^", "v",
};

const char *canvas_glyph_str(const struct canvas *c, enum glyph g)
{
    if ((unsigned)g >= G_COUNT)
        return "?";
    return c->utf8 ? glyph_utf8[g] : glyph_ascii[g];
}

struct canvas *canvas_new(int cols, int rows, bool utf8)
{
    struct canvas *c = xcalloc(1, sizeof *c);
    c->utf8 = utf8;
    canvas_resize(c, cols, rows);
    return c;
}

void canvas_free(struct canvas **pc)
{
    struct canvas *c = pc ? *pc : NULL;
    if (!c)
        return;
    free(c->cells);
    sb_free(&c->tmp);
    free(c);
    *pc = NULL;
}

void canvas_resize(struct canvas *c, int cols, int rows)
{
    c->cols = cols > 0 ? cols : 0;
    c->rows = rows > 0 ? rows : 0;
    free(c->cells);
    c->cells = xcalloc((size_t)c->cols * (size_t)c->rows + 1, sizeof *c->cells);
    canvas_clear(c);
}

void canvas_fill(struct canvas *c, int x, int y, int w, int h, enum role role)
{
    for (int r = y; r < y + h; r++) {
        if (r < 0 || r >= c->rows)
            continue;
        for (int k = x; k < x + w; k++) {
            if (k < 0 || k >= c->cols)
                continue;
            struct cell *cl = &c->cells[r * c->cols + k];
            cl->cp = ' ';
            cl->role = (uint8_t)role;
        }
    }
}

void canvas_clear(struct canvas *c)
{
    canvas_fill(c, 0, 0, c->cols, c->rows, ROLE_NORMAL);
}

const struct cell *canvas_at(const struct canvas *c, int x, int y)
{
    if (x < 0 || y < 0 || x >= c->cols || y >= c->rows)
        return NULL;
    return &c->cells[y * c->cols + x];
}

int canvas_cp_width(uint32_t cp)
{
    if ((cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0xa4cf && cp != 0x303f) ||
        (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) ||
        (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) ||
        (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x1f300 && cp <= 0x1f64f) ||
        (cp >= 0x1f900 && cp <= 0x1f9ff) || (cp >= 0x20000 && cp <= 0x3fffd))
        return 2;
    return 1;
}

/* Zero-width and combining marks would break the column arithmetic: shown as '?'. */
static bool zero_width(uint32_t cp)
{
    return (cp >= 0x300 && cp <= 0x36f) || (cp >= 0x1ab0 && cp <= 0x1aff) ||
           (cp >= 0x1dc0 && cp <= 0x1dff) || (cp >= 0x20d0 && cp <= 0x20ff) ||
           (cp >= 0xfe00 && cp <= 0xfe0f) || cp == 0x200b || cp == 0x200c || cp == 0x200d ||
           cp == 0xad;
}

/* Decodes one UTF-8 sequence; returns its length (1 for a bad byte, which becomes '?'). */
static size_t utf8_next(const unsigned char *s, uint32_t *cp)
{
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    int n = (s[0] & 0xe0) == 0xc0 ? 2 : (s[0] & 0xf0) == 0xe0 ? 3 : (s[0] & 0xf8) == 0xf0 ? 4 : 0;
    if (!n) {
        *cp = '?';
        return 1;
    }
    uint32_t v = s[0] & (0x7f >> n);
    for (int i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            *cp = '?';
            return 1;
        }
        v = (v << 6) | (s[i] & 0x3f);
    }
    *cp = v;
    return (size_t)n;
}

int canvas_raw(struct canvas *c, int x, int y, int maxw, const char *s, enum role role)
{
    if (!s || y < 0 || y >= c->rows || maxw <= 0)
        return 0;
    int used = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p && used < maxw) {
        uint32_t cp;
        p += utf8_next(p, &cp);
        if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0))
            cp = '?'; /* raw text is ours, but never let a control byte through */
        if (!c->utf8 && cp >= 0x80)
            cp = '?';
        if (zero_width(cp))
            cp = '?';
        int w = canvas_cp_width(cp);
        if (used + w > maxw)
            break;
        int cx = x + used;
        if (cx >= 0 && cx + w - 1 < c->cols) {
            struct cell *cl = &c->cells[y * c->cols + cx];
            /* overwriting half of a wide character blanks its other half */
            if (cl->cp == 0 && cx > 0)
                cl[-1].cp = ' ';
            if (cx + w < c->cols && cl[w].cp == 0)
                cl[w].cp = ' ';
            cl->cp = cp;
            cl->role = (uint8_t)role;
            if (w == 2) {
                cl[1].cp = 0;
                cl[1].role = (uint8_t)role;
            }
        }
        used += w;
    }
    return used;
}

int canvas_text(struct canvas *c, int x, int y, int maxw, const char *s, enum role role)
{
    if (!s)
        return 0;
    c->tmp.len = 0;
    if (c->tmp.s)
        c->tmp.s[0] = 0;
    size_t n = strlen(s);
    if (n > 4096)
        n = 4096; /* nothing wider fits on a screen */
    sb_add_escaped(&c->tmp, s, n);
    return canvas_raw(c, x, y, maxw, c->tmp.s, role);
}

int canvas_printf(struct canvas *c, int x, int y, int maxw, enum role role, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return canvas_text(c, x, y, maxw, buf, role);
}

void canvas_glyph(struct canvas *c, int x, int y, enum glyph g, enum role role)
{
    canvas_raw(c, x, y, 1, canvas_glyph_str(c, g), role);
}

void canvas_hline(struct canvas *c, int x, int y, int w, enum glyph g, enum role role)
{
    for (int k = 0; k < w; k++)
        canvas_glyph(c, x + k, y, g, role);
}

void canvas_box(struct canvas *c, int x, int y, int w, int h, const char *title, enum role role)
{
    if (w < 2 || h < 2)
        return;
    canvas_glyph(c, x, y, G_TL, role);
    canvas_hline(c, x + 1, y, w - 2, G_H, role);
    canvas_glyph(c, x + w - 1, y, G_TR, role);
    for (int r = y + 1; r < y + h - 1; r++) {
        canvas_glyph(c, x, r, G_V, role);
        canvas_glyph(c, x + w - 1, r, G_V, role);
    }
    canvas_glyph(c, x, y + h - 1, G_BL, role);
    canvas_hline(c, x + 1, y + h - 1, w - 2, G_H, role);
    canvas_glyph(c, x + w - 1, y + h - 1, G_BR, role);
    if (title && *title && w > 4) {
        int used = canvas_raw(c, x + 2, y, w - 4, " ", role);
        used += canvas_raw(c, x + 2 + used, y, w - 4 - used, title, role);
        canvas_raw(c, x + 2 + used, y, w - 4 - used, " ", role);
    }
}

void canvas_set_role(struct canvas *c, int x, int y, int w, enum role role)
{
    if (y < 0 || y >= c->rows)
        return;
    for (int k = x; k < x + w; k++)
        if (k >= 0 && k < c->cols)
            c->cells[y * c->cols + k].role = (uint8_t)role;
}

static void add_cp(struct sb *b, uint32_t cp)
{
    char buf[4];
    int n;
    if (cp < 0x80) {
        buf[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        buf[0] = (char)(0xc0 | (cp >> 6));
        buf[1] = (char)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        buf[0] = (char)(0xe0 | (cp >> 12));
        buf[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        buf[2] = (char)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        buf[0] = (char)(0xf0 | (cp >> 18));
        buf[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        buf[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        buf[3] = (char)(0x80 | (cp & 0x3f));
        n = 4;
    }
    sb_addn(b, buf, (size_t)n);
}

void canvas_row_text(const struct canvas *c, int y, struct sb *b)
{
    if (!b->s)
        sb_addn(b, "", 0);
    if (y < 0 || y >= c->rows)
        return;
    int last = c->cols - 1;
    while (last >= 0 && c->cells[y * c->cols + last].cp == ' ')
        last--;
    for (int k = 0; k <= last; k++) {
        uint32_t cp = c->cells[y * c->cols + k].cp;
        if (cp)
            add_cp(b, cp);
    }
}

char *canvas_dump(const struct canvas *c)
{
    struct sb b = {0};
    sb_addn(&b, "", 0);
    for (int y = 0; y < c->rows; y++) {
        canvas_row_text(c, y, &b);
        sb_addc(&b, '\n');
    }
    return b.s;
}
