/* model — folds events into the dashboard state; records them for time travel (model.h). */
#include "model.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ckpt {
    uint64_t pos;
    struct dm_state *st;
};

struct dm {
    struct dm_state *live;
    struct dm_state *view;  /* non-NULL when frozen */
    uint64_t cursor;
    json_t **ev;            /* ev[i] is the event at position first + i */
    size_t nev, cap;
    uint64_t first;         /* absolute position of ev[0] */
    struct ckpt *ck;        /* ck[0].pos == first */
    size_t nck, capck;
};

/* ---- small helpers ------------------------------------------------------------------ */

static const char *jstr(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : NULL;
}

static bool jint(const json_t *o, const char *k, int64_t *out)
{
    json_t *v = json_object_get(o, k);
    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return true;
    }
    if (json_is_real(v)) {
        *out = (int64_t)json_real_value(v);
        return true;
    }
    return false;
}

static bool juint(const json_t *o, const char *k, uint64_t *out)
{
    int64_t v;
    if (!jint(o, k, &v) || v < 0)
        return false;
    *out = (uint64_t)v;
    return true;
}

/* Copies a JSON scalar as text ("" for others). */
static void jtext(const json_t *v, char *buf, size_t n)
{
    if (json_is_string(v))
        str_copy(buf, json_string_value(v), n);
    else if (json_is_integer(v))
        snprintf(buf, n, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        snprintf(buf, n, "%g", json_real_value(v));
    else if (json_is_true(v))
        str_copy(buf, "true", n);
    else if (json_is_false(v))
        str_copy(buf, "false", n);
    else
        buf[0] = 0;
}

static char *jdup(const json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    if (!v || json_is_null(v))
        return NULL;
    if (json_is_string(v))
        return xstrndup(json_string_value(v), strnlen(json_string_value(v), 16 * DM_MAX_TEXT));
    char buf[64];
    jtext(v, buf, sizeof buf);
    if (buf[0])
        return xstrdup(buf);
    char *s = json_dumps(v, JSON_COMPACT);
    if (s && strlen(s) > DM_MAX_TEXT)
        s[DM_MAX_TEXT] = 0;
    return s;
}

int dm_node_index(const struct dm_state *s, const char *id)
{
    if (!id)
        return -1;
    for (int i = 0; i < s->n; i++)
        if (!strcmp(s->node[i].id, id))
            return i;
    return -1;
}

/* The node an event is about; adds it when the cluster event has not named it (a trace
 * that starts mid-run), as long as it looks like a node id. */
static int node_for(struct dm_state *s, const char *id)
{
    int i = dm_node_index(s, id);
    if (i >= 0 || !id)
        return i;
    if (s->n >= CL_MAXNODES || id[0] != 'n' || !isdigit((unsigned char)id[1]) || strlen(id) >= CL_IDLEN)
        return -1;
    i = s->n++;
    memset(&s->node[i], 0, sizeof s->node[i]);
    str_copy(s->node[i].id, id, CL_IDLEN);
    s->node[i].life = DM_UP;
    return i;
}

/* ---- state lifetime ----------------------------------------------------------------- */

static void lesson_clear(struct dm_lesson *l)
{
    free(l->title);
    free(l->step);
    free(l->text);
    free(l->check);
    free(l->hint);
    memset(l, 0, sizeof *l);
}

static void node_log_clear(struct dm_node *n)
{
    for (size_t i = 0; i < n->nlog; i++)
        free(n->log[i].cmd);
    free(n->log);
    n->log = NULL;
    n->nlog = 0;
}

static void state_free(struct dm_state *s)
{
    if (!s)
        return;
    for (int i = 0; i < CL_MAXNODES; i++)
        node_log_clear(&s->node[i]);
    for (size_t i = 0; i < s->nmsgs; i++)
        json_decref(s->msgs[(s->msg_head + i) % DM_MAX_MSGS].ev);
    for (size_t i = 0; i < s->nout; i++)
        free(s->output[(s->out_head + i) % DM_MAX_OUTPUT]);
    for (int i = 0; i < s->nalerts; i++)
        free(s->alerts[i].text);
    lesson_clear(&s->lesson);
    free(s);
}

static struct dm_state *state_new(void)
{
    struct dm_state *s = xcalloc(1, sizeof *s);
    s->speed = 1.0;
    return s;
}

static char *dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

static struct dm_state *state_copy(const struct dm_state *src)
{
    struct dm_state *s = xmalloc(sizeof *s);
    memcpy(s, src, sizeof *s);
    for (int i = 0; i < CL_MAXNODES; i++) {
        struct dm_node *n = &s->node[i];
        if (n->nlog) {
            n->log = xmalloc(n->nlog * sizeof *n->log);
            for (size_t j = 0; j < n->nlog; j++) {
                n->log[j] = src->node[i].log[j];
                n->log[j].cmd = dup_or_null(src->node[i].log[j].cmd);
            }
        } else {
            n->log = NULL;
        }
    }
    for (size_t i = 0; i < s->nmsgs; i++)
        json_incref(s->msgs[(s->msg_head + i) % DM_MAX_MSGS].ev);
    for (size_t i = 0; i < s->nout; i++) {
        size_t k = (s->out_head + i) % DM_MAX_OUTPUT;
        s->output[k] = xstrdup(src->output[k]);
    }
    for (int i = 0; i < s->nalerts; i++)
        s->alerts[i].text = xstrdup(src->alerts[i].text);
    s->lesson.title = dup_or_null(src->lesson.title);
    s->lesson.step = dup_or_null(src->lesson.step);
    s->lesson.text = dup_or_null(src->lesson.text);
    s->lesson.check = dup_or_null(src->lesson.check);
    s->lesson.hint = dup_or_null(src->lesson.hint);
    return s;
}

/* ---- folding: messages -------------------------------------------------------------- */

static struct dm_msg *msg_push(struct dm_state *s)
{
    struct dm_msg *m;
    if (s->nmsgs == DM_MAX_MSGS) {
        m = &s->msgs[s->msg_head];
        json_decref(m->ev);
        s->msg_head = (s->msg_head + 1) % DM_MAX_MSGS;
        s->nmsgs--;
    }
    m = &s->msgs[(s->msg_head + s->nmsgs) % DM_MAX_MSGS];
    s->nmsgs++;
    memset(m, 0, sizeof *m);
    m->msg_id = -1;
    return m;
}

const struct dm_msg *dm_msg_at(const struct dm_state *s, size_t i)
{
    if (i >= s->nmsgs)
        return NULL;
    return &s->msgs[(s->msg_head + i) % DM_MAX_MSGS];
}

/* The pending message src→dst of this type (and msg_id when known): the oldest such, as
 * links deliver in order unless reordered. Searches the newest 256 messages. */
static struct dm_msg *msg_find_pending(struct dm_state *s, const char *src, const char *dst,
                                       const char *type, int64_t msg_id)
{
    struct dm_msg *found = NULL;
    size_t lim = s->nmsgs < 256 ? s->nmsgs : 256;
    for (size_t k = 0; k < lim; k++) {
        struct dm_msg *m = &s->msgs[(s->msg_head + s->nmsgs - 1 - k) % DM_MAX_MSGS];
        if (m->st != DM_PENDING || strcmp(m->src, src) || strcmp(m->dst, dst))
            continue;
        if (type && *type && strcmp(m->type, type))
            continue;
        if (msg_id >= 0 && m->msg_id >= 0) {
            if (m->msg_id == msg_id)
                return m;
            continue;
        }
        found = m;
    }
    return found;
}

static const char *msg_type_of(const json_t *ev)
{
    const char *type = jstr(ev, "type");
    if (!type)
        type = jstr(json_object_get(ev, "body"), "type");
    return type ? type : "";
}

/* Every fold has the same shape, so that fold() is a table: kind -> function. i is the index
 * of the event's node (-1 when it names none), pos its position, t its time. */
#define FOLD(name) static void name(struct dm_state *s, const struct event *e, int i, uint64_t pos, uint64_t t)

FOLD(fold_send)
{
    (void)t;
    const char *node = e->node, *to = e->msg.peer;
    if (!node || !to)
        return;
    struct dm_msg *m = msg_push(s);
    m->pos = pos;
    m->t_send = t;
    str_copy(m->src, node, sizeof m->src);
    str_copy(m->dst, to, sizeof m->dst);
    str_copy(m->type, e->msg.type, sizeof m->type);
    m->msg_id = e->msg.msg_id;
    m->st = DM_PENDING;
    m->ev = json_incref((json_t *)e->json);
    if (dm_node_index(s, to) < 0) { /* a reply to a client: the lab's gateway stands beside the */
        m->st = DM_DELIVERED;       /* node (DESIGN §4) and no event tells its arrival */
        m->t_end = t;
    }
    for (int k = 0; k < s->norphans && m->st == DM_PENDING; k++) { /* it already arrived */
        struct dm_orphan *o = &s->orphans[k];
        if (strcmp(o->src, node) || strcmp(o->dst, to) || strcmp(o->type, m->type) ||
            (o->msg_id >= 0 && m->msg_id >= 0 && o->msg_id != m->msg_id))
            continue;
        m->st = DM_DELIVERED;
        m->t_end = o->t > t ? o->t : t;
        s->orphans[k] = s->orphans[--s->norphans];
        if (s->orphan_next > s->norphans)
            s->orphan_next = s->norphans;
    }
    if (i >= 0 && e->msg.has_lamport && e->msg.lamport > s->node[i].lamport)
        s->node[i].lamport = e->msg.lamport;
}

FOLD(fold_recv)
{
    (void)i;
    if (!e->node || !e->msg.peer)
        return;
    struct dm_msg *m = msg_find_pending(s, e->msg.peer, e->node, e->msg.type, e->msg.msg_id);
    if (!m && dm_node_index(s, e->msg.peer) < 0) {
        /* a client's request: its sender emits no event, so the arrival draws it */
        m = msg_push(s);
        m->pos = pos;
        m->t_send = t;
        str_copy(m->src, e->msg.peer, sizeof m->src);
        str_copy(m->dst, e->node, sizeof m->dst);
        str_copy(m->type, e->msg.type, sizeof m->type);
        m->msg_id = e->msg.msg_id;
        m->ev = json_incref((json_t *)e->json);
    }
    if (m) {
        m->st = DM_DELIVERED;
        m->t_end = t;
    } else if (dm_node_index(s, e->msg.peer) >= 0) { /* before its send: kept for it */
        int k = s->norphans < DM_MAX_ORPHANS ? s->norphans++ : s->orphan_next;
        s->orphan_next = (k + 1) % DM_MAX_ORPHANS;
        struct dm_orphan *o = &s->orphans[k];
        str_copy(o->src, e->msg.peer, sizeof o->src);
        str_copy(o->dst, e->node, sizeof o->dst);
        str_copy(o->type, e->msg.type, sizeof o->type);
        o->msg_id = e->msg.msg_id;
        o->t = t;
    }
}

FOLD(fold_drop)
{
    (void)i;
    const char *src = e->msg.outgoing ? e->node : e->msg.peer, *dst = e->msg.outgoing ? e->msg.peer : e->node;
    s->drops++;
    if (!src || !dst)
        return;
    struct dm_msg *m = msg_find_pending(s, src, dst, e->msg.type, e->msg.msg_id);
    if (!m) {
        m = msg_push(s);
        m->pos = pos;
        m->t_send = t;
        str_copy(m->src, src, sizeof m->src);
        str_copy(m->dst, dst, sizeof m->dst);
        str_copy(m->type, e->msg.type, sizeof m->type);
        m->msg_id = e->msg.msg_id;
        m->ev = json_incref((json_t *)e->json);
    }
    m->st = DM_DROPPED;
    m->t_end = t;
    str_copy(m->why, e->msg.why ? e->msg.why : "", sizeof m->why);
}

/* ---- folding: logs ------------------------------------------------------------------ */

/* Drops entries with index >= from. */
static void log_truncate(struct dm_node *n, uint64_t from)
{
    while (n->nlog && n->log[n->nlog - 1].index >= from) {
        free(n->log[n->nlog - 1].cmd);
        n->nlog--;
    }
}

/* Sets entry (index, term); a different term at that index replaces it and what follows
 * (Raft's rule: a conflicting entry and all after it go). */
static void log_put(struct dm_node *n, uint64_t index, uint64_t term, const char *cmd)
{
    if (n->nlog) {
        struct dm_entry *last = &n->log[n->nlog - 1];
        uint64_t first = n->log[0].index;
        if (index >= first && index <= last->index) {
            struct dm_entry *e = &n->log[index - first];
            if (e->index == index && e->term == term) {
                if (cmd && !e->cmd)
                    e->cmd = xstrndup(cmd, strnlen(cmd, DM_MAX_TEXT));
                return;
            }
            log_truncate(n, index);
        } else if (index < first) {
            node_log_clear(n);
        } else if (index != last->index + 1) {
            node_log_clear(n); /* a gap: keep what is contiguous */
        }
    }
    if (n->nlog == DM_MAX_LOG) {
        free(n->log[0].cmd);
        memmove(n->log, n->log + 1, (n->nlog - 1) * sizeof *n->log);
        n->nlog--;
    }
    n->log = xrealloc(n->log, (n->nlog + 1) * sizeof *n->log);
    n->log[n->nlog].index = index;
    n->log[n->nlog].term = term;
    n->log[n->nlog].cmd = cmd ? xstrndup(cmd, strnlen(cmd, DM_MAX_TEXT)) : NULL;
    n->nlog++;
}

FOLD(fold_append)
{
    (void)pos;
    (void)t;
    const struct ev_log *l = &e->log;
    if (i < 0 || !l->has_index || !l->has_term)
        return;
    uint64_t count = l->count;
    if (count > DM_MAX_LOG)
        count = DM_MAX_LOG; /* a huge count must not become a huge loop */
    for (uint64_t k = 0; k < count; k++)
        log_put(&s->node[i], l->index + k, l->term, count == 1 ? l->cmd : NULL);
}

FOLD(fold_truncate)
{
    (void)pos;
    (void)t;
    if (i >= 0 && e->log.has_index)
        log_truncate(&s->node[i], e->log.index);
}

/* ---- folding: who a node is -------------------------------------------------------- */

/* The class of role in this cluster: its mode's table, else a role named like a class. */
static enum role_class class_of(const struct dm_state *s, const char *role)
{
    for (int k = 0; k < s->nroles; k++)
        if (!strcmp(s->roles[k].role, role))
            return s->roles[k].cls;
    return role_class_of(role);
}

/* The card line of node i: each figure with a card label, "c12 a12". commit and applied also
 * follow the commit and apply events between status snapshots. */
static void card_update(struct dm_state *s, int i)
{
    struct dm_node *n = &s->node[i];
    struct sb b = {0}, wb = {0};
    for (int k = 0; k < s->nfigs; k++) {
        if (!s->figs[k].card[0])
            continue;
        char v[32];
        if (!strcmp(s->figs[k].key, "commit"))
            snprintf(v, sizeof v, "%llu", (unsigned long long)n->commit);
        else if (!strcmp(s->figs[k].key, "applied"))
            snprintf(v, sizeof v, "%llu", (unsigned long long)n->applied);
        else
            str_copy(v, n->figval[k][0] ? n->figval[k] : "-", sizeof v);
        sb_printf(&b, "%s%s%s", b.len ? " " : "", s->figs[k].card, v);
        sb_printf(&wb, "%s%s %s", wb.len ? "  " : "", s->figs[k].label[0] ? s->figs[k].label : s->figs[k].key, v);
    }
    str_copy(n->card, b.s ? b.s : "", sizeof n->card);
    str_copy(n->card_wide, wb.s ? wb.s : "", sizeof n->card_wide);
    sb_free(&b);
    sb_free(&wb);
}

/* The one fold of a node's state (event_view_fold), into the node's fields. */
static void node_fold_state(struct dm_state *s, int i, const struct ev_state *st, bool is_status)
{
    struct dm_node *n = &s->node[i];
    struct ev_view v;
    memset(&v, 0, sizeof v);
    str_copy(v.role, n->role, sizeof v.role);
    v.has_term = n->has_term;
    v.term = n->term;
    v.has_epoch = n->has_epoch;
    v.epoch = n->epoch;
    str_copy(v.leader, n->leader, sizeof v.leader);
    event_view_fold(&v, st, is_status);
    str_copy(n->role, v.role, sizeof n->role);
    n->has_term = v.has_term;
    n->term = v.term;
    n->has_epoch = v.has_epoch;
    n->epoch = v.epoch;
    str_copy(n->leader, v.leader, sizeof n->leader);
    n->rclass = class_of(s, n->role);
    if (n->rclass == RC_LEADER && !n->leader[0])
        str_copy(n->leader, n->id, CL_IDLEN); /* a leader leads itself */
}

FOLD(fold_state)
{
    (void)pos;
    (void)t;
    if (i < 0)
        return;
    node_fold_state(s, i, &e->state, false);
    if (s->node[i].life != DM_PAUSED)
        s->node[i].life = DM_UP;
}

FOLD(fold_status)
{
    (void)pos;
    (void)t;
    const json_t *st = e->status;
    if (i < 0 || !st)
        return;
    struct dm_node *n = &s->node[i];
    node_fold_state(s, i, &e->state, true);
    juint(st, "commit", &n->commit);
    juint(st, "applied", &n->applied);
    const char *state = jstr(st, "state");
    if (state) {
        if (!strcmp(state, "up"))
            n->life = DM_UP;
        else if (!strcmp(state, "paused"))
            n->life = DM_PAUSED;
        else if (!strcmp(state, "down") || !strcmp(state, "crashed"))
            n->life = DM_DOWN;
    }
    uint64_t v;
    if (juint(st, "lamport", &v))
        n->lamport = v;
    if (juint(st, "clock_us", &v)) {
        n->clock_us = v;
        n->has_clock = true;
    }
    int64_t skew;
    if (jint(st, "skew_us", &skew))
        n->skew_us = skew;
    if (jint(st, "offset_us", &skew)) {
        n->offset_us = skew;
        n->has_offset = true;
    }
    if (jint(st, "drift_ppm", &skew))
        n->drift_ppm = skew;
    if (json_is_boolean(json_object_get(st, "ntp")))
        n->ntp = json_is_true(json_object_get(st, "ntp"));
    const json_t *tt = json_object_get(st, "truetime");
    uint64_t te, tl, teps;
    if (json_is_object(tt) && juint(tt, "earliest", &te) && juint(tt, "latest", &tl) && juint(tt, "epsilon_us", &teps) &&
        te <= tl) {
        n->tt_earliest = te;
        n->tt_latest = tl;
        n->tt_eps_us = teps;
        n->has_tt = true;
    }
    json_t *hlc = json_object_get(st, "hlc");
    if (json_is_array(hlc) && json_array_size(hlc) == 2 && json_is_integer(json_array_get(hlc, 0)) &&
        json_is_integer(json_array_get(hlc, 1)) && json_integer_value(json_array_get(hlc, 0)) > 0 &&
        json_integer_value(json_array_get(hlc, 1)) >= 0) {
        n->hlc_l = (uint64_t)json_integer_value(json_array_get(hlc, 0));
        n->hlc_c = (uint64_t)json_integer_value(json_array_get(hlc, 1));
        n->has_hlc = true;
    }
    json_t *vc = json_object_get(st, "vc");
    if (json_is_array(vc)) {
        n->nvc = 0;
        for (size_t k = 0; k < json_array_size(vc) && k < CL_MAXNODES; k++) {
            json_t *x = json_array_get(vc, k);
            n->vc[n->nvc++] = json_is_integer(x) && json_integer_value(x) > 0
                                  ? (uint64_t)json_integer_value(x) : 0;
        }
    }
    for (int k = 0; k < s->nfigs; k++) {
        const json_t *f = event_path(st, s->figs[k].key);
        if (f)
            jtext(f, n->figval[k], sizeof n->figval[k]);
    }
    card_update(s, i);
    json_t *log = json_object_get(st, "log");
    if (json_is_array(log)) {
        node_log_clear(n);
        size_t from = json_array_size(log) > DM_MAX_LOG ? json_array_size(log) - DM_MAX_LOG : 0;
        for (size_t k = from; k < json_array_size(log); k++) {
            json_t *en = json_array_get(log, k);
            uint64_t index, term;
            if (!juint(en, "index", &index) || !juint(en, "term", &term))
                continue;
            char *cmd = jdup(en, "cmd");
            log_put(n, index, term, cmd);
            free(cmd);
        }
    }
}

FOLD(fold_commit)
{
    (void)pos;
    (void)t;
    if (i >= 0 && e->log.has_index && e->log.index > s->node[i].commit) {
        s->node[i].commit = e->log.index;
        card_update(s, i);
    }
}

FOLD(fold_apply)
{
    (void)pos;
    (void)t;
    if (i >= 0 && e->log.has_index && e->log.index > s->node[i].applied) {
        s->node[i].applied = e->log.index;
        card_update(s, i);
    }
}

/* ---- folding: faults ---------------------------------------------------------------- */

static void fold_partition(struct dm_state *s, const json_t *groups)
{
    if (!json_is_array(groups) || json_array_size(groups) < 2)
        return;
    int ng = (int)json_array_size(groups);
    for (int i = 0; i < s->n; i++)
        s->group_of[i] = ng - 1; /* unnamed nodes join the last group (DESIGN §7) */
    for (int g = 0; g < ng && g < CL_MAXNODES; g++) {
        json_t *grp = json_array_get(groups, (size_t)g);
        for (size_t k = 0; k < json_array_size(grp); k++) {
            int i = node_for(s, json_string_value(json_array_get(grp, k)));
            if (i >= 0)
                s->group_of[i] = g;
        }
    }
    s->ngroups = ng > CL_MAXNODES ? CL_MAXNODES : ng;
}

enum link_field { LINK_DELAY, LINK_LOSS, LINK_BANDWIDTH, LINK_QUEUE };

static void fold_link_field(struct dm_state *s, const struct ev_fault *f, enum link_field which, uint64_t queued)
{
    int src = -1, dst = -1;
    if (f->src && (src = dm_node_index(s, f->src)) < 0)
        return;
    if (f->dst && (dst = dm_node_index(s, f->dst)) < 0)
        return;
    struct dm_link *l = NULL;
    for (int k = 0; k < s->nlinks; k++)
        if (s->links[k].src == src && s->links[k].dst == dst)
            l = &s->links[k];
    if (!l) {
        if (s->nlinks == DM_MAX_LINKS)
            return;
        l = &s->links[s->nlinks++];
        memset(l, 0, sizeof *l);
        l->src = src;
        l->dst = dst;
    }
    if (which == LINK_DELAY)
        l->delay_ms = f->has_ms ? f->ms : 0;
    else if (which == LINK_LOSS)
        l->loss_pct = f->has_pct ? f->pct : 0;
    else if (which == LINK_BANDWIDTH)
        l->kbps = f->has_kbps ? f->kbps : 0;
    else
        l->queued = queued;
    if (l->delay_ms == 0 && l->loss_pct <= 0 && l->kbps == 0 && l->queued == 0)
        *l = s->links[--s->nlinks];
}

/* A `queue` event (runtime or simulator): how many messages wait on the link node -> "to". */
static void fold_queue(struct dm_state *s, const struct event *e)
{
    const json_t *to = json_object_get(e->json, "to"), *msgs = json_object_get(e->json, "msgs");
    if (!e->node || !json_is_string(to) || !json_is_integer(msgs) || json_integer_value(msgs) < 0)
        return;
    struct ev_fault f = {.src = e->node, .dst = json_string_value(to)};
    fold_link_field(s, &f, LINK_QUEUE, (uint64_t)json_integer_value(msgs));
}

static void fold_link(struct dm_state *s, const struct ev_fault *f, bool is_delay)
{
    fold_link_field(s, f, is_delay ? LINK_DELAY : LINK_LOSS, 0);
}

FOLD(fold_fault)
{
    (void)i;
    (void)pos;
    (void)t;
    const struct ev_fault *f = &e->fault;
    const char *what = f->what;
    if (!what)
        return;
    int n = node_for(s, f->target);
    if (!strcmp(what, "partition")) {
        fold_partition(s, f->groups);
    } else if (!strcmp(what, "heal")) {
        for (int k = 0; k < CL_MAXNODES; k++)
            s->group_of[k] = 0;
        s->ngroups = 0;
        s->nlinks = 0;
    } else if (!strcmp(what, "bandwidth")) {
        fold_link_field(s, f, LINK_BANDWIDTH, 0);
    } else if (!strcmp(what, "delay")) {
        fold_link(s, f, true);
    } else if (!strcmp(what, "loss")) {
        fold_link(s, f, false);
    } else if (n >= 0 && (!strcmp(what, "crash") || !strcmp(what, "stonith"))) {
        s->node[n].life = DM_DOWN;
    } else if (n >= 0 && (!strcmp(what, "restart") || !strcmp(what, "resume"))) {
        s->node[n].life = DM_UP;
    } else if (n >= 0 && !strcmp(what, "pause")) {
        s->node[n].life = DM_PAUSED;
    } else if (n >= 0 && !strcmp(what, "skew") && f->has_skew_us) {
        s->node[n].skew_us = f->skew_us;
    }
}

/* ---- folding: votes and quorums ----------------------------------------------------- */

static struct dm_election *election_for(struct dm_state *s, uint64_t term, const char *cand)
{
    for (int k = s->nelections - 1; k >= 0; k--) {
        struct dm_election *e = &s->elections[k];
        if (e->term == term && !strcmp(e->candidate, cand))
            return e;
    }
    if (s->nelections == DM_MAX_ELECTIONS) {
        memmove(s->elections, s->elections + 1, (DM_MAX_ELECTIONS - 1) * sizeof *s->elections);
        s->nelections--;
    }
    struct dm_election *e = &s->elections[s->nelections++];
    memset(e, 0, sizeof *e);
    e->term = term;
    str_copy(e->candidate, cand, sizeof e->candidate);
    return e;
}

FOLD(fold_vote)
{
    (void)i;
    (void)pos;
    (void)t;
    const struct ev_vote *vt = &e->vote;
    const char *node = e->node, *cand = vt->candidate;
    if (!vt->what || !node)
        return;
    if (!cand)
        cand = node;
    if (strlen(cand) >= CL_IDLEN)
        return;
    struct dm_election *el = election_for(s, vt->has_term ? vt->term : 0, cand);
    int granted = !strcmp(vt->what, "grant");
    bool own = !strcmp(vt->what, "request") && !strcmp(node, cand);
    if (own) /* a candidate votes for itself: its own vote counts towards the majority */
        granted = 1;
    else if (!strcmp(vt->what, "request"))
        return;
    if (!granted && strcmp(vt->what, "deny"))
        return;
    struct dm_vote *v = NULL;
    for (int k = 0; k < el->nvotes; k++)
        if (!strcmp(el->votes[k].voter, node))
            v = &el->votes[k];
    if (!v) {
        if (el->nvotes == CL_MAXNODES)
            return;
        v = &el->votes[el->nvotes++];
    }
    memset(v, 0, sizeof *v);
    str_copy(v->voter, node, sizeof v->voter);
    v->granted = granted;
    const char *why = own ? "own vote" : vt->reason;
    str_copy(v->reason, why ? why : "", sizeof v->reason);
}

static uint32_t node_set(struct dm_state *s, const json_t *list)
{
    uint32_t set = 0;
    for (size_t k = 0; k < json_array_size(list); k++) {
        int i = dm_node_index(s, json_string_value(json_array_get(list, k)));
        if (i >= 0 && i < 32) /* quorums come from modes of at most CL_MAXN nodes */
            set |= 1u << i;
    }
    return set;
}

FOLD(fold_quorum)
{
    (void)i;
    (void)pos;
    if (s->nquorums == DM_MAX_QUORUMS) {
        memmove(s->quorums, s->quorums + 1, (DM_MAX_QUORUMS - 1) * sizeof *s->quorums);
        s->nquorums--;
    }
    const struct ev_quorum *qe = &e->quorum;
    struct dm_quorum *q = &s->quorums[s->nquorums++];
    memset(q, 0, sizeof *q);
    str_copy(q->op, qe->op ? qe->op : "?", sizeof q->op);
    str_copy(q->key, qe->key ? qe->key : "", sizeof q->key);
    q->need = !qe->has_need || qe->need < 0 || qe->need > CL_MAXNODES ? 0 : (int)qe->need;
    q->acked = node_set(s, qe->acked);
    q->missing = node_set(s, qe->missing);
    q->stale = node_set(s, qe->stale);
    q->t = t;
}

/* ---- folding: the rest -------------------------------------------------------------- */

static void output_push(struct dm_state *s, const char *line)
{
    if (s->nout == DM_MAX_OUTPUT) {
        free(s->output[s->out_head]);
        s->out_head = (s->out_head + 1) % DM_MAX_OUTPUT;
        s->nout--;
    }
    s->output[(s->out_head + s->nout) % DM_MAX_OUTPUT] = xstrndup(line, strnlen(line, 4 * DM_MAX_TEXT));
    s->nout++;
}

const char *dm_output_at(const struct dm_state *s, size_t i)
{
    return i < s->nout ? s->output[(s->out_head + i) % DM_MAX_OUTPUT] : NULL;
}

static void alert_push(struct dm_state *s, uint64_t pos, const json_t *ev)
{
    if (s->nalerts == DM_MAX_ALERTS) {
        free(s->alerts[0].text);
        memmove(s->alerts, s->alerts + 1, (DM_MAX_ALERTS - 1) * sizeof *s->alerts);
        s->nalerts--;
    }
    struct sb b = {0};
    dm_event_line(ev, &b);
    if (b.len > 4 * DM_MAX_TEXT)
        b.s[4 * DM_MAX_TEXT] = 0;
    s->alerts[s->nalerts].pos = pos;
    s->alerts[s->nalerts].text = b.s;
    s->nalerts++;
}

/* The mode's face from the cluster event: role classes and card figures (defaults without). */
static void cluster_face(struct dm_state *s, const struct ev_cluster *c)
{
    s->nroles = 0;
    const char *role;
    json_t *cls;
    json_object_foreach((json_t *)c->roles, role, cls) {
        if (s->nroles == DM_MAX_ROLES || strlen(role) >= sizeof s->roles[0].role)
            continue;
        str_copy(s->roles[s->nroles].role, role, sizeof s->roles[0].role);
        s->roles[s->nroles].cls = role_class_of(json_string_value(cls));
        s->nroles++;
    }
    s->nfigs = 0;
    if (!c->figures) {
        static const struct dm_figure def[] = {{"commit", "c", "commit", false}, {"applied", "a", "applied", false}};
        memcpy(s->figs, def, sizeof def);
        s->nfigs = (int)CL_ARRAY_LEN(def);
        return;
    }
    for (size_t k = 0; k < json_array_size(c->figures) && s->nfigs < DM_MAX_FIGS; k++) {
        const json_t *f = json_array_get(c->figures, k);
        const char *key = jstr(f, "key"), *card = jstr(f, "card"), *label = jstr(f, "label");
        if (!key || strlen(key) >= sizeof s->figs[0].key || (card && strlen(card) >= sizeof s->figs[0].card))
            continue;
        str_copy(s->figs[s->nfigs].key, key, sizeof s->figs[0].key);
        str_copy(s->figs[s->nfigs].card, card ? card : "", sizeof s->figs[0].card);
        str_copy(s->figs[s->nfigs].label, label ? label : key, sizeof s->figs[0].label);
        s->figs[s->nfigs].grid = json_is_true(json_object_get(f, "grid"));
        s->nfigs++;
    }
}

FOLD(fold_cluster)
{
    (void)i;
    (void)pos;
    (void)t;
    const struct ev_cluster *c = &e->cluster;
    const json_t *nodes = c->nodes;
    const char *mode = c->mode;
    if (c->stopped) {
        s->running = false;
        for (int k = 0; k < s->n; k++)
            s->node[k].life = DM_DOWN;
        return;
    }
    /* The same cluster announced again (a lab re-sends it for late viewers): keep state. */
    bool same = s->running && mode && !strcmp(s->mode, mode) && json_is_array(nodes) &&
                (int)json_array_size(nodes) == s->n;
    for (int k = 0; same && k < s->n; k++) {
        const char *id = json_string_value(json_array_get(nodes, (size_t)k));
        same = id && !strcmp(id, s->node[k].id);
    }
    if (same)
        return;
    for (int k = 0; k < CL_MAXNODES; k++)
        node_log_clear(&s->node[k]);
    memset(s->node, 0, sizeof s->node);
    memset(s->group_of, 0, sizeof s->group_of);
    s->n = 0;
    s->ngroups = 0;
    s->nlinks = 0;
    s->nelections = 0;
    s->nquorums = 0;
    s->running = true;
    str_copy(s->mode, mode ? mode : "", sizeof s->mode);
    cluster_face(s, c);
    for (size_t k = 0; k < json_array_size(nodes) && s->n < CL_MAXNODES; k++) {
        const char *id = json_string_value(json_array_get(nodes, k));
        if (!id || strlen(id) >= CL_IDLEN || dm_node_index(s, id) >= 0)
            continue;
        str_copy(s->node[s->n].id, id, CL_IDLEN);
        s->node[s->n].life = DM_UP;
        card_update(s, s->n);
        s->n++;
    }
    /* a new cluster runs at its start speed (an option), else 1 */
    s->speed = c->has_speed && c->speed > 0 ? c->speed : 1;
    /* the spreading options, for the theoretical infection curve */
    const char *fo = jstr(c->options, "fanout"), *sty = jstr(c->options, "style");
    s->curve_fanout = fo && atoi(fo) > 0 ? atoi(fo) : 1;
    str_copy(s->curve_style, sty ? sty : "push", sizeof s->curve_style);
    s->curve_rumor[0] = 0;
    s->curve_rounds = 0;
}

FOLD(fold_lesson)
{
    (void)i;
    (void)pos;
    (void)t;
    const json_t *ev = e->json;
    lesson_clear(&s->lesson);
    if (json_is_false(json_object_get(ev, "active")))
        return;
    s->lesson.active = true;
    s->lesson.title = jdup(ev, "title");
    s->lesson.step = jdup(ev, "step");
    s->lesson.text = jdup(ev, "text");
    s->lesson.check = jdup(ev, "check");
    s->lesson.hint = jdup(ev, "hint");
}

FOLD(fold_output)
{
    (void)i;
    (void)pos;
    (void)t;
    const char *text = e->text;
    if (!text)
        return;
    /* one output event may carry several lines */
    const char *p = text;
    for (;;) {
        const char *nl = strchr(p, '\n');
        if (!nl) {
            if (*p || p == text)
                output_push(s, p);
            break;
        }
        char *line = xstrndup(p, (size_t)(nl - p));
        output_push(s, line);
        free(line);
        p = nl + 1;
    }
}

FOLD(fold_speed)
{
    (void)i;
    (void)pos;
    (void)t;
    if (e->factor > 0)
        s->speed = e->factor;
}

typedef void (*fold_fn)(struct dm_state *s, const struct event *e, int i, uint64_t pos, uint64_t t);

/* What each kind of event changes; a kind without a fold only moves time (and may alert). */
static const fold_fn folds[EV_KIND_COUNT] = {
    [EV_SEND] = fold_send,       [EV_RECV] = fold_recv,         [EV_DROP] = fold_drop,
    [EV_STATE] = fold_state,     [EV_STATUS] = fold_status,     [EV_VOTE] = fold_vote,
    [EV_APPEND] = fold_append,   [EV_TRUNCATE] = fold_truncate, [EV_COMMIT] = fold_commit,
    [EV_APPLY] = fold_apply,     [EV_QUORUM] = fold_quorum,     [EV_FAULT] = fold_fault,
    [EV_CLUSTER] = fold_cluster, [EV_OUTPUT] = fold_output,     [EV_LESSON] = fold_lesson,
    [EV_SPEED] = fold_speed,
};

/* Kinds that are about the whole lab, not one node. */
static bool lab_wide(enum ev_kind k)
{
    return k == EV_CLUSTER || k == EV_OUTPUT || k == EV_LESSON || k == EV_OP || k == EV_CLIENT;
}

bool dm_event_is_alert(const json_t *ev)
{
    const char *e = jstr(ev, "ev");
    if (!e)
        return true;
    if (!strcmp(e, "verdict")) { /* a check that holds is good news, not an alert */
        const char *v = jstr(ev, "verdict");
        return !v || (strcmp(v, "holds") && strcmp(v, "hold") && strcmp(v, "linearizable"));
    }
    return !strcmp(e, "invariant") || !strcmp(e, "error") || !strcmp(e, "check");
}

/* A cell's text: a string as it is, anything else as compact JSON; controls are left to the
 * canvas (canvas_text escapes them). */
static void cell_text(const json_t *v, char *out, size_t n)
{
    if (json_is_string(v)) {
        str_copy(out, json_string_value(v), n);
        return;
    }
    char *t = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    str_copy(out, t ? t : "", n);
    free(t);
}

/* A digest's "state" table ({"t","cols","rows","foot","more"}: a mode's internal state of a
 * key, docs/dashboard.md) into a node's watched state. Anything malformed is left out. */
static void fold_wstate(struct dm_wnode *w, const json_t *ev, uint64_t t)
{
    const json_t *stj = json_object_get(ev, "state");
    if (w->has && !json_is_object(stj)) {
        /* a digest without the table (a mode may send it at most so often): the entries stay,
         * the value, context and cause are this digest's */
        w->t = t;
        w->value[0] = 0;
        const json_t *v = json_object_get(ev, "value");
        if (v)
            cell_text(v, w->value, sizeof w->value);
        str_copy(w->ctx, jstr(ev, "ctx") ? jstr(ev, "ctx") : "", sizeof w->ctx);
        str_copy(w->why, jstr(ev, "why") ? jstr(ev, "why") : "", sizeof w->why);
        return;
    }
    char about[sizeof w->about], type[sizeof w->type];
    str_copy(about, w->has ? w->about : "", sizeof about); /* a mode may say it once per key */
    str_copy(type, w->type, sizeof type);
    memset(w, 0, sizeof *w);
    w->has = true;
    w->t = t;
    const json_t *st = json_object_get(ev, "state");
    const char *ty = jstr(st, "t") ? jstr(st, "t") : jstr(ev, "type");
    str_copy(w->type, ty ? ty : "", sizeof w->type);
    const json_t *v = json_object_get(ev, "value");
    if (v)
        cell_text(v, w->value, sizeof w->value);
    str_copy(w->ctx, jstr(ev, "ctx") ? jstr(ev, "ctx") : "", sizeof w->ctx);
    str_copy(w->why, jstr(ev, "why") ? jstr(ev, "why") : "", sizeof w->why);
    str_copy(w->about, jstr(st, "about") ? jstr(st, "about") : !strcmp(type, w->type) ? about : "", sizeof w->about);
    size_t i;
    json_t *x;
    json_array_foreach(json_object_get(st, "cols"), i, x)
        if (w->ncols < DM_WCELLS)
            cell_text(x, w->cols[w->ncols++], sizeof w->cols[0]);
    for (int f = 0; f < 2; f++)
        json_array_foreach(json_object_get(st, f ? "foot" : "rows"), i, x) {
            if (!json_is_array(x) || !json_array_size(x))
                continue;
            if (w->nrows >= DM_WROWS) {
                w->more++;
                continue;
            }
            struct dm_wrow *r = &w->rows[w->nrows++];
            r->foot = f;
            cell_text(json_array_get(x, 0), r->key, sizeof r->key);
            for (size_t j = 1; j < json_array_size(x) && j <= DM_WCELLS; j++)
                cell_text(json_array_get(x, j), r->cell[j - 1], sizeof r->cell[0]);
        }
    const json_t *more = json_object_get(st, "more");
    if (json_is_integer(more) && json_integer_value(more) > 0)
        w->more += json_integer_value(more) > 1000000 ? 1000000 : (int)json_integer_value(more);
}

/* A digest of the watched key from node i: its card line and its state table. */
static void fold_watched(struct dm_state *s, int i, const json_t *ev, uint64_t t)
{
    if (i < CL_MAXN)
        fold_wstate(&s->wst[i], ev, t);
    /* "cart [\"milk\"] n1:2,n3:1": the value when the digest carries it, and the context */
    const json_t *v = json_object_get(ev, "value");
    char *vt = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    const char *ctx = jstr(ev, "ctx");
    struct sb b = {0};
    sb_printf(&b, "%s %s %s", s->watch_key, vt ? vt : "(large)", ctx ? ctx : "");
    free(vt);
    str_copy(s->node[i].watch, b.s, sizeof s->node[i].watch);
    sb_free(&b);
}

/* Remembers the newest moment of convergence of key (a `converged` event from the lab). */
static void conv_note(struct dm_state *s, const char *key, uint64_t t, const json_t *ev)
{
    int k = 0;
    while (k < s->nconv && strcmp(s->conv[k].key, key))
        k++;
    if (k == s->nconv) {
        if (s->nconv == DM_WCONV) { /* the oldest goes */
            memmove(s->conv, s->conv + 1, (DM_WCONV - 1) * sizeof *s->conv);
            s->nconv--;
        }
        k = s->nconv++;
    }
    str_copy(s->conv[k].key, key, sizeof s->conv[k].key);
    s->conv[k].t = t;
    const json_t *a = json_object_get(ev, "after_ms");
    s->conv[k].after_ms = json_is_integer(a) ? json_integer_value(a) : -1;
}

static void fold(struct dm_state *s, json_t *ev, uint64_t pos)
{
    s->events++;
    struct event e;
    char err[128];
    if (event_decode(ev, &e, err, sizeof err) < 0) {
        s->bad_events++;
        return;
    }
    if (e.has_t && e.t > s->t_last)
        s->t_last = e.t;
    int i = lab_wide(e.kind) ? -1 : node_for(s, e.node);
    if (folds[e.kind])
        folds[e.kind](s, &e, i, pos, s->t_last);
    else if (e.kind == EV_QUEUE)
        fold_queue(s, &e);
    if (dm_event_is_alert(ev))
        alert_push(s, pos, ev);
    const char *en = jstr(ev, "ev");
    const char *rid = i >= 0 && en ? jstr(ev, "rumor") : NULL;
    if (rid && !strcmp(en, "rumor")) { /* a new rumor: its origin is round 0 */
        str_copy(s->curve_rumor, rid, sizeof s->curve_rumor);
        memset(s->curve_new, 0, sizeof s->curve_new);
        s->curve_new[0] = 1;
        s->curve_rounds = 1;
    } else if (rid && !strcmp(en, "infect") && !strcmp(rid, s->curve_rumor)) {
        uint64_t r = 0;
        if (juint(ev, "round", &r) && r < DM_CURVE_ROUNDS) {
            s->curve_new[r]++;
            if ((int)r + 1 > s->curve_rounds)
                s->curve_rounds = (int)r + 1;
        }
    }
    if (en && !strcmp(en, "watch") && e.node && !strcmp(e.node, "lab")) {
        const char *k = jstr(ev, "key");
        str_copy(s->watch_key, k ? k : "", sizeof s->watch_key);
        for (int j = 0; j < CL_MAXNODES; j++)
            s->node[j].watch[0] = 0;
        memset(s->wst, 0, sizeof s->wst);
        /* each node's newest digest of the key before the watch began (the lab adds them) */
        size_t di;
        json_t *d;
        json_array_foreach(json_object_get(ev, "digests"), di, d) {
            const char *dk = jstr(d, "key");
            int j = node_for(s, jstr(d, "node"));
            if (j >= 0 && dk && s->watch_key[0] && !strcmp(dk, s->watch_key))
                fold_watched(s, j, d, json_is_integer(json_object_get(d, "t")) ? (uint64_t)json_integer_value(json_object_get(d, "t")) : s->t_last);
        }
    } else if (en && !strcmp(en, "digest") && i >= 0 && s->watch_key[0] && jstr(ev, "key") &&
               !strcmp(jstr(ev, "key"), s->watch_key)) {
        fold_watched(s, i, ev, e.has_t ? e.t : s->t_last);
    }
    if (dm_event_is_mark(ev)) {
        s->nconverged++;
        s->converged_t = e.has_t ? e.t : s->t_last;
        const char *k = jstr(ev, "key");
        str_copy(s->converged_key, k ? k : "", sizeof s->converged_key);
        conv_note(s, k ? k : "", s->converged_t, ev);
    }
}

bool dm_event_is_mark(const json_t *ev)
{
    const char *e = jstr(ev, "ev"), *node = jstr(ev, "node");
    return e && node && !strcmp(e, "converged") && !strcmp(node, "lab");
}

/* ---- the recorder and time travel --------------------------------------------------- */

struct dm *dm_new(size_t cap)
{
    struct dm *m = xcalloc(1, sizeof *m);
    m->cap = cap ? cap : DM_DEFAULT_CAP;
    if (m->cap < 2 * DM_CKPT_EVERY)
        m->cap = 2 * DM_CKPT_EVERY;
    m->live = state_new();
    m->capck = 8;
    m->ck = xcalloc(m->capck, sizeof *m->ck);
    m->ck[0].pos = 0;
    m->ck[0].st = state_new();
    m->nck = 1;
    return m;
}

void dm_destroy(struct dm **pm)
{
    struct dm *m = pm ? *pm : NULL;
    if (!m)
        return;
    state_free(m->live);
    state_free(m->view);
    for (size_t i = 0; i < m->nev; i++)
        json_decref(m->ev[i]);
    free(m->ev);
    for (size_t i = 0; i < m->nck; i++)
        state_free(m->ck[i].st);
    free(m->ck);
    free(m);
    *pm = NULL;
}

uint64_t dm_count(const struct dm *m)
{
    return m->first + m->nev;
}

uint64_t dm_first_pos(const struct dm *m)
{
    return m->first;
}

json_t *dm_event_at(const struct dm *m, uint64_t pos)
{
    if (pos < m->first || pos >= m->first + m->nev)
        return NULL;
    return m->ev[pos - m->first];
}

/* Lets the oldest checkpoint chunk go when the recording is full. */
static void evict(struct dm *m)
{
    if (m->nev < m->cap || m->nck < 2)
        return;
    size_t drop = (size_t)(m->ck[1].pos - m->first);
    for (size_t i = 0; i < drop; i++)
        json_decref(m->ev[i]);
    memmove(m->ev, m->ev + drop, (m->nev - drop) * sizeof *m->ev);
    m->nev -= drop;
    m->first += drop;
    state_free(m->ck[0].st);
    memmove(m->ck, m->ck + 1, (m->nck - 1) * sizeof *m->ck);
    m->nck--;
    if (m->view && m->cursor < m->first)
        dm_seek(m, m->first);
}

int dm_feed(struct dm *m, json_t *ev)
{
    if (!ev)
        return CL_EINVAL;
    evict(m);
    if (m->nev == m->cap) /* only when one chunk exceeds the cap: refuse to record */
        return CL_ENOSPACE;
    uint64_t pos = dm_count(m);
    if (m->nev % 1024 == 0)
        m->ev = xrealloc(m->ev, (m->nev + 1024) * sizeof *m->ev);
    json_incref(ev);
    m->ev[m->nev++] = ev;
    fold(m->live, ev, pos);
    if (dm_count(m) % DM_CKPT_EVERY == 0) {
        if (m->nck == m->capck) {
            m->capck *= 2;
            m->ck = xrealloc(m->ck, m->capck * sizeof *m->ck);
        }
        m->ck[m->nck].pos = dm_count(m);
        m->ck[m->nck].st = state_copy(m->live);
        m->nck++;
    }
    if (!m->view)
        m->cursor = dm_count(m);
    return json_is_object(ev) && json_object_get(ev, "ev") ? 0 : CL_EINVAL;
}

const struct dm_state *dm_view(const struct dm *m)
{
    return m->view ? m->view : m->live;
}

const struct dm_state *dm_live(const struct dm *m)
{
    return m->live;
}

bool dm_frozen(const struct dm *m)
{
    return m->view != NULL;
}

uint64_t dm_cursor(const struct dm *m)
{
    return m->view ? m->cursor : dm_count(m);
}

void dm_freeze(struct dm *m)
{
    if (m->view)
        return;
    m->view = state_copy(m->live);
    m->cursor = dm_count(m);
}

void dm_thaw(struct dm *m)
{
    state_free(m->view);
    m->view = NULL;
    m->cursor = dm_count(m);
}

void dm_seek(struct dm *m, uint64_t pos)
{
    if (pos < m->first)
        pos = m->first;
    if (pos > dm_count(m))
        pos = dm_count(m);
    if (!m->view)
        dm_freeze(m);
    if (pos == m->cursor)
        return;
    uint64_t from = m->cursor;
    /* Forward by less than a checkpoint interval: fold on. Otherwise start over from the
     * checkpoint at or before pos. */
    if (pos < m->cursor || pos - m->cursor > DM_CKPT_EVERY) {
        size_t k = m->nck - 1;
        while (k > 0 && m->ck[k].pos > pos)
            k--;
        if (!(pos > m->cursor && m->ck[k].pos <= m->cursor)) {
            state_free(m->view);
            m->view = state_copy(m->ck[k].st);
            from = m->ck[k].pos;
        }
    }
    for (uint64_t p = from; p < pos; p++)
        fold(m->view, m->ev[p - m->first], p);
    m->cursor = pos;
}

/* ---- event lines and filter --------------------------------------------------------- */

static void add_field(struct sb *b, const json_t *ev, const char *k, const char *label)
{
    json_t *v = json_object_get(ev, k);
    if (!v || json_is_null(v))
        return;
    char buf[64];
    jtext(v, buf, sizeof buf);
    if (!buf[0]) {
        char *s = json_dumps(v, JSON_COMPACT);
        if (!s)
            return;
        sb_printf(b, " %s=", label);
        sb_add_escaped(b, s, strlen(s) > 120 ? 120 : strlen(s));
        free(s);
        return;
    }
    sb_printf(b, " %s=", label);
    sb_add_escaped(b, buf, strlen(buf));
}

static void add_str(struct sb *b, const char *s)
{
    if (s)
        sb_add_escaped(b, s, strlen(s));
}

void dm_event_line(const json_t *ev, struct sb *b)
{
    if (!b->s)
        sb_addn(b, "", 0);
    if (!json_is_object(ev)) {
        sb_add(b, "(not an event)");
        return;
    }
    uint64_t t = 0;
    juint(ev, "t", &t);
    sb_printf(b, "%4llu.%03llus ", (unsigned long long)(t / 1000000),
              (unsigned long long)(t / 1000 % 1000));
    const char *e = jstr(ev, "ev"), *node = jstr(ev, "node");
    if (node) {
        add_str(b, node);
        sb_addc(b, ' ');
    }
    if (!e) {
        sb_add(b, "(event without \"ev\")");
        return;
    }
    add_str(b, e);
    if (!strcmp(e, "send") || !strcmp(e, "recv") || !strcmp(e, "drop")) {
        const char *peer = jstr(ev, "to");
        sb_add(b, peer ? " ->" : " <-");
        if (!peer)
            peer = jstr(ev, "from");
        add_str(b, peer ? peer : "?");
        sb_addc(b, ' ');
        add_str(b, msg_type_of(ev));
        add_field(b, ev, "msg_id", "id");
        add_field(b, ev, "why", "why");
    } else if (!strcmp(e, "output")) {
        sb_addc(b, ' ');
        add_str(b, jstr(ev, "text"));
    } else if (!strcmp(e, "status")) {
        const json_t *st = json_object_get(ev, "status");
        add_field(b, st, "role", "role");
        add_field(b, st, "term", "term");
        add_field(b, st, "commit", "commit");
        add_field(b, st, "state", "state");
    } else if (!strcmp(e, "op")) {
        const json_t *op = json_object_get(ev, "op");
        add_field(b, op, "process", "p");
        add_field(b, op, "type", "type");
        add_field(b, op, "f", "f");
        add_field(b, op, "key", "key");
        add_field(b, op, "value", "value");
        add_field(b, op, "node", "node");
    } else {
        static const char *const skip[] = {"t", "ev", "node", "seq", "inc", "body", NULL};
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)ev, k, v) {
            bool skipped = false;
            for (int j = 0; skip[j]; j++)
                if (!strcmp(k, skip[j]))
                    skipped = true;
            if (!skipped)
                add_field(b, ev, k, k);
        }
    }
}

static bool contains_nocase(const char *hay, const char *needle, size_t n)
{
    for (; *hay; hay++)
        if (!strncasecmp(hay, needle, n))
            return true;
    return n == 0;
}

bool dm_event_matches(const json_t *ev, const char *filter)
{
    if (!filter || !*filter)
        return true;
    struct sb line = {0};
    bool ok = true;
    const char *p = filter;
    while (ok && *p) {
        while (*p == ' ')
            p++;
        size_t n = strcspn(p, " ");
        if (!n)
            break;
        if (n > 3 && !strncmp(p, "ev=", 3)) {
            const char *e = jstr(ev, "ev");
            ok = e && strlen(e) == n - 3 && !strncmp(e, p + 3, n - 3);
        } else {
            if (!line.s)
                dm_event_line(ev, &line);
            ok = contains_nocase(line.s, p, n);
        }
        p += n;
    }
    sb_free(&line);
    return ok;
}
