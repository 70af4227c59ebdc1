/* sweep_figs.h -- the data behind a sweep's figures; see sweep_figs.c. */
#ifndef SHARDSIM_SIM_CLI_SWEEP_FIGS_H
#define SHARDSIM_SIM_CLI_SWEEP_FIGS_H

#include "sim/scenario.h"

/* dir/sweep_downtime.csv and dir/sweep_downtime_plot.csv. Returns 0 and the number of
 * series in *series, 1 when no run of the sweep had a failover (nothing written: no
 * zero-filled plot), -1 on an I/O error. */
int sweep_write_downtime(const scenario *s, const char *dir, int *series);

/* dir/sweep_plot.csv: per value of the first swept parameter (x, in order of
 * appearance), and per value of the second (the series), the median over the cell's
 * runs of p99_ms and records_max_mean. *series gets the number of series, *categorical
 * 1 when some x value is not a number (the plot then draws bars). 0 or -1. */
int sweep_write_plot(const scenario *s, const char *dir, int *series, int *categorical);

#endif
