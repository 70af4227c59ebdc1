/* prng.c -- splitmix64 and xoshiro256** (Blackman & Vigna). */
#include "core/prng.h"

/* __extension__ keeps -Wpedantic quiet about the GCC/Clang 128-bit type. */
__extension__ typedef unsigned __int128 u128;

uint64_t prng_splitmix64(uint64_t *state) {
    uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

void prng_seed(prng *r, uint64_t seed) {
    uint64_t sm = seed;
    for (int i = 0; i < 4; i++)
        r->s[i] = prng_splitmix64(&sm);
    if ((r->s[0] | r->s[1] | r->s[2] | r->s[3]) == 0)
        r->s[0] = 1; /* xoshiro must not start from all zeros */
}

void prng_stream(prng *r, uint64_t seed, uint64_t run, uint64_t component) {
    /* Chain the three numbers through splitmix64 so that nearby (run, component)
     * pairs give unrelated streams. */
    uint64_t sm = seed;
    uint64_t a = prng_splitmix64(&sm);
    sm = a ^ run;
    uint64_t b = prng_splitmix64(&sm);
    sm = b ^ (component * 0xD1B54A32D192ED03ULL);
    prng_seed(r, prng_splitmix64(&sm));
}

static inline uint64_t rotl(uint64_t x, int k) {
    return (x << k) | (x >> (64 - k));
}

uint64_t prng_next(prng *r) {
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t prng_below(prng *r, uint64_t bound) {
    /* Lemire, "Fast Random Integer Generation in an Interval" (2019). */
    u128 m = (u128)prng_next(r) * bound;
    uint64_t low = (uint64_t)m;
    if (low < bound) {
        uint64_t threshold = (0 - bound) % bound;
        while (low < threshold) {
            m = (u128)prng_next(r) * bound;
            low = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

double prng_unit(prng *r) {
    return (double)(prng_next(r) >> 11) * 0x1.0p-53;
}
