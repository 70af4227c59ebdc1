/* hash_crc32c.c -- CRC32C (Castagnoli): a portable slicing-by-8 path and an SSE4.2
 * path, picked at run time from CPUID; both give the same result on every input.
 *
 * The hardware path runs three independent crc32 instruction streams over three
 * adjacent blocks (the instruction has a latency of 3 cycles and a throughput of 1 per
 * cycle, so one stream leaves two thirds of the unit idle), then joins them with
 * precomputed "append N zero bytes" tables (Mark Adler's method for crc32c). Keys of up
 * to 64 bytes skip all of that: one jump on the length lands on the straight-line crc32
 * sequence for exactly that length, inlined into hash_crc32c and hash_crc32c_batch. */
#include <string.h>

#include "core/crc32c_tables.h"
#include "core/hash.h"

#define LONG_BLOCK 8192
#define SHORT_BLOCK 256
#define SHORT_MAX 128 /* hw_short_raw takes len < SHORT_MAX */

static inline uint64_t load64le(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

/* Raw register update, no pre/post inversion. */
static uint32_t sw_raw(uint32_t c, const uint8_t *p, size_t len) {
    while (len && ((uintptr_t)p & 7)) {
        c = crc32c_table[0][(c ^ *p++) & 0xff] ^ (c >> 8);
        len--;
    }
    while (len >= 8) {
        uint64_t w = load64le(p) ^ c;
        c = crc32c_table[7][w & 0xff] ^ crc32c_table[6][(w >> 8) & 0xff] ^
            crc32c_table[5][(w >> 16) & 0xff] ^ crc32c_table[4][(w >> 24) & 0xff] ^
            crc32c_table[3][(w >> 32) & 0xff] ^ crc32c_table[2][(w >> 40) & 0xff] ^
            crc32c_table[1][(w >> 48) & 0xff] ^ crc32c_table[0][w >> 56];
        p += 8;
        len -= 8;
    }
    while (len--)
        c = crc32c_table[0][(c ^ *p++) & 0xff] ^ (c >> 8);
    return c;
}

uint32_t hash_crc32c_sw(uint32_t crc, const void *data, size_t len) {
    return ~sw_raw(~crc, data, len);
}

#if defined(__x86_64__)
#include <cpuid.h>
#include <nmmintrin.h>

int hash_crc32c_hw_available(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d))
        return 0;
    return (c & bit_SSE4_2) != 0;
}

/* Apply a zeros table: the register after appending that many zero bytes. */
static inline uint32_t shift(const uint32_t table[4][256], uint32_t c) {
    return table[0][c & 0xff] ^ table[1][(c >> 8) & 0xff] ^ table[2][(c >> 16) & 0xff] ^
           table[3][c >> 24];
}

/* Short messages (len < SHORT_MAX): crc32 instructions chunk by chunk, one branch per
 * bit of the length, from the largest chunk down so the bytes are fed in order -- no
 * alignment prologue (a misaligned 8-byte load costs nothing here), no loop counter, no
 * three-stream join. With a constant len every branch folds away and what is left is
 * the straight-line sequence for that length (see hw_key). */
/* words 8-byte words at p, in order; words is a constant wherever this is used. */
__attribute__((target("sse4.2"), always_inline)) static inline uint64_t
hw_words(uint64_t c, const uint8_t *p, int words) {
    for (int i = 0; i < words; i++)
        c = _mm_crc32_u64(c, load64le(p + 8 * i));
    return c;
}

__attribute__((target("sse4.2"), always_inline)) static inline uint32_t
hw_short_raw(uint32_t crc, const uint8_t *p, size_t len) {
    uint64_t c = crc;
    if (len & 64) {
        c = hw_words(c, p, 4); /* two fours: gcc -O2 unrolls four, not eight */
        c = hw_words(c, p + 32, 4);
        p += 64;
    }
    if (len & 32) {
        c = hw_words(c, p, 4);
        p += 32;
    }
    if (len & 16) {
        c = hw_words(c, p, 2);
        p += 16;
    }
    if (len & 8) {
        c = _mm_crc32_u64(c, load64le(p));
        p += 8;
    }
    uint32_t c32 = (uint32_t)c;
    if (len & 4) {
        uint32_t w;
        memcpy(&w, p, 4);
        c32 = _mm_crc32_u32(c32, w);
        p += 4;
    }
    if (len & 2) {
        uint16_t w;
        memcpy(&w, p, 2);
        c32 = _mm_crc32_u16(c32, w);
        p += 2;
    }
    if (len & 1)
        c32 = _mm_crc32_u8(c32, *p);
    return c32;
}

__attribute__((target("sse4.2"))) __attribute__((noinline)) static uint32_t
hw_long_raw(uint32_t c, const uint8_t *p, size_t len) {
    uint64_t c0 = c;
    while (len && ((uintptr_t)p & 7)) {
        c0 = _mm_crc32_u8((uint32_t)c0, *p++);
        len--;
    }
    /* Three streams over LONG_BLOCK blocks, then over SHORT_BLOCK blocks. */
    while (len >= 3 * LONG_BLOCK) {
        uint64_t c1 = 0, c2 = 0;
        const uint8_t *end = p + LONG_BLOCK;
        do {
            c0 = _mm_crc32_u64(c0, load64le(p));
            c1 = _mm_crc32_u64(c1, load64le(p + LONG_BLOCK));
            c2 = _mm_crc32_u64(c2, load64le(p + 2 * LONG_BLOCK));
            p += 8;
        } while (p < end);
        c0 = shift(crc32c_zeros_long, (uint32_t)c0) ^ c1;
        c0 = shift(crc32c_zeros_long, (uint32_t)c0) ^ c2;
        p += 2 * LONG_BLOCK;
        len -= 3 * LONG_BLOCK;
    }
    while (len >= 3 * SHORT_BLOCK) {
        uint64_t c1 = 0, c2 = 0;
        const uint8_t *end = p + SHORT_BLOCK;
        do {
            c0 = _mm_crc32_u64(c0, load64le(p));
            c1 = _mm_crc32_u64(c1, load64le(p + SHORT_BLOCK));
            c2 = _mm_crc32_u64(c2, load64le(p + 2 * SHORT_BLOCK));
            p += 8;
        } while (p < end);
        c0 = shift(crc32c_zeros_short, (uint32_t)c0) ^ c1;
        c0 = shift(crc32c_zeros_short, (uint32_t)c0) ^ c2;
        p += 2 * SHORT_BLOCK;
        len -= 3 * SHORT_BLOCK;
    }
    while (len >= 8) {
        c0 = _mm_crc32_u64(c0, load64le(p));
        p += 8;
        len -= 8;
    }
    while (len--)
        c0 = _mm_crc32_u8((uint32_t)c0, *p++);
    return (uint32_t)c0;
}

__attribute__((target("sse4.2"))) uint32_t hash_crc32c_hw(uint32_t crc, const void *data,
                                                          size_t len) {
    if (len < SHORT_MAX)
        return ~hw_short_raw(~crc, data, len);
    return ~hw_long_raw(~crc, data, len);
}

/* A key of up to 64 bytes: one jump on len to the straight-line sequence for that
 * exact length (the jump is predicted when lengths repeat, as keys' do); longer ones
 * through hw_long_raw. */
#define KEY_CASE(n)                                                                                \
    case n:                                                                                        \
        return ~hw_short_raw(0xFFFFFFFFu, p, n)
#define KEY_CASE4(n)                                                                               \
    KEY_CASE(n);                                                                                   \
    KEY_CASE(n + 1);                                                                               \
    KEY_CASE(n + 2);                                                                               \
    KEY_CASE(n + 3)

__attribute__((target("sse4.2"), always_inline)) static inline uint32_t hw_key(const uint8_t *p,
                                                                               size_t len) {
    switch (len) {
        KEY_CASE4(0);
        KEY_CASE4(4);
        KEY_CASE4(8);
        KEY_CASE4(12);
        KEY_CASE4(16);
        KEY_CASE4(20);
        KEY_CASE4(24);
        KEY_CASE4(28);
        KEY_CASE4(32);
        KEY_CASE4(36);
        KEY_CASE4(40);
        KEY_CASE4(44);
        KEY_CASE4(48);
        KEY_CASE4(52);
        KEY_CASE4(56);
        KEY_CASE4(60);
        KEY_CASE(64);
    default:
        return hash_crc32c_hw(0, p, len);
    }
}

/* The portable path as a call: it must not be inlined into a function built for SSE4.2
 * (below), so it stays compiled for the base x86-64. */
__attribute__((noinline)) static uint32_t sw_call(uint32_t crc, const void *data, size_t len) {
    return hash_crc32c_sw(crc, data, len);
}

/* libgcc (and compiler-rt) read CPUID once at start-up; asking is a load and a test. */
static inline int use_hw(void) {
    return __builtin_cpu_supports("sse4.2");
}

/* The dispatchers are built for SSE4.2 so that the key path is inlined into them: a
 * separate hop costs as much as the hash of an 8-byte key. On a CPU without SSE4.2 they
 * run only the CPUID test and the call to sw_call, which is built for the base x86-64
 * (its code lies outside them; the test is the first thing they do). */
__attribute__((target("sse4.2"))) uint32_t hash_crc32c(const void *data, size_t len) {
    if (!use_hw())
        return sw_call(0, data, len);
    return hw_key(data, len);
}

__attribute__((target("sse4.2"))) uint32_t hash_crc32c_update(uint32_t crc, const void *data,
                                                              size_t len) {
    if (!use_hw())
        return sw_call(crc, data, len);
    return hash_crc32c_hw(crc, data, len);
}

__attribute__((target("sse4.2"))) void hash_crc32c_batch(const void *keys, size_t key_len,
                                                         size_t count, uint32_t *out) {
    const uint8_t *k = keys;
    if (!use_hw()) {
        for (size_t i = 0; i < count; i++)
            out[i] = sw_call(0, k + i * key_len, key_len);
        return;
    }
    for (size_t i = 0; i < count; i++)
        out[i] = hw_key(k + i * key_len, key_len);
}
#else
int hash_crc32c_hw_available(void) {
    return 0;
}

uint32_t hash_crc32c_hw(uint32_t crc, const void *data, size_t len) {
    return hash_crc32c_sw(crc, data, len);
}

uint32_t hash_crc32c_update(uint32_t crc, const void *data, size_t len) {
    return hash_crc32c_sw(crc, data, len);
}

uint32_t hash_crc32c(const void *data, size_t len) {
    return hash_crc32c_sw(0, data, len);
}

void hash_crc32c_batch(const void *keys, size_t key_len, size_t count, uint32_t *out) {
    const uint8_t *k = keys;
    for (size_t i = 0; i < count; i++)
        out[i] = hash_crc32c_sw(0, k + i * key_len, key_len);
}
#endif
