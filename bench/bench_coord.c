/* bench_coord.c -- how many coordination operations per second of wall time the
 * in-process ZooKeeper model serves: batches of get, set and exists on a tree of 100
 * nodes from 4 sessions, in virtual time, next to the event loop alone running the
 * same number of no-op timers (two per operation: apply and reply); and the same on
 * three servers whose followers lag 1 ms (views, logged transactions, catch-ups). */
#include <stdio.h>
#include <stdlib.h>

#include "backends/coord.h"
#include "backends/mock/mock.h"
#include "bench/bench_util.h"
#include "sim/env_sim.h"

#define SESSIONS 4
#define NODES 100

static uint64_t completed;

static void done(void *arg, int rc, const coord_result *r) {
    (void)arg, (void)r;
    completed += rc == COORD_OK;
}

static void noop(void *arg, uint64_t a, uint64_t b) {
    (void)arg, (void)a, (void)b;
}

/* Seconds of wall time for ops operations on a service made with cfg (NULL: defaults). */
static double run_mock(const mock_config *cfg, uint64_t ops, uint64_t batch, uint64_t step_ns) {
    env_sim clock;
    mock_zk *zk;
    if (env_sim_init(&clock) || mock_create(&clock.env, cfg, &zk))
        exit(1);
    coord_session *s[SESSIONS];
    for (int i = 0; i < SESSIONS; i++) {
        s[i] = malloc(mock_backend.session_size);
        mock_backend.open(zk, s[i], 10000000000ULL, NULL, NULL);
    }
    env_sim_run_until(&clock, clock.now_ns + 10000000);
    char path[32];
    for (int i = 0; i < NODES; i++) {
        snprintf(path, sizeof path, "/n%d", i);
        coord_create(&mock_backend, s[0], path, "value", 5, 0, done, NULL);
    }
    env_sim_run_until(&clock, clock.now_ns + 10000000);
    completed = 0;
    uint64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < ops; i += batch) {
        for (uint64_t k = 0; k < batch; k++) {
            uint64_t n = i + k;
            coord_session *ss = s[n % SESSIONS];
            snprintf(path, sizeof path, "/n%u", (unsigned)(n % NODES));
            switch (n % 3) {
            case 0:
                coord_get(&mock_backend, ss, path, NULL, NULL, done, NULL);
                break;
            case 1:
                coord_set(&mock_backend, ss, path, "v", 1, -1, done, NULL);
                break;
            default:
                coord_exists(&mock_backend, ss, path, NULL, NULL, done, NULL);
            }
        }
        env_sim_run_until(&clock, clock.now_ns + step_ns); /* past every reply */
    }
    double seconds = (double)(bench_now_ns() - t0) / 1e9;
    for (int i = 0; i < SESSIONS; i++)
        mock_backend.close(s[i], NULL, NULL);
    env_sim_run_until(&clock, clock.now_ns + 100000000000ULL);
    for (int i = 0; i < SESSIONS; i++)
        free(s[i]);
    mock_free(zk);
    env_sim_free(&clock);
    return seconds;
}

int main(int argc, char **argv) {
    const char *out;
    int quick = bench_args(argc, argv, &out);
    uint64_t ops = quick ? 200000 : 2000000, batch = 1000;
    double mock_s = run_mock(NULL, ops, batch, 3000000);
    uint64_t ok = completed;
    /* three servers whose followers lag 1 ms: reads from their views, writes logged; a
     * follower's client reads its own write only a lag later, so a batch takes longer */
    mock_config lagging;
    mock_config_defaults(&lagging);
    lagging.servers = 3;
    lagging.follower_lag_ns = 1000000;
    double lag_s = run_mock(&lagging, ops, batch, 200000000);
    /* the floor: the event loop alone, two timers per operation */
    env_sim clock;
    if (env_sim_init(&clock))
        return 1;
    uint64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < ops; i += batch) {
        for (uint64_t k = 0; k < 2 * batch; k++)
            env_schedule(&clock.env, clock.now_ns + 1000 + k, noop, NULL, 0, 0);
        env_sim_run_until(&clock, clock.now_ns + 3000000);
    }
    double loop_s = (double)(bench_now_ns() - t0) / 1e9;
    env_sim_free(&clock);
    printf("mock: %llu operations (get/set/exists) in %.2f s: %.2f M ops/s (%llu ok)\n",
           (unsigned long long)ops, mock_s, (double)ops / mock_s / 1e6, (unsigned long long)ok);
    printf("mock, 3 servers, followers 1 ms behind: %.2f M ops/s (%llu ok); / 1 server: %.2fx\n",
           (double)ops / lag_s / 1e6, (unsigned long long)completed, lag_s / mock_s);
    printf("event loop alone (2 timers per op): %.2f M ops/s; mock / loop: %.2fx\n",
           (double)ops / loop_s / 1e6, mock_s / loop_s);
    bench_row rows[3] = {
        {"mock get/set/exists", "100 nodes", mock_s * 1e9 / (double)ops, 0, mock_s / loop_s},
        {"mock, lagging followers", "3 servers, 1 ms", lag_s * 1e9 / (double)ops, 0,
         lag_s / loop_s},
        {"event loop, 2 timers", "-", loop_s * 1e9 / (double)ops, 0, 1.0},
    };
    if (bench_write(out, "coord", rows, 3, "ns per op / event-loop ns per op") != 0)
        return 1;
    printf("wrote %s/coord.csv and coord.json\n", out);
    return 0;
}
