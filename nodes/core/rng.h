/* rng — a small seeded PRNG (xoshiro256**, seeded through splitmix64). Used wherever
 * randomness must be reproducible from a seed: the simulator, fault shapes, timer jitter. */
#ifndef CONLAB_RNG_H
#define CONLAB_RNG_H

#include <stdint.h>

struct rng {
    uint64_t s[4];
};

void rng_seed(struct rng *r, uint64_t seed);
uint64_t rng_next(struct rng *r);
/* Uniform in [lo, hi], inclusive. */
uint64_t rng_range(struct rng *r, uint64_t lo, uint64_t hi);
/* Uniform in [0, 1). */
double rng_double(struct rng *r);

#endif
