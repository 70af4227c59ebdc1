/* report_page.h -- the index.html of a result folder; see report_page.c. */
#ifndef SHARDSIM_SIM_CLI_REPORT_PAGE_H
#define SHARDSIM_SIM_CLI_REPORT_PAGE_H

#include <stddef.h>

/* One run of the folder: its subfolder ("run-007"), the heading to show (what the run
 * was: scenario, config, swept values) and its status ("" = ok, else why it failed). */
typedef struct report_page_run {
    const char *folder, *title, *status;
} report_page_run;

/* Write dir/index.html (through a temporary file, renamed) from the files in dir and
 * its runs' folders. Returns 0, or -1 with errno set. */
int report_page_write(const char *dir, const char *title, const report_page_run *runs,
                      size_t run_count);

#endif
