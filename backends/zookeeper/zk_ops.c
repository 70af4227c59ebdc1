/* zk_ops.c -- the ZooKeeper backend's operations: each is one asynchronous call of the
 * C client with a zk_op as its context and, for get/exists/children with a watch, a
 * zk_watch as the watcher's. The client's completion thread copies the result into the
 * zk_op and posts it to the loop, where deliver_op records the statistics and runs the
 * caller's callback. See zk_internal.h for who owns what when. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "backends/zookeeper/zk_internal.h"
#include "core/error.h"

/* ---------- contexts ---------- */

void zk_watch_free(zk_watch *w) {
    free(w);
}

void zk_op_free(zk_op *op) {
    free(op->path);
    free(op->data);
    for (size_t i = 0; i < op->child_count; i++)
        free(op->children[i]);
    free(op->children);
    free(op->op_rcs);
    if (op->zpaths)
        for (size_t i = 0; i < op->op_count; i++)
            free(op->zpaths[i]);
    free(op->zpaths);
    free(op->zops);
    free(op->zres);
    free(op->zstats);
    free(op);
}

static void watch_unlink(zk_session *s, zk_watch *w) {
    if (!w->prev && s->watches != w)
        return; /* not linked */
    if (w->prev)
        w->prev->next = w->next;
    else
        s->watches = w->next;
    if (w->next)
        w->next->prev = w->prev;
    w->prev = w->next = NULL;
}

static void op_unlink(zk_session *s, zk_op *op) {
    if (!op->prev && s->ops != op)
        return; /* not linked */
    if (op->prev)
        op->prev->next = op->next;
    else
        s->ops = op->next;
    if (op->next)
        op->next->prev = op->prev;
    op->prev = op->next = NULL;
}

/* A new operation (and its watch, if watch is set), linked in s before the call: its
 * completion may run on the client's thread before the call returns. */
static zk_op *op_new(zk_session *s, int type, coord_watch_fn watch, void *watch_arg,
                     coord_done_fn done, void *arg) {
    zk_op *op = calloc(1, sizeof *op);
    if (!op)
        return NULL;
    if (watch) {
        op->watch = calloc(1, sizeof *op->watch);
        if (!op->watch) {
            free(op);
            return NULL;
        }
        op->watch->s = s;
        op->watch->fn = watch;
        op->watch->arg = watch_arg;
    }
    op->s = s;
    op->type = type;
    op->sent_ns = env_now(&s->svc->env);
    op->done = done;
    op->arg = arg;
    pthread_mutex_lock(&s->lock);
    op->next = s->ops;
    if (s->ops)
        s->ops->prev = op;
    s->ops = op;
    if (op->watch) {
        op->watch->next = s->watches;
        if (s->watches)
            s->watches->prev = op->watch;
        s->watches = op->watch;
    }
    pthread_mutex_unlock(&s->lock);
    return op;
}

/* The call returned rc (a client code) for op. Returns what the call returns. Before
 * anything is queued the client says BADARGUMENTS or INVALIDSTATE and never calls
 * back, so op goes at once; after other failures it may have queued op all the same:
 * then op stays linked, marked refused, until its completion or the close frees it --
 * unless its completion already took it, and then the call counts as made. */
static int issued(zk_op *op, int rc) {
    if (rc == ZOK)
        return 0; /* op is the client's now: not to be touched */
    zk_session *s = op->s;
    pthread_mutex_lock(&s->lock);
    int certain = rc == ZBADARGUMENTS || rc == ZINVALIDSTATE, taken = op->taken;
    if (certain) {
        op_unlink(s, op);
        if (op->watch)
            watch_unlink(s, op->watch);
    } else if (!taken) {
        op->refused = 1;
    }
    pthread_mutex_unlock(&s->lock);
    if (certain) {
        zk_watch_free(op->watch);
        zk_op_free(op);
    }
    return taken ? 0 : zk_convert_rc(rc);
}

/* Whether the client keeps the watch of a call of this type that completed with rc
 * (its data_result_checker, exists_result_checker, child_result_checker). */
static int watch_kept(int type, int rc) {
    return rc == ZOK || (type == COORD_OPTYPE_EXISTS && rc == ZNONODE);
}

/* The start of every completion, on the client's completion thread: take op out of the
 * pending list, and its watch too if the client did not keep it. Returns 0 if op was
 * refused (it is freed: nobody waits for it). */
static int op_take(zk_op *op, int rc) {
    zk_session *s = op->s;
    zk_watch *drop = NULL;
    pthread_mutex_lock(&s->lock);
    op_unlink(s, op);
    if (op->watch && !watch_kept(op->type, rc)) {
        watch_unlink(s, op->watch);
        drop = op->watch;
    }
    op->watch = NULL;
    op->taken = 1;
    int refused = op->refused;
    pthread_mutex_unlock(&s->lock);
    zk_watch_free(drop);
    if (refused)
        zk_op_free(op);
    return !refused;
}

/* ---------- delivery on the loop ---------- */

static int is_write(int type) {
    return type == COORD_OPTYPE_CREATE || type == COORD_OPTYPE_DELETE || type == COORD_OPTYPE_SET ||
           type == COORD_OPTYPE_MULTI;
}

static void deliver_op(void *arg, uint64_t a, uint64_t b) {
    (void)a, (void)b;
    zk_op *op = arg;
    zk_service *svc = op->s->svc;
    hist_record(&svc->latency[op->type], env_now(&svc->env) - op->sent_ns);
    svc->replies[op->type]++;
    if (op->rc == COORD_OK && is_write(op->type))
        svc->ops_applied++;
    coord_result res = {
        .stat = op->stat,
        .path = op->path,
        .data = op->data,
        .data_len = op->data_len,
        .children = (const char *const *)op->children,
        .child_count = op->child_count,
        .op_rcs = op->op_rcs,
        .op_count = op->op_rcs ? op->op_count : 0,
    };
    if (op->done)
        op->done(op->arg, op->rc, &res);
    zk_op_free(op);
}

void zk_op_finish(zk_op *op, int rc) {
    op->rc = zk_convert_rc(rc);
    zk_post(op->s->svc, deliver_op, op);
}

/* ---------- completions (the client's completion thread) ---------- */

static void copy_stat(coord_stat *out, const struct Stat *st) {
    if (!st)
        return;
    out->czxid = st->czxid;
    out->mzxid = st->mzxid;
    out->version = st->version;
    out->cversion = st->cversion;
    out->ephemeral_owner = (uint64_t)st->ephemeralOwner;
    out->num_children = st->numChildren;
    out->data_length = st->dataLength;
}

static char *copy_string(const char *s) {
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *c = malloc(n);
    if (c)
        memcpy(c, s, n);
    return c;
}

/* A copy that fails for want of memory turns a success into SYSTEMERROR. */
static int copied(int rc, const void *want, const void *got) {
    return rc == ZOK && want && !got ? ZSYSTEMERROR : rc;
}

static void on_void(int rc, const void *ctx) {
    zk_op *op = (zk_op *)ctx;
    if (op_take(op, rc))
        zk_op_finish(op, rc);
}

static void on_stat(int rc, const struct Stat *st, const void *ctx) {
    zk_op *op = (zk_op *)ctx;
    if (!op_take(op, rc))
        return;
    if (rc == ZOK)
        copy_stat(&op->stat, st);
    zk_op_finish(op, rc);
}

static void on_string(int rc, const char *value, const void *ctx) {
    zk_op *op = (zk_op *)ctx;
    if (!op_take(op, rc))
        return;
    if (rc == ZOK) {
        op->path = copy_string(value);
        rc = copied(rc, value, op->path);
    }
    zk_op_finish(op, rc);
}

static void on_string_stat(int rc, const char *value, const struct Stat *st, const void *ctx) {
    zk_op *op = (zk_op *)ctx;
    if (!op_take(op, rc))
        return;
    if (rc == ZOK) {
        copy_stat(&op->stat, st);
        op->path = copy_string(value);
        rc = copied(rc, value, op->path);
    }
    zk_op_finish(op, rc);
}

static void on_data(int rc, const char *value, int len, const struct Stat *st, const void *ctx) {
    zk_op *op = (zk_op *)ctx;
    if (!op_take(op, rc))
        return;
    if (rc == ZOK) {
        copy_stat(&op->stat, st);
        if (value && len > 0) { /* len -1: the node holds null, read as empty */
            op->data = malloc((size_t)len);
            if (op->data) {
                memcpy(op->data, value, (size_t)len);
                op->data_len = (size_t)len;
            }
            rc = copied(rc, value, op->data);
        }
    }
    zk_op_finish(op, rc);
}

static void on_children(int rc, const struct String_vector *names, const struct Stat *st,
                        const void *ctx) {
    zk_op *op = (zk_op *)ctx;
    if (!op_take(op, rc))
        return;
    if (rc == ZOK && names && names->count > 0) {
        copy_stat(&op->stat, st);
        op->children = calloc((size_t)names->count, sizeof *op->children);
        for (int32_t i = 0; op->children && i < names->count; i++) {
            op->children[i] = copy_string(names->data[i]);
            op->child_count++;
            rc = copied(rc, names->data[i], op->children[i]);
        }
        rc = copied(rc, names, op->children);
    } else if (rc == ZOK) {
        copy_stat(&op->stat, st);
    }
    zk_op_finish(op, rc);
}

static void on_multi(int rc, const void *ctx) {
    zk_op *op = (zk_op *)ctx;
    if (!op_take(op, rc))
        return;
    op->op_rcs = malloc(op->op_count * sizeof *op->op_rcs);
    for (size_t i = 0; op->op_rcs && i < op->op_count; i++)
        op->op_rcs[i] = zk_convert_rc(op->zres[i].err);
    zk_op_finish(op, copied(rc, op, op->op_rcs));
}

static void deliver_watch(void *arg, uint64_t a, uint64_t b) {
    (void)a, (void)b;
    zk_op *op = arg;
    zk_session *s = op->s;
    if (!s->killed && !s->closing)
        op->watch->fn(op->watch->arg, op->rc, op->path ? op->path : "");
    zk_watch_free(op->watch);
    op->watch = NULL;
    zk_op_free(op);
}

/* A watch set by a call fires (or, as the client tells every watcher, the session's
 * state changed: ignored here, the session's own watcher reports it). */
static void on_watch(zhandle_t *zh, int type, int state, const char *path, void *ctx) {
    (void)zh, (void)state;
    if (type == ZOO_SESSION_EVENT)
        return;
    int event = type == ZOO_CREATED_EVENT   ? COORD_EVENT_CREATED
                : type == ZOO_DELETED_EVENT ? COORD_EVENT_DELETED
                : type == ZOO_CHANGED_EVENT ? COORD_EVENT_DATA_CHANGED
                : type == ZOO_CHILD_EVENT   ? COORD_EVENT_CHILDREN_CHANGED
                                            : 0;
    if (event == 0)
        return; /* NOTWATCHING: watches are never removed here */
    zk_watch *w = ctx;
    zk_session *s = w->s;
    pthread_mutex_lock(&s->lock);
    watch_unlink(s, w);
    pthread_mutex_unlock(&s->lock);
    zk_op *op = calloc(1, sizeof *op); /* the event travels as an op without a type */
    if (!op) {
        zk_watch_free(w);
        return;
    }
    op->s = s;
    op->path = copy_string(path);
    op->rc = event;
    op->watch = w;
    zk_post(s->svc, deliver_watch, op);
}

/* ---------- the calls ---------- */

static int create_mode(int flags) {
    int ephemeral = flags & COORD_EPHEMERAL, sequential = flags & COORD_SEQUENTIAL;
    return ephemeral ? (sequential ? ZOO_EPHEMERAL_SEQUENTIAL : ZOO_EPHEMERAL)
                     : (sequential ? ZOO_PERSISTENT_SEQUENTIAL : ZOO_PERSISTENT);
}

/* A killed client reaches nobody: its calls fail as lost connections, later. */
static void killed_call(zk_op *op) {
    pthread_mutex_lock(&op->s->lock);
    op_unlink(op->s, op);
    if (op->watch)
        watch_unlink(op->s, op->watch);
    pthread_mutex_unlock(&op->s->lock);
    zk_watch_free(op->watch);
    op->watch = NULL;
    zk_op_finish(op, ZCONNECTIONLOSS);
}

/* The checks and the op of a call. Returns the op to issue, or NULL with *rc the
 * call's return: an error, or 0 for a killed client's call (already completed). */
static zk_op *start(coord_session *cs, int type, size_t len, coord_watch_fn watch, void *watch_arg,
                    coord_done_fn done, void *arg, int *rc) {
    zk_session *s = (zk_session *)cs;
    *rc = 0;
    if (!s->zh || s->closing) {
        *rc = COORD_INVALIDSTATE;
        return NULL;
    }
    if (len > COORD_MAX_DATA) {
        *rc = COORD_BADARGUMENTS;
        return NULL;
    }
    zk_op *op = op_new(s, type, watch, watch_arg, done, arg);
    if (!op) {
        *rc = SS_ENOMEM;
        return NULL;
    }
    if (s->killed) {
        killed_call(op);
        return NULL;
    }
    return op;
}

static watcher_fn watcher_of(const zk_op *op) {
    return op->watch ? on_watch : NULL;
}

int zk_create(coord_session *cs, const char *path, const void *data, size_t len, int flags,
              coord_done_fn done, void *arg) {
    int rc;
    zk_op *op = start(cs, COORD_OPTYPE_CREATE, len, NULL, NULL, done, arg, &rc);
    if (!op)
        return rc;
    return issued(op, zoo_acreate2(op->s->zh, path, data ? data : "", (int)len,
                                   &ZOO_OPEN_ACL_UNSAFE, create_mode(flags), on_string_stat, op));
}

int zk_remove(coord_session *cs, const char *path, int32_t version, coord_done_fn done, void *arg) {
    int rc;
    zk_op *op = start(cs, COORD_OPTYPE_DELETE, 0, NULL, NULL, done, arg, &rc);
    if (!op)
        return rc;
    return issued(op, zoo_adelete(op->s->zh, path, version, on_void, op));
}

int zk_set(coord_session *cs, const char *path, const void *data, size_t len, int32_t version,
           coord_done_fn done, void *arg) {
    int rc;
    zk_op *op = start(cs, COORD_OPTYPE_SET, len, NULL, NULL, done, arg, &rc);
    if (!op)
        return rc;
    return issued(op, zoo_aset(op->s->zh, path, data ? data : "", (int)len, version, on_stat, op));
}

int zk_get(coord_session *cs, const char *path, coord_watch_fn watch, void *watch_arg,
           coord_done_fn done, void *arg) {
    int rc;
    zk_op *op = start(cs, COORD_OPTYPE_GET, 0, watch, watch_arg, done, arg, &rc);
    if (!op)
        return rc;
    return issued(op, zoo_awget(op->s->zh, path, watcher_of(op), op->watch, on_data, op));
}

int zk_exists(coord_session *cs, const char *path, coord_watch_fn watch, void *watch_arg,
              coord_done_fn done, void *arg) {
    int rc;
    zk_op *op = start(cs, COORD_OPTYPE_EXISTS, 0, watch, watch_arg, done, arg, &rc);
    if (!op)
        return rc;
    return issued(op, zoo_awexists(op->s->zh, path, watcher_of(op), op->watch, on_stat, op));
}

int zk_children(coord_session *cs, const char *path, coord_watch_fn watch, void *watch_arg,
                coord_done_fn done, void *arg) {
    int rc;
    zk_op *op = start(cs, COORD_OPTYPE_CHILDREN, 0, watch, watch_arg, done, arg, &rc);
    if (!op)
        return rc;
    return issued(op,
                  zoo_awget_children2(op->s->zh, path, watcher_of(op), op->watch, on_children, op));
}

int zk_sync(coord_session *cs, const char *path, coord_done_fn done, void *arg) {
    int rc;
    zk_op *op = start(cs, COORD_OPTYPE_SYNC, 0, NULL, NULL, done, arg, &rc);
    if (!op)
        return rc;
    return issued(op, zoo_async(op->s->zh, path, on_string, op));
}

/* The client's multi arrays, kept in op until the completion (the client writes the
 * results, created paths and stats there). Returns 0, COORD_BADARGUMENTS or
 * SS_ENOMEM. */
static int multi_build(zk_op *op, const coord_op *ops, size_t count) {
    op->op_count = count;
    op->zops = calloc(count, sizeof *op->zops);
    op->zres = calloc(count, sizeof *op->zres);
    op->zstats = calloc(count, sizeof *op->zstats);
    op->zpaths = calloc(count, sizeof *op->zpaths);
    if (!op->zops || !op->zres || !op->zstats || !op->zpaths)
        return SS_ENOMEM;
    for (size_t i = 0; i < count; i++) {
        const coord_op *o = &ops[i];
        const char *data = o->data ? o->data : "";
        if (o->data_len > COORD_MAX_DATA)
            return COORD_BADARGUMENTS;
        if (o->type == COORD_OP_CREATE) {
            size_t n = strlen(o->path) + 16; /* room for a 10-digit sequence */
            if (!(op->zpaths[i] = malloc(n)))
                return SS_ENOMEM;
            zoo_create_op_init(&op->zops[i], o->path, data, (int)o->data_len, &ZOO_OPEN_ACL_UNSAFE,
                               create_mode(o->flags), op->zpaths[i], (int)n);
        } else if (o->type == COORD_OP_DELETE) {
            zoo_delete_op_init(&op->zops[i], o->path, o->version);
        } else if (o->type == COORD_OP_SET) {
            zoo_set_op_init(&op->zops[i], o->path, data, (int)o->data_len, o->version,
                            &op->zstats[i]);
        } else if (o->type == COORD_OP_CHECK) {
            zoo_check_op_init(&op->zops[i], o->path, o->version);
        } else {
            return COORD_BADARGUMENTS;
        }
    }
    return 0;
}

int zk_multi(coord_session *cs, const coord_op *ops, size_t count, coord_done_fn done, void *arg) {
    if (!ops || count == 0 || count > INT_MAX)
        return COORD_BADARGUMENTS;
    int rc;
    zk_op *op = start(cs, COORD_OPTYPE_MULTI, 0, NULL, NULL, done, arg, &rc);
    if (!op)
        return rc;
    if ((rc = multi_build(op, ops, count)) != 0) {
        issued(op, ZBADARGUMENTS); /* frees op */
        return rc;
    }
    return issued(op, zoo_amulti(op->s->zh, (int)count, op->zops, op->zres, on_multi, op));
}
