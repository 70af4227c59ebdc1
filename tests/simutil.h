/* simutil.h -- helpers for tests that drive sim_run directly (cmocka failures on
 * error). */
#ifndef SHARDSIM_TESTS_SIMUTIL_H
#define SHARDSIM_TESTS_SIMUTIL_H

#include <stdint.h>

#include "sim/config.h"
#include "sim/sim.h"

/* The small job most sim tests start from: 4 workers x 2 slots, 4 subtasks, 5000 keys,
 * 20k records/s for 6 s, a checkpoint and a heartbeat every 1 s (timeout 3 s). */
void su_small(sim_config *c);
/* Set key = value, failing the test with the parser's message if refused. */
void su_set(sim_config *c, const char *key, const char *value);
/* sim_run that must succeed (repetition 0); the test fails with the seed and reason. */
void su_run_ok(const sim_config *c, uint64_t seed, sim_result *r);

/* The default campaign's configuration for one seed (bench/scenarios/campaign.ini, its
 * ranges and choices drawn for the seed as `shardsim check` draws them), plus
 * `mutations` if not NULL. Free with config_free. */
void su_campaign(sim_config *c, uint64_t seed, const char *mutations);

#endif
