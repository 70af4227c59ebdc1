/* zk_proxy.c -- the per-session loopback proxies of the ZooKeeper backend; see
 * zk_proxy.h. One thread polls the wake-up pipe, the listeners of OPEN routes and the
 * sockets of their connections; commands from other threads only set flags under the
 * lock and write a byte to the pipe, and the thread applies them at the top of its
 * loop, so sockets are only ever touched by the thread (and by route_open, before the
 * route is shared). Each direction of a connection has one buffer: it is read into
 * when empty and written out until empty, so a slow side stalls only its own stream. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "backends/zookeeper/zk_proxy.h"
#include "core/error.h"

enum { BUF_BYTES = 64 * 1024, LISTEN_BACKLOG = 8 };

typedef struct zk_conn {
    zk_route *route;
    int client_fd, server_fd;
    int connecting; /* the connect to the server is in progress */
    int dead;
    short client_revents, server_revents;
    size_t up_off, up_len; /* client -> server */
    size_t down_off, down_len;
    struct zk_conn *next;
    unsigned char up[BUF_BYTES], down[BUF_BYTES];
} zk_conn;

struct zk_route {
    int *listen_fd; /* one per server */
    /* guarded by the proxy's lock: */
    int mode;          /* ZK_ROUTE_* */
    int drop_pending;  /* close the connections */
    int drain_pending; /* healed: close what was accepted by the kernel meanwhile */
    int closing;
    zk_route *next;
};

/* What a pollfd belongs to. */
typedef struct poll_owner {
    enum { OWNER_PIPE, OWNER_LISTENER, OWNER_CLIENT, OWNER_SERVER } kind;
    zk_route *route; /* listener */
    size_t k;        /* listener: its server */
    zk_conn *conn;   /* client or server side */
} poll_owner;

struct zk_proxy {
    pthread_t thread;
    pthread_mutex_t lock;
    int wake[2]; /* pipe: [0] polled by the thread */
    zk_upstream *servers;
    size_t server_count;
    zk_route *routes; /* guarded by lock; unlinked and freed by the thread only */
    int stopping;     /* guarded by lock */
    /* the thread's own */
    zk_conn *conns;
    struct pollfd *fds;
    poll_owner *owners; /* per pollfd */
    size_t fd_cap;
};

/* ---------- sockets ---------- */

static int set_nonblocking(int fd) {
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return -1;
    return fcntl(fd, F_SETFD, FD_CLOEXEC);
}

static void set_nodelay(int fd) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static void close_fd(int *fd) {
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

static void wake_thread(zk_proxy *p) {
    unsigned char b = 1;
    ssize_t n = write(p->wake[1], &b, 1); /* full pipe: a wake-up is already pending */
    (void)n;
}

/* A listener on 127.0.0.1 at an ephemeral port; *port gets the port. */
static int listen_loopback(int *port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (set_nonblocking(fd) < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 ||
        listen(fd, LISTEN_BACKLOG) < 0 || getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
        close(fd);
        return -1;
    }
    *port = ntohs(a.sin_port);
    return fd;
}

/* ---------- connections (the thread's) ---------- */

static void conn_free(zk_conn *c) {
    close_fd(&c->client_fd);
    close_fd(&c->server_fd);
    free(c);
}

/* Accept one client on listener k of r and start connecting it to server k. A failed
 * connect closes the client: it sees its connection refused, as without a proxy. */
static void conn_accept(zk_proxy *p, zk_route *r, size_t k) {
    int fd = accept(r->listen_fd[k], NULL, NULL);
    if (fd < 0)
        return;
    zk_conn *c = calloc(1, sizeof *c);
    if (!c || set_nonblocking(fd) < 0) {
        free(c);
        close(fd);
        return;
    }
    c->route = r;
    c->client_fd = fd;
    set_nodelay(fd);
    const zk_upstream *u = &p->servers[k];
    c->server_fd = socket(u->addr.ss_family, SOCK_STREAM, 0);
    if (c->server_fd < 0 || set_nonblocking(c->server_fd) < 0) {
        conn_free(c);
        return;
    }
    set_nodelay(c->server_fd);
    if (connect(c->server_fd, (const struct sockaddr *)&u->addr, u->len) < 0) {
        if (errno != EINPROGRESS) {
            conn_free(c);
            return;
        }
        c->connecting = 1;
    }
    c->next = p->conns;
    p->conns = c;
}

static int would_block(void) {
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
}

/* Read from `from` into an empty buffer. Returns -1 when that side is over. */
static int fill(int from, short revents, unsigned char *buf, size_t *off, size_t *len) {
    if (*len != 0 || !(revents & (POLLIN | POLLHUP | POLLERR)))
        return 0;
    ssize_t n = recv(from, buf, BUF_BYTES, 0);
    if (n == 0 || (n < 0 && !would_block()))
        return -1;
    if (n > 0) {
        *off = 0;
        *len = (size_t)n;
    }
    return 0;
}

/* Write what the buffer holds to `to` (tried at once: it is usually writable). */
static int flush(int to, unsigned char *buf, size_t *off, size_t *len) {
    if (*len == *off)
        return 0;
    ssize_t n = send(to, buf + *off, *len - *off, MSG_NOSIGNAL);
    if (n < 0 && !would_block())
        return -1;
    if (n > 0)
        *off += (size_t)n;
    if (*off == *len)
        *off = *len = 0;
    return 0;
}

static void conn_service(zk_conn *c) {
    if (c->connecting && (c->server_revents & (POLLOUT | POLLERR | POLLHUP))) {
        int err = 0;
        socklen_t len = sizeof err;
        if (getsockopt(c->server_fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err != 0) {
            c->dead = 1;
            return;
        }
        c->connecting = 0;
    }
    /* while connecting, the client's first bytes wait in its buffer */
    if (fill(c->client_fd, c->client_revents, c->up, &c->up_off, &c->up_len) < 0 ||
        (!c->connecting &&
         (flush(c->server_fd, c->up, &c->up_off, &c->up_len) < 0 ||
          fill(c->server_fd, c->server_revents, c->down, &c->down_off, &c->down_len) < 0 ||
          flush(c->client_fd, c->down, &c->down_off, &c->down_len) < 0)))
        c->dead = 1;
}

/* Mark the connections of r for closing. */
static void close_conns(zk_proxy *p, const zk_route *r) {
    for (zk_conn *c = p->conns; c; c = c->next)
        if (c->route == r)
            c->dead = 1;
}

static void sweep_dead(zk_proxy *p) {
    zk_conn **link = &p->conns;
    while (*link) {
        zk_conn *c = *link;
        if (c->dead) {
            *link = c->next;
            conn_free(c);
        } else {
            link = &c->next;
        }
    }
}

/* ---------- the thread ---------- */

static void route_free(zk_proxy *p, zk_route *r) {
    for (size_t k = 0; k < p->server_count; k++)
        close_fd(&r->listen_fd[k]);
    free(r->listen_fd);
    free(r);
}

/* Connections the kernel accepted on r's listeners while it was cut off: in a real
 * partition those attempts never got through, so they are closed unanswered. */
static void drain_backlog(zk_proxy *p, zk_route *r) {
    for (size_t k = 0; k < p->server_count; k++) {
        int fd;
        while ((fd = accept(r->listen_fd[k], NULL, NULL)) >= 0)
            close(fd);
    }
}

/* Apply the commands (under the lock): free closing routes, drop, drain, kill. */
static void apply_commands(zk_proxy *p) {
    zk_route **link = &p->routes;
    while (*link) {
        zk_route *r = *link;
        if (r->closing || r->drop_pending || r->mode == ZK_ROUTE_DEAD)
            close_conns(p, r);
        r->drop_pending = 0;
        if (r->drain_pending && r->mode == ZK_ROUTE_OPEN)
            drain_backlog(p, r);
        r->drain_pending = 0;
        if (r->closing) {
            *link = r->next;
            sweep_dead(p);
            route_free(p, r);
        } else {
            link = &r->next;
        }
    }
    sweep_dead(p);
}

static int grow_fds(zk_proxy *p, size_t need) {
    if (need <= p->fd_cap)
        return 0;
    size_t cap = need * 2;
    struct pollfd *fds = realloc(p->fds, cap * sizeof *fds);
    if (!fds)
        return -1;
    p->fds = fds;
    poll_owner *owners = realloc(p->owners, cap * sizeof *owners);
    if (!owners)
        return -1;
    p->owners = owners;
    p->fd_cap = cap;
    return 0;
}

static void add_fd(zk_proxy *p, size_t *n, int fd, short events, poll_owner owner) {
    p->fds[*n].fd = fd;
    p->fds[*n].events = events;
    p->fds[*n].revents = 0;
    p->owners[*n] = owner;
    (*n)++;
}

/* The poll set (under the lock): the pipe, OPEN routes' listeners and connections. */
static size_t build_poll_set(zk_proxy *p) {
    size_t need = 1, n = 0;
    for (zk_route *r = p->routes; r; r = r->next)
        need += p->server_count;
    for (zk_conn *c = p->conns; c; c = c->next)
        need += 2;
    if (grow_fds(p, need) < 0)
        return 0;
    add_fd(p, &n, p->wake[0], POLLIN, (poll_owner){OWNER_PIPE, NULL, 0, NULL});
    for (zk_route *r = p->routes; r; r = r->next)
        if (r->mode == ZK_ROUTE_OPEN)
            for (size_t k = 0; k < p->server_count; k++)
                add_fd(p, &n, r->listen_fd[k], POLLIN, (poll_owner){OWNER_LISTENER, r, k, NULL});
    for (zk_conn *c = p->conns; c; c = c->next) {
        c->client_revents = c->server_revents = 0;
        if (c->route->mode != ZK_ROUTE_OPEN)
            continue; /* cut off: nothing moves, nothing is noticed */
        short ce = (short)((c->up_len == 0 ? POLLIN : 0) | (c->down_len > 0 ? POLLOUT : 0));
        short se = c->connecting
                       ? POLLOUT
                       : (short)((c->down_len == 0 ? POLLIN : 0) | (c->up_len > 0 ? POLLOUT : 0));
        add_fd(p, &n, c->client_fd, ce, (poll_owner){OWNER_CLIENT, NULL, 0, c});
        add_fd(p, &n, c->server_fd, se, (poll_owner){OWNER_SERVER, NULL, 0, c});
    }
    return n;
}

static void handle_events(zk_proxy *p, size_t n) {
    for (size_t i = 0; i < n; i++) {
        const poll_owner *o = &p->owners[i];
        short rev = p->fds[i].revents;
        if (!rev)
            continue;
        if (o->kind == OWNER_PIPE) {
            unsigned char drain[64];
            while (read(p->wake[0], drain, sizeof drain) > 0)
                ;
        } else if (o->kind == OWNER_LISTENER) {
            conn_accept(p, o->route, o->k); /* new connections come first in p->conns */
        } else if (o->kind == OWNER_CLIENT) {
            o->conn->client_revents = rev;
        } else {
            o->conn->server_revents = rev;
        }
    }
    for (zk_conn *c = p->conns; c; c = c->next)
        if (c->client_revents || c->server_revents)
            conn_service(c);
    sweep_dead(p);
}

static void *proxy_main(void *arg) {
    zk_proxy *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->lock);
        if (p->stopping) {
            pthread_mutex_unlock(&p->lock);
            return NULL;
        }
        apply_commands(p);
        size_t n = build_poll_set(p);
        pthread_mutex_unlock(&p->lock);
        if (n == 0) { /* out of memory for the poll set: wait for a command */
            struct pollfd w = {p->wake[0], POLLIN, 0};
            poll(&w, 1, 100);
            continue;
        }
        if (poll(p->fds, (nfds_t)n, -1) < 0)
            continue; /* EINTR */
        handle_events(p, n);
    }
}

/* ---------- the API ---------- */

int zk_proxy_start(const zk_upstream *servers, size_t count, zk_proxy **out) {
    zk_proxy *p = calloc(1, sizeof *p);
    if (!p)
        return SS_ENOMEM;
    p->wake[0] = p->wake[1] = -1;
    p->servers = malloc(count * sizeof *servers);
    if (!p->servers) {
        free(p);
        return SS_ENOMEM;
    }
    memcpy(p->servers, servers, count * sizeof *servers);
    p->server_count = count;
    if (pipe(p->wake) < 0 || set_nonblocking(p->wake[0]) < 0 || set_nonblocking(p->wake[1]) < 0)
        goto fail;
    if (pthread_mutex_init(&p->lock, NULL) != 0)
        goto fail;
    if (pthread_create(&p->thread, NULL, proxy_main, p) != 0) {
        pthread_mutex_destroy(&p->lock);
        goto fail;
    }
    *out = p;
    return 0;
fail:
    close_fd(&p->wake[0]);
    close_fd(&p->wake[1]);
    free(p->servers);
    free(p);
    return SS_EIO;
}

void zk_proxy_stop(zk_proxy *p) {
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->stopping = 1;
    pthread_mutex_unlock(&p->lock);
    wake_thread(p);
    pthread_join(p->thread, NULL);
    while (p->conns) {
        zk_conn *c = p->conns;
        p->conns = c->next;
        conn_free(c);
    }
    while (p->routes) {
        zk_route *r = p->routes;
        p->routes = r->next;
        route_free(p, r);
    }
    pthread_mutex_destroy(&p->lock);
    close_fd(&p->wake[0]);
    close_fd(&p->wake[1]);
    free(p->fds);
    free(p->owners);
    free(p->servers);
    free(p);
}

int zk_proxy_route_open(zk_proxy *p, zk_route **out, char *connect, size_t connect_size) {
    zk_route *r = calloc(1, sizeof *r);
    int *fds = r ? malloc(p->server_count * sizeof *fds) : NULL;
    if (!fds) {
        free(r);
        return SS_ENOMEM;
    }
    r->listen_fd = fds;
    for (size_t k = 0; k < p->server_count; k++)
        fds[k] = -1;
    size_t used = 0;
    for (size_t k = 0; k < p->server_count; k++) {
        int port;
        fds[k] = listen_loopback(&port);
        if (fds[k] < 0) {
            route_free(p, r);
            return SS_EIO;
        }
        int w = snprintf(connect + used, connect_size - used, "%s127.0.0.1:%d", k ? "," : "", port);
        if (w < 0 || (size_t)w >= connect_size - used) {
            route_free(p, r);
            return SS_ERANGE;
        }
        used += (size_t)w;
    }
    r->mode = ZK_ROUTE_OPEN;
    pthread_mutex_lock(&p->lock);
    r->next = p->routes;
    p->routes = r;
    pthread_mutex_unlock(&p->lock);
    wake_thread(p);
    *out = r;
    return 0;
}

static void command(zk_proxy *p, zk_route *r, int close_route, int drop, int mode) {
    pthread_mutex_lock(&p->lock);
    if (close_route)
        r->closing = 1;
    if (drop)
        r->drop_pending = 1;
    if (mode >= 0 && r->mode != ZK_ROUTE_DEAD) {
        if (r->mode == ZK_ROUTE_PARTITIONED && mode == ZK_ROUTE_OPEN)
            r->drain_pending = 1;
        r->mode = mode;
    }
    pthread_mutex_unlock(&p->lock);
    wake_thread(p);
}

void zk_proxy_route_close(zk_proxy *p, zk_route *r) {
    command(p, r, 1, 0, -1);
}

void zk_proxy_route_set(zk_proxy *p, zk_route *r, int mode) {
    command(p, r, 0, 0, mode);
}

void zk_proxy_route_drop(zk_proxy *p, zk_route *r) {
    command(p, r, 0, 1, -1);
}
