/* queue.c -- the future-event list: a 4-ary min-heap over a pool of event records;
 * see queue.h. The heap holds (time, seq, pool index) entries so comparisons touch
 * only the heap array; each pool record remembers its heap position for O(log n)
 * cancellation. A 4-ary heap halves the depth of a binary one and keeps a node's
 * children in one cache line. */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "sim/queue.h"

#define ARITY 4
#define NOT_QUEUED UINT32_MAX

typedef struct heap_entry {
    uint64_t time_ns;
    uint64_t seq;
    uint32_t index; /* into the pool */
} heap_entry;

typedef struct pool_record {
    queue_event event;
    uint32_t generation;
    uint32_t position; /* in the heap, or NOT_QUEUED (then next_free is meaningful) */
    uint32_t next_free;
} pool_record;

struct queue {
    heap_entry *heap;
    size_t size, heap_cap;
    pool_record *pool;
    size_t pool_cap;
    uint32_t free_head; /* UINT32_MAX = none */
    uint64_t next_seq;
};

static inline int before(const heap_entry *a, const heap_entry *b) {
    return a->time_ns < b->time_ns || (a->time_ns == b->time_ns && a->seq < b->seq);
}

static inline void place(queue *q, size_t pos, heap_entry e) {
    q->heap[pos] = e;
    q->pool[e.index].position = (uint32_t)pos;
}

static void sift_up(queue *q, size_t pos) {
    heap_entry e = q->heap[pos];
    while (pos > 0) {
        size_t parent = (pos - 1) / ARITY;
        if (!before(&e, &q->heap[parent]))
            break;
        place(q, pos, q->heap[parent]);
        pos = parent;
    }
    place(q, pos, e);
}

static void sift_down(queue *q, size_t pos) {
    heap_entry e = q->heap[pos];
    for (;;) {
        size_t first = pos * ARITY + 1;
        if (first >= q->size)
            break;
        size_t best = first, last = first + ARITY < q->size ? first + ARITY : q->size;
        for (size_t c = first + 1; c < last; c++)
            if (before(&q->heap[c], &q->heap[best]))
                best = c;
        if (!before(&q->heap[best], &e))
            break;
        place(q, pos, q->heap[best]);
        pos = best;
    }
    place(q, pos, e);
}

static int grow_pool(queue *q) {
    size_t cap = q->pool_cap ? q->pool_cap * 2 : 64;
    if (cap > UINT32_MAX - 1)
        return SS_ENOMEM;
    pool_record *p = realloc(q->pool, cap * sizeof *p);
    if (!p)
        return SS_ENOMEM;
    memset(p + q->pool_cap, 0, (cap - q->pool_cap) * sizeof *p);
    for (size_t i = cap; i > q->pool_cap; i--) { /* new records join the free list */
        p[i - 1].position = NOT_QUEUED;
        p[i - 1].next_free = q->free_head;
        q->free_head = (uint32_t)(i - 1);
    }
    q->pool = p;
    q->pool_cap = cap;
    heap_entry *h = realloc(q->heap, cap * sizeof *h);
    if (!h)
        return SS_ENOMEM;
    q->heap = h;
    q->heap_cap = cap;
    return 0;
}

int queue_create(size_t capacity_hint, queue **out) {
    queue *q = calloc(1, sizeof *q);
    if (!q)
        return SS_ENOMEM;
    q->free_head = UINT32_MAX;
    while (q->pool_cap < capacity_hint)
        if (grow_pool(q) != 0) {
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
    if (q->free_head == UINT32_MAX && grow_pool(q) != 0)
        return SS_ENOMEM;
    uint32_t index = q->free_head;
    pool_record *r = &q->pool[index];
    q->free_head = r->next_free;
    memset(&r->event, 0, sizeof r->event);
    r->event.time_ns = time_ns;
    r->event.seq = q->next_seq++;
    r->event.type = type;
    if (len)
        memcpy(r->event.payload.bytes, payload, len);
    r->generation++;
    heap_entry e = {time_ns, r->event.seq, index};
    q->heap[q->size] = e;
    r->position = (uint32_t)q->size++;
    sift_up(q, q->size - 1);
    if (handle)
        *handle = (queue_handle){index, r->generation};
    return 0;
}

/* Take the heap entry at pos out and recycle its record. */
static void remove_at(queue *q, size_t pos) {
    uint32_t index = q->heap[pos].index;
    q->size--;
    if (pos < q->size) {
        heap_entry last = q->heap[q->size];
        place(q, pos, last);
        if (pos > 0 && before(&last, &q->heap[(pos - 1) / ARITY]))
            sift_up(q, pos);
        else
            sift_down(q, pos);
    }
    pool_record *r = &q->pool[index];
    r->position = NOT_QUEUED;
    r->generation++; /* stale handles no longer match */
    r->next_free = q->free_head;
    q->free_head = index;
}

int queue_pop(queue *q, queue_event *ev) {
    if (q->size == 0)
        return SS_EEMPTY;
    *ev = q->pool[q->heap[0].index].event;
    remove_at(q, 0);
    return 0;
}

int queue_peek_time(const queue *q, uint64_t *time_ns) {
    if (q->size == 0)
        return SS_EEMPTY;
    *time_ns = q->heap[0].time_ns;
    return 0;
}

int queue_cancel(queue *q, queue_handle handle) {
    if (handle.index >= q->pool_cap)
        return SS_EINVAL;
    pool_record *r = &q->pool[handle.index];
    if (r->generation != handle.generation || r->position == NOT_QUEUED)
        return SS_EINVAL;
    remove_at(q, r->position);
    return 0;
}

size_t queue_size(const queue *q) { return q->size; }
