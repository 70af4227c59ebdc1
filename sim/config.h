/* config.h -- everything one simulation run is configured by, with defaults, units and
 * validation. Scenario files (sim/scenario.c) and --set overrides reach a sim_config
 * only through config_set, which knows every key.
 *
 * Ownership: config_set may allocate strings inside the config; config_free
 * releases them. */
#ifndef SHARDSIM_SIM_CONFIG_H
#define SHARDSIM_SIM_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "backends/coord.h"

/* A documented key: README and `shardsim run --help-keys` list these. */
typedef struct config_key {
    const char *name;
    const char *unit; /* "s", "records/s", "" ... */
    const char *default_text;
    const char *help;
} config_key;

/* The i-th documented key, in the README's order; NULL past the last. */
const config_key *config_key_at(size_t i);

enum { SIM_KEYS_UNIFORM, SIM_KEYS_ZIPF, SIM_KEYS_HOTSET, SIM_KEYS_FILE };
enum { SIM_DIST_CONSTANT, SIM_DIST_EXPONENTIAL, SIM_DIST_LOGNORMAL };
enum { SIM_RESTART_FIXED, SIM_RESTART_EXPONENTIAL };
enum {
    SIM_FAULT_CRASH_WORKER,
    SIM_FAULT_RESTART_WORKER,
    SIM_FAULT_RESCALE,
    SIM_FAULT_CRASH_JM,
    SIM_FAULT_PARTITION_JM,
    SIM_FAULT_EXPIRE_SESSION,
    SIM_FAULT_CRASH_ZK,
    SIM_FAULT_RESTART_ZK,
    SIM_FAULT_LOSE_QUORUM,
    SIM_FAULT_SLOW_ZK,
    SIM_FAULT_DROP_CONNECTION,
    SIM_FAULT_CRASH_LEADER,
    SIM_FAULT_PARTITION_LEADER,
    SIM_FAULT_PAUSE_JM,    /* the job manager's process stops (a long GC pause), then resumes */
    SIM_FAULT_PAUSE_LEADER /* ... whichever job manager leads then */
};
/* coordination = none, or HA through the backend named coord_backend */
enum { SIM_COORD_NONE, SIM_COORD_HA };
enum { SIM_DETECT_HEARTBEAT, SIM_DETECT_SESSION };
/* The TaskManager-loss detectors of worker_detection, ORed into sim_config.worker_detect;
 * a lost worker is noticed by the earliest of those configured. */
enum {
    SIM_DETECT_BY_HEARTBEAT = 1,  /* Flink: heartbeat.timeout since the last answer */
    SIM_DETECT_BY_RPC = 2,        /* Flink: heartbeat.rpc-failure-threshold refused RPCs */
    SIM_DETECT_BY_CONNECTION = 4, /* Flink: the tasks' network connections to it break */
    SIM_DETECT_BY_SESSION = 8     /* the design text: its coordination session expires */
};

#define SIM_MAX_FAULTS 32
#define SIM_MAX_STEPS 32

typedef struct sim_fault {
    uint64_t at_ns;                      /* the time; with a spread, the base A of 'A+U(B,C)' */
    uint64_t spread_lo_ns, spread_hi_ns; /* 'A+U(B,C)': B and C (both 0: a fixed time) */
    int kind;                            /* SIM_FAULT_* */
    uint32_t target;      /* worker, job manager, or the new parallelism for a rescale */
    uint64_t duration_ns; /* partition-jm, pause-jm, slow-zk ...: how long */
} sim_fault;

/* One run's configuration. Times are kept in ns, sizes in bytes, rates per second;
 * config_set converts from the documented units of each key. */
typedef struct sim_config {
    uint64_t duration_ns;
    uint32_t workers, slots_per_worker, sources;
    uint32_t parallelism, max_parallelism;
    char partitioner[16];
    int hash; /* part_hash */
    uint32_t vnodes;
    double bound_c;
    int placement; /* place_strategy */
    int key_dist;  /* SIM_KEYS_* */
    uint64_t keys;
    double zipf_s, hot_keys_pct, hot_records_pct;
    char key_file[512];
    double rate;         /* records/s when no profile step applies */
    uint32_t step_count; /* rate profile: from step_at_ns[i] on, step_rate[i] */
    uint64_t step_at_ns[SIM_MAX_STEPS];
    double step_rate[SIM_MAX_STEPS];
    uint32_t value_max;
    int net_dist;
    double net_latency_ns, net_sigma;
    int service_dist;
    double service_ns, service_sigma;
    uint32_t queue_capacity;
    uint32_t buffer_bytes;      /* a network buffer: flushed when full ... */
    uint64_t buffer_timeout_ns; /* ... or by the output flusher (0: after every record) */
    uint64_t checkpoint_interval_ns;
    double snapshot_bytes_per_s, restore_bytes_per_s;
    uint64_t heartbeat_interval_ns, heartbeat_timeout_ns;
    uint32_t heartbeat_rpc_failures; /* refused heartbeat RPCs that declare a worker dead */
    uint64_t connection_detect_ns;   /* from a broken task connection to the job manager */
    int restart_strategy;
    uint64_t restart_delay_ns;
    uint64_t deploy_ns, state_backend_start_ns; /* fixed costs of every restart */
    uint32_t fault_count;
    sim_fault faults[SIM_MAX_FAULTS];
    uint32_t random_faults; /* faults drawn per run from the fault stream (sim/faults.c) */
    uint64_t window_ns;
    char label[64];
    int coordination;       /* SIM_COORD_*: job-manager HA through a coordination service */
    char coord_backend[16]; /* its backend's name (backends/registry.c): "mock" */
    char zk_connect[256];   /* a real service's "host:port,..." (coordination = zookeeper) */
    double time_scale;      /* real time: real seconds per simulated second */
    uint32_t job_managers;
    uint64_t session_timeout_ns, zk_tick_ns;
    uint32_t zk_servers;
    double zk_read_ns, zk_write_ns, zk_latency_sigma;
    int zk_latency_dist;
    double zk_follower_lag_ns; /* followers apply commits this much later */
    uint64_t zk_election_ns;   /* the ensemble's leader election */
    uint64_t zk_reconnect_ns;  /* mean delay of a client's reconnection attempt */
    uint32_t zk_sync;          /* a new leader syncs before reading the pointers */
    char zk_profile[256];      /* latency profile file ("" = none) */
    int tolerate_suspended, fencing;
    int worker_detection;       /* SIM_DETECT_SESSION if worker_detect has the session scheme */
    unsigned worker_detect;     /* SIM_DETECT_BY_* ORed */
    int coordinated_assignment; /* the leader publishes placements; workers start on seeing them */
    int debug_corrupt_checkpoint; /* test switch: flip a byte of the first checkpoint */
    int debug_skip_replay;        /* test switch: restart at the failure point, no replay */
    uint32_t mutations;           /* built-in bugs switched on: SIM_MUT_* bits (tests only) */
    uint32_t history;             /* 1: write run-NNN/coordination.jsonl */
} sim_config;

/* Built-in bugs (the `mutations` key, a ','-separated list of names; none by default):
 * each breaks one thing the campaign's checks must catch (`shardsim check`), which
 * proves the checks bite. Not for use outside tests. */
enum {
    SIM_MUT_NO_FENCING = 1u << 0,       /* no-fencing: commits skip the leader check */
    SIM_MUT_RESTORE_OLDER = 1u << 1,    /* restore-older: restore the second-newest checkpoint */
    SIM_MUT_NO_REWIND = 1u << 2,        /* no-rewind: restore without rewinding the sources */
    SIM_MUT_GROUP_TWO_OWNERS = 1u << 3, /* group-two-owners: a rescale gives a group to two */
    SIM_MUT_SNAPSHOT_DROPS_GROUP = 1u << 4, /* snapshot-drops-group: a group left out */
    SIM_MUT_COUNTER_NO_CAS = 1u << 5,       /* counter-no-cas: checkpoint ids by get-then-set */
    SIM_MUT_EPHEMERAL_SURVIVES = 1u << 6,   /* ephemeral-survives: expiry keeps ephemerals */
    SIM_MUT_WATCH_AFTER_REPLY = 1u << 7,    /* watch-after-reply: watches after the reply */
    SIM_MUT_SEQUENTIAL_REUSE = 1u << 8,     /* sequential-reuse: numbers reused after a delete */
    SIM_MUT_HERD_LATCH = 1u << 9,           /* herd-latch: every contender watches the lowest */
    SIM_MUT_CHECKER_COUNTS = 1u << 10,      /* checker-counts: exactly-once compares counts only */
};

/* The i-th mutation's name, bit and meaning (`--keys` lists them under "mutations");
 * returns 0 past the last. */
int config_mutation_at(size_t i, const char **name, uint32_t *bit, const char **help);

void config_defaults(sim_config *c);
/* Set one key from text. Returns 0, or SS_EINVAL with a message in err such as
 * "unknown key 'foo'" or "parallelism: expected a whole number >= 1, got 'x'". */
int config_set(sim_config *c, const char *key, const char *value, char *err, size_t errlen);
/* Cross-key checks after all keys are set (e.g. parallelism <= max_parallelism).
 * Returns 0, or SS_EINVAL with a message. */
int config_check(const sim_config *c, char *err, size_t errlen);

/* The coordination backend's configuration for a run whose latency stream has seed. */
void config_coord(const sim_config *c, uint64_t seed, coord_config *cc);
/* 1 if a run records its coordination history (and checks it at the end): asked for
 * (history = 1), or always on a model backend. */
int config_records_history(const sim_config *c);
/* 1 if the configured coordination backend can inject faults of this kind (every kind
 * without coordination, and those needing no backend fault). */
int config_fault_supported(const sim_config *c, int kind);
/* 1 if faults of this kind take a duration (partition-jm, partition-leader, pause-jm,
 * pause-leader, slow-zk). */
int config_fault_lasts(int kind);
void config_free(sim_config *c);

/* A fault schedule in the syntax of the `faults` key ("T action N [D]; ..."), so that
 * a drawn campaign can be replayed. Returns the length written (truncated to size). */
size_t config_format_faults(const sim_fault *f, uint32_t count, char *out, size_t size);

/* The INI text of a built-in scenario ("baseline": the same text as
 * bench/scenarios/baseline.ini), or NULL. */
const char *sim_builtin_scenario(const char *name);

#endif
