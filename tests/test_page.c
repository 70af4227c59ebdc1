/* test_page.c -- the report page of a result folder: index.html exists, names what the
 * folder holds, every link points to a file of the folder (no broken reference), every
 * plot of the folder is on the page (inlined), every in-page anchor has its target;
 * `shardsim run` names the page in its last line; plots carry the run's swept values in
 * their titles; a sweep over a category draws bars from sweep_plot.csv; a sweep without
 * failovers gets no downtime figure; a run with coordination writes who led when and
 * what became of each commit (leaders.csv, commits.csv, split_brain.svg), a rescale the
 * state each subtask gave and took (rescales.csv, rescale.svg), and a run with neither
 * has none of these files. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "tests/testutil.h"

static char base[4096];

static int have_gnuplot(void) {
    return system("command -v gnuplot >/dev/null 2>&1") == 0;
}

static char *run_into(const char *name, const char *args, char *dir, size_t size) {
    snprintf(dir, size, "%s/%s", base, name);
    char cmd[8192], *out = NULL, *err = NULL;
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && '%s' run %s --out '%s'", dir, getenv("SHARDSIM_BIN"),
             args, dir);
    int rc = tu_run(cmd, NULL, &out, &err);
    if (rc != 0)
        fail_msg("%s: exit %d: %s", cmd, rc, err ? err : "");
    free(err);
    return out;
}

static int file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Assert that none of the named files is in dir. */
static void assert_absent(const char *dir, const char *const *names, size_t count) {
    char path[4400];
    for (size_t i = 0; i < count; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (file_exists(path))
            fail_msg("%s should not exist", path);
    }
}

static const char *const coordination_files[] = {"leaders.csv", "commits.csv", "split_brain.png",
                                                 "split_brain.svg"};
static const char *const rescale_files[] = {"rescales.csv", "rescale.png", "rescale.svg"};

/* Count the .svg files in dir. */
static int count_svgs(const char *dir) {
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        n += len > 4 && strcmp(e->d_name + len - 4, ".svg") == 0;
    }
    if (d)
        closedir(d);
    return n;
}

/* Every href="..." of the page: a file of the folder, or "#id" with id="id" on the page. */
static void check_links(const char *dir, const char *page) {
    int links = 0;
    for (const char *p = strstr(page, "href=\""); p; p = strstr(p + 1, "href=\"")) {
        const char *v = p + 6, *end = strchr(v, '"');
        assert_non_null(end);
        char target[1024], path[6000];
        snprintf(target, sizeof target, "%.*s", (int)(end - v), v);
        if (target[0] == '#') {
            char id[1100];
            snprintf(id, sizeof id, "id=\"%s\"", target + 1);
            if (!strstr(page, id))
                fail_msg("anchor %s has no target", target);
        } else {
            assert_null(strstr(target, "://")); /* offline: nothing outside the folder */
            snprintf(path, sizeof path, "%s/%s", dir, target);
            if (!file_exists(path))
                fail_msg("broken link: %s", target);
        }
        links++;
    }
    assert_true(links > 3);
    assert_null(strstr(page, "src=\"")); /* images are inline, not fetched */
}

static void page_links_every_file_and_inlines_every_plot(void **state) {
    (void)state;
    char dir[4200], path[4400];
    char *out = run_into("failover", "failover --runs 0,20,1", dir, sizeof dir);
    /* the last line names the page */
    assert_non_null(strstr(out, "index.html"));
    free(out);
    snprintf(path, sizeof path, "%s/index.html", dir);
    char *page = tu_read_file(path, NULL);
    assert_non_null(page);
    check_links(dir, page);
    assert_non_null(strstr(page, "failover run 20: T=4 fault=20 crash-leader 0"));
    assert_non_null(strstr(page, "runs.csv"));
    /* each run's summary line is on the page */
    assert_non_null(strstr(page, "run 20 T=4 fault=20 crash-leader 0: "));
    if (have_gnuplot()) {
        int svgs = count_svgs(dir);
        const char *runs[] = {"run-000", "run-001", "run-020"};
        for (int i = 0; i < 3; i++) {
            snprintf(path, sizeof path, "%s/%s", dir, runs[i]);
            svgs += count_svgs(path);
        }
        int inlined = 0;
        for (const char *p = strstr(page, "<svg"); p; p = strstr(p + 1, "<svg"))
            inlined++;
        assert_true(svgs >= 4 * 3 + 2);
        assert_int_equal(inlined, svgs);
        /* every plot of the run: a real PNG, and an SVG whose title says what the run was */
        const char *plots[] = {"load", "latency_cdf", "latency_time", "failover", "split_brain"};
        for (size_t i = 0; i < sizeof plots / sizeof plots[0]; i++) {
            size_t len = 0;
            snprintf(path, sizeof path, "%s/run-020/%s.png", dir, plots[i]);
            char *png = tu_read_file(path, &len);
            if (!png || len < 1000 || memcmp(png, "\x89PNG\r\n\x1a\n", 8) != 0)
                fail_msg("%s: not a PNG", path);
            free(png);
            snprintf(path, sizeof path, "%s/run-020/%s.svg", dir, plots[i]);
            char *svg = tu_read_file(path, NULL);
            if (!svg || !strstr(svg, "failover run 20: T=4 fault=20 crash-leader 0"))
                fail_msg("%s: no title naming the run's parameters", path);
            free(svg);
        }
        const char *sweeps[] = {"sweep", "sweep_downtime"};
        for (size_t i = 0; i < 2; i++) {
            size_t len = 0;
            snprintf(path, sizeof path, "%s/%s.png", dir, sweeps[i]);
            char *png = tu_read_file(path, &len);
            if (!png || len < 1000 || memcmp(png, "\x89PNG\r\n\x1a\n", 8) != 0)
                fail_msg("%s: not a PNG", path);
            free(png);
            snprintf(path, sizeof path, "%s/%s.svg", dir, sweeps[i]);
            char *svg = tu_read_file(path, NULL);
            if (!svg || !strstr(svg, "failover: ") || !strstr(svg, " vs T"))
                fail_msg("%s: no title naming the sweep", path);
            free(svg);
        }
    }
    free(page);
}

static void category_sweep_has_bars_and_no_downtime_plot(void **state) {
    (void)state;
    char dir[4200], path[4400];
    free(run_into("skew", "skew --set duration_s=2 --set keys=1000 --quiet", dir, sizeof dir));
    snprintf(path, sizeof path, "%s/sweep_plot.csv", dir);
    char *csv = tu_read_file(path, NULL);
    assert_non_null(csv);
    assert_non_null(strstr(csv, "\nmodulo,"));
    assert_non_null(strstr(csv, "\nbounded,"));
    free(csv);
    /* no faults in skew: no zero-filled downtime figure */
    snprintf(path, sizeof path, "%s/sweep_downtime.csv", dir);
    assert_false(file_exists(path));
    snprintf(path, sizeof path, "%s/sweep_downtime.png", dir);
    assert_false(file_exists(path));
    /* neither coordination nor a rescale: no split-brain or rescale view */
    snprintf(path, sizeof path, "%s/run-000", dir);
    assert_absent(path, coordination_files, 4);
    assert_absent(path, rescale_files, 3);
    snprintf(path, sizeof path, "%s/index.html", dir);
    char *page = tu_read_file(path, NULL);
    assert_non_null(page);
    check_links(dir, page);
    free(page);
}

static void faults_are_listed_per_run(void **state) {
    (void)state;
    char dir[4200], path[4400];
    free(run_into("ensemble", "failover -c ensemble --runs 0 --quiet --no-plot", dir, sizeof dir));
    snprintf(path, sizeof path, "%s/run-000/faults.csv", dir);
    char *csv = tu_read_file(path, NULL);
    assert_non_null(csv);
    assert_string_equal(csv, "t_s,kind,target,duration_s\n20.000,crash-zk,1,\n40.000,crash-zk,0,\n"
                             "45.000,restart-zk,1,\n");
    free(csv);
}

/* The file dir/name, which must exist (freed by the caller). */
static char *read_in(const char *dir, const char *name) {
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    char *text = tu_read_file(path, NULL);
    if (!text)
        fail_msg("%s is missing", path);
    return text;
}

/* The svg dir/name, with a title holding each of the texts. */
static void assert_svg_says(const char *dir, const char *name, const char *a, const char *b) {
    if (!have_gnuplot())
        return;
    char *svg = read_in(dir, name);
    assert_non_null(strstr(svg, a));
    assert_non_null(strstr(svg, b));
    free(svg);
}

static void split_brain_shows_leaders_and_stale_commits(void **state) {
    (void)state;
    char dir[4200], run[4300];
    free(run_into("split-brain", "split-brain --runs 0,1 --quiet", dir, sizeof dir));
    /* run 1, fencing off: the deposed leader's retry commits after its successor won */
    snprintf(run, sizeof run, "%s/run-001", dir);
    char *leaders = read_in(run, "leaders.csv"), *commits = read_in(run, "commits.csv");
    assert_true(strncmp(leaders, "jm,epoch,from_s,to_s,to_end\n0,0,", 32) == 0);
    assert_non_null(strstr(leaders, "\n1,1,")); /* the standby leads in epoch 1 */
    assert_non_null(strstr(commits, ",0,0,20,stale,1\n"));
    assert_null(strstr(commits, ",refused,"));
    free(leaders);
    free(commits);
    assert_svg_says(run, "split_brain.svg", "split-brain run 1: fencing=0",
                    "leaders, epochs and commits");
    assert_absent(run, rescale_files, 3);
    /* run 0, fencing on: the same retry is refused, nothing stale */
    snprintf(run, sizeof run, "%s/run-000", dir);
    commits = read_in(run, "commits.csv");
    assert_non_null(strstr(commits, ",0,0,20,refused,1\n"));
    assert_null(strstr(commits, ",stale,"));
    free(commits);
}

/* A job manager that never led nor committed still has its row. */
static void split_brain_has_a_row_per_job_manager(void **state) {
    (void)state;
    char dir[4200], run[4300];
    free(run_into("split-brain-3", "split-brain --runs 1 --set job_managers=3 --quiet", dir,
                  sizeof dir));
    snprintf(run, sizeof run, "%s/run-001", dir);
    char *leaders = read_in(run, "leaders.csv");
    assert_null(strstr(leaders, "\n2,")); /* jm 2 never led */
    free(leaders);
    assert_svg_says(run, "split_brain.svg", ">jm 1<", ">jm 2<");
}

/* Column col (from 0) of a CSV line of numbers. */
static unsigned long long column_of(const char *line, int col) {
    for (int i = 0; i < col && line; i++) {
        line = strchr(line, ',');
        line = line ? line + 1 : NULL;
    }
    assert_non_null(line);
    return strtoull(line, NULL, 10);
}

static void rescale_shows_state_moved_per_subtask(void **state) {
    (void)state;
    char dir[4200], run[4300];
    free(run_into("rescale", "rescale --runs 0 --quiet", dir, sizeof dir));
    snprintf(run, sizeof run, "%s/run-000", dir);
    char *moves = read_in(run, "rescales.csv"), *failovers = read_in(run, "failovers.csv");
    const char *row = strchr(failovers, '\n') + 1; /* the rescale's row */
    assert_true(strncmp(row, "rescale,12,", 11) == 0);
    unsigned long long keys_out = 0, keys_in = 0, bytes_out = 0, bytes_in = 0;
    int rows = 0;
    for (const char *p = strchr(moves, '\n') + 1; *p; p = strchr(p, '\n') + 1, rows++) {
        assert_true(strncmp(p, "0,8,12,15.000000,", 17) == 0);
        assert_int_equal(column_of(p, 5), rows); /* subtasks 0..11 in order */
        if (rows >= 8) {                         /* a new subtask only takes state in */
            assert_int_equal(column_of(p, 6), 0);
            assert_true(column_of(p, 7) > 0);
        }
        keys_out += column_of(p, 6);
        keys_in += column_of(p, 7);
        bytes_out += column_of(p, 8);
        bytes_in += column_of(p, 9);
    }
    assert_int_equal(rows, 12);
    assert_true(keys_in > 0);
    assert_int_equal(keys_in, column_of(row, 14)); /* keys_moved */
    assert_int_equal(keys_out, keys_in);
    assert_int_equal(bytes_in, column_of(row, 9)); /* bytes_restored: what moved */
    assert_int_equal(bytes_out, bytes_in);
    free(moves);
    free(failovers);
    assert_svg_says(run, "rescale.svg", "rescale run 0: partitioner=flink",
                    "rescale 8 -> 12 at 15.0 s: paused 0.61 s");
    assert_absent(run, coordination_files, 4); /* no coordination service */
}

static int setup(void **state) {
    (void)state;
    snprintf(base, sizeof base, "%s/page", getenv("SHARDSIM_TEST_TMP"));
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", base, base);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(page_links_every_file_and_inlines_every_plot),
        cmocka_unit_test(category_sweep_has_bars_and_no_downtime_plot),
        cmocka_unit_test(faults_are_listed_per_run),
        cmocka_unit_test(split_brain_shows_leaders_and_stale_commits),
        cmocka_unit_test(split_brain_has_a_row_per_job_manager),
        cmocka_unit_test(rescale_shows_state_moved_per_subtask),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
