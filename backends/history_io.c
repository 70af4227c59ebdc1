/* history_io.c -- coordination histories as JSON Lines (the format is in history.h):
 * the writer, and a reader built on a small JSON parser (integers only, bounded
 * depth) that names the line of the first thing it cannot accept. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/history.h"
#include "backends/history_internal.h"
#include "core/error.h"
#include "core/grow.h"

/* ---------- names ---------- */

static const char *const state_names[] = {"", "connected", "suspended", "expired"};
static const char *const event_names[] = {"", "created", "deleted", "changed", "children"};
static const char *const subop_names[] = {"", "create", "delete", "set", "check"};

const char *coord_history_state_name(int state) {
    if (state == COORD_HISTORY_CLOSED)
        return "closed";
    if (state == COORD_HISTORY_KILLED)
        return "killed";
    return state >= 1 && state <= 3 ? state_names[state] : "?";
}

const char *coord_history_event_name(int event) {
    return event >= 1 && event <= 4 ? event_names[event] : "?";
}

/* ---------- writing ---------- */

typedef struct buf {
    char *p;
    size_t len, cap;
    int oom;
} buf;

static void put(buf *b, const char *s, size_t n) {
    if (b->oom || ss_grow(&b->p, &b->cap, b->len + n + 1, 1) != 0) {
        b->oom = 1;
        return;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void putf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(buf *b, const char *fmt, ...) {
    char tmp[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0)
        put(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* A JSON string of bytes: printable ASCII as is, the rest as \u00XX. */
static void put_str(buf *b, const char *s, size_t n) {
    put(b, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            putf(b, "\\%c", c);
        else if (c < 0x20 || c >= 0x7f)
            putf(b, "\\u%04x", c);
        else
            put(b, (const char *)&c, 1);
    }
    put(b, "\"", 1);
}

static void put_key_str(buf *b, const char *key, const char *s, size_t n) {
    putf(b, ",\"%s\":", key);
    put_str(b, s, n);
}

static void put_rc(buf *b, int rc) {
    const char *name = coord_error_name(rc);
    if (strcmp(name, "UNKNOWN") == 0)
        putf(b, "%d", rc);
    else
        putf(b, "\"%s\"", name);
}

static void put_stat(buf *b, const coord_stat *st) {
    putf(b, ",\"stat\":{\"czxid\":%lld,\"mzxid\":%lld,\"version\":%d,\"cversion\":%d,",
         (long long)st->czxid, (long long)st->mzxid, (int)st->version, (int)st->cversion);
    putf(b, "\"ephemeral_owner\":%llu,\"num_children\":%d,\"data_length\":%d}",
         (unsigned long long)st->ephemeral_owner, (int)st->num_children, (int)st->data_length);
}

static void put_multi(buf *b, const coord_history_entry *x) {
    put(b, ",\"multi\":[", 10);
    for (size_t i = 0; i < x->sub_count; i++) {
        const coord_history_subop *o = &x->sub[i];
        int t = o->type >= 1 && o->type <= 4 ? o->type : 0;
        putf(b, "%s{\"op\":\"%s\"", i ? "," : "", subop_names[t]);
        put_key_str(b, "path", o->path, strlen(o->path));
        if (o->data)
            put_key_str(b, "data", o->data, o->data_len);
        putf(b, ",\"flags\":%d,\"version\":%d}", o->flags, (int)o->version);
    }
    put(b, "]", 1);
}

static void put_answer(buf *b, const coord_history_entry *x) {
    if (!x->answered) {
        put(b, ",\"rc\":null", 10);
        return;
    }
    putf(b, ",\"ret_ns\":%llu,\"ret_seq\":%llu,\"rc\":", (unsigned long long)x->ret_ns,
         (unsigned long long)x->ret_seq);
    put_rc(b, x->rc);
    if (x->created)
        put_key_str(b, "created", x->created, strlen(x->created));
    if (x->rdata)
        put_key_str(b, "rdata", x->rdata, x->rdata_len);
    if (x->has_stat)
        put_stat(b, &x->stat);
    if (x->children) {
        put(b, ",\"children\":[", 13);
        for (size_t i = 0; i < x->child_count; i++) {
            put(b, i ? "," : "", i ? 1 : 0);
            put_str(b, x->children[i], strlen(x->children[i]));
        }
        put(b, "]", 1);
    }
    if (x->rcs) {
        put(b, ",\"rcs\":[", 8);
        for (size_t i = 0; i < x->rc_count; i++) {
            put(b, ",", i ? 1 : 0);
            put_rc(b, x->rcs[i]);
        }
        put(b, "]", 1);
    }
}

static void put_op(buf *b, const coord_history_entry *x, size_t id) {
    putf(b, "{\"kind\":\"op\",\"id\":%zu,\"client\":%u,\"sid\":%llu,\"op\":\"%s\"", id, x->client,
         (unsigned long long)x->sid, coord_op_type_name(x->op));
    if (x->path)
        put_key_str(b, "path", x->path, strlen(x->path));
    if (x->data)
        put_key_str(b, "data", x->data, x->data_len);
    putf(b, ",\"flags\":%d,\"version\":%d,\"watch\":%d", x->flags, (int)x->version, x->watch);
    if (x->sub)
        put_multi(b, x);
    putf(b, ",\"call_ns\":%llu,\"call_seq\":%llu", (unsigned long long)x->call_ns,
         (unsigned long long)x->call_seq);
    put_answer(b, x);
    put(b, "}\n", 2);
}

static void put_entry(buf *b, const coord_history_entry *x, size_t id) {
    if (x->kind == COORD_HISTORY_OP) {
        put_op(b, x, id);
    } else if (x->kind == COORD_HISTORY_WATCH) {
        putf(b, "{\"kind\":\"watch\",\"client\":%u,\"at_ns\":%llu,\"seq\":%llu,\"event\":\"%s\"",
             x->client, (unsigned long long)x->call_ns, (unsigned long long)x->call_seq,
             coord_history_event_name(x->event));
        put_key_str(b, "path", x->path, strlen(x->path));
        put(b, "}\n", 2);
    } else {
        putf(b, "{\"kind\":\"state\",\"client\":%u,\"sid\":%llu,\"at_ns\":%llu,\"seq\":%llu,",
             x->client, (unsigned long long)x->sid, (unsigned long long)x->call_ns,
             (unsigned long long)x->call_seq);
        putf(b, "\"state\":\"%s\"}\n", coord_history_state_name(x->event));
    }
}

char *coord_history_text(const coord_history *h) {
    buf b = {0};
    put(&b, "", 0);
    for (size_t i = 0; i < h->count; i++)
        put_entry(&b, &h->entries[i], i);
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

int coord_history_write(const coord_history *h, FILE *out) {
    char *text = coord_history_text(h);
    if (!text)
        return SS_ENOMEM;
    int bad = fputs(text, out) < 0;
    free(text);
    return bad ? SS_EIO : 0;
}

/* ---------- a small JSON parser ---------- */

enum { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };
#define J_MAX_DEPTH 6

typedef struct jv {
    int type;
    int neg;    /* J_NUM: negative */
    uint64_t u; /* J_NUM: magnitude; J_BOOL: 0/1 */
    char *s;    /* J_STR: bytes, NUL-terminated */
    size_t len; /* J_STR: bytes; J_ARR, J_OBJ: items */
    struct jv *items;
    char **keys; /* J_OBJ */
} jv;

typedef struct parser {
    const char *p, *end;
    const char *error;
    char msg[96]; /* an error naming its field */
} parser;

static void jv_free(jv *v) {
    free(v->s);
    for (size_t i = 0; i < v->len && v->items; i++) {
        jv_free(&v->items[i]);
        if (v->keys)
            free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
}

static void skip_ws(parser *ps) {
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\r'))
        ps->p++;
}

static int fail(parser *ps, const char *why) {
    if (!ps->error)
        ps->error = why;
    return -1;
}

/* "why 'key'" as the error. */
static int fail_at(parser *ps, const char *why, const char *key) {
    if (!ps->error) {
        snprintf(ps->msg, sizeof ps->msg, "%s '%.40s'", why, key);
        ps->error = ps->msg;
    }
    return -1;
}

static int hex4(parser *ps, unsigned *out) {
    if (ps->end - ps->p < 4)
        return fail(ps, "bad \\u escape");
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = *ps->p++;
        unsigned d = c >= '0' && c <= '9'   ? (unsigned)(c - '0')
                     : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                     : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10)
                                            : 16u;
        if (d > 15)
            return fail(ps, "bad \\u escape");
        v = v * 16 + d;
    }
    *out = v;
    return 0;
}

static int parse_escape(parser *ps, char *out) {
    if (ps->p >= ps->end)
        return fail(ps, "unterminated string");
    char c = *ps->p++;
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    const char *at = strchr(from, c);
    if (c && at) {
        *out = to[at - from];
        return 0;
    }
    unsigned v;
    if (c != 'u' || hex4(ps, &v) != 0)
        return fail(ps, "bad escape in string");
    if (v > 0xff)
        return fail(ps, "\\u escape above \\u00ff (strings hold bytes)");
    *out = (char)v;
    return 0;
}

static int parse_string(parser *ps, jv *v) {
    ps->p++; /* the quote */
    size_t cap = 16, n = 0;
    char *s = malloc(cap);
    while (s && ps->p < ps->end && *ps->p != '"') {
        char c = *ps->p++;
        if ((unsigned char)c < 0x20) {
            free(s);
            return fail(ps, "control character in string");
        }
        if (c == '\\' && parse_escape(ps, &c) != 0) {
            free(s);
            return -1;
        }
        if (n + 2 > cap && ss_grow(&s, &cap, n + 2, 1) != 0) {
            free(s);
            return fail(ps, "out of memory");
        }
        s[n++] = c;
    }
    if (!s)
        return fail(ps, "out of memory");
    if (ps->p >= ps->end) {
        free(s);
        return fail(ps, "unterminated string");
    }
    ps->p++;
    s[n] = '\0';
    *v = (jv){.type = J_STR, .s = s, .len = n};
    return 0;
}

static int parse_number(parser *ps, jv *v) {
    *v = (jv){.type = J_NUM};
    if (*ps->p == '-')
        v->neg = 1, ps->p++;
    if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9')
        return fail(ps, "bad number");
    while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') {
        unsigned d = (unsigned)(*ps->p++ - '0');
        if (v->u > (UINT64_MAX - d) / 10)
            return fail(ps, "number out of range");
        v->u = v->u * 10 + d;
    }
    if (ps->p < ps->end && (*ps->p == '.' || *ps->p == 'e' || *ps->p == 'E'))
        return fail(ps, "numbers are integers here");
    return 0;
}

static int parse_value(parser *ps, jv *v, int depth);

static int add_item(parser *ps, jv *v, size_t *cap, jv *item, char *key) {
    if (ss_grow(&v->items, cap, v->len + 1, sizeof *v->items) != 0 ||
        (v->type == J_OBJ && !(v->keys = realloc(v->keys, *cap * sizeof *v->keys)))) {
        jv_free(item);
        free(key);
        return fail(ps, "out of memory");
    }
    v->items[v->len] = *item;
    if (v->keys)
        v->keys[v->len] = key;
    v->len++;
    return 0;
}

/* An array or object: items separated by commas up to the closing bracket. */
static int parse_compound(parser *ps, jv *v, int depth) {
    char close = *ps->p == '[' ? ']' : '}';
    *v = (jv){.type = close == ']' ? J_ARR : J_OBJ};
    size_t cap = 0;
    ps->p++;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == close) {
        ps->p++;
        return 0;
    }
    for (;;) {
        char *key = NULL;
        jv item = {0};
        skip_ws(ps);
        if (v->type == J_OBJ) {
            jv k;
            if (ps->p >= ps->end || *ps->p != '"')
                return fail(ps, "expected a key");
            if (parse_string(ps, &k) != 0)
                return -1;
            key = k.s;
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != ':') {
                free(key);
                return fail(ps, "expected ':'");
            }
            ps->p++;
        }
        if (parse_value(ps, &item, depth + 1) != 0) {
            jv_free(&item);
            free(key);
            return -1;
        }
        if (add_item(ps, v, &cap, &item, key) != 0)
            return -1;
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            continue;
        }
        if (ps->p < ps->end && *ps->p == close) {
            ps->p++;
            return 0;
        }
        return fail(ps, close == ']' ? "expected ',' or ']'" : "expected ',' or '}'");
    }
}

static int parse_word(parser *ps, jv *v, const char *word, int type, uint64_t u) {
    size_t n = strlen(word);
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
        return fail(ps, "unexpected character");
    ps->p += n;
    *v = (jv){.type = type, .u = u};
    return 0;
}

static int parse_value(parser *ps, jv *v, int depth) {
    *v = (jv){0};
    skip_ws(ps);
    if (depth > J_MAX_DEPTH)
        return fail(ps, "nested too deep");
    if (ps->p >= ps->end)
        return fail(ps, "unexpected end of line");
    char c = *ps->p;
    if (c == '"')
        return parse_string(ps, v);
    if (c == '[' || c == '{')
        return parse_compound(ps, v, depth);
    if (c == '-' || (c >= '0' && c <= '9'))
        return parse_number(ps, v);
    if (c == 't')
        return parse_word(ps, v, "true", J_BOOL, 1);
    if (c == 'f')
        return parse_word(ps, v, "false", J_BOOL, 0);
    if (c == 'n')
        return parse_word(ps, v, "null", J_NULL, 0);
    return fail(ps, "unexpected character");
}

/* ---------- records from objects ---------- */

static const jv *field(const jv *o, const char *key) {
    for (size_t i = 0; i < o->len; i++)
        if (strcmp(o->keys[i], key) == 0)
            return &o->items[i];
    return NULL;
}

/* An integer field in [lo, hi] (absent: *out = dflt unless required). */
static int get_int(parser *ps, const jv *o, const char *key, int64_t lo, uint64_t hi, int required,
                   uint64_t dflt, uint64_t *out) {
    const jv *v = field(o, key);
    *out = dflt;
    if (!v)
        return required ? fail_at(ps, "missing field", key) : 0;
    if (v->type != J_NUM)
        return fail_at(ps, "not an integer:", key);
    if (!v->neg) {
        if (v->u > hi)
            return fail_at(ps, "out of range:", key);
        *out = v->u;
        return 0;
    }
    if (v->u == 0) {
        *out = 0;
        return 0;
    }
    if (v->u > (uint64_t)INT64_MAX + 1 || -(int64_t)(v->u - 1) - 1 < lo)
        return fail_at(ps, "out of range:", key);
    *out = (uint64_t)(-(int64_t)(v->u - 1) - 1);
    return 0;
}

static int get_i32(parser *ps, const jv *o, const char *key, int dflt, int32_t *out) {
    uint64_t u;
    if (get_int(ps, o, key, INT32_MIN, INT32_MAX, 0, (uint64_t)(int64_t)dflt, &u) != 0)
        return -1;
    *out = (int32_t)(int64_t)u;
    return 0;
}

static const jv *get_str(parser *ps, const jv *o, const char *key, int required) {
    const jv *v = field(o, key);
    if (!v) {
        if (required)
            fail_at(ps, "missing field", key);
        return NULL;
    }
    if (v->type != J_STR) {
        fail_at(ps, "not a string:", key);
        return NULL;
    }
    return v;
}

static int name_index(const char *const *names, int count, const char *s) {
    for (int i = 0; i < count; i++)
        if (strcmp(names[i], s) == 0)
            return i;
    return -1;
}

static int rc_of(parser *ps, const jv *v, int *rc) {
    if (v->type == J_NUM) {
        if (v->u > 100000)
            return fail(ps, "bad rc");
        *rc = v->neg ? -(int)v->u : (int)v->u;
        return 0;
    }
    if (v->type != J_STR)
        return fail(ps, "bad rc");
#define RC_NAME(name, code, msg)                                                                   \
    if (strcmp(v->s, #name) == 0) {                                                                \
        *rc = code;                                                                                \
        return 0;                                                                                  \
    }
    COORD_ERROR_MAP(RC_NAME)
#undef RC_NAME
    return fail(ps, "unknown rc name");
}

/* A path field, checked (optional: absent leaves *out NULL). */
static int get_path(parser *ps, const jv *o, const char *key, int required, char **out) {
    const jv *v = get_str(ps, o, key, required);
    if (!v)
        return ps->error ? -1 : 0;
    if (!coord_path_valid(v->s) || strlen(v->s) != v->len)
        return fail_at(ps, "bad path in", key);
    *out = history_dup(v->s, v->len);
    return *out ? 0 : fail(ps, "out of memory");
}

static int get_data(parser *ps, const jv *o, const char *key, char **out, size_t *len) {
    const jv *v = get_str(ps, o, key, 0);
    if (!v)
        return ps->error ? -1 : 0;
    *out = history_dup(v->s, v->len);
    *len = v->len;
    return *out ? 0 : fail(ps, "out of memory");
}

static int read_subop(parser *ps, const jv *o, coord_history_subop *sub) {
    static const char *const names[] = {"create", "delete", "set", "check"};
    const jv *t = o->type == J_OBJ ? get_str(ps, o, "op", 1) : NULL;
    if (!t)
        return fail(ps, "multi: each op is an object with an op name");
    int k = name_index(names, 4, t->s);
    if (k < 0)
        return fail(ps, "multi: unknown op");
    sub->type = k + 1;
    int32_t flags;
    if (get_path(ps, o, "path", 1, &sub->path) != 0 ||
        get_data(ps, o, "data", &sub->data, &sub->data_len) != 0 ||
        get_i32(ps, o, "flags", 0, &flags) != 0 || get_i32(ps, o, "version", -1, &sub->version))
        return -1;
    sub->flags = flags;
    return 0;
}

static int read_multi(parser *ps, const jv *o, coord_history_entry *x) {
    const jv *m = field(o, "multi");
    if (!m)
        return 0;
    if (m->type != J_ARR || m->len == 0)
        return fail(ps, "multi is not a list of ops");
    x->sub = calloc(m->len, sizeof *x->sub);
    if (!x->sub)
        return fail(ps, "out of memory");
    /* counted before it is read: a sub-op that fails half-read is freed with the rest */
    for (size_t i = 0; i < m->len; i++)
        if (x->sub_count++, read_subop(ps, &m->items[i], &x->sub[i]) != 0)
            return -1;
    return 0;
}

static int read_stat(parser *ps, const jv *o, coord_history_entry *x) {
    const jv *st = field(o, "stat");
    if (!st)
        return 0;
    if (st->type != J_OBJ)
        return fail(ps, "stat is not an object");
    uint64_t cz, mz, owner;
    int32_t nc, dl;
    if (get_int(ps, st, "czxid", INT64_MIN, INT64_MAX, 0, 0, &cz) ||
        get_int(ps, st, "mzxid", INT64_MIN, INT64_MAX, 0, 0, &mz) ||
        get_int(ps, st, "ephemeral_owner", 0, UINT64_MAX, 0, 0, &owner) ||
        get_i32(ps, st, "version", 0, &x->stat.version) ||
        get_i32(ps, st, "cversion", 0, &x->stat.cversion) ||
        get_i32(ps, st, "num_children", 0, &nc) || get_i32(ps, st, "data_length", 0, &dl))
        return -1;
    x->stat.czxid = (int64_t)cz, x->stat.mzxid = (int64_t)mz, x->stat.ephemeral_owner = owner;
    x->stat.num_children = nc, x->stat.data_length = dl;
    x->has_stat = 1;
    return 0;
}

static int read_children(parser *ps, const jv *o, coord_history_entry *x) {
    const jv *c = field(o, "children");
    if (!c)
        return 0;
    if (c->type != J_ARR)
        return fail(ps, "children is not a list");
    x->children = calloc(c->len + 1, sizeof *x->children);
    if (!x->children)
        return fail(ps, "out of memory");
    for (size_t i = 0; i < c->len; i++, x->child_count++) {
        const jv *n = &c->items[i];
        if (n->type != J_STR || n->len == 0 || strlen(n->s) != n->len || strchr(n->s, '/'))
            return fail(ps, "bad child name");
        if (!(x->children[i] = history_dup(n->s, n->len)))
            return fail(ps, "out of memory");
    }
    return 0;
}

static int read_rcs(parser *ps, const jv *o, coord_history_entry *x) {
    const jv *r = field(o, "rcs");
    if (!r)
        return 0;
    if (r->type != J_ARR)
        return fail(ps, "rcs is not a list");
    x->rcs = calloc(r->len + 1, sizeof *x->rcs);
    if (!x->rcs)
        return fail(ps, "out of memory");
    for (size_t i = 0; i < r->len; i++, x->rc_count++)
        if (rc_of(ps, &r->items[i], &x->rcs[i]) != 0)
            return -1;
    return 0;
}

static int read_answer(parser *ps, const jv *o, coord_history_entry *x) {
    const jv *rc = field(o, "rc");
    if (!rc || rc->type == J_NULL)
        return 0;
    x->answered = 1;
    if (rc_of(ps, rc, &x->rc) != 0 ||
        get_int(ps, o, "ret_ns", 0, UINT64_MAX, 1, 0, &x->ret_ns) != 0 ||
        get_int(ps, o, "ret_seq", 0, UINT64_MAX, 0, 0, &x->ret_seq) != 0)
        return -1;
    if (x->ret_ns < x->call_ns || (x->ret_seq && x->ret_seq < x->call_seq))
        return fail(ps, "answered before it was called");
    if (get_path(ps, o, "created", 0, &x->created) != 0 ||
        get_data(ps, o, "rdata", &x->rdata, &x->rdata_len) != 0 || read_stat(ps, o, x) != 0 ||
        read_children(ps, o, x) != 0 || read_rcs(ps, o, x) != 0)
        return -1;
    return 0;
}

static int read_op(parser *ps, const jv *o, coord_history_entry *x) {
    const jv *t = get_str(ps, o, "op", 1);
    if (!t)
        return -1;
    x->op = -1;
    for (int k = 0; k < COORD_OPTYPES; k++)
        if (strcmp(coord_op_type_name(k), t->s) == 0)
            x->op = k;
    if (x->op < 0)
        return fail(ps, "unknown op");
    int pathless = x->op == COORD_OPTYPE_MULTI || x->op == COORD_OPTYPE_CLOSE;
    int32_t flags, watch;
    if (get_path(ps, o, "path", !pathless, &x->path) != 0 ||
        get_data(ps, o, "data", &x->data, &x->data_len) != 0 ||
        get_i32(ps, o, "flags", 0, &flags) != 0 || get_i32(ps, o, "version", -1, &x->version) ||
        get_i32(ps, o, "watch", 0, &watch) || read_multi(ps, o, x) != 0 ||
        get_int(ps, o, "call_ns", 0, UINT64_MAX, 1, 0, &x->call_ns) != 0 ||
        get_int(ps, o, "call_seq", 0, UINT64_MAX, 0, 0, &x->call_seq) != 0)
        return -1;
    if (x->op == COORD_OPTYPE_MULTI && !x->sub)
        return fail(ps, "multi without its ops");
    x->flags = flags, x->watch = watch != 0;
    return read_answer(ps, o, x);
}

static int read_event(parser *ps, const jv *o, coord_history_entry *x, int watch) {
    if (get_int(ps, o, "at_ns", 0, UINT64_MAX, 1, 0, &x->call_ns) != 0 ||
        get_int(ps, o, "seq", 0, UINT64_MAX, 0, 0, &x->call_seq) != 0)
        return -1;
    if (watch) {
        const jv *e = get_str(ps, o, "event", 1);
        if (!e || (x->event = name_index(event_names, 5, e->s)) <= 0)
            return fail(ps, "unknown watch event");
        return get_path(ps, o, "path", 1, &x->path);
    }
    const jv *s = get_str(ps, o, "state", 1);
    if (!s)
        return -1;
    x->event = name_index(state_names, 4, s->s);
    if (strcmp(s->s, "closed") == 0)
        x->event = COORD_HISTORY_CLOSED;
    if (strcmp(s->s, "killed") == 0)
        x->event = COORD_HISTORY_KILLED;
    if (x->event <= 0)
        return fail(ps, "unknown session state");
    return get_int(ps, o, "sid", 0, UINT64_MAX, 0, 0, &x->sid);
}

static int read_record(parser *ps, coord_history *h, const jv *o) {
    if (o->type != J_OBJ)
        return fail(ps, "a line must be one JSON object");
    const jv *kind = get_str(ps, o, "kind", 1);
    if (!kind)
        return -1;
    static const char *const kinds[] = {"", "op", "watch", "state"};
    int k = name_index(kinds, 4, kind->s);
    if (k <= 0)
        return fail(ps, "unknown kind");
    uint64_t client;
    if (get_int(ps, o, "client", 0, UINT32_MAX, 1, 0, &client) != 0)
        return -1;
    coord_history_entry *x = history_append(h, k, (uint32_t)client);
    if (!x)
        return fail(ps, "out of memory");
    if (client > h->clients)
        h->clients = (uint32_t)client;
    if (k == COORD_HISTORY_OP)
        return get_int(ps, o, "sid", 0, UINT64_MAX, 0, 0, &x->sid) || read_op(ps, o, x);
    return read_event(ps, o, x, k == COORD_HISTORY_WATCH);
}

/* One line: blank, or one object. */
static int parse_line(coord_history *h, const char *line, const char *end, char *why,
                      size_t why_len) {
    parser ps = {line, end, NULL, ""};
    skip_ws(&ps);
    if (ps.p == end)
        return 0;
    jv v;
    int rc = parse_value(&ps, &v, 0);
    skip_ws(&ps);
    if (rc == 0 && ps.p != end)
        rc = fail(&ps, "text after the object");
    if (rc == 0)
        rc = read_record(&ps, h, &v);
    jv_free(&v);
    snprintf(why, why_len, "%s", ps.error ? ps.error : "bad record");
    return rc;
}

int coord_history_parse(const char *text, size_t len, const char *name, coord_history **out,
                        char *err, size_t errlen) {
    *out = NULL;
    coord_history *h = coord_history_new(NULL);
    if (!h)
        return SS_ENOMEM;
    const char *p = text, *end = text + len;
    for (size_t line = 1; p < end; line++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *stop = nl ? nl : end;
        char why[128];
        if (parse_line(h, p, stop, why, sizeof why) != 0) {
            snprintf(err, errlen, "%s:%zu: %s", name, line, why);
            coord_history_free(h);
            return SS_EINVAL;
        }
        p = nl ? nl + 1 : end;
    }
    *out = h;
    return 0;
}

int coord_history_read(const char *path, coord_history **out, char *err, size_t errlen) {
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open", path);
        return SS_EIO;
    }
    buf b = {0};
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        put(&b, chunk, n);
    int bad = ferror(f);
    fclose(f);
    if (bad || b.oom) {
        free(b.p);
        snprintf(err, errlen, "%s: %s", path, bad ? "cannot read" : "out of memory");
        return bad ? SS_EIO : SS_ENOMEM;
    }
    int rc = coord_history_parse(b.p ? b.p : "", b.len, path, out, err, errlen);
    free(b.p);
    return rc;
}
