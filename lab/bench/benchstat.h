/* benchstat — the figures of a benchmark run (`conlab bench`): latencies of completed
 * operations, counts of failed and timed-out ones, throughput, and percentiles, printed in one
 * line that compares with etcd's benchmark tool ("3904 ops/s  p50 3.1ms  p99 8.9ms").
 * Pure: the caller measures time and feeds samples; nothing here reads a clock.
 * Memory: every sample is kept (8 bytes each) until benchstat_destroy(). */
#ifndef CONLAB_BENCHSTAT_H
#define CONLAB_BENCHSTAT_H

#include <stdint.h>

#include "util.h"

struct benchstat;

struct benchstat *benchstat_new(void);
void benchstat_destroy(struct benchstat **b);
/* One completed operation that took latency_us. */
void benchstat_ok(struct benchstat *b, uint64_t latency_us);
/* One operation that failed (a definite error) or timed out (indeterminate). */
void benchstat_fail(struct benchstat *b);
void benchstat_timeout(struct benchstat *b);
uint64_t benchstat_count(const struct benchstat *b);
/* The p-th percentile latency (0 <= p <= 100, nearest rank), 0 when no sample. */
uint64_t benchstat_percentile(struct benchstat *b, double p);
double benchstat_mean(const struct benchstat *b);
/* Appends "N ops in S s: T ops/s  mean …  p50 …  p90 …  p99 …  max …  (F failed, X timed out)"
 * for a run that lasted elapsed_us. */
void benchstat_summary(struct benchstat *b, uint64_t elapsed_us, struct sb *out);

#endif
