/* Snapshots: the registry as the matcher sees it, one immutable picture per version, with the
 * faiss binary index over the references' PDQ hashes. */
#include "index/search/search.h"
#include "index/search/faiss_c_gaps.h"

#include <assert.h>
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
	lk__bank_free(s->bank);
	free(s->calibration);
	free(s);
}

void lk__snapshot_release(struct snapshot *snap)
{
	if (!snap)
		return;
	const int before = atomic_fetch_sub(&snap->refcount, 1);
	assert(before > 0 && "a snapshot released more often than acquired");
	if (before == 1)
		snapshot_free(snap);
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
		return lk__faiss_fail("creating the index");
	if (faiss_IndexBinary_add(index, (idx_t)g->n, g->codes) != 0) {
		faiss_IndexBinary_free(index);
		return lk__faiss_fail("adding hashes");
	}
	*out = (struct FaissIndexBinary_H *)index;
	return LK_OK;
}

static void grow_free(struct growing *g)
{
	free(g->codes);
	free(g->meta);
	memset(g, 0, sizeof *g);
}

/* The enabled characters, by id, into s->characters, with their ids (ordered) into *ids. */
static int read_characters(struct snapshot *s, int64_t **ids_out, lk_registry *reg)
{
	sqlite3_stmt *st = NULL;
	int rc = lk__db_prepare(reg, &st,
				"SELECT id, slug, name, COALESCE(block_threshold, ?1), COALESCE(review_threshold, ?2),"
				" embed_copy, embed_similar, franchise, block_on_character,"
				" character_threshold, calibrated_threshold FROM characters WHERE enabled ORDER BY id");
	if (rc != LK_OK)
		return rc;
	sqlite3_bind_int(st, 1, LK_DEFAULT_BLOCK_THRESHOLD);
	sqlite3_bind_int(st, 2, LK_DEFAULT_REVIEW_THRESHOLD);
	size_t cap = 0;
	int64_t *char_ids = NULL;
	int step;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if (s->n_characters == cap) {
			cap = cap ? cap * 2 : 64;
			struct snap_character *c = realloc(s->characters, cap * sizeof *c);
			if (c)
				s->characters = c;
			int64_t *ids = c ? realloc(char_ids, cap * sizeof *ids) : NULL;
			if (!ids) {
				rc = lk__fail(LK_ENOMEM, "building a registry snapshot");
				break;
			}
			char_ids = ids;
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
		const unsigned char *franchise = sqlite3_column_text(st, 7);
		snprintf(c->franchise, sizeof c->franchise, "%s", franchise && *franchise ? (const char *)franchise : c->slug);
		c->block_on_character = sqlite3_column_int(st, 8);
		/* Its own threshold, else the one a calibration gave it, else (resolved below) the
		 * registry's. */
		c->own_character_threshold = sqlite3_column_type(st, 9) != SQLITE_NULL;
		const int from = c->own_character_threshold ? 9 : 10;
		c->character_threshold = sqlite3_column_type(st, from) == SQLITE_NULL ? LK_EMBED_INHERIT
										      : (float)sqlite3_column_double(st, from);
		c->embedded_refs = 0;
		if (c->review_threshold > s->max_review_threshold)
			s->max_review_threshold = c->review_threshold;
	}
	if (rc == LK_OK && step != SQLITE_DONE)
		rc = lk__db_fail(reg, "reading characters");
	sqlite3_finalize(st);
	if (rc != LK_OK) {
		free(char_ids);
		return rc;
	}
	*ids_out = char_ids;
	return LK_OK;
}

/* Where one reference's hashes and embedding go while the snapshot is built. */
struct gathering {
	struct growing stored, bare;
	struct emb_builder emb;
};

static void gathering_free(struct gathering *g)
{
	grow_free(&g->stored);
	grow_free(&g->bare);
	lk__emb_builder_free(&g->emb);
}

/* One row of the references query (id, character, hash, allow, exact_variants, variants,
 * embedding) as reference `ref` of character `ci`. */
static int gather_reference(struct snapshot *s, struct gathering *g, sqlite3_stmt *st, size_t ci, size_t *cap)
{
	if (s->n_refs == *cap) {
		const size_t grown = *cap ? *cap * 2 : 1024;
		struct snap_reference *r = realloc(s->refs, grown * sizeof *r);
		if (!r)
			return lk__fail(LK_ENOMEM, "building a registry snapshot");
		s->refs = r;
		*cap = grown;
	}
	const uint32_t ref = (uint32_t)s->n_refs++;
	s->refs[ref] = (struct snap_reference){ sqlite3_column_int64(st, 0), (uint32_t)ci, sqlite3_column_int(st, 3) };
	const unsigned char *hash = sqlite3_column_blob(st, 2);
	const int exact = sqlite3_column_int(st, 4) &&
			  sqlite3_column_bytes(st, 5) == (LK_DIHEDRAL_COUNT - 1) * LK_PDQ_BYTES;
	const unsigned char *variants = exact ? sqlite3_column_blob(st, 5) : NULL;
	int rc = grow_push(&g->stored, hash, ref, LK_DIHEDRAL_ORIGINAL);
	for (int d = 1; exact && d < LK_DIHEDRAL_COUNT && rc == LK_OK; d++)
		rc = grow_push(&g->stored, variants + (size_t)(d - 1) * LK_PDQ_BYTES, ref, (uint8_t)d);
	if (!exact && rc == LK_OK)
		rc = grow_push(&g->bare, hash, ref, LK_DIHEDRAL_ORIGINAL);
	if (rc == LK_OK)
		rc = lk__emb_push(&g->emb, sqlite3_column_blob(st, 6), sqlite3_column_bytes(st, 6), ref);
	if (rc == LK_OK && sqlite3_column_bytes(st, 6) == (int)(sizeof(lk_embedding) * LK_VIEWS))
		s->characters[ci].embedded_refs++;
	return rc;
}

/* The matchable references of the characters read (char_ids, ordered), their hashes and
 * embeddings into `g`. */
static int read_references(struct snapshot *s, struct gathering *g, const int64_t *char_ids, lk_registry *reg)
{
	sqlite3_stmt *st = NULL;
	int rc = lk__db_prepare(reg, &st,
				"SELECT r.id, r.character_id, r.hash, r.allow, r.exact_variants, r.variants, r.embedding FROM refs r"
				" JOIN characters c ON c.id = r.character_id"
				" WHERE c.enabled AND r.quality >= ?1 ORDER BY r.character_id, r.id");
	if (rc != LK_OK)
		return rc;
	sqlite3_bind_int(st, 1, LK_MIN_QUALITY);
	size_t cap = 0, ci = 0;
	int step = SQLITE_DONE;
	while (rc == LK_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
		const int64_t cid = sqlite3_column_int64(st, 1);
		while (ci < s->n_characters && char_ids[ci] < cid) /* both ordered by id */
			ci++;
		if (ci == s->n_characters || char_ids[ci] != cid || sqlite3_column_bytes(st, 2) != LK_PDQ_BYTES)
			continue;
		rc = gather_reference(s, g, st, ci, &cap);
	}
	if (rc == LK_OK && step != SQLITE_DONE)
		rc = lk__db_fail(reg, "reading references");
	sqlite3_finalize(st);
	return rc;
}

/* The gathered hashes as the snapshot's two binary indexes, with what each position means. */
static int index_hashes(struct snapshot *s, struct gathering *g)
{
	int rc = make_index(&s->stored, &g->stored);
	if (rc == LK_OK)
		rc = make_index(&s->bare, &g->bare);
	if (rc == LK_OK && g->bare.n && !(s->bare_refs = malloc(g->bare.n * sizeof *s->bare_refs)))
		rc = lk__fail(LK_ENOMEM, "building a registry snapshot");
	if (rc != LK_OK)
		return rc;
	for (size_t i = 0; i < g->bare.n; i++)
		s->bare_refs[i] = g->bare.meta[i].ref;
	s->codes = g->stored.meta;
	s->n_codes = g->stored.n;
	s->n_bare = g->bare.n;
	g->stored.meta = NULL;
	return LK_OK;
}

/* Each character's embedding and character thresholds, resolved once: its own, else the
 * registry's. */
static void resolve_embedding_thresholds(struct snapshot *s)
{
	for (size_t i = 0; i < s->n_characters; i++)
		if (s->characters[i].character_threshold == LK_EMBED_INHERIT)
			s->characters[i].character_threshold = s->character_threshold;
	for (size_t i = 0; s->emb && i < s->n_characters; i++) {
		struct snap_character *c = &s->characters[i];
		if (c->embed_copy == LK_EMBED_INHERIT)
			c->embed_copy = s->emb->copy;
		if (c->embed_similar == LK_EMBED_INHERIT)
			c->embed_similar = s->emb->similar;
		if (c->embed_similar > c->embed_copy) /* one set, the other inherited above it */
			c->embed_similar = c->embed_copy;
	}
}

/* Reads enabled characters and their matchable references (caller holds db_lock). */
static int build(struct snapshot **out, lk_registry *reg, uint64_t version)
{
	struct snapshot *s = calloc(1, sizeof *s);
	if (!s)
		return lk__fail(LK_ENOMEM, "building a registry snapshot");
	atomic_init(&s->refcount, 1);
	s->version = version;
	s->embedder_generation = reg->embedder_generation;
	s->max_review_threshold = -1;
	int64_t *char_ids = NULL;
	struct gathering g = { 0 };
	int rc = read_characters(s, &char_ids, reg);
	if (rc == LK_OK)
		rc = read_references(s, &g, char_ids, reg);
	free(char_ids);
	if (rc == LK_OK)
		rc = index_hashes(s, &g);
	if (rc == LK_OK)
		rc = lk__emb_finish(s, &g.emb, reg);
	if (rc == LK_OK)
		rc = lk__bank_build(s, reg);
	if (rc == LK_OK)
		resolve_embedding_thresholds(s);
	gathering_free(&g);
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
		const int stale = !reg->snap || reg->snap->version != version ||
				  reg->snap->embedder_generation != reg->embedder_generation;
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
	const int before = atomic_fetch_add(&reg->snap->refcount, 1);
	assert(before > 0 && "the registry's current snapshot holds a reference of its own");
	(void)before;
	*out = reg->snap;
	pthread_mutex_unlock(&reg->snap_lock);
	return LK_OK;
}
