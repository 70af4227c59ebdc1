/* config.c -- the scenario keys: their units, defaults, parsing and checks; and the
 * built-in baseline scenario. One table describes every key, so the README, `shardsim
 * run --keys` and the parser cannot disagree. */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/coord.h"
#include "core/error.h"
#include "core/partition.h"
#include "core/place.h"
#include "sim/cli/keys_in.h"
#include "sim/config.h"

typedef enum value_kind {
    K_U32,     /* whole number into a uint32_t */
    K_U64,     /* whole number into a uint64_t */
    K_SECONDS, /* seconds (decimal) into uint64 ns */
    K_MILLIS,  /* milliseconds (decimal) into uint64 ns */
    K_MICROS,  /* microseconds (decimal) into double ns */
    K_DOUBLE,  /* decimal */
    K_MBPS,    /* MB/s into double bytes/s */
    K_STRING,  /* text into a char array */
    K_SPECIAL  /* parsed by its own function */
} value_kind;

typedef struct key_spec {
    config_key doc;
    value_kind kind;
    size_t offset, size; /* size: of a K_STRING array */
    double min, max;
    int (*parse)(sim_config *c, const char *value, char *err, size_t errlen);
} key_spec;

static int parse_partitioner(sim_config *c, const char *v, char *err, size_t n);
static int parse_hash(sim_config *c, const char *v, char *err, size_t n);
static int parse_placement(sim_config *c, const char *v, char *err, size_t n);
static int parse_key_dist(sim_config *c, const char *v, char *err, size_t n);
static int parse_net_dist(sim_config *c, const char *v, char *err, size_t n);
static int parse_service_dist(sim_config *c, const char *v, char *err, size_t n);
static int parse_restart(sim_config *c, const char *v, char *err, size_t n);
static int parse_profile(sim_config *c, const char *v, char *err, size_t n);
static int parse_faults(sim_config *c, const char *v, char *err, size_t n);
static int parse_coordination(sim_config *c, const char *v, char *err, size_t n);
static int parse_detection(sim_config *c, const char *v, char *err, size_t n);
static int parse_zk_dist(sim_config *c, const char *v, char *err, size_t n);
static int parse_assignment(sim_config *c, const char *v, char *err, size_t n);
static int parse_mutations(sim_config *c, const char *v, char *err, size_t n);

#define AT(field) offsetof(sim_config, field)
#define DOC(name, unit, def, help)                                                                 \
    { name, unit, def, help }

/* One key a line reads better than the formatter's wrapping. */
/* clang-format off */
static const key_spec specs[] = {
    {DOC("duration_s", "s", "60", "how long the sources emit"), K_SECONDS, AT(duration_ns), 0, 0.001, 1e6, NULL},
    {DOC("workers", "", "4", "worker nodes (task managers)"), K_U32, AT(workers), 0, 1, 10000, NULL},
    {DOC("slots_per_worker", "", "4", "task slots per worker"), K_U32, AT(slots_per_worker), 0, 1, 10000, NULL},
    {DOC("sources", "", "4", "source subtasks, placed round-robin on workers"), K_U32, AT(sources), 0, 1, 10000, NULL},
    {DOC("parallelism", "", "8", "keyed operator parallelism N"), K_U32, AT(parallelism), 0, 1, 100000, NULL},
    {DOC("max_parallelism", "", "0", "key groups P (0: the partitioner's default)"), K_U32, AT(max_parallelism), 0, 0, 1 << 26, NULL},
    {DOC("partitioner", "", "flink", "modulo, flink, jump, ring, rendezvous, maglev, bounded"), K_SPECIAL, 0, 0, 0, 0, parse_partitioner},
    {DOC("hash", "", "crc32c", "byte hash of the non-flink partitioners: crc32c or murmur3"), K_SPECIAL, 0, 0, 0, 0, parse_hash},
    {DOC("vnodes", "", "2000", "ring/bounded points per subtask"), K_U32, AT(vnodes), 0, 1, 100000, NULL},
    {DOC("bound_c", "", "1.25", "bounded: load bound factor c > 1"), K_DOUBLE, AT(bound_c), 0, 1.000001, 100, NULL},
    {DOC("placement", "", "first-fit", "round-robin, random, hash, first-fit (Flink's default: fills a worker's slots first), spread (Flink's cluster.evenly-spread-out-slots)"), K_SPECIAL, 0, 0, 0, 0, parse_placement},
    {DOC("key_dist", "", "uniform", "uniform, zipf, hotset or file"), K_SPECIAL, 0, 0, 0, 0, parse_key_dist},
    {DOC("keys", "", "100000", "distinct keys (uniform, zipf, hotset)"), K_U64, AT(keys), 0, 1, 1e8, NULL},
    {DOC("zipf_s", "", "1.1", "Zipf exponent s > 0"), K_DOUBLE, AT(zipf_s), 0, 1e-6, 20, NULL},
    {DOC("hot_keys_pct", "%", "1", "hotset: share of keys that are hot"), K_DOUBLE, AT(hot_keys_pct), 0, 1e-6, 100, NULL},
    {DOC("hot_records_pct", "%", "90", "hotset: share of records on hot keys"), K_DOUBLE, AT(hot_records_pct), 0, 0, 100, NULL},
    {DOC("key_file", "", "", "file: one key a line; records draw lines uniformly"), K_STRING, AT(key_file), sizeof(((sim_config *)0)->key_file), 0, 0, NULL},
    {DOC("rate", "records/s", "100000", "source rate, all sources together"), K_DOUBLE, AT(rate), 0, 1, 1e9, NULL},
    {DOC("rate_profile", "s:records/s", "", "steps, e.g. 0:1e5,30:2e5,40:1e5"), K_SPECIAL, 0, 0, 0, 0, parse_profile},
    {DOC("value_max", "", "1000", "record values are uniform in [0, value_max)"), K_U32, AT(value_max), 0, 1, 1e9, NULL},
    {DOC("net_latency_dist", "", "lognormal", "constant, exponential or lognormal"), K_SPECIAL, 0, 0, 0, 0, parse_net_dist},
    {DOC("net_latency_us", "us", "200", "mean network latency between workers"), K_MICROS, AT(net_latency_ns), 0, 0, 1e9, NULL},
    {DOC("net_latency_sigma", "", "0.5", "lognormal sigma of the network latency"), K_DOUBLE, AT(net_sigma), 0, 0, 10, NULL},
    {DOC("service_dist", "", "exponential", "constant, exponential or lognormal"), K_SPECIAL, 0, 0, 0, 0, parse_service_dist},
    {DOC("service_us", "us", "5", "mean time a subtask spends on a record"), K_MICROS, AT(service_ns), 0, 0.001, 1e9, NULL},
    {DOC("service_sigma", "", "0.5", "lognormal sigma of the service time"), K_DOUBLE, AT(service_sigma), 0, 0, 10, NULL},
    {DOC("queue_capacity", "records", "10000", "subtask input queue; full = backpressure"), K_U32, AT(queue_capacity), 0, 1, 1e7, NULL},
    {DOC("buffer_bytes", "bytes", "32768", "network buffer of a channel (source -> subtask), sent when full (Flink: 32 KiB memory segments); a record takes its key and value bytes plus a 4-byte length"), K_U32, AT(buffer_bytes), 0, 1, 1e9, NULL},
    {DOC("buffer_timeout_ms", "ms", "100", "the output flusher sends every channel's partly filled buffer at this period (Flink's execution.buffer-timeout, default 100); 0: after every record"), K_MILLIS, AT(buffer_timeout_ns), 0, 0, 1e6, NULL},
    {DOC("checkpoint_interval_s", "s", "10", "time between checkpoints (0: none)"), K_SECONDS, AT(checkpoint_interval_ns), 0, 0, 1e6, NULL},
    {DOC("snapshot_mbps", "MB/s", "100", "snapshot write bandwidth per subtask"), K_MBPS, AT(snapshot_bytes_per_s), 0, 1e-3, 1e6, NULL},
    {DOC("restore_mbps", "MB/s", "100", "restore and state-move bandwidth per subtask"), K_MBPS, AT(restore_bytes_per_s), 0, 1e-3, 1e6, NULL},
    {DOC("heartbeat_interval_s", "s", "10", "job manager heartbeat period (Flink default)"), K_SECONDS, AT(heartbeat_interval_ns), 0, 0.001, 1e5, NULL},
    {DOC("heartbeat_timeout_s", "s", "50", "heartbeat timeout (Flink default)"), K_SECONDS, AT(heartbeat_timeout_ns), 0, 0.001, 1e5, NULL},
    {DOC("heartbeat_rpc_failures", "", "2", "worker_detection rpc: heartbeat RPCs refused by a dead worker that declare it lost (Flink's heartbeat.rpc-failure-threshold, default 2)"), K_U32, AT(heartbeat_rpc_failures), 0, 1, 1000, NULL},
    {DOC("connection_detect_ms", "ms", "10", "worker_detection connection: from a broken task connection to the job manager failing the job (shardsim's estimate: one local RPC)"), K_MILLIS, AT(connection_detect_ns), 0, 0, 1e8, NULL},
    {DOC("restart_strategy", "", "exponential", "exponential (Flink's default since 1.19: 1 s, x1.5, 60 s max, jitter 0.1) or fixed (restart_delay_s); a leader change restarts at once, as Flink's new leader does"), K_SPECIAL, 0, 0, 0, 0, parse_restart},
    {DOC("restart_delay_s", "s", "1", "fixed-delay restart delay"), K_SECONDS, AT(restart_delay_ns), 0, 0, 1e5, NULL},
    {DOC("deploy_ms", "ms", "500", "fixed cost of every restart and rescale: deploying the tasks (shardsim's estimate)"), K_MILLIS, AT(deploy_ns), 0, 0, 1e8, NULL},
    {DOC("state_backend_start_ms", "ms", "100", "fixed cost of every restart and rescale: starting the state backend, before the restore (shardsim's estimate)"), K_MILLIS, AT(state_backend_start_ns), 0, 0, 1e8, NULL},
    {DOC("faults", "", "", "schedule: 'T crash-worker W', 'restart-worker W', 'rescale N', 'crash-jm J', 'partition-jm J D', 'expire-session J', 'crash-zk K', 'restart-zk K', 'lose-quorum D', 'slow-zk FACTOR D', 'drop-connection J', 'crash-leader 0', 'partition-leader 0 D', 'pause-jm J D', 'pause-leader 0 D' (a process pause, as from a long GC: it sends nothing and hears nothing for D, then carries on as it was) (T, D in s; ';' between; T may be 'A+U(B,C)': A plus a uniform draw from B to C, per run from its fault stream, written to run-NNN/faults.txt)"), K_SPECIAL, 0, 0, 0, 0, parse_faults},
    {DOC("random_faults", "", "0", "faults drawn per run from the seeded fault stream, of the kinds the configuration has (a random campaign: sweep the seed or repeat); run-NNN/faults.txt has the schedule"), K_U32, AT(random_faults), 0, 0, 16, NULL},
    {DOC("coordination", "", "none", "none (one job manager that never fails), mock (HA through the ZooKeeper model) or zookeeper (HA through a real ZooKeeper at zk_connect, in real time)"), K_SPECIAL, 0, 0, 0, 0, parse_coordination},
    {DOC("time_scale", "", "1", "runs against a real ZooKeeper (real time): real seconds per simulated second of the job model; coordination timeouts stay real"), K_DOUBLE, AT(time_scale), 0, 0.001, 1000, NULL},
    {DOC("zk_connect", "", "", "coordination = zookeeper: the servers, host:port[,host:port...]"), K_STRING, AT(zk_connect), sizeof(((sim_config *)0)->zk_connect), 0, 0, NULL},
    {DOC("job_managers", "", "2", "job managers contending for leadership (with a coordination service)"), K_U32, AT(job_managers), 0, 1, 16, NULL},
    {DOC("session_timeout_s", "s", "10", "coordination session timeout requested (clamped to 2..20 ticks) (Flink: 60, which a default ZooKeeper caps at 40; 10 keeps failover runs short)"), K_SECONDS, AT(session_timeout_ns), 0, 0.001, 1e5, NULL},
    {DOC("zk_tick_s", "s", "2", "the coordination service's tick (ZooKeeper tickTime)"), K_SECONDS, AT(zk_tick_ns), 0, 0.001, 1e4, NULL},
    {DOC("zk_servers", "", "3", "coordination ensemble size; a quorum must be up"), K_U32, AT(zk_servers), 0, 1, 15, NULL},
    {DOC("zk_read_us", "us", "220", "mean round trip of a coordination read (a get measured on a local ZooKeeper 3.8)"), K_MICROS, AT(zk_read_ns), 0, 0, 1e9, NULL},
    {DOC("zk_write_us", "us", "500", "mean round trip of a coordination write (quorum commit; a create measured on a local ZooKeeper 3.8 with fsync)"), K_MICROS, AT(zk_write_ns), 0, 0, 1e9, NULL},
    {DOC("zk_latency_dist", "", "lognormal", "constant, exponential or lognormal"), K_SPECIAL, 0, 0, 0, 0, parse_zk_dist},
    {DOC("zk_latency_sigma", "", "0.5", "lognormal sigma of coordination latency"), K_DOUBLE, AT(zk_latency_sigma), 0, 0, 10, NULL},
    {DOC("zk_election_ms", "ms", "430", "the coordination ensemble's leader election after its leader is lost: every client is disconnected meanwhile (ZooKeeper 3.8 on loopback: ~430)"), K_MILLIS, AT(zk_election_ns), 0, 1, 1e7, NULL},
    {DOC("zk_reconnect_ms", "ms", "50", "mean delay of a coordination client's reconnection attempt (drawn uniformly in 0..2x)"), K_MILLIS, AT(zk_reconnect_ns), 0, 0, 1e7, NULL},
    {DOC("zk_follower_lag_us", "us", "0", "followers apply a commit this much after the leader: their clients read stale data until then (zk_servers > 1)"), K_MICROS, AT(zk_follower_lag_ns), 0, 0, 1e10, NULL},
    {DOC("zk_sync", "", "1", "1: a new leader syncs before reading the latest checkpoint pointer (0: its read may be stale)"), K_U32, AT(zk_sync), 0, 0, 1, NULL},
    {DOC("zk_profile", "", "", "latency profile file: per operation type median_us and p99_us (see README)"), K_STRING, AT(zk_profile), sizeof(((sim_config *)0)->zk_profile), 0, 0, NULL},
    {DOC("tolerate_suspended", "", "0", "1: a leader keeps leading while DISCONNECTED, until EXPIRED"), K_U32, AT(tolerate_suspended), 0, 0, 1, NULL},
    {DOC("fencing", "", "1", "1: checkpoint commits check the leader's election node (0: off, to show split brain)"), K_U32, AT(fencing), 0, 0, 1, NULL},
    {DOC("assignment", "", "direct", "direct, or coordinated: the leader writes subtask -> worker into the service and workers start when they see it"), K_SPECIAL, 0, 0, 0, 0, parse_assignment},
    {DOC("worker_detection", "", "heartbeat+rpc+connection", "how a lost worker is noticed, the earliest of those joined by '+': heartbeat (Flink: heartbeat_timeout_s since the last answered heartbeat), rpc (Flink: the heartbeat_rpc_failures-th heartbeat refused by the dead process), connection (Flink: at once, plus connection_detect_ms, when its tasks' network channels break; only a worker whose tasks exchange records with another worker), session (the design text's scheme: its ephemeral node goes with its session; needs a coordination service). Default: Flink's behaviour, heartbeat+rpc+connection"), K_SPECIAL, 0, 0, 0, 0, parse_detection},
    {DOC("history", "", "0", "1: record every coordination call, answer, watch event and session change into run-NNN/coordination.jsonl (JSON Lines, see README's Coordination histories); a model run (coordination = mock) records and checks its history for linearizability at the end either way"), K_U32, AT(history), 0, 0, 1, NULL},
    {DOC("window_s", "s", "1", "time-series window"), K_SECONDS, AT(window_ns), 0, 0.001, 1e5, NULL},
    {DOC("label", "", "", "free text carried into the results"), K_STRING, AT(label), sizeof(((sim_config *)0)->label), 0, 0, NULL},
    {DOC("debug_corrupt_checkpoint", "", "0", "test switch: corrupt the first checkpoint blob"), K_U32, AT(debug_corrupt_checkpoint), 0, 0, 1, NULL},
    {DOC("debug_skip_replay", "", "0", "test switch: restart without rewinding the sources"), K_U32, AT(debug_skip_replay), 0, 0, 1, NULL},
    {DOC("mutations", "", "", "test switch: built-in bugs that the campaign's checks must catch, ',' between (listed under 'mutations' by --keys)"), K_SPECIAL, 0, 0, 0, 0, parse_mutations},
};

static const struct mutation {
    const char *name;
    uint32_t bit;
    const char *help;
} mutations[] = {
    {"no-fencing", SIM_MUT_NO_FENCING, "checkpoint commits skip the check of the leader's election node"},
    {"restore-older", SIM_MUT_RESTORE_OLDER, "a restore uses the second-newest committed checkpoint"},
    {"no-rewind", SIM_MUT_NO_REWIND, "a restore does not rewind the sources to the checkpoint's offset"},
    {"group-two-owners", SIM_MUT_GROUP_TWO_OWNERS, "a rescale gives one key group to two subtasks"},
    {"snapshot-drops-group", SIM_MUT_SNAPSHOT_DROPS_GROUP, "a snapshot leaves one key group out"},
    {"counter-no-cas", SIM_MUT_COUNTER_NO_CAS, "the checkpoint id counter is read, then set without a version check"},
    {"ephemeral-survives", SIM_MUT_EPHEMERAL_SURVIVES, "the coordination model keeps ephemeral nodes of expired sessions"},
    {"watch-after-reply", SIM_MUT_WATCH_AFTER_REPLY, "the coordination model delivers a watch after the reply that follows it"},
    {"sequential-reuse", SIM_MUT_SEQUENTIAL_REUSE, "the coordination model reuses a sequential number after a delete"},
    {"herd-latch", SIM_MUT_HERD_LATCH, "every leader-latch contender watches the lowest node (herd effect)"},
    {"checker-counts", SIM_MUT_CHECKER_COUNTS, "the exactly-once check compares counts only, not sums"},
};
/* clang-format on */

#define SPEC_COUNT (sizeof specs / sizeof specs[0])

const config_key *config_key_at(size_t i) {
    return i < SPEC_COUNT ? &specs[i].doc : NULL;
}

static void error(char *err, size_t n, const char *key, const char *what, const char *value) {
    snprintf(err, n, "%s: %s, got '%s'", key, what, value);
}

static int name_in(const char *v, const char *const *names) {
    for (int i = 0; names[i]; i++)
        if (strcmp(v, names[i]) == 0)
            return i;
    return -1;
}

static int parse_partitioner(sim_config *c, const char *v, char *err, size_t n) {
    if (!part_scheme_known(v)) {
        error(err, n, "partitioner",
              "expected modulo, flink, jump, ring, rendezvous, maglev or bounded", v);
        return SS_EINVAL;
    }
    snprintf(c->partitioner, sizeof c->partitioner, "%s", v);
    return 0;
}

static int parse_enum(int *out, const char *key, const char *v, const char *const *names,
                      const char *expect, char *err, size_t n) {
    int i = name_in(v, names);
    if (i < 0) {
        error(err, n, key, expect, v);
        return SS_EINVAL;
    }
    *out = i;
    return 0;
}

static int parse_hash(sim_config *c, const char *v, char *err, size_t n) {
    static const char *const names[] = {"crc32c", "murmur3", NULL};
    return parse_enum(&c->hash, "hash", v, names, "expected crc32c or murmur3", err, n);
}

static int parse_placement(sim_config *c, const char *v, char *err, size_t n) {
    return parse_enum(&c->placement, "placement", v, place_strategy_names,
                      "expected round-robin, random, hash, first-fit or spread", err, n);
}

static int parse_key_dist(sim_config *c, const char *v, char *err, size_t n) {
    static const char *const names[] = {"uniform", "zipf", "hotset", "file", NULL};
    return parse_enum(&c->key_dist, "key_dist", v, names, "expected uniform, zipf, hotset or file",
                      err, n);
}

static const char *const dist_names[] = {"constant", "exponential", "lognormal", NULL};

static int parse_net_dist(sim_config *c, const char *v, char *err, size_t n) {
    return parse_enum(&c->net_dist, "net_latency_dist", v, dist_names,
                      "expected constant, exponential or lognormal", err, n);
}

static int parse_service_dist(sim_config *c, const char *v, char *err, size_t n) {
    return parse_enum(&c->service_dist, "service_dist", v, dist_names,
                      "expected constant, exponential or lognormal", err, n);
}

static int parse_coordination(sim_config *c, const char *v, char *err, size_t n) {
    if (strcmp(v, "none") == 0) {
        c->coordination = SIM_COORD_NONE;
        c->coord_backend[0] = '\0';
        return 0;
    }
    if (!coord_backend_find(v) || strlen(v) >= sizeof c->coord_backend) {
        snprintf(err, n, "coordination: expected none or a backend (%s), got '%s'",
                 coord_backend_names(), v);
        return SS_EINVAL;
    }
    c->coordination = SIM_COORD_HA;
    snprintf(c->coord_backend, sizeof c->coord_backend, "%s", v);
    return 0;
}

/* 'heartbeat+rpc+connection': detectors joined by '+', each once at most. */
static int parse_detection(sim_config *c, const char *v, char *err, size_t n) {
    static const char *const names[] = {"heartbeat", "rpc", "connection", "session", NULL};
    char buf[128];
    unsigned modes = 0;
    snprintf(buf, sizeof buf, "%s", v);
    char *save = NULL;
    for (char *tok = strtok_r(buf, "+", &save); tok; tok = strtok_r(NULL, "+", &save)) {
        int i = name_in(tok, names);
        if (i < 0 || modes & (1u << i) || strlen(v) >= sizeof buf) {
            error(err, n, "worker_detection",
                  "expected heartbeat, rpc, connection or session, or several joined by '+'", v);
            return SS_EINVAL;
        }
        modes |= 1u << i; /* names are in SIM_DETECT_BY_* order */
    }
    if (!modes || v[0] == '+' || v[strlen(v) - 1] == '+' || strstr(v, "++")) {
        error(err, n, "worker_detection",
              "expected heartbeat, rpc, connection or session, or several joined by '+'", v);
        return SS_EINVAL;
    }
    c->worker_detect = modes;
    c->worker_detection = modes & SIM_DETECT_BY_SESSION ? SIM_DETECT_SESSION : SIM_DETECT_HEARTBEAT;
    return 0;
}

int config_mutation_at(size_t i, const char **name, uint32_t *bit, const char **help) {
    if (i >= sizeof mutations / sizeof mutations[0])
        return 0;
    *name = mutations[i].name;
    *bit = mutations[i].bit;
    *help = mutations[i].help;
    return 1;
}

static int parse_mutations(sim_config *c, const char *v, char *err, size_t n) {
    uint32_t bits = 0;
    for (const char *p = v; *p;) {
        size_t len = strcspn(p, ",");
        size_t i = 0;
        while (i < sizeof mutations / sizeof mutations[0] &&
               (strlen(mutations[i].name) != len || strncmp(p, mutations[i].name, len) != 0))
            i++;
        if (i == sizeof mutations / sizeof mutations[0]) {
            snprintf(err, n, "mutations: unknown mutation '%.*s' (see shardsim run --keys)",
                     (int)(len < 64 ? len : 64), p);
            return SS_EINVAL;
        }
        bits |= mutations[i].bit;
        p += len + (p[len] == ',');
    }
    c->mutations = bits;
    return 0;
}

static int parse_assignment(sim_config *c, const char *v, char *err, size_t n) {
    static const char *const names[] = {"direct", "coordinated", NULL};
    return parse_enum(&c->coordinated_assignment, "assignment", v, names,
                      "expected direct or coordinated", err, n);
}

static int parse_zk_dist(sim_config *c, const char *v, char *err, size_t n) {
    return parse_enum(&c->zk_latency_dist, "zk_latency_dist", v, dist_names,
                      "expected constant, exponential or lognormal", err, n);
}

static int parse_restart(sim_config *c, const char *v, char *err, size_t n) {
    static const char *const names[] = {"fixed", "exponential", NULL};
    return parse_enum(&c->restart_strategy, "restart_strategy", v, names,
                      "expected fixed or exponential", err, n);
}

/* A whole decimal number, nothing else. */
static int number(const char *s, double *out) {
    if (!s || !*s || *s == ' ')
        return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    while (*end == ' ')
        end++;
    if (errno || *end || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

static int parse_profile(sim_config *c, const char *v, char *err, size_t n) {
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", v);
    c->step_count = 0;
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ')
            tok++;
        char *colon = strchr(tok, ':');
        double t, r;
        if (!colon || c->step_count == SIM_MAX_STEPS) {
            error(err, n, "rate_profile", "expected up to 32 steps TIME_S:RATE, comma-separated",
                  v);
            return SS_EINVAL;
        }
        *colon = '\0';
        if (number(tok, &t) || number(colon + 1, &r) || t < 0 || r < 1 ||
            (c->step_count && t * 1e9 <= (double)c->step_at_ns[c->step_count - 1])) {
            error(err, n, "rate_profile", "expected increasing times >= 0 and rates >= 1", v);
            return SS_EINVAL;
        }
        c->step_at_ns[c->step_count] = (uint64_t)llround(t * 1e9);
        c->step_rate[c->step_count++] = r;
    }
    return 0;
}

int config_fault_lasts(int kind) {
    return kind == SIM_FAULT_PARTITION_JM || kind == SIM_FAULT_SLOW_ZK ||
           kind == SIM_FAULT_PARTITION_LEADER || kind == SIM_FAULT_PAUSE_JM ||
           kind == SIM_FAULT_PAUSE_LEADER;
}

/* The fault actions, indexed by SIM_FAULT_*. */
static const char *const fault_names[] = {
    "crash-worker",     "restart-worker", "rescale",         "crash-jm",
    "partition-jm",     "expire-session", "crash-zk",        "restart-zk",
    "lose-quorum",      "slow-zk",        "drop-connection", "crash-leader",
    "partition-leader", "pause-jm",       "pause-leader",    NULL};

size_t config_format_faults(const sim_fault *f, uint32_t count, char *out, size_t size) {
    size_t len = 0;
    if (size)
        out[0] = '\0';
    for (uint32_t i = 0; i < count && len < size; i++) {
        int with_duration = config_fault_lasts(f[i].kind);
        /* milliseconds, or microseconds for a time between them */
        int n = snprintf(out + len, size - len, "%s%.*f %s %u", i ? "; " : "",
                         f[i].at_ns % 1000000 ? 6 : 3, (double)f[i].at_ns / 1e9,
                         fault_names[f[i].kind], f[i].target);
        if (n > 0 && with_duration && len + (size_t)n < size)
            n += snprintf(out + len + (size_t)n, size - len - (size_t)n, " %.3f",
                          (double)f[i].duration_ns / 1e9);
        len += n > 0 ? (size_t)n : 0;
    }
    return len;
}

/* Fault times and durations are seconds from 0 to this (the longest duration_s): a
 * larger one, like nan or inf, could never happen and would be ignored silently. */
#define FAULT_MAX_S 1e6

/* A fault's time or duration in seconds: 0; -1 when w is not a number; -2 when it is
 * one, but not from 0 to FAULT_MAX_S (nan, inf, 1e300, -1). */
static int fault_seconds(const char *w, double *out) {
    char *end;
    errno = 0;
    double v = strtod(w, &end);
    if (end == w || *end)
        return -1;
    if (!(v >= 0 && v <= FAULT_MAX_S))
        return -2;
    *out = v;
    return 0;
}

/* A fault's time: plain seconds, or 'A+U(B,C)' -- A plus a uniform draw from B to C,
 * drawn per run (sim/faults.c) -- each part as fault_seconds checks it, B <= C and
 * A + C within FAULT_MAX_S. 0, -1 (malformed) or -2 (out of range). */
static int fault_time(const char *w, double *at, double *lo, double *hi) {
    *lo = *hi = 0;
    const char *plus = strstr(w, "+U(");
    if (!plus)
        return fault_seconds(w, at);
    char a[64], b[64], c[64];
    size_t alen = (size_t)(plus - w), wlen = strlen(w);
    const char *comma = strchr(plus, ',');
    if (alen == 0 || alen >= sizeof a || !comma || w[wlen - 1] != ')' ||
        (size_t)(comma - plus - 3) >= sizeof b || (size_t)(w + wlen - 1 - comma - 1) >= sizeof c)
        return -1;
    snprintf(a, sizeof a, "%.*s", (int)alen, w);
    snprintf(b, sizeof b, "%.*s", (int)(comma - plus - 3), plus + 3);
    snprintf(c, sizeof c, "%.*s", (int)(w + wlen - 1 - comma - 1), comma + 1);
    int ra = fault_seconds(a, at), rb = fault_seconds(b, lo), rc = fault_seconds(c, hi);
    if (ra == -1 || rb == -1 || rc == -1 || *lo > *hi)
        return -1;
    if (ra || rb || rc || *at + *hi > FAULT_MAX_S)
        return -2;
    return 0;
}

static int parse_faults(sim_config *c, const char *v, char *err, size_t n) {
    char buf[2048];
    snprintf(buf, sizeof buf, "%s", v);
    c->fault_count = 0;
    char *save = NULL;
    for (char *tok = strtok_r(buf, ";", &save); tok; tok = strtok_r(NULL, ";", &save)) {
        char entry[256], *word[5], *at = NULL;
        int words = 0;
        snprintf(entry, sizeof entry, "%s", tok);
        for (char *w = strtok_r(entry, " \t", &at); w && words < 5; w = strtok_r(NULL, " \t", &at))
            word[words++] = w;
        double t = 0, lo = 0, hi = 0, target = 0, duration = 0;
        int when = words >= 1 ? fault_time(word[0], &t, &lo, &hi) : -1;
        int named = words >= 2 ? name_in(word[1], fault_names) : -1;
        int timed = named >= 0 && config_fault_lasts(named);
        int lasting = timed && words == 4 ? fault_seconds(word[3], &duration) : 0;
        if (words != 3 + timed || when == -1 || lasting == -1 || number(word[2], &target) ||
            target < 0 || target != floor(target) || target > 1e6) {
            error(err, n, "faults",
                  "expected 'TIME_S ACTION N' entries separated by ';' (TIME_S may be "
                  "'A+U(B,C)': A plus a uniform draw from B to C per run; partition-jm, "
                  "partition-leader, pause-jm, pause-leader and slow-zk take a duration too: "
                  "'TIME_S partition-jm J DURATION_S')",
                  tok);
            return SS_EINVAL;
        }
        if (when != 0 || lasting != 0) {
            error(err, n, "faults", "times and durations must be seconds from 0 to 1e6", tok);
            return SS_EINVAL;
        }
        int action_kind = name_in(word[1], fault_names);
        if (action_kind < 0) {
            error(err, n, "faults",
                  "unknown action (crash-worker, restart-worker, rescale, crash-jm, partition-jm, "
                  "expire-session, crash-zk, restart-zk, lose-quorum, slow-zk, drop-connection, "
                  "crash-leader, partition-leader, pause-jm, pause-leader)",
                  word[1]);
            return SS_EINVAL;
        }
        if (c->fault_count == SIM_MAX_FAULTS) {
            error(err, n, "faults", "at most 32 entries", v);
            return SS_EINVAL;
        }
        c->faults[c->fault_count++] = (sim_fault){.at_ns = (uint64_t)llround(t * 1e9),
                                                  .spread_lo_ns = (uint64_t)llround(lo * 1e9),
                                                  .spread_hi_ns = (uint64_t)llround(hi * 1e9),
                                                  .kind = action_kind,
                                                  .target = (uint32_t)target,
                                                  .duration_ns = (uint64_t)llround(duration * 1e9)};
    }
    return 0;
}

static const key_spec *find(const char *key) {
    for (size_t i = 0; i < SPEC_COUNT; i++)
        if (strcmp(specs[i].doc.name, key) == 0)
            return &specs[i];
    return NULL;
}

int config_set(sim_config *c, const char *key, const char *value, char *err, size_t errlen) {
    const key_spec *s = find(key);
    if (!s) {
        snprintf(err, errlen, "unknown key '%s' (shardsim run --keys lists them)", key);
        return SS_EINVAL;
    }
    if (s->kind == K_SPECIAL)
        return s->parse(c, value, err, errlen);
    char *field = (char *)c + s->offset;
    if (s->kind == K_STRING) {
        if (strlen(value) >= s->size) {
            error(err, errlen, key, "too long", value);
            return SS_EINVAL;
        }
        memcpy(field, value, strlen(value) + 1);
        return 0;
    }
    double v;
    int whole = s->kind == K_U32 || s->kind == K_U64;
    if (number(value, &v) || v < s->min || v > s->max || (whole && v != floor(v))) {
        char what[128];
        snprintf(what, sizeof what, "expected %s from %g to %g",
                 whole ? "a whole number" : "a number", s->min, s->max);
        error(err, errlen, key, what, value);
        return SS_EINVAL;
    }
    switch (s->kind) {
    case K_U32:
        if (s->offset == AT(debug_corrupt_checkpoint) || s->offset == AT(debug_skip_replay) ||
            s->offset == AT(tolerate_suspended) || s->offset == AT(fencing))
            *(int *)(void *)field = (int)v;
        else
            *(uint32_t *)(void *)field = (uint32_t)v;
        break;
    case K_U64:
        *(uint64_t *)(void *)field = (uint64_t)v;
        break;
    case K_SECONDS:
        *(uint64_t *)(void *)field = (uint64_t)llround(v * 1e9);
        break;
    case K_MILLIS:
        *(uint64_t *)(void *)field = (uint64_t)llround(v * 1e6);
        break;
    case K_MICROS:
        *(double *)(void *)field = v * 1e3;
        break;
    case K_MBPS:
        *(double *)(void *)field = v * 1e6;
        break;
    default:
        *(double *)(void *)field = v;
    }
    return 0;
}

void config_defaults(sim_config *c) {
    memset(c, 0, sizeof *c);
    char err[256];
    for (size_t i = 0; i < SPEC_COUNT; i++)
        config_set(c, specs[i].doc.name, specs[i].doc.default_text, err, sizeof err);
}

/* The key file's faults, found before any run starts (sim.c loads it for each run). */
static int check_key_file(const char *path, char *err, size_t errlen) {
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "key_file: cannot open '%s'", path);
        return SS_EINVAL;
    }
    char *line = NULL;
    size_t cap = 0, lines = 0;
    ssize_t len;
    int rc = 0;
    while (rc == 0 && (len = keys_next_line(f, &line, &cap)) >= 0) {
        lines++;
        if (len == 0) {
            snprintf(err, errlen, "%s:%zu: empty key", path, lines);
            rc = SS_EINVAL;
        }
    }
    if (rc == 0 && lines == 0) {
        snprintf(err, errlen, "key_file: '%s' has no keys", path);
        rc = SS_EINVAL;
    }
    free(line);
    fclose(f);
    return rc;
}

void config_coord(const sim_config *c, uint64_t seed, coord_config *cc) {
    coord_config_defaults(cc);
    cc->tick_ns = c->zk_tick_ns;
    cc->servers = c->zk_servers;
    cc->read_ns = (uint64_t)c->zk_read_ns;
    cc->write_ns = (uint64_t)c->zk_write_ns;
    cc->latency_dist = c->zk_latency_dist; /* same order: constant, exponential, lognormal */
    cc->latency_sigma = c->zk_latency_sigma;
    cc->seed = seed;
    cc->follower_lag_ns = (uint64_t)c->zk_follower_lag_ns;
    cc->election_ns = c->zk_election_ns;
    cc->reconnect_ns = c->zk_reconnect_ns;
    cc->profile = c->zk_profile[0] ? c->zk_profile : NULL;
    cc->connect = c->zk_connect[0] ? c->zk_connect : NULL;
    cc->mutations = (c->mutations & SIM_MUT_EPHEMERAL_SURVIVES ? COORD_MUT_EPHEMERAL_SURVIVES : 0) |
                    (c->mutations & SIM_MUT_WATCH_AFTER_REPLY ? COORD_MUT_WATCH_AFTER_REPLY : 0) |
                    (c->mutations & SIM_MUT_SEQUENTIAL_REUSE ? COORD_MUT_SEQUENTIAL_REUSE : 0);
}

int config_records_history(const sim_config *c) {
    const coord_backend *b = coord_backend_find(c->coord_backend);
    return c->coordination == SIM_COORD_HA && (c->history || (b && !b->real_time));
}

/* The fault-table entries a fault kind needs; the flags are ORed. */
enum {
    NEED_KILL = 1,
    NEED_PARTITION = 2,
    NEED_EXPIRE = 4,
    NEED_CRASH = 8,
    NEED_RESTART = 16,
    NEED_SLOW = 32,
    NEED_DROP = 64,
    NEED_PAUSE = 128 /* a process pause: a virtual-time backend that can partition */
};

static int fault_needs(const sim_config *c, int kind) {
    switch (kind) {
    case SIM_FAULT_CRASH_JM:
    case SIM_FAULT_CRASH_LEADER:
        return NEED_KILL;
    case SIM_FAULT_CRASH_WORKER: /* its session dies with it */
        return c->worker_detection == SIM_DETECT_SESSION ? NEED_KILL : 0;
    case SIM_FAULT_PARTITION_JM:
    case SIM_FAULT_PARTITION_LEADER:
        return NEED_PARTITION;
    case SIM_FAULT_EXPIRE_SESSION:
        return NEED_EXPIRE;
    case SIM_FAULT_CRASH_ZK:
        return NEED_CRASH;
    case SIM_FAULT_RESTART_ZK:
        return NEED_RESTART;
    case SIM_FAULT_LOSE_QUORUM:
        return NEED_CRASH | NEED_RESTART;
    case SIM_FAULT_SLOW_ZK:
        return NEED_SLOW;
    case SIM_FAULT_DROP_CONNECTION:
        return NEED_DROP;
    case SIM_FAULT_PAUSE_JM:
    case SIM_FAULT_PAUSE_LEADER:
        return NEED_PAUSE;
    default:
        return 0;
    }
}

int config_fault_supported(const sim_config *c, int kind) {
    int need = fault_needs(c, kind);
    if (!need || c->coordination != SIM_COORD_HA)
        return 1;
    const coord_backend *b = coord_backend_find(c->coord_backend);
    const coord_fault_ops *f = b ? b->faults : NULL;
    if (!f)
        return 0;
    /* The service stops hearing a paused client (partition_client) and the HA holds its
     * callbacks; a real service's client library runs on its own threads, which a
     * simulated pause cannot stop: a pause cannot be injected there. */
    if (need & NEED_PAUSE && (b->real_time || !f->partition_client))
        return 0;
    return !(
        (need & NEED_KILL && !f->kill_client) || (need & NEED_PARTITION && !f->partition_client) ||
        (need & NEED_EXPIRE && !f->expire_session) || (need & NEED_CRASH && !f->crash_server) ||
        (need & NEED_RESTART && !f->restart_server) || (need & NEED_SLOW && !f->slow) ||
        (need & NEED_DROP && !f->drop_connection));
}

/* The backend accepts the configuration and can inject every fault of the schedule. */
static int config_check_coordination(const sim_config *c, char *err, size_t errlen) {
    const coord_backend *b = coord_backend_find(c->coord_backend);
    if (!b) {
        snprintf(err, errlen, "coordination: no backend '%s'", c->coord_backend);
        return SS_EINVAL;
    }
    for (uint32_t i = 0; i < c->fault_count; i++)
        if (!config_fault_supported(c, c->faults[i].kind)) {
            snprintf(err, errlen, "faults: coordination = %s cannot inject '%s'", b->name,
                     fault_names[c->faults[i].kind]);
            return SS_EINVAL;
        }
    if (b->real_time && !c->zk_connect[0]) {
        snprintf(err, errlen,
                 "zk_connect: coordination = %s needs the servers: --set "
                 "zk_connect=HOST:PORT[,HOST:PORT...]",
                 b->name);
        return SS_EINVAL;
    }
    coord_config cc;
    config_coord(c, 0, &cc);
    char why[512] = "";
    if (b->config_check && b->config_check(&cc, why, sizeof why) != 0) {
        snprintf(err, errlen, "%s%s", b->real_time ? "zk_connect: " : "", why);
        return SS_EINVAL;
    }
    return 0;
}

int config_check(const sim_config *c, char *err, size_t errlen) {
    uint64_t slots = (uint64_t)c->workers * c->slots_per_worker;
    if (c->parallelism > slots) {
        snprintf(err, errlen,
                 "parallelism %u needs more slots than workers x slots_per_worker = %llu",
                 c->parallelism, (unsigned long long)slots);
        return SS_EINVAL;
    }
    uint32_t groups = c->max_parallelism ? c->max_parallelism
                                         : part_default_groups(c->partitioner, c->parallelism);
    if (c->parallelism > groups) {
        snprintf(err, errlen, "parallelism %u is above max_parallelism %u", c->parallelism, groups);
        return SS_EINVAL;
    }
    if (c->coordinated_assignment && c->coordination != SIM_COORD_HA) {
        snprintf(err, errlen, "assignment = coordinated needs a coordination service");
        return SS_EINVAL;
    }
    if (c->worker_detection == SIM_DETECT_SESSION && c->coordination != SIM_COORD_HA) {
        snprintf(err, errlen, "worker_detection = session needs a coordination service");
        return SS_EINVAL;
    }
    if (c->key_dist == SIM_KEYS_FILE && !c->key_file[0]) {
        snprintf(err, errlen, "key_dist = file needs key_file");
        return SS_EINVAL;
    }
    for (uint32_t i = 0; i < c->fault_count; i++) {
        const sim_fault *f = &c->faults[i];
        int jm_fault = f->kind == SIM_FAULT_CRASH_JM || f->kind == SIM_FAULT_PARTITION_JM ||
                       f->kind == SIM_FAULT_EXPIRE_SESSION ||
                       f->kind == SIM_FAULT_DROP_CONNECTION || f->kind == SIM_FAULT_PAUSE_JM;
        int zk_fault = f->kind == SIM_FAULT_CRASH_ZK || f->kind == SIM_FAULT_RESTART_ZK ||
                       f->kind == SIM_FAULT_LOSE_QUORUM || f->kind == SIM_FAULT_SLOW_ZK ||
                       f->kind == SIM_FAULT_CRASH_LEADER || f->kind == SIM_FAULT_PARTITION_LEADER ||
                       f->kind == SIM_FAULT_PAUSE_LEADER;
        if ((jm_fault || zk_fault) && c->coordination != SIM_COORD_HA) {
            snprintf(err, errlen, "faults: coordination faults need a coordination service");
            return SS_EINVAL;
        }
        if (jm_fault && f->target >= c->job_managers) {
            snprintf(err, errlen, "faults: job manager %u does not exist (job_managers = %u)",
                     f->target, c->job_managers);
            return SS_EINVAL;
        }
        if ((f->kind == SIM_FAULT_CRASH_ZK || f->kind == SIM_FAULT_RESTART_ZK) &&
            f->target >= c->zk_servers) {
            snprintf(err, errlen, "faults: coordination server %u does not exist (zk_servers = %u)",
                     f->target, c->zk_servers);
            return SS_EINVAL;
        }
        if (jm_fault || zk_fault)
            continue;
        if (f->kind != SIM_FAULT_RESCALE && f->target >= c->workers) {
            snprintf(err, errlen, "faults: worker %u does not exist (workers = %u)", f->target,
                     c->workers);
            return SS_EINVAL;
        }
        if (f->kind == SIM_FAULT_RESCALE &&
            (f->target == 0 || f->target > slots || f->target > groups)) {
            snprintf(err, errlen, "faults: cannot rescale to %u (slots %llu, max parallelism %u)",
                     f->target, (unsigned long long)slots, groups);
            return SS_EINVAL;
        }
    }
    if (c->key_dist == SIM_KEYS_FILE && check_key_file(c->key_file, err, errlen) != 0)
        return SS_EINVAL;
    if (c->coordination == SIM_COORD_HA) /* a bad profile or address stops every run */
        return config_check_coordination(c, err, errlen);
    return 0;
}

void config_free(sim_config *c) {
    (void)c; /* no heap fields: fixed-size arrays */
}

static const char baseline_ini[] =
    "; baseline.ini -- the default job: 8 keyed subtasks on 4 workers, Flink's\n"
    "; partitioner and evenly-spread placement, 100k records/s of uniform keys for 20 s,\n"
    "; a checkpoint every 5 s. `shardsim run` with no scenario runs this.\n"
    "[General]\n"
    "duration_s = 20\n"
    "workers = 4\n"
    "slots_per_worker = 4\n"
    "parallelism = 8\n"
    "partitioner = flink\n"
    "placement = spread\n"
    "key_dist = uniform\n"
    "keys = 100000\n"
    "rate = 100000\n"
    "checkpoint_interval_s = 5\n";

const char *sim_builtin_scenario(const char *name) {
    return strcmp(name, "baseline") == 0 ? baseline_ini : NULL;
}
