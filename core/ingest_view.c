/* Borrowed raw pixels to pixels for PDQ. RGB8 and GRAY8 views up to the working size are used
 * in place; everything else goes through the same libvips steps as a decoded file, so a view
 * and a PNG of the same pixels hash the same. */
#include "core/internal.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>
#include <vips/vips.h>

static int bytes_per_pixel(lk_pixel_format f)
{
	switch (f) {
	case LK_PIXEL_RGB8: return 3;
	case LK_PIXEL_RGBA8: return 4;
	case LK_PIXEL_GRAY8: return 1;
	case LK_PIXEL_RGBF32: return 12;
	}
	return 0;
}

static const char *format_name(lk_pixel_format f)
{
	switch (f) {
	case LK_PIXEL_RGB8: return "raw-rgb8";
	case LK_PIXEL_RGBA8: return "raw-rgba8";
	case LK_PIXEL_GRAY8: return "raw-gray8";
	case LK_PIXEL_RGBF32: return "raw-rgbf32";
	}
	return "raw";
}

/* 0..1 floats to bytes as a numpy pipeline saving the image would: clamp, x 255 in float32,
 * round half to even. NaN becomes 0. */
static unsigned char quantise(float x)
{
	if (!(x > 0.0f))
		return 0;
	if (x >= 1.0f)
		return 255;
	return (unsigned char)rintf(x * 255.0f);
}

static int vips_failure(const char *stage)
{
	char *why = vips_error_buffer_copy();
	int rc = lk__fail(LK_EINTERNAL, "%s: %.300s", stage, why);
	g_free(why);
	return rc;
}

static int validate(const lk_pixel_view *v, const lk_ingest_options *opts)
{
	if (!v->data)
		return lk__fail(LK_EINVAL, "pixel view has no data");
	const int bpp = bytes_per_pixel(v->format);
	if (!bpp)
		return lk__fail(LK_EINVAL, "unknown pixel format %d", (int)v->format);
	if (v->width <= 0 || v->height <= 0)
		return lk__fail(LK_EINVAL, "pixel view is %" PRId32 "x%" PRId32, v->width, v->height);
	if ((uint32_t)v->width > opts->max_side || (uint32_t)v->height > opts->max_side)
		return lk__fail(LK_EDIMENSIONS, "pixel view is %" PRId32 "x%" PRId32
				", the side limit is %u", v->width, v->height, opts->max_side);
	if ((uint64_t)v->width * (uint64_t)v->height > opts->max_pixels)
		return lk__fail(LK_EPIXELS, "pixel view has %" PRIu64 " pixels, the limit is %" PRIu64,
				(uint64_t)v->width * (uint64_t)v->height, opts->max_pixels);
	const ptrdiff_t row = (ptrdiff_t)v->width * bpp;
	if (v->stride < row && -v->stride < row)
		return lk__fail(LK_EINVAL, "stride %td is smaller than a row (%td bytes)", v->stride, row);
	return LK_OK;
}

/* A contiguous copy of the view in 8 bits a channel (floats quantised), in LK_SCRATCH_VIEW. */
static unsigned char *compact_copy(const lk_pixel_view *v, int channels)
{
	const size_t row = (size_t)v->width * channels;
	unsigned char *dst = lk__scratch(LK_SCRATCH_VIEW, row * v->height);
	if (!dst)
		return NULL;
	for (int32_t y = 0; y < v->height; y++) {
		const unsigned char *src = (const unsigned char *)v->data + (ptrdiff_t)y * v->stride;
		if (v->format == LK_PIXEL_RGBF32) {
			const float *f = (const float *)(const void *)src;
			for (size_t i = 0; i < row; i++) {
				float x;
				memcpy(&x, f + i, sizeof x); /* rows of a crop need not be aligned */
				dst[y * row + i] = quantise(x);
			}
		} else {
			memcpy(dst + y * row, src, row);
		}
	}
	return dst;
}

int lk__view_for_pdq(lk_image8 *out, lk_source_info *info, const lk_pixel_view *view,
		     const lk_ingest_options *caller_opts)
{
	lk_ingest_options o;
	int rc = lk__ingest_options_read(&o, caller_opts);
	if (rc != LK_OK)
		return rc;
	const lk_ingest_options *opts = &o;
	rc = validate(view, opts);
	if (rc != LK_OK)
		return rc;
	info->width = view->width;
	info->height = view->height;
	snprintf(info->format, sizeof info->format, "%s", format_name(view->format));

	const int channels = view->format == LK_PIXEL_GRAY8 ? 1 : view->format == LK_PIXEL_RGBA8 ? 4 : 3;
	const int small = view->width <= LK_PDQ_WORK_SIDE && view->height <= LK_PDQ_WORK_SIDE;
	const unsigned char *pixels = view->data;
	ptrdiff_t stride = view->stride;
	if (view->format == LK_PIXEL_RGBF32) {
		if (!(pixels = compact_copy(view, channels)))
			return LK_ENOMEM;
		stride = (ptrdiff_t)view->width * channels;
	}
	if (channels != 4) {
		out->data = pixels;
		out->width = view->width;
		out->height = view->height;
		out->stride = stride;
		out->channels = channels;
		lk__assert_image8(out);
		return small ? LK_OK : lk__fit_work_size(out);
	}

	/* Alpha is composited by libvips, as for a decoded RGBA file; it needs one block. */
	if (stride != (ptrdiff_t)view->width * channels) {
		if (!(pixels = compact_copy(view, channels)))
			return LK_ENOMEM;
	}
	VipsImage *img = vips_image_new_from_memory(pixels, (size_t)view->width * view->height * channels,
						    view->width, view->height, channels,
						    VIPS_FORMAT_UCHAR);
	if (!img)
		return vips_failure("wrapping the pixels");
	img->Type = VIPS_INTERPRETATION_sRGB;
	rc = lk__render_image8(out, img, opts, LK_SNIFF_UNKNOWN, NULL, 0);
	return rc == LK_OK && !small ? lk__fit_work_size(out) : rc;
}
