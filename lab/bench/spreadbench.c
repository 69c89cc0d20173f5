/* spreadbench — see spreadbench.h. Runs in the simulator only. */
#include "spreadbench.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sim.h"

#define TEXT "spread1"
#define BOOT_US 200000ull
#define SLICE_US 10000ull       /* the holders are counted every 10 ms of virtual time */
#define LIMIT_US 120000000ull
#define MAX_SIZES 16
#define MAX_SEEDS 1000

/* This process's resident memory now, in bytes (/proc/self/statm), or 0. */
static size_t rss_now(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long size = 0, res = 0;
    if (!f)
        return 0;
    int ok = fscanf(f, "%lu %lu", &size, &res) == 2;
    fclose(f);
    return ok ? (size_t)res * (size_t)sysconf(_SC_PAGESIZE) : 0;
}

/* Opts "k=v k=v" into o (later keys win). 0, or -1 with err. */
static int add_opts(struct opts *o, const char *text, char *err, size_t errlen)
{
    char *copy = xstrdup(text), *save = NULL;
    int rc = 0;
    for (char *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
        char *eq = strchr(w, '=');
        if (!eq || eq == w) {
            snprintf(err, errlen, "'%s' is not key=value", w);
            rc = -1;
            break;
        }
        *eq = 0;
        opts_set(o, w, eq + 1);
    }
    free(copy);
    return rc;
}

int spread_run(const struct mode *m, int n, const struct opts *o, uint64_t seed, struct spread_result *out,
               char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->rounds = -1;
    if (!m->spread_round) {
        snprintf(err, errlen, "the %s mode has no spread figure", m->name);
        return CL_EINVAL;
    }
    size_t rss0 = rss_now();
    uint64_t t0 = mono_us();
    struct sim *s = sim_new(m, n, o, seed, err, errlen);
    if (!s)
        return CL_EINVAL;
    sim_run_for(s, BOOT_US);
    uint64_t start = sim_now(s);
    sim_client_send(s, 0, "c1", json_pack("{s:s,s:I,s:s}", "type", "broadcast", "msg_id", (json_int_t)1, "message",
                                          TEXT));
    /* a node never forgets the broadcast: count from the first one that does not hold it yet */
    int pos = 0;
    while (sim_now(s) - start < LIMIT_US) {
        while (pos < n && sim_state(s, pos) && m->spread_round(sim_state(s, pos), TEXT) >= 0)
            pos++;
        if (pos == n)
            break;
        if (sim_next_time(s) == UINT64_MAX)
            break;
        sim_run_for(s, SLICE_US);
    }
    out->virtual_us = sim_now(s) - start;
    for (int i = 0; i < n; i++) {
        long r = sim_state(s, i) ? m->spread_round(sim_state(s, i), TEXT) : -1;
        if (r < 0)
            continue;
        out->holders++;
        if (r > out->rounds)
            out->rounds = r;
    }
    if (out->holders < n)
        out->rounds = -1;
    sim_counts(s, NULL, &out->messages, NULL);
    size_t rss1 = rss_now();
    out->rss_bytes = rss1 > rss0 ? rss1 - rss0 : 0;
    sim_destroy(&s);
    out->wall_us = mono_us() - t0;
    return 0;
}

/* spread_run in a child process, so that each run's memory is its own (a run in this process
 * would reuse what the runs before it freed). */
static int spread_run_apart(const struct mode *m, int n, const struct opts *o, uint64_t seed,
                            struct spread_result *out, char *err, size_t errlen)
{
    struct {
        int rc;
        struct spread_result r;
        char err[200];
    } msg;
    int fd[2];
    fflush(stdout);
    if (pipe(fd) < 0)
        return spread_run(m, n, o, seed, out, err, errlen);
    pid_t pid = fork();
    if (pid < 0) {
        close(fd[0]);
        close(fd[1]);
        return spread_run(m, n, o, seed, out, err, errlen);
    }
    if (pid == 0) {
        close(fd[0]);
        memset(&msg, 0, sizeof msg);
        msg.rc = spread_run(m, n, o, seed, &msg.r, msg.err, sizeof msg.err);
        ssize_t w = write(fd[1], &msg, sizeof msg);
        _exit(w == (ssize_t)sizeof msg ? 0 : 1);
    }
    close(fd[1]);
    size_t got = 0;
    while (got < sizeof msg) {
        ssize_t k = read(fd[0], (char *)&msg + got, sizeof msg - got);
        if (k <= 0)
            break;
        got += (size_t)k;
    }
    close(fd[0]);
    int status;
    waitpid(pid, &status, 0);
    if (got < sizeof msg) {
        snprintf(err, errlen, "the run of %d nodes (seed %llu) died", n, (unsigned long long)seed);
        return CL_EIO;
    }
    *out = msg.r;
    if (msg.rc < 0)
        snprintf(err, errlen, "%s", msg.err);
    return msg.rc;
}

static int cmp_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return x < y ? -1 : x > y;
}

static void usage(FILE *f)
{
    fputs("usage: conlab bench spread [--mode M] [--nodes 16,32,64,100,256,1000] [--seeds S] [--opt key=value]...\n"
          "                           [--json]\n"
          "A broadcast from n1 in the simulator: the rounds until every node holds it (the largest round any node\n"
          "learned it in, counted along its path), over S seeds (default 10) per size, for each of the mode's runs\n"
          "(push, push-pull, ...), beside log2 N + ln N (push) and log3 N + ln ln N (push-pull); each run's virtual\n"
          "time, wall time, messages and memory. Up to the mode's simulator bound (1000 nodes).\n",
          f);
}

int spreadbench_main(int argc, char **argv)
{
    const struct mode *m = NULL;
    int sizes[MAX_SIZES] = {16, 32, 64, 100, 256, 1000}, nsizes = 6, json_out = 0;
    int64_t seeds = 10;
    struct opts user = {0};
    int rc = 2;
    char err[256];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--json")) {
            json_out = 1;
            continue;
        }
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            rc = 0;
            goto out;
        }
        if (!v) {
            fprintf(stderr, "conlab bench spread: %s needs a value\n", a);
            goto out;
        }
        i++;
        if (!strcmp(a, "--mode")) {
            m = mode_find(v);
            if (!m || !m->spread_round) {
                fprintf(stderr, "conlab bench spread: --mode %s: %s\n", v,
                        m ? "this mode has no spread figure (it does not disseminate broadcasts)" : "no such mode");
                goto out;
            }
        } else if (!strcmp(a, "--nodes")) {
            nsizes = 0;
            char *copy = xstrdup(v), *save = NULL;
            for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
                int64_t x;
                if (nsizes == MAX_SIZES || parse_i64(w, &x) < 0 || x < 2 || x > CL_SIM_MAXNODES) {
                    fprintf(stderr, "conlab bench spread: --nodes %s: up to %d sizes, each 2..%d\n", v, MAX_SIZES,
                            CL_SIM_MAXNODES);
                    free(copy);
                    goto out;
                }
                sizes[nsizes++] = (int)x;
            }
            free(copy);
            if (!nsizes) {
                fprintf(stderr, "conlab bench spread: --nodes needs sizes, e.g. 16,64,1000\n");
                goto out;
            }
        } else if (!strcmp(a, "--seeds") && parse_i64(v, &seeds) == 0 && seeds >= 1 && seeds <= MAX_SEEDS) {
            ;
        } else if (!strcmp(a, "--opt") && strchr(v, '=') && strchr(v, '=') != v) {
            char *k = xstrndup(v, (size_t)(strchr(v, '=') - v));
            opts_set(&user, k, strchr(v, '=') + 1);
            free(k);
        } else {
            fprintf(stderr, "conlab bench spread: bad %s %s\n", a, v);
            usage(stderr);
            goto out;
        }
    }
    for (int i = 0; !m && mode_table[i]; i++)
        if (mode_table[i]->spread_round)
            m = mode_table[i];
    if (!m) {
        fprintf(stderr, "conlab bench spread: no mode with a spread figure is built in\n");
        goto out;
    }
    for (int k = 0; k < nsizes; k++)
        if (sizes[k] > mode_sim_max_nodes(m)) {
            fprintf(stderr, "conlab bench spread: the simulator runs at most %d nodes of %s, not %d\n",
                    mode_sim_max_nodes(m), m->name, sizes[k]);
            goto out;
        }
    rc = 1;
    json_t *rows = json_array();
    if (!json_out) {
        printf("spread: %s in the simulator, a broadcast from n1; rounds until every node holds it (the largest round "
               "any node learned it in), %lld seeds per size\n",
               m->name, (long long)seeds);
        printf("%-5s %-10s %6s %4s %4s %4s %10s %12s %9s %9s %9s %8s\n", "N", "run", "mean", "p50", "p90", "max",
               "log2N+lnN", "log3N+lnlnN", "virtual", "wall/run", "msgs/run", "memory");
    }
    long *r = xcalloc((size_t)seeds, sizeof *r);
    for (int k = 0; k < nsizes; k++) {
        int n = sizes[k];
        double lg = log2(n) + log(n), l3 = log(n) / log(3) + log(log(n));
        for (const struct mode_spread_run *run = m->spread_runs; run && run->label; run++) {
            struct opts o = {0};
            if (add_opts(&o, run->opts, err, sizeof err) < 0) {
                fprintf(stderr, "conlab bench spread: %s: %s\n", run->label, err);
                opts_free(&o);
                goto fail;
            }
            for (int i = 0; i < user.n; i++)
                opts_set(&o, user.key[i], user.val[i]);
            if (mode_check_opts(m, &o, err, sizeof err) < 0) {
                fprintf(stderr, "conlab bench spread: %s\n", err);
                opts_free(&o);
                goto fail;
            }
            double sum = 0, vsum = 0, wsum = 0, msum = 0;
            size_t heap = 0;
            int failed = 0;
            for (int64_t sd = 1; sd <= seeds; sd++) {
                struct spread_result res;
                if (spread_run_apart(m, n, &o, (uint64_t)sd, &res, err, sizeof err) < 0) {
                    fprintf(stderr, "conlab bench spread: %s\n", err);
                    opts_free(&o);
                    goto fail;
                }
                r[sd - 1] = res.rounds;
                failed += res.rounds < 0;
                sum += res.rounds;
                vsum += (double)res.virtual_us;
                wsum += (double)res.wall_us;
                msum += (double)res.messages;
                if (res.rss_bytes > heap)
                    heap = res.rss_bytes;
            }
            opts_free(&o);
            qsort(r, (size_t)seeds, sizeof *r, cmp_long);
            double mean = sum / (double)seeds;
            long p50 = r[(seeds - 1) / 2], p90 = r[(seeds * 9 + 9) / 10 - 1], mx = r[seeds - 1];
            if (json_out) {
                json_array_append_new(
                    rows, json_pack("{s:i,s:s,s:s,s:I,s:f,s:I,s:I,s:I,s:i,s:f,s:f,s:f,s:f,s:f,s:I}", "nodes", n, "run",
                                    run->label, "opts", run->opts, "seeds", (json_int_t)seeds, "mean_rounds", mean,
                                    "p50", (json_int_t)p50, "p90", (json_int_t)p90, "max", (json_int_t)mx,
                                    "not_all", failed, "log2n_plus_lnn", lg, "log3n_plus_lnlnn", l3, "virtual_ms",
                                    vsum / (double)seeds / 1e3, "wall_ms", wsum / (double)seeds / 1e3, "messages",
                                    msum / (double)seeds, "rss_bytes", (json_int_t)heap));
            } else {
                printf("%-5d %-10s %6.1f %4ld %4ld %4ld %10.1f %12.1f %7.2fs %7.3fs %9.0f %6.1fMB%s\n", n, run->label,
                       mean, p50, p90, mx, lg, l3, vsum / (double)seeds / 1e6, wsum / (double)seeds / 1e6,
                       msum / (double)seeds, (double)heap / 1048576.0, failed ? "  (some seeds did not reach all)" : "");
                fflush(stdout);
            }
        }
    }
    if (json_out) {
        json_t *j = json_pack("{s:s,s:O}", "mode", m->name, "rows", rows);
        char *txt = json_dumps(j, JSON_COMPACT);
        puts(txt);
        free(txt);
        json_decref(j);
    }
    rc = 0;
fail:
    free(r);
    json_decref(rows);
out:
    opts_free(&user);
    return rc;
}
