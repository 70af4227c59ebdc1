/* test_run.c -- `shardsim run` end to end: the result folder of each shipped scenario,
 * its CSVs and plots, determinism across runs and --jobs, and bad scenario files
 * (exit 2, one line naming FILE:LINE, no result folder left behind). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "sim/config.h"
#include "tests/testutil.h"

static char tmp_base[4096];

static void make_dir(const char *path) {
    if (mkdir(path, 0777) != 0 && errno != EEXIST)
        fail_msg("mkdir %s: %s", path, strerror(errno));
}

/* A fresh folder under the test temp dir. */
static void fresh(char *out, size_t size, const char *name) {
    snprintf(out, size, "%s/%s", tmp_base, name);
    char cmd[8300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", out);
    assert_int_equal(system(cmd), 0);
}

static void scenario_path(char *out, size_t size, const char *name) {
    snprintf(out, size, "%s/bench/scenarios/%s.ini", getenv("SHARDSIM_SOURCE_DIR"), name);
}

/* The column index of `name` in a CSV header line, or -1. */
static int column_of(const char *header, const char *name) {
    int col = 0;
    size_t len = strlen(name);
    for (const char *p = header; *p; col++) {
        const char *end = strpbrk(p, ",\n");
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == len && strncmp(p, name, len) == 0)
            return col;
        if (!end || *end == '\n')
            break;
        p = end + 1;
    }
    return -1;
}

/* Field `col` of a CSV line into buf. */
static void field(const char *line, int col, char *buf, size_t size) {
    const char *p = line;
    for (int i = 0; i < col && p; i++) {
        p = strchr(p, ',');
        if (p)
            p++;
    }
    assert_non_null(p);
    size_t n = strcspn(p, ",\n");
    if (n >= size)
        n = size - 1;
    memcpy(buf, p, n);
    buf[n] = '\0';
}

static void assert_png(const char *dir, const char *name) {
    char path[8300];
    snprintf(path, sizeof path, "%s/%s.png", dir, name);
    size_t len;
    char *data = tu_read_file(path, &len);
    assert_non_null(data);
    assert_true(len > 4000);
    assert_memory_equal(data, "\x89PNG\r\n\x1a\n", 8);
    free(data);
    snprintf(path, sizeof path, "%s/%s.svg", dir, name);
    data = tu_read_file(path, &len);
    assert_non_null(data);
    assert_non_null(strstr(data, "<svg"));
    assert_non_null(strstr(data, "<title>"));
    free(data);
}

/* Run a shipped scenario into a fresh folder; returns the exit code. */
static int run_scenario(const char *name, const char *out, const char *extra) {
    char sc[4096], cmd[12000];
    scenario_path(sc, sizeof sc, name);
    snprintf(cmd, sizeof cmd, "'%s' run '%s' --seed 3 --quiet --out '%s' %s",
             getenv("SHARDSIM_BIN"), sc, out, extra ? extra : "");
    return tu_run(cmd, NULL, NULL, NULL);
}

static void baseline_writes_every_file(void **state) {
    (void)state;
    char out[4096], path[8300];
    fresh(out, sizeof out, "baseline");
    assert_int_equal(run_scenario("baseline", out, NULL), 0);
    const char *files[] = {"manifest.json",          "runs.csv",
                           "run-000/timeseries.csv", "run-000/subtasks.csv",
                           "run-000/latency.csv",    "run-000/failovers.csv"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", out, files[i]);
        assert_int_equal(access(path, R_OK), 0);
    }
    snprintf(path, sizeof path, "%s/run-000", out);
    assert_png(path, "load");
    assert_png(path, "latency_cdf");
    assert_png(path, "latency_time");
    assert_png(path, "failover");

    /* runs.csv: one row, exactly-once ok, a plausible p99 and a 16-hex-digit digest. */
    snprintf(path, sizeof path, "%s/runs.csv", out);
    char *csv = tu_read_file(path, NULL);
    assert_non_null(csv);
    char *row = strchr(csv, '\n');
    assert_non_null(row);
    row++;
    char buf[64];
    field(row, column_of(csv, "exactly_once"), buf, sizeof buf);
    assert_string_equal(buf, "ok");
    field(row, column_of(csv, "trace_digest"), buf, sizeof buf);
    assert_int_equal(strlen(buf), 16);
    field(row, column_of(csv, "p99_ms"), buf, sizeof buf);
    assert_true(atof(buf) > 0.0);
    field(row, column_of(csv, "records"), buf, sizeof buf);
    assert_true(atol(buf) > 1000);
    assert_null(strchr(row, '\n') ? strchr(strchr(row, '\n') + 1, '\n') : NULL);
    free(csv);
}

static void skew_same_records_for_every_partitioner(void **state) {
    (void)state;
    char out[4096], path[8300];
    fresh(out, sizeof out, "skew");
    assert_int_equal(run_scenario("skew", out, "--no-plot"), 0);
    snprintf(path, sizeof path, "%s/runs.csv", out);
    char *csv = tu_read_file(path, NULL);
    assert_non_null(csv);
    int col = column_of(csv, "source_digest"), pcol = column_of(csv, "partitioner");
    assert_true(col >= 0);
    assert_true(pcol >= 0);
    char first[64] = "", buf[64];
    int rows = 0;
    char seen[8][32];
    for (char *line = strchr(csv, '\n') + 1; *line; line = strchr(line, '\n') + 1) {
        field(line, col, buf, sizeof buf);
        if (rows == 0)
            snprintf(first, sizeof first, "%s", buf);
        assert_string_equal(buf, first);
        if (rows < 8)
            field(line, pcol, seen[rows], sizeof seen[rows]);
        rows++;
    }
    assert_true(rows >= 5);
    assert_string_not_equal(seen[0], seen[1]);
    free(csv);
}

static void failover_shows_a_gap_and_stays_exactly_once(void **state) {
    (void)state;
    char out[4096], path[8300];
    fresh(out, sizeof out, "failover");
    /* 3 repetitions of each cell (the scenario has 20): enough to see a spread */
    assert_int_equal(run_scenario("failover", out, "--set repeat=3"), 0);
    /* sweep_downtime.csv: each cell a distribution over its runs, which differ by phase */
    snprintf(path, sizeof path, "%s/sweep_downtime.csv", out);
    char *cells = tu_read_file(path, NULL);
    assert_non_null(cells);
    int spread_seen = 0, cell_rows = 0;
    for (char *line = strchr(cells, '\n') + 1; *line; line = strchr(line, '\n') + 1) {
        char n[32], med[32], p10[32], p90[32], lo[32], hi[32];
        field(line, column_of(cells, "runs"), n, sizeof n);
        field(line, column_of(cells, "downtime_median_s"), med, sizeof med);
        field(line, column_of(cells, "downtime_p10_s"), p10, sizeof p10);
        field(line, column_of(cells, "downtime_p90_s"), p90, sizeof p90);
        field(line, column_of(cells, "downtime_min_s"), lo, sizeof lo);
        field(line, column_of(cells, "downtime_max_s"), hi, sizeof hi);
        assert_int_equal(atoi(n), 3);
        assert_true(atof(lo) <= atof(p10) && atof(p10) <= atof(med) && atof(med) <= atof(p90) &&
                    atof(p90) <= atof(hi));
        spread_seen += atof(hi) > atof(lo);
        cell_rows++;
    }
    assert_int_equal(cell_rows, 6); /* 3 timeouts x 2 faults */
    assert_true(spread_seen >= 4);  /* repetitions differ: phases are drawn per run */
    free(cells);
    snprintf(path, sizeof path, "%s/run-000/failovers.csv", out);
    char *csv = tu_read_file(path, NULL);
    assert_non_null(csv);
    char *row = strchr(csv, '\n') + 1;
    assert_true(*row != '\0');
    char buf[64];
    field(row, column_of(csv, "detection_s"), buf, sizeof buf);
    double detection = atof(buf);
    assert_true(detection > 0.0);
    field(row, column_of(csv, "downtime_s"), buf, sizeof buf);
    double downtime = atof(buf);
    assert_true(downtime >= detection);
    field(row, column_of(csv, "records_replayed"), buf, sizeof buf);
    assert_true(atol(buf) > 0);
    free(csv);
    /* The time series marks the job down for a while, with nothing done then. */
    snprintf(path, sizeof path, "%s/run-000/timeseries.csv", out);
    csv = tu_read_file(path, NULL);
    assert_non_null(csv);
    int down_col = column_of(csv, "down"), p99_col = column_of(csv, "p99_ms");
    int down_windows = 0;
    double p99_before = 0, p99_after = 0;
    for (char *line = strchr(csv, '\n') + 1; *line; line = strchr(line, '\n') + 1) {
        field(line, down_col, buf, sizeof buf);
        int down = strcmp(buf, "1") == 0;
        down_windows += down;
        field(line, p99_col, buf, sizeof buf);
        if (down_windows == 0 && atof(buf) > p99_before)
            p99_before = atof(buf);
        if (down_windows > 0 && atof(buf) > p99_after) /* from the outage on */
            p99_after = atof(buf);
    }
    assert_true(down_windows > 0);
    /* Records held up by the outage finish late: the gap shows as a latency spike. */
    assert_true(p99_after > 10 * p99_before);
    free(csv);
    snprintf(path, sizeof path, "%s/runs.csv", out);
    csv = tu_read_file(path, NULL);
    assert_non_null(strstr(csv, ",ok\n"));
    free(csv);
    snprintf(path, sizeof path, "%s/run-000", out);
    assert_png(path, "latency_time");
    /* coordination: every type's histogram adds up to its count in coordination.csv */
    snprintf(path, sizeof path, "%s/run-000/coordination.csv", out);
    char *ops = tu_read_file(path, NULL);
    snprintf(path, sizeof path, "%s/run-000/coordination_latency.csv", out);
    char *buckets = tu_read_file(path, NULL);
    assert_non_null(ops);
    assert_non_null(buckets);
    int types = 0;
    for (char *line = strchr(ops, '\n') + 1; *line; line = strchr(line, '\n') + 1) {
        char op[32], count[32], b_op[32], b_count[32];
        field(line, 0, op, sizeof op);
        field(line, 1, count, sizeof count);
        long sum = 0;
        for (char *b = strchr(buckets, '\n') + 1; *b; b = strchr(b, '\n') + 1) {
            field(b, 0, b_op, sizeof b_op);
            field(b, 3, b_count, sizeof b_count);
            if (strcmp(op, b_op) == 0)
                sum += atol(b_count);
        }
        assert_int_equal(sum, atol(count));
        types += atol(count) > 0;
    }
    assert_true(types >= 5); /* create, set, get, children, multi at least */
    free(ops);
    free(buckets);
}

static void same_seed_same_files_and_jobs_do_not_matter(void **state) {
    (void)state;
    char a[4096], b[4096], c[4096], cmd[16384];
    fresh(a, sizeof a, "det-a");
    fresh(b, sizeof b, "det-b");
    fresh(c, sizeof c, "det-c");
    assert_int_equal(run_scenario("sweep-parallelism", a, "--no-plot --jobs 1"), 0);
    assert_int_equal(run_scenario("sweep-parallelism", b, "--no-plot --jobs 1"), 0);
    assert_int_equal(run_scenario("sweep-parallelism", c, "--no-plot --jobs 2"), 0);
    snprintf(cmd, sizeof cmd,
             "diff -r -x manifest.json '%s' '%s' >/dev/null && diff -r -x manifest.json '%s' "
             "'%s' >/dev/null",
             a, b, a, c);
    assert_int_equal(system(cmd), 0);
    /* A different seed changes the digests. */
    char d[4096], sc[4096];
    fresh(d, sizeof d, "det-d");
    scenario_path(sc, sizeof sc, "sweep-parallelism");
    snprintf(cmd, sizeof cmd, "'%s' run '%s' --seed 4 --quiet --no-plot --out '%s'",
             getenv("SHARDSIM_BIN"), sc, d);
    assert_int_equal(tu_run(cmd, NULL, NULL, NULL), 0);
    snprintf(cmd, sizeof cmd, "cmp -s '%s/runs.csv' '%s/runs.csv'", a, d);
    assert_int_not_equal(system(cmd), 0);
}

static void runs_selects_and_set_overrides(void **state) {
    (void)state;
    char out[4096], path[8300], sc[4096], cmd[12000];
    fresh(out, sizeof out, "select");
    scenario_path(sc, sizeof sc, "sweep-parallelism");
    snprintf(cmd, sizeof cmd,
             "'%s' run '%s' --runs 1 --set duration_s=5 --quiet --no-plot --out '%s'",
             getenv("SHARDSIM_BIN"), sc, out);
    assert_int_equal(tu_run(cmd, NULL, NULL, NULL), 0);
    snprintf(path, sizeof path, "%s/run-001", out);
    assert_int_equal(access(path, F_OK), 0);
    snprintf(path, sizeof path, "%s/run-000", out);
    assert_int_not_equal(access(path, F_OK), 0);
}

/* The chaos campaign (repeat = 20, random_faults = 5): every run exactly-once, each with
 * its schedule in faults.txt, and run 4's schedule replays run 4 (same digest). */
static void chaos_campaign_repeats_and_replays(void **state) {
    (void)state;
    char out[4096], again[4096], path[8300], cmd[20000];
    fresh(out, sizeof out, "chaos");
    assert_int_equal(run_scenario("chaos", out, "--no-plot"), 0);
    snprintf(path, sizeof path, "%s/runs.csv", out);
    char *csv = tu_read_file(path, NULL);
    assert_non_null(csv);
    int rows = 0, col = column_of(csv, "exactly_once"), digest_col = column_of(csv, "trace_digest");
    char buf[64], digest4[64] = "";
    for (char *line = strchr(csv, '\n') + 1; *line; line = strchr(line, '\n') + 1) {
        field(line, col, buf, sizeof buf);
        assert_string_equal(buf, "ok");
        if (rows == 4)
            field(line, digest_col, digest4, sizeof digest4);
        rows++;
    }
    assert_int_equal(rows, 20);
    free(csv);
    snprintf(path, sizeof path, "%s/run-004/faults.txt", out);
    char *faults = tu_read_file(path, NULL);
    assert_non_null(faults);
    *strchr(faults, '\n') = '\0';
    char sc[4096];
    scenario_path(sc, sizeof sc, "chaos");
    fresh(again, sizeof again, "chaos-again");
    snprintf(cmd, sizeof cmd,
             "'%s' run '%s' --seed 3 --runs 4 --set random_faults=0 --set 'faults=%s' --quiet "
             "--no-plot --out '%s'",
             getenv("SHARDSIM_BIN"), sc, faults, again);
    assert_int_equal(tu_run(cmd, NULL, NULL, NULL), 0);
    free(faults);
    snprintf(path, sizeof path, "%s/runs.csv", again);
    csv = tu_read_file(path, NULL);
    assert_non_null(csv);
    field(strchr(csv, '\n') + 1, column_of(csv, "trace_digest"), buf, sizeof buf);
    assert_string_equal(buf, digest4);
    free(csv);
}

/* Every file in tests/data/run-bad/ is a bad scenario whose first line says
 * "; expect: LINE: fragment". Each must exit 2 with one stderr line naming
 * FILE:LINE and leave no result folder. */
static void bad_scenarios_are_rejected_cleanly(void **state) {
    (void)state;
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/tests/data/run-bad", getenv("SHARDSIM_SOURCE_DIR"));
    struct dirent **names;
    int n = scandir(dir, &names, NULL, alphasort);
    assert_true(n > 0);
    int cases = 0;
    for (int i = 0; i < n; i++) {
        const char *name = names[i]->d_name;
        size_t len = strlen(name);
        if (len < 5 || strcmp(name + len - 4, ".ini") != 0) {
            free(names[i]);
            continue;
        }
        char path[8300], out[4096], cmd[16384], expect[512];
        snprintf(path, sizeof path, "%s/%s", dir, name);
        char *text = tu_read_file(path, NULL);
        assert_non_null(text);
        assert_int_equal(sscanf(text, "; expect: %511[^\n]", expect), 1);
        free(text);
        char line[32], *colon = strchr(expect, ':');
        assert_non_null(colon);
        snprintf(line, sizeof line, "%.*s", (int)(colon - expect), expect);
        const char *fragment = colon + 2;
        fresh(out, sizeof out, "bad");
        snprintf(cmd, sizeof cmd, "'%s' run '%s' --quiet --out '%s'", getenv("SHARDSIM_BIN"), path,
                 out);
        char *err = NULL;
        int rc = tu_run(cmd, NULL, NULL, &err);
        char where[8400];
        snprintf(where, sizeof where, "%s:%s:", path, line);
        if (rc != 2 || !strstr(err, where) || !strstr(err, fragment) ||
            strchr(err, '\n') != err + strlen(err) - 1)
            fail_msg("%s: exit %d, stderr: %s (wanted %s ... %s)", name, rc, err, where, fragment);
        assert_int_not_equal(access(out, F_OK), 0);
        free(err);
        free(names[i]);
        cases++;
    }
    free(names);
    assert_true(cases >= 15);
}

static void bad_flags_exit_2(void **state) {
    (void)state;
    const char *cases[] = {
        "run --jobs 0",         "run --runs 99",     "run --seed x",        "run --bogus",
        "run /nonexistent.ini", "run --set novalue", "run -c nosuchconfig",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char cmd[8192], out[4096];
        fresh(out, sizeof out, "badflag");
        snprintf(cmd, sizeof cmd, "'%s' %s --out '%s'", getenv("SHARDSIM_BIN"), cases[i], out);
        char *err = NULL;
        int rc = tu_run(cmd, NULL, NULL, &err);
        if (rc != 2 || strchr(err, '\n') != err + strlen(err) - 1)
            fail_msg("'%s': exit %d, stderr: %s", cases[i], rc, err);
        assert_int_not_equal(access(out, F_OK), 0);
        free(err);
    }
}

static void builtin_baseline_matches_the_shipped_file(void **state) {
    (void)state;
    char sc[4096];
    scenario_path(sc, sizeof sc, "baseline");
    char *file = tu_read_file(sc, NULL);
    assert_non_null(file);
    assert_string_equal(file, sim_builtin_scenario("baseline"));
    free(file);
}

/* The README documents every scenario key, with its unit and default. */
static void readme_documents_every_key(void **state) {
    (void)state;
    char path[4096];
    snprintf(path, sizeof path, "%s/README.md", getenv("SHARDSIM_SOURCE_DIR"));
    char *readme = tu_read_file(path, NULL);
    assert_non_null(readme);
    const config_key *k;
    for (size_t i = 0; (k = config_key_at(i)) != NULL; i++) {
        char row[256];
        snprintf(row, sizeof row, "| `%s` | %s | %s%s%s |", k->name, k->unit,
                 k->default_text[0] ? "`" : "", k->default_text, k->default_text[0] ? "`" : "");
        if (!strstr(readme, row))
            fail_msg("README.md lacks the row: %s", row);
    }
    free(readme);
}

int main(void) {
    const char *base = getenv("SHARDSIM_TEST_TMP");
    snprintf(tmp_base, sizeof tmp_base, "%s/run", base ? base : "/tmp/shardsim-test");
    make_dir(base ? base : "/tmp/shardsim-test");
    make_dir(tmp_base);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(builtin_baseline_matches_the_shipped_file),
        cmocka_unit_test(baseline_writes_every_file),
        cmocka_unit_test(skew_same_records_for_every_partitioner),
        cmocka_unit_test(failover_shows_a_gap_and_stays_exactly_once),
        cmocka_unit_test(same_seed_same_files_and_jobs_do_not_matter),
        cmocka_unit_test(runs_selects_and_set_overrides),
        cmocka_unit_test(chaos_campaign_repeats_and_replays),
        cmocka_unit_test(bad_scenarios_are_rejected_cleanly),
        cmocka_unit_test(bad_flags_exit_2),
        cmocka_unit_test(readme_documents_every_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
