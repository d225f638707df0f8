/* The public embedding entry points: input to pixels (the PDQ ingest path) to descriptor. */
#include "internal.h"

#include <string.h>

static int finish(lk_embedding *out, lk_embedder *e, int rc, const lk_image8 *img)
{
	if (rc == LK_OK) {
		lk_embedding r;
		rc = lk__embed_image8(&r, e, img);
		if (rc == LK_OK)
			memcpy(out, &r, sizeof r);
	}
	lk__scratch_trim(LK_SCRATCH_KEEP_BYTES);
	return rc;
}

static int from_bytes(lk_embedding *out, lk_embedder *e, const void *data, size_t len, const char *name,
		      const lk_ingest_options *opts)
{
	int rc = lk__ensure_init();
	if (rc != LK_OK)
		return rc;
	lk_image8 img;
	lk_source_info info = { 0 };
	rc = lk__decode_for_pdq(&img, &info, data, len, name, lk__ingest_defaults(opts));
	return finish(out, e, rc, &img);
}

int lk_embed_bytes(lk_embedding *out, lk_embedder *e, const void *data, size_t len, const lk_ingest_options *opts)
{
	lk__clear_error();
	if (!out || !e || (!data && len))
		return lk__fail(LK_EINVAL, "lk_embed_bytes: NULL argument");
	return from_bytes(out, e, data, len, NULL, opts);
}

struct target {
	lk_embedding *out;
	lk_embedder *e;
};

static int embed_bytes(const void *data, size_t len, const char *name, const lk_ingest_options *opts, void *ctx)
{
	const struct target *t = ctx;
	return from_bytes(t->out, t->e, data, len, name, opts);
}

int lk_embed_file(lk_embedding *out, lk_embedder *e, const char *path, const lk_ingest_options *opts)
{
	lk__clear_error();
	if (!out || !e || !path)
		return lk__fail(LK_EINVAL, "lk_embed_file: NULL argument");
	struct target t = { out, e };
	return lk__with_file(path, opts, embed_bytes, &t);
}

int lk_embed_pixels(lk_embedding *out, lk_embedder *e, const lk_pixel_view *view, const lk_ingest_options *opts)
{
	lk__clear_error();
	if (!out || !e || !view)
		return lk__fail(LK_EINVAL, "lk_embed_pixels: NULL argument");
	int rc = lk__ensure_init();
	if (rc != LK_OK)
		return rc;
	lk_image8 img;
	lk_source_info info = { 0 };
	rc = lk__view_for_pdq(&img, &info, view, lk__ingest_defaults(opts));
	return finish(out, e, rc, &img);
}
