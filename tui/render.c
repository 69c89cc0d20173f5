/* render — the dashboard's panes, drawn from the model into a canvas (render.h). */
#include "render.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const render_help_lines[] = {
    "F1 or ?      this help (any key closes it)",
    "Tab          focus the next pane (on an empty command line)",
    "Shift-Tab    focus the previous pane",
    "Esc          back to the command line",
    "Up/Down      scroll the focused pane; select a message",
    "PgUp/PgDn    scroll the focused pane by a page",
    "Home/End     oldest / newest in the focused pane",
    "Enter        show the selected message's JSON (Messages pane)",
    "Space        freeze the display / back to live (replay: play/pause)",
    "Left/Right   when frozen: step one event back / forward",
    "[ and ]      when frozen: step 100 events back / forward",
    "< and >      when frozen: first / last recorded event",
    "+ and -      faster / slower (lab speed, replay speed)",
    "/            filter the events (words must all match; ev=drop)",
    "Ctrl-L       redraw the screen",
    "Ctrl-C       clear the command line (never stops the cluster)",
    "Ctrl-Z       suspend; fg brings the dashboard back",
    "q or quit    leave (q only on an empty command line)",
    "Command line: readline keys, history (Up/Down), Tab completion",
    NULL,
};

static const char *role_word(const char *role)
{
    return role && *role ? role : "?";
}

/* Colours follow the role's class (the mode's face, carried by the cluster event), never
 * its name: a coordinator is drawn like a leader, a precandidate like a candidate. */
static enum role role_of(const struct dm_node *n)
{
    if (n->life == DM_DOWN)
        return ROLE_DOWN;
    if (n->life == DM_PAUSED)
        return ROLE_PAUSED;
    switch (n->rclass) {
    case RC_LEADER:
    case RC_COORDINATOR:
        return ROLE_LEADER;
    case RC_CANDIDATE:
        return ROLE_CANDIDATE;
    default:
        return ROLE_FOLLOWER;
    }
}

static bool is_leader(const struct dm_node *n)
{
    return n->life != DM_DOWN && n->rclass == RC_LEADER;
}

static const char *life_word(enum dm_life l)
{
    switch (l) {
    case DM_DOWN: return "DOWN";
    case DM_PAUSED: return "PAUSED";
    case DM_UP: return "up";
    case DM_UNKNOWN: break;
    }
    return "?";
}

/* Inner rectangle of a bordered pane. */
static void inner(const struct rect *r, int *x, int *y, int *w, int *h)
{
    *x = r->x + 1;
    *y = r->y + 1;
    *w = r->w - 2;
    *h = r->h - 2;
}

static void pane_box(struct canvas *c, const struct layout *l, enum pane_id p,
                     const struct render_ui *ui, const char *title)
{
    const struct rect *r = &l->pane[p];
    canvas_fill(c, r->x, r->y, r->w, r->h, ROLE_NORMAL);
    canvas_box(c, r->x, r->y, r->w, r->h, title ? title : layout_pane_name(p),
               ui->focus == p ? ROLE_FOCUS : ROLE_BORDER);
}

int render_pane_rows(const struct layout *l, enum pane_id p)
{
    int h = l->pane[p].h - 2 - (p == PANE_MESSAGES || p == PANE_LOG ? 1 : 0);
    return h > 1 ? h : 1;
}

/* ---- title -------------------------------------------------------------------------- */

static void draw_title(struct canvas *c, const struct layout *l, const struct dm *m,
                       const struct render_ui *ui)
{
    const struct rect *r = &l->pane[PANE_TITLE];
    const struct dm_state *s = dm_view(m);
    canvas_fill(c, r->x, r->y, r->w, 1, ROLE_TITLE);
    struct sb b = {0};
    sb_add(&b, " conlab");
    if (s->mode[0])
        sb_printf(&b, "  %s %d node%s", s->mode, s->n, s->n == 1 ? "" : "s");
    if (ui->source)
        sb_printf(&b, "  %s", ui->source);
    int x = canvas_text(c, 0, r->y, r->w, b.s, ROLE_TITLE);
    sb_free(&b);
    if (ui->notice) { /* a notice matters more than the counters: it comes first */
        x += canvas_raw(c, x, r->y, r->w - x, "  [", ROLE_TITLE);
        x += canvas_text(c, x, r->y, r->w - x, ui->notice, ROLE_TITLE);
        x += canvas_raw(c, x, r->y, r->w - x, "]", ROLE_TITLE);
    }

    if (dm_frozen(m)) {
        sb_printf(&b, "  %s %s %llu/%llu  t=%llu.%03llus", canvas_glyph_str(c, G_FROZEN),
                  ui->mode == RENDER_REPLAY ? (ui->playing ? "PLAYING" : "PAUSED") : "FROZEN",
                  (unsigned long long)dm_cursor(m), (unsigned long long)dm_count(m),
                  (unsigned long long)(s->t_last / 1000000),
                  (unsigned long long)(s->t_last / 1000 % 1000));
    } else {
        sb_printf(&b, "  %s %s  events %llu", canvas_glyph_str(c, G_LIVE),
                  ui->mode == RENDER_REPLAY ? "END" : "LIVE", (unsigned long long)dm_count(m));
    }
    if (ui->speed > 0)
        sb_printf(&b, "  speed %g", ui->speed);
    if (s->drops)
        sb_printf(&b, "  drops %llu", (unsigned long long)s->drops);
    if (s->nalerts)
        sb_printf(&b, "  ALERTS %d", s->nalerts);
    x += canvas_raw(c, x, r->y, r->w - x, b.s, ROLE_TITLE);
    sb_free(&b);
    const char *help = "? help ";
    int hw = (int)strlen(help);
    if (r->w - x > hw + 1)
        canvas_raw(c, r->w - hw, r->y, hw, help, ROLE_TITLE);
}

/* ---- cluster ------------------------------------------------------------------------ */

static void node_lines(const struct dm_node *n, char lines[6][96], int *nlines)
{
    int k = 0;
    if (n->life == DM_DOWN || n->life == DM_PAUSED) {
        snprintf(lines[k++], 96, "%s", life_word(n->life));
    } else {
        char role[32];
        str_copy(role, role_word(n->role), sizeof role);
        if (is_leader(n))
            for (char *p = role; *p; p++)
                *p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
        if (n->has_term)
            snprintf(lines[k++], 96, "%s t%llu", role, (unsigned long long)n->term);
        else if (n->has_epoch)
            snprintf(lines[k++], 96, "%s e%llu", role, (unsigned long long)n->epoch);
        else
            snprintf(lines[k++], 96, "%s", role);
    }
    snprintf(lines[k++], 96, "%s%s%s", n->card, n->card[0] ? " " : "", life_word(n->life)); /* the mode's figures */
    /* clocks: physical (with its injected skew), then Lamport and vector */
    if (n->has_clock)
        snprintf(lines[k++], 96, "clk %02llu:%02llu:%02llu.%03llu skew%+lldms", /* time of day, UTC */
                 (unsigned long long)(n->clock_us / 3600000000ull % 24),
                 (unsigned long long)(n->clock_us / 60000000ull % 60),
                 (unsigned long long)(n->clock_us / 1000000 % 60),
                 (unsigned long long)(n->clock_us / 1000 % 1000), (long long)(n->skew_us / 1000));
    else
        snprintf(lines[k++], 96, "skew%+lldms", (long long)(n->skew_us / 1000));
    char vc[96];
    int p = snprintf(vc, sizeof vc, "L%llu", (unsigned long long)n->lamport);
    if (n->nvc) {
        p += snprintf(vc + p, sizeof vc - (size_t)p, " vc[");
        for (int i = 0; i < n->nvc && p < (int)sizeof vc - 24; i++)
            p += snprintf(vc + p, sizeof vc - (size_t)p, "%s%llu", i ? "," : "",
                          (unsigned long long)n->vc[i]);
        snprintf(vc + p, sizeof vc - (size_t)p, "]");
    }
    snprintf(lines[k++], 96, "%s", vc);
    if (n->leader[0] && !is_leader(n))
        snprintf(lines[k++], 96, "leader %s", n->leader);
    *nlines = k;
}

/* Node order on screen: by partition group, so each group is drawn together. */
static int node_order(const struct dm_state *s, int order[CL_MAXN])
{
    int k = 0;
    int ng = s->ngroups > 1 ? s->ngroups : 1;
    for (int g = 0; g < ng; g++)
        for (int i = 0; i < s->n; i++)
            if ((s->ngroups > 1 ? s->group_of[i] : 0) == g)
                order[k++] = i;
    return k;
}

static void draw_links_line(struct canvas *c, int x, int y, int w, const struct dm_state *s)
{
    struct sb b = {0};
    if (s->ngroups > 1) {
        sb_add(&b, "partition:");
        for (int g = 0; g < s->ngroups; g++) {
            sb_add(&b, g ? " | " : " ");
            bool first = true;
            for (int i = 0; i < s->n; i++)
                if (s->group_of[i] == g) {
                    sb_printf(&b, "%s%s", first ? "" : ",", s->node[i].id);
                    first = false;
                }
        }
        sb_add(&b, "   ");
    }
    for (int k = 0; k < s->nlinks; k++) {
        const struct dm_link *ln = &s->links[k];
        sb_printf(&b, "%s->%s", ln->src < 0 ? "*" : s->node[ln->src].id,
                  ln->dst < 0 ? "*" : s->node[ln->dst].id);
        if (ln->delay_ms)
            sb_printf(&b, " delay %llums", (unsigned long long)ln->delay_ms);
        if (ln->loss_pct > 0)
            sb_printf(&b, " loss %g%%", ln->loss_pct);
        sb_add(&b, "  ");
    }
    if (b.s)
        canvas_text(c, x, y, w, b.s, s->ngroups > 1 ? ROLE_PARTITION : ROLE_PENDING);
    sb_free(&b);
}

static void draw_cluster(struct canvas *c, const struct layout *l, const struct dm *m,
                         const struct render_ui *ui)
{
    const struct dm_state *s = dm_view(m);
    char title[64];
    snprintf(title, sizeof title, "Cluster%s%s", s->mode[0] ? " " : "", s->mode);
    pane_box(c, l, PANE_CLUSTER, ui, title);
    int x, y, w, h;
    inner(&l->pane[PANE_CLUSTER], &x, &y, &w, &h);
    if (s->n == 0) {
        canvas_raw(c, x + 1, y, w - 1, s->running ? "no nodes" : "no cluster running", ROLE_DIM);
        return;
    }
    bool info = s->ngroups > 1 || s->nlinks > 0;
    if (info && h >= 3) {
        draw_links_line(c, x + 1, y + h - 1, w - 2, s);
        h--;
    }
    int order[CL_MAXN];
    int n = node_order(s, order);
    int seps = s->ngroups > 1 ? s->ngroups - 1 : 0;
    int bw = n ? (w - seps * 3) / n : 0;
    if (bw > 28)
        bw = 28;
    if (h >= 3 && bw >= 11) {
        /* a box per node */
        int cx = x, prev_group = -1;
        for (int k = 0; k < n; k++) {
            int i = order[k];
            const struct dm_node *nd = &s->node[i];
            if (s->ngroups > 1 && prev_group >= 0 && s->group_of[i] != prev_group) {
                for (int r = 0; r < h; r++)
                    canvas_glyph(c, cx + 1, y + r, G_SEP, ROLE_PARTITION);
                cx += 3;
            }
            prev_group = s->ngroups > 1 ? s->group_of[i] : 0;
            enum role rl = role_of(nd);
            char btitle[40];
            snprintf(btitle, sizeof btitle, "%s%s%s", nd->id, is_leader(nd) ? " " : "",
                     is_leader(nd) ? canvas_glyph_str(c, G_STAR) : "");
            canvas_box(c, cx, y, bw, h, NULL, rl == ROLE_FOLLOWER ? ROLE_BORDER : rl);
            canvas_raw(c, cx + 1, y, bw - 2, " ", rl);
            int tw = canvas_text(c, cx + 2, y, bw - 3, btitle, rl);
            canvas_raw(c, cx + 2 + tw, y, bw - 3 - tw, " ", rl);
            char lines[6][96];
            int nl;
            node_lines(nd, lines, &nl);
            if (h - 2 < 2 && nl >= 2) { /* one line only: role and figures together */
                char both[200];
                snprintf(both, sizeof both, "%s %s", lines[0], lines[1]);
                str_copy(lines[0], both, sizeof lines[0]);
            }
            for (int r = 0; r < nl && r < h - 2; r++)
                canvas_text(c, cx + 1, y + 1 + r, bw - 2, lines[r], r == 0 ? rl : ROLE_NORMAL);
            cx += bw;
        }
    } else {
        /* compact: one cell per node, in as many columns as fit */
        int percol = h > 0 ? h : 1, ncolumns = (n + percol - 1) / percol;
        int cw = ncolumns ? w / ncolumns : w;
        if (cw > 24)
            cw = 24;
        int prev_group = -1;
        for (int k = 0; k < n; k++) {
            int i = order[k];
            const struct dm_node *nd = &s->node[i];
            int col = k / percol, row = k % percol;
            if (x + col * cw >= x + w)
                break;
            char line[96];
            const char *r = nd->life == DM_UP ? role_word(nd->role) : life_word(nd->life);
            char term[32] = "";
            if (nd->has_term)
                snprintf(term, sizeof term, " t%llu", (unsigned long long)nd->term);
            else if (nd->has_epoch)
                snprintf(term, sizeof term, " e%llu", (unsigned long long)nd->epoch);
            snprintf(line, sizeof line, "%s%s %s%s %s",
                     s->ngroups > 1 && s->group_of[i] != prev_group && prev_group >= 0 ? "|" : "",
                     nd->id, is_leader(nd) ? "LEADER" : r, term, nd->card);
            prev_group = s->ngroups > 1 ? s->group_of[i] : 0;
            canvas_text(c, x + col * cw, y + row, cw - 1, line, role_of(nd));
        }
    }
}

/* ---- messages ----------------------------------------------------------------------- */

struct columns {
    int n;
    char id[CL_MAXN + 1][CL_IDLEN];
    int x[CL_MAXN + 1];
};

static int column_of(const struct columns *cols, const char *id)
{
    for (int i = 0; i < cols->n; i++)
        if (!strcmp(cols->id[i], id))
            return i;
    return cols->id[0][0] == '*' ? 0 : -1; /* anything else: the clients column */
}

static void draw_message_row(struct canvas *c, int y, const struct columns *cols,
                             const struct dm_msg *msg, bool selected)
{
    int a = column_of(cols, msg->src), b = column_of(cols, msg->dst);
    if (a < 0 || b < 0)
        return;
    int xa = cols->x[a], xb = cols->x[b];
    enum role rl = msg->st == DM_DROPPED ? ROLE_DROPPED
                   : msg->st == DM_PENDING ? ROLE_PENDING : ROLE_DELIVERED;
    enum glyph line = msg->st == DM_DROPPED ? G_DROP_LINE
                      : msg->st == DM_PENDING ? G_PENDING_LINE : G_H;
    char label[96];
    if (msg->st == DM_DROPPED)
        snprintf(label, sizeof label, "%s %s%s%s", msg->type, canvas_glyph_str(c, G_CROSS),
                 msg->why[0] ? " " : "", msg->why);
    else
        snprintf(label, sizeof label, "%s", msg->type);
    if (xa == xb) {
        canvas_raw(c, xa, y, 2, "@", rl);
        canvas_text(c, xa + 2, y, 30, label, selected ? ROLE_SELECTED : rl);
        return;
    }
    int lo = xa < xb ? xa : xb, hi = xa < xb ? xb : xa;
    canvas_hline(c, lo + 1, y, hi - lo - 1, line, rl);
    if (msg->st == DM_DROPPED) {
        canvas_glyph(c, xb, y, G_CROSS, ROLE_DROPPED);
    } else if (msg->st == DM_PENDING) {
        canvas_glyph(c, xb, y, G_ELLIPSIS, ROLE_PENDING);
    } else {
        canvas_glyph(c, xb, y, xb > xa ? G_ARROW_R : G_ARROW_L, rl);
    }
    /* the label sits on the arrow, centred, cut to the arrow's length */
    int room = hi - lo - 3;
    if (room > 0) {
        struct sb esc = {0};
        sb_add_escaped(&esc, label, strlen(label));
        int len = (int)strlen(esc.s);
        sb_free(&esc);
        int lw = len < room ? len : room;
        int lx = lo + 2 + (room - lw) / 2;
        canvas_text(c, lx, y, lw, label, selected ? ROLE_SELECTED : rl);
    } else if (selected) {
        canvas_set_role(c, lo, y, hi - lo + 1, ROLE_SELECTED);
    }
}

static long clamp_selection(const struct dm_state *s, long sel)
{
    if (sel < 0 || !s->nmsgs)
        return -1;
    return sel >= (long)s->nmsgs ? (long)s->nmsgs - 1 : sel;
}

static void draw_messages(struct canvas *c, const struct layout *l, const struct dm *m,
                          const struct render_ui *ui)
{
    const struct dm_state *s = dm_view(m);
    pane_box(c, l, PANE_MESSAGES, ui, c->utf8 ? "Messages (time \xe2\x86\x93)" : "Messages (time v)");
    int x, y, w, h;
    inner(&l->pane[PANE_MESSAGES], &x, &y, &w, &h);
    if (s->n == 0 || h < 2)
        return;
    int rows = h - 1;
    /* which messages: the newest `rows`, or around the selection, or scrolled back */
    long sel = clamp_selection(s, ui->selected_msg);
    long end = (long)s->nmsgs - ui->scroll[PANE_MESSAGES];
    if (sel >= 0 && (sel >= end || sel < end - rows))
        end = sel + 1 > rows ? sel + 1 : (rows < (long)s->nmsgs ? rows : (long)s->nmsgs);
    if (end < 0)
        end = 0;
    if (end > (long)s->nmsgs)
        end = (long)s->nmsgs;
    long start = end - rows > 0 ? end - rows : 0;

    struct columns cols = {0};
    bool ext = false;
    for (long i = start; i < end; i++) {
        const struct dm_msg *msg = dm_msg_at(s, (size_t)i);
        if (dm_node_index(s, msg->src) < 0 || dm_node_index(s, msg->dst) < 0)
            ext = true;
    }
    if (ext)
        str_copy(cols.id[cols.n++], "*", CL_IDLEN);
    for (int i = 0; i < s->n; i++)
        str_copy(cols.id[cols.n++], s->node[i].id, CL_IDLEN);
    int margin = 2;
    for (int i = 0; i < cols.n; i++)
        cols.x[i] = cols.n == 1 ? x + w / 2
                                : x + margin + i * (w - 2 * margin - 1) / (cols.n - 1);
    /* names on one header row, or staggered on two when the columns are too close */
    int spacing = cols.n > 1 ? cols.x[1] - cols.x[0] : w;
    bool tight = false;
    for (int i = 0; i < cols.n; i++) {
        int nw = cols.id[i][0] == '*' ? (spacing >= 8 ? 7 : 2) : (int)strlen(cols.id[i]);
        if (nw + 1 > spacing)
            tight = true;
    }
    int head = tight && h >= 4 ? 2 : 1;
    for (int i = 0; i < cols.n; i++) {
        const char *name = cols.id[i][0] == '*' ? (spacing >= 8 ? "clients" : "cl") : cols.id[i];
        int nw = (int)strlen(name);
        int nx = cols.x[i] - nw / 2;
        if (nx < x)
            nx = x;
        int ni = dm_node_index(s, cols.id[i]);
        canvas_text(c, nx, y + (head == 2 ? i % 2 : 0), nw, name,
                    ni >= 0 ? role_of(&s->node[ni]) : ROLE_DIM);
        for (int r = head; r < h; r++)
            canvas_glyph(c, cols.x[i], y + r, G_V, ROLE_DIM);
    }
    if (head == 2 && start < end && end - start >= rows)
        start++; /* the second header row takes the oldest message's place */
    for (long i = start; i < end; i++)
        draw_message_row(c, y + head + (int)(i - start), &cols, dm_msg_at(s, (size_t)i), i == sel);
}

/* ---- the message's JSON overlay ----------------------------------------------------- */

static void draw_json_overlay(struct canvas *c, const struct layout *l, const struct dm *m,
                              const struct render_ui *ui)
{
    const struct dm_state *s = dm_view(m);
    long sel = clamp_selection(s, ui->selected_msg);
    if (sel < 0)
        return;
    const struct dm_msg *msg = dm_msg_at(s, (size_t)sel);
    char *text = msg->ev ? json_dumps(msg->ev, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
    int w = l->cols * 3 / 4, h = l->rows * 3 / 4;
    int x = (l->cols - w) / 2, y = (l->rows - h) / 2;
    canvas_fill(c, x, y, w, h, ROLE_NORMAL);
    char title[80];
    snprintf(title, sizeof title, "message %s -> %s %s (Enter/Esc closes)", msg->src, msg->dst,
             msg->st == DM_DROPPED ? "DROPPED" : msg->st == DM_PENDING ? "in flight" : "delivered");
    struct sb t = {0};
    sb_add_escaped(&t, title, strlen(title));
    canvas_box(c, x, y, w, h, t.s, ROLE_FOCUS);
    sb_free(&t);
    int r = 0;
    const char *p = text ? text : "(no JSON)";
    while (*p && r < h - 2) {
        size_t n = strcspn(p, "\n");
        char *line = xstrndup(p, n);
        canvas_text(c, x + 2, y + 1 + r, w - 4, line, ROLE_NORMAL);
        free(line);
        r++;
        p += n;
        if (*p)
            p++;
    }
    free(text);
}

/* ---- log ---------------------------------------------------------------------------- */

static const struct dm_entry *entry_at(const struct dm_node *n, uint64_t index)
{
    if (!n->nlog || index < n->log[0].index || index > n->log[n->nlog - 1].index)
        return NULL;
    const struct dm_entry *e = &n->log[index - n->log[0].index];
    return e->index == index ? e : NULL;
}

static void draw_log(struct canvas *c, const struct layout *l, const struct dm *m,
                     const struct render_ui *ui)
{
    const struct dm_state *s = dm_view(m);
    pane_box(c, l, PANE_LOG, ui, "Log (~ uncommitted, ! conflict)");
    int x, y, w, h;
    inner(&l->pane[PANE_LOG], &x, &y, &w, &h);
    if (s->n == 0 || h < 2)
        return;
    uint64_t lo = UINT64_MAX, hi = 0;
    for (int i = 0; i < s->n; i++) {
        const struct dm_node *n = &s->node[i];
        if (!n->nlog)
            continue;
        if (n->log[0].index < lo)
            lo = n->log[0].index;
        if (n->log[n->nlog - 1].index > hi)
            hi = n->log[n->nlog - 1].index;
    }
    int iw = 5;
    int ncol = s->n, cw = (w - iw) / (ncol ? ncol : 1);
    while (cw < 6 && ncol > 1) {
        ncol--;
        cw = (w - iw) / ncol;
    }
    canvas_raw(c, x, y, iw, "idx", ROLE_DIM);
    for (int i = 0; i < ncol; i++)
        canvas_text(c, x + iw + i * cw, y, cw - 1, s->node[i].id, role_of(&s->node[i]));
    if (hi == 0 && lo == UINT64_MAX) {
        canvas_raw(c, x, y + 1, w, "(empty)", ROLE_DIM);
        return;
    }
    /* the reference term at each index: the leader's (highest term) entry */
    int ref = -1;
    for (int i = 0; i < s->n; i++)
        if (is_leader(&s->node[i]) && (ref < 0 || s->node[i].term > s->node[ref].term))
            ref = i;
    int rows = h - 1;
    uint64_t top = hi;
    uint64_t back = (uint64_t)(ui->scroll[PANE_LOG] > 0 ? ui->scroll[PANE_LOG] : 0);
    top = back > hi - lo ? lo : hi - back;
    /* the committed part is set apart by a rule under the highest committed index shown
     * (the leader's commit index, or the highest any node has) */
    uint64_t lc = 0;
    for (int i = 0; i < s->n; i++)
        if ((ref < 0 || i == ref) && s->node[i].commit > lc)
            lc = s->node[i].commit;
    uint64_t first = top + 1 > (uint64_t)rows + lo ? top + 1 - (uint64_t)rows : lo;
    bool rule = lc >= first && lc < top && rows > 2;
    if (rule && top + 2 > (uint64_t)rows + first)
        first++; /* the rule takes a row */
    int ry = y;
    for (uint64_t idx = first; idx <= top; idx++) {
        ry++;
        if (rule && idx == lc + 1) {
            canvas_hline(c, x, ry, w, G_H, ROLE_DIM);
            canvas_raw(c, x + 1, ry, w - 1, " committed above ", ROLE_DIM);
            ry++;
        }
        canvas_printf(c, x, ry, iw - 1, ROLE_DIM, "%llu", (unsigned long long)idx);
        uint64_t rterm = 0;
        bool have_ref = false;
        if (ref >= 0) {
            const struct dm_entry *e = entry_at(&s->node[ref], idx);
            if (e) {
                rterm = e->term;
                have_ref = true;
            }
        }
        if (!have_ref) /* no leader: the highest term anyone has here */
            for (int i = 0; i < s->n; i++) {
                const struct dm_entry *e = entry_at(&s->node[i], idx);
                if (e && e->term >= rterm) {
                    rterm = e->term;
                    have_ref = true;
                }
            }
        for (int i = 0; i < ncol; i++) {
            const struct dm_node *n = &s->node[i];
            const struct dm_entry *e = entry_at(n, idx);
            if (!e)
                continue;
            bool conflict = have_ref && e->term != rterm;
            bool committed = idx <= n->commit;
            char cell[128];
            snprintf(cell, sizeof cell, "%s%llu %s", conflict ? "!" : committed ? "" : "~",
                     (unsigned long long)e->term, e->cmd ? e->cmd : "");
            canvas_text(c, x + iw + i * cw, ry, cw - 1, cell,
                        conflict ? ROLE_CONFLICT : committed ? ROLE_COMMITTED : ROLE_UNCOMMITTED);
        }
    }
}

/* ---- votes and quorums -------------------------------------------------------------- */

static void draw_votes(struct canvas *c, const struct layout *l, const struct dm *m,
                       const struct render_ui *ui)
{
    const struct dm_state *s = dm_view(m);
    pane_box(c, l, PANE_VOTES, ui, NULL);
    int x, y, w, h;
    inner(&l->pane[PANE_VOTES], &x, &y, &w, &h);
    int r = 0;
    int skip = ui->scroll[PANE_VOTES];
    const char *ok = canvas_glyph_str(c, G_CHECK), *no = canvas_glyph_str(c, G_CROSS);
    for (int k = s->nquorums - 1; k >= 0 && r < h; k--) {
        const struct dm_quorum *q = &s->quorums[k];
        if (skip > 0) {
            skip--;
            continue;
        }
        struct sb b = {0};
        int got = 0;
        for (int i = 0; i < s->n; i++)
            if (q->acked & (1u << i))
                got++;
        sb_printf(&b, "%c=%d %s %s:", !strcmp(q->op, "read") ? 'R' : 'W', q->need, q->op, q->key);
        for (int i = 0; i < s->n; i++) {
            if (q->acked & (1u << i))
                sb_printf(&b, " %s %s", s->node[i].id, ok);
            else if (q->stale & (1u << i))
                sb_printf(&b, " %s ~stale", s->node[i].id);
            else if (q->missing & (1u << i))
                sb_printf(&b, " %s %s", s->node[i].id, no);
        }
        sb_printf(&b, "  %s", got >= q->need ? "met" : "NOT met");
        canvas_text(c, x + 1, y + r++, w - 1, b.s, got >= q->need ? ROLE_OK : ROLE_FAIL);
        sb_free(&b);
    }
    for (int k = s->nelections - 1; k >= 0 && r < h; k--) {
        const struct dm_election *e = &s->elections[k];
        if (skip > 0) {
            skip--;
            continue;
        }
        int granted = 0;
        for (int v = 0; v < e->nvotes; v++)
            granted += e->votes[v].granted;
        int need = s->n / 2 + 1;
        struct sb b = {0};
        sb_printf(&b, "term %llu %s: %d/%d votes%s", (unsigned long long)e->term, e->candidate,
                  granted, s->n, granted >= need ? " - won" : "");
        canvas_text(c, x + 1, y + r++, w - 1, b.s, granted >= need ? ROLE_LEADER : ROLE_CANDIDATE);
        sb_free(&b);
        for (int v = 0; v < e->nvotes && r < h; v++) {
            const struct dm_vote *vt = &e->votes[v];
            sb_printf(&b, "  %s %s%s%s", vt->voter, vt->granted ? ok : no,
                      vt->reason[0] ? " " : "", vt->reason);
            canvas_text(c, x + 1, y + r++, w - 1, b.s, vt->granted ? ROLE_OK : ROLE_FAIL);
            sb_free(&b);
        }
    }
    if (r == 0)
        canvas_raw(c, x + 1, y, w - 1, "no elections or quorums yet", ROLE_DIM);
}

/* ---- events ------------------------------------------------------------------------- */

static void draw_events(struct canvas *c, const struct layout *l, const struct dm *m,
                        const struct render_ui *ui)
{
    char title[96];
    if (ui->filter && *ui->filter) {
        struct sb b = {0};
        sb_add_escaped(&b, ui->filter, strlen(ui->filter) > 40 ? 40 : strlen(ui->filter));
        snprintf(title, sizeof title, "Events [filter: %s]", b.s);
        sb_free(&b);
    } else {
        snprintf(title, sizeof title, "Events");
    }
    pane_box(c, l, PANE_EVENTS, ui, title);
    int x, y, w, h;
    inner(&l->pane[PANE_EVENTS], &x, &y, &w, &h);
    if (h < 1)
        return;
    /* newest matching events before the cursor, scanning back at most 50000 */
    uint64_t pos = dm_cursor(m), first = dm_first_pos(m);
    int skip = ui->scroll[PANE_EVENTS], r = h - 1;
    struct sb b = {0};
    bool indexed = ui->matches && ui->filter && *ui->filter;
    size_t k = indexed ? ui->nmatches : 0;
    for (int scanned = 0; r >= 0 && scanned < 50000; scanned++) {
        json_t *ev;
        if (indexed) {
            while (k > 0 && ui->matches[k - 1] >= pos)
                k--; /* after the time-travel cursor */
            if (k == 0 || ui->matches[k - 1] < first)
                break;
            ev = dm_event_at(m, ui->matches[--k]);
            if (!ev)
                break;
        } else {
            if (pos <= first)
                break;
            ev = dm_event_at(m, --pos);
            if (!ev || !dm_event_matches(ev, ui->filter))
                continue;
        }
        if (skip > 0) {
            skip--;
            continue;
        }
        b.len = 0;
        bool alert = dm_event_is_alert(ev);
        sb_add(&b, alert ? "!! " : "");
        dm_event_line(ev, &b);
        const char *e = json_string_value(json_object_get(ev, "ev"));
        enum role rl = alert ? ROLE_ALERT
                       : e && !strcmp(e, "drop") ? ROLE_DROPPED
                       : e && !strcmp(e, "fault") ? ROLE_PARTITION
                       : e && !strcmp(e, "state") ? ROLE_CANDIDATE
                       : e && !strcmp(e, "output") ? ROLE_OUTPUT : ROLE_NORMAL;
        canvas_raw(c, x, y + r, w, b.s, rl);
        r--;
    }
    sb_free(&b);
}

/* ---- output ------------------------------------------------------------------------- */

static void draw_output(struct canvas *c, const struct layout *l, const struct dm *m,
                        const struct render_ui *ui)
{
    const struct dm_state *s = ui->output_live ? dm_live(m) : dm_view(m);
    pane_box(c, l, PANE_OUTPUT, ui, NULL);
    int x, y, w, h;
    inner(&l->pane[PANE_OUTPUT], &x, &y, &w, &h);
    long end = (long)s->nout - ui->scroll[PANE_OUTPUT];
    if (end < 0)
        end = 0;
    long start = end - h > 0 ? end - h : 0;
    for (long i = start; i < end; i++) {
        const char *line = dm_output_at(s, (size_t)i);
        enum role rl = ROLE_OUTPUT;
        if (!strncmp(line, "FAIL", 4) || !strncmp(line, "error", 5))
            rl = ROLE_FAIL;
        else if (line[0] == '>')
            rl = ROLE_PROMPT;
        canvas_text(c, x, y + (int)(i - start), w, line, rl);
    }
}

/* ---- lesson ------------------------------------------------------------------------- */

static bool wrap_line(struct canvas *c, int x, int y, int w, int h, int *r, const char *s,
                      size_t len, enum role rl);

/* Word-wraps s into the rectangle from row *r, one paragraph per line of s (a blank line
 * stays blank); returns false when out of room. */
static bool wrap_text(struct canvas *c, int x, int y, int w, int h, int *r, const char *s,
                      enum role rl)
{
    if (!s)
        return true;
    while (*r < h) {
        const char *nl = strchr(s, '\n');
        size_t len = nl ? (size_t)(nl - s) : strlen(s);
        if (len == 0 && nl)
            (*r)++;
        else
            wrap_line(c, x, y, w, h, r, s, len, rl);
        if (!nl)
            break;
        s = nl + 1;
    }
    return *r < h;
}

static bool wrap_line(struct canvas *c, int x, int y, int w, int h, int *r, const char *s,
                      size_t len, enum role rl)
{
    struct sb esc = {0};
    sb_add_escaped(&esc, s, len);
    const char *p = esc.s;
    while (*p && *r < h) {
        int n = (int)strlen(p);
        int take = n;
        if (take > w) {
            take = w;
            while (take > 0 && p[take] != ' ')
                take--;
            if (take == 0)
                take = w;
            while (take > 0 && ((unsigned char)p[take] & 0xc0) == 0x80)
                take--; /* never split a UTF-8 sequence */
            if (take == 0)
                take = 1;
        }
        char *line = xstrndup(p, (size_t)take);
        canvas_raw(c, x, y + *r, w, line, rl);
        free(line);
        (*r)++;
        p += take;
        while (*p == ' ')
            p++;
    }
    sb_free(&esc);
    return *r < h;
}

static void draw_lesson(struct canvas *c, const struct layout *l, const struct dm *m,
                        const struct render_ui *ui)
{
    const struct dm_state *s = dm_view(m);
    const struct dm_lesson *ls = &s->lesson;
    pane_box(c, l, PANE_LESSON, ui, NULL);
    int x, y, w, h;
    inner(&l->pane[PANE_LESSON], &x, &y, &w, &h);
    int r = 0;
    char head[256];
    snprintf(head, sizeof head, "%s%s%s", ls->title ? ls->title : "lesson",
             ls->step ? " - step " : "", ls->step ? ls->step : "");
    wrap_text(c, x + 1, y, w - 2, h, &r, head, ROLE_TITLE);
    wrap_text(c, x + 1, y, w - 2, h - 2, &r, ls->text, ROLE_NORMAL);
    if (ls->check && r < h) {
        enum role rl = !strncmp(ls->check, "passed", 6) ? ROLE_OK
                       : !strncmp(ls->check, "failed", 6) ? ROLE_FAIL : ROLE_PENDING;
        char line[256];
        snprintf(line, sizeof line, "check: %s", ls->check);
        wrap_text(c, x + 1, y, w - 2, h, &r, line, rl);
    }
    if (ls->hint && r < h) {
        char line[512];
        snprintf(line, sizeof line, "hint: %s", ls->hint);
        wrap_text(c, x + 1, y, w - 2, h, &r, line, ROLE_DIM);
    }
}

/* ---- command line, help, too small -------------------------------------------------- */

/* Columns UTF-8 text takes on this canvas. */
static int text_cols(const struct canvas *c, const char *s)
{
    int cols = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        uint32_t cp = *p;
        int n = 1;
        if (cp >= 0xf0) {
            cp = cp & 0x07;
            n = 4;
        } else if (cp >= 0xe0) {
            cp = cp & 0x0f;
            n = 3;
        } else if (cp >= 0xc0) {
            cp = cp & 0x1f;
            n = 2;
        }
        for (int i = 1; i < n && (p[i] & 0xc0) == 0x80; i++)
            cp = (cp << 6) | (p[i] & 0x3f);
        cols += c->utf8 ? canvas_cp_width(cp) : 1;
        p++;
        while ((*p & 0xc0) == 0x80)
            p++;
    }
    return cols;
}

int render_cmdline(struct canvas *c, const struct layout *l, const struct render_ui *ui)
{
    const struct rect *r = &l->pane[PANE_CMDLINE];
    if (l->too_small)
        return 0;
    canvas_fill(c, r->x, r->y, r->w, 1, ROLE_NORMAL);
    if (!ui->cmdline && !ui->filter_editing) {
        const char *hint = ui->mode == RENDER_REPLAY
                               ? "replay: Space play/pause  Left/Right step  +/- speed  / filter  Tab focus  ? help  q quit"
                               : "read-only: Space freeze  Left/Right step  / filter  Tab focus  ? help  q quit";
        canvas_raw(c, r->x, r->y, r->w, hint, ROLE_DIM);
        return 0;
    }
    const char *prompt = ui->prompt ? ui->prompt : "> ";
    int pw = canvas_text(c, r->x, r->y, r->w, prompt, ROLE_PROMPT);
    const char *line = ui->line ? ui->line : "";
    int point = ui->point < 0 ? 0 : ui->point;
    if ((size_t)point > strlen(line))
        point = (int)strlen(line);
    /* horizontal scroll: keep the cursor on screen; count columns, not bytes */
    struct sb before = {0};
    sb_add_escaped(&before, line, (size_t)point);
    int room = r->w - pw - 1;
    int cur = text_cols(c, before.s);
    int off = 0;
    if (room > 0 && cur >= room)
        off = cur - room + 1;
    sb_free(&before);
    struct sb all = {0};
    sb_add_escaped(&all, line, strlen(line));
    const char *p = all.s;
    int skipped = 0;
    while (skipped < off && *p) {
        const char *q = p + 1;
        while (((unsigned char)*q & 0xc0) == 0x80)
            q++;
        char one[8];
        snprintf(one, sizeof one, "%.*s", (int)(q - p), p);
        skipped += text_cols(c, one);
        p = q;
    }
    off = skipped;
    canvas_raw(c, r->x + pw, r->y, room + 1, p, ROLE_NORMAL);
    sb_free(&all);
    int cx = r->x + pw + cur - off;
    return cx < r->w ? cx : r->w - 1;
}

static void draw_help(struct canvas *c, const struct layout *l)
{
    int n = 0, wmax = 0;
    for (; render_help_lines[n]; n++)
        if ((int)strlen(render_help_lines[n]) > wmax)
            wmax = (int)strlen(render_help_lines[n]);
    int w = wmax + 4 < l->cols ? wmax + 4 : l->cols;
    int h = n + 2 < l->rows ? n + 2 : l->rows;
    int x = (l->cols - w) / 2, y = (l->rows - h) / 2;
    canvas_fill(c, x, y, w, h, ROLE_HELP);
    canvas_box(c, x, y, w, h, "Help - keys (any key closes)", ROLE_HELP);
    for (int i = 0; i < n && i < h - 2; i++)
        canvas_raw(c, x + 2, y + 1 + i, w - 4, render_help_lines[i], ROLE_HELP);
}

void render_screen(struct canvas *c, const struct layout *l, const struct dm *m,
                   const struct render_ui *ui)
{
    canvas_clear(c);
    if (l->too_small) {
        const char *msg = "terminal too small";
        int w = (int)strlen(msg);
        int x = (l->cols - w) / 2;
        canvas_raw(c, x > 0 ? x : 0, l->rows / 2, l->cols, msg, ROLE_ALERT);
        if (l->rows > 1 + l->rows / 2) {
            char need[48];
            snprintf(need, sizeof need, "need %dx%d", LAYOUT_MIN_COLS, LAYOUT_MIN_ROWS);
            w = (int)strlen(need);
            x = (l->cols - w) / 2;
            canvas_raw(c, x > 0 ? x : 0, l->rows / 2 + 1, l->cols, need, ROLE_DIM);
        }
        return;
    }
    draw_title(c, l, m, ui);
    if (layout_visible(l, PANE_CLUSTER))
        draw_cluster(c, l, m, ui);
    if (layout_visible(l, PANE_MESSAGES))
        draw_messages(c, l, m, ui);
    if (layout_visible(l, PANE_LOG))
        draw_log(c, l, m, ui);
    if (layout_visible(l, PANE_VOTES))
        draw_votes(c, l, m, ui);
    if (layout_visible(l, PANE_EVENTS))
        draw_events(c, l, m, ui);
    if (layout_visible(l, PANE_OUTPUT))
        draw_output(c, l, m, ui);
    if (layout_visible(l, PANE_LESSON))
        draw_lesson(c, l, m, ui);
    render_cmdline(c, l, ui);
    if (ui->show_json)
        draw_json_overlay(c, l, m, ui);
    if (ui->help)
        draw_help(c, l);
}
