/* SQL helpers for every reader and writer of the registry's record: statements, transactions
 * that bump the version, the version itself, and lookups all of them need. */
#include "index/store/store.h"

#include <stdio.h>

int lk__db_fail(lk_registry *reg, const char *what)
{
	const int code = sqlite3_extended_errcode(reg->db);
	const int rc = (code & 0xff) == SQLITE_CONSTRAINT ? LK_EEXISTS : LK_EREGISTRY;
	return lk__fail(rc, "%s: %s: %s", reg->dir, what, sqlite3_errmsg(reg->db));
}

int lk__db_exec(lk_registry *reg, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(reg->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		int rc = lk__fail(LK_EREGISTRY, "%s: %s", reg->dir, msg ? msg : "SQLite error");
		sqlite3_free(msg);
		return rc;
	}
	return LK_OK;
}

int lk__db_prepare(lk_registry *reg, sqlite3_stmt **stmt, const char *sql)
{
	if (sqlite3_prepare_v2(reg->db, sql, -1, stmt, NULL) != SQLITE_OK)
		return lk__db_fail(reg, "preparing a query");
	return LK_OK;
}

int lk__db_begin(lk_registry *reg)
{
	/* IMMEDIATE takes the write lock now, so two writers queue instead of failing late. */
	int rc = lk__db_exec(reg, "BEGIN IMMEDIATE");
	if (rc == LK_OK)
		rc = lk__db_exec(reg, "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'version'");
	return rc;
}

int lk__db_commit(lk_registry *reg)
{
	int rc = lk__db_exec(reg, "COMMIT");
	if (rc != LK_OK)
		lk__db_rollback(reg);
	return rc;
}

void lk__db_rollback(lk_registry *reg)
{
	sqlite3_exec(reg->db, "ROLLBACK", NULL, NULL, NULL);
}

double lk__db_meta_number(lk_registry *reg, const char *key, double fallback)
{
	sqlite3_stmt *st;
	double value = fallback;
	if (sqlite3_prepare_v2(reg->db, "SELECT CAST(value AS REAL) FROM meta WHERE key = ?", -1, &st, NULL) != SQLITE_OK)
		return fallback;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		value = sqlite3_column_double(st, 0);
	sqlite3_finalize(st);
	return value;
}

int lk__db_version(lk_registry *reg, uint64_t *out)
{
	sqlite3_stmt *st = reg->version_stmt;
	sqlite3_reset(st);
	if (sqlite3_step(st) != SQLITE_ROW)
		return lk__db_fail(reg, "reading the version");
	*out = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return LK_OK;
}

int lk__db_character_id(lk_registry *reg, const char *slug, int64_t *out)
{
	sqlite3_stmt *st;
	int rc = lk__db_prepare(reg, &st, "SELECT id FROM characters WHERE slug = ?");
	if (rc != LK_OK)
		return rc;
	sqlite3_bind_text(st, 1, slug, -1, SQLITE_STATIC);
	const int step = sqlite3_step(st);
	if (step == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	else if (step == SQLITE_DONE)
		rc = lk__fail(LK_ENOTFOUND, "no character '%s' in %s", slug, reg->dir);
	else
		rc = lk__db_fail(reg, "looking up a character");
	sqlite3_finalize(st);
	return rc;
}

void lk__db_embedder(lk_registry *reg, char out[LK_EMBEDDER_ID_MAX])
{
	out[0] = '\0';
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(reg->db, "SELECT value FROM meta WHERE key = 'embedder'", -1, &st, NULL) != SQLITE_OK)
		return;
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		snprintf(out, LK_EMBEDDER_ID_MAX, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
}
