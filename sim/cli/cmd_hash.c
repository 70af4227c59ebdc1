/* cmd_hash.c -- `shardsim hash`: hash keys read from stdin, one a line. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "sim/cli/args.h"
#include "sim/cli/cli.h"
#include "sim/cli/keys_in.h"

static const char *const algos[] = {"crc32c",    "murmur3_32",  "murmur3_128",
                                    "flink-int", "java-string", NULL};

static void usage(FILE *out) {
    fputs("usage: shardsim hash --algo ALGO [--seed S] < keys\n\n"
          "Reads one key a line on stdin and prints `key,hash` a line; in the key, `\\` is\n"
          "written `\\\\` and control bytes (NUL, tab, ...) \\xHH, so every key prints whole.\n"
          "  --algo crc32c       CRC32C (Castagnoli), 8 hex digits\n"
          "         murmur3_32   MurmurHash3 x86_32, 8 hex digits\n"
          "         murmur3_128  MurmurHash3 x64_128, 32 hex digits, low 64 bits first\n"
          "         flink-int    Flink's murmurHash of a Java int key (decimal keys)\n"
          "         java-string  Java String.hashCode of the UTF-8 key\n"
          "  --seed S            seed for the murmur3 hashes (default 0)\n",
          out);
}

int cli_hash(int argc, char **argv) {
    args_state a;
    args_init(&a, "hash", argc, argv);
    const char *algo = NULL;
    uint32_t seed = 0;
    int have_seed = 0, rc;
    while ((rc = args_next(&a)) != ARGS_END) {
        if (rc == ARGS_POSITIONAL)
            return args_fail(&a, "unexpected argument '%s'", args_current(&a)), 2;
        if (args_is(&a, "--help", "-h")) {
            usage(stdout);
            return 0;
        } else if (args_is(&a, "--algo", NULL)) {
            if (args_value(&a, &algo))
                return 2;
        } else if (args_is(&a, "--seed", NULL)) {
            if (args_value_u32_range(&a, &seed, 0, UINT32_MAX))
                return 2;
            have_seed = 1;
        } else {
            return args_unknown(&a), 2;
        }
    }
    int which = -1;
    for (int i = 0; algo && algos[i]; i++)
        if (strcmp(algo, algos[i]) == 0)
            which = i;
    if (which < 0) {
        fprintf(stderr,
                "shardsim hash: --algo: %s%s%s (one of crc32c, murmur3_32, murmur3_128, "
                "flink-int, java-string)\n",
                algo ? "unknown algorithm '" : "required", algo ? algo : "", algo ? "'" : "");
        return 2;
    }
    if (have_seed && which != 1 && which != 2) {
        fprintf(stderr, "shardsim hash: --seed: only the murmur3 hashes take a seed\n");
        return 2;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    unsigned long lineno = 0;
    while ((len = keys_next_line(stdin, &line, &cap)) >= 0) {
        lineno++;
        size_t n = (size_t)len;
        int32_t v = 0;
        if (which == 3 && (memchr(line, '\0', n) || args_parse_i32(line, &v))) {
            fprintf(stderr, "shardsim hash: stdin:%lu: not a 32-bit integer: '", lineno);
            keys_write_escaped(stderr, line, n, KEYS_ESCAPE_BACKSLASH | KEYS_ESCAPE_NON_UTF8);
            fputs("'\n", stderr);
            free(line);
            return 2;
        }
        /* the key in full, NUL bytes and all, escaped: `\` as `\\`, controls as \xHH */
        keys_write_escaped(stdout, line, n, KEYS_ESCAPE_BACKSLASH);
        switch (which) {
        case 0:
            printf(",%08" PRIx32 "\n", hash_crc32c(line, n));
            break;
        case 1:
            printf(",%08" PRIx32 "\n", hash_murmur3_32(line, n, seed));
            break;
        case 2: {
            uint64_t h[2];
            hash_murmur3_128(line, n, seed, h);
            printf(",%016" PRIx64 "%016" PRIx64 "\n", h[0], h[1]);
            break;
        }
        case 3:
            printf(",%" PRId32 "\n", hash_flink_int(v));
            break;
        default:
            printf(",%" PRId32 "\n", hash_java_string(line, n));
        }
    }
    free(line);
    return ferror(stdout) ? 1 : 0;
}
