/* ha.h -- job-manager high availability through a coordination service, on any backend
 * of the registry (coordination = mock | zookeeper): J job managers' sessions and
 * election, checkpoint ids from the checkpoint_id_counter znode, fenced commits of
 * checkpoint pointers, restarts that read the newest usable pointer, worker membership,
 * the assignment store, and the coordination faults -- among them a job manager's
 * process pause (as from a long GC), during which it sends nothing and hears nothing.
 * It checks its own invariants on every run (ha-epochs, stale-commit, restore-newest:
 * see ha.c) and reports what breaks them through ha_job.violate.
 *
 * The HA owns its state (struct ha) and knows the job model only through ha_job: a
 * handful of callbacks and an env (its clock and timers). sim.c is one job model; a
 * test may be another. Every callback runs on the env's loop.
 *
 * Ownership: ha_create allocates; ha_close closes every session (their closes complete
 * later, on the env's loop: run it until ha_closed says so); ha_free frees the service
 * and everything else, and must follow ha_closed (or a loop that could not finish). */
#ifndef SHARDSIM_SIM_HA_H
#define SHARDSIM_SIM_HA_H

#include <stdint.h>

#include "core/env.h"
#include "sim/config.h"
#include "sim/sim.h"

typedef struct ha ha;

/* What the HA asks of the job model (ctx is the model's). */
typedef struct ha_job {
    void *ctx;
    /* The job's incarnation: it changes whenever the job stops, so that answers to an
     * older incarnation's requests can be recognised. */
    uint64_t (*incarnation)(void *ctx);
    /* 1 if the job is down, waiting for a restore. */
    int (*down)(void *ctx);
    /* A checkpoint id came back from the counter (0: none, the request failed);
     * can_act: the leader can still act. The model starts the checkpoint (or, for a
     * rescale's savepoint that cannot start, tries the rescale again later). */
    void (*checkpoint_id)(void *ctx, uint32_t id, int stop, uint32_t rescale_to, int can_act);
    /* The pointer of checkpoint id, taken by incarnation, was committed: the model
     * completes the checkpoint if it is still the pending one and returns 1, with the
     * id of the checkpoint it subsumes (0: none) in *subsumed. */
    int (*committed)(void *ctx, uint32_t id, uint64_t incarnation, uint32_t *subsumed);
    /* Its commit failed: the model drops the pending checkpoint if it is that one. */
    void (*commit_failed)(void *ctx, uint32_t id, uint64_t incarnation);
    /* Does the model hold checkpoint id's state with this offset and CRC32C? */
    int (*has_checkpoint)(void *ctx, uint32_t id, uint64_t offset, uint32_t crc);
    /* Restore the checkpoint has_checkpoint accepted last (found = 1), or start over. */
    void (*restore)(void *ctx, int found);
    /* Restart the job now (now = 1) or after the restart strategy's delay. */
    void (*restart)(void *ctx, int now);
    /* A new leader was elected while the job ran: the model records the failover
     * (fault, detected, elected), stops the job and restarts it; 1 if the job was
     * running (or stopping), 0 if it was not (then nothing happened). */
    int (*leader_changed)(void *ctx, uint32_t jm, uint64_t fault_ns, uint64_t detected_ns,
                          uint64_t elected_ns);
    /* The leader saw worker w's registration go. */
    void (*worker_lost)(void *ctx, uint32_t w);
    /* The current placement: subtask i runs on workers[i]; returns the number of
     * subtasks (workers may be NULL to ask only that). */
    uint32_t (*placement)(void *ctx, uint32_t *workers, uint32_t room);
    /* The workers saw the placement a restart waits for: the model resumes and
     * returns 1 (0: it waits for no placement, or for a newer incarnation's). */
    int (*placement_seen)(void *ctx);
    /* Something went wrong that ends the run (out of memory). */
    void (*fail)(void *ctx, int code, const char *msg);
    /* The HA saw an invariant broken ("ha-epochs", "stale-commit", "restore-newest") at
     * virtual time at_ns, with a one-line detail; the run goes on. May be NULL. */
    void (*violate)(void *ctx, uint64_t at_ns, const char *invariant, const char *detail);
} ha_job;

/* Create the HA for cfg (coordination = a backend's name) on env e, whose loop runs
 * every callback; seed seeds a model's latencies. 0, or a negative code with a
 * one-line reason in err. Sessions open and the directories are made at once. */
int ha_create(const sim_config *cfg, const env *e, uint64_t seed, const ha_job *job, ha **out,
              char *err, size_t errlen);
/* Close every session (nothing of the HA acts any more); 1 once every close completed. */
void ha_close(ha *h);
int ha_closed(const ha *h);
void ha_free(ha *h);

/* Can the job's leader act (trigger and commit checkpoints)? Not while it is paused. */
int ha_leader_can_act(const ha *h);
/* 1 if some job manager that has not crashed is connected to the service now. */
int ha_connected(const ha *h);
/* Ask the counter znode for a checkpoint id (answered through checkpoint_id); 1 if
 * asked. ha_id_requested: an answer is awaited. */
int ha_request_checkpoint_id(ha *h, int stop, uint32_t rescale_to);
int ha_id_requested(const ha *h);
/* The job stopped (a failure): an id request in flight is forgotten; 1 if it served a
 * rescale's savepoint (the model tries the rescale again). */
int ha_job_stopped(ha *h);
/* Every snapshot of checkpoint id is written: the leader commits its pointer (offset,
 * CRC32C of its blobs); the answer comes through committed or commit_failed. A paused
 * leader sends it when its pause ends. */
void ha_commit(ha *h, uint32_t id, uint64_t offset, uint32_t crc);
/* A restart: the leader reads the newest usable pointer and has the model restore it
 * (or start over); with no leader, the next one does. */
void ha_read_latest_checkpoint(ha *h);
/* Write the current placement; placement_seen says when the workers saw it. */
void ha_publish_assignment(ha *h);
/* Faults: a coordination or job-manager fault of the schedule; worker w crashed (its
 * session dies with it); worker w is back (a new session registers it again). */
void ha_fault(ha *h, const sim_fault *f);
void ha_worker_crashed(ha *h, uint32_t w);
void ha_worker_back(ha *h, uint32_t w);
/* The HA's and the service's figures into r (elections, commits, stale commits,
 * pointers skipped, operations and their latency; leaderships and commits_log, copies
 * r owns). 0 or SS_ENOMEM. */
int ha_fill_result(const ha *h, sim_result *r);
/* The coordination history recorded so far (config_records_history), or NULL. */
const struct coord_history *ha_history(const ha *h);

#endif
