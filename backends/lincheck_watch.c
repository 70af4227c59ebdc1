/* lincheck_watch.c -- ZooKeeper's watch order, per session: a client sees a watch event
 * before any reply that shows the change behind it. For each event a session got, the
 * read that left the watch is the session's earliest watching read of that node (of
 * the event's kind: data or children) answered since its previous such event; any
 * reply the session got after that read and before the event that shows the node
 * changed -- a read seeing another version or existence or children list, or the
 * session's own write to it, a listing of its parent that shows it appear or go, or any
 * reply whose stat shows a zxid at least that of the
 * write behind the event (the session's view already held the change) -- came too early.
 * Across a reconnection too: a real client re-registers its watches first thing
 * (setWatches) and gets the events of what it missed before any later reply.
 * Conservative: a watch the check cannot attribute is not judged. */
#include <stdio.h>
#include <string.h>

#include "backends/lincheck_internal.h"

static int before(uint64_t ns1, uint64_t seq1, uint64_t ns2, uint64_t seq2) {
    return ns1 < ns2 || (ns1 == ns2 && seq1 < seq2);
}

static int data_read(const coord_history_entry *x) {
    return x->op == COORD_OPTYPE_GET || x->op == COORD_OPTYPE_EXISTS;
}

/* Did x leave a watch of this kind (child: 1) on path? */
static int watching(const coord_history_entry *x, int child, const char *path) {
    if (x->kind != COORD_HISTORY_OP || !x->watch || !x->answered || !x->path ||
        strcmp(x->path, path) != 0)
        return 0;
    if (child)
        return x->op == COORD_OPTYPE_CHILDREN && x->rc == COORD_OK;
    return (x->op == COORD_OPTYPE_GET && x->rc == COORD_OK) ||
           (x->op == COORD_OPTYPE_EXISTS && (x->rc == COORD_OK || x->rc == COORD_NONODE));
}

static int same_names(const coord_history_entry *a, const coord_history_entry *b) {
    if (a->child_count != b->child_count)
        return 0;
    for (size_t i = 0; i < a->child_count; i++) {
        size_t j = 0;
        while (j < b->child_count && strcmp(a->children[i], b->children[j]) != 0)
            j++;
        if (j == b->child_count)
            return 0;
    }
    return 1;
}

/* Does read q show the node changed since read r saw it? */
static int read_changed(const coord_history_entry *r, const coord_history_entry *q, int child) {
    if (child) {
        if (q->op != COORD_OPTYPE_CHILDREN || (q->rc != COORD_OK && q->rc != COORD_NONODE))
            return 0;
        return q->rc != COORD_OK || !same_names(r, q);
    }
    if (!data_read(q) || (q->rc != COORD_OK && q->rc != COORD_NONODE))
        return 0;
    if ((r->rc == COORD_OK) != (q->rc == COORD_OK))
        return 1;
    if (r->rc != COORD_OK || !r->has_stat || !q->has_stat)
        return 0;
    return r->stat.version != q->stat.version ||
           (r->stat.czxid && q->stat.czxid && r->stat.czxid != q->stat.czxid);
}

/* Does q, a listing of path's parent, show path's existence other than r saw it? */
static int listing_changed(const coord_history_entry *r, const coord_history_entry *q,
                           const char *path) {
    const char *slash = strrchr(path, '/');
    size_t plen = (size_t)(slash - path);
    if (q->op != COORD_OPTYPE_CHILDREN || q->rc != COORD_OK || !q->path || plen == 0 ||
        strlen(q->path) != plen || strncmp(q->path, path, plen) != 0)
        return 0;
    int listed = 0;
    for (size_t i = 0; i < q->child_count; i++)
        listed |= strcmp(q->children[i], slash + 1) == 0;
    return listed != (r->rc == COORD_OK);
}

/* Is q's own write a change the watch on path reports? */
static int own_change(const coord_history_entry *q, int child, const char *path) {
    if (q->rc != COORD_OK || !q->path || q->op == COORD_OPTYPE_MULTI)
        return 0;
    if (child) {
        size_t n = strlen(path);
        const char *slash = strrchr(q->path, '/');
        return (q->op == COORD_OPTYPE_CREATE || q->op == COORD_OPTYPE_DELETE) && slash &&
               (size_t)(slash - q->path) == (n == 1 ? 0 : n) && strncmp(q->path, path, n) == 0;
    }
    return strcmp(q->path, path) == 0 &&
           (q->op == COORD_OPTYPE_SET || q->op == COORD_OPTYPE_DELETE ||
            q->op == COORD_OPTYPE_CREATE);
}

/* The read that left the watch event e fired for: the session's earliest watching read
 * answered before e and called after its previous event of that kind there (an event may
 * overtake the reply of the read that left its watch, in the model); SIZE_MAX if none. */
static size_t watch_source(const coord_history *h, size_t e) {
    const coord_history_entry *ev = coord_history_at(h, e);
    int child = ev->event == COORD_EVENT_CHILDREN_CHANGED;
    uint64_t since_ns = 0, since_seq = 0;
    for (size_t i = e; i-- > 0;) { /* the session's previous event of this kind there */
        const coord_history_entry *x = coord_history_at(h, i);
        if (x->kind == COORD_HISTORY_WATCH && x->client == ev->client &&
            strcmp(x->path, ev->path) == 0 && (x->event == COORD_EVENT_CHILDREN_CHANGED) == child) {
            since_ns = x->call_ns, since_seq = x->call_seq;
            break;
        }
    }
    for (size_t i = 0; i < e; i++) {
        const coord_history_entry *x = coord_history_at(h, i);
        if (x->client == ev->client && watching(x, child, ev->path) &&
            before(since_ns, since_seq, x->call_ns, x->call_seq) &&
            before(x->ret_ns, x->ret_seq, ev->call_ns, ev->call_seq))
            return i;
    }
    return SIZE_MAX;
}

/* The zxid of the first write to path after zxid `after` that the history shows (a set's
 * new mzxid, a create's czxid); 0 if none shows one. */
static int64_t first_change(const coord_history *h, const char *path, int64_t after) {
    int64_t z = 0;
    for (size_t i = 0; i < coord_history_count(h); i++) {
        const coord_history_entry *x = coord_history_at(h, i);
        if (x->kind != COORD_HISTORY_OP || !x->answered || x->rc != COORD_OK || !x->has_stat ||
            !x->path || strcmp(x->path, path) != 0)
            continue;
        int64_t at = x->op == COORD_OPTYPE_SET      ? x->stat.mzxid
                     : x->op == COORD_OPTYPE_CREATE ? x->stat.czxid
                                                    : 0;
        if (at > after && (z == 0 || at < z))
            z = at;
    }
    return z;
}

/* The newest zxid a reply shows: its view of the service is at least that recent. */
static int64_t reply_zxid(const coord_history_entry *q) {
    if (!q->has_stat || q->rc != COORD_OK)
        return 0;
    return q->stat.mzxid > q->stat.czxid ? q->stat.mzxid : q->stat.czxid;
}

static int judge_event(const coord_history *h, size_t e, char *detail, size_t len) {
    const coord_history_entry *ev = coord_history_at(h, e);
    size_t src = watch_source(h, e);
    if (src == SIZE_MAX)
        return 0;
    const coord_history_entry *r = coord_history_at(h, src);
    int child = ev->event == COORD_EVENT_CHILDREN_CHANGED;
    /* a data watch's change has a zxid when the history shows the write behind it */
    int64_t change = !child && r->has_stat && r->rc == COORD_OK && r->stat.mzxid
                         ? first_change(h, ev->path, r->stat.mzxid)
                         : 0;
    for (size_t i = src + 1; i < e; i++) {
        const coord_history_entry *q = coord_history_at(h, i);
        if (q->kind != COORD_HISTORY_OP || q->client != ev->client || !q->answered ||
            !before(q->ret_ns, q->ret_seq, ev->call_ns, ev->call_seq))
            continue;
        int shown = (q->path && strcmp(q->path, ev->path) == 0 && read_changed(r, q, child)) ||
                    own_change(q, child, ev->path) || (!child && listing_changed(r, q, ev->path)) ||
                    (change && reply_zxid(q) >= change);
        if (shown) {
            snprintf(detail, len,
                     "watch order: client %u's reply to #%zu %s %s at %llu ns shows the change "
                     "its watch (left by #%zu) reports only at %llu ns (%s)",
                     ev->client, i, coord_op_type_name(q->op), q->path,
                     (unsigned long long)q->ret_ns, src, (unsigned long long)ev->call_ns,
                     coord_history_event_name(ev->event));
            return 1;
        }
    }
    return 0;
}

int lc_check_watches(const coord_history *h, char *detail, size_t len) {
    for (size_t e = 0; e < coord_history_count(h); e++)
        if (coord_history_at(h, e)->kind == COORD_HISTORY_WATCH && judge_event(h, e, detail, len))
            return 1;
    return 0;
}
