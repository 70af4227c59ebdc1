/* test_invariants.c -- the job model's invariants (sim_result.violations), each shown to
 * fire on a run built to break it and to stay quiet on clean runs, and the built-in
 * mutations that prove the checks bite: each must be caught by the default campaign
 * (bench/scenarios/campaign.ini) within 1000 seeds, and the seeds it took are printed
 * (the README's seeds-to-detection). Clean campaign seeds 1..200 break nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sim/config.h"
#include "sim/scenario.h"
#include "sim/sim.h"
#include "sim/sim_internal.h"
#include "tests/simutil.h"

#define CLEAN_SEEDS 200

/* The first violation of `invariant`, or NULL. */
static const sim_violation *violation(const sim_result *r, const char *invariant) {
    uint32_t kept =
        r->violation_count < SIM_MAX_VIOLATIONS ? r->violation_count : SIM_MAX_VIOLATIONS;
    for (uint32_t i = 0; i < kept; i++)
        if (strcmp(r->violations[i].invariant, invariant) == 0)
            return &r->violations[i];
    return NULL;
}

/* The first violation of `invariant`, which the run must have. */
static sim_violation broken(const sim_result *r, const char *invariant) {
    const sim_violation *v = violation(r, invariant);
    if (!v)
        fail_msg("no %s violation (%u in all)", invariant, r->violation_count);
    return *v;
}

static void print_violations(uint64_t seed, const sim_result *r) {
    for (uint32_t i = 0; i < r->violation_count && i < SIM_MAX_VIOLATIONS; i++)
        print_message("seed %llu: %s at %.3f s: %s\n", (unsigned long long)seed,
                      r->violations[i].invariant, (double)r->violations[i].at_ns / 1e9,
                      r->violations[i].detail);
}

/* ---- clean runs ---- */

/* Clean campaign seeds, with their failovers and rescales, break no invariant. */
static void clean_campaign_keeps_every_invariant(void **state) {
    (void)state;
    uint32_t failovers = 0, rescales = 0, moved = 0, broken = 0;
    for (uint64_t seed = 1; seed <= CLEAN_SEEDS; seed++) {
        sim_config c;
        su_campaign(&c, seed, NULL);
        sim_result r;
        su_run_ok(&c, seed, &r);
        config_free(&c);
        if (r.violation_count) {
            print_violations(seed, &r);
            broken++;
        }
        for (size_t k = 0; k < r.failover_count; k++) {
            failovers++;
            rescales += strcmp(r.failovers[k].kind, "rescale") == 0;
            moved += r.failovers[k].groups_moved > 0;
        }
        sim_result_free(&r);
    }
    print_message("clean seeds 1..%d: %u failovers, %u rescales (%u moving groups)\n", CLEAN_SEEDS,
                  failovers, rescales, moved);
    assert_int_equal(broken, 0);
    assert_true(failovers > CLEAN_SEEDS && moved >= 10); /* the faults did happen */
}

/* A small job without coordination, rescaled out and in and crashed, is clean too. */
static void clean_rescales_and_crashes(void **state) {
    (void)state;
    sim_config c;
    su_small(&c);
    su_set(&c, "faults", "1.5 rescale 6; 2.5 crash-worker 1; 3.2 rescale 3; 4.5 restart-worker 1");
    sim_result r;
    su_run_ok(&c, 5, &r);
    print_violations(5, &r);
    assert_int_equal(r.violation_count, 0);
    assert_true(r.exactly_once_ok);
    assert_true(r.failover_count >= 3);
    sim_result_free(&r);
}

/* ---- each invariant fires on a run built to break it ---- */

/* The small job's crash, restarted without rewinding the sources (the older switch and
 * the mutation take one path): records are lost. */
static void run_without_rewind(const char *how, sim_result *r) {
    sim_config c;
    su_small(&c);
    su_set(&c, "faults", "2.5 crash-worker 1");
    if (how[0] == 'd')
        su_set(&c, "debug_skip_replay", "1");
    else
        su_set(&c, "mutations", how);
    su_run_ok(&c, 3, r);
}

static void lost_records_break_replay_latency_and_exactly_once(void **state) {
    (void)state;
    const char *hows[] = {"debug_skip_replay", "no-rewind"};
    for (size_t i = 0; i < 2; i++) {
        sim_result r;
        run_without_rewind(hows[i], &r);
        sim_violation replay = broken(&r, "replay");
        assert_non_null(strstr(replay.detail, "crash-worker at 2.500 s: 0 records replayed"));
        assert_true(replay.at_ns > 2500000000ULL);
        broken(&r, "exactly-once");
        assert_false(r.exactly_once_ok);
        /* the mismatch gives key, count and sum, and the wanted count and sum */
        assert_non_null(strstr(r.exactly_once_detail, " sum "));
        assert_non_null(strstr(r.exactly_once_detail, "(want count "));
        broken(&r, "latency-samples");
        assert_true(r.latency.count < r.records_emitted);
        assert_null(violation(&r, "checker-self-test"));
        sim_result_free(&r);
    }
}

/* A rescale that gives a key group to two subtasks is caught when it happens. */
static void two_owners_break_key_groups(void **state) {
    (void)state;
    sim_config c;
    su_small(&c);
    su_set(&c, "faults", "2 rescale 6");
    su_set(&c, "mutations", "group-two-owners");
    sim_result r;
    su_run_ok(&c, 1, &r);
    sim_violation v = broken(&r, "key-groups");
    assert_non_null(strstr(v.detail, "rescale to 6: key group "));
    assert_non_null(strstr(v.detail, "held by 2 of the 6 running subtasks"));
    assert_true(v.at_ns >= 2000000000ULL);
    sim_result_free(&r);
}

/* A snapshot without one key group: the restore that reads it rejects it. */
static void dropped_group_breaks_the_restore(void **state) {
    (void)state;
    sim_config c;
    su_small(&c);
    su_set(&c, "faults", "2.5 crash-worker 1");
    su_set(&c, "mutations", "snapshot-drops-group");
    sim_result r;
    su_run_ok(&c, 3, &r);
    sim_violation v = broken(&r, "key-groups");
    assert_non_null(strstr(v.detail, "restore of checkpoint 2 (offset "));
    assert_non_null(strstr(v.detail, "is in none of its 4 subtask snapshots"));
    assert_non_null(violation(&r, "exactly-once")); /* and its keys' state is lost */
    sim_result_free(&r);
}

/* A checker that compares counts only fails its own self-test on a clean run. */
static void counts_only_checker_fails_its_self_test(void **state) {
    (void)state;
    sim_config c;
    su_small(&c);
    su_set(&c, "mutations", "checker-counts");
    sim_result r;
    su_run_ok(&c, 2, &r);
    sim_violation v = broken(&r, "checker-self-test");
    assert_non_null(strstr(v.detail, "accepts key "));
    assert_int_equal(r.violation_count, 1); /* the count-off case is still rejected */
    assert_true(r.exactly_once_ok);
    sim_result_free(&r);
}

/* Liveness on windows: a stall longer than the bound after the heal fails; a record
 * done within it, or nothing left to do, passes. */
static void liveness_needs_a_record_within_the_bound(void **state) {
    (void)state;
    sim_window w[10];
    memset(w, 0, sizeof w);
    const uint64_t s = 1000000000ULL;
    w[0].records_done = 5;
    w[8].records_done = 3;
    uint64_t next = 0;
    /* healed at 1.5 s, nothing done in windows 1..7: a 3 s bound is broken */
    assert_int_equal(sim_live_after(w, 10, s, s + s / 2, 3 * s, 9 * s - 1, &next), 0);
    assert_int_equal(next, 8 * s);
    /* a 7 s bound reaches window 8 */
    assert_int_equal(sim_live_after(w, 10, s, s + s / 2, 7 * s, 9 * s - 1, &next), 1);
    /* nothing done after the heal: nothing was left */
    assert_int_equal(sim_live_after(w, 10, s, s + s / 2, 3 * s, s + s / 4, &next), 1);
    /* a record done in the heal's own window counts (never a false alarm) */
    assert_int_equal(sim_live_after(w, 10, s, s / 2, 3 * s, 9 * s - 1, &next), 1);
}

/* The mutations' seeds-to-detection on the default campaign: tests/test_mutations.c. */

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(clean_campaign_keeps_every_invariant),
        cmocka_unit_test(clean_rescales_and_crashes),
        cmocka_unit_test(lost_records_break_replay_latency_and_exactly_once),
        cmocka_unit_test(two_owners_break_key_groups),
        cmocka_unit_test(dropped_group_breaks_the_restore),
        cmocka_unit_test(counts_only_checker_fails_its_self_test),
        cmocka_unit_test(liveness_needs_a_record_within_the_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
