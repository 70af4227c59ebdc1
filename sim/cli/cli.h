/* cli.h -- the shardsim subcommands. Each takes the arguments after its name
 * (argv[0] is the subcommand name) and returns the process exit code: 0 success,
 * 1 a run that failed its own checks, 2 bad input (after one line on stderr). */
#ifndef SHARDSIM_SIM_CLI_H
#define SHARDSIM_SIM_CLI_H

int cli_hash(int argc, char **argv);
int cli_route(int argc, char **argv);
int cli_balance(int argc, char **argv);

#endif
