/* lk_check_*: ingest, hash, search the registry's current snapshot, decide. */
#include "index/check/check.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static const lk_check_options default_options = LK_CHECK_OPTIONS_INIT;
/* Version 2 added hash_only, version 3 regions. */
static const size_t option_sizes[LK_CHECK_OPTIONS_VERSION] = {
	offsetof(lk_check_options, hash_only), offsetof(lk_check_options, regions), sizeof(lk_check_options),
};
static const struct lk_options_type options_type = {
	"lk_check_options", "LK_CHECK_OPTIONS_INIT", LK_CHECK_OPTIONS_VERSION, &default_options, option_sizes,
};

int lk_check_options_init(lk_check_options *opts, unsigned int version)
{
	return lk__options_init(opts, version, &options_type);
}

int lk__check_options_read(lk_check_options *out, const lk_check_options *in)
{
	int rc = lk__options_read(out, in, &options_type);
	if (rc == LK_OK)
		rc = lk__ingest_options_read(&out->ingest, in ? &in->ingest : NULL);
	if (rc == LK_OK && (out->regions < 0 || out->regions > LK_MAX_REGIONS))
		rc = lk__fail(LK_EINVAL, "regions must be 0..%d, not %d", LK_MAX_REGIONS, out->regions);
	return rc;
}

static double now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

/* Search and decision for a hashed (and maybe described) image on a held snapshot; fills
 * everything but the timings of earlier stages. */
static int decide(lk_check_result *r, const struct snapshot *snap, const lk_pdq_result *pdq, const lk_described *d)
{
	const lk_embedding *emb = d ? &d->whole : NULL;
	const double t0 = now_ms();
	r->quality = pdq->quality;
	r->hash = pdq->hash[LK_DIHEDRAL_ORIGINAL];
	r->source = pdq->source;
	r->registry_version = snap->version;
	const int hash_usable = pdq->quality >= LK_MIN_QUALITY;
	r->signals = (hash_usable ? LK_SIGNAL_PDQ : 0) | (emb ? LK_SIGNAL_EMBEDDING : 0);
	int rc = LK_OK;
	r->character.verdict = LK_VERDICT_ALLOW;
	r->character.false_positive_rate = -1;
	if (r->signals) {
		struct emb_hits hits;
		rc = lk__snapshot_search(snap, hash_usable ? pdq->hash : NULL, emb, r->matches, LK_MAX_MATCHES,
					 &r->n_matches, &hits);
		if (rc == LK_OK && emb)
			rc = lk__character_score(&r->character, snap, emb, &hits);
		if (rc == LK_OK && d && d->n_parts) {
			r->signals |= LK_SIGNAL_REGION;
			r->n_regions = d->n_parts;
			memcpy(r->regions, d->places, sizeof d->places[0] * (size_t)d->n_parts);
			rc = lk__snapshot_search_regions(snap, d->parts, d->places, d->n_parts, r->matches, LK_MAX_MATCHES,
							 &r->n_matches);
		}
		if (rc == LK_OK)
			lk__decide(r);
	}
	if (!hash_usable && r->verdict == LK_VERDICT_ALLOW)
		snprintf(r->reason, sizeof r->reason, "not matchable by PDQ: quality %d is below %d (flat or featureless "
			 "image)%s", pdq->quality, LK_MIN_QUALITY, emb ? "; the embedding found no match" : "");
	r->search_ms = now_ms() - t0;
	return rc;
}

static int decide_pdq(lk_check_result *r, lk_registry *reg, const lk_pdq_result *pdq)
{
	struct snapshot *snap;
	int rc = lk__snapshot_acquire(&snap, reg);
	if (rc != LK_OK)
		return rc;
	rc = decide(r, snap, pdq, NULL);
	lk__snapshot_release(snap);
	return rc;
}

typedef int (*decode_fn)(lk_image8 *img, lk_source_info *info, const void *arg, const lk_ingest_options *opts);

static int run(lk_check_result *out, lk_registry *reg, decode_fn decode, const void *arg,
	       const lk_check_options *opts)
{
	int rc = lk__ensure_init();
	if (rc != LK_OK)
		return rc;
	lk_check_options o;
	rc = lk__check_options_read(&o, opts);
	if (rc != LK_OK)
		return rc;
	const int hash_only = o.hash_only, regions = o.regions;
	lk_check_result r;
	memset(&r, 0, sizeof r);
	/* The snapshot first: it says whether there are embeddings to compare with, and it is the
	 * state the verdict will name. */
	struct snapshot *snap;
	rc = lk__snapshot_acquire(&snap, reg);
	if (rc != LK_OK)
		return rc;
	const double t0 = now_ms();
	lk_image8 img;
	lk_source_info info = { 0 };
	rc = decode(&img, &info, arg, &o.ingest);
	const double t1 = now_ms();
	/* Described before hashing: the pixels may be the caller's or scratch PDQ reuses. */
	const int embed = rc == LK_OK && reg->embedder && snap->emb && !hash_only;
	/* On the heap: with its windows a description is 70 KB, a lot for a server thread's stack. */
	lk_described *d = embed ? malloc(sizeof *d) : NULL;
	if (embed)
		rc = d ? lk__describe(d, reg->embedder, &img, regions) : lk__fail(LK_ENOMEM, "describing the image");
	const double t2 = now_ms();
	lk_pdq_result pdq;
	rc = lk__pdq_finish(&pdq, rc, &img, &info);
	const double t3 = now_ms();
	if (rc == LK_OK)
		rc = decide(&r, snap, &pdq, d);
	free(d);
	lk__snapshot_release(snap);
	if (rc != LK_OK)
		return rc;
	r.decode_ms = t1 - t0;
	r.embed_ms = t2 - t1;
	r.hash_ms = t3 - t2;
	r.total_ms = now_ms() - t0;
	*out = r;
	return LK_OK;
}

struct encoded {
	const void *data;
	size_t len;
	const char *name;
};

static int decode_encoded(lk_image8 *img, lk_source_info *info, const void *arg, const lk_ingest_options *opts)
{
	const struct encoded *e = arg;
	return lk__decode_for_pdq(img, info, e->data, e->len, e->name, opts);
}

static int decode_file(lk_image8 *img, lk_source_info *info, const void *arg, const lk_ingest_options *opts)
{
	struct encoded e = { NULL, 0, arg };
	int rc = lk__read_file(&e.data, &e.len, e.name, opts->max_bytes);
	return rc == LK_OK ? decode_encoded(img, info, &e, opts) : rc;
}

static int decode_view(lk_image8 *img, lk_source_info *info, const void *arg, const lk_ingest_options *opts)
{
	return lk__view_for_pdq(img, info, arg, opts);
}

int lk_check_file(lk_check_result *out, lk_registry *reg, const char *path, const lk_check_options *opts)
{
	lk__clear_error();
	if (!out || !reg || !path)
		return lk__fail(LK_EINVAL, "lk_check_file: NULL argument");
	int rc = run(out, reg, decode_file, path, opts);
	if (rc != LK_OK && !strstr(lk_error_detail(), path))
		lk__prefix_error(path);
	return rc;
}

int lk_check_bytes(lk_check_result *out, lk_registry *reg, const void *data, size_t len,
		   const lk_check_options *opts)
{
	lk__clear_error();
	if (!out || !reg || (!data && len))
		return lk__fail(LK_EINVAL, "lk_check_bytes: NULL argument");
	struct encoded e = { data, len, NULL };
	return run(out, reg, decode_encoded, &e, opts);
}

int lk_check_pixels(lk_check_result *out, lk_registry *reg, const lk_pixel_view *view,
		    const lk_check_options *opts)
{
	lk__clear_error();
	if (!out || !reg || !view)
		return lk__fail(LK_EINVAL, "lk_check_pixels: NULL argument");
	return run(out, reg, decode_view, view, opts);
}

int lk_check_pdq(lk_check_result *out, lk_registry *reg, const lk_pdq_result *pdq)
{
	lk__clear_error();
	if (!out || !reg || !pdq)
		return lk__fail(LK_EINVAL, "lk_check_pdq: NULL argument");
	lk_check_result r;
	memset(&r, 0, sizeof r);
	int rc = decide_pdq(&r, reg, pdq);
	if (rc == LK_OK) {
		r.total_ms = r.search_ms;
		*out = r;
	}
	return rc;
}
