/* env_rt.c -- the real-time env; see env_rt.h. With sim/env_real.c, the only file of
 * core/ and sim/ that reads a clock (tests/check_layers.sh allows both). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/error.h"
#include "sim/env_rt.h"

#define NS_PER_SEC 1000000000ULL

static uint64_t monotonic_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

static uint64_t rt_now(void *ctx) {
    const env_rt *r = ctx;
    return monotonic_ns() - r->origin_ns;
}

/* ---------- the timer heap (loop thread only) ---------- */

static int entry_before(const env_rt_entry *x, const env_rt_entry *y) {
    return x->at_ns < y->at_ns || (x->at_ns == y->at_ns && x->seq < y->seq);
}

static void heap_swap(env_rt_entry *h, size_t i, size_t j) {
    env_rt_entry t = h[i];
    h[i] = h[j];
    h[j] = t;
}

static void heap_up(env_rt_entry *h, size_t i) {
    while (i > 0 && entry_before(&h[i], &h[(i - 1) / 2])) {
        heap_swap(h, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static void heap_down(env_rt_entry *h, size_t n, size_t i) {
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && entry_before(&h[l], &h[m]))
            m = l;
        if (r < n && entry_before(&h[r], &h[m]))
            m = r;
        if (m == i)
            return;
        heap_swap(h, i, m);
        i = m;
    }
}

static int rt_schedule(void *ctx, uint64_t at_ns, env_timer_fn fn, void *arg, uint64_t a,
                       uint64_t b) {
    env_rt *r = ctx;
    if (r->timer_count == r->timer_cap) {
        size_t cap = r->timer_cap ? 2 * r->timer_cap : 64;
        env_rt_entry *t = realloc(r->timers, cap * sizeof *t);
        if (!t)
            return SS_ENOMEM;
        r->timers = t;
        r->timer_cap = cap;
    }
    env_rt_entry e = {at_ns, r->next_seq++, fn, arg, a, b};
    r->timers[r->timer_count] = e;
    heap_up(r->timers, r->timer_count++);
    return 0;
}

/* ---------- the post FIFO (any thread) ---------- */

static int rt_post(void *ctx, env_timer_fn fn, void *arg, uint64_t a, uint64_t b) {
    env_rt *r = ctx;
    int rc = 0;
    pthread_mutex_lock(&r->lock);
    if (r->post_count == r->post_cap) {
        size_t cap = r->post_cap ? 2 * r->post_cap : 64;
        env_rt_entry *p = malloc(cap * sizeof *p);
        if (!p) {
            rc = SS_ENOMEM;
            goto out;
        }
        for (size_t i = 0; i < r->post_count; i++) /* unwrap the ring */
            p[i] = r->posts[(r->post_head + i) % r->post_cap];
        free(r->posts);
        r->posts = p;
        r->post_head = 0;
        r->post_cap = cap;
    }
    env_rt_entry e = {0, 0, fn, arg, a, b};
    r->posts[(r->post_head + r->post_count++) % r->post_cap] = e;
    pthread_cond_signal(&r->wake);
out:
    pthread_mutex_unlock(&r->lock);
    return rc;
}

static const env_vtable rt_vtable = {
    .version = 2,
    .name = "rt",
    .now_ns = rt_now,
    .schedule = rt_schedule,
    .post = rt_post,
};

int env_rt_init(env_rt *r) {
    memset(r, 0, sizeof *r);
    r->env.vt = &rt_vtable;
    r->env.ctx = r;
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        return SS_EIO;
    r->origin_ns = (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
    pthread_condattr_t attr;
    if (pthread_condattr_init(&attr) != 0)
        return SS_ENOMEM;
    int bad = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) != 0 ||
              pthread_cond_init(&r->wake, &attr) != 0;
    pthread_condattr_destroy(&attr);
    if (bad)
        return SS_EIO;
    if (pthread_mutex_init(&r->lock, NULL) != 0) {
        pthread_cond_destroy(&r->wake);
        return SS_EIO;
    }
    return 0;
}

void env_rt_free(env_rt *r) {
    pthread_mutex_destroy(&r->lock);
    pthread_cond_destroy(&r->wake);
    free(r->timers);
    free(r->posts);
    r->timers = r->posts = NULL;
    r->timer_count = r->post_count = 0;
}

/* ---------- the loop ---------- */

/* The number of posts queued now. */
static size_t posts_queued(env_rt *r) {
    pthread_mutex_lock(&r->lock);
    size_t n = r->post_count;
    pthread_mutex_unlock(&r->lock);
    return n;
}

/* Take the oldest post (one is queued: only the loop takes). */
static env_rt_entry take_post(env_rt *r) {
    pthread_mutex_lock(&r->lock);
    env_rt_entry e = r->posts[r->post_head];
    r->post_head = (r->post_head + 1) % r->post_cap;
    r->post_count--;
    pthread_mutex_unlock(&r->lock);
    return e;
}

/* Sleep until wake_ns (env time) or a post, whichever comes first. */
static void sleep_until(env_rt *r, uint64_t wake_ns) {
    uint64_t abs_ns = r->origin_ns + wake_ns;
    if (wake_ns == UINT64_MAX || abs_ns < r->origin_ns)
        abs_ns = UINT64_MAX / 2; /* no deadline: a very long sleep, ended by a post */
    struct timespec ts = {(time_t)(abs_ns / NS_PER_SEC), (long)(abs_ns % NS_PER_SEC)};
    pthread_mutex_lock(&r->lock);
    while (r->post_count == 0) {
        int rc = pthread_cond_timedwait(&r->wake, &r->lock, &ts);
        if (rc == ETIMEDOUT || rc == EINVAL)
            break;
    }
    pthread_mutex_unlock(&r->lock);
}

/* One pass: the timers due at its start (scheduled before it), then the posts queued by
 * then. Returns the number of callbacks run, or -1 once stop said so. */
static long run_pass(env_rt *r, int (*stop)(void *arg), void *arg) {
    uint64_t now = rt_now(r), cutoff = r->next_seq;
    long ran = 0;
    while (r->timer_count > 0 && r->timers[0].at_ns <= now && r->timers[0].seq < cutoff) {
        env_rt_entry e = r->timers[0];
        r->timers[0] = r->timers[--r->timer_count];
        heap_down(r->timers, r->timer_count, 0);
        e.fn(e.arg, e.a, e.b);
        r->fired++;
        ran++;
        if (stop && stop(arg))
            return -1;
    }
    /* posts queued by now; later ones (also those these callbacks make) wait */
    for (size_t i = 0, n = posts_queued(r); i < n; i++) {
        env_rt_entry e = take_post(r);
        e.fn(e.arg, e.a, e.b);
        r->fired++;
        ran++;
        if (stop && stop(arg))
            return -1;
    }
    return ran;
}

int env_rt_run(env_rt *r, uint64_t deadline_ns, int (*stop)(void *arg), void *arg) {
    if (stop && stop(arg))
        return 0;
    for (;;) {
        if (rt_now(r) >= deadline_ns)
            return SS_EEMPTY;
        long ran = run_pass(r, stop, arg);
        if (ran < 0)
            return 0;
        if (ran > 0)
            continue; /* something ran: more may be due already */
        uint64_t wake = deadline_ns;
        if (r->timer_count > 0 && r->timers[0].at_ns < wake)
            wake = r->timers[0].at_ns;
        sleep_until(r, wake);
    }
}
