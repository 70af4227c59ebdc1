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
enum { REQ_CREATE = 1, REQ_DELETE, REQ_SET, REQ_GET, REQ_EXISTS, REQ_CHILDREN, REQ_MULTI, REQ_CLOSE };

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
} watch_entry;

struct coord_session {
    mock_zk *zk;
    uint64_t id;
    uint64_t timeout_ns;
    coord_state_fn on_state;
    void *arg;
    int client;           /* CLIENT_* */
    int server_alive;     /* the service still has the session */
    int killed;
    uint64_t cut_until_ns;  /* partitioned from the service until then */
    uint64_t last_heard_ns; /* service side: last request or ping */
    uint64_t last_answer_ns; /* client side: last reply or ping answer */
    uint64_t last_apply_ns, last_reply_ns; /* FIFO */
    uint32_t generation;  /* bumps on expiry/close: stale timers ignore themselves */
};

typedef struct request {
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
    /* the reply */
    int rc;
    coord_result res;
    char *out_path;
    char **children;
    int *op_rcs;
} request;

/* A pending watch delivery. */
typedef struct delivery {
    coord_watch_fn fn;
    void *arg;
    int event;
    char *path;
    mock_zk *zk;
    uint64_t session_id;
    uint32_t generation;
} delivery;

struct mock_zk {
    env env;
    mock_config cfg;
    node *nodes;
    size_t node_count, node_cap;
    watch_entry *watches;
    size_t watch_count, watch_cap;
    delivery *pending; /* watch events of the operation being applied */
    size_t pending_count, pending_cap;
    int64_t zxid;
    uint64_t next_session;
    uint8_t *server_up;
    int leader;               /* the elected leader server, -1 = none */
    int electing;
    prng rng;                 /* latency draws */
    double slow_factor;
    uint64_t slow_until_ns;
    hist latency[MOCK_OP_TYPES];
    coord_session **sessions; /* open sessions: timers find theirs by id */
    size_t session_count, session_cap;
    uint64_t ops_applied, sessions_expired;
};

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

static int has_quorum(const mock_zk *zk) { return servers_up(zk) >= zk->cfg.servers / 2 + 1; }

int mock_available(const mock_zk *zk) { return zk->leader >= 0 && has_quorum(zk); }

/* ---------- the tree ---------- */

static node *find(mock_zk *zk, const char *path) {
    for (size_t i = 0; i < zk->node_count; i++)
        if (strcmp(zk->nodes[i].path, path) == 0)
            return &zk->nodes[i];
    return NULL;
}

static void parent_of(const char *path, char *out, size_t size) {
    const char *slash = strrchr(path, '/');
    size_t len = slash == path ? 1 : (size_t)(slash - path);
    snprintf(out, size, "%.*s", (int)len, path);
}

static int add_node(mock_zk *zk, const char *path, const void *data, size_t len, uint64_t owner) {
    if (zk->node_count == zk->node_cap) {
        size_t cap = zk->node_cap ? zk->node_cap * 2 : 64;
        node *n = realloc(zk->nodes, cap * sizeof *n);
        if (!n)
            return SS_ENOMEM;
        zk->nodes = n;
        zk->node_cap = cap;
    }
    node *n = &zk->nodes[zk->node_count];
    memset(n, 0, sizeof *n);
    n->path = strdup(path);
    n->data = len ? malloc(len) : NULL;
    if (!n->path || (len && !n->data)) {
        free(n->path);
        free(n->data);
        return SS_ENOMEM;
    }
    if (len)
        memcpy(n->data, data, len);
    n->len = len;
    n->stat.czxid = n->stat.mzxid = zk->zxid;
    n->stat.ephemeral_owner = owner;
    n->stat.data_length = (int32_t)len;
    zk->node_count++;
    return 0;
}

static void drop_node(mock_zk *zk, node *n) {
    free(n->path);
    free(n->data);
    size_t i = (size_t)(n - zk->nodes);
    memmove(&zk->nodes[i], &zk->nodes[i + 1], (zk->node_count - i - 1) * sizeof *n);
    zk->node_count--;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted child names of path (malloc'd array of malloc'd names). */
static char **children_of(mock_zk *zk, const char *path, size_t *count) {
    size_t plen = strlen(path), n = 0;
    char **names = malloc((zk->node_count + 1) * sizeof *names);
    if (!names)
        return NULL;
    for (size_t i = 0; i < zk->node_count; i++) {
        const char *p = zk->nodes[i].path;
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
                      void *arg) {
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
    zk->watches[zk->watch_count++] = (watch_entry){s, strdup(path), kind, fn, arg};
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
    zk->pending[zk->pending_count++] =
        (delivery){w->fn, w->arg, event, strdup(w->path), zk, w->s->id, w->s->generation};
}

/* Fire (once) the watches on path whose kind is in `kinds` (a bit set of 1 << kind). */
static void trigger(mock_zk *zk, const char *path, unsigned kinds, int event) {
    size_t keep = 0;
    for (size_t i = 0; i < zk->watch_count; i++) {
        watch_entry *w = &zk->watches[i];
        if (strcmp(w->path, path) == 0 && (kinds & (1u << w->kind))) {
            queue_delivery(zk, w, event);
            free(w->path);
        } else {
            zk->watches[keep++] = *w;
        }
    }
    zk->watch_count = keep;
}

static void deliver(void *arg, uint64_t a, uint64_t b) {
    (void)b;
    delivery *d = arg;
    (void)a;
    coord_session *s = session_by_id(d->zk, d->session_id);
    if (s && s->generation == d->generation && s->client != CLIENT_CLOSED &&
        s->client != CLIENT_EXPIRED && !s->killed)
        d->fn(d->arg, d->event, d->path);
    free(d->path);
    free(d);
}

/* Send the pending watch events, each to its session, at time at. */
static void flush_deliveries(mock_zk *zk, uint64_t at, int send) {
    for (size_t i = 0; i < zk->pending_count; i++) {
        delivery *d = malloc(sizeof *d);
        if (send && d) {
            *d = zk->pending[i];
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

/* ---------- applying one operation ---------- */

#define W(kind) (1u << (kind))

static int apply_create(mock_zk *zk, coord_session *s, const char *path, const void *data,
                        size_t len, int flags, char **out_path) {
    char parent_path[1024], actual[1100];
    parent_of(path, parent_path, sizeof parent_path);
    node *parent = find(zk, parent_path);
    if (!parent)
        return COORD_NONODE;
    if (parent->stat.ephemeral_owner)
        return COORD_NOCHILDRENFOREPHEMERALS;
    if (flags & COORD_SEQUENTIAL)
        snprintf(actual, sizeof actual, "%s%010d", path, parent->stat.cversion);
    else
        snprintf(actual, sizeof actual, "%s", path);
    if (find(zk, actual))
        return COORD_NODEEXISTS;
    zk->zxid++;
    int32_t parent_index = (int32_t)(parent - zk->nodes);
    if (add_node(zk, actual, data, len, (flags & COORD_EPHEMERAL) ? s->id : 0) != 0)
        return COORD_CONNECTIONLOSS;
    parent = &zk->nodes[parent_index]; /* the array may have moved */
    parent->stat.cversion++;
    parent->stat.num_children++;
    if (out_path)
        *out_path = strdup(actual);
    trigger(zk, actual, W(WATCH_DATA) | W(WATCH_EXISTS), COORD_EVENT_CREATED);
    trigger(zk, parent_path, W(WATCH_CHILD), COORD_EVENT_CHILDREN_CHANGED);
    return COORD_OK;
}

static int apply_delete(mock_zk *zk, const char *path, int32_t version) {
    node *n = find(zk, path);
    if (!n)
        return COORD_NONODE;
    if (version != -1 && version != n->stat.version)
        return COORD_BADVERSION;
    if (n->stat.num_children > 0)
        return COORD_NOTEMPTY;
    char parent_path[1024];
    parent_of(path, parent_path, sizeof parent_path);
    zk->zxid++;
    drop_node(zk, n);
    node *parent = find(zk, parent_path);
    if (parent) {
        parent->stat.cversion++;
        parent->stat.num_children--;
    }
    trigger(zk, path, W(WATCH_DATA) | W(WATCH_EXISTS) | W(WATCH_CHILD), COORD_EVENT_DELETED);
    trigger(zk, parent_path, W(WATCH_CHILD), COORD_EVENT_CHILDREN_CHANGED);
    return COORD_OK;
}

static int apply_set(mock_zk *zk, const char *path, const void *data, size_t len,
                     int32_t version, coord_stat *stat) {
    node *n = find(zk, path);
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
    for (size_t i = zk->node_count; i > 0; i--)
        if (zk->nodes[i - 1].stat.ephemeral_owner == s->id) {
            char *path = strdup(zk->nodes[i - 1].path);
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
    c->count = zk->node_count;
    c->zxid = zk->zxid;
    c->nodes = malloc((c->count + 1) * sizeof *c->nodes);
    if (!c->nodes)
        return SS_ENOMEM;
    for (size_t i = 0; i < c->count; i++) {
        c->nodes[i] = zk->nodes[i];
        c->nodes[i].path = strdup(zk->nodes[i].path);
        c->nodes[i].data = zk->nodes[i].len ? malloc(zk->nodes[i].len) : NULL;
        if (zk->nodes[i].len && c->nodes[i].data)
            memcpy(c->nodes[i].data, zk->nodes[i].data, zk->nodes[i].len);
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
            node *n = find(zk, op->path);
            rc = !n ? COORD_NONODE
                    : (op->version != -1 && op->version != n->stat.version) ? COORD_BADVERSION
                                                                           : COORD_OK;
        }
        }
        r->op_rcs[i] = rc;
        if (rc != COORD_OK)
            failed = i;
    }
    if (failed < r->op_count) { /* all or nothing: put the tree back, fire nothing */
        free_nodes(zk->nodes, zk->node_count);
        zk->nodes = before.nodes;
        zk->node_count = before.count;
        zk->node_cap = before.count + 1;
        zk->zxid = before.zxid;
        for (size_t k = 0; k < zk->pending_count; k++)
            free(zk->pending[k].path);
        zk->pending_count = 0;
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
        for (size_t i = 0; i < zk->node_count; i++) {
            if (zk->nodes[i].stat.mzxid > zxid0)
                zk->nodes[i].stat.mzxid = z;
            if (zk->nodes[i].stat.czxid > zxid0)
                zk->nodes[i].stat.czxid = z;
        }
        zk->zxid = z;
        r->rc = COORD_OK;
    }
    r->res.op_rcs = r->op_rcs;
    r->res.op_count = r->op_count;
}

static void apply_read(mock_zk *zk, request *r) {
    node *n = find(zk, r->path);
    if (r->type == REQ_EXISTS) {
        r->rc = n ? COORD_OK : COORD_NONODE;
        if (n)
            r->res.stat = n->stat;
        add_watch(zk, r->s, r->path, n ? WATCH_DATA : WATCH_EXISTS, r->watch, r->watch_arg);
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
        add_watch(zk, r->s, r->path, WATCH_DATA, r->watch, r->watch_arg);
    } else {
        r->children = children_of(zk, r->path, &r->res.child_count);
        r->res.children = (const char *const *)r->children;
        add_watch(zk, r->s, r->path, WATCH_CHILD, r->watch, r->watch_arg);
    }
}

/* ---------- sessions ---------- */

static int cut_off(const coord_session *s, uint64_t now) {
    return s->killed || now < s->cut_until_ns || !mock_available(s->zk);
}

static void notify(coord_session *s, int state) {
    if (s->on_state && !s->killed)
        s->on_state(s->arg, state);
}

static void end_session(mock_zk *zk, coord_session *s) {
    if (!s->server_alive)
        return;
    s->server_alive = 0;
    drop_watches_of(zk, s);
    drop_ephemerals(zk, s);
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
                r->type == REQ_MULTI || r->type == REQ_CLOSE;
    size_t bytes = r->len;
    for (size_t i = 0; i < r->op_count; i++)
        bytes += r->ops[i].data_len;
    double mean = (double)(write ? zk->cfg.write_ns : zk->cfg.read_ns) + zk->cfg.per_byte_ns * (double)bytes;
    double sigma = zk->cfg.latency_sigma;
    double d = mean;
    if (zk->cfg.latency_dist == MOCK_LATENCY_EXPONENTIAL)
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
    default:
        apply_read(zk, r);
    }
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
    s->last_apply_ns = at;
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

static int m_set(coord_session *s, const char *path, const void *data, size_t len,
                 int32_t version, coord_done_fn done, void *arg) {
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

static int m_exists(coord_session *s, const char *path, coord_watch_fn w, void *wa,
                    coord_done_fn d, void *a) {
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

static uint64_t m_session_id(const coord_session *s) { return s->id; }
static uint64_t m_timeout(const coord_session *s) { return s->timeout_ns; }

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
};

/* ---------- the service ---------- */

void mock_config_defaults(mock_config *c) {
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
}

int mock_create(const env *e, const mock_config *cfg, mock_zk **out) {
    mock_zk *zk = calloc(1, sizeof *zk);
    if (!zk)
        return SS_ENOMEM;
    zk->env = *e;
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
    zk->leader = 0;
    zk->slow_factor = 1.0;
    prng_stream(&zk->rng, zk->cfg.seed, 0, 0x2C00);
    for (int i = 0; i < MOCK_OP_TYPES; i++)
        if (hist_init(&zk->latency[i]) != 0) {
            mock_free(zk);
            return SS_ENOMEM;
        }
    if (add_node(zk, "/", NULL, 0, 0) != 0) {
        free(zk);
        return SS_ENOMEM;
    }
    *out = zk;
    return 0;
}

void mock_free(mock_zk *zk) {
    if (!zk)
        return;
    free_nodes(zk->nodes, zk->node_count);
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
    for (uint32_t i = 0; i < zk->cfg.servers; i++)
        if (zk->server_up[i]) {
            zk->leader = (int)i;
            break;
        }
    uint64_t now = env_now(&zk->env);
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

void mock_crash_server(mock_zk *zk, uint32_t server) {
    if (server >= zk->cfg.servers || !zk->server_up[server])
        return;
    zk->server_up[server] = 0;
    if (zk->leader == (int)server || !has_quorum(zk))
        zk->leader = -1;
    maybe_elect(zk);
}

void mock_restart_server(mock_zk *zk, uint32_t server) {
    if (server >= zk->cfg.servers)
        return;
    zk->server_up[server] = 1;
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

uint64_t mock_ops_applied(const mock_zk *zk) { return zk->ops_applied; }

const char *mock_op_name(int type) {
    static const char *const names[MOCK_OP_TYPES] = {"create", "delete", "set",   "get",
                                                     "exists", "children", "multi", "close"};
    return type >= 0 && type < MOCK_OP_TYPES ? names[type] : "?";
}

uint64_t mock_op_count(const mock_zk *zk, int type) {
    return type >= 0 && type < MOCK_OP_TYPES ? zk->latency[type].count : 0;
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
uint64_t mock_sessions_expired(const mock_zk *zk) { return zk->sessions_expired; }
