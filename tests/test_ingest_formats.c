/* Every input format and pixel layout a generation server or gallery holds reaches PDQ as the
 * same picture: lossless re-encodings hash identically, lossy ones closely. */
#include "fixtures.h"
#include "core/internal.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

static int has_saver(const char *nick)
{
	cr_assert_eq(lk_init(), LK_OK);
	return vips_type_find("VipsOperation", nick) != 0;
}

Test(ingest_formats, lossless_encodings_hash_identically)
{
	VipsImage *orig = fx_load(fx_pdq_image("char1_orig.png"));
	lk_pdq_result ref = fx_hash_encoded(orig, "png");
	lk_pdq_result tif = fx_hash_encoded(orig, "tif");
	fx_expect_same(&tif, &ref, "TIFF");
	cr_expect_str_eq(tif.source.format, "tiff");
	if (has_saver("webpsave_buffer")) {
		lk_pdq_result webp = fx_hash_encoded(orig, "webp[lossless]");
		fx_expect_same(&webp, &ref, "lossless WebP");
		cr_expect_str_eq(webp.source.format, "webp");
	}
	g_object_unref(orig);
}

Test(ingest_formats, sixteen_bit_png)
{
	VipsImage *orig = fx_load(fx_pdq_image("char2_orig.png")), *wide, *tagged;
	lk_pdq_result ref = fx_hash_encoded(orig, "png");
	/* v * 257 spreads 8 bits over 16 exactly; libvips reads it back to the same bytes. */
	cr_assert_eq(vips_linear1(orig, &wide, 257.0, 0.0, "uchar", FALSE, NULL), 0);
	VipsImage *u16;
	cr_assert_eq(vips_cast_ushort(wide, &u16, NULL), 0);
	cr_assert_eq(vips_copy(u16, &tagged, "interpretation", VIPS_INTERPRETATION_RGB16, NULL), 0);
	lk_pdq_result r = fx_hash_encoded(tagged, "png[bitdepth=16]");
	fx_expect_same(&r, &ref, "16-bit PNG");
	g_object_unref(tagged);
	g_object_unref(u16);
	g_object_unref(wide);
	g_object_unref(orig);
}

Test(ingest_formats, grey_png_equals_grey_pixels)
{
	VipsImage *orig = fx_load(fx_pdq_image("char3_orig.png")), *grey;
	cr_assert_eq(vips_colourspace(orig, &grey, VIPS_INTERPRETATION_B_W, NULL), 0);
	lk_pdq_result from_png = fx_hash_encoded(grey, "png");
	size_t size;
	void *pixels = vips_image_write_to_memory(grey, &size);
	lk_pixel_view view = { pixels, grey->Xsize, grey->Ysize, grey->Xsize, LK_PIXEL_GRAY8 };
	lk_pdq_result from_view;
	cr_assert_eq(lk_pdq_hash_pixels(&from_view, &view, NULL), LK_OK);
	fx_expect_same(&from_png, &from_view, "grey PNG vs GRAY8 view");
	g_free(pixels);
	g_object_unref(grey);
	g_object_unref(orig);
}

Test(ingest_formats, palette_png_is_close)
{
	VipsImage *orig = fx_load(fx_pdq_image("char1_orig.png"));
	lk_pdq_result ref = fx_hash_encoded(orig, "png");
	lk_pdq_result pal = fx_hash_encoded(orig, "png[palette]");
	int d = lk_pdq_distance(&pal.hash[0], &ref.hash[0]);
	cr_expect_leq(d, 16, "palette PNG %d bits away", d);
	g_object_unref(orig);
}

Test(ingest_formats, alpha_is_composited_on_the_background)
{
	VipsImage *orig = fx_load(fx_pdq_image("char2_orig.png")), *alpha, *rgba, *flat;
	lk_pdq_result ref = fx_hash_encoded(orig, "png");

	/* Fully opaque alpha changes nothing. */
	cr_assert_eq(vips_bandjoin_const1(orig, &rgba, 255.0, NULL), 0);
	lk_pdq_result opaque = fx_hash_encoded(rgba, "png");
	fx_expect_same(&opaque, &ref, "opaque RGBA");
	g_object_unref(rgba);

	/* Left half transparent: the same as the picture flattened on white by libvips. */
	VipsImage *ramp;
	cr_assert_eq(vips_xyz(&ramp, orig->Xsize, orig->Ysize, NULL), 0);
	VipsImage *x, *mask;
	cr_assert_eq(vips_extract_band(ramp, &x, 0, NULL), 0);
	cr_assert_eq(vips_more_const1(x, &mask, orig->Xsize / 2.0, NULL), 0);
	cr_assert_eq(vips_bandjoin2(orig, mask, &alpha, NULL), 0);
	lk_pdq_result half = fx_hash_encoded(alpha, "png");
	double white[3] = { 255, 255, 255 };
	VipsArrayDouble *bg = vips_array_double_new(white, 3);
	cr_assert_eq(vips_flatten(alpha, &flat, "background", bg, NULL), 0);
	lk_pdq_result expected = fx_hash_encoded(flat, "png");
	fx_expect_same(&half, &expected, "half-transparent PNG vs flattened on white");
	cr_expect_gt(lk_pdq_distance(&half.hash[0], &ref.hash[0]), 20, "transparency ignored?");

	/* The background option is honoured: on black, the same as libvips' flatten on black. */
	size_t len;
	void *png = fx_encode(alpha, "png", &len);
	lk_ingest_options opts = LK_INGEST_OPTIONS_INIT;
	memset(opts.background, 0, 3);
	lk_pdq_result on_black;
	cr_assert_eq(lk_pdq_hash_bytes(&on_black, png, len, &opts), LK_OK);
	VipsImage *flat_black;
	cr_assert_eq(vips_flatten(alpha, &flat_black, NULL), 0); /* default background is black */
	lk_pdq_result expected_black = fx_hash_encoded(flat_black, "png");
	fx_expect_same(&on_black, &expected_black, "half-transparent PNG on black");
	g_object_unref(flat_black);
	g_free(png);
	vips_area_unref(VIPS_AREA(bg));
	g_object_unref(flat);
	g_object_unref(alpha);
	g_object_unref(mask);
	g_object_unref(x);
	g_object_unref(ramp);
	g_object_unref(orig);
}

/* Orientation 6 means "turn 90 degrees clockwise to display": a sideways-stored picture tagged
 * so must hash as the upright one. TIFF keeps it lossless. */
Test(ingest_formats, exif_orientation_is_applied)
{
	VipsImage *orig = fx_load(fx_pdq_image("char1_orig.png")), *stored, *tagged;
	cr_assert_eq(vips_rot(orig, &stored, VIPS_ANGLE_D270, NULL), 0);
	cr_assert_eq(vips_copy(stored, &tagged, NULL), 0);
	vips_image_set_int(tagged, VIPS_META_ORIENTATION, 6);
	lk_pdq_result upright = fx_hash_encoded(orig, "png");
	lk_pdq_result r = fx_hash_encoded(tagged, "tif");
	fx_expect_same(&r, &upright, "orientation 6");
	g_object_unref(tagged);
	g_object_unref(stored);
	g_object_unref(orig);
}

Test(ingest_formats, cmyk_jpeg_is_close_to_rgb)
{
	VipsImage *orig = fx_load(fx_pdq_image("char2_orig.png")), *cmyk;
	lk_pdq_result ref = fx_hash_encoded(orig, "png");
	cr_assert_eq(vips_colourspace(orig, &cmyk, VIPS_INTERPRETATION_CMYK, NULL), 0);
	cr_assert_eq(cmyk->Bands, 4);
	lk_pdq_result r = fx_hash_encoded(cmyk, "jpg[Q=95]");
	int d = lk_pdq_distance(&r.hash[0], &ref.hash[0]);
	cr_expect_leq(d, 20, "CMYK JPEG %d bits away", d);
	cr_expect_geq(r.quality, 50);
	g_object_unref(cmyk);
	g_object_unref(orig);
}

/* Animated images: the first frame is hashed (documented in likeness.h). */
Test(ingest_formats, animated_gif_uses_first_frame)
{
	if (!has_saver("gifsave_buffer"))
		fx_skip("no GIF saver in this libvips");
	VipsImage *a = fx_load(fx_pdq_image("char1_orig.png")), *b = fx_load(fx_pdq_image("char3_orig.png"));
	VipsImage *frames[2] = { a, b }, *strip, *anim;
	cr_assert_eq(vips_arrayjoin(frames, &strip, 2, "across", 1, NULL), 0);
	cr_assert_eq(vips_copy(strip, &anim, NULL), 0);
	vips_image_set_int(anim, VIPS_META_PAGE_HEIGHT, a->Ysize);
	int delays[2] = { 100, 100 };
	vips_image_set_array_int(anim, "delay", delays, 2);
	lk_pdq_result r = fx_hash_encoded(anim, "gif");
	lk_pdq_result first = fx_hash_encoded(a, "png"), second = fx_hash_encoded(b, "png");
	int d1 = lk_pdq_distance(&r.hash[0], &first.hash[0]);
	int d2 = lk_pdq_distance(&r.hash[0], &second.hash[0]);
	cr_expect_leq(d1, 20, "first frame %d bits away", d1);
	cr_expect_gt(d2, 60, "second frame only %d bits away", d2);
	cr_expect_eq(r.source.height, a->Ysize, "height is one frame");
	g_object_unref(anim);
	g_object_unref(strip);
	g_object_unref(b);
	g_object_unref(a);
}

static const char svg_face[] =
	"<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' viewBox='0 0 100 100'>"
	"<rect width='100' height='100' fill='#fff'/>"
	"<circle cx='50' cy='50' r='40' fill='#f5c542' stroke='#333' stroke-width='3'/>"
	"<circle cx='36' cy='40' r='6' fill='#333'/><circle cx='64' cy='40' r='6' fill='#333'/>"
	"<path d='M30 62 Q50 80 70 62' stroke='#333' stroke-width='5' fill='none'/></svg>";

Test(ingest_formats, svg_at_small_and_large_sizes)
{
	char svg[1024];
	lk_pdq_result small, large;
	snprintf(svg, sizeof svg, svg_face, 256, 256);
	cr_assert_eq(lk_pdq_hash_bytes(&small, svg, strlen(svg), NULL), LK_OK, "%s", lk_error_detail());
	cr_expect_str_eq(small.source.format, "svg");
	cr_expect_eq(small.source.width, 256);
	cr_expect_geq(small.quality, 50);
	/* Rendered straight at the working size, not at 4000 pixels and then reduced. */
	snprintf(svg, sizeof svg, svg_face, 4000, 4000);
	cr_assert_eq(lk_pdq_hash_bytes(&large, svg, strlen(svg), NULL), LK_OK, "%s", lk_error_detail());
	cr_expect_eq(large.source.width, 4000);
	int d = lk_pdq_distance(&small.hash[0], &large.hash[0]);
	cr_expect_leq(d, 24, "same drawing at two sizes: %d bits", d);
}

Test(ingest_formats, heif_or_avif_when_available)
{
	if (!has_saver("heifsave_buffer"))
		fx_skip("no HEIF saver in this libvips");
	VipsImage *orig = fx_load(fx_pdq_image("char1_orig.png"));
	lk_pdq_result ref = fx_hash_encoded(orig, "png");
	size_t len = 0;
	void *buf = NULL;
	if (vips_heifsave_buffer(orig, &buf, &len, "compression", VIPS_FOREIGN_HEIF_COMPRESSION_AV1,
				 "Q", 90, NULL)) {
		vips_error_clear();
		g_object_unref(orig);
		fx_skip("this libheif cannot encode AVIF");
	}
	lk_pdq_result r = fx_hash_bytes(buf, len);
	cr_expect_str_eq(r.source.format, "heif");
	int d = lk_pdq_distance(&r.hash[0], &ref.hash[0]);
	cr_expect_leq(d, 20, "AVIF %d bits away", d);
	g_free(buf);
	g_object_unref(orig);
}

/* Decoded pixels of an encoded image, through the same path as hashing. */
static unsigned char *decode_pixels(const void *buf, size_t len, int *w, int *h)
{
	lk_image8 img;
	lk_source_info info;
	lk_ingest_options opts = LK_INGEST_OPTIONS_INIT;
	int rc = lk__decode_for_pdq(&img, &info, buf, len, NULL, &opts);
	cr_assert_eq(rc, LK_OK, "%s", lk_error_detail());
	cr_assert_eq(img.channels, 3);
	*w = img.width;
	*h = img.height;
	unsigned char *copy = malloc((size_t)img.width * img.height * 3);
	for (int y = 0; y < img.height; y++)
		memcpy(copy + (size_t)y * img.width * 3, img.data + y * img.stride, (size_t)img.width * 3);
	return copy;
}

static int max_abs_diff(const unsigned char *a, const unsigned char *b, size_t n)
{
	int m = 0;
	for (size_t i = 0; i < n; i++) {
		int d = abs((int)a[i] - (int)b[i]);
		m = d > m ? d : m;
	}
	return m;
}

/* Saturated colours are where colour spaces differ most: a P3-tagged file must come back as
 * the sRGB pixels it was made from, not as its raw P3 numbers; an sRGB-tagged one unchanged. */
Test(ingest_formats, icc_profiles_convert_to_srgb)
{
	cr_assert_eq(lk_init(), LK_OK);
	static const double colours[4][3] = { { 230, 20, 20 }, { 20, 200, 40 }, { 30, 40, 220 }, { 250, 210, 0 } };
	VipsImage *bars[4], *strip;
	for (int i = 0; i < 4; i++) {
		VipsImage *black;
		cr_assert_eq(vips_black(&black, 16, 64, "bands", 3, NULL), 0);
		cr_assert_eq(vips_linear(black, &bars[i], (double[]){ 1, 1, 1 }, (double *)colours[i], 3,
					 "uchar", TRUE, NULL), 0);
		g_object_unref(black);
	}
	cr_assert_eq(vips_arrayjoin(bars, &strip, 4, NULL), 0);
	VipsImage *orig;
	cr_assert_eq(vips_copy(strip, &orig, "interpretation", VIPS_INTERPRETATION_sRGB, NULL), 0);
	size_t n;
	unsigned char *want = vips_image_write_to_memory(orig, &n);

	VipsImage *srgb, *p3, *raw;
	cr_assert_eq(vips_icc_transform(orig, &srgb, "srgb", "input_profile", "srgb", NULL), 0);
	size_t len;
	void *png = fx_encode(srgb, "png", &len);
	int w, h;
	unsigned char *got = decode_pixels(png, len, &w, &h);
	cr_expect_eq(max_abs_diff(got, want, n), 0, "sRGB-tagged pixels changed");
	free(got);
	g_free(png);

	if (vips_icc_transform(orig, &p3, "p3", "input_profile", "srgb", NULL)) {
		vips_error_clear();
		fx_skip("this libvips has no built-in P3 profile");
	}
	cr_assert_eq(vips_copy(p3, &raw, NULL), 0);
	vips_image_remove(raw, VIPS_META_ICC_NAME);
	png = fx_encode(p3, "png", &len);
	got = decode_pixels(png, len, &w, &h);
	cr_expect_leq(max_abs_diff(got, want, n), 3, "P3 file not converted back to sRGB");
	free(got);
	g_free(png);
	png = fx_encode(raw, "png", &len);
	got = decode_pixels(png, len, &w, &h);
	cr_expect_gt(max_abs_diff(got, want, n), 10, "the P3 numbers should differ from sRGB");
	free(got);
	g_free(png);
	g_free(want);
	g_object_unref(raw);
	g_object_unref(p3);
	g_object_unref(srgb);
	g_object_unref(orig);
	g_object_unref(strip);
	for (int i = 0; i < 4; i++)
		g_object_unref(bars[i]);
}

Test(ingest_formats, srgb_profile_detection)
{
	cr_assert_eq(lk_init(), LK_OK);
	VipsImage *orig = fx_load(fx_pdq_image("char1_orig.png")), *t;
	const void *p;
	size_t n;
	cr_assert_eq(vips_icc_transform(orig, &t, "srgb", "input_profile", "srgb", NULL), 0);
	cr_assert_eq(vips_image_get_blob(t, VIPS_META_ICC_NAME, &p, &n), 0);
	cr_expect(lk__icc_is_srgb(p, n));
	unsigned char *cut = malloc(n);
	memcpy(cut, p, n);
	cr_expect(!lk__icc_is_srgb(cut, 131), "truncated header");
	cut[128] = 0xff; /* absurd tag count */
	cr_expect(!lk__icc_is_srgb(cut, n));
	free(cut);
	cr_expect(!lk__icc_is_srgb(NULL, 0));
	g_object_unref(t);
	if (vips_icc_transform(orig, &t, "p3", "input_profile", "srgb", NULL) == 0) {
		cr_assert_eq(vips_image_get_blob(t, VIPS_META_ICC_NAME, &p, &n), 0);
		cr_expect(!lk__icc_is_srgb(p, n), "P3 taken for sRGB");
		g_object_unref(t);
	}
	vips_error_clear();
	g_object_unref(orig);
}
