/* lincheck_search.c -- the search of one partition (see lincheck.h): a depth-first
 * search over the orders in which its operations may take effect, against a
 * sequential model of its znodes, memoising (operations placed, model state) by two
 * 64-bit hashes (Zobrist hashes of the placed set, a hash of the state), bounded in
 * steps.
 *
 * Which operation may come next: a session's answered operations in the order it
 * called them (its chain); a write, sync or session end only when no unplaced
 * answered operation returned before it was called (real time); a read needs only
 * its chain. Operations of unknown outcome and the service-side ends of sessions stand
 * outside the chains and may be placed whenever real time allows, or never. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/lincheck.h"
#include "backends/lincheck_internal.h"
#include "core/grow.h"

/* A znode in the model (24 bytes, no padding: states are hashed as bytes). */
typedef struct zn {
    int32_t exists;
    int32_t version;
    uint32_t data;
    uint32_t owner;   /* client of an ephemeral, 0: persistent */
    int64_t last_seq; /* the highest sequence number handed out under this node */
} zn;

typedef struct frame {
    uint32_t cursor; /* next candidate: chain heads, then the free ops */
    uint32_t alt;    /* next alternative of that candidate */
    uint32_t placed; /* the op placed to reach the next frame (position) */
    uint64_t min_ret;
    size_t undo_mark; /* the undo log's length when this frame placed its op */
} frame;

/* A znode's value before an op changed it: popping a frame puts it back. */
typedef struct undo {
    uint32_t at;
    zn old;
} undo;

typedef struct srch {
    const lc *c;
    const uint32_t *ops; /* positions -> c->ops */
    size_t n, k;
    const uint32_t *paths; /* local -> global */
    uint32_t *loc;         /* global path -> local */
    uint32_t *kid_start, *kid_list;
    uint32_t nclients;
    uint32_t *chain, *chain_start, *chain_len, *head, *client_of;
    uint64_t *sufmin;
    uint32_t *freeops;
    size_t nfree;
    size_t must_total;
    uint8_t *done;
    uint64_t *zob;            /* two per op */
    zn *cur, *next, *scratch; /* k each: the state now, a candidate's, a multi's */
    undo *undo;               /* what the placed ops changed, newest last */
    size_t undo_count, undo_cap;
    frame *frames;
    uint64_t *memo; /* pairs; 0,0 = empty */
    size_t memo_cap, memo_count;
    size_t deepest;
    uint32_t stuck[4];
    size_t stuck_count;
} srch;

static const lc_op *op_at(const srch *s, size_t pos) {
    return &s->c->ops[s->ops[pos]];
}

static uint64_t mix64(uint64_t x) {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static void hash_state(const zn *st, size_t k, uint64_t *h1, uint64_t *h2) {
    uint64_t a = 0x9e3779b97f4a7c15ULL, b = 0x632be59bd9b4e019ULL;
    for (size_t i = 0; i < k; i++) {
        const zn *z = &st[i];
        uint64_t w1 = ((uint64_t)(uint32_t)z->exists << 32) | (uint32_t)z->version;
        uint64_t w2 = ((uint64_t)z->data << 32) | z->owner;
        uint64_t w3 = (uint64_t)z->last_seq;
        a = mix64(a ^ w1) + w2, a = mix64(a ^ w3);
        b = mix64(b + w1 * 31) ^ mix64(w2 + b), b = mix64(b ^ (w3 * 7 + 1));
    }
    *h1 = a, *h2 = b;
}

/* 1 if (h1, h2) was new (now remembered); 0 if seen; -1 out of memory. */
static int memo_insert(srch *s, uint64_t h1, uint64_t h2) {
    if (h1 == 0 && h2 == 0)
        h1 = 1;
    if (2 * (s->memo_count + 1) > s->memo_cap) {
        size_t cap = s->memo_cap ? s->memo_cap * 2 : 4096;
        uint64_t *m = calloc(cap * 2, sizeof *m);
        if (!m)
            return -1;
        for (size_t i = 0; i < s->memo_cap; i++) {
            if (!s->memo[2 * i] && !s->memo[2 * i + 1])
                continue;
            size_t j = s->memo[2 * i] & (cap - 1);
            while (m[2 * j] || m[2 * j + 1])
                j = (j + 1) & (cap - 1);
            m[2 * j] = s->memo[2 * i], m[2 * j + 1] = s->memo[2 * i + 1];
        }
        free(s->memo);
        s->memo = m, s->memo_cap = cap;
    }
    size_t j = h1 & (s->memo_cap - 1);
    while (s->memo[2 * j] || s->memo[2 * j + 1]) {
        if (s->memo[2 * j] == h1 && s->memo[2 * j + 1] == h2)
            return 0;
        j = (j + 1) & (s->memo_cap - 1);
    }
    s->memo[2 * j] = h1, s->memo[2 * j + 1] = h2;
    s->memo_count++;
    return 1;
}

/* ---------- the model ---------- */

static uint32_t L(const srch *s, uint32_t global) {
    return global == LC_NONE ? LC_NONE : s->loc[global];
}

static int writable(const zn *z, int32_t version) {
    return z->exists && (version == -1 || z->version == version);
}

static void clear(zn *z) {
    int64_t seq = z->last_seq; /* the parent's counter survives its child's deletion */
    *z = (zn){0, 0, 0, 0, seq};
}

/* A sequence number from the last 10 characters of a path, -1 if they are not digits. */
static int64_t seq_of(const char *path) {
    size_t len = strlen(path);
    if (len < 10)
        return -1;
    int64_t v = 0;
    for (size_t i = len - 10; i < len; i++) {
        if (path[i] < '0' || path[i] > '9')
            return -1;
        v = v * 10 + (path[i] - '0');
    }
    return v;
}

/* Make node `at` (created by o): 0 if the model cannot. */
static int make(const srch *s, const lc_op *o, zn *st, uint32_t at, int64_t seqno, int flags) {
    uint32_t a = L(s, at);
    if (a == LC_NONE || st[a].exists)
        return 0;
    if (flags & COORD_SEQUENTIAL) {
        uint32_t p = L(s, s->c->parent[at]);
        if (seqno < 0 || p == LC_NONE || seqno <= st[p].last_seq)
            return 0;
        st[p].last_seq = seqno;
    }
    st[a].exists = 1, st[a].version = 0, st[a].data = o->data;
    st[a].owner = (flags & COORD_EPHEMERAL) ? o->client : 0;
    return 1;
}

static int op_flags(const srch *s, const lc_op *o) {
    return coord_history_at(s->c->h, o->entry)->flags;
}

static int apply_create(const srch *s, const lc_op *o, zn *st, uint32_t alt) {
    int flags = op_flags(s, o);
    if (!o->known) {
        uint32_t at = (flags & COORD_SEQUENTIAL) ? o->cands[alt] : o->path;
        return make(s, o, st, at, seq_of(s->c->paths[at]), flags);
    }
    if (o->rc == COORD_OK) {
        uint32_t at = (flags & COORD_SEQUENTIAL) ? o->created : o->path;
        return !o->bad_name && at != LC_NONE && make(s, o, st, at, o->seqno, flags);
    }
    if (o->rc == COORD_NODEEXISTS && !(flags & COORD_SEQUENTIAL))
        return st[L(s, o->path)].exists;
    return 1; /* NONODE, NOCHILDRENFOREPHEMERALS: the parent is another partition's */
}

static int apply_delete(const srch *s, const lc_op *o, zn *st) {
    zn *z = &st[L(s, o->path)];
    if (!o->known || o->rc == COORD_OK) {
        if (!writable(z, o->version))
            return 0;
        clear(z);
        return 1;
    }
    if (o->rc == COORD_NONODE)
        return !z->exists;
    if (o->rc == COORD_BADVERSION)
        return z->exists && !writable(z, o->version);
    return 1; /* NOTEMPTY: the children may be elsewhere */
}

static int apply_set(const srch *s, const lc_op *o, zn *st) {
    zn *z = &st[L(s, o->path)];
    if (!o->known || o->rc == COORD_OK) {
        if (!writable(z, o->version))
            return 0;
        z->version++, z->data = o->data;
        return !o->has_stat || o->stat_version == z->version;
    }
    if (o->rc == COORD_NONODE)
        return !z->exists;
    if (o->rc == COORD_BADVERSION)
        return z->exists && !writable(z, o->version);
    return 1;
}

static int has_kid(const lc_op *o, uint32_t global) {
    size_t lo = 0, hi = o->kid_count;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (o->kids[mid] < global)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < o->kid_count && o->kids[lo] == global;
}

/* A children answer lists exactly the partition's existing children of the node (every
 * child the history ever names is in the partition). */
static int children_match(const srch *s, const lc_op *o, const zn *st, uint32_t p) {
    size_t existing = 0;
    for (uint32_t i = s->kid_start[p]; i < s->kid_start[p + 1]; i++) {
        uint32_t ch = s->kid_list[i];
        if (st[ch].exists != has_kid(o, s->paths[ch]))
            return 0;
        existing += st[ch].exists != 0;
    }
    return existing == o->kid_count;
}

static int apply_read(const srch *s, const lc_op *o, const zn *st) {
    uint32_t p = L(s, o->path);
    const zn *z = &st[p];
    if (o->rc == COORD_NONODE)
        return !z->exists;
    if (!z->exists || (o->has_stat && o->stat_version != z->version))
        return 0;
    if (o->kind == COORD_OPTYPE_GET)
        return z->data == o->rdata;
    if (o->kind == COORD_OPTYPE_CHILDREN)
        return children_match(s, o, st, p);
    return 1;
}

/* A session's end: its ephemerals go. 0 if nothing changed and the end is optional. */
static int apply_end(const srch *s, const lc_op *o, zn *st) {
    int changed = 0;
    for (size_t i = 0; i < s->k; i++)
        if (st[i].exists && st[i].owner == o->client)
            clear(&st[i]), changed = 1;
    return changed || o->known;
}

/* One op of a multi on a scratch state: 1 applied, 0 refused with some code in *why. */
static int sub_apply(const srch *s, const lc_op *o, size_t i, zn *st, int *why) {
    const coord_history_subop *sub = &coord_history_at(s->c->h, o->entry)->sub[i];
    zn *z = &st[L(s, o->subpath[i])];
    if (sub->type == COORD_OP_CREATE) {
        if (sub->flags & COORD_SEQUENTIAL)
            return 1; /* its name is not in the answer: not modelled */
        *why = z->exists ? COORD_NODEEXISTS : COORD_NONODE;
        if (z->exists)
            return 0;
        *z = (zn){1, 0, o->subdata[i], (sub->flags & COORD_EPHEMERAL) ? o->client : 0, z->last_seq};
        return 1;
    }
    *why = z->exists ? COORD_BADVERSION : COORD_NONODE;
    if (!writable(z, sub->version))
        return 0;
    if (sub->type == COORD_OP_DELETE)
        clear(z);
    else if (sub->type == COORD_OP_SET)
        z->version++, z->data = o->subdata[i];
    return 1;
}

/* A failed multi: the ops before the first one that failed apply, that one fails as
 * answered, and nothing changes. */
static int multi_failed(const srch *s, const lc_op *o, const zn *st, zn *scratch) {
    const coord_history_entry *x = coord_history_at(s->c->h, o->entry);
    memcpy(scratch, st, s->k * sizeof *st);
    for (size_t i = 0; i < x->sub_count && i < x->rc_count; i++) {
        int why = 0, rc = x->rcs[i];
        int applied = sub_apply(s, o, i, scratch, &why);
        if (rc == COORD_OK || rc == COORD_RUNTIMEINCONSISTENCY) {
            if (!applied)
                return 0;
            continue;
        }
        if (applied && rc != COORD_NONODE)
            return 0; /* it failed, but the model would apply it */
        return 1;
    }
    return 1;
}

static int apply_multi(const srch *s, const lc_op *o, zn *st, zn *scratch) {
    const coord_history_entry *x = coord_history_at(s->c->h, o->entry);
    if (o->known && o->rc != COORD_OK)
        return multi_failed(s, o, st, scratch);
    memcpy(scratch, st, s->k * sizeof *st);
    for (size_t i = 0; i < x->sub_count; i++) {
        int why;
        if (!sub_apply(s, o, i, scratch, &why))
            return 0;
    }
    memcpy(st, scratch, s->k * sizeof *st);
    return 1;
}

/* Apply op o (alternative alt) to st in place: 1 if the model explains its answer. */
static int apply(const srch *s, const lc_op *o, uint32_t alt, zn *st, zn *scratch) {
    switch (o->kind) {
    case COORD_OPTYPE_CREATE:
        return apply_create(s, o, st, alt);
    case COORD_OPTYPE_DELETE:
        return apply_delete(s, o, st);
    case COORD_OPTYPE_SET:
        return apply_set(s, o, st);
    case COORD_OPTYPE_GET:
    case COORD_OPTYPE_EXISTS:
    case COORD_OPTYPE_CHILDREN:
        return apply_read(s, o, st);
    case COORD_OPTYPE_MULTI:
        return apply_multi(s, o, st, scratch);
    case COORD_OPTYPE_CLOSE:
    case LC_EXPIRE:
        return apply_end(s, o, st);
    default:
        return 1; /* sync */
    }
}

/* ---------- the search ---------- */

/* A session's answered ops, and its expiry (after them all: a session that answered
 * lived), form its chain. */
static int in_chain(const lc_op *o) {
    return o->known;
}

/* The earliest answer among unplaced answered ops: a write called after it must wait. */
static uint64_t min_ret(const srch *s) {
    uint64_t m = LC_NEVER;
    for (uint32_t c = 0; c < s->nclients; c++)
        if (s->head[c] < s->chain_len[c] && s->sufmin[s->chain_start[c] + s->head[c]] < m)
            m = s->sufmin[s->chain_start[c] + s->head[c]];
    for (size_t i = 0; i < s->nfree; i++) {
        const lc_op *o = op_at(s, s->freeops[i]);
        if (!s->done[s->freeops[i]] && o->known && o->ret < m)
            m = o->ret;
    }
    return m;
}

/* The candidate at cursor: an op position, or LC_NONE. */
static uint32_t candidate(const srch *s, uint32_t cursor) {
    if (cursor < s->nclients) {
        uint32_t c = cursor;
        return s->head[c] < s->chain_len[c] ? s->chain[s->chain_start[c] + s->head[c]] : LC_NONE;
    }
    uint32_t f = s->freeops[cursor - s->nclients];
    return s->done[f] ? LC_NONE : f;
}

/* An unanswered sequential create may have made any of its candidate nodes (none: it
 * cannot be placed); every other op has one way to take effect. */
static uint32_t alternatives(const srch *s, const lc_op *o) {
    if (!o->known && o->kind == COORD_OPTYPE_CREATE && (op_flags(s, o) & COORD_SEQUENTIAL))
        return (uint32_t)o->cand_count;
    return 1;
}

static void mark(srch *s, uint32_t pos, int placed) {
    s->done[pos] = (uint8_t)placed;
    const lc_op *o = op_at(s, pos);
    if (in_chain(o))
        s->head[s->client_of[pos]] += placed ? 1 : (uint32_t)-1;
}

/* Note what could not be placed at the deepest point reached. */
static void note_stuck(srch *s, size_t depth) {
    if (depth <= s->deepest && s->stuck_count)
        return;
    s->deepest = depth;
    s->stuck_count = 0;
    for (uint32_t c = 0; c < s->nclients && s->stuck_count < 4; c++)
        if (s->head[c] < s->chain_len[c])
            s->stuck[s->stuck_count++] = s->chain[s->chain_start[c] + s->head[c]];
}

/* The candidate state becomes the current one; the undo log keeps what it replaced. */
static int log_changes(srch *s) {
    for (uint32_t i = 0; i < s->k; i++) {
        if (memcmp(&s->cur[i], &s->next[i], sizeof(zn)) == 0)
            continue;
        if (ss_grow(&s->undo, &s->undo_cap, s->undo_count + 1, sizeof *s->undo) != 0)
            return -1;
        s->undo[s->undo_count++] = (undo){i, s->cur[i]};
    }
    zn *t = s->cur;
    s->cur = s->next, s->next = t;
    return 0;
}

/* Take back the op frame f placed. */
static void unlog(srch *s, const frame *f) {
    while (s->undo_count > f->undo_mark) {
        const undo *u = &s->undo[--s->undo_count];
        s->cur[u->at] = u->old;
    }
}

/* Try the frame's next candidate; 1 if it was placed (a new frame is up), 0 if none is
 * left, -1 on out of memory. */
static int advance(srch *s, size_t depth, uint64_t *steps, uint64_t hb[2]) {
    frame *f = &s->frames[depth];
    zn *cur = s->cur, *next = s->next, *scratch = s->scratch;
    for (; f->cursor < s->nclients + s->nfree; f->cursor++, f->alt = 0) {
        uint32_t pos = candidate(s, f->cursor);
        if (pos == LC_NONE)
            continue;
        const lc_op *o = op_at(s, pos);
        if (!o->read && f->min_ret < o->call)
            continue;
        while (f->alt < alternatives(s, o)) {
            uint32_t alt = f->alt++;
            ++*steps;
            memcpy(next, cur, s->k * sizeof *cur);
            if (!apply(s, o, alt, next, scratch))
                continue;
            uint64_t h1, h2;
            hash_state(next, s->k, &h1, &h2);
            int fresh =
                memo_insert(s, h1 ^ hb[0] ^ s->zob[2 * pos], h2 ^ hb[1] ^ s->zob[2 * pos + 1]);
            if (fresh < 0)
                return -1;
            if (!fresh)
                continue;
            f->placed = pos;
            f->undo_mark = s->undo_count;
            if (log_changes(s) != 0)
                return -1;
            hb[0] ^= s->zob[2 * pos], hb[1] ^= s->zob[2 * pos + 1];
            mark(s, pos, 1);
            s->frames[depth + 1] = (frame){0, 0, 0, min_ret(s), 0};
            return 1;
        }
    }
    return 0;
}

/* The depth-first search: 1 a linearization exists, 0 none, 2 out of steps, -1 OOM. */
static int dfs(srch *s, uint64_t *steps, uint64_t max_steps) {
    uint64_t hb[2] = {0, 0}, start = *steps;
    size_t depth = 0, must_placed = 0;
    s->frames[0] = (frame){0, 0, 0, min_ret(s), 0};
    for (;;) {
        if (must_placed == s->must_total)
            return 1;
        if (*steps - start > max_steps)
            return 2;
        int rc = advance(s, depth, steps, hb);
        if (rc < 0)
            return -1;
        if (rc > 0) {
            must_placed += op_at(s, s->frames[depth].placed)->known != 0;
            depth++;
            continue;
        }
        note_stuck(s, depth);
        if (depth == 0)
            return 0;
        depth--;
        uint32_t pos = s->frames[depth].placed;
        unlog(s, &s->frames[depth]);
        must_placed -= op_at(s, pos)->known != 0;
        hb[0] ^= s->zob[2 * pos], hb[1] ^= s->zob[2 * pos + 1];
        mark(s, pos, 0);
    }
}

/* ---------- setting up ---------- */

static void srch_free(srch *s) {
    free(s->loc), free(s->kid_start), free(s->kid_list);
    free(s->chain), free(s->chain_start), free(s->chain_len), free(s->head), free(s->client_of);
    free(s->sufmin), free(s->freeops), free(s->done), free(s->zob), free(s->cur), free(s->next),
        free(s->scratch), free(s->undo);
    free(s->frames), free(s->memo);
}

/* Each local node's local children, as lists (kid_start has k + 1 entries). */
static int build_kids(srch *s) {
    s->kid_start = calloc(s->k + 2, sizeof *s->kid_start);
    s->kid_list = calloc(s->k + 1, sizeof *s->kid_list);
    if (!s->kid_start || !s->kid_list)
        return -1;
    for (size_t i = 0; i < s->k; i++) {
        uint32_t p = L(s, s->c->parent[s->paths[i]]);
        if (p != LC_NONE)
            s->kid_start[p + 2]++;
    }
    for (size_t i = 0; i < s->k; i++)
        s->kid_start[i + 2] += s->kid_start[i + 1];
    for (size_t i = 0; i < s->k; i++) {
        uint32_t p = L(s, s->c->parent[s->paths[i]]);
        if (p != LC_NONE)
            s->kid_list[s->kid_start[p + 1]++] = (uint32_t)i;
    }
    return 0;
}

/* Dense client numbers, and each client's chain of answered ops in call order (the ops
 * come sorted by call). */
static int build_chains(srch *s) {
    uint32_t maxc = 0;
    for (size_t i = 0; i < s->n; i++)
        if (op_at(s, i)->client > maxc)
            maxc = op_at(s, i)->client;
    uint32_t *dense = malloc((maxc + 1) * sizeof *dense);
    s->client_of = calloc(s->n + 1, sizeof *s->client_of);
    s->chain = calloc(s->n + 1, sizeof *s->chain);
    s->freeops = calloc(s->n + 1, sizeof *s->freeops);
    s->sufmin = calloc(s->n + 1, sizeof *s->sufmin);
    s->chain_start = calloc(maxc + 2, sizeof *s->chain_start);
    s->chain_len = calloc(maxc + 2, sizeof *s->chain_len);
    s->head = calloc(maxc + 2, sizeof *s->head);
    if (!dense || !s->client_of || !s->chain || !s->freeops || !s->sufmin || !s->chain_start ||
        !s->chain_len || !s->head) {
        free(dense);
        return -1;
    }
    memset(dense, 0xff, (maxc + 1) * sizeof *dense);
    for (size_t i = 0; i < s->n; i++) {
        const lc_op *o = op_at(s, i);
        if (!in_chain(o)) {
            s->freeops[s->nfree++] = (uint32_t)i;
            continue;
        }
        if (dense[o->client] == LC_NONE)
            dense[o->client] = s->nclients++;
        s->client_of[i] = dense[o->client];
        s->chain_len[s->client_of[i]]++;
    }
    for (uint32_t c = 1; c < s->nclients; c++)
        s->chain_start[c] = s->chain_start[c - 1] + s->chain_len[c - 1];
    for (size_t i = 0; i < s->n; i++)
        if (in_chain(op_at(s, i)))
            s->chain[s->chain_start[s->client_of[i]] + s->head[s->client_of[i]]++] = (uint32_t)i;
    for (uint32_t c = 0; c < s->nclients; c++) {
        s->head[c] = 0;
        uint64_t m = LC_NEVER;
        for (uint32_t j = s->chain_len[c]; j-- > 0;) {
            uint64_t r = op_at(s, s->chain[s->chain_start[c] + j])->ret;
            m = r < m ? r : m;
            s->sufmin[s->chain_start[c] + j] = m;
        }
    }
    free(dense);
    return 0;
}

static int srch_init(srch *s) {
    s->loc = malloc(s->c->path_count * sizeof *s->loc);
    s->done = calloc(s->n + 1, 1);
    s->zob = malloc((2 * s->n + 2) * sizeof *s->zob);
    s->cur = calloc(s->k + 1, sizeof *s->cur);
    s->next = calloc(s->k + 1, sizeof *s->next);
    s->scratch = calloc(s->k + 1, sizeof *s->scratch);
    s->frames = calloc(s->n + 1, sizeof *s->frames);
    if (!s->loc || !s->done || !s->zob || !s->cur || !s->next || !s->scratch || !s->frames)
        return -1;
    memset(s->loc, 0xff, s->c->path_count * sizeof *s->loc);
    for (size_t i = 0; i < s->k; i++) {
        s->loc[s->paths[i]] = (uint32_t)i;
        s->cur[i] = (zn){strcmp(s->c->paths[s->paths[i]], "/") == 0, 0, 0, 0, -1};
    }
    for (size_t i = 0; i < 2 * s->n; i++)
        s->zob[i] = mix64(0x5bd1e995u + i * 0x9e3779b97f4a7c15ULL);
    for (size_t i = 0; i < s->n; i++)
        s->must_total += op_at(s, i)->known != 0;
    return build_kids(s) != 0 || build_chains(s) != 0 ? -1 : 0;
}

static void describe_violation(const srch *s, char *detail, size_t len) {
    size_t used = 0;
    int w = snprintf(detail, len, "%s", s->c->paths[s->paths[0]]);
    used = w > 0 ? (size_t)w : 0;
    for (size_t i = 1; i < s->k && i < 4 && used < len; i++) {
        w = snprintf(detail + used, len - used, ", %s", s->c->paths[s->paths[i]]);
        used += w > 0 ? (size_t)w : 0;
    }
    if (s->k > 4 && used < len) {
        w = snprintf(detail + used, len - used, " (+%zu paths)", s->k - 4);
        used += w > 0 ? (size_t)w : 0;
    }
    if (used < len) {
        w = snprintf(detail + used, len - used,
                     ": %zu ops, no order explains them; after %zu "
                     "placed none of these fits:",
                     s->n, s->deepest);
        used += w > 0 ? (size_t)w : 0;
    }
    for (size_t i = 0; i < s->stuck_count && used < len; i++) {
        char one[256];
        lc_describe(s->c, op_at(s, s->stuck[i]), one, sizeof one);
        w = snprintf(detail + used, len - used, "%s %s", i ? ";" : "", one);
        used += w > 0 ? (size_t)w : 0;
    }
}

int lc_search(const lc *c, const uint32_t *ops, size_t n, const uint32_t *paths, size_t k,
              uint64_t *steps, char *detail, size_t detail_len) {
    srch s = {.c = c, .ops = ops, .n = n, .k = k, .paths = paths};
    int rc = srch_init(&s) != 0 ? -1 : dfs(&s, steps, c->max_steps);
    if (rc == 0) {
        describe_violation(&s, detail, detail_len);
        rc = LINCHECK_VIOLATION;
    } else if (rc == 2) {
        snprintf(detail, detail_len, "%s (+%zu paths): %zu ops, still searching after %llu steps",
                 c->paths[paths[0]], k - 1, n, (unsigned long long)c->max_steps);
        rc = LINCHECK_UNKNOWN;
    } else if (rc == 1) {
        rc = LINCHECK_OK;
    }
    srch_free(&s);
    return rc;
}
