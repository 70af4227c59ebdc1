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
} scenario_assign;

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

#endif
