/* keys_in.c -- one key a line; see keys_in.h. */
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
