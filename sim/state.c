/* state.c -- keyed state by key group and its CRC32C-framed checkpoint blobs; see
 * state.h. */
#include <stdlib.h>
#include <string.h>

#include "core/assert.h"
#include "core/error.h"
#include "core/hash.h"
#include "sim/state.h"

#define NONE UINT32_MAX
#define ENTRY_BYTES 24
#define FRAME_OVERHEAD 12
#define GATHER_AHEAD 8 /* dense: a group walk prefetches the cell this many keys on */

static uint64_t mix(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    return x ^ (x >> 33);
}

int state_init(state_store *s, uint32_t groups) {
    memset(s, 0, sizeof *s);
    s->groups = groups;
    s->head = malloc(groups * sizeof *s->head);
    s->tail = malloc(groups * sizeof *s->tail);
    if (!s->head || !s->tail) {
        state_free(s);
        return SS_ENOMEM;
    }
    state_clear(s);
    return 0;
}

int state_init_dense(state_store *s, uint32_t groups, uint32_t space) {
    if (state_init(s, groups) != 0)
        return SS_ENOMEM;
    SS_ASSERT(groups < UINT32_MAX); /* a group + 1 fits */
    s->space = space;
    s->cells = calloc(space ? space : 1, sizeof *s->cells);
    s->members = calloc(groups ? groups : 1, sizeof *s->members);
    s->member_count = calloc(groups ? groups : 1, sizeof *s->member_count);
    s->member_cap = calloc(groups ? groups : 1, sizeof *s->member_cap);
    if (!s->cells || !s->members || !s->member_count || !s->member_cap) {
        state_free(s);
        return SS_ENOMEM;
    }
    return 0;
}

void state_free(state_store *s) {
    free(s->cells);
    for (uint32_t g = 0; s->members && g < s->groups; g++)
        free(s->members[g]);
    free(s->members);
    free(s->member_count);
    free(s->member_cap);
    free(s->entries);
    free(s->slots);
    free(s->head);
    free(s->tail);
    memset(s, 0, sizeof *s);
}

void state_clear(state_store *s) {
    s->count = 0;
    if (s->cells) {
        memset(s->cells, 0, (size_t)s->space * sizeof *s->cells);
        memset(s->member_count, 0, s->groups * sizeof *s->member_count);
    }
    if (s->slots)
        memset(s->slots, 0, s->slot_cap * sizeof *s->slots);
    for (uint32_t g = 0; g < s->groups; g++)
        s->head[g] = s->tail[g] = NONE;
}

/* A slot keeps the hash's high half as a tag, so a probe past other keys compares
 * tags without touching their entries. */
static uint64_t slot_of(uint64_t hash, uint32_t index) {
    return (hash & 0xFFFFFFFF00000000ULL) | (index + 1u);
}

static int rehash(state_store *s, uint32_t cap) {
    uint64_t *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return SS_ENOMEM;
    for (uint32_t i = 0; i < s->count; i++) {
        uint64_t hash = mix(s->entries[i].key);
        uint32_t h = (uint32_t)hash & (cap - 1);
        while (slots[h])
            h = (h + 1) & (cap - 1);
        slots[h] = slot_of(hash, i);
    }
    free(s->slots);
    s->slots = slots;
    s->slot_cap = cap;
    return 0;
}

int state_reserve(state_store *s, uint32_t n) {
    if (s->cells)
        return 0;
    if (n > s->cap) {
        state_entry *e = realloc(s->entries, (size_t)n * sizeof *e);
        if (!e)
            return SS_ENOMEM;
        s->entries = e;
        s->cap = n;
    }
    uint32_t cap = s->slot_cap ? s->slot_cap : 1024;
    while ((uint64_t)n * 4 > (uint64_t)cap * 3)
        cap *= 2;
    return cap > s->slot_cap ? rehash(s, cap) : 0;
}

const state_entry *state_find(const state_store *s, uint64_t key) {
    SS_ASSERT(!s->cells);
    if (!s->slot_cap)
        return NULL;
    uint64_t hash = mix(key), tag = hash & 0xFFFFFFFF00000000ULL;
    for (uint32_t h = (uint32_t)hash & (s->slot_cap - 1); s->slots[h];
         h = (h + 1) & (s->slot_cap - 1)) {
        uint64_t slot = s->slots[h];
        if ((slot & 0xFFFFFFFF00000000ULL) == tag && s->entries[(uint32_t)slot - 1].key == key)
            return &s->entries[(uint32_t)slot - 1];
    }
    return NULL;
}

/* Find or create key's entry; NULL on allocation failure. */
static state_entry *upsert(state_store *s, uint64_t key, uint32_t group) {
    if ((uint64_t)(s->count + 1) * 4 > (uint64_t)s->slot_cap * 3 &&
        rehash(s, s->slot_cap ? s->slot_cap * 2 : 1024) != 0)
        return NULL;
    uint64_t hash = mix(key), tag = hash & 0xFFFFFFFF00000000ULL;
    uint32_t h = (uint32_t)hash & (s->slot_cap - 1);
    for (; s->slots[h]; h = (h + 1) & (s->slot_cap - 1)) {
        uint64_t slot = s->slots[h];
        if ((slot & 0xFFFFFFFF00000000ULL) == tag && s->entries[(uint32_t)slot - 1].key == key)
            return &s->entries[(uint32_t)slot - 1];
    }
    if (s->count == s->cap) {
        uint32_t cap = s->cap ? s->cap * 2 : 1024;
        state_entry *e = realloc(s->entries, cap * sizeof *e);
        if (!e)
            return NULL;
        s->entries = e;
        s->cap = cap;
    }
    uint32_t i = s->count++;
    s->entries[i] = (state_entry){key, 0, 0, group, NONE};
    s->slots[h] = slot_of(hash, i);
    if (s->tail[group] == NONE)
        s->head[group] = i;
    else
        s->entries[s->tail[group]].next = i;
    s->tail[group] = i;
    return &s->entries[i];
}

/* Dense: key (no cell yet) joins the end of group g's keys. NULL on allocation
 * failure. */
static state_cell *dense_link(state_store *s, uint32_t key, uint32_t g) {
    if (s->member_count[g] == s->member_cap[g]) {
        uint32_t cap = s->member_cap[g] ? s->member_cap[g] * 2 : 16;
        uint32_t *m = realloc(s->members[g], (size_t)cap * sizeof *m);
        if (!m)
            return NULL;
        s->members[g] = m;
        s->member_cap[g] = cap;
    }
    s->members[g][s->member_count[g]++] = key;
    s->count++;
    s->cells[key].group_1 = g + 1;
    return &s->cells[key];
}

/* Dense: key's cell, created in group g if new; NULL on allocation failure. */
static state_cell *dense_upsert(state_store *s, uint64_t key, uint32_t g) {
    SS_ASSERT_HOT(key < s->space);
    state_cell *c = &s->cells[key];
    if (!c->group_1)
        return dense_link(s, (uint32_t)key, g);
    SS_ASSERT_HOT(c->group_1 == g + 1); /* a key stays in its key group */
    return c;
}

int state_add(state_store *s, uint64_t key, uint32_t group, int64_t value) {
    SS_ASSERT_HOT(group < s->groups);
    if (s->cells) {
        state_cell *c = dense_upsert(s, key, group);
        if (!c)
            return SS_ENOMEM;
        c->count++;
        c->sum += value;
        return 0;
    }
    state_entry *e = upsert(s, key, group);
    if (!e)
        return SS_ENOMEM;
    SS_ASSERT_HOT(e->group == group); /* a key stays in its key group */
    e->count++;
    e->sum += value;
    return 0;
}

int state_get(const state_store *s, uint64_t key, state_entry *out) {
    if (s->cells) {
        if (key >= s->space || !s->cells[key].group_1)
            return 0;
        const state_cell *c = &s->cells[key];
        *out = (state_entry){key, c->count, c->sum, c->group_1 - 1, NONE};
        return 1;
    }
    const state_entry *e = state_find(s, key);
    if (e)
        *out = *e;
    return e != NULL;
}

/* Sparse: a cursor is an entry index; dense: a position in the group's keys. */
uint32_t state_head(const state_store *s, uint32_t g) {
    if (!s->cells)
        return s->head[g];
    return s->member_count[g] ? 0 : STATE_END;
}

uint32_t state_next(const state_store *s, uint32_t g, uint32_t cursor) {
    if (!s->cells)
        return s->entries[cursor].next;
    return cursor + 1 < s->member_count[g] ? cursor + 1 : STATE_END;
}

state_entry state_at(const state_store *s, uint32_t g, uint32_t cursor) {
    if (!s->cells)
        return s->entries[cursor];
    if (cursor + GATHER_AHEAD < s->member_count[g]) /* a walk reads them next */
        __builtin_prefetch(&s->cells[s->members[g][cursor + GATHER_AHEAD]]);
    uint32_t key = s->members[g][cursor];
    const state_cell *c = &s->cells[key];
    return (state_entry){key, c->count, c->sum, g, NONE};
}

static void put32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(p, &v, sizeof v); /* one store */
#else
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
#endif
}

static uint32_t get32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p) {
    return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

int state_group_empty(const state_store *s, uint32_t g) {
    return state_head(s, g) == STATE_END;
}

/* Dense: group g's entries at p, in creation order, gathering their cells a few keys
 * ahead; returns the end. */
static uint8_t *put_dense_group(const state_store *s, uint32_t g, uint8_t *p) {
    const uint32_t *keys = s->members[g];
    uint32_t n = s->member_count[g];
    for (uint32_t i = 0; i < n; i++) {
        if (i + GATHER_AHEAD < n)
            __builtin_prefetch(&s->cells[keys[i + GATHER_AHEAD]]);
        const state_cell *c = &s->cells[keys[i]];
        put64(p, keys[i]);
        put64(p + 8, c->count);
        put64(p + 16, (uint64_t)c->sum);
        p += ENTRY_BYTES;
    }
    return p;
}

int state_snapshot(const state_store *s, const uint32_t *groups, uint32_t count, uint8_t **blob,
                   size_t *len) {
    size_t size = 0;
    for (uint32_t k = 0; k < count; k++) {
        if (state_group_empty(s, groups[k]))
            continue;
        size += FRAME_OVERHEAD;
        if (s->cells)
            size += (size_t)s->member_count[groups[k]] * ENTRY_BYTES;
        else
            for (uint32_t i = s->head[groups[k]]; i != NONE; i = s->entries[i].next)
                size += ENTRY_BYTES;
    }
    uint8_t *out = malloc(size ? size : 1), *p = out;
    if (!out)
        return SS_ENOMEM;
    for (uint32_t k = 0; k < count; k++) {
        uint32_t g = groups[k];
        if (state_group_empty(s, g))
            continue;
        uint8_t *frame = p;
        uint32_t n = 0;
        p += 8;
        if (s->cells) {
            p = put_dense_group(s, g, p);
            n = s->member_count[g];
        }
        for (uint32_t i = s->cells ? NONE : s->head[g]; i != NONE; i = s->entries[i].next, n++) {
            put64(p, s->entries[i].key);
            put64(p + 8, s->entries[i].count);
            put64(p + 16, (uint64_t)s->entries[i].sum);
            p += ENTRY_BYTES;
        }
        put32(frame, g);
        put32(frame + 4, n);
        put32(p, hash_crc32c(frame, (size_t)(p - frame)));
        p += 4;
    }
    SS_ASSERT((size_t)(p - out) == size); /* the frames fill what was counted */
    *blob = out;
    *len = size;
    return 0;
}

/* ---------- holdings ---------- */

int state_hold_init(state_holdings *h, uint32_t n) {
    h->n = n;
    h->groups = calloc(n ? n : 1, sizeof *h->groups);
    h->count = calloc(n ? n : 1, sizeof *h->count);
    if (h->groups && h->count)
        return 0;
    state_hold_free(h);
    return SS_ENOMEM;
}

void state_hold_free(state_holdings *h) {
    for (uint32_t i = 0; h->groups && i < h->n; i++)
        free(h->groups[i]);
    free(h->groups);
    free(h->count);
    memset(h, 0, sizeof *h);
}

/* Lists for n subtasks of the sizes in count[] (taken over on success), groups unset. */
static int hold_alloc(state_holdings *h, uint32_t n, uint32_t *count) {
    if (state_hold_init(h, n) != 0)
        return SS_ENOMEM;
    free(h->count);
    h->count = count;
    for (uint32_t i = 0; i < n; i++)
        if (!(h->groups[i] = malloc((count[i] ? count[i] : 1) * sizeof **h->groups))) {
            h->count = NULL; /* still the caller's */
            state_hold_free(h);
            return SS_ENOMEM;
        }
    return 0;
}

int state_hold_from_owners(state_holdings *h, const uint32_t *owner, uint32_t groups, uint32_t n) {
    state_holdings made;
    uint32_t *count = calloc(n ? n : 1, sizeof *count);
    if (!count)
        return SS_ENOMEM;
    for (uint32_t g = 0; g < groups; g++)
        count[owner[g]]++;
    if (hold_alloc(&made, n, count) != 0) {
        free(count);
        return SS_ENOMEM;
    }
    memset(count, 0, n * sizeof *count);
    for (uint32_t g = 0; g < groups; g++)
        made.groups[owner[g]][count[owner[g]]++] = g;
    state_hold_free(h);
    *h = made;
    return 0;
}

int state_hold_add(state_holdings *h, uint32_t i, uint32_t g) {
    uint32_t *list = realloc(h->groups[i], (h->count[i] + 1) * sizeof *list), k = h->count[i];
    if (!list)
        return SS_ENOMEM;
    for (; k > 0 && list[k - 1] > g; k--)
        list[k] = list[k - 1];
    list[k] = g;
    h->groups[i] = list;
    h->count[i]++;
    return 0;
}

/* The groups of old list `list` that do not leave subtask i, merged in ascending order
 * with the groups `in[0..n_in)` (ascending) that join it, into out; returns the count. */
static uint32_t merge_moves(uint32_t *out, const uint32_t *list, uint32_t n_list, uint32_t i,
                            const uint32_t *leaves, const uint32_t *in, uint32_t n_in) {
    uint32_t made = 0, a = 0, b = 0;
    while (a < n_list || b < n_in) {
        if (a < n_list && leaves[list[a]] == i) {
            a++; /* moves away */
        } else if (b == n_in || (a < n_list && list[a] < in[b])) {
            out[made++] = list[a++];
        } else {
            out[made++] = in[b++];
        }
    }
    return made;
}

int state_hold_move(state_holdings *h, const part_plan *plan, uint32_t groups, uint32_t n_new) {
    uint32_t *leaves = malloc((groups ? groups : 1) * sizeof *leaves); /* from, or NONE */
    uint32_t *start = calloc((size_t)n_new + 1, sizeof *start);
    uint32_t *in = malloc((plan->count ? plan->count : 1) * sizeof *in);
    uint32_t *count = calloc(n_new ? n_new : 1, sizeof *count);
    state_holdings made;
    int rc = leaves && start && in && count ? 0 : SS_ENOMEM;
    for (uint32_t g = 0; rc == 0 && g < groups; g++)
        leaves[g] = NONE;
    for (uint32_t k = 0; rc == 0 && k < plan->count; k++) {
        leaves[plan->moves[k].group] = plan->moves[k].from;
        start[plan->moves[k].to + 1]++; /* a move to a subtask past n_new is a bug: dropped */
    }
    for (uint32_t i = 0; rc == 0 && i < n_new; i++) {
        count[i] = start[i + 1] + (i < h->n ? h->count[i] : 0); /* at most */
        start[i + 1] += start[i];
    }
    if (rc == 0 && (rc = hold_alloc(&made, n_new, count)) == 0) {
        count = NULL; /* the holdings own it */
        uint32_t *fill = calloc(n_new ? n_new : 1, sizeof *fill);
        if (!fill) {
            state_hold_free(&made);
            rc = SS_ENOMEM;
        }
        for (uint32_t k = 0; fill && k < plan->count; k++) /* by subtask, ascending groups */
            if (plan->moves[k].to < n_new) {
                uint32_t to = plan->moves[k].to;
                in[start[to] + fill[to]++] = plan->moves[k].group;
            }
        for (uint32_t i = 0; fill && i < n_new; i++)
            made.count[i] =
                merge_moves(made.groups[i], i < h->n ? h->groups[i] : NULL,
                            i < h->n ? h->count[i] : 0, i, leaves, in + start[i], fill[i]);
        free(fill);
    }
    if (rc == 0) {
        state_hold_free(h);
        *h = made;
    }
    free(leaves);
    free(start);
    free(in);
    free(count);
    return rc;
}

int state_hold_check(const state_holdings *h, const uint32_t *owner, uint32_t groups, uint32_t *bad,
                     uint32_t *holders, uint32_t first[2]) {
    uint32_t *seen = calloc(groups ? groups : 1, sizeof *seen);
    uint8_t *wrong = calloc(groups ? groups : 1, 1);
    if (!seen || !wrong) {
        free(seen);
        free(wrong);
        return -1;
    }
    for (uint32_t i = 0; i < h->n; i++)
        for (uint32_t k = 0; k < h->count[i]; k++) {
            uint32_t g = h->groups[i][k];
            seen[g]++;
            wrong[g] |= owner && owner[g] != i;
        }
    int ok = 1;
    for (uint32_t g = 0; ok && g < groups; g++)
        if (seen[g] != 1 || wrong[g]) {
            ok = 0;
            *bad = g;
            *holders = seen[g];
        }
    if (!ok) { /* who holds it */
        first[0] = first[1] = UINT32_MAX;
        for (uint32_t i = 0, found = 0; i < h->n && found < 2; i++)
            for (uint32_t k = 0; k < h->count[i] && found < 2; k++)
                if (h->groups[i][k] == *bad)
                    first[found++] = i;
    }
    free(seen);
    free(wrong);
    return ok;
}

#if SS_HOT_ASSERTS_ON
/* Every entry is on its key group's list exactly once: the lists hold count entries, each
 * in the group it names. O(count): for hot-assert builds, after a restore. */
static inline int lists_consistent(const state_store *s) {
    uint64_t listed = 0;
    for (uint32_t g = 0; g < s->groups; g++)
        for (uint32_t i = state_head(s, g); i != NONE && listed <= s->count;
             i = state_next(s, g, i)) {
            if (s->cells ? s->cells[s->members[g][i]].group_1 != g + 1 : s->entries[i].group != g)
                return 0;
            listed++;
        }
    return listed == s->count;
}
#endif

/* One blob entry (key, count, sum) of group g into a sparse store. 0 or SS_ENOMEM. */
static int restore_sparse(state_store *s, const uint8_t *e, uint32_t g) {
    state_entry *x = upsert(s, get64(e), g);
    if (!x)
        return SS_ENOMEM;
    SS_ASSERT_HOT(x->group == g); /* every key in its key group */
    x->count = get64(e + 8);
    x->sum = (int64_t)get64(e + 16);
    return 0;
}

/* The same into a dense store: a key past space or a count past 32 bits is a
 * malformed blob. 0, SS_EPARSE or SS_ENOMEM. */
static int restore_dense(state_store *s, const uint8_t *e, uint32_t g) {
    uint64_t key = get64(e), count = get64(e + 8);
    if (key >= s->space || count > UINT32_MAX)
        return SS_EPARSE;
    state_cell *c = dense_upsert(s, key, g);
    if (!c)
        return SS_ENOMEM;
    c->count = (uint32_t)count;
    c->sum = (int64_t)get64(e + 16);
    return 0;
}

/* The frames of canonical bytes blob[0..len) into s, counting the entries read into
 * *read. 0, SS_EPARSE or SS_ENOMEM. */
static int restore_frames(state_store *s, const uint8_t *blob, size_t len, uint64_t *read) {
    size_t at = 0;
    while (at < len) {
        if (len - at < FRAME_OVERHEAD)
            return SS_EPARSE;
        uint32_t g = get32(blob + at), n = get32(blob + at + 4);
        size_t body = (size_t)n * ENTRY_BYTES;
        if (g >= s->groups || body > len - at - FRAME_OVERHEAD)
            return SS_EPARSE;
        if (hash_crc32c(blob + at, 8 + body) != get32(blob + at + 8 + body))
            return SS_EPARSE;
        for (uint32_t k = 0; k < n; k++) {
            const uint8_t *e = blob + at + 8 + (size_t)k * ENTRY_BYTES;
            int rc = s->cells ? restore_dense(s, e, g) : restore_sparse(s, e, g);
            if (rc != 0)
                return rc;
        }
        at += FRAME_OVERHEAD + body;
        *read += n;
    }
    return 0;
}

/* After a restore that read `read` entries into a store of `before` entries. */
static void restore_checked(const state_store *s, uint64_t before, uint64_t read) {
    /* entry counts match: each entry read is new or an update of one already there */
    SS_ASSERT(s->count >= before && s->count - before <= read);
#if SS_HOT_ASSERTS_ON
    SS_ASSERT_HOT(lists_consistent(s));
#endif
    (void)read;
}

int state_restore(state_store *s, const uint8_t *blob, size_t len) {
    uint64_t before = s->count, read = 0;
    int rc = restore_frames(s, blob, len, &read);
    if (rc == 0)
        restore_checked(s, before, read);
    return rc;
}

/* ---------- compact blobs ---------- */

#define PACK_CHUNK_ENTRIES 170 /* canonical entries hashed at a time while encoding */
#define VARINT_MAX 10
#define FRAME_BOUND (2 * VARINT_MAX + 4) /* compact bytes of a frame's header, at most */
#define ENTRY_BOUND (3 * VARINT_MAX)     /* and of an entry */

static uint64_t zigzag(uint64_t v) {
    return (v << 1) ^ (uint64_t)((int64_t)v >> 63);
}

static uint64_t unzigzag(uint64_t v) {
    return (v >> 1) ^ (uint64_t) - (int64_t)(v & 1);
}

static inline uint8_t *put_varint(uint8_t *p, uint64_t v) {
    if (v < 0x80) { /* the common case of a count */
        *p = (uint8_t)v;
        return p + 1;
    }
    for (; v >= 0x80; v >>= 7)
        *p++ = (uint8_t)(v | 0x80);
    *p++ = (uint8_t)v;
    return p;
}

/* The varint at *p (before end) into *v, advancing *p; 0, or -1 if malformed. */
static int get_varint(const uint8_t **p, const uint8_t *end, uint64_t *v) {
    *v = 0;
    for (int shift = 0; *p < end && shift < 64; shift += 7) {
        uint8_t b = *(*p)++;
        *v |= (uint64_t)(b & 0x7F) << shift;
        if (!(b & 0x80))
            return 0;
    }
    return -1;
}

/* One frame being encoded: its canonical entries are hashed a chunk at a time. */
typedef struct packer {
    uint8_t *out;      /* next compact byte */
    uint64_t prev_key; /* the frame's previous key */
    uint32_t crc;      /* of the frame's canonical bytes hashed so far */
    uint32_t fill;     /* canonical bytes in chunk */
    uint8_t chunk[PACK_CHUNK_ENTRIES * ENTRY_BYTES];
} packer;

static void pack_flush(packer *k) {
    k->crc = hash_crc32c_update(k->crc, k->chunk, k->fill);
    k->fill = 0;
}

__attribute__((always_inline)) static inline void pack_entry(packer *k, uint64_t key,
                                                             uint64_t count, int64_t sum) {
    if (k->fill + ENTRY_BYTES > sizeof k->chunk)
        pack_flush(k);
    uint8_t *e = k->chunk + k->fill;
    put64(e, key);
    put64(e + 8, count);
    put64(e + 16, (uint64_t)sum);
    k->fill += ENTRY_BYTES;
    k->out = put_varint(k->out, zigzag(key - k->prev_key));
    k->out = put_varint(k->out, count);
    k->out = put_varint(k->out, zigzag((uint64_t)sum));
    k->prev_key = key;
}

/* Group g's frame (n entries, n > 0) at k->out. */
static void pack_group(const state_store *s, uint32_t g, uint32_t n, packer *k) {
    k->out = put_varint(k->out, g);
    k->out = put_varint(k->out, n);
    uint8_t *crc_at = k->out;
    k->out += 4;
    put32(k->chunk, g);
    put32(k->chunk + 4, n);
    k->fill = 8;
    k->crc = 0;
    k->prev_key = 0;
    if (s->cells) {
        const uint32_t *keys = s->members[g];
        for (uint32_t i = 0; i < n; i++) {
            if (i + GATHER_AHEAD < n)
                __builtin_prefetch(&s->cells[keys[i + GATHER_AHEAD]]);
            const state_cell *c = &s->cells[keys[i]];
            pack_entry(k, keys[i], c->count, c->sum);
        }
    }
    for (uint32_t i = s->cells ? NONE : s->head[g]; i != NONE; i = s->entries[i].next)
        pack_entry(k, s->entries[i].key, s->entries[i].count, s->entries[i].sum);
    pack_flush(k);
    put32(crc_at, k->crc);
}

/* The entries of group g (either layout). */
static uint32_t group_entries(const state_store *s, uint32_t g) {
    if (s->cells)
        return s->member_count[g];
    uint32_t n = 0;
    for (uint32_t i = s->head[g]; i != NONE; i = s->entries[i].next)
        n++;
    return n;
}

/* Room at data[used..) for `more` bytes, growing *data (capacity *cap) at least
 * twofold. 0 or SS_ENOMEM (data unchanged). */
static int pack_room(uint8_t **data, size_t *cap, size_t used, size_t more) {
    if (*cap - used >= more)
        return 0;
    size_t want = *cap * 2 > used + more ? *cap * 2 : used + more;
    uint8_t *d = realloc(*data, want);
    if (!d)
        return SS_ENOMEM;
    *data = d;
    *cap = want;
    return 0;
}

int state_snapshot_blob(const state_store *s, const uint32_t *groups, uint32_t count,
                        state_blob *out) {
    size_t len = 0;
    for (uint32_t k = 0; k < count; k++) {
        uint32_t n = group_entries(s, groups[k]);
        len += n ? FRAME_OVERHEAD + (size_t)n * ENTRY_BYTES : 0;
    }
    memset(out, 0, sizeof *out);
    out->len = len;
    if (!len)
        return 0;
    /* a guess of a third of the canonical size (small counts and sums), grown per frame
     * as needed: writing into a worst-case buffer would touch fresh pages */
    size_t cap = len / 3, used = 0;
    packer *k = malloc(sizeof *k);
    uint8_t *data = malloc(cap);
    int rc = k && data ? 0 : SS_ENOMEM;
    for (uint32_t i = 0; rc == 0 && i < count; i++) {
        uint32_t n = group_entries(s, groups[i]);
        if (n && (rc = pack_room(&data, &cap, used, FRAME_BOUND + (size_t)n * ENTRY_BOUND)) == 0) {
            k->out = data + used;
            pack_group(s, groups[i], n, k);
            used = (size_t)(k->out - data);
        }
    }
    free(k);
    uint8_t *fit = rc == 0 ? realloc(data, used) : NULL; /* shrinking: data kept on failure */
    if (rc != 0) {
        free(data);
        return rc;
    }
    out->data = fit ? fit : data;
    out->data_len = used;
    return 0;
}

void state_blob_free(state_blob *b) {
    free(b->data);
    memset(b, 0, sizeof *b);
}

/* Regenerates canonical frames from a compact blob into a buffer it grows. */
typedef struct unpacker {
    const uint8_t *p, *end;
    uint8_t *buf;
    size_t cap;
} unpacker;

/* The next frame's canonical bytes into u->buf, their length into *len. 0, SS_EPARSE
 * or SS_ENOMEM. */
static int unpack_frame(unpacker *u, size_t *len) {
    uint64_t g, n, v[3], key = 0;
    if (get_varint(&u->p, u->end, &g) || get_varint(&u->p, u->end, &n) || g > UINT32_MAX ||
        n > UINT32_MAX || u->end - u->p < 4 || (size_t)(u->end - u->p) / 3 < n)
        return SS_EPARSE;
    size_t need = FRAME_OVERHEAD + (size_t)n * ENTRY_BYTES;
    if (need > u->cap) {
        uint8_t *b = realloc(u->buf, need);
        if (!b)
            return SS_ENOMEM;
        u->buf = b;
        u->cap = need;
    }
    put32(u->buf, (uint32_t)g);
    put32(u->buf + 4, (uint32_t)n);
    uint32_t crc = get32(u->p);
    u->p += 4;
    uint8_t *e = u->buf + 8;
    for (uint64_t i = 0; i < n; i++, e += ENTRY_BYTES) {
        for (int f = 0; f < 3; f++)
            if (get_varint(&u->p, u->end, &v[f]))
                return SS_EPARSE;
        key += unzigzag(v[0]);
        put64(e, key);
        put64(e + 8, v[1]);
        put64(e + 16, unzigzag(v[2]));
    }
    put32(e, crc);
    *len = need;
    return 0;
}

/* Calls each(ctx, bytes, len) on b's canonical bytes in order, in one or more pieces
 * (a compact blob: frame by frame); stops at the first nonzero return and returns it. */
static int blob_walk(const state_blob *b, int (*each)(void *, const uint8_t *, size_t), void *ctx) {
    if (b->raw || !b->len)
        return b->len ? each(ctx, b->data, b->len) : 0;
    unpacker u = {b->data, b->data + b->data_len, NULL, 0};
    int rc = 0;
    size_t len = 0, total = 0;
    while (rc == 0 && u.p < u.end)
        if ((rc = unpack_frame(&u, &len)) == 0) {
            rc = each(ctx, u.buf, len);
            total += len;
        }
    free(u.buf);
    return rc == 0 && total != b->len ? SS_EPARSE : rc;
}

static int copy_piece(void *ctx, const uint8_t *bytes, size_t len) {
    uint8_t **at = ctx;
    memcpy(*at, bytes, len);
    *at += len;
    return 0;
}

int state_blob_bytes(const state_blob *b, uint8_t **bytes) {
    uint8_t *out = malloc(b->len ? b->len : 1), *at = out;
    if (!out)
        return SS_ENOMEM;
    int rc = blob_walk(b, copy_piece, &at);
    if (rc != 0) {
        free(out);
        return rc;
    }
    *bytes = out;
    return 0;
}

int state_blob_flip(state_blob *b, size_t at, uint8_t mask) {
    SS_ASSERT(at < b->len);
    if (!b->raw) {
        uint8_t *bytes;
        int rc = state_blob_bytes(b, &bytes);
        if (rc != 0)
            return rc;
        free(b->data);
        b->data = bytes;
        b->data_len = b->len;
        b->raw = 1;
    }
    b->data[at] ^= mask;
    return 0;
}

static int crc_piece(void *ctx, const uint8_t *bytes, size_t len) {
    uint32_t *crc = ctx;
    *crc = hash_crc32c_update(*crc, bytes, len);
    return 0;
}

int state_blobs_crc(const state_blob *blobs, uint32_t n, uint32_t *crc) {
    *crc = 0;
    for (uint32_t i = 0; i < n; i++) {
        int rc = blob_walk(&blobs[i], crc_piece, crc);
        if (rc != 0)
            return rc;
    }
    return 0;
}

typedef struct restore_ctx {
    state_store *s;
    uint64_t read;
} restore_ctx;

static int restore_piece(void *ctx, const uint8_t *bytes, size_t len) {
    restore_ctx *r = ctx;
    return restore_frames(r->s, bytes, len, &r->read);
}

int state_restore_blob(state_store *s, const state_blob *b) {
    restore_ctx r = {s, 0};
    uint64_t before = s->count;
    int rc = blob_walk(b, restore_piece, &r);
    if (rc == 0)
        restore_checked(s, before, r.read);
    return rc;
}
