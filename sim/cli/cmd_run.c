/* cmd_run.c -- `shardsim run`: expand a scenario into runs, simulate each run (in J
 * worker processes when --jobs J > 1), and write the result folder:
 *
 *   results/<scenario>/<UTC time>/     (or --out DIR), plus a `latest` link beside it
 *     manifest.json   scenario text, version, seed, command line, runs
 *     runs.csv        one row per run: its swept parameters, summary figures, status
 *                     (ok / failed) and the reason a run failed
 *     run-NNN/        per-run CSVs (sim/report.h) and plots (results/run.gp); a run that
 *                     failed keeps what it wrote and failed.txt (why, and how to rerun it)
 *     sweep.png/svg   figures against the first swept parameter (sweeps only)
 *
 * The folder is built under a temporary name and renamed into place at the end, so an
 * interrupted or rejected run leaves no partial result folder. Every file but the
 * manifest's time and command line depends only on the scenario and the seed. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "backends/coord.h"
#include "core/error.h"
#include "core/grow.h"
#include "sim/cli/args.h"
#include "sim/cli/cli.h"
#include "sim/cli/report_page.h"
#include "sim/cli/scenario_cli.h"
#include "sim/cli/sweep_figs.h"
#include "sim/config.h"
#include "sim/csv.h"
#include "sim/env_real.h"
#include "sim/report.h"
#include "sim/results.h"
#include "sim/scenario.h"
#include "sim/sim.h"
#include "sim/version.h"

#define MAX_OVERRIDES 64

typedef struct run_options {
    const char *scenario; /* a path, a shipped scenario's name, or NULL = baseline */
    const char *config;   /* -c NAME */
    const char *runs;     /* --runs LIST */
    const char *out;      /* --out DIR */
    int force;            /* --force: --out may replace an earlier shardsim result */
    uint64_t seed;
    int have_seed;
    uint32_t jobs;
    int quiet, no_plot;
    int progress; /* --progress: progress lines also when stderr is not a terminal */
    const char *overrides[MAX_OVERRIDES];
    size_t override_count;
} run_options;

static void usage(FILE *out) {
    fputs("usage: shardsim run [SCENARIO] [-c CONFIG] [--runs LIST] [--seed S] [--out DIR]\n"
          "                    [--force] [--jobs J] [--set KEY=VALUE]... [--quiet] [--no-plot]\n"
          "       shardsim run --keys        list every scenario key, its unit and default\n\n"
          "Runs every run of a scenario's sweep and writes results/<scenario>/<UTC time>/\n"
          "(manifest.json, runs.csv, run-NNN/*.csv and plots) and a `latest` link.\n\n"
          "  SCENARIO       an .ini file, or the name of a shipped scenario in bench/scenarios\n"
          "                 (baseline, skew, rescale, failover, split-brain, chaos,\n"
          "                 sweep-parallelism); default: the built-in baseline\n"
          "  -c CONFIG      the [Config CONFIG] section to run (default: [General])\n"
          "  --runs LIST    only these run numbers, e.g. 0,3,5-7\n"
          "  --seed S       master seed (default: the scenario's `seed`, else 1)\n"
          "  --out DIR      write the result folder here instead: DIR must not exist, or be\n"
          "                 empty; an earlier shardsim result there is replaced only with\n"
          "                 --force; nothing else is ever deleted or overwritten\n"
          "  --force        let --out replace an earlier shardsim result folder\n"
          "  --jobs J       run J runs at once in worker processes (default 1); the files\n"
          "                 are the same for every J\n"
          "  --set K=V      override a scenario key (repeatable; sweeps allowed)\n"
          "  --quiet        no per-run summary lines, no progress\n"
          "  --progress     progress lines (simulated time, records/s, ETA; runs done) also\n"
          "                 when stderr is not a terminal (on a terminal: always, on one line)\n"
          "  --no-plot      skip the gnuplot figures\n\n"
          "Scenario syntax (INI; every key: shardsim run --keys):\n"
          "  [General] keys, then [Config NAME] sections that override them (-c NAME)\n"
          "  key = ${a,b,c}             a sweep: one run per value (anonymous: named after\n"
          "                             the key in runs.csv); ${N=4,8,16} names it N and\n"
          "                             ${N} refers to it; ${s=0.8..1.4 step 0.2} a range\n"
          "  key = 4..12, key = {x,y}   a draw per run from the seeded stream: a whole\n"
          "                             number (or a decimal on 1000 steps), or a choice\n"
          "  repeat = R                 R runs per sweep point (repetitions innermost)\n"
          "  faults = T KIND TARGET [D]; ...   T in s (or A+U(B,C): A plus a uniform draw\n"
          "                             from B to C per run); KIND crash-worker, restart-worker,\n"
          "                             rescale, crash-jm, partition-jm, expire-session,\n"
          "                             crash-zk, restart-zk, lose-quorum, slow-zk,\n"
          "                             drop-connection, crash-leader, partition-leader,\n"
          "                             pause-jm, pause-leader (D: duration in s)\n"
          "  random_faults = N          N faults drawn per run of every kind the config has\n\n"
          "In timeseries.csv a window is `down` when no record was processed in it while a\n"
          "failover or rescale was under way; `rolled_back` counts records processed in it\n"
          "that a later restore rolled back (they are processed again). A run exits 1 when\n"
          "it broke an invariant (exactly-once, replay, key groups, HA epochs, ...).\n",
          out);
}

/* One error line on stderr, "shardsim run: ..." (escaped: scli_say). */
#define say(...) scli_say("run", __VA_ARGS__)

static void list_keys(void) {
    printf("%-24s %-10s %-14s %s\n", "key", "unit", "default", "meaning");
    printf("%-24s %-10s %-14s %s\n", "seed", "", "1", "master seed (--seed overrides)");
    printf("%-24s %-10s %-14s %s\n", "repeat", "", "1", "runs per sweep combination");
    const config_key *k;
    for (size_t i = 0; (k = config_key_at(i)) != NULL; i++)
        printf("%-24s %-10s %-14s %s\n", k->name, k->unit, k->default_text, k->help);
    printf("\nmutations (built-in bugs for testing the checks: --set mutations=NAME,...)\n");
    const char *name, *help;
    uint32_t bit;
    for (size_t i = 0; config_mutation_at(i, &name, &bit, &help); i++)
        printf("%-24s %s\n", name, help);
}

/* Build the config and seed of one run (--seed wins over the scenario's `seed`), its
 * draws made into *drawn if not NULL (scli_build_run). */
static int build_run(const run_options *o, const scenario_run *run, sim_config *cfg, uint64_t *seed,
                     scenario_run *drawn, char *err, size_t errlen) {
    return scli_build_run(run, o->have_seed ? &o->seed : NULL, cfg, seed, drawn, err, errlen);
}

/* Parse "0,3,5-7" into a selection mask over run_count runs. An empty list or item
 * ("", "1,", "1,,2") is an error, not a selection of nothing. */
static int parse_run_list(const char *text, size_t run_count, uint8_t *selected) {
    const char *p = text;
    for (;;) {
        char *end;
        errno = 0;
        if (*p < '0' || *p > '9')
            return SS_EINVAL;
        unsigned long long lo = strtoull(p, &end, 10), hi = lo;
        if (end == p || errno)
            return SS_EINVAL;
        p = end;
        if (*p == '-') {
            const char *q = p + 1;
            hi = strtoull(q, &end, 10);
            if (end == q || errno || *q == '-')
                return SS_EINVAL;
            p = end;
        }
        if (lo > hi || hi >= run_count)
            return SS_ERANGE;
        for (unsigned long long i = lo; i <= hi; i++)
            selected[i] = 1;
        if (!*p)
            return 0;
        if (*p++ != ',')
            return SS_EINVAL;
    }
}

static int parse_options(int argc, char **argv, run_options *o) {
    memset(o, 0, sizeof *o);
    o->jobs = 1;
    args_state a;
    args_init(&a, "run", argc, argv);
    const char *value;
    int rc;
    while ((rc = args_next(&a)) == ARGS_FLAG || rc == ARGS_POSITIONAL) {
        if (rc == ARGS_POSITIONAL) {
            if (o->scenario)
                return args_fail(&a, "unexpected argument '%s' (one scenario at most)",
                                 args_current(&a));
            o->scenario = args_current(&a);
        } else if (args_is(&a, "--help", "-h")) {
            usage(stdout);
            return 1;
        } else if (args_is(&a, "--keys", NULL)) {
            if (argc != 2 || a.inline_value) /* `run --keys --frob` is a mistake, not a list */
                return args_fail(&a, "takes no value and no other arguments (got '%s')",
                                 a.inline_value ? a.inline_value : argv[a.index == 1 ? 2 : 1]);
            list_keys();
            return 1;
        } else if (args_is(&a, "--config", "-c")) {
            if (args_value(&a, &o->config) != 0)
                return ARGS_ERROR;
        } else if (args_is(&a, "--runs", NULL)) {
            if (args_value(&a, &o->runs) != 0)
                return ARGS_ERROR;
        } else if (args_is(&a, "--out", NULL)) {
            if (args_value(&a, &o->out) != 0)
                return ARGS_ERROR;
        } else if (args_is(&a, "--seed", NULL)) {
            if (args_value_u64(&a, &o->seed) != 0)
                return ARGS_ERROR;
            o->have_seed = 1;
        } else if (args_is(&a, "--jobs", "-j")) {
            if (args_value_u32_range(&a, &o->jobs, 1, 256) != 0)
                return ARGS_ERROR;
        } else if (args_is(&a, "--set", NULL)) {
            if (args_value(&a, &value) != 0)
                return ARGS_ERROR;
            if (o->override_count == MAX_OVERRIDES)
                return args_fail(&a, "more than %d overrides", MAX_OVERRIDES);
            o->overrides[o->override_count++] = value;
        } else if (args_is(&a, "--force", NULL)) {
            o->force = 1;
        } else if (args_is(&a, "--quiet", "-q")) {
            o->quiet = 1;
        } else if (args_is(&a, "--progress", NULL)) {
            o->progress = 1;
        } else if (args_is(&a, "--no-plot", NULL)) {
            o->no_plot = 1;
        } else {
            return args_unknown(&a);
        }
    }
    return rc == ARGS_END ? 0 : ARGS_ERROR;
}

/* The command that reruns one run, each argument quoted for the shell, and "\n": its
 * drawn values spelled out as --set (the seed alone would draw them again). */
static void write_reproduce(FILE *out, const run_options *o, const scenario *s, uint32_t run,
                            uint64_t seed, const scenario_run *drawn) {
    fputs("shardsim run", out);
    if (o->scenario) {
        fputc(' ', out);
        scli_shell_word(out, o->scenario);
    }
    if (s->config) {
        fputs(" -c ", out);
        scli_shell_word(out, s->config);
    }
    fprintf(out, " --runs %u --seed %" PRIu64, run, seed);
    for (size_t i = 0; i < o->override_count; i++) {
        fputs(" --set ", out);
        scli_shell_word(out, o->overrides[i]);
    }
    scli_write_drawn(out, drawn);
    fputc('\n', out);
}

/* A run failed: say why and how to rerun it, on stderr and in its folder's failed.txt.
 * 0, or -1 if failed.txt could not be written. */
static int note_failure(const run_options *o, const scenario *s, const scenario_run *run,
                        uint64_t seed, const scenario_run *drawn, const char *run_dir,
                        const char *reason) {
    say("run %u failed: %s", run->number, reason);
    fputs("  reproduce: ", stderr);
    write_reproduce(stderr, o, s, run->number, seed, drawn);
    char path[4200];
    snprintf(path, sizeof path, "%s/failed.txt", run_dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f, "run %u failed: %s\nreproduce: ", run->number, reason);
    write_reproduce(f, o, s, run->number, seed, drawn);
    return fclose(f) == 0 ? 0 : -1;
}

/* The run's row of runs.csv (row.csv) and its summary line (summary.txt) in run_dir.
 * r is NULL when the run produced no figures; reason is NULL for a run that
 * succeeded. 0 or -1. */
static int write_row(const scenario_run *run, uint64_t seed, const sim_result *r,
                     const char *reason, const char *run_dir) {
    char *names[64], *values[64], path[4200];
    size_t pc = run->param_count < 64 ? run->param_count : 64;
    for (size_t i = 0; i < pc; i++) {
        names[i] = run->params[i].name;
        values[i] = run->params[i].value;
    }
    snprintf(path, sizeof path, "%s/row.csv", run_dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    report_runs_row(f, run->number, run->repeat, values, pc, seed, r, reason);
    int bad = fclose(f) != 0;
    if (!r)
        return bad ? -1 : 0;
    snprintf(path, sizeof path, "%s/summary.txt", run_dir);
    FILE *g = fopen(path, "w");
    if (!g)
        return -1;
    report_summary_line(g, run->number, names, values, pc, r);
    bad |= fclose(g) != 0;
    return bad ? -1 : 0;
}

/* ---- progress: on a terminal one line redrawn in place; elsewhere, with --progress,
 * a line every 2 s. Wall-clock time here only shows progress: it never reaches a run. */

typedef struct progress_view {
    int on, tty;
    uint32_t run;
    uint64_t start_ns, last_ns;
} progress_view;

static void progress_init(progress_view *p, const run_options *o, uint32_t run) {
    memset(p, 0, sizeof *p);
    p->tty = isatty(STDERR_FILENO);
    p->on = !o->quiet && (p->tty || o->progress);
    p->run = run;
    p->start_ns = p->last_ns = env_real_monotonic_ns();
}

static void run_progress(void *arg, uint64_t now_ns, uint64_t duration_ns, uint64_t done) {
    progress_view *p = arg;
    uint64_t t = env_real_monotonic_ns();
    if (!p->on || t - p->last_ns < (p->tty ? 250000000ULL : 2000000000ULL))
        return;
    p->last_ns = t;
    double elapsed = (double)(t - p->start_ns) / 1e9;
    double frac = duration_ns ? (double)now_ns / (double)duration_ns : 1.0;
    frac = frac > 1.0 ? 1.0 : frac;
    double eta = frac > 0 ? elapsed * (1.0 - frac) / frac : 0.0;
    fprintf(stderr, "%srun %u: %.1f / %.1f s simulated, %.2f M records/s, ETA %.0f s%s",
            p->tty ? "\r\033[K" : "", p->run, (double)now_ns / 1e9, (double)duration_ns / 1e9,
            elapsed > 0 ? (double)done / elapsed / 1e6 : 0.0, eta, p->tty ? "" : "\n");
    fflush(stderr);
}

static void progress_done(const progress_view *p) {
    if (p->on && p->tty && p->last_ns != p->start_ns)
        fputs("\r\033[K", stderr); /* the summary line takes its place */
}

/* Work that accepted settings make enormous is announced before it starts: the records
 * all selected runs simulate (the peak rate times the duration), the time that takes at
 * the simulator's measured pace (bench_scenario: 2-7 M records/s; 5 M assumed), and the
 * memory one run needs (about 100 bytes per key, as bench_scenario measures, and the
 * subtasks' queues). */
#define PACE_RECORDS_PER_S 5e6

static void warn_enormous(const run_options *o, const scenario *s, const uint8_t *selected) {
    double records = 0, peak_bytes = 0;
    size_t runs = 0;
    for (size_t i = 0; i < s->run_count; i++) {
        sim_config cfg;
        uint64_t seed;
        char err[256];
        if (!selected[i] || build_run(o, &s->runs[i], &cfg, &seed, NULL, err, sizeof err) != 0)
            continue;
        double rate = cfg.rate;
        for (uint32_t k = 0; k < cfg.step_count; k++)
            rate = cfg.step_rate[k] > rate ? cfg.step_rate[k] : rate;
        records += rate * (double)cfg.duration_ns / 1e9;
        double bytes =
            100.0 * (double)cfg.keys + 40.0 * (double)cfg.parallelism * (double)cfg.queue_capacity;
        peak_bytes = bytes > peak_bytes ? bytes : peak_bytes;
        runs++;
        config_free(&cfg);
    }
    double seconds = records / PACE_RECORDS_PER_S;
    if (seconds < 120 && peak_bytes < 4e9)
        return;
    double hours = seconds / 3600;
    fprintf(stderr,
            "shardsim run: warning: %zu run(s) simulate %.3g records: about %.3g %s at ~5 M "
            "records/s, and up to %.3g %s per run; Ctrl-C stops at any moment\n",
            runs, records, hours >= 1 ? hours : seconds / 60, hours >= 1 ? "hours" : "minutes",
            peak_bytes >= 1e9 ? peak_bytes / 1e9 : peak_bytes / 1e6,
            peak_bytes >= 1e9 ? "GB" : "MB");
}

/* Simulate run `index` of s and write its folder and its row of runs.csv. A run that
 * fails (it could not run, or failed the exactly-once check) keeps its folder with
 * what it wrote, a row with status failed and its reason, and failed.txt. Returns 0,
 * or 1 when the run failed. */
static int run_one(const run_options *o, const scenario *s, size_t index, const char *dir,
                   int print_now) {
    const scenario_run *run = &s->runs[index];
    char err[512] = "", reason[600] = "", run_dir[4096];
    sim_config cfg;
    uint64_t seed = 1;
    snprintf(run_dir, sizeof run_dir, "%s/run-%03u", dir, run->number);
    if (results_mkdir_p(run_dir) != 0) {
        say("%s: cannot create: %s", run_dir, strerror(errno));
        return 1;
    }
    sim_result r;
    memset(&r, 0, sizeof r);
    scenario_run drawn;
    int rc = build_run(o, run, &cfg, &seed, &drawn, err, sizeof err);
    /* Streams derive from the repetition, not the run number: every point of a sweep
     * sees the same records and faults, so the swept policy is all that differs. */
    progress_view view;
    progress_init(&view, o, run->number);
    view.on &= print_now; /* worker processes (--jobs > 1) show only the runs done */
    if (rc == 0)
        rc = sim_run_progress(&cfg, seed, run->repeat, &r, err, sizeof err, run_progress, &view);
    progress_done(&view);
    config_free(&cfg);
    /* A run that failed may still hold what it recorded until then (its windows are
     * filled): that is the evidence to keep. */
    int have = rc == 0 || r.window_count > 0;
    if (rc != 0)
        snprintf(reason, sizeof reason, "%s", err[0] ? err : ss_strerror(rc));
    else if (!r.exactly_once_ok)
        snprintf(reason, sizeof reason, "exactly-once violated: %s", r.exactly_once_detail);
    else if (r.violation_count)
        snprintf(reason, sizeof reason, "%s violated: %s (%u violations in all)",
                 r.violations[0].invariant, r.violations[0].detail, r.violation_count);
    int io = have ? report_write_run(run_dir, &r) : 0;
    if (io != 0 && !reason[0])
        snprintf(reason, sizeof reason, "%s: could not write the run's files", run_dir);
    if (write_row(run, seed, have ? &r : NULL, reason[0] ? reason : NULL, run_dir) != 0)
        io = -1;
    if (print_now && !o->quiet && rc == 0) {
        char path[4200];
        snprintf(path, sizeof path, "%s/summary.txt", run_dir);
        results_copy_file_to(path, stdout);
    }
    if (reason[0] && note_failure(o, s, run, seed, &drawn, run_dir, reason) != 0)
        io = -1;
    scenario_run_release(&drawn);
    sim_result_free(&r);
    return reason[0] || io != 0;
}

/* Runs done of a sweep, and the ETA from the pace so far. */
static void progress(const run_options *o, uint64_t start_ns, size_t done, size_t total) {
    int tty = isatty(STDERR_FILENO);
    if (o->quiet || total < 2 || (!tty && !o->progress))
        return;
    double elapsed = (double)(env_real_monotonic_ns() - start_ns) / 1e9;
    double eta = done ? elapsed * (double)(total - done) / (double)done : 0.0;
    fprintf(stderr, "%s[%zu/%zu runs, %.0f s, ETA %.0f s]%s", tty ? "\r\033[K" : "", done, total,
            elapsed, eta, !tty || done == total ? "\n" : "");
    fflush(stderr);
}

/* Run the selected runs, J at a time in worker processes (J = 1: in this process).
 * Worker k takes the k-th, (k+J)-th, ... selected runs. Returns the number failed. */
static size_t run_all(const run_options *o, const scenario *s, const uint8_t *selected,
                      const char *dir) {
    size_t total = 0, done = 0, failed = 0;
    uint64_t start_ns = env_real_monotonic_ns();
    for (size_t i = 0; i < s->run_count; i++)
        total += selected[i];
    if (o->jobs == 1) {
        for (size_t i = 0; i < s->run_count; i++)
            if (selected[i]) {
                failed += (size_t)run_one(o, s, i, dir, 1);
                progress(o, start_ns, ++done, total);
            }
        return failed;
    }
    fflush(stdout);
    fflush(stderr);
    pid_t pids[256];
    uint32_t started = 0;
    for (uint32_t k = 0; k < o->jobs; k++) {
        pid_t pid = fork();
        if (pid == 0) {
            size_t nth = 0, bad = 0;
            for (size_t i = 0; i < s->run_count; i++)
                if (selected[i] && nth++ % o->jobs == k)
                    bad += (size_t)run_one(o, s, i, dir, 0);
            fflush(NULL);
            _exit(bad ? 1 : 0);
        }
        if (pid < 0) {
            fprintf(stderr, "shardsim run: fork: %s\n", strerror(errno));
            failed++;
            break;
        }
        pids[started++] = pid;
        results_track_child(pid);
    }
    for (uint32_t k = 0; k < started; k++) {
        int status = 0;
        while (waitpid(pids[k], &status, 0) < 0 && errno == EINTR)
            ;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            failed++;
        done += (total - k + o->jobs - 1) / o->jobs; /* worker k's runs: the k-th, (k+J)-th, ... */
        progress(o, start_ns, done < total ? done : total, total);
    }
    results_track_child(0);
    /* Summaries in run order, whatever order the workers finished in. */
    if (!o->quiet)
        for (size_t i = 0; i < s->run_count; i++)
            if (selected[i]) {
                char path[4096];
                snprintf(path, sizeof path, "%s/run-%03u/summary.txt", dir, s->runs[i].number);
                results_copy_file_to(path, stdout);
            }
    return failed;
}

/* runs.csv from the per-run rows, in run order; the per-run row files are removed. */
static int write_runs_csv(const scenario *s, const uint8_t *selected, const char *dir) {
    char path[4096];
    snprintf(path, sizeof path, "%s/runs.csv", dir);
    FILE *out = fopen(path, "w");
    if (!out)
        return SS_EIO;
    report_runs_header(out, s->param_names, s->param_name_count);
    for (size_t i = 0; i < s->run_count; i++) {
        if (!selected[i])
            continue;
        char row[4096];
        snprintf(row, sizeof row, "%s/run-%03u/row.csv", dir, s->runs[i].number);
        results_copy_file_to(row, out);
        remove(row); /* summary.txt stays: the report page shows it */
    }
    return fclose(out) == 0 ? 0 : SS_EIO;
}

/* The coordination the runs used ("none", "mock", "zookeeper", in run order without
 * repeats) and whether any ran in real time against a real service: then the results
 * carry no determinism promise, and the manifest says so. */
static void coordination_facts(const run_options *o, const scenario *s, json_t *m) {
    json_t *used = json_array();
    int real_time = 0;
    for (size_t i = 0; i < s->run_count; i++) {
        sim_config cfg;
        uint64_t seed;
        char err[256];
        if (build_run(o, &s->runs[i], &cfg, &seed, NULL, err, sizeof err) != 0)
            continue;
        const coord_backend *b =
            cfg.coordination == SIM_COORD_HA ? coord_backend_find(cfg.coord_backend) : NULL;
        const char *name = b ? b->name : "none";
        real_time |= b && b->real_time;
        int seen = 0;
        for (size_t k = 0; k < json_array_size(used); k++)
            seen |= strcmp(json_string_value(json_array_get(used, k)), name) == 0;
        if (!seen)
            json_array_append_new(used, json_string(name));
        config_free(&cfg);
    }
    json_object_set_new(m, "coordination", used);
    json_object_set_new(m, "real_time", json_boolean(real_time));
    json_object_set_new(m, "deterministic", json_boolean(!real_time));
}

/* Runs with draws: the values each run drew, as manifest "drawn": [{"run": N, "set":
 * ["KEY=VALUE", ...]}], what --set takes to replay the run. Absent without draws. */
static void drawn_values(const run_options *o, const scenario *s, json_t *m) {
    json_t *runs = json_array();
    for (size_t i = 0; i < s->run_count; i++) {
        sim_config cfg;
        uint64_t seed;
        char err[256];
        scenario_run drawn;
        json_t *set = json_array();
        if (build_run(o, &s->runs[i], &cfg, &seed, &drawn, err, sizeof err) == 0)
            config_free(&cfg);
        for (size_t k = 0; k < drawn.assign_count; k++)
            if (drawn.assigns[k].draw)
                json_array_append_new(
                    set, json_sprintf("%s=%s", drawn.assigns[k].key, drawn.assigns[k].value));
        scenario_run_release(&drawn);
        if (json_array_size(set) == 0) {
            json_decref(set);
            continue;
        }
        json_t *run = json_object();
        json_object_set_new(run, "run", json_integer((json_int_t)s->runs[i].number));
        json_object_set_new(run, "set", set);
        json_array_append_new(runs, run);
    }
    if (json_array_size(runs))
        json_object_set_new(m, "drawn", runs);
    else
        json_decref(runs);
}

static int write_manifest(const run_options *o, const scenario *s, int argc, char **argv,
                          const char *dir, uint64_t seed) {
    char stamp[32] = "";
    env_real_utc_stamp(stamp, sizeof stamp, 1);
    json_t *m = json_object();
    json_t *cmd = json_array();
    json_array_append_new(cmd, json_string("shardsim"));
    for (int i = 0; i < argc; i++)
        json_array_append_new(cmd, json_string(argv[i]));
    json_t *params = json_array();
    for (size_t i = 0; i < s->param_name_count; i++)
        json_array_append_new(params, json_string(s->param_names[i]));
    json_object_set_new(m, "shardsim_version", json_string(sim_version()));
    json_object_set_new(m, "scenario", json_string(s->name));
    json_object_set_new(m, "config", s->config ? json_string(s->config) : json_null());
    json_object_set_new(m, "scenario_path", s->path ? json_string(s->path) : json_null());
    json_object_set_new(m, "scenario_text", json_string(s->text ? s->text : ""));
    json_object_set_new(m, "seed", o->have_seed ? json_integer((json_int_t)seed) : json_null());
    json_object_set_new(m, "runs", json_integer((json_int_t)s->run_count));
    json_object_set_new(m, "parameters", params);
    json_object_set_new(m, "command_line", cmd);
    json_object_set_new(m, "created_utc", json_string(stamp));
    coordination_facts(o, s, m);
    drawn_values(o, s, m);
    char path[4096];
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    int rc = json_dump_file(m, path, JSON_INDENT(2) | JSON_SORT_KEYS) == 0 ? 0 : SS_EIO;
    json_decref(m);
    return rc;
}

/* What a run was, for plot titles and the report page: "failover run 7: T=10
 * fault=20 crash-leader 0" (with the config's name after the scenario's). */
static void run_title(const scenario *s, const scenario_run *run, char *out, size_t size) {
    int n = snprintf(out, size, "%s%s%s run %u", s->name, s->config ? " " : "",
                     s->config ? s->config : "", run->number);
    for (size_t p = 0; p < run->param_count && n > 0 && (size_t)n < size; p++)
        n += snprintf(out + n, size - (size_t)n, "%s%s=%s", p ? " " : ": ", run->params[p].name,
                      run->params[p].value);
}

/* text as a gnuplot single-quoted string's contents (a quote is doubled). */
static void gp_quote(const char *text, char *out, size_t size) {
    size_t o = 0;
    for (; *text && o + 3 < size; text++) {
        if (*text == '\'')
            out[o++] = '\'';
        out[o++] = *text;
    }
    out[o] = '\0';
}

/* The job managers of run (0: none, or its config no longer builds), for the split-brain
 * plot's rows: one per job manager, whether it ever led or not. */
static unsigned run_job_managers(const run_options *o, const scenario_run *run) {
    sim_config cfg;
    uint64_t seed = 1;
    char err[512];
    if (build_run(o, run, &cfg, &seed, NULL, err, sizeof err) != 0)
        return 0;
    unsigned jms = cfg.coordination == SIM_COORD_HA ? cfg.job_managers : 0;
    config_free(&cfg);
    return jms;
}

static void plot_all(const run_options *o, const scenario *s, const uint8_t *selected,
                     const char *dir) {
    char run_dir[4096], vars[8192], title[1024], quoted[2100];
    size_t warned = 0;
    for (size_t i = 0; i < s->run_count; i++) {
        if (!selected[i])
            continue;
        snprintf(run_dir, sizeof run_dir, "%s/run-%03u", dir, s->runs[i].number);
        char series[4200];
        snprintf(series, sizeof series, "%s/timeseries.csv", run_dir);
        if (access(series, R_OK) != 0) /* a run that failed before it had any */
            continue;
        run_title(s, &s->runs[i], title, sizeof title);
        gp_quote(title, quoted, sizeof quoted);
        snprintf(vars, sizeof vars, "dir='%s'; name='%s'; jobmanagers=%u", run_dir, quoted,
                 run_job_managers(o, &s->runs[i]));
        if (results_gnuplot("run.gp", vars) != 0 && !warned++)
            fprintf(stderr, "shardsim run: warning: gnuplot failed; plots are missing\n");
    }
    if (s->param_name_count > 0) {
        const char *what = s->param_name_count > 1 ? s->param_names[1] : "";
        char name[600];
        snprintf(name, sizeof name, "%s%s%s", s->name, s->config ? " " : "",
                 s->config ? s->config : "");
        gp_quote(name, quoted, sizeof quoted);
        int series = 0, categorical = 0;
        if (sweep_write_plot(s, dir, &series, &categorical) == 0) {
            snprintf(vars, sizeof vars,
                     "dir='%s'; name='%s'; param='%s'; by='%s'; series=%d; categorical=%d", dir,
                     quoted, s->param_names[0], what, series, categorical);
            if (results_gnuplot("sweep.gp", vars) != 0 && !warned++)
                fprintf(stderr, "shardsim run: warning: gnuplot failed; plots are missing\n");
        }
        if (sweep_write_downtime(s, dir, &series) == 0) {
            snprintf(vars, sizeof vars, "dir='%s'; name='%s'; param='%s'; series=%d", dir, quoted,
                     s->param_names[0], series);
            if (results_gnuplot("sweep_downtime.gp", vars) != 0 && !warned++)
                fprintf(stderr, "shardsim run: warning: gnuplot failed; plots are missing\n");
        }
    }
}

/* index.html: the run table, each run's summary, failovers and plots. */
static int write_page(const scenario *s, const uint8_t *selected, const char *dir) {
    report_page_run *runs = calloc(s->run_count ? s->run_count : 1, sizeof *runs);
    char(*names)[2][1024] = calloc(s->run_count ? s->run_count : 1, sizeof *names);
    size_t n = 0;
    int rc = runs && names ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < s->run_count; i++) {
        if (!selected[i])
            continue;
        snprintf(names[n][0], sizeof names[n][0], "run-%03u", s->runs[i].number);
        run_title(s, &s->runs[i], names[n][1], sizeof names[n][1]);
        runs[n] = (report_page_run){names[n][0], names[n][1], ""};
        n++;
    }
    char title[600];
    snprintf(title, sizeof title, "shardsim run %s%s%s", s->name, s->config ? " -c " : "",
             s->config ? s->config : "");
    if (rc == 0)
        rc = report_page_write(dir, title, runs, n);
    free(runs);
    free(names);
    return rc;
}

/* Choose the final folder and make its parent. *link_dir receives the folder in which
 * a `latest` link is to be made ("" for --out). */
static int choose_folder(const run_options *o, const scenario *s, char *final, size_t size,
                         char *link_dir, size_t link_size) {
    link_dir[0] = '\0';
    if (o->out) {
        snprintf(final, size, "%s", o->out);
    } else {
        char stamp[32];
        if (env_real_utc_stamp(stamp, sizeof stamp, 0) != 0)
            return SS_EIO;
        snprintf(link_dir, link_size, "results/%s%s%s", s->name, s->config ? "-" : "",
                 s->config ? s->config : "");
        snprintf(final, size, "%s/%s", link_dir, stamp);
        struct stat st;
        size_t len = strlen(final);
        for (int k = 2; lstat(final, &st) == 0 && k < 1000; k++) /* two runs in one second */
            snprintf(final + len, size - len, "-%d", k);
    }
    return results_mkdir_parent(final);
}

int cli_run(int argc, char **argv) {
    run_options o;
    int rc = parse_options(argc, argv, &o);
    if (rc != 0)
        return rc == 1 ? 0 : 2;

    char path[4096], err[1024] = "";
    int builtin = scli_resolve("run", o.scenario, path, sizeof path);
    if (builtin < 0)
        return 2;
    scenario *s = NULL;
    rc = scli_load(builtin ? NULL : path, o.config, o.overrides, o.override_count, &s, err,
                   sizeof err);
    if (rc != 0) {
        say("%s", err);
        return 2;
    }
    uint8_t *selected = calloc(s->run_count ? s->run_count : 1, 1);
    if (!selected) {
        scenario_free(s);
        return 2;
    }
    if (o.runs) {
        if (parse_run_list(o.runs, s->run_count, selected) != 0) {
            say("--runs: '%s' is not a list of run numbers below %zu (e.g. 0,3,5-7)", o.runs,
                s->run_count);
            free(selected);
            scenario_free(s);
            return 2;
        }
    } else {
        memset(selected, 1, s->run_count);
    }

    char final[4096], tmp[4200], link_dir[4096];
    if (o.out && results_check_out(o.out, o.force, err, sizeof err) != 0) {
        say("--out: %s: %s", o.out, err);
        free(selected);
        scenario_free(s);
        return 2;
    }
    if (choose_folder(&o, s, final, sizeof final, link_dir, sizeof link_dir) != 0 ||
        results_begin(final, tmp, sizeof tmp) != 0) {
        say("%s: cannot create the result folder: %s", final, strerror(errno));
        free(selected);
        scenario_free(s);
        return 2;
    }
    results_guard_signals();
    warn_enormous(&o, s, selected);
    size_t failed = run_all(&o, s, selected, tmp);
    int io = write_runs_csv(s, selected, tmp);
    if (io == 0)
        io = write_manifest(&o, s, argc - 1, argv + 1, tmp, o.seed);
    if (io == 0 && !o.no_plot)
        plot_all(&o, s, selected, tmp);
    if (io == 0)
        io = write_page(s, selected, tmp);
    if (io == 0)
        io = results_replace_dir(tmp, final);
    if (io != 0) {
        say("%s: could not write the results: %s", final, strerror(errno));
        results_abort(tmp);
        free(selected);
        scenario_free(s);
        return 2;
    }
    if (link_dir[0])
        results_link_latest(link_dir, final);
    if (!o.quiet)
        printf("results: %s/index.html (the report page; runs.csv, manifest.json, run-NNN/*.csv "
               "and plots)\n",
               final);
    free(selected);
    scenario_free(s);
    return failed ? 1 : 0;
}
