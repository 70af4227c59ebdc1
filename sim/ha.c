/* ha.c -- job-manager high availability through a coordination service; see ha.h.
 *
 * J job managers contend for leadership through the coordination service; the job
 * follows the latest leader. The leader takes each checkpoint id from the
 * checkpoint_id_counter znode (compare-and-set), and a checkpoint completes only once
 * the leader has committed its pointer znode (jobs/job/checkpoints/<19-digit id>: epoch,
 * offset and the CRC32C of its blobs), fenced by a check of the leader's election node
 * unless fencing is off; the pointer of the checkpoint it subsumes is then deleted. A
 * restart is the leader's: it syncs, reads the job graph and the pointers, newest first,
 * and restores the first whose id, offset and CRC match state that exists (none: start
 * over). A leader cut off from the service keeps believing it leads until its session
 * says otherwise; a commit it loses in flight is retried after it reconnects with a new
 * session -- with fencing that retry is refused, without it a deposed leader commits
 * after its successor won (stale_commits), and its pointer, naming state that is gone,
 * must be skipped by the next restore (pointers_skipped). A counter write it loses in
 * flight is sent again on its next connection or session, as Curator's retry loop under
 * Flink's counter does: conditioned on the version it read, a successor's increments
 * make it fail and read afresh; without the condition (counter-no-cas) it puts the
 * counter back, and ids are handed out twice.
 *
 * A paused job manager (pause-jm, pause-leader: a long GC) is cut off from the service
 * for the pause, as a partition would, but hears nothing of it: every callback of its
 * own (session states, election, replies) is held and replayed when the pause ends, and
 * what it meant to send meanwhile (a commit) goes out then, as if nothing had happened.
 *
 * Invariants, checked on every run and reported through ha_job.violate:
 * - ha-epochs: leaders that act (commit, place the job) do so in epochs that never go
 *   back, one job manager per epoch; the counter never hands out an id twice; committed
 *   ids strictly increase (commits by deposed leaders aside: see stale-commit);
 * - stale-commit: with fencing on, no deposed leader commits;
 * - restore-newest: a restore uses the newest checkpoint committed whose state the job
 *   kept, with the offset and CRC32C its commit was acknowledged with. Pointers the
 *   service acknowledged but whose checkpoint never completed (a retry, or an answer
 *   for a job that had stopped) name state that is gone: skipping them is right;
 * - herd: one election node's deletion wakes one contender at most (its successor);
 * - sequential: election sequence numbers never repeat. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/history.h"
#include "backends/recipes/recipes.h"
#include "core/error.h"
#include "core/grow.h"
#include "sim/ha.h"

#define HA_ROOT "/shardsim/c"
#define HA_CHECKPOINTS HA_ROOT "/jobs/job/checkpoints"
#define HA_COUNTER HA_ROOT "/jobs/job/checkpoint_id_counter"

/* Something a paused job manager heard, or meant to send, while paused: replayed in
 * order when the pause ends. */
enum { HELD_STATE, HELD_LEADER, HELD_WOKEN, HELD_COMMIT_DONE, HELD_ID_DONE, HELD_COMMIT_SEND };

typedef struct ha_held {
    int kind;       /* HELD_* */
    int value;      /* the state, leading, or the reply's rc */
    int64_t number; /* the epoch, or the counter's value */
    void *arg;      /* the reply's context */
    uint32_t id, crc;
    uint64_t offset, incarnation; /* a commit to send */
} ha_held;

/* A job manager: its session and its place in the election. */
typedef struct jm_node {
    struct ha *owner;
    uint32_t index;
    coord_session *session;
    recipe_latch *latch; /* this session's; an expired session's stays (stopped) */
    int crashed;
    uint32_t unsent_commit; /* a checkpoint whose commit was lost in flight: retried */
    uint64_t unsent_offset;
    recipe_counter_write unsent_id; /* a counter write lost in flight: sent again */
    char old_node[300];             /* the election node of the session that lost it */
    recipe_watcher members;         /* as leader: the workers' directory */
    coord_session *watching;        /* the session whose watch on it is armed */
    uint64_t woke_ns;               /* when its election watch last saw the node before it go */
    uint64_t paused_until_ns;       /* a process pause: until then it hears and sends nothing */
    ha_held *held;                  /* ... and what it held meanwhile */
    size_t held_count, held_cap;
    size_t leadership; /* 1 + the index of its open leadership record, 0 = none */
} jm_node;

struct ha {
    const sim_config *cfg;
    const env *env;
    ha_job job;
    const coord_backend *backend;
    void *service;
    int closing;            /* the run is over: sessions are being closed */
    int64_t closes_pending; /* closes not yet completed */
    coord_session *admin;
    jm_node *jms;
    int active;              /* index of the job manager the job follows, -1 = none */
    int64_t newest_epoch;    /* the highest leader epoch elected so far */
    uint64_t leader_lost_ns; /* when the active leader was lost (crash, cut off) */
    coord_session **worker_sessions;
    uint32_t *member_seen; /* per worker: the incarnation the leader last saw, 0 = none */
    uint32_t *incarnation; /* per worker: registrations so far (names w<W>-<incarnation>) */
    uint64_t elections, commits, stale_commits;
    coord_session **retired; /* sessions that ended: kept until the end (timers name them) */
    size_t retired_count, retired_cap;
    /* checkpoint ids from the checkpoint_id_counter znode */
    int id_requested; /* an id is on its way */
    int id_stop;      /* ... for a savepoint of a rescale to id_rescale_to */
    uint32_t id_rescale_to;
    uint64_t id_token; /* the request an answer must match */
    /* a restart reads the latest checkpoint pointer from the service */
    uint32_t restore_generation; /* bumps abandon the reads in flight */
    int restoring;               /* reads in flight */
    int restart_waiting;         /* no leader to read them yet */
    int restore_jm;              /* the job manager reading */
    char **pointer_names;        /* checkpoints/ children, ascending */
    size_t pointer_count, pointer_next;
    uint64_t pointers_skipped; /* pointers naming state that is not there */
    void **contexts;           /* callback contexts, freed at the end */
    size_t context_count, context_cap;
    /* assignment = coordinated: a restart waits until the workers see its placement */
    recipe_assignment_watcher assignment;
    uint64_t assign_generation, awaiting_generation, awaiting_incarnation;
    /* coordination invariants (herd, sequential): what ha_fill_result reports */
    struct election_node *seen; /* every election node a contender joined or woke by */
    size_t seen_count, seen_cap;
    /* invariants (the ha_check_* functions) */
    int acted; /* a leader acted: in act_epoch, job manager act_jm */
    int64_t act_epoch;
    uint32_t act_jm;
    uint64_t *issued_ids; /* bitmap of the ids the counter handed out */
    size_t issued_words;
    uint32_t committed_id;      /* the newest id a leader committed */
    uint32_t good_id, good_crc; /* the newest completed checkpoint's pointer, as acknowledged */
    uint64_t good_offset;
    int passed_newest;      /* restore-older mutation: this restore passed the newest over */
    coord_history *history; /* records every coordination call (NULL: not recorded) */
    /* the record of leaderships and commit answers (the split-brain plot) */
    sim_leadership *leaderships;
    size_t leadership_count, leadership_cap;
    sim_commit *commit_log;
    size_t commit_log_count, commit_log_cap;
};

static uint64_t now_ns(const ha *h) {
    return env_now(h->env);
}

static void fail(ha *h, int code, const char *msg) {
    h->job.fail(h->job.ctx, code, msg);
}

/* Sessions that ended stay allocated until the end: the service may still hold
 * timers naming them. */
static coord_session *new_session(ha *h) {
    return calloc(1, h->backend->session_size);
}

/* Callback contexts live until the end of the run: a reply may never come. */
static int keep_context(ha *h, void *c) {
    if (ss_grow(&h->contexts, &h->context_cap, h->context_count + 1, sizeof *h->contexts) != 0) {
        free(c);
        fail(h, SS_ENOMEM, "out of memory");
        return SS_ENOMEM;
    }
    h->contexts[h->context_count++] = c;
    return 0;
}

static void ignore_done(void *arg, int rc, const coord_result *res) {
    (void)arg, (void)rc, (void)res;
}

/* ---------- invariants ---------- */

static void ha_violate(ha *h, const char *invariant, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void ha_violate(ha *h, const char *invariant, const char *fmt, ...) {
    if (!h->job.violate)
        return;
    char detail[232];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    h->job.violate(h->job.ctx, now_ns(h), invariant, detail);
}

/* ha-epochs: job manager jm, leader in epoch, acts (what: "committed", "placed"). Epochs
 * of acting leaders never go back, and one epoch is one job manager's. */
static void ha_check_act(ha *h, const jm_node *jm, int64_t epoch, const char *what) {
    if (h->acted && epoch < h->act_epoch)
        ha_violate(h, "ha-epochs",
                   "job manager %u %s as leader of epoch %lld after epoch %lld acted", jm->index,
                   what, (long long)epoch, (long long)h->act_epoch);
    else if (h->acted && epoch == h->act_epoch && jm->index != h->act_jm)
        ha_violate(h, "ha-epochs", "job managers %u and %u both acted as leader of epoch %lld",
                   h->act_jm, jm->index, (long long)epoch);
    if (!h->acted || epoch > h->act_epoch) {
        h->acted = 1;
        h->act_epoch = epoch;
        h->act_jm = jm->index;
    }
}

/* ha-epochs: the counter handed out id; no id twice (answers to different clients may
 * arrive out of order, so only reuse is checked here). */
static void ha_check_issued_id(ha *h, int64_t id) {
    if (id <= 0 || id > UINT32_MAX)
        return;
    size_t word = (size_t)((uint64_t)id / 64);
    if (word >= h->issued_words) {
        size_t cap = h->issued_words;
        if (ss_grow(&h->issued_ids, &cap, word + 1, sizeof *h->issued_ids) != 0) {
            fail(h, SS_ENOMEM, "out of memory");
            return;
        }
        memset(h->issued_ids + h->issued_words, 0, (cap - h->issued_words) * sizeof *h->issued_ids);
        h->issued_words = cap;
    }
    uint64_t bit = 1ULL << ((uint64_t)id % 64);
    if (h->issued_ids[word] & bit)
        ha_violate(h, "ha-epochs", "the checkpoint id counter handed out id %lld twice",
                   (long long)id);
    h->issued_ids[word] |= bit;
}

/* A commit of checkpoint id by jm (leader of epoch) succeeded. deposed: the leader had
 * been deposed (a successor was elected, or it retried on a new session). */
static void ha_check_commit(ha *h, const jm_node *jm, int64_t epoch, uint32_t id, int deposed) {
    if (deposed) { /* stale-commit; counted (stale_commits) but allowed without fencing */
        if (h->cfg->fencing)
            ha_violate(h, "stale-commit",
                       "deposed job manager %u (epoch %lld) committed checkpoint %u with "
                       "fencing on (newest epoch %lld)",
                       jm->index, (long long)epoch, id, (long long)h->newest_epoch);
        return;
    }
    ha_check_act(h, jm, epoch, "committed");
    if (id <= h->committed_id)
        ha_violate(h, "ha-epochs", "checkpoint %u committed after checkpoint %u", id,
                   h->committed_id);
    else
        h->committed_id = id;
}

/* The job completed checkpoint id: its pointer is the one a restore must use. */
static void ha_note_completed(ha *h, uint32_t id, uint64_t offset, uint32_t crc) {
    h->good_id = id;
    h->good_offset = offset;
    h->good_crc = crc;
}

/* restore-newest: a restore takes checkpoint id (0: none, the job starts over), from a
 * pointer naming offset and crc. */
static void ha_check_restore(ha *h, uint32_t id, uint64_t offset, uint32_t crc) {
    if (id != h->good_id)
        ha_violate(h, "restore-newest",
                   "restored checkpoint %u (0: none), but checkpoint %u was the newest committed",
                   id, h->good_id);
    else if (id && (offset != h->good_offset || crc != h->good_crc))
        ha_violate(h, "restore-newest",
                   "checkpoint %u restored at offset %llu crc32c %08x, committed at offset %llu "
                   "crc32c %08x",
                   id, (unsigned long long)offset, crc, (unsigned long long)h->good_offset,
                   h->good_crc);
}

/* ---------- the record: who led when, and what became of each commit ----------
 * For the split-brain view (leaders.csv, commits.csv): changes nothing the run does. */

/* jm's leadership as it believes it: its latch leads and it is alive. Opens a record
 * when it starts leading (or leads in a new epoch), closes it now when it stops. */
static void note_leadership(ha *h, jm_node *jm) {
    int leads = jm->latch->leading && !jm->crashed;
    sim_leadership *open = jm->leadership ? &h->leaderships[jm->leadership - 1] : NULL;
    if (open && leads && open->epoch == jm->latch->epoch)
        return;
    if (open)
        open->to_ns = now_ns(h);
    jm->leadership = 0;
    if (!leads)
        return;
    if (ss_grow(&h->leaderships, &h->leadership_cap, h->leadership_count + 1,
                sizeof *h->leaderships) != 0) {
        fail(h, SS_ENOMEM, "out of memory");
        return;
    }
    h->leaderships[h->leadership_count++] =
        (sim_leadership){jm->index, jm->latch->epoch, now_ns(h), 0};
    jm->leadership = h->leadership_count;
}

/* Commits are fenced: they check the leader's election node first. */
static int fencing_on(const ha *h) {
    return h->cfg->fencing && !(h->cfg->mutations & SIM_MUT_NO_FENCING);
}

/* A commit of checkpoint id by jm, leader of epoch, was answered rc (stale: a successor
 * had been elected by then; retry: on a new session, after the first was lost). */
static void note_commit(ha *h, const jm_node *jm, int64_t epoch, uint32_t id, int rc, int stale,
                        int retry) {
    int outcome = rc == COORD_OK ? stale ? SIM_COMMIT_STALE : SIM_COMMIT_COMMITTED
                  : fencing_on(h) && rc == COORD_NONODE ? SIM_COMMIT_REFUSED
                                                        : SIM_COMMIT_FAILED;
    if (ss_grow(&h->commit_log, &h->commit_log_cap, h->commit_log_count + 1,
                sizeof *h->commit_log) != 0) {
        fail(h, SS_ENOMEM, "out of memory");
        return;
    }
    h->commit_log[h->commit_log_count++] =
        (sim_commit){now_ns(h), jm->index, epoch, id, (uint8_t)outcome, (uint8_t)(retry != 0)};
}

/* A copy of count records of size bytes into *out (NULL when there are none). */
static int copy_records(const void *from, size_t count, size_t size, void **out) {
    *out = NULL;
    if (!count)
        return 0;
    *out = malloc(count * size);
    if (!*out)
        return SS_ENOMEM;
    memcpy(*out, from, count * size);
    return 0;
}

/* The record into r (leaderships, commits_log). 0 or SS_ENOMEM. */
static int fill_record(const ha *h, sim_result *r) {
    void *leaders, *commits;
    if (copy_records(h->leaderships, h->leadership_count, sizeof *h->leaderships, &leaders) != 0)
        return SS_ENOMEM;
    r->leaderships = leaders;
    r->leadership_count = h->leadership_count;
    if (copy_records(h->commit_log, h->commit_log_count, sizeof *h->commit_log, &commits) != 0)
        return SS_ENOMEM;
    r->commits_log = commits;
    r->commit_log_count = h->commit_log_count;
    return 0;
}

/* ---------- process pauses: what a paused job manager hears waits for its resumption ---- */

/* 1 if jm is paused: item is kept for its resumption (or the run fails: out of memory). */
static int held(jm_node *jm, ha_held item) {
    if (!jm->paused_until_ns)
        return 0;
    if (ss_grow(&jm->held, &jm->held_cap, jm->held_count + 1, sizeof *jm->held) != 0) {
        fail(jm->owner, SS_ENOMEM, "out of memory");
        return 1;
    }
    jm->held[jm->held_count++] = item;
    return 1;
}

/* ---------- commits of checkpoint pointers ---------- */

typedef struct commit_ctx {
    ha *h;
    jm_node *jm;
    uint32_t id, crc;
    uint64_t incarnation, offset;
    int64_t leader_epoch;
    int retry;
    int stale; /* a successor had been elected when the answer reached the client */
} commit_ctx;

/* The answer to a commit, as its job manager acts on it. */
static void commit_answered(commit_ctx *c, int rc) {
    ha *h = c->h;
    note_commit(h, c->jm, c->leader_epoch, c->id, rc, c->stale, c->retry);
    if (rc == COORD_OK) {
        h->commits++;
        if (c->stale)
            h->stale_commits++; /* a deposed leader committed after its successor won */
        uint32_t subsumed = 0;
        if (!c->retry && h->job.committed(h->job.ctx, c->id, c->incarnation, &subsumed)) {
            ha_note_completed(h, c->id, c->offset, c->crc);
            if (subsumed) { /* one retained checkpoint: the older pointer goes */
                char path[128];
                snprintf(path, sizeof path, HA_CHECKPOINTS "/%019u", subsumed);
                coord_remove(h->backend, c->jm->session, path, -1, ignore_done, NULL);
            }
        }
    } else {
        if ((rc == COORD_CONNECTIONLOSS || rc == COORD_SESSIONEXPIRED) && !c->retry) {
            c->jm->unsent_commit = c->id; /* the naive job manager will try again */
            c->jm->unsent_offset = c->offset;
        }
        /* the checkpoint failed: the next one may start */
        if (!c->retry)
            h->job.commit_failed(h->job.ctx, c->id, c->incarnation);
    }
}

static void commit_done(void *arg, int rc, const coord_result *res) {
    (void)res;
    commit_ctx *c = arg;
    ha *h = c->h;
    if (h->closing)
        return;
    c->stale = c->leader_epoch < h->newest_epoch;
    /* the service committed it now: a paused leader hears of it later, but the order
     * of the commits among leaders is the service's */
    if (rc == COORD_OK)
        ha_check_commit(h, c->jm, c->leader_epoch, c->id, c->stale || c->retry);
    if (!held(c->jm, (ha_held){.kind = HELD_COMMIT_DONE, .value = rc, .arg = c}))
        commit_answered(c, rc);
}

/* Commit checkpoint id's pointer (taken by the job's incarnation) as jm. */
static void commit(ha *h, jm_node *jm, uint32_t id, uint64_t offset, uint32_t crc, int retry,
                   uint64_t incarnation) {
    commit_ctx *c = calloc(1, sizeof *c);
    if (!c) {
        fail(h, SS_ENOMEM, "out of memory");
        return;
    }
    *c = (commit_ctx){h, jm, id, crc, incarnation, offset, jm->latch->epoch, retry, 0};
    if (keep_context(h, c) != 0)
        return;
    char path[128], data[128];
    snprintf(path, sizeof path, HA_CHECKPOINTS "/%019u", id);
    int n = snprintf(data, sizeof data, "epoch=%lld offset=%llu crc32c=%08x",
                     (long long)jm->latch->epoch, (unsigned long long)offset, crc);
    coord_op op = {COORD_OP_CREATE, path, data, (size_t)n, 0, -1};
    int rc, fencing = fencing_on(h);
    if (fencing && retry) { /* the check names the election node it led with */
        coord_op fenced[2] = {{COORD_OP_CHECK, jm->old_node, NULL, 0, 0, -1}, op};
        rc = coord_multi(h->backend, jm->session, fenced, 2, commit_done, c);
    } else if (fencing) {
        rc = recipe_fenced_multi(jm->latch, &op, 1, commit_done, c);
    } else {
        rc = coord_multi(h->backend, jm->session, &op, 1, commit_done, c);
    }
    if (rc != 0) /* refused at once: handled as a failed commit */
        commit_done(c, rc, NULL);
}

void ha_commit(ha *h, uint32_t id, uint64_t offset, uint32_t crc) {
    if (h->active < 0)
        return;
    jm_node *jm = &h->jms[h->active];
    uint64_t incarnation = h->job.incarnation(h->job.ctx);
    /* a paused leader sends it when it resumes, believing it still leads */
    if (!held(jm, (ha_held){.kind = HELD_COMMIT_SEND,
                            .id = id,
                            .crc = crc,
                            .offset = offset,
                            .incarnation = incarnation}))
        commit(h, jm, id, offset, crc, 0, incarnation);
}

/* ---------- checkpoint ids: the leader increments checkpoint_id_counter (CAS) ---------- */

/* What a counter request carries: the request it answers (a newer one, or a stopped
 * job, makes it stale; 0: a retry nobody waits for). */
typedef struct id_ctx {
    ha *h;
    uint64_t token;
    jm_node *jm;               /* who asked */
    recipe_counter_write lost; /* the write in flight when its answer was lost */
} id_ctx;

static void checkpoint_id_done(void *arg, int rc, int64_t value);

/* Increment the counter as jm on its session: a fresh increment, or the retry of a lost
 * write. 0 if it could not be sent. */
static int request_id(ha *h, jm_node *jm, uint64_t token, recipe_counter_write retry) {
    id_ctx *c = malloc(sizeof *c);
    if (!c || keep_context(h, c) != 0)
        return 0;
    *c = (id_ctx){h, token, jm, {0, -1}};
    recipe_counter_opts opts = {.no_cas = (h->cfg->mutations & SIM_MUT_COUNTER_NO_CAS) != 0,
                                .lost = &c->lost,
                                .retry = retry};
    return recipe_counter_start(h->backend, jm->session, HA_COUNTER, &opts, checkpoint_id_done,
                                c) == 0;
}

/* The answer, as its job manager hears it. A write lost in flight is sent again on the
 * next session or connection, whether or not the job still waits for the id, as
 * Curator's retry loop under Flink's counter does (a retry's own loss is not). */
static void retry_lost_id(ha *h, jm_node *jm);

static void checkpoint_id_answered(const id_ctx *c, int rc, int64_t value) {
    ha *h = c->h;
    if (c->token && c->lost.value) {
        c->jm->unsent_id = c->lost;
        if (!c->jm->crashed && h->backend->state(c->jm->session) == COORD_STATE_CONNECTED)
            retry_lost_id(h, c->jm); /* still (or again) connected: at once */
    }
    if (!c->token || c->token != h->id_token)
        return;
    h->id_requested = 0;
    uint32_t id = rc == COORD_OK && value > 0 && value <= UINT32_MAX ? (uint32_t)value : 0;
    h->job.checkpoint_id(h->job.ctx, id, h->id_stop, h->id_rescale_to, ha_leader_can_act(h));
}

static void checkpoint_id_done(void *arg, int rc, int64_t value) {
    id_ctx *c = arg;
    if (c->h->closing)
        return;
    if (rc == COORD_OK)
        ha_check_issued_id(c->h, value);
    if (!held(c->jm, (ha_held){.kind = HELD_ID_DONE, .value = rc, .number = value, .arg = c}))
        checkpoint_id_answered(c, rc, value);
}

/* Send jm's lost counter write again, if it has one. */
static void retry_lost_id(ha *h, jm_node *jm) {
    recipe_counter_write w = jm->unsent_id;
    jm->unsent_id = (recipe_counter_write){0, -1};
    if (w.value)
        request_id(h, jm, 0, w);
}

int ha_request_checkpoint_id(ha *h, int stop, uint32_t rescale_to) {
    if (!request_id(h, &h->jms[h->active], ++h->id_token, (recipe_counter_write){0, -1}))
        return 0;
    h->id_requested = 1;
    h->id_stop = stop;
    h->id_rescale_to = rescale_to;
    return 1;
}

int ha_id_requested(const ha *h) {
    return h->id_requested;
}

int ha_job_stopped(ha *h) {
    if (!h->id_requested)
        return 0;
    h->id_requested = 0; /* its answer, if it ever comes, is stale */
    h->id_token++;
    return h->id_stop; /* the rescale it served is tried again */
}

/* ---------- restore: the leader reads the job graph and the checkpoint pointers (after
 * a sync, unless zk_sync = 0), newest first, and restores the first whose id, offset
 * and CRC32C match state that exists; none: the job starts over. ---------- */

static void free_pointer_names(ha *h) {
    for (size_t i = 0; i < h->pointer_count; i++)
        free(h->pointer_names[i]);
    free(h->pointer_names);
    h->pointer_names = NULL;
    h->pointer_count = h->pointer_next = 0;
}

/* What a read in flight carries: which restart it serves. */
typedef struct restore_ctx {
    ha *h;
    uint32_t generation;
    int next; /* sync and the job graph: the read that follows (READ_*) */
} restore_ctx;

/* A context for the next read (kept until the end of the run); NULL if out of memory. */
static restore_ctx *restore_arg(ha *h) {
    restore_ctx *c = malloc(sizeof *c);
    if (!c) {
        fail(h, SS_ENOMEM, "out of memory");
        return NULL;
    }
    *c = (restore_ctx){h, h->restore_generation, 0};
    return keep_context(h, c) == 0 ? c : NULL;
}

/* Is this read still wanted (no newer failure, restart or leader since)? */
static int restore_wanted(const restore_ctx *c) {
    const ha *h = c->h;
    return !h->closing && c->generation == h->restore_generation && h->restoring &&
           h->job.down(h->job.ctx) && h->active == h->restore_jm;
}

/* A read failed: the restart is tried again after the restart strategy's delay. */
static void restore_retry(ha *h) {
    h->restoring = 0;
    free_pointer_names(h);
    h->job.restart(h->job.ctx, 0);
}

static void restore_found(ha *h, int found) {
    h->restoring = 0;
    free_pointer_names(h);
    h->job.restore(h->job.ctx, found);
}

static void pointer_read(void *arg, int rc, const coord_result *res);

static void next_pointer(ha *h) {
    if (h->pointer_next == 0) {
        ha_check_restore(h, 0, 0, 0);
        restore_found(h, 0);
        return;
    }
    char path[160];
    snprintf(path, sizeof path, HA_CHECKPOINTS "/%s", h->pointer_names[--h->pointer_next]);
    restore_ctx *c = restore_arg(h);
    if (c && coord_get(h->backend, h->jms[h->restore_jm].session, path, NULL, NULL, pointer_read,
                       c) != 0)
        restore_retry(h);
}

static void pointer_read(void *arg, int rc, const coord_result *res) {
    ha *h = ((restore_ctx *)arg)->h;
    if (!restore_wanted(arg))
        return;
    if (rc == COORD_NONODE) { /* subsumed meanwhile */
        next_pointer(h);
        return;
    }
    if (rc != COORD_OK) {
        restore_retry(h);
        return;
    }
    char text[128];
    unsigned long long id = strtoull(h->pointer_names[h->pointer_next], NULL, 10), offset = 0;
    long long epoch = 0;
    unsigned crc = 0;
    snprintf(text, sizeof text, "%.*s", (int)(res->data_len < 127 ? res->data_len : 127),
             (const char *)res->data);
    if (sscanf(text, "epoch=%lld offset=%llu crc32c=%x", &epoch, &offset, &crc) == 3 && id &&
        id <= UINT32_MAX && h->job.has_checkpoint(h->job.ctx, (uint32_t)id, offset, crc)) {
        if ((h->cfg->mutations & SIM_MUT_RESTORE_OLDER) && !h->passed_newest) {
            h->passed_newest = 1; /* the bug: the next valid one (none is kept: start over) */
            next_pointer(h);
            return;
        }
        ha_check_restore(h, (uint32_t)id, offset, crc);
        restore_found(h, 1);
        return;
    }
    h->pointers_skipped++; /* its state is gone or differs: an older one may do */
    next_pointer(h);
}

static int compare_names(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void pointers_listed(void *arg, int rc, const coord_result *res) {
    ha *h = ((restore_ctx *)arg)->h;
    if (!restore_wanted(arg))
        return;
    if (rc != COORD_OK) {
        restore_retry(h);
        return;
    }
    free_pointer_names(h);
    h->pointer_names = calloc(res->child_count + 1, sizeof *h->pointer_names);
    if (!h->pointer_names) {
        fail(h, SS_ENOMEM, "out of memory");
        return;
    }
    for (size_t i = 0; i < res->child_count; i++) {
        h->pointer_names[i] = strdup(res->children[i]);
        if (!h->pointer_names[i]) {
            fail(h, SS_ENOMEM, "out of memory");
            return;
        }
        h->pointer_count = i + 1;
    }
    /* children come in no promised order; 19-digit names sort by id */
    qsort(h->pointer_names, h->pointer_count, sizeof *h->pointer_names, compare_names);
    h->pointer_next = h->pointer_count;
    h->passed_newest = 0;
    next_pointer(h);
}

enum { READ_SYNC, READ_GRAPH, READ_POINTERS };

static void restore_read(ha *h, int what);

/* A sync or the job graph came back: on to the next read. */
static void read_done(void *arg, int rc, const coord_result *res) {
    (void)res;
    const restore_ctx *c = arg;
    if (restore_wanted(c) && rc == COORD_OK)
        restore_read(c->h, c->next);
    else if (restore_wanted(c))
        restore_retry(c->h);
}

/* Send the restore's next read: sync, the job graph, the pointers' names. */
static void restore_read(ha *h, int what) {
    restore_ctx *c = restore_arg(h);
    if (!c)
        return;
    coord_session *session = h->jms[h->restore_jm].session;
    c->next = what + 1;
    int rc;
    if (what == READ_SYNC)
        rc = coord_sync(h->backend, session, HA_CHECKPOINTS, read_done, c);
    else if (what == READ_GRAPH)
        rc = coord_get(h->backend, session, HA_ROOT "/jobgraphs/job", NULL, NULL, read_done, c);
    else
        rc = coord_children(h->backend, session, HA_CHECKPOINTS, NULL, NULL, pointers_listed, c);
    if (rc != 0)
        restore_retry(h);
}

void ha_read_latest_checkpoint(ha *h) {
    if (h->active < 0 || !ha_leader_can_act(h)) {
        h->restart_waiting = 1; /* the next leader restarts the job */
        return;
    }
    h->restart_waiting = 0;
    h->restoring = 1;
    h->restore_generation++;
    h->restore_jm = h->active;
    restore_read(h, h->cfg->zk_sync ? READ_SYNC : READ_GRAPH);
}

/* ---------- coordination invariants: no herd, sequential numbers never repeat ----------
 * Every election node a contender joined with or was woken by its deletion: a node's
 * deletion must wake one contender at most (its successor; the herd-latch mutation
 * wakes them all), and no two nodes under the election directory may carry the same
 * sequence number (sequential-reuse). Broken invariants go to ha_job.violate. */

typedef struct election_node {
    char *path;
    int64_t seq;
    uint64_t woken; /* job managers its deletion woke (bit = index, below 64) */
    int reported;
} election_node;

/* The record of election node path (added if new); NULL when out of memory. */
static election_node *election_node_of(ha *h, const char *path) {
    for (size_t i = 0; i < h->seen_count; i++)
        if (strcmp(h->seen[i].path, path) == 0)
            return &h->seen[i];
    const char *dash = strrchr(path, '-');
    if (ss_grow(&h->seen, &h->seen_cap, h->seen_count + 1, sizeof *h->seen) != 0)
        return NULL;
    election_node *n = &h->seen[h->seen_count];
    *n = (election_node){strdup(path), dash ? atoll(dash + 1) : -1, 0, 0};
    if (!n->path)
        return NULL;
    h->seen_count++;
    return n;
}

/* A contender joined with its node: its number must be new under the directory. */
static void check_sequential(ha *h, const jm_node *jm) {
    size_t before = h->seen_count;
    election_node *n = election_node_of(h, jm->latch->node);
    if (!n || h->seen_count == before)
        return; /* known already: the same node found again after a lost create */
    for (size_t i = 0; i + 1 < h->seen_count; i++)
        if (h->seen[i].seq == n->seq) {
            ha_violate(h, "sequential",
                       "job manager %u's election node %s repeats number %lld of %s", jm->index,
                       n->path, (long long)n->seq, h->seen[i].path);
            return;
        }
}

/* A contender woke because the node before it went: it must be the only one. */
static void check_herd(ha *h, const jm_node *jm) {
    election_node *n = election_node_of(h, jm->latch->woke_by);
    if (!n || jm->index >= 64)
        return;
    n->woken |= 1ULL << jm->index;
    if (n->reported || (n->woken & (n->woken - 1)) == 0)
        return;
    n->reported = 1;
    ha_violate(h, "herd", "the deletion of %s woke more than one contender (job managers 0x%llx)",
               n->path, (unsigned long long)n->woken);
}

static void free_checks(ha *h) {
    for (size_t i = 0; i < h->seen_count; i++)
        free(h->seen[i].path);
    free(h->seen);
}

/* ---------- the election ---------- */

/* The job's leader jm is lost from now (stop: it no longer acts as leader). */
static void leader_lost(ha *h, jm_node *jm, int stop) {
    if (h->active != (int)jm->index)
        return;
    if (stop)
        h->active = -1;
    if (!h->leader_lost_ns)
        h->leader_lost_ns = now_ns(h);
}

static void jm_state(void *arg, int state);
static void jm_leader(void *arg, int leading, int64_t epoch);
static void leader_sees_members(void *arg, const char *const *names, size_t count);

/* The standby's watch on the node before its own fired: remember when. */
static void jm_woken(void *arg) {
    jm_node *jm = arg;
    if (held(jm, (ha_held){.kind = HELD_WOKEN}))
        return;
    jm->woke_ns = now_ns(jm->owner);
    check_herd(jm->owner, jm);
}

static void jm_joined(void *arg) {
    jm_node *jm = arg;
    check_sequential(jm->owner, jm);
}

/* Join the election with this session. A new session gets a new latch: replies to the
 * old one's requests may still come, and must find it stopped. */
static void join_election(jm_node *jm) {
    ha *h = jm->owner;
    if (jm->latch->b) {
        recipe_latch *fresh = calloc(1, sizeof *fresh);
        if (!fresh) {
            fail(h, SS_ENOMEM, "out of memory");
            return;
        }
        if (keep_context(h, fresh) != 0)
            return;
        jm->latch = fresh;
    }
    recipe_latch_start(jm->latch, jm->owner->backend, jm->session, HA_ROOT "/leader",
                       jm->owner->cfg->tolerate_suspended, jm_leader, jm);
    jm->latch->on_wake = jm_woken;
    jm->latch->on_joined = jm_joined;
    jm->latch->herd = (jm->owner->cfg->mutations & SIM_MUT_HERD_LATCH) != 0;
}

static void jm_state(void *arg, int state) {
    jm_node *jm = arg;
    ha *h = jm->owner;
    if (h->closing || held(jm, (ha_held){.kind = HELD_STATE, .value = state}))
        return;
    int was_leading = jm->latch->leading;
    recipe_latch_session_state(jm->latch, state);
    if (jm->watching == jm->session)
        recipe_members_session_state(&jm->members, state);
    if (was_leading && !jm->latch->leading)
        leader_lost(h, jm, 1);
    if (state == COORD_STATE_CONNECTED && !jm->crashed)
        retry_lost_id(h, jm); /* reconnected: the session survived */
    if (state != COORD_STATE_EXPIRED || jm->crashed)
        return;
    /* the session is gone: reconnect with a new one, retry what was lost, rejoin */
    snprintf(jm->old_node, sizeof jm->old_node, "%s", jm->latch->node);
    if (ss_grow(&h->retired, &h->retired_cap, h->retired_count + 1, sizeof *h->retired) != 0) {
        fail(h, SS_ENOMEM, "out of memory");
        return;
    }
    h->retired[h->retired_count++] = jm->session;
    jm->session = new_session(h);
    if (!jm->session ||
        h->backend->open(h->service, jm->session, h->cfg->session_timeout_ns, jm_state, jm) != 0) {
        fail(h, SS_ENOMEM, "out of memory");
        return;
    }
    if (jm->unsent_commit) { /* a retry has lost the blobs: no CRC */
        commit(h, jm, jm->unsent_commit, jm->unsent_offset, 0, 1, h->job.incarnation(h->job.ctx));
        jm->unsent_commit = 0;
    }
    retry_lost_id(h, jm);
    join_election(jm);
}

static void jm_leader(void *arg, int leading, int64_t epoch) {
    jm_node *jm = arg;
    ha *h = jm->owner;
    if (h->closing || held(jm, (ha_held){.kind = HELD_LEADER, .value = leading, .number = epoch}))
        return;
    if (leading && epoch > h->newest_epoch)
        h->newest_epoch = epoch;
    note_leadership(h, jm);
    if (!leading) {
        leader_lost(h, jm, 1);
        return;
    }
    h->elections++;
    int first = h->elections == 1;
    h->active = (int)jm->index;
    if (h->cfg->worker_detection == SIM_DETECT_SESSION && jm->watching != jm->session) {
        jm->watching = jm->session; /* the leader watches the members (once per session) */
        recipe_members_watch(&jm->members, h->backend, jm->session, HA_ROOT "/workers",
                             leader_sees_members, jm);
    }
    if (first)
        return;
    /* a new leader takes over the job: restart it from the last committed checkpoint.
     * Detected when this standby saw the old leader's election node go -- its watch
     * fired as the service expired or closed that session (a leader that only lost
     * its connection noticed at once) -- as a real client learns it; elected now. */
    uint64_t now = now_ns(h), fault = h->leader_lost_ns ? h->leader_lost_ns : now;
    uint64_t detected = jm->woke_ns >= fault ? jm->woke_ns : fault;
    if (!h->job.leader_changed(h->job.ctx, jm->index, fault, detected, now) &&
        h->job.down(h->job.ctx) && (h->restart_waiting || h->restoring)) {
        h->restoring = 0; /* the old leader's reads are abandoned: this one reads again */
        h->restore_generation++;
        h->restart_waiting = 0;
        h->job.restart(h->job.ctx, 1);
    }
    h->leader_lost_ns = 0;
}

int ha_leader_can_act(const ha *h) {
    return h->active >= 0 && h->jms[h->active].latch->leading && !h->jms[h->active].crashed &&
           !h->jms[h->active].paused_until_ns;
}

int ha_connected(const ha *h) {
    for (uint32_t i = 0; i < h->cfg->job_managers; i++)
        if (!h->jms[i].crashed && h->backend->state(h->jms[i].session) == COORD_STATE_CONNECTED)
            return 1;
    return 0;
}

/* ---------- worker membership (worker_detection = session) ---------- */

/* The members of the workers' directory changed: a worker whose ephemeral node went is
 * lost. */
static void members_changed(ha *h, const char *const *names, size_t count) {
    uint32_t *present = calloc(h->cfg->workers, sizeof *present);
    if (!present) {
        fail(h, SS_ENOMEM, "out of memory");
        return;
    }
    for (size_t i = 0; i < count; i++) {
        unsigned w, incarnation;
        if (sscanf(names[i], "w%u-%u", &w, &incarnation) == 2 && w < h->cfg->workers)
            present[w] = incarnation;
    }
    /* an incarnation the leader knew is gone (a restarted worker registers anew) */
    for (uint32_t w = 0; w < h->cfg->workers; w++) {
        if (h->member_seen[w] && present[w] != h->member_seen[w])
            h->job.worker_lost(h->job.ctx, w);
        h->member_seen[w] = present[w];
    }
    free(present);
}

/* Only the current leader acts on what it sees. */
static void leader_sees_members(void *arg, const char *const *names, size_t count) {
    jm_node *jm = arg;
    ha *h = jm->owner;
    if (!h->closing && h->active == (int)jm->index && jm->latch->leading)
        members_changed(h, names, count);
}

static void register_worker(ha *h, uint32_t w) {
    char path[64];
    snprintf(path, sizeof path, HA_ROOT "/workers/w%u-%u", w, ++h->incarnation[w]);
    coord_create(h->backend, h->worker_sessions[w], path, NULL, 0, COORD_EPHEMERAL, ignore_done,
                 NULL);
}

void ha_worker_back(ha *h, uint32_t w) {
    if (h->cfg->worker_detection != SIM_DETECT_SESSION)
        return;
    if (ss_grow(&h->retired, &h->retired_cap, h->retired_count + 1, sizeof *h->retired) != 0)
        return;
    h->retired[h->retired_count++] = h->worker_sessions[w];
    h->worker_sessions[w] = new_session(h);
    if (!h->worker_sessions[w] ||
        h->backend->open(h->service, h->worker_sessions[w], h->cfg->session_timeout_ns, NULL, NULL))
        return;
    register_worker(h, w);
}

void ha_worker_crashed(ha *h, uint32_t w) {
    h->backend->faults->kill_client(h->service, h->worker_sessions[w]);
}

/* ---------- the assignment store (assignment = coordinated) ---------- */

static void assignment_written(void *arg, int rc, const coord_result *res);

static void assignment_seen(void *arg, uint64_t generation, const uint32_t *workers,
                            uint32_t count) {
    (void)workers, (void)count;
    ha *h = arg;
    if (h->closing || generation != h->awaiting_generation)
        return;                            /* not the placement a restart waits for */
    if (h->job.placement_seen(h->job.ctx)) /* (or a newer failure came) */
        h->awaiting_generation = 0;
}

void ha_publish_assignment(ha *h) {
    uint32_t n = h->job.placement(h->job.ctx, NULL, 0);
    uint32_t *workers = malloc((n ? n : 1) * sizeof *workers);
    if (!workers) {
        fail(h, SS_ENOMEM, "out of memory");
        return;
    }
    h->job.placement(h->job.ctx, workers, n);
    h->awaiting_generation = ++h->assign_generation;
    h->awaiting_incarnation = h->job.incarnation(h->job.ctx);
    coord_session *writer = h->active >= 0 ? h->jms[h->active].session : h->admin;
    if (h->active >= 0)
        ha_check_act(h, &h->jms[h->active], h->jms[h->active].latch->epoch, "placed the job");
    const recipe_latch *fence =
        h->active >= 0 && h->cfg->fencing && h->jms[h->active].latch->node[0]
            ? h->jms[h->active].latch
            : NULL;
    recipe_assignment_write(h->backend, writer, fence, HA_ROOT "/assignment", h->assign_generation,
                            workers, n, assignment_written, h);
    free(workers);
}

static void republish(void *arg, uint64_t generation, uint64_t b) {
    (void)b;
    ha *h = arg;
    if (!h->closing && h->awaiting_generation == generation &&
        h->awaiting_incarnation == h->job.incarnation(h->job.ctx))
        ha_publish_assignment(h);
}

/* A restart waits for its placement to be seen: a write that failed is tried again
 * a second later (by whoever leads then). */
static void assignment_written(void *arg, int rc, const coord_result *res) {
    (void)res;
    ha *h = arg;
    if (!h->closing && rc != COORD_OK && h->awaiting_generation == h->assign_generation)
        env_schedule(h->env, now_ns(h) + 1000000000ULL, republish, h, h->awaiting_generation, 0);
}

/* ---------- set-up ---------- */

/* The admin's directories exist: job managers join the election, workers register. */
static void ha_ready(void *arg, int rc, const coord_result *res) {
    (void)rc, (void)res;
    ha *h = arg;
    if (h->closing)
        return;
    for (uint32_t i = 0; i < h->cfg->job_managers; i++)
        join_election(&h->jms[i]);
    if (h->cfg->coordinated_assignment) {
        recipe_assignment_watch(&h->assignment, h->backend, h->admin, HA_ROOT "/assignment",
                                assignment_seen, h);
        ha_publish_assignment(h); /* the first placement; the job is already running on it */
        h->awaiting_generation = 0;
    }
    if (h->cfg->worker_detection == SIM_DETECT_SESSION) {
        for (uint32_t w = 0; w < h->cfg->workers; w++)
            register_worker(h, w);
    }
}

/* The admin session (it watches the assignment) is back: re-read what was lost. */
static void admin_state(void *arg, int state) {
    ha *h = arg;
    if (!h->closing && h->cfg->coordinated_assignment)
        recipe_assignment_session_state(&h->assignment, state);
}

/* Open the sessions and make Flink's layout: leader/, jobgraphs/<job>,
 * jobs/<job>/checkpoints/<id>. */
static int open_all(ha *h) {
    const sim_config *c = h->cfg;
    h->admin = new_session(h);
    h->jms = calloc(c->job_managers, sizeof *h->jms);
    h->worker_sessions = calloc(c->workers, sizeof *h->worker_sessions);
    h->member_seen = calloc(c->workers, sizeof *h->member_seen);
    h->incarnation = calloc(c->workers, sizeof *h->incarnation);
    if (!h->admin || !h->jms || !h->worker_sessions || !h->member_seen || !h->incarnation)
        return SS_ENOMEM;
    h->backend->open(h->service, h->admin, 20 * c->zk_tick_ns, admin_state, h);
    for (uint32_t i = 0; i < c->job_managers; i++) {
        jm_node *jm = &h->jms[i];
        jm->owner = h;
        jm->index = i;
        jm->session = new_session(h);
        if (!jm->session)
            return SS_ENOMEM;
        recipe_latch *latch = calloc(1, sizeof *latch);
        if (!latch || keep_context(h, latch) != 0)
            return SS_ENOMEM;
        jm->latch = latch;
        h->backend->open(h->service, jm->session, c->session_timeout_ns, jm_state, jm);
    }
    for (uint32_t w = 0; c->worker_detection == SIM_DETECT_SESSION && w < c->workers; w++) {
        h->worker_sessions[w] = new_session(h);
        if (!h->worker_sessions[w])
            return SS_ENOMEM;
        h->backend->open(h->service, h->worker_sessions[w], c->session_timeout_ns, NULL, NULL);
    }
    static const char *const dirs[] = {"/shardsim",          HA_ROOT,           HA_ROOT "/leader",
                                       HA_ROOT "/jobgraphs", HA_ROOT "/jobs",   HA_ROOT "/jobs/job",
                                       HA_CHECKPOINTS,       HA_ROOT "/workers"};
    char graph[160];
    int glen = snprintf(graph, sizeof graph, "source(%u) -> keyed(%u, %s) -> sink", c->sources,
                        c->parallelism, c->partitioner);
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) /* one session: applied in order */
        if (coord_create(h->backend, h->admin, dirs[i], NULL, 0, 0, ignore_done, h) != 0)
            return SS_ENOMEM;
    if (coord_create(h->backend, h->admin, HA_ROOT "/jobgraphs/job", graph, (size_t)glen, 0,
                     ha_ready, h) != 0)
        return SS_ENOMEM;
    return 0;
}

int ha_create(const sim_config *cfg, const env *e, uint64_t seed, const ha_job *job, ha **out,
              char *err, size_t errlen) {
    *out = NULL;
    const coord_backend *b = coord_backend_find(cfg->coord_backend);
    if (!b) {
        snprintf(err, errlen, "coordination: no backend '%s'", cfg->coord_backend);
        return SS_EINVAL;
    }
    ha *h = calloc(1, sizeof *h);
    if (!h)
        return SS_ENOMEM;
    *h = (ha){.cfg = cfg, .env = e, .job = *job, .backend = b, .active = -1};
    coord_config cc;
    config_coord(cfg, seed, &cc);
    int rc = b->service_create(e, &cc, &h->service, err, errlen);
    if (rc != 0) {
        free(h);
        return rc;
    }
    *out = h;
    if (config_records_history(cfg) &&
        (!(h->history = coord_history_new(e)) ||
         coord_history_wrap(h->history, b, h->service, &h->backend, &h->service) != 0))
        return SS_ENOMEM;
    rc = open_all(h);
    if (rc != 0)
        snprintf(err, errlen, "coordination: %s", ss_strerror(rc));
    return rc;
}

/* ---------- the end ---------- */

static void session_closed(void *arg, int rc, const coord_result *res) {
    (void)rc, (void)res;
    ((ha *)arg)->closes_pending--;
}

static void close_session(ha *h, coord_session *session) {
    if (session && h->backend->close(session, session_closed, h) == 0)
        h->closes_pending++;
}

void ha_close(ha *h) {
    if (h->closing)
        return;
    h->closing = 1;
    close_session(h, h->admin);
    for (uint32_t i = 0; h->jms && i < h->cfg->job_managers; i++)
        close_session(h, h->jms[i].session);
    for (uint32_t w = 0; h->worker_sessions && w < h->cfg->workers; w++)
        close_session(h, h->worker_sessions[w]);
    for (size_t i = 0; i < h->retired_count; i++)
        close_session(h, h->retired[i]);
}

int ha_closed(const ha *h) {
    return h->closing && h->closes_pending == 0;
}

void ha_free(ha *h) {
    if (!h)
        return;
    h->backend->service_free(h->service); /* every session closed: nothing runs now */
    coord_history_free(h->history);
    for (size_t i = 0; i < h->context_count; i++)
        free(h->contexts[i]);
    free(h->contexts);
    free_pointer_names(h);
    free(h->admin);
    for (uint32_t i = 0; h->jms && i < h->cfg->job_managers; i++) {
        free(h->jms[i].session);
        free(h->jms[i].held);
    }
    free(h->jms);
    free(h->issued_ids);
    for (uint32_t w = 0; h->worker_sessions && w < h->cfg->workers; w++)
        free(h->worker_sessions[w]);
    free(h->worker_sessions);
    free(h->member_seen);
    free(h->incarnation);
    for (size_t i = 0; i < h->retired_count; i++)
        free(h->retired[i]);
    free(h->retired);
    free_checks(h);
    free(h->leaderships);
    free(h->commit_log);
    free(h);
}

const coord_history *ha_history(const ha *h) {
    return h->history;
}

int ha_fill_result(const ha *h, sim_result *r) {
    r->elections = h->elections;
    r->commits = h->commits;
    r->stale_commits = h->stale_commits;
    r->pointers_skipped = h->pointers_skipped;
    if (fill_record(h, r) != 0)
        return SS_ENOMEM;
    const coord_stats_ops *st = h->backend->stats;
    if (!st)
        return 0;
    r->coord_ops = st->ops_applied ? st->ops_applied(h->service) : 0;
    r->sessions_expired = st->sessions_expired ? st->sessions_expired(h->service) : 0;
    for (int t = 0; t < COORD_OPTYPES && t < SIM_COORD_TYPES && st->op_histogram; t++) {
        sim_coord_stat *c = &r->coord[t];
        const hist *hs = st->op_histogram(h->service, t);
        snprintf(c->op, sizeof c->op, "%s", coord_op_type_name(t));
        c->count = st->op_count ? st->op_count(h->service, t) : 0;
        if (hist_init(&c->h) != 0 || (hs && hist_merge(&c->h, hs) != 0))
            return SS_ENOMEM;
        c->p50_ns = hist_quantile(&c->h, 0.5);
        c->p99_ns = hist_quantile(&c->h, 0.99);
        c->max_ns = hist_quantile(&c->h, 1.0);
    }
    return 0;
}

/* ---------- faults ---------- */

static void crash_jm(ha *h, uint32_t i) {
    jm_node *jm = &h->jms[i];
    jm->crashed = 1;
    note_leadership(h, jm);
    h->backend->faults->kill_client(h->service, jm->session);
    leader_lost(h, jm, 1);
}

static void partition_jm(ha *h, uint32_t i, uint64_t duration_ns) {
    h->backend->faults->partition_client(h->service, h->jms[i].session, duration_ns);
    leader_lost(h, &h->jms[i], 0); /* it still thinks it leads, but reaches nobody */
}

/* The pause is over: the job manager acts on what it held, in order -- a commit it
 * meant to send goes out on the session it had, as if it still led. */
static void pause_over(void *arg, uint64_t a, uint64_t b) {
    (void)a, (void)b;
    jm_node *jm = arg;
    ha *h = jm->owner;
    if (!jm->paused_until_ns || now_ns(h) < jm->paused_until_ns)
        return; /* paused again meanwhile: a later event ends it */
    jm->paused_until_ns = 0;
    ha_held *items = jm->held;
    size_t count = jm->held_count;
    jm->held = NULL;
    jm->held_count = jm->held_cap = 0;
    for (size_t i = 0; i < count && !h->closing && !jm->crashed; i++) {
        const ha_held *e = &items[i];
        switch (e->kind) {
        case HELD_STATE:
            jm_state(jm, e->value);
            break;
        case HELD_LEADER:
            jm_leader(jm, e->value, e->number);
            break;
        case HELD_WOKEN:
            jm_woken(jm);
            break;
        case HELD_COMMIT_DONE:
            commit_answered(e->arg, e->value);
            break;
        case HELD_ID_DONE:
            checkpoint_id_answered(e->arg, e->value, e->number);
            break;
        default:
            commit(h, jm, e->id, e->offset, e->crc, 0, e->incarnation);
        }
    }
    free(items);
    /* a restart that waited for this leader to act */
    if (!h->closing && h->restart_waiting && h->active == (int)jm->index && ha_leader_can_act(h))
        ha_read_latest_checkpoint(h);
}

/* Job manager i's process stops for duration_ns (a long GC pause): the service stops
 * hearing it (no pings: its session expires if the pause outlasts the timeout), and it
 * hears nothing until the pause ends. */
static void pause_jm(ha *h, uint32_t i, uint64_t duration_ns) {
    jm_node *jm = &h->jms[i];
    if (jm->crashed)
        return;
    uint64_t until = now_ns(h) + duration_ns;
    if (until > jm->paused_until_ns)
        jm->paused_until_ns = until;
    h->backend->faults->partition_client(h->service, jm->session, jm->paused_until_ns - now_ns(h));
    leader_lost(h, jm, 0); /* it still thinks it leads, but acts on nothing */
    env_schedule(h->env, jm->paused_until_ns, pause_over, jm, 0, 0);
}

static void quorum_back(void *arg, uint64_t servers, uint64_t b) {
    (void)b;
    ha *h = arg;
    for (uint32_t k = 0; !h->closing && k < servers; k++)
        h->backend->faults->restart_server(h->service, k);
}

/* A majority of the ensemble goes down for a while, then comes back. */
static void lose_quorum(ha *h, uint64_t duration_ns) {
    uint32_t majority = h->cfg->zk_servers / 2 + 1;
    for (uint32_t k = 0; k < majority; k++)
        h->backend->faults->crash_server(h->service, k);
    env_schedule(h->env, now_ns(h) + duration_ns, quorum_back, h, majority, 0);
}

/* config_check made sure the backend can inject every fault of the schedule. */
void ha_fault(ha *h, const sim_fault *f) {
    const coord_fault_ops *ops = h->backend->faults;
    switch (f->kind) {
    case SIM_FAULT_CRASH_JM:
        crash_jm(h, f->target);
        break;
    case SIM_FAULT_PARTITION_JM:
        partition_jm(h, f->target, f->duration_ns);
        break;
    case SIM_FAULT_EXPIRE_SESSION:
        ops->expire_session(h->service, h->jms[f->target].session);
        break;
    case SIM_FAULT_CRASH_ZK:
        ops->crash_server(h->service, f->target);
        break;
    case SIM_FAULT_RESTART_ZK:
        ops->restart_server(h->service, f->target);
        break;
    case SIM_FAULT_LOSE_QUORUM:
        lose_quorum(h, (uint64_t)f->target * 1000000000ULL);
        break;
    case SIM_FAULT_SLOW_ZK:
        ops->slow(h->service, (double)f->target, f->duration_ns);
        break;
    case SIM_FAULT_DROP_CONNECTION:
        ops->drop_connection(h->service, h->jms[f->target].session);
        break;
    case SIM_FAULT_CRASH_LEADER: /* whichever job manager leads now */
        if (h->active >= 0)
            crash_jm(h, (uint32_t)h->active);
        break;
    case SIM_FAULT_PARTITION_LEADER:
        if (h->active >= 0)
            partition_jm(h, (uint32_t)h->active, f->duration_ns);
        break;
    case SIM_FAULT_PAUSE_JM:
        pause_jm(h, f->target, f->duration_ns);
        break;
    case SIM_FAULT_PAUSE_LEADER:
        if (h->active >= 0)
            pause_jm(h, (uint32_t)h->active, f->duration_ns);
        break;
    }
}
