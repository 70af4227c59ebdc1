/* test_ha_invariants.c -- the HA invariants checked on every run with a coordination
 * service (sim/ha.c: "ha-epochs", "stale-commit", "restore-newest"), the process pause
 * fault (pause-leader, pause-jm: a long GC) that provokes split brain, and the two HA
 * mutations the default campaign (bench/scenarios/campaign.ini) must catch: commits
 * without fencing (no-fencing) and a restore of an older checkpoint (restore-older).
 * Each invariant fires on a run built to break it and stays quiet on clean runs; the
 * campaign loops print their seeds-to-detection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sim/config.h"
#include "sim/env_sim.h"
#include "sim/ha.h"
#include "sim/scenario.h"
#include "sim/sim.h"
#include "tests/simutil.h"

/* ---------- helpers ---------- */

/* How many of r's violations name invariant. */
static uint32_t violations_of(const sim_result *r, const char *invariant) {
    uint32_t n = 0;
    for (uint32_t i = 0; i < r->violation_count && i < SIM_MAX_VIOLATIONS; i++)
        n += strcmp(r->violations[i].invariant, invariant) == 0;
    return n;
}

static void print_violations(const char *what, uint64_t seed, const sim_result *r) {
    for (uint32_t i = 0; i < r->violation_count && i < SIM_MAX_VIOLATIONS; i++)
        fprintf(stderr, "%s seed %llu: %s at %.3f s: %s (faults: %s)\n", what,
                (unsigned long long)seed, r->violations[i].invariant,
                (double)r->violations[i].at_ns / 1e9, r->violations[i].detail,
                r->fault_schedule ? r->fault_schedule : "");
}

/* split-brain.ini's run: the leader stops at 20.5 s for 25 s (longer than its 10 s
 * session) while a checkpoint is being written (~0.6 s snapshots), by the fault given. */
static void split_brain(sim_config *c, const char *fault, int fencing) {
    config_defaults(c);
    su_set(c, "placement", "spread");
    su_set(c, "duration_s", "60");
    su_set(c, "rate", "20000");
    su_set(c, "keys", "10000");
    su_set(c, "checkpoint_interval_s", "1");
    su_set(c, "snapshot_mbps", "0.05");
    su_set(c, "coordination", "mock");
    su_set(c, "job_managers", "2");
    su_set(c, "session_timeout_s", "10");
    su_set(c, "fencing", fencing ? "1" : "0");
    su_set(c, "faults", fault);
}

/* ---------- the pause fault ---------- */

/* pause-leader and pause-jm take a duration, are written back in the faults syntax,
 * and are checked like the other job-manager faults. */
static void pause_parses_and_is_written_back(void **state) {
    (void)state;
    sim_config c;
    config_defaults(&c);
    su_set(&c, "coordination", "mock");
    su_set(&c, "job_managers", "2");
    su_set(&c, "faults", "1.5 pause-leader 0 2; 3 pause-jm 1 4.25");
    assert_int_equal(c.fault_count, 2);
    assert_int_equal(c.faults[0].kind, SIM_FAULT_PAUSE_LEADER);
    assert_int_equal(c.faults[0].duration_ns, 2000000000ULL);
    assert_int_equal(c.faults[1].kind, SIM_FAULT_PAUSE_JM);
    assert_int_equal(c.faults[1].target, 1);
    assert_int_equal(c.faults[1].duration_ns, 4250000000ULL);
    char text[256], err[256];
    config_format_faults(c.faults, c.fault_count, text, sizeof text);
    assert_string_equal(text, "1.500 pause-leader 0 2.000; 3.000 pause-jm 1 4.250");
    /* a time between milliseconds (a cut while a counter write is in flight) is written
     * in microseconds, so that faults.txt replays it exactly */
    su_set(&c, "faults", "2.0003 pause-leader 0 2");
    assert_int_equal(c.faults[0].at_ns, 2000300000ULL);
    config_format_faults(c.faults, c.fault_count, text, sizeof text);
    assert_string_equal(text, "2.000300 pause-leader 0 2.000");
    su_set(&c, "faults", "1.5 pause-leader 0 2; 3 pause-jm 1 4.25");
    assert_int_equal(config_check(&c, err, sizeof err), 0);
    assert_true(config_fault_supported(&c, SIM_FAULT_PAUSE_JM));
    /* no duration, a job manager that does not exist, no coordination service */
    assert_int_not_equal(config_set(&c, "faults", "1 pause-jm 0", err, sizeof err), 0);
    assert_non_null(strstr(err, "pause-jm"));
    su_set(&c, "faults", "1 pause-jm 2 3");
    assert_int_not_equal(config_check(&c, err, sizeof err), 0);
    su_set(&c, "coordination", "none");
    su_set(&c, "faults", "1 pause-leader 0 3");
    assert_int_not_equal(config_check(&c, err, sizeof err), 0);
    config_free(&c);
}

/* A drawn time puts the fault into the run's schedule (run-NNN/faults.txt), which
 * replays the run exactly. */
static void pause_shows_in_the_schedule(void **state) {
    (void)state;
    sim_config c;
    split_brain(&c, "20+U(0.4,0.6) pause-leader 0 25", 1);
    su_set(&c, "duration_s", "40");
    sim_result r;
    su_run_ok(&c, 3, &r);
    assert_non_null(r.fault_schedule);
    assert_non_null(strstr(r.fault_schedule, " pause-leader 0 25.000"));
    assert_int_equal(r.elections, 2); /* the pause outlasted the session: a successor */
    uint64_t digest = r.trace_digest;
    su_set(&c, "faults", r.fault_schedule);
    sim_result_free(&r);
    su_run_ok(&c, 3, &r);
    assert_int_equal(r.trace_digest, digest);
    sim_result_free(&r);
    config_free(&c);
}

/* A pause over a commit: the leader resumes, believing it still leads, and sends the
 * commit it had; its session has expired, so it retries on a new one after its
 * successor won. Without fencing the deposed leader commits (a stale commit, counted:
 * no violation with fencing off); with fencing the retry is refused. Exactly-once
 * either way: the stale pointer names no state and the next restore skips it. */
static void pause_over_a_commit_splits_the_brain(void **state) {
    (void)state;
    for (int fencing = 0; fencing < 2; fencing++) {
        sim_config c;
        split_brain(&c, "20.5 pause-leader 0 25", fencing);
        sim_result r;
        su_run_ok(&c, 1, &r);
        assert_true(r.exactly_once_ok);
        assert_int_equal(r.elections, 2);
        assert_int_equal(r.failover_count, 1);
        assert_int_equal(r.stale_commits, fencing ? 0 : 1);
        assert_int_equal(r.violation_count, 0);
        sim_result_free(&r);
        /* a pause shorter than the session: it resumes as the leader, nothing is lost */
        su_set(&c, "faults", "20.5 pause-leader 0 3");
        su_run_ok(&c, 1, &r);
        assert_true(r.exactly_once_ok);
        assert_int_equal(r.elections, 1);
        assert_int_equal(r.stale_commits, 0);
        assert_int_equal(r.violation_count, 0);
        sim_result_free(&r);
        config_free(&c);
    }
}

/* ---------- each invariant fires on a run built to break it ---------- */

/* stale-commit: no-fencing makes commits skip the check with fencing = 1; the deposed
 * leader's retry lands: a violation (the same run with fencing = 0 has none). */
static void stale_commit_fires_without_the_fence(void **state) {
    (void)state;
    const char *faults[] = {"20.5 pause-leader 0 25", "20.5 partition-leader 0 25"};
    for (size_t i = 0; i < 2; i++) {
        sim_config c;
        split_brain(&c, faults[i], 1);
        su_set(&c, "mutations", "no-fencing");
        sim_result r;
        su_run_ok(&c, 1, &r);
        assert_int_equal(r.stale_commits, 1);
        assert_int_equal(violations_of(&r, "stale-commit"), 1);
        assert_non_null(strstr(r.violations[0].detail, "deposed job manager 0"));
        assert_true(r.violations[0].at_ns > 20500000000ULL);
        sim_result_free(&r);
        config_free(&c);
    }
}

/* restore-newest: restore-older passes the newest valid pointer over; the job keeps
 * only the newest checkpoint's state, so the restore starts over -- exactly-once holds,
 * only this check sees it. A stale pointer skipped for its CRC is no violation. */
static void restore_newest_fires_on_an_older_restore(void **state) {
    (void)state;
    sim_config c;
    split_brain(&c, "20.5 partition-leader 0 25", 1);
    su_set(&c, "mutations", "restore-older");
    sim_result r;
    su_run_ok(&c, 1, &r);
    assert_true(r.exactly_once_ok);
    assert_int_equal(violations_of(&r, "restore-newest"), 1);
    assert_non_null(strstr(r.violations[0].detail, "restored checkpoint 0"));
    sim_result_free(&r);
    config_free(&c);
    /* test_sim's stale pointer: the newest pointer names lost state and is skipped */
    su_small(&c);
    su_set(&c, "coordination", "mock");
    su_set(&c, "job_managers", "2");
    su_set(&c, "session_timeout_s", "10");
    su_set(&c, "duration_s", "50");
    su_set(&c, "snapshot_mbps", "0.02");
    su_set(&c, "checkpoint_interval_s", "7");
    su_set(&c, "restart_strategy", "fixed");
    su_set(&c, "fencing", "0");
    su_set(&c, "faults", "15.5 partition-leader 0 10.5; 28 crash-worker 1");
    su_run_ok(&c, 5, &r);
    assert_int_equal(r.pointers_skipped, 1);
    assert_int_equal(r.stale_commits, 1);
    assert_int_equal(r.violation_count, 0);
    sim_result_free(&r);
    su_set(&c, "mutations", "restore-older");
    su_run_ok(&c, 5, &r);
    assert_true(violations_of(&r, "restore-newest") >= 1);
    sim_result_free(&r);
    config_free(&c);
}

/* ha-epochs, through a job model of the test's own that breaks it: it commits a
 * checkpoint id lower than one already committed. */
typedef struct toy_job {
    uint32_t violations;
    char invariant[32], detail[256];
} toy_job;

static uint64_t toy_incarnation(void *ctx) {
    (void)ctx;
    return 1;
}
static int toy_down(void *ctx) {
    (void)ctx;
    return 0;
}
static void toy_checkpoint_id(void *ctx, uint32_t id, int stop, uint32_t to, int can_act) {
    (void)ctx, (void)id, (void)stop, (void)to, (void)can_act;
}
static int toy_committed(void *ctx, uint32_t id, uint64_t incarnation, uint32_t *subsumed) {
    (void)ctx, (void)id, (void)incarnation;
    *subsumed = 0;
    return 1;
}
static void toy_commit_failed(void *ctx, uint32_t id, uint64_t incarnation) {
    (void)ctx, (void)id, (void)incarnation;
}
static int toy_has_checkpoint(void *ctx, uint32_t id, uint64_t offset, uint32_t crc) {
    (void)ctx, (void)id, (void)offset, (void)crc;
    return 0;
}
static void toy_restore(void *ctx, int found) {
    (void)ctx, (void)found;
}
static void toy_restart(void *ctx, int now) {
    (void)ctx, (void)now;
}
static int toy_leader_changed(void *ctx, uint32_t jm, uint64_t f, uint64_t d, uint64_t e) {
    (void)ctx, (void)jm, (void)f, (void)d, (void)e;
    return 0;
}
static void toy_worker_lost(void *ctx, uint32_t w) {
    (void)ctx, (void)w;
}
static uint32_t toy_placement(void *ctx, uint32_t *workers, uint32_t room) {
    (void)ctx;
    for (uint32_t i = 0; workers && i < room && i < 2; i++)
        workers[i] = i;
    return 2;
}
static int toy_placement_seen(void *ctx) {
    (void)ctx;
    return 0;
}
static void toy_fail(void *ctx, int code, const char *msg) {
    (void)ctx;
    fail_msg("ha failed: %d %s", code, msg);
}
static void toy_violate(void *ctx, uint64_t at_ns, const char *invariant, const char *detail) {
    (void)at_ns;
    toy_job *t = ctx;
    if (t->violations++ == 0) {
        snprintf(t->invariant, sizeof t->invariant, "%s", invariant);
        snprintf(t->detail, sizeof t->detail, "%s", detail);
    }
}

static void ha_epochs_fires_on_a_reused_id(void **state) {
    (void)state;
    sim_config c;
    su_small(&c);
    su_set(&c, "coordination", "mock");
    su_set(&c, "job_managers", "2");
    toy_job t = {0};
    ha_job job = {&t,
                  toy_incarnation,
                  toy_down,
                  toy_checkpoint_id,
                  toy_committed,
                  toy_commit_failed,
                  toy_has_checkpoint,
                  toy_restore,
                  toy_restart,
                  toy_leader_changed,
                  toy_worker_lost,
                  toy_placement,
                  toy_placement_seen,
                  toy_fail,
                  toy_violate};
    env_sim es;
    assert_int_equal(env_sim_init(&es), 0);
    ha *h = NULL;
    char err[256];
    assert_int_equal(ha_create(&c, &es.env, 1, &job, &h, err, sizeof err), 0);
    env_sim_run_until(&es, 2000000000ULL);
    assert_true(ha_leader_can_act(h));
    ha_commit(h, 5, 100, 0xabc);
    env_sim_run_until(&es, 2100000000ULL);
    ha_commit(h, 6, 200, 0xdef);
    env_sim_run_until(&es, 2200000000ULL);
    assert_int_equal(t.violations, 0); /* ids that increase: fine */
    ha_commit(h, 4, 300, 0x123);       /* an id lower than one committed */
    env_sim_run_until(&es, 2300000000ULL);
    assert_int_equal(t.violations, 1);
    assert_string_equal(t.invariant, "ha-epochs");
    assert_non_null(strstr(t.detail, "checkpoint 4 committed after checkpoint 6"));
    ha_close(h);
    for (uint64_t at = 2400000000ULL; !ha_closed(h) && at < 30000000000ULL; at += 100000000ULL)
        env_sim_run_until(&es, at);
    ha_free(h);
    env_sim_free(&es);
    config_free(&c);
}

/* ---------- the default campaign ---------- */

/* Clean seeds keep every invariant (CAMPAIGN_SEEDS=N for a longer hunt). */
static void campaign_clean_seeds_keep_every_invariant(void **state) {
    (void)state;
    const char *seeds = getenv("CAMPAIGN_SEEDS");
    uint64_t last = seeds ? strtoull(seeds, NULL, 10) : 200, bad = 0, pauses = 0;
    for (uint64_t seed = 1; seed <= last; seed++) {
        sim_config c;
        su_campaign(&c, seed, NULL);
        sim_result r;
        su_run_ok(&c, seed, &r);
        config_free(&c);
        if (r.violation_count || !r.exactly_once_ok) {
            print_violations("clean", seed, &r);
            bad++;
        }
        pauses += r.fault_schedule && strstr(r.fault_schedule, "pause-");
        sim_result_free(&r);
    }
    fprintf(stderr, "campaign: %llu clean seeds, %llu with a pause, %llu with violations\n",
            (unsigned long long)last, (unsigned long long)pauses, (unsigned long long)bad);
    assert_int_equal(bad, 0);
    assert_true(pauses * 20 >= last); /* the kind occurs in at least 5% of the seeds */
}

/* With fencing off the campaign's cuts over commits in flight give a stale commit
 * within 100 seeds. */
static void campaign_without_fencing_commits_stale(void **state) {
    (void)state;
    uint64_t seed = 0;
    for (uint64_t s = 1; s <= 100 && !seed; s++) {
        sim_config c;
        su_campaign(&c, s, NULL);
        su_set(&c, "fencing", "0");
        sim_result r;
        su_run_ok(&c, s, &r);
        config_free(&c);
        assert_int_equal(r.violation_count, 0); /* counted, not a violation */
        if (r.stale_commits)
            seed = s;
        sim_result_free(&r);
    }
    fprintf(stderr, "campaign, fencing = 0: first stale commit at seed %llu\n",
            (unsigned long long)seed);
    assert_true(seed >= 1 && seed <= 100);
}

/* Each HA mutation caught by the campaign, with its seeds-to-detection:
 * tests/test_mutations.c. */

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pause_parses_and_is_written_back),
        cmocka_unit_test(pause_shows_in_the_schedule),
        cmocka_unit_test(pause_over_a_commit_splits_the_brain),
        cmocka_unit_test(stale_commit_fires_without_the_fence),
        cmocka_unit_test(restore_newest_fires_on_an_older_restore),
        cmocka_unit_test(ha_epochs_fires_on_a_reused_id),
        cmocka_unit_test(campaign_clean_seeds_keep_every_invariant),
        cmocka_unit_test(campaign_without_fencing_commits_stale),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
