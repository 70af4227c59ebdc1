/* loop_env.c -- the coordination's env (core/env.h) on a simulation run's own loop.
 *
 * Virtual time: a coordination timer is an EV_ENV event in the run's queue, ordered
 * with the job model's events by (time, sequence); a post is a timer due now.
 *
 * Real time (a backend that says real_time, a real ZooKeeper): the same queue, but the
 * loop holds each event back until the monotonic clock (sim/env_rt) reaches it, times
 * time_scale, and meanwhile runs what the backend's client threads posted, with the
 * run's clock moved on to the real one. A service that stays away fails the run after
 * 3 session timeouts instead of hanging it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "sim/env_rt.h"
#include "sim/sim_internal.h"

typedef struct env_payload {
    env_timer_fn fn;
    void *arg;
    uint64_t a, b;
} env_payload;

_Static_assert(sizeof(env_payload) <= QUEUE_PAYLOAD_BYTES, "env timer fits an event");

static uint64_t env_now_ns(void *ctx) {
    return ((sim *)ctx)->now;
}

static int env_push(void *ctx, uint64_t at_ns, env_timer_fn fn, void *arg, uint64_t a, uint64_t b) {
    sim *s = ctx;
    env_payload p = {fn, arg, a, b};
    return queue_push(s->q, at_ns < s->now ? s->now : at_ns, EV_ENV, &p, sizeof p, NULL);
}

/* One thread in virtual time: a post is a timer due now. */
static int env_post_now(void *ctx, env_timer_fn fn, void *arg, uint64_t a, uint64_t b) {
    return env_push(ctx, ((sim *)ctx)->now, fn, arg, a, b);
}

static const env_vtable sim_env_vtable = {2, "sim", env_now_ns, env_push, env_post_now};

void sim_env_timer(sim *s, const queue_event *ev) {
    (void)s;
    env_payload p;
    memcpy(&p, ev->payload.bytes, sizeof p);
    p.fn(p.arg, p.a, p.b);
}

/* ---- real time ---- */

static uint64_t real_of_sim(const sim *s, uint64_t t) {
    double real = (double)t * s->cfg->time_scale;
    return real >= 1.8e19 ? UINT64_MAX : (uint64_t)real;
}

/* The run's clock follows the monotonic one (it never goes back). */
static void follow_clock(sim *s) {
    uint64_t t = (uint64_t)((double)env_now(&s->rt->env) / s->cfg->time_scale);
    if (t > s->now)
        s->now = t;
}

typedef struct rt_post {
    sim *s;
    env_timer_fn fn;
    void *arg;
    uint64_t a, b;
} rt_post;

static void rt_trampoline(void *arg, uint64_t a, uint64_t b) {
    (void)a, (void)b;
    rt_post p = *(rt_post *)arg;
    free(arg);
    follow_clock(p.s);
    p.fn(p.arg, p.a, p.b);
}

/* Any thread: queue fn for the loop (env_rt's post is the thread-safe part). */
static int env_post_rt(void *ctx, env_timer_fn fn, void *arg, uint64_t a, uint64_t b) {
    sim *s = ctx;
    rt_post *p = malloc(sizeof *p);
    if (!p)
        return SS_ENOMEM;
    *p = (rt_post){s, fn, arg, a, b};
    int rc = env_post(&s->rt->env, rt_trampoline, p, 0, 0);
    if (rc != 0)
        free(p);
    return rc;
}

static const env_vtable rt_env_vtable = {2, "sim-rt", env_now_ns, env_push, env_post_rt};

int sim_env_init(sim *s, int real_time) {
    s->env = (env){&sim_env_vtable, s};
    if (!real_time)
        return 0;
    s->rt = malloc(sizeof *s->rt);
    if (!s->rt || env_rt_init(s->rt) != 0) {
        free(s->rt);
        s->rt = NULL;
        return SS_EIO;
    }
    s->env = (env){&rt_env_vtable, s};
    return 0;
}

void sim_env_free(sim *s) {
    if (s->rt) {
        env_rt_free(s->rt);
        free(s->rt);
        s->rt = NULL;
    }
}

/* env_rt_run's stop: once one callback ran. */
static int ran_one(void *arg) {
    const sim *s = arg;
    return s->rt->fired != s->pace_fired;
}

/* Run at most one post, waiting until real time reaches deadline_real at most.
 * 1 if a post ran. */
static int run_one_post(sim *s, uint64_t deadline_real) {
    s->pace_fired = s->rt->fired;
    env_rt_run(s->rt, deadline_real, ran_one, s);
    return s->rt->fired != s->pace_fired;
}

/* A service that stays away must not hang a real-time run. */
static int watchdog(sim *s) {
    uint64_t now = env_now(&s->rt->env);
    if (!s->ha || ha_connected(s->ha))
        s->rt_connected_ns = now;
    uint64_t limit = 3 * s->cfg->session_timeout_ns;
    limit = limit > 10000000000ULL ? limit : 10000000000ULL;
    if (now - s->rt_connected_ns <= limit)
        return 0;
    char msg[512];
    snprintf(msg, sizeof msg,
             "coordination: no ZooKeeper server reachable at %s for %.0f s (3 session timeouts)",
             s->cfg->zk_connect, (double)limit / 1e9);
    sim_fail(s, SS_EIO, msg);
    return 1;
}

void sim_pace(sim *s) {
    for (;;) {
        if (watchdog(s))
            return;
        uint64_t t, now = env_now(&s->rt->env);
        if (queue_peek_time(s->q, &t) != 0) {
            /* nothing queued: the job waits on the service (a session to expire, a
             * watch to fire); 3 session timeouts (10 s at least) without a post end it */
            uint64_t idle = 3 * s->cfg->session_timeout_ns;
            idle = idle > 10000000000ULL ? idle : 10000000000ULL;
            if (!run_one_post(s, now + idle))
                return;
            continue;
        }
        uint64_t due = real_of_sim(s, t);
        if (now >= due)
            return;
        uint64_t wait = due - now < 500000000ULL ? due : now + 500000000ULL; /* re-check */
        if (!run_one_post(s, wait) && wait == due)
            return; /* the next event is due */
    }
}

void sim_drain(sim *s, int (*done)(const struct ha *), const struct ha *arg) {
    if (s->rt) { /* the replies come from the client's threads: 10 s at most */
        uint64_t deadline = env_now(&s->rt->env) + 10000000000ULL;
        while (!done(arg) && env_now(&s->rt->env) < deadline)
            run_one_post(s, deadline);
        return;
    }
    queue_event ev; /* the job model's own events are dropped: the run is over */
    for (uint64_t n = 0; !done(arg) && n < 100000000 && queue_pop(s->q, &ev) == 0; n++)
        if (ev.type == EV_ENV) {
            s->now = ev.time_ns > s->now ? ev.time_ns : s->now;
            sim_env_timer(s, &ev);
        }
}
