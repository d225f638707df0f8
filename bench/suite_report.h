/* bench_suite's report (suite_report.c). */
#ifndef LK_BENCH_SUITE_REPORT_H
#define LK_BENCH_SUITE_REPORT_H

#include "suite.h"

/* Prints the Markdown tables; with out_dir, also writes quality.md, quality.tsv, pr.tsv and
 * character.tsv there; with floors, checks that file's minimums. Returns 0, 1 when a floor
 * was not met, -1 on an error (said on stderr). */
int suite_report(const suite *s, const char *out_dir, const char *floors);

#endif
