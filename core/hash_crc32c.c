/* hash_crc32c.c -- CRC32C (Castagnoli): a portable slicing-by-8 path and an SSE4.2
 * path, picked at run time from CPUID; both give the same result on every input.
 *
 * The hardware path runs three independent crc32 instruction streams over three
 * adjacent blocks (the instruction has a latency of 3 cycles and a throughput of 1 per
 * cycle, so one stream leaves two thirds of the unit idle), then joins them with
 * precomputed "append N zero bytes" tables (Mark Adler's method for crc32c). */
#include <string.h>

#include "core/crc32c_tables.h"
#include "core/hash.h"

#define LONG_BLOCK 8192
#define SHORT_BLOCK 256

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

__attribute__((target("sse4.2"))) static uint32_t hw_raw(uint32_t c, const uint8_t *p, size_t len) {
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

uint32_t hash_crc32c_hw(uint32_t crc, const void *data, size_t len) {
    return ~hw_raw(~crc, data, len);
}

/* Short keys: the aligned prologue and three-stream machinery only cost there. */
__attribute__((target("sse4.2"))) static inline uint32_t hw_short(const uint8_t *p, size_t len) {
    uint64_t c = 0xFFFFFFFFu;
    while (len >= 8) {
        c = _mm_crc32_u64(c, load64le(p));
        p += 8;
        len -= 8;
    }
    if (len >= 4) {
        uint32_t w;
        memcpy(&w, p, 4);
        c = _mm_crc32_u32((uint32_t)c, w);
        p += 4;
        len -= 4;
    }
    while (len--)
        c = _mm_crc32_u8((uint32_t)c, *p++);
    return ~(uint32_t)c;
}

__attribute__((target("sse4.2"))) static void hw_batch(const uint8_t *keys, size_t len,
                                                       size_t count, uint32_t *out) {
    for (size_t i = 0; i < count; i++)
        out[i] = hw_short(keys + i * len, len);
}
#else
int hash_crc32c_hw_available(void) {
    return 0;
}
uint32_t hash_crc32c_hw(uint32_t crc, const void *data, size_t len) {
    return hash_crc32c_sw(crc, data, len);
}
#endif

/* libgcc (and compiler-rt) read CPUID once at start-up; asking is a load and a test. */
static int use_hw(void) {
#if defined(__x86_64__)
    return __builtin_cpu_supports("sse4.2");
#else
    return 0;
#endif
}

uint32_t hash_crc32c_update(uint32_t crc, const void *data, size_t len) {
#if defined(__x86_64__)
    if (use_hw())
        return hash_crc32c_hw(crc, data, len);
#endif
    return hash_crc32c_sw(crc, data, len);
}

uint32_t hash_crc32c(const void *data, size_t len) {
#if defined(__x86_64__)
    if (use_hw())
        return len <= 64 ? hw_short(data, len) : hash_crc32c_hw(0, data, len);
#endif
    return hash_crc32c_sw(0, data, len);
}

void hash_crc32c_batch(const void *keys, size_t key_len, size_t count, uint32_t *out) {
    const uint8_t *k = keys;
#if defined(__x86_64__)
    if (key_len <= 64 && use_hw()) {
        hw_batch(k, key_len, count, out);
        return;
    }
#endif
    for (size_t i = 0; i < count; i++)
        out[i] = hash_crc32c(k + i * key_len, key_len);
}
