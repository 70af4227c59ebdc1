/* cmd_check.c -- `shardsim check`: a failure-injection campaign over a range of seeds.
 *
 * Each seed of the range (or of one shard of it, --shard I/N) runs the scenario's one
 * run with that seed (repetition 0): its draws (scenario.h) and its fault schedule come
 * from the seed, and every invariant the run checks is collected -- sim_result's
 * violations, exactly-once, a run that did not finish, a stale commit with fencing on
 * (check_seed.c, which `shrink` shares).
 * A failing seed prints one line and a command that replays it. The campaign's summary
 * goes to stdout and, with --out DIR, to DIR/summary.json with DIR/seeds.csv (one row
 * per seed). `check --merge DIR...` adds up the summaries of shards run apart (GNU
 * parallel, a Slurm job array).
 *
 * With --jobs J, J worker processes take every J-th seed and send their outcomes back
 * through pipes; the parent reads them in seed order, so the output is the same for
 * every J (but for the wall-clock figures: seeds_per_second, wall_seconds). */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "sim/cli/args.h"
#include "sim/cli/check_seed.h"
#include "sim/cli/cli.h"
#include "sim/cli/scenario_cli.h"
#include "sim/config.h"
#include "sim/csv.h"
#include "sim/env_real.h"
#include "sim/results.h"
#include "sim/version.h"

#define MAX_OVERRIDES 64
#define MAX_DIRS 256
#define MAX_JOBS 256
#define MAX_SHARDS 10000
#define FAILING_LISTED 100 /* failing_seeds lists the first ones */
#define MAX_SEED INT64_MAX /* seeds go to JSON as integers */

#define say(...) scli_say("check", __VA_ARGS__)

typedef struct check_options {
    const char *scenario, *config, *out;
    uint64_t first, last; /* --seeds A..B */
    int have_seeds;
    uint32_t shard, shards; /* --shard I/N (1/1: every seed) */
    uint32_t jobs;
    int force, quiet, merge, fail_fast;
    const char *overrides[MAX_OVERRIDES];
    size_t override_count;
    const char *dirs[MAX_DIRS]; /* --merge's folders */
    size_t dir_count;
} check_options;

/* The campaign's running totals, in seed order. */
typedef struct tally {
    uint64_t run, failed, failovers, elections, stale_commits;
    uint64_t kind_seeds[CHECK_MAX_KINDS];
    json_t *by_invariant, *failing; /* {name: seeds}, [first failing seeds] */
} tally;

static void usage(FILE *out) {
    fputs(
        "usage: shardsim check SCENARIO --seeds A..B [-c CONFIG] [--shard I/N] [--jobs J]\n"
        "                      [--set KEY=VALUE]... [--out DIR [--force]] [--quiet] [--fail-fast]\n"
        "       shardsim check --merge DIR... [--out DIR [--force]] [--quiet]\n\n"
        "Runs the scenario once per seed from A to B (each seed draws the scenario's ranges\n"
        "and choices, e.g. `session_timeout_s = 4..12`, `fencing = {0,1}`, and its\n"
        "random_faults schedule) and checks every invariant: the run's violations\n"
        "(exactly-once, key groups, HA epochs, ...), a run that did not finish\n"
        "(`finished`), a commit by a deposed leader with fencing on (`stale-commit`).\n"
        "Each failing seed prints `seed S: INVARIANT: detail` and a command that replays\n"
        "it; then a summary (seeds run and failed, failures by invariant, seeds per\n"
        "second, the seeds in which each fault kind occurred, failovers, elections, stale\n"
        "commits). Exit 0: every seed passed; 1: a seed failed; 2: bad input.\n\n"
        "  SCENARIO       an .ini file or a shipped scenario's name (e.g. campaign); its\n"
        "                 config must be one run (no sweep, repeat = 1)\n"
        "  -c CONFIG      the [Config CONFIG] section (default: [General])\n"
        "  --seeds A..B   the seeds, both ends included (A <= B)\n"
        "  --shard I/N    only the seeds S with (S - A) % N == I - 1 (1 <= I <= N): N\n"
        "                 shards cover the range once, e.g. under GNU parallel or a\n"
        "                 Slurm job array (--shard $SLURM_ARRAY_TASK_ID/N)\n"
        "  --jobs J       J worker processes (default 1); the output is the same for any J\n"
        "  --set K=V      override a scenario key (repeatable; ranges and choices allowed)\n"
        "  --out DIR      write DIR/summary.json and DIR/seeds.csv (seed, status,\n"
        "                 invariant, trace_digest); DIR must not exist or be empty, or be\n"
        "                 an earlier shardsim result replaced with --force\n"
        "  --force        let --out replace an earlier shardsim result folder\n"
        "  --quiet        no summary on stdout (failing seeds are still printed)\n"
        "  --fail-fast    stop at the first failing seed (seeds_run says how far it got)\n"
        "  --merge DIR... add up the summary.json of shards' --out folders (same scenario,\n"
        "                 config and --set; shards must not overlap); exit 1 if any seed\n"
        "                 failed. failing_seeds keeps the first 100 the shards listed;\n"
        "                 seeds_per_second is per process (seeds over summed wall time)\n",
        out);
}

/* ---------- options ---------- */

/* "A..B" into *first, *last: 0, or -1. */
static int parse_seeds(const char *text, uint64_t *first, uint64_t *last) {
    const char *dots = strstr(text, "..");
    char lo[32];
    if (!dots || (size_t)(dots - text) >= sizeof lo)
        return -1;
    snprintf(lo, sizeof lo, "%.*s", (int)(dots - text), text);
    if (args_parse_u64(lo, first) != 0 || args_parse_u64(dots + 2, last) != 0)
        return -1;
    return *first <= *last && *last <= MAX_SEED ? 0 : -1;
}

/* "I/N" into *index, *count: 0, or -1. */
static int parse_shard(const char *text, uint32_t *index, uint32_t *count) {
    const char *slash = strchr(text, '/');
    char i[16];
    if (!slash || (size_t)(slash - text) >= sizeof i)
        return -1;
    snprintf(i, sizeof i, "%.*s", (int)(slash - text), text);
    if (args_parse_u32(i, index) != 0 || args_parse_u32(slash + 1, count) != 0)
        return -1;
    return *index >= 1 && *index <= *count && *count <= MAX_SHARDS ? 0 : -1;
}

/* One flag of check's; ARGS_ERROR after a message. */
static int take_flag(args_state *a, check_options *o) {
    const char *value;
    if (args_is(a, "--config", "-c"))
        return args_value(a, &o->config);
    if (args_is(a, "--out", NULL))
        return args_value(a, &o->out);
    if (args_is(a, "--jobs", "-j"))
        return args_value_u32_range(a, &o->jobs, 1, MAX_JOBS);
    if (args_is(a, "--seeds", NULL)) {
        if (args_value(a, &value) != 0)
            return ARGS_ERROR;
        o->have_seeds = 1;
        if (parse_seeds(value, &o->first, &o->last) != 0)
            return args_fail(a, "'%s' is not a range A..B of seeds (whole numbers, A <= B)", value);
        return 0;
    }
    if (args_is(a, "--shard", NULL)) {
        if (args_value(a, &value) != 0)
            return ARGS_ERROR;
        if (parse_shard(value, &o->shard, &o->shards) != 0)
            return args_fail(a, "'%s' is not a shard I/N with 1 <= I <= N <= %d", value,
                             MAX_SHARDS);
        return 0;
    }
    if (args_is(a, "--set", NULL))
        return check_take_set(a, o->overrides, &o->override_count, MAX_OVERRIDES);
    if (args_is(a, "--force", NULL))
        o->force = 1;
    else if (args_is(a, "--quiet", "-q"))
        o->quiet = 1;
    else if (args_is(a, "--merge", NULL))
        o->merge = 1;
    else if (args_is(a, "--fail-fast", NULL))
        o->fail_fast = 1;
    else
        return args_unknown(a);
    return 0;
}

/* 0, 1 (--help shown), or ARGS_ERROR. */
static int parse_options(int argc, char **argv, check_options *o) {
    memset(o, 0, sizeof *o);
    o->jobs = 1;
    o->shard = o->shards = 1;
    args_state a;
    args_init(&a, "check", argc, argv);
    int rc;
    while ((rc = args_next(&a)) == ARGS_FLAG || rc == ARGS_POSITIONAL) {
        if (rc == ARGS_POSITIONAL) {
            if (o->dir_count == MAX_DIRS)
                return args_fail(&a, "more than %d arguments", MAX_DIRS);
            o->dirs[o->dir_count++] = args_current(&a);
        } else if (args_is(&a, "--help", "-h")) {
            usage(stdout);
            return 1;
        } else if (take_flag(&a, o) != 0) {
            return ARGS_ERROR;
        }
    }
    if (rc != ARGS_END)
        return ARGS_ERROR;
    if (o->merge) {
        if (o->dir_count == 0)
            return say("--merge: name the shards' --out folders"), ARGS_ERROR;
        if (o->have_seeds || o->config || o->override_count || o->shards != 1)
            return say("--merge: takes folders only (no --seeds, -c, --set, --shard)"), ARGS_ERROR;
        return 0;
    }
    if (o->dir_count == 0)
        return say("missing SCENARIO (try shardsim check --help)"), ARGS_ERROR;
    if (o->dir_count > 1)
        return say("unexpected argument '%s' (one scenario)", o->dirs[1]), ARGS_ERROR;
    o->scenario = o->dirs[0];
    if (!o->have_seeds)
        return say("--seeds: missing (e.g. --seeds 1..1000)"), ARGS_ERROR;
    return 0;
}

/* ---------- the seeds, in worker processes ---------- */

typedef struct campaign {
    const check_options *o;
    const scenario_run *run;
    uint64_t count; /* seeds of the shard */
    uint32_t workers;
    int fds[MAX_JOBS];
    pid_t pids[MAX_JOBS];
} campaign;

static uint64_t seed_at(const check_options *o, uint64_t k) {
    return o->first + (o->shard - 1) + k * o->shards;
}

static int write_full(int fd, const void *buf, size_t len) {
    const char *p = buf;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n, len -= (size_t)n;
    }
    return 0;
}

static int read_full(int fd, void *buf, size_t len) {
    char *p = buf;
    while (len) {
        ssize_t n = read(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n, len -= (size_t)n;
    }
    return 0;
}

/* Start c->o->jobs workers (none for one job: the seeds run in this process). Worker w
 * checks seeds w, w + J, ... of the shard and writes their outcomes to its pipe. */
static int start_workers(campaign *c) {
    c->workers = 0;
    if (c->o->jobs == 1)
        return 0;
    fflush(stdout);
    fflush(stderr);
    for (uint32_t w = 0; w < c->o->jobs; w++) {
        int p[2];
        if (pipe(p) != 0)
            return -1;
        pid_t pid = fork();
        if (pid == 0) {
            close(p[0]);
            for (uint32_t k = 0; k < c->workers; k++)
                close(c->fds[k]);
            for (uint64_t k = w; k < c->count; k += c->o->jobs) {
                check_outcome out;
                check_run_seed(c->run, seed_at(c->o, k), &out);
                if (write_full(p[1], &out, sizeof out) != 0)
                    _exit(1);
            }
            _exit(0);
        }
        close(p[1]);
        if (pid < 0) {
            close(p[0]);
            return -1;
        }
        c->fds[c->workers] = p[0];
        c->pids[c->workers++] = pid;
        results_track_child(pid);
    }
    return 0;
}

/* The outcome of the k-th seed of the shard, in order. 0, or -1 if a worker died. */
static int next_outcome(campaign *c, uint64_t k, check_outcome *out) {
    if (c->workers == 0) {
        check_run_seed(c->run, seed_at(c->o, k), out);
        return 0;
    }
    return read_full(c->fds[k % c->workers], out, sizeof *out);
}

/* Wait for the workers: 0 if every one exited cleanly. With --fail-fast after a
 * failure, the workers still running are stopped (SIGTERM) instead. */
static int stop_workers(campaign *c, int stop_now) {
    int bad = 0;
    for (uint32_t w = 0; w < c->workers; w++) {
        close(c->fds[w]);
        if (stop_now) {
            kill(c->pids[w], SIGTERM);
            while (waitpid(c->pids[w], NULL, 0) < 0 && errno == EINTR)
                ;
            continue;
        }
        int status = 0;
        while (waitpid(c->pids[w], &status, 0) < 0 && errno == EINTR)
            ;
        bad |= !WIFEXITED(status) || WEXITSTATUS(status) != 0;
    }
    results_track_child(0);
    c->workers = 0;
    return bad ? -1 : 0;
}

/* ---------- output ---------- */

/* The name of fault kind k ("crash-worker", ...) as the `faults` key spells it. */
static void kind_name(int kind, char *out, size_t size) {
    sim_fault f = {.kind = kind};
    char text[128], name[64] = "";
    config_format_faults(&f, 1, text, sizeof text);
    if (sscanf(text, "%*s %63s", name) != 1)
        snprintf(name, sizeof name, "kind-%d", kind);
    snprintf(out, size, "%s", name);
}

/* The command that replays one seed: the campaign's own, for that seed alone, with the
 * values it drew spelled out. */
static void write_reproducer(FILE *out, const check_options *o, const scenario *s, uint64_t seed) {
    fputs("shardsim check ", out);
    scli_shell_word(out, o->scenario);
    if (s->config) {
        fputs(" -c ", out);
        scli_shell_word(out, s->config);
    }
    fprintf(out, " --seeds %" PRIu64 "..%" PRIu64, seed, seed);
    check_write_sets(out, o->overrides, o->override_count);
    sim_config cfg;
    uint64_t used;
    char err[256];
    scenario_run drawn;
    if (scli_build_run(&s->runs[0], &seed, &cfg, &used, &drawn, err, sizeof err) == 0)
        config_free(&cfg);
    scli_write_drawn(out, &drawn);
    scenario_run_release(&drawn);
    fputc('\n', out);
}

static void json_add(json_t *obj, const char *key, uint64_t n) {
    json_t *v = json_object_get(obj, key);
    json_object_set_new(obj, key, json_integer((json_int_t)n + (v ? json_integer_value(v) : 0)));
}

/* Count one seed's outcome; print it if it failed; its row of seeds.csv (csv: NULL
 * for none). */
static void count_outcome(tally *t, const check_outcome *oc, const check_options *o,
                          const scenario *s, FILE *csv) {
    t->run++;
    t->failovers += oc->failovers;
    t->elections += oc->elections;
    t->stale_commits += oc->stale_commits;
    for (int k = 0; k < CHECK_MAX_KINDS; k++)
        t->kind_seeds[k] += (oc->fault_kinds >> k) & 1u;
    char names[CHECK_MAX_FAILS * 25] = "";
    for (uint32_t i = 0; i < oc->fail_count && i < CHECK_MAX_FAILS; i++) {
        json_add(t->by_invariant, oc->invariant[i], 1);
        strcat(names, i ? ";" : "");
        strcat(names, oc->invariant[i]);
    }
    if (csv) {
        fprintf(csv, "%" PRIu64 ",%s,", oc->seed, oc->fail_count ? "fail" : "ok");
        csv_field(csv, names);
        fprintf(csv, ",%016" PRIx64 "\n", oc->trace_digest);
    }
    if (!oc->fail_count)
        return;
    t->failed++;
    if (json_array_size(t->failing) < FAILING_LISTED)
        json_array_append_new(t->failing, json_integer((json_int_t)oc->seed));
    printf("seed %" PRIu64 ": %s: %s", oc->seed, oc->invariant[0], oc->detail[0]);
    if (oc->fail_count > 1)
        printf(" (also: %s)", strchr(names, ';') + 1);
    fputs("\n  reproduce: ", stdout);
    write_reproducer(stdout, o, s, oc->seed);
    fflush(stdout);
}

/* The summary of a campaign (the layout --merge reads back). */
static json_t *summary_of(const check_options *o, const scenario *s, const tally *t,
                          double wall_s) {
    json_t *m = json_object(), *set = json_array(), *kinds = json_object();
    for (size_t i = 0; i < o->override_count; i++)
        json_array_append_new(set, json_string(o->overrides[i]));
    for (int k = 0; k < CHECK_MAX_KINDS; k++) {
        char name[64];
        if (!t->kind_seeds[k])
            continue;
        kind_name(k, name, sizeof name);
        json_add(kinds, name, t->kind_seeds[k]);
    }
    json_t *piece =
        json_pack("{sIsIsIsI}", "first", (json_int_t)o->first, "last", (json_int_t)o->last, "index",
                  (json_int_t)o->shard, "count", (json_int_t)o->shards);
    json_object_set_new(m, "shardsim_version", json_string(sim_version()));
    json_object_set_new(m, "scenario", json_string(s->name));
    json_object_set_new(m, "config", s->config ? json_string(s->config) : json_null());
    json_object_set_new(m, "set", set);
    json_object_set_new(
        m, "seeds",
        json_pack("{sIsI}", "first", (json_int_t)o->first, "last", (json_int_t)o->last));
    json_object_set_new(m, "shard", json_sprintf("%u/%u", o->shard, o->shards));
    json_object_set_new(m, "parts", json_pack("[o]", piece));
    json_object_set_new(m, "seeds_run", json_integer((json_int_t)t->run));
    json_object_set_new(m, "seeds_failed", json_integer((json_int_t)t->failed));
    json_object_set_new(m, "failures_by_invariant", json_incref(t->by_invariant));
    json_object_set_new(m, "failing_seeds", json_incref(t->failing));
    json_object_set_new(m, "fault_kinds", kinds);
    json_object_set_new(m, "failovers", json_integer((json_int_t)t->failovers));
    json_object_set_new(m, "elections", json_integer((json_int_t)t->elections));
    json_object_set_new(m, "stale_commits", json_integer((json_int_t)t->stale_commits));
    json_object_set_new(m, "wall_seconds", json_real(wall_s));
    json_object_set_new(m, "seeds_per_second",
                        json_real(wall_s > 0 ? (double)t->run / wall_s : 0.0));
    return m;
}

static int cmp_strings(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* "name N, name N" of a JSON object of counts, by name. */
static void print_counts(const char *title, json_t *counts) {
    size_t n = json_object_size(counts), k = 0;
    if (n == 0)
        return;
    const char **keys = calloc(n, sizeof *keys);
    const char *key;
    json_t *v;
    json_object_foreach(counts, key, v) {
        if (keys && k < n)
            keys[k++] = key;
    }
    if (keys)
        qsort(keys, k, sizeof *keys, cmp_strings);
    printf("  %s:", title);
    for (size_t i = 0; i < k; i++)
        printf("%s %s %" JSON_INTEGER_FORMAT, i ? "," : "", keys[i],
               json_integer_value(json_object_get(counts, keys[i])));
    putchar('\n');
    free(keys);
}

static json_int_t get_int(const json_t *m, const char *key) {
    return json_integer_value(json_object_get(m, key));
}

static void print_summary(const json_t *m) {
    json_t *seeds = json_object_get(m, "seeds"), *config = json_object_get(m, "config");
    const char *shard = json_string_value(json_object_get(m, "shard"));
    char merged[32];
    if (!shard) { /* a merge: its number of shards */
        snprintf(merged, sizeof merged, "%zu merged", json_array_size(json_object_get(m, "parts")));
        shard = merged;
    }
    printf("check %s%s%s: seeds %" JSON_INTEGER_FORMAT "..%" JSON_INTEGER_FORMAT
           "%s%s: %" JSON_INTEGER_FORMAT " run, %" JSON_INTEGER_FORMAT " failed, %.1f seeds/s\n",
           json_string_value(json_object_get(m, "scenario")), json_is_string(config) ? " -c " : "",
           json_is_string(config) ? json_string_value(config) : "", get_int(seeds, "first"),
           get_int(seeds, "last"),
           json_is_string(json_object_get(m, "shard")) ? ", shard " : ", shards ", shard,
           get_int(m, "seeds_run"), get_int(m, "seeds_failed"),
           json_number_value(json_object_get(m, "seeds_per_second")));
    print_counts("failures by invariant (seeds)", json_object_get(m, "failures_by_invariant"));
    print_counts("fault kinds (seeds with one)", json_object_get(m, "fault_kinds"));
    printf("  failovers %" JSON_INTEGER_FORMAT ", elections %" JSON_INTEGER_FORMAT
           ", stale commits %" JSON_INTEGER_FORMAT "\n",
           get_int(m, "failovers"), get_int(m, "elections"), get_int(m, "stale_commits"));
}

/* Write summary.json into dir. 0 or -1. */
static int write_summary(const json_t *m, const char *dir) {
    char path[4200];
    snprintf(path, sizeof path, "%s/summary.json", dir);
    return json_dump_file(m, path, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_REAL_PRECISION(6)) == 0
               ? 0
               : -1;
}

/* ---------- --out ---------- */

typedef struct out_folder {
    char final[4096], tmp[4200];
    int open;
} out_folder;

/* Check --out and make its temporary folder (nothing without --out). 0, or 2 after an
 * error line. */
static int out_begin(const check_options *o, out_folder *f) {
    char err[512];
    memset(f, 0, sizeof *f);
    if (!o->out)
        return 0;
    if (results_check_out(o->out, o->force, err, sizeof err) != 0) {
        say("--out: %s: %s", o->out, err);
        return 2;
    }
    snprintf(f->final, sizeof f->final, "%s", o->out);
    if (results_mkdir_parent(f->final) != 0 || results_begin(f->final, f->tmp, sizeof f->tmp)) {
        say("--out: %s: cannot create the folder: %s", o->out, strerror(errno));
        return 2;
    }
    results_guard_signals();
    f->open = 1;
    return 0;
}

/* Put the folder in place with summary.json (if ok), or drop it. 0, or 2. */
static int out_end(out_folder *f, const json_t *summary, int ok) {
    if (!f->open)
        return ok ? 0 : 2;
    if (ok && write_summary(summary, f->tmp) == 0 && results_replace_dir(f->tmp, f->final) == 0)
        return 0;
    say("--out: %s: could not write the results: %s", f->final, strerror(errno));
    results_abort(f->tmp);
    return 2;
}

/* ---------- a campaign ---------- */

static int run_campaign(const check_options *o) {
    scenario *s = NULL;
    out_folder folder;
    if (check_load("check", o->scenario, o->config, o->overrides, o->override_count, &s) != 0)
        return 2;
    if (out_begin(o, &folder) != 0) {
        scenario_free(s);
        return 2;
    }
    FILE *csv = NULL;
    if (folder.open) {
        char path[4300];
        snprintf(path, sizeof path, "%s/seeds.csv", folder.tmp);
        csv = fopen(path, "w");
        if (csv)
            fputs("seed,status,invariant,trace_digest\n", csv);
    }
    campaign c = {.o = o, .run = &s->runs[0]};
    uint64_t span = o->last - o->first; /* the shard's seeds: first + (I-1) + k N <= last */
    c.count = o->shard - 1 <= span ? (span - (o->shard - 1)) / o->shards + 1 : 0;
    tally t = {.by_invariant = json_object(), .failing = json_array()};
    uint64_t start_ns = env_real_monotonic_ns();
    int ok = (!folder.open || csv) && start_workers(&c) == 0;
    for (uint64_t k = 0; ok && k < c.count && !(o->fail_fast && t.failed); k++) {
        check_outcome oc;
        ok = next_outcome(&c, k, &oc) == 0;
        if (ok)
            count_outcome(&t, &oc, o, s, csv);
    }
    ok &= stop_workers(&c, o->fail_fast && t.failed) == 0;
    if (!ok)
        say("a worker process failed (%s)", strerror(errno));
    double wall_s = (double)(env_real_monotonic_ns() - start_ns) / 1e9;
    json_t *summary = summary_of(o, s, &t, wall_s);
    if (csv && fclose(csv) != 0)
        ok = 0;
    if (!o->quiet && ok)
        print_summary(summary);
    int rc = out_end(&folder, summary, ok);
    json_decref(summary);
    json_decref(t.by_invariant);
    json_decref(t.failing);
    scenario_free(s);
    return rc ? rc : t.failed ? 1 : 0;
}

/* ---------- --merge ---------- */

typedef struct shard_part {
    uint64_t first, last, index, count;
} shard_part;

static shard_part part_of(const json_t *p) {
    shard_part x = {(uint64_t)get_int(p, "first"), (uint64_t)get_int(p, "last"),
                    (uint64_t)get_int(p, "index"), (uint64_t)get_int(p, "count")};
    return x;
}

static int part_has(const shard_part *p, uint64_t seed) {
    return seed >= p->first && seed <= p->last && (seed - p->first) % p->count == p->index - 1;
}

static uint64_t gcd(uint64_t a, uint64_t b) {
    while (b) {
        uint64_t r = a % b;
        a = b, b = r;
    }
    return a;
}

/* Whether two shards share a seed: their pattern repeats every lcm of their counts. */
static int parts_overlap(const shard_part *a, const shard_part *b) {
    uint64_t lo = a->first > b->first ? a->first : b->first;
    uint64_t hi = a->last < b->last ? a->last : b->last;
    uint64_t period = a->count / gcd(a->count, b->count) * b->count;
    for (uint64_t s = lo; s <= hi && s - lo < period; s++)
        if (part_has(a, s) && part_has(b, s))
            return 1;
    return 0;
}

static int valid_summary(const json_t *m) {
    json_t *parts = json_object_get(m, "parts");
    if (!json_is_string(json_object_get(m, "scenario")) || !json_is_array(parts) ||
        !json_is_object(json_object_get(m, "failures_by_invariant")) ||
        !json_is_object(json_object_get(m, "fault_kinds")) ||
        !json_is_array(json_object_get(m, "failing_seeds")))
        return 0;
    for (size_t i = 0; i < json_array_size(parts); i++) {
        shard_part p = part_of(json_array_get(parts, i));
        if (p.count < 1 || p.index < 1 || p.index > p.count || p.first > p.last)
            return 0;
    }
    return 1;
}

static void add_counts(json_t *into, json_t *from) {
    const char *key;
    json_t *v;
    json_object_foreach(from, key, v) {
        json_add(into, key, (uint64_t)json_integer_value(v));
    }
}

static int cmp_ints(const void *a, const void *b) {
    json_int_t x = *(const json_int_t *)a, y = *(const json_int_t *)b;
    return (x > y) - (x < y);
}

/* m's failing_seeds: the union of both lists, sorted, the first FAILING_LISTED. */
static void merge_failing(json_t *m, json_t *more) {
    json_t *have = json_object_get(m, "failing_seeds");
    size_t n = json_array_size(have) + json_array_size(more), k = 0;
    json_int_t *v = calloc(n ? n : 1, sizeof *v);
    if (!v)
        return;
    for (size_t i = 0; i < json_array_size(have); i++)
        v[k++] = json_integer_value(json_array_get(have, i));
    for (size_t i = 0; i < json_array_size(more); i++)
        v[k++] = json_integer_value(json_array_get(more, i));
    qsort(v, k, sizeof *v, cmp_ints);
    json_t *out = json_array();
    for (size_t i = 0; i < k && json_array_size(out) < FAILING_LISTED; i++)
        if (i == 0 || v[i] != v[i - 1])
            json_array_append_new(out, json_integer(v[i]));
    json_object_set_new(m, "failing_seeds", out);
    free(v);
}

/* Add summary b (from folder dir) into m. 0, or 2 after an error line. */
static int merge_into(json_t *m, json_t *b, const char *dir) {
    static const char *const same[] = {"scenario", "config", "set"};
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++)
        if (!json_equal(json_object_get(m, same[i]), json_object_get(b, same[i]))) {
            say("--merge: %s: another campaign (its %s differs from the first folder's)", dir,
                same[i]);
            return 2;
        }
    json_t *parts = json_object_get(m, "parts"), *more = json_object_get(b, "parts");
    for (size_t i = 0; i < json_array_size(more); i++) {
        shard_part q = part_of(json_array_get(more, i));
        for (size_t k = 0; k < json_array_size(parts); k++) {
            shard_part p = part_of(json_array_get(parts, k));
            if (parts_overlap(&p, &q)) {
                say("--merge: %s: overlaps an earlier folder (shard %" PRIu64 "/%" PRIu64
                    " of seeds %" PRIu64 "..%" PRIu64 ")",
                    dir, q.index, q.count, q.first, q.last);
                return 2;
            }
        }
    }
    json_array_extend(parts, more);
    static const char *const sums[] = {"seeds_run", "seeds_failed", "failovers", "elections",
                                       "stale_commits"};
    for (size_t i = 0; i < sizeof sums / sizeof sums[0]; i++)
        json_add(m, sums[i], (uint64_t)get_int(b, sums[i]));
    add_counts(json_object_get(m, "failures_by_invariant"),
               json_object_get(b, "failures_by_invariant"));
    add_counts(json_object_get(m, "fault_kinds"), json_object_get(b, "fault_kinds"));
    merge_failing(m, json_object_get(b, "failing_seeds"));
    double wall = json_number_value(json_object_get(m, "wall_seconds")) +
                  json_number_value(json_object_get(b, "wall_seconds"));
    json_object_set_new(m, "wall_seconds", json_real(wall));
    json_t *seeds = json_object_get(m, "seeds"), *bs = json_object_get(b, "seeds");
    if (get_int(bs, "first") < get_int(seeds, "first"))
        json_object_set(seeds, "first", json_object_get(bs, "first"));
    if (get_int(bs, "last") > get_int(seeds, "last"))
        json_object_set(seeds, "last", json_object_get(bs, "last"));
    return 0;
}

static int run_merge(const check_options *o) {
    json_t *m = NULL;
    int rc = 0;
    for (size_t i = 0; i < o->dir_count && rc == 0; i++) {
        char path[4200];
        json_error_t jerr;
        snprintf(path, sizeof path, "%s/summary.json", o->dirs[i]);
        json_t *b = json_load_file(path, 0, &jerr);
        if (!b || !valid_summary(b)) {
            say("--merge: %s: not a check summary (%s)", path, b ? "fields missing" : jerr.text);
            rc = 2;
        } else if (!m) {
            m = json_incref(b);
        } else {
            rc = merge_into(m, b, o->dirs[i]);
        }
        json_decref(b);
    }
    out_folder folder;
    if (rc == 0)
        rc = out_begin(o, &folder);
    if (rc != 0) {
        json_decref(m);
        return rc;
    }
    double wall = json_number_value(json_object_get(m, "wall_seconds"));
    json_object_set_new(m, "seeds_per_second",
                        json_real(wall > 0 ? (double)get_int(m, "seeds_run") / wall : 0.0));
    json_object_set_new(m, "shard", json_null());
    if (!o->quiet)
        print_summary(m);
    rc = out_end(&folder, m, 1);
    json_int_t failed = get_int(m, "seeds_failed");
    json_decref(m);
    return rc ? rc : failed ? 1 : 0;
}

int cli_check(int argc, char **argv) {
    check_options o;
    int rc = parse_options(argc, argv, &o);
    if (rc != 0)
        return rc == 1 ? 0 : 2;
    return o.merge ? run_merge(&o) : run_campaign(&o);
}
