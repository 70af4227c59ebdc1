/* test_histogram.c -- the log-linear histogram keeps every quantile within 1% of the
 * exact one, merges exactly, and handles the extremes. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "core/histogram.h"
#include "core/prng.h"

#define N 100000

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void quantiles_within_one_percent(void **state) {
    (void)state;
    uint64_t *v = malloc(N * sizeof *v);
    assert_non_null(v);
    hist h;
    assert_int_equal(hist_init(&h), 0);
    prng r;
    prng_seed(&r, 3);
    for (int i = 0; i < N; i++) {
        /* log-uniform over 1 ns .. ~1 s: every bucket regime is exercised */
        v[i] = (uint64_t)exp(prng_unit(&r) * 20.7);
        hist_record(&h, v[i]);
    }
    qsort(v, N, sizeof *v, cmp_u64);
    const double qs[] = {0.0, 0.1, 0.5, 0.9, 0.99, 0.999, 0.9999, 1.0};
    for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
        size_t rank = (size_t)ceil(qs[i] * N);
        uint64_t exact = v[rank ? rank - 1 : 0], got = hist_quantile(&h, qs[i]);
        assert_true(got >= exact);
        assert_true((double)(got - exact) <= 0.01 * (double)exact + 1e-9);
    }
    assert_int_equal(hist_quantile(&h, 1.0), v[N - 1]);
    assert_int_equal(h.count, N);
    assert_int_equal(h.min, v[0]);
    free(v);
    hist_free(&h);
}

static void merge_equals_whole(void **state) {
    (void)state;
    hist a, b, all;
    assert_int_equal(hist_init(&a), 0);
    assert_int_equal(hist_init(&b), 0);
    assert_int_equal(hist_init(&all), 0);
    prng r;
    prng_seed(&r, 4);
    for (int i = 0; i < 20000; i++) {
        uint64_t x = prng_below(&r, 1u << 30);
        hist_record(i % 2 ? &a : &b, x);
        hist_record(&all, x);
    }
    hist_merge(&a, &b);
    assert_int_equal(a.count, all.count);
    assert_int_equal(a.min, all.min);
    assert_int_equal(a.max, all.max);
    assert_memory_equal(a.counts, all.counts, a.buckets * sizeof *a.counts);
    /* Iteration visits every recorded value once, in ascending ranges. */
    size_t index = 0;
    uint64_t lo, hi, count, total = 0, last_hi = 0;
    int first = 1;
    while (hist_next_bucket(&all, &index, &lo, &hi, &count)) {
        assert_true(lo <= hi);
        assert_true(first || lo > last_hi);
        first = 0;
        last_hi = hi;
        total += count;
    }
    assert_int_equal(total, 20000);
    hist_free(&a);
    hist_free(&b);
    hist_free(&all);
}

static void extremes_and_empty(void **state) {
    (void)state;
    hist h;
    assert_int_equal(hist_init(&h), 0);
    assert_int_equal(hist_quantile(&h, 0.5), 0);
    hist_record(&h, UINT64_MAX);
    hist_record(&h, 0);
    assert_int_equal(hist_quantile(&h, 1.0), UINT64_MAX);
    assert_int_equal(hist_quantile(&h, 0.5), 0);
    hist_record_n(&h, 1000, 8);
    assert_int_equal(h.count, 10);
    assert_in_range(hist_quantile(&h, 0.5), 1000, 1010); /* its bucket: [1000, 1003] */
    hist_reset(&h);
    assert_int_equal(h.count, 0);
    assert_int_equal(hist_quantile(&h, 0.99), 0);
    hist_free(&h);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(quantiles_within_one_percent),
        cmocka_unit_test(merge_equals_whole),
        cmocka_unit_test(extremes_and_empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
