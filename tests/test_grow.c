/* test_grow.c -- ss_grow: capacity doubles from 8 until it holds what is asked, the
 * contents survive, and an impossible size fails without touching the array. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "core/error.h"
#include "core/grow.h"

static void grows_by_doubling_and_keeps_contents(void **state) {
    (void)state;
    uint32_t *a = NULL;
    size_t cap = 0;
    assert_int_equal(ss_grow(&a, &cap, 0, sizeof *a), 0);
    assert_null(a); /* nothing needed, nothing allocated */
    for (uint32_t i = 0; i < 1000; i++) {
        assert_int_equal(ss_grow(&a, &cap, i + 1, sizeof *a), 0);
        a[i] = i * 7;
    }
    assert_int_equal(cap, 1024); /* 8, 16, ..., 1024 */
    for (uint32_t i = 0; i < 1000; i++)
        assert_int_equal(a[i], i * 7);
    assert_int_equal(ss_grow(&a, &cap, 5000, sizeof *a), 0); /* several doublings at once */
    assert_int_equal(cap, 8192);
    assert_int_equal(a[999], 999 * 7);
    uint32_t *before = a;
    assert_int_equal(ss_grow(&a, &cap, SIZE_MAX / 2, sizeof *a), SS_ENOMEM);
    assert_ptr_equal(a, before);
    assert_int_equal(cap, 8192);
    free(a);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(grows_by_doubling_and_keeps_contents),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
