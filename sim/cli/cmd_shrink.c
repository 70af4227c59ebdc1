/* cmd_shrink.c -- `shardsim shrink`: the smallest fault schedule that still breaks an
 * invariant a campaign's seed broke.
 *
 * The seed's run (check_seed.h: its draws, its config) breaks invariants; the first
 * one, I, is the target. Its schedule -- the configured faults (their spreads drawn)
 * and the random_faults drawn for the seed -- is spelled out in the `faults` key's
 * syntax with random_faults = 0, which replays the very same run (the trace digest is
 * compared). Then delta debugging (Zeller and Hildebrandt's ddmin) removes faults while
 * a candidate schedule still breaks I -- a crash and its restart are separate entries,
 * removed independently -- to a schedule from which no single fault can go; then each
 * fault's time is moved to a round value (whole seconds, then tenths) and halved toward
 * the run's start, and each duration is shortened (to whole seconds or tenths, then
 * halved down to 0.1 s), each change kept if I still breaks. Every trial is one
 * deterministic sim_run of a schedule written as text and read back through the
 * `faults` key, so the scenario file written at the end holds what was tested. That
 * file -- every key of the run as drawn, random_faults = 0, the shrunk faults and the
 * seed -- is checked once more as `check FILE --seeds S..S` reads it, then put in
 * place (no overwrite without --force). */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/cli/args.h"
#include "sim/cli/check_seed.h"
#include "sim/cli/cli.h"
#include "sim/cli/scenario_cli.h"
#include "sim/config.h"
#include "sim/faults.h"
#include "sim/version.h"

#define MAX_OVERRIDES 64
#define SCHEDULE_TEXT 4096    /* a schedule of SIM_MAX_FAULTS entries in text */
#define TENTH_NS 100000000ULL /* durations shrink down to this */
#define SECOND_NS 1000000000ULL

#define say(...) scli_say("shrink", __VA_ARGS__)

typedef struct shrink_options {
    const char *scenario, *config, *out;
    uint64_t seed;
    int have_seed, force, quiet;
    const char *overrides[MAX_OVERRIDES];
    size_t override_count;
} shrink_options;

/* The search: the run's config, the target invariant and the schedule so far. */
typedef struct shrinker {
    const shrink_options *o;
    sim_config cfg; /* the run as drawn, random_faults = 0; faults set per trial */
    int built;      /* cfg holds a config (config_free it) */
    uint64_t seed;
    char invariant[24];
    sim_fault faults[SIM_MAX_FAULTS]; /* the smallest schedule found that breaks it */
    uint32_t count;
    uint32_t trials;
    const char *phase;
    check_outcome best; /* the outcome of that schedule */
    check_outcome last; /* the last trial's (zero if its config was refused) */
} shrinker;

static void usage(FILE *out) {
    fputs("usage: shardsim shrink SCENARIO --seed S [-c CONFIG] [--set KEY=VALUE]...\n"
          "                       [--out FILE] [--force] [--quiet]\n\n"
          "Shrinks the fault schedule of a seed that `shardsim check` found failing: runs\n"
          "the seed (its draws and its random_faults schedule, as check does), takes the\n"
          "first invariant it breaks, spells the schedule out as a `faults` list, then\n"
          "removes faults by delta debugging while the invariant still breaks, moves each\n"
          "remaining fault's time to a round value and toward the start, and shortens its\n"
          "duration. Writes a scenario file that breaks the same invariant under\n"
          "`shardsim check FILE --seeds S..S` and `shardsim run FILE`: every key of the run\n"
          "as drawn, random_faults = 0, the shrunk faults, seed = S. Progress on stderr,\n"
          "a summary on stdout. Exit 0: written; 2: bad input, or the seed breaks nothing.\n\n"
          "  SCENARIO     an .ini file or a shipped scenario's name (e.g. campaign), one run\n"
          "  --seed S     the failing seed (from check's `seed S: ...` line)\n"
          "  -c CONFIG    the [Config CONFIG] section (default: [General])\n"
          "  --set K=V    override a scenario key, as given to check (repeatable)\n"
          "  --out FILE   the scenario file to write (default: shrunk-SCENARIO-S.ini here)\n"
          "  --force      replace FILE if it exists\n"
          "  --quiet      no progress lines\n",
          out);
}

/* ---------- options ---------- */

/* One flag of shrink's; ARGS_ERROR after a message. */
static int take_flag(args_state *a, shrink_options *o) {
    if (args_is(a, "--config", "-c"))
        return args_value(a, &o->config);
    if (args_is(a, "--out", "-o"))
        return args_value(a, &o->out);
    if (args_is(a, "--seed", NULL)) {
        o->have_seed = 1;
        return args_value_u64(a, &o->seed);
    }
    if (args_is(a, "--set", NULL))
        return check_take_set(a, o->overrides, &o->override_count, MAX_OVERRIDES);
    if (args_is(a, "--force", NULL))
        o->force = 1;
    else if (args_is(a, "--quiet", "-q"))
        o->quiet = 1;
    else
        return args_unknown(a);
    return 0;
}

/* 0, 1 (--help shown), or ARGS_ERROR. */
static int parse_options(int argc, char **argv, shrink_options *o) {
    memset(o, 0, sizeof *o);
    args_state a;
    args_init(&a, "shrink", argc, argv);
    int rc;
    while ((rc = args_next(&a)) == ARGS_FLAG || rc == ARGS_POSITIONAL) {
        if (rc == ARGS_POSITIONAL) {
            if (o->scenario)
                return say("unexpected argument '%s' (one scenario)", args_current(&a)), ARGS_ERROR;
            o->scenario = args_current(&a);
        } else if (args_is(&a, "--help", "-h")) {
            usage(stdout);
            return 1;
        } else if (take_flag(&a, o) != 0) {
            return ARGS_ERROR;
        }
    }
    if (rc != ARGS_END)
        return ARGS_ERROR;
    if (!o->scenario)
        return say("missing SCENARIO (try shardsim shrink --help)"), ARGS_ERROR;
    if (!o->have_seed)
        return say("--seed: missing (the failing seed, e.g. --seed 29)"), ARGS_ERROR;
    return 0;
}

/* ---------- trials ---------- */

/* Run the schedule f[0..count): 1 if it breaks the target invariant (its outcome is
 * then sh->best), 0 if not. The schedule goes through the `faults` key as text. */
static int trial(shrinker *sh, const sim_fault *f, uint32_t count) {
    char text[SCHEDULE_TEXT], err[512];
    config_format_faults(f, count, text, sizeof text);
    sh->trials++;
    memset(&sh->last, 0, sizeof sh->last);
    int breaks = config_set(&sh->cfg, "faults", text, err, sizeof err) == 0 &&
                 config_check(&sh->cfg, err, sizeof err) == 0;
    if (breaks) {
        check_config(&sh->cfg, sh->seed, &sh->last);
        breaks = check_outcome_find(&sh->last, sh->invariant) >= 0;
    }
    if (!sh->o->quiet)
        fprintf(stderr, "shrink: trial %u (%s): %u fault%s: %s\n", sh->trials, sh->phase, count,
                count == 1 ? "" : "s", breaks ? "breaks it" : "passes");
    if (breaks)
        sh->best = sh->last;
    return breaks;
}

/* Make f[0..count) the schedule if it breaks the invariant: 1 if so. */
static int try_schedule(shrinker *sh, const sim_fault *f, uint32_t count) {
    if (!trial(sh, f, count))
        return 0;
    memmove(sh->faults, f, count * sizeof *f);
    sh->count = count;
    return 1;
}

/* The schedule with its part [lo, hi) (keep = 1) or all but that part (keep = 0) into
 * out, in order; returns its length. */
static uint32_t pick(const shrinker *sh, uint32_t lo, uint32_t hi, int keep, sim_fault *out) {
    uint32_t n = 0;
    for (uint32_t i = 0; i < sh->count; i++)
        if ((i >= lo && i < hi) == keep)
            out[n++] = sh->faults[i];
    return n;
}

/* One pass of ddmin at granularity gran: try each of the gran parts alone, then (for
 * gran > 2) each complement. Returns the new granularity, or 0 if nothing went. */
static uint32_t ddmin_pass(shrinker *sh, uint32_t gran) {
    sim_fault cand[SIM_MAX_FAULTS];
    for (int keep = 1; keep >= 0; keep--) {
        if (!keep && gran == 2)
            break; /* the complements of two halves are the halves */
        for (uint32_t k = 0; k < gran; k++) {
            uint32_t lo = k * sh->count / gran, hi = (k + 1) * sh->count / gran;
            if (try_schedule(sh, cand, pick(sh, lo, hi, keep, cand)))
                return keep ? 2 : (gran - 1 > 2 ? gran - 1 : 2);
        }
    }
    return 0;
}

/* Delta debugging over the schedule's entries, to one from which no entry can go
 * (1-minimal): the empty schedule first, then ddmin's passes. */
static void ddmin(shrinker *sh) {
    sh->phase = "ddmin";
    if (sh->count > 0 && try_schedule(sh, sh->faults, 0))
        return;
    uint32_t gran = 2;
    while (sh->count >= 2) {
        uint32_t next = ddmin_pass(sh, gran < sh->count ? gran : sh->count);
        if (next) {
            gran = next;
            continue;
        }
        if (gran >= sh->count)
            break;
        gran = 2 * gran < sh->count ? 2 * gran : sh->count;
    }
}

/* Fault i changed to f, kept if it still breaks the invariant: 1 if kept. */
static int try_fault(shrinker *sh, uint32_t i, sim_fault f) {
    sim_fault cand[SIM_MAX_FAULTS];
    memcpy(cand, sh->faults, sh->count * sizeof *cand);
    cand[i] = f;
    return try_schedule(sh, cand, sh->count);
}

static uint64_t round_to(uint64_t ns, uint64_t unit) {
    return (ns + unit / 2) / unit * unit;
}

/* Fault i's time to a round value: the nearest whole second, else the whole second
 * on the other side, else the same in tenths; then halved toward the start (in
 * tenths) while the invariant still breaks. */
static void shrink_time(shrinker *sh, uint32_t i) {
    static const uint64_t units[] = {SECOND_NS, TENTH_NS};
    int moved = 0;
    for (size_t u = 0; u < 2 && !moved; u++) {
        uint64_t t = sh->faults[i].at_ns, near = round_to(t, units[u]);
        uint64_t other = near > t ? near - units[u] : near + units[u];
        sim_fault f = sh->faults[i];
        f.at_ns = near;
        moved = near != t && try_fault(sh, i, f);
        f.at_ns = other;
        moved = moved || (other != t && try_fault(sh, i, f));
    }
    for (;;) {
        sim_fault f = sh->faults[i];
        f.at_ns = round_to(f.at_ns / 2, TENTH_NS);
        if (f.at_ns == sh->faults[i].at_ns || !try_fault(sh, i, f))
            return;
    }
}

/* Fault i's duration shorter: down to whole seconds, else tenths; then halved (in
 * tenths, at least 0.1 s) while the invariant still breaks. A quorum loss's duration
 * is its target, in whole seconds (at least 1). */
static void shrink_duration(shrinker *sh, uint32_t i) {
    if (sh->faults[i].kind == SIM_FAULT_LOSE_QUORUM) {
        for (sim_fault f = sh->faults[i]; f.target > 1; f = sh->faults[i]) {
            f.target /= 2;
            if (!try_fault(sh, i, f))
                return;
        }
        return;
    }
    if (!config_fault_lasts(sh->faults[i].kind))
        return;
    sim_fault f = sh->faults[i];
    uint64_t d = f.duration_ns;
    f.duration_ns = d / SECOND_NS * SECOND_NS;
    if (f.duration_ns == d || f.duration_ns == 0 || !try_fault(sh, i, f)) {
        f.duration_ns = d / TENTH_NS * TENTH_NS;
        if (f.duration_ns != d && f.duration_ns > 0)
            try_fault(sh, i, f);
    }
    for (;;) {
        f = sh->faults[i];
        f.duration_ns = round_to(f.duration_ns / 2, TENTH_NS);
        f.duration_ns = f.duration_ns > TENTH_NS ? f.duration_ns : TENTH_NS;
        if (f.duration_ns >= sh->faults[i].duration_ns || !try_fault(sh, i, f))
            return;
    }
}

static void shrink_times(shrinker *sh) {
    sh->phase = "times";
    for (uint32_t i = 0; i < sh->count; i++)
        shrink_time(sh, i);
    sh->phase = "durations";
    for (uint32_t i = 0; i < sh->count; i++)
        shrink_duration(sh, i);
}

/* ---------- the seed's schedule ---------- */

/* The run's schedule spelled out into sh->faults: the configured faults with their
 * spreads drawn, then those drawn for the seed, as sim_run builds it. 0, or 2 after an
 * error line. */
static int spell_out(shrinker *sh) {
    const sim_config *c = &sh->cfg;
    uint32_t room = 2 * c->random_faults;
    sim_fault *drawn = calloc(room + 1, sizeof *drawn);
    if (!drawn)
        return say("out of memory"), 2;
    uint32_t n = c->random_faults ? sim_draw_faults(c, sh->seed, 0, drawn, room) : 0;
    if (c->fault_count + n > SIM_MAX_FAULTS) {
        free(drawn);
        say("seed %" PRIu64 ": %u faults, more than a schedule holds (%d)", sh->seed,
            c->fault_count + n, SIM_MAX_FAULTS);
        return 2;
    }
    memcpy(sh->faults, c->faults, c->fault_count * sizeof *sh->faults);
    sim_draw_fault_times(sh->seed, 0, sh->faults, c->fault_count);
    memcpy(sh->faults + c->fault_count, drawn, n * sizeof *drawn);
    sh->count = c->fault_count + n;
    sh->cfg.random_faults = 0;
    free(drawn);
    return 0;
}

/* Run the seed as check does, pick its first invariant, spell the schedule out and
 * replay it. 0, or 2 after an error line. */
static int start(shrinker *sh, const scenario_run *run, scenario_run *drawn) {
    uint64_t used;
    char err[512];
    if (scli_build_run(run, &sh->seed, &sh->cfg, &used, drawn, err, sizeof err) != 0)
        return say("seed %" PRIu64 ": %s", sh->seed, err), 2;
    sh->built = 1;
    check_outcome first;
    check_config(&sh->cfg, sh->seed, &first);
    if (first.fail_count == 0)
        return say("seed %" PRIu64 " breaks no invariant", sh->seed), 2;
    snprintf(sh->invariant, sizeof sh->invariant, "%s", first.invariant[0]);
    if (spell_out(sh) != 0)
        return 2;
    sh->phase = "replay";
    int breaks = trial(sh, sh->faults, sh->count);
    if (!breaks || sh->last.trace_digest != first.trace_digest) {
        say("seed %" PRIu64 ": the schedule spelled out as `faults` does not replay the run "
            "(it %s %s; trace %016" PRIx64 ", was %016" PRIx64 "): cannot shrink it",
            sh->seed, breaks ? "breaks" : "does not break", sh->invariant, sh->last.trace_digest,
            first.trace_digest);
        return 2;
    }
    return 0;
}

/* ---------- the scenario file ---------- */

/* 1 if key is one the file writes itself, or that cannot be written (repeat). */
static int own_key(const char *key) {
    return strcmp(key, "faults") == 0 || strcmp(key, "random_faults") == 0 ||
           strcmp(key, "seed") == 0 || strcmp(key, "repeat") == 0;
}

/* A one-line comment: text with line breaks and control bytes as spaces. */
static void write_comment(FILE *out, const char *prefix, const char *text) {
    fputs(prefix, out);
    for (const char *p = text; *p; p++)
        fputc((unsigned char)*p < 0x20 ? ' ' : *p, out);
    fputc('\n', out);
}

/* The command that shrank it, as a shell reads it. */
static void write_command(FILE *out, const shrink_options *o) {
    fputs("shardsim shrink ", out);
    scli_shell_word(out, o->scenario);
    if (o->config) {
        fputs(" -c ", out);
        scli_shell_word(out, o->config);
    }
    fprintf(out, " --seed %" PRIu64, o->seed);
    check_write_sets(out, o->overrides, o->override_count);
}

static void write_header(FILE *out, const shrinker *sh, const scenario *s, uint32_t before) {
    int at = check_outcome_find(&sh->best, sh->invariant);
    fprintf(out,
            "; Written by shardsim %s `shrink`: scenario %s%s%s, seed %" PRIu64
            ", which breaks the\n; invariant %s; its fault schedule shrunk from %u to %u "
            "fault%s in %u trials.\n",
            sim_version(), s->name, s->config ? ", config " : "", s->config ? s->config : "",
            sh->seed, sh->invariant, before, sh->count, sh->count == 1 ? "" : "s", sh->trials);
    write_comment(out, ";   ", at >= 0 ? sh->best.detail[at] : "");
    fputs("; Made by: ", out);
    write_command(out, sh->o);
    fprintf(out,
            "\n; Replay: shardsim check FILE --seeds %" PRIu64 "..%" PRIu64
            ", or shardsim run FILE (trace digest %016" PRIx64 ").\n",
            sh->seed, sh->seed, sh->best.trace_digest);
}

/* 1 if assignment i is the last of its key in the run (the value that wins). */
static int last_of_key(const scenario_run *run, size_t i) {
    for (size_t k = i + 1; k < run->assign_count; k++)
        if (strcmp(run->assigns[k].key, run->assigns[i].key) == 0)
            return 0;
    return 1;
}

/* The scenario file at path: 0, or -1 (errno set). */
static int write_file(const char *path, const shrinker *sh, const scenario *s,
                      const scenario_run *drawn, uint32_t before) {
    FILE *out = fopen(path, "w");
    if (!out)
        return -1;
    char text[SCHEDULE_TEXT];
    config_format_faults(sh->faults, sh->count, text, sizeof text);
    write_header(out, sh, s, before);
    fputs("[General]\n", out);
    for (size_t i = 0; i < drawn->assign_count; i++)
        if (!own_key(drawn->assigns[i].key) && last_of_key(drawn, i))
            fprintf(out, "%s = %s\n", drawn->assigns[i].key, drawn->assigns[i].value);
    fprintf(out, "random_faults = 0\nfaults = %s\nseed = %" PRIu64 "\n", text, sh->seed);
    int bad = ferror(out);
    return fclose(out) == 0 && !bad ? 0 : -1;
}

/* The file as `check FILE --seeds S..S` reads it must break the invariant with the
 * shrunk run's trace. 0, or 2 after an error line. */
static int verify_file(const char *path, const shrinker *sh) {
    scenario *s = NULL;
    if (check_load("shrink", path, NULL, NULL, 0, &s) != 0)
        return 2;
    check_outcome oc;
    check_run_seed(&s->runs[0], sh->seed, &oc);
    scenario_free(s);
    if (check_outcome_find(&oc, sh->invariant) < 0 || oc.trace_digest != sh->best.trace_digest) {
        say("%s: the written scenario does not reproduce %s (trace %016" PRIx64 ", want %016" PRIx64
            ")",
            path, sh->invariant, oc.trace_digest, sh->best.trace_digest);
        return 2;
    }
    return 0;
}

/* Put tmp in place at path: without force, never over an existing file. 0, or -1. */
static int place(const char *tmp, const char *path, int force) {
    if (force)
        return rename(tmp, path);
    if (link(tmp, path) == 0)
        return unlink(tmp);
    if (errno == EEXIST)
        return -1;
    if (access(path, F_OK) == 0) { /* a file system without hard links */
        errno = EEXIST;
        return -1;
    }
    return rename(tmp, path);
}

/* Write, check and place the scenario file. 0, or 2 after an error line. */
static int save(const char *path, const shrinker *sh, const scenario *s, const scenario_run *drawn,
                uint32_t before) {
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp-%ld", path, (long)getpid());
    if (write_file(tmp, sh, s, drawn, before) != 0) {
        say("%s: cannot write: %s", tmp, strerror(errno));
        unlink(tmp);
        return 2;
    }
    int rc = verify_file(tmp, sh);
    if (rc == 0 && place(tmp, path, sh->o->force) != 0) {
        say("--out: %s: %s", path,
            errno == EEXIST ? "exists (--force replaces it)" : strerror(errno));
        rc = 2;
    }
    unlink(tmp); /* gone already when placed */
    return rc;
}

/* ---------- the command ---------- */

static void print_summary(const shrinker *sh, const char *path, uint32_t before) {
    char text[SCHEDULE_TEXT];
    int at = check_outcome_find(&sh->best, sh->invariant);
    config_format_faults(sh->faults, sh->count, text, sizeof text);
    printf("shrink %s --seed %" PRIu64 ": %s: %s\n", sh->o->scenario, sh->seed, sh->invariant,
           at >= 0 ? sh->best.detail[at] : "");
    printf("  faults %u -> %u in %u trials\n", before, sh->count, sh->trials);
    printf("  schedule: %s\n", sh->count ? text : "(none)");
    printf("  trace digest %016" PRIx64 "\n", sh->best.trace_digest);
    printf("  wrote %s (replay: shardsim check ", path);
    scli_shell_word(stdout, path);
    printf(" --seeds %" PRIu64 "..%" PRIu64 ")\n", sh->seed, sh->seed);
}

/* The output path: --out, else shrunk-NAME-SEED.ini here. 0, or 2 if it exists and
 * --force was not given (found before any trial runs). */
static int out_path(const shrink_options *o, const scenario *s, char *path, size_t size) {
    if (o->out)
        snprintf(path, size, "%s", o->out);
    else
        snprintf(path, size, "shrunk-%s-%" PRIu64 ".ini", s->name, o->seed);
    if (!o->force && access(path, F_OK) == 0)
        return say("--out: %s: exists (--force replaces it)", path), 2;
    return 0;
}

static int run_shrink(const shrink_options *o) {
    scenario *s = NULL;
    if (check_load("shrink", o->scenario, o->config, o->overrides, o->override_count, &s) != 0)
        return 2;
    char path[4096];
    shrinker sh = {.o = o, .seed = o->seed};
    scenario_run drawn;
    memset(&drawn, 0, sizeof drawn);
    int rc = out_path(o, s, path, sizeof path);
    if (rc == 0)
        rc = start(&sh, &s->runs[0], &drawn);
    if (rc == 0) {
        uint32_t before = sh.count;
        ddmin(&sh);
        shrink_times(&sh);
        rc = save(path, &sh, s, &drawn, before);
        if (rc == 0)
            print_summary(&sh, path, before);
    }
    if (sh.built)
        config_free(&sh.cfg);
    scenario_run_release(&drawn);
    scenario_free(s);
    return rc;
}

int cli_shrink(int argc, char **argv) {
    shrink_options o;
    int rc = parse_options(argc, argv, &o);
    if (rc != 0)
        return rc == 1 ? 0 : 2;
    return run_shrink(&o);
}
