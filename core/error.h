/* error.h -- the error codes every shardsim layer returns.
 *
 * Functions return int: 0 on success, a negative SS_E* code on failure. Names and
 * messages come from the one macro list below, like libuv's UV_ERRNO_MAP. */
#ifndef SHARDSIM_CORE_ERROR_H
#define SHARDSIM_CORE_ERROR_H

#define SS_ERROR_MAP(X)                                                                            \
    X(INVAL, -1, "invalid argument")                                                               \
    X(NOMEM, -2, "out of memory")                                                                  \
    X(RANGE, -3, "value out of range")                                                             \
    X(IO, -4, "input/output error")                                                                \
    X(PARSE, -5, "malformed input")                                                                \
    X(UNSUPPORTED, -6, "not supported by this scheme")                                             \
    X(EMPTY, -7, "nothing to do")

enum {
#define SS_ERROR_ENUM(name, code, msg) SS_E##name = code,
    SS_ERROR_MAP(SS_ERROR_ENUM)
#undef SS_ERROR_ENUM
};

/* ss_strerror returns a static message for a code from SS_ERROR_MAP, or
 * "unknown error". Never NULL. */
const char *ss_strerror(int code);

#endif
