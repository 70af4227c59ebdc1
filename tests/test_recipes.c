/* test_recipes.c -- leader election without a herd, fencing, the CAS counter under
 * contention, and membership, on the in-process ZooKeeper model in virtual time. */
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
#include "sim/env_sim.h"

#define SEC 1000000000ULL

typedef struct node_ctx {
    coord_session *s;
    recipe_latch latch;
    int became_leader, lost;
    int64_t epoch;
    int rc;
    int64_t values[16];
    int value_count;
    char members[8][32];
    int member_count, member_updates;
    recipe_watcher *watcher; /* told of session states, like the latch */
} node_ctx;

static env_sim clock;
static mock_zk *zk;
static node_ctx nodes[3];

static void on_state(void *arg, int state) {
    node_ctx *n = arg;
    recipe_latch_session_state(&n->latch, state);
    if (n->watcher)
        recipe_members_session_state(n->watcher, state);
}

static void on_leader(void *arg, int leading, int64_t epoch) {
    node_ctx *n = arg;
    if (leading) {
        n->became_leader++;
        n->epoch = epoch;
    } else {
        n->lost++;
    }
}

static void on_done(void *arg, int rc, const coord_result *r) {
    (void)r;
    ((node_ctx *)arg)->rc = rc;
}

static void run(uint64_t ns) {
    env_sim_run_until(&clock, clock.now_ns + ns);
}

/* Sessions opened at 0 with T = 4 s ping every 4/3 s: move to just after a ping, so a
 * cut that starts now is heard-from-last at its start. */
static void just_after_a_ping(void) {
    uint64_t period = 4 * SEC / 3, k = clock.now_ns / period + 1;
    env_sim_run_until(&clock, k * period + SEC / 100);
}

static int setup(void **state) {
    (void)state;
    mock_config cfg;
    mock_config_defaults(&cfg);
    cfg.random_phases = 0; /* just_after_a_ping counts on pings aligned to time 0 */
    if (env_sim_init(&clock) || mock_create(&clock.env, &cfg, &zk))
        return -1;
    for (int i = 0; i < 3; i++) {
        memset(&nodes[i], 0, sizeof nodes[i]);
        nodes[i].s = malloc(mock_backend.session_size);
        mock_backend.open(zk, nodes[i].s, 4 * SEC, on_state, &nodes[i]);
    }
    run(SEC / 10);
    coord_create(&mock_backend, nodes[0].s, "/election", NULL, 0, 0, on_done, &nodes[0]);
    run(SEC / 10);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    for (int i = 0; i < 3; i++)
        mock_backend.close(nodes[i].s, NULL, NULL);
    run(1000 * SEC);
    mock_free(zk);
    env_sim_free(&clock);
    for (int i = 0; i < 3; i++)
        free(nodes[i].s);
    return 0;
}

static void lowest_leads_and_only_the_successor_wakes(void **state) {
    (void)state;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(recipe_latch_start(&nodes[i].latch, &mock_backend, nodes[i].s, "/election",
                                            0, on_leader, &nodes[i]),
                         0);
        run(SEC / 10); /* joins in order 0, 1, 2 */
    }
    assert_int_equal(nodes[0].became_leader, 1);
    assert_int_equal(nodes[1].became_leader + nodes[2].became_leader, 0);
    int64_t first = nodes[0].epoch;
    mock_kill_client(zk, nodes[0].s); /* the leader dies without closing */
    run(10 * SEC);
    assert_int_equal(nodes[1].became_leader, 1);
    assert_true(nodes[1].epoch > first); /* epochs only grow */
    assert_int_equal(nodes[2].became_leader, 0);
    /* the next in line takes over when the new leader closes */
    mock_backend.close(nodes[1].s, NULL, NULL);
    run(SEC);
    assert_int_equal(nodes[2].became_leader, 1);
}

static void leadership_ends_on_suspension_unless_tolerated(void **state) {
    (void)state;
    recipe_latch_start(&nodes[0].latch, &mock_backend, nodes[0].s, "/election", 0, on_leader,
                       &nodes[0]);
    run(SEC / 10);
    recipe_latch_start(&nodes[1].latch, &mock_backend, nodes[1].s, "/election", 1, on_leader,
                       &nodes[1]);
    run(SEC / 10);
    assert_int_equal(nodes[0].became_leader, 1);
    /* cut off past its read deadline (2/3 of 4 s), back before the service expires it */
    just_after_a_ping();
    mock_partition_client(zk, nodes[0].s, 3 * SEC);
    run(5 * SEC);
    assert_int_equal(nodes[0].lost, 1);   /* stopped acting at DISCONNECTED */
    assert_false(nodes[0].latch.stopped); /* suspended, not expired */
    /* a tolerant leader keeps leading through a short suspension */
    mock_backend.close(nodes[0].s, NULL, NULL);
    run(SEC);
    assert_int_equal(nodes[1].became_leader, 1);
    just_after_a_ping();
    mock_partition_client(zk, nodes[1].s, 3 * SEC);
    run(5 * SEC);
    assert_int_equal(nodes[1].lost, 0);
    assert_false(nodes[1].latch.stopped);
}

static void fenced_writes_need_the_election_node(void **state) {
    (void)state;
    recipe_latch_start(&nodes[0].latch, &mock_backend, nodes[0].s, "/election", 0, on_leader,
                       &nodes[0]);
    run(SEC / 10);
    assert_int_equal(nodes[0].became_leader, 1);
    coord_op commit = {COORD_OP_CREATE, "/commit-1", "x", 1, 0, -1};
    nodes[0].rc = 99;
    assert_int_equal(recipe_fenced_multi(&nodes[0].latch, &commit, 1, on_done, &nodes[0]), 0);
    run(SEC / 10);
    assert_int_equal(nodes[0].rc, COORD_OK);
    /* the election node is gone (as when the session expires): fenced writes fail */
    coord_remove(&mock_backend, nodes[1].s, nodes[0].latch.node, -1, on_done, &nodes[1]);
    run(SEC / 10);
    commit.path = "/commit-2";
    assert_int_equal(recipe_fenced_multi(&nodes[0].latch, &commit, 1, on_done, &nodes[0]), 0);
    run(SEC / 10);
    assert_int_equal(nodes[0].rc, COORD_NONODE);
    coord_exists(&mock_backend, nodes[1].s, "/commit-2", NULL, NULL, on_done, &nodes[1]);
    run(SEC / 10);
    assert_int_equal(nodes[1].rc, COORD_NONODE);
}

static void on_value(void *arg, int rc, int64_t value) {
    node_ctx *n = arg;
    assert_int_equal(rc, COORD_OK);
    n->values[n->value_count++] = value;
}

static void counter_is_exact_under_contention(void **state) {
    (void)state;
    for (int k = 0; k < 5; k++)
        for (int i = 0; i < 2; i++)
            recipe_counter_next(&mock_backend, nodes[i].s, "/checkpoint_id_counter", on_value,
                                &nodes[i]);
    run(5 * SEC);
    assert_int_equal(nodes[0].value_count + nodes[1].value_count, 10);
    int seen[11] = {0};
    for (int i = 0; i < 2; i++)
        for (int k = 0; k < nodes[i].value_count; k++) {
            int64_t v = nodes[i].values[k];
            assert_true(v >= 1 && v <= 10);
            assert_int_equal(seen[v]++, 0); /* every id handed out once */
        }
}

static void on_members(void *arg, const char *const *m, size_t count) {
    node_ctx *n = arg;
    n->member_count = (int)count;
    n->member_updates++;
    for (size_t i = 0; i < count && i < 8; i++)
        snprintf(n->members[i], sizeof n->members[i], "%s", m[i]);
}

static void membership_follows_sessions(void **state) {
    (void)state;
    coord_create(&mock_backend, nodes[2].s, "/workers", NULL, 0, 0, on_done, &nodes[2]);
    run(SEC / 10);
    recipe_watcher w;
    recipe_members_watch(&w, &mock_backend, nodes[2].s, "/workers", on_members, &nodes[2]);
    run(SEC / 10);
    assert_int_equal(nodes[2].member_count, 0);
    coord_create(&mock_backend, nodes[0].s, "/workers/w0", NULL, 0, COORD_EPHEMERAL, on_done,
                 &nodes[0]);
    coord_create(&mock_backend, nodes[1].s, "/workers/w1", NULL, 0, COORD_EPHEMERAL, on_done,
                 &nodes[1]);
    run(SEC / 10);
    assert_int_equal(nodes[2].member_count, 2);
    assert_string_equal(nodes[2].members[0], "w0");
    mock_kill_client(zk, nodes[0].s);
    run(10 * SEC);
    assert_int_equal(nodes[2].member_count, 1);
    assert_string_equal(nodes[2].members[0], "w1");
}

static uint64_t seen_generation;
static uint32_t seen_workers[8], seen_count;
static int seen_calls;

static void on_assignment(void *arg, uint64_t generation, const uint32_t *workers, uint32_t count) {
    (void)arg;
    seen_calls++;
    seen_generation = generation;
    seen_count = count;
    for (uint32_t i = 0; i < count && i < 8; i++)
        seen_workers[i] = workers[i];
}

static void assignments_reach_watchers(void **state) {
    (void)state;
    seen_calls = 0;
    recipe_assignment_watcher w;
    assert_int_equal(
        recipe_assignment_watch(&w, &mock_backend, nodes[1].s, "/assign", on_assignment, NULL), 0);
    run(SEC / 10);
    assert_int_equal(seen_calls, 0); /* nothing written yet */
    const uint32_t first[3] = {2, 0, 1}, second[4] = {1, 1, 3, 0};
    recipe_assignment_write(&mock_backend, nodes[0].s, NULL, "/assign", 7, first, 3, on_done,
                            &nodes[0]);
    run(SEC / 10);
    assert_int_equal(seen_calls, 1);
    assert_int_equal(seen_generation, 7);
    assert_int_equal(seen_count, 3);
    assert_int_equal(seen_workers[0], 2);
    /* a leader's write is fenced by its election node and carries its epoch */
    recipe_latch_start(&nodes[0].latch, &mock_backend, nodes[0].s, "/election", 0, on_leader,
                       &nodes[0]);
    run(SEC / 10);
    assert_int_equal(nodes[0].became_leader, 1);
    nodes[0].rc = 99;
    recipe_assignment_write(&mock_backend, nodes[0].s, &nodes[0].latch, "/assign", 8, second, 4,
                            on_done, &nodes[0]);
    run(SEC / 10);
    assert_int_equal(nodes[0].rc, COORD_OK);
    assert_int_equal(seen_calls, 2); /* the watch was re-armed */
    assert_int_equal(seen_generation, 8);
    assert_int_equal(seen_count, 4);
    assert_int_equal(seen_workers[2], 3);
    /* deposed (its election node gone): the write is refused and nobody sees it */
    coord_remove(&mock_backend, nodes[1].s, nodes[0].latch.node, -1, on_done, &nodes[1]);
    run(SEC / 10);
    recipe_assignment_write(&mock_backend, nodes[0].s, &nodes[0].latch, "/assign", 9, first, 3,
                            on_done, &nodes[0]);
    run(SEC / 10);
    assert_int_equal(nodes[0].rc, COORD_NONODE);
    assert_int_equal(seen_calls, 2);
    assert_int_equal(seen_generation, 8);
}

/* The first fenced write creates the node inside the same fenced multi. */
static void fenced_assignment_creates_the_node(void **state) {
    (void)state;
    seen_calls = 0;
    recipe_latch_start(&nodes[0].latch, &mock_backend, nodes[0].s, "/election", 0, on_leader,
                       &nodes[0]);
    run(SEC / 10);
    recipe_assignment_watcher w;
    recipe_assignment_watch(&w, &mock_backend, nodes[1].s, "/assign2", on_assignment, NULL);
    run(SEC / 10);
    const uint32_t one[1] = {5};
    nodes[0].rc = 99;
    recipe_assignment_write(&mock_backend, nodes[0].s, &nodes[0].latch, "/assign2", 1, one, 1,
                            on_done, &nodes[0]);
    run(SEC / 10);
    assert_int_equal(nodes[0].rc, COORD_OK);
    assert_int_equal(seen_calls, 1);
    assert_int_equal(seen_workers[0], 5);
}

static size_t child_count;

static void on_children_counted(void *arg, int rc, const coord_result *r) {
    (void)arg;
    child_count = rc == COORD_OK ? r->child_count : (size_t)-1;
}

/* The contender's create applies but its answer is lost with the connection: once
 * reconnected the latch finds its node by the session id in its name (no orphan that
 * would lead forever, no second node) and leads. */
static void lost_create_is_found_again(void **state) {
    (void)state;
    just_after_a_ping();
    recipe_latch_start(&nodes[0].latch, &mock_backend, nodes[0].s, "/election", 0, on_leader,
                       &nodes[0]);
    mock_partition_client(zk, nodes[0].s, 3 * SEC); /* past the read deadline, not the session */
    run(SEC);
    assert_int_equal(nodes[0].became_leader, 0);
    run(5 * SEC);
    assert_int_equal(nodes[0].became_leader, 1);
    coord_children(&mock_backend, nodes[1].s, "/election", NULL, NULL, on_children_counted, NULL);
    run(SEC / 10);
    assert_int_equal(child_count, 1);
    /* and the next contender waits behind it */
    recipe_latch_start(&nodes[1].latch, &mock_backend, nodes[1].s, "/election", 0, on_leader,
                       &nodes[1]);
    run(SEC / 10);
    assert_int_equal(nodes[1].became_leader, 0);
}

/* A membership change whose re-listing is lost with the connection is listed again
 * when the watcher reconnects, and the watch is armed again. */
static void membership_relists_after_connection_loss(void **state) {
    (void)state;
    coord_create(&mock_backend, nodes[2].s, "/workers", NULL, 0, 0, on_done, &nodes[2]);
    run(SEC / 10);
    recipe_watcher w;
    recipe_members_watch(&w, &mock_backend, nodes[2].s, "/workers", on_members, &nodes[2]);
    nodes[2].watcher = &w;
    run(SEC / 10);
    just_after_a_ping();
    mock_partition_client(zk, nodes[2].s, 3 * SEC);
    coord_create(&mock_backend, nodes[0].s, "/workers/w0", NULL, 0, COORD_EPHEMERAL, on_done,
                 &nodes[0]);
    run(SEC);
    assert_int_equal(nodes[2].member_count, 0); /* its re-listing is in the cut */
    run(5 * SEC);
    assert_int_equal(nodes[2].member_count, 1);
    assert_string_equal(nodes[2].members[0], "w0");
    coord_create(&mock_backend, nodes[1].s, "/workers/w1", NULL, 0, COORD_EPHEMERAL, on_done,
                 &nodes[1]);
    run(SEC / 10);
    assert_int_equal(nodes[2].member_count, 2);
    nodes[2].watcher = NULL;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(lowest_leads_and_only_the_successor_wakes, setup, teardown),
        cmocka_unit_test_setup_teardown(leadership_ends_on_suspension_unless_tolerated, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(fenced_writes_need_the_election_node, setup, teardown),
        cmocka_unit_test_setup_teardown(counter_is_exact_under_contention, setup, teardown),
        cmocka_unit_test_setup_teardown(membership_follows_sessions, setup, teardown),
        cmocka_unit_test_setup_teardown(lost_create_is_found_again, setup, teardown),
        cmocka_unit_test_setup_teardown(membership_relists_after_connection_loss, setup, teardown),
        cmocka_unit_test_setup_teardown(assignments_reach_watchers, setup, teardown),
        cmocka_unit_test_setup_teardown(fenced_assignment_creates_the_node, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
