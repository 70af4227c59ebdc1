/* bench_route.c -- ns per key to route 1e7 distinct 16-byte keys with each
 * partitioner at N = 100 and N = 1000, next to a baseline that only reads the keys
 * (the memory floor), and flink next to the bare cost of its two hashes
 * (String.hashCode + murmur). Routing goes through part_route_batch, as the simulator
 * routes; building the partitioner is not timed. Best of 3 repetitions. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench_util.h"
#include "core/hash.h"
#include "core/partition.h"
#include "core/prng.h"

#define KEY_LEN 16
#define REPS 3
#define CHUNK 4096

static double best_of(double a, double b) {
    return a < b ? a : b;
}

/* The floor: read every key once (xor of its two halves). */
static double time_floor(const uint8_t *keys, size_t count) {
    double best = 1e30;
    for (int r = 0; r < REPS; r++) {
        uint64_t acc = 0, t0 = bench_now_ns();
        for (size_t i = 0; i < count; i++) {
            uint64_t a, b;
            memcpy(&a, keys + i * KEY_LEN, 8);
            memcpy(&b, keys + i * KEY_LEN + 8, 8);
            acc += a ^ b;
        }
        best = best_of(best, (double)(bench_now_ns() - t0) / (double)count);
        bench_sink(acc);
    }
    return best;
}

static double time_route(const part *p, const uint8_t *keys, size_t count) {
    uint32_t out[CHUNK];
    double best = 1e30;
    for (int r = 0; r < REPS; r++) {
        uint64_t acc = 0, t0 = bench_now_ns();
        for (size_t i = 0; i < count; i += CHUNK) {
            size_t n = count - i < CHUNK ? count - i : CHUNK;
            part_route_batch(p, keys + i * KEY_LEN, KEY_LEN, n, out);
            acc += out[n - 1];
        }
        best = best_of(best, (double)(bench_now_ns() - t0) / (double)count);
        bench_sink(acc);
    }
    return best;
}

/* Flink's bare hashing: hashCode then murmur, no modulo, no table. */
static double time_flink_hashes(const uint8_t *keys, size_t count) {
    double best = 1e30;
    for (int r = 0; r < REPS; r++) {
        uint64_t acc = 0, t0 = bench_now_ns();
        for (size_t i = 0; i < count; i++)
            acc += (uint32_t)hash_flink_int(
                hash_java_string((const char *)keys + i * KEY_LEN, KEY_LEN));
        best = best_of(best, (double)(bench_now_ns() - t0) / (double)count);
        bench_sink(acc);
    }
    return best;
}

int main(int argc, char **argv) {
    const char *out;
    int quick = bench_args(argc, argv, &out);
    size_t count = quick ? 1000000 : 10000000;
    /* Printable keys (hex), as text keys are: Java's hashCode then sees ASCII. */
    uint8_t *keys = malloc(count * KEY_LEN);
    if (!keys)
        return 1;
    prng r;
    prng_seed(&r, 7);
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < count; i++) {
        uint64_t a = prng_next(&r), b = prng_next(&r);
        for (int j = 0; j < 8; j++) {
            keys[i * KEY_LEN + (size_t)j] = (uint8_t)hex[(a >> (4 * j)) & 15];
            keys[i * KEY_LEN + 8 + (size_t)j] = (uint8_t)hex[(b >> (4 * j)) & 15];
        }
    }
    bench_row rows[32];
    size_t n = 0;
    double floor_ns = time_floor(keys, count);
    printf("%zu distinct %d-byte keys; ratio = ns per key / floor (reading the keys only)\n", count,
           KEY_LEN);
    printf("%-22s %6s %10s %10s\n", "partitioner", "N", "ns/key", "vs floor");
    snprintf(rows[n].name, sizeof rows[n].name, "floor (read keys)");
    snprintf(rows[n].size, sizeof rows[n].size, "-");
    rows[n].ns_per_op = floor_ns;
    rows[n].gbps = 0;
    rows[n++].ratio = 1.0;
    printf("%-22s %6s %10.3f %9.2fx\n", "floor (read keys)", "-", floor_ns, 1.0);
    static const uint32_t ns[] = {100, 1000};
    double flink_route[2] = {0, 0};
    for (size_t k = 0; part_scheme_names[k]; k++)
        for (size_t j = 0; j < 2; j++) {
            part_config cfg = {.scheme = part_scheme_names[k], .parallelism = ns[j]};
            part *p;
            if (part_create(&cfg, &p) != 0) {
                fprintf(stderr, "bench_route: cannot make %s at N=%u\n", cfg.scheme, ns[j]);
                return 1;
            }
            double t = time_route(p, keys, count);
            part_free(p);
            if (strcmp(cfg.scheme, "flink") == 0)
                flink_route[j] = t;
            bench_row *row = &rows[n++];
            snprintf(row->name, sizeof row->name, "%s", cfg.scheme);
            snprintf(row->size, sizeof row->size, "N=%u", ns[j]);
            row->ns_per_op = t;
            row->gbps = 0;
            row->ratio = t / floor_ns;
            printf("%-22s %6u %10.3f %9.2fx\n", cfg.scheme, ns[j], t, row->ratio);
        }
    double bare = time_flink_hashes(keys, count);
    bench_row *row = &rows[n++];
    snprintf(row->name, sizeof row->name, "flink bare hashes");
    snprintf(row->size, sizeof row->size, "-");
    row->ns_per_op = bare;
    row->gbps = 0;
    row->ratio = bare / floor_ns;
    printf("%-22s %6s %10.3f %9.2fx\n", "flink bare hashes", "-", bare, row->ratio);
    printf("flink routing / its bare hashing: %.2fx (N=100), %.2fx (N=1000)\n",
           flink_route[0] / bare, flink_route[1] / bare);
    free(keys);
    if (bench_write(out, "route", rows, n, "ns per key / floor ns per key") != 0) {
        fprintf(stderr, "bench_route: cannot write %s/route.csv\n", out);
        return 1;
    }
    printf("wrote %s/route.csv and route.json\n", out);
    return 0;
}
