/* histogram.c -- a log-linear histogram; see histogram.h. Values below 256 have a
 * bucket each; above, each power of two [2^e, 2^(e+1)) is cut into 128 equal buckets,
 * so a bucket is at most 1/128 (< 0.8%) of the values it holds. */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/histogram.h"

#define SUB_BITS 7
#define SUB (1u << SUB_BITS) /* 128 buckets per power of two */
#define LINEAR (2 * SUB)     /* values 0..255: one bucket each */
#define BUCKETS (LINEAR + (64 - 8) * SUB)

static size_t bucket_of(uint64_t v) {
    if (v < LINEAR)
        return (size_t)v;
    unsigned e = 63u - (unsigned)__builtin_clzll(v); /* 8..63 */
    size_t sub = (size_t)(v >> (e - SUB_BITS)) & (SUB - 1);
    return LINEAR + (size_t)(e - 8) * SUB + sub;
}

static void bucket_range(size_t i, uint64_t *lo, uint64_t *hi) {
    if (i < LINEAR) {
        *lo = *hi = i;
        return;
    }
    unsigned e = (unsigned)((i - LINEAR) / SUB) + 8;
    uint64_t sub = (i - LINEAR) % SUB, width = 1ULL << (e - SUB_BITS);
    *lo = (1ULL << e) + sub * width;
    *hi = *lo + (width - 1);
}

int hist_init(hist *h) {
    memset(h, 0, sizeof *h);
    h->counts = calloc(BUCKETS, sizeof *h->counts);
    if (!h->counts)
        return SS_ENOMEM;
    h->buckets = BUCKETS;
    h->min = UINT64_MAX;
    return 0;
}

void hist_free(hist *h) {
    free(h->counts);
    h->counts = NULL;
    h->buckets = 0;
}

void hist_reset(hist *h) {
    memset(h->counts, 0, h->buckets * sizeof *h->counts);
    h->count = 0;
    h->min = UINT64_MAX;
    h->max = 0;
    h->sum = 0;
}

void hist_record_n(hist *h, uint64_t value_ns, uint64_t n) {
    if (n == 0)
        return;
    h->counts[bucket_of(value_ns)] += n;
    h->count += n;
    h->sum += (double)value_ns * (double)n;
    if (value_ns < h->min)
        h->min = value_ns;
    if (value_ns > h->max)
        h->max = value_ns;
}

void hist_record(hist *h, uint64_t value_ns) {
    hist_record_n(h, value_ns, 1);
}

int hist_merge(hist *dst, const hist *src) {
    for (size_t i = 0; i < BUCKETS; i++)
        dst->counts[i] += src->counts[i];
    dst->count += src->count;
    dst->sum += src->sum;
    if (src->min < dst->min)
        dst->min = src->min;
    if (src->max > dst->max)
        dst->max = src->max;
    return 0;
}

uint64_t hist_quantile(const hist *h, double q) {
    if (h->count == 0)
        return 0;
    if (q >= 1.0)
        return h->max;
    if (q < 0)
        q = 0;
    uint64_t rank = (uint64_t)(q * (double)h->count);
    if ((double)rank < q * (double)h->count)
        rank++; /* ceil */
    if (rank == 0)
        rank = 1;
    uint64_t seen = 0;
    for (size_t i = 0; i < BUCKETS; i++) {
        seen += h->counts[i];
        if (seen >= rank) {
            uint64_t lo, hi;
            bucket_range(i, &lo, &hi);
            if (hi > h->max)
                hi = h->max;
            return hi < h->min ? h->min : hi;
        }
    }
    return h->max;
}

double hist_mean(const hist *h) {
    return h->count ? h->sum / (double)h->count : 0.0;
}

int hist_next_bucket(const hist *h, size_t *index, uint64_t *lo, uint64_t *hi, uint64_t *count) {
    for (size_t i = *index; i < BUCKETS; i++)
        if (h->counts[i]) {
            bucket_range(i, lo, hi);
            *count = h->counts[i];
            *index = i + 1;
            return 1;
        }
    *index = BUCKETS;
    return 0;
}
