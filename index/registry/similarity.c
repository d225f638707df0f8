/* What a calibration measures on known negatives: how close an image, or a part of one, comes
 * to the registry's references, and which character it would be taken for, scored as a check
 * scores it. */
#include "index/registry/registry.h"

int lk_registry_best_similarity(float *similarity, int64_t *reference_id, lk_registry *reg, const lk_embedding *image)
{
	lk__clear_error();
	if (!similarity || !reference_id || !reg || !image)
		return lk__fail(LK_EINVAL, "lk_registry_best_similarity: NULL argument");
	*similarity = -2;
	*reference_id = -1;
	struct snapshot *snap;
	int rc = lk__snapshot_acquire(&snap, reg);
	if (rc != LK_OK)
		return rc;
	if (snap->emb) {
		float sim;
		uint32_t ref;
		const int n = lk__emb_search(snap->emb, image, 1, &sim, &ref);
		if (n < 0)
			rc = n;
		else if (n == 1) {
			*similarity = sim;
			*reference_id = snap->refs[ref].id;
		}
	}
	lk__snapshot_release(snap);
	return rc;
}

int lk_registry_region_lead(float *lead, float *similarity, int64_t *reference_id, lk_registry *reg,
			    const lk_embedding *part)
{
	lk__clear_error();
	if (!lead || !similarity || !reference_id || !reg || !part)
		return lk__fail(LK_EINVAL, "lk_registry_region_lead: NULL argument");
	*lead = *similarity = -2;
	*reference_id = -1;
	struct snapshot *snap;
	int rc = lk__snapshot_acquire(&snap, reg);
	if (rc != LK_OK)
		return rc;
	if (snap->emb) {
		uint32_t ref;
		const int found = lk__emb_lead(snap, part, &ref, similarity, lead);
		if (found < 0)
			rc = found;
		else if (found)
			*reference_id = snap->refs[ref].id;
	}
	lk__snapshot_release(snap);
	return rc;
}

int lk_registry_character_score(lk_character_decision *out, lk_registry *reg, const lk_embedding *image)
{
	lk__clear_error();
	if (!out || !reg || !image)
		return lk__fail(LK_EINVAL, "lk_registry_character_score: NULL argument");
	struct snapshot *snap;
	int rc = lk__snapshot_acquire(&snap, reg);
	if (rc != LK_OK)
		return rc;
	/* The same nearest views a check's search finds, scored as it scores them. */
	struct emb_hits hits = { 0 };
	if (snap->emb) {
		const int n = lk__emb_search(snap->emb, image, LK_EMB_HITS, hits.sim, hits.refs);
		if (n < 0)
			rc = n;
		else
			hits.n = n;
	}
	lk_character_decision d;
	if (rc == LK_OK)
		rc = lk__character_score(&d, snap, image, &hits);
	lk__snapshot_release(snap);
	if (rc == LK_OK)
		*out = d;
	return rc;
}
