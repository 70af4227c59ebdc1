/* zk_proxy.h -- a small loopback TCP proxy between each ZooKeeper client and the
 * servers, so that the backend can do to a real client what the network or the
 * operating system would: break its connection, cut it off (a partition), or make it
 * vanish as a killed process does. Internal to backends/zookeeper.
 *
 * One proxy per service: a thread that polls every socket, woken through a pipe. Each
 * session gets a route: one listener on 127.0.0.1 (an ephemeral port) per server of the
 * connect string, so the client keeps its own choice of server and its failover; a
 * connection accepted on listener k is forwarded to server k.
 *
 * A route is OPEN (forwarding), PARTITIONED (nothing is read, written or accepted: the
 * bytes wait in the kernel as in a real partition, and reconnect attempts get no
 * answer; back to OPEN, the connections made meanwhile are closed unanswered, and the
 * old ones carry on), or DEAD (a killed process: its connections are closed at once,
 * both ways, as the kernel would, and nothing is accepted again).
 *
 * Threads: every function may be called from any thread. Ownership: the proxy owns its
 * routes; a route is freed by the proxy thread after zk_proxy_route_close (or by
 * zk_proxy_stop). */
#ifndef SHARDSIM_BACKENDS_ZOOKEEPER_ZK_PROXY_H
#define SHARDSIM_BACKENDS_ZOOKEEPER_ZK_PROXY_H

#include <stddef.h>
#include <sys/socket.h>

typedef struct zk_proxy zk_proxy;
typedef struct zk_route zk_route;

/* A server's address, resolved once by the service. */
typedef struct zk_upstream {
    struct sockaddr_storage addr;
    socklen_t len;
} zk_upstream;

enum { ZK_ROUTE_OPEN, ZK_ROUTE_PARTITIONED, ZK_ROUTE_DEAD };

/* Start the proxy thread for count servers (copied). Returns 0 or SS_ENOMEM / SS_EIO. */
int zk_proxy_start(const zk_upstream *servers, size_t count, zk_proxy **out);
/* Stop the thread and close and free everything, routes included. */
void zk_proxy_stop(zk_proxy *p);

/* A new OPEN route; writes the client's connect string ("127.0.0.1:PORT,...") into
 * connect. Returns 0, SS_EIO (no socket) or SS_ERANGE (connect too small). */
int zk_proxy_route_open(zk_proxy *p, zk_route **out, char *connect, size_t connect_size);
/* Close the route's listeners and connections, then free it; r is gone after this. */
void zk_proxy_route_close(zk_proxy *p, zk_route *r);
/* ZK_ROUTE_*; a DEAD route stays dead. */
void zk_proxy_route_set(zk_proxy *p, zk_route *r, int mode);
/* Close the route's current connections (both ways); the client reconnects. */
void zk_proxy_route_drop(zk_proxy *p, zk_route *r);

#endif
