/* test_out.c -- result folders never destroy a user's files: --out refuses anything
 * that is not a new or empty folder or (with --force) an earlier shardsim result, for
 * `run` and `balance`; SIGTERM and SIGINT leave no partial folder behind; a later run
 * removes the partial folders of a process that is gone, and only shardsim's. */
#include <dirent.h>
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

/* A fresh, empty folder base/name into out. */
static void fresh(char *out, size_t size, const char *name) {
    snprintf(out, size, "%s/%s", base, name);
    sh("rm -rf '%s' && mkdir -p '%s'", out, out);
}

static int exists(const char *dir, const char *name) {
    char path[8300];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return lstat(path, &st) == 0;
}

/* Entries of dir whose name contains `part` (".partial-", ".old-"). */
static int count_named(const char *dir, const char *part) {
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += strstr(e->d_name, part) != NULL;
    closedir(d);
    return n;
}

static void assert_file_is(const char *path, const char *text) {
    char *got = tu_read_file(path, NULL);
    assert_non_null(got);
    assert_string_equal(got, text);
    free(got);
}

/* Run shardsim with args (a shell fragment) in dir; the exit code; stderr into *err. */
static int shardsim(const char *dir, const char *args, char **err) {
    char cmd[16384];
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s' %s", dir, getenv("SHARDSIM_BIN"), args);
    return tu_run(cmd, NULL, NULL, err);
}

static const char *const commands[] = {
    "balance --uniform 1000 --parallelism 4 --no-plot",
    "run --set duration_s=1 --no-plot --quiet",
};

/* A folder of the user's: refused with or without --force, every file intact. */
static void foreign_folders_are_never_touched(void **state) {
    (void)state;
    char dir[4200];
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        for (int force = 0; force <= 1; force++) {
            fresh(dir, sizeof dir, "foreign");
            sh("mkdir '%s/d' && echo thesis > '%s/d/t.txt' && echo notes > '%s/f'", dir, dir, dir);
            char args[512], *err = NULL;
            snprintf(args, sizeof args, "%s --out d%s", commands[i], force ? " --force" : "");
            assert_int_equal(shardsim(dir, args, &err), 2);
            assert_non_null(strstr(err, "not a shardsim result folder"));
            assert_ptr_equal(strchr(err, '\n'), err + strlen(err) - 1); /* one line */
            free(err);
            char path[8300];
            snprintf(path, sizeof path, "%s/d/t.txt", dir);
            assert_file_is(path, "thesis\n");
            snprintf(args, sizeof args, "%s --out f%s", commands[i], force ? " --force" : "");
            assert_int_equal(shardsim(dir, args, &err), 2);
            assert_non_null(strstr(err, "not a folder"));
            free(err);
            snprintf(path, sizeof path, "%s/f", dir);
            assert_file_is(path, "notes\n");
            assert_int_equal(count_named(dir, ".partial-"), 0);
            assert_int_equal(count_named(dir, ".old-"), 0);
        }
}

/* An earlier result: kept without --force, replaced with it; an empty folder is used. */
static void earlier_results_need_force(void **state) {
    (void)state;
    char dir[4200], path[8300];
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        fresh(dir, sizeof dir, "earlier");
        sh("mkdir '%s/empty'", dir);
        char args[512], *err = NULL;
        snprintf(args, sizeof args, "%s --out empty", commands[i]);
        assert_int_equal(shardsim(dir, args, NULL), 0);
        snprintf(path, sizeof path, "%s/empty", dir);
        assert_true(exists(path, ".shardsim-result"));
        /* a file the user put into the earlier result shows whether it was replaced */
        sh("echo mine > '%s/empty/mine.txt'", dir);
        assert_int_equal(shardsim(dir, args, &err), 2);
        assert_non_null(strstr(err, "--force"));
        free(err);
        assert_true(exists(path, "mine.txt"));
        snprintf(args, sizeof args, "%s --out empty --force", commands[i]);
        assert_int_equal(shardsim(dir, args, NULL), 0);
        assert_false(exists(path, "mine.txt"));
        assert_true(exists(path, ".shardsim-result"));
        assert_int_equal(count_named(dir, ".old-"), 0);
    }
}

/* Start `shardsim args` in dir in its own process; its pid. */
static pid_t start(const char *dir, const char *const *argv) {
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (chdir(dir) != 0)
            _exit(126);
        execv(getenv("SHARDSIM_BIN"), (char *const *)argv);
        _exit(127);
    }
    return pid;
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* A long run killed by sig once its partial folder exists leaves nothing behind. */
static void interrupted_run(const char *name, int sig, const char *jobs) {
    char dir[4200];
    fresh(dir, sizeof dir, name);
    const char *argv[] = {"shardsim",       "run",    "failover", "--set",
                          "duration_s=300", "--jobs", jobs,       "--no-plot",
                          "--quiet",        "--out",  "r",        NULL};
    pid_t pid = start(dir, argv);
    int waited = 0;
    while (count_named(dir, ".partial-") == 0 && waited < 20000) {
        sleep_ms(10);
        waited += 10;
    }
    assert_int_equal(count_named(dir, ".partial-"), 1);
    sleep_ms(300); /* the runs are under way: files are being written */
    assert_int_equal(kill(pid, sig), 0);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), sig);
    assert_int_equal(count_named(dir, ".partial-"), 0);
    assert_false(exists(dir, "r"));
}

static void sigterm_leaves_no_partial_folder(void **state) {
    (void)state;
    interrupted_run("term", SIGTERM, "1");
    interrupted_run("term-jobs", SIGTERM, "2");
    interrupted_run("int-jobs", SIGINT, "2");
}

/* A partial folder of a process that is gone is removed by the next run -- if it is
 * shardsim's; a look-alike folder of the user's stays. */
static void stale_partials_are_cleaned(void **state) {
    (void)state;
    char dir[4200];
    fresh(dir, sizeof dir, "stale");
    pid_t gone = fork();
    if (gone == 0)
        _exit(0);
    waitpid(gone, NULL, 0);
    sh("mkdir '%s/x.partial-%ld' && touch '%s/x.partial-%ld/.shardsim-result'", dir, (long)gone,
       dir, (long)gone);
    sh("mkdir '%s/x.partial-1' '%s/x.partial-999999999' && echo keep > '%s/x.partial-1/k'", dir,
       dir, dir);
    assert_int_equal(shardsim(dir, "run --set duration_s=1 --no-plot --quiet --out x", NULL), 0);
    char path[8300];
    snprintf(path, sizeof path, "x.partial-%ld", (long)gone);
    assert_false(exists(dir, path));
    assert_true(exists(dir, "x.partial-1/k"));       /* pid 1 lives */
    assert_true(exists(dir, "x.partial-999999999")); /* not marked: not ours */
    assert_true(exists(dir, "x/.shardsim-result"));
}

int main(void) {
    const char *tmp = getenv("SHARDSIM_TEST_TMP");
    snprintf(base, sizeof base, "%s/out", tmp ? tmp : "/tmp");
    sh("mkdir -p '%s'", base);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(foreign_folders_are_never_touched),
        cmocka_unit_test(earlier_results_need_force),
        cmocka_unit_test(sigterm_leaves_no_partial_folder),
        cmocka_unit_test(stale_partials_are_cleaned),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
