/* Calibrating the character model on the operator's own unrelated pictures: one threshold that
 * flags at most the operator's share of them, and each character held to it in proportion to
 * how close unrelated pictures come to that character in particular (likeness.h,
 * lk_registry_calibrate_characters). */
#include "index/registry/registry.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* How many of a character's highest negative scores say how generic it looks. */
#define TAIL LK_CHARACTER_CALIBRATION_TAIL

struct calibration {
	struct snapshot *snap;
	const lk_embedding *negatives;
	size_t n;
	float *tail;    /* per character, its TAIL highest negative scores, highest first */
	int *tail_n;
	float lowest;   /* the lowest score any negative gave any character */
	float *offset;  /* per character: its threshold less the registry's */
	float *excess;  /* per negative: its best score less that character's offset, over the
	                   characters the calibration sets; INFINITY when a character with a
	                   threshold of its own flags it whatever the calibration sets */
};

/* The scores of one negative for every character near it. */
static int score_negative(struct character_score *out, int *n, const struct calibration *c, size_t i)
{
	struct emb_hits hits = { 0 };
	const int found = lk__emb_search(c->snap->emb, &c->negatives[i], LK_EMB_HITS, hits.sim, hits.refs);
	if (found < 0)
		return found;
	hits.n = found;
	return lk__character_scores(out, n, c->snap, &c->negatives[i], &hits);
}

static void keep_tail(struct calibration *c, uint32_t ch, float score)
{
	float *t = c->tail + (size_t)ch * TAIL;
	int *n = &c->tail_n[ch];
	if (*n == TAIL && score <= t[TAIL - 1])
		return;
	int at = *n < TAIL ? (*n)++ : TAIL - 1;
	while (at > 0 && t[at - 1] < score) {
		t[at] = t[at - 1];
		at--;
	}
	t[at] = score;
}

static int cmp_float_desc(const void *a, const void *b)
{
	const float x = *(const float *)a, y = *(const float *)b;
	return (x < y) - (x > y);
}

/* Each character's offset: per_character times how far the mean of its highest negative scores
 * lies from the median character's (a character no negative came near counts the lowest score
 * for each it lacks). */
static int offsets(struct calibration *c, float per_character)
{
	const size_t nc = c->snap->n_characters;
	float *mean = malloc(sizeof *mean * (nc ? nc : 1)), *sorted = malloc(sizeof *sorted * (nc ? nc : 1));
	if (!mean || !sorted) {
		free(mean);
		free(sorted);
		return lk__fail(LK_ENOMEM, "calibrating characters");
	}
	size_t m = 0;
	for (size_t ch = 0; ch < nc; ch++) {
		double sum = 0;
		for (int k = 0; k < TAIL; k++)
			sum += k < c->tail_n[ch] ? c->tail[ch * TAIL + (size_t)k] : c->lowest;
		mean[ch] = (float)(sum / TAIL);
		if (c->snap->characters[ch].embedded_refs)
			sorted[m++] = mean[ch];
	}
	qsort(sorted, m, sizeof *sorted, cmp_float_desc);
	const float median = m ? (m % 2 ? sorted[m / 2] : (sorted[m / 2 - 1] + sorted[m / 2]) / 2) : 0;
	for (size_t ch = 0; ch < nc; ch++)
		c->offset[ch] = c->snap->characters[ch].embedded_refs ? per_character * (mean[ch] - median) : 0;
	free(mean);
	free(sorted);
	return LK_OK;
}

static int measure(struct calibration *c, float per_character)
{
	struct character_score s[LK_EMB_HITS];
	int rc = LK_OK;
	c->lowest = 2;
	for (size_t i = 0; i < c->n && rc == LK_OK; i++) {
		int n = 0;
		rc = score_negative(s, &n, c, i);
		for (int k = 0; k < n; k++) {
			keep_tail(c, s[k].character, s[k].score);
			if (s[k].score < c->lowest)
				c->lowest = s[k].score;
		}
	}
	if (rc == LK_OK)
		rc = offsets(c, per_character);
	/* The second pass: each negative's best excess over the offsets, the score the registry's
	 * threshold is compared with. */
	for (size_t i = 0; i < c->n && rc == LK_OK; i++) {
		int n = 0;
		rc = score_negative(s, &n, c, i);
		c->excess[i] = -INFINITY; /* no character near it: it flags nothing */
		for (int k = 0; k < n; k++) {
			const struct snap_character *ch = &c->snap->characters[s[k].character];
			const float e = ch->own_character_threshold
						? (s[k].score >= ch->character_threshold ? INFINITY : -INFINITY)
						: s[k].score - c->offset[s[k].character];
			if (e > c->excess[i])
				c->excess[i] = e;
		}
	}
	return rc;
}

static float clamp_score(float v)
{
	return v > 2 ? 2 : v < -2 ? -2 : v;
}

int lk_registry_calibrate_characters(float *out_threshold, size_t *out_flagged, lk_registry *reg,
				     const lk_embedding *negatives, size_t n, double false_positive_rate,
				     float per_character)
{
	lk__clear_error();
	if (!out_threshold || !out_flagged || !reg || !negatives)
		return lk__fail(LK_EINVAL, "lk_registry_calibrate_characters: NULL argument");
	if (!n)
		return lk__fail(LK_EINVAL, "a character calibration needs at least one negative");
	if (!(false_positive_rate >= 0 && false_positive_rate < 1))
		return lk__fail(LK_EINVAL, "a false-positive rate is from 0 to below 1, not %g", false_positive_rate);
	if (!(per_character >= 0 && per_character <= 1))
		return lk__fail(LK_EINVAL, "per_character is from 0 to 1, not %g", (double)per_character);
	struct calibration c = { .negatives = negatives, .n = n };
	int rc = lk__snapshot_acquire(&c.snap, reg);
	if (rc != LK_OK)
		return rc;
	if (!c.snap->emb) {
		lk__snapshot_release(c.snap);
		return lk__fail(LK_EINVAL, "%s: no reference has an embedding, so no character can be scored", reg->dir);
	}
	const size_t nc = c.snap->n_characters ? c.snap->n_characters : 1;
	c.tail = malloc(sizeof *c.tail * nc * TAIL);
	c.tail_n = calloc(nc, sizeof *c.tail_n);
	c.offset = calloc(nc, sizeof *c.offset);
	c.excess = malloc(sizeof *c.excess * n);
	const char **slugs = malloc(sizeof *slugs * nc);
	float *thresholds = malloc(sizeof *thresholds * nc);
	if (!c.tail || !c.tail_n || !c.offset || !c.excess || !slugs || !thresholds)
		rc = lk__fail(LK_ENOMEM, "calibrating characters");
	if (rc == LK_OK)
		rc = measure(&c, per_character);
	if (rc == LK_OK) {
		qsort(c.excess, n, sizeof *c.excess, cmp_float_desc);
		/* Just above the score of the first negative past floor(rate * n): the margin keeps
		 * each character's threshold, the registry's plus its offset in float, above that
		 * negative's score too. Pictures a character's own threshold flags count whatever it is. */
		const size_t allowed = (size_t)floor(false_positive_rate * (double)n);
		const float t = allowed < n && c.excess[allowed] > -INFINITY ? c.excess[allowed] + 1e-5f : -2;
		*out_threshold = clamp_score(t);
		size_t flagged = 0;
		while (flagged < n && c.excess[flagged] >= *out_threshold)
			flagged++;
		*out_flagged = flagged;
		size_t n_scores = 0, n_thresholds = 0;
		while (n_scores < n && n_scores < LK_CHARACTER_CALIBRATION_MAX && c.excess[n_scores] > -INFINITY)
			c.excess[n_scores] = clamp_score(c.excess[n_scores]), n_scores++;
		for (size_t ch = 0; per_character > 0 && ch < c.snap->n_characters; ch++)
			if (c.snap->characters[ch].embedded_refs) {
				slugs[n_thresholds] = c.snap->characters[ch].slug;
				thresholds[n_thresholds++] = clamp_score(*out_threshold + c.offset[ch]);
			}
		rc = lk__store_character_calibration(reg, *out_threshold, c.excess, n_scores, (int64_t)n, slugs,
						     thresholds, n_thresholds);
	}
	lk__snapshot_release(c.snap);
	free(c.tail);
	free(c.tail_n);
	free(c.offset);
	free(c.excess);
	free(slugs);
	free(thresholds);
	return rc;
}
