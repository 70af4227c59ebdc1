/* csv.h -- the one writer and reader of the CSV files shardsim makes (runs.csv,
 * failovers.csv, balance.csv, ...), quoting per RFC 4180: a field holding a comma, a
 * double quote, a carriage return or a line feed is enclosed in double quotes, and a
 * double quote inside it is doubled. Every other field is written as it is, so files
 * whose fields are numbers and plain names look as they always did. A record ends
 * with "\n" (not "\r\n": the files are read by gnuplot and shell tools). */
#ifndef SHARDSIM_SIM_CSV_H
#define SHARDSIM_SIM_CSV_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

/* Write text (NULL: an empty field) as one field, quoted if it needs to be; no
 * separator before or after it. */
void csv_field(FILE *out, const char *text);

/* Read the next record of in into *record (a malloc'd buffer of *cap bytes, grown as
 * needed, as getline does; the caller frees it): one line, or more while a quoted
 * field is open. Returns its length without the final "\n" (or "\r\n"), or -1 at the
 * end of the file or on a read error or out of memory. */
ssize_t csv_record_read(FILE *in, char **record, size_t *cap);

/* Field `col` (from 0) of a record, unquoted, into out (cut to size - 1 bytes,
 * NUL-terminated). Returns 0, or -1 when the record has fewer fields (out = ""). */
int csv_record_field(const char *record, int col, char *out, size_t size);

/* The column whose header field is `name` in a header record, or -1. */
int csv_record_column(const char *header, const char *name);

#endif
