/* keys_in.h -- reading keys one a line from a stream, as `hash` and `route` do. */
#ifndef SHARDSIM_SIM_CLI_KEYS_IN_H
#define SHARDSIM_SIM_CLI_KEYS_IN_H

#include <stdio.h>
#include <sys/types.h>

/* Read the next line of in into *line (getline's buffer), without its "\n" or
 * "\r\n". Returns its length, or -1 at the end. */
ssize_t keys_next_line(FILE *in, char **line, size_t *cap);

#endif
