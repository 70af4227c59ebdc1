/* cmd_calibrate.c -- `shardsim calibrate`: measure a live ZooKeeper through the real
 * backend (backends/zookeeper, in real time on sim/env_rt) and write the figures as a
 * latency profile the model loads with zk_profile (the latency-profile INI format).
 *
 * What it measures, each over N trials:
 *   - the round trip of every operation type (create, delete, set, get, exists,
 *     children, multi, sync), one call at a time on one session;
 *   - watch delivery: session A leaves a data watch, session B sets the node; from B
 *     sending the set to A's watch callback running;
 *   - for each session timeout T asked: leader-election failover (recipe_latch) and
 *     member-loss detection (recipe_members_watch). The other party is a contender
 *     process: this binary again, spawned (posix_spawn, so no thread of ours is
 *     cloned into it) in a hidden mode, `calibrate --contender leader|member`, with
 *     its own service and env; it reports on its stdout when it leads or is
 *     registered, and closes its session when told so on its stdin (it exits when its
 *     stdin closes, so it cannot outlive us for long). It is SIGKILLed at a random
 *     phase -- a delay drawn uniformly from [0, T) by a seeded stream (core/prng.h)
 *     after it reported -- or, for the clean-close variant of failover, told to close
 *     its session after a delay in [0, min(T, 0.5 s)). Measured from the kill (or the
 *     close request) to this process's standby latch leading, or its members watch
 *     seeing the member gone.
 *
 * Time comes only from the env (env_now); every wait has a deadline, and the command
 * states its expected duration before it starts. Everything lives under a fresh
 * /shardsim-calibrate-PID-SEED znode, removed at the end. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backends/coord.h"
#include "backends/recipes/recipes.h"
#include "core/error.h"
#include "core/prng.h"
#include "sim/cli/args.h"
#include "sim/cli/cli.h"
#include "sim/env_rt.h"

extern char **environ;

#define MS UINT64_C(1000000)
#define SEC UINT64_C(1000000000)
#define MAX_TIMEOUTS 8 /* the profile loader keeps 8 per kind */
#define OP_KINDS 8
#define CLOSE_DELAY_MAX_NS (500 * MS)

static const char *const op_names[OP_KINDS] = {"create", "delete",   "set",   "get",
                                               "exists", "children", "multi", "sync"};

/* Sample set: durations in ns. */
typedef struct samples {
    uint64_t *ns;
    size_t count, cap;
} samples;

typedef struct summary {
    double median, p10, p90, p99, min, max; /* ns */
    size_t count;
} summary;

typedef struct cal {
    env_rt rt;
    const coord_backend *b;
    void *svc;
    const char *connect;
    char exe[4096];
    char root[96];
    prng rng;
    uint32_t op_trials, fault_trials;
    double timeouts_s[MAX_TIMEOUTS];
    size_t timeout_count;
    uint64_t tick_ns; /* 0: unknown */
    int quiet;
    struct sess *admin;
} cal;

typedef struct sess {
    cal *c;
    coord_session *s;
    int state;
    int closed;
    recipe_latch *latch;
    recipe_watcher *watcher;
} sess;

/* One operation in flight. Heap-allocated and freed by its waiter once done; left
 * alone (leaked) if its wait timed out, since its callback may still come. */
typedef struct call {
    cal *c;
    int done, rc;
    uint64_t at_ns;
    char **children;
    size_t child_count;
} call;

/* ---------- samples ---------- */

static int samples_add(samples *s, uint64_t ns) {
    if (s->count == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        uint64_t *p = realloc(s->ns, cap * sizeof *p);
        if (!p)
            return SS_ENOMEM;
        s->ns = p;
        s->cap = cap;
    }
    s->ns[s->count++] = ns;
    return 0;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Quantile q of sorted x (linear between order statistics, as R's type 7). */
static double quantile(const uint64_t *x, size_t n, double q) {
    double h = (double)(n - 1) * q;
    size_t lo = (size_t)floor(h);
    if (lo + 1 >= n)
        return (double)x[n - 1];
    return (double)x[lo] + (h - (double)lo) * ((double)x[lo + 1] - (double)x[lo]);
}

static summary summarize(samples *s) {
    summary r = {0};
    r.count = s->count;
    if (!s->count)
        return r;
    qsort(s->ns, s->count, sizeof *s->ns, cmp_u64);
    r.median = quantile(s->ns, s->count, 0.5);
    r.p10 = quantile(s->ns, s->count, 0.1);
    r.p90 = quantile(s->ns, s->count, 0.9);
    r.p99 = quantile(s->ns, s->count, 0.99);
    r.min = (double)s->ns[0];
    r.max = (double)s->ns[s->count - 1];
    return r;
}

/* ---------- waiting ---------- */

static int flag_set(void *arg) {
    return *(const int *)arg != 0;
}

/* Run the loop until *flag is nonzero, at most timeout_ns: 0, or -1 on timeout. */
static int wait_flag(cal *c, const int *flag, uint64_t timeout_ns) {
    env_rt_run(&c->rt, env_now(&c->rt.env) + timeout_ns, flag_set, (void *)flag);
    return *flag ? 0 : -1;
}

static void pause_until(cal *c, uint64_t at_ns) {
    if (at_ns > env_now(&c->rt.env))
        env_rt_run(&c->rt, at_ns, NULL, NULL);
}

static void progress(const cal *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void progress(const cal *c, const char *fmt, ...) {
    if (c->quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    fputs("shardsim calibrate: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* ---------- sessions and calls ---------- */

static void sess_state(void *arg, int state) {
    sess *x = arg;
    x->state = state;
    if (x->latch)
        recipe_latch_session_state(x->latch, state);
    if (x->watcher)
        recipe_members_session_state(x->watcher, state);
}

static int sess_connected(void *arg) {
    return ((sess *)arg)->state == COORD_STATE_CONNECTED;
}

/* Open a session with timeout_ns and wait until it connects (at most 10 s). */
static int sess_open(cal *c, sess *x, uint64_t timeout_ns) {
    memset(x, 0, sizeof *x);
    x->c = c;
    x->s = calloc(1, c->b->session_size);
    if (!x->s)
        return SS_ENOMEM;
    int rc = c->b->open(c->svc, x->s, timeout_ns, sess_state, x);
    if (rc != 0) {
        free(x->s);
        x->s = NULL;
        return rc;
    }
    env_rt_run(&c->rt, env_now(&c->rt.env) + 10 * SEC, sess_connected, x);
    return x->state == COORD_STATE_CONNECTED ? 0 : COORD_CONNECTIONLOSS;
}

static void sess_closed(void *arg, int rc, const coord_result *r) {
    (void)rc, (void)r;
    ((sess *)arg)->closed = 1;
}

/* Close and free; a close that does not complete in time leaks the session rather
 * than free memory a callback may still use. */
static void sess_close(sess *x) {
    if (!x->s)
        return;
    cal *c = x->c;
    x->latch = NULL;
    x->watcher = NULL;
    uint64_t bound = c->b->session_timeout_ns(x->s) + 10 * SEC;
    if (c->b->close(x->s, sess_closed, x) != 0)
        x->closed = 1;
    if (wait_flag(c, &x->closed, bound) == 0)
        free(x->s);
    x->s = NULL;
}

static void call_done(void *arg, int rc, const coord_result *r) {
    call *k = arg;
    k->rc = rc;
    k->at_ns = env_now(&k->c->rt.env);
    if (rc == COORD_OK && r && r->children && r->child_count) {
        k->children = calloc(r->child_count, sizeof *k->children);
        for (size_t i = 0; k->children && i < r->child_count; i++)
            if ((k->children[i] = strdup(r->children[i])) != NULL)
                k->child_count = i + 1;
    }
    k->done = 1;
}

static call *call_new(cal *c) {
    call *k = calloc(1, sizeof *k);
    if (k)
        k->c = c;
    return k;
}

static void call_free(call *k) {
    for (size_t i = 0; i < k->child_count; i++)
        free(k->children[i]);
    free(k->children);
    free(k);
}

/* Wait for k (issued with rc0 = what the call returned): its rc, or the refusal, or
 * OPERATIONTIMEOUT after 10 s (k is then leaked). *lat_ns: from t0 to the callback. */
static int call_wait(cal *c, call *k, int rc0, uint64_t t0, uint64_t *lat_ns) {
    if (rc0 != 0) {
        call_free(k);
        return rc0;
    }
    if (wait_flag(c, &k->done, 10 * SEC) != 0)
        return COORD_OPERATIONTIMEOUT;
    int rc = k->rc;
    if (lat_ns)
        *lat_ns = k->at_ns - t0;
    call_free(k);
    return rc;
}

/* Operations, one at a time; 0 or the code. */
static int op_create(cal *c, sess *x, const char *path, int flags, uint64_t *lat_ns) {
    call *k = call_new(c);
    if (!k)
        return SS_ENOMEM;
    uint64_t t0 = env_now(&c->rt.env);
    int rc = coord_create(c->b, x->s, path, "x", 1, flags, call_done, k);
    return call_wait(c, k, rc, t0, lat_ns);
}

static int op_remove(cal *c, sess *x, const char *path, uint64_t *lat_ns) {
    call *k = call_new(c);
    if (!k)
        return SS_ENOMEM;
    uint64_t t0 = env_now(&c->rt.env);
    int rc = coord_remove(c->b, x->s, path, -1, call_done, k);
    return call_wait(c, k, rc, t0, lat_ns);
}

/* Remove path and everything under it (best effort, bounded by the calls' bounds). */
static void remove_tree(cal *c, sess *x, const char *path, int depth) {
    call *k = call_new(c);
    if (!k)
        return;
    int rc = coord_children(c->b, x->s, path, NULL, NULL, call_done, k);
    if (rc != 0) {
        call_free(k);
        return;
    }
    if (wait_flag(c, &k->done, 10 * SEC) != 0)
        return;
    for (size_t i = 0; depth < 4 && k->rc == COORD_OK && i < k->child_count; i++) {
        char child[512];
        snprintf(child, sizeof child, "%s/%s", path, k->children[i]);
        remove_tree(c, x, child, depth + 1);
    }
    call_free(k);
    op_remove(c, x, path, NULL);
}

/* ---------- operation latency and watch delivery ---------- */

static int one_op(cal *c, sess *x, int kind, const char *dir, uint32_t i, uint64_t *lat_ns) {
    char path[256], other[256];
    snprintf(path, sizeof path, "%s/n-%" PRIu32, dir, i);
    snprintf(other, sizeof other, "%s/m-%" PRIu32, dir, i);
    call *k = call_new(c);
    if (!k)
        return SS_ENOMEM;
    coord_op ops[2] = {{.type = COORD_OP_CREATE, .path = other, .data = "x", .data_len = 1},
                       {.type = COORD_OP_DELETE, .path = other, .version = -1}};
    uint64_t t0 = env_now(&c->rt.env);
    int rc;
    switch (kind) {
    case 0:
        rc = coord_create(c->b, x->s, path, "x", 1, COORD_PERSISTENT, call_done, k);
        break;
    case 1:
        rc = coord_remove(c->b, x->s, path, -1, call_done, k);
        break;
    case 2:
        rc = coord_set(c->b, x->s, path, "yy", 2, -1, call_done, k);
        break;
    case 3:
        rc = coord_get(c->b, x->s, path, NULL, NULL, call_done, k);
        break;
    case 4:
        rc = coord_exists(c->b, x->s, path, NULL, NULL, call_done, k);
        break;
    case 5:
        rc = coord_children(c->b, x->s, dir, NULL, NULL, call_done, k);
        break;
    case 6:
        rc = coord_multi(c->b, x->s, ops, 2, call_done, k);
        break;
    default:
        rc = coord_sync(c->b, x->s, path, call_done, k);
    }
    return call_wait(c, k, rc, t0, lat_ns);
}

/* Every operation type, N calls each, in an order that leaves nothing behind: create
 * n-0..n-N-1, then set, get, exists, children (of the directory), multi (create and
 * delete m-i), sync, and finally delete them. */
static int measure_ops(cal *c, samples out[OP_KINDS], char *err, size_t errlen) {
    static const int order[OP_KINDS] = {0, 2, 3, 4, 5, 6, 7, 1};
    char dir[160];
    snprintf(dir, sizeof dir, "%s/ops", c->root);
    int rc = op_create(c, c->admin, dir, COORD_PERSISTENT, NULL);
    for (int j = 0; rc == 0 && j < OP_KINDS; j++) {
        int kind = order[j];
        progress(c, "%s: %" PRIu32 " calls", op_names[kind], c->op_trials);
        for (uint32_t i = 0; rc == 0 && i < c->op_trials; i++) {
            uint64_t lat = 0;
            rc = one_op(c, c->admin, kind, dir, i, &lat);
            if (rc == 0)
                rc = samples_add(&out[kind], lat);
        }
        if (rc != 0)
            snprintf(err, errlen, "%s failed: %s", op_names[kind], coord_strerror(rc));
    }
    return rc;
}

typedef struct watch_probe {
    cal *c;
    int fired;
    uint64_t at_ns;
} watch_probe;

static void probe_fired(void *arg, int event, const char *path) {
    (void)event, (void)path;
    watch_probe *p = arg;
    p->at_ns = env_now(&p->c->rt.env);
    p->fired = 1;
}

/* Session A (a fresh one) leaves a data watch; the admin session sets the node. The
 * probes are leaked if a watch does not fire in time (it may still). */
static int measure_watch(cal *c, samples *out, char *err, size_t errlen) {
    char path[160];
    snprintf(path, sizeof path, "%s/watched", c->root);
    sess a;
    int rc = sess_open(c, &a, (uint64_t)(c->timeouts_s[0] * 1e9));
    if (rc == 0)
        rc = op_create(c, c->admin, path, COORD_PERSISTENT, NULL);
    progress(c, "watch delivery: %" PRIu32 " trials", c->op_trials);
    for (uint32_t i = 0; rc == 0 && i < c->op_trials; i++) {
        watch_probe *p = calloc(1, sizeof *p);
        call *g = call_new(c), *s = call_new(c);
        if (!p || !g || !s) {
            free(p), free(g), free(s);
            rc = SS_ENOMEM;
            break;
        }
        p->c = c;
        rc = call_wait(c, g, coord_get(c->b, a.s, path, probe_fired, p, call_done, g), 0, NULL);
        if (rc != 0) {
            free(p), free(s);
            break;
        }
        uint64_t t0 = env_now(&c->rt.env);
        rc = coord_set(c->b, c->admin->s, path, "w", 1, -1, call_done, s);
        if (rc == 0 && wait_flag(c, &p->fired, 10 * SEC) != 0)
            rc = COORD_OPERATIONTIMEOUT;
        if (rc == 0)
            rc = call_wait(c, s, 0, t0, NULL);
        if (rc == 0) {
            rc = samples_add(out, p->at_ns - t0);
            free(p);
        }
    }
    if (rc != 0)
        snprintf(err, errlen, "watch delivery failed: %s", coord_strerror(rc));
    sess_close(&a);
    return rc;
}

/* ---------- contender processes ---------- */

typedef struct child {
    cal *c;
    pid_t pid;
    int to_child, from_child;
    pthread_t reader;
    int reader_started;
    int ready, eof;
    uint64_t ready_ns;
} child;

static void child_byte(void *arg, uint64_t byte, uint64_t unused) {
    (void)unused;
    child *ch = arg;
    if (byte == 'L' || byte == 'M') {
        ch->ready = 1;
        ch->ready_ns = env_now(&ch->c->rt.env);
    } else if (byte == 0) {
        ch->eof = 1;
    }
}

/* The reader thread: hands each byte the contender writes to the loop; 0 at the end. */
static void *child_reader(void *arg) {
    child *ch = arg;
    unsigned char byte;
    ssize_t n;
    while ((n = read(ch->from_child, &byte, 1)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            break;
        env_post(&ch->c->rt.env, child_byte, ch, byte ? byte : 1, 0);
    }
    env_post(&ch->c->rt.env, child_byte, ch, 0, 0);
    return NULL;
}

static int cloexec_pipe(int fds[2]) {
    if (pipe(fds) != 0)
        return -1;
    fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    fcntl(fds[1], F_SETFD, FD_CLOEXEC);
    return 0;
}

static int child_spawn(cal *c, child *ch, const char *mode, const char *dir, double timeout_s) {
    memset(ch, 0, sizeof *ch);
    ch->c = c;
    ch->to_child = ch->from_child = -1;
    int in[2], out[2];
    if (cloexec_pipe(in) != 0)
        return SS_EIO;
    if (cloexec_pipe(out) != 0) {
        close(in[0]), close(in[1]);
        return SS_EIO;
    }
    char timeout_ms[32];
    snprintf(timeout_ms, sizeof timeout_ms, "%.0f", timeout_s * 1e3);
    char *argv[] = {c->exe,  "calibrate", "--contender",  (char *)mode, "--zk", (char *)c->connect,
                    "--dir", (char *)dir, "--timeout-ms", timeout_ms,   NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    int rc = posix_spawn(&ch->pid, c->exe, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(in[0]);
    close(out[1]);
    if (rc != 0) {
        close(in[1]), close(out[0]);
        return SS_EIO;
    }
    ch->to_child = in[1];
    ch->from_child = out[0];
    if (pthread_create(&ch->reader, NULL, child_reader, ch) != 0) {
        kill(ch->pid, SIGKILL);
        waitpid(ch->pid, NULL, 0);
        close(in[1]), close(out[0]);
        return SS_EIO;
    }
    ch->reader_started = 1;
    return 0;
}

/* End the contender (closing its stdin; SIGKILL after 5 s at most), reap it, and
 * drain its reader's last post. */
static void child_finish(child *ch) {
    cal *c = ch->c;
    if (ch->to_child >= 0)
        close(ch->to_child);
    ch->to_child = -1;
    wait_flag(c, &ch->eof, 5 * SEC);
    kill(ch->pid, SIGKILL); /* the pid is ours until reaped */
    while (waitpid(ch->pid, NULL, 0) < 0 && errno == EINTR)
        ;
    if (ch->reader_started)
        pthread_join(ch->reader, NULL);
    wait_flag(c, &ch->eof, 5 * SEC);
    close(ch->from_child);
}

/* The expected per-trial bound after the kill: 3 T + a tick + 10 s. */
static uint64_t detect_bound_ns(const cal *c, double timeout_s) {
    return (uint64_t)(3 * timeout_s * 1e9) + c->tick_ns + 10 * SEC;
}

/* ---------- failover and member loss ---------- */

typedef struct standby {
    cal *c;
    int led;
    uint64_t led_ns;
    int gone; /* member loss: the member list became empty after `armed` */
    int armed;
    int members_seen; /* the member was listed */
    uint64_t gone_ns;
} standby;

static void standby_leads(void *arg, int leading, int64_t epoch) {
    (void)epoch;
    standby *sb = arg;
    if (leading && !sb->led) {
        sb->led = 1;
        sb->led_ns = env_now(&sb->c->rt.env);
    }
}

static void standby_members(void *arg, const char *const *members, size_t count) {
    (void)members;
    standby *sb = arg;
    if (count > 0)
        sb->members_seen = 1;
    if (count == 0 && sb->armed && !sb->gone) {
        sb->gone = 1;
        sb->gone_ns = env_now(&sb->c->rt.env);
    }
}

static int node_made(void *arg) {
    return ((recipe_latch *)arg)->node[0] != 0;
}

/* Ends the contender at the drawn phase: SIGKILL, or a request to close (clean). */
static uint64_t strike(cal *c, child *ch, int clean, uint64_t at_ns) {
    pause_until(c, at_ns);
    uint64_t t = env_now(&c->rt.env);
    if (clean) {
        ssize_t n = write(ch->to_child, "c", 1);
        (void)n;
    } else {
        kill(ch->pid, SIGKILL);
    }
    return t;
}

typedef struct trial {
    const char *kind; /* "failover", "failover-close", "member-loss" */
    double timeout_s;
    uint32_t index;
    int clean, member;
} trial;

/* Wait for the contender to be ready and our side to be in place (the standby's
 * election node made, or the member listed); then strike at the drawn phase and wait
 * for our side to notice. */
static int trial_measure(cal *c, const trial *t, const char *dir, sess *p, child *ch, standby *sb,
                         recipe_latch *latch, uint64_t *out_ns, char *err, size_t errlen) {
    uint64_t timeout_ns = (uint64_t)llround(t->timeout_s * 1e9);
    const char *what = NULL;
    if (wait_flag(c, &ch->ready, 15 * SEC + timeout_ns) != 0)
        what = t->member ? "the contender did not register in time"
                         : "the contender did not lead in time";
    else if (t->member && wait_flag(c, &sb->members_seen, 10 * SEC) != 0)
        what = "the member was not listed in time";
    if (!what && !t->member) {
        p->latch = latch;
        if (recipe_latch_start(latch, c->b, p->s, dir, 0, standby_leads, sb) != 0)
            what = "the standby could not join the election";
        else
            env_rt_run(&c->rt, env_now(&c->rt.env) + 10 * SEC, node_made, latch);
        if (!what && !latch->node[0])
            what = "the standby's election node was not made in time";
    }
    if (what) {
        snprintf(err, errlen, "%s T=%g s trial %" PRIu32 ": %s", t->kind, t->timeout_s, t->index,
                 what);
        return COORD_OPERATIONTIMEOUT;
    }
    uint64_t range_ns =
        t->clean && timeout_ns > CLOSE_DELAY_MAX_NS ? CLOSE_DELAY_MAX_NS : timeout_ns;
    uint64_t at_ns = ch->ready_ns + prng_below(&c->rng, range_ns);
    sb->armed = 1;
    uint64_t t0 = strike(c, ch, t->clean, at_ns);
    if (sb->led && !t->member) {
        snprintf(err, errlen, "%s T=%g s trial %" PRIu32 ": the standby led while the leader lived",
                 t->kind, t->timeout_s, t->index);
        return SS_EINVAL;
    }
    int *seen = t->member ? &sb->gone : &sb->led;
    if (wait_flag(c, seen, detect_bound_ns(c, t->timeout_s)) != 0) {
        snprintf(err, errlen, "%s T=%g s trial %" PRIu32 ": not detected within %.1f s", t->kind,
                 t->timeout_s, t->index, (double)detect_bound_ns(c, t->timeout_s) / 1e9);
        return COORD_OPERATIONTIMEOUT;
    }
    *out_ns = (t->member ? sb->gone_ns : sb->led_ns) - t0;
    return 0;
}

/* One trial in a fresh directory: our session (the standby or the watcher), the
 * contender, the measurement, and the clean-up. */
static int run_trial(cal *c, const trial *t, uint64_t *out_ns, char *err, size_t errlen) {
    char dir[200];
    snprintf(dir, sizeof dir, "%s/%s-T%g-%" PRIu32, c->root, t->kind, t->timeout_s, t->index);
    int rc = op_create(c, c->admin, dir, COORD_PERSISTENT, NULL);
    if (rc != 0) {
        snprintf(err, errlen, "%s: create %s: %s", t->kind, dir, coord_strerror(rc));
        return rc;
    }
    sess p;
    standby sb = {.c = c};
    recipe_latch latch;
    recipe_watcher watcher;
    memset(&latch, 0, sizeof latch);
    rc = sess_open(c, &p, (uint64_t)llround(t->timeout_s * 1e9));
    if (rc == 0 && t->member) {
        p.watcher = &watcher;
        rc = recipe_members_watch(&watcher, c->b, p.s, dir, standby_members, &sb);
    }
    if (rc != 0) {
        snprintf(err, errlen, "%s: our session: %s", t->kind, coord_strerror(rc));
        sess_close(&p);
        return rc;
    }
    child ch;
    rc = child_spawn(c, &ch, t->member ? "member" : "leader", dir, t->timeout_s);
    if (rc != 0) {
        snprintf(err, errlen, "%s: cannot start a contender (%s): %s", t->kind, c->exe,
                 strerror(errno));
        sess_close(&p);
        return rc;
    }
    rc = trial_measure(c, t, dir, &p, &ch, &sb, &latch, out_ns, err, errlen);
    latch.stopped = 1;
    child_finish(&ch);
    sess_close(&p);
    remove_tree(c, c->admin, dir, 0);
    return rc;
}

static int measure_trials(cal *c, const char *kind, int clean, int member, double timeout_s,
                          samples *out, char *err, size_t errlen) {
    progress(c, "%s T=%g s: %" PRIu32 " trials", kind, timeout_s, c->fault_trials);
    for (uint32_t i = 0; i < c->fault_trials; i++) {
        trial t = {kind, timeout_s, i, clean, member};
        uint64_t ns = 0;
        int rc = run_trial(c, &t, &ns, err, errlen);
        if (rc == 0)
            rc = samples_add(out, ns);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* ---------- the contender (hidden mode) ---------- */

typedef struct contender {
    env_rt rt;
    const coord_backend *b;
    coord_session *s;
    recipe_latch latch;
    int member, state, close_asked, closed, failed;
    char path[300];
} contender;

static void say(char byte) {
    ssize_t n = write(1, &byte, 1);
    (void)n;
}

static void contender_leads(void *arg, int leading, int64_t epoch) {
    (void)arg, (void)epoch;
    if (leading)
        say('L');
}

static void contender_registered(void *arg, int rc, const coord_result *r) {
    (void)r;
    contender *k = arg;
    if (rc == COORD_OK)
        say('M');
    else
        k->failed = 1;
}

static void contender_state(void *arg, int state) {
    contender *k = arg;
    int first = k->state == 0 && state == COORD_STATE_CONNECTED;
    k->state = state;
    if (!k->member)
        recipe_latch_session_state(&k->latch, state);
    if (!first)
        return;
    int rc = k->member ? coord_create(k->b, k->s, k->path, "m", 1, COORD_EPHEMERAL,
                                      contender_registered, k)
                       : recipe_latch_start(&k->latch, k->b, k->s, k->path, 0, contender_leads, k);
    if (rc != 0)
        k->failed = 1;
}

static void contender_closed(void *arg, int rc, const coord_result *r) {
    (void)rc, (void)r;
    ((contender *)arg)->closed = 1;
}

static void contender_command(void *arg, uint64_t byte, uint64_t unused) {
    (void)unused;
    contender *k = arg;
    if (k->close_asked)
        return;
    k->close_asked = 1;
    /* EOF: the parent is gone; leave as a killed process would */
    if (byte != 'c' || k->b->close(k->s, contender_closed, k) != 0)
        k->failed = 1;
}

/* Reads the parent's one command ('c': close the session); EOF: the parent is gone. */
static void *contender_stdin(void *arg) {
    contender *k = arg;
    unsigned char byte = 0;
    ssize_t n;
    while ((n = read(0, &byte, 1)) < 0 && errno == EINTR)
        ;
    env_post(&k->rt.env, contender_command, k, n == 1 ? byte : 0, 0);
    return NULL;
}

static int contender_done(void *arg) {
    const contender *k = arg;
    return k->closed || k->failed;
}

static int contender_main(const char *mode, const char *connect, const char *dir,
                          uint32_t timeout_ms) {
    static contender k; /* one per process: this is the process's own mode */
    k.member = strcmp(mode, "member") == 0;
    snprintf(k.path, sizeof k.path, "%s%s", dir, k.member ? "/member" : "");
    k.b = coord_backend_find("zookeeper");
    coord_config cfg;
    coord_config_defaults(&cfg);
    cfg.connect = connect;
    cfg.direct = 1;
    void *svc = NULL;
    char err[256] = "";
    if (!k.b || env_rt_init(&k.rt) != 0 ||
        k.b->service_create(&k.rt.env, &cfg, &svc, err, sizeof err) != 0) {
        fprintf(stderr, "shardsim calibrate --contender: %s\n", err[0] ? err : "no backend");
        return 1;
    }
    k.s = calloc(1, k.b->session_size);
    pthread_t reader;
    if (!k.s || k.b->open(svc, k.s, (uint64_t)timeout_ms * MS, contender_state, &k) != 0 ||
        pthread_create(&reader, NULL, contender_stdin, &k) != 0) {
        fprintf(stderr, "shardsim calibrate --contender: cannot open a session\n");
        return 1;
    }
    pthread_detach(reader);
    uint64_t life_ns = 10 * (uint64_t)timeout_ms * MS + 120 * SEC;
    env_rt_run(&k.rt, life_ns, contender_done, &k);
    if (!k.closed) /* failed or outlived its bound: exit without waiting for anything */
        _exit(1);
    k.b->service_free(svc);
    env_rt_free(&k.rt);
    return 0;
}

/* ---------- the server's four-letter words ---------- */

/* The first server of the connect string: host (brackets stripped) and port. */
static int first_server(const char *servers, char *host, size_t hostlen, char *port,
                        size_t portlen) {
    size_t n = strcspn(servers, ",");
    char one[300];
    if (n == 0 || n >= sizeof one)
        return -1;
    memcpy(one, servers, n);
    one[n] = '\0';
    char *colon = strrchr(one, ':');
    if (!colon)
        return -1;
    *colon = '\0';
    char *h = one;
    if (*h == '[') {
        h++;
        h[strcspn(h, "]")] = '\0';
    }
    snprintf(host, hostlen, "%s", h);
    snprintf(port, portlen, "%s", colon + 1);
    return 0;
}

/* Wait for fd to be ready for events, at most 1 s: 1 ready, 0 not. */
static int ready_within_1s(int fd, short events) {
    struct pollfd pfd = {.fd = fd, .events = events};
    int n;
    while ((n = poll(&pfd, 1, 1000)) < 0 && errno == EINTR)
        ;
    return n == 1;
}

/* Send a four-letter word to the first server and read its answer (each step at most
 * 1 s): 0 and the text, or -1. */
static int four_letter(const char *servers, const char *word, char *out, size_t cap) {
    char host[256], port[16];
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
    if (first_server(servers, host, sizeof host, port, sizeof port) != 0 ||
        getaddrinfo(host, port, &hints, &ai) != 0)
        return -1;
    int fd = socket(ai->ai_family, SOCK_STREAM, 0);
    int ok = fd >= 0 && fcntl(fd, F_SETFL, O_NONBLOCK) == 0;
    if (ok && connect(fd, ai->ai_addr, ai->ai_addrlen) != 0)
        ok = errno == EINPROGRESS && ready_within_1s(fd, POLLOUT);
    freeaddrinfo(ai);
    ok = ok && write(fd, word, strlen(word)) == (ssize_t)strlen(word);
    size_t len = 0;
    while (ok && len + 1 < cap && ready_within_1s(fd, POLLIN)) {
        ssize_t n = read(fd, out + len, cap - 1 - len);
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    if (fd >= 0)
        close(fd);
    out[len] = '\0';
    return ok && len > 0 ? 0 : -1;
}

/* The server's tickTime from `conf` (0 if it is not whitelisted), and its version and
 * mode from `srvr`, for the profile's source line. */
static void ask_server(cal *c, char *about, size_t aboutlen) {
    char text[8192];
    c->tick_ns = 0;
    if (four_letter(c->connect, "conf", text, sizeof text) == 0) {
        const char *t = strstr(text, "tickTime=");
        if (t)
            c->tick_ns = strtoull(t + 9, NULL, 10) * MS;
    }
    snprintf(about, aboutlen, "ZooKeeper");
    if (four_letter(c->connect, "srvr", text, sizeof text) == 0) {
        char version[64] = "?", mode[32] = "?";
        const char *v = strstr(text, "Zookeeper version: "), *m = strstr(text, "Mode: ");
        if (v)
            sscanf(v + 19, "%63[^-,\n]", version);
        if (m)
            sscanf(m + 6, "%31[a-z]", mode);
        snprintf(about, aboutlen, "ZooKeeper %s %s", version, mode);
    }
}

/* ---------- output ---------- */

typedef struct results {
    samples ops[OP_KINDS];
    samples watch;
    samples failover[MAX_TIMEOUTS], failover_close[MAX_TIMEOUTS], member_loss[MAX_TIMEOUTS];
    double negotiated_s[MAX_TIMEOUTS];
} results;

static void print_row(const char *name, samples *s) {
    summary m = summarize(s);
    printf("%-24s %10.3f %10.3f %10.3f %10.3f %10.3f %10.3f %6zu\n", name, m.median / 1e6,
           m.p10 / 1e6, m.p90 / 1e6, m.p99 / 1e6, m.min / 1e6, m.max / 1e6, m.count);
}

static void print_table(cal *c, results *r, const char *about) {
    printf("# %s at %s, tickTime %s", about, c->connect, c->tick_ns ? "" : "unknown");
    if (c->tick_ns)
        printf("%" PRIu64 " ms", c->tick_ns / MS);
    printf("; session timeouts (negotiated):");
    for (size_t i = 0; i < c->timeout_count; i++)
        printf(" %g s (%.3f s)", c->timeouts_s[i], r->negotiated_s[i]);
    printf("\n%-24s %10s %10s %10s %10s %10s %10s %6s\n", "quantity (ms)", "median", "p10", "p90",
           "p99", "min", "max", "count");
    for (int k = 0; k < OP_KINDS; k++)
        print_row(op_names[k], &r->ops[k]);
    print_row("watch", &r->watch);
    char name[64];
    for (size_t i = 0; i < c->timeout_count; i++) {
        snprintf(name, sizeof name, "failover T=%g kill", c->timeouts_s[i]);
        print_row(name, &r->failover[i]);
        snprintf(name, sizeof name, "failover T=%g close", c->timeouts_s[i]);
        print_row(name, &r->failover_close[i]);
        snprintf(name, sizeof name, "member_loss T=%g kill", c->timeouts_s[i]);
        print_row(name, &r->member_loss[i]);
    }
    fflush(stdout);
}

static void write_figure(FILE *f, const char *kind, double timeout_s, samples *s) {
    summary m = summarize(s);
    fprintf(f,
            "\n[%s T=%g]\nmedian_ms = %.3f\np10_ms = %.3f\np90_ms = %.3f\nmin_ms = %.3f\n"
            "max_ms = %.3f\ntrials = %zu\n",
            kind, timeout_s, m.median / 1e6, m.p10 / 1e6, m.p90 / 1e6, m.min / 1e6, m.max / 1e6,
            m.count);
}

static void write_latency(FILE *f, const char *name, samples *s) {
    summary m = summarize(s);
    /* the loader wants both > 0 */
    fprintf(f, "\n[%s]\nmedian_us = %.3f\np99_us = %.3f\n", name, fmax(m.median / 1e3, 0.001),
            fmax(m.p99 / 1e3, 0.001));
}

/* The profile: a temp file next to out, then rename (force) or link (never replacing
 * a file that appeared meanwhile). 0, or -1 with errno. */
static int write_profile(cal *c, results *r, const char *about, const char *out, int force) {
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.partial-%ld", out, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -1;
    fprintf(f,
            "; shardsim coordination latency profile, measured by shardsim calibrate: per\n"
            "; operation type the median and 99th percentile of a round trip; [watch] the\n"
            "; watch delivery; [failover T=S] (leader SIGKILLed at a random phase),\n"
            "; [failover_close T=S] (leader closes its session) and [member_loss T=S] (member\n"
            "; SIGKILLed) for session timeout S seconds: reference figures of the real service.\n"
            "[profile]\nsource = %s at %s, %" PRIu32 " operation trials, %" PRIu32
            " failover trials\ntick_ms = %" PRIu64 "\n",
            about, c->connect, c->op_trials, c->fault_trials, c->tick_ns / MS);
    for (int k = 0; k < OP_KINDS; k++)
        write_latency(f, op_names[k], &r->ops[k]);
    write_latency(f, "watch", &r->watch);
    for (size_t i = 0; i < c->timeout_count; i++) {
        write_figure(f, "failover", c->timeouts_s[i], &r->failover[i]);
        write_figure(f, "failover_close", c->timeouts_s[i], &r->failover_close[i]);
        write_figure(f, "member_loss", c->timeouts_s[i], &r->member_loss[i]);
    }
    int bad = ferror(f);
    bad |= fclose(f) != 0;
    if (!bad)
        bad = force ? rename(tmp, out) != 0 : link(tmp, out) != 0;
    int saved = errno;
    if (bad || !force)
        remove(tmp);
    errno = saved;
    return bad ? -1 : 0;
}

static void results_free(results *r) {
    for (int k = 0; k < OP_KINDS; k++)
        free(r->ops[k].ns);
    free(r->watch.ns);
    for (size_t i = 0; i < MAX_TIMEOUTS; i++) {
        free(r->failover[i].ns);
        free(r->failover_close[i].ns);
        free(r->member_loss[i].ns);
    }
}

/* ---------- the command ---------- */

static void usage(FILE *out) {
    fputs("usage: shardsim calibrate --zk HOST:PORT[,...] [--session-timeouts 4,10] [--trials N]\n"
          "                          [--out PROFILE [--force]] [--seed S] [--quiet]\n\n"
          "Measures a live ZooKeeper through the real backend and prints, per quantity, the\n"
          "median, p10, p90, p99, min and max in ms and the count:\n"
          "  - every operation type's round trip (create, delete, set, get, exists, children,\n"
          "    multi of a create and a delete, sync), N calls each, one at a time;\n"
          "  - watch delivery: from a set on one session to a data watch firing on another;\n"
          "  - per session timeout T: leader-election failover (recipe latch) after the\n"
          "    leader's process is SIGKILLed at a random phase in [0, T) after it leads, and\n"
          "    after it closes its session cleanly (phase in [0, min(T, 0.5 s))); member-loss\n"
          "    detection by a children watch after the member's process is SIGKILLed at a\n"
          "    random phase. Measured from the kill (or close request) to the standby leading\n"
          "    or the watcher seeing the member gone.\n"
          "  --zk SERVERS            the service (required)\n"
          "  --session-timeouts T,.. seconds, each within the server's [2, 20] ticks (a timeout\n"
          "                          the server would clamp is refused); default 4,10; at most 8\n"
          "  --trials N              N calls per operation type and watch (default 200) and N\n"
          "                          trials per failover and member-loss figure (default 20)\n"
          "  --out PROFILE           write the profile (INI; the model loads it with zk_profile)\n"
          "                          atomically; an existing file is kept unless --force\n"
          "  --seed S                seed of the random phases (default 1)\n"
          "  --quiet                 no progress lines on stderr\n"
          "Exit: 0 measured; 1 a trial failed or timed out; 2 bad input (one line).\n",
          out);
}

/* "4,10" or "1.5": each > 0 and <= 3600 s, whole milliseconds, at most 8. */
static int parse_timeouts(const char *text, cal *c) {
    c->timeout_count = 0;
    const char *p = text;
    while (*p) {
        size_t n = strcspn(p, ",");
        char one[32];
        double v;
        if (n == 0 || n >= sizeof one || c->timeout_count == MAX_TIMEOUTS)
            return -1;
        memcpy(one, p, n);
        one[n] = '\0';
        if (args_parse_double(one, &v) != 0 || !(v > 0 && v <= 3600) ||
            fabs(v * 1e3 - round(v * 1e3)) > 1e-6)
            return -1;
        for (size_t i = 0; i < c->timeout_count; i++)
            if (c->timeouts_s[i] == v)
                return -1;
        c->timeouts_s[c->timeout_count++] = v;
        p += n;
        if (*p == ',' && *++p == '\0')
            return -1;
    }
    return c->timeout_count ? 0 : -1;
}

typedef struct options {
    const char *zk, *out, *timeouts, *contender, *dir;
    uint32_t trials, timeout_ms;
    uint64_t seed;
    int have_trials, force, quiet;
} options;

static int parse_options(int argc, char **argv, options *o) {
    args_state a;
    args_init(&a, "calibrate", argc, argv);
    int rc;
    while ((rc = args_next(&a)) != ARGS_END) {
        if (rc == ARGS_POSITIONAL)
            return args_fail(&a, "unexpected argument '%s'", args_current(&a)), 2;
        if (args_is(&a, "--help", "-h")) {
            usage(stdout);
            return 0;
        } else if (args_is(&a, "--zk", NULL)) {
            rc = args_value(&a, &o->zk);
        } else if (args_is(&a, "--session-timeouts", NULL)) {
            rc = args_value(&a, &o->timeouts);
        } else if (args_is(&a, "--trials", NULL)) {
            rc = args_value_u32_range(&a, &o->trials, 1, 1000000);
            o->have_trials = 1;
        } else if (args_is(&a, "--out", NULL)) {
            rc = args_value(&a, &o->out);
        } else if (args_is(&a, "--seed", NULL)) {
            rc = args_value_u64(&a, &o->seed);
        } else if (args_is(&a, "--force", NULL)) {
            o->force = 1;
            rc = 0;
        } else if (args_is(&a, "--quiet", NULL)) {
            o->quiet = 1;
            rc = 0;
        } else if (args_is(&a, "--contender", NULL)) { /* hidden: the other process */
            rc = args_value(&a, &o->contender);
        } else if (args_is(&a, "--dir", NULL)) {
            rc = args_value(&a, &o->dir);
        } else if (args_is(&a, "--timeout-ms", NULL)) {
            rc = args_value_u32_range(&a, &o->timeout_ms, 1, 3600000);
        } else {
            return args_unknown(&a), 2;
        }
        if (rc != 0)
            return 2;
    }
    return -1;
}

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("shardsim calibrate: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 2;
}

/* The service, and a session per timeout asked to see what the server negotiates: a
 * timeout it would clamp is refused (exit 2). Leaves the admin session open. */
static int set_up(cal *c, results *r, sess *admin) {
    coord_config cfg;
    coord_config_defaults(&cfg);
    cfg.connect = c->connect;
    cfg.direct = 1; /* no fault proxy: its extra hop would be measured */
    char err[256] = "";
    if ((c->b->config_check && c->b->config_check(&cfg, err, sizeof err) != 0) ||
        c->b->service_create(&c->rt.env, &cfg, &c->svc, err, sizeof err) != 0)
        return fail("--zk: %s", err);
    for (size_t i = 0; i < c->timeout_count; i++) {
        sess x;
        uint64_t want_ns = (uint64_t)llround(c->timeouts_s[i] * 1e9);
        if (sess_open(c, &x, want_ns) != 0) {
            sess_close(&x);
            return fail("--zk: no session with %s within 10 s", c->connect);
        }
        uint64_t got_ns = c->b->session_timeout_ns(x.s);
        r->negotiated_s[i] = (double)got_ns / 1e9;
        sess_close(&x);
        if (got_ns != want_ns)
            return fail("--session-timeouts: %g s: the server negotiated %.3f s (it clamps to "
                        "[2, 20] ticks%s%.3f s)",
                        c->timeouts_s[i], (double)got_ns / 1e9, c->tick_ns ? " of " : "",
                        c->tick_ns ? (double)c->tick_ns / 1e9 : 0.0);
    }
    if (sess_open(c, admin, (uint64_t)llround(c->timeouts_s[0] * 1e9)) != 0) {
        sess_close(admin);
        return fail("--zk: no session with %s within 10 s", c->connect);
    }
    c->admin = admin;
    return 0;
}

static double expected_s(const cal *c) {
    double tick_s = (double)c->tick_ns / 1e9, total = 9.0 * c->op_trials * 1e-3 + 2;
    for (size_t i = 0; i < c->timeout_count; i++) {
        double t = c->timeouts_s[i];
        total += c->fault_trials * (2 * (0.2 + t / 2 + t + tick_s / 2) + 0.2 + fmin(t, 0.5) / 2);
    }
    return total;
}

static int measure_all(cal *c, results *r, char *err, size_t errlen) {
    int rc = measure_ops(c, r->ops, err, errlen);
    if (rc == 0)
        rc = measure_watch(c, &r->watch, err, errlen);
    for (size_t i = 0; rc == 0 && i < c->timeout_count; i++) {
        double t = c->timeouts_s[i];
        rc = measure_trials(c, "failover", 0, 0, t, &r->failover[i], err, errlen);
        if (rc == 0)
            rc = measure_trials(c, "failover_close", 1, 0, t, &r->failover_close[i], err, errlen);
        if (rc == 0)
            rc = measure_trials(c, "member_loss", 0, 1, t, &r->member_loss[i], err, errlen);
    }
    return rc;
}

static int calibrate(cal *c, const options *o) {
    static results r; /* large; one calibration per process */
    char about[160], err[512] = "";
    ask_server(c, about, sizeof about);
    sess admin = {0};
    int rc = set_up(c, &r, &admin);
    if (rc == 0) {
        progress(c,
                 "%s at %s, tickTime %" PRIu64 " ms: about %.0f s expected (each failover or "
                 "member-loss trial gives up %.0f s after its kill)",
                 about, c->connect, c->tick_ns / MS, expected_s(c),
                 (double)detect_bound_ns(c, c->timeouts_s[c->timeout_count - 1]) / 1e9);
        if (op_create(c, &admin, c->root, COORD_PERSISTENT, NULL) != 0)
            rc = fail("cannot create %s on %s", c->root, c->connect);
    }
    if (rc == 0 && measure_all(c, &r, err, sizeof err) != 0) {
        fprintf(stderr, "shardsim calibrate: %s\n", err);
        rc = 1;
    }
    if (admin.s) {
        remove_tree(c, &admin, c->root, 0);
        sess_close(&admin);
    }
    if (rc == 0) {
        print_table(c, &r, about);
        if (o->out && write_profile(c, &r, about, o->out, o->force) != 0)
            rc = fail("--out: cannot write '%s': %s", o->out, strerror(errno));
    }
    if (c->svc)
        c->b->service_free(c->svc);
    results_free(&r);
    return rc;
}

int cli_calibrate(int argc, char **argv) {
    options o = {.trials = 0, .seed = 1};
    int rc = parse_options(argc, argv, &o);
    if (rc >= 0)
        return rc;
    if (o.contender) {
        if (!o.zk || !o.dir || !o.timeout_ms ||
            (strcmp(o.contender, "leader") != 0 && strcmp(o.contender, "member") != 0))
            return fail("--contender: needs leader|member, --zk, --dir and --timeout-ms");
        return contender_main(o.contender, o.zk, o.dir, o.timeout_ms);
    }
    static cal c; /* holds the env; one per process */
    c.connect = o.zk;
    c.quiet = o.quiet;
    c.op_trials = o.have_trials ? o.trials : 200;
    c.fault_trials = o.have_trials ? o.trials : 20;
    if (!o.zk || !*o.zk)
        return fail("--zk: required (HOST:PORT[,HOST:PORT...])");
    if (parse_timeouts(o.timeouts ? o.timeouts : "4,10", &c) != 0)
        return fail("--session-timeouts: expected up to %d distinct seconds > 0 in whole ms, "
                    "comma-separated, got '%s'",
                    MAX_TIMEOUTS, o.timeouts ? o.timeouts : "");
    struct stat st;
    if (o.out && !o.force && stat(o.out, &st) == 0)
        return fail("--out: '%s' exists (--force replaces it)", o.out);
    if (o.force && !o.out)
        return fail("--force: only with --out");
    ssize_t n = readlink("/proc/self/exe", c.exe, sizeof c.exe - 1);
    if (n <= 0)
        return fail("cannot find this program's path (/proc/self/exe)");
    c.exe[n] = '\0';
    c.b = coord_backend_find("zookeeper");
    if (!c.b)
        return fail("built without the real ZooKeeper backend");
    signal(SIGPIPE, SIG_IGN); /* a contender that died before reading its command */
    prng_seed(&c.rng, o.seed);
    snprintf(c.root, sizeof c.root, "/shardsim-calibrate-%ld-%" PRIu64, (long)getpid(), o.seed);
    if (env_rt_init(&c.rt) != 0)
        return fail("cannot set up the real-time loop");
    rc = calibrate(&c, &o);
    env_rt_free(&c.rt);
    return rc;
}
