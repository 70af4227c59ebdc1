/* recipes.c -- leader latch, CAS counter and membership over coord.h; see recipes.h.
 * Each recipe is a chain of asynchronous calls: every step's completion starts the
 * next, so no step ever blocks and every callback arrives from the event loop. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/recipes/recipes.h"

/* ---------- leader latch ---------- */

/* A step failed with rc: 1 if it should be retried now (the connection is still up);
 * otherwise *lost is set and the session's next CONNECTED retries it. */
static int retry_now(const coord_backend *b, const coord_session *s, int rc, int *lost) {
    if (rc != COORD_CONNECTIONLOSS && rc != COORD_OPERATIONTIMEOUT)
        return 0;
    if (b->state(s) == COORD_STATE_CONNECTED)
        return 1;
    *lost = 1;
    return 0;
}

/* A step the backend refused at once (rc != 0): nothing was sent and no callback will
 * come, so it is redone like a step lost with the connection -- on the session's next
 * CONNECTED -- never dropped, and never retried inside the call. */
static void refused(int rc, int *lost) {
    if (rc != 0)
        *lost = 1;
}

/* A contender node's sequence number: the digits after its last '-'. */
static int64_t sequence_of(const char *name) {
    const char *dash = strrchr(name, '-');
    return dash ? atoll(dash + 1) : -1;
}

static void latch_check(recipe_latch *l);
static void latch_create(recipe_latch *l);

static void set_leading(recipe_latch *l, int leading) {
    if (l->leading == leading)
        return;
    l->leading = leading;
    if (l->on_change)
        l->on_change(l->arg, leading, l->epoch);
}

static void predecessor_changed(void *arg, int event, const char *path) {
    recipe_latch *l = arg;
    if (event != COORD_EVENT_DELETED || l->stopped)
        return;
    snprintf(l->woke_by, sizeof l->woke_by, "%s", path);
    l->wakes++;
    if (l->on_wake)
        l->on_wake(l->arg);
    latch_check(l);
}

static void predecessor_exists(void *arg, int rc, const coord_result *res) {
    (void)res;
    recipe_latch *l = arg;
    if (l->stopped)
        return;
    if (rc == COORD_NONODE || retry_now(l->b, l->s, rc, &l->lost))
        latch_check(l); /* gone between our listing and the watch, or the watch was lost */
}

static void on_children(void *arg, int rc, const coord_result *res) {
    recipe_latch *l = arg;
    if (l->stopped)
        return;
    if (rc != COORD_OK) {
        if (retry_now(l->b, l->s, rc, &l->lost))
            latch_check(l);
        return;
    }
    const char *mine = strrchr(l->node, '/') + 1;
    const char *pred = NULL;
    int64_t my_seq = sequence_of(mine), pred_seq = -1;
    int present = 0;
    for (size_t i = 0; i < res->child_count; i++) {
        int64_t seq = sequence_of(res->children[i]);
        present |= strcmp(res->children[i], mine) == 0;
        int closer = l->herd ? pred_seq < 0 || seq < pred_seq : seq > pred_seq; /* herd: lowest */
        if (seq < my_seq && closer) {
            pred_seq = seq;
            pred = res->children[i];
        }
    }
    if (!present) { /* our node went (our session was renewed meanwhile): nothing to do */
        set_leading(l, 0);
        return;
    }
    if (!pred) {
        set_leading(l, 1);
        return;
    }
    char path[600];
    snprintf(path, sizeof path, "%s/%s", l->dir, pred);
    refused(coord_exists(l->b, l->s, path, predecessor_changed, l, predecessor_exists, l),
            &l->lost);
}

static void latch_check(recipe_latch *l) {
    refused(coord_children(l->b, l->s, l->dir, NULL, NULL, on_children, l), &l->lost);
}

static void adopt(recipe_latch *l, const char *path) {
    snprintf(l->node, sizeof l->node, "%s", path);
    l->epoch = sequence_of(path);
    if (l->on_joined)
        l->on_joined(l->arg);
    latch_check(l);
}

static void on_created(void *arg, int rc, const coord_result *res) {
    recipe_latch *l = arg;
    if (l->stopped)
        return;
    if (rc == COORD_OK)
        adopt(l, res->path);
    else if (retry_now(l->b, l->s, rc, &l->lost))
        latch_create(l); /* latch_create first looks for a node the lost create made */
}

/* After a lost create: our node, if the create was applied, else create it now. */
static void on_own_listing(void *arg, int rc, const coord_result *res) {
    recipe_latch *l = arg;
    if (l->stopped)
        return;
    if (rc != COORD_OK) {
        if (retry_now(l->b, l->s, rc, &l->lost))
            latch_create(l);
        return;
    }
    char prefix[64], path[600];
    snprintf(prefix, sizeof prefix, "c-%016llx-", (unsigned long long)l->b->session_id(l->s));
    for (size_t i = 0; i < res->child_count; i++)
        if (strncmp(res->children[i], prefix, strlen(prefix)) == 0) {
            snprintf(path, sizeof path, "%s/%s", l->dir, res->children[i]);
            adopt(l, path);
            return;
        }
    char name[400];
    snprintf(name, sizeof name, "%s/%s", l->dir, prefix);
    refused(
        coord_create(l->b, l->s, name, NULL, 0, COORD_EPHEMERAL | COORD_SEQUENTIAL, on_created, l),
        &l->lost);
}

static void latch_create(recipe_latch *l) {
    refused(coord_children(l->b, l->s, l->dir, NULL, NULL, on_own_listing, l), &l->lost);
}

int recipe_latch_start(recipe_latch *l, const coord_backend *b, coord_session *s, const char *dir,
                       int tolerate_suspended, recipe_leader_fn on_change, void *arg) {
    memset(l, 0, sizeof *l);
    l->b = b;
    l->s = s;
    snprintf(l->dir, sizeof l->dir, "%s", dir);
    l->tolerate_suspended = tolerate_suspended;
    l->on_change = on_change;
    l->arg = arg;
    char name[400];
    snprintf(name, sizeof name, "%s/c-%016llx-", dir, (unsigned long long)b->session_id(s));
    return coord_create(b, s, name, NULL, 0, COORD_EPHEMERAL | COORD_SEQUENTIAL, on_created, l);
}

void recipe_latch_session_state(recipe_latch *l, int state) {
    if (state == COORD_STATE_EXPIRED ||
        (state == COORD_STATE_DISCONNECTED && !l->tolerate_suspended)) {
        set_leading(l, 0);
        if (state == COORD_STATE_EXPIRED)
            l->stopped = 1;
    }
    if (state != COORD_STATE_CONNECTED || l->stopped)
        return;
    /* back with the same session: redo a lost step; re-check unless leading */
    int lost = l->lost;
    l->lost = 0;
    if (!l->node[0] && lost)
        latch_create(l);
    else if (l->node[0] && (lost || !l->leading))
        latch_check(l);
}

int recipe_fenced_multi(const recipe_latch *l, const coord_op *ops, size_t count,
                        coord_done_fn done, void *arg) {
    coord_op all[16];
    if (count > 15 || !l->node[0])
        return COORD_BADARGUMENTS;
    all[0] = (coord_op){COORD_OP_CHECK, l->node, NULL, 0, 0, -1};
    memcpy(all + 1, ops, count * sizeof *ops);
    return coord_multi(l->b, l->s, all, count + 1, done, arg);
}

/* ---------- counter ---------- */

typedef struct counter_step {
    const coord_backend *b;
    coord_session *s;
    char path[256];
    recipe_counter_fn done;
    void *arg;
    recipe_counter_write write; /* the write in flight (value 0: none) */
    recipe_counter_write *lost; /* where a lost write is reported */
    int tries;
    int no_cas; /* the counter-no-cas mutation: set with version -1 */
} counter_step;

static void counter_read(counter_step *c);

/* The increment ends with rc (a lost answer reports the write in flight). */
static void counter_end(counter_step *c, int rc, int64_t value) {
    if (c->lost)
        *c->lost =
            rc == COORD_CONNECTIONLOSS || rc == COORD_SESSIONEXPIRED || rc == COORD_OPERATIONTIMEOUT
                ? c->write
                : (recipe_counter_write){0, -1};
    c->done(c->arg, rc, value);
    free(c);
}

/* A step refused at once ends the increment with that code, as a failed step would. */
static void counter_sent(counter_step *c, int rc) {
    if (rc != 0)
        counter_end(c, rc, 0);
}

static void counter_written(void *arg, int rc, const coord_result *res) {
    (void)res;
    counter_step *c = arg;
    if ((rc == COORD_BADVERSION || rc == COORD_NODEEXISTS) && c->tries++ < 100) {
        c->write = (recipe_counter_write){0, -1};
        counter_read(c); /* somebody else won the race: read again */
        return;
    }
    counter_end(c, rc, rc == COORD_OK ? c->write.value : 0);
}

/* Send the write of value, conditioned on version unless the mutation is on (-1: create
 * it). Returns the call's rc. */
static int counter_send(counter_step *c, int64_t value, int32_t version) {
    char text[32];
    snprintf(text, sizeof text, "%lld", (long long)value);
    c->write = (recipe_counter_write){value, version};
    if (version < 0)
        return coord_create(c->b, c->s, c->path, text, strlen(text), 0, counter_written, c);
    return coord_set(c->b, c->s, c->path, text, strlen(text), c->no_cas ? -1 : version,
                     counter_written, c);
}

static void counter_got(void *arg, int rc, const coord_result *res) {
    counter_step *c = arg;
    if (rc == COORD_NONODE) {
        counter_sent(c, counter_send(c, 1, -1));
        return;
    }
    if (rc != COORD_OK) {
        counter_end(c, rc, 0);
        return;
    }
    char text[32];
    snprintf(text, sizeof text, "%.*s", (int)(res->data_len < 31 ? res->data_len : 31),
             (const char *)res->data);
    counter_sent(c, counter_send(c, atoll(text) + 1, res->stat.version));
}

static void counter_read(counter_step *c) {
    counter_sent(c, coord_get(c->b, c->s, c->path, NULL, NULL, counter_got, c));
}

int recipe_counter_start(const coord_backend *b, coord_session *s, const char *path,
                         const recipe_counter_opts *opts, recipe_counter_fn done, void *arg) {
    counter_step *c = calloc(1, sizeof *c);
    if (!c)
        return COORD_BADARGUMENTS;
    *c = (counter_step){.b = b, .s = s, .done = done, .arg = arg, .write = {0, -1}};
    snprintf(c->path, sizeof c->path, "%s", path);
    recipe_counter_write retry = {0, -1};
    if (opts) {
        c->no_cas = opts->no_cas;
        c->lost = opts->lost;
        retry = opts->retry;
    }
    int rc = retry.value ? counter_send(c, retry.value, retry.version)
                         : coord_get(b, s, c->path, NULL, NULL, counter_got, c);
    if (rc != 0)
        free(c);
    return rc;
}

int recipe_counter_next(const coord_backend *b, coord_session *s, const char *path,
                        recipe_counter_fn done, void *arg) {
    return recipe_counter_start(b, s, path, NULL, done, arg);
}

int recipe_counter_next_no_cas(const coord_backend *b, coord_session *s, const char *path,
                               recipe_counter_fn done, void *arg) {
    return recipe_counter_start(b, s, path, &(recipe_counter_opts){.no_cas = 1}, done, arg);
}

/* ---------- membership ---------- */

static void members_listed(void *arg, int rc, const coord_result *res);

static void members_changed(void *arg, int event, const char *path) {
    (void)event, (void)path;
    recipe_watcher *w = arg;
    refused(coord_children(w->b, w->s, w->dir, members_changed, w, members_listed, w), &w->relist);
}

static void members_listed(void *arg, int rc, const coord_result *res) {
    recipe_watcher *w = arg;
    if (rc == COORD_OK)
        w->on_members(w->arg, res->children, res->child_count);
    else if (retry_now(w->b, w->s, rc, &w->relist))
        members_changed(w, 0, NULL);
}

void recipe_members_session_state(recipe_watcher *w, int state) {
    if (state == COORD_STATE_CONNECTED && w->relist) {
        w->relist = 0;
        members_changed(w, 0, NULL);
    }
}

int recipe_members_watch(recipe_watcher *w, const coord_backend *b, coord_session *s,
                         const char *dir, recipe_members_fn on_members, void *arg) {
    w->b = b;
    w->s = s;
    snprintf(w->dir, sizeof w->dir, "%s", dir);
    w->on_members = on_members;
    w->arg = arg;
    w->relist = 0;
    return coord_children(b, s, dir, members_changed, w, members_listed, w);
}

/* ---------- assignment store ---------- */

typedef struct assign_write {
    const coord_backend *b;
    coord_session *s;
    char path[256];
    char fence[300]; /* the leader's election node, "" = unfenced */
    char *data;
    size_t len;
    int creating;
    coord_done_fn done;
    void *arg;
} assign_write;

static int assign_send(assign_write *w);

static void assign_written(void *arg, int rc, const coord_result *res) {
    assign_write *w = arg;
    /* the node is missing (not the fence): the first assignment creates it */
    int missing = rc == COORD_NONODE && !w->creating &&
                  (!w->fence[0] || (res && res->op_count == 2 && res->op_rcs[1] == COORD_NONODE));
    if (missing) {
        w->creating = 1;
        if (assign_send(w) == 0)
            return;
    }
    if (w->done)
        w->done(w->arg, rc, res);
    free(w->data);
    free(w);
}

static int assign_send(assign_write *w) {
    if (!w->fence[0])
        return w->creating
                   ? coord_create(w->b, w->s, w->path, w->data, w->len, 0, assign_written, w)
                   : coord_set(w->b, w->s, w->path, w->data, w->len, -1, assign_written, w);
    coord_op ops[2] = {
        {COORD_OP_CHECK, w->fence, NULL, 0, 0, -1},
        {w->creating ? COORD_OP_CREATE : COORD_OP_SET, w->path, w->data, w->len, 0, -1}};
    return coord_multi(w->b, w->s, ops, 2, assign_written, w);
}

int recipe_assignment_write(const coord_backend *b, coord_session *s, const recipe_latch *leader,
                            const char *path, uint64_t generation, const uint32_t *workers,
                            uint32_t count, coord_done_fn done, void *arg) {
    assign_write *w = calloc(1, sizeof *w);
    size_t cap = 64 + (size_t)count * 11;
    char *data = malloc(cap);
    if (!w || !data || (leader && !leader->node[0])) {
        free(w);
        free(data);
        return COORD_BADARGUMENTS;
    }
    size_t len = (size_t)snprintf(data, cap, "%llu@%lld:", (unsigned long long)generation,
                                  leader ? (long long)leader->epoch : 0LL);
    for (uint32_t i = 0; i < count; i++)
        len += (size_t)snprintf(data + len, cap - len, "%s%u", i ? "," : "", workers[i]);
    *w = (assign_write){.b = b, .s = s, .data = data, .len = len, .done = done, .arg = arg};
    snprintf(w->path, sizeof w->path, "%s", path);
    if (leader)
        snprintf(w->fence, sizeof w->fence, "%s", leader->node);
    int rc = assign_send(w);
    if (rc != 0) {
        free(data);
        free(w);
    }
    return rc;
}

static void assignment_got(void *arg, int rc, const coord_result *res);

static void assignment_changed(void *arg, int event, const char *path);

/* exists() on a missing node only leaves the watch; its own answer is not needed */
static void assignment_exists(void *arg, int rc, const coord_result *res) {
    (void)res;
    recipe_assignment_watcher *w = arg;
    if (rc == COORD_OK) /* created meanwhile: read it (the watch is already set) */
        refused(coord_get(w->b, w->s, w->path, NULL, NULL, assignment_got, w), &w->reread);
    else if (rc != COORD_NONODE && retry_now(w->b, w->s, rc, &w->reread))
        assignment_changed(w, 0, NULL);
}

static void assignment_changed(void *arg, int event, const char *path) {
    (void)event, (void)path;
    recipe_assignment_watcher *w = arg;
    refused(coord_get(w->b, w->s, w->path, assignment_changed, w, assignment_got, w), &w->reread);
}

static void assignment_got(void *arg, int rc, const coord_result *res) {
    recipe_assignment_watcher *w = arg;
    if (rc == COORD_NONODE) { /* not written yet: wait for its creation */
        refused(coord_exists(w->b, w->s, w->path, assignment_changed, w, assignment_exists, w),
                &w->reread);
        return;
    }
    if (rc != COORD_OK) {
        if (retry_now(w->b, w->s, rc, &w->reread))
            assignment_changed(w, 0, NULL);
        return;
    }
    char *text = malloc(res->data_len + 1);
    uint32_t *workers = malloc((res->data_len / 2 + 1) * sizeof *workers);
    if (text && workers) {
        memcpy(text, res->data, res->data_len);
        text[res->data_len] = '\0';
        char *p = strchr(text, ':');
        uint64_t generation = strtoull(text, NULL, 10);
        uint32_t n = 0;
        while (p && *++p) {
            workers[n++] = (uint32_t)strtoul(p, &p, 10);
            if (*p != ',')
                break;
        }
        w->on_assignment(w->arg, generation, workers, n);
    }
    free(text);
    free(workers);
}

int recipe_assignment_watch(recipe_assignment_watcher *w, const coord_backend *b, coord_session *s,
                            const char *path, recipe_assignment_fn fn, void *arg) {
    w->b = b;
    w->s = s;
    snprintf(w->path, sizeof w->path, "%s", path);
    w->on_assignment = fn;
    w->arg = arg;
    w->reread = 0;
    return coord_get(b, s, path, assignment_changed, w, assignment_got, w);
}

void recipe_assignment_session_state(recipe_assignment_watcher *w, int state) {
    if (state == COORD_STATE_CONNECTED && w->reread) {
        w->reread = 0;
        assignment_changed(w, 0, NULL);
    }
}
