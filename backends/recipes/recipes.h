/* recipes.h -- coordination recipes over coord.h, so they run on any backend.
 *
 * Leader election (leader latch): each contender creates an ephemeral sequential node
 * DIR/c-<session id>-NNNNNNNNNN; the lowest sequence number leads; every other
 * contender watches only its predecessor (no herd effect) and re-checks when it goes.
 * The session id in the name lets a contender whose create was lost with the
 * connection (it may have been applied) find its node again instead of leaving an
 * orphan that would lead forever (Curator's protected mode). Steps lost with the
 * connection are retried at once if still connected, else on reconnection. The leader's epoch is
 * its node's sequence number, which only grows across elections. Leadership ends when the session
 * is lost (DISCONNECTED) -- or, with tolerate_suspended, only when it EXPIRES, like Flink's
 * tolerate-suspended-connections -- and the leader must stop acting. Fencing: recipe_fenced_multi
 * runs a multi that first checks the latch's own election node, so a deposed leader whose session
 * is gone cannot write.
 *
 * Counter: a 64-bit decimal counter in one znode, incremented by compare-and-set on
 * the node's version (retried on BADVERSION), as Flink's checkpoint id counter.
 *
 * Membership: a member registers an ephemeral DIR/NAME; a watcher lists DIR's children
 * and re-arms its child watch on every change.
 *
 * Ownership: the caller owns every recipe struct and its session and keeps them until
 * the recipe's callbacks can no longer run (the session is closed). */
#ifndef SHARDSIM_BACKENDS_RECIPES_H
#define SHARDSIM_BACKENDS_RECIPES_H

#include <stddef.h>
#include <stdint.h>

#include "backends/coord.h"

typedef void (*recipe_leader_fn)(void *arg, int leading, int64_t epoch);

typedef struct recipe_latch {
    const coord_backend *b;
    coord_session *s;
    char dir[256];
    char node[300]; /* our election node's full path, "" before it exists */
    int64_t epoch;  /* its sequence number */
    int leading;
    int tolerate_suspended;
    int stopped;
    int lost; /* a step was lost with the connection: redo it on reconnection */
    recipe_leader_fn on_change;
    void *arg;
    /* Wake-ups: the predecessor's node went and this contender re-checked. Only the
     * successor of a lost node should wake (no herd effect): callers count. on_wake,
     * if set after recipe_latch_start, is called with arg at each wake-up (a standby
     * learns then, as a real client would, that the node before it is gone). */
    uint64_t wakes;
    void (*on_wake)(void *arg);
    char woke_by[300]; /* the election node whose deletion woke it last ("" = none yet) */
    /* on_joined, if set after recipe_latch_start, is called with arg once the latch
     * has its election node (node and epoch set): a caller can check that sequence
     * numbers never repeat. */
    void (*on_joined)(void *arg);
    /* The herd-latch mutation (tests only; set after recipe_latch_start): every
     * contender watches the lowest node instead of its predecessor, so all of them
     * wake when the leader goes. */
    int herd;
} recipe_latch;

/* Join the election under dir (which must exist). on_change(arg, 1, epoch) when we
 * become leader, (arg, 0, epoch) when we stop. Returns 0 or a coord error. */
int recipe_latch_start(recipe_latch *l, const coord_backend *b, coord_session *s, const char *dir,
                       int tolerate_suspended, recipe_leader_fn on_change, void *arg);

/* Tell the latch about its session's state (from the session's coord_state_fn). After
 * a suspension it re-checks, and leads again if its node is still the lowest. */
void recipe_latch_session_state(recipe_latch *l, int state);

/* A multi that commits only if our election node still exists: ops are run after a
 * CHECK of it. At most 15 ops. Returns 0 or a coord error; done gets the multi's rc. */
int recipe_fenced_multi(const recipe_latch *l, const coord_op *ops, size_t count,
                        coord_done_fn done, void *arg);

typedef void (*recipe_counter_fn)(void *arg, int rc, int64_t value);

/* A counter write whose answer was lost (CONNECTIONLOSS, SESSIONEXPIRED or
 * OPERATIONTIMEOUT: it may or may not have been applied): the value it set and the version it was
 * conditioned on
 * (-1: none). value 0: no write was in flight. */
typedef struct recipe_counter_write {
    int64_t value;
    int32_t version;
} recipe_counter_write;

/* How an increment goes. no_cas: the counter-no-cas mutation (tests only): the new value
 * is set with version -1, so two racing callers can get the same value, and a retried
 * write can put the counter back. lost: if not NULL, receives the write in flight when
 * done reports a lost answer. retry: if its value is not 0, the increment starts by
 * sending that write again, as Curator's retry loop does with a lost operation on the
 * client's next session; a version conflict then reads the counter afresh. */
typedef struct recipe_counter_opts {
    int no_cas;
    recipe_counter_write *lost;
    recipe_counter_write retry;
} recipe_counter_opts;

/* Increment the counter at path (created at 1 if missing) and report the new value. */
int recipe_counter_next(const coord_backend *b, coord_session *s, const char *path,
                        recipe_counter_fn done, void *arg);
/* The same, as opts says (NULL: as recipe_counter_next). */
int recipe_counter_start(const coord_backend *b, coord_session *s, const char *path,
                         const recipe_counter_opts *opts, recipe_counter_fn done, void *arg);
/* As recipe_counter_next with the counter-no-cas mutation. */
int recipe_counter_next_no_cas(const coord_backend *b, coord_session *s, const char *path,
                               recipe_counter_fn done, void *arg);

typedef void (*recipe_members_fn)(void *arg, const char *const *members, size_t count);

typedef struct recipe_watcher {
    const coord_backend *b;
    coord_session *s;
    char dir[256];
    recipe_members_fn on_members;
    void *arg;
    int relist; /* a listing was lost with the connection: list again on reconnection */
} recipe_watcher;

/* List dir's members now and after every change. A listing lost with the connection
 * (so its watch too) is retried at once if the session is still connected, else when
 * recipe_members_session_state hears CONNECTED. */
int recipe_members_watch(recipe_watcher *w, const coord_backend *b, coord_session *s,
                         const char *dir, recipe_members_fn on_members, void *arg);
void recipe_members_session_state(recipe_watcher *w, int state);

/* Assignment store (the design text's ZooKeeper-based scheduling): the leader writes
 * which worker runs each subtask, with a generation and its epoch, into one znode
 * ("GEN@EPOCH:w0,w1,..."); workers watch it and start or stop their subtasks when it
 * changes. With a leader latch the write is fenced like recipe_fenced_multi (a multi
 * checking the latch's election node: NONODE from a deposed leader); NULL: unfenced,
 * epoch 0. */
typedef void (*recipe_assignment_fn)(void *arg, uint64_t generation, const uint32_t *workers,
                                     uint32_t count);

int recipe_assignment_write(const coord_backend *b, coord_session *s, const recipe_latch *leader,
                            const char *path, uint64_t generation, const uint32_t *workers,
                            uint32_t count, coord_done_fn done, void *arg);

typedef struct recipe_assignment_watcher {
    const coord_backend *b;
    coord_session *s;
    char path[256];
    recipe_assignment_fn on_assignment;
    void *arg;
    int reread; /* a read was lost with the connection: read again on reconnection */
} recipe_assignment_watcher;

/* Read the assignment now (if it exists) and after every change; lost reads are
 * retried as recipe_members_watch's are. */
int recipe_assignment_watch(recipe_assignment_watcher *w, const coord_backend *b, coord_session *s,
                            const char *path, recipe_assignment_fn fn, void *arg);
void recipe_assignment_session_state(recipe_assignment_watcher *w, int state);

#endif
