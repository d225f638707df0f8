/* bench_suite: every image made (rendered, loaded, edited) and described by each method, as
 * each tool's user would hand it the pixels. */
#include "core/internal.h"
#include "suite.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A file at `side` x `side` (art is drawn to fill it; photographs are square crops already),
 * keeping its alpha (then as RGBA) or flattened on white. */
static VipsImage *load(const char *path, int side, int keep_alpha)
{
	VipsImage *t, *out;
	if (vips_thumbnail(path, &t, side, "height", side, "size", VIPS_SIZE_FORCE, NULL))
		return NULL;
	/* Decoded now: a JPEG is read top to bottom once, and turning it reads it out of order. */
	VipsImage *mem = vips_image_copy_memory(t);
	g_object_unref(t);
	if (!(t = mem))
		return NULL;
	const int alpha = t->Bands == 2 || t->Bands == 4;
	int rc = 0;
	if (alpha && !keep_alpha) {
		double white[3] = { 255, 255, 255 };
		VipsArrayDouble *bg = vips_array_double_new(white, t->Bands - 1);
		rc = vips_flatten(t, &out, "background", bg, NULL);
		vips_area_unref(VIPS_AREA(bg));
	} else if (alpha && t->Bands == 2)
		rc = vips_colourspace(t, &out, VIPS_INTERPRETATION_sRGB, NULL);
	else
		return t;
	g_object_unref(t);
	if (rc)
		return NULL;
	if (out->BandFmt != VIPS_FORMAT_UCHAR) {
		VipsImage *u;
		rc = vips_cast_uchar(out, &u, NULL);
		g_object_unref(out);
		return rc ? NULL : u;
	}
	return out;
}

/* Stickers are other art, keeping its transparency. */
static VipsImage *sticker(void *ctx, unsigned pick)
{
	const suite *s = ctx;
	return load(s->stickers[pick % (unsigned)s->n_stickers], SUITE_SIDE / 2, 1);
}

static VipsImage *photo(void *ctx, unsigned pick)
{
	const suite *s = ctx;
	VipsImage *p = vips_image_new_from_file(s->photos[pick % (unsigned)s->n_photos], "access", VIPS_ACCESS_SEQUENTIAL,
						NULL);
	if (!p)
		return NULL;
	VipsImage *mem = vips_image_copy_memory(p);
	g_object_unref(p);
	return mem;
}

/* The PDQ hashes of the reference turned and flipped for real, as the registry stores them:
 * the order of lk_dihedral (original, rot90, rot180, rot270, flipx, flipy, flip+, flip-). */
static int dihedral_hashes(item *it, VipsImage *mem)
{
	static const VipsAngle angle[4] = { VIPS_ANGLE_D0, VIPS_ANGLE_D90, VIPS_ANGLE_D180, VIPS_ANGLE_D270 };
	static const int rot[8] = { 0, 1, 2, 3, 0, 2, 1, 3 }, flip[8] = { 0, 0, 0, 0, 1, 1, 1, 1 };
	for (int d = 0; d < LK_DIHEDRAL_COUNT; d++) {
		VipsImage *r, *t, *tm;
		if (vips_rot(mem, &r, angle[rot[d]], NULL))
			return -1;
		if (flip[d]) {
			const int rc = vips_flip(r, &t, VIPS_DIRECTION_HORIZONTAL, NULL);
			g_object_unref(r);
			if (rc)
				return -1;
		} else
			t = r;
		tm = vips_image_copy_memory(t);
		g_object_unref(t);
		if (!tm)
			return -1;
		const lk_pixel_view v = { VIPS_IMAGE_ADDR(tm, 0, 0), tm->Xsize, tm->Ysize, VIPS_IMAGE_SIZEOF_LINE(tm),
					  tm->Bands == 1 ? LK_PIXEL_GRAY8 : LK_PIXEL_RGB8 };
		lk_pdq_result p;
		const int rc = lk_pdq_hash_pixels(&p, &v, NULL);
		g_object_unref(tm);
		if (rc != LK_OK)
			return -1;
		it->dihedral[d] = p.hash[LK_DIHEDRAL_ORIGINAL];
	}
	return 0;
}

static int describe(suite *s, item *it)
{
	const bench_edit_sources src = { sticker, photo, s };
	VipsImage *img = load(it->path, SUITE_SIDE, 0);
	unsigned seed = it->seed;
	if (img && it->edit >= 0)
		img = bench_edit_apply(img, (bench_edit)it->edit, &seed, &src);
	VipsImage *mem = img ? vips_image_copy_memory(img) : NULL;
	if (img)
		g_object_unref(img);
	if (!mem)
		return -1;
	if (s->examples && it->character == 0 && it->kind != ITEM_NEGATIVE) {
		/* What the queries look like, for a person checking the edits. */
		char path[4096];
		snprintf(path, sizeof path, "%s/%s-%s.png", s->examples, it->kind == ITEM_COPY ? "copy" : "character",
			 it->kind == ITEM_COPY ? bench_edit_name((bench_edit)it->edit) : strrchr(it->path, '/') + 1);
		for (char *c = path + strlen(s->examples) + 1; *c; c++)
			*c = *c == '/' || *c == ' ' ? '_' : *c;
		if (vips_pngsave(mem, path, NULL))
			fprintf(stderr, "bench_suite: %s: %s\n", path, vips_error_buffer());
	}
	const int gray = mem->Bands == 1;
	const lk_pixel_view view = { VIPS_IMAGE_ADDR(mem, 0, 0), mem->Xsize, mem->Ysize, VIPS_IMAGE_SIZEOF_LINE(mem),
				     gray ? LK_PIXEL_GRAY8 : LK_PIXEL_RGB8 };
	const int is_ref = it->kind == ITEM_REFERENCE;
	int rc = lk_pdq_hash_pixels(&it->pdq, &view, NULL);
	it->emb = malloc(sizeof(lk_embedding) * (is_ref ? LK_VIEWS : 1));
	it->peer = calloc((size_t)(s->n_peers ? s->n_peers : 1), sizeof *it->peer);
	if (!it->emb || !it->peer)
		rc = LK_ENOMEM;
	if (rc == LK_OK && is_ref) {
		const lk_image8 img8 = { view.data, view.width, view.height, view.stride, gray ? 1 : 3 };
		rc = lk__embed_views(it->emb, s->embedder, &img8);
		if (rc == LK_OK && dihedral_hashes(it, mem))
			rc = LK_EINTERNAL;
	} else if (rc == LK_OK)
		rc = lk_embed_pixels(it->emb, s->embedder, &view, NULL);
	for (int p = 0; rc == LK_OK && p < s->n_peers; p++)
		if (bench_peer_hash_pixels(&it->peer[p], p, VIPS_IMAGE_ADDR(mem, 0, 0), mem->Xsize, mem->Ysize,
					   VIPS_IMAGE_SIZEOF_LINE(mem), mem->Bands))
			rc = LK_EINTERNAL;
	g_object_unref(mem);
	return rc == LK_OK ? 0 : -1;
}

struct work {
	suite *s;
	size_t next;
	pthread_mutex_t lock;
};

static void *worker(void *arg)
{
	struct work *w = arg;
	for (;;) {
		pthread_mutex_lock(&w->lock);
		const size_t i = w->next++;
		pthread_mutex_unlock(&w->lock);
		if (i >= w->s->n_items)
			break;
		item *it = &w->s->items[i];
		if (i % 2000 == 0 && i)
			fprintf(stderr, "bench_suite: %zu of %zu images described\n", i, w->s->n_items);
		it->ok = describe(w->s, it) == 0;
		if (!it->ok) {
			fprintf(stderr, "bench_suite: %s (%s): %s%s\n", it->path,
				it->edit >= 0 ? bench_edit_name((bench_edit)it->edit) : "unedited", vips_error_buffer(),
				lk_error_detail());
			vips_error_clear();
		}
	}
	/* Once, as the thread ends: between images it would free buffers that images still in
	 * libvips' operation cache point into (a run died of that in a glib hash table). */
	vips_thread_shutdown();
	return NULL;
}

int suite_describe(suite *s, int threads)
{
	/* Every image is made once: caching operations would only hold memory (and share
	 * half-read sequential JPEGs between threads). */
	vips_cache_set_max(0);
	struct work w = { s, 0, PTHREAD_MUTEX_INITIALIZER };
	pthread_t *t = calloc((size_t)threads, sizeof *t);
	if (!t)
		return -1;
	for (int i = 0; i < threads; i++)
		pthread_create(&t[i], NULL, worker, &w);
	for (int i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	free(t);
	s->failed = 0;
	for (size_t i = 0; i < s->n_items; i++)
		s->failed += !s->items[i].ok;
	return 0;
}
