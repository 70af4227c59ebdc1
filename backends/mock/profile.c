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
 * read/write means. Profiles written by `shardsim calibrate` add reference figures of
 * the real service (mock.h: mock_profile_reference), optional sections the model does
 * not use: [profile] source and tick_ms, [watch], [failover T=S], [failover_close T=S]
 * and [member_loss T=S]. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ini.h>

#include "backends/mock/mock.h"
#include "core/error.h"

#define Z99 2.3263478740408408 /* the standard normal's 0.99 quantile */
/* The largest time a profile may give, in microseconds (about 32 years): in nanoseconds
 * it fits the mock's uint64_t instants with room to spare, where follower_lag_us =
 * 1e300 went through llround to an arbitrary lag and median_us = 1e306 to an infinite
 * median (both caught by the checks of tests/fuzz/fuzz_profile). */
#define MAX_US 1e15

/* The keys of a figure section, in mock_profile_figure's order after timeout_s. */
static const char *const figure_keys[] = {"median_ms", "p10_ms", "p90_ms",
                                          "min_ms",    "max_ms", "trials"};
enum { FIGURE_KEYS = 6 };
static const char *const figure_kinds[] = {"failover", "failover_close", "member_loss"};
enum { FIGURE_KINDS = 3 };

typedef struct reader {
    mock_config *cfg;
    mock_profile_reference *ref;
    double median_us[MOCK_OP_TYPES], p99_us[MOCK_OP_TYPES];
    double watch_median_us, watch_p99_us;
    unsigned seen_keys[FIGURE_KINDS][MOCK_PROFILE_MAX_TIMEOUTS]; /* bit per figure key */
    char what[160];                                              /* why the line was refused */
} reader;

static int number(const char *text, double *out) {
    char *end;
    errno = 0;
    *out = strtod(text, &end);
    return errno == 0 && end != text && *end == '\0' && isfinite(*out) && *out >= 0 ? 0 : -1;
}

static mock_profile_figure *figures(mock_profile_reference *ref, int kind, size_t **count) {
    mock_profile_figure *const all[] = {ref->failover, ref->failover_close, ref->member_loss};
    size_t *const counts[] = {&ref->failover_count, &ref->failover_close_count,
                              &ref->member_loss_count};
    *count = counts[kind];
    return all[kind];
}

/* "failover T=4" -> kind 0, timeout 4; -1 if the section is no figure section. */
static int figure_section(const char *section, double *timeout_s) {
    for (int k = 0; k < FIGURE_KINDS; k++) {
        size_t n = strlen(figure_kinds[k]);
        if (strncmp(section, figure_kinds[k], n) == 0 && strncmp(section + n, " T=", 3) == 0)
            return number(section + n + 3, timeout_s) == 0 && *timeout_s > 0 ? k : -2;
    }
    return -1;
}

/* The figure of kind k for timeout_s: found, or appended with its timeout. */
static mock_profile_figure *figure_slot(reader *r, int k, double timeout_s, unsigned **seen) {
    size_t *count;
    mock_profile_figure *f = figures(r->ref, k, &count);
    for (size_t i = 0; i < *count; i++)
        if (f[i].timeout_s == timeout_s) {
            *seen = &r->seen_keys[k][i];
            return &f[i];
        }
    if (*count == MOCK_PROFILE_MAX_TIMEOUTS)
        return NULL;
    *seen = &r->seen_keys[k][*count];
    f[*count].timeout_s = timeout_s;
    return &f[(*count)++];
}

static int on_figure(reader *r, int k, double timeout_s, const char *key, double v) {
    unsigned *seen;
    mock_profile_figure *f = figure_slot(r, k, timeout_s, &seen);
    if (!f) {
        snprintf(r->what, sizeof r->what, "more than %d [%s] sections", MOCK_PROFILE_MAX_TIMEOUTS,
                 figure_kinds[k]);
        return 0;
    }
    double *fields[] = {&f->median_ms, &f->p10_ms, &f->p90_ms, &f->min_ms, &f->max_ms};
    for (int i = 0; i < FIGURE_KEYS; i++) {
        if (strcmp(key, figure_keys[i]) != 0)
            continue;
        if (*seen & (1u << i)) {
            snprintf(r->what, sizeof r->what, "%s given twice for [%s T=%g]", key, figure_kinds[k],
                     timeout_s);
            return 0;
        }
        *seen |= 1u << i;
        if (i < FIGURE_KEYS - 1)
            *fields[i] = v;
        else if (v >= 1 && v == floor(v) && v <= UINT32_MAX)
            f->trials = (uint32_t)v;
        else {
            snprintf(r->what, sizeof r->what, "trials: expected a whole number >= 1");
            return 0;
        }
        return 1;
    }
    snprintf(r->what, sizeof r->what, "unknown key '%s' in [%s T=%g]", key, figure_kinds[k],
             timeout_s);
    return 0;
}

static int on_profile(reader *r, const char *key, const char *value, double v, int is_number) {
    if (strcmp(key, "source") == 0) {
        snprintf(r->ref->source, sizeof r->ref->source, "%s", value);
        return 1;
    }
    if (!is_number) {
        snprintf(r->what, sizeof r->what, "%s: expected a number >= 0, got '%s'", key, value);
        return 0;
    }
    if (strcmp(key, "follower_lag_us") == 0) {
        if (v > MAX_US) {
            snprintf(r->what, sizeof r->what, "%s: expected at most 1e15, got '%s'", key, value);
            return 0;
        }
        r->cfg->follower_lag_ns = (uint64_t)llround(v * 1e3);
        return 1;
    }
    if (strcmp(key, "tick_ms") == 0) {
        r->ref->tick_ms = v;
        return 1;
    }
    snprintf(r->what, sizeof r->what, "unknown key '%s' in [profile]", key);
    return 0;
}

/* median_us / p99_us of an operation type or of [watch]. */
static int on_latency(reader *r, double *median_us, double *p99_us, const char *key,
                      const char *value, double v) {
    if (strcmp(key, "median_us") == 0 && v > 0 && v <= MAX_US) {
        *median_us = v;
        return 1;
    }
    if (strcmp(key, "p99_us") == 0 && v > 0 && v <= MAX_US) {
        *p99_us = v;
        return 1;
    }
    snprintf(r->what, sizeof r->what, "expected median_us or p99_us > 0 and <= 1e15, got %s = %s",
             key, value);
    return 0;
}

static int on_entry(void *arg, const char *section, const char *key, const char *value) {
    reader *r = arg;
    double v = 0;
    int is_number = number(value, &v) == 0;
    if (strcmp(section, "profile") == 0)
        return on_profile(r, key, value, v, is_number);
    if (!is_number) {
        snprintf(r->what, sizeof r->what, "%s: expected a number >= 0, got '%s'", key, value);
        return 0;
    }
    for (int t = 0; t < MOCK_OP_TYPES; t++)
        if (strcmp(section, mock_op_name(t)) == 0)
            return on_latency(r, &r->median_us[t], &r->p99_us[t], key, value, v);
    if (strcmp(section, "watch") == 0)
        return on_latency(r, &r->watch_median_us, &r->watch_p99_us, key, value, v);
    double timeout_s;
    int k = figure_section(section, &timeout_s);
    if (k >= 0)
        return on_figure(r, k, timeout_s, key, v);
    snprintf(r->what, sizeof r->what, "%s [%s]",
             k == -2 ? "expected a timeout in seconds > 0 after T= in" : "unknown section",
             section);
    return 0;
}

static int check_latency(const char *path, const char *name, double median_us, double p99_us,
                         char *err, size_t errlen) {
    int has_median = median_us > 0, has_p99 = p99_us > 0;
    if ((has_median || has_p99) && (!has_median || !has_p99 || p99_us < median_us)) {
        snprintf(err, errlen, "%s: [%s] needs median_us and p99_us >= median_us", path, name);
        return SS_EINVAL;
    }
    /* sigma = ln(p99 / median) / z0.99 must be finite (1e-300 and 1e15 made it inf) */
    if (has_median && !isfinite(log(p99_us / median_us))) {
        snprintf(err, errlen, "%s: [%s] p99_us / median_us is too large", path, name);
        return SS_EINVAL;
    }
    return 0;
}

static int check_figures(const char *path, reader *r, char *err, size_t errlen) {
    for (int k = 0; k < FIGURE_KINDS; k++) {
        size_t *count;
        const mock_profile_figure *f = figures(r->ref, k, &count);
        for (size_t i = 0; i < *count; i++) {
            const mock_profile_figure *g = &f[i];
            int ok = r->seen_keys[k][i] == (1u << FIGURE_KEYS) - 1 && g->p10_ms <= g->median_ms &&
                     g->median_ms <= g->p90_ms && g->min_ms <= g->p10_ms && g->p90_ms <= g->max_ms;
            if (!ok) {
                snprintf(err, errlen,
                         "%s: [%s T=%g] needs median_ms, p10_ms, p90_ms, min_ms, max_ms and "
                         "trials, with min <= p10 <= median <= p90 <= max",
                         path, figure_kinds[k], g->timeout_s);
                return SS_EINVAL;
            }
        }
    }
    return 0;
}

int mock_profile_read(const char *path, mock_config *cfg, mock_profile_reference *ref, char *err,
                      size_t errlen) {
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "zk_profile: cannot open '%s': %s", path, strerror(errno));
        return SS_EINVAL;
    }
    reader *r = calloc(1, sizeof *r);
    mock_config tmp;
    mock_profile_reference *new_ref = calloc(1, sizeof *new_ref);
    if (!r || !new_ref) {
        fclose(f);
        free(r);
        free(new_ref);
        snprintf(err, errlen, "zk_profile: out of memory");
        return SS_ENOMEM;
    }
    if (cfg)
        tmp = *cfg;
    else
        mock_config_defaults(&tmp);
    r->cfg = &tmp;
    r->ref = new_ref;
    int line = ini_parse_file(f, on_entry, r);
    fclose(f);
    int rc = 0;
    if (line != 0) {
        snprintf(err, errlen, "%s:%d: %s", path, line > 0 ? line : 0,
                 r->what[0] ? r->what : "not an INI line");
        rc = SS_EINVAL;
    }
    for (int t = 0; t < MOCK_OP_TYPES && rc == 0; t++) {
        rc = check_latency(path, mock_op_name(t), r->median_us[t], r->p99_us[t], err, errlen);
        if (rc == 0 && r->median_us[t] > 0) {
            tmp.op_median_ns[t] = r->median_us[t] * 1e3;
            tmp.op_sigma[t] = log(r->p99_us[t] / r->median_us[t]) / Z99;
        }
    }
    if (rc == 0)
        rc = check_latency(path, "watch", r->watch_median_us, r->watch_p99_us, err, errlen);
    if (rc == 0)
        rc = check_figures(path, r, err, errlen);
    new_ref->watch_median_us = r->watch_median_us;
    new_ref->watch_p99_us = r->watch_p99_us;
    if (rc == 0 && cfg)
        *cfg = tmp;
    if (rc == 0 && ref)
        *ref = *new_ref;
    free(r);
    free(new_ref);
    return rc;
}

int mock_profile_load(const char *path, mock_config *cfg, char *err, size_t errlen) {
    return mock_profile_read(path, cfg, NULL, err, errlen);
}

static void write_figures(FILE *f, const mock_profile_reference *ref) {
    for (int k = 0; k < FIGURE_KINDS; k++) {
        size_t *count;
        const mock_profile_figure *g = figures((mock_profile_reference *)ref, k, &count);
        for (size_t i = 0; i < *count; i++)
            fprintf(f,
                    "\n[%s T=%g]\nmedian_ms = %.3f\np10_ms = %.3f\np90_ms = %.3f\nmin_ms = "
                    "%.3f\nmax_ms = %.3f\ntrials = %" PRIu32 "\n",
                    figure_kinds[k], g[i].timeout_s, g[i].median_ms, g[i].p10_ms, g[i].p90_ms,
                    g[i].min_ms, g[i].max_ms, g[i].trials);
    }
}

int mock_profile_save_reference(const char *path, const mock_config *cfg,
                                const mock_profile_reference *ref) {
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.partial-%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f)
        return SS_EIO;
    fprintf(f, "; shardsim coordination latency profile: per operation type, the median and\n"
               "; the 99th percentile of a round trip\n[profile]\n");
    if (ref && ref->source[0])
        fprintf(f, "source = %s\n", ref->source);
    if (ref)
        fprintf(f, "tick_ms = %.3f\n", ref->tick_ms);
    fprintf(f, "follower_lag_us = %.3f\n", (double)cfg->follower_lag_ns / 1e3);
    for (int t = 0; t < MOCK_OP_TYPES; t++)
        if (cfg->op_median_ns[t] > 0)
            fprintf(f, "\n[%s]\nmedian_us = %.3f\np99_us = %.3f\n", mock_op_name(t),
                    cfg->op_median_ns[t] / 1e3,
                    cfg->op_median_ns[t] * exp(cfg->op_sigma[t] * Z99) / 1e3);
    if (ref && ref->watch_median_us > 0)
        fprintf(f, "\n[watch]\nmedian_us = %.3f\np99_us = %.3f\n", ref->watch_median_us,
                ref->watch_p99_us);
    if (ref)
        write_figures(f, ref);
    int bad = ferror(f);
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path) != 0) {
        remove(tmp);
        return SS_EIO;
    }
    return 0;
}

int mock_profile_save(const char *path, const mock_config *cfg, const char *source) {
    static const mock_profile_reference empty;
    mock_profile_reference *ref = malloc(sizeof *ref);
    if (!ref)
        return SS_ENOMEM;
    *ref = empty;
    snprintf(ref->source, sizeof ref->source, "%s", source ? source : "");
    int rc = mock_profile_save_reference(path, cfg, ref);
    free(ref);
    return rc;
}
