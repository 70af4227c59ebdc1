/* env_real.h -- the only wall-clock reads in core/ and sim/. Simulations never call
 * these: they name result folders and stamp manifests, which are outside what the
 * determinism guarantee covers. */
#ifndef SHARDSIM_SIM_ENV_REAL_H
#define SHARDSIM_SIM_ENV_REAL_H

#include <stddef.h>
#include <stdint.h>

/* Write the current UTC time as "YYYY-MM-DDTHH-MM-SSZ" (safe in file names, sorts by
 * time) into buf. iso != 0 gives "YYYY-MM-DDTHH:MM:SSZ" instead. Returns 0 or SS_EIO. */
int env_real_utc_stamp(char *buf, size_t size, int iso);

/* Monotonic nanoseconds, for showing progress (elapsed time, rates, ETA). */
uint64_t env_real_monotonic_ns(void);

#endif
