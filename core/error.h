/* error.h -- the error codes every shardsim layer returns.
 *
 * Functions return int: 0 on success, a negative SS_E* code on failure. Names and
 * messages come from the one macro list below, like libuv's UV_ERRNO_MAP. The numbers
 * start at -1001 so that they never share a number with a ZooKeeper code
 * (backends/coord.h, -1 .. -127): one error space per meaning. */
#ifndef SHARDSIM_CORE_ERROR_H
#define SHARDSIM_CORE_ERROR_H

#define SS_ERROR_MAP(X)                                                                            \
    X(INVAL, -1001, "invalid argument")                                                            \
    X(NOMEM, -1002, "out of memory")                                                               \
    X(RANGE, -1003, "value out of range")                                                          \
    X(IO, -1004, "input/output error")                                                             \
    X(PARSE, -1005, "malformed input")                                                             \
    X(UNSUPPORTED, -1006, "not supported by this scheme")                                          \
    X(EMPTY, -1007, "nothing to do")

enum {
#define SS_ERROR_ENUM(name, code, msg) SS_E##name = code,
    SS_ERROR_MAP(SS_ERROR_ENUM)
#undef SS_ERROR_ENUM
};

/* ss_strerror returns a static message for a code from SS_ERROR_MAP, or
 * "unknown error". Never NULL. */
const char *ss_strerror(int code);

#endif
