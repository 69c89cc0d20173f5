/* checkcli — see checkcli.h. Parses the options by hand (re-entrant, so tests can call it
 * repeatedly), loads the history, runs the chosen checker, prints the report. */
#include "checkcli.h"
#include "txncheck.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "causal.h"
#include "exonce.h"
#include "lincheck.h"
#include "mutex.h"
#include "sessions.h"
#include "wlcheck.h"

enum what { W_LIN, W_SESSIONS, W_SEQUENTIAL, W_TO_EDN, W_SERIALIZABLE, W_BANK, W_CAUSAL, W_MUTEX, W_EXACTLY_ONCE, W_GSET, W_BROADCAST, W_GCOUNTER, W_PNCOUNTER, W_ORSET };

static const char usage[] =
    "usage: conlab check [--model register|cas-register|kv] [--time-limit SECONDS] [--json]\n"
    "                    [--verdict-only] [--quiet]\n"
    "                    [--sessions | --sequential | --causal | --to-edn | --serializable | --bank | --mutex |\n"
    "                     --exactly-once | --g-set | --broadcast | --g-counter | --pn-counter | --or-set] FILE\n"
    "  judges a history (conlab JSONL, Jepsen EDN or Jepsen's log, or a saved --json report);\n"
    "  FILE - is stdin. An empty history, or one of nemesis entries alone, is linearizable.\n"
    "  --verdict-only: no counterexample search (as Porcupine: the verdict alone, faster)\n"
    "  --quiet: no progress line on stderr (printed every 2 s of a long search)\n"
    "  --serializable, --bank: a history of transactions (lab JSONL or Elle/Jepsen EDN)\n"
    "  --mutex: lock acquire/release and fenced storage writes (the lab's mutex events, or a trace)\n"
    "  --exactly-once: the produced and consumed events of a trace (trace FILE) or JSON lines\n"
    "  --g-set, --broadcast: a Maelstrom history of add (or broadcast) and read operations\n"
    "  --g-counter, --pn-counter: add{delta} and read: reads within the bound, final reads the total\n"
    "  --or-set: add and remove of elements, reads of the set: no acknowledged add lost\n"
    "  --to-edn --independent: keys written as jepsen.independent [k v] tuples\n"
    "  exit: 0 holds, 1 violated (counterexample printed), 2 bad input, 3 unknown (time limit)\n";

static void progress(void *ud, const char *key, uint64_t configs, double seconds)
{
    (void)ud;
    fprintf(stderr, "conlab check: %.0f s, %" PRIu64 " configurations explored%s%s%s\n", seconds, configs,
            key ? " (searching key " : "", key ? key : "", key ? ")" : "");
}

static json_t *lin_json(const struct history *h, const struct lin_result *r)
{
    static const char *names[] = {"linearizable", "not linearizable", "unknown"};
    json_t *o = json_object();
    json_object_set_new(o, "verdict", json_string(names[r->verdict]));
    json_object_set_new(o, "model", json_string(lin_model_name(r->model)));
    json_object_set_new(o, "keys", json_integer(r->n_keys));
    json_object_set_new(o, "ops", json_integer(r->n_ops));
    json_object_set_new(o, "elapsed_ms", json_real(r->elapsed_ms));
    json_object_set_new(o, "configs", json_integer((json_int_t)r->configs));
    if (r->verdict != LIN_OK)
        json_object_set_new(o, "key", r->key ? json_string(r->key) : json_null());
    if (r->verdict == LIN_VIOLATION) {
        json_object_set_new(o, "summary", json_string(r->summary ? r->summary : ""));
        json_object_set_new(o, "explanation", json_string(r->explanation ? r->explanation : ""));
        json_object_set_new(o, "minimal", json_boolean(r->minimal));
        json_t *part = json_array();
        for (int i = 0; i < r->n_partial; i++) {
            struct sb b = {0};
            history_describe_op(h, &h->ops[r->partial[i]], &b);
            sb_printf(&b, " (p%lld)", (long long)h->ops[r->partial[i]].process);
            json_array_append_new(part, json_string(b.s));
            sb_free(&b);
        }
        json_object_set_new(o, "partial_linearization", part);
        if (r->marked >= 0) {
            struct sb b = {0};
            history_describe_op(h, &h->ops[r->marked], &b);
            sb_printf(&b, " (p%lld)", (long long)h->ops[r->marked].process);
            json_object_set_new(o, "impossible", json_string(b.s));
            sb_free(&b);
        }
        /* the sub-history as conlab history events, so the report can be re-checked */
        struct history *sub = history_subset(h, r->sub, r->n_sub);
        struct sb lines = {0};
        history_write_jsonl(sub, &lines);
        json_t *arr = json_array();
        for (char *p = lines.s; p && *p;) {
            char *nl = strchr(p, '\n');
            json_t *ev = json_loadb(p, nl ? (size_t)(nl - p) : strlen(p), 0, NULL);
            if (ev)
                json_array_append_new(arr, ev);
            p = nl ? nl + 1 : p + strlen(p);
        }
        json_object_set_new(o, "sub_history", arr);
        sb_free(&lines);
        history_free(&sub);
    }
    return o;
}

int checkcli_run(int argc, char **argv, struct sb *out, struct sb *errout)
{
    struct lin_opts lo;
    lin_opts_default(&lo);
    bool json = false, quiet = false, independent = false;
    enum what what = W_LIN;
    const char *file = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--model") || !strcmp(a, "--time-limit")) {
            if (i + 1 >= argc) {
                sb_printf(errout, "conlab check: %s needs a value\n%s", a, usage);
                return 2;
            }
            const char *v = argv[++i];
            if (a[2] == 'm') {
                if (lin_model_parse(v, &lo.model)) {
                    sb_printf(errout, "conlab check: unknown model '%s' (register, cas-register "
                              "or kv)\n", v);
                    return 2;
                }
            } else if (parse_double(v, &lo.time_limit_s) || lo.time_limit_s < 0) {
                sb_printf(errout, "conlab check: --time-limit wants seconds, got '%s'\n", v);
                return 2;
            }
        } else if (!strcmp(a, "--json")) {
            json = true;
        } else if (!strcmp(a, "--verdict-only")) {
            lo.explain = false;
        } else if (!strcmp(a, "--quiet")) {
            quiet = true;
        } else if (!strcmp(a, "--sessions")) {
            what = W_SESSIONS;
        } else if (!strcmp(a, "--sequential")) {
            what = W_SEQUENTIAL;
        } else if (!strcmp(a, "--causal")) {
            what = W_CAUSAL;
        } else if (!strcmp(a, "--to-edn")) {
            what = W_TO_EDN;
        } else if (!strcmp(a, "--serializable")) {
            what = W_SERIALIZABLE;
        } else if (!strcmp(a, "--bank")) {
            what = W_BANK;
        } else if (!strcmp(a, "--mutex")) {
            what = W_MUTEX;
        } else if (!strcmp(a, "--exactly-once")) {
            what = W_EXACTLY_ONCE;
        } else if (!strcmp(a, "--independent")) {
            independent = true;
        } else if (!strcmp(a, "--g-set")) {
            what = W_GSET;
        } else if (!strcmp(a, "--broadcast")) {
            what = W_BROADCAST;
        } else if (!strcmp(a, "--g-counter")) {
            what = W_GCOUNTER;
        } else if (!strcmp(a, "--pn-counter")) {
            what = W_PNCOUNTER;
        } else if (!strcmp(a, "--or-set")) {
            what = W_ORSET;
        } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            sb_add(out, usage);
            return 0;
        } else if (a[0] == '-' && a[1]) {
            sb_printf(errout, "conlab check: unknown option '%s'\n%s", a, usage);
            return 2;
        } else if (file) {
            sb_printf(errout, "conlab check: one history file at a time ('%s' and '%s')\n",
                      file, a);
            return 2;
        } else {
            file = a;
        }
    }
    if (!file) {
        sb_printf(errout, "conlab check: which history file?\n%s", usage);
        return 2;
    }
    if (what == W_MUTEX)
        return mutex_cli(file, out, errout);
    if (what == W_EXACTLY_ONCE)
        return exonce_file(file, out, errout);
    if (!quiet)
        lo.progress = progress;
    if (what == W_SERIALIZABLE || what == W_BANK)
        return txncheck_cli(what == W_BANK ? "bank" : "serializable", file, out, errout);
    char err[600];
    struct history *h = NULL;
    if (history_load(file, &h, err, sizeof err)) {
        sb_printf(errout, "conlab check: %s\n", err);
        return 2;
    }
    int rc = 2;
    if (what == W_GSET || what == W_BROADCAST || what == W_GCOUNTER || what == W_PNCOUNTER || what == W_ORSET) {
        int v = what == W_GSET ? wlcheck_gset(h, out) : what == W_BROADCAST ? wlcheck_broadcast(h, out)
              : what == W_GCOUNTER ? wlcheck_gcounter(h, out) : what == W_PNCOUNTER ? wlcheck_pncounter(h, out)
              : wlcheck_orset(h, out);
        sb_addc(out, '\n');
        history_free(&h);
        return v;
    }
    if (h->has_collections && what != W_TO_EDN) {
        sb_printf(errout, "conlab check: %s: some :value is a collection (a Maelstrom g-set or broadcast history: "
                          "use --g-set or --broadcast; jepsen.independent [k v] tuples are not read as keys)\n", file);
        history_free(&h);
        return 2;
    }
    if (what == W_TO_EDN) {
        history_write_edn_independent(h, independent, out);
        rc = 0;
    } else if (what == W_LIN) {
        struct lin_result *r = NULL;
        int v = lincheck_run(h, &lo, &r, err, sizeof err);
        if (v < 0) {
            sb_printf(errout, "conlab check: %s: %s\n", file, err);
            rc = 2;
        } else {
            if (json) {
                json_t *o = lin_json(h, r);
                char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
                sb_printf(out, "%s\n", s);
                free(s);
                json_decref(o);
            } else {
                lincheck_format(h, r, out);
            }
            rc = v == LIN_OK ? 0 : v == LIN_VIOLATION ? 1 : 3;
        }
        lin_result_free(&r);
    } else if (what == W_CAUSAL) {
        int v = causal_check(h, out);
        rc = v == 0 ? 0 : v == 1 ? 1 : 3;
    } else if (what == W_SESSIONS) {
        struct sess_result *r = NULL;
        int v = sessions_check(h, &r);
        if (json) {
            json_t *o = json_object();
            json_object_set_new(o, "verdict", json_string(v == 0 ? "hold" : v == 1 ?
                                                          "violated" : "unknown"));
            json_t *arr = json_array();
            for (int i = 0; i < r->n; i++)
                json_array_append_new(arr, json_pack("{s:s,s:s}", "guarantee",
                                                     sess_guarantee_name(r->v[i].g), "text",
                                                     r->v[i].text));
            json_object_set_new(o, "violations", arr);
            char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
            sb_printf(out, "%s\n", s);
            free(s);
            json_decref(o);
        } else {
            sessions_format(h, r, out);
        }
        sess_result_free(&r);
        rc = v == 0 ? 0 : v == 1 ? 1 : 3;
    } else {
        int v = seqcheck_run(h, lo.time_limit_s, out);
        rc = v == 0 ? 0 : v == 1 ? 1 : 3;
    }
    history_free(&h);
    return rc;
}

int checkcli_main(int argc, char **argv)
{
    struct sb out = {0}, err = {0};
    int rc = checkcli_run(argc, argv, &out, &err);
    if (out.s)
        fputs(out.s, stdout);
    if (err.s)
        fputs(err.s, stderr);
    fflush(stdout);
    sb_free(&out);
    sb_free(&err);
    return rc;
}

/* ---- the checkers of a recorded history, one table ------------------------------------- */

static int run_linearizable(const struct history *h, struct sb *out)
{
    struct lin_opts lo;
    lin_opts_default(&lo);
    lo.time_limit_s = 10;
    struct lin_result *r = NULL;
    char err[400];
    int v = lincheck_run(h, &lo, &r, err, sizeof err);
    if (v < 0) {
        sb_printf(out, "cannot check: %s\n", err);
        return CL_EINVAL;
    }
    lincheck_format(h, r, out);
    lin_result_free(&r);
    return v;
}

static int run_sessions(const struct history *h, struct sb *out)
{
    struct sess_result *r = NULL;
    int v = sessions_check(h, &r);
    sessions_format(h, r, out);
    sess_result_free(&r);
    return v;
}

static int run_sequential(const struct history *h, struct sb *out)
{
    return seqcheck_run(h, 10, out);
}

static int run_causal(const struct history *h, struct sb *out)
{
    return causal_check(h, out);
}

const struct history_checker history_checkers[] = {
    {"linearizable", "lin", "every operation seems to take effect at one instant between its invoke and its reply", run_linearizable},
    {"sessions", NULL, "read-your-writes, monotonic reads and writes, writes-follow-reads, per process", run_sessions},
    {"sequential", NULL, "one order of all operations that keeps each process's order", run_sequential},
    {"causal", NULL, "no session (a client at a node) sees an effect without its causes", run_causal},
    {"g-set", NULL, "Maelstrom's g-set: every acknowledged add in every node's final read, nothing unexpected", wlcheck_gset},
    {"broadcast", NULL, "Maelstrom's broadcast: every acknowledged message in every node's final read, nothing unexpected",
     wlcheck_broadcast},
    {"counter", "pn-counter", "Maelstrom's counters: each read within the bound of the adds, each final read the acknowledged "
     "sum plus some indeterminate adds", wlcheck_pncounter},
    {"g-counter", NULL, "Maelstrom's g-counter: the counter rule, and no negative delta", wlcheck_gcounter},
    {"or-set", NULL, "an add-wins set: no acknowledged add that no remove observed is missing from a final read",
     wlcheck_orset},
    {NULL, NULL, NULL, NULL},
};

const struct history_checker *history_checker_find(const char *name)
{
    if (!name || !*name)
        return &history_checkers[0];
    for (const struct history_checker *c = history_checkers; c->name; c++)
        if (!strcmp(c->name, name) || (c->aka && !strcmp(c->aka, name)))
            return c;
    return NULL;
}

int checker_report(const struct history *h, const char *what, struct sb *out)
{
    const struct history_checker *c = history_checker_find(what);
    if (c)
        return c->run(h, out);
    sb_printf(out, "unknown check '%s' (linearizable, sessions, sequential or causal)\n", what);
    return CL_EINVAL;
}
