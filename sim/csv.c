/* csv.c -- RFC 4180 fields, written and read back; see csv.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/csv.h"

void csv_field(FILE *out, const char *text) {
    if (!text)
        return;
    if (!text[strcspn(text, ",\"\r\n")]) {
        fputs(text, out);
        return;
    }
    fputc('"', out);
    for (const char *p = text; *p; p++) {
        if (*p == '"')
            fputc('"', out);
        fputc(*p, out);
    }
    fputc('"', out);
}

/* Is a quoted field still open at the end of record[0, len)? Quotes toggle it; a
 * doubled quote inside a field toggles it twice. */
static int quote_open(const char *record, size_t len) {
    int open = 0;
    for (size_t i = 0; i < len; i++)
        open ^= record[i] == '"';
    return open;
}

ssize_t csv_record_read(FILE *in, char **record, size_t *cap) {
    char *line = NULL;
    size_t line_cap = 0, len = 0;
    ssize_t n;
    int any = 0;
    while ((n = getline(&line, &line_cap, in)) >= 0) {
        any = 1;
        if (len + (size_t)n + 1 > *cap) {
            size_t bigger = (len + (size_t)n + 1) * 2;
            char *grown = realloc(*record, bigger);
            if (!grown) {
                free(line);
                return -1;
            }
            *record = grown;
            *cap = bigger;
        }
        memcpy(*record + len, line, (size_t)n + 1);
        len += (size_t)n;
        if (!quote_open(*record, len))
            break;
    }
    free(line);
    if (!any)
        return -1;
    if (len && (*record)[len - 1] == '\n')
        (*record)[--len] = '\0';
    if (len && (*record)[len - 1] == '\r')
        (*record)[--len] = '\0';
    return (ssize_t)len;
}

/* Copy the field starting at p into out (if out) and return where the next one
 * starts, or NULL after the last field. */
static const char *next_field(const char *p, char *out, size_t size) {
    size_t used = 0;
    int quoted = *p == '"';
    p += quoted;
    for (;; p++) {
        if (!*p)
            break;
        if (quoted && *p == '"') {
            if (p[1] != '"') {
                quoted = 0;
                continue;
            }
            p++; /* a doubled quote stands for one */
        } else if (!quoted && *p == ',') {
            break;
        }
        if (out && used + 1 < size)
            out[used++] = *p;
    }
    if (out && size)
        out[used] = '\0';
    return *p == ',' ? p + 1 : NULL;
}

int csv_record_field(const char *record, int col, char *out, size_t size) {
    const char *p = record;
    for (int i = 0; i < col && p; i++)
        p = next_field(p, NULL, 0);
    if (!p) {
        if (size)
            out[0] = '\0';
        return -1;
    }
    next_field(p, out, size);
    return 0;
}

int csv_record_column(const char *header, const char *name) {
    char field[256];
    const char *p = header;
    for (int col = 0; p; col++) {
        const char *next = next_field(p, field, sizeof field);
        if (strcmp(field, name) == 0)
            return col;
        p = next;
    }
    return -1;
}
