/* The approximate embedding index: building it, checks using it (and the references it lacks),
 * and every way a file can be unusable, on registries of synthetic embeddings. */
#include "fixtures.h"
#include "index/search/search.h"
#include "index/search/embedding_index.h"

#include <criterion/criterion.h>
#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EMBEDDER "test/synthetic"
#define REFS 600
#define VIEWS 2

static char dir[300];
static char file[340];
static lk_registry *reg;
static uint64_t seed = 88172645463325252ull;

static double gaussian(void)
{
	double u[2];
	for (int i = 0; i < 2; i++) {
		seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
		u[i] = ((double)(seed >> 11) + 0.5) / 9007199254740992.0;
	}
	return sqrt(-2 * log(u[0])) * cos(6.283185307179586 * u[1]);
}

static void unit(float *v)
{
	double n = 0;
	for (int j = 0; j < LK_EMBEDDING_DIM; j++)
		n += (double)v[j] * v[j];
	for (int j = 0; j < LK_EMBEDDING_DIM; j++)
		v[j] = (float)(v[j] / sqrt(n));
}

/* `n` references of VIEWS views each: a random direction, and the same slightly moved. */
static float *make_views(size_t n)
{
	float *v = malloc(sizeof(float) * LK_EMBEDDING_DIM * VIEWS * n);
	cr_assert(v);
	for (size_t i = 0; i < n; i++) {
		float *a = v + i * VIEWS * LK_EMBEDDING_DIM, *b = a + LK_EMBEDDING_DIM;
		for (int j = 0; j < LK_EMBEDDING_DIM; j++)
			a[j] = (float)gaussian();
		unit(a);
		for (int j = 0; j < LK_EMBEDDING_DIM; j++)
			b[j] = a[j] + 0.01f * (float)gaussian();
		unit(b);
	}
	return v;
}

/* An edited copy of `v`: cosine about 0.9 to it. */
static lk_embedding near(const float *v)
{
	lk_embedding e;
	for (int j = 0; j < LK_EMBEDDING_DIM; j++)
		e.v[j] = (float)gaussian();
	unit(e.v);
	for (int j = 0; j < LK_EMBEDDING_DIM; j++)
		e.v[j] = 0.9f * v[j] + 0.436f * e.v[j];
	unit(e.v);
	return e;
}

static float *views;   /* REFS references of character "a", ids first_id.. */
static int64_t first_id;

static void add(const char *slug, const float *v, size_t n, int64_t *first)
{
	cr_assert_eq(lk__reference_add_embedded(first, reg, slug, v, n, VIEWS, EMBEDDER), LK_OK, "%s", lk_error_detail());
}

static void setup(void)
{
	snprintf(dir, sizeof dir, "%s/reg", fx_temp_dir());
	snprintf(file, sizeof file, "%s/" LK_IVF_FILE, dir);
	cr_assert_eq(lk_registry_create(dir), LK_OK, "%s", lk_error_detail());
	cr_assert_eq(lk_registry_open(&reg, dir), LK_OK);
	lk_character a = fx_character("a", "A"), b = fx_character("b", "B");
	cr_assert_eq(lk_character_add(reg, &a), LK_OK);
	cr_assert_eq(lk_character_add(reg, &b), LK_OK);
	views = make_views(REFS);
	add("a", views, REFS, &first_id);
}

static void teardown(void)
{
	lk_registry_close(reg);
	free(views);
}

TestSuite(embedding_index, .init = setup, .fini = teardown, .timeout = 120);

static void reopen(void)
{
	lk_registry_close(reg);
	cr_assert_eq(lk_registry_open(&reg, dir), LK_OK, "%s", lk_error_detail());
}

static void build(lk_index_info *info)
{
	lk_index_options o = LK_INDEX_OPTIONS_INIT;
	o.sample = 200;
	cr_assert_eq(lk_registry_build_index(info, reg, &o), LK_OK, "%s", lk_error_detail());
}

/* Whether the registry's checks search the index file now. */
static int uses_index(void)
{
	struct snapshot *snap;
	cr_assert_eq(lk__snapshot_acquire(&snap, reg), LK_OK, "%s", lk_error_detail());
	const int uses = snap->emb && snap->emb->ivf;
	lk__snapshot_release(snap);
	return uses;
}

/* Whether the index file is mapped into this process. */
static int mapped(void)
{
	FILE *maps = fopen("/proc/self/maps", "r");
	cr_assert(maps);
	char line[1024];
	int found = 0;
	while (!found && fgets(line, sizeof line, maps))
		found = strstr(line, file) != NULL;
	fclose(maps);
	return found;
}

static int64_t best(const float *v, float *similarity)
{
	const lk_embedding q = near(v);
	float sim;
	int64_t id;
	cr_assert_eq(lk_registry_best_similarity(&sim, &id, reg, &q), LK_OK, "%s", lk_error_detail());
	if (similarity)
		*similarity = sim;
	return id;
}

static const float *view_of(int i)
{
	return views + (size_t)i * VIEWS * LK_EMBEDDING_DIM;
}

Test(embedding_index, build_describes_and_matches_exact_search)
{
	cr_expect_eq(uses_index(), 0);
	/* The exact answers first, for the same queries (same seed). */
	enum { Q = 100 };
	int64_t exact[Q];
	float exact_sim[Q];
	const uint64_t start = seed;
	for (int i = 0; i < Q; i++)
		exact[i] = best(view_of(i * 5), &exact_sim[i]);

	lk_index_info info;
	build(&info);
	cr_expect_eq(info.state, LK_INDEX_CURRENT, "%s", info.detail);
	cr_expect_eq(info.references, REFS);
	cr_expect_eq(info.vectors, REFS * VIEWS);
	cr_expect_eq(info.embedded_references, REFS);
	cr_expect_eq(info.delta_references, 0);
	cr_expect_eq(info.nlist, (int)(REFS * VIEWS / 39), "automatic nlist capped by training points");
	cr_expect(info.nprobe >= 1 && info.nprobe <= info.nlist);
	cr_expect(info.recall >= 0.99f || info.nprobe == info.nlist, "recall %.3f at nprobe %d", (double)info.recall,
		  info.nprobe);
	cr_expect_eq(info.sample, 200);
	cr_expect_str_eq(info.embedder, EMBEDDER);
	cr_expect(info.file_bytes > (uint64_t)REFS * VIEWS * LK_EMBEDDING_DIM * 4);
	cr_expect_eq(access(file, F_OK), 0);

	cr_expect_eq(uses_index(), 1, "the next snapshot uses the new file");
	cr_expect(mapped(), "the inverted lists are memory-mapped, not read");
	seed = start;
	int same = 0;
	for (int i = 0; i < Q; i++) {
		float sim;
		const int64_t id = best(view_of(i * 5), &sim);
		if (id == exact[i]) {
			same++;
			cr_expect(fabsf(sim - exact_sim[i]) < 1e-4f, "%f vs %f", (double)sim, (double)exact_sim[i]);
		}
		cr_expect(id == exact[i] || sim <= exact_sim[i] + 1e-4f, "never better than exact");
	}
	cr_expect(same >= 97, "%d of %d queries found the exact nearest reference", same, Q);
	cr_expect_eq(exact[0], first_id);

	/* A reopened registry, another process' view, loads the file. */
	reopen();
	cr_expect_eq(uses_index(), 1);
	cr_assert_eq(lk_registry_index_info(&info, reg), LK_OK);
	cr_expect_eq(info.state, LK_INDEX_CURRENT);
}

Test(embedding_index, no_temporary_file_is_left)
{
	lk_index_info info;
	build(&info);
	build(&info);
	char cmd[400];
	snprintf(cmd, sizeof cmd, "ls '%s' | grep -c tmp", dir);
	FILE *p = popen(cmd, "r");
	int count = -1;
	cr_assert(p && fscanf(p, "%d", &count) == 1);
	pclose(p);
	cr_expect_eq(count, 0);
}

static void damage(long offset, const char *bytes, size_t n)
{
	FILE *f = fopen(file, "r+b");
	cr_assert(f);
	cr_assert_eq(fseek(f, offset, offset < 0 ? SEEK_END : SEEK_SET), 0);
	cr_assert_eq(fwrite(bytes, 1, n, f), n);
	fclose(f);
}

/* A refused file changes nothing but speed: checks answer exactly, the record is intact. */
static void expect_refused(const char *why)
{
	reopen();
	lk_index_info info;
	cr_assert_eq(lk_registry_index_info(&info, reg), LK_OK, "%s", lk_error_detail());
	cr_expect_eq(info.state, LK_INDEX_REFUSED, "%s", why);
	cr_expect(strstr(info.detail, why), "'%s' should say '%s'", info.detail, why);
	cr_expect_eq(uses_index(), 0);
	cr_expect_eq(best(view_of(7), NULL), first_id + 7);
	lk_registry_info r;
	cr_assert_eq(lk_registry_info_get(&r, reg), LK_OK);
	cr_expect_eq(r.embedded_references, REFS);
}

Test(embedding_index, damaged_data_is_refused)
{
	lk_index_info info;
	build(&info);
	damage(-4096, "\x55\xaa", 2);
	expect_refused("checksum mismatch");
}

Test(embedding_index, damaged_header_is_refused)
{
	lk_index_info info;
	build(&info);
	damage(offsetof(struct lk_ivf_header, nprobe), "\x7f", 1);
	expect_refused("damaged header");
}

Test(embedding_index, truncated_file_is_refused)
{
	lk_index_info info;
	build(&info);
	cr_assert_eq(truncate(file, (off_t)(info.file_bytes / 2)), 0);
	expect_refused("truncated");
	cr_assert_eq(truncate(file, 100), 0);
	expect_refused("shorter than its header");
}

Test(embedding_index, other_files_are_refused)
{
	FILE *f = fopen(file, "wb");
	cr_assert(f);
	char junk[LK_IVF_HEADER_BYTES * 2];
	memset(junk, 'x', sizeof junk);
	fwrite(junk, 1, sizeof junk, f);
	fclose(f);
	expect_refused("not a likeness index file");
}

Test(embedding_index, references_added_since_are_searched_exactly)
{
	lk_index_info info;
	build(&info);
	float *more = make_views(5);
	int64_t id;
	add("a", more, 5, &id);
	cr_expect_eq(uses_index(), 1);
	for (int i = 0; i < 5; i++)
		cr_expect_eq(best(more + (size_t)i * VIEWS * LK_EMBEDDING_DIM, NULL), id + i);
	cr_expect_eq(best(view_of(3), NULL), first_id + 3, "the indexed ones still found");
	cr_assert_eq(lk_registry_index_info(&info, reg), LK_OK);
	cr_expect_eq(info.delta_references, 5);
	cr_expect_eq(info.embedded_references, REFS + 5);
	cr_expect(info.registry_version > info.built_version);
	free(more);
}

Test(embedding_index, disabled_and_removed_never_match)
{
	float *theirs = make_views(3);
	int64_t b_id;
	add("b", theirs, 3, &b_id);
	lk_index_info info;
	build(&info);
	cr_expect_eq(best(theirs, NULL), b_id);
	cr_assert_eq(lk_character_set_enabled(reg, "b", 0), LK_OK);
	for (int i = 0; i < 3; i++) {
		const int64_t id = best(theirs + (size_t)i * VIEWS * LK_EMBEDDING_DIM, NULL);
		cr_expect(id < b_id || id > b_id + 2, "disabled b's reference %lld matched", (long long)id);
	}
	cr_assert_eq(lk_character_set_enabled(reg, "b", 1), LK_OK);
	cr_expect_eq(best(theirs, NULL), b_id, "enabled again: the index still holds it");

	cr_assert_eq(lk_reference_remove(reg, first_id + 9), LK_OK);
	cr_expect_neq(best(view_of(9), NULL), first_id + 9);
	free(theirs);
}

/* SQLite may give a removed reference's id to the next one: the index's vectors for that id are
 * the old picture's, so the new reference must be searched exactly and the old never match. */
Test(embedding_index, a_reused_id_is_not_taken_for_the_indexed_reference)
{
	float *theirs = make_views(1);
	int64_t last;
	add("b", theirs, 1, &last);
	lk_index_info info;
	build(&info);
	cr_assert_eq(lk_reference_remove(reg, last), LK_OK);
	float *fresh = make_views(1);
	int64_t again;
	add("b", fresh, 1, &again);
	cr_assert_eq(again, last, "SQLite reused the id (the case under test)");
	cr_expect_eq(best(fresh, NULL), again);
	cr_expect_neq(best(theirs, NULL), again);
	cr_assert_eq(lk_registry_index_info(&info, reg), LK_OK);
	cr_expect_eq(info.delta_references, 1);
	free(theirs);
	free(fresh);
}

Test(embedding_index, another_embedders_index_is_stale)
{
	lk_index_info info;
	build(&info);
	lk_registry_close(reg);
	reg = NULL;
	sqlite3 *db;
	char path[400];
	snprintf(path, sizeof path, "%s/registry.db", dir);
	cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(db, "UPDATE meta SET value = 'test/other' WHERE key = 'embedder'", NULL, NULL, NULL),
		     SQLITE_OK);
	sqlite3_close(db);
	cr_assert_eq(lk_registry_open(&reg, dir), LK_OK);
	cr_assert_eq(lk_registry_index_info(&info, reg), LK_OK);
	cr_expect_eq(info.state, LK_INDEX_STALE);
	cr_expect(strstr(info.detail, "test/other") && strstr(info.detail, EMBEDDER), "%s", info.detail);
	cr_expect_eq(info.references, REFS, "a stale file is still described");
	cr_expect_eq(uses_index(), 0);
	cr_expect_eq(best(view_of(1), NULL), first_id + 1);
}

Test(embedding_index, bad_options_are_refused_and_write_nothing)
{
	lk_index_options o = LK_INDEX_OPTIONS_INIT;
	lk_index_info info;
	cr_expect_eq(lk_registry_build_index(&info, NULL, &o), LK_EINVAL);
	o.version = 0;
	cr_expect_eq(lk_registry_build_index(&info, reg, &o), LK_EINVAL);
	cr_expect(strstr(lk_error_detail(), "version"), "%s", lk_error_detail());
	const lk_index_options good = LK_INDEX_OPTIONS_INIT;
	o = good, o.nlist = -1;
	cr_expect_eq(lk_registry_build_index(&info, reg, &o), LK_EINVAL);
	o = good, o.nlist = 10, o.nprobe = 11;
	cr_expect_eq(lk_registry_build_index(&info, reg, &o), LK_EINVAL);
	o = good, o.nlist = REFS * VIEWS + 1;
	cr_expect_eq(lk_registry_build_index(&info, reg, &o), LK_EINVAL);
	cr_expect(strstr(lk_error_detail(), "vectors"), "%s", lk_error_detail());
	const float recalls[] = { 0, -0.5f, 1.5f, NAN };
	for (int i = 0; i < 4; i++) {
		o = good, o.target_recall = recalls[i];
		cr_expect_eq(lk_registry_build_index(&info, reg, &o), LK_EINVAL, "recall %g", (double)recalls[i]);
	}
	o = good, o.sample = 0;
	cr_expect_eq(lk_registry_build_index(&info, reg, &o), LK_EINVAL);
	o = good, o.threads = -1;
	cr_expect_eq(lk_registry_build_index(&info, reg, &o), LK_EINVAL);
	cr_expect_eq(access(file, F_OK), -1, "nothing written");
	cr_expect_eq(lk_registry_index_info(NULL, reg), LK_EINVAL);
	cr_assert_eq(lk_registry_index_info(&info, reg), LK_OK);
	cr_expect_eq(info.state, LK_INDEX_NONE);
	cr_expect_eq(info.embedded_references, REFS);
	cr_expect_eq(info.delta_references, REFS);
}

Test(embedding_index, given_nlist_and_nprobe_are_kept)
{
	lk_index_options o = LK_INDEX_OPTIONS_INIT;
	o.nlist = 8, o.nprobe = 3, o.sample = 50, o.threads = 1;
	lk_index_info info;
	cr_assert_eq(lk_registry_build_index(&info, reg, &o), LK_OK, "%s", lk_error_detail());
	cr_expect_eq(info.nlist, 8);
	cr_expect_eq(info.nprobe, 3);
	cr_expect(info.recall > 0 && info.recall <= 1);
}

Test(embedding_index, an_empty_registry_has_nothing_to_index)
{
	snprintf(dir, sizeof dir, "%s/empty", fx_temp_dir());
	cr_assert_eq(lk_registry_create(dir), LK_OK);
	reopen();
	lk_index_info info;
	cr_expect_eq(lk_registry_build_index(&info, reg, NULL), LK_ENOTFOUND);
	cr_expect(strstr(lk_error_detail(), "no reference has an embedding"), "%s", lk_error_detail());
}

Test(embedding_index, state_names)
{
	cr_expect_str_eq(lk_index_state_name(LK_INDEX_NONE), "none");
	cr_expect_str_eq(lk_index_state_name(LK_INDEX_CURRENT), "current");
	cr_expect_str_eq(lk_index_state_name(LK_INDEX_STALE), "stale");
	cr_expect_str_eq(lk_index_state_name(LK_INDEX_REFUSED), "refused");
	cr_expect_str_eq(lk_index_state_name(42), "?");
}

/* Checks on other threads go on while the index is built and replaced, each answering from a
 * whole snapshot: the indexed reference is found before, during and after. */
struct asker {
	atomic_int *stop;
	lk_embedding query;
	int64_t want;
	int wrong, asked;
};

static void *ask(void *arg)
{
	struct asker *a = arg;
	while (!atomic_load(a->stop) || a->asked < 5) {
		float sim;
		int64_t id;
		if (lk_registry_best_similarity(&sim, &id, reg, &a->query) != LK_OK || id != a->want)
			a->wrong++;
		a->asked++;
	}
	return NULL;
}

Test(embedding_index, checks_go_on_while_it_is_built)
{
	atomic_int stop = 0;
	struct asker a[2];
	pthread_t t[2];
	for (int i = 0; i < 2; i++) {
		a[i] = (struct asker){ &stop, near(view_of(11 * (i + 1))), first_id + 11 * (i + 1), 0, 0 };
		cr_assert_eq(pthread_create(&t[i], NULL, ask, &a[i]), 0);
	}
	lk_index_info info;
	build(&info);
	build(&info);
	atomic_store(&stop, 1);
	for (int i = 0; i < 2; i++) {
		pthread_join(t[i], NULL);
		cr_expect_eq(a[i].wrong, 0, "%d of %d answers wrong", a[i].wrong, a[i].asked);
	}
	cr_expect_eq(uses_index(), 1);
}
