/* testutil.h -- helpers for tests that run the shardsim binary. */
#ifndef SHARDSIM_TESTS_TESTUTIL_H
#define SHARDSIM_TESTS_TESTUTIL_H

#include <stddef.h>

/* Run `command` with /bin/sh -c, feeding stdin_text (NULL: empty stdin), and capture
 * stdout and stderr into malloc'd strings (NULL pointers: discard). Returns the exit
 * code, or -1 if the command died of a signal. */
int tu_run(const char *command, const char *stdin_text, char **out, char **err);

/* The whole file as a malloc'd NUL-terminated string (*len = its size, if len), or
 * NULL. */
char *tu_read_file(const char *path, size_t *len);

#endif
