/* test_ensemble.c -- the coordination ensemble's leader lost under a running job, in the
 * model: every client of every server is disconnected while the ensemble elects (as a
 * real follower closes its client connections), so a job-manager leader that does not
 * tolerate suspension gives up leadership and the job restarts from its last
 * checkpoint; one that tolerates it runs through. Both stay exactly-once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sim/config.h"
#include "sim/sim.h"
#include "tests/simutil.h"

static void run_ensemble(int tolerate, uint64_t seed, sim_result *r) {
    sim_config c;
    config_defaults(&c);
    const char *kv[][2] = {{"duration_s", "40"},
                           {"workers", "4"},
                           {"slots_per_worker", "2"},
                           {"parallelism", "4"},
                           {"keys", "5000"},
                           {"rate", "20000"},
                           {"checkpoint_interval_s", "2"},
                           {"coordination", "mock"},
                           {"job_managers", "2"},
                           {"session_timeout_s", "10"},
                           {"zk_servers", "3"},
                           {"faults", "20 crash-zk 0"}}; /* server 0 leads the ensemble */
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
        su_set(&c, kv[i][0], kv[i][1]);
    su_set(&c, "tolerate_suspended", tolerate ? "1" : "0");
    char err[256];
    int rc = config_check(&c, err, sizeof err);
    if (rc == 0)
        rc = sim_run(&c, seed, 0, r, err, sizeof err);
    if (rc != 0)
        fail_msg("tolerate_suspended = %d, seed %llu: %s", tolerate, (unsigned long long)seed, err);
}

static void ensemble_leader_loss_restarts_an_intolerant_leader(void **state) {
    (void)state;
    for (uint64_t seed = 1; seed <= 5; seed++) {
        sim_result r;
        run_ensemble(0, seed, &r);
        assert_true(r.exactly_once_ok);
        assert_int_equal(r.failover_count, 1);
        assert_string_equal(r.failovers[0].kind, "leader-change");
        assert_true(r.failovers[0].fault_ns >= 20000000000ULL); /* suspended at the crash */
        assert_true(r.failovers[0].fault_ns < 21000000000ULL);
        assert_true(r.elections >= 2);
        sim_result_free(&r);
    }
}

static void ensemble_leader_loss_passes_a_tolerant_leader(void **state) {
    (void)state;
    for (uint64_t seed = 1; seed <= 5; seed++) {
        sim_result r;
        run_ensemble(1, seed, &r);
        assert_true(r.exactly_once_ok);
        assert_int_equal(r.failover_count, 0); /* the job ran through */
        assert_int_equal(r.elections, 1);
        sim_result_free(&r);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ensemble_leader_loss_restarts_an_intolerant_leader),
        cmocka_unit_test(ensemble_leader_loss_passes_a_tolerant_leader),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
