/* bench_suite's measures: recall at a false-positive rate, micro-average precision as the
 * ISC2021 image similarity benchmark defines it, recall at rank 1. */
#include "suite_metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int desc(const void *a, const void *b)
{
	const double x = *(const double *)a, y = *(const double *)b;
	return (x < y) - (x > y);
}

double metrics_threshold(const double *neg, size_t n, double rate)
{
	if (!n)
		return -INFINITY;
	double *c = malloc(sizeof(double) * n);
	if (!c)
		return INFINITY;
	memcpy(c, neg, sizeof(double) * n);
	qsort(c, n, sizeof(double), desc);
	const size_t allowed = (size_t)floor(rate * (double)n);
	/* Passing is reaching the threshold: just above the first negative that must not pass. */
	const double t = nextafter(c[allowed < n ? allowed : n - 1], INFINITY);
	free(c);
	return t;
}

static int by_score(const void *a, const void *b)
{
	const metrics_pred *x = a, *y = b;
	if (x->score != y->score)
		return (x->score < y->score) - (x->score > y->score);
	/* Among equal scores, wrong answers first: a tie is not credited to the method. */
	return (x->correct > y->correct) - (x->correct < y->correct);
}

double metrics_micro_ap(metrics_pred *p, size_t n, size_t positives, metrics_point *curve, int *n_curve,
			int max_curve)
{
	qsort(p, n, sizeof *p, by_score);
	double ap = 0;
	size_t tp = 0;
	int kept = 0;
	double last_recall = -1;
	for (size_t i = 0; i < n; i++) {
		if (!p[i].correct)
			continue;
		tp++;
		const double precision = (double)tp / (double)(i + 1), recall = (double)tp / (double)positives;
		ap += precision / (double)positives;
		/* The curve, thinned to steps of recall a plot can show. */
		if (curve && kept < max_curve && recall - last_recall >= 1.0 / max_curve) {
			curve[kept++] = (metrics_point){ recall, precision };
			last_recall = recall;
		}
	}
	if (n_curve)
		*n_curve = kept;
	return positives ? ap : 0;
}
