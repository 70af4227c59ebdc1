/* test_place.c -- placement strategies: pinned layouts, capacity, determinism, and
 * re-placement that moves only the lost worker's subtasks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/error.h"
#include "core/place.h"

static void assign(place_strategy s, uint32_t workers, const uint32_t *slots, uint64_t seed,
                   uint32_t n, uint32_t *out) {
    place_config cfg = {.strategy = s, .workers = workers, .slots = slots, .seed = seed};
    assert_int_equal(place_assign(&cfg, n, out), 0);
}

static void pinned_layouts(void **state) {
    (void)state;
    const uint32_t slots[3] = {3, 3, 3};
    uint32_t w[7];
    assign(PLACE_FIRST_FIT, 3, slots, 0, 7, w);
    const uint32_t first_fit[7] = {0, 0, 0, 1, 1, 1, 2};
    assert_memory_equal(w, first_fit, sizeof w);
    assign(PLACE_SPREAD, 3, slots, 0, 7, w);
    const uint32_t spread[7] = {0, 1, 2, 0, 1, 2, 0};
    assert_memory_equal(w, spread, sizeof w);
    assign(PLACE_ROUND_ROBIN, 3, slots, 0, 7, w);
    assert_memory_equal(w, spread, sizeof w);
    /* Uneven slots: spread fills by utilisation, round-robin skips the full worker. */
    const uint32_t uneven[3] = {1, 4, 2};
    assign(PLACE_SPREAD, 3, uneven, 0, 7, w);
    const uint32_t spread_uneven[7] = {0, 1, 2, 1, 1, 2, 1};
    assert_memory_equal(w, spread_uneven, sizeof w);
    assign(PLACE_ROUND_ROBIN, 3, uneven, 0, 7, w);
    const uint32_t rr_uneven[7] = {0, 1, 2, 1, 2, 1, 1};
    assert_memory_equal(w, rr_uneven, sizeof w);
}

static void capacity_is_respected(void **state) {
    (void)state;
    const uint32_t slots[4] = {1, 2, 3, 4};
    for (int s = 0; place_strategy_names[s]; s++) {
        uint32_t w[10], used[4] = {0};
        assign((place_strategy)s, 4, slots, 11, 10, w);
        for (int i = 0; i < 10; i++)
            used[w[i]]++;
        for (int k = 0; k < 4; k++)
            assert_int_equal(used[k], slots[k]); /* 10 subtasks fill all 10 slots */
        place_config cfg = {.strategy = (place_strategy)s, .workers = 4, .slots = slots};
        uint32_t too_many[11];
        assert_int_equal(place_assign(&cfg, 11, too_many), SS_ERANGE);
    }
}

static void seeded_strategies_are_deterministic(void **state) {
    (void)state;
    const uint32_t slots[8] = {4, 4, 4, 4, 4, 4, 4, 4};
    place_strategy seeded[] = {PLACE_RANDOM, PLACE_HASH};
    for (int k = 0; k < 2; k++) {
        uint32_t a[20], b[20], c[20];
        assign(seeded[k], 8, slots, 1, 20, a);
        assign(seeded[k], 8, slots, 1, 20, b);
        assign(seeded[k], 8, slots, 2, 20, c);
        assert_memory_equal(a, b, sizeof a);
        assert_memory_not_equal(a, c, sizeof a);
    }
}

static void replace_moves_only_the_lost(void **state) {
    (void)state;
    const uint32_t slots[4] = {4, 4, 4, 4};
    for (int s = 0; place_strategy_names[s]; s++) {
        place_config cfg = {.strategy = (place_strategy)s, .workers = 4, .slots = slots, .seed = 5};
        uint32_t old[10], now[10], moved = 99;
        assert_int_equal(place_assign(&cfg, 10, old), 0);
        uint8_t alive[4] = {1, 1, 1, 1};
        alive[old[3]] = 0; /* lose the worker of subtask 3 */
        uint32_t on_lost = 0;
        for (int i = 0; i < 10; i++)
            on_lost += old[i] == old[3];
        assert_int_equal(place_replace(&cfg, 10, old, alive, now, &moved), 0);
        assert_int_equal(moved, on_lost);
        for (int i = 0; i < 10; i++) {
            assert_true(alive[now[i]]);
            if (alive[old[i]])
                assert_int_equal(now[i], old[i]);
        }
        /* Not enough slots left: an error, not a crash. */
        uint8_t one[4] = {1, 0, 0, 0};
        assert_int_equal(place_replace(&cfg, 10, old, one, now, &moved), SS_ERANGE);
    }
}

static void names_round_trip(void **state) {
    (void)state;
    place_strategy s;
    for (int i = 0; place_strategy_names[i]; i++) {
        assert_int_equal(place_strategy_by_name(place_strategy_names[i], &s), 0);
        assert_int_equal(s, i);
    }
    assert_int_equal(place_strategy_by_name("best-fit", &s), SS_EINVAL);
    place_config cfg = {.strategy = PLACE_SPREAD, .workers = 0};
    uint32_t w[1];
    assert_int_equal(place_assign(&cfg, 1, w), SS_EINVAL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pinned_layouts),
        cmocka_unit_test(capacity_is_respected),
        cmocka_unit_test(seeded_strategies_are_deterministic),
        cmocka_unit_test(replace_moves_only_the_lost),
        cmocka_unit_test(names_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
