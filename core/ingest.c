/* Encoded bytes to pixels for PDQ, through libvips, with the limits that keep hostile input
 * from costing more than a header read. */
#include "core/internal.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>
#include <vips/vips.h>

/* libvips' error buffer is process-wide: take its text now and clear it, keeping the first
 * line, which names the failing loader and reason. */
static void take_vips_error(char *buf, size_t size)
{
	char *all = vips_error_buffer_copy();
	size_t n = strcspn(all, "\n");
	if (n >= size)
		n = size - 1;
	memcpy(buf, all, n);
	buf[n] = '\0';
	g_free(all);
}

static int decode_failure(int sniffed, const void *data, size_t len, const char *stage)
{
	char why[300];
	take_vips_error(why, sizeof why);
	if (sniffed != LK_SNIFF_UNKNOWN && lk__looks_truncated((lk_sniff_format)sniffed, data, len))
		return lk__fail(LK_ETRUNCATED, "%s data ends early (%zu bytes, no end marker): %s",
				lk__sniff_name((lk_sniff_format)sniffed), len, why);
	return lk__fail(sniffed == LK_SNIFF_UNKNOWN && !data ? LK_EINTERNAL : LK_ECORRUPT,
			"%s failed: %s", stage, why[0] ? why : "no reason given by libvips");
}

/* "VipsForeignLoadPngBuffer" -> "pngload_buffer" */
static const char *nickname(const char *loader_class)
{
	const char *nick = vips_nickname_find(g_type_from_name(loader_class));
	return nick ? nick : loader_class;
}

/* "pngload_buffer" -> "png" */
static void format_from_loader(char *out, size_t size, const char *loader)
{
	size_t n = strcspn(loader, "_");
	const char *load = strstr(loader, "load");
	if (load && (size_t)(load - loader) < n)
		n = (size_t)(load - loader);
	if (n >= size)
		n = size - 1;
	memcpy(out, loader, n);
	out[n] = '\0';
}

/* vips_foreign_find_load_buffer() still names loaders that are blocked as untrusted (the
 * load itself then fails); knowing it first gives a precise refusal. */
static int loader_is_blocked(const char *loader)
{
	GType type = vips_type_find("VipsOperation", loader);
	if (!type)
		return 0;
	VipsOperationClass *klass = g_type_class_ref(type);
	const int blocked = (klass->flags & VIPS_OPERATION_BLOCKED) != 0;
	g_type_class_unref(klass);
	return blocked;
}

static int check_size(int64_t w, int64_t h, const lk_ingest_options *opts)
{
	if (w > opts->max_side || h > opts->max_side)
		return lk__fail(LK_EDIMENSIONS, "image is %" PRId64 "x%" PRId64 ", the side limit is %u",
				w, h, opts->max_side);
	if ((uint64_t)w * (uint64_t)h > opts->max_pixels)
		return lk__fail(LK_EPIXELS, "image is %" PRId64 "x%" PRId64 " = %" PRIu64
				" pixels, the limit is %" PRIu64, w, h, (uint64_t)w * (uint64_t)h,
				opts->max_pixels);
	return LK_OK;
}

int lk__decode_for_pdq(lk_image8 *out, lk_source_info *info, const void *data, size_t len,
		       const char *name, const lk_ingest_options *caller_opts)
{
	lk_ingest_options o;
	const int read = lk__ingest_options_read(&o, caller_opts);
	if (read != LK_OK)
		return read;
	const lk_ingest_options *opts = &o;
	if (len == 0)
		return lk__fail(LK_EEMPTY, "zero bytes");
	if (len > opts->max_bytes)
		return lk__fail(LK_ETOOBIG, "%zu bytes, the limit is %zu", len, opts->max_bytes);

	const lk_sniff_format sniffed = lk__sniff(data, len);
	const char *loader = vips_foreign_find_load_buffer(data, len);
	if (loader && !opts->allow_svg && strstr(nickname(loader), "svgload"))
		return lk__fail(LK_EUNTRUSTED, "SVG is refused (allow_svg is off)");
	if (loader && loader_is_blocked(loader))
		return lk__fail(LK_EUNTRUSTED, "only libvips' %s can read this%s%s, and it is blocked "
				"for untrusted input", nickname(loader), sniffed ? " " : "",
				sniffed ? lk__sniff_name(sniffed) : "");
	if (!loader) {
		vips_error_clear();
		if (sniffed != LK_SNIFF_UNKNOWN)
			return lk__looks_truncated(sniffed, data, len)
				       ? lk__fail(LK_ETRUNCATED, "%s data ends after %zu bytes",
						  lk__sniff_name(sniffed), len)
				       : lk__fail(LK_ECORRUPT, "starts like %s but no loader accepts it",
						  lk__sniff_name(sniffed));
		const lk_sniff_format claimed = lk__format_from_name(name);
		if (claimed != LK_SNIFF_UNKNOWN)
			return lk__fail(LK_EMISMATCH, "the name says %s, the content is not an image",
					lk__sniff_name(claimed));
		return lk__fail(LK_ENOTIMAGE, "content is not a recognised image format");
	}
	format_from_loader(info->format, sizeof info->format, nickname(loader));

	/* The header costs well under a millisecond and is all the size checks need. */
	VipsImage *img = vips_image_new_from_buffer(data, len, "", "access", VIPS_ACCESS_SEQUENTIAL,
						    "fail_on", VIPS_FAIL_ON_TRUNCATED, NULL);
	if (!img)
		return decode_failure(sniffed, data, len, "reading the header");
	info->width = img->Xsize;
	info->height = img->Ysize;
	int rc = check_size(img->Xsize, img->Ysize, opts);
	if (rc != LK_OK) {
		g_object_unref(img);
		return rc;
	}

	if (img->Xsize > LK_PDQ_WORK_SIDE || img->Ysize > LK_PDQ_WORK_SIDE) {
		/* Decode at a fraction of full size where the format allows it, keeping both sides
		 * at least the working size; lk__fit_work_size() does the rest after rendering.
		 * (vips_thumbnail does both, but cost ~12 ms more per 1024x1024 JPEG here.) Formats
		 * without reduced decoding (PNG, TIFF, GIF, ...) then hash exactly as the reference
		 * hashes them; a reduced JPEG lands a few bits away (0-6 on the test vectors). */
		VipsImage *reduced = NULL;
		const char *nick = nickname(loader);
		const double need = fmax((double)LK_PDQ_WORK_SIDE / img->Xsize,
					 (double)LK_PDQ_WORK_SIDE / img->Ysize);
		if (strstr(nick, "jpegload")) {
			int shrink = 1;
			while (shrink < 8 && img->Xsize / (shrink * 2) >= LK_PDQ_WORK_SIDE &&
			       img->Ysize / (shrink * 2) >= LK_PDQ_WORK_SIDE)
				shrink *= 2;
			if (shrink > 1)
				reduced = vips_image_new_from_buffer(data, len, "", "access", VIPS_ACCESS_SEQUENTIAL,
								     "fail_on", VIPS_FAIL_ON_TRUNCATED,
								     "shrink", shrink, NULL);
		} else if (strstr(nick, "webpload") || strstr(nick, "svgload")) {
			reduced = vips_image_new_from_buffer(data, len, "", "access", VIPS_ACCESS_SEQUENTIAL,
							     "fail_on", VIPS_FAIL_ON_TRUNCATED, "scale", need, NULL);
		}
		if (reduced) {
			g_object_unref(img);
			img = reduced;
		}
	}
	const int big = info->width > LK_PDQ_WORK_SIDE || info->height > LK_PDQ_WORK_SIDE;
	VipsImage *upright;
	if (vips_autorot(img, &upright, NULL)) {
		g_object_unref(img);
		return decode_failure(sniffed, data, len, "applying EXIF orientation");
	}
	g_object_unref(img);
	img = upright;
	rc = lk__render_image8(out, img, opts, sniffed, data, len);
	return rc == LK_OK && big ? lk__fit_work_size(out) : rc;
}

int lk__fit_work_size(lk_image8 *img)
{
	if (img->width == LK_PDQ_WORK_SIDE && img->height == LK_PDQ_WORK_SIDE)
		return LK_OK;
	lk_image8 reduced;
	int rc = lk__reduce_image8(&reduced, img, LK_PDQ_WORK_SIDE, LK_PDQ_WORK_SIDE);
	if (rc == LK_OK)
		*img = reduced;
	return rc;
}

/* Applies an embedded ICC profile unless it is sRGB already; a broken profile is ignored rather
 * than making the image unreadable (the pixels are still meaningful as sRGB). */
static VipsImage *to_srgb_profile(VipsImage *in)
{
	const void *profile;
	size_t size;
	if (in->Bands < 3 || !vips_image_get_typeof(in, VIPS_META_ICC_NAME) ||
	    vips_image_get_blob(in, VIPS_META_ICC_NAME, &profile, &size) || lk__icc_is_srgb(profile, size))
		return in;
	VipsImage *t;
	if (vips_icc_transform(in, &t, "srgb", "embedded", TRUE, NULL)) {
		vips_error_clear();
		return in;
	}
	g_object_unref(in);
	return t;
}

/* Rows computed per libvips request when rendering. */
#define RENDER_STRIP 64

int lk__render_image8(lk_image8 *out, VipsImage *in, const lk_ingest_options *opts, int sniffed,
		      const void *data, size_t len)
{
	VipsImage *img = to_srgb_profile(in), *t;
	const int grey = img->Bands < 3 && img->Type != VIPS_INTERPRETATION_CMYK;
	if (vips_colourspace(img, &t, grey ? VIPS_INTERPRETATION_B_W : VIPS_INTERPRETATION_sRGB, NULL))
		goto fail;
	g_object_unref(img);
	img = t;
	if (vips_image_hasalpha(img)) {
		const unsigned char *bg = opts->background;
		double bg_grey = 0.299 * bg[0] + 0.587 * bg[1] + 0.114 * bg[2];
		double rgb[3] = { bg[0], bg[1], bg[2] };
		VipsArrayDouble *background = vips_array_double_new(grey ? &bg_grey : rgb, grey ? 1 : 3);
		int bad = vips_flatten(img, &t, "background", background, NULL);
		vips_area_unref(VIPS_AREA(background));
		if (bad)
			goto fail;
		g_object_unref(img);
		img = t;
	}
	if (img->Bands > (grey ? 1 : 3)) {
		/* Extra non-alpha bands (e.g. a CMYK leftover) carry nothing PDQ uses. */
		if (vips_extract_band(img, &t, 0, "n", grey ? 1 : 3, NULL))
			goto fail;
		g_object_unref(img);
		img = t;
	}
	if (img->BandFmt != VIPS_FORMAT_UCHAR) {
		if (vips_cast_uchar(img, &t, NULL))
			goto fail;
		g_object_unref(img);
		img = t;
	}

	/* Render into this thread's scratch instead of a fresh libvips allocation. */
	const int w = img->Xsize, h = img->Ysize, bands = img->Bands;
	const size_t size = (size_t)w * h * bands;
	unsigned char *pixels = lk__scratch(LK_SCRATCH_PIXELS, size);
	if (!pixels) {
		g_object_unref(img);
		return LK_ENOMEM;
	}
	/* Computed on this thread: vips_image_write() would hand the work to a libvips worker and
	 * wait, a thread switch per tile that cost more than the JPEG decode itself. */
	VipsRegion *region = vips_region_new(img);
	if (!region)
		goto fail;
	/* In strips, top to bottom as sequential loaders want, so the region's buffer stays small
	 * and is reused instead of a fresh whole-image allocation per image. */
	const size_t row = (size_t)w * bands;
	for (int y0 = 0; y0 < h; y0 += RENDER_STRIP) {
		VipsRect strip = { 0, y0, w, h - y0 < RENDER_STRIP ? h - y0 : RENDER_STRIP };
		if (vips_region_prepare(region, &strip)) {
			g_object_unref(region);
			goto fail;
		}
		for (int y = y0; y < y0 + strip.height; y++)
			memcpy(pixels + (size_t)y * row, VIPS_REGION_ADDR(region, 0, y), row);
	}
	g_object_unref(region);
	g_object_unref(img);

	out->data = pixels;
	out->width = w;
	out->height = h;
	out->stride = (ptrdiff_t)w * bands;
	out->channels = bands;
	return LK_OK;

fail:
	g_object_unref(img);
	return decode_failure(sniffed, data, len, "decoding");
}
