/* sim.h -- one simulation run: a keyed streaming job on a simulated cluster.
 *
 * sim_run builds the cluster and the job described by a sim_config (sim/config.h),
 * drives them in virtual time until the sources are done and the job has drained,
 * and fills a sim_result. It reads no clock and draws every random number from
 * streams derived from (seed, run, component) -- run is the repetition index, so every
 * point of a sweep sees the same records and faults -- and the same inputs give the same
 * result byte for byte; two runs may proceed in one process at once (no globals).
 *
 * Ownership: sim_run allocates the arrays inside *out; sim_result_free releases
 * them. */
#ifndef SHARDSIM_SIM_SIM_H
#define SHARDSIM_SIM_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "core/histogram.h"
#include "core/metrics.h"
#include "sim/config.h"

/* One failure and what it cost, all times absolute virtual ns (0 = did not happen). */
typedef struct sim_failover {
    char kind[24];             /* "crash-worker", ... */
    uint32_t target;           /* worker id, ... */
    uint64_t fault_ns;         /* when the fault struck */
    uint64_t detected_ns;      /* when the job manager (or the service) noticed */
    uint64_t elected_ns;       /* leader changes: when the new leader won (0 = none) */
    uint64_t restarted_ns;     /* when the restart strategy let the job restart */
    uint64_t restored_ns;      /* when state was restored and processing resumed */
    uint64_t caught_up_ns;     /* when the replay backlog was drained */
    uint64_t bytes_restored;   /* state bytes read back from the checkpoint */
    uint64_t records_replayed; /* records processed again after the rewind */
    uint64_t checkpoint_id;    /* the checkpoint restored from (0 = none: from scratch) */
    uint64_t keys_moved;       /* rescale: keys whose key group changed owner */
    uint32_t groups_moved;     /* rescale: key groups that changed owner */
} sim_failover;

/* One window of the time series (config window length). */
typedef struct sim_window {
    uint64_t start_ns;
    uint64_t records_in;   /* emitted by the sources in the window */
    uint64_t records_done; /* finished by the keyed operator in the window */
    uint64_t backlog;      /* records queued at window end: emitted (into an output buffer),
                              not yet done nor dropped by a stop */
    uint64_t rolled_back;  /* records done in it that a later restore rolled back */
    uint64_t p50_ns, p90_ns, p99_ns, p999_ns, max_ns; /* latency of records done in it */
    uint8_t down; /* 1 if no record was done in it during a failover or rescale */
} sim_window;

typedef struct sim_subtask_load {
    uint64_t keys, records, state_bytes;
    uint32_t worker; /* where it ran at the end */
} sim_subtask_load;

/* Coordination operations of one type: how many replies, and their latency. */
#define SIM_COORD_TYPES 9
typedef struct sim_coord_stat {
    char op[12]; /* "create", "get", ... ("" = none: coordination off) */
    uint64_t count, p50_ns, p99_ns, max_ns;
    hist h; /* latency from request to reply (initialised if op[0]) */
} sim_coord_stat;

/* A job manager's leadership as it saw it (sim_result.leaderships): from when its
 * latch made it leader in epoch (the election node's sequence number) until it stopped
 * believing it led -- its session lost or expired, as it heard it (a paused job manager
 * hears it when the pause ends), or it crashed. Times absolute virtual ns; to_ns = 0:
 * it still led at the end. Two leaderships that overlap are a split brain. */
typedef struct sim_leadership {
    uint32_t jm;
    int64_t epoch;
    uint64_t from_ns, to_ns;
} sim_leadership;

/* What became of a commit of a checkpoint pointer, as its job manager heard it. */
typedef enum sim_commit_outcome {
    SIM_COMMIT_COMMITTED, /* acknowledged, by the newest leader */
    SIM_COMMIT_STALE,     /* acknowledged, but a successor had been elected (stale_commits) */
    SIM_COMMIT_REFUSED,   /* refused by fencing: the leader's election node was gone */
    SIM_COMMIT_FAILED     /* lost: connection loss, an expired session, ... */
} sim_commit_outcome;

/* One commit's answer (sim_result.commits_log): when the job manager acted on it, which
 * one (leader of epoch), the checkpoint, the outcome, and whether it was the retry of a
 * commit lost in flight (sent on a new session). */
typedef struct sim_commit {
    uint64_t at_ns;
    uint32_t jm;
    int64_t epoch;
    uint32_t checkpoint_id;
    uint8_t outcome; /* sim_commit_outcome */
    uint8_t retry;
} sim_commit;

/* The state a rescale moved, per subtask (sim_result.moves): rescale failover is the
 * index of its row in sim_result.failovers (kind "rescale": its fault_ns, restored_ns
 * give the pause); subtask counts in max(from, to) parallelism; keys and bytes of keyed
 * state (16 bytes + the key per entry) that left it and that it took in. */
typedef struct sim_rescale_move {
    uint32_t failover;
    uint32_t from_parallelism, to_parallelism;
    uint32_t subtask;
    uint64_t keys_out, keys_in, bytes_out, bytes_in;
} sim_rescale_move;

/* An invariant a run broke (sim_result.violations): the invariant's name (the
 * campaign's key for it: "exactly-once", "replay", "key-groups", "ha-epochs",
 * "stale-commit", "restore-newest", "herd", "sequential", "liveness",
 * "latency-samples", "checker-self-test", "linearizable"), when (virtual ns; 0 = at the end) and a
 * one-line detail. */
#define SIM_MAX_VIOLATIONS 8
typedef struct sim_violation {
    char invariant[24];
    uint64_t at_ns;
    char detail[232];
} sim_violation;

typedef struct sim_result {
    uint64_t trace_digest;      /* 64-bit hash of the ordered stream of processed events */
    uint64_t source_digest;     /* hash of the source record stream (key, value, time) */
    uint64_t events;            /* events processed */
    uint64_t end_ns;            /* virtual time at the end */
    uint64_t records_emitted;   /* distinct source records */
    uint64_t records_processed; /* operator invocations, replays included */
    uint64_t records_replayed;
    double throughput_rps; /* achieved: records_emitted / from the first done to the last */
    double offered_rps;    /* records_emitted / source duration */
    hist latency;          /* end-to-end latency of every record's final processing */
    metrics_balance keys_balance, records_balance, bytes_balance; /* at the end */
    sim_subtask_load *subtasks;                                   /* parallelism at the end */
    uint32_t subtask_count;
    sim_window *windows;
    size_t window_count;
    sim_failover *failovers;
    size_t failover_count;
    sim_rescale_move *moves; /* per rescale, per subtask, in that order */
    size_t move_count;
    uint32_t checkpoints_completed;
    uint64_t checkpoint_bytes; /* size of the last completed checkpoint */
    /* coordination (with a coordination service) */
    uint64_t coord_ops; /* operations the coordination service applied */
    uint64_t elections; /* times a job manager became leader */
    uint64_t sessions_expired;
    uint64_t commits;          /* checkpoint pointers committed in the service */
    uint64_t stale_commits;    /* committed by a leader older than one already committed */
    uint64_t pointers_skipped; /* checkpoint pointers a restore found no matching state for */
    sim_coord_stat coord[SIM_COORD_TYPES];
    sim_leadership *leaderships; /* in the order they began */
    size_t leadership_count;
    sim_commit *commits_log; /* every commit answer, in the order heard */
    size_t commit_log_count;
    int exactly_once_ok;           /* 1: every key's state equals the failure-free fold */
    char exactly_once_detail[256]; /* "ok" or the first keys that differ */
    char *fault_schedule;          /* random_faults: the run's whole schedule, else NULL */
    char *coord_history;           /* history = 1: the coordination history (JSON Lines) */
    /* invariants broken: the first SIM_MAX_VIOLATIONS, in the order found; count is
     * every one (a run with violation_count > 0 failed its checks: `run` exits 1) */
    sim_violation violations[SIM_MAX_VIOLATIONS];
    uint32_t violation_count;
} sim_result;

/* Progress of a run, for a caller that shows it: called on the loop every 1024 events
 * with the simulated time, the duration the sources emit for, and the records done so
 * far. It must not touch the run; what it does cannot change the results. */
typedef void (*sim_progress_fn)(void *arg, uint64_t now_ns, uint64_t duration_ns,
                                uint64_t records_done);

/* As sim_run, reporting progress to fn (NULL: none). */
int sim_run_progress(const sim_config *cfg, uint64_t seed, uint32_t run, sim_result *out, char *err,
                     size_t errlen, sim_progress_fn fn, void *arg);

/* Run one simulation. Returns 0 and fills *out, SS_EINVAL for a config that cannot
 * run (message in err), or SS_ENOMEM. A run that started and then failed ("could not
 * restart", "did not finish", a coordination service that went away) still fills *out
 * with what it did until then -- its evidence -- and returns the error: free *out with
 * sim_result_free whatever sim_run returns. */
int sim_run(const sim_config *cfg, uint64_t seed, uint32_t run, sim_result *out, char *err,
            size_t errlen);
void sim_result_free(sim_result *r);

#endif
