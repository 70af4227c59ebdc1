/* state.h -- keyed state partitioned by key group: per-key (count, sum) entries in a
 * hash table, threaded into one list per key group, so a subtask's state is the lists
 * of the groups it owns and a checkpoint serialises it group by group. Hashing and
 * iteration depend only on the keys and their insertion order, never on addresses.
 *
 * Checkpoint blobs: one frame per non-empty group, in ascending group order:
 *   u32 group | u32 entries | entries x (u64 key, u64 count, i64 sum) | u32 crc32c
 * little-endian, the CRC32C over the frame's bytes before it.
 *
 * Holdings: which subtask's state holds which key groups -- per subtask its groups in
 * ascending order, as Flink's keyed state backends each hold a key-group range. The
 * entries stay in one table; a group moves between subtasks by leaving one list and
 * joining another, and a subtask's snapshot serialises the groups of its list. A
 * group held by no running subtask, or by two, is what the key-group checks catch.
 *
 * Two layouts behind one interface. Sparse (state_init): any 64-bit keys, an
 * open-addressing table of slots pointing into an entry array -- two dependent cache
 * misses per update. Dense (state_init_dense): keys are ids below a known `space` and
 * key k's cell is cells[k], 16 bytes, one cache miss per update; a group's keys are
 * an array (a snapshot reads them in sequence and gathers their cells, no pointer
 * chase). Both keep each group's entries in the order they were created (since the last
 * restore), so snapshots are byte-identical whichever layout holds the state. */
#ifndef SHARDSIM_SIM_STATE_H
#define SHARDSIM_SIM_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "core/partition.h"

typedef struct state_entry {
    uint64_t key;
    uint64_t count;
    int64_t sum;
    uint32_t group;
    uint32_t next; /* next entry of the same group, or UINT32_MAX */
} state_entry;

/* A dense cell: key k's count and sum, and its group. */
typedef struct state_cell {
    int64_t sum;
    uint32_t count;
    uint32_t group_1; /* 0: no entry; else its key group + 1 */
} state_cell;

#define STATE_END UINT32_MAX /* end of a group's list (a cursor) */

typedef struct state_store {
    state_entry *entries; /* sparse: in creation order */
    uint32_t count, cap;
    uint64_t *slots; /* (hash tag << 32) | (entry index + 1); 0 = empty */
    uint32_t slot_cap;
    uint32_t *head, *tail; /* sparse, per group: first and last entry index */
    uint32_t groups;
    state_cell *cells; /* dense: space cells; NULL = sparse */
    uint32_t space;
    uint32_t **members; /* dense, per group: its keys in creation order */
    uint32_t *member_count, *member_cap;
} state_store;

int state_init(state_store *s, uint32_t groups);
/* Dense layout for keys below space, counts below 2^32 (the caller's promise: fewer
 * records than that), groups below 2^32 - 1. 0 or SS_ENOMEM (then nothing to free). */
int state_init_dense(state_store *s, uint32_t groups, uint32_t space);
void state_free(state_store *s);
void state_clear(state_store *s);

/* Make room for n entries at once (fewer rehashes; dense: nothing to do). 0 or
 * SS_ENOMEM. */
int state_reserve(state_store *s, uint32_t n);

/* Add one record's value to key's state, creating it in `group` (dense: key below
 * space). 0 or SS_ENOMEM. */
int state_add(state_store *s, uint64_t key, uint32_t group, int64_t value);

/* Sparse only: the entry of key, or NULL. */
const state_entry *state_find(const state_store *s, uint64_t key);

/* Key's state into *out (its group: UINT32_MAX in a dense store); 1 if it has one,
 * else 0. Either layout. */
int state_get(const state_store *s, uint64_t key, state_entry *out);

/* Group g's entries in creation order: a cursor from state_head, state_next until
 * STATE_END; state_at reads the entry under it (group = g). */
uint32_t state_head(const state_store *s, uint32_t g);
uint32_t state_next(const state_store *s, uint32_t g, uint32_t cursor);
state_entry state_at(const state_store *s, uint32_t g, uint32_t cursor);

/* The key group of key when a dense store has it, else UINT32_MAX. */
static inline uint32_t state_group_of(const state_store *s, uint64_t key) {
    return s->cells ? s->cells[key].group_1 - 1 : UINT32_MAX;
}

/* Software prefetch of key's cell in a dense store (a hint; no effect otherwise). */
static inline void state_prefetch(const state_store *s, uint64_t key) {
    if (s->cells)
        __builtin_prefetch(&s->cells[key], 1);
}

/* Serialise the groups[0..count) (ascending) into a malloc'd blob; empty groups
 * write no frame. 0 or SS_ENOMEM. The canonical bytes written out in full: the
 * simulator holds state_snapshot_blob's compact form, which regenerates them. */
int state_snapshot(const state_store *s, const uint32_t *groups, uint32_t count, uint8_t **blob,
                   size_t *len);

/* A checkpoint blob as held in memory: the canonical bytes above (what is written,
 * restored and CRC'd) in a compact encoding that regenerates them exactly. Per frame:
 * varint group, varint entries, the frame's CRC32C (u32), then per entry the key as a
 * zigzag varint delta from the previous key of the frame (0 before the first), the
 * count as a varint and the sum as a zigzag varint -- about 6 bytes an entry instead
 * of 24. len is the canonical length (what snapshot and restore time are charged
 * for). raw: data holds the canonical bytes verbatim (after state_blob_flip). */
typedef struct state_blob {
    uint8_t *data;   /* malloc'd; NULL when len == 0 */
    size_t data_len; /* bytes at data */
    size_t len;      /* canonical bytes */
    int raw;
} state_blob;

/* state_snapshot's blob, held compact in *out (which it overwrites: free it first).
 * The CRC32C of each frame is computed over its canonical bytes as they are encoded;
 * nothing of the canonical size is allocated. 0 or SS_ENOMEM. */
int state_snapshot_blob(const state_store *s, const uint32_t *groups, uint32_t count,
                        state_blob *out);

void state_blob_free(state_blob *b);

/* The canonical bytes of b into a malloc'd buffer of b->len bytes. 0, SS_ENOMEM or
 * SS_EPARSE (a malformed encoding). */
int state_blob_bytes(const state_blob *b, uint8_t **bytes);

/* Flip the bits `mask` of canonical byte at (< b->len): b becomes raw, so a restore
 * sees exactly the corrupted bytes (a test switch). 0, SS_ENOMEM or SS_EPARSE. */
int state_blob_flip(state_blob *b, size_t at, uint8_t mask);

/* The CRC32C of the canonical bytes of blobs[0..n) one after the other into *crc.
 * 0, SS_ENOMEM or SS_EPARSE. */
int state_blobs_crc(const state_blob *blobs, uint32_t n, uint32_t *crc);

/* state_restore of b's canonical bytes, frame by frame (no copy of the whole blob):
 * the same result and the same return code. */
int state_restore_blob(state_store *s, const state_blob *b);

/* 1 if key group g has no entries. */
int state_group_empty(const state_store *s, uint32_t g);

typedef struct state_holdings {
    uint32_t n;        /* subtasks */
    uint32_t **groups; /* per subtask: its key groups, ascending (malloc'd) */
    uint32_t *count;   /* per subtask */
} state_holdings;

/* n subtasks holding nothing. 0 or SS_ENOMEM (then nothing to free). */
int state_hold_init(state_holdings *h, uint32_t n);
void state_hold_free(state_holdings *h);

/* Replace h with the holdings of an owner table: subtask owner[g] holds group g, for
 * g < groups, n subtasks. 0 or SS_ENOMEM (h unchanged). */
int state_hold_from_owners(state_holdings *h, const uint32_t *owner, uint32_t groups, uint32_t n);

/* Give group g to subtask i as well (kept ascending). 0 or SS_ENOMEM. */
int state_hold_add(state_holdings *h, uint32_t i, uint32_t g);

/* Apply a rescale plan to n_new subtasks: each move's group leaves its `from`
 * subtask's list and joins its `to`'s; a subtask past n_new keeps whatever the plan
 * leaves it (the check finds it). 0 or SS_ENOMEM (h unchanged). */
int state_hold_move(state_holdings *h, const part_plan *plan, uint32_t groups, uint32_t n_new);

/* Check that every group below `groups` is held exactly once among the subtasks
 * (and, with an owner table, by owner[g]). 1 if so; else 0 with the first group that
 * is not in *bad, how many hold it in *holders and the first two holders in
 * first[0..1] (UINT32_MAX: none). -1 on allocation failure. O(groups + n). */
int state_hold_check(const state_holdings *h, const uint32_t *owner, uint32_t groups, uint32_t *bad,
                     uint32_t *holders, uint32_t first[2]);

/* Load a blob's entries (after clearing nothing: call state_clear first). Returns 0,
 * SS_EPARSE on a CRC mismatch or a malformed frame, or SS_ENOMEM. */
int state_restore(state_store *s, const uint8_t *blob, size_t len);

#endif
