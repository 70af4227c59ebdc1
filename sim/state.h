/* state.h -- keyed state partitioned by key group: per-key (count, sum) entries in a
 * hash table, threaded into one list per key group, so a subtask's state is the lists
 * of the groups it owns and a checkpoint serialises it group by group. Hashing and
 * iteration depend only on the keys and their insertion order, never on addresses.
 *
 * Checkpoint blobs: one frame per non-empty group, in ascending group order:
 *   u32 group | u32 entries | entries x (u64 key, u64 count, i64 sum) | u32 crc32c
 * little-endian, the CRC32C over the frame's bytes before it. */
#ifndef SHARDSIM_SIM_STATE_H
#define SHARDSIM_SIM_STATE_H

#include <stddef.h>
#include <stdint.h>

typedef struct state_entry {
    uint64_t key;
    uint64_t count;
    int64_t sum;
    uint32_t group;
    uint32_t next; /* next entry of the same group, or UINT32_MAX */
} state_entry;

typedef struct state_store {
    state_entry *entries;
    uint32_t count, cap;
    uint64_t *slots; /* (hash tag << 32) | (entry index + 1); 0 = empty */
    uint32_t slot_cap;
    uint32_t *head, *tail; /* per group */
    uint32_t groups;
} state_store;

int state_init(state_store *s, uint32_t groups);
void state_free(state_store *s);
void state_clear(state_store *s);

/* Make room for n entries at once (fewer rehashes). 0 or SS_ENOMEM. */
int state_reserve(state_store *s, uint32_t n);

/* Add one record's value to key's state, creating it in `group`. 0 or SS_ENOMEM. */
int state_add(state_store *s, uint64_t key, uint32_t group, int64_t value);

/* The entry of key, or NULL. */
const state_entry *state_find(const state_store *s, uint64_t key);

/* Serialise the groups g with owner[g] == subtask into a malloc'd blob. */
int state_snapshot(const state_store *s, const uint32_t *owner, uint32_t subtask, uint8_t **blob,
                   size_t *len);

/* Load a blob's entries (after clearing nothing: call state_clear first). Returns 0,
 * SS_EPARSE on a CRC mismatch or a malformed frame, or SS_ENOMEM. */
int state_restore(state_store *s, const uint8_t *blob, size_t len);

#endif
