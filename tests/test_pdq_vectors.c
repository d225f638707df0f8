/* PDQ against the reference implementation's own outputs (../shared/vectors/pdq). */
#include "fixtures.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct vector {
	char file[64];
	int width, height, quality, stable;
	lk_pdq_hash hash[LK_DIHEDRAL_COUNT];
};

/* CSV columns: file,width,height,mode,sha256,pdq,quality,stable,rot90,...,flipminus1,note.
 * The reference orders the seven variants exactly as lk_dihedral does. */
static int load_vectors(struct vector *out, int max)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/vectors/pdq/pdq_vectors.csv", LK_SHARED_DIR);
	FILE *f = fopen(path, "r");
	cr_assert(f, "missing %s", path);
	char line[4096];
	cr_assert(fgets(line, sizeof line, f));
	int n = 0;
	while (n < max && fgets(line, sizeof line, f)) {
		char *fields[17] = { 0 }, *p = line;
		int k = 0;
		for (char *s; k < 17 && (s = strsep(&p, ",\n"));)
			fields[k++] = s;
		cr_assert_geq(k, 15, "short CSV row");
		struct vector *v = &out[n++];
		snprintf(v->file, sizeof v->file, "%s", fields[0]);
		v->width = atoi(fields[1]);
		v->height = atoi(fields[2]);
		v->quality = atoi(fields[6]);
		v->stable = !strcmp(fields[7], "yes");
		cr_assert_eq(lk_pdq_from_hex(&v->hash[0], fields[5]), LK_OK);
		for (int d = 1; d < LK_DIHEDRAL_COUNT; d++)
			cr_assert_eq(lk_pdq_from_hex(&v->hash[d], fields[7 + d]), LK_OK);
	}
	fclose(f);
	return n;
}

static int is_png(const struct vector *v)
{
	return strstr(v->file, ".png") != NULL;
}

static void hash_vector(const struct vector *v, lk_pdq_result *r)
{
	int rc = lk_pdq_hash_file(r, fx_pdq_image(v->file), NULL);
	cr_assert_eq(rc, LK_OK, "%s: %s", v->file, lk_error_detail());
	cr_assert_eq(r->source.width, v->width, "%s width", v->file);
	cr_assert_eq(r->source.height, v->height, "%s height", v->file);
}

/* Every size: larger images go through the reference's own nearest-neighbour reduction. */
Test(pdq_vectors, stable_png_bit_exact_with_all_variants)
{
	struct vector v[128];
	int n = load_vectors(v, 128), checked = 0, large = 0;
	for (int i = 0; i < n; i++) {
		if (!v[i].stable || !is_png(&v[i]))
			continue;
		large += v[i].width > 512 || v[i].height > 512;
		lk_pdq_result r;
		hash_vector(&v[i], &r);
		cr_expect_eq(r.quality, v[i].quality, "%s quality %d, reference %d", v[i].file, r.quality,
			     v[i].quality);
		for (int d = 0; d < LK_DIHEDRAL_COUNT; d++) {
			char got[65], want[65];
			lk_pdq_to_hex(got, &r.hash[d]);
			lk_pdq_to_hex(want, &v[i].hash[d]);
			cr_expect_str_eq(got, want, "%s variant %d", v[i].file, d);
		}
		checked++;
	}
	cr_assert_geq(checked, 34, "only %d vectors checked", checked);
	cr_assert_geq(large, 4, "only %d large PNGs", large);
}

/* JPEG results depend on the decoder; Debian's libjpeg-turbo is the one the vectors used. */
Test(pdq_vectors, small_jpeg_bit_exact_with_debian_libjpeg_turbo)
{
	struct vector v[128];
	int n = load_vectors(v, 128), checked = 0;
	for (int i = 0; i < n; i++) {
		if (is_png(&v[i]) || v[i].width > 512 || v[i].height > 512)
			continue;
		lk_pdq_result r;
		hash_vector(&v[i], &r);
		cr_expect_eq(r.quality, v[i].quality, "%s quality", v[i].file);
		for (int d = 0; d < LK_DIHEDRAL_COUNT; d++)
			cr_expect_eq(lk_pdq_distance(&r.hash[d], &v[i].hash[d]), 0, "%s variant %d", v[i].file, d);
		checked++;
	}
	cr_assert_geq(checked, 3);
}

/* Large JPEGs are decoded at reduced size (DCT scaling) before the reference's reduction to
 * 512x512; the vectors' notes bound such pipelines at 10 bits. */
Test(pdq_vectors, large_jpeg_within_10_bits)
{
	struct vector v[128];
	int n = load_vectors(v, 128), checked = 0;
	for (int i = 0; i < n; i++) {
		if (is_png(&v[i]) || (v[i].width <= 512 && v[i].height <= 512))
			continue;
		lk_pdq_result r;
		hash_vector(&v[i], &r);
		cr_expect_eq(r.quality, v[i].quality, "%s quality", v[i].file);
		for (int d = 0; d < LK_DIHEDRAL_COUNT; d++) {
			int dist = lk_pdq_distance(&r.hash[d], &v[i].hash[d]);
			cr_expect_leq(dist, 10, "%s variant %d is %d bits away", v[i].file, d, dist);
		}
		checked++;
	}
	cr_assert_geq(checked, 3, "only %d large JPEGs", checked);
}

/* Flat and one-dimensional images: the bits are float noise, only the quality is defined. */
Test(pdq_vectors, unstable_images_quality_only)
{
	struct vector v[128];
	int n = load_vectors(v, 128), checked = 0;
	for (int i = 0; i < n; i++) {
		if (v[i].stable)
			continue;
		lk_pdq_result r;
		hash_vector(&v[i], &r);
		cr_expect_eq(r.quality, v[i].quality, "%s quality %d, reference %d", v[i].file, r.quality,
			     v[i].quality);
		cr_expect_lt(r.quality, 50, "%s must not be usable for matching", v[i].file);
		checked++;
	}
	cr_assert_geq(checked, 3);
}

Test(pdq_vectors, under_5x5_is_all_zero_quality_0)
{
	lk_pdq_result r;
	cr_assert_eq(lk_pdq_hash_file(&r, fx_pdq_image("tiny_4x4.png"), NULL), LK_OK);
	lk_pdq_hash zero = { { 0 } };
	for (int d = 0; d < LK_DIHEDRAL_COUNT; d++)
		cr_expect_eq(lk_pdq_distance(&r.hash[d], &zero), 0);
	cr_expect_eq(r.quality, 0);
}

/* The edit distances the vectors' README reports: copies that PDQ must keep within 31 bits
 * (mirrors and rotations through the dihedral variants), and unrelated characters far apart. */
Test(pdq_vectors, edits_match_and_unrelated_do_not)
{
	static const char *const matching[] = { "jpeg50.jpg", "blur.png", "resize256.png", "bright.png",
						"flipy.png", "rot90.png" };
	for (int c = 1; c <= 3; c++) {
		char name[64];
		snprintf(name, sizeof name, "char%d_orig.png", c);
		lk_pdq_result orig;
		cr_assert_eq(lk_pdq_hash_file(&orig, fx_pdq_image(name), NULL), LK_OK);
		for (size_t e = 0; e < sizeof matching / sizeof matching[0]; e++) {
			snprintf(name, sizeof name, "char%d_%s", c, matching[e]);
			lk_pdq_result edit;
			cr_assert_eq(lk_pdq_hash_file(&edit, fx_pdq_image(name), NULL), LK_OK);
			int d = fx_distance(&edit, &orig);
			cr_expect_leq(d, 31, "%s is %d bits from its original", name, d);
		}
		for (int o = 1; o <= 3; o++) {
			if (o == c)
				continue;
			snprintf(name, sizeof name, "char%d_orig.png", o);
			lk_pdq_result other;
			cr_assert_eq(lk_pdq_hash_file(&other, fx_pdq_image(name), NULL), LK_OK);
			int d = fx_distance(&other, &orig);
			cr_expect_gt(d, 31 + 40, "char%d vs char%d only %d bits apart", c, o, d);
		}
	}
}
