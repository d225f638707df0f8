/* From matches to one verdict with a reason a person can act on. */
#include "internal.h"

#include <stdio.h>
#include <string.h>

const char *lk_verdict_name(lk_verdict v)
{
	switch (v) {
	case LK_VERDICT_ALLOW: return "allow";
	case LK_VERDICT_REVIEW: return "review";
	case LK_VERDICT_BLOCK: return "block";
	}
	return "?";
}

/* How the image relates to the reference when its variant `d` matched. */
static const char *const transform_words[LK_DIHEDRAL_COUNT] = {
	"", ", rotated", ", rotated", ", rotated", ", upside down", ", mirrored", ", transposed",
	", transposed"
};

void lk__decide(lk_check_result *r)
{
	/* An allow-listed (licensed or own) reference within block distance clears its character's
	 * matches that are no closer than it: the image is that licensed picture. */
	for (int i = 0; i < r->n_matches; i++) {
		const lk_match *a = &r->matches[i];
		if (!a->allow || a->distance > a->block_threshold)
			continue;
		for (int j = 0; j < r->n_matches; j++) {
			lk_match *m = &r->matches[j];
			if (!strcmp(m->character, a->character) && m->distance >= a->distance)
				m->verdict = LK_VERDICT_ALLOW;
		}
	}
	r->verdict = LK_VERDICT_ALLOW;
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
	if (decisive && r->verdict == LK_VERDICT_BLOCK)
		snprintf(r->reason, sizeof r->reason, "copy of '%s': reference %lld at %d bits%s (block at <= %d)",
			 decisive->character, (long long)decisive->reference_id, decisive->distance,
			 transform_words[decisive->transform], decisive->block_threshold);
	else if (decisive)
		snprintf(r->reason, sizeof r->reason, "close to '%s': reference %lld at %d bits%s (review at <= %d)",
			 decisive->character, (long long)decisive->reference_id, decisive->distance,
			 transform_words[decisive->transform], decisive->review_threshold);
	else if (licensed)
		snprintf(r->reason, sizeof r->reason, "licensed: allow-listed reference %lld of '%s' at %d bits",
			 (long long)licensed->reference_id, licensed->character, licensed->distance);
	else
		snprintf(r->reason, sizeof r->reason, "no reference within review distance");
}
