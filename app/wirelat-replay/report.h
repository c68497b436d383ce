/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WR_REPORT_H
#define WR_REPORT_H

#include "replay.h"

/**
 * Print the result of a run on stdout and, when json_path is set, write
 * it as JSON (docs/replay.md names every field).
 * @return 0, or -errno when the JSON file cannot be written.
 */
int wr_report(const struct wr_run *r, const struct wr_file *files,
	unsigned int n_files, const char *json_path);

#endif /* WR_REPORT_H */
