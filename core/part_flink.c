/* part_flink.c -- Flink's KeyGroupRangeAssignment: key group =
 * murmurHash(key.hashCode()) mod maxParallelism, operator = keyGroup * N / P, so each
 * subtask owns one contiguous range of key groups. */
#include "core/hash.h"
#include "core/part_internal.h"

uint32_t part_flink_default_max_parallelism(uint32_t n) {
    /* min(max(roundUpToPowerOfTwo(n + n/2), 128), 32768) */
    uint64_t want = (uint64_t)n + n / 2, pow2 = 1;
    while (pow2 < want)
        pow2 <<= 1;
    if (pow2 < 128)
        pow2 = 128;
    return pow2 > 32768 ? 32768 : (uint32_t)pow2;
}

uint32_t part_flink_group(int32_t java_hash, uint32_t max_parallelism) {
    return (uint32_t)hash_flink_int(java_hash) % max_parallelism;
}

uint32_t part_flink_operator(uint32_t max_parallelism, uint32_t parallelism, uint32_t group) {
    return (uint32_t)((uint64_t)group * parallelism / max_parallelism);
}

static int build(part *p) {
    for (uint32_t g = 0; g < p->groups; g++)
        p->owner[g] = part_flink_operator(p->groups, p->parallelism, g);
    return 0;
}

const part_scheme part_flink_scheme = {
    .name = "flink",
    .default_groups = part_flink_default_max_parallelism,
    .build = build,
    .flink_routing = 1,
};
