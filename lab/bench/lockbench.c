/* lockbench — see lockbench.h. One lab, one cluster per lock service, named client processes
 * driven through lab/coord/clients.h: for throughput every client runs `bench LOCK SECONDS`
 * (lock, unlock, again) at once; for takeover a holder is crashed while a waiter queues, and
 * the time until the waiter's `acquired` reply is taken on the lab's clock. */
#include "lockbench.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clients.h"
#include "lab.h"

/* The lock services measured, one row each. A service's clients take the same verbs (lock,
 * unlock, bench) from lab/coord; another one (redlock, issue 19's other half) adds its row
 * here: its start line, and the session option its client command takes. */
struct lock_service {
    const char *name;
    const char *start;          /* the lab command that starts its cluster */
    const char *client_opt;     /* appended to `client NAME` for the takeover runs, or NULL */
};

static const struct lock_service services[] = {
    {"zk", "start zab 3 service=zk fsync=on election=1s", "session=1s"},
    {NULL, NULL, NULL},
};

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int run(struct lab *lab, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int run(struct lab *lab, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    return lab_exec(lab, line);
}

static void quiet(void *ud, const char *text)
{
    (void)ud;
    (void)text;
}

struct row {
    const char *service;
    int clients;
    double seconds, pairs_per_s, take_ms_p50, take_ms_max, session_ms;
    uint64_t pairs;
    int takeovers, mutex_holds;
};

static int measure(const struct lock_service *sv, int clients, double seconds, int rounds, struct row *r)
{
    struct lab lab;
    char err[256];
    if (lab_init(&lab, "conlab", err, sizeof err) < 0) {
        fprintf(stderr, "conlab bench lock: %s\n", err);
        return 1;
    }
    lab_add_hooks(&lab, &(struct lab_hooks){.ud = &lab, .on_output = quiet}); /* the figures only */
    memset(r, 0, sizeof *r);
    r->service = sv->name;
    r->clients = clients;
    r->seconds = seconds;
    int rc = 1;
    if (run(&lab, "%s", sv->start) || run(&lab, "wait leader 30s"))
        goto out;
    for (int i = 0; i < clients; i++)
        if (run(&lab, "client b%d", i + 1))
            goto out;
    /* throughput: every client locks and unlocks the same lock for `seconds` */
    uint64_t req[256];
    char secs[32];
    snprintf(secs, sizeof secs, "%.0fms", seconds * 1000);
    char *args[2] = {(char *)"orders", secs};
    uint64_t t0 = mono_us();
    for (int i = 0; i < clients; i++) {
        char name[16];
        snprintf(name, sizeof name, "b%d", i + 1);
        if (actors_send(&lab, name, "bench", 2, args, &req[i]) < 0)
            goto out;
    }
    for (int i = 0; i < clients; i++) {
        char name[16];
        snprintf(name, sizeof name, "b%d", i + 1);
        json_t *rep = actors_wait(&lab, name, req[i], (uint64_t)(seconds * 1e6) + 60000000);
        if (rep && json_is_true(json_object_get(rep, "ok")))
            r->pairs += strtoull(json_string_value(json_object_get(rep, "text")), NULL, 10);
        json_decref(rep);
    }
    double el = (double)(mono_us() - t0) / 1e6;
    r->pairs_per_s = (double)r->pairs / (el > 0 ? el : 1);
    struct sb out = {0};
    r->mutex_holds = lab_check(&lab, "mutex", NULL, 0, &out) == 0;
    sb_free(&out);
    /* takeover: a holder crashes while a waiter queues */
    double *take = xcalloc((size_t)rounds + 1, sizeof *take);
    r->session_ms = 1000;
    for (int k = 0; k < rounds; k++) {
        char lock[32], h[16], w[16];
        snprintf(lock, sizeof lock, "t%d", k);
        snprintf(h, sizeof h, "h%d", k);
        snprintf(w, sizeof w, "w%d", k);
        if (run(&lab, "client %s %s", h, sv->client_opt ? sv->client_opt : "") ||
            run(&lab, "client %s %s", w, sv->client_opt ? sv->client_opt : "") || run(&lab, "%s lock %s", h, lock))
            continue;
        char wait[] = "wait=60s";
        char *la[2] = {lock, wait};
        uint64_t wr;
        if (actors_send(&lab, w, "lock", 2, la, &wr) < 0)
            continue;
        lab_pump(&lab, 300000, -1); /* let the waiter queue behind the holder */
        uint64_t c0 = mono_us();
        run(&lab, "crash %s", h);
        json_t *rep = actors_wait(&lab, w, wr, 60000000);
        if (rep && json_is_true(json_object_get(rep, "ok")))
            take[r->takeovers++] = (double)(mono_us() - c0) / 1000.0;
        json_decref(rep);
        run(&lab, "crash %s", w);
    }
    if (r->takeovers) {
        qsort(take, (size_t)r->takeovers, sizeof *take, cmp_double);
        r->take_ms_p50 = take[(r->takeovers - 1) / 2];
        r->take_ms_max = take[r->takeovers - 1];
    }
    free(take);
    rc = 0;
out:
    lab_stop(&lab);
    lab_destroy(&lab);
    return rc;
}

int lockbench_main(int argc, char **argv)
{
    int clients = 16, rounds = 5, json_out = 0;
    double seconds = 5;
    const char *only = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int64_t x;
        if (!strcmp(a, "--json")) {
            json_out = 1;
        } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            printf("usage: conlab bench lock [--clients C] [--seconds S] [--rounds R] [--service zk] [--json]\n"
                   "  lock/unlock pairs per second with C clients contending for one lock (3 nodes, fsync on),\n"
                   "  and the time a waiting client takes the lock after the holder crashes (R rounds)\n");
            return 0;
        } else if (v && !strcmp(a, "--clients") && parse_i64(v, &x) == 0 && x >= 1 && x <= 20) {
            clients = (int)x;
            i++;
        } else if (v && !strcmp(a, "--rounds") && parse_i64(v, &x) == 0 && x >= 0 && x <= 100) {
            rounds = (int)x;
            i++;
        } else if (v && !strcmp(a, "--seconds") && parse_double(v, &seconds) == 0 && seconds > 0 && seconds <= 600) {
            i++;
        } else if (v && !strcmp(a, "--service")) {
            only = v;
            i++;
        } else {
            fprintf(stderr, "conlab bench lock: bad argument '%s' (see --help)\n", a);
            return 2;
        }
    }
    int rc = 0, any = 0;
    struct sb js = {0};
    sb_add(&js, "[");
    if (!json_out)
        printf("%-8s %7s %7s %12s %16s %16s %8s %s\n", "service", "clients", "nodes", "pairs/s", "takeover p50 ms",
               "takeover max ms", "session", "check mutex");
    for (const struct lock_service *sv = services; sv->name; sv++) {
        if (only && strcmp(only, sv->name))
            continue;
        any = 1;
        struct row r;
        if (measure(sv, clients, seconds, rounds, &r)) {
            rc = 1;
            continue;
        }
        if (json_out)
            sb_printf(&js, "%s{\"service\":\"%s\",\"clients\":%d,\"nodes\":3,\"seconds\":%.1f,\"pairs\":%llu,"
                           "\"pairs_per_s\":%.1f,\"takeovers\":%d,\"takeover_p50_ms\":%.0f,\"takeover_max_ms\":%.0f,"
                           "\"session_ms\":%.0f,\"mutex_holds\":%s}",
                      js.len > 1 ? "," : "", r.service, r.clients, r.seconds, (unsigned long long)r.pairs, r.pairs_per_s,
                      r.takeovers, r.take_ms_p50, r.take_ms_max, r.session_ms, r.mutex_holds ? "true" : "false");
        else
            printf("%-8s %7d %7d %12.1f %16.0f %16.0f %6.0fms %s\n", r.service, r.clients, 3, r.pairs_per_s, r.take_ms_p50,
                   r.take_ms_max, r.session_ms, r.mutex_holds ? "holds" : "VIOLATED");
    }
    if (!any) {
        fprintf(stderr, "conlab bench lock: no service '%s' (zk)\n", only);
        rc = 2;
    }
    if (json_out)
        printf("%s]\n", js.s);
    sb_free(&js);
    fflush(stdout);
    return rc;
}
