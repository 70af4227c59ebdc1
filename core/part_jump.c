/* part_jump.c -- jump consistent hash (Lamping & Veach, 2014) per key group. */
#include "core/part_internal.h"

/* The paper's algorithm: the last bucket the key jumps to below n. */
static uint32_t jump(uint64_t key, uint32_t n) {
    int64_t b = -1, j = 0;
    while (j < (int64_t)n) {
        b = j;
        key = key * 2862933555777941757ULL + 1;
        j = (int64_t)((double)(b + 1) * ((double)(1LL << 31) / (double)((key >> 33) + 1)));
    }
    return (uint32_t)b;
}

static int build(part *p) {
    for (uint32_t g = 0; g < p->groups; g++)
        p->owner[g] = jump(part_mix64(g), p->parallelism);
    return 0;
}

const part_scheme part_jump_scheme = {
    .name = "jump",
    .default_groups = part_default_groups_hashing,
    .build = build,
};
