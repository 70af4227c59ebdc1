/* histogram.h -- a log-linear latency histogram (HdrHistogram-like): values in
 * nanoseconds, relative error at most 1% (2^7 = 128 linear sub-buckets per power of
 * two), fixed memory, mergeable by adding counts, exact min, max, count and sum.
 *
 * Ownership: hist_init allocates the bucket array; hist_free releases it. */
#ifndef SHARDSIM_CORE_HISTOGRAM_H
#define SHARDSIM_CORE_HISTOGRAM_H

#include <stddef.h>
#include <stdint.h>

typedef struct hist {
    uint64_t *counts;  /* bucket counts */
    size_t buckets;    /* number of buckets */
    uint64_t count;    /* values recorded */
    uint64_t min, max; /* exact extremes (min = UINT64_MAX when empty) */
    double sum;        /* for the mean */
} hist;

int hist_init(hist *h); /* 0 or SS_ENOMEM */
void hist_free(hist *h);
void hist_reset(hist *h);
void hist_record(hist *h, uint64_t value_ns);
void hist_record_n(hist *h, uint64_t value_ns, uint64_t n);

/* Add every count of src into dst. Returns 0. */
int hist_merge(hist *dst, const hist *src);

/* The value at quantile q in [0, 1] (q = 0.99 -> p99): a value v such that at least
 * q*count values are <= v, within 1% of the true quantile; exact max for q = 1.
 * 0 when empty. */
uint64_t hist_quantile(const hist *h, double q);
double hist_mean(const hist *h);

/* Iterate non-empty buckets in ascending order: *index starts at 0; returns 1 and the
 * bucket's [lo, hi] value range and count, or 0 at the end. For CSV output. */
int hist_next_bucket(const hist *h, size_t *index, uint64_t *lo, uint64_t *hi, uint64_t *count);

#endif
