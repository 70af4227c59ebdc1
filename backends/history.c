/* history.c -- the recorder of coordination histories: a backend that wraps another
 * and records every call, answer, watch event and state change (see history.h). The
 * file format lives in history_io.c. Recording changes nothing the wrapped backend
 * does: the same calls reach it in the same order, with the caller's arguments; only
 * the callbacks pass through the recorder first. */
#include <stdlib.h>
#include <string.h>

#include "backends/history.h"
#include "backends/history_internal.h"
#include "core/error.h"
#include "core/grow.h"

/* The wrapper's session: this header, then the wrapped backend's session. */
typedef struct shim_session {
    coord_history *h;
    uint32_t client;
    coord_state_fn on_state;
    void *arg;
    struct watch_ctx *watches; /* one per (fn, arg) this session left */
} shim_session;

#define SHIM_HEADER ((sizeof(shim_session) + 15) & ~(size_t)15)

/* A pending operation: where its record is and whom to tell. */
typedef struct op_ctx {
    coord_history *h;
    size_t index;
    coord_done_fn done;
    void *arg;
} op_ctx;

/* A caller's watch, interposed (kept until the history goes: a one-shot watch may
 * never fire). */
typedef struct watch_ctx {
    coord_history *h;
    uint32_t client;
    coord_watch_fn fn;
    void *arg;
    struct watch_ctx *next;
} watch_ctx;

static coord_session *inner_of(coord_session *s) {
    return (coord_session *)((char *)s + SHIM_HEADER);
}
static const coord_session *inner_of_const(const coord_session *s) {
    return (const coord_session *)((const char *)s + SHIM_HEADER);
}
static shim_session *shim_of(coord_session *s) {
    return (shim_session *)(void *)s;
}

coord_history *coord_history_new(const env *e) {
    coord_history *h = calloc(1, sizeof *h);
    if (h && e)
        h->clock = *e, h->has_clock = 1;
    return h;
}

static void entry_free(coord_history_entry *x) {
    free(x->path);
    free(x->data);
    for (size_t i = 0; i < x->sub_count; i++)
        free(x->sub[i].path), free(x->sub[i].data);
    free(x->sub);
    free(x->created);
    free(x->rdata);
    for (size_t i = 0; i < x->child_count; i++)
        free(x->children[i]);
    free(x->children);
    free(x->rcs);
}

void coord_history_free(coord_history *h) {
    if (!h)
        return;
    for (size_t i = 0; i < h->count; i++)
        entry_free(&h->entries[i]);
    free(h->entries);
    while (h->watch_list) {
        watch_ctx *w = h->watch_list;
        h->watch_list = w->next;
        free(w);
    }
    free(h);
}

size_t coord_history_count(const coord_history *h) {
    return h->count;
}

const coord_history_entry *coord_history_at(const coord_history *h, size_t i) {
    return i < h->count ? &h->entries[i] : NULL;
}

coord_history_entry *history_append(coord_history *h, int kind, uint32_t client) {
    if (ss_grow(&h->entries, &h->cap, h->count + 1, sizeof *h->entries) != 0) {
        h->oom = 1;
        return NULL;
    }
    coord_history_entry *x = &h->entries[h->count++];
    memset(x, 0, sizeof *x);
    x->kind = kind;
    x->client = client;
    x->rc = 0;
    return x;
}

char *history_dup(const void *p, size_t len) {
    char *d = malloc(len + 1);
    if (d) {
        if (len)
            memcpy(d, p, len);
        d[len] = '\0';
    }
    return d;
}

static uint64_t now_of(const coord_history *h) {
    return h->has_clock ? env_now(&h->clock) : 0;
}

/* ---------- recording ---------- */

static void record_state(shim_session *ss, int state, const coord_session *inner) {
    coord_history *h = ss->h;
    coord_history_entry *x = history_append(h, COORD_HISTORY_STATE, ss->client);
    if (!x)
        return;
    x->event = state;
    x->sid = inner ? h->inner->session_id(inner) : 0;
    x->call_ns = now_of(h);
    x->call_seq = ++h->seq;
}

static void shim_state(void *arg, int state) {
    coord_session *s = arg;
    shim_session *ss = shim_of(s);
    record_state(ss, state, inner_of(s));
    if (ss->on_state)
        ss->on_state(ss->arg, state);
}

static void shim_watch(void *arg, int event, const char *path) {
    watch_ctx *w = arg;
    coord_history_entry *x = history_append(w->h, COORD_HISTORY_WATCH, w->client);
    if (x) {
        x->event = event;
        x->path = history_dup(path, strlen(path));
        x->call_ns = now_of(w->h);
        x->call_seq = ++w->h->seq;
    }
    w->fn(w->arg, event, path);
}

/* The interposed watch for (fn, arg) on this session: the same one each time, as a
 * real client deduplicates watchers by function and context. */
static watch_ctx *watch_of(coord_session *s, coord_watch_fn fn, void *arg) {
    shim_session *ss = shim_of(s);
    for (watch_ctx *w = ss->watches; w; w = w->next)
        if (w->fn == fn && w->arg == arg && w->client == ss->client)
            return w;
    watch_ctx *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    *w = (watch_ctx){ss->h, ss->client, fn, arg, ss->h->watch_list};
    ss->h->watch_list = w; /* the history's list owns it; ss->watches is a view */
    ss->watches = w;
    return w;
}

/* A call: its record, and the context its answer comes back through. */
static op_ctx *record_call(coord_session *s, int type, const char *path, const void *data,
                           size_t len, int flags, int32_t version, int watch, coord_done_fn done,
                           void *arg) {
    shim_session *ss = shim_of(s);
    coord_history *h = ss->h;
    op_ctx *c = malloc(sizeof *c);
    coord_history_entry *x = c ? history_append(h, COORD_HISTORY_OP, ss->client) : NULL;
    if (!x) {
        free(c);
        return NULL;
    }
    x->sid = h->inner->session_id(inner_of(s));
    x->op = type;
    x->path = path ? history_dup(path, strlen(path)) : NULL;
    x->data = data ? history_dup(data, len) : NULL;
    x->data_len = data ? len : 0;
    x->flags = flags;
    x->version = version;
    x->watch = watch;
    x->call_ns = now_of(h);
    x->call_seq = ++h->seq;
    *c = (op_ctx){h, h->count - 1, done, arg};
    return c;
}

static void record_result(coord_history_entry *x, int rc, const coord_result *res) {
    x->rc = rc;
    if (!res)
        return;
    x->has_stat = rc == COORD_OK && x->op != COORD_OPTYPE_MULTI && x->op != COORD_OPTYPE_SYNC &&
                  x->op != COORD_OPTYPE_CLOSE && x->op != COORD_OPTYPE_DELETE;
    x->stat = res->stat;
    if (res->path)
        x->created = history_dup(res->path, strlen(res->path));
    if (x->op == COORD_OPTYPE_GET && rc == COORD_OK)
        x->rdata = history_dup(res->data ? res->data : "", res->data ? res->data_len : 0),
        x->rdata_len = res->data ? res->data_len : 0;
    if (res->children && res->child_count) {
        x->children = calloc(res->child_count, sizeof *x->children);
        for (size_t i = 0; x->children && i < res->child_count; i++, x->child_count++)
            x->children[i] = history_dup(res->children[i], strlen(res->children[i]));
    }
    if (res->op_rcs && res->op_count) {
        x->rcs = malloc(res->op_count * sizeof *x->rcs);
        if (x->rcs)
            memcpy(x->rcs, res->op_rcs, res->op_count * sizeof *x->rcs),
                x->rc_count = res->op_count;
    }
}

static void shim_done(void *arg, int rc, const coord_result *res) {
    op_ctx *c = arg;
    coord_history_entry *x = &c->h->entries[c->index];
    x->answered = 1;
    x->ret_ns = now_of(c->h);
    x->ret_seq = ++c->h->seq;
    record_result(x, rc, res);
    coord_done_fn done = c->done;
    void *user = c->arg;
    free(c);
    done(user, rc, res);
}

/* The call was refused at once: its record goes (it never reached the service). */
static int refused(op_ctx *c, int rc) {
    if (rc != 0) {
        coord_history_entry *x = &c->h->entries[c->index];
        if (c->index == c->h->count - 1) {
            entry_free(x);
            c->h->count--;
        } else {
            x->answered = 1, x->rc = rc, x->ret_ns = x->call_ns, x->ret_seq = x->call_seq;
        }
        free(c);
    }
    return rc;
}

/* ---------- the wrapper's table ---------- */

static int shim_service_create(const env *e, const coord_config *cfg, void **service, char *err,
                               size_t errlen) {
    (void)e, (void)cfg, (void)service;
    snprintf(err, errlen, "history: wrap an existing service (coord_history_wrap)");
    return SS_EINVAL;
}

static void shim_service_free(void *service) {
    coord_history *h = service;
    h->inner->service_free(h->inner_service);
}

static int shim_open(void *service, coord_session *s, uint64_t timeout_ns, coord_state_fn on_state,
                     void *arg) {
    coord_history *h = service;
    shim_session *ss = shim_of(s);
    *ss = (shim_session){h, ++h->clients, on_state, arg, NULL};
    return h->inner->open(h->inner_service, inner_of(s), timeout_ns, shim_state, s);
}

static int shim_close(coord_session *s, coord_done_fn done, void *arg) {
    op_ctx *c = record_call(s, COORD_OPTYPE_CLOSE, NULL, NULL, 0, 0, -1, 0, done, arg);
    if (!c)
        return SS_ENOMEM;
    shim_session *ss = shim_of(s);
    coord_history *h = ss->h;
    int rc = refused(c, h->inner->close(inner_of(s), shim_done, c));
    if (rc == 0)
        record_state(ss, COORD_HISTORY_CLOSED, NULL);
    return rc;
}

static int shim_create(coord_session *s, const char *path, const void *data, size_t len, int flags,
                       coord_done_fn done, void *arg) {
    op_ctx *c = record_call(s, COORD_OPTYPE_CREATE, path, data, len, flags, -1, 0, done, arg);
    if (!c)
        return SS_ENOMEM;
    return refused(c, c->h->inner->create(inner_of(s), path, data, len, flags, shim_done, c));
}

static int shim_remove(coord_session *s, const char *path, int32_t version, coord_done_fn done,
                       void *arg) {
    op_ctx *c = record_call(s, COORD_OPTYPE_DELETE, path, NULL, 0, 0, version, 0, done, arg);
    if (!c)
        return SS_ENOMEM;
    return refused(c, c->h->inner->remove(inner_of(s), path, version, shim_done, c));
}

static int shim_set(coord_session *s, const char *path, const void *data, size_t len,
                    int32_t version, coord_done_fn done, void *arg) {
    op_ctx *c = record_call(s, COORD_OPTYPE_SET, path, data, len, 0, version, 0, done, arg);
    if (!c)
        return SS_ENOMEM;
    return refused(c, c->h->inner->set(inner_of(s), path, data, len, version, shim_done, c));
}

typedef int (*read_fn)(coord_session *s, const char *path, coord_watch_fn watch, void *watch_arg,
                       coord_done_fn done, void *arg);

/* get, exists and children: the same shape. */
static int shim_read(coord_session *s, int type, read_fn fn, const char *path, coord_watch_fn watch,
                     void *watch_arg, coord_done_fn done, void *arg) {
    watch_ctx *w = watch ? watch_of(s, watch, watch_arg) : NULL;
    op_ctx *c = record_call(s, type, path, NULL, 0, 0, -1, watch != NULL, done, arg);
    if (!c || (watch && !w)) {
        refused(c, SS_ENOMEM);
        return SS_ENOMEM;
    }
    return refused(c, fn(inner_of(s), path, w ? shim_watch : NULL, w, shim_done, c));
}

static int shim_get(coord_session *s, const char *path, coord_watch_fn watch, void *watch_arg,
                    coord_done_fn done, void *arg) {
    return shim_read(s, COORD_OPTYPE_GET, shim_of(s)->h->inner->get, path, watch, watch_arg, done,
                     arg);
}

static int shim_exists(coord_session *s, const char *path, coord_watch_fn watch, void *watch_arg,
                       coord_done_fn done, void *arg) {
    return shim_read(s, COORD_OPTYPE_EXISTS, shim_of(s)->h->inner->exists, path, watch, watch_arg,
                     done, arg);
}

static int shim_children(coord_session *s, const char *path, coord_watch_fn watch, void *watch_arg,
                         coord_done_fn done, void *arg) {
    return shim_read(s, COORD_OPTYPE_CHILDREN, shim_of(s)->h->inner->children, path, watch,
                     watch_arg, done, arg);
}

static int shim_multi(coord_session *s, const coord_op *ops, size_t count, coord_done_fn done,
                      void *arg) {
    op_ctx *c = record_call(s, COORD_OPTYPE_MULTI, NULL, NULL, 0, 0, -1, 0, done, arg);
    if (!c)
        return SS_ENOMEM;
    coord_history_entry *x = &c->h->entries[c->index];
    x->sub = calloc(count, sizeof *x->sub);
    for (size_t i = 0; x->sub && i < count; i++, x->sub_count++) {
        const coord_op *o = &ops[i];
        x->sub[i] = (coord_history_subop){o->type,
                                          history_dup(o->path, strlen(o->path)),
                                          o->data ? history_dup(o->data, o->data_len) : NULL,
                                          o->data ? o->data_len : 0,
                                          o->flags,
                                          o->version};
    }
    return refused(c, c->h->inner->multi(inner_of(s), ops, count, shim_done, c));
}

static int shim_sync(coord_session *s, const char *path, coord_done_fn done, void *arg) {
    op_ctx *c = record_call(s, COORD_OPTYPE_SYNC, path, NULL, 0, 0, -1, 0, done, arg);
    if (!c)
        return SS_ENOMEM;
    return refused(c, c->h->inner->sync(inner_of(s), path, shim_done, c));
}

static uint64_t shim_session_id(const coord_session *s) {
    return shim_of((coord_session *)(uintptr_t)s)->h->inner->session_id(inner_of_const(s));
}

static uint64_t shim_session_timeout_ns(const coord_session *s) {
    return shim_of((coord_session *)(uintptr_t)s)->h->inner->session_timeout_ns(inner_of_const(s));
}

static int shim_state_now(const coord_session *s) {
    return shim_of((coord_session *)(uintptr_t)s)->h->inner->state(inner_of_const(s));
}

/* ---------- faults and statistics: forwarded ---------- */

static int f_kill(void *service, coord_session *s) {
    coord_history *h = service;
    record_state(shim_of(s), COORD_HISTORY_KILLED, inner_of(s)); /* expires later, unseen */
    return h->inner->faults->kill_client(h->inner_service, inner_of(s));
}
static int f_drop(void *service, coord_session *s) {
    coord_history *h = service;
    return h->inner->faults->drop_connection(h->inner_service, inner_of(s));
}
static int f_partition(void *service, coord_session *s, uint64_t duration_ns) {
    coord_history *h = service;
    return h->inner->faults->partition_client(h->inner_service, inner_of(s), duration_ns);
}
static int f_expire(void *service, coord_session *s) {
    coord_history *h = service;
    return h->inner->faults->expire_session(h->inner_service, inner_of(s));
}
static int f_crash(void *service, uint32_t server) {
    coord_history *h = service;
    return h->inner->faults->crash_server(h->inner_service, server);
}
static int f_restart(void *service, uint32_t server) {
    coord_history *h = service;
    return h->inner->faults->restart_server(h->inner_service, server);
}
static int f_slow(void *service, double factor, uint64_t duration_ns) {
    coord_history *h = service;
    return h->inner->faults->slow(h->inner_service, factor, duration_ns);
}

static uint64_t st_applied(const void *service) {
    const coord_history *h = service;
    return h->inner->stats->ops_applied(h->inner_service);
}
static uint64_t st_expired(const void *service) {
    const coord_history *h = service;
    return h->inner->stats->sessions_expired(h->inner_service);
}
static uint64_t st_count(const void *service, int type) {
    const coord_history *h = service;
    return h->inner->stats->op_count(h->inner_service, type);
}
static const hist *st_hist(const void *service, int type) {
    const coord_history *h = service;
    return h->inner->stats->op_histogram(h->inner_service, type);
}

/* The wrapper's fault table has an entry exactly where the wrapped one does. */
static void wrap_faults(coord_history *h, const coord_fault_ops *f) {
    h->faults = (coord_fault_ops){
        .kill_client = f->kill_client ? f_kill : NULL,
        .drop_connection = f->drop_connection ? f_drop : NULL,
        .partition_client = f->partition_client ? f_partition : NULL,
        .expire_session = f->expire_session ? f_expire : NULL,
        .crash_server = f->crash_server ? f_crash : NULL,
        .restart_server = f->restart_server ? f_restart : NULL,
        .slow = f->slow ? f_slow : NULL,
    };
}

static void wrap_stats(coord_history *h, const coord_stats_ops *st) {
    h->stats = (coord_stats_ops){
        .ops_applied = st->ops_applied ? st_applied : NULL,
        .sessions_expired = st->sessions_expired ? st_expired : NULL,
        .op_count = st->op_count ? st_count : NULL,
        .op_histogram = st->op_histogram ? st_hist : NULL,
    };
}

int coord_history_wrap(coord_history *h, const coord_backend *inner, void *inner_service,
                       const coord_backend **backend, void **service) {
    h->inner = inner;
    h->inner_service = inner_service;
    if (inner->faults)
        wrap_faults(h, inner->faults);
    if (inner->stats)
        wrap_stats(h, inner->stats);
    h->backend = (coord_backend){
        .version = inner->version,
        .name = inner->name,
        .session_size = SHIM_HEADER + inner->session_size,
        .real_time = inner->real_time,
        .service_create = shim_service_create,
        .service_free = shim_service_free,
        .config_check = inner->config_check,
        .open = shim_open,
        .close = shim_close,
        .create = shim_create,
        .remove = shim_remove,
        .set = shim_set,
        .get = shim_get,
        .exists = shim_exists,
        .children = shim_children,
        .multi = shim_multi,
        .session_id = shim_session_id,
        .session_timeout_ns = shim_session_timeout_ns,
        .state = shim_state_now,
        .sync = shim_sync,
        .faults = inner->faults ? &h->faults : NULL,
        .stats = inner->stats ? &h->stats : NULL,
    };
    *backend = &h->backend;
    *service = h;
    return 0;
}
