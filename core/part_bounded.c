/* part_bounded.c -- consistent hashing with bounded loads (Mirrokni, Thorup,
 * Zadimoghaddam, SODA 2018). Key groups are placed in ascending order; each goes to
 * the first subtask clockwise of its ring position whose load plus the group's weight
 * stays within capacity ceil(c * W / N), W the total weight. If no subtask has room
 * (possible only with very uneven weights) the least-loaded one takes it. */
#include <math.h>
#include <stdlib.h>

#include "core/error.h"
#include "core/part_internal.h"

static uint32_t least_loaded(const uint64_t *load, uint32_t n) {
    uint32_t best = 0;
    for (uint32_t s = 1; s < n; s++)
        if (load[s] < load[best])
            best = s;
    return best;
}

static int build(part *p) {
    part_ring_point *pts;
    uint32_t count;
    int rc = part_ring_make(p->parallelism, p->vnodes, &pts, &count);
    if (rc != 0)
        return rc;
    uint64_t *load = calloc(p->parallelism, sizeof *load);
    if (!load) {
        free(pts);
        return SS_ENOMEM;
    }
    uint64_t total = 0;
    for (uint32_t g = 0; g < p->groups; g++)
        total += p->weights ? p->weights[g] : 1;
    uint64_t capacity = (uint64_t)ceil(p->bound_c * (double)total / p->parallelism);
    for (uint32_t g = 0; g < p->groups; g++) {
        uint64_t w = p->weights ? p->weights[g] : 1;
        uint32_t i = part_ring_successor(pts, count, part_ring_group_position(g));
        uint32_t owner = UINT32_MAX;
        for (uint32_t step = 0; step < count; step++, i = (i + 1 == count) ? 0 : i + 1)
            if (load[pts[i].subtask] + w <= capacity) {
                owner = pts[i].subtask;
                break;
            }
        if (owner == UINT32_MAX)
            owner = least_loaded(load, p->parallelism);
        load[owner] += w;
        p->owner[g] = owner;
    }
    free(load);
    free(pts);
    return 0;
}

const part_scheme part_bounded_scheme = {
    .name = "bounded",
    .default_groups = part_default_groups_hashing,
    .build = build,
};
