/* test_page.c -- the report page of a result folder: index.html exists, names what the
 * folder holds, every link points to a file of the folder (no broken reference), every
 * plot of the folder is on the page (inlined), every in-page anchor has its target;
 * `shardsim run` names the page in its last line; plots carry the run's swept values in
 * their titles; a sweep over a category draws bars from sweep_plot.csv; a sweep without
 * failovers gets no downtime figure. */
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
        /* plot titles say what the run was */
        snprintf(path, sizeof path, "%s/run-020/failover.svg", dir);
        char *svg = tu_read_file(path, NULL);
        assert_non_null(svg);
        assert_non_null(strstr(svg, "T=4 fault=20 crash-leader 0"));
        free(svg);
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
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
