/* sweep_figs.c -- the figures of a sweep, from runs.csv and the runs' failovers.csv:
 * sweep_plot.csv (p99 latency and records max/mean per cell, one series per value of
 * the second swept parameter) and sweep_downtime.csv / sweep_downtime_plot.csv
 * (failover time and detection time as distributions over each cell's runs), which
 * results/sweep.gp and results/sweep_downtime.gp draw. See sweep_figs.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/grow.h"
#include "sim/cli/sweep_figs.h"
#include "sim/csv.h"

#define MAX_SERIES 16

/* One cell of a sweep (a value of the first swept parameter, and of the second if
 * any): the figures of its runs -- repetitions, seeds, crash phases: failover and
 * detection times (sweep_downtime), or p99 latency and records max/mean (sweep_plot). */
typedef struct cell {
    char x[64], series[96];
    double *downtime, *detection;
    size_t n_down, n_det, cap_down, cap_det;
    double *p99, *balance;
    size_t n, cap_p99, cap_balance;
} cell;

static void free_cells(cell *cells, size_t count) {
    for (size_t i = 0; i < count; i++) {
        free(cells[i].downtime);
        free(cells[i].detection);
        free(cells[i].p99);
        free(cells[i].balance);
    }
    free(cells);
}

/* 1 if cells[i] is the first with its x (each x once, in order of appearance). */
static int first_of_x(const cell *cells, size_t i) {
    for (size_t j = 0; j < i; j++)
        if (strcmp(cells[j].x, cells[i].x) == 0)
            return 0;
    return 1;
}

/* The cell (x, series), or NULL. */
static cell *cell_at(cell *cells, size_t count, const char *x, const char *series) {
    for (size_t j = 0; j < count; j++)
        if (strcmp(cells[j].x, x) == 0 && strcmp(cells[j].series, series) == 0)
            return &cells[j];
    return NULL;
}

/* The series' names, in order of appearance (at most MAX_SERIES); how many. */
static int series_names(const cell *cells, size_t count, char names[][96]) {
    int ns = 0;
    for (size_t i = 0; i < count; i++) {
        int k = 0;
        while (k < ns && strcmp(names[k], cells[i].series) != 0)
            k++;
        if (k == ns && ns < MAX_SERIES)
            snprintf(names[ns++], sizeof names[0], "%s", cells[i].series);
    }
    return ns;
}

/* The cell (x, series), added (empty) if new; NULL when out of memory. */
static cell *cell_add(cell **cells, size_t *count, size_t *cap, const char *x, const char *series) {
    cell *c = cell_at(*cells, *count, x, series);
    if (c)
        return c;
    if (ss_grow(cells, cap, *count + 1, sizeof **cells) != 0)
        return NULL;
    c = &(*cells)[(*count)++];
    memset(c, 0, sizeof *c);
    snprintf(c->x, sizeof c->x, "%s", x);
    snprintf(c->series, sizeof c->series, "%s", series);
    return c;
}

static int push_value(double **v, size_t *n, size_t *cap, double x) {
    if (ss_grow(v, cap, *n + 1, sizeof **v) != 0)
        return -1;
    (*v)[(*n)++] = x;
    return 0;
}

/* The detection time of a run's first failover (failovers.csv), or -1. */
static double first_detection(const char *dir, const char *run) {
    char path[4200];
    snprintf(path, sizeof path, "%s/run-%03d/failovers.csv", dir, atoi(run));
    FILE *f = fopen(path, "r");
    char *header = NULL, *line = NULL;
    size_t hc = 0, lc = 0;
    double d = -1;
    if (f && csv_record_read(f, &header, &hc) >= 0 && csv_record_read(f, &line, &lc) >= 0) {
        int col = csv_record_column(header, "detection_s");
        char v[64];
        if (col >= 0) {
            csv_record_field(line, col, v, sizeof v);
            d = v[0] ? atof(v) : -1;
        }
    }
    if (f)
        fclose(f);
    free(header);
    free(line);
    return d;
}

static int cmp_doubles(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* median, p10, p90, min, max of v (sorted in place), linear between ranks. */
static void spread(double *v, size_t n, double out[5]) {
    if (n == 0) {
        for (int i = 0; i < 5; i++)
            out[i] = 0;
        return;
    }
    qsort(v, n, sizeof *v, cmp_doubles);
    static const double q[3] = {0.5, 0.1, 0.9};
    for (int k = 0; k < 3; k++) {
        double pos = q[k] * (double)(n - 1);
        size_t i = (size_t)pos;
        out[k] = i + 1 < n ? v[i] + (v[i + 1] - v[i]) * (pos - (double)i) : v[n - 1];
    }
    out[3] = v[0];
    out[4] = v[n - 1];
}

/* sweep_downtime_plot.csv, what sweep_downtime.gp draws: one row per x value, and per
 * series its downtime median, p10 and p90 (empty where a cell has no run). The cells'
 * values are sorted already (spread). */
static int write_downtime_plot(const char *dir, cell *cells, size_t count, char names[][96],
                               int ns) {
    char path[4200];
    snprintf(path, sizeof path, "%s/sweep_downtime_plot.csv", dir);
    FILE *out = fopen(path, "w");
    if (!out)
        return -1;
    fputs("x", out);
    for (int k = 0; k < ns; k++) {
        char label[128];
        fputc(',', out);
        csv_field(out, names[k]);
        snprintf(label, sizeof label, "%s p10", names[k]);
        fputc(',', out);
        csv_field(out, label);
        snprintf(label, sizeof label, "%s p90", names[k]);
        fputc(',', out);
        csv_field(out, label);
    }
    fputc('\n', out);
    for (size_t i = 0; i < count; i++) {
        if (!first_of_x(cells, i))
            continue;
        csv_field(out, cells[i].x);
        for (int k = 0; k < ns; k++) {
            const cell *c = cell_at(cells, count, cells[i].x, names[k]);
            double v[5];
            if (c && c->n_down) {
                spread(c->downtime, c->n_down, v);
                fprintf(out, ",%.6f,%.6f,%.6f", v[0], v[1], v[2]);
            } else {
                fputs(",,,", out);
            }
        }
        fputc('\n', out);
    }
    return fclose(out) == 0 ? 0 : -1;
}

/* sweep_downtime.csv: failover time (fault to processing again) and detection time as
 * distributions over each cell's runs (median, p10, p90, min, max, count) against the
 * first swept parameter, one series per value of the second (if any, e.g. the fault
 * kind). Built from runs.csv and the runs' failovers.csv; runs without figures are
 * left out. */
/* dir/runs.csv, opened with its header read into *header (free it); NULL if it cannot be
 * read. */
static FILE *open_runs(const char *dir, char **header) {
    char path[4096];
    snprintf(path, sizeof path, "%s/runs.csv", dir);
    FILE *in = fopen(path, "r");
    size_t cap = 0;
    *header = NULL;
    if (in && csv_record_read(in, header, &cap) >= 0)
        return in;
    if (in)
        fclose(in);
    free(*header);
    *header = NULL;
    return NULL;
}

int sweep_write_downtime(const scenario *s, const char *dir, int *series) {
    char *header, *line = NULL;
    size_t line_cap = 0;
    FILE *in = open_runs(dir, &header);
    if (!in)
        return -1;
    int cx = csv_record_column(header, s->param_names[0]);
    int cd = csv_record_column(header, "downtime_s"), cr = csv_record_column(header, "run");
    int cs = s->param_name_count > 1 ? csv_record_column(header, s->param_names[1]) : -1;
    free(header);
    cell *cells = NULL;
    size_t count = 0, cap = 0;
    int rc = 0;
    while (rc == 0 && cx >= 0 && cd >= 0 && cr >= 0 && csv_record_read(in, &line, &line_cap) >= 0) {
        char x[64], sv[96] = "downtime", d[32], run[16];
        csv_record_field(line, cx, x, sizeof x);
        csv_record_field(line, cd, d, sizeof d);
        csv_record_field(line, cr, run, sizeof run);
        if (cs >= 0)
            csv_record_field(line, cs, sv, sizeof sv);
        if (!d[0])
            continue;
        cell *c = cell_add(&cells, &count, &cap, x, sv);
        if (!c) {
            rc = -1;
            break;
        }
        double det = first_detection(dir, run);
        if (push_value(&c->downtime, &c->n_down, &c->cap_down, atof(d)) != 0 ||
            (det >= 0 && push_value(&c->detection, &c->n_det, &c->cap_det, det) != 0))
            rc = -1;
    }
    free(line);
    fclose(in);
    int any = 0; /* a sweep without failovers gets no downtime figures */
    for (size_t i = 0; i < count && !any; i++)
        for (size_t j = 0; j < cells[i].n_down; j++)
            any |= cells[i].downtime[j] > 0;
    if (rc == 0 && !any) {
        free_cells(cells, count);
        *series = 0;
        return 1;
    }
    char names[MAX_SERIES][96];
    int ns = series_names(cells, count, names);
    char path[4096];
    snprintf(path, sizeof path, "%s/sweep_downtime.csv", dir);
    FILE *out = rc == 0 ? fopen(path, "w") : NULL;
    if (out) {
        csv_field(out, s->param_names[0]);
        fputs(s->param_name_count > 1 ? "," : ",series", out);
        if (s->param_name_count > 1)
            csv_field(out, s->param_names[1]);
        fputs(",series_index,runs,downtime_median_s,downtime_p10_s,downtime_p90_s,"
              "downtime_min_s,downtime_max_s,detection_median_s,detection_p10_s,"
              "detection_p90_s,detection_min_s,detection_max_s\n",
              out);
        for (size_t i = 0; i < count; i++) {
            cell *c = &cells[i];
            int k = 0;
            while (k < ns && strcmp(names[k], c->series) != 0)
                k++;
            double down[5], det[5];
            spread(c->downtime, c->n_down, down);
            spread(c->detection, c->n_det, det);
            csv_field(out, c->x);
            fputc(',', out);
            csv_field(out, c->series);
            fprintf(out, ",%d,%zu", k, c->n_down);
            for (int j = 0; j < 5; j++)
                fprintf(out, ",%.6f", down[j]);
            for (int j = 0; j < 5; j++)
                fprintf(out, ",%.6f", det[j]);
            fputc('\n', out);
        }
        rc = fclose(out) == 0 ? 0 : -1;
    } else {
        rc = -1;
    }
    if (rc == 0)
        rc = write_downtime_plot(dir, cells, count, names, ns);
    free_cells(cells, count);
    *series = ns;
    return rc;
}

static int is_number(const char *text) {
    char *end;
    strtod(text, &end);
    return text[0] && *end == '\0';
}

static double median(double *v, size_t n) {
    double out[5];
    spread(v, n, out);
    return out[0];
}

/* Read runs.csv into cells (x, series); 0 or -1. */
static int read_cells(const scenario *s, const char *dir, cell **out, size_t *count) {
    char *header, *line = NULL;
    size_t line_cap = 0, cap = 0;
    FILE *in = open_runs(dir, &header);
    if (!in)
        return -1;
    int cx = csv_record_column(header, s->param_names[0]);
    int cs = s->param_name_count > 1 ? csv_record_column(header, s->param_names[1]) : -1;
    int cp = csv_record_column(header, "p99_ms"),
        cb = csv_record_column(header, "records_max_mean");
    free(header);
    int rc = cx >= 0 && cp >= 0 && cb >= 0 ? 0 : -1;
    cell *cells = NULL;
    *count = 0;
    while (rc == 0 && csv_record_read(in, &line, &line_cap) >= 0) {
        char x[64], sv[96] = "all runs", p99[32], bal[32];
        csv_record_field(line, cx, x, sizeof x);
        csv_record_field(line, cp, p99, sizeof p99);
        csv_record_field(line, cb, bal, sizeof bal);
        if (cs >= 0)
            csv_record_field(line, cs, sv, sizeof sv);
        if (!p99[0]) /* a run that failed before it had figures */
            continue;
        cell *c = cell_add(&cells, count, &cap, x, sv);
        if (!c) {
            rc = -1;
            break;
        }
        size_t n = c->n;
        if (push_value(&c->p99, &n, &c->cap_p99, atof(p99)) != 0 ||
            push_value(&c->balance, &c->n, &c->cap_balance, atof(bal)) != 0)
            rc = -1;
    }
    free(line);
    fclose(in);
    *out = cells;
    return rc;
}

int sweep_write_plot(const scenario *s, const char *dir, int *series, int *categorical) {
    cell *cells = NULL;
    size_t count = 0;
    int rc = read_cells(s, dir, &cells, &count);
    char names[MAX_SERIES][96];
    int ns = series_names(cells, count, names);
    *categorical = 0;
    for (size_t i = 0; i < count; i++)
        *categorical |= !is_number(cells[i].x);
    char path[4096];
    snprintf(path, sizeof path, "%s/sweep_plot.csv", dir);
    FILE *out = rc == 0 ? fopen(path, "w") : NULL;
    if (out) {
        fputs("x", out);
        for (int k = 0; k < ns; k++) {
            fputc(',', out); /* the series' name heads both its columns: the legend */
            csv_field(out, names[k]);
            fputc(',', out);
            csv_field(out, names[k]);
        }
        fputc('\n', out);
        for (size_t i = 0; i < count; i++) {
            if (!first_of_x(cells, i))
                continue;
            csv_field(out, cells[i].x);
            for (int k = 0; k < ns; k++) {
                cell *c = cell_at(cells, count, cells[i].x, names[k]);
                if (c && c->n)
                    fprintf(out, ",%.6f,%.6f", median(c->p99, c->n), median(c->balance, c->n));
                else
                    fputs(",,", out);
            }
            fputc('\n', out);
        }
        rc = fclose(out) == 0 ? 0 : -1;
    } else {
        rc = -1;
    }
    free_cells(cells, count);
    *series = ns;
    return rc;
}
