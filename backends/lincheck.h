/* lincheck.h -- is a coordination history (backends/history.h) one ZooKeeper could
 * have produced? A checker in the Wing & Gong / Lowe style (as Porcupine): the history
 * is split by znode path into independent sub-histories (an op that touches several
 * paths -- a multi, a sequential create and its parent's counter, a children list and
 * the children -- joins their partitions; sync, close and session expiry belong to
 * every partition), and each is searched for an order of its operations that a
 * sequential model of the znodes (exists, data, version, ephemeral owner, children,
 * the parent's sequence counter) explains, with memoisation of (operations placed,
 * model state) and a bound on the work.
 *
 * The guarantees checked are ZooKeeper's: writes are linearizable (real-time order);
 * a session's operations take effect in the order it issued them; reads are
 * sequentially consistent (a read may see an older state than the newest, never one
 * older than what its session saw or wrote before) and linearizable after a sync
 * (sync is placed in real-time order like a write); sequence numbers grow under a
 * parent; an expired or closed session's ephemerals are gone; a session sees a watch
 * event before any reply that shows the change behind it. An operation without an
 * answer, or answered CONNECTIONLOSS / OPERATIONTIMEOUT / CLOSING / SESSIONEXPIRED, may
 * have been applied at any time after its call, or never; a killed client's session
 * expires at some time after the kill.
 *
 * Conservative where a partition cannot see everything: a create answered NONODE (the
 * parent is elsewhere) and a delete answered NOTEMPTY are accepted as not applied, and
 * the tree starts empty (paths that existed before the history began are not known); a
 * session may have been expired unseen by its client; the watch order is judged only
 * where a reply shows the change (the node's own reads, its parent's listing, a zxid).
 * "ok" never hides a violation the model can see; "violation" is always real for an
 * initially empty tree. */
#ifndef SHARDSIM_BACKENDS_LINCHECK_H
#define SHARDSIM_BACKENDS_LINCHECK_H

#include <stddef.h>
#include <stdint.h>

#include "backends/history.h"

enum { LINCHECK_OK = 0, LINCHECK_VIOLATION = 1, LINCHECK_UNKNOWN = 2 };

typedef struct lincheck_options {
    /* search steps a partition may take before its answer is "unknown"; 0: 2,000,000 */
    uint64_t max_steps;
} lincheck_options;

typedef struct lincheck_result {
    int verdict;         /* LINCHECK_* */
    uint64_t ops;        /* operations checked */
    uint64_t partitions; /* independent sub-histories */
    uint64_t steps;      /* search steps taken, every partition together */
    /* a violation: the smallest offending sub-history found (its paths and the ops that
     * could not be placed); unknown: which partition ran out of steps */
    char detail[1024];
} lincheck_result;

/* Check history h (opt NULL: defaults). 0 with the verdict in *out, or SS_ENOMEM. */
int lincheck_run(const coord_history *h, const lincheck_options *opt, lincheck_result *out);

/* "ok", "violation", "unknown". */
const char *lincheck_verdict_name(int verdict);

#endif
