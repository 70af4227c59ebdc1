/* faults.h -- random fault campaigns; see faults.c. */
#ifndef SHARDSIM_SIM_FAULTS_H
#define SHARDSIM_SIM_FAULTS_H

#include <stdint.h>

#include "sim/config.h"

/* The fault stream's component id (sim.c's streams use 1..5). */
#define SIM_RNG_FAULTS 6

/* Draw c->random_faults faults (a crash drawn with its restart counts as one) for the
 * run (seed, repeat) into out, at most room entries. Returns how many were written. */
uint32_t sim_draw_faults(const sim_config *c, uint64_t seed, uint32_t repeat, sim_fault *out,
                         uint32_t room);

#endif
