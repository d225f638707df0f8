/* The registry's record on disk: its schema, creating it, and opening it (the connection's
 * settings, and the upgrade of a registry written by an earlier version). */
#include "index/store/store.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DB_NAME "registry.db"
#define SCHEMA_VERSION "6"

/* The negative bank: pictures of no protected character, kept as their embeddings (the
 * attached embedder's full view, LK_EMBEDDING_DIM float32). */
#define NEGATIVES_SQL                                                                  \
	"CREATE TABLE negatives("                                                      \
	"  id INTEGER PRIMARY KEY,"                                                    \
	"  sha256 TEXT NOT NULL UNIQUE,"                                               \
	"  source TEXT NOT NULL DEFAULT '',"                                           \
	"  embedding BLOB NOT NULL,"                                                   \
	"  added_at INTEGER NOT NULL);"

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
	"  embed_similar REAL,"
	"  franchise TEXT NOT NULL DEFAULT '',"       /* '': its own */
	"  block_on_character INTEGER NOT NULL DEFAULT 0,"
	"  character_threshold REAL,"   /* NULL: the registry's */
	"  calibrated_threshold REAL);" /* set by lk_registry_calibrate_characters; NULL: none */
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
	"CREATE INDEX refs_by_character ON refs(character_id);"
	NEGATIVES_SQL;

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

void lk__store_close(lk_registry *reg)
{
	if (!reg)
		return;
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
		lk__store_close(reg);
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
	lk__store_close(reg);
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
	/* characters gain a franchise and their character-model settings; the negative bank */
	{ "4", "ALTER TABLE characters ADD COLUMN franchise TEXT NOT NULL DEFAULT '';"
	       " ALTER TABLE characters ADD COLUMN block_on_character INTEGER NOT NULL DEFAULT 0;"
	       " ALTER TABLE characters ADD COLUMN character_threshold REAL;" NEGATIVES_SQL
	       " UPDATE meta SET value = '5' WHERE key = 'schema';" },
	/* characters gain the threshold a calibration chose for each of them */
	{ "5", "ALTER TABLE characters ADD COLUMN calibrated_threshold REAL;"
	       " UPDATE meta SET value = '6' WHERE key = 'schema';" },
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

int lk__store_open(lk_registry **out, const char *dir)
{
	char *path = db_path(dir);
	struct stat st;
	const int exists = path && stat(path, &st) == 0;
	free(path);
	if (!exists)
		return lk__fail(LK_ENOTFOUND, "%s: no registry here (create one with 'likeness init')", dir);
	lk_registry *reg = NULL;
	int rc = registry_new(&reg, dir, SQLITE_OPEN_READWRITE);
	if (rc == LK_OK)
		rc = configure(reg);
	if (rc == LK_OK)
		rc = upgrade(reg);
	if (rc != LK_OK) {
		lk__store_close(reg);
		return rc;
	}
	*out = reg;
	return LK_OK;
}
