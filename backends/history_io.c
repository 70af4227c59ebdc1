/* history_io.c -- coordination histories as JSON Lines (the format is in history.h):
 * the writer, and a reader that parses each line with jansson (duplicate keys refused,
 * jansson's depth limit) and names the line, and the field where it has one, of the
 * first thing it cannot accept.
 *
 * jansson's integers are int64: times and seqs above INT64_MAX cannot be read, and
 * session ids (sid, ephemeral_owner) are written signed, as ZooKeeper holds them (a
 * server id above 127 sets the top bit), so every id round-trips. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

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
    putf(b, "\"ephemeral_owner\":%lld,\"num_children\":%d,\"data_length\":%d}",
         (long long)st->ephemeral_owner, (int)st->num_children, (int)st->data_length);
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
    putf(b, "{\"kind\":\"op\",\"id\":%zu,\"client\":%u,\"sid\":%lld,\"op\":\"%s\"", id, x->client,
         (long long)x->sid, coord_op_type_name(x->op));
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
        putf(b, "{\"kind\":\"state\",\"client\":%u,\"sid\":%lld,\"at_ns\":%llu,\"seq\":%llu,",
             x->client, (long long)x->sid, (unsigned long long)x->call_ns,
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

/* ---------- reading: jansson parses a line, these read its fields ---------- */

/* The first error found; later ones are dropped. */
typedef struct reader {
    const char *error;
    char msg[112]; /* an error naming its field */
} reader;

static int fail(reader *rd, const char *why) {
    if (!rd->error)
        rd->error = why;
    return -1;
}

static int failf(reader *rd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int failf(reader *rd, const char *fmt, ...) {
    if (!rd->error) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(rd->msg, sizeof rd->msg, fmt, ap);
        va_end(ap);
        rd->error = rd->msg;
    }
    return -1;
}

/* "why 'key'" as the error. */
static int fail_at(reader *rd, const char *why, const char *key) {
    return failf(rd, "%s '%.40s'", why, key);
}

/* Whether string v is exactly name (a value holding a NUL byte is never a name). */
static int str_is(const json_t *v, const char *name) {
    size_t n = strlen(name);
    return json_string_length(v) == n && memcmp(json_string_value(v), name, n) == 0;
}

static int name_index(const char *const *names, int count, const json_t *v) {
    for (int i = 0; i < count; i++)
        if (str_is(v, names[i]))
            return i;
    return -1;
}

/* A string's bytes, malloc'd and NUL-terminated, *len of them. jansson holds the text
 * as UTF-8; each character up to U+00FF is one byte (the writer's \u00XX), one above
 * cannot be a byte. NULL: the error is in *rd. */
static char *string_bytes(reader *rd, const json_t *v, const char *key, size_t *len) {
    const unsigned char *s = (const unsigned char *)json_string_value(v);
    size_t n = json_string_length(v), k = 0;
    char *out = malloc(n + 1);
    if (!out) {
        fail(rd, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < n; i++, k++) {
        if (s[i] < 0x80) {
            out[k] = (char)s[i];
        } else if ((s[i] == 0xc2 || s[i] == 0xc3) && i + 1 < n) {
            out[k] = (char)(((s[i] & 0x03u) << 6) | (s[i + 1] & 0x3fu));
            i++;
        } else {
            free(out);
            failf(rd, "\\u escape above \\u00ff in '%.40s' (strings hold bytes)", key);
            return NULL;
        }
    }
    out[k] = '\0';
    *len = k;
    return out;
}

/* An integer field in [lo, hi] (absent: *out = dflt unless required). jansson's
 * integers are int64: a negative one allowed by lo reads as its two's complement. */
static int get_int(reader *rd, const json_t *o, const char *key, int64_t lo, uint64_t hi,
                   int required, uint64_t dflt, uint64_t *out) {
    const json_t *v = json_object_get(o, key);
    *out = dflt;
    if (!v)
        return required ? fail_at(rd, "missing field", key) : 0;
    if (json_is_real(v))
        return fail_at(rd, "numbers are integers here:", key);
    if (!json_is_integer(v))
        return fail_at(rd, "not an integer:", key);
    json_int_t i = json_integer_value(v);
    if (i < lo || (i > 0 && (uint64_t)i > hi))
        return fail_at(rd, "out of range:", key);
    *out = (uint64_t)i;
    return 0;
}

static int get_i32(reader *rd, const json_t *o, const char *key, int dflt, int32_t *out) {
    uint64_t u;
    if (get_int(rd, o, key, INT32_MIN, INT32_MAX, 0, (uint64_t)(int64_t)dflt, &u) != 0)
        return -1;
    *out = (int32_t)(int64_t)u;
    return 0;
}

/* A session id (sid, ephemeral_owner): ZooKeeper's is a signed 64-bit number. */
static int get_id(reader *rd, const json_t *o, const char *key, uint64_t *out) {
    return get_int(rd, o, key, INT64_MIN, UINT64_MAX, 0, 0, out);
}

static const json_t *get_str(reader *rd, const json_t *o, const char *key, int required) {
    const json_t *v = json_object_get(o, key);
    if (!v) {
        if (required)
            fail_at(rd, "missing field", key);
        return NULL;
    }
    if (!json_is_string(v)) {
        fail_at(rd, "not a string:", key);
        return NULL;
    }
    return v;
}

static int rc_of(reader *rd, const json_t *v, int *rc) {
    if (json_is_integer(v)) {
        json_int_t i = json_integer_value(v);
        if (i < -100000 || i > 100000)
            return fail(rd, "bad rc");
        *rc = (int)i;
        return 0;
    }
    if (!json_is_string(v))
        return fail(rd, "bad rc");
#define RC_NAME(name, code, msg)                                                                   \
    if (str_is(v, #name)) {                                                                        \
        *rc = code;                                                                                \
        return 0;                                                                                  \
    }
    COORD_ERROR_MAP(RC_NAME)
#undef RC_NAME
    return fail(rd, "unknown rc name");
}

/* A path field, checked (optional: absent leaves *out NULL). */
static int get_path(reader *rd, const json_t *o, const char *key, int required, char **out) {
    const json_t *v = get_str(rd, o, key, required);
    if (!v)
        return rd->error ? -1 : 0;
    size_t len;
    if (!(*out = string_bytes(rd, v, key, &len)))
        return -1;
    if (!coord_path_valid(*out) || strlen(*out) != len)
        return fail_at(rd, "bad path in", key);
    return 0;
}

static int get_data(reader *rd, const json_t *o, const char *key, char **out, size_t *len) {
    const json_t *v = get_str(rd, o, key, 0);
    if (!v)
        return rd->error ? -1 : 0;
    return (*out = string_bytes(rd, v, key, len)) ? 0 : -1;
}

static int read_subop(reader *rd, const json_t *o, coord_history_subop *sub) {
    static const char *const names[] = {"create", "delete", "set", "check"};
    const json_t *t = json_is_object(o) ? get_str(rd, o, "op", 1) : NULL;
    if (!t)
        return fail(rd, "multi: each op is an object with an op name");
    int k = name_index(names, 4, t);
    if (k < 0)
        return fail(rd, "multi: unknown op");
    sub->type = k + 1;
    int32_t flags;
    if (get_path(rd, o, "path", 1, &sub->path) != 0 ||
        get_data(rd, o, "data", &sub->data, &sub->data_len) != 0 ||
        get_i32(rd, o, "flags", 0, &flags) != 0 || get_i32(rd, o, "version", -1, &sub->version))
        return -1;
    sub->flags = flags;
    return 0;
}

static int read_multi(reader *rd, const json_t *o, coord_history_entry *x) {
    const json_t *m = json_object_get(o, "multi");
    if (!m)
        return 0;
    size_t n = json_array_size(m);
    if (!json_is_array(m) || n == 0)
        return fail(rd, "multi is not a list of ops");
    x->sub = calloc(n, sizeof *x->sub);
    if (!x->sub)
        return fail(rd, "out of memory");
    /* counted before it is read: a sub-op that fails half-read is freed with the rest */
    for (size_t i = 0; i < n; i++)
        if (x->sub_count++, read_subop(rd, json_array_get(m, i), &x->sub[i]) != 0)
            return -1;
    return 0;
}

static int read_stat(reader *rd, const json_t *o, coord_history_entry *x) {
    const json_t *st = json_object_get(o, "stat");
    if (!st)
        return 0;
    if (!json_is_object(st))
        return fail(rd, "stat is not an object");
    uint64_t cz, mz, owner;
    int32_t nc, dl;
    if (get_int(rd, st, "czxid", INT64_MIN, INT64_MAX, 0, 0, &cz) ||
        get_int(rd, st, "mzxid", INT64_MIN, INT64_MAX, 0, 0, &mz) ||
        get_id(rd, st, "ephemeral_owner", &owner) ||
        get_i32(rd, st, "version", 0, &x->stat.version) ||
        get_i32(rd, st, "cversion", 0, &x->stat.cversion) ||
        get_i32(rd, st, "num_children", 0, &nc) || get_i32(rd, st, "data_length", 0, &dl))
        return -1;
    x->stat.czxid = (int64_t)cz, x->stat.mzxid = (int64_t)mz, x->stat.ephemeral_owner = owner;
    x->stat.num_children = nc, x->stat.data_length = dl;
    x->has_stat = 1;
    return 0;
}

static int read_children(reader *rd, const json_t *o, coord_history_entry *x) {
    const json_t *c = json_object_get(o, "children");
    if (!c)
        return 0;
    if (!json_is_array(c))
        return fail(rd, "children is not a list");
    size_t n = json_array_size(c);
    x->children = calloc(n + 1, sizeof *x->children);
    if (!x->children)
        return fail(rd, "out of memory");
    for (size_t i = 0; i < n; i++, x->child_count++) {
        const json_t *name = json_array_get(c, i);
        if (!json_is_string(name))
            return fail(rd, "bad child name");
        size_t len;
        char *s = string_bytes(rd, name, "children", &len);
        if (!s)
            return -1;
        if (len == 0 || strlen(s) != len || strchr(s, '/')) {
            free(s);
            return fail(rd, "bad child name");
        }
        x->children[i] = s;
    }
    return 0;
}

static int read_rcs(reader *rd, const json_t *o, coord_history_entry *x) {
    const json_t *r = json_object_get(o, "rcs");
    if (!r)
        return 0;
    if (!json_is_array(r))
        return fail(rd, "rcs is not a list");
    size_t n = json_array_size(r);
    x->rcs = calloc(n + 1, sizeof *x->rcs);
    if (!x->rcs)
        return fail(rd, "out of memory");
    for (size_t i = 0; i < n; i++, x->rc_count++)
        if (rc_of(rd, json_array_get(r, i), &x->rcs[i]) != 0)
            return -1;
    return 0;
}

static int read_answer(reader *rd, const json_t *o, coord_history_entry *x) {
    const json_t *rc = json_object_get(o, "rc");
    if (!rc || json_is_null(rc))
        return 0;
    x->answered = 1;
    if (rc_of(rd, rc, &x->rc) != 0 ||
        get_int(rd, o, "ret_ns", 0, UINT64_MAX, 1, 0, &x->ret_ns) != 0 ||
        get_int(rd, o, "ret_seq", 0, UINT64_MAX, 0, 0, &x->ret_seq) != 0)
        return -1;
    if (x->ret_ns < x->call_ns || (x->ret_seq && x->ret_seq < x->call_seq))
        return fail(rd, "answered before it was called");
    if (get_path(rd, o, "created", 0, &x->created) != 0 ||
        get_data(rd, o, "rdata", &x->rdata, &x->rdata_len) != 0 || read_stat(rd, o, x) != 0 ||
        read_children(rd, o, x) != 0 || read_rcs(rd, o, x) != 0)
        return -1;
    return 0;
}

static int read_op(reader *rd, const json_t *o, coord_history_entry *x) {
    const json_t *t = get_str(rd, o, "op", 1);
    if (!t)
        return -1;
    x->op = -1;
    for (int k = 0; k < COORD_OPTYPES; k++)
        if (str_is(t, coord_op_type_name(k)))
            x->op = k;
    if (x->op < 0)
        return fail(rd, "unknown op");
    int pathless = x->op == COORD_OPTYPE_MULTI || x->op == COORD_OPTYPE_CLOSE;
    int32_t flags, watch;
    if (get_path(rd, o, "path", !pathless, &x->path) != 0 ||
        get_data(rd, o, "data", &x->data, &x->data_len) != 0 ||
        get_i32(rd, o, "flags", 0, &flags) != 0 || get_i32(rd, o, "version", -1, &x->version) ||
        get_i32(rd, o, "watch", 0, &watch) || read_multi(rd, o, x) != 0 ||
        get_int(rd, o, "call_ns", 0, UINT64_MAX, 1, 0, &x->call_ns) != 0 ||
        get_int(rd, o, "call_seq", 0, UINT64_MAX, 0, 0, &x->call_seq) != 0)
        return -1;
    if (x->op == COORD_OPTYPE_MULTI && !x->sub)
        return fail(rd, "multi without its ops");
    x->flags = flags, x->watch = watch != 0;
    return read_answer(rd, o, x);
}

static int read_event(reader *rd, const json_t *o, coord_history_entry *x, int watch) {
    if (get_int(rd, o, "at_ns", 0, UINT64_MAX, 1, 0, &x->call_ns) != 0 ||
        get_int(rd, o, "seq", 0, UINT64_MAX, 0, 0, &x->call_seq) != 0)
        return -1;
    if (watch) {
        const json_t *e = get_str(rd, o, "event", 1);
        if (!e || (x->event = name_index(event_names, 5, e)) <= 0)
            return fail(rd, "unknown watch event");
        return get_path(rd, o, "path", 1, &x->path);
    }
    const json_t *s = get_str(rd, o, "state", 1);
    if (!s)
        return -1;
    x->event = name_index(state_names, 4, s);
    if (str_is(s, "closed"))
        x->event = COORD_HISTORY_CLOSED;
    if (str_is(s, "killed"))
        x->event = COORD_HISTORY_KILLED;
    if (x->event <= 0)
        return fail(rd, "unknown session state");
    return get_id(rd, o, "sid", &x->sid);
}

static int read_record(reader *rd, coord_history *h, const json_t *o) {
    if (!json_is_object(o))
        return fail(rd, "a line must be one JSON object");
    const json_t *kind = get_str(rd, o, "kind", 1);
    if (!kind)
        return -1;
    static const char *const kinds[] = {"", "op", "watch", "state"};
    int k = name_index(kinds, 4, kind);
    if (k <= 0)
        return fail(rd, "unknown kind");
    uint64_t client;
    if (get_int(rd, o, "client", 0, UINT32_MAX, 1, 0, &client) != 0)
        return -1;
    coord_history_entry *x = history_append(h, k, (uint32_t)client);
    if (!x)
        return fail(rd, "out of memory");
    if (client > h->clients)
        h->clients = (uint32_t)client;
    if (k == COORD_HISTORY_OP)
        return get_id(rd, o, "sid", &x->sid) || read_op(rd, o, x);
    return read_event(rd, o, x, k == COORD_HISTORY_WATCH);
}

static int blank(const char *line, const char *end) {
    while (line < end && (*line == ' ' || *line == '\t' || *line == '\r'))
        line++;
    return line == end;
}

/* jansson's own message, at its column; bytes the line held raw are not echoed. */
static void syntax_error(const json_error_t *e, char *why, size_t why_len) {
    snprintf(why, why_len, "%s (column %d)", e->text, e->column);
    for (char *c = why; *c; c++)
        if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
            *c = '?';
}

/* One line: blank, or one object (duplicate keys refused). */
static int parse_line(coord_history *h, const char *line, const char *end, char *why,
                      size_t why_len) {
    if (blank(line, end))
        return 0;
    json_error_t e;
    json_t *v = json_loadb(line, (size_t)(end - line),
                           JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
    if (!v) {
        syntax_error(&e, why, why_len);
        return -1;
    }
    reader rd = {NULL, ""};
    int rc = read_record(&rd, h, v);
    json_decref(v);
    snprintf(why, why_len, "%s", rd.error ? rd.error : "bad record");
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
