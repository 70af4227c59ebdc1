/* grow.h -- room for one more element in a growable array, the one idiom every layer
 * repeats (sessions, watches, failovers, key tables, ...). */
#ifndef SHARDSIM_CORE_GROW_H
#define SHARDSIM_CORE_GROW_H

#include <stddef.h>

/* Make the array *items (a T **, passed as void *) hold at least `need` elements of
 * elem_size bytes: when *cap is smaller, the capacity doubles (from 8) until it is
 * enough. Returns 0, or SS_ENOMEM leaving *items and *cap as they were. */
int ss_grow(void *items, size_t *cap, size_t need, size_t elem_size);

#endif
