/* test_coord_mutations.c -- the coordination side's built-in bugs (issue 10): each
 * one's direct effect on the ZooKeeper model or the recipes, shown next to the
 * correct behaviour with the bug off; then, per mutation, a seed loop over the
 * default campaign (bench/scenarios/campaign.ini) that must catch it -- a broken
 * invariant or a failed run -- within 1000 seeds, printing seeds-to-detection, and
 * passing that seed without the mutation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "backends/mock/mock.h"
#include "backends/recipes/recipes.h"
#include "sim/config.h"
#include "sim/env_sim.h"
#include "sim/sim.h"
#include "tests/simutil.h"
#include "tests/testutil.h"

#define SEC 1000000000ULL
#define MS 1000000ULL

/* ---------- the model with three sessions ---------- */

typedef struct client {
    coord_session *s;
    recipe_latch latch;
    int leads, rc;
    char path[64];     /* create's actual path */
    char log[16];      /* 'W' per watch event, 'R' per reply of a read, in order */
    int32_t version;   /* of the last read's stat */
    int64_t values[4]; /* counter values */
    int value_count;
} client;

static env_sim clock;
static mock_zk *zk;
static client cl[3];

static void run(uint64_t ns) {
    env_sim_run_until(&clock, clock.now_ns + ns);
}

static void on_state(void *arg, int state) {
    recipe_latch_session_state(&((client *)arg)->latch, state);
}

static void start(uint32_t mutations) {
    mock_config cfg;
    mock_config_defaults(&cfg);
    cfg.random_phases = 0;
    cfg.mutations = mutations;
    assert_int_equal(env_sim_init(&clock), 0);
    assert_int_equal(mock_create(&clock.env, &cfg, &zk), 0);
    for (int i = 0; i < 3; i++) {
        memset(&cl[i], 0, sizeof cl[i]);
        cl[i].s = malloc(mock_backend.session_size);
        assert_non_null(cl[i].s);
        assert_int_equal(mock_backend.open(zk, cl[i].s, 4 * SEC, on_state, &cl[i]), 0);
    }
    run(SEC / 10);
}

static void stop(void) {
    for (int i = 0; i < 3; i++)
        mock_backend.close(cl[i].s, NULL, NULL);
    run(1000 * SEC);
    mock_free(zk);
    env_sim_free(&clock);
    for (int i = 0; i < 3; i++)
        free(cl[i].s);
}

static void on_done(void *arg, int rc, const coord_result *res) {
    client *c = arg;
    c->rc = rc;
    if (rc == COORD_OK && res->path)
        snprintf(c->path, sizeof c->path, "%s", res->path);
}

/* A synchronous call: issue it, run the model, return its code. */
#define SYNC(c, call) ((c)->rc = 99, assert_int_equal((call), 0), run(SEC / 10), (c)->rc)

static int create(client *c, const char *path, int flags) {
    return SYNC(c, coord_create(&mock_backend, c->s, path, NULL, 0, flags, on_done, c));
}

static int exists(client *c, const char *path) {
    return SYNC(c, coord_exists(&mock_backend, c->s, path, NULL, NULL, on_done, c));
}

/* ---------- ephemeral-survives ---------- */

static int ephemeral_after_expiry(uint32_t mutations, int *after_close) {
    start(mutations);
    assert_int_equal(create(&cl[0], "/e", COORD_EPHEMERAL), COORD_OK);
    assert_int_equal(create(&cl[1], "/f", COORD_EPHEMERAL), COORD_OK);
    mock_expire_session(zk, cl[0].s);
    mock_backend.close(cl[1].s, on_done, &cl[1]);
    run(SEC);
    *after_close = exists(&cl[2], "/f");
    int rc = exists(&cl[2], "/e");
    stop();
    return rc;
}

static void ephemerals_survive_expiry(void **state) {
    (void)state;
    int closed;
    assert_int_equal(ephemeral_after_expiry(0, &closed), COORD_NONODE);
    assert_int_equal(closed, COORD_NONODE);
    assert_int_equal(ephemeral_after_expiry(COORD_MUT_EPHEMERAL_SURVIVES, &closed), COORD_OK);
    assert_int_equal(closed, COORD_NONODE); /* a closed session's still go */
}

/* ---------- watch-after-reply ---------- */

static void on_watch(void *arg, int event, const char *path) {
    (void)event, (void)path;
    client *c = arg;
    c->log[strlen(c->log)] = 'W';
}

static void on_read(void *arg, int rc, const coord_result *res) {
    client *c = arg;
    c->log[strlen(c->log)] = 'R';
    c->version = rc == COORD_OK ? res->stat.version : -1;
}

/* Client 1 watches /w; client 0 sets it (sent now, with the model running). */
static void watched_set(uint32_t mutations) {
    start(mutations);
    assert_int_equal(create(&cl[0], "/w", 0), COORD_OK);
    assert_int_equal(coord_get(&mock_backend, cl[1].s, "/w", on_watch, &cl[1], on_read, &cl[1]), 0);
    run(SEC / 10);
    memset(cl[1].log, 0, sizeof cl[1].log);
    assert_int_equal(coord_set(&mock_backend, cl[0].s, "/w", "x", 1, -1, on_done, &cl[0]), 0);
}

/* After watched_set, client 1 reads /w just after the set applied, so that the read's
 * reply (with the new data) is due with the watch event: a write applies 1 ms after
 * it is sent and its events go out 1 ms later; a read sent at 1.5 ms applies at
 * 1.75 ms and its reply arrives at 2 ms too. Returns client 1's log: the events and
 * replies in the order it saw them. */
static const char *watch_then_read(uint32_t mutations, char *out, size_t size, int *version) {
    watched_set(mutations);
    run(3 * MS / 2);
    assert_int_equal(coord_get(&mock_backend, cl[1].s, "/w", NULL, NULL, on_read, &cl[1]), 0);
    run(SEC / 10);
    snprintf(out, size, "%s", cl[1].log);
    *version = cl[1].version;
    stop();
    return out;
}

/* Does client 1 hear the event when it sends nothing more after the change? */
static int watch_heard_when_idle(uint32_t mutations) {
    watched_set(mutations);
    run(10 * SEC);
    int heard = strchr(cl[1].log, 'W') != NULL;
    stop();
    return heard;
}

static void watches_come_after_the_reply(void **state) {
    (void)state;
    char log[16];
    int version;
    /* ZooKeeper's promise: the event before the new data */
    assert_string_equal(watch_then_read(0, log, sizeof log, &version), "WR");
    assert_int_equal(version, 1);
    assert_string_equal(watch_then_read(COORD_MUT_WATCH_AFTER_REPLY, log, sizeof log, &version),
                        "RW");
    assert_int_equal(version, 1); /* the client saw the new data before the event */
    assert_true(watch_heard_when_idle(0));
    assert_false(watch_heard_when_idle(COORD_MUT_WATCH_AFTER_REPLY));
}

/* ---------- sequential-reuse ---------- */

static void sequential_after_delete(uint32_t mutations, char *first, char *again, char *older) {
    start(mutations);
    assert_int_equal(create(&cl[0], "/p", 0), COORD_OK);
    assert_int_equal(create(&cl[0], "/p/n-", COORD_SEQUENTIAL), COORD_OK);
    snprintf(first, 64, "%s", cl[0].path);
    assert_int_equal(SYNC(&cl[0], coord_remove(&mock_backend, cl[0].s, first, -1, on_done, &cl[0])),
                     COORD_OK);
    assert_int_equal(create(&cl[0], "/p/n-", COORD_SEQUENTIAL), COORD_OK);
    snprintf(again, 64, "%s", cl[0].path);
    /* an older child's delete gives nothing back, even with the bug */
    assert_int_equal(create(&cl[0], "/p/n-", COORD_SEQUENTIAL), COORD_OK);
    assert_int_equal(SYNC(&cl[0], coord_remove(&mock_backend, cl[0].s, again, -1, on_done, &cl[0])),
                     COORD_OK);
    assert_int_equal(create(&cl[0], "/p/n-", COORD_SEQUENTIAL), COORD_OK);
    snprintf(older, 64, "%s", cl[0].path);
    stop();
}

static void sequential_numbers_are_reused(void **state) {
    (void)state;
    char first[64], again[64], older[64];
    sequential_after_delete(0, first, again, older);
    assert_string_equal(first, "/p/n-0000000000");
    assert_string_equal(again, "/p/n-0000000001"); /* never reused */
    assert_string_equal(older, "/p/n-0000000003");
    sequential_after_delete(COORD_MUT_SEQUENTIAL_REUSE, first, again, older);
    assert_string_equal(first, "/p/n-0000000000");
    assert_string_equal(again, "/p/n-0000000000"); /* the deleted newest one's number */
    assert_string_equal(older, "/p/n-0000000002");
}

/* ---------- herd-latch (recipes) ---------- */

static void on_leader(void *arg, int leading, int64_t epoch) {
    (void)epoch;
    ((client *)arg)->leads += leading;
}

/* Three contenders join in order; the leader dies: who wakes, who leads. */
static void latch_failover(int herd, uint64_t wakes[3], int leads[3]) {
    start(0);
    assert_int_equal(create(&cl[0], "/election", 0), COORD_OK);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(recipe_latch_start(&cl[i].latch, &mock_backend, cl[i].s, "/election", 0,
                                            on_leader, &cl[i]),
                         0);
        cl[i].latch.herd = herd;
        run(SEC / 10);
    }
    mock_kill_client(zk, cl[0].s);
    run(10 * SEC);
    for (int i = 0; i < 3; i++) {
        wakes[i] = cl[i].latch.wakes;
        leads[i] = cl[i].leads;
    }
    stop();
}

static void herd_latch_wakes_every_contender(void **state) {
    (void)state;
    uint64_t wakes[3];
    int leads[3];
    latch_failover(0, wakes, leads);
    assert_int_equal(wakes[1], 1);
    assert_int_equal(wakes[2], 0); /* only the successor */
    assert_int_equal(leads[1], 1);
    assert_int_equal(leads[2], 0);
    latch_failover(1, wakes, leads);
    assert_int_equal(wakes[1], 1);
    assert_int_equal(wakes[2], 1); /* the herd */
    assert_int_equal(leads[1], 1); /* still one leader: the bug only costs wake-ups */
    assert_int_equal(leads[2], 0);
}

/* ---------- counter-no-cas (recipes) ---------- */

static void on_value(void *arg, int rc, int64_t value) {
    client *c = arg;
    assert_int_equal(rc, COORD_OK);
    c->values[c->value_count++] = value;
}

/* Two clients take the next value at the same instant; returns both values. */
static void counter_race(int no_cas, int64_t *a, int64_t *b) {
    start(0);
    assert_int_equal(create(&cl[0], "/counter", 0), COORD_OK);
    int (*next)(const coord_backend *, coord_session *, const char *, recipe_counter_fn, void *) =
        no_cas ? recipe_counter_next_no_cas : recipe_counter_next;
    for (int i = 0; i < 2; i++)
        assert_int_equal(next(&mock_backend, cl[i].s, "/counter", on_value, &cl[i]), 0);
    run(SEC);
    assert_int_equal(cl[0].value_count, 1);
    assert_int_equal(cl[1].value_count, 1);
    *a = cl[0].values[0];
    *b = cl[1].values[0];
    stop();
}

static void counter_without_cas_hands_out_twice(void **state) {
    (void)state;
    int64_t a, b;
    counter_race(0, &a, &b);
    assert_true(a != b);
    assert_int_equal(a + b, 3);
    counter_race(1, &a, &b);
    assert_int_equal(a, 1);
    assert_int_equal(b, 1); /* both racers got the same id */
}

typedef struct lost_answer {
    int rc, done;
    int64_t value;
} lost_answer;

static void on_lost(void *arg, int rc, int64_t value) {
    lost_answer *a = arg;
    *a = (lost_answer){rc, 1, value};
}

/* A connection dropped while the increment is under way: the step in flight is answered
 * CONNECTIONLOSS; a lost write is reported -- value 1 on the version read -- so that it
 * can be sent again, a lost read reports none, and so does a finished increment. */
static void lost_counter_write_is_reported(void **state) {
    (void)state;
    int seen_write = 0, seen_read = 0, seen_ok = 0;
    for (uint64_t t = 0; t <= 3 * MS; t += 50000) {
        start(0);
        assert_int_equal(create(&cl[0], "/counter", 0), COORD_OK);
        recipe_counter_write w = {7, 7};
        lost_answer a = {0};
        recipe_counter_opts o = {.lost = &w};
        assert_int_equal(recipe_counter_start(&mock_backend, cl[0].s, "/counter", &o, on_lost, &a),
                         0);
        run(t);
        mock_drop_connection(zk, cl[0].s);
        run(60 * SEC);
        assert_true(a.done);
        if (a.rc == COORD_OK) {
            assert_int_equal(a.value, 1);
            assert_int_equal(w.value, 0); /* nothing lost */
            seen_ok = 1;
        } else if (w.value) {
            assert_int_equal(a.rc, COORD_CONNECTIONLOSS);
            assert_int_equal(w.value, 1);
            assert_int_equal(w.version, 0);
            seen_write = 1;
        } else {
            assert_int_equal(a.rc, COORD_CONNECTIONLOSS); /* the read was lost */
            seen_read = 1;
        }
        stop();
    }
    assert_true(seen_write);
    assert_true(seen_read);
    assert_true(seen_ok);
}

/* Client 0's write (0 -> 1, on version 0) was lost; client 1 took 1 since. Client 0
 * sends the write again (as Curator retries it): with the version check it fails and
 * reads afresh (2); without it, it puts the counter back and 1 is handed out twice,
 * and client 1's next value repeats one again. Returns the three values. */
static void retry_after_successor(int no_cas, int64_t v[3]) {
    start(0);
    assert_int_equal(create(&cl[0], "/counter", 0), COORD_OK);
    assert_int_equal(recipe_counter_next(&mock_backend, cl[1].s, "/counter", on_value, &cl[1]), 0);
    run(SEC);
    recipe_counter_opts o = {.no_cas = no_cas, .retry = {1, 0}};
    assert_int_equal(recipe_counter_start(&mock_backend, cl[0].s, "/counter", &o, on_value, &cl[0]),
                     0);
    run(SEC);
    assert_int_equal(recipe_counter_next(&mock_backend, cl[1].s, "/counter", on_value, &cl[1]), 0);
    run(SEC);
    assert_int_equal(cl[0].value_count, 1);
    assert_int_equal(cl[1].value_count, 2);
    v[0] = cl[1].values[0];
    v[1] = cl[0].values[0];
    v[2] = cl[1].values[1];
    stop();
}

static void retried_write_without_cas_puts_the_counter_back(void **state) {
    (void)state;
    int64_t v[3];
    retry_after_successor(0, v);
    assert_int_equal(v[0], 1);
    assert_int_equal(v[1], 2); /* the retry lost the race and read again */
    assert_int_equal(v[2], 3);
    retry_after_successor(1, v);
    assert_int_equal(v[0], 1);
    assert_int_equal(v[1], 1); /* handed out twice */
    assert_int_equal(v[2], 2); /* the counter went back: 2, not 3 */
}

/* The campaign catching each mutation, with its seeds-to-detection:
 * tests/test_mutations.c. */

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ephemerals_survive_expiry),
        cmocka_unit_test(watches_come_after_the_reply),
        cmocka_unit_test(sequential_numbers_are_reused),
        cmocka_unit_test(herd_latch_wakes_every_contender),
        cmocka_unit_test(counter_without_cas_hands_out_twice),
        cmocka_unit_test(lost_counter_write_is_reported),
        cmocka_unit_test(retried_write_without_cas_puts_the_counter_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
