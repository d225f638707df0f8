/* The embedding half of a snapshot: the references' descriptors, centred, in an exact faiss
 * inner-product index (IndexFlatIP through the C API), or, when the registry has a usable
 * approximate index (index/search/embedding_index_file.c, built by index/registry/), that
 * index beside an exact one of the references it lacks. */
#include "index/search/search.h"
#include "index/search/embedding_index.h"

#include <assert.h>
#include <faiss/c_api/IndexFlat_c.h>
#include <faiss/c_api/Index_c.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

static int push_one(struct emb_builder *b, const void *vector, uint32_t ref, uint64_t print)
{
	if (b->n == b->cap) {
		const size_t cap = b->cap ? b->cap * 2 : 256;
		float *v = realloc(b->v, cap * sizeof(float) * LK_EMBEDDING_DIM);
		if (v)
			b->v = v;
		uint32_t *r = realloc(b->refs, cap * sizeof *r);
		if (r)
			b->refs = r;
		uint64_t *p = realloc(b->prints, cap * sizeof *p);
		if (p)
			b->prints = p;
		if (!v || !r || !p)
			return lk__fail(LK_ENOMEM, "building a registry snapshot");
		b->cap = cap;
	}
	memcpy(b->v + b->n * LK_EMBEDDING_DIM, vector, sizeof(float) * LK_EMBEDDING_DIM);
	b->prints[b->n] = print;
	b->refs[b->n++] = ref;
	return LK_OK;
}

/* A reference's blob holds one descriptor per view (lk__embed_views); each is searched. */
int lk__emb_push(struct emb_builder *b, const void *blob, int bytes, uint32_t ref)
{
	const int one = (int)sizeof(float) * LK_EMBEDDING_DIM;
	if (!blob || bytes <= 0 || bytes % one || bytes / one > LK_VIEWS)
		return LK_OK; /* no embedding (hash-only reference) */
	const uint64_t print = lk__embedding_fingerprint(blob, (size_t)bytes);
	for (int v = 0; v < bytes / one; v++) {
		const int rc = push_one(b, (const unsigned char *)blob + (size_t)v * one, ref, print);
		if (rc != LK_OK)
			return rc;
	}
	return LK_OK;
}

void lk__emb_builder_free(struct emb_builder *b)
{
	free(b->v);
	free(b->refs);
	free(b->prints);
	memset(b, 0, sizeof *b);
}

void lk__emb_free(struct snap_embeddings *e)
{
	if (!e)
		return;
	if (e->index)
		faiss_Index_free((FaissIndex *)e->index);
	lk__ivf_release(e->ivf);
	free(e->covered);
	free(e->refs);
	free(e);
}

void lk__emb_centre(float *v, const float *mean)
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

/* The most results one faiss search is asked for. */
#define LK_EMB_SEARCH_MAX 160

static int by_id(const void *a, const void *b)
{
	const struct snap_covered *x = a, *y = b;
	return (x->id > y->id) - (x->id < y->id);
}

/* With a usable index file: the frozen mean it was built with centres everything (similarities
 * must be comparable across the two indexes), the references it holds are mapped by id, and
 * the builder keeps only the vectors of the rest, for the exact delta index. */
static int use_ivf(struct snap_embeddings *e, struct emb_builder *b, const struct snapshot *snap, lk_registry *reg)
{
	char embedder[LK_EMBEDDER_ID_MAX], detail[LK_TEXT_MAX];
	int state;
	lk__db_embedder(reg, embedder);
	lk__ivf_current(&e->ivf, &state, detail, reg, embedder);
	if (!e->ivf)
		return LK_OK;
	memcpy(e->mean, e->ivf->header.mean, sizeof e->mean);
	e->n = (size_t)e->ivf->header.vectors;
	size_t kept = 0;
	for (size_t i = 0; i < b->n; i++) {
		const uint32_t ref = b->refs[i];
		if (lk__ivf_covers(e->ivf, snap->refs[ref].id, b->prints[i])) {
			if (e->n_covered && e->covered[e->n_covered - 1].ref == ref)
				continue; /* another view of the same reference */
			if (!(e->n_covered & (e->n_covered - 1)) || !e->covered) {
				struct snap_covered *c = realloc(e->covered, (e->n_covered ? e->n_covered * 2 : 1) * sizeof *c);
				if (!c)
					return lk__fail(LK_ENOMEM, "building a registry snapshot");
				e->covered = c;
			}
			e->covered[e->n_covered++] = (struct snap_covered){ snap->refs[ref].id, ref };
			continue;
		}
		memmove(b->v + kept * LK_EMBEDDING_DIM, b->v + i * LK_EMBEDDING_DIM, sizeof(float) * LK_EMBEDDING_DIM);
		b->refs[kept] = ref;
		b->prints[kept++] = b->prints[i];
	}
	b->n = kept;
	for (size_t i = 0; i < kept; i++)
		lk__emb_centre(b->v + i * LK_EMBEDDING_DIM, e->mean);
	e->n += kept;
	qsort(e->covered, e->n_covered, sizeof *e->covered, by_id);
	return LK_OK;
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
		e->copy = (float)lk__db_meta_number(reg, "embed_copy", LK_DEFAULT_EMBED_COPY);
		e->similar = (float)lk__db_meta_number(reg, "embed_similar", LK_DEFAULT_EMBED_SIMILAR);
		e->region_copy = (float)lk__db_meta_number(reg, "region_copy", LK_DEFAULT_REGION_COPY);
		e->region_similar = (float)lk__db_meta_number(reg, "region_similar", LK_DEFAULT_REGION_SIMILAR);
		rc = use_ivf(e, b, snap, reg);
		if (rc != LK_OK) {
			lk__emb_free(e);
			e = NULL;
		}
	}
	if (e && !e->ivf) {
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
			lk__emb_centre(b->v + i * LK_EMBEDDING_DIM, e->mean);
		e->n = b->n;
	}
	if (e && b->n) {
		FaissIndexFlatIP *index = NULL;
		if (faiss_IndexFlatIP_new_with(&index, LK_EMBEDDING_DIM) != 0 ||
		    faiss_Index_add((FaissIndex *)index, (idx_t)b->n, b->v) != 0) {
			rc = lk__faiss_fail("building the embedding index");
			if (index)
				faiss_Index_free((FaissIndex *)index);
			lk__emb_free(e);
			e = NULL;
		} else {
			assert(faiss_Index_d((FaissIndex *)index) == LK_EMBEDDING_DIM);
			assert(faiss_Index_ntotal((FaissIndex *)index) == (idx_t)b->n);
			e->index = (struct FaissIndex_H *)index;
			e->refs = b->refs;
			b->refs = NULL;
		}
	}
	lk__emb_builder_free(b);
	snap->emb = e;
	return rc;
}

/* The exact index's `k` best into sim/refs; returns how many, or a negative error. */
static int search_exact(const struct snap_embeddings *e, const float *q, int k, float *sim, uint32_t *refs)
{
	idx_t labels[LK_EMB_SEARCH_MAX];
	float scores[LK_EMB_SEARCH_MAX];
	if (k > LK_EMB_SEARCH_MAX)
		k = LK_EMB_SEARCH_MAX;
	assert(faiss_Index_d((const FaissIndex *)e->index) == LK_EMBEDDING_DIM);
	if (faiss_Index_search((const FaissIndex *)e->index, 1, q, k, scores, labels) != 0)
		return lk__faiss_fail("searching embeddings");
	int n = 0;
	for (int i = 0; i < k; i++)
		if (labels[i] >= 0 && (size_t)labels[i] < (e->ivf ? e->n - (size_t)e->ivf->header.vectors : e->n)) {
			sim[n] = scores[i];
			refs[n++] = e->refs[labels[i]];
		}
	return n;
}

/* The approximate index's best, mapped to this snapshot's references: ids it no longer has
 * (removed, disabled, reused) are dropped, which is why it is asked for more than `k`. */
static int search_ivf(const struct snap_embeddings *e, const float *q, int k, float *sim, uint32_t *refs)
{
	idx_t labels[LK_EMB_SEARCH_MAX];
	float scores[LK_EMB_SEARCH_MAX];
	k = k * 2 + 16 < LK_EMB_SEARCH_MAX ? k * 2 + 16 : LK_EMB_SEARCH_MAX;
	assert(faiss_Index_d((const FaissIndex *)e->ivf->index) == LK_EMBEDDING_DIM);
	if (faiss_Index_search((const FaissIndex *)e->ivf->index, 1, q, k, scores, labels) != 0)
		return lk__faiss_fail("searching the embedding index");
	int n = 0;
	for (int i = 0; i < k; i++) {
		if (labels[i] < 0)
			continue;
		const struct snap_covered key = { labels[i] / LK_VIEWS, 0 };
		const struct snap_covered *c = bsearch(&key, e->covered, e->n_covered, sizeof key, by_id);
		if (c) {
			sim[n] = scores[i];
			refs[n++] = c->ref;
		}
	}
	return n;
}

int lk__emb_search(const struct snap_embeddings *e, const lk_embedding *query, int k, float *sim, uint32_t *refs)
{
	if ((size_t)k > e->n)
		k = (int)e->n;
	float q[LK_EMBEDDING_DIM];
	memcpy(q, query->v, sizeof q);
	lk__emb_centre(q, e->mean);
	if (k > LK_EMB_HITS)
		k = LK_EMB_HITS;
	omp_set_num_threads(1); /* see lk__snapshot_search */
	if (!e->ivf)
		return search_exact(e, q, k, sim, refs);
	float s[2 * LK_EMB_SEARCH_MAX];
	uint32_t r[2 * LK_EMB_SEARCH_MAX];
	int n = search_ivf(e, q, k, s, r);
	if (n >= 0 && e->index) {
		const int more = search_exact(e, q, k, s + n, r + n);
		n = more < 0 ? more : n + more;
	}
	if (n < 0)
		return n;
	/* Merged best first: both lists are sorted, a few dozen entries, so a selection will do. */
	int out = 0;
	for (; out < k && out < n; out++) {
		int best = out;
		for (int i = out + 1; i < n; i++)
			if (s[i] > s[best])
				best = i;
		const float ts = s[out];
		const uint32_t tr = r[out];
		s[out] = s[best], r[out] = r[best];
		s[best] = ts, r[best] = tr;
		sim[out] = s[out];
		refs[out] = r[out];
	}
	return out;
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
	/* No other character among the nearest: when vectors were left unreturned (the depth, or
	 * an IVF index's filtered hits), the last returned bounds the next character's similarity
	 * from above, so the lead is not overstated; when every vector came back, there is no
	 * rival, and the lead is the similarity itself. */
	const float next = other < k ? sim[other] : (size_t)k < snap->emb->n ? sim[k - 1] : 0;
	*lead = sim[0] - next;
	return 1;
}
