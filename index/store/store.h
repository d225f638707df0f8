/* The registry's record, the bottom layer of index/: the open registry's handle and the SQLite
 * helpers every writer and reader of the record uses (index/store/). Nothing here knows about
 * snapshots or checks; the layers above own the fields of the handle they name. */
#ifndef LK_INDEX_STORE_H
#define LK_INDEX_STORE_H

#include "core/internal.h"

#include <pthread.h>
#include <sqlite3.h>

struct snapshot;
struct lk_ivf_cache;

struct lk_registry {
	char *dir;
	sqlite3 *db;              /* one connection, used under db_lock */
	pthread_mutex_t db_lock;
	sqlite3_stmt *version_stmt;
	pthread_mutex_t snap_lock; /* guards `snap` (the pointer, not what it points to) */
	struct snapshot *snap;
	lk_embedder *embedder;     /* borrowed; NULL: hash-only */
	unsigned embedder_generation; /* counts attachments: a snapshot built before the last one
	                                 lacks what the embedder brings (its default negative bank) */
	struct lk_ivf_cache *ivf_cache; /* the index file as last verified (under db_lock) */
};

/* ---- SQL helpers (index/store/db.c) */
/* Runs SQL with no result rows; on failure records LK_EREGISTRY with the SQLite message. */
int lk__db_exec(lk_registry *reg, const char *sql);
/* Prepares a statement, recording LK_EREGISTRY on failure. */
int lk__db_prepare(lk_registry *reg, sqlite3_stmt **stmt, const char *sql);
/* The failure of the last SQLite call, as a likeness error. */
int lk__db_fail(lk_registry *reg, const char *what);
/* BEGIN IMMEDIATE ... COMMIT with the version bumped inside the same transaction. */
int lk__db_begin(lk_registry *reg);
int lk__db_commit(lk_registry *reg);
void lk__db_rollback(lk_registry *reg);
/* A number from the meta table (a calibrated threshold, say), else `fallback` when the key is
 * absent or unreadable (caller holds db_lock). */
double lk__db_meta_number(lk_registry *reg, const char *key, double fallback);
/* The committed version (reads the database; caller holds db_lock). */
int lk__db_version(lk_registry *reg, uint64_t *out);
/* Looks up a character's row id by slug (caller holds db_lock). */
int lk__db_character_id(lk_registry *reg, const char *slug, int64_t *out);
/* The embedder id recorded in the registry, "" for none or when unreadable (caller holds
 * db_lock). Quiet: leaves the error detail alone, for readers that go on without it. */
void lk__db_embedder(lk_registry *reg, char out[LK_EMBEDDER_ID_MAX]);

/* ---- index/store/embedded_references.c */
/* Adds `n_refs` references to character `slug` in one transaction, each with `n_views` given
 * embeddings (n_refs x n_views x LK_EMBEDDING_DIM floats, used as stored) and a PDQ hash of
 * its own, claiming the registry for `embedder_id`; *first_id (may be NULL) gets the first new
 * id, the rest follow in order. For tests and benches, which need vectors no CNN run gives. */
int lk__reference_add_embedded(int64_t *first_id, lk_registry *reg, const char *slug, const float *views,
			       size_t n_refs, int n_views, const char *embedder_id);

/* ---- index/store/negatives.c */
/* Every vector of the negative bank (n x LK_EMBEDDING_DIM floats, as stored; NULL when none),
 * malloc'd (caller holds db_lock). */
int lk__db_negatives(lk_registry *reg, float **out, size_t *n);
/* Adds `n` given vectors (n x LK_EMBEDDING_DIM floats; a repeated one is kept once) to the
 * negative bank in one transaction,
 * claiming the registry for `embedder_id`: for benches, which have the embeddings already. */
int lk__negative_add_embedded(lk_registry *reg, const float *vectors, size_t n, const char *embedder_id);

/* ---- opening the record (index/store/schema.c) */
/* Opens the registry in `dir` (LK_ENOTFOUND when there is none) on a new handle, with the
 * connection configured and the schema brought up to date. */
int lk__store_open(lk_registry **out, const char *dir);
/* Closes the connection and frees the handle; the layers above have let go of their parts. */
void lk__store_close(lk_registry *reg);

/* ---- settings in the record (index/store/settings.c) */
/* Records `id` as the embedder of this registry's embeddings if none is recorded; LK_EREGISTRY
 * if another is (caller holds db_lock, inside a write transaction). */
int lk__db_claim_embedder(lk_registry *reg, const char *id);
/* Stores a character calibration as one change: the registry's threshold, the highest scores of
 * its `negatives` (any order), and the calibrated thresholds of the characters named in `slugs`
 * (every other character's is cleared). Arguments already checked. */
int lk__store_character_calibration(lk_registry *reg, float threshold, const float *scores, size_t n_scores,
				    int64_t negatives, const char *const *slugs, const float *thresholds,
				    size_t n_thresholds);

/* ---- embedding fingerprints (index/store/fingerprint.c) */
/* A checksum of bytes for damage detection (not against tampering); `seed` chains calls. */
uint64_t lk__checksum(const void *data, size_t n, uint64_t seed);
/* What a reference's stored embedding is recognised by (its first bytes and size). */
uint64_t lk__embedding_fingerprint(const void *blob, size_t bytes);

#endif
