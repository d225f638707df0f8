/* The check with both signals: what the embedding adds to PDQ (crops and borders PDQ cannot
 * see), what it must not do (block unrelated pictures), how it reports itself, the hash-only
 * switch, the embedder guard and the upgrade of registries written before embeddings. */
#include "fixtures.h"

#include <criterion/criterion.h>
#include <sqlite3.h>
#include <vips/vips.h>
#include <stdio.h>
#include <string.h>

static struct fx_embedded fx;

static void setup(void)
{
	fx_embedded_open(&fx);
}

static void teardown(void)
{
	fx_embedded_close(&fx);
}

TestSuite(check_embedding, .init = setup, .fini = teardown, .timeout = 300);

static lk_check_result check(const char *image, int hash_only)
{
	lk_check_options o = LK_CHECK_OPTIONS_INIT;
	o.hash_only = hash_only;
	lk_check_result r;
	cr_assert_eq(lk_check_file(&r, fx.reg, fx_pdq_image(image), &o), LK_OK, "%s: %s", image, lk_error_detail());
	return r;
}

Test(check_embedding, finds_the_copies_pdq_cannot_see)
{
	static const char *const edits[] = { "crop10", "border", "rot5" };
	for (int c = 1; c <= 3; c++)
		for (int e = 0; e < 3; e++) {
			char image[64], slug[16];
			snprintf(image, sizeof image, "char%d_%s.png", c, edits[e]);
			snprintf(slug, sizeof slug, "char%d", c);
			const lk_check_result pdq = check(image, 1);
			cr_expect_eq(pdq.signals, LK_SIGNAL_PDQ);
			cr_expect_eq(pdq.verdict, LK_VERDICT_ALLOW, "%s: PDQ alone should miss it: %s", image, pdq.reason);
			const lk_check_result both = check(image, 0);
			cr_expect_eq(both.signals, LK_SIGNAL_PDQ | LK_SIGNAL_EMBEDDING);
			cr_expect_neq(both.verdict, LK_VERDICT_ALLOW, "%s: %s", image, both.reason);
			cr_assert_gt(both.n_matches, 0, "%s", image);
			const lk_match *m = &both.matches[0];
			cr_expect_str_eq(m->character, slug, "%s: %s", image, both.reason);
			cr_expect_eq(m->signals, LK_SIGNAL_EMBEDDING, "%s", image);
			cr_expect_eq(m->distance, -1);
			cr_expect_geq(m->similarity, 0.60f, "%s", image);
			if (m->similarity < 0.90f) {
				cr_expect_eq(both.verdict, LK_VERDICT_REVIEW, "%s: %s", image, both.reason);
				cr_expect_eq(m->reason, LK_REASON_SIMILAR, "%s", image);
			}
			/* Not a copy: the character model, when it recognises the character, says so in
			 * place of "similar to a reference". */
			if (both.reason_code == LK_REASON_CHARACTER) {
				cr_expect_eq(m->reason, LK_REASON_SIMILAR, "%s: a copy keeps its reason", image);
				cr_expect_str_eq(both.character.character, slug, "%s", image);
				cr_expect(strstr(both.reason, "character score") && strstr(both.reason, slug), "%s", both.reason);
			} else {
				cr_expect_eq(both.reason_code, m->reason);
				cr_expect(strstr(both.reason, "embedding similarity") && strstr(both.reason, slug), "%s",
					  both.reason);
			}
			cr_expect_gt(both.embed_ms, 0);
		}
}

Test(check_embedding, both_signals_on_a_plain_copy)
{
	const lk_check_result r = check("char2_jpeg50.jpg", 0);
	cr_expect_eq(r.verdict, LK_VERDICT_BLOCK, "%s", r.reason);
	cr_expect_eq(r.reason_code, LK_REASON_COPY);
	cr_assert_gt(r.n_matches, 0);
	cr_expect_str_eq(r.matches[0].character, "char2");
	cr_expect_eq(r.matches[0].signals, LK_SIGNAL_PDQ | LK_SIGNAL_EMBEDDING);
	cr_expect_geq(r.matches[0].distance, 0);
	cr_expect_gt(r.matches[0].similarity, LK_DEFAULT_EMBED_COPY);
}

Test(check_embedding, unrelated_pictures_stay_allowed)
{
	static const char *const others[] = { "bench_b0000_1024.jpg", "bench_b0001_1024.jpg", "bench_b0002_1024.jpg",
					      "char7_1024x640.png", "noise_200x150_grey.png" };
	for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
		const lk_check_result r = check(others[i], 0);
		cr_expect_eq(r.verdict, LK_VERDICT_ALLOW, "%s: %s", others[i], r.reason);
		cr_expect_eq(r.reason_code, LK_REASON_NONE);
	}
}

/* The character model kept out (its threshold out of reach): these tests are about the copy and
 * similar thresholds of the embedding match. */
static void without_character_model(void)
{
	cr_assert_eq(lk_registry_set_character_calibration(fx.reg, 2.0f, NULL, 0, 0), LK_OK, "%s", lk_error_detail());
}

Test(check_embedding, thresholds_are_checked_and_take_effect)
{
	without_character_model();
	cr_expect_eq(lk_registry_set_embedding_thresholds(fx.reg, 0.5f, 0.7f), LK_EINVAL, "similar above copy");
	cr_expect_eq(lk_registry_set_embedding_thresholds(fx.reg, 1.5f, 0.7f), LK_EINVAL);
	cr_expect_eq(lk_registry_set_embedding_thresholds(fx.reg, 0.9f, 0.0f / 0.0f), LK_EINVAL, "NaN");
	/* Raised past what the crop reaches: PDQ alone is left, which misses it. */
	cr_assert_eq(lk_registry_set_embedding_thresholds(fx.reg, 0.99f, 0.98f), LK_OK);
	cr_expect_eq(check("char1_crop10.png", 0).verdict, LK_VERDICT_ALLOW);
	/* Lowered: the crop is now called a copy and blocked. */
	cr_assert_eq(lk_registry_set_embedding_thresholds(fx.reg, 0.65f, 0.60f), LK_OK);
	const lk_check_result r = check("char1_crop10.png", 0);
	cr_expect_eq(r.verdict, LK_VERDICT_BLOCK, "%s", r.reason);
	cr_expect_eq(r.reason_code, LK_REASON_COPY);
	cr_expect(strstr(r.reason, "copy of 'char1'"), "%s", r.reason);
}

Test(check_embedding, another_embedder_is_refused)
{
	sqlite3 *db;
	char path[400];
	snprintf(path, sizeof path, "%s/registry.db", fx.dir);
	cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(db, "UPDATE meta SET value = 'mnv2-1.4/other' WHERE key = 'embedder'", NULL, NULL, NULL),
		     SQLITE_OK);
	sqlite3_close(db);
	lk_registry *again;
	cr_assert_eq(lk_registry_open(&again, fx.dir), LK_OK, "%s", lk_error_detail());
	cr_expect_eq(lk_registry_set_embedder(again, fx.embedder), LK_EREGISTRY);
	cr_expect(strstr(lk_error_detail(), "mnv2-1.4/other") && strstr(lk_error_detail(), "--hash-only"), "%s",
		  lk_error_detail());
	lk_check_result r;
	cr_expect_eq(lk_check_file(&r, again, fx_pdq_image("char1_jpeg50.jpg"), NULL), LK_OK);
	cr_expect_eq(r.signals, LK_SIGNAL_PDQ, "hash-only without an accepted embedder");
	cr_expect_eq(r.verdict, LK_VERDICT_BLOCK);
	lk_registry_close(again);
}

/* A registry written by the schema before embeddings (2) opens, is upgraded in place through 3
 * to 6, keeps its references and takes embeddings from then on. */
Test(check_embedding, schema_2_registries_are_upgraded)
{
	char old[400];
	snprintf(old, sizeof old, "%s/old", fx_temp_dir());
	fx_make_registry(old, "char1", "char1_orig.png");
	lk_registry *r2;
	sqlite3 *db;
	char path[450];
	snprintf(path, sizeof path, "%s/registry.db", old);
	cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(db, "ALTER TABLE refs DROP COLUMN embedding; ALTER TABLE characters DROP COLUMN embed_copy;"
				  " ALTER TABLE characters DROP COLUMN embed_similar; ALTER TABLE characters DROP COLUMN franchise;"
				  " ALTER TABLE characters DROP COLUMN block_on_character;"
				  " ALTER TABLE characters DROP COLUMN character_threshold;"
				  " ALTER TABLE characters DROP COLUMN calibrated_threshold; DROP TABLE negatives;"
				  " UPDATE meta SET value = '2' WHERE key = 'schema'",
				  NULL, NULL, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
	sqlite3_close(db);

	cr_assert_eq(lk_registry_open(&r2, old), LK_OK, "%s", lk_error_detail());
	cr_assert_eq(lk_registry_set_embedder(r2, fx.embedder), LK_OK, "%s", lk_error_detail());
	cr_assert_eq(lk_registry_set_embedding_thresholds(r2, 0.90f, 0.60f), LK_OK);
	lk_check_result r;
	cr_assert_eq(lk_check_file(&r, r2, fx_pdq_image("char1_jpeg50.jpg"), NULL), LK_OK);
	cr_expect_eq(r.verdict, LK_VERDICT_BLOCK, "the old reference still matches: %s", r.reason);
	cr_expect_eq(r.signals, LK_SIGNAL_PDQ, "no embeddings yet: nothing to compare with");
	cr_assert_eq(lk_reference_add_file(NULL, r2, "char1", fx_pdq_image("char1_bright.png"), NULL), LK_OK,
		     "%s", lk_error_detail());
	cr_assert_eq(lk_check_file(&r, r2, fx_pdq_image("char1_crop10.png"), NULL), LK_OK);
	cr_expect_eq(r.signals, LK_SIGNAL_PDQ | LK_SIGNAL_EMBEDDING);
	cr_expect_neq(r.verdict, LK_VERDICT_ALLOW, "%s", r.reason);
	/* Schema 5: characters are their own franchise until given one, and the bank is there. */
	lk_character got;
	cr_assert_eq(lk_character_get(&got, r2, "char1"), LK_OK, "%s", lk_error_detail());
	cr_expect_str_eq(got.franchise, "char1");
	cr_expect_eq(got.block_on_character, 0);
	size_t negatives = 1;
	cr_expect_eq(lk_negative_list(NULL, 0, &negatives, r2), LK_OK, "%s", lk_error_detail());
	cr_expect_eq(negatives, 0);
	/* Schema 6: each character can hold a calibrated threshold. */
	float threshold;
	size_t flagged;
	lk_embedding unrelated;
	cr_assert_eq(lk_embed_file(&unrelated, fx.embedder, fx_pdq_image("bench_b0000_1024.jpg"), NULL), LK_OK);
	cr_expect_eq(lk_registry_calibrate_characters(&threshold, &flagged, r2, &unrelated, 1, 0.01, 0.5f), LK_OK, "%s",
		     lk_error_detail());
	lk_registry_close(r2);

	cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(db, "UPDATE meta SET value = '1' WHERE key = 'schema'", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	cr_expect_eq(lk_registry_open(&r2, old), LK_EREGISTRY);
	cr_expect(strstr(lk_error_detail(), "schema 1"), "%s", lk_error_detail());
}

/* A licensed picture cropped: PDQ loses it, the embedding calls it a copy of the allow-listed
 * reference, and the allow-list clears it. */
Test(check_embedding, allow_list_applies_to_embedding_copies)
{
	lk_character c = fx_character("licensed", "Licensed");
	cr_assert_eq(lk_character_add(fx.reg, &c), LK_OK);
	lk_reference_options o = LK_REFERENCE_OPTIONS_INIT;
	o.allow = 1;
	cr_assert_eq(lk_reference_add_file(NULL, fx.reg, "licensed", fx_pdq_image("char7_1024x640.png"), &o), LK_OK,
		     "%s", lk_error_detail());
	VipsImage *img = fx_load(fx_pdq_image("char7_1024x640.png")), *crop;
	cr_assert_eq(vips_extract_area(img, &crop, 102, 64, 820, 512, NULL), 0);
	size_t len;
	void *png = fx_encode(crop, ".png", &len);
	cr_assert_eq(lk_registry_set_embedding_thresholds(fx.reg, 0.65f, 0.60f), LK_OK);
	lk_check_result r;
	cr_assert_eq(lk_check_bytes(&r, fx.reg, png, len, NULL), LK_OK, "%s", lk_error_detail());
	cr_expect_eq(r.verdict, LK_VERDICT_ALLOW, "%s", r.reason);
	cr_assert_gt(r.n_matches, 0, "%s", r.reason);
	cr_expect_str_eq(r.matches[0].character, "licensed");
	cr_expect_eq(r.matches[0].signals, LK_SIGNAL_EMBEDDING, "PDQ loses a 10%% crop");
	cr_expect(strstr(r.reason, "licensed: allow-listed reference"), "%s", r.reason);
	g_free(png);
	g_object_unref(crop);
	g_object_unref(img);
}

/* A character's own embedding thresholds override the registry's, for it alone. */
Test(check_embedding, per_character_thresholds)
{
	without_character_model();
	cr_assert_eq(lk_registry_set_embedding_thresholds(fx.reg, 0.99f, 0.98f), LK_OK);
	lk_character c;
	cr_assert_eq(lk_character_get(&c, fx.reg, "char1"), LK_OK);
	cr_expect_eq(c.embed_copy, LK_EMBED_INHERIT);
	c.embed_copy = 0.65f;
	c.embed_similar = 0.60f;
	cr_assert_eq(lk_character_update(fx.reg, &c), LK_OK, "%s", lk_error_detail());
	lk_check_result r = check("char1_crop10.png", 0);
	cr_expect_eq(r.verdict, LK_VERDICT_BLOCK, "char1's own thresholds apply: %s", r.reason);
	r = check("char2_crop10.png", 0);
	cr_expect_eq(r.verdict, LK_VERDICT_ALLOW, "char2 keeps the registry's: %s", r.reason);
	cr_assert_eq(lk_character_get(&c, fx.reg, "char1"), LK_OK);
	cr_expect_float_eq(c.embed_copy, 0.65f, 1e-6f);
	cr_expect_float_eq(c.embed_similar, 0.60f, 1e-6f);

	c.embed_similar = 0.7f; /* above copy */
	cr_expect_eq(lk_character_update(fx.reg, &c), LK_EINVAL);
	c.embed_similar = -0.5f;
	cr_expect_eq(lk_character_update(fx.reg, &c), LK_EINVAL);
	c.embed_similar = 1.5f;
	cr_expect_eq(lk_character_update(fx.reg, &c), LK_EINVAL);
	cr_expect(strstr(lk_error_detail(), "embedding thresholds"), "%s", lk_error_detail());
}
