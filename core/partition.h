/* partition.h -- key -> key group -> subtask, and rescaling N -> N'.
 *
 * Every partitioner is two steps. A key is hashed to one of `groups` key groups
 * (Flink's key groups, the design text's slots, a Maglev table's entries); each key
 * group is owned by one of `parallelism` subtasks through a table computed once when
 * the partitioner is made. Routing a key is therefore one hash plus one table look-up
 * for every scheme, and costly schemes (jump, ring, rendezvous, bounded) pay their
 * cost per key group, not per key. Keyed state moves between subtasks a whole key
 * group at a time, so a rescale plan is a list of key groups that change owner.
 *
 * Schemes (part_scheme_by_name):
 *   modulo      group = H(key) mod P, subtask = group mod N (the design text's scheme;
 *               H is CRC32C by default or MurmurHash3 x86_32 seed 0)
 *   flink       group = flinkMurmur(javaHashCode(key)) mod P, subtask = group*N/P:
 *               Flink's KeyGroupRangeAssignment, contiguous key-group ranges
 *   jump        group = H(key) mod P, owner = JumpConsistentHash(mix(group), N)
 *   ring        consistent-hash ring with `vnodes` points per subtask; a group goes
 *               to the first point clockwise of mix(group)
 *   rendezvous  highest random weight: the subtask maximising mix(group, subtask)
 *   maglev      Eisenbud et al. 2016 lookup table; P is a prime >= 100*N and a group
 *               is a table entry
 *   bounded     consistent hashing with bounded loads (Mirrokni, Thorup,
 *               Zadimoghaddam): groups are placed in group order on the ring, each on
 *               the first subtask clockwise whose load plus the group's weight stays
 *               within ceil(c * W / N), W the total weight (weights default to 1 per
 *               group; part_config.group_weights sets them, e.g. keys per group)
 *
 * Ownership: part_create allocates the partitioner; part_free releases it. Tables
 * returned by accessors belong to the partitioner. */
#ifndef SHARDSIM_CORE_PARTITION_H
#define SHARDSIM_CORE_PARTITION_H

#include <stddef.h>
#include <stdint.h>

typedef enum part_hash {
    PART_HASH_CRC32C = 0, /* default */
    PART_HASH_MURMUR3 = 1 /* MurmurHash3_x86_32, seed 0 */
} part_hash;

typedef enum part_key_type {
    PART_KEY_STRING = 0, /* key bytes as given; flink: Java String.hashCode of UTF-8 */
    PART_KEY_INT = 1     /* decimal int32; byte hashes see its 4 little-endian bytes,
                            flink: Java Integer.hashCode */
} part_key_type;

typedef struct part_config {
    const char *scheme;            /* "modulo", "flink", "jump", "ring", "rendezvous",
                                      "maglev", "bounded" */
    uint32_t parallelism;          /* N >= 1 */
    uint32_t groups;               /* P, key groups / max parallelism; 0 = scheme default
                                      (part_default_groups); must be >= N */
    part_hash hash;                /* byte hash for every scheme but flink */
    uint32_t vnodes;               /* ring, bounded: points per subtask, 0 = default 2000 */
    double bound_c;                /* bounded: c > 1, 0 = default 1.25 */
    const uint64_t *group_weights; /* bounded: P weights, NULL = 1 each; copied */
} part_config;

typedef struct part part; /* opaque */

/* Names, in a fixed order, NULL-terminated; for "all" and for help text. */
extern const char *const part_scheme_names[];

/* 1 if name is a known scheme. */
int part_scheme_known(const char *name);

/* The default number of key groups for scheme at parallelism n:
 *   flink:  min(max(roundUpToPowerOfTwo(n + n/2), 128), 32768)  (Flink's default)
 *   maglev: the smallest prime >= 100*n (a given count is rounded up to a prime)
 *   others: about 2048 per subtask: the power of two >= 2048*n, within [65536, 2^22]
 *           (and at least n) */
uint32_t part_default_groups(const char *scheme, uint32_t n);

/* Flink's default max parallelism for an operator of parallelism n. */
uint32_t part_flink_default_max_parallelism(uint32_t n);

/* Make a partitioner. Returns 0, SS_EINVAL (unknown scheme, N = 0, P < N, P above
 * 2^31 - 1 for flink, bound_c <= 1), or SS_ENOMEM. *out is set only on success. */
int part_create(const part_config *cfg, part **out);
void part_free(part *p);

/* The same scheme and options at a new parallelism, keeping the number of key groups
 * (maglev keeps its table size), so that state moves whole key groups. */
int part_rescaled(const part *p, uint32_t new_parallelism, part **out);

uint32_t part_parallelism(const part *p);
uint32_t part_groups(const part *p);
const char *part_name(const part *p);

/* The key group of a key given as bytes (PART_KEY_STRING) or as an int (PART_KEY_INT). */
uint32_t part_group_of_bytes(const part *p, const void *key, size_t len);
uint32_t part_group_of_int(const part *p, int32_t key);

/* The owner table: owner[g] is the subtask of key group g, for g < part_groups(p). */
const uint32_t *part_owners(const part *p);

static inline uint32_t part_owner(const uint32_t *owners, uint32_t group) {
    return owners[group];
}

/* The subtask of a key: part_owners(p)[part_group_of_bytes(p, key, len)]. */
uint32_t part_route_bytes(const part *p, const void *key, size_t len);
uint32_t part_route_int(const part *p, int32_t key);

/* Route `count` keys of key_len bytes each, stored back to back, as
 * part_route_bytes would: subtasks[i] is the subtask of key i, identical for every
 * scheme, hash and N. Hashes a small batch of keys at a time and prefetches the keys a few batches
 * ahead (reading no byte outside keys[0 .. count * key_len)). The owner is read from a narrow copy
 * of the owner table (8-bit entries when N <= 256, 16-bit when N <= 65536, the 32-bit table above
 * that; modulo computes group mod N and has no copy), which costs 1 or 2 bytes per key group beside
 * part_owners' 4. */
void part_route_batch(const part *p, const void *keys, size_t key_len, size_t count,
                      uint32_t *subtasks);

/* The contiguous key-group range [*first, *last] of a subtask for schemes that have
 * one (flink). Returns SS_EUNSUPPORTED for the others. */
int part_group_range(const part *p, uint32_t subtask, uint32_t *first, uint32_t *last);

/* A rescale plan: the key groups whose owner differs between two partitioners with
 * the same number of groups. moves[i] = {group, from, to}; ascending group order. */
typedef struct part_move {
    uint32_t group, from, to;
} part_move;

typedef struct part_plan {
    part_move *moves; /* malloc'd; part_plan_free releases */
    uint32_t count;
} part_plan;

/* Returns SS_EINVAL when the group counts differ. */
int part_plan_rescale(const part *from, const part *to, part_plan *plan);
void part_plan_free(part_plan *plan);

/* Flink's helpers, exposed for tests (KeyGroupRangeAssignment). */
uint32_t part_flink_group(int32_t java_hash, uint32_t max_parallelism);
uint32_t part_flink_operator(uint32_t max_parallelism, uint32_t parallelism, uint32_t group);

#endif
