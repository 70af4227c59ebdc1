/* test_calibrate.c -- `shardsim calibrate` against the real server named by ZK_CONNECT
 * (cmake/dev.sh test starts one with tickTime 200 ms): a short calibration at session
 * timeouts 1 s and 2 s writes a profile the model's loader reads, whose failover and
 * member-loss medians lie where ZooKeeper's session expiry puts them, (2/3 T, T + tick
 * + 1 s]; bad inputs exit 2 with one line; --out does not replace a file without
 * --force. Without ZK_CONNECT the tests skip with a reason -- or fail when CI=true. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "backends/mock/mock.h"
#include "core/error.h"
#include "testutil.h"

static const char *need_server(void) {
    const char *connect = getenv("ZK_CONNECT");
    if (connect && *connect)
        return connect;
    const char *ci = getenv("CI");
    if (ci && strcmp(ci, "true") == 0)
        fail_msg("test_calibrate: ZK_CONNECT is unset and CI=true: CI must run this against a "
                 "server (tests/zk_server.sh run DIR standalone -- ctest -L cli)");
    print_message("test_calibrate: skipped: ZK_CONNECT is unset (start a server with "
                  "tests/zk_server.sh run DIR standalone -- ctest -L cli)\n");
    skip();
    return NULL;
}

static int calibrate(const char *args, char **out, char **err) {
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "exec '%s' calibrate %s", getenv("SHARDSIM_BIN"), args);
    return tu_run(cmd, NULL, out, err);
}

/* The number of lines of text. */
static int lines(const char *text) {
    int n = 0;
    for (const char *p = text; p && *p; p++)
        n += *p == '\n';
    return n;
}

static void profile_path(char *path, size_t len, const char *name) {
    const char *dir = getenv("SHARDSIM_TEST_TMP");
    snprintf(path, len, "%s/test_calibrate-%ld-%s", dir && *dir ? dir : ".", (long)getpid(), name);
}

static void check_figures(const char *kind, const mock_profile_figure *f, size_t count,
                          double tick_ms) {
    assert_int_equal(count, 2);
    const double timeouts[] = {1, 2};
    for (size_t i = 0; i < count; i++) {
        double t_ms = timeouts[i] * 1e3;
        assert_true(f[i].timeout_s == timeouts[i]);
        assert_true(f[i].trials >= 5);
        if (!(f[i].median_ms > 2.0 / 3 * t_ms && f[i].median_ms <= t_ms + tick_ms + 1000))
            fail_msg("%s T=%g s: median %.1f ms outside (%.1f, %.1f]", kind, timeouts[i],
                     f[i].median_ms, 2.0 / 3 * t_ms, t_ms + tick_ms + 1000);
    }
}

/* A short calibration writes a profile that loads, with plausible figures. */
static void calibrates_and_writes_a_loadable_profile(void **state) {
    (void)state;
    const char *connect = need_server();
    char path[1024], args[2048];
    profile_path(path, sizeof path, "profile.ini");
    remove(path);
    snprintf(args, sizeof args, "--zk '%s' --session-timeouts 1,2 --trials 5 --quiet --out '%s'",
             connect, path);
    char *out = NULL, *err = NULL;
    int rc = calibrate(args, &out, &err);
    if (rc != 0)
        fail_msg("calibrate exited %d: %s", rc, err);
    assert_non_null(strstr(out, "failover T=1 kill"));
    assert_non_null(strstr(out, "member_loss T=2 kill"));
    assert_string_equal(err, ""); /* --quiet */
    mock_config cfg;
    mock_config_defaults(&cfg);
    mock_profile_reference ref;
    char msg[512];
    if (mock_profile_read(path, &cfg, &ref, msg, sizeof msg) != 0)
        fail_msg("the profile does not load: %s", msg);
    for (int t = 0; t < MOCK_OP_TYPES; t++)
        if (strcmp(mock_op_name(t), "close") != 0 && !(cfg.op_median_ns[t] > 0))
            fail_msg("no latency for %s", mock_op_name(t));
    assert_true(ref.watch_median_us > 0 && ref.watch_p99_us >= ref.watch_median_us);
    assert_true(ref.tick_ms > 0); /* the dev server answers `conf` */
    assert_non_null(strstr(ref.source, "ZooKeeper"));
    check_figures("failover", ref.failover, ref.failover_count, ref.tick_ms);
    check_figures("member_loss", ref.member_loss, ref.member_loss_count, ref.tick_ms);
    assert_int_equal(ref.failover_close_count, 2);
    for (size_t i = 0; i < ref.failover_close_count; i++)
        assert_true(ref.failover_close[i].median_ms < 500); /* a close ends the session at once */
    free(out), free(err);

    /* the profile exists now: not replaced without --force (checked before measuring) */
    rc = calibrate(args, &out, &err);
    assert_int_equal(rc, 2);
    assert_int_equal(lines(err), 1);
    assert_non_null(strstr(err, "exists"));
    free(out), free(err);
    remove(path);
}

/* Bad inputs: one line on stderr, exit 2, nothing measured. */
static void bad_inputs_exit_2_with_one_line(void **state) {
    (void)state;
    const char *connect = need_server();
    char clamp[512], zero[512];
    /* tickTime 200 ms: sessions within [0.4, 4] s; 30 s would be clamped */
    snprintf(clamp, sizeof clamp, "--zk '%s' --session-timeouts 1,30 --trials 5", connect);
    snprintf(zero, sizeof zero, "--zk '%s' --session-timeouts 0 --trials 5", connect);
    const char *cases[][2] = {
        {"--zk nonsense --trials 5", "--zk"},
        {"--zk 127.0.0.1:99999 --trials 5", "--zk"},
        {"--zk 127.0.0.1:1 --trials 5", "--zk"}, /* nobody listens */
        {"--trials 5", "--zk: required"},
        {clamp, "negotiated"},
        {zero, "--session-timeouts"},
        {"--zk 127.0.0.1:1 --session-timeouts 4,,10", "--session-timeouts"},
        {"--zk 127.0.0.1:1 --trials 0", "--trials"},
        {"--zk 127.0.0.1:1 --bogus", "unknown option"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *out = NULL, *err = NULL;
        int rc = calibrate(cases[i][0], &out, &err);
        if (rc != 2 || lines(err) != 1 || !strstr(err, cases[i][1]) || *out)
            fail_msg("calibrate %s: exit %d, stderr '%s' (want 2 and one line with '%s')",
                     cases[i][0], rc, err, cases[i][1]);
        free(out), free(err);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bad_inputs_exit_2_with_one_line),
        cmocka_unit_test(calibrates_and_writes_a_loadable_profile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
