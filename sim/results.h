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

/* Make a fresh temporary folder for `final` into tmp (FINAL.partial-PID). 0 or -1. */
int results_begin(const char *final, char *tmp, size_t size);

/* Replace `final` (if it exists) by `tmp`: rename tmp into place, then delete the old
 * folder. 0, or -1 with errno set. */
int results_replace_dir(const char *tmp, const char *final);

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
