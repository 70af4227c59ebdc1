/* prng.h -- seeded random streams: splitmix64 for seeding, xoshiro256** for draws.
 *
 * Every random draw in shardsim comes from a prng stream. A stream is derived from
 * (master seed, run number, component id), so each component (a source, the network,
 * the fault injector, a placement strategy) has its own sequence and changing one
 * component's policy leaves every other component's draws unchanged.
 *
 * The generators are inline: the simulator seeds a stream per record and draws a few
 * numbers from it, so a call per number would cost as much as the number. */
#ifndef SHARDSIM_CORE_PRNG_H
#define SHARDSIM_CORE_PRNG_H

#include <stdint.h>

typedef struct prng {
    uint64_t s[4];
} prng;

/* splitmix64: advances *state and returns the next output. */
static inline uint64_t prng_splitmix64(uint64_t *state) {
    uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* Seed a stream from one 64-bit value (through splitmix64; never all-zero state). */
static inline void prng_seed(prng *r, uint64_t seed) {
    uint64_t sm = seed;
    for (int i = 0; i < 4; i++)
        r->s[i] = prng_splitmix64(&sm);
    if ((r->s[0] | r->s[1] | r->s[2] | r->s[3]) == 0)
        r->s[0] = 1; /* xoshiro must not start from all zeros */
}

/* The part of a stream's seeding that depends on (seed, run) only: streams of many
 * components of one run start from it (prng_stream_from). */
static inline uint64_t prng_stream_base(uint64_t seed, uint64_t run) {
    /* Chain the three numbers through splitmix64 so that nearby (run, component)
     * pairs give unrelated streams. */
    uint64_t sm = seed;
    uint64_t a = prng_splitmix64(&sm);
    sm = a ^ run;
    return prng_splitmix64(&sm);
}

/* The stream of `component` from its run's base: the same as prng_stream. */
static inline void prng_stream_from(prng *r, uint64_t base, uint64_t component) {
    uint64_t sm = base ^ (component * 0xD1B54A32D192ED03ULL);
    prng_seed(r, prng_splitmix64(&sm));
}

/* Seed the stream of component `component` in run `run` of master seed `seed`. */
static inline void prng_stream(prng *r, uint64_t seed, uint64_t run, uint64_t component) {
    prng_stream_from(r, prng_stream_base(seed, run), component);
}

static inline uint64_t prng_rotl(uint64_t x, int k) {
    return (x << k) | (x >> (64 - k));
}

/* xoshiro256** next 64 bits. */
static inline uint64_t prng_next(prng *r) {
    uint64_t *s = r->s;
    uint64_t result = prng_rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = prng_rotl(s[3], 45);
    return result;
}

/* Uniform in [0, bound) without modulo bias (Lemire's method); bound >= 1. */
static inline uint64_t prng_below(prng *r, uint64_t bound) {
    /* Lemire, "Fast Random Integer Generation in an Interval" (2019). __extension__
     * keeps -Wpedantic quiet about the GCC/Clang 128-bit type. */
    __extension__ typedef unsigned __int128 prng_u128;
    prng_u128 m = (prng_u128)prng_next(r) * bound;
    uint64_t low = (uint64_t)m;
    if (low < bound) {
        uint64_t threshold = (0 - bound) % bound;
        while (low < threshold) {
            m = (prng_u128)prng_next(r) * bound;
            low = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

/* Uniform double in [0, 1) with 53 random bits. */
static inline double prng_unit(prng *r) {
    return (double)(prng_next(r) >> 11) * 0x1.0p-53;
}

#endif
