/* Raw pixel views: the same pixels hash the same as their PNG, whatever the layout. */
#include "fixtures.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

static lk_pdq_result view_hash(const void *data, int w, int h, ptrdiff_t stride, lk_pixel_format f)
{
	lk_pixel_view v = { data, w, h, stride, f };
	lk_pdq_result r;
	int rc = lk_pdq_hash_pixels(&r, &v, NULL);
	cr_assert_eq(rc, LK_OK, "%s: %s", lk_error_name(rc), lk_error_detail());
	return r;
}

Test(ingest_pixels, rgb8_equals_png)
{
	VipsImage *img = fx_load(fx_pdq_image("char1_orig.png"));
	size_t size;
	unsigned char *px = vips_image_write_to_memory(img, &size);
	lk_pdq_result a = view_hash(px, img->Xsize, img->Ysize, img->Xsize * 3, LK_PIXEL_RGB8);
	lk_pdq_result b = fx_hash_encoded(img, "png");
	fx_expect_same(&a, &b, "RGB8 view");
	cr_expect_str_eq(a.source.format, "raw-rgb8");
	g_free(px);
	g_object_unref(img);
}

/* A crop of a larger buffer (row stride wider than the crop) and a flipped view (negative
 * stride), without copying on the caller's side. */
Test(ingest_pixels, strided_crop_and_negative_stride)
{
	VipsImage *img = fx_load(fx_pdq_image("char2_orig.png")), *crop, *flipped;
	size_t size;
	unsigned char *px = vips_image_write_to_memory(img, &size);
	const ptrdiff_t row = img->Xsize * 3;

	cr_assert_eq(vips_crop(img, &crop, 50, 60, 300, 200, NULL), 0);
	lk_pdq_result a = view_hash(px + 60 * row + 50 * 3, 300, 200, row, LK_PIXEL_RGB8);
	lk_pdq_result b = fx_hash_encoded(crop, "png");
	fx_expect_same(&a, &b, "strided crop");

	cr_assert_eq(vips_flip(img, &flipped, VIPS_DIRECTION_VERTICAL, NULL), 0);
	lk_pdq_result c = view_hash(px + (img->Ysize - 1) * row, img->Xsize, img->Ysize, -row, LK_PIXEL_RGB8);
	lk_pdq_result d = fx_hash_encoded(flipped, "png");
	fx_expect_same(&c, &d, "negative stride");
	g_object_unref(flipped);
	g_object_unref(crop);
	g_free(px);
	g_object_unref(img);
}

Test(ingest_pixels, rgba8_equals_rgba_png)
{
	VipsImage *img = fx_load(fx_pdq_image("char3_orig.png")), *ramp, *x, *alpha, *rgba;
	cr_assert_eq(vips_xyz(&ramp, img->Xsize, img->Ysize, NULL), 0);
	cr_assert_eq(vips_extract_band(ramp, &x, 0, NULL), 0);
	cr_assert_eq(vips_linear1(x, &alpha, 255.0 / img->Xsize, 0.0, "uchar", TRUE, NULL), 0);
	cr_assert_eq(vips_bandjoin2(img, alpha, &rgba, NULL), 0);
	size_t size;
	unsigned char *px = vips_image_write_to_memory(rgba, &size);
	cr_assert_eq(size, (size_t)img->Xsize * img->Ysize * 4);
	lk_pdq_result a = view_hash(px, img->Xsize, img->Ysize, img->Xsize * 4, LK_PIXEL_RGBA8);
	lk_pdq_result b = fx_hash_encoded(rgba, "png");
	fx_expect_same(&a, &b, "RGBA8 view with graded alpha");
	g_free(px);
	g_object_unref(rgba);
	g_object_unref(alpha);
	g_object_unref(x);
	g_object_unref(ramp);
	g_object_unref(img);
}

/* float32 0..1, as diffusers hands images over: quantised as round(x * 255). */
Test(ingest_pixels, rgbf32_quantises_like_numpy)
{
	VipsImage *img = fx_load(fx_pdq_image("char1_orig.png"));
	size_t size;
	unsigned char *px = vips_image_write_to_memory(img, &size);
	float *f = malloc(size * sizeof(float));
	for (size_t i = 0; i < size; i++)
		f[i] = px[i] / 255.0f + ((i % 3) ? 0.0015f : -0.0015f); /* < half a step off */
	f[0] = -0.5f;     /* clamped to 0 */
	f[1] = 7.0f;      /* clamped to 1 */
	px[0] = 0;
	px[1] = 255;
	lk_pdq_result a = view_hash(f, img->Xsize, img->Ysize, img->Xsize * 3 * (ptrdiff_t)sizeof(float),
				    LK_PIXEL_RGBF32);
	lk_pdq_result b = view_hash(px, img->Xsize, img->Ysize, img->Xsize * 3, LK_PIXEL_RGB8);
	fx_expect_same(&a, &b, "RGBF32 vs RGB8");
	free(f);
	g_free(px);
	g_object_unref(img);
}

/* Above the working size the view is reduced exactly as a PNG of it would be. */
Test(ingest_pixels, large_view_equals_large_png)
{
	VipsImage *img = fx_load(fx_pdq_image("char7_1024x640.png"));
	size_t size;
	unsigned char *px = vips_image_write_to_memory(img, &size);
	cr_assert_eq(img->Bands, 3);
	lk_pdq_result a = view_hash(px, img->Xsize, img->Ysize, img->Xsize * 3, LK_PIXEL_RGB8);
	lk_pdq_result b = fx_hash_encoded(img, "png");
	fx_expect_same(&a, &b, "1024x640 view");
	g_free(px);
	g_object_unref(img);
}

Test(ingest_pixels, invalid_views)
{
	unsigned char px[16 * 16 * 3] = { 0 };
	lk_pdq_result r;
	lk_pixel_view v = { px, 16, 16, 48, LK_PIXEL_RGB8 };
	cr_expect_eq(lk_pdq_hash_pixels(&r, &v, NULL), LK_OK);
	lk_pixel_view bad = v;
	bad.width = 0;
	cr_expect_eq(lk_pdq_hash_pixels(&r, &bad, NULL), LK_EINVAL);
	bad = v;
	bad.stride = 47;
	cr_expect_eq(lk_pdq_hash_pixels(&r, &bad, NULL), LK_EINVAL);
	cr_expect(strstr(lk_error_detail(), "stride"));
	bad = v;
	bad.format = (lk_pixel_format)99;
	cr_expect_eq(lk_pdq_hash_pixels(&r, &bad, NULL), LK_EINVAL);
	bad = v;
	bad.data = NULL;
	cr_expect_eq(lk_pdq_hash_pixels(&r, &bad, NULL), LK_EINVAL);
	lk_ingest_options opts = LK_INGEST_OPTIONS_INIT;
	opts.max_side = 15;
	cr_expect_eq(lk_pdq_hash_pixels(&r, &v, &opts), LK_EDIMENSIONS);
	opts = (lk_ingest_options)LK_INGEST_OPTIONS_INIT;
	opts.max_pixels = 255;
	cr_expect_eq(lk_pdq_hash_pixels(&r, &v, &opts), LK_EPIXELS);
}
