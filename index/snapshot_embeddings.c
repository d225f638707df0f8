/* The embedding half of a snapshot: the references' descriptors, centred, in an exact faiss
 * inner-product index (IndexFlatIP through the C API). */
#include "registry_internal.h"

#include <faiss/c_api/error_c.h>
#include <faiss/c_api/IndexFlat_c.h>
#include <faiss/c_api/Index_c.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

static int push_one(struct emb_builder *b, const void *vector, uint32_t ref)
{
	if (b->n == b->cap) {
		const size_t cap = b->cap ? b->cap * 2 : 256;
		float *v = realloc(b->v, cap * sizeof(float) * LK_EMBEDDING_DIM);
		if (v)
			b->v = v;
		uint32_t *r = realloc(b->refs, cap * sizeof *r);
		if (r)
			b->refs = r;
		if (!v || !r)
			return lk__fail(LK_ENOMEM, "building a registry snapshot");
		b->cap = cap;
	}
	memcpy(b->v + b->n * LK_EMBEDDING_DIM, vector, sizeof(float) * LK_EMBEDDING_DIM);
	b->refs[b->n++] = ref;
	return LK_OK;
}

/* A reference's blob holds one descriptor per view (lk__embed_views); each is searched. */
int lk__emb_push(struct emb_builder *b, const void *blob, int bytes, uint32_t ref)
{
	const int one = (int)sizeof(float) * LK_EMBEDDING_DIM;
	if (!blob || bytes <= 0 || bytes % one || bytes / one > LK_VIEWS)
		return LK_OK; /* no embedding (hash-only reference) */
	for (int v = 0; v < bytes / one; v++) {
		const int rc = push_one(b, (const unsigned char *)blob + (size_t)v * one, ref);
		if (rc != LK_OK)
			return rc;
	}
	return LK_OK;
}

void lk__emb_free(struct snap_embeddings *e)
{
	if (!e)
		return;
	if (e->index)
		faiss_Index_free((FaissIndex *)e->index);
	free(e->refs);
	free(e);
}

static void centre(float *v, const float *mean)
{
	double norm = 0;
	for (int j = 0; j < LK_EMBEDDING_DIM; j++) {
		v[j] -= mean[j];
		norm += (double)v[j] * v[j];
	}
	const float scale = norm > 0 ? (float)(1 / sqrt(norm)) : 0;
	for (int j = 0; j < LK_EMBEDDING_DIM; j++)
		v[j] *= scale;
}

/* A threshold from the meta table (set by calibration), else `fallback`. */
static float meta_threshold(lk_registry *reg, const char *key, float fallback)
{
	sqlite3_stmt *st;
	float value = fallback;
	if (sqlite3_prepare_v2(reg->db, "SELECT CAST(value AS REAL) FROM meta WHERE key = ?", -1, &st, NULL) != SQLITE_OK)
		return fallback;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		value = (float)sqlite3_column_double(st, 0);
	sqlite3_finalize(st);
	return value;
}

int lk__emb_finish(struct snapshot *snap, struct emb_builder *b, lk_registry *reg)
{
	int rc = LK_OK;
	struct snap_embeddings *e = NULL;
	if (b->n) {
		e = calloc(1, sizeof *e);
		if (!e)
			rc = lk__fail(LK_ENOMEM, "building a registry snapshot");
	}
	if (e) {
		double mean[LK_EMBEDDING_DIM] = { 0 };
		for (size_t i = 0; i < b->n; i++)
			for (int j = 0; j < LK_EMBEDDING_DIM; j++)
				mean[j] += b->v[i * LK_EMBEDDING_DIM + j];
		/* Shrunk towards zero for small registries: with one reference, its full mean would
		 * be itself, and every similarity to it zero. */
		const double shrink = (double)b->n / ((double)b->n + LK_EMBED_CENTRE_PRIOR);
		for (int j = 0; j < LK_EMBEDDING_DIM; j++)
			e->mean[j] = (float)(shrink * mean[j] / (double)b->n);
		for (size_t i = 0; i < b->n; i++)
			centre(b->v + i * LK_EMBEDDING_DIM, e->mean);
		e->copy = meta_threshold(reg, "embed_copy", LK_DEFAULT_EMBED_COPY);
		e->similar = meta_threshold(reg, "embed_similar", LK_DEFAULT_EMBED_SIMILAR);
		e->region_copy = meta_threshold(reg, "region_copy", LK_DEFAULT_REGION_COPY);
		e->region_similar = meta_threshold(reg, "region_similar", LK_DEFAULT_REGION_SIMILAR);
		FaissIndexFlatIP *index = NULL;
		if (faiss_IndexFlatIP_new_with(&index, LK_EMBEDDING_DIM) != 0 ||
		    faiss_Index_add((FaissIndex *)index, (idx_t)b->n, b->v) != 0) {
			const char *why = faiss_get_last_error();
			rc = lk__fail(LK_EINTERNAL, "faiss: building the embedding index: %s", why ? why : "unknown error");
			if (index)
				faiss_Index_free((FaissIndex *)index);
			free(e);
			e = NULL;
		} else {
			e->index = (struct FaissIndex_H *)index;
			e->refs = b->refs;
			e->n = b->n;
			b->refs = NULL;
		}
	}
	free(b->v);
	free(b->refs);
	memset(b, 0, sizeof *b);
	snap->emb = e;
	return rc;
}

int lk__emb_search(const struct snap_embeddings *e, const lk_embedding *query, int k, float *sim, uint32_t *refs)
{
	if ((size_t)k > e->n)
		k = (int)e->n;
	float q[LK_EMBEDDING_DIM];
	memcpy(q, query->v, sizeof q);
	centre(q, e->mean);
	idx_t labels[64];
	float scores[64];
	if (k > 64)
		k = 64;
	omp_set_num_threads(1); /* see lk__snapshot_search */
	if (faiss_Index_search((const FaissIndex *)e->index, 1, q, k, scores, labels) != 0) {
		const char *why = faiss_get_last_error();
		return lk__fail(LK_EINTERNAL, "faiss: searching embeddings: %s", why ? why : "unknown error");
	}
	int n = 0;
	for (int i = 0; i < k; i++)
		if (labels[i] >= 0 && (size_t)labels[i] < e->n) {
			sim[n] = scores[i];
			refs[n++] = e->refs[labels[i]];
		}
	return n;
}

int lk__emb_lead(const struct snapshot *snap, const lk_embedding *query, uint32_t *ref, float *similarity, float *lead)
{
	float sim[LK_EMB_LEAD_DEPTH];
	uint32_t refs[LK_EMB_LEAD_DEPTH];
	const int k = lk__emb_search(snap->emb, query, LK_EMB_LEAD_DEPTH, sim, refs);
	if (k <= 0)
		return k;
	const uint32_t character = snap->refs[refs[0]].character;
	int other = 1;
	while (other < k && snap->refs[refs[other]].character == character)
		other++;
	*ref = refs[0];
	*similarity = sim[0];
	/* No other character among the nearest: when the search was cut short, the last of them
	 * bounds the next character's similarity from above (so the lead is not overstated); when
	 * it held every vector, there is no rival, and the lead is the similarity itself. */
	const float next = other < k ? sim[other] : k == LK_EMB_LEAD_DEPTH && (size_t)k < snap->emb->n ? sim[k - 1] : 0;
	*lead = sim[0] - next;
	return 1;
}

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
