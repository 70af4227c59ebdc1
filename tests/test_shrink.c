/* test_shrink.c -- `shardsim shrink` end to end, on built-in mutations: the first seed
 * the default campaign catches (`check campaign --seeds 1..1000 --set mutations=NAME
 * --fail-fast`) is shrunk to a schedule of at most 3 faults, fewer than it had; the
 * scenario file written breaks the same invariant under `check FILE --seeds S..S`
 * (with the trace digest shrink reports, twice over) and under `run FILE`. A passing
 * seed, an existing --out without --force and bad flags exit 2 with one line; the
 * default file name is shrunk-SCENARIO-S.ini. Each test prints faults before -> after
 * (the README's figure). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/testutil.h"

static char tmp_base[4096];

/* Run `shardsim ARGS`; stdout and stderr into *out, *err (NULL: discard). */
static int shardsim(const char *args, char **out, char **err) {
    char cmd[16384];
    snprintf(cmd, sizeof cmd, "'%s' %s", getenv("SHARDSIM_BIN"), args);
    return tu_run(cmd, NULL, out, err);
}

/* A fresh (absent) path under the test temp dir. */
static void fresh(char *out, size_t size, const char *name) {
    snprintf(out, size, "%s/%s", tmp_base, name);
    char cmd[8300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", out);
    assert_int_equal(system(cmd), 0);
}

static size_t count_lines(const char *text) {
    size_t n = 0;
    for (; *text; text++)
        n += *text == '\n';
    return n;
}

/* The first seed the campaign catches with `mutation`, and the invariant. */
static unsigned long long first_failing(const char *mutation, char invariant[64]) {
    char args[1024], *out = NULL;
    snprintf(args, sizeof args,
             "check campaign --seeds 1..1000 --set mutations=%s --fail-fast --quiet --jobs 2",
             mutation);
    assert_int_equal(shardsim(args, &out, NULL), 1);
    unsigned long long seed = 0;
    if (sscanf(out, "seed %llu: %63[^:]", &seed, invariant) != 2)
        fail_msg("%s: no failing seed in: %s", mutation, out);
    free(out);
    return seed;
}

/* The number of entries of the file's `faults = ...` line. */
static unsigned faults_in(const char *text) {
    const char *line = strstr(text, "\nfaults = ");
    assert_non_null(line);
    line += strlen("\nfaults = ");
    unsigned n = line[0] != '\n';
    for (; *line && *line != '\n'; line++)
        n += *line == ';';
    return n;
}

/* `check FILE --seeds S..S` into folder dir: exit 1, the first line names the
 * invariant; returns seeds.csv's row for the seed (malloc'd). */
static char *check_file(const char *file, unsigned long long seed, const char *invariant,
                        const char *dir) {
    char args[16384], *out = NULL, want[128], path[4200];
    snprintf(args, sizeof args, "check '%s' --seeds %llu..%llu --out '%s' --quiet", file, seed,
             seed, dir);
    assert_int_equal(shardsim(args, &out, NULL), 1);
    snprintf(want, sizeof want, "seed %llu: %s: ", seed, invariant);
    if (strncmp(out, want, strlen(want)) != 0)
        fail_msg("want '%s...', got: %s", want, out);
    free(out);
    snprintf(path, sizeof path, "%s/seeds.csv", dir);
    char *csv = tu_read_file(path, NULL);
    assert_non_null(csv);
    char *row = strdup(strchr(csv, '\n') + 1);
    free(csv);
    return row;
}

/* Shrink the first seed `mutation` fails at: at most 3 faults, fewer than before; the
 * file fails the same way with the same trace, twice, and under `run`. */
static void shrinks(const char *mutation) {
    char invariant[64], file[4096], dir1[4096], dir2[4096], rundir[4096], args[16384];
    unsigned long long seed = first_failing(mutation, invariant);
    snprintf(args, sizeof args, "shrunk-%s.ini", mutation);
    fresh(file, sizeof file, args);
    char *out = NULL, *err = NULL;
    snprintf(args, sizeof args, "shrink campaign --seed %llu --set mutations=%s --out '%s'", seed,
             mutation, file);
    assert_int_equal(shardsim(args, &out, &err), 0);
    assert_non_null(strstr(err, "shrink: trial 1 (replay): ")); /* progress lines */
    unsigned before = 0, after = 99, trials = 0;
    const char *line = strstr(out, "  faults ");
    assert_non_null(line);
    assert_int_equal(sscanf(line, "  faults %u -> %u in %u trials", &before, &after, &trials), 3);
    print_message("shrink %-18s seed %4llu (%s): faults %u -> %u in %u trials\n", mutation, seed,
                  invariant, before, after, trials);
    assert_true(after <= 3);
    assert_true(after < before);
    char want[128], digest[17] = "";
    snprintf(want, sizeof want, "shrink campaign --seed %llu: %s: ", seed, invariant);
    assert_int_equal(strncmp(out, want, strlen(want)), 0);
    line = strstr(out, "  trace digest ");
    assert_non_null(line);
    assert_int_equal(sscanf(line, "  trace digest %16s", digest), 1);
    char *text = tu_read_file(file, NULL);
    assert_non_null(text);
    assert_int_equal(faults_in(text), after);
    assert_non_null(strstr(text, "\n[General]\n"));
    assert_non_null(strstr(text, "\nrandom_faults = 0\n"));
    snprintf(want, sizeof want, "\nmutations = %s\n", mutation);
    assert_non_null(strstr(text, want));
    snprintf(want, sizeof want, "\nseed = %llu\n", seed);
    assert_non_null(strstr(text, want));
    fresh(dir1, sizeof dir1, "replay-1");
    fresh(dir2, sizeof dir2, "replay-2");
    char *row1 = check_file(file, seed, invariant, dir1),
         *row2 = check_file(file, seed, invariant, dir2);
    assert_string_equal(row1, row2); /* the same invariants and trace digest */
    assert_non_null(strstr(row1, digest));
    fresh(rundir, sizeof rundir, "run");
    char *rerr = NULL;
    snprintf(args, sizeof args, "run '%s' --out '%s' --quiet --no-plot", file, rundir);
    assert_int_equal(shardsim(args, NULL, &rerr), 1);
    snprintf(want, sizeof want, "%s violated", invariant);
    if (!strstr(rerr, want))
        fail_msg("run: want '%s' in: %s", want, rerr);
    free(rerr);
    free(row1);
    free(row2);
    free(text);
    free(out);
    free(err);
}

static void group_two_owners(void **state) {
    (void)state;
    shrinks("group-two-owners");
}

static void restore_older(void **state) {
    (void)state;
    shrinks("restore-older");
}

static void no_fencing(void **state) {
    (void)state;
    shrinks("no-fencing");
}

static void counter_no_cas(void **state) {
    (void)state;
    shrinks("counter-no-cas");
}

/* Exit 2 with exactly one line on stderr naming `needle`, nothing on stdout. */
static void one_line(const char *args, const char *needle) {
    char *out = NULL, *err = NULL;
    int rc = shardsim(args, &out, &err);
    if (rc != 2 || count_lines(err) != 1 || out[0] || !strstr(err, needle))
        fail_msg("shardsim %s: exit %d, stdout '%s', stderr '%s' (want 2, one line with '%s')",
                 args, rc, out, err, needle);
    free(out);
    free(err);
}

static void passing_seed(void **state) {
    (void)state;
    char file[4096], args[8300];
    fresh(file, sizeof file, "passing.ini");
    snprintf(args, sizeof args, "shrink campaign --seed 11 --out '%s'", file);
    one_line(args, "shrink: seed 11 breaks no invariant");
    assert_int_not_equal(access(file, F_OK), 0);
}

/* --out on an existing file: exit 2, the file as it was; --force replaces it. */
static void out_keeps_a_file(void **state) {
    (void)state;
    char file[4096], args[8300];
    fresh(file, sizeof file, "existing.ini");
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fputs("keep me\n", f);
    assert_int_equal(fclose(f), 0);
    snprintf(args, sizeof args,
             "shrink campaign --seed 2 --set mutations=group-two-owners --quiet --out '%s'", file);
    one_line(args, "exists (--force replaces it)");
    char *text = tu_read_file(file, NULL);
    assert_string_equal(text, "keep me\n");
    free(text);
    snprintf(args, sizeof args,
             "shrink campaign --seed 2 --set mutations=group-two-owners --quiet --force --out "
             "'%s'",
             file);
    assert_int_equal(shardsim(args, NULL, NULL), 0);
    text = tu_read_file(file, NULL);
    assert_non_null(strstr(text, "\nfaults = "));
    free(text);
}

/* Without --out: shrunk-SCENARIO-S.ini in the current folder. */
static void default_name(void **state) {
    (void)state;
    char dir[4096], cmd[16384];
    fresh(dir, sizeof dir, "here");
    snprintf(cmd, sizeof cmd,
             "mkdir '%s' && cd '%s' && '%s' shrink campaign --seed 2 --set "
             "mutations=group-two-owners --quiet >/dev/null && test -f shrunk-campaign-2.ini",
             dir, dir, getenv("SHARDSIM_BIN"));
    assert_int_equal(tu_run(cmd, NULL, NULL, NULL), 0);
}

static void bad_flags(void **state) {
    (void)state;
    one_line("shrink campaign", "--seed: missing");
    one_line("shrink --seed 2", "missing SCENARIO");
    one_line("shrink campaign --seed x", "--seed");
    one_line("shrink campaign --seed 2 --bogus", "unknown option '--bogus'");
    one_line("shrink campaign other --seed 2", "unexpected argument 'other'");
    one_line("shrink campaign --seed 2 --set nosuchkey=1", "nosuchkey");
    one_line("shrink no-such-scenario --seed 2", "no-such-scenario");
    one_line("shrink campaign --seed 2 --out", "--out");
}

int main(void) {
    const char *tmp = getenv("SHARDSIM_TEST_TMP");
    snprintf(tmp_base, sizeof tmp_base, "%s/shrink", tmp ? tmp : "/tmp");
    char cmd[8300];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", tmp_base);
    if (system(cmd) != 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(group_two_owners), cmocka_unit_test(restore_older),
        cmocka_unit_test(no_fencing),       cmocka_unit_test(counter_no_cas),
        cmocka_unit_test(passing_seed),     cmocka_unit_test(out_keeps_a_file),
        cmocka_unit_test(default_name),     cmocka_unit_test(bad_flags),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
