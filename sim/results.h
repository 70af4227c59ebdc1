/* results.h -- result folders that appear whole or not at all, and gnuplot.
 *
 * A command builds its output in a temporary folder beside the final one
 * (FINAL.partial-PID), then results_replace_dir renames it into place; on failure
 * results_remove_tree deletes it. So a crash, a bad input found late, or a full disk
 * never leaves a half-written result under the final name. */
#ifndef SHARDSIM_SIM_RESULTS_H
#define SHARDSIM_SIM_RESULTS_H

#include <stdio.h>

/* Where the gnuplot scripts (results/NAME.gp) and bench/scenarios live: $SHARDSIM_DATA_DIR, else
 * the source tree the binary was built from. */
const char *results_data_dir(void);

/* mkdir -p path; and of path's parent. 0, or -1 with errno set. */
int results_mkdir_p(const char *path);
int results_mkdir_parent(const char *path);

/* Every folder shardsim writes carries this file; it is how shardsim knows a folder
 * is its own, and it deletes or replaces nothing without it. */
#define RESULTS_MARK ".shardsim-result"

/* May a result be written to `final`? Yes (0) if nothing is there, or an empty folder,
 * or -- only with force -- an earlier shardsim result (a folder with RESULTS_MARK).
 * Anything else (a file, a link, a folder of other files) is refused: -1 with a
 * one-line reason in err ("is not empty and is not a shardsim result folder"). Call
 * it before any work. */
int results_check_out(const char *final, int force, char *err, size_t errlen);

/* Make a fresh temporary folder for `final` into tmp (FINAL.partial-PID), marked with
 * RESULTS_MARK, and remember it so that SIGINT, SIGTERM or SIGHUP delete it (see
 * results_guard_signals). Stale FINAL.partial-PID folders beside it whose process is
 * gone are deleted first. 0 or -1. */
int results_begin(const char *final, char *tmp, size_t size);

/* Replace `final` by `tmp`: rename tmp into place. What was at `final` goes only if it
 * is an empty folder or a shardsim result (RESULTS_MARK); anything else stays and the
 * call fails with EEXIST. 0, or -1 with errno set. */
int results_replace_dir(const char *tmp, const char *final);

/* The temporary folder of results_begin is abandoned: delete it (only if marked). */
void results_abort(const char *tmp);

/* Install handlers for SIGINT, SIGTERM and SIGHUP that kill the worker processes
 * registered with results_track_child, delete the temporary folder of the current
 * results_begin, and then die of the signal as if unhandled. Idempotent. */
void results_guard_signals(void);
/* A worker process whose writes go into the temporary folder (0: forget them all). */
void results_track_child(long pid);

/* rm -rf path. 0 or -1. */
int results_remove_tree(const char *path);

/* Point dir/latest at final (a relative link, replaced atomically). 0 or -1. */
int results_link_latest(const char *dir, const char *final);

/* Append the whole file at path to out. 0 or -1. */
int results_copy_file_to(const char *path, FILE *out);

/* Run gnuplot on results/<script> from results_data_dir() with `-e vars`, its output
 * discarded, killed after 60 s. 0 on success; -1 if gnuplot is missing (a warning is
 * printed), failed or timed out. */
int results_gnuplot(const char *script, const char *vars);

#endif
