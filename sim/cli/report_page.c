/* report_page.c -- index.html of a result folder: one page a user can open offline
 * (no script, no network) with what the folder holds -- the manifest's facts, the run
 * table, the sweep's plots, and per run its summary, its failovers, its faults and its
 * plots. Plots are inlined as SVG (gnuplot's own files, without their XML prolog), so
 * the page stands alone; a folder of many runs inlines the first RUNS_INLINED runs'
 * plots and links the others' files. Every link points to a file of the folder: a test
 * checks that none is broken. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sim/cli/report_page.h"
#include "sim/csv.h"

#define RUNS_INLINED 32
#define TABLE_ROWS 500 /* rows of a CSV shown; the file has them all */

static void put_escaped(FILE *out, const char *text, size_t len) {
    for (size_t i = 0; i < len; i++) {
        switch (text[i]) {
        case '<':
            fputs("&lt;", out);
            break;
        case '>':
            fputs("&gt;", out);
            break;
        case '&':
            fputs("&amp;", out);
            break;
        case '"':
            fputs("&quot;", out);
            break;
        default:
            fputc(text[i], out);
        }
    }
}

static void put_text(FILE *out, const char *text) {
    put_escaped(out, text, strlen(text));
}

static int exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* A CSV file as a table (its first TABLE_ROWS rows), with a link to the file. */
static void put_csv_table(FILE *out, const char *dir, const char *name) {
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *in = fopen(path, "r");
    if (!in)
        return;
    char *rec = NULL, field[512];
    size_t cap = 0, rows = 0;
    int cols = 0;
    fputs("<div class=\"scroll\"><table>\n", out);
    while (csv_record_read(in, &rec, &cap) >= 0) {
        if (rows == 0) /* the header names every column */
            while (csv_record_field(rec, cols, field, sizeof field) == 0)
                cols++;
        if (rows++ > TABLE_ROWS)
            continue;
        fputs("<tr>", out);
        for (int c = 0; c < cols; c++) {
            if (csv_record_field(rec, c, field, sizeof field) != 0)
                field[0] = '\0';
            fputs(rows == 1 ? "<th>" : "<td>", out);
            put_text(out, field);
            fputs(rows == 1 ? "</th>" : "</td>", out);
        }
        fputs("</tr>\n", out);
    }
    free(rec);
    fclose(in);
    fputs("</table></div>\n", out);
    if (rows > TABLE_ROWS + 1)
        fprintf(out, "<p>The first %d of %zu rows; ", TABLE_ROWS, rows - 1);
    else
        fputs("<p>", out);
    fputs("the file: <a href=\"", out);
    put_text(out, name);
    fputs("\">", out);
    put_text(out, name);
    fputs("</a></p>\n", out);
}

/* A text file as preformatted text. */
static void put_pre(FILE *out, const char *path) {
    FILE *in = fopen(path, "r");
    if (!in)
        return;
    char buf[4096];
    size_t n;
    fputs("<pre>", out);
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        put_escaped(out, buf, n);
    fputs("</pre>\n", out);
    fclose(in);
}

/* An SVG file inlined: everything from its <svg element on. */
static void put_svg(FILE *out, const char *path) {
    FILE *in = fopen(path, "r");
    if (!in)
        return;
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    char buf[8192];
    size_t n;
    while (mem && (n = fread(buf, 1, sizeof buf, in)) > 0)
        fwrite(buf, 1, n, mem);
    fclose(in);
    if (!mem || fclose(mem) != 0) {
        free(text);
        return;
    }
    const char *svg = strstr(text, "<svg");
    if (svg)
        fprintf(out, "<figure>%s</figure>\n", svg);
    free(text);
}

static int cmp_names(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in dir ending in suffix, sorted (the page must not depend on readdir's
 * order); *count of them. NULL when there are none. */
static char **names_ending(const char *dir, const char *suffix, size_t *count) {
    *count = 0;
    DIR *d = opendir(dir);
    if (!d)
        return NULL;
    char **names = NULL;
    size_t cap = 0, slen = strlen(suffix);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len <= slen || strcmp(e->d_name + len - slen, suffix) != 0)
            continue;
        if (*count == cap) {
            cap = cap ? cap * 2 : 16;
            char **grown = realloc(names, cap * sizeof *names);
            if (!grown)
                break;
            names = grown;
        }
        if ((names[*count] = strdup(e->d_name)) != NULL)
            (*count)++;
    }
    closedir(d);
    if (*count)
        qsort(names, *count, sizeof *names, cmp_names);
    return names;
}

static void free_names(char **names, size_t count) {
    for (size_t i = 0; i < count; i++)
        free(names[i]);
    free(names);
}

/* Every plot of dir: inlined, or (inline == 0) linked, under the link prefix. */
static void put_plots(FILE *out, const char *dir, const char *prefix, int inline_them) {
    size_t count;
    char **names = names_ending(dir, ".svg", &count);
    for (size_t i = 0; i < count; i++) {
        char path[4400];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (inline_them) {
            put_svg(out, path);
        } else {
            fputs("<a href=\"", out);
            put_text(out, prefix);
            put_text(out, names[i]);
            fputs("\">", out);
            put_text(out, names[i]);
            fputs("</a> ", out);
        }
    }
    free_names(names, count);
}

static const char STYLE[] =
    "body{font-family:sans-serif;margin:1.5em;max-width:1100px}"
    "table{border-collapse:collapse;font-size:12px}"
    "td,th{border:1px solid #ccc;padding:2px 5px;text-align:right;white-space:nowrap}"
    "th{background:#eee;position:sticky;top:0}"
    ".scroll{max-height:420px;overflow:auto;border:1px solid #ddd}"
    "figure{margin:1em 0}figure svg{width:100%;height:auto}"
    "pre{background:#f6f6f6;padding:.5em;overflow:auto}";

/* One run's section. */
static void put_run(FILE *out, const char *dir, const report_page_run *run, int inline_plots) {
    char run_dir[4400], path[4500], prefix[64];
    snprintf(run_dir, sizeof run_dir, "%s/%s", dir, run->folder);
    fputs("<section><h2 id=\"", out);
    put_text(out, run->folder);
    fputs("\">", out);
    put_text(out, run->title);
    fputs("</h2>\n", out);
    if (run->status && run->status[0]) {
        fputs("<p><b>", out);
        put_text(out, run->status);
        fputs("</b></p>\n", out);
    }
    snprintf(path, sizeof path, "%s/summary.txt", run_dir);
    put_pre(out, path);
    snprintf(path, sizeof path, "%s/faults.txt", run_dir);
    if (exists(path)) {
        fputs("<h3>Faults</h3>\n", out);
        put_pre(out, path);
    }
    snprintf(path, sizeof path, "%s/failovers.csv", run_dir);
    if (exists(path)) {
        char name[200];
        snprintf(name, sizeof name, "%s/failovers.csv", run->folder);
        fputs("<h3>Failovers</h3>\n", out);
        put_csv_table(out, dir, name);
    }
    snprintf(prefix, sizeof prefix, "%s/", run->folder);
    put_plots(out, run_dir, prefix, inline_plots);
    size_t count;
    char **csvs = names_ending(run_dir, ".csv", &count);
    if (count)
        fputs("<p>Files: ", out);
    for (size_t i = 0; i < count; i++) {
        fputs("<a href=\"", out);
        put_text(out, prefix);
        put_text(out, csvs[i]);
        fputs("\">", out);
        put_text(out, csvs[i]);
        fputs("</a> ", out);
    }
    if (count)
        fputs("</p>\n", out);
    free_names(csvs, count);
    fputs("</section>\n", out);
}

int report_page_write(const char *dir, const char *title, const report_page_run *runs,
                      size_t run_count) {
    char path[4400], tmp[4500];
    snprintf(path, sizeof path, "%s/index.html", dir);
    snprintf(tmp, sizeof tmp, "%s/.index.html.tmp", dir);
    FILE *out = fopen(tmp, "w");
    if (!out)
        return -1;
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>", out);
    put_text(out, title);
    fprintf(out, "</title><style>%s</style></head><body>\n<h1>", STYLE);
    put_text(out, title);
    fputs("</h1>\n", out);
    char manifest[4500];
    snprintf(manifest, sizeof manifest, "%s/manifest.json", dir);
    if (exists(manifest))
        fputs("<p>How it was made: <a href=\"manifest.json\">manifest.json</a> (command line, "
              "scenario text, version). Every figure below comes from the CSV files linked "
              "beside it.</p>\n",
              out);
    fputs("<h2>Runs</h2>\n", out);
    put_csv_table(out, dir, "runs.csv");
    char sweep[4500];
    snprintf(sweep, sizeof sweep, "%s/sweep_downtime.csv", dir);
    if (exists(sweep))
        put_csv_table(out, dir, "sweep_downtime.csv");
    put_plots(out, dir, "", 1);
    if (run_count) {
        fputs("<h2>Each run</h2>\n<p>", out);
        for (size_t i = 0; i < run_count; i++) {
            fputs("<a href=\"#", out);
            put_text(out, runs[i].folder);
            fputs("\">", out);
            put_text(out, runs[i].folder);
            fputs("</a> ", out);
        }
        fputs("</p>\n", out);
        if (run_count > RUNS_INLINED)
            fprintf(out,
                    "<p>%zu runs: the plots of the first %d are shown, the others' are "
                    "linked.</p>\n",
                    run_count, RUNS_INLINED);
    }
    for (size_t i = 0; i < run_count; i++)
        put_run(out, dir, &runs[i], i < RUNS_INLINED);
    fputs("</body></html>\n", out);
    if (fclose(out) != 0 || rename(tmp, path) != 0) {
        remove(tmp);
        return -1;
    }
    return 0;
}
