/* bench_scenario.c -- how fast the simulator runs and how much memory keyed state
 * takes: the baseline job scaled to 1e6 keys, 128 subtasks on 32 workers and 1e7
 * records, timed as simulated records per second of wall time, next to a floor that
 * only draws the same records (a counter-seeded stream per record, a key and a value)
 * in the same process; medians of 3 interleaved repetitions. Memory: peak RSS of the
 * run with 1e6 keys minus that with 1e5 keys (each in its own child process), per extra
 * key. Targets (issue 11): >= 8 M records/s, <= 48 bytes per key. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench/bench_util.h"
#include "core/prng.h"
#include "sim/config.h"
#include "sim/sim.h"

static void configure(sim_config *c, uint64_t keys, double duration_s) {
    char err[256], buf[64];
    config_defaults(c);
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)keys);
    config_set(c, "keys", buf, err, sizeof err);
    config_set(c, "workers", "32", err, sizeof err);
    config_set(c, "slots_per_worker", "4", err, sizeof err);
    config_set(c, "sources", "32", err, sizeof err);
    config_set(c, "parallelism", "128", err, sizeof err);
    config_set(c, "rate", "1000000", err, sizeof err);
    snprintf(buf, sizeof buf, "%g", duration_s);
    config_set(c, "duration_s", buf, err, sizeof err);
    config_set(c, "checkpoint_interval_s", "2", err, sizeof err);
}

/* Peak RSS in KiB of a child running the job with `keys` keys. */
static long child_peak_kib(uint64_t keys, double duration_s) {
    pid_t pid = fork();
    if (pid == 0) {
        sim_config c;
        sim_result r;
        char err[256];
        configure(&c, keys, duration_s);
        int rc = sim_run(&c, 1, 0, &r, err, sizeof err);
        if (rc == 0)
            sim_result_free(&r);
        _exit(rc ? 1 : 0);
    }
    int status;
    struct rusage ru;
    if (pid < 0 || waitpid(pid, &status, 0) < 0 || getrusage(RUSAGE_CHILDREN, &ru) != 0)
        return -1;
    return ru.ru_maxrss; /* the largest child so far: call with the smaller job first */
}

#define TARGET_RECORDS_PER_S 8e6
#define TARGET_BYTES_PER_KEY 48.0
#define REPS 3

/* One timed run of the job: seconds, or -1 (message printed). */
static double time_sim(const sim_config *c, uint64_t *records, int *ok) {
    sim_result r;
    char err[256];
    uint64_t t0 = bench_now_ns();
    if (sim_run(c, 1, 0, &r, err, sizeof err) != 0) {
        fprintf(stderr, "bench_scenario: %s\n", err);
        return -1;
    }
    double s = (double)(bench_now_ns() - t0) / 1e9;
    *records = r.records_emitted;
    *ok = r.exactly_once_ok;
    sim_result_free(&r);
    return s;
}

/* The floor: draw as many records (a stream per record, a key and a value). */
static double time_floor(uint64_t records) {
    uint64_t t0 = bench_now_ns(), acc = 0;
    for (uint64_t i = 0; i < records; i++) {
        prng p;
        prng_stream(&p, 1, 0, (1ULL << 48) ^ i);
        acc += prng_below(&p, 1000000) + prng_below(&p, 1000);
    }
    bench_sink(acc);
    return (double)(bench_now_ns() - t0) / 1e9;
}

int main(int argc, char **argv) {
    const char *out;
    int quick = bench_args(argc, argv, &out);
    double duration = quick ? 1.0 : 10.0; /* x 1e6 records/s */
    sim_config c;
    configure(&c, 1000000, duration);
    uint64_t records = 0;
    int ok = 1;
    double sims[REPS], floors[REPS];
    for (int k = 0; k < REPS; k++) { /* interleaved: a load spike hits both alike */
        int run_ok;
        if ((sims[k] = time_sim(&c, &records, &run_ok)) < 0)
            return 1;
        ok &= run_ok;
        floors[k] = time_floor(records);
    }
    double sim_s = bench_result_median(sims, REPS), floor_s = bench_result_median(floors, REPS);
    long small = child_peak_kib(100000, duration), big = child_peak_kib(1000000, duration);
    double per_key = big > 0 && small > 0 ? (double)(big - small) * 1024.0 / 900000.0 : -1;
    double rate = (double)records / sim_s, floor_rate = (double)records / floor_s;
    printf("%llu records, 1e6 keys, 128 subtasks on 32 workers: %.2f s, %.2f M records/s "
           "(exactly-once %s; target >= %.0f M/s)\n",
           (unsigned long long)records, sim_s, rate / 1e6, ok ? "ok" : "FAILED",
           TARGET_RECORDS_PER_S / 1e6);
    printf("floor (drawing the records only): %.2f s, %.2f M records/s; simulation / floor: "
           "%.2fx the cost (medians of %d)\n",
           floor_s, floor_rate / 1e6, sim_s / floor_s, REPS);
    printf("peak RSS: %ld KiB with 1e6 keys, %ld KiB with 1e5: %.1f bytes per extra key "
           "(target <= %.0f)\n",
           big, small, per_key, TARGET_BYTES_PER_KEY);
    bench_result rows[3];
    bench_result_set(&rows[0], "simulation vs target", "M records/s", rate / 1e6,
                     TARGET_RECORDS_PER_S / 1e6, rate / TARGET_RECORDS_PER_S, 1.0);
    bench_result_set(&rows[1], "simulation vs draw-only floor", "M records/s", rate / 1e6,
                     floor_rate / 1e6, rate / floor_rate, BENCH_RESULT_NO_TARGET);
    bench_result_set(&rows[2], "peak bytes per key vs target", "bytes/key", per_key,
                     TARGET_BYTES_PER_KEY, per_key > 0 ? TARGET_BYTES_PER_KEY / per_key : 0, 1.0);
    if (!ok || bench_result_write(out, "scenario", rows, 3,
                                  "ratio: records/s over the target or the floor; bytes per key: "
                                  "the target over the peak RSS per extra key") != 0)
        return 1;
    printf("wrote %s/scenario.csv and scenario.json\n", out);
    return 0;
}
