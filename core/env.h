/* env.h -- time and timers for the layers above core/, so the coordination backends run
 * unchanged in virtual time (sim/env_sim.c) and, later, in real time. Modelled on
 * SQLite's xCurrentTime and libuv's timers: a const vtable plus its context.
 *
 * Contract: a timer callback always runs later, from the event loop, never inside
 * env_schedule; timers due at the same time run in the order they were scheduled. */
#ifndef SHARDSIM_CORE_ENV_H
#define SHARDSIM_CORE_ENV_H

#include <stdint.h>

typedef void (*env_timer_fn)(void *arg, uint64_t a, uint64_t b);

typedef struct env_vtable {
    int version; /* 1 */
    const char *name;
    uint64_t (*now_ns)(void *ctx);
    /* Run fn(arg, a, b) at at_ns (>= now). Returns 0 or a negative SS_E* code. */
    int (*schedule)(void *ctx, uint64_t at_ns, env_timer_fn fn, void *arg, uint64_t a, uint64_t b);
} env_vtable;

typedef struct env {
    const env_vtable *vt;
    void *ctx;
} env;

static inline uint64_t env_now(const env *e) {
    return e->vt->now_ns(e->ctx);
}

static inline int env_schedule(const env *e, uint64_t at_ns, env_timer_fn fn, void *arg, uint64_t a,
                               uint64_t b) {
    return e->vt->schedule(e->ctx, at_ns, fn, arg, a, b);
}

#endif
