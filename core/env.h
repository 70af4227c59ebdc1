/* env.h -- time, timers and a loop for the layers above core/, so the coordination
 * backends run unchanged in virtual time (sim/env_sim.c, the simulator's own loop) and
 * in real time (sim/env_rt.c: the monotonic clock, for a real ZooKeeper). Modelled on
 * SQLite's xCurrentTime and libuv's timers and uv_async_send: a const vtable plus its
 * context.
 *
 * Contract: a timer callback always runs later, from the event loop, never inside
 * env_schedule; timers due at the same time run in the order they were scheduled.
 * now_ns and schedule are called on the loop's thread only. post is the one entry
 * that any thread may call: it queues fn to run on the loop's thread as soon as the
 * loop gets to it (waking a loop that sleeps), in the order posted; in virtual time
 * there is only one thread and it is a timer due now. */
#ifndef SHARDSIM_CORE_ENV_H
#define SHARDSIM_CORE_ENV_H

#include <stdint.h>

typedef void (*env_timer_fn)(void *arg, uint64_t a, uint64_t b);

typedef struct env_vtable {
    int version; /* 2 */
    const char *name;
    uint64_t (*now_ns)(void *ctx);
    /* Run fn(arg, a, b) at at_ns (>= now). Returns 0 or a negative SS_E* code. */
    int (*schedule)(void *ctx, uint64_t at_ns, env_timer_fn fn, void *arg, uint64_t a, uint64_t b);
    /* Thread-safe: run fn(arg, a, b) on the loop's thread soon. 0 or SS_E*. */
    int (*post)(void *ctx, env_timer_fn fn, void *arg, uint64_t a, uint64_t b);
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

static inline int env_post(const env *e, env_timer_fn fn, void *arg, uint64_t a, uint64_t b) {
    return e->vt->post(e->ctx, fn, arg, a, b);
}

#endif
