/* bench_suite's measures (suite_metrics.c). Scores are "higher is more similar". */
#ifndef LK_BENCH_SUITE_METRICS_H
#define LK_BENCH_SUITE_METRICS_H

#include <stddef.h>

/* The score a query must reach so that at most `rate` of the negatives' best scores do. */
double metrics_threshold(const double *neg, size_t n, double rate);

typedef struct metrics_pred {
	double score;
	int correct; /* the query is a copy of the predicted reference */
} metrics_pred;

typedef struct metrics_point {
	double recall, precision;
} metrics_point;

/* Micro-average precision over (query, reference, score) predictions from all queries at
 * once, ranked by score: the area under the precision-recall curve, recall counted against
 * `positives` (queries that have a reference, found or not). Sorts p. Fills up to max_curve
 * points of the curve into curve (may be NULL). */
double metrics_micro_ap(metrics_pred *p, size_t n, size_t positives, metrics_point *curve, int *n_curve,
			int max_curve);

#endif
