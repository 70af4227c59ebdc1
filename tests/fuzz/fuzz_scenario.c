/* fuzz_scenario.c -- libFuzzer target for the scenario parser (sim/scenario.h), with
 * the hooks `shardsim run` checks every run with: config_set on a scratch sim_config,
 * then config_check.
 *
 * Input: the scenario text, optionally followed by a NUL byte and NUL-separated
 * arguments: the config to load ("" = General), then up to 8 `--set K=V` overrides. A
 * plain .ini file is therefore a valid input as it is.
 *
 * Files named by the scenario (key_file, zk_profile) are replaced by a path that does
 * not exist, so the fuzzer never reads a file of the machine (or blocks on a FIFO);
 * the profile and key readers have their own targets. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "sim/cli/args.h"
#include "sim/config.h"
#include "sim/scenario.h"

enum { FUZZ_MAX_OVERRIDES = 8, FUZZ_MAX_OTHER_CONFIGS = 4, FUZZ_MAX_CHECKED_RUNS = 1000 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct fuzz_ctx {
    sim_config cfg;
    uint64_t seed;
} fuzz_ctx;

static int fuzz_begin(void *ctx) {
    fuzz_ctx *c = ctx;
    config_free(&c->cfg);
    config_defaults(&c->cfg);
    c->seed = 1;
    return 0;
}

static int fuzz_set(void *ctx, const char *key, const char *value, char *err, size_t errlen) {
    fuzz_ctx *c = ctx;
    if (strcmp(key, "repeat") == 0)
        return 0;
    if (strcmp(key, "seed") == 0) {
        if (args_parse_u64(value, &c->seed) != 0) {
            snprintf(err, errlen, "seed: expected a whole number, got '%s'", value);
            return SS_EINVAL;
        }
        return 0;
    }
    if (strcmp(key, "key_file") == 0 || strcmp(key, "zk_profile") == 0)
        value = "/nonexistent/shardsim-fuzz";
    return config_set(&c->cfg, key, value, err, errlen);
}

static int fuzz_end(void *ctx, char *err, size_t errlen) {
    fuzz_ctx *c = ctx;
    return config_check(&c->cfg, err, errlen);
}

/* The scenario's promises to its caller, checked on every successful load. */
static void check_scenario(const scenario *s) {
    if (!s || !s->name || !s->text || s->run_count == 0)
        abort();
    for (size_t i = 0; i < s->run_count; i++) {
        const scenario_run *r = &s->runs[i];
        if (r->number != i || r->param_count != s->param_name_count)
            abort();
        for (size_t k = 0; k < r->assign_count; k++)
            if (!r->assigns[k].key || !r->assigns[k].value || !r->assigns[k].file)
                abort();
        for (size_t k = 0; k < r->param_count; k++)
            if (!r->params[k].name || !r->params[k].value ||
                strcmp(r->params[k].name, s->param_names[k]) != 0)
                abort();
    }
    for (size_t i = 0; i < s->config_count; i++)
        if (!s->config_names[i])
            abort();
}

/* Load one config; every failure must come with a message. */
static scenario *load(const char *text, const char *config, const char *const *overrides,
                      size_t override_count, const scenario_hooks *hooks) {
    char err[1024] = "";
    scenario *s = NULL;
    int rc = scenario_load_string("fuzz", text, config, overrides, override_count, hooks, &s, err,
                                  sizeof err);
    if (rc != 0) {
        if (rc != SS_EINVAL || s || !err[0] || !memchr(err, '\0', sizeof err))
            abort();
        return NULL;
    }
    check_scenario(s);
    return s;
}

/* Load without hooks, then with them. Checking a run with the hooks costs a
 * config_defaults and a config_check; a scenario may have up to 100000 runs, which
 * takes seconds, so the hooks see only scenarios of a few runs (the expansion itself
 * has seen them all). */
static scenario *load_checked(const char *text, const char *config, const char *const *overrides,
                              size_t override_count, const scenario_hooks *hooks) {
    scenario *s = load(text, config, overrides, override_count, NULL);
    size_t runs = s ? s->run_count : 0;
    scenario_free(s);
    if (runs == 0 || runs > FUZZ_MAX_CHECKED_RUNS)
        return NULL;
    return load(text, config, overrides, override_count, hooks);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *buf = malloc(size + 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    /* text NUL config NUL override NUL override ... */
    const char *args[1 + FUZZ_MAX_OVERRIDES];
    size_t nargs = 0;
    for (size_t at = strlen(buf) + 1; at <= size && nargs < 1 + FUZZ_MAX_OVERRIDES;
         at += strlen(buf + at) + 1)
        args[nargs++] = buf + at;
    const char *config = nargs > 0 && args[0][0] ? args[0] : NULL;
    size_t override_count = nargs > 1 ? nargs - 1 : 0;

    fuzz_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx) {
        free(buf);
        return 0;
    }
    scenario_hooks hooks = {ctx, fuzz_begin, fuzz_set, fuzz_end};
    scenario *s = load_checked(buf, config, args + 1, override_count, &hooks);
    /* as `shardsim run` does: every other config of the file, without the overrides */
    for (size_t i = 0; s && i < s->config_count && i < FUZZ_MAX_OTHER_CONFIGS; i++)
        scenario_free(load_checked(buf, s->config_names[i], NULL, 0, &hooks));
    scenario_free(s);
    config_free(&ctx->cfg);
    free(ctx);
    free(buf);
    return 0;
}
