/* benchstat — latency and throughput figures. See benchstat.h. */
#include "benchstat.h"

#include <stdlib.h>

struct benchstat {
    uint64_t *v;
    size_t n, cap;
    int sorted;
    uint64_t fails, timeouts;
    double sum;
};

struct benchstat *benchstat_new(void)
{
    return xcalloc(1, sizeof(struct benchstat));
}

void benchstat_destroy(struct benchstat **bp)
{
    if (!*bp)
        return;
    free((*bp)->v);
    free(*bp);
    *bp = NULL;
}

void benchstat_ok(struct benchstat *b, uint64_t latency_us)
{
    if (b->n == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 1024;
        b->v = xrealloc(b->v, b->cap * sizeof *b->v);
    }
    b->v[b->n++] = latency_us;
    b->sum += (double)latency_us;
    b->sorted = 0;
}

void benchstat_fail(struct benchstat *b)
{
    b->fails++;
}

void benchstat_timeout(struct benchstat *b)
{
    b->timeouts++;
}

uint64_t benchstat_count(const struct benchstat *b)
{
    return b->n;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

uint64_t benchstat_percentile(struct benchstat *b, double p)
{
    if (!b->n)
        return 0;
    if (!b->sorted) {
        qsort(b->v, b->n, sizeof *b->v, cmp_u64);
        b->sorted = 1;
    }
    if (p <= 0)
        return b->v[0];
    if (p >= 100)
        return b->v[b->n - 1];
    /* nearest rank: the smallest sample with at least p% of samples at or below it */
    size_t rank = (size_t)((p / 100.0) * (double)b->n + 0.999999999);
    if (rank < 1)
        rank = 1;
    if (rank > b->n)
        rank = b->n;
    return b->v[rank - 1];
}

double benchstat_mean(const struct benchstat *b)
{
    return b->n ? b->sum / (double)b->n : 0;
}

static void add_ms(struct sb *out, const char *label, double us)
{
    if (us < 1000)
        sb_printf(out, "  %s %.0fus", label, us);
    else
        sb_printf(out, "  %s %.1fms", label, us / 1000.0);
}

void benchstat_summary(struct benchstat *b, uint64_t elapsed_us, struct sb *out)
{
    double secs = (double)elapsed_us / 1e6;
    sb_printf(out, "%llu ops in %.2fs: %.0f ops/s", (unsigned long long)b->n, secs,
              secs > 0 ? (double)b->n / secs : 0.0);
    if (b->n) {
        add_ms(out, "mean", benchstat_mean(b));
        add_ms(out, "p50", (double)benchstat_percentile(b, 50));
        add_ms(out, "p90", (double)benchstat_percentile(b, 90));
        add_ms(out, "p99", (double)benchstat_percentile(b, 99));
        add_ms(out, "max", (double)benchstat_percentile(b, 100));
    }
    if (b->fails || b->timeouts)
        sb_printf(out, "  (%llu failed, %llu timed out)", (unsigned long long)b->fails,
                  (unsigned long long)b->timeouts);
}
