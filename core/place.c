/* place.c -- subtask placement strategies; see place.h. Each strategy is a function
 * choosing a worker with a free slot for one subtask, so the first placement and the
 * re-placement after a failure share the same code. */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/hash.h"
#include "core/place.h"
#include "core/prng.h"

const char *const place_strategy_names[] = {"round-robin", "random", "hash",
                                            "first-fit",   "spread", NULL};

int place_strategy_by_name(const char *name, place_strategy *out) {
    for (int i = 0; name && place_strategy_names[i]; i++)
        if (strcmp(name, place_strategy_names[i]) == 0) {
            *out = (place_strategy)i;
            return 0;
        }
    return SS_EINVAL;
}

/* Slot bookkeeping of one placement. */
typedef struct slots {
    const place_config *cfg;
    uint32_t *used;
    const uint8_t *alive; /* NULL: all alive */
    uint32_t cursor;      /* round-robin position */
    prng rng;
} slots;

static uint32_t capacity(const slots *s, uint32_t w) {
    if (s->alive && !s->alive[w])
        return 0;
    return s->cfg->slots ? s->cfg->slots[w] : 1;
}

static int has_room(const slots *s, uint32_t w) {
    return s->used[w] < capacity(s, w);
}

/* The first worker with room at or after `start`, wrapping; UINT32_MAX if none. */
static uint32_t probe(const slots *s, uint32_t start) {
    uint32_t m = s->cfg->workers;
    for (uint32_t i = 0; i < m; i++) {
        uint32_t w = (start + i) % m;
        if (has_room(s, w))
            return w;
    }
    return UINT32_MAX;
}

static uint32_t pick_spread(const slots *s) {
    uint32_t best = UINT32_MAX;
    for (uint32_t w = 0; w < s->cfg->workers; w++) {
        if (!has_room(s, w))
            continue;
        /* used/cap < best_used/best_cap, compared without division */
        if (best == UINT32_MAX ||
            (uint64_t)s->used[w] * capacity(s, best) < (uint64_t)s->used[best] * capacity(s, w))
            best = w;
    }
    return best;
}

/* A free slot drawn uniformly among all free slots. */
static uint32_t pick_random(slots *s) {
    uint64_t free_total = 0;
    for (uint32_t w = 0; w < s->cfg->workers; w++)
        free_total += capacity(s, w) - s->used[w];
    if (free_total == 0)
        return UINT32_MAX;
    uint64_t k = prng_below(&s->rng, free_total);
    for (uint32_t w = 0; w < s->cfg->workers; w++) {
        uint64_t f = capacity(s, w) - s->used[w];
        if (k < f)
            return w;
        k -= f;
    }
    return UINT32_MAX;
}

static uint32_t pick(slots *s, uint32_t subtask) {
    switch (s->cfg->strategy) {
    case PLACE_ROUND_ROBIN: {
        uint32_t w = probe(s, s->cursor);
        if (w != UINT32_MAX)
            s->cursor = (w + 1) % s->cfg->workers;
        return w;
    }
    case PLACE_RANDOM:
        return pick_random(s);
    case PLACE_HASH: {
        uint32_t u = subtask;
        uint8_t le[4] = {(uint8_t)u, (uint8_t)(u >> 8), (uint8_t)(u >> 16), (uint8_t)(u >> 24)};
        return probe(s, hash_murmur3_32(le, 4, (uint32_t)s->cfg->seed) % s->cfg->workers);
    }
    case PLACE_FIRST_FIT:
        return probe(s, 0);
    case PLACE_SPREAD:
        return pick_spread(s);
    }
    return UINT32_MAX;
}

static int valid(const place_config *cfg) {
    return cfg->workers >= 1 && (unsigned)cfg->strategy <= PLACE_SPREAD;
}

static int slots_init(slots *s, const place_config *cfg, const uint8_t *alive) {
    s->cfg = cfg;
    s->alive = alive;
    s->cursor = 0;
    s->used = calloc(cfg->workers, sizeof *s->used);
    prng_stream(&s->rng, cfg->seed, 0, 0x91ACE);
    return s->used ? 0 : SS_ENOMEM;
}

int place_assign(const place_config *cfg, uint32_t subtasks, uint32_t *worker) {
    if (!valid(cfg))
        return SS_EINVAL;
    slots s;
    if (slots_init(&s, cfg, NULL) != 0)
        return SS_ENOMEM;
    for (uint32_t i = 0; i < subtasks; i++) {
        uint32_t w = pick(&s, i);
        if (w == UINT32_MAX) {
            free(s.used);
            return SS_ERANGE;
        }
        worker[i] = w;
        s.used[w]++;
    }
    free(s.used);
    return 0;
}

int place_replace(const place_config *cfg, uint32_t subtasks, const uint32_t *old_worker,
                  const uint8_t *alive, uint32_t *new_worker, uint32_t *moved) {
    if (!valid(cfg))
        return SS_EINVAL;
    slots s;
    if (slots_init(&s, cfg, alive) != 0)
        return SS_ENOMEM;
    /* Survivors keep their slots; the cursor resumes after the last survivor placed. */
    for (uint32_t i = 0; i < subtasks; i++) {
        uint32_t w = old_worker[i];
        if (w < cfg->workers && alive[w]) {
            new_worker[i] = w;
            s.used[w]++;
        }
    }
    uint32_t count = 0;
    for (uint32_t i = 0; i < subtasks; i++) {
        uint32_t w = old_worker[i];
        if (w < cfg->workers && alive[w])
            continue;
        uint32_t to = pick(&s, i);
        if (to == UINT32_MAX) {
            free(s.used);
            return SS_ERANGE;
        }
        new_worker[i] = to;
        s.used[to]++;
        count++;
    }
    free(s.used);
    *moved = count;
    return 0;
}
