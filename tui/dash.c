/* dash — ncurses screen, keys, readline glue and coalesced redraws (dash.h).
 *
 * Frames: render.c draws the whole screen into a canvas; flush() copies to ncurses only the
 * cells that differ from the previous frame (`shown`), then one doupdate(). Redraws happen in
 * dash_before_sleep at most every FRAME_US; keys on the command line redraw that row at once.
 *
 * Readline runs through its callback interface: we read keys with wgetch (keypad on), act on
 * the dashboard's own keys, and hand the rest to readline one byte at a time through
 * rl_getc_function; keypad keys become direct readline commands (rl_backward_char, history).
 * readline never touches the terminal: prep/deprep are no-ops, rl_outstream is /dev/null,
 * its redisplay hook redraws our command line row, match lists go to the Output pane.
 */
#include "dash.h"

#include <curses.h>
#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <locale.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <term.h>
#include <termios.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "canvas.h"
#include "layout.h"
#include "render.h"

#define FRAME_US 33000 /* at most ~30 redraws a second */

struct dash {
    struct dash_config cfg;
    SCREEN *scr;
    FILE *rl_null;
    bool color, utf8;
    struct dm *m;
    struct layout lay;
    bool lay_lesson;       /* the layout is the lesson view */
    bool lesson_view;      /* F2: the lesson view (true) or the cluster view during a lesson */
    bool lesson_was;       /* a lesson was running at the last frame */
    const char *lesson_text; /* the lesson text the layout was made for (model-owned) */
    int out_unseen;        /* output lines that came while Output was scrolled back */
    struct canvas *cv;     /* the frame being drawn */
    struct cell *shown;    /* what the terminal shows, cols × rows; NULL = unknown */
    int shown_cols, shown_rows;
    struct render_ui ui;
    uint64_t sel_pos;      /* the selected message, by event position; UINT64_MAX none */
    bool dirty, cmd_dirty;
    uint64_t last_frame;
    bool quit;
    bool has_cmdline;      /* readline command line at the bottom */
    bool rl_on;
    char filter[128];      /* the events filter */
    char fedit[128];       /* the filter being edited */
    uint64_t *fm;          /* positions of recorded events matching `filter`, ascending */
    size_t nfm, capfm;
    char fm_for[128];      /* the filter fm was built for */
    int fedit_len;
    char title_source[128];
    char notice[160];
    /* replay playback */
    bool playing;
    uint64_t play_wall, play_t; /* wall µs and event t at the last anchor */
    double speed;
    uint64_t frames;
};

/* readline is global state, so one dashboard at a time. */
static struct dash *g_dash;
static int g_rl_char;
static bool g_rl_avail;

/* crash-safe restore: filled at dash_new, used by dash_crash_restore */
static struct termios g_saved_tio;
static bool g_have_tio;
static char g_restore[128];
static size_t g_restore_len;
static volatile sig_atomic_t g_active;

/* ---- colours: the one place roles become colour pairs and attributes ----------------- */

struct role_style {
    short fg, bg;   /* -1 = terminal default */
    attr_t attr;    /* used with and without colour */
};

static const struct role_style role_styles[ROLE_COUNT] = {
    [ROLE_NORMAL] = {-1, -1, A_NORMAL},
    [ROLE_TITLE] = {COLOR_WHITE, COLOR_BLUE, A_BOLD},
    [ROLE_BORDER] = {-1, -1, A_NORMAL},
    [ROLE_FOCUS] = {COLOR_YELLOW, -1, A_BOLD},
    [ROLE_LEADER] = {COLOR_GREEN, -1, A_BOLD},
    [ROLE_CANDIDATE] = {COLOR_YELLOW, -1, A_NORMAL},
    [ROLE_FOLLOWER] = {COLOR_CYAN, -1, A_NORMAL},
    [ROLE_DOWN] = {COLOR_RED, -1, A_BOLD},
    [ROLE_PAUSED] = {COLOR_MAGENTA, -1, A_BOLD},
    [ROLE_PARTITION] = {COLOR_RED, -1, A_BOLD},
    [ROLE_DELIVERED] = {COLOR_GREEN, -1, A_NORMAL},
    [ROLE_PENDING] = {COLOR_YELLOW, -1, A_NORMAL},
    [ROLE_DROPPED] = {COLOR_RED, -1, A_NORMAL},
    [ROLE_COMMITTED] = {-1, -1, A_NORMAL},
    [ROLE_UNCOMMITTED] = {COLOR_YELLOW, -1, A_DIM},
    [ROLE_CONFLICT] = {COLOR_WHITE, COLOR_RED, A_BOLD},
    [ROLE_ALERT] = {COLOR_WHITE, COLOR_RED, A_BOLD},
    [ROLE_OK] = {COLOR_GREEN, -1, A_NORMAL},
    [ROLE_FAIL] = {COLOR_RED, -1, A_BOLD},
    [ROLE_DIM] = {COLOR_BLUE, -1, A_NORMAL},
    [ROLE_SELECTED] = {-1, -1, A_REVERSE},
    [ROLE_OUTPUT] = {-1, -1, A_NORMAL},
    [ROLE_PROMPT] = {COLOR_CYAN, -1, A_BOLD},
    [ROLE_HELP] = {COLOR_BLACK, COLOR_WHITE, A_NORMAL},
};

/* Without colour, attributes alone must keep the meaning visible. */
static attr_t mono_attr(enum role r)
{
    switch (r) {
    case ROLE_TITLE: case ROLE_SELECTED: case ROLE_ALERT: case ROLE_CONFLICT: case ROLE_HELP:
        return A_REVERSE;
    case ROLE_LEADER: case ROLE_FOCUS: case ROLE_DOWN: case ROLE_PARTITION: case ROLE_FAIL:
    case ROLE_PROMPT:
        return A_BOLD;
    case ROLE_DROPPED: case ROLE_PAUSED:
        return A_UNDERLINE;
    case ROLE_UNCOMMITTED: case ROLE_DIM: case ROLE_PENDING:
        return A_DIM;
    default:
        return A_NORMAL;
    }
}

static void colors_init(struct dash *d)
{
    if (!d->color)
        return;
    bool defaults = use_default_colors() == OK;
    for (int r = 0; r < ROLE_COUNT; r++) {
        short fg = role_styles[r].fg, bg = role_styles[r].bg;
        if (!defaults) {
            if (fg < 0)
                fg = COLOR_WHITE;
            if (bg < 0)
                bg = COLOR_BLACK;
        }
        init_pair((short)(r + 1), fg, bg);
    }
}

bool dash_want_color(bool no_color_flag)
{
    const char *term = getenv("TERM");
    if (no_color_flag || getenv("NO_COLOR"))
        return false;
    if (!term || !*term || !strcmp(term, "dumb"))
        return false;
    return true;
}

/* ---- crash-safe restore ----------------------------------------------------------------- */

void dash_crash_restore(void)
{
    if (!g_active)
        return;
    g_active = 0;
    if (g_restore_len) {
        ssize_t w = write(STDOUT_FILENO, g_restore, g_restore_len);
        (void)w;
    }
    if (g_have_tio)
        tcsetattr(STDIN_FILENO, TCSANOW, &g_saved_tio);
}

static void crash_handler(int sig)
{
    dash_crash_restore();
    signal(sig, SIG_DFL);
    raise(sig);
}

static void add_restore(const char *cap)
{
    char *s = tigetstr(cap);
    if (!s || s == (char *)-1)
        return;
    size_t n = strlen(s);
    if (g_restore_len + n < sizeof g_restore) {
        memcpy(g_restore + g_restore_len, s, n);
        g_restore_len += n;
    }
}

static void install_crash_handlers(void)
{
    static const int sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
    for (size_t i = 0; i < CL_ARRAY_LEN(sigs); i++) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = crash_handler;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = SA_RESETHAND;
        sigaction(sigs[i], &sa, NULL);
    }
}

/* ---- drawing ---------------------------------------------------------------------------- */

static void sync_selection(struct dash *d)
{
    const struct dm_state *s = dm_view(d->m);
    d->ui.selected_msg = -1;
    if (d->sel_pos == UINT64_MAX)
        return;
    for (size_t i = s->nmsgs; i-- > 0;)
        if (dm_msg_at(s, i)->pos == d->sel_pos) {
            d->ui.selected_msg = (long)i;
            return;
        }
    d->sel_pos = UINT64_MAX;
    d->ui.show_json = false;
}

static void fm_push(struct dash *d, uint64_t pos)
{
    if (d->nfm == d->capfm) {
        /* let go of positions time travel can no longer reach before growing */
        uint64_t first = dm_first_pos(d->m);
        size_t drop = 0;
        while (drop < d->nfm && d->fm[drop] < first)
            drop++;
        if (drop) {
            memmove(d->fm, d->fm + drop, (d->nfm - drop) * sizeof *d->fm);
            d->nfm -= drop;
        } else {
            d->capfm = d->capfm ? d->capfm * 2 : 1024;
            d->fm = xrealloc(d->fm, d->capfm * sizeof *d->fm);
        }
    }
    d->fm[d->nfm++] = pos;
}

/* Keeps the filter's match list in step with the filter (one scan when it changes). */
static void fm_sync(struct dash *d)
{
    if (!strcmp(d->fm_for, d->filter))
        return;
    str_copy(d->fm_for, d->filter, sizeof d->fm_for);
    d->nfm = 0;
    if (!d->filter[0])
        return;
    for (uint64_t p = dm_first_pos(d->m); p < dm_count(d->m); p++)
        if (dm_event_matches(dm_event_at(d->m, p), d->filter))
            fm_push(d, p);
}

static void fill_ui(struct dash *d)
{
    fm_sync(d);
    d->ui.help_lines = dash_help_lines();
    d->ui.output_unseen = d->out_unseen;
    d->ui.filter = d->filter;
    d->ui.matches = d->fm;
    d->ui.nmatches = d->nfm;
    d->ui.playing = d->playing;
    if (d->cfg.kind == DASH_REPLAY)
        d->ui.speed = d->speed;
    else
        d->ui.speed = dm_view(d->m)->speed;
    if (d->ui.filter_editing) {
        d->ui.prompt = "filter: ";
        d->ui.line = d->fedit;
        d->ui.point = d->fedit_len;
    } else if (d->rl_on) {
        d->ui.prompt = rl_display_prompt ? rl_display_prompt : d->cfg.prompt;
        d->ui.line = rl_line_buffer ? rl_line_buffer : "";
        d->ui.point = rl_point;
    } else {
        d->ui.prompt = "";
        d->ui.line = "";
        d->ui.point = 0;
    }
}

static void put_cell(struct dash *d, int x, int y, const struct cell *cl)
{
    if (cl->cp == 0)
        return;
    enum role r = cl->role < ROLE_COUNT ? (enum role)cl->role : ROLE_NORMAL;
    attr_t attr = d->color ? role_styles[r].attr : mono_attr(r);
    short pair = d->color ? (short)(r + 1) : 0;
    wchar_t wc[2] = {(wchar_t)cl->cp, 0};
    if (!d->utf8 && cl->cp >= 0x80)
        wc[0] = '?';
    cchar_t cc;
    setcchar(&cc, wc, attr, pair, NULL);
    mvadd_wch(y, x, &cc);
}

/* Copies the changed cells to curses and updates the terminal once. */
static void flush(struct dash *d, int cursor_x)
{
    struct canvas *c = d->cv;
    bool full = !d->shown || d->shown_cols != c->cols || d->shown_rows != c->rows;
    if (full) {
        free(d->shown);
        d->shown = xcalloc((size_t)c->cols * (size_t)c->rows + 1, sizeof *d->shown);
        d->shown_cols = c->cols;
        d->shown_rows = c->rows;
        erase();
    }
    for (int y = 0; y < c->rows; y++)
        for (int x = 0; x < c->cols; x++) {
            const struct cell *cl = &c->cells[y * c->cols + x];
            struct cell *sh = &d->shown[y * c->cols + x];
            if (!full && sh->cp == cl->cp && sh->role == cl->role)
                continue;
            /* a wide character's right half changes with its left half */
            if (cl->cp == 0 && x > 0)
                put_cell(d, x - 1, y, &c->cells[y * c->cols + x - 1]);
            put_cell(d, x, y, cl);
            *sh = *cl;
        }
    bool show_cursor = d->has_cmdline || d->ui.filter_editing;
    show_cursor = show_cursor && !d->lay.too_small && !d->ui.help && !d->ui.show_json &&
                  (d->ui.focus == PANE_CMDLINE || d->ui.filter_editing);
    if (show_cursor) {
        curs_set(1);
        move(d->lay.pane[PANE_CMDLINE].y, cursor_x);
    } else {
        curs_set(0);
        move(c->rows - 1, 0);
    }
    wnoutrefresh(stdscr);
    doupdate();
}

static void relayout(struct dash *d);

static void draw_now(struct dash *d)
{
    /* a lesson starting or ending (also by time travel), or a new step (its text sizes the
     * Lesson pane), changes the layout */
    const struct dm_lesson *ls = &dm_view(d->m)->lesson;
    if (ls->active && !d->lesson_was)
        d->lesson_view = true; /* a lesson that starts is shown */
    d->lesson_was = ls->active;
    if ((ls->active && d->lesson_view) != d->lay_lesson || ls->text != d->lesson_text)
        relayout(d);
    sync_selection(d);
    fill_ui(d);
    render_screen(d->cv, &d->lay, d->m, &d->ui);
    int cx = render_cmdline(d->cv, &d->lay, &d->ui);
    flush(d, cx);
    d->dirty = d->cmd_dirty = false;
    d->frames++;
}

static void draw_cmdline(struct dash *d)
{
    if (d->dirty || d->ui.help || d->ui.show_json) {
        d->cmd_dirty = true;
        return; /* the next frame draws it */
    }
    fill_ui(d);
    int cx = render_cmdline(d->cv, &d->lay, &d->ui);
    flush(d, cx);
    d->cmd_dirty = false;
}

static void relayout(struct dash *d)
{
    int rows = LINES > 0 ? LINES : 1, cols = COLS > 0 ? COLS : 1;
    const struct dm_lesson *ls = &dm_view(d->m)->lesson;
    d->lay_lesson = ls->active && d->lesson_view;
    if (ls->text != d->lesson_text)
        d->ui.scroll[PANE_LESSON] = 0; /* a new step: shown from its heading */
    d->lesson_text = ls->text;
    render_layout(d->m, cols, rows, d->lesson_view, &d->lay);
    if (d->cv->cols != cols || d->cv->rows != rows)
        canvas_resize(d->cv, cols, rows);
    if (!layout_visible(&d->lay, d->ui.focus) && d->ui.focus != PANE_CMDLINE)
        d->ui.focus = d->has_cmdline ? PANE_CMDLINE : PANE_EVENTS;
    d->dirty = true;
}

/* Full redraw at the terminal's current size. resizeterm() queues a KEY_RESIZE, which calls
 * this again: only resize when the size really changed, or the two would chase each other. */
static void resize(struct dash *d)
{
    struct winsize ws;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0 &&
        (ws.ws_row != LINES || ws.ws_col != COLS))
        resizeterm(ws.ws_row, ws.ws_col);
    free(d->shown);
    d->shown = NULL;
    clearok(curscr, TRUE);
    relayout(d);
}

/* ---- readline glue ---------------------------------------------------------------------- */

static int rl_getc_hook(FILE *f)
{
    (void)f;
    g_rl_avail = false;
    return g_rl_char;
}

static int rl_avail_hook(void)
{
    return g_rl_avail;
}

static void rl_redisplay_hook(void)
{
    if (g_dash)
        draw_cmdline(g_dash);
}

static void rl_noop_prep(int meta)
{
    (void)meta;
}

static void rl_noop_deprep(void)
{
}

static void output_line(struct dash *d, const char *text)
{
    json_t *ev = json_pack("{s:s, s:s, s:I}", "ev", "output", "text", text, "t",
                           (json_int_t)dm_live(d->m)->t_last);
    if (ev) {
        dash_feed(d, ev);
        json_decref(ev);
    }
    d->dirty = true;
}

static void rl_show_matches(char **matches, int n, int maxlen)
{
    (void)maxlen;
    if (!g_dash)
        return;
    struct sb b = {0};
    for (int i = 1; i <= n && i <= 200; i++) {
        sb_printf(&b, "%s%s", b.s && b.len ? "  " : "", matches[i]);
        if (b.len > 70) {
            output_line(g_dash, b.s);
            sb_free(&b);
        }
    }
    if (b.s && b.len)
        output_line(g_dash, b.s);
    sb_free(&b);
}

static void rl_line_handler(char *line)
{
    struct dash *d = g_dash;
    if (!d) {
        free(line);
        return;
    }
    if (!line) {
        if (d->cfg.on_line && d->cfg.kind == DASH_LIVE)
            d->cfg.on_line(d->cfg.ud, "quit"); /* Ctrl-D on an empty line */
        else
            d->quit = true;
        return;
    }
    if (*line)
        add_history(line);
    /* a command's answer must be seen: the Output pane follows again */
    d->ui.scroll[PANE_OUTPUT] = 0;
    d->out_unseen = 0;
    if (d->cfg.on_line)
        d->cfg.on_line(d->cfg.ud, line);
    free(line);
    d->dirty = true;
}

static void rl_feed(int ch)
{
    g_rl_char = ch;
    g_rl_avail = true;
    rl_callback_read_char();
}

static void readline_start(struct dash *d)
{
    rl_catch_signals = 0;
    rl_catch_sigwinch = 0;
    rl_change_environment = 0;
    rl_getc_function = rl_getc_hook;
    rl_input_available_hook = rl_avail_hook;
    rl_redisplay_function = rl_redisplay_hook;
    rl_prep_term_function = rl_noop_prep;
    rl_deprep_term_function = rl_noop_deprep;
    rl_completion_display_matches_hook = rl_show_matches;
    d->rl_null = fopen("/dev/null", "w");
    if (d->rl_null)
        rl_outstream = d->rl_null;
    if (d->cfg.complete)
        rl_attempted_completion_function = d->cfg.complete;
    rl_callback_handler_install(d->cfg.prompt, rl_line_handler);
    d->rl_on = true;
}

static void readline_stop(struct dash *d)
{
    if (!d->rl_on)
        return;
    rl_callback_handler_remove();
    rl_redisplay_function = rl_redisplay;
    rl_getc_function = rl_getc;
    rl_input_available_hook = NULL;
    rl_prep_term_function = rl_prep_terminal;
    rl_deprep_term_function = rl_deprep_terminal;
    rl_completion_display_matches_hook = NULL;
    rl_outstream = NULL;
    if (d->rl_null)
        fclose(d->rl_null);
    d->rl_null = NULL;
    d->rl_on = false;
}

/* keypad keys as readline commands */
static bool rl_keypad(int ch)
{
    switch (ch) {
    case KEY_LEFT: rl_backward_char(1, 0); break;
    case KEY_RIGHT: rl_forward_char(1, 0); break;
    case KEY_UP: rl_get_previous_history(1, 0); break;
    case KEY_DOWN: rl_get_next_history(1, 0); break;
    case KEY_HOME: rl_beg_of_line(1, 0); break;
    case KEY_END: rl_end_of_line(1, 0); break;
    case KEY_DC: rl_delete(1, 0); break;
    case KEY_BACKSPACE: rl_rubout(1, 0); break;
    case KEY_ENTER: rl_feed('\r'); return true;
    default: return false;
    }
    rl_redisplay_hook();
    return true;
}

/* ---- actions ---------------------------------------------------------------------------- */

/* What an action asks the loop to do afterwards (htop's reaction flags). */
enum {
    RE_NONE = 0,
    RE_DRAW = 1,        /* redraw the screen (coalesced) */
    RE_LAYOUT = 2,      /* lay the panes out again, then redraw */
    RE_CMDLINE = 4,     /* redraw the command line at once */
};

static const enum pane_id focus_order[] = {PANE_CMDLINE, PANE_LESSON, PANE_MESSAGES, PANE_LOG,
                                           PANE_VOTES, PANE_EVENTS, PANE_OUTPUT};

static unsigned focus_step(struct dash *d, int dir)
{
    int n = (int)CL_ARRAY_LEN(focus_order), k = 0;
    for (int i = 0; i < n; i++)
        if (focus_order[i] == d->ui.focus)
            k = i;
    for (int step = 0; step < n; step++) {
        k = (k + dir + n) % n;
        enum pane_id p = focus_order[k];
        if (p == PANE_CMDLINE ? d->has_cmdline : layout_visible(&d->lay, p)) {
            d->ui.focus = p;
            break;
        }
    }
    return RE_DRAW;
}

/* The lab's slow motion steps through these (- slower, + faster); replay has a wider range. */
static const double lab_speeds[] = {0.05, 0.1, 0.25, 0.5, 1};
static const double replay_speeds[] = {0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100};

static double speed_step(const double *ladder, int n, double cur, int dir)
{
    int best = 0;
    for (int i = 0; i < n; i++)
        if (fabs(ladder[i] - cur) < fabs(ladder[best] - cur))
            best = i;
    if (fabs(ladder[best] - cur) > 1e-9 && (dir < 0) == (ladder[best] < cur))
        best -= dir; /* between two steps: the next one in that direction is the nearest */
    best += dir;
    return ladder[best < 0 ? 0 : best >= n ? n - 1 : best];
}

static unsigned change_speed(struct dash *d, int dir)
{
    if (d->cfg.kind == DASH_REPLAY) {
        d->speed = speed_step(replay_speeds, (int)CL_ARRAY_LEN(replay_speeds), d->speed, dir);
        d->play_wall = mono_us();
        d->play_t = dm_view(d->m)->t_last;
    } else if (d->cfg.kind == DASH_LIVE && d->cfg.on_line) {
        char cmd[48];
        snprintf(cmd, sizeof cmd, "speed %g",
                 speed_step(lab_speeds, (int)CL_ARRAY_LEN(lab_speeds), dm_live(d->m)->speed, dir));
        d->cfg.on_line(d->cfg.ud, cmd);
    }
    return RE_DRAW;
}

static void toggle_freeze(struct dash *d)
{
    if (d->cfg.kind == DASH_REPLAY) {
        d->playing = !d->playing;
        if (d->playing && dm_cursor(d->m) >= dm_count(d->m))
            dm_seek(d->m, dm_first_pos(d->m)); /* at the end: play from the start */
        d->play_wall = mono_us();
        d->play_t = dm_view(d->m)->t_last;
    } else if (dm_frozen(d->m)) {
        dm_thaw(d->m);
    } else {
        dm_freeze(d->m);
    }
    d->dirty = true;
}

static void seek_by(struct dash *d, int64_t delta)
{
    if (!dm_frozen(d->m))
        dm_freeze(d->m);
    int64_t pos = (int64_t)dm_cursor(d->m) + delta;
    dm_seek(d->m, pos < 0 ? 0 : (uint64_t)pos);
    d->playing = false;
    d->dirty = true;
}

/* The Output pane follows new output unless scrolled back; back at the bottom it follows
 * again and the "new output" count is spent. */
static void output_follow(struct dash *d)
{
    d->ui.scroll[PANE_OUTPUT] = 0;
    d->out_unseen = 0;
    d->ui.output_unseen = 0;
}

static void scroll_pane(struct dash *d, enum pane_id p, int delta)
{
    if (p == PANE_CMDLINE) /* from the command line: the lesson first, else the events */
        p = layout_visible(&d->lay, PANE_LESSON)   ? PANE_LESSON
            : layout_visible(&d->lay, PANE_EVENTS) ? PANE_EVENTS : PANE_OUTPUT;
    if (p == PANE_MESSAGES) {
        const struct dm_state *s = dm_view(d->m);
        sync_selection(d);
        long sel = d->ui.selected_msg;
        if (sel < 0)
            sel = (long)s->nmsgs; /* one past the newest */
        sel -= delta;
        if (sel >= (long)s->nmsgs || s->nmsgs == 0) {
            d->sel_pos = UINT64_MAX;
            d->ui.show_json = false;
        } else {
            if (sel < 0)
                sel = 0;
            d->sel_pos = dm_msg_at(s, (size_t)sel)->pos;
        }
        d->dirty = true;
        return;
    }
    if (p == PANE_LESSON) { /* scroll - 1 is the first row shown; 0 = from the step heading */
        int first = d->ui.scroll[PANE_LESSON] > 0 ? d->ui.scroll[PANE_LESSON] - 1
                                                   : render_lesson_first_row(d->cv, &d->lay, d->m);
        first -= delta;
        d->ui.scroll[PANE_LESSON] = first < 0 ? 1 : first > 100000 ? 100001 : first + 1;
        d->dirty = true;
        return;
    }
    int v = d->ui.scroll[p] + delta;
    d->ui.scroll[p] = v < 0 ? 0 : v > 1000000 ? 1000000 : v;
    if (p == PANE_OUTPUT && d->ui.scroll[p] == 0)
        output_follow(d);
    d->dirty = true;
}

static void filter_key(struct dash *d, int ch)
{
    if (ch == '\n' || ch == '\r' || ch == KEY_ENTER) {
        str_copy(d->filter, d->fedit, sizeof d->filter);
        d->ui.filter_editing = false;
        d->ui.scroll[PANE_EVENTS] = 0;
    } else if (ch == 27 || ch == 3 || ch == 7) {
        d->ui.filter_editing = false;
    } else if (ch == KEY_BACKSPACE || ch == 127 || ch == 8) {
        if (d->fedit_len > 0) {
            d->fedit_len--;
            while (d->fedit_len > 0 && ((unsigned char)d->fedit[d->fedit_len] & 0xc0) == 0x80)
                d->fedit_len--;
            d->fedit[d->fedit_len] = 0;
        }
    } else if (ch == 21) { /* Ctrl-U */
        d->fedit_len = 0;
        d->fedit[0] = 0;
    } else if (ch >= 32 && ch < 256 && ch != 127 && d->fedit_len < (int)sizeof d->fedit - 1) {
        d->fedit[d->fedit_len++] = (char)ch;
        d->fedit[d->fedit_len] = 0;
    }
    d->dirty = true;
}

static void suspend(struct dash *d)
{
    endwin();
    struct sigaction dfl, old;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(SIGTSTP, &dfl, &old);
    sigset_t set, oldset;
    sigemptyset(&set);
    sigaddset(&set, SIGTSTP);
    sigprocmask(SIG_UNBLOCK, &set, &oldset);
    g_active = 0;
    raise(SIGTSTP);           /* stops here until fg */
    g_active = 1;
    sigprocmask(SIG_SETMASK, &oldset, NULL);
    sigaction(SIGTSTP, &old, NULL);
    reset_prog_mode();
    resize(d);
    draw_now(d);
}

static bool cmdline_empty(const struct dash *d)
{
    return !d->rl_on || rl_end == 0;
}

/* ---- the keys: one table; the help overlay is made from it ------------------------------ */

static unsigned act_help(struct dash *d, int ch)
{
    (void)ch;
    d->ui.help = true;
    return RE_DRAW;
}

static unsigned act_focus(struct dash *d, int ch)
{
    return focus_step(d, ch == KEY_BTAB ? -1 : +1);
}

static unsigned act_view(struct dash *d, int ch)
{
    (void)ch;
    if (!dm_view(d->m)->lesson.active) {
        dash_set_notice(d, "no lesson is running: `lesson list` shows the course");
        return RE_DRAW;
    }
    d->lesson_view = !d->lesson_view;
    dash_set_notice(d, NULL);
    return RE_LAYOUT;
}

static unsigned act_quiz(struct dash *d, int ch)
{
    (void)ch;
    if (d->cfg.on_line)
        d->cfg.on_line(d->cfg.ud, "quiz");
    return RE_DRAW;
}

static unsigned act_escape(struct dash *d, int ch)
{
    (void)ch;
    if (d->ui.show_json) {
        d->ui.show_json = false;
    } else {
        d->ui.focus = d->has_cmdline ? PANE_CMDLINE : d->ui.focus;
        d->sel_pos = UINT64_MAX;
    }
    return RE_DRAW;
}

static unsigned act_page(struct dash *d, int ch)
{
    enum pane_id p = d->ui.focus != PANE_CMDLINE ? d->ui.focus
                     : layout_visible(&d->lay, PANE_LESSON) ? PANE_LESSON : PANE_EVENTS;
    int rows = render_pane_rows(&d->lay, p) - 1;
    scroll_pane(d, d->ui.focus, ch == KEY_PPAGE ? (rows > 0 ? rows : 1) : -(rows > 0 ? rows : 1));
    return RE_DRAW;
}

static unsigned act_line(struct dash *d, int ch)
{
    scroll_pane(d, d->ui.focus, ch == KEY_UP ? +1 : -1);
    return RE_DRAW;
}

static unsigned act_home(struct dash *d, int ch)
{
    (void)ch;
    if (d->ui.focus == PANE_LESSON)
        d->ui.scroll[PANE_LESSON] = 1;
    else
        scroll_pane(d, d->ui.focus, 1000000);
    return RE_DRAW;
}

static unsigned act_end(struct dash *d, int ch)
{
    (void)ch;
    if (d->ui.focus == PANE_MESSAGES) {
        d->sel_pos = UINT64_MAX;
        d->ui.show_json = false;
    } else if (d->ui.focus == PANE_OUTPUT || d->ui.focus == PANE_CMDLINE) {
        output_follow(d);
    } else {
        d->ui.scroll[d->ui.focus] = 0;
    }
    return RE_DRAW;
}

static unsigned act_enter(struct dash *d, int ch)
{
    (void)ch;
    if (d->ui.focus == PANE_MESSAGES && d->sel_pos != UINT64_MAX)
        d->ui.show_json = !d->ui.show_json;
    return RE_DRAW;
}

static unsigned act_clocks(struct dash *d, int ch)
{
    (void)ch;
    d->ui.clocks = !d->ui.clocks;
    return RE_DRAW;
}

/* F5: mark what happened before and after the selected message (the newest when none is). */
static unsigned act_causal(struct dash *d, int ch)
{
    (void)ch;
    d->ui.causal = !d->ui.causal;
    const struct dm_state *s = dm_view(d->m);
    if (d->ui.causal && d->sel_pos == UINT64_MAX && s->nmsgs)
        d->sel_pos = dm_msg_at(s, s->nmsgs - 1)->pos;
    return RE_DRAW;
}

static unsigned act_freeze(struct dash *d, int ch)
{
    (void)ch;
    toggle_freeze(d);
    return RE_DRAW;
}

static unsigned act_seek(struct dash *d, int ch)
{
    int64_t all = (int64_t)dm_count(d->m);
    seek_by(d, ch == KEY_LEFT ? -1 : ch == KEY_RIGHT ? 1 : ch == '[' ? -100 : ch == ']' ? 100
               : ch == '<' ? -all : all);
    return RE_DRAW;
}

static unsigned act_speed(struct dash *d, int ch)
{
    return change_speed(d, ch == '+' || ch == '=' ? +1 : -1);
}

static unsigned act_filter(struct dash *d, int ch)
{
    (void)ch;
    d->ui.filter_editing = true;
    str_copy(d->fedit, d->filter, sizeof d->fedit);
    d->fedit_len = (int)strlen(d->fedit);
    return RE_DRAW;
}

static unsigned act_redraw(struct dash *d, int ch)
{
    (void)ch;
    resize(d);
    return RE_DRAW;
}

static unsigned act_suspend(struct dash *d, int ch)
{
    (void)ch;
    suspend(d);
    return RE_NONE;
}

static unsigned act_quit(struct dash *d, int ch)
{
    (void)ch;
    if (d->cfg.kind == DASH_LIVE && d->cfg.on_line)
        d->cfg.on_line(d->cfg.ud, "quit");
    else
        d->quit = true;
    return RE_DRAW;
}

/* When a key acts. */
enum {
    K_ANYTIME = 1,      /* even with text on the command line */
    K_EMPTY = 2,        /* on an empty command line, or when a pane has the focus */
    K_PANE = 4,         /* only when a pane has the focus (else the command line's key) */
    K_TIME = 8,         /* only when frozen, or replaying */
    K_LIVE = 16,        /* only in the lab's own dashboard */
    K_VIEWER = 32,      /* only without a command line (conlab dash, conlab replay) */
};

struct key_action {
    int keys[4];                /* 0 ends the list */
    const char *label;          /* for the help overlay; NULL: listed with the row before */
    const char *help;
    unsigned when;
    unsigned (*act)(struct dash *d, int ch); /* NULL: handled elsewhere, listed for help */
};

static const struct key_action key_table[] = {
    {{KEY_F(1)}, "F1 or ?", "this help: the keys and what the screen shows", K_ANYTIME, act_help},
    {{'?'}, NULL, NULL, K_EMPTY, act_help},
    {{KEY_F(2)}, "F2", "lesson view / cluster view while a lesson runs", K_ANYTIME, act_view},
    {{KEY_F(3)}, "F3", "start the lesson's quiz (after its last step; or type quiz)", K_ANYTIME | K_LIVE, act_quiz},
    {{KEY_F(4)}, "F4", "Clocks pane: offsets from true time (* NTP), drift, Lamport, vector, HLC, TrueTime", K_ANYTIME, act_clocks},
    {{KEY_F(5)}, "F5", "happened-before: < before the selected message, > after it, . concurrent", K_ANYTIME, act_causal},
    {{'\t'}, "Tab", "focus the next pane (on an empty command line)", K_EMPTY, act_focus},
    {{KEY_BTAB}, "Shift-Tab", "focus the previous pane", K_ANYTIME, act_focus},
    {{27}, "Esc", "back to the command line", K_EMPTY, act_escape},
    {{KEY_UP, KEY_DOWN}, "Up/Down", "scroll the focused pane; select a message", K_PANE, act_line},
    {{KEY_PPAGE, KEY_NPAGE}, "PgUp/PgDn", "scroll the focused pane (or Events, or Output) by a page", K_ANYTIME, act_page},
    {{KEY_HOME}, "Home/End", "oldest / newest in the focused pane; End: Output follows again", K_PANE, act_home},
    {{KEY_END}, NULL, NULL, K_PANE, act_end},
    {{'\n', '\r', KEY_ENTER}, "Enter", "show the selected message's JSON (Messages pane)", K_PANE, act_enter},
    {{' '}, "Space", "freeze the display / back to live (replay: play/pause)", K_EMPTY, act_freeze},
    {{KEY_LEFT, KEY_RIGHT}, "Left/Right", "when frozen: one event back / forward", K_EMPTY | K_TIME, act_seek},
    {{'[', ']'}, "[ and ]", "when frozen: 100 events back / forward", K_EMPTY | K_TIME, act_seek},
    {{'<', '>'}, "< and >", "when frozen: first / last recorded event", K_EMPTY | K_TIME, act_seek},
    {{'-', '_'}, "- and +", "slower / faster: speed 1, 0.5, 0.25, 0.1, 0.05 (replay: playback)", K_EMPTY, act_speed},
    {{'+', '='}, NULL, NULL, K_EMPTY, act_speed},
    {{'/'}, "/", "filter the events (words must all match; ev=drop)", K_EMPTY, act_filter},
    {{12}, "Ctrl-L", "redraw the screen", K_ANYTIME, act_redraw},
    {{3}, "Ctrl-C", "clear the command line (never stops the cluster)", K_ANYTIME, NULL},
    {{26}, "Ctrl-Z", "suspend; fg brings the dashboard back", K_ANYTIME, act_suspend},
    {{'q'}, "q", "leave a viewer (conlab dash, replay); in the lab type quit or Ctrl-D", K_VIEWER, act_quit},
};

/* What the screen shows, after the keys in the help overlay. */
static const char *const legend[] = {
    "",
    "Command line: readline keys, history (Up/Down), Tab completes commands and nodes",
    "",
    "What the screen shows",
    "  n3 * / LEADER t4  the leader (term 4); candidate, follower; e4 is an epoch",
    "  c12 a12           commit index 12, applied index 12 (wide cards spell it out)",
    "  L42 vc[3,5,1]     Lamport clock 42; vector clock, one count per node",
    "  clk ... +0ms h+3  the node's physical clock, its injected skew, and how far its",
    "                    hybrid logical clock (HLC) runs ahead of it, in ms",
    "  Log ~ and !       an entry not yet committed; one that conflicts with the leader's",
    "  Votes n2 ✓        votes granted (the candidate's own vote included) or denied ✗",
    "  ALERTS n          invariant violations and checks that failed (see Events, !!)",
    "  drops n           events the lab could not keep up with",
    "  speed 0.1         the cluster runs ten times slower (slow motion)",
    NULL,
};

const char *const *dash_help_lines(void)
{
    static char rows[CL_ARRAY_LEN(key_table)][128];
    static const char *help_out[CL_ARRAY_LEN(key_table) + CL_ARRAY_LEN(legend) + 1];
    if (!help_out[0]) {
        int n = 0;
        for (size_t i = 0; i < CL_ARRAY_LEN(key_table); i++) {
            if (!key_table[i].label)
                continue;
            snprintf(rows[n], sizeof rows[n], "%-12s %s", key_table[i].label, key_table[i].help);
            help_out[n] = rows[n];
            n++;
        }
        for (size_t i = 0; legend[i]; i++)
            help_out[n++] = legend[i];
        help_out[n] = NULL;
    }
    return help_out;
}

static void react(struct dash *d, unsigned re)
{
    if (re & RE_LAYOUT)
        relayout(d);
    if (re & (RE_DRAW | RE_LAYOUT))
        d->dirty = true;
    if (re & RE_CMDLINE)
        rl_redisplay_hook();
}

/* Looks the key up in the table and runs its action when it acts here. Returns true when it
 * did. line_text: the command line holds text. */
static bool run_key(struct dash *d, int ch, bool line_text)
{
    bool pane = !d->has_cmdline || d->ui.focus != PANE_CMDLINE;
    bool timeful = dm_frozen(d->m) || d->cfg.kind == DASH_REPLAY;
    for (size_t i = 0; i < CL_ARRAY_LEN(key_table); i++) {
        const struct key_action *k = &key_table[i];
        bool hit = false;
        for (int j = 0; j < 4 && k->keys[j]; j++)
            hit = hit || k->keys[j] == ch;
        if (!hit || !k->act)
            continue;
        if (((k->when & K_LIVE) && d->cfg.kind != DASH_LIVE) || ((k->when & K_TIME) && !timeful) ||
            ((k->when & K_VIEWER) && d->has_cmdline) ||
            ((k->when & K_PANE) && !pane) || ((k->when & K_EMPTY) && !pane && line_text))
            continue;
        react(d, k->act(d, ch));
        return true;
    }
    return false;
}

static void on_key(struct dash *d, int ch)
{
    if (ch == KEY_RESIZE) {
        resize(d);
        return;
    }
    if (d->ui.help) { /* any key closes the help */
        d->ui.help = false;
        d->dirty = true;
        return;
    }
    if (d->ui.filter_editing) {
        filter_key(d, ch);
        return;
    }
    if (d->ui.show_json && (ch == '\n' || ch == '\r' || ch == KEY_ENTER || ch == 27)) {
        d->ui.show_json = false;
        d->dirty = true;
        return;
    }
    if (!d->has_cmdline) {
        if (ch == 4 || ch == 3) /* Ctrl-D, Ctrl-C leave a viewer */
            d->quit = true;
        else
            run_key(d, ch, false);
        return;
    }
    if (d->ui.focus == PANE_CMDLINE) {
        if (ch == 3) { /* Ctrl-C: clear the line, never stop anything */
            rl_replace_line("", 0);
            rl_point = rl_end = 0;
            rl_redisplay_hook();
            return;
        }
        if (run_key(d, ch, !cmdline_empty(d)))
            return;
        if (ch >= KEY_MIN) {
            rl_keypad(ch);
            return;
        }
        rl_feed(ch);
        return;
    }
    /* a pane has the focus */
    if (run_key(d, ch, false))
        return;
    if (ch == 3 || ch == 4)
        return;
    if (ch < KEY_MIN && (ch >= 32 || ch == 1 || ch == 5 || ch == 11 || ch == 21)) {
        d->ui.focus = PANE_CMDLINE; /* typing goes back to the command line */
        d->dirty = true;
        rl_feed(ch);
    }
}

/* ---- public API ------------------------------------------------------------------------- */

struct dash *dash_new(const struct dash_config *c, char *err, size_t errlen)
{
    const char *term = getenv("TERM");
    if (g_dash) {
        snprintf(err, errlen, "a dashboard is already open");
        return NULL;
    }
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
        snprintf(err, errlen, "stdin and stdout must be terminals for the dashboard");
        return NULL;
    }
    if (!term || !*term || !strcmp(term, "dumb")) {
        snprintf(err, errlen, "TERM is %s: the dashboard needs a terminal that can move the "
                 "cursor; use --plain", term && *term ? term : "unset");
        return NULL;
    }
    setlocale(LC_CTYPE, ""); /* UTF-8 for ncurses; numbers stay in the C locale */
    struct dash *d = xcalloc(1, sizeof *d);
    d->cfg = *c;
    if (!d->cfg.prompt)
        d->cfg.prompt = "conlab> ";
    if (d->cfg.source) {
        str_copy(d->title_source, d->cfg.source, sizeof d->title_source);
        d->cfg.source = d->title_source;
    }
    d->m = dm_new(c->record_cap);
    d->sel_pos = UINT64_MAX;
    d->speed = c->replay_speed > 0 ? c->replay_speed : 1.0;
    g_have_tio = tcgetattr(STDIN_FILENO, &g_saved_tio) == 0;
    if (!getenv("ESCDELAY"))
        set_escdelay(25);
    d->scr = newterm(NULL, stdout, stdin);
    if (!d->scr) {
        snprintf(err, errlen, "cannot open the terminal (TERM=%s)", term);
        dm_destroy(&d->m);
        free(d);
        return NULL;
    }
    set_term(d->scr);
    char *cup = tigetstr("cup");
    if (!cup || cup == (char *)-1) {
        endwin();
        delscreen(d->scr);
        snprintf(err, errlen, "TERM=%s cannot move the cursor; use --plain", term);
        dm_destroy(&d->m);
        free(d);
        return NULL;
    }
    g_restore_len = 0;
    add_restore("sgr0");
    add_restore("cnorm");
    add_restore("rmkx");
    add_restore("rmcup");
    if (g_restore_len + 2 < sizeof g_restore) {
        memcpy(g_restore + g_restore_len, "\r\n", 2);
        g_restore_len += 2;
    }
    const char *cs = nl_langinfo(CODESET);
    d->color = dash_want_color(c->no_color) && has_colors();
    if (d->color) {
        start_color(); /* COLORS is known only after this */
        d->color = COLORS >= 8 && COLOR_PAIRS > ROLE_COUNT;
    }
    d->utf8 = cs && !strcmp(cs, "UTF-8") && dash_want_color(c->no_color);
    raw();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    nodelay(stdscr, TRUE);
    intrflush(stdscr, FALSE);
    leaveok(stdscr, FALSE);
    colors_init(d);
    d->cv = canvas_new(COLS > 0 ? COLS : 1, LINES > 0 ? LINES : 1, d->utf8);
    d->ui.mode = c->kind == DASH_LIVE ? RENDER_LIVE : c->kind == DASH_READONLY ? RENDER_READONLY
                                                                               : RENDER_REPLAY;
    d->has_cmdline = c->kind == DASH_LIVE || (c->kind == DASH_REPLAY && c->on_line);
    d->ui.cmdline = d->has_cmdline;
    d->ui.output_live = c->kind == DASH_LIVE;
    d->ui.focus = d->has_cmdline ? PANE_CMDLINE : PANE_EVENTS;
    d->ui.selected_msg = -1;
    d->ui.source = d->cfg.source;
    g_dash = d;
    g_active = 1;
    install_crash_handlers();
    if (d->has_cmdline)
        readline_start(d);
    relayout(d);
    return d;
}

void dash_destroy(struct dash **pd)
{
    struct dash *d = pd ? *pd : NULL;
    if (!d)
        return;
    readline_stop(d);
    if (d->scr) {
        curs_set(1);
        endwin();
        delscreen(d->scr);
    }
    if (g_have_tio)
        tcsetattr(STDIN_FILENO, TCSANOW, &g_saved_tio);
    g_active = 0;
    g_dash = NULL;
    canvas_free(&d->cv);
    free(d->shown);
    free(d->fm);
    dm_destroy(&d->m);
    free(d);
    *pd = NULL;
}

int dash_input_fd(const struct dash *d)
{
    (void)d;
    return STDIN_FILENO;
}

int dash_poll_interrupt(struct dash *d)
{
    (void)d;
    int ch = getch();
    if (ch == ERR)
        return 0;
    if (ch == 3)
        return 1;
    ungetch(ch); /* any other key waits for the command to end */
    return 0;
}

void dash_on_readable(struct dash *d)
{
    for (int n = 0; n < 4096; n++) {
        int ch = getch();
        if (ch == ERR)
            break;
        on_key(d, ch);
        if (d->quit)
            break;
    }
}

void dash_feed(struct dash *d, json_t *ev)
{
    uint64_t pos = dm_count(d->m);
    const char *kind = json_string_value(json_object_get(ev, "ev"));
    if (d->ui.scroll[PANE_OUTPUT] > 0 && kind && !strcmp(kind, "output") &&
        layout_visible(&d->lay, PANE_OUTPUT)) {
        /* scrolled back: the view stays where it is, and the pane counts what came */
        const char *text = json_string_value(json_object_get(ev, "text"));
        int width = d->lay.pane[PANE_OUTPUT].w - 3;
        for (const char *p = text ? text : ""; p;) {
            const char *nl = strchr(p, '\n');
            char *one = xstrndup(p, nl ? (size_t)(nl - p) : strlen(p));
            if (*one || nl) {
                d->ui.scroll[PANE_OUTPUT] += render_wrap_rows(one, width);
                d->out_unseen++;
            }
            free(one);
            p = nl ? nl + 1 : NULL;
            if (p && !*p)
                break;
        }
    }
    dm_feed(d->m, ev);
    if (d->filter[0] && !strcmp(d->fm_for, d->filter) && dm_event_at(d->m, pos) &&
        dm_event_matches(ev, d->filter))
        fm_push(d, pos);
    d->dirty = true; /* even when frozen: the title shows the count */
}

/* Replay: moves the cursor over the events that are due at recorded pace × speed. Returns µs
 * until the next one is due. */
static uint64_t play(struct dash *d, uint64_t now)
{
    if (!d->playing)
        return UINT64_MAX;
    uint64_t count = dm_count(d->m), pos = dm_cursor(d->m);
    if (pos >= count) {
        d->playing = false;
        d->dirty = true;
        return UINT64_MAX;
    }
    double elapsed = (double)(now - d->play_wall) * d->speed;
    uint64_t target_t = d->play_t + (uint64_t)elapsed;
    uint64_t to = pos;
    while (to < count && to - pos < 20000) {
        json_t *ev = dm_event_at(d->m, to);
        json_t *t = json_object_get(ev, "t");
        uint64_t et = json_is_integer(t) && json_integer_value(t) > 0
                          ? (uint64_t)json_integer_value(t) : 0;
        if (et > target_t) {
            /* a long quiet stretch plays as one second at most */
            if ((double)(et - target_t) / d->speed > 1e6 && to == pos) {
                d->play_t = et;
                d->play_wall = now;
                to++;
                continue;
            }
            break;
        }
        to++;
    }
    if (to != pos) {
        dm_seek(d->m, to);
        d->dirty = true;
    }
    if (to >= count)
        return FRAME_US;
    json_t *t = json_object_get(dm_event_at(d->m, to), "t");
    uint64_t et = json_is_integer(t) && json_integer_value(t) > 0 ? (uint64_t)json_integer_value(t) : 0;
    double wait = et > target_t ? (double)(et - target_t) / d->speed : 0;
    return wait < FRAME_US ? FRAME_US : wait > 1e6 ? 1000000 : (uint64_t)wait;
}

uint64_t dash_before_sleep(struct dash *d, uint64_t now_us)
{
    uint64_t next = play(d, now_us);
    if (d->dirty) {
        if (now_us - d->last_frame >= FRAME_US || now_us < d->last_frame) {
            draw_now(d);
            d->last_frame = now_us;
        } else {
            uint64_t wait = FRAME_US - (now_us - d->last_frame);
            return wait < next ? wait : next;
        }
    } else if (d->cmd_dirty) {
        draw_cmdline(d);
    }
    return next;
}

void dash_on_signal(struct dash *d, int sig)
{
    if (sig == SIGWINCH) {
        resize(d);
    } else if (sig == SIGTSTP) {
        suspend(d);
    } else if (sig == SIGCONT) {
        reset_prog_mode();
        resize(d);
    }
}

bool dash_quit_requested(const struct dash *d)
{
    return d->quit;
}

struct dm *dash_model(struct dash *d)
{
    return d->m;
}

void dash_set_playing(struct dash *d, bool playing)
{
    d->playing = playing;
    d->play_wall = mono_us();
    d->play_t = dm_view(d->m)->t_last;
    d->dirty = true;
}

void dash_set_notice(struct dash *d, const char *text)
{
    str_copy(d->notice, text ? text : "", sizeof d->notice);
    d->ui.notice = d->notice[0] ? d->notice : NULL;
    d->dirty = true;
}

int dash_command(struct dash *d, const char *line, char *reply, size_t n)
{
    while (*line == ' ')
        line++;
    char word[16];
    size_t wl = strcspn(line, " ");
    if (wl == 0 || wl >= sizeof word)
        return 0;
    memcpy(word, line, wl);
    word[wl] = 0;
    const char *arg = line + wl;
    while (*arg == ' ')
        arg++;
    if (!strcmp(word, "seek")) {
        uint64_t pos;
        if (parse_u64(arg, &pos)) {
            snprintf(reply, n, "seek wants an event number (0..%llu)",
                     (unsigned long long)dm_count(d->m));
            return 1;
        }
        dm_seek(d->m, pos);
        d->playing = false;
        snprintf(reply, n, "at event %llu of %llu", (unsigned long long)dm_cursor(d->m),
                 (unsigned long long)dm_count(d->m));
    } else if (!strcmp(word, "play") && d->cfg.kind == DASH_REPLAY) {
        if (!d->playing)
            toggle_freeze(d);
        snprintf(reply, n, "playing at speed %g", d->speed);
    } else if (!strcmp(word, "pause") && d->cfg.kind == DASH_REPLAY) {
        d->playing = false;
        snprintf(reply, n, "paused at event %llu", (unsigned long long)dm_cursor(d->m));
    } else if (!strcmp(word, "freeze")) {
        dm_freeze(d->m);
        d->playing = false;
        snprintf(reply, n, "frozen at event %llu", (unsigned long long)dm_cursor(d->m));
    } else if (!strcmp(word, "live")) {
        d->playing = false;
        if (d->cfg.kind == DASH_REPLAY)
            dm_seek(d->m, dm_count(d->m));
        else
            dm_thaw(d->m);
        snprintf(reply, n, "at the newest event");
    } else if (!strcmp(word, "filter")) {
        str_copy(d->filter, arg, sizeof d->filter);
        d->ui.scroll[PANE_EVENTS] = 0;
        snprintf(reply, n, *arg ? "events filtered" : "events filter cleared");
    } else if (!strcmp(word, "speed") && d->cfg.kind == DASH_REPLAY) {
        double f;
        if (parse_double(arg, &f) || f <= 0 || f > 1000) {
            snprintf(reply, n, "speed wants a factor in (0, 1000], e.g. speed 0.5");
            return 1;
        }
        d->speed = f;
        d->play_wall = mono_us();
        d->play_t = dm_view(d->m)->t_last;
        snprintf(reply, n, "speed %g", f);
    } else {
        return 0;
    }
    d->dirty = true;
    return 1;
}
