/* metrics.c -- balance of a load vector and movement between assignments; see
 * metrics.h. */
#include <math.h>
#include <stdlib.h>

#include "core/metrics.h"
#include "core/prng.h"

void metrics_balance_of(const uint64_t *loads, size_t n, metrics_balance *out) {
    double sum = 0, sq = 0, max = 0, min = n ? (double)loads[0] : 0;
    for (size_t i = 0; i < n; i++) {
        double x = (double)loads[i];
        sum += x;
        sq += x * x;
        max = x > max ? x : max;
        min = x < min ? x : min;
    }
    double mean = n ? sum / (double)n : 0;
    out->mean = mean;
    out->max = max;
    out->min = min;
    out->max_over_mean = mean > 0 ? max / mean : 0;
    double var = n ? sq / (double)n - mean * mean : 0;
    out->cov = mean > 0 && var > 0 ? sqrt(var) / mean : 0;
    out->jain = sq > 0 ? sum * sum / ((double)n * sq) : 1.0;
}

double metrics_ideal_max_mean(uint64_t keys, uint32_t bins) {
    if (bins <= 1 || keys == 0)
        return 1.0;
    return 1.0 + sqrt(2.0 * bins * log((double)bins) / (double)keys);
}

double metrics_ideal_max_mean_mc(uint64_t keys, uint32_t bins, uint32_t trials, uint64_t seed) {
    if (bins <= 1 || keys == 0 || trials == 0)
        return 1.0;
    uint64_t *load = malloc(bins * sizeof *load);
    if (!load)
        return 0;
    prng r;
    prng_stream(&r, seed, 0, 0x1DEA1);
    double total = 0;
    for (uint32_t t = 0; t < trials; t++) {
        for (uint32_t b = 0; b < bins; b++)
            load[b] = 0;
        for (uint64_t k = 0; k < keys; k++)
            load[prng_below(&r, bins)]++;
        uint64_t max = 0;
        for (uint32_t b = 0; b < bins; b++)
            max = load[b] > max ? load[b] : max;
        total += (double)max / ((double)keys / bins);
    }
    free(load);
    return total / trials;
}

double metrics_moved_fraction(const uint32_t *before, const uint32_t *after, const uint64_t *weight,
                              size_t n) {
    double moved = 0, total = 0;
    for (size_t i = 0; i < n; i++) {
        double w = weight ? (double)weight[i] : 1.0;
        total += w;
        if (before[i] != after[i])
            moved += w;
    }
    return total > 0 ? moved / total : 0;
}

double metrics_min_moved_fraction(uint32_t n, uint32_t n_new) {
    uint32_t big = n > n_new ? n : n_new;
    if (big == 0)
        return 0;
    return (double)(n > n_new ? n - n_new : n_new - n) / big;
}
