/* Full-bleed scenes with a character painted in (scene.h). */
#include "scene.h"

#include <math.h>

const char *scene_background_name(scene_background b)
{
	static const char *const names[SCENE_BACKGROUNDS] = { "photo", "gradient", "texture" };
	return b < SCENE_BACKGROUNDS ? names[b] : "?";
}

/* Drops `old` for what the operation that returned `rc` wrote into *fresh (read only after the
 * operation ran); NULL when it failed. */
static VipsImage *next(VipsImage *old, int rc, VipsImage **fresh)
{
	g_object_unref(old);
	return rc ? NULL : *fresh;
}

/* t (one float band, 0..1) mixed from colour a to colour b, 3 bands uchar. */
static VipsImage *two_colours(VipsImage *t, unsigned *s)
{
	double a[3], d[3];
	for (int i = 0; i < 3; i++) {
		a[i] = bench_uniform(s, 0, 255);
		d[i] = bench_uniform(s, 0, 255) - a[i];
	}
	VipsImage *bands[3];
	for (int i = 0; i < 3; i++)
		if (vips_linear1(t, &bands[i], d[i], a[i], NULL)) {
			while (i--)
				g_object_unref(bands[i]);
			return NULL;
		}
	VipsImage *joined, *out;
	const int rc = vips_bandjoin(bands, &joined, 3, NULL);
	for (int i = 0; i < 3; i++)
		g_object_unref(bands[i]);
	if (rc)
		return NULL;
	if (vips_cast_uchar(joined, &out, NULL)) {
		g_object_unref(joined);
		return NULL;
	}
	g_object_unref(joined);
	out->Type = VIPS_INTERPRETATION_sRGB;
	return out;
}

/* A linear gradient at a random angle between two random colours. */
static VipsImage *gradient(unsigned *s)
{
	VipsImage *xy, *x, *y, *t;
	if (vips_xyz(&xy, SCENE_SIDE, SCENE_SIDE, NULL))
		return NULL;
	const double angle = bench_uniform(s, 0, 2 * G_PI), c = cos(angle), sn = sin(angle);
	const double span = (fabs(c) + fabs(sn)) * SCENE_SIDE;
	if (vips_extract_band(xy, &x, 0, NULL)) {
		g_object_unref(xy);
		return NULL;
	}
	if (vips_extract_band(xy, &y, 1, NULL)) {
		g_object_unref(xy);
		g_object_unref(x);
		return NULL;
	}
	g_object_unref(xy);
	VipsImage *cx, *cy;
	int rc = vips_linear1(x, &cx, c / span, c < 0 ? 1.0 * fabs(c) * SCENE_SIDE / span : 0, NULL);
	g_object_unref(x);
	if (rc) {
		g_object_unref(y);
		return NULL;
	}
	rc = vips_linear1(y, &cy, sn / span, sn < 0 ? fabs(sn) * SCENE_SIDE / span : 0, NULL);
	g_object_unref(y);
	if (rc) {
		g_object_unref(cx);
		return NULL;
	}
	rc = vips_add(cx, cy, &t, NULL);
	g_object_unref(cx);
	g_object_unref(cy);
	if (rc)
		return NULL;
	VipsImage *out = two_colours(t, s);
	g_object_unref(t);
	return out;
}

/* Perlin noise or Worley cells, as cloth, stone or clouds are painted, in two random colours. */
static VipsImage *texture(unsigned *s)
{
	VipsImage *t, *n;
	const int cell = 16 << (bench_rand(s) % 4);
	const unsigned seed = bench_rand(s);
	int rc;
	if (bench_rand(s) % 2) {
		rc = vips_perlin(&t, SCENE_SIDE, SCENE_SIDE, "cell_size", cell, "seed", (int)(seed & 0x7fffffff), NULL);
		/* -1..1 to 0..1 */
		if (!rc && (rc = vips_linear1(t, &n, 0.5, 0.5, NULL)) == 0)
			t = next(t, 0, &n);
	} else {
		rc = vips_worley(&t, SCENE_SIDE, SCENE_SIDE, "cell_size", cell, "seed", (int)(seed & 0x7fffffff), NULL);
		/* distances to the nearest cell centre, 0..~cell */
		if (!rc && (rc = vips_linear1(t, &n, 1.0 / cell, 0, NULL)) == 0)
			t = next(t, 0, &n);
	}
	if (rc || !t)
		return NULL;
	VipsImage *out = two_colours(t, s);
	g_object_unref(t);
	return out;
}

static VipsImage *photo(unsigned *s, const bench_edit_sources *src)
{
	VipsImage *p = src && src->photo ? src->photo(src->ctx, bench_rand(s)) : NULL, *out;
	if (!p)
		return NULL;
	const int rc = vips_resize(p, &out, (double)SCENE_SIDE / p->Xsize, "vscale", (double)SCENE_SIDE / p->Ysize, NULL);
	return next(p, rc, &out);
}

/* The box the art's alpha covers (at least 16 of 255), or the whole art when none does. */
static void visible_box(VipsImage *art, int *x, int *y, int *w, int *h)
{
	int x0 = art->Xsize, y0 = art->Ysize, x1 = -1, y1 = -1;
	const int bands = art->Bands;
	for (int j = 0; j < art->Ysize; j++) {
		const VipsPel *row = VIPS_IMAGE_ADDR(art, 0, j);
		for (int i = 0; i < art->Xsize; i++)
			if (row[i * bands + bands - 1] >= 16) {
				x0 = i < x0 ? i : x0, x1 = i > x1 ? i : x1;
				y0 = j < y0 ? j : y0, y1 = j > y1 ? j : y1;
			}
	}
	if (x1 < 0) {
		*x = *y = 0, *w = art->Xsize, *h = art->Ysize;
		return;
	}
	*x = x0, *y = y0, *w = x1 - x0 + 1, *h = y1 - y0 + 1;
}

/* The art's visible box scaled so that its longer side is `side`, at (x, y) over the
 * background, which it consumes. */
static VipsImage *paint(VipsImage *bg, VipsImage *art, const int box[4], int side, int x, int y)
{
	VipsImage *part, *sized, *over, *flat;
	if (vips_extract_area(art, &part, box[0], box[1], box[2], box[3], NULL)) {
		g_object_unref(bg);
		return NULL;
	}
	const double scale = (double)side / (box[2] > box[3] ? box[2] : box[3]);
	const int rc_size = vips_resize(part, &sized, scale, NULL);
	g_object_unref(part);
	if (rc_size) {
		g_object_unref(bg);
		return NULL;
	}
	const int rc = vips_composite2(bg, sized, &over, VIPS_BLEND_MODE_OVER, "x", x, "y", y, NULL);
	g_object_unref(sized);
	if (!(bg = next(bg, rc, &over)))
		return NULL;
	/* The background is opaque, so the alpha the blend adds is 255 everywhere. */
	if (!(bg = next(bg, vips_extract_band(bg, &flat, 0, "n", 3, NULL), &flat)))
		return NULL;
	return next(bg, vips_cast_uchar(bg, &flat, NULL), &flat);
}

/* Colour grading, then a softer or crisper rendering, then sensor-like noise. */
static VipsImage *style(VipsImage *in, unsigned *s, scene_info *info)
{
	double gain[3], offset[3];
	for (int i = 0; i < 3; i++) {
		gain[i] = bench_uniform(s, 0.85, 1.15);
		offset[i] = bench_uniform(s, -20, 20);
	}
	VipsImage *out;
	if (!(in = next(in, vips_linear(in, &out, gain, offset, 3, NULL), &out)))
		return NULL;
	switch (bench_rand(s) % 3) {
	case 0:
		info->style = "blur";
		if (!(in = next(in, vips_gaussblur(in, &out, bench_uniform(s, 0.5, 1.2), NULL), &out)))
			return NULL;
		break;
	case 1:
		info->style = "sharpen";
		if (!(in = next(in, vips_cast_uchar(in, &out, NULL), &out)))
			return NULL;
		if (!(in = next(in, vips_sharpen(in, &out, "sigma", bench_uniform(s, 0.5, 1.5), NULL), &out)))
			return NULL;
		break;
	default:
		info->style = "plain";
	}
	VipsImage *noise;
	if (vips_gaussnoise(&noise, SCENE_SIDE, SCENE_SIDE, "sigma", bench_uniform(s, 2, 6), "mean", 0.0, "seed",
			    (int)(bench_rand(s) & 0x7fffffff), NULL)) {
		g_object_unref(in);
		return NULL;
	}
	const int rc = vips_add(in, noise, &out, NULL);
	g_object_unref(noise);
	if (!(in = next(in, rc, &out)))
		return NULL;
	if (!(in = next(in, vips_cast_uchar(in, &out, NULL), &out)))
		return NULL;
	in->Type = VIPS_INTERPRETATION_sRGB;
	return in;
}

/* Saved and read back as JPEG or WebP at quality 60-90, decoded into memory. */
static VipsImage *encode(VipsImage *in, unsigned *s, scene_info *info)
{
	void *buf = NULL;
	size_t len = 0;
	info->quality = 60 + (int)(bench_rand(s) % 31);
	const int webp = bench_rand(s) % 2;
	info->codec = webp ? "webp" : "jpeg";
	const int rc = webp ? vips_webpsave_buffer(in, &buf, &len, "Q", info->quality, NULL)
			    : vips_jpegsave_buffer(in, &buf, &len, "Q", info->quality, NULL);
	g_object_unref(in);
	if (rc)
		return NULL;
	VipsImage *back = vips_image_new_from_buffer(buf, len, "", NULL), *mem = NULL;
	if (back) {
		mem = vips_image_copy_memory(back);
		g_object_unref(back);
	}
	g_free(buf);
	return mem;
}

VipsImage *scene_compose(VipsImage *art, double min_area, double max_area, unsigned *seed,
			 const bench_edit_sources *src, scene_info *info)
{
	*info = (scene_info){ .background = (scene_background)(bench_rand(seed) % SCENE_BACKGROUNDS) };
	VipsImage *bg = info->background == SCENE_PHOTO	   ? photo(seed, src)
			: info->background == SCENE_GRADIENT ? gradient(seed)
							     : texture(seed);
	if (!bg)
		return NULL;
	if (art) {
		int box[4];
		visible_box(art, &box[0], &box[1], &box[2], &box[3]);
		info->area = bench_uniform(seed, min_area, max_area);
		info->side = (int)lround(sqrt(info->area) * SCENE_SIDE);
		const int longer = box[2] > box[3] ? box[2] : box[3];
		const int w = (int)lround((double)box[2] * info->side / longer), h = (int)lround((double)box[3] * info->side / longer);
		info->x = (int)(bench_rand(seed) % (unsigned)(SCENE_SIDE - w + 1));
		info->y = (int)(bench_rand(seed) % (unsigned)(SCENE_SIDE - h + 1));
		if (!(bg = paint(bg, art, box, info->side, info->x, info->y)))
			return NULL;
	}
	if (!(bg = style(bg, seed, info)))
		return NULL;
	return encode(bg, seed, info);
}
