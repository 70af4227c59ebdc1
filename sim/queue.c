/* queue.c -- the future-event list: a 4-ary min-heap of 16-byte keys over a pool of
 * event records; see queue.h.
 *
 * A heap key is the event's time and one word holding its sequence number (high 40
 * bits) and pool index (low 24 bits), so comparing (time, word) orders by (time, seq)
 * and the sift loops touch only the heap array. A 4-ary heap halves the depth of a
 * binary one and keeps a node's children in one cache line. Cancellation is lazy: the
 * record is marked and skipped when its key reaches the top, so cancelling is O(1)
 * and the heap never needs back-pointers into the pool. */
#include <stdlib.h>
#include <string.h>

#include "core/assert.h"
#include "core/error.h"
#include "sim/queue.h"

#define ARITY 4
#define INDEX_BITS 24
#define MAX_EVENTS (1u << INDEX_BITS) /* pending at once, cancelled ones included */

enum { FREE = 0, QUEUED, CANCELLED };

typedef struct heap_key {
    uint64_t time_ns;
    uint64_t seq_index; /* seq << 24 | pool index */
} heap_key;

typedef struct pool_record {
    queue_event event;
    uint32_t generation;
    uint32_t state;
    uint32_t next_free;
} pool_record;

struct queue {
    heap_key *heap;
    size_t size; /* keys in the heap, cancelled included */
    size_t live; /* queued and not cancelled */
    pool_record *pool;
    size_t cap;
    uint32_t free_head;
    uint64_t next_seq;
    uint64_t last_pop_ns; /* time never goes backwards: no push before it */
};

static inline int before(heap_key a, heap_key b) {
    return a.time_ns < b.time_ns || (a.time_ns == b.time_ns && a.seq_index < b.seq_index);
}

static void sift_up(heap_key *h, size_t pos) {
    heap_key k = h[pos];
    while (pos > 0) {
        size_t parent = (pos - 1) / ARITY;
        if (!before(k, h[parent]))
            break;
        h[pos] = h[parent];
        pos = parent;
    }
    h[pos] = k;
}

static void sift_down(heap_key *h, size_t size, size_t pos) {
    heap_key k = h[pos];
    for (;;) {
        size_t first = pos * ARITY + 1;
        if (first >= size)
            break;
        size_t best = first, last = first + ARITY < size ? first + ARITY : size;
        for (size_t c = first + 1; c < last; c++)
            if (before(h[c], h[best]))
                best = c;
        if (!before(h[best], k))
            break;
        h[pos] = h[best];
        pos = best;
    }
    h[pos] = k;
}

#if SS_HOT_ASSERTS_ON
/* Heap order around pos: its parent is not after it, and it is not after any child. A
 * local check (O(ARITY)), so hot-assert builds can afford it on every push and pop. */
static inline int heap_ordered_at(const heap_key *h, size_t size, size_t pos) {
    if (pos > 0 && before(h[pos], h[(pos - 1) / ARITY]))
        return 0;
    for (size_t c = pos * ARITY + 1; c < size && c <= pos * ARITY + ARITY; c++)
        if (before(h[c], h[pos]))
            return 0;
    return 1;
}
#endif

static int grow(queue *q) {
    size_t cap = q->cap ? q->cap * 2 : 64;
    if (cap > MAX_EVENTS)
        cap = MAX_EVENTS;
    if (cap <= q->cap)
        return SS_ENOMEM;
    pool_record *p = realloc(q->pool, cap * sizeof *p);
    if (!p)
        return SS_ENOMEM;
    q->pool = p;
    heap_key *h = realloc(q->heap, cap * sizeof *h);
    if (!h)
        return SS_ENOMEM;
    q->heap = h;
    memset(p + q->cap, 0, (cap - q->cap) * sizeof *p);
    for (size_t i = cap; i > q->cap; i--) {
        p[i - 1].next_free = q->free_head;
        q->free_head = (uint32_t)(i - 1);
    }
    q->cap = cap;
    return 0;
}

int queue_create(size_t capacity_hint, queue **out) {
    queue *q = calloc(1, sizeof *q);
    if (!q)
        return SS_ENOMEM;
    q->free_head = UINT32_MAX;
    while (q->cap < capacity_hint && q->cap < MAX_EVENTS)
        if (grow(q) != 0) {
            queue_free(q);
            return SS_ENOMEM;
        }
    *out = q;
    return 0;
}

void queue_free(queue *q) {
    if (!q)
        return;
    free(q->heap);
    free(q->pool);
    free(q);
}

int queue_push(queue *q, uint64_t time_ns, uint32_t type, const void *payload, size_t len,
               queue_handle *handle) {
    if (len > QUEUE_PAYLOAD_BYTES)
        return SS_EINVAL;
    SS_ASSERT(time_ns >= q->last_pop_ns); /* a future-event list: nothing in the past */
    if (q->free_head == UINT32_MAX && grow(q) != 0)
        return SS_ENOMEM;
    uint32_t index = q->free_head;
    pool_record *r = &q->pool[index];
    q->free_head = r->next_free;
    r->event.time_ns = time_ns;
    r->event.seq = q->next_seq++;
    r->event.type = type;
    r->event.pad_ = 0;
    memset(r->event.payload.bytes, 0, QUEUE_PAYLOAD_BYTES);
    if (len)
        memcpy(r->event.payload.bytes, payload, len);
    r->generation++;
    r->state = QUEUED;
    q->heap[q->size] = (heap_key){time_ns, r->event.seq << INDEX_BITS | index};
    sift_up(q->heap, q->size++);
    q->live++;
#if SS_HOT_ASSERTS_ON
    SS_ASSERT_HOT(q->live <= q->size && q->size <= q->cap);
    SS_ASSERT_HOT(heap_ordered_at(q->heap, q->size, 0) &&
                  heap_ordered_at(q->heap, q->size, q->size - 1));
#endif
    if (handle)
        *handle = (queue_handle){index, r->generation};
    return 0;
}

static void release(queue *q, uint32_t index) {
    pool_record *r = &q->pool[index];
    r->state = FREE;
    r->generation++; /* stale handles no longer match */
    r->next_free = q->free_head;
    q->free_head = index;
}

/* Remove the top key; returns its pool index. */
static uint32_t remove_top(queue *q) {
    uint32_t index = (uint32_t)(q->heap[0].seq_index & (MAX_EVENTS - 1));
    if (--q->size > 0) {
        q->heap[0] = q->heap[q->size];
        sift_down(q->heap, q->size, 0);
    }
    return index;
}

/* Drop cancelled keys from the top. */
static void skip_cancelled(queue *q) {
    while (q->size && q->pool[q->heap[0].seq_index & (MAX_EVENTS - 1)].state == CANCELLED)
        release(q, remove_top(q));
}

int queue_pop(queue *q, queue_event *ev) {
    skip_cancelled(q);
    if (q->size == 0)
        return SS_EEMPTY;
    uint32_t index = remove_top(q);
    SS_ASSERT_HOT(q->pool[index].state == QUEUED && q->live > 0);
    *ev = q->pool[index].event;
    release(q, index);
    q->live--;
    SS_ASSERT(ev->time_ns >= q->last_pop_ns); /* time never goes backwards */
    q->last_pop_ns = ev->time_ns;
#if SS_HOT_ASSERTS_ON
    SS_ASSERT_HOT(q->live <= q->size && (q->size == 0 || heap_ordered_at(q->heap, q->size, 0)));
#endif
    /* The next pop reads the new top's record: start fetching it now. */
    if (q->size)
        __builtin_prefetch(&q->pool[q->heap[0].seq_index & (MAX_EVENTS - 1)]);
    return 0;
}

int queue_peek_time(queue *q, uint64_t *time_ns) {
    skip_cancelled(q);
    if (q->size == 0)
        return SS_EEMPTY;
    *time_ns = q->heap[0].time_ns;
    return 0;
}

int queue_cancel(queue *q, queue_handle handle) {
    if (handle.index >= q->cap)
        return SS_EINVAL;
    pool_record *r = &q->pool[handle.index];
    if (r->generation != handle.generation || r->state != QUEUED)
        return SS_EINVAL;
    SS_ASSERT(q->live > 0);
    r->state = CANCELLED;
    q->live--;
    return 0;
}

size_t queue_size(const queue *q) {
    return q->live;
}
