/* render — the dashboard's panes, drawn from the model into a canvas (render.h). */
#include "render.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


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
    if (s->lesson.active && !layout_visible(l, PANE_LESSON) && !ui->notice) {
        x += canvas_raw(c, x, r->y, r->w - x, "  [lesson ", ROLE_TITLE);
        x += canvas_text(c, x, r->y, r->w - x, s->lesson.title ? s->lesson.title : "", ROLE_TITLE);
        x += canvas_raw(c, x, r->y, r->w - x, ": F2 shows it]", ROLE_TITLE);
    }
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
    if (s->nconverged) { /* the newest moment of convergence, marked */
        b.len = 0;
        sb_printf(&b, "  CONVERGED %.24s t=%llu.%03llus", s->converged_key, (unsigned long long)(s->converged_t / 1000000),
                  (unsigned long long)(s->converged_t / 1000 % 1000));
        x += canvas_raw(c, x, r->y, r->w - x, b.s, ROLE_OK);
    }
    sb_free(&b);
    const char *help = "? help ";
    int hw = (int)strlen(help);
    if (r->w - x > hw + 1)
        canvas_raw(c, r->w - hw, r->y, hw, help, ROLE_TITLE);
}

/* ---- cluster ------------------------------------------------------------------------ */

/* What a node card says, most important first; words when the card is wide, the short forms
 * of the legend (help overlay) when it is narrow. A line that does not fit wraps at a comma
 * or a space onto the next row; the rows that do not fit are left out, last first. */
static int node_lines(const struct dm_node *n, int width, char lines[8][96])
{
    int k = 0;
    bool wide = width >= 26;
    if (n->life == DM_DOWN || n->life == DM_PAUSED) {
        snprintf(lines[k++], 96, "%s", life_word(n->life));
    } else {
        char role[32];
        str_copy(role, role_word(n->role), sizeof role);
        if (is_leader(n))
            for (char *p = role; *p; p++)
                *p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
        if (n->has_term)
            snprintf(lines[k++], 96, wide ? "%s  term %llu" : "%s t%llu", role,
                     (unsigned long long)n->term);
        else if (n->has_epoch)
            snprintf(lines[k++], 96, wide ? "%s  epoch %llu" : "%s e%llu", role,
                     (unsigned long long)n->epoch);
        else
            snprintf(lines[k++], 96, "%s", role);
    }
    /* the mode's status figures: in words on a wide card, short forms on a narrow one */
    if (wide && n->card_wide[0])
        snprintf(lines[k++], 96, "%s", n->card_wide);
    else if (n->card[0])
        snprintf(lines[k++], 96, "%s %s", n->card, life_word(n->life));
    char vc[96] = "";
    if (n->nvc) {
        int p = snprintf(vc, sizeof vc, "%s", wide ? "vector [" : "vc[");
        for (int i = 0; i < n->nvc && p < (int)sizeof vc - 24; i++)
            p += snprintf(vc + p, sizeof vc - (size_t)p, "%s%llu", i ? "," : "",
                          (unsigned long long)n->vc[i]);
        snprintf(vc + p, sizeof vc - (size_t)p, "]");
    }
    snprintf(lines[k++], 96, wide ? "lamport %llu%s%s" : "L%llu%s%s",
             (unsigned long long)n->lamport, vc[0] ? " " : "", vc);
    /* clocks: physical (with its injected skew) */
    if (n->has_clock) {
        /* and the hybrid logical clock: how far its l runs ahead of this physical clock */
        char hlc[48] = "";
        if (n->has_hlc)
            snprintf(hlc, sizeof hlc, wide ? "  hlc %+lldms" : " h%+lld",
                     (long long)((int64_t)(n->hlc_l - n->clock_us) / 1000));
        snprintf(lines[k++], 96, "%s %02llu:%02llu:%02llu.%03llu %+lldms%s", wide ? "clock" : "clk",
                 (unsigned long long)(n->clock_us / 3600000000ull % 24),
                 (unsigned long long)(n->clock_us / 60000000ull % 60),
                 (unsigned long long)(n->clock_us / 1000000 % 60),
                 (unsigned long long)(n->clock_us / 1000 % 1000), (long long)(n->skew_us / 1000), hlc);
    }
    else
        snprintf(lines[k++], 96, "skew %+lldms", (long long)(n->skew_us / 1000));
    if (n->leader[0] && !is_leader(n))
        snprintf(lines[k++], 96, "leader %s", n->leader);
    if (n->watch[0] && k < 8) /* `watch KEY`: its state here */
        snprintf(lines[k++], 96, "%s", n->watch);
    return k;
}

/* Lays lines into at most maxrows rows of width columns, wrapping a long line at its last
 * comma or space that fits. Returns the rows used. */
static int card_rows(char lines[8][96], int nlines, int width, int maxrows, char rows[8][96])
{
    int r = 0;
    for (int i = 0; i < nlines && r < maxrows && r < 8; i++) {
        const char *p = lines[i];
        while (*p && r < maxrows && r < 8) {
            int len = (int)strlen(p);
            int take = len;
            if (take > width) {
                take = width;
                while (take > 0 && p[take - 1] != ',' && p[take - 1] != ' ')
                    take--;
                if (take == 0)
                    take = width;
            }
            snprintf(rows[r++], 96, "%.*s", take, p);
            p += take;
            while (*p == ' ')
                p++;
        }
    }
    return r;
}

/* Node order on screen: by partition group, so each group is drawn together. */
static int node_order(const struct dm_state *s, int order[CL_MAXNODES])
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
        if (ln->kbps)
            sb_printf(&b, " %llukbps", (unsigned long long)ln->kbps);
        if (ln->queued)
            sb_printf(&b, " queue %llu", (unsigned long long)ln->queued);
        sb_add(&b, "  ");
    }
    if (b.s)
        canvas_text(c, x, y, w, b.s, s->ngroups > 1 ? ROLE_PARTITION : ROLE_PENDING);
    sb_free(&b);
}

/* One cell per node, in as many columns as fit: the strip of the lesson view and the
 * cluster pane of small terminals. With two rows, the figures go under the role. */
static void draw_node_cells(struct canvas *c, int x, int y, int w, int h,
                            const struct dm_state *s)
{
    int order[CL_MAXNODES];
    int n = node_order(s, order);
    /* side by side with two rows each when every node gets 16 columns, else stacked */
    int two = h >= 2 && n > 0 && w / n >= 16;
    int per = two ? 2 : 1;
    int percol = two ? 1 : h > 0 ? h : 1, ncolumns = (n + percol - 1) / percol;
    int cw = ncolumns ? w / ncolumns : w;
    int prev_group = -1;
    for (int k = 0; k < n; k++) {
        int i = order[k];
        const struct dm_node *nd = &s->node[i];
        int col = k / percol, row = (k % percol) * per;
        if (col * cw >= w)
            break;
        const char *r = nd->life == DM_UP ? role_word(nd->role) : life_word(nd->life);
        char term[32] = "", line[96];
        if (nd->has_term)
            snprintf(term, sizeof term, " t%llu", (unsigned long long)nd->term);
        else if (nd->has_epoch)
            snprintf(term, sizeof term, " e%llu", (unsigned long long)nd->epoch);
        bool sep = s->ngroups > 1 && s->group_of[i] != prev_group && prev_group >= 0;
        prev_group = s->ngroups > 1 ? s->group_of[i] : 0;
        snprintf(line, sizeof line, "%s%s%s%s %s%s", sep ? "| " : "", nd->id,
                 is_leader(nd) ? " " : "", is_leader(nd) ? canvas_glyph_str(c, G_STAR) : "",
                 is_leader(nd) ? "LEADER" : r, term);
        if (!two && nd->card[0]) /* the mode's figures */
            snprintf(line + strlen(line), sizeof line - strlen(line), " %s", nd->card);
        canvas_text(c, x + col * cw, y + row, cw - 1, line, role_of(nd));
        if (two && nd->card[0]) {
            snprintf(line, sizeof line, "%s%s", sep ? "  " : "", nd->card);
            canvas_text(c, x + col * cw, y + row + 1, cw - 1, line, ROLE_DIM);
        }
    }
}

/* The expected number of nodes holding a rumor after each round, in the mean-field model of
 * n nodes each contacting f random others per round (push: the infected send; pull: the
 * uninfected ask; push-pull: both), from 1 at round 0. Fills out[0..rounds-1]. */
static void curve_theory(int n, int f, const char *style, int rounds, double *out)
{
    double i = 1, nn = n > 1 ? n : 2;
    int push = strcmp(style, "pull") != 0, pull = strcmp(style, "push") != 0;
    for (int r = 0; r < rounds; r++) {
        out[r] = i;
        double stay = 1; /* the chance an uninfected node stays so this round */
        if (push)
            stay *= pow(1 - 1 / (nn - 1), f * i);
        if (pull)
            stay *= pow(1 - i / (nn - 1), f);
        i = n - (n - i) * stay;
    }
}

/* "rumor n1#1: 1 3 6 12 … of 100 (theory push f=1: 1 2 4 8 …)": the newest rumor's infection
 * curve, cumulative by round, beside the mean-field one. */
static void curve_line(const struct dm_state *s, struct sb *b)
{
    int rounds = s->curve_rounds < DM_CURVE_ROUNDS ? s->curve_rounds : DM_CURVE_ROUNDS;
    double th[DM_CURVE_ROUNDS];
    curve_theory(s->n, s->curve_fanout, s->curve_style, rounds, th);
    sb_printf(b, "rumor %s by round:", s->curve_rumor);
    int sum = 0;
    for (int r = 0; r < rounds; r++) {
        sum += s->curve_new[r];
        sb_printf(b, " %d", sum);
    }
    sb_printf(b, " of %d  (theory, %s f=%d:", s->n, s->curve_style, s->curve_fanout);
    for (int r = 0; r < rounds; r++)
        sb_printf(b, " %.0f", th[r]);
    sb_add(b, ")");
}

/* The compact grid of a big cluster: a line counting the nodes per role (the spread of a
 * rumor, S/I/R), then one short cell per node, coloured by role; with the mode's grid figure
 * (mode_figure.grid) each cell shows its value and the nodes where it is not 0 stand out. */
static void draw_node_grid(struct canvas *c, int x, int y, int w, int h, const struct dm_state *s)
{
    int gf = -1;
    for (int k = 0; k < s->nfigs; k++)
        if (s->figs[k].grid)
            gf = k;
    struct sb b = {0};
    int down = 0, paused = 0, marked = 0;
    for (int i = 0; i < s->n; i++) {
        down += s->node[i].life == DM_DOWN;
        paused += s->node[i].life == DM_PAUSED;
        marked += gf >= 0 && s->node[i].figval[gf][0] && strcmp(s->node[i].figval[gf], "0") &&
                  strcmp(s->node[i].figval[gf], "-");
    }
    sb_printf(&b, "%d nodes:", s->n);
    for (int r = 0; r < s->nroles; r++) {
        int cnt = 0;
        for (int i = 0; i < s->n; i++)
            cnt += s->node[i].life == DM_UP && !strcmp(s->node[i].role, s->roles[r].role);
        if (cnt)
            sb_printf(&b, " %s %d", s->roles[r].role, cnt);
    }
    if (down)
        sb_printf(&b, " down %d", down);
    if (paused)
        sb_printf(&b, " paused %d", paused);
    if (gf >= 0)
        sb_printf(&b, "   %s>0 on %d", s->figs[gf].label, marked);
    canvas_text(c, x, y, w, b.s ? b.s : "", ROLE_NORMAL);
    sb_free(&b);
    if (h < 2)
        return;
    if (s->curve_rounds > 0 && h >= 3) { /* the infection curve of the newest rumor */
        struct sb cb = {0};
        curve_line(s, &cb);
        y++;
        h--;
        canvas_text(c, x, y, w, cb.s, ROLE_DIM);
        sb_free(&cb);
    }
    int order[CL_MAXNODES];
    int n = node_order(s, order);
    /* a cell: "n12:3 " with the grid figure; without room "12:3 " (the number alone), then
     * the ids alone */
    int idw = 0, vw = 0, bare = 0;
    for (int k = 0; k < n; k++) {
        int l = (int)strlen(s->node[order[k]].id);
        idw = l > idw ? l : idw;
        if (gf >= 0) {
            int v = (int)strlen(s->node[order[k]].figval[gf]);
            vw = v > vw ? v : vw;
        }
    }
    if (gf >= 0 && vw == 0)
        vw = 1;
    int cw = idw + (vw ? vw + 1 : 0) + 1;
    if (vw && (w / cw) * (h - 1) < n) {
        bare = 1;
        cw--;
    }
    if (vw && (w / cw) * (h - 1) < n) {
        bare = vw = 0;
        cw = idw + 1;
    }
    int cols = cw > 0 ? w / cw : 0;
    if (cols < 1)
        return;
    for (int k = 0; k < n; k++) {
        int row = k / cols, col = k % cols;
        if (row >= h - 1)
            break;
        const struct dm_node *nd = &s->node[order[k]];
        char cell[48];
        const char *id = nd->id;
        while (bare && *id && (*id < '0' || *id > '9'))
            id++;
        if (vw)
            snprintf(cell, sizeof cell, "%s:%s", id, nd->figval[gf][0] ? nd->figval[gf] : "-");
        else
            snprintf(cell, sizeof cell, "%s", nd->id);
        enum role rl = role_of(nd);
        bool mark = gf >= 0 && nd->life == DM_UP && nd->figval[gf][0] && strcmp(nd->figval[gf], "0") &&
                    strcmp(nd->figval[gf], "-");
        if (mark && rl == ROLE_FOLLOWER)
            rl = ROLE_LEADER;
        canvas_text(c, x + col * cw, y + 1 + row, cw - 1, cell, rl);
    }
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
        canvas_raw(c, x + 1, y, w - 1,
                   s->running ? "no nodes"
                              : "no cluster running: type `start raft 3` to start one, or "
                                "`lesson welcome` for the course (`lesson list` shows it all)",
                   ROLE_DIM);
        return;
    }
    bool info = s->ngroups > 1 || s->nlinks > 0;
    if (info && h >= 3) {
        draw_links_line(c, x + 1, y + h - 1, w - 2, s);
        h--;
    }
    int order[CL_MAXNODES];
    int n = node_order(s, order);
    int seps = s->ngroups > 1 ? s->ngroups - 1 : 0;
    int bw0 = n ? (w - seps * 3) / n : 0; /* the cards share the whole width */
    int spare = n ? (w - seps * 3) - bw0 * n : 0;
    if (n > CL_MAXN) { /* too many for cards: the compact grid */
        draw_node_grid(c, x + 1, y, w - 1, h, s);
        return;
    }
    if (h < 3 || bw0 < 11) {
        draw_node_cells(c, x + 1, y, w - 1, h, s);
        return;
    }
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
        int bw = bw0 + (k < spare ? 1 : 0); /* the columns left over go to the first cards */
        char btitle[40];
        snprintf(btitle, sizeof btitle, "%s%s%s", nd->id, is_leader(nd) ? " " : "",
                 is_leader(nd) ? canvas_glyph_str(c, G_STAR) : "");
        canvas_box(c, cx, y, bw, h, NULL, rl == ROLE_FOLLOWER ? ROLE_BORDER : rl);
        canvas_raw(c, cx + 1, y, bw - 2, " ", rl);
        int tw = canvas_text(c, cx + 2, y, bw - 3, btitle, rl);
        canvas_raw(c, cx + 2 + tw, y, bw - 3 - tw, " ", rl);
        char lines[8][96], rows[8][96];
        int nl = node_lines(nd, bw - 2, lines);
        if (h - 2 < 2 && nl >= 2) { /* one row only: role and figures together */
            char both[200];
            snprintf(both, sizeof both, "%s %s", lines[0], lines[1]);
            str_copy(lines[0], both, sizeof lines[0]);
        }
        int nr = card_rows(lines, nl, bw - 2, h - 2, rows);
        for (int r = 0; r < nr; r++)
            canvas_text(c, cx + 1, y + 1 + r, bw - 2, rows[r], r == 0 ? rl : ROLE_NORMAL);
        cx += bw;
    }
}

/* ---- messages ----------------------------------------------------------------------- */

struct columns {
    int n;
    char id[CL_MAXNODES + 1][CL_IDLEN];
    int x[CL_MAXNODES + 1];
};

static int column_of(const struct columns *cols, const char *id)
{
    for (int i = 0; i < cols->n; i++)
        if (!strcmp(cols->id[i], id))
            return i;
    return cols->id[0][0] == '*' ? 0 : -1; /* anything else: the clients column */
}

static int text_cols(const struct canvas *c, const char *s);

/* A message type that fits in room columns: the whole name, else a short form that keeps
 * it readable ("append_entries_ok" -> "append ok", "request_vote" -> "vote?"), else the
 * short form cut with "…". */
static void short_type(const char *type, int room, char *out, size_t n)
{
    static const char *const forms[][2] = {
        {"append_entries_ok", "append ok"}, {"append_entries", "append"},
        {"request_vote_ok", "vote ok"}, {"request_vote", "vote?"},
        {"pre_vote_ok", "prevote ok"}, {"pre_vote", "prevote?"},
        {"install_snapshot_ok", "snapshot ok"}, {"install_snapshot", "snapshot"},
        {"timeout_now", "timeout"}, {"replicate_ok", "repl ok"}, {"replicate", "repl"},
    };
    if ((int)strlen(type) <= room || room <= 0) {
        str_copy(out, type, n);
        return;
    }
    const char *s = NULL;
    for (size_t i = 0; i < CL_ARRAY_LEN(forms) && !s; i++)
        if (!strcmp(type, forms[i][0]))
            s = forms[i][1];
    char buf[40];
    if (!s) { /* any other: words without the underscores */
        str_copy(buf, type, sizeof buf);
        for (char *p = buf; *p; p++)
            if (*p == '_')
                *p = ' ';
        s = buf;
    }
    if ((int)strlen(s) <= room) {
        str_copy(out, s, n);
        return;
    }
    snprintf(out, n, "%.*s\xe2\x80\xa6", room > 1 ? room - 1 : 0, s);
}

static void draw_message_row(struct canvas *c, int y, const struct columns *cols,
                             const struct dm_msg *msg, bool selected, int hb)
{
    int a = column_of(cols, msg->src), b = column_of(cols, msg->dst);
    if (a < 0 || b < 0)
        return;
    int xa = cols->x[a], xb = cols->x[b];
    enum role rl = msg->st == DM_DROPPED ? ROLE_DROPPED
                   : msg->st == DM_PENDING ? ROLE_PENDING : ROLE_DELIVERED;
    if (hb == -1 || hb == 1 || hb == 0) /* F5: before (green), after (magenta), concurrent (dim) */
        rl = hb < 0 ? ROLE_OK : hb > 0 ? ROLE_PAUSED : ROLE_DIM;
    enum glyph line = msg->st == DM_DROPPED ? G_DROP_LINE
                      : msg->st == DM_PENDING ? G_PENDING_LINE : G_H;
    char label[96], type[40];
    int room = (xa < xb ? xb - xa : xa - xb) - 3;
    short_type(msg->type, room - (msg->st == DM_DROPPED ? 2 : 0), type, sizeof type);
    if (msg->st == DM_DROPPED)
        snprintf(label, sizeof label, "%s %s%s%s", type, canvas_glyph_str(c, G_CROSS),
                 msg->why[0] && (int)(strlen(type) + strlen(msg->why) + 3) <= room ? " " : "",
                 msg->why[0] && (int)(strlen(type) + strlen(msg->why) + 3) <= room ? msg->why : "");
    else
        snprintf(label, sizeof label, "%s", type);
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
    if (room > 0) {
        struct sb esc = {0};
        sb_add_escaped(&esc, label, strlen(label));
        int len = text_cols(c, esc.s);
        sb_free(&esc);
        int lw = len < room ? len : room;
        int lx = lo + 2 + (room - lw) / 2;
        canvas_text(c, lx, y, lw, label, selected ? ROLE_SELECTED : rl);
    } else if (selected) {
        canvas_set_role(c, lo, y, hi - lo + 1, ROLE_SELECTED);
    }
}

/* F5: the selected message's happened-before relation over the kept messages: mark[i] is -1
 * when message i's send happened before the selected one's send (its causal past), 1 when it
 * happened after it (its causal future), 0 when they are concurrent, 2 for the selected one.
 * Frontiers per node, grown to a fixpoint: the past reaches back through every message a node
 * received before its frontier, the future forward through every message sent after it.
 * Event times are true time (one clock for every node), so per-node order is their order. */
static void happened_before(const struct dm_state *s, long sel, signed char *mark)
{
    size_t n = s->nmsgs;
    memset(mark, 0, n);
    const struct dm_msg *S = dm_msg_at(s, (size_t)sel);
    mark[sel] = 2;
    uint64_t past[CL_MAXNODES] = {0}, fut[CL_MAXNODES] = {0};
    bool hasp[CL_MAXNODES] = {0}, hasf[CL_MAXNODES] = {0};
    int a = dm_node_index(s, S->src), b = dm_node_index(s, S->dst);
    if (a >= 0 && a < CL_MAXNODES) {
        past[a] = fut[a] = S->t_send;
        hasp[a] = hasf[a] = true;
    }
    if (b >= 0 && b < CL_MAXNODES && S->st == DM_DELIVERED && (!hasf[b] || S->t_end < fut[b])) {
        fut[b] = S->t_end;
        hasf[b] = true;
    }
    for (bool changed = true; changed;) {
        changed = false;
        for (size_t i = 0; i < n; i++) {
            if (mark[i])
                continue;
            const struct dm_msg *M = dm_msg_at(s, i);
            int ms = dm_node_index(s, M->src), md = dm_node_index(s, M->dst);
            if (ms >= CL_MAXNODES || md >= CL_MAXNODES)
                continue;
            bool dl = M->st == DM_DELIVERED;
            if ((ms >= 0 && hasp[ms] && M->t_send < past[ms]) || (dl && md >= 0 && hasp[md] && M->t_end <= past[md])) {
                mark[i] = -1;
                changed = true;
                if (ms >= 0 && (!hasp[ms] || M->t_send > past[ms])) {
                    past[ms] = M->t_send;
                    hasp[ms] = true;
                }
            } else if (ms >= 0 && hasf[ms] && M->t_send > fut[ms]) {
                mark[i] = 1;
                changed = true;
                if (dl && md >= 0 && (!hasf[md] || M->t_end < fut[md])) {
                    fut[md] = M->t_end;
                    hasf[md] = true;
                }
            }
        }
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
    bool hb_on = ui->causal && clamp_selection(s, ui->selected_msg) >= 0;
    pane_box(c, l, PANE_MESSAGES, ui,
             hb_on ? (l->pane[PANE_MESSAGES].w >= 44 ? "Messages (< before, > after, . concurrent)" : "Messages (< > .)")
                   : c->utf8 ? "Messages (time \xe2\x86\x93)" : "Messages (time v)");
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
    signed char *mark = NULL;
    if (hb_on) {
        mark = xcalloc(s->nmsgs, 1);
        happened_before(s, sel, mark);
    }
    for (long i = start; i < end; i++) {
        int hb = mark ? mark[i] : 3;
        draw_message_row(c, y + head + (int)(i - start), &cols, dm_msg_at(s, (size_t)i), i == sel, hb);
        if (mark && hb != 2)
            canvas_raw(c, x, y + head + (int)(i - start), 1, hb < 0 ? "<" : hb > 0 ? ">" : ".",
                       hb < 0 ? ROLE_OK : hb > 0 ? ROLE_PAUSED : ROLE_DIM);
    }
    free(mark);
}

/* ---- clocks (F4) ------------------------------------------------------------------------ */

/* Where the Clocks pane goes: Log's place (and Votes' beside it), else the Messages'. */
static bool clocks_rect(const struct layout *l, struct rect *r, enum pane_id *focus_as)
{
    if (layout_visible(l, PANE_LOG)) {
        *r = l->pane[PANE_LOG];
        *focus_as = PANE_LOG;
        const struct rect *v = &l->pane[PANE_VOTES];
        if (layout_visible(l, PANE_VOTES) && v->y == r->y && v->h == r->h && v->x == r->x + r->w)
            r->w += v->w;
        return true;
    }
    if (layout_visible(l, PANE_MESSAGES)) {
        *r = l->pane[PANE_MESSAGES];
        *focus_as = PANE_MESSAGES;
        return true;
    }
    return false;
}

static void ms3(char *buf, size_t n, int64_t us)
{
    snprintf(buf, n, "%+.1fms", (double)us / 1000);
}

/* Per node: its clock against true time (offset from skew, drift and NTP), Lamport, vector,
 * HLC (how far l runs ahead of its physical clock) and TrueTime's interval against true time
 * ([offset - ε, offset + ε]: it holds true time while that contains 0). */
static void draw_clocks(struct canvas *c, const struct layout *l, const struct dm *m, const struct render_ui *ui)
{
    struct rect r;
    enum pane_id as;
    if (!clocks_rect(l, &r, &as))
        return;
    const struct dm_state *s = dm_view(m);
    canvas_fill(c, r.x, r.y, r.w, r.h, ROLE_NORMAL);
    canvas_box(c, r.x, r.y, r.w, r.h, r.w >= 40 ? "Clocks (vs true time; F4 closes)" : "Clocks",
               ui->focus == as ? ROLE_FOCUS : ROLE_BORDER);
    int x, y, w, h;
    inner(&r, &x, &y, &w, &h);
    if (w < 8 || h < 1)
        return;
    bool wide = w >= 66;
    int row = 0;
    if (wide && h > s->n) {
        canvas_text(c, x, y + row++, w, "node offset      drift    lamport vector         hlc-pt   truetime-true", ROLE_DIM);
    }
    for (int i = 0; i < s->n && row < h; i++) {
        const struct dm_node *n = &s->node[i];
        char off[24] = "?", drift[24] = "", vc[64] = "", hlc[24] = "-", tt[48] = "";
        int64_t o = n->has_offset ? n->offset_us : n->skew_us;
        if (n->has_offset || n->has_clock)
            ms3(off, sizeof off, o);
        if (n->ntp)
            str_copy(off + strlen(off), "*", sizeof off - strlen(off));
        if (n->drift_ppm)
            snprintf(drift, sizeof drift, "%+lldppm", (long long)n->drift_ppm);
        size_t at = 0;
        vc[at++] = '[';
        for (int k = 0; k < n->nvc && at + 24 < sizeof vc; k++)
            at += (size_t)snprintf(vc + at, sizeof vc - at, "%s%llu", k ? "," : "", (unsigned long long)n->vc[k]);
        snprintf(vc + at, sizeof vc - at, "]");
        if (n->has_hlc && n->has_clock)
            ms3(hlc, sizeof hlc, (int64_t)(n->hlc_l - n->clock_us));
        bool misses = false;
        if (n->has_tt) {
            int64_t eps = (int64_t)n->tt_eps_us;
            misses = o - eps > 0 || o + eps < 0;
            snprintf(tt, sizeof tt, "[%+.1f,%+.1f]ms %s", (double)(o - eps) / 1000, (double)(o + eps) / 1000,
                     misses ? "MISSES" : "ok");
        }
        enum role idr = n->life == DM_DOWN ? ROLE_DOWN : role_of(n);
        canvas_text(c, x, y + row, 4, n->id, idr);
        if (n->life == DM_DOWN) {
            canvas_text(c, x + 5, y + row++, w - 5, "down", ROLE_DOWN);
            continue;
        }
        char line[256];
        if (wide) {
            int k = snprintf(line, sizeof line, "%-11s %-8s L%-6llu %-14s %-8s ", off, drift[0] ? drift : "-",
                             (unsigned long long)n->lamport, vc, hlc);
            canvas_text(c, x + 5, y + row, w - 5, line, ROLE_NORMAL);
            if (k > 0 && k < w - 5)
                canvas_text(c, x + 5 + k, y + row, w - 5 - k, tt, misses ? ROLE_FAIL : ROLE_NORMAL);
            row++;
            continue;
        }
        snprintf(line, sizeof line, "%s%s%s L%llu %s hlc%s", off, drift[0] ? " " : "", drift,
                 (unsigned long long)n->lamport, vc, hlc);
        canvas_text(c, x + 4, y + row++, w - 4, line, ROLE_NORMAL);
        if (row < h && tt[0]) {
            snprintf(line, sizeof line, "TT%s", tt);
            canvas_text(c, x + 4, y + row++, w - 4, line, misses ? ROLE_FAIL : ROLE_DIM);
        }
    }
    if (row < h && !wide && h - row >= 1 && s->n)
        canvas_text(c, x, y + h - 1, w, "*: NTP  hlc: l - clock", ROLE_DIM);
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
    int pw = l->pane[PANE_LOG].w;
    pane_box(c, l, PANE_LOG, ui, pw >= 36 ? "Log (~ uncommitted, ! conflict)"
                                 : pw >= 24 ? "Log (~ uncommitted)" : "Log");
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
    /* every node gets a column: the index column is as wide as the largest index, and a
     * narrow column shows the term first, then as much of the command as fits */
    int iw = 2;
    for (uint64_t v = hi; v >= 10; v /= 10)
        iw++;
    if (iw < 4)
        iw = 4;
    int ncol = s->n, cw = (w - iw) / (ncol ? ncol : 1);
    while (cw < 2 && ncol > 1) {
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
        for (int i = 0; i < s->n && i < 32; i++)
            if (q->acked & (1u << i))
                got++;
        /* "W=2 write z: n1 ✗ n2 ✓ n3 ✓  met", or in a narrow pane "W2 z: n1✗ n2✓ n3✓ met" */
        for (int narrow = 0; narrow < 2; narrow++) {
            sb_free(&b);
            /* R, W, or Q for a protocol's own quorum (paxos prepare/accept, zab ack) */
            char kind = !strcmp(q->op, "read") ? 'R' : !strcmp(q->op, "write") || !strcmp(q->op, "delete") ? 'W' : 'Q';
            if (narrow)
                sb_printf(&b, "%c%d %s:", kind, q->need, q->key);
            else
                sb_printf(&b, "%c=%d %s %s:", kind, q->need, q->op, q->key);
            const char *sp = narrow ? "" : " ";
            for (int i = 0; i < s->n && i < 32; i++) {
                if (q->acked & (1u << i))
                    sb_printf(&b, " %s%s%s", s->node[i].id, sp, ok);
                else if (q->stale & (1u << i))
                    sb_printf(&b, " %s%s~stale", s->node[i].id, sp);
                else if (q->missing & (1u << i))
                    sb_printf(&b, " %s%s%s", s->node[i].id, sp, no);
            }
            sb_printf(&b, "%s%s", narrow ? " " : "  ", got >= q->need ? "met" : "NOT met");
            if (text_cols(c, b.s) <= w - 1)
                break;
        }
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
        if ((int)b.len > w - 1) { /* a narrow pane: the short form */
            sb_free(&b);
            sb_printf(&b, "t%llu %s %d/%d%s", (unsigned long long)e->term, e->candidate, granted,
                      s->n, granted >= need ? " won" : "");
        }
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
        canvas_raw(c, x + 1, y, w - 1, w - 1 >= 27 ? "no elections or quorums yet" : "none yet",
                   ROLE_DIM);
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
            const char *en = json_string_value(json_object_get(ev, "ev"));
            if (en && !strcmp(en, "input") && !(ui->filter && *ui->filter))
                continue; /* a lesson's record of what was typed: Output echoes it already */
        }
        if (skip > 0) {
            skip--;
            continue;
        }
        b.len = 0;
        bool alert = dm_event_is_alert(ev), mark = dm_event_is_mark(ev);
        sb_add(&b, alert ? "!! " : mark ? "== " : "");
        dm_event_line(ev, &b);
        const char *e = json_string_value(json_object_get(ev, "ev"));
        enum role rl = alert ? ROLE_ALERT
                       : mark ? ROLE_OK
                       : e && !strcmp(e, "drop") ? ROLE_DROPPED
                       : e && !strcmp(e, "fault") ? ROLE_PARTITION
                       : e && !strcmp(e, "state") ? ROLE_CANDIDATE
                       : e && !strcmp(e, "output") ? ROLE_OUTPUT : ROLE_NORMAL;
        canvas_raw(c, x, y + r, w, b.s, rl);
        r--;
    }
    sb_free(&b);
}

/* ---- wrapping ------------------------------------------------------------------------- */

/* Rows of text cut to a width, each with its role. */
struct wrapped {
    char **row;
    uint8_t *role;
    bool *cont;         /* the row continues the line of the row before it */
    int n, cap;
};

static void wrapped_add(struct wrapped *w, const char *s, size_t len, enum role r)
{
    if (w->n == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 32;
        w->row = xrealloc(w->row, (size_t)w->cap * sizeof *w->row);
        w->role = xrealloc(w->role, (size_t)w->cap * sizeof *w->role);
        w->cont = xrealloc(w->cont, (size_t)w->cap * sizeof *w->cont);
    }
    w->cont[w->n] = false;
    w->row[w->n] = xstrndup(s, len);
    w->role[w->n++] = (uint8_t)r;
}

static void wrapped_free(struct wrapped *w)
{
    for (int i = 0; i < w->n; i++)
        free(w->row[i]);
    free(w->row);
    free(w->role);
    free(w->cont);
    memset(w, 0, sizeof *w);
}

/* Columns and bytes of the code point at p (a bad byte counts as one column). */
static int cp_at(const char *p, size_t *len)
{
    uint32_t cp;
    size_t n = utf8_decode((const unsigned char *)p, strnlen(p, 4), &cp);
    if (n == 0) {
        *len = 1;
        return 1;
    }
    *len = n;
    return canvas_cp_width(cp);
}

/* Wraps one line of safe (escaped) text into rows of at most width columns, breaking after a
 * space when it can; continuation rows begin with indent spaces. */
static void wrap_into(struct wrapped *w, const char *s, int width, int indent, enum role r)
{
    if (width < 4)
        width = 4;
    if (indent > width / 2)
        indent = 0;
    bool first = true;
    do {
        int room = first ? width : width - indent;
        const char *p = s, *brk = NULL;
        int cols = 0;
        while (*p) {
            size_t len;
            int cw = cp_at(p, &len);
            if (cols + cw > room)
                break;
            cols += cw;
            p += len;
            if (*p == ' ')
                brk = p;
        }
        const char *end = p;
        if (*p && brk && brk > s)
            end = brk; /* break at the last space that fits */
        if (end == s && *p) { /* nothing fits: take one code point */
            size_t len;
            cp_at(s, &len);
            end = s + len;
        }
        struct sb row = {0};
        if (!first)
            for (int i = 0; i < indent; i++)
                sb_addc(&row, ' ');
        sb_addn(&row, s, (size_t)(end - s));
        wrapped_add(w, row.s ? row.s : "", row.len, r);
        w->cont[w->n - 1] = !first;
        sb_free(&row);
        s = end;
        while (*s == ' ')
            s++;
        first = false;
    } while (*s);
}

int render_wrap_rows(const char *text, int width)
{
    struct wrapped w = {0};
    struct sb esc = {0};
    sb_add_escaped(&esc, text ? text : "", text ? strlen(text) : 0);
    wrap_into(&w, esc.s ? esc.s : "", width, 2, ROLE_NORMAL);
    int n = w.n;
    sb_free(&esc);
    wrapped_free(&w);
    return n;
}

/* Marks in a pane's border, right-aligned: "▲ more" on top, "▼ …" at the bottom. */
static void border_note(struct canvas *c, const struct rect *r, bool bottom, const char *text,
                        enum role rl)
{
    int tw = text_cols(c, text);
    if (tw + 4 > r->w)
        return;
    canvas_raw(c, r->x + r->w - tw - 2, bottom ? r->y + r->h - 1 : r->y, tw, text, rl);
}

/* ---- the state of a watched key (`watch KEY`) ---------------------------------------------- */

/* Where it goes: the place of Messages, Log and Votes together (they always form one
 * rectangle), so the nodes' states stand side by side across the width. */
static bool state_rect(const struct layout *l, struct rect *r)
{
    static const enum pane_id ps[] = {PANE_MESSAGES, PANE_LOG, PANE_VOTES};
    bool any = false;
    int x0 = 0, y0 = 0, x1 = 0, y1 = 0;
    for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++) {
        if (!layout_visible(l, ps[i]))
            continue;
        const struct rect *p = &l->pane[ps[i]];
        if (!any || p->x < x0)
            x0 = p->x;
        if (!any || p->y < y0)
            y0 = p->y;
        if (!any || p->x + p->w > x1)
            x1 = p->x + p->w;
        if (!any || p->y + p->h > y1)
            y1 = p->y + p->h;
        any = true;
    }
    *r = (struct rect){x0, y0, x1 - x0, y1 - y0};
    return any && r->w >= 20 && r->h >= 4;
}

bool render_state_shown(const struct layout *l, const struct dm *m, const struct render_ui *ui)
{
    struct rect r;
    return dm_view(m)->watch_key[0] && !ui->clocks && state_rect(l, &r);
}

static const struct dm_wrow *wrow_find(const struct dm_wnode *w, const char *key, bool foot)
{
    for (int i = 0; i < w->nrows; i++)
        if (w->rows[i].foot == foot && !strcmp(w->rows[i].key, key))
            return &w->rows[i];
    return NULL;
}

static bool wrow_same(const struct dm_wrow *a, const struct dm_wrow *b)
{
    if (!a || !b)
        return a == b;
    for (int j = 0; j < DM_WCELLS; j++)
        if (strcmp(a->cell[j], b->cell[j]))
            return false;
    return true;
}

/* Two nodes hold the same state of the key: the same entries, context and value. */
static bool wnode_same(const struct dm_wnode *a, const struct dm_wnode *b)
{
    if (a->nrows != b->nrows || a->more != b->more || strcmp(a->ctx, b->ctx) || strcmp(a->value, b->value))
        return false;
    for (int i = 0; i < a->nrows; i++)
        if (!wrow_same(&a->rows[i], wrow_find(b, a->rows[i].key, a->rows[i].foot)))
            return false;
    return true;
}

struct wunion {
    int n;
    struct { const char *key; bool foot; } k[2 * DM_WROWS];
};

/* Every entry any shown node has, each once, in the nodes' own order (a key one node lacks
 * goes after the entry before it on the node that has it): entries line up across columns. */
static void wunion_build(const struct dm_state *s, const int *order, int n, struct wunion *u)
{
    u->n = 0;
    for (int pass = 0; pass < 2; pass++)
        for (int k = 0; k < n; k++) {
            const struct dm_wnode *w = &s->wst[order[k]];
            int after = -1;
            for (int i = 0; i < w->nrows; i++) {
                const struct dm_wrow *r = &w->rows[i];
                if (r->foot != (pass == 1))
                    continue;
                int at = -1;
                for (int j = 0; j < u->n && at < 0; j++)
                    if (u->k[j].foot == r->foot && !strcmp(u->k[j].key, r->key))
                        at = j;
                if (at < 0) {
                    if (u->n == (int)(sizeof u->k / sizeof u->k[0]))
                        continue;
                    at = after >= 0 ? after + 1 : u->n;
                    if (after < 0) /* before every entry of this pass already there: keep it after the first pass */
                        at = u->n;
                    memmove(&u->k[at + 1], &u->k[at], (size_t)(u->n - at) * sizeof u->k[0]);
                    u->k[at].key = r->key;
                    u->k[at].foot = r->foot;
                    u->n++;
                }
                after = at;
            }
        }
}

/* "n1 | n2,n3": the nodes grouped by equal state. Returns the number of groups. */
static int wgroups(const struct dm_state *s, const int *order, int n, struct sb *b)
{
    int group[CL_MAXN], ng = 0;
    for (int k = 0; k < n; k++) {
        group[k] = -1;
        for (int j = 0; j < k && group[k] < 0; j++)
            if (s->wst[order[j]].has == s->wst[order[k]].has &&
                (!s->wst[order[k]].has || wnode_same(&s->wst[order[j]], &s->wst[order[k]])))
                group[k] = group[j];
        if (group[k] < 0)
            group[k] = ng++;
    }
    for (int g = 0; g < ng; g++) {
        sb_add(b, g ? " | " : "");
        bool first = true;
        for (int k = 0; k < n; k++)
            if (group[k] == g) {
                sb_printf(b, "%s%s", first ? "" : ",", s->node[order[k]].id);
                first = false;
            }
    }
    return ng;
}

static void pad_to(struct sb *b, const struct canvas *c, const char *s, int width)
{
    sb_add(b, s);
    for (int k = text_cols(c, s); k < width; k++)
        sb_addc(b, ' ');
}

static void draw_state(struct canvas *c, const struct layout *l, const struct dm *m, const struct render_ui *ui)
{
    struct rect r;
    if (!state_rect(l, &r))
        return;
    const struct dm_state *s = dm_view(m);
    int order[CL_MAXNODES];
    int n = node_order(s, order), shown = 0, nstate = 0;
    for (int k = 0; k < n; k++)
        if (order[k] < CL_MAXN)
            order[shown++] = order[k];
    n = shown;
    const char *type = "";
    for (int k = 0; k < n; k++)
        if (s->wst[order[k]].has) {
            nstate++;
            if (!type[0])
                type = s->wst[order[k]].type;
        }
    canvas_fill(c, r.x, r.y, r.w, r.h, ROLE_NORMAL);
    struct sb b = {0};
    sb_add(&b, "State of ");
    sb_add_escaped(&b, s->watch_key, strlen(s->watch_key));
    if (type[0]) {
        sb_add(&b, " (");
        sb_add_escaped(&b, type, strlen(type));
        sb_add(&b, ")");
    }
    enum pane_id as = layout_visible(l, PANE_MESSAGES) ? PANE_MESSAGES : PANE_LOG;
    canvas_box(c, r.x, r.y, r.w, r.h, b.s, ui->focus == as ? ROLE_FOCUS : ROLE_BORDER);
    int tx = r.x + 2 + text_cols(c, b.s) + 2;
    int x, y, w, h;
    inner(&r, &x, &y, &w, &h);
    if (!nstate) {
        b.len = 0;
        sb_add(&b, "no node has reported its state of ");
        sb_add_escaped(&b, s->watch_key, strlen(s->watch_key));
        sb_add(&b, " yet: update the key, or check its name (only some modes report a key's state, e.g. crdt). "
                   "`watch off` brings back the messages.");
        struct wrapped wr = {0};
        wrap_into(&wr, b.s, w - 2, 0, ROLE_DIM);
        for (int i = 0; i < wr.n && i < h; i++)
            canvas_raw(c, x + 1, y + i, w - 2, wr.row[i], ROLE_DIM);
        wrapped_free(&wr);
        sb_free(&b);
        return;
    }
    /* the verdict on the top border: do they agree, and when did they converge */
    b.len = 0;
    int ng = wgroups(s, order, n, &b);
    /* the longest of the forms that fits */
    char verdict[3][160];
    enum role vr;
    const struct dm_conv *cv = NULL;
    for (int k = 0; k < s->nconv; k++)
        if (!strcmp(s->conv[k].key, s->watch_key))
            cv = &s->conv[k];
    unsigned long long cs = cv ? cv->t / 1000000 : 0, cms = cv ? cv->t / 1000 % 1000 : 0;
    if (ng == 1 && nstate == n) {
        if (cv && cv->after_ms >= 0) {
            snprintf(verdict[0], sizeof verdict[0], " all %d agree: CONVERGED at t=%llu.%03llus, %lldms after diverging ", n,
                     cs, cms, (long long)cv->after_ms);
            snprintf(verdict[1], sizeof verdict[1], " CONVERGED t=%llu.%03llus (%lldms after diverging) ", cs, cms,
                     (long long)cv->after_ms);
        } else if (cv) {
            snprintf(verdict[0], sizeof verdict[0], " all %d agree: CONVERGED at t=%llu.%03llus ", n, cs, cms);
            snprintf(verdict[1], sizeof verdict[1], " CONVERGED t=%llu.%03llus ", cs, cms);
        } else {
            snprintf(verdict[0], sizeof verdict[0], " all %d agree ", n);
            snprintf(verdict[1], sizeof verdict[1], " agree ");
        }
        snprintf(verdict[2], sizeof verdict[2], " %s ", cv ? "CONVERGED" : "agree");
        vr = ROLE_OK;
    } else {
        snprintf(verdict[0], sizeof verdict[0], " DIFFER: %.100s  (* marks what differs) ", b.s);
        snprintf(verdict[1], sizeof verdict[1], " DIFFER: %.100s ", b.s);
        snprintf(verdict[2], sizeof verdict[2], " DIFFER ");
        vr = ROLE_ALERT;
    }
    int room = r.x + r.w - 2 - tx, pick = 0;
    while (pick < 2 && text_cols(c, verdict[pick]) > room)
        pick++;
    if (room > 0)
        canvas_text(c, tx, r.y, room, verdict[pick], vr);
    /* the columns: one per node, side by side */
    int ncol = n, gutter = 1;
    while (ncol > 1 && (w + gutter) / ncol - gutter < 14)
        ncol--;
    int cw = (w + gutter) / ncol - gutter;
    if (ncol < n) {
        char note[48];
        snprintf(note, sizeof note, " +%d nodes: a wider terminal shows them ", n - ncol);
        border_note(c, &r, true, note, ROLE_DIM);
    }
    struct wunion u;
    wunion_build(s, order, ncol, &u);
    /* widths shared by every column, so entries line up */
    int kw = 1, cwid[DM_WCELLS] = {0};
    const struct dm_wnode *cols_of = NULL;
    for (int k = 0; k < ncol; k++) {
        const struct dm_wnode *wn = &s->wst[order[k]];
        if (wn->has && wn->ncols && !cols_of)
            cols_of = wn;
        for (int i = 0; i < wn->nrows; i++) {
            if (wn->rows[i].foot)
                continue;
            int kc = text_cols(c, wn->rows[i].key);
            kw = kc > kw ? kc : kw;
            for (int j = 0; j < DM_WCELLS; j++) {
                int cc = text_cols(c, wn->rows[i].cell[j]);
                cwid[j] = cc > cwid[j] ? cc : cwid[j];
            }
        }
    }
    if (cols_of)
        for (int j = 0; j < cols_of->ncols; j++) {
            int cc = text_cols(c, cols_of->cols[j]);
            cwid[j] = cc > cwid[j] ? cc : cwid[j];
        }
    if (kw > cw / 2)
        kw = cw / 2 > 4 ? cw / 2 : 4;
    bool colnames = cols_of && h >= 5;
    int foot_lines = h >= u.n + 4 + (colnames ? 1 : 0) ? 2 : 1; /* context, and what changed it */
    int body = h - 1 - (colnames ? 1 : 0) - foot_lines;
    /* what the entries mean, across the width, when there is room for it under them */
    const char *about = "";
    for (int k = 0; k < ncol && !about[0]; k++)
        about = s->wst[order[k]].about;
    struct wrapped wr = {0};
    if (about[0] && body - u.n >= 3) {
        b.len = 0;
        sb_add_escaped(&b, about, strlen(about));
        wrap_into(&wr, b.s, w - 2, 2, ROLE_DIM);
        if (wr.n <= body - u.n - 2)
            body -= wr.n + 1;
        else
            wrapped_free(&wr);
    }
    /* which entries fit: all when they do; else those that differ between nodes first (what a
     * student looks for), then the rest, each shown in its place, and "+N more" for the others */
    bool keep[2 * DM_WROWS];
    int space = u.n <= body ? u.n : body - 1;
    for (int pass = 0; pass < 2; pass++)
        for (int e = 0; e < u.n; e++) {
            if (!pass)
                keep[e] = false;
            bool differs = false;
            for (int a = 0; a < ncol && !differs; a++)
                for (int bb = a + 1; bb < ncol && !differs; bb++)
                    if (s->wst[order[a]].has && s->wst[order[bb]].has)
                        differs = !wrow_same(wrow_find(&s->wst[order[a]], u.k[e].key, u.k[e].foot),
                                             wrow_find(&s->wst[order[bb]], u.k[e].key, u.k[e].foot));
            if (space > 0 && !keep[e] && (differs || pass == 1)) {
                keep[e] = true;
                space--;
            }
        }
    int prev_group = -1;
    for (int k = 0; k < ncol; k++) {
        int i = order[k];
        const struct dm_node *nd = &s->node[i];
        const struct dm_wnode *wn = &s->wst[i];
        int cx = x + k * (cw + gutter), row = 0;
        if (s->ngroups > 1 && prev_group >= 0 && s->group_of[i] != prev_group)
            for (int yy = y; yy < y + h; yy++) /* a partition between these columns */
                canvas_raw(c, cx - 1, yy, 1, "|", ROLE_PARTITION);
        prev_group = s->ngroups > 1 ? s->group_of[i] : 0;
        /* the node and its value */
        b.len = 0;
        sb_add(&b, nd->id);
        if (nd->life == DM_DOWN || nd->life == DM_PAUSED)
            sb_printf(&b, " %s", life_word(nd->life));
        int used = canvas_text(c, cx, y + row, cw, b.s, role_of(nd));
        b.len = 0;
        if (wn->has && wn->value[0])
            sb_printf(&b, " = %s", wn->value);
        if (b.len && text_cols(c, b.s) <= cw - used) { /* the value when it fits whole; the entries say the rest */
            canvas_text(c, cx + used, y + row, cw - used, b.s, ROLE_NORMAL);
        } else if (!wn->has) {
            canvas_raw(c, cx + used, y + row, cw - used, " (nothing yet)", ROLE_DIM);
        }
        row++;
        if (colnames) {
            b.len = 0;
            sb_addc(&b, ' ');
            pad_to(&b, c, "", kw);
            for (int j = 0; j < cols_of->ncols; j++) {
                sb_addc(&b, ' ');
                pad_to(&b, c, cols_of->cols[j], cwid[j]);
            }
            canvas_text(c, cx, y + row++, cw, b.s, ROLE_DIM);
        }
        /* the entries, lined up with the other columns; * marks one that differs elsewhere */
        int avail = body, left = 0;
        for (int e = 0; e < u.n; e++) {
            if (!keep[e]) {
                left++;
                continue;
            }
            if (avail <= 0) {
                left++;
                continue;
            }
            const struct dm_wrow *mine = wn->has ? wrow_find(wn, u.k[e].key, u.k[e].foot) : NULL;
            bool differs = false;
            for (int o = 0; o < ncol && !differs; o++)
                if (o != k && s->wst[order[o]].has && wn->has)
                    differs = !wrow_same(mine, wrow_find(&s->wst[order[o]], u.k[e].key, u.k[e].foot));
            b.len = 0;
            sb_addc(&b, differs ? '*' : ' ');
            if (!mine) {
                if (wn->has) { /* another node has this entry, this one does not */
                    sb_add(&b, "- ");
                    sb_add(&b, u.k[e].key);
                }
                canvas_text(c, cx, y + row++, cw, b.s, differs ? ROLE_ALERT : ROLE_DIM);
                avail--;
                continue;
            }
            if (mine->foot) {
                sb_add(&b, mine->key);
                for (int j = 0; j < DM_WCELLS && mine->cell[j][0]; j++)
                    sb_printf(&b, " %s", mine->cell[j]);
            } else {
                pad_to(&b, c, mine->key, kw);
                int last = DM_WCELLS - 1;
                while (last > 0 && !mine->cell[last][0] && !(cols_of && last < cols_of->ncols))
                    last--;
                for (int j = 0; j <= last; j++) {
                    sb_addc(&b, ' ');
                    if (j < last)
                        pad_to(&b, c, mine->cell[j], cwid[j]);
                    else
                        sb_add(&b, mine->cell[j]);
                }
            }
            canvas_text(c, cx, y + row++, cw, b.s, differs ? ROLE_ALERT : mine->foot ? ROLE_DIM : ROLE_NORMAL);
            avail--;
        }
        if (left || wn->more) {
            b.len = 0;
            sb_printf(&b, " +%d more", left + wn->more);
            canvas_raw(c, cx, y + row, cw, b.s, ROLE_DIM);
        }
        /* the causal context (the updates this state includes) and what changed it last */
        if (wn->has) {
            b.len = 0;
            sb_printf(&b, "ctx %s", wn->ctx[0] ? wn->ctx : "-");
            canvas_text(c, cx, y + h - foot_lines, cw, b.s, ROLE_DIM);
            if (foot_lines == 2 && wn->why[0]) {
                b.len = 0;
                sb_printf(&b, "%s t=%llu.%03llus", wn->why, (unsigned long long)(wn->t / 1000000),
                          (unsigned long long)(wn->t / 1000 % 1000));
                if (text_cols(c, b.s) > cw) { /* what changed it matters more than when */
                    b.len = 0;
                    sb_add(&b, wn->why);
                }
                canvas_text(c, cx, y + h - 1, cw, b.s, ROLE_DIM);
            }
        }
    }
    for (int i = 0; i < wr.n; i++) { /* across the columns (and their separators), under their entries */
        canvas_fill(c, x, y + h - foot_lines - 1 - wr.n + i, w, 1, ROLE_NORMAL);
        canvas_raw(c, x + 1, y + h - foot_lines - 1 - wr.n + i, w - 2, wr.row[i], ROLE_DIM);
    }
    wrapped_free(&wr);
    sb_free(&b);
}

/* ---- output ------------------------------------------------------------------------- */

static enum role output_role(const char *line)
{
    if (!strncmp(line, "FAIL", 4) || !strncmp(line, "error", 5))
        return ROLE_FAIL;
    if (line[0] == '>' || !strncmp(line, "conlab> ", 8))
        return ROLE_PROMPT;
    return ROLE_OUTPUT;
}

/* The rows of the newest output lines, oldest first, enough to fill need rows. */
static void output_rows(const struct dm_state *s, int width, int need, struct wrapped *out)
{
    long first = (long)s->nout;
    int rows = 0;
    while (first > 0 && rows < need) {
        first--;
        rows += render_wrap_rows(dm_output_at(s, (size_t)first), width);
    }
    for (long i = first; i < (long)s->nout; i++) {
        const char *line = dm_output_at(s, (size_t)i);
        struct sb esc = {0};
        sb_add_escaped(&esc, line, strlen(line));
        wrap_into(out, esc.s ? esc.s : "", width, 2, output_role(line));
        sb_free(&esc);
    }
}

static void draw_output(struct canvas *c, const struct layout *l, const struct dm *m,
                        const struct render_ui *ui)
{
    const struct dm_state *s = ui->output_live ? dm_live(m) : dm_view(m);
    pane_box(c, l, PANE_OUTPUT, ui, NULL);
    int x, y, w, h;
    inner(&l->pane[PANE_OUTPUT], &x, &y, &w, &h);
    if (h < 1 || w < 4)
        return;
    if (s->nout == 0) {
        struct wrapped hint = {0};
        wrap_into(&hint, ui->cmdline ? "Type a command below: `start raft 3` starts a cluster, "
                                       "`lesson welcome` the course, `help` lists every command."
                                     : "(no output yet)", w - 1, 0, ROLE_DIM);
        for (int i = 0; i < hint.n && i < h; i++)
            canvas_raw(c, x, y + i, w, hint.row[i], ROLE_DIM);
        wrapped_free(&hint);
        return;
    }
    int back = ui->scroll[PANE_OUTPUT] > 0 ? ui->scroll[PANE_OUTPUT] : 0;
    struct wrapped rows = {0};
    output_rows(s, w - 1, h + back, &rows);
    int end = rows.n - back;
    if (end < (h < rows.n ? h : rows.n))
        end = h < rows.n ? h : rows.n; /* scrolled back to the oldest kept line */
    int start = end - h > 0 ? end - h : 0;
    for (int i = start; i < end; i++)
        canvas_raw(c, x, y + (i - start), w, rows.row[i], (enum role)rows.role[i]);
    if (start > 0)
        border_note(c, &l->pane[PANE_OUTPUT], false, canvas_glyph_str(c, G_UP), ROLE_DIM);
    if (end < rows.n) {
        char note[64];
        if (ui->output_unseen > 0)
            snprintf(note, sizeof note, "%s new output (%d) - End ", canvas_glyph_str(c, G_DOWN_ARROW),
                     ui->output_unseen);
        else
            snprintf(note, sizeof note, "%s more - End ", canvas_glyph_str(c, G_DOWN_ARROW));
        border_note(c, &l->pane[PANE_OUTPUT], true, note,
                    ui->output_unseen > 0 ? ROLE_ALERT : ROLE_DIM);
    }
    wrapped_free(&rows);
}

/* ---- lesson ------------------------------------------------------------------------- */

/* A line of running text (not a heading, a list item, a command or the "Try:" block). */
/* A line that is one command in backquotes, alone: "`crash n1 ; crash n2`". */
static bool code_line(const char *p)
{
    size_t n = strcspn(p, "\n");
    return n >= 2 && p[0] == '`' && p[n - 1] == '`' && !memchr(p + 1, '`', n - 2);
}

static bool prose(const char *line)
{
    return *line && strcmp(line, "Try:") && strncmp(line, "Step ", 5) && strncmp(line, "Done: ", 6) &&
           strncmp(line, "Hint ", 5) && line[0] != ' ' && !code_line(line);
}

/* Does the next line (p) continue the paragraph? Not when it starts a list item, an indented
 * block or the "Try:" block, or is a command on a line of its own. */
static bool prose_continues(const char *p)
{
    return p[0] != ' ' && !code_line(p) && strncmp(p, "- ", 2) && strncmp(p, "* ", 2) &&
           strncmp(p, "Try:", 4) && strncmp(p, "Hint ", 5);
}

/* The lesson's text laid out: "Step k of n: …" and the introduction's title as headings,
 * "Try:" with its commands (the lines indented by four spaces after it) packed on as few
 * rows as they fit, separated by " · ". *anchor is the first row of the step heading (the
 * part that must be in view), -1 when there is none. */
static void lesson_rows(const struct canvas *c, const char *text, int width, struct wrapped *out,
                        int *anchor)
{
    *anchor = -1;
    if (!text)
        return;
    const char *sep = c->utf8 ? " \xc2\xb7 " : " - ";
    int sepw = 3;
    const char *p = text;
    while (*p) {
        size_t len = strcspn(p, "\n");
        char *line = xstrndup(p, len);
        p += len + (p[len] == '\n');
        /* a paragraph of prose: the lesson file's line breaks are not the pane's */
        while (prose(line) && *p && p[0] != '\n' && prose_continues(p)) {
            size_t nl = strcspn(p, "\n");
            char *joined = xasprintf("%s %.*s", line, (int)nl, p);
            free(line);
            line = joined;
            p += nl + (p[nl] == '\n');
        }
        if (!strcmp(line, "Try:")) {
            /* the commands: the lines after it that begin with four spaces, packed */
            struct sb row = {0};
            sb_add(&row, "Try: ");
            int cols = 5;
            bool any = false;
            /* a command typed as one line (with ';') gets a row of its own: packed with others
             * it would read as part of them */
            bool own_row = false;
            while (!strncmp(p, "    ", 4)) {
                size_t cl = strcspn(p, "\n");
                char *cmd = xstrndup(p + 4, cl - 4);
                p += cl + (p[cl] == '\n');
                struct sb e = {0};
                sb_add_escaped(&e, cmd, strlen(cmd));
                free(cmd);
                int cw = text_cols(c, e.s ? e.s : "");
                bool semi = strchr(e.s ? e.s : "", ';') != NULL;
                if (any && (own_row || semi || cols + sepw + cw > width)) { /* next row */
                    wrapped_add(out, row.s, row.len, ROLE_PROMPT);
                    row.len = 0;
                    sb_add(&row, "     ");
                    cols = 5;
                    any = false;
                }
                if (any) {
                    sb_add(&row, sep);
                    cols += sepw;
                }
                if (5 + cw > width) { /* longer than the pane: wrapped on rows of its own */
                    sb_add(&row, e.s ? e.s : "");
                    wrap_into(out, row.s, width, 5, ROLE_PROMPT);
                    row.len = 0;
                    sb_add(&row, "     ");
                    cols = 5;
                    any = false;
                } else {
                    sb_add(&row, e.s ? e.s : "");
                    cols += cw;
                    any = true;
                }
                own_row = semi;
                sb_free(&e);
            }
            if (any)
                wrapped_add(out, row.s, row.len, ROLE_PROMPT);
            sb_free(&row);
            free(line);
            continue;
        }
        struct sb esc = {0};
        sb_add_escaped(&esc, line, strlen(line));
        enum role rl = ROLE_NORMAL;
        if (!strncmp(line, "Step ", 5) && strstr(line, " of ")) {
            rl = ROLE_FOCUS;
            if (*anchor < 0)
                *anchor = out->n;
        } else if (!strncmp(line, "Done: ", 6)) {
            rl = ROLE_OK;
        } else if (!strncmp(line, "Hint ", 5)) {
            rl = ROLE_PENDING;
        } else if (out->n == 0 && *line) {
            rl = ROLE_FOCUS; /* the first line: the introduction's or the quiz's heading */
        }
        /* a list item ("  a) …", "- …") wraps under its own text */
        int indent = (int)strspn(line, " ");
        if ((line[indent] == '-' || line[indent] == '*') && line[indent + 1] == ' ')
            indent += 2;
        else if (line[indent] && line[indent + 1] == ')' && line[indent + 2] == ' ')
            indent += 3;
        if (*line)
            wrap_into(out, esc.s, width, indent, rl);
        else
            wrapped_add(out, "", 0, ROLE_NORMAL);
        sb_free(&esc);
        free(line);
    }
    while (out->n > 0 && !out->row[out->n - 1][0]) { /* no blank rows at the end */
        free(out->row[--out->n]);
    }
}

/* The lesson pane's geometry: text rows (the last row is the check line). */
static void lesson_area(const struct layout *l, int *x, int *y, int *w, int *th)
{
    int h;
    inner(&l->pane[PANE_LESSON], x, y, w, &h);
    *x += 1;
    *w -= 2;
    *th = h >= 3 ? h - 1 : h;
}

int render_lesson_rows(const struct dm *m, int width)
{
    const struct dm_lesson *ls = &dm_view(m)->lesson;
    if (!ls->active)
        return 0;
    struct canvas *probe = canvas_new(1, 1, true);
    struct wrapped rows = {0};
    int anchor;
    lesson_rows(probe, ls->text, width, &rows, &anchor);
    int n = rows.n + 1; /* and the check line */
    wrapped_free(&rows);
    canvas_free(&probe);
    return n;
}

/* The first text row shown when the student has not scrolled: everything when it fits, else
 * as much before the step heading as leaves the rest of the step in view. */
static int lesson_auto_first(const struct wrapped *rows, int th, int anchor)
{
    if (rows->n <= th || anchor < 0)
        return 0;
    int last_start = rows->n - th;
    int first = anchor < last_start ? anchor : last_start;
    /* no blank row at the top, nor the end of a line cut in the middle */
    while (first < anchor && (!rows->row[first][0] || rows->cont[first]))
        first++;
    return first;
}

int render_lesson_first_row(const struct canvas *c, const struct layout *l, const struct dm *m)
{
    if (!layout_visible(l, PANE_LESSON))
        return 0;
    int x, y, w, th;
    lesson_area(l, &x, &y, &w, &th);
    struct wrapped rows = {0};
    int anchor;
    lesson_rows(c, dm_view(m)->lesson.text, w, &rows, &anchor);
    int first = lesson_auto_first(&rows, th, anchor);
    wrapped_free(&rows);
    return first;
}

static void draw_lesson(struct canvas *c, const struct layout *l, const struct dm *m,
                        const struct render_ui *ui)
{
    const struct dm_state *s = dm_view(m);
    const struct dm_lesson *ls = &s->lesson;
    char title[200];
    snprintf(title, sizeof title, "Lesson%s%s", ls->title ? " " : "", ls->title ? ls->title : "");
    struct sb esc = {0};
    sb_add_escaped(&esc, title, strlen(title));
    pane_box(c, l, PANE_LESSON, ui, esc.s);
    sb_free(&esc);
    int x, y, w, th;
    lesson_area(l, &x, &y, &w, &th);
    if (w < 4 || th < 1)
        return;
    struct wrapped rows = {0};
    int anchor;
    lesson_rows(c, ls->text, w, &rows, &anchor);
    int first = lesson_auto_first(&rows, th, anchor);
    if (ui->scroll[PANE_LESSON] > 0) { /* scrolled by hand: scroll - 1 is the first row */
        first = ui->scroll[PANE_LESSON] - 1;
        if (first > rows.n - th)
            first = rows.n - th;
        if (first < 0)
            first = 0;
    }
    for (int r = 0; r < th && first + r < rows.n; r++)
        canvas_raw(c, x, y + r, w, rows.row[first + r], (enum role)rows.role[first + r]);
    const struct rect *pr = &l->pane[PANE_LESSON];
    if (first > 0)
        border_note(c, pr, false, c->utf8 ? "\xe2\x96\xb2 more " : "^ more ", ROLE_DIM);
    bool more = first + th < rows.n;
    /* the check line: what the lesson waits for */
    if (ls->check && pr->h - 2 >= 3) {
        enum role rl = !strncmp(ls->check, "passed", 6) || !strncmp(ls->check, "lesson complete", 15)
                           ? ROLE_OK
                       : !strncmp(ls->check, "not yet", 7) ? ROLE_FAIL : ROLE_PENDING;
        canvas_text(c, x, y + th, w, ls->check, rl);
    }
    /* the words and keys, in the bottom border */
    const char *dot = c->utf8 ? "\xc2\xb7" : "-";
    char keys[160];
    snprintf(keys, sizeof keys, " %s%s%shint %s next %s back %s F2 cluster view ",
             more ? (c->utf8 ? "\xe2\x96\xbc more (PgDn) " : "v more (PgDn) ") : "",
             more ? dot : "", more ? " " : "", dot, dot, dot);
    border_note(c, pr, true, keys, more ? ROLE_PENDING : ROLE_DIM);
    wrapped_free(&rows);
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

static void draw_help(struct canvas *c, const struct layout *l, const struct render_ui *ui)
{
    static const char *const none[] = {"(no help)", NULL};
    const char *const *lines = ui->help_lines ? ui->help_lines : none;
    int n = 0, wmax = 0;
    for (; lines[n]; n++)
        if (text_cols(c, lines[n]) > wmax)
            wmax = text_cols(c, lines[n]);
    int w = wmax + 4 < l->cols ? wmax + 4 : l->cols;
    int h = n + 2 < l->rows ? n + 2 : l->rows;
    int x = (l->cols - w) / 2, y = (l->rows - h) / 2;
    canvas_fill(c, x, y, w, h, ROLE_HELP);
    canvas_box(c, x, y, w, h, "Help: keys and what the screen shows (any key closes)", ROLE_HELP);
    /* a screen too short for every line shows the first ones and says so */
    int shown = n <= h - 2 ? n : h - 3;
    for (int i = 0; i < shown; i++)
        canvas_raw(c, x + 2, y + 1 + i, w - 4, lines[i], ROLE_HELP);
    if (shown < n && h >= 3)
        canvas_raw(c, x + 2, y + h - 2, w - 4, "(a taller terminal shows the rest; docs/dashboard.md has it all)", ROLE_HELP);
}

void render_layout(const struct dm *m, int cols, int rows, bool lesson_view, struct layout *out)
{
    bool lesson = dm_view(m)->lesson.active && lesson_view;
    if (!lesson) {
        layout_compute(cols, rows, 0, out);
        return;
    }
    /* the lesson's width first (it does not depend on its height), then its height */
    layout_compute(cols, rows, LAYOUT_LESSON, out);
    if (!layout_visible(out, PANE_LESSON))
        return;
    int want = render_lesson_rows(m, out->pane[PANE_LESSON].w - 4);
    layout_compute_lesson(cols, rows, LAYOUT_LESSON, want, out);
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
    if (render_state_shown(l, m, ui))
        draw_state(c, l, m, ui);
    if (ui->clocks)
        draw_clocks(c, l, m, ui);
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
        draw_help(c, l, ui);
}
