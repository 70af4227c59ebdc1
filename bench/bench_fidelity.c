/* bench_fidelity.c -- the model next to the real ZooKeeper: for every session timeout a
 * calibration profile measured (`shardsim calibrate`, default
 * bench/profiles/zk-3.8-standalone.ini), the model's leader-election failover after a
 * SIGKILL and its member-loss detection (bench/fidelity_model.c, the profile's
 * latencies and tick, 200 seeded trials) next to the real service's figures: median,
 * p10, p90. Ratio: model median / real median. The bar: within 10%, and the
 * real median inside the model's p10..p90. Writes results/bench/fidelity.csv|json. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/mock/mock.h"
#include "bench/bench_util.h"
#include "bench/fidelity_model.h"

static int compare(const char *profile, const char *what, int kind, const mock_profile_figure *real,
                   double tick_ms, uint32_t trials, bench_row *row, int *ok) {
    fidelity_figure m;
    char err[512];
    uint64_t t_ns = (uint64_t)(real->timeout_s * 1e9);
    if (fidelity_model(profile, (uint64_t)(tick_ms * 1e6), t_ns, kind, trials, 1, &m, err,
                       sizeof err) != 0) {
        fprintf(stderr, "bench_fidelity: %s T=%g: %s\n", what, real->timeout_s, err);
        return -1;
    }
    double ratio = m.median_ms / real->median_ms;
    int inside = real->median_ms >= m.p10_ms && real->median_ms <= m.p90_ms;
    int close = ratio >= 0.9 && ratio <= 1.1;
    *ok &= inside && close;
    printf("%-12s T=%-3g real %8.0f [%6.0f, %6.0f] (%u)   model %8.0f [%6.0f, %6.0f] (%u)   "
           "%.3fx %s%s\n",
           what, real->timeout_s, real->median_ms, real->p10_ms, real->p90_ms, real->trials,
           m.median_ms, m.p10_ms, m.p90_ms, m.trials, ratio, close ? "" : " (off by > 10%)",
           inside ? "" : " (real median outside the model's p10..p90)");
    *row = (bench_row){"", "", m.median_ms * 1e6, real->median_ms, ratio};
    snprintf(row->name, sizeof row->name, "%s model median", what);
    snprintf(row->size, sizeof row->size, "T=%gs", real->timeout_s);
    return 0;
}

int main(int argc, char **argv) {
    const char *out;
    int quick = bench_args(argc, argv, &out);
    char profile[4096];
    const char *given = getenv("SHARDSIM_PROFILE");
    if (given && *given)
        snprintf(profile, sizeof profile, "%s", given);
    else
        snprintf(profile, sizeof profile, "%s/bench/profiles/zk-3.8-standalone.ini",
                 SHARDSIM_SOURCE_DIR);
    mock_profile_reference ref;
    char err[512];
    if (mock_profile_read(profile, NULL, &ref, err, sizeof err) != 0) {
        fprintf(stderr, "bench_fidelity: %s\n", err);
        return 1;
    }
    double tick_ms = ref.tick_ms > 0 ? ref.tick_ms : 2000;
    uint32_t trials = quick ? 50 : 200;
    printf("profile %s (tick %g ms; %s)\n", profile, tick_ms, ref.source);
    printf("ms: median [p10, p90] (trials); ratio = model median / real median\n");
    bench_row rows[2 * MOCK_PROFILE_MAX_TIMEOUTS];
    size_t count = 0;
    int ok = 1;
    for (size_t i = 0; i < ref.failover_count; i++)
        if (compare(profile, "failover", FIDELITY_FAILOVER, &ref.failover[i], tick_ms, trials,
                    &rows[count++], &ok) != 0)
            return 1;
    for (size_t i = 0; i < ref.member_loss_count; i++)
        if (compare(profile, "member-loss", FIDELITY_MEMBER_LOSS, &ref.member_loss[i], tick_ms,
                    trials, &rows[count++], &ok) != 0)
            return 1;
    printf("%s\n", ok ? "every figure within 10% of the real one, the real median inside the "
                        "model's p10..p90"
                      : "NOT every figure within the bar");
    if (bench_write(out, "fidelity", rows, count,
                    "model median / real median (ns_per_op: model median ns; gbps column: real "
                    "median ms)") != 0)
        return 1;
    printf("wrote %s/fidelity.csv and fidelity.json\n", out);
    return 0;
}
