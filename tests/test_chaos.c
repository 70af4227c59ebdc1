/* test_chaos.c -- randomized failure injection in the style of Jepsen: many short runs
 * of a job with job-manager HA through the ZooKeeper model, each under a fault schedule
 * drawn from its own seed (worker crashes and restarts, job-manager crashes and
 * partitions, session expiries, dropped connections, coordination server crashes,
 * quorum loss, slow operations, rescales: the random_faults campaign of sim/faults.c),
 * on an ensemble whose followers lag. Every
 * run must finish and stay exactly-once -- even with fencing off (a quarter of the
 * runs), since restores check each pointer's CRC -- and with fencing no deposed leader
 * may commit; a run repeated gives the same trace digest. A failing seed is printed with
 * its settings and schedule, ready for `shardsim run SCENARIO --seed ... --set ...`
 * (CHAOS_VERBOSE=1 prints every run's; CHAOS_FROM=N starts at seed N; CHAOS_RUNS=N
 * runs up to seed N). 3000 seeds pass; the suite runs 60. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/prng.h"
#include "sim/config.h"
#include "sim/sim.h"

#define RUNS 60 /* CHAOS_RUNS=N for a longer hunt */
#define DURATION_S 30

static void set(sim_config *c, const char *k, const char *v) {
    char err[256];
    if (config_set(c, k, v, err, sizeof err) != 0)
        fail_msg("%s = %s: %s", k, v, err);
}

static void configure(sim_config *c, prng *r) {
    char buf[32];
    config_defaults(c);
    const char *kv[][2] = {{"workers", "4"},
                           {"slots_per_worker", "2"},
                           {"parallelism", "4"},
                           {"keys", "2000"},
                           {"rate", "5000"},
                           {"checkpoint_interval_s", "1"},
                           {"heartbeat_interval_s", "1"},
                           {"heartbeat_timeout_s", "3"},
                           {"coordination", "mock"},
                           {"job_managers", "3"},
                           {"zk_servers", "3"}};
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
        set(c, kv[i][0], kv[i][1]);
    snprintf(buf, sizeof buf, "%d", DURATION_S);
    set(c, "duration_s", buf);
    snprintf(buf, sizeof buf, "%u", 4 + 2 * (unsigned)prng_below(r, 4)); /* 4 .. 10 s */
    set(c, "session_timeout_s", buf);
    snprintf(buf, sizeof buf, "%u", (unsigned)prng_below(r, 3) * 500); /* 0, 0.5, 1 ms */
    set(c, "zk_follower_lag_us", buf);
    set(c, "worker_detection", prng_below(r, 2) ? "session" : "heartbeat");
    set(c, "tolerate_suspended", prng_below(r, 2) ? "1" : "0");
    set(c, "assignment", prng_below(r, 3) == 0 ? "coordinated" : "direct");
    set(c, "fencing", prng_below(r, 4) == 0 ? "0" : "1"); /* off: stale commits may land */
    snprintf(buf, sizeof buf, "%u", 2 + (unsigned)prng_below(r, 5)); /* 2 .. 6 faults */
    set(c, "random_faults", buf);
}

static void random_schedules_keep_exactly_once(void **state) {
    (void)state;
    const char *from = getenv("CHAOS_FROM"), *runs = getenv("CHAOS_RUNS");
    uint64_t last = runs ? strtoull(runs, NULL, 10) : RUNS;
    for (uint64_t seed = from ? strtoull(from, NULL, 10) : 1; seed <= last; seed++) {
        prng r;
        prng_stream(&r, seed, 0, 0xC4A05);
        sim_config c;
        configure(&c, &r);
        char how[256];
        snprintf(how, sizeof how,
                 "--seed %llu --set session_timeout_s=%g --set zk_follower_lag_us=%g --set "
                 "worker_detection=%s --set tolerate_suspended=%d --set assignment=%s --set "
                 "fencing=%d --set random_faults=%u",
                 (unsigned long long)seed, (double)c.session_timeout_ns / 1e9,
                 c.zk_follower_lag_ns / 1e3,
                 c.worker_detection == SIM_DETECT_SESSION ? "session" : "heartbeat",
                 c.tolerate_suspended, c.coordinated_assignment ? "coordinated" : "direct",
                 c.fencing, c.random_faults);
        sim_result res;
        char err[256];
        if (sim_run(&c, seed, 0, &res, err, sizeof err) != 0)
            fail_msg("%s: %s", how, err);
        if (getenv("CHAOS_VERBOSE"))
            fprintf(stderr, "%s: failovers %zu elections %llu skipped %llu | %s\n", how,
                    res.failover_count, (unsigned long long)res.elections,
                    (unsigned long long)res.pointers_skipped, res.fault_schedule);
        if (!res.exactly_once_ok)
            fail_msg("%s: exactly-once violated: %s (faults: %s)", how, res.exactly_once_detail,
                     res.fault_schedule);
        if (c.fencing && res.stale_commits != 0)
            fail_msg("%s: %llu stale commits with fencing (faults: %s)", how,
                     (unsigned long long)res.stale_commits, res.fault_schedule);
        assert_non_null(res.fault_schedule);
        uint64_t digest = res.trace_digest;
        sim_result_free(&res);
        if (seed <= 3) { /* the same seed replays the same run */
            assert_int_equal(sim_run(&c, seed, 0, &res, err, sizeof err), 0);
            assert_int_equal(res.trace_digest, digest);
            sim_result_free(&res);
        }
        config_free(&c);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(random_schedules_keep_exactly_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
