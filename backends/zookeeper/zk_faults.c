/* zk_faults.c -- what the ZooKeeper backend can do to a real client (zk.h): drop its
 * connection, cut it off, kill it -- through its proxy route (zk_proxy.h) -- and expire
 * its session on the server; and the statistics table. All of it runs on the loop
 * thread, except the expire helper's own thread. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backends/zookeeper/zk_internal.h"
#include "core/error.h"

/* ---------- faults through the proxy ---------- */

static zk_session *usable(void *service, coord_session *cs) {
    zk_session *s = (zk_session *)cs;
    return s && s->svc == service && s->zh && !s->closing ? s : NULL;
}

/* A client fault needs the proxy route (not in direct mode). */
static zk_session *routed(void *service, coord_session *cs) {
    zk_session *s = usable(service, cs);
    return s && s->svc->proxy ? s : NULL;
}

static int kill_client(void *service, coord_session *cs) {
    zk_session *s = routed(service, cs);
    if (!s)
        return COORD_INVALIDSTATE;
    s->killed = 1;
    zk_proxy_route_set(s->svc->proxy, s->route, ZK_ROUTE_DEAD);
    return 0;
}

static int drop_connection(void *service, coord_session *cs) {
    zk_session *s = routed(service, cs);
    if (!s)
        return COORD_INVALIDSTATE;
    zk_proxy_route_drop(s->svc->proxy, s->route);
    return 0;
}

/* The end of a partition: the latest-ending one heals the route. */
static void partition_end(void *arg, uint64_t a, uint64_t b) {
    zk_service *svc = arg;
    zk_session *s = zk_session_at(svc, a, b);
    if (s && env_now(&svc->env) >= s->partition_until_ns)
        zk_proxy_route_set(svc->proxy, s->route, ZK_ROUTE_OPEN);
}

static int partition_client(void *service, coord_session *cs, uint64_t duration_ns) {
    zk_session *s = routed(service, cs);
    if (!s)
        return COORD_INVALIDSTATE;
    if (duration_ns == 0)
        return 0;
    zk_service *svc = s->svc;
    uint64_t now = env_now(&svc->env);
    uint64_t until = duration_ns > UINT64_MAX - now ? UINT64_MAX : now + duration_ns;
    if (until <= s->partition_until_ns)
        return 0; /* inside a longer partition already */
    int rc = env_schedule(&svc->env, until, partition_end, svc, s->slot, s->generation);
    if (rc != 0)
        return rc;
    s->partition_until_ns = until;
    zk_proxy_route_set(svc->proxy, s->route, ZK_ROUTE_PARTITIONED);
    return 0;
}

/* ---------- expire_session: a second handle attaches to the session and closes it ---------- */

static void expirer_event(zhandle_t *zh, int type, int state, const char *path, void *ctx) {
    (void)zh, (void)path;
    zk_expirer *x = ctx;
    if (type != ZOO_SESSION_EVENT)
        return;
    if (state == ZOO_CONNECTED_STATE)
        atomic_store(&x->connected, 1);
    else if (state == ZOO_EXPIRED_SESSION_STATE || state == ZOO_AUTH_FAILED_STATE)
        atomic_store(&x->gone, 1); /* the session ended already */
}

/* Attach (directly, not through the proxy), wait for the server to accept -- at most
 * twice the session timeout, in 5 ms naps -- and close: the server ends the session
 * and closes its other connection; its client hears EXPIRED when it reconnects. */
static void *expirer_main(void *arg) {
    zk_expirer *x = arg;
    zhandle_t *zh = zookeeper_init(x->connect, expirer_event, x->timeout_ms, &x->client_id, x, 0);
    if (zh) {
        long naps = 2L * x->timeout_ms / 5 + 200;
        struct timespec nap = {0, 5000000};
        for (long i = 0; i < naps && !atomic_load(&x->connected) && !atomic_load(&x->gone); i++)
            nanosleep(&nap, NULL);
        zookeeper_close(zh);
    }
    atomic_store(&x->finished, 1);
    return NULL;
}

void zk_expirers_reap(zk_service *svc, int all) {
    zk_expirer **link = &svc->expirers;
    while (*link) {
        zk_expirer *x = *link;
        if (all || atomic_load(&x->finished)) {
            pthread_join(x->thread, NULL);
            *link = x->next;
            free(x->connect);
            free(x);
        } else {
            link = &x->next;
        }
    }
}

static int expire_session(void *service, coord_session *cs) {
    zk_session *s = usable(service, cs);
    if (!s || !s->ever_connected)
        return COORD_INVALIDSTATE; /* no session on the server yet */
    zk_service *svc = s->svc;
    zk_expirers_reap(svc, 0);
    zk_expirer *x = calloc(1, sizeof *x);
    if (!x || !(x->connect = malloc(strlen(svc->connect) + 1))) {
        free(x);
        return SS_ENOMEM;
    }
    strcpy(x->connect, svc->connect);
    x->client_id = s->client_id;
    uint64_t ms = s->timeout_ns / 1000000u;
    x->timeout_ms = ms < 1 ? 1 : ms > 0x7fffffff ? 0x7fffffff : (int)ms;
    atomic_init(&x->connected, 0);
    atomic_init(&x->gone, 0);
    atomic_init(&x->finished, 0);
    if (pthread_create(&x->thread, NULL, expirer_main, x) != 0) {
        free(x->connect);
        free(x);
        return SS_ENOMEM;
    }
    x->next = svc->expirers;
    svc->expirers = x;
    /* The attach moves the session to the expirer's connection, and the server closes
     * the client's: were the client to reconnect at once, it would move the session
     * back before the expirer closes it (seen under load). So the client is cut off for
     * half its timeout -- the expirer needs milliseconds -- and then hears EXPIRED. */
    if (svc->proxy)
        partition_client(service, cs, s->timeout_ns / 2);
    return 0;
}

const coord_fault_ops zk_fault_ops = {
    .kill_client = kill_client,
    .drop_connection = drop_connection,
    .partition_client = partition_client,
    .expire_session = expire_session,
    .crash_server = NULL,   /* servers are run by scripts (tests/zk_server.sh) */
    .restart_server = NULL, /* likewise */
    .slow = NULL,           /* not modelled on a real service */
};

/* ---------- statistics ---------- */

static uint64_t ops_applied(const void *service) {
    return ((const zk_service *)service)->ops_applied;
}

static uint64_t sessions_expired(const void *service) {
    return ((const zk_service *)service)->sessions_expired;
}

static uint64_t op_count(const void *service, int type) {
    const zk_service *svc = service;
    return type >= 0 && type < COORD_OPTYPES ? svc->replies[type] : 0;
}

static const hist *op_histogram(const void *service, int type) {
    const zk_service *svc = service;
    return type >= 0 && type < COORD_OPTYPES ? &svc->latency[type] : NULL;
}

const coord_stats_ops zk_stats_ops = {
    .ops_applied = ops_applied,
    .sessions_expired = sessions_expired,
    .op_count = op_count,
    .op_histogram = op_histogram,
};
