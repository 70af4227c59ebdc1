/* zk.c -- the real ZooKeeper backend's table (zk.h): the service (connect string,
 * proxy, the C client's log), sessions (open, state, close) and the hand-over of the
 * client's events to the loop. Operations are in zk_ops.c, faults and statistics in
 * zk_faults.c. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backends/zookeeper/zk.h"
#include "backends/zookeeper/zk_internal.h"
#include "core/error.h"

enum { MAX_SERVERS = 64, CONNECT_MAX = MAX_SERVERS * 24, PROBE_MS = 500 };

/* ZooKeeper's codes and coord.h's are the same numbers: conversion is a checked
 * pass-through. */
#define ZK_SAME(name, code, msg) _Static_assert((int)Z##name == (int)COORD_##name, #name);
COORD_ERROR_MAP(ZK_SAME)
#undef ZK_SAME

int zk_convert_rc(int rc) {
    switch (rc) {
#define ZK_CASE(name, code, msg) case code:
        COORD_ERROR_MAP(ZK_CASE)
#undef ZK_CASE
        return rc;
    default:
        return COORD_SYSTEMERROR;
    }
}

void zk_post(zk_service *svc, env_timer_fn fn, void *arg) {
    /* env_post fails only for want of memory: wait for some rather than lose a
     * completion the caller waits for (this runs on the client's threads) */
    for (int tries = 0; env_post(&svc->env, fn, arg, 0, 0) != 0 && tries < 10000; tries++) {
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
}

/* ---------- the C client's log: process-global, the only global state here ---------- */

typedef struct log_stream {
    FILE *f;
    struct log_stream *next;
} log_stream;

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static log_stream *log_streams; /* every stream installed while a service lives */
static size_t log_users;        /* services alive */

/* Install cfg's log (a file, appended, or /dev/null) as the client's stream. Streams
 * are not closed while any service lives: a client thread may be writing to one. */
static int log_acquire(const char *path, char *err, size_t errlen) {
    FILE *f = fopen(path ? path : "/dev/null", path ? "a" : "w");
    log_stream *ls = f ? malloc(sizeof *ls) : NULL;
    if (!ls) {
        snprintf(err, errlen, "zookeeper: cannot open the client log %s: %s",
                 path ? path : "/dev/null", strerror(errno));
        if (f)
            fclose(f);
        return SS_EIO;
    }
    setvbuf(f, NULL, _IOLBF, 0);
    ls->f = f;
    pthread_mutex_lock(&log_lock);
    ls->next = log_streams;
    log_streams = ls;
    log_users++;
    zoo_set_debug_level(path ? ZOO_LOG_LEVEL_INFO : ZOO_LOG_LEVEL_ERROR);
    zoo_set_log_stream(f);
    pthread_mutex_unlock(&log_lock);
    return 0;
}

static void log_release(void) {
    pthread_mutex_lock(&log_lock);
    if (--log_users == 0) {
        zoo_set_log_stream(NULL); /* no handle is left to log */
        while (log_streams) {
            log_stream *ls = log_streams;
            log_streams = ls->next;
            fclose(ls->f);
            free(ls);
        }
    }
    pthread_mutex_unlock(&log_lock);
}

/* ---------- the connect string ---------- */

static int bad_connect(const char *connect, const char *why, const char *part, char *err,
                       size_t errlen) {
    snprintf(err, errlen, "zookeeper: bad connect string \"%s\": %s%s%s%s", connect, why,
             part ? " \"" : "", part ? part : "", part ? "\"" : "");
    return SS_EINVAL;
}

/* One "host:port" (IPv6 hosts in brackets) of connect, resolved into *u. */
static int parse_server(const char *connect, char *entry, zk_upstream *u, char *err,
                        size_t errlen) {
    char *colon = strrchr(entry, ':');
    if (!colon)
        return bad_connect(connect, "no :port in", entry, err, errlen);
    *colon = '\0';
    char *host = entry, *port = colon + 1;
    size_t hl = strlen(host);
    if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
        host[hl - 1] = '\0';
        host++;
    } else if (strchr(host, ':') || strchr(host, '[') || strchr(host, ']')) {
        return bad_connect(connect, "a host has a colon (IPv6 goes in brackets):", host, err,
                           errlen);
    }
    if (host[0] == '\0')
        return bad_connect(connect, "empty host", NULL, err, errlen);
    long value = 0;
    size_t digits = strspn(port, "0123456789");
    if (digits == 0 || digits > 5 || port[digits] != '\0' || (value = strtol(port, NULL, 10)) < 1 ||
        value > 65535)
        return bad_connect(connect, "port is not a number in 1..65535:", port, err, errlen);
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    int g = getaddrinfo(host, port, &hints, &res);
    if (g != 0 || !res) {
        snprintf(err, errlen, "zookeeper: cannot resolve \"%s\" of connect string \"%s\": %s", host,
                 connect, g ? gai_strerror(g) : "no address");
        return SS_EINVAL;
    }
    memcpy(&u->addr, res->ai_addr, res->ai_addrlen);
    u->len = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

/* "host:port[,host:port...]" into servers (at most MAX_SERVERS). */
static int parse_connect(const char *connect, zk_upstream *servers, size_t *count, char *err,
                         size_t errlen) {
    if (!connect || !*connect)
        return bad_connect(connect ? connect : "", "empty (want host:port[,host:port...])", NULL,
                           err, errlen);
    size_t len = strlen(connect);
    if (len >= CONNECT_MAX)
        return bad_connect(connect, "too long", NULL, err, errlen);
    char copy[CONNECT_MAX];
    memcpy(copy, connect, len + 1);
    *count = 0;
    for (char *entry = copy, *end; entry; entry = end) {
        end = strchr(entry, ',');
        if (end)
            *end++ = '\0';
        if (*entry == '\0')
            return bad_connect(connect, "empty server entry", NULL, err, errlen);
        if (*count == MAX_SERVERS)
            return bad_connect(connect, "more than 64 servers", NULL, err, errlen);
        int rc = parse_server(connect, entry, &servers[*count], err, errlen);
        if (rc != 0)
            return rc;
        (*count)++;
    }
    return 0;
}

/* ---------- the service ---------- */

/* Whether u accepts a TCP connection within PROBE_MS; 0, or an errno. */
static int probe(const zk_upstream *u) {
    int fd = socket(u->addr.ss_family, SOCK_STREAM, 0);
    if (fd < 0)
        return errno;
    int fl = fcntl(fd, F_GETFL), e = 0;
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        e = errno;
    else if (connect(fd, (const struct sockaddr *)&u->addr, u->len) < 0) {
        e = errno;
        struct pollfd p = {fd, POLLOUT, 0};
        socklen_t len = sizeof e;
        if (e == EINPROGRESS)
            e = poll(&p, 1, PROBE_MS) == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) == 0
                    ? e
                    : ETIMEDOUT;
    }
    close(fd);
    return e;
}

/* The connect string parses, resolves, and some server of it accepts a connection (a
 * run cannot do without one; service_create itself does not ask: its sessions wait). */
static int config_check(const coord_config *cfg, char *err, size_t errlen) {
    zk_upstream servers[MAX_SERVERS];
    size_t count;
    if (!cfg)
        return bad_connect("", "no configuration", NULL, err, errlen);
    int rc = parse_connect(cfg->connect, servers, &count, err, errlen);
    if (rc != 0)
        return rc;
    int e = 0;
    for (size_t i = 0; i < count; i++)
        if ((e = probe(&servers[i])) == 0)
            return 0;
    snprintf(err, errlen, "zookeeper: no server of \"%s\" accepts a connection (%s)", cfg->connect,
             strerror(e));
    return SS_EIO;
}

/* Free what service_create made; svc came from calloc, so any part may be missing. */
static void service_destroy(zk_service *svc) {
    for (int t = 0; t < COORD_OPTYPES; t++)
        hist_free(&svc->latency[t]);
    free(svc->slots);
    free(svc->slot_generation);
    free(svc->servers);
    free(svc->connect);
    free(svc);
}

static int service_create(const env *e, const coord_config *cfg, void **service, char *err,
                          size_t errlen) {
    zk_upstream servers[MAX_SERVERS];
    size_t count = 0;
    if (!cfg)
        return bad_connect("", "no configuration", NULL, err, errlen);
    int rc = parse_connect(cfg->connect, servers, &count, err, errlen);
    if (rc != 0)
        return rc;
    zk_service *svc = calloc(1, sizeof *svc);
    if (!svc) {
        snprintf(err, errlen, "zookeeper: out of memory");
        return SS_ENOMEM;
    }
    svc->env = *e;
    svc->connect_timeout_ns = cfg->connect_timeout_ns;
    svc->server_count = count;
    svc->connect = malloc(strlen(cfg->connect) + 1);
    svc->servers = malloc(count * sizeof *servers);
    if (!svc->connect || !svc->servers)
        rc = SS_ENOMEM;
    for (int t = 0; t < COORD_OPTYPES && rc == 0; t++)
        rc = hist_init(&svc->latency[t]);
    if (rc != 0) {
        snprintf(err, errlen, "zookeeper: out of memory");
        service_destroy(svc);
        return rc;
    }
    strcpy(svc->connect, cfg->connect);
    memcpy(svc->servers, servers, count * sizeof *servers);
    if ((rc = log_acquire(cfg->log_path, err, errlen)) != 0) {
        service_destroy(svc);
        return rc;
    }
    if (!cfg->direct && (rc = zk_proxy_start(svc->servers, count, &svc->proxy)) != 0) {
        snprintf(err, errlen, "zookeeper: cannot start the connection proxy: %s", strerror(errno));
        log_release();
        service_destroy(svc);
        return rc;
    }
    *service = svc;
    return 0;
}

/* Every session must have completed its close. */
static void service_free(void *service) {
    zk_service *svc = service;
    if (!svc)
        return;
    zk_expirers_reap(svc, 1);
    if (svc->proxy)
        zk_proxy_stop(svc->proxy);
    log_release();
    service_destroy(svc);
}

/* ---------- session slots, for timers ---------- */

static int slot_take(zk_service *svc, zk_session *s) {
    size_t i = 0;
    while (i < svc->slot_count && svc->slots[i])
        i++;
    if (i == svc->slot_count) {
        size_t n = svc->slot_count ? 2 * svc->slot_count : 16;
        zk_session **slots = realloc(svc->slots, n * sizeof *slots);
        if (!slots)
            return SS_ENOMEM;
        svc->slots = slots;
        uint32_t *gen = realloc(svc->slot_generation, n * sizeof *gen);
        if (!gen)
            return SS_ENOMEM;
        svc->slot_generation = gen;
        for (size_t j = svc->slot_count; j < n; j++) {
            slots[j] = NULL;
            gen[j] = 0;
        }
        svc->slot_count = n;
    }
    svc->slots[i] = s;
    s->slot = (uint32_t)i;
    s->generation = ++svc->slot_generation[i];
    return 0;
}

static void slot_release(zk_service *svc, const zk_session *s) {
    svc->slots[s->slot] = NULL;
}

zk_session *zk_session_at(zk_service *svc, uint64_t a, uint64_t b) {
    if (a >= svc->slot_count || !svc->slots[a] || svc->slot_generation[a] != b)
        return NULL;
    return svc->slots[a];
}

/* ---------- session events ---------- */

typedef struct state_msg {
    zk_session *s;
    int state; /* COORD_STATE_*, or 0: the connect deadline passed */
    uint64_t session_id;
    int timeout_ms;
    clientid_t client_id;
} state_msg;

static void notify(zk_session *s, int state) {
    if (s->on_state && !s->killed && !s->closing)
        s->on_state(s->state_arg, state);
}

static void deliver_state(void *arg, uint64_t a, uint64_t b) {
    (void)a, (void)b;
    state_msg *m = arg;
    zk_session *s = m->s;
    int changed = m->state != s->state;
    s->state = m->state;
    if (m->state == COORD_STATE_CONNECTED) {
        s->ever_connected = 1;
        s->session_id = m->session_id;
        s->client_id = m->client_id;
        if (m->timeout_ms > 0)
            s->timeout_ns = (uint64_t)m->timeout_ms * 1000000u;
    }
    if (m->state == COORD_STATE_EXPIRED && !s->expired_counted) {
        s->expired_counted = 1;
        s->svc->sessions_expired++;
    }
    free(m);
    if (changed)
        notify(s, s->state);
}

static int convert_state(int state) {
    if (state == ZOO_CONNECTED_STATE)
        return COORD_STATE_CONNECTED;
    if (state == ZOO_EXPIRED_SESSION_STATE || state == ZOO_AUTH_FAILED_STATE)
        return COORD_STATE_EXPIRED;
    return COORD_STATE_DISCONNECTED; /* connecting, associating, not connected, read-only */
}

/* The session's watcher, on the client's completion thread: session events only (this
 * backend sets no default watches). */
static void on_session_event(zhandle_t *zh, int type, int state, const char *path, void *ctx) {
    (void)path;
    if (type != ZOO_SESSION_EVENT)
        return;
    zk_session *s = ctx;
    state_msg *m = calloc(1, sizeof *m);
    if (!m)
        return;
    m->s = s;
    m->state = convert_state(state);
    if (m->state == COORD_STATE_CONNECTED) {
        const clientid_t *id = zoo_client_id(zh);
        m->client_id = *id;
        m->session_id = (uint64_t)id->client_id;
        m->timeout_ms = zoo_recv_timeout(zh);
    }
    zk_post(s->svc, deliver_state, m);
}

/* The connect deadline: not connected yet, the caller hears DISCONNECTED again. */
static void connect_deadline(void *arg, uint64_t a, uint64_t b) {
    zk_session *s = zk_session_at(arg, a, b);
    if (s && !s->ever_connected)
        notify(s, COORD_STATE_DISCONNECTED);
}

/* ---------- sessions ---------- */

static int open_session(void *service, coord_session *cs, uint64_t timeout_ns,
                        coord_state_fn on_state, void *arg) {
    zk_service *svc = service;
    zk_session *s = (zk_session *)cs;
    memset(s, 0, sizeof *s);
    s->svc = svc;
    s->on_state = on_state;
    s->state_arg = arg;
    s->state = COORD_STATE_DISCONNECTED;
    s->timeout_ns = timeout_ns;
    uint64_t ms = timeout_ns / 1000000u;
    int timeout_ms = ms < 1 ? 1 : ms > 0x7fffffff ? 0x7fffffff : (int)ms;
    char connect[CONNECT_MAX];
    if (pthread_mutex_init(&s->lock, NULL) != 0)
        return SS_ENOMEM;
    int rc = slot_take(svc, s);
    if (rc == 0 && !svc->proxy) /* direct: the servers themselves */
        snprintf(connect, sizeof connect, "%s", svc->connect);
    else if (rc == 0 &&
             (rc = zk_proxy_route_open(svc->proxy, &s->route, connect, sizeof connect)) != 0)
        slot_release(svc, s);
    if (rc != 0) {
        pthread_mutex_destroy(&s->lock);
        return rc;
    }
    s->zh = zookeeper_init(connect, on_session_event, timeout_ms, NULL, s, 0);
    if (!s->zh) {
        rc = errno == ENOMEM ? SS_ENOMEM : COORD_SYSTEMERROR;
        if (svc->proxy)
            zk_proxy_route_close(svc->proxy, s->route);
        slot_release(svc, s);
        pthread_mutex_destroy(&s->lock);
        return rc;
    }
    env_schedule(&svc->env, env_now(&svc->env) + svc->connect_timeout_ns, connect_deadline, svc,
                 s->slot, s->generation);
    return 0;
}

static void deliver_closed(void *arg, uint64_t a, uint64_t b) {
    (void)a, (void)b;
    zk_session *s = arg;
    zk_service *svc = s->svc;
    if (s->closer_started)
        pthread_join(s->closer, NULL);
    if (svc->proxy)
        zk_proxy_route_close(svc->proxy, s->route);
    slot_release(svc, s);
    pthread_mutex_destroy(&s->lock);
    hist_record(&svc->latency[COORD_OPTYPE_CLOSE], env_now(&svc->env) - s->close_sent_ns);
    svc->replies[COORD_OPTYPE_CLOSE]++;
    coord_done_fn done = s->close_done;
    void *done_arg = s->close_arg;
    int rc = s->close_rc;
    /* s may be freed from here on */
    if (done)
        done(done_arg, rc, NULL);
}

/* Wait (in 1 ms naps, at most drain_ms) until no call of s is pending. */
static void drain_pending(zk_session *s) {
    for (long nap = 0; nap < s->drain_ms; nap++) {
        int pending = 0;
        pthread_mutex_lock(&s->lock);
        for (const zk_op *op = s->ops; op && !pending; op = op->next)
            pending = !op->refused;
        pthread_mutex_unlock(&s->lock);
        if (!pending)
            return;
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
}

/* The closer thread. First the calls in flight come back: the client, closed with
 * completions it has not run, may drop them (and leak them), so close waits for them --
 * at most 2/3 of the session timeout and a little, by when the client has failed them
 * itself (it gives up on a server silent that long). Then it closes the handle (which
 * flushes the close request and waits up to 1.5 s for the server), completes with
 * CLOSING what the client dropped all the same, and posts close's own callback: posted
 * after everything else of s, it runs after it. */
static void *close_session_main(void *arg) {
    zk_session *s = arg;
    drain_pending(s);
    s->close_rc = zk_convert_rc(zookeeper_close(s->zh));
    pthread_mutex_lock(&s->lock);
    zk_op *ops = s->ops;
    zk_watch *watches = s->watches;
    s->ops = NULL;
    s->watches = NULL;
    pthread_mutex_unlock(&s->lock);
    while (watches) {
        zk_watch *w = watches;
        watches = w->next;
        zk_watch_free(w);
    }
    while (ops) {
        zk_op *op = ops;
        ops = op->next;
        op->watch = NULL;
        if (op->refused)
            zk_op_free(op);
        else
            zk_op_finish(op, ZCLOSING);
    }
    zk_post(s->svc, deliver_closed, s);
    return NULL;
}

static int close_session(coord_session *cs, coord_done_fn done, void *arg) {
    zk_session *s = (zk_session *)cs;
    if (!s->zh || s->closing)
        return COORD_INVALIDSTATE;
    s->closing = 1;
    s->state = COORD_STATE_EXPIRED;
    s->close_done = done;
    s->close_arg = arg;
    s->close_sent_ns = env_now(&s->svc->env);
    s->drain_ms = (long)(s->timeout_ns / 3 * 2 / 1000000u) + 250;
    s->closer_started = pthread_create(&s->closer, NULL, close_session_main, s) == 0;
    if (!s->closer_started)
        close_session_main(s); /* no thread: block the loop instead */
    return 0;
}

static uint64_t session_id(const coord_session *cs) {
    return ((const zk_session *)cs)->session_id;
}

static uint64_t session_timeout_ns(const coord_session *cs) {
    return ((const zk_session *)cs)->timeout_ns;
}

static int session_state(const coord_session *cs) {
    const zk_session *s = (const zk_session *)cs;
    return s->closing ? COORD_STATE_EXPIRED : s->state;
}

const coord_backend zookeeper_backend = {
    .version = 2,
    .name = "zookeeper",
    .session_size = sizeof(zk_session),
    .real_time = 1,
    .service_create = service_create,
    .service_free = service_free,
    .config_check = config_check,
    .open = open_session,
    .close = close_session,
    .create = zk_create,
    .remove = zk_remove,
    .set = zk_set,
    .get = zk_get,
    .exists = zk_exists,
    .children = zk_children,
    .multi = zk_multi,
    .session_id = session_id,
    .session_timeout_ns = session_timeout_ns,
    .state = session_state,
    .sync = zk_sync,
    .faults = &zk_fault_ops,
    .stats = &zk_stats_ops,
};
