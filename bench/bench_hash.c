/* bench_hash.c -- how fast our key hashes are, next to xxHash in the same run.
 *
 * ns per hash on 8, 16, 32 and 64-byte keys (4096 distinct keys, cycled, so the loop
 * cannot be hoisted and the keys stay in cache) and GB/s on a 1 MiB buffer, for
 * CRC32C (hardware, as hash_crc32c dispatches it, and portable), MurmurHash3 x86_32 and
 * x64_128, and xxHash's XXH3_64bits, XXH64 and XXH32. The ratio column is speed
 * relative to XXH3_64bits: above 1 is faster. Best of 7 repetitions. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "bench/bench_util.h"
#include "core/hash.h"
#include "core/prng.h"

#define KEYS 4096
#define MIB (1u << 20)
#define REPS 7

typedef uint64_t (*hash_fn)(const void *p, size_t n);

static uint64_t f_crc_hw(const void *p, size_t n) {
    return hash_crc32c(p, n);
}
static uint64_t f_crc_sw(const void *p, size_t n) {
    return hash_crc32c_sw(0, p, n);
}
static uint64_t f_m32(const void *p, size_t n) {
    return hash_murmur3_32(p, n, 0);
}
static uint64_t f_m128(const void *p, size_t n) {
    uint64_t h[2];
    hash_murmur3_128(p, n, 0, h);
    return h[0] ^ h[1];
}
static uint64_t f_xxh3(const void *p, size_t n) {
    return XXH3_64bits(p, n);
}
static uint64_t f_xxh64(const void *p, size_t n) {
    return XXH64(p, n, 0);
}
static uint64_t f_xxh32(const void *p, size_t n) {
    return XXH32(p, n, 0);
}

typedef struct algo {
    const char *name;
    hash_fn fn;
} algo;

static const algo algos[] = {
    {"XXH3_64bits", f_xxh3},   {"crc32c (hw)", f_crc_hw},   {"crc32c (portable)", f_crc_sw},
    {"murmur3_x86_32", f_m32}, {"murmur3_x64_128", f_m128}, {"XXH64", f_xxh64},
    {"XXH32", f_xxh32},
};
#define ALGOS (sizeof algos / sizeof algos[0])

/* Best-of-REPS ns per call of fn over the keys. The call goes through a pointer for
 * every algorithm alike. */
static double time_keys(hash_fn fn, const uint8_t *keys, size_t size, unsigned rounds) {
    double best = 1e30;
    for (int r = 0; r < REPS; r++) {
        uint64_t acc = 0, t0 = bench_now_ns();
        for (unsigned k = 0; k < rounds; k++)
            for (size_t i = 0; i < KEYS; i++)
                acc += fn(keys + i * size, size);
        double ns = (double)(bench_now_ns() - t0) / ((double)rounds * KEYS);
        bench_sink(acc);
        best = ns < best ? ns : best;
    }
    return best;
}

static double time_bulk(hash_fn fn, const uint8_t *buf, unsigned rounds) {
    double best = 1e30;
    for (int r = 0; r < REPS; r++) {
        uint64_t acc = 0, t0 = bench_now_ns();
        for (unsigned k = 0; k < rounds; k++)
            acc += fn(buf, MIB);
        double ns = (double)(bench_now_ns() - t0) / rounds;
        bench_sink(acc);
        best = ns < best ? ns : best;
    }
    return best;
}

int main(int argc, char **argv) {
    const char *out;
    int quick = bench_args(argc, argv, &out);
    unsigned rounds = quick ? 20 : 400, bulk_rounds = quick ? 20 : 300;
    uint8_t *buf = malloc(MIB + 64);
    if (!buf)
        return 1;
    prng r;
    prng_seed(&r, 1);
    for (size_t i = 0; i < MIB + 64; i++)
        buf[i] = (uint8_t)prng_next(&r);

    bench_row rows[ALGOS * 5];
    size_t n = 0;
    static const size_t sizes[] = {8, 16, 32, 64};
    printf("%-18s %8s %10s %10s %12s\n", "hash", "size", "ns/hash", "GB/s", "vs XXH3");
    for (size_t s = 0; s < 4; s++) {
        double base = 0;
        for (size_t a = 0; a < ALGOS; a++) {
            double ns = time_keys(algos[a].fn, buf, sizes[s], rounds);
            if (a == 0)
                base = ns;
            bench_row *row = &rows[n++];
            snprintf(row->name, sizeof row->name, "%s", algos[a].name);
            snprintf(row->size, sizeof row->size, "%zuB", sizes[s]);
            row->ns_per_op = ns;
            row->gbps = (double)sizes[s] / ns;
            row->ratio = base / ns;
            printf("%-18s %8s %10.2f %10.2f %11.2fx\n", row->name, row->size, ns, row->gbps,
                   row->ratio);
        }
    }
    double base = 0;
    for (size_t a = 0; a < ALGOS; a++) {
        double ns = time_bulk(algos[a].fn, buf, bulk_rounds);
        if (a == 0)
            base = ns;
        bench_row *row = &rows[n++];
        snprintf(row->name, sizeof row->name, "%s", algos[a].name);
        snprintf(row->size, sizeof row->size, "1MiB");
        row->ns_per_op = ns;
        row->gbps = (double)MIB / ns;
        row->ratio = base / ns;
        printf("%-18s %8s %10.0f %10.2f %11.2fx\n", row->name, row->size, ns, row->gbps,
               row->ratio);
    }
    if (!hash_crc32c_hw_available())
        printf("note: no SSE4.2 on this CPU: crc32c (hw) fell back to the portable path\n");
    free(buf);
    if (bench_write(out, "hash", rows, n, "speed relative to XXH3_64bits (>1 faster)") != 0) {
        fprintf(stderr, "bench_hash: cannot write %s/hash.csv\n", out);
        return 1;
    }
    printf("wrote %s/hash.csv and hash.json\n", out);
    return 0;
}
