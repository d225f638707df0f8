/* References: a character's images, kept as PDQ hashes with their dihedral variants. */
#include "index/store/store.h"

#include <string.h>
#include <time.h>
#include <vips/vips.h>

static const lk_reference_options default_options = LK_REFERENCE_OPTIONS_INIT;
static const size_t option_sizes[LK_REFERENCE_OPTIONS_VERSION] = { sizeof(lk_reference_options) };
static const struct lk_options_type options_type = {
	"lk_reference_options", "LK_REFERENCE_OPTIONS_INIT", LK_REFERENCE_OPTIONS_VERSION, &default_options,
	option_sizes,
};

int lk_reference_options_init(lk_reference_options *opts, unsigned int version)
{
	return lk__options_init(opts, version, &options_type);
}

/* The caller's options (NULL: the defaults) in this library's layout, the ingest options
 * within read by their own version. */
static int read_options(lk_reference_options *out, const lk_reference_options *in)
{
	int rc = lk__options_read(out, in, &options_type);
	return rc == LK_OK ? lk__ingest_options_read(&out->ingest, in ? &in->ingest : NULL) : rc;
}

/* The stored form of a hash-only reference: the hash in every variant slot (queries bring their
 * own variants) and a key that makes one listing per hash and character. */
static void hash_only(lk_pdq_result *pdq, char key[80], const lk_pdq_hash *hash, int quality)
{
	memset(pdq, 0, sizeof *pdq);
	for (int d = 0; d < LK_DIHEDRAL_COUNT; d++)
		pdq->hash[d] = *hash;
	pdq->quality = quality;
	char hex[LK_PDQ_HEX_LEN + 1];
	lk_pdq_to_hex(hex, hash);
	snprintf(key, 80, "pdq:%s", hex);
}

/* Binds the hash to parameter `i` and the 7 variants to `i + 1` (copied: callers' buffers may
 * be reused before the step). */
static void bind_hashes(sqlite3_stmt *st, int i, const lk_pdq_result *pdq)
{
	sqlite3_bind_blob(st, i, pdq->hash[0].bytes, LK_PDQ_BYTES, SQLITE_TRANSIENT);
	sqlite3_bind_blob(st, i + 1, pdq->hash[1].bytes, (LK_DIHEDRAL_COUNT - 1) * LK_PDQ_BYTES, SQLITE_TRANSIENT);
}

/* `emb`: NULL, or the LK_VIEWS descriptors of the image (lk__embed_views). */
static int insert(int64_t *out_id, lk_registry *reg, const char *slug, const lk_pdq_result *pdq,
		  int exact_variants, const char *sha256, const char *source, int allow, const lk_embedding *emb)
{
	if (pdq->quality < LK_MIN_QUALITY)
		return lk__fail(LK_ELOWQUALITY, "%s: PDQ quality %d is below %d (flat or featureless "
				"image): it could never be matched", source[0] ? source : "reference",
				pdq->quality, LK_MIN_QUALITY);
	pthread_mutex_lock(&reg->db_lock);
	int64_t character_id;
	int rc = lk__db_character_id(reg, slug, &character_id);
	sqlite3_stmt *st = NULL;
	if (rc == LK_OK)
		rc = lk__db_prepare(reg, &st,
				    "INSERT INTO refs(character_id, sha256, source, hash, variants, quality, allow,"
				    " added_at, exact_variants, embedding) VALUES(?,?,?,?,?,?,?,?,?,?)");
	if (rc == LK_OK) {
		sqlite3_bind_int64(st, 1, character_id);
		sqlite3_bind_text(st, 2, sha256, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, source, -1, SQLITE_STATIC);
		bind_hashes(st, 4, pdq);
		sqlite3_bind_int(st, 6, pdq->quality);
		sqlite3_bind_int(st, 7, allow ? 1 : 0);
		sqlite3_bind_int64(st, 8, (sqlite3_int64)time(NULL));
		sqlite3_bind_int(st, 9, exact_variants);
		if (emb)
			sqlite3_bind_blob(st, 10, emb, (int)(sizeof *emb * LK_VIEWS), SQLITE_STATIC);
		else
			sqlite3_bind_null(st, 10);
		rc = lk__db_begin(reg);
		if (rc == LK_OK && emb)
			rc = lk__db_claim_embedder(reg, lk_embedder_id(reg->embedder));
		if (rc == LK_OK && sqlite3_step(st) != SQLITE_DONE)
			rc = lk__db_fail(reg, "adding a reference");
		if (rc == LK_OK && out_id)
			*out_id = sqlite3_last_insert_rowid(reg->db);
		rc = rc == LK_OK ? lk__db_commit(reg) : (lk__db_rollback(reg), rc);
		if (rc == LK_EEXISTS)
			rc = lk__fail(LK_EEXISTS, "%s is already a reference of '%s'", source[0] ? source : sha256, slug);
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&reg->db_lock);
	return rc;
}

/* Image references store the hashes of their really rotated and mirrored pixels, which stay
 * within the match radius of flipped copies where PDQ's DCT-derived variants may not. */
static int add_encoded(int64_t *out_id, lk_registry *reg, const char *slug, const void *data, size_t len,
		       const char *name, const lk_reference_options *opts)
{
	int rc = lk__ensure_init();
	if (rc != LK_OK)
		return rc;
	lk_image8 img;
	lk_source_info info = { 0 };
	lk_pdq_result pdq;
	lk_embedding *views = reg->embedder ? malloc(sizeof *views * LK_VIEWS) : NULL;
	if (reg->embedder && !views)
		return lk__fail(LK_ENOMEM, "describing a reference");
	rc = lk__decode_for_pdq(&img, &info, data, len, name, &opts->ingest);
	if (rc == LK_OK && views)
		rc = lk__embed_views(views, reg->embedder, &img);
	if (rc == LK_OK)
		rc = lk__pdq_dihedral_hashes(&pdq, &img, &info);
	lk__scratch_trim(LK_SCRATCH_KEEP_BYTES);
	gchar *sha = rc == LK_OK ? g_compute_checksum_for_data(G_CHECKSUM_SHA256, data, len) : NULL;
	if (rc == LK_OK && !sha)
		rc = lk__fail(LK_ENOMEM, "hashing the reference bytes");
	if (rc != LK_OK) {
		free(views);
		return rc;
	}
	const char *source = opts->source ? opts->source : name ? name : "";
	rc = insert(out_id, reg, slug, &pdq, 1, sha, source, opts->allow, views);
	g_free(sha);
	free(views);
	return rc;
}

int lk_reference_add_file(int64_t *out_id, lk_registry *reg, const char *slug, const char *path,
			  const lk_reference_options *opts)
{
	lk__clear_error();
	if (!reg || !slug || !path)
		return lk__fail(LK_EINVAL, "lk_reference_add_file: NULL argument");
	lk_reference_options o;
	int rc = read_options(&o, opts);
	if (rc != LK_OK)
		return rc;
	const void *data;
	size_t len;
	rc = lk__read_file(&data, &len, path, o.ingest.max_bytes);
	if (rc == LK_OK)
		rc = add_encoded(out_id, reg, slug, data, len, path, &o);
	if (rc != LK_OK && !strstr(lk_error_detail(), path))
		lk__prefix_error(path);
	return rc;
}

int lk_reference_add_bytes(int64_t *out_id, lk_registry *reg, const char *slug, const void *data,
			   size_t len, const lk_reference_options *opts)
{
	lk__clear_error();
	if (!reg || !slug || (!data && len))
		return lk__fail(LK_EINVAL, "lk_reference_add_bytes: NULL argument");
	lk_reference_options o;
	int rc = read_options(&o, opts);
	return rc == LK_OK ? add_encoded(out_id, reg, slug, data, len, NULL, &o) : rc;
}

int lk_reference_add_hash(int64_t *out_id, lk_registry *reg, const char *slug, const lk_pdq_hash *hash,
			  int quality, const lk_reference_options *opts)
{
	lk__clear_error();
	if (!reg || !slug || !hash)
		return lk__fail(LK_EINVAL, "lk_reference_add_hash: NULL argument");
	if (quality < 0 || quality > 100)
		return lk__fail(LK_EINVAL, "PDQ quality is 0..100, got %d", quality);
	lk_reference_options o;
	int rc = read_options(&o, opts);
	if (rc != LK_OK)
		return rc;
	lk_pdq_result pdq;
	char key[80];
	hash_only(&pdq, key, hash, quality);
	return insert(out_id, reg, slug, &pdq, 0, key, o.source ? o.source : "", o.allow, NULL);
}

int lk_reference_add_hashes(size_t *added, lk_registry *reg, const lk_hash_entry *entries, size_t n,
			    const lk_reference_options *opts)
{
	lk__clear_error();
	if (!reg || (n && !entries))
		return lk__fail(LK_EINVAL, "lk_reference_add_hashes: NULL argument");
	lk_reference_options o;
	int rc = read_options(&o, opts);
	if (rc != LK_OK)
		return rc;
	opts = &o;
	for (size_t i = 0; i < n; i++) {
		if (!entries[i].character)
			return lk__fail(LK_EINVAL, "entry %zu has no character", i);
		if (entries[i].quality < 0 || entries[i].quality > 100)
			return lk__fail(LK_EINVAL, "entry %zu: PDQ quality is 0..100, got %d", i, entries[i].quality);
		if (entries[i].quality < LK_MIN_QUALITY)
			return lk__fail(LK_ELOWQUALITY, "entry %zu: PDQ quality %d is below %d: it could never be matched",
					i, entries[i].quality, LK_MIN_QUALITY);
	}
	pthread_mutex_lock(&reg->db_lock);
	sqlite3_stmt *ins = NULL;
	size_t count = 0;
	rc = lk__db_prepare(reg, &ins,
			    "INSERT OR IGNORE INTO refs(character_id, sha256, source, hash, variants, quality, allow, added_at)"
			    " VALUES(?,?,?,?,?,?,?,?)");
	if (rc == LK_OK)
		rc = lk__db_begin(reg);
	const char *last_slug = NULL;
	int64_t character_id = 0;
	const sqlite3_int64 now = (sqlite3_int64)time(NULL);
	for (size_t i = 0; rc == LK_OK && i < n; i++) {
		const lk_hash_entry *e = &entries[i];
		if (!last_slug || strcmp(last_slug, e->character)) {
			rc = lk__db_character_id(reg, e->character, &character_id);
			if (rc != LK_OK) {
				char where[32];
				snprintf(where, sizeof where, "entry %zu", i);
				lk__prefix_error(where);
				break;
			}
			last_slug = e->character;
		}
		lk_pdq_result pdq;
		char key[80];
		hash_only(&pdq, key, &e->hash, e->quality);
		sqlite3_reset(ins);
		sqlite3_bind_int64(ins, 1, character_id);
		sqlite3_bind_text(ins, 2, key, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(ins, 3, e->source ? e->source : (opts->source ? opts->source : ""), -1, SQLITE_TRANSIENT);
		bind_hashes(ins, 4, &pdq);
		sqlite3_bind_int(ins, 6, e->quality);
		sqlite3_bind_int(ins, 7, opts->allow ? 1 : 0);
		sqlite3_bind_int64(ins, 8, now);
		if (sqlite3_step(ins) != SQLITE_DONE)
			rc = lk__db_fail(reg, "adding hash references");
		else
			count += (size_t)sqlite3_changes(reg->db);
	}
	if (rc == LK_OK)
		rc = lk__db_commit(reg);
	else
		lk__db_rollback(reg);
	sqlite3_finalize(ins);
	pthread_mutex_unlock(&reg->db_lock);
	if (rc == LK_OK && added)
		*added = count;
	return rc;
}

int lk_reference_remove(lk_registry *reg, int64_t id)
{
	lk__clear_error();
	if (!reg)
		return lk__fail(LK_EINVAL, "lk_reference_remove: NULL argument");
	pthread_mutex_lock(&reg->db_lock);
	sqlite3_stmt *st;
	int rc = lk__db_prepare(reg, &st, "DELETE FROM refs WHERE id = ?");
	if (rc == LK_OK) {
		sqlite3_bind_int64(st, 1, id);
		rc = lk__db_begin(reg);
		if (rc == LK_OK && sqlite3_step(st) != SQLITE_DONE)
			rc = lk__db_fail(reg, "removing a reference");
		else if (rc == LK_OK && sqlite3_changes(reg->db) == 0)
			rc = lk__fail(LK_ENOTFOUND, "no reference %lld in %s", (long long)id, reg->dir);
		rc = rc == LK_OK ? lk__db_commit(reg) : (lk__db_rollback(reg), rc);
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&reg->db_lock);
	return rc;
}

int lk_reference_list(lk_reference *out, size_t cap, size_t *total, lk_registry *reg, const char *slug)
{
	lk__clear_error();
	if (!reg || !total || (cap && !out))
		return lk__fail(LK_EINVAL, "lk_reference_list: NULL argument");
	pthread_mutex_lock(&reg->db_lock);
	sqlite3_stmt *st;
	int rc = lk__db_prepare(reg, &st,
				"SELECT r.id, c.slug, r.sha256, r.source, r.hash, r.variants, r.quality, r.allow, r.added_at"
				" FROM refs r JOIN characters c ON c.id = r.character_id"
				" WHERE ?1 IS NULL OR c.slug = ?1 ORDER BY r.id");
	size_t n = 0;
	if (rc == LK_OK) {
		if (slug)
			sqlite3_bind_text(st, 1, slug, -1, SQLITE_STATIC);
		int step;
		while ((step = sqlite3_step(st)) == SQLITE_ROW) {
			if (n < cap) {
				lk_reference *r = &out[n];
				memset(r, 0, sizeof *r);
				r->id = sqlite3_column_int64(st, 0);
				snprintf(r->character, sizeof r->character, "%s", sqlite3_column_text(st, 1));
				const char *sha = (const char *)sqlite3_column_text(st, 2);
				snprintf(r->sha256, sizeof r->sha256, "%s", strncmp(sha, "pdq:", 4) ? sha : "");
				snprintf(r->source, sizeof r->source, "%s", sqlite3_column_text(st, 3));
				if (sqlite3_column_bytes(st, 4) == LK_PDQ_BYTES)
					memcpy(r->hash[0].bytes, sqlite3_column_blob(st, 4), LK_PDQ_BYTES);
				if (sqlite3_column_bytes(st, 5) == (LK_DIHEDRAL_COUNT - 1) * LK_PDQ_BYTES)
					memcpy(r->hash[1].bytes, sqlite3_column_blob(st, 5),
					       (LK_DIHEDRAL_COUNT - 1) * LK_PDQ_BYTES);
				r->quality = sqlite3_column_int(st, 6);
				r->allow = sqlite3_column_int(st, 7);
				r->added_at = sqlite3_column_int64(st, 8);
			}
			n++;
		}
		if (step != SQLITE_DONE)
			rc = lk__db_fail(reg, "listing references");
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&reg->db_lock);
	if (rc == LK_OK)
		*total = n;
	return rc;
}
