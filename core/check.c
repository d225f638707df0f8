/* lk_check_*: ingest, hash, search the registry's current snapshot, decide. */
#include "internal.h"
#include "registry_internal.h"

#include <string.h>
#include <time.h>

static const lk_check_options default_options = LK_CHECK_OPTIONS_INIT;

static double now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

/* Search and decision for a hashed image; fills everything but the timings of earlier stages. */
static int decide_pdq(lk_check_result *r, lk_registry *reg, const lk_pdq_result *pdq)
{
	const double t0 = now_ms();
	r->quality = pdq->quality;
	r->hash = pdq->hash[LK_DIHEDRAL_ORIGINAL];
	r->source = pdq->source;
	struct snapshot *snap;
	int rc = lk__snapshot_acquire(&snap, reg);
	if (rc != LK_OK)
		return rc;
	r->registry_version = snap->version;
	if (pdq->quality < LK_MIN_QUALITY) {
		r->verdict = LK_VERDICT_ALLOW;
		snprintf(r->reason, sizeof r->reason, "not matchable: PDQ quality %d is below %d (flat or "
			 "featureless image)", pdq->quality, LK_MIN_QUALITY);
	} else {
		rc = lk__snapshot_search(snap, pdq->hash, r->matches, LK_MAX_MATCHES, &r->n_matches);
		if (rc == LK_OK)
			lk__decide(r);
	}
	lk__snapshot_release(snap);
	r->search_ms = now_ms() - t0;
	return rc;
}

typedef int (*decode_fn)(lk_image8 *img, lk_source_info *info, const void *arg, const lk_ingest_options *opts);

static int run(lk_check_result *out, lk_registry *reg, decode_fn decode, const void *arg,
	       const lk_check_options *opts)
{
	int rc = lk__ensure_init();
	if (rc != LK_OK)
		return rc;
	opts = opts ? opts : &default_options;
	lk_check_result r;
	memset(&r, 0, sizeof r);
	const double t0 = now_ms();
	lk_image8 img;
	lk_source_info info = { 0 };
	rc = decode(&img, &info, arg, &opts->ingest);
	const double t1 = now_ms();
	lk_pdq_result pdq;
	rc = lk__pdq_finish(&pdq, rc, &img, &info);
	const double t2 = now_ms();
	if (rc == LK_OK)
		rc = decide_pdq(&r, reg, &pdq);
	if (rc != LK_OK)
		return rc;
	r.decode_ms = t1 - t0;
	r.hash_ms = t2 - t1;
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
