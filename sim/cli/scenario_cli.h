/* scenario_cli.h -- what the commands that run scenarios (`run`, `check`) share:
 * finding and loading a scenario with every key checked, building one run's config
 * with its draws (scenario.h) for a seed, error lines, and reproducer command lines
 * quoted for the shell. */
#ifndef SHARDSIM_SIM_CLI_SCENARIO_CLI_H
#define SHARDSIM_SIM_CLI_SCENARIO_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sim/config.h"
#include "sim/scenario.h"

/* One error line on stderr, "shardsim CMD: ...", the text escaped (control bytes and
 * bytes that are not UTF-8 as \xHH): it may quote a scenario file, whose bytes must not
 * reach the terminal raw. */
void scli_say(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Find the scenario `name`: a readable file, else bench/scenarios/NAME.ini in the data
 * directory; NULL means the built-in baseline. 0 (path filled), 1 (built-in), or -1
 * after an error line for cmd. */
int scli_resolve(const char *cmd, const char *name, char *path, size_t size);

/* Load config (NULL: General) of the scenario at path (NULL: the built-in baseline)
 * with the overrides, every run's keys checked through config_set and config_check;
 * then every other config of the file as written (a mistake in any config is an
 * error). 0, or the error in err; *out is NULL then. */
int scli_load(const char *path, const char *config, const char *const *overrides,
              size_t override_count, scenario **out, char *err, size_t errlen);

/* The config of one run: its draws made for the seed (*seed_override if not NULL,
 * else the run's `seed` key, else 1) into *drawn when drawn is not NULL (release it
 * with scenario_run_release, whatever the result), then every key set and the config
 * checked. *seed receives the seed. 0, or SS_EINVAL with the message in err; free cfg
 * with config_free after a 0. */
int scli_build_run(const scenario_run *run, const uint64_t *seed_override, sim_config *cfg,
                   uint64_t *seed, scenario_run *drawn, char *err, size_t errlen);

/* Write arg so that a POSIX shell reads it back as it is. */
void scli_shell_word(FILE *out, const char *arg);

/* " --set KEY=VALUE" for every drawn value of a drawn run (scli_build_run), quoted. */
void scli_write_drawn(FILE *out, const scenario_run *drawn);

#endif
