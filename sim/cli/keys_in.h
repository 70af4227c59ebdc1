/* keys_in.h -- reading keys one a line from a stream, as `hash` and `route` do, and
 * writing them (or any untrusted text, such as an error that quotes a file) back to a
 * terminal or a file in full, on one line. */
#ifndef SHARDSIM_SIM_CLI_KEYS_IN_H
#define SHARDSIM_SIM_CLI_KEYS_IN_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

/* Read the next line of in into *line (getline's buffer), without its "\n" or
 * "\r\n". Returns its length, or -1 at the end. The line may hold NUL bytes: use the
 * length, not strlen. */
ssize_t keys_next_line(FILE *in, char **line, size_t *cap);

/* What keys_write_escaped escapes besides the control bytes. */
enum {
    KEYS_ESCAPE_BACKSLASH = 1, /* `\` as `\\`: the escaped text reads back unambiguously */
    KEYS_ESCAPE_NON_UTF8 = 2   /* bytes that are not valid UTF-8 (and C1 controls) as \xHH */
};

/* Write the len bytes of text to out, each control byte (below 0x20, and 0x7f: NUL,
 * tab, escape, ...) as \xHH with two lowercase hex digits, and what flags ask for too.
 * Every other byte is written as it is, so plain keys print unchanged. */
void keys_write_escaped(FILE *out, const char *text, size_t len, int flags);

#endif
