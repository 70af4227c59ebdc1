/* env_rt.h -- the env (core/env.h) in real time, for driving a real coordination
 * service (backends/zookeeper): now_ns is CLOCK_MONOTONIC since env_rt_init, timers sit
 * in a min-heap ordered by (time, schedule order), and post is thread-safe (a
 * mutex-protected FIFO and a condition variable that wakes the sleeping loop).
 *
 * The loop is small in the style of Redis's ae.c and libuv's uv__run_timers: each pass
 * collects what is due -- the timers due when the pass starts and the posts queued by
 * then -- and runs them; work added meanwhile waits for the next pass. Between passes it
 * sleeps until the next timer, a post, or the deadline.
 *
 * Threads: env_rt_run, now_ns and schedule belong to one thread (the loop's); post may
 * be called from any thread, also while the loop runs or sleeps. Nothing here is
 * deterministic: simulations use sim/env_sim.h.
 *
 * Ownership: the caller owns the env_rt struct; env_rt_free drops pending timers and
 * posts without running them (their arguments stay the caller's). */
#ifndef SHARDSIM_SIM_ENV_RT_H
#define SHARDSIM_SIM_ENV_RT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "core/env.h"

typedef struct env_rt_entry {
    uint64_t at_ns; /* timers: when due */
    uint64_t seq;   /* timers: schedule order, breaks ties */
    env_timer_fn fn;
    void *arg;
    uint64_t a, b;
} env_rt_entry;

typedef struct env_rt {
    env env;              /* hand &env_rt.env to backends */
    uint64_t origin_ns;   /* CLOCK_MONOTONIC at init */
    env_rt_entry *timers; /* binary min-heap by (at_ns, seq); loop thread only */
    size_t timer_count, timer_cap;
    uint64_t next_seq;
    pthread_mutex_t lock; /* guards the post FIFO */
    pthread_cond_t wake;  /* signalled by post; CLOCK_MONOTONIC */
    env_rt_entry *posts;  /* ring buffer */
    size_t post_head, post_count, post_cap;
    uint64_t fired; /* callbacks run, timers and posts */
} env_rt;

/* Initialise r. Returns 0, SS_ENOMEM, or SS_EIO if the monotonic clock or the
 * condition variable cannot be set up. */
int env_rt_init(env_rt *r);
void env_rt_free(env_rt *r);

/* Run due timers and posts, sleeping in between, until stop(arg) returns nonzero
 * (checked on entry and after each callback; stop may be NULL) or until the env's time
 * reaches deadline_ns (UINT64_MAX: no deadline). Returns 0 when stop said so, or
 * SS_EEMPTY when the deadline came first. Not reentrant: a callback must not call
 * env_rt_run. */
int env_rt_run(env_rt *r, uint64_t deadline_ns, int (*stop)(void *arg), void *arg);

#endif
