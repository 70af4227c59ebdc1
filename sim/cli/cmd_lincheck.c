/* cmd_lincheck.c -- `shardsim lincheck HISTORY`: check a recorded coordination history
 * (backends/history.h, JSON Lines) for linearizability (backends/lincheck.h). */
#include <stdio.h>

#include "backends/history.h"
#include "backends/lincheck.h"
#include "core/error.h"
#include "sim/cli/args.h"
#include "sim/cli/cli.h"
#include "sim/env_real.h"

static void usage(FILE *out) {
    fputs("usage: shardsim lincheck [--max-steps N] HISTORY.jsonl\n\n"
          "Checks a coordination history (as `run --set history=1` writes in\n"
          "run-NNN/coordination.jsonl) against ZooKeeper's guarantees: linearizable writes,\n"
          "sequentially consistent reads (linearizable after sync), growing sequence numbers,\n"
          "ephemerals gone with their session, watch events before the replies they explain.\n"
          "Prints ok, the violation (the smallest offending sub-history) or unknown, and the\n"
          "operations checked per second. Exit 0 ok, 1 violation, 2 bad input, 3 unknown.\n"
          "  --max-steps N   search steps a partition may take (default 2000000)\n",
          out);
}

static int report(const char *path, const lincheck_result *r, uint64_t elapsed_ns) {
    double s = (double)elapsed_ns / 1e9;
    double rate = s > 0 ? (double)r->ops / s : 0.0;
    printf("%s: %s", path, lincheck_verdict_name(r->verdict));
    if (r->verdict != LINCHECK_OK)
        printf(": %s", r->detail);
    printf("\n%llu operations in %llu partitions, %llu search steps, %.3f s, %.0f ops/s\n",
           (unsigned long long)r->ops, (unsigned long long)r->partitions,
           (unsigned long long)r->steps, s, rate);
    return r->verdict == LINCHECK_OK ? 0 : r->verdict == LINCHECK_VIOLATION ? 1 : 3;
}

int cli_lincheck(int argc, char **argv) {
    args_state a;
    args_init(&a, "lincheck", argc, argv);
    const char *path = NULL;
    lincheck_options opt = {0};
    int rc;
    while ((rc = args_next(&a)) != ARGS_END) {
        if (rc == ARGS_POSITIONAL) {
            if (path)
                return args_fail(&a, "a second history '%s' (one per call)", args_current(&a)), 2;
            path = args_current(&a);
        } else if (args_is(&a, "--help", "-h")) {
            usage(stdout);
            return 0;
        } else if (args_is(&a, "--max-steps", NULL)) {
            if (args_value_u64(&a, &opt.max_steps) != 0)
                return 2;
        } else {
            return args_unknown(&a), 2;
        }
    }
    if (!path) {
        usage(stderr);
        return 2;
    }
    char err[512];
    coord_history *h;
    if (coord_history_read(path, &h, err, sizeof err) != 0) {
        fprintf(stderr, "shardsim lincheck: %s\n", err);
        return 2;
    }
    uint64_t start = env_real_monotonic_ns();
    lincheck_result r;
    rc = lincheck_run(h, &opt, &r);
    uint64_t elapsed = env_real_monotonic_ns() - start;
    coord_history_free(h);
    if (rc != 0) {
        fprintf(stderr, "shardsim lincheck: %s\n", ss_strerror(rc));
        return 2;
    }
    return report(path, &r, elapsed);
}
