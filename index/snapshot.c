/* Snapshots: the registry as the matcher sees it, one immutable picture per version, with the
 * faiss binary index over the references' PDQ hashes. */
#include "registry_internal.h"
#include "faiss_c_gaps.h"

#include <faiss/c_api/error_c.h>
#include <faiss/c_api/IndexBinary_c.h>
#include <faiss/c_api/impl/AuxIndexStructures_c.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

static void snapshot_free(struct snapshot *s)
{
	if (s->stored)
		faiss_IndexBinary_free((FaissIndexBinary *)s->stored);
	if (s->bare)
		faiss_IndexBinary_free((FaissIndexBinary *)s->bare);
	free(s->codes);
	free(s->bare_refs);
	free(s->refs);
	free(s->characters);
	lk__emb_free(s->emb);
	free(s);
}

void lk__snapshot_release(struct snapshot *snap)
{
	if (snap && atomic_fetch_sub(&snap->refcount, 1) == 1)
		snapshot_free(snap);
}

static int faiss_failure(const char *what)
{
	const char *why = faiss_get_last_error();
	return lk__fail(LK_EINTERNAL, "faiss: %s: %s", what, why ? why : "unknown error");
}

/* Codes gathered for one index, with what each position means. */
struct growing {
	unsigned char *codes;
	struct snap_code *meta;
	size_t n, cap;
};

static int grow_push(struct growing *g, const unsigned char *code, uint32_t ref, uint8_t transform)
{
	if (g->n == g->cap) {
		size_t cap = g->cap ? g->cap * 2 : 4096;
		unsigned char *c = realloc(g->codes, cap * LK_PDQ_BYTES);
		if (c)
			g->codes = c;
		struct snap_code *m = realloc(g->meta, cap * sizeof *m);
		if (m)
			g->meta = m;
		if (!c || !m)
			return lk__fail(LK_ENOMEM, "building a registry snapshot");
		g->cap = cap;
	}
	memcpy(g->codes + g->n * LK_PDQ_BYTES, code, LK_PDQ_BYTES);
	g->meta[g->n++] = (struct snap_code){ ref, transform };
	return LK_OK;
}

/* An exact binary index over the gathered codes; NULL when there are none. */
static int make_index(struct FaissIndexBinary_H **out, const struct growing *g)
{
	*out = NULL;
	if (!g->n)
		return LK_OK;
	FaissIndexBinary *index = NULL;
	if (faiss_index_binary_factory(&index, LK_PDQ_BITS, "BFlat") != 0)
		return faiss_failure("creating the index");
	if (faiss_IndexBinary_add(index, (idx_t)g->n, g->codes) != 0) {
		faiss_IndexBinary_free(index);
		return faiss_failure("adding hashes");
	}
	*out = (struct FaissIndexBinary_H *)index;
	return LK_OK;
}

/* Reads enabled characters and their matchable references (caller holds db_lock). */
static int build(struct snapshot **out, lk_registry *reg, uint64_t version)
{
	struct snapshot *s = calloc(1, sizeof *s);
	if (!s)
		return lk__fail(LK_ENOMEM, "building a registry snapshot");
	atomic_init(&s->refcount, 1);
	s->version = version;
	s->max_review_threshold = -1;
	sqlite3_stmt *st = NULL;
	int rc = lk__db_prepare(reg, &st,
				"SELECT id, slug, name, COALESCE(block_threshold, ?1), COALESCE(review_threshold, ?2),"
				" embed_copy, embed_similar FROM characters WHERE enabled ORDER BY id");
	size_t cap = 0;
	int64_t *char_ids = NULL;
	if (rc == LK_OK) {
		sqlite3_bind_int(st, 1, LK_DEFAULT_BLOCK_THRESHOLD);
		sqlite3_bind_int(st, 2, LK_DEFAULT_REVIEW_THRESHOLD);
		int step;
		while ((step = sqlite3_step(st)) == SQLITE_ROW) {
			if (s->n_characters == cap) {
				cap = cap ? cap * 2 : 64;
				struct snap_character *c = realloc(s->characters, cap * sizeof *c);
				int64_t *ids = realloc(char_ids, cap * sizeof *ids);
				if (!c || !ids) {
					free(c ? c : s->characters);
					free(ids ? ids : char_ids);
					s->characters = NULL, char_ids = NULL;
					rc = lk__fail(LK_ENOMEM, "building a registry snapshot");
					break;
				}
				s->characters = c, char_ids = ids;
			}
			struct snap_character *c = &s->characters[s->n_characters];
			char_ids[s->n_characters++] = sqlite3_column_int64(st, 0);
			snprintf(c->slug, sizeof c->slug, "%s", (const char *)sqlite3_column_text(st, 1));
			snprintf(c->name, sizeof c->name, "%s", (const char *)sqlite3_column_text(st, 2));
			c->block_threshold = sqlite3_column_int(st, 3);
			c->review_threshold = sqlite3_column_int(st, 4);
			c->embed_copy = sqlite3_column_type(st, 5) == SQLITE_NULL ? LK_EMBED_INHERIT
										  : (float)sqlite3_column_double(st, 5);
			c->embed_similar = sqlite3_column_type(st, 6) == SQLITE_NULL ? LK_EMBED_INHERIT
										     : (float)sqlite3_column_double(st, 6);
			if (c->review_threshold > s->max_review_threshold)
				s->max_review_threshold = c->review_threshold;
		}
		if (rc == LK_OK && step != SQLITE_DONE)
			rc = lk__db_fail(reg, "reading characters");
		sqlite3_finalize(st);
		st = NULL;
	}
	if (rc == LK_OK)
		rc = lk__db_prepare(reg, &st,
				    "SELECT r.id, r.character_id, r.hash, r.allow, r.exact_variants, r.variants, r.embedding FROM refs r"
				    " JOIN characters c ON c.id = r.character_id"
				    " WHERE c.enabled AND r.quality >= ?1 ORDER BY r.character_id, r.id");
	struct growing stored = { 0 }, bare = { 0 };
	struct emb_builder emb = { 0 };
	if (rc == LK_OK) {
		sqlite3_bind_int(st, 1, LK_MIN_QUALITY);
		size_t rcap = 0, ci = 0;
		int step = SQLITE_DONE;
		while (rc == LK_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
			const int64_t cid = sqlite3_column_int64(st, 1);
			while (ci < s->n_characters && char_ids[ci] < cid) /* both ordered by id */
				ci++;
			if (ci == s->n_characters || char_ids[ci] != cid || sqlite3_column_bytes(st, 2) != LK_PDQ_BYTES)
				continue;
			if (s->n_refs == rcap) {
				rcap = rcap ? rcap * 2 : 1024;
				struct snap_reference *r = realloc(s->refs, rcap * sizeof *r);
				if (!r) {
					rc = lk__fail(LK_ENOMEM, "building a registry snapshot");
					break;
				}
				s->refs = r;
			}
			const uint32_t ref = (uint32_t)s->n_refs++;
			s->refs[ref] = (struct snap_reference){ sqlite3_column_int64(st, 0), (uint32_t)ci,
								sqlite3_column_int(st, 3) };
			const unsigned char *hash = sqlite3_column_blob(st, 2);
			const int exact = sqlite3_column_int(st, 4) &&
					  sqlite3_column_bytes(st, 5) == (LK_DIHEDRAL_COUNT - 1) * LK_PDQ_BYTES;
			const unsigned char *variants = exact ? sqlite3_column_blob(st, 5) : NULL;
			if (grow_push(&stored, hash, ref, LK_DIHEDRAL_ORIGINAL) != LK_OK)
				rc = LK_ENOMEM;
			for (int d = 1; exact && d < LK_DIHEDRAL_COUNT && rc == LK_OK; d++)
				rc = grow_push(&stored, variants + (size_t)(d - 1) * LK_PDQ_BYTES, ref, (uint8_t)d);
			if (!exact && rc == LK_OK)
				rc = grow_push(&bare, hash, ref, LK_DIHEDRAL_ORIGINAL);
			if (rc == LK_OK)
				rc = lk__emb_push(&emb, sqlite3_column_blob(st, 6), sqlite3_column_bytes(st, 6), ref);
		}
		if (rc == LK_OK && step != SQLITE_DONE)
			rc = lk__db_fail(reg, "reading references");
		sqlite3_finalize(st);
	}
	free(char_ids);
	if (rc == LK_OK)
		rc = make_index(&s->stored, &stored);
	if (rc == LK_OK)
		rc = make_index(&s->bare, &bare);
	if (rc == LK_OK)
		rc = lk__emb_finish(s, &emb, reg);
	free(emb.v);
	free(emb.refs);
	free(emb.prints);
	/* Each character's embedding thresholds, resolved once: its own, else the registry's. */
	for (size_t i = 0; rc == LK_OK && s->emb && i < s->n_characters; i++) {
		struct snap_character *c = &s->characters[i];
		if (c->embed_copy == LK_EMBED_INHERIT)
			c->embed_copy = s->emb->copy;
		if (c->embed_similar == LK_EMBED_INHERIT)
			c->embed_similar = s->emb->similar;
		if (c->embed_similar > c->embed_copy) /* one set, the other inherited above it */
			c->embed_similar = c->embed_copy;
	}
	if (rc == LK_OK && bare.n && !(s->bare_refs = malloc(bare.n * sizeof *s->bare_refs)))
		rc = lk__fail(LK_ENOMEM, "building a registry snapshot");
	for (size_t i = 0; rc == LK_OK && i < bare.n; i++)
		s->bare_refs[i] = bare.meta[i].ref;
	s->codes = stored.meta;
	s->n_codes = stored.n;
	s->n_bare = bare.n;
	stored.meta = NULL;
	free(stored.codes);
	free(bare.codes);
	free(bare.meta);
	if (rc != LK_OK) {
		snapshot_free(s);
		return rc;
	}
	*out = s;
	return LK_OK;
}

int lk__snapshot_acquire(struct snapshot **out, lk_registry *reg)
{
	uint64_t version;
	pthread_mutex_lock(&reg->db_lock);
	int rc = lk__db_version(reg, &version);
	struct snapshot *fresh = NULL;
	if (rc == LK_OK) {
		pthread_mutex_lock(&reg->snap_lock);
		const int stale = !reg->snap || reg->snap->version != version;
		pthread_mutex_unlock(&reg->snap_lock);
		/* Rebuilt while holding db_lock, so two threads noticing the change build it once, and
		 * inside one read transaction, so a writer in another process committing meanwhile
		 * cannot leave it with characters of one version and references of another. */
		if (stale) {
			rc = lk__db_exec(reg, "BEGIN");
			if (rc == LK_OK && (rc = lk__db_version(reg, &version)) == LK_OK)
				rc = build(&fresh, reg, version);
			if (rc == LK_OK)
				rc = lk__db_exec(reg, "COMMIT");
			else
				lk__db_rollback(reg);
			if (rc != LK_OK && fresh) {
				snapshot_free(fresh);
				fresh = NULL;
			}
		}
	}
	pthread_mutex_unlock(&reg->db_lock);
	if (rc != LK_OK)
		return rc;
	pthread_mutex_lock(&reg->snap_lock);
	if (fresh) {
		struct snapshot *old = reg->snap;
		reg->snap = fresh;
		if (old)
			lk__snapshot_release(old);
	}
	atomic_fetch_add(&reg->snap->refcount, 1);
	*out = reg->snap;
	pthread_mutex_unlock(&reg->snap_lock);
	return LK_OK;
}

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
		return faiss_failure("allocating a search result");
	/* faiss' binary range search keeps distances strictly below the radius. */
	if (faiss_IndexBinary_range_search((const FaissIndexBinary *)index, nq, queries, radius + 1, *res) != 0) {
		faiss_RangeSearchResult_free(*res);
		return faiss_failure("searching");
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
			const lk_embedding *emb, lk_match *out, int cap, int *n_out)
{
	*n_out = 0;
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
		float sim[64];
		uint32_t refs[64];
		const int k = lk__emb_search(snap->emb, emb, 64, sim, refs);
		if (k < 0)
			return k;
		for (int i = 0; i < k; i++)
			consider_embedding(found, &n, cap, snap, refs[i], sim[i]);
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
