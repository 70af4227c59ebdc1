/* partition.c -- the partitioner object: scheme lookup, validation, key -> group,
 * group -> subtask tables, rescaling and rescale plans. The families themselves live
 * in part_<family>.c, each a const part_scheme. */
#include <stdlib.h>
#include <string.h>

#include "core/assert.h"
#include "core/error.h"
#include "core/hash.h"
#include "core/part_internal.h"

#define DEFAULT_VNODES 2000
#define DEFAULT_BOUND_C 1.25
#define FLINK_MAX_GROUPS 32768u /* Flink's UPPER_BOUND_MAX_PARALLELISM */
#define MAX_GROUPS (1u << 26)   /* 256 MiB of owner table at most */
#define BATCH 64                /* keys hashed, then looked up, at a time */
#define PREFETCH_BATCHES 2      /* how far ahead the key array is prefetched */

__extension__ typedef unsigned __int128 u128;

/* x mod groups by Lemire's "faster remainder by direct computation" (2019): exact for
 * every 32-bit x and divisor, two multiplications instead of a division. */
static inline uint32_t group_mod_magic(const part *p, uint32_t x) {
    uint64_t low = p->mod_magic * x;
    return (uint32_t)(((u128)low * p->groups) >> 64);
}

/* x mod groups: a mask for the hashing families' power-of-two counts (the same value,
 * without the two multiplications), Lemire's remainder otherwise. */
static inline uint32_t group_mod(const part *p, uint32_t x) {
    return p->groups_pow2 ? x & p->group_mask : group_mod_magic(p, x);
}

static const part_scheme *const schemes[] = {
    &part_modulo_scheme,     &part_flink_scheme,  &part_jump_scheme,    &part_ring_scheme,
    &part_rendezvous_scheme, &part_maglev_scheme, &part_bounded_scheme,
};

const char *const part_scheme_names[] = {"modulo",     "flink",  "jump",    "ring",
                                         "rendezvous", "maglev", "bounded", NULL};

static const part_scheme *scheme_by_name(const char *name) {
    if (!name)
        return NULL;
    for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++)
        if (strcmp(schemes[i]->name, name) == 0)
            return schemes[i];
    return NULL;
}

int part_scheme_known(const char *name) {
    return scheme_by_name(name) != NULL;
}

/* About 2048 groups per subtask, so that whole-group granularity adds little to the
 * randomness of the keys themselves: a power of two in [65536, 2^22]. */
uint32_t part_default_groups_hashing(uint32_t n) {
    uint64_t want = (uint64_t)n * 2048, groups = 65536;
    while (groups < want && groups < (1u << 22))
        groups <<= 1;
    return groups < n ? n : (uint32_t)groups;
}

uint32_t part_default_groups(const char *scheme, uint32_t n) {
    const part_scheme *s = scheme_by_name(scheme);
    return s ? s->default_groups(n) : 0;
}

/* The narrow copy of the owner table that routing reads (see struct part). */
static int make_route_table(part *p) {
    size_t groups = p->groups;
    p->n_magic = UINT64_MAX / p->parallelism + 1;
    if (p->scheme->owner_is_group_mod_n) {
        p->route_width = 0;
        return 0;
    }
    if (p->parallelism > 65536) {
        p->route_table = p->owner;
        p->route_width = 4;
        return 0;
    }
    if (p->parallelism <= 256) {
        uint8_t *t = malloc(groups);
        for (size_t g = 0; t && g < groups; g++)
            t[g] = (uint8_t)p->owner[g];
        p->route_table = t;
        p->route_width = 1;
    } else {
        uint16_t *t = malloc(groups * sizeof *t);
        for (size_t g = 0; t && g < groups; g++)
            t[g] = (uint16_t)p->owner[g];
        p->route_table = t;
        p->route_width = 2;
    }
    return p->route_table ? 0 : SS_ENOMEM;
}

int part_create(const part_config *cfg, part **out) {
    const part_scheme *s = scheme_by_name(cfg->scheme);
    if (!s || cfg->parallelism == 0 || (cfg->bound_c != 0 && !(cfg->bound_c > 1.0)) ||
        (cfg->hash != PART_HASH_CRC32C && cfg->hash != PART_HASH_MURMUR3))
        return SS_EINVAL;
    uint32_t groups = cfg->groups ? cfg->groups : s->default_groups(cfg->parallelism);
    if (cfg->groups && s->fix_groups)
        groups = s->fix_groups(cfg->groups);
    if (groups < cfg->parallelism || groups > MAX_GROUPS ||
        (s->flink_routing && groups > FLINK_MAX_GROUPS))
        return SS_EINVAL;
    part *p = calloc(1, sizeof *p);
    if (!p)
        return SS_ENOMEM;
    p->scheme = s;
    p->parallelism = cfg->parallelism;
    p->groups = groups;
    p->hash = cfg->hash;
    p->vnodes = cfg->vnodes ? cfg->vnodes : DEFAULT_VNODES;
    p->bound_c = cfg->bound_c != 0 ? cfg->bound_c : DEFAULT_BOUND_C;
    p->mod_magic = UINT64_MAX / groups + 1;
    p->groups_pow2 = (groups & (groups - 1)) == 0;
    p->group_mask = p->groups_pow2 ? groups - 1 : 0;
    p->owner = malloc((size_t)groups * sizeof *p->owner);
    if (p->owner && cfg->group_weights) {
        p->weights = malloc((size_t)groups * sizeof *p->weights);
        if (p->weights)
            memcpy(p->weights, cfg->group_weights, (size_t)groups * sizeof *p->weights);
    }
    int rc = (!p->owner || (cfg->group_weights && !p->weights)) ? SS_ENOMEM : s->build(p);
    if (rc == 0)
        rc = make_route_table(p);
    if (rc != 0) {
        part_free(p);
        return rc;
    }
    /* every key group has an owner among the N subtasks (a walk of the table: hot) */
    for (uint32_t g = 0; SS_HOT_ASSERTS_ON && g < groups; g++)
        SS_ASSERT_HOT(p->owner[g] < p->parallelism);
    *out = p;
    return 0;
}

void part_free(part *p) {
    if (!p)
        return;
    if (p->route_table != p->owner)
        free(p->route_table);
    free(p->owner);
    free(p->weights);
    free(p);
}

int part_rescaled(const part *p, uint32_t new_parallelism, part **out) {
    part_config cfg = {
        .scheme = p->scheme->name,
        .parallelism = new_parallelism,
        .groups = p->groups,
        .hash = p->hash,
        .vnodes = p->vnodes,
        .bound_c = p->bound_c,
        .group_weights = p->weights,
    };
    return part_create(&cfg, out);
}

uint32_t part_parallelism(const part *p) {
    return p->parallelism;
}
uint32_t part_groups(const part *p) {
    return p->groups;
}
const char *part_name(const part *p) {
    return p->scheme->name;
}
const uint32_t *part_owners(const part *p) {
    return p->owner;
}

static uint32_t byte_hash(const part *p, const void *key, size_t len) {
    return p->hash == PART_HASH_MURMUR3 ? hash_murmur3_32(key, len, 0) : hash_crc32c(key, len);
}

uint32_t part_group_of_bytes(const part *p, const void *key, size_t len) {
    if (p->scheme->flink_routing)
        return group_mod(p, (uint32_t)hash_flink_int(hash_java_string(key, len)));
    return group_mod(p, byte_hash(p, key, len));
}

uint32_t part_group_of_int(const part *p, int32_t key) {
    if (p->scheme->flink_routing)
        return part_flink_group(hash_java_int(key), p->groups);
    uint32_t u = (uint32_t)key;
    uint8_t le[4] = {(uint8_t)u, (uint8_t)(u >> 8), (uint8_t)(u >> 16), (uint8_t)(u >> 24)};
    return group_mod(p, byte_hash(p, le, 4));
}

/* subtasks[j] = the owner of the key group of hash h[j], read from the narrow table
 * (width 0: computed as the group mod N, Lemire again); called with constant width and
 * pow2 so that each combination is its own loop. The partitioner's fields are read
 * once: stores to subtasks could alias them. */
static inline __attribute__((always_inline)) void owners_of_hashes(const part *p, const uint32_t *h,
                                                                   size_t n, uint32_t *subtasks,
                                                                   int width, int pow2) {
    const void *table = p->route_table;
    uint32_t mask = p->group_mask, groups = p->groups, parallelism = p->parallelism;
    uint64_t magic = p->mod_magic, n_magic = p->n_magic;
    for (size_t j = 0; j < n; j++) {
        uint32_t g = pow2 ? h[j] & mask : (uint32_t)(((u128)(magic * h[j]) * groups) >> 64);
        if (width == 0)
            subtasks[j] = (uint32_t)(((u128)(n_magic * g) * parallelism) >> 64);
        else if (width == 1)
            subtasks[j] = ((const uint8_t *)table)[g];
        else if (width == 2)
            subtasks[j] = ((const uint16_t *)table)[g];
        else
            subtasks[j] = ((const uint32_t *)table)[g];
    }
}

static void owners_of(const part *p, const uint32_t *h, size_t n, uint32_t *subtasks) {
    int pow2 = p->groups_pow2;
    if (p->route_width == 0)
        pow2 ? owners_of_hashes(p, h, n, subtasks, 0, 1)
             : owners_of_hashes(p, h, n, subtasks, 0, 0);
    else if (p->route_width == 1)
        pow2 ? owners_of_hashes(p, h, n, subtasks, 1, 1)
             : owners_of_hashes(p, h, n, subtasks, 1, 0);
    else if (p->route_width == 2)
        pow2 ? owners_of_hashes(p, h, n, subtasks, 2, 1)
             : owners_of_hashes(p, h, n, subtasks, 2, 0);
    else
        pow2 ? owners_of_hashes(p, h, n, subtasks, 4, 1)
             : owners_of_hashes(p, h, n, subtasks, 4, 0);
}

/* The byte hashes of n keys of key_len bytes, as part_group_of_bytes takes them. */
static void hashes_of_keys(const part *p, const uint8_t *keys, size_t key_len, size_t n,
                           uint32_t *h) {
    if (p->scheme->flink_routing)
        for (size_t j = 0; j < n; j++)
            h[j] = (uint32_t)hash_flink_int(
                hash_java_string((const char *)keys + j * key_len, key_len));
    else if (p->hash == PART_HASH_CRC32C)
        hash_crc32c_batch(keys, key_len, n, h);
    else
        for (size_t j = 0; j < n; j++)
            h[j] = hash_murmur3_32(keys + j * key_len, key_len, 0);
}

/* Ask for [from, to) of the key array, one request per cache line. */
static void prefetch_keys(const uint8_t *from, const uint8_t *to) {
    for (; from < to; from += 64)
        __builtin_prefetch(from);
}

void part_route_batch(const part *p, const void *keys, size_t key_len, size_t count,
                      uint32_t *subtasks) {
    const uint8_t *k = keys;
    uint32_t h[BATCH];
    for (size_t done = 0; done < count; done += BATCH) {
        size_t n = count - done < BATCH ? count - done : BATCH;
        const uint8_t *base = k + done * key_len;
        hashes_of_keys(p, base, key_len, n, h);
        /* the keys PREFETCH_BATCHES batches ahead: the hardware prefetcher alone lets
         * the key stream stall while this batch is looked up */
        if (count - done > (PREFETCH_BATCHES + 1) * BATCH)
            prefetch_keys(base + PREFETCH_BATCHES * BATCH * key_len,
                          base + (PREFETCH_BATCHES + 1) * BATCH * key_len);
        owners_of(p, h, n, subtasks + done);
    }
}

uint32_t part_route_bytes(const part *p, const void *key, size_t len) {
    return p->owner[part_group_of_bytes(p, key, len)];
}

uint32_t part_route_int(const part *p, int32_t key) {
    uint32_t g = part_group_of_int(p, key);
    SS_ASSERT_HOT(g < p->groups && p->owner[g] < p->parallelism);
    return p->owner[g];
}

int part_group_range(const part *p, uint32_t subtask, uint32_t *first, uint32_t *last) {
    if (!p->scheme->flink_routing)
        return SS_EUNSUPPORTED;
    if (subtask >= p->parallelism)
        return SS_EINVAL;
    /* KeyGroupRangeAssignment.computeKeyGroupRangeForOperatorIndex */
    uint64_t n = p->parallelism, m = p->groups;
    *first = (uint32_t)((subtask * m + n - 1) / n);
    *last = (uint32_t)(((subtask + 1) * m - 1) / n);
    return 0;
}

int part_plan_rescale(const part *from, const part *to, part_plan *plan) {
    plan->moves = NULL;
    plan->count = 0;
    if (from->groups != to->groups)
        return SS_EINVAL;
    uint32_t count = 0;
    for (uint32_t g = 0; g < from->groups; g++)
        count += from->owner[g] != to->owner[g];
    if (count == 0)
        return 0;
    plan->moves = malloc((size_t)count * sizeof *plan->moves);
    if (!plan->moves)
        return SS_ENOMEM;
    for (uint32_t g = 0; g < from->groups; g++)
        if (from->owner[g] != to->owner[g])
            plan->moves[plan->count++] = (part_move){g, from->owner[g], to->owner[g]};
    return 0;
}

void part_plan_free(part_plan *plan) {
    free(plan->moves);
    plan->moves = NULL;
    plan->count = 0;
}
