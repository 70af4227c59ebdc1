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

void state_free(state_store *s) {
    free(s->entries);
    free(s->slots);
    free(s->head);
    free(s->tail);
    memset(s, 0, sizeof *s);
}

void state_clear(state_store *s) {
    s->count = 0;
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

int state_add(state_store *s, uint64_t key, uint32_t group, int64_t value) {
    SS_ASSERT_HOT(group < s->groups);
    state_entry *e = upsert(s, key, group);
    if (!e)
        return SS_ENOMEM;
    SS_ASSERT_HOT(e->group == group); /* a key stays in its key group */
    e->count++;
    e->sum += value;
    return 0;
}

static void put32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p) {
    return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

int state_snapshot(const state_store *s, const uint32_t *owner, uint32_t subtask, uint8_t **blob,
                   size_t *len) {
    size_t size = 0;
    for (uint32_t g = 0; g < s->groups; g++) {
        if (owner[g] != subtask || s->head[g] == NONE)
            continue;
        size += FRAME_OVERHEAD;
        for (uint32_t i = s->head[g]; i != NONE; i = s->entries[i].next)
            size += ENTRY_BYTES;
    }
    uint8_t *out = malloc(size ? size : 1), *p = out;
    if (!out)
        return SS_ENOMEM;
    for (uint32_t g = 0; g < s->groups; g++) {
        if (owner[g] != subtask || s->head[g] == NONE)
            continue;
        uint8_t *frame = p;
        uint32_t n = 0;
        p += 8;
        for (uint32_t i = s->head[g]; i != NONE; i = s->entries[i].next, n++) {
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

#if SS_HOT_ASSERTS_ON
/* Every entry is on its key group's list exactly once: the lists hold count entries, each
 * in the group it names. O(count): for hot-assert builds, after a restore. */
static inline int lists_consistent(const state_store *s) {
    uint64_t listed = 0;
    for (uint32_t g = 0; g < s->groups; g++)
        for (uint32_t i = s->head[g]; i != NONE && listed <= s->count; i = s->entries[i].next) {
            if (s->entries[i].group != g)
                return 0;
            listed++;
        }
    return listed == s->count;
}
#endif

int state_restore(state_store *s, const uint8_t *blob, size_t len) {
    size_t at = 0;
    uint64_t before = s->count, read = 0;
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
            state_entry *x = upsert(s, get64(e), g);
            if (!x)
                return SS_ENOMEM;
            SS_ASSERT_HOT(x->group == g); /* every key in its key group */
            x->count = get64(e + 8);
            x->sum = (int64_t)get64(e + 16);
        }
        at += FRAME_OVERHEAD + body;
        read += n;
    }
    /* entry counts match: each entry read is new or an update of one already there */
    SS_ASSERT(s->count >= before && s->count - before <= read);
#if SS_HOT_ASSERTS_ON
    SS_ASSERT_HOT(lists_consistent(s));
#endif
    return 0;
}
