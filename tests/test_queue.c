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

/* A reference list sorted latest first by (time, push order), the documented order:
 * the next event to pop is the last. */
typedef struct ref_list {
    ref_event *at;
    size_t count;
} ref_list;

static void ref_push(ref_list *l, queue *q, uint64_t time, uint64_t seq) {
    size_t lo = 0, hi = l->count; /* first index whose event comes before this one */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const ref_event *m = &l->at[mid];
        if (m->time > time || (m->time == time && m->seq > seq))
            lo = mid + 1;
        else
            hi = mid;
    }
    memmove(&l->at[lo + 1], &l->at[lo], (l->count - lo) * sizeof *l->at);
    l->at[lo] = (ref_event){time, seq, 1, {0, 0}};
    l->count++;
    assert_int_equal(queue_push(q, time, 0, &seq, sizeof seq, NULL), 0);
}

/* A long hold-model run with few distinct times (so most events tie), peeks followed by
 * pushes before the peeked event, and some huge and zero time steps: every pop must be
 * the next event of the reference, the same event and not only the same time. */
static void long_run_pops_in_reference_order(void **state) {
    (void)state;
    enum { PENDING = 3000, OPS = 300000 };
    ref_list ref = {calloc(PENDING + 1, sizeof *ref.at), 0};
    assert_non_null(ref.at);
    queue *q;
    assert_int_equal(queue_create(0, &q), 0);
    prng r;
    prng_seed(&r, 7);
    uint64_t now = 0, seq = 0;
    while (ref.count < PENDING)
        ref_push(&ref, q, prng_below(&r, 8) * 1000, seq++);
    for (int op = 0; op < OPS; op++) {
        const ref_event *next = &ref.at[ref.count - 1];
        uint64_t peeked;
        if (op % 5 == 0) { /* peek, then push between the last pop and the peeked time */
            assert_int_equal(queue_peek_time(q, &peeked), 0);
            assert_int_equal(peeked, next->time);
            if (peeked > now)
                ref_push(&ref, q, now + prng_below(&r, peeked - now), seq++);
            next = &ref.at[ref.count - 1];
        }
        queue_event ev;
        assert_int_equal(queue_pop(q, &ev), 0);
        uint64_t id;
        memcpy(&id, ev.payload.bytes, sizeof id);
        assert_int_equal(ev.time_ns, next->time);
        assert_int_equal(id, next->seq);
        assert_int_equal(ev.pad_, 0);
        now = ev.time_ns;
        ref.count--;
        while (ref.count < PENDING) { /* mostly ties at `now`, sometimes far ahead */
            uint64_t pick = prng_below(&r, 16);
            uint64_t step = pick < 8 ? 0 : pick < 15 ? prng_below(&r, 4) * 1000 : 1ull << 40;
            ref_push(&ref, q, now + step, seq++);
        }
        assert_int_equal(queue_size(q), ref.count);
    }
    free(ref.at);
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
        cmocka_unit_test(long_run_pops_in_reference_order),
        cmocka_unit_test(bad_payload_and_handles),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
