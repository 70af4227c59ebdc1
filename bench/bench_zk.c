/* bench_zk.c -- the real ZooKeeper backend (backends/zookeeper) next to the C client's
 * own calls, in the same run, on the same server (ZK_CONNECT or --connect HOST:PORT):
 *
 *   - synchronous latency of create, get, set, exists and delete: one request at a
 *     time, the backend's (request -> its completion run on the loop thread) next to
 *     the client's synchronous zoo_* call; median and p99, ratio backend / raw;
 *   - pipelined asynchronous throughput of creates and sets with 1000 outstanding,
 *     the backend's next to the client's zoo_a* calls; ratio raw / backend time.
 *
 * The backend runs twice: direct (as runs against a real ZooKeeper without client faults
 * could) and through its fault-injection proxy (one more loopback hop per request, what
 * the simulator's real-time runs use). Rounds of raw and backend calls alternate so that a drifting
 * server hits both alike. Figures go to results/bench/zk.csv|json. Without a server it says so and
 * exits 0 (a benchmark, not a test). */
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <zookeeper/zookeeper.h>

#include "backends/coord.h"
#include "bench/bench_util.h"
#include "sim/env_rt.h"

enum { OP_CREATE, OP_GET, OP_SET, OP_EXISTS, OP_DELETE, OPS };
static const char *const op_names[OPS] = {"create", "get", "set", "exists", "delete"};

typedef struct backend_ctx {
    const coord_backend *b;
    void *service;
    coord_session *s;
    env_rt rt;
    int done, rc;
    uint64_t outstanding, completed;
} backend_ctx;

static void sleep_us(long us) {
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static double quantile_us(uint64_t *v, size_t n, double q) {
    qsort(v, n, sizeof *v, cmp_u64);
    size_t i = (size_t)(q * (double)(n - 1) + 0.5);
    return (double)v[i] / 1e3;
}

/* ---- the raw client ---- */

static void raw_watcher(zhandle_t *zh, int type, int state, const char *path, void *ctx) {
    (void)zh, (void)type, (void)state, (void)path, (void)ctx;
}

static zhandle_t *raw_connect(const char *connect) {
    zhandle_t *zh = zookeeper_init(connect, raw_watcher, 10000, NULL, NULL, 0);
    for (int i = 0; zh && i < 1000 && zoo_state(zh) != ZOO_CONNECTED_STATE; i++)
        sleep_us(10000);
    if (zh && zoo_state(zh) != ZOO_CONNECTED_STATE) {
        zookeeper_close(zh);
        return NULL;
    }
    return zh;
}

static int raw_op(zhandle_t *zh, int op, const char *path) {
    char buf[64];
    int len = sizeof buf;
    struct Stat st;
    switch (op) {
    case OP_CREATE:
        return zoo_create(zh, path, "value", 5, &ZOO_OPEN_ACL_UNSAFE, 0, NULL, 0);
    case OP_GET:
        return zoo_get(zh, path, 0, buf, &len, &st);
    case OP_SET:
        return zoo_set(zh, path, "v2", 2, -1);
    case OP_EXISTS:
        return zoo_exists(zh, path, 0, &st);
    default:
        return zoo_delete(zh, path, -1);
    }
}

/* ---- the backend ---- */

static void one_done(void *arg, int rc, const coord_result *res) {
    (void)res;
    backend_ctx *c = arg;
    c->done = 1;
    c->rc = rc;
}

static int is_done(void *arg) {
    return ((backend_ctx *)arg)->done;
}

static int backend_op(backend_ctx *c, int op, const char *path) {
    c->done = 0;
    int rc;
    switch (op) {
    case OP_CREATE:
        rc = coord_create(c->b, c->s, path, "value", 5, 0, one_done, c);
        break;
    case OP_GET:
        rc = coord_get(c->b, c->s, path, NULL, NULL, one_done, c);
        break;
    case OP_SET:
        rc = coord_set(c->b, c->s, path, "v2", 2, -1, one_done, c);
        break;
    case OP_EXISTS:
        rc = coord_exists(c->b, c->s, path, NULL, NULL, one_done, c);
        break;
    default:
        rc = coord_remove(c->b, c->s, path, -1, one_done, c);
    }
    if (rc != 0)
        return rc;
    env_rt_run(&c->rt, env_now(&c->rt.env) + 10000000000ULL, is_done, c);
    return c->done ? c->rc : COORD_OPERATIONTIMEOUT;
}

static int connected(void *arg) {
    const backend_ctx *c = arg;
    return c->b->state(c->s) == COORD_STATE_CONNECTED;
}

static int backend_connect(backend_ctx *c, const char *connect, int direct) {
    char err[256];
    memset(c, 0, sizeof *c);
    c->b = coord_backend_find("zookeeper");
    coord_config cfg;
    coord_config_defaults(&cfg);
    cfg.connect = connect;
    cfg.direct = direct;
    if (!c->b || env_rt_init(&c->rt) != 0 ||
        c->b->service_create(&c->rt.env, &cfg, &c->service, err, sizeof err) != 0)
        return -1;
    c->s = calloc(1, c->b->session_size);
    if (!c->s || c->b->open(c->service, c->s, 10000000000ULL, NULL, NULL) != 0)
        return -1;
    env_rt_run(&c->rt, env_now(&c->rt.env) + 10000000000ULL, connected, c);
    return connected(c) ? 0 : -1;
}

static void closed(void *arg, int rc, const coord_result *res) {
    (void)rc, (void)res;
    ((backend_ctx *)arg)->done = 1;
}

static void backend_close(backend_ctx *c) {
    c->done = 0;
    if (c->b->close(c->s, closed, c) == 0)
        env_rt_run(&c->rt, env_now(&c->rt.env) + 10000000000ULL, is_done, c);
    c->b->service_free(c->service);
    env_rt_free(&c->rt);
    free(c->s);
}

/* ---- synchronous latency ---- */

/* One round of `count` operations of each type on fresh nodes under root; latencies
 * (ns) appended to lat[op] at *n. */
static int sync_round(zhandle_t *zh, backend_ctx *c, int backend, const char *root, int round,
                      size_t count, uint64_t **lat, size_t *n) {
    char path[256];
    for (int op = 0; op < OPS; op++)
        for (size_t i = 0; i < count; i++) {
            snprintf(path, sizeof path, "%s/n%d-%zu", root, round, i);
            uint64_t t0 = bench_now_ns();
            int rc = backend ? backend_op(c, op, path) : raw_op(zh, op, path);
            lat[op][n[op] + i] = bench_now_ns() - t0;
            if (rc != 0) {
                fprintf(stderr, "bench_zk: %s %s %s: %d\n", backend ? "backend" : "raw",
                        op_names[op], path, rc);
                return -1;
            }
        }
    for (int op = 0; op < OPS; op++)
        n[op] += count;
    return 0;
}

/* ---- pipelined throughput ---- */

static atomic_uint_fast64_t raw_outstanding;

static void raw_string_done(int rc, const char *value, const void *data) {
    (void)rc, (void)value, (void)data;
    atomic_fetch_sub(&raw_outstanding, 1);
}

static void raw_stat_done(int rc, const struct Stat *stat, const void *data) {
    (void)rc, (void)stat, (void)data;
    atomic_fetch_sub(&raw_outstanding, 1);
}

/* Seconds for `total` creates (set = 0) or sets of root/p<i> through the raw client,
 * 1000 outstanding at most. */
static double raw_pipelined(zhandle_t *zh, const char *root, uint64_t total, int set) {
    char path[256];
    uint64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < total; i++) {
        while (atomic_load(&raw_outstanding) >= 1000)
            sleep_us(50);
        snprintf(path, sizeof path, "%s/p%" PRIu64, root, i);
        atomic_fetch_add(&raw_outstanding, 1);
        int rc =
            set ? zoo_aset(zh, path, "v", 1, -1, raw_stat_done, NULL)
                : zoo_acreate(zh, path, "v", 1, &ZOO_OPEN_ACL_UNSAFE, 0, raw_string_done, NULL);
        if (rc != ZOK)
            atomic_fetch_sub(&raw_outstanding, 1);
    }
    while (atomic_load(&raw_outstanding) > 0)
        sleep_us(50);
    return (double)(bench_now_ns() - t0) / 1e9;
}

static void pipelined_done(void *arg, int rc, const coord_result *res) {
    (void)rc, (void)res;
    backend_ctx *c = arg;
    c->outstanding--;
    c->completed++;
}

static int below_window(void *arg) {
    return ((backend_ctx *)arg)->outstanding < 1000;
}

static int drained(void *arg) {
    return ((backend_ctx *)arg)->outstanding == 0;
}

static double backend_pipelined(backend_ctx *c, const char *root, uint64_t total, int set,
                                char tag) {
    char path[256];
    uint64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < total; i++) {
        if (c->outstanding >= 1000)
            env_rt_run(&c->rt, env_now(&c->rt.env) + 10000000000ULL, below_window, c);
        snprintf(path, sizeof path, "%s/%c%" PRIu64, root, tag, i);
        int rc = set ? coord_set(c->b, c->s, path, "v", 1, -1, pipelined_done, c)
                     : coord_create(c->b, c->s, path, "v", 1, 0, pipelined_done, c);
        if (rc == 0)
            c->outstanding++;
    }
    env_rt_run(&c->rt, env_now(&c->rt.env) + 60000000000ULL, drained, c);
    return (double)(bench_now_ns() - t0) / 1e9;
}

int main(int argc, char **argv) {
    const char *out = "results/bench", *connect = getenv("ZK_CONNECT");
    int quick = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--connect") == 0 && i + 1 < argc)
            connect = argv[++i];
        else if (strcmp(argv[i], "--quick") == 0)
            quick = 1;
        else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
            out = argv[++i];
        else {
            fprintf(stderr, "usage: bench_zk [--connect HOST:PORT] [--quick] [--out DIR]\n");
            return 2;
        }
    }
    if (!connect || !*connect) {
        printf("bench_zk: no ZooKeeper (set ZK_CONNECT or --connect HOST:PORT): skipped\n");
        return 0;
    }
    zoo_set_debug_level(ZOO_LOG_LEVEL_ERROR);
    FILE *quiet = fopen("/dev/null", "w");
    if (quiet)
        zoo_set_log_stream(quiet);
    zhandle_t *zh = raw_connect(connect);
    static backend_ctx be[2]; /* direct, through the fault proxy */
    if (!zh || backend_connect(&be[0], connect, 1) != 0 ||
        backend_connect(&be[1], connect, 0) != 0) {
        fprintf(stderr, "bench_zk: cannot connect to %s\n", connect);
        return 1;
    }
    char root[128];
    snprintf(root, sizeof root, "/bench-zk-%ld-%lld", (long)getpid(), (long long)time(NULL));
    if (zoo_create(zh, root, NULL, -1, &ZOO_OPEN_ACL_UNSAFE, 0, NULL, 0) != ZOK)
        return 1;
    size_t rounds = quick ? 4 : 10, per_round = quick ? 50 : 200, total = rounds * per_round;
    static const char *const kinds[3] = {"raw", "backend", "backend+proxy"};
    uint64_t *lat[3][OPS];
    size_t n[3][OPS] = {{0}};
    for (int k = 0; k < 3; k++)
        for (int op = 0; op < OPS; op++)
            if (!(lat[k][op] = calloc(total, sizeof **lat[k])))
                return 1;
    char sub[3][160];
    for (int k = 0; k < 3; k++) { /* one folder each: the same names, no clash */
        snprintf(sub[k], sizeof sub[k], "%s/%s", root,
                 k == 0   ? "raw"
                 : k == 1 ? "direct"
                          : "proxy");
        if (zoo_create(zh, sub[k], NULL, -1, &ZOO_OPEN_ACL_UNSAFE, 0, NULL, 0) != ZOK)
            return 1;
    }
    for (size_t r = 0; r < rounds; r++) /* alternate: raw, direct, proxied, raw, ... */
        for (int k = 0; k < 3; k++)
            if (sync_round(zh, k ? &be[k - 1] : NULL, k != 0, sub[k], (int)r, per_round, lat[k],
                           n[k]) != 0)
                return 1;
    bench_row rows[OPS * 3 + 6];
    size_t count = 0;
    printf("synchronous latency, %zu of each, p50 / p99 in us (ratio: p50 / raw p50):\n", total);
    printf("  %-7s %-18s %-26s %s\n", "", "raw C client", "backend (direct)",
           "backend + fault proxy");
    for (int op = 0; op < OPS; op++) {
        double p50[3], p99[3];
        for (int k = 0; k < 3; k++) {
            p50[k] = quantile_us(lat[k][op], total, 0.5);
            p99[k] = quantile_us(lat[k][op], total, 0.99);
            bench_row row = {"", "p50 us", p50[k] * 1e3, p99[k], p50[k] / p50[0]};
            snprintf(row.name, sizeof row.name, "%s %s", kinds[k], op_names[op]);
            rows[count++] = row;
            free(lat[k][op]);
        }
        printf("  %-7s %6.1f / %6.1f    %6.1f / %6.1f (%.2fx)   %6.1f / %6.1f (%.2fx)\n",
               op_names[op], p50[0], p99[0], p50[1], p99[1], p50[1] / p50[0], p50[2], p99[2],
               p50[2] / p50[0]);
    }
    uint64_t piped = quick ? 5000 : 20000;
    for (int set = 0; set <= 1; set++) {
        double t[3];
        t[0] = raw_pipelined(zh, root, piped, set);
        t[1] = backend_pipelined(&be[0], root, piped, set, 'q');
        t[2] = backend_pipelined(&be[1], root, piped, set, 'x');
        const char *what = set ? "sets" : "creates";
        printf("pipelined %s, 1000 outstanding: raw %.0f/s, backend %.0f/s (%.2fx), backend + "
               "proxy %.0f/s (%.2fx)\n",
               what, (double)piped / t[0], (double)piped / t[1], t[0] / t[1], (double)piped / t[2],
               t[0] / t[2]);
        for (int k = 0; k < 3; k++) {
            bench_row row = {"", "1000 outstanding", t[k] * 1e9 / (double)piped, 0, t[0] / t[k]};
            snprintf(row.name, sizeof row.name, "%s pipelined %s", kinds[k], what);
            rows[count++] = row;
        }
    }
    backend_close(&be[0]);
    backend_close(&be[1]);
    zookeeper_close(zh);
    if (bench_write(out, "zk", rows, count,
                    "sync: p50 / raw p50 (gbps column: p99 us); pipelined: raw time / time") != 0)
        return 1;
    printf("wrote %s/zk.csv and zk.json\n", out);
    return 0;
}
