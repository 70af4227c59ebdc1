/* lincheck.c -- the checker's front half (see lincheck.h): the history's records become
 * operations over interned paths and data, ordered by ranks of their (time, seq)
 * instants; a union-find over the paths each op touches splits them into partitions,
 * each searched by lincheck_search.c; then lincheck_watch.c checks the watch order. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/lincheck.h"
#include "backends/lincheck_internal.h"
#include "core/error.h"
#include "core/grow.h"

const char *lincheck_verdict_name(int verdict) {
    return verdict == LINCHECK_OK ? "ok" : verdict == LINCHECK_VIOLATION ? "violation" : "unknown";
}

/* ---------- interning ---------- */

static uint64_t fnv(const char *p, size_t len) {
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)p[i]) * 1099511628211ULL;
    return h;
}

/* Make room in an open-addressing index for need entries (rebuilt from items). */
static int reindex(uint32_t **index, size_t *cap, size_t need, char *const *items,
                   const size_t *lens, uint32_t count) {
    if (2 * need <= *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 1024;
    while (ncap < 2 * need)
        ncap *= 2;
    uint32_t *ix = malloc(ncap * sizeof *ix);
    if (!ix)
        return -1;
    memset(ix, 0xff, ncap * sizeof *ix);
    for (uint32_t i = 0; i < count; i++) {
        size_t j = fnv(items[i], lens ? lens[i] : strlen(items[i])) & (ncap - 1);
        while (ix[j] != LC_NONE)
            j = (j + 1) & (ncap - 1);
        ix[j] = i;
    }
    free(*index);
    *index = ix, *cap = ncap;
    return 0;
}

/* The path's index (its ancestors interned too); LC_NONE when out of memory. */
static uint32_t intern_path(lc *c, const char *path, size_t len) {
    if (reindex(&c->path_index, &c->index_cap, c->path_count + 1, c->paths, NULL, c->path_count))
        return LC_NONE;
    size_t j = fnv(path, len) & (c->index_cap - 1);
    for (; c->path_index[j] != LC_NONE; j = (j + 1) & (c->index_cap - 1)) {
        const char *p = c->paths[c->path_index[j]];
        if (strlen(p) == len && memcmp(p, path, len) == 0)
            return c->path_index[j];
    }
    uint32_t parent = LC_NONE;
    if (len > 1) {
        size_t cut = len;
        while (cut > 0 && path[cut - 1] != '/')
            cut--;
        parent = intern_path(c, path, cut > 1 ? cut - 1 : 1);
        if (parent == LC_NONE)
            return LC_NONE;
        if (reindex(&c->path_index, &c->index_cap, c->path_count + 1, c->paths, NULL,
                    c->path_count))
            return LC_NONE;
        j = fnv(path, len) & (c->index_cap - 1);
        while (c->path_index[j] != LC_NONE)
            j = (j + 1) & (c->index_cap - 1);
    }
    char *copy = malloc(len + 1);
    if (!copy || ss_grow(&c->paths, &c->path_cap, c->path_count + 1, sizeof *c->paths) ||
        ss_grow(&c->parent, &c->parent_cap, c->path_count + 1, sizeof *c->parent)) {
        free(copy);
        return LC_NONE;
    }
    memcpy(copy, path, len);
    copy[len] = '\0';
    c->paths[c->path_count] = copy;
    c->parent[c->path_count] = parent;
    c->path_index[j] = c->path_count;
    return c->path_count++;
}

/* Data's id (0: empty); LC_NONE when out of memory. */
static uint32_t intern_data(lc *c, const char *data, size_t len) {
    if (!data || len == 0)
        return 0;
    if (c->data_count == 0) { /* id 0 */
        if (ss_grow(&c->datas, &c->data_cap, 1, sizeof *c->datas) ||
            ss_grow(&c->data_lens, &c->data_lens_cap, 1, sizeof *c->data_lens))
            return LC_NONE;
        c->datas[0] = "", c->data_lens[0] = 0, c->data_count = 1;
    }
    if (reindex(&c->data_index, &c->data_index_cap, c->data_count + 1, c->datas, c->data_lens,
                c->data_count))
        return LC_NONE;
    size_t j = fnv(data, len) & (c->data_index_cap - 1);
    for (; c->data_index[j] != LC_NONE; j = (j + 1) & (c->data_index_cap - 1)) {
        uint32_t id = c->data_index[j];
        if (c->data_lens[id] == len && memcmp(c->datas[id], data, len) == 0)
            return id;
    }
    if (ss_grow(&c->datas, &c->data_cap, c->data_count + 1, sizeof *c->datas) ||
        ss_grow(&c->data_lens, &c->data_lens_cap, c->data_count + 1, sizeof *c->data_lens))
        return LC_NONE;
    c->datas[c->data_count] = (char *)(uintptr_t)data;
    c->data_lens[c->data_count] = len;
    c->data_index[j] = c->data_count;
    return c->data_count++;
}

/* ---------- ranks of instants ---------- */

typedef struct instant {
    uint64_t ns, seq;
} instant;

static int instant_cmp(const void *a, const void *b) {
    const instant *x = a, *y = b;
    if (x->ns != y->ns)
        return x->ns < y->ns ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

typedef struct ranks {
    instant *at;
    size_t count;
} ranks;

static int collect_instants(const coord_history *h, ranks *r) {
    size_t n = coord_history_count(h);
    r->at = malloc((2 * n + 1) * sizeof *r->at);
    if (!r->at)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const coord_history_entry *x = coord_history_at(h, i);
        r->at[r->count++] = (instant){x->call_ns, x->call_seq};
        if (x->kind == COORD_HISTORY_OP && x->answered)
            r->at[r->count++] = (instant){x->ret_ns, x->ret_seq};
    }
    qsort(r->at, r->count, sizeof *r->at, instant_cmp);
    size_t u = 0;
    for (size_t i = 0; i < r->count; i++)
        if (u == 0 || instant_cmp(&r->at[u - 1], &r->at[i]) != 0)
            r->at[u++] = r->at[i];
    r->count = u;
    return 0;
}

static uint64_t rank_of(const ranks *r, uint64_t ns, uint64_t seq) {
    instant key = {ns, seq};
    const instant *at = bsearch(&key, r->at, r->count, sizeof *r->at, instant_cmp);
    return at ? (uint64_t)(at - r->at) + 1 : 0;
}

/* ---------- operations ---------- */

static int unknown_rc(int rc) {
    return rc == COORD_CONNECTIONLOSS || rc == COORD_OPERATIONTIMEOUT || rc == COORD_CLOSING ||
           rc == COORD_SESSIONEXPIRED || rc == COORD_SESSIONMOVED;
}

/* Answers the model can explain; an op answered otherwise was refused for reasons the
 * model does not see (bad arguments, auth, ...) and is left out. */
static int explained(int type, int rc) {
    switch (type) {
    case COORD_OPTYPE_GET:
    case COORD_OPTYPE_EXISTS:
    case COORD_OPTYPE_CHILDREN:
        return rc == COORD_OK || rc == COORD_NONODE;
    case COORD_OPTYPE_SYNC:
    case COORD_OPTYPE_CLOSE:
        return rc == COORD_OK;
    default:
        return rc == COORD_OK || rc == COORD_NONODE || rc == COORD_NODEEXISTS ||
               rc == COORD_BADVERSION || rc == COORD_NOTEMPTY ||
               rc == COORD_NOCHILDRENFOREPHEMERALS || rc == COORD_RUNTIMEINCONSISTENCY;
    }
}

static lc_op *new_op(lc *c) {
    if (ss_grow(&c->ops, &c->op_cap, c->op_count + 1, sizeof *c->ops) != 0)
        return NULL;
    lc_op *o = &c->ops[c->op_count++];
    memset(o, 0, sizeof *o);
    o->path = o->created = o->parent = LC_NONE;
    o->seqno = -1;
    return o;
}

static uint32_t intern_str(lc *c, const char *s) {
    return intern_path(c, s, strlen(s));
}

/* A sequential create's answer: the path it asked for and 10 digits. */
static void sequential_name(lc *c, lc_op *o, const coord_history_entry *x) {
    size_t base = strlen(x->path);
    o->bad_name = 1;
    if (!x->created || strlen(x->created) != base + 10 || strncmp(x->created, x->path, base) != 0)
        return;
    int64_t v = 0;
    for (size_t i = base; i < base + 10; i++) {
        if (x->created[i] < '0' || x->created[i] > '9')
            return;
        v = v * 10 + (x->created[i] - '0');
    }
    o->bad_name = 0, o->seqno = v;
    o->created = intern_str(c, x->created);
}

static int kid_cmp(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static int children_answer(lc *c, lc_op *o, const coord_history_entry *x) {
    o->kids = calloc(x->child_count + 1, sizeof *o->kids);
    if (!o->kids)
        return -1;
    size_t plen = strlen(x->path);
    for (size_t i = 0; i < x->child_count; i++) {
        size_t nlen = strlen(x->children[i]), len = plen + 1 + nlen;
        char *full = malloc(len + 1);
        if (!full)
            return -1;
        snprintf(full, len + 1, "%s/%s", plen > 1 ? x->path : "", x->children[i]);
        o->kids[o->kid_count++] = intern_path(c, full, strlen(full));
        free(full);
    }
    qsort(o->kids, o->kid_count, sizeof *o->kids, kid_cmp);
    return 0;
}

static int multi_paths(lc *c, lc_op *o, const coord_history_entry *x) {
    o->subpath = calloc(x->sub_count + 1, sizeof *o->subpath);
    o->subdata = calloc(x->sub_count + 1, sizeof *o->subdata);
    if (!o->subpath || !o->subdata)
        return -1;
    for (size_t i = 0; i < x->sub_count; i++) {
        o->subpath[i] = intern_str(c, x->sub[i].path);
        o->subdata[i] = intern_data(c, x->sub[i].data, x->sub[i].data_len);
    }
    return 0;
}

/* The parts of an op that depend on its kind. */
static int op_details(lc *c, lc_op *o, const coord_history_entry *x) {
    if (x->path)
        o->path = intern_str(c, x->path);
    o->data = intern_data(c, x->data, x->data_len);
    o->version = x->version;
    o->has_stat = x->has_stat;
    o->stat_version = x->stat.version;
    if (o->kind == COORD_OPTYPE_CREATE) {
        o->parent = o->path == LC_NONE ? LC_NONE : c->parent[o->path];
        if ((x->flags & COORD_SEQUENTIAL) && o->known && o->rc == COORD_OK)
            sequential_name(c, o, x);
        else if (o->known && o->rc == COORD_OK && x->created && strcmp(x->created, x->path) != 0)
            o->bad_name = 1;
        o->has_stat = 0; /* create's stat is the new node's: version 0 */
    }
    if (o->kind == COORD_OPTYPE_GET && o->known && o->rc == COORD_OK)
        o->rdata = intern_data(c, x->rdata, x->rdata_len);
    if (o->kind == COORD_OPTYPE_CHILDREN && o->known && o->rc == COORD_OK &&
        children_answer(c, o, x) != 0)
        return -1;
    if (o->kind == COORD_OPTYPE_MULTI && multi_paths(c, o, x) != 0)
        return -1;
    return 0;
}

static int add_call(lc *c, const ranks *r, size_t i, const coord_history_entry *x,
                    const uint8_t *killed) {
    int known = x->answered && !unknown_rc(x->rc);
    int read =
        x->op == COORD_OPTYPE_GET || x->op == COORD_OPTYPE_EXISTS || x->op == COORD_OPTYPE_CHILDREN;
    if ((!known && (read || x->op == COORD_OPTYPE_SYNC)) || (known && !explained(x->op, x->rc)))
        return 0;
    if (x->op == COORD_OPTYPE_CLOSE && killed[x->client])
        return 0; /* a dead client's close: the service expires the session on its own */
    lc_op *o = new_op(c);
    if (!o)
        return -1;
    o->entry = i, o->kind = x->op, o->client = x->client, o->known = known, o->read = read;
    o->rc = x->rc;
    o->global = x->op == COORD_OPTYPE_SYNC || x->op == COORD_OPTYPE_CLOSE;
    o->call = rank_of(r, x->call_ns, x->call_seq);
    o->ret = known ? rank_of(r, x->ret_ns, x->ret_seq) : LC_NEVER;
    return op_details(c, o, x);
}

/* A session's end seen by the service, after the session's last answered call (the
 * service answered it, so the session lived): EXPIRED (before the client heard of it:
 * the service may expire a session its client still thinks connected), or a kill (the
 * session expires some time later, or never within the history -- or it had already
 * expired, unseen). */
static int add_end(lc *c, const ranks *r, size_t i, const coord_history_entry *x,
                   uint64_t last_answered) {
    lc_op *o = new_op(c);
    if (!o)
        return -1;
    uint64_t at = rank_of(r, x->call_ns, x->call_seq);
    int expired = x->event == COORD_STATE_EXPIRED;
    o->entry = i, o->kind = LC_EXPIRE, o->client = x->client, o->known = expired, o->global = 1;
    o->call = last_answered; /* the service may have expired it before the kill, too */
    o->ret = expired ? at : LC_NEVER;
    return 0;
}

/* A session whose end the history does not show may still have been expired by the
 * service, unseen by its client (partitioned away when the history ends): an optional
 * end after its last answered call. */
static int add_unseen_ends(lc *c, const uint8_t *ended, const uint64_t *answered,
                           const size_t *first, uint32_t clients) {
    for (uint32_t k = 1; k <= clients; k++) {
        if (ended[k] || first[k] == SIZE_MAX)
            continue;
        lc_op *o = new_op(c);
        if (!o)
            return -1;
        o->entry = first[k], o->kind = LC_EXPIRE, o->client = k, o->global = 1;
        o->call = answered[k], o->ret = LC_NEVER;
    }
    return 0;
}

static int build_ops(lc *c, const ranks *r) {
    const coord_history *h = c->h;
    uint32_t clients = 0;
    for (size_t i = 0; i < coord_history_count(h); i++)
        if (coord_history_at(h, i)->client > clients)
            clients = coord_history_at(h, i)->client;
    uint8_t *killed = calloc(clients + 1, 1), *ended = calloc(clients + 1, 1);
    uint64_t *answered = calloc(clients + 1, sizeof *answered); /* rank of the last call */
    size_t *first = malloc((clients + 1) * sizeof *first);      /* a record of each client */
    int rc = killed && ended && answered && first ? 0 : -1;
    for (uint32_t k = 0; first && k <= clients; k++)
        first[k] = SIZE_MAX;
    for (size_t i = 0; rc == 0 && i < coord_history_count(h); i++) {
        const coord_history_entry *x = coord_history_at(h, i);
        first[x->client] = first[x->client] == SIZE_MAX ? i : first[x->client];
        if (x->kind == COORD_HISTORY_OP && x->answered && !unknown_rc(x->rc))
            answered[x->client] = rank_of(r, x->call_ns, x->call_seq);
        if (x->kind == COORD_HISTORY_OP) {
            ended[x->client] |= x->op == COORD_OPTYPE_CLOSE;
            rc = add_call(c, r, i, x, killed);
        } else if (x->kind == COORD_HISTORY_STATE &&
                   (x->event == COORD_STATE_EXPIRED || x->event == COORD_HISTORY_KILLED)) {
            killed[x->client] |= x->event == COORD_HISTORY_KILLED;
            ended[x->client] = 1;
            rc = add_end(c, r, i, x, answered[x->client]);
        }
    }
    if (rc == 0)
        rc = add_unseen_ends(c, ended, answered, first, clients);
    free(killed), free(ended), free(answered), free(first);
    return rc;
}

/* An unanswered sequential create may have made any node its name could have that no
 * answered create made. */
static int sequential_candidates(lc *c) {
    uint8_t *made = calloc(c->path_count + 1, 1);
    if (!made)
        return -1;
    for (size_t i = 0; i < c->op_count; i++)
        if (c->ops[i].created != LC_NONE)
            made[c->ops[i].created] = 1;
    for (size_t i = 0; i < c->op_count; i++) {
        lc_op *o = &c->ops[i];
        const coord_history_entry *x = coord_history_at(c->h, o->entry);
        if (o->known || o->kind != COORD_OPTYPE_CREATE || !(x->flags & COORD_SEQUENTIAL))
            continue;
        size_t base = strlen(x->path), cap = 0;
        for (uint32_t p = 0; p < c->path_count; p++) {
            const char *name = c->paths[p];
            if (made[p] || c->parent[p] != o->parent || strlen(name) != base + 10 ||
                strncmp(name, x->path, base) != 0 || strspn(name + base, "0123456789") != 10)
                continue;
            if (ss_grow(&o->cands, &cap, o->cand_count + 1, sizeof *o->cands) != 0) {
                free(made);
                return -1;
            }
            o->cands[o->cand_count++] = p;
        }
    }
    free(made);
    return 0;
}

/* ---------- partitions ---------- */

static uint32_t find(uint32_t *uf, uint32_t x) {
    while (uf[x] != x)
        x = uf[x] = uf[uf[x]];
    return x;
}

static void unite(uint32_t *uf, uint32_t a, uint32_t b) {
    if (a == LC_NONE || b == LC_NONE)
        return;
    a = find(uf, a), b = find(uf, b);
    if (a != b)
        uf[a < b ? b : a] = a < b ? a : b; /* the smaller index leads: deterministic */
}

/* Join the paths each op touches; a children list touches every child of its node. */
static uint32_t *partition_paths(const lc *c) {
    uint32_t *uf = malloc((c->path_count + 1) * sizeof *uf);
    uint8_t *listed = calloc(c->path_count + 1, 1);
    if (!uf || !listed) {
        free(uf), free(listed);
        return NULL;
    }
    for (uint32_t i = 0; i < c->path_count; i++)
        uf[i] = i;
    for (size_t i = 0; i < c->op_count; i++) {
        const lc_op *o = &c->ops[i];
        const coord_history_entry *x = coord_history_at(c->h, o->entry);
        if (o->global)
            continue;
        unite(uf, o->path, o->created);
        if (o->kind == COORD_OPTYPE_CREATE && (x->flags & COORD_SEQUENTIAL))
            unite(uf, o->path, o->parent);
        for (size_t k = 0; k < o->cand_count; k++)
            unite(uf, o->path, o->cands[k]);
        for (size_t k = 0; k < x->sub_count && o->subpath; k++) {
            unite(uf, o->subpath[0], o->subpath[k]);
            if (x->sub[k].flags & COORD_SEQUENTIAL)
                unite(uf, o->subpath[k], c->parent[o->subpath[k]]);
        }
        if (o->kind == COORD_OPTYPE_CHILDREN)
            listed[o->path] = 1;
    }
    for (uint32_t p = 0; p < c->path_count; p++)
        if (c->parent[p] != LC_NONE && listed[c->parent[p]])
            unite(uf, p, c->parent[p]);
    free(listed);
    return uf;
}

static uint32_t op_anchor(const lc_op *o) {
    return o->kind == COORD_OPTYPE_MULTI ? o->subpath[0] : o->path;
}

typedef struct part {
    uint32_t root;
    uint32_t *ops, *paths;
    size_t n, k, ncap, kcap;
} part;

static int by_call(const void *a, const void *b, const lc *c) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    if (c->ops[x].call != c->ops[y].call)
        return c->ops[x].call < c->ops[y].call ? -1 : 1;
    return x < y ? -1 : x > y;
}

/* Insertion sort by call rank (ops arrive nearly sorted: records are in call order). */
static void sort_ops(const lc *c, uint32_t *ops, size_t n) {
    for (size_t i = 1; i < n; i++) {
        uint32_t v = ops[i];
        size_t j = i;
        while (j > 0 && by_call(&ops[j - 1], &v, c) > 0)
            ops[j] = ops[j - 1], j--;
        ops[j] = v;
    }
}

static int part_add(uint32_t **items, size_t *count, size_t *cap, uint32_t v) {
    if (ss_grow(items, cap, *count + 1, sizeof **items) != 0)
        return -1;
    (*items)[(*count)++] = v;
    return 0;
}

/* Group the ops by the partition of their paths; every partition also gets the global
 * ops (sync, session ends). */
static int make_parts(const lc *c, const uint32_t *uf, part **out, size_t *count) {
    uint32_t *slot = malloc((c->path_count + 1) * sizeof *slot);
    part *parts = NULL;
    size_t np = 0, cap = 0;
    int rc = slot ? 0 : -1;
    if (slot)
        memset(slot, 0xff, (c->path_count + 1) * sizeof *slot);
    for (size_t i = 0; rc == 0 && i < c->op_count; i++) {
        const lc_op *o = &c->ops[i];
        if (o->global || op_anchor(o) == LC_NONE)
            continue;
        uint32_t root = find((uint32_t *)uf, op_anchor(o));
        if (slot[root] == LC_NONE) {
            rc = ss_grow(&parts, &cap, np + 1, sizeof *parts);
            if (rc != 0)
                break;
            parts[np] = (part){.root = root};
            slot[root] = (uint32_t)np++;
        }
        part *p = &parts[slot[root]];
        rc = part_add(&p->ops, &p->n, &p->ncap, (uint32_t)i);
    }
    for (uint32_t q = 0; rc == 0 && q < c->path_count; q++) {
        uint32_t s = slot[find((uint32_t *)uf, q)];
        if (s != LC_NONE)
            rc = part_add(&parts[s].paths, &parts[s].k, &parts[s].kcap, q);
    }
    for (size_t i = 0; rc == 0 && i < c->op_count; i++)
        for (size_t s = 0; rc == 0 && c->ops[i].global && s < np; s++)
            rc = part_add(&parts[s].ops, &parts[s].n, &parts[s].ncap, (uint32_t)i);
    for (size_t s = 0; rc == 0 && s < np; s++)
        sort_ops(c, parts[s].ops, parts[s].n);
    free(slot);
    *out = parts, *count = np;
    return rc;
}

/* ---------- the run ---------- */

void lc_describe(const lc *c, const lc_op *o, char *out, size_t len) {
    const coord_history_entry *x = coord_history_at(c->h, o->entry);
    const char *name = o->kind == LC_EXPIRE
                           ? (x->event == COORD_HISTORY_KILLED ? "killed" : "expired")
                           : coord_op_type_name(o->kind);
    char data[48] = "";
    const char *d = x->rdata ? x->rdata : x->data;
    size_t dlen = x->rdata ? x->rdata_len : x->data_len;
    if (d && dlen)
        snprintf(data, sizeof data, " \"%.*s%s\"", (int)(dlen < 24 ? dlen : 24), d,
                 dlen > 24 ? "..." : "");
    char result[96] = "";
    if (x->kind == COORD_HISTORY_OP && x->answered)
        snprintf(result, sizeof result, " -> %s%s%s v%d [%llu..%llu ns]", coord_error_name(x->rc),
                 x->created ? " " : "", x->created ? x->created : "", (int)x->stat.version,
                 (unsigned long long)x->call_ns, (unsigned long long)x->ret_ns);
    else
        snprintf(result, sizeof result, " -> no answer [%llu.. ns]",
                 (unsigned long long)x->call_ns);
    snprintf(out, len, "#%zu c%u %s %s%s%s", o->entry, o->client, name, x->path ? x->path : "",
             data, result);
}

static void lc_free(lc *c) {
    for (uint32_t i = 0; i < c->path_count; i++)
        free(c->paths[i]);
    free(c->paths), free(c->parent), free(c->path_index);
    free(c->datas), free(c->data_lens), free(c->data_index);
    for (size_t i = 0; i < c->op_count; i++) {
        lc_op *o = &c->ops[i];
        free(o->kids), free(o->subpath), free(o->subdata), free(o->cands);
    }
    free(c->ops);
}

static void parts_free(part *parts, size_t count) {
    for (size_t i = 0; i < count; i++)
        free(parts[i].ops), free(parts[i].paths);
    free(parts);
}

/* Search every partition: a violation in the smallest one that has any, else unknown
 * if any ran out of steps, else ok. */
static int search_parts(const lc *c, part *parts, size_t np, lincheck_result *out) {
    size_t worst = SIZE_MAX;
    int unknown = 0;
    for (size_t i = 0; i < np; i++) {
        char detail[sizeof out->detail];
        int v = lc_search(c, parts[i].ops, parts[i].n, parts[i].paths, parts[i].k, &out->steps,
                          detail, sizeof detail);
        if (v < 0)
            return SS_ENOMEM;
        if (v == LINCHECK_VIOLATION && parts[i].n < worst) {
            worst = parts[i].n;
            out->verdict = LINCHECK_VIOLATION;
            snprintf(out->detail, sizeof out->detail, "%s", detail);
        } else if (v == LINCHECK_UNKNOWN && !unknown && worst == SIZE_MAX) {
            unknown = 1;
            snprintf(out->detail, sizeof out->detail, "%s", detail);
        }
    }
    if (worst == SIZE_MAX && unknown)
        out->verdict = LINCHECK_UNKNOWN;
    return 0;
}

int lincheck_run(const coord_history *h, const lincheck_options *opt, lincheck_result *out) {
    memset(out, 0, sizeof *out);
    lc c = {.h = h, .max_steps = opt && opt->max_steps ? opt->max_steps : 2000000};
    ranks r = {0};
    part *parts = NULL;
    size_t np = 0;
    uint32_t *uf = NULL;
    int rc = collect_instants(h, &r) != 0 || build_ops(&c, &r) != 0 ||
                     sequential_candidates(&c) != 0 || !(uf = partition_paths(&c)) ||
                     make_parts(&c, uf, &parts, &np) != 0
                 ? SS_ENOMEM
                 : 0;
    for (size_t i = 0; i < coord_history_count(h); i++)
        out->ops += coord_history_at(h, i)->kind == COORD_HISTORY_OP;
    out->partitions = np;
    if (rc == 0)
        rc = search_parts(&c, parts, np, out);
    if (rc == 0 && out->verdict != LINCHECK_VIOLATION &&
        lc_check_watches(h, out->detail, sizeof out->detail))
        out->verdict = LINCHECK_VIOLATION;
    if (rc == 0 && out->verdict == LINCHECK_OK)
        snprintf(out->detail, sizeof out->detail, "ok");
    parts_free(parts, np);
    free(uf);
    free(r.at);
    lc_free(&c);
    return rc;
}
