/* config.h -- everything one simulation run is configured by, with defaults, units and
 * validation. Scenario files (sim/scenario.c) and --set overrides reach a sim_config
 * only through config_set, which knows every key.
 *
 * Ownership: config_set may allocate strings inside the config; config_free
 * releases them. */
#ifndef SHARDSIM_SIM_CONFIG_H
#define SHARDSIM_SIM_CONFIG_H

#include <stddef.h>
#include <stdint.h>

/* A documented key: README and `shardsim run --help-keys` list these. */
typedef struct config_key {
    const char *name;
    const char *unit;          /* "s", "records/s", "" ... */
    const char *default_text;
    const char *help;
} config_key;

extern const config_key config_keys[]; /* terminated by {NULL} */

typedef struct sim_config sim_config; /* defined below by the model's author */

void config_defaults(sim_config *c);
/* Set one key from text. Returns 0, or SS_EINVAL with a message in err such as
 * "unknown key 'foo'" or "parallelism: expected a whole number >= 1, got 'x'". */
int config_set(sim_config *c, const char *key, const char *value, char *err, size_t errlen);
/* Cross-key checks after all keys are set (e.g. parallelism <= max_parallelism).
 * Returns 0, or SS_EINVAL with a message. */
int config_check(const sim_config *c, char *err, size_t errlen);
void config_free(sim_config *c);

/* The INI text of a built-in scenario ("baseline": the same text as
 * bench/scenarios/baseline.ini), or NULL. */
const char *sim_builtin_scenario(const char *name);

#endif
