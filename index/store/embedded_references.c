/* References with given embeddings, for tests and benches: the registry's embedding search at
 * sizes and with vectors no CNN run could provide in reasonable time. */
#include "index/store/store.h"

#include <string.h>
#include <time.h>

int lk__reference_add_embedded(int64_t *first_id, lk_registry *reg, const char *slug, const float *views,
			       size_t n_refs, int n_views, const char *embedder_id)
{
	lk__clear_error();
	if (!reg || !slug || !views || !embedder_id || n_views < 1 || n_views > LK_VIEWS)
		return lk__fail(LK_EINVAL, "lk__reference_add_embedded: bad argument");
	const size_t one = sizeof(float) * LK_EMBEDDING_DIM * (size_t)n_views;
	pthread_mutex_lock(&reg->db_lock);
	int64_t character_id;
	sqlite3_stmt *st = NULL;
	int rc = lk__db_character_id(reg, slug, &character_id);
	if (rc == LK_OK)
		rc = lk__db_prepare(reg, &st, "INSERT INTO refs(character_id, hash, variants, quality, added_at,"
					      " embedding) VALUES(?,?,?,100,?,?)");
	if (rc == LK_OK)
		rc = lk__db_begin(reg);
	if (rc == LK_OK)
		rc = lk__db_claim_embedder(reg, embedder_id);
	for (size_t i = 0; rc == LK_OK && i < n_refs; i++) {
		const unsigned char *blob = (const unsigned char *)views + i * one;
		/* A hash of its own per reference, far from the others by chance alone. */
		unsigned char hash[LK_DIHEDRAL_COUNT * LK_PDQ_BYTES];
		for (size_t b = 0; b < sizeof hash; b += 8) {
			const uint64_t w = lk__checksum(blob, one, b);
			memcpy(hash + b, &w, 8);
		}
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, character_id);
		sqlite3_bind_blob(st, 2, hash, LK_PDQ_BYTES, SQLITE_STATIC);
		sqlite3_bind_blob(st, 3, hash + LK_PDQ_BYTES, (LK_DIHEDRAL_COUNT - 1) * LK_PDQ_BYTES, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, (sqlite3_int64)time(NULL));
		sqlite3_bind_blob(st, 5, blob, (int)one, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = lk__db_fail(reg, "adding a reference");
		else if (i == 0 && first_id)
			*first_id = sqlite3_last_insert_rowid(reg->db);
	}
	if (rc == LK_OK)
		rc = lk__db_commit(reg);
	else if (st)
		lk__db_rollback(reg);
	sqlite3_finalize(st);
	pthread_mutex_unlock(&reg->db_lock);
	return rc;
}
