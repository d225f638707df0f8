/* The benchmark's own parts: its edits do what their names say, the same seed makes the same
 * image, and its measures (threshold at a false-positive rate, micro-average precision) give
 * the values worked out by hand; its scenes put the character where they say. A wrong benchmark
 * would publish wrong numbers. */
#include "edits.h"
#include "scene.h"
#include "suite_metrics.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static void start(void)
{
	cr_assert(VIPS_INIT("test_bench_suite") == 0);
	cr_assert(bench_edits_init() == 0, "%s", vips_error_buffer());
}

/* A picture with structure in both directions and in colour: gradients and a dark square. */
static VipsImage *picture(int w, int h, int bands)
{
	VipsImage *x, *y, *xy, *sum, *img;
	cr_assert(vips_xyz(&xy, w, h, NULL) == 0);
	cr_assert(vips_extract_band(xy, &x, 0, NULL) == 0);
	cr_assert(vips_extract_band(xy, &y, 1, NULL) == 0);
	VipsImage *parts[4] = { x, y, NULL, NULL };
	cr_assert(vips_add(x, y, &sum, NULL) == 0);
	parts[2] = sum;
	parts[3] = x;
	cr_assert(vips_bandjoin(parts, &img, bands, NULL) == 0);
	VipsImage *scaled, *u;
	cr_assert(vips_linear1(img, &scaled, 255.0 / (w + h), 0, NULL) == 0);
	cr_assert(vips_cast_uchar(scaled, &u, NULL) == 0);
	/* Tagged as colour, as a decoded image is. */
	VipsImage *tagged;
	cr_assert(vips_copy(u, &tagged, "interpretation", bands >= 3 ? VIPS_INTERPRETATION_sRGB : VIPS_INTERPRETATION_B_W,
			    NULL) == 0);
	VipsImage *mem = vips_image_copy_memory(tagged);
	g_object_unref(tagged);
	g_object_unref(xy), g_object_unref(x), g_object_unref(y), g_object_unref(sum), g_object_unref(img);
	g_object_unref(scaled), g_object_unref(u);
	return mem;
}

static VipsImage *sticker(void *ctx, unsigned pick)
{
	(void)ctx, (void)pick;
	return picture(200, 100, 4);
}

static VipsImage *photo(void *ctx, unsigned pick)
{
	(void)ctx, (void)pick;
	return picture(768, 768, 3);
}

static const bench_edit_sources sources = { sticker, photo, NULL };

static VipsImage *edited(bench_edit e, unsigned seed)
{
	return bench_edit_apply(picture(512, 512, 3), e, &seed, &sources);
}

static int same_pixels(VipsImage *a, VipsImage *b)
{
	if (a->Xsize != b->Xsize || a->Ysize != b->Ysize || a->Bands != b->Bands)
		return 0;
	size_t na, nb;
	void *pa = vips_image_write_to_memory(a, &na), *pb = vips_image_write_to_memory(b, &nb);
	const int same = na == nb && !memcmp(pa, pb, na);
	g_free(pa), g_free(pb);
	return same;
}

Test(bench_edits, every_edit_is_repeatable_from_its_seed_and_gives_uchar, .init = start)
{
	for (int e = 0; e < EDIT_COUNT; e++) {
		VipsImage *a = edited((bench_edit)e, 12345), *b = edited((bench_edit)e, 12345);
		cr_assert(a && b, "%s failed: %s", bench_edit_name((bench_edit)e), vips_error_buffer());
		cr_expect(a->BandFmt == VIPS_FORMAT_UCHAR && (a->Bands == 1 || a->Bands == 3), "%s: format %d, %d bands",
			  bench_edit_name((bench_edit)e), a->BandFmt, a->Bands);
		cr_expect(same_pixels(a, b), "%s differs between two runs with one seed", bench_edit_name((bench_edit)e));
		g_object_unref(a), g_object_unref(b);
	}
}

Test(bench_edits, a_seed_changes_what_is_drawn, .init = start)
{
	const bench_edit drawn[] = { EDIT_RESIZE, EDIT_BLUR, EDIT_BRIGHTNESS, EDIT_HUE, EDIT_TILT, EDIT_CROP,
				     EDIT_BORDER, EDIT_TEXT, EDIT_STICKER, EDIT_PASTED };
	for (size_t i = 0; i < sizeof drawn / sizeof drawn[0]; i++) {
		VipsImage *a = edited(drawn[i], 1), *b = edited(drawn[i], 987654321);
		cr_assert(a && b, "%s failed: %s", bench_edit_name(drawn[i]), vips_error_buffer());
		cr_expect(!same_pixels(a, b), "%s ignores its seed", bench_edit_name(drawn[i]));
		g_object_unref(a), g_object_unref(b);
	}
}

Test(bench_edits, geometry_is_what_the_name_says, .init = start)
{
	for (unsigned seed = 1; seed < 40; seed += 7) {
		VipsImage *r = edited(EDIT_RESIZE, seed);
		cr_expect(r->Xsize >= 0.2 * 512 - 1 && r->Xsize <= 0.6 * 512 + 1, "resize width %d", r->Xsize);
		VipsImage *c = edited(EDIT_CROP, seed);
		cr_expect(c->Xsize >= 0.4 * 512 - 1 && c->Xsize <= 0.9 * 512 + 1 && c->Ysize <= 0.9 * 512 + 1,
			  "crop %dx%d", c->Xsize, c->Ysize);
		VipsImage *b = edited(EDIT_BORDER, seed);
		cr_expect(b->Xsize >= 1.1 * 512 - 1 && b->Xsize <= 1.5 * 512 + 1 && b->Xsize == b->Ysize, "border %dx%d",
			  b->Xsize, b->Ysize);
		VipsImage *t = edited(EDIT_TILT, seed);
		cr_expect(t->Xsize > 512 * 1.05 && t->Xsize < 512 * 1.3, "tilt %d wide", t->Xsize);
		VipsImage *p = edited(EDIT_PASTED, seed);
		cr_expect(p->Xsize == 768 && p->Ysize == 768 && p->Bands == 3, "pasted into the 768 photo: %dx%d", p->Xsize,
			  p->Ysize);
		g_object_unref(r), g_object_unref(c), g_object_unref(b), g_object_unref(t), g_object_unref(p);
	}
	VipsImage *g = edited(EDIT_GRAY, 3);
	cr_expect(g->Bands == 1);
	g_object_unref(g);
}

Test(bench_edits, turns_and_mirrors_move_the_pixels_exactly, .init = start)
{
	VipsImage *src = picture(512, 512, 3), *m = edited(EDIT_MIRROR, 5), *r = edited(EDIT_ROT180, 5);
	size_t n;
	unsigned char *a = vips_image_write_to_memory(src, &n), *pm = vips_image_write_to_memory(m, &n),
		      *pr = vips_image_write_to_memory(r, &n);
	/* Pixel (x, y) of the source is (511 - x, y) mirrored and (511 - x, 511 - y) turned. */
	for (int y = 0; y < 512; y += 37)
		for (int x = 0; x < 512; x += 41)
			for (int c = 0; c < 3; c++) {
				const unsigned char v = a[(y * 512 + x) * 3 + c];
				cr_assert_eq(pm[(y * 512 + 511 - x) * 3 + c], v);
				cr_assert_eq(pr[((511 - y) * 512 + 511 - x) * 3 + c], v);
			}
	g_free(a), g_free(pm), g_free(pr);
	g_object_unref(src), g_object_unref(m), g_object_unref(r);
}

Test(bench_edits, failures_are_reported_not_hidden, .init = start)
{
	unsigned seed = 3;
	cr_expect_null(bench_edit_apply(picture(64, 64, 3), EDIT_COUNT, &seed, &sources));
	cr_expect_null(bench_edit_apply(picture(64, 64, 3), EDIT_STICKER, &seed, NULL), "a sticker from nowhere");
	cr_expect_null(bench_edit_apply(NULL, EDIT_MIRROR, &seed, &sources));
}

Test(bench_metrics, threshold_lets_through_at_most_the_rate)
{
	double neg[1000];
	for (int i = 0; i < 1000; i++)
		neg[i] = (double)((i * 7919) % 1000) / 1000; /* 0.000 .. 0.999, shuffled */
	const double t = metrics_threshold(neg, 1000, 0.01);
	int passing = 0;
	for (int i = 0; i < 1000; i++)
		passing += neg[i] >= t;
	cr_expect_eq(passing, 10, "1%% of 1000 negatives pass, not %d", passing);
	cr_expect(t > 0.989 && t <= 0.990 + 1e-12, "just above the 11th best: %.6f", t);
	/* Ties: a score shared by more negatives than allowed is not let through at all. */
	double tied[100];
	for (int i = 0; i < 100; i++)
		tied[i] = i < 5 ? 0.9 : 0.1;
	const double u = metrics_threshold(tied, 100, 0.01);
	cr_expect(u > 0.9, "five tied negatives at 0.9 with one allowed: threshold %.3f", u);
}

Test(bench_metrics, micro_ap_is_the_area_under_the_ranked_curve)
{
	/* Ranked: right (1/1), wrong, right (2/3); 3 queries have a reference, so one is never found:
	 * AP = (1 + 2/3) / 3. */
	metrics_pred p[3] = { { 0.7, 1 }, { 0.9, 1 }, { 0.8, 0 } };
	metrics_point curve[10];
	int n_curve = 0;
	const double ap = metrics_micro_ap(p, 3, 3, curve, &n_curve, 10);
	cr_expect(fabs(ap - (1 + 2.0 / 3) / 3) < 1e-12, "AP %.6f", ap);
	cr_expect_eq(n_curve, 2);
	cr_expect(fabs(curve[1].recall - 2.0 / 3) < 1e-12 && fabs(curve[1].precision - 2.0 / 3) < 1e-12);
	/* A tie between a right and a wrong answer is not credited to the method. */
	metrics_pred q[2] = { { 0.5, 1 }, { 0.5, 0 } };
	cr_expect(fabs(metrics_micro_ap(q, 2, 1, NULL, NULL, 0) - 0.5) < 1e-12);
	/* Nothing to find: 0, not a division by zero. */
	cr_expect_eq(metrics_micro_ap(q, 0, 0, NULL, NULL, 0), 0);
}

/* 400x400, transparent but for an opaque red block of 200x100 at (100, 150). */
static VipsImage *red_block(void)
{
	VipsImage *black, *u;
	cr_assert(vips_black(&black, 400, 400, "bands", 4, NULL) == 0);
	cr_assert(vips_cast_uchar(black, &u, NULL) == 0);
	g_object_unref(black);
	VipsImage *img = vips_image_copy_memory(u);
	g_object_unref(u);
	cr_assert(img);
	img->Type = VIPS_INTERPRETATION_sRGB;
	for (int y = 150; y < 250; y++)
		for (int x = 100; x < 300; x++) {
			VipsPel *p = VIPS_IMAGE_ADDR(img, x, y);
			p[0] = 230, p[1] = 20, p[2] = 20, p[3] = 255;
		}
	return img;
}

Test(bench_scene, the_character_is_where_and_as_large_as_the_scene_says, .init = start)
{
	VipsImage *art = red_block();
	for (unsigned seed = 1; seed <= 12; seed++) {
		unsigned s = seed * 7919u;
		scene_info info;
		VipsImage *scene = scene_compose(art, 0.15, 0.70, &s, &sources, &info);
		cr_assert(scene, "seed %u: %s", seed, vips_error_buffer());
		cr_assert_eq(scene->Xsize, SCENE_SIDE);
		cr_assert_eq(scene->Ysize, SCENE_SIDE);
		cr_assert_eq(scene->Bands, 3);
		cr_assert_eq(scene->BandFmt, VIPS_FORMAT_UCHAR);
		cr_expect(info.area >= 0.15 && info.area <= 0.70, "area %.3f", info.area);
		cr_expect(abs(info.side - (int)lround(sqrt(info.area) * SCENE_SIDE)) <= 1);
		/* The block is twice as wide as high: side x side/2 from (x, y), inside the picture. */
		cr_expect(info.x >= 0 && info.y >= 0 && info.x + info.side <= SCENE_SIDE &&
			  info.y + info.side / 2 <= SCENE_SIDE, "box %d,%d side %d", info.x, info.y, info.side);
		const VipsPel *c = VIPS_IMAGE_ADDR(scene, info.x + info.side / 2, info.y + info.side / 4);
		cr_expect(c[0] > 150 && c[1] < 110 && c[2] < 110, "seed %u: the middle of the block is %d,%d,%d, not red",
			  seed, c[0], c[1], c[2]);
		cr_expect(info.codec && info.style && info.quality >= 60 && info.quality <= 90);
		g_object_unref(scene);
	}
	g_object_unref(art);
}

Test(bench_scene, a_seed_makes_the_same_scene_and_another_seed_another, .init = start)
{
	VipsImage *art = red_block();
	unsigned s1 = 99, s2 = 99, s3 = 100;
	scene_info i1, i2, i3;
	VipsImage *a = scene_compose(art, 0.15, 0.70, &s1, &sources, &i1);
	VipsImage *b = scene_compose(art, 0.15, 0.70, &s2, &sources, &i2);
	VipsImage *c = scene_compose(art, 0.15, 0.70, &s3, &sources, &i3);
	cr_assert(a && b && c);
	cr_expect(same_pixels(a, b), "the same seed painted another scene");
	cr_expect(!same_pixels(a, c), "another seed painted the same scene");
	/* An empty scene: a background and nothing on it. */
	unsigned s4 = 5;
	scene_info i4;
	VipsImage *empty = scene_compose(NULL, 0.15, 0.70, &s4, &sources, &i4);
	cr_assert(empty);
	cr_expect_eq(i4.area, 0);
	cr_expect_eq(empty->Xsize, SCENE_SIDE);
	g_object_unref(a), g_object_unref(b), g_object_unref(c), g_object_unref(empty), g_object_unref(art);
}

Test(bench_scene, every_background_kind_is_drawn, .init = start)
{
	int seen[SCENE_BACKGROUNDS] = { 0 };
	for (unsigned seed = 1; seed <= 30; seed++) {
		unsigned s = seed * 2654435761u; /* spread: xorshift's first draw from a small seed is a multiple of 3 */
		scene_info info;
		VipsImage *scene = scene_compose(NULL, 0.15, 0.70, &s, &sources, &info);
		cr_assert(scene, "%s", vips_error_buffer());
		seen[info.background]++;
		g_object_unref(scene);
	}
	for (int b = 0; b < SCENE_BACKGROUNDS; b++)
		cr_expect(seen[b] > 0, "no %s background in 30 scenes", scene_background_name(b));
}
