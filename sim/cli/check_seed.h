/* check_seed.h -- one seed of a failure-injection campaign, as `check` and `shrink`
 * run it: load a one-run scenario, run its config for a seed (repetition 0) and
 * collect every invariant the run broke -- sim_result's violations, exactly-once, a
 * run that did not finish (`finished`), a stale commit with fencing on
 * (`stale-commit`) -- the first one found first. */
#ifndef SHARDSIM_SIM_CLI_CHECK_SEED_H
#define SHARDSIM_SIM_CLI_CHECK_SEED_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sim/cli/args.h"
#include "sim/config.h"
#include "sim/scenario.h"

#define CHECK_MAX_FAILS 10 /* invariants kept per seed */
#define CHECK_MAX_KINDS 32 /* fault kinds a seed's mask holds */

/* What one seed did; a fixed-size record (check's worker processes send it whole). */
typedef struct check_outcome {
    uint64_t seed, trace_digest, failovers, elections, stale_commits;
    uint32_t fault_kinds; /* bit k: the schedule had a fault of kind k */
    uint32_t fail_count;  /* distinct invariants broken (the first CHECK_MAX_FAILS named) */
    char invariant[CHECK_MAX_FAILS][24];
    char detail[CHECK_MAX_FAILS][256]; /* each named invariant's first detail */
} check_outcome;

/* Load config (NULL: General) of the scenario `name` (a file or a shipped scenario's
 * name) with the overrides; it must be one run (no sweep, repeat = 1). 0, or 2 after
 * an error line for cmd ("shardsim CMD: ..."); free *s with scenario_free after a 0. */
int check_load(const char *cmd, const char *name, const char *config, const char *const *overrides,
               size_t override_count, scenario **s);

/* The value of the current flag (--set K=V) as overrides[*count] (at most max): 0, or
 * ARGS_ERROR after a message. */
int check_take_set(args_state *a, const char **overrides, size_t *count, size_t max);

/* " --set K=V" for each override, quoted for the shell. */
void check_write_sets(FILE *out, const char *const *overrides, size_t count);

/* Build the run's config for seed (its draws) and check it into *o; a drawn
 * combination the keys reject is the invariant `config`. */
void check_run_seed(const scenario_run *run, uint64_t seed, check_outcome *o);

/* Run cfg for seed (repetition 0) and collect the invariants it broke into *o
 * (fault_kinds included). */
void check_config(const sim_config *cfg, uint64_t seed, check_outcome *o);

/* The index in o->invariant of `name`, or -1 if the run kept it (or it was not among
 * the first CHECK_MAX_FAILS broken). */
int check_outcome_find(const check_outcome *o, const char *name);

#endif
