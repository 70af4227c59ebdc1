/* hash_java.c -- the hashes Flink routes Java keys by: String.hashCode over UTF-16
 * code units, and MathUtils.murmurHash of the key's int hashCode. */
#include <string.h>

#include "core/hash.h"

#define REPLACEMENT 0xFFFDu

/* Decode one code point from s[*i..len): advances *i past it. Malformed input gives
 * U+FFFD for each maximal subpart of an ill-formed sequence (Unicode's "best practice"),
 * as Java's UTF-8 decoder does, with Java's one exception: an encoded surrogate
 * (ED A0..BF 80..BF) is one malformed sequence, not three. */
static uint32_t next_code_point(const uint8_t *s, size_t len, size_t *i) {
    uint8_t b = s[*i];
    if (b < 0x80) {
        (*i)++;
        return b;
    }
    size_t need;
    uint32_t cp;
    uint8_t lo = 0x80, hi = 0xBF; /* allowed range of the first continuation byte */
    if (b >= 0xC2 && b <= 0xDF) {
        need = 1;
        cp = b & 0x1Fu;
    } else if (b >= 0xE0 && b <= 0xEF) {
        need = 2;
        cp = b & 0x0Fu;
        if (b == 0xE0)
            lo = 0xA0; /* no overlong forms */
    } else if (b >= 0xF0 && b <= 0xF4) {
        need = 3;
        cp = b & 0x07u;
        if (b == 0xF0)
            lo = 0x90;
        if (b == 0xF4)
            hi = 0x8F; /* nothing above U+10FFFF */
    } else {
        (*i)++;
        return REPLACEMENT;
    }
    (*i)++;
    for (size_t k = 0; k < need; k++) {
        if (*i >= len)
            return REPLACEMENT;
        uint8_t c = s[*i];
        uint8_t min = k == 0 ? lo : 0x80, max = k == 0 ? hi : 0xBF;
        if (c < min || c > max)
            return REPLACEMENT; /* this byte starts the next sequence */
        cp = (cp << 6) | (c & 0x3Fu);
        (*i)++;
    }
    /* Java takes an encoded surrogate (ED A0..BF xx) as one malformed sequence. */
    return (cp >= 0xD800 && cp <= 0xDFFF) ? REPLACEMENT : cp;
}

/* 31^k mod 2^32 for k = 0..8. */
static const uint32_t pow31[9] = {1u,        31u,        961u,        29791u,     923521u,
                                  28629151u, 887503681u, 1742810335u, 2487512833u};

int32_t hash_java_string(const char *utf8, size_t len) {
    const uint8_t *s = (const uint8_t *)utf8;
    uint32_t h = 0; /* Java's int arithmetic wraps: compute unsigned, convert at the end */
    size_t i = 0;
    /* ASCII runs eight bytes at a time: h*31^8 + c0*31^7 + ... + c7, whose eight
     * products do not wait on each other as the byte-by-byte recurrence does. */
    while (i + 8 <= len) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        if (w & 0x8080808080808080ULL)
            break;
        uint32_t sum = 0;
        for (int k = 0; k < 8; k++)
            sum += (uint32_t)s[i + (size_t)k] * pow31[7 - k];
        h = h * pow31[8] + sum;
        i += 8;
    }
    while (i < len) {
        uint32_t cp = next_code_point(s, len, &i);
        if (cp >= 0x10000) {
            cp -= 0x10000;
            h = 31 * h + (0xD800u + (cp >> 10));
            h = 31 * h + (0xDC00u + (cp & 0x3FFu));
        } else {
            h = 31 * h + cp;
        }
    }
    return (int32_t)(h <= INT32_MAX ? (int64_t)h : (int64_t)h - 4294967296LL);
}

int32_t hash_flink_int(int32_t code) {
    /* MurmurHash3_x86_32 of one 4-byte block with seed 0, length 4. */
    uint32_t k = (uint32_t)code;
    k *= 0xcc9e2d51U;
    k = (k << 15) | (k >> 17);
    k *= 0x1b873593U;
    uint32_t h = k;
    h = (h << 13) | (h >> 19);
    h = h * 5 + 0xe6546b64U;
    h ^= 4;
    h ^= h >> 16;
    h *= 0x85ebca6bU;
    h ^= h >> 13;
    h *= 0xc2b2ae35U;
    h ^= h >> 16;
    if (h < 0x80000000U)
        return (int32_t)h;
    if (h == 0x80000000U)
        return 0; /* Math.abs would leave INT_MIN negative; Flink maps it to 0 */
    return (int32_t)(0x100000000ULL - h); /* -(int)h, positive */
}
