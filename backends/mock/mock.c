/* mock.c -- the in-process ZooKeeper model; see mock.h.
 *
 * Every request becomes two timed steps on the env: the service applies it (after the
 * inbound half of its latency, and after the session's previous request), then the
 * client gets the reply (after the outbound half). Watch events triggered by an
 * operation are scheduled when it applies, before its reply is. Session liveness is
 * a ping timer on the client side and a bucketed expiry check on the service side. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/mock/mock.h"
#include "core/dist.h"
#include "core/error.h"
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
typedef struct owned {
    struct owned *prev, *next;
    int kind; /* OWNED_* */
} owned;

enum { OWNED_REQUEST = 1, OWNED_DELIVERY };

typedef struct node {
    char *path;
    uint8_t *data;
    size_t len;
    coord_stat stat;
} node;

typedef struct watch {
    coord_session *s;
    char *path;
    int kind;
    coord_watch_fn fn;
    void *arg;
    int server; /* whose view fires it: a follower's index, or -1 = the committed tree */
} watch_entry;

struct coord_session {
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
    uint32_t generation;      /* bumps on expiry/close: stale timers ignore themselves */
    uint32_t server;          /* the server it is connected to */
    uint64_t reconnect_at_ns; /* moving to another server until then */
    uint64_t visible_ns;      /* its last write is in its server's view from then */
    uint64_t ended_ns;        /* when the service ended it (expiry, close); 0 = alive */
};

typedef struct request {
    owned link; /* first: the list's entries are cast back */
    coord_session *s;
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
    uint8_t *server_up;
    int leader; /* the elected leader server, -1 = none */
    int electing;
    prng rng; /* latency draws */
    double slow_factor;
    uint64_t slow_until_ns;
    hist latency[MOCK_OP_TYPES];
    coord_session **sessions; /* open sessions: timers find theirs by id */
    size_t session_count, session_cap;
    uint64_t ops_applied, sessions_expired;
    owned in_flight; /* the list's head */
};

static void own(mock_zk *zk, owned *o, int kind) {
    o->kind = kind;
    o->next = zk->in_flight.next;
    o->prev = &zk->in_flight;
    zk->in_flight.next->prev = o;
    zk->in_flight.next = o;
}

static void disown(owned *o) {
    if (!o->next)
        return;
    o->prev->next = o->next;
    o->next->prev = o->prev;
    o->next = o->prev = NULL;
}

/* ---------- the session registry ----------
 * Timers carry a session id, never a pointer: a closed session's memory belongs to the
 * caller again, and its late timers must find nothing. */

static coord_session *session_by_id(const mock_zk *zk, uint64_t id) {
    for (size_t i = 0; i < zk->session_count; i++)
        if (zk->sessions[i]->id == id)
            return zk->sessions[i];
    return NULL;
}

static int register_session(mock_zk *zk, coord_session *s) {
    if (zk->session_count == zk->session_cap) {
        size_t cap = zk->session_cap ? zk->session_cap * 2 : 8;
        coord_session **p = realloc(zk->sessions, cap * sizeof *p);
        if (!p)
            return SS_ENOMEM;
        zk->sessions = p;
        zk->session_cap = cap;
    }
    zk->sessions[zk->session_count++] = s;
    return 0;
}

static void unregister_session(mock_zk *zk, const coord_session *s) {
    for (size_t i = 0; i < zk->session_count; i++)
        if (zk->sessions[i] == s) {
            zk->sessions[i] = zk->sessions[--zk->session_count];
            return;
        }
}

/* ---------- the ensemble ---------- */

static uint32_t servers_up(const mock_zk *zk) {
    uint32_t n = 0;
    for (uint32_t i = 0; i < zk->cfg.servers; i++)
        n += zk->server_up[i];
    return n;
}

static int has_quorum(const mock_zk *zk) {
    return servers_up(zk) >= zk->cfg.servers / 2 + 1;
}

int mock_available(const mock_zk *zk) {
    return zk->leader >= 0 && has_quorum(zk);
}

/* ---------- the tree ---------- */

static node *find(tree *t, const char *path) {
    for (size_t i = 0; i < t->count; i++)
        if (strcmp(t->nodes[i].path, path) == 0)
            return &t->nodes[i];
    return NULL;
}

static void parent_of(const char *path, char *out, size_t size) {
    const char *slash = strrchr(path, '/');
    size_t len = slash == path ? 1 : (size_t)(slash - path);
    snprintf(out, size, "%.*s", (int)len, path);
}

/* Append a node to t (copying path and data); NULL when out of memory. */
static node *tree_add(tree *t, const char *path, const void *data, size_t len,
                      const coord_stat *stat) {
    if (t->count == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        node *n = realloc(t->nodes, cap * sizeof *n);
        if (!n)
            return NULL;
        t->nodes = n;
        t->cap = cap;
    }
    node *n = &t->nodes[t->count];
    memset(n, 0, sizeof *n);
    n->path = strdup(path);
    n->data = len ? malloc(len) : NULL;
    if (!n->path || (len && !n->data)) {
        free(n->path);
        free(n->data);
        return NULL;
    }
    if (len)
        memcpy(n->data, data, len);
    n->len = len;
    n->stat = *stat;
    t->count++;
    return n;
}

static int add_node(mock_zk *zk, tree *t, const char *path, const void *data, size_t len,
                    uint64_t owner) {
    coord_stat st = {0};
    st.czxid = st.mzxid = zk->zxid;
    st.ephemeral_owner = owner;
    st.data_length = (int32_t)len;
    return tree_add(t, path, data, len, &st) ? 0 : SS_ENOMEM;
}

static void drop_node(tree *t, node *n) {
    free(n->path);
    free(n->data);
    size_t i = (size_t)(n - t->nodes);
    memmove(&t->nodes[i], &t->nodes[i + 1], (t->count - i - 1) * sizeof *n);
    t->count--;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted child names of path (malloc'd array of malloc'd names). */
static char **children_of(tree *t, const char *path, size_t *count) {
    size_t plen = strlen(path), n = 0;
    char **names = malloc((t->count + 1) * sizeof *names);
    if (!names)
        return NULL;
    for (size_t i = 0; i < t->count; i++) {
        const char *p = t->nodes[i].path;
        if (strcmp(p, "/") == 0)
            continue;
        char parent[1024];
        parent_of(p, parent, sizeof parent);
        if (strcmp(parent, path) == 0)
            names[n++] = strdup(p + plen + (plen > 1));
    }
    qsort(names, n, sizeof *names, cmp_str);
    *count = n;
    return names;
}

/* ---------- watches ---------- */

static void add_watch(mock_zk *zk, coord_session *s, const char *path, int kind, coord_watch_fn fn,
                      void *arg, int server) {
    if (!fn)
        return;
    if (zk->watch_count == zk->watch_cap) {
        size_t cap = zk->watch_cap ? zk->watch_cap * 2 : 32;
        watch_entry *w = realloc(zk->watches, cap * sizeof *w);
        if (!w)
            return;
        zk->watches = w;
        zk->watch_cap = cap;
    }
    zk->watches[zk->watch_count++] = (watch_entry){s, strdup(path), kind, fn, arg, server};
}

static void queue_delivery(mock_zk *zk, const watch_entry *w, int event) {
    if (zk->pending_count == zk->pending_cap) {
        size_t cap = zk->pending_cap ? zk->pending_cap * 2 : 16;
        delivery *d = realloc(zk->pending, cap * sizeof *d);
        if (!d)
            return;
        zk->pending = d;
        zk->pending_cap = cap;
    }
    zk->pending[zk->pending_count++] = (delivery){.fn = w->fn,
                                                  .arg = w->arg,
                                                  .event = event,
                                                  .path = strdup(w->path),
                                                  .zk = zk,
                                                  .session_id = w->s->id,
                                                  .generation = w->s->generation};
}

/* Fire (once) the watches that server's view holds on path whose kind is in `kinds`
 * (a bit set of 1 << kind); server -1 = the committed tree. */
static void trigger_at(mock_zk *zk, int server, const char *path, unsigned kinds, int event) {
    size_t keep = 0;
    for (size_t i = 0; i < zk->watch_count; i++) {
        watch_entry *w = &zk->watches[i];
        if (w->server == server && strcmp(w->path, path) == 0 && (kinds & (1u << w->kind))) {
            queue_delivery(zk, w, event);
            free(w->path);
        } else {
            zk->watches[keep++] = *w;
        }
    }
    zk->watch_count = keep;
}

/* A change to the committed tree: fires its watches, and is noted for the followers. */
static void touch(mock_zk *zk, const char *path);

static void trigger(mock_zk *zk, const char *path, unsigned kinds, int event) {
    touch(zk, path);
    trigger_at(zk, -1, path, kinds, event);
}

static void deliver(void *arg, uint64_t a, uint64_t b) {
    (void)b;
    delivery *d = arg;
    (void)a;
    coord_session *s = session_by_id(d->zk, d->session_id);
    if (s && s->generation == d->generation && s->client != CLIENT_CLOSED &&
        s->client != CLIENT_EXPIRED && !s->killed)
        d->fn(d->arg, d->event, d->path);
    disown(&d->link);
    free(d->path);
    free(d);
}

/* Send the pending watch events, each to its session, at time at. */
static void flush_deliveries(mock_zk *zk, uint64_t at, int send) {
    for (size_t i = 0; i < zk->pending_count; i++) {
        delivery *d = malloc(sizeof *d);
        if (send && d) {
            *d = zk->pending[i];
            own(zk, &d->link, OWNED_DELIVERY);
            env_schedule(&zk->env, at, deliver, d, 0, 0);
        } else {
            free(zk->pending[i].path);
            free(d);
        }
    }
    zk->pending_count = 0;
}

static void drop_watches_of(mock_zk *zk, coord_session *s) {
    size_t keep = 0;
    for (size_t i = 0; i < zk->watch_count; i++) {
        if (zk->watches[i].s == s)
            free(zk->watches[i].path);
        else
            zk->watches[keep++] = zk->watches[i];
    }
    zk->watch_count = keep;
}

#define W(kind) (1u << (kind))

/* ---------- followers' views ----------
 * With lagging followers, every change to the committed tree is logged as a
 * transaction: the resulting state of each path it touched. A follower applies the
 * log in zxid order follower_lag_ns after the commit, firing the watches its clients
 * set on its view; its clients' reads see that view (sequential consistency), a sync
 * brings it up to date. */

typedef struct effect {
    node n;      /* the path's state after the transaction (n.data NULL if none) */
    int present; /* 0: the path no longer exists */
} effect;

typedef struct txn {
    int64_t zxid;
    effect *e;
    size_t count;
} txn;

static int on_follower(const coord_session *s) {
    return s->zk->replicas && (int)s->server != s->zk->leader;
}

static tree *view_of(coord_session *s) {
    return on_follower(s) ? &s->zk->replicas[s->server] : &s->zk->tree;
}

static int watch_server(const coord_session *s) {
    return on_follower(s) ? (int)s->server : -1;
}

static void touch(mock_zk *zk, const char *path) {
    if (!zk->replicas)
        return;
    for (size_t i = 0; i < zk->touched_count; i++)
        if (strcmp(zk->touched[i], path) == 0)
            return;
    if (zk->touched_count == zk->touched_cap) {
        size_t cap = zk->touched_cap ? zk->touched_cap * 2 : 16;
        char **p = realloc(zk->touched, cap * sizeof *p);
        if (!p)
            return;
        zk->touched = p;
        zk->touched_cap = cap;
    }
    char *copy = strdup(path);
    if (copy)
        zk->touched[zk->touched_count++] = copy;
}

static void untouch(mock_zk *zk) {
    for (size_t i = 0; i < zk->touched_count; i++)
        free(zk->touched[i]);
    zk->touched_count = 0;
}

static void free_txn(txn *x) {
    for (size_t i = 0; i < x->count; i++) {
        free(x->e[i].n.path);
        free(x->e[i].n.data);
    }
    free(x->e);
}

static void catch_up_timer(void *arg, uint64_t server, uint64_t zxid);

/* The touched paths become one logged transaction, due at every follower after its lag. */
static void log_txn(mock_zk *zk) {
    if (!zk->replicas || zk->touched_count == 0) {
        untouch(zk);
        return;
    }
    if (zk->log_count == zk->log_cap) {
        size_t cap = zk->log_cap ? zk->log_cap * 2 : 64;
        txn *l = realloc(zk->log, cap * sizeof *l);
        if (!l) {
            untouch(zk);
            return;
        }
        zk->log = l;
        zk->log_cap = cap;
    }
    txn *x = &zk->log[zk->log_count];
    x->zxid = zk->zxid;
    x->count = 0;
    x->e = calloc(zk->touched_count, sizeof *x->e);
    for (size_t i = 0; x->e && i < zk->touched_count; i++) {
        effect *e = &x->e[x->count++];
        const node *n = find(&zk->tree, zk->touched[i]);
        e->n.path = zk->touched[i];
        zk->touched[i] = NULL;
        e->present = n != NULL;
        if (n) {
            e->n.stat = n->stat;
            e->n.len = n->len;
            e->n.data = n->len ? malloc(n->len) : NULL;
            if (e->n.data)
                memcpy(e->n.data, n->data, n->len);
            else
                e->n.len = 0;
        }
    }
    untouch(zk);
    zk->log_count++;
    uint64_t at = env_now(&zk->env) + zk->cfg.follower_lag_ns;
    for (uint32_t k = 0; k < zk->cfg.servers; k++)
        if (zk->server_up[k] && (int)k != zk->leader)
            env_schedule(&zk->env, at, catch_up_timer, zk, k, (uint64_t)x->zxid);
}

static void apply_effect(mock_zk *zk, uint32_t k, const effect *e) {
    tree *t = &zk->replicas[k];
    node *old = find(t, e->n.path);
    const char *path = e->n.path;
    int server = (int)k;
    if (e->present && !old) {
        tree_add(t, path, e->n.data, e->n.len, &e->n.stat);
        trigger_at(zk, server, path, W(WATCH_DATA) | W(WATCH_EXISTS), COORD_EVENT_CREATED);
    } else if (!e->present && old) {
        drop_node(t, old);
        trigger_at(zk, server, path, W(WATCH_DATA) | W(WATCH_EXISTS) | W(WATCH_CHILD),
                   COORD_EVENT_DELETED);
    } else if (e->present) {
        int data_changed = old->stat.version != e->n.stat.version;
        int children_changed = old->stat.cversion != e->n.stat.cversion;
        uint8_t *copy = e->n.len ? malloc(e->n.len) : NULL;
        if (e->n.len && !copy)
            return;
        if (copy)
            memcpy(copy, e->n.data, e->n.len);
        free(old->data);
        old->data = copy;
        old->len = e->n.len;
        old->stat = e->n.stat;
        if (data_changed)
            trigger_at(zk, server, path, W(WATCH_DATA) | W(WATCH_EXISTS), COORD_EVENT_DATA_CHANGED);
        if (children_changed)
            trigger_at(zk, server, path, W(WATCH_CHILD), COORD_EVENT_CHILDREN_CHANGED);
    }
}

/* Forget the transactions every follower in service has applied. */
static void trim_log(mock_zk *zk) {
    int64_t low = zk->zxid;
    for (uint32_t k = 0; k < zk->cfg.servers; k++)
        if (zk->server_up[k] && (int)k != zk->leader && zk->applied[k] < low)
            low = zk->applied[k];
    size_t drop = 0;
    while (drop < zk->log_count && zk->log[drop].zxid <= low)
        free_txn(&zk->log[drop++]);
    memmove(zk->log, zk->log + drop, (zk->log_count - drop) * sizeof *zk->log);
    zk->log_count -= drop;
}

static void flush_deliveries(mock_zk *zk, uint64_t at, int send);

/* Server k's view applies the log up to zxid `upto`; its watch events reach the
 * clients at `deliver_at`. */
static void replica_advance(mock_zk *zk, uint32_t k, int64_t upto, uint64_t deliver_at) {
    for (size_t i = 0; i < zk->log_count && zk->log[i].zxid <= upto; i++) {
        const txn *x = &zk->log[i];
        if (x->zxid <= zk->applied[k])
            continue;
        for (size_t j = 0; j < x->count; j++)
            apply_effect(zk, k, &x->e[j]);
        zk->applied[k] = x->zxid;
    }
    if (upto > zk->applied[k])
        zk->applied[k] = upto;
    flush_deliveries(zk, deliver_at, 1);
    trim_log(zk);
}

static void catch_up_timer(void *arg, uint64_t server, uint64_t zxid) {
    mock_zk *zk = arg;
    if (zk->server_up[server] && (int)server != zk->leader)
        replica_advance(zk, (uint32_t)server, (int64_t)zxid,
                        env_now(&zk->env) + zk->cfg.read_ns / 2);
}

/* Server k's view becomes a copy of the committed tree (a restarted follower syncs
 * with the leader). */
static void replica_reset(mock_zk *zk, uint32_t k) {
    tree *t = &zk->replicas[k];
    for (size_t i = 0; i < t->count; i++) {
        free(t->nodes[i].path);
        free(t->nodes[i].data);
    }
    t->count = 0;
    for (size_t i = 0; i < zk->tree.count; i++) {
        const node *n = &zk->tree.nodes[i];
        tree_add(t, n->path, n->data, n->len, &n->stat);
    }
    zk->applied[k] = zk->zxid;
}

/* The session's watches move with it to its server's view. */
static void retag_watches(mock_zk *zk, const coord_session *s) {
    int server = watch_server(s);
    for (size_t i = 0; i < zk->watch_count; i++)
        if (zk->watches[i].s == s)
            zk->watches[i].server = server;
}

/* ---------- applying one operation ---------- */

static int apply_create(mock_zk *zk, coord_session *s, const char *path, const void *data,
                        size_t len, int flags, char **out_path) {
    char parent_path[1024], actual[1100];
    parent_of(path, parent_path, sizeof parent_path);
    node *parent = find(&zk->tree, parent_path);
    if (!parent)
        return COORD_NONODE;
    if (parent->stat.ephemeral_owner)
        return COORD_NOCHILDRENFOREPHEMERALS;
    if (flags & COORD_SEQUENTIAL)
        snprintf(actual, sizeof actual, "%s%010d", path, parent->stat.cversion);
    else
        snprintf(actual, sizeof actual, "%s", path);
    if (find(&zk->tree, actual))
        return COORD_NODEEXISTS;
    zk->zxid++;
    int32_t parent_index = (int32_t)(parent - zk->tree.nodes);
    if (add_node(zk, &zk->tree, actual, data, len, (flags & COORD_EPHEMERAL) ? s->id : 0) != 0)
        return COORD_CONNECTIONLOSS;
    parent = &zk->tree.nodes[parent_index]; /* the array may have moved */
    parent->stat.cversion++;
    parent->stat.num_children++;
    if (out_path)
        *out_path = strdup(actual);
    trigger(zk, actual, W(WATCH_DATA) | W(WATCH_EXISTS), COORD_EVENT_CREATED);
    trigger(zk, parent_path, W(WATCH_CHILD), COORD_EVENT_CHILDREN_CHANGED);
    return COORD_OK;
}

static int apply_delete(mock_zk *zk, const char *path, int32_t version) {
    node *n = find(&zk->tree, path);
    if (!n)
        return COORD_NONODE;
    if (version != -1 && version != n->stat.version)
        return COORD_BADVERSION;
    if (n->stat.num_children > 0)
        return COORD_NOTEMPTY;
    char parent_path[1024];
    parent_of(path, parent_path, sizeof parent_path);
    zk->zxid++;
    drop_node(&zk->tree, n);
    node *parent = find(&zk->tree, parent_path);
    if (parent) {
        parent->stat.cversion++;
        parent->stat.num_children--;
    }
    trigger(zk, path, W(WATCH_DATA) | W(WATCH_EXISTS) | W(WATCH_CHILD), COORD_EVENT_DELETED);
    trigger(zk, parent_path, W(WATCH_CHILD), COORD_EVENT_CHILDREN_CHANGED);
    return COORD_OK;
}

static int apply_set(mock_zk *zk, const char *path, const void *data, size_t len, int32_t version,
                     coord_stat *stat) {
    node *n = find(&zk->tree, path);
    if (!n)
        return COORD_NONODE;
    if (version != -1 && version != n->stat.version)
        return COORD_BADVERSION;
    uint8_t *copy = len ? malloc(len) : NULL;
    if (len && !copy)
        return COORD_CONNECTIONLOSS;
    if (len)
        memcpy(copy, data, len);
    free(n->data);
    n->data = copy;
    n->len = len;
    zk->zxid++;
    n->stat.version++;
    n->stat.mzxid = zk->zxid;
    n->stat.data_length = (int32_t)len;
    if (stat)
        *stat = n->stat;
    trigger(zk, path, W(WATCH_DATA) | W(WATCH_EXISTS), COORD_EVENT_DATA_CHANGED);
    return COORD_OK;
}

/* Delete every ephemeral of a session (its end: expiry or close). */
static void drop_ephemerals(mock_zk *zk, coord_session *s) {
    for (size_t i = zk->tree.count; i > 0; i--)
        if (zk->tree.nodes[i - 1].stat.ephemeral_owner == s->id) {
            char *path = strdup(zk->tree.nodes[i - 1].path);
            apply_delete(zk, path, -1);
            free(path);
        }
}

/* A snapshot of the tree for a multi's rollback. */
typedef struct tree_copy {
    node *nodes;
    size_t count;
    int64_t zxid;
} tree_copy;

static int copy_tree(mock_zk *zk, tree_copy *c) {
    c->count = zk->tree.count;
    c->zxid = zk->zxid;
    c->nodes = malloc((c->count + 1) * sizeof *c->nodes);
    if (!c->nodes)
        return SS_ENOMEM;
    for (size_t i = 0; i < c->count; i++) {
        c->nodes[i] = zk->tree.nodes[i];
        c->nodes[i].path = strdup(zk->tree.nodes[i].path);
        c->nodes[i].data = zk->tree.nodes[i].len ? malloc(zk->tree.nodes[i].len) : NULL;
        if (zk->tree.nodes[i].len && c->nodes[i].data)
            memcpy(c->nodes[i].data, zk->tree.nodes[i].data, zk->tree.nodes[i].len);
    }
    return 0;
}

static void free_nodes(node *nodes, size_t count) {
    for (size_t i = 0; i < count; i++) {
        free(nodes[i].path);
        free(nodes[i].data);
    }
    free(nodes);
}

static void apply_multi(mock_zk *zk, request *r) {
    tree_copy before;
    r->op_rcs = calloc(r->op_count, sizeof *r->op_rcs);
    if (!r->op_rcs || copy_tree(zk, &before) != 0) {
        r->rc = COORD_CONNECTIONLOSS;
        return;
    }
    int64_t zxid0 = zk->zxid;
    size_t failed = r->op_count;
    for (size_t i = 0; i < r->op_count && failed == r->op_count; i++) {
        const coord_op *op = &r->ops[i];
        int rc;
        switch (op->type) {
        case COORD_OP_CREATE:
            rc = apply_create(zk, r->s, op->path, op->data, op->data_len, op->flags, NULL);
            break;
        case COORD_OP_DELETE:
            rc = apply_delete(zk, op->path, op->version);
            break;
        case COORD_OP_SET:
            rc = apply_set(zk, op->path, op->data, op->data_len, op->version, NULL);
            break;
        default: {
            node *n = find(&zk->tree, op->path);
            rc = !n                                                      ? COORD_NONODE
                 : (op->version != -1 && op->version != n->stat.version) ? COORD_BADVERSION
                                                                         : COORD_OK;
        }
        }
        r->op_rcs[i] = rc;
        if (rc != COORD_OK)
            failed = i;
    }
    if (failed < r->op_count) { /* all or nothing: put the tree back, fire nothing */
        free_nodes(zk->tree.nodes, zk->tree.count);
        zk->tree.nodes = before.nodes;
        zk->tree.count = before.count;
        zk->tree.cap = before.count + 1;
        zk->zxid = before.zxid;
        for (size_t k = 0; k < zk->pending_count; k++)
            free(zk->pending[k].path);
        zk->pending_count = 0;
        untouch(zk);
        for (size_t i = 0; i < r->op_count; i++)
            if (i != failed)
                r->op_rcs[i] = COORD_RUNTIMEINCONSISTENCY;
        r->rc = r->op_rcs[failed];
        /* watches that the failed ops consumed are lost in this model: acceptable for
         * now, as ZooKeeper fires none; noted in mock.h's limits */
    } else {
        free_nodes(before.nodes, before.count);
        /* one transaction: every change of the multi carries the same zxid */
        int64_t z = zxid0 + 1;
        for (size_t i = 0; i < zk->tree.count; i++) {
            if (zk->tree.nodes[i].stat.mzxid > zxid0)
                zk->tree.nodes[i].stat.mzxid = z;
            if (zk->tree.nodes[i].stat.czxid > zxid0)
                zk->tree.nodes[i].stat.czxid = z;
        }
        zk->zxid = z;
        r->rc = COORD_OK;
    }
    r->res.op_rcs = r->op_rcs;
    r->res.op_count = r->op_count;
}

static void apply_read(mock_zk *zk, request *r) {
    tree *view = view_of(r->s);
    int server = watch_server(r->s);
    node *n = find(view, r->path);
    if (r->type == REQ_EXISTS) {
        r->rc = n ? COORD_OK : COORD_NONODE;
        if (n)
            r->res.stat = n->stat;
        add_watch(zk, r->s, r->path, n ? WATCH_DATA : WATCH_EXISTS, r->watch, r->watch_arg, server);
        return;
    }
    if (!n) {
        r->rc = COORD_NONODE;
        return;
    }
    r->rc = COORD_OK;
    r->res.stat = n->stat;
    if (r->type == REQ_GET) {
        r->data = n->len ? malloc(n->len) : NULL;
        if (n->len && r->data)
            memcpy(r->data, n->data, n->len);
        r->res.data = r->data;
        r->res.data_len = r->data ? n->len : 0;
        add_watch(zk, r->s, r->path, WATCH_DATA, r->watch, r->watch_arg, server);
    } else {
        r->children = children_of(view, r->path, &r->res.child_count);
        r->res.children = (const char *const *)r->children;
        add_watch(zk, r->s, r->path, WATCH_CHILD, r->watch, r->watch_arg, server);
    }
}

/* ---------- sessions ---------- */

static int cut_off(const coord_session *s, uint64_t now) {
    return s->killed || now < s->cut_until_ns || now < s->reconnect_at_ns || !mock_available(s->zk);
}

static void notify(coord_session *s, int state) {
    if (s->on_state && !s->killed)
        s->on_state(s->arg, state);
}

static void end_session(mock_zk *zk, coord_session *s) {
    if (!s->server_alive)
        return;
    s->server_alive = 0;
    s->ended_ns = env_now(&zk->env);
    drop_watches_of(zk, s);
    drop_ephemerals(zk, s);
    log_txn(zk);
    flush_deliveries(zk, env_now(&zk->env) + zk->cfg.read_ns / 2, 1);
}

static uint64_t expiry_at(const mock_zk *zk, const coord_session *s) {
    uint64_t due = s->last_heard_ns + s->timeout_ns, tick = zk->cfg.tick_ns;
    return (due + tick - 1) / tick * tick; /* ZooKeeper's expiry buckets */
}

static void expiry_check(void *arg, uint64_t a, uint64_t b);

static void arm_expiry(mock_zk *zk, coord_session *s) {
    env_schedule(&zk->env, expiry_at(zk, s), expiry_check, zk, s->id, s->generation);
}

static void expiry_check(void *arg, uint64_t id, uint64_t generation) {
    mock_zk *zk = arg;
    coord_session *s = session_by_id(zk, id);
    if (!s || generation != s->generation || !s->server_alive)
        return;
    uint64_t now = env_now(&zk->env);
    if (expiry_at(zk, s) > now || !mock_available(zk)) {
        if (!mock_available(zk)) /* no leader, no expiry: check again a tick later */
            env_schedule(&zk->env, now + zk->cfg.tick_ns, expiry_check, zk, s->id, s->generation);
        else
            arm_expiry(zk, s); /* heard from since: the next bucket */
        return;
    }
    zk->sessions_expired++;
    end_session(zk, s);
}

/* The client's ping timer: every timeout/3; also its read-deadline check and, when
 * disconnected, its reconnection attempt. */
static void ping(void *arg, uint64_t id, uint64_t generation) {
    mock_zk *zk = arg;
    coord_session *s = session_by_id(zk, id);
    if (!s || generation != s->generation || s->killed || s->client == CLIENT_CLOSED ||
        s->client == CLIENT_EXPIRED)
        return;
    uint64_t now = env_now(&zk->env);
    if (!cut_off(s, now)) {
        if (s->server_alive) {
            s->last_heard_ns = now;
            s->last_answer_ns = now;
            if (s->client == CLIENT_DISCONNECTED) {
                s->client = CLIENT_CONNECTED;
                notify(s, COORD_STATE_CONNECTED);
            }
        } else if (s->client != CLIENT_EXPIRED) {
            s->client = CLIENT_EXPIRED; /* it reconnected to learn its session is gone */
            notify(s, COORD_STATE_EXPIRED);
            return;
        }
    } else if (s->client == CLIENT_CONNECTED && now - s->last_answer_ns >= s->timeout_ns * 2 / 3) {
        s->client = CLIENT_DISCONNECTED;
        notify(s, COORD_STATE_DISCONNECTED);
    }
    /* The client's read deadline is watched continuously, not only at ping times. */
    uint64_t next = now + s->timeout_ns / 3, deadline = s->last_answer_ns + s->timeout_ns * 2 / 3;
    if (s->client == CLIENT_CONNECTED && cut_off(s, now) && deadline > now && deadline < next)
        next = deadline;
    env_schedule(&zk->env, next, ping, zk, s->id, s->generation);
}

static void connected(void *arg, uint64_t id, uint64_t generation) {
    coord_session *s = session_by_id(arg, id);
    if (!s || generation != s->generation || s->client != CLIENT_CONNECTING)
        return;
    s->client = CLIENT_CONNECTED;
    s->last_answer_ns = env_now(&s->zk->env);
    notify(s, COORD_STATE_CONNECTED);
}

/* ---------- requests ---------- */

static void free_request(request *r) {
    disown(&r->link);
    free(r->path);
    free(r->data);
    free(r->out_path);
    if (r->children)
        for (size_t i = 0; i < r->res.child_count; i++)
            free(r->children[i]);
    free(r->children);
    for (size_t i = 0; i < r->op_count; i++) {
        free((char *)r->ops[i].path);
        free((void *)r->ops[i].data);
    }
    free(r->ops);
    free(r->op_rcs);
    free(r);
}

static void reply(void *arg, uint64_t a, uint64_t b) {
    (void)a, (void)b;
    request *r = arg;
    r->res.path = r->out_path;
    mock_zk *zk = r->s->zk;
    hist_record(&zk->latency[r->type - 1], env_now(&zk->env) - r->sent_ns);
    if (r->done)
        r->done(r->arg, r->rc, &r->res);
    free_request(r);
}

static uint64_t latency(mock_zk *zk, const request *r) {
    int write = r->type == REQ_CREATE || r->type == REQ_DELETE || r->type == REQ_SET ||
                r->type == REQ_MULTI || r->type == REQ_CLOSE || r->type == REQ_SYNC;
    size_t bytes = r->len;
    for (size_t i = 0; i < r->op_count; i++)
        bytes += r->ops[i].data_len;
    double mean =
        (double)(write ? zk->cfg.write_ns : zk->cfg.read_ns) + zk->cfg.per_byte_ns * (double)bytes;
    double sigma = zk->cfg.latency_sigma;
    double d = mean;
    double median = zk->cfg.op_median_ns[r->type - 1];
    if (median > 0) /* from a profile: a lognormal through its median and p99 */
        d = dist_lognormal(&zk->rng, log(median), zk->cfg.op_sigma[r->type - 1]) +
            zk->cfg.per_byte_ns * (double)bytes;
    else if (zk->cfg.latency_dist == MOCK_LATENCY_EXPONENTIAL)
        d = dist_exponential(&zk->rng, mean);
    else if (zk->cfg.latency_dist == MOCK_LATENCY_LOGNORMAL && mean > 0)
        d = dist_lognormal(&zk->rng, log(mean) - sigma * sigma / 2, sigma);
    if (env_now(&zk->env) < zk->slow_until_ns)
        d *= zk->slow_factor;
    return (uint64_t)d;
}

static void send_reply(mock_zk *zk, request *r, uint64_t at) {
    coord_session *s = r->s;
    uint64_t deadline = r->sent_ns + s->timeout_ns * 2 / 3;
    if (at > deadline && r->type != REQ_CLOSE && r->rc != COORD_CONNECTIONLOSS) {
        r->rc = COORD_OPERATIONTIMEOUT; /* the client stopped waiting; it may have applied */
        at = deadline;
    }
    if (at < s->last_reply_ns)
        at = s->last_reply_ns;
    s->last_reply_ns = at;
    env_schedule(&zk->env, at, reply, r, 0, 0);
}

static void apply(void *arg, uint64_t a, uint64_t b) {
    (void)a, (void)b;
    request *r = arg;
    coord_session *s = r->s;
    mock_zk *zk = s->zk;
    uint64_t now = env_now(&zk->env), out = now + latency(zk, r) / 2;
    if (r->server != s->server) { /* its server crashed meanwhile: lost with the connection */
        r->rc = COORD_CONNECTIONLOSS;
        send_reply(zk, r, now);
        return;
    }
    if (!s->server_alive) {
        r->rc = COORD_SESSIONEXPIRED;
        send_reply(zk, r, out);
        return;
    }
    if (!mock_available(zk)) { /* the ensemble lost its leader meanwhile */
        r->rc = COORD_CONNECTIONLOSS;
        uint64_t deadline = s->last_answer_ns + s->timeout_ns * 2 / 3;
        send_reply(zk, r, deadline > out ? deadline : out);
        return;
    }
    s->last_heard_ns = now;
    zk->ops_applied++;
    switch (r->type) {
    case REQ_CREATE:
        r->rc = apply_create(zk, s, r->path, r->data, r->len, r->flags, &r->out_path);
        break;
    case REQ_DELETE:
        r->rc = apply_delete(zk, r->path, r->version);
        break;
    case REQ_SET:
        r->rc = apply_set(zk, r->path, r->data, r->len, r->version, &r->res.stat);
        break;
    case REQ_MULTI:
        apply_multi(zk, r);
        break;
    case REQ_CLOSE:
        r->rc = COORD_OK;
        s->generation++;
        end_session(zk, s);
        s->client = CLIENT_CLOSED;
        unregister_session(zk, s);
        break;
    case REQ_SYNC: /* the follower gets everything the leader has committed */
        r->rc = COORD_OK;
        if (on_follower(s))
            replica_advance(zk, s->server, zk->zxid, out);
        break;
    default:
        apply_read(zk, r);
    }
    log_txn(zk);
    /* a follower answers a write once its own view has it */
    if (on_follower(s) && r->type != REQ_SYNC && r->type != REQ_GET && r->type != REQ_EXISTS &&
        r->type != REQ_CHILDREN && now + zk->cfg.follower_lag_ns > out)
        out = now + zk->cfg.follower_lag_ns;
    /* watch events go out before this reply: same latency, scheduled first */
    flush_deliveries(zk, out, 1);
    if (r->type == REQ_CLOSE) {
        send_reply(zk, r, out);
        return;
    }
    /* a client cut off meanwhile never hears the answer: it gets a connection loss
     * when its read deadline passes (the operation did apply) */
    if (cut_off(s, out)) {
        r->rc = COORD_CONNECTIONLOSS;
        uint64_t deadline = s->last_answer_ns + s->timeout_ns * 2 / 3;
        send_reply(zk, r, deadline > out ? deadline : out);
        return;
    }
    send_reply(zk, r, out);
}

static int submit(coord_session *s, request *r) {
    mock_zk *zk = s->zk;
    uint64_t now = env_now(&zk->env);
    r->s = s;
    r->sent_ns = now;
    own(zk, &r->link, OWNED_REQUEST);
    if (s->client == CLIENT_EXPIRED || s->client == CLIENT_CLOSED || !s->server_alive ||
        s->killed) {
        r->rc = s->client == CLIENT_CLOSED || s->client == CLIENT_EXPIRED || !s->server_alive
                    ? COORD_SESSIONEXPIRED
                    : COORD_CONNECTIONLOSS;
        send_reply(zk, r, now);
        return 0;
    }
    if (s->client == CLIENT_DISCONNECTED || cut_off(s, now)) {
        /* the request cannot reach the service: loss at the client's read deadline */
        r->rc = COORD_CONNECTIONLOSS;
        uint64_t deadline = s->last_answer_ns + s->timeout_ns * 2 / 3;
        send_reply(zk, r, deadline > now ? deadline : now);
        return 0;
    }
    uint64_t at = now + latency(zk, r) / 2;
    if (at <= s->last_apply_ns)
        at = s->last_apply_ns + 1; /* one session's requests apply in order */
    if (on_follower(s)) {          /* and its reads wait for its own writes to reach its server */
        int read = r->type == REQ_GET || r->type == REQ_EXISTS || r->type == REQ_CHILDREN;
        if (read && at <= s->visible_ns)
            at = s->visible_ns + 1;
        else if (!read && r->type != REQ_SYNC) /* a sync catches its server up at once */
            s->visible_ns = at + zk->cfg.follower_lag_ns;
    }
    s->last_apply_ns = at;
    r->server = s->server;
    return env_schedule(&zk->env, at, apply, r, 0, 0);
}

static request *new_request(int type, const char *path, const void *data, size_t len,
                            coord_done_fn done, void *arg) {
    request *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->type = type;
    r->path = path ? strdup(path) : NULL;
    if (len) {
        r->data = malloc(len);
        if (r->data)
            memcpy(r->data, data, len);
    }
    r->len = r->data ? len : 0;
    r->done = done;
    r->arg = arg;
    return r;
}

/* ---------- the backend table ---------- */

static int m_open(void *service, coord_session *s, uint64_t timeout_ns, coord_state_fn on_state,
                  void *arg) {
    mock_zk *zk = service;
    memset(s, 0, sizeof *s);
    uint64_t lo = zk->cfg.min_ticks * zk->cfg.tick_ns, hi = zk->cfg.max_ticks * zk->cfg.tick_ns;
    s->zk = zk;
    s->id = ++zk->next_session;
    s->timeout_ns = timeout_ns < lo ? lo : timeout_ns > hi ? hi : timeout_ns;
    s->on_state = on_state;
    s->arg = arg;
    s->client = CLIENT_CONNECTING;
    s->server_alive = 1;
    s->server = (uint32_t)((s->id - 1) % zk->cfg.servers); /* clients spread over the servers */
    for (uint32_t i = 0; i < zk->cfg.servers && !zk->server_up[s->server]; i++)
        s->server = (s->server + 1) % zk->cfg.servers;
    uint64_t now = env_now(&zk->env);
    s->last_heard_ns = s->last_answer_ns = now;
    if (register_session(zk, s) != 0)
        return SS_ENOMEM;
    arm_expiry(zk, s);
    env_schedule(&zk->env, now + zk->cfg.read_ns, connected, zk, s->id, s->generation);
    env_schedule(&zk->env, now + s->timeout_ns / 3, ping, zk, s->id, s->generation);
    return 0;
}

static int m_close(coord_session *s, coord_done_fn done, void *arg) {
    request *r = new_request(REQ_CLOSE, NULL, NULL, 0, done, arg);
    return r ? submit(s, r) : SS_ENOMEM;
}

static int m_create(coord_session *s, const char *path, const void *data, size_t len, int flags,
                    coord_done_fn done, void *arg) {
    request *r = new_request(REQ_CREATE, path, data, len, done, arg);
    if (!r)
        return SS_ENOMEM;
    r->flags = flags;
    return submit(s, r);
}

static int m_remove(coord_session *s, const char *path, int32_t version, coord_done_fn done,
                    void *arg) {
    request *r = new_request(REQ_DELETE, path, NULL, 0, done, arg);
    if (!r)
        return SS_ENOMEM;
    r->version = version;
    return submit(s, r);
}

static int m_set(coord_session *s, const char *path, const void *data, size_t len, int32_t version,
                 coord_done_fn done, void *arg) {
    request *r = new_request(REQ_SET, path, data, len, done, arg);
    if (!r)
        return SS_ENOMEM;
    r->version = version;
    return submit(s, r);
}

static int read_op(coord_session *s, int type, const char *path, coord_watch_fn watch,
                   void *watch_arg, coord_done_fn done, void *arg) {
    request *r = new_request(type, path, NULL, 0, done, arg);
    if (!r)
        return SS_ENOMEM;
    r->watch = watch;
    r->watch_arg = watch_arg;
    return submit(s, r);
}

static int m_get(coord_session *s, const char *path, coord_watch_fn w, void *wa, coord_done_fn d,
                 void *a) {
    return read_op(s, REQ_GET, path, w, wa, d, a);
}

static int m_exists(coord_session *s, const char *path, coord_watch_fn w, void *wa, coord_done_fn d,
                    void *a) {
    return read_op(s, REQ_EXISTS, path, w, wa, d, a);
}

static int m_children(coord_session *s, const char *path, coord_watch_fn w, void *wa,
                      coord_done_fn d, void *a) {
    return read_op(s, REQ_CHILDREN, path, w, wa, d, a);
}

static int m_multi(coord_session *s, const coord_op *ops, size_t count, coord_done_fn done,
                   void *arg) {
    request *r = new_request(REQ_MULTI, NULL, NULL, 0, done, arg);
    if (!r)
        return SS_ENOMEM;
    r->ops = calloc(count, sizeof *r->ops);
    if (!r->ops) {
        free_request(r);
        return SS_ENOMEM;
    }
    r->op_count = count;
    for (size_t i = 0; i < count; i++) {
        r->ops[i] = ops[i];
        r->ops[i].path = strdup(ops[i].path);
        r->ops[i].data = NULL;
        if (ops[i].data_len) {
            void *copy = malloc(ops[i].data_len);
            if (copy)
                memcpy(copy, ops[i].data, ops[i].data_len);
            r->ops[i].data = copy;
        }
    }
    return submit(s, r);
}

static int m_sync(coord_session *s, const char *path, coord_done_fn done, void *arg) {
    request *r = new_request(REQ_SYNC, path, NULL, 0, done, arg);
    return r ? submit(s, r) : SS_ENOMEM;
}

static uint64_t m_session_id(const coord_session *s) {
    return s->id;
}
static uint64_t m_timeout(const coord_session *s) {
    return s->timeout_ns;
}

const coord_backend mock_backend = {
    .version = 1,
    .name = "mock",
    .session_size = sizeof(struct coord_session),
    .open = m_open,
    .close = m_close,
    .create = m_create,
    .remove = m_remove,
    .set = m_set,
    .get = m_get,
    .exists = m_exists,
    .children = m_children,
    .multi = m_multi,
    .session_id = m_session_id,
    .session_timeout_ns = m_timeout,
    .sync = m_sync,
};

/* ---------- the service ---------- */

void mock_config_defaults(mock_config *c) {
    memset(c, 0, sizeof *c);
    c->tick_ns = 2000000000ULL;
    c->min_ticks = 2;
    c->max_ticks = 20;
    c->read_ns = 500000;
    c->write_ns = 2000000;
    c->per_byte_ns = 1.0;
    c->servers = 1;
    c->election_ns = 1000000000ULL;
    c->latency_dist = MOCK_LATENCY_CONSTANT;
    c->latency_sigma = 0.5;
    c->seed = 1;
    c->follower_lag_ns = 0;
    c->reconnect_ns = 50000000ULL;
}

int mock_create(const env *e, const mock_config *cfg, mock_zk **out) {
    mock_zk *zk = calloc(1, sizeof *zk);
    if (!zk)
        return SS_ENOMEM;
    zk->env = *e;
    zk->in_flight.next = zk->in_flight.prev = &zk->in_flight;
    if (cfg)
        zk->cfg = *cfg;
    else
        mock_config_defaults(&zk->cfg);
    if (zk->cfg.servers == 0)
        zk->cfg.servers = 1;
    zk->server_up = malloc(zk->cfg.servers);
    if (!zk->server_up) {
        free(zk);
        return SS_ENOMEM;
    }
    memset(zk->server_up, 1, zk->cfg.servers);
    if (zk->cfg.servers > 1 && zk->cfg.follower_lag_ns > 0) {
        zk->replicas = calloc(zk->cfg.servers, sizeof *zk->replicas);
        zk->applied = calloc(zk->cfg.servers, sizeof *zk->applied);
        if (!zk->replicas || !zk->applied) {
            mock_free(zk);
            return SS_ENOMEM;
        }
    }
    zk->leader = 0;
    zk->slow_factor = 1.0;
    prng_stream(&zk->rng, zk->cfg.seed, 0, 0x2C00);
    for (int i = 0; i < MOCK_OP_TYPES; i++)
        if (hist_init(&zk->latency[i]) != 0) {
            mock_free(zk);
            return SS_ENOMEM;
        }
    if (add_node(zk, &zk->tree, "/", NULL, 0, 0) != 0) {
        mock_free(zk);
        return SS_ENOMEM;
    }
    for (uint32_t k = 0; zk->replicas && k < zk->cfg.servers; k++)
        replica_reset(zk, k);
    *out = zk;
    return 0;
}

void mock_free(mock_zk *zk) {
    if (!zk)
        return;
    while (zk->in_flight.next && zk->in_flight.next != &zk->in_flight) {
        owned *o = zk->in_flight.next;
        disown(o);
        if (o->kind == OWNED_REQUEST) {
            free_request((request *)o);
        } else {
            free(((delivery *)o)->path);
            free(o);
        }
    }
    free_nodes(zk->tree.nodes, zk->tree.count);
    for (uint32_t k = 0; zk->replicas && k < zk->cfg.servers; k++)
        free_nodes(zk->replicas[k].nodes, zk->replicas[k].count);
    free(zk->replicas);
    free(zk->applied);
    for (size_t i = 0; i < zk->log_count; i++)
        free_txn(&zk->log[i]);
    free(zk->log);
    untouch(zk);
    free(zk->touched);
    for (size_t i = 0; i < zk->watch_count; i++)
        free(zk->watches[i].path);
    free(zk->watches);
    for (size_t i = 0; i < zk->pending_count; i++)
        free(zk->pending[i].path);
    free(zk->pending);
    free(zk->sessions);
    free(zk->server_up);
    for (int i = 0; i < MOCK_OP_TYPES; i++)
        hist_free(&zk->latency[i]);
    free(zk);
}

/* The election is over: the lowest live server leads, and every session gets a fresh
 * timeout from now (ZooKeeper's new leader re-tracks sessions). */
static void elected(void *arg, uint64_t a, uint64_t b) {
    (void)a, (void)b;
    mock_zk *zk = arg;
    zk->electing = 0;
    if (!has_quorum(zk))
        return;
    uint64_t now = env_now(&zk->env);
    for (uint32_t i = 0; i < zk->cfg.servers; i++)
        if (zk->server_up[i]) {
            if (zk->replicas) /* its view is complete before it leads */
                replica_advance(zk, i, zk->zxid, now + zk->cfg.read_ns / 2);
            zk->leader = (int)i;
            break;
        }
    for (size_t i = 0; zk->replicas && i < zk->session_count; i++)
        retag_watches(zk, zk->sessions[i]);
    for (size_t i = 0; i < zk->session_count; i++)
        if (zk->sessions[i]->server_alive)
            zk->sessions[i]->last_heard_ns = now;
}

static void maybe_elect(mock_zk *zk) {
    if (zk->leader >= 0 || zk->electing || !has_quorum(zk))
        return;
    zk->electing = 1;
    env_schedule(&zk->env, env_now(&zk->env) + zk->cfg.election_ns, elected, zk, 0, 0);
}

static void reconnected(void *arg, uint64_t id, uint64_t generation) {
    mock_zk *zk = arg;
    coord_session *s = session_by_id(zk, id);
    uint64_t now = env_now(&zk->env);
    if (!s || generation != s->generation || s->killed || s->client == CLIENT_CLOSED ||
        s->client == CLIENT_EXPIRED)
        return;
    if (cut_off(s, now)) { /* no server answers yet: try again */
        env_schedule(&zk->env, now + zk->cfg.reconnect_ns, reconnected, zk, s->id, s->generation);
        return;
    }
    if (!s->server_alive) {
        s->client = CLIENT_EXPIRED;
        notify(s, COORD_STATE_EXPIRED);
        return;
    }
    s->last_heard_ns = s->last_answer_ns = now;
    if (s->client == CLIENT_DISCONNECTED) {
        s->client = CLIENT_CONNECTED;
        notify(s, COORD_STATE_CONNECTED);
    }
}

/* A client whose server crashed sees its connection drop at once and connects to the
 * next live server after reconnect_ns; its session survives if that is within its
 * timeout. It never lands on a server behind what it has seen (ZooKeeper refuses
 * those): the new server's view is brought up to date, and the client's watches move
 * there, firing for what it missed. */
static void move_session(mock_zk *zk, coord_session *s) {
    uint32_t n = zk->cfg.servers, from = s->server;
    for (uint32_t i = 1; i < n && s->server == from; i++)
        if (zk->server_up[(from + i) % n])
            s->server = (from + i) % n;
    if (s->server == from)
        return;
    uint64_t at = env_now(&zk->env) + zk->cfg.reconnect_ns;
    if (zk->replicas) {
        if ((int)from != zk->leader)
            replica_advance(zk, from, zk->zxid, at);
        if ((int)s->server != zk->leader)
            replica_advance(zk, s->server, zk->zxid, at);
        retag_watches(zk, s);
    }
    s->reconnect_at_ns = at;
    if (s->client == CLIENT_CONNECTED) {
        s->client = CLIENT_DISCONNECTED;
        notify(s, COORD_STATE_DISCONNECTED);
    }
    env_schedule(&zk->env, at, reconnected, zk, s->id, s->generation);
}

void mock_crash_server(mock_zk *zk, uint32_t server) {
    if (server >= zk->cfg.servers || !zk->server_up[server])
        return;
    zk->server_up[server] = 0;
    for (size_t i = 0; i < zk->session_count; i++) {
        coord_session *s = zk->sessions[i];
        if (s->server == server && !s->killed && s->client != CLIENT_CLOSED &&
            s->client != CLIENT_EXPIRED)
            move_session(zk, s);
    }
    if (zk->leader == (int)server || !has_quorum(zk))
        zk->leader = -1;
    maybe_elect(zk);
}

void mock_restart_server(mock_zk *zk, uint32_t server) {
    if (server >= zk->cfg.servers || zk->server_up[server])
        return;
    zk->server_up[server] = 1;
    if (zk->replicas)
        replica_reset(zk, server);
    maybe_elect(zk);
}

void mock_kill_client(mock_zk *zk, coord_session *s) {
    (void)zk;
    s->killed = 1;
}

void mock_partition_client(mock_zk *zk, coord_session *s, uint64_t duration_ns) {
    s->cut_until_ns = env_now(&zk->env) + duration_ns;
}

void mock_expire_session(mock_zk *zk, coord_session *s) {
    zk->sessions_expired++;
    end_session(zk, s);
}

uint64_t mock_ops_applied(const mock_zk *zk) {
    return zk->ops_applied;
}

uint64_t mock_session_ended_ns(const coord_session *s) {
    return s->ended_ns;
}

const char *mock_op_name(int type) {
    static const char *const names[MOCK_OP_TYPES] = {"create",   "delete", "set",   "get", "exists",
                                                     "children", "multi",  "close", "sync"};
    return type >= 0 && type < MOCK_OP_TYPES ? names[type] : "?";
}

uint64_t mock_op_count(const mock_zk *zk, int type) {
    return type >= 0 && type < MOCK_OP_TYPES ? zk->latency[type].count : 0;
}

const hist *mock_op_histogram(const mock_zk *zk, int type) {
    return type >= 0 && type < MOCK_OP_TYPES ? &zk->latency[type] : NULL;
}

uint64_t mock_op_latency_ns(const mock_zk *zk, int type, double quantile) {
    return type >= 0 && type < MOCK_OP_TYPES ? hist_quantile(&zk->latency[type], quantile) : 0;
}

void mock_drop_connection(mock_zk *zk, coord_session *s) {
    (void)zk;
    if (s->client != CLIENT_CONNECTED)
        return;
    s->client = CLIENT_DISCONNECTED;
    notify(s, COORD_STATE_DISCONNECTED);
}

void mock_slow(mock_zk *zk, double factor, uint64_t duration_ns) {
    zk->slow_factor = factor;
    zk->slow_until_ns = env_now(&zk->env) + duration_ns;
}
uint64_t mock_sessions_expired(const mock_zk *zk) {
    return zk->sessions_expired;
}
