/* bench_identity: calibrating each character at the operator's false-positive rate
 * (lk_registry_calibrate_characters), at each strength of the per-character term.
 *
 * The operator calibrates the registry it runs on its own unrelated pictures. Here:
 * - validation chooses the strength: the validation registry is calibrated on half of the
 *   validation split's negatives (by character, so no character is on both sides) and measured
 *   on the other half;
 * - the test registry is calibrated on all of the validation split's negatives at 1% and
 *   measured on the test split: the false-positive share that calibration lands on, its recall,
 *   and the recall at exactly 1% and 0.1% of the test negatives, for the per-character scale
 *   (each query's score is its excess over the named character's threshold). */
#include "identity_eval.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define N_STRENGTHS 5
static const float strengths[N_STRENGTHS] = { 0, 0.25f, 0.5f, 0.75f, 1.0f };

/* Negative i's half: by its character, or by the picture for an empty scene. */
static int half_of(const query_set *neg, int i, const id_track *t)
{
	const id_image *im = neg->image[i];
	return im->character >= 0 ? im->character % 2 : (int)(im - t->images) % 2;
}

/* The embeddings of `neg` (of one half, or all when half < 0) as one array. */
static lk_embedding *gather(size_t *n, const query_set *neg, const id_track *t, int half)
{
	const size_t cap = neg->n > 0 ? (size_t)neg->n : 1;
	lk_embedding *v = malloc(sizeof *v * cap);
	*n = 0;
	for (int i = 0; v && i < neg->n; i++)
		if (half < 0 || half_of(neg, i, t) == half)
			v[(*n)++] = *neg->emb[i];
	return v;
}

/* Scores a set through the library: the named character, and the score on the registry's scale
 * (the excess over that character's threshold, plus the registry's). */
static int score_set(query_set *q, lk_registry *reg, const id_track *t, float base)
{
	for (int i = 0; i < q->n; i++) {
		lk_character_decision d;
		if (lk_registry_character_score(&d, reg, q->emb[i]) != LK_OK)
			return -1;
		scored *s = &q->s[i];
		s->score[NORM_NONE][AGG_NEAREST] = -INFINITY;
		s->top_of[NORM_NONE][AGG_NEAREST] = -1;
		if (d.character[0]) {
			s->score[NORM_NONE][AGG_NEAREST] = d.score - d.threshold + base;
			s->top_of[NORM_NONE][AGG_NEAREST] = id_character_of(d.character, t);
		}
	}
	return 0;
}

/* The negatives of one half (or all, half < 0), as a set of their own. */
static int half_set(query_set *out, const query_set *neg, const id_track *t, int half)
{
	*out = (query_set){ 0 };
	for (int i = 0; i < neg->n; i++)
		if ((half < 0 || half_of(neg, i, t) == half) &&
		    id_add_query(out, neg->emb[i], neg->image[i], -1, -1))
			return -1;
	return 0;
}

static int share(const query_set *q, float threshold, int need_right)
{
	int n = 0;
	for (int i = 0; i < q->n; i++)
		n += q->s[i].score[NORM_NONE][AGG_NEAREST] >= threshold &&
		     (!need_right || q->s[i].top_of[NORM_NONE][AGG_NEAREST] == q->s[i].truth);
	return n;
}

struct outcome {
	float threshold;
	size_t flagged, calibration_negatives;
	double fp, recall[FORMS];  /* at the calibrated threshold */
	result at[FORMS];          /* at 1% and 0.1% of the measured negatives */
};

/* Calibrates `reg` on `cal` at 1% with strength s, then scores queries and negatives. */
static int calibrate_and_measure(struct outcome *o, lk_registry *reg, const lk_embedding *cal, size_t n_cal,
				 query_set q[FORMS], query_set *neg, const id_track *t, float s)
{
	memset(o, 0, sizeof *o);
	if (lk_registry_calibrate_characters(&o->threshold, &o->flagged, reg, cal, n_cal, 0.01, s) != LK_OK) {
		fprintf(stderr, "bench_identity: calibration: %s\n", lk_error_detail());
		return -1;
	}
	o->calibration_negatives = n_cal;
	if (score_set(neg, reg, t, o->threshold))
		return -1;
	o->fp = neg->n ? (double)share(neg, o->threshold, 0) / neg->n : 0;
	for (int f = 0; f < FORMS; f++) {
		if (score_set(&q[f], reg, t, o->threshold))
			return -1;
		o->recall[f] = q[f].n ? (double)share(&q[f], o->threshold, 1) / q[f].n : 0;
		o->at[f] = id_measure(&q[f], neg, t, NORM_NONE, AGG_NEAREST, 0);
	}
	return 0;
}

/* The validation registry at k, calibrated on one half of its negatives and measured on the
 * other, at every strength: recall at 1% on white into val_recall[s]. */
static int validate(double val_recall[N_STRENGTHS], const id_track *t, int k, lk_embedder *e)
{
	char dir[] = "/tmp/likeness-calibration-XXXXXX";
	lk_registry *reg;
	if (id_registry_open(&reg, dir, t, SPLIT_VAL, k, e))
		return -1;
	query_set q[FORMS] = { { 0 } }, neg = { 0 }, measured = { 0 };
	size_t n_cal = 0;
	lk_embedding *cal = NULL;
	int rc = id_collect(q, &neg, t, SPLIT_VAL, k);
	if (!rc)
		rc = half_set(&measured, &neg, t, 1);
	if (!rc && !(cal = gather(&n_cal, &neg, t, 0)))
		rc = -1;
	for (int s = 0; !rc && s < N_STRENGTHS; s++) {
		struct outcome o;
		rc = calibrate_and_measure(&o, reg, cal, n_cal, q, &measured, t, strengths[s]);
		val_recall[s] = o.at[FORM_PLAIN].recall1;
	}
	free(cal);
	for (int f = 0; f < FORMS; f++)
		id_query_set_free(&q[f]);
	id_query_set_free(&neg);
	id_query_set_free(&measured);
	id_registry_remove(reg, dir);
	return rc;
}

/* The test registry at k, calibrated on the validation split's negatives at every strength. */
static int test_run(struct outcome o[N_STRENGTHS], const id_track *t, int k, lk_embedder *e)
{
	char dir[] = "/tmp/likeness-calibration-XXXXXX";
	lk_registry *reg;
	if (id_registry_open(&reg, dir, t, SPLIT_TEST, k, e))
		return -1;
	query_set q[FORMS] = { { 0 } }, neg = { 0 }, vq[FORMS] = { { 0 } }, vneg = { 0 };
	size_t n_cal = 0;
	lk_embedding *cal = NULL;
	int rc = id_collect(q, &neg, t, SPLIT_TEST, k);
	if (!rc)
		rc = id_collect(vq, &vneg, t, SPLIT_VAL, k);
	if (!rc && !(cal = gather(&n_cal, &vneg, t, -1)))
		rc = -1;
	for (int s = 0; !rc && s < N_STRENGTHS; s++)
		rc = calibrate_and_measure(&o[s], reg, cal, n_cal, q, &neg, t, strengths[s]);
	free(cal);
	for (int f = 0; f < FORMS; f++) {
		id_query_set_free(&q[f]);
		id_query_set_free(&vq[f]);
	}
	id_query_set_free(&neg);
	id_query_set_free(&vneg);
	id_registry_remove(reg, dir);
	return rc;
}

int id_calibration(const id_track *t, lk_embedder *e, FILE *md)
{
	double val[3][N_STRENGTHS] = { { 0 } }, mean[N_STRENGTHS] = { 0 };
	for (int ki = 0; ki < t->n_ks; ki++) {
		if (validate(val[ki], t, t->ks[ki], e))
			return -1;
		for (int s = 0; s < N_STRENGTHS; s++)
			mean[s] += val[ki][s] / t->n_ks;
	}
	int chosen = 0;
	for (int s = 1; s < N_STRENGTHS; s++)
		if (mean[s] > mean[chosen] + 1e-9)
			chosen = s;
	fprintf(md, "#### %s track: each character calibrated at the operator's rate (lk_registry_calibrate_characters)\n\n",
		t->name);
	fprintf(md, "The registry is calibrated at 1%% on unrelated pictures the operator has (here the validation "
		    "split's negatives: the unregistered franchises' pictures, both forms, and empty scenes). Strength s "
		    "holds each character to s times how far its %d highest calibration scores lie from the median "
		    "character's; 0 is one threshold for all. Validation (its registry calibrated on half of its "
		    "negatives, by character, and measured on the other half) chose **s = %.2f** by recall at 1%% on "
		    "white, mean over k (the default, LK_CHARACTER_PER_CHARACTER, is %.2f: the identity track's choice). Test: the test registry calibrated on "
		    "all the validation split's negatives.\n\n",
		LK_CHARACTER_CALIBRATION_TAIL, (double)strengths[chosen], (double)LK_CHARACTER_PER_CHARACTER);
	fprintf(md, "| k | s | validation: recall at 1%% | test: calibrated threshold | its test FP | its recall on white | in a "
		    "scene | recall at 1%% test FP | at 0.1%% | franchise at 1%% | wrong franchise at 1%% |\n");
	fprintf(md, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
	for (int ki = 0; ki < t->n_ks; ki++) {
		struct outcome o[N_STRENGTHS];
		if (test_run(o, t, t->ks[ki], e))
			return -1;
		for (int s = 0; s < N_STRENGTHS; s++) {
			const result *w = &o[s].at[FORM_PLAIN];
			fprintf(md, "| %d | %s%.2f%s | %.1f%% | %.3f (%zu of %zu flagged) | %.2f%% | %.1f%% | %.1f%% | %.1f%% | "
				    "%.1f%% | %.1f%% | %.1f%% |\n",
				t->ks[ki], s == chosen ? "**" : "", (double)strengths[s], s == chosen ? "**" : "",
				100 * val[ki][s], (double)o[s].threshold, o[s].flagged, o[s].calibration_negatives,
				100 * o[s].fp, 100 * o[s].recall[FORM_PLAIN], 100 * o[s].recall[FORM_SCENE], 100 * w->recall1,
				100 * w->recall01, 100 * w->franchise1, 100 * w->wrong_franchise1);
		}
	}
	fprintf(md, "\n");
	return 0;
}
