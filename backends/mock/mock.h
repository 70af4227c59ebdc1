/* mock.h -- an in-process model of a ZooKeeper service in simulated time, behind
 * backends/coord.h, needing no ZooKeeper.
 *
 * What it models (ZooKeeper 3.8 semantics):
 *   - the znode tree: versions, cversion, czxid/mzxid, ephemerals, sequential names from
 *     the parent's cversion (never reused), one-shot data/exists/child watches, multi;
 *   - sessions: the requested timeout is clamped to [min_ticks, max_ticks] ticks; the
 *     client pings when idle for a third of the timeout; the service expires a session
 *     in tick-sized buckets counted from the last ping it heard, so a killed client's
 *     ephemerals go between about 2/3 T and T + tick after its death; a client cut off
 *     from the service sees DISCONNECTED after its read deadline (2/3 T without an
 *     answer) and EXPIRED only when it reconnects after the service expired it;
 *   - per-session FIFO: requests apply and replies arrive in the order they were sent;
 *   - latency: reads and writes take a configured time plus a per-byte term, half on
 *     the way in, half on the way out; watch events reach clients before the reply of
 *     the operation that triggered them.
 *   - an ensemble of S servers: the service is available while a quorum (S/2 + 1) is up
 *     and a leader is elected; losing the leader stalls everything for an election;
 *     losing quorum stalls everything until it is back. While unavailable, clients are
 *     cut off (DISCONNECTED after their read deadline, requests lost as CONNECTIONLOSS)
 *     and no session expires; when it is back every session gets a fresh timeout.
 *   - followers (follower_lag_ns > 0, servers > 1): clients spread over the servers;
 *     writes commit at the leader, and each follower applies them follower_lag_ns
 *     later; a client's reads and watches are its server's, so they can be behind
 *     (sequentially consistent, not linearizable) -- but never behind the client's
 *     own writes; sync brings its server up to date;
 *   - a crashed server's clients see DISCONNECTED at once and connect to the next
 *     live server after reconnect_ns, keeping their session;
 *   - a client cut off from the service hears watch events only once it is back.
 *   - latency per operation type from a profile file (mock_profile_load), else the
 *     read/write means with a constant, exponential or lognormal spread.
 *
 * Faults: kill a client (it stops without closing), cut a client off for a while,
 * expire a session now.
 *
 * Ownership: mock_create allocates the service; sessions are the caller's memory
 * (mock_backend.session_size bytes) and must outlive their close. */
#ifndef SHARDSIM_BACKENDS_MOCK_H
#define SHARDSIM_BACKENDS_MOCK_H

#include <stddef.h>
#include <stdint.h>

#include "backends/coord.h"
#include "core/env.h"
#include "core/histogram.h"

/* Operation types for the statistics, and their names ("create", ..., "sync"). */
enum { MOCK_OP_TYPES = 9 };
const char *mock_op_name(int type); /* 0 .. MOCK_OP_TYPES - 1 */

typedef struct mock_config {
    uint64_t tick_ns;         /* 2 s (ZooKeeper's tickTime) */
    uint32_t min_ticks;       /* 2: minSessionTimeout = 2 ticks */
    uint32_t max_ticks;       /* 20: maxSessionTimeout = 20 ticks */
    uint64_t read_ns;         /* round trip of a read: 500 us */
    uint64_t write_ns;        /* round trip of a write: 2 ms */
    double per_byte_ns;       /* added per byte of data: 1 ns */
    uint32_t servers;         /* ensemble size S: 1 */
    uint64_t election_ns;     /* leader election after the leader is lost: 430 ms (measured) */
    int latency_dist;         /* MOCK_LATENCY_*: how read_ns/write_ns vary: constant */
    double latency_sigma;     /* lognormal sigma: 0.5 */
    uint64_t seed;            /* of the latency stream */
    uint64_t follower_lag_ns; /* a follower applies a commit this much later: 0 */
    uint64_t reconnect_ns;    /* mean delay of a client's reconnection attempt: 50 ms */
    int random_phases;        /* 1: each session's ping phase, the expiry buckets' origin and
                               * every reconnection delay are drawn from the seeded phase
                               * stream (uniform), so seeds cover the crash phases; 0: aligned
                               * to time 0, fixed delays (for tests that pin instants): 1 */
    /* per operation type (mock_op_name): a lognormal round trip with this median and
     * sigma, instead of the read/write means; 0 = not set (from a profile file) */
    double op_median_ns[MOCK_OP_TYPES];
    double op_sigma[MOCK_OP_TYPES];
    /* built-in bugs, for proving that checks catch them (tests only): COORD_MUT_* bits
     * (backends/coord.h), 0 = none. EPHEMERAL_SURVIVES: an expired session's ephemerals
     * stay (a closed one's still go). WATCH_AFTER_REPLY: a session's watch event waits
     * until the reply of its next operation has reached it -- a client that sends
     * nothing more never hears it. SEQUENTIAL_REUSE: deleting a parent's newest
     * sequential child gives its number back to the next create. */
    uint32_t mutations;
} mock_config;

enum { MOCK_LATENCY_CONSTANT, MOCK_LATENCY_EXPONENTIAL, MOCK_LATENCY_LOGNORMAL };

void mock_config_defaults(mock_config *c);

/* Latency profiles (backends/mock/profile.c): an INI file giving, per operation type,
 * median_us and p99_us of a round trip (and [profile] follower_lag_us). load sets
 * those into cfg; on a bad file it returns SS_EINVAL with "FILE:LINE: what" in err and
 * leaves cfg alone. save writes cfg's per-type latencies (temp file, then rename).
 *
 * A profile measured by `shardsim calibrate` also carries reference figures of the
 * real service, which the model does not use but the fidelity benchmark compares it
 * to; every one of these sections is optional, and load accepts and skips them:
 *   [profile] source = TEXT, tick_ms = N (the server's tickTime, 0: unknown)
 *   [watch] median_us, p99_us (watch delivery: a set on one session to a data watch
 *     of another firing)
 *   [failover T=4], [failover_close T=4], [member_loss T=4] (T: the session timeout in
 *     seconds): median_ms, p10_ms, p90_ms, min_ms, max_ms, trials -- leader-election
 *     failover after the leader's process is SIGKILLed, after it closes its session,
 *     and a member's loss seen by a children watch after its process is SIGKILLed. */
enum { MOCK_PROFILE_MAX_TIMEOUTS = 8 };

typedef struct mock_profile_figure {
    double timeout_s; /* the session timeout the figure was measured with */
    double median_ms, p10_ms, p90_ms, min_ms, max_ms;
    uint32_t trials;
} mock_profile_figure;

typedef struct mock_profile_reference {
    char source[256];                     /* "" when not given */
    double tick_ms;                       /* 0: unknown or not given */
    double watch_median_us, watch_p99_us; /* 0: not given */
    mock_profile_figure failover[MOCK_PROFILE_MAX_TIMEOUTS];
    mock_profile_figure failover_close[MOCK_PROFILE_MAX_TIMEOUTS];
    mock_profile_figure member_loss[MOCK_PROFILE_MAX_TIMEOUTS];
    size_t failover_count, failover_close_count, member_loss_count; /* in file order */
} mock_profile_reference;

int mock_profile_load(const char *path, mock_config *cfg, char *err, size_t errlen);
int mock_profile_save(const char *path, const mock_config *cfg, const char *source);
/* As mock_profile_load, also filling ref (zeroed first) with the reference figures;
 * cfg or ref may be NULL. A figure section needs every key, with p10 <= median <= p90
 * and min <= max, trials >= 1; a timeout listed twice in one kind is an error. */
int mock_profile_read(const char *path, mock_config *cfg, mock_profile_reference *ref, char *err,
                      size_t errlen);
/* As mock_profile_save, also writing ref's sections (ref may be NULL; its source, if
 * not empty, is the [profile] source). */
int mock_profile_save_reference(const char *path, const mock_config *cfg,
                                const mock_profile_reference *ref);

typedef struct mock_zk mock_zk;

extern const coord_backend mock_backend;

/* The service; its address is the `service` argument of mock_backend.open. */
int mock_create(const env *e, const mock_config *cfg, mock_zk **out);
void mock_free(mock_zk *zk);

/* Faults. */
void mock_crash_server(mock_zk *zk, uint32_t server);
void mock_restart_server(mock_zk *zk, uint32_t server);
int mock_available(const mock_zk *zk); /* quorum up and a leader elected */
void mock_kill_client(mock_zk *zk, coord_session *s);
/* The client's connection breaks: DISCONNECTED now, connected again at its next ping. */
void mock_drop_connection(mock_zk *zk, coord_session *s);
/* Every operation takes factor times longer for duration_ns. A reply later than the
 * client's read deadline (2/3 of its timeout after sending) reaches it as
 * OPERATIONTIMEOUT -- the operation may still have been applied. */
void mock_slow(mock_zk *zk, double factor, uint64_t duration_ns);
void mock_partition_client(mock_zk *zk, coord_session *s, uint64_t duration_ns);
void mock_expire_session(mock_zk *zk, coord_session *s);
/* When the service ended the session (expiry or close), 0 while it lives. */
uint64_t mock_session_ended_ns(const coord_session *s);

/* Counters: operations applied, sessions expired; per type, replies and their latency
 * (from the request to the reply reaching the client). */
uint64_t mock_ops_applied(const mock_zk *zk);
uint64_t mock_op_count(const mock_zk *zk, int type);
uint64_t mock_op_latency_ns(const mock_zk *zk, int type, double quantile);
const hist *mock_op_histogram(const mock_zk *zk, int type); /* NULL for a bad type */
uint64_t mock_sessions_expired(const mock_zk *zk);

#endif
