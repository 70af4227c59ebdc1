/* check_seed.c -- one seed of a campaign, for `check` and `shrink`; see check_seed.h. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "sim/cli/check_seed.h"
#include "sim/cli/scenario_cli.h"
#include "sim/faults.h"
#include "sim/sim.h"

int check_load(const char *cmd, const char *name, const char *config, const char *const *overrides,
               size_t override_count, scenario **s) {
    char path[4096], err[1024];
    int builtin = scli_resolve(cmd, name, path, sizeof path);
    if (builtin < 0)
        return 2;
    if (scli_load(builtin ? NULL : path, config, overrides, override_count, s, err, sizeof err) !=
        0) {
        scli_say(cmd, "%s", err);
        return 2;
    }
    if ((*s)->run_count != 1) {
        scli_say(cmd,
                 "%s: %zu runs (a sweep or repeat): a campaign runs one per seed (fix the sweep "
                 "with --set KEY=VALUE)",
                 name, (*s)->run_count);
        scenario_free(*s);
        return 2;
    }
    return 0;
}

int check_take_set(args_state *a, const char **overrides, size_t *count, size_t max) {
    const char *value;
    if (args_value(a, &value) != 0)
        return ARGS_ERROR;
    if (*count == max)
        return args_fail(a, "more than %zu overrides", max);
    overrides[(*count)++] = value;
    return 0;
}

void check_write_sets(FILE *out, const char *const *overrides, size_t count) {
    for (size_t i = 0; i < count; i++) {
        fputs(" --set ", out);
        scli_shell_word(out, overrides[i]);
    }
}

int check_outcome_find(const check_outcome *o, const char *name) {
    for (uint32_t i = 0; i < o->fail_count && i < CHECK_MAX_FAILS; i++)
        if (strcmp(o->invariant[i], name) == 0)
            return (int)i;
    return -1;
}

/* Note invariant `name` broken, once per seed. */
static void add_failure(check_outcome *o, const char *name, const char *detail) {
    if (check_outcome_find(o, name) >= 0)
        return;
    if (o->fail_count < CHECK_MAX_FAILS) {
        snprintf(o->invariant[o->fail_count], sizeof o->invariant[0], "%s", name);
        snprintf(o->detail[o->fail_count], sizeof o->detail[0], "%s", detail);
    }
    o->fail_count++;
}

/* The kinds of the run's fault schedule: the configured faults and those drawn for
 * (seed, repetition 0) -- the schedule sim_run builds. */
static uint32_t schedule_kinds(const sim_config *cfg, uint64_t seed) {
    uint32_t mask = 0;
    for (uint32_t i = 0; i < cfg->fault_count; i++)
        mask |= cfg->faults[i].kind < CHECK_MAX_KINDS ? 1u << cfg->faults[i].kind : 0;
    uint32_t room = 2 * cfg->random_faults;
    sim_fault *drawn = room ? calloc(room, sizeof *drawn) : NULL;
    uint32_t n = drawn ? sim_draw_faults(cfg, seed, 0, drawn, room) : 0;
    for (uint32_t i = 0; i < n; i++)
        mask |= drawn[i].kind < CHECK_MAX_KINDS ? 1u << drawn[i].kind : 0;
    free(drawn);
    return mask;
}

void check_config(const sim_config *cfg, uint64_t seed, check_outcome *o) {
    memset(o, 0, sizeof *o);
    o->seed = seed;
    o->fault_kinds = schedule_kinds(cfg, seed);
    char err[512] = "";
    sim_result r;
    memset(&r, 0, sizeof r);
    int rc = sim_run(cfg, seed, 0, &r, err, sizeof err);
    uint32_t kept = r.violation_count < SIM_MAX_VIOLATIONS ? r.violation_count : SIM_MAX_VIOLATIONS;
    for (uint32_t i = 0; i < kept; i++)
        add_failure(o, r.violations[i].invariant, r.violations[i].detail);
    if (rc != 0)
        add_failure(o, "finished", err[0] ? err : ss_strerror(rc));
    else if (!r.exactly_once_ok)
        add_failure(o, "exactly-once", r.exactly_once_detail);
    if (cfg->fencing && r.stale_commits > 0) {
        char detail[96];
        snprintf(detail, sizeof detail, "%" PRIu64 " commit(s) by a deposed leader with fencing on",
                 r.stale_commits);
        add_failure(o, "stale-commit", detail);
    }
    o->trace_digest = r.trace_digest;
    o->failovers = r.failover_count;
    o->elections = r.elections;
    o->stale_commits = r.stale_commits;
    sim_result_free(&r);
}

void check_run_seed(const scenario_run *run, uint64_t seed, check_outcome *o) {
    sim_config cfg;
    uint64_t used;
    char err[512] = "";
    if (scli_build_run(run, &seed, &cfg, &used, NULL, err, sizeof err) != 0) {
        memset(o, 0, sizeof *o);
        o->seed = seed;
        add_failure(o, "config", err); /* a drawn combination the keys reject */
        return;
    }
    check_config(&cfg, seed, o);
    config_free(&cfg);
}
