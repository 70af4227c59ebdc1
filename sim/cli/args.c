/* args.c -- strict command-line parsing; see args.h. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/cli/args.h"

void args_init(args_state *a, const char *command, int argc, char **argv) {
    memset(a, 0, sizeof *a);
    a->command = command;
    a->argc = argc;
    a->argv = argv;
    a->index = 0;
}

int args_next(args_state *a) {
    a->name[0] = '\0';
    a->inline_value = NULL;
    if (++a->index >= a->argc)
        return ARGS_END;
    const char *arg = a->argv[a->index];
    if (arg[0] != '-' || arg[1] == '\0')
        return ARGS_POSITIONAL;
    const char *eq = strchr(arg, '=');
    size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
    if (len >= sizeof a->name)
        len = sizeof a->name - 1;
    memcpy(a->name, arg, len);
    a->name[len] = '\0';
    a->inline_value = eq ? eq + 1 : NULL;
    return ARGS_FLAG;
}

const char *args_current(const args_state *a) {
    return a->name[0] ? a->name : a->argv[a->index];
}

int args_is(const args_state *a, const char *long_name, const char *short_name) {
    return strcmp(a->name, long_name) == 0 || (short_name && strcmp(a->name, short_name) == 0);
}

int args_fail(const args_state *a, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "shardsim %s: ", a->command);
    if (a->name[0] && fmt[0] != '-')
        fprintf(stderr, "%s: ", a->name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return ARGS_ERROR;
}

int args_unknown(const args_state *a) {
    fprintf(stderr, "shardsim %s: unknown option '%s' (try shardsim %s --help)\n", a->command,
            a->argv[a->index], a->command);
    return ARGS_ERROR;
}

int args_value(args_state *a, const char **value) {
    if (a->inline_value) {
        *value = a->inline_value;
        return 0;
    }
    if (a->index + 1 >= a->argc)
        return args_fail(a, "missing value");
    *value = a->argv[++a->index];
    return 0;
}

int args_parse_u64(const char *text, uint64_t *value) {
    if (!text || text[0] < '0' || text[0] > '9')
        return -1; /* no sign, no space, not empty */
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || *end)
        return -1;
    *value = v;
    return 0;
}

int args_parse_u32(const char *text, uint32_t *value) {
    uint64_t v;
    if (args_parse_u64(text, &v) || v > UINT32_MAX)
        return -1;
    *value = (uint32_t)v;
    return 0;
}

int args_parse_i32(const char *text, int32_t *value) {
    if (!text || !*text || (text[0] != '-' && (text[0] < '0' || text[0] > '9')))
        return -1;
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno || *end || v < INT32_MIN || v > INT32_MAX)
        return -1;
    *value = (int32_t)v;
    return 0;
}

int args_parse_double(const char *text, double *value) {
    if (!text || !*text || text[0] == ' ')
        return -1;
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || *end || !isfinite(v))
        return -1;
    *value = v;
    return 0;
}

int args_value_u64(args_state *a, uint64_t *value) {
    const char *text = NULL;
    if (args_value(a, &text))
        return ARGS_ERROR;
    if (args_parse_u64(text, value))
        return args_fail(a, "expected a whole number >= 0, got '%s'", text);
    return 0;
}

int args_value_u32_range(args_state *a, uint32_t *value, uint32_t lo, uint32_t hi) {
    const char *text = NULL;
    if (args_value(a, &text))
        return ARGS_ERROR;
    if (args_parse_u32(text, value) || *value < lo || *value > hi)
        return args_fail(a, "expected a whole number from %u to %u, got '%s'", lo, hi, text);
    return 0;
}

int args_value_double_range(args_state *a, double *value, double lo, double hi) {
    const char *text = NULL;
    if (args_value(a, &text))
        return ARGS_ERROR;
    if (args_parse_double(text, value) || *value < lo || *value > hi)
        return args_fail(a, "expected a number from %g to %g, got '%s'", lo, hi, text);
    return 0;
}

int args_parse_u32_list(const char *text, uint32_t lo, uint32_t hi, uint32_t **values,
                        size_t *count) {
    size_t n = 1;
    for (const char *p = text; *p; p++)
        n += *p == ',';
    uint32_t *v = malloc(n * sizeof *v);
    char *copy = strdup(text);
    if (!v || !copy) {
        free(v);
        free(copy);
        return -1;
    }
    size_t i = 0;
    char *tok = copy;
    int bad = 0;
    /* strtok_r would skip empty items; walk the commas by hand so "4,,8" is an error */
    for (char *comma; !bad; tok = comma + 1) {
        comma = strchr(tok, ',');
        if (comma)
            *comma = '\0';
        bad = args_parse_u32(tok, &v[i]) || v[i] < lo || v[i] > hi;
        i++;
        if (!comma)
            break;
    }
    free(copy);
    if (bad) {
        free(v);
        return -1;
    }
    *values = v;
    *count = i;
    return 0;
}
