/* sim_internal.h -- what the files of one simulation run share: the run's state
 * (struct sim) and the functions each file offers the others. sim.c is the job model
 * (records, queues, checkpoints, failures, the loop), ha.c the job managers' high
 * availability through a coordination service, outcome.c the exactly-once check and
 * the sim_result. Not a public interface: only sim/ includes it. */
#ifndef SHARDSIM_SIM_INTERNAL_H
#define SHARDSIM_SIM_INTERNAL_H

#include <stdint.h>

#include "backends/coord.h"
#include "core/dist.h"
#include "core/env.h"
#include "core/histogram.h"
#include "core/partition.h"
#include "core/prng.h"
#include "sim/ha.h"
#include "sim/queue.h"
#include "sim/sim.h"
#include "sim/state.h"

#define TICK_NS 1000000ULL /* sources emit in 1 ms batches */
#define NEVER UINT64_MAX
#define MAX_EPOCHS 64
#define PREFETCH_AHEAD 4                /* records ahead whose state cells are prefetched */
#define SIM_DENSE_KEYS_MAX (1ULL << 24) /* key ids up to this: dense state and checks */

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
enum { RNG_RECORDS = 1, RNG_NET, RNG_SERVICE, RNG_RESTART, RNG_HEARTBEAT, RNG_FLUSH = 8 };

/* A record in a subtask's queue: 32 bytes (key ids are below 2^32). */
typedef struct pending_record {
    uint64_t done_ns, sched_ns, offset;
    uint32_t key, value;
} pending_record;

/* A record in a network buffer: 16 bytes, so the buffers of many channels stay in
 * cache; its time and key group are computed again when it is sent. Key ids are
 * below 2^32 (keys: at most 2^31 - 1; a key file's ids: 32 bits). */
typedef struct buffered_record {
    uint64_t offset;
    uint32_t key, value;
} buffered_record;

/* The exactly-once reference of one key group: its records' count and value sum, and
 * both weighted by a per-key hash (mod 2^64), folded as the sources first emit each
 * record. A group whose final state gives other figures holds a key that differs. */
typedef struct ref_group {
    uint64_t count, sum, wcount, wsum;
} ref_group;

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
    uint64_t offset;      /* records before this offset are in it */
    state_blob *blobs;    /* one per subtask (compact; .len: canonical bytes) */
    uint32_t parallelism; /* subtasks when it was taken */
    uint32_t remaining;   /* snapshots still to take */
    uint64_t done_ns;     /* when the last snapshot is written */
    uint64_t epoch;       /* job incarnation that took it */
    int stop;             /* stop-with-savepoint for a rescale */
    uint64_t trigger_ns;  /* when it was triggered */
    uint32_t rescale_to;
    state_holdings covered; /* per subtask: the key groups its blob covers */
} checkpoint;

/* The job manager's checkpoint bookkeeping. */
typedef struct jm {
    checkpoint completed; /* id 0 = none yet */
    checkpoint pending;   /* id 0 = none in flight */
    uint32_t next_id;
    uint32_t completed_count;
} jm_book;

/* Latency of records since the last completed checkpoint, split at each barrier so
 * that a rollback discards exactly the replayed records' samples. */
typedef struct epoch {
    uint64_t from_offset;
    hist h;
} epoch_hist;

/* A channel's network buffer (source -> subtask): records emitted, not yet sent. */
typedef struct channel {
    buffered_record *rec;
    uint32_t count;
    size_t cap;
    uint64_t bytes;
} channel;

typedef struct window {
    hist h;
    uint64_t in, done;
    uint64_t dropped;     /* queued or buffered when the job stopped: never processed */
    uint64_t rolled_back; /* processed in this window, then rolled back by a restore */
    uint8_t used;
} window;

/* Records processed in one window from one epoch (from_offset), not yet final: a
 * restore to an offset at or below from_offset rolls them back. */
typedef struct ledger_entry {
    uint64_t window, from_offset, count;
} ledger_entry;

typedef struct sim {
    const sim_config *cfg;
    uint64_t seed;
    uint32_t run;
    queue *q;
    part *part;
    const uint32_t *owner;
    uint32_t n, groups;
    subtask *sub;
    channel *channels; /* sources x n buffers, channels[source * n + subtask] */
    size_t channel_count;
    uint64_t *flush_phase;   /* per source: its output flusher's phase in the period */
    uint64_t *flush_next_ns; /* per source with buffered records: the flusher's next run */
    uint32_t *src_buffered;  /* per source: records in its buffers */
    uint64_t buffered, flush_min_ns, flush_base_ns; /* all buffers; the earliest run; start */
    uint32_t *source_worker;
    uint8_t *alive;
    uint32_t *slots;
    state_store state;
    ref_group *ref;      /* per key group: the exactly-once reference (outcome.c) */
    state_holdings hold; /* which running subtask's state holds each key group */
    jm_book jm;
    prng net_rng, service_rng, restart_rng;
    uint64_t stream_base;      /* prng_stream_base(seed, run): the records' streams */
    double net_mu, service_mu; /* lognormal mu of the network latency, service time */
    uint64_t *hb_phase;
    dist_zipf zipf;
    /* the record stream */
    uint64_t total, offset, max_emitted, stall_until_ns;
    uint64_t src_cached_offset; /* source_of's last record and its source (src_cached) */
    uint32_t src_cached_src;
    int src_cached;
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
    uint64_t restore_offset; /* the offset of the checkpoint the last restore read */
    int awaiting_catch_up;
    /* results */
    sim_result *r;
    size_t failover_cap;
    epoch_hist epochs[MAX_EPOCHS];
    uint32_t epoch_count;
    window *windows;
    size_t window_count;
    size_t window_cached_index; /* window_at's last window (window_cached) */
    uint64_t window_cached_ns;  /* and its start */
    int window_cached;
    uint64_t digest, source_digest, events, processed, replayed, last_done_ns, first_done_ns;
    ledger_entry *ledger;
    size_t ledger_count, ledger_cap;
    char *err;
    size_t errlen;
    int failed;
    /* coordination (with a coordination service) */
    env env;                  /* the coordination's clock and timers: EV_ENV events in q */
    struct ha *ha;            /* job-manager HA (sim/ha.h); NULL: coordination = none */
    struct env_rt *rt;        /* a real-time backend's loop (NULL: virtual time) */
    uint64_t pace_fired;      /* rt->fired when the last wait began */
    uint64_t rt_connected_ns; /* real time a job manager was last connected */
    int finished;             /* every record emitted and done, no checkpoint in flight */
    sim_fault *faults;        /* the schedule: the config's, then the drawn ones */
    uint32_t fault_count;
    uint32_t rescale_fault; /* the schedule's index of the rescale being tried */
    /* assignment = coordinated: a restart waits until the workers see its placement */
    uint64_t awaiting_epoch, resume_after_ns, resume_from; /* deploy and restore take after */
} sim;

/* ---- outcome.c: invariants ---- */
/* Record that the run broke `invariant` (a sim_violation name) at virtual time at_ns
 * (0: at the end), with a printf-style one-line detail. The run goes on. */
void sim_violate(sim *s, uint64_t at_ns, const char *invariant, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

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

/* ---- loop_env.c: the coordination's env on this run's loop ---- */
/* Set s->env: timers are EV_ENV events in s->q; with real_time, the loop also follows
 * the monotonic clock (s->rt) and runs what the backend's threads post. 0 or SS_E*. */
int sim_env_init(sim *s, int real_time);
void sim_env_free(sim *s);
/* An EV_ENV event: run the coordination timer it carries. */
void sim_env_timer(sim *s, const queue_event *ev);
/* Real time only (s->rt): wait until the next event is due on the monotonic clock
 * (times time_scale), running what the coordination's client threads posted; fails
 * the run when no job manager has reached the service for 3 session timeouts. */
void sim_pace(sim *s);
/* After the run: run the coordination (timers, or posts in real time, 10 s at most)
 * until done(arg). */
void sim_drain(sim *s, int (*done)(const struct ha *), const struct ha *arg);

/* ---- outcome.c ---- */
/* The exactly-once reference: empty per-group aggregates into s->ref. 0 or SS_ENOMEM. */
int sim_ref_init(sim *s);

/* A key's weight in the reference: odd, from a 64-bit mix of the key. */
static inline uint64_t sim_ref_weight(uint64_t key) {
    key ^= key >> 33;
    key *= 0xff51afd7ed558ccdULL;
    key ^= key >> 33;
    key *= 0xc4ceb9fe1a85ec53ULL;
    return (key ^ (key >> 33)) | 1;
}

/* Record (key, value) of key group g joins the reference (once per offset). */
static inline void sim_ref_note(sim *s, uint32_t g, uint64_t key, uint32_t value) {
    ref_group *r = &s->ref[g];
    uint64_t w = sim_ref_weight(key);
    r->count++;
    r->sum += value;
    r->wcount += w;
    r->wsum += w * value;
}

/* Invariant exactly-once (and its checker's self-test, checker-self-test). */
void sim_check_exactly_once(sim *s);
void sim_fill_result(sim *s);
/* After sim_fill_result, for a run that finished: invariants latency-samples and
 * liveness. */
void sim_check_outcome(sim *s);
/* Invariant liveness on a run's windows (window_ns long): 1 if some record is done in
 * a window that meets (heal_ns, heal_ns + bound_ns], or none was done after heal_ns
 * (last_done_ns <= heal_ns); else 0, with *next_ns the start of the next window in
 * which a record is done. Never 0 for a job that processed within the bound. */
int sim_live_after(const sim_window *w, size_t count, uint64_t window_ns, uint64_t heal_ns,
                   uint64_t bound_ns, uint64_t last_done_ns, uint64_t *next_ns);

#endif
