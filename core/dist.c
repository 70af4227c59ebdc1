/* dist.c -- random distributions over a prng stream; see dist.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/dist.h"
#include "core/error.h"

/* Uniform in (0, 1]: safe for log. */
static double open_unit(prng *r) {
    return 1.0 - prng_unit(r);
}

double dist_uniform(prng *r, double lo, double hi) {
    return lo + (hi - lo) * prng_unit(r);
}

double dist_exponential(prng *r, double mean) {
    return -mean * log(open_unit(r));
}

double dist_normal(prng *r, double mean, double stddev) {
    /* Box-Muller; the second variate is dropped so a draw is a pure function of the
     * stream's state. */
    double u1 = open_unit(r), u2 = prng_unit(r);
    return mean + stddev * sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

double dist_lognormal(prng *r, double mu, double sigma) {
    return exp(dist_normal(r, mu, sigma));
}

double dist_pareto(prng *r, double scale, double shape) {
    return scale / pow(open_unit(r), 1.0 / shape);
}

/* Zipf by rejection-inversion (Hoermann & Derflinger, "Rejection-inversion to generate
 * variates from monotone discrete distributions", 1996): invert the integral H of the
 * hat function h(x) = x^-s, round to the nearest rank, and accept unless the point
 * falls in the sliver between the hat and the true probability. */
static double helper1(double x) { /* log1p(x) / x */
    return fabs(x) > 1e-8 ? log1p(x) / x : 1.0 - x * (0.5 - x * (1.0 / 3.0 - 0.25 * x));
}

static double helper2(double x) { /* expm1(x) / x */
    return fabs(x) > 1e-8 ? expm1(x) / x : 1.0 + x * 0.5 * (1.0 + x / 3.0 * (1.0 + 0.25 * x));
}

static double zipf_h(const dist_zipf *z, double x) {
    return exp(-z->s * log(x));
}

static double zipf_big_h(const dist_zipf *z, double x) {
    double lx = log(x);
    return helper2((1.0 - z->s) * lx) * lx;
}

static double zipf_big_h_inverse(const dist_zipf *z, double x) {
    double t = x * (1.0 - z->s);
    if (t < -1.0)
        t = -1.0;
    return exp(helper1(t) * x);
}

int dist_zipf_init(dist_zipf *z, uint64_t n, double s) {
    if (n == 0 || !(s > 0) || n > (1ULL << 53))
        return SS_EINVAL;
    z->n = n;
    z->s = s;
    z->h_x1 = zipf_big_h(z, 1.5) - 1.0;
    z->h_n = zipf_big_h(z, (double)n + 0.5);
    z->threshold = 2.0 - zipf_big_h_inverse(z, zipf_big_h(z, 2.5) - zipf_h(z, 2.0));
    return 0;
}

uint64_t dist_zipf_draw(const dist_zipf *z, prng *r) {
    for (;;) {
        double u = z->h_n + prng_unit(r) * (z->h_x1 - z->h_n);
        double x = zipf_big_h_inverse(z, u);
        double kd = floor(x + 0.5);
        uint64_t k = kd < 1 ? 1 : kd > (double)z->n ? z->n : (uint64_t)kd;
        if ((double)k - x <= z->threshold ||
            u >= zipf_big_h(z, (double)k + 0.5) - zipf_h(z, (double)k))
            return k;
    }
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int dist_empirical_init(dist_empirical *e, const double *values, size_t count) {
    if (count == 0)
        return SS_EINVAL;
    e->sorted = malloc(count * sizeof *e->sorted);
    if (!e->sorted)
        return SS_ENOMEM;
    memcpy(e->sorted, values, count * sizeof *values);
    qsort(e->sorted, count, sizeof *e->sorted, cmp_double);
    e->count = count;
    return 0;
}

double dist_empirical_draw(const dist_empirical *e, prng *r) {
    if (e->count == 1)
        return e->sorted[0];
    double pos = prng_unit(r) * (double)(e->count - 1);
    size_t i = (size_t)pos;
    double frac = pos - (double)i;
    return e->sorted[i] + frac * (e->sorted[i + 1] - e->sorted[i]);
}

void dist_empirical_free(dist_empirical *e) {
    free(e->sorted);
    e->sorted = NULL;
    e->count = 0;
}
