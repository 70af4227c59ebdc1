/* part_maglev.c -- Maglev hashing (Eisenbud et al., NSDI 2016). The lookup table of M
 * entries (M prime, >= 100 N by default) is the key-group table: each subtask walks its
 * own permutation of the entries (offset + j * skip mod M) and the subtasks take turns
 * claiming their next free entry until the table is full. */
#include <stdlib.h>

#include "core/error.h"
#include "core/part_internal.h"

static int is_prime(uint32_t n) {
    if (n < 2)
        return 0;
    for (uint32_t d = 2; (uint64_t)d * d <= n; d++)
        if (n % d == 0)
            return 0;
    return 1;
}

static uint32_t next_prime(uint32_t n) {
    while (!is_prime(n))
        n++;
    return n;
}

static uint32_t default_groups(uint32_t n) {
    uint64_t want = (uint64_t)n * 100;
    return next_prime(want > UINT32_MAX / 2 ? UINT32_MAX / 2 : (uint32_t)want);
}

static int build(part *p) {
    uint32_t m = p->groups, n = p->parallelism;
    uint32_t *offset = malloc((size_t)n * sizeof *offset);
    uint32_t *skip = malloc((size_t)n * sizeof *skip);
    uint64_t *next = calloc(n, sizeof *next);
    if (!offset || !skip || !next) {
        free(offset);
        free(skip);
        free(next);
        return SS_ENOMEM;
    }
    for (uint32_t s = 0; s < n; s++) {
        offset[s] = (uint32_t)(part_mix64(0xA54FF53A5F1D36F1ULL ^ s) % m);
        skip[s] = m > 1 ? (uint32_t)(part_mix64(0x510E527FADE682D1ULL ^ s) % (m - 1)) + 1 : 1;
    }
    for (uint32_t g = 0; g < m; g++)
        p->owner[g] = UINT32_MAX;
    uint32_t filled = 0;
    while (filled < m) {
        for (uint32_t s = 0; s < n && filled < m; s++) {
            uint32_t c;
            do {
                c = (uint32_t)((offset[s] + next[s] * skip[s]) % m);
                next[s]++;
            } while (p->owner[c] != UINT32_MAX);
            p->owner[c] = s;
            filled++;
        }
    }
    free(offset);
    free(skip);
    free(next);
    return 0;
}

const part_scheme part_maglev_scheme = {
    .name = "maglev",
    .default_groups = default_groups,
    .fix_groups = next_prime,
    .build = build,
};
