/* cmd_balance.c -- `shardsim balance`: how evenly each partitioner spreads a key set
 * over N subtasks (keys, records, state bytes), against the ideal random assignment,
 * and how much moves when N grows or shrinks. Writes a table on stdout and
 * balance.csv, balance.json and plots (balance.png/svg, movement.png/svg) to --out. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/error.h"
#include "core/hash.h"
#include "core/metrics.h"
#include "core/partition.h"
#include "core/prng.h"
#include "sim/cli/args.h"
#include "sim/cli/cli.h"
#include "sim/cli/keys_in.h"
#include "sim/csv.h"
#include "sim/results.h"

#define DEFAULT_KEYS 1000000
#define STATE_VALUE_BYTES 16 /* count + sum kept per key */
#define MC_TRIALS 5

/* The key set: distinct keys in first-seen order, with their record counts. */
typedef struct keyset {
    char *data; /* all keys, back to back */
    size_t data_len, data_cap;
    uint64_t *offset; /* key i is data[offset[i] .. offset[i] + length[i]) */
    uint32_t *length;
    uint64_t *records;
    size_t count, cap;
    uint32_t *slots; /* dedupe table: key index + 1, 0 = empty */
    size_t slot_cap;
    uint64_t total_records;
} keyset;

typedef struct options {
    const char *keys_file;
    uint64_t uniform, zipf_keys;
    double zipf_s;
    const char *partitioners;
    uint32_t *ns;
    size_t n_count;
    int32_t rescale;
    uint64_t seed;
    const char *out;
    int no_plot;
    int force, out_given; /* --force; --out was given (the default folder is ours) */
    part_config base;
    int key_int;
} options;

static void usage(FILE *out) {
    fputs("usage: shardsim balance [--keys FILE | --uniform K | --zipf K,S]\n"
          "                        [--partitioner all|NAME,...] [--parallelism LIST]\n"
          "                        [--rescale +D|-D] [--seed S] [--out DIR] [--force]\n"
          "                        [--no-plot] [--max-parallelism P] [--hash crc32c|murmur3]\n"
          "                        [--vnodes V] [--bound-c C]\n\n"
          "Balance (max/mean, CoV, Jain) of keys, records and state bytes per subtask, next\n"
          "to the ideal random assignment, and the movement on rescaling N -> N+D, for each\n"
          "partitioner and N. With no options: 1e6 uniform keys, every partitioner, N =\n"
          "4,8,16,32,64,128, --rescale +1, seed 1, --out results/balance.\n\n"
          "  --keys FILE      one key a line; a repeated line is another record of that key\n"
          "  --uniform K      K distinct random keys, one record each\n"
          "  --zipf K,S       K distinct keys, records of the key of rank i ~ 1/i^S (10K in all)\n"
          "  --partitioner    all (default) or a comma list of modulo, flink, jump, ring,\n"
          "                   rendezvous, maglev, bounded\n"
          "  --parallelism    comma list of N (default 4,8,16,32,64,128)\n"
          "  --rescale +D     movement from N to N+D (default +1; -D shrinks)\n"
          "  --seed S         seed of the generated keys (default 1)\n"
          "  --out DIR        where balance.csv/json and the plots go (default results/balance):\n"
          "                   a new or empty folder; an earlier shardsim result only with\n"
          "                   --force; nothing else is ever deleted or overwritten\n"
          "  --force          let --out replace an earlier shardsim result folder\n"
          "  --no-plot        skip gnuplot\n",
          out);
}

static int grow(void **p, size_t *cap, size_t need, size_t size) {
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap : 1024;
    while (c < need)
        c *= 2;
    void *q = realloc(*p, c * size);
    if (!q)
        return -1;
    *p = q;
    *cap = c;
    return 0;
}

static int keyset_rehash(keyset *k, size_t cap) {
    uint32_t *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return -1;
    for (size_t i = 0; i < k->count; i++) {
        size_t s = hash_crc32c(k->data + k->offset[i], k->length[i]) & (cap - 1);
        while (slots[s])
            s = (s + 1) & (cap - 1);
        slots[s] = (uint32_t)(i + 1);
    }
    free(k->slots);
    k->slots = slots;
    k->slot_cap = cap;
    return 0;
}

/* Add `records` records of a key, creating it on first sight. 0 or -1 (memory). */
static int keyset_add(keyset *k, const char *key, size_t len, uint64_t records) {
    if (k->count * 2 >= k->slot_cap && keyset_rehash(k, k->slot_cap ? k->slot_cap * 2 : 4096))
        return -1;
    size_t s = hash_crc32c(key, len) & (k->slot_cap - 1);
    for (; k->slots[s]; s = (s + 1) & (k->slot_cap - 1)) {
        size_t i = k->slots[s] - 1;
        if (k->length[i] == len && memcmp(k->data + k->offset[i], key, len) == 0) {
            k->records[i] += records;
            k->total_records += records;
            return 0;
        }
    }
    size_t cap = k->cap;
    if (grow((void **)&k->offset, &cap, k->count + 1, sizeof *k->offset))
        return -1;
    cap = k->cap;
    if (grow((void **)&k->length, &cap, k->count + 1, sizeof *k->length))
        return -1;
    cap = k->cap;
    if (grow((void **)&k->records, &cap, k->count + 1, sizeof *k->records))
        return -1;
    k->cap = cap;
    if (grow((void **)&k->data, &k->data_cap, k->data_len + len + 1, 1))
        return -1;
    memcpy(k->data + k->data_len, key, len);
    k->offset[k->count] = k->data_len;
    k->length[k->count] = (uint32_t)len;
    k->records[k->count] = records;
    k->data_len += len;
    k->slots[s] = (uint32_t)(k->count + 1);
    k->count++;
    k->total_records += records;
    return 0;
}

static void keyset_free(keyset *k) {
    free(k->data);
    free(k->offset);
    free(k->length);
    free(k->records);
    free(k->slots);
}

static int load_file(keyset *k, const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "shardsim balance: --keys: %s: %s\n", path, strerror(errno));
        return 2;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    unsigned long lineno = 0;
    int rc = 0;
    while ((len = keys_next_line(f, &line, &cap)) >= 0) {
        lineno++;
        if (len == 0) {
            fprintf(stderr, "shardsim balance: %s:%lu: empty key\n", path, lineno);
            rc = 2;
            break;
        }
        if (keyset_add(k, line, (size_t)len, 1)) {
            fprintf(stderr, "shardsim balance: %s:%lu: out of memory\n", path, lineno);
            rc = 2;
            break;
        }
    }
    if (rc == 0 && ferror(f)) {
        fprintf(stderr, "shardsim balance: --keys: %s: read error\n", path);
        rc = 2;
    }
    if (rc == 0 && k->count == 0) {
        fprintf(stderr, "shardsim balance: --keys: %s: no keys\n", path);
        rc = 2;
    }
    free(line);
    fclose(f);
    return rc;
}

/* count distinct random 16-hex-digit keys from the seed's key stream. */
static int generate(keyset *k, uint64_t count, uint64_t seed) {
    prng r;
    prng_stream(&r, seed, 0, 1);
    while (k->count < count) {
        char key[17];
        snprintf(key, sizeof key, "%016" PRIx64, prng_next(&r));
        if (keyset_add(k, key, 16, 1))
            return -1;
    }
    return 0;
}

/* Zipf record counts by rank: max(1, round(10K * i^-s / H(K, s))). */
static void zipf_records(keyset *k, double s) {
    double h = 0, total = 10.0 * (double)k->count;
    for (size_t i = k->count; i > 0; i--) /* smallest terms first: less rounding */
        h += pow((double)i, -s);
    k->total_records = 0;
    for (size_t i = 0; i < k->count; i++) {
        double r = round(total * pow((double)(i + 1), -s) / h);
        k->records[i] = r < 1 ? 1 : (uint64_t)r;
        k->total_records += k->records[i];
    }
}

/* ---- measuring one (partitioner, N) ---- */

typedef struct row {
    const char *scheme;
    uint32_t n, groups, n_new;
    metrics_balance keys, records, bytes;
    double ideal, ideal_mc;
    int have_move;
    double moved_keys, moved_groups, moved_records, moved_bytes, min_moved;
} row;

static uint32_t key_group(const part *p, const keyset *k, size_t i, int key_int) {
    const char *key = k->data + k->offset[i];
    if (key_int) {
        char buf[16];
        int32_t v = 0;
        snprintf(buf, sizeof buf, "%.*s", (int)k->length[i], key);
        args_parse_i32(buf, &v);
        return part_group_of_int(p, v);
    }
    return part_group_of_bytes(p, key, k->length[i]);
}

/* Make the partitioner; bounded gets the keys per group as its weights. */
static int make_part(const options *o, const char *scheme, uint32_t n, const keyset *k,
                     part **out) {
    part_config cfg = o->base;
    cfg.scheme = scheme;
    cfg.parallelism = n;
    if (strcmp(scheme, "bounded") != 0)
        return part_create(&cfg, out);
    part *probe;
    int rc = part_create(&cfg, &probe);
    if (rc)
        return rc;
    uint64_t *w = calloc(part_groups(probe), sizeof *w);
    if (!w) {
        part_free(probe);
        return SS_ENOMEM;
    }
    for (size_t i = 0; i < k->count; i++)
        w[key_group(probe, k, i, o->key_int)]++;
    cfg.group_weights = w;
    cfg.groups = part_groups(probe);
    rc = part_create(&cfg, out);
    free(w);
    part_free(probe);
    return rc;
}

static void owners_of(const part *p, const keyset *k, int key_int, uint32_t *owner) {
    const uint32_t *table = part_owners(p);
    for (size_t i = 0; i < k->count; i++)
        owner[i] = table[key_group(p, k, i, key_int)];
}

static int measure(const options *o, const keyset *k, const char *scheme, uint32_t n,
                   uint32_t *owner, uint32_t *owner2, uint64_t *bytes, row *r) {
    memset(r, 0, sizeof *r);
    r->scheme = scheme;
    r->n = n;
    part *p;
    int rc = make_part(o, scheme, n, k, &p);
    if (rc)
        return rc;
    r->groups = part_groups(p);
    owners_of(p, k, o->key_int, owner);
    uint64_t *load = calloc(3 * (size_t)n, sizeof *load);
    if (!load) {
        part_free(p);
        return SS_ENOMEM;
    }
    for (size_t i = 0; i < k->count; i++) {
        load[owner[i]]++;
        load[n + owner[i]] += k->records[i];
        load[2 * n + owner[i]] += bytes[i];
    }
    metrics_balance_of(load, n, &r->keys);
    metrics_balance_of(load + n, n, &r->records);
    metrics_balance_of(load + 2 * n, n, &r->bytes);
    free(load);
    r->ideal = metrics_ideal_max_mean(k->count, n);
    r->ideal_mc = metrics_ideal_max_mean_mc(k->count, n, MC_TRIALS, o->seed);

    int64_t n_new = (int64_t)n + o->rescale;
    part *q = NULL;
    if (o->rescale != 0 && n_new >= 1 && (uint64_t)n_new <= r->groups &&
        part_rescaled(p, (uint32_t)n_new, &q) == 0) {
        r->have_move = 1;
        r->n_new = (uint32_t)n_new;
        owners_of(q, k, o->key_int, owner2);
        r->moved_keys = metrics_moved_fraction(owner, owner2, NULL, k->count);
        r->moved_records = metrics_moved_fraction(owner, owner2, k->records, k->count);
        r->moved_bytes = metrics_moved_fraction(owner, owner2, bytes, k->count);
        r->moved_groups = metrics_moved_fraction(part_owners(p), part_owners(q), NULL, r->groups);
        r->min_moved = metrics_min_moved_fraction(n, (uint32_t)n_new);
        part_free(q);
    }
    part_free(p);
    return 0;
}

/* ---- output ---- */

static const char *const csv_header =
    "partitioner,parallelism,groups,keys,records,keys_max_mean,keys_cov,keys_jain,"
    "ideal_max_mean,ideal_max_mean_mc,records_max_mean,records_cov,records_jain,"
    "bytes_max_mean,rescale_to,moved_keys,moved_groups,moved_records,moved_bytes,"
    "min_moved,moved_over_min\n";

static void csv_row(FILE *f, const row *r, const keyset *k) {
    csv_field(f, r->scheme);
    fprintf(f, ",%u,%u,%zu,%" PRIu64 ",%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,", r->n,
            r->groups, k->count, k->total_records, r->keys.max_over_mean, r->keys.cov, r->keys.jain,
            r->ideal, r->ideal_mc, r->records.max_over_mean, r->records.cov, r->records.jain,
            r->bytes.max_over_mean);
    if (r->have_move)
        fprintf(f, "%u,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f\n", r->n_new, r->moved_keys, r->moved_groups,
                r->moved_records, r->moved_bytes, r->min_moved,
                r->min_moved > 0 ? r->moved_keys / r->min_moved : 0.0);
    else
        fputs(",,,,,,\n", f);
}

/* Doubles go into the JSON rounded to 6 decimals, as in the CSV. */
static json_t *real6(double v) {
    return json_real(round(v * 1e6) / 1e6);
}

static json_t *json_row(const row *r) {
    json_t *o = json_object();
    json_object_set_new(o, "partitioner", json_string(r->scheme));
    json_object_set_new(o, "parallelism", json_integer(r->n));
    json_object_set_new(o, "groups", json_integer(r->groups));
    json_object_set_new(o, "keys_max_mean", real6(r->keys.max_over_mean));
    json_object_set_new(o, "keys_cov", real6(r->keys.cov));
    json_object_set_new(o, "keys_jain", real6(r->keys.jain));
    json_object_set_new(o, "ideal_max_mean", real6(r->ideal));
    json_object_set_new(o, "ideal_max_mean_mc", real6(r->ideal_mc));
    json_object_set_new(o, "records_max_mean", real6(r->records.max_over_mean));
    json_object_set_new(o, "records_cov", real6(r->records.cov));
    json_object_set_new(o, "records_jain", real6(r->records.jain));
    json_object_set_new(o, "bytes_max_mean", real6(r->bytes.max_over_mean));
    if (r->have_move) {
        json_t *m = json_object();
        json_object_set_new(m, "to", json_integer(r->n_new));
        json_object_set_new(m, "keys", real6(r->moved_keys));
        json_object_set_new(m, "groups", real6(r->moved_groups));
        json_object_set_new(m, "records", real6(r->moved_records));
        json_object_set_new(m, "bytes", real6(r->moved_bytes));
        json_object_set_new(m, "minimum", real6(r->min_moved));
        json_object_set_new(o, "movement", m);
    }
    return o;
}

static void table_header(void) {
    printf("%-11s %5s %8s %9s %7s %9s %7s %7s %8s %8s %8s %8s\n", "partitioner", "N", "groups",
           "keys m/m", "ideal", "recs m/m", "cov", "jain", "moved", "groups", "bytes", "vs min");
}

static void table_row(const row *r) {
    printf("%-11s %5u %8u %9.4f %7.4f %9.4f %7.4f %7.4f", r->scheme, r->n, r->groups,
           r->keys.max_over_mean, r->ideal, r->records.max_over_mean, r->records.cov,
           r->records.jain);
    if (r->have_move)
        printf(" %8.4f %8.4f %8.4f %7.2fx\n", r->moved_keys, r->moved_groups, r->moved_bytes,
               r->min_moved > 0 ? r->moved_keys / r->min_moved : 0.0);
    else
        printf(" %8s %8s %8s %8s\n", "-", "-", "-", "-");
}

static int write_outputs(const options *o, const keyset *k, const row *rows, size_t count,
                         const char *dir) {
    char path[4096];
    snprintf(path, sizeof path, "%s/balance.csv", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fputs(csv_header, f);
    for (size_t i = 0; i < count; i++)
        csv_row(f, &rows[i], k);
    if (fclose(f) != 0)
        return -1;

    json_t *root = json_object(), *in = json_object(), *arr = json_array();
    json_object_set_new(in, "source",
                        json_string(o->keys_file   ? "file"
                                    : o->zipf_keys ? "zipf"
                                                   : "uniform"));
    if (o->keys_file)
        json_object_set_new(in, "file", json_string(o->keys_file));
    if (o->zipf_keys)
        json_object_set_new(in, "zipf_s", real6(o->zipf_s));
    json_object_set_new(in, "keys", json_integer((json_int_t)k->count));
    json_object_set_new(in, "records", json_integer((json_int_t)k->total_records));
    json_object_set_new(in, "seed", json_integer((json_int_t)o->seed));
    json_object_set_new(in, "rescale", json_integer(o->rescale));
    json_object_set_new(in, "hash",
                        json_string(o->base.hash == PART_HASH_MURMUR3 ? "murmur3" : "crc32c"));
    for (size_t i = 0; i < count; i++)
        json_array_append_new(arr, json_row(&rows[i]));
    json_object_set_new(root, "inputs", in);
    json_object_set_new(root, "rows", arr);
    snprintf(path, sizeof path, "%s/balance.json", dir);
    int rc = json_dump_file(root, path, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_REAL_PRECISION(10));
    json_decref(root);
    if (rc != 0)
        return -1;

    if (!o->no_plot) {
        char parts[512] = "", vars[8192];
        for (size_t i = 0; i < count; i++)
            if (!strstr(parts, rows[i].scheme)) {
                strncat(parts, rows[i].scheme, sizeof parts - strlen(parts) - 2);
                strncat(parts, " ", sizeof parts - strlen(parts) - 1);
            }
        snprintf(vars, sizeof vars, "csv='%s/balance.csv'; outdir='%s'; parts='%s'", dir, dir,
                 parts);
        if (results_gnuplot("balance.gp", vars) != 0)
            fprintf(stderr, "shardsim balance: warning: gnuplot failed; no plots\n");
    }
    return 0;
}

/* ---- options ---- */

static int parse_zipf(args_state *a, options *o) {
    const char *v = NULL;
    if (args_value(a, &v))
        return ARGS_ERROR;
    char buf[128];
    snprintf(buf, sizeof buf, "%s", v);
    char *comma = strchr(buf, ',');
    if (!comma)
        return args_fail(a, "expected K,S (keys and exponent), got '%s'", v);
    *comma = '\0';
    if (args_parse_u64(buf, &o->zipf_keys) || o->zipf_keys == 0 || o->zipf_keys > 100000000 ||
        args_parse_double(comma + 1, &o->zipf_s) || !(o->zipf_s > 0) || o->zipf_s > 10)
        return args_fail(a, "expected K,S with 1 <= K <= 1e8 and 0 < S <= 10, got '%s'", v);
    return 0;
}

static int parse_rescale(args_state *a, options *o) {
    const char *v = NULL;
    if (args_value(a, &v))
        return ARGS_ERROR;
    if ((v[0] != '+' && v[0] != '-') || args_parse_i32(v[0] == '+' ? v + 1 : v, &o->rescale) ||
        o->rescale == 0 || o->rescale > 100000 || o->rescale < -100000)
        return args_fail(a, "expected +D or -D (D >= 1), got '%s'", v);
    return 0;
}

static int parse(int argc, char **argv, options *o) {
    static uint32_t default_ns[] = {4, 8, 16, 32, 64, 128};
    args_state a;
    args_init(&a, "balance", argc, argv);
    int rc, orc, sources = 0;
    const char *list = NULL;
    while ((rc = args_next(&a)) != ARGS_END) {
        if (rc == ARGS_POSITIONAL)
            return args_fail(&a, "unexpected argument '%s'", args_current(&a));
        if (args_is(&a, "--help", "-h")) {
            usage(stdout);
            return 1;
        } else if (args_is(&a, "--keys", NULL)) {
            if (args_value(&a, &o->keys_file))
                return ARGS_ERROR;
            sources++;
        } else if (args_is(&a, "--uniform", NULL)) {
            uint64_t v;
            if (args_value_u64(&a, &v))
                return ARGS_ERROR;
            if (v == 0 || v > 100000000)
                return args_fail(&a, "expected 1 to 100000000 keys, got %" PRIu64, v);
            o->uniform = v;
            sources++;
        } else if (args_is(&a, "--zipf", NULL)) {
            if (parse_zipf(&a, o))
                return ARGS_ERROR;
            sources++;
        } else if (args_is(&a, "--partitioner", NULL)) {
            if (args_value(&a, &o->partitioners))
                return ARGS_ERROR;
        } else if (args_is(&a, "--parallelism", NULL)) {
            if (args_value(&a, &list))
                return ARGS_ERROR;
            free(o->ns);
            o->ns = NULL;
            if (args_parse_u32_list(list, 1, 1u << 20, &o->ns, &o->n_count))
                return args_fail(&a, "expected a comma list of whole numbers >= 1, got '%s'", list);
        } else if (args_is(&a, "--rescale", NULL)) {
            if (parse_rescale(&a, o))
                return ARGS_ERROR;
        } else if (args_is(&a, "--seed", NULL)) {
            if (args_value_u64(&a, &o->seed))
                return ARGS_ERROR;
        } else if (args_is(&a, "--out", NULL)) {
            if (args_value(&a, &o->out))
                return ARGS_ERROR;
            o->out_given = 1;
        } else if (args_is(&a, "--force", NULL)) {
            o->force = 1;
        } else if (args_is(&a, "--no-plot", NULL)) {
            o->no_plot = 1;
        } else if (cli_partitioner_option(&a, &o->base, &o->key_int, &orc)) {
            if (orc)
                return ARGS_ERROR;
        } else {
            return args_unknown(&a);
        }
    }
    if (sources > 1) {
        fprintf(stderr, "shardsim balance: --keys, --uniform and --zipf exclude each other\n");
        return ARGS_ERROR;
    }
    if (sources == 0)
        o->uniform = DEFAULT_KEYS;
    if (!o->ns) {
        o->ns = malloc(sizeof default_ns);
        if (!o->ns)
            return ARGS_ERROR;
        memcpy(o->ns, default_ns, sizeof default_ns);
        o->n_count = sizeof default_ns / sizeof default_ns[0];
    }
    return 0;
}

/* The index of the partitioner named p[0, len) in part_scheme_names, or -1. */
static int scheme_index(const char *p, size_t len) {
    for (int i = 0; part_scheme_names[i]; i++)
        if (strlen(part_scheme_names[i]) == len && strncmp(part_scheme_names[i], p, len) == 0)
            return i;
    return -1;
}

/* Parse --partitioner: "all", or a comma list of distinct partitioner names. */
static int parse_partitioner_list(const char *list, const char **names, size_t *count) {
    const char *p = list;
    for (;;) {
        size_t len = strcspn(p, ",");
        int i = scheme_index(p, len);
        char what[128] = "";
        if (len == 0)
            snprintf(what, sizeof what, "an empty name");
        else if (len == 3 && strncmp(p, "all", 3) == 0)
            snprintf(what, sizeof what, "'all' cannot be combined with other names");
        else if (i < 0)
            snprintf(what, sizeof what, "unknown partitioner '%.*s'", (int)(len < 64 ? len : 64),
                     p);
        for (size_t k = 0; !what[0] && k < *count; k++)
            if (names[k] == part_scheme_names[i])
                snprintf(what, sizeof what, "'%s' is named twice", part_scheme_names[i]);
        if (what[0]) {
            fprintf(stderr,
                    "shardsim balance: --partitioner: %s in '%s' (want all, or a comma list of "
                    "modulo, flink, jump, ring, rendezvous, maglev, bounded)\n",
                    what, list);
            return 2;
        }
        names[(*count)++] = part_scheme_names[i];
        if (!p[len])
            return 0;
        p += len + 1;
    }
}

/* The partitioners to compare, checked against every N. names[] gets count entries. */
static int pick_partitioners(const options *o, const char **names, size_t *count) {
    *count = 0;
    if (!o->partitioners || strcmp(o->partitioners, "all") == 0) {
        for (size_t i = 0; part_scheme_names[i]; i++)
            names[(*count)++] = part_scheme_names[i];
    } else if (parse_partitioner_list(o->partitioners, names, count) != 0) {
        return 2;
    }
    for (size_t j = 0; j < o->n_count; j++)
        if ((int64_t)o->ns[j] + o->rescale < 1) {
            fprintf(stderr,
                    "shardsim balance: --rescale: %+d at --parallelism %u leaves no subtask "
                    "(N + D must be at least 1)\n",
                    (int)o->rescale, o->ns[j]);
            return 2;
        }
    for (size_t i = 0; i < *count; i++)
        for (size_t j = 0; j < o->n_count; j++) {
            part_config cfg = o->base;
            cfg.scheme = names[i];
            cfg.parallelism = o->ns[j];
            if (cli_check_partitioner("balance", &cfg))
                return 2;
        }
    return 0;
}

static int load_keys(const options *o, keyset *k) {
    if (o->keys_file)
        return load_file(k, o->keys_file);
    if (generate(k, o->uniform ? o->uniform : o->zipf_keys, o->seed)) {
        fprintf(stderr, "shardsim balance: out of memory generating keys\n");
        return 2;
    }
    if (o->zipf_keys)
        zipf_records(k, o->zipf_s);
    if (o->key_int) {
        fprintf(stderr, "shardsim balance: --key-type: int needs --keys FILE of integers\n");
        return 2;
    }
    return 0;
}

static int check_int_keys(const options *o, const keyset *k) {
    for (size_t i = 0; o->key_int && i < k->count; i++) {
        char buf[32];
        int32_t v;
        snprintf(buf, sizeof buf, "%.*s", (int)(k->length[i] < 31 ? k->length[i] : 31),
                 k->data + k->offset[i]);
        if (k->length[i] > 11 || args_parse_i32(buf, &v)) {
            fprintf(stderr, "shardsim balance: %s: key '%s' is not a 32-bit integer\n",
                    o->keys_file, buf);
            return 2;
        }
    }
    return 0;
}

int cli_balance(int argc, char **argv) {
    options o;
    memset(&o, 0, sizeof o);
    o.rescale = 1;
    o.seed = 1;
    o.out = "results/balance";
    int rc = parse(argc, argv, &o);
    const char *names[16];
    size_t name_count = 0;
    if (rc != 0 || pick_partitioners(&o, names, &name_count) != 0) {
        free(o.ns);
        return rc == 1 ? 0 : 2;
    }
    /* the default folder is shardsim's own: replaced without --force */
    char why[256];
    if (results_check_out(o.out, o.force || !o.out_given, why, sizeof why) != 0) {
        fprintf(stderr, "shardsim balance: --out: %s: %s\n", o.out, why);
        free(o.ns);
        return 2;
    }
    keyset k;
    memset(&k, 0, sizeof k);
    if ((rc = load_keys(&o, &k)) != 0 || (rc = check_int_keys(&o, &k)) != 0) {
        keyset_free(&k);
        free(o.ns);
        return rc;
    }
    uint32_t *owner = malloc(k.count * sizeof *owner), *owner2 = malloc(k.count * sizeof *owner2);
    uint64_t *bytes = malloc(k.count * sizeof *bytes);
    row *rows = calloc(name_count * o.n_count, sizeof *rows);
    char tmp[4200] = "";
    int status = 0;
    if (!owner || !owner2 || !bytes || !rows) {
        fprintf(stderr, "shardsim balance: out of memory\n");
        status = 2;
        goto done;
    }
    for (size_t i = 0; i < k.count; i++)
        bytes[i] = k.length[i] + STATE_VALUE_BYTES;
    printf("%zu keys, %" PRIu64 " records; balance is max/mean over subtasks\n", k.count,
           k.total_records);
    table_header();
    size_t count = 0;
    for (size_t i = 0; i < name_count; i++)
        for (size_t j = 0; j < o.n_count; j++) {
            if ((rc = measure(&o, &k, names[i], o.ns[j], owner, owner2, bytes, &rows[count]))) {
                fprintf(stderr, "shardsim balance: %s at N=%u: %s\n", names[i], o.ns[j],
                        ss_strerror(rc));
                status = 2;
                goto done;
            }
            table_row(&rows[count++]);
        }
    results_guard_signals();
    if (results_begin(o.out, tmp, sizeof tmp) != 0 ||
        write_outputs(&o, &k, rows, count, tmp) != 0 || results_replace_dir(tmp, o.out) != 0) {
        fprintf(stderr, "shardsim balance: --out: %s: cannot write results: %s\n", o.out,
                strerror(errno));
        if (tmp[0])
            results_abort(tmp);
        status = 2;
        goto done;
    }
    printf("wrote %s/balance.csv, balance.json%s\n", o.out,
           o.no_plot ? "" : ", balance.png/svg, movement.png/svg");
done:
    free(owner);
    free(owner2);
    free(bytes);
    free(rows);
    keyset_free(&k);
    free(o.ns);
    return status;
}
