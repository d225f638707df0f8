/* The public PDQ entry points: input to pixels to luminance to hash. */
#include "core/internal.h"

#include <stdio.h>
#include <string.h>

static int hash_image8(lk_pdq_result *out, const lk_image8 *img)
{
	float *luma = lk__pdq_plane_buffer(img->height, img->width);
	if (!luma)
		return LK_ENOMEM;
	lk__luma_from_image8(luma, img);
	lk__pdq_plane(out, luma, img->height, img->width);
	return LK_OK;
}

int lk__pdq_finish(lk_pdq_result *out, int rc, const lk_image8 *img, const lk_source_info *info)
{
	if (rc == LK_OK) {
		lk_pdq_result r;
		memset(&r, 0, sizeof r);
		r.source = *info;
		rc = hash_image8(&r, img);
		if (rc == LK_OK)
			*out = r;
	}
	lk__scratch_trim(LK_SCRATCH_KEEP_BYTES);
	return rc;
}

int lk__pdq_from_bytes(lk_pdq_result *out, const void *data, size_t len, const char *name,
		       const lk_ingest_options *opts)
{
	int rc = lk__ensure_init();
	if (rc != LK_OK)
		return rc;
	lk_image8 img;
	lk_source_info info = { 0 };
	rc = lk__decode_for_pdq(&img, &info, data, len, name, opts);
	return lk__pdq_finish(out, rc, &img, &info);
}

int lk_pdq_hash_bytes(lk_pdq_result *out, const void *data, size_t len, const lk_ingest_options *opts)
{
	lk__clear_error();
	if (!out || (!data && len))
		return lk__fail(LK_EINVAL, "lk_pdq_hash_bytes: NULL argument");
	return lk__pdq_from_bytes(out, data, len, NULL, opts);
}

static int hash_bytes(const void *data, size_t len, const char *name, const lk_ingest_options *opts, void *out)
{
	return lk__pdq_from_bytes(out, data, len, name, opts);
}

int lk_pdq_hash_file(lk_pdq_result *out, const char *path, const lk_ingest_options *opts)
{
	lk__clear_error();
	if (!out || !path)
		return lk__fail(LK_EINVAL, "lk_pdq_hash_file: NULL argument");
	return lk__with_file(path, opts, hash_bytes, out);
}

int lk_pdq_hash_pixels(lk_pdq_result *out, const lk_pixel_view *view, const lk_ingest_options *opts)
{
	lk__clear_error();
	if (!out || !view)
		return lk__fail(LK_EINVAL, "lk_pdq_hash_pixels: NULL argument");
	int rc = lk__ensure_init();
	if (rc != LK_OK)
		return rc;
	lk_image8 img;
	lk_source_info info = { 0 };
	rc = lk__view_for_pdq(&img, &info, view, opts);
	return lk__pdq_finish(out, rc, &img, &info);
}

int lk_pdq_hash_luma(lk_pdq_result *out, const float *luma, int32_t width, int32_t height,
		     ptrdiff_t stride)
{
	lk__clear_error();
	if (!out || !luma || width <= 0 || height <= 0 || stride < width)
		return lk__fail(LK_EINVAL, "lk_pdq_hash_luma: bad plane (%p, %dx%d, stride %td)",
				(const void *)luma, (int)width, (int)height, stride);
	float *plane = lk__pdq_plane_buffer(height, width);
	if (!plane)
		return LK_ENOMEM;
	for (int32_t y = 0; y < height; y++)
		memcpy(plane + (size_t)y * width, luma + (ptrdiff_t)y * stride, sizeof(float) * width);
	lk_pdq_result r;
	memset(&r, 0, sizeof r);
	snprintf(r.source.format, sizeof r.source.format, "luma");
	r.source.width = width;
	r.source.height = height;
	lk__pdq_plane(&r, plane, height, width);
	*out = r;
	lk__scratch_trim(LK_SCRATCH_KEEP_BYTES);
	return LK_OK;
}
