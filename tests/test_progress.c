/* test_progress.c -- progress of `shardsim run` when stderr is not a terminal: nothing by
 * default (logs stay clean), a line every 2 s with --progress (simulated time, records/s,
 * ETA), and for a sweep one line per run done, with its ETA; --quiet silences both.
 * (On a terminal the same line is redrawn in place; not tested here.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/testutil.h"

static char base[4096];

/* `shardsim run ARGS --out BASE/NAME` with stderr captured; the exit code. */
static int run(const char *name, const char *args, char **err) {
    char cmd[12000];
    snprintf(cmd, sizeof cmd, "rm -rf '%s/%s' && '%s' run %s --no-plot --out '%s/%s'", base, name,
             getenv("SHARDSIM_BIN"), args, base, name);
    return tu_run(cmd, NULL, NULL, err);
}

static int count(const char *text, const char *needle) {
    int n = 0;
    for (const char *p = text; (p = strstr(p, needle)) != NULL; p++)
        n++;
    return n;
}

/* A run of several seconds (400 s simulated at 100k records/s). */
static void long_run_shows_progress_only_when_asked(void **state) {
    (void)state;
    char *err = NULL;
    assert_int_equal(run("quietly", "--set duration_s=400", &err), 0);
    assert_int_equal(count(err, "simulated"), 0); /* not a terminal: a clean log */
    free(err);
    assert_int_equal(run("shown", "--set duration_s=400 --progress", &err), 0);
    assert_true(count(err, "s simulated") >= 1);
    assert_true(count(err, "M records/s, ETA") >= 1);
    assert_non_null(strstr(err, "run 0: "));
    assert_null(strchr(err, '\r')); /* lines, not a redrawn line */
    free(err);
}

static void sweep_shows_runs_done(void **state) {
    (void)state;
    char *err = NULL;
    assert_int_equal(run("sweep", "sweep-parallelism --progress", &err), 0);
    assert_int_equal(count(err, " runs, "), 5);
    assert_non_null(strstr(err, "[5/5 runs, "));
    assert_true(count(err, "ETA") >= 5);
    free(err);
    assert_int_equal(run("sweep-jobs", "sweep-parallelism --progress --jobs 2", &err), 0);
    assert_non_null(strstr(err, "[5/5 runs, ")); /* counted per worker's runs */
    free(err);
    assert_int_equal(run("sweep-quiet", "sweep-parallelism --progress --quiet", &err), 0);
    assert_int_equal(count(err, "runs, "), 0);
    free(err);
}

/* Enormous work is announced before it starts, and Ctrl-C (here SIGTERM from timeout)
 * stops it at once, leaving no partial folder. */
static void enormous_work_is_announced_and_interruptible(void **state) {
    (void)state;
    char cmd[12000], *err = NULL;
    snprintf(cmd, sizeof cmd,
             "rm -rf '%s/big'; timeout -s TERM 2 '%s' run --set duration_s=1e6 --set rate=1e7 "
             "--no-plot --out '%s/big'",
             base, getenv("SHARDSIM_BIN"), base);
    assert_int_equal(tu_run(cmd, NULL, NULL, &err), 124); /* killed by timeout */
    assert_non_null(strstr(err, "warning: 1 run(s) simulate 1e+13 records"));
    assert_non_null(strstr(err, "hours"));
    free(err);
    snprintf(cmd, sizeof cmd, "ls '%s' | grep -c big", base);
    char *out = NULL;
    tu_run(cmd, NULL, &out, NULL);
    assert_int_equal(atoi(out), 0); /* neither the result nor a partial folder */
    free(out);
    /* ordinary work says nothing */
    assert_int_equal(run("small", "--set duration_s=2", &err), 0);
    assert_null(strstr(err, "warning"));
    free(err);
}

/* A route whose table build takes minutes says so first, and stops on SIGINT. */
static void enormous_route_is_announced_and_interruptible(void **state) {
    (void)state;
    char cmd[4200], *err = NULL;
    snprintf(cmd, sizeof cmd,
             "echo key | timeout -s INT 2 '%s' route --partitioner ring --parallelism 100000",
             getenv("SHARDSIM_BIN"));
    assert_int_equal(tu_run(cmd, NULL, NULL, &err), 124);
    assert_non_null(strstr(err, "warning: ring at --parallelism 100000 builds its tables"));
    assert_non_null(strstr(err, "GB"));
    free(err);
    snprintf(cmd, sizeof cmd, "echo key | '%s' route --partitioner ring --parallelism 100",
             getenv("SHARDSIM_BIN"));
    assert_int_equal(tu_run(cmd, NULL, NULL, &err), 0);
    assert_null(strstr(err, "warning"));
    free(err);
}

int main(void) {
    const char *tmp = getenv("SHARDSIM_TEST_TMP");
    snprintf(base, sizeof base, "%s/progress", tmp ? tmp : "/tmp");
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", base);
    if (system(cmd) != 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(long_run_shows_progress_only_when_asked),
        cmocka_unit_test(sweep_shows_runs_done),
        cmocka_unit_test(enormous_work_is_announced_and_interruptible),
        cmocka_unit_test(enormous_route_is_announced_and_interruptible),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
