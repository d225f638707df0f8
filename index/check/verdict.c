/* From matches to one verdict with a reason a person can act on. */
#include "index/check/check.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* The reason sentence; a very long slug shortens it rather than failing. */
__attribute__((format(printf, 2, 3))) static void say(lk_check_result *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->reason, sizeof r->reason, fmt, ap);
	va_end(ap);
}

const char *lk_verdict_name(lk_verdict v)
{
	switch (v) {
	case LK_VERDICT_ALLOW: return "allow";
	case LK_VERDICT_REVIEW: return "review";
	case LK_VERDICT_BLOCK: return "block";
	}
	return "?";
}

const char *lk_reason_name(lk_reason r)
{
	switch (r) {
	case LK_REASON_NONE: return "none";
	case LK_REASON_COPY: return "copy";
	case LK_REASON_SIMILAR: return "similar";
	case LK_REASON_CHARACTER: return "character";
	}
	return "?";
}

/* How the image relates to the reference when its variant `d` matched. */
static const char *const transform_words[LK_DIHEDRAL_COUNT] = {
	"", ", rotated", ", rotated", ", rotated", ", upside down", ", mirrored", ", transposed",
	", transposed"
};

/* Whether allow-listed match `a` is at least as close as `m`: by PDQ distance when both have
 * one; a PDQ match outweighs one found by the embedding alone; else by similarity. */
static int no_closer(const lk_match *m, const lk_match *a)
{
	if (m->distance >= 0 && a->distance >= 0)
		return m->distance >= a->distance;
	if (a->distance >= 0 || m->distance >= 0)
		return a->distance >= 0;
	return m->similarity <= a->similarity;
}

/* The evidence of one match, e.g. "at 12 bits, mirrored, embedding similarity 0.93", or for a
 * part of the image "the part at 52%,10% (40%x38% of the image) similarity 0.88, 0.31 ahead of
 * any other character". */
static void evidence(char *out, size_t size, const lk_match *m)
{
	char pdq[96] = "", emb[48] = "", part[144] = "";
	if (m->distance >= 0)
		snprintf(pdq, sizeof pdq, "at %d bits%s", m->distance, transform_words[m->transform]);
	if (m->similarity > -2)
		snprintf(emb, sizeof emb, "embedding similarity %.2f", (double)m->similarity);
	if (m->signals & LK_SIGNAL_REGION)
		snprintf(part, sizeof part, "the part at %.0f%%,%.0f%% (%.0f%%x%.0f%% of the image) similarity %.2f, "
			 "%.2f ahead of any other character", 100.0 * m->region.x, 100.0 * m->region.y,
			 100.0 * m->region.width, 100.0 * m->region.height, (double)m->region_similarity,
			 (double)m->region_lead);
	snprintf(out, size, "%s%s%s%s%s", pdq, pdq[0] && emb[0] ? ", " : "", emb, (pdq[0] || emb[0]) && part[0] ? ", " : "",
		 part);
}

/* The character decision's sentence: which character (or, when uncertain, which franchise), its
 * score against the threshold, how rare that score is among unrelated pictures, and the
 * character's nearest references. */
static void say_character(lk_check_result *r)
{
	const lk_character_decision *c = &r->character;
	char who[4 * LK_SLUG_MAX + 80], rare[96] = "", near[160] = "";
	if (c->character_uncertain)
		snprintf(who, sizeof who, "shows franchise '%s' (most likely '%s', %.2f ahead of '%s')", c->franchise,
			 c->character, (double)c->margin, c->runner_up);
	else if (strcmp(c->franchise, c->character))
		snprintf(who, sizeof who, "shows '%s' (franchise '%s')", c->character, c->franchise);
	else
		snprintf(who, sizeof who, "shows '%s'", c->character);
	if (c->false_positive_rate > 0)
		snprintf(rare, sizeof rare, "; 1 in %.0f unrelated pictures scores this high",
			 1 / c->false_positive_rate);
	else if (c->false_positive_rate == 0)
		snprintf(rare, sizeof rare, "; none of %lld unrelated pictures scored this high",
			 (long long)c->calibration_negatives);
	for (int i = 0; i < c->n_nearest; i++) {
		const size_t at = strlen(near);
		snprintf(near + at, sizeof near - at, "%s%lld (%.2f)", i ? ", " : "; nearest references ",
			 (long long)c->nearest[i], (double)c->nearest_similarity[i]);
	}
	say(r, "%s: character score %.2f >= %.2f%s%s", who, (double)c->score, (double)c->threshold, rare, near);
}

void lk__decide(lk_check_result *r)
{
	/* An allow-listed (licensed or own) reference the image copies, closely enough to block,
	 * clears its character's matches that are no closer than it: the image is that licensed
	 * picture. Which ones qualify is settled before any verdict changes. */
	int licensing[LK_MAX_MATCHES], n_licensing = 0;
	for (int i = 0; i < r->n_matches && n_licensing < LK_MAX_MATCHES; i++)
		if (r->matches[i].allow && r->matches[i].verdict == LK_VERDICT_BLOCK)
			licensing[n_licensing++] = i;
	for (int k = 0; k < n_licensing; k++) {
		const lk_match a = r->matches[licensing[k]];
		for (int j = 0; j < r->n_matches; j++) {
			lk_match *m = &r->matches[j];
			if (!strcmp(m->character, a.character) && no_closer(m, &a))
				m->verdict = LK_VERDICT_ALLOW;
		}
		/* The image is that licensed picture: it shows the character with leave. */
		if (!strcmp(r->character.character, a.character))
			r->character.verdict = LK_VERDICT_ALLOW;
	}
	r->verdict = LK_VERDICT_ALLOW;
	r->reason_code = LK_REASON_NONE;
	const lk_match *decisive = NULL, *licensed = NULL;
	for (int i = 0; i < r->n_matches; i++) {
		const lk_match *m = &r->matches[i];
		if (m->allow && !licensed && m->verdict == LK_VERDICT_ALLOW)
			licensed = m;
		if (m->verdict > r->verdict || (m->verdict == r->verdict && m->verdict != LK_VERDICT_ALLOW && !decisive)) {
			r->verdict = m->verdict;
			decisive = m;
		}
	}
	/* The character model decides over a match it outranks, or equals in verdict when that match
	 * only found a similar picture; a copy keeps its own reason. */
	const lk_character_decision *ch = &r->character;
	if (ch->character[0] && ch->verdict != LK_VERDICT_ALLOW &&
	    (ch->verdict > r->verdict || !decisive || decisive->reason == LK_REASON_SIMILAR)) {
		r->verdict = ch->verdict;
		r->reason_code = LK_REASON_CHARACTER;
		say_character(r);
		return;
	}
	char why[256];
	if (decisive) {
		r->reason_code = decisive->reason;
		evidence(why, sizeof why, decisive);
		const char *what = decisive->reason == LK_REASON_SIMILAR ? "similar to" : r->verdict == LK_VERDICT_BLOCK
												  ? "copy of"
												  : "close to";
		/* The PDQ rule, when PDQ is what reached this verdict (else the embedding did). */
		char rule[40] = "";
		const int d = decisive->distance;
		if (d >= 0 && r->verdict == LK_VERDICT_BLOCK && d <= decisive->block_threshold)
			snprintf(rule, sizeof rule, " (block at <= %d bits)", decisive->block_threshold);
		else if (d >= 0 && r->verdict == LK_VERDICT_REVIEW && d <= decisive->review_threshold)
			snprintf(rule, sizeof rule, " (review at <= %d bits)", decisive->review_threshold);
		say(r, "%s '%s': reference %lld %s%s", what, decisive->character,
			 (long long)decisive->reference_id, why, rule);
	} else if (licensed) {
		evidence(why, sizeof why, licensed);
		say(r, "licensed: allow-listed reference %lld of '%s' %s",
			 (long long)licensed->reference_id, licensed->character, why);
	} else {
		say(r, "no reference within review distance%s%s",
			 r->signals & LK_SIGNAL_EMBEDDING ? " or embedding similarity" : "",
			 r->signals & LK_SIGNAL_REGION ? " (whole or in part)" : "");
	}
}
