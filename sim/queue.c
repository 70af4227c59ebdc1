/* queue.c -- the future-event list: a radix heap over (time, sequence) keys whose
 * events move whole, in chunks; see queue.h.
 *
 * A radix heap (Ahuja, Mehlhorn, Orlin and Tarjan, 1990) works for a monotone queue:
 * no key is ever smaller than the last one taken out. Here the key is the 128-bit pair
 * (time_ns, seq), and that holds: a push has a time no earlier than the last pop's and
 * a larger sequence number than every event before it. Relative to a reference key
 * `last` (the least key found so far), an event lives in bucket 1 + the index of the
 * highest bit in which its key differs from `last` (bits 0-63: seq, 64-127: time), so
 * every event in bucket b is smaller than every event in bucket b + 1. Taking the
 * minimum empties the lowest non-empty bucket: its least key becomes `last` and its
 * events fall into lower buckets. An event moves a few times on its way down, each
 * time copied whole (key and payload) in sequence, so the hot path reads memory in
 * order instead of chasing a pool record per event as a heap of keys must.
 *
 * `front` holds the events at or below `last`, sorted, least at the end: the minimum a
 * refill found, or a whole small bucket (see refill), and pushes that land at or below
 * `last` (after the last pop, still), inserted in order.
 *
 * Buckets are linked lists of fixed-size chunks drawn from one array. Push keeps enough
 * chunks in reserve for every event to sit in its own bucket's lists, so refilling (in
 * pop and peek, which cannot fail) never allocates.
 *
 * Cancellation is lazy: only events pushed with a handle take a slot (generation and
 * state), stored in the event's pad_ word while it is queued; a cancelled event is
 * dropped when it reaches the front. */
#include <stdlib.h>
#include <string.h>

#include "core/assert.h"
#include "core/error.h"
#include "sim/queue.h"

#define BUCKETS 129           /* 0 (unused: the front), 1-64 seq bits, 65-128 time bits */
#define CHUNK_EVENTS 32       /* events per chunk */
#define SMALL 16              /* a bucket this small goes to the front whole */
#define NONE UINT32_MAX       /* no chunk, no slot */
#define MAX_SLOTS (1u << 24)  /* events with a handle, pending at once */
#define RESERVE (BUCKETS + 3) /* chunks beyond size / CHUNK_EVENTS; see queue_push */

enum { FREE = 0, QUEUED, CANCELLED };

typedef struct slot {
    uint32_t generation;
    uint32_t state;
    uint32_t next_free;
} slot;

struct queue {
    queue_event *chunk_events; /* chunk c holds chunk_events[c * CHUNK_EVENTS ...] */
    uint32_t *chunk_next;      /* next chunk in its bucket or in the free list */
    uint32_t *chunk_fill;      /* events in the chunk */
    uint32_t chunks;           /* allocated */
    uint32_t free_chunk;
    uint32_t head[BUCKETS]; /* the bucket's chunk being filled, NONE when empty */
    uint64_t nonempty[3];   /* bit b: head[b] != NONE */
    queue_event *front;     /* events at or below last, least at the end */
    size_t front_count, front_cap;
    uint64_t last_time_ns, last_seq; /* the reference key */
    size_t size;                     /* events held, cancelled included */
    size_t live;                     /* queued and not cancelled */
    slot *slots;
    uint32_t slot_cap, free_slot;
    uint64_t next_seq;
    uint64_t last_pop_ns;  /* time never goes backwards: no push before it */
    uint64_t last_pop_seq; /* hot asserts: popped keys strictly increase (MAX: none yet) */
};

static inline int before(const queue_event *a, uint64_t time_ns, uint64_t seq) {
    return a->time_ns < time_ns || (a->time_ns == time_ns && a->seq < seq);
}

static inline unsigned top_bit(uint64_t x) {
    return 63u - (unsigned)__builtin_clzll(x);
}

/* The bucket of an event above last: 1 + its highest bit differing from last. */
static inline unsigned bucket_of(const queue *q, const queue_event *e) {
    if (e->time_ns != q->last_time_ns)
        return 65u + top_bit(e->time_ns ^ q->last_time_ns);
    return 1u + top_bit(e->seq ^ q->last_seq);
}

/* The lowest non-empty bucket; the caller knows one is. */
static unsigned lowest_bucket(const queue *q) {
    for (unsigned w = 0;; w++)
        if (q->nonempty[w])
            return w * 64u + (unsigned)__builtin_ctzll(q->nonempty[w]);
}

static void bucket_put(queue *q, unsigned b, const queue_event *e) {
    uint32_t c = q->head[b];
    if (c == NONE || q->chunk_fill[c] == CHUNK_EVENTS) {
        uint32_t fresh = q->free_chunk;
        SS_ASSERT(fresh != NONE); /* push keeps RESERVE chunks spare */
        q->free_chunk = q->chunk_next[fresh];
        q->chunk_next[fresh] = c;
        q->chunk_fill[fresh] = 0;
        q->head[b] = c = fresh;
        q->nonempty[b / 64] |= 1ull << (b % 64);
    }
    q->chunk_events[(size_t)c * CHUNK_EVENTS + q->chunk_fill[c]++] = *e;
}

/* Make the least key in the chunks from c on the reference key. */
static void find_least(queue *q, uint32_t c) {
    const queue_event *least = NULL;
    for (; c != NONE; c = q->chunk_next[c]) {
        const queue_event *e = &q->chunk_events[(size_t)c * CHUNK_EVENTS];
        for (uint32_t i = 0; i < q->chunk_fill[c]; i++)
            if (!least || before(&e[i], least->time_ns, least->seq))
                least = &e[i];
    }
    q->last_time_ns = least->time_ns;
    q->last_seq = least->seq;
}

/* Insert e into the sorted front (e is at or below last). */
static void front_insert(queue *q, const queue_event *e) {
    size_t i = q->front_count;
    while (i > 0 && before(&q->front[i - 1], e->time_ns, e->seq)) {
        q->front[i] = q->front[i - 1];
        i--;
    }
    q->front[i] = *e;
    q->front_count++;
}

/* Move the events of bucket b's chunks, from c on, below the new `last`: the one equal
 * to it to the front, the others to lower buckets; free the chunks. */
static void redistribute(queue *q, unsigned b, uint32_t c) {
    (void)b; /* hot asserts only */
    while (c != NONE) {
        const queue_event *e = &q->chunk_events[(size_t)c * CHUNK_EVENTS];
        for (uint32_t i = 0; i < q->chunk_fill[c]; i++) {
            if (e[i].time_ns == q->last_time_ns && e[i].seq == q->last_seq) {
                q->front[q->front_count++] = e[i]; /* front_cap >= 1, front was empty */
                continue;
            }
            unsigned to = bucket_of(q, &e[i]);
            SS_ASSERT_HOT(to < b);
            bucket_put(q, to, &e[i]);
        }
        uint32_t next = q->chunk_next[c];
        q->chunk_next[c] = q->free_chunk;
        q->free_chunk = c;
        c = next;
    }
}

/* The front is empty and the queue is not: move the least event to the front,
 * redistributing the lowest non-empty bucket below it. A bucket of at most SMALL
 * events goes to the front whole, sorted, its greatest key becoming `last` (any key of
 * the bucket can: they all share its bits above the bucket's with the old `last`, so
 * the higher buckets stay valid); that saves the last few moves down. */
static void refill(queue *q) {
    unsigned b = lowest_bucket(q);
    uint32_t c = q->head[b];
    q->head[b] = NONE;
    q->nonempty[b / 64] &= ~(1ull << (b % 64));
    if (q->chunk_next[c] == NONE && q->chunk_fill[c] <= SMALL) {
        const queue_event *e = &q->chunk_events[(size_t)c * CHUNK_EVENTS];
        for (uint32_t i = 0; i < q->chunk_fill[c]; i++)
            front_insert(q, &e[i]); /* front_cap >= SMALL, front was empty */
        q->last_time_ns = q->front[0].time_ns;
        q->last_seq = q->front[0].seq;
        q->chunk_next[c] = q->free_chunk;
        q->free_chunk = c;
    } else {
        find_least(q, c);
        redistribute(q, b, c);
    }
    SS_ASSERT_HOT(q->front_count >= 1);
}

/* Grow the chunk array to at least `want` chunks. Returns 0 or SS_ENOMEM. */
static int grow_chunks(queue *q, size_t want) {
    size_t cap = q->chunks ? q->chunks : RESERVE;
    while (cap < want)
        cap *= 2;
    if (cap >= NONE)
        return SS_ENOMEM;
    queue_event *ev = realloc(q->chunk_events, cap * CHUNK_EVENTS * sizeof *ev);
    if (!ev)
        return SS_ENOMEM;
    q->chunk_events = ev;
    uint32_t *next = realloc(q->chunk_next, cap * sizeof *next);
    if (!next)
        return SS_ENOMEM;
    q->chunk_next = next;
    uint32_t *fill = realloc(q->chunk_fill, cap * sizeof *fill);
    if (!fill)
        return SS_ENOMEM;
    q->chunk_fill = fill;
    for (size_t c = cap; c > q->chunks; c--) {
        q->chunk_next[c - 1] = q->free_chunk;
        q->chunk_fill[c - 1] = 0;
        q->free_chunk = (uint32_t)(c - 1);
    }
    q->chunks = (uint32_t)cap;
    return 0;
}

static int grow_front(queue *q) {
    size_t cap = q->front_cap ? q->front_cap * 2 : SMALL;
    queue_event *f = realloc(q->front, cap * sizeof *f);
    if (!f)
        return SS_ENOMEM;
    q->front = f;
    q->front_cap = cap;
    return 0;
}

static int grow_slots(queue *q) {
    size_t cap = q->slot_cap ? (size_t)q->slot_cap * 2 : 64;
    if (cap > MAX_SLOTS)
        cap = MAX_SLOTS;
    if (cap <= q->slot_cap)
        return SS_ENOMEM;
    slot *s = realloc(q->slots, cap * sizeof *s);
    if (!s)
        return SS_ENOMEM;
    q->slots = s;
    memset(s + q->slot_cap, 0, (cap - q->slot_cap) * sizeof *s);
    for (size_t i = cap; i > q->slot_cap; i--) {
        s[i - 1].next_free = q->free_slot;
        q->free_slot = (uint32_t)(i - 1);
    }
    q->slot_cap = (uint32_t)cap;
    return 0;
}

int queue_create(size_t capacity_hint, queue **out) {
    queue *q = calloc(1, sizeof *q);
    if (!q)
        return SS_ENOMEM;
    q->free_chunk = NONE;
    q->free_slot = NONE;
    q->last_pop_seq = UINT64_MAX;
    for (unsigned b = 0; b < BUCKETS; b++)
        q->head[b] = NONE;
    if (grow_chunks(q, capacity_hint / CHUNK_EVENTS + RESERVE) != 0 || grow_front(q) != 0) {
        queue_free(q);
        return SS_ENOMEM;
    }
    *out = q;
    return 0;
}

void queue_free(queue *q) {
    if (!q)
        return;
    free(q->chunk_events);
    free(q->chunk_next);
    free(q->chunk_fill);
    free(q->front);
    free(q->slots);
    free(q);
}

/* Take a slot for a handle. Returns the slot or NONE (out of memory or slots). */
static uint32_t take_slot(queue *q) {
    if (q->free_slot == NONE && grow_slots(q) != 0)
        return NONE;
    uint32_t index = q->free_slot;
    slot *s = &q->slots[index];
    q->free_slot = s->next_free;
    s->generation++;
    s->state = QUEUED;
    return index;
}

int queue_push(queue *q, uint64_t time_ns, uint32_t type, const void *payload, size_t len,
               queue_handle *handle) {
    if (len > QUEUE_PAYLOAD_BYTES)
        return SS_EINVAL;
    SS_ASSERT(time_ns >= q->last_pop_ns); /* a future-event list: nothing in the past */
    /* Every event in its bucket's chunks, plus one partly filled chunk per bucket and
     * the chunk a refill is reading: refill never runs out. */
    size_t want = (q->size + 1) / CHUNK_EVENTS + RESERVE;
    if (want > q->chunks && grow_chunks(q, want) != 0)
        return SS_ENOMEM;
    if (q->front_count == q->front_cap && grow_front(q) != 0)
        return SS_ENOMEM;
    uint32_t index = NONE;
    if (handle && (index = take_slot(q)) == NONE)
        return SS_ENOMEM;
    queue_event e = {.time_ns = time_ns, .seq = q->next_seq++, .type = type, .pad_ = index};
    if (len)
        memcpy(e.payload.bytes, payload, len);
    if (before(&e, q->last_time_ns, q->last_seq + 1)) /* at or below last */
        front_insert(q, &e);
    else
        bucket_put(q, bucket_of(q, &e), &e);
    q->size++;
    q->live++;
    SS_ASSERT_HOT(q->live <= q->size && q->front_count <= q->front_cap);
    if (handle)
        *handle = (queue_handle){index, q->slots[index].generation};
    return 0;
}

static void release_slot(queue *q, uint32_t index) {
    slot *s = &q->slots[index];
    s->state = FREE;
    s->generation++; /* stale handles no longer match */
    s->next_free = q->free_slot;
    q->free_slot = index;
}

/* Bring the least live event to the end of the front, dropping cancelled ones on the
 * way. Returns 0, or SS_EEMPTY. */
static int settle(queue *q) {
    for (;;) {
        if (q->front_count == 0) {
            if (q->size == 0)
                return SS_EEMPTY;
            refill(q);
        }
        const queue_event *top = &q->front[q->front_count - 1];
        if (top->pad_ == NONE || q->slots[top->pad_].state != CANCELLED)
            return 0;
        release_slot(q, top->pad_);
        q->front_count--;
        q->size--;
    }
}

int queue_pop(queue *q, queue_event *ev) {
    if (settle(q) != 0)
        return SS_EEMPTY;
    *ev = q->front[--q->front_count];
    q->size--;
    SS_ASSERT_HOT(q->live > 0 && q->live <= q->size + 1);
    q->live--;
    if (ev->pad_ != NONE) {
        SS_ASSERT_HOT(q->slots[ev->pad_].state == QUEUED);
        release_slot(q, ev->pad_);
    }
    ev->pad_ = 0;
    SS_ASSERT(ev->time_ns >= q->last_pop_ns); /* time never goes backwards */
    SS_ASSERT_HOT(q->last_pop_seq == UINT64_MAX || ev->time_ns > q->last_pop_ns ||
                  ev->seq > q->last_pop_seq); /* (time, seq) strictly increases */
    q->last_pop_ns = ev->time_ns;
#if SS_HOT_ASSERTS_ON
    q->last_pop_seq = ev->seq;
#endif
    return 0;
}

int queue_peek_time(queue *q, uint64_t *time_ns) {
    if (settle(q) != 0)
        return SS_EEMPTY;
    *time_ns = q->front[q->front_count - 1].time_ns;
    return 0;
}

int queue_cancel(queue *q, queue_handle handle) {
    if (handle.index >= q->slot_cap)
        return SS_EINVAL;
    slot *s = &q->slots[handle.index];
    if (s->generation != handle.generation || s->state != QUEUED)
        return SS_EINVAL;
    SS_ASSERT(q->live > 0);
    s->state = CANCELLED;
    q->live--;
    return 0;
}

size_t queue_size(const queue *q) {
    return q->live;
}
