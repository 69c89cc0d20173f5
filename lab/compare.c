/* compare.c — `compare`: the course's replication table (6.4), measured live.
 *
 * Every mode whose face names a row (struct mode: compare_as, compare_opts) runs the same
 * workload on 3 nodes, one after the other, and the lab prints one row per mode:
 *
 *   1. ready: a leader known to a majority (modes with a leader role), else a moment;
 *   2. CMP_WRITES writes through the lab's gateway: their latency (median and max) and the
 *      messages the nodes sent per acknowledged write;
 *   3. the node that takes writes (the leader, else n1) is cut off; once the majority side
 *      has a leader of its own (or after a few seconds), CMP_SPLIT keys are written twice,
 *      once through the cut-off node and once through the majority: how many writes were
 *      served (availability under a partition), and how many keys took both (conflicting
 *      writes accepted);
 *   4. heal, let the replicas settle, read every key back: acknowledged writes whose value is
 *      gone (lost), and the linearizability checker's verdict on this mode's keys.
 *
 * Nothing here names a mode: a new mode joins the table by filling compare_as in its face.
 */
#include <stdlib.h>
#include <string.h>

#include "cmdline.h"
#include "lab.h"
#include "mode.h"
#include "util.h"

#define CMP_WRITES 10
#define CMP_SPLIT 5

struct cmp_row {
    const char *label, *mode;
    int started;
    double p50_ms, max_ms;
    int writes_ok;
    double msgs_per_write;
    double fsyncs_per_write;    /* -1: the nodes did not say */
    double leaderless_ms;       /* from the cut until the majority side had a leader; -1: none to wait for */
    int served, asked;          /* writes served during the partition, of those asked */
    int conflicts;              /* keys written on both sides, both acknowledged */
    int lost;                   /* acknowledged writes whose value is gone after the heal */
    int lin;                    /* 0 holds, 1 violated, 2 unknown */
    char note[160];
};

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Pumps the lab's loop for up to us, or until pred holds. */
static int pump_until(struct lab *lab, uint64_t us, int (*pred)(struct lab *, void *), void *ud)
{
    uint64_t end = mono_us() + us;
    for (;;) {
        if (pred && pred(lab, ud))
            return 1;
        if (mono_us() >= end || lab->interrupted || !lab->cl)
            return 0;
        lab_pump(lab, 50000, -1);
    }
}

static int leader_known(struct lab *lab, void *ud)
{
    (void)ud;
    int l;
    int64_t t;
    return lab_leader_agreed(lab, &l, &t);
}

/* A leader other than the cut-off node, in a newer term than the cut-off one reports. */
static int other_leader(struct lab *lab, void *ud)
{
    int cut = *(int *)ud;
    lab_refresh(lab, NULL);
    for (int i = 0; i < lab->cl->n; i++)
        if (i != cut && lab->cl->state[i] == NODE_UP && lab->view[i].cls == RC_LEADER)
            return 1;
    return 0;
}

static int settled(struct lab *lab, void *ud)
{
    (void)ud;
    lab_refresh(lab, NULL);
    return lab_converged(lab, NULL);
}

/* The fsyncs every node made so far (runtime status "fsyncs"); -1 when a node did not say. */
static int64_t count_fsyncs(struct lab *lab)
{
    json_t *st[CL_MAXNODES] = {0};
    lab_refresh(lab, st);
    int64_t n = 0;
    for (int i = 0; i < lab->cl->n; i++) {
        const json_t *f = json_object_get(st[i], "fsyncs");
        if (!json_is_integer(f))
            n = -1;
        else if (n >= 0)
            n += json_integer_value(f);
        json_decref(st[i]);
    }
    return n;
}

static uint64_t count_sends(struct lab *lab, uint64_t from)
{
    uint64_t n = 0, first = lab->ev_total - lab->ev_count;
    for (uint64_t g = from > first ? from : first; g < lab->ev_total; g++) {
        const json_t *e = lab->events[(lab->ev_head + (g - first)) % LAB_MAX_EVENTS];
        const char *ev = json_string_value(json_object_get(e, "ev"));
        n += ev && !strcmp(ev, "send");
    }
    return n;
}

/* One write (or read: value NULL); returns the finished op (caller frees) or NULL. */
static struct op *one_op(struct lab *lab, const char *key, const char *value, int node)
{
    json_t *v = value ? json_string(value) : NULL;
    struct op *op = lab_op_start(lab, value ? "write" : "read", key, v, node, NULL, -1);
    json_decref(v);
    if (op)
        lab_op_wait(lab, op);
    return op;
}

/* Does the final read of a key still show value (as its value or among its siblings)? */
static int read_shows(const struct op *op, const char *value)
{
    if (!op || op->outcome != OP_OK)
        return 1; /* unknown: not counted as lost */
    json_t *sib = json_object_get(op->reply, "siblings");
    size_t i;
    json_t *s;
    json_array_foreach(sib, i, s)
        if (json_is_string(s) && !strcmp(json_string_value(s), value))
            return 1;
    json_t *v = json_object_get(op->reply, "value");
    return json_is_string(v) && !strcmp(json_string_value(v), value);
}

static void run_row(struct lab *lab, const struct mode *m, struct cmp_row *row)
{
    row->label = m->compare_as;
    row->mode = m->name;
    row->lin = 2;
    struct opts o = {0};
    if (m->compare_opts) {
        char *copy = xstrdup(m->compare_opts), *save = NULL;
        for (char *kv = strtok_r(copy, " ", &save); kv; kv = strtok_r(NULL, " ", &save)) {
            char *eq = strchr(kv, '=');
            if (!eq)
                continue;
            *eq = 0;
            opts_set(&o, kv, eq + 1);
        }
        free(copy);
    }
    if (!opts_get(&o, "timeout", NULL))
        opts_set(&o, "timeout", "1500ms");
    int rc = lab_start(lab, m->name, 3, &o);
    opts_free(&o);
    if (rc < 0) {
        snprintf(row->note, sizeof row->note, "could not start");
        return;
    }
    row->started = 1;
    int has_leader = lab_mode_has_leader(lab, NULL);
    if (has_leader)
        pump_until(lab, 10000000, leader_known, NULL);
    else
        pump_until(lab, 300000, NULL, NULL);

    /* 2: latency and messages per write */
    double lat[CMP_WRITES];
    int64_t syncs0 = count_fsyncs(lab);
    uint64_t mark = lab->ev_total;
    for (int i = 0; i < CMP_WRITES; i++) {
        char key[64], val[16];
        snprintf(key, sizeof key, "cmp-%s-w%d", m->name, i);
        snprintf(val, sizeof val, "%d", i);
        struct op *op = one_op(lab, key, val, -1);
        if (op && op->outcome == OP_OK)
            lat[row->writes_ok++] = (double)op->latency_us / 1000.0;
        if (op)
            lab_op_free(op);
    }
    pump_until(lab, 200000, NULL, NULL); /* the last replication messages */
    if (row->writes_ok) {
        qsort(lat, (size_t)row->writes_ok, sizeof lat[0], cmp_double);
        row->p50_ms = lat[row->writes_ok / 2];
        row->max_ms = lat[row->writes_ok - 1];
        row->msgs_per_write = (double)count_sends(lab, mark) / row->writes_ok;
    }
    int64_t syncs1 = count_fsyncs(lab);
    row->fsyncs_per_write = syncs0 < 0 || syncs1 < 0 || !row->writes_ok ? -1
                          : (double)(syncs1 - syncs0) / row->writes_ok;

    /* 3: cut off the node that takes writes */
    int cut = has_leader ? lab_leader(lab, 1) : -1;
    if (cut < 0)
        cut = 0;
    int other = (cut + 1) % lab->cl->n;
    faults_isolate(&lab->cl->faults, cut);
    lab_faults_changed(lab, "partition", NULL);
    row->leaderless_ms = -1;
    if (has_leader) {
        uint64_t t0 = mono_us();
        if (pump_until(lab, 6000000, other_leader, &cut))
            row->leaderless_ms = (double)(mono_us() - t0) / 1000.0;
        else
            row->leaderless_ms = -2; /* none within the wait */
    }
    char minv[CMP_SPLIT][16], majv[CMP_SPLIT][16];
    int min_ok[CMP_SPLIT], maj_ok[CMP_SPLIT];
    for (int i = 0; i < CMP_SPLIT; i++) {
        char key[64];
        snprintf(key, sizeof key, "cmp-%s-c%d", m->name, i);
        snprintf(minv[i], sizeof minv[i], "cut%d", i);
        snprintf(majv[i], sizeof majv[i], "major%d", i);
        struct op *a = one_op(lab, key, minv[i], cut);
        struct op *b = one_op(lab, key, majv[i], other);
        min_ok[i] = a && a->outcome == OP_OK;
        maj_ok[i] = b && b->outcome == OP_OK;
        row->asked += 2;
        row->served += min_ok[i] + maj_ok[i];
        row->conflicts += min_ok[i] && maj_ok[i];
        if (a)
            lab_op_free(a);
        if (b)
            lab_op_free(b);
    }

    /* 4: heal, settle, read back, judge */
    faults_heal(&lab->cl->faults);
    lab_faults_changed(lab, "heal", NULL);
    if (has_leader)
        pump_until(lab, 6000000, leader_known, NULL);
    pump_until(lab, 5000000, settled, NULL);
    const char *keys[CMP_WRITES + CMP_SPLIT];
    char keybuf[CMP_WRITES + CMP_SPLIT][64];
    int nkeys = 0;
    for (int i = 0; i < CMP_WRITES; i++) {
        snprintf(keybuf[nkeys], sizeof keybuf[0], "cmp-%s-w%d", m->name, i);
        keys[nkeys] = keybuf[nkeys];
        nkeys++;
    }
    for (int i = 0; i < CMP_SPLIT; i++) {
        snprintf(keybuf[nkeys], sizeof keybuf[0], "cmp-%s-c%d", m->name, i);
        struct op *r = one_op(lab, keybuf[nkeys], NULL, other);
        row->lost += (min_ok[i] && !read_shows(r, minv[i])) + (maj_ok[i] && !read_shows(r, majv[i]));
        if (r)
            lab_op_free(r);
        keys[nkeys] = keybuf[nkeys];
        nkeys++;
    }
    struct sb why = {0};
    row->lin = lab_check(lab, "linearizable", keys, nkeys, &why);
    sb_free(&why);
    lab_stop(lab);
}

int cmd_compare(struct lab *lab, int argc, char **argv)
{
    const struct mode *pick[CL_MAXN + 8];
    int n = 0;
    for (int i = 1; i < argc; i++) {
        const struct mode *m = mode_find(argv[i]);
        if (!m || !m->compare_as) {
            struct sb b = {0};
            for (int k = 0; mode_table[k]; k++)
                if (mode_table[k]->compare_as)
                    sb_printf(&b, "%s%s", b.len ? ", " : "", mode_table[k]->name);
            lab_err(lab, "'%s' is not a mode that compare runs; modes with a row: %s", argv[i], b.s ? b.s : "none");
            sb_free(&b);
            return 2;
        }
        if (n < (int)CL_ARRAY_LEN(pick))
            pick[n++] = m;
    }
    for (int k = 0; argc == 1 && mode_table[k]; k++)
        if (mode_table[k]->compare_as && n < (int)CL_ARRAY_LEN(pick))
            pick[n++] = mode_table[k];
    if (!n) {
        lab_err(lab, "no mode has a row in the comparison (struct mode: compare_as)");
        return 1;
    }
    lab_out(lab, "compare: the same workload and faults on each mode, one after the other (3 nodes):\n"
                 "%d writes, then the node taking writes is cut off and %d keys are written on both sides,\n"
                 "then heal and read back. This stops the running cluster; the history keeps every operation.",
            CMP_WRITES, CMP_SPLIT);
    struct cmp_row rows[CL_MAXN + 8];
    memset(rows, 0, sizeof rows);
    lab->interrupted = 0;
    for (int i = 0; i < n && !lab->interrupted; i++) {
        lab_out(lab, "  running %s (%s%s%s)...", pick[i]->compare_as, pick[i]->name,
                pick[i]->compare_opts ? " " : "", pick[i]->compare_opts ? pick[i]->compare_opts : "");
        run_row(lab, pick[i], &rows[i]);
    }
    struct sb t = {0};
    sb_printf(&t, "%-26s %8s %8s %8s %7s %9s %11s %9s %6s  %s\n", "", "write ms", "write ms", "msgs per", "fsyncs",
              "no leader", "partition:", "conflicts", "acked", "linearizable");
    sb_printf(&t, "%-26s %8s %8s %8s %7s %9s %11s %9s %6s  %s\n", "replication", "median", "max", "write",
              "/write", "ms (cut)", "writes ok", "accepted", "lost", "(checker)");
    for (int i = 0; i < n; i++) {
        const struct cmp_row *r = &rows[i];
        char name[64];
        snprintf(name, sizeof name, "%s (%s)", r->label ? r->label : "?", r->mode ? r->mode : "?");
        if (!r->started) {
            sb_printf(&t, "%-26s  %s\n", name, r->note[0] ? r->note : "not run");
            continue;
        }
        char served[16], syncs[16], noleader[16];
        snprintf(served, sizeof served, "%d/%d", r->served, r->asked);
        if (r->fsyncs_per_write < 0)
            snprintf(syncs, sizeof syncs, "?");
        else
            snprintf(syncs, sizeof syncs, "%.1f", r->fsyncs_per_write);
        if (r->leaderless_ms == -1)
            snprintf(noleader, sizeof noleader, "-");
        else if (r->leaderless_ms < 0)
            snprintf(noleader, sizeof noleader, ">6000");
        else
            snprintf(noleader, sizeof noleader, "%.0f", r->leaderless_ms);
        sb_printf(&t, "%-26s %8.1f %8.1f %8.1f %7s %9s %11s %9d %6d  %s\n", name, r->p50_ms, r->max_ms,
                  r->msgs_per_write, syncs, noleader, served, r->conflicts, r->lost,
                  r->lin == 0 ? "yes" : r->lin == 1 ? "NO" : "unknown");
    }
    sb_add(&t, "(write ms over the acknowledged writes; msgs per write counts every message the nodes\n"
               " sent while writing, fsyncs per write every log sync and blob write; no leader: from\n"
               " cutting off the node taking writes until the others had a leader of their own (-: the\n"
               " mode has no leader to wait for); partition: writes through the cut-off node and through\n"
               " the majority; conflicts: keys that took a write on both sides; acked lost: acknowledged\n"
               " values gone after the heal; linearizable: `check linearizable` on these keys.)");
    lab_out(lab, "%s", t.s);
    json_t *ev = json_array();
    for (int i = 0; i < n; i++)
        if (rows[i].started)
            json_array_append_new(ev, json_pack("{s:s,s:s,s:f,s:f,s:f,s:f,s:f,s:i,s:i,s:i,s:i,s:s}", "row", rows[i].label, "mode",
                                                rows[i].mode, "p50_ms", rows[i].p50_ms, "max_ms", rows[i].max_ms,
                                                "msgs_per_write", rows[i].msgs_per_write,
                                                "fsyncs_per_write", rows[i].fsyncs_per_write,
                                                "no_leader_ms", rows[i].leaderless_ms, "served", rows[i].served,
                                                "asked", rows[i].asked, "conflicts", rows[i].conflicts, "lost",
                                                rows[i].lost, "linearizable",
                                                rows[i].lin == 0 ? "yes" : rows[i].lin == 1 ? "no" : "unknown"));
    lab_event(lab, "compare", json_pack("{s:o}", "rows", ev));
    sb_free(&t);
    return 0;
}
