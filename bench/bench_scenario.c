/* bench_scenario.c -- how fast the simulator runs and how much memory keyed state
 * takes: the baseline job scaled to 1e6 keys, 128 subtasks on 32 workers and 1e7
 * records, timed as simulated records per second of wall time, next to a floor that
 * only draws the same records (a counter-seeded stream per record, a key and a value)
 * in the same process. Memory: peak RSS of the run with 1e6 keys minus that with 1e5
 * keys (each in its own child process), per extra key. */
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

int main(int argc, char **argv) {
    const char *out;
    int quick = bench_args(argc, argv, &out);
    double duration = quick ? 1.0 : 10.0; /* x 1e6 records/s */
    sim_config c;
    configure(&c, 1000000, duration);
    sim_result r;
    char err[256];
    uint64_t t0 = bench_now_ns();
    if (sim_run(&c, 1, 0, &r, err, sizeof err) != 0) {
        fprintf(stderr, "bench_scenario: %s\n", err);
        return 1;
    }
    double sim_s = (double)(bench_now_ns() - t0) / 1e9;
    uint64_t records = r.records_emitted;
    int ok = r.exactly_once_ok;
    sim_result_free(&r);
    /* the floor: draw the same number of records */
    t0 = bench_now_ns();
    uint64_t acc = 0;
    for (uint64_t i = 0; i < records; i++) {
        prng p;
        prng_stream(&p, 1, 0, (1ULL << 48) ^ i);
        acc += prng_below(&p, 1000000) + prng_below(&p, 1000);
    }
    bench_sink(acc);
    double floor_s = (double)(bench_now_ns() - t0) / 1e9;
    long small = child_peak_kib(100000, duration), big = child_peak_kib(1000000, duration);
    double per_key = big > 0 && small > 0 ? (double)(big - small) * 1024.0 / 900000.0 : -1;
    printf("%llu records, 1e6 keys, 128 subtasks on 32 workers: %.2f s, %.2f M records/s "
           "(exactly-once %s)\n",
           (unsigned long long)records, sim_s, (double)records / sim_s / 1e6, ok ? "ok" : "FAILED");
    printf(
        "floor (drawing the records only): %.2f s, %.2f M records/s; simulation / floor: %.2fx\n",
        floor_s, (double)records / floor_s / 1e6, sim_s / floor_s);
    printf("peak RSS: %ld KiB with 1e6 keys, %ld KiB with 1e5: %.1f bytes per extra key\n", big,
           small, per_key);
    bench_row rows[3] = {
        {"simulation", "1e6 keys", sim_s * 1e9 / (double)records, 0, sim_s / floor_s},
        {"floor (draw records)", "1e6 keys", floor_s * 1e9 / (double)records, 0, 1.0},
        {"state bytes per key", "rss delta", per_key, 0, 0},
    };
    if (bench_write(out, "scenario", rows, 3, "ns per record / floor ns per record") != 0)
        return 1;
    printf("wrote %s/scenario.csv and scenario.json\n", out);
    return 0;
}
