/* test_scenario.c -- scenario expansion: sweep order, ranges, references, repeat,
 * extends chains, overrides, and the hooks seeing every run. (Bad files are tested
 * end to end in test_run.c.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
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
    (void)v;
    ((counter *)ctx)->sets++;
    if (strcmp(k, "bad") == 0) {
        snprintf(err, n, "unknown key 'bad'");
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

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sweeps_expand_in_order),
        cmocka_unit_test(child_reference_needs_a_live_sweep),
        cmocka_unit_test(override_wins_and_sweeps),
        cmocka_unit_test(hook_errors_name_the_line),
        cmocka_unit_test(run_count_does_not_wrap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
