/* Searching a snapshot: the radius search of an image's hashes, the nearest embeddings and
 * windows, and the ranking that keeps the most decisive match of each reference. */
#include "index/search/search.h"
#include "index/search/faiss_c_gaps.h"

#include <assert.h>
#include <faiss/c_api/IndexBinary_c.h>
#include <faiss/c_api/impl/AuxIndexStructures_c.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

/* Which of two matches says more: the harsher verdict, then a copy over a similar picture,
 * then the closer PDQ distance (a PDQ match over an embedding-only one), then the higher
 * embedding similarity, then the older reference. */
static int more_decisive(const lk_match *x, const lk_match *y)
{
	if (x->verdict != y->verdict)
		return x->verdict > y->verdict;
	if (x->reason != y->reason)
		return x->reason == LK_REASON_COPY;
	if (x->distance != y->distance)
		return y->distance < 0 || (x->distance >= 0 && x->distance < y->distance);
	if (x->similarity != y->similarity)
		return x->similarity > y->similarity;
	if (x->region_lead != y->region_lead)
		return x->region_lead > y->region_lead;
	return x->reference_id < y->reference_id;
}

/* The entry for reference `ref` in found[], added if it is not there yet (when full, in place
 * of the least decisive entry if `candidate` beats it); NULL when it does not make the cut. */
static lk_match *entry(lk_match *found, int *n, int cap, const struct snapshot *snap, uint32_t ref,
		       const lk_match *candidate)
{
	const struct snap_reference *r = &snap->refs[ref];
	for (int i = 0; i < *n; i++)
		if (found[i].reference_id == r->id)
			return &found[i];
	if (*n == cap) {
		int worst = 0;
		for (int i = 1; i < *n; i++)
			if (more_decisive(&found[worst], &found[i]))
				worst = i;
		if (!more_decisive(candidate, &found[worst]))
			return NULL;
		found[worst] = found[--*n];
	}
	const struct snap_character *c = &snap->characters[r->character];
	lk_match *m = &found[(*n)++];
	*m = *candidate;
	m->reference_id = r->id;
	snprintf(m->character, sizeof m->character, "%s", c->slug);
	snprintf(m->character_name, sizeof m->character_name, "%s", c->name);
	m->block_threshold = c->block_threshold;
	m->review_threshold = c->review_threshold;
	m->allow = r->allow;
	return m;
}

/* A PDQ hit: keeps the closest transform per reference. */
static void consider(lk_match *found, int *n, int cap, const struct snapshot *snap, uint32_t ref,
		     int distance, int transform)
{
	const struct snap_character *c = &snap->characters[snap->refs[ref].character];
	if (distance > c->review_threshold)
		return;
	lk_match candidate = { .distance = distance, .transform = (lk_dihedral)transform, .similarity = -2,
			       .region_similarity = -2, .region_lead = -2, .signals = LK_SIGNAL_PDQ, .reason = LK_REASON_COPY,
			       .verdict = distance <= c->block_threshold ? LK_VERDICT_BLOCK : LK_VERDICT_REVIEW };
	/* Every PDQ hit is considered before any embedding hit (lk__snapshot_search), so an entry
	 * already there came from PDQ: another of its transforms, which decides if closer. */
	lk_match *m = entry(found, n, cap, snap, ref, &candidate);
	if (m && distance < m->distance) {
		m->distance = distance;
		m->transform = (lk_dihedral)transform;
		m->verdict = candidate.verdict;
	}
}

/* An embedding hit at or above its character's similar threshold. */
static void consider_embedding(lk_match *found, int *n, int cap, const struct snapshot *snap, uint32_t ref,
			       float similarity)
{
	const struct snap_character *c = &snap->characters[snap->refs[ref].character];
	if (similarity < c->embed_similar)
		return;
	const int copy = similarity >= c->embed_copy;
	lk_match candidate = { .distance = -1, .similarity = similarity, .region_similarity = -2, .region_lead = -2,
			       .signals = LK_SIGNAL_EMBEDDING,
			       .reason = copy ? LK_REASON_COPY : LK_REASON_SIMILAR,
			       .verdict = copy ? LK_VERDICT_BLOCK : LK_VERDICT_REVIEW };
	lk_match *m = entry(found, n, cap, snap, ref, &candidate);
	if (!m || (m->signals & LK_SIGNAL_EMBEDDING))
		return; /* new entries already hold it */
	m->similarity = similarity;
	m->signals |= LK_SIGNAL_EMBEDDING;
	if (candidate.verdict > m->verdict)
		m->verdict = candidate.verdict;
	if (copy)
		m->reason = LK_REASON_COPY;
}

/* A part of the image whose lead over the next character reaches the region similar threshold:
 * a match of its own, or more evidence for one the whole image already made. The part with the
 * largest lead is kept per reference. */
static void consider_region(lk_match *found, int *n, int cap, const struct snapshot *snap, uint32_t ref,
			    float similarity, float lead, const lk_region *place)
{
	const struct snap_embeddings *e = snap->emb;
	if (lead < e->region_similar)
		return;
	const int copy = lead >= e->region_copy;
	lk_match candidate = { .distance = -1, .similarity = -2, .region_similarity = similarity,
			       .region_lead = lead, .region = *place, .signals = LK_SIGNAL_REGION,
			       .reason = copy ? LK_REASON_COPY : LK_REASON_SIMILAR,
			       .verdict = copy ? LK_VERDICT_BLOCK : LK_VERDICT_REVIEW };
	lk_match *m = entry(found, n, cap, snap, ref, &candidate);
	if (!m || m->region_lead >= lead)
		return; /* not kept, or a better part already found it (new entries hold this one) */
	m->region_similarity = similarity;
	m->region_lead = lead;
	m->region = *place;
	m->signals |= LK_SIGNAL_REGION;
	if (candidate.verdict > m->verdict)
		m->verdict = candidate.verdict;
	if (copy)
		m->reason = LK_REASON_COPY;
}

static int by_decisiveness(const void *a, const void *b)
{
	const lk_match *x = a, *y = b;
	return more_decisive(x, y) ? -1 : more_decisive(y, x) ? 1 : 0;
}

/* Runs a radius search of `nq` hashes; on success *res holds the hits (free it). */
static int range_search(FaissRangeSearchResult **res, const struct FaissIndexBinary_H *index,
			const unsigned char *queries, int nq, int radius)
{
	if (faiss_RangeSearchResult_new(res, nq) != 0)
		return lk__faiss_fail("allocating a search result");
	/* faiss' binary range search keeps distances strictly below the radius. */
	assert(faiss_IndexBinary_d((const FaissIndexBinary *)index) == LK_PDQ_BITS);
	if (faiss_IndexBinary_range_search((const FaissIndexBinary *)index, nq, queries, radius + 1, *res) != 0) {
		faiss_RangeSearchResult_free(*res);
		return lk__faiss_fail("searching");
	}
	return LK_OK;
}

/* The transform mapping the reference onto the image when the image's variant `d` matched the
 * reference itself: the inverse of d (only the quarter turns differ from their inverse). */
static int inverse(int d)
{
	return d == LK_DIHEDRAL_ROT90 ? LK_DIHEDRAL_ROT270 : d == LK_DIHEDRAL_ROT270 ? LK_DIHEDRAL_ROT90 : d;
}

/* The PDQ half of a search: hits within the largest review threshold, into found[]. */
static int search_pdq(const struct snapshot *snap, const lk_pdq_hash hashes[LK_DIHEDRAL_COUNT], lk_match *found,
		      int *n_found, int cap)
{
	int n = *n_found;
	size_t *lims;
	idx_t *labels;
	float *distances;

	/* The image's own hash against every stored transform of every reference. */
	FaissRangeSearchResult *res;
	int rc = range_search(&res, snap->stored, hashes[LK_DIHEDRAL_ORIGINAL].bytes, 1, snap->max_review_threshold);
	if (rc != LK_OK)
		return rc;
	faiss_RangeSearchResult_lims(res, &lims);
	faiss_RangeSearchResult_labels(res, &labels, &distances);
	for (size_t k = lims[0]; k < lims[1]; k++) {
		if (labels[k] < 0 || (size_t)labels[k] >= snap->n_codes)
			continue;
		const struct snap_code *c = &snap->codes[labels[k]];
		consider(found, &n, cap, snap, c->ref, (int)distances[k], c->transform);
	}
	faiss_RangeSearchResult_free(res);

	/* Bare hashes have no stored transforms: the image's variants stand in for them. */
	if (snap->bare) {
		unsigned char queries[LK_DIHEDRAL_COUNT - 1][LK_PDQ_BYTES];
		for (int d = 1; d < LK_DIHEDRAL_COUNT; d++)
			memcpy(queries[d - 1], hashes[d].bytes, LK_PDQ_BYTES);
		rc = range_search(&res, snap->bare, &queries[0][0], LK_DIHEDRAL_COUNT - 1, snap->max_review_threshold);
		if (rc != LK_OK)
			return rc;
		faiss_RangeSearchResult_lims(res, &lims);
		faiss_RangeSearchResult_labels(res, &labels, &distances);
		for (int q = 0; q < LK_DIHEDRAL_COUNT - 1; q++)
			for (size_t k = lims[q]; k < lims[q + 1]; k++)
				if (labels[k] >= 0 && (size_t)labels[k] < snap->n_bare)
					consider(found, &n, cap, snap, snap->bare_refs[labels[k]], (int)distances[k],
						 inverse(q + 1));
		faiss_RangeSearchResult_free(res);
	}
	*n_found = n;
	return LK_OK;
}

int lk__snapshot_search(const struct snapshot *snap, const lk_pdq_hash hashes[LK_DIHEDRAL_COUNT],
			const lk_embedding *emb, lk_match *out, int cap, int *n_out, struct emb_hits *hits)
{
	*n_out = 0;
	if (hits)
		hits->n = 0;
	if (!snap->stored || snap->max_review_threshold < 0)
		return LK_OK;
	if (cap > LK_MAX_MATCHES)
		cap = LK_MAX_MATCHES;
	/* An inline check runs on its caller's thread; faiss' OpenMP team would only contend with
	 * the other checking threads. omp_set_num_threads affects this thread alone. */
	omp_set_num_threads(1);
	lk_match found[LK_MAX_MATCHES];
	int n = 0;
	/* PDQ first: consider() relies on seeing every PDQ hit before an embedding hit. */
	int rc = hashes ? search_pdq(snap, hashes, found, &n, cap) : LK_OK;
	if (rc != LK_OK)
		return rc;
	if (emb && snap->emb) {
		struct emb_hits own, *h = hits ? hits : &own;
		const int k = lk__emb_search(snap->emb, emb, LK_EMB_HITS, h->sim, h->refs);
		if (k < 0)
			return k;
		h->n = k;
		/* The matcher looks as deep as it always has; the character model uses the rest. */
		for (int i = 0; i < k && i < 64; i++)
			consider_embedding(found, &n, cap, snap, h->refs[i], h->sim[i]);
	}
	qsort(found, (size_t)n, sizeof found[0], by_decisiveness);
	memcpy(out, found, sizeof found[0] * (size_t)n);
	*n_out = n;
	return LK_OK;
}

int lk__snapshot_search_regions(const struct snapshot *snap, const lk_embedding *parts, const lk_region *places,
				int n_parts, lk_match *out, int cap, int *n_out)
{
	if (!snap->emb || n_parts <= 0)
		return LK_OK;
	if (cap > LK_MAX_MATCHES)
		cap = LK_MAX_MATCHES;
	int n = *n_out;
	for (int p = 0; p < n_parts; p++) {
		uint32_t ref;
		float similarity, lead;
		const int rc = lk__emb_lead(snap, &parts[p], &ref, &similarity, &lead);
		if (rc < 0)
			return rc;
		if (rc > 0)
			consider_region(out, &n, cap, snap, ref, similarity, lead, &places[p]);
	}
	qsort(out, (size_t)n, sizeof out[0], by_decisiveness);
	*n_out = n;
	return LK_OK;
}
