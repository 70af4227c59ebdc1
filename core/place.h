/* place.h -- placing S subtasks on the slots of M workers, and re-placing them when a
 * worker is lost.
 *
 * Strategies (place_strategy_by_name):
 *   round-robin  subtask i on worker i mod M, skipping full workers
 *   random       each subtask on a free slot drawn uniformly from a seeded stream
 *   hash         MurmurHash3_x86_32 of the subtask id (4 LE bytes, seed) mod M, then
 *                the next worker with a free slot (the design text's scheme)
 *   first-fit    fill worker 0's slots, then worker 1's, ... (Flink's default)
 *   spread       each subtask on the least-utilised worker (used/slots, ties to the
 *                lowest index): Flink's cluster.evenly-spread-out-slots
 * Re-placement (place_replace) keeps every subtask whose worker is alive where it is
 * and places only the lost workers' subtasks, with the same strategy over the
 * remaining free slots; so only the lost subtasks move. */
#ifndef SHARDSIM_CORE_PLACE_H
#define SHARDSIM_CORE_PLACE_H

#include <stdint.h>

typedef enum place_strategy {
    PLACE_ROUND_ROBIN = 0,
    PLACE_RANDOM,
    PLACE_HASH,
    PLACE_FIRST_FIT,
    PLACE_SPREAD
} place_strategy;

/* Names in enum order, NULL-terminated. */
extern const char *const place_strategy_names[];

/* Returns 0 and sets *out, or SS_EINVAL for an unknown name. */
int place_strategy_by_name(const char *name, place_strategy *out);

typedef struct place_config {
    place_strategy strategy;
    uint32_t workers;      /* M >= 1 */
    const uint32_t *slots; /* slots[w] for w < M; NULL = 1 slot each */
    uint64_t seed;         /* random and hash */
} place_config;

/* Place subtasks 0..S-1: worker[i] receives the worker of subtask i. Returns 0,
 * SS_EINVAL (bad config), or SS_ERANGE when S exceeds the total number of slots. */
int place_assign(const place_config *cfg, uint32_t subtasks, uint32_t *worker);

/* After losing workers (alive[w] == 0), compute a new placement new_worker[] from
 * old_worker[]: subtasks on live workers stay; the others are placed on free slots
 * of live workers. *moved receives the number of subtasks whose worker changed.
 * Returns 0, SS_EINVAL, or SS_ERANGE when the live slots are too few. */
int place_replace(const place_config *cfg, uint32_t subtasks, const uint32_t *old_worker,
                  const uint8_t *alive, uint32_t *new_worker, uint32_t *moved);

#endif
