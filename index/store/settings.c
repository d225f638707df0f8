/* What the registry records about itself: the embedder its embeddings come from, the
 * thresholds calibration set, its sizes and its version. */
#include "index/store/store.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The embedder id recorded in the registry, "" for none (caller holds db_lock). */
static int recorded_embedder(lk_registry *reg, char *out, size_t size)
{
	sqlite3_stmt *st;
	out[0] = '\0';
	int rc = lk__db_prepare(reg, &st, "SELECT value FROM meta WHERE key = 'embedder'");
	if (rc != LK_OK)
		return rc;
	const int step = sqlite3_step(st);
	if (step == SQLITE_ROW)
		snprintf(out, size, "%s", (const char *)sqlite3_column_text(st, 0));
	else if (step != SQLITE_DONE)
		rc = lk__db_fail(reg, "reading the embedder");
	sqlite3_finalize(st);
	return rc;
}

static int refuse_embedder(lk_registry *reg, const char *recorded, const char *id)
{
	return lk__fail(LK_EREGISTRY, "%s: its embeddings were made by %s, not %s: they cannot be compared "
				      "(check with --hash-only, or rebuild the registry's references)", reg->dir, recorded, id);
}

int lk__db_claim_embedder(lk_registry *reg, const char *id)
{
	char recorded[LK_EMBEDDER_ID_MAX];
	int rc = recorded_embedder(reg, recorded, sizeof recorded);
	if (rc != LK_OK || !strcmp(recorded, id))
		return rc;
	if (recorded[0])
		return refuse_embedder(reg, recorded, id);
	sqlite3_stmt *st;
	rc = lk__db_prepare(reg, &st, "INSERT INTO meta(key, value) VALUES('embedder', ?)");
	if (rc == LK_OK) {
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = lk__db_fail(reg, "recording the embedder");
		sqlite3_finalize(st);
	}
	return rc;
}

int lk_registry_set_embedder(lk_registry *reg, lk_embedder *e)
{
	lk__clear_error();
	if (!reg)
		return lk__fail(LK_EINVAL, "lk_registry_set_embedder: NULL registry");
	if (!e) {
		reg->embedder = NULL;
		reg->embedder_generation++;
		return LK_OK;
	}
	char recorded[LK_EMBEDDER_ID_MAX];
	pthread_mutex_lock(&reg->db_lock);
	int rc = recorded_embedder(reg, recorded, sizeof recorded);
	pthread_mutex_unlock(&reg->db_lock);
	if (rc == LK_OK && recorded[0] && strcmp(recorded, lk_embedder_id(e)))
		rc = refuse_embedder(reg, recorded, lk_embedder_id(e));
	if (rc == LK_OK) {
		reg->embedder = e;
		reg->embedder_generation++; /* the next check builds a snapshot with its bank */
	}
	return rc;
}

/* Stores n values under their meta keys, as one change; `what` names it in errors. */
static int set_meta(lk_registry *reg, const char *const *keys, const char *const *values, int n, const char *what)
{
	pthread_mutex_lock(&reg->db_lock);
	sqlite3_stmt *st = NULL;
	int rc = lk__db_begin(reg);
	if (rc == LK_OK)
		rc = lk__db_prepare(reg, &st, "INSERT INTO meta(key, value) VALUES(?1, ?2)"
					      " ON CONFLICT(key) DO UPDATE SET value = excluded.value");
	for (int i = 0; i < n && rc == LK_OK; i++) {
		sqlite3_bind_text(st, 1, keys[i], -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, values[i], -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = lk__db_fail(reg, what);
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	rc = rc == LK_OK ? lk__db_commit(reg) : (lk__db_rollback(reg), rc);
	pthread_mutex_unlock(&reg->db_lock);
	return rc;
}

/* 9 significant digits give a float back exactly: a threshold placed just above a negative's
 * score must not round below it. */
static void float_text(char text[32], float v)
{
	snprintf(text, 32, "%.9g", (double)v);
}

/* Stores a validated pair of thresholds under the two meta keys, as one change. */
static int set_thresholds(lk_registry *reg, const char *const keys[2], float copy, float similar)
{
	char texts[2][32];
	float_text(texts[0], copy);
	float_text(texts[1], similar);
	const char *const values[2] = { texts[0], texts[1] };
	return set_meta(reg, keys, values, 2, "setting thresholds");
}

int lk_registry_set_embedding_thresholds(lk_registry *reg, float copy, float similar)
{
	lk__clear_error();
	if (!reg)
		return lk__fail(LK_EINVAL, "lk_registry_set_embedding_thresholds: NULL registry");
	static const char *const keys[2] = { "embed_copy", "embed_similar" };
	if (!(copy >= -1 && copy <= 1 && similar >= -1 && similar <= copy))
		return lk__fail(LK_EINVAL, "embedding thresholds must satisfy -1 <= similar <= copy <= 1 (got copy %g, "
				"similar %g)", (double)copy, (double)similar);
	return set_thresholds(reg, keys, copy, similar);
}

int lk_registry_set_region_thresholds(lk_registry *reg, float copy, float similar)
{
	lk__clear_error();
	if (!reg)
		return lk__fail(LK_EINVAL, "lk_registry_set_region_thresholds: NULL registry");
	static const char *const keys[2] = { "region_copy", "region_similar" };
	if (!(similar > 0 && similar <= copy && copy <= 2))
		return lk__fail(LK_EINVAL, "region thresholds are leads: they must satisfy 0 < similar <= copy <= 2 "
				"(got copy %g, similar %g)", (double)copy, (double)similar);
	return set_thresholds(reg, keys, copy, similar);
}

static int desc_float(const void *a, const void *b)
{
	const float x = *(const float *)a, y = *(const float *)b;
	return (x < y) - (x > y);
}

/* The meta keys of a character calibration, and every character's own calibrated threshold
 * (NULL for all but those listed), as one change (caller holds db_lock, inside a transaction). */
static int write_character_calibration(lk_registry *reg, const char *const values[3], const char *const *slugs,
				       const float *thresholds, size_t n_thresholds)
{
	const char *const keys[3] = { "character_threshold", "character_calibration", "character_calibration_negatives" };
	sqlite3_stmt *st = NULL;
	int rc = lk__db_prepare(reg, &st, "INSERT INTO meta(key, value) VALUES(?1, ?2)"
					  " ON CONFLICT(key) DO UPDATE SET value = excluded.value");
	for (int i = 0; i < 3 && rc == LK_OK; i++) {
		sqlite3_bind_text(st, 1, keys[i], -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, values[i], -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = lk__db_fail(reg, "setting the character calibration");
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	st = NULL;
	if (rc == LK_OK)
		rc = lk__db_exec(reg, "UPDATE characters SET calibrated_threshold = NULL");
	if (rc == LK_OK && n_thresholds)
		rc = lk__db_prepare(reg, &st, "UPDATE characters SET calibrated_threshold = ?1 WHERE slug = ?2");
	for (size_t i = 0; i < n_thresholds && rc == LK_OK; i++) {
		sqlite3_bind_double(st, 1, thresholds[i]);
		sqlite3_bind_text(st, 2, slugs[i], -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = lk__db_fail(reg, "setting a character's calibrated threshold");
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	return rc;
}

int lk__store_character_calibration(lk_registry *reg, float threshold, const float *scores, size_t n_scores,
				    int64_t negatives, const char *const *slugs, const float *thresholds,
				    size_t n_thresholds)
{
	float *sorted = malloc(sizeof *sorted * (n_scores ? n_scores : 1));
	/* "%.9g," per score: at most 16 bytes each. */
	char *text = malloc(16 * n_scores + 1);
	if (!sorted || !text) {
		free(sorted);
		free(text);
		return lk__fail(LK_ENOMEM, "setting the character calibration");
	}
	if (n_scores)
		memcpy(sorted, scores, sizeof *sorted * n_scores);
	qsort(sorted, n_scores, sizeof *sorted, desc_float);
	size_t at = 0;
	text[0] = '\0';
	for (size_t i = 0; i < n_scores; i++)
		at += (size_t)snprintf(text + at, 16 * n_scores + 1 - at, "%s%.9g", i ? "," : "", (double)sorted[i]);
	free(sorted);
	char t[32], n[32];
	float_text(t, threshold);
	snprintf(n, sizeof n, "%lld", (long long)negatives);
	const char *const values[3] = { t, text, n };
	pthread_mutex_lock(&reg->db_lock);
	int rc = lk__db_begin(reg);
	if (rc == LK_OK)
		rc = write_character_calibration(reg, values, slugs, thresholds, n_thresholds);
	rc = rc == LK_OK ? lk__db_commit(reg) : (lk__db_rollback(reg), rc);
	pthread_mutex_unlock(&reg->db_lock);
	free(text);
	return rc;
}

int lk_registry_set_character_calibration(lk_registry *reg, float threshold, const float *scores, size_t n_scores,
					  int64_t negatives)
{
	lk__clear_error();
	if (!reg || (n_scores && !scores))
		return lk__fail(LK_EINVAL, "lk_registry_set_character_calibration: NULL argument");
	if (!(threshold >= -2 && threshold <= 2))
		return lk__fail(LK_EINVAL, "a character threshold is a score from -2 to 2, not %g", (double)threshold);
	if (n_scores > LK_CHARACTER_CALIBRATION_MAX || negatives < 0 || (int64_t)n_scores > negatives)
		return lk__fail(LK_EINVAL, "%zu scores of %lld negatives: at most %d, and no more than the negatives",
				n_scores, (long long)negatives, LK_CHARACTER_CALIBRATION_MAX);
	for (size_t i = 0; i < n_scores; i++)
		if (!isfinite(scores[i]))
			return lk__fail(LK_EINVAL, "score %zu is not a number", i);
	return lk__store_character_calibration(reg, threshold, scores, n_scores, negatives, NULL, NULL, 0);
}

int lk_registry_info_get(lk_registry_info *out, lk_registry *reg)
{
	lk__clear_error();
	if (!out || !reg)
		return lk__fail(LK_EINVAL, "lk_registry_info_get: NULL argument");
	lk_registry_info info = { .embed_copy = LK_DEFAULT_EMBED_COPY, .embed_similar = LK_DEFAULT_EMBED_SIMILAR,
				  .region_copy = LK_DEFAULT_REGION_COPY, .region_similar = LK_DEFAULT_REGION_SIMILAR };
	pthread_mutex_lock(&reg->db_lock);
	int rc = lk__db_exec(reg, "BEGIN");
	if (rc == LK_OK)
		rc = lk__db_version(reg, &info.version);
	sqlite3_stmt *st = NULL;
	if (rc == LK_OK)
		rc = lk__db_prepare(reg, &st,
				    "SELECT (SELECT count(*) FROM characters), (SELECT count(*) FROM characters WHERE enabled),"
				    " (SELECT count(*) FROM refs), (SELECT count(*) FROM refs WHERE embedding IS NOT NULL),"
				    " (SELECT value FROM meta WHERE key = 'embedder'),"
				    " (SELECT CAST(value AS REAL) FROM meta WHERE key = 'embed_copy'),"
				    " (SELECT CAST(value AS REAL) FROM meta WHERE key = 'embed_similar'),"
				    " (SELECT CAST(value AS REAL) FROM meta WHERE key = 'region_copy'),"
				    " (SELECT CAST(value AS REAL) FROM meta WHERE key = 'region_similar')");
	if (rc == LK_OK) {
		if (sqlite3_step(st) == SQLITE_ROW) {
			info.characters = sqlite3_column_int64(st, 0);
			info.enabled_characters = sqlite3_column_int64(st, 1);
			info.references = sqlite3_column_int64(st, 2);
			info.embedded_references = sqlite3_column_int64(st, 3);
			if (sqlite3_column_type(st, 4) != SQLITE_NULL)
				snprintf(info.embedder, sizeof info.embedder, "%s", (const char *)sqlite3_column_text(st, 4));
			if (sqlite3_column_type(st, 5) != SQLITE_NULL && sqlite3_column_type(st, 6) != SQLITE_NULL) {
				info.embed_copy = (float)sqlite3_column_double(st, 5);
				info.embed_similar = (float)sqlite3_column_double(st, 6);
				info.calibrated = 1;
			}
			if (sqlite3_column_type(st, 7) != SQLITE_NULL && sqlite3_column_type(st, 8) != SQLITE_NULL) {
				info.region_copy = (float)sqlite3_column_double(st, 7);
				info.region_similar = (float)sqlite3_column_double(st, 8);
				info.region_calibrated = 1;
			}
		} else {
			rc = lk__db_fail(reg, "reading the registry's sizes");
		}
		sqlite3_finalize(st);
	}
	if (rc == LK_OK)
		rc = lk__db_exec(reg, "COMMIT");
	else
		lk__db_rollback(reg);
	pthread_mutex_unlock(&reg->db_lock);
	if (rc == LK_OK)
		*out = info;
	return rc;
}

int lk_registry_version(uint64_t *out, lk_registry *reg)
{
	lk__clear_error();
	if (!out || !reg)
		return lk__fail(LK_EINVAL, "lk_registry_version: NULL argument");
	pthread_mutex_lock(&reg->db_lock);
	int rc = lk__db_version(reg, out);
	pthread_mutex_unlock(&reg->db_lock);
	return rc;
}
