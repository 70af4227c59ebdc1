/* fidelity_model.h -- the model's side of the fidelity comparison: the same two
 * quantities `shardsim calibrate` measures on a real ZooKeeper, measured on the
 * in-process model (backends/mock) in virtual time, trial by trial:
 *
 *   FIDELITY_FAILOVER     a leader latch's holder dies (its client stops without
 *                         closing, as a SIGKILLed process) at a uniformly random moment
 *                         within T after it became leader; the time until the standby's
 *                         latch says it leads;
 *   FIDELITY_MEMBER_LOSS  a member's process dies the same way; the time until a
 *                         children watch on the members' directory no longer lists it.
 *
 * Each trial is its own seed (session phases, bucket origin, latencies, the kill's
 * moment), so the trials cover the crash phases as the real measurement does. Used by
 * bench/bench_fidelity.c and tests/test_fidelity_model.c. */
#ifndef SHARDSIM_BENCH_FIDELITY_MODEL_H
#define SHARDSIM_BENCH_FIDELITY_MODEL_H

#include <stddef.h>
#include <stdint.h>

enum { FIDELITY_FAILOVER, FIDELITY_MEMBER_LOSS };

typedef struct fidelity_figure {
    double median_ms, p10_ms, p90_ms, min_ms, max_ms;
    uint32_t trials;
} fidelity_figure;

/* Measure kind on the model for session timeout timeout_ns and the service's tick
 * tick_ns, with the per-operation latencies of profile (an INI file as `shardsim
 * calibrate` writes it; NULL: the model's defaults), over `trials` trials seeded from
 * seed. 0, or a negative code with a one-line reason in err. */
int fidelity_model(const char *profile, uint64_t tick_ns, uint64_t timeout_ns, int kind,
                   uint32_t trials, uint64_t seed, fidelity_figure *out, char *err, size_t errlen);

#endif
