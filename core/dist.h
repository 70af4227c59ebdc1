/* dist.h -- random distributions over a prng stream (core/prng.h).
 *
 * Pure functions of the stream: same stream state -> same draws on every platform
 * (only +, *, /, sqrt, log, exp, pow from libm, which are correctly rounded or the
 * same glibc code on both compilers). */
#ifndef SHARDSIM_CORE_DIST_H
#define SHARDSIM_CORE_DIST_H

#include <stddef.h>
#include <stdint.h>

#include "core/prng.h"

double dist_uniform(prng *r, double lo, double hi); /* [lo, hi) */
double dist_exponential(prng *r, double mean);      /* mean > 0 */
double dist_normal(prng *r, double mean, double stddev);
double dist_lognormal(prng *r, double mu, double sigma); /* exp(N(mu, sigma)) */
double dist_pareto(prng *r, double scale, double shape); /* x_m, alpha > 0 */

/* Zipf over ranks 1..n with exponent s > 0 (s <= 1 included), P(k) ~ 1/k^s, by
 * rejection-inversion (Hoermann & Derflinger 1996): O(1) memory and expected O(1)
 * time per draw for n up to 2^53. */
typedef struct dist_zipf {
    uint64_t n;
    double s;
    double h_x1, h_n, threshold; /* precomputed constants */
} dist_zipf;

/* Returns 0, or SS_EINVAL for n == 0 or s <= 0. */
int dist_zipf_init(dist_zipf *z, uint64_t n, double s);
uint64_t dist_zipf_draw(const dist_zipf *z, prng *r); /* in [1, n] */

/* Empirical distribution: draws one of the given samples uniformly and interpolates
 * linearly between neighbours of the sorted sample (a continuous inverse CDF).
 * dist_empirical_init copies and sorts the values. */
typedef struct dist_empirical {
    double *sorted; /* malloc'd, count values */
    size_t count;
} dist_empirical;

int dist_empirical_init(dist_empirical *e, const double *values, size_t count);
double dist_empirical_draw(const dist_empirical *e, prng *r);
void dist_empirical_free(dist_empirical *e);

#endif
