/* mock.c -- the in-process ZooKeeper model; see mock.h.
 *
 * Every request becomes two timed steps on the env: the service applies it (after the
 * inbound half of its latency, and after the session's previous request), then the
 * client gets the reply (after the outbound half). Watch events triggered by an
 * operation are scheduled when it applies, before its reply is. Session liveness is
 * a ping timer on the client side and a bucketed expiry check on the service side.
 * The tree, watches and followers' views are tree.c's (mock_internal.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/mock/mock.h"
#include "core/assert.h"
#include "core/dist.h"
#include "core/error.h"
#include "core/grow.h"
#include "core/prng.h"

#include "backends/mock/mock_internal.h"

void zk_own(mock_zk *zk, owned *o, int kind) {
    o->kind = kind;
    o->next = zk->in_flight.next;
    o->prev = &zk->in_flight;
    zk->in_flight.next->prev = o;
    zk->in_flight.next = o;
}

void zk_disown(owned *o) {
    if (!o->next)
        return;
    o->prev->next = o->next;
    o->next->prev = o->prev;
    o->next = o->prev = NULL;
}

/* ---------- the session registry ----------
 * Timers carry a session id, never a pointer: a closed session's memory belongs to the
 * caller again, and its late timers must find nothing. */

mock_session *zk_session_by_id(const mock_zk *zk, uint64_t id) {
    for (size_t i = 0; i < zk->session_count; i++)
        if (zk->sessions[i]->id == id)
            return zk->sessions[i];
    return NULL;
}

static int register_session(mock_zk *zk, mock_session *s) {
    if (ss_grow(&zk->sessions, &zk->session_cap, zk->session_count + 1, sizeof *zk->sessions) != 0)
        return SS_ENOMEM;
    zk->sessions[zk->session_count++] = s;
    return 0;
}

static void unregister_session(mock_zk *zk, const mock_session *s) {
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

/* ---------- sessions ---------- */

int zk_cut_off(const mock_session *s, uint64_t now) {
    return s->killed || s->moving || now < s->cut_until_ns || !mock_available(s->zk);
}

static void notify(mock_session *s, int state) {
    if (s->on_state && !s->killed)
        s->on_state(s->arg, state);
}

/* The service ends session s (expired = 1: it expired, else it closed): its watches
 * and ephemerals go -- the ephemerals of an expired one stay under the
 * ephemeral-survives mutation. */
static void end_session(mock_zk *zk, mock_session *s, int expired) {
    if (!s->server_alive)
        return;
    s->server_alive = 0;
    s->ended_ns = env_now(&zk->env);
    zk_drop_watches_of(zk, s);
    zk_drop_parked(zk, s);
    if (!expired || !(zk->cfg.mutations & COORD_MUT_EPHEMERAL_SURVIVES))
        zk_drop_ephemerals(zk, s);
    zk_log_txn(zk);
    zk_flush_deliveries(zk, env_now(&zk->env) + zk->cfg.read_ns / 2, 1);
}

/* ZooKeeper's expiry buckets (ExpiryQueue.roundToNextInterval): a session heard at t
 * expires at the first bucket strictly after t + timeout. */
static uint64_t expiry_at(const mock_zk *zk, const mock_session *s) {
    uint64_t due = s->last_heard_ns + s->timeout_ns, tick = zk->cfg.tick_ns;
    uint64_t origin = zk->bucket_origin_ns;
    if (due < origin)
        return origin;
    return origin + ((due - origin) / tick + 1) * tick;
}

/* A reconnection attempt's delay: uniform around reconnect_ns (the client's back-off). */
static uint64_t reconnect_delay(mock_zk *zk) {
    if (!zk->cfg.random_phases || zk->cfg.reconnect_ns == 0)
        return zk->cfg.reconnect_ns;
    return 1 + prng_below(&zk->phase_rng, 2 * zk->cfg.reconnect_ns);
}

static void expiry_check(void *arg, uint64_t a, uint64_t b);

static void arm_expiry(mock_zk *zk, mock_session *s) {
    env_schedule(&zk->env, expiry_at(zk, s), expiry_check, zk, s->id, s->generation);
}

static void expiry_check(void *arg, uint64_t id, uint64_t generation) {
    mock_zk *zk = arg;
    mock_session *s = zk_session_by_id(zk, id);
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
    end_session(zk, s, 1);
}

/* The client's ping timer: every timeout/3; also its read-deadline check and, when
 * disconnected, its reconnection attempt. */
static void ping(void *arg, uint64_t id, uint64_t generation) {
    mock_zk *zk = arg;
    mock_session *s = zk_session_by_id(zk, id);
    if (!s || generation != s->generation || s->killed || s->client == CLIENT_CLOSED ||
        s->client == CLIENT_EXPIRED)
        return;
    uint64_t now = env_now(&zk->env);
    if (!zk_cut_off(s, now)) {
        if (s->server_alive) {
            s->last_heard_ns = now;
            s->last_answer_ns = now;
            if (s->client == CLIENT_DISCONNECTED) {
                s->client = CLIENT_CONNECTED;
                notify(s, COORD_STATE_CONNECTED);
            }
            zk_release_parked(zk, s);
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
    if (s->client == CLIENT_CONNECTED && zk_cut_off(s, now) && deadline > now && deadline < next)
        next = deadline;
    env_schedule(&zk->env, next, ping, zk, s->id, s->generation);
}

static void connected(void *arg, uint64_t id, uint64_t generation) {
    mock_session *s = zk_session_by_id(arg, id);
    if (!s || generation != s->generation || s->client != CLIENT_CONNECTING)
        return;
    s->client = CLIENT_CONNECTED;
    s->last_answer_ns = env_now(&s->zk->env);
    notify(s, COORD_STATE_CONNECTED);
}

/* ---------- requests ---------- */

static void free_request(request *r) {
    zk_disown(&r->link);
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

/* An answer the client gave up on when its connection broke. */
typedef struct lost_reply {
    owned link; /* first */
    coord_done_fn done;
    void *arg;
    int rc;
} lost_reply;

static void deliver_lost(void *arg, uint64_t a, uint64_t b) {
    (void)a, (void)b;
    lost_reply *l = arg;
    zk_disown(&l->link);
    coord_result res;
    memset(&res, 0, sizeof res);
    l->done(l->arg, l->rc, &res);
    free(l);
}

/* Answer r with rc now, in its place among the lost answers, instead of when it comes
 * (never: done is cleared); it arms no watch. 0, or SS_ENOMEM (r is left as it was). */
static int give_up(mock_zk *zk, request *r, int rc) {
    lost_reply *l = malloc(sizeof *l);
    if (!l)
        return SS_ENOMEM;
    *l = (lost_reply){.done = r->done, .arg = r->arg, .rc = rc};
    zk_own(zk, &l->link, OWNED_LOST);
    env_schedule(&zk->env, env_now(&zk->env), deliver_lost, l, 0, 0);
    r->done = NULL;
    zk_forget_watch(zk, r->armed); /* armed if it applied: the client never heard */
    r->watch = NULL;
    return 0;
}

/* Session s is closed while the service cannot hear it (killed, expired, closed): what
 * it had pending is answered first (SESSIONEXPIRED as it was, else CONNECTIONLOSS) and
 * forgotten, so that nothing touches s once close's callback has run; the service ends
 * a killed client's session now rather than at its expiry, and s leaves the registry. */
static void close_unheard(mock_zk *zk, mock_session *s);

static void reply(void *arg, uint64_t a, uint64_t b) {
    (void)a, (void)b;
    request *r = arg;
    if (r->orphan) {
        free_request(r);
        return;
    }
    r->res.path = r->out_path;
    mock_zk *zk = r->s->zk;
    uint64_t id = r->s->id; /* after close's callback the session may be freed */
    if (r->cut && r->rc != COORD_CONNECTIONLOSS && r->rc != COORD_SESSIONEXPIRED &&
        r->rc != COORD_OPERATIONTIMEOUT) {
        r->rc = COORD_CONNECTIONLOSS; /* it may have applied; its watch was never armed */
        zk_forget_watch(zk, r->armed);
    }
    hist_record(&zk->latency[r->type - 1], env_now(&zk->env) - r->sent_ns);
    if (r->done) /* a killed client's too: recipes and callers free what they hold */
        r->done(r->arg, r->rc, &r->res);
    free_request(r);
    if (zk->cfg.mutations & COORD_MUT_WATCH_AFTER_REPLY)
        zk_release_held(zk, id);
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
    /* a lognormal tail (sigma up to 10) can pass 2^64 ns: converting that is undefined, and
     * no reply later than ~31 years matters */
    return d < 1e18 ? (uint64_t)d : (uint64_t)1e18;
}

static void send_reply(mock_zk *zk, request *r, uint64_t at) {
    mock_session *s = r->s;
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
    if (r->orphan) {
        free_request(r);
        return;
    }
    mock_session *s = r->s;
    mock_zk *zk = s->zk;
    uint64_t now = env_now(&zk->env), out = now + latency(zk, r) / 2;
    /* a session's requests apply in FIFO order, never later than submit scheduled them */
    SS_ASSERT(now >= s->applied_ns && now <= s->last_apply_ns);
    s->applied_ns = now;
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
        r->rc = zk_apply_create(zk, s, r->path, r->data, r->len, r->flags, &r->out_path);
        break;
    case REQ_DELETE:
        r->rc = zk_apply_delete(zk, r->path, r->version);
        break;
    case REQ_SET:
        r->rc = zk_apply_set(zk, r->path, r->data, r->len, r->version, &r->res.stat);
        break;
    case REQ_MULTI:
        zk_apply_multi(zk, r);
        break;
    case REQ_CLOSE:
        r->rc = COORD_OK;
        s->generation++;
        end_session(zk, s, 0);
        s->client = CLIENT_CLOSED;
        unregister_session(zk, s);
        break;
    case REQ_SYNC: /* the follower gets everything the leader has committed */
        r->rc = COORD_OK;
        if (zk_on_follower(s))
            zk_replica_advance(zk, s->server, zk->zxid, out);
        break;
    default:
        zk_apply_read(zk, r);
    }
    zk_log_txn(zk);
    /* a follower answers a write once its own view has it */
    if (zk_on_follower(s) && r->type != REQ_SYNC && r->type != REQ_GET && r->type != REQ_EXISTS &&
        r->type != REQ_CHILDREN && now + zk->cfg.follower_lag_ns > out)
        out = now + zk->cfg.follower_lag_ns;
    /* watch events go out before this reply: same latency, scheduled first */
    zk_flush_deliveries(zk, out, 1);
    if (r->type == REQ_CLOSE) {
        send_reply(zk, r, out);
        return;
    }
    /* a client cut off meanwhile never hears the answer: it gets a connection loss
     * when its read deadline passes (the operation did apply) */
    if (zk_cut_off(s, out)) {
        r->rc = COORD_CONNECTIONLOSS;
        zk_forget_watch(zk, r->armed);
        uint64_t deadline = s->last_answer_ns + s->timeout_ns * 2 / 3;
        send_reply(zk, r, deadline > out ? deadline : out);
        return;
    }
    send_reply(zk, r, out);
}

static int submit(mock_session *s, request *r) {
    mock_zk *zk = s->zk;
    if (s->closing) { /* coord.h: nothing of a session runs after its close */
        free_request(r);
        return COORD_INVALIDSTATE;
    }
    uint64_t now = env_now(&zk->env);
    r->s = s;
    r->sent_ns = now;
    zk_own(zk, &r->link, OWNED_REQUEST);
    if (s->client == CLIENT_EXPIRED || s->client == CLIENT_CLOSED || !s->server_alive ||
        s->killed) {
        r->rc = s->client == CLIENT_CLOSED || s->client == CLIENT_EXPIRED || !s->server_alive
                    ? COORD_SESSIONEXPIRED
                    : COORD_CONNECTIONLOSS;
        if (r->type == REQ_CLOSE)
            close_unheard(zk, s);
        send_reply(zk, r, now);
        return 0;
    }
    if (s->client == CLIENT_DISCONNECTED || zk_cut_off(s, now)) {
        /* the request cannot reach the service: loss at the client's read deadline */
        r->rc = COORD_CONNECTIONLOSS;
        uint64_t deadline = s->last_answer_ns + s->timeout_ns * 2 / 3;
        send_reply(zk, r, deadline > now ? deadline : now);
        return 0;
    }
    zk_release_parked(zk, s); /* what it missed comes before any answer */
    uint64_t at = now + latency(zk, r) / 2;
    if (at <= s->last_apply_ns)
        at = s->last_apply_ns + 1; /* one session's requests apply in order */
    if (zk_on_follower(s)) {       /* and its reads wait for its own writes to reach its server */
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

static int m_open(void *service, coord_session *cs, uint64_t timeout_ns, coord_state_fn on_state,
                  void *arg) {
    mock_session *s = (mock_session *)cs;
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
    /* the ping phase: when in its T/3 period this client happens to ping */
    uint64_t phase = zk->cfg.random_phases ? 1 + prng_below(&zk->phase_rng, s->timeout_ns / 3)
                                           : s->timeout_ns / 3;
    env_schedule(&zk->env, now + phase, ping, zk, s->id, s->generation);
    return 0;
}

static int m_close(coord_session *cs, coord_done_fn done, void *arg) {
    mock_session *s = (mock_session *)cs;
    request *r = new_request(REQ_CLOSE, NULL, NULL, 0, done, arg);
    int rc = r ? submit(s, r) : SS_ENOMEM;
    if (rc == 0)
        s->closing = 1;
    return rc;
}

static int m_create(coord_session *cs, const char *path, const void *data, size_t len, int flags,
                    coord_done_fn done, void *arg) {
    mock_session *s = (mock_session *)cs;
    request *r = new_request(REQ_CREATE, path, data, len, done, arg);
    if (!r)
        return SS_ENOMEM;
    r->flags = flags;
    return submit(s, r);
}

static int m_remove(coord_session *cs, const char *path, int32_t version, coord_done_fn done,
                    void *arg) {
    mock_session *s = (mock_session *)cs;
    request *r = new_request(REQ_DELETE, path, NULL, 0, done, arg);
    if (!r)
        return SS_ENOMEM;
    r->version = version;
    return submit(s, r);
}

static int m_set(coord_session *cs, const char *path, const void *data, size_t len, int32_t version,
                 coord_done_fn done, void *arg) {
    mock_session *s = (mock_session *)cs;
    request *r = new_request(REQ_SET, path, data, len, done, arg);
    if (!r)
        return SS_ENOMEM;
    r->version = version;
    return submit(s, r);
}

static int read_op(mock_session *s, int type, const char *path, coord_watch_fn watch,
                   void *watch_arg, coord_done_fn done, void *arg) {
    request *r = new_request(type, path, NULL, 0, done, arg);
    if (!r)
        return SS_ENOMEM;
    r->watch = watch;
    r->watch_arg = watch_arg;
    return submit(s, r);
}

static int m_get(coord_session *cs, const char *path, coord_watch_fn w, void *wa, coord_done_fn d,
                 void *a) {
    mock_session *s = (mock_session *)cs;
    return read_op(s, REQ_GET, path, w, wa, d, a);
}

static int m_exists(coord_session *cs, const char *path, coord_watch_fn w, void *wa,
                    coord_done_fn d, void *a) {
    mock_session *s = (mock_session *)cs;
    return read_op(s, REQ_EXISTS, path, w, wa, d, a);
}

static int m_children(coord_session *cs, const char *path, coord_watch_fn w, void *wa,
                      coord_done_fn d, void *a) {
    mock_session *s = (mock_session *)cs;
    return read_op(s, REQ_CHILDREN, path, w, wa, d, a);
}

static int m_multi(coord_session *cs, const coord_op *ops, size_t count, coord_done_fn done,
                   void *arg) {
    mock_session *s = (mock_session *)cs;
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

static int m_sync(coord_session *cs, const char *path, coord_done_fn done, void *arg) {
    mock_session *s = (mock_session *)cs;
    request *r = new_request(REQ_SYNC, path, NULL, 0, done, arg);
    return r ? submit(s, r) : SS_ENOMEM;
}

static uint64_t m_session_id(const coord_session *cs) {
    const mock_session *s = (const mock_session *)cs;
    return s->id;
}
static int m_state(const coord_session *cs) {
    const mock_session *s = (const mock_session *)cs;
    if (s->client == CLIENT_EXPIRED || s->client == CLIENT_CLOSED || s->killed)
        return COORD_STATE_EXPIRED;
    return s->client == CLIENT_CONNECTED ? COORD_STATE_CONNECTED : COORD_STATE_DISCONNECTED;
}

static uint64_t m_timeout(const coord_session *cs) {
    const mock_session *s = (const mock_session *)cs;
    return s->timeout_ns;
}

_Static_assert((int)MOCK_OP_TYPES == (int)COORD_OPTYPES, "the mock counts every operation type");
_Static_assert((int)MOCK_LATENCY_CONSTANT == (int)COORD_LATENCY_CONSTANT &&
                   (int)MOCK_LATENCY_EXPONENTIAL == (int)COORD_LATENCY_EXPONENTIAL &&
                   (int)MOCK_LATENCY_LOGNORMAL == (int)COORD_LATENCY_LOGNORMAL,
               "one numbering of latency distributions");

/* The model's configuration from the backend-neutral one, the profile file last (it
 * overrides the means it names). */
static int model_config(const coord_config *cc, mock_config *mc, char *err, size_t errlen) {
    mock_config_defaults(mc);
    mc->tick_ns = cc->tick_ns;
    mc->servers = cc->servers;
    mc->read_ns = cc->read_ns;
    mc->write_ns = cc->write_ns;
    mc->latency_dist = cc->latency_dist;
    mc->latency_sigma = cc->latency_sigma;
    mc->seed = cc->seed;
    mc->follower_lag_ns = cc->follower_lag_ns;
    if (cc->election_ns)
        mc->election_ns = cc->election_ns;
    if (cc->reconnect_ns)
        mc->reconnect_ns = cc->reconnect_ns;
    mc->mutations = cc->mutations;
    if (cc->profile && cc->profile[0] && mock_profile_load(cc->profile, mc, err, errlen) != 0)
        return SS_EINVAL;
    return 0;
}

static int m_config_check(const coord_config *cc, char *err, size_t errlen) {
    mock_config mc;
    return model_config(cc, &mc, err, errlen);
}

static int m_service_create(const env *e, const coord_config *cc, void **service, char *err,
                            size_t errlen) {
    mock_config mc;
    mock_zk *zk = NULL;
    int rc = model_config(cc, &mc, err, errlen);
    if (rc == 0 && (rc = mock_create(e, &mc, &zk)) != 0)
        snprintf(err, errlen, "the coordination model: %s", ss_strerror(rc));
    *service = zk;
    return rc;
}

static void m_service_free(void *service) {
    mock_free(service);
}

static int f_kill_client(void *service, coord_session *s) {
    mock_kill_client(service, s);
    return 0;
}
static int f_drop_connection(void *service, coord_session *s) {
    mock_drop_connection(service, s);
    return 0;
}
static int f_partition_client(void *service, coord_session *s, uint64_t duration_ns) {
    mock_partition_client(service, s, duration_ns);
    return 0;
}
static int f_expire_session(void *service, coord_session *s) {
    mock_expire_session(service, s);
    return 0;
}
static int f_crash_server(void *service, uint32_t server) {
    mock_crash_server(service, server);
    return 0;
}
static int f_restart_server(void *service, uint32_t server) {
    mock_restart_server(service, server);
    return 0;
}
static int f_slow(void *service, double factor, uint64_t duration_ns) {
    mock_slow(service, factor, duration_ns);
    return 0;
}

static const coord_fault_ops mock_faults = {
    .kill_client = f_kill_client,
    .drop_connection = f_drop_connection,
    .partition_client = f_partition_client,
    .expire_session = f_expire_session,
    .crash_server = f_crash_server,
    .restart_server = f_restart_server,
    .slow = f_slow,
};

static uint64_t st_ops_applied(const void *service) {
    return mock_ops_applied(service);
}
static uint64_t st_sessions_expired(const void *service) {
    return mock_sessions_expired(service);
}
static uint64_t st_op_count(const void *service, int type) {
    return mock_op_count(service, type);
}
static const hist *st_op_histogram(const void *service, int type) {
    return mock_op_histogram(service, type);
}

static const coord_stats_ops mock_stats = {
    .ops_applied = st_ops_applied,
    .sessions_expired = st_sessions_expired,
    .op_count = st_op_count,
    .op_histogram = st_op_histogram,
};

const coord_backend mock_backend = {
    .version = 2,
    .name = "mock",
    .session_size = sizeof(mock_session),
    .service_create = m_service_create,
    .service_free = m_service_free,
    .config_check = m_config_check,
    .faults = &mock_faults,
    .stats = &mock_stats,
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
    .state = m_state,
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
    c->election_ns = 430000000ULL; /* ZOOKEEPER.md: a new leader serves in ~0.43 s */
    c->latency_dist = MOCK_LATENCY_CONSTANT;
    c->latency_sigma = 0.5;
    c->seed = 1;
    c->follower_lag_ns = 0;
    c->reconnect_ns = 50000000ULL;
    c->random_phases = 1;
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
    prng_stream(&zk->phase_rng, zk->cfg.seed, 0, 0x2C01);
    if (zk->cfg.random_phases && zk->cfg.tick_ns)
        zk->bucket_origin_ns = prng_below(&zk->phase_rng, zk->cfg.tick_ns);
    for (int i = 0; i < MOCK_OP_TYPES; i++)
        if (hist_init(&zk->latency[i]) != 0) {
            mock_free(zk);
            return SS_ENOMEM;
        }
    if (zk_add_node(zk, &zk->tree, "/", NULL, 0, 0) != 0) {
        mock_free(zk);
        return SS_ENOMEM;
    }
    for (uint32_t k = 0; zk->replicas && k < zk->cfg.servers; k++)
        zk_replica_reset(zk, k);
    *out = zk;
    return 0;
}

void mock_free(mock_zk *zk) {
    if (!zk)
        return;
    while (zk->in_flight.next && zk->in_flight.next != &zk->in_flight) {
        owned *o = zk->in_flight.next;
        zk_disown(o);
        if (o->kind == OWNED_REQUEST) {
            free_request((request *)o);
        } else if (o->kind == OWNED_LOST) {
            free(o);
        } else {
            free(((delivery *)o)->path);
            free(o);
        }
    }
    zk_free_nodes(zk->tree.nodes, zk->tree.count);
    zk_free_views(zk);
    for (size_t i = 0; i < zk->watch_count; i++)
        free(zk->watches[i].path);
    free(zk->watches);
    for (size_t i = 0; i < zk->pending_count; i++)
        free(zk->pending[i].path);
    free(zk->pending);
    free(zk->held);
    free(zk->parked);
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
                zk_replica_advance(zk, i, zk->zxid, now + zk->cfg.read_ns / 2);
            zk->leader = (int)i;
            break;
        }
    for (size_t i = 0; zk->replicas && i < zk->session_count; i++)
        zk_retag_watches(zk, zk->sessions[i]);
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

/* A client that lost its server connects to the next live one. It never lands on a
 * server behind what it has seen (ZooKeeper refuses those): the new server's view is
 * brought up to date and the client's watches move there. */
static void pick_server(mock_zk *zk, mock_session *s) {
    uint32_t n = zk->cfg.servers;
    for (uint32_t i = 1; i <= n; i++)
        if (zk->server_up[(s->server + i) % n]) {
            s->server = (s->server + i) % n;
            break;
        }
    s->moving = 0;
    if (zk->replicas) {
        if (zk_on_follower(s))
            zk_replica_advance(zk, s->server, zk->zxid, env_now(&zk->env) + zk->cfg.read_ns / 2);
        zk_retag_watches(zk, s);
    }
}

/* The client's reconnection attempt, every reconnect_ns while no server answers. */
static void reconnected(void *arg, uint64_t id, uint64_t generation) {
    mock_zk *zk = arg;
    mock_session *s = zk_session_by_id(zk, id);
    uint64_t now = env_now(&zk->env);
    if (!s || generation != s->generation || s->killed || s->client == CLIENT_CLOSED ||
        s->client == CLIENT_EXPIRED)
        return;
    if (s->moving && mock_available(zk)) /* servers without a quorum take no clients */
        pick_server(zk, s);
    if (zk_cut_off(s, now)) { /* no server answers yet: try again */
        env_schedule(&zk->env, now + reconnect_delay(zk), reconnected, zk, s->id, s->generation);
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
    zk_release_parked(zk, s);
}

/* The client's connection broke (dropped, or its server crashed): as the C client does,
 * it turns DISCONNECTED and answers every request it holds CONNECTIONLOSS at once, in
 * the order sent, and never arms their watches. What the service got still applies:
 * CONNECTIONLOSS does not mean not applied. */
static void lose_connection(mock_zk *zk, mock_session *s) {
    if (s->client != CLIENT_CONNECTED)
        return;
    s->client = CLIENT_DISCONNECTED;
    for (owned *o = zk->in_flight.prev; o != &zk->in_flight; o = o->prev) { /* oldest first */
        request *r = (request *)o;
        if (o->kind != OWNED_REQUEST || r->s != s || !r->done || r->type == REQ_CLOSE)
            continue;
        give_up(zk, r, COORD_CONNECTIONLOSS); /* out of memory: answered as it would be */
    }
    /* heard before the losses (as from the real backend); what the callback sends now
     * waits for the connection like any call while disconnected */
    notify(s, COORD_STATE_DISCONNECTED);
}

static void close_unheard(mock_zk *zk, mock_session *s) {
    for (owned *o = zk->in_flight.prev; o != &zk->in_flight; o = o->prev) { /* oldest first */
        request *r = (request *)o;
        if (o->kind != OWNED_REQUEST || r->s != s || r->type == REQ_CLOSE)
            continue;
        if (r->done && give_up(zk, r,
                               r->rc == COORD_SESSIONEXPIRED ? COORD_SESSIONEXPIRED
                                                             : COORD_CONNECTIONLOSS) != 0)
            continue; /* out of memory: it stays as it was */
        r->orphan = 1;
    }
    end_session(zk, s, 1);
    s->generation++;
    s->client = CLIENT_CLOSED;
    unregister_session(zk, s);
}

/* The client's server crashed: it sees its connection drop at once and tries the next
 * server every reconnect_ns; its session survives if it gets through within its
 * timeout. Meanwhile its watches are the committed tree's (what its old server had
 * not applied yet fires now), so that none is lost or fires twice. */
static void lose_server(mock_zk *zk, mock_session *s) {
    if (zk->replicas && zk_on_follower(s))
        zk_replica_advance(zk, s->server, zk->zxid, env_now(&zk->env) + zk->cfg.read_ns / 2);
    s->moving = 1;
    if (zk->replicas)
        zk_retag_watches(zk, s);
    lose_connection(zk, s);
    env_schedule(&zk->env, env_now(&zk->env) + reconnect_delay(zk), reconnected, zk, s->id,
                 s->generation);
}

void mock_crash_server(mock_zk *zk, uint32_t server) {
    if (server >= zk->cfg.servers || !zk->server_up[server])
        return;
    zk->server_up[server] = 0;
    /* Its clients lose their connection; if it led (or quorum is gone), every other
     * server closes its client connections too while the ensemble elects, so every
     * client is disconnected (Curator: SUSPENDED) and reconnects once a leader serves. */
    int leaderless = zk->leader == (int)server || !has_quorum(zk);
    int everyone = leaderless && zk->leader >= 0 && zk->cfg.servers > 1;
    for (size_t i = 0; i < zk->session_count; i++) {
        mock_session *s = zk->sessions[i];
        if ((s->server == server || everyone) && !s->killed && !s->moving &&
            s->client != CLIENT_CLOSED && s->client != CLIENT_EXPIRED)
            lose_server(zk, s);
    }
    if (leaderless)
        zk->leader = -1;
    maybe_elect(zk);
}

void mock_restart_server(mock_zk *zk, uint32_t server) {
    if (server >= zk->cfg.servers || zk->server_up[server])
        return;
    zk->server_up[server] = 1;
    if (zk->replicas)
        zk_replica_reset(zk, server);
    maybe_elect(zk);
}

void mock_kill_client(mock_zk *zk, coord_session *cs) {
    mock_session *s = (mock_session *)cs;
    (void)zk;
    s->killed = 1;
}

/* The answers in flight to a client cut off are lost with the connection: they come as
 * CONNECTIONLOSS (at their time, in their order) and arm no watch. */
void mock_partition_client(mock_zk *zk, coord_session *cs, uint64_t duration_ns) {
    mock_session *s = (mock_session *)cs;
    s->cut_until_ns = env_now(&zk->env) + duration_ns;
    for (owned *o = zk->in_flight.next; o != &zk->in_flight; o = o->next) {
        request *r = (request *)o;
        if (o->kind == OWNED_REQUEST && r->s == s && r->type != REQ_CLOSE)
            r->cut = 1;
    }
}

void mock_expire_session(mock_zk *zk, coord_session *cs) {
    mock_session *s = (mock_session *)cs;
    zk->sessions_expired++;
    end_session(zk, s, 1);
}

uint64_t mock_ops_applied(const mock_zk *zk) {
    return zk->ops_applied;
}

uint64_t mock_session_ended_ns(const coord_session *cs) {
    const mock_session *s = (const mock_session *)cs;
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

void mock_drop_connection(mock_zk *zk, coord_session *cs) {
    lose_connection(zk, (mock_session *)cs);
}

void mock_slow(mock_zk *zk, double factor, uint64_t duration_ns) {
    zk->slow_factor = factor;
    zk->slow_until_ns = env_now(&zk->env) + duration_ns;
}
uint64_t mock_sessions_expired(const mock_zk *zk) {
    return zk->sessions_expired;
}
