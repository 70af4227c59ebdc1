/* test_check.c -- `shardsim check` end to end: a clean campaign and its summary.json and
 * seeds.csv, a failing one (debug_skip_replay breaks exactly-once) whose reproducer
 * fails the same way with the same trace digest, shards that partition the range and
 * merge to the unsharded counts, --jobs giving the same seeds.csv, bad input (exit 2,
 * one line), --out refusing a folder that is not shardsim's, and `run` stating the values
 * it drew as check does. */
#include <errno.h>
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

#include "tests/testutil.h"

static char tmp_base[4096], campaign[4096];

/* A fresh (absent) folder path under the test temp dir. */
static void fresh(char *out, size_t size, const char *name) {
    snprintf(out, size, "%s/%s", tmp_base, name);
    char cmd[8300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", out);
    assert_int_equal(system(cmd), 0);
}

/* Run `shardsim check ARGS`; stdout and stderr into *out, *err (NULL: discard). */
static int check(const char *args, char **out, char **err) {
    char cmd[16384];
    snprintf(cmd, sizeof cmd, "'%s' check %s", getenv("SHARDSIM_BIN"), args);
    return tu_run(cmd, NULL, out, err);
}

static json_t *summary(const char *dir) {
    char path[4200];
    snprintf(path, sizeof path, "%s/summary.json", dir);
    json_error_t e;
    json_t *m = json_load_file(path, 0, &e);
    if (!m)
        fail_msg("%s: %s", path, e.text);
    return m;
}

static json_int_t int_at(const json_t *m, const char *key) {
    json_t *v = json_object_get(m, key);
    assert_true(json_is_integer(v));
    return json_integer_value(v);
}

static char *seeds_csv(const char *dir) {
    char path[4200];
    snprintf(path, sizeof path, "%s/seeds.csv", dir);
    char *text = tu_read_file(path, NULL);
    assert_non_null(text);
    return text;
}

static size_t count_lines(const char *text) {
    size_t n = 0;
    for (; *text; text++)
        n += *text == '\n';
    return n;
}

/* A campaign that keeps every invariant: exit 0, and its files say so. */
static void clean_campaign_passes(void **state) {
    (void)state;
    char dir[4096], args[8300], *out = NULL;
    fresh(dir, sizeof dir, "clean");
    snprintf(args, sizeof args, "'%s' --seeds 11..40 --out '%s'", campaign, dir);
    assert_int_equal(check(args, &out, NULL), 0);
    assert_non_null(strstr(out, "30 run, 0 failed"));
    free(out);
    json_t *m = summary(dir);
    assert_string_equal(json_string_value(json_object_get(m, "scenario")), "campaign");
    assert_int_equal(int_at(m, "seeds_run"), 30);
    assert_int_equal(int_at(m, "seeds_failed"), 0);
    assert_int_equal(int_at(json_object_get(m, "seeds"), "first"), 11);
    assert_int_equal(int_at(json_object_get(m, "seeds"), "last"), 40);
    assert_string_equal(json_string_value(json_object_get(m, "shard")), "1/1");
    assert_int_equal(json_array_size(json_object_get(m, "failing_seeds")), 0);
    assert_int_equal(json_object_size(json_object_get(m, "failures_by_invariant")), 0);
    assert_true(json_real_value(json_object_get(m, "seeds_per_second")) > 0);
    assert_true(int_at(m, "failovers") > 0);
    assert_true(int_at(m, "elections") >= 30);
    /* faults happened, of many kinds, each in at most every seed */
    json_t *kinds = json_object_get(m, "fault_kinds");
    assert_true(json_object_size(kinds) >= 8);
    const char *key;
    json_t *v;
    json_object_foreach(kinds, key, v) {
        assert_true(json_integer_value(v) >= 1 && json_integer_value(v) <= 30);
    }
    json_decref(m);
    char *csv = seeds_csv(dir);
    assert_int_equal(count_lines(csv), 31);
    assert_true(strncmp(csv, "seed,status,invariant,trace_digest\n11,ok,,", 42) == 0);
    assert_null(strstr(csv, "fail"));
    free(csv);
}

/* The row of seed in a seeds.csv text, without its "\n", into row. */
static void row_of(const char *csv, unsigned seed, char *row, size_t size) {
    char start[32];
    snprintf(start, sizeof start, "\n%u,", seed);
    const char *p = strstr(csv, start);
    assert_non_null(p);
    snprintf(row, size, "%.*s", (int)strcspn(p + 1, "\n"), p + 1);
}

/* debug_skip_replay breaks exactly-once: exit 1, a line per failing seed naming it, and
 * a reproducer that, run, fails the same way with the same trace digest. */
static void failing_seed_reproduces(void **state) {
    (void)state;
    char dir[4096], again[4096], args[8300], *out = NULL;
    fresh(dir, sizeof dir, "failing");
    fresh(again, sizeof again, "failing-again");
    snprintf(args, sizeof args, "'%s' --seeds 1..6 --set debug_skip_replay=1 --out '%s'", campaign,
             dir);
    assert_int_equal(check(args, &out, NULL), 1);
    /* the first invariant broken is the replay accounting; exactly-once breaks too */
    const char *line = strstr(out, "seed 1: replay: ");
    assert_non_null(line);
    assert_true(strstr(line, "exactly-once") < strstr(line, "\n  reproduce"));
    const char *repro = strstr(line, "\n  reproduce: shardsim check ");
    assert_non_null(repro);
    repro += strlen("\n  reproduce: shardsim check ");
    char cmd[8300];
    snprintf(cmd, sizeof cmd, "%.*s --out '%s'", (int)strcspn(repro, "\n"), repro, again);
    assert_non_null(strstr(cmd, "--seeds 1..1 --set debug_skip_replay=1"));
    assert_non_null(strstr(cmd, "--set session_timeout_s=")); /* the values drawn */
    char *out2 = NULL;
    assert_int_equal(check(cmd, &out2, NULL), 1);
    assert_non_null(strstr(out2, "seed 1: replay: "));
    /* the same failure line, word for word */
    assert_int_equal(strncmp(out2, line, strcspn(line, "\n")), 0);
    char *csv = seeds_csv(dir), *csv2 = seeds_csv(again), want[256], got[256];
    row_of(csv, 1, want, sizeof want);
    row_of(csv2, 1, got, sizeof got);
    assert_string_equal(got, want);
    assert_non_null(strstr(want, ",fail,replay;exactly-once;"));
    json_t *m = summary(dir);
    assert_int_equal(int_at(json_object_get(m, "failures_by_invariant"), "exactly-once"),
                     int_at(m, "seeds_failed"));
    assert_int_equal(json_array_size(json_object_get(m, "failing_seeds")),
                     (size_t)int_at(m, "seeds_failed"));
    json_decref(m);
    free(csv);
    free(csv2);
    free(out);
    free(out2);
}

/* Shards 1/3, 2/3, 3/3 take every seed once; merged they count what the unsharded
 * campaign counts; --jobs 2 writes the seeds.csv --jobs 1 does. */
static void shards_partition_and_merge(void **state) {
    (void)state;
    char whole[4096], two[4096], shard[3][4096], merged[4096], args[16384];
    const char *common = "--seeds 5..34 --set debug_skip_replay=1 --quiet";
    fresh(whole, sizeof whole, "whole");
    fresh(two, sizeof two, "jobs2");
    fresh(merged, sizeof merged, "merged");
    snprintf(args, sizeof args, "'%s' %s --out '%s'", campaign, common, whole);
    assert_int_equal(check(args, NULL, NULL), 1);
    snprintf(args, sizeof args, "'%s' %s --jobs 2 --out '%s'", campaign, common, two);
    assert_int_equal(check(args, NULL, NULL), 1);
    char *a = seeds_csv(whole), *b = seeds_csv(two);
    assert_string_equal(a, b);
    free(b);
    int seen[40] = {0};
    for (int i = 0; i < 3; i++) {
        char name[16];
        snprintf(name, sizeof name, "shard-%d", i + 1);
        fresh(shard[i], sizeof shard[i], name);
        snprintf(args, sizeof args, "'%s' %s --shard %d/3 --out '%s'", campaign, common, i + 1,
                 shard[i]);
        int rc = check(args, NULL, NULL);
        assert_true(rc == 0 || rc == 1);
        char *csv = seeds_csv(shard[i]);
        for (const char *p = strchr(csv, '\n') + 1; *p; p = strchr(p, '\n') + 1) {
            int seed = atoi(p);
            assert_true(seed >= 5 && seed <= 34);
            assert_int_equal((seed - 5) % 3, i);
            seen[seed]++;
            char row[256];
            row_of(a, (unsigned)seed, row, sizeof row); /* the row the whole campaign has */
            assert_int_equal(strncmp(p, row, strlen(row)), 0);
        }
        free(csv);
    }
    for (int s = 0; s < 40; s++)
        assert_int_equal(seen[s], s >= 5 && s <= 34 ? 1 : 0);
    free(a);
    snprintf(args, sizeof args, "--merge '%s' '%s' '%s' --out '%s'", shard[0], shard[1], shard[2],
             merged);
    char *out = NULL;
    assert_int_equal(check(args, &out, NULL), 1);
    assert_non_null(strstr(out, "30 run"));
    free(out);
    json_t *w = summary(whole), *m = summary(merged);
    static const char *const same[] = {"seeds_run",     "seeds_failed",          "failovers",
                                       "elections",     "stale_commits",         "fault_kinds",
                                       "failing_seeds", "failures_by_invariant", "seeds"};
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++)
        if (!json_equal(json_object_get(w, same[i]), json_object_get(m, same[i])))
            fail_msg("merged %s differs", same[i]);
    assert_true(int_at(m, "seeds_failed") > 0);
    json_decref(w);
    json_decref(m);
    /* a shard twice, or another campaign's shard, is refused */
    char *err = NULL;
    snprintf(args, sizeof args, "--merge '%s' '%s'", shard[0], shard[0]);
    assert_int_equal(check(args, NULL, &err), 2);
    assert_non_null(strstr(err, "overlaps"));
    free(err);
    snprintf(args, sizeof args, "--merge '%s' '%s'", shard[0], whole);
    assert_int_equal(check(args, NULL, &err), 2);
    assert_non_null(strstr(err, "overlaps"));
    free(err);
    char clean[4096];
    fresh(clean, sizeof clean, "other");
    snprintf(args, sizeof args, "'%s' --seeds 100..101 --quiet --out '%s'", campaign, clean);
    assert_int_equal(check(args, NULL, NULL), 0);
    snprintf(args, sizeof args, "--merge '%s' '%s'", shard[0], clean);
    assert_int_equal(check(args, NULL, &err), 2);
    assert_non_null(strstr(err, "another campaign"));
    free(err);
}

/* Bad input: exit 2, nothing on stdout, one line on stderr naming the flag. */
static void bad_input_is_one_line(void **state) {
    (void)state;
    static const struct {
        const char *args, *want;
    } cases[] = {
        {"--seeds 5..1", "--seeds: '5..1'"},
        {"--seeds x", "--seeds: 'x'"},
        {"--seeds 1..", "--seeds: '1..'"},
        {"--seeds 1..3 --shard 3/2", "--shard: '3/2'"},
        {"--seeds 1..3 --shard 0/2", "--shard: '0/2'"},
        {"--seeds 1..3 --shard 2", "--shard: '2'"},
        {"", "--seeds: missing"},
        {"--seeds 1..3 --jobs 0", "--jobs"},
        {"--seeds 1..3 --frob", "unknown option '--frob'"},
        {"--seeds 1..3 --set fencing={0,2}", "--set fencing={0,2}: fencing:"},
        {"--seeds 1..3 --set session_timeout_s=9..4", "session_timeout_s: empty range"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char args[8300], *out = NULL, *err = NULL;
        snprintf(args, sizeof args, "'%s' %s", campaign, cases[i].args);
        assert_int_equal(check(args, &out, &err), 2);
        assert_string_equal(out, "");
        assert_int_equal(count_lines(err), 1);
        if (!strstr(err, cases[i].want))
            fail_msg("%s: got '%s'", cases[i].args, err);
        free(out);
        free(err);
    }
    char *err = NULL;
    assert_int_equal(check("no-such-scenario --seeds 1..2", NULL, &err), 2);
    assert_non_null(strstr(err, "no-such-scenario: no such scenario"));
    free(err);
    assert_int_equal(check("--merge", NULL, &err), 2);
    assert_int_equal(count_lines(err), 1);
    free(err);
    assert_int_equal(check("--merge /nonexistent-folder", NULL, &err), 2);
    assert_non_null(strstr(err, "not a check summary"));
    free(err);
}

/* --out never writes into a folder of other files. */
static void out_refuses_a_foreign_folder(void **state) {
    (void)state;
    char dir[4096], path[4200], args[8300], *err = NULL;
    fresh(dir, sizeof dir, "foreign");
    assert_int_equal(mkdir(dir, 0777), 0);
    snprintf(path, sizeof path, "%s/notes.txt", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("mine\n", f);
    fclose(f);
    snprintf(args, sizeof args, "'%s' --seeds 1..2 --out '%s'", campaign, dir);
    assert_int_equal(check(args, NULL, &err), 2);
    assert_non_null(strstr(err, "--out"));
    free(err);
    assert_int_equal(access(path, R_OK), 0);
    snprintf(path, sizeof path, "%s/summary.json", dir);
    assert_int_not_equal(access(path, F_OK), 0);
    /* a result of shardsim's is replaced only with --force */
    fresh(dir, sizeof dir, "again");
    snprintf(args, sizeof args, "'%s' --seeds 1..2 --quiet --out '%s'", campaign, dir);
    assert_int_equal(check(args, NULL, NULL), 0);
    assert_int_equal(check(args, NULL, NULL), 2);
    snprintf(args, sizeof args, "'%s' --seeds 1..2 --quiet --force --out '%s'", campaign, dir);
    assert_int_equal(check(args, NULL, NULL), 0);
}

/* `shardsim run` draws as check does: its manifest lists the values seed 5 drew, the
 * very ones check's reproducer for seed 5 spells out. */
static void run_states_its_draws(void **state) {
    (void)state;
    char dir[4096], cmd[12000], path[4200], *out = NULL;
    fresh(dir, sizeof dir, "run-draws");
    snprintf(cmd, sizeof cmd, "'%s' run '%s' --seed 5 --quiet --no-plot --out '%s'",
             getenv("SHARDSIM_BIN"), campaign, dir);
    assert_int_equal(tu_run(cmd, NULL, NULL, NULL), 0);
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    json_error_t e;
    json_t *m = json_load_file(path, 0, &e);
    assert_non_null(m);
    json_t *set = json_object_get(json_array_get(json_object_get(m, "drawn"), 0), "set");
    assert_int_equal(json_array_size(set), 7);
    snprintf(cmd, sizeof cmd, "'%s' --seeds 5..5 --set debug_skip_replay=1", campaign);
    assert_int_equal(check(cmd, &out, NULL), 1);
    for (size_t i = 0; i < json_array_size(set); i++) {
        char word[256];
        snprintf(word, sizeof word, " --set %s", json_string_value(json_array_get(set, i)));
        if (!strstr(out, word))
            fail_msg("'%s' not in %s", word, out);
    }
    json_decref(m);
    free(out);
}

int main(void) {
    const char *tmp = getenv("SHARDSIM_TEST_TMP");
    snprintf(tmp_base, sizeof tmp_base, "%s/check", tmp ? tmp : "/tmp");
    char cmd[8300];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", tmp_base);
    if (system(cmd) != 0)
        return 1;
    snprintf(campaign, sizeof campaign, "%s/bench/scenarios/campaign.ini",
             getenv("SHARDSIM_SOURCE_DIR"));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(clean_campaign_passes),        cmocka_unit_test(failing_seed_reproduces),
        cmocka_unit_test(shards_partition_and_merge),   cmocka_unit_test(bad_input_is_one_line),
        cmocka_unit_test(out_refuses_a_foreign_folder), cmocka_unit_test(run_states_its_draws),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
