/* cmd_route.c -- `shardsim route`: key -> key group -> subtask for keys on stdin. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/partition.h"
#include "sim/cli/args.h"
#include "sim/cli/cli.h"
#include "sim/cli/keys_in.h"

static void usage(FILE *out) {
    fputs("usage: shardsim route --partitioner NAME --parallelism N [--max-parallelism P]\n"
          "                      [--key-type string|int] [--hash crc32c|murmur3]\n"
          "                      [--vnodes V] [--bound-c C] < keys\n\n"
          "Reads one key a line on stdin and prints `key,key_group,subtask` a line (the key\n"
          "escaped as `shardsim hash` does: `\\` as `\\\\`, control bytes as \\xHH).\n"
          "  --partitioner      modulo, flink, jump, ring, rendezvous, maglev, bounded\n"
          "  --parallelism N    number of subtasks\n"
          "  --max-parallelism P  number of key groups (default: the scheme's; see README)\n"
          "  --key-type         string (default) or int (decimal 32-bit keys; flink hashes\n"
          "                     them as Java Integers, the others as 4 little-endian bytes)\n"
          "  --hash             the byte hash of every scheme but flink (default crc32c)\n"
          "  --vnodes V         ring/bounded: points per subtask (default 2000)\n"
          "  --bound-c C        bounded: load bound factor c > 1 (default 1.25)\n",
          out);
}

/* Parse the options every partitioner-using command shares. 1 = it was one of them
 * (0 rc in *rc), 0 = not a partitioner option. */
int cli_partitioner_option(args_state *a, part_config *cfg, int *key_int, int *rc) {
    const char *v = NULL;
    *rc = 0;
    if (args_is(a, "--max-parallelism", NULL)) {
        *rc = args_value_u32_range(a, &cfg->groups, 1, 1u << 26);
    } else if (args_is(a, "--key-type", NULL)) {
        if ((*rc = args_value(a, &v)) == 0) {
            if (strcmp(v, "string") == 0 || strcmp(v, "int") == 0)
                *key_int = strcmp(v, "int") == 0;
            else
                *rc = args_fail(a, "expected string or int, got '%s'", v);
        }
    } else if (args_is(a, "--hash", NULL)) {
        if ((*rc = args_value(a, &v)) == 0) {
            if (strcmp(v, "crc32c") == 0 || strcmp(v, "murmur3") == 0)
                cfg->hash = strcmp(v, "murmur3") == 0 ? PART_HASH_MURMUR3 : PART_HASH_CRC32C;
            else
                *rc = args_fail(a, "expected crc32c or murmur3, got '%s'", v);
        }
    } else if (args_is(a, "--vnodes", NULL)) {
        *rc = args_value_u32_range(a, &cfg->vnodes, 1, 100000);
    } else if (args_is(a, "--bound-c", NULL)) {
        /* c = 1 would bound every subtask at exactly the mean: no room, no assignment */
        if ((*rc = args_value(a, &v)) == 0 &&
            (args_parse_double(v, &cfg->bound_c) || !(cfg->bound_c > 1) || cfg->bound_c > 100))
            *rc = args_fail(a, "expected a number above 1 and at most 100, got '%s'", v);
    } else {
        return 0;
    }
    return 1;
}

/* Check a partitioner config and explain what is wrong. 0 or 2. */
int cli_check_partitioner(const char *cmd, const part_config *cfg) {
    if (!part_scheme_known(cfg->scheme)) {
        fprintf(stderr,
                "shardsim %s: --partitioner: unknown partitioner '%s' (one of modulo, "
                "flink, jump, ring, rendezvous, maglev, bounded)\n",
                cmd, cfg->scheme);
        return 2;
    }
    uint32_t groups =
        cfg->groups ? cfg->groups : part_default_groups(cfg->scheme, cfg->parallelism);
    if (cfg->parallelism > groups) {
        fprintf(stderr, "shardsim %s: --parallelism: %u is above the max parallelism %u\n", cmd,
                cfg->parallelism, groups);
        return 2;
    }
    if (strcmp(cfg->scheme, "flink") == 0 && groups > 32768) {
        fprintf(stderr, "shardsim %s: --max-parallelism: flink allows at most 32768, got %u\n", cmd,
                groups);
        return 2;
    }
    return 0;
}

/* Building a partitioner's tables before the first key can take minutes and gigabytes
 * at large N: say so up front, with an estimate (constants measured on the development
 * machine, release build: a ring point ~1.3 us and ~32 bytes to build; a rendezvous
 * score ~3.5 ns per group and subtask; a Maglev table entry ~0.8 us, 100 per subtask).
 * Ctrl-C stops the build at any moment: nothing is written before the first key. */
static void warn_enormous(const part_config *cfg) {
    uint32_t n = cfg->parallelism;
    double groups = cfg->groups ? cfg->groups : part_default_groups(cfg->scheme, n);
    double vnodes = cfg->vnodes ? cfg->vnodes : 2000, seconds = 0, bytes = groups * 4;
    if (strcmp(cfg->scheme, "ring") == 0 || strcmp(cfg->scheme, "bounded") == 0) {
        seconds = 1.3e-6 * n * vnodes;
        bytes += 32.0 * n * vnodes;
    } else if (strcmp(cfg->scheme, "rendezvous") == 0) {
        seconds = 3.5e-9 * groups * n;
    } else if (strcmp(cfg->scheme, "maglev") == 0) {
        seconds = 0.8e-6 * 100.0 * n;
        bytes += 100.0 * 4 * n * 2;
    }
    if (seconds < 10 && bytes < 2e9)
        return;
    fprintf(stderr,
            "shardsim route: warning: %s at --parallelism %u builds its tables before the "
            "first key: about %.0f s and %.1f GB on the development machine (Ctrl-C stops it)\n",
            cfg->scheme, n, seconds, bytes / 1e9);
}

int cli_route(int argc, char **argv) {
    args_state a;
    args_init(&a, "route", argc, argv);
    part_config cfg = {.scheme = NULL};
    int key_int = 0, rc, orc;
    while ((rc = args_next(&a)) != ARGS_END) {
        if (rc == ARGS_POSITIONAL)
            return args_fail(&a, "unexpected argument '%s'", args_current(&a)), 2;
        if (args_is(&a, "--help", "-h")) {
            usage(stdout);
            return 0;
        } else if (args_is(&a, "--partitioner", NULL)) {
            if (args_value(&a, &cfg.scheme))
                return 2;
        } else if (args_is(&a, "--parallelism", NULL)) {
            if (args_value_u32_range(&a, &cfg.parallelism, 1, 1u << 20))
                return 2;
        } else if (cli_partitioner_option(&a, &cfg, &key_int, &orc)) {
            if (orc)
                return 2;
        } else {
            return args_unknown(&a), 2;
        }
    }
    if (!cfg.scheme || !cfg.parallelism) {
        fprintf(stderr, "shardsim route: %s is required (try shardsim route --help)\n",
                cfg.scheme ? "--parallelism" : "--partitioner");
        return 2;
    }
    if (cli_check_partitioner("route", &cfg))
        return 2;
    warn_enormous(&cfg);
    part *p;
    if ((rc = part_create(&cfg, &p)) != 0) {
        fprintf(stderr, "shardsim route: cannot make the partitioner: %s\n", ss_strerror(rc));
        return 2;
    }
    const uint32_t *owners = part_owners(p);
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    unsigned long lineno = 0;
    int status = 0;
    while ((len = keys_next_line(stdin, &line, &cap)) >= 0) {
        lineno++;
        uint32_t g;
        if (key_int) {
            int32_t v;
            if (memchr(line, '\0', (size_t)len) || args_parse_i32(line, &v)) {
                fprintf(stderr, "shardsim route: stdin:%lu: not a 32-bit integer: '", lineno);
                keys_write_escaped(stderr, line, (size_t)len,
                                   KEYS_ESCAPE_BACKSLASH | KEYS_ESCAPE_NON_UTF8);
                fputs("'\n", stderr);
                status = 2;
                break;
            }
            g = part_group_of_int(p, v);
        } else {
            g = part_group_of_bytes(p, line, (size_t)len);
        }
        /* the key in full, NUL bytes and all, escaped as `hash` does */
        keys_write_escaped(stdout, line, (size_t)len, KEYS_ESCAPE_BACKSLASH);
        printf(",%u,%u\n", g, owners[g]);
    }
    free(line);
    part_free(p);
    return status;
}
