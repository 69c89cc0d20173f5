/* complete — see complete.h. A command line is walked against a table of commands (conlab,
 * its subcommands and their own subcommands, conlab-node): options that take a value skip
 * it, a subcommand word descends, and the last word is completed from where the walk ended.
 * The options here are the ones each command's --help names (tests/pkg/complete.sh compares
 * the two). */
#include "complete.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lesson.h"
#include "mode.h"
#include "quiz.h"

/* What follows an option, or fills a command's positional arguments. */
enum arg {
    ARG_NONE,   /* a flag (for an option) / no positional argument (for a command) */
    ARG_VALUE,  /* a number, an endpoint…: nothing to offer */
    ARG_FILE,   /* a file name; ext narrows it */
    ARG_LESSON, /* a lesson id */
    ARG_TOPIC,  /* a quiz topic */
    ARG_MODE,   /* a mode name (--start "MODE N …" too: its first word) */
    ARG_WORDS,  /* one of words ("a|b|c") */
};

struct copt {
    const char *name;
    enum arg arg;
    const char *words; /* ARG_WORDS: "a|b|c"; ARG_FILE: the extension or NULL */
    bool alias;        /* understood, but --help does not name it: not offered */
};

struct ccmd {
    const char *path;         /* "conlab", "conlab lesson", "conlab bench check", "conlab-node" */
    const struct copt *opts;  /* NULL-terminated */
    const char *subs;         /* words that name a subcommand right after this one ("a|b") */
    enum arg pos;             /* what other positional words are */
    const char *ext;          /* ARG_FILE positional: extension */
    int maxpos;               /* how many positional words it takes (0: any number) */
};

#define FLAG(name) {name, ARG_NONE, NULL, false}
#define TAKES(name, arg) {name, arg, NULL, false}
#define ONE_OF(name, words) {name, ARG_WORDS, words, false}
#define ALIAS(name, arg) {name, arg, NULL, true}
#define END {NULL, ARG_NONE, NULL, false}

static const struct copt o_top[] = {
    FLAG("--plain"), FLAG("--no-color"), TAKES("--start", ARG_MODE),
    TAKES("--lesson", ARG_LESSON), FLAG("--help"), FLAG("--version"),
    END};
static const struct copt o_check[] = {
    ONE_OF("--model", "register|cas-register|kv"), TAKES("--time-limit", ARG_VALUE),
    FLAG("--json"), FLAG("--sessions"), FLAG("--sequential"), FLAG("--causal"),
    FLAG("--serializable"), FLAG("--bank"), FLAG("--to-edn"), FLAG("--mutex"),
    FLAG("--verdict-only"), FLAG("--quiet"), FLAG("--help"), FLAG("--exactly-once"), FLAG("--g-set"),
    FLAG("--broadcast"), FLAG("--independent"), FLAG("--g-counter"), FLAG("--pn-counter"), FLAG("--or-set"), END};
static const struct copt o_lesson_id[] = {
    FLAG("--plain"), FLAG("--no-color"), END};
static const struct copt o_lesson_reset[] = {FLAG("--all"), END};
static const struct copt o_help[] = {FLAG("--help"), END};
static const struct copt o_quiz[] = {
    TAKES("--topic", ARG_TOPIC), ALIAS("-t", ARG_TOPIC), TAKES("-n", ARG_VALUE),
    FLAG("--interview"), TAKES("--seed", ARG_VALUE), FLAG("--no-shuffle"),
    FLAG("--topics"), FLAG("--help"), END};
static const struct copt o_bench[] = {
    TAKES("--mode", ARG_MODE), TAKES("--nodes", ARG_VALUE), TAKES("--clients", ARG_VALUE),
    TAKES("--seconds", ARG_VALUE), TAKES("--reads", ARG_VALUE), TAKES("--keys", ARG_VALUE),
    ONE_OF("--workload", "lin-kv|g-counter|pn-counter|g-set"),
    ONE_OF("--cl", "one|quorum|all"), TAKES("--elections", ARG_VALUE),
    TAKES("--opt", ARG_VALUE), TAKES("--setup", ARG_VALUE), TAKES("--accounts", ARG_VALUE),
    TAKES("--rounds", ARG_VALUE), TAKES("--service", ARG_VALUE), FLAG("--json"), FLAG("--help"),
    TAKES("--streams", ARG_VALUE), TAKES("--peer", ARG_MODE), TAKES("--seeds", ARG_VALUE),
    FLAG("--curve"), END};
static const struct copt o_json[] = {FLAG("--json"), END};
static const struct copt o_bench_catchup[] = {
    TAKES("--mode", ARG_MODE), TAKES("--nodes", ARG_VALUE), TAKES("--keys", ARG_VALUE),
    TAKES("--seed", ARG_VALUE), TAKES("--opt", ARG_VALUE), FLAG("--json"), END};
static const struct copt o_bench_spread[] = {
    TAKES("--mode", ARG_MODE), TAKES("--nodes", ARG_VALUE), TAKES("--seeds", ARG_VALUE),
    TAKES("--opt", ARG_VALUE), FLAG("--curve"), FLAG("--json"), FLAG("--help"), END};
static const struct copt o_bench_check[] = {
    TAKES("--ops", ARG_VALUE), TAKES("--procs", ARG_VALUE), TAKES("--keys", ARG_VALUE),
    TAKES("--seed", ARG_VALUE), TAKES("--info", ARG_VALUE), TAKES("--write", ARG_FILE),
    FLAG("--help"), END};
static const struct copt o_bench_dash[] = {
    TAKES("--rate", ARG_VALUE), TAKES("--seconds", ARG_VALUE), TAKES("--idle", ARG_VALUE),
    TAKES("--publish", ARG_FILE), FLAG("--help"), END};
static const struct copt o_replay[] = {
    FLAG("--plain"), FLAG("--no-color"), FLAG("--play"),
    FLAG("--repl"), TAKES("--speed", ARG_VALUE), TAKES("--at", ARG_VALUE),
    TAKES("--screen", ARG_VALUE), FLAG("--help"), END};
static const struct copt o_trace_export[] = {FLAG("--shiviz"), FLAG("--chrome"), FLAG("--help"), END};
static const struct copt o_dash[] = {
    TAKES("--pid", ARG_VALUE), TAKES("--endpoint", ARG_VALUE), FLAG("--plain"),
    FLAG("--no-color"), TAKES("--count", ARG_VALUE), TAKES("--seconds", ARG_VALUE),
    TAKES("--attach", ARG_VALUE), TAKES("--key", ARG_FILE), TAKES("--server-key", ARG_VALUE),
    FLAG("--help"), END};
static const struct copt o_serve[] = {
    TAKES("--bind", ARG_VALUE), {"--cluster", ARG_FILE, "yaml", false}, TAKES("--key", ARG_FILE),
    TAKES("--allow", ARG_FILE), FLAG("--plain"), FLAG("--no-color"), FLAG("--help"), END};
static const struct copt o_join[] = {
    TAKES("--server-key", ARG_VALUE), TAKES("--key", ARG_FILE), TAKES("--host", ARG_VALUE),
    TAKES("--addr", ARG_VALUE), FLAG("--again"), FLAG("--quiet"), FLAG("--help"), END};
static const struct copt o_keygen[] = {FLAG("--force"), FLAG("--help"), END};
static const struct copt o_poke[] = {
    TAKES("--key", ARG_FILE), TAKES("--server-key", ARG_VALUE), TAKES("--wait", ARG_VALUE),
    FLAG("--help"), END};
static const struct copt o_node[] = {
    TAKES("--id", ARG_VALUE), TAKES("--mode", ARG_MODE), TAKES("--dir", ARG_FILE),
    TAKES("--ctl", ARG_VALUE), TAKES("--events", ARG_VALUE), TAKES("--bind", ARG_VALUE),
    TAKES("--peer-bind", ARG_VALUE), TAKES("--peer-key", ARG_VALUE), TAKES("--nodes", ARG_VALUE),
    TAKES("--lab-pid", ARG_VALUE), TAKES("--opt", ARG_VALUE), FLAG("--check"), FLAG("--help"),
    FLAG("--version"), END};

/* "conlab lesson *" is the interactive `conlab lesson ID [--plain] [--no-color]`. */
static const struct ccmd commands[] = {
    {"conlab", o_top, "script|check|lesson|quiz|bench|replay|dash|demo|serve|join|keygen|poke|trace", ARG_NONE, NULL, 0},
    {"conlab script", o_help, NULL, ARG_FILE, "lab", 0},
    {"conlab check", o_check, NULL, ARG_FILE, NULL, 1},
    {"conlab lesson", o_help, "list|validate|show|script|reset|help", ARG_LESSON, NULL, 1},
    {"conlab lesson *", o_lesson_id, NULL, ARG_NONE, NULL, 0},
    {"conlab lesson list", NULL, NULL, ARG_NONE, NULL, 0},
    {"conlab lesson validate", NULL, NULL, ARG_FILE, "yaml", 0},
    {"conlab lesson show", NULL, NULL, ARG_LESSON, NULL, 1},
    {"conlab lesson script", NULL, NULL, ARG_LESSON, NULL, 1},
    {"conlab lesson reset", o_lesson_reset, NULL, ARG_LESSON, NULL, 1},
    {"conlab lesson help", NULL, NULL, ARG_NONE, NULL, 0},
    {"conlab quiz", o_quiz, NULL, ARG_NONE, NULL, 0},
    {"conlab bench", o_bench, "foundation|catchup|check|dash|spread", ARG_NONE, NULL, 0},
    {"conlab bench foundation", o_json, NULL, ARG_NONE, NULL, 0},
    {"conlab bench catchup", o_bench_catchup, NULL, ARG_NONE, NULL, 0},
    {"conlab bench check", o_bench_check, NULL, ARG_FILE, NULL, 0},
    {"conlab bench dash", o_bench_dash, NULL, ARG_NONE, NULL, 0},
    {"conlab bench spread", o_bench_spread, NULL, ARG_NONE, NULL, 0},
    {"conlab replay", o_replay, NULL, ARG_FILE, NULL, 1},
    {"conlab dash", o_dash, NULL, ARG_NONE, NULL, 0},
    {"conlab serve", o_serve, NULL, ARG_FILE, "lab", 0},
    {"conlab join", o_join, NULL, ARG_VALUE, NULL, 1},
    {"conlab keygen", o_keygen, NULL, ARG_FILE, NULL, 1},
    {"conlab poke", o_poke, NULL, ARG_VALUE, NULL, 2},
    {"conlab trace", o_help, "export", ARG_NONE, NULL, 0},
    {"conlab trace export", o_trace_export, NULL, ARG_FILE, NULL, 2},
    {"conlab-node", o_node, NULL, ARG_NONE, NULL, 0},
};

static const struct ccmd *find_cmd(const char *path)
{
    for (size_t i = 0; i < CL_ARRAY_LEN(commands); i++)
        if (!strcmp(commands[i].path, path))
            return &commands[i];
    return NULL;
}

static const struct copt *find_opt(const struct ccmd *c, const char *name)
{
    for (const struct copt *o = c->opts; o && o->name; o++)
        if (!strcmp(o->name, name))
            return o;
    return NULL;
}

/* Is w one of the '|'-separated words? */
static bool in_words(const char *words, const char *w)
{
    size_t n = strlen(w);
    for (const char *p = words; p && *p;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && !strncmp(p, w, n))
            return true;
        p = bar ? bar + 1 : NULL;
    }
    return false;
}

static void offer(struct sb *out, const char *cand, const char *cur)
{
    if (!strncmp(cand, cur, strlen(cur)))
        sb_printf(out, "%s\n", cand);
}

static void offer_words(struct sb *out, const char *words, const char *cur)
{
    for (const char *p = words; p && *p;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        char w[128];
        snprintf(w, sizeof w, "%.*s", (int)len, p);
        offer(out, w, cur);
        p = bar ? bar + 1 : NULL;
    }
}

static void offer_lessons(struct sb *out, const char *cur)
{
    char dir[4096], err[512];
    struct lesson_catalog cat;
    if (lesson_dir(dir, sizeof dir) < 0 || lesson_catalog_load(dir, &cat, err, sizeof err) < 0)
        return;
    for (int i = 0; i < cat.n; i++)
        offer(out, cat.l[i]->id, cur);
    lesson_catalog_free(&cat);
}

static void offer_topics(struct sb *out, const char *cur)
{
    char dir[4096], qdir[4200], err[1024];
    if (lesson_dir(dir, sizeof dir) < 0)
        return;
    snprintf(qdir, sizeof qdir, "%s/quiz", dir);
    struct quiz_bank bank = {0};
    if (quiz_bank_load_dir(&bank, qdir, err, sizeof err) >= 0) {
        char *t = quiz_bank_topics(&bank);
        offer_words(out, t, cur);
        free(t);
    }
    quiz_bank_free(&bank);
}

static void offer_arg(struct sb *out, enum arg a, const char *words, const char *cur)
{
    switch (a) {
    case ARG_NONE:
    case ARG_VALUE:
        break;
    case ARG_FILE:
        if (words)
            sb_printf(out, "@file:%s\n", words);
        else
            sb_add(out, "@file\n");
        break;
    case ARG_LESSON:
        offer_lessons(out, cur);
        break;
    case ARG_TOPIC:
        offer_topics(out, cur);
        break;
    case ARG_MODE:
        for (int i = 0; mode_table[i]; i++)
            offer(out, mode_table[i]->name, cur);
        break;
    case ARG_WORDS:
        offer_words(out, words, cur);
        break;
    }
}

void complete_words(const char *prog, int n, char **words, struct sb *out)
{
    const char *base = strrchr(prog, '/');
    base = base ? base + 1 : prog;
    const struct ccmd *c = find_cmd(!strcmp(base, "conlab-node") ? "conlab-node" : "conlab");
    if (n < 1 || !c)
        return;
    const char *cur = words[n - 1];
    const struct copt *pending = NULL; /* an option whose value comes next */
    int fresh = 1;                     /* no word since the command word: a subcommand may follow */
    int npos = 0;                      /* positional words of the command so far */
    for (int i = 0; i < n - 1; i++) {
        const char *w = words[i];
        if (pending) {
            pending = NULL;
            continue;
        }
        const struct copt *o = find_opt(c, w);
        if (o) {
            pending = o->arg != ARG_NONE ? o : NULL;
            fresh = 0;
            continue;
        }
        char path[256];
        const struct ccmd *sub = NULL;
        if (fresh && w[0] != '-' && c->subs && in_words(c->subs, w)) {
            snprintf(path, sizeof path, "%s %s", c->path, w);
            sub = find_cmd(path);
        } else if (fresh && w[0] != '-' && c->pos == ARG_LESSON && c->subs) {
            snprintf(path, sizeof path, "%s *", c->path); /* conlab lesson ID */
            sub = find_cmd(path);
        }
        if (sub) {
            c = sub;
            fresh = 1;
            npos = 0;
        } else {
            fresh = 0;
            npos++;
        }
    }
    if (pending) {
        /* --start "raft 3 …": only its first word is a mode */
        if (pending->arg == ARG_MODE && (cur[0] == '"' || cur[0] == '\''))
            cur++;
        if (!(pending->arg == ARG_MODE && strchr(cur, ' ')))
            offer_arg(out, pending->arg, pending->words, cur);
        return;
    }
    if (cur[0] == '-') {
        for (const struct copt *o = c->opts; o && o->name; o++)
            if (!o->alias)
                offer(out, o->name, cur);
        if (!strcmp(cur, "-") && c->pos == ARG_FILE)
            sb_add(out, "-\n"); /* standard input */
        return;
    }
    if (fresh && c->subs) {
        offer_words(out, c->subs, cur);
        if (c->pos == ARG_LESSON)
            offer_lessons(out, cur);
        return;
    }
    if (!c->subs && (c->maxpos == 0 || npos < c->maxpos))
        offer_arg(out, c->pos, c->ext, cur);
}

int complete_main(int argc, char **argv)
{
    if (argc < 2) {
        fputs("usage: conlab --complete PROG WORD...   (what a shell may offer for the last WORD)\n",
              stderr);
        return 2;
    }
    struct sb out = {0};
    char empty[] = "";
    char *none[] = {empty};
    if (argc == 2)
        complete_words(argv[1], 1, none, &out);
    else
        complete_words(argv[1], argc - 2, argv + 2, &out);
    fputs(out.s ? out.s : "", stdout);
    sb_free(&out);
    return 0;
}
