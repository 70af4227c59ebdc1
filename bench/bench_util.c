/* bench_util.c -- see bench_util.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "bench/bench_util.h"
#include "sim/csv.h"
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

/* ---- bench_result_ ---- */

static int bench_result_cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double bench_result_median(double *samples, size_t n) {
    qsort(samples, n, sizeof *samples, bench_result_cmp);
    return n % 2 ? samples[n / 2] : (samples[n / 2 - 1] + samples[n / 2]) / 2;
}

void bench_result_set(bench_result *r, const char *name, const char *unit, double value,
                      double baseline, double ratio, double target) {
    snprintf(r->name, sizeof r->name, "%s", name);
    snprintf(r->unit, sizeof r->unit, "%s", unit);
    r->value = value;
    r->baseline = baseline;
    r->ratio = ratio;
    r->target = target;
}

int bench_result_met(const bench_result *r) {
    return r->target >= 0 && r->ratio >= r->target;
}

static int bench_result_write_csv(const char *path, const bench_result *rows, size_t count) {
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -1;
    fprintf(f, "name,unit,value,baseline,ratio,target,met\n");
    for (size_t i = 0; i < count; i++) {
        const bench_result *r = &rows[i];
        csv_field(f, r->name);
        fputc(',', f);
        csv_field(f, r->unit);
        fprintf(f, ",%.4g,%.4g,%.3f,", r->value, r->baseline, r->ratio);
        if (r->target >= 0)
            fprintf(f, "%.2f,%s\n", r->target, bench_result_met(r) ? "yes" : "no");
        else
            fprintf(f, ",\n");
    }
    if (fclose(f) != 0)
        return -1;
    return rename(tmp, path);
}

static int bench_result_write_json(const char *path, const char *name, const bench_result *rows,
                                   size_t count, const char *note) {
    json_t *root = json_object(), *arr = json_array();
    for (size_t i = 0; i < count; i++) {
        const bench_result *r = &rows[i];
        int has = r->target >= 0;
        json_t *o = json_object();
        json_object_set_new(o, "name", json_string(r->name));
        json_object_set_new(o, "unit", json_string(r->unit));
        json_object_set_new(o, "value", json_real(r->value));
        json_object_set_new(o, "baseline", json_real(r->baseline));
        json_object_set_new(o, "ratio", json_real(r->ratio));
        json_object_set_new(o, "target", has ? json_real(r->target) : json_null());
        json_object_set_new(o, "met", has ? json_boolean(bench_result_met(r)) : json_null());
        json_array_append_new(arr, o);
    }
    json_object_set_new(root, "benchmark", json_string(name));
    if (note)
        json_object_set_new(root, "note", json_string(note));
    json_object_set_new(root, "rows", arr);
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int rc = json_dump_file(root, tmp, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
    json_decref(root);
    return rc == 0 ? rename(tmp, path) : -1;
}

int bench_result_write(const char *dir, const char *name, const bench_result *rows, size_t count,
                       const char *note) {
    if (results_mkdir_p(dir) != 0)
        return -1;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.csv", dir, name);
    if (bench_result_write_csv(path, rows, count) != 0)
        return -1;
    snprintf(path, sizeof path, "%s/%s.json", dir, name);
    return bench_result_write_json(path, name, rows, count, note);
}

/* ---- end of bench_result_ ---- */
