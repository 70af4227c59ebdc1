/* scenario.h -- scenario files: INI in the style of OMNeT++'s omnetpp.ini, parsed with
 * libinih, expanded into runs.
 *
 *   [General]                      every run starts from these keys
 *   duration_s = 60
 *   parallelism = ${N=8,16,32}     a sweep: one run per value
 *   zipf_s = ${s=0.8..1.4 step 0.2}  a numeric range, both ends included
 *   repeat = 2                     each combination this many times (run number differs)
 *   [Config skew]                  a named config: General, then its `extends` chain
 *   extends = other                (optional; configs always extend General)
 *   partitioner = ${modulo,flink}  an anonymous sweep
 *   label = n${N}                  a reference to a sweep variable
 *
 * A run of config X applies General's keys, then those of X's ancestors from the most
 * distant, then X's, then the command line's `--set key=value` overrides; for each key
 * the last value wins. Sweeps are read from these effective values only. Several sweeps
 * form a Cartesian product whose first-defined variable is the outermost loop; the
 * repetitions are innermost. Runs are numbered 0.. in that order.
 *
 * Every error is one message "FILE:LINE: what is wrong" ("--set K=V: ..." for
 * overrides), found while loading, before anything runs: syntax, duplicate keys, keys
 * outside a section, unknown sections, configs or `extends` targets, cycles, empty or
 * malformed sweeps, undefined or duplicate variables, a bad repeat, and whatever the
 * caller's hooks reject for any run (unknown key, bad value: at the line or the --set
 * that set it; cross-key problems: at the line of the run's config header, or at the
 * overrides, "--set K=V ...: ...", when the config passes without them). Only the
 * config asked for is expanded and checked; config_names lets a caller check the
 * others (shardsim run does: a mistake in any config of a file is an error).
 *
 * An anonymous sweep's parameter is named after its key (`partitioner =
 * ${modulo,flink}` is `partitioner`), with _2, _3, ... if that name is taken.
 *
 * Draws, unlike sweeps, make no more runs: a key's whole value (after sweep
 * substitution, in the file or in --set) may be a range or a choice that every run
 * draws from afresh:
 *   session_timeout_s = 4..12      a whole number from 4 to 12 (both ends integers)
 *   zk_follower_lag_us = 0.5..2    one of the 1001 points of a grid from 0.5 to 2
 *   worker_detection = {session,heartbeat+rpc+connection}   one of the choices
 * Both ends and every choice must be a valid value of the key (checked through the
 * hooks, at load: "FILE:LINE: key: ..."), and A <= B; `seed` and `repeat` cannot be
 * drawn. Loading keeps the spec (scenario_assign.draw = 1); scenario_run_draw turns a
 * run's specs into values for a seed: from the stream prng_stream(seed, run's
 * repeat, SCENARIO_RNG_DRAWS), one draw per drawn key in the run's key order, so the
 * same (seed, repeat) draws the same values. A decimal value is written with as many
 * decimals as the grid needs, so `--set key=VALUE` gives that very value again.
 *
 * Ownership: scenario_load_* allocate *out; scenario_free releases it. */
#ifndef SHARDSIM_SIM_SCENARIO_H
#define SHARDSIM_SIM_SCENARIO_H

#include <stddef.h>
#include <stdint.h>

typedef struct scenario_hooks {
    void *ctx;
    int (*begin)(void *ctx); /* start of one run: reset */
    int (*set)(void *ctx, const char *key, const char *value, char *err, size_t errlen);
    int (*end)(void *ctx, char *err, size_t errlen); /* cross-key checks of the run */
} scenario_hooks;

typedef struct scenario_assign {
    char *key, *value, *file; /* file: the scenario path, or "--set" */
    int line;                 /* 0 for --set */
    int draw;                 /* 1: value is a range or choice, drawn per run */
} scenario_assign;

/* The draws' stream component (sim's streams use 1..8). */
#define SCENARIO_RNG_DRAWS 9

typedef struct scenario_param {
    char *name, *value; /* a swept variable of the run and its value */
} scenario_param;

typedef struct scenario_run {
    uint32_t number, repeat;
    scenario_assign *assigns;
    size_t assign_count;
    scenario_param *params;
    size_t param_count;
} scenario_run;

typedef struct scenario {
    char *name;   /* file stem, or the built-in's name */
    char *config; /* NULL = General */
    char *path;   /* NULL for a built-in */
    char *text;   /* the whole file */
    scenario_run *runs;
    size_t run_count;
    char **param_names;
    size_t param_name_count;
    char **config_names; /* every [Config NAME] of the text, in order: NAME */
    size_t config_count;
} scenario;

int scenario_load_file(const char *path, const char *config, const char *const *overrides,
                       size_t override_count, const scenario_hooks *hooks, scenario **out,
                       char *err, size_t errlen);
int scenario_load_string(const char *name, const char *text, const char *config,
                         const char *const *overrides, size_t override_count,
                         const scenario_hooks *hooks, scenario **out, char *err, size_t errlen);
void scenario_free(scenario *s);

/* 1 if value is a range "A..B" (two numbers) or a choice "{x,y,...}": a draw. */
int scenario_is_draw(const char *value);

/* Draw every draw of run for seed: *out becomes a copy of run whose drawn assignments
 * hold the values drawn (draw stays 1, so the caller can name them); its params are
 * run's, borrowed. Free it with scenario_run_release. 0, or SS_EINVAL (a malformed
 * spec, which loading has rejected already; message in err) or SS_ENOMEM. */
int scenario_run_draw(const scenario_run *run, uint64_t seed, scenario_run *out, char *err,
                      size_t errlen);
/* Release what scenario_run_draw allocated in r (not r's borrowed params). */
void scenario_run_release(scenario_run *r);

#endif
