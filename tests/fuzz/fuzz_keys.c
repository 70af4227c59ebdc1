/* fuzz_keys.c -- libFuzzer target for the key-file reader (sim/cli/keys_in.h) and the
 * key_file check of sim/config.c that reads a file with it.
 *
 * The input is read as a key file from memory (keys_next_line) and each line is
 * written back with every keys_write_escaped flag combination; the escaped text must
 * hold no control byte, read back to the line when backslashes are escaped, and be
 * valid printable UTF-8 when KEYS_ESCAPE_NON_UTF8 is asked for. The same input is then
 * written to a temp file in /dev/shm (unlinked after) and checked with key_dist = file:
 * config_check must accept it exactly when it has a line and no empty one. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/cli/keys_in.h"
#include "sim/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int hex_digit(int c) {
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Undo keys_write_escaped with KEYS_ESCAPE_BACKSLASH: "\\" and "\xHH". */
static size_t unescape(const char *in, size_t len, char *out) {
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (in[i] != '\\') {
            out[n++] = in[i];
        } else if (i + 1 < len && in[i + 1] == '\\') {
            out[n++] = '\\';
            i++;
        } else if (i + 3 < len && in[i + 1] == 'x' && hex_digit(in[i + 2]) >= 0 &&
                   hex_digit(in[i + 3]) >= 0) {
            out[n++] = (char)(hex_digit(in[i + 2]) * 16 + hex_digit(in[i + 3]));
            i += 3;
        } else {
            abort(); /* a lone backslash: ambiguous */
        }
    }
    return n;
}

/* The length of a well-formed UTF-8 sequence at p for a printable character (no
 * overlong form, surrogate, code point above U+10FFFF or C1 control), or 0. */
static size_t utf8_char(const unsigned char *p, size_t left) {
    uint32_t cp;
    size_t n;
    if (p[0] < 0x80)
        return 1;
    if ((p[0] & 0xe0) == 0xc0)
        n = 2, cp = p[0] & 0x1fu;
    else if ((p[0] & 0xf0) == 0xe0)
        n = 3, cp = p[0] & 0x0fu;
    else if ((p[0] & 0xf8) == 0xf0)
        n = 4, cp = p[0] & 0x07u;
    else
        return 0;
    if (n > left)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (p[i] & 0x3fu);
    }
    static const uint32_t least[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < least[n] || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff || cp < 0xa0)
        return 0;
    return n;
}

static void check_escaped(const char *line, size_t len, int flags) {
    char *out = NULL;
    size_t out_len = 0;
    FILE *f = open_memstream(&out, &out_len);
    if (!f)
        return;
    keys_write_escaped(f, line, len, flags);
    if (fclose(f) != 0) {
        free(out);
        return;
    }
    const unsigned char *u = (const unsigned char *)out;
    for (size_t i = 0; i < out_len; i++)
        if (u[i] < 0x20 || u[i] == 0x7f)
            abort();
    if (flags & KEYS_ESCAPE_NON_UTF8)
        for (size_t i = 0, n; i < out_len; i += n)
            if ((n = utf8_char(u + i, out_len - i)) == 0)
                abort();
    if (flags & KEYS_ESCAPE_BACKSLASH) {
        char *back = malloc(out_len + 1);
        if (back && (unescape(out, out_len, back) != len || memcmp(back, line, len) != 0))
            abort();
        free(back);
    }
    free(out);
}

/* Reads the input as a key file: its line count, and whether one is empty. */
static void read_keys(const uint8_t *data, size_t size, size_t *lines, int *empty) {
    *lines = 0;
    *empty = 0;
    if (size == 0)
        return;
    FILE *in = fmemopen((void *)(uintptr_t)data, size, "r");
    if (!in)
        abort();
    char *line = NULL;
    size_t cap = 0, consumed = 0;
    ssize_t len;
    while ((len = keys_next_line(in, &line, &cap)) >= 0) {
        size_t n = (size_t)len;
        if (line[n] != '\0' || memchr(line, '\n', n) || n >= cap)
            abort();
        consumed += n;
        if (consumed > size)
            abort();
        ++*lines;
        *empty |= n == 0;
        for (int flags = 0; flags < 4; flags++)
            check_escaped(line, n, flags);
    }
    free(line);
    fclose(in);
}

/* config_check with key_dist = file on the input written to a temp file: 0 or 1. */
static int config_accepts(const uint8_t *data, size_t size, const char *path) {
    FILE *f = fopen(path, "wb");
    if (!f)
        abort();
    if (fwrite(data, 1, size, f) != size || fclose(f) != 0)
        abort();
    sim_config *cfg = malloc(sizeof *cfg);
    if (!cfg)
        abort();
    char err[512] = "";
    config_defaults(cfg);
    if (config_set(cfg, "key_dist", "file", err, sizeof err) != 0 ||
        config_set(cfg, "key_file", path, err, sizeof err) != 0)
        abort();
    int ok = config_check(cfg, err, sizeof err) == 0;
    if (!ok && !err[0])
        abort();
    config_free(cfg);
    free(cfg);
    unlink(path);
    return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    size_t lines;
    int empty;
    read_keys(data, size, &lines, &empty);
    char path[64];
    snprintf(path, sizeof path, "/dev/shm/shardsim-fuzz-keys-%ld", (long)getpid());
    if (access("/dev/shm", W_OK) != 0)
        snprintf(path, sizeof path, "/tmp/shardsim-fuzz-keys-%ld", (long)getpid());
    if (config_accepts(data, size, path) != (lines > 0 && !empty))
        abort();
    return 0;
}
