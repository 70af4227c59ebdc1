/* test_files.c -- the files and lines shardsim writes can be trusted: a failed run keeps
 * its evidence and a runs.csv row saying why; its reproducer line reruns it when pasted
 * into sh; CSV fields are quoted per RFC 4180 and anonymous sweeps are named after their
 * key; keys with NUL bytes print in full; a rescale is not a failure; and bad inputs
 * (non-finite fault times, a folder as scenario, an empty --runs, ...) get one line on
 * stderr and exit 2, never binary bytes on the terminal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "core/hash.h"
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

/* base/name into out, nothing there. */
static void fresh(char *out, size_t size, const char *name) {
    snprintf(out, size, "%s/%s", base, name);
    sh("rm -rf '%s'", out);
}

/* base/name holding text; its path into out. */
static void write_file(char *out, size_t size, const char *name, const char *text, size_t len) {
    snprintf(out, size, "%s/%s", base, name);
    FILE *f = fopen(out, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static int exists(const char *dir, const char *name) {
    char path[8300];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return access(path, F_OK) == 0;
}

/* `shardsim ARGS` (a shell fragment); the exit code; stdout and stderr into *out, *err. */
static int shardsim(const char *args, char **out, char **err) {
    char cmd[16384];
    snprintf(cmd, sizeof cmd, "'%s' %s", getenv("SHARDSIM_BIN"), args);
    return tu_run(cmd, NULL, out, err);
}

/* ---- a minimal RFC 4180 reader, independent of sim/csv.c ---- */

#define MAX_ROWS 16
#define MAX_COLS 64

typedef struct table {
    char *cell[MAX_ROWS][MAX_COLS];
    int cols[MAX_ROWS];
    int rows;
} table;

static void table_read(table *t, const char *path) {
    char *text = tu_read_file(path, NULL);
    assert_non_null(text);
    memset(t, 0, sizeof *t);
    const char *p = text;
    while (*p && t->rows < MAX_ROWS) {
        int r = t->rows++;
        for (;;) {
            char field[1024];
            size_t n = 0;
            int quoted = *p == '"';
            p += quoted;
            while (*p && (quoted || (*p != ',' && *p != '\n')) && n + 1 < sizeof field) {
                if (quoted && *p == '"') {
                    if (p[1] != '"') {
                        quoted = 0;
                        p++;
                        continue;
                    }
                    p++;
                }
                field[n++] = *p++;
            }
            field[n] = '\0';
            assert_true(t->cols[r] < MAX_COLS);
            t->cell[r][t->cols[r]++] = strdup(field);
            if (*p == ',') {
                p++;
                continue;
            }
            p += *p == '\n';
            break;
        }
    }
    free(text);
}

static void table_free(table *t) {
    for (int r = 0; r < t->rows; r++)
        for (int c = 0; c < t->cols[r]; c++)
            free(t->cell[r][c]);
}

/* The value of column `name` in data row `row` (1 = the first after the header). */
static const char *table_get(const table *t, int row, const char *name) {
    assert_true(row < t->rows);
    for (int c = 0; c < t->cols[0]; c++)
        if (strcmp(t->cell[0][c], name) == 0) {
            assert_int_equal(t->cols[row], t->cols[0]);
            return t->cell[row][c];
        }
    fail_msg("no column '%s'", name);
    return NULL;
}

/* ---- failed runs ---- */

/* Fast settings under which a crashed worker's subtasks cannot come back. */
#define NO_RESTART                                                                                 \
    "--set duration_s=3 --set rate=2000 --set keys=1000 --set workers=2 "                          \
    "--set slots_per_worker=2 --set parallelism=4 --set heartbeat_timeout_s=1 "                    \
    "--set heartbeat_interval_s=0.5 --set 'faults=1 crash-worker 1'"

/* ... and under which a restart skips the replay: run 1 loses records. */
#define SKIP_REPLAY                                                                                \
    "--set duration_s=3 --set rate=2000 --set keys=1000 --set checkpoint_interval_s=1 "            \
    "--set heartbeat_timeout_s=1 --set heartbeat_interval_s=0.5 "                                  \
    "--set 'faults=1 crash-worker 1' --set 'debug_skip_replay=${0,1}'"

/* An exactly-once violation keeps the run's files, a row saying failed and why, and
 * failed.txt; the run beside it that passed says ok. */
static void failed_run_keeps_its_evidence(void **state) {
    (void)state;
    char out[4096], run_dir[8300], path[8400], args[16384];
    fresh(out, sizeof out, "evidence");
    snprintf(args, sizeof args, "run " SKIP_REPLAY " --quiet --no-plot --out '%s'", out);
    assert_int_equal(shardsim(args, NULL, NULL), 1);
    snprintf(path, sizeof path, "%s/runs.csv", out);
    table t;
    table_read(&t, path);
    assert_int_equal(t.rows, 3);
    assert_string_equal(table_get(&t, 1, "status"), "ok");
    assert_string_equal(table_get(&t, 1, "reason"), "");
    assert_string_equal(table_get(&t, 2, "status"), "failed");
    assert_non_null(strstr(table_get(&t, 2, "reason"), "exactly-once violated: key "));
    assert_string_equal(table_get(&t, 2, "exactly_once"), "FAILED");
    table_free(&t);
    snprintf(run_dir, sizeof run_dir, "%s/run-001", out);
    const char *files[] = {"timeseries.csv", "failovers.csv", "subtasks.csv", "failed.txt"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        if (!exists(run_dir, files[i]))
            fail_msg("%s/%s is missing", run_dir, files[i]);
    assert_false(exists(out, "run-000/failed.txt"));
}

/* A run that stops (its job cannot restart) keeps its folder and a row with the
 * reason; the figures it never produced are empty, not zeros. */
static void stopped_run_keeps_its_folder_and_row(void **state) {
    (void)state;
    char out[4096], run_dir[8300], path[8400], args[16384];
    fresh(out, sizeof out, "stopped");
    snprintf(args, sizeof args, "run " NO_RESTART " --quiet --no-plot --out '%s'", out);
    assert_int_equal(shardsim(args, NULL, NULL), 1);
    snprintf(path, sizeof path, "%s/runs.csv", out);
    table t;
    table_read(&t, path);
    assert_int_equal(t.rows, 2);
    assert_string_equal(table_get(&t, 1, "status"), "failed");
    assert_non_null(strstr(table_get(&t, 1, "reason"), "could not be restarted"));
    assert_string_equal(table_get(&t, 1, "exactly_once"), "");
    table_free(&t);
    snprintf(run_dir, sizeof run_dir, "%s/run-000", out);
    snprintf(path, sizeof path, "%s/failed.txt", run_dir);
    char *failed = tu_read_file(path, NULL);
    assert_non_null(failed);
    assert_non_null(strstr(failed, "could not be restarted"));
    assert_non_null(strstr(failed, "\nreproduce: shardsim run "));
    free(failed);
    /* When the simulator hands back what the run recorded (sim_run keeps a failed
     * run's result), it is all there: the crash in failovers.csv. */
    if (exists(run_dir, "timeseries.csv")) {
        snprintf(path, sizeof path, "%s/failovers.csv", run_dir);
        char *failovers = tu_read_file(path, NULL);
        assert_non_null(failovers);
        assert_non_null(strstr(failovers, "\ncrash-worker,1,"));
        free(failovers);
    }
}

/* The reproducer line, pasted into sh, reruns the run: a scenario path with a space and
 * a quote, --set values with ; $ { } and quotes all come through unchanged. */
static void reproducer_line_reruns_the_run(void **state) {
    (void)state;
    char dir[4096], scenario[8300], out[4096], again[4096], args[16384], cmd[32768];
    fresh(dir, sizeof dir, "with space");
    sh("mkdir -p '%s'", dir);
    snprintf(scenario, sizeof scenario, "%s/it's a scenario.ini", dir);
    FILE *f = fopen(scenario, "w");
    assert_non_null(f);
    fputs("[General]\nduration_s = 3\nrate = 2000\nkeys = 1000\n", f);
    assert_int_equal(fclose(f), 0);
    const char *label = "a b;$HOME `x` {\"q\"} 'it''s' \\ $";
    fresh(out, sizeof out, "reproduce");
    /* the label as one single-quoted shell word */
    char word[512] = "'";
    for (const char *p = label; *p; p++)
        strncat(word, *p == '\'' ? "'\\''" : (char[]){*p, 0}, sizeof word - strlen(word) - 1);
    strncat(word, "'", sizeof word - strlen(word) - 1);
    snprintf(args, sizeof args,
             "run \"%s\" --set label=%s --set checkpoint_interval_s=1 --set heartbeat_timeout_s=1 "
             "--set heartbeat_interval_s=0.5 --set 'faults=1 crash-worker 1' "
             "--set debug_skip_replay=1 --quiet --no-plot --out '%s'",
             scenario, word, out);
    char *err = NULL;
    assert_int_equal(shardsim(args, NULL, &err), 1);
    char *line = strstr(err, "  reproduce: shardsim run ");
    assert_non_null(line);
    line += strlen("  reproduce: ");
    *strchr(line, '\n') = '\0';
    /* paste it, with `shardsim` being the binary under test */
    fresh(again, sizeof again, "reproduce-again");
    snprintf(cmd, sizeof cmd, "shardsim() { '%s' \"$@\"; }; %s --quiet --no-plot --out '%s'",
             getenv("SHARDSIM_BIN"), line, again);
    assert_int_equal(tu_run(cmd, NULL, NULL, NULL), 1);
    /* the same arguments arrived: the same label on the command line, the same run */
    char path[8400];
    snprintf(path, sizeof path, "%s/manifest.json", again);
    json_t *m = json_load_file(path, 0, NULL);
    assert_non_null(m);
    json_t *argv = json_object_get(m, "command_line");
    char want[600];
    snprintf(want, sizeof want, "label=%s", label);
    int found = 0, found_path = 0;
    for (size_t i = 0; i < json_array_size(argv); i++) {
        found |= strcmp(json_string_value(json_array_get(argv, i)), want) == 0;
        found_path |= strcmp(json_string_value(json_array_get(argv, i)), scenario) == 0;
    }
    if (!found || !found_path)
        fail_msg("the rerun did not get '%s' and --set '%s' (line: %s)", scenario, want, line);
    json_decref(m);
    char a[8400], b[8400];
    snprintf(a, sizeof a, "%s/run-000/failed.txt", out);
    snprintf(b, sizeof b, "%s/run-000/failed.txt", again);
    char *first = tu_read_file(a, NULL), *second = tu_read_file(b, NULL);
    assert_non_null(first);
    assert_non_null(second);
    assert_string_equal(first, second);
    free(first);
    free(second);
    free(err);
}

/* ---- CSV ---- */

/* A swept value holding a double quote keeps runs.csv a table: quoted, quote doubled,
 * every row as wide as the header. */
static void csv_fields_are_quoted(void **state) {
    (void)state;
    char sc[4096], out[4096], path[8400], args[16384];
    const char text[] = "[General]\nduration_s = 1\nrate = 1000\n"
                        "label = ${who=say \"hi\" there,plain}\n";
    write_file(sc, sizeof sc, "quote.ini", text, sizeof text - 1);
    fresh(out, sizeof out, "quote");
    snprintf(args, sizeof args, "run '%s' --quiet --no-plot --out '%s'", sc, out);
    assert_int_equal(shardsim(args, NULL, NULL), 0);
    snprintf(path, sizeof path, "%s/runs.csv", out);
    char *raw = tu_read_file(path, NULL);
    assert_non_null(raw);
    assert_non_null(strstr(raw, ",\"say \"\"hi\"\" there\","));
    free(raw);
    table t;
    table_read(&t, path);
    assert_int_equal(t.rows, 3);
    assert_string_equal(table_get(&t, 1, "who"), "say \"hi\" there");
    assert_string_equal(table_get(&t, 2, "who"), "plain");
    assert_string_equal(table_get(&t, 1, "status"), "ok");
    table_free(&t);
}

/* `partitioner = ${modulo,flink}` is the column `partitioner`, not `1`. */
static void anonymous_sweep_is_named_after_its_key(void **state) {
    (void)state;
    char sc[4096], out[4096], path[8400], args[16384];
    const char text[] = "[General]\nduration_s = 1\nrate = 1000\n"
                        "partitioner = ${modulo,flink}\nlabel = ${p,q}-${r,s}\n";
    write_file(sc, sizeof sc, "anon.ini", text, sizeof text - 1);
    fresh(out, sizeof out, "anon");
    snprintf(args, sizeof args, "run '%s' --quiet --no-plot --out '%s'", sc, out);
    assert_int_equal(shardsim(args, NULL, NULL), 0);
    snprintf(path, sizeof path, "%s/runs.csv", out);
    table t;
    table_read(&t, path);
    assert_int_equal(t.rows, 9);
    assert_string_equal(t.cell[0][2], "partitioner");
    assert_string_equal(t.cell[0][3], "label");
    assert_string_equal(t.cell[0][4], "label_2");
    assert_string_equal(table_get(&t, 5, "partitioner"), "flink");
    assert_string_equal(table_get(&t, 2, "label_2"), "s");
    table_free(&t);
}

/* ---- keys with NUL bytes ---- */

static void nul_keys_print_in_full(void **state) {
    (void)state;
    char cmd[16384], want[64], *out = NULL;
    const char key[] = "a\0b\\c"; /* 5 bytes */
    snprintf(want, sizeof want, "a\\x00b\\\\c,%08x\nd,%08x\n", hash_crc32c(key, 5),
             hash_crc32c("d", 1));
    snprintf(cmd, sizeof cmd, "{ printf 'a\\000b\\\\c\\nd\\n' | '%s' hash --algo crc32c; }",
             getenv("SHARDSIM_BIN"));
    assert_int_equal(tu_run(cmd, NULL, &out, NULL), 0);
    assert_string_equal(out, want);
    free(out);
    snprintf(cmd, sizeof cmd,
             "{ printf 'a\\000b\\\\c\\n' | '%s' route --partitioner jump --parallelism 4; }",
             getenv("SHARDSIM_BIN"));
    assert_int_equal(tu_run(cmd, NULL, &out, NULL), 0);
    assert_memory_equal(out, "a\\x00b\\\\c,", 10);
    free(out);
}

/* ---- a rescale is not a failure ---- */

static void rescale_is_not_a_failure(void **state) {
    (void)state;
    char out[4096], path[8400], args[16384];
    fresh(out, sizeof out, "rescale");
    snprintf(args, sizeof args,
             "run --set duration_s=4 --set rate=5000 --set 'faults=2 rescale 12' --quiet "
             "--no-plot --out '%s'",
             out);
    assert_int_equal(shardsim(args, NULL, NULL), 0);
    snprintf(path, sizeof path, "%s/run-000/failovers.csv", out);
    char *failovers = tu_read_file(path, NULL);
    assert_non_null(failovers);
    assert_non_null(strstr(failovers, "\nrescale,12,"));
    free(failovers);
    snprintf(path, sizeof path, "%s/runs.csv", out);
    table t;
    table_read(&t, path);
    assert_string_equal(table_get(&t, 1, "failures"), "0");
    table_free(&t);
}

/* ---- bad inputs: one line on stderr naming the culprit, exit 2, nothing written ---- */

static void expect_bad(const char *args, const char *culprit) {
    char out[4096], full[16384];
    fresh(out, sizeof out, "bad");
    int writes = strncmp(args, "run", 3) == 0 || strncmp(args, "balance", 7) == 0;
    snprintf(full, sizeof full, "%s%s%s%s", args, writes ? " --out '" : "", writes ? out : "",
             writes ? "'" : "");
    char *err = NULL;
    int rc = shardsim(full, NULL, &err);
    size_t len = err ? strlen(err) : 0;
    if (rc != 2 || len == 0 || strchr(err, '\n') != err + len - 1 || !strstr(err, culprit))
        fail_msg("'%s': exit %d, stderr '%s' (wanted one line with '%s')", args, rc, err ? err : "",
                 culprit);
    assert_int_not_equal(access(out, F_OK), 0);
    free(err);
}

static void fault_times_must_be_finite(void **state) {
    (void)state;
    const char *faults[] = {"nan crash-worker 1", "inf crash-worker 1",   "1e300 crash-worker 1",
                            "-1 crash-worker 1",  "5 partition-jm 0 nan", "5 partition-jm 0 1e300"};
    for (size_t i = 0; i < sizeof faults / sizeof faults[0]; i++) {
        char args[512];
        snprintf(args, sizeof args,
                 "run --set coordination=mock --set job_managers=2 --set 'faults=%s'", faults[i]);
        expect_bad(args, "faults: times and durations must be seconds from 0 to 1e6");
    }
}

static void folder_is_not_a_scenario(void **state) {
    (void)state;
    char dir[4096], args[8300];
    fresh(dir, sizeof dir, "a-folder.ini");
    sh("mkdir -p '%s'", dir);
    snprintf(args, sizeof args, "run '%s'", dir);
    expect_bad(args, "is a folder, not a scenario file");
}

static void empty_runs_list_is_an_error(void **state) {
    (void)state;
    expect_bad("run --runs ''", "--runs");
    expect_bad("run --runs 0,", "--runs");
}

static void keys_takes_no_other_arguments(void **state) {
    (void)state;
    expect_bad("run --keys --frob", "--frob");
}

static void rescale_must_leave_a_subtask(void **state) {
    (void)state;
    expect_bad("balance --uniform 100 --parallelism 8,4 --rescale -4 --no-plot", "--rescale");
}

static void bound_c_must_be_above_1(void **state) {
    (void)state;
    expect_bad("route --partitioner bounded --parallelism 4 --bound-c 1.0",
               "--bound-c: expected a number above 1");
    expect_bad("balance --uniform 100 --partitioner bounded --bound-c 1 --no-plot", "above 1");
}

static void partitioner_all_stands_alone(void **state) {
    (void)state;
    expect_bad("balance --uniform 100 --partitioner all,flink --no-plot",
               "'all' cannot be combined");
    expect_bad("balance --uniform 100 --partitioner flink,flink --no-plot", "named twice");
}

/* An override's error names the flag, not a line of the built-in scenario. */
static void set_errors_name_the_flag(void **state) {
    (void)state;
    expect_bad("run --set parallelism=64", "run: --set parallelism=64: parallelism 64 needs");
    expect_bad("run --set 'partitioner=${a'", "run: --set partitioner=${a: unclosed");
    expect_bad("run --set 'session_timeout_s=${4,${6,8}}'",
               "run: --set session_timeout_s=${4,${6,8}}: a sweep inside a sweep");
    expect_bad("run --set repeat=0", "run: --set repeat=0: repeat:");
}

/* An error in a [Config] that is not the one run is still an error. */
static void every_config_is_checked(void **state) {
    (void)state;
    char sc[4096], args[8300];
    const char text[] = "[General]\nduration_s = 1\n"
                        "[Config good]\nparallelism = 4\n"
                        "[Config bad]\nparallelism = 64\n";
    write_file(sc, sizeof sc, "configs.ini", text, sizeof text - 1);
    snprintf(args, sizeof args, "run '%s' -c good", sc);
    char where[8400];
    snprintf(where, sizeof where, "%s:5: parallelism 64 needs more slots", sc);
    expect_bad(args, where);
}

/* A binary profile file quoted in an error is escaped, not sent to the terminal. */
static void binary_profile_is_not_echoed(void **state) {
    (void)state;
    char prof[4096], out[4096], args[16384];
    const char bytes[] = "[\x1b[2J\xff\xfe\x01\x9b]\nmedian_us = 1\n";
    write_file(prof, sizeof prof, "binary.prof", bytes, sizeof bytes - 1);
    fresh(out, sizeof out, "profile");
    snprintf(args, sizeof args,
             "run --set coordination=mock --set 'zk_profile=%s' --quiet --out '%s'", prof, out);
    char *err = NULL;
    assert_int_equal(shardsim(args, NULL, &err), 2);
    assert_non_null(strstr(err, "\\x1b[2J\\xff\\xfe\\x01\\x9b"));
    for (const unsigned char *p = (const unsigned char *)err; *p; p++)
        if ((*p < 0x20 && *p != '\n') || *p >= 0x7f)
            fail_msg("raw byte 0x%02x on stderr: %s", *p, err);
    free(err);
}

int main(void) {
    const char *tmp = getenv("SHARDSIM_TEST_TMP");
    if (!getenv("SHARDSIM_BIN") || !tmp) {
        fprintf(stderr, "test_files: run through ctest (needs SHARDSIM_BIN etc.)\n");
        return 1;
    }
    mkdir(tmp, 0777);
    snprintf(base, sizeof base, "%s/files", tmp);
    char cmd[8300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", base, base);
    if (system(cmd) != 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(failed_run_keeps_its_evidence),
        cmocka_unit_test(stopped_run_keeps_its_folder_and_row),
        cmocka_unit_test(reproducer_line_reruns_the_run),
        cmocka_unit_test(csv_fields_are_quoted),
        cmocka_unit_test(anonymous_sweep_is_named_after_its_key),
        cmocka_unit_test(nul_keys_print_in_full),
        cmocka_unit_test(rescale_is_not_a_failure),
        cmocka_unit_test(fault_times_must_be_finite),
        cmocka_unit_test(folder_is_not_a_scenario),
        cmocka_unit_test(empty_runs_list_is_an_error),
        cmocka_unit_test(keys_takes_no_other_arguments),
        cmocka_unit_test(rescale_must_leave_a_subtask),
        cmocka_unit_test(bound_c_must_be_above_1),
        cmocka_unit_test(partitioner_all_stands_alone),
        cmocka_unit_test(set_errors_name_the_flag),
        cmocka_unit_test(every_config_is_checked),
        cmocka_unit_test(binary_profile_is_not_echoed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
