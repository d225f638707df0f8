/* The character model: which registered character an image shows, from all of each character's
 * nearest references at once and against the negative bank (likeness.h, lk_character_decision). */
#include "index/search/search.h"

#include <string.h>

/* A reference among the hits: its best view's similarity. */
struct near_ref {
	uint32_t ref;
	float sim;
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

int lk__character_score(lk_character_decision *out, const struct snapshot *snap, const lk_embedding *query,
			const struct emb_hits *hits)
{
	memset(out, 0, sizeof *out);
	out->false_positive_rate = -1;
	out->verdict = LK_VERDICT_ALLOW;
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
			near[n_near++] = (struct near_ref){ hits->refs[i], hits->sim[i] };
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
	int best = -1, second_same = -1;
	float best_score = 0;
	float scores[LK_EMB_HITS];
	uint32_t characters[LK_EMB_HITS];
	int n_scored = 0;
	for (int j = 0; j < n_near; j++) {
		const uint32_t c = snap->refs[near[j].ref].character;
		int done = 0;
		for (int k = 0; k < n_scored && !done; k++)
			done = characters[k] == c;
		if (done)
			continue;
		float second = floor_sim;
		int has_second = 0;
		for (int k = j + 1; k < n_near && !has_second; k++)
			if (snap->refs[near[k].ref].character == c)
				second = near[k].sim, has_second = 1;
		const float agg = snap->characters[c].embedded_refs > 1 ? (near[j].sim + second) / 2 : near[j].sim;
		characters[n_scored] = c;
		scores[n_scored] = agg - weight * bank;
		if (best < 0 || scores[n_scored] > best_score)
			best = n_scored, best_score = scores[n_scored];
		n_scored++;
	}
	const struct snap_character *top = &snap->characters[characters[best]];
	for (int k = 0; k < n_scored; k++)
		if (k != best && !strcmp(snap->characters[characters[k]].franchise, top->franchise) &&
		    (second_same < 0 || scores[k] > scores[second_same]))
			second_same = k;
	snprintf(out->character, sizeof out->character, "%s", top->slug);
	snprintf(out->character_name, sizeof out->character_name, "%s", top->name);
	snprintf(out->franchise, sizeof out->franchise, "%s", top->franchise);
	out->score = best_score;
	out->threshold = top->character_threshold;
	out->margin = second_same >= 0 ? best_score - scores[second_same] : best_score;
	if (second_same >= 0)
		snprintf(out->runner_up, sizeof out->runner_up, "%s", snap->characters[characters[second_same]].slug);
	out->character_uncertain = second_same >= 0 && out->margin < LK_CHARACTER_MARGIN;
	out->false_positive_rate = false_positive_rate(snap, best_score);
	out->calibration_negatives = snap->n_calibration ? snap->calibration_negatives : 0;
	for (int j = 0; j < n_near && out->n_nearest < 3; j++)
		if (snap->refs[near[j].ref].character == characters[best]) {
			out->nearest[out->n_nearest] = snap->refs[near[j].ref].id;
			out->nearest_similarity[out->n_nearest++] = near[j].sim;
		}
	out->bank_pictures = snap->bank ? (int)snap->bank->n : 0;
	/* Unnormalised, a score says how alike the image is to the character, not how unusual that
	 * is: without a bank the model reports and does not decide. */
	if (snap->bank && best_score >= out->threshold)
		out->verdict = top->block_on_character ? LK_VERDICT_BLOCK : LK_VERDICT_REVIEW;
	return LK_OK;
}
