/* A writer killed at any moment leaves the registry readable and consistent, and the state it
 * had committed. Each trial kills a writing child process with SIGKILL at a random point. */
#include "fixtures.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void write_forever(const char *dir)
{
	lk_registry *reg;
	if (lk_registry_open(&reg, dir) != LK_OK)
		_exit(90);
	for (unsigned k = 0;; k++) {
		char slug[LK_SLUG_MAX];
		snprintf(slug, sizeof slug, "c%d-%u", (int)getpid(), k);
		lk_character c = fx_character(slug, "Character");
		if (lk_character_add(reg, &c) != LK_OK)
			_exit(91);
		for (int i = 0; i < 5; i++) {
			lk_pdq_hash h;
			for (int b = 0; b < LK_PDQ_BYTES; b++)
				h.bytes[b] = (unsigned char)(k * 7 + i * 131 + b * 29 + getpid());
			if (lk_reference_add_hash(NULL, reg, c.slug, &h, 90, NULL) != LK_OK)
				_exit(92);
		}
		if (k % 3 == 2 && lk_character_remove(reg, c.slug) != LK_OK)
			_exit(93);
	}
}

static void expect_consistent(const char *dir, int trial)
{
	char path[600];
	snprintf(path, sizeof path, "%s/registry.db", dir);
	sqlite3 *db;
	cr_assert_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	sqlite3_stmt *st;
	cr_assert_eq(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	cr_expect_str_eq((const char *)sqlite3_column_text(st, 0), "ok", "trial %d", trial);
	sqlite3_finalize(st);
	cr_assert_eq(sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM refs r LEFT JOIN characters c ON c.id = r.character_id"
					" WHERE c.id IS NULL", -1, &st, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	cr_expect_eq(sqlite3_column_int(st, 0), 0, "trial %d: references without a character", trial);
	sqlite3_finalize(st);
	sqlite3_close(db);

	lk_registry *reg;
	cr_assert_eq(lk_registry_open(&reg, dir), LK_OK, "trial %d: %s", trial, lk_error_detail());
	size_t n_chars, n_refs;
	cr_assert_eq(lk_character_list(NULL, 0, &n_chars, reg), LK_OK);
	lk_character *all = calloc(n_chars + 1, sizeof *all);
	cr_assert_eq(lk_character_list(all, n_chars, &n_chars, reg), LK_OK);
	cr_assert_eq(lk_reference_list(NULL, 0, &n_refs, reg, NULL), LK_OK);
	int64_t sum = 0;
	for (size_t i = 0; i < n_chars; i++)
		sum += all[i].references;
	cr_expect_eq((size_t)sum, n_refs, "trial %d: counts disagree", trial);
	free(all);
	/* The registry still answers: the protected character is blocked. */
	lk_check_result r;
	cr_assert_eq(lk_check_file(&r, reg, fx_pdq_image("char1_jpeg50.jpg"), NULL), LK_OK);
	cr_expect_eq(r.verdict, LK_VERDICT_BLOCK, "trial %d", trial);
	lk_registry_close(reg);
}

Test(crash_safety, writer_killed_at_random_points, .timeout = 240)
{
	char dir[400];
	snprintf(dir, sizeof dir, "%s/reg", fx_temp_dir());
	fx_make_registry(dir, "char1", "char1_orig.png");

	srand(20261128);
	uint64_t last_version = 0;
	enum { TRIALS = 40 };
	for (int trial = 0; trial < TRIALS; trial++) {
		pid_t pid = fork();
		cr_assert_neq(pid, -1);
		if (pid == 0)
			write_forever(dir);
		usleep((useconds_t)(5000 + rand() % 60000));
		kill(pid, SIGKILL);
		int st;
		waitpid(pid, &st, 0);
		cr_assert(WIFSIGNALED(st), "trial %d: the writer stopped by itself (status %d)", trial,
			  WIFEXITED(st) ? WEXITSTATUS(st) : -1);
		expect_consistent(dir, trial);
		lk_registry *r2;
		cr_assert_eq(lk_registry_open(&r2, dir), LK_OK);
		uint64_t v;
		cr_assert_eq(lk_registry_version(&v, r2), LK_OK);
		cr_expect_geq(v, last_version, "trial %d: the version went back", trial);
		last_version = v;
		lk_registry_close(r2);
	}
	cr_expect_gt(last_version, 10u, "the writers committed almost nothing: the test tested nothing");
}
