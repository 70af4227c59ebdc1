/* scenario.c -- scenario files and their expansion into runs; see scenario.h. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <ini.h>

#include "core/error.h"
#include "core/grow.h"
#include "core/prng.h"
#include "sim/scenario.h"

#define MAX_VARS 16
#define MAX_VALUES 10000
#define MAX_RUNS 100000

typedef struct entry {
    char *section, *key, *value;
    int line;
} entry;

typedef struct section_line {
    char *name;
    int line;
} section_line;

typedef struct parser {
    const char *file;
    entry *entries;
    size_t count, cap;
    section_line *sections;
    size_t section_count, section_cap;
    int line; /* lines read so far */
    char *err;
    size_t errlen;
    int failed;
    char cross_key[512]; /* the message of a failed cross-key check ("" = none) */
    const char *text_at; /* what is left of the scenario text */
} parser;

typedef struct variable {
    char *name;  /* `${name=...}`, or "#1", "#2", ... for anonymous sweeps */
    char *label; /* its column in runs.csv: the name, or an anonymous sweep's key */
    char **values;
    size_t count;
} variable;

static int fail_at(parser *p, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail_at(parser *p, int line, const char *fmt, ...) {
    if (p->failed)
        return SS_EINVAL;
    int n = line > 0 ? snprintf(p->err, p->errlen, "%s:%d: ", p->file, line)
                     : snprintf(p->err, p->errlen, "%s: ", p->file);
    va_list ap;
    va_start(ap, fmt);
    if (n >= 0 && (size_t)n < p->errlen)
        vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
    va_end(ap);
    p->failed = 1;
    return SS_EINVAL;
}

static int fail_assign(parser *p, const scenario_assign *a, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* An error about assignment a, reported where a came from: "FILE:LINE: ..." for a
 * line of the scenario, "--set KEY=VALUE: ..." for an override. */
static int fail_assign(parser *p, const scenario_assign *a, const char *fmt, ...) {
    if (p->failed)
        return SS_EINVAL;
    int n = a->line > 0 ? snprintf(p->err, p->errlen, "%s:%d: ", a->file, a->line)
                        : snprintf(p->err, p->errlen, "%s: ", a->file);
    va_list ap;
    va_start(ap, fmt);
    if (n >= 0 && (size_t)n < p->errlen)
        vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
    va_end(ap);
    p->failed = 1;
    return SS_EINVAL;
}

/* ---------- reading: inih with a line-counting reader ---------- */

/* inih's INI_MAX_SECTION (Debian builds it with the default, not in its header) */
#define SECTION_MAX 50

static void note_section(parser *p, const char *line) {
    while (*line == ' ' || *line == '\t')
        line++;
    if (*line != '[')
        return;
    const char *end = strchr(line, ']');
    if (!end)
        return;
    if (ss_grow(&p->sections, &p->section_cap, p->section_count + 1, sizeof *p->sections))
        return;
    section_line *s = &p->sections[p->section_count++];
    s->name = strndup(line + 1, (size_t)(end - line - 1));
    s->line = p->line;
    /* inih keeps SECTION_MAX - 1 bytes of a name: the values of a longer section would go
     * to a cut name that nothing selects */
    if ((size_t)(end - line - 1) >= SECTION_MAX && !p->failed)
        fail_at(p, p->line, "section name [%.20s...] longer than %d characters", line + 1,
                SECTION_MAX - 1);
}

static char *read_line(char *str, int num, void *stream) {
    parser *p = stream;
    if (!*p->text_at)
        return NULL;
    size_t len = strcspn(p->text_at, "\n");
    if (p->text_at[len] == '\n')
        len++;
    if (len > (size_t)num - 1)
        len = (size_t)num - 1;
    memcpy(str, p->text_at, len);
    str[len] = '\0';
    p->text_at += len;
    p->line++;
    note_section(p, str);
    return str;
}

static int section_header_line(const parser *p, const char *section);

static int on_value(void *user, const char *section, const char *name, const char *value) {
    parser *p = user;
    if (p->failed)
        return 0;
    if (!section[0])
        return fail_at(p, p->line, "key '%s' outside any section", name), 0;
    for (size_t i = 0; i < p->count; i++)
        if (strcmp(p->entries[i].section, section) == 0 && strcmp(p->entries[i].key, name) == 0)
            return fail_at(p, p->line, "duplicate key '%s' in [%s] (first set at line %d)", name,
                           section, p->entries[i].line),
                   0;
    if (strcmp(section, "General") != 0 && strncmp(section, "Config ", 7) != 0) {
        int at = section_header_line(p, section);
        return fail_at(p, at ? at : p->line,
                       "unknown section [%s] (use [General] or [Config NAME])", section),
               0;
    }
    if (ss_grow(&p->entries, &p->cap, p->count + 1, sizeof *p->entries))
        return fail_at(p, p->line, "out of memory"), 0;
    entry *e = &p->entries[p->count++];
    e->section = strdup(section);
    e->key = strdup(name);
    e->value = strdup(value);
    e->line = p->line;
    return 1;
}

static void parser_free(parser *p) {
    for (size_t i = 0; i < p->count; i++) {
        free(p->entries[i].section);
        free(p->entries[i].key);
        free(p->entries[i].value);
    }
    free(p->entries);
    for (size_t i = 0; i < p->section_count; i++)
        free(p->sections[i].name);
    free(p->sections);
}

static int section_header_line(const parser *p, const char *section) {
    for (size_t i = 0; i < p->section_count; i++)
        if (strcmp(p->sections[i].name, section) == 0)
            return p->sections[i].line;
    return 0;
}

/* ---------- configs ---------- */

static const entry *lookup(const parser *p, const char *section, const char *key) {
    for (size_t i = 0; i < p->count; i++)
        if (strcmp(p->entries[i].section, section) == 0 && strcmp(p->entries[i].key, key) == 0)
            return &p->entries[i];
    return NULL;
}

static int config_exists(const parser *p, const char *section) {
    if (strcmp(section, "General") == 0)
        return 1;
    return section_header_line(p, section) > 0;
}

/* The sections a run of `config` reads, General first. */
static int chain_of(parser *p, const char *config, char **chain, size_t *len) {
    char section[256];
    *len = 0;
    if (!config || strcmp(config, "General") == 0) {
        chain[(*len)++] = strdup("General");
        return 0;
    }
    snprintf(section, sizeof section, "Config %s", config);
    if (!config_exists(p, section)) {
        char names[512] = "";
        for (size_t i = 0; i < p->section_count; i++)
            if (strncmp(p->sections[i].name, "Config ", 7) == 0) {
                strncat(names, names[0] ? ", " : "", sizeof names - strlen(names) - 1);
                strncat(names, p->sections[i].name + 7, sizeof names - strlen(names) - 1);
            }
        return fail_at(p, 0, "no config '%s' (configs: %s)", config, names[0] ? names : "none");
    }
    char *stack[32];
    size_t depth = 0;
    for (;;) {
        for (size_t i = 0; i < depth; i++)
            if (strcmp(stack[i], section) == 0) {
                const entry *e = lookup(p, stack[depth - 1], "extends");
                for (size_t k = 0; k < depth; k++)
                    free(stack[k]);
                return fail_at(p, e ? e->line : 0, "'extends' makes a cycle through [%s]", section);
            }
        if (depth == 32) {
            for (size_t k = 0; k < depth; k++)
                free(stack[k]);
            return fail_at(p, 0, "'extends' chain deeper than 32");
        }
        stack[depth++] = strdup(section);
        const entry *e = lookup(p, section, "extends");
        if (!e || strcmp(e->value, "General") == 0)
            break;
        snprintf(section, sizeof section, "Config %s", e->value);
        if (!config_exists(p, section)) {
            for (size_t k = 0; k < depth; k++)
                free(stack[k]);
            return fail_at(p, e->line, "extends unknown config '%s'", e->value);
        }
    }
    chain[(*len)++] = strdup("General");
    while (depth)
        chain[(*len)++] = stack[--depth];
    return 0;
}

/* ---------- effective assignments and sweeps ---------- */

typedef struct assign_list {
    scenario_assign *a;
    size_t count, cap;
} assign_list;

static int put(assign_list *l, const char *key, const char *value, const char *file, int line) {
    for (size_t i = 0; i < l->count; i++)
        if (strcmp(l->a[i].key, key) == 0) { /* later wins, keeps its first position */
            free(l->a[i].value);
            free(l->a[i].file);
            l->a[i].value = strdup(value);
            l->a[i].file = strdup(file);
            l->a[i].line = line;
            return 0;
        }
    if (ss_grow(&l->a, &l->cap, l->count + 1, sizeof *l->a))
        return SS_ENOMEM;
    l->a[l->count++] = (scenario_assign){strdup(key), strdup(value), strdup(file), line, 0};
    return 0;
}

static void assigns_free(scenario_assign *a, size_t count) {
    for (size_t i = 0; i < count; i++) {
        free(a[i].key);
        free(a[i].value);
        free(a[i].file);
    }
    free(a);
}

static void vars_free(variable *v, size_t count) {
    for (size_t i = 0; i < count; i++) {
        for (size_t k = 0; k < v[i].count; k++)
            free(v[i].values[k]);
        free(v[i].values);
        free(v[i].name);
        free(v[i].label);
    }
}

static int add_value(variable *v, const char *text, size_t len) {
    if (v->count == MAX_VALUES)
        return -1;
    char **vals = realloc(v->values, (v->count + 1) * sizeof *vals);
    if (!vals)
        return -1;
    v->values = vals;
    v->values[v->count++] = strndup(text, len);
    return 0;
}

static int parse_double(const char *s, size_t len, double *out) {
    char buf[64];
    while (len && *s == ' ')
        s++, len--;
    while (len && s[len - 1] == ' ')
        len--;
    if (len == 0 || len >= sizeof buf)
        return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *end;
    errno = 0;
    *out = strtod(buf, &end);
    return errno || *end || !isfinite(*out) ? -1 : 0;
}

/* The length of a sweep value: up to the next ',' outside parentheses, so that a
 * fault time 'A+U(B,C)' is one value. */
static size_t value_length(const char *at) {
    size_t len = 0;
    int depth = 0;
    for (; at[len] && (at[len] != ',' || depth > 0); len++)
        depth += at[len] == '(' ? 1 : at[len] == ')' && depth > 0 ? -1 : 0;
    return len;
}

/* The values of a sweep spec: "a,b,c" or "lo..hi [step d]". */
static int sweep_values(parser *p, const scenario_assign *a, const char *spec, variable *v) {
    const char *dots = strstr(spec, "..");
    if (dots) {
        const char *step = strstr(dots, "step");
        double lo, hi, d = 1;
        if (parse_double(spec, (size_t)(dots - spec), &lo) ||
            parse_double(dots + 2, step ? (size_t)(step - dots - 2) : strlen(dots + 2), &hi) ||
            (step && parse_double(step + 4, strlen(step + 4), &d)))
            return fail_assign(p, a, "malformed range '${%s}' (want lo..hi or lo..hi step d)",
                               spec);
        if (!(d > 0) || lo > hi)
            return fail_assign(p, a, "empty range '${%s}' (step must be > 0 and lo <= hi)", spec);
        for (double i = 0;; i++) {
            double x = lo + i * d;
            if (x > hi + 1e-9 * (fabs(hi) > 1 ? fabs(hi) : 1))
                break;
            char buf[64];
            int n = snprintf(buf, sizeof buf, "%.10g", x);
            if (add_value(v, buf, (size_t)n))
                return fail_assign(p, a, "sweep '${%s}' has too many values", spec);
        }
        return 0;
    }
    const char *at = spec;
    for (;;) {
        size_t len = value_length(at);
        const char *s = at;
        size_t l = len;
        while (l && *s == ' ')
            s++, l--;
        while (l && s[l - 1] == ' ')
            l--;
        if (l == 0)
            return fail_assign(p, a, "empty value in sweep '${%s}'", spec);
        if (add_value(v, s, l))
            return fail_assign(p, a, "sweep '${%s}' has too many values", spec);
        if (!at[len])
            break;
        at += len + 1;
    }
    return 0;
}

static variable *find_var(variable *vars, size_t count, const char *name) {
    for (size_t i = 0; i < count; i++)
        if (strcmp(vars[i].name, name) == 0)
            return &vars[i];
    return NULL;
}

/* Is `label` taken by a variable other than vars[self]: by any named one, or by an
 * anonymous one before it (those after it are not labelled yet)? */
static int label_taken(const variable *vars, size_t count, size_t self, const char *label) {
    for (size_t i = 0; i < count; i++)
        if (i != self && (vars[i].name[0] != '#' || i < self) && vars[i].label &&
            strcmp(vars[i].label, label) == 0)
            return 1;
    return 0;
}

/* An anonymous sweep is named after its key (`partitioner = ${modulo,flink}` is the
 * column `partitioner`, not `1`), with _2, _3, ... when that name is taken. 0 or -1. */
static int label_anonymous(variable *vars, size_t count) {
    for (size_t i = 0; i < count; i++) {
        if (vars[i].name[0] != '#')
            continue;
        if (!vars[i].label)
            return -1;
        char label[256];
        snprintf(label, sizeof label, "%s", vars[i].label);
        for (int k = 2; label_taken(vars, count, i, label); k++)
            snprintf(label, sizeof label, "%.200s_%d", vars[i].label, k);
        free(vars[i].label);
        vars[i].label = strdup(label);
        if (!vars[i].label)
            return -1;
    }
    return 0;
}

/* Collect the sweeps `${name=...}` / `${...}` of every effective value, in order. */
static int collect_sweeps(parser *p, const assign_list *l, variable *vars, size_t *count) {
    int anon = 0;
    *count = 0;
    for (size_t i = 0; i < l->count; i++) {
        const scenario_assign *a = &l->a[i];
        for (const char *s = strstr(a->value, "${"); s; s = strstr(s + 2, "${")) {
            const char *close = strchr(s, '}');
            if (!close)
                return fail_assign(p, a, "unclosed '${' in '%s'", a->value);
            const char *inner = strstr(s + 2, "${");
            if (inner && inner < close)
                return fail_assign(p, a, "a sweep inside a sweep in '%s': nesting is not supported",
                                   a->value);
            char *body = strndup(s + 2, (size_t)(close - s - 2));
            const char *eq = strchr(body, '=');
            int is_ref = !eq && !strchr(body, ',') && !strstr(body, "..");
            if (is_ref) { /* a reference: checked when substituting */
                free(body);
                continue;
            }
            char name[64];
            if (eq)
                snprintf(name, sizeof name, "%.*s", (int)(eq - body), body);
            else
                snprintf(name, sizeof name, "#%d", ++anon);
            const char *spec = eq ? eq + 1 : body;
            int bad = 0;
            if (eq &&
                (!name[0] ||
                 strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") !=
                     strlen(name)))
                bad = fail_assign(p, a, "bad sweep variable name '%s'", name);
            else if (find_var(vars, *count, name))
                bad = fail_assign(p, a, "sweep variable '%s' defined twice", name);
            else if (*count == MAX_VARS)
                bad = fail_assign(p, a, "more than %d sweeps", MAX_VARS);
            else if (!*spec)
                bad = fail_assign(p, a, "empty sweep '${%s}'", body);
            if (!bad) {
                variable *v = &vars[(*count)++];
                memset(v, 0, sizeof *v);
                v->name = strdup(name);
                v->label = strdup(eq ? name : a->key);
                bad = sweep_values(p, a, spec, v);
            }
            free(body);
            if (bad)
                return SS_EINVAL;
        }
    }
    return label_anonymous(vars, *count) ? fail_at(p, 0, "out of memory") : 0;
}

/* Substitute every ${...} of value with the run's variable values. */
static char *substitute(parser *p, const scenario_assign *a, variable *vars, size_t nvars,
                        const size_t *pick, int *anon) {
    size_t cap = strlen(a->value) + 256, len = 0;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    const char *s = a->value;
    while (*s) {
        const char *open = strstr(s, "${");
        size_t lit = open ? (size_t)(open - s) : strlen(s);
        const char *val = NULL;
        const char *close = open ? strchr(open, '}') : NULL;
        if (open && close) {
            char *body = strndup(open + 2, (size_t)(close - open - 2));
            const char *eq = strchr(body, '=');
            char name[64];
            if (eq)
                snprintf(name, sizeof name, "%.*s", (int)(eq - body), body);
            else if (strchr(body, ',') || strstr(body, ".."))
                snprintf(name, sizeof name, "#%d", ++*anon);
            else
                snprintf(name, sizeof name, "%s", body);
            variable *v = find_var(vars, nvars, name);
            if (!v) {
                fail_assign(p, a, "undefined sweep variable '${%s}'", name);
                free(body);
                free(out);
                return NULL;
            }
            val = v->values[pick[v - vars]];
            free(body);
        }
        size_t need = len + lit + (val ? strlen(val) : 0) + 1;
        if (need > cap) {
            cap = need * 2;
            char *bigger = realloc(out, cap);
            if (!bigger) {
                free(out);
                return NULL;
            }
            out = bigger;
        }
        memcpy(out + len, s, lit);
        len += lit;
        if (!open || !close)
            break;
        memcpy(out + len, val, strlen(val));
        len += strlen(val);
        s = close + 1;
    }
    out[len] = '\0';
    return out;
}

/* ---------- draws: "A..B" and "{x,y,...}" (see scenario.h) ---------- */

#define DRAW_GRID_STEPS 1000
#define DRAW_TEXT 256

typedef struct draw_spec {
    int range;              /* 1: "A..B"; 0: "{x,y,...}" */
    int integer;            /* a range with two whole-number ends */
    char lo[64], hi[64];    /* a range's ends, trimmed */
    const char *body;       /* a choice: the text between the braces */
    size_t body_len, count; /* its length and its number of choices */
} draw_spec;

/* s[0..len) without the spaces and tabs around it, into out (cut to size). */
static void trimmed(const char *s, size_t len, char *out, size_t size) {
    while (len && (*s == ' ' || *s == '\t'))
        s++, len--;
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    snprintf(out, size, "%.*s", (int)len, s);
}

static int is_integer_text(const char *t) {
    const char *d = t + (t[0] == '-' || t[0] == '+');
    return d[0] && strspn(d, "0123456789") == strlen(d) && strlen(d) < 19;
}

/* Parse value as a draw into *d: 0, or -1 if value is not one. A choice's items are
 * not checked here (choice_at finds an empty one). */
static int parse_draw(const char *value, draw_spec *d) {
    memset(d, 0, sizeof *d);
    char t[DRAW_TEXT];
    trimmed(value, strlen(value), t, sizeof t);
    size_t len = strlen(t);
    if (strstr(value, "${"))
        return -1;
    if (len >= 2 && t[0] == '{' && t[len - 1] == '}') {
        d->body = strchr(value, '{') + 1;
        d->body_len = (size_t)(strrchr(value, '}') - d->body);
        d->count = 1;
        for (size_t i = 0; i < d->body_len; i++)
            d->count += d->body[i] == ',';
        return 0;
    }
    const char *dots = strstr(t, "..");
    double lo, hi;
    if (!dots || parse_double(t, (size_t)(dots - t), &lo) ||
        parse_double(dots + 2, strlen(dots + 2), &hi))
        return -1;
    d->range = 1;
    trimmed(t, (size_t)(dots - t), d->lo, sizeof d->lo);
    trimmed(dots + 2, strlen(dots + 2), d->hi, sizeof d->hi);
    d->integer = is_integer_text(d->lo) && is_integer_text(d->hi);
    return 0;
}

int scenario_is_draw(const char *value) {
    draw_spec d;
    return parse_draw(value, &d) == 0;
}

/* Choice i of d, trimmed, into out. 0, or -1 if it is empty. */
static int choice_at(const draw_spec *d, size_t i, char *out, size_t size) {
    const char *s = d->body, *end = d->body + d->body_len;
    for (size_t k = 0; k < i; k++)
        s = (const char *)memchr(s, ',', (size_t)(end - s)) + 1;
    const char *comma = memchr(s, ',', (size_t)(end - s));
    trimmed(s, (size_t)((comma ? comma : end) - s), out, size);
    return out[0] ? 0 : -1;
}

/* The range's lower end is above its upper one. */
static int range_reversed(const draw_spec *d) {
    if (d->integer)
        return strtoll(d->lo, NULL, 10) > strtoll(d->hi, NULL, 10);
    return strtod(d->lo, NULL) > strtod(d->hi, NULL);
}

/* t (a decimal without exponent) times 10^decimals, exactly, into *out; decimals is at
 * least the digits t has after its point. 0, or -1 when it does not fit. */
static int scaled_integer(const char *t, int decimals, int64_t *out) {
    char digits[64];
    size_t n = 0;
    const char *dot = strchr(t, '.');
    for (const char *c = t; *c && n + 1 < sizeof digits; c++)
        if (*c != '.')
            digits[n++] = *c;
    int have = dot ? (int)strlen(dot + 1) : 0;
    for (int k = have; k < decimals && n + 1 < sizeof digits; k++)
        digits[n++] = '0';
    digits[n] = '\0';
    char *end;
    errno = 0;
    long long v = strtoll(digits, &end, 10);
    if (errno || *end || v > 1000000000000000LL || v < -1000000000000000LL)
        return -1;
    *out = v;
    return 0;
}

static int decimals_of(const char *t) {
    const char *dot = strchr(t, '.');
    return dot ? (int)strlen(dot + 1) : 0;
}

/* Point k (0..DRAW_GRID_STEPS) of the grid from d->lo to d->hi, in decimal, exact when
 * the ends have no exponent and few decimals: lo + k (hi - lo) / 1000 has at most 3
 * decimals more than the ends; trailing zeros are dropped. */
static void grid_point(const draw_spec *d, uint64_t k, char *out, size_t size) {
    int dec = decimals_of(d->lo) > decimals_of(d->hi) ? decimals_of(d->lo) : decimals_of(d->hi);
    int64_t a, b;
    if (strpbrk(d->lo, "eE") || strpbrk(d->hi, "eE") || dec > 9 || scaled_integer(d->lo, dec, &a) ||
        scaled_integer(d->hi, dec, &b)) {
        double lo = strtod(d->lo, NULL), hi = strtod(d->hi, NULL);
        snprintf(out, size, "%.17g", lo + (double)k * (hi - lo) / DRAW_GRID_STEPS);
        return;
    }
    int64_t v = a * DRAW_GRID_STEPS + (int64_t)k * (b - a), scale = DRAW_GRID_STEPS;
    for (int i = 0; i < dec; i++)
        scale *= 10;
    uint64_t mag = v < 0 ? (uint64_t)-v : (uint64_t)v;
    int n = snprintf(out, size, "%s%" PRIu64 ".%0*" PRIu64, v < 0 ? "-" : "", mag / (uint64_t)scale,
                     dec + 3, mag % (uint64_t)scale);
    for (size_t len = n > 0 && (size_t)n < size ? (size_t)n : 0; len && out[len - 1] == '0'; len--)
        out[len - 1] = '\0';
    size_t len = strlen(out);
    if (len && out[len - 1] == '.')
        out[len - 1] = '\0';
    if (strcmp(out, "-0") == 0)
        snprintf(out, size, "0");
}

/* Draw one value of the draw `value` from r into out. 0, or -1 if it is malformed. */
static int draw_value(const char *value, prng *r, char *out, size_t size) {
    draw_spec d;
    if (parse_draw(value, &d) != 0)
        return -1;
    if (!d.range)
        return choice_at(&d, (size_t)prng_below(r, d.count), out, size);
    if (range_reversed(&d))
        return -1;
    if (!d.integer) {
        grid_point(&d, prng_below(r, DRAW_GRID_STEPS + 1), out, size);
        return 0;
    }
    int64_t lo = strtoll(d.lo, NULL, 10), hi = strtoll(d.hi, NULL, 10);
    uint64_t span = (uint64_t)hi - (uint64_t)lo;
    uint64_t k = span == UINT64_MAX ? prng_next(r) : prng_below(r, span + 1);
    snprintf(out, size, "%" PRId64, (int64_t)((uint64_t)lo + k));
    return 0;
}

/* A draw of the run: its syntax, and every end or choice through the hooks (the first
 * last, so that the cross-key check sees it). 0, or SS_EINVAL with the error in p. */
static int check_draw(parser *p, const scenario_assign *a, const char *value,
                      const scenario_hooks *hooks) {
    draw_spec d;
    parse_draw(value, &d);
    if (strcmp(a->key, "seed") == 0)
        return fail_assign(p, a, "seed: cannot be drawn (the draws are made from it)");
    if (d.range && range_reversed(&d))
        return fail_assign(p, a, "%s: empty range '%s' (want A..B with A <= B)", a->key, value);
    size_t n = d.range ? 2 : d.count;
    for (size_t i = n; i > 0; i--) {
        char item[DRAW_TEXT];
        if (d.range)
            snprintf(item, sizeof item, "%s", i == 1 ? d.lo : d.hi);
        else if (choice_at(&d, i - 1, item, sizeof item) != 0)
            return fail_assign(p, a, "%s: empty choice in '%s' (want {x,y,...})", a->key, value);
        char msg[512] = "";
        if (hooks && hooks->set && hooks->set(hooks->ctx, a->key, item, msg, sizeof msg) != 0)
            return fail_assign(p, a, "%s", msg);
    }
    return 0;
}

int scenario_run_draw(const scenario_run *run, uint64_t seed, scenario_run *out, char *err,
                      size_t errlen) {
    *out = *run;
    out->assigns = calloc(run->assign_count ? run->assign_count : 1, sizeof *out->assigns);
    out->assign_count = 0;
    if (!out->assigns)
        return SS_ENOMEM;
    prng r;
    prng_stream(&r, seed, run->repeat, SCENARIO_RNG_DRAWS);
    for (size_t i = 0; i < run->assign_count; i++) {
        const scenario_assign *a = &run->assigns[i];
        char value[DRAW_TEXT];
        if (a->draw && draw_value(a->value, &r, value, sizeof value) != 0) {
            snprintf(err, errlen, "%s: malformed draw '%s'", a->key, a->value);
            scenario_run_release(out);
            return SS_EINVAL;
        }
        out->assigns[out->assign_count++] = (scenario_assign){
            strdup(a->key), strdup(a->draw ? value : a->value), strdup(a->file), a->line, a->draw};
    }
    return 0;
}

void scenario_run_release(scenario_run *r) {
    assigns_free(r->assigns, r->assign_count);
    r->assigns = NULL;
    r->assign_count = 0;
}

/* ---------- loading ---------- */

static int effective(parser *p, char **chain, size_t chain_len, const char *const *overrides,
                     size_t override_count, assign_list *l, uint32_t *repeat, int *repeat_line) {
    for (size_t c = 0; c < chain_len; c++)
        for (size_t i = 0; i < p->count; i++) {
            const entry *e = &p->entries[i];
            if (strcmp(e->section, chain[c]) != 0 || strcmp(e->key, "extends") == 0)
                continue;
            if (put(l, e->key, e->value, p->file, e->line))
                return fail_at(p, e->line, "out of memory");
        }
    for (size_t i = 0; i < override_count; i++) {
        const char *eq = strchr(overrides[i], '=');
        if (!eq || eq == overrides[i]) {
            snprintf(p->err, p->errlen, "--set %s: expected KEY=VALUE", overrides[i]);
            p->failed = 1;
            return SS_EINVAL;
        }
        char *key = strndup(overrides[i], (size_t)(eq - overrides[i]));
        char origin[512];
        snprintf(origin, sizeof origin, "--set %s", overrides[i]);
        int rc = put(l, key, eq + 1, origin, 0);
        free(key);
        if (rc)
            return fail_at(p, 0, "out of memory");
    }
    *repeat = 1;
    for (size_t i = 0; i < l->count; i++)
        if (strcmp(l->a[i].key, "repeat") == 0) {
            char *end;
            errno = 0;
            unsigned long v = strtoul(l->a[i].value, &end, 10);
            *repeat_line = l->a[i].line;
            if (errno || *end || v < 1 || v > 10000 || l->a[i].value[0] == '-')
                return fail_assign(p, &l->a[i],
                                   "repeat: expected a whole number from 1 to 10000, got '%s'",
                                   l->a[i].value);
            *repeat = (uint32_t)v;
        }
    return 0;
}

static int expand(parser *p, scenario *sc, const assign_list *l, uint32_t repeat,
                  const scenario_hooks *hooks, int header_line) {
    variable vars[MAX_VARS];
    size_t nvars = 0;
    if (collect_sweeps(p, l, vars, &nvars)) {
        vars_free(vars, nvars);
        return SS_EINVAL;
    }
    /* Saturating: 16 sweeps of up to 10000 values would overflow (256^8 is 2^64, which
     * wrapped to 0 runs); past MAX_RUNS the product stops growing, and stays below
     * 2^64 with any repeat. */
    uint64_t combos = 1;
    for (size_t v = 0; v < nvars && combos <= MAX_RUNS; v++)
        combos *= vars[v].count;
    if (combos > MAX_RUNS || combos * repeat > MAX_RUNS) {
        vars_free(vars, nvars);
        if (combos > MAX_RUNS)
            return fail_at(p, header_line, "more than %d runs", MAX_RUNS);
        return fail_at(p, header_line, "%llu runs: more than %d",
                       (unsigned long long)(combos * repeat), MAX_RUNS);
    }
    sc->param_names = calloc(nvars ? nvars : 1, sizeof *sc->param_names);
    sc->runs = calloc((size_t)(combos * repeat), sizeof *sc->runs);
    if (!sc->param_names || !sc->runs) {
        vars_free(vars, nvars);
        return fail_at(p, 0, "out of memory");
    }
    for (size_t v = 0; v < nvars; v++)
        sc->param_names[sc->param_name_count++] = strdup(vars[v].label);
    size_t pick[MAX_VARS] = {0};
    int rc = 0;
    for (uint64_t c = 0; c < combos && !rc; c++) {
        uint64_t rest = c; /* the first variable is the outermost loop */
        for (size_t v = nvars; v > 0; v--) {
            pick[v - 1] = (size_t)(rest % vars[v - 1].count);
            rest /= vars[v - 1].count;
        }
        for (uint32_t r = 0; r < repeat && !rc; r++) {
            scenario_run *run = &sc->runs[sc->run_count];
            run->number = (uint32_t)sc->run_count++;
            run->repeat = r;
            run->assigns = calloc(l->count ? l->count : 1, sizeof *run->assigns);
            run->params = calloc(nvars ? nvars : 1, sizeof *run->params);
            if (!run->assigns || !run->params) {
                rc = fail_at(p, 0, "out of memory");
                break;
            }
            for (size_t v = 0; v < nvars; v++) {
                run->params[v].name = strdup(sc->param_names[v]);
                run->params[v].value = strdup(vars[v].values[pick[v]]);
            }
            run->param_count = nvars;
            if (hooks && hooks->begin)
                hooks->begin(hooks->ctx);
            int anon = 0;
            for (size_t i = 0; i < l->count && !rc; i++) {
                const scenario_assign *a = &l->a[i];
                char *value = substitute(p, a, vars, nvars, pick, &anon);
                if (!value) {
                    rc = SS_EINVAL;
                    break;
                }
                int draw = scenario_is_draw(value);
                run->assigns[run->assign_count++] =
                    (scenario_assign){strdup(a->key), value, strdup(a->file), a->line, draw};
                if (strcmp(a->key, "repeat") == 0)
                    continue;
                if (draw) {
                    rc = check_draw(p, a, value, hooks);
                    continue;
                }
                if (!hooks || !hooks->set)
                    continue;
                char msg[512] = "";
                if (hooks->set(hooks->ctx, a->key, value, msg, sizeof msg) != 0) {
                    rc = fail_assign(p, a, "%s", msg);
                }
            }
            char msg[512] = "";
            if (!rc && hooks && hooks->end && hooks->end(hooks->ctx, msg, sizeof msg) != 0) {
                snprintf(p->cross_key, sizeof p->cross_key, "%s", msg);
                rc = fail_at(p, header_line, "%s", msg);
            }
        }
    }
    vars_free(vars, nvars);
    (void)errno;
    return rc;
}

/* Expand `config` (NULL: General) with the overrides into a new scenario, checked
 * through the hooks: into *out, or freed when out is NULL (a check only). 0, or
 * SS_EINVAL with the error in p. */
static int build(parser *p, const char *name, const char *path, const char *text,
                 const char *config, const char *const *overrides, size_t override_count,
                 const scenario_hooks *hooks, scenario **out) {
    char *chain[34];
    size_t chain_len = 0;
    if (chain_of(p, config, chain, &chain_len))
        return SS_EINVAL;
    scenario *sc = calloc(1, sizeof *sc);
    assign_list l = {0};
    uint32_t repeat = 1;
    int repeat_line = 0, rc = sc ? 0 : fail_at(p, 0, "out of memory");
    if (!rc)
        rc = effective(p, chain, chain_len, overrides, override_count, &l, &repeat, &repeat_line);
    char header[256];
    snprintf(header, sizeof header, "%s", chain[chain_len - 1]);
    for (size_t i = 0; i < chain_len; i++)
        free(chain[i]);
    if (!rc) {
        sc->name = strdup(name);
        sc->config = config && strcmp(config, "General") != 0 ? strdup(config) : NULL;
        sc->path = path ? strdup(path) : NULL;
        sc->text = strdup(text ? text : "");
        rc = expand(p, sc, &l, repeat, hooks, section_header_line(p, header));
    }
    assigns_free(l.a, l.count);
    (void)repeat_line;
    if (rc || !out) {
        scenario_free(sc);
        return rc ? SS_EINVAL : 0;
    }
    *out = sc;
    return 0;
}

/* The selected config failed a cross-key check. If it passes without the overrides,
 * they caused it: name them ("--set K=V: ..."), not a line of the scenario (the
 * built-in one has no line the user wrote). Else the error stays as it is. */
static void blame_overrides(parser *p, const char *name, const char *text, const char *config,
                            const char *const *overrides, size_t override_count,
                            const scenario_hooks *hooks) {
    if (!p->cross_key[0] || override_count == 0)
        return;
    char msg[512], scratch[512];
    snprintf(msg, sizeof msg, "%s", p->cross_key);
    char *err = p->err;
    size_t errlen = p->errlen;
    p->err = scratch;
    p->errlen = sizeof scratch;
    p->failed = 0;
    int clean = build(p, name, NULL, text, config, NULL, 0, hooks, NULL) == 0;
    p->err = err;
    p->errlen = errlen;
    p->failed = 1;
    if (!clean)
        return;
    size_t used = 0;
    for (size_t i = 0; i < override_count && used < errlen; i++) {
        int n = snprintf(err + used, errlen - used, "%s--set %s", i ? " " : "", overrides[i]);
        used += n > 0 ? (size_t)n : 0;
    }
    if (used < errlen)
        snprintf(err + used, errlen - used, ": %s", msg);
}

static int load(parser *p, const char *name, const char *path, const char *text, const char *config,
                const char *const *overrides, size_t override_count, const scenario_hooks *hooks,
                scenario **out) {
    int line = ini_parse_stream(read_line, p, on_value, p);
    if (line > 0 && !p->failed)
        fail_at(p, line, "syntax error (want 'key = value' or '[Section]')");
    if (line < 0 && !p->failed)
        fail_at(p, 0, "cannot read the file");
    for (size_t i = 0; !p->failed && i < p->section_count; i++) {
        const char *s = p->sections[i].name;
        if (strcmp(s, "General") != 0 && (strncmp(s, "Config ", 7) != 0 || !s[7]))
            fail_at(p, p->sections[i].line, "unknown section [%s] (use [General] or [Config NAME])",
                    s);
    }
    if (p->failed)
        return SS_EINVAL;
    char *chain[34];
    size_t chain_len = 0;
    /* Every config's extends chain must resolve, not only the one asked for. */
    for (size_t i = 0; i < p->section_count; i++) {
        if (strncmp(p->sections[i].name, "Config ", 7) != 0)
            continue;
        if (chain_of(p, p->sections[i].name + 7, chain, &chain_len))
            return SS_EINVAL;
        for (size_t k = 0; k < chain_len; k++)
            free(chain[k]);
    }
    scenario *sc = NULL;
    if (build(p, name, path, text, config, overrides, override_count, hooks, &sc) != 0) {
        blame_overrides(p, name, text, config, overrides, override_count, hooks);
        return SS_EINVAL;
    }
    sc->config_names = calloc(p->section_count + 1, sizeof *sc->config_names);
    for (size_t i = 0; sc->config_names && i < p->section_count; i++)
        if (strncmp(p->sections[i].name, "Config ", 7) == 0)
            sc->config_names[sc->config_count++] = strdup(p->sections[i].name + 7);
    *out = sc;
    return 0;
}

/* The whole of f into a malloc'd NUL-terminated buffer; *len = its size. NULL on a read
 * error (errno set) or out of memory. */
static char *slurp(FILE *f, size_t *len) {
    size_t cap = 4096, n;
    char *buf = malloc(cap);
    *len = 0;
    while (buf && (n = fread(buf + *len, 1, cap - *len - 1, f)) > 0) {
        *len += n;
        if (*len + 1 == cap) {
            char *bigger = realloc(buf, cap *= 2);
            if (!bigger) {
                free(buf);
                return NULL;
            }
            buf = bigger;
        }
    }
    if (buf && ferror(f)) {
        free(buf);
        return NULL;
    }
    if (buf)
        buf[*len] = '\0';
    return buf;
}

int scenario_load_file(const char *path, const char *config, const char *const *overrides,
                       size_t override_count, const scenario_hooks *hooks, scenario **out,
                       char *err, size_t errlen) {
    parser p = {.file = path, .err = err, .errlen = errlen};
    FILE *f = fopen(path, "r");
    struct stat st;
    if (f && fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(f);
        snprintf(err, errlen, "%s: is a folder, not a scenario file", path);
        return SS_EINVAL;
    }
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return SS_EIO;
    }
    /* Parsed from the text read once, so a pipe (`<(...)`) works as a file does. */
    size_t len;
    errno = 0;
    char *text = slurp(f, &len);
    fclose(f);
    if (!text) {
        snprintf(err, errlen, "%s: cannot read: %s", path, errno ? strerror(errno) : "no memory");
        return SS_EIO;
    }
    if (memchr(text, '\0', len)) {
        snprintf(err, errlen, "%s: holds a NUL byte: not a scenario (an .ini text file)", path);
        free(text);
        return SS_EINVAL;
    }
    p.text_at = text;
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    char name[256];
    snprintf(name, sizeof name, "%s", base);
    char *dot = strrchr(name, '.');
    if (dot && dot != name)
        *dot = '\0';
    int rc = load(&p, name, path, text, config, overrides, override_count, hooks, out);
    free(text);
    parser_free(&p);
    return rc;
}

int scenario_load_string(const char *name, const char *text, const char *config,
                         const char *const *overrides, size_t override_count,
                         const scenario_hooks *hooks, scenario **out, char *err, size_t errlen) {
    parser p = {.file = name, .err = err, .errlen = errlen, .text_at = text};
    int rc = load(&p, name, NULL, text, config, overrides, override_count, hooks, out);
    parser_free(&p);
    return rc;
}

void scenario_free(scenario *s) {
    if (!s)
        return;
    for (size_t i = 0; i < s->run_count; i++) {
        assigns_free(s->runs[i].assigns, s->runs[i].assign_count);
        for (size_t k = 0; k < s->runs[i].param_count; k++) {
            free(s->runs[i].params[k].name);
            free(s->runs[i].params[k].value);
        }
        free(s->runs[i].params);
    }
    free(s->runs);
    for (size_t i = 0; i < s->param_name_count; i++)
        free(s->param_names[i]);
    free(s->param_names);
    for (size_t i = 0; i < s->config_count; i++)
        free(s->config_names[i]);
    free(s->config_names);
    free(s->name);
    free(s->config);
    free(s->path);
    free(s->text);
    free(s);
}
