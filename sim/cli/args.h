/* args.h -- strict command-line parsing shared by every subcommand.
 *
 * A subcommand walks its arguments with args_next, asks args_is which flag it has,
 * and reads the flag's value with args_value*. Both `--flag VALUE` and `--flag=VALUE`
 * are accepted. Every problem is reported as one line on stderr,
 * "shardsim CMD: --flag: what is wrong", and the caller exits with code 2. Numbers are
 * parsed whole: "12x", "", "-3" for an unsigned, or an out-of-range value are errors. */
#ifndef SHARDSIM_SIM_CLI_ARGS_H
#define SHARDSIM_SIM_CLI_ARGS_H

#include <stddef.h>
#include <stdint.h>

enum { ARGS_ERROR = -1, ARGS_END = 0, ARGS_FLAG = 1, ARGS_POSITIONAL = 2 };

typedef struct args_state {
    const char *command; /* "run", for messages */
    int argc;
    char **argv;
    int index;                /* of the current argument */
    char name[64];            /* the current flag without "=value" */
    const char *inline_value; /* after '=', or NULL */
} args_state;

/* argv[0] is the subcommand's name and is skipped. */
void args_init(args_state *a, const char *command, int argc, char **argv);

/* Advance: ARGS_FLAG (starts with '-'), ARGS_POSITIONAL, or ARGS_END. */
int args_next(args_state *a);

/* The current argument as given (a positional's text, a flag's name). */
const char *args_current(const args_state *a);

/* 1 if the current flag is long_name or short_name (short_name may be NULL). */
int args_is(const args_state *a, const char *long_name, const char *short_name);

/* The current flag's value, taken inline or from the next argument. 0 or ARGS_ERROR
 * (after printing "missing value"). */
int args_value(args_state *a, const char **value);
int args_value_u64(args_state *a, uint64_t *value);
int args_value_u32_range(args_state *a, uint32_t *value, uint32_t lo, uint32_t hi);
int args_value_double_range(args_state *a, double *value, double lo, double hi);

/* Print "shardsim CMD: " + the message (naming the current flag if there is one and
 * the message does not start with '-') and return ARGS_ERROR. */
int args_fail(const args_state *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "shardsim CMD: unknown option '--x' (try shardsim CMD --help)"; ARGS_ERROR. */
int args_unknown(const args_state *a);

/* Whole-string number parsers: 0, or -1 for anything else. */
int args_parse_u64(const char *text, uint64_t *value);
int args_parse_u32(const char *text, uint32_t *value);
int args_parse_i32(const char *text, int32_t *value);
int args_parse_double(const char *text, double *value);

/* "4,8,16" -> a malloc'd array of *count values each in [lo, hi]. 0 or -1. */
int args_parse_u32_list(const char *text, uint32_t lo, uint32_t hi, uint32_t **values,
                        size_t *count);

#endif
