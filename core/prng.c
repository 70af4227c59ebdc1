/* prng.c -- splitmix64 and xoshiro256** (Blackman & Vigna): inline in prng.h, so the
 * simulator's per-record streams cost no calls; this file keeps the module's place in
 * the build. */
#include "core/prng.h"
