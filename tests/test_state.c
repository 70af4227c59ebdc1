/* test_state.c -- keyed state's two layouts (sim/state.h) are one model: the same
 * records added to a sparse store (hash table) and a dense one (cells by key id) give
 * byte-identical checkpoint blobs, the same per-group creation order through the
 * cursor interface, and the same state again after a restore; a dense restore rejects
 * a key outside its space. A compact in-memory blob (state_blob) regenerates exactly
 * the canonical bytes, their length and CRC32C, restores the same state, and a flipped
 * byte fails its restore as the canonical blob's would. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/error.h"
#include "core/hash.h"
#include "core/prng.h"
#include "sim/state.h"

#define GROUPS 16
#define SPACE 5000

/* The key group of a key in these tests: any fixed function of the key. */
static uint32_t group_of(uint64_t key) {
    return (uint32_t)((key * 2654435761u) >> 7) % GROUPS;
}

/* n records drawn from seed into both stores. */
static void fill(state_store *sparse, state_store *dense, uint64_t seed, int n) {
    prng r;
    prng_seed(&r, seed);
    for (int i = 0; i < n; i++) {
        uint64_t key = prng_below(&r, SPACE);
        int64_t value = (int64_t)prng_below(&r, 1000);
        assert_int_equal(state_add(sparse, key, group_of(key), value), 0);
        assert_int_equal(state_add(dense, key, group_of(key), value), 0);
    }
}

/* Both stores' snapshot of every group; asserts the blobs are byte-identical. */
static void assert_same_blobs(const state_store *a, const state_store *b, uint8_t **blob,
                              size_t *len) {
    uint32_t groups[GROUPS];
    for (uint32_t g = 0; g < GROUPS; g++)
        groups[g] = g;
    uint8_t *other;
    size_t other_len;
    assert_int_equal(state_snapshot(a, groups, GROUPS, blob, len), 0);
    assert_int_equal(state_snapshot(b, groups, GROUPS, &other, &other_len), 0);
    assert_int_equal(*len, other_len);
    assert_memory_equal(*blob, other, *len);
    free(other);
}

/* The cursor walk of each group gives the same keys, counts and sums in the same
 * order in both stores, and state_get agrees. */
static void assert_same_walks(const state_store *a, const state_store *b) {
    assert_int_equal(a->count, b->count);
    for (uint32_t g = 0; g < GROUPS; g++) {
        uint32_t ca = state_head(a, g), cb = state_head(b, g);
        while (ca != STATE_END && cb != STATE_END) {
            state_entry ea = state_at(a, g, ca), eb = state_at(b, g, cb), got;
            assert_int_equal(ea.key, eb.key);
            assert_int_equal(ea.count, eb.count);
            assert_int_equal(ea.sum, eb.sum);
            assert_int_equal(state_get(b, ea.key, &got), 1);
            assert_int_equal(got.count, ea.count);
            ca = state_next(a, g, ca);
            cb = state_next(b, g, cb);
        }
        assert_int_equal(ca, STATE_END);
        assert_int_equal(cb, STATE_END);
    }
}

static void layouts_give_identical_blobs(void **state) {
    (void)state;
    state_store sparse, dense;
    assert_int_equal(state_init(&sparse, GROUPS), 0);
    assert_int_equal(state_init_dense(&dense, GROUPS, SPACE), 0);
    fill(&sparse, &dense, 7, 20000);
    assert_same_walks(&sparse, &dense);
    uint8_t *blob;
    size_t len;
    assert_same_blobs(&sparse, &dense, &blob, &len);
    assert_true(len > 0);
    /* restore both (the order within a group becomes the blob's), add more, compare */
    state_clear(&sparse);
    state_clear(&dense);
    assert_int_equal(dense.count, 0);
    assert_int_equal(state_restore(&sparse, blob, len), 0);
    assert_int_equal(state_restore(&dense, blob, len), 0);
    free(blob);
    fill(&sparse, &dense, 8, 5000);
    assert_same_walks(&sparse, &dense);
    assert_same_blobs(&sparse, &dense, &blob, &len);
    free(blob);
    state_entry e;
    assert_int_equal(state_get(&dense, SPACE + 1, &e), 0);
    state_free(&sparse);
    state_free(&dense);
}

static void dense_restore_rejects_key_outside_space(void **state) {
    (void)state;
    state_store big, small;
    assert_int_equal(state_init_dense(&big, GROUPS, 2 * SPACE), 0);
    assert_int_equal(state_init_dense(&small, GROUPS, SPACE), 0);
    uint64_t key = SPACE + 3;
    assert_int_equal(state_add(&big, key, group_of(key), 5), 0);
    uint32_t g = group_of(key);
    uint8_t *blob;
    size_t len;
    assert_int_equal(state_snapshot(&big, &g, 1, &blob, &len), 0);
    assert_int_equal(state_restore(&small, blob, len), SS_EPARSE);
    state_clear(&big);
    assert_int_equal(state_restore(&big, blob, len), 0);
    state_entry e;
    assert_int_equal(state_get(&big, key, &e), 1);
    assert_int_equal(e.count, 1);
    assert_int_equal(e.sum, 5);
    free(blob);
    state_free(&big);
    state_free(&small);
}

/* Every group's canonical blob and its compact form; asserts they are the same bytes
 * and the compact one is under a third of their size. */
static void assert_compact_matches(const state_store *s, state_blob *b, uint8_t **canon,
                                   size_t *len) {
    uint32_t groups[GROUPS];
    for (uint32_t g = 0; g < GROUPS; g++)
        groups[g] = g;
    assert_int_equal(state_snapshot(s, groups, GROUPS, canon, len), 0);
    assert_int_equal(state_snapshot_blob(s, groups, GROUPS, b), 0);
    assert_int_equal(b->len, *len);
    assert_true(b->data_len * 3 < b->len);
    uint8_t *bytes;
    assert_int_equal(state_blob_bytes(b, &bytes), 0);
    assert_memory_equal(bytes, *canon, *len);
    free(bytes);
}

static void compact_blob_regenerates_canonical_bytes(void **state) {
    (void)state;
    state_store sparse, dense, again;
    assert_int_equal(state_init(&sparse, GROUPS), 0);
    assert_int_equal(state_init_dense(&dense, GROUPS, SPACE), 0);
    assert_int_equal(state_init_dense(&again, GROUPS, SPACE), 0);
    fill(&sparse, &dense, 9, 20000);
    state_blob b[2];
    uint8_t *canon[2];
    size_t len[2];
    assert_compact_matches(&sparse, &b[0], &canon[0], &len[0]);
    assert_compact_matches(&dense, &b[1], &canon[1], &len[1]);
    /* the pointer's CRC: both blobs' canonical bytes one after the other */
    uint32_t crc, want = hash_crc32c_update(hash_crc32c(canon[0], len[0]), canon[1], len[1]);
    assert_int_equal(state_blobs_crc(b, 2, &crc), 0);
    assert_int_equal(crc, want);
    /* a restore from the compact blob is the restore from the canonical bytes */
    state_clear(&sparse);
    assert_int_equal(state_restore(&sparse, canon[0], len[0]), 0);
    assert_int_equal(state_restore_blob(&again, &b[1]), 0);
    assert_same_walks(&sparse, &again);
    /* a flipped byte: the same corrupted bytes, their CRC, and the restore fails */
    canon[1][len[1] / 2] ^= 0x40;
    assert_int_equal(state_blob_flip(&b[1], len[1] / 2, 0x40), 0);
    assert_int_equal(state_blobs_crc(&b[1], 1, &crc), 0);
    assert_int_equal(crc, hash_crc32c(canon[1], len[1]));
    state_clear(&again);
    assert_int_equal(state_restore_blob(&again, &b[1]), SS_EPARSE);
    for (int i = 0; i < 2; i++) {
        state_blob_free(&b[i]);
        free(canon[i]);
    }
    state_free(&sparse);
    state_free(&dense);
    state_free(&again);
}

/* Keys far apart and negative sums (the zigzag varints) survive the compact form; an
 * empty snapshot is an empty blob. */
static void compact_blob_keeps_extreme_values(void **state) {
    (void)state;
    state_store s, back;
    assert_int_equal(state_init(&s, GROUPS), 0);
    assert_int_equal(state_init(&back, GROUPS), 0);
    uint32_t g = 3;
    state_blob b;
    assert_int_equal(state_snapshot_blob(&s, &g, 1, &b), 0);
    assert_int_equal(b.len, 0);
    assert_int_equal(state_restore_blob(&back, &b), 0);
    const uint64_t keys[] = {UINT64_MAX, 0, 1ULL << 63, 5, UINT64_MAX - 1};
    const int64_t values[] = {INT64_MIN / 2, -1, INT64_MAX / 2, 0, -123456789};
    for (int i = 0; i < 5; i++)
        assert_int_equal(state_add(&s, keys[i], g, values[i]), 0);
    assert_int_equal(state_add(&s, keys[0], g, INT64_MIN / 2 + 1), 0); /* sum near INT64_MIN */
    uint8_t *canon, *bytes;
    size_t len;
    assert_int_equal(state_snapshot(&s, &g, 1, &canon, &len), 0);
    assert_int_equal(state_snapshot_blob(&s, &g, 1, &b), 0);
    assert_int_equal(state_blob_bytes(&b, &bytes), 0);
    assert_int_equal(b.len, len);
    assert_memory_equal(bytes, canon, len);
    assert_int_equal(state_restore_blob(&back, &b), 0);
    state_entry e;
    assert_int_equal(state_get(&back, keys[0], &e), 1);
    assert_int_equal(e.count, 2);
    assert_true(e.sum == INT64_MIN + 1);
    free(bytes);
    free(canon);
    state_blob_free(&b);
    state_free(&s);
    state_free(&back);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(layouts_give_identical_blobs),
        cmocka_unit_test(dense_restore_rejects_key_outside_space),
        cmocka_unit_test(compact_blob_regenerates_canonical_bytes),
        cmocka_unit_test(compact_blob_keeps_extreme_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
