/* mode — option parsing, dispatch and lookup shared by every mode. See mode.h. */
#include "mode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *opts_get(const struct opts *o, const char *key, const char *def)
{
    for (int i = 0; o && i < o->n; i++)
        if (!strcmp(o->key[i], key))
            return o->val[i];
    return def;
}

long opts_get_int(const struct opts *o, const char *key, long def)
{
    const char *v = opts_get(o, key, NULL);
    int64_t x;
    if (!v || parse_i64(v, &x) < 0)
        return def;
    return (long)x;
}

uint64_t opts_get_duration(const struct opts *o, const char *key, uint64_t def_us)
{
    const char *v = opts_get(o, key, NULL);
    uint64_t x;
    if (!v || parse_duration_us(v, &x) < 0)
        return def_us;
    return x;
}

void opts_set(struct opts *o, const char *key, const char *val)
{
    for (int i = 0; i < o->n; i++) {
        if (!strcmp(o->key[i], key)) {
            free(o->val[i]);
            o->val[i] = xstrdup(val);
            return;
        }
    }
    if (o->n >= (int)CL_ARRAY_LEN(o->key))
        return;
    o->key[o->n] = xstrdup(key);
    o->val[o->n] = xstrdup(val);
    o->n++;
}

void opts_free(struct opts *o)
{
    for (int i = 0; i < o->n; i++) {
        free(o->key[i]);
        free(o->val[i]);
    }
    o->n = 0;
}

void opts_copy(struct opts *dst, const struct opts *src)
{
    opts_free(dst);
    for (int i = 0; i < src->n; i++)
        opts_set(dst, src->key[i], src->val[i]);
}

int mode_max_nodes(const struct mode *m)
{
    int n = m && m->max_nodes > 0 ? m->max_nodes : CL_MAXN;
    return n > CL_MAXNODES ? CL_MAXNODES : n;
}

int mode_sim_max_nodes(const struct mode *m)
{
    if (!m || m->sim_max_nodes <= 0)
        return mode_max_nodes(m);
    return m->sim_max_nodes > CL_SIM_MAXNODES ? CL_SIM_MAXNODES : m->sim_max_nodes;
}

const struct mode_wait *mode_find_wait(const struct mode *m, const char *name)
{
    for (const struct mode_wait *w = m ? m->waits : NULL; w && w->name; w++)
        if (!strcmp(w->name, name))
            return w;
    return NULL;
}

const struct mode *mode_find(const char *name)
{
    for (int i = 0; mode_table[i]; i++)
        if (!strcmp(mode_table[i]->name, name))
            return mode_table[i];
    return NULL;
}

static const char *const linkv_client_types[] = {"read", "write", "cas", "delete", NULL};

static const char *const *client_types(const struct mode *m)
{
    return m->client_types ? m->client_types : linkv_client_types;
}

int mode_client_type(const struct mode *m, const char *type)
{
    const char *const *t = client_types(m);
    for (int i = 0; t[i]; i++)
        if (!strcmp(type, t[i]))
            return 1;
    return 0;
}

const char *mode_client_types_text(const struct mode *m)
{
    static char buf[256];
    const char *const *t = client_types(m);
    size_t n = 0;
    buf[0] = 0;
    for (int i = 0; t[i] && n < sizeof buf; i++)
        n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%s", i ? ", " : "", t[i]);
    return buf;
}

/* ---- the face ------------------------------------------------------------------------------ */

enum role_class mode_role_class(const struct mode *m, const char *role)
{
    if (!role)
        return RC_UNKNOWN;
    for (const struct mode_role *r = m ? m->roles : NULL; r && r->role; r++)
        if (!strcmp(r->role, role))
            return r->cls;
    return role_class_of(role);
}

bool mode_has_class(const struct mode *m, enum role_class c)
{
    for (const struct mode_role *r = m ? m->roles : NULL; r && r->role; r++)
        if (r->cls == c)
            return true;
    return false;
}

json_t *mode_face_json(const struct mode *m)
{
    json_t *roles = json_object(), *figs = json_array();
    for (const struct mode_role *r = m->roles; r && r->role; r++)
        json_object_set_new(roles, r->role, json_string(role_class_name(r->cls)));
    for (const struct mode_figure *f = m->figures; f && f->key; f++) {
        json_t *o = json_pack("{s:s,s:s}", "key", f->key, "label", f->label ? f->label : f->key);
        if (f->card)
            json_object_set_new(o, "card", json_string(f->card));
        if (m->grid_figure && !strcmp(m->grid_figure, f->key))
            json_object_set_new(o, "grid", json_true());
        json_array_append_new(figs, o);
    }
    return json_pack("{s:s,s:o,s:o}", "workload", m->workload ? m->workload : "", "roles", roles,
                     "figures", figs);
}

int mode_replicas(const struct mode *m, const struct opts *o, int n, const char *key, int out[CL_MAXNODES])
{
    if (n > CL_MAXNODES)
        n = CL_MAXNODES;
    if (m && m->replicas) {
        if (n > CL_MAXN) /* a mode with a replicas face keeps per-node tables: at most CL_MAXN */
            n = CL_MAXN;
        int k = m->replicas(o, n, key, out);
        return k < 0 ? 0 : k > n ? n : k;
    }
    for (int i = 0; i < n; i++)
        out[i] = i;
    return n;
}

/* Appends each word of the '|'-list words to b unless b already has it. */
static void add_words(struct sb *b, const char *words)
{
    for (const char *p = words; p && *p;) {
        const char *bar = strchr(p, '|');
        size_t n = bar ? (size_t)(bar - p) : strlen(p);
        int have = 0;
        for (const char *q = b->s; q && *q && !have;) {
            const char *qb = strchr(q, '|');
            size_t qn = qb ? (size_t)(qb - q) : strlen(q);
            have = qn == n && !strncmp(q, p, n);
            q = qb ? qb + 1 : NULL;
        }
        if (!have && n) {
            if (b->len)
                sb_addc(b, '|');
            sb_addn(b, p, n);
        }
        p = bar ? bar + 1 : NULL;
    }
}

const char *mode_names(void)
{
    static struct sb b;
    if (!b.s) {
        sb_addn(&b, "", 0);
        for (int i = 0; mode_table[i]; i++)
            add_words(&b, mode_table[i]->name);
    }
    return b.s;
}

const char *mode_event_names(void)
{
    static struct sb b;
    if (!b.s) {
        sb_addn(&b, "", 0);
        add_words(&b, event_kind_names());
        for (int i = 0; mode_table[i]; i++)
            add_words(&b, mode_table[i]->events);
    }
    return b.s;
}

const char *mode_command_names(void)
{
    static struct sb b;
    if (!b.s) {
        sb_addn(&b, "", 0);
        for (int i = 0; mode_table[i]; i++)
            for (const struct mode_command *c = mode_table[i]->commands; c && c->name; c++)
                add_words(&b, c->name);
    }
    return b.s;
}

const char *mode_check_names(void)
{
    static struct sb b;
    if (!b.s) {
        sb_addn(&b, "", 0);
        for (int i = 0; mode_table[i]; i++)
            for (const struct mode_check *c = mode_table[i]->checks; c && c->name; c++)
                add_words(&b, c->name);
    }
    return b.s;
}

const struct mode_check *mode_check_find(const struct mode *m, const char *name)
{
    for (const struct mode_check *c = m && name ? m->checks : NULL; c && c->name; c++)
        if (!strcmp(c->name, name))
            return c;
    return NULL;
}

int mode_dispatch(const struct mode *m, void *st, const char *src, const json_t *body)
{
    const char *type = json_string_value(json_object_get(body, "type"));
    if (!type)
        return CL_ENOENT;
    for (const struct mode_handler *h = m->handlers; h && h->type; h++) {
        if (!strcmp(h->type, type) || !strcmp(h->type, "*")) {
            h->fn(st, src, body);
            return 0;
        }
    }
    return CL_ENOENT;
}

bool mode_listed(const char *list, const char *v)
{
    size_t n = strlen(v);
    const char *p = list;
    while (p && *p) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && !strncmp(p, v, n))
            return 1;
        p = bar ? bar + 1 : NULL;
    }
    return 0;
}

static const struct mode_option generic_options[] = {
    {"seed", OPT_INT, NULL, 0, 2147483647L, "random", "seed for fault shapes, timer jitter and the simulator"},
    {"speed", OPT_ENUM, NULL, 0, 0, "1", "protocol timer scale: 0.1 is ten times slower (0.01..10)"},
    {"sim", OPT_ENUM, "on|off", 0, 0, "off", "run the cluster in the simulator instead of processes"},
    {"fsync", OPT_ENUM, "on|off", 0, 0, "on", "fsync durable state before replying"},
    {"bug", OPT_ENUM, NULL, 0, 0, "none", "disable one protocol rule (see the mode's bug list)"},
    {"timeout", OPT_DURATION, NULL, 10000, 600000000, "2s", "client request timeout in the lab's gateway (10ms..600s)"},
    {"events", OPT_ENUM, "all|state", 0, 0, "all", "all: every send/recv as events; state: only state changes"},
    {"auth", OPT_ENUM, "curve|off", 0, 0, "curve", "peer authentication: curve (keys per run) or off (anyone may pose as a node)"},
    {"peers", OPT_ENUM, "auto|eager|lazy", 0, 0, "auto",
     "peer connections: eager (to every peer at start), lazy (to a peer at the first message to it), auto (lazy above 16 nodes)"},
    {NULL, 0, NULL, 0, 0, NULL, NULL},
};

static const struct mode_option *find_opt(const struct mode_option *t, const char *k)
{
    for (; t && t->name; t++)
        if (!strcmp(t->name, k))
            return t;
    return NULL;
}

static int check_one(const struct mode *m, const struct mode_option *opt, const char *v,
                     char *err, size_t errlen)
{
    if (!strcmp(opt->name, "speed")) {
        double d;
        if (parse_double(v, &d) < 0 || d < 0.01 || d > 10) {
            snprintf(err, errlen, "bad speed=%s: expected a number from 0.01 to 10", v);
            return CL_EINVAL;
        }
        return 0;
    }
    if (!strcmp(opt->name, "bug")) {
        if (!strcmp(v, "none") || (m->bugs && mode_listed(m->bugs, v)))
            return 0;
        snprintf(err, errlen, "unknown bug=%s for mode %s: expected none%s%s", v, m->name,
                 m->bugs ? "|" : "", m->bugs ? m->bugs : "");
        return CL_EINVAL;
    }
    switch (opt->kind) {
    case OPT_ENUM:
        if (!opt->values || mode_listed(opt->values, v))
            return 0;
        snprintf(err, errlen, "bad %s=%s: expected %s=%s", opt->name, v, opt->name, opt->values);
        return CL_EINVAL;
    case OPT_INT: {
        int64_t x;
        if (parse_i64(v, &x) < 0 || x < opt->min || x > opt->max) {
            snprintf(err, errlen, "bad %s=%s: expected a whole number from %ld to %ld", opt->name,
                     v, opt->min, opt->max);
            return CL_EINVAL;
        }
        return 0;
    }
    case OPT_DURATION: {
        uint64_t us;
        if (parse_duration_us(v, &us) < 0) {
            snprintf(err, errlen, "bad %s=%s: expected a duration such as 500ms or 2s", opt->name, v);
            return CL_EINVAL;
        }
        /* min and max (µs) bound a duration when max is set */
        if (opt->max > 0 && (us < (uint64_t)opt->min || us > (uint64_t)opt->max)) {
            snprintf(err, errlen, "bad %s=%s: expected a duration from %ldms to %lds", opt->name, v,
                     opt->min / 1000, opt->max / 1000000);
            return CL_EINVAL;
        }
        return 0;
    }
    }
    return 0;
}

int mode_check_opts(const struct mode *m, const struct opts *o, char *err, size_t errlen)
{
    for (int i = 0; i < o->n; i++) {
        const struct mode_option *opt = find_opt(m->options, o->key[i]);
        if (!opt)
            opt = find_opt(generic_options, o->key[i]);
        if (!opt) {
            /* did you mean? */
            const char *best = NULL;
            int bd = 3;
            for (const struct mode_option *t = m->options; t && t->name; t++) {
                int d = str_distance(o->key[i], t->name);
                if (d < bd) { bd = d; best = t->name; }
            }
            for (const struct mode_option *t = generic_options; t->name; t++) {
                int d = str_distance(o->key[i], t->name);
                if (d < bd) { bd = d; best = t->name; }
            }
            if (best)
                snprintf(err, errlen, "unknown option %s for mode %s (did you mean %s?)", o->key[i],
                         m->name, best);
            else
                snprintf(err, errlen, "unknown option %s for mode %s; see 'help start'", o->key[i],
                         m->name);
            return CL_EINVAL;
        }
        if (check_one(m, opt, o->val[i], err, errlen) < 0)
            return CL_EINVAL;
    }
    return 0;
}

/* For `help start`: the generic options (mode options live in each mode). */
const struct mode_option *mode_generic_options(void);
const struct mode_option *mode_generic_options(void)
{
    return generic_options;
}
