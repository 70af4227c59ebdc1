/* report.h -- the files one simulation run leaves in its folder, and its row in
 * runs.csv. Everything is formatted with fixed precision so that the same run gives
 * the same bytes with any compiler or optimisation level.
 *
 * Files written into a run folder (see results/run.gp for the plots made of them):
 *   timeseries.csv  t_s,records_in,records_done,backlog,p50_ms,p90_ms,p99_ms,p999_ms,max_ms,down
 *   subtasks.csv    subtask,worker,keys,records,state_bytes
 *   latency.csv     lo_ns,hi_ns,count,cumulative_fraction   (histogram buckets)
 *   coordination.csv  op,count,p50_ms,p99_ms,max_ms (per operation type; with a coordination
 * service) failovers.csv   kind,target,fault_s,detected_s,restarted_s,restored_s,caught_up_s,
 *                   detection_s,downtime_s,bytes_restored,records_replayed,checkpoint_id
 */
#ifndef SHARDSIM_SIM_REPORT_H
#define SHARDSIM_SIM_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sim/sim.h"

/* Write the four CSV files of run r into dir, which must exist. dir is expected to lie
 * inside a result folder that is still being built under a temporary name (the
 * folder, not each file, is what appears atomically). Returns 0, or SS_EIO. */
int report_write_run(const char *dir, const sim_result *r);

/* The runs.csv header for the given swept parameter names, then one row per run:
 * run,repeat,<params...>,seed,<figures...>,status,reason,exactly_once (fields quoted
 * per RFC 4180, sim/csv.h). r holds the run's figures (those up to the failure, for a
 * run that failed) or is NULL when the run produced none: its figure fields are empty.
 * reason is NULL for a run that succeeded (status ok), else why it failed (status
 * failed). exactly_once is ok or FAILED when the check ran, else empty. */
void report_runs_header(FILE *out, char *const *param_names, size_t param_count);
void report_runs_row(FILE *out, uint32_t run, uint32_t repeat, char *const *param_values,
                     size_t param_count, uint64_t seed, const sim_result *r, const char *reason);

/* The failures of a run: its failovers but the rescales, which are planned stops (the
 * `failures` column of runs.csv). */
size_t report_failures(const sim_result *r);

/* One human line: "run 3 N=8: 600000 records, p99 2.10 ms, ...". */
void report_summary_line(FILE *out, uint32_t run, char *const *param_names,
                         char *const *param_values, size_t param_count, const sim_result *r);

/* Downtime of a failover: from the fault until processing resumed. */
uint64_t report_downtime_ns(const sim_failover *f);

#endif
