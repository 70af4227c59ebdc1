/* outcome.c -- what a run produced: every key's state checked against a failure-free
 * fold of the same records (exactly-once), and the sim_result filled from the run's
 * state. See sim_internal.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/lincheck.h"
#include "core/error.h"
#include "core/metrics.h"
#include "sim/ha.h"
#include "sim/sim_internal.h"

void sim_violate(sim *s, uint64_t at_ns, const char *invariant, const char *fmt, ...) {
    sim_result *r = s->r;
    if (r->violation_count++ >= SIM_MAX_VIOLATIONS)
        return;
    sim_violation *v = &r->violations[r->violation_count - 1];
    snprintf(v->invariant, sizeof v->invariant, "%s", invariant);
    v->at_ns = at_ns;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->detail, sizeof v->detail, fmt, ap);
    va_end(ap);
}

/* The run's coordination history must be linearizable (backends/lincheck.h); with
 * history = 1 it goes into the result, for run-NNN/coordination.jsonl. */
static void sim_check_history(sim *s, const coord_history *h) {
    lincheck_result lr;
    if (lincheck_run(h, NULL, &lr) != 0) {
        sim_fail(s, SS_ENOMEM, "out of memory");
        return;
    }
    if (lr.verdict == LINCHECK_VIOLATION)
        sim_violate(s, 0, "linearizable", "%s", lr.detail);
    if (s->cfg->history && !(s->r->coord_history = coord_history_text(h)))
        sim_fail(s, SS_ENOMEM, "out of memory");
}

static void note_mismatch(sim_result *r, size_t *bad, size_t *used, uint64_t key, uint64_t got,
                          uint64_t want) {
    size_t room = sizeof r->exactly_once_detail;
    if ((*bad)++ < 3 && *used < room) {
        int n =
            snprintf(r->exactly_once_detail + *used, room - *used,
                     "%skey %llu: count %llu (want %llu)", *bad > 1 ? "; " : "",
                     (unsigned long long)key, (unsigned long long)got, (unsigned long long)want);
        *used += n > 0 ? (size_t)n : 0;
    }
}

/* Compare the final state with a failure-free fold of the same records: dense
 * per-key arrays when key ids are small, else a second keyed store. */
void sim_check_exactly_once(sim *s) {
    sim_result *r = s->r;
    uint64_t space = s->cfg->key_dist == SIM_KEYS_FILE ? s->file_keys : s->cfg->keys;
    size_t bad = 0, used = 0;
    uint64_t distinct = 0;
    if (space <= (1u << 24)) {
        /* dense keys: a direct table, count and sum side by side (one cache miss each) */
        struct fold {
            uint64_t count;
            int64_t sum;
        } *want = calloc(space, sizeof *want);
        if (!want) {
            sim_fail(s, SS_ENOMEM, "out of memory");
            return;
        }
        for (uint64_t i = 0; i < s->total; i++) {
            uint64_t key;
            uint32_t value;
            sim_record_at(s, i, &key, &value);
            distinct += want[key].count++ == 0;
            want[key].sum += value;
        }
        for (uint64_t k = 0; k < space; k++) {
            if (!want[k].count)
                continue;
            const state_entry *got = state_find(&s->state, k);
            if (!got || got->count != want[k].count || got->sum != want[k].sum)
                note_mismatch(r, &bad, &used, k, got ? got->count : 0, want[k].count);
        }
        free(want);
    } else {
        state_store ref;
        if (state_init(&ref, 1) != 0) {
            sim_fail(s, SS_ENOMEM, "out of memory");
            return;
        }
        for (uint64_t i = 0; i < s->total; i++) {
            uint64_t key;
            uint32_t value;
            sim_record_at(s, i, &key, &value);
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

void sim_fill_result(sim *s) {
    sim_result *r = s->r;
    r->trace_digest = s->digest;
    r->source_digest = s->source_digest;
    r->events = s->events;
    r->end_ns = s->now;
    r->records_emitted = s->total;
    r->records_processed = s->processed;
    r->records_replayed = s->replayed;
    r->offered_rps = s->cfg->duration_ns ? (double)s->total * 1e9 / (double)s->cfg->duration_ns : 0;
    /* achieved: every record once (its final processing), over the time the job took to
     * process them; below the offered rate when the operator cannot keep up */
    uint64_t span = s->last_done_ns > s->first_done_ns ? s->last_done_ns - s->first_done_ns : 0;
    r->throughput_rps = span ? (double)s->total * 1e9 / (double)span : r->offered_rps;
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
        sim_fail(s, SS_ENOMEM, "out of memory");
        return;
    }
    for (uint32_t i = 0; i < s->state.count; i++) {
        const state_entry *e = &s->state.entries[i];
        uint32_t t = s->owner[e->group];
        r->subtasks[t].keys++;
        r->subtasks[t].records += e->count;
        r->subtasks[t].state_bytes += 16 + sim_key_bytes(s, e->key);
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
    if (s->ha && ha_fill_result(s->ha, r) != 0)
        sim_fail(s, SS_ENOMEM, "out of memory");
    if (s->ha && ha_history(s->ha))
        sim_check_history(s, ha_history(s->ha));
    r->checkpoint_bytes = 0;
    for (uint32_t i = 0; i < s->jm.completed.parallelism; i++)
        r->checkpoint_bytes += s->jm.completed.blob_len[i];
    /* the time series */
    size_t count = (size_t)(s->now / s->cfg->window_ns) + 1;
    r->windows = calloc(count, sizeof *r->windows);
    if (!r->windows) {
        sim_fail(s, SS_ENOMEM, "out of memory");
        return;
    }
    r->window_count = count;
    uint64_t queued = 0; /* emitted, not yet done nor dropped */
    for (size_t w = 0; w < count; w++) {
        sim_window *o = &r->windows[w];
        o->start_ns = w * s->cfg->window_ns;
        uint64_t end = o->start_ns + s->cfg->window_ns;
        if (w < s->window_count && s->windows[w].used) {
            window *x = &s->windows[w];
            o->records_in = x->in;
            o->records_done = x->done;
            o->rolled_back = x->rolled_back;
            queued += x->in;
            queued -= x->done + x->dropped < queued ? x->done + x->dropped : queued;
            o->p50_ns = hist_quantile(&x->h, 0.5);
            o->p90_ns = hist_quantile(&x->h, 0.9);
            o->p99_ns = hist_quantile(&x->h, 0.99);
            o->p999_ns = hist_quantile(&x->h, 0.999);
            o->max_ns = x->h.count ? x->h.max : 0;
        }
        o->backlog = queued;
        /* down: nothing processed while a failover or rescale was under way (a crashed
         * leader's job still processes until the new leader restarts it) */
        for (size_t k = 0; k < r->failover_count && !o->records_done; k++) {
            const sim_failover *f = &r->failovers[k];
            uint64_t up = f->restored_ns ? f->restored_ns : s->now;
            if (f->fault_ns < end && up > o->start_ns)
                o->down = 1;
        }
    }
}

void sim_result_free(sim_result *r) {
    hist_free(&r->latency);
    free(r->fault_schedule);
    free(r->coord_history);
    for (int t = 0; t < SIM_COORD_TYPES; t++)
        if (r->coord[t].op[0])
            hist_free(&r->coord[t].h);
    free(r->subtasks);
    free(r->windows);
    free(r->failovers);
    memset(r, 0, sizeof *r);
}
