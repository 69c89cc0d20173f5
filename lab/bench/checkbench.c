/* checkbench — see checkbench.h. */
#include "checkbench.h"

#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lincheck.h"

static uint64_t next_rand(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

struct gop {
    int proc, key, f;           /* f: 0 read, 1 write, 2 cas */
    int a, b, result;           /* write value / cas from,to; result: read value (-1 nil) */
    int64_t inv, ret, lp;
    int outcome;                /* HE_OK, HE_FAIL, HE_INFO */
    bool takes_effect;
};

static int lp_cmp(const void *x, const void *y)
{
    const struct gop *a = *(const struct gop *const *)x, *b = *(const struct gop *const *)y;
    return (a->lp > b->lp) - (a->lp < b->lp);
}

struct gev { int64_t t; int op; bool ret; };

static int gev_cmp(const void *x, const void *y)
{
    const struct gev *a = x, *b = y;
    if (a->t != b->t)
        return (a->t > b->t) - (a->t < b->t);
    return (int)a->ret - (int)b->ret;
}

struct history *checkbench_generate(int n_ops, int procs, int keys, int info_pct, uint64_t seed)
{
    if (procs < 1)
        procs = 1;
    struct gop *ops = xcalloc((size_t)(n_ops ? n_ops : 1), sizeof *ops);
    int64_t *free_at = xcalloc((size_t)procs, sizeof *free_at);
    uint64_t s = seed;
    for (int i = 0; i < n_ops; i++) {
        int p = (int)(next_rand(&s) % (uint64_t)procs);
        struct gop *o = &ops[i];
        o->proc = p;
        o->key = keys > 0 ? (int)(next_rand(&s) % (uint64_t)keys) : 0;
        int r = (int)(next_rand(&s) % 10);
        o->f = r < 5 ? 0 : r < 8 ? 1 : 2;
        o->a = (int)(next_rand(&s) % 5);
        o->b = (int)(next_rand(&s) % 5);
        o->inv = free_at[p] + 1000 + (int64_t)(next_rand(&s) % 50000);
        int64_t dur = 10000 + (int64_t)(next_rand(&s) % 500000);
        o->ret = o->inv + dur;
        o->lp = o->inv + 1 + (int64_t)(next_rand(&s) % (uint64_t)(dur - 1));
        o->outcome = HE_OK;
        o->takes_effect = true;
        if (o->f != 0 && (int)(next_rand(&s) % 100) < info_pct) {
            o->outcome = HE_INFO;
            o->takes_effect = next_rand(&s) % 2;
        }
        free_at[p] = o->ret;
    }
    /* apply in linearization order */
    struct gop **by_lp = xmalloc((size_t)(n_ops ? n_ops : 1) * sizeof *by_lp);
    for (int i = 0; i < n_ops; i++)
        by_lp[i] = &ops[i];
    qsort(by_lp, (size_t)n_ops, sizeof *by_lp, lp_cmp);
    int nk = keys > 0 ? keys : 1;
    int *state = xmalloc((size_t)nk * sizeof *state);
    for (int k = 0; k < nk; k++)
        state[k] = -1;
    for (int i = 0; i < n_ops; i++) {
        struct gop *o = by_lp[i];
        if (o->f == 0) {
            o->result = state[o->key];
        } else if (o->f == 1) {
            if (o->takes_effect)
                state[o->key] = o->a;
        } else {
            bool match = state[o->key] == o->a;
            if (o->outcome == HE_OK && !match)
                o->outcome = HE_FAIL;
            if (match && o->takes_effect)
                state[o->key] = o->b;
        }
    }
    /* events in time order */
    struct gev *ev = xmalloc((size_t)(2 * n_ops + 1) * sizeof *ev);
    for (int i = 0; i < n_ops; i++) {
        ev[2 * i] = (struct gev){ops[i].inv, i, false};
        ev[2 * i + 1] = (struct gev){ops[i].ret, i, true};
    }
    qsort(ev, (size_t)(2 * n_ops), sizeof *ev, gev_cmp);
    struct history *h = history_new();
    static const char *fn[] = {"read", "write", "cas"};
    for (int e = 0; e < 2 * n_ops; e++) {
        struct gop *o = &ops[ev[e].op];
        char key[16], a[16], b[16], res[16];
        snprintf(key, sizeof key, "k%d", o->key);
        snprintf(a, sizeof a, "%d", o->a);
        snprintf(b, sizeof b, "%d", o->b);
        snprintf(res, sizeof res, "%d", o->result);
        const char *v1 = o->f == 0 ? (ev[e].ret ? (o->result >= 0 ? res : NULL) : NULL) : a;
        const char *v2 = o->f == 2 ? b : NULL;
        char err[256];
        int rc = history_add(h, o->proc, ev[e].ret ? (enum hist_event)o->outcome : HE_INVOKE,
                             fn[o->f], keys > 0 ? key : NULL, v1, v2, ev[e].t, NULL,
                             o->outcome == HE_INFO && ev[e].ret ? "timeout" : NULL, err,
                             sizeof err);
        if (rc) {
            fprintf(stderr, "checkbench: generator bug: %s\n", err);
            abort();
        }
    }
    free(ev);
    free(state);
    free(by_lp);
    free(ops);
    free(free_at);
    return h;
}

/* ---- the table ---------------------------------------------------------------------------- */

struct row {
    char name[64];
    int verdict, ops, keys;
    double ms;
    long rss_kb;
};

/* Checks in a child; fills the row. path NULL: the generated history. */
static int measure(const char *path, int n_ops, int procs, int keys, int info, uint64_t seed,
                   struct row *row)
{
    int fd[2];
    if (pipe(fd))
        return -1;
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        close(fd[0]);
        struct history *h = NULL;
        char err[512];
        double res[4] = {-1, 0, 0, 0};
        if (path ? history_load(path, &h, err, sizeof err) == 0
                 : (h = checkbench_generate(n_ops, procs, keys, info, seed)) != NULL) {
            struct lin_opts o;
            lin_opts_default(&o);
            o.time_limit_s = 60;
            struct lin_result *r = NULL;
            uint64_t t0 = mono_us();
            int v = lincheck_run(h, &o, &r, err, sizeof err);
            res[1] = (double)(mono_us() - t0) / 1000.0;
            res[0] = v;
            if (r) {
                res[2] = r->n_ops;
                res[3] = r->n_keys;
            }
            lin_result_free(&r);
            history_free(&h);
        }
        if (write(fd[1], res, sizeof res) != (ssize_t)sizeof res)
            _exit(1);
        _exit(0);
    }
    close(fd[1]);
    double res[4] = {-1, 0, 0, 0};
    ssize_t got = read(fd[0], res, sizeof res);
    close(fd[0]);
    int status;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) < 0)
        return -1;
    row->verdict = got == (ssize_t)sizeof res ? (int)res[0] : -1;
    row->ms = res[1];
    row->ops = (int)res[2];
    row->keys = (int)res[3];
    row->rss_kb = ru.ru_maxrss;
    return 0;
}

static void print_row(const struct row *r)
{
    static const char *names[] = {"linearizable", "NOT linearizable", "unknown"};
    const char *v = r->verdict >= 0 && r->verdict <= 2 ? names[r->verdict] : "bad input";
    printf("%-36s %7d %5d  %-17s %10.3f %9ld\n", r->name, r->ops, r->keys, v, r->ms, r->rss_kb);
}

static bool has_ext(const char *n)
{
    size_t l = strlen(n);
    return (l > 4 && !strcmp(n + l - 4, ".edn")) || (l > 6 && !strcmp(n + l - 6, ".jsonl"));
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Collects history files under dir (recursively), sorted. */
static void collect(const char *dir, char ***files, int *n, int *cap, int depth)
{
    struct stat st;
    if (stat(dir, &st))
        return;
    if (!S_ISDIR(st.st_mode)) {
        if (*n == *cap) {
            *cap = *cap ? *cap * 2 : 32;
            *files = xrealloc(*files, (size_t)*cap * sizeof **files);
        }
        (*files)[(*n)++] = xstrdup(dir);
        return;
    }
    if (depth > 4)
        return;
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    int start = *n;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char *p = xasprintf("%s/%s", dir, e->d_name);
        if (!stat(p, &st) && (S_ISDIR(st.st_mode) || has_ext(e->d_name)))
            collect(p, files, n, cap, depth + 1);
        free(p);
    }
    closedir(d);
    qsort(*files + start, (size_t)(*n - start), sizeof **files, name_cmp);
}

int checkbench_main(int argc, char **argv)
{
    int n_ops = 10000, procs = 10, keys = 10, info = 1;
    uint64_t seed = 1;
    const char *write_to = NULL;
    char **files = NULL;
    int nf = 0, cf = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int64_t v;
        if ((!strcmp(a, "--ops") || !strcmp(a, "--procs") || !strcmp(a, "--keys") ||
             !strcmp(a, "--seed") || !strcmp(a, "--info")) && i + 1 < argc) {
            if (parse_i64(argv[++i], &v) || v < 0 || v > 10000000) {
                fprintf(stderr, "conlab bench check: %s wants a number, got '%s'\n", a, argv[i]);
                return 2;
            }
            if (a[2] == 'o') n_ops = (int)v;
            else if (a[2] == 'p') procs = (int)v;
            else if (a[2] == 'k') keys = (int)v;
            else if (a[2] == 'i') info = v > 100 ? 100 : (int)v;
            else seed = (uint64_t)v;
        } else if (!strcmp(a, "--write") && i + 1 < argc) {
            write_to = argv[++i];
        } else if (a[0] == '-') {
            fprintf(stderr, "usage: conlab bench check [--ops N] [--procs P] [--keys K] "
                    "[--seed S] [--info PCT] [--write FILE] [FILE|DIR...]\n");
            return 2;
        } else {
            collect(a, &files, &nf, &cf, 0);
        }
    }
    if (write_to) {
        struct history *h = checkbench_generate(n_ops, procs, keys, info, seed);
        struct sb out = {0};
        history_write_edn(h, &out);
        FILE *fp = fopen(write_to, "w");
        if (!fp || fwrite(out.s, 1, out.len, fp) != out.len) {
            fprintf(stderr, "conlab bench check: cannot write %s\n", write_to);
            if (fp)
                fclose(fp);
            sb_free(&out);
            history_free(&h);
            return 2;
        }
        fclose(fp);
        sb_free(&out);
        history_free(&h);
        return 0;
    }
    if (nf == 0 && argc <= 1) {
        collect("tests/data/jepsen", &files, &nf, &cf, 0);
        collect("tests/data/kv", &files, &nf, &cf, 0);
    }
    printf("%-36s %7s %5s  %-17s %10s %9s\n", "history", "ops", "keys", "verdict", "check ms",
           "peak KB");
    double total = 0;
    for (int i = 0; i < nf; i++) {
        struct row r = {0};
        const char *base = strrchr(files[i], '/');
        const char *par = base;
        while (par && par > files[i] && par[-1] != '/')
            par--;
        snprintf(r.name, sizeof r.name, "%s", par && par > files[i] ? par : files[i]);
        if (measure(files[i], 0, 0, 0, 0, 0, &r) == 0) {
            print_row(&r);
            total += r.ms;
        }
        free(files[i]);
    }
    free(files);
    struct row r = {0};
    snprintf(r.name, sizeof r.name, "generated %d ops/%d procs/%d keys", n_ops, procs, keys);
    if (measure(NULL, n_ops, procs, keys, info, seed, &r) == 0) {
        print_row(&r);
        total += r.ms;
    }
    printf("total check time %.3f ms\n", total);
    return 0;
}
