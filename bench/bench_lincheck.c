/* bench_lincheck.c -- how fast lincheck (backends/lincheck.h) checks a history: a
 * generated 10,000-operation history (8 clients, 4 znodes, overlapping calls: sets,
 * conditional sets, gets, creates, deletes, each taking effect at a random instant
 * inside its call) is written as JSON Lines, read back and checked; prints operations
 * checked per second and writes results/bench/lincheck.csv|json. The baseline is
 * reading the same history. --quick: 2,000 operations. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/history.h"
#include "backends/lincheck.h"
#include "bench/bench_util.h"
#include "core/prng.h"

#define CLIENTS 8
#define PATHS 4

typedef struct gen_op {
    uint32_t client, path;
    int kind; /* 0 set, 1 conditional set, 2 get, 3 create, 4 delete */
    uint64_t call_ns, ret_ns, at_ns;
    int32_t version; /* conditional set: expected */
    uint32_t value;
} gen_op;

typedef struct znode {
    int exists;
    int32_t version;
    uint32_t value;
} znode;

static int by_effect(const void *a, const void *b) {
    const gen_op *x = a, *y = b;
    return x->at_ns < y->at_ns ? -1 : x->at_ns > y->at_ns;
}

/* Each client calls one op after another; ops overlap across clients. */
static gen_op *generate(size_t n, prng *r) {
    gen_op *ops = calloc(n, sizeof *ops);
    uint64_t clock[CLIENTS] = {0};
    for (size_t i = 0; ops && i < n; i++) {
        uint32_t c = (uint32_t)(i % CLIENTS);
        gen_op *o = &ops[i];
        o->client = c + 1;
        o->path = (uint32_t)prng_below(r, PATHS);
        uint64_t roll = prng_below(r, 100);
        o->kind = roll < 35 ? 0 : roll < 45 ? 1 : roll < 80 ? 2 : roll < 90 ? 3 : 4;
        o->call_ns = clock[c] + prng_below(r, 200);
        o->ret_ns = o->call_ns + 100 + prng_below(r, 900);
        o->at_ns = o->call_ns + prng_below(r, o->ret_ns - o->call_ns);
        o->value = (uint32_t)i;
        clock[c] = o->ret_ns + 1;
    }
    return ops;
}

static const char *const kinds[] = {"set", "set", "get", "create", "delete"};

/* Apply o to its node at its effect instant and write its line. */
static void emit(FILE *f, gen_op *o, znode *z, prng *r) {
    const char *rc = "OK";
    int32_t version = z->version;
    if (o->kind == 1)
        o->version = z->version + (int32_t)prng_below(r, 2); /* ahead: BADVERSION */
    if (o->kind == 3) {
        rc = z->exists ? "NODEEXISTS" : "OK";
        if (!z->exists)
            *z = (znode){1, 0, o->value}, version = 0;
    } else if (!z->exists) {
        rc = "NONODE";
    } else if (o->kind == 4) {
        z->exists = 0;
    } else if (o->kind == 2) {
        version = z->version;
    } else if (o->kind == 1 && o->version != z->version) {
        rc = "BADVERSION";
    } else if (o->kind != 2) {
        z->version++, z->value = o->value, version = z->version;
    }
    fprintf(f, "{\"kind\":\"op\",\"client\":%u,\"op\":\"%s\",\"path\":\"/b%u\"", o->client,
            kinds[o->kind], o->path);
    if (o->kind != 2 && o->kind != 4)
        fprintf(f, ",\"data\":\"v%u\"", o->value);
    fprintf(f, ",\"version\":%d,\"call_ns\":%llu,\"ret_ns\":%llu,\"rc\":\"%s\"",
            o->kind == 1 ? (int)o->version : -1, (unsigned long long)o->call_ns,
            (unsigned long long)o->ret_ns, rc);
    if (o->kind == 2 && strcmp(rc, "OK") == 0)
        fprintf(f, ",\"rdata\":\"v%u\"", z->value);
    if (strcmp(rc, "OK") == 0 && o->kind != 3 && o->kind != 4)
        fprintf(f, ",\"stat\":{\"version\":%d}", (int)version);
    fputs("}\n", f);
}

/* The history as text: its ops in call order, results from their effect order. */
static char *history_text(size_t n, size_t *len) {
    prng r;
    prng_stream(&r, 1, 0, 77);
    gen_op *ops = generate(n, &r);
    char *text = NULL;
    FILE *f = open_memstream(&text, len);
    if (!ops || !f)
        exit(1);
    qsort(ops, n, sizeof *ops, by_effect);
    znode nodes[PATHS] = {{0}};
    char **lines = calloc(n, sizeof *lines);
    uint64_t *calls = calloc(n, sizeof *calls);
    for (size_t i = 0; i < n; i++) {
        size_t l;
        FILE *one = open_memstream(&lines[i], &l);
        emit(one, &ops[i], &nodes[ops[i].path], &r);
        fclose(one);
        calls[i] = ops[i].call_ns;
    }
    /* written in call order, as the recorder writes them */
    for (size_t done = 0; done < n; done++) {
        size_t best = n;
        for (size_t i = 0; i < n; i++)
            if (lines[i] && (best == n || calls[i] < calls[best]))
                best = i;
        fputs(lines[best], f);
        free(lines[best]);
        lines[best] = NULL;
    }
    fclose(f);
    free(lines), free(calls), free(ops);
    return text;
}

int main(int argc, char **argv) {
    const char *out;
    int quick = bench_args(argc, argv, &out);
    size_t n = quick ? 2000 : 10000;
    size_t len;
    char *text = history_text(n, &len);
    if (getenv("BENCH_LINCHECK_DUMP")) {
        FILE *d = fopen(getenv("BENCH_LINCHECK_DUMP"), "w");
        fputs(text, d);
        fclose(d);
    }
    char err[256];
    coord_history *h;
    uint64_t t0 = bench_now_ns();
    if (coord_history_parse(text, len, "generated", &h, err, sizeof err) != 0) {
        fprintf(stderr, "bench_lincheck: %s\n", err);
        return 1;
    }
    uint64_t t1 = bench_now_ns();
    lincheck_result r;
    if (lincheck_run(h, NULL, &r) != 0 || r.verdict != LINCHECK_OK) {
        fprintf(stderr, "bench_lincheck: %s: %s\n", lincheck_verdict_name(r.verdict), r.detail);
        return 1;
    }
    uint64_t t2 = bench_now_ns();
    double read_ns = (double)(t1 - t0) / (double)n, check_ns = (double)(t2 - t1) / (double)n;
    printf("lincheck: %zu ops, %llu partitions, %llu steps: %.0f ops/s checked (%.0f ns/op), "
           "read %.0f ns/op\n",
           n, (unsigned long long)r.partitions, (unsigned long long)r.steps, 1e9 / check_ns,
           check_ns, read_ns);
    bench_row rows[2] = {{"read history", "", read_ns, 0, 1.0},
                         {"lincheck", "", check_ns, 0, check_ns / read_ns}};
    snprintf(rows[0].size, sizeof rows[0].size, "%zu ops", n);
    snprintf(rows[1].size, sizeof rows[1].size, "%zu ops", n);
    coord_history_free(h);
    free(text);
    return bench_write(out, "lincheck", rows, 2, "ns per op / reading ns per op") != 0;
}
