/* test_hash.c -- CRC32C, MurmurHash3 and the Java/Flink hashes against published
 * vectors and values computed by a real JVM (String.hashCode; Flink's
 * MathUtils.murmurHash formula run in Java). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/hash.h"
#include "core/prng.h"

static void crc32c_check_value(void **state) {
    (void)state;
    assert_int_equal(hash_crc32c("123456789", 9), 0xE3069283u);
    assert_int_equal(hash_crc32c_sw(0, "123456789", 9), 0xE3069283u);
    if (hash_crc32c_hw_available())
        assert_int_equal(hash_crc32c_hw(0, "123456789", 9), 0xE3069283u);
    assert_int_equal(hash_crc32c("", 0), 0);
}

/* RFC 3720 (iSCSI) B.4 test vectors. */
static void crc32c_rfc3720(void **state) {
    (void)state;
    uint8_t buf[48];
    memset(buf, 0, 32);
    assert_int_equal(hash_crc32c(buf, 32), 0x8A9136AAu);
    memset(buf, 0xFF, 32);
    assert_int_equal(hash_crc32c(buf, 32), 0x62A8AB43u);
    for (int i = 0; i < 32; i++)
        buf[i] = (uint8_t)i;
    assert_int_equal(hash_crc32c(buf, 32), 0x46DD794Eu);
    for (int i = 0; i < 32; i++)
        buf[i] = (uint8_t)(31 - i);
    assert_int_equal(hash_crc32c(buf, 32), 0x113FDB5Cu);
    static const uint8_t scsi_read[48] = {
        0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00,
        0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18, 0x28, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
    assert_int_equal(hash_crc32c(scsi_read, 48), 0xD9963A56u);
}

static void crc32c_update_chains(void **state) {
    (void)state;
    const char *text = "The quick brown fox jumps over the lazy dog";
    size_t len = strlen(text);
    uint32_t whole = hash_crc32c(text, len);
    assert_int_equal(whole, 0x22620404u);
    for (size_t cut = 0; cut <= len; cut++) {
        uint32_t c = hash_crc32c_update(0, text, cut);
        assert_int_equal(hash_crc32c_update(c, text + cut, len - cut), whole);
    }
}

/* Hardware and portable paths agree on every length 0..4096 at every start 0..7,
 * and on long buffers that exercise the three-stream blocks. */
static void crc32c_hw_matches_portable(void **state) {
    (void)state;
    if (!hash_crc32c_hw_available())
        skip();
    static uint8_t buf[3 * 8192 * 2 + 4096 + 16];
    prng r;
    prng_seed(&r, 2024);
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t)prng_next(&r);
    for (size_t off = 0; off < 8; off++)
        for (size_t len = 0; len <= 4096; len++)
            assert_int_equal(hash_crc32c_hw(0, buf + off, len), hash_crc32c_sw(0, buf + off, len));
    size_t longs[] = {3 * 8192, 3 * 8192 + 1, 3 * 8192 * 2 + 777, sizeof buf - 16};
    for (size_t i = 0; i < sizeof longs / sizeof longs[0]; i++)
        for (size_t off = 0; off < 8; off++) {
            assert_int_equal(hash_crc32c_hw(0, buf + off, longs[i]),
                             hash_crc32c_sw(0, buf + off, longs[i]));
            assert_int_equal(hash_crc32c(buf + off, longs[i]),
                             hash_crc32c_sw(0, buf + off, longs[i]));
        }
}

/* The key path (hash_crc32c's one jump per length to a straight-line sequence, and the
 * batch built on it) and hash_crc32c_update agree with the portable path on every length
 * 0..300 -- across the 64-byte switch, the 128-byte short path and the long path -- at
 * every start 0..15 and from a running crc. Runs on any CPU: without SSE4.2 every path is
 * the portable one. */
static void crc32c_key_paths_match_portable(void **state) {
    (void)state;
    enum { MAX_LEN = 300, KEYS = 3 };
    static uint8_t buf[16 + KEYS * MAX_LEN];
    uint32_t out[KEYS];
    prng r;
    prng_seed(&r, 77);
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t)prng_next(&r);
    for (size_t off = 0; off < 16; off++)
        for (size_t len = 0; len <= MAX_LEN; len++) {
            const uint8_t *p = buf + off;
            uint32_t want = hash_crc32c_sw(0, p, len);
            assert_int_equal(hash_crc32c(p, len), want);
            assert_int_equal(hash_crc32c_update(0x9E3779B9u, p, len),
                             hash_crc32c_sw(0x9E3779B9u, p, len));
            hash_crc32c_batch(p, len, KEYS, out);
            for (size_t k = 0; k < KEYS; k++)
                assert_int_equal(out[k], hash_crc32c_sw(0, p + k * len, len));
        }
}

/* SMHasher's VerificationTest: hash keys {}, {0}, {0,1}, ..., {0..254} with seeds
 * 256, 255, ..., 1; hash the concatenated results with seed 0; the first four bytes,
 * little-endian, are the verification value. */
static uint32_t verification_32(void) {
    uint8_t key[256], hashes[256 * 4];
    for (int i = 0; i < 256; i++) {
        key[i] = (uint8_t)i;
        uint32_t h = hash_murmur3_32(key, (size_t)i, (uint32_t)(256 - i));
        for (int b = 0; b < 4; b++)
            hashes[i * 4 + b] = (uint8_t)(h >> (8 * b));
    }
    uint32_t f = hash_murmur3_32(hashes, sizeof hashes, 0);
    return f;
}

static uint32_t verification_128(void) {
    uint8_t key[256], hashes[256 * 16];
    for (int i = 0; i < 256; i++) {
        key[i] = (uint8_t)i;
        uint64_t h[2];
        hash_murmur3_128(key, (size_t)i, (uint32_t)(256 - i), h);
        for (int b = 0; b < 16; b++)
            hashes[i * 16 + b] = (uint8_t)(h[b / 8] >> (8 * (b % 8)));
    }
    uint64_t f[2];
    hash_murmur3_128(hashes, sizeof hashes, 0, f);
    return (uint32_t)f[0];
}

static void murmur3_smhasher_verification(void **state) {
    (void)state;
    assert_int_equal(verification_32(), 0xB0F57EE3u);
    assert_int_equal(verification_128(), 0x6384BA69u);
}

static void murmur3_known_values(void **state) {
    (void)state;
    assert_int_equal(hash_murmur3_32("", 0, 0), 0);
    assert_int_equal(hash_murmur3_32("", 0, 1), 0x514E28B7u);
    assert_int_equal(hash_murmur3_32("hello", 5, 0), 0x248BFA47u);
    uint64_t h[2];
    hash_murmur3_128("hello", 5, 0, h);
    assert_int_equal(h[0], 0xCBD8A7B341BD9B02ULL);
    assert_int_equal(h[1], 0x5B1E906A48AE1D19ULL);
}

typedef struct java_case {
    const char *utf8;
    size_t len;
    int32_t hash;
} java_case;

/* Values printed by String.hashCode on OpenJDK 17, including invalid UTF-8 decoded by
 * new String(bytes, UTF_8). */
static void java_string_hash(void **state) {
    (void)state;
    static const java_case cases[] = {
        {"", 0, 0},
        {"hello", 5, 99162322},
        {"apple", 5, 93029210},
        {"banana", 6, -1396355227},
        {"flink", 5, 97520992},
        {"zookeeper", 9, 1600681804},
        {"\xc3\xbc"
         "ber",
         5, 7604755},                            /* über */
        {"caf\xc3\xa9", 5, 3045921},             /* café */
        {"\xe4\xb8\xad\xe6\x96\x87", 6, 646394}, /* 中文 */
        {"\xf0\x9f\x98\x80x", 5, 54959989},      /* emoji (a surrogate pair) + x */
        {"Aa", 2, 2112},
        {"BB", 2, 2112},
        {"a\xff"
         "b",
         3, 2124838},
        {"\xe2\x82", 2, 65533},
        {"\xe2\x82"
         "A",
         3, 2031588},
        {"\xc0\xaf", 2, 2097056},
        {"\xed\xa0\x80", 3, 65533},
        {"\xf4\x90\x80\x80", 4, 2017367872},
        {"\xe0\x80\x80", 3, 65074269},
        {"\xf0\x90\x80"
         "A",
         4, 2031588},
        {"\xf4\x8f\xbf\xbf", 4, 1803232},
        /* long ASCII runs (the eight-at-a-time path), and one interrupted by UTF-8 */
        {"The quick brown fox jumps over the lazy dog", 43, -609428141},
        {"0123456789abcdef", 16, 285443752},
        {"user-000000000042\xc3\xa9-x-0123456789ABCDEFG", 39, -1564084634},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(hash_java_string(cases[i].utf8, cases[i].len), cases[i].hash);
}

/* MathUtils.murmurHash(int) run in Java. */
static void flink_int_hash(void **state) {
    (void)state;
    static const int32_t in[] = {0, 1, -1, 42, 1000, 123456789, INT32_MAX, INT32_MIN};
    static const int32_t out[] = {593689054, 68075478,   1982413648, 1134849565,
                                  3506311,   1088346449, 1653689534, 1718298732};
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        assert_int_equal(hash_flink_int(in[i]), out[i]);
        assert_true(hash_flink_int(in[i]) >= 0);
    }
    /* The int's murmur is MurmurHash3_x86_32 of its 4 LE bytes (before the sign fix). */
    uint8_t le[4] = {42, 0, 0, 0};
    uint32_t m = hash_murmur3_32(le, 4, 0);
    assert_int_equal(hash_flink_int(42),
                     m < 0x80000000u ? (int32_t)m : (int32_t)(0x100000000ULL - m));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(crc32c_check_value),
        cmocka_unit_test(crc32c_rfc3720),
        cmocka_unit_test(crc32c_update_chains),
        cmocka_unit_test(crc32c_hw_matches_portable),
        cmocka_unit_test(crc32c_key_paths_match_portable),
        cmocka_unit_test(murmur3_smhasher_verification),
        cmocka_unit_test(murmur3_known_values),
        cmocka_unit_test(java_string_hash),
        cmocka_unit_test(flink_int_hash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
