/* Snapshots: the registry as the matcher sees it, one immutable picture per version, with the
 * faiss binary index over the references' PDQ hashes. */
#include "registry_internal.h"
#include "faiss_binary_factory.h"

#include <faiss/c_api/error_c.h>
#include <faiss/c_api/IndexBinary_c.h>
#include <faiss/c_api/impl/AuxIndexStructures_c.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

static void snapshot_free(struct snapshot *s)
{
	if (s->index)
		faiss_IndexBinary_free((FaissIndexBinary *)s->index);
	free(s->refs);
	free(s->characters);
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

/* Reads enabled characters and their matchable references (caller holds db_lock). */
static int build(struct snapshot **out, lk_registry *reg, uint64_t version)
{
	struct snapshot *s = calloc(1, sizeof *s);
	if (!s)
		return lk__fail(LK_ENOMEM, "building a registry snapshot");
	atomic_init(&s->refcount, 1);
	s->version = version;
	s->max_review_threshold = -1;
	unsigned char *codes = NULL;
	sqlite3_stmt *st = NULL;
	int rc = lk__db_prepare(reg, &st,
				"SELECT id, slug, name, COALESCE(block_threshold, ?1), COALESCE(review_threshold, ?2)"
				" FROM characters WHERE enabled ORDER BY id");
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
				    "SELECT r.id, r.character_id, r.hash, r.allow FROM refs r"
				    " JOIN characters c ON c.id = r.character_id"
				    " WHERE c.enabled AND r.quality >= ?1 ORDER BY r.character_id, r.id");
	if (rc == LK_OK) {
		sqlite3_bind_int(st, 1, LK_MIN_QUALITY);
		size_t rcap = 0, ci = 0;
		int step;
		while ((step = sqlite3_step(st)) == SQLITE_ROW) {
			if (s->n_refs == rcap) {
				rcap = rcap ? rcap * 2 : 1024;
				struct snap_reference *r = realloc(s->refs, rcap * sizeof *r);
				unsigned char *k = realloc(codes, rcap * LK_PDQ_BYTES);
				if (!r || !k) {
					s->refs = r ? r : s->refs;
					codes = k ? k : codes;
					rc = lk__fail(LK_ENOMEM, "building a registry snapshot");
					break;
				}
				s->refs = r, codes = k;
			}
			const int64_t cid = sqlite3_column_int64(st, 1);
			while (ci < s->n_characters && char_ids[ci] < cid) /* both ordered by id */
				ci++;
			if (ci == s->n_characters || char_ids[ci] != cid || sqlite3_column_bytes(st, 2) < LK_PDQ_BYTES)
				continue;
			struct snap_reference *r = &s->refs[s->n_refs];
			r->id = sqlite3_column_int64(st, 0);
			r->character = (uint32_t)ci;
			r->allow = sqlite3_column_int(st, 3);
			memcpy(codes + s->n_refs * LK_PDQ_BYTES, sqlite3_column_blob(st, 2), LK_PDQ_BYTES);
			s->n_refs++;
		}
		if (rc == LK_OK && step != SQLITE_DONE)
			rc = lk__db_fail(reg, "reading references");
		sqlite3_finalize(st);
	}
	free(char_ids);
	if (rc == LK_OK && s->n_refs > 0) {
		FaissIndexBinary *index = NULL;
		if (faiss_index_binary_factory(&index, LK_PDQ_BITS, "BFlat") != 0)
			rc = faiss_failure("creating the index");
		else if (faiss_IndexBinary_add(index, (idx_t)s->n_refs, codes) != 0) {
			rc = faiss_failure("adding hashes");
			faiss_IndexBinary_free(index);
		} else {
			s->index = (struct FaissIndexBinary_H *)index;
		}
	}
	free(codes);
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
		/* Rebuilt while holding db_lock, so two threads noticing the change build it once. */
		if (stale)
			rc = build(&fresh, reg, version);
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

/* Keeps the closest match per reference. */
static void consider(lk_match *found, int *n, int cap, const struct snapshot *snap, size_t pos,
		     int distance, int transform)
{
	const struct snap_reference *r = &snap->refs[pos];
	const struct snap_character *c = &snap->characters[r->character];
	if (distance > c->review_threshold)
		return;
	for (int i = 0; i < *n; i++)
		if (found[i].reference_id == r->id) {
			if (distance < found[i].distance) {
				found[i].distance = distance;
				found[i].transform = (lk_dihedral)transform;
			}
			return;
		}
	if (*n == cap) {
		/* Full: replace the farthest if this one is closer. */
		int worst = 0;
		for (int i = 1; i < *n; i++)
			if (found[i].distance > found[worst].distance)
				worst = i;
		if (found[worst].distance <= distance)
			return;
		(*n)--;
		found[worst] = found[*n];
	}
	lk_match *m = &found[(*n)++];
	memset(m, 0, sizeof *m);
	m->reference_id = r->id;
	snprintf(m->character, sizeof m->character, "%s", c->slug);
	snprintf(m->character_name, sizeof m->character_name, "%s", c->name);
	m->distance = distance;
	m->transform = (lk_dihedral)transform;
	m->block_threshold = c->block_threshold;
	m->review_threshold = c->review_threshold;
	m->verdict = distance <= c->block_threshold ? LK_VERDICT_BLOCK : LK_VERDICT_REVIEW;
	m->allow = r->allow;
}

static int by_distance(const void *a, const void *b)
{
	const lk_match *x = a, *y = b;
	if (x->distance != y->distance)
		return x->distance - y->distance;
	return (x->reference_id > y->reference_id) - (x->reference_id < y->reference_id);
}

int lk__snapshot_search(const struct snapshot *snap, const lk_pdq_hash hashes[LK_DIHEDRAL_COUNT],
			lk_match *out, int cap, int *n_out)
{
	*n_out = 0;
	if (!snap->index || snap->max_review_threshold < 0)
		return LK_OK;
	/* An inline check runs on its caller's thread; faiss' OpenMP team would only contend with
	 * the other checking threads. omp_set_num_threads affects this thread alone. */
	omp_set_num_threads(1);
	FaissRangeSearchResult *res = NULL;
	if (faiss_RangeSearchResult_new(&res, LK_DIHEDRAL_COUNT) != 0)
		return faiss_failure("allocating a search result");
	unsigned char queries[LK_DIHEDRAL_COUNT][LK_PDQ_BYTES];
	for (int d = 0; d < LK_DIHEDRAL_COUNT; d++)
		memcpy(queries[d], hashes[d].bytes, LK_PDQ_BYTES);
	/* faiss' binary range search keeps distances strictly below the radius. */
	if (faiss_IndexBinary_range_search((const FaissIndexBinary *)snap->index, LK_DIHEDRAL_COUNT,
					   &queries[0][0], snap->max_review_threshold + 1, res) != 0) {
		faiss_RangeSearchResult_free(res);
		return faiss_failure("searching");
	}
	size_t *lims;
	idx_t *labels;
	float *distances;
	faiss_RangeSearchResult_lims(res, &lims);
	faiss_RangeSearchResult_labels(res, &labels, &distances);
	lk_match found[LK_MAX_MATCHES];
	int n = 0;
	for (int d = 0; d < LK_DIHEDRAL_COUNT; d++)
		for (size_t k = lims[d]; k < lims[d + 1]; k++)
			if (labels[k] >= 0 && (size_t)labels[k] < snap->n_refs)
				consider(found, &n, cap < LK_MAX_MATCHES ? cap : LK_MAX_MATCHES, snap,
					 (size_t)labels[k], (int)distances[k], d);
	faiss_RangeSearchResult_free(res);
	qsort(found, (size_t)n, sizeof found[0], by_distance);
	memcpy(out, found, sizeof found[0] * (size_t)n);
	*n_out = n;
	return LK_OK;
}
