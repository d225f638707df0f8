/* The benchmark's edits (edits.h). Each takes ownership of its input and returns a new uchar
 * image of 1 or 3 bands, or NULL with the vips error buffer saying why. */
#include "edits.h"

#include <math.h>

static const char *const names[EDIT_COUNT] = {
	"resize", "jpeg q30-50", "blur", "brightness/contrast", "hue shift", "grayscale", "mirror",
	"rotate 90", "rotate 180", "rotate 5-15 deg", "crop 5-30%/side", "border", "text overlay",
	"sticker 10-25%", "pasted into a photo", "two edits"
};

const char *bench_edit_name(bench_edit e)
{
	return e >= 0 && e < EDIT_COUNT ? names[e] : "?";
}

unsigned bench_rand(unsigned *seed)
{
	*seed ^= *seed << 13;
	*seed ^= *seed >> 17;
	*seed ^= *seed << 5;
	return *seed;
}

double bench_uniform(unsigned *seed, double lo, double hi)
{
	return lo + (hi - lo) * (bench_rand(seed) % 1000000) / 1e6;
}

/* Replaces `old` by `fresh` (which may be NULL after a failed operation). */
static VipsImage *swap(VipsImage *old, VipsImage *fresh)
{
	g_object_unref(old);
	return fresh;
}

/* Operations return 0 on success and set *out; this turns that into swap's convention. *out is
 * read here, after the operation: an argument list may be evaluated in any order. */
static VipsImage *then(VipsImage *old, int rc, VipsImage **out)
{
	return swap(old, rc ? NULL : *out);
}

static VipsImage *to_uchar(VipsImage *in)
{
	VipsImage *out;
	if (!in || in->BandFmt == VIPS_FORMAT_UCHAR)
		return in;
	return then(in, vips_cast_uchar(in, &out, NULL), &out);
}

/* Three bands, for edits that paint in colour over a possibly grey image. */
static VipsImage *to_rgb(VipsImage *in)
{
	VipsImage *out;
	if (in->Bands == 3)
		return in;
	return to_uchar(then(in, vips_colourspace(in, &out, VIPS_INTERPRETATION_sRGB, NULL), &out));
}

static VipsImage *resize(VipsImage *in, unsigned *s)
{
	const double scale = bench_uniform(s, 0.2, 0.6), aspect = bench_uniform(s, 0.85, 1.15);
	VipsImage *out;
	return to_uchar(then(in, vips_resize(in, &out, scale, "vscale", scale * aspect, NULL), &out));
}

static VipsImage *jpeg(VipsImage *in, int q)
{
	void *buf;
	size_t len;
	if (vips_jpegsave_buffer(in, &buf, &len, "Q", q, NULL))
		return swap(in, NULL);
	VipsImage *loaded, *out = NULL;
	if (!vips_jpegload_buffer(buf, len, &loaded, NULL)) {
		/* Decoded now, while the buffer it reads from still exists. */
		out = vips_image_copy_memory(loaded);
		g_object_unref(loaded);
	}
	g_free(buf);
	return swap(in, out);
}

static VipsImage *blur(VipsImage *in, unsigned *s)
{
	VipsImage *out;
	return to_uchar(then(in, vips_gaussblur(in, &out, bench_uniform(s, 2, 5), NULL), &out));
}

static VipsImage *brightness(VipsImage *in, unsigned *s)
{
	const double a = bench_uniform(s, 0.6, 1.4), b = bench_uniform(s, -50, 50);
	VipsImage *out;
	return to_uchar(then(in, vips_linear1(in, &out, a, b, NULL), &out));
}

static VipsImage *hue(VipsImage *in, unsigned *s)
{
	const double turn = bench_uniform(s, 30, 150) * (bench_rand(s) % 2 ? 1 : -1);
	if (in->Bands != 3)
		return in; /* grey has no hue */
	VipsImage *lch, *turned, *out;
	if (vips_colourspace(in, &lch, VIPS_INTERPRETATION_LCH, "source_space", VIPS_INTERPRETATION_sRGB, NULL))
		return swap(in, NULL);
	const int rc = vips_linear(lch, &turned, (double[]){ 1, 1, 1 }, (double[]){ 0, 0, turn }, 3, NULL);
	g_object_unref(lch);
	if (rc)
		return swap(in, NULL);
	return to_uchar(then(in, vips_colourspace(turned, &out, VIPS_INTERPRETATION_sRGB, NULL), &out));
}

static VipsImage *gray(VipsImage *in)
{
	VipsImage *out;
	if (in->Bands == 1)
		return in;
	return to_uchar(then(in, vips_colourspace(in, &out, VIPS_INTERPRETATION_B_W, NULL), &out));
}

static VipsImage *tilt(VipsImage *in, unsigned *s)
{
	const double angle = bench_uniform(s, 5, 15) * (bench_rand(s) % 2 ? 1 : -1);
	double white[3] = { 255, 255, 255 };
	VipsArrayDouble *bg = vips_array_double_new(white, in->Bands);
	VipsImage *out;
	const int rc = vips_rotate(in, &out, angle, "background", bg, NULL);
	vips_area_unref(VIPS_AREA(bg));
	return to_uchar(then(in, rc, &out));
}

static VipsImage *crop(VipsImage *in, unsigned *s)
{
	const double l = bench_uniform(s, 0.05, 0.3), r = bench_uniform(s, 0.05, 0.3);
	const double t = bench_uniform(s, 0.05, 0.3), b = bench_uniform(s, 0.05, 0.3);
	const int x = (int)(l * in->Xsize), y = (int)(t * in->Ysize);
	const int w = in->Xsize - x - (int)(r * in->Xsize), h = in->Ysize - y - (int)(b * in->Ysize);
	VipsImage *out;
	return then(in, vips_extract_area(in, &out, x, y, w, h, NULL), &out);
}

static VipsImage *border(VipsImage *in, unsigned *s)
{
	const int side = in->Xsize > in->Ysize ? in->Xsize : in->Ysize;
	const int b = (int)(side * bench_uniform(s, 0.05, 0.25));
	double colour[3] = { bench_rand(s) % 256, bench_rand(s) % 256, bench_rand(s) % 256 };
	VipsArrayDouble *bg = vips_array_double_new(colour, in->Bands);
	VipsImage *out;
	const int rc = vips_embed(in, &out, b, b, in->Xsize + 2 * b, in->Ysize + 2 * b, "extend",
				  VIPS_EXTEND_BACKGROUND, "background", bg, NULL);
	vips_area_unref(VIPS_AREA(bg));
	return then(in, rc, &out);
}

/* A caption in black, white or a strong colour, a quarter to nine tenths of the width. */
static const char *const words[] = { "fan art #1", "AI GENERATED", "made with love", "my OC!!",
				     "do not repost", "sample", "@studio_gen", "commission open" };
#define N_WORDS (int)(sizeof words / sizeof words[0])
static VipsImage *captions[N_WORDS];

/* Pango draws the captions once, here, before any thread starts: drawn from threads, runs
 * crashed in pangoft2's own font-loading thread (a glib hash table freed under it). */
int bench_edits_init(void)
{
	for (int i = 0; i < N_WORDS; i++) {
		VipsImage *t;
		if (!captions[i] && vips_text(&t, words[i], "font", "sans bold 48", "dpi", 144, NULL))
			return -1;
		if (!captions[i]) {
			captions[i] = vips_image_copy_memory(t);
			g_object_unref(t);
			if (!captions[i])
				return -1;
		}
	}
	return 0;
}

/* A caption in black, white or a strong colour, scaled into a box of 40-90% of the width and
 * 8-20% of the height. */
static VipsImage *text(VipsImage *in, unsigned *s)
{
	VipsImage *mask, *placed, *out;
	const int width = (int)(in->Xsize * bench_uniform(s, 0.4, 0.9)), height = (int)(in->Ysize * bench_uniform(s, 0.08, 0.2));
	VipsImage *caption = captions[bench_rand(s) % N_WORDS];
	if (!caption) {
		vips_error("bench_edit", "bench_edits_init() was not called");
		return swap(in, NULL);
	}
	const double sx = (double)width / caption->Xsize, sy = (double)height / caption->Ysize;
	if (vips_resize(caption, &mask, sx < sy ? sx : sy, NULL))
		return swap(in, NULL);
	const int x = mask->Xsize < in->Xsize ? (int)bench_uniform(s, 0, in->Xsize - mask->Xsize) : 0;
	const int y = mask->Ysize < in->Ysize ? (int)bench_uniform(s, 0, in->Ysize - mask->Ysize) : 0;
	int rc = vips_embed(mask, &placed, x, y, in->Xsize, in->Ysize, NULL);
	g_object_unref(mask);
	if (rc)
		return swap(in, NULL);
	static const double inks[5][3] = { { 0, 0, 0 }, { 255, 255, 255 }, { 230, 30, 30 }, { 250, 220, 0 }, { 30, 60, 220 } };
	const double *ink = inks[bench_rand(s) % 5];
	VipsImage *colour;
	rc = vips_black(&colour, in->Xsize, in->Ysize, "bands", in->Bands, NULL);
	if (!rc) {
		VipsImage *inked;
		rc = vips_linear(colour, &inked, (double[]){ 1, 1, 1 }, (double[]){ ink[0], ink[1], ink[2] }, in->Bands, NULL);
		g_object_unref(colour);
		colour = rc ? NULL : inked;
	}
	if (!rc)
		rc = vips_ifthenelse(placed, colour, in, &out, "blend", TRUE, NULL);
	g_object_unref(placed);
	if (colour)
		g_object_unref(colour);
	return to_uchar(then(in, rc, &out));
}

/* `top` (with alpha, or 3 bands) composited over `in` at x, y; 3 bands out. */
static VipsImage *overlay(VipsImage *in, VipsImage *top, int x, int y)
{
	VipsImage *out;
	int rc;
	if (top->Bands == 4) {
		VipsImage *placed, *over;
		rc = vips_embed(top, &placed, x, y, in->Xsize, in->Ysize, NULL);
		if (!rc) {
			rc = vips_composite2(in, placed, &over, VIPS_BLEND_MODE_OVER, NULL);
			g_object_unref(placed);
		}
		if (!rc) {
			rc = vips_extract_band(over, &out, 0, "n", 3, NULL);
			g_object_unref(over);
		}
	} else
		rc = vips_insert(in, top, &out, x, y, NULL);
	return to_uchar(then(in, rc, &out));
}

/* `top` scaled to cover `lo`-`hi` of `base`'s area and laid over it at a random place; consumes
 * both. */
static VipsImage *place(VipsImage *base, VipsImage *top, double lo, double hi, unsigned *s)
{
	base = base ? to_rgb(base) : NULL;
	if (!base || !top) {
		if (base)
			g_object_unref(base);
		if (top)
			g_object_unref(top);
		return NULL;
	}
	const double area = bench_uniform(s, lo, hi) * base->Xsize * base->Ysize;
	VipsImage *small;
	const int rc = vips_resize(top, &small, sqrt(area / ((double)top->Xsize * top->Ysize)), NULL);
	g_object_unref(top);
	if (rc)
		return swap(base, NULL);
	if (!(small = to_uchar(small)))
		return swap(base, NULL);
	const int x = (int)bench_uniform(s, 0, base->Xsize > small->Xsize ? base->Xsize - small->Xsize : 0);
	const int y = (int)bench_uniform(s, 0, base->Ysize > small->Ysize ? base->Ysize - small->Ysize : 0);
	VipsImage *out = overlay(base, small, x, y);
	g_object_unref(small);
	return out;
}

static VipsImage *sticker(VipsImage *in, unsigned *s, const bench_edit_sources *src)
{
	VipsImage *art = src && src->sticker ? src->sticker(src->ctx, bench_rand(s)) : NULL;
	return place(in, art, 0.10, 0.25, s);
}

static VipsImage *pasted(VipsImage *in, unsigned *s, const bench_edit_sources *src)
{
	VipsImage *photo = src && src->photo ? src->photo(src->ctx, bench_rand(s)) : NULL;
	return place(photo, in, 0.25, 0.6, s);
}

VipsImage *bench_edit_apply(VipsImage *in, bench_edit e, unsigned *s, const bench_edit_sources *src)
{
	VipsImage *out;
	if (!in)
		return NULL;
	switch (e) {
	case EDIT_RESIZE: return resize(in, s);
	case EDIT_JPEG: return jpeg(in, 30 + (int)(bench_rand(s) % 21));
	case EDIT_BLUR: return blur(in, s);
	case EDIT_BRIGHTNESS: return brightness(in, s);
	case EDIT_HUE: return hue(in, s);
	case EDIT_GRAY: return gray(in);
	case EDIT_MIRROR: return then(in, vips_flip(in, &out, VIPS_DIRECTION_HORIZONTAL, NULL), &out);
	case EDIT_ROT90:
		return then(in, vips_rot(in, &out, bench_rand(s) % 2 ? VIPS_ANGLE_D90 : VIPS_ANGLE_D270, NULL), &out);
	case EDIT_ROT180: return then(in, vips_rot(in, &out, VIPS_ANGLE_D180, NULL), &out);
	case EDIT_TILT: return tilt(in, s);
	case EDIT_CROP: return crop(in, s);
	case EDIT_BORDER: return border(in, s);
	case EDIT_TEXT: return text(in, s);
	case EDIT_STICKER: return sticker(in, s, src);
	case EDIT_PASTED: return pasted(in, s, src);
	case EDIT_TWO: {
		const bench_edit a = (bench_edit)(bench_rand(s) % EDIT_TWO);
		bench_edit b = (bench_edit)(bench_rand(s) % (EDIT_TWO - 1));
		b = b >= a ? b + 1 : b;
		return bench_edit_apply(bench_edit_apply(in, a, s, src), b, s, src);
	}
	default:
		vips_error("bench_edit", "no edit %d", (int)e);
		return swap(in, NULL);
	}
}
