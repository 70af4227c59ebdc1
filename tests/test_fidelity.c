/* test_fidelity.c -- the job model's fidelity to Flink (issue 9): TaskManager-loss
 * detection by heartbeat, RPC failures and connection loss; a leader change restarting
 * without the restart strategy's delay; the output-buffer latency; achieved against
 * offered throughput; the time series' backlog; fault times drawn from a spread. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "sim/config.h"
#include "sim/sim.h"
#include "tests/simutil.h"

/* 4 workers x 2 slots, 4 subtasks, 20k records/s for 6 s, heartbeats every 1 s. */

/* Healthy windows: the records queued at the window's end are about rate x latency
 * (Little's law), not a running total of the run. */
static void backlog_is_the_queued_records(void **state) {
    (void)state;
    sim_config c;
    su_small(&c);
    sim_result r;
    su_run_ok(&c, 1, &r);
    for (size_t w = 1; w < 5; w++) {
        double expect = 20000.0 * (double)r.windows[w].p50_ns / 1e9;
        double backlog = (double)r.windows[w].backlog;
        assert_true(backlog > expect / 3 && backlog < expect * 3);
        assert_true(r.windows[w].backlog < 20000); /* under a second's records */
        assert_int_equal(r.windows[w].down, 0);
    }
    sim_result_free(&r);
}

/* 4 subtasks x 4000 records/s < 20000/s offered: the job achieves what it can. */
static void achieved_below_offered_when_overloaded(void **state) {
    (void)state;
    sim_config c;
    su_small(&c);
    su_set(&c, "service_us", "250");
    su_set(&c, "duration_s", "2");
    sim_result r;
    su_run_ok(&c, 6, &r);
    assert_true(r.offered_rps > 19999 && r.offered_rps < 20001);
    assert_true(r.throughput_rps < 0.9 * r.offered_rps);
    assert_true(r.throughput_rps > 0.5 * 16000); /* about the operator's capacity */
    sim_result_free(&r);
    su_small(&c); /* healthy: about the offered rate */
    su_run_ok(&c, 6, &r);
    assert_true(r.throughput_rps > 0.98 * r.offered_rps);
    sim_result_free(&r);
}

/* A new leader restarts the job at once, whatever the restart strategy's delay. */
static void leader_change_restarts_without_the_strategy_delay(void **state) {
    (void)state;
    sim_config c;
    su_small(&c);
    su_set(&c, "duration_s", "40");
    su_set(&c, "coordination", "mock");
    su_set(&c, "session_timeout_s", "4");
    su_set(&c, "restart_strategy", "fixed");
    su_set(&c, "restart_delay_s", "30");
    su_set(&c, "faults", "15 crash-leader 0");
    sim_result r;
    su_run_ok(&c, 2, &r);
    assert_true(r.exactly_once_ok);
    assert_int_equal(r.failover_count, 1);
    const sim_failover *f = &r.failovers[0];
    assert_true(f->restarted_ns >= f->elected_ns);
    assert_true(f->restarted_ns - f->elected_ns < 100000000ULL); /* not 30 s */
    /* then the fixed costs: deployment and the state backend, before the restore */
    assert_true(f->restored_ns - f->restarted_ns >= 600000000ULL);
    sim_result_free(&r);
}

static uint64_t detection_ns(const char *modes, uint64_t seed) {
    sim_config c;
    su_small(&c);
    su_set(&c, "worker_detection", modes);
    su_set(&c, "faults", "2.5 crash-worker 1; 4 restart-worker 1");
    sim_result r;
    su_run_ok(&c, seed, &r);
    assert_int_equal(r.failover_count, 1);
    uint64_t d = r.failovers[0].detected_ns - r.failovers[0].fault_ns;
    sim_result_free(&r);
    return d;
}

/* rpc: the 2nd heartbeat after the crash (interval 1 s) is refused; connection: at once
 * plus connection_detect_ms; heartbeat: after the 3 s timeout; combined: the earliest. */
static void detection_modes_and_their_combinations(void **state) {
    (void)state;
    for (uint64_t seed = 1; seed <= 4; seed++) {
        uint64_t hb = detection_ns("heartbeat", seed), rpc = detection_ns("rpc", seed);
        uint64_t conn = detection_ns("connection", seed);
        assert_true(hb > 2000000000ULL && hb <= 3000000000ULL);
        assert_true(rpc > 1000000000ULL && rpc <= 2000000000ULL);
        assert_int_equal(conn, 10000000ULL);
        assert_int_equal(detection_ns("heartbeat+rpc", seed), rpc);
        assert_int_equal(detection_ns("heartbeat+rpc+connection", seed), conn);
        assert_int_equal(detection_ns("rpc+heartbeat", seed), rpc);
    }
    sim_config c;
    char err[256];
    config_defaults(&c);
    assert_int_equal(c.worker_detect, 7u); /* Flink's default: heartbeat+rpc+connection */
    assert_int_not_equal(config_set(&c, "worker_detection", "rpc+rpc", err, sizeof err), 0);
    assert_int_not_equal(config_set(&c, "worker_detection", "rpc+", err, sizeof err), 0);
    assert_int_not_equal(config_set(&c, "worker_detection", "gossip", err, sizeof err), 0);
}

/* Records wait in output buffers until the flusher runs (100 ms): p50 near 50 ms. */
static void buffer_timeout_adds_latency(void **state) {
    (void)state;
    sim_config c;
    su_small(&c);
    sim_result slow, fast;
    su_run_ok(&c, 3, &slow);
    su_set(&c, "buffer_timeout_ms", "0");
    su_run_ok(&c, 3, &fast);
    uint64_t p50_slow = hist_quantile(&slow.latency, 0.5),
             p50_fast = hist_quantile(&fast.latency, 0.5);
    assert_true(p50_slow > 20 * p50_fast);
    assert_true(p50_slow > 30000000ULL && p50_slow < 70000000ULL);
    assert_true(hist_quantile(&slow.latency, 0.99) < 110000000ULL);
    sim_result_free(&slow);
    sim_result_free(&fast);
}

/* '20+U(0,10)': drawn per run, in [20, 30] s, different across seeds. */
static void fault_time_spread_is_drawn_per_seed(void **state) {
    (void)state;
    sim_config c;
    su_small(&c);
    su_set(&c, "duration_s", "32");
    su_set(&c, "rate", "2000");
    su_set(&c, "faults", "20+U(0,10) crash-worker 1");
    uint64_t first = 0;
    int differ = 0;
    for (uint64_t seed = 1; seed <= 6; seed++) {
        sim_result r;
        su_run_ok(&c, seed, &r);
        assert_int_equal(r.failover_count, 1);
        uint64_t at = r.failovers[0].fault_ns;
        assert_true(at >= 20000000000ULL && at <= 30000000000ULL);
        assert_non_null(r.fault_schedule); /* faults.txt shows the drawn time */
        differ |= seed > 1 && at != first;
        first = seed == 1 ? at : first;
        sim_result_free(&r);
    }
    assert_true(differ);
    char err[256];
    assert_int_not_equal(config_set(&c, "faults", "20+U(5,1) crash-worker 1", err, sizeof err), 0);
    assert_int_not_equal(config_set(&c, "faults", "20+U(0,nan) crash-worker 1", err, sizeof err),
                         0);
    assert_int_not_equal(config_set(&c, "faults", "1e6+U(0,1) crash-worker 1", err, sizeof err), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(backlog_is_the_queued_records),
        cmocka_unit_test(achieved_below_offered_when_overloaded),
        cmocka_unit_test(leader_change_restarts_without_the_strategy_delay),
        cmocka_unit_test(detection_modes_and_their_combinations),
        cmocka_unit_test(buffer_timeout_adds_latency),
        cmocka_unit_test(fault_time_spread_is_drawn_per_seed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
