/* fuzz_profile.c -- libFuzzer target for the latency-profile reader
 * (backends/mock/mock.h: mock_profile_read). It reads a path, so each input is written
 * to a temp file in /dev/shm (a tmpfs; /tmp where there is none) and unlinked after.
 *
 * Besides not crashing, the reader must keep its contract: a failure names its cause
 * and leaves the config alone; a success gives every operation type either no latency
 * or a positive finite median with a finite sigma >= 0, and at most
 * MOCK_PROFILE_MAX_TIMEOUTS figures of each kind, each with its keys in order. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backends/mock/mock.h"
#include "core/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_figures(const mock_profile_figure *f, size_t count) {
    if (count > MOCK_PROFILE_MAX_TIMEOUTS)
        abort();
    for (size_t i = 0; i < count; i++)
        if (!(f[i].timeout_s > 0) || !(f[i].min_ms <= f[i].p10_ms) ||
            !(f[i].p10_ms <= f[i].median_ms) || !(f[i].median_ms <= f[i].p90_ms) ||
            !(f[i].p90_ms <= f[i].max_ms) || f[i].trials < 1)
            abort();
}

static void check_loaded(const mock_config *cfg, const mock_profile_reference *ref) {
    for (int t = 0; t < MOCK_OP_TYPES; t++) {
        double median = cfg->op_median_ns[t], sigma = cfg->op_sigma[t];
        if (median == 0 && sigma == 0)
            continue;
        if (!(median > 0) || !isfinite(median) || !(sigma >= 0) || !isfinite(sigma))
            abort();
    }
    /* the mock adds the lag to simulated instants in uint64_t nanoseconds */
    if (cfg->follower_lag_ns > (uint64_t)INT64_MAX)
        abort();
    if (!memchr(ref->source, '\0', sizeof ref->source))
        abort();
    check_figures(ref->failover, ref->failover_count);
    check_figures(ref->failover_close, ref->failover_close_count);
    check_figures(ref->member_loss, ref->member_loss_count);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char path[64];
    snprintf(path, sizeof path, "/dev/shm/shardsim-fuzz-profile-%ld", (long)getpid());
    if (access("/dev/shm", W_OK) != 0)
        snprintf(path, sizeof path, "/tmp/shardsim-fuzz-profile-%ld", (long)getpid());
    FILE *f = fopen(path, "wb");
    if (!f)
        abort();
    if (fwrite(data, 1, size, f) != size || fclose(f) != 0)
        abort();

    mock_config *cfg = malloc(sizeof *cfg), *before = malloc(sizeof *before);
    mock_profile_reference *ref = malloc(sizeof *ref);
    if (!cfg || !before || !ref)
        abort();
    mock_config_defaults(cfg);
    memcpy(before, cfg, sizeof *cfg);
    char err[512] = "";
    int rc = mock_profile_read(path, cfg, ref, err, sizeof err);
    if (rc != 0 && (rc != SS_EINVAL || !err[0] || memcmp(cfg, before, sizeof *cfg) != 0))
        abort();
    if (rc == 0)
        check_loaded(cfg, ref);
    /* the plain loader agrees with the full one */
    mock_config_defaults(cfg);
    if ((mock_profile_load(path, cfg, err, sizeof err) == 0) != (rc == 0))
        abort();
    unlink(path);
    free(cfg);
    free(before);
    free(ref);
    return 0;
}
