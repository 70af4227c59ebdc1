/* env_sim.c -- virtual-time env over sim/queue; see env_sim.h. A timer's callback
 * pointer, argument and two words travel in the event's 32-byte payload. */
#include <string.h>

#include "core/assert.h"
#include "core/error.h"
#include "sim/env_sim.h"

typedef struct timer_payload {
    env_timer_fn fn;
    void *arg;
    uint64_t a, b;
} timer_payload;

_Static_assert(sizeof(timer_payload) <= QUEUE_PAYLOAD_BYTES, "timer payload fits an event");

static uint64_t now(void *ctx) {
    return ((env_sim *)ctx)->now_ns;
}

static int schedule(void *ctx, uint64_t at_ns, env_timer_fn fn, void *arg, uint64_t a, uint64_t b) {
    env_sim *s = ctx;
    timer_payload p = {fn, arg, a, b};
    return queue_push(s->q, at_ns < s->now_ns ? s->now_ns : at_ns, 0, &p, sizeof p, NULL);
}

/* One thread in virtual time: a post is a timer due now. */
static int post(void *ctx, env_timer_fn fn, void *arg, uint64_t a, uint64_t b) {
    return schedule(ctx, ((env_sim *)ctx)->now_ns, fn, arg, a, b);
}

static const env_vtable sim_vtable = {
    .version = 2,
    .name = "sim",
    .now_ns = now,
    .schedule = schedule,
    .post = post,
};

int env_sim_init(env_sim *s) {
    memset(s, 0, sizeof *s);
    s->env.vt = &sim_vtable;
    s->env.ctx = s;
    return queue_create(256, &s->q);
}

void env_sim_free(env_sim *s) {
    queue_free(s->q);
}

uint64_t env_sim_run_until(env_sim *s, uint64_t until_ns) {
    uint64_t count = 0, t;
    queue_event ev;
    while (queue_peek_time(s->q, &t) == 0 && t <= until_ns) {
        int rc = queue_pop(s->q, &ev);
        SS_ASSERT(rc == 0 && ev.time_ns == t);
        SS_ASSERT(ev.time_ns >= s->now_ns); /* virtual time never goes backwards */
        s->now_ns = ev.time_ns;
        timer_payload p;
        memcpy(&p, ev.payload.bytes, sizeof p);
        p.fn(p.arg, p.a, p.b);
        count++;
        s->fired++;
    }
    if (until_ns != UINT64_MAX && until_ns > s->now_ns)
        s->now_ns = until_ns; /* forward only */
    return count;
}
