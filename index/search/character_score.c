/* The character model: which registered character an image shows, from all of each character's
 * nearest references at once and against the negative bank (likeness.h, lk_character_decision). */
#include "index/search/search.h"

#include <string.h>

/* A reference among the hits: its best view's similarity. */
struct near_ref {
	uint32_t ref;
	float sim;
	int hit; /* its best view's place among the hits */
};

/* The share of the calibration's negatives that scored at least `score`; -1 uncalibrated. The
 * list keeps only the highest scores: below its last one, the share is at least what it holds. */
static double false_positive_rate(const struct snapshot *snap, float score)
{
	if (!snap->n_calibration || snap->calibration_negatives <= 0)
		return -1;
	size_t above = 0;
	while (above < snap->n_calibration && snap->calibration[above] >= score)
		above++;
	return (double)above / (double)snap->calibration_negatives;
}

int lk__character_scores(struct character_score *out, int *n_out, const struct snapshot *snap,
			 const lk_embedding *query, const struct emb_hits *hits)
{
	*n_out = 0;
	if (!snap->emb || !hits || hits->n <= 0)
		return LK_OK;
	/* Each reference once, by its best view: the hits come best first. */
	struct near_ref near[LK_EMB_HITS];
	int n_near = 0;
	for (int i = 0; i < hits->n; i++) {
		int seen = 0;
		for (int j = 0; j < n_near && !seen; j++)
			seen = near[j].ref == hits->refs[i];
		if (!seen)
			near[n_near++] = (struct near_ref){ hits->refs[i], hits->sim[i], i };
	}
	/* What lies below the deepest hit is at most as similar as it. */
	const float floor_sim = hits->sim[hits->n - 1];
	float bank = 0;
	int rc = lk__bank_term(&bank, snap, query);
	if (rc != LK_OK)
		return rc;
	const float weight = snap->bank ? LK_CHARACTER_BANK_WEIGHT : 0;
	/* Per character among the hits: the mean of its two nearest references (its one when it
	 * has one; a second one beyond the hits counts as the deepest hit). */
	int n = 0;
	for (int j = 0; j < n_near; j++) {
		const uint32_t c = snap->refs[near[j].ref].character;
		int done = 0;
		for (int k = 0; k < n && !done; k++)
			done = out[k].character == c;
		if (done)
			continue;
		float second = floor_sim;
		int has_second = 0;
		for (int k = j + 1; k < n_near && !has_second; k++)
			if (snap->refs[near[k].ref].character == c)
				second = near[k].sim, has_second = 1;
		const float agg = snap->characters[c].embedded_refs > 1 ? (near[j].sim + second) / 2 : near[j].sim;
		out[n].character = c;
		out[n].nearest = near[j].hit;
		out[n++].score = agg - weight * bank;
	}
	*n_out = n;
	return LK_OK;
}

int lk__character_score(lk_character_decision *out, const struct snapshot *snap, const lk_embedding *query,
			const struct emb_hits *hits)
{
	memset(out, 0, sizeof *out);
	out->false_positive_rate = -1;
	out->verdict = LK_VERDICT_ALLOW;
	struct character_score scores[LK_EMB_HITS];
	int n_scored = 0;
	int rc = lk__character_scores(scores, &n_scored, snap, query, hits);
	if (rc != LK_OK || !n_scored)
		return rc;
	/* The character that exceeds its own threshold by most (with one threshold for all, the
	 * best-scoring one): a calibration may hold a generic-looking character to a higher score
	 * than a distinctive one. */
	int best = 0;
	for (int k = 1; k < n_scored; k++) {
		const struct snap_character *c = &snap->characters[scores[k].character],
					    *b = &snap->characters[scores[best].character];
		if (scores[k].score - c->character_threshold > scores[best].score - b->character_threshold)
			best = k;
	}
	const float best_score = scores[best].score;
	const struct snap_character *top = &snap->characters[scores[best].character];
	int second_same = -1;
	for (int k = 0; k < n_scored; k++)
		if (k != best && !strcmp(snap->characters[scores[k].character].franchise, top->franchise) &&
		    (second_same < 0 || scores[k].score > scores[second_same].score))
			second_same = k;
	snprintf(out->character, sizeof out->character, "%s", top->slug);
	snprintf(out->character_name, sizeof out->character_name, "%s", top->name);
	snprintf(out->franchise, sizeof out->franchise, "%s", top->franchise);
	out->score = best_score;
	out->threshold = top->character_threshold;
	out->margin = second_same >= 0 ? best_score - scores[second_same].score : best_score;
	if (second_same >= 0)
		snprintf(out->runner_up, sizeof out->runner_up, "%s", snap->characters[scores[second_same].character].slug);
	out->character_uncertain = second_same >= 0 && out->margin < LK_CHARACTER_MARGIN;
	/* The calibration's scores are on the registry's scale: a character held to its own
	 * threshold is compared by its excess over it. */
	out->false_positive_rate = false_positive_rate(snap, best_score - top->character_threshold + snap->character_threshold);
	out->calibration_negatives = snap->n_calibration ? snap->calibration_negatives : 0;
	for (int j = scores[best].nearest; j < hits->n && out->n_nearest < 3; j++) {
		const uint32_t r = hits->refs[j];
		int seen = 0;
		for (int k = 0; k < out->n_nearest && !seen; k++)
			seen = out->nearest[k] == snap->refs[r].id;
		if (!seen && snap->refs[r].character == scores[best].character) {
			out->nearest[out->n_nearest] = snap->refs[r].id;
			out->nearest_similarity[out->n_nearest++] = hits->sim[j];
		}
	}
	out->bank_pictures = snap->bank ? (int)snap->bank->n : 0;
	/* Unnormalised, a score says how alike the image is to the character, not how unusual that
	 * is: without a bank the model reports and does not decide. */
	if (snap->bank && best_score >= out->threshold)
		out->verdict = top->block_on_character ? LK_VERDICT_BLOCK : LK_VERDICT_REVIEW;
	return LK_OK;
}
