/* part_rendezvous.c -- highest random weight (Thaler & Ravishankar): a key group goes to
 * the subtask whose mixed (group, subtask) weight is highest; ties to the lowest id. */
#include "core/part_internal.h"

static int build(part *p) {
    for (uint32_t g = 0; g < p->groups; g++) {
        uint64_t best = 0, seed = part_mix64(g);
        uint32_t owner = 0;
        for (uint32_t s = 0; s < p->parallelism; s++) {
            uint64_t w = part_mix64(seed ^ (0xD1B54A32D192ED03ULL * (s + 1)));
            if (s == 0 || w > best) {
                best = w;
                owner = s;
            }
        }
        p->owner[g] = owner;
    }
    return 0;
}

const part_scheme part_rendezvous_scheme = {
    .name = "rendezvous",
    .default_groups = part_default_groups_hashing,
    .build = build,
};
