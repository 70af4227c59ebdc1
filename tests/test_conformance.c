/* test_conformance.c -- one contract suite for every coordination backend (backends/coord.h,
 * version 2), in the manner of SQLite's testvfs and libuv's test list: the same test
 * functions run against each backend through a small harness that owns an env, a service
 * and a loop runner. The in-process model ("mock") runs in virtual time (sim/env_sim.h);
 * the real ZooKeeper ("zookeeper", when built with its client) runs in real time
 * (sim/env_rt.h) against the server named by ZK_CONNECT, under a root path unique to the
 * run. Without ZK_CONNECT the zookeeper group is skipped with a reason, or fails when
 * CI=true.
 *
 * The reference is ZooKeeper 3.8 as its C client shows it. Facts measured on Debian 12's
 * 3.8.0 server that the checks rely on: the results of a failed multi are OK for the ops
 * before the failing one, its own code for it and RUNTIMEINCONSISTENCY for the ops after
 * it; a parent's sequence counter counts the children ever created under it (deletes do not
 * advance it, though they do count in cversion); children come unsorted; a failed multi
 * fires and consumes no watch.
 *
 * Each test is its own entry of CONFORMANCE_TESTS, run once per backend with a fresh
 * service and its own folder; every wait is bounded and every failure names the backend.
 * CONFORMANCE_FILTER (a cmocka test filter, e.g. "*watch*") runs a subset. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "backends/coord.h"
#include "backends/recipes/recipes.h"
#include "sim/env_sim.h"
#ifdef SHARDSIM_HAVE_ZOOKEEPER
#include "sim/env_rt.h"
#endif

#define MS 1000000ULL
#define SEC (1000 * MS)

enum {
    MAX_CLIENTS = 8,
    MAX_REPLIES = 96,
    MAX_WATCHES = 24,
    MAX_CHILDREN = 32,
    NAME_BYTES = 96,
    PATH_BYTES = 320,
    DATA_BYTES = 128,
    MAX_OPS = 16,
    MAX_VALUES = 16,
    COUNTER_STEPS = 10
};

/* ---------- the harness ---------- */

typedef struct client client;
typedef struct harness harness;
typedef struct counting_service counting_service;
typedef struct test_entry test_entry;
typedef int (*cond_fn)(void *arg);

struct harness {
    const char *name; /* the backend's: every failure message starts with it */
    const coord_backend *b;
    void *service;
    env *e;
    /* Drive the loop until cond(arg) holds (1) or timeout_ns passed (0); cond may be NULL
     * (run the whole time). */
    int (*run_until)(harness *h, cond_fn cond, void *arg, uint64_t timeout_ns);
    void (*destroy)(harness *h); /* free the service, then the env */
    void *impl;                  /* env_sim or env_rt */
    uint64_t tick_ns;            /* the service's tick */
    uint64_t timeout_ns;         /* the session timeout tests ask for: 10 ticks */
    uint64_t op_timeout_ns;      /* a reply later than this is a failure */
    uint64_t quiet_ns;           /* how long "nothing more happens" is watched */
    int real;                    /* a shared server: delete the test's folder afterwards */
    uint64_t seq;                /* orders every callback the harness sees */
    char root[96];               /* the run's folder */
    char dir[192];               /* this test's folder, root/TEST: every path is under it */
    client *clients[MAX_CLIENTS];
    int client_count;
    counting_service *counting[2];
    int counting_count;
    const test_entry *test; /* what runs on it */
};

/* A completion as the test saw it; children are kept sorted (the order is not promised). */
typedef struct reply {
    client *c;
    const char *what;
    int calls; /* how many times the completion ran: exactly 1 */
    int rc;
    uint64_t seq;
    coord_stat stat;
    char rel[PATH_BYTES]; /* create: the actual path, without the test's folder */
    char data[DATA_BYTES];
    size_t data_len;
    size_t child_count;
    char children[MAX_CHILDREN][NAME_BYTES];
    size_t op_count;
    int op_rcs[MAX_OPS];
} reply;

typedef struct watch_rec {
    client *c;
    int fired;
    int event;
    uint64_t seq;
    char rel[PATH_BYTES];
} watch_rec;

struct client {
    harness *h;
    const coord_backend *b; /* what it calls: the harness's backend or a counting wrapper */
    void *service;
    coord_session *s;
    int opened;
    int state;                 /* the last state heard */
    int states_seen;           /* bit 1 << COORD_STATE_* */
    uint64_t disconnected_seq; /* when it first heard DISCONNECTED (the harness's seq) */
    int close_called, closed, close_rc;
    uint64_t close_seq;
    int late; /* callbacks or watches after close's callback: coord.h allows none */
    reply replies[MAX_REPLIES];
    int reply_count;
    watch_rec watches[MAX_WATCHES];
    int watch_count;
    /* recipes run on this client; they live as long as its session */
    int latch_on, members_on, assignment_on;
    recipe_latch latch;
    int leads, unleads;
    int64_t epoch;
    recipe_watcher members;
    char member_names[MAX_CHILDREN][NAME_BYTES];
    int member_count, member_updates;
    int wanted; /* what a wait condition waits for: a member count, a generation */
    recipe_assignment_watcher assignment;
    int assignment_calls;
    uint64_t generation;
    uint32_t workers[8], worker_count;
    char counter_path[PATH_BYTES];
    int64_t values[MAX_VALUES];
    int value_count, counter_errors, counter_last_rc;
};

static void fail_at(const harness *h, const char *file, int line, const char *fmt, ...)
    CMOCKA_PRINTF_ATTRIBUTE(4, 5);

static void fail_at(const harness *h, const char *file, int line, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    print_error("[%s] %s:%d: %s\n", h->name, file, line, msg);
    _fail(file, line);
}

static void expect_code(const harness *h, const char *file, int line, const char *expr, int got,
                        int want) {
    if (got != want)
        fail_at(h, file, line, "%s is %s (%d), want %s (%d)", expr, coord_error_name(got), got,
                coord_error_name(want), want);
}

static void expect_int(const harness *h, const char *file, int line, const char *expr,
                       long long got, long long want) {
    if (got != want)
        fail_at(h, file, line, "%s is %lld, want %lld", expr, got, want);
}

static void expect_str(const harness *h, const char *file, int line, const char *expr,
                       const char *got, const char *want) {
    if (strcmp(got, want) != 0)
        fail_at(h, file, line, "%s is \"%s\", want \"%s\"", expr, got, want);
}

static void expect_true(const harness *h, const char *file, int line, const char *expr, int ok,
                        const char *why) {
    if (!ok)
        fail_at(h, file, line, "%s%s%s", why ? why : "", why ? ": " : "", expr);
}

#define EXPECT_RC(h, got, want) expect_code((h), __FILE__, __LINE__, #got, (got), (want))
#define EXPECT_INT(h, got, want)                                                                   \
    expect_int((h), __FILE__, __LINE__, #got, (long long)(got), (long long)(want))
#define EXPECT_STR(h, got, want) expect_str((h), __FILE__, __LINE__, #got, (got), (want))
#define EXPECT(h, cond) expect_true((h), __FILE__, __LINE__, #cond, (cond) != 0, NULL)
#define EXPECT_WHY(h, cond, why) expect_true((h), __FILE__, __LINE__, #cond, (cond) != 0, (why))

static void wait_at(harness *h, const char *file, int line, cond_fn cond, void *arg,
                    uint64_t timeout_ns, const char *what) {
    if (!h->run_until(h, cond, arg, timeout_ns))
        fail_at(h, file, line, "nothing after %llu ms: waited for %s",
                (unsigned long long)(timeout_ns / MS), what);
}

#define WAIT(h, cond, arg, timeout_ns, what)                                                       \
    wait_at((h), __FILE__, __LINE__, (cond), (arg), (timeout_ns), (what))

/* Let the loop run while nothing is expected to happen. */
static void quiet(harness *h) {
    h->run_until(h, NULL, NULL, h->quiet_ns);
}

/* ---------- the mock: virtual time ---------- */

static int sim_run_until(harness *h, cond_fn cond, void *arg, uint64_t timeout_ns) {
    env_sim *es = h->impl;
    uint64_t end = es->now_ns + timeout_ns;
    while (!(cond && cond(arg))) {
        if (es->now_ns >= end)
            return 0;
        uint64_t next = es->now_ns + MS; /* 1 ms steps of virtual time */
        env_sim_run_until(es, next < end ? next : end);
    }
    return 1;
}

static void sim_destroy(harness *h) {
    if (h->service)
        h->b->service_free(h->service);
    h->service = NULL;
    if (h->impl) {
        env_sim_free(h->impl);
        free(h->impl);
    }
    h->impl = NULL;
}

static int sim_make(harness *h, char *err, size_t errlen) {
    env_sim *es = calloc(1, sizeof *es);
    if (!es || env_sim_init(es) != 0) {
        free(es);
        snprintf(err, errlen, "env_sim_init failed");
        return -1;
    }
    h->impl = es;
    h->e = &es->env;
    h->run_until = sim_run_until;
    h->destroy = sim_destroy;
    h->b = coord_backend_find("mock");
    if (!h->b) {
        snprintf(err, errlen, "no backend named mock");
        return -1;
    }
    coord_config cfg;
    coord_config_defaults(&cfg);
    cfg.tick_ns = 200 * MS;
    cfg.servers = 1;
    cfg.latency_dist = COORD_LATENCY_CONSTANT;
    cfg.read_ns = 500000;
    cfg.write_ns = 2 * MS;
    h->tick_ns = cfg.tick_ns;
    h->op_timeout_ns = 5 * SEC;
    h->quiet_ns = 300 * MS;
    return h->b->service_create(h->e, &cfg, &h->service, err, errlen);
}

/* ---------- the real ZooKeeper: real time ---------- */

#ifdef SHARDSIM_HAVE_ZOOKEEPER
static int rt_run_until(harness *h, cond_fn cond, void *arg, uint64_t timeout_ns) {
    env_rt *rt = h->impl;
    if (cond && cond(arg))
        return 1;
    env_rt_run(rt, env_now(h->e) + timeout_ns, cond, arg);
    return cond && cond(arg);
}

static void rt_destroy(harness *h) {
    if (h->service)
        h->b->service_free(h->service);
    h->service = NULL;
    if (h->impl) {
        env_rt_free(h->impl);
        free(h->impl);
    }
    h->impl = NULL;
}

static uint64_t zk_tick_ns(void) {
    const char *ms = getenv("ZK_TICK_MS");
    unsigned long v = ms && *ms ? strtoul(ms, NULL, 10) : 0;
    return (v ? v : 200) * MS;
}

static int rt_make(harness *h, char *err, size_t errlen) {
    env_rt *rt = calloc(1, sizeof *rt);
    if (!rt || env_rt_init(rt) != 0) {
        free(rt);
        snprintf(err, errlen, "env_rt_init failed");
        return -1;
    }
    h->impl = rt;
    h->e = &rt->env;
    h->run_until = rt_run_until;
    h->destroy = rt_destroy;
    h->b = coord_backend_find("zookeeper");
    if (!h->b) {
        snprintf(err, errlen, "no backend named zookeeper");
        return -1;
    }
    coord_config cfg;
    coord_config_defaults(&cfg);
    cfg.connect = getenv("ZK_CONNECT");
    cfg.tick_ns = zk_tick_ns();
    cfg.connect_timeout_ns = 5 * SEC;
    h->tick_ns = cfg.tick_ns;
    h->op_timeout_ns = 5 * SEC;
    h->quiet_ns = 300 * MS;
    h->real = 1;
    return h->b->service_create(h->e, &cfg, &h->service, err, errlen);
}
#endif

/* ---------- callbacks: what each client saw ---------- */

static void full_path(const harness *h, const char *rel, char *out, size_t size) {
    snprintf(out, size, "%s%s", h->dir, rel);
}

static void to_rel(const harness *h, const char *path, char *out, size_t size) {
    size_t n = strlen(h->dir);
    snprintf(out, size, "%s", strncmp(path, h->dir, n) == 0 ? path + n : path);
}

static int cmp_name(const void *a, const void *b) {
    return strcmp((const char *)a, (const char *)b);
}

static void note_callback(client *c) {
    if (c->closed)
        c->late++;
}

static void copy_result(reply *r, const coord_result *res) {
    r->stat = res->stat;
    if (res->path)
        to_rel(r->c->h, res->path, r->rel, sizeof r->rel);
    if (res->data) {
        size_t n = res->data_len < DATA_BYTES - 1 ? res->data_len : DATA_BYTES - 1;
        memcpy(r->data, res->data, n);
        r->data[n] = '\0';
    }
    r->data_len = res->data_len;
    r->child_count = res->child_count;
    for (size_t i = 0; i < res->child_count && i < MAX_CHILDREN; i++)
        snprintf(r->children[i], NAME_BYTES, "%s", res->children[i]);
    size_t kept = res->child_count < MAX_CHILDREN ? res->child_count : MAX_CHILDREN;
    qsort(r->children, kept, sizeof r->children[0], cmp_name);
    r->op_count = res->op_count;
    for (size_t i = 0; i < res->op_count && i < MAX_OPS; i++)
        r->op_rcs[i] = res->op_rcs[i];
}

static void on_done(void *arg, int rc, const coord_result *res) {
    reply *r = arg;
    note_callback(r->c);
    r->calls++;
    r->rc = rc;
    r->seq = ++r->c->h->seq;
    if (res)
        copy_result(r, res);
}

static void on_watch(void *arg, int event, const char *path) {
    watch_rec *w = arg;
    note_callback(w->c);
    w->fired++;
    w->event = event;
    w->seq = ++w->c->h->seq;
    to_rel(w->c->h, path ? path : "", w->rel, sizeof w->rel);
}

static void on_state(void *arg, int state) {
    client *c = arg;
    note_callback(c);
    if (c->closed)
        return;
    c->state = state;
    c->states_seen |= 1 << state;
    if (state == COORD_STATE_DISCONNECTED && !c->disconnected_seq)
        c->disconnected_seq = ++c->h->seq;
    if (c->latch_on)
        recipe_latch_session_state(&c->latch, state);
    if (c->members_on)
        recipe_members_session_state(&c->members, state);
    if (c->assignment_on)
        recipe_assignment_session_state(&c->assignment, state);
}

static void on_closed(void *arg, int rc, const coord_result *res) {
    (void)res;
    client *c = arg;
    note_callback(c);
    c->closed++;
    c->close_rc = rc;
    c->close_seq = ++c->h->seq;
}

static int reply_done(void *arg) {
    return ((reply *)arg)->calls > 0;
}

static int watch_fired(void *arg) {
    return ((watch_rec *)arg)->fired > 0;
}

static int client_connected(void *arg) {
    return ((client *)arg)->state == COORD_STATE_CONNECTED;
}

static int client_closed(void *arg) {
    return ((client *)arg)->closed > 0;
}

static int client_expired(void *arg) {
    return (((client *)arg)->states_seen & (1 << COORD_STATE_EXPIRED)) != 0;
}

static reply *new_reply(client *c, const char *what) {
    if (c->reply_count >= MAX_REPLIES)
        fail_at(c->h, __FILE__, __LINE__, "test bug: more than %d replies on one client",
                MAX_REPLIES);
    reply *r = &c->replies[c->reply_count++];
    memset(r, 0, sizeof *r);
    r->c = c;
    r->what = what;
    return r;
}

static watch_rec *new_watch(client *c) {
    if (c->watch_count >= MAX_WATCHES)
        fail_at(c->h, __FILE__, __LINE__, "test bug: more than %d watches on one client",
                MAX_WATCHES);
    watch_rec *w = &c->watches[c->watch_count++];
    memset(w, 0, sizeof *w);
    w->c = c;
    return w;
}

/* ---------- clients and operations (paths relative to the test's folder) ---------- */

static client *open_client_on(harness *h, const coord_backend *b, void *service,
                              uint64_t timeout_ns) {
    if (h->client_count >= MAX_CLIENTS)
        fail_at(h, __FILE__, __LINE__, "test bug: more than %d clients", MAX_CLIENTS);
    client *c = calloc(1, sizeof *c);
    if (!c)
        fail_at(h, __FILE__, __LINE__, "out of memory");
    h->clients[h->client_count++] = c;
    c->h = h;
    c->b = b;
    c->service = service;
    c->s = calloc(1, b->session_size);
    if (!c->s)
        fail_at(h, __FILE__, __LINE__, "out of memory");
    int rc = b->open(service, c->s, timeout_ns, on_state, c);
    if (rc != 0)
        fail_at(h, __FILE__, __LINE__, "open: %s", coord_error_name(rc));
    c->opened = 1;
    WAIT(h, client_connected, c, h->op_timeout_ns, "the session to connect");
    return c;
}

static client *open_client(harness *h) {
    return open_client_on(h, h->b, h->service, h->timeout_ns);
}

static void start_close(client *c) {
    c->close_called = 1;
    int rc = c->b->close(c->s, on_closed, c);
    if (rc != 0) { /* refused: nothing of the session runs again */
        c->closed = 1;
        c->close_rc = rc;
    }
}

static void close_client(client *c) {
    start_close(c);
    WAIT(c->h, client_closed, c, c->h->op_timeout_ns, "close's callback");
}

static void expect_sent(client *c, int rc, const char *what, const char *rel) {
    if (rc != 0)
        fail_at(c->h, __FILE__, __LINE__, "%s %s was refused at once: %s", what, rel,
                coord_error_name(rc));
}

static reply *wait_reply(reply *r) {
    harness *h = r->c->h;
    if (!h->run_until(h, reply_done, r, h->op_timeout_ns))
        fail_at(h, __FILE__, __LINE__, "no reply to %s within %llu ms", r->what,
                (unsigned long long)(h->op_timeout_ns / MS));
    return r;
}

static reply *start_create(client *c, const char *rel, const char *data, int flags) {
    char path[PATH_BYTES];
    full_path(c->h, rel, path, sizeof path);
    reply *r = new_reply(c, "create");
    expect_sent(c, coord_create(c->b, c->s, path, data, data ? strlen(data) : 0, flags, on_done, r),
                "create", rel);
    return r;
}

static reply *start_delete(client *c, const char *rel, int32_t version) {
    char path[PATH_BYTES];
    full_path(c->h, rel, path, sizeof path);
    reply *r = new_reply(c, "delete");
    expect_sent(c, coord_remove(c->b, c->s, path, version, on_done, r), "delete", rel);
    return r;
}

static reply *start_set(client *c, const char *rel, const char *data, int32_t version) {
    char path[PATH_BYTES];
    full_path(c->h, rel, path, sizeof path);
    reply *r = new_reply(c, "set");
    expect_sent(c, coord_set(c->b, c->s, path, data, strlen(data), version, on_done, r), "set",
                rel);
    return r;
}

static reply *start_get(client *c, const char *rel, watch_rec *w) {
    char path[PATH_BYTES];
    full_path(c->h, rel, path, sizeof path);
    reply *r = new_reply(c, "get");
    expect_sent(c, coord_get(c->b, c->s, path, w ? on_watch : NULL, w, on_done, r), "get", rel);
    return r;
}

static reply *start_exists(client *c, const char *rel, watch_rec *w) {
    char path[PATH_BYTES];
    full_path(c->h, rel, path, sizeof path);
    reply *r = new_reply(c, "exists");
    expect_sent(c, coord_exists(c->b, c->s, path, w ? on_watch : NULL, w, on_done, r), "exists",
                rel);
    return r;
}

static reply *start_children(client *c, const char *rel, watch_rec *w) {
    char path[PATH_BYTES];
    full_path(c->h, rel, path, sizeof path);
    reply *r = new_reply(c, "children");
    expect_sent(c, coord_children(c->b, c->s, path, w ? on_watch : NULL, w, on_done, r), "children",
                rel);
    return r;
}

static reply *start_sync(client *c, const char *rel) {
    char path[PATH_BYTES];
    full_path(c->h, rel, path, sizeof path);
    reply *r = new_reply(c, "sync");
    expect_sent(c, coord_sync(c->b, c->s, path, on_done, r), "sync", rel);
    return r;
}

/* ops' paths are relative: they are copied with the folder in front. */
static reply *start_multi(client *c, const coord_op *ops, size_t count) {
    coord_op full[MAX_OPS];
    char paths[MAX_OPS][PATH_BYTES];
    if (count > MAX_OPS)
        fail_at(c->h, __FILE__, __LINE__, "test bug: more than %d ops", MAX_OPS);
    for (size_t i = 0; i < count; i++) {
        full[i] = ops[i];
        full_path(c->h, ops[i].path, paths[i], sizeof paths[i]);
        full[i].path = paths[i];
    }
    reply *r = new_reply(c, "multi");
    expect_sent(c, coord_multi(c->b, c->s, full, count, on_done, r), "multi", ops[0].path);
    return r;
}

static reply *do_create(client *c, const char *rel, const char *data, int flags) {
    return wait_reply(start_create(c, rel, data, flags));
}
static reply *do_delete(client *c, const char *rel, int32_t version) {
    return wait_reply(start_delete(c, rel, version));
}
static reply *do_set(client *c, const char *rel, const char *data, int32_t version) {
    return wait_reply(start_set(c, rel, data, version));
}
static reply *do_get(client *c, const char *rel, watch_rec *w) {
    return wait_reply(start_get(c, rel, w));
}
static reply *do_exists(client *c, const char *rel, watch_rec *w) {
    return wait_reply(start_exists(c, rel, w));
}
static reply *do_children(client *c, const char *rel, watch_rec *w) {
    return wait_reply(start_children(c, rel, w));
}
static reply *do_multi(client *c, const coord_op *ops, size_t count) {
    return wait_reply(start_multi(c, ops, count));
}
static reply *do_sync(client *c, const char *rel) {
    return wait_reply(start_sync(c, rel));
}

static void wait_watch(harness *h, watch_rec *w, const char *what) {
    WAIT(h, watch_fired, w, h->op_timeout_ns, what);
}

static const char *event_name(int event) {
    switch (event) {
    case COORD_EVENT_CREATED:
        return "CREATED";
    case COORD_EVENT_DELETED:
        return "DELETED";
    case COORD_EVENT_DATA_CHANGED:
        return "DATA_CHANGED";
    case COORD_EVENT_CHILDREN_CHANGED:
        return "CHILDREN_CHANGED";
    default:
        return "none";
    }
}

#define EXPECT_EVENT(h, w, want_event, want_rel)                                                   \
    do {                                                                                           \
        if ((w)->fired != 1 || (w)->event != (want_event) || strcmp((w)->rel, (want_rel)) != 0)    \
            fail_at((h), __FILE__, __LINE__,                                                       \
                    "%s: %d event(s), last %s on \"%s\"; want one %s on "                          \
                    "\"%s\"",                                                                      \
                    #w, (w)->fired, event_name((w)->event), (w)->rel, event_name(want_event),      \
                    (want_rel));                                                                   \
    } while (0)

/* "a,b,c" == the reply's children as a set. */
static void expect_children(const harness *h, const char *file, int line, const reply *r,
                            const char *want) {
    char got[MAX_CHILDREN * NAME_BYTES] = "";
    for (size_t i = 0; i < r->child_count && i < MAX_CHILDREN; i++) {
        strcat(got, i ? "," : "");
        strcat(got, r->children[i]);
    }
    if (strcmp(got, want) != 0)
        fail_at(h, file, line, "children {%s}, want {%s}", got, want);
}
#define EXPECT_CHILDREN(h, r, want) expect_children((h), __FILE__, __LINE__, (r), (want))

/* ---------- a counting wrapper backend: forwards to the real one, counts calls ---------- */

/* The wrapper's session is a header followed by the real backend's session; its service
 * holds the real backend, the real service and the wrapper's own table (the real one's
 * session size plus the header's is known only at run time). */
struct counting_service {
    coord_backend table;
    coord_fault_ops faults;
    const coord_backend *real;
    void *service;
};

typedef struct counting_session {
    counting_service *svc;
    uint64_t calls[COORD_OPTYPES];
} counting_session;

#define COUNTING_HEADER_BYTES ((sizeof(counting_session) + 15) / 16 * 16)

static counting_session *header_of(coord_session *s) {
    return (counting_session *)(void *)s;
}
static const counting_session *const_header_of(const coord_session *s) {
    return (const counting_session *)(const void *)s;
}
static coord_session *inner_of(coord_session *s) {
    return (coord_session *)(void *)((char *)s + COUNTING_HEADER_BYTES);
}
static const coord_session *const_inner_of(const coord_session *s) {
    return (const coord_session *)(const void *)((const char *)s + COUNTING_HEADER_BYTES);
}
static const coord_backend *real_of(const coord_session *s) {
    return const_header_of(s)->svc->real;
}
static const coord_backend *counted(coord_session *s, int type) {
    header_of(s)->calls[type]++;
    return real_of(s);
}

static uint64_t counting_calls(const client *c, int type) {
    return const_header_of(c->s)->calls[type];
}

static int cw_open(void *service, coord_session *s, uint64_t timeout_ns, coord_state_fn fn,
                   void *arg) {
    counting_service *svc = service;
    memset(header_of(s), 0, sizeof(counting_session));
    header_of(s)->svc = svc;
    return svc->real->open(svc->service, inner_of(s), timeout_ns, fn, arg);
}
static int cw_close(coord_session *s, coord_done_fn done, void *arg) {
    return counted(s, COORD_OPTYPE_CLOSE)->close(inner_of(s), done, arg);
}
static int cw_create(coord_session *s, const char *path, const void *data, size_t len, int flags,
                     coord_done_fn done, void *arg) {
    return counted(s, COORD_OPTYPE_CREATE)->create(inner_of(s), path, data, len, flags, done, arg);
}
static int cw_remove(coord_session *s, const char *path, int32_t version, coord_done_fn done,
                     void *arg) {
    return counted(s, COORD_OPTYPE_DELETE)->remove(inner_of(s), path, version, done, arg);
}
static int cw_set(coord_session *s, const char *path, const void *data, size_t len, int32_t version,
                  coord_done_fn done, void *arg) {
    return counted(s, COORD_OPTYPE_SET)->set(inner_of(s), path, data, len, version, done, arg);
}
static int cw_get(coord_session *s, const char *path, coord_watch_fn w, void *wa, coord_done_fn d,
                  void *a) {
    return counted(s, COORD_OPTYPE_GET)->get(inner_of(s), path, w, wa, d, a);
}
static int cw_exists(coord_session *s, const char *path, coord_watch_fn w, void *wa,
                     coord_done_fn d, void *a) {
    return counted(s, COORD_OPTYPE_EXISTS)->exists(inner_of(s), path, w, wa, d, a);
}
static int cw_children(coord_session *s, const char *path, coord_watch_fn w, void *wa,
                       coord_done_fn d, void *a) {
    return counted(s, COORD_OPTYPE_CHILDREN)->children(inner_of(s), path, w, wa, d, a);
}
static int cw_multi(coord_session *s, const coord_op *ops, size_t count, coord_done_fn done,
                    void *arg) {
    return counted(s, COORD_OPTYPE_MULTI)->multi(inner_of(s), ops, count, done, arg);
}
static int cw_sync(coord_session *s, const char *path, coord_done_fn done, void *arg) {
    return counted(s, COORD_OPTYPE_SYNC)->sync(inner_of(s), path, done, arg);
}
static uint64_t cw_session_id(const coord_session *s) {
    return real_of(s)->session_id(const_inner_of(s));
}
static uint64_t cw_session_timeout_ns(const coord_session *s) {
    return real_of(s)->session_timeout_ns(const_inner_of(s));
}
static int cw_state(const coord_session *s) {
    return real_of(s)->state(const_inner_of(s));
}

static int cwf_kill_client(void *service, coord_session *s) {
    counting_service *svc = service;
    return svc->real->faults->kill_client(svc->service, inner_of(s));
}
static int cwf_drop_connection(void *service, coord_session *s) {
    counting_service *svc = service;
    return svc->real->faults->drop_connection(svc->service, inner_of(s));
}
static int cwf_partition_client(void *service, coord_session *s, uint64_t duration_ns) {
    counting_service *svc = service;
    return svc->real->faults->partition_client(svc->service, inner_of(s), duration_ns);
}
static int cwf_expire_session(void *service, coord_session *s) {
    counting_service *svc = service;
    return svc->real->faults->expire_session(svc->service, inner_of(s));
}

/* A wrapper around the harness's backend and service, freed by the teardown after every
 * session on it closed. Open clients on it with open_client_on(h, &w->table, w, ...). */
static counting_service *counting_wrap(harness *h) {
    if (h->counting_count >= 2)
        fail_at(h, __FILE__, __LINE__, "test bug: more than 2 counting wrappers");
    counting_service *svc = calloc(1, sizeof *svc);
    if (!svc)
        fail_at(h, __FILE__, __LINE__, "out of memory");
    h->counting[h->counting_count++] = svc;
    svc->real = h->b;
    svc->service = h->service;
    const coord_fault_ops *rf = h->b->faults;
    if (rf) {
        svc->faults.kill_client = rf->kill_client ? cwf_kill_client : NULL;
        svc->faults.drop_connection = rf->drop_connection ? cwf_drop_connection : NULL;
        svc->faults.partition_client = rf->partition_client ? cwf_partition_client : NULL;
        svc->faults.expire_session = rf->expire_session ? cwf_expire_session : NULL;
    }
    svc->table = (coord_backend){
        .version = h->b->version,
        .name = h->b->name,
        .real_time = h->b->real_time,
        .session_size = COUNTING_HEADER_BYTES + h->b->session_size,
        .open = cw_open,
        .close = cw_close,
        .create = cw_create,
        .remove = cw_remove,
        .set = cw_set,
        .get = cw_get,
        .exists = cw_exists,
        .children = cw_children,
        .multi = cw_multi,
        .session_id = cw_session_id,
        .session_timeout_ns = cw_session_timeout_ns,
        .state = cw_state,
        .sync = cw_sync,
        .faults = rf ? &svc->faults : NULL,
    };
    return svc;
}

/* ---------- setup and teardown: a fresh service and folder per test ---------- */

typedef struct backend_kind backend_kind;

struct test_entry {
    const char *name;
    void (*fn)(harness *h);
};

typedef struct test_slot {
    backend_kind *kind;
    const test_entry *test;
} test_slot;

/* The test list (libuv's test-list.h): each runs once per backend. */
#define CONFORMANCE_TESTS(X)                                                                       \
    X(create_persistent)                                                                           \
    X(create_ephemeral)                                                                            \
    X(sequential_names_are_padded_and_never_reused)                                                \
    X(sequence_counts_child_creations)                                                             \
    X(get_returns_data_and_stat)                                                                   \
    X(set_and_its_errors)                                                                          \
    X(exists_and_its_errors)                                                                       \
    X(children_as_a_set)                                                                           \
    X(delete_and_its_errors)                                                                       \
    X(multi_commits_as_one_transaction)                                                            \
    X(failed_multi_applies_nothing)                                                                \
    X(failed_multi_results_per_op)                                                                 \
    X(sync_then_read_sees_the_latest_write)                                                        \
    X(version_compare_and_set)                                                                     \
    X(stat_fields)                                                                                 \
    X(bad_paths_are_refused_by_the_checked_wrappers)                                               \
    X(data_watch_fires_once)                                                                       \
    X(exists_watch_fires_on_create)                                                                \
    X(child_watch_fires_on_create_and_delete)                                                      \
    X(delete_fires_deleted)                                                                        \
    X(watch_event_precedes_the_next_read)                                                          \
    X(failed_multi_leaves_other_watches_armed)                                                     \
    X(ephemeral_goes_with_close)                                                                   \
    X(ephemeral_goes_with_expiry)                                                                  \
    X(close_completes_pending_operations_first)                                                    \
    X(dropped_connection_loses_pending_replies)                                                    \
    X(close_with_operations_pending_ends_the_session)                                              \
    X(nothing_runs_after_close)                                                                    \
    X(latch_one_leader_and_no_herd)                                                                \
    X(membership_follows_sessions)                                                                 \
    X(counter_is_exact_under_contention)                                                           \
    X(assignment_write_and_watch)                                                                  \
    X(fenced_multi_from_a_deposed_leader_fails)

#define DECLARE_TEST(name) static void name(harness *h);
CONFORMANCE_TESTS(DECLARE_TEST)
#undef DECLARE_TEST

#define LIST_TEST(name) {#name, name},
static const test_entry test_list[] = {CONFORMANCE_TESTS(LIST_TEST)};
#undef LIST_TEST

enum { TEST_COUNT = sizeof test_list / sizeof test_list[0] };

struct backend_kind {
    const char *name;
    int (*make)(harness *h, char *err, size_t errlen);
    char root[96];
    int unreachable; /* a setup could not connect: the later ones fail at once */
    test_slot slots[TEST_COUNT];
    char test_names[TEST_COUNT][128];
};

static void run_one_test(void **state) {
    harness *h = *state;
    h->test->fn(h);
}

/* Make the harness's env and service (no folder, no client). */
static harness *harness_new(backend_kind *k, char *err, size_t errlen) {
    harness *h = calloc(1, sizeof *h);
    if (!h) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    h->name = k->name;
    snprintf(h->root, sizeof h->root, "%s", k->root);
    snprintf(h->dir, sizeof h->dir, "%s", k->root);
    if (k->make(h, err, errlen) != 0) {
        if (h->destroy)
            h->destroy(h);
        free(h);
        return NULL;
    }
    h->timeout_ns = 10 * h->tick_ns;
    return h;
}

/* Delete rel (under h->dir) and everything below it; bounded in depth and rounds. */
static void delete_tree(client *c, const char *rel, int depth) {
    char names[MAX_CHILDREN][NAME_BYTES], child[PATH_BYTES];
    for (int round = 0; round < 8 && depth < 8; round++) {
        c->reply_count = 0; /* every earlier reply has completed: reuse the pool */
        reply *r = do_children(c, rel, NULL);
        if (r->rc != COORD_OK || r->child_count == 0)
            break;
        size_t n = r->child_count < MAX_CHILDREN ? r->child_count : MAX_CHILDREN;
        memcpy(names, r->children, n * sizeof names[0]);
        for (size_t i = 0; i < n; i++) {
            snprintf(child, sizeof child, "%s/%s", rel, names[i]);
            delete_tree(c, child, depth + 1);
        }
    }
    c->reply_count = 0;
    if (rel[0])
        do_delete(c, rel, -1);
}

/* Close every client still open and wait for every close's callback. */
static int close_all(harness *h) {
    for (int i = 0; i < h->client_count; i++) {
        client *c = h->clients[i];
        if (c->opened && !c->close_called)
            start_close(c);
    }
    int ok = 1;
    for (int i = 0; i < h->client_count; i++) {
        client *c = h->clients[i];
        if (c->opened && !h->run_until(h, client_closed, c, h->op_timeout_ns)) {
            print_error("[%s] teardown: client %d's close never completed\n", h->name, i);
            ok = 0;
        }
    }
    return ok;
}

/* Each completion ran once; coord.h promises nothing else. */
static int check_once(const harness *h) {
    int ok = 1;
    for (int i = 0; i < h->client_count; i++)
        for (int k = 0; k < h->clients[i]->reply_count; k++)
            if (h->clients[i]->replies[k].calls > 1) {
                print_error("[%s] client %d: the completion of a %s ran %d times\n", h->name, i,
                            h->clients[i]->replies[k].what, h->clients[i]->replies[k].calls);
                ok = 0;
            }
    return ok;
}

static void free_clients(harness *h) {
    for (int i = 0; i < h->client_count; i++) {
        free(h->clients[i]->s);
        free(h->clients[i]);
    }
    h->client_count = 0;
}

static int harness_free(harness *h, int clean_dir) {
    int ok = close_all(h) && check_once(h);
    if (ok && clean_dir && h->real) {
        free_clients(h);
        client *c = open_client(h);
        delete_tree(c, "", 0);
        do_delete(c, "", -1);
        ok = close_all(h);
    }
    if (ok) { /* a session whose close never completed may still use its memory: leak it */
        free_clients(h);
        for (int i = 0; i < h->counting_count; i++)
            free(h->counting[i]);
        h->destroy(h);
    }
    free(h);
    return ok ? 0 : -1;
}

static int setup(void **state) {
    test_slot *slot = *state;
    char err[256] = "";
    harness *h = harness_new(slot->kind, err, sizeof err);
    if (!h) {
        print_error("[%s] setup: %s\n", slot->kind->name, err);
        return -1;
    }
    if (slot->kind->unreachable) {
        print_error("[%s] setup: an earlier session never connected; not trying again\n", h->name);
        harness_free(h, 0);
        return -1;
    }
    slot->kind->unreachable = 1; /* until a session connects */
    client *c = open_client(h);
    slot->kind->unreachable = 0;
    int rc = do_create(c, "", NULL, 0)->rc; /* the run's root */
    if (rc != COORD_OK && rc != COORD_NODEEXISTS)
        fail_at(h, __FILE__, __LINE__, "creating %s: %s", h->root, coord_error_name(rc));
    h->test = slot->test;
    snprintf(h->dir, sizeof h->dir, "%s/%s", h->root, slot->test->name);
    EXPECT_RC(h, do_create(c, "", NULL, 0)->rc, COORD_OK);
    close_client(c);
    free_clients(h);
    *state = h;
    return 0;
}

static int teardown(void **state) {
    return harness_free(*state, 1);
}

/* ---------- operations ---------- */

static void create_persistent(harness *h) {
    client *a = open_client(h), *b = open_client(h);
    reply *r = do_create(a, "/p", "v0", COORD_PERSISTENT);
    EXPECT_RC(h, r->rc, COORD_OK);
    EXPECT_STR(h, r->rel, "/p");
    EXPECT_RC(h, do_create(a, "/p", "x", 0)->rc, COORD_NODEEXISTS);
    EXPECT_RC(h, do_create(b, "/p", "x", COORD_EPHEMERAL)->rc, COORD_NODEEXISTS);
    EXPECT_RC(h, do_create(a, "/none/child", "x", 0)->rc, COORD_NONODE);
    EXPECT_RC(h, do_create(a, "/p/child", NULL, 0)->rc, COORD_OK);
    reply *g = do_get(b, "/p", NULL);
    EXPECT_RC(h, g->rc, COORD_OK);
    EXPECT_STR(h, g->data, "v0");
    EXPECT_INT(h, g->stat.ephemeral_owner, 0);
    close_client(a); /* persistent: outlives its creator's session */
    EXPECT_RC(h, do_exists(b, "/p", NULL)->rc, COORD_OK);
    EXPECT_RC(h, do_exists(b, "/p/child", NULL)->rc, COORD_OK);
}

static void create_ephemeral(harness *h) {
    client *a = open_client(h), *b = open_client(h);
    reply *r = do_create(a, "/e", "x", COORD_EPHEMERAL);
    EXPECT_RC(h, r->rc, COORD_OK);
    EXPECT_STR(h, r->rel, "/e");
    reply *e = do_exists(b, "/e", NULL);
    EXPECT_RC(h, e->rc, COORD_OK);
    EXPECT(h, e->stat.ephemeral_owner != 0);
    EXPECT_INT(h, e->stat.ephemeral_owner, a->b->session_id(a->s));
    EXPECT_RC(h, do_create(a, "/e/child", NULL, 0)->rc, COORD_NOCHILDRENFOREPHEMERALS);
    EXPECT_RC(h, do_create(b, "/e/child", NULL, COORD_EPHEMERAL)->rc,
              COORD_NOCHILDRENFOREPHEMERALS);
    EXPECT_RC(h, do_create(b, "/e", NULL, 0)->rc, COORD_NODEEXISTS);
    EXPECT_RC(h, do_create(a, "/missing/e", NULL, COORD_EPHEMERAL)->rc, COORD_NONODE);
}

static int sequence_of(const harness *h, const char *rel, const char *prefix) {
    size_t n = strlen(prefix);
    if (strncmp(rel, prefix, n) != 0 || strlen(rel + n) != 10)
        fail_at(h, __FILE__, __LINE__, "sequential name \"%s\": want %s + 10 digits", rel, prefix);
    for (size_t i = 0; i < 10; i++)
        if (rel[n + i] < '0' || rel[n + i] > '9')
            fail_at(h, __FILE__, __LINE__, "sequential name \"%s\": not 10 digits", rel);
    return atoi(rel + n);
}

static void sequential_names_are_padded_and_never_reused(harness *h) {
    client *a = open_client(h);
    EXPECT_RC(h, do_create(a, "/q", NULL, 0)->rc, COORD_OK);
    EXPECT_RC(h, do_create(a, "/r", NULL, 0)->rc, COORD_OK);
    char want[64];
    for (int i = 0; i < 3; i++) {
        reply *r = do_create(a, "/q/n-", "", COORD_SEQUENTIAL);
        EXPECT_RC(h, r->rc, COORD_OK);
        snprintf(want, sizeof want, "/q/n-%010d", i);
        EXPECT_STR(h, r->rel, want);
    }
    reply *other = do_create(a, "/r/n-", "", COORD_SEQUENTIAL); /* a counter per parent */
    EXPECT_STR(h, other->rel, "/r/n-0000000000");
    EXPECT_RC(h, do_delete(a, "/q/n-0000000002", -1)->rc, COORD_OK);
    EXPECT_RC(h, do_delete(a, "/q/n-0000000001", -1)->rc, COORD_OK);
    int last = 2;
    for (int i = 0; i < 2; i++) {
        reply *r =
            do_create(a, "/q/n-", "", i ? COORD_SEQUENTIAL | COORD_EPHEMERAL : COORD_SEQUENTIAL);
        EXPECT_RC(h, r->rc, COORD_OK);
        int seq = sequence_of(h, r->rel, "/q/n-");
        EXPECT_WHY(h, seq > last, "a sequence number was reused after deletes");
        last = seq;
    }
    reply *c = do_children(a, "/q", NULL);
    EXPECT_INT(h, c->child_count, 3);
}

/* ZooKeeper numbers a sequential child by the count of children ever created under its
 * parent: a delete does not advance it (3.8.0: n-0..2, delete n-2, then n-0000000003), a
 * plain create does. */
static void sequence_counts_child_creations(harness *h) {
    client *a = open_client(h);
    EXPECT_RC(h, do_create(a, "/q", NULL, 0)->rc, COORD_OK);
    for (int i = 0; i < 3; i++)
        EXPECT_RC(h, do_create(a, "/q/n-", "", COORD_SEQUENTIAL)->rc, COORD_OK);
    EXPECT_RC(h, do_delete(a, "/q/n-0000000002", -1)->rc, COORD_OK);
    EXPECT_STR(h, do_create(a, "/q/n-", "", COORD_SEQUENTIAL)->rel, "/q/n-0000000003");
    EXPECT_RC(h, do_create(a, "/q/plain", "", 0)->rc, COORD_OK);
    EXPECT_STR(h, do_create(a, "/q/n-", "", COORD_SEQUENTIAL)->rel, "/q/n-0000000005");
}

static void get_returns_data_and_stat(harness *h) {
    client *a = open_client(h), *b = open_client(h);
    EXPECT_RC(h, do_create(a, "/g", "hello", 0)->rc, COORD_OK);
    EXPECT_RC(h, do_create(a, "/empty", NULL, 0)->rc, COORD_OK);
    reply *g = do_get(b, "/g", NULL);
    EXPECT_RC(h, g->rc, COORD_OK);
    EXPECT_STR(h, g->data, "hello");
    EXPECT_INT(h, g->data_len, 5);
    EXPECT_INT(h, g->stat.version, 0);
    EXPECT_INT(h, g->stat.data_length, 5);
    g = do_get(b, "/empty", NULL);
    EXPECT_RC(h, g->rc, COORD_OK);
    EXPECT_INT(h, g->data_len, 0);
    EXPECT_INT(h, g->stat.data_length, 0);
    EXPECT_RC(h, do_get(b, "/missing", NULL)->rc, COORD_NONODE);
    EXPECT_RC(h, do_get(b, "/missing/deeper", NULL)->rc, COORD_NONODE);
}

static void set_and_its_errors(harness *h) {
    client *a = open_client(h), *b = open_client(h);
    EXPECT_RC(h, do_create(a, "/s", "0", 0)->rc, COORD_OK);
    reply *r = do_set(b, "/s", "one", -1);
    EXPECT_RC(h, r->rc, COORD_OK);
    EXPECT_INT(h, r->stat.version, 1);
    EXPECT_INT(h, r->stat.data_length, 3);
    EXPECT_STR(h, do_get(a, "/s", NULL)->data, "one");
    EXPECT_RC(h, do_set(a, "/s", "x", 0)->rc, COORD_BADVERSION);
    EXPECT_RC(h, do_set(a, "/missing", "x", -1)->rc, COORD_NONODE);
    EXPECT_RC(h, do_set(a, "/missing", "x", 3)->rc, COORD_NONODE);
    EXPECT_STR(h, do_get(a, "/s", NULL)->data, "one"); /* the failures changed nothing */
}

static void exists_and_its_errors(harness *h) {
    client *a = open_client(h);
    EXPECT_RC(h, do_create(a, "/x", "abc", 0)->rc, COORD_OK);
    reply *e = do_exists(a, "/x", NULL);
    EXPECT_RC(h, e->rc, COORD_OK);
    EXPECT_INT(h, e->stat.data_length, 3);
    EXPECT_INT(h, e->stat.version, 0);
    EXPECT_RC(h, do_exists(a, "/y", NULL)->rc, COORD_NONODE);
    EXPECT_RC(h, do_exists(a, "/y/z", NULL)->rc, COORD_NONODE);
    EXPECT_RC(h, do_exists(a, "", NULL)->rc, COORD_OK); /* the test's folder */
}

static void children_as_a_set(harness *h) {
    client *a = open_client(h), *b = open_client(h);
    EXPECT_RC(h, do_create(a, "/d", NULL, 0)->rc, COORD_OK);
    reply *r = do_children(b, "/d", NULL);
    EXPECT_RC(h, r->rc, COORD_OK);
    EXPECT_INT(h, r->child_count, 0);
    const char *names[] = {"zz", "a", "m", "b", "k"};
    char rel[64];
    for (size_t i = 0; i < 5; i++) {
        snprintf(rel, sizeof rel, "/d/%s", names[i]);
        EXPECT_RC(h, do_create(i % 2 ? a : b, rel, NULL, i == 4 ? COORD_EPHEMERAL : 0)->rc,
                  COORD_OK);
    }
    EXPECT_RC(h, do_create(a, "/d/a/grandchild", NULL, 0)->rc, COORD_OK);
    r = do_children(b, "/d", NULL);
    EXPECT_RC(h, r->rc, COORD_OK);
    EXPECT_CHILDREN(h, r, "a,b,k,m,zz"); /* sorted here: the order is not promised */
    EXPECT_INT(h, r->stat.num_children, 5);
    EXPECT_RC(h, do_delete(a, "/d/m", -1)->rc, COORD_OK);
    EXPECT_CHILDREN(h, do_children(a, "/d", NULL), "a,b,k,zz");
    EXPECT_RC(h, do_children(a, "/nope", NULL)->rc, COORD_NONODE);
    EXPECT_CHILDREN(h, do_children(a, "/d/a", NULL), "grandchild");
}

static void delete_and_its_errors(harness *h) {
    client *a = open_client(h), *b = open_client(h);
    EXPECT_RC(h, do_create(a, "/d", NULL, 0)->rc, COORD_OK);
    EXPECT_RC(h, do_create(a, "/d/k", NULL, 0)->rc, COORD_OK);
    EXPECT_RC(h, do_delete(b, "/d", -1)->rc, COORD_NOTEMPTY);
    EXPECT_RC(h, do_delete(b, "/d/k", 4)->rc, COORD_BADVERSION);
    EXPECT_RC(h, do_delete(b, "/d/k", 0)->rc, COORD_OK);
    EXPECT_RC(h, do_delete(b, "/d/k", -1)->rc, COORD_NONODE);
    EXPECT_RC(h, do_delete(b, "/d/k", 0)->rc, COORD_NONODE);
    EXPECT_RC(h, do_exists(a, "/d/k", NULL)->rc, COORD_NONODE);
    EXPECT_RC(h, do_delete(a, "/d", -1)->rc, COORD_OK);
    EXPECT_RC(h, do_delete(a, "/never/was", -1)->rc, COORD_NONODE);
}

static void multi_commits_as_one_transaction(harness *h) {
    client *a = open_client(h), *b = open_client(h);
    EXPECT_RC(h, do_create(a, "/old", "o", 0)->rc, COORD_OK);
    const coord_op ops[] = {
        {COORD_OP_CREATE, "/m1", "x", 1, 0, -1},  {COORD_OP_CREATE, "/m2", "y", 1, 0, -1},
        {COORD_OP_CHECK, "/m1", NULL, 0, 0, 0},   {COORD_OP_SET, "/m2", "z", 1, 0, 0},
        {COORD_OP_DELETE, "/old", NULL, 0, 0, 0},
    };
    reply *r = do_multi(a, ops, 5);
    EXPECT_RC(h, r->rc, COORD_OK);
    EXPECT_INT(h, r->op_count, 5);
    for (size_t i = 0; i < 5; i++)
        EXPECT_RC(h, r->op_rcs[i], COORD_OK);
    reply *g1 = do_get(b, "/m1", NULL), *g2 = do_get(b, "/m2", NULL);
    EXPECT_STR(h, g1->data, "x");
    EXPECT_STR(h, g2->data, "z");
    EXPECT_INT(h, g2->stat.version, 1);
    EXPECT_INT(h, g1->stat.czxid, g2->stat.czxid); /* one transaction, one zxid */
    EXPECT_INT(h, g2->stat.mzxid, g2->stat.czxid);
    EXPECT_RC(h, do_exists(b, "/old", NULL)->rc, COORD_NONODE);
}

/* A failed multi: its rc is the failing op's code, that op carries its own code, the ops
 * after it RUNTIMEINCONSISTENCY, and nothing at all is applied. */
static void failed_multi_applies_nothing(harness *h) {
    client *a = open_client(h), *b = open_client(h);
    EXPECT_RC(h, do_create(a, "/x", "0", 0)->rc, COORD_OK);
    EXPECT_RC(h, do_create(a, "/full", NULL, 0)->rc, COORD_OK);
    EXPECT_RC(h, do_create(a, "/full/kid", NULL, 0)->rc, COORD_OK);
    EXPECT_RC(h, do_create(a, "/eph", NULL, COORD_EPHEMERAL)->rc, COORD_OK);
    struct {
        coord_op ops[3];
        int failing, want;
    } cases[] = {
        {{{COORD_OP_CREATE, "/a1", "", 0, 0, -1},
          {COORD_OP_CHECK, "/nope", NULL, 0, 0, -1},
          {COORD_OP_SET, "/x", "1", 1, 0, -1}},
         1,
         COORD_NONODE},
        {{{COORD_OP_CREATE, "/a2", "", 0, 0, -1},
          {COORD_OP_CHECK, "/x", NULL, 0, 0, 5},
          {COORD_OP_SET, "/x", "1", 1, 0, -1}},
         1,
         COORD_BADVERSION},
        {{{COORD_OP_SET, "/x", "1", 1, 0, -1},
          {COORD_OP_CREATE, "/x", "", 0, 0, -1},
          {COORD_OP_CREATE, "/a3", "", 0, 0, -1}},
         1,
         COORD_NODEEXISTS},
        {{{COORD_OP_CREATE, "/a4", "", 0, 0, -1},
          {COORD_OP_DELETE, "/full", NULL, 0, 0, -1},
          {COORD_OP_SET, "/x", "1", 1, 0, -1}},
         1,
         COORD_NOTEMPTY},
        {{{COORD_OP_CREATE, "/a5", "", 0, 0, -1},
          {COORD_OP_CREATE, "/eph/kid", "", 0, 0, -1},
          {COORD_OP_SET, "/x", "1", 1, 0, -1}},
         1,
         COORD_NOCHILDRENFOREPHEMERALS},
        {{{COORD_OP_SET, "/x", "1", 1, 0, 7},
          {COORD_OP_CREATE, "/a6", "", 0, 0, -1},
          {COORD_OP_DELETE, "/full/kid", NULL, 0, 0, -1}},
         0,
         COORD_BADVERSION},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        reply *r = do_multi(a, cases[k].ops, 3);
        if (r->rc != cases[k].want)
            fail_at(h, __FILE__, __LINE__, "failed multi %zu: rc %s, want %s", k,
                    coord_error_name(r->rc), coord_error_name(cases[k].want));
        EXPECT_INT(h, r->op_count, 3);
        EXPECT_RC(h, r->op_rcs[cases[k].failing], cases[k].want);
        for (int i = cases[k].failing + 1; i < 3; i++)
            EXPECT_RC(h, r->op_rcs[i], COORD_RUNTIMEINCONSISTENCY);
    }
    const char *never[] = {"/a1", "/a2", "/a3", "/a4", "/a5", "/a6", "/eph/kid"};
    for (size_t i = 0; i < sizeof never / sizeof never[0]; i++)
        if (do_exists(b, never[i], NULL)->rc != COORD_NONODE)
            fail_at(h, __FILE__, __LINE__, "%s exists after a failed multi", never[i]);
    reply *g = do_get(b, "/x", NULL);
    EXPECT_INT(h, g->stat.version, 0);
    EXPECT_STR(h, g->data, "0");
    EXPECT_RC(h, do_exists(b, "/full/kid", NULL)->rc, COORD_OK);
}

/* ZooKeeper's per-op results of a failed multi (3.8.0, C client): OK for the ops before
 * the failing one (they were rolled back, but that is how it reports them), the failing
 * op's code, RUNTIMEINCONSISTENCY after it. */
static void failed_multi_results_per_op(harness *h) {
    client *a = open_client(h);
    EXPECT_RC(h, do_create(a, "/x", "0", 0)->rc, COORD_OK);
    const coord_op ops[] = {
        {COORD_OP_CREATE, "/a", "", 0, 0, -1},
        {COORD_OP_SET, "/x", "1", 1, 0, -1},
        {COORD_OP_CHECK, "/nope", NULL, 0, 0, -1},
        {COORD_OP_CREATE, "/b", "", 0, 0, -1},
    };
    reply *r = do_multi(a, ops, 4);
    EXPECT_RC(h, r->rc, COORD_NONODE);
    EXPECT_INT(h, r->op_count, 4);
    EXPECT_RC(h, r->op_rcs[0], COORD_OK);
    EXPECT_RC(h, r->op_rcs[1], COORD_OK);
    EXPECT_RC(h, r->op_rcs[2], COORD_NONODE);
    EXPECT_RC(h, r->op_rcs[3], COORD_RUNTIMEINCONSISTENCY);
}

static void sync_then_read_sees_the_latest_write(harness *h) {
    client *a = open_client(h), *b = open_client(h);
    EXPECT_RC(h, do_create(a, "/s", "v0", 0)->rc, COORD_OK);
    EXPECT_STR(h, do_get(b, "/s", NULL)->data, "v0");
    for (int i = 1; i <= 3; i++) {
        char v[16];
        snprintf(v, sizeof v, "v%d", i);
        EXPECT_RC(h, do_set(a, "/s", v, -1)->rc, COORD_OK);
        EXPECT_RC(h, do_sync(b, "/s")->rc, COORD_OK);
        reply *g = do_get(b, "/s", NULL);
        EXPECT_STR(h, g->data, v);
        EXPECT_INT(h, g->stat.version, i);
    }
    /* a sync and a read sent together: the read still follows the sync */
    EXPECT_RC(h, do_create(a, "/t", "new", 0)->rc, COORD_OK);
    reply *s = start_sync(b, "/t"), *g = start_get(b, "/t", NULL);
    wait_reply(g);
    wait_reply(s);
    EXPECT_RC(h, s->rc, COORD_OK);
    EXPECT_STR(h, g->data, "new");
    EXPECT(h, s->seq < g->seq);
}

static void version_compare_and_set(harness *h) {
    client *a = open_client(h), *b = open_client(h);
    EXPECT_RC(h, do_create(a, "/v", "0", 0)->rc, COORD_OK);
    reply *r = do_set(a, "/v", "1", 0);
    EXPECT_RC(h, r->rc, COORD_OK);
    EXPECT_INT(h, r->stat.version, 1);
    EXPECT_RC(h, do_set(a, "/v", "stale", 0)->rc, COORD_BADVERSION);
    reply *g = do_get(a, "/v", NULL);
    EXPECT_STR(h, g->data, "1");
    EXPECT_INT(h, g->stat.version, 1);
    EXPECT_INT(h, do_set(a, "/v", "2", 1)->stat.version, 2);
    /* two sessions race with the version both read: exactly one wins */
    int32_t seen = do_get(b, "/v", NULL)->stat.version;
    reply *ra = start_set(a, "/v", "a", seen), *rb = start_set(b, "/v", "b", seen);
    wait_reply(ra);
    wait_reply(rb);
    EXPECT_WHY(h, (ra->rc == COORD_OK) != (rb->rc == COORD_OK), "exactly one CAS wins");
    EXPECT(h, ra->rc == COORD_BADVERSION || rb->rc == COORD_BADVERSION);
    EXPECT_INT(h, do_get(a, "/v", NULL)->stat.version, 3);
    EXPECT_RC(h, do_delete(b, "/v", 2)->rc, COORD_BADVERSION);
    EXPECT_RC(h, do_delete(b, "/v", 3)->rc, COORD_OK);
}

static void stat_fields(harness *h) {
    client *a = open_client(h), *b = open_client(h);
    EXPECT_RC(h, do_create(a, "/st", "abc", 0)->rc, COORD_OK);
    coord_stat s = do_get(a, "/st", NULL)->stat;
    EXPECT_INT(h, s.version, 0);
    EXPECT_INT(h, s.cversion, 0);
    EXPECT_INT(h, s.num_children, 0);
    EXPECT_INT(h, s.data_length, 3);
    EXPECT_INT(h, s.ephemeral_owner, 0);
    EXPECT(h, s.czxid > 0);
    EXPECT_INT(h, s.mzxid, s.czxid);
    int64_t created = s.czxid;
    coord_stat s1 = do_set(a, "/st", "hello", -1)->stat;
    EXPECT_INT(h, s1.version, 1);
    EXPECT_INT(h, s1.data_length, 5);
    EXPECT(h, s1.mzxid > s1.czxid);
    EXPECT_INT(h, s1.czxid, created);
    EXPECT_INT(h, do_set(a, "/st", "again", -1)->stat.version, 2);
    EXPECT_RC(h, do_create(a, "/st/k1", NULL, 0)->rc, COORD_OK);
    EXPECT_RC(h, do_create(b, "/st/k2", NULL, COORD_EPHEMERAL)->rc, COORD_OK);
    coord_stat p = do_exists(a, "/st", NULL)->stat;
    EXPECT_INT(h, p.num_children, 2);
    EXPECT_INT(h, p.cversion, 2);
    EXPECT_INT(h, p.version, 2); /* children do not touch the data version */
    EXPECT_RC(h, do_delete(a, "/st/k1", -1)->rc, COORD_OK);
    p = do_exists(a, "/st", NULL)->stat;
    EXPECT_INT(h, p.num_children, 1);
    EXPECT_INT(h, p.cversion, 3); /* creates and deletes of children */
    coord_stat k2 = do_exists(a, "/st/k2", NULL)->stat;
    EXPECT_INT(h, k2.ephemeral_owner, b->b->session_id(b->s));
    EXPECT(h, k2.ephemeral_owner != a->b->session_id(a->s));
    EXPECT(h, k2.czxid > created);
    EXPECT_INT(h, do_get(a, "/st/k2", NULL)->stat.ephemeral_owner, b->b->session_id(b->s));
}

static void bad_paths_are_refused_by_the_checked_wrappers(harness *h) {
    client *a = open_client(h);
    const coord_backend *b = a->b;
    coord_session *s = a->s;
    reply *r = new_reply(a, "a refused call");
    const char *bad[] = {"relative", "/a//b", "/a/", "", NULL};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *p = bad[i];
        const coord_op op = {COORD_OP_CREATE, p, NULL, 0, 0, -1};
        EXPECT_RC(h, coord_create(b, s, p, "x", 1, 0, on_done, r), COORD_BADARGUMENTS);
        EXPECT_RC(h, coord_remove(b, s, p, -1, on_done, r), COORD_BADARGUMENTS);
        EXPECT_RC(h, coord_set(b, s, p, "x", 1, -1, on_done, r), COORD_BADARGUMENTS);
        EXPECT_RC(h, coord_get(b, s, p, NULL, NULL, on_done, r), COORD_BADARGUMENTS);
        EXPECT_RC(h, coord_exists(b, s, p, NULL, NULL, on_done, r), COORD_BADARGUMENTS);
        EXPECT_RC(h, coord_children(b, s, p, NULL, NULL, on_done, r), COORD_BADARGUMENTS);
        EXPECT_RC(h, coord_sync(b, s, p, on_done, r), COORD_BADARGUMENTS);
        EXPECT_RC(h, coord_multi(b, s, &op, 1, on_done, r), COORD_BADARGUMENTS);
    }
    EXPECT_RC(h, coord_create(b, s, "/", "x", 1, 0, on_done, r), COORD_BADARGUMENTS);
    EXPECT_RC(h, coord_remove(b, s, "/", -1, on_done, r), COORD_BADARGUMENTS);
    char path[PATH_BYTES];
    full_path(h, "/big", path, sizeof path);
    EXPECT_RC(h, coord_set(b, s, path, "x", COORD_MAX_DATA + 1, -1, on_done, r),
              COORD_BADARGUMENTS);
    EXPECT_RC(h, coord_create(b, s, path, "x", 1, 0x40, on_done, r), COORD_BADARGUMENTS);
    EXPECT_RC(h, coord_remove(b, s, path, -2, on_done, r), COORD_BADARGUMENTS);
    const coord_op good = {COORD_OP_CREATE, path, NULL, 0, 0, -1};
    EXPECT_RC(h, coord_multi(b, s, &good, 0, on_done, r), COORD_BADARGUMENTS);
    quiet(h);
    EXPECT_WHY(h, r->calls == 0, "a refused call's completion ran");
    EXPECT_RC(h, do_exists(a, "/big", NULL)->rc, COORD_NONODE);
}

/* ---------- watches ---------- */

static void data_watch_fires_once(harness *h) {
    client *a = open_client(h), *b = open_client(h);
    EXPECT_RC(h, do_create(a, "/w", "0", 0)->rc, COORD_OK);
    watch_rec *w = new_watch(b);
    EXPECT_RC(h, do_get(b, "/w", w)->rc, COORD_OK);
    EXPECT_RC(h, do_get(a, "/w", NULL)->rc, COORD_OK); /* reads fire nothing */
    quiet(h);
    EXPECT_INT(h, w->fired, 0);
    EXPECT_RC(h, do_set(a, "/w", "1", -1)->rc, COORD_OK);
    wait_watch(h, w, "the data watch");
    quiet(h);
    EXPECT_EVENT(h, w, COORD_EVENT_DATA_CHANGED, "/w");
    EXPECT_RC(h, do_set(a, "/w", "2", -1)->rc, COORD_OK); /* one-shot: no second event */
    quiet(h);
    EXPECT_INT(h, w->fired, 1);
    /* an exists watch on a node that exists is a data watch too */
    watch_rec *x = new_watch(b);
    EXPECT_RC(h, do_exists(b, "/w", x)->rc, COORD_OK);
    EXPECT_RC(h, do_set(a, "/w", "3", -1)->rc, COORD_OK);
    wait_watch(h, x, "the exists watch on an existing node");
    EXPECT_RC(h, do_set(a, "/w", "4", -1)->rc, COORD_OK);
    quiet(h);
    EXPECT_EVENT(h, x, COORD_EVENT_DATA_CHANGED, "/w");
}

static void exists_watch_fires_on_create(harness *h) {
    client *a = open_client(h), *b = open_client(h);
    watch_rec *w = new_watch(b);
    EXPECT_RC(h, do_exists(b, "/later", w)->rc, COORD_NONODE);
    quiet(h);
    EXPECT_INT(h, w->fired, 0);
    EXPECT_RC(h, do_create(a, "/later", "x", 0)->rc, COORD_OK);
    wait_watch(h, w, "the exists watch");
    EXPECT_RC(h, do_set(a, "/later", "y", -1)->rc, COORD_OK);
    quiet(h);
    EXPECT_EVENT(h, w, COORD_EVENT_CREATED, "/later");
}

static void child_watch_fires_on_create_and_delete(harness *h) {
    client *a = open_client(h), *b = open_client(h);
    EXPECT_RC(h, do_create(a, "/d", "x", 0)->rc, COORD_OK);
    watch_rec *w1 = new_watch(b);
    EXPECT_RC(h, do_children(b, "/d", w1)->rc, COORD_OK);
    EXPECT_RC(h, do_set(a, "/d", "data", -1)->rc, COORD_OK); /* not a child change */
    quiet(h);
    EXPECT_INT(h, w1->fired, 0);
    EXPECT_RC(h, do_create(a, "/d/k", NULL, 0)->rc, COORD_OK);
    wait_watch(h, w1, "the child watch (create)");
    EXPECT_RC(h, do_create(a, "/d/k2", NULL, 0)->rc, COORD_OK);
    quiet(h);
    EXPECT_EVENT(h, w1, COORD_EVENT_CHILDREN_CHANGED, "/d");
    watch_rec *w2 = new_watch(b);
    EXPECT_CHILDREN(h, do_children(b, "/d", w2), "k,k2");
    EXPECT_RC(h, do_create(a, "/d/k/grandchild", NULL, 0)->rc, COORD_OK); /* not a child */
    quiet(h);
    EXPECT_INT(h, w2->fired, 0);
    EXPECT_RC(h, do_delete(a, "/d/k2", -1)->rc, COORD_OK);
    wait_watch(h, w2, "the child watch (delete)");
    quiet(h);
    EXPECT_EVENT(h, w2, COORD_EVENT_CHILDREN_CHANGED, "/d");
}

static void delete_fires_deleted(harness *h) {
    client *a = open_client(h), *b = open_client(h);
    EXPECT_RC(h, do_create(a, "/y", "x", 0)->rc, COORD_OK);
    watch_rec *byget = new_watch(b), *byexists = new_watch(b), *bychildren = new_watch(b),
              *parent = new_watch(b);
    EXPECT_RC(h, do_get(b, "/y", byget)->rc, COORD_OK);
    EXPECT_RC(h, do_exists(b, "/y", byexists)->rc, COORD_OK);
    EXPECT_RC(h, do_children(b, "/y", bychildren)->rc, COORD_OK);
    EXPECT_RC(h, do_children(b, "", parent)->rc, COORD_OK);
    EXPECT_RC(h, do_delete(a, "/y", -1)->rc, COORD_OK);
    wait_watch(h, byget, "the get watch");
    wait_watch(h, byexists, "the exists watch");
    wait_watch(h, bychildren, "the children watch");
    wait_watch(h, parent, "the parent's children watch");
    quiet(h);
    EXPECT_EVENT(h, byget, COORD_EVENT_DELETED, "/y");
    EXPECT_EVENT(h, byexists, COORD_EVENT_DELETED, "/y");
    EXPECT_EVENT(h, bychildren, COORD_EVENT_DELETED, "/y");
    EXPECT_EVENT(h, parent, COORD_EVENT_CHILDREN_CHANGED, "");
}

/* ZooKeeper's ordering promise: a client sees a watch event before it sees the new state
 * that triggered it -- the event comes before the reply of any read it sends after the
 * write, and on the writer's own session before the replies that follow the write. */
static void watch_event_precedes_the_next_read(harness *h) {
    client *a = open_client(h), *b = open_client(h);
    EXPECT_RC(h, do_create(a, "/o", "0", 0)->rc, COORD_OK);
    for (int round = 0; round < 3; round++) {
        watch_rec *w = new_watch(b);
        EXPECT_RC(h, do_get(b, "/o", w)->rc, COORD_OK);
        char v[8];
        snprintf(v, sizeof v, "%d", round + 1);
        EXPECT_RC(h, do_set(a, "/o", v, -1)->rc, COORD_OK);
        reply *g = do_get(b, "/o", NULL); /* sent once a's write was answered */
        EXPECT_STR(h, g->data, v);
        EXPECT_WHY(h, w->fired == 1 && w->seq < g->seq,
                   "the watch event must come before the reply of the read that follows");
    }
    /* the watching session writes itself, with a read pipelined behind the write */
    watch_rec *w = new_watch(b);
    EXPECT_RC(h, do_get(b, "/o", w)->rc, COORD_OK);
    reply *s = start_set(b, "/o", "own", -1), *g = start_get(b, "/o", NULL);
    wait_reply(g);
    wait_reply(s);
    EXPECT_RC(h, s->rc, COORD_OK);
    EXPECT_STR(h, g->data, "own");
    EXPECT_WHY(h, s->seq < g->seq, "replies come in the order the requests were sent");
    EXPECT_WHY(h, w->fired == 1 && w->seq < g->seq,
               "own write: the event must come before the next read's reply");
    /* the same for a child watch and a children read */
    watch_rec *cw = new_watch(b);
    EXPECT_RC(h, do_children(b, "", cw)->rc, COORD_OK);
    EXPECT_RC(h, do_create(a, "/kid", NULL, 0)->rc, COORD_OK);
    reply *c = do_children(b, "", NULL);
    EXPECT_CHILDREN(h, c, "kid,o");
    EXPECT_WHY(h, cw->fired == 1 && cw->seq < c->seq,
               "the child event must come before the reply of the listing that follows");
}

/* A failed multi changed nothing, so it must not fire -- or consume -- anyone's watch:
 * b's data watch on /m1 survives a's failed [set /m1, check /nope] and fires exactly once on
 * a's plain set that follows (ZooKeeper 3.8.0: 0 events after the multi, 1 after the set). */
static void failed_multi_leaves_other_watches_armed(harness *h) {
    client *a = open_client(h), *b = open_client(h);
    EXPECT_RC(h, do_create(a, "/m1", "0", 0)->rc, COORD_OK);
    watch_rec *w = new_watch(b);
    EXPECT_RC(h, do_get(b, "/m1", w)->rc, COORD_OK);
    const coord_op ops[] = {
        {COORD_OP_SET, "/m1", "x", 1, 0, -1},
        {COORD_OP_CHECK, "/nope", NULL, 0, 0, -1},
    };
    EXPECT_RC(h, do_multi(a, ops, 2)->rc, COORD_NONODE);
    quiet(h);
    EXPECT_WHY(h, w->fired == 0, "a failed multi fired a watch");
    EXPECT_RC(h, do_set(a, "/m1", "y", -1)->rc, COORD_OK);
    if (!h->run_until(h, watch_fired, w, h->op_timeout_ns))
        fail_at(h, __FILE__, __LINE__,
                "b's data watch on /m1 never fired after a's set: the failed multi "
                "consumed it (ZooKeeper leaves it armed)");
    quiet(h);
    EXPECT_EVENT(h, w, COORD_EVENT_DATA_CHANGED, "/m1");
}

/* ---------- sessions ---------- */

static void ephemeral_goes_with_close(harness *h) {
    client *a = open_client(h), *b = open_client(h);
    EXPECT_RC(h, do_create(a, "/e", "x", COORD_EPHEMERAL)->rc, COORD_OK);
    EXPECT_RC(h, do_create(a, "/es-", "x", COORD_EPHEMERAL | COORD_SEQUENTIAL)->rc, COORD_OK);
    EXPECT_RC(h, do_create(a, "/keep", "x", 0)->rc, COORD_OK);
    watch_rec *w = new_watch(b), *list = new_watch(b);
    EXPECT_RC(h, do_exists(b, "/e", w)->rc, COORD_OK);
    EXPECT_CHILDREN(h, do_children(b, "", list), "e,es-0000000001,keep");
    close_client(a);
    EXPECT_RC(h, a->close_rc, COORD_OK);
    /* at once: not when the service would have expired the session */
    if (!h->run_until(h, watch_fired, w, h->quiet_ns))
        fail_at(h, __FILE__, __LINE__, "the ephemeral was still there %llu ms after close",
                (unsigned long long)(h->quiet_ns / MS));
    EXPECT_EVENT(h, w, COORD_EVENT_DELETED, "/e");
    EXPECT_RC(h, do_exists(b, "/e", NULL)->rc, COORD_NONODE);
    EXPECT_CHILDREN(h, do_children(b, "", NULL), "keep");
    EXPECT(h, list->fired >= 1);
}

static void ephemeral_goes_with_expiry(harness *h) {
    const coord_fault_ops *f = h->b->faults;
    int partition = f && f->partition_client, kill = f && f->kill_client;
    if (!partition && !kill) {
        print_message("[%s] ephemeral_goes_with_expiry: skipped: the backend's fault table has "
                      "neither partition_client nor kill_client\n",
                      h->name);
        skip();
    }
    client *a = open_client_on(h, h->b, h->service, 5 * h->tick_ns), *b = open_client(h);
    EXPECT_RC(h, do_create(a, "/lease", "x", COORD_EPHEMERAL)->rc, COORD_OK);
    watch_rec *w = new_watch(b);
    EXPECT_RC(h, do_exists(b, "/lease", w)->rc, COORD_OK);
    uint64_t t = a->b->session_timeout_ns(a->s), cut_ns = 2 * t + 2 * h->tick_ns;
    uint64_t t0 = env_now(h->e);
    if (partition) /* cut off past its timeout: the service expires it */
        EXPECT_RC(h, f->partition_client(h->service, a->s, cut_ns), COORD_OK);
    else
        EXPECT_RC(h, f->kill_client(h->service, a->s), COORD_OK);
    /* expiry comes at most T (+ a tick's bucket) after the service last heard from a */
    uint64_t bound = t + 2 * h->tick_ns + h->quiet_ns;
    if (!h->run_until(h, watch_fired, w, bound))
        fail_at(h, __FILE__, __LINE__, "the ephemeral of a session %s %llu ms ago is still there",
                partition ? "cut off" : "killed", (unsigned long long)(bound / MS));
    EXPECT_EVENT(h, w, COORD_EVENT_DELETED, "/lease");
    EXPECT(h, env_now(h->e) - t0 <= bound);
    EXPECT_RC(h, do_exists(b, "/lease", NULL)->rc, COORD_NONODE);
    if (!partition)
        return;
    /* back from the cut, the client learns that its session expired */
    WAIT(h, client_expired, a, cut_ns + t + h->op_timeout_ns, "EXPIRED once the cut ended");
    EXPECT_INT(h, a->b->state(a->s), COORD_STATE_EXPIRED);
    reply *r = new_reply(a, "create after expiry");
    char path[PATH_BYTES];
    full_path(h, "/after", path, sizeof path);
    int rc = coord_create(a->b, a->s, path, NULL, 0, 0, on_done, r);
    if (rc == 0)
        EXPECT_RC(h, wait_reply(r)->rc, COORD_SESSIONEXPIRED);
    EXPECT_RC(h, do_exists(b, "/after", NULL)->rc, COORD_NONODE);
}

/* A dropped connection: what was pending is answered CONNECTIONLOSS (the C client fails
 * every request it holds when its socket goes), in the order sent after any real answers,
 * and may or may not have been applied; what was answered OK was. The session survives
 * and the client reconnects. */
static void dropped_connection_loses_pending_replies(harness *h) {
    const coord_fault_ops *f = h->b->faults;
    if (!f || !f->drop_connection) {
        print_message("[%s] dropped_connection_loses_pending_replies: skipped: no "
                      "drop_connection in the backend's fault table\n",
                      h->name);
        skip();
    }
    client *a = open_client(h), *b = open_client(h);
    EXPECT_RC(h, do_create(b, "/x", "0", 0)->rc, COORD_OK);
    enum { N = 8 };
    reply *pending[N];
    for (int i = 0; i < N; i++) {
        char rel[16];
        snprintf(rel, sizeof rel, "/d%d", i);
        pending[i] = start_create(a, rel, "", 0);
    }
    watch_rec *w = new_watch(a);
    reply *get = start_get(a, "/x", w);
    EXPECT_RC(h, f->drop_connection(h->service, a->s), COORD_OK);
    int lost = 0;
    for (int i = 0; i < N; i++) {
        reply *r = wait_reply(pending[i]);
        EXPECT(h, r->calls == 1);
        EXPECT(h, r->rc == COORD_OK || r->rc == COORD_CONNECTIONLOSS);
        lost += r->rc == COORD_CONNECTIONLOSS;
        /* in the order sent: no real answer after a loss */
        EXPECT(h, i == 0 || r->seq > pending[i - 1]->seq);
        EXPECT(h, i == 0 || r->rc == COORD_CONNECTIONLOSS || pending[i - 1]->rc == COORD_OK);
    }
    print_message("[%s] dropped with %d creates pending: %d answered CONNECTIONLOSS; first "
                  "answer seq %llu, DISCONNECTED seq %llu\n",
                  h->name, N, lost, (unsigned long long)pending[0]->seq,
                  (unsigned long long)a->disconnected_seq);
    EXPECT(h, lost > 0);
    WAIT(h, client_connected, a, h->timeout_ns, "CONNECTED again");
    /* the watch of a read whose answer was lost was never armed */
    EXPECT(h, wait_reply(get)->rc == COORD_CONNECTIONLOSS || get->rc == COORD_OK);
    EXPECT_RC(h, do_set(b, "/x", "1", -1)->rc, COORD_OK);
    quiet(h);
    EXPECT(h, get->rc == COORD_OK || w->fired == 0);
    for (int i = 0; i < N; i++) {
        char rel[16];
        snprintf(rel, sizeof rel, "/d%d", i);
        int rc = do_exists(b, rel, NULL)->rc;
        EXPECT(h, rc == COORD_OK || (rc == COORD_NONODE && pending[i]->rc != COORD_OK));
    }
    EXPECT_RC(h, do_create(a, "/after", "", 0)->rc, COORD_OK);
}

/* close: what was pending completes first (its real result, or CLOSING), in order, then
 * close's callback; after it no callback or watch of the session runs. */
static void close_completes_pending_operations_first(harness *h) {
    client *a = open_client(h), *b = open_client(h);
    EXPECT_RC(h, do_create(b, "/x", "0", 0)->rc, COORD_OK);
    watch_rec *w = new_watch(a), *cw = new_watch(a);
    reply *pending[5];
    pending[0] = start_create(a, "/c1", "", 0);
    pending[1] = start_get(a, "/x", w);
    pending[2] = start_children(a, "/x", cw);
    pending[3] = start_create(a, "/c2", "", 0);
    pending[4] = start_set(a, "/c1", "1", -1);
    start_close(a);
    WAIT(h, client_closed, a, h->op_timeout_ns, "close's callback");
    EXPECT_RC(h, a->close_rc, COORD_OK);
    for (int i = 0; i < 5; i++) {
        reply *r = pending[i];
        if (r->calls != 1 || r->seq > a->close_seq)
            fail_at(h, __FILE__, __LINE__,
                    "pending %s (#%d): %d completion(s), %s close's callback", r->what, i, r->calls,
                    r->seq > a->close_seq ? "after" : "before");
        EXPECT(h, r->rc == COORD_OK || r->rc == COORD_CLOSING);
        /* answered ones in the order sent (what the client gave up on has no order) */
        EXPECT(h, i == 0 || r->rc == COORD_CLOSING || pending[i - 1]->rc == COORD_CLOSING ||
                      r->seq > pending[i - 1]->seq);
    }
    if (pending[0]->rc == COORD_OK)
        EXPECT_RC(h, do_exists(b, "/c1", NULL)->rc, COORD_OK);
    /* changes that would fire a's watches, had it lived */
    EXPECT_RC(h, do_set(b, "/x", "1", -1)->rc, COORD_OK);
    EXPECT_RC(h, do_create(b, "/x/kid", NULL, 0)->rc, COORD_OK);
    quiet(h);
    EXPECT_WHY(h, a->late == 0, "a callback or watch of the session ran after close's callback");
    EXPECT_INT(h, w->fired, 0);
    EXPECT_INT(h, cw->fired, 0);
}

/* Poll rel from c every 10 ms for up to limit_ns: how long until it is gone (ns), or
 * UINT64_MAX if it never went. */
static uint64_t gone_after(client *c, const char *rel, uint64_t limit_ns) {
    harness *h = c->h;
    uint64_t t0 = env_now(h->e);
    while (env_now(h->e) - t0 < limit_ns) {
        c->reply_count = 0; /* every earlier reply of this client has completed */
        if (do_exists(c, rel, NULL)->rc == COORD_NONODE)
            return env_now(h->e) - t0;
        h->run_until(h, NULL, NULL, 10 * MS);
    }
    return UINT64_MAX;
}

/* close ends the session when its callback runs -- its ephemerals are gone -- also when
 * operations were pending at close, one of them creating an ephemeral (whatever its
 * reply: OK, or CLOSING, which does not mean it was not applied). Five rounds, each
 * with a new session, since what fails here fails by timing. */
static void close_with_operations_pending_ends_the_session(harness *h) {
    client *b = open_client(h);
    EXPECT_RC(h, do_create(b, "/x", "0", 0)->rc, COORD_OK);
    int lingered = 0, lingered_round = -1;
    uint64_t lingered_ns = 0;
    char pending_rcs[128] = "";
    for (int round = 0; round < 5; round++) {
        client *a = open_client(h);
        EXPECT_RC(h, do_create(a, "/held", "", COORD_EPHEMERAL)->rc, COORD_OK);
        reply *r[4];
        r[0] = start_create(a, "/c", "", COORD_SEQUENTIAL);
        r[1] = start_get(a, "/x", NULL);
        r[2] = start_create(a, "/ce", "", COORD_EPHEMERAL);
        r[3] = start_set(a, "/x", "1", -1);
        start_close(a);
        WAIT(h, client_closed, a, h->op_timeout_ns, "close's callback");
        b->reply_count = 1;
        int held = do_exists(b, "/held", NULL)->rc, ce = do_exists(b, "/ce", NULL)->rc;
        if (held == COORD_NONODE && ce == COORD_NONODE)
            continue;
        if (lingered++ == 0) { /* how long until the service ended it */
            lingered_round = round;
            snprintf(pending_rcs, sizeof pending_rcs, "%s %s %s %s", coord_error_name(r[0]->rc),
                     coord_error_name(r[1]->rc), coord_error_name(r[2]->rc),
                     coord_error_name(r[3]->rc));
            lingered_ns = gone_after(b, held == COORD_OK ? "/held" : "/ce",
                                     b->b->session_timeout_ns(b->s) + 2 * h->tick_ns + SEC);
        }
        b->reply_count = 1;
        if (gone_after(b, "/held", h->timeout_ns + SEC) == UINT64_MAX ||
            gone_after(b, "/ce", h->timeout_ns + SEC) == UINT64_MAX)
            fail_at(h, __FILE__, __LINE__, "a closed session's ephemerals never went");
    }
    if (lingered)
        fail_at(h, __FILE__, __LINE__,
                "in %d of 5 rounds a closed session's ephemerals were still there after close's "
                "callback; round %d: gone %lld ms later (%s), the pending ops' results were %s",
                lingered, lingered_round,
                lingered_ns == UINT64_MAX ? -1LL : (long long)(lingered_ns / MS),
                lingered_ns > h->tick_ns ? "expired: the close never reached the service"
                                         : "close's callback ran before the service ended it",
                pending_rcs);
}

/* An operation started after close() (its callback not yet run) is refused at once or
 * completes before close's callback: coord.h lets nothing of s run after that. */
static void nothing_runs_after_close(harness *h) {
    client *a = open_client(h);
    reply *r = new_reply(a, "create after close()");
    char path[PATH_BYTES];
    full_path(h, "/late", path, sizeof path);
    start_close(a);
    int rc = a->closed ? -1 : coord_create(a->b, a->s, path, NULL, 0, 0, on_done, r);
    WAIT(h, client_closed, a, h->op_timeout_ns, "close's callback");
    quiet(h);
    if (rc != 0) {
        EXPECT_WHY(h, r->calls == 0, "a refused call's completion ran");
    } else if (r->calls != 1 || r->seq > a->close_seq) {
        fail_at(h, __FILE__, __LINE__,
                "a create sent after close() completed %d time(s), %s close's callback (rc %s)",
                r->calls, r->seq > a->close_seq ? "after" : "before", coord_error_name(r->rc));
    }
    EXPECT_WHY(h, a->late == 0, "a callback or watch of the session ran after close's callback");
}

/* ---------- recipes ---------- */

static void on_leader(void *arg, int leading, int64_t epoch) {
    client *c = arg;
    if (leading) {
        c->leads++;
        c->epoch = epoch;
    } else {
        c->unleads++;
    }
}

static int latch_has_node(void *arg) {
    return ((client *)arg)->latch.node[0] != '\0';
}

static int latch_leads(void *arg) {
    return ((client *)arg)->latch.leading;
}

/* A contender that does not lead has armed its predecessor watch (an exists call). */
static int latch_waits(void *arg) {
    client *c = arg;
    return c->latch.node[0] && counting_calls(c, COORD_OPTYPE_EXISTS) > 0;
}

static client *start_contender(harness *h, counting_service *svc, const char *dir) {
    client *c = open_client_on(h, &svc->table, svc, h->timeout_ns);
    char path[PATH_BYTES];
    full_path(h, dir, path, sizeof path);
    c->latch_on = 1;
    EXPECT_RC(h, recipe_latch_start(&c->latch, c->b, c->s, path, 0, on_leader, c), COORD_OK);
    WAIT(h, latch_has_node, c, h->op_timeout_ns, "the contender's election node");
    return c;
}

static int leaders(client *const *c, int n) {
    int count = 0;
    for (int i = 0; i < n; i++)
        count += c[i]->latch.leading && !c[i]->closed;
    return count;
}

/* Three contenders: the first leads; closing the leader wakes only its successor (its
 * predecessor watch), which leads -- no herd: the third neither wakes nor re-checks. A wake
 * is counted twice over: by the latch (recipe_latch.wakes) and, independently, by the
 * children() calls its session makes (the counting wrapper). */
static void latch_one_leader_and_no_herd(harness *h) {
    counting_service *svc = counting_wrap(h);
    client *admin = open_client(h);
    EXPECT_RC(h, do_create(admin, "/election", NULL, 0)->rc, COORD_OK);
    client *c[3];
    c[0] = start_contender(h, svc, "/election");
    WAIT(h, latch_leads, c[0], h->op_timeout_ns, "the first contender to lead");
    for (int i = 1; i < 3; i++) {
        c[i] = start_contender(h, svc, "/election");
        WAIT(h, latch_waits, c[i], h->op_timeout_ns, "the contender to watch its predecessor");
    }
    quiet(h);
    EXPECT_INT(h, leaders(c, 3), 1);
    EXPECT(h, c[0]->latch.leading);
    EXPECT_INT(h, c[1]->leads + c[2]->leads, 0);
    EXPECT(h, c[0]->latch.epoch < c[1]->latch.epoch && c[1]->latch.epoch < c[2]->latch.epoch);
    uint64_t before[3], wakes[3];
    for (int i = 0; i < 3; i++) {
        before[i] = counting_calls(c[i], COORD_OPTYPE_CHILDREN);
        wakes[i] = c[i]->latch.wakes;
    }
    close_client(c[0]);
    WAIT(h, latch_leads, c[1], h->op_timeout_ns, "the successor to lead");
    quiet(h);
    int woken = 0, rechecked = 0;
    for (int i = 1; i < 3; i++) {
        woken += c[i]->latch.wakes > wakes[i];
        rechecked += counting_calls(c[i], COORD_OPTYPE_CHILDREN) > before[i];
    }
    EXPECT_INT(h, leaders(c, 3), 1);
    EXPECT_INT(h, c[1]->leads, 1);
    EXPECT_INT(h, c[2]->leads, 0);
    if (woken != 1 || rechecked != 1 || c[1]->latch.wakes != wakes[1] + 1)
        fail_at(h, __FILE__, __LINE__,
                "herd effect: %d contender(s) woke and %d re-checked (successor woke %llu "
                "time(s)); want only the successor, once",
                woken, rechecked, (unsigned long long)(c[1]->latch.wakes - wakes[1]));
    EXPECT(h, c[1]->epoch > c[0]->epoch); /* epochs only grow */
    /* and again: the last one takes over from the second */
    before[2] = counting_calls(c[2], COORD_OPTYPE_CHILDREN);
    wakes[2] = c[2]->latch.wakes;
    close_client(c[1]);
    WAIT(h, latch_leads, c[2], h->op_timeout_ns, "the last contender to lead");
    EXPECT_INT(h, c[2]->leads, 1);
    EXPECT_INT(h, c[2]->latch.wakes, wakes[2] + 1);
    EXPECT(h, counting_calls(c[2], COORD_OPTYPE_CHILDREN) > before[2]);
    EXPECT(h, c[2]->epoch > c[1]->epoch);
    EXPECT_CHILDREN(h, do_children(admin, "/election", NULL), strrchr(c[2]->latch.node, '/') + 1);
}

static void on_members(void *arg, const char *const *members, size_t count) {
    client *c = arg;
    note_callback(c);
    c->member_updates++;
    c->member_count = (int)count;
    for (size_t i = 0; i < count && i < MAX_CHILDREN; i++)
        snprintf(c->member_names[i], NAME_BYTES, "%s", members[i]);
    qsort(c->member_names, count < MAX_CHILDREN ? count : MAX_CHILDREN, NAME_BYTES, cmp_name);
}

static int members_as_wanted(void *arg) {
    client *c = arg;
    return c->member_updates > 0 && c->member_count == c->wanted;
}

static void expect_members(const harness *h, int line, const client *w, const char *want) {
    char got[MAX_CHILDREN * NAME_BYTES] = "";
    for (int i = 0; i < w->member_count && i < MAX_CHILDREN; i++) {
        strcat(got, i ? "," : "");
        strcat(got, w->member_names[i]);
    }
    if (strcmp(got, want) != 0)
        fail_at(h, __FILE__, line, "members {%s}, want {%s}", got, want);
}

static void membership_follows_sessions(harness *h) {
    client *w = open_client(h), *m[3];
    EXPECT_RC(h, do_create(w, "/members", NULL, 0)->rc, COORD_OK);
    char dir[PATH_BYTES];
    full_path(h, "/members", dir, sizeof dir);
    w->members_on = 1;
    w->wanted = 0;
    EXPECT_RC(h, recipe_members_watch(&w->members, w->b, w->s, dir, on_members, w), COORD_OK);
    WAIT(h, members_as_wanted, w, h->op_timeout_ns, "the first listing");
    for (int i = 0; i < 3; i++) {
        char rel[64];
        snprintf(rel, sizeof rel, "/members/m%d", i);
        m[i] = open_client(h);
        EXPECT_RC(h, do_create(m[i], rel, "host:port", COORD_EPHEMERAL)->rc, COORD_OK);
    }
    w->wanted = 3;
    WAIT(h, members_as_wanted, w, h->op_timeout_ns, "3 members");
    expect_members(h, __LINE__, w, "m0,m1,m2");
    close_client(m[1]);
    w->wanted = 2;
    WAIT(h, members_as_wanted, w, h->op_timeout_ns, "2 members after a close");
    quiet(h);
    expect_members(h, __LINE__, w, "m0,m2");
}

static void on_value(void *arg, int rc, int64_t value) {
    client *c = arg;
    note_callback(c);
    c->counter_last_rc = rc;
    if (rc != COORD_OK) {
        c->counter_errors++;
        return;
    }
    if (c->value_count < MAX_VALUES)
        c->values[c->value_count] = value;
    if (++c->value_count < COUNTER_STEPS &&
        recipe_counter_next(c->b, c->s, c->counter_path, on_value, c) != 0)
        c->counter_errors++;
}

static int counters_done(void *arg) {
    client **c = arg;
    int total = 0, errors = 0;
    for (int i = 0; i < 3; i++) {
        total += c[i]->value_count;
        errors += c[i]->counter_errors;
    }
    return errors > 0 || total >= 3 * COUNTER_STEPS;
}

/* Three sessions increment one counter 10 times each, concurrently (each waits for its
 * own previous increment): every value 1..30 is handed out exactly once. */
static void counter_is_exact_under_contention(harness *h) {
    client *c[3];
    for (int i = 0; i < 3; i++) {
        c[i] = open_client(h);
        full_path(h, "/checkpoint_id_counter", c[i]->counter_path, sizeof c[i]->counter_path);
    }
    for (int i = 0; i < 3; i++)
        EXPECT_RC(h, recipe_counter_next(c[i]->b, c[i]->s, c[i]->counter_path, on_value, c[i]),
                  COORD_OK);
    WAIT(h, counters_done, c, 3 * h->op_timeout_ns, "30 increments");
    int seen[3 * COUNTER_STEPS + 1] = {0};
    for (int i = 0; i < 3; i++) {
        if (c[i]->counter_errors)
            fail_at(h, __FILE__, __LINE__, "session %d: an increment failed: %s", i,
                    coord_error_name(c[i]->counter_last_rc));
        EXPECT_INT(h, c[i]->value_count, COUNTER_STEPS);
        for (int k = 0; k < COUNTER_STEPS; k++) {
            int64_t v = c[i]->values[k];
            if (v < 1 || v > 3 * COUNTER_STEPS)
                fail_at(h, __FILE__, __LINE__, "value %lld out of 1..30", (long long)v);
            if (seen[v]++)
                fail_at(h, __FILE__, __LINE__, "value %lld handed out twice", (long long)v);
            EXPECT(h, k == 0 || v > c[i]->values[k - 1]); /* one session's values grow */
        }
    }
    EXPECT_STR(h, do_get(c[0], "/checkpoint_id_counter", NULL)->data, "30");
}

static void on_assignment(void *arg, uint64_t generation, const uint32_t *workers, uint32_t count) {
    client *c = arg;
    note_callback(c);
    c->assignment_calls++;
    c->generation = generation;
    c->worker_count = count;
    for (uint32_t i = 0; i < count && i < 8; i++)
        c->workers[i] = workers[i];
}

static int assignment_generation_seen(void *arg) {
    client *c = arg;
    return c->assignment_calls > 0 && c->generation == (uint64_t)c->wanted;
}

static void assignment_write_and_watch(harness *h) {
    client *a = open_client(h), *b = open_client(h);
    char path[PATH_BYTES];
    full_path(h, "/assign", path, sizeof path);
    b->assignment_on = 1;
    EXPECT_RC(h, recipe_assignment_watch(&b->assignment, b->b, b->s, path, on_assignment, b),
              COORD_OK);
    quiet(h);
    EXPECT_INT(h, b->assignment_calls, 0); /* nothing written yet */
    const uint32_t first[3] = {2, 0, 1}, second[4] = {1, 1, 3, 0};
    reply *r = new_reply(a, "assignment write 7");
    EXPECT_RC(h, recipe_assignment_write(a->b, a->s, NULL, path, 7, first, 3, on_done, r),
              COORD_OK);
    EXPECT_RC(h, wait_reply(r)->rc, COORD_OK);
    b->wanted = 7; /* the generation waited for */
    WAIT(h, assignment_generation_seen, b, h->op_timeout_ns, "generation 7 at the watcher");
    EXPECT_INT(h, b->assignment_calls, 1);
    EXPECT_INT(h, b->worker_count, 3);
    EXPECT(h, b->workers[0] == 2 && b->workers[1] == 0 && b->workers[2] == 1);
    r = new_reply(a, "assignment write 8");
    EXPECT_RC(h, recipe_assignment_write(a->b, a->s, NULL, path, 8, second, 4, on_done, r),
              COORD_OK);
    EXPECT_RC(h, wait_reply(r)->rc, COORD_OK);
    b->wanted = 8;
    WAIT(h, assignment_generation_seen, b, h->op_timeout_ns, "generation 8 (the watch re-armed)");
    quiet(h);
    EXPECT_INT(h, b->assignment_calls, 2);
    EXPECT_INT(h, b->worker_count, 4);
    EXPECT(h, b->workers[2] == 3 && b->workers[3] == 0);
}

/* A leader deposed while it still believes it leads (its election node gone, as after its
 * session was lost): its fenced writes fail with NONODE and change nothing, while the new
 * leader's succeed. */
static void fenced_multi_from_a_deposed_leader_fails(harness *h) {
    counting_service *svc = counting_wrap(h);
    client *admin = open_client(h);
    EXPECT_RC(h, do_create(admin, "/election", NULL, 0)->rc, COORD_OK);
    client *old = start_contender(h, svc, "/election");
    WAIT(h, latch_leads, old, h->op_timeout_ns, "the first leader");
    client *next = start_contender(h, svc, "/election");
    WAIT(h, latch_waits, next, h->op_timeout_ns, "the second contender to wait");
    char p1[PATH_BYTES], p2[PATH_BYTES], p3[PATH_BYTES], assign[PATH_BYTES];
    full_path(h, "/commit-1", p1, sizeof p1);
    full_path(h, "/commit-2", p2, sizeof p2);
    full_path(h, "/commit-3", p3, sizeof p3);
    full_path(h, "/assign", assign, sizeof assign);
    coord_op op = {COORD_OP_CREATE, p1, "x", 1, 0, -1};
    reply *r = new_reply(old, "fenced multi");
    EXPECT_RC(h, recipe_fenced_multi(&old->latch, &op, 1, on_done, r), COORD_OK);
    EXPECT_RC(h, wait_reply(r)->rc, COORD_OK);
    /* deposed: its node goes; the next contender takes over */
    char node_rel[PATH_BYTES];
    to_rel(h, old->latch.node, node_rel, sizeof node_rel);
    EXPECT_RC(h, do_delete(admin, node_rel, -1)->rc, COORD_OK);
    WAIT(h, latch_leads, next, h->op_timeout_ns, "the new leader");
    op.path = p2;
    r = new_reply(old, "fenced multi from the deposed leader");
    EXPECT_RC(h, recipe_fenced_multi(&old->latch, &op, 1, on_done, r), COORD_OK);
    wait_reply(r);
    EXPECT_RC(h, r->rc, COORD_NONODE);
    EXPECT_INT(h, r->op_count, 2);
    EXPECT_RC(h, r->op_rcs[0], COORD_NONODE);
    EXPECT_RC(h, r->op_rcs[1], COORD_RUNTIMEINCONSISTENCY);
    EXPECT_RC(h, do_exists(admin, "/commit-2", NULL)->rc, COORD_NONODE);
    const uint32_t workers[2] = {0, 1};
    r = new_reply(old, "fenced assignment from the deposed leader");
    EXPECT_RC(
        h, recipe_assignment_write(old->b, old->s, &old->latch, assign, 9, workers, 2, on_done, r),
        COORD_OK);
    EXPECT_RC(h, wait_reply(r)->rc, COORD_NONODE);
    EXPECT_RC(h, do_exists(admin, "/assign", NULL)->rc, COORD_NONODE);
    /* the new leader's fence holds */
    op.path = p3;
    r = new_reply(next, "fenced multi from the new leader");
    EXPECT_RC(h, recipe_fenced_multi(&next->latch, &op, 1, on_done, r), COORD_OK);
    EXPECT_RC(h, wait_reply(r)->rc, COORD_OK);
    EXPECT_RC(h, do_exists(admin, "/commit-3", NULL)->rc, COORD_OK);
}

/* ---------- groups: one per backend ---------- */

static int run_group(backend_kind *k) {
    struct CMUnitTest tests[TEST_COUNT];
    for (size_t i = 0; i < TEST_COUNT; i++) {
        k->slots[i] = (test_slot){k, &test_list[i]};
        snprintf(k->test_names[i], sizeof k->test_names[i], "%s.%s", k->name, test_list[i].name);
        tests[i] = (struct CMUnitTest){.name = k->test_names[i],
                                       .test_func = run_one_test,
                                       .setup_func = setup,
                                       .teardown_func = teardown,
                                       .initial_state = &k->slots[i]};
    }
    return cmocka_run_group_tests_name(k->name, tests, NULL, NULL);
}

#ifdef SHARDSIM_HAVE_ZOOKEEPER
static void zookeeper_server_unavailable(void **state) {
    (void)state;
    const char *ci = getenv("CI");
    if (ci && strcmp(ci, "true") == 0)
        fail_msg("[zookeeper] ZK_CONNECT is unset and CI=true: CI must run this suite against a "
                 "server (tests/zk_server.sh run DIR standalone -- CMD)");
    print_message("[zookeeper] skipped: ZK_CONNECT is unset (tests/zk_server.sh run DIR "
                  "standalone -- build/release/tests/test_conformance runs it on a throwaway "
                  "server)\n");
    skip();
}

/* Remove the run's root folder, after its tests (outside them: a failure here ends the
 * process, as cmocka does outside a test). */
static void remove_root(backend_kind *k) {
    char err[256] = "";
    harness *h = harness_new(k, err, sizeof err);
    if (!h)
        return;
    client *c = open_client(h);
    delete_tree(c, "", 0);
    c->reply_count = 0;
    do_delete(c, "", -1);
    harness_free(h, 0);
}

static int run_zookeeper(void) {
    static backend_kind zk = {.name = "zookeeper", .make = rt_make};
    const char *connect = getenv("ZK_CONNECT");
    if (!connect || !*connect) {
        const struct CMUnitTest unavailable[] = {
            {"zookeeper.server_unavailable", zookeeper_server_unavailable, NULL, NULL, NULL}};
        return cmocka_run_group_tests_name("zookeeper", unavailable, NULL, NULL);
    }
    snprintf(zk.root, sizeof zk.root, "/conf-%ld-%lld", (long)getpid(), (long long)time(NULL));
    print_message("[zookeeper] %s, root %s\n", connect, zk.root);
    int failures = run_group(&zk);
    if (!zk.unreachable)
        remove_root(&zk);
    return failures;
}
#endif

int main(void) {
    static backend_kind mock = {.name = "mock", .make = sim_make, .root = "/conformance"};
    const char *filter = getenv("CONFORMANCE_FILTER");
    if (filter && *filter)
        cmocka_set_test_filter(filter);
    int failures = run_group(&mock);
#ifdef SHARDSIM_HAVE_ZOOKEEPER
    failures += run_zookeeper();
#else
    print_message("[zookeeper] skipped: built without the ZooKeeper client "
                  "(SHARDSIM_HAVE_ZOOKEEPER)\n");
#endif
    return failures ? 1 : 0;
}
