/* faults.h -- random fault campaigns; see faults.c. */
#ifndef SHARDSIM_SIM_FAULTS_H
#define SHARDSIM_SIM_FAULTS_H

#include <stdint.h>

#include "sim/config.h"

/* The fault stream's component id (sim.c's streams use 1..5 and 8), and the one of
 * the configured faults' times ('A+U(B,C)'), kept apart so that adding a spread to one
 * fault leaves a random campaign as it was. */
#define SIM_RNG_FAULTS 6
#define SIM_RNG_FAULT_TIMES 7

/* Draw the time of every fault in f[0..count) that has a spread ('A+U(B,C)': at_ns
 * becomes A plus B plus a uniform draw of whole milliseconds up to C - B) for the run (seed,
 * repeat), in schedule order; the spread is then cleared. Returns how many were drawn. */
uint32_t sim_draw_fault_times(uint64_t seed, uint32_t repeat, sim_fault *f, uint32_t count);

/* Draw c->random_faults faults (a crash drawn with its restart counts as one) for the
 * run (seed, repeat) into out, at most room entries. Returns how many were written. */
uint32_t sim_draw_faults(const sim_config *c, uint64_t seed, uint32_t repeat, sim_fault *out,
                         uint32_t room);

#endif
