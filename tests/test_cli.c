/* test_cli.c -- the shardsim binary as a user runs it: `hash`, `route` and `balance`
 * outputs, their files and plots, determinism, and one-line errors with exit code 2
 * for bad input. */
#include <errno.h>
#include <math.h>
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

#include "core/hash.h"
#include "core/partition.h"
#include "tests/testutil.h"

static char tmp_base[1024];

static const char *bin(void) {
    return getenv("SHARDSIM_BIN");
}

static void data_path(char *out, size_t size, const char *name) {
    snprintf(out, size, "%s/tests/data/%s", getenv("SHARDSIM_SOURCE_DIR"), name);
}

static int run(const char *args, const char *in, char **out, char **err) {
    char cmd[16384];
    snprintf(cmd, sizeof cmd, "'%s' %s", bin(), args);
    return tu_run(cmd, in, out, err);
}

static void hash_vectors(void **state) {
    (void)state;
    char *out = NULL;
    assert_int_equal(run("hash --algo crc32c", "123456789\n", &out, NULL), 0);
    assert_string_equal(out, "123456789,e3069283\n");
    free(out);
    assert_int_equal(run("hash --algo java-string", "hello\r\nAa\n", &out, NULL), 0);
    assert_string_equal(out, "hello,99162322\nAa,2112\n");
    free(out);
    assert_int_equal(run("hash --algo flink-int", "0\n1\n-1\n", &out, NULL), 0);
    char want[256];
    snprintf(want, sizeof want, "0,%d\n1,%d\n-1,%d\n", hash_flink_int(0), hash_flink_int(1),
             hash_flink_int(-1));
    assert_string_equal(out, want);
    free(out);
    assert_int_equal(run("hash --algo murmur3_32 --seed 1", "\n", &out, NULL), 0);
    assert_string_equal(out, ",514e28b7\n");
    free(out);
    assert_int_equal(run("hash --algo murmur3_128", "hello\n", &out, NULL), 0);
    assert_string_equal(out, "hello,cbd8a7b341bd9b025b1e906a48ae1d19\n");
    free(out);
}

static void route_matches_the_library(void **state) {
    (void)state;
    char *out = NULL;
    assert_int_equal(
        run("route --partitioner jump --parallelism 10", "alpha\nbeta\ngamma\n", &out, NULL), 0);
    part_config cfg = {.scheme = "jump", .parallelism = 10};
    part *p;
    assert_int_equal(part_create(&cfg, &p), 0);
    const char *keys[] = {"alpha", "beta", "gamma"};
    char want[512] = "", line[128];
    for (int i = 0; i < 3; i++) {
        uint32_t g = part_group_of_bytes(p, keys[i], strlen(keys[i]));
        snprintf(line, sizeof line, "%s,%u,%u\n", keys[i], g, part_owners(p)[g]);
        strcat(want, line);
    }
    part_free(p);
    assert_string_equal(out, want);
    free(out);
    /* Flink on Java ints and Strings, values from a JVM (see test_partition.c). */
    assert_int_equal(run("route --partitioner flink --parallelism 7 --max-parallelism 128 "
                         "--key-type int",
                         "42\n-2147483648\n", &out, NULL),
                     0);
    assert_string_equal(out, "42,29,1\n-2147483648,108,5\n");
    free(out);
    assert_int_equal(run("route --partitioner flink --parallelism 3 --max-parallelism 1000",
                         "apple\nzookeeper\n", &out, NULL),
                     0);
    assert_string_equal(out, "apple,980,2\nzookeeper,9,0\n");
    free(out);
}

static char *read_in(const char *dir, const char *name) {
    char path[8300];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return tu_read_file(path, NULL);
}

/* The value of `column` in the CSV row whose first two fields are scheme,n. */
static double csv_value(const char *csv, const char *scheme, unsigned n, int column) {
    char prefix[64];
    snprintf(prefix, sizeof prefix, "\n%s,%u,", scheme, n);
    const char *p = strstr(csv, prefix);
    assert_non_null(p);
    p++;
    for (int i = 0; i < column; i++) {
        p = strchr(p, ',');
        assert_non_null(p);
        p++;
    }
    return atof(p);
}

static void balance_files_and_figures(void **state) {
    (void)state;
    char dir[2048], args[8192];
    snprintf(dir, sizeof dir, "%s/bal-a", tmp_base);
    snprintf(args, sizeof args, "balance --uniform 20000 --parallelism 4,10 --no-plot --out '%s'",
             dir);
    char *out = NULL;
    assert_int_equal(run(args, NULL, &out, NULL), 0);
    assert_non_null(strstr(out, "maglev"));
    free(out);
    char *csv = read_in(dir, "balance.csv");
    assert_non_null(csv);
    assert_true(strncmp(csv, "partitioner,parallelism,groups,keys,", 36) == 0);
    int rows = 0;
    for (char *p = csv; (p = strchr(p, '\n')) != NULL; p++)
        rows++;
    assert_int_equal(rows, 1 + 7 * 2);
    /* Columns: 15 moved_keys; modulo moves most keys, jump about 1/(N+1). */
    assert_true(fabs(csv_value(csv, "modulo", 10, 15) - 10.0 / 11) < 0.03);
    assert_true(fabs(csv_value(csv, "jump", 10, 15) - 1.0 / 11) < 0.02);
    assert_true(csv_value(csv, "flink", 4, 5) >= 1.0);
    free(csv);
    char *json = read_in(dir, "balance.json");
    assert_non_null(json);
    assert_non_null(strstr(json, "\"rows\""));
    assert_non_null(strstr(json, "\"partitioner\": \"rendezvous\""));
    free(json);
    /* Same seed, same bytes. */
    char dir2[2048];
    snprintf(dir2, sizeof dir2, "%s/bal-b", tmp_base);
    snprintf(args, sizeof args, "balance --uniform 20000 --parallelism 4,10 --no-plot --out '%s'",
             dir2);
    assert_int_equal(run(args, NULL, NULL, NULL), 0);
    char cmd[9000];
    snprintf(cmd, sizeof cmd, "diff -r '%s' '%s' >/dev/null", dir, dir2);
    assert_int_equal(system(cmd), 0);
}

static void balance_key_file_and_plots(void **state) {
    (void)state;
    char dir[2048], keys[2048], args[8192];
    snprintf(dir, sizeof dir, "%s/bal-plot", tmp_base);
    data_path(keys, sizeof keys, "words.txt");
    snprintf(args, sizeof args,
             "balance --keys '%s' --partitioner flink,modulo --parallelism 2,3 --out '%s'", keys,
             dir);
    char *out = NULL;
    assert_int_equal(run(args, NULL, &out, NULL), 0);
    assert_non_null(strstr(out, "7 keys, 10 records"));
    free(out);
    const char *plots[] = {"balance", "movement"};
    for (int i = 0; i < 2; i++) {
        char name[64];
        size_t len;
        snprintf(name, sizeof name, "%s.png", plots[i]);
        char path[8300];
        snprintf(path, sizeof path, "%s/%s", dir, name);
        char *png = tu_read_file(path, &len);
        assert_non_null(png);
        assert_true(len > 4000);
        assert_memory_equal(png, "\x89PNG\r\n\x1a\n", 8);
        free(png);
        snprintf(name, sizeof name, "%s.svg", plots[i]);
        char *svg = read_in(dir, name);
        assert_non_null(svg);
        assert_non_null(strstr(svg, "<title>"));
        free(svg);
    }
}

typedef struct bad_case {
    const char *args;
    const char *in;
    const char *culprit; /* must appear in the one error line */
} bad_case;

static void bad_input_exits_2_with_one_line(void **state) {
    (void)state;
    char empty[2048], badints[2048];
    data_path(empty, sizeof empty, "empty_line.txt");
    data_path(badints, sizeof badints, "bad_ints.txt");
    char a1[8192], a2[8192];
    snprintf(a1, sizeof a1, "balance --keys '%s' --no-plot", empty);
    snprintf(a2, sizeof a2, "balance --keys '%s' --key-type int --no-plot", badints);
    const bad_case cases[] = {
        {"balance --bogus", NULL, "--bogus"},
        {"balance --partitioner nope --uniform 10", NULL, "nope"},
        {"balance --parallelism 0 --uniform 10", NULL, "--parallelism"},
        {"balance --partitioner flink --parallelism 200 --max-parallelism 128 --uniform 10", NULL,
         "--parallelism"},
        {"balance --parallelism abc --uniform 10", NULL, "abc"},
        {"balance --uniform -3", NULL, "--uniform"},
        {"balance --zipf 100", NULL, "--zipf"},
        {"balance --keys /nonexistent/keys.txt", NULL, "/nonexistent/keys.txt"},
        {a1, NULL, "empty_line.txt:2"},
        {a2, NULL, "x4"},
        {"balance --rescale 3 --uniform 10", NULL, "--rescale"},
        {"hash --algo nope", "x\n", "nope"},
        {"hash", "x\n", "--algo"},
        {"hash --algo crc32c --seed 3", "x\n", "--seed"},
        {"hash --algo flink-int", "1\nzz\n", "stdin:2"},
        {"route --partitioner flink --parallelism 4 --key-type int", "7\nseven\n", "stdin:2"},
        {"route --partitioner jump", "x\n", "--parallelism"},
        {"route --partitioner jump --parallelism 4 --hash md5", "x\n", "md5"},
        {"route --partitioner flink --parallelism 4 --max-parallelism 40000", "x\n",
         "--max-parallelism"},
        {"frobnicate", NULL, "frobnicate"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char dir[2048], args[9000];
        snprintf(dir, sizeof dir, "%s/bad-%zu", tmp_base, i);
        snprintf(args, sizeof args, "%s%s", cases[i].args,
                 strncmp(cases[i].args, "balance", 7) == 0 ? " --out " : "");
        if (strncmp(cases[i].args, "balance", 7) == 0)
            strcat(args, dir);
        char *err = NULL;
        int rc = run(args, cases[i].in, NULL, &err);
        size_t len = err ? strlen(err) : 0;
        if (rc != 2 || len == 0 || strchr(err, '\n') != err + len - 1 ||
            !strstr(err, cases[i].culprit))
            fail_msg("'%s': exit %d, stderr '%s' (wanted one line naming %s)", cases[i].args, rc,
                     err ? err : "", cases[i].culprit);
        assert_int_not_equal(access(dir, F_OK), 0); /* nothing written */
        free(err);
    }
}

static void help_everywhere(void **state) {
    (void)state;
    const char *cmds[] = {"--help", "hash --help", "route --help", "balance --help"};
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        char *out = NULL;
        assert_int_equal(run(cmds[i], NULL, &out, NULL), 0);
        assert_non_null(strstr(out, "usage: shardsim"));
        free(out);
    }
}

int main(void) {
    const char *base = getenv("SHARDSIM_TEST_TMP");
    if (!bin() || !base || !getenv("SHARDSIM_SOURCE_DIR")) {
        fprintf(stderr, "test_cli: run through ctest (needs SHARDSIM_BIN etc.)\n");
        return 1;
    }
    mkdir(base, 0777);
    snprintf(tmp_base, sizeof tmp_base, "%s/cli", base);
    char cmd[8300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", tmp_base, tmp_base);
    if (system(cmd) != 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hash_vectors),
        cmocka_unit_test(route_matches_the_library),
        cmocka_unit_test(balance_files_and_figures),
        cmocka_unit_test(balance_key_file_and_plots),
        cmocka_unit_test(bad_input_exits_2_with_one_line),
        cmocka_unit_test(help_everywhere),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
