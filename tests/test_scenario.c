/* test_scenario.c -- scenario expansion: sweep order, ranges, references, repeat,
 * extends chains, overrides, the hooks seeing every run, and draws (A..B, {x,y}). (Bad files are
 * tested end to end in test_run.c.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/error.h"
#include "sim/scenario.h"

static const char *value_of(const scenario_run *r, const char *key) {
    for (size_t i = 0; i < r->assign_count; i++)
        if (strcmp(r->assigns[i].key, key) == 0)
            return r->assigns[i].value;
    return NULL;
}

typedef struct counter {
    int begins, sets, ends;
} counter;

static int c_begin(void *ctx) {
    return ((counter *)ctx)->begins++, 0;
}
static int c_set(void *ctx, const char *k, const char *v, char *err, size_t n) {
    ((counter *)ctx)->sets++;
    if (strcmp(k, "bad") == 0) {
        snprintf(err, n, "unknown key 'bad'");
        return SS_EINVAL;
    }
    if (strcmp(v, "reject") == 0) {
        snprintf(err, n, "%s: bad value 'reject'", k);
        return SS_EINVAL;
    }
    return 0;
}
static int c_end(void *ctx, char *err, size_t n) {
    (void)err, (void)n;
    return ((counter *)ctx)->ends++, 0;
}

static const char text[] = "[General]\n"
                           "a = ${N=1,2}\n"
                           "b = ${s=0.8..1.4 step 0.2}\n"
                           "c = n${N}-s${s}\n"
                           "repeat = 2\n"
                           "\n"
                           "[Config base]\n"
                           "d = base\n"
                           "a = 7\n"
                           "\n"
                           "[Config child]\n"
                           "extends = base\n"
                           "d = child\n"
                           "e = ${x,y}\n";

static void sweeps_expand_in_order(void **state) {
    (void)state;
    counter cnt = {0};
    scenario_hooks h = {&cnt, c_begin, c_set, c_end};
    scenario *s;
    char err[256];
    assert_int_equal(scenario_load_string("t", text, NULL, NULL, 0, &h, &s, err, sizeof err), 0);
    assert_int_equal(s->run_count, 2 * 4 * 2);
    assert_int_equal(s->param_name_count, 2);
    assert_string_equal(s->param_names[0], "N");
    assert_string_equal(s->param_names[1], "s");
    /* N outermost, then s, repetitions innermost */
    const char *want_b[] = {"0.8", "0.8", "1", "1", "1.2", "1.2", "1.4", "1.4"};
    for (size_t i = 0; i < 8; i++) {
        assert_string_equal(value_of(&s->runs[i], "a"), "1");
        assert_string_equal(value_of(&s->runs[i], "b"), want_b[i]);
        assert_int_equal(s->runs[i].repeat, i % 2);
        assert_int_equal(s->runs[i].number, i);
    }
    assert_string_equal(value_of(&s->runs[8], "a"), "2");
    assert_string_equal(value_of(&s->runs[5], "c"), "n1-s1.2");
    assert_string_equal(s->runs[5].params[1].value, "1.2");
    assert_int_equal(cnt.begins, 16);
    assert_int_equal(cnt.ends, 16);
    assert_int_equal(s->runs[0].assigns[0].line, 2);
    scenario_free(s);
}

static void child_reference_needs_a_live_sweep(void **state) {
    (void)state;
    scenario *s = NULL;
    char err[256];
    const char t2[] =
        "[General]\na = ${N=1,2}\n[Config x]\nb = v${N}\n[Config y]\nextends = x\na = 3\n";
    assert_int_equal(scenario_load_string("t2", t2, "x", NULL, 0, NULL, &s, err, sizeof err), 0);
    assert_int_equal(s->run_count, 2);
    assert_string_equal(value_of(&s->runs[1], "b"), "v2");
    scenario_free(s);
    s = NULL;
    assert_int_equal(scenario_load_string("t2", t2, "y", NULL, 0, NULL, &s, err, sizeof err),
                     SS_EINVAL);
    assert_non_null(strstr(err, "t2:4: undefined sweep variable"));
    assert_null(s);
}

/* A section name inih would cut (its values then lost to a name nothing selects) is an
 * error naming its line; one just short of the limit works. */
static void long_section_name_is_refused(void **state) {
    (void)state;
    scenario *s = NULL;
    char err[256], ini[512], name[64];
    memset(name, 'x', 42);
    name[42] = '\0'; /* "Config " + 42 = 49 characters: the longest kept */
    snprintf(ini, sizeof ini, "[General]\na = 1\n[Config %s]\na = 2\n", name);
    assert_int_equal(scenario_load_string("t", ini, name, NULL, 0, NULL, &s, err, sizeof err), 0);
    assert_string_equal(value_of(&s->runs[0], "a"), "2");
    scenario_free(s);
    s = NULL;
    snprintf(ini, sizeof ini, "[General]\na = 1\n[Config %sy]\na = 2\n", name);
    assert_int_equal(scenario_load_string("t", ini, NULL, NULL, 0, NULL, &s, err, sizeof err),
                     SS_EINVAL);
    assert_non_null(strstr(err, "t:3: section name [Config xxx"));
    assert_null(s);
}

static void override_wins_and_sweeps(void **state) {
    (void)state;
    scenario *s;
    char err[256];
    const char t3[] = "[General]\nd = base\n[Config c]\nd = cfg\n";
    const char *over[] = {"d=cli", "f=${1,2,3}"};
    assert_int_equal(scenario_load_string("t3", t3, "c", over, 2, NULL, &s, err, sizeof err), 0);
    assert_int_equal(s->run_count, 3);
    assert_string_equal(value_of(&s->runs[0], "d"), "cli");
    assert_string_equal(value_of(&s->runs[2], "f"), "3");
    assert_string_equal(s->runs[0].assigns[0].file, "--set d=cli");
    assert_string_equal(s->config, "c");
    scenario_free(s);
    const char *bad[] = {"novalue"};
    assert_int_equal(scenario_load_string("t3", t3, NULL, bad, 1, NULL, &s, err, sizeof err),
                     SS_EINVAL);
    assert_non_null(strstr(err, "--set novalue"));
}

static void hook_errors_name_the_line(void **state) {
    (void)state;
    counter cnt = {0};
    scenario_hooks h = {&cnt, c_begin, c_set, c_end};
    scenario *s = NULL;
    char err[256];
    const char t4[] = "[General]\nok = 1\n\nbad = 2\n";
    assert_int_equal(scenario_load_string("t4", t4, NULL, NULL, 0, &h, &s, err, sizeof err),
                     SS_EINVAL);
    assert_string_equal(err, "t4:4: unknown key 'bad'");
    const char t5[] = "[General]\nx = 1\n";
    assert_int_equal(scenario_load_string("t5", t5, "missing", NULL, 0, NULL, &s, err, sizeof err),
                     SS_EINVAL);
    assert_non_null(strstr(err, "no config 'missing'"));
}

/* Found with tests/fuzz/fuzz_scenario's checks: 8 sweeps of 256 values are 2^64 runs,
 * which the run count wrapped to 0 (a scenario of no runs); now too many. */
static void run_count_does_not_wrap(void **state) {
    (void)state;
    char t6[512] = "[General]\n";
    for (int i = 0; i < 8; i++)
        snprintf(t6 + strlen(t6), sizeof t6 - strlen(t6), "k%d = ${v%d=0..255}\n", i, i);
    scenario *s = NULL;
    char err[256];
    assert_int_equal(scenario_load_string("t6", t6, NULL, NULL, 0, NULL, &s, err, sizeof err),
                     SS_EINVAL);
    assert_null(s);
    assert_string_equal(err, "t6:1: more than 100000 runs");
}

static const char draws[] = "[General]\n"
                            "a = 3..7\n"
                            "plain = 1\n"
                            "b = 0.5..1.25\n"
                            "c = {x, y,z}\n"
                            "n = -2.5..-1\n";

/* The drawn value of key in r (a draw's copy). */
static const char *drawn_value(const scenario_run *r, const char *key, int *draw) {
    for (size_t i = 0; i < r->assign_count; i++)
        if (strcmp(r->assigns[i].key, key) == 0) {
            *draw = r->assigns[i].draw;
            return r->assigns[i].value;
        }
    fail_msg("no key %s", key);
    return NULL;
}

/* Digits after the decimal point. */
static size_t decimals(const char *v) {
    const char *dot = strchr(v, '.');
    return dot ? strlen(dot + 1) : 0;
}

/* Same seed, same values; every value in its range (whole numbers for integer ends, a
 * 1000-step grid written exactly for decimal ends); every choice and every whole
 * number occurs over 100 seeds; the hooks saw both ends and every choice. */
static void draws_are_seeded_and_in_range(void **state) {
    (void)state;
    counter cnt = {0};
    scenario_hooks h = {&cnt, c_begin, c_set, c_end};
    scenario *s = NULL;
    char err[256];
    assert_int_equal(scenario_load_string("d", draws, NULL, NULL, 0, &h, &s, err, sizeof err), 0);
    assert_int_equal(s->run_count, 1);
    assert_int_equal(cnt.sets, 1 + 2 + 2 + 3 + 2);
    assert_string_equal(value_of(&s->runs[0], "a"), "3..7");
    int seen_a[8] = {0}, seen_c[3] = {0}, differ = 0, draw = 0;
    char first_b[64] = "";
    for (uint64_t seed = 1; seed <= 100; seed++) {
        scenario_run r1, r2;
        assert_int_equal(scenario_run_draw(&s->runs[0], seed, &r1, err, sizeof err), 0);
        assert_int_equal(scenario_run_draw(&s->runs[0], seed, &r2, err, sizeof err), 0);
        for (size_t i = 0; i < r1.assign_count; i++)
            assert_string_equal(r1.assigns[i].value, r2.assigns[i].value);
        const char *a = drawn_value(&r1, "a", &draw);
        assert_int_equal(draw, 1);
        assert_true(strlen(a) == 1 && a[0] >= '3' && a[0] <= '7');
        seen_a[a[0] - '0']++;
        assert_string_equal(drawn_value(&r1, "plain", &draw), "1");
        assert_int_equal(draw, 0);
        const char *b = drawn_value(&r1, "b", &draw);
        double bv = strtod(b, NULL);
        assert_true(bv >= 0.5 && bv <= 1.25 && decimals(b) <= 5);
        assert_true(fabs((bv - 0.5) * 1000 / 0.75 - floor((bv - 0.5) * 1000 / 0.75 + 0.5)) < 1e-6);
        if (seed == 1)
            snprintf(first_b, sizeof first_b, "%s", b);
        differ |= strcmp(first_b, b) != 0;
        const char *c = drawn_value(&r1, "c", &draw);
        assert_true(strcmp(c, "x") == 0 || strcmp(c, "y") == 0 || strcmp(c, "z") == 0);
        seen_c[c[0] - 'x']++;
        double nv = strtod(drawn_value(&r1, "n", &draw), NULL);
        assert_true(nv >= -2.5 && nv <= -1);
        scenario_run_release(&r1);
        scenario_run_release(&r2);
    }
    for (int v = 3; v <= 7; v++)
        assert_true(seen_a[v] > 0);
    for (int v = 0; v < 3; v++)
        assert_true(seen_c[v] > 0);
    assert_true(differ);
    scenario_free(s);
}

/* A bad draw is an error at its line naming the key; --set draws too. */
static void draw_errors_name_the_line(void **state) {
    (void)state;
    counter cnt = {0};
    scenario_hooks h = {&cnt, c_begin, c_set, c_end};
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"[General]\nx = 1\nk = 5..1\n", "e:3: k: empty range '5..1' (want A..B with A <= B)"},
        {"[General]\nk = {a,,b}\n", "e:2: k: empty choice in '{a,,b}' (want {x,y,...})"},
        {"[General]\nk = {}\n", "e:2: k: empty choice in '{}' (want {x,y,...})"},
        {"[General]\nk = {a,reject}\n", "e:2: k: bad value 'reject'"},
        {"[General]\nseed = 1..3\n", "e:2: seed: cannot be drawn (the draws are made from it)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        scenario *s = NULL;
        char err[256] = "";
        assert_int_equal(
            scenario_load_string("e", cases[i].text, NULL, NULL, 0, &h, &s, err, sizeof err),
            SS_EINVAL);
        assert_string_equal(err, cases[i].want);
        assert_null(s);
    }
    const char *over[] = {"k=1..x"};
    scenario *s = NULL;
    char err[256] = "";
    assert_int_equal(
        scenario_load_string("o", "[General]\nk = 1\n", NULL, over, 1, &h, &s, err, sizeof err),
        0); /* not a range: a plain value, the key's to judge */
    assert_int_equal(s->runs[0].assigns[0].draw, 0);
    scenario_free(s);
    const char *over2[] = {"k=3..2"};
    assert_int_equal(
        scenario_load_string("o", "[General]\nk = 1\n", NULL, over2, 1, &h, &s, err, sizeof err),
        SS_EINVAL);
    assert_string_equal(err, "--set k=3..2: k: empty range '3..2' (want A..B with A <= B)");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sweeps_expand_in_order),
        cmocka_unit_test(child_reference_needs_a_live_sweep),
        cmocka_unit_test(override_wins_and_sweeps),
        cmocka_unit_test(long_section_name_is_refused),
        cmocka_unit_test(hook_errors_name_the_line),
        cmocka_unit_test(run_count_does_not_wrap),
        cmocka_unit_test(draws_are_seeded_and_in_range),
        cmocka_unit_test(draw_errors_name_the_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
