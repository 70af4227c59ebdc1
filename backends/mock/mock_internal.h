/* mock_internal.h -- what the two files of the ZooKeeper model share: its state
 * (struct mock_zk, sessions, requests, watches) and the functions each offers the
 * other. mock.c is the service (sessions, requests, the ensemble, faults, the backend
 * table); tree.c the znode tree, watches, the followers' views and the operations
 * applied to them. Not a public interface: only backends/mock/ includes it. */
#ifndef SHARDSIM_BACKENDS_MOCK_INTERNAL_H
#define SHARDSIM_BACKENDS_MOCK_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "backends/mock/mock.h"
#include "core/prng.h"

enum { CLIENT_CONNECTING, CLIENT_CONNECTED, CLIENT_DISCONNECTED, CLIENT_EXPIRED, CLIENT_CLOSED };
enum { WATCH_DATA = 1, WATCH_EXISTS, WATCH_CHILD };
enum {
    REQ_CREATE = 1,
    REQ_DELETE,
    REQ_SET,
    REQ_GET,
    REQ_EXISTS,
    REQ_CHILDREN,
    REQ_MULTI,
    REQ_CLOSE,
    REQ_SYNC
};

/* Requests and watch deliveries in flight are the service's: on a list, so that
 * mock_free can release those whose timers never ran. */
typedef struct mock_session mock_session;

typedef struct owned {
    struct owned *prev, *next;
    int kind; /* OWNED_* */
} owned;

enum { OWNED_REQUEST = 1, OWNED_DELIVERY, OWNED_LOST };

typedef struct node {
    char *path;
    uint8_t *data;
    size_t len;
    coord_stat stat;
    int32_t created; /* children ever created: the next sequential suffix (ZooKeeper
                      * counts creates only, while cversion also counts deletes) */
} node;

typedef struct watch {
    mock_session *s;
    char *path;
    int kind;
    coord_watch_fn fn;
    void *arg;
    int server;  /* whose view fires it: a follower's index, or -1 = the committed tree */
    uint64_t id; /* unique: the request that armed it may lose its answer */
} watch_entry;

/* A session: the memory the caller gave open() (backend->session_size bytes). */
struct mock_session {
    mock_zk *zk;
    uint64_t id;
    uint64_t timeout_ns;
    coord_state_fn on_state;
    void *arg;
    int client;       /* CLIENT_* */
    int server_alive; /* the service still has the session */
    int killed;
    uint64_t cut_until_ns;                 /* partitioned from the service until then */
    uint64_t last_heard_ns;                /* service side: last request or ping */
    uint64_t last_answer_ns;               /* client side: last reply or ping answer */
    uint64_t last_apply_ns, last_reply_ns; /* FIFO */
    uint64_t applied_ns;                   /* its last request applied then (asserts) */
    uint32_t generation; /* bumps on expiry/close: stale timers ignore themselves */
    uint32_t server;     /* the server it is connected to */
    int moving;          /* lost its server, not yet connected to another */
    uint64_t visible_ns; /* its last write is in its server's view from then */
    uint64_t ended_ns;   /* when the service ended it (expiry, close); 0 = alive */
    int closing;         /* close() was called: every later call is refused at once */
};

typedef struct request {
    owned link; /* first: the list's entries are cast back */
    mock_session *s;
    int type;
    char *path;
    uint8_t *data;
    size_t len;
    int flags;
    int32_t version;
    coord_watch_fn watch;
    void *watch_arg;
    coord_done_fn done;
    void *arg;
    coord_op *ops;
    size_t op_count;
    uint64_t sent_ns;
    uint32_t server; /* the session's server when it was sent */
    uint64_t armed;  /* the watch it armed, if any */
    int cut;         /* in flight when its client was cut off: the answer is lost */
    int orphan;      /* its session was closed unheard: answered already, s may be gone */
    /* the reply */
    int rc;
    coord_result res;
    char *out_path;
    char **children;
    int *op_rcs;
} request;

/* A pending watch delivery. */
typedef struct delivery {
    owned link; /* first */
    coord_watch_fn fn;
    void *arg;
    int event;
    char *path;
    mock_zk *zk;
    uint64_t session_id;
    uint32_t generation;
    int released; /* watch-after-reply: it waited for a reply and may now be delivered */
    uint64_t watch_id;
    int cancelled; /* the read that armed its watch lost its answer: never delivered */
} delivery;

/* A copy of the znode tree: the committed one, or a follower's view of it. */
typedef struct tree {
    node *nodes;
    size_t count, cap;
} tree;

struct mock_zk {
    env env;
    mock_config cfg;
    tree tree; /* the committed state, as the leader has it */
    /* Followers' views, when they lag (servers > 1 and follower_lag_ns > 0): each
     * applies the log's transactions follower_lag_ns after they commit. */
    tree *replicas;
    int64_t *applied; /* per server: the last zxid in its view */
    struct txn *log;  /* committed transactions some follower has not applied */
    size_t log_count, log_cap;
    char **touched; /* paths the operation being applied changed */
    size_t touched_count, touched_cap;
    watch_entry *watches;
    size_t watch_count, watch_cap;
    delivery *pending; /* watch events of the operation being applied */
    size_t pending_count, pending_cap;
    int64_t zxid;
    uint64_t next_session;
    uint64_t next_watch; /* watch ids */
    uint8_t *server_up;
    int leader; /* the elected leader server, -1 = none */
    int electing;
    prng rng;                  /* latency draws */
    prng phase_rng;            /* session phases, bucket origin, reconnection delays */
    uint64_t bucket_origin_ns; /* expiry buckets are origin + k * tick */
    double slow_factor;
    uint64_t slow_until_ns;
    hist latency[MOCK_OP_TYPES];
    mock_session **sessions; /* open sessions: timers find theirs by id */
    size_t session_count, session_cap;
    uint64_t ops_applied, sessions_expired;
    owned in_flight; /* the list's head */
    /* watch-after-reply (mutation): events waiting for their session's next reply, in
     * the order they became due (still on in_flight, which frees them) */
    delivery **held;
    size_t held_count, held_cap;
    /* events due while their session could not be reached, in the order they became
     * due (still on in_flight): they go out first when it is reachable again */
    delivery **parked;
    size_t parked_count, parked_cap;
};

/* ---- mock.c ---- */
mock_session *zk_session_by_id(const mock_zk *zk, uint64_t id);
/* Can the client not reach the service now (killed, partitioned, between servers, or
 * the ensemble unavailable)? */
int zk_cut_off(const mock_session *s, uint64_t now);
/* Requests and deliveries in flight go on the service's list (freed by mock_free). */
void zk_own(mock_zk *zk, owned *o, int kind);
void zk_disown(owned *o);

/* ---- tree.c ---- */
/* The committed tree: add a node stamped with the current zxid; free a node array. */
int zk_add_node(mock_zk *zk, tree *t, const char *path, const void *data, size_t len,
                uint64_t owner);
void zk_free_nodes(node *nodes, size_t count);
/* Watches: send the events the last operation fired (each to its session, at `at`;
 * send = 0 drops them); forget a session's watches; move them with it to its server. */
void zk_flush_deliveries(mock_zk *zk, uint64_t at, int send);
void zk_drop_watches_of(mock_zk *zk, mock_session *s);
/* Forget watch id (0: none): the read that armed it lost its answer, so the client never
 * registered it -- gone if still armed, never delivered if it fired already. */
void zk_forget_watch(mock_zk *zk, uint64_t id);
/* Session s ended: the events parked for it are dropped. */
void zk_drop_parked(mock_zk *zk, const mock_session *s);
/* watch-after-reply (mutation): the events held for session id go out now, after the
 * reply that has just reached it. */
void zk_release_held(mock_zk *zk, uint64_t session_id);
/* Session s can be reached again: the events it missed go out now, before any reply to
 * what it sends from now on (as ZooKeeper's setWatches on reconnection). */
void zk_release_parked(mock_zk *zk, const mock_session *s);
void zk_retag_watches(mock_zk *zk, const mock_session *s);
/* Followers: is the session on a lagging follower; log what the last operation changed
 * (due at each follower after its lag); bring server k's view up to zxid `upto`;
 * reset it to the committed tree; free every view. */
int zk_on_follower(const mock_session *s);
void zk_log_txn(mock_zk *zk);
void zk_replica_advance(mock_zk *zk, uint32_t k, int64_t upto, uint64_t deliver_at);
void zk_replica_reset(mock_zk *zk, uint32_t k);
void zk_free_views(mock_zk *zk);
/* Operations on the committed tree (reads on the session's view), with ZooKeeper's
 * checks and error codes; they fire watches and note what they touched. */
int zk_apply_create(mock_zk *zk, mock_session *s, const char *path, const void *data, size_t len,
                    int flags, char **out_path);
int zk_apply_delete(mock_zk *zk, const char *path, int32_t version);
int zk_apply_set(mock_zk *zk, const char *path, const void *data, size_t len, int32_t version,
                 coord_stat *stat);
void zk_apply_multi(mock_zk *zk, request *r);
void zk_apply_read(mock_zk *zk, request *r);
/* A session ends: its ephemerals go. */
void zk_drop_ephemerals(mock_zk *zk, mock_session *s);

#endif
