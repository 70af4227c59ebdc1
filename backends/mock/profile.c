/* profile.c -- coordination latency profiles: per operation type, the median and the
 * 99th percentile of a round trip, the mock draws a lognormal fitted through the two
 * (sigma = ln(p99 / median) / z0.99). An INI file read with libinih:
 *
 *   ; measured on ZooKeeper 3.8, 3 servers on loopback
 *   [profile]
 *   follower_lag_us = 300
 *   [create]
 *   median_us = 1900
 *   p99_us = 5200
 *
 * Sections name operation types as mock_op_name does; types left out keep the
 * read/write means. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ini.h>

#include "backends/mock/mock.h"
#include "core/error.h"

#define Z99 2.3263478740408408 /* the standard normal's 0.99 quantile */

typedef struct reader {
    mock_config *cfg;
    double median_us[MOCK_OP_TYPES], p99_us[MOCK_OP_TYPES];
    char what[160]; /* why the line was refused */
} reader;

static int number(const char *text, double *out) {
    char *end;
    errno = 0;
    *out = strtod(text, &end);
    return errno == 0 && end != text && *end == '\0' && isfinite(*out) && *out >= 0 ? 0 : -1;
}

static int on_entry(void *arg, const char *section, const char *key, const char *value) {
    reader *r = arg;
    double v;
    if (number(value, &v) != 0) {
        snprintf(r->what, sizeof r->what, "%s: expected a number >= 0, got '%s'", key, value);
        return 0;
    }
    if (strcmp(section, "profile") == 0) {
        if (strcmp(key, "follower_lag_us") == 0) {
            r->cfg->follower_lag_ns = (uint64_t)llround(v * 1e3);
            return 1;
        }
        snprintf(r->what, sizeof r->what, "unknown key '%s' in [profile]", key);
        return 0;
    }
    for (int t = 0; t < MOCK_OP_TYPES; t++) {
        if (strcmp(section, mock_op_name(t)) != 0)
            continue;
        if (strcmp(key, "median_us") == 0 && v > 0) {
            r->median_us[t] = v;
            return 1;
        }
        if (strcmp(key, "p99_us") == 0 && v > 0) {
            r->p99_us[t] = v;
            return 1;
        }
        snprintf(r->what, sizeof r->what, "expected median_us or p99_us > 0, got %s = %s", key,
                 value);
        return 0;
    }
    snprintf(r->what, sizeof r->what, "unknown section [%s]", section);
    return 0;
}

int mock_profile_load(const char *path, mock_config *cfg, char *err, size_t errlen) {
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "zk_profile: cannot open '%s': %s", path, strerror(errno));
        return SS_EINVAL;
    }
    reader r;
    memset(&r, 0, sizeof r);
    mock_config tmp = *cfg;
    r.cfg = &tmp;
    int line = ini_parse_file(f, on_entry, &r);
    fclose(f);
    if (line != 0) {
        snprintf(err, errlen, "%s:%d: %s", path, line > 0 ? line : 0,
                 r.what[0] ? r.what : "not an INI line");
        return SS_EINVAL;
    }
    for (int t = 0; t < MOCK_OP_TYPES; t++) {
        int has_median = r.median_us[t] > 0, has_p99 = r.p99_us[t] > 0;
        if (!has_median && !has_p99)
            continue;
        if (!has_median || !has_p99 || r.p99_us[t] < r.median_us[t]) {
            snprintf(err, errlen, "%s: [%s] needs median_us and p99_us >= median_us", path,
                     mock_op_name(t));
            return SS_EINVAL;
        }
        tmp.op_median_ns[t] = r.median_us[t] * 1e3;
        tmp.op_sigma[t] = log(r.p99_us[t] / r.median_us[t]) / Z99;
    }
    *cfg = tmp;
    return 0;
}

int mock_profile_save(const char *path, const mock_config *cfg, const char *source) {
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.partial-%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f)
        return SS_EIO;
    fprintf(f,
            "; shardsim coordination latency profile: per operation type, the median and\n"
            "; the 99th percentile of a round trip\n; source: %s\n[profile]\n"
            "follower_lag_us = %.3f\n",
            source ? source : "", (double)cfg->follower_lag_ns / 1e3);
    for (int t = 0; t < MOCK_OP_TYPES; t++)
        if (cfg->op_median_ns[t] > 0)
            fprintf(f, "\n[%s]\nmedian_us = %.3f\np99_us = %.3f\n", mock_op_name(t),
                    cfg->op_median_ns[t] / 1e3,
                    cfg->op_median_ns[t] * exp(cfg->op_sigma[t] * Z99) / 1e3);
    int bad = ferror(f);
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path) != 0) {
        remove(tmp);
        return SS_EIO;
    }
    return 0;
}
