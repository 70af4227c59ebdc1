/* test_partition.c -- the partitioners: Flink reproduced bit for bit, and on 1e6 uniform
 * keys with fixed seeds the balance and movement figures each scheme promises. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/error.h"
#include "core/hash.h"
#include "core/partition.h"
#include "core/prng.h"

#define KEYS 1000000
#define KEY_BYTES 16

typedef struct flink_case {
    uint32_t max_parallelism, parallelism;
    const char *word; /* NULL: an int key */
    long long int_key;
    uint32_t group, subtask;
} flink_case;

/* Computed on OpenJDK 17 with Flink's formulas (MathUtils.murmurHash,
 * KeyGroupRangeAssignment) over Integer.hashCode and String.hashCode. */
static const flink_case flink_cases[] = {
    {128, 4, NULL, 0LL, 94, 2},
    {128, 4, NULL, 1LL, 86, 2},
    {128, 4, NULL, -1LL, 80, 2},
    {128, 4, NULL, 42LL, 29, 0},
    {128, 4, NULL, 1000LL, 7, 0},
    {128, 4, NULL, 65536LL, 73, 2},
    {128, 4, NULL, 2147483647LL, 62, 1},
    {128, 4, NULL, -2147483648LL, 108, 3},
    {128, 4, "apple", 0, 100, 3},
    {128, 4, "banana", 0, 69, 2},
    {128, 4, "flink", 0, 98, 3},
    {128, 4, "zookeeper", 0, 97, 3},
    {128, 4, "\303\274ber", 0, 73, 2},
    {128, 4, "kafka", 0, 6, 0},
    {128, 7, NULL, 0LL, 94, 5},
    {128, 7, NULL, 1LL, 86, 4},
    {128, 7, NULL, -1LL, 80, 4},
    {128, 7, NULL, 42LL, 29, 1},
    {128, 7, NULL, 1000LL, 7, 0},
    {128, 7, NULL, 65536LL, 73, 3},
    {128, 7, NULL, 2147483647LL, 62, 3},
    {128, 7, NULL, -2147483648LL, 108, 5},
    {128, 7, "apple", 0, 100, 5},
    {128, 7, "banana", 0, 69, 3},
    {128, 7, "flink", 0, 98, 5},
    {128, 7, "zookeeper", 0, 97, 5},
    {128, 7, "\303\274ber", 0, 73, 3},
    {128, 7, "kafka", 0, 6, 0},
    {32768, 100, NULL, 0LL, 31198, 95},
    {32768, 100, NULL, 1LL, 16342, 49},
    {32768, 100, NULL, -1LL, 15184, 46},
    {32768, 100, NULL, 42LL, 28189, 86},
    {32768, 100, NULL, 1000LL, 135, 0},
    {32768, 100, NULL, 65536LL, 15177, 46},
    {32768, 100, NULL, 2147483647LL, 19646, 59},
    {32768, 100, NULL, -2147483648LL, 10348, 31},
    {32768, 100, "apple", 0, 27108, 82},
    {32768, 100, "banana", 0, 19909, 60},
    {32768, 100, "flink", 0, 16610, 50},
    {32768, 100, "zookeeper", 0, 8673, 26},
    {32768, 100, "\303\274ber", 0, 20169, 61},
    {32768, 100, "kafka", 0, 19206, 58},
    {1000, 3, NULL, 0LL, 54, 0},
    {1000, 3, NULL, 1LL, 478, 1},
    {1000, 3, NULL, -1LL, 648, 1},
    {1000, 3, NULL, 42LL, 565, 1},
    {1000, 3, NULL, 1000LL, 311, 0},
    {1000, 3, NULL, 65536LL, 377, 1},
    {1000, 3, NULL, 2147483647LL, 534, 1},
    {1000, 3, NULL, -2147483648LL, 732, 2},
    {1000, 3, "apple", 0, 980, 2},
    {1000, 3, "banana", 0, 149, 0},
    {1000, 3, "flink", 0, 394, 1},
    {1000, 3, "zookeeper", 0, 9, 0},
    {1000, 3, "\303\274ber", 0, 153, 0},
    {1000, 3, "kafka", 0, 382, 1},
};

static part *make(const char *scheme, uint32_t n, uint32_t groups) {
    part_config cfg = {.scheme = scheme, .parallelism = n, .groups = groups};
    part *p = NULL;
    assert_int_equal(part_create(&cfg, &p), 0);
    return p;
}

static void flink_reproduces_flink(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof flink_cases / sizeof flink_cases[0]; i++) {
        const flink_case *c = &flink_cases[i];
        part *p = make("flink", c->parallelism, c->max_parallelism);
        uint32_t g = c->word ? part_group_of_bytes(p, c->word, strlen(c->word))
                             : part_group_of_int(p, (int32_t)c->int_key);
        uint32_t s = c->word ? part_route_bytes(p, c->word, strlen(c->word))
                             : part_route_int(p, (int32_t)c->int_key);
        if (g != c->group || s != c->subtask)
            fail_msg("case %zu (%u,%u): got group %u subtask %u, Flink gives %u %u", i,
                     c->max_parallelism, c->parallelism, g, s, c->group, c->subtask);
        part_free(p);
    }
}

static void flink_default_max_parallelism(void **state) {
    (void)state;
    static const uint32_t n[] = {1, 2, 85, 86, 100, 1000, 21845, 21846, 30000};
    static const uint32_t want[] = {128, 128, 128, 256, 256, 2048, 32768, 32768, 32768};
    for (size_t i = 0; i < sizeof n / sizeof n[0]; i++) {
        assert_int_equal(part_flink_default_max_parallelism(n[i]), want[i]);
        assert_int_equal(part_default_groups("flink", n[i]), want[i]);
    }
}

static void flink_ranges_are_contiguous(void **state) {
    (void)state;
    static const uint32_t first7[] = {0, 19, 37, 55, 74, 92, 110};
    part *p = make("flink", 7, 128);
    for (uint32_t s = 0; s < 7; s++) {
        uint32_t a, b;
        assert_int_equal(part_group_range(p, s, &a, &b), 0);
        assert_int_equal(a, first7[s]);
        for (uint32_t g = a; g <= b; g++)
            assert_int_equal(part_owners(p)[g], s);
    }
    part_free(p);
    /* Every (P, N) pair: ranges tile [0, P) in order. */
    uint32_t pairs[][2] = {{128, 4}, {1000, 3}, {32768, 100}, {300, 299}};
    for (size_t i = 0; i < 4; i++) {
        p = make("flink", pairs[i][1], pairs[i][0]);
        uint32_t next = 0;
        for (uint32_t s = 0; s < pairs[i][1]; s++) {
            uint32_t a, b;
            assert_int_equal(part_group_range(p, s, &a, &b), 0);
            assert_int_equal(a, next);
            assert_true(b >= a);
            next = b + 1;
        }
        assert_int_equal(next, pairs[i][0]);
        part_free(p);
    }
    p = make("jump", 4, 0);
    uint32_t a, b;
    assert_int_equal(part_group_range(p, 0, &a, &b), SS_EUNSUPPORTED);
    part_free(p);
}

static void invalid_configs_are_rejected(void **state) {
    (void)state;
    part *p = NULL;
    part_config bad[] = {
        {.scheme = "nope", .parallelism = 4},
        {.scheme = "flink", .parallelism = 0},
        {.scheme = "flink", .parallelism = 200, .groups = 128},
        {.scheme = "flink", .parallelism = 4, .groups = 65536},
        {.scheme = "bounded", .parallelism = 4, .bound_c = 0.9},
        {.scheme = "modulo", .parallelism = 4, .hash = (part_hash)7},
        {.scheme = NULL, .parallelism = 4},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(part_create(&bad[i], &p), SS_EINVAL);
        assert_null(p);
    }
    assert_true(part_scheme_known("maglev"));
    assert_false(part_scheme_known("Maglev"));
}

/* The test keys: KEYS distinct 16-byte strings from a fixed seed. */
static uint8_t *keys;

static int make_keys(void **state) {
    (void)state;
    keys = malloc((size_t)KEYS * KEY_BYTES);
    if (!keys)
        return -1;
    prng r;
    prng_stream(&r, 1, 0, 99);
    for (size_t i = 0; i < (size_t)KEYS * KEY_BYTES; i += 8) {
        uint64_t v = prng_next(&r);
        memcpy(keys + i, &v, 8);
    }
    return 0;
}

static int free_keys(void **state) {
    (void)state;
    free(keys);
    return 0;
}

/* Subtask of every key. */
static uint32_t *route_all(const part *p) {
    uint32_t *owner = malloc(KEYS * sizeof *owner);
    assert_non_null(owner);
    for (size_t i = 0; i < KEYS; i++)
        owner[i] = part_route_bytes(p, keys + i * KEY_BYTES, KEY_BYTES);
    return owner;
}

static double max_over_mean(const uint32_t *owner, uint32_t n) {
    uint64_t *load = calloc(n, sizeof *load), max = 0;
    assert_non_null(load);
    for (size_t i = 0; i < KEYS; i++)
        load[owner[i]]++;
    for (uint32_t s = 0; s < n; s++)
        max = load[s] > max ? load[s] : max;
    free(load);
    return (double)max / ((double)KEYS / n);
}

static double moved(const uint32_t *a, const uint32_t *b) {
    size_t m = 0;
    for (size_t i = 0; i < KEYS; i++)
        m += a[i] != b[i];
    return (double)m / KEYS;
}

static double ideal(uint32_t n) {
    return 1 + sqrt(2.0 * n * log((double)n) / KEYS);
}

static void every_scheme_near_ideal_balance(void **state) {
    (void)state;
    static const uint32_t ns[] = {4, 8, 16, 32, 64, 100, 128};
    for (size_t k = 0; part_scheme_names[k]; k++)
        for (size_t j = 0; j < sizeof ns / sizeof ns[0]; j++) {
            part *p = make(part_scheme_names[k], ns[j], 0);
            uint32_t *owner = route_all(p);
            double mm = max_over_mean(owner, ns[j]);
            double bound = 1.1 * ideal(ns[j]);
            if (strcmp(part_scheme_names[k], "flink") == 0) {
                double groups = part_groups(p), floor_ = ceil(groups / ns[j]) / (groups / ns[j]);
                bound = 1.1 * floor_;
            }
            if (mm > bound)
                fail_msg("%s N=%u: max/mean %.4f above %.4f", part_scheme_names[k], ns[j], mm,
                         bound);
            free(owner);
            part_free(p);
        }
}

static void flink_sits_on_its_floor(void **state) {
    (void)state;
    part *p = make("flink", 10, 128);
    uint32_t *owner = route_all(p);
    double mm = max_over_mean(owner, 10), floor_ = 13.0 / 12.8;
    assert_true(mm >= floor_ - 0.005);
    assert_true(mm <= floor_ * 1.01);
    free(owner);
    part_free(p);
}

static void growth_movement(void **state) {
    (void)state;
    static const uint32_t ns[] = {8, 16, 100};
    for (size_t j = 0; j < 3; j++) {
        uint32_t n = ns[j];
        double minimum = 1.0 / (n + 1);
        const char *consistent[] = {"jump", "rendezvous"};
        for (size_t k = 0; k < 2; k++) {
            part *a = make(consistent[k], n, 0), *b = NULL;
            assert_int_equal(part_rescaled(a, n + 1, &b), 0);
            uint32_t *oa = route_all(a), *ob = route_all(b);
            double ratio = moved(oa, ob) / minimum;
            if (ratio < 0.95 || ratio > 1.05)
                fail_msg("%s %u->%u moved %.4f of the minimum", consistent[k], n, n + 1, ratio);
            /* Only towards the new subtask. */
            for (size_t i = 0; i < KEYS; i++)
                if (oa[i] != ob[i])
                    assert_int_equal(ob[i], n);
            free(oa);
            free(ob);
            part_free(a);
            part_free(b);
        }
        part *a = make("modulo", n, 0), *b = NULL;
        assert_int_equal(part_rescaled(a, n + 1, &b), 0);
        uint32_t *oa = route_all(a), *ob = route_all(b);
        double m = moved(oa, ob), expect = (double)n / (n + 1);
        if (fabs(m - expect) > 0.03 * expect)
            fail_msg("modulo %u->%u moved %.4f, expected about %.4f", n, n + 1, m, expect);
        free(oa);
        free(ob);
        part_free(a);
        part_free(b);
    }
}

static void bounded_never_exceeds_capacity(void **state) {
    (void)state;
    static const uint32_t ns[] = {8, 16, 100};
    for (size_t j = 0; j < 3; j++) {
        part *probe = make("bounded", ns[j], 0);
        uint32_t groups = part_groups(probe);
        uint64_t *weights = calloc(groups, sizeof *weights);
        assert_non_null(weights);
        for (size_t i = 0; i < KEYS; i++)
            weights[part_group_of_bytes(probe, keys + i * KEY_BYTES, KEY_BYTES)]++;
        part_free(probe);
        double cs[] = {1.25, 1.05};
        for (size_t c = 0; c < 2; c++) {
            part_config cfg = {.scheme = "bounded",
                               .parallelism = ns[j],
                               .bound_c = cs[c],
                               .group_weights = weights};
            part *p;
            assert_int_equal(part_create(&cfg, &p), 0);
            uint32_t *owner = route_all(p);
            double capacity = ceil(cs[c] * KEYS / ns[j]);
            double mm = max_over_mean(owner, ns[j]);
            assert_true(mm * ((double)KEYS / ns[j]) <= capacity + 1e-6);
            free(owner);
            part_free(p);
        }
        free(weights);
    }
}

static uint64_t owners_digest(const part *p) {
    return hash_crc32c(part_owners(p), (size_t)part_groups(p) * sizeof(uint32_t));
}

static void plans_and_determinism(void **state) {
    (void)state;
    for (size_t k = 0; part_scheme_names[k]; k++) {
        part *a = make(part_scheme_names[k], 10, 0), *a2 = make(part_scheme_names[k], 10, 0);
        assert_int_equal(owners_digest(a), owners_digest(a2));
        part *b = NULL;
        assert_int_equal(part_rescaled(a, 13, &b), 0);
        assert_int_equal(part_groups(a), part_groups(b));
        assert_int_equal(part_parallelism(b), 13);
        part_plan plan;
        assert_int_equal(part_plan_rescale(a, b, &plan), 0);
        uint32_t listed = 0, prev = 0;
        for (uint32_t i = 0; i < plan.count; i++) {
            const part_move *m = &plan.moves[i];
            assert_true(i == 0 || m->group > prev);
            prev = m->group;
            assert_int_equal(part_owners(a)[m->group], m->from);
            assert_int_equal(part_owners(b)[m->group], m->to);
            assert_int_not_equal(m->from, m->to);
            listed++;
        }
        uint32_t differ = 0;
        for (uint32_t g = 0; g < part_groups(a); g++)
            differ += part_owners(a)[g] != part_owners(b)[g];
        assert_int_equal(listed, differ);
        part_plan_free(&plan);
        part_free(a);
        part_free(a2);
        part_free(b);
    }
    part *x = make("jump", 4, 1000), *y = make("jump", 4, 2000);
    part_plan plan;
    assert_int_equal(part_plan_rescale(x, y, &plan), SS_EINVAL);
    part_free(x);
    part_free(y);
}

static void maglev_table_is_prime_and_even(void **state) {
    (void)state;
    part *p = make("maglev", 10, 0);
    assert_int_equal(part_groups(p), 1009); /* smallest prime >= 1000 */
    uint32_t count[10] = {0};
    for (uint32_t g = 0; g < 1009; g++)
        count[part_owners(p)[g]]++;
    for (int s = 0; s < 10; s++) /* each subtask holds M/N entries, give or take one */
        assert_in_range(count[s], 100, 101);
    part_free(p);
    p = make("maglev", 10, 4096);
    assert_int_equal(part_groups(p), 4099);
    part_free(p);
}

static void modulo_hash_choice(void **state) {
    (void)state;
    part_config cfg = {
        .scheme = "modulo", .parallelism = 7, .groups = 1000, .hash = PART_HASH_MURMUR3};
    part *m;
    assert_int_equal(part_create(&cfg, &m), 0);
    part *c = make("modulo", 7, 1000);
    assert_int_equal(part_group_of_bytes(m, "hello", 5), hash_murmur3_32("hello", 5, 0) % 1000);
    assert_int_equal(part_group_of_bytes(c, "hello", 5), hash_crc32c("hello", 5) % 1000);
    assert_int_equal(part_route_bytes(c, "hello", 5), (hash_crc32c("hello", 5) % 1000) % 7);
    part_free(m);
    part_free(c);
}

/* Batch routing agrees with one-at-a-time routing; the division-free modulo is exact
 * for odd, prime and power-of-two group counts. */
static void batch_and_modulo_exact(void **state) {
    (void)state;
    static const uint32_t groups[] = {1, 7, 128, 1009, 65536, 1000003, 1u << 26};
    prng r;
    prng_seed(&r, 5);
    uint8_t key_bytes[300 * 12];
    for (size_t i = 0; i < sizeof key_bytes; i++)
        key_bytes[i] = (uint8_t)prng_next(&r);
    for (size_t k = 0; part_scheme_names[k]; k++)
        for (int hash = 0; hash < 2; hash++) {
            part_config cfg = {
                .scheme = part_scheme_names[k], .parallelism = 5, .hash = (part_hash)hash};
            part *p;
            assert_int_equal(part_create(&cfg, &p), 0);
            uint32_t out[300];
            part_route_batch(p, key_bytes, 12, 300, out);
            for (size_t i = 0; i < 300; i++)
                assert_int_equal(out[i], part_route_bytes(p, key_bytes + 12 * i, 12));
            part_free(p);
        }
    for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++) {
        part *p = make("modulo", 1, groups[g]);
        for (size_t i = 0; i < 300; i++)
            assert_int_equal(part_group_of_bytes(p, key_bytes + 12 * i, 12),
                             hash_crc32c(key_bytes + 12 * i, 12) % groups[g]);
        assert_int_equal(part_group_of_bytes(p, "", 0), 0);
        part_free(p);
    }
}

/* The key groups a partitioner is made with in batch_matches_plain_routing: the
 * default, except where building it would take seconds (rendezvous weighs every
 * (group, subtask) pair; maglev's default is 100 N entries) or exceed flink's 32768. */
static uint32_t test_groups(const char *scheme, uint32_t n) {
    if (strcmp(scheme, "flink") == 0 || n < 100)
        return 0;
    if (strcmp(scheme, "maglev") == 0)
        return n + 1;
    return n > 65536 ? 131072 : 65536;
}

/* 1e5 random 16-byte keys through part_route_batch (the narrow tables, the mask or
 * Lemire's remainder, the prefetching) and through part_route_bytes and the 32-bit
 * owner table: the same subtask for every key, every scheme, both hashes, N from 1 to
 * 70000 (8-, 16- and 32-bit tables), power-of-two and prime group counts, and batch
 * boundaries that split the keys unevenly. */
static void batch_matches_plain_routing(void **state) {
    (void)state;
    enum { COUNT = 100000, HEAD = 37 };
    static const uint32_t ns[] = {1, 7, 100, 1000, 70000};
    uint8_t *k = malloc((size_t)COUNT * KEY_BYTES);
    uint32_t *out = malloc(COUNT * sizeof *out);
    assert_non_null(k);
    assert_non_null(out);
    prng r;
    prng_stream(&r, 11, 0, 98);
    for (size_t i = 0; i < (size_t)COUNT * KEY_BYTES; i += 8) {
        uint64_t v = prng_next(&r);
        memcpy(k + i, &v, 8);
    }
    for (size_t s = 0; part_scheme_names[s]; s++)
        for (size_t j = 0; j < sizeof ns / sizeof ns[0]; j++)
            for (int hash = 0; hash < 2; hash++) {
                const char *scheme = part_scheme_names[s];
                /* rendezvous at 70000 would weigh 9e9 pairs; flink stops at 32768 */
                if ((strcmp(scheme, "rendezvous") == 0 || strcmp(scheme, "flink") == 0) &&
                    ns[j] > 65536)
                    continue;
                part_config cfg = {.scheme = scheme,
                                   .parallelism = ns[j],
                                   .groups = test_groups(scheme, ns[j]),
                                   .hash = (part_hash)hash,
                                   .vnodes = ns[j] > 1000 ? 4 : 0};
                part *p;
                assert_int_equal(part_create(&cfg, &p), 0);
                part_route_batch(p, k, KEY_BYTES, HEAD, out);
                part_route_batch(p, k + HEAD * KEY_BYTES, KEY_BYTES, COUNT - HEAD, out + HEAD);
                const uint32_t *owner = part_owners(p);
                for (size_t i = 0; i < COUNT; i++) {
                    const uint8_t *key = k + i * KEY_BYTES;
                    uint32_t plain = part_route_bytes(p, key, KEY_BYTES);
                    if (out[i] != plain || plain != owner[part_group_of_bytes(p, key, KEY_BYTES)])
                        fail_msg("%s N=%u hash %d key %zu: batch %u, plain %u", scheme, ns[j], hash,
                                 i, out[i], plain);
                }
                part_free(p);
            }
    free(k);
    free(out);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(flink_reproduces_flink),
        cmocka_unit_test(flink_default_max_parallelism),
        cmocka_unit_test(flink_ranges_are_contiguous),
        cmocka_unit_test(invalid_configs_are_rejected),
        cmocka_unit_test(maglev_table_is_prime_and_even),
        cmocka_unit_test(modulo_hash_choice),
        cmocka_unit_test(plans_and_determinism),
        cmocka_unit_test(batch_and_modulo_exact),
        cmocka_unit_test(batch_matches_plain_routing),
        cmocka_unit_test_setup_teardown(every_scheme_near_ideal_balance, make_keys, free_keys),
        cmocka_unit_test_setup_teardown(flink_sits_on_its_floor, make_keys, free_keys),
        cmocka_unit_test_setup_teardown(growth_movement, make_keys, free_keys),
        cmocka_unit_test_setup_teardown(bounded_never_exceeds_capacity, make_keys, free_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
