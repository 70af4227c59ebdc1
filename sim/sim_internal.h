/* sim_internal.h -- what the files of one simulation run share: the run's state
 * (struct sim) and the functions each file offers the others. sim.c is the job model
 * (records, queues, checkpoints, failures, the loop), ha.c the job managers' high
 * availability through a coordination service, outcome.c the exactly-once check and
 * the sim_result. Not a public interface: only sim/ includes it. */
#ifndef SHARDSIM_SIM_INTERNAL_H
#define SHARDSIM_SIM_INTERNAL_H

#include <stdint.h>

#include "backends/coord.h"
#include "backends/recipes/recipes.h"
#include "core/dist.h"
#include "core/env.h"
#include "core/histogram.h"
#include "core/partition.h"
#include "core/prng.h"
#include "sim/queue.h"
#include "sim/sim.h"
#include "sim/state.h"

#define TICK_NS 1000000ULL /* sources emit in 1 ms batches */
#define NEVER UINT64_MAX
#define MAX_EPOCHS 64

enum {
    EV_TICK = 1,
    EV_CHECKPOINT,
    EV_SNAPSHOT,
    EV_CHECKPOINT_DONE,
    EV_FAULT,
    EV_DETECT,
    EV_RESTART,
    EV_RESTORED,
    EV_ENV, /* a coordination timer: payload = env callback, argument, two words */
};

enum { JOB_RUNNING, JOB_DOWN, JOB_WAIT_SLOTS, JOB_STOPPING };

/* Component ids of the random streams. */
enum { RNG_RECORDS = 1, RNG_NET, RNG_SERVICE, RNG_RESTART, RNG_HEARTBEAT };

typedef struct pending_record {
    uint64_t done_ns, sched_ns, offset, key;
    uint32_t value;
} pending_record;

typedef struct subtask {
    uint32_t worker;
    uint64_t free_at_ns, last_arrival_ns;
    pending_record *ring; /* FIFO of records in the subtask's queue */
    uint32_t head, count;
    uint64_t snapshot_at_ns; /* barrier passed at this time; NEVER = none pending */
    uint32_t snapshot_id;
} subtask;

/* A checkpoint, in progress or completed. */
typedef struct checkpoint {
    uint32_t id;
    uint64_t offset; /* records before this offset are in it */
    uint8_t **blobs; /* one per subtask */
    size_t *blob_len;
    uint32_t parallelism; /* subtasks when it was taken */
    uint32_t remaining;   /* snapshots still to take */
    uint64_t done_ns;     /* when the last snapshot is written */
    uint64_t epoch;       /* job incarnation that took it */
    int stop;             /* stop-with-savepoint for a rescale */
    uint64_t trigger_ns;  /* when it was triggered */
    uint32_t rescale_to;
} checkpoint;

/* The job manager's checkpoint bookkeeping. */
typedef struct jm {
    checkpoint completed; /* id 0 = none yet */
    checkpoint pending;   /* id 0 = none in flight */
    uint32_t next_id;
    uint32_t completed_count;
} jm_book;

struct sim;

/* A job manager with a coordination service: its session and its place in the election. */
typedef struct jm_node {
    struct sim *owner;
    uint32_t index;
    coord_session *session;
    recipe_latch latch;
    int crashed;
    uint32_t unsent_commit; /* a checkpoint whose commit was lost in flight: retried */
    uint64_t unsent_offset;
    char old_node[300];      /* the election node of the session that lost it */
    recipe_watcher members;  /* as leader: the workers' directory */
    uint64_t woke_ns;        /* when its election watch last saw the node before it go */
    coord_session *watching; /* the session whose watch on it is armed */
} jm_node;

/* Latency of records since the last completed checkpoint, split at each barrier so
 * that a rollback discards exactly the replayed records' samples. */
typedef struct epoch {
    uint64_t from_offset;
    hist h;
} epoch_hist;

typedef struct window {
    hist h;
    uint64_t in, done, rolled_back;
    uint8_t down, used;
} window;

typedef struct sim {
    const sim_config *cfg;
    uint64_t seed;
    uint32_t run;
    queue *q;
    part *part;
    const uint32_t *owner;
    uint32_t n, groups;
    subtask *sub;
    uint32_t *source_worker;
    uint8_t *alive;
    uint32_t *slots;
    state_store state;
    jm_book jm;
    prng net_rng, service_rng, restart_rng;
    uint64_t *hb_phase;
    dist_zipf zipf;
    /* the record stream */
    uint64_t total, offset, max_emitted, stall_until_ns;
    uint64_t step_cum[SIM_MAX_STEPS + 1];
    /* key file */
    uint32_t file_keys, *file_line_key, *file_key_group, *file_key_len;
    uint64_t file_lines;
    /* job */
    int job;
    uint64_t epoch_no;
    uint64_t now;
    uint32_t consecutive_failures;
    sim_failover *open_failover;
    uint64_t failed_offset;
    int awaiting_catch_up;
    /* results */
    sim_result *r;
    size_t failover_cap;
    epoch_hist epochs[MAX_EPOCHS];
    uint32_t epoch_count;
    window *windows;
    size_t window_count;
    uint64_t digest, source_digest, events, processed, replayed, last_done_ns;
    char *err;
    size_t errlen;
    int failed;
    /* coordination (with a coordination service) */
    env env;
    const coord_backend *backend; /* NULL: coordination = none */
    void *service;                /* the backend's service */
    int closing;                  /* the run is over: sessions are being closed */
    struct env_rt *rt;            /* a real-time backend's loop (NULL: virtual time) */
    uint64_t pace_fired;          /* rt->fired when the last wait began */
    uint64_t rt_connected_ns;     /* real time a job manager was last connected */
    int64_t closes_pending;       /* closes not yet completed */
    coord_session *admin;
    jm_node *jms;
    int active;                  /* index of the job manager the job follows, -1 = none */
    int64_t newest_epoch;        /* the highest leader epoch elected so far */
    uint64_t leader_lost_ns;     /* when the active leader was lost (crash, cut off) */
    coord_session *lost_session; /* ... and its session */
    coord_session **worker_sessions;
    uint32_t *member_seen; /* per worker: the incarnation the leader last saw, 0 = none */
    uint32_t *incarnation; /* per worker: registrations so far (names w<W>-<incarnation>) */
    uint64_t elections, commits, stale_commits;
    coord_session **retired;
    size_t retired_count, retired_cap;
    int finished;      /* every record emitted and done, no checkpoint in flight */
    sim_fault *faults; /* the schedule: the config's, then the drawn ones */
    uint32_t fault_count;
    /* checkpoint ids from the checkpoint_id_counter znode */
    int id_requested; /* an id is on its way */
    int id_stop;      /* ... for a savepoint of a rescale to id_rescale_to */
    uint32_t id_rescale_to, rescale_fault;
    uint64_t id_token; /* the request an answer must match */
    /* a restart reads the latest checkpoint pointer from the service */
    uint32_t restore_generation; /* bumps abandon the reads in flight */
    int restoring;               /* reads in flight */
    int restart_waiting;         /* no leader to read them yet */
    int restore_jm;              /* the job manager reading */
    char **pointer_names;        /* checkpoints/ children, ascending */
    size_t pointer_count, pointer_next;
    uint64_t pointers_skipped; /* pointers naming state that is not there */
    void **contexts;           /* commit contexts, freed at the end */
    size_t context_count, context_cap;
    /* assignment = coordinated: a restart waits until the workers see its placement */
    recipe_assignment_watcher assignment;
    uint64_t assign_generation, awaiting_generation, awaiting_epoch, resume_at_ns, resume_from;
} sim;

/* ---- sim.c: the job model, for ha.c and outcome.c ---- */
void sim_fail(sim *s, int code, const char *msg);
int sim_push(sim *s, uint64_t at, uint32_t type, uint64_t a, uint64_t b);
void sim_checkpoint_free(checkpoint *c);
void sim_start_checkpoint(sim *s, uint32_t id, int stop, uint32_t rescale_to);
void sim_complete_checkpoint(sim *s);
sim_failover *sim_new_failover(sim *s, const char *kind, uint32_t target);
void sim_stop_job(sim *s);
uint64_t sim_restart_delay(sim *s);
void sim_restore_from(sim *s, const checkpoint *c);
uint32_t sim_group_of(const sim *s, uint64_t key);
/* Record `offset` of the stream: its key and value, and when the sources emit it. */
void sim_record_at(const sim *s, uint64_t offset, uint64_t *key, uint32_t *value);
uint64_t sim_sched_ns(const sim *s, uint64_t offset);
uint32_t sim_key_bytes(const sim *s, uint64_t key);

/* ---- ha.c: high availability (with a coordination service) ---- */
int ha_setup(sim *s);
void ha_free(sim *s);
/* Can the job's leader act (trigger and commit checkpoints)? 1 without coordination. */
int ha_leader_can_act(const sim *s);
/* Ask the counter znode for a checkpoint id; 1 if asked. */
int ha_request_checkpoint_id(sim *s, int stop, uint32_t rescale_to);
/* Every snapshot of the pending checkpoint is written: commit its pointer. */
void ha_commit(sim *s, uint32_t id, uint64_t offset);
/* The job stopped (a failure): an id request in flight is forgotten. */
void ha_job_stopped(sim *s);
/* A restart's leader reads the latest usable checkpoint and restores it. */
void ha_read_latest_checkpoint(sim *s);
void ha_publish_assignment(sim *s);
/* Faults: a coordination or job-manager fault of the schedule; worker w crashed (its
 * session dies with it); worker w is back (a new session registers it again). */
void ha_fault(sim *s, const sim_fault *f);
void ha_worker_crashed(sim *s, uint32_t w);
void ha_worker_back(sim *s, uint32_t w);
/* An EV_ENV event: run the coordination timer it carries. */
void ha_timer(sim *s, const queue_event *ev);
/* Real time only (s->rt): wait until the next event is due on the monotonic clock
 * (times time_scale), running what the coordination's client threads posted. */
void ha_pace(sim *s);

/* ---- outcome.c ---- */
void sim_check_exactly_once(sim *s);
void sim_fill_result(sim *s);

#endif
