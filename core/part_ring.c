/* part_ring.c -- a consistent-hash ring (Karger et al.) with `vnodes` points per
 * subtask; a key group goes to the first point clockwise of its own position. */
#include <stdlib.h>

#include "core/error.h"
#include "core/part_internal.h"

static int point_cmp(const void *a, const void *b) {
    const part_ring_point *x = a, *y = b;
    if (x->position != y->position)
        return x->position < y->position ? -1 : 1;
    return x->subtask < y->subtask ? -1 : x->subtask > y->subtask;
}

int part_ring_make(uint32_t parallelism, uint32_t vnodes, part_ring_point **points,
                   uint32_t *count) {
    uint64_t n = (uint64_t)parallelism * vnodes;
    if (n > UINT32_MAX)
        return SS_EINVAL;
    part_ring_point *pts = malloc((size_t)n * sizeof *pts);
    if (!pts)
        return SS_ENOMEM;
    for (uint32_t s = 0; s < parallelism; s++)
        for (uint32_t v = 0; v < vnodes; v++) {
            part_ring_point *pt = &pts[(uint64_t)s * vnodes + v];
            pt->position = part_mix64(((uint64_t)s << 32) | v);
            pt->subtask = s;
        }
    qsort(pts, (size_t)n, sizeof *pts, point_cmp);
    *points = pts;
    *count = (uint32_t)n;
    return 0;
}

uint32_t part_ring_successor(const part_ring_point *points, uint32_t count, uint64_t position) {
    uint32_t lo = 0, hi = count; /* first index with points[i].position >= position */
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (points[mid].position < position)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo == count ? 0 : lo;
}

static int build(part *p) {
    part_ring_point *pts;
    uint32_t count;
    int rc = part_ring_make(p->parallelism, p->vnodes, &pts, &count);
    if (rc != 0)
        return rc;
    for (uint32_t g = 0; g < p->groups; g++)
        p->owner[g] = pts[part_ring_successor(pts, count, part_ring_group_position(g))].subtask;
    free(pts);
    return 0;
}

const part_scheme part_ring_scheme = {
    .name = "ring",
    .default_groups = part_default_groups_hashing,
    .build = build,
};
