/* Characters: add, read, update, enable, remove (with their references), list. */
#include "index/store/store.h"

#include <string.h>
#include <time.h>

static int valid_slug(const char *slug)
{
	size_t n = strlen(slug);
	if (n == 0 || n >= LK_SLUG_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		const char c = slug[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'))
			return 0;
	}
	return 1;
}

static int valid_thresholds(const lk_character *c)
{
	const int block = c->block_threshold < 0 ? LK_DEFAULT_BLOCK_THRESHOLD : c->block_threshold;
	const int review = c->review_threshold < 0 ? LK_DEFAULT_REVIEW_THRESHOLD : c->review_threshold;
	if (block > LK_PDQ_BITS || review > LK_PDQ_BITS)
		return lk__fail(LK_EINVAL, "thresholds are Hamming distances, 0..256");
	if (review < block)
		return lk__fail(LK_EINVAL, "review threshold %d is below block threshold %d", review, block);
	/* Embedding thresholds: LK_EMBED_INHERIT or 0 < t <= 1; when both are set, similar <= copy. */
	const float e[2] = { c->embed_copy, c->embed_similar };
	for (int i = 0; i < 2; i++)
		if (e[i] != LK_EMBED_INHERIT && !(e[i] > 0 && e[i] <= 1))
			return lk__fail(LK_EINVAL, "embedding thresholds are similarities above 0 and at most 1 (0: the "
					"registry's), not %g", (double)e[i]);
	if (e[0] != LK_EMBED_INHERIT && e[1] != LK_EMBED_INHERIT && e[1] > e[0])
		return lk__fail(LK_EINVAL, "embedding similar threshold %g is above the copy threshold %g", (double)e[1],
				(double)e[0]);
	/* A character score is a difference of similarities: -2..2; 0 inherits. */
	if (!(c->character_threshold >= -2 && c->character_threshold <= 2))
		return lk__fail(LK_EINVAL, "a character threshold is a score from -2 to 2 (0: the registry's), not %g",
				(double)c->character_threshold);
	return LK_OK;
}

static void bind_similarity(sqlite3_stmt *st, int i, float v)
{
	if (v == LK_EMBED_INHERIT)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_double(st, i, v);
}

static void bind_threshold(sqlite3_stmt *st, int i, int v)
{
	if (v < 0)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_int(st, i, v);
}

/* Binds name..enabled to parameters 1..8, the slug to 9, the embedding thresholds to 10..11, the
 * franchise and character-model settings to 12..14. */
static void bind_fields(sqlite3_stmt *st, const lk_character *c)
{
	sqlite3_bind_text(st, 1, c->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, c->aliases, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, c->rights_holder, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, c->licence, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, c->labels, -1, SQLITE_STATIC);
	bind_threshold(st, 6, c->block_threshold);
	bind_threshold(st, 7, c->review_threshold);
	sqlite3_bind_int(st, 8, c->enabled ? 1 : 0);
	sqlite3_bind_text(st, 9, c->slug, -1, SQLITE_STATIC);
	bind_similarity(st, 10, c->embed_copy);
	bind_similarity(st, 11, c->embed_similar);
	/* Its own slug as its franchise is the same as none. */
	sqlite3_bind_text(st, 12, strcmp(c->franchise, c->slug) ? c->franchise : "", -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 13, c->block_on_character ? 1 : 0);
	bind_similarity(st, 14, c->character_threshold);
}

static int check_input(const lk_character *c)
{
	if (!valid_slug(c->slug))
		return lk__fail(LK_EINVAL, "character id '%.*s' must be 1-%d characters of a-z 0-9 . _ -",
				LK_SLUG_MAX, c->slug, LK_SLUG_MAX - 1);
	if (!c->name[0])
		return lk__fail(LK_EINVAL, "character '%s' needs a name", c->slug);
	if (memchr(c->franchise, 0, sizeof c->franchise) == NULL || (c->franchise[0] && !valid_slug(c->franchise)))
		return lk__fail(LK_EINVAL, "franchise '%.*s' of '%s' must be 1-%d characters of a-z 0-9 . _ - (or none)",
				LK_SLUG_MAX, c->franchise, c->slug, LK_SLUG_MAX - 1);
	return valid_thresholds(c);
}

/* One statement in its own versioned transaction; `what` names it in errors. `changes_needed`
 * turns "no row touched" into LK_ENOTFOUND. */
static int write_one(lk_registry *reg, sqlite3_stmt *st, const char *what, const char *slug, int changes_needed)
{
	int rc = lk__db_begin(reg);
	if (rc == LK_OK) {
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = lk__db_fail(reg, what);
		else if (changes_needed && sqlite3_changes(reg->db) == 0)
			rc = lk__fail(LK_ENOTFOUND, "no character '%s' in %s", slug, reg->dir);
	}
	rc = rc == LK_OK ? lk__db_commit(reg) : (lk__db_rollback(reg), rc);
	return rc;
}

/* Prepares `sql`, lets `bind` fill its parameters from `arg`, and runs it as one versioned
 * transaction under the registry's lock. */
static int write_statement(lk_registry *reg, const char *sql, void (*bind)(sqlite3_stmt *, const void *),
			   const void *arg, const char *what, const char *slug, int changes_needed)
{
	pthread_mutex_lock(&reg->db_lock);
	sqlite3_stmt *st;
	int rc = lk__db_prepare(reg, &st, sql);
	if (rc == LK_OK) {
		bind(st, arg);
		rc = write_one(reg, st, what, slug, changes_needed);
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&reg->db_lock);
	return rc;
}

static void bind_new_character(sqlite3_stmt *st, const void *arg)
{
	bind_fields(st, arg);
	sqlite3_bind_int64(st, 15, (sqlite3_int64)time(NULL));
}

static void bind_character(sqlite3_stmt *st, const void *arg)
{
	bind_fields(st, arg);
}

struct slug_flag {
	const char *slug;
	int flag;
};

static void bind_flag_slug(sqlite3_stmt *st, const void *arg)
{
	const struct slug_flag *a = arg;
	sqlite3_bind_int(st, 1, a->flag);
	sqlite3_bind_text(st, 2, a->slug, -1, SQLITE_STATIC);
}

static void bind_slug(sqlite3_stmt *st, const void *arg)
{
	sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
}

int lk_character_add(lk_registry *reg, const lk_character *c)
{
	lk__clear_error();
	if (!reg || !c)
		return lk__fail(LK_EINVAL, "lk_character_add: NULL argument");
	int rc = check_input(c);
	if (rc == LK_OK)
		rc = write_statement(reg, "INSERT INTO characters(name, aliases, rights_holder, licence, labels,"
				     " block_threshold, review_threshold, enabled, slug, embed_copy, embed_similar,"
				     " franchise, block_on_character, character_threshold, created_at)"
				     " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15)",
				     bind_new_character, c, "adding a character", c->slug, 0);
	if (rc == LK_EEXISTS)
		rc = lk__fail(LK_EEXISTS, "character '%s' already exists in %s", c->slug, reg->dir);
	return rc;
}

int lk_character_update(lk_registry *reg, const lk_character *c)
{
	lk__clear_error();
	if (!reg || !c)
		return lk__fail(LK_EINVAL, "lk_character_update: NULL argument");
	int rc = check_input(c);
	if (rc == LK_OK)
		rc = write_statement(reg, "UPDATE characters SET name=?1, aliases=?2, rights_holder=?3, licence=?4,"
				     " labels=?5, block_threshold=?6, review_threshold=?7, enabled=?8, embed_copy=?10,"
				     " embed_similar=?11, franchise=?12, block_on_character=?13, character_threshold=?14"
				     " WHERE slug=?9",
				     bind_character, c, "updating a character", c->slug, 1);
	return rc;
}

int lk_character_set_enabled(lk_registry *reg, const char *slug, int enabled)
{
	lk__clear_error();
	if (!reg || !slug)
		return lk__fail(LK_EINVAL, "lk_character_set_enabled: NULL argument");
	const struct slug_flag arg = { slug, enabled ? 1 : 0 };
	return write_statement(reg, "UPDATE characters SET enabled = ? WHERE slug = ?", bind_flag_slug, &arg,
			       "enabling a character", slug, 1);
}

int lk_character_remove(lk_registry *reg, const char *slug)
{
	lk__clear_error();
	if (!reg || !slug)
		return lk__fail(LK_EINVAL, "lk_character_remove: NULL argument");
	return write_statement(reg, "DELETE FROM characters WHERE slug = ?", bind_slug, slug,
			       "removing a character", slug, 1);
}

static void copy_text(char *dst, size_t size, const unsigned char *src)
{
	snprintf(dst, size, "%s", src ? (const char *)src : "");
}

static const char select_sql[] =
	"SELECT c.id, c.slug, c.name, c.aliases, c.rights_holder, c.licence, c.labels,"
	" c.block_threshold, c.review_threshold, c.enabled,"
	" (SELECT COUNT(*) FROM refs r WHERE r.character_id = c.id), c.embed_copy, c.embed_similar,"
	" c.franchise, c.block_on_character, c.character_threshold"
	" FROM characters c";

static void read_row(sqlite3_stmt *st, lk_character *c)
{
	memset(c, 0, sizeof *c);
	c->id = sqlite3_column_int64(st, 0);
	copy_text(c->slug, sizeof c->slug, sqlite3_column_text(st, 1));
	copy_text(c->name, sizeof c->name, sqlite3_column_text(st, 2));
	copy_text(c->aliases, sizeof c->aliases, sqlite3_column_text(st, 3));
	copy_text(c->rights_holder, sizeof c->rights_holder, sqlite3_column_text(st, 4));
	copy_text(c->licence, sizeof c->licence, sqlite3_column_text(st, 5));
	copy_text(c->labels, sizeof c->labels, sqlite3_column_text(st, 6));
	c->block_threshold = sqlite3_column_type(st, 7) == SQLITE_NULL ? -1 : sqlite3_column_int(st, 7);
	c->review_threshold = sqlite3_column_type(st, 8) == SQLITE_NULL ? -1 : sqlite3_column_int(st, 8);
	c->enabled = sqlite3_column_int(st, 9);
	c->references = sqlite3_column_int64(st, 10);
	c->embed_copy = sqlite3_column_type(st, 11) == SQLITE_NULL ? LK_EMBED_INHERIT : (float)sqlite3_column_double(st, 11);
	c->embed_similar =
		sqlite3_column_type(st, 12) == SQLITE_NULL ? LK_EMBED_INHERIT : (float)sqlite3_column_double(st, 12);
	copy_text(c->franchise, sizeof c->franchise, sqlite3_column_text(st, 13));
	if (!c->franchise[0])
		snprintf(c->franchise, sizeof c->franchise, "%s", c->slug);
	c->block_on_character = sqlite3_column_int(st, 14);
	c->character_threshold =
		sqlite3_column_type(st, 15) == SQLITE_NULL ? LK_EMBED_INHERIT : (float)sqlite3_column_double(st, 15);
}

int lk_character_get(lk_character *out, lk_registry *reg, const char *slug)
{
	lk__clear_error();
	if (!out || !reg || !slug)
		return lk__fail(LK_EINVAL, "lk_character_get: NULL argument");
	pthread_mutex_lock(&reg->db_lock);
	sqlite3_stmt *st;
	char sql[sizeof select_sql + 32];
	snprintf(sql, sizeof sql, "%s WHERE c.slug = ?", select_sql);
	int rc = lk__db_prepare(reg, &st, sql);
	if (rc == LK_OK) {
		sqlite3_bind_text(st, 1, slug, -1, SQLITE_STATIC);
		const int step = sqlite3_step(st);
		if (step == SQLITE_ROW)
			read_row(st, out);
		else if (step == SQLITE_DONE)
			rc = lk__fail(LK_ENOTFOUND, "no character '%s' in %s", slug, reg->dir);
		else
			rc = lk__db_fail(reg, "reading a character");
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&reg->db_lock);
	return rc;
}

int lk_character_list(lk_character *out, size_t cap, size_t *total, lk_registry *reg)
{
	lk__clear_error();
	if (!reg || !total || (cap && !out))
		return lk__fail(LK_EINVAL, "lk_character_list: NULL argument");
	pthread_mutex_lock(&reg->db_lock);
	sqlite3_stmt *st;
	char sql[sizeof select_sql + 32];
	snprintf(sql, sizeof sql, "%s ORDER BY c.slug", select_sql);
	int rc = lk__db_prepare(reg, &st, sql);
	size_t n = 0;
	if (rc == LK_OK) {
		int step;
		while ((step = sqlite3_step(st)) == SQLITE_ROW) {
			if (n < cap)
				read_row(st, &out[n]);
			n++;
		}
		if (step != SQLITE_DONE)
			rc = lk__db_fail(reg, "listing characters");
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&reg->db_lock);
	if (rc == LK_OK)
		*total = n;
	return rc;
}
