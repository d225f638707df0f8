/* The public embedding entry points: input to pixels (the PDQ ingest path) to descriptor. */
#include "core/internal.h"

#include <stdlib.h>
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

/* The pixels PDQ would hash, as the embedding describes them too. */
static int decode(lk_image8 *img, const void *data, size_t len, const char *name, const lk_ingest_options *opts)
{
	int rc = lk__ensure_init();
	if (rc != LK_OK)
		return rc;
	lk_source_info info = { 0 };
	return lk__decode_for_pdq(img, &info, data, len, name, opts);
}

static int from_bytes(lk_embedding *out, lk_embedder *e, const void *data, size_t len, const char *name,
		      const lk_ingest_options *opts)
{
	lk_image8 img;
	const int rc = decode(&img, data, len, name, opts);
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
	rc = lk__view_for_pdq(&img, &info, view, opts);
	return finish(out, e, rc, &img);
}

struct regions_target {
	lk_described *d;
	lk_embedder *e;
	int regions;
};

static int describe_bytes(const void *data, size_t len, const char *name, const lk_ingest_options *opts, void *ctx)
{
	const struct regions_target *t = ctx;
	lk_image8 img;
	int rc = decode(&img, data, len, name, opts);
	if (rc == LK_OK)
		rc = lk__describe(t->d, t->e, &img, t->regions);
	lk__scratch_trim(LK_SCRATCH_KEEP_BYTES);
	return rc;
}

int lk_embed_regions_file(lk_embedding *whole, lk_embedding parts[LK_MAX_REGIONS], lk_region places[LK_MAX_REGIONS],
			  int *n_parts, lk_embedder *e, const char *path, int regions, const lk_ingest_options *opts)
{
	lk__clear_error();
	if (!whole || !parts || !places || !n_parts || !e || !path)
		return lk__fail(LK_EINVAL, "lk_embed_regions_file: NULL argument");
	if (regions < 0 || regions > LK_MAX_REGIONS)
		return lk__fail(LK_EINVAL, "regions must be 0..%d, not %d", LK_MAX_REGIONS, regions);
	/* On the heap: ten descriptors are 70 KB, too much for the stack of a small worker thread. */
	lk_described *d = malloc(sizeof *d);
	if (!d)
		return lk__fail(LK_ENOMEM, "describing %s", path);
	struct regions_target t = { d, e, regions };
	const int rc = lk__with_file(path, opts, describe_bytes, &t);
	if (rc == LK_OK) {
		*whole = d->whole;
		memcpy(parts, d->parts, sizeof d->parts[0] * (size_t)d->n_parts);
		memcpy(places, d->places, sizeof d->places[0] * (size_t)d->n_parts);
		*n_parts = d->n_parts;
	}
	free(d);
	return rc;
}
