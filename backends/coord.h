/* coord.h -- the coordination service interface: ZooKeeper's data model and
 * operations, as a versioned const table of functions (like sqlite3_vfs) that every
 * backend fills: the in-process model (backends/mock) now, the real ZooKeeper client
 * later, unchanged callers.
 *
 * Sessions open with a requested timeout (the service clamps it) and report state
 * changes: connected, disconnected (suspended: the client lost its server and does not
 * know whether its session lives), expired. Znodes hold up to 1 MiB of data and a stat;
 * create may be ephemeral (gone when the session ends) and/or sequential (a 10-digit,
 * zero-padded per-parent counter appended to the name, never reused). delete and set
 * take an expected version (-1: any). get, exists and children may leave a one-shot
 * watch. multi applies a batch of create/delete/set/check atomically. Reads are
 * sequentially consistent (a client's server may lag the leader); sync brings the
 * client's server up to date first. state() tells the client's current view of its
 * session, which recipes use to decide whether to retry a step lost with the
 * connection now or on reconnection.
 *
 * Every operation is asynchronous: its completion callback always runs later, from the
 * event loop, never inside the call. Error codes are ZooKeeper's, with its numbers.
 * CONNECTIONLOSS does not mean an operation was not applied.
 *
 * Ownership: the caller allocates backend->session_size bytes for a session and keeps
 * them until the close completes. Pointers handed to callbacks (paths, data, children)
 * are valid only during the callback. */
#ifndef SHARDSIM_BACKENDS_COORD_H
#define SHARDSIM_BACKENDS_COORD_H

#include <stddef.h>
#include <stdint.h>

#define COORD_ERROR_MAP(X)                                                                         \
    X(OK, 0, "ok")                                                                                 \
    X(RUNTIMEINCONSISTENCY, -2, "rolled back: another operation of the multi failed")              \
    X(CONNECTIONLOSS, -4, "connection loss")                                                       \
    X(OPERATIONTIMEOUT, -7, "operation timeout")                                                   \
    X(BADARGUMENTS, -8, "bad arguments")                                                           \
    X(NONODE, -101, "no node")                                                                     \
    X(BADVERSION, -103, "bad version")                                                             \
    X(NOCHILDRENFOREPHEMERALS, -108, "ephemeral nodes have no children")                           \
    X(NODEEXISTS, -110, "node exists")                                                             \
    X(NOTEMPTY, -111, "node has children")                                                         \
    X(SESSIONEXPIRED, -112, "session expired")

enum {
#define COORD_ENUM(name, code, msg) COORD_##name = code,
    COORD_ERROR_MAP(COORD_ENUM)
#undef COORD_ENUM
};

/* "ok", "no node", ...; "unknown" for other codes. */
const char *coord_strerror(int rc);
/* "OK", "NONODE", ... */
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
    const char *const *children; /* children: sorted names */
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

typedef struct coord_session coord_session; /* the backend's, session_size bytes */

typedef struct coord_backend {
    int version; /* 1 */
    const char *name;
    size_t session_size;
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
} coord_backend;

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
