/* metrics.h -- how evenly load is spread, and how much moves between two assignments.
 *
 * Pure functions over caller-owned arrays; nothing here allocates except
 * metrics_ideal_max_mean_mc's scratch, which it frees before returning. */
#ifndef SHARDSIM_CORE_METRICS_H
#define SHARDSIM_CORE_METRICS_H

#include <stddef.h>
#include <stdint.h>

typedef struct metrics_balance {
    double mean;          /* sum / n */
    double max;           /* largest load */
    double min;           /* smallest load */
    double max_over_mean; /* max / mean; 1.0 is perfect, 0 when the sum is 0 */
    double cov;           /* population standard deviation / mean */
    double jain;          /* Jain's fairness index (sum x)^2 / (n * sum x^2), in [1/n, 1] */
} metrics_balance;

/* Balance of loads[0..n). n >= 1. An all-zero vector gives max_over_mean 0, cov 0,
 * jain 1. */
void metrics_balance_of(const uint64_t *loads, size_t n, metrics_balance *out);

/* Expected max/mean when `keys` keys fall uniformly at random into `bins` bins:
 * the approximation 1 + sqrt(2 * bins * ln(bins) / keys) (1.0 for one bin). */
double metrics_ideal_max_mean(uint64_t keys, uint32_t bins);

/* The same expectation by a seeded Monte-Carlo over `trials` trials (multinomial
 * draws; cost O(trials * (bins + keys)) at most). Returns 0 on allocation failure. */
double metrics_ideal_max_mean_mc(uint64_t keys, uint32_t bins, uint32_t trials, uint64_t seed);

/* Movement between two owner arrays of the same items: the weighted fraction of
 * items whose owner differs. weight == NULL weighs every item 1. A zero total gives 0. */
double metrics_moved_fraction(const uint32_t *before, const uint32_t *after, const uint64_t *weight,
                              size_t n);

/* The least fraction that must move when growing from n to n_new owners (or
 * shrinking): |n_new - n| / max(n, n_new). On growth N -> N+1 this is 1/(N+1). */
double metrics_min_moved_fraction(uint32_t n, uint32_t n_new);

#endif
