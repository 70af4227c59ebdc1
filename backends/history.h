/* history.h -- coordination histories: every operation a client made on a coordination
 * service, with when it was called and answered and what it returned, plus the watch
 * events and session state changes each client saw; recorded in memory, written and
 * read back as JSON Lines, and checked by backends/lincheck.h.
 *
 * Recording wraps a backend (as SQLite's vfstrace wraps a VFS): coord_history_wrap
 * gives a coord_backend and a service that forward every call to the real ones and
 * record it, so every caller -- the checked wrappers of coord.h, open and close, the
 * fault and statistics tables -- goes through the recorder unchanged, on both backends.
 * Times come from the env's clock (virtual for the model, real for a real service);
 * seq numbers give every recorded instant a total order (ties in time are common in a
 * simulation).
 *
 * The file format, one JSON object per line (fields in this order; optional ones
 * omitted when they do not apply):
 *   {"kind":"op","id":N,"client":C,"sid":S,"op":"create|delete|set|get|exists|children|
 *    multi|close|sync","path":P,"data":D,"flags":F,"version":V,"watch":0|1,
 *    "multi":[{"op":"create|delete|set|check","path":P,"data":D,"flags":F,"version":V}..],
 *    "call_ns":T,"call_seq":Q,
 *    "ret_ns":T,"ret_seq":Q,"rc":"OK|NONODE|..."|null,"created":P,"rdata":D,
 *    "stat":{"czxid":..,"mzxid":..,"version":..,"cversion":..,"ephemeral_owner":..,
 *            "num_children":..,"data_length":..},"children":[names..],"rcs":["OK",..]}
 *   {"kind":"watch","client":C,"at_ns":T,"seq":Q,"event":"created|deleted|changed|
 *    children","path":P}
 *   {"kind":"state","client":C,"sid":S,"at_ns":T,"seq":Q,"state":"connected|suspended|
 *    expired|closed|killed"}  (killed: the client process died; its session expires
 *    later, unseen by it)
 * client numbers sessions from 1 in the order they opened; sid is the service's session
 * id (0 while unknown); sid and ephemeral_owner are signed 64-bit, as ZooKeeper has
 * them. data strings hold bytes: \u00XX escapes a byte that is not printable ASCII
 * (a character above \u00ff is refused). An op without "rc" (or with null) was never
 * answered. rc may also be the integer code. Missing seqs read as 0 (then only times
 * order events).
 *
 * Ownership: coord_history_new allocates, coord_history_free frees the history and
 * everything the wrap allocated; free it only after the wrapped service was freed. */
#ifndef SHARDSIM_BACKENDS_HISTORY_H
#define SHARDSIM_BACKENDS_HISTORY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "backends/coord.h"
#include "core/env.h"

enum { COORD_HISTORY_OP = 1, COORD_HISTORY_WATCH, COORD_HISTORY_STATE };
/* state records: COORD_STATE_CONNECTED, _DISCONNECTED ("suspended"), _EXPIRED, and: */
enum { COORD_HISTORY_CLOSED = 10, COORD_HISTORY_KILLED };

/* A multi's operation, as called. */
typedef struct coord_history_subop {
    int type; /* COORD_OP_* */
    char *path;
    char *data;
    size_t data_len;
    int flags;
    int32_t version;
} coord_history_subop;

/* One record. Strings and arrays belong to the history. */
typedef struct coord_history_entry {
    int kind;        /* COORD_HISTORY_* */
    uint32_t client; /* from 1 */
    uint64_t sid;
    /* op: the call */
    int op; /* COORD_OPTYPE_* */
    char *path;
    char *data;
    size_t data_len;
    int flags;
    int32_t version;
    int watch; /* a watch was left */
    coord_history_subop *sub;
    size_t sub_count;
    uint64_t call_ns, call_seq; /* watch and state: when it was seen */
    /* op: the answer (answered = 0: none came) */
    int answered;
    uint64_t ret_ns, ret_seq;
    int rc;
    char *created;
    char *rdata; /* get's data (rdata_len bytes), NULL otherwise */
    size_t rdata_len;
    int has_stat;
    coord_stat stat;
    char **children;
    size_t child_count;
    int *rcs; /* multi */
    size_t rc_count;
    /* watch: COORD_EVENT_*; state: COORD_STATE_* or COORD_HISTORY_CLOSED */
    int event;
} coord_history_entry;

typedef struct coord_history coord_history;

/* A history recording times from e's clock (e may be NULL for one only read back or
 * built by hand: times are then 0). NULL when out of memory. */
coord_history *coord_history_new(const env *e);
void coord_history_free(coord_history *h);

/* Record everything done through *backend / *service, which forward to inner and
 * inner_service. One wrap per history; the wrapper frees inner_service in its
 * service_free. 0, or SS_ENOMEM. */
int coord_history_wrap(coord_history *h, const coord_backend *inner, void *inner_service,
                       const coord_backend **backend, void **service);

size_t coord_history_count(const coord_history *h);
const coord_history_entry *coord_history_at(const coord_history *h, size_t i);

/* Write the history as JSON Lines; 0 or SS_EIO. coord_history_text: the same in one
 * malloc'd string (NULL when out of memory), the caller frees it. */
int coord_history_write(const coord_history *h, FILE *out);
char *coord_history_text(const coord_history *h);

/* Read a history from text (len bytes) or from a file. 0 and *out; or SS_EINVAL (or
 * SS_EIO, SS_ENOMEM) with "NAME:LINE: reason" in err. */
int coord_history_parse(const char *text, size_t len, const char *name, coord_history **out,
                        char *err, size_t errlen);
int coord_history_read(const char *path, coord_history **out, char *err, size_t errlen);

/* Names used by the file format: "create", ...; "connected", ...; "created", .... */
const char *coord_history_state_name(int state);
const char *coord_history_event_name(int event);

#endif
