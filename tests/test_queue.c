/* test_queue.c -- the future-event list against a reference model: order by (time,
 * push order), cancellation, stale handles, payloads, growth. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/error.h"
#include "core/prng.h"
#include "sim/queue.h"

static void equal_times_pop_in_push_order(void **state) {
    (void)state;
    queue *q;
    assert_int_equal(queue_create(2, &q), 0);
    for (uint32_t i = 0; i < 100; i++)
        assert_int_equal(queue_push(q, (i % 3) * 10, i, &i, sizeof i, NULL), 0);
    queue_event ev;
    uint64_t last_time = 0;
    int32_t last_type[3] = {-1, -1, -1};
    for (int i = 0; i < 100; i++) {
        assert_int_equal(queue_pop(q, &ev), 0);
        assert_true(ev.time_ns >= last_time);
        last_time = ev.time_ns;
        assert_true((int32_t)ev.type > last_type[ev.time_ns / 10]);
        last_type[ev.time_ns / 10] = (int32_t)ev.type;
        uint32_t payload;
        memcpy(&payload, ev.payload.bytes, sizeof payload);
        assert_int_equal(payload, ev.type);
        assert_int_equal(ev.payload.bytes[31], 0); /* the rest is zeroed */
    }
    assert_int_equal(queue_pop(q, &ev), SS_EEMPTY);
    uint64_t t;
    assert_int_equal(queue_peek_time(q, &t), SS_EEMPTY);
    queue_free(q);
}

typedef struct ref_event {
    uint64_t time, seq;
    int live;
    queue_handle h;
} ref_event;

/* Random pushes, pops and cancels, checked against a flat array. */
static void matches_reference_model(void **state) {
    (void)state;
    enum { OPS = 20000 };
    ref_event *ref = calloc(OPS, sizeof *ref);
    assert_non_null(ref);
    queue *q;
    assert_int_equal(queue_create(0, &q), 0);
    prng r;
    prng_seed(&r, 11);
    size_t pushed = 0, live = 0;
    uint64_t last_pop = 0; /* time never goes backwards: no push before the last pop */
    for (int op = 0; op < OPS; op++) {
        uint64_t choice = prng_below(&r, 10);
        if (choice < 5 || live == 0) {
            uint64_t t = last_pop + prng_below(&r, 1000);
            uint32_t id = (uint32_t)pushed;
            assert_int_equal(queue_push(q, t, 0, &id, sizeof id, &ref[pushed].h), 0);
            ref[pushed] = (ref_event){t, pushed, 1, ref[pushed].h};
            pushed++;
            live++;
        } else if (choice < 8) {
            size_t best = SIZE_MAX;
            for (size_t i = 0; i < pushed; i++)
                if (ref[i].live && (best == SIZE_MAX || ref[i].time < ref[best].time))
                    best = i;
            queue_event ev;
            assert_int_equal(queue_pop(q, &ev), 0);
            uint32_t id;
            memcpy(&id, ev.payload.bytes, sizeof id);
            assert_int_equal(id, best);
            last_pop = ev.time_ns;
            ref[best].live = 0;
            live--;
            assert_int_equal(queue_cancel(q, ref[best].h), SS_EINVAL); /* stale now */
        } else {
            size_t pick = (size_t)prng_below(&r, pushed);
            int rc = queue_cancel(q, ref[pick].h);
            assert_int_equal(rc, ref[pick].live ? 0 : SS_EINVAL);
            if (ref[pick].live) {
                ref[pick].live = 0;
                live--;
            }
        }
        assert_int_equal(queue_size(q), live);
    }
    free(ref);
    queue_free(q);
}

static void bad_payload_and_handles(void **state) {
    (void)state;
    queue *q;
    assert_int_equal(queue_create(4, &q), 0);
    uint8_t big[QUEUE_PAYLOAD_BYTES + 1] = {0};
    assert_int_equal(queue_push(q, 1, 0, big, sizeof big, NULL), SS_EINVAL);
    queue_handle h = {12345, 1};
    assert_int_equal(queue_cancel(q, h), SS_EINVAL);
    queue_handle a;
    assert_int_equal(queue_push(q, 5, 1, NULL, 0, &a), 0);
    assert_int_equal(queue_cancel(q, a), 0);
    assert_int_equal(queue_cancel(q, a), SS_EINVAL);
    queue_handle b;
    assert_int_equal(queue_push(q, 6, 2, NULL, 0, &b), 0); /* reuses the record */
    assert_int_equal(queue_cancel(q, a), SS_EINVAL);       /* old handle stays dead */
    uint64_t t;
    assert_int_equal(queue_peek_time(q, &t), 0);
    assert_int_equal(t, 6);
    queue_free(q);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(equal_times_pop_in_push_order),
        cmocka_unit_test(matches_reference_model),
        cmocka_unit_test(bad_payload_and_handles),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
