/* outcome.c -- what a run produced: every key's state checked against a failure-free
 * fold of the same records (exactly-once), and the sim_result filled from the run's
 * state. See sim_internal.h.
 *
 * The exactly-once check in two steps. The reference is per key group (count, sum,
 * and both weighted by a per-key odd hash), folded as the sources first emit each
 * record: no second pass over the records and no per-key memory. At the end each
 * group's state is folded the same way; when every group agrees, every key does
 * (a key off by d changes its group's weighted count by d x an odd weight, never 0
 * mod 2^64; offsets in several keys that cancel need a hash collision). When some
 * group disagrees, the full per-key fold runs as before and writes the same detail. */
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

/* A key's final state, or the failure-free fold it must equal. */
typedef struct fold {
    uint64_t count;
    int64_t sum;
} fold;

/* The exactly-once comparison of one key: 1 if its state equals the fold. Mutation
 * checker-counts compares the counts only. */
static int fold_equal(const sim *s, fold got, fold want) {
    if (s->cfg->mutations & SIM_MUT_CHECKER_COUNTS)
        return got.count == want.count;
    return got.count == want.count && got.sum == want.sum;
}

static void note_mismatch(sim_result *r, size_t *bad, size_t *used, uint64_t key, fold got,
                          fold want) {
    size_t room = sizeof r->exactly_once_detail;
    if ((*bad)++ < 3 && *used < room) {
        int n =
            snprintf(r->exactly_once_detail + *used, room - *used,
                     "%skey %llu: count %llu sum %lld (want count %llu sum %lld)",
                     *bad > 1 ? "; " : "", (unsigned long long)key, (unsigned long long)got.count,
                     (long long)got.sum, (unsigned long long)want.count, (long long)want.sum);
        *used += n > 0 ? (size_t)n : 0;
    }
}

/* Compare one key's state (NULL: none) with its fold; a mismatch is noted. */
static void compare_key(sim *s, size_t *bad, size_t *used, uint64_t key, fold want) {
    state_entry e;
    int found = state_get(&s->state, key, &e);
    fold got = {found ? e.count : 0, found ? e.sum : 0};
    if (!found || !fold_equal(s, got, want))
        note_mismatch(s->r, bad, used, key, got, want);
}

/* Invariant checker-self-test: the comparison must reject a state one off from the
 * fold, in its sum and in its count (`want`: any key's fold). */
static void self_test(sim *s, uint64_t key, fold want) {
    fold sum_off = {want.count, want.sum + 1}, count_off = {want.count + 1, want.sum};
    if (fold_equal(s, sum_off, want))
        sim_violate(s, 0, "checker-self-test",
                    "the exactly-once comparison accepts key %llu with sum %lld for %lld",
                    (unsigned long long)key, (long long)sum_off.sum, (long long)want.sum);
    if (fold_equal(s, count_off, want))
        sim_violate(s, 0, "checker-self-test",
                    "the exactly-once comparison accepts key %llu with count %llu for %llu",
                    (unsigned long long)key, (unsigned long long)count_off.count,
                    (unsigned long long)want.count);
}

/* Dense keys: a direct table of folds (one cache miss per record). Returns the distinct
 * keys, or UINT64_MAX on allocation failure. */
static uint64_t check_dense(sim *s, uint64_t space, size_t *bad, size_t *used) {
    fold *want = calloc(space, sizeof *want);
    uint64_t distinct = 0, tested = 0;
    if (!want)
        return UINT64_MAX;
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
        compare_key(s, bad, used, k, want[k]);
        if (!tested++)
            self_test(s, k, want[k]);
    }
    free(want);
    return distinct;
}

/* Sparse keys: the folds in a second keyed store. Returns the distinct keys, or
 * UINT64_MAX on allocation failure. */
static uint64_t check_sparse(sim *s, size_t *bad, size_t *used) {
    state_store ref;
    if (state_init(&ref, 1) != 0)
        return UINT64_MAX;
    for (uint64_t i = 0; i < s->total; i++) {
        uint64_t key;
        uint32_t value;
        sim_record_at(s, i, &key, &value);
        state_add(&ref, key, 0, value);
    }
    uint64_t distinct = ref.count;
    for (uint32_t i = 0; i < ref.count; i++) {
        fold want = {ref.entries[i].count, ref.entries[i].sum};
        compare_key(s, bad, used, ref.entries[i].key, want);
        if (i == 0)
            self_test(s, ref.entries[i].key, want);
    }
    state_free(&ref);
    return distinct;
}

int sim_ref_init(sim *s) {
    s->ref = calloc(s->groups ? s->groups : 1, sizeof *s->ref);
    return s->ref ? 0 : SS_ENOMEM;
}

/* The records the sources never emitted (a run that ended early) join the reference. */
static void ref_fold_rest(sim *s) {
    for (uint64_t i = s->max_emitted; i < s->total; i++) {
        uint64_t key;
        uint32_t value;
        sim_record_at(s, i, &key, &value);
        sim_ref_note(s, sim_group_of(s, key), key, value);
    }
}

/* 1 if every key group's final state folds to its reference (counts only under
 * mutation checker-counts, as fold_equal). O(keys in state + groups). */
static int groups_match(const sim *s) {
    int counts_only = (s->cfg->mutations & SIM_MUT_CHECKER_COUNTS) != 0;
    for (uint32_t g = 0; g < s->groups; g++) {
        ref_group got = {0, 0, 0, 0}, want = s->ref[g];
        for (uint32_t c = state_head(&s->state, g); c != STATE_END;
             c = state_next(&s->state, g, c)) {
            state_entry e = state_at(&s->state, g, c);
            uint64_t w = sim_ref_weight(e.key);
            got.count += e.count;
            got.sum += (uint64_t)e.sum;
            got.wcount += w * e.count;
            got.wsum += w * (uint64_t)e.sum;
        }
        if (got.count != want.count || got.wcount != want.wcount ||
            (!counts_only && (got.sum != want.sum || got.wsum != want.wsum)))
            return 0;
    }
    return 1;
}

/* The key the full check would self-test: the smallest key (dense), else record 0's
 * (sparse: the reference store's first entry). 0 without records. */
static int self_test_key(const sim *s, uint64_t space, uint64_t *key) {
    if (!s->total)
        return 0;
    if (space > SIM_DENSE_KEYS_MAX) {
        uint32_t value;
        sim_record_at(s, 0, key, &value);
        return 1;
    }
    int found = 0;
    for (uint32_t g = 0; g < s->groups; g++)
        for (uint32_t c = state_head(&s->state, g); c != STATE_END;
             c = state_next(&s->state, g, c)) {
            uint64_t k = state_at(&s->state, g, c).key;
            *key = found && *key < k ? *key : k;
            found = 1;
        }
    return found;
}

/* Compare the final state with a failure-free fold of the same records: per key
 * group first; when a group differs, per key -- dense per-key arrays when key ids are
 * small, else a second keyed store. */
void sim_check_exactly_once(sim *s) {
    sim_result *r = s->r;
    uint64_t space = s->cfg->key_dist == SIM_KEYS_FILE ? s->file_keys : s->cfg->keys;
    size_t bad = 0, used = 0;
    ref_fold_rest(s);
    if (groups_match(s)) { /* every key's state is its fold */
        uint64_t key;
        state_entry e;
        if (self_test_key(s, space, &key) && state_get(&s->state, key, &e))
            self_test(s, key, (fold){e.count, e.sum});
        r->exactly_once_ok = 1;
        snprintf(r->exactly_once_detail, sizeof r->exactly_once_detail, "ok");
        return;
    }
    uint64_t distinct = space <= SIM_DENSE_KEYS_MAX ? check_dense(s, space, &bad, &used)
                                                    : check_sparse(s, &bad, &used);
    if (distinct == UINT64_MAX) {
        sim_fail(s, SS_ENOMEM, "out of memory");
        return;
    }
    if (bad == 0 && s->state.count != distinct) {
        bad = 1;
        snprintf(r->exactly_once_detail, sizeof r->exactly_once_detail,
                 "%u keys in state, %llu expected", s->state.count, (unsigned long long)distinct);
    }
    r->exactly_once_ok = bad == 0;
    if (bad == 0)
        snprintf(r->exactly_once_detail, sizeof r->exactly_once_detail, "ok");
    else
        sim_violate(s, 0, "exactly-once", "%zu keys differ: %.200s", bad, r->exactly_once_detail);
}

/* The longest a healed job may take to process records again, from its configuration
 * and what it restores (a sum of upper bounds, not a tight estimate):
 *   detection   heartbeat_timeout + (heartbeat_rpc_failures + 1) x heartbeat_interval
 *               + connection_detect                     (a crash noticed by any detector)
 *   restart     the strategy's longest delay: restart_delay (fixed), or 60 s x 1.1
 *               (exponential: Flink's cap with its jitter)
 *   tasks       deploy + state_backend_start, and the restore of the largest checkpoint
 *               seen (the last completed, or any failover's bytes) at restore_mbps, and
 *               its snapshot at snapshot_mbps (a rescale's savepoint)
 *   HA          with a coordination service: 2 x session_timeout (a session at least 2
 *               ticks) for an expiry noticed and a new leader's, + zk_election
 *               + 4 x 2 x zk_reconnect (reconnections, drawn in 0..2x) + 2 x zk_tick
 *   margin      checkpoint_interval (a rescale waits for the checkpoint in flight)
 *               + window + 1 s */
static uint64_t liveness_bound_ns(const sim *s) {
    const sim_config *c = s->cfg;
    uint64_t bytes = s->r->checkpoint_bytes;
    for (size_t k = 0; k < s->r->failover_count; k++)
        bytes =
            s->r->failovers[k].bytes_restored > bytes ? s->r->failovers[k].bytes_restored : bytes;
    uint64_t detect = c->heartbeat_timeout_ns +
                      (uint64_t)(c->heartbeat_rpc_failures + 1) * c->heartbeat_interval_ns +
                      c->connection_detect_ns;
    uint64_t restart =
        c->restart_strategy == SIM_RESTART_FIXED ? c->restart_delay_ns : 66000000000ULL;
    uint64_t tasks = c->deploy_ns + c->state_backend_start_ns +
                     (uint64_t)((double)bytes * 1e9 / c->restore_bytes_per_s) +
                     (uint64_t)((double)bytes * 1e9 / c->snapshot_bytes_per_s);
    uint64_t coord = 0;
    if (s->ha) {
        uint64_t session =
            c->session_timeout_ns > 2 * c->zk_tick_ns ? c->session_timeout_ns : 2 * c->zk_tick_ns;
        coord = 2 * session + c->zk_election_ns + 8 * c->zk_reconnect_ns + 2 * c->zk_tick_ns;
    }
    return detect + restart + tasks + coord + c->checkpoint_interval_ns + c->window_ns +
           1000000000ULL;
}

/* When the schedule's last fault has healed: its time, plus its duration for a
 * partition, slow or quorum loss (a crash heals at its restart, itself a fault). */
static uint64_t last_heal_ns(const sim *s) {
    uint64_t last = 0;
    for (uint32_t i = 0; i < s->fault_count; i++) {
        const sim_fault *f = &s->faults[i];
        uint64_t healed = f->at_ns + f->duration_ns;
        if (f->kind == SIM_FAULT_LOSE_QUORUM)
            healed += (uint64_t)f->target * 1000000000ULL;
        last = healed > last ? healed : last;
    }
    return last;
}

int sim_live_after(const sim_window *w, size_t count, uint64_t window_ns, uint64_t heal_ns,
                   uint64_t bound_ns, uint64_t last_done_ns, uint64_t *next_ns) {
    if (last_done_ns <= heal_ns)
        return 1; /* every record was done before */
    size_t first = (size_t)(heal_ns / window_ns), last = (size_t)((heal_ns + bound_ns) / window_ns);
    for (size_t k = first; k <= last && k < count; k++)
        if (w[k].records_done)
            return 1;
    size_t next = last + 1;
    while (next < count && !w[next].records_done)
        next++;
    *next_ns = (uint64_t)next * window_ns;
    return 0;
}

/* Invariant liveness: with records left after the last fault healed (one was done
 * later), some record is done within the bound after it. Read from the windows'
 * records done, so it costs nothing per record: a window that meets (heal, heal +
 * bound] with a record done passes (a record done early in the window that holds the
 * heal may hide a stall; it never reports a live job). */
static void check_liveness(sim *s) {
    if (!s->fault_count)
        return;
    uint64_t heal = last_heal_ns(s), bound = liveness_bound_ns(s), next = 0;
    if (!sim_live_after(s->r->windows, s->r->window_count, s->cfg->window_ns, heal, bound,
                        s->last_done_ns, &next))
        sim_violate(s, heal, "liveness",
                    "no record done within %.3f s of the last fault healing at %.3f s; the "
                    "next in the window from %.3f s",
                    (double)bound / 1e9, (double)heal / 1e9, (double)next / 1e9);
}

void sim_check_outcome(sim *s) {
    const sim_result *r = s->r;
    if (r->latency.count != r->records_emitted)
        sim_violate(s, 0, "latency-samples",
                    "%llu latency samples for %llu records emitted (each record's final "
                    "processing counts once)",
                    (unsigned long long)r->latency.count, (unsigned long long)r->records_emitted);
    check_liveness(s);
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
    for (uint32_t g = 0; g < s->groups; g++)
        for (uint32_t c = state_head(&s->state, g); c != STATE_END;
             c = state_next(&s->state, g, c)) {
            state_entry e = state_at(&s->state, g, c);
            uint32_t t = s->owner[g];
            r->subtasks[t].keys++;
            r->subtasks[t].records += e.count;
            r->subtasks[t].state_bytes += 16 + sim_key_bytes(s, e.key);
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
        r->checkpoint_bytes += s->jm.completed.blobs[i].len;
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
    free(r->moves);
    free(r->leaderships);
    free(r->commits_log);
    memset(r, 0, sizeof *r);
}
