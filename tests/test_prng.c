/* test_prng.c -- splitmix64 and xoshiro256** against published outputs, and the
 * properties the simulator relies on: streams are reproducible and independent. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/prng.h"

static void splitmix64_reference(void **state) {
    (void)state;
    /* Vigna's splitmix64.c from state 0. */
    uint64_t s = 0;
    assert_int_equal(prng_splitmix64(&s), 0xE220A8397B1DCDAFULL);
    assert_int_equal(prng_splitmix64(&s), 0x6E789E6AA1B965F4ULL);
    assert_int_equal(prng_splitmix64(&s), 0x06C45D188009454FULL);
}

static void xoshiro_reference(void **state) {
    (void)state;
    prng r = {{1, 2, 3, 4}};
    assert_int_equal(prng_next(&r), 11520ULL);
    assert_int_equal(prng_next(&r), 0ULL);
    assert_int_equal(prng_next(&r), 1509978240ULL);
    assert_int_equal(prng_next(&r), 1215971899390074240ULL);
}

static void streams_reproducible_and_distinct(void **state) {
    (void)state;
    prng a, b, c, d;
    prng_stream(&a, 42, 0, 1);
    prng_stream(&b, 42, 0, 1);
    prng_stream(&c, 42, 0, 2);
    prng_stream(&d, 42, 1, 1);
    int same_c = 0, same_d = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = prng_next(&a);
        assert_int_equal(x, prng_next(&b));
        same_c += x == prng_next(&c);
        same_d += x == prng_next(&d);
    }
    assert_int_equal(same_c, 0);
    assert_int_equal(same_d, 0);
}

static void below_is_bounded_and_uniform(void **state) {
    (void)state;
    prng r;
    prng_seed(&r, 7);
    uint32_t counts[6] = {0};
    for (int i = 0; i < 60000; i++) {
        uint64_t v = prng_below(&r, 6);
        assert_true(v < 6);
        counts[v]++;
    }
    for (int i = 0; i < 6; i++) /* expected 10000, sd ~91: 5 sd */
        assert_in_range(counts[i], 9545, 10455);
    assert_int_equal(prng_below(&r, 1), 0);
}

static void unit_in_range(void **state) {
    (void)state;
    prng r;
    prng_seed(&r, 9);
    double sum = 0;
    for (int i = 0; i < 100000; i++) {
        double u = prng_unit(&r);
        assert_true(u >= 0.0 && u < 1.0);
        sum += u;
    }
    assert_true(sum / 100000 > 0.495 && sum / 100000 < 0.505);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(splitmix64_reference),
        cmocka_unit_test(xoshiro_reference),
        cmocka_unit_test(streams_reproducible_and_distinct),
        cmocka_unit_test(below_is_bounded_and_uniform),
        cmocka_unit_test(unit_in_range),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
