/* bench_suite's report: the Markdown tables, the TSV files the plots are drawn from, and the
 * floors a small run in CI must stay above. */
#include "suite_report.h"
#include "suite_metrics.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ALL_COPIES EDIT_COUNT /* the row of every copy */
#define CURVE_POINTS 200

typedef struct row {
	size_t n;
	double r1, r01, ap; /* recall at 1% and 0.1% false positives, micro-AP */
} row;

struct results {
	row copy[SUITE_MAX_METHODS][EDIT_COUNT + 1];
	size_t other_n;
	double other_r1[SUITE_MAX_METHODS], other_at1[SUITE_MAX_METHODS];
	double t1[SUITE_MAX_METHODS], t01[SUITE_MAX_METHODS];
	size_t n_neg;
	/* likeness at its shipped thresholds (review or block) */
	row dflt[EDIT_COUNT + 1];
	double dflt_fp, dflt_other;
	metrics_point curve[SUITE_MAX_METHODS][CURVE_POINTS];
	int n_curve[SUITE_MAX_METHODS];
};

static const char *edit_label(int e)
{
	return e == ALL_COPIES ? "all copies" : bench_edit_name((bench_edit)e);
}

/* Micro-AP of method m over the copies of edit e (all edits for ALL_COPIES) and every
 * negative, each contributing its top candidates. */
static double average_precision(const suite *s, int m, int e, metrics_point *curve, int *n_curve)
{
	metrics_pred *p = malloc(sizeof *p * s->n_items * SUITE_TOP);
	size_t n = 0, positives = 0;
	if (!p)
		return NAN;
	for (size_t i = 0; i < s->n_items; i++) {
		const item *it = &s->items[i];
		const int counted = it->kind == ITEM_NEGATIVE || (it->kind == ITEM_COPY && (e == ALL_COPIES || it->edit == e));
		if (!counted)
			continue;
		positives += it->kind == ITEM_COPY;
		for (int k = 0; it->ok && k < SUITE_TOP && it->top[m][k].ref >= 0; k++)
			if (it->top[m][k].score > SUITE_NO_SCORE)
				p[n++] = (metrics_pred){ it->top[m][k].score, it->top[m][k].ref == it->character };
	}
	const double ap = metrics_micro_ap(p, n, positives, curve, n_curve, CURVE_POINTS);
	free(p);
	return ap;
}

static int passes_default(double pdq, double emb)
{
	return pdq >= 256 - LK_DEFAULT_REVIEW_THRESHOLD || emb >= LK_DEFAULT_EMBED_SIMILAR;
}

static void measure(const suite *s, struct results *r)
{
	double *neg = malloc(sizeof(double) * s->n_items);
	memset(r, 0, sizeof *r);
	size_t dflt_fp = 0;
	for (size_t i = 0; i < s->n_items; i++)
		if (s->items[i].ok && s->items[i].kind == ITEM_NEGATIVE) {
			r->n_neg++;
			dflt_fp += (size_t)passes_default(s->items[i].best[M_PDQ], s->items[i].best[M_EMB]);
		}
	r->dflt_fp = r->n_neg ? (double)dflt_fp / (double)r->n_neg : 0;
	for (int m = 0; m < s->n_methods; m++) {
		size_t n = 0;
		for (size_t i = 0; i < s->n_items; i++)
			if (s->items[i].ok && s->items[i].kind == ITEM_NEGATIVE)
				neg[n++] = s->items[i].best[m];
		r->t1[m] = metrics_threshold(neg, n, 0.01);
		r->t01[m] = metrics_threshold(neg, n, 0.001);
	}
	free(neg);
	size_t other_hits = 0;
	for (size_t i = 0; i < s->n_items; i++) {
		const item *it = &s->items[i];
		if (it->kind == ITEM_OTHER) {
			/* A copy that failed to be made counts as missed by every method. */
			r->other_n++;
			for (int m = 0; it->ok && m < s->n_methods; m++) {
				r->other_r1[m] += it->own[m] >= r->t1[m];
				r->other_at1[m] += it->best_ref[m] == it->character && it->best[m] > SUITE_NO_SCORE;
			}
			other_hits += it->ok && (size_t)passes_default(it->own[M_PDQ], it->own[M_EMB]);
			continue;
		}
		if (it->kind != ITEM_COPY)
			continue;
		const int rows[2] = { it->edit, ALL_COPIES };
		for (int k = 0; k < 2; k++) {
			for (int m = 0; m < s->n_methods; m++) {
				row *x = &r->copy[m][rows[k]];
				x->n++;
				x->r1 += it->ok && it->own[m] >= r->t1[m];
				x->r01 += it->ok && it->own[m] >= r->t01[m];
			}
			r->dflt[rows[k]].n++;
			r->dflt[rows[k]].r1 += it->ok && passes_default(it->own[M_PDQ], it->own[M_EMB]);
		}
	}
	r->dflt_other = r->other_n ? (double)other_hits / (double)r->other_n : 0;
	for (int m = 0; m < s->n_methods; m++) {
		r->other_r1[m] /= r->other_n ? (double)r->other_n : 1;
		r->other_at1[m] /= r->other_n ? (double)r->other_n : 1;
		for (int e = 0; e <= ALL_COPIES; e++) {
			row *x = &r->copy[m][e];
			x->r1 /= x->n ? (double)x->n : 1;
			x->r01 /= x->n ? (double)x->n : 1;
			x->ap = average_precision(s, m, e, e == ALL_COPIES ? r->curve[m] : NULL,
						  e == ALL_COPIES ? &r->n_curve[m] : NULL);
		}
	}
	for (int e = 0; e <= ALL_COPIES; e++)
		r->dflt[e].r1 /= r->dflt[e].n ? (double)r->dflt[e].n : 1;
}

static FILE *open_in(const char *dir, const char *name)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	if (!f)
		perror(path);
	return f;
}

static int write_tsv(const suite *s, const struct results *r, const char *dir)
{
	FILE *q = open_in(dir, "quality.tsv"), *pr = open_in(dir, "pr.tsv"), *ch = open_in(dir, "character.tsv");
	int rc = q && pr && ch ? 0 : -1;
	if (!rc) {
		fprintf(q, "method\tedit\tqueries\trecall_1pct\trecall_01pct\tap\n");
		fprintf(pr, "method\trecall\tprecision\n");
		fprintf(ch, "method\tqueries\trecall_at_1\trecall_1pct\n");
		for (int m = 0; m < s->n_methods; m++) {
			for (int e = 0; e <= ALL_COPIES; e++) {
				const row *x = &r->copy[m][e];
				fprintf(q, "%s\t%s\t%zu\t%.4f\t%.4f\t%.4f\n", suite_method_name(s, m), edit_label(e), x->n, x->r1,
					x->r01, x->ap);
			}
			for (int k = 0; k < r->n_curve[m]; k++)
				fprintf(pr, "%s\t%.4f\t%.4f\n", suite_method_name(s, m), r->curve[m][k].recall,
					r->curve[m][k].precision);
			fprintf(ch, "%s\t%zu\t%.4f\t%.4f\n", suite_method_name(s, m), r->other_n, r->other_at1[m], r->other_r1[m]);
		}
	}
	if (q && fclose(q))
		rc = -1;
	if (pr && fclose(pr))
		rc = -1;
	if (ch && fclose(ch))
		rc = -1;
	return rc;
}

/* Measure `which` of a row: 0 recall at 1%, 1 recall at 0.1%, 2 micro-AP. */
static double measure_of(const row *x, int which)
{
	return which == 0 ? x->r1 : which == 1 ? x->r01 : x->ap;
}

/* One table: a row per edit, a column per method, the best of each row in bold. */
static void table(FILE *f, const suite *s, const struct results *r, int which)
{
	fprintf(f, "| edit | copies |");
	for (int m = 0; m < s->n_methods; m++)
		fprintf(f, " %s |", suite_method_name(s, m));
	fprintf(f, "\n|---|---:|");
	for (int m = 0; m < s->n_methods; m++)
		fprintf(f, "---:|");
	fprintf(f, "\n");
	for (int e = 0; e <= ALL_COPIES; e++) {
		double best = -1;
		for (int m = 0; m < s->n_methods; m++) {
			const double v = measure_of(&r->copy[m][e], which);
			best = v > best ? v : best;
		}
		fprintf(f, e == ALL_COPIES ? "| **%s** | %zu |" : "| %s | %zu |", edit_label(e), r->copy[0][e].n);
		for (int m = 0; m < s->n_methods; m++) {
			const double v = measure_of(&r->copy[m][e], which);
			fprintf(f, v == best ? " **%.1f%%** |" : " %.1f%% |", 100 * v);
		}
		fprintf(f, "\n");
	}
	fprintf(f, "\n");
}

static void markdown(FILE *f, const suite *s, const struct results *r)
{
	fprintf(f, "### Recall at 1%% false positives\n\n");
	table(f, s, r, 0);
	fprintf(f, "### Recall at 0.1%% false positives\n\n");
	table(f, s, r, 1);
	fprintf(f, "### Micro-average precision (each edit's copies with every negative)\n\n");
	table(f, s, r, 2);
	fprintf(f, "### Character track: the same character drawn by another vendor (%zu drawings)\n\n", r->other_n);
	fprintf(f, "| method | recall@1 | recall at 1%% false positives |\n|---|---:|---:|\n");
	for (int m = 0; m < s->n_methods; m++)
		fprintf(f, "| %s | %.1f%% | %.1f%% |\n", suite_method_name(s, m), 100 * r->other_at1[m], 100 * r->other_r1[m]);
	fprintf(f, "\n### likeness at its shipped thresholds (review or block: PDQ distance <= %d or embedding "
		   "similarity >= %.2f)\n\n",
		LK_DEFAULT_REVIEW_THRESHOLD, (double)LK_DEFAULT_EMBED_SIMILAR);
	fprintf(f, "False positives: %.2f%% of %zu negatives. Other vendors' drawings flagged: %.1f%%.\n\n", 100 * r->dflt_fp,
		r->n_neg, 100 * r->dflt_other);
	fprintf(f, "| edit | copies | flagged |\n|---|---:|---:|\n");
	for (int e = 0; e <= ALL_COPIES; e++)
		fprintf(f, "| %s | %zu | %.1f%% |\n", edit_label(e), r->dflt[e].n, 100 * r->dflt[e].r1);
	fprintf(f, "\n### Where a peer beats likeness fused\n\n");
	int any = 0;
	for (int e = 0; e <= ALL_COPIES; e++)
		for (int m = M_PEERS; m < s->n_methods; m++)
			for (int which = 0; which < 2; which++) {
				const double peer = which ? r->copy[m][e].r01 : r->copy[m][e].r1;
				const double ours = which ? r->copy[M_FUSED][e].r01 : r->copy[M_FUSED][e].r1;
				if (peer > ours) {
					fprintf(f, "- %s, at %s false positives: %s %.1f%% against %.1f%%\n", edit_label(e),
						which ? "0.1%" : "1%", suite_method_name(s, m), 100 * peer, 100 * ours);
					any = 1;
				}
			}
	if (!any)
		fprintf(f, "None: on every edit, at 1%% and 0.1%%, likeness fused recalls at least as much as each peer.\n");
	fprintf(f, "\n");
}

/* Floors: lines of "method<TAB>edit<TAB>metric<TAB>minimum", metric recall_1pct, ap or
 * recall_at_1 (edit "-"); '#' starts a comment. Returns how many were not met (-1: bad file). */
static int check_floors(const suite *s, const struct results *r, const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		perror(path);
		return -1;
	}
	char line[512];
	int failed = 0, lineno = 0, checked = 0;
	while (fgets(line, sizeof line, f)) {
		lineno++;
		if (line[0] == '#' || line[0] == '\n')
			continue;
		char method[128], edit[128], metric[64];
		double floor_value;
		if (sscanf(line, "%127[^\t]\t%127[^\t]\t%63[^\t]\t%lf", method, edit, metric, &floor_value) != 4) {
			fprintf(stderr, "bench_suite: %s:%d: want method, edit, metric, minimum (tab-separated)\n", path, lineno);
			fclose(f);
			return -1;
		}
		int m = -1, e = -1;
		for (int k = 0; k < s->n_methods; k++)
			if (!strcmp(method, suite_method_name(s, k)))
				m = k;
		for (int k = 0; k <= ALL_COPIES; k++)
			if (!strcmp(edit, edit_label(k)))
				e = k;
		double value = NAN;
		if (m >= 0 && !strcmp(metric, "recall_at_1"))
			value = r->other_at1[m];
		else if (m >= 0 && e >= 0 && !strcmp(metric, "recall_1pct"))
			value = r->copy[m][e].r1;
		else if (m >= 0 && e >= 0 && !strcmp(metric, "ap"))
			value = r->copy[m][e].ap;
		if (isnan(value)) {
			fprintf(stderr, "bench_suite: %s:%d: no measure '%s' of '%s' on '%s' in this run\n", path, lineno, metric,
				method, edit);
			fclose(f);
			return -1;
		}
		checked++;
		const int ok = value >= floor_value;
		failed += !ok;
		printf("floor %s: %s, %s, %s = %.4f (minimum %.4f)\n", ok ? "met" : "NOT MET", method, edit, metric, value,
		       floor_value);
	}
	fclose(f);
	return checked ? failed : -1;
}

int suite_report(const suite *s, const char *out_dir, const char *floors)
{
	struct results *r = malloc(sizeof *r);
	if (!r)
		return -1;
	measure(s, r);
	markdown(stdout, s, r);
	int rc = 0;
	if (out_dir) {
		FILE *md = open_in(out_dir, "quality.md");
		if (md) {
			markdown(md, s, r);
			rc = fclose(md) ? -1 : 0;
		} else
			rc = -1;
		if (write_tsv(s, r, out_dir))
			rc = -1;
	}
	if (!rc && floors) {
		const int failed = check_floors(s, r, floors);
		if (failed)
			rc = failed < 0 ? -1 : 1;
	}
	free(r);
	return rc;
}
