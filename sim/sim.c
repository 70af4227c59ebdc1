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
 * checkpoint bookkeeping (ids, offsets, blobs) is struct jm_book; with a coordination
 * service (ha.c) the leader's ids, commits and restores go through it. The run's
 * state and what the three files share are in sim_internal.h; the result comes from
 * outcome.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/assert.h"
#include "core/error.h"
#include "core/grow.h"
#include "core/hash.h"
#include "core/place.h"
#include "sim/cli/keys_in.h"
#include "sim/faults.h"
#include "sim/sim_internal.h"

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

static uint32_t boundary_count(const sim *s) {
    return s->cfg->step_count + 1;
}

static double segment_rate(const sim *s, uint32_t k) {
    if (k == 0)
        return s->cfg->step_count && s->cfg->step_at_ns[0] == 0 ? s->cfg->step_rate[0]
                                                                : s->cfg->rate;
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

uint64_t sim_sched_ns(const sim *s, uint64_t offset) {
    uint32_t k = 0, segments = boundary_count(s);
    while (k + 1 < segments && s->step_cum[k + 1] <= offset)
        k++;
    double within = (double)(offset - s->step_cum[k]) * 1e9 / segment_rate(s, k);
    return boundary_ns(s, k) + (uint64_t)within;
}

/* The key and value of record `offset`: a pure function of (seed, run, offset). */
void sim_record_at(const sim *s, uint64_t offset, uint64_t *key, uint32_t *value) {
    prng r;
    prng_stream_from(&r, s->stream_base, ((uint64_t)RNG_RECORDS << 48) ^ offset);
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

uint32_t sim_group_of(const sim *s, uint64_t key) {
    if (s->cfg->key_dist == SIM_KEYS_FILE)
        return s->file_key_group[key];
    return part_group_of_int(s->part, (int32_t)(uint32_t)key);
}

uint32_t sim_key_bytes(const sim *s, uint64_t key) {
    return s->cfg->key_dist == SIM_KEYS_FILE ? s->file_key_len[key] : 4;
}

/* The mu of a lognormal with this mean: computed once per run, not per draw. */
static double lognormal_mu(double mean, double sigma) {
    return mean > 0 ? log(mean) - sigma * sigma / 2 : 0;
}

/* A draw of dist with this mean (lognormal: mu = lognormal_mu(mean, sigma)). */
static double draw(prng *r, int dist, double mean, double sigma, double mu) {
    switch (dist) {
    case SIM_DIST_CONSTANT:
        return mean;
    case SIM_DIST_EXPONENTIAL:
        return dist_exponential(r, mean);
    default: /* lognormal with the given mean */
        return mean > 0 ? dist_lognormal(r, mu, sigma) : 0;
    }
}

/* ---------- results bookkeeping ---------- */

static window *window_at(sim *s, uint64_t t_ns) {
    if (s->window_cached && t_ns - s->window_cached_ns < s->cfg->window_ns)
        return &s->windows[s->window_cached_index]; /* the last one asked for */
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
    s->window_cached = 1;
    s->window_cached_index = w;
    s->window_cached_ns = (uint64_t)w * s->cfg->window_ns;
    return x;
}

/* A record of epoch `from` processed in window w: counted until final. */
static void ledger_note(sim *s, uint64_t w, uint64_t from) {
    for (size_t k = s->ledger_count, seen = 0; k > 0 && seen < 8; k--, seen++) {
        ledger_entry *e = &s->ledger[k - 1];
        if (e->window == w && e->from_offset == from) {
            e->count++;
            return;
        }
    }
    if (ss_grow(&s->ledger, &s->ledger_cap, s->ledger_count + 1, sizeof *s->ledger) != 0) {
        s->failed = SS_ENOMEM;
        return;
    }
    s->ledger[s->ledger_count++] = (ledger_entry){w, from, 1};
}

/* Entries of epochs from `roll_from` on were rolled back: into their windows'
 * rolled_back. Entries of epochs before `keep_below` are final: forgotten. */
static void ledger_settle(sim *s, uint64_t keep_below, uint64_t roll_from) {
    size_t kept = 0;
    for (size_t k = 0; k < s->ledger_count; k++) {
        ledger_entry e = s->ledger[k];
        if (e.from_offset >= roll_from) {
            if (e.window < s->window_count)
                s->windows[e.window].rolled_back += e.count;
        } else if (e.from_offset >= keep_below) {
            s->ledger[kept++] = e;
        }
    }
    s->ledger_count = kept;
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
    ledger_settle(s, s->epochs[0].from_offset, NEVER);
}

/* A rollback to `offset`: samples of records at or after it will be replayed. */
static void drop_epochs_from(sim *s, uint64_t offset) {
    ledger_settle(s, 0, offset);
    while (s->epoch_count > 1 && s->epochs[s->epoch_count - 1].from_offset >= offset) {
        hist_free(&s->epochs[s->epoch_count - 1].h);
        s->epoch_count--;
    }
    if (s->epochs[0].from_offset >= offset)
        hist_reset(&s->epochs[0].h);
    s->epochs[0].from_offset =
        s->epochs[0].from_offset < offset ? s->epochs[0].from_offset : offset;
}

/* ---------- processing ---------- */

/* The job's state machine: running -> stopping (a savepoint for a rescale); running or
 * stopping -> down (a failure, or the savepoint done); down or waiting for slots ->
 * down (placed, restoring) or waiting for slots; down -> running (restored). */
static int job_edge_ok(int from, int to) {
    switch (to) {
    case JOB_STOPPING:
        return from == JOB_RUNNING;
    case JOB_DOWN:
        return from == JOB_RUNNING || from == JOB_STOPPING || from == JOB_DOWN ||
               from == JOB_WAIT_SLOTS;
    case JOB_WAIT_SLOTS:
        return from == JOB_DOWN || from == JOB_WAIT_SLOTS;
    case JOB_RUNNING:
        return from == JOB_DOWN;
    }
    return 0;
}

void sim_fail(sim *s, int code, const char *msg) {
    if (!s->failed) {
        s->failed = code;
        snprintf(s->err, s->errlen, "%s", msg);
    }
}

static void take_snapshot(sim *s, uint32_t i);

/* The ring slot k places after head (k <= cap, head < cap), without a division. */
static uint32_t ring_index(uint32_t head, uint32_t k, uint32_t cap) {
    uint32_t at = head + k;
    return at >= cap ? at - cap : at;
}

/* Apply the records of subtask i that are done by `until`, in FIFO order, taking a
 * pending snapshot first when the barrier passed before the next record. */
static void flush_subtask(sim *s, uint32_t i, uint64_t until) {
    subtask *t = &s->sub[i];
    uint32_t cap = s->cfg->queue_capacity;
    while (t->count) {
        pending_record *p = &t->ring[t->head];
        if (t->count > 2 * PREFETCH_AHEAD) /* the record further on */
            __builtin_prefetch(&t->ring[ring_index(t->head, 2 * PREFETCH_AHEAD, cap)]);
        if (t->count > PREFETCH_AHEAD) /* the state of the record a few places on */
            state_prefetch(&s->state, t->ring[ring_index(t->head, PREFETCH_AHEAD, cap)].key);
        if (t->snapshot_at_ns != NEVER && t->snapshot_at_ns < p->done_ns &&
            t->snapshot_at_ns <= until)
            take_snapshot(s, i);
        if (p->done_ns > until)
            break;
        /* FIFO: records leave in done order */
        SS_ASSERT_HOT(t->count <= cap);
        SS_ASSERT_HOT(t->count < 2 ||
                      t->ring[t->head + 1 == cap ? 0 : t->head + 1].done_ns >= p->done_ns);
        uint32_t group = state_group_of(&s->state, p->key); /* known unless new */
        if (group == UINT32_MAX)
            group = sim_group_of(s, p->key);
        SS_ASSERT_HOT(group == sim_group_of(s, p->key));
        if (state_add(&s->state, p->key, group, p->value) != 0) {
            sim_fail(s, SS_ENOMEM, "out of memory for keyed state");
            return;
        }
        SS_ASSERT_HOT(p->done_ns >= p->sched_ns); /* processed after it was emitted */
        uint64_t latency = p->done_ns - p->sched_ns;
        window *w = window_at(s, p->done_ns);
        if (w) {
            hist_record(&w->h, latency);
            w->done++;
        }
        epoch_hist *e = current_epoch(s, p->offset);
        hist_record(&e->h, latency);
        ledger_note(s, w ? (uint64_t)(w - s->windows) : p->done_ns / s->cfg->window_ns,
                    e->from_offset);
        if (!s->processed)
            s->first_done_ns = p->done_ns;
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

/* ---------- output buffers ---------- */

/* A record's bytes in a network buffer: its key and value, and Flink's 4-byte length. */
static uint64_t record_bytes(const sim *s, uint64_t key) {
    return sim_key_bytes(s, key) + 4 + 4;
}

/* Send channel (src -> i)'s buffer at `at`: each record crosses the network (zero
 * within a worker) and joins subtask i's FIFO queue. A full queue holds a record until
 * its oldest leaves (credit-based flow control) and stalls the source until then. */
static void send_buffer(sim *s, uint32_t src, uint32_t i, uint64_t at) {
    const sim_config *c = s->cfg;
    channel *ch = &s->channels[(size_t)src * s->n + i];
    subtask *t = &s->sub[i];
    uint32_t cap = c->queue_capacity;
    for (uint32_t k = 0; k < ch->count; k += 64 / sizeof *ch->rec) /* the buffer's lines */
        __builtin_prefetch(&ch->rec[k]);
    for (uint32_t k = 0; k < ch->count && !s->failed; k++) {
        const buffered_record *b = &ch->rec[k];
        pending_record p = {0, sim_sched_ns(s, b->offset), b->offset, b->key, b->value};
        state_prefetch(&s->state, p.key); /* its state is updated when it is done */
        double delay =
            s->source_worker[src] == t->worker
                ? 0
                : draw(&s->net_rng, c->net_dist, c->net_latency_ns, c->net_sigma, s->net_mu);
        /* a record leaves no earlier than the source emits it (a checkpoint barrier's
         * flush may come before records already buffered for the next tick) */
        uint64_t depart = at > p.sched_ns ? at : p.sched_ns;
        uint64_t arrival = depart + (uint64_t)delay;
        if (arrival < t->last_arrival_ns)
            arrival = t->last_arrival_ns; /* one channel: records arrive in order */
        if (t->count == cap)
            flush_subtask(s, i, arrival);
        if (t->count == cap) { /* still full: the record waits for room */
            arrival = t->ring[t->head].done_ns;
            flush_subtask(s, i, arrival);
            if (arrival > s->stall_until_ns)
                s->stall_until_ns = arrival;
        }
        /* one channel, one FIFO: arrivals in order, and room for this record */
        SS_ASSERT_HOT(arrival >= t->last_arrival_ns);
        SS_ASSERT_HOT(t->count < cap || s->failed);
        double service =
            draw(&s->service_rng, c->service_dist, c->service_ns, c->service_sigma, s->service_mu);
        uint64_t start = arrival > t->free_at_ns ? arrival : t->free_at_ns;
        p.done_ns = start + (uint64_t)service + 1; /* never zero: keeps FIFO strict */
        SS_ASSERT_HOT(p.done_ns > t->free_at_ns && p.done_ns > arrival); /* after the previous */
        t->free_at_ns = p.done_ns;
        t->last_arrival_ns = arrival;
        t->ring[ring_index(t->head, t->count, cap)] = p;
        t->count++;
    }
    s->buffered -= ch->count;
    s->src_buffered[src] -= ch->count;
    ch->count = 0;
    ch->bytes = 0;
}

static void update_flush_min(sim *s) {
    s->flush_min_ns = NEVER;
    for (uint32_t j = 0; j < s->cfg->sources; j++)
        if (s->src_buffered[j] && s->flush_next_ns[j] < s->flush_min_ns)
            s->flush_min_ns = s->flush_next_ns[j];
}

/* Send every buffer of source j at `at` (its flusher ran, or a barrier passed). */
static void send_source(sim *s, uint32_t j, uint64_t at) {
    for (uint32_t i = 0; s->src_buffered[j] && i < s->n; i++)
        if (s->channels[(size_t)j * s->n + i].count)
            send_buffer(s, j, i, at);
}

/* Run the output flushers due by `limit`, earliest first (ties: lowest source). */
static void flush_due(sim *s, uint64_t limit) {
    while (s->buffered && s->flush_min_ns <= limit && !s->failed) {
        uint32_t j = 0;
        while (!s->src_buffered[j] || s->flush_next_ns[j] != s->flush_min_ns)
            j++;
        send_source(s, j, s->flush_next_ns[j]);
        update_flush_min(s);
    }
}

/* Send every buffered record now (a checkpoint barrier follows them). */
static void send_all(sim *s) {
    for (uint32_t j = 0; s->buffered && j < s->cfg->sources; j++)
        send_source(s, j, s->now);
    update_flush_min(s);
}

/* Source j's first flusher run at or after t: its runs are flush_base_ns + phase +
 * k x buffer_timeout. */
static uint64_t next_flush(const sim *s, uint32_t j, uint64_t t) {
    uint64_t period = s->cfg->buffer_timeout_ns, first = s->flush_base_ns + s->flush_phase[j];
    if (t <= first)
        return first;
    return first + (t - first + period - 1) / period * period;
}

/* Put record p (for subtask i) into source j's buffer, emitted at `emit`; a full buffer,
 * or buffer_timeout_ms = 0, sends it at once. */
static void buffer_record(sim *s, uint32_t j, uint32_t i, buffered_record p, uint64_t emit) {
    channel *ch = &s->channels[(size_t)j * s->n + i];
    if (ss_grow(&ch->rec, &ch->cap, (size_t)ch->count + 1, sizeof *ch->rec) != 0) {
        sim_fail(s, SS_ENOMEM, "out of memory for network buffers");
        return;
    }
    ch->rec[ch->count++] = p;
    ch->bytes += record_bytes(s, p.key);
    s->buffered++;
    if (s->src_buffered[j]++ == 0 && s->cfg->buffer_timeout_ns) {
        s->flush_next_ns[j] = next_flush(s, j, emit);
        if (s->flush_next_ns[j] < s->flush_min_ns)
            s->flush_min_ns = s->flush_next_ns[j];
    }
    if (!s->cfg->buffer_timeout_ns || ch->bytes >= s->cfg->buffer_bytes) {
        send_buffer(s, j, i, emit);
        update_flush_min(s);
    }
}

/* Drop every buffered record (the job stopped): counted in window `w`. */
static void drop_buffers(sim *s, window *w) {
    for (size_t k = 0; k < s->channel_count; k++) {
        if (w)
            w->dropped += s->channels[k].count;
        s->channels[k].count = 0;
        s->channels[k].bytes = 0;
    }
    memset(s->src_buffered, 0, s->cfg->sources * sizeof *s->src_buffered);
    s->buffered = 0;
    s->flush_min_ns = NEVER;
}

/* (Re)make the sources x n buffers, empty (set-up, and a rescale's new n). */
static int channels_make(sim *s) {
    for (size_t k = 0; k < s->channel_count; k++)
        free(s->channels[k].rec);
    free(s->channels);
    s->channel_count = (size_t)s->cfg->sources * s->n;
    s->channels = calloc(s->channel_count, sizeof *s->channels);
    if (!s->channels)
        s->channel_count = 0;
    s->buffered = 0;
    s->flush_min_ns = NEVER;
    return s->channels ? 0 : SS_ENOMEM;
}

/* The source that emits record `offset` (offset mod sources): one step on from the
 * last record's in the common case, without a division. */
static uint32_t source_of(sim *s, uint64_t offset) {
    uint32_t src;
    if (s->src_cached && offset == s->src_cached_offset + 1)
        src = s->src_cached_src + 1 == s->cfg->sources ? 0 : s->src_cached_src + 1;
    else
        src = (uint32_t)(offset % s->cfg->sources);
    s->src_cached = 1;
    s->src_cached_offset = offset;
    s->src_cached_src = src;
    return src;
}

/* Emit records whose emission time is at most `until` into the output buffers, and
 * run the flushers due by then. */
static void emit_until(sim *s, uint64_t until) {
    while (s->offset < s->total && s->job == JOB_RUNNING && !s->failed) {
        uint64_t sched = sim_sched_ns(s, s->offset);
        uint64_t emit = sched > s->stall_until_ns ? sched : s->stall_until_ns;
        if (emit > until)
            break;
        flush_due(s, emit);
        if (s->stall_until_ns > emit)
            continue; /* a send found a full queue: the source waits */
        uint64_t key;
        uint32_t value;
        sim_record_at(s, s->offset, &key, &value);
        uint32_t group = sim_group_of(s, key), i = s->owner[group];
        uint32_t src = source_of(s, s->offset);
        window *w = window_at(s, emit);
        if (w)
            w->in++;
        if (s->offset >= s->max_emitted) {
            s->source_digest =
                fold(fold(fold(s->source_digest, s->offset), key), ((uint64_t)value << 40) ^ sched);
            s->max_emitted = s->offset + 1;
            sim_ref_note(s, group, key, value); /* the exactly-once reference */
        }
        if (s->awaiting_catch_up && emit == sched && s->open_failover) {
            s->open_failover->caught_up_ns = emit;
            s->awaiting_catch_up = 0;
        }
        buffered_record p = {s->offset, (uint32_t)key, value};
        s->offset++;
        SS_ASSERT_HOT(s->offset <= s->total && i < s->n);
        buffer_record(s, src, i, p, emit);
    }
    if (s->job == JOB_RUNNING)
        flush_due(s, until);
}

/* ---------- checkpoints (the job manager) ---------- */

void sim_checkpoint_free(checkpoint *c) {
    for (uint32_t i = 0; c->blobs && i < c->parallelism; i++)
        state_blob_free(&c->blobs[i]);
    free(c->blobs);
    state_hold_free(&c->covered);
    memset(c, 0, sizeof *c);
}

int sim_push(sim *s, uint64_t at, uint32_t type, uint64_t a, uint64_t b) {
    uint64_t payload[3] = {a, b, s->epoch_no};
    int rc = queue_push(s->q, at, type, payload, sizeof payload, NULL);
    if (rc)
        sim_fail(s, rc, "out of memory for events");
    return rc;
}

/* Trigger a checkpoint (stop: a savepoint that stops the job for a rescale). Its id
 * comes from the job manager's counter, or with a coordination service from the
 * checkpoint_id_counter znode, as Flink's does. 1 if triggered or asked for. */
static int trigger_checkpoint(sim *s, int stop, uint32_t rescale_to) {
    if (s->job != JOB_RUNNING || s->jm.pending.id || (s->ha && ha_id_requested(s->ha)) ||
        (s->ha && !ha_leader_can_act(s->ha)))
        return 0;
    if (s->ha)
        return ha_request_checkpoint_id(s->ha, stop, rescale_to);
    sim_start_checkpoint(s, ++s->jm.next_id, stop, rescale_to);
    return 1;
}

void sim_start_checkpoint(sim *s, uint32_t id, int stop, uint32_t rescale_to) {
    emit_until(s, s->now);
    send_all(s); /* the barrier follows the records: it sends the partly filled buffers */
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
    if (!c->blobs || state_hold_init(&c->covered, s->n) != 0) {
        sim_fail(s, SS_ENOMEM, "out of memory for a checkpoint");
        return;
    }
    if (open_epoch(s, c->offset) != 0) {
        sim_fail(s, SS_ENOMEM, "out of memory");
        return;
    }
    SS_ASSERT(c->offset <= s->total && s->offset <= s->max_emitted);
    if (stop) {
        SS_ASSERT(job_edge_ok(s->job, JOB_STOPPING));
        s->job = JOB_STOPPING; /* stop with savepoint: sources emit nothing more */
    }
    for (uint32_t i = 0; i < s->n; i++) {
        subtask *t = &s->sub[i];
        uint64_t barrier = s->now > t->last_arrival_ns ? s->now : t->last_arrival_ns;
        t->last_arrival_ns = barrier;
        t->snapshot_at_ns = barrier > t->free_at_ns ? barrier : t->free_at_ns;
        t->snapshot_id = c->id;
        sim_push(s, t->snapshot_at_ns, EV_SNAPSHOT, i, c->id);
    }
}

/* The key groups subtask i's snapshot covers, into c->covered: the groups it holds
 * (mutation snapshot-drops-group: subtask 0 leaves out its lowest non-empty one). */
static int snapshot_groups(sim *s, uint32_t i, checkpoint *c) {
    uint32_t count = s->hold.count[i], *list = malloc((count ? count : 1) * sizeof *list);
    if (!list)
        return SS_ENOMEM;
    memcpy(list, s->hold.groups[i], count * sizeof *list);
    if (s->cfg->mutations & SIM_MUT_SNAPSHOT_DROPS_GROUP && i == 0) {
        uint32_t k = 0;
        while (k < count && state_group_empty(&s->state, list[k]))
            k++;
        if (k < count)
            memmove(list + k, list + k + 1, (--count - k) * sizeof *list);
    }
    free(c->covered.groups[i]);
    c->covered.groups[i] = list;
    c->covered.count[i] = count;
    return 0;
}

static void take_snapshot(sim *s, uint32_t i) {
    subtask *t = &s->sub[i];
    checkpoint *c = &s->jm.pending;
    uint64_t at = t->snapshot_at_ns;
    t->snapshot_at_ns = NEVER;
    if (c->id != t->snapshot_id)
        return;
    SS_ASSERT(i < c->parallelism && c->remaining > 0 && c->remaining <= c->parallelism);
    SS_ASSERT(i < s->hold.n);
    if (snapshot_groups(s, i, c) != 0 ||
        state_snapshot_blob(&s->state, c->covered.groups[i], c->covered.count[i], &c->blobs[i]) !=
            0) {
        sim_fail(s, SS_ENOMEM, "out of memory for a snapshot");
        return;
    }
    state_blob *b = &c->blobs[i];
    if (s->cfg->debug_corrupt_checkpoint && c->id == 1 && b->len > 0 &&
        state_blob_flip(b, b->len / 2, 0x40) != 0) {
        sim_fail(s, SS_ENOMEM, "out of memory for a snapshot");
        return;
    }
    uint64_t written = at + (uint64_t)((double)b->len * 1e9 / s->cfg->snapshot_bytes_per_s);
    if (written > c->done_ns)
        c->done_ns = written;
    if (--c->remaining == 0)
        sim_push(s, c->done_ns, EV_CHECKPOINT_DONE, c->id, 0);
}

static void finish_rescale(sim *s);
static void resume(sim *s, uint64_t at, uint64_t from);
static uint32_t checkpoint_crc(sim *s, const checkpoint *ck);

/* Every snapshot is written: with a coordination service the leader commits the
 * pointer first, and the checkpoint completes when that commit succeeds. */
static void checkpoint_done(sim *s, uint32_t id) {
    checkpoint *c = &s->jm.pending;
    if (c->id != id)
        return;
    if (s->ha) {
        ha_commit(s->ha, id, c->offset, checkpoint_crc(s, c));
        return;
    }
    sim_complete_checkpoint(s);
}

void sim_complete_checkpoint(sim *s) {
    checkpoint *c = &s->jm.pending;
    /* every snapshot written, and it covers no record the sources have not reached */
    SS_ASSERT(c->id && c->remaining == 0 && c->offset <= s->offset);
    sim_checkpoint_free(&s->jm.completed);
    s->jm.completed = *c;
    memset(c, 0, sizeof *c);
    s->jm.completed_count++;
    commit_epochs(s, s->jm.completed.offset);
    if (s->jm.completed.stop)
        finish_rescale(s); /* stop-with-savepoint done: move state, resume */
}

/* ---------- failures ---------- */

sim_failover *sim_new_failover(sim *s, const char *kind, uint32_t target) {
    sim_result *r = s->r;
    if (ss_grow(&r->failovers, &s->failover_cap, r->failover_count + 1, sizeof *r->failovers) !=
        0) {
        sim_fail(s, SS_ENOMEM, "out of memory");
        return NULL;
    }
    sim_failover *f = &r->failovers[r->failover_count++];
    memset(f, 0, sizeof *f);
    snprintf(f->kind, sizeof f->kind, "%s", kind);
    f->target = target;
    f->fault_ns = s->now;
    return f;
}

/* Everything in flight is lost; the job is down from now. */
void sim_stop_job(sim *s) {
    flush_all(s, s->now);
    window *w = window_at(s, s->now);
    drop_buffers(s, w);
    for (uint32_t i = 0; i < s->n; i++) {
        subtask *t = &s->sub[i];
        if (w)
            w->dropped += t->count;
        t->count = 0;
        t->head = 0;
        t->snapshot_at_ns = NEVER;
    }
    sim_checkpoint_free(&s->jm.pending);
    if (s->ha && ha_job_stopped(s->ha)) /* the rescale it served is tried again */
        sim_push(s, s->now + s->cfg->window_ns, EV_FAULT, s->rescale_fault, 0);
    s->epoch_no++; /* events of the old incarnation are ignored from now on */
    SS_ASSERT(s->job == JOB_RUNNING || s->job == JOB_STOPPING);
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

/* worker_detection rpc: heartbeats go on at the worker's phase; the dead process refuses
 * each at once, and the heartbeat_rpc_failures-th refused one declares it lost (one at
 * the crash instant was answered). */
static uint64_t rpc_detection_time(const sim *s, uint32_t w, uint64_t crash) {
    uint64_t interval = s->cfg->heartbeat_interval_ns, phase = s->hb_phase[w];
    uint64_t first = crash < phase ? phase : phase + ((crash - phase) / interval + 1) * interval;
    return first + (uint64_t)(s->cfg->heartbeat_rpc_failures - 1) * interval;
}

/* Did worker w's tasks exchange records with another worker (network channels, whose
 * connections break when it dies)? Sources send to every keyed subtask. */
static int has_network_channels(const sim *s, uint32_t w) {
    int source_here = 0, source_away = 0, task_here = 0, task_away = 0;
    for (uint32_t j = 0; j < s->cfg->sources; j++)
        *(s->source_worker[j] == w ? &source_here : &source_away) = 1;
    for (uint32_t i = 0; i < s->n; i++)
        *(s->sub[i].worker == w ? &task_here : &task_away) = 1;
    return (source_here && task_away) || (task_here && source_away);
}

/* When the job manager notices worker w's crash at `crash` by the Flink detectors of
 * worker_detection: the earliest of them (NEVER: none applies). */
static uint64_t flink_detection_time(const sim *s, uint32_t w, uint64_t crash) {
    unsigned modes = s->cfg->worker_detect;
    uint64_t at = NEVER, t;
    if (modes & SIM_DETECT_BY_HEARTBEAT && (t = detection_time(s, w, crash)) < at)
        at = t;
    if (modes & SIM_DETECT_BY_RPC && (t = rpc_detection_time(s, w, crash)) < at)
        at = t;
    if (modes & SIM_DETECT_BY_CONNECTION && has_network_channels(s, w) &&
        (t = crash + s->cfg->connection_detect_ns) < at)
        at = t;
    return at;
}

uint64_t sim_restart_delay(sim *s) {
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
    uint64_t detect = flink_detection_time(s, w, s->now); /* before anything moves */
    s->alive[w] = 0;
    int affected = 0;
    for (uint32_t i = 0; i < s->n; i++)
        affected |= s->sub[i].worker == w;
    for (uint32_t i = 0; i < s->cfg->sources; i++)
        affected |= s->source_worker[i] == w;
    if (!affected || s->job != JOB_RUNNING)
        return;
    sim_failover *f = sim_new_failover(s, "crash-worker", w);
    if (!f)
        return;
    s->failed_offset = s->offset;
    sim_stop_job(s);
    s->open_failover = f;
    s->consecutive_failures++;
    /* noticed at the earliest of the detectors configured */
    if (s->cfg->worker_detect & SIM_DETECT_BY_SESSION)
        ha_worker_crashed(s->ha, w); /* when its ephemeral node goes */
    if (detect != NEVER)
        sim_push(s, detect, EV_DETECT, w, 0);
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

/* Invariant key-groups at a restore: checkpoint c covers every key group exactly once
 * among its subtasks' blobs. */
static void check_checkpoint_groups(sim *s, const checkpoint *c) {
    uint32_t bad = 0, holders = 0, who[2];
    int ok = state_hold_check(&c->covered, NULL, s->groups, &bad, &holders, who);
    if (ok < 0)
        sim_fail(s, SS_ENOMEM, "out of memory");
    else if (!ok && holders == 0)
        sim_violate(s, s->now, "key-groups",
                    "restore of checkpoint %u (offset %llu): key group %u is in none of its %u "
                    "subtask snapshots",
                    c->id, (unsigned long long)c->offset, bad, c->parallelism);
    else if (!ok)
        sim_violate(s, s->now, "key-groups",
                    "restore of checkpoint %u (offset %llu): key group %u is in %u subtask "
                    "snapshots (subtasks %u and %u)",
                    c->id, (unsigned long long)c->offset, bad, holders, who[0], who[1]);
}

/* Invariant key-groups when the owner table changes (start, restore, rescale): every
 * key group is held by exactly one running subtask, the one the partitioner routes its
 * keys to. O(groups). */
static void check_owners(sim *s, const char *when) {
    uint32_t bad = 0, holders = 0, who[2];
    int ok = state_hold_check(&s->hold, s->owner, s->groups, &bad, &holders, who);
    if (ok < 0)
        sim_fail(s, SS_ENOMEM, "out of memory");
    else if (!ok)
        sim_violate(s, s->now, "key-groups",
                    "%s: key group %u is held by %u of the %u running subtasks (first %d, %d), "
                    "routed to subtask %u",
                    when, bad, holders, s->n, (int)who[0], (int)who[1], s->owner[bad]);
}

/* Restore the state of checkpoint c (NULL: none, empty state); returns the bytes read per subtask
 * at most (restore runs in parallel), or sets an error. Each subtask then holds the key
 * groups the partitioner gives it, whatever the parallelism the checkpoint was taken at. */
static uint64_t restore_state(sim *s, const checkpoint *c, uint64_t *total_bytes) {
    if (c && c->id)
        check_checkpoint_groups(s, c);
    state_clear(&s->state);
    uint64_t max_bytes = 0;
    *total_bytes = 0;
    for (uint32_t i = 0; c && c->id && i < c->parallelism; i++) {
        if (state_restore_blob(&s->state, &c->blobs[i]) != 0) {
            char msg[128];
            snprintf(msg, sizeof msg, "checkpoint %u: CRC32C mismatch in subtask %u's state blob",
                     c->id, i);
            sim_fail(s, SS_EINVAL, msg);
            return 0;
        }
        *total_bytes += c->blobs[i].len;
        max_bytes = c->blobs[i].len > max_bytes ? c->blobs[i].len : max_bytes;
    }
    if (state_hold_from_owners(&s->hold, s->owner, s->groups, s->n) != 0)
        sim_fail(s, SS_ENOMEM, "out of memory");
    else
        check_owners(s, "restore");
    return max_bytes;
}

/* The fixed cost of every restart and rescale before state is read: the tasks are
 * deployed and their state backends start. */
static uint64_t restart_cost_ns(const sim *s) {
    return s->cfg->deploy_ns + s->cfg->state_backend_start_ns;
}

/* The keys of key group g's state and their bytes (16 + the key each). */
static void group_state(const sim *s, uint32_t g, uint64_t *keys, uint64_t *bytes) {
    *keys = *bytes = 0;
    for (uint32_t e = state_head(&s->state, g); e != STATE_END; e = state_next(&s->state, g, e)) {
        ++*keys;
        *bytes += 16 + sim_key_bytes(s, state_at(&s->state, g, e).key);
    }
}

/* The rows of sim_result.moves for the rescale of failover f to n_new subtasks, one per
 * subtask of the larger parallelism, zeroed; NULL when out of memory. */
static sim_rescale_move *rescale_rows(sim *s, const sim_failover *f, uint32_t n_new) {
    sim_result *r = s->r;
    uint32_t count = n_new > s->n ? n_new : s->n;
    sim_rescale_move *moves = realloc(r->moves, (r->move_count + count) * sizeof *moves);
    if (!moves)
        return NULL;
    r->moves = moves;
    sim_rescale_move *rows = moves + r->move_count;
    for (uint32_t i = 0; i < count; i++)
        rows[i] = (sim_rescale_move){.failover = (uint32_t)(f - r->failovers),
                                     .from_parallelism = s->n,
                                     .to_parallelism = n_new,
                                     .subtask = i};
    r->move_count += count;
    return rows;
}

/* Move keyed state group by group through the rescale plan: each moved group's entries
 * leave their old subtask's state and join the new one's; their bytes per new subtask
 * into in[], the totals into *moved_total and f, the keys and bytes each subtask gives
 * and takes into sim_result.moves. Mutation group-two-owners: the first moved group
 * stays with its old subtask too (or goes to a second new one). */
static int move_groups(sim *s, const part_plan *plan, uint32_t n_new, uint64_t *in,
                       uint64_t *moved_total, sim_failover *f) {
    sim_rescale_move *rows = rescale_rows(s, f, n_new);
    if (!rows)
        return SS_ENOMEM;
    for (uint32_t k = 0; k < plan->count; k++) {
        const part_move *m = &plan->moves[k];
        uint64_t keys, bytes;
        group_state(s, m->group, &keys, &bytes);
        in[m->to] += bytes;
        *moved_total += bytes;
        f->keys_moved += keys;
        rows[m->from].keys_out += keys;
        rows[m->from].bytes_out += bytes;
        rows[m->to].keys_in += keys;
        rows[m->to].bytes_in += bytes;
    }
    f->groups_moved = plan->count;
    if (state_hold_move(&s->hold, plan, s->groups, n_new) != 0)
        return SS_ENOMEM;
    if (s->cfg->mutations & SIM_MUT_GROUP_TWO_OWNERS && plan->count) {
        const part_move *m = &plan->moves[0];
        return state_hold_add(&s->hold, m->from < n_new ? m->from : (m->to + 1) % n_new, m->group);
    }
    return 0;
}

/* Rescale the partitioner to n_new subtasks through its rescale plan, moving the state
 * of the groups that change owner: the bytes, keys and groups moved into *moved_total
 * and f; returns the most bytes one new subtask takes in. */
static uint64_t rescale_partitioner(sim *s, uint32_t n_new, uint64_t *moved_total,
                                    sim_failover *f) {
    part *np;
    part_plan plan = {0};
    if (part_rescaled(s->part, n_new, &np) != 0) {
        sim_fail(s, SS_EINVAL, "cannot rescale the partitioner");
        return 0;
    }
    if (part_plan_rescale(s->part, np, &plan) != 0) {
        part_free(np);
        sim_fail(s, SS_EINVAL, "cannot plan the rescale");
        return 0;
    }
    uint64_t *in = calloc(n_new, sizeof *in), max_in = 0;
    *moved_total = 0;
    if (!in || move_groups(s, &plan, n_new, in, moved_total, f) != 0) {
        free(in);
        part_plan_free(&plan);
        part_free(np);
        sim_fail(s, SS_ENOMEM, "out of memory");
        return 0;
    }
    part_plan_free(&plan);
    for (uint32_t i = 0; i < n_new; i++)
        max_in = in[i] > max_in ? in[i] : max_in;
    free(in);
    for (uint32_t i = n_new; i < s->n; i++) { /* scaling in: the removed subtasks' queues */
        free(s->sub[i].ring);
        s->sub[i].ring = NULL;
    }
    subtask *sub = realloc(s->sub, n_new * sizeof *sub);
    if (!sub) {
        part_free(np);
        sim_fail(s, SS_ENOMEM, "out of memory");
        return 0;
    }
    for (uint32_t i = s->n; i < n_new; i++) {
        memset(&sub[i], 0, sizeof sub[i]);
        sub[i].worker = UINT32_MAX;
        sub[i].ring = malloc(s->cfg->queue_capacity * sizeof *sub[i].ring);
        if (!sub[i].ring)
            sim_fail(s, SS_ENOMEM, "out of memory");
    }
    s->sub = sub;
    part_free(s->part);
    s->part = np;
    s->owner = part_owners(np);
    s->n = n_new;
    /* every key group has exactly one owner, a subtask of the new parallelism */
    SS_ASSERT(part_groups(np) == s->groups && part_parallelism(np) == n_new);
    for (uint32_t g = 0; g < s->groups; g++)
        SS_ASSERT(s->owner[g] < n_new);
    char when[48];
    snprintf(when, sizeof when, "rescale to %u", n_new);
    check_owners(s, when);
    return max_in;
}

/* The savepoint of a rescale is complete: re-partition, move the groups that change
 * owner (time = the largest inflow / bandwidth), place, and resume at the savepoint. */
static void finish_rescale(sim *s) {
    checkpoint *c = &s->jm.completed;
    uint64_t from = c->offset;
    sim_stop_job(s);
    sim_failover *f = sim_new_failover(s, "rescale", c->rescale_to);
    if (!f)
        return;
    f->fault_ns = c->trigger_ns; /* the job stopped taking records then */
    f->detected_ns = s->now;
    f->restarted_ns = s->now;
    f->checkpoint_id = c->id;
    uint64_t moved = 0, max_in = rescale_partitioner(s, c->rescale_to, &moved, f);
    c->stop = 0;
    if (!s->failed && channels_make(s) != 0)
        sim_fail(s, SS_ENOMEM, "out of memory for network buffers");
    uint32_t placed;
    if (s->failed || replace(s, s->n, &placed) != 0) {
        sim_fail(s, SS_EINVAL, "not enough slots to rescale");
        return;
    }
    f->bytes_restored = moved;
    s->open_failover = f;
    s->failed_offset = from;
    s->restore_offset = from;
    resume(s,
           s->now + restart_cost_ns(s) +
               (uint64_t)((double)max_in * 1e9 / s->cfg->restore_bytes_per_s),
           from);
}

/* Resume processing at `at` from offset `from`; with a coordinated assignment the
 * workers deploy and restore only once they have seen the new placement in the service:
 * the same time after that. */
static void resume(sim *s, uint64_t at, uint64_t from) {
    if (!s->cfg->coordinated_assignment || !s->ha) {
        sim_push(s, at, EV_RESTORED, from, 0);
        return;
    }
    s->resume_after_ns = at - s->now; /* the workers deploy and restore once they see it */
    s->resume_from = from;
    s->awaiting_epoch = s->epoch_no;
    ha_publish_assignment(s->ha);
}

/* The restart strategy's delay has passed: place, restore, then resume. */
static void on_restart(sim *s) {
    sim_failover *f = s->open_failover;
    uint32_t moved;
    int rc = replace(s, s->n, &moved);
    if (rc == SS_ERANGE) {
        SS_ASSERT(job_edge_ok(s->job, JOB_WAIT_SLOTS));
        s->job = JOB_WAIT_SLOTS; /* resumes when a worker comes back */
        return;
    }
    if (rc) {
        sim_fail(s, rc, "placement failed");
        return;
    }
    if (f && !f->restarted_ns)
        f->restarted_ns = s->now;
    SS_ASSERT(job_edge_ok(s->job, JOB_DOWN));
    s->job = JOB_DOWN;
    if (s->ha)
        ha_read_latest_checkpoint(s->ha); /* the leader finds it in the service */
    else
        sim_restore_from(s, &s->jm.completed);
}

/* Restore checkpoint c (NULL or id 0: none, start over) and resume from its offset. */
void sim_restore_from(sim *s, const checkpoint *c) {
    sim_failover *f = s->open_failover;
    uint64_t total = 0, max_bytes = restore_state(s, c, &total);
    if (s->failed)
        return;
    uint64_t from = c && c->id ? c->offset : 0;
    s->restore_offset = from;
    /* mutation no-rewind (and the older test switch): the sources go on from the failure */
    if (s->cfg->debug_skip_replay || s->cfg->mutations & SIM_MUT_NO_REWIND)
        from = s->failed_offset;
    if (f) {
        f->bytes_restored = total;
        f->checkpoint_id = c ? c->id : 0;
    }
    resume(s,
           s->now + restart_cost_ns(s) +
               (uint64_t)((double)max_bytes * 1e9 / s->cfg->restore_bytes_per_s),
           from);
}

/* Invariant replay, when a failover's job resumes: the records replayed are those from
 * the restored checkpoint's offset up to the offset the job failed at (0 for a rescale,
 * which resumes at its savepoint). */
static void check_replay(sim *s, const sim_failover *f) {
    uint64_t failed = s->failed_offset, restored = s->restore_offset;
    uint64_t want = failed >= restored ? failed - restored : 0;
    if (failed < restored || f->records_replayed != want)
        sim_violate(s, s->now, "replay",
                    "%s at %.3f s: %llu records replayed; failed at offset %llu, restored "
                    "checkpoint %llu at offset %llu: want %llu",
                    f->kind, (double)f->fault_ns / 1e9, (unsigned long long)f->records_replayed,
                    (unsigned long long)failed, (unsigned long long)f->checkpoint_id,
                    (unsigned long long)restored, (unsigned long long)want);
}

static void on_restored(sim *s, uint64_t from) {
    sim_failover *f = s->open_failover;
    /* the sources rewind to a record they already emitted (or to the start) */
    SS_ASSERT(from <= s->max_emitted && s->max_emitted <= s->total);
    drop_epochs_from(s, from);
    if (f) {
        f->restored_ns = s->now;
        f->records_replayed = s->failed_offset > from ? s->failed_offset - from : 0;
        s->replayed += f->records_replayed;
        check_replay(s, f);
    }
    s->offset = from;
    s->stall_until_ns = s->now;
    s->flush_base_ns = s->now; /* the output flushers start with the tasks */
    for (uint32_t i = 0; i < s->n; i++) {
        s->sub[i].free_at_ns = s->now;
        s->sub[i].last_arrival_ns = s->now;
        s->sub[i].count = 0;
        s->sub[i].head = 0;
        s->sub[i].snapshot_at_ns = NEVER;
    }
    SS_ASSERT(job_edge_ok(s->job, JOB_RUNNING));
    s->job = JOB_RUNNING;
    s->awaiting_catch_up = 1;
    sim_push(s, s->now + TICK_NS, EV_TICK, 0, 0);
    if (s->cfg->checkpoint_interval_ns)
        sim_push(s, s->now + s->cfg->checkpoint_interval_ns, EV_CHECKPOINT, 0, 0);
}

static void on_fault(sim *s, uint32_t index) {
    const sim_fault *f = &s->faults[index];
    switch (f->kind) {
    case SIM_FAULT_CRASH_WORKER:
        crash_worker(s, f->target);
        break;
    case SIM_FAULT_RESTART_WORKER:
        s->alive[f->target] = 1;
        if (s->ha)
            ha_worker_back(s->ha, f->target);
        if (s->job == JOB_WAIT_SLOTS)
            on_restart(s);
        break;
    case SIM_FAULT_RESCALE: /* a stop-with-savepoint, retried shortly if one cannot start now */
        s->rescale_fault = index;
        if (!trigger_checkpoint(s, 1, f->target))
            sim_push(s, s->now + s->cfg->window_ns, EV_FAULT, index, 0);
        break;
    default: /* the coordination service's and the job managers' */
        ha_fault(s->ha, f);
    }
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
        if (s->offset < s->total || s->buffered || s->jm.pending.id ||
            (s->ha && ha_id_requested(s->ha)))
            sim_push(s, s->now + TICK_NS, EV_TICK, 0, 0);
        else
            s->finished = 1; /* the coordination service's timers would run forever */
        break;
    case EV_CHECKPOINT:
        if (!current || s->job != JOB_RUNNING)
            return;
        trigger_checkpoint(s, 0, 0);
        if (s->offset < s->total)
            sim_push(s, s->now + s->cfg->checkpoint_interval_ns, EV_CHECKPOINT, 0, 0);
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
            sim_push(s, s->now + sim_restart_delay(s), EV_RESTART, 0, 0);
        }
        break;
    case EV_RESTART:
        on_restart(s);
        break;
    case EV_RESTORED:
        if (current)
            on_restored(s, a);
        break;
    case EV_ENV:
        sim_env_timer(s, ev);
        break;
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
    char *line = NULL;
    size_t cap = 0, group_cap = 0, len_cap = 0, line_cap = 0;
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
        uint64_t h = ((uint64_t)hash_crc32c(line, (size_t)len) << 32) |
                     hash_murmur3_32(line, (size_t)len, 7);
        const state_entry *e = state_find(&seen, h);
        uint32_t id;
        if (e) {
            id = (uint32_t)e->sum;
        } else {
            id = s->file_keys;
            if (ss_grow(&s->file_key_group, &group_cap, id + 1, sizeof *s->file_key_group) ||
                ss_grow(&s->file_key_len, &len_cap, id + 1, sizeof *s->file_key_len) ||
                state_add(&seen, h, 0, id) != 0) {
                rc = SS_ENOMEM;
                break;
            }
            s->file_keys++;
            s->file_key_group[id] = part_group_of_bytes(s->part, line, (size_t)len);
            s->file_key_len[id] = (uint32_t)len;
        }
        if (ss_grow(&s->file_line_key, &line_cap, s->file_lines + 1, sizeof *s->file_line_key)) {
            rc = SS_ENOMEM;
            break;
        }
        s->file_line_key[s->file_lines++] = id;
    }
    if (rc == 0 && s->file_lines == 0) {
        snprintf(s->err, s->errlen, "key_file: '%s' has no keys", s->cfg->key_file);
        rc = SS_EINVAL;
    }
    free(line);
    state_free(&seen);
    fclose(f);
    return rc;
}

/* ---------- the job model as the HA sees it (sim/ha.h) ---------- */

/* The CRC32C of a checkpoint's blobs (their canonical bytes), in subtask order: what
 * its pointer carries. Regenerated from the compact blobs: out of memory fails the run. */
static uint32_t checkpoint_crc(sim *s, const checkpoint *ck) {
    uint32_t crc = 0;
    if (state_blobs_crc(ck->blobs, ck->parallelism, &crc) != 0)
        sim_fail(s, SS_ENOMEM, "out of memory for a checkpoint's CRC32C");
    return crc;
}

static uint64_t job_incarnation(void *ctx) {
    return ((sim *)ctx)->epoch_no;
}

static int job_down(void *ctx) {
    return ((sim *)ctx)->job == JOB_DOWN;
}

static void job_checkpoint_id(void *ctx, uint32_t id, int stop, uint32_t rescale_to, int can_act) {
    sim *s = ctx;
    if (id && s->job == JOB_RUNNING && !s->jm.pending.id && can_act)
        sim_start_checkpoint(s, id, stop, rescale_to);
    else if (stop) /* the rescale waits for the next chance */
        sim_push(s, s->now + s->cfg->window_ns, EV_FAULT, s->rescale_fault, 0);
}

static int job_committed(void *ctx, uint32_t id, uint64_t incarnation, uint32_t *subsumed) {
    sim *s = ctx;
    if (incarnation != s->epoch_no || s->jm.pending.id != id)
        return 0;
    *subsumed = s->jm.completed.id;
    sim_complete_checkpoint(s);
    return 1;
}

static void job_commit_failed(void *ctx, uint32_t id, uint64_t incarnation) {
    sim *s = ctx;
    if (incarnation == s->epoch_no && s->jm.pending.id == id)
        sim_checkpoint_free(&s->jm.pending);
}

static int job_has_checkpoint(void *ctx, uint32_t id, uint64_t offset, uint32_t crc) {
    sim *s = ctx;
    const checkpoint *c = &s->jm.completed;
    return c->id && c->id == id && c->offset == offset && checkpoint_crc(s, c) == crc;
}

static void job_restore(void *ctx, int found) {
    sim *s = ctx;
    sim_restore_from(s, found ? &s->jm.completed : NULL);
}

static void job_restart(void *ctx, int now) {
    sim *s = ctx;
    sim_push(s, now ? s->now : s->now + sim_restart_delay(s), EV_RESTART, 0, 0);
}

static int job_leader_changed(void *ctx, uint32_t jm, uint64_t fault_ns, uint64_t detected_ns,
                              uint64_t elected_ns) {
    sim *s = ctx;
    if (s->job != JOB_RUNNING && s->job != JOB_STOPPING)
        return 0;
    sim_failover *f = sim_new_failover(s, "leader-change", jm);
    if (!f)
        return 1;
    f->fault_ns = fault_ns;
    f->detected_ns = detected_ns;
    f->elected_ns = elected_ns;
    s->failed_offset = s->offset;
    sim_stop_job(s);
    s->open_failover = f;
    s->consecutive_failures++;
    /* Flink's new leader recovers the job as soon as it has it: no restart-strategy delay */
    sim_push(s, s->now, EV_RESTART, 0, 0);
    return 1;
}

/* The leader saw worker w's registration go: a crash it waited for is detected now. */
static void job_worker_lost(void *ctx, uint32_t w) {
    sim *s = ctx;
    sim_failover *f = s->open_failover;
    if (f && !f->detected_ns && f->target == w && strcmp(f->kind, "crash-worker") == 0) {
        f->detected_ns = s->now;
        sim_push(s, s->now + sim_restart_delay(s), EV_RESTART, 0, 0);
    }
}

static uint32_t job_placement(void *ctx, uint32_t *workers, uint32_t room) {
    const sim *s = ctx;
    for (uint32_t i = 0; workers && i < s->n && i < room; i++)
        workers[i] = s->sub[i].worker;
    return s->n;
}

static int job_placement_seen(void *ctx) {
    sim *s = ctx;
    if (s->awaiting_epoch != s->epoch_no)
        return 0; /* a newer failure came */
    sim_push(s, s->now + s->resume_after_ns, EV_RESTORED, s->resume_from, 0);
    return 1;
}

static void job_fail(void *ctx, int code, const char *msg) {
    sim_fail(ctx, code, msg);
}

static void job_violate(void *ctx, uint64_t at_ns, const char *invariant, const char *detail) {
    sim_violate(ctx, at_ns, invariant, "%s", detail);
}

static const ha_job job_template = {
    .incarnation = job_incarnation,
    .down = job_down,
    .checkpoint_id = job_checkpoint_id,
    .committed = job_committed,
    .commit_failed = job_commit_failed,
    .has_checkpoint = job_has_checkpoint,
    .restore = job_restore,
    .restart = job_restart,
    .leader_changed = job_leader_changed,
    .worker_lost = job_worker_lost,
    .placement = job_placement,
    .placement_seen = job_placement_seen,
    .fail = job_fail,
    .violate = job_violate,
};

/* coordination = a backend: the env on this loop (real time for a real service), then
 * the HA on it. */
static int setup_ha(sim *s) {
    const coord_backend *b = coord_backend_find(s->cfg->coord_backend);
    if (sim_env_init(s, b && b->real_time) != 0) {
        sim_fail(s, SS_EIO, "coordination: cannot set up a real-time loop");
        return s->failed;
    }
    ha_job job = job_template;
    job.ctx = s;
    char err[512] = "";
    int rc = ha_create(s->cfg, &s->env, s->seed ^ ((uint64_t)s->run << 32), &job, &s->ha, err,
                       sizeof err);
    if (rc != 0)
        sim_fail(s, rc, err[0] ? err : ss_strerror(rc));
    return rc;
}

/* The fault schedule: the configured faults (their spreads drawn), then a random
 * campaign's; the result carries a drawn schedule whole in the `faults` syntax, to
 * replay it. */
static int setup_faults(sim *s) {
    const sim_config *c = s->cfg;
    uint32_t room = c->fault_count + 2 * c->random_faults;
    s->faults = calloc(room + 1, sizeof *s->faults);
    if (!s->faults)
        return SS_ENOMEM;
    memcpy(s->faults, c->faults, c->fault_count * sizeof *s->faults);
    s->fault_count = c->fault_count;
    sim_draw_fault_times(s->seed, s->run, s->faults, s->fault_count);
    if (s->fault_count == 0 && !c->random_faults)
        return 0; /* no faults: no schedule to report */
    if (c->random_faults)
        s->fault_count +=
            sim_draw_faults(c, s->seed, s->run, s->faults + c->fault_count, room - c->fault_count);
    size_t size = 64 + (size_t)s->fault_count * 64;
    s->r->fault_schedule = malloc(size);
    if (!s->r->fault_schedule)
        return SS_ENOMEM;
    config_format_faults(s->faults, s->fault_count, s->r->fault_schedule, size);
    return 0;
}

static int setup(sim *s) {
    const sim_config *c = s->cfg;
    part_config pc = {.scheme = c->partitioner,
                      .parallelism = c->parallelism,
                      .groups = c->max_parallelism,
                      .hash = (part_hash)c->hash,
                      .vnodes = c->vnodes,
                      .bound_c = c->bound_c};
    if (part_create(&pc, &s->part) != 0) {
        snprintf(s->err, s->errlen, "cannot make partitioner %s with parallelism %u",
                 c->partitioner, c->parallelism);
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
    if (queue_create(1024, &s->q) || state_init(&s->state, s->groups) || sim_ref_init(s) ||
        open_epoch(s, 0) || state_hold_from_owners(&s->hold, s->owner, s->groups, s->n))
        return SS_ENOMEM;
    check_owners(s, "start");
    s->sub = calloc(s->n, sizeof *s->sub);
    s->alive = malloc(c->workers);
    s->slots = malloc(c->workers * sizeof *s->slots);
    s->source_worker = malloc(c->sources * sizeof *s->source_worker);
    s->hb_phase = malloc(c->workers * sizeof *s->hb_phase);
    s->flush_phase = calloc(c->sources, sizeof *s->flush_phase);
    s->flush_next_ns = calloc(c->sources, sizeof *s->flush_next_ns);
    s->src_buffered = calloc(c->sources, sizeof *s->src_buffered);
    if (!s->sub || !s->alive || !s->slots || !s->source_worker || !s->hb_phase || !s->flush_phase ||
        !s->flush_next_ns || !s->src_buffered || channels_make(s) != 0)
        return SS_ENOMEM;
    prng flush;
    prng_stream(&flush, s->seed, s->run, RNG_FLUSH);
    for (uint32_t j = 0; j < c->sources && c->buffer_timeout_ns; j++)
        s->flush_phase[j] = prng_below(&flush, c->buffer_timeout_ns);
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
    s->net_mu = lognormal_mu(c->net_latency_ns, c->net_sigma);
    s->service_mu = lognormal_mu(c->service_ns, c->service_sigma);
    init_stream(s);
    uint64_t space = c->key_dist == SIM_KEYS_FILE ? s->file_keys : c->keys;
    if (space <= SIM_DENSE_KEYS_MAX && space <= 16 * s->total + 65536 && s->total < UINT32_MAX) {
        state_free(&s->state); /* key ids below space: cells indexed by key */
        if (state_init_dense(&s->state, s->groups, (uint32_t)space) != 0)
            return SS_ENOMEM;
    } else {
        uint64_t expect = space < s->total ? space : s->total;
        if (state_reserve(&s->state, (uint32_t)(expect < (1u << 26) ? expect : (1u << 26))) != 0)
            return SS_ENOMEM;
    }
    if (c->coordination == SIM_COORD_HA && setup_ha(s) != 0)
        return s->failed ? s->failed : SS_ENOMEM;
    s->job = JOB_RUNNING;
    s->digest = 0xCBF29CE484222325ULL;
    s->source_digest = 0xCBF29CE484222325ULL;
    sim_push(s, 0, EV_TICK, 0, 0);
    if (c->checkpoint_interval_ns)
        sim_push(s, c->checkpoint_interval_ns, EV_CHECKPOINT, 0, 0);
    if (setup_faults(s) != 0)
        return SS_ENOMEM;
    for (uint32_t i = 0; i < s->fault_count; i++) {
        uint64_t payload[3] = {i, 0, 0};
        queue_push(s->q, s->faults[i].at_ns, EV_FAULT, payload, sizeof payload, NULL);
    }
    return s->failed;
}

/* The first differing keys, into the result's detail text. */
static void sim_free(sim *s) {
    if (s->ha) { /* every session closed, and its close completed, before anything goes */
        ha_close(s->ha);
        sim_drain(s, ha_closed, s->ha);
        ha_free(s->ha);
    }
    sim_env_free(s);
    queue_free(s->q);
    for (uint32_t i = 0; s->sub && i < s->n; i++)
        free(s->sub[i].ring);
    free(s->sub);
    part_free(s->part);
    state_free(&s->state);
    free(s->ref);
    state_hold_free(&s->hold);
    sim_checkpoint_free(&s->jm.completed);
    sim_checkpoint_free(&s->jm.pending);
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
    for (size_t k = 0; k < s->channel_count; k++)
        free(s->channels[k].rec);
    free(s->channels);
    free(s->flush_phase);
    free(s->flush_next_ns);
    free(s->src_buffered);
    free(s->ledger);
    free(s->file_line_key);
    free(s->file_key_group);
    free(s->file_key_len);
    free(s->faults);
}

int sim_run(const sim_config *cfg, uint64_t seed, uint32_t run, sim_result *out, char *err,
            size_t errlen) {
    return sim_run_progress(cfg, seed, run, out, err, errlen, NULL, NULL);
}

int sim_run_progress(const sim_config *cfg, uint64_t seed, uint32_t run, sim_result *out, char *err,
                     size_t errlen, sim_progress_fn fn, void *arg) {
    memset(out, 0, sizeof *out);
    if (hist_init(&out->latency) != 0)
        return SS_ENOMEM;
    sim s;
    memset(&s, 0, sizeof s);
    s.cfg = cfg;
    s.seed = seed;
    s.run = run;
    s.stream_base = prng_stream_base(seed, run);
    s.r = out;
    s.err = err;
    s.errlen = errlen;
    if (errlen)
        err[0] = '\0';
    int rc = setup(&s);
    queue_event ev;
    uint64_t same_time = 0; /* events in a row at one virtual instant */
    /* Every event is bounded: the stream is finite and each incarnation ends. */
    while (rc == 0 && !s.failed && !s.finished && (!s.rt || (sim_pace(&s), 1)) &&
           queue_pop(s.q, &ev) == 0) {
        /* virtual time never goes backwards (in real time, posts may have moved it on) */
        SS_ASSERT(s.rt || ev.time_ns >= s.now);
        same_time = ev.time_ns == s.now ? same_time + 1 : 0;
        s.now = ev.time_ns > s.now ? ev.time_ns : s.now; /* real time: posts moved it on */
        s.events++;
        if (fn && (s.events & 0x3FF) == 0)
            fn(arg, s.now, cfg->duration_ns, s.processed);
        if (s.now > 10 * cfg->duration_ns + 86400000000000ULL) { /* every loop has a bound */
            sim_fail(&s, SS_EINVAL, "the simulation did not finish within 10 x duration_s + 1 day");
            break;
        }
        if (same_time > 100000000) { /* and time must move: a livelock is a bug, not a hang */
            sim_fail(&s, SS_EINVAL, "livelock: 1e8 events without virtual time advancing");
            break;
        }
        /* a coordination timer's payload starts with pointers: fold only its two words */
        uint64_t what = ev.type == EV_ENV ? ev.payload.u64[2] ^ (ev.payload.u64[3] << 32)
                                          : ev.payload.u64[0] ^ (ev.payload.u64[1] << 32);
        s.digest = fold(fold(fold(s.digest, ev.time_ns), ev.type), what);
        handle(&s, &ev);
        SS_ASSERT_HOT(s.offset <= s.total && s.jm.pending.remaining <= s.jm.pending.parallelism);
    }
    int started = rc == 0, filled = 0; /* a run that started has a history to keep */
    if (rc == 0 && !s.failed) {
        if (s.job != JOB_RUNNING)
            sim_fail(&s, SS_EINVAL, "the job could not be restarted (no live slots left)");
        flush_all(&s, NEVER - 1);
        if (s.last_done_ns > s.now)
            s.now = s.last_done_ns;
        if (!s.failed)
            sim_check_exactly_once(&s);
        if (!s.failed) {
            sim_fill_result(&s);
            filled = 1;
        }
        if (!s.failed && s.finished)
            sim_check_outcome(&s);
    }
    rc = rc ? rc : s.failed;
    if (rc != 0 && started && !filled)
        sim_fill_result(&s); /* a failed run's evidence: what it did until it failed */
    sim_free(&s);
    if (rc != 0) {
        if (errlen && !err[0])
            snprintf(err, errlen, "%s", ss_strerror(rc));
        if (!started)
            sim_result_free(out);
    }
    return rc;
}
