/* main.c -- the shardsim command: dispatch to one subcommand per file in sim/cli/. */
#include <stdio.h>
#include <string.h>

#include "sim/cli/cli.h"
#include "sim/version.h"

#ifndef SHARDSIM_HAVE_ZOOKEEPER
/* Without the real backend the subcommand exists only to say so. */
int cli_calibrate(int argc, char **argv) {
    (void)argc, (void)argv;
    fputs("shardsim calibrate: this shardsim was built without the real ZooKeeper backend "
          "(configure with SHARDSIM_ZOOKEEPER=ON and libzookeeper-mt-dev)\n",
          stderr);
    return 2;
}
#endif

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"hash", cli_hash, "hash keys read from stdin (CRC32C, MurmurHash3, Java/Flink)"},
    {"route", cli_route, "route keys read from stdin to key groups and subtasks"},
    {"balance", cli_balance, "compare partitioners' balance and movement on a key set"},
    {"run", cli_run, "run a scenario's simulations and write results and plots"},
    {"check", cli_check, "run a failure-injection campaign over a range of seeds"},
    {"lincheck", cli_lincheck, "check a coordination history (JSON Lines) for linearizability"},
    {"shrink", cli_shrink, "shrink a failing seed's fault schedule to a scenario file"},
    {"calibrate", cli_calibrate, "measure a live ZooKeeper and write a latency profile"},
};

static void usage(FILE *out) {
    fprintf(out, "usage: shardsim COMMAND [OPTIONS]   (shardsim COMMAND --help for more)\n\n"
                 "commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-9s %s\n", commands[i].name, commands[i].summary);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("shardsim %s\n", sim_version());
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "shardsim: unknown command '%s' (try shardsim --help)\n", argv[1]);
    return 2;
}
