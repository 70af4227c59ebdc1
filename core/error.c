/* error.c -- messages for the codes in error.h. */
#include "core/error.h"

const char *ss_strerror(int code) {
    switch (code) {
    case 0:
        return "ok";
#define SS_ERROR_CASE(name, value, msg)                                                            \
    case value:                                                                                    \
        return msg;
        SS_ERROR_MAP(SS_ERROR_CASE)
#undef SS_ERROR_CASE
    default:
        return "unknown error";
    }
}
