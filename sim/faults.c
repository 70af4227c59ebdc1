/* faults.c -- random fault campaigns (random_faults = N): N faults drawn per run from
 * the run's own fault stream, of the kinds the configuration has -- worker crashes
 * (each with its restart), rescales, and with a coordination service leader and
 * job-manager crashes and partitions, session expiries, dropped connections, server
 * crashes (with their restarts), quorum loss, slow operations and process pauses (a
 * long GC) -- in the spirit of Jepsen's nemeses. 3 in 4 partitions and pauses are
 * timed against a commit in flight: they start a few milliseconds after a checkpoint
 * trigger (while its snapshots are written) and outlast the session, so that the
 * deposed leader retries its commit after a successor won -- which fencing must
 * refuse. The schedule depends only on (seed, repetition, configuration),
 * like every other stream, and is written out in the `faults` key's syntax so that a
 * run can be replayed with its faults spelled out. The configured faults' times may be
 * spreads ('A+U(B,C)'), drawn per run here too. */
#include "core/partition.h"
#include "core/prng.h"
#include "sim/faults.h"

/* A time in [lo, hi) of the run, in 0.1 s steps. */
static uint64_t draw_time(prng *r, uint64_t lo_ns, uint64_t hi_ns) {
    uint64_t steps = (hi_ns - lo_ns) / 100000000ULL;
    return lo_ns + (steps ? prng_below(r, steps) : 0) * 100000000ULL;
}

/* A cut (partition or pause) timed against a commit in flight: it starts 1 or 2 ms,
 * sometimes 4 or 8 ms after a checkpoint trigger k * interval within [lo, hi) -- in a
 * small job the id comes back after ~1 ms and the commit goes out ~1 ms later; larger
 * snapshots take longer -- or, one in four, 0.3 ms after it, while the checkpoint id's
 * counter write is in flight (a read takes ~0.22 ms, a write ~0.5 ms); and lasts the
 * session timeout (as the service clamps it, 2 to 20 ticks) plus 1 to 3 s. 0 if
 * checkpoints are off. */
static int draw_cut_over_commit(prng *r, const sim_config *c, uint64_t lo, uint64_t hi,
                                sim_fault *f) {
    uint64_t interval = c->checkpoint_interval_ns;
    if (!interval || hi / interval <= (lo + interval - 1) / interval)
        return 0;
    static const uint64_t after_us[8] = {1000, 300, 1000, 2000, 2000, 300, 4000, 8000}; /* us */
    uint64_t first = (lo + interval - 1) / interval, last = (hi - 1) / interval;
    uint64_t timeout = c->session_timeout_ns;
    if (timeout < 2 * c->zk_tick_ns)
        timeout = 2 * c->zk_tick_ns;
    if (timeout > 20 * c->zk_tick_ns)
        timeout = 20 * c->zk_tick_ns;
    f->at_ns =
        (first + prng_below(r, last - first + 1)) * interval + after_us[prng_below(r, 8)] * 1000ULL;
    f->duration_ns = timeout + 1000000000ULL + prng_below(r, 21) * 100000000ULL;
    return 1;
}

/* A crash at f.at_ns and its recovery `after` later, into out[0..1]; returns 2. */
static uint32_t down_and_up(sim_fault *out, sim_fault f, int down, int up, uint64_t after) {
    out[0] = f;
    out[0].kind = down;
    out[1] = f;
    out[1].kind = up;
    out[1].at_ns = f.at_ns + after;
    return 2;
}

uint32_t sim_draw_faults(const sim_config *c, uint64_t seed, uint32_t repeat, sim_fault *out,
                         uint32_t room) {
    prng r;
    prng_stream(&r, seed, repeat, SIM_RNG_FAULTS);
    int ha = c->coordination == SIM_COORD_HA;
    uint64_t d = c->duration_ns, lo = d / 10, hi = d * 3 / 4;
    uint64_t span = d / 4 > 1000000000ULL ? d / 4 : 1000000000ULL; /* durations: 1 s .. d/4 */
    uint32_t workers_down = 0, max_down = c->workers > 2 ? 2 : c->workers - 1;
    uint32_t jms_lost = 0, n = 0;
    /* a rescale target every placement can take with max_down workers gone */
    uint32_t groups = c->max_parallelism ? c->max_parallelism
                                         : part_default_groups(c->partitioner, c->parallelism);
    uint64_t slots = (uint64_t)(c->workers - max_down) * c->slots_per_worker;
    uint32_t top = c->parallelism * 2;
    top = top < slots ? top : (uint32_t)slots;
    top = top < groups ? top : groups;
    for (uint32_t i = 0; i < c->random_faults && n + 2 <= room; i++) {
        uint32_t kinds = ha ? 13 : 2;
        uint32_t kind = (uint32_t)prng_below(&r, kinds);
        uint64_t t = draw_time(&r, lo, hi), dur = 1000000000ULL + draw_time(&r, 0, span);
        sim_fault f = {.at_ns = t};
        switch (kind) {
        case 0: /* a worker crashes and comes back */
            if (workers_down == max_down || c->workers < 2)
                continue;
            workers_down++;
            f.target = (uint32_t)prng_below(&r, c->workers);
            n += down_and_up(out + n, f, SIM_FAULT_CRASH_WORKER, SIM_FAULT_RESTART_WORKER, dur);
            continue;
        case 1:
            if (top < 1)
                continue;
            f.kind = SIM_FAULT_RESCALE;
            f.target = 1 + (uint32_t)prng_below(&r, top);
            break;
        case 2:
        case 3: /* a job manager stops for good: one fewer than there are */
            if (jms_lost + 1 >= c->job_managers)
                continue;
            jms_lost++;
            f.kind = kind == 2 ? SIM_FAULT_CRASH_LEADER : SIM_FAULT_CRASH_JM;
            f.target = kind == 2 ? 0 : (uint32_t)prng_below(&r, c->job_managers);
            break;
        case 4:
        case 11: /* the leader is cut off, or its process pauses */
            f.kind = kind == 4 ? SIM_FAULT_PARTITION_LEADER : SIM_FAULT_PAUSE_LEADER;
            f.duration_ns = dur;
            if (prng_below(&r, 4))
                draw_cut_over_commit(&r, c, lo, hi, &f);
            break;
        case 5:
        case 12:
            f.kind = kind == 5 ? SIM_FAULT_PARTITION_JM : SIM_FAULT_PAUSE_JM;
            f.target = (uint32_t)prng_below(&r, c->job_managers);
            f.duration_ns = dur;
            if (prng_below(&r, 4))
                draw_cut_over_commit(&r, c, lo, hi, &f);
            break;
        case 6:
            f.kind = SIM_FAULT_EXPIRE_SESSION;
            f.target = (uint32_t)prng_below(&r, c->job_managers);
            break;
        case 7:
            f.kind = SIM_FAULT_DROP_CONNECTION;
            f.target = (uint32_t)prng_below(&r, c->job_managers);
            break;
        case 8: /* a coordination server crashes and comes back */
            f.target = (uint32_t)prng_below(&r, c->zk_servers);
            n += down_and_up(out + n, f, SIM_FAULT_CRASH_ZK, SIM_FAULT_RESTART_ZK, dur);
            continue;
        case 9:
            f.kind = SIM_FAULT_LOSE_QUORUM;
            f.target = (uint32_t)(dur / 1000000000ULL); /* whole seconds */
            break;
        default:
            f.kind = SIM_FAULT_SLOW_ZK;
            f.target = 2 + (uint32_t)prng_below(&r, 49);
            f.duration_ns = dur;
        }
        out[n++] = f;
    }
    /* kinds the coordination backend cannot inject are left out (none for the model) */
    uint32_t kept = 0;
    for (uint32_t i = 0; i < n; i++)
        if (config_fault_supported(c, out[i].kind))
            out[kept++] = out[i];
    return kept;
}

uint32_t sim_draw_fault_times(uint64_t seed, uint32_t repeat, sim_fault *f, uint32_t count) {
    prng r;
    prng_stream(&r, seed, repeat, SIM_RNG_FAULT_TIMES);
    uint32_t drawn = 0;
    for (uint32_t i = 0; i < count; i++) {
        if (!f[i].spread_hi_ns)
            continue;
        /* whole milliseconds, so that faults.txt (ms) replays the run exactly */
        uint64_t steps = (f[i].spread_hi_ns - f[i].spread_lo_ns) / 1000000ULL;
        f[i].at_ns += f[i].spread_lo_ns + prng_below(&r, steps + 1) * 1000000ULL;
        f[i].spread_lo_ns = f[i].spread_hi_ns = 0;
        drawn++;
    }
    return drawn;
}
