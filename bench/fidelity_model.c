/* fidelity_model.c -- see fidelity_model.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/coord.h"
#include "backends/mock/mock.h"
#include "backends/recipes/recipes.h"
#include "bench/fidelity_model.h"
#include "core/error.h"
#include "core/prng.h"
#include "sim/env_sim.h"

#define MS 1000000ULL

typedef struct trial {
    env_sim clock;
    int leading;         /* the standby leads */
    size_t members;      /* what the watcher lists now */
    uint64_t changed_ns; /* when either of those last changed */
    int listed;          /* the watcher has listed at least once */
} trial;

static void on_leader(void *arg, int leading, int64_t epoch) {
    (void)epoch;
    trial *t = arg;
    t->leading = leading;
    t->changed_ns = t->clock.now_ns;
}

static void victim_leader(void *arg, int leading, int64_t epoch) {
    (void)arg, (void)leading, (void)epoch;
}

static void on_members(void *arg, const char *const *names, size_t count) {
    (void)names;
    trial *t = arg;
    t->members = count;
    t->listed = 1;
    t->changed_ns = t->clock.now_ns;
}

static void ignore(void *arg, int rc, const coord_result *res) {
    (void)arg, (void)rc, (void)res;
}

/* Run the model until `done` or until the clock passes limit_ns, in 1 ms steps. */
static int run_until(trial *t, int (*done)(const trial *), uint64_t limit_ns) {
    while (!done(t) && t->clock.now_ns < limit_ns)
        env_sim_run_until(&t->clock, t->clock.now_ns + MS);
    return done(t);
}

static int standby_leads(const trial *t) {
    return t->leading;
}

static int member_listed(const trial *t) {
    return t->listed && t->members == 1;
}

static int member_gone(const trial *t) {
    return t->listed && t->members == 0;
}

/* One trial: the time from the victim's death to the survivor noticing, in ns; 0 if it
 * never did within 3 timeouts. */
static uint64_t one_trial(const mock_config *cfg, uint64_t timeout_ns, int kind, uint64_t seed) {
    trial t;
    memset(&t, 0, sizeof t);
    mock_zk *zk = NULL;
    if (env_sim_init(&t.clock) != 0 || mock_create(&t.clock.env, cfg, &zk) != 0)
        return 0;
    const coord_backend *b = &mock_backend;
    coord_session *victim = calloc(1, b->session_size), *survivor = calloc(1, b->session_size);
    uint64_t took = 0;
    if (!victim || !survivor)
        goto done;
    b->open(zk, victim, timeout_ns, NULL, NULL);
    b->open(zk, survivor, timeout_ns, NULL, NULL);
    coord_create(b, survivor, "/dir", NULL, 0, 0, ignore, NULL);
    env_sim_run_until(&t.clock, t.clock.now_ns + 100 * MS);
    recipe_latch victim_latch, survivor_latch;
    recipe_watcher watcher;
    if (kind == FIDELITY_FAILOVER) {
        recipe_latch_start(&victim_latch, b, victim, "/dir", 0, victim_leader, NULL);
        env_sim_run_until(&t.clock, t.clock.now_ns + 100 * MS); /* the victim leads */
        recipe_latch_start(&survivor_latch, b, survivor, "/dir", 0, on_leader, &t);
    } else {
        coord_create(b, victim, "/dir/member", NULL, 0, COORD_EPHEMERAL, ignore, NULL);
        env_sim_run_until(&t.clock, t.clock.now_ns + 100 * MS);
        recipe_members_watch(&watcher, b, survivor, "/dir", on_members, &t);
        if (!run_until(&t, member_listed, t.clock.now_ns + timeout_ns))
            goto done;
    }
    /* the process dies at a uniformly random moment within T after it was established */
    prng r;
    prng_stream(&r, seed, 0, 0xF1DE);
    uint64_t kill_ns = t.clock.now_ns + prng_below(&r, timeout_ns);
    env_sim_run_until(&t.clock, kill_ns);
    if (t.leading) /* the standby must not lead before the victim dies */
        goto done;
    mock_kill_client(zk, victim);
    int noticed = run_until(&t, kind == FIDELITY_FAILOVER ? standby_leads : member_gone,
                            kill_ns + 3 * timeout_ns);
    took = noticed ? t.changed_ns - kill_ns : 0;
done:
    if (victim)
        b->close(victim, NULL, NULL);
    if (survivor)
        b->close(survivor, NULL, NULL);
    env_sim_run_until(&t.clock, t.clock.now_ns + 100 * timeout_ns);
    mock_free(zk);
    env_sim_free(&t.clock);
    free(victim);
    free(survivor);
    return took;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double quantile(const double *sorted, uint32_t n, double q) {
    double pos = q * (double)(n - 1);
    uint32_t i = (uint32_t)pos;
    double frac = pos - (double)i;
    return i + 1 < n ? sorted[i] * (1 - frac) + sorted[i + 1] * frac : sorted[n - 1];
}

int fidelity_model(const char *profile, uint64_t tick_ns, uint64_t timeout_ns, int kind,
                   uint32_t trials, uint64_t seed, fidelity_figure *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    if (trials == 0) {
        snprintf(err, errlen, "no trials");
        return SS_EINVAL;
    }
    mock_config cfg;
    mock_config_defaults(&cfg);
    cfg.tick_ns = tick_ns;
    cfg.latency_dist = MOCK_LATENCY_LOGNORMAL;
    if (profile && mock_profile_load(profile, &cfg, err, errlen) != 0)
        return SS_EINVAL;
    double *ms = calloc(trials ? trials : 1, sizeof *ms);
    if (!ms)
        return SS_ENOMEM;
    for (uint32_t i = 0; i < trials; i++) {
        cfg.seed = seed + i;
        uint64_t took = one_trial(&cfg, timeout_ns, kind, seed + i);
        if (took == 0) {
            snprintf(err, errlen, "trial %u (seed %llu): the loss was never noticed", i,
                     (unsigned long long)(seed + i));
            free(ms);
            return SS_EINVAL;
        }
        ms[i] = (double)took / 1e6;
    }
    qsort(ms, trials, sizeof *ms, cmp_double);
    *out = (fidelity_figure){quantile(ms, trials, 0.5),
                             quantile(ms, trials, 0.1),
                             quantile(ms, trials, 0.9),
                             ms[0],
                             ms[trials - 1],
                             trials};
    free(ms);
    return 0;
}
