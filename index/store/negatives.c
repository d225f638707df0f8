/* The negative bank in the record: add (the picture's embedding, never the picture), remove,
 * list, and read every vector for a snapshot. */
#include "index/store/store.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <vips/vips.h> /* GLib: SHA-256 */

struct adding {
	lk_registry *reg;
	int64_t id;
};

static int insert(struct adding *a, const lk_embedding *emb, const char *sha, const char *source)
{
	lk_registry *reg = a->reg;
	pthread_mutex_lock(&reg->db_lock);
	sqlite3_stmt *st = NULL;
	int rc = lk__db_begin(reg);
	if (rc == LK_OK)
		rc = lk__db_claim_embedder(reg, lk_embedder_id(reg->embedder));
	if (rc == LK_OK)
		rc = lk__db_prepare(reg, &st,
				    "INSERT INTO negatives(sha256, source, embedding, added_at) VALUES(?1, ?2, ?3, ?4)");
	if (rc == LK_OK) {
		sqlite3_bind_text(st, 1, sha, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, source, -1, SQLITE_STATIC);
		sqlite3_bind_blob(st, 3, emb->v, (int)sizeof emb->v, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, (sqlite3_int64)time(NULL));
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = sqlite3_extended_errcode(reg->db) == SQLITE_CONSTRAINT_UNIQUE
				     ? lk__fail(LK_EEXISTS, "%s is in the negative bank already", source)
				     : lk__db_fail(reg, "adding a negative");
		else
			a->id = sqlite3_last_insert_rowid(reg->db);
	}
	sqlite3_finalize(st);
	rc = rc == LK_OK ? lk__db_commit(reg) : (lk__db_rollback(reg), rc);
	pthread_mutex_unlock(&reg->db_lock);
	return rc;
}

static int add_bytes(const void *data, size_t len, const char *name, const lk_ingest_options *opts, void *ctx)
{
	struct adding *a = ctx;
	lk_embedding emb;
	int rc = lk_embed_bytes(&emb, a->reg->embedder, data, len, opts);
	if (rc != LK_OK)
		return rc;
	gchar *sha = g_compute_checksum_for_data(G_CHECKSUM_SHA256, data, len);
	if (!sha)
		return lk__fail(LK_ENOMEM, "hashing the negative's bytes");
	rc = insert(a, &emb, sha, name ? name : "");
	g_free(sha);
	return rc;
}

int lk_negative_add_file(int64_t *out_id, lk_registry *reg, const char *path, const lk_ingest_options *opts)
{
	lk__clear_error();
	if (!reg || !path)
		return lk__fail(LK_EINVAL, "lk_negative_add_file: NULL argument");
	if (!reg->embedder)
		return lk__fail(LK_EINVAL, "the negative bank holds embeddings: attach an embedder first");
	struct adding a = { reg, 0 };
	const int rc = lk__with_file(path, opts, add_bytes, &a);
	if (rc == LK_OK && out_id)
		*out_id = a.id;
	return rc;
}

int lk_negative_remove(lk_registry *reg, int64_t id)
{
	lk__clear_error();
	if (!reg)
		return lk__fail(LK_EINVAL, "lk_negative_remove: NULL argument");
	pthread_mutex_lock(&reg->db_lock);
	sqlite3_stmt *st = NULL;
	int rc = lk__db_begin(reg);
	if (rc == LK_OK)
		rc = lk__db_prepare(reg, &st, "DELETE FROM negatives WHERE id = ?");
	if (rc == LK_OK) {
		sqlite3_bind_int64(st, 1, id);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = lk__db_fail(reg, "removing a negative");
		else if (sqlite3_changes(reg->db) == 0)
			rc = lk__fail(LK_ENOTFOUND, "no negative %lld in %s", (long long)id, reg->dir);
	}
	sqlite3_finalize(st);
	rc = rc == LK_OK ? lk__db_commit(reg) : (lk__db_rollback(reg), rc);
	pthread_mutex_unlock(&reg->db_lock);
	return rc;
}

int lk_negative_list(lk_negative *out, size_t cap, size_t *total, lk_registry *reg)
{
	lk__clear_error();
	if (!reg || !total || (cap && !out))
		return lk__fail(LK_EINVAL, "lk_negative_list: NULL argument");
	pthread_mutex_lock(&reg->db_lock);
	sqlite3_stmt *st;
	int rc = lk__db_prepare(reg, &st, "SELECT id, source, sha256, added_at FROM negatives ORDER BY id");
	size_t n = 0;
	if (rc == LK_OK) {
		int step;
		while ((step = sqlite3_step(st)) == SQLITE_ROW) {
			if (n < cap) {
				lk_negative *x = &out[n];
				memset(x, 0, sizeof *x);
				x->id = sqlite3_column_int64(st, 0);
				snprintf(x->source, sizeof x->source, "%s", (const char *)sqlite3_column_text(st, 1));
				snprintf(x->sha256, sizeof x->sha256, "%s", (const char *)sqlite3_column_text(st, 2));
				x->added_at = sqlite3_column_int64(st, 3);
			}
			n++;
		}
		if (step != SQLITE_DONE)
			rc = lk__db_fail(reg, "listing negatives");
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&reg->db_lock);
	if (rc == LK_OK)
		*total = n;
	return rc;
}

int lk__db_negatives(lk_registry *reg, float **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	sqlite3_stmt *st;
	int rc = lk__db_prepare(reg, &st, "SELECT embedding FROM negatives ORDER BY id");
	if (rc != LK_OK)
		return rc;
	size_t cap = 0;
	int step;
	while (rc == LK_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
		/* A vector of another size is damage, not a negative: left out. */
		if (sqlite3_column_bytes(st, 0) != (int)sizeof(lk_embedding))
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			float *grown = realloc(*out, sizeof(lk_embedding) * cap);
			if (!grown) {
				rc = lk__fail(LK_ENOMEM, "reading the negative bank");
				break;
			}
			*out = grown;
		}
		memcpy(*out + *n * LK_EMBEDDING_DIM, sqlite3_column_blob(st, 0), sizeof(lk_embedding));
		(*n)++;
	}
	if (rc == LK_OK && step != SQLITE_DONE)
		rc = lk__db_fail(reg, "reading the negative bank");
	sqlite3_finalize(st);
	if (rc != LK_OK) {
		free(*out);
		*out = NULL;
		*n = 0;
	}
	return rc;
}

int lk__negative_add_embedded(lk_registry *reg, const float *vectors, size_t n, const char *embedder_id)
{
	lk__clear_error();
	if (!reg || (n && !vectors) || !embedder_id)
		return lk__fail(LK_EINVAL, "lk__negative_add_embedded: bad argument");
	pthread_mutex_lock(&reg->db_lock);
	sqlite3_stmt *st = NULL;
	int rc = lk__db_begin(reg);
	if (rc == LK_OK)
		rc = lk__db_claim_embedder(reg, embedder_id);
	if (rc == LK_OK)
		rc = lk__db_prepare(reg, &st, "INSERT OR IGNORE INTO negatives(sha256, source, embedding, added_at) VALUES(?1, 'given', ?2, ?3)");
	for (size_t i = 0; rc == LK_OK && i < n; i++) {
		const float *v = vectors + i * LK_EMBEDDING_DIM;
		/* Its own bytes' checksum stands in for a file's SHA-256: the same vector twice is kept once. */
		char key[40];
		snprintf(key, sizeof key, "vector:%016llx", (unsigned long long)lk__checksum(v, sizeof(lk_embedding), 0));
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
		sqlite3_bind_blob(st, 2, v, (int)sizeof(lk_embedding), SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)time(NULL));
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = lk__db_fail(reg, "adding a negative");
	}
	sqlite3_finalize(st);
	rc = rc == LK_OK ? lk__db_commit(reg) : (lk__db_rollback(reg), rc);
	pthread_mutex_unlock(&reg->db_lock);
	return rc;
}
