/* scenario_cli.c -- scenario loading, runs' configs and reproducers for `run` and
 * `check`; see scenario_cli.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "sim/cli/args.h"
#include "sim/cli/keys_in.h"
#include "sim/cli/scenario_cli.h"
#include "sim/results.h"

/* Validation context for scenario loading: one config per run, rebuilt per run. */
typedef struct check_ctx {
    sim_config *cfg;
    uint64_t seed;
} check_ctx;

void scli_say(const char *cmd, const char *fmt, ...) {
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    size_t len = n < 0 ? 0 : (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
    fprintf(stderr, "shardsim %s: ", cmd);
    keys_write_escaped(stderr, line, len, KEYS_ESCAPE_NON_UTF8);
    fputc('\n', stderr);
}

int scli_resolve(const char *cmd, const char *name, char *path, size_t size) {
    if (name == NULL)
        return 1; /* built-in */
    struct stat st;
    if (stat(name, &st) == 0 && S_ISDIR(st.st_mode)) {
        scli_say(cmd, "%s: is a folder, not a scenario file", name);
        return -1;
    }
    if (access(name, R_OK) == 0) {
        snprintf(path, size, "%s", name);
        return 0;
    }
    if (strchr(name, '/') == NULL && strstr(name, ".ini") == NULL) {
        snprintf(path, size, "%s/bench/scenarios/%s.ini", results_data_dir(), name);
        if (access(path, R_OK) == 0)
            return 0;
        if (strcmp(name, "baseline") == 0)
            return 1;
    }
    scli_say(cmd, "%s: no such scenario file (nor a shipped scenario of that name)", name);
    return -1;
}

static int check_begin(void *ctx) {
    check_ctx *c = ctx;
    config_free(c->cfg);
    config_defaults(c->cfg);
    c->seed = 1;
    return 0;
}

static int check_set(void *ctx, const char *key, const char *value, char *err, size_t errlen) {
    check_ctx *c = ctx;
    if (strcmp(key, "repeat") == 0) /* the scenario's expansion took care of it */
        return 0;
    if (strcmp(key, "seed") == 0) {
        if (args_parse_u64(value, &c->seed) != 0) {
            snprintf(err, errlen, "seed: expected a whole number, got '%s'", value);
            return SS_EINVAL;
        }
        return 0;
    }
    return config_set(c->cfg, key, value, err, errlen);
}

static int check_end(void *ctx, char *err, size_t errlen) {
    check_ctx *c = ctx;
    return config_check(c->cfg, err, errlen);
}

/* Load config (NULL: General) of the scenario file at path, or of the built-in
 * baseline when path is NULL. */
static int load_one(const char *path, const char *config, const char *const *overrides,
                    size_t override_count, const scenario_hooks *hooks, scenario **out, char *err,
                    size_t errlen) {
    if (!path)
        return scenario_load_string("baseline", sim_builtin_scenario("baseline"), config, overrides,
                                    override_count, hooks, out, err, errlen);
    return scenario_load_file(path, config, overrides, override_count, hooks, out, err, errlen);
}

/* Every config of the scenario must be valid, not only the one run: a mistake in
 * another is found now, not when someone runs it. They are checked as written, without
 * the --set overrides (those are for this run). 0, or the error in err. */
static int check_other_configs(const char *path, const scenario *s, const scenario_hooks *hooks,
                               char *err, size_t errlen) {
    for (size_t i = 0; i <= s->config_count; i++) {
        const char *config = i < s->config_count ? s->config_names[i] : NULL; /* General */
        if (config ? s->config && strcmp(config, s->config) == 0 : !s->config)
            continue; /* the one loaded */
        scenario *other = NULL;
        int rc = load_one(path, config, NULL, 0, hooks, &other, err, errlen);
        scenario_free(other);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int scli_load(const char *path, const char *config, const char *const *overrides,
              size_t override_count, scenario **out, char *err, size_t errlen) {
    sim_config scratch;
    config_defaults(&scratch);
    check_ctx ctx = {&scratch, 1};
    scenario_hooks hooks = {&ctx, check_begin, check_set, check_end};
    *out = NULL;
    int rc = load_one(path, config, overrides, override_count, &hooks, out, err, errlen);
    if (rc == 0)
        rc = check_other_configs(path, *out, &hooks, err, errlen);
    config_free(&scratch);
    if (rc != 0) {
        scenario_free(*out);
        *out = NULL;
    }
    return rc;
}

/* The run's `seed` key, else 1. */
static uint64_t seed_of(const scenario_run *run) {
    uint64_t seed = 1;
    for (size_t i = 0; i < run->assign_count; i++)
        if (strcmp(run->assigns[i].key, "seed") == 0)
            args_parse_u64(run->assigns[i].value, &seed);
    return seed;
}

int scli_build_run(const scenario_run *run, const uint64_t *seed_override, sim_config *cfg,
                   uint64_t *seed, scenario_run *drawn, char *err, size_t errlen) {
    scenario_run local;
    scenario_run *d = drawn ? drawn : &local;
    *seed = seed_override ? *seed_override : seed_of(run);
    config_defaults(cfg);
    int rc = scenario_run_draw(run, *seed, d, err, errlen);
    if (rc != 0) {
        memset(d, 0, sizeof *d);
        return rc;
    }
    check_ctx c = {cfg, 1};
    for (size_t i = 0; i < d->assign_count && rc == 0; i++)
        if (strcmp(d->assigns[i].key, "seed") != 0)
            rc = check_set(&c, d->assigns[i].key, d->assigns[i].value, err, errlen);
    if (rc == 0)
        rc = config_check(cfg, err, errlen);
    if (!drawn)
        scenario_run_release(&local);
    if (rc != 0)
        config_free(cfg);
    return rc;
}

void scli_shell_word(FILE *out, const char *arg) {
    /* bare when it holds only characters no shell treats specially, else in single
     * quotes, each ' in it as '\'' (close, an escaped quote, reopen) */
    static const char safe[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                               "0123456789_-./:=,+@%";
    if (arg[0] && arg[strspn(arg, safe)] == '\0') {
        fputs(arg, out);
        return;
    }
    fputc('\'', out);
    for (const char *p = arg; *p; p++) {
        if (*p == '\'')
            fputs("'\\''", out);
        else
            fputc(*p, out);
    }
    fputc('\'', out);
}

void scli_write_drawn(FILE *out, const scenario_run *drawn) {
    for (size_t i = 0; i < drawn->assign_count; i++) {
        if (!drawn->assigns[i].draw)
            continue;
        char word[1024];
        snprintf(word, sizeof word, "%s=%s", drawn->assigns[i].key, drawn->assigns[i].value);
        fputs(" --set ", out);
        scli_shell_word(out, word);
    }
}
