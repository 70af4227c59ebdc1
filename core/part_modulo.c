/* part_modulo.c -- the design text's scheme: slot = hash mod P, subtask = slot mod N. */
#include "core/part_internal.h"

static int build(part *p) {
    for (uint32_t g = 0; g < p->groups; g++)
        p->owner[g] = g % p->parallelism;
    return 0;
}

const part_scheme part_modulo_scheme = {
    .name = "modulo",
    .default_groups = part_default_groups_hashing,
    .build = build,
    .owner_is_group_mod_n = 1,
};
