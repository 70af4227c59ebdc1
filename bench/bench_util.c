/* bench_util.c -- see bench_util.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "bench/bench_util.h"
#include "sim/results.h"

uint64_t bench_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static volatile uint64_t sink;

void bench_sink(uint64_t v) {
    sink += v;
}

int bench_write(const char *dir, const char *name, const bench_row *rows, size_t count,
                const char *ratio_meaning) {
    if (results_mkdir_p(dir) != 0)
        return -1;
    char path[4096], tmp[4200];
    snprintf(path, sizeof path, "%s/%s.csv", dir, name);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -1;
    fprintf(f, "name,size,ns_per_op,gb_per_s,ratio\n");
    for (size_t i = 0; i < count; i++)
        fprintf(f, "%s,%s,%.3f,%.3f,%.3f\n", rows[i].name, rows[i].size, rows[i].ns_per_op,
                rows[i].gbps, rows[i].ratio);
    if (fclose(f) != 0 || rename(tmp, path) != 0)
        return -1;
    json_t *root = json_object(), *arr = json_array();
    for (size_t i = 0; i < count; i++) {
        json_t *o = json_object();
        json_object_set_new(o, "name", json_string(rows[i].name));
        json_object_set_new(o, "size", json_string(rows[i].size));
        json_object_set_new(o, "ns_per_op", json_real(rows[i].ns_per_op));
        json_object_set_new(o, "gb_per_s", json_real(rows[i].gbps));
        json_object_set_new(o, "ratio", json_real(rows[i].ratio));
        json_array_append_new(arr, o);
    }
    json_object_set_new(root, "benchmark", json_string(name));
    json_object_set_new(root, "ratio", json_string(ratio_meaning));
    json_object_set_new(root, "rows", arr);
    snprintf(path, sizeof path, "%s/%s.json", dir, name);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int rc = json_dump_file(root, tmp, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
    json_decref(root);
    return rc == 0 && rename(tmp, path) == 0 ? 0 : -1;
}

int bench_args(int argc, char **argv, const char **out_dir) {
    int quick = 0;
    *out_dir = "results/bench";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0)
            quick = 1;
        else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
            *out_dir = argv[++i];
        else {
            fprintf(stderr, "%s: unknown argument '%s' (--quick, --out DIR)\n", argv[0], argv[i]);
            exit(2);
        }
    }
    return quick;
}
