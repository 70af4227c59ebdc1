/* prng.h -- seeded random streams: splitmix64 for seeding, xoshiro256** for draws.
 *
 * Every random draw in shardsim comes from a prng stream. A stream is derived from
 * (master seed, run number, component id), so each component (a source, the network,
 * the fault injector, a placement strategy) has its own sequence and changing one
 * component's policy leaves every other component's draws unchanged. */
#ifndef SHARDSIM_CORE_PRNG_H
#define SHARDSIM_CORE_PRNG_H

#include <stdint.h>

typedef struct prng {
    uint64_t s[4];
} prng;

/* splitmix64: advances *state and returns the next output. */
uint64_t prng_splitmix64(uint64_t *state);

/* Seed a stream from one 64-bit value (through splitmix64; never all-zero state). */
void prng_seed(prng *r, uint64_t seed);

/* Seed the stream of component `component` in run `run` of master seed `seed`. */
void prng_stream(prng *r, uint64_t seed, uint64_t run, uint64_t component);

/* xoshiro256** next 64 bits. */
uint64_t prng_next(prng *r);

/* Uniform in [0, bound) without modulo bias (Lemire's method); bound >= 1. */
uint64_t prng_below(prng *r, uint64_t bound);

/* Uniform double in [0, 1) with 53 random bits. */
double prng_unit(prng *r);

#endif
