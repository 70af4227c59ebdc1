/* cli.h -- the shardsim subcommands. Each takes the arguments after its name
 * (argv[0] is the subcommand name) and returns the process exit code: 0 success,
 * 1 a run that failed its own checks, 2 bad input (after one line on stderr). */
#ifndef SHARDSIM_SIM_CLI_H
#define SHARDSIM_SIM_CLI_H

#include "core/partition.h"
#include "sim/cli/args.h"

int cli_hash(int argc, char **argv);
int cli_route(int argc, char **argv);
int cli_balance(int argc, char **argv);
int cli_run(int argc, char **argv);
int cli_check(int argc, char **argv);
int cli_lincheck(int argc, char **argv);
int cli_shrink(int argc, char **argv);
/* Only with the real ZooKeeper backend (SHARDSIM_HAVE_ZOOKEEPER); main.c says so otherwise. */
int cli_calibrate(int argc, char **argv);

/* The partitioner options `route` and `balance` share (--max-parallelism, --key-type,
 * --hash, --vnodes, --bound-c): returns 1 if the current flag was one of them, with
 * *rc = 0 or ARGS_ERROR; 0 otherwise. */
int cli_partitioner_option(args_state *a, part_config *cfg, int *key_int, int *rc);

/* Explain an unusable partitioner config on stderr (unknown scheme, parallelism above
 * the max parallelism, ...). Returns 0 or 2. */
int cli_check_partitioner(const char *cmd, const part_config *cfg);

#endif
