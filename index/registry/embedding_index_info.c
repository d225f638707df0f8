/* lk_registry_index_info: the index file's state and what it covers of the registry now. */
#include "index/registry/registry.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const char *lk_index_state_name(int state)
{
	switch (state) {
	case LK_INDEX_NONE: return "none";
	case LK_INDEX_CURRENT: return "current";
	case LK_INDEX_STALE: return "stale";
	case LK_INDEX_REFUSED: return "refused";
	default: return "?";
	}
}

/* Embedded references now, and how many of them the index does not hold as they are stored
 * (added since, or an id reused); caller holds db_lock. */
static int count_delta(lk_index_info *info, lk_registry *reg, const struct lk_ivf *ivf)
{
	sqlite3_stmt *st;
	int rc = lk__db_prepare(reg, &st, "SELECT id, substr(embedding, 1, 1024), length(embedding) FROM refs"
					  " WHERE embedding IS NOT NULL");
	int step = SQLITE_DONE;
	while (rc == LK_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
		info->embedded_references++;
		const void *head = sqlite3_column_blob(st, 1);
		const int head_bytes = sqlite3_column_bytes(st, 1);
		const uint64_t bytes = (uint64_t)sqlite3_column_int64(st, 2);
		/* lk__embedding_fingerprint of the whole blob, from its first bytes and length */
		const uint64_t print = lk__checksum(head, (size_t)head_bytes, bytes);
		if (!ivf || !lk__ivf_covers(ivf, sqlite3_column_int64(st, 0), print))
			info->delta_references++;
	}
	if (rc == LK_OK && step != SQLITE_DONE)
		rc = lk__db_fail(reg, "counting embeddings");
	sqlite3_finalize(st);
	return rc;
}

int lk_registry_index_info(lk_index_info *out, lk_registry *reg)
{
	lk__clear_error();
	if (!out || !reg)
		return lk__fail(LK_EINVAL, "lk_registry_index_info: NULL argument");
	lk_index_info info;
	memset(&info, 0, sizeof info);
	char embedder[LK_EMBEDDER_ID_MAX];
	struct lk_ivf *ivf = NULL;
	int state;
	pthread_mutex_lock(&reg->db_lock);
	int rc = lk__db_exec(reg, "BEGIN");
	if (rc == LK_OK)
		rc = lk__db_version(reg, &info.registry_version);
	if (rc == LK_OK) {
		lk__db_embedder(reg, embedder);
		lk__ivf_current(&ivf, &state, info.detail, reg, embedder);
		info.state = (lk_index_state)state;
		/* A stale file is valid: describe it too. */
		const struct lk_ivf *file = reg->ivf_cache ? reg->ivf_cache->ivf : NULL;
		if (file) {
			const struct lk_ivf_header *h = &file->header;
			info.built_version = h->registry_version;
			info.references = h->references;
			info.vectors = h->vectors;
			info.nlist = h->nlist;
			info.nprobe = h->nprobe;
			info.recall = h->recall;
			info.sample = h->sample;
			info.build_seconds = h->build_seconds;
			info.built_at = h->built_at;
			info.file_bytes = reg->ivf_cache->size;
			snprintf(info.embedder, sizeof info.embedder, "%s", h->embedder);
		} else if (reg->ivf_cache && reg->ivf_cache->valid) {
			info.file_bytes = reg->ivf_cache->size;
		}
		rc = count_delta(&info, reg, ivf);
	}
	if (rc == LK_OK)
		rc = lk__db_exec(reg, "COMMIT");
	else
		lk__db_rollback(reg);
	pthread_mutex_unlock(&reg->db_lock);
	lk__ivf_release(ivf);
	if (rc == LK_OK)
		*out = info;
	return rc;
}
