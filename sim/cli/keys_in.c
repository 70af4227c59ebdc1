/* keys_in.c -- one key a line, and escaped output; see keys_in.h. */
#include <stdio.h>

#include "sim/cli/keys_in.h"

ssize_t keys_next_line(FILE *in, char **line, size_t *cap) {
    ssize_t n = getline(line, cap, in);
    if (n < 0)
        return -1;
    if (n > 0 && (*line)[n - 1] == '\n')
        (*line)[--n] = '\0';
    if (n > 0 && (*line)[n - 1] == '\r')
        (*line)[--n] = '\0';
    return n;
}

static int continuation(unsigned char c) {
    return (c & 0xc0) == 0x80;
}

/* The length of the valid UTF-8 sequence at p (left bytes there) that encodes a
 * printable character, or 0: overlong forms, surrogates, code points above U+10FFFF
 * and the C1 controls (U+0080..U+009F, which some terminals obey) are not. */
static size_t utf8_printable(const unsigned char *p, size_t left) {
    unsigned char c = p[0];
    size_t n = c >= 0xc2 && c <= 0xdf   ? 2
               : c >= 0xe0 && c <= 0xef ? 3
               : c >= 0xf0 && c <= 0xf4 ? 4
                                        : 0;
    if (n == 0 || n > left)
        return 0;
    for (size_t i = 1; i < n; i++)
        if (!continuation(p[i]))
            return 0;
    if ((c == 0xc2 && p[1] < 0xa0) || (c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] > 0x9f) ||
        (c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] > 0x8f))
        return 0;
    return n;
}

void keys_write_escaped(FILE *out, const char *text, size_t len, int flags) {
    const unsigned char *p = (const unsigned char *)text;
    size_t plain = 0; /* bytes from p written as they are, not yet flushed */
    for (size_t i = 0; i < len;) {
        unsigned char c = p[i];
        size_t run = 1;
        int escape = c < 0x20 || c == 0x7f;
        if (c == '\\' && (flags & KEYS_ESCAPE_BACKSLASH))
            escape = 2;
        if (c >= 0x80 && (flags & KEYS_ESCAPE_NON_UTF8)) {
            run = utf8_printable(p + i, len - i);
            escape = run == 0;
            run = run ? run : 1;
        }
        if (!escape) {
            plain += run;
            i += run;
            continue;
        }
        fwrite(p + i - plain, 1, plain, out);
        plain = 0;
        if (escape == 2)
            fputs("\\\\", out);
        else
            fprintf(out, "\\x%02x", c);
        i++;
    }
    fwrite(p + len - plain, 1, plain, out);
}
