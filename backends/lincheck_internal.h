/* lincheck_internal.h -- what the checker's two halves share: the history turned into
 * checkable operations over interned paths and data (lincheck.c), and the search of one
 * partition against the znode model (lincheck_search.c). Not for other modules. */
#ifndef SHARDSIM_BACKENDS_LINCHECK_INTERNAL_H
#define SHARDSIM_BACKENDS_LINCHECK_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "backends/history.h"

#define LC_NONE UINT32_MAX
#define LC_NEVER UINT64_MAX /* the answer time of an op whose outcome is unknown */

enum { LC_EXPIRE = COORD_OPTYPES }; /* a session's end seen by the service */

/* One operation to place. Paths are indexes into the path table. */
typedef struct lc_op {
    size_t entry; /* its record in the history (LC_NONE-like SIZE_MAX: none) */
    int kind;     /* COORD_OPTYPE_* or LC_EXPIRE */
    uint32_t client;
    int known;          /* its answer is known: it must be placed, with that result */
    int read;           /* get / exists / children: sequentially consistent */
    int global;         /* sync, close, expire: in every partition */
    int rc;             /* the answer (known) */
    uint64_t call, ret; /* ranks of the call and the answer (ret LC_NEVER: unknown) */
    uint32_t path, created, parent;
    int64_t seqno;  /* a sequential create's number, -1: none or malformed */
    int bad_name;   /* a sequential create's name is not path + 10 digits */
    uint32_t data;  /* written data's id */
    uint32_t rdata; /* get's data id */
    int has_stat;
    int32_t version;      /* the call's expected version */
    int32_t stat_version; /* the answer's stat.version */
    uint32_t *kids;       /* children answer: path indexes, sorted */
    size_t kid_count;
    uint32_t *subpath, *subdata, *subparent; /* multi */
    uint32_t *cands; /* unknown sequential create: the paths it may have made */
    size_t cand_count;
} lc_op;

/* The checker's tables. */
typedef struct lc {
    const coord_history *h;
    char **paths;     /* interned (owned) */
    uint32_t *parent; /* each path's parent, LC_NONE for the root */
    uint32_t path_count;
    size_t path_cap, parent_cap;
    uint32_t *path_index; /* open addressing over paths */
    size_t index_cap;
    char **datas; /* interned data (pointers into the history); id 0: empty */
    size_t *data_lens;
    uint32_t data_count;
    size_t data_cap, data_lens_cap;
    uint32_t *data_index;
    size_t data_index_cap;
    lc_op *ops;
    size_t op_count, op_cap;
    uint64_t max_steps;
} lc;

/* The search of one partition: ops (indexes into c->ops) over the partition's paths
 * (global indexes, local index = position). Returns LINCHECK_*; a violation or an
 * unknown verdict describes itself in detail. *steps grows by the work done. -1: out
 * of memory. */
int lc_search(const lc *c, const uint32_t *ops, size_t n, const uint32_t *paths, size_t k,
              uint64_t *steps, char *detail, size_t detail_len);

/* The watch order (lincheck_watch.c): 1 if some session saw, in a reply, a change to a
 * node it watched before the watch event of that change; detail says where. */
int lc_check_watches(const coord_history *h, char *detail, size_t len);

/* "c3 get /a -> OK [t1..t2]" into out. */
void lc_describe(const lc *c, const lc_op *o, char *out, size_t len);

#endif
