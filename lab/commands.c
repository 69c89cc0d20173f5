/* commands — every REPL and script command (DESIGN §7): one table of name, usage, help and
 * example, and one function per command. Other modules add tables of their own
 * (lab_add_commands: the lesson host's), and each mode adds its commands through struct
 * mode_command; lab_exec() looks in that order. A command returns 0, 1 (runtime failure) or
 * 2 (parse error). No command knows a mode: what differs between modes comes from the face
 * (mode.h). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmdline.h"
#include "histfile.h"
#include "jtext.h"
#include "traceexport.h"
#include "model.h"
#include "clients.h"
#include "lab.h"
#include "room.h"

#define OK 0
#define RUNTIME 1
#define PARSE 2

const struct lab_command *lab_added_command(const char *name);
const struct lab_command *const *lab_added_tables(int *n);

static const struct lab_command *find_command(const char *name);
static int run_words(struct lab *lab, struct words *w);

/* ---- helpers ---------------------------------------------------------------------------- */

static int need_cluster(struct lab *lab)
{
    if (lab->cl)
        return 1;
    lab_err(lab, "no cluster is running: start one first, e.g. 'start raft 3'");
    return 0;
}

static int parse_err(struct lab *lab, const struct lab_command *c, const char *fmt, const char *arg)
{
    struct sb b = {0};
    sb_printf(&b, fmt, arg);
    lab_err(lab, "%s; usage: %s", b.s, c->usage);
    sb_free(&b);
    return PARSE;
}

/* Splits trailing "@NODE" and key=value options from the arguments of put/get/cas. */
struct op_args {
    int node;
    int process;                /* as=NAME: that client's process; -1 the REPL's */
    json_t *extra;
    int argc;
    char *argv[8];
};

static int op_args_(struct lab *lab, int argc, char **argv, struct op_args *a);

/* Reads the arguments of put/get/cas; on a refusal nothing is left allocated. */
static int op_args(struct lab *lab, int argc, char **argv, struct op_args *a)
{
    int rc = op_args_(lab, argc, argv, a);
    if (rc != OK) {
        json_decref(a->extra);
        a->extra = NULL;
    }
    return rc;
}

static int op_args_(struct lab *lab, int argc, char **argv, struct op_args *a)
{
    memset(a, 0, sizeof *a);
    a->node = -1;
    a->process = -1;
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (s[0] == '@' && i > 1) {
            if (lab_parse_node(lab, s + 1, &a->node) < 0)
                return PARSE;
        } else if (i > 1 && !strncmp(s, "as=", 3)) {
            const char *name = s + 3;
            size_t len = strlen(name);
            int good = len >= 1 && len <= 15 && name[0] >= 'a' && name[0] <= 'z';
            for (size_t k = 0; good && k < len; k++)
                good = (name[k] >= 'a' && name[k] <= 'z') || (name[k] >= '0' && name[k] <= '9');
            if (!good) {
                lab_err(lab, "bad %s: expected as=NAME, a client name of 1 to 15 letters and digits, e.g. as=alice", s);
                json_decref(a->extra);
                return PARSE;
            }
            a->process = lab_client_process(lab, name);
            if (a->process < 0) {
                lab_err(lab, "bad %s: the lab has room for %d named clients", s, LAB_MAX_CLIENTS);
                json_decref(a->extra);
                return PARSE;
            }
        } else if (i > 1 && strchr(s, '=') && (!strncmp(s, "cl=", 3) || !strncmp(s, "w=", 2) || !strncmp(s, "r=", 2))) {
            if (!a->extra)
                a->extra = json_object();
            const char *eq = strchr(s, '=');
            char k[8];
            str_copy(k, s, (size_t)(eq - s) + 1 < sizeof k ? (size_t)(eq - s) + 1 : sizeof k);
            if (!strcmp(k, "cl")) {
                if (strcmp(eq + 1, "one") && strcmp(eq + 1, "quorum") && strcmp(eq + 1, "all")) {
                    lab_err(lab, "bad %s: expected cl=one|quorum|all", s);
                    return PARSE;
                }
                json_object_set_new(a->extra, "cl", json_string(eq + 1));
            } else {
                int64_t v;
                if (parse_i64(eq + 1, &v) < 0 || v < 1 || v > CL_MAXN) {
                    lab_err(lab, "bad %s: expected %s=N with N from 1 to %d", s, k, CL_MAXN);
                    return PARSE;
                }
                json_object_set_new(a->extra, k, json_integer(v));
            }
        } else if (a->argc < 8) {
            a->argv[a->argc++] = argv[i];
        }
    }
    return OK;
}

static int do_op(struct lab *lab, const char *f, const char *key, json_t *value, struct op_args *a,
                 struct op **keep)
{
    struct op *op = lab_op_start(lab, f, key, value, a->node, a->extra, a->process);
    json_decref(a->extra);
    a->extra = NULL;
    if (!op)
        return RUNTIME;
    lab_op_wait(lab, op);
    if (keep) {
        *keep = op;
        return OK;
    }
    struct sb b = {0};
    lab_op_describe(op, &b);
    lab_out(lab, "%s", b.s);
    sb_free(&b);
    lab_op_free(op);
    return OK;
}

static int check_key(struct lab *lab, const char *key)
{
    if (!*key || strlen(key) > 256) {
        lab_err(lab, "a key is 1 to 256 bytes");
        return PARSE;
    }
    return OK;
}

/* A value argument (put's VALUE, cas's FROM and TO, expect's VALUE) as the lab sends it: the
 * word as typed is JSON when it reads as JSON (42, -1.5, true, null, "42" in double quotes,
 * {"a":[1,2]}, [1,2]), else the word itself as a string (hello, 'a b'); single quotes are the
 * shell's ('42' is the number). A word that starts like JSON ('"', '{', '[') but is not is
 * refused naming what is wrong and where. NULL (the error said) or a new reference. */
static json_t *value_arg(struct lab *lab, const char *arg, const char *what)
{
    const char *raw = NULL;
    for (int i = 0; lab->words && i < lab->words->argc; i++)
        if (lab->words->argv[i] == arg) {
            raw = lab->words->raw[i];
            break;
        }
    const char *text = raw && (raw[0] == '"' || raw[0] == '{' || raw[0] == '[') ? raw : arg;
    char err[200];
    json_t *v = jtext_parse(text, strlen(text), err, sizeof err);
    if (!v) {
        struct sb b = {0};
        sb_add_escaped(&b, text, strlen(text) > 60 ? 60 : strlen(text));
        lab_err(lab, "bad %s '%s%s': %s", what, b.s ? b.s : "", strlen(text) > 60 ? "..." : "", err);
        sb_free(&b);
    }
    return v;
}

/* ---- cluster ---------------------------------------------------------------------------- */

static int cmd_start(struct lab *lab, int argc, char **argv)
{
    const struct mode *m = mode_find(argv[1]);
    if (!m) {
        struct sb b = {0};
        const char *best = NULL;
        int bd = 3;
        for (int i = 0; mode_table[i]; i++) {
            sb_printf(&b, "%s%s", i ? "|" : "", mode_table[i]->name);
            int d = str_distance(argv[1], mode_table[i]->name);
            if (d < bd) {
                bd = d;
                best = mode_table[i]->name;
            }
        }
        if (best)
            lab_err(lab, "unknown mode '%s' (did you mean %s?); modes: %s", argv[1], best, b.s);
        else
            lab_err(lab, "unknown mode '%s'; modes: %s", argv[1], b.s ? b.s : "(none)");
        sb_free(&b);
        return PARSE;
    }
    int n = lab->room ? room_nodes(lab->room) : 3, i = 2; /* a classroom: the cluster file's */
    if (argc > 2 && !strchr(argv[2], '=')) {
        int64_t v;
        int most = m->max_nodes > 0 ? mode_max_nodes(m) : 9;
        if (parse_i64(argv[2], &v) < 0 || v < 1 || v > most) {
            lab_err(lab, "bad node count '%s': expected a whole number from 1 to %d", argv[2], most);
            return PARSE;
        }
        n = (int)v;
        i = 3;
    }
    struct opts o = {0};
    for (; i < argc; i++) {
        const char *eq = strchr(argv[i], '=');
        if (!eq || eq == argv[i]) {
            lab_err(lab, "bad option '%s': expected key=value, e.g. repl=sync", argv[i]);
            opts_free(&o);
            return PARSE;
        }
        char *k = xstrndup(argv[i], (size_t)(eq - argv[i]));
        opts_set(&o, k, eq + 1);
        free(k);
    }
    char err[256];
    if (mode_check_opts(m, &o, err, sizeof err) < 0) {
        lab_err(lab, "%s", err);
        opts_free(&o);
        return PARSE;
    }
    uint64_t t0 = mono_us();
    int rc = lab_start(lab, m->name, n, &o);
    opts_free(&o);
    if (rc < 0)
        return RUNTIME;
    lab_out(lab, "started %d %s node%s%s in %.0f ms (seed %llu)", n, m->name, n == 1 ? "" : "s",
            lab->cl->sim ? " in the simulator" : "", (double)(mono_us() - t0) / 1000.0,
            (unsigned long long)lab->seed);
    return OK;
}

static int cmd_stop(struct lab *lab, int argc, char **argv)
{
    (void)argc; (void)argv;
    if (!need_cluster(lab))
        return RUNTIME;
    lab_stop(lab);
    lab_out(lab, "stopped; the history (%zu records) is kept", lab->hist.n);
    return OK;
}

/* "n1 raft leader term=3 leader=n1 commit=12 applied=12 up": the mode's status figures. */
static void fmt_status_line(struct lab *lab, int i, const json_t *s, struct sb *b)
{
    const struct mode *m = lab->cl->mode;
    sb_printf(b, "n%d %s", i + 1, m->name);
    const char *stale = NULL;
    char age[96];
    if (!s && lab->cl->state[i] == NODE_UP && (s = lab_status_cached(lab, i))) {
        /* silent now: its last answer, saying how old it is (never a bare "no answer") */
        snprintf(age, sizeof age, " (no answer within 1 s: this is its status of %.1f s ago)",
                 (double)(mono_us() - lab->status_at[i]) / 1e6);
        stale = age;
    }
    if (!s) {
        sb_printf(b, " %s", lab->cl->state[i] == NODE_DOWN ? "- down"
                            : lab->cl->state[i] == NODE_PAUSED ? "- paused (it cannot answer)"
                            : "- up, but no status came within 1 s (starting, busy or stuck?)");
        return;
    }
    const char *role = json_string_value(json_object_get(s, "role"));
    sb_printf(b, " %s", role ? role : "?");
    for (const struct mode_figure *f = m->figures; f && f->key; f++) {
        const json_t *v = event_path(s, f->key);
        const char *label = f->label ? f->label : f->key;
        if (json_is_integer(v))
            sb_printf(b, " %s=%lld", label, (long long)json_integer_value(v));
        else if (json_is_string(v) && *json_string_value(v)) {
            sb_printf(b, " %s=", label);
            sb_add_escaped(b, json_string_value(v), strlen(json_string_value(v)));
        }
    }
    sb_printf(b, " %s", node_state_name(lab->cl->state[i]));
    if (stale)
        sb_add(b, stale);
}

/* One value of a status for `status NODE`: text as it is, a list "a, b", an object "k v, k v". */
static void fmt_value(const json_t *v, struct sb *b, int depth)
{
    if (json_is_string(v))
        sb_add_escaped(b, json_string_value(v), strlen(json_string_value(v)));
    else if (json_is_integer(v))
        sb_printf(b, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        sb_printf(b, "%g", json_real_value(v));
    else if (json_is_boolean(v))
        sb_add(b, json_is_true(v) ? "yes" : "no");
    else if (json_is_array(v) && depth < 3) {
        size_t i;
        const json_t *x;
        json_array_foreach(v, i, x) {
            if (i)
                sb_add(b, ", ");
            if (i >= 16) {
                sb_printf(b, "… (%zu in all)", json_array_size(v));
                break;
            }
            fmt_value(x, b, depth + 1);
        }
    } else if (json_is_object(v) && depth < 3) {
        const char *k;
        const json_t *x;
        int n = 0;
        json_object_foreach((json_t *)v, k, x) {
            sb_printf(b, "%s%s ", n++ ? ", " : "", k);
            fmt_value(x, b, depth + 1);
        }
    } else {
        sb_add(b, "-");
    }
}

/* status NODE: its line, then every field of the mode's "extra" (ballots and promises,
 * epochs and each follower's acks, members, …), one per line: the mode's whole face. */
static int status_node(struct lab *lab, const char *who)
{
    int idx;
    if (lab_parse_node(lab, who, &idx) < 0)
        return PARSE;
    json_t *st[CL_MAXNODES] = {0};
    lab_refresh(lab, st);
    struct sb b = {0};
    fmt_status_line(lab, idx, st[idx], &b);
    const json_t *s = st[idx] ? st[idx] : lab_status_cached(lab, idx);
    const json_t *ex = s ? json_object_get(s, "extra") : NULL;
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)ex, k, v) {
        sb_printf(&b, "\n  %s: ", k);
        fmt_value(v, &b, 0);
    }
    const json_t *queue = s ? json_object_get(s, "queue") : NULL;
    json_object_foreach((json_t *)queue, k, v)
        sb_printf(&b, "\n  queue to %s: %lld msgs (%lld bytes), %lld ms to drain", k,
                  (long long)json_integer_value(json_object_get(v, "msgs")),
                  (long long)json_integer_value(json_object_get(v, "bytes")),
                  (long long)json_integer_value(json_object_get(v, "wait_ms")));
    if (s && json_is_array(json_object_get(s, "log")))
        sb_printf(&b, "\n  (its log: 'log %s')", who);
    lab_out(lab, "%s", b.s);
    sb_free(&b);
    for (int i = 0; i < CL_MAXNODES; i++)
        json_decref(st[i]);
    return OK;
}

/* The links with a bandwidth, and what queues on each (from the senders' statuses). */
static void fmt_bandwidth(struct lab *lab, json_t **st, struct sb *b)
{
    const struct faults *f = &lab->cl->faults;
    int shown = 0, more = 0;
    for (int a = 0; a < lab->cl->n; a++)
        for (int d = 0; d < lab->cl->n; d++) {
            if (a == d || !f->link[a][d].kbps)
                continue;
            if (shown == 12) {
                more++;
                continue;
            }
            shown++;
            char did[CL_IDLEN];
            node_name(d, did);
            const json_t *q = st[a] ? json_object_get(json_object_get(st[a], "queue"), did) : NULL;
            sb_printf(b, "bandwidth n%d->%s %llu kbps: ", a + 1, did, (unsigned long long)f->link[a][d].kbps);
            if (!st[a])
                sb_add(b, "queue unknown (no status from the sender)\n");
            else if (!q)
                sb_add(b, "nothing queued\n");
            else
                sb_printf(b, "%lld msgs queued (%lld bytes), %lld ms to drain\n",
                          (long long)json_integer_value(json_object_get(q, "msgs")),
                          (long long)json_integer_value(json_object_get(q, "bytes")),
                          (long long)json_integer_value(json_object_get(q, "wait_ms")));
        }
    if (more)
        sb_printf(b, "bandwidth: %d more links limited ('status NODE' shows a sender's queues)\n", more);
}

static int cmd_status(struct lab *lab, int argc, char **argv)
{
    if (!lab->cl) {
        lab_out(lab, "no cluster; history: %zu records", lab->hist.n);
        return OK;
    }
    if (argc == 2)
        return status_node(lab, argv[1]);
    json_t *st[CL_MAXNODES] = {0};
    lab_refresh(lab, st);
    struct sb b = {0};
    for (int i = 0; i < lab->cl->n; i++) {
        fmt_status_line(lab, i, st[i], &b);
        sb_addc(&b, '\n');
    }
    struct sb g = {0};
    faults_describe(&lab->cl->faults, &g);
    if (g.len)
        sb_printf(&b, "partition: %s\n", g.s);
    sb_free(&g);
    fmt_bandwidth(lab, st, &b);
    for (int i = 0; i < lab->cl->n; i++)
        json_decref(st[i]);
    sb_printf(&b, "history: %zu records; events: %llu", lab->hist.n, (unsigned long long)lab->ev_total);
    lab_out(lab, "%s", b.s);
    sb_free(&b);
    return OK;
}

static int cmd_put(struct lab *lab, int argc, char **argv)
{
    struct op_args a;
    if (op_args(lab, argc, argv, &a) != OK)
        return PARSE;
    if (a.argc != 2) {
        json_decref(a.extra);
        return parse_err(lab, find_command("put"), "put takes a key and a value%s", "");
    }
    if (check_key(lab, a.argv[0]) != OK) {
        json_decref(a.extra);
        return PARSE;
    }
    json_t *v = value_arg(lab, a.argv[1], "value");
    if (!v) {
        json_decref(a.extra);
        return PARSE;
    }
    int rc = do_op(lab, "write", a.argv[0], v, &a, NULL);
    json_decref(v);
    return rc;
}

static int cmd_get(struct lab *lab, int argc, char **argv)
{
    struct op_args a;
    if (op_args(lab, argc, argv, &a) != OK)
        return PARSE;
    if (a.argc != 1) {
        json_decref(a.extra);
        return parse_err(lab, find_command("get"), "get takes one key%s", "");
    }
    if (check_key(lab, a.argv[0]) != OK) {
        json_decref(a.extra);
        return PARSE;
    }
    return do_op(lab, "read", a.argv[0], NULL, &a, NULL);
}

static int cmd_cas(struct lab *lab, int argc, char **argv)
{
    struct op_args a;
    if (op_args(lab, argc, argv, &a) != OK)
        return PARSE;
    if (a.argc != 3) {
        json_decref(a.extra);
        return parse_err(lab, find_command("cas"), "cas takes a key, the expected value and the new one%s", "");
    }
    json_t *from = value_arg(lab, a.argv[1], "FROM"), *to = from ? value_arg(lab, a.argv[2], "TO") : NULL;
    if (!to) {
        json_decref(from);
        json_decref(a.extra);
        return PARSE;
    }
    json_t *v = json_pack("[oo]", from, to);
    int rc = do_op(lab, "cas", a.argv[0], v, &a, NULL);
    json_decref(v);
    return rc;
}

/* ---- faults ----------------------------------------------------------------------------- */

static void faults_changed(struct lab *lab, const char *what, json_t *extra)
{
    lab->cl->ops->push_faults(lab->cl);
    struct sb g = {0};
    faults_describe(&lab->cl->faults, &g);
    json_t *groups = json_array();
    /* groups as lists, for the dashboard and lessons */
    if (g.len && !strstr(g.s, "sees") && !strstr(g.s, "one-way")) {
        char *copy = xstrdup(g.s), *save = NULL;
        for (char *grp = strtok_r(copy, "|", &save); grp; grp = strtok_r(NULL, "|", &save)) {
            json_t *list = json_array();
            char *s2 = NULL;
            for (char *id = strtok_r(grp, ", ", &s2); id; id = strtok_r(NULL, ", ", &s2))
                json_array_append_new(list, json_string(id));
            json_array_append_new(groups, list);
        }
        free(copy);
    }
    json_t *f = json_pack("{s:s,s:s,s:o}", "what", what, "desc", g.s ? g.s : "", "groups", groups);
    if (extra) {
        json_object_update(f, extra);
        json_decref(extra);
    }
    lab_event(lab, "fault", f);
    sb_free(&g);
}

void lab_faults_changed(struct lab *lab, const char *what, json_t *extra)
{
    faults_changed(lab, what, extra);
}

static int cmd_partition(struct lab *lab, int argc, char **argv)
{
    if (!need_cluster(lab))
        return RUNTIME;
    struct sb spec = {0};
    int groups = 0;
    for (int i = 1; i < argc; i++) {
        /* a group's name (dc1) stands for its nodes */
        sb_add(&spec, i > 1 ? " " : "");
        for (const char *p = argv[i]; *p;) {
            size_t n = strcspn(p, ",|");
            char word[64];
            uint32_t mask;
            str_copy(word, p, n + 1 < sizeof word ? n + 1 : sizeof word);
            if (n < sizeof word && lab_group_mask(lab, word, &mask)) {
                groups = 1;
                for (int k = 0, first = 1; k < lab->cl->n; k++)
                    if (mask & (1u << k)) {
                        sb_printf(&spec, "%sn%d", first ? "" : ",", k + 1);
                        first = 0;
                    }
            } else {
                sb_addn(&spec, p, n);
            }
            p += n;
            if (*p)
                sb_addc(&spec, *p++);
        }
    }
    char err[256], desc[256];
    struct faults f = lab->cl->faults;
    memset(f.cut, 0, sizeof f.cut);
    int rc;
    if (argc == 2 && !groups && !strchr(argv[1], ',') && !strchr(argv[1], '|') && argv[1][0] != 'n')
        rc = faults_shape(&f, argv[1], &lab->rng, desc, sizeof desc, err, sizeof err);
    else
        rc = faults_partition(&f, spec.s, err, sizeof err);
    sb_free(&spec);
    if (rc < 0) {
        lab_err(lab, "%s", err);
        return PARSE;
    }
    lab->cl->faults = f;
    faults_changed(lab, "partition", NULL);
    struct sb g = {0};
    faults_describe(&f, &g);
    lab_out(lab, "partitioned: %s", g.s);
    sb_free(&g);
    return OK;
}

static int cmd_isolate(struct lab *lab, int argc, char **argv)
{
    (void)argc;
    int idx;
    if (lab_parse_node(lab, argv[1], &idx) < 0)
        return PARSE;
    faults_isolate(&lab->cl->faults, idx);
    faults_changed(lab, "partition", NULL);
    lab_out(lab, "isolated n%d", idx + 1);
    return OK;
}

static int parse_link(struct lab *lab, const char *s, int *src, int *dst, uint32_t *smask, uint32_t *dmask);

/* For every link from a node of smask to a node of dmask (set by parse_link). */
#define FOR_LINKS(lab, smask, dmask, a, b)                                                   \
    for (int a = 0; a < (lab)->cl->n; a++)                                                 \
        for (int b = 0; b < (lab)->cl->n; b++)                                             \
            if (a != b && ((smask) & (1u << a)) && ((dmask) & (1u << b)))


static int cmd_cut(struct lab *lab, int argc, char **argv)
{
    (void)argc;
    if (!need_cluster(lab))
        return RUNTIME;
    int src, dst;
    uint32_t sm, dm;
    if (!strstr(argv[1], "->"))
        return parse_err(lab, find_command("cut"), "bad link '%s': expected SRC->DST such as n1->n2", argv[1]);
    if (parse_link(lab, argv[1], &src, &dst, &sm, &dm) < 0)
        return PARSE;
    if (sm) {
        FOR_LINKS(lab, sm, dm, a, b)
            faults_cut(&lab->cl->faults, a, b);
    }
    for (int a = 0; !sm && a < lab->cl->n; a++)
        for (int b = 0; b < lab->cl->n; b++)
            if (a != b && (src < 0 || a == src) && (dst < 0 || b == dst))
                faults_cut(&lab->cl->faults, a, b);
    faults_changed(lab, "cut", json_pack("{s:s}", "link", argv[1]));
    lab_out(lab, "cut %s: those messages are dropped, the other direction still flows", argv[1]);
    return OK;
}

static int cmd_heal(struct lab *lab, int argc, char **argv)
{
    (void)argc; (void)argv;
    if (!need_cluster(lab))
        return RUNTIME;
    int had = faults_active(&lab->cl->faults);
    faults_heal(&lab->cl->faults);
    faults_changed(lab, "heal", NULL);
    lab_out(lab, had ? "healed: every link is up, no delay, loss or bandwidth limit" : "nothing to heal: the network was already whole");
    return OK;
}

static int process_fault(struct lab *lab, int argc, char **argv, const char *verb)
{
    int idx;
    int ac = actors_fault(lab, verb, argc, argv); /* a named client is a process too */
    if (ac >= 0)
        return ac;
    uint64_t pause_us = 0;
    if (argc > 2 && (strcmp(verb, "pause") || parse_duration_us(argv[2], &pause_us) < 0 || !pause_us)) {
        lab_err(lab, "bad '%s': %s", argv[2], !strcmp(verb, "pause") ? "pause NODE [DURATION], e.g. pause n1 2s" : "one NODE");
        return PARSE;
    }
    if (lab_parse_node(lab, argv[1], &idx) < 0)
        return PARSE;
    struct cluster *c = lab->cl;
    int rc;
    const char *why = "";
    if (!strcmp(verb, "crash")) {
        rc = c->ops->crash(c, idx);
        why = "it is already down";
    } else if (!strcmp(verb, "restart")) {
        int was_down = c->state[idx] == NODE_DOWN;
        rc = c->ops->restart(c, idx);
        why = !was_down ? "it is not down (crash it first)"
            : c->error[0] ? c->error : "it did not come back"; /* the node's own words */
    } else if (!strcmp(verb, "pause")) {
        rc = c->ops->pause(c, idx);
        why = "it is not running";
    } else {
        rc = c->ops->resume(c, idx);
        why = "it is not paused";
    }
    if (rc < 0) {
        lab_err(lab, "cannot %s n%d: %s", verb, idx + 1, why);
        return RUNTIME;
    }
    if (!strcmp(verb, "crash")) {
        str_copy(lab->view[idx].role, "down", sizeof lab->view[idx].role);
        lab->view[idx].leader[0] = 0;
    }
    if (pause_us) {
        actors_resume_later(lab, idx, pause_us);
        lab_out(lab, "paused n%d for %llums", idx + 1, (unsigned long long)(pause_us / 1000));
        return OK;
    }
    lab_out(lab, "%s n%d", !strcmp(verb, "crash") ? "crashed" : !strcmp(verb, "restart") ? "restarted" :
                           !strcmp(verb, "pause") ? "paused" : "resumed", idx + 1);
    return OK;
}

static int cmd_crash(struct lab *lab, int argc, char **argv) { return process_fault(lab, argc, argv, "crash"); }
static int cmd_restart(struct lab *lab, int argc, char **argv) { return process_fault(lab, argc, argv, "restart"); }
static int cmd_pause(struct lab *lab, int argc, char **argv) { return process_fault(lab, argc, argv, "pause"); }
static int cmd_resume(struct lab *lab, int argc, char **argv) { return process_fault(lab, argc, argv, "resume"); }

/* "n1->n2" into src/dst; "*" gives -1. A group's name (dc1->dc2) gives its nodes in
 * *smask / *dmask (and src/dst -1); otherwise the masks are 0. */
static int parse_link(struct lab *lab, const char *s, int *src, int *dst, uint32_t *smask, uint32_t *dmask)
{
    const char *arrow = strstr(s, "->");
    if (!arrow)
        return CL_EINVAL;
    char a[CL_IDLEN], b[CL_IDLEN];
    size_t la = (size_t)(arrow - s);
    if (la >= sizeof a || strlen(arrow + 2) >= sizeof b) {
        lab_err(lab, "bad link '%s': expected SRC->DST such as n1->n2", s);
        return CL_EINVAL;
    }
    memcpy(a, s, la);
    a[la] = 0;
    str_copy(b, arrow + 2, sizeof b);
    *smask = *dmask = 0;
    if (!strcmp(a, "*") || lab_group_mask(lab, a, smask))
        *src = -1;
    else if (lab_parse_node(lab, a, src) < 0)
        return CL_EINVAL;
    if (!strcmp(b, "*") || lab_group_mask(lab, b, dmask))
        *dst = -1;
    else if (lab_parse_node(lab, b, dst) < 0)
        return CL_EINVAL;
    if ((*src >= 0 && *src == *dst) || (*smask && *smask == *dmask)) {
        lab_err(lab, "a link joins two different nodes, not %s to itself", a);
        return CL_EINVAL;
    }
    if (*smask || *dmask) { /* a group on one side: the other side as a set too */
        uint32_t all = (lab->cl->n >= 32 ? 0xffffffffu : (1u << lab->cl->n) - 1);
        if (!*smask)
            *smask = *src >= 0 ? 1u << *src : all;
        if (!*dmask)
            *dmask = *dst >= 0 ? 1u << *dst : all;
        *src = *dst = -1;
    }
    return 0;
}

/* "64", "64kbps", "2mbps", "off"/"0" (unlimited) into kilobits per second. */
static int parse_kbps(const char *s, uint64_t *kbps)
{
    if (!strcmp(s, "off") || !strcmp(s, "0")) {
        *kbps = 0;
        return 0;
    }
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || !(v > 0))
        return CL_EINVAL;
    double mul = 1;
    if (!strcasecmp(end, "mbps") || !strcasecmp(end, "mbit"))
        mul = 1000;
    else if (*end && strcasecmp(end, "kbps") && strcasecmp(end, "kbit"))
        return CL_EINVAL;
    v *= mul;
    if (v < (double)FAULTS_MIN_KBPS || v > (double)FAULTS_MAX_KBPS || v != (double)(uint64_t)v)
        return CL_EINVAL;
    *kbps = (uint64_t)v;
    return 0;
}

static int link_fault(struct lab *lab, int argc, char **argv, const char *what)
{
    if (!need_cluster(lab))
        return RUNTIME;
    const struct lab_command *c = find_command(what);
    int src = -1, dst = -1, ai = 1;
    uint32_t sm = 0, dm = 0;
    if (argc == 3) {
        if (parse_link(lab, argv[1], &src, &dst, &sm, &dm) < 0)
            return strstr(argv[1], "->") ? PARSE : parse_err(lab, c, "bad link '%s'", argv[1]);
        ai = 2;
    }
    const char *v = argv[ai];
    struct faults *f = &lab->cl->faults;
    char sname[CL_IDLEN] = "*", dname[CL_IDLEN] = "*";
    if (src >= 0)
        node_name(src, sname);
    if (dst >= 0)
        node_name(dst, dname);
    if (sm) { /* groups: named as the user did */
        const char *arrow = strstr(argv[1], "->");
        snprintf(sname, sizeof sname, "%.*s", (int)(arrow - argv[1]), argv[1]);
        str_copy(dname, arrow + 2, sizeof dname);
    }
    if (!strcmp(what, "delay")) {
        char buf[64];
        str_copy(buf, v, sizeof buf);
        char *tilde = strchr(buf, '~');
        uint64_t d, j = 0;
        if (tilde)
            *tilde = 0;
        if (parse_duration_us(buf, &d) < 0 || (tilde && parse_duration_us(tilde + 1, &j) < 0))
            return parse_err(lab, c, "bad delay '%s': expected milliseconds, optionally ~jitter (e.g. 200~50, 1s)", v);
        char why[160];
        if (faults_check_delay(d, j, why, sizeof why) < 0) {
            lab_err(lab, "bad delay '%s': %s", v, why);
            return PARSE;
        }
        if (sm) {
            FOR_LINKS(lab, sm, dm, a, b)
                faults_set_delay(f, a, b, d, j);
        } else {
            faults_set_delay(f, src, dst, d, j);
        }
        faults_changed(lab, "delay", json_pack("{s:s,s:s,s:I,s:I}", "src", sname, "dst", dname, "ms",
                                              (json_int_t)(d / 1000), "jitter_ms", (json_int_t)(j / 1000)));
        lab_out(lab, "delay %s->%s %.0f ms%s", sname, dname, (double)d / 1000, j ? " with jitter" : "");
        return OK;
    }
    if (!strcmp(what, "bandwidth")) {
        uint64_t kbps;
        if (parse_kbps(v, &kbps) < 0)
            return parse_err(lab, c, "bad bandwidth '%s': expected kilobits per second, 1 to 10000000 (e.g. 64, 2mbps), or off", v);
        if (sm) {
            FOR_LINKS(lab, sm, dm, a, b)
                faults_set_bandwidth(f, a, b, kbps);
        } else {
            faults_set_bandwidth(f, src, dst, kbps);
        }
        faults_changed(lab, "bandwidth", json_pack("{s:s,s:s,s:I}", "src", sname, "dst", dname, "kbps", (json_int_t)kbps));
        if (kbps)
            lab_out(lab, "bandwidth %s->%s %llu kbps: a 1 KB message takes %.0f ms on the wire, and the next waits its turn",
                    sname, dname, (unsigned long long)kbps, 8000.0 / (double)kbps);
        else
            lab_out(lab, "bandwidth %s->%s unlimited (queued messages leave at once)", sname, dname);
        return OK;
    }
    double pct;
    if (parse_percent(v, &pct) < 0)
        return parse_err(lab, c, "bad percentage '%s': expected 0 to 100 (e.g. 10 or 10%%)", v);
    void (*set)(struct faults *, int, int, double) = !strcmp(what, "loss") ? faults_set_loss
                                                     : !strcmp(what, "dup") ? faults_set_dup : faults_set_reorder;
    if (sm) {
        FOR_LINKS(lab, sm, dm, a, b)
            set(f, a, b, pct / 100);
    } else {
        set(f, src, dst, pct / 100);
    }
    faults_changed(lab, what, json_pack("{s:s,s:s,s:f}", "src", sname, "dst", dname, "pct", pct));
    lab_out(lab, "%s %s->%s %g%%", what, sname, dname, pct);
    return OK;
}

static int cmd_delay(struct lab *lab, int argc, char **argv) { return link_fault(lab, argc, argv, "delay"); }
static int cmd_loss(struct lab *lab, int argc, char **argv) { return link_fault(lab, argc, argv, "loss"); }
static int cmd_bandwidth(struct lab *lab, int argc, char **argv) { return link_fault(lab, argc, argv, "bandwidth"); }
static int cmd_dup(struct lab *lab, int argc, char **argv) { return link_fault(lab, argc, argv, "dup"); }
static int cmd_reorder(struct lab *lab, int argc, char **argv) { return link_fault(lab, argc, argv, "reorder"); }

static int parse_ms_signed(const char *s, int64_t *us)
{
    int neg = s[0] == '-';
    const char *p = s[0] == '-' || s[0] == '+' ? s + 1 : s;
    uint64_t d;
    if (parse_duration_us(p, &d) < 0 || d > 3600000000000ull)
        return CL_EINVAL;
    *us = neg ? -(int64_t)d : (int64_t)d;
    return 0;
}

static int cmd_skew(struct lab *lab, int argc, char **argv)
{
    (void)argc;
    int idx;
    if (lab_parse_node(lab, argv[1], &idx) < 0)
        return PARSE;
    int64_t us;
    if (parse_ms_signed(argv[2], &us) < 0)
        return parse_err(lab, find_command("skew"), "bad skew '%s': expected ±milliseconds such as -5000 or +2s", argv[2]);
    lab->cl->skew_us[idx] = us;
    lab->cl->ops->push_clock(lab->cl, idx);
    lab_event(lab, "fault", json_pack("{s:s,s:s,s:I}", "what", "skew", "target", argv[1], "skew_ms", (json_int_t)(us / 1000)));
    lab_out(lab, "n%d's clock now runs %+.0f ms from true time", idx + 1, (double)us / 1000);
    return OK;
}

static int cmd_clock(struct lab *lab, int argc, char **argv)
{
    const struct lab_command *c = find_command("clock");
    if (!strcmp(argv[1], "bump")) {
        if (argc != 4)
            return parse_err(lab, c, "clock bump takes NODE and ±MS%s", "");
        int idx;
        if (lab_parse_node(lab, argv[2], &idx) < 0)
            return PARSE;
        int64_t us;
        if (parse_ms_signed(argv[3], &us) < 0)
            return parse_err(lab, c, "bad bump '%s': expected ±milliseconds", argv[3]);
        lab->cl->skew_us[idx] += us;
        lab->cl->ops->push_clock(lab->cl, idx);
        lab_event(lab, "fault", json_pack("{s:s,s:s,s:I}", "what", "clock", "target", argv[2], "bump_ms", (json_int_t)(us / 1000)));
        lab_out(lab, "bumped n%d's clock by %+.0f ms (now %+.0f ms)", idx + 1, (double)us / 1000,
                (double)lab->cl->skew_us[idx] / 1000);
        return OK;
    }
    if (!strcmp(argv[1], "strobe")) {
        if (argc != 5)
            return parse_err(lab, c, "clock strobe takes NODE, MS and PERIOD%s", "");
        int idx;
        if (lab_parse_node(lab, argv[2], &idx) < 0)
            return PARSE;
        uint64_t amp, per;
        if (parse_duration_us(argv[3], &amp) < 0 || parse_duration_us(argv[4], &per) < 0 || per < 1000)
            return parse_err(lab, c, "bad strobe '%s': expected MS and a PERIOD of at least 1 ms", argv[3]);
        lab->cl->strobe_us[idx] = amp;
        lab->cl->strobe_period_us[idx] = per;
        lab->cl->ops->push_clock(lab->cl, idx);
        lab_event(lab, "fault", json_pack("{s:s,s:s,s:I,s:I}", "what", "clock", "target", argv[2], "strobe_ms",
                                          (json_int_t)(amp / 1000), "period_ms", (json_int_t)(per / 1000)));
        lab_out(lab, "n%d's clock now jumps by %.0f ms every %.0f ms", idx + 1, (double)amp / 1000, (double)per / 1000);
        return OK;
    }
    if (!strcmp(argv[1], "drift")) {
        if (argc != 4)
            return parse_err(lab, c, "clock drift takes NODE and ±PPM%s", "");
        int idx;
        if (lab_parse_node(lab, argv[2], &idx) < 0)
            return PARSE;
        char *end;
        errno = 0;
        long ppm = strtol(argv[3], &end, 10);
        if (end == argv[3] || *end || errno || ppm < -1000000 || ppm > 1000000)
            return parse_err(lab, c, "bad drift '%s': expected ±parts per million from -1000000 to 1000000, such as +200",
                             argv[3]);
        lab->cl->drift_ppm[idx] = ppm;
        lab->cl->ops->push_clock(lab->cl, idx);
        lab_event(lab, "fault", json_pack("{s:s,s:s,s:I}", "what", "clock", "target", argv[2], "drift_ppm", (json_int_t)ppm));
        lab_out(lab, "n%d's clock now %s %.3f ms per second of true time (%+ld ppm)%s", idx + 1,
                ppm >= 0 ? "gains" : "loses", (double)labs(ppm) / 1000, ppm,
                lab->cl->ntp ? "; NTP corrects it at every sync" : "");
        return OK;
    }
    return parse_err(lab, c, "unknown clock fault '%s': expected bump, strobe or drift", argv[1]);
}

/* `ntp on [ERROR] [POLL]` / `ntp off`: every node's clock synced to true time every POLL,
 * within ±ERROR (clocks.h's model); off leaves each clock where the last sync put it. */
static int cmd_ntp(struct lab *lab, int argc, char **argv)
{
    const struct lab_command *c = find_command("ntp");
    int on = !strcmp(argv[1], "on");
    if (!on && strcmp(argv[1], "off"))
        return parse_err(lab, c, "ntp takes on or off, not '%s'", argv[1]);
    if (!on && argc > 2)
        return parse_err(lab, c, "ntp off takes nothing more, not '%s'", argv[2]);
    uint64_t err = 2000, poll = 1000000;
    if (argc > 2 && (parse_duration_us(argv[2], &err) < 0 || err > 60000000))
        return parse_err(lab, c, "bad NTP error '%s': expected milliseconds up to 60000, such as 5 or 500us", argv[2]);
    if (argc > 3 && (parse_duration_us(argv[3], &poll) < 0 || poll < 10000 || poll > 3600000000ull))
        return parse_err(lab, c, "bad NTP poll period '%s': expected 10ms to 1h, such as 1s", argv[3]);
    if (!need_cluster(lab))
        return RUNTIME;
    struct cluster *cl = lab->cl;
    if (!on && cl->ntp) {
        /* the clocks stay where NTP left them: their offsets become their skews */
        json_t *st[CL_MAXNODES] = {0};
        lab_refresh(lab, st);
        for (int i = 0; i < cl->n && i < CL_MAXNODES; i++) {
            if (st[i] && json_is_integer(json_object_get(st[i], "offset_us")))
                cl->skew_us[i] = json_integer_value(json_object_get(st[i], "offset_us"));
            json_decref(st[i]);
        }
    }
    cl->ntp = on;
    if (on) {
        cl->ntp_err_us = err;
        cl->ntp_poll_us = poll;
    }
    for (int i = 0; i < cl->n && i < CL_MAXNODES; i++)
        if (cl->state[i] != NODE_DOWN)
            cl->ops->push_clock(cl, i);
    lab_event(lab, "fault", json_pack("{s:s,s:b,s:I,s:I}", "what", "ntp", "on", on, "error_us", (json_int_t)cl->ntp_err_us,
                                      "poll_us", (json_int_t)cl->ntp_poll_us));
    if (on)
        lab_out(lab, "NTP on: every clock is set to true time ±%.3f ms now and every %.3f s (skews corrected; drift "
                     "grows again between syncs)",
                (double)err / 1000, (double)poll / 1e6);
    else
        lab_out(lab, "NTP off: each clock keeps the offset the last sync left, and drifts from there");
    return OK;
}

/* ---- waiting ---------------------------------------------------------------------------- */

static int wait_for(struct lab *lab, uint64_t timeout_us, int (*pred)(struct lab *, void *), void *ud)
{
    uint64_t end = mono_us() + timeout_us;
    lab->interrupted = 0;
    for (;;) {
        if (pred(lab, ud))
            return 1;
        if (mono_us() >= end || lab->interrupted || !lab->cl)
            return 0;
        lab_pump(lab, 50000, -1);
    }
}

static int pred_leader(struct lab *lab, void *ud)
{
    int l;
    int64_t t;
    (void)ud;
    return lab_leader_agreed(lab, &l, &t);
}

static int pred_converged(struct lab *lab, void *ud)
{
    (void)ud;
    lab_refresh(lab, NULL);
    return lab_converged(lab, NULL) == 1;
}

/* `wait leader`, `expect leader`: only in a mode with a leader role. */
static int need_leader_role(struct lab *lab)
{
    struct sb why = {0};
    int ok = lab_mode_has_leader(lab, &why);
    if (!ok)
        lab_err(lab, "%s: there is no leader to wait for", why.s);
    sb_free(&why);
    return ok;
}

static uint64_t wall_timeout(struct lab *lab, const char *arg, uint64_t def_protocol_us)
{
    uint64_t us = def_protocol_us;
    if (arg && parse_duration_us(arg, &us) == 0)
        return us;
    if (lab->cl)
        us = (uint64_t)((double)us / lab->cl->speed);
    return us;
}

struct wait_role {
    int node;
    const char *role;
};

/* `wait NODE ROLE`: up, down and paused are the process's state, anything else the role the
 * node reports (leader, follower, candidate, …). */
static int pred_role(struct lab *lab, void *ud)
{
    const struct wait_role *w = ud;
    enum node_state st = lab->cl->state[w->node];
    if (!strcmp(w->role, "down") || !strcmp(w->role, "up") || !strcmp(w->role, "paused"))
        return !strcmp(w->role, st == NODE_DOWN ? "down" : st == NODE_PAUSED ? "paused" : "up");
    if (st != NODE_UP)
        return 0;
    lab_refresh(lab, NULL);
    return lab->cl && !strcmp(lab->view[w->node].role, w->role);
}

struct wait_event {
    uint64_t from;              /* events before this position do not count */
    const char *ev;
    char node[CL_IDLEN];        /* "" any */
    int nf;
    char *key[8], *val[8];
    char seen[200];             /* the matching event, for the report */
};

static int event_field_is(const json_t *e, const char *key, const char *want)
{
    const json_t *v = json_object_get(e, key);
    char buf[256];
    if (json_is_string(v))
        return !strcmp(json_string_value(v), want);
    if (json_is_integer(v)) {
        snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(v));
        return !strcmp(buf, want);
    }
    if (json_is_boolean(v))
        return !strcmp(json_is_true(v) ? "true" : "false", want);
    return 0;
}

static int pred_event(struct lab *lab, void *ud)
{
    struct wait_event *w = ud;
    uint64_t first = lab->ev_total - lab->ev_count;
    for (uint64_t g = w->from > first ? w->from : first; g < lab->ev_total; g++) {
        const json_t *e = lab->events[(lab->ev_head + (g - first)) % LAB_MAX_EVENTS];
        const char *ev = json_string_value(json_object_get(e, "ev"));
        const char *nd = json_string_value(json_object_get(e, "node"));
        int ok = ev && !strcmp(ev, w->ev) && (!w->node[0] || (nd && !strcmp(nd, w->node)));
        for (int i = 0; ok && i < w->nf; i++)
            ok = event_field_is(e, w->key[i], w->val[i]);
        if (ok) {
            struct sb b = {0};
            dm_event_line(e, &b);
            str_copy(w->seen, b.s ? b.s : "", sizeof w->seen);
            sb_free(&b);
            return 1;
        }
    }
    w->from = lab->ev_total;
    return 0;
}

/* wait event EV [NODE] [FIELD=VALUE...] [TIMEOUT]: until such an event arrives. */
static int wait_event(struct lab *lab, int argc, char **argv)
{
    const struct lab_command *c = find_command("wait");
    struct wait_event w = {.from = lab->ev_total, .ev = argv[2]};
    uint64_t d = 0;
    const char *timeout = NULL;
    for (int i = 3; i < argc; i++) {
        int idx;
        char *eq = strchr(argv[i], '=');
        if (!strcmp(argv[i], "since=start")) {
            w.from = 0; /* an event already received counts too (the lab's ring of recent events) */
        } else if (eq && eq != argv[i] && w.nf < 8) {
            *eq = 0;
            w.key[w.nf] = argv[i];
            w.val[w.nf++] = eq + 1;
        } else if (!w.node[0] && i == 3 && lab->cl && parse_node_id(argv[i], lab->cl->n, &idx) == 0) {
            str_copy(w.node, argv[i], sizeof w.node);
        } else if (i == argc - 1 && parse_duration_us(argv[i], &d) == 0) {
            timeout = argv[i];
        } else {
            return parse_err(lab, c, "wait event: '%s' is not a node, FIELD=VALUE or a timeout", argv[i]);
        }
    }
    if (!need_cluster(lab))
        return RUNTIME;
    uint64_t t0 = cluster_now(lab->cl);
    if (!wait_for(lab, wall_timeout(lab, timeout, 10000000), pred_event, &w)) {
        lab_err(lab, "no %s event%s%s before the timeout", w.ev, w.node[0] ? " from " : "", w.node);
        return RUNTIME;
    }
    lab_out(lab, "after %.0fms:%s", (double)(cluster_now(lab->cl) - t0) / 1000, w.seen);
    return OK;
}

struct wait_mode {
    const struct mode_wait *w;
    int argc;
    char **argv;
    struct sb says;
    int verdict;
};

static int pred_mode(struct lab *lab, void *ud)
{
    struct wait_mode *w = ud;
    void *mon = lab_monitor_state(lab);
    sb_free(&w->says);
    w->verdict = w->w->holds(mon, w->argc, w->argv, &w->says);
    return w->verdict != 0;
}

/* wait NAME ARGS… [TIMEOUT]: a condition the running mode offers (struct mode_wait). */
static int wait_mode(struct lab *lab, const struct mode_wait *mw, int argc, char **argv)
{
    struct wait_mode w = {.w = mw, .argc = argc - 2, .argv = argv + 2};
    const char *timeout = NULL;
    uint64_t d;
    if (w.argc > mw->nargs) {
        if (w.argc != mw->nargs + 1 || parse_duration_us(argv[argc - 1], &d) < 0) {
            lab_err(lab, "usage: %s", mw->usage);
            return PARSE;
        }
        timeout = argv[argc - 1];
        w.argc--;
    }
    if (w.argc < mw->nargs) {
        lab_err(lab, "usage: %s", mw->usage);
        return PARSE;
    }
    uint64_t t0 = cluster_now(lab->cl);
    int ok = wait_for(lab, wall_timeout(lab, timeout, 10000000), pred_mode, &w);
    if (!ok && w.verdict == 0 && lab->cl)
        pred_mode(lab, &w);
    int rc = OK;
    if (w.verdict < 0) {
        lab_err(lab, "%s", w.says.s ? w.says.s : mw->usage);
        rc = PARSE;
    } else if (!w.verdict) {
        lab_err(lab, "not at the timeout: %s", w.says.s ? w.says.s : "");
        rc = RUNTIME;
    } else {
        lab_out(lab, "%s (%.0fms)", w.says.s ? w.says.s : "holds",
                lab->cl ? (double)(cluster_now(lab->cl) - t0) / 1000 : 0.0);
    }
    sb_free(&w.says);
    return rc;
}

static int cmd_wait(struct lab *lab, int argc, char **argv)
{
    const struct lab_command *c = find_command("wait");
    if (!strcmp(argv[1], "event")) {
        if (argc < 3)
            return parse_err(lab, c, "wait event needs an event name, e.g. 'wait event apply n1 key=x'%s", "");
        return wait_event(lab, argc, argv);
    }
    const struct mode_wait *mw = lab->cl ? mode_find_wait(lab->cl->mode, argv[1]) : NULL;
    if (mw)
        return wait_mode(lab, mw, argc, argv);
    int node;
    if (argc >= 3 && lab->cl && parse_node_id(argv[1], lab->cl->n, &node) == 0) {
        uint64_t d;
        if (argc > 3 && parse_duration_us(argv[3], &d) < 0)
            return parse_err(lab, c, "bad timeout '%s': expected e.g. 5s", argv[3]);
        struct wait_role w = {node, argv[2]};
        uint64_t t0 = cluster_now(lab->cl);
        if (!wait_for(lab, wall_timeout(lab, argc > 3 ? argv[3] : NULL, 10000000), pred_role, &w)) {
            lab_err(lab, "%s is not %s at the timeout (it is %s)", argv[1], argv[2],
                    lab->cl && lab->cl->state[node] != NODE_UP ? (lab->cl->state[node] == NODE_DOWN ? "down" : "paused")
                    : lab->cl && lab->view[node].role[0] ? lab->view[node].role : "of unknown role");
            return RUNTIME;
        }
        double ms = (double)(cluster_now(lab->cl) - t0) / 1000;
        if (lab->view[node].term >= 0 && strcmp(argv[2], "down") && strcmp(argv[2], "paused"))
            lab_out(lab, "%s is %s (term %lld) after %.0fms", argv[1], argv[2], (long long)lab->view[node].term, ms);
        else
            lab_out(lab, "%s is %s after %.0fms", argv[1], argv[2], ms);
        return OK;
    }
    if (!strcmp(argv[1], "leader") || !strcmp(argv[1], "converged")) {
        if (!need_cluster(lab))
            return RUNTIME;
        uint64_t d;
        if (argc > 2 && parse_duration_us(argv[2], &d) < 0)
            return parse_err(lab, c, "bad timeout '%s': expected e.g. 5s", argv[2]);
        int leader = !strcmp(argv[1], "leader");
        if (leader && !need_leader_role(lab))
            return RUNTIME;
        uint64_t t0 = cluster_now(lab->cl);
        if (!wait_for(lab, wall_timeout(lab, argc > 2 ? argv[2] : NULL, leader ? 10000000 : 15000000),
                      leader ? pred_leader : pred_converged, NULL)) {
            struct sb lt = {0};
            if (leader && lab_leaders_text(lab, &lt))
                lab_err(lab, "not every group has a leader known to a majority of it before the timeout (%s)", lt.s);
            else
                lab_err(lab, "%s", leader ? "no leader known to a majority before the timeout" :
                                            "the live replicas still differ at the timeout");
            sb_free(&lt);
            return RUNTIME;
        }
        double ms = (double)(cluster_now(lab->cl) - t0) / 1000;
        struct sb lt = {0};
        if (leader && lab_leaders_text(lab, &lt)) {
            lab_out(lab, "leaders %s after %.0fms", lt.s, ms);
        } else if (leader) {
            int l;
            int64_t t;
            lab_leader_agreed(lab, &l, &t);
            lab_out(lab, "leader n%d term %lld after %.0fms", l + 1, (long long)t, ms);
        } else {
            lab_out(lab, "converged after %.0fms", ms);
        }
        sb_free(&lt);
        return OK;
    }
    uint64_t d;
    size_t al = strlen(argv[1]);
    if (al && argv[1][al - 1] >= '0' && argv[1][al - 1] <= '9' && parse_duration_us(argv[1], &d) == 0) {
        lab_err(lab, "wait %s: give the unit, e.g. 'wait %ss' or 'wait %sms'", argv[1], argv[1], argv[1]);
        return PARSE;
    }
    if (parse_duration_us(argv[1], &d) < 0 || d > 3600000000ull)
        return parse_err(lab, c, "bad duration '%s': expected e.g. 500ms, 2s, leader or converged", argv[1]);
    lab->interrupted = 0;
    uint64_t end = mono_us() + d;
    while (mono_us() < end && !lab->interrupted)
        lab_pump(lab, end - mono_us(), -1);
    if (!lab->interrupted)
        lab_out(lab, "waited %s (real time)", argv[1]);
    else
        lab_out(lab, "wait %s interrupted", argv[1]);
    return OK;
}

static int cmd_speed(struct lab *lab, int argc, char **argv)
{
    if (argc == 1) {
        if (lab->cl)
            lab_out(lab, "speed %g: protocol timers run %s", lab->cl->speed,
                    lab->cl->speed < 1 ? "slower (slow motion)" : lab->cl->speed > 1 ? "faster" : "at normal speed");
        else
            lab_out(lab, "speed 1 (no cluster is running; 'start raft 3 speed=0.1' starts one in slow motion)");
        return OK;
    }
    double f;
    if (parse_double(argv[1], &f) < 0 || f < 0.01 || f > 10)
        return parse_err(lab, find_command("speed"), "bad speed '%s': expected a factor from 0.01 to 10", argv[1]);
    if (!need_cluster(lab))
        return RUNTIME;
    lab->cl->speed = f;
    char buf[32];
    snprintf(buf, sizeof buf, "%g", f);
    opts_set(&lab->cl->opts, "speed", buf);
    lab->cl->ops->push_speed(lab->cl);
    lab_event(lab, "speed", json_pack("{s:f}", "factor", f));
    lab_out(lab, "speed %g: protocol timers run %s", f, f < 1 ? "slower (slow motion)" : f > 1 ? "faster" : "at normal speed");
    return OK;
}

static int cmd_freeze(struct lab *lab, int argc, char **argv)
{
    (void)argc; (void)argv;
    if (!need_cluster(lab))
        return RUNTIME;
    if (simhost_freeze(lab->cl, 1) < 0) {
        lab_err(lab, "freeze needs the simulator: start with sim=on");
        return RUNTIME;
    }
    lab_out(lab, "frozen at t=%.3fs; 'step [N]' advances, 'thaw' resumes", (double)cluster_now(lab->cl) / 1e6);
    return OK;
}

static int cmd_thaw(struct lab *lab, int argc, char **argv)
{
    (void)argc; (void)argv;
    if (!need_cluster(lab))
        return RUNTIME;
    if (simhost_freeze(lab->cl, 0) < 0) {
        lab_err(lab, "thaw needs the simulator: start with sim=on");
        return RUNTIME;
    }
    lab_out(lab, "running");
    return OK;
}

static int cmd_step(struct lab *lab, int argc, char **argv)
{
    int64_t n = 1;
    if (argc > 1 && (parse_i64(argv[1], &n) < 0 || n < 1 || n > 1000000))
        return parse_err(lab, find_command("step"), "bad count '%s': expected 1 to 1000000", argv[1]);
    if (!need_cluster(lab))
        return RUNTIME;
    if (!lab->cl->frozen) {
        lab_err(lab, "step works on a frozen simulator: 'freeze' first (start with sim=on)");
        return RUNTIME;
    }
    int ran = 0;
    uint64_t before = lab->ev_total;
    /* a thousand at a time, so that Ctrl-C stops a long run (step 1000000) between them */
    lab->interrupted = 0;
    while (ran < n && !lab->interrupted) {
        int chunk = n - ran > 1000 ? 1000 : (int)(n - ran), k = 0;
        simhost_step(lab->cl, chunk, &k);
        ran += k;
        if (k < chunk)
            break; /* nothing left to run */
        lab_pump(lab, 0, -1); /* a turn of the loop: screens redraw, Ctrl-C is seen */
    }
    lab_out(lab, "stepped %d event%s to t=%.6fs (%llu new events)%s", ran, ran == 1 ? "" : "s",
            (double)cluster_now(lab->cl) / 1e6, (unsigned long long)(lab->ev_total - before),
            lab->interrupted && ran < n ? " - interrupted" : "");
    /* show what happened, newest last: the nodes' events only (printing adds output events
     * of its own, so collect the lines first) */
    size_t show = lab->ev_total - before > 10 ? 10 : (size_t)(lab->ev_total - before);
    if (show > lab->ev_count)
        show = lab->ev_count;
    struct sb b = {0};
    for (size_t i = lab->ev_count - show; i < lab->ev_count; i++) {
        const json_t *e = lab->events[(lab->ev_head + i) % LAB_MAX_EVENTS];
        const char *kind = json_string_value(json_object_get(e, "ev"));
        if (kind && !strcmp(kind, "output"))
            continue;
        char *s = json_dumps(e, JSON_COMPACT);
        sb_add(&b, b.len ? "\n  " : "  ");
        sb_add_escaped(&b, s, strlen(s));
        free(s);
    }
    if (b.len)
        lab_out(lab, "%s", b.s);
    sb_free(&b);
    if (lab->interrupted && ran < n) /* last, where a screen's Output pane shows it */
        lab_out(lab, "step interrupted (Ctrl-C) after %d of %lld steps", ran, (long long)n);
    return OK;
}

/* ---- history and checks ------------------------------------------------------------------- */

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

static int write_file(struct lab *lab, const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "w");
    if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
        if (f)
            fclose(f);
        lab_err(lab, "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* history export FILE.edn | FILE.jsonl: the history for Jepsen's tools (Knossos, Porcupine's
 * EDN reader, `conlab check`). */
static int history_export(struct lab *lab, int argc, char **argv)
{
    const struct lab_command *c = find_command("history");
    if (argc != 3 && argc != 4)
        return parse_err(lab, c, "history export needs a file name: FILE.edn (Jepsen EDN) or FILE.jsonl%s", "");
    const char *path = argv[2];
    int edn = ends_with(path, ".edn");
    int independent = argc == 4 && !strcmp(argv[3], "independent");
    if (argc == 4 && (!independent || !edn))
        return parse_err(lab, c, "history export: after the file only 'independent' may come, and only for FILE.edn (got '%s')", argv[3]);
    if (!edn && !ends_with(path, ".jsonl") && !ends_with(path, ".json"))
        return parse_err(lab, c, "history export %s: name the format by the file's extension: .edn (Jepsen) or .jsonl", path);
    char *jsonl = recorder_jsonl(&lab->hist);
    struct history *h = NULL;
    char err[256];
    int rc = history_parse_jsonl(jsonl ? jsonl : "", jsonl ? strlen(jsonl) : 0, &h, err, sizeof err);
    free(jsonl);
    if (rc < 0) {
        lab_err(lab, "the history cannot be exported: %s", err);
        return RUNTIME;
    }
    struct sb out = {0};
    if (edn)
        history_write_edn_independent(h, independent, &out);
    else
        history_write_jsonl(h, &out);
    int ops = h->n;
    history_free(&h);
    rc = write_file(lab, path, out.s ? out.s : "", out.len);
    sb_free(&out);
    if (rc < 0)
        return RUNTIME;
    lab_out(lab, "exported %d operations to %s (%s)%s", ops, path,
            independent ? "Jepsen EDN, keys as jepsen.independent [k v] tuples" : edn ? "Jepsen EDN" : "JSONL",
            independent ? "; Jepsen's independent checker and Knossos read it" : edn ? "; 'conlab check' and Jepsen's tools read it" : "");
    return OK;
}

static int cmd_history(struct lab *lab, int argc, char **argv)
{
    if (argc == 2 && !strcmp(argv[1], "clear")) {
        for (int i = 0; i < LAB_MAX_OPS; i++)
            if (lab->ops[i].used) {
                lab_err(lab, "an operation is still in flight: clear the history when it is done");
                return RUNTIME;
            }
        size_t n = lab->hist.n;
        recorder_clear(&lab->hist);
        lab_out(lab, "history cleared (%zu records): checks now judge only what comes next", n);
        return OK;
    }
    if (argc >= 2 && !strcmp(argv[1], "export"))
        return history_export(lab, argc, argv);
    if (argc >= 2) {
        if (strcmp(argv[1], "save") || argc != 3)
            return parse_err(lab, find_command("history"), "unknown history action '%s'", argv[1]);
        if (recorder_save(&lab->hist, argv[2]) < 0) {
            lab_err(lab, "cannot write %s", argv[2]);
            return RUNTIME;
        }
        lab_out(lab, "saved %zu records to %s", lab->hist.n, argv[2]);
        return OK;
    }
    if (!lab->hist.n) {
        lab_out(lab, "the history is empty: every put, get and cas is recorded here");
        return OK;
    }
    struct sb b = {0};
    recorder_format(&lab->hist, lab->hist.n > 200 ? lab->hist.n - 200 : 0, &b);
    lab_out(lab, "%s", b.s);
    sb_free(&b);
    return OK;
}

/* Refreshes the statuses first, so that state checkers judge the replicas as they are now. */
static int run_check(struct lab *lab, const char *what, struct sb *out)
{
    if (lab->cl)
        lab_refresh(lab, NULL);
    return lab_check(lab, what, NULL, 0, out);
}

static int cmd_check(struct lab *lab, int argc, char **argv)
{
    const char *what = argc > 1 ? argv[1] : "linearizable";
    struct sb out = {0};
    int rc = run_check(lab, what, &out);
    if (rc == CL_ENOENT) {
        sb_free(&out);
        struct sb m = {0};
        sb_printf(&m, "unknown check '%%s': expected %s", lab_check_names());
        rc = parse_err(lab, find_command("check"), m.s, what);
        sb_free(&m);
        return rc;
    }
    lab_out(lab, "%s", out.s ? out.s : "");
    lab_event(lab, "verdict", json_pack("{s:s,s:s,s:s}", "check", what, "verdict",
                                        rc == 0 ? "holds" : rc == 1 ? "violated" : "unknown", "text", out.s ? out.s : ""));
    sb_free(&out);
    return OK;
}

static void expect_fail(struct lab *lab, const char *fmt, const char *a, const char *b)
{
    struct sb m = {0};
    sb_printf(&m, fmt, a, b);
    if (lab->script_line > 0)
        lab_out(lab, "FAIL line %d: %s", lab->script_line, m.s);
    else
        lab_out(lab, "FAIL: %s", m.s);
    sb_free(&m);
    lab->failed = 1;
}

static int cmd_expect(struct lab *lab, int argc, char **argv)
{
    const struct lab_command *c = find_command("expect");
    if (!strcmp(argv[1], "leader")) {
        if (!need_cluster(lab) || !need_leader_role(lab))
            return RUNTIME;
        if (!wait_for(lab, wall_timeout(lab, NULL, 3000000), pred_leader, NULL)) {
            expect_fail(lab, "expected a leader known to a majority; none%s%s", "", "");
            return RUNTIME;
        }
        int l;
        int64_t t;
        struct sb lt = {0};
        if (lab_leaders_text(lab, &lt)) {
            lab_out(lab, "ok: leaders %s", lt.s);
            sb_free(&lt);
            return OK;
        }
        lab_leader_agreed(lab, &l, &t);
        lab_out(lab, "ok: leader n%d term %lld", l + 1, (long long)t);
        return OK;
    }
    if (!strcmp(argv[1], "converged")) {
        if (!need_cluster(lab))
            return RUNTIME;
        if (!wait_for(lab, wall_timeout(lab, NULL, 10000000), pred_converged, NULL)) {
            struct sb why = {0};
            lab_converged(lab, &why);
            expect_fail(lab, "expected converged replicas: %s%s", why.s ? why.s : "", "");
            sb_free(&why);
            return RUNTIME;
        }
        lab_out(lab, "ok: converged");
        return OK;
    }
    /* expect [not] CHECKER: linearizable, sessions, sequential, causal, or a check of the running mode */
    int negated = !strcmp(argv[1], "not") && argc == 3;
    const char *checker = negated ? argv[2] : argv[1];
    if ((argc == 2 || negated) &&
        (mode_listed(lab_check_names(), checker) || (lab->cl && mode_check_find(lab->cl->mode, checker)))) {
        int want = !negated;
        struct sb out = {0}, w = {0};
        int rc = run_check(lab, checker, &out);
        sb_printf(&w, "%s%s", want ? "" : "not ", checker);
        if ((want && rc != 0) || (!want && rc != 1)) {
            expect_fail(lab, "expected %s, the checker says: %s", w.s, out.s);
            sb_free(&out);
            sb_free(&w);
            return RUNTIME;
        }
        lab_out(lab, "ok: %s%s", w.s, want ? "" : ", as expected");
        sb_free(&out);
        sb_free(&w);
        return OK;
    }
    if (!strcmp(argv[1], "role")) {
        if (argc != 4)
            return parse_err(lab, c, "expect role takes NODE and ROLE%s", "");
        int idx;
        if (lab_parse_node(lab, argv[2], &idx) < 0)
            return PARSE;
        lab_refresh(lab, NULL);
        const char *role = lab->cl->state[idx] == NODE_DOWN ? "down" : lab->view[idx].role;
        if (strcmp(role, argv[3])) {
            expect_fail(lab, "expected %s, saw %s", argv[3], role);
            return RUNTIME;
        }
        lab_out(lab, "ok: n%d is %s", idx + 1, role);
        return OK;
    }
    if (!strcmp(argv[1], "fail")) {
        if (argc < 3)
            return parse_err(lab, c, "expect fail needs a command%s", "");
        struct words w = {0};
        for (int i = 2; i < argc; i++) {
            for (int j = 0; lab->words && j < lab->words->argc; j++)
                if (lab->words->argv[j] == argv[i] && lab->words->raw[j]) {
                    w.raw[w.argc] = xstrdup(lab->words->raw[j]); /* as typed: put x "42" */
                    break;
                }
            w.argv[w.argc++] = xstrdup(argv[i]);
        }
        const struct words *outer = lab->words;
        lab->words = &w;
        const struct lab_command *inner = find_command(w.argv[0]);
        int rc;
        if (inner && (inner->run == cmd_put || inner->run == cmd_get || inner->run == cmd_cas)) {
            struct op_args a;
            int saved = lab->failed;
            rc = op_args(lab, w.argc, w.argv, &a);
            if (rc != OK) {
                /* refused before it could run (w=0, r=100): that is failing too */
                lab->words = outer;
                words_free(&w);
                lab->failed = saved;
                lab_out(lab, "ok: failed as expected");
                return OK;
            }
            struct op *op = NULL;
            if (rc == OK) {
                int arity_ok = (inner->run == cmd_put && a.argc == 2) || (inner->run == cmd_get && a.argc == 1) ||
                               (inner->run == cmd_cas && a.argc == 3);
                if (!arity_ok) {
                    json_decref(a.extra);
                    lab->words = outer;
                    words_free(&w);
                    return parse_err(lab, inner, "wrong number of arguments to %s", inner->name);
                }
                json_t *v = NULL;
                if (inner->run == cmd_put) {
                    v = value_arg(lab, a.argv[1], "value");
                } else if (inner->run == cmd_cas) {
                    json_t *from = value_arg(lab, a.argv[1], "FROM"), *to = from ? value_arg(lab, a.argv[2], "TO") : NULL;
                    v = to ? json_pack("[oo]", from, to) : NULL;
                    if (!to)
                        json_decref(from);
                }
                if (!v && inner->run != cmd_get) {
                    json_decref(a.extra);
                    lab->words = outer;
                    words_free(&w);
                    return PARSE; /* a bad value is the user's mistake, not the failure expected */
                }
                rc = do_op(lab, inner->run == cmd_put ? "write" : inner->run == cmd_get ? "read" : "cas", a.argv[0], v, &a, &op);
                json_decref(v);
            }
            lab->words = outer;
            words_free(&w);
            if (!op)
                return rc;
            struct sb d = {0};
            lab_op_describe(op, &d);
            int failed = op->outcome != OP_OK;
            lab_op_free(op);
            if (!failed) {
                expect_fail(lab, "expected the operation to fail, it succeeded: %s%s", d.s, "");
                sb_free(&d);
                return RUNTIME;
            }
            lab_out(lab, "ok: failed as expected (%s)", d.s);
            sb_free(&d);
            return OK;
        }
        int saved = lab->failed;
        rc = run_words(lab, &w);
        lab->words = outer;
        words_free(&w);
        lab->failed = saved;
        if (rc == OK) {
            expect_fail(lab, "expected '%s' to fail, it succeeded%s", argv[2], "");
            return RUNTIME;
        }
        lab_out(lab, "ok: failed as expected");
        return OK;
    }
    /* expect KEY = VALUE [@NODE] [cl=…] */
    if (argc >= 4 && !strcmp(argv[2], "=")) {
        struct op_args a;
        char *av[8];
        int ac = 0;
        av[ac++] = (char *)"get";
        av[ac++] = argv[1];
        for (int i = 4; i < argc && ac < 8; i++)
            av[ac++] = argv[i];
        /* values compare as JSON (42 is not "42"); nil and siblings by what the read printed */
        json_t *want = value_arg(lab, argv[3], "VALUE");
        if (!want)
            return PARSE;
        if (op_args(lab, ac, av, &a) != OK) {
            json_decref(want);
            return PARSE;
        }
        struct op *op = NULL;
        int rc = do_op(lab, "read", argv[1], NULL, &a, &op);
        if (!op) {
            json_decref(want);
            return rc;
        }
        struct sb d = {0};
        lab_op_result(op, &d);
        int ok = 0;
        if (op->outcome == OP_OK) {
            json_t *got = json_object_get(op->reply, "value");
            if (json_array_size(json_object_get(op->reply, "siblings")) > 1 || !strcmp(argv[3], "nil"))
                ok = !strcmp(d.s, argv[3]);
            else
                ok = got && json_equal(got, want);
        }
        json_decref(want);
        lab_op_free(op);
        if (!ok) {
            struct sb m = {0};
            sb_printf(&m, "%s = ", argv[1]);
            const char *typed = argv[3];
            for (int j = 0; lab->words && j < lab->words->argc; j++)
                if (lab->words->argv[j] == argv[3] && lab->words->raw[j])
                    typed = lab->words->raw[j]; /* "42" as typed, quotes kept */
            sb_add_escaped(&m, typed, strlen(typed));
            expect_fail(lab, "expected %s, got %s", m.s, d.s);
            sb_free(&m);
            sb_free(&d);
            return RUNTIME;
        }
        lab_out(lab, "ok: %s = %s", argv[1], d.s);
        sb_free(&d);
        return OK;
    }
    return parse_err(lab, c, "unknown expectation '%s'", argv[1]);
}

/* ---- inspection ----------------------------------------------------------------------------- */

static int cmd_log(struct lab *lab, int argc, char **argv)
{
    (void)argc;
    int idx;
    if (lab_parse_node(lab, argv[1], &idx) < 0)
        return PARSE;
    json_t *st[CL_MAXNODES] = {0};
    lab_refresh(lab, st);
    json_t *s = st[idx];
    for (int i = 0; i < CL_MAXNODES; i++)
        if (i != idx)
            json_decref(st[i]);
    if (!s) {
        lab_err(lab, "n%d is %s: no log to show", idx + 1, node_state_name(lab->cl->state[idx]));
        return RUNTIME;
    }
    json_t *log = json_object_get(s, "log");
    /* a mode without a replicated log names what its "log" holds instead (no term column) */
    const char *title = json_string_value(json_object_get(s, "log_title"));
    struct sb b = {0};
    if (!json_array_size(log)) {
        sb_printf(&b, "n%d's log is empty", idx + 1);
    } else {
        if (title)
            sb_printf(&b, "n%d %s:\n", idx + 1, title);
        else
            sb_printf(&b, "n%d log (index term command; * = committed):\n", idx + 1);
        size_t i;
        json_t *e;
        json_array_foreach(log, i, e) {
            json_t *term = json_object_get(e, "term");
            if (!term)
                term = json_object_get(e, "epoch");
            const char *cmd = json_string_value(json_object_get(e, "cmd"));
            if (title)
                sb_printf(&b, " %5lld  ", (long long)json_integer_value(json_object_get(e, "index")));
            else
                sb_printf(&b, "%s%5lld %4lld  ", json_is_true(json_object_get(e, "committed")) ? "*" : " ",
                          (long long)json_integer_value(json_object_get(e, "index")), (long long)json_integer_value(term));
            sb_add_escaped(&b, cmd ? cmd : "", cmd ? strlen(cmd) : 0);
            /* what else the mode says of the entry: "zxid 1:2, delivered", "ballot 1.n1" */
            const char *note = json_string_value(json_object_get(e, "note"));
            if (note && *note) {
                sb_add(&b, "   (");
                sb_add_escaped(&b, note, strlen(note));
                sb_addc(&b, ')');
            }
            sb_addc(&b, '\n');
        }
    }
    lab_out(lab, "%s", b.s);
    sb_free(&b);
    json_decref(s);
    return OK;
}

/* "12:00:01.234" from µs (the time of day of a node's clock). */
static void clock_text(uint64_t us, struct sb *b)
{
    uint64_t ms = us / 1000, s = ms / 1000;
    sb_printf(b, "%02u:%02u:%02u.%03u", (unsigned)(s / 3600 % 24), (unsigned)(s / 60 % 60), (unsigned)(s % 60),
              (unsigned)(ms % 1000));
}

/* `clocks`: per node the four clocks of the course — physical (its offset from true time:
 * skew, drift, NTP), Lamport, vector, hybrid logical (and how far its l runs ahead of the
 * node's own physical clock) — and TrueTime's interval where the mode keeps one. */
static int cmd_clocks(struct lab *lab, int argc, char **argv)
{
    (void)argc; (void)argv;
    if (!need_cluster(lab))
        return RUNTIME;
    json_t *st[CL_MAXNODES] = {0};
    lab_refresh(lab, st);
    struct sb b = {0}, tt = {0};
    int any_ntp = 0;
    sb_add(&b, "node  physical      offset      drift    lamport  vector            hlc (l - physical)\n");
    for (int i = 0; i < lab->cl->n; i++) {
        if (!st[i]) {
            sb_printf(&b, "n%-4d down\n", i + 1);
            continue;
        }
        struct sb line = {0}, col = {0};
        uint64_t pt = (uint64_t)json_integer_value(json_object_get(st[i], "clock_us"));
        const json_t *oj = json_object_get(st[i], "offset_us");
        double off = (double)json_integer_value(oj ? oj : json_object_get(st[i], "skew_us")) / 1000;
        int ntp = json_is_true(json_object_get(st[i], "ntp"));
        any_ntp |= ntp;
        clock_text(pt, &col);
        sb_printf(&line, "n%-4d %-13s %+9.3fms%s", i + 1, col.s, off, ntp ? "*" : " ");
        sb_free(&col);
        json_int_t ppm = json_integer_value(json_object_get(st[i], "drift_ppm"));
        if (ppm)
            sb_printf(&line, " %+6lldppm", (long long)ppm);
        else
            sb_add(&line, "        - ");
        char *vc = json_dumps(json_object_get(st[i], "vc"), JSON_COMPACT | JSON_ENCODE_ANY);
        sb_printf(&line, " %-8lld %-17s", (long long)json_integer_value(json_object_get(st[i], "lamport")), vc ? vc : "[]");
        free(vc);
        const json_t *h = json_object_get(st[i], "hlc");
        uint64_t l = (uint64_t)json_integer_value(json_array_get(h, 0));
        if (l) {
            sb_add(&line, " ");
            clock_text(l, &line);
            sb_printf(&line, "+%lld (%+.1fms)", (long long)json_integer_value(json_array_get(h, 1)),
                      ((double)l - (double)pt) / 1000);
        } else {
            sb_add(&line, " -");
        }
        sb_printf(&b, "%s\n", line.s);
        sb_free(&line);
        const json_t *t = json_object_get(st[i], "truetime");
        if (json_is_object(t)) {
            uint64_t e = (uint64_t)json_integer_value(json_object_get(t, "earliest"));
            uint64_t la = (uint64_t)json_integer_value(json_object_get(t, "latest"));
            double eps = (double)json_integer_value(json_object_get(t, "epsilon_us")) / 1000;
            sb_printf(&tt, "n%-4d TT.now() = [", i + 1);
            clock_text(e, &tt);
            sb_add(&tt, ", ");
            clock_text(la, &tt);
            sb_printf(&tt, "]  ε=%.3fms  %s\n", eps,
                      fabs(off) <= eps ? "holds true time" : "MISSES true time: the clock is off by more than ε");
        }
        json_decref(st[i]);
    }
    sb_printf(&b, "(offset: the clock minus true time, from skew, drift and NTP%s;\n"
                  " lamport: one counter, receive > send; vector: one count per node, a -> b iff V(a) < V(b);\n"
                  " hlc: the largest physical time heard of, plus a counter: causal like lamport, close to real time)",
              any_ntp ? " (*: NTP syncs it)" : "");
    if (tt.len)
        sb_printf(&b, "\ntruetime (an interval that holds true time while |offset| <= ε):\n%.*s", (int)tt.len - 1, tt.s);
    lab_out(lab, "%s", b.s);
    sb_free(&b);
    sb_free(&tt);
    return OK;
}

/* trace export FILE [--shiviz|--chrome]: this run's events for ShiViz or Perfetto. */
static int trace_export_cmd(struct lab *lab, int argc, char **argv)
{
    const struct lab_command *c = find_command("trace");
    const char *path = NULL, *fmt = NULL;
    for (int i = 2; i < argc; i++) {
        if (argv[i][0] == '-' && argv[i][1] == '-') {
            if (fmt)
                return parse_err(lab, c, "trace export takes one format, --shiviz or --chrome, not %s too", argv[i]);
            fmt = argv[i];
        } else if (!path) {
            path = argv[i];
        } else {
            return parse_err(lab, c, "trace export takes one file, not %s too", argv[i]);
        }
    }
    if (!path)
        return parse_err(lab, c, "trace export needs a file: trace export FILE --shiviz|--chrome%s", "");
    if (!fmt)
        fmt = ends_with(path, ".json") ? "--chrome" : ends_with(path, ".log") || ends_with(path, ".shiviz") ? "--shiviz" : NULL;
    if (!fmt || (strcmp(fmt, "--shiviz") && strcmp(fmt, "--chrome")))
        return parse_err(lab, c, "trace export: which format? add --shiviz (ShiViz log) or --chrome (Chrome trace / Perfetto)%s", "");
    int shiviz = !strcmp(fmt, "--shiviz");
    json_t **evs = xcalloc(lab->ev_count + 1, sizeof *evs);
    for (size_t i = 0; i < lab->ev_count; i++)
        evs[i] = lab->events[(lab->ev_head + i) % LAB_MAX_EVENTS];
    struct sb out = {0};
    size_t n = trace_export(evs, lab->ev_count, shiviz ? TRACE_SHIVIZ : TRACE_CHROME, &out);
    free(evs);
    int rc = write_file(lab, path, out.s ? out.s : "", out.len);
    sb_free(&out);
    if (rc < 0)
        return RUNTIME;
    lab_out(lab, "exported %zu node events of this run to %s (%s)", n, path,
            shiviz ? "ShiViz log: open https://bestchai.bitbucket.io/shiviz/ and upload it"
                   : "Chrome trace: open it in https://ui.perfetto.dev or chrome://tracing");
    return OK;
}

static int cmd_trace(struct lab *lab, int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "export"))
        return trace_export_cmd(lab, argc, argv);
    if (argc != 2)
        return parse_err(lab, find_command("trace"), "trace takes one file (or: trace export FILE --shiviz|--chrome)%s", "");
    if (lab->trace)
        fclose(lab->trace);
    lab->trace = fopen(argv[1], "w");
    if (!lab->trace) {
        lab_err(lab, "cannot write %s", argv[1]);
        return RUNTIME;
    }
    for (size_t i = 0; i < lab->ev_count; i++) {
        char *s = json_dumps(lab->events[(lab->ev_head + i) % LAB_MAX_EVENTS], JSON_COMPACT);
        if (s) {
            fprintf(lab->trace, "%s\n", s);
            free(s);
        }
    }
    fflush(lab->trace);
    lab_out(lab, "tracing every event to %s (%zu so far); 'conlab replay %s' plays it back", argv[1], lab->ev_count, argv[1]);
    return OK;
}

static int cmd_endpoints(struct lab *lab, int argc, char **argv)
{
    (void)argc; (void)argv;
    struct sb b = {0};
    if (lab->room) { /* a classroom: the key agents and dashboards need, and each node's host */
        room_describe(lab->room, &b);
        sb_addc(&b, '\n');
        if (!lab->cl) {
            lab_out(lab, "%s", b.s);
            sb_free(&b);
            return OK;
        }
    }
    if (!need_cluster(lab)) {
        sb_free(&b);
        return RUNTIME;
    }
    for (int i = 0; i < lab->cl->n; i++) {
        int h = lab->room && !lab->cl->sim ? room_host_of(lab->room, i) : -1;
        sb_printf(&b, "n%d %s", i + 1, lab->cl->ops->endpoint(lab->cl, i));
        if (h >= 0)
            sb_printf(&b, " on host %s, peers at %s (CURVE: the cluster's keys only)", room_host(lab->room, h)->name,
                      lab->cl->ops->peer_endpoint ? lab->cl->ops->peer_endpoint(lab->cl, i) : "?");
        sb_addc(&b, '\n');
    }
    lab_out(lab, "%s", b.s);
    sb_free(&b);
    return OK;
}

static int cmd_quit(struct lab *lab, int argc, char **argv)
{
    (void)argc; (void)argv;
    lab->quit = 1;
    return OK;
}

static int cmd_help(struct lab *lab, int argc, char **argv);

/* send NODE TYPE [key=value…] | send NODE '{json}': any client body, as is. */
/* spoof NODE as=ID [with=NODE] TYPE [key=value...] | spoof NODE as=ID [with=NODE] '{JSON}' */
static int cmd_spoof(struct lab *lab, int argc, char **argv)
{
    const struct lab_command *c = find_command("spoof");
    if (!need_cluster(lab))
        return RUNTIME;
    int idx, as_idx = -1, key_of = -1, ai = 2;
    const char *as = NULL;
    if (lab_parse_node(lab, argv[1], &idx) < 0)
        return PARSE;
    for (; ai < argc; ai++) {
        if (!strncmp(argv[ai], "as=", 3)) {
            as = argv[ai] + 3;
        } else if (!strncmp(argv[ai], "with=", 5)) {
            if (lab_parse_node(lab, argv[ai] + 5, &key_of) < 0)
                return PARSE;
        } else {
            break;
        }
    }
    if (!as || !*as)
        return parse_err(lab, c, "say whom the attacker claims to be: as=NODE, e.g. as=n1%s", "");
    if (strlen(as) >= CL_IDLEN)
        return parse_err(lab, c, "as=%s is too long for a sender id", as);
    if (ai >= argc)
        return parse_err(lab, c, "spoof needs a message: a TYPE (and key=value fields) or a '{JSON}' body%s", "");
    parse_node_id(as, lab->cl->n, &as_idx);
    json_t *body;
    if (argv[ai][0] == '{') {
        if (ai != argc - 1)
            return parse_err(lab, c, "a JSON body is one word and comes last: quote it, e.g. '%s'", "{\"type\":\"ll_write\"}");
        json_error_t je;
        body = json_loads(argv[ai], JSON_REJECT_DUPLICATES, &je);
        if (!json_is_object(body) || !json_is_string(json_object_get(body, "type"))) {
            json_decref(body);
            struct sb m = {0};
            if (!body)
                sb_printf(&m, "bad JSON body at column %d: %s", je.column, je.text);
            else
                sb_add(&m, "the body needs a string \"type\"");
            int rc = parse_err(lab, c, "%s", m.s);
            sb_free(&m);
            return rc;
        }
    } else {
        body = json_pack("{s:s}", "type", argv[ai]);
        for (int i = ai + 1; i < argc; i++) {
            const char *eq = strchr(argv[i], '=');
            if (!eq || eq == argv[i]) {
                json_decref(body);
                return parse_err(lab, c, "bad field '%s': expected key=value (values are strings; a JSON body for others)", argv[i]);
            }
            char *k = xstrndup(argv[i], (size_t)(eq - argv[i]));
            json_object_set_new(body, k, json_string(eq + 1));
            free(k);
        }
    }
    if (!lab->cl->ops->spoof) {
        json_decref(body);
        lab_err(lab, "this cluster cannot be spoofed");
        return RUNTIME;
    }
    char type[64];
    str_copy(type, json_string_value(json_object_get(body, "type")), sizeof type);
    int sim = lab->cl->sim, auth = !sim && strcmp(opts_get(&lab->cl->opts, "auth", "curve"), "off") != 0;
    char err[256] = "", with[CL_IDLEN] = "own";
    if (key_of >= 0)
        node_name(key_of, with);
    if (lab->cl->ops->spoof(lab->cl, idx, as, auth ? key_of : -1, body, err, sizeof err) < 0) {
        lab_err(lab, "cannot spoof n%d: %s", idx + 1, err);
        return RUNTIME;
    }
    lab_event(lab, "fault", json_pack("{s:s,s:s,s:s,s:s,s:s}", "what", "spoof", "target", argv[1], "as", as, "type",
                                      type, "key", auth ? with : "none"));
    struct sb b = {0};
    sb_printf(&b, "an attacker sent %s to n%d claiming to be %s", type, idx + 1, as);
    if (sim)
        sb_add(&b, ". The simulator models no peer authentication: the node takes it as an auth=off node"
                   " would (try it on real processes: start without sim=on).");
    else if (!auth && as_idx >= 0 && as_idx != idx && lab->cl->state[as_idx] == NODE_UP)
        sb_printf(&b, " (auth=off: the peer socket trusts the routing id). But %s is up and already"
                      " connected to n%d under that id: n%d keeps the first connection with an id and"
                      " ignores this one. Crash %s first to take its place.", as, idx + 1, idx + 1, as);
    else if (!auth)
        sb_printf(&b, " (auth=off: the peer socket trusts the routing id). If n%d shows a recv from %s,"
                      " it believed it: `wait event recv n%d type=%s`.", idx + 1, as, idx + 1, type);
    else if (key_of < 0)
        sb_printf(&b, " with a CURVE key of its own. n%d admits only the cluster's keys: watch for"
                      " `drop` why=\"unauthenticated peer\" (`wait event drop n%d`).", idx + 1, idx + 1);
    else if (as_idx != key_of)
        sb_printf(&b, " with %s's stolen key. n%d knows a sender by its key (%s), not by what it claims:"
                      " watch for `drop` why=\"spoofed sender\".", with, idx + 1, with);
    else
        sb_printf(&b, " with %s's own stolen key: authentication cannot tell it from %s. Keys must stay"
                      " secret (and be replaced when one leaks).", with, as);
    lab_out(lab, "%s", b.s);
    sb_free(&b);
    return OK;
}

static int cmd_send(struct lab *lab, int argc, char **argv)
{
    const struct lab_command *c = find_command("send");
    int idx;
    if (lab_parse_node(lab, argv[1], &idx) < 0)
        return PARSE;
    /* a trailing as=NAME: sent by that named client (its own process in the history) */
    int process = -1;
    if (argc > 3 && !strncmp(argv[argc - 1], "as=", 3)) {
        const char *name = argv[argc - 1] + 3;
        size_t len = strlen(name);
        int good = len >= 1 && len <= 15 && name[0] >= 'a' && name[0] <= 'z';
        for (size_t k = 0; good && k < len; k++)
            good = (name[k] >= 'a' && name[k] <= 'z') || (name[k] >= '0' && name[k] <= '9');
        if (!good)
            return parse_err(lab, c, "bad %s: expected as=NAME, a client name of 1 to 15 letters and digits", argv[argc - 1]);
        process = lab_client_process(lab, name);
        if (process < 0)
            return parse_err(lab, c, "bad %s: the lab has no room for another named client", argv[argc - 1]);
        argc--;
    }
    json_t *body = NULL;
    if (argv[2][0] == '{') {
        if (argc != 3)
            return parse_err(lab, c, "a JSON body is one word: quote it, e.g. '%s'", "{\"type\":\"echo\",\"echo\":\"hi\"}");
        json_error_t je;
        body = json_loads(argv[2], JSON_REJECT_DUPLICATES, &je);
        if (!json_is_object(body)) {
            json_decref(body);
            struct sb m = {0};
            sb_printf(&m, "bad JSON body at column %d: %s", je.column, je.text);
            int rc = parse_err(lab, c, "%s", m.s);
            sb_free(&m);
            return rc;
        }
        if (!json_is_string(json_object_get(body, "type"))) {
            json_decref(body);
            return parse_err(lab, c, "the body needs a string \"type\"%s", "");
        }
    } else {
        body = json_pack("{s:s}", "type", argv[2]);
        for (int i = 3; i < argc; i++) {
            const char *eq = strchr(argv[i], '=');
            if (!eq || eq == argv[i]) {
                json_decref(body);
                return parse_err(lab, c, "bad field '%s': expected key=value (a value as put reads it; a JSON body for others)", argv[i]);
            }
            char *k = xstrndup(argv[i], (size_t)(eq - argv[i]));
            /* key= is a string; any other field's value as put reads it (value=42 the number,
             * a word a string); JSON with quotes goes in a JSON body */
            json_t *v = NULL;
            if (strcmp(k, "key")) {
                char err[200];
                v = jtext_parse(eq + 1, strlen(eq + 1), err, sizeof err);
                if (!v) {
                    struct sb m = {0};
                    sb_printf(&m, "bad field '%s': %s", argv[i], err);
                    free(k);
                    json_decref(body);
                    int rc = parse_err(lab, c, "%s", m.s);
                    sb_free(&m);
                    return rc;
                }
            }
            json_object_set_new(body, k, v ? v : json_string(eq + 1));
            free(k);
        }
    }
    /* a read, write or cas is a client operation of the history like get, put and cas (the
     * checkers must know every write); any other body is sent without a record */
    const char *type = json_string_value(json_object_get(body, "type"));
    const char *key = json_string_value(json_object_get(body, "key"));
    char keytext[32];
    if (json_is_integer(json_object_get(body, "key"))) { /* a whole-number key is its text, as the modes take it */
        snprintf(keytext, sizeof keytext, "%" JSON_INTEGER_FORMAT, json_integer_value(json_object_get(body, "key")));
        key = keytext;
    }
    const char *f = !strcmp(type, "read") ? "read" : !strcmp(type, "write") ? "write" : !strcmp(type, "cas") ? "cas" : NULL;
    json_t *value = !f || !key ? NULL : !strcmp(f, "write") ? json_incref(json_object_get(body, "value"))
                  : !strcmp(f, "cas") ? json_pack("[O?,O?]", json_object_get(body, "from"), json_object_get(body, "to")) : NULL;
    struct op *op;
    if (f && key && (strcmp(f, "write") || value)) {
        json_t *extra = json_deep_copy(body);
        static const char *const own[] = {"type", "key", "value", "from", "to", "msg_id"};
        for (size_t k = 0; k < CL_ARRAY_LEN(own); k++)
            json_object_del(extra, own[k]);
        op = lab_op_start(lab, f, key, value, idx, extra, process);
        json_decref(extra);
        if (op)
            op->as_is = 1; /* no redirect: the node answers as it is */
    } else {
        op = lab_send_start_as(lab, idx, body, process);
    }
    json_decref(value);
    json_decref(body);
    if (!op)
        return RUNTIME;
    lab_op_wait(lab, op);
    struct sb b = {0};
    lab_op_result(op, &b);
    const char *rtype = json_string_value(json_object_get(op->reply, "type"));
    int ok = op->outcome == OP_OK && !(rtype && !strcmp(rtype, "error")); /* an error reply fails */
    lab_op_free(op);
    if (ok)
        lab_out(lab, "%s", b.s);
    else
        lab_err(lab, "n%d answered %s", idx + 1, b.s);
    sb_free(&b);
    return ok ? OK : RUNTIME;
}

/* watch KEY: the dashboard draws each node's state of KEY on its card, from the node's newest
 * `digest` event of it (a mode that emits digests: crdt). A lab event says which key. */
static int cmd_watch(struct lab *lab, int argc, char **argv)
{
    (void)argc;
    if (strlen(argv[1]) >= 64) {
        lab_err(lab, "watch: a key of at most 63 bytes%s", "");
        return PARSE;
    }
    if (!strcmp(argv[1], "off")) {
        lab_event(lab, "watch", json_pack("{s:s}", "key", ""));
        lab_out(lab, "the dashboard shows the messages again%s", "");
        return OK;
    }
    /* each node's newest digest of the key so far (this cluster's), so the pane is drawn at once
     * rather than at the key's next change */
    json_t *digests = json_array();
    char seen[CL_MAXNODES][CL_IDLEN];
    int nseen = 0;
    for (size_t i = lab->ev_count; i-- > 0;) {
        const json_t *ev = lab->events[(lab->ev_head + i) % LAB_MAX_EVENTS];
        const char *en = json_string_value(json_object_get(ev, "ev"));
        if (!en)
            continue;
        if (!strcmp(en, "cluster"))
            break;
        const char *node = json_string_value(json_object_get(ev, "node"));
        const char *key = json_string_value(json_object_get(ev, "key"));
        if (strcmp(en, "digest") || !node || !key || strcmp(key, argv[1]))
            continue;
        int at = -1;
        for (int k = 0; k < nseen && at < 0; k++)
            if (!strcmp(seen[k], node))
                at = k;
        if (at >= 0) {
            /* an older digest of a node already taken: it may carry the text a mode says once
             * per key (the state's "about") that the newest one left out */
            json_t *st = json_object_get(json_array_get(digests, (size_t)at), "state");
            const json_t *about = json_object_get(json_object_get(ev, "state"), "about");
            if (json_is_object(st) && about && !json_object_get(st, "about"))
                json_object_set(st, "about", (json_t *)about);
            continue;
        }
        if (nseen == CL_MAXNODES)
            continue;
        str_copy(seen[nseen++], node, CL_IDLEN);
        json_array_append_new(digests, json_deep_copy(ev));
    }
    lab_event(lab, "watch", json_pack("{s:s,s:o}", "key", argv[1], "digests", digests));
    lab_out(lab, "the dashboard shows each node's state of %s side by side in place of the messages, and its value "
                 "on the node cards (from the nodes' digest events; `watch off` ends it)", argv[1]);
    return OK;
}

static const struct lab_command commands[] = {
    {"start", "start MODE [N] [key=value...]", "Start N nodes (default 3) running MODE. Options: the mode's own (see 'help MODE') and seed=, speed=, sim=on, fsync=off, timeout=, bug=.", "start leader 3 repl=async failover=manual", 1, -1, cmd_start},
    {"stop", "stop", "Stop the cluster; the history is kept.", "stop", 0, 0, cmd_stop},
    {"status", "status [NODE]", "One line per node: role, the mode's figures (term or epoch, commit index, …), up/down/paused. With NODE: its line, then every detail its mode reports (ballots and promises, epochs and each follower's acks, …), one per line.", "status n2", 0, 1, cmd_status},
    {"put", "put KEY VALUE [@NODE] [cl=one|quorum|all] [w=N] [as=CLIENT]", "Write KEY=VALUE through the lab's gateway (to the leader, or @NODE). Prints ok, error CODE TEXT, or timeout, and how long the client waited. as=alice sends it as another client (its own process in the history). VALUE is JSON when it reads as JSON: put x 42 stores the number 42, put x \"42\" the string \"42\", put x {\"a\":[1,2]} that object, put x true a boolean; any other word is a string (put x hello). A value that starts with \", { or [ must be whole JSON (an error names what is wrong and where).", "put x 1 @n2", 2, 6, cmd_put},
    {"get", "get KEY [@NODE] [cl=one|quorum|all] [r=N] [as=CLIENT]", "Read KEY. Prints the value, nil, or an error, and how long the client waited. A number prints bare (42), a string in double quotes when it would read as another value (\"42\", \"true\"), a plain word bare (hello), an object or array as its JSON.", "get x @n3", 1, 5, cmd_get},
    {"cas", "cas KEY FROM TO [@NODE] [as=CLIENT]", "Compare-and-set: KEY becomes TO if it is FROM. FROM and TO are values as put reads them, compared as JSON: cas x \"42\" 1 does not match the number 42.", "cas x 1 2", 3, 6, cmd_cas},
    {"send", "send NODE TYPE [key=value...] [as=CLIENT] | send NODE '{JSON}' [as=CLIENT]", "Send any client body to NODE as it is (no redirect followed) and print the reply, e.g. a mode's own workload; an error reply fails the command. A read, write or cas is recorded in the history like get, put and cas, and so are Maelstrom's workload operations (add with a delta or an element, broadcast, a read without key); other bodies are not. In key=value fields key is a string and every other value is read as put reads it (value=42 the number, value=hello a string); a JSON body sends anything else.", "send n1 echo echo=hello", 2, -1, cmd_send},
    {"partition", "partition A,B | C,D  or  partition one|halves|majority|minority-third|majorities-ring|bridge", "Cut the network into groups; unnamed nodes join the last group. Named shapes pick nodes at random (repeatable with seed=).", "partition n1 | n2,n3", 1, -1, cmd_partition},
    {"isolate", "isolate NODE", "Cut NODE off from every other node (clients still reach it).", "isolate leader", 1, 1, cmd_isolate},
    {"cut", "cut SRC->DST", "One-way cut: SRC's messages to DST are dropped; DST still reaches SRC. '*' stands for every node.", "cut n1->n2", 1, 1, cmd_cut},
    {"heal", "heal", "Remove every partition and link fault.", "heal", 0, 0, cmd_heal},
    {"crash", "crash NODE|CLIENT", "Kill NODE (or a named client) with SIGKILL: whatever it had not fsynced is gone; a client's session then expires.", "crash n1", 1, 1, cmd_crash},
    {"restart", "restart NODE", "Start a crashed NODE again on its data directory.", "restart n1", 1, 1, cmd_restart},
    {"pause", "pause NODE|CLIENT [DURATION]", "Freeze NODE (or a named client) with SIGSTOP, like a long GC pause; with DURATION it resumes by itself after it.", "pause leader", 1, 2, cmd_pause},
    {"resume", "resume NODE|CLIENT", "Let a paused NODE (or client) run again (SIGCONT).", "resume n1", 1, 1, cmd_resume},
    {"delay", "delay [SRC->DST] MS[~JITTER]", "Delay messages on one link or on all links (0 removes it).", "delay n1->n2 200~50", 1, 2, cmd_delay},
    {"bandwidth", "bandwidth [SRC->DST] KBPS|off", "Limit a link (or every link) to KBPS kilobits per second: messages leave one after another and the rest queue (the queue shows in status, on the dashboard and as queue events; a full queue of 1000 drops). off or heal removes it.", "bandwidth n1->n2 64", 1, 2, cmd_bandwidth},
    {"loss", "loss [SRC->DST] PCT", "Drop this percentage of messages on one link or all.", "loss 10", 1, 2, cmd_loss},
    {"dup", "dup [SRC->DST] PCT", "Duplicate this percentage of messages.", "dup 5", 1, 2, cmd_dup},
    {"reorder", "reorder [SRC->DST] PCT", "Hold back this percentage of messages so later ones overtake them.", "reorder 20", 1, 2, cmd_reorder},
    {"skew", "skew NODE ±MS", "Set NODE's physical clock offset from true time.", "skew n1 -5000", 2, 2, cmd_skew},
    {"clock", "clock bump NODE ±MS | clock strobe NODE MS PERIOD | clock drift NODE ±PPM", "Jump NODE's clock by ±MS, make it flip between +0 and +MS every PERIOD ms, or make it run fast (+) or slow (-) by PPM parts per million (1000 ppm: 1 ms per second).", "clock drift n2 +500", 2, 4, cmd_clock},
    {"ntp", "ntp on [ERROR] [POLL] | ntp off", "Sync every node's clock to true time now and every POLL (default 1s), each sync leaving it off by up to ±ERROR ms (default 2); off leaves each clock where the last sync put it. 'clocks' shows each offset.", "ntp on 5", 1, 3, cmd_ntp},
    {"wait", "wait DURATION | wait leader [TIMEOUT] | wait converged [TIMEOUT] | wait NODE ROLE [TIMEOUT] | wait event EV [NODE] [FIELD=VALUE...] [since=start] [TIMEOUT] | wait WHAT … (the mode's own: help MODE)", "Wait real time (give the unit: 500ms, 2s), or until a leader is known to a majority, until every live replica holds the same data, until NODE is in ROLE (leader, follower, candidate, …, or up, down, paused), until an event EV arrives (from NODE, with these fields; since=start: one the lab already received counts too), or until a condition the running mode offers holds ('help MODE' lists them).", "wait n1 leader", 1, 12, cmd_wait},
    {"speed", "speed [FACTOR]", "Scale every protocol timer (elections, heartbeats, check-quorum, leases) of the running cluster: 0.1 is ten times slower, to watch an election; alone, print the speed. The - and + keys step through 1, 0.5, 0.25, 0.1 and 0.05.", "speed 0.1", 0, 1, cmd_speed},
    {"freeze", "freeze", "Stop virtual time (sim=on).", "freeze", 0, 0, cmd_freeze},
    {"step", "step [N]", "Advance a frozen simulation by N events (default 1).", "step 5", 0, 1, cmd_step},
    {"thaw", "thaw", "Let virtual time run again.", "thaw", 0, 0, cmd_thaw},
    {"history", "history [save FILE | export FILE.edn [independent] | clear]", "Show the recorded operations, save them as JSONL for 'conlab check', export them as Jepsen EDN (FILE.edn, for Knossos, Porcupine and 'conlab check'; with independent, each key's operations as jepsen.independent [k v] tuples) or JSONL (FILE.jsonl), or start a new history (checks then judge only what comes next).", "history export run.edn", 0, 3, cmd_history},
    {"check", "check [linearizable|sessions|sequential|causal|converged|counter|g-counter|g-set|or-set|broadcast]", "Judge the history, or compare the replicas. counter, g-counter, g-set, or-set and broadcast judge the workload operations this cluster's run recorded (add, remove, broadcast and their reads: `send` of Maelstrom's bodies, the crdt mode's incr/decr/sadd/srem, get); the others judge reads, writes and cas.", "check linearizable", 0, 1, cmd_check},
    {"expect", "expect leader | expect KEY = VALUE [@NODE] | expect fail COMMAND | expect [not] linearizable|sessions|sequential|causal|MODE-CHECK | expect converged | expect role NODE ROLE", "Assert something; a failure prints FAIL and makes a script exit 1. expect KEY = VALUE reads KEY and compares JSON values, VALUE as put reads it (expect x = 42 wants the number, expect x = \"42\" the string; nil an absent key; with siblings, the line get prints).", "expect x = 1 @n2", 1, -1, cmd_expect},
    {"compare", "compare [MODE...]", "The replication table of the course (6.4), measured live: the same writes and the same partition on each mode that has a row (single-leader, leaderless, ...), one after the other, then write latency, messages per write, writes served under the partition, conflicting writes, acknowledged writes lost and the linearizability verdict, side by side. Stops the running cluster.", "compare", 0, 8, cmd_compare},
    {"messages", "messages [NODE]", "What the messages cost, per message type, since this cluster started: how many were sent (by NODE), their size in JSON bytes (mean, max) and the time to serialize one. Fallacy 7: transport cost is not zero.", "messages n1", 0, 1, cmd_messages},
    {"log", "log NODE", "NODE's replicated log: index, term, command; committed entries marked.", "log n2", 1, 1, cmd_log},
    {"clocks", "clocks", "Every node's four clocks: physical (its offset from true time: skew, drift, NTP), Lamport, vector, and hybrid logical (HLC: l.c, and how far l runs ahead of the physical clock); and TrueTime's interval where the mode keeps one (spanner).", "clocks", 0, 0, cmd_clocks},
    {"trace", "trace FILE | trace export FILE --shiviz|--chrome", "Write every event the lab keeps (the newest 200000, at most 24 MiB; then each new one) to FILE for 'conlab replay', or export this run's node events for ShiViz (a log with vector clocks) or as a Chrome trace (Perfetto, chrome://tracing: roles, events and message arrows).", "trace export run.json --chrome", 1, 3, cmd_trace},
    {"endpoints", "endpoints", "Where any program can connect a ZeroMQ DEALER to each node. In a classroom (conlab serve) also the lab's address and CURVE server key (what conlab join and conlab dash --attach need) and each node's host; a node's client socket is then on its host's loopback, reached through the host's agent.", "endpoints", 0, 0, cmd_endpoints},
    {"spoof", "spoof NODE as=ID [with=NODE] TYPE [key=value...] | spoof NODE as=ID [with=NODE] '{JSON}'", "An attacker on this machine sends NODE a message between nodes claiming to be ID, straight to its peer socket (fallacy 4: the network is not secure). With auth=curve (the default) it offers a key of its own, or with= another node's stolen key; the node refuses it with a drop event. With auth=off the node believes it (when ID is not connected already).", "spoof n2 as=n1 ll_write", 3, 40, cmd_spoof},
    {"help", "help [COMMAND|MODE]", "List commands, or explain one.", "help partition", 0, 1, cmd_help},
    {"quit", "quit", "Stop the cluster and leave.", "quit", 0, 0, cmd_quit},
    {"exit", "exit", "Same as quit.", "exit", 0, 0, cmd_quit},
    {"watch", "watch KEY | watch off", "Draw each node's internal state of KEY side by side on the dashboard (the State pane, in place of Messages: counter vectors, set elements with their dots, tombstones, register siblings; entries that differ between nodes marked *, the moment of convergence on its border) and its value and causal context on the node cards, from the nodes' digest events (modes that emit them: crdt). watch off brings the messages back.", "watch cart", 1, 1, cmd_watch},
    {NULL, NULL, NULL, NULL, 0, 0, NULL},
};

static const struct lab_command *find_command(const char *name)
{
    for (const struct lab_command *c = commands; c->name; c++)
        if (!strcmp(c->name, name))
            return c;
    return lab_added_command(name);
}

/* Every table of lab commands, the lab's own first: calls fn on each command. */
static void each_command(void (*fn)(const struct lab_command *c, void *ud), void *ud)
{
    for (const struct lab_command *c = commands; c->name; c++)
        fn(c, ud);
    int n;
    const struct lab_command *const *t = lab_added_tables(&n);
    for (int i = 0; i < n; i++)
        for (const struct lab_command *c = t[i]; c->name; c++)
            fn(c, ud);
}

static const struct mode_command *find_mode_command(const struct mode *m, const char *name)
{
    for (const struct mode_command *c = m ? m->commands : NULL; c && c->name; c++)
        if (!strcmp(c->name, name))
            return c;
    return NULL;
}

static void help_line(const struct lab_command *c, void *ud)
{
    if (strncmp(c->name, "lesson-", 7)) /* script-only: lesson solutions */
        sb_printf(ud, "  %s\n", c->usage);
}

static int cmd_help(struct lab *lab, int argc, char **argv)
{
    struct sb b = {0};
    if (argc == 1) {
        sb_add(&b, "commands (';' separates commands, '#' starts a comment; 'help COMMAND' for more):\n");
        each_command(help_line, &b);
        for (int i = 0; mode_table[i]; i++)
            for (const struct mode_command *c = mode_table[i]->commands; c && c->name; c++)
                sb_printf(&b, "  %-40s (%s mode)\n", c->usage, mode_table[i]->name);
        sb_add(&b, "modes:");
        for (int i = 0; mode_table[i]; i++)
            sb_printf(&b, " %s", mode_table[i]->name);
        sb_add(&b, "\nin a lesson: hint (a clue), next (the next step once this one is done), back (the "
                   "step before), quiz (after the last step), restart, lesson check (why the step is not "
                   "done), lesson skip, lesson quit");
        sb_add(&b, "\nNODE is n1, n2, … or 'leader'.");
        lab_out(lab, "%s", b.s);
        sb_free(&b);
        return OK;
    }
    const struct lab_command *c = find_command(argv[1]);
    if (c) {
        lab_out(lab, "usage: %s\n%s\nexample: %s", c->usage, c->help, c->example);
        return OK;
    }
    for (int i = 0; mode_table[i]; i++) {
        const struct mode *m = mode_table[i];
        const struct mode_command *mc = find_mode_command(m, argv[1]);
        if (mc) {
            lab_out(lab, "usage: %s   (%s mode)\n%s\nexample: %s", mc->usage, m->name, mc->help, mc->example);
            return OK;
        }
        if (!strcmp(m->name, argv[1])) {
            sb_printf(&b, "mode %s: %s\n", m->name, m->summary);
            if (m->workload)
                sb_printf(&b, "clients speak Maelstrom's %s workload\n", m->workload);
            if (m->roles && m->roles->role) {
                sb_add(&b, "roles:");
                for (const struct mode_role *r = m->roles; r->role; r++)
                    sb_printf(&b, " %s (%s)", r->role, role_class_name(r->cls));
                sb_addc(&b, '\n');
            }
            sb_add(&b, "options:\n");
            for (const struct mode_option *o = m->options; o && o->name; o++)
                sb_printf(&b, "  %s=%s (default %s): %s\n", o->name,
                          o->kind == OPT_ENUM ? (o->values ? o->values : "VALUE")
                          : o->kind == OPT_INT ? "N" : "DURATION",
                          o->def && *o->def ? o->def : "none", o->help);
            if (m->bugs)
                sb_printf(&b, "  bug=%s: disable one rule, to see what it is for\n", m->bugs);
            for (const struct mode_command *mc2 = m->commands; mc2 && mc2->name; mc2++)
                sb_printf(&b, "command: %s  %s\n", mc2->usage, mc2->help);
            for (const struct mode_wait *w = m->waits; w && w->name; w++)
                sb_printf(&b, "wait: %s  %s\n", w->usage, w->help);
            if (m->max_nodes > 0)
                sb_printf(&b, "nodes: up to %d\n", mode_max_nodes(m));
            lab_out(lab, "%s", b.s);
            sb_free(&b);
            return OK;
        }
    }
    lab_err(lab, "no command or mode named '%s'; type 'help' for the list", argv[1]);
    return PARSE;
}

/* ---- dispatch ---------------------------------------------------------------------------------- */

struct nearest {
    const char *name, *best;
    int bd;
};

static void nearest_one(const struct lab_command *c, void *ud)
{
    struct nearest *n = ud;
    int d = str_distance(n->name, c->name);
    if (d < n->bd) {
        n->bd = d;
        n->best = c->name;
    }
}

static void did_you_mean(const char *name, struct sb *b)
{
    struct nearest n = {name, NULL, 3};
    each_command(nearest_one, &n);
    for (int i = 0; mode_table[i]; i++)
        for (const struct mode_command *c = mode_table[i]->commands; c && c->name; c++) {
            int d = str_distance(name, c->name);
            if (d < n.bd) {
                n.bd = d;
                n.best = c->name;
            }
        }
    sb_add(b, "unknown command '");
    sb_add_escaped(b, name, strlen(name));
    sb_add(b, "'");
    if (n.best)
        sb_printf(b, " (did you mean %s?)", n.best);
    sb_add(b, "; type 'help' for the list");
}

/* The node a leader-bound command goes to: right after a heal or a crash the cluster may be
 * between leaders (or the lab's last view names one that already stepped down), so wait, up
 * to a few election timeouts, for a leader a majority agrees on before falling back to the
 * highest-term node that says it leads. -1 when there is none. */
static int leader_target(struct lab *lab)
{
    if (!lab_mode_has_leader(lab, NULL))
        return -1;
    if (wait_for(lab, wall_timeout(lab, NULL, 5000000), pred_leader, NULL)) {
        int l;
        int64_t t;
        lab_leader_agreed(lab, &l, &t);
        return l;
    }
    return lab_leader(lab, 1);
}

/* Runs a mode command on the node its target rule picks (mode.h). A trailing @NODE picks the
 * node for commands that do not name one. */
static int run_mode_command(struct lab *lab, const struct mode_command *mc, struct words *w)
{
    int at = -1;
    if (w->argc > 1 && w->argv[w->argc - 1][0] == '@' && mc->target != MC_ON_NODE) {
        if (lab_parse_node(lab, w->argv[w->argc - 1] + 1, &at) < 0)
            return PARSE;
        free(w->argv[--w->argc]);
        w->argv[w->argc] = NULL;
    }
    int nargs = w->argc - 1;
    if (nargs < mc->min_args || nargs > mc->max_args) {
        lab_err(lab, "wrong number of arguments; usage: %s", mc->usage);
        return PARSE;
    }
    int target = -1, to_leader = 0;
    const struct mode *m = lab->cl->mode;
    switch (mc->target) {
    case MC_ADD_NODE: {
        char err[256], id[CL_IDLEN];
        /* no node is started while the cluster has no leader to take it */
        if (lab_mode_has_leader(lab, NULL) && leader_target(lab) < 0) {
            lab_err(lab, "no node is leader right now: there is nothing to add a node to (try 'wait leader')");
            return RUNTIME;
        }
        node_name(lab->cl->n, id);
        if (nargs >= 1 && strcmp(w->argv[1], id)) {
            /* the argument is honoured or refused, never ignored: an existing node (removed
             * earlier, say) goes back to the mode as it is; a new node can only be the next */
            int named;
            const char *a = w->argv[1];
            if (a[0] != 'n' || !a[1] || strspn(a + 1, "0123456789") != strlen(a + 1) || strlen(a) > 6) {
                lab_err(lab, "add %s: expected a node id such as %s (the next new node)", a, id);
                return PARSE;
            }
            named = atoi(a + 1) - 1;
            if (named < 0) {
                lab_err(lab, "add %s: nodes are numbered from n1", a);
                return PARSE;
            }
            if (named > lab->cl->n) {
                lab_err(lab, "add %s: the next new node is %s (nodes are numbered in order)", w->argv[1], id);
                return PARSE;
            }
            if (named < lab->cl->n) {
                char nid[CL_IDLEN];
                node_name(named, nid);
                free(w->argv[1]);
                w->argv[1] = xstrdup(nid);
                target = at >= 0 ? at : lab_leader(lab, 1);
                break;
            }
        }
        if (m->join_option) {
            /* a mode that bootstraps newcomers outside the configuration learns which nodes
             * are new: the list grows with each add */
            const char *prev = opts_get(&lab->cl->opts, m->join_option, NULL);
            char *list = prev && *prev ? xasprintf("%s,%s", prev, id) : xstrdup(id);
            opts_set(&lab->cl->opts, m->join_option, list);
            free(list);
        }
        int idx = lab->cl->ops->add_node(lab->cl, err, sizeof err);
        if (idx < 0) {
            lab_err(lab, "cannot add a node: %s", err);
            return RUNTIME;
        }
        node_name(idx, id);
        if (w->argc >= 2)
            free(w->argv[1]);
        else
            w->argc = 2;
        w->argv[1] = xstrdup(id);
        target = leader_target(lab);
        to_leader = 1;
        break;
    }
    case MC_ON_LEADER: {
        int named;
        if (nargs >= 1 && lab_parse_node(lab, w->argv[1], &named) < 0)
            return PARSE;
        target = at >= 0 ? at : leader_target(lab);
        to_leader = at < 0;
        break;
    }
    case MC_ON_NODE:
    case MC_REMOVE_NODE:
        if (nargs >= 1) {
            if (lab_parse_node(lab, w->argv[1], &target) < 0)
                return PARSE;
            char id[CL_IDLEN];
            node_name(target, id);
            free(w->argv[1]);
            w->argv[1] = xstrdup(id);
        }
        break;
    case MC_ANY:
        target = at >= 0 ? at : lab_leader(lab, 0);
        break;
    }
    for (int i = 0; target < 0 && i < lab->cl->n; i++)
        if (lab->cl->state[i] == NODE_UP)
            target = i;
    if (target < 0) {
        lab_err(lab, "no live node to run '%s' on", mc->name);
        return RUNTIME;
    }
    /* a workload operation (the face's as_op): recorded in the history like put and get */
    json_t *wop = m->command_op ? m->command_op(mc->name, w->argc - 1, w->argv + 1) : NULL;
    int wproc = lab->repl_process;
    const char *wf = json_string_value(json_object_get(wop, "f"));
    if (wop && !wf)
        json_decref(wop), wop = NULL;
    if (wop)
        lab_event(lab, "op", json_pack("{s:O}", "op", lab_record(lab, wproc, "invoke", wf, json_object_get(wop, "key"),
                                                               json_object_get(wop, "value"), target, NULL)));
    json_t *r = lab->cl->ops->command(lab->cl, target, mc->name, w->argc - 1, w->argv + 1);
    int ok = json_is_true(json_object_get(r, "ok"));
    int recorded = wop != NULL;
    if (wop) {
        /* no answer at all is indeterminate; an answer that refused is a definite failure */
        const char *t = ok ? "ok" : r ? "fail" : "info";
        const char *txt = json_string_value(json_object_get(r, "text"));
        json_t *rec = lab_record(lab, wproc, t, wf, json_object_get(wop, "key"), json_object_get(wop, "value"), target,
                                 ok ? NULL : json_string(txt ? txt : "no answer"));
        lab_event(lab, "op", json_pack("{s:O}", "op", rec));
        if (!r && wproc == lab->repl_process)
            lab->repl_process = lab->next_process++;
        json_decref(wop);
        wop = NULL;
    }
    if (!ok && to_leader && !recorded) { /* a recorded operation is not sent twice */
        /* the node stepped down between the lab's look and the command: once more, on the
         * leader the cluster has now */
        int again = leader_target(lab);
        if (again >= 0 && again != target && lab->view[again].cls == RC_LEADER) {
            json_decref(r);
            target = again;
            r = lab->cl->ops->command(lab->cl, target, mc->name, w->argc - 1, w->argv + 1);
            ok = json_is_true(json_object_get(r, "ok"));
        }
    }
    if (ok && mc->target == MC_REMOVE_NODE && m->leave_option && nargs >= 1) {
        /* the node leaves: the replicas face stops counting it (converged, …) */
        const char *prev = opts_get(&lab->cl->opts, m->leave_option, NULL);
        size_t idl = strlen(w->argv[1]);
        const char *hit = prev ? strstr(prev, w->argv[1]) : NULL;
        while (hit && !((hit == prev || hit[-1] == ',') && (hit[idl] == ',' || !hit[idl])))
            hit = strstr(hit + 1, w->argv[1]);
        if (!hit) {
            char *list = prev && *prev && strcmp(prev, "none") ? xasprintf("%s,%s", prev, w->argv[1]) : xstrdup(w->argv[1]);
            opts_set(&lab->cl->opts, m->leave_option, list);
            free(list);
        }
    }
    const char *text = json_string_value(json_object_get(r, "text"));
    if (ok)
        lab_out(lab, "%s", text ? text : "ok");
    else
        lab_err(lab, "%s", text ? text : "failed");
    lab_event(lab, "command", json_pack("{s:s,s:i,s:b,s:s}", "name", mc->name, "target", target + 1, "ok", ok, "text", text ? text : ""));
    json_decref(r);
    return ok ? OK : RUNTIME;
}

static int run_words(struct lab *lab, struct words *w)
{
    if (w->argc == 0)
        return OK;
    const struct lab_command *c = find_command(w->argv[0]);
    if (!c) {
        const struct mode_command *mc = lab->cl ? find_mode_command(lab->cl->mode, w->argv[0]) : NULL;
        if (mc)
            return run_mode_command(lab, mc, w);
        int ac = actors_command(lab, w->argc, w->argv); /* a named client's `c1 lock orders` */
        if (ac >= 0)
            return ac;
        for (int i = 0; mode_table[i]; i++)
            if (find_mode_command(mode_table[i], w->argv[0])) {
                lab_err(lab, "'%s' belongs to the %s mode; the cluster %s", w->argv[0], mode_table[i]->name,
                        lab->cl ? "runs another mode" : "is not running");
                return RUNTIME;
            }
        struct sb b = {0};
        did_you_mean(w->argv[0], &b);
        lab_err(lab, "%s", b.s);
        sb_free(&b);
        return PARSE;
    }
    int nargs = w->argc - 1;
    if (nargs < c->min || (c->max >= 0 && nargs > c->max)) {
        lab_err(lab, "wrong number of arguments; usage: %s", c->usage);
        return PARSE;
    }
    return c->run(lab, w->argc, w->argv);
}

int lab_exec(struct lab *lab, const char *line)
{
    char *cmds[64];
    char err[256];
    int n = cmdline_split(line, cmds, 64, err, sizeof err);
    if (n < 0) {
        lab_err(lab, "%s", err);
        return PARSE;
    }
    int worst = OK;
    for (int i = 0; i < n; i++) {
        struct words w;
        int rc;
        if (lab->quit) {
            free(cmds[i]);
            continue;
        }
        if (cmdline_words(cmds[i], &w, err, sizeof err) < 0) {
            lab_err(lab, "%s", err);
            rc = PARSE;
        } else {
            lab_command_typed(lab, w.argc, w.argv); /* hooks: a lesson's step counts what the student ran */
            const struct words *outer = lab->words;
            lab->words = &w;
            rc = run_words(lab, &w);
            lab->words = outer;
            words_free(&w);
        }
        if (rc > worst)
            worst = rc;
        free(cmds[i]);
    }
    return worst;
}

int lab_validate(struct lab *lab, const char *line, char *msg, size_t msglen)
{
    (void)lab;
    char *cmds[64];
    int n = cmdline_split(line, cmds, 64, msg, msglen);
    if (n < 0)
        return PARSE;
    int rc = OK;
    for (int i = 0; i < n; i++) {
        struct words w;
        if (rc == OK && cmdline_words(cmds[i], &w, msg, msglen) < 0) {
            rc = PARSE;
        } else if (rc == OK) {
            int off = 0;
            if (w.argc >= 2 && !strcmp(w.argv[0], "expect") && !strcmp(w.argv[1], "fail"))
                off = 2;
            const char *name = w.argc > off ? w.argv[off] : "";
            const struct lab_command *c = find_command(name);
            int known = actors_validate(w.argc - off, w.argv + off) || c != NULL;
            for (int m = 0; !known && mode_table[m]; m++)
                known = find_mode_command(mode_table[m], name) != NULL;
            if (!known) {
                struct sb b = {0};
                did_you_mean(name, &b);
                str_copy(msg, b.s, msglen);
                sb_free(&b);
                rc = PARSE;
            } else if (c && off == 0) {
                int nargs = w.argc - 1;
                if (nargs < c->min || (c->max >= 0 && nargs > c->max)) {
                    snprintf(msg, msglen, "wrong number of arguments; usage: %s", c->usage);
                    rc = PARSE;
                }
            }
            words_free(&w);
        }
        free(cmds[i]);
    }
    return rc;
}

struct names {
    const char **v;
    int n, cap;
};

static void name_one(const struct lab_command *c, void *ud)
{
    struct names *n = ud;
    if (n->n < n->cap)
        n->v[n->n++] = c->name;
}

const char *const *lab_command_names(void)
{
    static const char *names[160];
    struct names n = {names, 0, 150};
    each_command(name_one, &n);
    for (int i = 0; mode_table[i]; i++)
        for (const struct mode_command *c = mode_table[i]->commands; c && c->name && n.n < 158; c++)
            names[n.n++] = c->name;
    names[n.n] = NULL;
    return names;
}
