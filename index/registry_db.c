/* The registry's SQLite record: creating, opening, schema, transactions, version. */
#include "registry_internal.h"
#include "embedding_index.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DB_NAME "registry.db"
#define SCHEMA_VERSION "4"

static const char schema_sql[] =
	"CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"INSERT INTO meta VALUES('schema', '" SCHEMA_VERSION "'), ('version', '0');"
	"CREATE TABLE characters("
	"  id INTEGER PRIMARY KEY,"
	"  slug TEXT NOT NULL UNIQUE,"
	"  name TEXT NOT NULL,"
	"  aliases TEXT NOT NULL DEFAULT '',"
	"  rights_holder TEXT NOT NULL DEFAULT '',"
	"  licence TEXT NOT NULL DEFAULT '',"
	"  labels TEXT NOT NULL DEFAULT '',"
	"  block_threshold INTEGER,"   /* NULL: the default */
	"  review_threshold INTEGER,"
	"  enabled INTEGER NOT NULL DEFAULT 1,"
	"  created_at INTEGER NOT NULL,"
	"  embed_copy REAL,"            /* NULL: the registry's embedding thresholds */
	"  embed_similar REAL);"
	"CREATE TABLE refs("
	"  id INTEGER PRIMARY KEY,"
	"  character_id INTEGER NOT NULL REFERENCES characters(id) ON DELETE CASCADE,"
	"  sha256 TEXT NOT NULL DEFAULT '',"
	"  source TEXT NOT NULL DEFAULT '',"
	"  hash BLOB NOT NULL,"         /* 32 bytes: the PDQ hash, all the search index needs */
	"  variants BLOB NOT NULL,"     /* 7 x 32 bytes: hashes of its rotations and mirrors */
	"  exact_variants INTEGER NOT NULL DEFAULT 0," /* 1: variants hashed from transformed
	                                                  pixels (image references); 0: a bare hash */
	"  quality INTEGER NOT NULL,"
	"  allow INTEGER NOT NULL DEFAULT 0,"
	"  added_at INTEGER NOT NULL,"
	"  embedding BLOB);"             /* LK_VIEWS x LK_EMBEDDING_DIM float32 (the image's views),
	                                    NULL for none */
	"CREATE UNIQUE INDEX refs_same_bytes ON refs(character_id, sha256) WHERE sha256 != '';"
	"CREATE INDEX refs_by_character ON refs(character_id);";

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

static char *db_path(const char *dir)
{
	size_t n = strlen(dir) + sizeof "/" DB_NAME;
	char *p = malloc(n);
	if (p)
		snprintf(p, n, "%s/%s", dir, DB_NAME);
	return p;
}

/* Connection settings: WAL so checks read while a writer commits; FULL sync so a committed
 * change survives power loss; foreign keys for the cascade of a character's references; a
 * busy timeout so concurrent writers wait for each other instead of failing. */
static int configure(lk_registry *reg)
{
	sqlite3_busy_timeout(reg->db, 10000);
	int rc = lk__db_exec(reg, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;");
	if (rc == LK_OK)
		rc = lk__db_prepare(reg, &reg->version_stmt,
				    "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'version'");
	return rc;
}

static void registry_free(lk_registry *reg)
{
	if (!reg)
		return;
	if (reg->snap)
		lk__snapshot_release(reg->snap);
	lk__ivf_cache_free(reg);
	sqlite3_finalize(reg->version_stmt);
	sqlite3_close(reg->db);
	pthread_mutex_destroy(&reg->db_lock);
	pthread_mutex_destroy(&reg->snap_lock);
	free(reg->dir);
	free(reg);
}

static int registry_new(lk_registry **out, const char *dir, int flags)
{
	lk_registry *reg = calloc(1, sizeof *reg);
	char *path = db_path(dir);
	if (!reg || !path || !(reg->dir = strdup(dir))) {
		free(reg ? reg->dir : NULL);
		free(reg);
		free(path);
		return lk__fail(LK_ENOMEM, "opening a registry");
	}
	pthread_mutex_init(&reg->db_lock, NULL);
	pthread_mutex_init(&reg->snap_lock, NULL);
	const int open_rc = sqlite3_open_v2(path, &reg->db, flags | SQLITE_OPEN_FULLMUTEX, NULL);
	free(path);
	if (open_rc != SQLITE_OK) {
		int rc = reg->db ? lk__db_fail(reg, "opening the database")
				 : lk__fail(LK_ENOMEM, "opening %s", dir);
		registry_free(reg);
		return rc;
	}
	*out = reg;
	return LK_OK;
}

int lk_registry_create(const char *dir)
{
	lk__clear_error();
	if (!dir || !*dir)
		return lk__fail(LK_EINVAL, "lk_registry_create: no directory");
	if (mkdir(dir, 0777) != 0 && errno != EEXIST)
		return lk__fail(LK_EIO, "%s: cannot create: %s", dir, strerror(errno));
	char *path = db_path(dir);
	if (!path)
		return lk__fail(LK_ENOMEM, "lk_registry_create");
	struct stat st;
	const int exists = stat(path, &st) == 0;
	free(path);
	if (exists)
		return lk__fail(LK_EEXISTS, "%s already holds a registry", dir);
	lk_registry *reg;
	int rc = registry_new(&reg, dir, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
	if (rc != LK_OK)
		return rc;
	rc = lk__db_exec(reg, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;");
	if (rc == LK_OK)
		rc = lk__db_exec(reg, "BEGIN");
	if (rc == LK_OK)
		rc = lk__db_exec(reg, schema_sql);
	if (rc == LK_OK)
		rc = lk__db_commit(reg);
	registry_free(reg);
	return rc;
}

/* The schema this registry was written with, "?" when unreadable (caller holds db_lock or
 * has the registry to itself). */
static void read_schema(lk_registry *reg, char *out, size_t size)
{
	sqlite3_stmt *s;
	snprintf(out, size, "?");
	if (sqlite3_prepare_v2(reg->db, "SELECT value FROM meta WHERE key = 'schema'", -1, &s, NULL) != SQLITE_OK)
		return;
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
		snprintf(out, size, "%s", (const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
}

/* The steps from each earlier schema to the next. */
static const struct {
	const char *from, *sql;
} upgrades[] = {
	/* references gain their embeddings (NULL: none yet) */
	{ "2", "ALTER TABLE refs ADD COLUMN embedding BLOB; UPDATE meta SET value = '3' WHERE key = 'schema';" },
	/* characters gain their own embedding thresholds (NULL: the registry's) */
	{ "3", "ALTER TABLE characters ADD COLUMN embed_copy REAL; ALTER TABLE characters ADD COLUMN embed_similar REAL;"
	       " UPDATE meta SET value = '4' WHERE key = 'schema';" },
};

/* Brings a registry of an earlier schema up to this one, in one transaction: a crash leaves it
 * as it was. */
static int upgrade(lk_registry *reg)
{
	char schema[32];
	read_schema(reg, schema, sizeof schema);
	if (!strcmp(schema, SCHEMA_VERSION))
		return LK_OK;
	size_t first = 0;
	while (first < sizeof upgrades / sizeof upgrades[0] && strcmp(upgrades[first].from, schema))
		first++;
	if (first == sizeof upgrades / sizeof upgrades[0])
		return lk__fail(LK_EREGISTRY, "%s: registry schema %s, this likeness reads %s (and upgrades 2 and up)",
				reg->dir, schema, SCHEMA_VERSION);
	int rc = lk__db_exec(reg, "BEGIN IMMEDIATE");
	if (rc != LK_OK)
		return rc;
	/* Another process may have upgraded it meanwhile: start from what is there now. */
	read_schema(reg, schema, sizeof schema);
	for (size_t i = 0; rc == LK_OK && i < sizeof upgrades / sizeof upgrades[0]; i++)
		if (!strcmp(schema, upgrades[i].from)) {
			rc = lk__db_exec(reg, upgrades[i].sql);
			read_schema(reg, schema, sizeof schema);
		}
	if (rc == LK_OK)
		rc = lk__db_exec(reg, "COMMIT");
	else
		lk__db_rollback(reg);
	return rc;
}

int lk_registry_open(lk_registry **out, const char *dir)
{
	lk__clear_error();
	if (!out || !dir)
		return lk__fail(LK_EINVAL, "lk_registry_open: NULL argument");
	int rc = lk_cpu_check();
	if (rc != LK_OK)
		return rc;
	char *path = db_path(dir);
	struct stat st;
	const int exists = path && stat(path, &st) == 0;
	free(path);
	if (!exists)
		return lk__fail(LK_ENOTFOUND, "%s: no registry here (create one with 'likeness init')", dir);
	lk_registry *reg = NULL;
	rc = registry_new(&reg, dir, SQLITE_OPEN_READWRITE);
	if (rc == LK_OK)
		rc = configure(reg);
	if (rc == LK_OK)
		rc = upgrade(reg);
	if (rc == LK_OK) {
		struct snapshot *snap;
		rc = lk__snapshot_acquire(&snap, reg); /* builds the first snapshot now */
		if (rc == LK_OK)
			lk__snapshot_release(snap);
	}
	if (rc != LK_OK) {
		if (reg)
			registry_free(reg);
		return rc;
	}
	*out = reg;
	return LK_OK;
}

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
		return LK_OK;
	}
	char recorded[LK_EMBEDDER_ID_MAX];
	pthread_mutex_lock(&reg->db_lock);
	int rc = recorded_embedder(reg, recorded, sizeof recorded);
	pthread_mutex_unlock(&reg->db_lock);
	if (rc == LK_OK && recorded[0] && strcmp(recorded, lk_embedder_id(e)))
		rc = refuse_embedder(reg, recorded, lk_embedder_id(e));
	if (rc == LK_OK)
		reg->embedder = e;
	return rc;
}

/* Stores a validated pair of thresholds under the two meta keys, as one change. */
static int set_thresholds(lk_registry *reg, const char *const keys[2], float copy, float similar)
{
	pthread_mutex_lock(&reg->db_lock);
	sqlite3_stmt *st = NULL;
	int rc = lk__db_begin(reg);
	if (rc == LK_OK)
		rc = lk__db_prepare(reg, &st, "INSERT INTO meta(key, value) VALUES(?1, ?2)"
					      " ON CONFLICT(key) DO UPDATE SET value = excluded.value");
	const float values[2] = { copy, similar };
	for (int i = 0; i < 2 && rc == LK_OK; i++) {
		/* 9 significant digits give the float back exactly: a threshold placed just above a
		 * negative's score must not round below it. */
		char text[32];
		snprintf(text, sizeof text, "%.9g", (double)values[i]);
		sqlite3_bind_text(st, 1, keys[i], -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, text, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = lk__db_fail(reg, "setting thresholds");
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	rc = rc == LK_OK ? lk__db_commit(reg) : (lk__db_rollback(reg), rc);
	pthread_mutex_unlock(&reg->db_lock);
	return rc;
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

void lk_registry_close(lk_registry *reg)
{
	registry_free(reg);
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
