/* part_internal.h -- what the partitioner families share: the partitioner object and
 * the per-scheme operations table (one const table per family, like sqlite3_vfs).
 * Only core/partition.c and core/part_*.c include this. */
#ifndef SHARDSIM_CORE_PART_INTERNAL_H
#define SHARDSIM_CORE_PART_INTERNAL_H

#include <stdint.h>

#include "core/partition.h"

typedef struct part_scheme {
    const char *name;
    /* Number of key groups for parallelism n when the caller gives none. */
    uint32_t (*default_groups)(uint32_t n);
    /* Adjust a caller-given group count (maglev rounds up to a prime); may be NULL. */
    uint32_t (*fix_groups)(uint32_t groups);
    /* Fill p->owner[0..p->groups). Returns 0 or SS_ENOMEM. */
    int (*build)(part *p);
    /* 1 for flink: key groups by Java hashCode, contiguous ranges. */
    int flink_routing;
    /* 1 when build sets owner[g] = g mod N (modulo): routing then computes the owner
     * instead of reading a table that can outgrow the cache. */
    int owner_is_group_mod_n;
} part_scheme;

struct part {
    const part_scheme *scheme;
    uint32_t parallelism;
    uint32_t groups;
    part_hash hash;
    uint32_t vnodes;
    double bound_c;
    uint64_t *weights; /* bounded only; NULL = 1 per group */
    uint32_t *owner;
    /* The same table, narrowed for routing: route_width bytes per entry, 1 when
     * N <= 256, 2 when N <= 65536, else 4 (then route_table is owner itself); 0 and
     * no table when owner_is_group_mod_n. A smaller table keeps more of it in cache;
     * partition.c fills it after build. */
    void *route_table;
    uint32_t route_width;
    uint64_t n_magic;    /* UINT64_MAX / parallelism + 1: g mod N without a division */
    uint32_t group_mask; /* groups - 1 when groups is a power of two, else 0 */
    int groups_pow2;     /* 1: x mod groups is x & group_mask */
    uint64_t mod_magic;  /* UINT64_MAX / groups + 1: x mod groups without a division */
};

extern const part_scheme part_modulo_scheme, part_flink_scheme, part_jump_scheme, part_ring_scheme,
    part_rendezvous_scheme, part_maglev_scheme, part_bounded_scheme;

/* A 64-bit mixer (splitmix64's finaliser): spreads a group or subtask number over
 * the whole 64-bit space. Stable: a change here moves every consistent-hash owner. */
static inline uint64_t part_mix64(uint64_t x) {
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

/* The default group count of the hashing families (see part_default_groups). */
uint32_t part_default_groups_hashing(uint32_t n);

/* The consistent-hash ring shared by `ring` and `bounded`: vnodes points per subtask,
 * sorted by position (ties by subtask). */
typedef struct part_ring_point {
    uint64_t position;
    uint32_t subtask;
} part_ring_point;

int part_ring_make(uint32_t parallelism, uint32_t vnodes, part_ring_point **points,
                   uint32_t *count);
/* Index of the first point at or clockwise after position (wrapping to 0). */
uint32_t part_ring_successor(const part_ring_point *points, uint32_t count, uint64_t position);
/* Where a key group lands on the ring. */
static inline uint64_t part_ring_group_position(uint32_t group) {
    return part_mix64(0x6A09E667F3BCC909ULL ^ group);
}

#endif
