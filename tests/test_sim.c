/* test_sim.c -- the simulation model: determinism (also with two simulations running
 * at once in one process), failover with exactly-once, rescale, checkpoint integrity,
 * backpressure, and config validation. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/error.h"
#include "sim/config.h"
#include "sim/sim.h"
#include "tests/simutil.h"

/* A small job: 4 workers x 2 slots, 4 subtasks, 20k records/s for 6 s. */

static void same_seed_same_run(void **state) {
    (void)state;
    sim_config c;
    su_small(&c);
    sim_result a, b, d;
    su_run_ok(&c, 1, &a);
    su_run_ok(&c, 1, &b);
    su_run_ok(&c, 2, &d);
    assert_int_equal(a.trace_digest, b.trace_digest);
    assert_int_equal(a.events, b.events);
    assert_int_equal(a.window_count, b.window_count);
    assert_memory_equal(a.windows, b.windows, a.window_count * sizeof *a.windows);
    assert_memory_equal(a.latency.counts, b.latency.counts, a.latency.buckets * sizeof(uint64_t));
    assert_int_not_equal(a.trace_digest, d.trace_digest);
    assert_int_not_equal(a.source_digest, d.source_digest);
    /* Every record finished once, and the histogram saw each. */
    assert_int_equal(a.latency.count, a.records_emitted);
    assert_int_equal(a.records_emitted, 120000);
    assert_true(hist_quantile(&a.latency, 0.99) >= hist_quantile(&a.latency, 0.5));
    assert_true(a.exactly_once_ok);
    assert_true(a.checkpoints_completed >= 4);
    sim_result_free(&a);
    sim_result_free(&b);
    sim_result_free(&d);
}

typedef struct job {
    sim_config cfg;
    sim_result r;
    int rc;
} job;

static void *run_job(void *arg) {
    job *j = arg;
    char err[256];
    j->rc = sim_run(&j->cfg, 9, 0, &j->r, err, sizeof err);
    return NULL;
}

/* Two simulations at once in one process give the digests they give alone. */
static void concurrent_sims_match_solo(void **state) {
    (void)state;
    job j[2];
    su_small(&j[0].cfg);
    su_small(&j[1].cfg);
    su_set(&j[1].cfg, "partitioner", "jump");
    su_set(&j[1].cfg, "faults", "2 crash-worker 1");
    sim_result solo[2];
    su_run_ok(&j[0].cfg, 9, &solo[0]);
    su_run_ok(&j[1].cfg, 9, &solo[1]);
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, run_job, &j[i]), 0);
    for (int i = 0; i < 2; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(j[i].rc, 0);
        assert_int_equal(j[i].r.trace_digest, solo[i].trace_digest);
        sim_result_free(&j[i].r);
        sim_result_free(&solo[i]);
    }
}

static void partitioner_does_not_change_the_records(void **state) {
    (void)state;
    sim_config c;
    su_small(&c);
    su_set(&c, "key_dist", "zipf");
    sim_result a, b;
    su_run_ok(&c, 5, &a);
    su_set(&c, "partitioner", "modulo");
    su_run_ok(&c, 5, &b);
    assert_int_equal(a.source_digest, b.source_digest);
    assert_int_not_equal(a.trace_digest, b.trace_digest);
    sim_result_free(&a);
    sim_result_free(&b);
}

static void crash_restores_and_stays_exactly_once(void **state) {
    (void)state;
    sim_config c;
    su_small(&c);
    su_set(&c, "faults", "2.5 crash-worker 1; 4 restart-worker 1");
    /* the heartbeat timeout alone (Flink's default adds rpc and connection loss, which
     * detect sooner: fidelity tests) and a fixed 1 s restart delay (the default is
     * exponential, with jitter) */
    su_set(&c, "worker_detection", "heartbeat");
    su_set(&c, "restart_strategy", "fixed");
    su_set(&c, "duration_s", "8"); /* the restart's fixed costs (0.6 s) end past 6 s: catch up */
    sim_result r;
    su_run_ok(&c, 3, &r);
    assert_true(r.exactly_once_ok);
    assert_int_equal(r.failover_count, 1);
    const sim_failover *f = &r.failovers[0];
    assert_string_equal(f->kind, "crash-worker");
    /* Detected by the heartbeat model: between timeout - interval and timeout after. */
    uint64_t detection = f->detected_ns - f->fault_ns;
    assert_true(detection > 2000000000ULL && detection <= 3000000000ULL);
    assert_true(f->restored_ns > f->restarted_ns &&
                f->restarted_ns >= f->detected_ns + 1000000000ULL);
    assert_true(f->records_replayed > 0);
    assert_true(f->checkpoint_id > 0);
    assert_true(f->bytes_restored > 0);
    assert_true(f->caught_up_ns >= f->restored_ns);
    assert_int_equal(r.records_replayed, f->records_replayed);
    /* Replayed records ran twice unless they were lost in flight at the crash. */
    assert_true(r.records_processed > r.records_emitted);
    assert_true(r.records_processed <= r.records_emitted + r.records_replayed);
    int down = 0;
    for (size_t i = 0; i < r.window_count; i++)
        down += r.windows[i].down;
    assert_true(down >= 3);
    assert_int_equal(r.latency.count, r.records_emitted);
    sim_result_free(&r);
}

static void replay_is_what_keeps_exactly_once(void **state) {
    (void)state;
    sim_config c;
    su_small(&c);
    su_set(&c, "faults", "2.5 crash-worker 1");
    su_set(&c, "debug_skip_replay", "1");
    sim_result r;
    su_run_ok(&c, 3, &r);
    assert_false(r.exactly_once_ok);
    assert_non_null(strstr(r.exactly_once_detail, "key"));
    sim_result_free(&r);
}

static void corrupted_checkpoint_is_caught(void **state) {
    (void)state;
    sim_config c;
    su_small(&c);
    su_set(&c, "checkpoint_interval_s", "2");
    su_set(&c, "faults", "3 crash-worker 0");
    su_set(&c, "debug_corrupt_checkpoint", "1");
    sim_result r;
    char err[256];
    assert_int_not_equal(sim_run(&c, 3, 0, &r, err, sizeof err), 0);
    assert_non_null(strstr(err, "CRC32C mismatch"));
    sim_result_free(&r); /* a failed run keeps its evidence */
}

static void rescale_moves_state_and_keeps_every_record(void **state) {
    (void)state;
    sim_config c;
    su_small(&c);
    su_set(&c, "slots_per_worker", "4");
    su_set(&c, "parallelism", "8");
    su_set(&c, "faults", "3 rescale 12");
    sim_result r;
    su_run_ok(&c, 4, &r);
    assert_true(r.exactly_once_ok);
    assert_int_equal(r.subtask_count, 12);
    assert_int_equal(r.failover_count, 1);
    assert_string_equal(r.failovers[0].kind, "rescale");
    assert_true(r.failovers[0].bytes_restored > 0);
    assert_int_equal(r.failovers[0].records_replayed, 0);
    /* what moved: keys and whole key groups, each key at least its 16-byte entry */
    const sim_failover *f = &r.failovers[0];
    assert_true(f->keys_moved > 0 && f->keys_moved < 5000);
    assert_true(f->groups_moved > 0);
    assert_true(f->bytes_restored >= 16 * f->keys_moved);
    uint64_t keys = 0;
    for (uint32_t i = 0; i < r.subtask_count; i++)
        keys += r.subtasks[i].keys;
    assert_int_equal(keys, 5000);
    sim_result_free(&r);
}

static void backpressure_delays_but_loses_nothing(void **state) {
    (void)state;
    sim_config c;
    su_small(&c);
    su_set(&c, "buffer_timeout_ms", "0"); /* the queueing alone, no output-buffer wait */
    sim_result easy, hard;
    su_run_ok(&c, 6, &easy);
    su_set(&c, "queue_capacity", "50");
    su_set(&c, "service_us", "250"); /* 4 subtasks x 4000/s < 20000/s offered */
    su_set(&c, "duration_s", "2");
    su_run_ok(&c, 6, &hard);
    assert_true(hard.exactly_once_ok);
    assert_int_equal(hard.latency.count, hard.records_emitted);
    assert_true(hist_quantile(&hard.latency, 0.5) > 100 * hist_quantile(&easy.latency, 0.5));
    sim_result_free(&easy);
    sim_result_free(&hard);
}

static void config_rejects_bad_input(void **state) {
    (void)state;
    sim_config c;
    config_defaults(&c);
    char err[256];
    const char *bad[][2] = {{"nope", "1"},
                            {"parallelism", "0"},
                            {"parallelism", "1.5"},
                            {"rate", "fast"},
                            {"partitioner", "x"},
                            {"faults", "10 crash-worker"},
                            {"rate_profile", "0:1e5,0:2e5"},
                            {"key_dist", "normal"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(config_set(&c, bad[i][0], bad[i][1], err, sizeof err), SS_EINVAL);
        assert_non_null(strstr(err, bad[i][0]));
    }
    su_set(&c, "parallelism", "64");
    assert_int_equal(config_check(&c, err, sizeof err), SS_EINVAL);
    assert_non_null(strstr(err, "parallelism"));
    assert_non_null(sim_builtin_scenario("baseline"));
    assert_null(sim_builtin_scenario("nope"));
    /* every documented key takes its documented default */
    const config_key *k;
    for (size_t i = 0; (k = config_key_at(i)) != NULL; i++)
        if (k->default_text[0])
            assert_int_equal(config_set(&c, k->name, k->default_text, err, sizeof err), 0);
}

/* Job-manager HA through the ZooKeeper model. */
static void ha(sim_config *c, const char *timeout) {
    su_small(c);
    su_set(c, "duration_s", "40");
    su_set(c, "coordination", "mock");
    su_set(c, "job_managers", "2");
    su_set(c, "session_timeout_s", timeout);
}

static uint64_t failover_ns(const sim_result *r) {
    assert_int_equal(r->failover_count, 1);
    return r->failovers[0].restored_ns - r->failovers[0].fault_ns;
}

static void leader_crash_fails_over_after_session_expiry(void **state) {
    (void)state;
    uint64_t took[2];
    const char *timeouts[2] = {"4", "10"};
    for (int i = 0; i < 2; i++) {
        sim_config c;
        ha(&c, timeouts[i]);
        su_set(&c, "faults", "15 crash-leader 0");
        sim_result r;
        su_run_ok(&c, 2, &r);
        assert_true(r.exactly_once_ok);
        assert_int_equal(r.elections, 2);
        assert_int_equal(r.sessions_expired, 1);
        assert_string_equal(r.failovers[0].kind, "leader-change");
        assert_true(r.failovers[0].checkpoint_id > 0); /* the pointer the new leader read */
        assert_true(r.failovers[0].bytes_restored > 0);
        took[i] = failover_ns(&r);
        /* the standby leads once the dead leader's session expires: 2/3 T .. T + tick */
        uint64_t t = (uint64_t)strtoull(timeouts[i], NULL, 10) * 1000000000ULL;
        uint64_t detect = r.failovers[0].detected_ns - r.failovers[0].fault_ns;
        assert_true(detect >= t * 2 / 3 && detect <= t + 2000000000ULL + 10000000ULL);
        /* the standby wins within a few round trips of the session's expiry */
        assert_true(r.failovers[0].elected_ns >= r.failovers[0].detected_ns);
        assert_true(r.failovers[0].elected_ns - r.failovers[0].detected_ns < 50000000ULL);
        assert_true(r.commits >= r.checkpoints_completed);
        sim_result_free(&r);
    }
    assert_true(took[1] > took[0]); /* failover time grows with the session timeout */
}

static void worker_session_detection(void **state) {
    (void)state;
    sim_config c;
    ha(&c, "4");
    su_set(&c, "worker_detection", "session");
    su_set(&c, "faults", "15 crash-worker 1; 30 restart-worker 1");
    sim_result r;
    su_run_ok(&c, 2, &r);
    assert_true(r.exactly_once_ok);
    uint64_t detect = r.failovers[0].detected_ns - r.failovers[0].fault_ns;
    assert_true(detect >= 4000000000ULL * 2 / 3 && detect <= 6010000000ULL);
    assert_int_equal(r.elections, 1);
    sim_result_free(&r);
}

static void fencing_prevents_a_stale_commit(void **state) {
    (void)state;
    for (int fencing = 0; fencing < 2; fencing++) {
        sim_config c;
        ha(&c, "10");
        su_set(&c, "duration_s", "50");
        su_set(&c, "checkpoint_interval_s", "1");
        su_set(&c, "fencing", fencing ? "1" : "0");
        su_set(&c, "snapshot_mbps", "0.02"); /* a commit is in flight when the cut comes */
        su_set(&c, "faults", "15.5 partition-leader 0 25");
        sim_result r;
        su_run_ok(&c, 2, &r);
        assert_true(r.exactly_once_ok);
        assert_int_equal(r.elections, 2);
        if (fencing)
            assert_int_equal(r.stale_commits, 0);
        else
            assert_true(r.stale_commits >= 1); /* the model shows the split brain */
        sim_result_free(&r);
    }
}

/* Without fencing, the deposed leader's retried commit lands after its successor won: a
 * later restart finds a pointer whose CRC matches no state, skips it and restores the
 * one before. With fencing it never lands. */
static void stale_pointer_is_skipped_by_its_crc(void **state) {
    (void)state;
    for (int fencing = 0; fencing < 2; fencing++) {
        sim_config c;
        ha(&c, "10");
        su_set(&c, "duration_s", "50");
        su_set(&c, "snapshot_mbps", "0.02");
        su_set(&c, "checkpoint_interval_s", "7");
        su_set(&c, "restart_strategy", "fixed");
        su_set(&c, "fencing", fencing ? "1" : "0");
        /* the checkpoint of 14 s is in flight when the leader is cut off; its retried
         * commit (no CRC: the retry lost the blobs) lands once the cut ends at 26 s, after
         * the successor took over but before it completes a checkpoint of its own; the
         * worker crash at 28 s makes the successor read the pointers again: the newest is
         * the stale one */
        su_set(&c, "faults", "15.5 partition-leader 0 10.5; 28 crash-worker 1");
        sim_result r;
        su_run_ok(&c, 5, &r);
        assert_true(r.exactly_once_ok);
        assert_int_equal(r.stale_commits, fencing ? 0 : 1);
        assert_int_equal(r.pointers_skipped, fencing ? 0 : 1);
        assert_int_equal(r.failover_count, 2);
        assert_true(r.failovers[1].checkpoint_id > 0); /* restored from an older pointer */
        sim_result_free(&r);
    }
}

/* A latency profile replaces the read/write means; a bad one stops the run with its
 * FILE:LINE. */
/* A coordination latency with a huge lognormal tail (sigma 10: draws past 2^64 ns) is
 * capped, not converted out of range (UBSan in the sanitizer build). */
static void huge_latency_tail_is_capped(void **state) {
    (void)state;
    sim_config c;
    su_small(&c);
    su_set(&c, "coordination", "mock");
    su_set(&c, "zk_latency_sigma", "10");
    su_set(&c, "duration_s", "3");
    sim_result r;
    char err[256];
    sim_run(&c, 1, 0, &r, err, sizeof err); /* may not finish: the service is slow */
    assert_true(r.events > 0);
    sim_result_free(&r);
    config_free(&c);
}

static void latency_profile_is_used(void **state) {
    (void)state;
    const char *path = "test_sim_profile.ini";
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("[profile]\nfollower_lag_us = 100\n[create]\nmedian_us = 40000\np99_us = 40001\n", f);
    fclose(f);
    sim_config c;
    ha(&c, "4");
    su_set(&c, "zk_profile", path);
    sim_result r;
    su_run_ok(&c, 2, &r);
    int create = -1;
    for (int i = 0; i < SIM_COORD_TYPES; i++)
        if (strcmp(r.coord[i].op, "create") == 0)
            create = i;
    assert_true(create >= 0);
    assert_true(r.coord[create].p50_ns > 39000000 && r.coord[create].p50_ns < 41000000);
    sim_result_free(&r);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("[create]\nmedian_us = 4\nbogus = 1\n", f);
    fclose(f);
    char err[256];
    assert_int_not_equal(sim_run(&c, 2, 0, &r, err, sizeof err), 0);
    assert_non_null(strstr(err, "test_sim_profile.ini:3:"));
    sim_result_free(&r);
    remove(path);
}

/* A random fault campaign is a pure function of (seed, repetition, configuration), and
 * its schedule, spelled out in the faults key, replays the very same run. */
static void random_campaign_replays_from_its_schedule(void **state) {
    (void)state;
    sim_config c;
    ha(&c, "4");
    su_set(&c, "job_managers", "3");
    su_set(&c, "random_faults", "6");
    sim_result a, b;
    su_run_ok(&c, 5, &a);
    assert_non_null(a.fault_schedule);
    assert_true(a.exactly_once_ok);
    su_run_ok(&c, 6, &b); /* another seed, another campaign */
    assert_string_not_equal(a.fault_schedule, b.fault_schedule);
    sim_result_free(&b);
    sim_config d;
    ha(&d, "4");
    su_set(&d, "job_managers", "3");
    su_set(&d, "faults", a.fault_schedule);
    su_run_ok(&d, 5, &b);
    assert_string_equal(b.fault_schedule, a.fault_schedule); /* the same schedule, spelled out */
    assert_int_equal(b.trace_digest, a.trace_digest);
    assert_int_equal(b.failover_count, a.failover_count);
    sim_result_free(&a);
    sim_result_free(&b);
    config_free(&c);
    config_free(&d);
}

/* The ensemble losing quorum for three session timeouts expires no session. */
static void quorum_loss_stalls_but_expires_nobody(void **state) {
    (void)state;
    sim_config c;
    ha(&c, "4");
    su_set(&c, "zk_servers", "3");
    su_set(&c, "faults", "10 lose-quorum 12; 30 crash-zk 1");
    sim_result r;
    su_run_ok(&c, 2, &r);
    assert_true(r.exactly_once_ok);
    assert_int_equal(r.sessions_expired, 0);
    assert_true(r.elections >=
                2); /* the leader lost leadership while suspended, then regained it */
    sim_result_free(&r);
    /* a coordination fault without coordination is a config error */
    sim_config d;
    su_small(&d);
    su_set(&d, "faults", "10 crash-zk 0");
    char err[256];
    assert_int_equal(config_check(&d, err, sizeof err), SS_EINVAL);
    assert_non_null(strstr(err, "coordination"));
}

/* With a coordinated assignment a restart also waits for the workers to see the new
 * placement in the service: a little later, the same records. */
static void coordinated_assignment_adds_the_publication(void **state) {
    (void)state;
    uint64_t took[2];
    for (int k = 0; k < 2; k++) {
        sim_config c;
        ha(&c, "4");
        su_set(&c, "assignment", k ? "coordinated" : "direct");
        su_set(&c, "faults", "15 crash-leader 0");
        sim_result r;
        su_run_ok(&c, 2, &r);
        assert_true(r.exactly_once_ok);
        took[k] = failover_ns(&r);
        sim_result_free(&r);
    }
    assert_true(took[1] > took[0]);
    assert_true(took[1] - took[0] < 100000000ULL); /* a write and a watch: milliseconds */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(same_seed_same_run),
        cmocka_unit_test(concurrent_sims_match_solo),
        cmocka_unit_test(partitioner_does_not_change_the_records),
        cmocka_unit_test(crash_restores_and_stays_exactly_once),
        cmocka_unit_test(replay_is_what_keeps_exactly_once),
        cmocka_unit_test(corrupted_checkpoint_is_caught),
        cmocka_unit_test(rescale_moves_state_and_keeps_every_record),
        cmocka_unit_test(backpressure_delays_but_loses_nothing),
        cmocka_unit_test(config_rejects_bad_input),
        cmocka_unit_test(leader_crash_fails_over_after_session_expiry),
        cmocka_unit_test(worker_session_detection),
        cmocka_unit_test(fencing_prevents_a_stale_commit),
        cmocka_unit_test(stale_pointer_is_skipped_by_its_crc),
        cmocka_unit_test(latency_profile_is_used),
        cmocka_unit_test(huge_latency_tail_is_capped),
        cmocka_unit_test(random_campaign_replays_from_its_schedule),
        cmocka_unit_test(quorum_loss_stalls_but_expires_nobody),
        cmocka_unit_test(coordinated_assignment_adds_the_publication),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
