/* tree.c -- the ZooKeeper model's data: the committed znode tree, one-shot watches and
 * their deliveries, the followers' lagging views (a log of transactions each applies
 * after follower_lag_ns), and the operations (create, delete, set, multi, reads)
 * applied to them. See mock_internal.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/mock/mock_internal.h"
#include "core/assert.h"
#include "core/error.h"
#include "core/grow.h"

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
    if (ss_grow(&t->nodes, &t->cap, t->count + 1, sizeof *t->nodes) != 0)
        return NULL;
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

int zk_add_node(mock_zk *zk, tree *t, const char *path, const void *data, size_t len,
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

/* Arm r's watch of this kind on its path, in server's view; notes its id in r. */
static void add_watch(mock_zk *zk, request *r, int kind, int server) {
    if (!r->watch)
        return;
    if (ss_grow(&zk->watches, &zk->watch_cap, zk->watch_count + 1, sizeof *zk->watches) != 0)
        return;
    r->armed = ++zk->next_watch;
    zk->watches[zk->watch_count++] =
        (watch_entry){r->s, strdup(r->path), kind, r->watch, r->watch_arg, server, r->armed};
}

static void queue_delivery(mock_zk *zk, const watch_entry *w, int event) {
    if (ss_grow(&zk->pending, &zk->pending_cap, zk->pending_count + 1, sizeof *zk->pending) != 0)
        return;
    zk->pending[zk->pending_count++] = (delivery){.fn = w->fn,
                                                  .arg = w->arg,
                                                  .event = event,
                                                  .path = strdup(w->path),
                                                  .zk = zk,
                                                  .session_id = w->s->id,
                                                  .generation = w->s->generation,
                                                  .watch_id = w->id};
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

/* watch-after-reply (mutation): the event waits for its session's next reply. 0 if
 * held (out of memory: it is delivered as usual). */
static int hold(mock_zk *zk, delivery *d) {
    if (ss_grow(&zk->held, &zk->held_cap, zk->held_count + 1, sizeof *zk->held) != 0)
        return SS_ENOMEM;
    zk->held[zk->held_count++] = d;
    return 0;
}

static void deliver(void *arg, uint64_t a, uint64_t b);

void zk_release_held(mock_zk *zk, uint64_t session_id) {
    size_t keep = 0;
    for (size_t i = 0; i < zk->held_count; i++) {
        delivery *d = zk->held[i];
        if (d->session_id == session_id) { /* due now, behind the reply already run */
            d->released = 1;
            env_schedule(&zk->env, env_now(&zk->env), deliver, d, 0, 0);
        } else {
            zk->held[keep++] = d;
        }
    }
    zk->held_count = keep;
}

static int park(mock_zk *zk, delivery *d) {
    if (ss_grow(&zk->parked, &zk->parked_cap, zk->parked_count + 1, sizeof *zk->parked) != 0)
        return SS_ENOMEM;
    zk->parked[zk->parked_count++] = d;
    return 0;
}

void zk_drop_parked(mock_zk *zk, const mock_session *s) {
    size_t keep = 0;
    for (size_t i = 0; i < zk->parked_count; i++) {
        delivery *d = zk->parked[i];
        if (d->session_id == s->id) {
            zk_disown(&d->link);
            free(d->path);
            free(d);
        } else {
            zk->parked[keep++] = d;
        }
    }
    zk->parked_count = keep;
}

void zk_release_parked(mock_zk *zk, const mock_session *s) {
    size_t keep = 0;
    for (size_t i = 0; i < zk->parked_count; i++) {
        delivery *d = zk->parked[i];
        if (d->session_id == s->id)
            env_schedule(&zk->env, env_now(&zk->env), deliver, d, 0, 0);
        else
            zk->parked[keep++] = d;
    }
    zk->parked_count = keep;
}

static void deliver(void *arg, uint64_t a, uint64_t b) {
    (void)b;
    delivery *d = arg;
    (void)a;
    mock_session *s = zk_session_by_id(d->zk, d->session_id);
    if (!d->cancelled && s && s->generation == d->generation && s->client != CLIENT_CLOSED &&
        s->client != CLIENT_EXPIRED && !s->killed) {
        uint64_t now = env_now(&d->zk->env);
        if (zk_cut_off(s, now) || s->client == CLIENT_DISCONNECTED) {
            /* the event waits for the connection (setWatches) */
            if (park(d->zk, d) != 0) /* out of memory: it tries again later */
                env_schedule(&d->zk->env, now + d->zk->cfg.reconnect_ns, deliver, d, 0, 0);
            return;
        }
        if ((d->zk->cfg.mutations & COORD_MUT_WATCH_AFTER_REPLY) && !d->released &&
            hold(d->zk, d) == 0)
            return;
        d->fn(d->arg, d->event, d->path);
    }
    zk_disown(&d->link);
    free(d->path);
    free(d);
}

/* Send the pending watch events, each to its session, at time at. */
void zk_flush_deliveries(mock_zk *zk, uint64_t at, int send) {
    for (size_t i = 0; i < zk->pending_count; i++) {
        delivery *d = malloc(sizeof *d);
        if (send && d) {
            *d = zk->pending[i];
            zk_own(zk, &d->link, OWNED_DELIVERY);
            env_schedule(&zk->env, at, deliver, d, 0, 0);
        } else {
            free(zk->pending[i].path);
            free(d);
        }
    }
    zk->pending_count = 0;
}

void zk_drop_watches_of(mock_zk *zk, mock_session *s) {
    size_t keep = 0;
    for (size_t i = 0; i < zk->watch_count; i++) {
        if (zk->watches[i].s == s)
            free(zk->watches[i].path);
        else
            zk->watches[keep++] = zk->watches[i];
    }
    zk->watch_count = keep;
}

void zk_forget_watch(mock_zk *zk, uint64_t id) {
    if (!id)
        return;
    for (size_t i = 0; i < zk->watch_count; i++) {
        watch_entry *w = &zk->watches[i];
        if (w->id == id) {
            free(w->path);
            memmove(w, w + 1, (zk->watch_count - i - 1) * sizeof *w);
            zk->watch_count--;
            return;
        }
    }
    for (owned *o = zk->in_flight.next; o != &zk->in_flight; o = o->next)
        if (o->kind == OWNED_DELIVERY && ((delivery *)o)->watch_id == id)
            ((delivery *)o)->cancelled = 1;
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

int zk_on_follower(const mock_session *s) {
    return s->zk->replicas && !s->moving && (int)s->server != s->zk->leader;
}

static tree *view_of(mock_session *s) {
    return zk_on_follower(s) ? &s->zk->replicas[s->server] : &s->zk->tree;
}

static int watch_server(const mock_session *s) {
    return zk_on_follower(s) ? (int)s->server : -1;
}

static void touch(mock_zk *zk, const char *path) {
    if (!zk->replicas)
        return;
    for (size_t i = 0; i < zk->touched_count; i++)
        if (strcmp(zk->touched[i], path) == 0)
            return;
    if (ss_grow(&zk->touched, &zk->touched_cap, zk->touched_count + 1, sizeof *zk->touched) != 0)
        return;
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
void zk_log_txn(mock_zk *zk) {
    if (!zk->replicas || zk->touched_count == 0) {
        untouch(zk);
        return;
    }
    if (ss_grow(&zk->log, &zk->log_cap, zk->log_count + 1, sizeof *zk->log) != 0) {
        untouch(zk);
        return;
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

/* Server k's view applies the log up to zxid `upto`; its watch events reach the
 * clients at `deliver_at`. */
void zk_replica_advance(mock_zk *zk, uint32_t k, int64_t upto, uint64_t deliver_at) {
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
    zk_flush_deliveries(zk, deliver_at, 1);
    trim_log(zk);
}

static void catch_up_timer(void *arg, uint64_t server, uint64_t zxid) {
    mock_zk *zk = arg;
    if (zk->server_up[server] && (int)server != zk->leader)
        zk_replica_advance(zk, (uint32_t)server, (int64_t)zxid,
                           env_now(&zk->env) + zk->cfg.read_ns / 2);
}

/* Server k's view becomes a copy of the committed tree (a restarted follower syncs
 * with the leader). */
void zk_replica_reset(mock_zk *zk, uint32_t k) {
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
void zk_retag_watches(mock_zk *zk, const mock_session *s) {
    int server = watch_server(s);
    for (size_t i = 0; i < zk->watch_count; i++)
        if (zk->watches[i].s == s)
            zk->watches[i].server = server;
}

/* ---------- applying one operation ---------- */

int zk_apply_create(mock_zk *zk, mock_session *s, const char *path, const void *data, size_t len,
                    int flags, char **out_path) {
    char parent_path[1024], actual[1100];
    parent_of(path, parent_path, sizeof parent_path);
    node *parent = find(&zk->tree, parent_path);
    if (!parent)
        return COORD_NONODE;
    if (parent->stat.ephemeral_owner)
        return COORD_NOCHILDRENFOREPHEMERALS;
    if (flags & COORD_SEQUENTIAL)
        snprintf(actual, sizeof actual, "%s%010d", path, parent->created);
    else
        snprintf(actual, sizeof actual, "%s", path);
    if (find(&zk->tree, actual))
        return COORD_NODEEXISTS;
    zk->zxid++;
    int32_t parent_index = (int32_t)(parent - zk->tree.nodes);
    if (zk_add_node(zk, &zk->tree, actual, data, len, (flags & COORD_EPHEMERAL) ? s->id : 0) != 0)
        return COORD_CONNECTIONLOSS;
    parent = &zk->tree.nodes[parent_index]; /* the array may have moved */
    parent->stat.cversion++;
    parent->created++;
    parent->stat.num_children++;
    SS_ASSERT(parent->stat.cversion > 0 && parent->stat.num_children > 0 && parent->created > 0);
    if (out_path)
        *out_path = strdup(actual);
    trigger(zk, actual, W(WATCH_DATA) | W(WATCH_EXISTS), COORD_EVENT_CREATED);
    trigger(zk, parent_path, W(WATCH_CHILD), COORD_EVENT_CHILDREN_CHANGED);
    return COORD_OK;
}

/* sequential-reuse (mutation): the deleted child was the parent's newest sequential
 * one (its name ends in the last number given out): the next create gets it again. */
static void give_back_sequence(node *parent, const char *path) {
    size_t len = strlen(path);
    if (len < 10 || parent->created == 0 || strspn(path + len - 10, "0123456789") != 10)
        return;
    if (atoll(path + len - 10) == (long long)parent->created - 1)
        parent->created--;
}

int zk_apply_delete(mock_zk *zk, const char *path, int32_t version) {
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
    SS_ASSERT(parent || strcmp(path, "/") == 0); /* a node's parent exists */
    if (parent) {
        if (zk->cfg.mutations & COORD_MUT_SEQUENTIAL_REUSE)
            give_back_sequence(parent, path);
        parent->stat.cversion++;
        parent->stat.num_children--;
        SS_ASSERT(parent->stat.cversion > 0 && parent->stat.num_children >= 0);
    }
    trigger(zk, path, W(WATCH_DATA) | W(WATCH_EXISTS) | W(WATCH_CHILD), COORD_EVENT_DELETED);
    trigger(zk, parent_path, W(WATCH_CHILD), COORD_EVENT_CHILDREN_CHANGED);
    return COORD_OK;
}

int zk_apply_set(mock_zk *zk, const char *path, const void *data, size_t len, int32_t version,
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
void zk_drop_ephemerals(mock_zk *zk, mock_session *s) {
    for (size_t i = zk->tree.count; i > 0; i--)
        if (zk->tree.nodes[i - 1].stat.ephemeral_owner == s->id) {
            char *path = strdup(zk->tree.nodes[i - 1].path);
            zk_apply_delete(zk, path, -1);
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

void zk_free_nodes(node *nodes, size_t count) {
    for (size_t i = 0; i < count; i++) {
        free(nodes[i].path);
        free(nodes[i].data);
    }
    free(nodes);
}

/* The armed watches, copied: a failed multi puts back those its ops consumed. */
static watch_entry *copy_watches(const mock_zk *zk) {
    watch_entry *w = malloc((zk->watch_count + 1) * sizeof *w);
    for (size_t i = 0; w && i < zk->watch_count; i++) {
        w[i] = zk->watches[i];
        w[i].path = strdup(zk->watches[i].path);
    }
    return w;
}

static void restore_watches(mock_zk *zk, watch_entry *saved, size_t count) {
    for (size_t i = 0; i < zk->watch_count; i++)
        free(zk->watches[i].path);
    free(zk->watches);
    zk->watches = saved;
    zk->watch_count = count;
    zk->watch_cap = count + 1;
}

void zk_apply_multi(mock_zk *zk, request *r) {
    tree_copy before;
    r->op_rcs = calloc(r->op_count, sizeof *r->op_rcs);
    size_t watch_count = zk->watch_count;
    watch_entry *watches = copy_watches(zk);
    if (!r->op_rcs || !watches || copy_tree(zk, &before) != 0) {
        if (watches)
            restore_watches(zk, watches, watch_count); /* nothing consumed yet */
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
            rc = zk_apply_create(zk, r->s, op->path, op->data, op->data_len, op->flags, NULL);
            break;
        case COORD_OP_DELETE:
            rc = zk_apply_delete(zk, op->path, op->version);
            break;
        case COORD_OP_SET:
            rc = zk_apply_set(zk, op->path, op->data, op->data_len, op->version, NULL);
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
        zk_free_nodes(zk->tree.nodes, zk->tree.count);
        zk->tree.nodes = before.nodes;
        zk->tree.count = before.count;
        zk->tree.cap = before.count + 1;
        zk->zxid = before.zxid;
        for (size_t k = 0; k < zk->pending_count; k++)
            free(zk->pending[k].path);
        zk->pending_count = 0;
        untouch(zk);
        /* as ZooKeeper reports it: the ops before the failing one OK, the ones after
         * it RUNTIMEINCONSISTENCY; no watch fires and none is used up */
        for (size_t i = failed + 1; i < r->op_count; i++)
            r->op_rcs[i] = COORD_RUNTIMEINCONSISTENCY;
        r->rc = r->op_rcs[failed];
        restore_watches(zk, watches, watch_count);
    } else {
        for (size_t i = 0; i < watch_count; i++)
            free(watches[i].path);
        free(watches);
        zk_free_nodes(before.nodes, before.count);
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

void zk_apply_read(mock_zk *zk, request *r) {
    tree *view = view_of(r->s);
    int server = watch_server(r->s);
    node *n = find(view, r->path);
    if (r->type == REQ_EXISTS) {
        r->rc = n ? COORD_OK : COORD_NONODE;
        if (n)
            r->res.stat = n->stat;
        add_watch(zk, r, n ? WATCH_DATA : WATCH_EXISTS, server);
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
        add_watch(zk, r, WATCH_DATA, server);
    } else {
        r->children = children_of(view, r->path, &r->res.child_count);
        r->res.children = (const char *const *)r->children;
        add_watch(zk, r, WATCH_CHILD, server);
    }
}

void zk_free_views(mock_zk *zk) {
    for (uint32_t k = 0; zk->replicas && k < zk->cfg.servers; k++)
        zk_free_nodes(zk->replicas[k].nodes, zk->replicas[k].count);
    free(zk->replicas);
    free(zk->applied);
    for (size_t i = 0; i < zk->log_count; i++)
        free_txn(&zk->log[i]);
    free(zk->log);
    untouch(zk);
    free(zk->touched);
}
