/* bench_util.h -- timing and result files for the benchmarks in bench/.
 *
 * Benchmarks time loops in-process with CLOCK_MONOTONIC (bench/ is the one place
 * outside sim/env_real.c that reads a clock) and compare each figure to a baseline
 * measured in the same run, so ratios hold when the machine's speed drifts. The
 * figures are machine-specific; the README quotes one machine's. */
#ifndef SHARDSIM_BENCH_UTIL_H
#define SHARDSIM_BENCH_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Monotonic nanoseconds. */
uint64_t bench_now_ns(void);

/* Keeps a value alive so the compiler cannot drop the loop that made it. */
void bench_sink(uint64_t v);

/* One result row: a name, a label for the size/case, ns per operation, the value of
 * a second figure (GB/s or 0) and the ratio to the row's baseline. */
typedef struct bench_row {
    char name[48];
    char size[24];
    double ns_per_op;
    double gbps;
    double ratio;
} bench_row;

/* Write rows to DIR/NAME.csv and DIR/NAME.json (written to temporary names, then
 * renamed). dir is created if missing. Returns 0 or -1. */
int bench_write(const char *dir, const char *name, const bench_row *rows, size_t count,
                const char *ratio_meaning);

/* Parse --quick and --out DIR; returns 1 for --quick. Exits 2 on anything else. */
int bench_args(int argc, char **argv, const char **out_dir);

#endif
