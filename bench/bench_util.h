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

/* ---- bench_result_: a figure next to its same-run baseline, with its target ----
 *
 * A benchmark measures ours and the baseline in interleaved repetitions (so a load
 * spike on a shared machine hits both alike), takes medians, and writes one row per
 * figure to DIR/NAME.csv and DIR/NAME.json with the columns
 * name,unit,value,baseline,ratio,target,met. value and baseline are in unit; ratio is
 * how many times better ours is (> 1 better) whatever the unit's direction; target is
 * the minimum ratio asked for (empty / null when the row has none) and met says whether
 * the ratio reaches it ("yes" / "no"; empty / null without a target). */

/* No target for this row. */
#define BENCH_RESULT_NO_TARGET (-1.0)

typedef struct bench_result {
    char name[64];
    char unit[16];
    double value;
    double baseline;
    double ratio;
    double target;
} bench_result;

/* The median of n samples (n >= 1); sorts samples in place. */
double bench_result_median(double *samples, size_t n);

/* Fill *r. ratio is the caller's: ours / baseline throughput, so > 1 is better whatever
 * the unit (for ns per op: baseline / value, or the median of per-repetition ratios). */
void bench_result_set(bench_result *r, const char *name, const char *unit, double value,
                      double baseline, double ratio, double target);

/* 1 when r has a target and its ratio reaches it, else 0. */
int bench_result_met(const bench_result *r);

/* Write rows to DIR/NAME.csv and DIR/NAME.json (temporary names, then renamed); dir is
 * created if missing. note (may be NULL) goes into the JSON as "note". 0 or -1. */
int bench_result_write(const char *dir, const char *name, const bench_result *rows, size_t count,
                       const char *note);

/* ---- end of bench_result_ ---- */

#endif
