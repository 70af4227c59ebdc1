/* coord.h -- the coordination service interface: ZooKeeper's data model and
 * operations, as a versioned const table of functions (like sqlite3_vfs) that every
 * backend fills: the in-process model (backends/mock) and the real ZooKeeper through
 * its C client (backends/zookeeper), chosen by name (coord_backend_find), unchanged
 * callers.
 *
 * A backend creates a service (service_create: the model's ensemble, or a connection
 * configuration for a real one) on an env (core/env.h: its clock, timers and loop);
 * sessions open on that service. Sessions open with a requested timeout (the service
 * clamps it) and report state changes: connected, disconnected (suspended: the client
 * lost its server and does not know whether its session lives), expired. Znodes hold
 * up to 1 MiB of data and a stat; create may be ephemeral (gone when the session
 * ends) and/or sequential (a 10-digit, zero-padded per-parent counter appended to the
 * name, never reused). delete and set take an expected version (-1: any). get, exists
 * and children may leave a one-shot watch. multi applies a batch of
 * create/delete/set/check atomically. Reads are sequentially consistent (a client's
 * server may lag the leader); sync brings the client's server up to date first.
 * state() tells the client's current view of its session, which recipes use to decide
 * whether to retry a step lost with the connection now or on reconnection. Children
 * lists come in the service's order, which is unspecified (the real server does not
 * sort them): a caller that needs an order sorts.
 *
 * Every operation is asynchronous: its completion callback always runs later, on the
 * env's loop thread, never inside the call and never on another thread. An operation
 * refused at once returns its error code and its callback never runs: the caller
 * handles that code as it would a failed completion. Error codes are ZooKeeper's,
 * with its numbers (shardsim's own SS_E* codes, core/error.h, use other numbers).
 * CONNECTIONLOSS does not mean an operation was not applied.
 *
 * Closing: close(s) ends the session (its ephemerals go at once). Every operation of
 * s still pending completes before close's own callback -- with its real result if
 * the service answered it, else CLOSING -- and no callback or watch of s runs after
 * close's callback. A session's memory may be freed only after close's callback ran
 * (or close returned an error: then nothing of it runs again). A session whose
 * client was killed (fault) must still be closed; its close completes at once.
 *
 * Ownership: the caller allocates backend->session_size bytes for a session (each
 * backend defines its own session struct behind the opaque coord_session) and keeps
 * them until the close completes. Pointers handed to callbacks (paths, data,
 * children) are valid only during the callback. */
#ifndef SHARDSIM_BACKENDS_COORD_H
#define SHARDSIM_BACKENDS_COORD_H

#include <stddef.h>
#include <stdint.h>

#include "core/env.h"
#include "core/histogram.h"

/* ZooKeeper's codes, with its numbers: every code its C client can return. */
#define COORD_ERROR_MAP(X)                                                                         \
    X(OK, 0, "ok")                                                                                 \
    X(SYSTEMERROR, -1, "system error")                                                             \
    X(RUNTIMEINCONSISTENCY, -2, "rolled back: another operation of the multi failed")              \
    X(DATAINCONSISTENCY, -3, "data inconsistency")                                                 \
    X(CONNECTIONLOSS, -4, "connection loss")                                                       \
    X(MARSHALLINGERROR, -5, "marshalling error")                                                   \
    X(UNIMPLEMENTED, -6, "unimplemented")                                                          \
    X(OPERATIONTIMEOUT, -7, "operation timeout")                                                   \
    X(BADARGUMENTS, -8, "bad arguments")                                                           \
    X(INVALIDSTATE, -9, "invalid handle state")                                                    \
    X(NEWCONFIGNOQUORUM, -13, "no quorum of the new configuration")                                \
    X(RECONFIGINPROGRESS, -14, "reconfiguration in progress")                                      \
    X(SSLCONNECTIONERROR, -15, "SSL connection error")                                             \
    X(APIERROR, -100, "API error")                                                                 \
    X(NONODE, -101, "no node")                                                                     \
    X(NOAUTH, -102, "not authenticated")                                                           \
    X(BADVERSION, -103, "bad version")                                                             \
    X(NOCHILDRENFOREPHEMERALS, -108, "ephemeral nodes have no children")                           \
    X(NODEEXISTS, -110, "node exists")                                                             \
    X(NOTEMPTY, -111, "node has children")                                                         \
    X(SESSIONEXPIRED, -112, "session expired")                                                     \
    X(INVALIDCALLBACK, -113, "invalid callback")                                                   \
    X(INVALIDACL, -114, "invalid ACL")                                                             \
    X(AUTHFAILED, -115, "authentication failed")                                                   \
    X(CLOSING, -116, "session closing")                                                            \
    X(NOTHING, -117, "no server responses to process")                                             \
    X(SESSIONMOVED, -118, "session moved to another server")                                       \
    X(NOTREADONLY, -119, "state-changing request to a read-only server")                           \
    X(EPHEMERALONLOCALSESSION, -120, "ephemeral node on a local session")                          \
    X(NOWATCHER, -121, "no such watcher")                                                          \
    X(RECONFIGDISABLED, -123, "reconfiguration disabled")                                          \
    X(SESSIONCLOSEDREQUIRESASLAUTH, -124, "session closed: SASL authentication required")          \
    X(THROTTLEDOP, -127, "operation throttled, not applied")

enum {
#define COORD_ENUM(name, code, msg) COORD_##name = code,
    COORD_ERROR_MAP(COORD_ENUM)
#undef COORD_ENUM
};

/* "ok", "no node", ...; for shardsim's own SS_E* codes their message; "unknown"
 * otherwise. */
const char *coord_strerror(int rc);
/* "OK", "NONODE", ...; "SS_ENOMEM", ... for shardsim's own codes; "UNKNOWN" otherwise. */
const char *coord_error_name(int rc);

enum { COORD_PERSISTENT = 0, COORD_EPHEMERAL = 1, COORD_SEQUENTIAL = 2 };

/* Session states (coord_state_fn) and watch events (coord_watch_fn). */
enum { COORD_STATE_CONNECTED = 1, COORD_STATE_DISCONNECTED, COORD_STATE_EXPIRED };
enum {
    COORD_EVENT_CREATED = 1,
    COORD_EVENT_DELETED,
    COORD_EVENT_DATA_CHANGED,
    COORD_EVENT_CHILDREN_CHANGED
};

#define COORD_MAX_DATA (1u << 20)

/* Operation types, for statistics: coord_op_type_name gives "create", ..., "sync". */
enum {
    COORD_OPTYPE_CREATE,
    COORD_OPTYPE_DELETE,
    COORD_OPTYPE_SET,
    COORD_OPTYPE_GET,
    COORD_OPTYPE_EXISTS,
    COORD_OPTYPE_CHILDREN,
    COORD_OPTYPE_MULTI,
    COORD_OPTYPE_CLOSE,
    COORD_OPTYPE_SYNC,
    COORD_OPTYPES
};
const char *coord_op_type_name(int type); /* NULL for a bad type */

/* How a modelled latency varies around its mean. */
enum { COORD_LATENCY_CONSTANT, COORD_LATENCY_EXPONENTIAL, COORD_LATENCY_LOGNORMAL };

/* What service_create reads; each backend uses the fields that apply to it and
 * ignores the rest. coord_config_defaults sets every field's default. */
typedef struct coord_config {
    /* the model (mock) */
    uint64_t tick_ns;         /* the service's tick (tickTime): 2 s */
    uint32_t servers;         /* ensemble size: 1 */
    uint64_t read_ns;         /* mean round trip of a read: 500 us */
    uint64_t write_ns;        /* mean round trip of a write: 2 ms */
    int latency_dist;         /* COORD_LATENCY_*: constant */
    double latency_sigma;     /* lognormal sigma: 0.5 */
    uint64_t seed;            /* of the latency stream: 0 */
    uint64_t follower_lag_ns; /* followers apply commits this much later: 0 */
    const char *profile;      /* latency profile file (INI), NULL: none */
    uint64_t election_ns;     /* the ensemble's leader election; 0: the model's default */
    uint64_t reconnect_ns;    /* mean reconnection delay of a client; 0: the default */
    /* a real service (zookeeper) */
    const char *connect;  /* "host:port[,host:port...]" */
    const char *log_path; /* the client library's log; NULL: silenced */
    int direct;           /* 1: connect straight to the servers, without the loopback proxy that
                           * injects client faults (kill, partition, drop): they are refused */
    uint64_t connect_timeout_ns; /* how long open may take to reach a server: 10 s */
    /* built-in bugs of the model, for proving that checks catch them (tests only): 0 */
    uint32_t mutations; /* COORD_MUT_* bits */
} coord_config;

enum {
    COORD_MUT_EPHEMERAL_SURVIVES = 1u << 0, /* an expired session's ephemerals stay */
    COORD_MUT_WATCH_AFTER_REPLY = 1u << 1,  /* a watch event comes after the reply behind it */
    COORD_MUT_SEQUENTIAL_REUSE = 1u << 2,   /* a delete gives its sequential number back */
};

void coord_config_defaults(coord_config *c);

typedef struct coord_stat {
    int64_t czxid, mzxid;
    int32_t version, cversion;
    uint64_t ephemeral_owner; /* session id, 0 = persistent */
    int32_t num_children;
    int32_t data_length;
} coord_stat;

/* What an operation's completion carries; which fields are set depends on the call. */
typedef struct coord_result {
    coord_stat stat;
    const char *path; /* create: the node's actual path (with its sequence) */
    const void *data; /* get */
    size_t data_len;
    const char *const *children; /* children: names, in no promised order */
    size_t child_count;
    const int *op_rcs; /* multi: one code per op */
    size_t op_count;
} coord_result;

enum { COORD_OP_CREATE = 1, COORD_OP_DELETE, COORD_OP_SET, COORD_OP_CHECK };

typedef struct coord_op {
    int type;
    const char *path;
    const void *data;
    size_t data_len;
    int flags;       /* create */
    int32_t version; /* delete, set, check; -1 = any */
} coord_op;

typedef void (*coord_done_fn)(void *arg, int rc, const coord_result *res);
typedef void (*coord_watch_fn)(void *arg, int event, const char *path);
typedef void (*coord_state_fn)(void *arg, int state);

/* The backend's session, session_size bytes; never defined here: each backend casts
 * it to its own struct. */
typedef struct coord_session coord_session;

/* Fault injection, for backends that can (any entry may be NULL: that fault cannot
 * be injected, and a scenario that asks for it is a configuration error). Each
 * returns 0, or a negative code if the fault could not be applied. */
typedef struct coord_fault_ops {
    /* The client stops without closing, as when its process dies: the service expires
     * its session after the timeout. The caller still closes it (at once). */
    int (*kill_client)(void *service, coord_session *s);
    /* The client's connection breaks: DISCONNECTED now, then it reconnects. */
    int (*drop_connection)(void *service, coord_session *s);
    /* The client reaches no server for duration_ns. */
    int (*partition_client)(void *service, coord_session *s, uint64_t duration_ns);
    /* The service expires the session now. */
    int (*expire_session)(void *service, coord_session *s);
    /* Server k (0-based) of the ensemble stops / starts again. */
    int (*crash_server)(void *service, uint32_t server);
    int (*restart_server)(void *service, uint32_t server);
    /* Every operation takes factor times longer for duration_ns. */
    int (*slow)(void *service, double factor, uint64_t duration_ns);
} coord_fault_ops;

/* Statistics, for backends that keep them (any entry may be NULL). */
typedef struct coord_stats_ops {
    uint64_t (*ops_applied)(const void *service);
    uint64_t (*sessions_expired)(const void *service);
    /* Replies of operation type COORD_OPTYPE_* and their latency, from the request to
     * the reply reaching the client. */
    uint64_t (*op_count)(const void *service, int type);
    const hist *(*op_histogram)(const void *service, int type);
} coord_stats_ops;

typedef struct coord_backend {
    int version; /* 2 */
    const char *name;
    size_t session_size;
    /* 1: a real service, whose replies come on the client's threads in real time: its
     * env must be a real-time one (sim/env_rt.h) with post. 0: a model in the env's
     * time (virtual in simulations), deterministic. */
    int real_time;
    /* Create the service on env e (whose loop runs every callback) from cfg. Returns 0
     * and *service, or a negative code with a one-line reason in err. */
    int (*service_create)(const env *e, const coord_config *cfg, void **service, char *err,
                          size_t errlen);
    /* Free the service; every session opened on it must have completed its close. */
    void (*service_free)(void *service);
    /* Check cfg without creating anything (a profile file that does not parse, a
     * malformed connect string): 0, or a negative code with a one-line reason in err.
     * NULL: nothing to check before service_create. */
    int (*config_check)(const coord_config *cfg, char *err, size_t errlen);
    int (*open)(void *service, coord_session *s, uint64_t timeout_ns, coord_state_fn on_state,
                void *arg);
    int (*close)(coord_session *s, coord_done_fn done, void *arg);
    int (*create)(coord_session *s, const char *path, const void *data, size_t len, int flags,
                  coord_done_fn done, void *arg);
    int (*remove)(coord_session *s, const char *path, int32_t version, coord_done_fn done,
                  void *arg);
    int (*set)(coord_session *s, const char *path, const void *data, size_t len, int32_t version,
               coord_done_fn done, void *arg);
    int (*get)(coord_session *s, const char *path, coord_watch_fn watch, void *watch_arg,
               coord_done_fn done, void *arg);
    int (*exists)(coord_session *s, const char *path, coord_watch_fn watch, void *watch_arg,
                  coord_done_fn done, void *arg);
    int (*children)(coord_session *s, const char *path, coord_watch_fn watch, void *watch_arg,
                    coord_done_fn done, void *arg);
    int (*multi)(coord_session *s, const coord_op *ops, size_t count, coord_done_fn done,
                 void *arg);
    uint64_t (*session_id)(const coord_session *s);
    uint64_t (*session_timeout_ns)(const coord_session *s); /* as negotiated */
    /* The client's view now: COORD_STATE_CONNECTED, _DISCONNECTED (also while first
     * connecting) or _EXPIRED (also once closed). */
    int (*state)(const coord_session *s);
    /* Bring the session's server up to date with the leader, so that reads sent after
     * it see every write committed before it (ZooKeeper's sync; reads alone are only
     * sequentially consistent). */
    int (*sync)(coord_session *s, const char *path, coord_done_fn done, void *arg);
    const coord_fault_ops *faults; /* NULL: no fault can be injected */
    const coord_stats_ops *stats;  /* NULL: no statistics */
} coord_backend;

/* The registry: a backend by name ("mock", "zookeeper" when built with it), or NULL. */
const coord_backend *coord_backend_find(const char *name);
/* The registered backends' names, comma-separated ("mock,zookeeper"). */
const char *coord_backend_names(void);

/* Checked wrappers: validate the path (absolute, no trailing or double slash, not
 * empty) and the data size before calling the backend; a bad call returns
 * COORD_BADARGUMENTS at once and calls nothing. */
int coord_create(const coord_backend *b, coord_session *s, const char *path, const void *data,
                 size_t len, int flags, coord_done_fn done, void *arg);
int coord_remove(const coord_backend *b, coord_session *s, const char *path, int32_t version,
                 coord_done_fn done, void *arg);
int coord_set(const coord_backend *b, coord_session *s, const char *path, const void *data,
              size_t len, int32_t version, coord_done_fn done, void *arg);
int coord_get(const coord_backend *b, coord_session *s, const char *path, coord_watch_fn watch,
              void *watch_arg, coord_done_fn done, void *arg);
int coord_exists(const coord_backend *b, coord_session *s, const char *path, coord_watch_fn watch,
                 void *watch_arg, coord_done_fn done, void *arg);
int coord_children(const coord_backend *b, coord_session *s, const char *path, coord_watch_fn watch,
                   void *watch_arg, coord_done_fn done, void *arg);
int coord_multi(const coord_backend *b, coord_session *s, const coord_op *ops, size_t count,
                coord_done_fn done, void *arg);
int coord_sync(const coord_backend *b, coord_session *s, const char *path, coord_done_fn done,
               void *arg);

/* 1 if path is a valid znode path. */
int coord_path_valid(const char *path);

#endif
