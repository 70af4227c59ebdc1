/* test_fidelity_model.c -- the model answers to the real server: with the latencies and
 * tick of the calibration profile measured on a real ZooKeeper 3.8
 * (bench/profiles/zk-3.8-standalone.ini, written by `shardsim calibrate`), the model's
 * median leader-election failover after a SIGKILL and its median member-loss detection
 * are within 10% of the real service's, and the real median lies inside the model's
 * p10..p90, at every session timeout the profile measured (4 s and 10 s). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "backends/mock/mock.h"
#include "bench/fidelity_model.h"

static void check(const char *profile, const char *what, int kind, const mock_profile_figure *real,
                  double tick_ms) {
    fidelity_figure m;
    char err[512];
    uint64_t timeout_ns = (uint64_t)(real->timeout_s * 1e9);
    if (fidelity_model(profile, (uint64_t)(tick_ms * 1e6), timeout_ns, kind, 100, 1, &m, err,
                       sizeof err) != 0)
        fail_msg("%s T=%g: %s", what, real->timeout_s, err);
    print_message("%s T=%g s: real median %.0f ms [%.0f, %.0f], model %.0f ms [%.0f, %.0f]\n", what,
                  real->timeout_s, real->median_ms, real->p10_ms, real->p90_ms, m.median_ms,
                  m.p10_ms, m.p90_ms);
    if (m.median_ms < 0.9 * real->median_ms || m.median_ms > 1.1 * real->median_ms)
        fail_msg("%s T=%g: the model's median %.0f ms is not within 10%% of the real %.0f ms", what,
                 real->timeout_s, m.median_ms, real->median_ms);
    if (real->median_ms < m.p10_ms || real->median_ms > m.p90_ms)
        fail_msg("%s T=%g: the real median %.0f ms is outside the model's p10..p90 [%.0f, %.0f]",
                 what, real->timeout_s, real->median_ms, m.p10_ms, m.p90_ms);
}

static void model_matches_the_shipped_profile(void **state) {
    (void)state;
    char profile[4096], err[512];
    snprintf(profile, sizeof profile, "%s/bench/profiles/zk-3.8-standalone.ini",
             getenv("SHARDSIM_SOURCE_DIR"));
    mock_profile_reference ref;
    if (mock_profile_read(profile, NULL, &ref, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_true(ref.tick_ms > 0);
    assert_true(ref.failover_count >= 2); /* 4 s and 10 s */
    assert_true(ref.member_loss_count >= 2);
    for (size_t i = 0; i < ref.failover_count; i++)
        check(profile, "failover", FIDELITY_FAILOVER, &ref.failover[i], ref.tick_ms);
    for (size_t i = 0; i < ref.member_loss_count; i++)
        check(profile, "member-loss", FIDELITY_MEMBER_LOSS, &ref.member_loss[i], ref.tick_ms);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(model_matches_the_shipped_profile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
