/* history_internal.h -- the history's struct, shared by the recorder (history.c) and
 * the file format (history_io.c). Not for other modules. */
#ifndef SHARDSIM_BACKENDS_HISTORY_INTERNAL_H
#define SHARDSIM_BACKENDS_HISTORY_INTERNAL_H

#include "backends/history.h"

struct coord_history {
    coord_history_entry *entries;
    size_t count, cap;
    uint64_t seq;     /* the last seq handed out */
    uint32_t clients; /* sessions opened */
    int oom;          /* a record was lost for want of memory */
    env clock;
    int has_clock;
    /* the wrap */
    const coord_backend *inner;
    void *inner_service;
    coord_backend backend;
    coord_fault_ops faults;
    coord_stats_ops stats;
    struct watch_ctx *watch_list;
};

/* Append a zeroed record (NULL when out of memory: oom is set). */
coord_history_entry *history_append(coord_history *h, int kind, uint32_t client);
/* A NUL-terminated copy of len bytes; NULL when out of memory. */
char *history_dup(const void *p, size_t len);

#endif
