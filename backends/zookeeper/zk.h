/* zk.h -- the real ZooKeeper backend: backends/coord.h over ZooKeeper's C client
 * (libzookeeper_mt, 3.8; built when CMake finds it, SHARDSIM_HAVE_ZOOKEEPER), with its
 * asynchronous API. Chosen by name, "zookeeper" (backends/registry.c). The service is
 * a connection configuration (coord_config.connect, "host:port[,host:port...]", each
 * resolved once by service_create) plus a loopback proxy; each session is one client
 * handle (zookeeper_init), reached through its own proxy route (zk_proxy.h) so that
 * faults can be injected into a real client (the price: one more loopback hop per
 * request, in both directions).
 *
 * Threads: the C client runs two threads per session (I/O and completions). Completions,
 * watch events and session events are copied there into heap messages and handed to
 * the env's loop with env_post, so every coord.h callback runs on the loop thread; the
 * env must therefore have a thread-safe post that wakes its loop (sim/env_rt.h), not
 * virtual time (the table says real_time = 1). Every coord.h entry is to be called on
 * the loop thread.
 *
 * Closing: close hands the handle to a helper thread, which first waits for the calls
 * in flight to come back with their real results (at most 2/3 of the session timeout and
 * a little: the client gives up on a server silent that long and fails them itself),
 * because the C client, closed with completions it has not run yet, completes them
 * with CLOSING or drops them (and leaks them); then zookeeper_close (it flushes the
 * close request and waits up to 1.5 s for the server's answer); then whatever the
 * client still dropped completes with CLOSING from here; and close's callback is posted
 * last, so it runs after everything else of the session.
 *
 * Global state: the C client's log stream and level are process-global
 * (zoo_set_log_stream, zoo_set_debug_level), so they are the only global state here:
 * the service created last decides where every handle logs -- cfg->log_path (appended),
 * or nowhere (level ERROR into /dev/null) when it is NULL; never the terminal. Streams
 * are closed when the last service is freed.
 *
 * Connect strings: "host:port[,host:port...]", ports 1..65535, IPv6 hosts in brackets,
 * no chroot suffix; config_check and service_create refuse anything else (and a host
 * that does not resolve) with one line naming the string. config_check also wants one
 * server to accept a TCP connection (within 0.5 s each): a run needs one. service_create
 * does not: its sessions wait for a server (DISCONNECTED).
 *
 * Sessions: open starts connecting and returns; the state is DISCONNECTED until the
 * client connects. If it has not connected within cfg->connect_timeout_ns, on_state
 * gets DISCONNECTED once more (the client keeps trying; the caller decides, e.g. to
 * close). The session id is 0 and session_timeout_ns the requested one until the first
 * connection. After close is called, state() is EXPIRED and no state or watch callback
 * runs; completions still do.
 *
 * Faults (the `faults` table): drop_connection closes the client's TCP connection at
 * the proxy (the client sees CONNECTIONLOSS and reconnects); partition_client makes its
 * route silent for duration_ns (nothing passes, reconnects go unanswered; after it the
 * old connection carries on if both ends kept it); kill_client closes its connections
 * and answers no later one (they wait unaccepted), as a dead process would: the server expires the
 * session after its timeout, the session's state and watch callbacks stop, new operations fail with
 * CONNECTIONLOSS, pending ones complete as the client gives up on them (CONNECTIONLOSS)
 * and close completes without reaching the server; expire_session expires the session
 * on the server now, the way ZooKeeper's own tests do: a second handle attaches to the
 * session (its id and password) directly, not through the proxy, and closes it -- the
 * client learns it as EXPIRED when it reconnects. crash_server, restart_server and slow
 * are NULL: servers are run by scripts (tests/zk_server.sh).
 *
 * What it cannot do: run in virtual time or deterministically; pass chroot suffixes,
 * ACLs, authentication, TTL or container nodes, read-only mode or reconfiguration.
 * Operations refused by the client at once return its code (e.g. INVALIDSTATE once
 * the session expired), where the model completes them later.
 *
 * Statistics (the `stats` table): per COORD_OPTYPE_*, replies counted and their latency
 * measured on the loop, from the call to the callback running; ops_applied counts
 * successful creates, deletes, sets and multis; sessions_expired the sessions that saw
 * EXPIRED.
 *
 * Ownership: as coord.h; the caller allocates zookeeper_backend.session_size bytes per
 * session and keeps them until close's callback ran. Timers of the service (the
 * connect deadline, a partition's end) may still sit in the env after service_free:
 * free the env, or stop running it, after freeing the service. */
#ifndef SHARDSIM_BACKENDS_ZOOKEEPER_ZK_H
#define SHARDSIM_BACKENDS_ZOOKEEPER_ZK_H

#include "backends/coord.h"

extern const coord_backend zookeeper_backend;

#endif
