/* test_dist.c -- the distributions' moments and frequencies on fixed seeds, Zipf
 * against its exact pmf (s <= 1 included) and over 1e8 ranks, pinned draws. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/dist.h"
#include "core/error.h"

#define DRAWS 400000

static void moments(void **state) {
    (void)state;
    prng r;
    prng_seed(&r, 21);
    double s1 = 0, s2 = 0, e1 = 0, p1 = 0, l1 = 0, u1 = 0;
    for (int i = 0; i < DRAWS; i++) {
        double x = dist_normal(&r, 3.0, 2.0);
        s1 += x;
        s2 += (x - 3.0) * (x - 3.0);
        e1 += dist_exponential(&r, 5.0);
        p1 += dist_pareto(&r, 1.0, 3.0);    /* mean 3/2 */
        l1 += dist_lognormal(&r, 0.0, 0.5); /* mean exp(0.125) */
        u1 += dist_uniform(&r, -1.0, 1.0);
    }
    assert_true(fabs(s1 / DRAWS - 3.0) < 0.02);
    assert_true(fabs(sqrt(s2 / DRAWS) - 2.0) < 0.02);
    assert_true(fabs(e1 / DRAWS - 5.0) < 0.05);
    assert_true(fabs(p1 / DRAWS - 1.5) < 0.02);
    assert_true(fabs(l1 / DRAWS - exp(0.125)) < 0.01);
    assert_true(fabs(u1 / DRAWS) < 0.01);
}

static void zipf_matches_pmf(void **state) {
    (void)state;
    const double exps[] = {0.5, 1.0, 1.1, 2.0};
    for (int e = 0; e < 4; e++) {
        dist_zipf z;
        assert_int_equal(dist_zipf_init(&z, 10, exps[e]), 0);
        prng r;
        prng_seed(&r, 100 + (uint64_t)e);
        uint64_t count[11] = {0};
        for (int i = 0; i < DRAWS; i++) {
            uint64_t k = dist_zipf_draw(&z, &r);
            assert_true(k >= 1 && k <= 10);
            count[k]++;
        }
        double h = 0;
        for (int k = 1; k <= 10; k++)
            h += pow(k, -exps[e]);
        for (int k = 1; k <= 10; k++) {
            double p = pow(k, -exps[e]) / h, sd = sqrt(DRAWS * p * (1 - p));
            if (fabs((double)count[k] - DRAWS * p) > 5 * sd)
                fail_msg("s=%g rank %d: %llu draws, expected %.0f", exps[e], k,
                         (unsigned long long)count[k], DRAWS * p);
        }
    }
}

static void zipf_huge_range(void **state) {
    (void)state;
    const double exps[] = {0.8, 1.2};
    for (int e = 0; e < 2; e++) {
        uint64_t n = 100000000;
        dist_zipf z;
        assert_int_equal(dist_zipf_init(&z, n, exps[e]), 0);
        prng r;
        prng_seed(&r, 7);
        uint64_t ones = 0;
        for (int i = 0; i < DRAWS; i++) {
            uint64_t k = dist_zipf_draw(&z, &r);
            assert_true(k >= 1 && k <= n);
            ones += k == 1;
        }
        /* H(n, s) by Euler-Maclaurin: sum_{k<10} k^-s + integral from 10 + corrections. */
        double s = exps[e], h = 0;
        for (int k = 1; k < 10; k++)
            h += pow(k, -s);
        h += (pow((double)n, 1 - s) - pow(10, 1 - s)) / (1 - s) +
             0.5 * (pow(10, -s) + pow((double)n, -s)) +
             s / 12 * (pow(10, -s - 1) - pow((double)n, -s - 1));
        double p = 1 / h, sd = sqrt(DRAWS * p * (1 - p));
        assert_true(fabs((double)ones - DRAWS * p) < 5 * sd);
    }
}

static void zipf_pinned_and_invalid(void **state) {
    (void)state;
    dist_zipf z;
    assert_int_equal(dist_zipf_init(&z, 0, 1.0), SS_EINVAL);
    assert_int_equal(dist_zipf_init(&z, 10, 0.0), SS_EINVAL);
    assert_int_equal(dist_zipf_init(&z, 10, -1.0), SS_EINVAL);
    assert_int_equal(dist_zipf_init(&z, 1000, 1.1), 0);
    prng r, r2;
    prng_seed(&r, 1);
    prng_seed(&r2, 1);
    for (int i = 0; i < 100; i++)
        assert_int_equal(dist_zipf_draw(&z, &r), dist_zipf_draw(&z, &r2));
}

static void empirical(void **state) {
    (void)state;
    const double v[] = {5, 1, 3, 2, 4};
    dist_empirical e;
    assert_int_equal(dist_empirical_init(&e, v, 5), 0);
    prng r;
    prng_seed(&r, 3);
    int below = 0;
    for (int i = 0; i < 10000; i++) {
        double x = dist_empirical_draw(&e, &r);
        assert_true(x >= 1 && x <= 5 && !isnan(x));
        below += x < 3;
    }
    assert_in_range(below, 4700, 5300); /* median 3 */
    dist_empirical_free(&e);
    const double one[] = {7};
    assert_int_equal(dist_empirical_init(&e, one, 1), 0);
    assert_true(dist_empirical_draw(&e, &r) == 7);
    dist_empirical_free(&e);
    assert_int_equal(dist_empirical_init(&e, one, 0), SS_EINVAL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(moments),         cmocka_unit_test(zipf_matches_pmf),
        cmocka_unit_test(zipf_huge_range), cmocka_unit_test(zipf_pinned_and_invalid),
        cmocka_unit_test(empirical),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
