/* ha.c -- job-manager high availability through a coordination service, on any
 * backend of the registry (coordination = mock | zookeeper): the job managers' sessions and
 * election, checkpoint ids and pointers, restarts that read the latest pointer, worker membership,
 * the assignment store, and the coordination faults. See sim_internal.h. */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/grow.h"
#include "core/hash.h"
#include "sim/env_rt.h"
#include "sim/sim_internal.h"

/* ---------- coordination: job-manager HA ----------
 * J job managers contend for leadership through the coordination service; the job follows
 * the latest leader. The leader takes each checkpoint id from the checkpoint_id_counter
 * znode (compare-and-set), and a checkpoint completes only once the leader has
 * committed its pointer znode (jobs/job/checkpoints/<19-digit id>: epoch, offset and
 * the CRC32C of its blobs), fenced by a check of the leader's election node unless
 * fencing is off; the pointer of the checkpoint it subsumes is then deleted. A restart
 * is the leader's: it syncs, reads the job graph and the pointers, newest first, and
 * restores the first whose id, offset and CRC match state that exists (none: start
 * over). A leader cut off from the service keeps believing it leads until its session
 * says otherwise; a commit it loses in flight is retried after it reconnects with a new
 * session -- with fencing that retry is refused, without it a deposed leader commits
 * after its successor won (stale_commits), and its pointer, naming state that is gone,
 * must be skipped by the next restore (pointers_skipped). */

#define HA_ROOT "/shardsim/c"
#define HA_CHECKPOINTS HA_ROOT "/jobs/job/checkpoints"
#define HA_COUNTER HA_ROOT "/jobs/job/checkpoint_id_counter"

typedef struct env_payload {
    env_timer_fn fn;
    void *arg;
    uint64_t a, b;
} env_payload;

_Static_assert(sizeof(env_payload) <= QUEUE_PAYLOAD_BYTES, "env timer fits an event");

static uint64_t env_now_ns(void *ctx) {
    return ((sim *)ctx)->now;
}

static int env_push(void *ctx, uint64_t at_ns, env_timer_fn fn, void *arg, uint64_t a, uint64_t b) {
    sim *s = ctx;
    env_payload p = {fn, arg, a, b};
    return queue_push(s->q, at_ns < s->now ? s->now : at_ns, EV_ENV, &p, sizeof p, NULL);
}

/* One thread in virtual time: a post is a timer due now. */
static int env_post_now(void *ctx, env_timer_fn fn, void *arg, uint64_t a, uint64_t b) {
    return env_push(ctx, ((sim *)ctx)->now, fn, arg, a, b);
}

static const env_vtable sim_env_vtable = {2, "sim", env_now_ns, env_push, env_post_now};

/* ---- real time (a real-time backend: a real ZooKeeper) ----
 * The job model's events stay in the simulation's queue; ha_pace holds each back until
 * the monotonic clock reaches it (times time_scale), and meanwhile runs what the
 * backend's client threads posted, with the simulation's clock moved to the real one. */

static uint64_t real_of_sim(const sim *s, uint64_t t) {
    double real = (double)t * s->cfg->time_scale;
    return real >= 1.8e19 ? UINT64_MAX : (uint64_t)real;
}

/* The simulation's clock follows the monotonic one (it never goes back). */
static void rt_follow_clock(sim *s) {
    uint64_t t = (uint64_t)((double)env_now(&s->rt->env) / s->cfg->time_scale);
    if (t > s->now)
        s->now = t;
}

typedef struct rt_post {
    sim *s;
    env_timer_fn fn;
    void *arg;
    uint64_t a, b;
} rt_post;

static void rt_trampoline(void *arg, uint64_t a, uint64_t b) {
    (void)a, (void)b;
    rt_post p = *(rt_post *)arg;
    free(arg);
    rt_follow_clock(p.s);
    p.fn(p.arg, p.a, p.b);
}

/* Any thread: queue fn for the loop (env_rt's post is the thread-safe part). */
static int env_post_rt(void *ctx, env_timer_fn fn, void *arg, uint64_t a, uint64_t b) {
    sim *s = ctx;
    rt_post *p = malloc(sizeof *p);
    if (!p)
        return SS_ENOMEM;
    *p = (rt_post){s, fn, arg, a, b};
    int rc = env_post(&s->rt->env, rt_trampoline, p, 0, 0);
    if (rc != 0)
        free(p);
    return rc;
}

static const env_vtable rt_env_vtable = {2, "sim-rt", env_now_ns, env_push, env_post_rt};

/* env_rt_run's stop: once one callback ran. */
static int ran_one(void *arg) {
    const sim *s = arg;
    return s->rt->fired != s->pace_fired;
}

/* Run at most one post, waiting until real time reaches deadline_real at most.
 * 1 if a post ran. */
static int rt_run_one(sim *s, uint64_t deadline_real) {
    s->pace_fired = s->rt->fired;
    env_rt_run(s->rt, deadline_real, ran_one, s);
    return s->rt->fired != s->pace_fired;
}

void ha_pace(sim *s) {
    for (;;) {
        uint64_t t;
        uint64_t due = queue_peek_time(s->q, &t) == 0 ? real_of_sim(s, t)
                                                      : env_now(&s->rt->env) + 1000000000ULL;
        if (env_now(&s->rt->env) >= due || !rt_run_one(s, due))
            return; /* the next event is due (or, with none queued, nothing came for 1 s) */
    }
}

/* Sessions that ended stay allocated until the end: the service may still hold
 * timers naming them. */
static coord_session *new_session(sim *s) {
    return calloc(1, s->backend->session_size);
}

typedef struct commit_ctx {
    sim *s;
    jm_node *jm;
    uint32_t id;
    uint64_t epoch_no, offset;
    int64_t leader_epoch;
    int retry;
} commit_ctx;

static void ignore_done(void *arg, int rc, const coord_result *res);
static void assignment_written(void *arg, int rc, const coord_result *res);
static void assignment_seen(void *arg, uint64_t generation, const uint32_t *workers,
                            uint32_t count);

static void commit_done(void *arg, int rc, const coord_result *res) {
    (void)res;
    commit_ctx *c = arg;
    sim *s = c->s;
    if (s->closing)
        return;
    if (rc == COORD_OK) {
        s->commits++;
        if (c->leader_epoch < s->newest_epoch)
            s->stale_commits++; /* a deposed leader committed after its successor won */
        if (!c->retry && c->epoch_no == s->epoch_no && s->jm.pending.id == c->id) {
            uint32_t subsumed = s->jm.completed.id;
            sim_complete_checkpoint(s);
            if (subsumed) { /* one retained checkpoint: the older pointer goes */
                char path[128];
                snprintf(path, sizeof path, HA_CHECKPOINTS "/%019u", subsumed);
                coord_remove(s->backend, c->jm->session, path, -1, ignore_done, NULL);
            }
        }
    } else {
        if ((rc == COORD_CONNECTIONLOSS || rc == COORD_SESSIONEXPIRED) && !c->retry) {
            c->jm->unsent_commit = c->id; /* the naive job manager will try again */
            c->jm->unsent_offset = c->offset;
        }
        /* the checkpoint failed: the next one may start */
        if (!c->retry && c->epoch_no == s->epoch_no && s->jm.pending.id == c->id)
            sim_checkpoint_free(&s->jm.pending);
    }
}

/* The CRC32C of a checkpoint's blobs, in subtask order: what its pointer carries. */
static uint32_t checkpoint_crc(const checkpoint *ck) {
    uint32_t crc = 0;
    for (uint32_t i = 0; i < ck->parallelism; i++)
        crc = hash_crc32c_update(crc, ck->blobs[i], ck->blob_len[i]);
    return crc;
}

/* Callback contexts live until the end of the run: a reply may never come. */
static int keep_context(sim *s, void *c) {
    if (ss_grow(&s->contexts, &s->context_cap, s->context_count + 1, sizeof *s->contexts) != 0) {
        free(c);
        sim_fail(s, SS_ENOMEM, "out of memory");
        return SS_ENOMEM;
    }
    s->contexts[s->context_count++] = c;
    return 0;
}

static void commit(sim *s, jm_node *jm, uint32_t id, uint64_t offset, int retry) {
    commit_ctx *c = calloc(1, sizeof *c);
    if (!c) {
        sim_fail(s, SS_ENOMEM, "out of memory");
        return;
    }
    *c = (commit_ctx){s, jm, id, s->epoch_no, offset, jm->latch.epoch, retry};
    if (keep_context(s, c) != 0)
        return;
    char path[128], data[128];
    snprintf(path, sizeof path, HA_CHECKPOINTS "/%019u", id);
    /* the pointer carries the CRC32C of the checkpoint's blobs (a retry has lost them) */
    uint32_t crc = !retry && s->jm.pending.id == id ? checkpoint_crc(&s->jm.pending) : 0;
    int n = snprintf(data, sizeof data, "epoch=%lld offset=%llu crc32c=%08x",
                     (long long)jm->latch.epoch, (unsigned long long)offset, crc);
    coord_op op = {COORD_OP_CREATE, path, data, (size_t)n, 0, -1};
    int rc;
    if (s->cfg->fencing && retry) { /* the check names the election node it led with */
        coord_op fenced[2] = {{COORD_OP_CHECK, jm->old_node, NULL, 0, 0, -1}, op};
        rc = coord_multi(s->backend, jm->session, fenced, 2, commit_done, c);
    } else if (s->cfg->fencing) {
        rc = recipe_fenced_multi(&jm->latch, &op, 1, commit_done, c);
    } else {
        rc = coord_multi(s->backend, jm->session, &op, 1, commit_done, c);
    }
    if (rc != 0) /* refused at once: handled as a failed commit */
        commit_done(c, rc, NULL);
}

/* ---- checkpoint ids: the leader increments checkpoint_id_counter (compare-and-set) */

/* What a counter request carries: the request it answers (a newer one, or a stopped
 * job, makes it stale). */
typedef struct id_ctx {
    sim *s;
    uint64_t token;
} id_ctx;

static void checkpoint_id_done(void *arg, int rc, int64_t value) {
    const id_ctx *c = arg;
    sim *s = c->s;
    if (s->closing)
        return;
    if (c->token != s->id_token)
        return;
    s->id_requested = 0;
    if (rc == COORD_OK && value > 0 && value <= UINT32_MAX && s->job == JOB_RUNNING &&
        !s->jm.pending.id && ha_leader_can_act(s))
        sim_start_checkpoint(s, (uint32_t)value, s->id_stop, s->id_rescale_to);
    else if (s->id_stop) /* the rescale waits for the next chance */
        sim_push(s, s->now + s->cfg->window_ns, EV_FAULT, s->rescale_fault, 0);
}

int ha_request_checkpoint_id(sim *s, int stop, uint32_t rescale_to) {
    id_ctx *c = malloc(sizeof *c);
    if (!c || keep_context(s, c) != 0)
        return 0;
    *c = (id_ctx){s, ++s->id_token};
    if (recipe_counter_next(s->backend, s->jms[s->active].session, HA_COUNTER, checkpoint_id_done,
                            c) != 0)
        return 0;
    s->id_requested = 1;
    s->id_stop = stop;
    s->id_rescale_to = rescale_to;
    return 1;
}

void ha_job_stopped(sim *s) {
    if (!s->id_requested)
        return;
    s->id_requested = 0; /* its answer, if it ever comes, is stale */
    s->id_token++;
    if (s->id_stop) /* the rescale it served is tried again */
        sim_push(s, s->now + s->cfg->window_ns, EV_FAULT, s->rescale_fault, 0);
}

/* ---- restore: the leader reads the job graph and the checkpoint pointers (after a
 * sync, unless zk_sync = 0), newest first, and restores the first whose id, offset
 * and CRC32C match state that exists; none: the job starts over. */

static void free_pointer_names(sim *s) {
    for (size_t i = 0; i < s->pointer_count; i++)
        free(s->pointer_names[i]);
    free(s->pointer_names);
    s->pointer_names = NULL;
    s->pointer_count = s->pointer_next = 0;
}

/* What a read in flight carries: which restart it serves. */
typedef struct restore_ctx {
    sim *s;
    uint32_t generation;
    int next; /* sync and the job graph: the read that follows (READ_*) */
} restore_ctx;

/* A context for the next read (kept until the end of the run); NULL if out of memory. */
static restore_ctx *restore_arg(sim *s) {
    restore_ctx *c = malloc(sizeof *c);
    if (!c) {
        sim_fail(s, SS_ENOMEM, "out of memory");
        return NULL;
    }
    *c = (restore_ctx){s, s->restore_generation, 0};
    return keep_context(s, c) == 0 ? c : NULL;
}

/* Is this read still wanted (no newer failure, restart or leader since)? */
static int restore_wanted(const restore_ctx *c) {
    const sim *s = c->s;
    return !s->closing && c->generation == s->restore_generation && s->restoring &&
           s->job == JOB_DOWN && s->active == s->restore_jm;
}

/* A read failed: the restart is tried again after the restart strategy's delay. */
static void restore_retry(sim *s) {
    s->restoring = 0;
    free_pointer_names(s);
    sim_push(s, s->now + sim_restart_delay(s), EV_RESTART, 0, 0);
}

static void restore_found(sim *s, const checkpoint *c) {
    s->restoring = 0;
    free_pointer_names(s);
    sim_restore_from(s, c);
}

static void pointer_read(void *arg, int rc, const coord_result *res);

static void next_pointer(sim *s) {
    if (s->pointer_next == 0) {
        restore_found(s, NULL);
        return;
    }
    char path[160];
    snprintf(path, sizeof path, HA_CHECKPOINTS "/%s", s->pointer_names[--s->pointer_next]);
    restore_ctx *c = restore_arg(s);
    if (c && coord_get(s->backend, s->jms[s->restore_jm].session, path, NULL, NULL, pointer_read,
                       c) != 0)
        restore_retry(s);
}

static void pointer_read(void *arg, int rc, const coord_result *res) {
    sim *s = ((restore_ctx *)arg)->s;
    if (!restore_wanted(arg))
        return;
    if (rc == COORD_NONODE) { /* subsumed meanwhile */
        next_pointer(s);
        return;
    }
    if (rc != COORD_OK) {
        restore_retry(s);
        return;
    }
    char text[128];
    unsigned long long id = strtoull(s->pointer_names[s->pointer_next], NULL, 10), offset = 0;
    long long epoch = 0;
    unsigned crc = 0;
    snprintf(text, sizeof text, "%.*s", (int)(res->data_len < 127 ? res->data_len : 127),
             (const char *)res->data);
    const checkpoint *c = &s->jm.completed;
    if (sscanf(text, "epoch=%lld offset=%llu crc32c=%x", &epoch, &offset, &crc) == 3 && c->id &&
        c->id == id && c->offset == offset && checkpoint_crc(c) == crc) {
        restore_found(s, c);
        return;
    }
    s->pointers_skipped++; /* its state is gone or differs: an older one may do */
    next_pointer(s);
}

static int compare_names(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void pointers_listed(void *arg, int rc, const coord_result *res) {
    sim *s = ((restore_ctx *)arg)->s;
    if (!restore_wanted(arg))
        return;
    if (rc != COORD_OK) {
        restore_retry(s);
        return;
    }
    free_pointer_names(s);
    s->pointer_names = calloc(res->child_count + 1, sizeof *s->pointer_names);
    if (!s->pointer_names) {
        sim_fail(s, SS_ENOMEM, "out of memory");
        return;
    }
    for (size_t i = 0; i < res->child_count; i++) {
        s->pointer_names[i] = strdup(res->children[i]);
        if (!s->pointer_names[i]) {
            sim_fail(s, SS_ENOMEM, "out of memory");
            return;
        }
        s->pointer_count = i + 1;
    }
    /* children come in no promised order; 19-digit names sort by id */
    qsort(s->pointer_names, s->pointer_count, sizeof *s->pointer_names, compare_names);
    s->pointer_next = s->pointer_count;
    next_pointer(s);
}

enum { READ_SYNC, READ_GRAPH, READ_POINTERS };

static void restore_read(sim *s, int what);

/* A sync or the job graph came back: on to the next read. */
static void read_done(void *arg, int rc, const coord_result *res) {
    (void)res;
    const restore_ctx *c = arg;
    if (restore_wanted(c) && rc == COORD_OK)
        restore_read(c->s, c->next);
    else if (restore_wanted(c))
        restore_retry(c->s);
}

/* Send the restore's next read: sync, the job graph, the pointers' names. */
static void restore_read(sim *s, int what) {
    restore_ctx *c = restore_arg(s);
    if (!c)
        return;
    coord_session *session = s->jms[s->restore_jm].session;
    c->next = what + 1;
    int rc;
    if (what == READ_SYNC)
        rc = coord_sync(s->backend, session, HA_CHECKPOINTS, read_done, c);
    else if (what == READ_GRAPH)
        rc = coord_get(s->backend, session, HA_ROOT "/jobgraphs/job", NULL, NULL, read_done, c);
    else
        rc = coord_children(s->backend, session, HA_CHECKPOINTS, NULL, NULL, pointers_listed, c);
    if (rc != 0)
        restore_retry(s);
}

void ha_read_latest_checkpoint(sim *s) {
    if (s->active < 0 || !ha_leader_can_act(s)) {
        s->restart_waiting = 1; /* the next leader restarts the job */
        return;
    }
    s->restart_waiting = 0;
    s->restoring = 1;
    s->restore_generation++;
    s->restore_jm = s->active;
    restore_read(s, s->cfg->zk_sync ? READ_SYNC : READ_GRAPH);
}

/* The job's leader jm is lost from now (stop: it no longer acts as leader). */
static void leader_lost(sim *s, jm_node *jm, int stop) {
    if (s->active != (int)jm->index)
        return;
    if (stop)
        s->active = -1;
    if (!s->leader_lost_ns) {
        s->leader_lost_ns = s->now;
        s->lost_session = jm->session;
    }
}

void ha_commit(sim *s, uint32_t id, uint64_t offset) {
    if (s->active >= 0)
        commit(s, &s->jms[s->active], id, offset, 0);
}

void ha_timer(sim *s, const queue_event *ev) {
    (void)s;
    env_payload p;
    memcpy(&p, ev->payload.bytes, sizeof p);
    p.fn(p.arg, p.a, p.b);
}

static void jm_state(void *arg, int state);
static void jm_leader(void *arg, int leading, int64_t epoch);
static void leader_sees_members(void *arg, const char *const *names, size_t count);

/* The standby's watch on the node before its own fired: remember when. */
static void jm_woken(void *arg) {
    jm_node *jm = arg;
    jm->woke_ns = jm->owner->now;
}

static void join_election(jm_node *jm) {
    recipe_latch_start(&jm->latch, jm->owner->backend, jm->session, HA_ROOT "/leader",
                       jm->owner->cfg->tolerate_suspended, jm_leader, jm);
    jm->latch.on_wake = jm_woken;
}

static void jm_state(void *arg, int state) {
    jm_node *jm = arg;
    sim *s = jm->owner;
    if (s->closing)
        return;
    int was_leading = jm->latch.leading;
    recipe_latch_session_state(&jm->latch, state);
    if (jm->watching == jm->session)
        recipe_members_session_state(&jm->members, state);
    if (was_leading && !jm->latch.leading)
        leader_lost(s, jm, 1);
    if (state != COORD_STATE_EXPIRED || jm->crashed)
        return;
    /* the session is gone: reconnect with a new one, retry what was lost, rejoin */
    snprintf(jm->old_node, sizeof jm->old_node, "%s", jm->latch.node);
    if (ss_grow(&s->retired, &s->retired_cap, s->retired_count + 1, sizeof *s->retired) != 0) {
        sim_fail(s, SS_ENOMEM, "out of memory");
        return;
    }
    s->retired[s->retired_count++] = jm->session;
    jm->session = new_session(s);
    if (!jm->session ||
        s->backend->open(s->service, jm->session, s->cfg->session_timeout_ns, jm_state, jm) != 0) {
        sim_fail(s, SS_ENOMEM, "out of memory");
        return;
    }
    if (jm->unsent_commit) {
        commit(s, jm, jm->unsent_commit, jm->unsent_offset, 1);
        jm->unsent_commit = 0;
    }
    join_election(jm);
}

static void jm_leader(void *arg, int leading, int64_t epoch) {
    jm_node *jm = arg;
    sim *s = jm->owner;
    if (s->closing)
        return;
    if (leading && epoch > s->newest_epoch)
        s->newest_epoch = epoch;
    if (!leading) {
        leader_lost(s, jm, 1);
        return;
    }
    s->elections++;
    int first = s->elections == 1;
    s->active = (int)jm->index;
    if (s->cfg->worker_detection == SIM_DETECT_SESSION && jm->watching != jm->session) {
        jm->watching = jm->session; /* the leader watches the members (once per session) */
        recipe_members_watch(&jm->members, s->backend, jm->session, HA_ROOT "/workers",
                             leader_sees_members, jm);
    }
    if (first)
        return;
    /* a new leader takes over the job: restart it from the last committed checkpoint */
    if (s->job == JOB_RUNNING || s->job == JOB_STOPPING) {
        sim_failover *f = sim_new_failover(s, "leader-change", jm->index);
        if (!f)
            return;
        f->fault_ns = s->leader_lost_ns ? s->leader_lost_ns : s->now;
        /* detected when this standby saw the old leader's election node go -- its watch
         * fired as the service expired or closed that session (a leader that only lost
         * its connection noticed at once) -- as a real client learns it; elected now */
        f->detected_ns = jm->woke_ns >= f->fault_ns ? jm->woke_ns : f->fault_ns;
        f->elected_ns = s->now;
        s->failed_offset = s->offset;
        sim_stop_job(s);
        s->open_failover = f;
        s->consecutive_failures++;
        sim_push(s, s->now + sim_restart_delay(s), EV_RESTART, 0, 0);
    } else if (s->job == JOB_DOWN && (s->restart_waiting || s->restoring)) {
        s->restoring = 0; /* the old leader's reads are abandoned: this one reads again */
        s->restore_generation++;
        s->restart_waiting = 0;
        sim_push(s, s->now, EV_RESTART, 0, 0);
    }
    s->leader_lost_ns = 0;
    s->lost_session = NULL;
}

/* The members of the workers' directory changed: a worker whose ephemeral node went is
 * declared failed now (worker_detection = session). */
static void members_changed(void *arg, const char *const *names, size_t count) {
    sim *s = arg;
    if (s->closing)
        return;
    uint32_t *present = calloc(s->cfg->workers, sizeof *present);
    if (!present) {
        sim_fail(s, SS_ENOMEM, "out of memory");
        return;
    }
    for (size_t i = 0; i < count; i++) {
        unsigned w, incarnation;
        if (sscanf(names[i], "w%u-%u", &w, &incarnation) == 2 && w < s->cfg->workers)
            present[w] = incarnation;
    }
    /* an incarnation the leader knew is gone (a restarted worker registers anew) */
    for (uint32_t w = 0; w < s->cfg->workers; w++) {
        if (s->member_seen[w] && present[w] != s->member_seen[w]) {
            sim_failover *f = s->open_failover;
            if (f && !f->detected_ns && f->target == w && strcmp(f->kind, "crash-worker") == 0) {
                f->detected_ns = s->now;
                sim_push(s, s->now + sim_restart_delay(s), EV_RESTART, 0, 0);
            }
        }
        s->member_seen[w] = present[w];
    }
    free(present);
}

static void ignore_done(void *arg, int rc, const coord_result *res) {
    (void)arg, (void)rc, (void)res;
}

/* Only the current leader acts on what it sees. */
static void leader_sees_members(void *arg, const char *const *names, size_t count) {
    jm_node *jm = arg;
    if (!jm->owner->closing && jm->owner->active == (int)jm->index && jm->latch.leading)
        members_changed(jm->owner, names, count);
}

static void register_worker(sim *s, uint32_t w) {
    char path[64];
    snprintf(path, sizeof path, HA_ROOT "/workers/w%u-%u", w, ++s->incarnation[w]);
    coord_create(s->backend, s->worker_sessions[w], path, NULL, 0, COORD_EPHEMERAL, ignore_done,
                 NULL);
}

/* A restarted worker opens a new session and registers again. */
void ha_worker_back(sim *s, uint32_t w) {
    if (s->cfg->worker_detection != SIM_DETECT_SESSION)
        return;
    if (ss_grow(&s->retired, &s->retired_cap, s->retired_count + 1, sizeof *s->retired) != 0)
        return;
    s->retired[s->retired_count++] = s->worker_sessions[w];
    s->worker_sessions[w] = new_session(s);
    if (!s->worker_sessions[w] ||
        s->backend->open(s->service, s->worker_sessions[w], s->cfg->session_timeout_ns, NULL, NULL))
        return;
    register_worker(s, w);
}

/* The admin's directories exist: job managers join the election, workers register. */
static void ha_ready(void *arg, int rc, const coord_result *res) {
    (void)rc, (void)res;
    sim *s = arg;
    if (s->closing)
        return;
    for (uint32_t i = 0; i < s->cfg->job_managers; i++)
        join_election(&s->jms[i]);
    if (s->cfg->coordinated_assignment) {
        recipe_assignment_watch(&s->assignment, s->backend, s->admin, HA_ROOT "/assignment",
                                assignment_seen, s);
        ha_publish_assignment(s); /* the first placement; the job is already running on it */
        s->awaiting_generation = 0;
    }
    if (s->cfg->worker_detection == SIM_DETECT_SESSION) {
        for (uint32_t w = 0; w < s->cfg->workers; w++)
            register_worker(s, w);
    }
}

/* The admin session (it watches the assignment) is back: re-read what was lost. */
static void admin_state(void *arg, int state) {
    sim *s = arg;
    if (s->closing)
        return;
    if (s->cfg->coordinated_assignment)
        recipe_assignment_session_state(&s->assignment, state);
}

int ha_setup(sim *s) {
    const sim_config *c = s->cfg;
    s->active = -1;
    if (c->coordination != SIM_COORD_HA)
        return 0;
    s->env = (env){&sim_env_vtable, s};
    s->backend = coord_backend_find(c->coord_backend);
    if (!s->backend) {
        snprintf(s->err, s->errlen, "coordination: no backend '%s'", c->coord_backend);
        s->failed = SS_EINVAL;
        return SS_EINVAL;
    }
    if (s->backend->real_time) { /* the job model's clock follows the monotonic one */
        s->rt = malloc(sizeof *s->rt);
        if (!s->rt || env_rt_init(s->rt) != 0) {
            free(s->rt);
            s->rt = NULL;
            snprintf(s->err, s->errlen, "coordination = %s: cannot set up a real-time loop",
                     s->backend->name);
            s->backend = NULL;
            s->failed = SS_EIO;
            return SS_EIO;
        }
        s->env = (env){&rt_env_vtable, s};
    }
    coord_config cc;
    config_coord(c, s->seed ^ ((uint64_t)s->run << 32), &cc);
    int rc = s->backend->service_create(&s->env, &cc, &s->service, s->err, s->errlen);
    if (rc != 0) {
        s->backend = NULL; /* nothing to close or free */
        s->failed = rc;
        return rc;
    }
    s->admin = new_session(s);
    s->jms = calloc(c->job_managers, sizeof *s->jms);
    s->worker_sessions = calloc(c->workers, sizeof *s->worker_sessions);
    s->member_seen = calloc(c->workers, sizeof *s->member_seen);
    s->incarnation = calloc(c->workers, sizeof *s->incarnation);
    if (!s->admin || !s->jms || !s->worker_sessions || !s->member_seen || !s->incarnation)
        return SS_ENOMEM;
    s->backend->open(s->service, s->admin, 20 * c->zk_tick_ns, admin_state, s);
    for (uint32_t i = 0; i < c->job_managers; i++) {
        jm_node *jm = &s->jms[i];
        jm->owner = s;
        jm->index = i;
        jm->session = new_session(s);
        if (!jm->session)
            return SS_ENOMEM;
        s->backend->open(s->service, jm->session, c->session_timeout_ns, jm_state, jm);
    }
    for (uint32_t w = 0; c->worker_detection == SIM_DETECT_SESSION && w < c->workers; w++) {
        s->worker_sessions[w] = new_session(s);
        if (!s->worker_sessions[w])
            return SS_ENOMEM;
        s->backend->open(s->service, s->worker_sessions[w], c->session_timeout_ns, NULL, NULL);
    }
    /* Flink's layout: leader/, jobgraphs/<job>, jobs/<job>/checkpoints/<id> */
    static const char *const dirs[] = {"/shardsim",          HA_ROOT,           HA_ROOT "/leader",
                                       HA_ROOT "/jobgraphs", HA_ROOT "/jobs",   HA_ROOT "/jobs/job",
                                       HA_CHECKPOINTS,       HA_ROOT "/workers"};
    char graph[160];
    int glen = snprintf(graph, sizeof graph, "source(%u) -> keyed(%u, %s) -> sink", c->sources,
                        c->parallelism, c->partitioner);
    coord_create(s->backend, s->admin, "/shardsim", NULL, 0, 0, ignore_done, s);
    for (size_t i = 1; i < sizeof dirs / sizeof dirs[0]; i++) /* one session: applied in order */
        coord_create(s->backend, s->admin, dirs[i], NULL, 0, 0, ignore_done, s);
    coord_create(s->backend, s->admin, HA_ROOT "/jobgraphs/job", graph, (size_t)glen, 0, ha_ready,
                 s);
    return 0;
}

/* Can the job's leader act (trigger and commit checkpoints)? */
int ha_leader_can_act(const sim *s) {
    if (s->cfg->coordination != SIM_COORD_HA)
        return 1;
    return s->active >= 0 && s->jms[s->active].latch.leading && !s->jms[s->active].crashed;
}

static void crash_jm(sim *s, uint32_t i) {
    jm_node *jm = &s->jms[i];
    jm->crashed = 1;
    s->backend->faults->kill_client(s->service, jm->session);
    leader_lost(s, jm, 1);
}

static void partition_jm(sim *s, uint32_t i, uint64_t duration_ns) {
    s->backend->faults->partition_client(s->service, s->jms[i].session, duration_ns);
    leader_lost(s, &s->jms[i], 0); /* it still thinks it leads, but reaches nobody */
}

static void quorum_back(void *arg, uint64_t servers, uint64_t b) {
    (void)b;
    sim *s = arg;
    if (s->closing)
        return;
    for (uint32_t k = 0; k < servers; k++)
        s->backend->faults->restart_server(s->service, k);
}

/* A majority of the ensemble goes down for a while, then comes back. */
static void lose_quorum(sim *s, uint64_t duration_ns) {
    uint32_t majority = s->cfg->zk_servers / 2 + 1;
    for (uint32_t k = 0; k < majority; k++)
        s->backend->faults->crash_server(s->service, k);
    env_schedule(&s->env, s->now + duration_ns, quorum_back, s, majority, 0);
}

static void assignment_seen(void *arg, uint64_t generation, const uint32_t *workers,
                            uint32_t count) {
    (void)workers, (void)count;
    sim *s = arg;
    if (s->closing)
        return;
    if (generation != s->awaiting_generation || s->awaiting_epoch != s->epoch_no)
        return; /* not the placement a restart waits for, or a newer failure came */
    s->awaiting_generation = 0;
    sim_push(s, s->resume_at_ns > s->now ? s->resume_at_ns : s->now, EV_RESTORED, s->resume_from,
             0);
}

/* The leader (or, with none, the admin) writes the placement; workers watch it. */
void ha_publish_assignment(sim *s) {
    uint32_t *workers = malloc(s->n * sizeof *workers);
    if (!workers) {
        sim_fail(s, SS_ENOMEM, "out of memory");
        return;
    }
    for (uint32_t i = 0; i < s->n; i++)
        workers[i] = s->sub[i].worker;
    s->awaiting_generation = ++s->assign_generation;
    coord_session *writer = s->active >= 0 ? s->jms[s->active].session : s->admin;
    const recipe_latch *fence = s->active >= 0 && s->cfg->fencing && s->jms[s->active].latch.node[0]
                                    ? &s->jms[s->active].latch
                                    : NULL;
    recipe_assignment_write(s->backend, writer, fence, HA_ROOT "/assignment", s->assign_generation,
                            workers, s->n, assignment_written, s);
    free(workers);
}

static void republish(void *arg, uint64_t generation, uint64_t b) {
    (void)b;
    sim *s = arg;
    if (s->closing)
        return;
    if (s->awaiting_generation == generation && s->awaiting_epoch == s->epoch_no)
        ha_publish_assignment(s);
}

/* A restart waits for its placement to be seen: a write that failed is tried again
 * a second later (by whoever leads then). */
static void assignment_written(void *arg, int rc, const coord_result *res) {
    (void)res;
    sim *s = arg;
    if (s->closing)
        return;
    if (rc != COORD_OK && s->awaiting_generation == s->assign_generation)
        env_schedule(&s->env, s->now + 1000000000ULL, republish, s, s->awaiting_generation, 0);
}

static void session_closed(void *arg, int rc, const coord_result *res) {
    (void)rc, (void)res;
    ((sim *)arg)->closes_pending--;
}

static void close_session(sim *s, coord_session *session) {
    if (session && s->backend->close(session, session_closed, s) == 0)
        s->closes_pending++;
}

/* The run is over: close every session (coord.h: before its memory goes) and run the
 * coordination's timers until the closes completed. Nothing of the HA acts any more
 * (s->closing), and the job model's own events are dropped. */
static void close_all(sim *s) {
    s->closing = 1;
    close_session(s, s->admin);
    for (uint32_t i = 0; s->jms && i < s->cfg->job_managers; i++)
        close_session(s, s->jms[i].session);
    for (uint32_t w = 0; s->worker_sessions && w < s->cfg->workers; w++)
        close_session(s, s->worker_sessions[w]);
    for (size_t i = 0; i < s->retired_count; i++)
        close_session(s, s->retired[i]);
    if (s->rt) { /* the replies come from the client's threads: 10 s at most */
        uint64_t deadline = env_now(&s->rt->env) + 10000000000ULL;
        while (s->closes_pending > 0 && env_now(&s->rt->env) < deadline)
            rt_run_one(s, deadline);
        return;
    }
    queue_event ev;
    for (uint64_t n = 0; s->closes_pending > 0 && n < 100000000 && queue_pop(s->q, &ev) == 0; n++)
        if (ev.type == EV_ENV) {
            s->now = ev.time_ns > s->now ? ev.time_ns : s->now;
            ha_timer(s, &ev);
        }
    assert(s->closes_pending == 0);
}

void ha_free(sim *s) {
    if (s->backend) {
        close_all(s);
        s->backend->service_free(s->service); /* every session closed: nothing runs now */
    }
    if (s->rt) {
        env_rt_free(s->rt);
        free(s->rt);
    }
    for (size_t i = 0; i < s->context_count; i++)
        free(s->contexts[i]);
    free(s->contexts);
    free_pointer_names(s);
    free(s->admin);
    for (uint32_t i = 0; s->jms && i < s->cfg->job_managers; i++)
        free(s->jms[i].session);
    free(s->jms);
    for (uint32_t w = 0; s->worker_sessions && w < s->cfg->workers; w++)
        free(s->worker_sessions[w]);
    free(s->worker_sessions);
    free(s->member_seen);
    free(s->incarnation);
    for (size_t i = 0; i < s->retired_count; i++)
        free(s->retired[i]);
    free(s->retired);
}

void ha_worker_crashed(sim *s, uint32_t w) {
    s->backend->faults->kill_client(s->service, s->worker_sessions[w]);
}

void ha_fault(sim *s, const sim_fault *f) {
    switch (f->kind) {
    case SIM_FAULT_CRASH_JM:
        crash_jm(s, f->target);
        break;
    case SIM_FAULT_PARTITION_JM:
        partition_jm(s, f->target, f->duration_ns);
        break;
    case SIM_FAULT_EXPIRE_SESSION:
        s->backend->faults->expire_session(s->service, s->jms[f->target].session);
        break;
    case SIM_FAULT_CRASH_ZK:
        s->backend->faults->crash_server(s->service, f->target);
        break;
    case SIM_FAULT_RESTART_ZK:
        s->backend->faults->restart_server(s->service, f->target);
        break;
    case SIM_FAULT_LOSE_QUORUM:
        lose_quorum(s, (uint64_t)f->target * 1000000000ULL);
        break;
    case SIM_FAULT_SLOW_ZK:
        s->backend->faults->slow(s->service, (double)f->target, f->duration_ns);
        break;
    case SIM_FAULT_DROP_CONNECTION:
        s->backend->faults->drop_connection(s->service, s->jms[f->target].session);
        break;
    case SIM_FAULT_CRASH_LEADER: /* whichever job manager leads now */
        if (s->active >= 0)
            crash_jm(s, (uint32_t)s->active);
        break;
    case SIM_FAULT_PARTITION_LEADER:
        if (s->active >= 0)
            partition_jm(s, (uint32_t)s->active, f->duration_ns);
        break;
    }
}
