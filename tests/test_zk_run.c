/* test_zk_run.c -- `shardsim run` against a REAL ZooKeeper, in real time:
 *   - failover-real (a leader and a worker crash, session 4 s) stays exactly-once;
 *   - the ensemble's leader server killed in the middle of a run: the run completes,
 *     exactly-once, no stale commit, no committed checkpoint skipped;
 *   - bad conditions: a malformed connect string, a port where no server listens (exit
 *     2, one line, before any run), quorum lost for a while and back (the run
 *     completes), a server that goes away for good (the run fails with one line within
 *     its stated bound, never hangs).
 * Needs the servers that `bash cmake/dev.sh test` starts (ZK_CONNECT; ZK_ENSEMBLE and
 * ZK_ENSEMBLE_DIR for the ensemble). Without them it skips, printing why -- except
 * with CI=true, where a missing server fails. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/testutil.h"

static char base[4096];

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void sh(const char *fmt, ...) {
    char cmd[16384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    assert_int_equal(system(cmd), 0);
}

/* The server variable's value, or NULL after skipping (or failing under CI). */
static const char *need(const char *var) {
    const char *v = getenv(var);
    if (v && *v)
        return v;
    const char *ci = getenv("CI");
    if (ci && strcmp(ci, "true") == 0)
        fail_msg("%s is not set: CI must run this suite against a real ZooKeeper "
                 "(bash cmake/dev.sh test starts one)",
                 var);
    printf("skipped: %s is not set (bash cmake/dev.sh test starts a real ZooKeeper)\n", var);
    skip();
    return NULL;
}

static void fresh(char *out, size_t size, const char *name) {
    snprintf(out, size, "%s/%s", base, name);
    sh("rm -rf '%s'", out);
}

/* Column `name` of the first data row of a CSV file, into value. */
static void csv_value(const char *path, const char *name, char *value, size_t size) {
    char *text = tu_read_file(path, NULL);
    assert_non_null(text);
    char *row = strchr(text, '\n');
    assert_non_null(row);
    *row++ = '\0';
    int col = 0, want = -1;
    for (char *h = text; h; col++) {
        char *comma = strchr(h, ',');
        size_t n = comma ? (size_t)(comma - h) : strlen(h);
        if (n == strlen(name) && strncmp(h, name, n) == 0)
            want = col;
        h = comma ? comma + 1 : NULL;
    }
    if (want < 0)
        fail_msg("%s has no column %s", path, name);
    char *f = row;
    for (int i = 0; i < want && f; i++) {
        f = strchr(f, ',');
        f = f ? f + 1 : NULL;
    }
    assert_non_null(f);
    snprintf(value, size, "%.*s", (int)strcspn(f, ",\n"), f);
    free(text);
}

static void assert_column(const char *dir, const char *name, const char *want) {
    char path[8300], got[128];
    snprintf(path, sizeof path, "%s/runs.csv", dir);
    csv_value(path, name, got, sizeof got);
    if (strcmp(got, want) != 0)
        fail_msg("%s: %s = %s, wanted %s", path, name, got, want);
}

static long column_number(const char *dir, const char *name) {
    char path[8300], got[128];
    snprintf(path, sizeof path, "%s/runs.csv", dir);
    csv_value(path, name, got, sizeof got);
    return strtol(got, NULL, 10);
}

/* `shardsim run ARGS` (a shell fragment); exit code; stderr into *err. */
static int shardsim(const char *args, char **err) {
    char cmd[16384];
    snprintf(cmd, sizeof cmd, "'%s' run %s", getenv("SHARDSIM_BIN"), args);
    return tu_run(cmd, NULL, NULL, err);
}

/* Start `shardsim run ARGS` in the background, its stderr into err_path (NULL:
 * discarded); its pid. */
static pid_t start_run(const char *args, const char *err_path) {
    char cmd[16384];
    snprintf(cmd, sizeof cmd, "exec '%s' run %s >/dev/null 2>'%s'", getenv("SHARDSIM_BIN"), args,
             err_path ? err_path : "/dev/null");
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    return pid;
}

static int wait_exit(pid_t pid) {
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

static void sleep_s(double s) {
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

/* tests/zk_server.sh COMMAND on the ensemble; its stdout (first line) into out. */
static void ensemble(const char *command, char *out, size_t size) {
    char cmd[8400], *got = NULL;
    snprintf(cmd, sizeof cmd, "bash '%s/tests/zk_server.sh' %s", getenv("SHARDSIM_SOURCE_DIR"),
             command);
    assert_int_equal(tu_run(cmd, NULL, &got, NULL), 0);
    if (out)
        snprintf(out, size, "%.*s", (int)strcspn(got, "\n"), got);
    free(got);
}

static void failover_real_stays_exactly_once(void **state) {
    (void)state;
    const char *zk = need("ZK_CONNECT");
    char dir[4200], args[8800], path[8400];
    fresh(dir, sizeof dir, "failover-real");
    snprintf(args, sizeof args, "failover-real --set zk_connect=%s --out '%s' --no-plot --quiet",
             zk, dir);
    char *err = NULL;
    int rc = shardsim(args, &err);
    if (rc != 0)
        fail_msg("failover-real exited %d: %s", rc, err);
    free(err);
    assert_column(dir, "exactly_once", "ok");
    assert_column(dir, "stale_commits", "0");
    assert_true(column_number(dir, "elections") >= 2); /* the first leader and its successor */
    snprintf(path, sizeof path, "%s/run-000/failovers.csv", dir);
    char *failovers = tu_read_file(path, NULL);
    assert_non_null(failovers);
    assert_non_null(strstr(failovers, "\nleader-change,"));
    assert_non_null(strstr(failovers, "\ncrash-worker,"));
    free(failovers);
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    char *manifest = tu_read_file(path, NULL);
    assert_non_null(strstr(manifest, "\"real_time\": true"));
    assert_non_null(strstr(manifest, "\"zookeeper\""));
    free(manifest);
}

static void ensemble_leader_killed_mid_run(void **state) {
    (void)state;
    const char *zk = need("ZK_ENSEMBLE");
    const char *zdir = need("ZK_ENSEMBLE_DIR");
    char dir[4200], args[8800], leader[64], cmd[4400];
    fresh(dir, sizeof dir, "ensemble-leader");
    snprintf(args, sizeof args,
             "failover-real --set zk_connect=%s --set faults= --set duration_s=16 --out '%s' "
             "--no-plot --quiet",
             zk, dir);
    pid_t pid = start_run(args, NULL);
    sleep_s(6);
    snprintf(cmd, sizeof cmd, "leader '%s'", zdir);
    ensemble(cmd, leader, sizeof leader);
    snprintf(cmd, sizeof cmd, "kill '%s' %s", zdir, leader);
    ensemble(cmd, NULL, 0);
    int rc = wait_exit(pid);
    snprintf(cmd, sizeof cmd, "restart '%s' %s", zdir, leader);
    ensemble(cmd, NULL, 0);
    assert_int_equal(rc, 0);
    assert_column(dir, "exactly_once", "ok");
    assert_column(dir, "stale_commits", "0");    /* at most one leader acted at a time */
    assert_column(dir, "pointers_skipped", "0"); /* no committed checkpoint lost */
    assert_true(column_number(dir, "checkpoints") > 0);
}

static void quorum_lost_and_back(void **state) {
    (void)state;
    const char *zk = need("ZK_ENSEMBLE");
    const char *zdir = need("ZK_ENSEMBLE_DIR");
    char dir[4200], args[8800], cmd[4400], leader[64];
    fresh(dir, sizeof dir, "quorum-back");
    snprintf(args, sizeof args,
             "failover-real --set zk_connect=%s --set faults= --set duration_s=16 --out '%s' "
             "--no-plot --quiet",
             zk, dir);
    pid_t pid = start_run(args, NULL);
    sleep_s(5);
    snprintf(cmd, sizeof cmd, "leader '%s'", zdir);
    ensemble(cmd, leader, sizeof leader);
    int a = atoi(leader), b = a % 3 + 1; /* the leader and one follower: no quorum */
    snprintf(cmd, sizeof cmd, "kill '%s' %d", zdir, a);
    ensemble(cmd, NULL, 0);
    snprintf(cmd, sizeof cmd, "kill '%s' %d", zdir, b);
    ensemble(cmd, NULL, 0);
    sleep_s(3);
    snprintf(cmd, sizeof cmd, "restart '%s' %d", zdir, a);
    ensemble(cmd, NULL, 0);
    snprintf(cmd, sizeof cmd, "restart '%s' %d", zdir, b);
    ensemble(cmd, NULL, 0);
    assert_int_equal(wait_exit(pid), 0);
    assert_column(dir, "exactly_once", "ok");
    assert_column(dir, "stale_commits", "0");
}

static void bad_connect_strings_exit_2(void **state) {
    (void)state;
    need("ZK_CONNECT");
    static const char *const bad[] = {"''",    "nohost",         "127.0.0.1:0", "127.0.0.1:99999",
                                      "a:b:c", "127.0.0.1:2181,"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char dir[4200], args[8800];
        fresh(dir, sizeof dir, "bad-connect");
        snprintf(args, sizeof args, "failover-real --set zk_connect=%s --out '%s' --no-plot",
                 bad[i], dir);
        char *err = NULL;
        assert_int_equal(shardsim(args, &err), 2);
        assert_non_null(strstr(err, "zk_connect"));
        assert_ptr_equal(strchr(err, '\n'), err + strlen(err) - 1); /* one line */
        free(err);
        assert_int_equal(access(dir, F_OK), -1);
    }
}

/* A wrong port (nobody listens) and an address where no server is (another loopback
 * address): refused before any run, in well under a second. */
static void no_server_at_the_address_exits_2(void **state) {
    (void)state;
    need("ZK_CONNECT");
    static const char *const nowhere[] = {"127.0.0.1:1", "127.0.0.2:2181"};
    for (size_t i = 0; i < sizeof nowhere / sizeof nowhere[0]; i++) {
        char dir[4200], args[8800];
        fresh(dir, sizeof dir, "no-server");
        snprintf(args, sizeof args, "failover-real --set zk_connect=%s --out '%s' --no-plot",
                 nowhere[i], dir);
        char *err = NULL;
        assert_int_equal(shardsim(args, &err), 2);
        assert_non_null(strstr(err, nowhere[i]));
        assert_ptr_equal(strchr(err, '\n'), err + strlen(err) - 1);
        free(err);
        assert_int_equal(access(dir, F_OK), -1);
    }
}

/* Our own standalone server, killed for good in the middle of a run: the run fails
 * with one line naming the service once 3 session timeouts (12 s) pass. */
static void server_gone_for_good_fails_the_run(void **state) {
    (void)state;
    need("ZK_CONNECT");
    char zdir[4200], dir[4200], args[8800], cmd[8600], connect[256];
    fresh(zdir, sizeof zdir, "own-server");
    snprintf(cmd, sizeof cmd, "start '%s' standalone", zdir);
    ensemble(cmd, connect, sizeof connect);
    fresh(dir, sizeof dir, "gone");
    snprintf(args, sizeof args,
             "failover-real --set zk_connect=%s --set faults= --set duration_s=60 --out '%s' "
             "--no-plot",
             connect, dir);
    char path[8400];
    snprintf(path, sizeof path, "%s.err", dir);
    pid_t pid = start_run(args, path);
    sleep_s(4);
    snprintf(cmd, sizeof cmd, "stop '%s'", zdir);
    ensemble(cmd, NULL, 0);
    int rc = wait_exit(pid);
    assert_int_equal(rc, 1);
    char *err = tu_read_file(path, NULL);
    assert_non_null(err);
    assert_non_null(strstr(err, "no ZooKeeper server reachable"));
    free(err);
}

int main(void) {
    const char *tmp = getenv("SHARDSIM_TEST_TMP");
    snprintf(base, sizeof base, "%s/zk-run", tmp ? tmp : "/tmp");
    sh("mkdir -p '%s'", base);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bad_connect_strings_exit_2),
        cmocka_unit_test(no_server_at_the_address_exits_2),
        cmocka_unit_test(failover_real_stays_exactly_once),
        cmocka_unit_test(ensemble_leader_killed_mid_run),
        cmocka_unit_test(quorum_lost_and_back),
        cmocka_unit_test(server_gone_for_good_fails_the_run),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
