/* bench_engine.c -- the future-event list under the classic hold model: with n events
 * pending, pop the earliest and push one at its time + Exp(1), M times. Our 4-ary
 * heap (sim/queue.c: pool, handles, payload copy) runs next to a plain binary heap of
 * (time, seq) keys written here as the baseline, in the same process. ratio =
 * baseline ns / ours ns: above 1 means ours is faster. Best of 3 repetitions. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench/bench_util.h"
#include "core/prng.h"
#include "sim/queue.h"

#define REPS 3
#define INCREMENTS 4096 /* precomputed Exp(1) steps, so RNG cost is not measured */

typedef struct key {
    uint64_t time, seq;
} key;

/* ---- the baseline: a textbook binary heap ---- */
typedef struct bheap {
    key *a;
    size_t n;
} bheap;

static int less(key x, key y) {
    return x.time < y.time || (x.time == y.time && x.seq < y.seq);
}

static void bh_push(bheap *h, key k) {
    size_t i = h->n++;
    while (i > 0 && less(k, h->a[(i - 1) / 2])) {
        h->a[i] = h->a[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h->a[i] = k;
}

static key bh_pop(bheap *h) {
    key top = h->a[0], last = h->a[--h->n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= h->n)
            break;
        if (c + 1 < h->n && less(h->a[c + 1], h->a[c]))
            c++;
        if (!less(h->a[c], last))
            break;
        h->a[i] = h->a[c];
        i = c;
    }
    if (h->n)
        h->a[i] = last;
    return top;
}

static double hold_baseline(size_t n, size_t ops, const uint64_t *inc) {
    bheap h = {malloc((n + 1) * sizeof(key)), 0};
    uint64_t seq = 0;
    for (size_t i = 0; i < n; i++)
        bh_push(&h, (key){inc[i % INCREMENTS] * (i % 97 + 1), seq++});
    uint64_t t0 = bench_now_ns(), acc = 0;
    for (size_t i = 0; i < ops; i++) {
        key k = bh_pop(&h);
        acc += k.time;
        bh_push(&h, (key){k.time + inc[i % INCREMENTS], seq++});
    }
    double ns = (double)(bench_now_ns() - t0) / (double)ops;
    bench_sink(acc);
    free(h.a);
    return ns;
}

static double hold_ours(size_t n, size_t ops, const uint64_t *inc) {
    queue *q;
    if (queue_create(n + 1, &q) != 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        queue_push(q, inc[i % INCREMENTS] * (i % 97 + 1), 1, NULL, 0, NULL);
    queue_event ev;
    uint64_t t0 = bench_now_ns(), acc = 0;
    for (size_t i = 0; i < ops; i++) {
        queue_pop(q, &ev);
        acc += ev.time_ns;
        queue_push(q, ev.time_ns + inc[i % INCREMENTS], 1, NULL, 0, NULL);
    }
    double ns = (double)(bench_now_ns() - t0) / (double)ops;
    bench_sink(acc);
    queue_free(q);
    return ns;
}

int main(int argc, char **argv) {
    const char *out;
    int quick = bench_args(argc, argv, &out);
    uint64_t inc[INCREMENTS];
    prng r;
    prng_seed(&r, 1);
    for (int i = 0; i < INCREMENTS; i++)
        inc[i] = (uint64_t)(-log(1.0 - prng_unit(&r)) * 1e6) + 1;
    static const size_t sizes[] = {1000, 100000, 1000000};
    bench_row rows[6];
    size_t n = 0;
    printf("%-14s %10s %12s %12s %8s\n", "pending", "ops", "binary ns", "4-ary ns", "ratio");
    for (size_t s = 0; s < 3; s++) {
        size_t ops = quick ? 200000 : 3000000;
        double base = 1e30, ours = 1e30;
        for (int rep = 0; rep < REPS; rep++) {
            double b = hold_baseline(sizes[s], ops, inc), o = hold_ours(sizes[s], ops, inc);
            base = b < base ? b : base;
            ours = o < ours ? o : ours;
        }
        printf("%-14zu %10zu %12.1f %12.1f %7.2fx\n", sizes[s], ops, base, ours, base / ours);
        snprintf(rows[n].name, sizeof rows[n].name, "binary heap (baseline)");
        snprintf(rows[n].size, sizeof rows[n].size, "%zu", sizes[s]);
        rows[n].ns_per_op = base;
        rows[n].gbps = 0;
        rows[n++].ratio = 1.0;
        snprintf(rows[n].name, sizeof rows[n].name, "sim/queue 4-ary heap");
        snprintf(rows[n].size, sizeof rows[n].size, "%zu", sizes[s]);
        rows[n].ns_per_op = ours;
        rows[n].gbps = 0;
        rows[n++].ratio = base / ours;
    }
    if (bench_write(out, "engine", rows, n, "baseline ns / our ns (>1: ours faster)") != 0)
        return 1;
    printf("wrote %s/engine.csv and engine.json\n", out);
    return 0;
}
