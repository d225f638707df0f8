/* The copy check end to end: every verdict path, takedown, allow-list, dihedral matches,
 * low-quality refusal, and checks running while references are added. */
#include "fixtures.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[300];
static lk_registry *reg;

static void add_character(const char *slug, int block, int review)
{
	char name[LK_SLUG_MAX + 16];
	snprintf(name, sizeof name, "Name of %s", slug);
	lk_character c = fx_character(slug, name);
	c.block_threshold = block;
	c.review_threshold = review;
	cr_assert_eq(lk_character_add(reg, &c), LK_OK, "%s", lk_error_detail());
}

static int64_t add_reference(const char *slug, const char *image, int allow)
{
	lk_reference_options o = LK_REFERENCE_OPTIONS_INIT;
	o.allow = allow;
	int64_t id;
	cr_assert_eq(lk_reference_add_file(&id, reg, slug, fx_pdq_image(image), &o), LK_OK, "%s", lk_error_detail());
	return id;
}

/* char1..char3 each registered with their original image. */
static void setup(void)
{
	snprintf(dir, sizeof dir, "%s/reg", fx_temp_dir());
	cr_assert_eq(lk_registry_create(dir), LK_OK);
	cr_assert_eq(lk_registry_open(&reg, dir), LK_OK, "%s", lk_error_detail());
	for (int c = 1; c <= 3; c++) {
		char slug[16], image[32];
		snprintf(slug, sizeof slug, "char%d", c);
		snprintf(image, sizeof image, "char%d_orig.png", c);
		add_character(slug, -1, -1);
		add_reference(slug, image, 0);
	}
}

static void teardown(void)
{
	lk_registry_close(reg);
}

static lk_check_result check(const char *image)
{
	lk_check_result r;
	int rc = lk_check_file(&r, reg, fx_pdq_image(image), NULL);
	cr_assert_eq(rc, LK_OK, "%s: %s", image, lk_error_detail());
	return r;
}

TestSuite(check, .init = setup, .fini = teardown);

/* The edits PDQ must see through: each one of an original is blocked as that character. */
Test(check, pdq_edits_are_blocked_as_their_original)
{
	static const char *const edits[] = { "jpeg50.jpg", "blur.png", "resize256.png", "bright.png",
					     "flipy.png", "rot90.png", "orig.png" };
	for (int c = 1; c <= 3; c++)
		for (size_t e = 0; e < sizeof edits / sizeof edits[0]; e++) {
			char image[64], slug[16];
			snprintf(image, sizeof image, "char%d_%s", c, edits[e]);
			snprintf(slug, sizeof slug, "char%d", c);
			lk_check_result r = check(image);
			cr_expect_eq(r.verdict, LK_VERDICT_BLOCK, "%s: %s (%s)", image, lk_verdict_name(r.verdict), r.reason);
			cr_expect_geq(r.n_matches, 1);
			cr_expect_str_eq(r.matches[0].character, slug, "%s matched %s", image, r.matches[0].character);
			cr_expect_leq(r.matches[0].distance, 31);
			cr_expect_gt(r.registry_version, 0u);
			cr_expect_geq(r.total_ms, r.search_ms);
		}
}

Test(check, mirrors_and_turns_match_through_dihedral_variants)
{
	lk_check_result r = check("char2_flipy.png");
	cr_expect_eq(r.matches[0].transform, LK_DIHEDRAL_FLIPY, "transform %d", r.matches[0].transform);
	cr_expect(strstr(r.reason, "mirrored"), "%s", r.reason);
	r = check("char3_rot90.png");
	cr_expect_neq(r.matches[0].transform, LK_DIHEDRAL_ORIGINAL);
}

Test(check, unrelated_images_are_allowed)
{
	static const char *const others[] = { "char7_1024x640.png", "noise_200x150_grey.png",
					      "bench_b0000_1024.jpg", "bench_b0001_1024.jpg" };
	for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
		lk_check_result r = check(others[i]);
		cr_expect_eq(r.verdict, LK_VERDICT_ALLOW, "%s: %s", others[i], r.reason);
		cr_expect_eq(r.n_matches, 0);
		cr_expect_str_eq(r.reason, "no reference within review distance");
	}
}

Test(check, low_quality_images_are_never_matched)
{
	lk_check_result r = check("flat_grey.png");
	cr_expect_eq(r.verdict, LK_VERDICT_ALLOW);
	cr_expect_eq(r.n_matches, 0);
	cr_expect(strstr(r.reason, "quality 0"), "%s", r.reason);
	/* Even a hash identical to a reference's is not matched when its quality is low. */
	lk_pdq_result pdq;
	cr_assert_eq(lk_pdq_hash_file(&pdq, fx_pdq_image("char1_orig.png"), NULL), LK_OK);
	pdq.quality = 40;
	cr_assert_eq(lk_check_pdq(&r, reg, &pdq), LK_OK);
	cr_expect_eq(r.verdict, LK_VERDICT_ALLOW);
	cr_expect_eq(r.n_matches, 0);
}

/* Distance bands on a hash with a known number of flipped bits. */
static lk_check_result check_flipped(int bits)
{
	lk_pdq_result pdq;
	cr_assert_eq(lk_pdq_hash_file(&pdq, fx_pdq_image("char1_orig.png"), NULL), LK_OK);
	for (int d = 0; d < LK_DIHEDRAL_COUNT; d++) /* keep variants far away from everything */
		if (d)
			memset(pdq.hash[d].bytes, d * 37, LK_PDQ_BYTES);
	for (int b = 0; b < bits; b++)
		pdq.hash[0].bytes[b / 8] ^= (unsigned char)(1u << (b % 8));
	lk_check_result r;
	cr_assert_eq(lk_check_pdq(&r, reg, &pdq), LK_OK);
	return r;
}

Test(check, block_review_and_allow_bands)
{
	lk_check_result r = check_flipped(31);
	cr_expect_eq(r.verdict, LK_VERDICT_BLOCK, "%s", r.reason);
	r = check_flipped(32);
	cr_expect_eq(r.verdict, LK_VERDICT_REVIEW, "%s", r.reason);
	cr_expect(strstr(r.reason, "char1") && strstr(r.reason, "32 bits"), "%s", r.reason);
	r = check_flipped(55);
	cr_expect_eq(r.verdict, LK_VERDICT_REVIEW);
	r = check_flipped(56);
	cr_expect_eq(r.verdict, LK_VERDICT_ALLOW, "%s", r.reason);
}

Test(check, per_character_thresholds)
{
	lk_character c;
	cr_assert_eq(lk_character_get(&c, reg, "char1"), LK_OK);
	c.block_threshold = 10;
	c.review_threshold = 40;
	cr_assert_eq(lk_character_update(reg, &c), LK_OK);
	lk_check_result r = check_flipped(20);
	cr_expect_eq(r.verdict, LK_VERDICT_REVIEW, "%s", r.reason);
	cr_expect_eq(r.matches[0].block_threshold, 10);
	r = check_flipped(45);
	cr_expect_eq(r.verdict, LK_VERDICT_ALLOW, "%s", r.reason);
}

/* A takedown stops matching at the next check: through this handle and through another one
 * (another process would see the same). */
Test(check, takedown_and_disable_take_effect_at_once)
{
	lk_registry *other;
	cr_assert_eq(lk_registry_open(&other, dir), LK_OK);
	lk_check_result r;
	cr_assert_eq(lk_check_file(&r, other, fx_pdq_image("char2_blur.png"), NULL), LK_OK);
	cr_expect_eq(r.verdict, LK_VERDICT_BLOCK);

	cr_assert_eq(lk_reference_remove(reg, r.matches[0].reference_id), LK_OK);
	cr_assert_eq(lk_check_file(&r, other, fx_pdq_image("char2_blur.png"), NULL), LK_OK);
	cr_expect_eq(r.verdict, LK_VERDICT_ALLOW, "still matched after removal: %s", r.reason);

	r = check("char3_blur.png");
	cr_expect_eq(r.verdict, LK_VERDICT_BLOCK);
	cr_assert_eq(lk_character_set_enabled(reg, "char3", 0), LK_OK);
	cr_assert_eq(lk_check_file(&r, other, fx_pdq_image("char3_blur.png"), NULL), LK_OK);
	cr_expect_eq(r.verdict, LK_VERDICT_ALLOW, "%s", r.reason);
	cr_assert_eq(lk_character_set_enabled(reg, "char3", 1), LK_OK);
	r = check("char3_blur.png");
	cr_expect_eq(r.verdict, LK_VERDICT_BLOCK);

	cr_assert_eq(lk_character_remove(reg, "char3"), LK_OK);
	cr_assert_eq(lk_check_file(&r, other, fx_pdq_image("char3_orig.png"), NULL), LK_OK);
	cr_expect_eq(r.verdict, LK_VERDICT_ALLOW);
	lk_registry_close(other);
}

/* A licensed copy (allow-listed reference) is allowed; other copies of the character are not. */
Test(check, allow_list_suppresses_matches_of_its_character)
{
	add_reference("char1", "char1_overlay.png", 1);
	lk_check_result r = check("char1_overlay.png");
	cr_expect_eq(r.verdict, LK_VERDICT_ALLOW, "%s", r.reason);
	cr_expect(strstr(r.reason, "licensed"), "%s", r.reason);
	cr_expect_geq(r.n_matches, 1);
	cr_expect(r.matches[0].allow);
	r = check("char1_blur.png");
	cr_expect_eq(r.verdict, LK_VERDICT_BLOCK, "%s", r.reason);
	r = check("char2_blur.png");
	cr_expect_eq(r.verdict, LK_VERDICT_BLOCK, "%s", r.reason);
}

struct adder {
	int errors;
};

static void *add_many(void *arg)
{
	struct adder *a = arg;
	lk_character c = fx_character("many", "Many");
	if (lk_character_add(reg, &c) != LK_OK)
		a->errors++;
	for (int i = 0; i < 40; i++) {
		lk_pdq_hash h;
		for (int b = 0; b < LK_PDQ_BYTES; b++)
			h.bytes[b] = (unsigned char)(i * 131 + b * 7);
		if (lk_reference_add_hash(NULL, reg, "many", &h, 90, NULL) != LK_OK)
			a->errors++;
	}
	return NULL;
}

struct checker {
	const char *image;
	int wrong;
	int errors;
};

static void *check_many(void *arg)
{
	struct checker *k = arg;
	for (int i = 0; i < 25; i++) {
		lk_check_result r;
		if (lk_check_file(&r, reg, fx_pdq_image(k->image), NULL) != LK_OK)
			k->errors++;
		else if (r.verdict != LK_VERDICT_BLOCK)
			k->wrong++;
	}
	return NULL;
}

Test(check, concurrent_checks_while_adding)
{
	pthread_t writer, readers[3];
	struct adder a = { 0 };
	struct checker k[3] = { { "char1_jpeg50.jpg", 0, 0 }, { "char2_bright.png", 0, 0 }, { "char3_rot90.png", 0, 0 } };
	pthread_create(&writer, NULL, add_many, &a);
	for (int i = 0; i < 3; i++)
		pthread_create(&readers[i], NULL, check_many, &k[i]);
	pthread_join(writer, NULL);
	for (int i = 0; i < 3; i++) {
		pthread_join(readers[i], NULL);
		cr_expect_eq(k[i].errors, 0, "checker %d failed", i);
		cr_expect_eq(k[i].wrong, 0, "checker %d got a wrong verdict", i);
	}
	cr_expect_eq(a.errors, 0);
	size_t total;
	cr_assert_eq(lk_reference_list(NULL, 0, &total, reg, "many"), LK_OK);
	cr_expect_eq(total, 40u);
}

/* Unrelated pairs: with only char1 registered, no edit of char2 or char3 matches anything. */
Test(check, other_characters_edits_are_allowed)
{
	cr_assert_eq(lk_character_remove(reg, "char2"), LK_OK);
	cr_assert_eq(lk_character_remove(reg, "char3"), LK_OK);
	static const char *const edits[] = { "orig.png", "jpeg50.jpg", "blur.png", "resize256.png", "bright.png",
					     "flipy.png", "rot90.png", "hue.png", "overlay.png", "crop10.png" };
	for (int c = 2; c <= 3; c++)
		for (size_t e = 0; e < sizeof edits / sizeof edits[0]; e++) {
			char image[64];
			snprintf(image, sizeof image, "char%d_%s", c, edits[e]);
			lk_check_result r = check(image);
			cr_expect_eq(r.verdict, LK_VERDICT_ALLOW, "%s: %s", image, r.reason);
		}
}

/* Flat cartoon art: PDQ's DCT-derived mirror of the drawing lands 56 bits from the mirrored
 * drawing's hash (past the radius), so references store hashes of their really mirrored and
 * rotated pixels. Mirrored and turned copies then match tightly. */
Test(check, mirrored_flat_art_matches_through_stored_transforms)
{
	char path[512];
	snprintf(path, sizeof path, "%s/demo/characters/sunny.svg", LK_SOURCE_DIR);
	VipsImage *art = fx_load(path), *flat, *mirror, *turned;
	double white[3] = { 255, 255, 255 };
	VipsArrayDouble *bg = vips_array_double_new(white, 3);
	cr_assert_eq(vips_flatten(art, &flat, "background", bg, NULL), 0);
	vips_area_unref(VIPS_AREA(bg));
	size_t len;
	void *png = fx_encode(flat, "png", &len);
	add_character("sunny", -1, -1);
	int64_t id;
	cr_assert_eq(lk_reference_add_bytes(&id, reg, "sunny", png, len, NULL), LK_OK, "%s", lk_error_detail());
	g_free(png);

	lk_pdq_result dct;
	cr_assert_eq(vips_flip(flat, &mirror, VIPS_DIRECTION_HORIZONTAL, NULL), 0);
	png = fx_encode(mirror, "png", &len);
	lk_check_result r;
	cr_assert_eq(lk_check_bytes(&r, reg, png, len, NULL), LK_OK);
	cr_expect_eq(r.verdict, LK_VERDICT_BLOCK, "%s", r.reason);
	cr_expect_str_eq(r.matches[0].character, "sunny");
	cr_expect_eq(r.matches[0].transform, LK_DIHEDRAL_FLIPY);
	cr_expect_leq(r.matches[0].distance, 2);
	/* ...where the DCT-derived variant alone would not have matched. */
	lk_pdq_result ref_dct;
	void *orig_png = fx_encode(flat, "png", &len);
	ref_dct = fx_hash_bytes(orig_png, len);
	g_free(orig_png);
	dct = fx_hash_bytes(png, len);
	cr_expect_gt(lk_pdq_distance(&dct.hash[0], &ref_dct.hash[LK_DIHEDRAL_FLIPY]), 31,
		     "the DCT variant matches after all: this test no longer shows why");
	g_free(png);

	cr_assert_eq(vips_rot(flat, &turned, VIPS_ANGLE_D270, NULL), 0); /* 90 degrees counter-clockwise */
	png = fx_encode(turned, "png", &len);
	cr_assert_eq(lk_check_bytes(&r, reg, png, len, NULL), LK_OK);
	cr_expect_eq(r.verdict, LK_VERDICT_BLOCK, "%s", r.reason);
	cr_expect_eq(r.matches[0].transform, LK_DIHEDRAL_ROT90, "transform %d", r.matches[0].transform);
	g_free(png);
	g_object_unref(turned);
	g_object_unref(mirror);
	g_object_unref(flat);
	g_object_unref(art);
}

/* A nearly symmetric drawing: its mirror is within review distance of the original hash (44
 * bits) and identical to the stored mirrored hash. The closer transform must decide: block. */
Test(check, closest_stored_transform_decides)
{
	VipsImage *x = fx_load(fx_pdq_image("char2_orig.png")), *m, *left, *right, *sym, *mirror;
	cr_assert_eq(vips_flip(x, &m, VIPS_DIRECTION_HORIZONTAL, NULL), 0);
	cr_assert_eq(vips_crop(x, &left, 0, 0, 240, 512, NULL), 0);
	cr_assert_eq(vips_crop(m, &right, 240, 0, 272, 512, NULL), 0);
	cr_assert_eq(vips_join(left, right, &sym, VIPS_DIRECTION_HORIZONTAL, NULL), 0);
	cr_assert_eq(vips_flip(sym, &mirror, VIPS_DIRECTION_HORIZONTAL, NULL), 0);
	size_t len;
	void *png = fx_encode(sym, "png", &len);
	add_character("symmetric", -1, -1);
	cr_assert_eq(lk_reference_add_bytes(NULL, reg, "symmetric", png, len, NULL), LK_OK, "%s", lk_error_detail());
	lk_pdq_result own = fx_hash_bytes(png, len);
	g_free(png);
	png = fx_encode(mirror, "png", &len);
	lk_pdq_result flipped = fx_hash_bytes(png, len);
	const int apart = lk_pdq_distance(&own.hash[0], &flipped.hash[0]);
	cr_assert(apart > 31 && apart <= 55, "the construction no longer lands in the review band (%d)", apart);
	lk_check_result r;
	cr_assert_eq(lk_check_bytes(&r, reg, png, len, NULL), LK_OK);
	cr_expect_eq(r.verdict, LK_VERDICT_BLOCK, "%s", r.reason);
	cr_expect_eq(r.matches[0].distance, 0);
	cr_expect_eq(r.matches[0].transform, LK_DIHEDRAL_FLIPY);
	cr_expect_eq(r.matches[0].verdict, LK_VERDICT_BLOCK);
	g_free(png);
	g_object_unref(mirror);
	g_object_unref(sym);
	g_object_unref(right);
	g_object_unref(left);
	g_object_unref(m);
	g_object_unref(x);
}

/* A batch gives each file the verdict a single check gives it, and names its failures. */
Test(check, batch_of_files_on_threads)
{
	static const char *const names[] = { "char1_jpeg50.jpg", "char2_flipy.png", "char3_rot90.png",
					     "char7_1024x640.png", "bench_b0001_1024.jpg", "char1_blur.png" };
	enum { N = 7 };
	char paths_buf[N][1024];
	const char *paths[N];
	for (int i = 0; i < N - 1; i++) {
		snprintf(paths_buf[i], sizeof paths_buf[i], "%s", fx_pdq_image(names[i]));
		paths[i] = paths_buf[i];
	}
	paths[N - 1] = "/nonexistent/image.png";
	lk_check_result results[N];
	int codes[N];
	cr_expect_eq(lk_check_files(results, codes, reg, paths, N, NULL, 3), LK_EIO, "the missing file's code");
	cr_expect(strstr(lk_error_detail(), "/nonexistent/image.png"), "%s", lk_error_detail());
	cr_expect_eq(codes[N - 1], LK_EIO);
	for (int i = 0; i < N - 1; i++) {
		cr_assert_eq(codes[i], LK_OK, "%s", paths[i]);
		const lk_check_result alone = check(names[i]);
		cr_expect_eq(results[i].verdict, alone.verdict, "%s", names[i]);
		cr_expect_str_eq(results[i].reason, alone.reason);
		cr_expect_eq(results[i].n_matches, alone.n_matches);
	}
	cr_expect_eq(results[0].verdict, LK_VERDICT_BLOCK);
	cr_expect_eq(results[3].verdict, LK_VERDICT_ALLOW);
	cr_expect_eq(lk_check_files(results, codes, reg, paths, N - 1, NULL, 0), LK_OK, "all readable, one per core");
	cr_expect_eq(lk_check_files(results, codes, reg, paths, 0, NULL, 2), LK_OK, "an empty batch");
	cr_expect_eq(lk_check_files(results, codes, reg, NULL, 2, NULL, 2), LK_EINVAL);
	cr_expect_eq(lk_check_files(results, codes, reg, paths, 2, NULL, -1), LK_EINVAL);
}
