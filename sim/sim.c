/* sim.c -- one simulation run of a keyed streaming job; see sim.h.
 *
 * Sources emit records in offset order; record i's key, value and scheduled time are
 * pure functions of (seed, run, i), so a rewind after a failure replays exactly the
 * same records. Each record is routed by the partitioner to a subtask, crosses the
 * network if the subtask sits on another worker, and waits in the subtask's FIFO
 * queue: done = max(arrival, previous done) + service (Lindley's recursion, exact for
 * a single FIFO server). A full queue (queue_capacity records) stalls the source until
 * the oldest record leaves: backpressure. Records are applied to keyed state in done
 * order per subtask when virtual time passes their done time.
 *
 * Events (sim/queue.h) drive everything else: source ticks (1 ms of emission each),
 * checkpoint triggers, per-subtask snapshots when the barrier has passed, checkpoint
 * completion, faults, failure detection, restart and restore. The job manager's
 * checkpoint bookkeeping (completed id, offsets, blobs) lives in struct jm below, in
 * one place the coordination service of the next layer will take over. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/coord.h"
#include "backends/mock/mock.h"
#include "backends/recipes/recipes.h"
#include "core/dist.h"
#include "core/env.h"
#include "core/error.h"
#include "core/hash.h"
#include "core/partition.h"
#include "core/place.h"
#include "core/prng.h"
#include "sim/cli/keys_in.h"
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
    uint64_t offset;       /* records before this offset are in it */
    uint8_t **blobs;       /* one per subtask */
    size_t *blob_len;
    uint32_t parallelism;  /* subtasks when it was taken */
    uint32_t remaining;    /* snapshots still to take */
    uint64_t done_ns;      /* when the last snapshot is written */
    uint64_t epoch;        /* job incarnation that took it */
    int stop;              /* stop-with-savepoint for a rescale */
    uint64_t trigger_ns;   /* when it was triggered */
    uint32_t rescale_to;
} checkpoint;

/* The job manager's checkpoint bookkeeping. */
typedef struct jm {
    checkpoint completed;  /* id 0 = none yet */
    checkpoint pending;    /* id 0 = none in flight */
    uint32_t next_id;
    uint32_t completed_count;
} jm_book;

struct sim;

/* A job manager when coordination = mock: its session and its place in the election. */
typedef struct jm_node {
    struct sim *owner;
    uint32_t index;
    coord_session *session;
    recipe_latch latch;
    int crashed;
    uint32_t unsent_commit;   /* a checkpoint whose commit was lost in flight: retried */
    uint64_t unsent_offset;
    char old_node[300];       /* the election node of the session that lost it */
    recipe_watcher members;   /* as leader: the workers' directory */
    coord_session *watching;  /* the session whose watch on it is armed */
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
    /* coordination (coordination = mock) */
    env env;
    mock_zk *zk;
    coord_session *admin;
    jm_node *jms;
    int active;               /* index of the job manager the job follows, -1 = none */
    int64_t newest_epoch;     /* the highest leader epoch elected so far */
    uint64_t leader_lost_ns;  /* when the active leader was lost (crash, cut off) */
    coord_session *lost_session; /* ... and its session (its expiry is the detection) */
    coord_session **worker_sessions;
    uint8_t *member_seen;
    uint64_t elections, commits, stale_commits;
    coord_session **retired;
    size_t retired_count, retired_cap;
    int finished; /* every record emitted and done, no checkpoint in flight */
    /* checkpoint ids from the checkpoint_id_counter znode */
    int id_requested;       /* an id is on its way */
    int id_stop;            /* ... for a savepoint of a rescale to id_rescale_to */
    uint32_t id_rescale_to, rescale_fault;
    uint64_t id_epoch_no;   /* ... asked for by this incarnation */
    /* a restart reads the latest checkpoint pointer from the service */
    uint32_t restore_generation; /* bumps abandon the reads in flight */
    int restoring;          /* reads in flight */
    int restart_waiting;    /* no leader to read them yet */
    int restore_jm;         /* the job manager reading */
    char **pointer_names;   /* checkpoints/ children, ascending */
    size_t pointer_count, pointer_next;
    uint64_t pointers_skipped; /* pointers naming state that is not there */
    void **contexts;        /* commit contexts, freed at the end */
    size_t context_count, context_cap;
    /* assignment = coordinated: a restart waits until the workers see its placement */
    recipe_assignment_watcher assignment;
    uint64_t assign_generation, awaiting_generation, awaiting_epoch, resume_at_ns, resume_from;
} sim;

static int leader_can_act(const sim *s);

/* ---------- digests ---------- */

static uint64_t fold(uint64_t d, uint64_t x) {
    d ^= x;
    d *= 0x100000001B3ULL;
    return d ^ (d >> 29);
}

/* ---------- the record stream ---------- */

/* Steps: [0, t1) at rate, [t1, t2) at step_rate[0], ... step_cum[k] = records before
 * boundary k. Step 0 starts at 0 with `rate` unless the profile has a step at 0. */
static uint64_t boundary_ns(const sim *s, uint32_t k) {
    if (k == 0)
        return 0;
    return s->cfg->step_at_ns[k - 1];
}

static uint32_t boundary_count(const sim *s) { return s->cfg->step_count + 1; }

static double segment_rate(const sim *s, uint32_t k) {
    if (k == 0)
        return s->cfg->step_count && s->cfg->step_at_ns[0] == 0 ? s->cfg->step_rate[0] : s->cfg->rate;
    return s->cfg->step_rate[k - 1];
}

static void init_stream(sim *s) {
    uint32_t segments = boundary_count(s);
    uint64_t end = s->cfg->duration_ns, cum = 0;
    for (uint32_t k = 0; k < segments; k++) {
        s->step_cum[k] = cum;
        uint64_t a = boundary_ns(s, k), b = k + 1 < segments ? boundary_ns(s, k + 1) : end;
        if (b > end)
            b = end;
        if (b > a)
            cum += (uint64_t)floor((double)(b - a) * segment_rate(s, k) / 1e9);
    }
    s->step_cum[segments] = cum;
    s->total = cum;
}

static uint64_t sched_ns(const sim *s, uint64_t offset) {
    uint32_t k = 0, segments = boundary_count(s);
    while (k + 1 < segments && s->step_cum[k + 1] <= offset)
        k++;
    double within = (double)(offset - s->step_cum[k]) * 1e9 / segment_rate(s, k);
    return boundary_ns(s, k) + (uint64_t)within;
}

/* The key and value of record `offset`: a pure function of (seed, run, offset). */
static void record_at(const sim *s, uint64_t offset, uint64_t *key, uint32_t *value) {
    prng r;
    prng_stream(&r, s->seed, s->run, ((uint64_t)RNG_RECORDS << 48) ^ offset);
    const sim_config *c = s->cfg;
    switch (c->key_dist) {
    case SIM_KEYS_ZIPF:
        *key = dist_zipf_draw(&s->zipf, &r) - 1;
        break;
    case SIM_KEYS_HOTSET: {
        uint64_t hot = (uint64_t)ceil((double)c->keys * c->hot_keys_pct / 100.0);
        if (hot < 1)
            hot = 1;
        if (hot >= c->keys || prng_unit(&r) * 100.0 < c->hot_records_pct)
            *key = prng_below(&r, hot < c->keys ? hot : c->keys);
        else
            *key = hot + prng_below(&r, c->keys - hot);
        break;
    }
    case SIM_KEYS_FILE:
        *key = s->file_line_key[prng_below(&r, s->file_lines)];
        break;
    default:
        *key = prng_below(&r, c->keys);
    }
    *value = (uint32_t)prng_below(&r, c->value_max);
}

static uint32_t group_of(const sim *s, uint64_t key) {
    if (s->cfg->key_dist == SIM_KEYS_FILE)
        return s->file_key_group[key];
    return part_group_of_int(s->part, (int32_t)(uint32_t)key);
}

static uint32_t key_bytes(const sim *s, uint64_t key) {
    return s->cfg->key_dist == SIM_KEYS_FILE ? s->file_key_len[key] : 4;
}

static double draw(prng *r, int dist, double mean, double sigma) {
    switch (dist) {
    case SIM_DIST_CONSTANT:
        return mean;
    case SIM_DIST_EXPONENTIAL:
        return dist_exponential(r, mean);
    default: /* lognormal with the given mean */
        return mean > 0 ? dist_lognormal(r, log(mean) - sigma * sigma / 2, sigma) : 0;
    }
}

/* ---------- results bookkeeping ---------- */

static window *window_at(sim *s, uint64_t t_ns) {
    size_t w = (size_t)(t_ns / s->cfg->window_ns);
    if (w >= s->window_count) {
        size_t count = w + 1 > s->window_count * 2 ? w + 1 : s->window_count * 2;
        window *nw = realloc(s->windows, count * sizeof *nw);
        if (!nw) {
            s->failed = SS_ENOMEM;
            return NULL;
        }
        memset(nw + s->window_count, 0, (count - s->window_count) * sizeof *nw);
        s->windows = nw;
        s->window_count = count;
    }
    window *x = &s->windows[w];
    if (!x->used) {
        if (hist_init(&x->h) != 0) {
            s->failed = SS_ENOMEM;
            return NULL;
        }
        x->used = 1;
    }
    return x;
}

static epoch_hist *current_epoch(sim *s, uint64_t offset) {
    for (uint32_t i = s->epoch_count; i > 0; i--)
        if (s->epochs[i - 1].from_offset <= offset)
            return &s->epochs[i - 1];
    return &s->epochs[0];
}

static int open_epoch(sim *s, uint64_t from) {
    if (s->epoch_count == MAX_EPOCHS) { /* fold the oldest two */
        hist_merge(&s->epochs[0].h, &s->epochs[1].h);
        hist_free(&s->epochs[1].h);
        memmove(&s->epochs[1], &s->epochs[2], (MAX_EPOCHS - 2) * sizeof(epoch_hist));
        s->epoch_count--;
    }
    epoch_hist *e = &s->epochs[s->epoch_count];
    if (hist_init(&e->h) != 0)
        return SS_ENOMEM;
    e->from_offset = from;
    s->epoch_count++;
    return 0;
}

/* A checkpoint covering offsets < upto completed: its epochs become final. */
static void commit_epochs(sim *s, uint64_t upto) {
    while (s->epoch_count > 1 && s->epochs[1].from_offset <= upto) {
        hist_merge(&s->r->latency, &s->epochs[0].h);
        hist_free(&s->epochs[0].h);
        memmove(&s->epochs[0], &s->epochs[1], (s->epoch_count - 1) * sizeof(epoch_hist));
        s->epoch_count--;
    }
}

/* A rollback to `offset`: samples of records at or after it will be replayed. */
static void drop_epochs_from(sim *s, uint64_t offset) {
    while (s->epoch_count > 1 && s->epochs[s->epoch_count - 1].from_offset >= offset) {
        hist_free(&s->epochs[s->epoch_count - 1].h);
        s->epoch_count--;
    }
    if (s->epochs[0].from_offset >= offset)
        hist_reset(&s->epochs[0].h);
    s->epochs[0].from_offset = s->epochs[0].from_offset < offset ? s->epochs[0].from_offset : offset;
}

/* ---------- processing ---------- */

static void fail(sim *s, int code, const char *msg) {
    if (!s->failed) {
        s->failed = code;
        snprintf(s->err, s->errlen, "%s", msg);
    }
}

static void take_snapshot(sim *s, uint32_t i);

/* Apply the records of subtask i that are done by `until`, in FIFO order, taking a
 * pending snapshot first when the barrier passed before the next record. */
static void flush_subtask(sim *s, uint32_t i, uint64_t until) {
    subtask *t = &s->sub[i];
    uint32_t cap = s->cfg->queue_capacity;
    while (t->count) {
        pending_record *p = &t->ring[t->head];
        if (t->snapshot_at_ns != NEVER && t->snapshot_at_ns < p->done_ns && t->snapshot_at_ns <= until)
            take_snapshot(s, i);
        if (p->done_ns > until)
            break;
        if (state_add(&s->state, p->key, group_of(s, p->key), p->value) != 0) {
            fail(s, SS_ENOMEM, "out of memory for keyed state");
            return;
        }
        uint64_t latency = p->done_ns - p->sched_ns;
        window *w = window_at(s, p->done_ns);
        if (w) {
            hist_record(&w->h, latency);
            w->done++;
        }
        hist_record(&current_epoch(s, p->offset)->h, latency);
        s->digest = fold(fold(s->digest, p->offset), p->done_ns ^ ((uint64_t)i << 48));
        s->processed++;
        if (p->done_ns > s->last_done_ns)
            s->last_done_ns = p->done_ns;
        t->head = t->head + 1 == cap ? 0 : t->head + 1;
        t->count--;
    }
    if (t->snapshot_at_ns != NEVER && t->snapshot_at_ns <= until)
        take_snapshot(s, i);
}

static void flush_all(sim *s, uint64_t until) {
    for (uint32_t i = 0; i < s->n; i++)
        flush_subtask(s, i, until);
}

/* Emit records whose emission time is at most `until`. */
static void emit_until(sim *s, uint64_t until) {
    const sim_config *c = s->cfg;
    uint32_t cap = c->queue_capacity;
    while (s->offset < s->total && s->job == JOB_RUNNING) {
        uint64_t sched = sched_ns(s, s->offset);
        uint64_t emit = sched > s->stall_until_ns ? sched : s->stall_until_ns;
        if (emit > until)
            return;
        uint64_t key;
        uint32_t value;
        record_at(s, s->offset, &key, &value);
        uint32_t i = s->owner[group_of(s, key)];
        subtask *t = &s->sub[i];
        uint32_t src = s->source_worker[s->offset % c->sources];
        double delay = src == t->worker ? 0 : draw(&s->net_rng, c->net_dist, c->net_latency_ns, c->net_sigma);
        uint64_t arrival = emit + (uint64_t)delay;
        if (arrival < t->last_arrival_ns)
            arrival = t->last_arrival_ns; /* one channel: records arrive in order */
        if (t->count == cap) {
            pending_record *oldest = &t->ring[t->head];
            if (oldest->done_ns > arrival) { /* full: the source waits for room */
                s->stall_until_ns = oldest->done_ns;
                continue;
            }
            flush_subtask(s, i, arrival);
        }
        double service = draw(&s->service_rng, c->service_dist, c->service_ns, c->service_sigma);
        uint64_t start = arrival > t->free_at_ns ? arrival : t->free_at_ns;
        uint64_t done = start + (uint64_t)service + 1; /* never zero: keeps FIFO strict */
        t->free_at_ns = done;
        t->last_arrival_ns = arrival;
        uint32_t slot = (t->head + t->count) % cap;
        t->ring[slot] = (pending_record){done, sched, s->offset, key, value};
        t->count++;
        window *w = window_at(s, emit);
        if (w)
            w->in++;
        if (s->offset >= s->max_emitted) {
            s->source_digest = fold(fold(fold(s->source_digest, s->offset), key), ((uint64_t)value << 40) ^ sched);
            s->max_emitted = s->offset + 1;
        }
        if (s->awaiting_catch_up && emit == sched && s->open_failover) {
            s->open_failover->caught_up_ns = emit;
            s->awaiting_catch_up = 0;
        }
        s->offset++;
    }
}

/* ---------- checkpoints (the job manager) ---------- */

static void checkpoint_free(checkpoint *c) {
    for (uint32_t i = 0; c->blobs && i < c->parallelism; i++)
        free(c->blobs[i]);
    free(c->blobs);
    free(c->blob_len);
    memset(c, 0, sizeof *c);
}

static int push(sim *s, uint64_t at, uint32_t type, uint64_t a, uint64_t b) {
    uint64_t payload[3] = {a, b, s->epoch_no};
    int rc = queue_push(s->q, at, type, payload, sizeof payload, NULL);
    if (rc)
        fail(s, rc, "out of memory for events");
    return rc;
}

static void start_checkpoint(sim *s, uint32_t id, int stop, uint32_t rescale_to);
static int request_checkpoint_id(sim *s, int stop, uint32_t rescale_to);

/* Trigger a checkpoint (stop: a savepoint that stops the job for a rescale). Its id
 * comes from the job manager's counter, or with a coordination service from the
 * checkpoint_id_counter znode, as Flink's does. 1 if triggered or asked for. */
static int trigger_checkpoint(sim *s, int stop, uint32_t rescale_to) {
    if (s->job != JOB_RUNNING || s->jm.pending.id || s->id_requested || !leader_can_act(s))
        return 0;
    if (s->cfg->coordination == SIM_COORD_MOCK)
        return request_checkpoint_id(s, stop, rescale_to);
    start_checkpoint(s, ++s->jm.next_id, stop, rescale_to);
    return 1;
}

static void start_checkpoint(sim *s, uint32_t id, int stop, uint32_t rescale_to) {
    emit_until(s, s->now);
    checkpoint *c = &s->jm.pending;
    c->id = id;
    c->offset = s->offset;
    c->parallelism = s->n;
    c->remaining = s->n;
    c->done_ns = s->now;
    c->epoch = s->epoch_no;
    c->stop = stop;
    c->trigger_ns = s->now;
    c->rescale_to = rescale_to;
    c->blobs = calloc(s->n, sizeof *c->blobs);
    c->blob_len = calloc(s->n, sizeof *c->blob_len);
    if (!c->blobs || !c->blob_len) {
        fail(s, SS_ENOMEM, "out of memory for a checkpoint");
        return;
    }
    if (open_epoch(s, c->offset) != 0) {
        fail(s, SS_ENOMEM, "out of memory");
        return;
    }
    if (stop)
        s->job = JOB_STOPPING; /* stop with savepoint: sources emit nothing more */
    for (uint32_t i = 0; i < s->n; i++) {
        subtask *t = &s->sub[i];
        uint64_t barrier = s->now > t->last_arrival_ns ? s->now : t->last_arrival_ns;
        t->last_arrival_ns = barrier;
        t->snapshot_at_ns = barrier > t->free_at_ns ? barrier : t->free_at_ns;
        t->snapshot_id = c->id;
        push(s, t->snapshot_at_ns, EV_SNAPSHOT, i, c->id);
    }
}

static void take_snapshot(sim *s, uint32_t i) {
    subtask *t = &s->sub[i];
    checkpoint *c = &s->jm.pending;
    uint64_t at = t->snapshot_at_ns;
    t->snapshot_at_ns = NEVER;
    if (c->id != t->snapshot_id)
        return;
    if (state_snapshot(&s->state, s->owner, i, &c->blobs[i], &c->blob_len[i]) != 0) {
        fail(s, SS_ENOMEM, "out of memory for a snapshot");
        return;
    }
    if (s->cfg->debug_corrupt_checkpoint && c->id == 1 && c->blob_len[i] > 0)
        c->blobs[i][c->blob_len[i] / 2] ^= 0x40;
    uint64_t written = at + (uint64_t)((double)c->blob_len[i] * 1e9 / s->cfg->snapshot_bytes_per_s);
    if (written > c->done_ns)
        c->done_ns = written;
    if (--c->remaining == 0)
        push(s, c->done_ns, EV_CHECKPOINT_DONE, c->id, 0);
}

static void finish_rescale(sim *s);
static void complete_checkpoint(sim *s);
static void resume(sim *s, uint64_t at, uint64_t from);
static void assignment_seen(void *arg, uint64_t generation, const uint32_t *workers,
                            uint32_t count);

static void commit(sim *s, jm_node *jm, uint32_t id, uint64_t offset, int retry);

/* Every snapshot is written: with a coordination service the leader commits the
 * pointer first, and the checkpoint completes when that commit succeeds. */
static void checkpoint_done(sim *s, uint32_t id) {
    checkpoint *c = &s->jm.pending;
    if (c->id != id)
        return;
    if (s->cfg->coordination == SIM_COORD_MOCK) {
        if (s->active >= 0)
            commit(s, &s->jms[s->active], id, c->offset, 0);
        return;
    }
    complete_checkpoint(s);
}

static void complete_checkpoint(sim *s) {
    checkpoint *c = &s->jm.pending;
    checkpoint_free(&s->jm.completed);
    s->jm.completed = *c;
    memset(c, 0, sizeof *c);
    s->jm.completed_count++;
    commit_epochs(s, s->jm.completed.offset);
    if (s->jm.completed.stop)
        finish_rescale(s); /* stop-with-savepoint done: move state, resume */
}

/* ---------- failures ---------- */

static sim_failover *new_failover(sim *s, const char *kind, uint32_t target) {
    sim_result *r = s->r;
    if (r->failover_count == s->failover_cap) {
        size_t cap = s->failover_cap ? s->failover_cap * 2 : 8;
        sim_failover *f = realloc(r->failovers, cap * sizeof *f);
        if (!f) {
            fail(s, SS_ENOMEM, "out of memory");
            return NULL;
        }
        r->failovers = f;
        s->failover_cap = cap;
    }
    sim_failover *f = &r->failovers[r->failover_count++];
    memset(f, 0, sizeof *f);
    snprintf(f->kind, sizeof f->kind, "%s", kind);
    f->target = target;
    f->fault_ns = s->now;
    return f;
}

/* Everything in flight is lost; the job is down from now. */
static void stop_job(sim *s) {
    flush_all(s, s->now);
    for (uint32_t i = 0; i < s->n; i++) {
        subtask *t = &s->sub[i];
        for (uint32_t k = 0; k < t->count; k++) {
            window *w = window_at(s, s->now);
            if (w)
                w->rolled_back++;
        }
        t->count = 0;
        t->head = 0;
        t->snapshot_at_ns = NEVER;
    }
    checkpoint_free(&s->jm.pending);
    s->epoch_no++; /* events of the old incarnation are ignored from now on */
    s->job = JOB_DOWN;
}

/* When the job manager notices worker w's death: heartbeats go out every interval at
 * the worker's phase; the last one answered is the last before the crash, and the
 * worker is declared dead at the first heartbeat check after the timeout since then. */
static uint64_t detection_time(const sim *s, uint32_t w, uint64_t crash) {
    uint64_t interval = s->cfg->heartbeat_interval_ns, phase = s->hb_phase[w];
    uint64_t last = crash < phase ? 0 : phase + (crash - phase) / interval * interval;
    uint64_t due = last + s->cfg->heartbeat_timeout_ns;
    uint64_t checks = due <= phase ? 0 : (due - phase + interval - 1) / interval;
    uint64_t at = phase + checks * interval;
    return at > crash ? at : crash + 1;
}

static uint64_t restart_delay(sim *s) {
    if (s->cfg->restart_strategy == SIM_RESTART_FIXED)
        return s->cfg->restart_delay_ns;
    /* Flink's exponential-delay defaults: 1 s, x1.5 per failure, at most 60 s, jitter 0.1 */
    double d = 1e9 * pow(1.5, s->consecutive_failures > 0 ? s->consecutive_failures - 1 : 0);
    if (d > 60e9)
        d = 60e9;
    d *= 1.0 + 0.1 * (2.0 * prng_unit(&s->restart_rng) - 1.0);
    return (uint64_t)d;
}

static void crash_worker(sim *s, uint32_t w) {
    s->alive[w] = 0;
    int affected = 0;
    for (uint32_t i = 0; i < s->n; i++)
        affected |= s->sub[i].worker == w;
    for (uint32_t i = 0; i < s->cfg->sources; i++)
        affected |= s->source_worker[i] == w;
    if (!affected || s->job != JOB_RUNNING)
        return;
    sim_failover *f = new_failover(s, "crash-worker", w);
    if (!f)
        return;
    s->failed_offset = s->offset;
    stop_job(s);
    s->open_failover = f;
    s->consecutive_failures++;
    if (s->cfg->worker_detection == SIM_DETECT_SESSION)
        mock_kill_client(s->zk, s->worker_sessions[w]); /* noticed when its node goes */
    else
        push(s, detection_time(s, w, s->now), EV_DETECT, w, 0);
}

/* Place every subtask (and source) on live workers. 0, or SS_ERANGE (too few slots). */
static int replace(sim *s, uint32_t n, uint32_t *moved) {
    place_config pc = {(place_strategy)s->cfg->placement, s->cfg->workers, s->slots, s->seed};
    uint32_t *old = calloc(n, sizeof *old), *now = calloc(n, sizeof *now);
    if (!old || !now) {
        free(old);
        free(now);
        return SS_ENOMEM;
    }
    for (uint32_t i = 0; i < n; i++)
        old[i] = i < s->n ? s->sub[i].worker : UINT32_MAX;
    int rc = place_replace(&pc, n, old, s->alive, now, moved);
    if (rc == 0)
        for (uint32_t i = 0; i < n; i++)
            s->sub[i].worker = now[i];
    for (uint32_t i = 0; rc == 0 && i < s->cfg->sources; i++)
        while (!s->alive[s->source_worker[i]])
            s->source_worker[i] = (s->source_worker[i] + 1) % s->cfg->workers;
    free(old);
    free(now);
    return rc;
}

/* Restore the state of checkpoint c (NULL: none, empty state); returns the bytes read per subtask
 * at most (restore runs in parallel), or sets an error. */
static uint64_t restore_state(sim *s, const checkpoint *c, uint64_t *total_bytes) {
    state_clear(&s->state);
    uint64_t max_bytes = 0;
    *total_bytes = 0;
    for (uint32_t i = 0; c && c->id && i < c->parallelism; i++) {
        if (state_restore(&s->state, c->blobs[i], c->blob_len[i]) != 0) {
            char msg[128];
            snprintf(msg, sizeof msg, "checkpoint %u: CRC32C mismatch in subtask %u's state blob",
                     c->id, i);
            fail(s, SS_EINVAL, msg);
            return 0;
        }
        *total_bytes += c->blob_len[i];
        max_bytes = c->blob_len[i] > max_bytes ? c->blob_len[i] : max_bytes;
    }
    return max_bytes;
}

/* Rescale: the partitioner at the new parallelism; moved groups' bytes. */
static uint64_t rescale_partitioner(sim *s, uint32_t n_new, uint64_t *moved_total) {
    part *np;
    if (part_rescaled(s->part, n_new, &np) != 0) {
        fail(s, SS_EINVAL, "cannot rescale the partitioner");
        return 0;
    }
    uint64_t *in = calloc(n_new, sizeof *in), max_in = 0;
    const uint32_t *no = part_owners(np);
    *moved_total = 0;
    for (uint32_t i = 0; in && i < s->state.count; i++) {
        const state_entry *e = &s->state.entries[i];
        if (s->owner[e->group] != no[e->group]) {
            uint64_t b = 16 + key_bytes(s, e->key);
            in[no[e->group]] += b;
            *moved_total += b;
        }
    }
    for (uint32_t i = 0; in && i < n_new; i++)
        max_in = in[i] > max_in ? in[i] : max_in;
    free(in);
    subtask *sub = realloc(s->sub, n_new * sizeof *sub);
    if (!sub) {
        part_free(np);
        fail(s, SS_ENOMEM, "out of memory");
        return 0;
    }
    for (uint32_t i = s->n; i < n_new; i++) {
        memset(&sub[i], 0, sizeof sub[i]);
        sub[i].worker = UINT32_MAX;
        sub[i].ring = malloc(s->cfg->queue_capacity * sizeof *sub[i].ring);
        if (!sub[i].ring)
            fail(s, SS_ENOMEM, "out of memory");
    }
    for (uint32_t i = n_new; i < s->n; i++)
        free(sub[i].ring);
    s->sub = sub;
    part_free(s->part);
    s->part = np;
    s->owner = part_owners(np);
    s->n = n_new;
    return max_in;
}

/* The savepoint of a rescale is complete: re-partition, move the groups that change
 * owner (time = the largest inflow / bandwidth), place, and resume at the savepoint. */
static void finish_rescale(sim *s) {
    checkpoint *c = &s->jm.completed;
    uint64_t from = c->offset;
    stop_job(s);
    sim_failover *f = new_failover(s, "rescale", c->rescale_to);
    if (!f)
        return;
    f->fault_ns = c->trigger_ns; /* the job stopped taking records then */
    f->detected_ns = s->now;
    f->restarted_ns = s->now;
    f->checkpoint_id = c->id;
    uint64_t moved = 0, max_in = rescale_partitioner(s, c->rescale_to, &moved);
    c->stop = 0;
    uint32_t placed;
    if (s->failed || replace(s, s->n, &placed) != 0) {
        fail(s, SS_EINVAL, "not enough slots to rescale");
        return;
    }
    f->bytes_restored = moved;
    s->open_failover = f;
    s->failed_offset = from;
    resume(s, s->now + (uint64_t)((double)max_in * 1e9 / s->cfg->restore_bytes_per_s), from);
}

static void publish_assignment(sim *s);

/* Resume processing at `at` from offset `from`; with a coordinated assignment, only once
 * the workers have seen the new placement in the service. */
static void resume(sim *s, uint64_t at, uint64_t from) {
    if (!s->cfg->coordinated_assignment || !s->zk) {
        push(s, at, EV_RESTORED, from, 0);
        return;
    }
    s->resume_at_ns = at;
    s->resume_from = from;
    s->awaiting_epoch = s->epoch_no;
    publish_assignment(s);
}

static void read_latest_checkpoint(sim *s);
static void restore_from(sim *s, const checkpoint *c);

/* The restart strategy's delay has passed: place, restore, then resume. */
static void on_restart(sim *s) {
    sim_failover *f = s->open_failover;
    uint32_t moved;
    int rc = replace(s, s->n, &moved);
    if (rc == SS_ERANGE) {
        s->job = JOB_WAIT_SLOTS; /* resumes when a worker comes back */
        return;
    }
    if (rc) {
        fail(s, rc, "placement failed");
        return;
    }
    if (f && !f->restarted_ns)
        f->restarted_ns = s->now;
    s->job = JOB_DOWN;
    if (s->cfg->coordination == SIM_COORD_MOCK)
        read_latest_checkpoint(s); /* the leader finds it in the service */
    else
        restore_from(s, &s->jm.completed);
}

/* Restore checkpoint c (NULL or id 0: none, start over) and resume from its offset. */
static void restore_from(sim *s, const checkpoint *c) {
    sim_failover *f = s->open_failover;
    uint64_t total = 0, max_bytes = restore_state(s, c, &total);
    if (s->failed)
        return;
    uint64_t from = c && c->id ? c->offset : 0;
    if (s->cfg->debug_skip_replay)
        from = s->failed_offset;
    if (f) {
        f->bytes_restored = total;
        f->checkpoint_id = c ? c->id : 0;
    }
    resume(s, s->now + (uint64_t)((double)max_bytes * 1e9 / s->cfg->restore_bytes_per_s), from);
}

static void on_restored(sim *s, uint64_t from) {
    sim_failover *f = s->open_failover;
    drop_epochs_from(s, from);
    if (f) {
        f->restored_ns = s->now;
        f->records_replayed = s->failed_offset > from ? s->failed_offset - from : 0;
        s->replayed += f->records_replayed;
    }
    s->offset = from;
    s->stall_until_ns = s->now;
    for (uint32_t i = 0; i < s->n; i++) {
        s->sub[i].free_at_ns = s->now;
        s->sub[i].last_arrival_ns = s->now;
        s->sub[i].count = 0;
        s->sub[i].head = 0;
        s->sub[i].snapshot_at_ns = NEVER;
    }
    s->job = JOB_RUNNING;
    s->awaiting_catch_up = 1;
    push(s, s->now + TICK_NS, EV_TICK, 0, 0);
    if (s->cfg->checkpoint_interval_ns)
        push(s, s->now + s->cfg->checkpoint_interval_ns, EV_CHECKPOINT, 0, 0);
}

static void crash_jm(sim *s, uint32_t i);
static void lose_quorum(sim *s, uint64_t duration_ns);
static void worker_back(sim *s, uint32_t w);
static void partition_jm(sim *s, uint32_t i, uint64_t duration_ns);

static void on_fault(sim *s, uint32_t index) {
    const sim_fault *f = &s->cfg->faults[index];
    switch (f->kind) {
    case SIM_FAULT_CRASH_WORKER:
        crash_worker(s, f->target);
        break;
    case SIM_FAULT_RESTART_WORKER:
        s->alive[f->target] = 1;
        worker_back(s, f->target);
        if (s->job == JOB_WAIT_SLOTS)
            on_restart(s);
        break;
    case SIM_FAULT_CRASH_JM:
        crash_jm(s, f->target);
        break;
    case SIM_FAULT_PARTITION_JM:
        partition_jm(s, f->target, f->duration_ns);
        break;
    case SIM_FAULT_EXPIRE_SESSION:
        mock_expire_session(s->zk, s->jms[f->target].session);
        break;
    case SIM_FAULT_CRASH_ZK:
        mock_crash_server(s->zk, f->target);
        break;
    case SIM_FAULT_RESTART_ZK:
        mock_restart_server(s->zk, f->target);
        break;
    case SIM_FAULT_LOSE_QUORUM:
        lose_quorum(s, (uint64_t)f->target * 1000000000ULL);
        break;
    case SIM_FAULT_SLOW_ZK:
        mock_slow(s->zk, (double)f->target, f->duration_ns);
        break;
    case SIM_FAULT_DROP_CONNECTION:
        mock_drop_connection(s->zk, s->jms[f->target].session);
        break;
    case SIM_FAULT_CRASH_LEADER: /* whichever job manager leads now */
        if (s->active >= 0)
            crash_jm(s, (uint32_t)s->active);
        break;
    case SIM_FAULT_PARTITION_LEADER:
        if (s->active >= 0)
            partition_jm(s, (uint32_t)s->active, f->duration_ns);
        break;
    default: /* rescale: a stop-with-savepoint, retried shortly if one cannot start now */
        s->rescale_fault = index;
        if (!trigger_checkpoint(s, 1, f->target))
            push(s, s->now + s->cfg->window_ns, EV_FAULT, index, 0);
    }
}

/* ---------- coordination: job-manager HA (coordination = mock) ----------
 * J job managers contend for leadership through the ZooKeeper model; the job follows
 * the latest leader. The leader takes each checkpoint id from the checkpoint_id_counter
 * znode (compare-and-set), and a checkpoint completes only once the leader has
 * committed its pointer znode (jobs/job/checkpoints/<19-digit id>: epoch, offset and
 * the CRC32C of its blobs), fenced by a check of the leader's election node unless
 * fencing is off; the pointer of the checkpoint it subsumes is then deleted. A restart
 * is the leader's: it syncs, reads the job graph and the pointers, newest first, and
 * restores the first whose id, offset and CRC match state that exists (none: start
 * over). A leader cut off from the service keeps believing it leads until its session
 * says otherwise; a commit it loses in flight is retried after it reconnects with a new
 * session -- with fencing that retry is refused, without it a deposed leader commits
 * after its successor won (stale_commits), and its pointer, naming state that is gone,
 * must be skipped by the next restore (pointers_skipped). */

#define HA_ROOT "/shardsim/c"
#define HA_CHECKPOINTS HA_ROOT "/jobs/job/checkpoints"
#define HA_COUNTER HA_ROOT "/jobs/job/checkpoint_id_counter"

typedef struct env_payload {
    env_timer_fn fn;
    void *arg;
    uint64_t a, b;
} env_payload;

_Static_assert(sizeof(env_payload) <= QUEUE_PAYLOAD_BYTES, "env timer fits an event");

static uint64_t env_now_ns(void *ctx) { return ((sim *)ctx)->now; }

static int env_push(void *ctx, uint64_t at_ns, env_timer_fn fn, void *arg, uint64_t a, uint64_t b) {
    sim *s = ctx;
    env_payload p = {fn, arg, a, b};
    return queue_push(s->q, at_ns < s->now ? s->now : at_ns, EV_ENV, &p, sizeof p, NULL);
}

static const env_vtable sim_env_vtable = {1, "sim", env_now_ns, env_push};

/* Sessions that ended stay allocated until the end: the service may still hold
 * timers naming them. */
static coord_session *new_session(sim *s) {
    (void)s;
    return calloc(1, mock_backend.session_size);
}

typedef struct commit_ctx {
    sim *s;
    jm_node *jm;
    uint32_t id;
    uint64_t epoch_no, offset;
    int64_t leader_epoch;
    int retry;
} commit_ctx;

static void complete_checkpoint(sim *s);
static void on_restart(sim *s);
static void ignore_done(void *arg, int rc, const coord_result *res);

static void commit_done(void *arg, int rc, const coord_result *res) {
    (void)res;
    commit_ctx *c = arg;
    sim *s = c->s;
    if (rc == COORD_OK) {
        s->commits++;
        if (c->leader_epoch < s->newest_epoch)
            s->stale_commits++; /* a deposed leader committed after its successor won */
        if (!c->retry && c->epoch_no == s->epoch_no && s->jm.pending.id == c->id) {
            uint32_t subsumed = s->jm.completed.id;
            complete_checkpoint(s);
            if (subsumed) { /* one retained checkpoint: the older pointer goes */
                char path[128];
                snprintf(path, sizeof path, HA_CHECKPOINTS "/%019u", subsumed);
                coord_remove(&mock_backend, c->jm->session, path, -1, ignore_done, NULL);
            }
        }
    } else {
        if ((rc == COORD_CONNECTIONLOSS || rc == COORD_SESSIONEXPIRED) && !c->retry) {
            c->jm->unsent_commit = c->id; /* the naive job manager will try again */
            c->jm->unsent_offset = c->offset;
        }
        /* the checkpoint failed: the next one may start */
        if (!c->retry && c->epoch_no == s->epoch_no && s->jm.pending.id == c->id)
            checkpoint_free(&s->jm.pending);
    }
}

/* The CRC32C of a checkpoint's blobs, in subtask order: what its pointer carries. */
static uint32_t checkpoint_crc(const checkpoint *ck) {
    uint32_t crc = 0;
    for (uint32_t i = 0; i < ck->parallelism; i++)
        crc = hash_crc32c_update(crc, ck->blobs[i], ck->blob_len[i]);
    return crc;
}

/* Callback contexts live until the end of the run: a reply may never come. */
static int keep_context(sim *s, void *c) {
    if (s->context_count == s->context_cap) {
        size_t cap = s->context_cap ? s->context_cap * 2 : 16;
        void **p = realloc(s->contexts, cap * sizeof *p);
        if (!p) {
            free(c);
            fail(s, SS_ENOMEM, "out of memory");
            return SS_ENOMEM;
        }
        s->contexts = p;
        s->context_cap = cap;
    }
    s->contexts[s->context_count++] = c;
    return 0;
}

static void commit(sim *s, jm_node *jm, uint32_t id, uint64_t offset, int retry) {
    commit_ctx *c = calloc(1, sizeof *c);
    if (!c) {
        fail(s, SS_ENOMEM, "out of memory");
        return;
    }
    *c = (commit_ctx){s, jm, id, s->epoch_no, offset, jm->latch.epoch, retry};
    if (keep_context(s, c) != 0)
        return;
    char path[128], data[128];
    snprintf(path, sizeof path, HA_CHECKPOINTS "/%019u", id);
    /* the pointer carries the CRC32C of the checkpoint's blobs (a retry has lost them) */
    uint32_t crc = !retry && s->jm.pending.id == id ? checkpoint_crc(&s->jm.pending) : 0;
    int n = snprintf(data, sizeof data, "epoch=%lld offset=%llu crc32c=%08x",
                     (long long)jm->latch.epoch, (unsigned long long)offset, crc);
    coord_op op = {COORD_OP_CREATE, path, data, (size_t)n, 0, -1};
    int rc;
    if (s->cfg->fencing && retry) { /* the check names the election node it led with */
        coord_op fenced[2] = {{COORD_OP_CHECK, jm->old_node, NULL, 0, 0, -1}, op};
        rc = coord_multi(&mock_backend, jm->session, fenced, 2, commit_done, c);
    } else if (s->cfg->fencing) {
        rc = recipe_fenced_multi(&jm->latch, &op, 1, commit_done, c);
    } else {
        rc = coord_multi(&mock_backend, jm->session, &op, 1, commit_done, c);
    }
    (void)rc; /* a refused call leaves the checkpoint pending until the job restarts */
}

/* ---- checkpoint ids: the leader increments checkpoint_id_counter (compare-and-set) */

static void checkpoint_id_done(void *arg, int rc, int64_t value) {
    sim *s = arg;
    s->id_requested = 0;
    if (rc == COORD_OK && value > 0 && value <= UINT32_MAX && s->id_epoch_no == s->epoch_no &&
        s->job == JOB_RUNNING && !s->jm.pending.id && leader_can_act(s))
        start_checkpoint(s, (uint32_t)value, s->id_stop, s->id_rescale_to);
    else if (s->id_stop) /* the rescale waits for the next chance */
        push(s, s->now + s->cfg->window_ns, EV_FAULT, s->rescale_fault, 0);
}

static int request_checkpoint_id(sim *s, int stop, uint32_t rescale_to) {
    if (recipe_counter_next(&mock_backend, s->jms[s->active].session, HA_COUNTER,
                            checkpoint_id_done, s) != 0)
        return 0;
    s->id_requested = 1;
    s->id_stop = stop;
    s->id_rescale_to = rescale_to;
    s->id_epoch_no = s->epoch_no;
    return 1;
}

/* ---- restore: the leader reads the job graph and the checkpoint pointers (after a
 * sync, unless zk_sync = 0), newest first, and restores the first whose id, offset
 * and CRC32C match state that exists; none: the job starts over. */

static void free_pointer_names(sim *s) {
    for (size_t i = 0; i < s->pointer_count; i++)
        free(s->pointer_names[i]);
    free(s->pointer_names);
    s->pointer_names = NULL;
    s->pointer_count = s->pointer_next = 0;
}

/* What a read in flight carries: which restart it serves. */
typedef struct restore_ctx {
    sim *s;
    uint32_t generation;
} restore_ctx;

/* A context for the next read (kept until the end of the run); NULL if out of memory. */
static restore_ctx *restore_arg(sim *s) {
    restore_ctx *c = malloc(sizeof *c);
    if (!c) {
        fail(s, SS_ENOMEM, "out of memory");
        return NULL;
    }
    *c = (restore_ctx){s, s->restore_generation};
    return keep_context(s, c) == 0 ? c : NULL;
}

/* Is this read still wanted (no newer failure, restart or leader since)? */
static int restore_wanted(const restore_ctx *c) {
    const sim *s = c->s;
    return c->generation == s->restore_generation && s->restoring && s->job == JOB_DOWN &&
           s->active == s->restore_jm;
}

/* A read failed: the restart is tried again after the restart strategy's delay. */
static void restore_retry(sim *s) {
    s->restoring = 0;
    free_pointer_names(s);
    push(s, s->now + restart_delay(s), EV_RESTART, 0, 0);
}

static void restore_found(sim *s, const checkpoint *c) {
    s->restoring = 0;
    free_pointer_names(s);
    restore_from(s, c);
}

static void pointer_read(void *arg, int rc, const coord_result *res);

static void next_pointer(sim *s) {
    if (s->pointer_next == 0) {
        restore_found(s, NULL);
        return;
    }
    char path[160];
    snprintf(path, sizeof path, HA_CHECKPOINTS "/%s", s->pointer_names[--s->pointer_next]);
    restore_ctx *c = restore_arg(s);
    if (c && coord_get(&mock_backend, s->jms[s->restore_jm].session, path, NULL, NULL,
                       pointer_read, c) != 0)
        restore_retry(s);
}

static void pointer_read(void *arg, int rc, const coord_result *res) {
    sim *s = ((restore_ctx *)arg)->s;
    if (!restore_wanted(arg))
        return;
    if (rc == COORD_NONODE) { /* subsumed meanwhile */
        next_pointer(s);
        return;
    }
    if (rc != COORD_OK) {
        restore_retry(s);
        return;
    }
    char text[128];
    unsigned long long id = strtoull(s->pointer_names[s->pointer_next], NULL, 10), offset = 0;
    long long epoch = 0;
    unsigned crc = 0;
    snprintf(text, sizeof text, "%.*s", (int)(res->data_len < 127 ? res->data_len : 127),
             (const char *)res->data);
    const checkpoint *c = &s->jm.completed;
    if (sscanf(text, "epoch=%lld offset=%llu crc32c=%x", &epoch, &offset, &crc) == 3 && c->id &&
        c->id == id && c->offset == offset && checkpoint_crc(c) == crc) {
        restore_found(s, c);
        return;
    }
    s->pointers_skipped++; /* its state is gone or differs: an older one may do */
    next_pointer(s);
}

static void pointers_listed(void *arg, int rc, const coord_result *res) {
    sim *s = ((restore_ctx *)arg)->s;
    if (!restore_wanted(arg))
        return;
    if (rc != COORD_OK) {
        restore_retry(s);
        return;
    }
    free_pointer_names(s);
    s->pointer_names = calloc(res->child_count + 1, sizeof *s->pointer_names);
    if (!s->pointer_names) {
        fail(s, SS_ENOMEM, "out of memory");
        return;
    }
    for (size_t i = 0; i < res->child_count; i++) { /* 19-digit names: sorted = by id */
        s->pointer_names[i] = strdup(res->children[i]);
        if (!s->pointer_names[i]) {
            fail(s, SS_ENOMEM, "out of memory");
            return;
        }
        s->pointer_count = i + 1;
    }
    s->pointer_next = s->pointer_count;
    next_pointer(s);
}

enum { READ_SYNC, READ_GRAPH, READ_POINTERS };

static void restore_read(sim *s, int what);

static void synced(void *arg, int rc, const coord_result *res) {
    (void)res;
    sim *s = ((restore_ctx *)arg)->s;
    if (restore_wanted(arg) && rc == COORD_OK)
        restore_read(s, READ_GRAPH);
    else if (restore_wanted(arg))
        restore_retry(s);
}

static void graph_read(void *arg, int rc, const coord_result *res) {
    (void)res;
    sim *s = ((restore_ctx *)arg)->s;
    if (restore_wanted(arg) && rc == COORD_OK)
        restore_read(s, READ_POINTERS);
    else if (restore_wanted(arg))
        restore_retry(s);
}

/* Send the restore's next read: sync, the job graph, the pointers' names. */
static void restore_read(sim *s, int what) {
    restore_ctx *c = restore_arg(s);
    if (!c)
        return;
    coord_session *session = s->jms[s->restore_jm].session;
    int rc;
    if (what == READ_SYNC)
        rc = coord_sync(&mock_backend, session, HA_CHECKPOINTS, synced, c);
    else if (what == READ_GRAPH)
        rc = coord_get(&mock_backend, session, HA_ROOT "/jobgraphs/job", NULL, NULL, graph_read,
                       c);
    else
        rc = coord_children(&mock_backend, session, HA_CHECKPOINTS, NULL, NULL, pointers_listed,
                            c);
    if (rc != 0)
        restore_retry(s);
}

static void read_latest_checkpoint(sim *s) {
    if (s->active < 0 || !leader_can_act(s)) {
        s->restart_waiting = 1; /* the next leader restarts the job */
        return;
    }
    s->restart_waiting = 0;
    s->restoring = 1;
    s->restore_generation++;
    s->restore_jm = s->active;
    restore_read(s, s->cfg->zk_sync ? READ_SYNC : READ_GRAPH);
}

/* The job's leader jm is lost from now (stop: it no longer acts as leader). */
static void leader_lost(sim *s, jm_node *jm, int stop) {
    if (s->active != (int)jm->index)
        return;
    if (stop)
        s->active = -1;
    if (!s->leader_lost_ns) {
        s->leader_lost_ns = s->now;
        s->lost_session = jm->session;
    }
}

static void jm_state(void *arg, int state);
static void jm_leader(void *arg, int leading, int64_t epoch);
static void leader_sees_members(void *arg, const char *const *names, size_t count);

static void join_election(jm_node *jm) {
    recipe_latch_start(&jm->latch, &mock_backend, jm->session, HA_ROOT "/leader",
                       jm->owner->cfg->tolerate_suspended, jm_leader, jm);
}

static void jm_state(void *arg, int state) {
    jm_node *jm = arg;
    sim *s = jm->owner;
    int was_leading = jm->latch.leading;
    recipe_latch_session_state(&jm->latch, state);
    if (was_leading && !jm->latch.leading)
        leader_lost(s, jm, 1);
    if (state != COORD_STATE_EXPIRED || jm->crashed)
        return;
    /* the session is gone: reconnect with a new one, retry what was lost, rejoin */
    snprintf(jm->old_node, sizeof jm->old_node, "%s", jm->latch.node);
    if (s->retired_count == s->retired_cap) {
        size_t cap = s->retired_cap ? s->retired_cap * 2 : 8;
        coord_session **r = realloc(s->retired, cap * sizeof *r);
        if (!r) {
            fail(s, SS_ENOMEM, "out of memory");
            return;
        }
        s->retired = r;
        s->retired_cap = cap;
    }
    s->retired[s->retired_count++] = jm->session;
    jm->session = new_session(s);
    if (!jm->session || mock_backend.open(s->zk, jm->session, s->cfg->session_timeout_ns,
                                          jm_state, jm) != 0) {
        fail(s, SS_ENOMEM, "out of memory");
        return;
    }
    if (jm->unsent_commit) {
        commit(s, jm, jm->unsent_commit, jm->unsent_offset, 1);
        jm->unsent_commit = 0;
    }
    join_election(jm);
}

static void jm_leader(void *arg, int leading, int64_t epoch) {
    jm_node *jm = arg;
    sim *s = jm->owner;
    if (leading && epoch > s->newest_epoch)
        s->newest_epoch = epoch;
    if (!leading) {
        leader_lost(s, jm, 1);
        return;
    }
    s->elections++;
    int first = s->elections == 1;
    s->active = (int)jm->index;
    if (s->cfg->worker_detection == SIM_DETECT_SESSION && jm->watching != jm->session) {
        jm->watching = jm->session; /* the leader watches the members (once per session) */
        recipe_members_watch(&jm->members, &mock_backend, jm->session, HA_ROOT "/workers",
                             leader_sees_members, jm);
    }
    if (first)
        return;
    /* a new leader takes over the job: restart it from the last committed checkpoint */
    if (s->job == JOB_RUNNING || s->job == JOB_STOPPING) {
        sim_failover *f = new_failover(s, "leader-change", jm->index);
        if (!f)
            return;
        f->fault_ns = s->leader_lost_ns ? s->leader_lost_ns : s->now;
        /* detected when the service expired the old leader's session (a leader that only
         * lost its connection noticed at once); elected now */
        uint64_t ended = s->lost_session ? mock_session_ended_ns(s->lost_session) : 0;
        f->detected_ns = ended >= f->fault_ns ? ended : f->fault_ns;
        f->elected_ns = s->now;
        s->failed_offset = s->offset;
        stop_job(s);
        s->open_failover = f;
        s->consecutive_failures++;
        push(s, s->now + restart_delay(s), EV_RESTART, 0, 0);
    } else if (s->job == JOB_DOWN && (s->restart_waiting || s->restoring)) {
        s->restoring = 0; /* the old leader's reads are abandoned: this one reads again */
        s->restore_generation++;
        s->restart_waiting = 0;
        push(s, s->now, EV_RESTART, 0, 0);
    }
    s->leader_lost_ns = 0;
    s->lost_session = NULL;
}

/* The members of the workers' directory changed: a worker whose ephemeral node went is
 * declared failed now (worker_detection = session). */
static void members_changed(void *arg, const char *const *names, size_t count) {
    sim *s = arg;
    uint8_t present[4096] = {0};
    for (size_t i = 0; i < count; i++) {
        unsigned w;
        if (sscanf(names[i], "w%u", &w) == 1 && w < s->cfg->workers && w < sizeof present)
            present[w] = 1;
    }
    for (uint32_t w = 0; w < s->cfg->workers && w < sizeof present; w++) {
        if (s->member_seen[w] && !present[w]) {
            sim_failover *f = s->open_failover;
            if (f && !f->detected_ns && f->target == w && strcmp(f->kind, "crash-worker") == 0) {
                f->detected_ns = s->now;
                push(s, s->now + restart_delay(s), EV_RESTART, 0, 0);
            }
        }
        s->member_seen[w] = present[w];
    }
}

static void ignore_done(void *arg, int rc, const coord_result *res) { (void)arg, (void)rc, (void)res; }

/* Only the current leader acts on what it sees. */
static void leader_sees_members(void *arg, const char *const *names, size_t count) {
    jm_node *jm = arg;
    if (jm->owner->active == (int)jm->index && jm->latch.leading)
        members_changed(jm->owner, names, count);
}

static void register_worker(sim *s, uint32_t w) {
    char path[64];
    snprintf(path, sizeof path, HA_ROOT "/workers/w%u", w);
    coord_create(&mock_backend, s->worker_sessions[w], path, NULL, 0, COORD_EPHEMERAL, ignore_done,
                 NULL);
}

/* A restarted worker opens a new session and registers again. */
static void worker_back(sim *s, uint32_t w) {
    if (s->cfg->worker_detection != SIM_DETECT_SESSION)
        return;
    if (s->retired_count == s->retired_cap) {
        size_t cap = s->retired_cap ? s->retired_cap * 2 : 8;
        coord_session **r = realloc(s->retired, cap * sizeof *r);
        if (!r)
            return;
        s->retired = r;
        s->retired_cap = cap;
    }
    s->retired[s->retired_count++] = s->worker_sessions[w];
    s->worker_sessions[w] = new_session(s);
    if (!s->worker_sessions[w] ||
        mock_backend.open(s->zk, s->worker_sessions[w], s->cfg->session_timeout_ns, NULL, NULL))
        return;
    register_worker(s, w);
}

/* The admin's directories exist: job managers join the election, workers register. */
static void ha_ready(void *arg, int rc, const coord_result *res) {
    (void)rc, (void)res;
    sim *s = arg;
    for (uint32_t i = 0; i < s->cfg->job_managers; i++)
        join_election(&s->jms[i]);
    if (s->cfg->coordinated_assignment) {
        recipe_assignment_watch(&s->assignment, &mock_backend, s->admin, HA_ROOT "/assignment",
                                assignment_seen, s);
        publish_assignment(s); /* the first placement; the job is already running on it */
        s->awaiting_generation = 0;
    }
    if (s->cfg->worker_detection == SIM_DETECT_SESSION) {
        for (uint32_t w = 0; w < s->cfg->workers; w++)
            register_worker(s, w);
    }
}

static int ha_setup(sim *s) {
    const sim_config *c = s->cfg;
    s->active = -1;
    if (c->coordination != SIM_COORD_MOCK)
        return 0;
    s->env = (env){&sim_env_vtable, s};
    mock_config mc;
    mock_config_defaults(&mc);
    mc.tick_ns = c->zk_tick_ns;
    mc.servers = c->zk_servers;
    mc.read_ns = (uint64_t)c->zk_read_ns;
    mc.write_ns = (uint64_t)c->zk_write_ns;
    mc.latency_dist = c->zk_latency_dist; /* same order: constant, exponential, lognormal */
    mc.latency_sigma = c->zk_latency_sigma;
    mc.seed = s->seed ^ ((uint64_t)s->run << 32);
    mc.follower_lag_ns = (uint64_t)c->zk_follower_lag_ns;
    if (c->zk_profile[0] && mock_profile_load(c->zk_profile, &mc, s->err, s->errlen) != 0) {
        s->failed = SS_EINVAL;
        return SS_EINVAL;
    }
    if (mock_create(&s->env, &mc, &s->zk) != 0)
        return SS_ENOMEM;
    s->admin = new_session(s);
    s->jms = calloc(c->job_managers, sizeof *s->jms);
    s->worker_sessions = calloc(c->workers, sizeof *s->worker_sessions);
    s->member_seen = calloc(c->workers, 1);
    if (!s->admin || !s->jms || !s->worker_sessions || !s->member_seen)
        return SS_ENOMEM;
    mock_backend.open(s->zk, s->admin, 20 * c->zk_tick_ns, NULL, NULL);
    for (uint32_t i = 0; i < c->job_managers; i++) {
        jm_node *jm = &s->jms[i];
        jm->owner = s;
        jm->index = i;
        jm->session = new_session(s);
        if (!jm->session)
            return SS_ENOMEM;
        mock_backend.open(s->zk, jm->session, c->session_timeout_ns, jm_state, jm);
    }
    for (uint32_t w = 0; c->worker_detection == SIM_DETECT_SESSION && w < c->workers; w++) {
        s->worker_sessions[w] = new_session(s);
        if (!s->worker_sessions[w])
            return SS_ENOMEM;
        mock_backend.open(s->zk, s->worker_sessions[w], c->session_timeout_ns, NULL, NULL);
    }
    /* Flink's layout: leader/, jobgraphs/<job>, jobs/<job>/checkpoints/<id> */
    static const char *const dirs[] = {"/shardsim",       HA_ROOT,
                                       HA_ROOT "/leader", HA_ROOT "/jobgraphs",
                                       HA_ROOT "/jobs",   HA_ROOT "/jobs/job",
                                       HA_CHECKPOINTS,    HA_ROOT "/workers"};
    char graph[160];
    int glen = snprintf(graph, sizeof graph, "source(%u) -> keyed(%u, %s) -> sink", c->sources,
                        c->parallelism, c->partitioner);
    coord_create(&mock_backend, s->admin, "/shardsim", NULL, 0, 0, ignore_done, s);
    for (size_t i = 1; i < sizeof dirs / sizeof dirs[0]; i++) /* one session: applied in order */
        coord_create(&mock_backend, s->admin, dirs[i], NULL, 0, 0, ignore_done, s);
    coord_create(&mock_backend, s->admin, HA_ROOT "/jobgraphs/job", graph, (size_t)glen, 0,
                 ha_ready, s);
    return 0;
}

/* Can the job's leader act (trigger and commit checkpoints)? */
static int leader_can_act(const sim *s) {
    if (s->cfg->coordination != SIM_COORD_MOCK)
        return 1;
    return s->active >= 0 && s->jms[s->active].latch.leading && !s->jms[s->active].crashed;
}

static void crash_jm(sim *s, uint32_t i) {
    jm_node *jm = &s->jms[i];
    jm->crashed = 1;
    mock_kill_client(s->zk, jm->session);
    leader_lost(s, jm, 1);
}

static void partition_jm(sim *s, uint32_t i, uint64_t duration_ns) {
    mock_partition_client(s->zk, s->jms[i].session, duration_ns);
    leader_lost(s, &s->jms[i], 0); /* it still thinks it leads, but reaches nobody */
}

static void quorum_back(void *arg, uint64_t servers, uint64_t b) {
    (void)b;
    sim *s = arg;
    for (uint32_t k = 0; k < servers; k++)
        mock_restart_server(s->zk, k);
}

/* A majority of the ensemble goes down for a while, then comes back. */
static void lose_quorum(sim *s, uint64_t duration_ns) {
    uint32_t majority = s->cfg->zk_servers / 2 + 1;
    for (uint32_t k = 0; k < majority; k++)
        mock_crash_server(s->zk, k);
    env_schedule(&s->env, s->now + duration_ns, quorum_back, s, majority, 0);
}

static void assignment_seen(void *arg, uint64_t generation, const uint32_t *workers,
                            uint32_t count) {
    (void)workers, (void)count;
    sim *s = arg;
    if (generation != s->awaiting_generation || s->awaiting_epoch != s->epoch_no)
        return; /* not the placement a restart waits for, or a newer failure came */
    s->awaiting_generation = 0;
    push(s, s->resume_at_ns > s->now ? s->resume_at_ns : s->now, EV_RESTORED, s->resume_from, 0);
}

/* The leader (or, with none, the admin) writes the placement; workers watch it. */
static void publish_assignment(sim *s) {
    uint32_t *workers = malloc(s->n * sizeof *workers);
    if (!workers) {
        fail(s, SS_ENOMEM, "out of memory");
        return;
    }
    for (uint32_t i = 0; i < s->n; i++)
        workers[i] = s->sub[i].worker;
    s->awaiting_generation = ++s->assign_generation;
    coord_session *writer = s->active >= 0 ? s->jms[s->active].session : s->admin;
    const recipe_latch *fence = s->active >= 0 && s->cfg->fencing && s->jms[s->active].latch.node[0]
                                    ? &s->jms[s->active].latch
                                    : NULL;
    recipe_assignment_write(&mock_backend, writer, fence, HA_ROOT "/assignment",
                            s->assign_generation, workers, s->n, ignore_done, NULL);
    free(workers);
}

static void ha_free(sim *s) {
    mock_free(s->zk); /* first: nothing may run after the sessions go */
    for (size_t i = 0; i < s->context_count; i++)
        free(s->contexts[i]);
    free(s->contexts);
    free_pointer_names(s);
    free(s->admin);
    for (uint32_t i = 0; s->jms && i < s->cfg->job_managers; i++)
        free(s->jms[i].session);
    free(s->jms);
    for (uint32_t w = 0; s->worker_sessions && w < s->cfg->workers; w++)
        free(s->worker_sessions[w]);
    free(s->worker_sessions);
    free(s->member_seen);
    for (size_t i = 0; i < s->retired_count; i++)
        free(s->retired[i]);
    free(s->retired);
}

/* ---------- the loop ---------- */

static void handle(sim *s, const queue_event *ev) {
    uint64_t a = ev->payload.u64[0], b = ev->payload.u64[1], epoch_no = ev->payload.u64[2];
    int current = epoch_no == s->epoch_no;
    switch (ev->type) {
    case EV_TICK:
        if (!current || s->job != JOB_RUNNING)
            return;
        flush_all(s, s->now);
        emit_until(s, s->now + TICK_NS);
        if (s->offset < s->total || s->jm.pending.id || s->id_requested)
            push(s, s->now + TICK_NS, EV_TICK, 0, 0);
        else
            s->finished = 1; /* the coordination service's timers would run forever */
        break;
    case EV_CHECKPOINT:
        if (!current || s->job != JOB_RUNNING)
            return;
        trigger_checkpoint(s, 0, 0);
        if (s->offset < s->total)
            push(s, s->now + s->cfg->checkpoint_interval_ns, EV_CHECKPOINT, 0, 0);
        break;
    case EV_SNAPSHOT:
        if (current && s->sub[a].snapshot_id == b && s->sub[a].snapshot_at_ns != NEVER)
            flush_subtask(s, (uint32_t)a, s->now);
        break;
    case EV_CHECKPOINT_DONE:
        if (current)
            checkpoint_done(s, (uint32_t)a);
        break;
    case EV_FAULT:
        on_fault(s, (uint32_t)a);
        break;
    case EV_DETECT:
        if (s->open_failover && !s->open_failover->detected_ns) {
            s->open_failover->detected_ns = s->now;
            push(s, s->now + restart_delay(s), EV_RESTART, 0, 0);
        }
        break;
    case EV_RESTART:
        on_restart(s);
        break;
    case EV_RESTORED:
        if (current)
            on_restored(s, a);
        break;
    case EV_ENV: {
        env_payload p;
        memcpy(&p, ev->payload.bytes, sizeof p);
        p.fn(p.arg, p.a, p.b);
        break;
    }
    }
}

/* ---------- set-up and results ---------- */

static int load_key_file(sim *s) {
    FILE *f = fopen(s->cfg->key_file, "r");
    if (!f) {
        snprintf(s->err, s->errlen, "key_file: cannot open '%s'", s->cfg->key_file);
        return SS_EINVAL;
    }
    /* distinct keys by exact text, in first-seen order */
    char *line = NULL, **texts = NULL;
    size_t cap = 0, text_cap = 0, line_cap = 0;
    ssize_t len;
    int rc = 0;
    state_store seen;
    if (state_init(&seen, 1) != 0) {
        fclose(f);
        return SS_ENOMEM;
    }
    while ((len = keys_next_line(f, &line, &cap)) >= 0) {
        if (len == 0) {
            snprintf(s->err, s->errlen, "%s:%llu: empty key", s->cfg->key_file,
                     (unsigned long long)s->file_lines + 1);
            rc = SS_EINVAL;
            break;
        }
        uint64_t h = ((uint64_t)hash_crc32c(line, (size_t)len) << 32) | hash_murmur3_32(line, (size_t)len, 7);
        const state_entry *e = state_find(&seen, h);
        uint32_t id;
        if (e) {
            id = (uint32_t)e->sum;
        } else {
            id = s->file_keys++;
            state_add(&seen, h, 0, id);
            if (s->file_keys > text_cap) {
                text_cap = text_cap ? text_cap * 2 : 1024;
                texts = realloc(texts, text_cap * sizeof *texts);
                s->file_key_group = realloc(s->file_key_group, text_cap * sizeof *s->file_key_group);
                s->file_key_len = realloc(s->file_key_len, text_cap * sizeof *s->file_key_len);
            }
            s->file_key_group[id] = part_group_of_bytes(s->part, line, (size_t)len);
            s->file_key_len[id] = (uint32_t)len;
            texts[id] = NULL;
        }
        if (s->file_lines == line_cap) {
            line_cap = line_cap ? line_cap * 2 : 1024;
            s->file_line_key = realloc(s->file_line_key, line_cap * sizeof *s->file_line_key);
        }
        s->file_line_key[s->file_lines++] = id;
    }
    if (rc == 0 && s->file_lines == 0) {
        snprintf(s->err, s->errlen, "key_file: '%s' has no keys", s->cfg->key_file);
        rc = SS_EINVAL;
    }
    free(line);
    free(texts);
    state_free(&seen);
    fclose(f);
    return rc;
}

static int setup(sim *s) {
    const sim_config *c = s->cfg;
    part_config pc = {.scheme = c->partitioner, .parallelism = c->parallelism,
                      .groups = c->max_parallelism, .hash = (part_hash)c->hash,
                      .vnodes = c->vnodes, .bound_c = c->bound_c};
    if (part_create(&pc, &s->part) != 0) {
        snprintf(s->err, s->errlen, "cannot make partitioner %s with parallelism %u", c->partitioner,
                 c->parallelism);
        return SS_EINVAL;
    }
    s->owner = part_owners(s->part);
    s->n = c->parallelism;
    s->groups = part_groups(s->part);
    if (c->key_dist == SIM_KEYS_ZIPF && dist_zipf_init(&s->zipf, c->keys, c->zipf_s) != 0)
        return SS_EINVAL;
    if (c->key_dist == SIM_KEYS_FILE && load_key_file(s) != 0)
        return SS_EINVAL;
    if (c->key_dist != SIM_KEYS_FILE && c->keys > INT32_MAX) {
        snprintf(s->err, s->errlen, "keys: at most 2^31 - 1");
        return SS_EINVAL;
    }
    if (queue_create(1024, &s->q) || state_init(&s->state, s->groups) || open_epoch(s, 0))
        return SS_ENOMEM;
    s->sub = calloc(s->n, sizeof *s->sub);
    s->alive = malloc(c->workers);
    s->slots = malloc(c->workers * sizeof *s->slots);
    s->source_worker = malloc(c->sources * sizeof *s->source_worker);
    s->hb_phase = malloc(c->workers * sizeof *s->hb_phase);
    if (!s->sub || !s->alive || !s->slots || !s->source_worker || !s->hb_phase)
        return SS_ENOMEM;
    prng hb;
    prng_stream(&hb, s->seed, s->run, RNG_HEARTBEAT);
    for (uint32_t w = 0; w < c->workers; w++) {
        s->alive[w] = 1;
        s->slots[w] = c->slots_per_worker;
        s->hb_phase[w] = prng_below(&hb, c->heartbeat_interval_ns);
    }
    for (uint32_t i = 0; i < c->sources; i++)
        s->source_worker[i] = i % c->workers;
    uint32_t *placed = malloc(s->n * sizeof *placed);
    place_config plc = {(place_strategy)c->placement, c->workers, s->slots, s->seed};
    if (!placed || place_assign(&plc, s->n, placed) != 0) {
        free(placed);
        snprintf(s->err, s->errlen, "cannot place %u subtasks", s->n);
        return SS_EINVAL;
    }
    for (uint32_t i = 0; i < s->n; i++) {
        s->sub[i].worker = placed[i];
        s->sub[i].snapshot_at_ns = NEVER;
        s->sub[i].ring = malloc(c->queue_capacity * sizeof *s->sub[i].ring);
        if (!s->sub[i].ring) {
            free(placed);
            return SS_ENOMEM;
        }
    }
    free(placed);
    prng_stream(&s->net_rng, s->seed, s->run, RNG_NET);
    prng_stream(&s->service_rng, s->seed, s->run, RNG_SERVICE);
    prng_stream(&s->restart_rng, s->seed, s->run, RNG_RESTART);
    init_stream(s);
    uint64_t expect = c->key_dist == SIM_KEYS_FILE ? s->file_keys : c->keys;
    if (expect > s->total)
        expect = s->total;
    if (state_reserve(&s->state, (uint32_t)(expect < (1u << 26) ? expect : (1u << 26))) != 0)
        return SS_ENOMEM;
    if (ha_setup(s) != 0)
        return SS_ENOMEM;
    s->job = JOB_RUNNING;
    s->digest = 0xCBF29CE484222325ULL;
    s->source_digest = 0xCBF29CE484222325ULL;
    push(s, 0, EV_TICK, 0, 0);
    if (c->checkpoint_interval_ns)
        push(s, c->checkpoint_interval_ns, EV_CHECKPOINT, 0, 0);
    for (uint32_t i = 0; i < c->fault_count; i++) {
        uint64_t payload[3] = {i, 0, 0};
        queue_push(s->q, c->faults[i].at_ns, EV_FAULT, payload, sizeof payload, NULL);
    }
    return s->failed;
}

/* The first differing keys, into the result's detail text. */
static void note_mismatch(sim_result *r, size_t *bad, size_t *used, uint64_t key, uint64_t got,
                          uint64_t want) {
    size_t room = sizeof r->exactly_once_detail;
    if ((*bad)++ < 3 && *used < room) {
        int n = snprintf(r->exactly_once_detail + *used, room - *used,
                         "%skey %llu: count %llu (want %llu)", *bad > 1 ? "; " : "",
                         (unsigned long long)key, (unsigned long long)got,
                         (unsigned long long)want);
        *used += n > 0 ? (size_t)n : 0;
    }
}

/* Compare the final state with a failure-free fold of the same records: dense
 * per-key arrays when key ids are small, else a second keyed store. */
static void check_exactly_once(sim *s) {
    sim_result *r = s->r;
    uint64_t space = s->cfg->key_dist == SIM_KEYS_FILE ? s->file_keys : s->cfg->keys;
    size_t bad = 0, used = 0;
    uint64_t distinct = 0;
    if (space <= (1u << 24)) {
        uint64_t *count = calloc(space, sizeof *count);
        int64_t *sum = calloc(space, sizeof *sum);
        if (!count || !sum) {
            free(count);
            free(sum);
            fail(s, SS_ENOMEM, "out of memory");
            return;
        }
        for (uint64_t i = 0; i < s->total; i++) {
            uint64_t key;
            uint32_t value;
            record_at(s, i, &key, &value);
            distinct += count[key]++ == 0;
            sum[key] += value;
        }
        for (uint64_t k = 0; k < space; k++) {
            if (!count[k])
                continue;
            const state_entry *got = state_find(&s->state, k);
            if (!got || got->count != count[k] || got->sum != sum[k])
                note_mismatch(r, &bad, &used, k, got ? got->count : 0, count[k]);
        }
        free(count);
        free(sum);
    } else {
        state_store ref;
        if (state_init(&ref, 1) != 0) {
            fail(s, SS_ENOMEM, "out of memory");
            return;
        }
        for (uint64_t i = 0; i < s->total; i++) {
            uint64_t key;
            uint32_t value;
            record_at(s, i, &key, &value);
            state_add(&ref, key, 0, value);
        }
        distinct = ref.count;
        for (uint32_t i = 0; i < ref.count; i++) {
            const state_entry *want = &ref.entries[i], *got = state_find(&s->state, want->key);
            if (!got || got->count != want->count || got->sum != want->sum)
                note_mismatch(r, &bad, &used, want->key, got ? got->count : 0, want->count);
        }
        state_free(&ref);
    }
    if (bad == 0 && s->state.count != distinct) {
        bad = 1;
        snprintf(r->exactly_once_detail, sizeof r->exactly_once_detail,
                 "%u keys in state, %llu expected", s->state.count, (unsigned long long)distinct);
    }
    r->exactly_once_ok = bad == 0;
    if (bad == 0)
        snprintf(r->exactly_once_detail, sizeof r->exactly_once_detail, "ok");
}

static void fill_result(sim *s) {
    sim_result *r = s->r;
    r->trace_digest = s->digest;
    r->source_digest = s->source_digest;
    r->events = s->events;
    r->end_ns = s->now;
    r->records_emitted = s->total;
    r->records_processed = s->processed;
    r->records_replayed = s->replayed;
    r->throughput_rps = s->cfg->duration_ns ? (double)s->total * 1e9 / (double)s->cfg->duration_ns : 0;
    for (uint32_t i = 0; i < s->epoch_count; i++) {
        hist_merge(&r->latency, &s->epochs[i].h);
        hist_free(&s->epochs[i].h);
    }
    s->epoch_count = 0;
    r->subtask_count = s->n;
    r->subtasks = calloc(s->n, sizeof *r->subtasks);
    uint64_t *load = calloc(3 * (size_t)s->n, sizeof *load);
    if (!r->subtasks || !load) {
        free(load);
        fail(s, SS_ENOMEM, "out of memory");
        return;
    }
    for (uint32_t i = 0; i < s->state.count; i++) {
        const state_entry *e = &s->state.entries[i];
        uint32_t t = s->owner[e->group];
        r->subtasks[t].keys++;
        r->subtasks[t].records += e->count;
        r->subtasks[t].state_bytes += 16 + key_bytes(s, e->key);
    }
    for (uint32_t i = 0; i < s->n; i++) {
        r->subtasks[i].worker = s->sub[i].worker;
        load[i] = r->subtasks[i].keys;
        load[s->n + i] = r->subtasks[i].records;
        load[2 * s->n + i] = r->subtasks[i].state_bytes;
    }
    metrics_balance_of(load, s->n, &r->keys_balance);
    metrics_balance_of(load + s->n, s->n, &r->records_balance);
    metrics_balance_of(load + 2 * s->n, s->n, &r->bytes_balance);
    free(load);
    r->checkpoints_completed = s->jm.completed_count;
    r->elections = s->elections;
    r->commits = s->commits;
    r->stale_commits = s->stale_commits;
    r->pointers_skipped = s->pointers_skipped;
    if (s->zk) {
        r->coord_ops = mock_ops_applied(s->zk);
        r->sessions_expired = mock_sessions_expired(s->zk);
        for (int t = 0; t < MOCK_OP_TYPES && t < SIM_COORD_TYPES; t++) {
            sim_coord_stat *c = &r->coord[t];
            snprintf(c->op, sizeof c->op, "%s", mock_op_name(t));
            c->count = mock_op_count(s->zk, t);
            c->p50_ns = mock_op_latency_ns(s->zk, t, 0.5);
            c->p99_ns = mock_op_latency_ns(s->zk, t, 0.99);
            c->max_ns = mock_op_latency_ns(s->zk, t, 1.0);
            if (hist_init(&c->h) != 0 || hist_merge(&c->h, mock_op_histogram(s->zk, t)) != 0)
                fail(s, SS_ENOMEM, "out of memory");
        }
    }
    r->checkpoint_bytes = 0;
    for (uint32_t i = 0; i < s->jm.completed.parallelism; i++)
        r->checkpoint_bytes += s->jm.completed.blob_len[i];
    /* the time series */
    size_t count = (size_t)(s->now / s->cfg->window_ns) + 1;
    r->windows = calloc(count, sizeof *r->windows);
    if (!r->windows) {
        fail(s, SS_ENOMEM, "out of memory");
        return;
    }
    r->window_count = count;
    uint64_t done_cum = 0, rolled = 0;
    for (size_t w = 0; w < count; w++) {
        sim_window *o = &r->windows[w];
        o->start_ns = w * s->cfg->window_ns;
        uint64_t end = o->start_ns + s->cfg->window_ns;
        if (w < s->window_count && s->windows[w].used) {
            window *x = &s->windows[w];
            o->records_in = x->in;
            o->records_done = x->done;
            done_cum += x->done;
            rolled += x->rolled_back;
            o->p50_ns = hist_quantile(&x->h, 0.5);
            o->p90_ns = hist_quantile(&x->h, 0.9);
            o->p99_ns = hist_quantile(&x->h, 0.99);
            o->p999_ns = hist_quantile(&x->h, 0.999);
            o->max_ns = x->h.count ? x->h.max : 0;
        }
        /* backlog: scheduled by the window's end, not yet done for good */
        uint64_t lo = 0, hi = s->total; /* records scheduled before `end` */
        while (lo < hi) {
            uint64_t mid = lo + (hi - lo) / 2;
            if (sched_ns(s, mid) < end)
                lo = mid + 1;
            else
                hi = mid;
        }
        uint64_t good = done_cum > s->replayed ? done_cum : 0;
        (void)rolled;
        o->backlog = lo > good ? lo - good : 0;
        for (size_t k = 0; k < r->failover_count; k++) {
            const sim_failover *f = &r->failovers[k];
            uint64_t up = f->restored_ns ? f->restored_ns : s->now;
            if (f->fault_ns < end && up > o->start_ns)
                o->down = 1;
        }
    }
}

static void sim_free(sim *s) {
    ha_free(s);
    queue_free(s->q);
    for (uint32_t i = 0; s->sub && i < s->n; i++)
        free(s->sub[i].ring);
    free(s->sub);
    part_free(s->part);
    state_free(&s->state);
    checkpoint_free(&s->jm.completed);
    checkpoint_free(&s->jm.pending);
    for (uint32_t i = 0; i < s->epoch_count; i++)
        hist_free(&s->epochs[i].h);
    for (size_t w = 0; w < s->window_count; w++)
        if (s->windows[w].used)
            hist_free(&s->windows[w].h);
    free(s->windows);
    free(s->alive);
    free(s->slots);
    free(s->source_worker);
    free(s->hb_phase);
    free(s->file_line_key);
    free(s->file_key_group);
    free(s->file_key_len);
}

int sim_run(const sim_config *cfg, uint64_t seed, uint32_t run, sim_result *out, char *err,
            size_t errlen) {
    memset(out, 0, sizeof *out);
    if (hist_init(&out->latency) != 0)
        return SS_ENOMEM;
    sim s;
    memset(&s, 0, sizeof s);
    s.cfg = cfg;
    s.seed = seed;
    s.run = run;
    s.r = out;
    s.err = err;
    s.errlen = errlen;
    if (errlen)
        err[0] = '\0';
    int rc = setup(&s);
    queue_event ev;
    /* Every event is bounded: the stream is finite and each incarnation ends. */
    while (rc == 0 && !s.failed && !s.finished && queue_pop(s.q, &ev) == 0) {
        s.now = ev.time_ns;
        s.events++;
        if (s.now > 10 * cfg->duration_ns + 86400000000000ULL) { /* every loop has a bound */
            fail(&s, SS_EINVAL, "the simulation did not finish within 10 x duration_s + 1 day");
            break;
        }
        /* a coordination timer's payload starts with pointers: fold only its two words */
        uint64_t what = ev.type == EV_ENV ? ev.payload.u64[2] ^ (ev.payload.u64[3] << 32)
                                          : ev.payload.u64[0] ^ (ev.payload.u64[1] << 32);
        s.digest = fold(fold(fold(s.digest, ev.time_ns), ev.type), what);
        handle(&s, &ev);
    }
    if (rc == 0 && !s.failed) {
        if (s.job != JOB_RUNNING)
            fail(&s, SS_EINVAL, "the job could not be restarted (no live slots left)");
        flush_all(&s, NEVER - 1);
        if (s.last_done_ns > s.now)
            s.now = s.last_done_ns;
        if (!s.failed)
            check_exactly_once(&s);
        if (!s.failed)
            fill_result(&s);
    }
    rc = rc ? rc : s.failed;
    sim_free(&s);
    if (rc != 0) {
        if (errlen && !err[0])
            snprintf(err, errlen, "%s", ss_strerror(rc));
        sim_result_free(out);
    }
    return rc;
}

void sim_result_free(sim_result *r) {
    hist_free(&r->latency);
    for (int t = 0; t < SIM_COORD_TYPES; t++)
        if (r->coord[t].op[0])
            hist_free(&r->coord[t].h);
    free(r->subtasks);
    free(r->windows);
    free(r->failovers);
    memset(r, 0, sizeof *r);
}
