/* bench_scenario.c -- how fast the simulator runs and how much memory keyed state
 * takes: the baseline job scaled to 1e6 keys, 128 subtasks on 32 workers and 1e7
 * records, timed as simulated records per second of wall time, next to a floor that
 * only draws the same records (a counter-seeded stream per record, a key and a value)
 * in the same process; medians of 3 interleaved repetitions. Memory: peak RSS of the
 * run with 1e6 keys minus that with 1e5 keys (each in its own child process), per extra
 * key. Targets (issue 11): >= 8 M records/s, <= 48 bytes per key.
 *
 * With --sweep it measures how the cost grows instead (README "How the cost grows"):
 * the same job at 1e4..1e7 distinct keys (128 subtasks) and at 8..1024 subtasks (1e6
 * keys, 4 slots per worker), every point with the same record count, each in a child
 * process whose peak RSS gives bytes per key held (the median of 3 passes over the
 * points); and `shardsim run --jobs J` on a sweep of 16 short runs, runs per second for
 * J = 1 and 2 (the median of 5 interleaved repetitions). Writes
 * scenario_keys.csv, scenario_subtasks.csv, scenario_jobs.csv (plain CSV) and the
 * summary ratios as scenario_scale.csv|json (bench_result_ rows). --quick --sweep is a
 * smaller sweep for trying it out; results/bench_scale.gp plots the CSVs. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench/bench_util.h"
#include "core/prng.h"
#include "sim/config.h"
#include "sim/results.h"
#include "sim/sim.h"

#define SCALE_RATE 1000000.0 /* records/s of simulated time, all sources */
#define SCALE_REPS 3         /* passes over a sweep's points: each figure is their median */
#define SCALE_JOBS_REPS 5    /* interleaved repetitions of the --jobs timing */
#define SCALE_WARM_BYTES ((size_t)1 << 30) /* touched before every point: see scale_warm */
#define SCALE_MAX_POINTS 9                 /* 4 key counts + 5 subtask counts */

/* Workers for a job of `subtasks` subtasks: 4 slots each, at least one. */
static uint32_t workers_for(uint32_t subtasks) {
    return subtasks / 4 ? subtasks / 4 : 1;
}

static void configure(sim_config *c, uint64_t keys, uint32_t subtasks, double duration_s) {
    char err[256], buf[64];
    config_defaults(c);
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)keys);
    config_set(c, "keys", buf, err, sizeof err);
    snprintf(buf, sizeof buf, "%u", workers_for(subtasks));
    config_set(c, "workers", buf, err, sizeof err);
    config_set(c, "slots_per_worker", "4", err, sizeof err);
    config_set(c, "sources", "32", err, sizeof err);
    snprintf(buf, sizeof buf, "%u", subtasks);
    config_set(c, "parallelism", buf, err, sizeof err);
    snprintf(buf, sizeof buf, "%g", SCALE_RATE);
    config_set(c, "rate", buf, err, sizeof err);
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
        configure(&c, keys, 128, duration_s);
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

/* The fixed-size measurement (the default run): records/s next to the floor (medians of
 * REPS interleaved repetitions), bytes per extra key, each with its target (issue 11:
 * >= 8 M records/s, <= 48 bytes per key). */
static int scenario_main(const char *out, int quick) {
    double duration = quick ? 1.0 : 10.0; /* x 1e6 records/s */
    sim_config c;
    configure(&c, 1000000, 128, duration);
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

/* ---- the sweep ---- */

/* One point of a sweep: the job's size in, what the child measured out. */
typedef struct scale_point {
    uint64_t keys;
    uint32_t subtasks;
    uint64_t records;   /* emitted */
    uint64_t keys_held; /* keys in the keyed state at the end: K (1 - e^(-records/K)) */
    double seconds;     /* wall time of sim_run */
    long peak_kib;      /* the child's peak RSS */
    int ok;             /* the run succeeded and exactly-once held */
} scale_point;

/* In a child: run the point's job, timed, and fill p. */
static void scale_run_child(scale_point *p, uint64_t records) {
    sim_config c;
    sim_result r;
    char err[256];
    configure(&c, p->keys, p->subtasks, (double)records / SCALE_RATE);
    uint64_t t0 = bench_now_ns();
    if (sim_run(&c, 1, 0, &r, err, sizeof err) != 0) {
        fprintf(stderr, "bench_scenario: %s\n", err);
        return;
    }
    p->seconds = (double)(bench_now_ns() - t0) / 1e9;
    p->records = r.records_emitted;
    for (uint32_t i = 0; i < r.subtask_count; i++)
        p->keys_held += r.subtasks[i].keys;
    p->ok = r.exactly_once_ok;
    sim_result_free(&r);
    struct rusage ru;
    p->peak_kib = getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss : -1;
}

/* Measure one point in its own process (so its peak RSS is its own; the child starts
 * from this small process's pages). 0, or -1 when the child failed. */
static int scale_measure(scale_point *p, uint64_t records) {
    int fd[2];
    if (pipe(fd) != 0)
        return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(fd[0]);
        scale_run_child(p, records);
        ssize_t n = write(fd[1], p, sizeof *p);
        _exit(n == (ssize_t)sizeof *p && p->ok ? 0 : 1);
    }
    close(fd[1]);
    ssize_t n = pid > 0 ? read(fd[0], p, sizeof *p) : -1;
    close(fd[0]);
    int status = 1;
    if (pid > 0)
        waitpid(pid, &status, 0);
    return n == (ssize_t)sizeof *p && status == 0 ? 0 : -1;
}

/* Touch `bytes` of fresh memory in a child that then exits. This machine is a KVM guest
 * with free page reporting (virtio-balloon): pages the guest frees go back to the host,
 * and the first touch of one traps to the hypervisor. Without this, a point run after a
 * large one (whose freed pages the next child gets back still backed) measured up to
 * 1.7x faster than the same point run first; with it every point starts alike. */
static void scale_warm(size_t bytes) {
    pid_t pid = fork();
    if (pid == 0) {
        char *m = malloc(bytes);
        if (m)
            memset(m, 1, bytes);
        _exit(m ? 0 : 1);
    }
    if (pid > 0)
        waitpid(pid, NULL, 0);
}

/* Measure points[0..n) (keys and subtasks set) in `reps` passes over all of them, in
 * alternating order, so a load change on a shared machine hits every point alike;
 * seconds and peak RSS are the medians over the passes. 0, or -1 (message printed) when a run
 * failed. */
static int measure_points(scale_point *points, size_t n, int reps, uint64_t records) {
    double sec[SCALE_MAX_POINTS][SCALE_REPS], kib[SCALE_MAX_POINTS][SCALE_REPS];
    for (int r = 0; r < reps; r++)
        for (size_t k = 0; k < n; k++) {
            size_t i = r % 2 ? n - 1 - k : k; /* forwards, then backwards: order effects cancel */
            scale_point p = {.keys = points[i].keys, .subtasks = points[i].subtasks};
            scale_warm(SCALE_WARM_BYTES);
            if (scale_measure(&p, records) != 0) {
                fprintf(stderr, "bench_scenario: the run with %llu keys, %u subtasks failed\n",
                        (unsigned long long)p.keys, p.subtasks);
                return -1;
            }
            sec[i][r] = p.seconds;
            kib[i][r] = (double)p.peak_kib;
            points[i] = p;
        }
    for (size_t i = 0; i < n; i++) {
        points[i].seconds = bench_result_median(sec[i], (size_t)reps);
        points[i].peak_kib = (long)bench_result_median(kib[i], (size_t)reps);
    }
    return 0;
}

static double point_rps(const scale_point *p) {
    return (double)p->records / p->seconds;
}

static double point_bytes_per_key(const scale_point *p) {
    return (double)p->peak_kib * 1024.0 / (double)p->keys_held;
}

/* Bytes of peak RSS per extra unit between two points (units: keys held or subtasks). */
static double extra_bytes(const scale_point *a, const scale_point *b, double units_a,
                          double units_b) {
    return (double)(b->peak_kib - a->peak_kib) * 1024.0 / (units_b - units_a);
}

/* Open DIR/NAME for a plain CSV, header written; NULL (message printed) on failure. */
static FILE *scale_csv(const char *dir, const char *name, const char *header, char *path,
                       size_t size) {
    snprintf(path, size, "%s/%s", dir, name);
    FILE *f = results_mkdir_p(dir) == 0 ? fopen(path, "w") : NULL;
    if (!f)
        fprintf(stderr, "bench_scenario: cannot write %s\n", path);
    else
        fprintf(f, "%s\n", header);
    return f;
}

/* Write DIR/NAME, one row per measured point; by_subtasks says which size the sweep
 * varies, so which unit the difference column is per. 0 or -1. */
static int sweep_write(const char *out, const char *name, const scale_point *points, size_t n,
                       int by_subtasks) {
    char path[4200], header[200];
    const char *unit = by_subtasks ? "subtask" : "key";
    snprintf(header, sizeof header,
             "keys,keys_held,subtasks,workers,records,seconds,records_per_s,peak_rss_bytes,"
             "bytes_per_key,bytes_per_extra_%s",
             unit);
    FILE *f = scale_csv(out, name, header, path, sizeof path);
    if (!f)
        return -1;
    printf("%10s %10s %10s %10s %12s %10s %12s%s\n", "keys", "held", "subtasks", "seconds",
           "records/s", "B/key", "B/extra ", unit);
    for (size_t i = 0; i < n; i++) {
        const scale_point *p = &points[i];
        double extra = NAN;
        if (i && by_subtasks)
            extra = extra_bytes(p - 1, p, (double)p[-1].subtasks, (double)p->subtasks);
        else if (i)
            extra = extra_bytes(p - 1, p, (double)p[-1].keys_held, (double)p->keys_held);
        printf("%10llu %10llu %10u %10.2f %12.0f %10.1f %12.1f\n", (unsigned long long)p->keys,
               (unsigned long long)p->keys_held, p->subtasks, p->seconds, point_rps(p),
               point_bytes_per_key(p), extra);
        fprintf(f, "%llu,%llu,%u,%u,%llu,%.3f,%.0f,%lld,%.1f,", (unsigned long long)p->keys,
                (unsigned long long)p->keys_held, p->subtasks, workers_for(p->subtasks),
                (unsigned long long)p->records, p->seconds, point_rps(p),
                (long long)p->peak_kib * 1024, point_bytes_per_key(p));
        if (i)
            fprintf(f, "%.1f", extra);
        fputc('\n', f);
    }
    printf("wrote %s\n", path);
    return fclose(f) == 0 ? 0 : -1;
}

/* The 1-minute load average (/proc/loadavg), or -1: how busy the shared machine was. */
static double load_avg(void) {
    double l = -1;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf", &l) != 1)
            l = -1;
        fclose(f);
    }
    return l;
}

/* Wall seconds of `shardsim run` of the 16-run sweep with --jobs J into a fresh
 * directory under tmp (removed afterwards); -1 when it fails. */
static double time_jobs(const char *shardsim, const char *tmp, unsigned jobs, double duration_s) {
    char dir[4200], j[16], dur[48];
    snprintf(dir, sizeof dir, "%s/run-j%u", tmp, jobs);
    snprintf(j, sizeof j, "%u", jobs);
    snprintf(dur, sizeof dur, "duration_s=%g", duration_s);
    char *argv[] = {(char *)shardsim,
                    "run",
                    "skew",
                    "--set",
                    dur,
                    "--set",
                    "partitioner=${p=modulo,flink,jump,ring}",
                    "--set",
                    "zipf_s=${s=0.8,1.1,1.4,1.7}",
                    "--no-plot",
                    "--quiet",
                    "--out",
                    dir,
                    "--jobs",
                    j,
                    NULL};
    fflush(NULL);
    uint64_t t0 = bench_now_ns();
    pid_t pid = fork();
    if (pid == 0) {
        execv(shardsim, argv);
        _exit(127);
    }
    int status = 1;
    if (pid < 0 || waitpid(pid, &status, 0) < 0)
        return -1;
    double s = (double)(bench_now_ns() - t0) / 1e9;
    results_remove_tree(dir);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? s : -1;
}

/* runs/s of the 16-run sweep for J = 1 and 2 (median of interleaved repetitions), into
 * rps[2]; writes scenario_jobs.csv. 0 or -1. */
static int sweep_jobs(const char *out, const char *shardsim, int quick, double rps[2]) {
    char tmp[] = "/tmp/bench_scenario_XXXXXX";
    if (!mkdtemp(tmp)) {
        fprintf(stderr, "bench_scenario: cannot make a temporary directory\n");
        return -1;
    }
    int reps = quick ? 1 : SCALE_JOBS_REPS;
    double duration_s = quick ? 0.5 : 5.0, s[2][SCALE_JOBS_REPS], load = load_avg();
    for (int r = 0; r < reps; r++)
        for (int i = 0; i < 2; i++) {
            int k = r % 2 ? 1 - i : i;
            s[k][r] = time_jobs(shardsim, tmp, (unsigned)k + 1, duration_s);
            if (s[k][r] < 0) {
                fprintf(stderr, "bench_scenario: %s run --jobs %d failed\n", shardsim, k + 1);
                rmdir(tmp);
                return -1;
            }
        }
    rmdir(tmp);
    char path[4200];
    FILE *f = scale_csv(out, "scenario_jobs.csv", "jobs,runs,seconds,runs_per_s,speedup,load_avg",
                        path, sizeof path);
    if (!f)
        return -1;
    for (int k = 0; k < 2; k++) {
        double med = bench_result_median(s[k], (size_t)reps);
        rps[k] = 16.0 / med;
        printf("shardsim run --jobs %d, 16 runs of %g s simulated: %.2f s, %.2f runs/s (%.2fx)\n",
               k + 1, duration_s, med, rps[k], rps[k] / rps[0]);
        fprintf(f, "%d,16,%.3f,%.3f,%.3f,%.2f\n", k + 1, med, rps[k], rps[k] / rps[0], load);
    }
    printf("wrote %s\n", path);
    return fclose(f) == 0 ? 0 : -1;
}

/* The summary: the largest size's figure against the smallest's, as bench_result_ rows. */
static int scale_summary(const char *out, const scale_point *k, size_t nk, const scale_point *t,
                         size_t nt, const double rps[2]) {
    bench_result rows[4];
    char name[64];
    snprintf(name, sizeof name, "records/s at %llu keys vs %llu",
             (unsigned long long)k[nk - 1].keys, (unsigned long long)k[0].keys);
    bench_result_set(&rows[0], name, "records/s", point_rps(&k[nk - 1]), point_rps(&k[0]),
                     point_rps(&k[nk - 1]) / point_rps(&k[0]), BENCH_RESULT_NO_TARGET);
    snprintf(name, sizeof name, "records/s at %u subtasks vs %u", t[nt - 1].subtasks,
             t[0].subtasks);
    bench_result_set(&rows[1], name, "records/s", point_rps(&t[nt - 1]), point_rps(&t[0]),
                     point_rps(&t[nt - 1]) / point_rps(&t[0]), BENCH_RESULT_NO_TARGET);
    double per_key = extra_bytes(&k[nk - 2], &k[nk - 1], (double)k[nk - 2].keys_held,
                                 (double)k[nk - 1].keys_held);
    bench_result_set(&rows[2], "peak bytes per extra key (largest two key counts)", "bytes",
                     per_key, 48, 48 / per_key, BENCH_RESULT_NO_TARGET);
    bench_result_set(&rows[3], "runs/s with --jobs 2 vs 1", "runs/s", rps[1], rps[0],
                     rps[1] / rps[0], BENCH_RESULT_NO_TARGET);
    if (bench_result_write(out, "scenario_scale", rows, 4,
                           "ratio: the larger size's figure / the smaller's (bytes: the 48-byte "
                           "goal / ours); details in scenario_keys.csv, scenario_subtasks.csv, "
                           "scenario_jobs.csv") != 0)
        return -1;
    printf("wrote %s/scenario_scale.csv and scenario_scale.json\n", out);
    return 0;
}

static int scenario_sweep(const char *out, int quick, const char *shardsim) {
    static const uint64_t keys[] = {10000, 100000, 1000000, 10000000};
    static const uint32_t subtasks[] = {8, 32, 128, 512, 1024};
    size_t nk = quick ? 3 : 4, nt = quick ? 3 : 5;
    uint64_t records = quick ? 1000000 : 10000000;
    int reps = quick ? 1 : SCALE_REPS;
    scale_point pts[SCALE_MAX_POINTS], *kp = pts, *tp = pts + nk;
    double rps[2];
    uint64_t t0 = bench_now_ns();
    printf("sweep: %llu records per point, 1e6 records/s simulated, 32 sources, 4 slots per "
           "worker; median of %d passes; load average %.2f\n",
           (unsigned long long)records, reps, load_avg());
    for (size_t i = 0; i < nk; i++)
        kp[i] = (scale_point){.keys = keys[i], .subtasks = 128};
    for (size_t i = 0; i < nt; i++)
        tp[i] = (scale_point){.keys = 1000000, .subtasks = subtasks[i]};
    /* both sweeps in the same passes, so a load change hits them alike */
    if (measure_points(pts, nk + nt, reps, records) != 0 ||
        sweep_write(out, "scenario_keys.csv", kp, nk, 0) != 0 ||
        sweep_write(out, "scenario_subtasks.csv", tp, nt, 1) != 0 ||
        sweep_jobs(out, shardsim, quick, rps) != 0 || scale_summary(out, kp, nk, tp, nt, rps) != 0)
        return 1;
    printf("sweep took %.0f s\n", (double)(bench_now_ns() - t0) / 1e9);
    return 0;
}

int main(int argc, char **argv) {
    /* --sweep and --shardsim PATH are ours; the rest goes to bench_args */
    char *rest[64];
    int n = 0, sweep = 0;
    const char *shardsim = SHARDSIM_BIN;
    rest[n++] = argv[0];
    for (int i = 1; i < argc && n < 63; i++) {
        if (strcmp(argv[i], "--sweep") == 0)
            sweep = 1;
        else if (strcmp(argv[i], "--shardsim") == 0 && i + 1 < argc)
            shardsim = argv[++i];
        else if (strcmp(argv[i], "--quick") == 0 || strcmp(argv[i], "--out") == 0)
            rest[n++] = argv[i];
        else if (n > 1 && strcmp(rest[n - 1], "--out") == 0)
            rest[n++] = argv[i]; /* --out's DIR */
        else {
            fprintf(stderr,
                    "%s: unknown argument '%s' (--quick, --out DIR, --sweep, --shardsim PATH)\n",
                    argv[0], argv[i]);
            return 2;
        }
    }
    rest[n] = NULL;
    const char *out;
    int quick = bench_args(n, rest, &out);
    return sweep ? scenario_sweep(out, quick, shardsim) : scenario_main(out, quick);
}
