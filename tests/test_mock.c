/* test_mock.c -- the in-process ZooKeeper model against ZooKeeper's semantics: every
 * operation and error code, sequential numbering across deletes, one-shot watches and
 * their ordering, multi atomicity, and session expiry edge cases, in virtual time. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "backends/coord.h"
#include "backends/mock/mock.h"
#include "core/error.h"
#include "sim/env_sim.h"

#define SEC 1000000000ULL
#define MAX_LOG 64

/* What a client saw: completions, watch events and state changes, in order. */
typedef struct entry {
    char kind; /* 'd' done, 'w' watch, 's' state */
    int rc;    /* done: rc; watch: event; state: state */
    uint64_t at_ns;
    char path[128];
    char data[64];
    int32_t version;
    int64_t czxid;
    size_t children;
    char first_child[64];
    int op_rcs[4];
} entry;

typedef struct client {
    coord_session *s;
    env_sim *env;
    entry log[MAX_LOG];
    int n;
} client;

typedef struct world {
    env_sim env;
    mock_zk *zk;
    client a, b;
} world;

static entry *next(client *c, char kind) {
    assert_true(c->n < MAX_LOG);
    entry *e = &c->log[c->n++];
    memset(e, 0, sizeof *e);
    e->kind = kind;
    e->at_ns = c->env->now_ns;
    return e;
}

static void on_done(void *arg, int rc, const coord_result *r) {
    client *c = arg;
    entry *e = next(c, 'd');
    e->rc = rc;
    if (!r)
        return;
    if (r->path)
        snprintf(e->path, sizeof e->path, "%s", r->path);
    if (r->data)
        snprintf(e->data, sizeof e->data, "%.*s", (int)r->data_len, (const char *)r->data);
    e->version = r->stat.version;
    e->czxid = r->stat.czxid;
    e->children = r->child_count;
    if (r->child_count)
        snprintf(e->first_child, sizeof e->first_child, "%s", r->children[0]);
    for (size_t i = 0; i < r->op_count && i < 4; i++)
        e->op_rcs[i] = r->op_rcs[i];
}

static void on_watch(void *arg, int event, const char *path) {
    client *c = arg;
    entry *e = next(c, 'w');
    e->rc = event;
    snprintf(e->path, sizeof e->path, "%s", path);
}

static void on_state(void *arg, int state) {
    client *c = arg;
    next(c, 's')->rc = state;
}

static void open_client(world *w, client *c, uint64_t timeout_ns) {
    memset(c, 0, sizeof *c);
    c->env = &w->env;
    c->s = malloc(mock_backend.session_size);
    assert_non_null(c->s);
    assert_int_equal(mock_backend.open(w->zk, c->s, timeout_ns, on_state, c), 0);
}

static int setup(void **state) {
    world *w = calloc(1, sizeof *w);
    if (!w || env_sim_init(&w->env) != 0 || mock_create(&w->env.env, NULL, &w->zk) != 0)
        return -1;
    open_client(w, &w->a, 4 * SEC);
    open_client(w, &w->b, 4 * SEC);
    env_sim_run_until(&w->env, w->env.now_ns + SEC / 10);
    *state = w;
    return 0;
}

static int teardown(void **state) {
    world *w = *state;
    /* close what is still open (stopping its timers), then let every reply land */
    mock_backend.close(w->a.s, NULL, NULL);
    mock_backend.close(w->b.s, NULL, NULL);
    env_sim_run_until(&w->env, w->env.now_ns + 1000 * SEC);
    mock_free(w->zk);
    env_sim_free(&w->env);
    free(w->a.s);
    free(w->b.s);
    free(w);
    return 0;
}

/* Run until c has at least n more log entries (bounded). */
static entry *wait_for(world *w, client *c, int n0) {
    for (int i = 0; i < 1000 && c->n <= n0; i++)
        env_sim_run_until(&w->env, w->env.now_ns + SEC / 100);
    assert_true(c->n > n0);
    return &c->log[n0];
}

static int do_create(world *w, client *c, const char *path, const char *data, int flags,
                     char *actual) {
    int n0 = c->n;
    assert_int_equal(
        coord_create(&mock_backend, c->s, path, data, data ? strlen(data) : 0, flags, on_done, c),
        0);
    assert_int_equal(c->n, n0); /* never inside the call */
    entry *e = wait_for(w, c, n0);
    if (actual)
        strcpy(actual, e->path);
    return e->rc;
}

static int do_delete(world *w, client *c, const char *path, int32_t version) {
    int n0 = c->n;
    assert_int_equal(coord_remove(&mock_backend, c->s, path, version, on_done, c), 0);
    return wait_for(w, c, n0)->rc;
}

static entry *do_set(world *w, client *c, const char *path, const char *data, int32_t version) {
    int n0 = c->n;
    assert_int_equal(coord_set(&mock_backend, c->s, path, data, strlen(data), version, on_done, c),
                     0);
    return wait_for(w, c, n0);
}

static entry *do_get(world *w, client *c, const char *path, int watch) {
    int n0 = c->n;
    assert_int_equal(coord_get(&mock_backend, c->s, path, watch ? on_watch : NULL, c, on_done, c),
                     0);
    return wait_for(w, c, n0);
}

static int do_exists(world *w, client *c, const char *path, int watch) {
    int n0 = c->n;
    assert_int_equal(
        coord_exists(&mock_backend, c->s, path, watch ? on_watch : NULL, c, on_done, c), 0);
    return wait_for(w, c, n0)->rc;
}

static void crud_and_error_codes(void **state) {
    world *w = *state;
    client *a = &w->a;
    assert_int_equal(a->log[0].kind, 's');
    assert_int_equal(a->log[0].rc, COORD_STATE_CONNECTED);
    char path[128];
    assert_int_equal(do_create(w, a, "/app", "v0", 0, path), COORD_OK);
    assert_string_equal(path, "/app");
    assert_int_equal(do_create(w, a, "/app", "x", 0, NULL), COORD_NODEEXISTS);
    assert_int_equal(do_create(w, a, "/none/child", "x", 0, NULL), COORD_NONODE);
    entry *e = do_get(w, a, "/app", 0);
    assert_int_equal(e->rc, COORD_OK);
    assert_string_equal(e->data, "v0");
    assert_int_equal(e->version, 0);
    assert_int_equal(do_set(w, a, "/app", "v1", 0)->rc, COORD_OK);
    assert_int_equal(do_set(w, a, "/app", "v2", 0)->rc, COORD_BADVERSION);
    assert_int_equal(do_set(w, a, "/app", "v2", -1)->version, 2);
    assert_int_equal(do_set(w, a, "/nope", "x", -1)->rc, COORD_NONODE);
    assert_int_equal(do_create(w, a, "/app/x", "", 0, NULL), COORD_OK);
    assert_int_equal(do_create(w, a, "/app/a", "", 0, NULL), COORD_OK);
    assert_int_equal(do_delete(w, a, "/app", -1), COORD_NOTEMPTY);
    assert_int_equal(do_delete(w, a, "/app/x", 7), COORD_BADVERSION);
    int n0 = a->n;
    coord_children(&mock_backend, a->s, "/app", NULL, NULL, on_done, a);
    e = wait_for(w, a, n0);
    assert_int_equal(e->children, 2);
    assert_string_equal(e->first_child, "a"); /* sorted */
    assert_int_equal(do_delete(w, a, "/app/x", 0), COORD_OK);
    assert_int_equal(do_delete(w, a, "/app/x", -1), COORD_NONODE);
    assert_int_equal(do_exists(w, a, "/app/x", 0), COORD_NONODE);
    assert_int_equal(do_exists(w, a, "/app/a", 0), COORD_OK);
    /* the checked wrappers refuse bad arguments without calling the backend */
    assert_int_equal(coord_create(&mock_backend, a->s, "app", "", 0, 0, on_done, a),
                     COORD_BADARGUMENTS);
    assert_int_equal(coord_create(&mock_backend, a->s, "/a//b", "", 0, 0, on_done, a),
                     COORD_BADARGUMENTS);
    assert_int_equal(coord_create(&mock_backend, a->s, "/a/", "", 0, 0, on_done, a),
                     COORD_BADARGUMENTS);
    assert_int_equal(coord_set(&mock_backend, a->s, "/a", "", COORD_MAX_DATA + 1, -1, on_done, a),
                     COORD_BADARGUMENTS);
    assert_string_equal(coord_error_name(COORD_NOCHILDRENFOREPHEMERALS), "NOCHILDRENFOREPHEMERALS");
}

static void ephemerals_and_sequentials(void **state) {
    world *w = *state;
    client *a = &w->a, *b = &w->b;
    assert_int_equal(do_create(w, a, "/e", "", COORD_EPHEMERAL, NULL), COORD_OK);
    assert_int_equal(do_create(w, a, "/e/child", "", 0, NULL), COORD_NOCHILDRENFOREPHEMERALS);
    assert_int_equal(do_create(w, b, "/q", "", 0, NULL), COORD_OK);
    char p[128];
    for (int i = 0; i < 3; i++) {
        assert_int_equal(do_create(w, b, "/q/n-", "", COORD_SEQUENTIAL, p), COORD_OK);
        char want[64];
        snprintf(want, sizeof want, "/q/n-%010d", i);
        assert_string_equal(p, want);
    }
    assert_int_equal(do_delete(w, b, "/q/n-0000000002", -1), COORD_OK);
    assert_int_equal(do_create(w, b, "/q/n-", "", COORD_SEQUENTIAL | COORD_EPHEMERAL, p), COORD_OK);
    /* never reused after a delete: the suffix counts creations (ZooKeeper 3.8) */
    assert_string_equal(p, "/q/n-0000000003");
    /* closing a's session removes its ephemeral, and b sees it go */
    assert_int_equal(do_exists(w, b, "/e", 1), COORD_OK);
    int n0 = a->n;
    mock_backend.close(a->s, on_done, a);
    wait_for(w, a, n0);
    entry *e = wait_for(w, b, b->n - 1 + 0); /* latest */
    (void)e;
    for (int i = 0; i < 100 && b->log[b->n - 1].kind != 'w'; i++)
        env_sim_run_until(&w->env, w->env.now_ns + SEC / 100);
    assert_int_equal(b->log[b->n - 1].kind, 'w');
    assert_int_equal(b->log[b->n - 1].rc, COORD_EVENT_DELETED);
    assert_int_equal(do_exists(w, b, "/e", 0), COORD_NONODE);
    /* after close, a's operations are refused at once */
    assert_int_equal(coord_create(&mock_backend, a->s, "/late", "", 0, 0, on_done, a),
                     COORD_INVALIDSTATE);
}

static void watches_fire_once_before_the_data(void **state) {
    world *w = *state;
    client *a = &w->a, *b = &w->b;
    assert_int_equal(do_create(w, a, "/w", "0", 0, NULL), COORD_OK);
    do_get(w, b, "/w", 1);
    int nb = b->n;
    entry *set = do_set(w, a, "/w", "1", -1);
    uint64_t set_reply = set->at_ns;
    for (int i = 0; i < 100 && b->n == nb; i++)
        env_sim_run_until(&w->env, w->env.now_ns + SEC / 100);
    assert_int_equal(b->n, nb + 1);
    entry *ev = &b->log[nb];
    assert_int_equal(ev->kind, 'w');
    assert_int_equal(ev->rc, COORD_EVENT_DATA_CHANGED);
    assert_string_equal(ev->path, "/w");
    assert_true(ev->at_ns <= set_reply); /* b learns of the change no later than a's reply */
    /* one-shot: a second change fires nothing */
    do_set(w, a, "/w", "2", -1);
    env_sim_run_until(&w->env, w->env.now_ns + SEC);
    assert_int_equal(b->n, nb + 1);
    /* exists on a missing node watches its creation; children watches children */
    assert_int_equal(do_exists(w, b, "/later", 1), COORD_NONODE);
    int n0 = b->n;
    coord_children(&mock_backend, b->s, "/w", on_watch, b, on_done, b);
    wait_for(w, b, n0);
    n0 = b->n;
    assert_int_equal(do_create(w, a, "/later", "", 0, NULL), COORD_OK);
    assert_int_equal(do_create(w, a, "/w/kid", "", 0, NULL), COORD_OK);
    env_sim_run_until(&w->env, w->env.now_ns + SEC);
    assert_int_equal(b->n, n0 + 2);
    assert_int_equal(b->log[n0].rc, COORD_EVENT_CREATED);
    assert_int_equal(b->log[n0 + 1].rc, COORD_EVENT_CHILDREN_CHANGED);
}

static void multi_is_all_or_nothing(void **state) {
    world *w = *state;
    client *a = &w->a;
    coord_op bad[] = {
        {COORD_OP_CREATE, "/m1", "x", 1, 0, -1},
        {COORD_OP_CREATE, "/m2", "y", 1, 0, -1},
        {COORD_OP_CHECK, "/m1", NULL, 0, 0, 5},
    };
    int n0 = a->n;
    assert_int_equal(coord_multi(&mock_backend, a->s, bad, 3, on_done, a), 0);
    entry *e = wait_for(w, a, n0);
    assert_int_equal(e->rc, COORD_BADVERSION);
    assert_int_equal(e->op_rcs[0], COORD_OK); /* as ZooKeeper reports the ops before */
    assert_int_equal(e->op_rcs[2], COORD_BADVERSION);
    assert_int_equal(do_exists(w, a, "/m1", 0), COORD_NONODE);
    assert_int_equal(do_exists(w, a, "/m2", 0), COORD_NONODE);
    coord_op good[] = {
        {COORD_OP_CREATE, "/m1", "x", 1, 0, -1},
        {COORD_OP_CREATE, "/m2", "y", 1, 0, -1},
        {COORD_OP_CHECK, "/m1", NULL, 0, 0, 0},
        {COORD_OP_SET, "/m2", "z", 1, 0, 0},
    };
    n0 = a->n;
    assert_int_equal(coord_multi(&mock_backend, a->s, good, 4, on_done, a), 0);
    assert_int_equal(wait_for(w, a, n0)->rc, COORD_OK);
    entry *g1 = do_get(w, a, "/m1", 0);
    int64_t z1 = g1->czxid;
    entry *g2 = do_get(w, a, "/m2", 0);
    assert_string_equal(g2->data, "z");
    assert_int_equal(g2->czxid, z1); /* one transaction */
}

static void killed_client_expires_between_two_thirds_t_and_t_plus_tick(void **state) {
    world *w = *state;
    client *a = &w->a, *b = &w->b;
    assert_int_equal(mock_backend.session_timeout_ns(a->s), 4 * SEC);
    assert_int_equal(do_create(w, a, "/leader", "", COORD_EPHEMERAL, NULL), COORD_OK);
    env_sim_run_until(&w->env, w->env.now_ns + SEC); /* some idle time: pings */
    assert_int_equal(do_exists(w, b, "/leader", 1), COORD_OK);
    uint64_t death = w->env.now_ns;
    mock_kill_client(w->zk, a->s);
    int n0 = b->n;
    for (int i = 0; i < 2000 && b->n == n0; i++)
        env_sim_run_until(&w->env, w->env.now_ns + SEC / 100);
    assert_int_equal(b->log[n0].rc, COORD_EVENT_DELETED);
    uint64_t gone = b->log[n0].at_ns - death;
    assert_true(gone >= 4 * SEC * 2 / 3 - SEC / 100);
    assert_true(gone <= 4 * SEC + 2 * SEC + SEC / 100);
    assert_int_equal(mock_sessions_expired(w->zk), 1);
}

static void partition_disconnects_then_expires(void **state) {
    world *w = *state;
    client *a = &w->a, *b = &w->b;
    /* a short cut (< 2/3 T): a stays connected */
    mock_partition_client(w->zk, a->s, SEC);
    env_sim_run_until(&w->env, w->env.now_ns + 3 * SEC);
    for (int i = 0; i < a->n; i++)
        assert_false(a->log[i].kind == 's' && a->log[i].rc == COORD_STATE_DISCONNECTED);
    /* a long cut: disconnected, operations lost, expired when it comes back */
    assert_int_equal(do_create(w, a, "/lock", "", COORD_EPHEMERAL, NULL), COORD_OK);
    int n0 = a->n;
    mock_partition_client(w->zk, a->s, 20 * SEC);
    assert_int_equal(do_create(w, a, "/cut", "", 0, NULL), COORD_CONNECTIONLOSS);
    env_sim_run_until(&w->env, w->env.now_ns + 30 * SEC);
    int disconnected = 0, expired = 0;
    for (int i = n0; i < a->n; i++) {
        disconnected |= a->log[i].kind == 's' && a->log[i].rc == COORD_STATE_DISCONNECTED;
        if (a->log[i].kind == 's' && a->log[i].rc == COORD_STATE_EXPIRED) {
            expired = 1;
            assert_true(disconnected); /* suspended first, expired only on reconnection */
        }
    }
    assert_true(disconnected && expired);
    assert_int_equal(do_exists(w, b, "/lock", 0), COORD_NONODE);
    assert_int_equal(do_create(w, a, "/after", "", 0, NULL), COORD_SESSIONEXPIRED);
}

static void expiry_edge_cases(void **state) {
    world *w = *state;
    client *a = &w->a, *b = &w->b;
    assert_int_equal(do_create(w, b, "/x", "0", 0, NULL), COORD_OK);
    /* a watch set by a session that then expires never fires */
    do_get(w, a, "/x", 1);
    int na = a->n;
    /* expiry during an operation: the request is in flight when the session ends */
    coord_set(&mock_backend, a->s, "/x", "1", 1, -1, on_done, a);
    mock_expire_session(w->zk, a->s);
    env_sim_run_until(&w->env, w->env.now_ns + SEC / 10);
    assert_int_equal(a->log[na].kind, 'd');
    assert_int_equal(a->log[na].rc, COORD_SESSIONEXPIRED);
    do_set(w, b, "/x", "2", -1);
    env_sim_run_until(&w->env, w->env.now_ns + 5 * SEC);
    for (int i = na; i < a->n; i++)
        assert_int_not_equal(a->log[i].kind, 'w');
    /* close with outstanding operations: they complete first, in order */
    int nb = b->n;
    coord_create(&mock_backend, b->s, "/o1", "", 0, 0, on_done, b);
    coord_get(&mock_backend, b->s, "/x", NULL, NULL, on_done, b);
    mock_backend.close(b->s, on_done, b);
    /* nothing of a session runs after its close: a later call is refused at once */
    assert_int_equal(coord_create(&mock_backend, b->s, "/o2", "", 0, 0, on_done, b),
                     COORD_INVALIDSTATE);
    env_sim_run_until(&w->env, w->env.now_ns + SEC);
    assert_int_equal(b->n, nb + 3);
    assert_int_equal(b->log[nb].rc, COORD_OK);
    assert_string_equal(b->log[nb].path, "/o1");
    assert_string_equal(b->log[nb + 1].data, "2");
    assert_int_equal(b->log[nb + 2].rc, COORD_OK); /* the close */
    assert_true(b->log[nb].at_ns <= b->log[nb + 1].at_ns &&
                b->log[nb + 1].at_ns <= b->log[nb + 2].at_ns);
}

static void timeouts_are_clamped(void **state) {
    world *w = *state;
    client c, d;
    open_client(w, &c, SEC);
    open_client(w, &d, 100 * SEC);
    assert_int_equal(mock_backend.session_timeout_ns(c.s), 4 * SEC);  /* 2 ticks */
    assert_int_equal(mock_backend.session_timeout_ns(d.s), 40 * SEC); /* 20 ticks */
    assert_true(mock_backend.session_id(d.s) > mock_backend.session_id(c.s));
    mock_backend.close(c.s, NULL, NULL);
    mock_backend.close(d.s, NULL, NULL);
    env_sim_run_until(&w->env, w->env.now_ns + SEC);
    free(c.s);
    free(d.s);
}

/* An ensemble of three: a leader crash stalls writes for an election; losing quorum
 * for longer than the session timeout expires nobody. */
static int setup_ensemble(void **state) {
    world *w = calloc(1, sizeof *w);
    mock_config cfg;
    mock_config_defaults(&cfg);
    cfg.servers = 3;
    if (!w || env_sim_init(&w->env) != 0 || mock_create(&w->env.env, &cfg, &w->zk) != 0)
        return -1;
    open_client(w, &w->a, 4 * SEC);
    open_client(w, &w->b, 4 * SEC);
    env_sim_run_until(&w->env, w->env.now_ns + SEC / 10);
    *state = w;
    return 0;
}

static void leader_loss_stalls_for_an_election(void **state) {
    world *w = *state;
    client *a = &w->a;
    assert_true(mock_available(w->zk));
    mock_crash_server(w->zk, 1); /* a follower: nothing stalls */
    assert_true(mock_available(w->zk));
    assert_int_equal(do_create(w, a, "/x", "", 0, NULL), COORD_OK);
    mock_crash_server(w->zk, 0); /* the leader, and with it the quorum */
    assert_false(mock_available(w->zk));
    mock_restart_server(w->zk, 1); /* quorum again: an election (1 s) */
    assert_false(mock_available(w->zk));
    uint64_t t0 = w->env.now_ns;
    env_sim_run_until(&w->env, t0 + SEC + SEC / 100);
    assert_true(mock_available(w->zk));
    assert_int_equal(do_create(w, a, "/y", "", 0, NULL), COORD_OK);
}

static void no_quorum_expires_nobody(void **state) {
    world *w = *state;
    client *a = &w->a, *b = &w->b;
    assert_int_equal(do_create(w, a, "/eph", "", COORD_EPHEMERAL, NULL), COORD_OK);
    int n0 = a->n;
    mock_crash_server(w->zk, 0);
    mock_crash_server(w->zk, 2);
    assert_int_equal(do_create(w, b, "/during", "", 0, NULL), COORD_CONNECTIONLOSS);
    env_sim_run_until(&w->env, w->env.now_ns + 12 * SEC); /* 3 x the session timeout */
    assert_int_equal(mock_sessions_expired(w->zk), 0);
    mock_restart_server(w->zk, 2);
    env_sim_run_until(&w->env, w->env.now_ns + 3 * SEC);
    int disconnected = 0, reconnected = 0, expired = 0;
    for (int i = n0; i < a->n; i++)
        if (a->log[i].kind == 's') {
            disconnected |= a->log[i].rc == COORD_STATE_DISCONNECTED;
            reconnected |= disconnected && a->log[i].rc == COORD_STATE_CONNECTED;
            expired |= a->log[i].rc == COORD_STATE_EXPIRED;
        }
    assert_true(disconnected && reconnected && !expired);
    assert_int_equal(do_exists(w, b, "/eph", 0), COORD_OK); /* the session survived */
}

/* Three servers whose followers apply commits 1 s after the leader: client a sits on
 * the leader (server 0), b on a follower (server 1). */
static int setup_lagging(void **state) {
    world *w = calloc(1, sizeof *w);
    mock_config cfg;
    mock_config_defaults(&cfg);
    cfg.servers = 3;
    cfg.follower_lag_ns = SEC;
    if (!w || env_sim_init(&w->env) != 0 || mock_create(&w->env.env, &cfg, &w->zk) != 0)
        return -1;
    open_client(w, &w->a, 10 * SEC);
    open_client(w, &w->b, 10 * SEC);
    env_sim_run_until(&w->env, w->env.now_ns + SEC / 10);
    *state = w;
    return 0;
}

static int do_sync(world *w, client *c, const char *path) {
    int n0 = c->n;
    assert_int_equal(coord_sync(&mock_backend, c->s, path, on_done, c), 0);
    return wait_for(w, c, n0)->rc;
}

static void follower_reads_lag_until_sync(void **state) {
    world *w = *state;
    client *a = &w->a, *b = &w->b;
    assert_int_equal(do_create(w, a, "/x", "v0", 0, NULL), COORD_OK);
    assert_int_equal(do_get(w, b, "/x", 0)->rc, COORD_NONODE); /* b's server is behind */
    assert_int_equal(do_sync(w, b, "/x"), COORD_OK);
    entry *e = do_get(w, b, "/x", 0);
    assert_int_equal(e->rc, COORD_OK);
    assert_string_equal(e->data, "v0");
    /* a new value: b reads the old one, and its watch fires when its server applies */
    uint64_t t0 = w->env.now_ns;
    assert_int_equal(do_set(w, a, "/x", "v1", -1)->rc, COORD_OK);
    assert_string_equal(do_get(w, b, "/x", 1)->data, "v0");
    int n0 = b->n;
    e = wait_for(w, b, n0);
    assert_int_equal(e->kind, 'w');
    assert_int_equal(e->rc, COORD_EVENT_DATA_CHANGED);
    assert_true(e->at_ns >= t0 + SEC);
    assert_string_equal(do_get(w, b, "/x", 0)->data, "v1");
    /* b's own write: answered once its server has it, and b reads it back at once */
    t0 = w->env.now_ns;
    e = do_set(w, b, "/x", "v2", -1);
    assert_int_equal(e->rc, COORD_OK);
    assert_true(e->at_ns >= t0 + SEC);
    assert_string_equal(do_get(w, b, "/x", 0)->data, "v2");
    /* pipelined: a write then a read sent together still read the write */
    n0 = b->n;
    coord_set(&mock_backend, b->s, "/x", "v3", 2, -1, on_done, b);
    coord_get(&mock_backend, b->s, "/x", NULL, NULL, on_done, b);
    wait_for(w, b, n0);
    wait_for(w, b, n0 + 1);
    assert_string_equal(b->log[n0 + 1].data, "v3");
    /* the leader's client sees everything at once */
    assert_string_equal(do_get(w, a, "/x", 0)->data, "v3");
}

static void clients_of_a_crashed_server_move(void **state) {
    world *w = *state;
    client *a = &w->a, *b = &w->b;
    assert_int_equal(do_create(w, b, "/eb", "", COORD_EPHEMERAL, NULL), COORD_OK);
    uint64_t id = mock_backend.session_id(b->s);
    int n0 = b->n;
    uint64_t t0 = w->env.now_ns;
    mock_crash_server(w->zk, 1); /* b's server */
    assert_int_equal(b->log[n0].kind, 's');
    assert_int_equal(b->log[n0].rc, COORD_STATE_DISCONNECTED); /* at once */
    entry *e = wait_for(w, b, n0 + 1);
    assert_int_equal(e->rc, COORD_STATE_CONNECTED);
    assert_true(e->at_ns < t0 + SEC / 5);
    assert_int_equal(mock_backend.session_id(b->s), id);
    env_sim_run_until(&w->env, w->env.now_ns + 30 * SEC);
    assert_int_equal(do_exists(w, a, "/eb", 0), COORD_OK); /* the session lived on */
    assert_int_equal(mock_sessions_expired(w->zk), 0);
    assert_int_equal(do_create(w, b, "/eb2", "", 0, NULL), COORD_OK);
    /* its new server (2) lags too, but never behind what b has seen */
    assert_int_equal(do_exists(w, b, "/eb2", 0), COORD_OK);
    mock_restart_server(w->zk, 1);
    assert_int_equal(do_sync(w, b, "/eb2"), COORD_OK);
}

/* Latency profiles: what save writes, load reads back; bad files name their line. */
static void profiles_round_trip_and_reject_bad_lines(void **state) {
    (void)state;
    const char *path = "test_mock_profile.ini";
    mock_config c, d;
    mock_config_defaults(&c);
    c.follower_lag_ns = 250000;
    c.op_median_ns[0] = 1900000; /* create */
    c.op_sigma[0] = 0.4;
    c.op_median_ns[3] = 300000; /* get */
    c.op_sigma[3] = 0.0;
    assert_int_equal(mock_profile_save(path, &c, "test"), 0);
    mock_config_defaults(&d);
    char err[256];
    assert_int_equal(mock_profile_load(path, &d, err, sizeof err), 0);
    assert_int_equal(d.follower_lag_ns, 250000);
    assert_true(fabs(d.op_median_ns[0] - 1900000) < 1);
    assert_true(fabs(d.op_sigma[0] - 0.4) < 1e-6);
    assert_true(fabs(d.op_median_ns[3] - 300000) < 1);
    assert_true(d.op_median_ns[1] == 0); /* delete: not in the profile */
    const char *bad[][2] = {
        {"[create]\nmedian_us = 1\np99_us = x\n", ":3: p99_us: expected a number"},
        {"[profile]\nfollower_lag_us = 1\n[nope]\nmedian_us = 1\n", ":4: unknown section [nope]"},
        {"[get]\nmedian_us = 10\np99_us = 5\n", "[get] needs median_us and p99_us >= median_us"},
        {"[get]\nwhat\n", ":2: not an INI line"},
        /* found by tests/fuzz/fuzz_profile: an arbitrary lag, an infinite sigma or median */
        {"[profile]\nfollower_lag_us = 1e300\n", ":2: follower_lag_us: expected at most 1e15"},
        {"[create]\nmedian_us = 1e-300\np99_us = 1e15\n",
         "[create] p99_us / median_us is too large"},
        {"[get]\nmedian_us = 1e306\n", ":2: expected median_us or p99_us > 0 and <= 1e15"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(bad[i][0], f);
        fclose(f);
        mock_config e;
        mock_config_defaults(&e);
        assert_int_equal(mock_profile_load(path, &e, err, sizeof err), SS_EINVAL);
        if (!strstr(err, bad[i][1]))
            fail_msg("got '%s', want '%s'", err, bad[i][1]);
        assert_true(e.op_median_ns[3] == 0); /* left alone */
    }
    /* the reference figures of a calibrated profile: written, read back, optional */
    static mock_profile_reference ref, back;
    snprintf(ref.source, sizeof ref.source, "ZooKeeper 3.8.0 standalone at 127.0.0.1:2181");
    ref.tick_ms = 2000;
    ref.watch_median_us = 650;
    ref.watch_p99_us = 1200;
    ref.failover[0] = (mock_profile_figure){4, 3900, 3000, 5200, 2800, 5900, 20};
    ref.failover[1] = (mock_profile_figure){10, 9800, 7300, 11500, 6900, 11900, 21};
    ref.failover_count = 2;
    ref.failover_close[0] = (mock_profile_figure){4, 2.5, 2, 3, 1.5, 4, 20};
    ref.failover_close_count = 1;
    ref.member_loss[0] = (mock_profile_figure){1.5, 1200, 1000, 1400, 950, 1500, 5};
    ref.member_loss_count = 1;
    assert_int_equal(mock_profile_save_reference(path, &c, &ref), 0);
    mock_config_defaults(&d);
    assert_int_equal(mock_profile_read(path, &d, &back, err, sizeof err), 0);
    assert_true(fabs(d.op_median_ns[0] - 1900000) < 1); /* the latencies as before */
    assert_string_equal(back.source, ref.source);
    assert_true(back.tick_ms == 2000 && back.watch_median_us == 650 && back.watch_p99_us == 1200);
    assert_int_equal(back.failover_count, 2);
    assert_int_equal(back.failover_close_count, 1);
    assert_int_equal(back.member_loss_count, 1);
    const mock_profile_figure *want[] = {&ref.failover[0], &ref.failover[1], &ref.failover_close[0],
                                         &ref.member_loss[0]};
    const mock_profile_figure *got[] = {&back.failover[0], &back.failover[1],
                                        &back.failover_close[0], &back.member_loss[0]};
    for (size_t i = 0; i < 4; i++) {
        assert_true(got[i]->timeout_s == want[i]->timeout_s);
        assert_true(fabs(got[i]->median_ms - want[i]->median_ms) < 1e-3);
        assert_true(fabs(got[i]->p10_ms - want[i]->p10_ms) < 1e-3);
        assert_true(fabs(got[i]->p90_ms - want[i]->p90_ms) < 1e-3);
        assert_true(fabs(got[i]->min_ms - want[i]->min_ms) < 1e-3);
        assert_true(fabs(got[i]->max_ms - want[i]->max_ms) < 1e-3);
        assert_int_equal(got[i]->trials, want[i]->trials);
    }
    mock_config_defaults(&d); /* the model's loader takes the same file */
    assert_int_equal(mock_profile_load(path, &d, err, sizeof err), 0);
    const char *bad_ref[][2] = {
        {"[failover T=4]\nmedian_ms = 1\n", "needs median_ms, p10_ms"},
        {"[failover T=x]\nmedian_ms = 1\n", "expected a timeout in seconds"},
        {"[member_loss T=4]\nmedian_ms = 1\nmedian_ms = 2\n", "given twice"},
        {"[failover T=4]\nmean_ms = 1\n", "unknown key 'mean_ms'"},
        {"[failover T=4]\nmedian_ms = 5\np10_ms = 6\np90_ms = 7\nmin_ms = 1\nmax_ms = 9\n"
         "trials = 3\n",
         "min <= p10 <= median"},
        {"[failover T=4]\ntrials = 2.5\n", "trials: expected a whole number"},
        {"[watch]\nmedian_us = 5\n", "[watch] needs median_us and p99_us"}};
    for (size_t i = 0; i < sizeof bad_ref / sizeof bad_ref[0]; i++) {
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(bad_ref[i][0], f);
        fclose(f);
        if (mock_profile_read(path, NULL, &back, err, sizeof err) != SS_EINVAL ||
            !strstr(err, bad_ref[i][1]))
            fail_msg("got '%s', want '%s'", err, bad_ref[i][1]);
    }
    remove(path);
    assert_int_equal(mock_profile_load("/nonexistent/p.ini", &d, err, sizeof err), SS_EINVAL);
    assert_non_null(strstr(err, "cannot open"));
}

/* A client cut off from the service hears of a change only once it is back. */
static void watch_events_wait_for_the_connection(void **state) {
    world *w = *state;
    client *a = &w->a, *b = &w->b;
    assert_int_equal(do_create(w, a, "/w", "x", 0, NULL), COORD_OK);
    assert_int_equal(do_get(w, b, "/w", 1)->rc, COORD_OK);
    uint64_t t0 = w->env.now_ns;
    mock_partition_client(w->zk, b->s, 2 * SEC);
    int n0 = b->n;
    assert_int_equal(do_set(w, a, "/w", "y", -1)->rc, COORD_OK);
    env_sim_run_until(&w->env, t0 + SEC);
    assert_int_equal(b->n, n0); /* nothing yet */
    env_sim_run_until(&w->env, t0 + 3 * SEC);
    assert_true(b->n > n0);
    assert_int_equal(b->log[n0].kind, 'w');
    assert_int_equal(b->log[n0].rc, COORD_EVENT_DATA_CHANGED);
    assert_true(b->log[n0].at_ns >= t0 + 2 * SEC);
}

static int events_of(const client *c, int from) {
    int n = 0;
    for (int i = from; i < c->n; i++)
        n += c->log[i].kind == 'w';
    return n;
}

/* A read whose answer a dropped connection lost arms no watch -- and takes none away:
 * the same watcher armed by an earlier read still fires. */
static void lost_reads_arm_no_watch(void **state) {
    world *w = *state;
    client *a = &w->a, *b = &w->b;
    assert_int_equal(do_create(w, b, "/w", "x", 0, NULL), COORD_OK);
    assert_int_equal(do_get(w, a, "/w", 1)->rc, COORD_OK); /* armed */
    int n0 = a->n;
    assert_int_equal(coord_get(&mock_backend, a->s, "/w", on_watch, a, on_done, a), 0);
    assert_int_equal(coord_exists(&mock_backend, a->s, "/v", on_watch, a, on_done, a), 0);
    mock_drop_connection(w->zk, a->s);
    env_sim_run_until(&w->env, w->env.now_ns + 3 * SEC);
    assert_int_equal(a->log[n0].rc, COORD_STATE_DISCONNECTED);
    assert_int_equal(a->log[n0 + 1].kind, 'd');
    assert_int_equal(a->log[n0 + 1].rc, COORD_CONNECTIONLOSS);
    assert_int_equal(a->log[n0 + 2].rc, COORD_CONNECTIONLOSS);
    int n1 = a->n;
    assert_int_equal(do_set(w, b, "/w", "y", -1)->rc, COORD_OK);
    assert_int_equal(do_create(w, b, "/v", "", 0, NULL), COORD_OK);
    env_sim_run_until(&w->env, w->env.now_ns + SEC);
    assert_int_equal(events_of(a, n1), 1); /* /w's, from the first read; none for /v */
}

/* A fresh world in which b created /w (free it with teardown). */
static world *world_with_w(void) {
    void *st;
    assert_int_equal(setup(&st), 0);
    world *w = st;
    assert_int_equal(do_create(w, &w->b, "/w", "x", 0, NULL), COORD_OK);
    return w;
}

/* The rc of c's last completion from log entry `from` on (-1: none). */
static int last_done(const client *c, int from) {
    int rc = -1;
    for (int i = from; i < c->n; i++)
        if (c->log[i].kind == 'd')
            rc = c->log[i].rc;
    return rc;
}

/* Nor is the event of a watch a lost read armed delivered, whenever the drop came: a
 * write (applied after 1 ms, the model's default) then a read d later (applied after
 * 0.25 ms, answered after 0.5 ms: with d in 0.5..0.75 ms it arms its watch just before
 * the write fires it), the connection dropped t after the read. */
static void lost_read_event_is_never_delivered(void **state) {
    (void)state;
    int lost = 0, answered = 0;
    for (uint64_t d = 400000; d <= 800000; d += 25000)
        for (uint64_t t = 0; t <= 600000; t += 25000) {
            world *w = world_with_w();
            client *a = &w->a, *b = &w->b;
            int n0 = a->n;
            uint64_t t0 = w->env.now_ns;
            assert_int_equal(coord_set(&mock_backend, b->s, "/w", "y", 1, -1, on_done, b), 0);
            env_sim_run_until(&w->env, t0 + d);
            assert_int_equal(coord_get(&mock_backend, a->s, "/w", on_watch, a, on_done, a), 0);
            env_sim_run_until(&w->env, t0 + d + t);
            mock_drop_connection(w->zk, a->s);
            env_sim_run_until(&w->env, t0 + 5 * SEC);
            int got_lost = last_done(a, n0) == COORD_CONNECTIONLOSS;
            if (got_lost && events_of(a, n0) != 0)
                fail_msg("d %llu us, t %llu us: the lost read's watch fired",
                         (unsigned long long)d / 1000, (unsigned long long)t / 1000);
            lost += got_lost;
            answered += !got_lost;
            void *st = w;
            teardown(&st);
        }
    assert_true(lost > 0);
    assert_true(answered > 0);
}

/* A client cut off while an answer is on its way never gets it: the read (applied after
 * 0.25 ms, answered after 0.5 ms) is answered CONNECTIONLOSS whenever the cut starts
 * before its answer would arrive, and its watch is not armed. */
static void answers_in_flight_to_a_cut_client_are_lost(void **state) {
    (void)state;
    for (uint64_t t = 0; t <= 700000; t += 50000) {
        world *w = world_with_w();
        client *a = &w->a, *b = &w->b;
        int n0 = a->n;
        uint64_t t0 = w->env.now_ns;
        assert_int_equal(coord_get(&mock_backend, a->s, "/w", on_watch, a, on_done, a), 0);
        env_sim_run_until(&w->env, t0 + t);
        mock_partition_client(w->zk, a->s, SEC);
        env_sim_run_until(&w->env, t0 + 3 * SEC);
        assert_int_equal(do_set(w, b, "/w", "y", -1)->rc, COORD_OK);
        env_sim_run_until(&w->env, w->env.now_ns + SEC);
        assert_int_equal(last_done(a, n0), t < 500000 ? COORD_CONNECTIONLOSS : COORD_OK);
        assert_int_equal(events_of(a, n0), t < 500000 ? 0 : 1);
        void *st = w;
        teardown(&st);
    }
}

typedef struct closer {
    client c;
    int answered_before_close, closed;
} closer;

static void closer_done(void *arg, int rc, const coord_result *res) {
    (void)rc, (void)res;
    ((closer *)arg)->answered_before_close += !((closer *)arg)->closed;
}

static void closer_closed(void *arg, int rc, const coord_result *res) {
    (void)rc, (void)res;
    closer *k = arg;
    k->closed = 1;
    free(k->c.s); /* coord.h: the session's memory is the caller's again */
    k->c.s = NULL;
}

/* Closing a killed client (which the service cannot hear) answers what it had pending
 * first; after close's callback nothing touches its memory (freed there; ASan checks),
 * and the service ends its session rather than keep its ephemeral forever. */
static void close_of_a_killed_client_lets_go(void **state) {
    world *w = *state;
    closer k = {0};
    open_client(w, &k.c, 4 * SEC);
    env_sim_run_until(&w->env, w->env.now_ns + SEC / 10);
    assert_int_equal(do_create(w, &k.c, "/k", "", COORD_EPHEMERAL, NULL), COORD_OK);
    assert_int_equal(coord_get(&mock_backend, k.c.s, "/k", NULL, NULL, closer_done, &k), 0);
    mock_kill_client(w->zk, k.c.s);
    assert_int_equal(mock_backend.close(k.c.s, closer_closed, &k), 0);
    env_sim_run_until(&w->env, w->env.now_ns + 60 * SEC); /* its timers would run here */
    assert_int_equal(k.closed, 1);
    assert_int_equal(k.answered_before_close, 1);
    assert_int_equal(do_exists(w, &w->b, "/k", 0), COORD_NONODE);
}

static void slow_operations_time_out_and_drops_reconnect(void **state) {
    world *w = *state;
    client *a = &w->a;
    assert_int_equal(do_create(w, a, "/s", "", 0, NULL), COORD_OK);
    mock_slow(w->zk, 3000.0, 10 * SEC); /* a 2 ms write now takes 6 s > 2/3 x 4 s */
    assert_int_equal(do_create(w, a, "/slow", "", 0, NULL), COORD_OPERATIONTIMEOUT);
    env_sim_run_until(&w->env, w->env.now_ns + 12 * SEC);
    assert_int_equal(do_exists(w, a, "/slow", 0), COORD_OK); /* applied all the same */
    int n0 = a->n;
    mock_drop_connection(w->zk, a->s);
    env_sim_run_until(&w->env, w->env.now_ns + 2 * SEC);
    assert_int_equal(a->log[n0].rc, COORD_STATE_DISCONNECTED);
    assert_int_equal(a->log[n0 + 1].rc, COORD_STATE_CONNECTED);
    /* per-type statistics: every reply counted, latency measured */
    assert_true(mock_op_count(w->zk, 0) >= 2); /* creates */
    assert_true(mock_op_latency_ns(w->zk, 0, 1.0) >= 2 * 4 * SEC / 3 - SEC / 100);
    assert_string_equal(mock_op_name(4), "exists");
}

static void latency_distributions_are_seeded(void **state) {
    (void)state;
    uint64_t p99[2];
    for (int k = 0; k < 2; k++) {
        env_sim e;
        mock_zk *zk;
        mock_config cfg;
        mock_config_defaults(&cfg);
        cfg.latency_dist = MOCK_LATENCY_LOGNORMAL;
        assert_int_equal(env_sim_init(&e), 0);
        assert_int_equal(mock_create(&e.env, &cfg, &zk), 0);
        client c;
        c.env = &e;
        c.n = 0;
        c.s = malloc(mock_backend.session_size);
        mock_backend.open(zk, c.s, 10 * SEC, on_state, &c);
        for (int i = 0; i < 40; i++) {
            coord_exists(&mock_backend, c.s, "/", NULL, NULL, on_done, &c);
            env_sim_run_until(&e, e.now_ns + SEC / 10);
            c.n = 0;
        }
        p99[k] = mock_op_latency_ns(zk, 4, 0.99);
        assert_true(p99[k] > mock_op_latency_ns(zk, 4, 0.1)); /* they vary */
        mock_backend.close(c.s, NULL, NULL);
        env_sim_run_until(&e, e.now_ns + 100 * SEC);
        mock_free(zk);
        env_sim_free(&e);
        free(c.s);
    }
    assert_int_equal(p99[0], p99[1]); /* same seed, same draws */
}

/* ---- sessions, as ZooKeeper expires them ---- */

typedef struct gone {
    int done, deleted;
    uint64_t at_ns;
    const env_sim *clock;
} gone;

static void gone_watch(void *arg, int event, const char *path) {
    (void)path;
    gone *g = arg;
    if (event == COORD_EVENT_DELETED) {
        g->deleted = 1;
        g->at_ns = g->clock->now_ns;
    }
}

static void gone_done(void *arg, int rc, const coord_result *res) {
    (void)rc, (void)res;
    ((gone *)arg)->done++;
}

/* A session that creates /e and is killed at kill_ns; another watches /e. When did the
 * service remove /e (the watch's delivery, less its half round trip)? */
static uint64_t killed_session_gone_at(uint64_t seed, int random_phases, uint64_t timeout_ns,
                                       uint64_t kill_ns) {
    env_sim clock;
    mock_zk *zk;
    mock_config cfg;
    mock_config_defaults(&cfg);
    cfg.seed = seed;
    cfg.random_phases = random_phases;
    cfg.latency_dist = MOCK_LATENCY_CONSTANT;
    assert_int_equal(env_sim_init(&clock), 0);
    assert_int_equal(mock_create(&clock.env, &cfg, &zk), 0);
    coord_session *a = calloc(1, mock_backend.session_size);
    coord_session *b = calloc(1, mock_backend.session_size);
    assert_int_equal(mock_backend.open(zk, a, timeout_ns, NULL, NULL), 0);
    assert_int_equal(mock_backend.open(zk, b, 40 * SEC, NULL, NULL), 0);
    gone g = {0, 0, 0, &clock};
    coord_create(&mock_backend, a, "/e", "", 0, COORD_EPHEMERAL, gone_done, &g);
    env_sim_run_until(&clock, SEC);
    coord_exists(&mock_backend, b, "/e", gone_watch, &g, gone_done, &g);
    env_sim_run_until(&clock, kill_ns);
    mock_kill_client(zk, a);
    env_sim_run_until(&clock, kill_ns + 3 * timeout_ns);
    assert_int_equal(g.done, 2);
    assert_true(g.deleted);
    mock_backend.close(a, NULL, NULL);
    mock_backend.close(b, NULL, NULL);
    env_sim_run_until(&clock, clock.now_ns + 100 * SEC);
    mock_free(zk);
    env_sim_free(&clock);
    free(a);
    free(b);
    return g.at_ns - cfg.read_ns / 2;
}

/* ZooKeeper expires a session on the first tick bucket strictly after last-heard + T:
 * with pings every 2 s (T = 6 s, tick 2 s, aligned phases) a client last heard at 4 s
 * is due at 10 s, a bucket boundary, and goes at 12 s (rounding up would say 10). */
static void expiry_is_on_the_next_bucket(void **state) {
    (void)state;
    uint64_t at = killed_session_gone_at(1, 0, 6 * SEC, 4 * SEC + SEC / 100);
    assert_int_equal(at, 12 * SEC);
}

/* Over random phases a killed client's session goes between 2/3 T and T + tick after
 * the kill, as on a real server -- sometimes in less than T (a crash just before a
 * bucket boundary), sometimes in more -- and the seeds cover that range. */
static void expiry_over_random_phases_covers_the_range(void **state) {
    (void)state;
    const uint64_t T = 4 * SEC, tick = 2 * SEC, kill = 20 * SEC;
    uint64_t lo = UINT64_MAX, hi = 0;
    for (uint64_t seed = 1; seed <= 60; seed++) {
        uint64_t took = killed_session_gone_at(seed, 1, T, kill) - kill;
        assert_true(took > T * 2 / 3);
        assert_true(took <= T + tick);
        lo = took < lo ? took : lo;
        hi = took > hi ? took : hi;
    }
    assert_true(lo < T);                    /* expired in less than T */
    assert_true(lo < T * 2 / 3 + tick / 2); /* reaches the bottom of the range */
    assert_true(hi > T + tick / 2);         /* and the top */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(crud_and_error_codes, setup, teardown),
        cmocka_unit_test_setup_teardown(ephemerals_and_sequentials, setup, teardown),
        cmocka_unit_test_setup_teardown(watches_fire_once_before_the_data, setup, teardown),
        cmocka_unit_test_setup_teardown(multi_is_all_or_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(killed_client_expires_between_two_thirds_t_and_t_plus_tick,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(partition_disconnects_then_expires, setup, teardown),
        cmocka_unit_test_setup_teardown(expiry_edge_cases, setup, teardown),
        cmocka_unit_test_setup_teardown(timeouts_are_clamped, setup, teardown),
        cmocka_unit_test_setup_teardown(leader_loss_stalls_for_an_election, setup_ensemble,
                                        teardown),
        cmocka_unit_test_setup_teardown(no_quorum_expires_nobody, setup_ensemble, teardown),
        cmocka_unit_test_setup_teardown(slow_operations_time_out_and_drops_reconnect, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(watch_events_wait_for_the_connection, setup, teardown),
        cmocka_unit_test_setup_teardown(lost_reads_arm_no_watch, setup, teardown),
        cmocka_unit_test(lost_read_event_is_never_delivered),
        cmocka_unit_test(answers_in_flight_to_a_cut_client_are_lost),
        cmocka_unit_test_setup_teardown(close_of_a_killed_client_lets_go, setup, teardown),
        cmocka_unit_test(latency_distributions_are_seeded),
        cmocka_unit_test(profiles_round_trip_and_reject_bad_lines),
        cmocka_unit_test_setup_teardown(follower_reads_lag_until_sync, setup_lagging, teardown),
        cmocka_unit_test_setup_teardown(clients_of_a_crashed_server_move, setup_lagging, teardown),
        cmocka_unit_test(expiry_is_on_the_next_bucket),
        cmocka_unit_test(expiry_over_random_phases_covers_the_range),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
