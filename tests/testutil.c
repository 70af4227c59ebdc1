/* testutil.c -- run a command with captured output; read a file. See testutil.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/testutil.h"

char *tu_read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            char *bigger = realloc(buf, cap * 2 + 1);
            if (!bigger) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
    }
    fclose(f);
    if (!buf)
        return NULL;
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

/* Write text into a fresh temporary file and return its path (static buffer). */
static int temp_with(const char *text, char *path, size_t size) {
    snprintf(path, size, "/tmp/shardsim-tu-XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0)
        return -1;
    size_t len = text ? strlen(text) : 0;
    ssize_t w = len ? write(fd, text, len) : 0;
    close(fd);
    return (w < 0 || (size_t)w != len) ? -1 : 0;
}

int tu_run(const char *command, const char *stdin_text, char **out, char **err) {
    char in_path[64], out_path[64], err_path[64];
    if (temp_with(stdin_text, in_path, sizeof in_path) ||
        temp_with("", out_path, sizeof out_path) || temp_with("", err_path, sizeof err_path))
        return -1;
    size_t need = strlen(command) + 256;
    char *full = malloc(need);
    if (!full)
        return -1;
    snprintf(full, need, "%s <%s >%s 2>%s", command, in_path, out_path, err_path);
    int status = system(full);
    free(full);
    if (out)
        *out = tu_read_file(out_path, NULL);
    if (err)
        *err = tu_read_file(err_path, NULL);
    unlink(in_path);
    unlink(out_path);
    unlink(err_path);
    if (status == -1 || !WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}
