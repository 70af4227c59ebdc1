/* zk_internal.h -- the ZooKeeper backend's structures, shared by its files: zk.c (the
 * service, sessions, close and the hand-over of messages to the loop), zk_ops.c (the
 * operations and their completions), zk_faults.c (fault injection and statistics).
 *
 * Threads: a session's fields are the loop thread's, except its pending operations and
 * watches (the lists under `lock`), which the client's completion thread takes. A
 * pending operation is linked in its session from the call until its completion takes
 * it; it then travels to the loop (env_post) and is freed there after its callback.
 * After zookeeper_close returned, whatever is still linked never completes: close
 * completes it with CLOSING. */
#ifndef SHARDSIM_BACKENDS_ZOOKEEPER_ZK_INTERNAL_H
#define SHARDSIM_BACKENDS_ZOOKEEPER_ZK_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include <zookeeper/zookeeper.h>

#include "backends/coord.h"
#include "backends/zookeeper/zk_proxy.h"
#include "core/env.h"
#include "core/histogram.h"

typedef struct zk_service zk_service;
typedef struct zk_session zk_session;
typedef struct zk_watch zk_watch;
typedef struct zk_op zk_op;
typedef struct zk_expirer zk_expirer;

/* A one-shot watch left by get, exists or children. */
struct zk_watch {
    zk_watch *prev, *next; /* the session's list, under its lock */
    zk_session *s;
    coord_watch_fn fn;
    void *arg;
};

/* A pending operation, and then its result on the way to the loop. */
struct zk_op {
    zk_op *prev, *next; /* the session's pending list, under its lock */
    zk_session *s;
    int type;    /* COORD_OPTYPE_* */
    int taken;   /* its completion took it (under the lock) */
    int refused; /* the client refused it but may still complete it: no callback */
    uint64_t sent_ns;
    coord_done_fn done;
    void *arg;
    zk_watch *watch; /* left by this call, until its completion tells if it was set */
    /* the result, owned */
    int rc;
    coord_stat stat;
    char *path;
    void *data;
    size_t data_len;
    char **children;
    size_t child_count;
    int *op_rcs;
    size_t op_count;
    /* multi: what the client fills in until the completion */
    zoo_op_t *zops;
    zoo_op_result_t *zres;
    struct Stat *zstats;
    char **zpaths;
};

struct zk_session {
    zk_service *svc;
    zhandle_t *zh;
    zk_route *route;
    coord_state_fn on_state;
    void *state_arg;
    uint32_t slot, generation;
    int state; /* COORD_STATE_*, as last delivered to the loop */
    int ever_connected, expired_counted;
    int closing, killed;
    uint64_t session_id;
    uint64_t timeout_ns; /* requested, then negotiated */
    clientid_t client_id;
    uint64_t partition_until_ns;
    uint64_t close_sent_ns;
    coord_done_fn close_done;
    void *close_arg;
    int close_rc;
    long drain_ms; /* how long close waits for pending calls (closer thread) */
    pthread_t closer;
    int closer_started;
    pthread_mutex_t lock; /* guards ops and watches */
    zk_op *ops;
    zk_watch *watches;
};

/* expire_session's helper: a second handle on the session, closed as soon as it
 * connects (zk_faults.c). */
struct zk_expirer {
    zk_expirer *next; /* the service's list; loop thread */
    pthread_t thread;
    char *connect;
    clientid_t client_id;
    int timeout_ms;
    atomic_int connected, gone, finished;
};

struct zk_service {
    env env;
    char *connect; /* the servers', as given */
    zk_upstream *servers;
    size_t server_count;
    zk_proxy *proxy;
    uint64_t connect_timeout_ns;
    /* sessions by slot, for timers: (slot, generation) */
    zk_session **slots;
    uint32_t *slot_generation;
    size_t slot_count;
    zk_expirer *expirers;
    /* statistics (loop thread) */
    hist latency[COORD_OPTYPES];
    uint64_t replies[COORD_OPTYPES];
    uint64_t ops_applied, sessions_expired;
};

/* zk.c */
int zk_convert_rc(int rc);
/* Hand fn(arg) to the loop (env_post, retried while the env is out of memory). */
void zk_post(zk_service *svc, env_timer_fn fn, void *arg);
/* The session in slot a with generation b, or NULL once it is closed. */
zk_session *zk_session_at(zk_service *svc, uint64_t a, uint64_t b);

/* zk_ops.c: the operations of the table, and how a completion reaches the loop */
int zk_create(coord_session *cs, const char *path, const void *data, size_t len, int flags,
              coord_done_fn done, void *arg);
int zk_remove(coord_session *cs, const char *path, int32_t version, coord_done_fn done, void *arg);
int zk_set(coord_session *cs, const char *path, const void *data, size_t len, int32_t version,
           coord_done_fn done, void *arg);
int zk_get(coord_session *cs, const char *path, coord_watch_fn watch, void *watch_arg,
           coord_done_fn done, void *arg);
int zk_exists(coord_session *cs, const char *path, coord_watch_fn watch, void *watch_arg,
              coord_done_fn done, void *arg);
int zk_children(coord_session *cs, const char *path, coord_watch_fn watch, void *watch_arg,
                coord_done_fn done, void *arg);
int zk_multi(coord_session *cs, const coord_op *ops, size_t count, coord_done_fn done, void *arg);
int zk_sync(coord_session *cs, const char *path, coord_done_fn done, void *arg);
/* Post op to the loop with rc (a client code): its callback runs there. */
void zk_op_finish(zk_op *op, int rc);
void zk_op_free(zk_op *op);
void zk_watch_free(zk_watch *w);

/* zk_faults.c */
extern const coord_fault_ops zk_fault_ops;
extern const coord_stats_ops zk_stats_ops;
/* Join the expire helpers that are done (all of them, waiting, when all is set). */
void zk_expirers_reap(zk_service *svc, int all);

#endif
