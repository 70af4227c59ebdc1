/* queue.h -- the future-event list: events totally ordered by (time, sequence).
 *
 * A radix heap over the (time, sequence) keys whose buckets hold the events whole, in
 * fixed-size chunks (no malloc per event). Every pushed event gets the next sequence
 * number, so events at equal times pop in push order, whatever the buckets' layout.
 * Events pushed with a handle can be cancelled (lazily: the event is dropped when it
 * reaches the front); a handle carries a generation, so a stale handle (its event
 * already popped or cancelled) is detected and refused. At most 2^24 events with a
 * handle may be pending at once; events without one are bounded by memory only.
 *
 * Ownership: queue_create/queue_free own all the memory; payload bytes are copied in. */
#ifndef SHARDSIM_SIM_QUEUE_H
#define SHARDSIM_SIM_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#define QUEUE_PAYLOAD_BYTES 32

typedef struct queue_event {
    uint64_t time_ns; /* virtual time it fires */
    uint64_t seq;     /* push order; ties on time_ns break on it */
    uint32_t type;    /* caller-defined event type */
    uint32_t pad_;    /* zero (used inside the queue) */
    union {
        uint8_t bytes[QUEUE_PAYLOAD_BYTES];
        uint64_t u64[QUEUE_PAYLOAD_BYTES / 8];
    } payload; /* caller-defined, copied in and out */
} queue_event;

/* An event handle: index into the pool and its generation. */
typedef struct queue_handle {
    uint32_t index;
    uint32_t generation;
} queue_handle;

typedef struct queue queue; /* opaque-ish; see queue.c */

/* Create an empty queue with room for `capacity_hint` events (grows as needed).
 * Returns 0, or SS_ENOMEM. */
int queue_create(size_t capacity_hint, queue **out);
void queue_free(queue *q);

/* Schedule an event. time_ns, type and payload are the caller's; seq is assigned.
 * *handle (may be NULL) receives a handle for queue_cancel. Returns 0 or SS_ENOMEM.
 * Time never goes backwards: time_ns must not be earlier than the last popped event's
 * (an assertion, core/assert.h, aborts otherwise). */
int queue_push(queue *q, uint64_t time_ns, uint32_t type, const void *payload, size_t len,
               queue_handle *handle);

/* Pop the earliest event (least (time_ns, seq)) into *ev. Returns 0, or SS_EEMPTY. */
int queue_pop(queue *q, queue_event *ev);

/* The earliest event's time without removing it; returns SS_EEMPTY when empty. (Not
 * const: it drops cancelled events from the top.) A later push may still come before
 * the peeked event, as long as it is not before the last pop. */
int queue_peek_time(queue *q, uint64_t *time_ns);

/* Cancel a pending event. Returns 0, or SS_EINVAL for a stale or unknown handle. */
int queue_cancel(queue *q, queue_handle handle);

size_t queue_size(const queue *q);

#endif
