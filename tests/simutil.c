/* simutil.c -- see simutil.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "sim/cli/scenario_cli.h"
#include "tests/simutil.h"

void su_small(sim_config *c) {
    config_defaults(c);
    const char *kv[][2] = {{"duration_s", "6"},
                           {"workers", "4"},
                           {"slots_per_worker", "2"},
                           {"parallelism", "4"},
                           {"keys", "5000"},
                           {"rate", "20000"},
                           {"checkpoint_interval_s", "1"},
                           {"heartbeat_interval_s", "1"},
                           {"heartbeat_timeout_s", "3"}};
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
        su_set(c, kv[i][0], kv[i][1]);
}

void su_set(sim_config *c, const char *key, const char *value) {
    char err[256];
    if (config_set(c, key, value, err, sizeof err) != 0)
        fail_msg("%s = %s: %s", key, value, err);
}

void su_run_ok(const sim_config *c, uint64_t seed, sim_result *r) {
    char err[256];
    if (sim_run(c, seed, 0, r, err, sizeof err) != 0)
        fail_msg("seed %llu: sim_run: %s", (unsigned long long)seed, err);
}

void su_campaign(sim_config *c, uint64_t seed, const char *mutations) {
    const char *dir = getenv("SHARDSIM_SOURCE_DIR");
    char path[4096], set[256], err[512];
    snprintf(path, sizeof path, "%s/bench/scenarios/campaign.ini", dir ? dir : ".");
    snprintf(set, sizeof set, "mutations=%s", mutations ? mutations : "");
    const char *overrides[1] = {set};
    scenario *s = NULL;
    if (scli_load(path, NULL, overrides, mutations ? 1 : 0, &s, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_int_equal(s->run_count, 1);
    uint64_t used;
    if (scli_build_run(&s->runs[0], &seed, c, &used, NULL, err, sizeof err) != 0)
        fail_msg("campaign seed %llu: %s", (unsigned long long)seed, err);
    scenario_free(s);
}
