/* hash.h -- the key hashes shardsim's partitioners are built on.
 *
 * CRC32C (Castagnoli, reflected polynomial 0x82F63B78) with a hardware path (SSE4.2
 * crc32 instruction, picked at run time from CPUID) and a portable slicing-by-8 path
 * that gives identical results; MurmurHash3 x86_32 and x64_128 (Appleby, SMHasher);
 * and the two Java hashes Flink routes by: String.hashCode over UTF-16 code units and
 * Flink's MathUtils.murmurHash of an int. All functions are pure: no allocation, no
 * global state other than the CPUID probe result, which is computed once and is the
 * same on every call. */
#ifndef SHARDSIM_CORE_HASH_H
#define SHARDSIM_CORE_HASH_H

#include <stddef.h>
#include <stdint.h>

/* CRC32C of len bytes, standard form (init ~0, final xor ~0):
 * hash_crc32c("123456789", 9) == 0xE3069283. Uses the hardware path when the CPU
 * has it. */
uint32_t hash_crc32c(const void *data, size_t len);

/* Continue a CRC32C: crc is a previous result (0 to start). hash_crc32c(d, n) ==
 * hash_crc32c_update(0, d, n), and update(update(0, a), b) == crc of a||b. */
uint32_t hash_crc32c_update(uint32_t crc, const void *data, size_t len);

/* CRC32C of `count` keys of key_len bytes each, stored back to back at keys:
 * out[i] = hash_crc32c(keys + i * key_len, key_len). One call for many keys keeps the
 * hardware path's dispatch out of the per-key cost. */
void hash_crc32c_batch(const void *keys, size_t key_len, size_t count, uint32_t *out);

/* The two paths, exposed for tests and benchmarks. hash_crc32c_hw must only be
 * called when hash_crc32c_hw_available() returns 1. */
uint32_t hash_crc32c_sw(uint32_t crc, const void *data, size_t len);
uint32_t hash_crc32c_hw(uint32_t crc, const void *data, size_t len);
int hash_crc32c_hw_available(void);

/* MurmurHash3_x86_32 with a seed. */
uint32_t hash_murmur3_32(const void *data, size_t len, uint32_t seed);

/* MurmurHash3_x64_128 with a seed; out[0] is the low 64 bits (h1), out[1] the high (h2). */
void hash_murmur3_128(const void *data, size_t len, uint32_t seed, uint64_t out[2]);

/* Java's String.hashCode of the string whose UTF-8 encoding is utf8[0..len):
 * s[0]*31^(n-1) + ... over UTF-16 code units (code points above U+FFFF count as a
 * surrogate pair). Invalid UTF-8 bytes are taken as U+FFFD, as Java's decoder does. */
int32_t hash_java_string(const char *utf8, size_t len);

/* Java's Integer.hashCode: the value itself. Here for symmetry. */
static inline int32_t hash_java_int(int32_t v) {
    return v;
}

/* Flink's MathUtils.murmurHash(int code): MurmurHash3_x86_32 of the 4-byte
 * little-endian int with seed 0 (Flink's fmix, its length is 4), a negative result
 * negated, INT_MIN mapped to 0. Always >= 0. */
int32_t hash_flink_int(int32_t code);

#endif
