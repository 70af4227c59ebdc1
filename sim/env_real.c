/* env_real.c -- wall-clock time for naming result folders; see env_real.h. */
#include <time.h>

#include "core/error.h"
#include "sim/env_real.h"

uint64_t env_real_monotonic_ns(void) {
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int env_real_utc_stamp(char *buf, size_t size, int iso) {
    time_t now = time(NULL);
    struct tm tm;
    if (now == (time_t)-1 || gmtime_r(&now, &tm) == NULL)
        return SS_EIO;
    size_t n = iso ? strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm)
                   : strftime(buf, size, "%Y-%m-%dT%H-%M-%SZ", &tm);
    return n == 0 ? SS_EIO : 0;
}
