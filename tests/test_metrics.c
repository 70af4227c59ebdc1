/* test_metrics.c -- balance figures on hand-made vectors, the ideal random max/mean by
 * formula against Monte-Carlo, and movement fractions. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/metrics.h"

#define NEAR(a, b) assert_true(fabs((a) - (b)) < 1e-9)

static void balance_of_vectors(void **state) {
    (void)state;
    metrics_balance b;
    const uint64_t even[4] = {5, 5, 5, 5};
    metrics_balance_of(even, 4, &b);
    NEAR(b.max_over_mean, 1.0);
    NEAR(b.cov, 0.0);
    NEAR(b.jain, 1.0);
    const uint64_t one[4] = {4, 0, 0, 0};
    metrics_balance_of(one, 4, &b);
    NEAR(b.max_over_mean, 4.0);
    NEAR(b.jain, 0.25);
    NEAR(b.cov, sqrt(3.0));
    NEAR(b.min, 0.0);
    const uint64_t mixed[3] = {1, 2, 3};
    metrics_balance_of(mixed, 3, &b);
    NEAR(b.mean, 2.0);
    NEAR(b.max_over_mean, 1.5);
    NEAR(b.cov, sqrt(2.0 / 3.0) / 2.0);
    NEAR(b.jain, 36.0 / 42.0);
    const uint64_t zero[2] = {0, 0};
    metrics_balance_of(zero, 2, &b);
    NEAR(b.max_over_mean, 0.0);
    NEAR(b.jain, 1.0);
}

static void ideal_formula_agrees_with_monte_carlo(void **state) {
    (void)state;
    struct {
        uint64_t keys;
        uint32_t bins;
    } cases[] = {{100000, 10}, {10000, 100}, {1000000, 64}};
    for (int i = 0; i < 3; i++) {
        double f = metrics_ideal_max_mean(cases[i].keys, cases[i].bins);
        double mc = metrics_ideal_max_mean_mc(cases[i].keys, cases[i].bins, 20, 42);
        /* The formula is the leading term; it overshoots the true mean maximum a little. */
        assert_true(mc > 1.0);
        assert_true(fabs(f - mc) / mc < 0.05);
        assert_true(metrics_ideal_max_mean_mc(cases[i].keys, cases[i].bins, 20, 42) == mc);
    }
    NEAR(metrics_ideal_max_mean(1000, 1), 1.0);
}

static void movement(void **state) {
    (void)state;
    const uint32_t a[5] = {0, 1, 2, 3, 4}, b[5] = {0, 1, 2, 3, 5};
    const uint64_t w[5] = {1, 1, 1, 1, 6};
    NEAR(metrics_moved_fraction(a, b, NULL, 5), 0.2);
    NEAR(metrics_moved_fraction(a, b, w, 5), 0.6);
    NEAR(metrics_moved_fraction(a, a, w, 5), 0.0);
    NEAR(metrics_min_moved_fraction(8, 9), 1.0 / 9.0);
    NEAR(metrics_min_moved_fraction(12, 8), 4.0 / 12.0);
    NEAR(metrics_min_moved_fraction(8, 8), 0.0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(balance_of_vectors),
        cmocka_unit_test(ideal_formula_agrees_with_monte_carlo),
        cmocka_unit_test(movement),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
